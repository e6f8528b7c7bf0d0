"""NaN and infinite device costs and tap data, and a committable generator with negative active
limits, are typed problems found by validation (user test ut_dopfres #2, #3): before, the costs
reached the solver ("Problem data contains NaN or Inf", exit 1), a NaN tap step or range
crashed ("cannot convert float NaN to integer"), ``feederopt info`` said "problems: none",
and a committable generator within -2..-1 MW "ran" at its energy cost times a negative power
(objective -488 kW-eq on case33bw)."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dopf_grid import device_tables
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import InputError, Network

runner = CliRunner()
NAN, INF = math.nan, math.inf

CASES = [  # (table, column, value, row id)
    ("generators", "cost_per_mwh", NAN, "G1"),
    ("generators", "cost_per_mwh", INF, "G1"),
    ("generators", "fixed_cost_per_h", NAN, "G1"),
    ("generators", "fixed_cost_per_h", INF, "G1"),
    ("buses", "tap_cost_kw", NAN, "s"),
    ("buses", "tap_step_pu", NAN, "s"),
    ("buses", "tap_max_pu", NAN, "s"),
    ("buses", "tap_min_pu", INF, "s"),
    ("loads", "flex_price_per_mwh", INF, "Lb"),
    ("loads", "flex_price_per_mwh", NAN, "Lb"),
]


def _with(table: str, column: str, value: float, row: str) -> dict[str, pl.DataFrame]:
    t = device_tables()
    t[table] = t[table].with_columns(
        pl.when(pl.col("id") == row).then(pl.lit(value)).otherwise(pl.col(column))
        .alias(column))
    return t


@pytest.mark.parametrize(("table", "column", "value", "row"), CASES)
def test_a_non_finite_number_is_a_typed_problem(table: str, column: str, value: float,
                                                row: str) -> None:
    with pytest.raises(InputError) as err:
        Network.from_tables(**_with(table, column, value, row), name="bad").check()
    found = [p for p in err.value.problems if p.field == column]
    assert len(found) == 1, err.value.problems
    p = found[0]
    assert (p.kind.value, p.component, p.ids) == ("invalid_value", table, (row,))
    # said as what it is (the one rule of the device numbers, user test ut48_dopf)
    assert p.message == f"{column} is " + ("NaN (not a number)" if math.isnan(value)
                                           else "infinite")
    assert [q.field for q in err.value.problems] == [column]  # nothing else, misleadingly


@pytest.mark.parametrize(("table", "column", "value", "row"), [
    CASES[1], CASES[5], CASES[9]])
def test_solve_exits_2_and_info_lists_it(tmp_path: Path, table: str, column: str,
                                         value: float, row: str) -> None:
    net = Network.from_tables(**_with(table, column, value, row), name="bad")
    folder = write_folder(net, tmp_path / "bad", fmt="csv")
    for args in (["solve", str(folder), "--time-limit", "10"], ["info", str(folder)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert column in res.output and "Traceback" not in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)


@pytest.mark.parametrize(("p_min", "p_max"), [(-2.0, -1.0), (-0.5, 0.3)])
def test_a_committable_generator_with_negative_limits_is_a_typed_problem(
        p_min: float, p_max: float) -> None:
    t = device_tables()
    t["generators"] = t["generators"].with_columns(pl.lit(p_min).alias("p_min_mw"),
                                                   pl.lit(p_max).alias("p_max_mw"))
    with pytest.raises(InputError) as err:
        Network.from_tables(**t, name="bad").check()
    found = [(p.kind.value, p.component, p.field, p.ids) for p in err.value.problems]
    assert ("invalid_value", "generators", "p_min_mw", ("G1",)) in found


def test_a_fixed_injection_below_zero_is_not_refused() -> None:
    """Only committable units: a fixed generator row (p_min = p_max = p, as the readers write
    a discharging storage or an exporting ward) may be anything finite."""
    t = device_tables()
    t["generators"] = t["generators"].with_columns(
        pl.lit(False).alias("committable"), pl.lit(-0.1).alias("p_mw"),
        pl.lit(-0.1).alias("p_min_mw"), pl.lit(-0.1).alias("p_max_mw"))
    Network.from_tables(**t, name="ok").check()
