"""ut39_mixed's resilience net ``res2.json`` (its ``mkres.py`` and ``mkres2.py``), built
here: a 10-bus 10 kV feeder, source bus 0 (an ext_grid) with a 500 kW load of its own
(``LD0src``, ``load:9``), lines 0-1-2-3-4, 0-5-6-7, 4-8, 7-9 with switches, normally open ties
3-7, 8-9, 2-6 (``line:9`` .. ``line:11``), the line 2-3 (``line:2``) without a switch, 3,100
kW of load in all, a 100 kW PV at bus 8."""

from __future__ import annotations

import pandapower as pp

#: Every load [MW] of the net, by bus (bus 0 is the source; bus 6 has two loads).
LOADS_MW = {1: 0.30, 2: 0.25, 3: 0.40, 4: 0.20, 5: 0.35, 6: 0.30 + 0.20, 7: 0.25, 8: 0.15,
            9: 0.20, 0: 0.50}


def res2() -> pp.pandapowerNet:
    """ut39_mixed's res2.json, built as its mkres.py and mkres2.py build it."""
    net = pp.create_empty_network(name="ut39res")
    b = [pp.create_bus(net, 10, name=f"N{i}", min_vm_pu=0.9, max_vm_pu=1.1) for i in range(10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (4, 8), (7, 9), (3, 7),
             (8, 9), (2, 6)]
    normally_open = {(3, 7), (8, 9), (2, 6)}
    for f, t in edges:
        line = pp.create_line_from_parameters(net, b[f], b[t], 1.0, 0.2, 0.2, 0, 0.4,
                                              name=f"L{f}-{t}")
        pp.create_switch(net, b[f], line, et="l", closed=(f, t) not in normally_open,
                         name=f"S{f}-{t}")
    for bus, p in {1: 0.30, 2: 0.25, 3: 0.40, 4: 0.20, 5: 0.35, 6: 0.30, 7: 0.25, 8: 0.15,
                   9: 0.20}.items():
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.2 * p, name=f"LD{bus}")
    net.load["priority"] = 1.0
    net.load.loc[net.load.bus == b[4], "priority"] = 5.0
    net.load["sheddable"] = True
    pp.create_sgen(net, b[8], p_mw=0.10, q_mvar=0.0, name="PV8")
    pp.create_load(net, 0, p_mw=0.5, q_mvar=0.1, name="LD0src", priority=1.0, sheddable=True)
    pp.create_load(net, 6, p_mw=0.2, q_mvar=0.04, name="LD6b", priority=3.0, sheddable=True)
    net.switch = net.switch[~((net.switch.et == "l") & (net.switch.element == 2))]
    return net
