"""A plan keeps the incumbent its extensive form found before a stop request (smalls42 #2).

The extensive form's MILP stopped at its time limit with an incumbent; its answer is then the
least costly of the plans the run has, each evaluated on every scenario
(:func:`feederopt.algorithms.resilience.choose_plan`). A Ctrl-C (SIGTERM) during that
evaluation raised ``Interrupted`` out of the first recourse MILP it stopped, and the run lost
its incumbent: ``plan`` ended "interrupted before any plan" although it had one (seen on
synthetic500 with the storm500 scenarios, a Ctrl-C 100 s into a 120 s run). Now the stop ends
the evaluation as the deadline does, and the incumbent is the answer (``interrupted``, exit
code 130, the incumbent and its bound reported).

The stop is simulated as the SIGINT handler makes it (``interrupt.request``), right after the
MILP; the MILP's stop at its limit by reporting its own solve as ``time_limit`` with bound 0;
and every HiGHS solve after the request ends as on a grid large enough for HiGHS to call its
interrupt callback: ``interrupted`` without a solution (these 7-bus LPs end in presolve,
before any callback, so a real request would not stop them).
Truth, independent of the MILP: the plan's cost by graph connectivity
(tests/resilience_brute.py: lossless, no binding limits, so the least shedding of a scenario
is the load its components cannot feed), which the answer's operations, feasible ones, cannot
undercut; and the optimum by enumeration of every first stage, which no answer undercuts.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feederopt.algorithms import resilience as alg
from feederopt.problems.resilience import PlanSettings, ResilienceProblem
from feederopt.solvers import highs_backend, interrupt
from feederopt.solvers.status import SolverStatus

sys.path.insert(0, str(Path(__file__).parent))
from resilience_brute import brute_force, plan_cost
from test_resilience import as_scenarios, random_grid

SETTINGS = PlanSettings(harden_budget=1, dg_budget=1, harden_cost=300.0, dg_cost_per_kw=2.0,
                        dg_p_max_kw=60.0, dg_q_max_kvar=60.0, voll=14.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_stop_during_the_evaluation_keeps_the_extensive_incumbent(monkeypatch: Any,
                                                                    seed: int) -> None:
    net, scen = random_grid(seed)
    problem = ResilienceProblem.from_network(net, SETTINGS)
    scs = as_scenarios(problem, scen)
    solve = alg._solve
    seen: dict[str, Any] = {}

    def milp_then_ctrl_c(model: Any, time_limit_s: float | None, gap: float = alg.MIP_GAP
                         ) -> Any:
        sol = solve(model, time_limit_s, gap)
        if "plan" not in seen and alg.HARDEN in model.block.groups and sol.has_solution:
            # the extensive form's MILP (the first solve with the first stage free): "stopped
            # at its limit" with this incumbent, then the stop request arrives
            val = model.values()
            seen["plan"] = (np.round(val[alg.HARDEN]), np.round(val[alg.SITE]))
            interrupt.request(signal.SIGINT)
            return replace(sol, status=SolverStatus.TIME_LIMIT, bound=0.0)
        return sol

    highs_solve = highs_backend.HighsModel.solve

    def stopped_at_once(model: Any) -> highs_backend.MilpSolution:
        if interrupt.requested():
            return highs_backend.MilpSolution(SolverStatus.INTERRUPTED, float("nan"),
                                              -float("inf"), 0.0, False)
        return highs_solve(model)

    monkeypatch.setattr(alg, "_solve", milp_then_ctrl_c)
    monkeypatch.setattr(highs_backend.HighsModel, "solve", stopped_at_once)
    try:
        out = alg.solve_extensive(problem, scs, time_limit_s=600.0)
        stopped = interrupt.requested()
    finally:
        interrupt.clear()
    assert stopped and "plan" in seen
    assert out.status == alg.Status.TIME_LIMIT  # the API labels it interrupted (exit 130)
    assert len(out.operations) == len(scs)
    hard = [problem.branch_ids[int(problem.harden_lines[i])]
            for i in np.flatnonzero(out.harden > 0.5)]
    sites = [problem.bus_ids[int(problem.grid.dg_bus[i])] for i in np.flatnonzero(out.site > 0.5)]
    truth = plan_cost(net, scen, hard, sites, SETTINGS)
    assert out.objective >= truth - 1e-4  # feasible operations of its plan
    assert out.objective >= brute_force(net, scen, SETTINGS) - 1e-4
    assert out.lower_bound == 0.0
    # the answer is a plan the run had before the stop: the incumbent, or the plan that
    # invests nothing when that costs less on the operations found
    incumbent = np.concatenate(seen["plan"])
    nothing = np.zeros_like(incumbent)
    got = np.concatenate([out.harden, out.site])
    assert np.array_equal(got, incumbent) or np.array_equal(got, nothing)
