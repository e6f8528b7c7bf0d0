"""The loop bound of conic probing (:mod:`feederopt.algorithms.probing`) against brute force.

* :func:`~feederopt.network.topology.bottleneck_cycle` against the max over every simple cycle
  (networkx) of the least weight on it, on random multigraphs with one and two sources.
* The loop bound itself: on random meshed grids (one and two substations) every radial
  topology that brute-force enumeration finds below the cutoff costs at least
  ``min(loop bound, cutoff)``, with the cutoff at the worst radial topology so that probing
  fixes switches against a loose incumbent and most topologies are checked.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feederopt.algorithms.probing import ConicRelaxation, loop_branch_bound, probe_closed
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.network import Network, to_per_unit
from feederopt.network.topology import bottleneck_cycle, bottleneck_loop
from feederopt.problems.reconfiguration import ReconfigurationProblem
from test_reconfiguration_property import meshed_grids, radial


def single_open_bounds(model: ConicRelaxation, problem: Any) -> np.ndarray:
    """Each switch's relaxation value with it alone open, less the solver's tolerance (inf
    for a fixed branch or a failed solve): the single-switch bounds of the loop bound."""
    pu = problem.pu
    m = pu.n_branch
    open_bound = np.full(m, math.inf)
    for e in np.flatnonzero(pu.switchable):
        cap = np.ones(m)
        cap[e] = 0.0
        sol = model.solve(cap)
        if sol.status == "optimal":
            open_bound[e] = sol.objective - 1e-6 * max(abs(sol.objective), 1.0)
    return open_bound


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_bottleneck_cycle_matches_every_simple_cycle(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 7))
    m = data.draw(st.integers(1, 10))
    f = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    t = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    keep = f != t
    f, t = f[keep], t[keep]
    w = np.array(data.draw(st.lists(st.sampled_from([1.0, 2.0, 3.0, 5.0, math.inf]),
                                    min_size=len(f), max_size=len(f))))
    sources = np.zeros(n, dtype=bool)
    sources[data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2))] = True
    # Independent: the sources merged by hand, every simple cycle of the multigraph (two
    # parallel edges are a cycle of length 2), the best least weight.
    hub = int(np.flatnonzero(sources)[0])
    node = [hub if sources[i] else i for i in range(n)]
    g = nx.MultiGraph()
    best = -math.inf
    for k, (a, b) in enumerate(zip(f, t, strict=True)):
        u, v = node[int(a)], node[int(b)]
        if u == v:
            best = max(best, float(w[k]))  # a loop through the merged sources
        else:
            g.add_edge(u, v, key=k)
    for u, v in {(u, v) for u, v, _ in g.edges(keys=True)}:
        ks = sorted(g[u][v])
        if len(ks) >= 2:
            best = max(best, sorted((float(w[k]) for k in ks), reverse=True)[1])
    simple = nx.Graph()
    for u, v, k in g.edges(keys=True):
        if not simple.has_edge(u, v) or w[k] > simple[u][v]["w"]:
            simple.add_edge(u, v, w=float(w[k]))
    for cyc in nx.simple_cycles(simple):
        if len(cyc) >= 3:
            ring = zip(cyc, cyc[1:] + cyc[:1], strict=True)
            best = max(best, min(simple[a][b]["w"] for a, b in ring))
    assert bottleneck_cycle(n, f, t, w, sources) == best
    # The loop that bottleneck_loop names attains it and is a loop: every node of the merged
    # multigraph meets an even number of its edges (a single loop: at least one edge).
    value, loop = bottleneck_loop(n, f, t, w, sources)
    assert value == best
    if loop:
        assert min(float(w[k]) for k in loop) == best
        degree: dict[int, int] = {}
        for k in loop:
            for end in (node[int(f[k])], node[int(t[k])]):
                degree[end] = degree.get(end, 0) + 1
        assert all(d % 2 == 0 for d in degree.values())
        assert len(set(loop)) == len(loop)


def _enumerated(net: Network) -> tuple[ReconfigurationProblem, TopologyEvaluator,
                                       list[float]]:
    """The problem, its slave and the losses of every feasible radial topology (brute force,
    radiality by the test's own union-find)."""
    pu = to_per_unit(net)
    problem = ReconfigurationProblem(pu)
    ev = TopologyEvaluator(problem)
    m = pu.n_branch
    values = []
    for opened in itertools.combinations(range(m), m - (pu.n_bus - int(pu.is_source.sum()))):
        closed = np.ones(m, dtype=bool)
        closed[list(opened)] = False
        if radial(pu.n_bus, pu.f, pu.t, closed, pu.is_source):
            res = ev.evaluate(closed.astype(float), need_gradient=False)
            if res.feasible:
                values.append(res.objective)
    return problem, ev, values


@pytest.mark.parametrize("substations", [1, 2])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_loop_bound_below_every_enumerated_topology(substations: int,
                                                    data: st.DataObject) -> None:
    problem, _ev, values = _enumerated(data.draw(meshed_grids(substations)))
    pu = problem.pu
    if len(values) < 2:
        return
    cutoff = max(values)
    found = probe_closed(problem, cutoff, 0.0, budget_s=60.0)
    assert found.probed == int(pu.switchable.sum())
    low = min(found.loop_bound, cutoff)
    # Valid: every topology below the cutoff costs at least the bound (solver tolerance).
    for v in values:
        if v < cutoff:
            assert v >= low - 1e-5 * max(1.0, abs(v))
    # Not vacuous: the bound is finite (every grid here has a loop).
    assert math.isfinite(found.loop_bound)


@pytest.mark.parametrize("substations", [1, 2])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_loop_branch_bound_proves_the_enumerated_optimum(substations: int,
                                                        data: st.DataObject) -> None:
    """The loop branch-and-bound (:func:`loop_branch_bound`) against brute force: with the
    cutoff above the optimum and time enough, it proves the enumerated optimum (its bound is
    the optimum and its topology attains it); with the time cut short its bound stays below
    every topology under the cutoff and never below the one-level loop bound."""
    problem, ev, values = _enumerated(data.draw(meshed_grids(substations)))
    pu = problem.pu
    m = pu.n_branch
    if len(values) < 2:
        return
    best = min(values)
    cutoff = best * 1.05 + 1e-6
    model = ConicRelaxation(problem)
    open_bound = single_open_bounds(model, problem)
    single = bottleneck_cycle(pu.n_bus, pu.f, pu.t, open_bound, pu.is_source)
    bound, _, y = loop_branch_bound(model, problem, open_bound, np.zeros(m), cutoff, 0.0,
                                    time.perf_counter() + 120.0)
    assert bound >= single - 1e-9
    assert bound == pytest.approx(best, rel=1e-4, abs=1e-6)
    assert y is not None and radial(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)
    assert ev.evaluate(y, need_gradient=False).objective == pytest.approx(best, rel=1e-4,
                                                                           abs=1e-6)
    cut, _, _ = loop_branch_bound(model, problem, open_bound, np.zeros(m), cutoff, 0.0,
                                  time.perf_counter())  # no time: the root's bound
    assert single - 1e-9 <= cut <= best + 1e-5 * max(1.0, best)
