"""Line ratings in the restoration model are limits on |S|, not the seed's box alone.

User test ut_res F6 #1: the seed's box ``|P|, |Q| <= Pbar v`` (5d) let an "optimal"
restoration carry |S| = 740 kVA on a 657.8 kVA line. With the inscribed polygon (5d') every
flow of the model has ``sqrt(P^2 + Q^2) <= Pbar``.

The truth here is independent of feederopt: a brute force over the spanning trees of a small
meshed net built with pandapower, each tree an LP of its own (scipy's linprog) with the
rating as |S| <= S_max. Every load has Q = P, so every lossless flow has Q = P and the circle
is exactly ``|P| <= S_max / sqrt(2)`` (a linear bound: the brute force needs no polygon), and
the direction of 45 degrees is a vertex of the 16-gon, so the model's optimum must equal the
circle's. Under the box alone the net sheds less (checked below), so the test tells them apart.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pandapower as pp
import pytest
from scipy.optimize import linprog

from feederopt.api_resilience import restore

VN_KV = 10.0
# (from, to, rating kVA); line 5 (0-3) is the broken one
LINES = [(0, 1, 1000.0), (0, 2, 400.0), (1, 2, 300.0), (2, 3, 1000.0), (1, 3, 200.0),
         (0, 3, 1000.0)]
LOADS_KW = {1: 300.0, 2: 200.0, 3: 250.0}  # Q = P at every load
BROKEN = 5


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    for i in range(4):
        pp.create_bus(net, vn_kv=VN_KV, min_vm_pu=0.9, max_vm_pu=1.1, index=i)
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    for k, (f, t, kva) in enumerate(LINES):
        pp.create_line_from_parameters(
            net, f, t, 0.1, r_ohm_per_km=0.1, x_ohm_per_km=0.1, c_nf_per_km=0.0,
            max_i_ka=kva / 1000.0 / (math.sqrt(3) * VN_KV), index=k)
        pp.create_switch(net, f, k, et="l", closed=True)
    for b, p in LOADS_KW.items():
        pp.create_load(net, b, p_mw=p / 1000.0, q_mvar=p / 1000.0, index=b)
    return net


def _brute_force(factor: float) -> float:
    """The least shed kW over every spanning tree of the working lines, each an LP with
    ``|P_l| <= factor * rating_l`` (Q = P on every line; the voltages are checked apart)."""
    working = [k for k in range(len(LINES)) if k != BROKEN]
    buses = [0, 1, 2, 3]
    best = math.inf
    for tree in itertools.combinations(working, len(buses) - 1):
        g = nx.Graph()
        g.add_nodes_from(buses)
        g.add_edges_from((LINES[k][0], LINES[k][1], {"k": k}) for k in tree)
        if not nx.is_tree(g):
            continue
        # served kW per load bus x_b in [0, P_b]; the flow on a tree line is the served load
        # below it (lossless); maximise served load = minimise shed
        parent = nx.bfs_tree(g, 0)
        load_b = [1, 2, 3]
        a_ub, b_ub = [], []
        for k in tree:
            f, t, kva = LINES[k]
            child = t if parent.has_edge(f, t) else f
            below = nx.descendants(parent, child) | {child}
            row = [1.0 if b in below else 0.0 for b in load_b]
            a_ub.append(row)
            b_ub.append(factor * kva)
        res = linprog(-np.ones(3), A_ub=a_ub, b_ub=b_ub,
                      bounds=[(0, LOADS_KW[b]) for b in load_b], method="highs")
        assert res.status == 0
        best = min(best, sum(LOADS_KW.values()) + float(res.fun))
    return best


def test_model_flows_within_the_rating_circle_and_equal_the_brute_force() -> None:
    r = restore(_net(), [f"line:{BROKEN}"], ac_check=False)
    op = r.operation
    for line, p in op.flows_kw.items():
        s = math.hypot(p, op.flows_kvar[line])
        kva = LINES[int(line.split(":")[1])][2]
        assert s <= kva * (1 + 1e-6) + 1e-6, (line, s, kva)
    truth = _brute_force(1.0 / math.sqrt(2.0))
    box = _brute_force(1.0)
    assert box < truth - 50.0  # the box alone sheds less: the test tells them apart
    assert r.shed_kw == pytest.approx(truth, abs=1e-3)


def test_hand_value_one_line() -> None:
    """One line of 500 kVA feeding 400 kW + 400 kvar: |S| = 565.7 kVA, so the model sheds
    400 (1 - 500 / 565.69) = 46.447 kW (the box |P|, |Q| <= 500 would shed nothing)."""
    net = pp.create_empty_network(sn_mva=1.0)
    for i in range(3):
        pp.create_bus(net, vn_kv=VN_KV, min_vm_pu=0.9, max_vm_pu=1.1, index=i)
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    for k, (f, t) in enumerate(((0, 1), (0, 2), (2, 1))):
        pp.create_line_from_parameters(
            net, f, t, 0.1, r_ohm_per_km=0.1, x_ohm_per_km=0.1, c_nf_per_km=0.0,
            max_i_ka=0.5 / (math.sqrt(3) * VN_KV), index=k)
        pp.create_switch(net, f, k, et="l", closed=True)
    pp.create_load(net, 1, p_mw=0.4, q_mvar=0.4, index=0)
    r = restore(net, ["line:1"], ac_check=False)
    assert r.shed_kw == pytest.approx(400.0 * (1.0 - 500.0 / (400.0 * math.sqrt(2.0))),
                                      abs=1e-3)


def test_ac_warning_names_the_models_own_overload() -> None:
    """The AC warning's cause: the model's own |S| over a rating is named as such (not put
    down to the lossless LinDistFlow); with none, the model's approximations are."""
    from feederopt.validation.restoration import RestorationAcCheck

    base = dict(converged=True, losses_kw=1.0, min_voltage_pu=0.95, max_voltage_pu=1.0,
                model_min_voltage_pu=0.95, model_max_voltage_pu=1.0, max_voltage_diff_pu=0.0,
                limits_hold=False, overloaded_lines=["line:15"])
    own = RestorationAcCheck(**base, model_overloaded_lines=["line:15"])  # type: ignore[arg-type]
    assert "model's own flows exceed the rating" in own.cause and "line:15" in own.cause
    assert "lossless" not in own.cause
    assert own.to_dict()["model_overloaded_lines"] == ["line:15"]
    ac = RestorationAcCheck(**base)  # type: ignore[arg-type]
    assert "lossless" in ac.cause
