"""A restoration's operation applied by hand to the user's pandapower net, for tests that check
our AC check against pandapower's own power flow (no feederopt code)."""

from __future__ import annotations

import copy
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
