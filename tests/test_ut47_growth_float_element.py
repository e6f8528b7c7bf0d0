"""User test ut47_growth #1 and #2: a scenario table whose ``element`` column is float.

#1: pandas makes an id column float after a merge or with one empty cell (``2.0`` for load 2);
such a table, as Parquet or as CSV, was refused as "32 unknown element id(s)" although
case33bw's loads are ``2`` .. ``33``. An integral float is now read as the integer id; a
non-integral one (``2.5``) stays an unknown id, with a hint that it is not a whole number.
#2: one empty ``element`` cell gave the true problem ("row 3 without an element") plus a
spurious "32 unknown element id(s)" for every other row; now only the true one.

Truth: the user's own table (``tests/data/ut47_growth/s33.csv``, the tester's file), read with
pandas: each scenario lists every load of case33bw, so its total demand is the sum of its
rows' ``p_mw`` (load rows replace a load's demand, bus rows add to a bus), and load ``2``'s
demand is the row whose element is 2. Case33bw's load ids are pandapower's load table
(``pandapower.networks.case33bw``: one load per bus 1..32, our ids the bus numbers 2..33).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandapower.networks as pn
import pandas as pd
import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import load_scenarios

USER_TABLE = Path(__file__).parent / "data" / "ut47_growth" / "s33.csv"


@pytest.fixture(scope="module")
def net():
    return feederopt.load("case33bw")


@pytest.fixture(scope="module")
def user() -> pd.DataFrame:
    return pd.read_csv(USER_TABLE)


def float_table(user: pd.DataFrame, tmp_path: Path, suffix: str) -> Path:
    d = user.copy()
    d["element"] = d["element"].astype(float)  # what pandas gives after a merge
    path = tmp_path / f"s33_float{suffix}"
    if suffix == ".csv":
        d.to_csv(path, index=False)  # writes 2.0, 3.0, ...
    else:
        d.to_parquet(path)  # a double column
    return path


def test_the_user_table_lists_every_load_of_case33bw(net, user) -> None:
    # the premise of the sums below, from pandapower's case33bw (not from feederopt)
    pp_loads = {str(int(b) + 1) for b in pn.case33bw().load["bus"]}
    for _name, rows in user.groupby("scenario"):
        listed = {str(e) for e in rows.loc[rows["kind"] == "load", "element"]}
        assert listed == pp_loads


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_integral_float_ids_are_the_integer_ids(net, user, tmp_path, suffix) -> None:
    sc = load_scenarios(net, float_table(user, tmp_path, suffix))
    want = user.groupby("scenario")
    assert sorted(sc.names) == sorted(want.groups)
    for k, name in enumerate(sc.names):
        rows = want.get_group(name)
        assert sc.p_mw[k].sum() == pytest.approx(rows["p_mw"].sum(), abs=1e-9)
        assert sc.q_mvar[k].sum() == pytest.approx(rows["q_mvar"].sum(), abs=1e-9)
        load2 = rows[(rows["kind"] == "load") & (rows["element"] == 2)]
        j = sc.bus_ids.index("2")
        extra = rows[(rows["kind"] == "bus") & (rows["element"] == 2)]["p_mw"].sum()
        assert sc.p_mw[k, j] == pytest.approx(float(load2["p_mw"].iloc[0]) + extra, abs=1e-9)
    assert sc.missing_loads == ()


def problems_of(net, path) -> list:
    with pytest.raises(InputError) as exc:
        load_scenarios(net, path)
    assert all(p.kind is ProblemKind.BAD_SCENARIO for p in exc.value.problems)
    return list(exc.value.problems)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_non_integral_float_stays_unknown_with_a_hint(net, user, tmp_path, suffix) -> None:
    d = user.copy()
    d["element"] = d["element"].astype(float)
    d.loc[0, "element"] = 2.5
    path = tmp_path / f"s33_half{suffix}"
    d.to_csv(path, index=False) if suffix == ".csv" else d.to_parquet(path)
    (p,) = problems_of(net, path)
    assert p.field == "element"
    assert list(p.ids) == ["2.5"]
    assert "1 unknown element id" in p.message
    assert "2.5: not a whole number" in p.hint


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_one_empty_element_cell_is_the_only_problem(net, user, tmp_path, suffix) -> None:
    # the tester's bad.py: x.loc[2, 'element'] = np.nan (the column turns float)
    d = user.copy()
    d.loc[2, "element"] = np.nan
    path = tmp_path / f"b_nanelem{suffix}"
    d.to_csv(path, index=False) if suffix == ".csv" else d.to_parquet(path)
    (p,) = problems_of(net, path)
    assert p.field == "element"
    assert "1 row(s) without an element" in p.message
    assert list(p.ids) == ["row 3"]


def test_in_memory_float_frames(net, user) -> None:
    # a pandas frame with a float id column, as the tester's merge left it: the integer ids
    d = user.copy()
    d["element"] = d["element"].astype(float)
    sc = load_scenarios(net, d)
    today = user[user["scenario"] == "today"]
    assert sc.p_mw[sc.names.index("today")].sum() == pytest.approx(today["p_mw"].sum(),
                                                                   abs=1e-9)
    # a polars frame whose float id column holds a NaN (not a null): an empty cell only
    frame = pl.from_pandas(d, nan_to_null=False).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(float("nan")).otherwise(pl.col("element"))
        .alias("element"))
    (p,) = problems_of(net, frame)
    assert "1 row(s) without an element" in p.message
    assert list(p.ids) == ["row 3"]
