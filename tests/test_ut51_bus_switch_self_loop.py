"""A bus-bus switch whose ``element`` is its own ``bus`` joins nothing: the user meant another
bus, and the grid behind it was left unsupplied without a word (user test ut51_recheck #5).
Reading the net warns, naming the switch. The truth that it connects nothing: pandapower's own
power flow leaves the buses behind it unsupplied (NaN voltage); they carry no load, so the
net is no bad input, only a warned one."""

from __future__ import annotations

import math
import re

import pandapower as pp

import feederopt


def _net(element_of_switch: int) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b0, b1, b2 = (pp.create_bus(net, vn_kv=20.0) for _ in range(3))
    pp.create_ext_grid(net, b0)
    pp.create_line_from_parameters(net, b0, b1, 1.0, r_ohm_per_km=0.2, x_ohm_per_km=0.3,
                                   c_nf_per_km=0.0, max_i_ka=0.3)
    pp.create_switch(net, b1, element_of_switch, et="b", closed=True)
    pp.create_load(net, b1, p_mw=0.5, q_mvar=0.1)
    pp.create_bus(net, vn_kv=20.0)  # bus 3, fed from bus 2
    pp.create_line_from_parameters(net, b2, 3, 1.0, r_ohm_per_km=0.2, x_ohm_per_km=0.3,
                                   c_nf_per_km=0.0, max_i_ka=0.3)
    return net


def test_a_bus_switch_to_itself_is_warned_and_connects_nothing() -> None:
    net = _net(1)
    pp.runpp(net, numba=False)
    assert math.isnan(float(net.res_bus.vm_pu.at[2]))  # pandapower: bus 2 is not supplied
    notes = feederopt.load(_net(1)).meta["warnings"]  # the reader's notes (console "note:")
    assert any(re.search(r"join a bus to itself.*\(switch 0:", n) for n in notes), notes


def test_a_bus_switch_between_two_buses_is_not_warned() -> None:
    net = _net(2)
    pp.runpp(net, numba=False)
    assert float(net.res_bus.vm_pu.at[2]) > 0.9
    assert not any("itself" in n for n in feederopt.load(_net(2)).meta["warnings"])
