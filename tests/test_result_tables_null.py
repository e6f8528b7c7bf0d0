"""A result's tables in memory say "missing" as the Parquet files written say it: null, never
NaN (user test ut33_api #1). To Polars a NaN is a number above every other, so on case33bw,
whose data (Baran & Wu 1989, MATPOWER's case33bw) give no branch a rating,
``r.branches.filter(pl.col("loading_ac_percent") > 100)`` picked all 37 branches, and with
``ac_check=False`` ``r.buses.filter(pl.col("vm_ac_pu") > 1.05)`` all 33 buses, while the
files of ``feederopt.save`` held null. The truth is the data's: no rating, no loading; no AC
power flow, no AC voltage."""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

import feederopt

TABLES = ("buses", "branches", "switches", "generators")


@pytest.fixture(scope="module")
def net() -> feederopt.Network:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return feederopt.load("case33bw")


def _nan_columns(result: feederopt.Result) -> list[str]:
    return [f"{name}.{c}" for name in TABLES for c, t in getattr(result, name).schema.items()
            if t.is_float() and getattr(result, name)[c].is_nan().any()]


@pytest.fixture(scope="module")
def saved(net: feederopt.Network, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[feederopt.Result, Path]:
    r = feederopt.solve(net, time_limit=60)
    out = tmp_path_factory.mktemp("saved") / "out"
    return r, Path(feederopt.save(r, out, report=False))


def test_unrated_branches_have_a_null_loading_equal_to_the_written_table(
        net: feederopt.Network, saved: tuple[feederopt.Result, Path]) -> None:
    # the data: case33bw rates no branch
    assert net.branches["i_max_ka"].is_null().all() and net.branches["s_max_mva"].is_null().all()
    r, out = saved
    assert r.ac_check is not None and r.ac_check.converged
    assert r.branches.filter(pl.col("loading_ac_percent") > 100).height == 0
    assert r.branches["loading_ac_percent"].null_count() == r.branches.height == 37
    assert _nan_columns(r) == []
    # the tables as saved are the tables in memory
    for name in TABLES:
        file = out / f"{name}.parquet"
        if getattr(r, name).height or file.exists():
            assert pl.read_parquet(file).equals(getattr(r, name)), name


def test_read_result_gives_the_saved_tables_back(saved: tuple[feederopt.Result, Path]) -> None:
    """``feederopt.read_result(folder)`` gave only the JSON's dict (user test ut33_api #5);
    ``tables=True`` gives the folder's tables too, equal to the result's, the dict unchanged."""
    r, out = saved
    doc = feederopt.read_result(out)
    assert type(doc) is dict and doc["open_branches"] == r.to_dict()["open_branches"]
    back = feederopt.read_result(out, tables=True)
    assert isinstance(back, feederopt.ResultFolder) and back.result == doc
    for name in ("buses", "branches", "switches"):
        assert getattr(back, name).equals(getattr(r, name)), name
    # case33bw has no generators: an empty table with the result's columns, not None
    assert back.generators is not None and back.generators.equals(r.generators)
    assert back.iterations is not None and back.iterations.height == len(r.log)
    assert feederopt.read_result(out / "result.json", tables=True).branches.equals(r.branches)
    json_file = out.parent / "r.json"
    feederopt.save_json(r, json_file)
    assert feederopt.read_result(json_file)["open_branches"] == doc["open_branches"]
    with pytest.raises(feederopt.InputError) as err:
        feederopt.read_result(json_file, tables=True)
    assert err.value.problems[0].field == "tables"


def test_without_the_ac_check_every_ac_column_is_null(net: feederopt.Network) -> None:
    r = feederopt.solve(net, time_limit=60, ac_check=False)
    assert r.ac_check is None
    assert r.buses.filter(pl.col("vm_ac_pu") > 1.05).height == 0
    assert r.buses.filter(pl.col("vm_ac_pu") < 0.95).height == 0
    assert r.buses["vm_ac_pu"].null_count() == r.buses.height == 33
    for col in ("p_from_ac_mw", "i_ac_ka", "loading_ac_percent"):
        assert r.branches[col].null_count() == r.branches.height, col
    assert _nan_columns(r) == []
