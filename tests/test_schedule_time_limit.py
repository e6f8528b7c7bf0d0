"""A schedule whose master reaches the time limit before its first solution: before, exit 1
with no result ("the schedule master ended time_limit without a solution") although a radial
start exists; now status time_limit with the radial start as the schedule, the master's bound,
and the result written. Truth: networkx's spanning-tree test and the LP at the schedule."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

import feederopt.algorithms.ccg as ccg
from feederopt.algorithms.ccg import evaluate, solve_ccg
from feederopt.algorithms.policy_bound import PolicyBound
from feederopt.api_schedule import schedule_inputs
from feederopt.cli import app
from feederopt.formulations.schedule import ScheduleData, nominal
from feederopt.problems.schedule import BudgetKind
from schedule_loop import one_loop_data


def _radial(d: ScheduleData, closed: np.ndarray) -> bool:
    g = nx.MultiGraph()
    g.add_nodes_from(range(d.n))
    g.add_edges_from((int(a), int(b)) for a, b, c in zip(d.f, d.t, closed, strict=True)
                     if c > 0.5)
    return bool(nx.is_tree(g))


def test_cli_hourly_master_without_solution_writes_the_radial_start(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--hourly-topology", "--switch-cost",
                                 "5", "--time-limit", "1", "--no-ac-check", "--hours", "12",
                                 "--json", str(out)])
    assert r.exit_code == 0, r.output  # before: exit 1, no result
    doc = json.loads(out.read_text())
    assert doc["status"] == "time_limit"
    assert doc["violations"] == []
    assert doc["objective"] is not None and np.isfinite(doc["objective"])
    # the radial start, or (ut49_sched #2) the one-topology schedule solved first when it
    # found one in its half of the limit
    assert any("radial start" in n or "one-topology schedule" in n for n in doc["notes"])


def test_ccg_master_without_solution_falls_back_to_the_radial_start(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    d = one_loop_data(schedule_inputs("case33bw"), 2, gamma=0.1,
                      budget_kind=BudgetKind.AGGREGATE)
    # no policy bound, so no incumbent before the master (the aggregate set had none until
    # user test ut49_sched #1; now a feeder whose policy is not proven feasible, simulated)
    monkeypatch.setattr(ccg, "policy_bound", lambda *a, **k: PolicyBound(
        None, None, float("nan"), "refused (test)", 0.0))

    def no_solution(*a, **k):  # type: ignore[no-untyped-def]
        raise ccg.MasterTimeLimit("the schedule master ended time_limit without a solution",
                                  1.25)

    monkeypatch.setattr(ccg, "solve_lazy_master", no_solution)
    sol = solve_ccg(d, time_limit_s=5.0)
    assert sol.status.value == "time_limit"
    assert sol.lower_bound == pytest.approx(1.25)
    assert _radial(d, sol.closed[0])
    x = {"y": sol.closed[0], "z": sol.z}
    assert sol.nominal_cost == pytest.approx(evaluate(d, x, nominal(d))[0], rel=1e-6)
    assert any("radial start" in n for n in sol.notes)


def test_master_time_limit_exit_code() -> None:
    assert ccg.MasterTimeLimit("x").exit_code == 4  # documented: stopped, nothing found


def test_ccg_evaluates_nothing_past_the_deadline(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A master that uses the time left ends the run: before, the policy bound, mountain
    climbing and the MILP subproblem of its first stage ran past the deadline (a robust
    ``--time-limit 60`` took 94.9 s). The master's bound counts, the incumbent stays."""
    import time

    from schedule_loop import two_hour_instance

    d = two_hour_instance(schedule_inputs("case33bw"), ("11", "26"), [3])
    limit = 4.0
    t0 = time.perf_counter()
    real_master = ccg.solve_lazy_master
    after_master: list[str] = []
    ended: list[float] = []  # when the master returned (past the limit on a loaded machine)

    def slow_master(*a, **k):  # type: ignore[no-untyped-def]
        out = real_master(*a, **k)
        time.sleep(max(limit - (time.perf_counter() - t0), 0.0) + 0.05)  # the time left
        ended.append(time.perf_counter() - t0)
        after_master.append("master")
        return out

    def count(name, real):  # type: ignore[no-untyped-def]
        def wrapped(*a, **k):  # type: ignore[no-untyped-def]
            if after_master:
                after_master.append(name)
            return real(*a, **k)
        return wrapped

    monkeypatch.setattr(ccg, "solve_lazy_master", slow_master)
    for name in ("policy_bound", "worst_case", "climb", "centred_policy_bound"):
        monkeypatch.setattr(ccg, name, count(name, getattr(ccg, name)))
    sol = solve_ccg(d, time_limit_s=limit)
    assert after_master == ["master"]  # nothing evaluated after the deadline
    assert sol.status.value == "time_limit"
    assert np.isfinite(sol.objective) and sol.lower_bound <= sol.objective + 1e-9
    # the run ends within a second of the master's return, however long the master took
    assert sol.run_time_s < max(limit, ended[0]) + 1.0
    assert any("not evaluated" in n for n in sol.notes)
