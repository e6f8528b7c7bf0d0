"""The loop branch-and-bound's partition branching and lazy node solves
(:func:`feederopt.algorithms.probing.loop_branch_bound`) against brute force.

* Branching alone (no relaxation, nothing pruned): expanding the tree of
  ``_loop_children`` from the root down to the nodes without a loop gives every radial
  topology of random meshed grids (one or two sources merged, fixed branches, equal weights
  among the rest) exactly once with ``partition`` (the children are disjoint), at least once
  without it, and nothing else. Enumeration of every set of opened branches is the truth.
* With the conic relaxation, stopped after every number of solves: the bound never exceeds
  the enumerated optimum, never falls, and at the end it is the optimum, for each of the four
  variants (partition or overlapping children, lazy or eager solves).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from feederopt.algorithms.probing import ConicRelaxation, _loop_children, loop_branch_bound
from feederopt.network import to_per_unit
from feederopt.network.topology import bottleneck_cycle, bottleneck_loop
from feederopt.solvers import interrupt
from feederopt.solvers.cvxpy_backend import ConicSolution
from test_loop_bound import _enumerated, single_open_bounds
from test_reconfiguration_property import meshed_grids, radial


@st.composite
def graphs(draw: st.DrawFn) -> tuple[SimpleNamespace, np.ndarray]:
    """A random connected multigraph of 4-9 buses with 2-5 extra edges (overlapping loops),
    one or two sources, some fixed branches (infinite weight) and small integer weights on
    the rest (ties on purpose)."""
    n = draw(st.integers(4, 9))
    edges = [(draw(st.integers(0, j - 1)), j) for j in range(1, n)]
    for _ in range(draw(st.integers(2, 5))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if a != b:
            edges.append((a, b))
    m = len(edges)
    is_source = np.zeros(n, dtype=bool)
    is_source[0] = True
    if draw(st.booleans()):
        is_source[n - 1] = True
    fixed = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m))) & (
        np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))) == 0)
    weight = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), float)
    weight[fixed] = math.inf
    pu = SimpleNamespace(n_bus=n, n_branch=m, f=np.array([a for a, _ in edges]),
                         t=np.array([b for _, b in edges]), is_source=is_source)
    return pu, weight


def _leaves(pu: Any, weight: np.ndarray, partition: bool) -> list[frozenset[int]]:
    """The opened sets of the loop-free nodes of the whole branching tree (depth first)."""
    out = []
    stack: list[tuple[tuple[int, ...], tuple[int, ...]]] = [((), ())]
    while stack:
        opened, closed = stack.pop()
        assert not set(opened) & set(closed)
        rest = np.setdiff1d(np.arange(pu.n_branch), opened)
        if not bottleneck_loop(pu.n_bus, pu.f[rest], pu.t[rest], weight[rest],
                               pu.is_source)[1]:
            out.append(frozenset(opened))
            continue
        stack.extend((child, shut) for child, shut, _ in
                     _loop_children(pu, opened, closed, weight, partition))
    return out


@settings(max_examples=150, deadline=None)
@given(case=graphs())
def test_loop_children_cover_every_radial_topology_once(case: tuple[Any, np.ndarray]) -> None:
    pu, weight = case
    m, n_src = pu.n_branch, int(pu.is_source.sum())
    truth = set()
    for opened in itertools.combinations(range(m), m - (pu.n_bus - n_src)):
        closed = np.ones(m, dtype=bool)
        closed[list(opened)] = False
        if np.all(np.isfinite(weight[list(opened)])) and radial(
                pu.n_bus, pu.f, pu.t, closed, pu.is_source):
            truth.add(frozenset(opened))
    parts = Counter(_leaves(pu, weight, partition=True))
    assert set(parts) == truth
    assert all(c == 1 for c in parts.values())  # disjoint children: each topology once
    assert set(_leaves(pu, weight, partition=False)) == truth


class _Stopping:
    """The relaxation, with a stop request after ``limit`` solves."""

    def __init__(self, model: ConicRelaxation, limit: int) -> None:
        self.model, self.limit, self.count = model, limit, 0

    def solve(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted(self.model.solve(*args, **kwargs))

    def solve_certified(self, *args: Any, **kwargs: Any) -> Any:
        return self._counted(self.model.solve_certified(*args, **kwargs))

    def _counted(self, out: Any) -> Any:
        self.count += 1
        if self.count >= self.limit:
            interrupt.request()
        return out


@pytest.mark.parametrize(("partition", "lazy"),
                         [(True, True), (True, False), (False, True), (False, False)])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_stopped_loop_branch_bound_stays_below_the_enumerated_optimum(
        partition: bool, lazy: bool, data: st.DataObject) -> None:
    problem, _ev, values = _enumerated(data.draw(meshed_grids()))
    pu = problem.pu
    m = pu.n_branch
    if len(values) < 2:
        return
    best = min(values)
    cutoff = max(values) + 1e-6  # every topology below it: nothing is cut off by it
    model = ConicRelaxation(problem)
    open_bound = single_open_bounds(model, problem)
    bounds = []
    try:
        for limit in range(1, 200):
            stopping = _Stopping(model, limit)
            bound, _, y = loop_branch_bound(
                stopping, problem, open_bound, np.zeros(m), cutoff, 0.0,  # type: ignore[arg-type]
                time.perf_counter() + 120.0, partition=partition, lazy=lazy)
            interrupt.clear()
            assert bound <= best + 1e-5 * max(1.0, best)  # valid wherever it stops
            bounds.append(bound)
            if y is not None:
                break
    finally:
        interrupt.clear()
    assert y is not None and bound == pytest.approx(best, rel=1e-4, abs=1e-6)
    assert all(b2 >= b1 - 1e-9 for b1, b2 in itertools.pairwise(bounds))


class _FailingAt:
    """The relaxation, failing (no answer, no dual bound) at the node that opens exactly
    ``opened``: as Clarabel's numerical failures on some of case69bw's nodes."""

    def __init__(self, model: ConicRelaxation, opened: np.ndarray) -> None:
        self.model, self.opened, self.failed = model, opened, 0

    def _fails(self, cap: np.ndarray | None) -> bool:
        return cap is not None and np.array_equal(cap < 0.5, self.opened)

    def solve(self, cap: np.ndarray | None = None, *args: Any, **kwargs: Any) -> Any:
        if self._fails(cap):
            self.failed += 1
            return ConicSolution("solver_error", math.nan, 0.0, 0.0)
        return self.model.solve(cap, *args, **kwargs)

    def solve_certified(self, cap: np.ndarray | None = None, *args: Any, **kwargs: Any) -> Any:
        return self.solve(cap, *args, **kwargs)


@pytest.mark.parametrize(("partition", "lazy"), [(True, True), (False, False)])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_failed_leaf_is_not_dropped(partition: bool, lazy: bool,
                                      data: st.DataObject) -> None:
    """The optimum's own relaxation fails: the bound stays at or below the enumerated optimum
    (the leaf keeps its parent's value and stops the search), never above it, as it was when
    such a leaf was expanded into no children and silently dropped.

    Every radial topology opens the same number of branches (branches less buses plus
    sources), so a grid with a single loop is assumed away before the enumeration rather
    than after it: the same grids are tested, without paying for the brute force of those
    that are thrown away."""
    net = data.draw(meshed_grids())
    pu0 = to_per_unit(net)
    # with one loop its node is the root's child
    assume(pu0.n_branch - (pu0.n_bus - int(pu0.is_source.sum())) >= 2)
    problem, ev, values = _enumerated(net)
    pu = problem.pu
    m = pu.n_branch
    assume(len(values) >= 2 and max(values) - min(values) > 1e-3 * max(values))
    best = min(values)
    model = ConicRelaxation(problem)
    open_bound = single_open_bounds(model, problem)
    y_best, least = None, math.inf
    for opened in itertools.combinations(range(m), m - (pu.n_bus - int(pu.is_source.sum()))):
        closed = np.ones(m, dtype=bool)
        closed[list(opened)] = False
        if radial(pu.n_bus, pu.f, pu.t, closed, pu.is_source):
            res = ev.evaluate(closed.astype(float), need_gradient=False)
            if res.feasible and res.objective < least:
                y_best, least = closed, res.objective
    assert y_best is not None and least == pytest.approx(best, rel=1e-6)
    assert len(np.flatnonzero(~y_best)) >= 2  # assumed above, before the enumeration
    failing = _FailingAt(model, ~y_best)
    bound, _, y = loop_branch_bound(failing, problem, open_bound,  # type: ignore[arg-type]
                                    np.zeros(m), max(values) + 1e-6, 0.0,
                                    time.perf_counter() + 120.0, partition=partition,
                                    lazy=lazy)
    assert failing.failed >= 1
    assert bound <= best + 1e-5 * max(1.0, best)
    assert y is None or ev.evaluate(y, need_gradient=False).objective <= best + 1e-5


# filter_too_much: most drawn grids are proven by the one-level bound and are assumed away
# (a clean-clone CI run drew 3 usable grids in 53 and failed the health check, session 37)
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_stalled_loop_branch_bound_hands_back_a_valid_bound(data: st.DataObject) -> None:
    """``stall``: a search that has closed less than the share asked of the gap at the check
    stops there with the bound it has (the one-level loop bound when checked at once), below
    the enumerated optimum; asked for no progress it runs on and proves the optimum."""
    problem, _ev, values = _enumerated(data.draw(meshed_grids()))
    pu = problem.pu
    m = pu.n_branch
    assume(len(values) >= 2)
    best, cutoff = min(values), max(values) + 1e-6
    model = ConicRelaxation(problem)
    open_bound = single_open_bounds(model, problem)
    single = bottleneck_cycle(pu.n_bus, pu.f, pu.t, open_bound, pu.is_source)
    assume(single < best - 1e-6 * max(1.0, best))  # the one-level bound does not prove it
    now = time.perf_counter()
    bound, solves, y = loop_branch_bound(model, problem, open_bound, np.zeros(m), cutoff, 0.0,
                                         now + 120.0, stall=(now, 1.0))
    assert (bound, solves, y) == (single, 0, None)
    bound, solves, y = loop_branch_bound(model, problem, open_bound, np.zeros(m), cutoff, 0.0,
                                         now + 120.0, stall=(now, 0.0))
    assert solves > 0 and y is not None
    assert bound == pytest.approx(best, rel=1e-4, abs=1e-6)
