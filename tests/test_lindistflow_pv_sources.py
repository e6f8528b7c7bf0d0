"""LinDistFlow on a grid with three sources at different set-points and a PV generator (user
test ut32_multi netA, here with 3 of its 7 ties so that the brute force stays small).

The generator holds 1.01 p.u. at the end of a feeder fed from a 1.00 p.u. source: the
topology decides how much reactive power it must push against the active flow. The MILP's
loss proxy had tangents only along the load's power factor, so a reactive flow against the
active one cost almost nothing: on this grid its topology lost 486 kW against a base case of
125.5 kW and a brute-force optimum of 124.1 kW (netA: 214.5 kW, optimum 85.4 kW).

Truth: every radial forest with one source per tree, each run by pandapower's Newton-Raphson
(written here, independent of feederopt's topology code).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandapower as pp
import pytest

import feederopt
import feederopt.algorithms.monolithic as mono

BIG = "NA2XS2Y 1x185 RM/25 12/20 kV"
SMALL = "NA2XS2Y 1x95 RM/25 12/20 kV"


def _net() -> pp.pandapowerNet:
    """/tmp/ut32_multi/build.py's netA with the ties 12-17, 5-20 and 11-18 only."""
    net = pp.create_empty_network(sn_mva=1.0)
    for i in range(22):
        pp.create_bus(net, 20.0, name=f"b{i}", min_vm_pu=0.95, max_vm_pu=1.05)
    hv = pp.create_bus(net, 110.0, name="HV", min_vm_pu=0.95, max_vm_pu=1.05)
    pp.create_ext_grid(net, 0, vm_pu=1.00, name="EG0")
    pp.create_ext_grid(net, 1, vm_pu=1.02, name="EG1")
    pp.create_ext_grid(net, hv, vm_pu=1.04, name="EGHV")
    pp.create_transformer(net, hv, 2, "25 MVA 110/20 kV", name="T1")

    def line(u: int, v: int, km: float, sw: str | None = None, typ: str = BIG) -> None:
        li = pp.create_line(net, u, v, km, typ, name=f"L{u}-{v}")
        if sw is not None:
            pp.create_switch(net, u, li, et="l", closed=sw == "closed", name=f"S{u}-{v}")

    s, o = "closed", "open"
    line(0, 3, 2.0), line(3, 4, 2.5, s), line(4, 5, 2.0, s), line(5, 6, 3.0, s)
    line(4, 7, 2.0), line(7, 8, 3.0, s)
    line(1, 9, 2.0), line(9, 10, 2.0), line(10, 11, 3.0, s), line(11, 12, 2.5, s)
    line(10, 13, 3.0)
    line(2, 14, 1.5), line(14, 15, 2.5, s), line(15, 16, 2.0), line(16, 17, 3.0, s)
    line(15, 18, 2.0), line(18, 19, 3.0, s), line(16, 20, 2.5), line(20, 21, 3.0, s)
    line(12, 17, 3.5, o, SMALL), line(5, 20, 4.0, o, SMALL), line(11, 18, 3.0, o, SMALL)
    rng = np.random.default_rng(1)
    for b in range(3, 22):
        p = round(float(rng.uniform(0.3, 1.0)), 3)
        pp.create_load(net, b, p_mw=p, q_mvar=0.35 * p, name=f"ld{b}")
    pp.create_gen(net, 19, p_mw=1.0, vm_pu=1.01, name="G19")
    return net


def _ac_losses_kw(net: pp.pandapowerNet) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, calculate_voltage_angles=True)
    return 1000.0 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def _root(parent: list[int], a: int) -> int:
    while parent[a] != a:
        a = parent[a]
    return a


def _brute_force() -> tuple[float, frozenset[str], float]:
    """(best AC losses within the limits, its open lines, the base case's AC losses)."""
    net = _net()
    base = _ac_losses_kw(net)
    sw = {int(r.element): i for i, r in net.switch.iterrows()}
    edges = [(int(r.from_bus), int(r.to_bus), i) for i, r in net.line.iterrows()]
    edges.append((int(net.trafo.hv_bus[0]), int(net.trafo.lv_bus[0]), -1))
    sources = set(net.ext_grid.bus.astype(int))
    n_open = len(edges) - (len(net.bus) - len(sources))
    best, best_open = np.inf, frozenset()
    for opened in itertools.combinations(sorted(sw), n_open):
        parent = list(range(len(net.bus)))
        forest = True
        for u, v, li in edges:
            if li in opened:
                continue
            ru, rv = _root(parent, u), _root(parent, v)
            if ru == rv:
                forest = False
                break
            parent[ru] = rv
        if not forest or len({_root(parent, b) for b in sources}) != len(sources):
            continue
        for li, s in sw.items():
            net.switch.at[s, "closed"] = li not in opened
        loss = _ac_losses_kw(net)
        vm = net.res_bus.vm_pu
        if (vm.between(0.95 - 1e-6, 1.05 + 1e-6).all()
                and net.res_line.loading_percent.max() <= 100 and loss < best):
            best, best_open = loss, frozenset(f"line:{li}" for li in opened)
    return best, best_open, base


@pytest.fixture(scope="module")
def truth() -> tuple[float, frozenset[str], float]:
    return _brute_force()


def test_lindistflow_prices_the_generators_reactive_flow(truth) -> None:
    best, best_open, base = truth
    assert best < base - 1.0  # the grid can do better than its base case
    assert best_open == {"line:8", "line:19", "line:20"}
    r = feederopt.solve(_net(), method="lindistflow", time_limit=60)
    assert r.status.value == "feasible"
    # within 0.5 % of the brute-force optimum (it finds it: 124.108 kW, lines 8, 19, 20 open)
    assert r.ac_check is not None and r.ac_check.converged
    assert r.ac_check.losses_kw <= best * 1.005, (r.ac_check.losses_kw, best, base)
    assert "note" not in r.extra


def test_lindistflow_never_answers_worse_than_the_base_case(truth, monkeypatch) -> None:
    """The tangents along the load's power factor alone (the model before the ring of
    tangents) give a far worse topology: the base case is returned, with a note."""
    _, _, base = truth
    monkeypatch.setattr(mono, "RING_DIRECTIONS", 0)
    r = feederopt.solve(_net(), method="lindistflow", time_limit=60)
    assert r.status.value == "feasible"
    assert r.ac_check is not None
    assert r.ac_check.losses_kw == pytest.approx(base, rel=1e-6)
    assert {b["id"] for b in r.open_branches} == {"line:19", "line:20", "line:21"}
    note = str(r.extra.get("note"))
    assert "base case is kept" in note and "worse than the grid's own" in note, note
    assert f"{base:.3f} kW" in note
