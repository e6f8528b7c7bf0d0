"""Defects a user's audit of the three-phase ``--scenarios`` and ``--switch-cost`` found, on
the ring feeder of ``tests/test_threephase_scenarios.py`` (switches ``s1``-``s4``, ``s1``
open in the base case).

Expectations are independent of the MILP: OpenDSS's own solution of the script with the
scenario's loads written into it (``tests/opendss_plain.py``, no feederopt code), the base
case's switch states read from the script, and the definition of a switching action.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import MAX_SWITCH_COST_KW, solve_three_phase
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.report.threephase import render_three_phase_report
from opendss_plain import plain_solution
from test_threephase_scenarios import _feeder, _script, _table

runner = CliRunner()
COLS = ["scenario", "kind", "element", "p_mw", "q_mvar", "weight"]


def test_opendss_full_load_name_and_any_case(tmp_path: Path) -> None:
    """``element`` may be OpenDSS's full ``Load.<name>`` and in any case (OpenDSS's names are
    case-insensitive): before, ``Load.a1`` and ``A1`` were 'unknown element id(s)', exit 2."""
    rows = [("heavy", "load", "Load.A1", 2.0, 0.4, 1.0), ("heavy", "", "LOAD.a2", 1.5, 0.3, 1.0),
            ("heavy", "load", "X", 0.2, 0.04, 1.0)]
    csv = tmp_path / "s.csv"
    pl.DataFrame(rows, schema=COLS, orient="row").write_csv(csv)
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--scenarios", str(csv),
                              "--no-thermal-limits", "--no-voltage-feedback", "--json",
                              str(tmp_path / "o.json")])
    assert res.exit_code in (0, 4), res.output
    out = json.loads((tmp_path / "o.json").read_text())
    (sw,) = out["open_switches"]
    source, _, load_kw = plain_solution(
        _script(sw, {"a1": (2000.0, 400.0), "a2": (1500.0, 300.0), "x": (200.0, 40.0)}, {}),
        tmp_path)
    (row,) = out["scenarios"]["per_scenario"]
    assert row["opendss_losses_kw"] == pytest.approx(source.real - sum(load_kw.values()),
                                                     rel=1e-4)
    # an element that is neither stays unknown, named as the user wrote it
    (tmp_path / "bad.csv").write_text(",".join(COLS) + "\ns,load,Load.nope,1,0,1\n")
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--scenarios",
                              str(tmp_path / "bad.csv")])
    assert res.exit_code == 2 and "Load.nope" in res.output


def test_infeasible_scenario_is_named(tmp_path: Path) -> None:
    """A scenario no radial topology serves is named by its name in the reason; before:
    'scenario(s) 1 (by position, from 0) are infeasible alone'."""
    table = pl.DataFrame([("ok", "load", "x", 1.8, 0.36, 0.5),
                          ("huge", "bus", "x", 60.0, 10.0, 0.5)], schema=COLS, orient="row")
    out = solve_three_phase(str(_feeder(tmp_path)), scenarios=table, thermal_limits=False,
                            voltage_feedback=False, ac_check=False)
    assert out["status"] == "infeasible" and not out["has_solution"]
    assert "scenario(s) huge are infeasible alone" in out["reason"], out["reason"]
    assert "by position" not in out["reason"]


@pytest.mark.parametrize("zero", ["0", "-0"])
def test_switch_cost_zero_is_recorded_with_scenarios(tmp_path: Path, zero: str) -> None:
    """``--switch-cost 0 --scenarios``: the JSON's ``switch_cost_kw`` is 0 and the console
    shows the switching actions, as without scenarios; before, ``switch_cost_kw`` was null
    and the rows were missing. ``-0`` is 0 too: before, the JSON held -0.0 and the console
    printed "-0 = ..."."""
    csv = tmp_path / "s.csv"
    _table().write_csv(csv)
    js = tmp_path / "o.json"
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--scenarios", str(csv),
                              "--no-thermal-limits", "--no-voltage-feedback", "--no-ac-check",
                              "--switch-cost", zero, "--json", str(js)])
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    assert data["switch_cost_kw"] == 0.0 and data["switching_cost_kw"] == 0.0
    assert math.copysign(1.0, data["switch_cost_kw"]) == 1.0 and "-0 " not in res.output
    assert "switching actions" in res.output and "switching cost" in res.output


def test_report_shows_the_switching_cost(tmp_path: Path) -> None:
    """With ``--switch-cost`` the report's summary gives the switching actions and their cost,
    and says that the lower bound includes it (it exceeded the MILP objective shown, with no
    word why); before, report.html had no switching cost at all."""
    out = solve_three_phase(str(_feeder(tmp_path)), scenarios=_table(), thermal_limits=False,
                            voltage_feedback=False, ac_check=False, switch_cost_kw=1.0)
    (sw,) = out["open_switches"]
    assert sw != "s1"  # the answer closes the base's tie s1 and opens sw: two actions
    page = render_three_phase_report(out, {}, "x")
    assert f"close s1, open {sw}" in page
    assert "2 x 1 kW = 2.000 kW" in page
    assert "lower bound (loss proxy plus switching cost)" in page


def test_huge_switch_cost_is_refused(tmp_path: Path) -> None:
    """A switching cost above ``MAX_SWITCH_COST_KW`` is a typed problem, exit 2; before,
    ``--switch-cost 1e300`` ran and wrote ``milp_objective_kw`` null and ``lower_bound_kw``
    3e+300 for a 131.8 kW loss proxy (1e15 gave an objective of 132.0 kW). At the cap the
    MILP's objective still agrees with the answer's loss proxy, and the base is kept."""
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--switch-cost", "1e300"])
    assert res.exit_code == 2 and "at most" in res.output, res.output
    with pytest.raises(InputError):
        solve_three_phase(str(_feeder(tmp_path)), switch_cost_kw=MAX_SWITCH_COST_KW * 10,
                          ac_check=False, voltage_feedback=False, thermal_limits=False)
    out = solve_three_phase(str(_feeder(tmp_path)), switch_cost_kw=MAX_SWITCH_COST_KW,
                            ac_check=False, voltage_feedback=False, thermal_limits=False)
    assert out["open_switches"] == ["s1"] and out["switching_actions"] == []
    assert out["milp_objective_kw"] == pytest.approx(out["loss_proxy_kw"], rel=1e-6)
    assert out["lower_bound_kw"] == pytest.approx(out["loss_proxy_kw"], rel=1e-3)


@pytest.mark.parametrize("cost", ["inf", "nan"])
def test_non_finite_switch_cost_says_finite(tmp_path: Path, cost: str) -> None:
    """``--switch-cost inf`` (or nan) is refused saying that the cost must be finite; before,
    'the switching cost must be >= 0', which inf is."""
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--switch-cost", cost])
    assert res.exit_code == 2 and "finite number >= 0" in res.output, res.output
