"""The per-scenario OpenDSS check of a three-phase solve with ``--scenarios`` judges the lines'
ratings as well as the voltages: each scenario's row has its ratings verdict (within the
ratings, the largest loading and its element, how many are overloaded), the summary
``within_thermal_limits``, and an overload in any scenario is exit 4 like a broken voltage
limit.

The feeder and scenarios are those of ``tests/test_threephase_scenarios.py`` (the 12.47 kV ring
``m-a1-a2-x-b2-b1-m`` with switches ``s1``-``s4``; ``a_heavy``, ``a_pv``, ``x_light``), every
line at OpenDSS's default rating (``NormAmps`` 400 A). The truth is OpenDSS's own solution of
the script with each radial state and each scenario's loads written into it, read here with
``opendssdirect`` (no feederopt code): each line's largest phase current at either terminal over
its ``NormAmps``. Measured: in ``a_heavy`` the head line ``head`` (src-m, which every load
is behind: no switch changes its flow) carries 105-109 % in every radial state (phase a: the
single-phase 1.5 MW load at ``a2``); the other scenarios stay below 60 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase
from feederopt.cli import app
from feederopt.cli.app import EXIT_LIMITS_BROKEN
from feederopt.report.threephase import scenarios_broken
from opendss_plain import active_line_loadings, solve_script
from test_threephase_scenarios import SCENARIOS, SWITCHES, _feeder, _script, _table

runner = CliRunner()


def line_loadings(script: str, folder: Path) -> dict[str, float]:
    """OpenDSS's loading [% of NormAmps] of every enabled line of ``script``: the largest
    phase-conductor current magnitude at either terminal over the line's ``NormAmps``."""
    solve_script(script, folder, "truth.dss")
    return active_line_loadings()


def _truth(tmp_path: Path) -> dict[str, dict[str, dict[str, float]]]:
    """``{state: {scenario: {line: loading %}}}`` for the four radial states."""
    return {sw: {name: line_loadings(_script(sw, loads, buses), tmp_path)
                 for name, (_, loads, buses) in SCENARIOS.items()} for sw in SWITCHES}


def test_each_scenario_row_has_opendss_ratings_verdict(tmp_path: Path) -> None:
    truth = _truth(tmp_path)
    # the premises: a_heavy overloads the head line whatever the switches; the others do not
    for sw in SWITCHES:
        assert max(truth[sw]["a_heavy"], key=truth[sw]["a_heavy"].get) == "head"
        assert truth[sw]["a_heavy"]["head"] > 104.0
        assert all(v < 100.0 for k, v in truth[sw]["a_heavy"].items() if k != "head")
        assert all(max(truth[sw][n].values()) < 70.0 for n in ("a_pv", "x_light"))

    out = solve_three_phase(str(_feeder(tmp_path)), scenarios=_table())
    assert out.has_solution
    (answer,) = out.open_switches
    sc = out["scenarios"]
    for row in sc["per_scenario"]:
        got = truth[answer][row["scenario"]]
        worst = max(got, key=got.get)
        over = [k for k, v in got.items() if v > 100.0]
        assert row["max_loading_percent"] == pytest.approx(got[worst], rel=1e-3)
        assert row["max_loading_element"] == f"Line.{worst}"
        assert row["within_thermal_limits"] is (not over)
        assert row["overloaded"] == len(over)
        assert [o["element"] for o in row["overloads"]] == [f"Line.{k}" for k in over]
    by_name = {r["scenario"]: r for r in sc["per_scenario"]}
    assert by_name["a_heavy"]["within_thermal_limits"] is False
    assert by_name["a_heavy"]["within_limits"] is False
    # the voltages keep the limits (the feedback's answer): the ratings alone break the check
    assert sc["within_voltage_limits"] is True and sc["passed"] is True
    assert sc["within_thermal_limits"] is False and sc["worst_loading"] == "a_heavy"
    # no switch relieves the head line: named, its rating left out of the search, and still
    # reported (it is overloaded) and broken
    assert [f.split(" ")[0] for f in out.fixed_overloads] == ["head"]
    assert out.scenarios_broken
    assert scenarios_broken(out.to_dict()) == ["a_heavy"]


def test_cli_exits_4_on_an_overload_in_one_scenario(tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    _table().write_csv(csv)
    js = tmp_path / "out.json"
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--scenarios", str(csv),
                              "--json", str(js)])
    assert res.exit_code == EXIT_LIMITS_BROKEN, res.output
    assert "load %" in res.output and "no: rating" in res.output
    assert "a_heavy (rating; Line.head at" in " ".join(res.output.split())
    data = json.loads(js.read_text())
    assert data["scenarios"]["within_thermal_limits"] is False


def test_max_loading_is_the_scenarios_limit(tmp_path: Path) -> None:
    """At ``--max-loading 110`` the head line's 105-109 % is within the limit in OpenDSS's
    check of every scenario, and the solve exits 0."""
    truth = _truth(tmp_path)
    assert all(max(truth[sw][n].values()) < 110.0 for sw in SWITCHES for n in SCENARIOS)
    csv = tmp_path / "s.csv"
    _table().write_csv(csv)
    js = tmp_path / "out.json"
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--scenarios", str(csv),
                              "--max-loading", "110", "--json", str(js)])
    assert res.exit_code == 0, res.output
    sc = json.loads(js.read_text())["scenarios"]
    (answer,) = json.loads(js.read_text())["open_switches"]
    assert sc["within_thermal_limits"] is True and sc["loading_limit_percent"] == 110.0
    for row in sc["per_scenario"]:
        got = truth[answer][row["scenario"]]
        assert row["within_thermal_limits"] is True and row["overloaded"] == 0
        assert row["max_loading_percent"] == pytest.approx(max(got.values()), rel=1e-3)
