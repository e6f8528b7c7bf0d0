"""Transformer OLTCs behind a circuit-breaker switch (user test ut40_dopfreal #3): pandapower's
CIGRE MV and the SimBench MV grids put a switch on every transformer, and the reader held such
an OLTC at ``tap_pos`` ("a switchable transformer's tap is not optimised": 143.340 kW on the
user's CIGRE net held closed, where the same net without the switches reached 138.602 kW at
tap -1 on both trafos).

References: pandapower's Newton-Raphson power flow (``pp.runpp``) at the returned setting, and
on a small grid of two switched trafos and a tie, every radial topology at every pair of tap
positions (brute force).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower


def _losses_kw(net: pp.pandapowerNet) -> float:
    return 1000.0 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def _taps(result: feederopt.Result) -> dict[str, int]:
    return {str(x["branch"]): int(x["tap_pos"]) for x in result.to_dict()["devices"]
            if x["kind"] == "oltc"}


def test_cigre_mv_held_closed_trafos_have_their_taps_optimised() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.create_cigre_network_mv(with_der="all")
    net.trafo[["tap_side", "tap_min", "tap_max", "tap_step_percent", "tap_pos", "tap_neutral",
               "tap_changer_type", "tap_step_degree"]] = ["hv", -9, 9, 1.5, 0, 0, "Ratio", 0.0]
    net.trafo["oltc"] = True
    assert set(net.switch.et) >= {"t"}  # the trafos sit behind CB switches
    net.bus["min_vm_pu"], net.bus["max_vm_pu"] = 0.97, 1.03
    result = feederopt.solve(from_pandapower(net), hold_closed=["trafo:0", "trafo:1"])
    d = result.to_dict()
    assert d["status"] == "optimal"
    taps = _taps(result)
    assert set(taps) == {"trafo:0", "trafo:1"}  # optimised, not held at tap_pos
    assert taps != {"trafo:0": 0, "trafo:1": 0}
    # pandapower at the returned topology and taps
    closed = dict(zip(result.branches["id"], result.branches["closed"], strict=True))
    # (a branch keeps its switches where its state does not change: an open line switch
    # leaves the line's charging on its energised end)
    for (et, element), sws in net.switch.groupby(["et", "element"]):
        key = {"l": f"line:{element}", "t": f"trafo:{element}"}[str(et)]
        if bool(sws.closed.all()) != bool(closed[key]):
            net.switch.loc[sws.index if closed[key] else sws.index[:1], "closed"] = bool(
                closed[key])
    for b, pos in taps.items():
        net.trafo.at[int(b.split(":")[1]), "tap_pos"] = pos
    pp.runpp(net)
    assert d["costs"]["losses_kw"] == pytest.approx(_losses_kw(net), rel=1e-4)
    assert net.res_bus.vm_pu.min() >= 0.97 - 1e-4 and net.res_bus.vm_pu.max() <= 1.03 + 1e-4


def _two_trafo_grid() -> pp.pandapowerNet:
    """A 110 kV source, two 110/20 kV trafos behind CB switches, each feeding a 20 kV
    feeder of three buses, the feeders' ends joined by a tie line with a switch."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    buses = []
    for k in range(2):
        mv = pp.create_bus(net, 20.0)
        tr = pp.create_transformer_from_parameters(
            net, hv, mv, sn_mva=10.0, vn_hv_kv=110.0, vn_lv_kv=20.0, vk_percent=10.0,
            vkr_percent=0.5, pfe_kw=5.0, i0_percent=0.1, tap_side="hv", tap_min=-3,
            tap_max=3, tap_step_percent=1.5, tap_pos=0, tap_neutral=0,
            tap_changer_type="Ratio")
        pp.create_switch(net, hv, tr, "t", closed=True)
        prev = mv
        feeder = []
        for j in range(3):
            b = pp.create_bus(net, 20.0)
            pp.create_line_from_parameters(net, prev, b, 2.0 + j, 0.25, 0.35, 10.0, 0.4)
            pp.create_load(net, b, p_mw=1.2 + 0.4 * k, q_mvar=0.5)
            feeder.append(b)
            prev = b
        buses.append(feeder)
    tie = pp.create_line_from_parameters(net, buses[0][-1], buses[1][-1], 3.0, 0.25, 0.35,
                                         10.0, 0.4)
    pp.create_switch(net, buses[0][-1], tie, "l", closed=False)
    net.trafo["oltc"] = True
    net.bus["min_vm_pu"], net.bus["max_vm_pu"] = 0.95, 1.05
    return net


def test_switchable_trafo_taps_match_brute_force() -> None:
    net = _two_trafo_grid()
    result = feederopt.solve(from_pandapower(net))
    d = result.to_dict()
    assert d["status"] == "optimal"
    best = np.inf
    sw = list(net.switch.index)
    for opened in sw:  # a radial topology opens exactly one of the three switches
        for p0, p1 in itertools.product(range(-3, 4), repeat=2):
            for i in sw:
                net.switch.at[i, "closed"] = i != opened
            net.trafo.at[0, "tap_pos"], net.trafo.at[1, "tap_pos"] = p0, p1
            pp.runpp(net)
            vm = net.res_bus.vm_pu[net.bus.vn_kv < 100].to_numpy()
            if np.all(vm >= 0.95 - 1e-9) and np.all(vm <= 1.05 + 1e-9):
                best = min(best, _losses_kw(net))
    assert np.isfinite(best)
    assert d["losses_kw"] == pytest.approx(best, rel=1e-4)
    assert set(_taps(result)) == {"trafo:0", "trafo:1"}
