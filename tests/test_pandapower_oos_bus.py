"""Out-of-service buses as pandapower's power flow takes them: a line from an in-service bus to
an out-of-service one stays charged from its in-service end (pandapower moves the other end to a
fictitious bus, ``build_branch._branches_with_oos_buses``), a three-winding transformer keeps
its windings to in-service buses, a two-winding transformer at such a bus is out. The model's
base case is compared with ``pp.runpp`` on the same net (user test ut_ppgrid #1: lines 9 and
10 to the out-of-service bus 10 were dropped, 52.227 kW against pandapower's 51.974 kW)."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.io import from_pandapower
from test_pandapower_fidelity import (
    LOSSES_REL,
    VOLTAGE_ABS,
    _model_base_case,
    _pp_losses_kw,
    _pp_vm,
    _runpp,
)

CABLE = "NA2XS2Y 1x240 RM/25 12/20 kV"


def feeder_with_oos_bus(switch_at_live_end: bool | None = None):
    """A 110/20 kV feeder 1-2-3-4 with a three-winding transformer at bus 2 feeding bus 7;
    bus 5 is out of service, joined to buses 3 and 4 by long cables (5 and 8 km, with
    conductance) and to bus 2 by the three-winding transformer's lv winding; bus 6 (0.4 kV)
    is out of service too, fed from bus 4 by a two-winding transformer with iron losses. With
    ``switch_at_live_end`` the 8 km cable has a switch at bus 4, closed or open."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, v) for v in (110, 20, 20, 20, 20, 20, 0.4, 10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    pp.create_transformer(net, b[0], b[1], "25 MVA 110/20 kV")
    for x, y in ((1, 2), (2, 3), (3, 4)):
        pp.create_line(net, b[x], b[y], 3.0, CABLE)
    c35 = pp.create_line(net, b[3], b[5], 5.0, CABLE)
    c45 = pp.create_line(net, b[4], b[5], 8.0, CABLE)
    net.line.loc[[c35, c45], "g_us_per_km"] = 2.0
    if switch_at_live_end is not None:
        pp.create_switch(net, b[4], c45, "l", closed=switch_at_live_end)
    pp.create_transformer(net, b[4], b[6], "0.4 MVA 20/0.4 kV")
    pp.create_transformer3w_from_parameters(
        net, b[2], b[7], b[5], vn_hv_kv=20, vn_mv_kv=10, vn_lv_kv=20, sn_hv_mva=10,
        sn_mv_mva=8, sn_lv_mva=4, vk_hv_percent=8, vk_mv_percent=6, vk_lv_percent=7,
        vkr_hv_percent=0.4, vkr_mv_percent=0.3, vkr_lv_percent=0.35, pfe_kw=12,
        i0_percent=0.1)
    for bus, p, q in ((2, 3.0, 1.0), (3, 2.0, 0.6), (4, 1.5, 0.5), (7, 2.5, 0.8), (5, 1.0, 0.2)):
        pp.create_load(net, b[bus], p, q)
    net.bus.loc[[b[5], b[6]], "in_service"] = False
    return net


@pytest.mark.parametrize("switch_at_live_end", [None, True, False])
def test_base_case_with_an_out_of_service_bus_matches_runpp(switch_at_live_end):
    net = feeder_with_oos_bus(switch_at_live_end)
    _runpp(net)
    network, _, losses_kw, vm, buses = _model_base_case(net)
    assert losses_kw == pytest.approx(_pp_losses_kw(net), rel=LOSSES_REL)
    np.testing.assert_allclose(vm, _pp_vm(net, buses), atol=VOLTAGE_ABS)
    # the voltages are exact, not merely within the tolerance: the cables' charging is there
    real = [k for k, bus in enumerate(buses) if isinstance(bus, int)]
    np.testing.assert_allclose(vm[real], net.res_bus.vm_pu.reindex(
        [buses[k] for k in real]).to_numpy(), atol=1e-9)
    charged = set(network.shunts.filter(network.shunts["pp_element"] == "line")["id"])
    assert charged == ({"line:3", "line:4"} if switch_at_live_end is not False else {"line:3"})
    note = next(w for w in network.meta["warnings"] if "out-of-service bus" in w)
    assert "(5, 6)" in note and "line:3" in note and "trafo3w:0:lv" in note


def test_dropping_the_lines_to_the_oos_bus_would_fail_the_test():
    """Without the charged cables (both out of service in pandapower) the voltages differ by
    more than the test's tolerance: the test above can fail."""
    net = feeder_with_oos_bus()
    _runpp(net)
    ref = net.res_bus.vm_pu.copy()
    net.line.loc[[3, 4], "in_service"] = False
    _runpp(net)
    assert float(np.nanmax(np.abs(net.res_bus.vm_pu - ref))) > 1e-3


def test_ac_check_and_solve_keep_the_users_net():
    """The AC check is pandapower's power flow of the user's net (the charged cables are
    not written into it) and a solve's result writes back without changing them."""
    net = feeder_with_oos_bus(switch_at_live_end=True)
    _runpp(net)
    ac = feederopt.ac_power_flow(from_pandapower(feeder_with_oos_bus(switch_at_live_end=True)))
    assert ac.losses_kw == pytest.approx(_pp_losses_kw(net), rel=1e-9)
    res = feederopt.solve(feeder_with_oos_bus(switch_at_live_end=True), time_limit=60)
    assert res.ac_check is not None and res.ac_check.converged
    out = res.to_pandapower(feeder_with_oos_bus(switch_at_live_end=True))
    assert bool(out.switch.at[0, "closed"]) and bool(out.line.at[4, "in_service"])
