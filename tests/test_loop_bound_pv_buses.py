"""The loop branch-and-bound of conic probing with TWO voltage-controlled (PV) buses
(:func:`feederopt.algorithms.probing.loop_branch_bound` with ``pv_buses``: one branching
level per PV bus on its source paths) against pandapower's Newton-Raphson over every radial
topology.

The grid: two 20 kV sources at 1.04 and 1.00 p.u., two feeders from each, four ties, and two
generators holding 1.02 and 1.03 p.u. (q free, pandapower's default) on buses that either
source may feed. Truth: every radial topology (every bus fed by one source) through
``pp.runpp``, with the voltage limits 0.9-1.1 p.u. and the lines' ratings checked (the
generators' reactive power overloads lines or voltages in all but 40 of the 634). The bound
must be pandapower's best and its leaf that topology; and the tree must beat the enumeration
by far: with the path levels of both buses, fewer relaxations than a tenth of the radial
topologies. Branching on one PV bus's paths only (the previous code) kept the other bus
decoupled from its source through fractional switches in the relaxations and needed 189
relaxations (30 % of the 634 topologies) for the same proof; with both levels, 17.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.algorithms.probing import (
    ConicRelaxation,
    _branching_pv_buses,
    loop_branch_bound,
    source_paths,
)
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.api import prepare
from feederopt.problems.reconfiguration import RadialityModel
from netbuild import pandapower_radial_line_sets
from test_loop_bound import single_open_bounds  # one copy of the single-switch bounds

pp = pytest.importorskip("pandapower")

CABLE = "NA2XS2Y 1x95 RM/25 12/20 kV"
LINES = (("A", "a1", 2.0), ("a1", "a2", 1.5), ("a2", "a3", 1.5), ("a3", "a4", 1.0),
         ("A", "c1", 1.5), ("c1", "c2", 1.5), ("c2", "c3", 1.0),
         ("B", "b1", 2.0), ("b1", "b2", 1.5), ("b2", "b3", 1.5), ("b3", "b4", 1.0),
         ("B", "d1", 1.5), ("d1", "d2", 1.5), ("d2", "d3", 1.0),
         # ties
         ("a4", "b4", 1.0), ("c3", "d3", 1.2), ("a2", "c2", 1.0), ("c1", "b1", 2.5))
LOADS_MW = {"a1": 0.5, "a2": 0.4, "a3": 0.3, "a4": 0.3, "c1": 0.4, "c2": 0.3, "c3": 0.3,
            "b1": 0.5, "b2": 0.4, "b3": 0.3, "b4": 0.3, "d1": 0.4, "d2": 0.3, "d3": 0.3}


def two_sources_two_pv() -> Any:
    net = pp.create_empty_network(name="two_sources_two_pv")
    bus = {name: pp.create_bus(net, 20, name=name) for name in ("A", "B", *LOADS_MW)}
    pp.create_ext_grid(net, bus["A"], vm_pu=1.04)
    pp.create_ext_grid(net, bus["B"], vm_pu=1.00)
    for u, v, km in LINES:
        line = pp.create_line(net, bus[u], bus[v], km, CABLE, name=f"{u}-{v}")
        pp.create_switch(net, bus[u], line, et="l", closed=True)
    for name, p in LOADS_MW.items():
        pp.create_load(net, bus[name], p_mw=p, q_mvar=0.3 * p)
    pp.create_gen(net, bus["a3"], p_mw=1.0, vm_pu=1.02, name="G_a3")
    pp.create_gen(net, bus["d2"], p_mw=0.6, vm_pu=1.03, name="G_d2")
    return net


def radial_topologies(net: Any) -> list[tuple[tuple[int, ...], float, bool]]:
    """Every radial topology (the sources merged, every bus fed): its opened lines,
    pandapower's line losses [kW] and whether it keeps the voltages within 0.9-1.1 p.u. and
    every line within its rating."""
    out = []
    # Speed (53 ms -> ~17 ms per topology, the same Newton-Raphson from the same start): one
    # copy, its switches set per topology (a deepcopy each took 11 ms); numba=False (numba is
    # not installed here: pandapower runs the same code and warns on each call otherwise);
    # and the start runpp's init "auto" computes with six DataFrame queries per call (a third
    # of its time), given once: every in-service source's and generator's set-point averaged,
    # angles flat (20 kV, no voltage angles). Never the previous results, so earlier topologies
    # do not leak into later ones.
    case = copy.deepcopy(net)
    vm0 = float(np.mean([*net.ext_grid.vm_pu[net.ext_grid.in_service],
                         *net.gen.vm_pu[net.gen.in_service]]))
    for opened in pandapower_radial_line_sets(net):
        case.switch["closed"] = ~case.switch.element.isin(opened)
        pp.runpp(case, numba=False, init_vm_pu=vm0, init_va_degree="flat")
        ok = bool(case.res_bus.vm_pu.between(0.9, 1.1).all()
                  and (case.res_line.loading_percent <= 100.0).all())
        out.append((tuple(int(k) for k in opened), 1000.0 * float(case.res_line.pl_mw.sum()), ok))
    return out


def test_loop_branch_bound_on_two_pv_buses_proves_the_brute_force_optimum() -> None:
    net = two_sources_two_pv()
    topologies = radial_topologies(net)
    assert len(topologies) > 600  # the enumeration is the truth, and the yardstick
    best, best_open, ok = min((loss, opened, ok) for opened, loss, ok in topologies)
    # The least losses overall are within the limits (most topologies are not: 40 of 634), so
    # the optimum does not hinge on how the limits are modelled.
    assert ok
    problem = prepare(feederopt.load(net), RadialityModel.PARENT_CHILD).problem
    pu = problem.pu
    m = pu.n_branch
    pv = _branching_pv_buses(pu)
    assert len(pv) == 2 and all(len(source_paths(pu, b, 200) or []) >= 4 for b in pv)
    model = ConicRelaxation(problem)
    open_bound = single_open_bounds(model, problem)
    bound, solves, y = loop_branch_bound(model, problem, open_bound, np.zeros(m), best * 1.05,
                                         0.0, time.perf_counter() + 300.0, pv_buses=pv)
    # Exact: pandapower's best radial topology within the limits, and its topology.
    assert bound == pytest.approx(best, rel=1e-4)
    assert y is not None
    opened = {pu.branch_ids[k] for k in np.flatnonzero(y < 0.5)}
    assert opened == {f"line:{k}" for k in best_open}
    ev = TopologyEvaluator(problem)
    assert ev.evaluate(y, need_gradient=False).objective == pytest.approx(best, rel=1e-4)
    # Far better than the enumeration: both buses' path levels keep them coupled.
    assert solves < len(topologies) / 10
