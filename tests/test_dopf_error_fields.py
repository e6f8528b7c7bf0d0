"""Input problems that name the field the user must fix (user test ut46_dopf #4):

* a NaN ``generators.q_min_mvar`` or ``p_max_mw`` in a table folder is ``invalid_value`` on
  that column ("is NaN"), not ``inverted_limits`` "swap the limits" (there is nothing to swap);
  a real inversion still is one;
* a pandapower controllable sgen with ``min_p_mw``..``max_p_mw`` = -2..-1 names the sgen's
  columns (``net.sgen.min_p_mw``), not the table folder's ``p_min_mw``/``p_max_mw``;
* a pandapower OLTC with ``tap_step_percent`` 20 over ``tap_min`` -6 (ratio factor
  1 - 6 x 0.2 = -0.2) names ``tap_step_percent`` and ``tap_min``, not the table folder's
  ``branches.tap_steps`` with the hint "tap_steps 17 ...".

Reference: the exact problem text and exit code (2) the user should see.
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
from test_relaxation_gap_chosen_tap import _two_feeders

runner = CliRunner()


def _folder(tmp_path: Path, col: str, value: float) -> Path:
    tables = feederopt.load("case70da_khodr").tables()
    folder = tmp_path / "grid"
    folder.mkdir()
    for name, df in tables.items():
        if name == "generators":
            df = df.with_columns(pl.when(pl.col("id") == "dg15").then(pl.lit(value))
                                 .otherwise(pl.col(col)).cast(pl.Float64).alias(col))
        df.write_parquet(folder / f"{name}.parquet")
    return folder


def _solve(path: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["solve", str(path), "--no-ac-check", "--time-limit", "5"])
    return res.exit_code, " ".join(res.output.split())


@pytest.mark.parametrize(("col", "hint"), [
    ("q_min_mvar", "give q_min_mvar as a number in MVAr"),
    ("p_max_mw", "give p_max_mw as a number in MW")])
def test_a_nan_generator_limit_is_invalid_value_on_it(tmp_path: Path, col: str,
                                                      hint: str) -> None:
    code, out = _solve(_folder(tmp_path, col, float("nan")))
    assert code == 2, out
    assert f"invalid_value: generators [dg15].{col}: {col} is NaN (not a number)" in out
    assert hint in out
    assert "swap the limits" not in out and "inverted_limits" not in out
    assert "error: 1 problem in the input" in out  # said once


def test_an_inverted_generator_range_is_still_inverted(tmp_path: Path) -> None:
    code, out = _solve(_folder(tmp_path, "p_min_mw", 2.0))
    assert code == 2, out
    assert ("inverted_limits: generators [dg15].p_min_mw: p_min_mw is above p_max_mw "
            "(hint: swap the limits)") in out


def test_a_negative_sgen_range_names_the_pandapower_columns(tmp_path: Path) -> None:
    net = _two_feeders()
    net.sgen.loc[0, ["min_p_mw", "max_p_mw"]] = [-2.0, -1.0]
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.kind, problem.ids, problem.field) == (
        ProblemKind.INVALID_VALUE, ("sgen:0",), "min_p_mw")
    assert problem.message.startswith("min_p_mw -2 (max_p_mw -1) of a controllable sgen is "
                                      "negative")
    assert "net.sgen.min_p_mw" in (problem.hint or "")
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    code, out = _solve(path)
    assert code == 2, out
    assert "p_min_mw" not in out and "p_max_mw" not in out  # the folder's names


def test_an_oltc_step_that_reaches_a_negative_ratio_names_tap_step_percent(
        tmp_path: Path) -> None:
    net = _two_feeders()
    net.trafo.at[0, "tap_step_percent"] = 20.0
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.kind, problem.ids, problem.field) == (
        ProblemKind.INVALID_VALUE, ("trafo:0",), "tap_step_percent")
    assert "tap_step_percent 20 at tap_min -6 (tap_neutral 0)" in problem.message
    assert "= -0.2, not positive" in problem.message  # 1 + (-6 - 0) x 20 / 100
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    code, out = _solve(path)
    assert code == 2, out
    assert "tap_steps" not in out
    assert "net.trafo.tap_step_percent and tap_min" in out


def test_a_valid_step_is_an_oltc() -> None:
    br = from_pandapower(_two_feeders()).branches.filter(pl.col("id") == "trafo:0")
    assert br["tap_controllable"].item() is True
    assert br["tap_min_ratio"].item() == pytest.approx(1 - 6 * 0.015)
