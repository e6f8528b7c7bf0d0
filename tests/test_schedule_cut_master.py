"""Issue 18, user test ut_sched2 #4: a robust schedule whose master stops at its time limit.

A 120 s run of C&CG whose first master used the time left returned the radial start, whose
worst-case cost was above the deterministic schedule's: the master's own incumbent, a radial
first stage too, was never evaluated. Now a master leaves time (``EVAL_RESERVE_*``) to
evaluate its incumbent's first stage when it stops at its limit, and the schedule is the one of
the lower upper bound.

The master that stops at its limit is made here by a wrapper that runs the real master and then
uses up the time it was given before it reports ``time_limit`` with a weaker bound (on the
test's small instance the real one proves its optimum in a second; a slow machine is what cuts
it in real runs). The time is used up on the run's clock (``algorithms/base.py``'s, whose
``remaining()`` and deadlines the loop reads) by moving that clock forward instead of sleeping
through it: the loop sees the same time left, the test does not wait 18 s of wall time.
The radial start is replaced by the topology that brute force finds worst.
Independent reference: brute force over every radial topology of a loop with every extreme
point of the budget set as a copy (the extensive form per topology), and the LP at every
extreme point.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from feederopt.algorithms import base, ccg
from feederopt.algorithms.ccg import (
    RadialStart,
    _first_stage,
    _first_stage_cost,
    _solve_master,
    evaluate,
    extreme_points,
    solve_ccg,
)
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import ScheduleData, nominal
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers.status import SolverStatus, Status

# the loop that tie 34 closes (buses 9-15): seven switchable branches; ties 33, 35-37 open
LOOP34 = ("9", "10", "11", "12", "13", "14", "34")
OTHERS = ("33", "35", "36", "37")


def _build(net, dev, prof, open_: tuple[str, ...], closed: tuple[str, ...]  # type: ignore[no-untyped-def]
           ) -> ScheduleData:
    st = ScheduleSettings(hours=3, gamma=0.3, budget=1.0, uncertain_buses=("12",),
                          fixed_open=open_, fixed_closed=closed)
    return build_schedule_data(net, dev, prof, st)


def _robust_cost(d: ScheduleData, x: dict[str, np.ndarray],
                 points: list[dict[str, np.ndarray]]) -> float:
    """``c1(x) + max_e Q(x, xi_e)`` over every extreme point: the exact worst-case cost."""
    return _first_stage_cost(d, x) + max(evaluate(d, x, p)[0] for p in points)


def test_cut_master_incumbent_is_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    net, dev, prof = schedule_inputs("case33bw")
    ids = [str(b) for b in net.branches["id"].to_list()]
    d = _build(net, dev, prof, OTHERS, tuple(b for b in ids if b not in LOOP34
                                             and b not in OTHERS))
    points = extreme_points(d)
    assert len(points) == 7
    # brute force: the robust optimum at each radial topology of the loop
    by_topology = {}
    for b in LOOP34:
        fixed = _build(net, dev, prof, (*OTHERS, b),
                       tuple(i for i in ids if i not in OTHERS and i != b))
        sol, vals, _ = _solve_master(fixed, points, 120.0, 1e-7)
        assert sol.status == "optimal"
        x = _first_stage(d, vals)
        by_topology[b] = (_robust_cost(d, x, points), x)
    worst_b = max(by_topology, key=lambda b: by_topology[b][0])
    best_cost = min(c for c, _ in by_topology.values())
    bad_cost, bad_x = by_topology[worst_b]
    assert bad_cost > best_cost * (1 + 1e-3)  # the topology matters here

    def bad_start(d_: ScheduleData, time_limit_s: float = 60.0) -> RadialStart:
        q0, y0 = evaluate(d_, bad_x, nominal(d_))
        return RadialStart({g: v.copy() for g, v in bad_x.items()}, q0, y0, 0.0,
                           f"the test's worst topology (open {worst_b})")

    real = ccg.solve_lazy_master
    skipped = [0.0]  # seconds the run's clock is ahead of the wall clock

    class RunClock:
        """The ``time`` module as ``algorithms/base.py`` sees it: ahead by ``skipped``."""

        @staticmethod
        def perf_counter() -> float:
            return time.perf_counter() + skipped[0]

    def cut_master(*args, **kwargs):  # type: ignore[no-untyped-def]
        limit = args[3]
        t0 = time.perf_counter()
        lm = real(*args, **kwargs)
        skipped[0] += max(limit - (time.perf_counter() - t0), 0.0)  # it used its time
        # a cut master has not proven its bound: a weaker (still valid) one, 10 % lower
        return replace(lm, sol=replace(lm.sol, status=SolverStatus.TIME_LIMIT,
                                       bound=lm.sol.bound - 0.1 * abs(lm.sol.bound)))

    monkeypatch.setattr(ccg, "radial_start", bad_start)
    monkeypatch.setattr(ccg, "solve_lazy_master", cut_master)
    monkeypatch.setattr(base, "time", RunClock)
    res = solve_ccg(d, gap=1e-9, time_limit_s=20.0)

    assert res.status == Status.TIME_LIMIT  # never "optimal" or "feasible" after a cut
    x = {"y": res.closed[0], "z": res.z}
    opened = [ids[i] for i in np.flatnonzero(res.closed[0] < 0.5) if ids[i] in LOOP34]
    assert opened != [worst_b]  # the master's incumbent, not the start, is the schedule
    exact = _robust_cost(d, x, points)
    assert exact < bad_cost - 1e-6  # a better schedule at its exact worst case
    # the bounds bracket the truth: LB <= robust optimum, exact worst case at x <= UB
    assert res.lower_bound <= best_cost + 1e-6 * best_cost
    assert exact <= res.objective + 1e-6 * exact
    assert any("evaluated in the time held back" in n for n in res.notes)
