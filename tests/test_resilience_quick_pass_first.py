"""An extensive plan whose MILP overruns its share keeps the quick pass (session 43's note,
session 44 item 1; ``algorithms.resilience.solve_extensive``, ``quick_pass``).

The MILP got 0.8 of the limit and the evaluation of its plans the rest; a MILP that ended past
the deadline (HiGHS's setup and presolve do not stop at its limit) left no time for the quick
pass, so the plan that invests nothing, or the MILP's incumbent, was completed with the
shed-all operation in every scenario: ``plan zhang13 --scenarios A_C_p1 --time-limit 0.2``
answered 16,174.90 $ (all 1,155.35 kW shed at 14 $/kW) where the quick pass of the plan that
invests nothing gives 864.75 $ (synthetic500 with storm500 at ``--time-limit 5``: 481,320.76 $
against 24,459.35 $). Now the quick pass of the plans known before the MILP (the candidates,
the plan that invests nothing) runs first, and the evaluation weighs every plan it completed
even past the deadline.

The overrun is stood in for deterministically: the extensive form's HiGHS run returns past the
run's deadline without an incumbent (as a presolve that outlasts its limit does). The answer
must cost no more than the quick pass alone at a generous limit (the least of its plans' costs)
and its bound and cost must bracket the optimum by enumeration over every plan, each
scenario's shedding by graph connectivity (``tests/resilience_brute.py``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from feederopt.algorithms import resilience
from feederopt.algorithms.resilience_measures import expected_value_plan
from feederopt.api_resilience import scenarios_of
from feederopt.cases import load
from feederopt.cases.disasters import load_disasters
from feederopt.problems.resilience import PlanSettings, ResilienceProblem
from feederopt.solvers.highs_backend import MilpSolution
from feederopt.solvers.status import SolverStatus, Status
from resilience_brute import brute_force, plan_cost

LIMIT_S = 2.0


def _quick_alone(problem: ResilienceProblem, scs: list[Any],
                 plans: list[resilience.Candidate]) -> float:
    """The least cost of ``plans`` by the quick pass alone, with no deadline."""
    table = resilience.OperationTable(problem, scs)
    costs = []
    for c in plans:
        for k in range(len(scs)):
            table.quick(k, c.harden, c.site)
        ops = [table.operation(k, c.harden, c.site) for k in range(len(scs))]
        if all(op is not None for op in ops):
            costs.append(problem.investment(c.harden, c.site) + sum(
                sc.probability * op.objective for sc, op in zip(scs, ops, strict=True)
                if op is not None))
    return min(costs)


@pytest.mark.parametrize(("scenarios", "with_ev"), [("A_C_p1", False), ("B611_C_p3", True)])
def test_overrunning_milp_keeps_the_quick_pass(monkeypatch: pytest.MonkeyPatch,
                                               scenarios: str, with_ev: bool) -> None:
    net = load("zhang13")
    ds = load_disasters(scenarios, net, "zhang13")
    st = PlanSettings()
    problem = ResilienceProblem.from_network(net, st)
    scs = scenarios_of(problem, ds)
    optimum = brute_force(net, [(d.probability, set(d.broken)) for d in ds.scenarios], st)
    nothing = plan_cost(net, [(d.probability, set(d.broken)) for d in ds.scenarios], [], [], st)
    candidates = []
    if with_ev:
        ev = expected_value_plan(problem, scs, time_limit_s=60.0)
        assert ev.outcome is not None
        candidates = ev.candidates()
    known = [*candidates, resilience.Candidate(resilience.NOTHING,
                                               0 * problem.harden_cost, 0 * problem.site_cost)]
    quick = _quick_alone(problem, scs, known)
    assert quick >= optimum - 1e-6
    assert quick <= nothing + 1e-6  # the quick pass of that plan is its optimum here

    overran: list[float] = []

    def overrunning(model: Any, time_limit_s: float | None, gap: float = 0.0) -> MilpSolution:
        if "s1.v" not in model.block.groups:  # a recourse MILP: as it is
            return real(model, time_limit_s, gap)
        t = time.perf_counter()
        time.sleep(LIMIT_S)  # past the run's deadline, whatever the share was
        overran.append(time.perf_counter() - t)
        return MilpSolution(SolverStatus.TIME_LIMIT, math.nan, -math.inf,
                            time.perf_counter() - t, False)

    real = resilience._solve
    monkeypatch.setattr(resilience, "_solve", overrunning)
    out = resilience.solve_extensive(problem, scs, time_limit_s=LIMIT_S, candidates=candidates)
    if not overran:  # the MILP was not even built: the same answer must hold
        assert any("was not solved" in n for n in out.notes)
    assert out.status is Status.TIME_LIMIT
    # was 16,174.90 $ (A_C_p1) and 16,724.90 $ (B611_C_p3): every scenario shed-all
    assert out.objective <= quick + 1e-6
    assert out.lower_bound <= optimum + 1e-6 <= out.objective + 2e-6
    # the reported cost is the plan's own: the same plan by connectivity
    hard = [problem.branch_ids[problem.harden_lines[i]] for i, h in enumerate(out.harden)
            if h > 0.5]
    sites = [problem.bus_ids[problem.grid.dg_bus[i]] for i, g in enumerate(out.site) if g > 0.5]
    truth = plan_cost(net, [(d.probability, set(d.broken)) for d in ds.scenarios], hard,
                      sites, st)
    assert out.objective == pytest.approx(truth, abs=0.01)
    assert not any(op.shed_all for op in out.operations)


@pytest.mark.parametrize("scenarios", ["A_C_p1", "B_C_p3"])
def test_loose_gap_answers_no_dearer_plan_than_the_quick_pass(scenarios: str) -> None:
    """The MILP that meets a loose ``--gap`` (0.99) stopped with the plan that invests nothing
    and every block shedding everything, 16,174.90 $ on both, as ``optimal``; the quick pass
    before it costs that plan 864.75 $ (A_C_p1) and 7,969.44 $ (B_C_p3)."""
    net = load("zhang13")
    ds = load_disasters(scenarios, net, "zhang13")
    st = PlanSettings()
    problem = ResilienceProblem.from_network(net, st)
    scs = scenarios_of(problem, ds)
    scen = [(d.probability, set(d.broken)) for d in ds.scenarios]
    optimum = brute_force(net, scen, st)
    nothing = resilience.Candidate(resilience.NOTHING, 0 * problem.harden_cost,
                                   0 * problem.site_cost)
    quick = _quick_alone(problem, scs, [nothing])
    out = resilience.solve_extensive(problem, scs, time_limit_s=60.0, gap=0.99)
    assert out.objective <= quick + 1e-6  # was 16,174.90 $
    assert out.lower_bound <= optimum + 1e-6 <= out.objective + 2e-6
    assert out.gap <= 0.99
    hard = [problem.branch_ids[problem.harden_lines[i]] for i, h in enumerate(out.harden)
            if h > 0.5]
    sites = [problem.bus_ids[problem.grid.dg_bus[i]] for i, g in enumerate(out.site) if g > 0.5]
    assert out.objective == pytest.approx(plan_cost(net, scen, hard, sites, st), abs=0.01)
