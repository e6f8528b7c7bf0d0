"""Generators without q limits next to low-impedance lines on a large load: the slaves' SOCP
must not carry the huge bounds that Ohm's law gives their q (user test ut36_real #1).

pandapower's ``example_multivoltage`` (244 MW of load, a 100 MW gen and two xwards holding
their voltage with unlimited q, 110 kV lines of 5e-4 p.u. on the 1 MVA base) ended every run
with "the phase-1 slave failed (unbounded)", exit code 1: the q range of each unlimited
generator (what Ohm's law lets leave its bus, 38 000 p.u.) made the big-M bounds of Q and l
67 607 and 6.3e9 p.u., and as variable bounds they were entries of Clarabel's right-hand side
(:func:`feederopt.formulations.distflow.fixed_topology_form`).

The grid here is a small copy of that situation: six 110 kV buses in a ring of short lines
(0.05 + j0.12 Ohm, 4e-6 + j1e-5 p.u.), 230 MW of load, a 100 MW gen and an xward holding
their voltage with unlimited q. Before the fix Benders called a topology "optimal" whose
SOCP losses were 1397 kW against 162 kW in pandapower (the slaves' answers were noise); the
truth here is pandapower's Newton-Raphson power flow of each of its 11 radial topologies.
"""

from __future__ import annotations

import copy
import itertools

import networkx as nx
import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.api import prepare
from feederopt.problems.reconfiguration import RadialityModel

#: The ring's lines (from bus, to bus); line 0 feeds it from the external grid and has no
#: switch, the others have one each.
RING = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 1), (2, 5), (5, 3)]


def ring_net() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=110.0, name=f"b{i}") for i in range(6)]
    pp.create_ext_grid(net, b[0], vm_pu=1.03)
    for k, (f, t) in enumerate(RING):
        line = pp.create_line_from_parameters(net, b[f], b[t], length_km=1.0,
                                              r_ohm_per_km=0.05, x_ohm_per_km=0.12,
                                              c_nf_per_km=0.0, max_i_ka=10.0)
        if k:
            pp.create_switch(net, b[f], line, et="l", closed=True)
    pp.create_gen(net, b[3], p_mw=100.0, vm_pu=1.03)  # no q limits
    pp.create_xward(net, b[4], ps_mw=20.0, qs_mvar=-10.0, pz_mw=2.0, qz_mvar=0.0,
                    r_ohm=0.0, x_ohm=12.0, vm_pu=1.025)
    for i, p in ((1, 60.0), (2, 80.0), (4, 50.0), (5, 40.0)):
        pp.create_load(net, b[i], p_mw=p, q_mvar=0.2 * p)
    return net


def radial_topologies() -> dict[tuple[int, ...], float]:
    """Open lines -> pandapower's losses [kW], for every radial topology (two lines open)."""
    base = ring_net()
    out = {}
    for opened in itertools.combinations(range(1, len(RING)), 2):
        closed = [RING[k] for k in range(len(RING)) if k not in opened]
        if not nx.is_tree(nx.Graph(closed)) or len(nx.Graph(closed)) != 6:
            continue
        net = copy.deepcopy(base)
        net.switch.loc[net.switch.element.isin(opened), "closed"] = False
        pp.runpp(net)
        out[opened] = 1000.0 * float(net.res_line.pl_mw.sum())
    return out


@pytest.fixture(scope="module")
def truth() -> dict[tuple[int, ...], float]:
    return radial_topologies()


def test_the_slave_gives_pandapowers_losses_on_every_radial_topology(
        truth: dict[tuple[int, ...], float]) -> None:
    assert len(truth) == 11
    # without the ratings (as --no-thermal-limits): a 10 kA rating would cap the big-M values
    net = feederopt.load(ring_net()).with_limits(thermal_limits=False)
    problem = prepare(net, RadialityModel.PARENT_CHILD).problem
    ids = problem.pu.branch_ids
    ev = TopologyEvaluator(problem)
    for opened, losses_kw in truth.items():
        y = np.array([0.0 if b in {f"line:{k}" for k in opened} else 1.0 for b in ids])
        got = ev.evaluate(y, need_gradient=False)
        assert got.feasible, opened
        # the relaxation is exact here (no limit binds): pandapower's losses within 0.1 %
        assert got.objective == pytest.approx(losses_kw, rel=1e-3), opened


def test_benders_finds_the_brute_force_optimum(truth: dict[tuple[int, ...], float]) -> None:
    best = min(truth, key=lambda k: truth[k])
    res = feederopt.solve(ring_net(), v_min=0.5, v_max=1.5, thermal_limits=False,
                          time_limit=60)
    assert res.status == "optimal"
    assert {b["id"] for b in res.open_branches} == {f"line:{k}" for k in best}
    assert res.ac_check is not None
    assert res.ac_check.losses_kw == pytest.approx(truth[best], rel=1e-6)
    assert res.losses_kw == pytest.approx(truth[best], rel=1e-4)
