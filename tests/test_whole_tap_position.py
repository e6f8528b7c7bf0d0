"""A tap changer's position, or a bank's step, is a whole number (user test ut46_dopf #2): a
pandapower trafo at ``tap_pos`` 1.5 was read, the OLTC's base position taken as the nearest
("was 1; 5 positions down") and the solve answered exit 0; a table folder's ``step`` of 1.5 in
a parquet file of floats was read as 1 with no word (polars' cast truncates). Both are refused
as ``invalid_value``, exit 2, as a ``tap_pos`` outside ``tap_min..tap_max`` is.

Reference: the exact problem text and exit code the user should see.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import from_pandapower
from test_dopf_pp_tap_range import _net

runner = CliRunner()


def test_a_fractional_tap_pos_is_refused(tmp_path: Path) -> None:
    net = _net()
    net.trafo.at[0, "tap_pos"] = 1.5
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.kind, problem.ids, problem.field) == (
        ProblemKind.INVALID_VALUE, ("trafo:0",), "tap_pos")
    assert problem.message == "tap_pos 1.5 is not a whole position"
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 2, result.output
    assert ("invalid_value: branches [trafo:0].tap_pos: tap_pos 1.5 is not a whole position"
            in result.output)
    assert "Traceback" not in result.output


def test_a_whole_tap_pos_stored_as_a_float_is_read() -> None:
    net = _net()
    net.trafo["tap_pos"] = net.trafo["tap_pos"].astype(float)
    net.trafo.at[0, "tap_pos"] = -2.0
    br = from_pandapower(net).branches.filter(pl.col("id") == "trafo:0")
    assert br["tap_ratio"].item() == pytest.approx(1 - 2 * 0.025)


def test_a_fractional_step_in_a_parquet_table_is_refused(tmp_path: Path) -> None:
    tables = feederopt.load("case70da_khodr").tables()
    folder = tmp_path / "grid"
    folder.mkdir()
    for name, df in tables.items():
        if name == "shunts":
            df = df.with_columns(pl.when(pl.col("id") == "cap49").then(pl.lit(1.5))
                                 .otherwise(pl.col("step").cast(pl.Float64)).alias("step"))
        df.write_parquet(folder / f"{name}.parquet")
    result = runner.invoke(app, ["solve", str(folder), "--no-ac-check", "--time-limit", "5"])
    assert result.exit_code == 2, result.output
    assert ("invalid_value: shunts [cap49].step: 1 value(s) are not of type integer: '1.5'"
            in result.output)
    # a whole step written as a float is read as it is
    shunts = tables["shunts"].with_columns(pl.col("step").cast(pl.Float64))
    shunts.write_parquet(folder / "shunts.parquet")
    read = feederopt.load(str(folder)).tables()["shunts"]
    assert read["step"].to_list() == tables["shunts"]["step"].to_list()
