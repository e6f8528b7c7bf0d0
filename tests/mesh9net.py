"""The 9-bus meshed feeder of user test ut49_robust (``mesh9.json``, built by its
``mknet.py``): 9 buses at 12.66 kV, 12 lines (0-7 in service, the grid's own radial
topology; 8-11 open ties), 8 loads at power factor 0.93 (q = 0.4 p) and 1 MW of PV at bus 4.
"""

from __future__ import annotations

from typing import Any

#: (from bus, to bus, length km) per line; lines 0-7 are in service.
MESH9_LINES = [(0, 1, 1.0), (1, 2, 1.2), (2, 3, 1.0), (3, 4, 1.5), (1, 5, 1.0), (5, 6, 1.2),
               (6, 7, 1.0), (7, 8, 1.3), (4, 8, 1.5), (2, 6, 1.0), (3, 7, 1.2), (0, 5, 2.5)]
#: Active load [MW] per bus (pandapower load k sits at bus k + 1).
MESH9_LOADS = {1: 0.3, 2: 0.5, 3: 0.4, 4: 0.6, 5: 0.3, 6: 0.5, 7: 0.4, 8: 0.6}


def mesh9_pandapower() -> Any:
    """A fresh pandapower net of mesh9."""
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=12.66, name=f"B{i}") for i in range(9)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k, (f, t, length) in enumerate(MESH9_LINES):
        pp.create_line_from_parameters(net, b[f], b[t], length, r_ohm_per_km=0.35,
                                       x_ohm_per_km=0.30, c_nf_per_km=0, max_i_ka=0.20,
                                       in_service=(k < 8))
    for i, p in MESH9_LOADS.items():
        pp.create_load(net, b[i], p_mw=p, q_mvar=0.4 * p)
    pp.create_sgen(net, b[4], p_mw=1.0, q_mvar=0.0)
    return net
