"""The PV buses' path bound of conic probing (:func:`feederopt.algorithms.probing.path_bound`)
against brute force with pandapower's Newton-Raphson.

The grid: two 20 kV sources at 1.04 and 1.00 p.u., two feeders joined by ties, and a
generator holding 1.02 p.u. (q free, pandapower's default) on a bus that either source may
feed. Whichever source feeds it, the generator must exchange much reactive power to hold its
voltage, and those losses are what the relaxation's big-M voltage rows let it skip. Truth:
every radial topology (every bus fed by one source) through ``pp.runpp``. The path bound must
lie below the best of them (valid) and well above the root relaxation (the point of it)."""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.algorithms.probing import (
    ConicRelaxation,
    loop_branch_bound,
    path_bound,
    source_paths,
)
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.api import prepare
from feederopt.problems.reconfiguration import RadialityModel
from netbuild import pandapower_radial_line_sets
from test_loop_bound import single_open_bounds  # one copy of the single-switch bounds

pp = pytest.importorskip("pandapower")

CABLE = "NA2XS2Y 1x95 RM/25 12/20 kV"


def two_sources_with_pv(v_gen: float) -> object:
    net = pp.create_empty_network(name="two_sources_pv")
    bus = {name: pp.create_bus(net, 20, name=name)
           for name in ("A", "a1", "a2", "a3", "g", "B", "b1", "b2", "b3")}
    pp.create_ext_grid(net, bus["A"], vm_pu=1.04)
    pp.create_ext_grid(net, bus["B"], vm_pu=1.00)
    for u, v, km in (("A", "a1", 2.0), ("a1", "a2", 1.5), ("a2", "a3", 1.5),
                     ("B", "b1", 2.0), ("b1", "b2", 1.5), ("b2", "b3", 1.5),
                     ("a3", "b3", 1.0), ("a1", "g", 1.0), ("g", "b1", 1.0),
                     ("a2", "b2", 2.5)):
        line = pp.create_line(net, bus[u], bus[v], km, CABLE, name=f"{u}-{v}")
        pp.create_switch(net, bus[u], line, et="l", closed=True)
    for name, p in (("a1", 0.8), ("a2", 0.6), ("a3", 0.5), ("b1", 0.7), ("b2", 0.6),
                    ("b3", 0.4), ("g", 0.3)):
        pp.create_load(net, bus[name], p_mw=p, q_mvar=0.3 * p)
    pp.create_gen(net, bus["g"], p_mw=1.0, vm_pu=v_gen)
    return net


def radial_losses_kw(net: object) -> list[float]:
    """pandapower's losses of every radial topology (each tree holds one source and every
    bus), by opening the line switches."""
    out = []
    for opened in pandapower_radial_line_sets(net):
        case = copy.deepcopy(net)
        case.switch["closed"] = ~case.switch.element.isin(opened)
        pp.runpp(case)
        assert case.res_bus.vm_pu.between(0.9, 1.1).all()  # within the default limits
        out.append(1000.0 * float(case.res_line.pl_mw.sum()))
    return out


@pytest.mark.parametrize("v_gen", [1.02, 1.06])
def test_path_bound_lies_below_every_radial_topology_and_above_the_root(v_gen: float) -> None:
    net = two_sources_with_pv(v_gen)
    losses = radial_losses_kw(net)
    assert len(losses) >= 10  # the test enumerates something
    best = min(losses)
    problem = prepare(feederopt.load(net), RadialityModel.PARENT_CHILD).problem
    pu = problem.pu
    assert len(pu.pv_buses()[0]) == 1
    model = ConicRelaxation(problem)
    root = model.solve().objective
    bound, solves = path_bound(model, problem, np.zeros(pu.n_branch), math.inf, 0.0,
                               time.perf_counter() + 120.0)
    assert solves == len(source_paths(pu, int(pu.pv_buses()[0][0]), 200))
    # Valid: below the best radial topology (solver tolerance).
    assert bound <= best * (1 + 1e-5)
    # Stronger than the relaxation it refines, by a clear margin on this grid.
    assert bound - root >= 0.25 * (best - root)
    # A cutoff below the optimum cuts every path off: no topology lies below it.
    cut, _ = path_bound(model, problem, np.zeros(pu.n_branch), 0.5 * root, 0.0,
                        time.perf_counter() + 120.0)
    assert cut >= 0.5 * root


def test_source_paths_counts_the_simple_paths() -> None:
    net = two_sources_with_pv(1.02)
    pu = prepare(feederopt.load(net), RadialityModel.PARENT_CHILD).problem.pu
    g = pu.bus_ids.index(str(int(net.bus.index[net.bus.name == "g"][0])))
    paths = source_paths(pu, g, 200)
    assert paths is not None
    # Independent count with networkx over the graph with the sources merged.
    nx = pytest.importorskip("networkx")
    graph = nx.MultiGraph()
    for k in range(pu.n_branch):
        a, b = (("S" if pu.is_source[x] else int(x)) for x in (pu.f[k], pu.t[k]))
        graph.add_edge(a, b, key=k)
    assert len(paths) == len(list(nx.all_simple_edge_paths(graph, g, "S")))
    assert source_paths(pu, g, len(paths) - 1) is None  # the limit


@pytest.mark.parametrize(("v_gen", "gen_bus"), [(1.02, "g"), (1.03, "a3")])
def test_loop_branch_bound_on_pv_paths_proves_the_brute_force_optimum(v_gen: float,
                                                                      gen_bus: str) -> None:
    """The loop branch-and-bound branching first on the PV bus's source paths
    (``loop_branch_bound(..., pv_buses=[...])``): with time enough and the cutoff above the
    optimum, its bound is pandapower's best radial topology and its topology attains it."""
    net: Any = two_sources_with_pv(v_gen)
    net.gen.at[net.gen.index[0], "bus"] = int(net.bus.index[net.bus.name == gen_bus][0])
    best = min(radial_losses_kw(net))
    problem = prepare(feederopt.load(net), RadialityModel.PARENT_CHILD).problem
    pu = problem.pu
    m = pu.n_branch
    model = ConicRelaxation(problem)
    open_bound = single_open_bounds(model, problem)
    pv = int(pu.pv_buses()[0][0])
    bound, solves, y = loop_branch_bound(model, problem, open_bound, np.zeros(m), best * 1.05,
                                         0.0, time.perf_counter() + 120.0, pv_buses=[pv])
    assert solves >= len(source_paths(pu, pv, 200)) - 1  # the path level was solved
    assert bound == pytest.approx(best, rel=1e-4)
    assert y is not None
    ev = TopologyEvaluator(problem)
    assert ev.evaluate(y, need_gradient=False).objective == pytest.approx(best, rel=1e-4)
