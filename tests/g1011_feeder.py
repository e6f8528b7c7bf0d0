"""g1011 of user test ut34_fuzz: a nine-bus 10 kV pandapower feeder with 1.61 MW of PV at bus
3 and every bus banded 0.9..0.9978 p.u., whose SOCP relaxation is far from exact (the model
holds the band by losses no power flow has): the AC check finds the band broken (exit 4). Used
by test_ac_verdict_headline and test_gen_setpoint_band."""

from __future__ import annotations

from typing import Any

import pandapower as pp

#: g1011's lines: (from, to, km, r, x [Ohm/km], max_i_ka, in service); the out-of-service ones
#: are the ties (no switch in the net: feederopt's "auto" tie rule).
LINES = [
    (0, 1, 0.629428539725212, 0.532271833635721, 0.625069570461568, 0.6, True),
    (0, 2, 0.232551242633727, 0.745175511920577, 0.18052882833465, 0.6, True),
    (0, 3, 1.916540072539887, 0.409262338381118, 0.663860260550108, 0.6, True),
    (2, 4, 0.356363181753088, 0.50309216992475, 0.683754605769618, 0.6, True),
    (1, 5, 0.653659760513805, 0.371367308469562, 0.292130190207056, 0.6, True),
    (3, 6, 1.440398003968223, 0.150377698365561, 0.330008411237228, 0.03805, True),
    (3, 7, 2.491584526180271, 0.992277225717661, 0.900595678550977, 0.6, True),
    (5, 8, 1.457831826829499, 0.520273745199406, 0.758851838933493, 0.6, True),
    (2, 8, 1.833229372593391, 0.592484086857001, 0.204164007080674, 0.6, False),
    (0, 7, 0.224601733892099, 0.862314863652551, 0.075926336883416, 0.6, False),
    (5, 6, 1.437717038771791, 0.426229491168328, 0.771049137966352, 0.6, False),
]
LOADS = [(2, 0.043454191135322, 0.0232216454181), (3, 0.210821999475911, 0.035833472932949),
         (4, 0.078885539671476, 0.032356704756543), (6, 0.328079979532678, 0.119206347338933),
         (7, 0.243069280748153, 0.003375607988554), (8, 0.323146351052018, 0.24150014976499)]


def g1011() -> Any:
    """The net: the ext_grid at bus 0 holds 1.0 p.u. (above the band: its set-point)."""
    net = pp.create_empty_network(sn_mva=1.0)
    for i in range(9):
        pp.create_bus(net, 10.0, name=f"b{i}", min_vm_pu=0.9, max_vm_pu=0.9978)
    pp.create_ext_grid(net, 0, vm_pu=1.0)
    for f, t, km, r, x, i_max, on in LINES:
        pp.create_line_from_parameters(net, f, t, km, r, x, 0.0, i_max, in_service=on)
    for bus, p, q in LOADS:
        pp.create_load(net, bus, p_mw=p, q_mvar=q)
    pp.create_sgen(net, 3, p_mw=1.607393561711406, q_mvar=0.0)
    return net
