"""A stop request before any incumbent gives the answer the time limit gives (ut42_recheck_b
#4): ``plan synthetic500 --scenarios storm_synthetic500_40.json --time-limit 30`` wrote the
shed-all plan when its extensive form's MILP stopped at the limit without an incumbent, but
exited 130 with "interrupted: before any answer was found; nothing written" when a Ctrl-C
stopped the same MILP. The fallback needs no solver (the plan that invests nothing, each
scenario's operation the shed-all point checked against its rows), so the stop now gives it
too: ``time_limit`` from the algorithm, reported ``interrupted`` (exit 130) by the API, with the
MILP's bound. ``restore`` likewise.

The stop is simulated as tests/test_resilience_interrupt_incumbent.py does: the request made
as the SIGINT handler makes it (``interrupt.request``) when the MILP starts, which then ends
``interrupted`` without a solution, as does every HiGHS solve after the request (a grid large
enough for HiGHS to call its interrupt callback). Truth by hand: the plan that invests nothing
and sheds every load costs ``sum_s p_s * VOLL * total load [kW]`` (no investment), and the
restoration sheds the whole load."""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feederopt.algorithms import resilience as alg
from feederopt.algorithms.base import interrupted_label
from feederopt.problems.resilience import PlanSettings, ResilienceProblem
from feederopt.solvers import highs_backend, interrupt
from feederopt.solvers.status import SolverStatus

sys.path.insert(0, str(Path(__file__).parent))
from test_resilience import as_scenarios, random_grid

SETTINGS = PlanSettings(harden_budget=1, dg_budget=1, harden_cost=300.0, dg_cost_per_kw=2.0,
                        dg_p_max_kw=60.0, dg_q_max_kvar=60.0, voll=14.0)

_STOPPED = highs_backend.MilpSolution(SolverStatus.INTERRUPTED, float("nan"), -float("inf"),
                                      0.0, False)


def _stop_at_the_milp(monkeypatch: Any) -> None:
    """The stop request arrives as the extensive form's MILP (its first HiGHS solve, the
    first stage free) starts; from then on every HiGHS solve ends ``interrupted`` without a
    solution."""

    def solve(model: Any) -> highs_backend.MilpSolution:
        assert interrupt.requested() or alg.HARDEN in model.block.groups
        interrupt.request(signal.SIGINT)
        return _STOPPED

    monkeypatch.setattr(highs_backend.HighsModel, "solve", solve)


def _total_load_kw(net: Any) -> float:
    return 1000.0 * float(sum(net.loads["p_mw"].to_list()))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_stop_before_any_incumbent_gives_the_shed_all_plan(monkeypatch: Any,
                                                             seed: int) -> None:
    net, scen = random_grid(seed)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    scs = as_scenarios(problem, scen)
    _stop_at_the_milp(monkeypatch)
    try:
        # a candidate that invests (the expected-value plan's place): under shed-all
        # operations it costs its investment more, so the plan that invests nothing wins
        invests = np.zeros(len(problem.harden_lines))
        invests[0] = 1.0
        ev = alg.Candidate("the expected-value plan", invests,
                           np.zeros(len(problem.grid.dg_bus)))
        out = alg.solve_extensive(problem, scs, time_limit_s=600.0, candidates=[ev])
        stopped = interrupt.requested()
        label = interrupted_label(str(out.status))
        notes = alg.shed_all_note(scs, out.operations, stopped)
    finally:
        interrupt.clear()
    assert stopped
    assert out.status == alg.Status.TIME_LIMIT and label == "interrupted"
    assert not out.harden.any() and not out.site.any()  # the plan that invests nothing
    assert len(out.operations) == len(scs) and all(op.shed_all for op in out.operations)
    truth = sum(p for p, _ in scen) * SETTINGS.voll * _total_load_kw(net)
    assert out.objective == pytest.approx(truth, rel=1e-6)
    assert out.lower_bound == 0.0  # the interrupted MILP had no bound
    assert notes and "stop request" in notes[0] and "time limit" not in notes[0]


def test_a_stop_before_any_restoration_gives_the_shed_all_one(monkeypatch: Any) -> None:
    net, scen = random_grid(1)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    broken = tuple(int(i) for i in problem.branch_index(sorted(scen[0][1])))
    highs_solve = highs_backend.HighsModel.solve
    calls = {"n": 0}

    def solve(model: Any) -> highs_backend.MilpSolution:
        calls["n"] += 1
        if calls["n"] == 2:  # after the LP relaxation, at the start topology's operation
            interrupt.request(signal.SIGINT)
        if interrupt.requested():
            return _STOPPED
        return highs_solve(model)

    monkeypatch.setattr(highs_backend.HighsModel, "solve", solve)
    try:
        op = alg.restore(problem, broken)  # no time limit: only the stop ends it
        stopped = interrupt.requested()
        notes = alg.restore_shed_all_note(op, 0.1, None, stopped)
    finally:
        interrupt.clear()
    assert stopped and op.shed_all
    shed_kw = float(np.sum(op.shed_pu)) * 1000.0 * problem.s_base_mva
    assert shed_kw == pytest.approx(_total_load_kw(net), rel=1e-6)
    assert math.isfinite(op.bound) and op.bound >= 0.0
    assert notes and "stop request" in notes[0] and "give more time" not in notes[0]


def test_the_interrupted_shed_all_one_is_not_called_the_first_phase_s(
        monkeypatch: Any) -> None:
    """ut49_cli #3: an interrupted restore whose answer is the shed-all operation also got the
    second phase's note "the switch operations are the first phase's ... the shed, its bound
    and gap are the first phase's", and the label "(no time)": the fallback has no first-phase
    operation, and no time limit stopped it."""
    from feederopt.results.resilience import second_phase_note, switch_operations_text

    net, scen = random_grid(1)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    broken = tuple(int(i) for i in problem.branch_index(sorted(scen[0][1])))
    highs_solve = highs_backend.HighsModel.solve
    calls = {"n": 0}

    def solve(model: Any) -> highs_backend.MilpSolution:
        calls["n"] += 1
        if calls["n"] == 2:
            interrupt.request(signal.SIGINT)
        if interrupt.requested():
            return _STOPPED
        return highs_solve(model)

    monkeypatch.setattr(highs_backend.HighsModel, "solve", solve)
    try:
        op = alg.restore(problem, broken)
    finally:
        interrupt.clear()
    assert op.shed_all
    assert second_phase_note([("", op)]) == []
    text = switch_operations_text([{"branch": "1", "action": "open", "fallback": True}])
    assert "no time" not in text and "stopped" in text
