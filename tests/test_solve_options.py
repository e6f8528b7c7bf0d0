"""Every option of ``feederopt solve`` either acts or is refused (issue 12).

The grid is the 4-bus ring of :mod:`test_cli_solve`: four radial configurations, whose losses
are computed here with pandapower's AC power flow (independent physics), so that what an
option must change is known without feederopt's optimiser.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.io.scenarios import write_scenarios
from feederopt.network import Network
from feederopt.options import Box, Execution, Scenarios, SolveOptions, Stop, unchecked_solve_options
from feederopt.validation.ac import ac_power_flow
from test_cli_solve import ring

runner = CliRunner()

#: Each option of ``solve`` and the tests that show it acting or being refused.
COVERED = {
    "source": ["test_cli_solve.py::test_solve_json_has_the_documented_keys"],
    "method": ["test_method_does_not_apply_to_the_uncertain_methods",
               "test_cli_solve.py::test_bad_options_exit_2"],
    "solver": ["test_the_result_names_the_solver_given",
               "test_solver_does_not_apply_to_lindistflow"],
    "gap": ["test_bad_values_are_all_refused_at_once"],
    "ties": ["test_pandapower_tie_rule.py::"
             "test_solve_ties_out_of_service_finds_the_published_optimum",
             "test_pandapower_tie_rule.py::"
             "test_ties_is_refused_where_the_network_says_what_switches"],
    "time_limit": ["test_bad_values_are_all_refused_at_once",
                   "test_interrupt.py (time_limit status)"],
    "radiality": ["test_bad_values_are_all_refused_at_once",
                  "test_reconfiguration_property.py (both models, same optimum)"],
    "json_file": ["test_cli_solve.py::test_solve_json_has_the_documented_keys"],
    "out_dir": ["test_cli_solve.py::test_solve_out_dir_is_written_and_never_overwritten"],
    "force": ["test_outputs.py"],
    "no_ac_check": ["test_no_ac_check_skips_the_ac_power_flow"],
    "v_min": ["test_bad_values_are_all_refused_at_once", "test_pandapower_fidelity.py"],
    "v_max": ["test_bad_values_are_all_refused_at_once", "test_pandapower_fidelity.py"],
    "max_loading": ["test_bad_values_are_all_refused_at_once", "test_pandapower_fidelity.py"],
    "no_thermal_limits": ["test_pandapower_fidelity.py"],
    "switch_cost": ["test_switching_cost_acts_under_scenarios_and_robust",
                    "test_cli_solve.py::test_switching_cost_keeps_the_base_case_when_it_"
                    "outweighs_the_savings"],
    "loss_price": ["test_loss_price_is_refused_under_uncertainty", "test_dg.py"],
    "report": ["test_report_needs_out", "test_report.py"],
    "scenarios": ["test_switching_cost_acts_under_scenarios_and_robust", "test_stochastic.py"],
    "objective": ["test_scenario_worst_objective.py (worst against brute force, refusals)"],
    "robust": ["test_switching_cost_acts_under_scenarios_and_robust", "test_robust.py"],
    "uncertain_loads": ["test_robust_only_options_need_robust", "test_robust.py"],
    "budget": ["test_robust_only_options_need_robust", "test_robust.py"],
    "source_vm_band": [
        "test_robust_source_band.py::test_the_band_rejects_a_topology_that_fails_at_its_low_end",
        "test_robust_source_band.py::test_a_bad_band_is_refused_typed"],
    "workers": ["test_workers_are_taken_with_a_note_without_uncertainty",
                "test_workers_act_under_scenarios"],
    "ray": ["test_ray_is_refused_without_uncertainty", "test_execution.py"],
    "quiet": ["test_cli_solve.py::test_switching_cost_keeps_the_base_case_when_it_outweighs_"
              "the_savings"],
    "verbose": ["test_cli.py"],
    "fix_devices": ["test_dopf_cases.py::test_fix_devices_and_controls"],
    "fixed_generation": [
        "test_matpower_fixed_generation.py::test_benders_finds_the_runpf_optimum",
        "test_matpower_fixed_generation.py::test_every_method_holds_the_set_points"],
    "controls": ["test_dopf_cases.py::test_fix_devices_and_controls",
                 "test_dopf_cases.py::test_bad_controls_exit_2"],
    "hold_closed": ["test_holds.py::test_held_answer_is_the_brute_force_best_of_the_topologies_"
                    "that_keep_the_holds", "test_holds.py::test_cli_bad_holds_exit_with_their_"
                    "code_and_no_traceback"],
    "hold_open": ["test_holds.py::test_held_answer_is_the_brute_force_best_of_the_topologies_"
                  "that_keep_the_holds", "test_holds.py::test_cli_bad_holds_exit_with_their_"
                  "code_and_no_traceback"],
    "no_voltage_feedback": [
        "test_threephase_voltage_limits.py::test_without_feedback_opendss_finds_the_lossless_"
        "answer_below_v_min",
        "test_threephase_voltage_limits.py::test_no_voltage_feedback_is_refused_on_a_balanced_"
        "case"],
    "ac_polish": [
        "test_threephase_ac_polish.py::test_polish_moves_the_lossless_answer_to_opendss_least_"
        "loss_state",
        "test_threephase_ac_polish.py::test_ac_polish_is_refused_on_a_balanced_case"],
    "no_probing": [
        "test_ut43_scip_cross_check.py::test_benders_scip_without_probing_proves_the_optimum_"
        "in_its_tree",
        "test_ut43_scip_cross_check.py::test_no_probing_is_refused_where_nothing_probes"],
}


def test_every_solve_option_is_covered() -> None:
    """A new option of ``solve`` needs a test that shows it acting or refused."""
    import typer.main

    command = typer.main.get_command(app)
    solve = command.commands["solve"]  # type: ignore[attr-defined]
    names = {p.name for p in solve.params} - {"help"}
    assert names == set(COVERED), names ^ set(COVERED)
    here = Path(__file__).read_text()
    for tests in COVERED.values():
        for test in tests:
            if "::" not in test and ".py" not in test:
                assert f"def {test}(" in here, test


def _losses(net: Network, open_branch: str) -> float:
    closed = np.array([b != open_branch for b in "abcd"])
    return ac_power_flow(net, closed).losses_kw


@pytest.fixture
def ring_b(tmp_path: Path) -> Path:
    """The ring with tie ``b`` open; opening ``c`` instead saves losses."""
    return write_folder(ring(tie="b"), tmp_path / "ring_b")


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    """Two scenarios: every load at 90 % and at 110 % of nominal."""
    return _write_scenarios(tmp_path)


def _write_scenarios(tmp_path: Path) -> Path:
    net = ring(tie="b")
    rows = []
    for name, scale in (("low", 0.9), ("high", 1.1)):
        for row in net.loads.iter_rows(named=True):
            rows.append({"scenario": name, "kind": "load", "element": row["id"],
                         "p_mw": row["p_mw"] * scale, "q_mvar": row["q_mvar"] * scale,
                         "weight": 0.5})
    return write_scenarios(pl.DataFrame(rows), tmp_path / "s.parquet")


def _solve(args: list[str], tmp_path: Path, name: str = "r.json") -> tuple[int, dict, str]:
    out = tmp_path / name
    res = runner.invoke(app, ["solve", *args, "--json", str(out), "--quiet"])
    doc = json.loads(out.read_text()) if out.exists() else {}
    return res.exit_code, doc, res.output


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, str]:
    """``solve RING_B --no-ac-check`` run once: one test reads the solver it names, another
    that it skipped the AC check."""
    tmp = tmp_path_factory.mktemp("plain")
    return _solve([str(write_folder(ring(tie="b"), tmp / "ring_b")), "--no-ac-check"], tmp)


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, str]:
    """``solve RING_B --scenarios S --workers 2 --no-ac-check`` run once: one test reads that
    the workers acted, another its topology without a switching cost (no AC check read)."""
    tmp = tmp_path_factory.mktemp("scen")
    folder = write_folder(ring(tie="b"), tmp / "ring_b")
    return _solve([str(folder), "--scenarios", str(_write_scenarios(tmp)), "--workers", "2",
                   "--no-ac-check"], tmp)


# ----- refused ------------------------------------------------------------------------------
def _refused(args: list[str], *fields: str) -> str:
    res = runner.invoke(app, ["solve", *args])
    assert res.exit_code == 2, res.output
    for f in fields:
        assert f in res.output, (f, res.output)
    assert "Traceback" not in res.output
    return res.output


def test_ray_is_refused_without_uncertainty(ring_b: Path) -> None:
    _refused([str(ring_b), "--ray", "auto"], "--ray only applies to --scenarios")


def test_workers_are_taken_with_a_note_without_uncertainty(ring_b: Path,
                                                           tmp_path: Path) -> None:
    """User test ut40_realg5 #2: a plain solve refused ``--workers 1`` (exit code 2), so a
    script that always passes a worker count had to leave it out there. It is taken with a
    note (one slave per iteration: workers do not apply), and the solve answers as without
    it: opening c, the least-loss of the ring's four radial configurations (pandapower's AC
    power flow of each). A bad count is still refused."""
    net = ring(tie="b")
    by_open = {k: _losses(net, k) for k in "abcd"}
    for workers in ("1", "3"):
        out = tmp_path / f"w{workers}.json"
        res = runner.invoke(app, ["solve", str(ring_b), "--workers", workers, "--json",
                                  str(out)])
        assert res.exit_code == 0, res.output
        text = " ".join(res.output.split())
        assert (f"note: --workers {workers} ignored: a solve without --scenarios or --robust "
                "has one slave per iteration") in text
        doc = json.loads(out.read_text())
        assert [b["id"] for b in doc["open_branches"]] == [min(by_open, key=by_open.get)]
        assert doc["ac_check"]["losses_kw"] == pytest.approx(by_open["c"], rel=1e-6)
    quiet = runner.invoke(app, ["solve", str(ring_b), "--workers", "1", "--quiet"])
    assert quiet.exit_code == 0 and "note" not in quiet.output
    for bad in ("0", "-2"):
        _refused([str(ring_b), "--workers", bad], "--workers must be at least 1")
    res = runner.invoke(app, ["solve", str(ring_b), "--workers", "1.5"])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_workers_are_taken_with_a_warning_in_python() -> None:
    """The same from Python: ``solve(net, workers=2)`` warns and solves."""
    import feederopt

    with pytest.warns(feederopt.FeederoptWarning, match="workers=2 ignored"):
        res = feederopt.solve(ring(tie="b"), workers=2, ac_check=False)
    assert [b["id"] for b in res.open_branches] == ["c"]


def test_method_does_not_apply_to_the_uncertain_methods(ring_b: Path,
                                                        scenario_file: Path) -> None:
    _refused([str(ring_b), "--method", "misocp", "--scenarios", str(scenario_file)],
             "--method misocp does not apply to --scenarios")
    _refused([str(ring_b), "--method", "lindistflow", "--robust", "0.1"],
             "--method lindistflow does not apply to --robust")


def test_loss_price_is_refused_under_uncertainty(ring_b: Path, scenario_file: Path) -> None:
    _refused([str(ring_b), "--loss-price", "50", "--scenarios", str(scenario_file)],
             "--loss-price does not apply")
    _refused([str(ring_b), "--loss-price", "50", "--robust", "0.1"], "--loss-price does not")


def test_robust_only_options_need_robust(ring_b: Path, scenario_file: Path) -> None:
    _refused([str(ring_b), "--budget", "1"], "--budget needs --robust")
    _refused([str(ring_b), "--uncertain-loads", "l1", "--scenarios", str(scenario_file)],
             "--uncertain-loads needs --robust")
    _refused([str(ring_b), "--robust", "0.1", "--scenarios", str(scenario_file)],
             "exclude each other")


def test_solver_does_not_apply_to_lindistflow(ring_b: Path) -> None:
    _refused([str(ring_b), "--method", "lindistflow", "--solver", "SCS"],
             "--solver does not apply to lindistflow")


def test_report_needs_out(ring_b: Path) -> None:
    _refused([str(ring_b), "--report"], "--report needs --out")


def test_bad_values_are_all_refused_at_once(ring_b: Path) -> None:
    out = _refused([str(ring_b), "--gap", "-1", "--time-limit", "0", "--radiality", "tree",
                    "--v-min", "3", "--max-loading", "-5", "--switch-cost", "-1"],
                   "gap must be", "time limit must be positive", "unknown radiality",
                   "--v-min must be", "loading limit", "switching cost")
    assert out


def test_check_lists_every_problem_of_the_options_object() -> None:
    """The options object alone: the problems come from ``check()``, not from a solve."""
    assert SolveOptions().check() == []
    opts = SolveOptions(method="misocp", stop=Stop(gap=-1.0),
                        uncertainty=Scenarios("s.parquet", penalty=0.0),
                        execution=Execution(workers=0), validate=False)
    fields = sorted(p.field for p in opts.check())
    assert fields == ["gap", "method", "penalty", "workers"]
    assert [p.field for p in SolveOptions(uncertainty=Box(-0.1, budget=-1),
                                          validate=False).check()] == ["robust", "budget"]
    assert [p.field for p in unchecked_solve_options(budget=2).check()] == ["budget"]


# ----- acts ---------------------------------------------------------------------------------
def test_switching_cost_acts_under_scenarios_and_robust(
        ring_b: Path, scenario_file: Path, tmp_path: Path,
        scenario_run: tuple[int, dict, str]) -> None:
    """Opening c instead of b is best at 90 % and at 110 % load (AC power flow); a switching
    cost above the saving keeps b open, under --scenarios and under --robust alike."""
    net = ring(tie="b")
    saving = 0.0
    for scale in (0.9, 1.1):
        scaled = net.replace(loads=net.loads.with_columns(pl.col("p_mw") * scale,
                                                          pl.col("q_mvar") * scale))
        by_open = {k: _losses(scaled, k) for k in "abcd"}
        assert min(by_open, key=by_open.get) == "c"  # type: ignore[arg-type]
        saving = max(saving, by_open["b"] - by_open["c"])
    cost = str(10 * saving + 10 * _losses(net, "b"))
    for k, mode in enumerate((["--scenarios", str(scenario_file)], ["--robust", "0.05"])):
        # without a cost: the scenario run is the one of test_workers_act_under_scenarios
        code, doc, out = scenario_run if k == 0 else _solve(
            [str(ring_b), *mode, "--workers", "1"], tmp_path, f"{k}.json")
        assert code == 0, out
        assert [b["id"] for b in doc["open_branches"]] == ["c"]
        code, doc, out = _solve([str(ring_b), *mode, "--workers", "1", "--switch-cost", cost],
                                tmp_path, f"{k}_cost.json")
        assert code == 0, out
        assert [b["id"] for b in doc["open_branches"]] == ["b"], mode


def test_workers_act_under_scenarios(scenario_run: tuple[int, dict, str]) -> None:
    code, doc, out = scenario_run
    assert code == 0, out
    assert doc["stochastic"]["workers"] == 2


def test_the_result_names_the_solver_given(ring_b: Path, tmp_path: Path,
                                           plain_run: tuple[int, dict, str]) -> None:
    code, doc, out = _solve([str(ring_b), "--solver", "SCS", "--no-ac-check"], tmp_path)
    assert code in (0, 3), out
    assert "SCS" in doc["solver"] and "Clarabel" not in doc["solver"]
    code, doc, out = plain_run
    assert code == 0, out
    assert doc["solver"] == "HiGHS (master) + Clarabel (slave)"


def test_no_ac_check_skips_the_ac_power_flow(ring_b: Path, tmp_path: Path,
                                            plain_run: tuple[int, dict, str]) -> None:
    code, doc, _ = plain_run
    assert code == 0 and doc["ac_check"] is None
    code, doc, _ = _solve([str(ring_b)], tmp_path, "ac.json")
    assert code == 0 and doc["ac_check"]["converged"]
    assert doc["ac_check"]["losses_kw"] == pytest.approx(_losses(ring(tie="b"), "c"), rel=1e-6)


def test_uncertain_solves_are_options_of_the_one_solve(scenario_file: Path) -> None:
    """``feederopt.solve(net, scenarios=...)`` and the thin wrapper give the same typed
    summary, and its JSON keys are the documented ones."""
    import feederopt
    from feederopt.results.uncertain import RobustSummary, StochasticSummary
    from feederopt.uncertainty import solve_robust, solve_scenarios

    net = ring(tie="b")
    res = feederopt.solve(net, scenarios=scenario_file, workers=1, ac_check=False)
    assert isinstance(res.uncertain, StochasticSummary)
    assert [s.scenario for s in res.uncertain.scenarios] == ["low", "high"]
    assert all(s.outcome.feasible for s in res.uncertain.scenarios)
    doc = res.to_dict()
    assert {"scenarios", "worst_scenario", "stochastic"} <= set(doc)
    assert doc["stochastic"]["expected_losses_kw"] == pytest.approx(
        sum(0.5 * s.outcome.losses_kw for s in res.uncertain.scenarios))  # type: ignore[misc]
    same = solve_scenarios(net, scenario_file, ac_check=False)
    assert same.open_branches == res.open_branches
    assert same.objective == pytest.approx(res.objective, rel=1e-9)
    rob = solve_robust(net, 0.05, uncertain_loads=["l1", "l2"], oracle="enumerate",
                       ac_check=False)
    assert isinstance(rob.uncertain, RobustSummary)
    assert rob.uncertain.extreme_points == 4 and len(rob.uncertain.vertices) == 4
    assert rob.uncertain.oracle == "enumerate"
    # On this passive ring the monotone oracle (auto's choice) evaluates the upper corner only
    # and reaches the same topology.
    mono = feederopt.solve(net, robust=0.05, uncertain_loads=["l1", "l2"], ac_check=False)
    assert mono.uncertain.oracle == "monotone" and len(mono.uncertain.vertices) == 1
    assert mono.open_branches == rob.open_branches
    assert {"robust", "robust_summary"} <= set(rob.to_dict())
