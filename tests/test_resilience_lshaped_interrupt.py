"""An L-shaped plan stopped before its first plan is evaluated gives the shed-all fallback.

``plan --method lshaped`` stopped by Ctrl-C or SIGTERM during its first master or the first
plan's recourses (synthetic500 with the storm500 scenarios, a SIGINT as the log shows
"recourse of 20 scenario(s) 1") printed "interrupted: before any answer was found; nothing
written": the first plan's batch raised ``Interrupted`` out of the method (or the master
stopped without a plan, and the method raised ``RuntimeError("... found no plan")``), while the
extensive form stopped at the same point writes the plan that invests nothing
(tests/test_resilience_interrupt_no_incumbent.py). Now the L-shaped method answers that plan
too: each scenario's operation the one its recourse found before the stop, else the shed-all
one (a point checked against the rows, no solve), status ``interrupted`` (exit 130 or 143),
the master's bound (0 when it had none: ``Q_s >= 0``), the console's and the JSON's notes
saying so. A master stopped at its time limit before any plan likewise (``time_limit``).

The stops in the process are simulated as tests/test_resilience_interrupt_no_incumbent.py does
(``interrupt.request``, what the SIGINT handler calls; every HiGHS solve after it ends
``interrupted`` without a solution, as on a grid large enough for HiGHS to call its interrupt
callback). The command-line test sends a real signal to the running command from a hook in
its first recourse, so that it comes at that point on every run. Truth by hand: the plan that
invests nothing with every scenario shedding every load costs ``sum_s p_s VOLL load [kW]``; a
scenario's operation found before the stop costs at least its least shedding by graph
connectivity (tests/resilience_brute.py).
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feederopt.algorithms import resilience as alg
from feederopt.algorithms.base import interrupted_label
from feederopt.cases import load
from feederopt.cases.disasters import load_disasters
from feederopt.problems.resilience import PlanSettings, ResilienceProblem
from feederopt.solvers import highs_backend, interrupt
from feederopt.solvers.status import SolverStatus

sys.path.insert(0, str(Path(__file__).parent))
from resilience_brute import graph_shed_kw
from test_resilience import as_scenarios, random_grid

SETTINGS = PlanSettings(harden_budget=1, dg_budget=1, harden_cost=300.0, dg_cost_per_kw=2.0,
                        dg_p_max_kw=60.0, dg_q_max_kvar=60.0, voll=14.0)


def _stopped(status: SolverStatus = SolverStatus.INTERRUPTED) -> highs_backend.MilpSolution:
    return highs_backend.MilpSolution(status, float("nan"), -float("inf"), 0.0, False)


def _is_master(model: Any) -> bool:
    return "theta" in model.block.groups


def _total_load_kw(net: Any) -> float:
    return 1000.0 * float(sum(net.loads["p_mw"].to_list()))


def _assert_shed_all_fallback(out: alg.PlanOutcome, net: Any, scen: list[Any]) -> None:
    assert not out.harden.any() and not out.site.any()  # the plan that invests nothing
    assert out.investment == 0.0
    assert len(out.operations) == len(scen) and all(op.shed_all for op in out.operations)
    truth = sum(p for p, _ in scen) * SETTINGS.voll * _total_load_kw(net)
    assert out.objective == pytest.approx(truth, rel=1e-6)
    assert out.recourse == pytest.approx([SETTINGS.voll * _total_load_kw(net)] * len(scen),
                                         rel=1e-6)
    assert out.lower_bound == 0.0  # no plan cut: the master's bound is the investment's, 0
    assert out.gap == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_stop_in_the_first_master_gives_the_plan_that_invests_nothing(
        monkeypatch: Any, seed: int) -> None:
    net, scen = random_grid(seed)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    scs = as_scenarios(problem, scen)

    def solve(model: Any) -> highs_backend.MilpSolution:
        assert interrupt.requested() or _is_master(model)  # the first master: the request
        interrupt.request(signal.SIGINT)
        return _stopped()

    monkeypatch.setattr(highs_backend.HighsModel, "solve", solve)
    try:
        out = alg.solve_lshaped(problem, scs, time_limit_s=600.0)
        stopped = interrupt.requested()
        label = interrupted_label(str(out.status))
        notes = alg.shed_all_note(scs, out.operations, stopped)
    finally:
        interrupt.clear()
    assert stopped and label == "interrupted"
    _assert_shed_all_fallback(out, net, scen)
    assert any("stop request" in n and "invests nothing" in n for n in out.notes), out.notes
    assert notes and "stop request" in notes[0]


def test_a_stop_in_the_first_recourses_keeps_the_operations_found(monkeypatch: Any) -> None:
    """The request comes during the second scenario's recourse of the first plan (the plan
    that invests nothing: the first master has no cut): the first scenario keeps the
    operation its recourse found, the others shed all."""
    net, scen = random_grid(1)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    scs = as_scenarios(problem, scen)
    highs_solve = highs_backend.HighsModel.solve
    recourse_task = alg.recourse_task
    calls = {"n": 0}

    def task(state: Any, item: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            interrupt.request(signal.SIGINT)
        return recourse_task(state, item)

    def solve(model: Any) -> highs_backend.MilpSolution:
        return _stopped() if interrupt.requested() else highs_solve(model)

    monkeypatch.setattr(alg, "recourse_task", task)
    monkeypatch.setattr(highs_backend.HighsModel, "solve", solve)
    try:
        out = alg.solve_lshaped(problem, scs, time_limit_s=600.0)
        label = interrupted_label(str(out.status))
    finally:
        interrupt.clear()
    assert calls["n"] == 2 and label == "interrupted"
    assert not out.harden.any() and not out.site.any()
    first, *rest = out.operations
    assert not first.shed_all and all(op.shed_all for op in rest)
    # the first scenario's operation: feasible, so no cheaper than its least shedding by
    # connectivity; the others shed the whole load
    least = SETTINGS.voll * graph_shed_kw(net, scen[0][1], set(), SETTINGS.dg_p_max_kw)
    assert out.recourse[0] >= least - 1e-6
    assert out.recourse[1:] == pytest.approx(
        [SETTINGS.voll * _total_load_kw(net)] * (len(scen) - 1), rel=1e-6)
    assert out.objective == pytest.approx(
        sum(p * q for (p, _), q in zip(scen, out.recourse, strict=True)), rel=1e-9)
    assert 0.0 <= out.lower_bound <= out.objective


def test_a_first_master_at_its_time_limit_gives_the_same_fallback(monkeypatch: Any) -> None:
    """No stop request: the first master ends at its time limit without a plan (HiGHS's
    presolve of a large master can outlast a tiny limit)."""
    net, scen = random_grid(2)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    scs = as_scenarios(problem, scen)

    def solve(model: Any) -> highs_backend.MilpSolution:
        assert _is_master(model)  # no recourse is solved: the fallback needs none
        return _stopped(SolverStatus.TIME_LIMIT)

    monkeypatch.setattr(highs_backend.HighsModel, "solve", solve)
    interrupt.clear()
    out = alg.solve_lshaped(problem, scs, time_limit_s=0.5)
    assert out.status == alg.Status.TIME_LIMIT
    _assert_shed_all_fallback(out, net, scen)
    assert any("time limit" in n and "invests nothing" in n for n in out.notes), out.notes


#: Runs ``feederopt ARGS`` with a hook in the L-shaped method's first recourse: it sends the
#: process the signal ``SIG`` (the real handler runs) and waits until the handler has seen it.
_HOOKED = textwrap.dedent("""
    import os, signal, sys, time
    from feederopt.algorithms import resilience as alg
    from feederopt.solvers import interrupt
    from feederopt.cli import app
    task, signum = alg.recourse_task, getattr(signal, sys.argv[1])
    def hooked(state, item):
        if not interrupt.requested():
            os.kill(os.getpid(), signum)
            while not interrupt.requested():
                time.sleep(0.01)
        return task(state, item)
    alg.recourse_task = hooked
    sys.argv = ["feederopt", *sys.argv[2:]]
    app()
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_plan_lshaped_signalled_in_its_first_recourse_writes_the_fallback(
        tmp_path: Path, signum: signal.Signals) -> None:
    """A real signal to a real process (its exit status is the point, so a fresh interpreter,
    not CliRunner); ``--no-ac-check``: nothing here reads the AC checks of the operations."""
    out = tmp_path / "plan.json"
    proc = subprocess.run(
        [sys.executable, "-c", _HOOKED, signum.name, "plan", "zhang13", "--scenarios",
         "B_C_p2", "--method", "lshaped", "--no-measures", "--no-ac-check", "--json", str(out),
         "--verbose"],
        capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 128 + signum, proc.stderr
    assert f"{signum.name}: stopping" in proc.stderr
    assert "interrupted: the best plan" in proc.stderr, proc.stderr
    assert "before any answer" not in proc.stderr, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "interrupted"
    assert doc["investment"] == 0.0
    assert not doc["hardened"] and not doc["dg_sites"]
    net = load("zhang13")
    scen = [(d.probability, set(d.broken))
            for d in load_disasters("B_C_p2", net, "zhang13").scenarios]
    voll = PlanSettings().voll
    total = 0.0
    for sc, (p, broken) in zip(doc["scenarios"], scen, strict=True):
        # the first scenario's recourse ran to its end (the hook waits for the handler, the
        # recourse then runs on: zhang13's LPs end in presolve, before any interrupt
        # callback, and the serial executor checks the request between two scenarios)
        least = voll * graph_shed_kw(net, broken, set(), 0.0)
        assert least - 1e-6 <= sc["recourse"] <= voll * _total_load_kw(net) + 1e-6
        total += p * sc["recourse"]
    shed_all = doc["scenarios"][1]  # no time for it: the whole load shed, no line closed
    assert shed_all["operation"]["shed_kw"] == pytest.approx(_total_load_kw(net), abs=1e-6)
    assert shed_all["operation"]["closed_lines"] == []
    assert doc["expected_total"] == pytest.approx(total, rel=1e-9)
    bound = doc["lower_bound"]
    assert bound is not None and 0.0 <= bound <= doc["expected_total"]
    assert math.isfinite(doc["gap"])
    assert any("stop request" in n for n in doc["notes"]), doc["notes"]
    np.testing.assert_allclose(bound, 0.0)  # the first master's bound: no cut yet


def test_a_first_plan_with_no_time_for_its_recourses_has_the_fallback_note() -> None:
    """User test ut43 recheck #3: ``plan zhang13 --scenarios B611_C_p2 --method lshaped
    --no-measures --time-limit 0.001`` kept the plan that invests nothing as a plan evaluated
    (its recourses, past the limit, answered the shed-all operation), so it lacked the note
    that ``--time-limit 0.05`` (the same answer, reached through the fallback) had. No solver
    is patched: the limit is over before the first recourse starts."""
    net, scen = random_grid(1)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    scs = as_scenarios(problem, scen)
    interrupt.clear()
    out = alg.solve_lshaped(problem, scs, time_limit_s=1e-6)
    assert out.status == alg.Status.TIME_LIMIT
    assert not out.harden.any() and not out.site.any()
    assert all(op.shed_all for op in out.operations)
    truth = sum(p for p, _ in scen) * SETTINGS.voll * _total_load_kw(net)
    assert out.objective == pytest.approx(truth, rel=1e-6)
    assert any("time limit" in n and "invests nothing" in n for n in out.notes), out.notes
