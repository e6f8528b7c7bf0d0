"""``solve_three_phase`` returns a typed, frozen :class:`ThreePhaseResult`; its JSON (``to_dict``,
the CLI's ``--json``) keeps the keys and their order of the dict that earlier versions
returned.

On the 12.47 kV ring of ``tests/test_threephase_voltage_limits.py`` (one of ``s1``-``s4``
open). The typed figures are checked against OpenDSS's own solution of the script with that
switch open (``tests/opendss_plain.py``, no feederopt code); the key lists are those of the
dict the code returned before this class (commit 99b14a5), per path. Fails on the old code
(no ``feederopt.results.threephase``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase
from feederopt.cli import app
from feederopt.cli.app import EXIT_INFEASIBLE
from feederopt.results.threephase import (
    AcPolish,
    LimitSpread,
    OpenDssCheck,
    ScenarioSummary,
    SwitchingAction,
    ThreePhaseResult,
    VoltageFeedback,
    VoltageLimits,
)
from test_threephase_scenarios import _table
from test_threephase_voltage_limits import FEEDER, _states

runner = CliRunner()

# the stamp every result JSON starts with (ut_out #3), then the result (optimal_for: what an
# optimal status proves, ut40_tphreal)
_HEAD = ["kind", "schema_version", "feederopt_version",
         "case", "source", "method", "status", "optimal_for", "has_solution", "within_limits",
         "reason", "overloaded", "fixed_overloads", "opendss_fixed_overloads", "thermal_limits",
         "max_loading_percent", "voltage_limits",
         "notes", "permanent_loops", "open_switches", "base_open_switches", "changed_switches",
         "loss_proxy_kw"]
_BOUND = ["milp_objective_kw", "lower_bound_kw", "lower_bound_source", "lower_bound_basis",
          "gap", "objective", "lower_bound", "base_kept", "solve_time_s", "milp_solves",
          "tangents_added", "search"]
_SWITCHING = ["voltage_feedback", "switch_cost_kw", "switching_actions", "switching_cost_kw"]
#: The keys of the old dict, in order (with ``settings``, the options as given, before
#: ``grid``) (with ``ac_verdict``, OpenDSS's check's verdict as a
#: balanced result's, after ``ac_check``; null without a check): a balanced solve with
#: OpenDSS's check ...
KEYS_CHECKED = [*_HEAD, "loss_proxy_source_kw", *_BOUND, "lindist3flow_min_voltage_pu",
                "lindist3flow_max_voltage_pu", *_SWITCHING, "base_losses_kw",
                "base_unserved_load_kw", "base", "ac_check", "ac_verdict", "node_voltages_pu",
                "settings", "grid"]
#: ... an infeasible one (no flow, no check) ...
KEYS_INFEASIBLE = [*_HEAD, "loss_proxy_source_kw", *_BOUND, "lindist3flow_min_voltage_pu",
                   "lindist3flow_max_voltage_pu", *_SWITCHING, "ac_verdict", "settings", "grid"]
#: ... and one with scenarios and --ac-polish (skipped, at the end)
KEYS_SCENARIOS_POLISH = [*_HEAD, *_BOUND, *_SWITCHING, "node_voltages_pu",
                         "node_voltages_scenario", "scenarios", "settings", "grid",
                         "ac_polish"]
TIMES = {"solve_time_s", "time_s", "milp_time_s", "budget_s"}


def _no_times(x: object) -> object:
    if isinstance(x, dict):
        return {k: None if k in TIMES else _no_times(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_times(v) for v in x]
    return x


def _ring(tmp_path: Path) -> Path:
    path = tmp_path / "ring.dss"
    path.write_text(FEEDER)
    return path


def test_typed_result_matches_opendss_and_the_cli_json(tmp_path: Path) -> None:
    states = _states(tmp_path)  # OpenDSS's (losses kW, lowest p.u.) per open switch
    within = {s: v for s, v in states.items() if v[1] >= 0.9}
    best = min(within, key=lambda s: within[s][0])
    ring = _ring(tmp_path)
    res = solve_three_phase(str(ring), time_limit_s=60)
    assert isinstance(res, ThreePhaseResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.status = "x"  # type: ignore[misc]
    # the typed figures: the answer and OpenDSS's check of it, against OpenDSS itself
    assert res.has_solution and res.status == "optimal"
    assert res.open_switches == (best,) and res.base_open_switches == ("s1",)
    assert res.changed_switches == tuple(sorted({best, "s1"}))
    assert isinstance(res.ac_check, OpenDssCheck) and res.ac_check.passed
    assert res.ac_check.converged and res.ac_check.within_voltage_limits
    assert res.ac_check.losses_kw == pytest.approx(states[best][0], rel=1e-3)
    assert min(res.ac_check.min_voltage_pu.values()) == pytest.approx(states[best][1],
                                                                      abs=1e-3)
    assert res.base_losses_kw == pytest.approx(states["s1"][0], rel=1e-3)
    assert res.voltage_limits == VoltageLimits("network", 0.9, 1.1)
    assert isinstance(res.voltage_feedback, VoltageFeedback) and res.voltage_feedback.enabled
    assert not (res.check_broken or res.feedback_broken or res.scenarios_broken)
    assert res.scenarios is None and res.ac_polish is None
    # the JSON keeps the old keys in their order, and reads back to the same result
    data = res.to_dict()
    assert list(data) == KEYS_CHECKED
    assert ThreePhaseResult.from_dict(json.loads(res.to_json())) == res
    # the dict access of earlier versions reads the JSON, a copy
    assert res["open_switches"] == [best] and "ac_check" in res and "ac_polish" not in res
    assert res.get("ac_polish") is None and res["ac_check"]["passed"] is True
    res["notes"].append("changed")
    assert "changed" not in res.notes
    assert list(res) == KEYS_CHECKED and dict(res) == data
    # the CLI writes that JSON (the same but for the times)
    out = tmp_path / "r.json"
    cli = runner.invoke(app, ["solve", str(ring), "--time-limit", "60", "--json", str(out)])
    assert cli.exit_code == 0, cli.output
    written = json.loads(out.read_text())
    assert list(written) == KEYS_CHECKED
    assert _no_times(written) == _no_times(json.loads(res.to_json()))


def test_infeasible_and_scenario_paths_keep_their_keys(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    # v_min 0.99: no radial state keeps it (OpenDSS's lowest voltages are below 0.92)
    states = _states(tmp_path)
    assert max(v for _, v in states.values()) < 0.99
    none = solve_three_phase(str(ring), v_min_pu=0.99, voltage_feedback=False)
    assert none.status == "infeasible" and not none.has_solution and none.reason
    assert none.open_switches == () and none.ac_check is None
    assert none.voltage_limits == VoltageLimits("options", 0.99, 1.1)
    assert list(none.to_dict()) == KEYS_INFEASIBLE
    cli = runner.invoke(app, ["solve", str(ring), "--v-min", "0.99", "--no-voltage-feedback"])
    assert cli.exit_code == EXIT_INFEASIBLE, cli.output  # read from the typed status
    sc = solve_three_phase(str(ring), scenarios=_table(), thermal_limits=False,
                           ac_polish=True, ac_check=False, voltage_feedback=False)
    assert isinstance(sc.scenarios, ScenarioSummary) and not sc.scenarios.checked
    assert sc.scenarios.names == ("a_heavy", "a_pv", "x_light")
    assert sc.scenarios.weights == pytest.approx((0.6, 0.3, 0.1))
    assert sc.ac_polish is not None and not sc.ac_polish.enabled
    assert sc.ac_polish.skipped and "scenarios" in sc.ac_polish.skipped
    assert sc.node_voltages_scenario in sc.scenarios.names
    assert list(sc.to_dict()) == KEYS_SCENARIOS_POLISH
    assert ThreePhaseResult.from_dict(sc.to_dict()) == sc


def test_exit_rules_read_from_the_typed_records() -> None:
    """The CLI's exit rules, as properties: OpenDSS's check not passed or out of the limits;
    without the check, the feedback's or the polish's own OpenDSS solve; a scenario out of
    the limits. A minimal result built by hand, each record changed in turn."""
    base = ThreePhaseResult(
        case="c", method="lindist3flow", status="optimal", has_solution=True, reason="",
        overloaded=(), thermal_limits=True, max_loading_percent=None,
        voltage_limits=VoltageLimits("network", LimitSpread(0.9, 0.95), 1.1), notes=(),
        permanent_loops=(), open_switches=("s2",), base_open_switches=("s1",),
        changed_switches=("s1", "s2"), loss_proxy_kw=1.0, milp_objective_kw=1.0,
        lower_bound_kw=1.0, lower_bound_source="milp", lower_bound_basis="", gap=0.0,
        base_kept=False, solve_time_s=0.1, milp_solves=1, tangents_added=0, search="milp",
        voltage_feedback=VoltageFeedback({"enabled": True, "within_voltage_limits": True}),
        switch_cost_kw=None,
        switching_actions=(SwitchingAction("s1", "close"), SwitchingAction("s2", "open")),
        switching_cost_kw=0.0)
    assert not (base.check_broken or base.feedback_broken or base.scenarios_broken)
    assert base.to_dict()["voltage_limits"] == {"from": "network",
                                                "v_min_pu": {"min": 0.9, "max": 0.95},
                                                "v_max_pu": 1.1}
    low_fb = dataclasses.replace(base, voltage_feedback=VoltageFeedback(
        {"enabled": True, "within_voltage_limits": False}))
    assert low_fb.feedback_broken
    polished = dataclasses.replace(base, ac_polish=AcPolish(
        {"enabled": True, "within_voltage_limits": True, "passed": False}))
    assert polished.feedback_broken  # the polish's solve of the final answer decides
    checked = {"passed": True, "within_voltage_limits": True, "converged": True}
    assert not dataclasses.replace(low_fb, ac_check=OpenDssCheck(checked)).feedback_broken
    assert dataclasses.replace(base, ac_check=OpenDssCheck(
        {**checked, "passed": False})).check_broken
    scen = {"count": 1, "names": ["a"], "weights": [1.0], "per_scenario": [],
            "passed": True, "within_voltage_limits": False}
    assert dataclasses.replace(base, scenarios=ScenarioSummary(scen)).scenarios_broken
    assert not dataclasses.replace(base, has_solution=False,
                                   scenarios=ScenarioSummary(scen)).scenarios_broken
