"""In a backup-DG island each bus's generators and shunts are connected or not on their own
(user test ut_res, finding 2).

The old model had one energisation ``e`` per island: all its generators and shunts on, or all
off. A backup DG has Q in [0, Qmax] (it absorbs no vars), so an island capacitor whose Q the
served loads cannot absorb forced the island's PV and wind off too. Now a part fed from a
source keeps every element, and in a DG island each element bus chooses, separately for its
generators and its shunts (``formulations.resilience._fixed_terms``).
"""

from __future__ import annotations

import itertools

import pandapower as pp
import pytest

import feederopt
from feederopt.api_resilience import restore
from netbuild import planner_pandapower

LOAD_KW, LOAD_KVAR, PV_KW, CAP_KVAR, DG_KW = 1200.0, 200.0, 300.0, 1000.0, 1000.0


def small_island() -> pp.pandapowerNet:
    """Source bus 0 - line 0 (broken) - bus 1 (DG site) - line 1 - bus 2 with a load of
    1200 kW / 200 kvar, a 300-kW PV and a 1-Mvar capacitor."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    lt = "NA2XS2Y 1x185 RM/25 12/20 kV"
    pp.create_line(net, b[0], b[1], 1.0, lt)
    pp.create_line(net, b[1], b[2], 1.0, lt)
    pp.create_load(net, b[2], p_mw=LOAD_KW / 1e3, q_mvar=LOAD_KVAR / 1e3)
    pp.create_sgen(net, b[2], p_mw=PV_KW / 1e3, q_mvar=0.0)
    pp.create_shunt(net, b[2], q_mvar=-CAP_KVAR / 1e3, p_mw=0.0)
    return net


def brute_force_shed_kw() -> tuple[float, tuple[bool, bool]]:
    """Every on/off choice of the island's PV and capacitor, by hand (LinDistFlow, lossless).

    The island is one chain, so served P = the DG's P + the PV's, at most ``DG_KW + PV_KW``
    when the PV is on. Q: the DG and the line give no negative Q to bus 2, so the capacitor's
    ``Q = b U >= b v_min^2 = 810 kvar`` must be absorbed by the served load's Q, at most
    200 kvar: with the capacitor on no operation exists (not even shedding everything, which
    leaves nothing to absorb it). Shedding share ``s`` of the load: P served ``(1 - s) 1200``
    <= DG + PV, Q served ``(1 - s) 200 >= 0`` from the DG. Returns the least shed and its
    choice (PV on, capacitor on)."""
    best: tuple[float, tuple[bool, bool]] = (float("inf"), (False, False))
    for pv_on, cap_on in itertools.product((True, False), repeat=2):
        if cap_on and CAP_KVAR * 0.9 ** 2 > LOAD_KVAR:
            continue  # infeasible: the surplus Q has nowhere to go
        shed = max(0.0, LOAD_KW - DG_KW - (PV_KW if pv_on else 0.0))
        if shed < best[0]:  # ties: the first, PV on
            best = (shed, (pv_on, cap_on))
    return best


def test_small_island_keeps_its_pv_and_drops_its_capacitor() -> None:
    shed, (pv_on, cap_on) = brute_force_shed_kw()
    assert (shed, pv_on, cap_on) == (0.0, True, False)  # the brute force's answer
    r = restore(feederopt.load(small_island()), ["line:0"], dg_sites=["1"], dg_p_max_kw=DG_KW)
    assert r.shed_kw == pytest.approx(shed, abs=1e-6)
    op = r.operation
    assert op.island_generators_off == []  # the PV stays: at equal shed, connected
    assert op.island_shunts_off == ["2"]
    assert op.dg_output_kw["1"] == pytest.approx(LOAD_KW - PV_KW, abs=1e-6)
    assert any("disconnects the shunts at bus 2" in n for n in r.notes)


def test_planner_net_dg_at_a6_sheds_as_without_the_capacitor() -> None:
    """ut_res's case: LA1 and LB1 broken, a 1500-kW DG at A6 (bus 7). With the capacitor
    the old model shed 8,850 kW (PV and wind off with it); the reference is the same net with
    the capacitor removed (no shunt: nothing to disconnect)."""
    broken, sites = ["line:0", "line:6"], ["7"]
    ref = restore(feederopt.load(planner_pandapower(capacitor=False)), broken,
                  dg_sites=sites, dg_p_max_kw=1500, ac_check=False)
    r = restore(feederopt.load(planner_pandapower()), broken, dg_sites=sites,
                dg_p_max_kw=1500, ac_check=False)
    assert ref.shed_kw == pytest.approx(7450.0, abs=1e-6)  # ut_res's table
    assert r.shed_kw == pytest.approx(ref.shed_kw, abs=1e-6)
    assert r.operation.island_shunts_off == ["6"]
    assert r.operation.island_generators_off == []  # PV (12) and wind (7) stay


def test_source_fed_part_keeps_every_element() -> None:
    """Fed from the source nothing may be disconnected, even where dropping an element would
    not change the shed: with only the normally open tie T36 broken, feeder A's head flow is
    (lossless LinDistFlow, by hand) its loads less the wind, P = 5.1 - 0.4 MW, and
    Q = 6 x 0.2 Mvar less the capacitor's ``b U_A5`` with b = 1 Mvar at 1 p.u."""
    r = restore(feederopt.load(planner_pandapower()), ["line:12"], ac_check=False)
    op = r.operation
    assert r.shed_kw == pytest.approx(0.0, abs=1e-6)
    assert op.island_generators_off == [] and op.island_shunts_off == []
    assert op.flows_kw["line:0"] == pytest.approx(5100.0 - 400.0, abs=1e-3)
    u_a5 = op.voltage_pu["6"] ** 2
    assert op.flows_kvar["line:0"] == pytest.approx(1200.0 - 1000.0 * u_a5, abs=1e-2)
