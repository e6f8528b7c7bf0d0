"""Property test: on random small meshed grids, Benders (the re-solved HiGHS master and the
single SCIP tree) and the MISOCP find the optimum that brute-force enumeration of every radial
configuration gives.

The enumeration is independent of both algorithms: it lists every set of branches to open,
keeps those whose closed graph is a forest with one source per tree (checked with a union-find
here, not with the library's radiality formulations), and solves the fixed-topology SOCP of
each. The best enumerated topology is also checked against pandapower's AC power flow.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feederopt.algorithms.base import StopOptions
from feederopt.algorithms.benders import Benders, BendersOptions
from feederopt.algorithms.monolithic import solve_misocp
from feederopt.algorithms.single_tree import SingleTreeBenders, SingleTreeOptions
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.network import Network, to_per_unit
from feederopt.problems.reconfiguration import RadialityModel, ReconfigurationProblem
from feederopt.solvers.status import Status
from feederopt.validation.ac import ac_power_flow


@st.composite
def meshed_grids(draw: st.DrawFn, substations: int | None = None) -> Network:
    """A random meshed grid of 3-9 buses (at least 5 with two substations); ``substations``
    1 or 2, drawn when None."""
    n = draw(st.integers(3 if substations != 2 else 5, 9))
    n_src = substations or (draw(st.integers(1, 2)) if n >= 5 else 1)
    edges: set[tuple[int, int]] = set()
    for j in range(1, n):  # a random spanning tree
        i = draw(st.integers(0, j - 1))
        edges.add((i, j))
    n_extra = draw(st.integers(1, 3))
    for _ in range(n_extra):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(0, n - 1))
        if a != b and (a, b) not in edges and (b, a) not in edges:
            edges.add((min(a, b), max(a, b)))
    edge_list = sorted(edges)
    rs = draw(st.lists(st.floats(0.2, 2.0), min_size=len(edge_list), max_size=len(edge_list)))
    xr = draw(st.lists(st.floats(0.5, 1.5), min_size=len(edge_list), max_size=len(edge_list)))
    loads = draw(st.lists(st.floats(0.1, 1.0), min_size=n, max_size=n))
    sources = [0] if n_src == 1 else [0, n - 1]
    buses = pl.DataFrame({
        "id": [f"b{i}" for i in range(n)],
        "vn_kv": [12.66] * n,
        "is_source": [i in sources for i in range(n)],
        "v_min_pu": [0.85] * n,
        "v_max_pu": [1.1] * n,
    })
    branches = pl.DataFrame({
        "id": [f"l{k}" for k in range(len(edge_list))],
        "from_bus": [f"b{a}" for a, _ in edge_list],
        "to_bus": [f"b{b}" for _, b in edge_list],
        "r_ohm": rs,
        "x_ohm": [r * k for r, k in zip(rs, xr, strict=True)],
        "switchable": [True] * len(edge_list),
    })
    load_rows = [i for i in range(n) if i not in sources]
    ld = pl.DataFrame({
        "id": [f"d{i}" for i in load_rows],
        "bus": [f"b{i}" for i in load_rows],
        "p_mw": [loads[i] for i in load_rows],
        "q_mvar": [0.5 * loads[i] for i in load_rows],
    })
    return Network.from_tables(buses=buses, branches=branches, loads=ld, name="random").check()


def radial(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray, src: np.ndarray) -> bool:
    """Union-find: the closed branches form a forest in which each tree has one source."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(f[closed], t[closed], strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra == rb:
            return False  # a loop
        parent[ra] = rb
    roots = [find(i) for i in range(n)]
    per_tree = {r: 0 for r in roots}
    for i in np.flatnonzero(src):
        per_tree[roots[i]] += 1
    return all(c == 1 for c in per_tree.values())


def enumerate_optimum(net: Network) -> tuple[float, np.ndarray | None]:
    best, best_y, _ = enumerate_topologies(net)
    return best, best_y


def enumerate_topologies(net: Network) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """The best feasible radial topology (value, y) and the worst feasible one (y)."""
    pu = to_per_unit(net)
    problem = ReconfigurationProblem(pu)
    ev = TopologyEvaluator(problem)
    best, best_y = math.inf, None
    worst, worst_y = -math.inf, None
    m = pu.n_branch
    k_open = m - (pu.n_bus - int(pu.is_source.sum()))
    for opened in itertools.combinations(range(m), k_open):
        closed = np.ones(m, dtype=bool)
        closed[list(opened)] = False
        if not radial(pu.n_bus, pu.f, pu.t, closed, pu.is_source):
            continue
        res = ev.evaluate(closed.astype(float), need_gradient=False)
        if res.feasible and res.objective < best:
            best, best_y = res.objective, closed.astype(float)
        if res.feasible and res.objective > worst:
            worst, worst_y = res.objective, closed.astype(float)
    return best, best_y, worst_y


@pytest.mark.parametrize("substations", [1, 2])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), radiality=st.sampled_from(list(RadialityModel)))
def test_benders_and_misocp_match_enumeration(substations: int, data: st.DataObject,
                                              radiality: RadialityModel) -> None:
    """Benders (the engine: the re-solved HiGHS master, started from the worst radial topology
    so that conic probing runs, and the single SCIP tree, here without start topologies, so
    that SCIP's own candidates go through the slave check) and the
    monolithic MISOCP on SCIP all find the enumerated optimum, on grids with one and with two
    substations."""
    net = data.draw(meshed_grids(substations))
    assert int(net.buses["is_source"].sum()) == substations
    best, best_y, worst_y = enumerate_topologies(net)
    pu = to_per_unit(net)
    problem = ReconfigurationProblem(pu, radiality)
    stop = StopOptions(gap=1e-6, time_limit_s=120)
    # From the worst radial topology: conic probing then fixes switches against a loose
    # incumbent, and a wrong fixing would keep the engine from the enumerated optimum.
    bd = Benders(problem, BendersOptions(stop=stop)).run(
        initial=[] if worst_y is None else [worst_y])
    tree = SingleTreeBenders(problem, SingleTreeOptions(stop=stop)).run()
    if best_y is None:
        assert bd.status is Status.INFEASIBLE
        assert tree.status is Status.INFEASIBLE
        return
    for engine in (bd, tree):
        assert engine.status is Status.OPTIMAL
        assert engine.y is not None
        assert radial(pu.n_bus, pu.f, pu.t, engine.y > 0.5, pu.is_source)
        assert engine.objective == pytest.approx(best, rel=1e-5, abs=1e-6)
        assert engine.lower_bound <= engine.objective + 1e-9
    assert bd.y is not None
    closed = bd.y > 0.5
    mi = solve_misocp(problem, "SCIP", StopOptions(gap=1e-5, time_limit_s=120))
    assert mi.status is Status.OPTIMAL
    assert mi.y is not None
    assert radial(pu.n_bus, pu.f, pu.t, mi.y > 0.5, pu.is_source)
    assert mi.objective == pytest.approx(best, rel=1e-4, abs=1e-5)
    # Every bus is supplied (the AC power flow reaches all of them) and agrees with the SOCP.
    ac = ac_power_flow(net, closed)
    assert ac.converged
    assert np.all(np.isfinite(ac.vm_pu))
    assert ac.losses_kw == pytest.approx(best, rel=1e-3, abs=1e-4)
