"""A restoration's operation applied by hand to the user's pandapower net, for tests that check
our AC check against pandapower's own power flow (no feederopt code)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pandapower as pp


def operated(net: pp.pandapowerNet, r: Any) -> pp.pandapowerNet:
    """A copy of ``net`` with ``r``'s operation applied by hand: broken lines out of service
    (both ends), the other lines' switches as the model closes or opens the line (a line
    without a switch stays closed; an open tie stays charged from the end without a switch, as
    in the field), every load-like element (load, ward, xward) less its shed kW (P and Q
    alike). Not yet run."""
    own = copy.deepcopy(net)
    op = r.operation
    closed, broken = set(op.closed_lines), set(r.broken)
    for k in own.line.index:
        if f"line:{k}" in broken:
            own.line.at[k, "in_service"] = False
            continue
        at = (own.switch.et == "l") & (own.switch.element == k)
        own.switch.loc[at, "closed"] = f"line:{k}" in closed
        assert f"line:{k}" in closed or at.any()  # a line without a switch stays closed
    for table, p_col, q_col in (("load", "p_mw", "q_mvar"), ("ward", "ps_mw", "qs_mvar"),
                                ("xward", "ps_mw", "qs_mvar")):
        for k in own[table].index:
            shed = op.shed_per_load_kw.get(f"{table}:{k}", 0.0)
            keep = 1.0 - shed / (1e3 * float(own[table].at[k, p_col]))
            own[table].at[k, p_col] *= keep
            own[table].at[k, q_col] *= keep
    return own


def own9() -> pp.pandapowerNet:
    """The tester's 9-bus net (/tmp/ut35_resil/mknet.py): 10 kV, source at bus 0 (1.0 p.u.),
    feeders A (buses 1-4, lines 0-3) and B (buses 5-8, lines 4-7), normally open ties T1
    (line 8, 4-8) and T2 (line 9, 2-6), a 200-kW PV at bus 7, band 0.95-1.05 p.u."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=10.0, name=f"b{i}", min_vm_pu=0.95, max_vm_pu=1.05)
         for i in range(9)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    spec = [("A1", 0, 1, 2.0, 0.12), ("A2", 1, 2, 2.0, 0.1), ("A3", 2, 3, 2.0, 0.1),
            ("A4", 3, 4, 2.0, 0.1), ("B1", 0, 5, 2.0, 0.12), ("B2", 5, 6, 2.0, 0.1),
            ("B3", 6, 7, 2.0, 0.1), ("B4", 7, 8, 2.0, 0.1), ("T1", 4, 8, 3.0, 0.05),
            ("T2", 2, 6, 3.0, 0.05)]
    for name, f, t, length, imax in spec:
        line = pp.create_line_from_parameters(net, b[f], b[t], length, r_ohm_per_km=0.4,
                                              x_ohm_per_km=0.3, c_nf_per_km=0.0,
                                              max_i_ka=imax, name=name)
        pp.create_switch(net, b[f], line, et="l", closed=not name.startswith("T"),
                         name=f"sw_{name}")
    tan = math.tan(math.acos(0.95))
    for bus, p_kw in {1: 300, 2: 400, 3: 250, 4: 350, 5: 200, 6: 500, 7: 300, 8: 150}.items():
        pp.create_load(net, b[bus], p_mw=p_kw / 1000, q_mvar=p_kw / 1000 * tan, name=f"L{bus}")
    pp.create_sgen(net, b[7], p_mw=0.2, q_mvar=0.0, name="PV7")
    return net
