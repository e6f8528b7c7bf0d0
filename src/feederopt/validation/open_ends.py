"""The open end of a branch with a switch at each end, chosen by pandapower's power flow.

pandapower opens a line at the end of its open switch and keeps it connected at the other,
where its shunt admittance (line charging) still loads the bus (``_gather_branch_switch_info``;
a trafo likewise stays magnetised from its closed side). A line with a switch at each end can
so be opened at either end, and the two choices have different AC losses: pandapower's
``example_simple`` with line 2 opened at switch 5 loses 58.885 kW, at switch 4 58.851 kW (user
test ut48_core #1). The convex model places an open branch's charging at one fixed end, the
one of the net's own open switch, else of its first switch (``open_end_energised``,
:func:`feederopt.io.pandapower.switch_plan`), so its optimum and lower bound are those of that
placement.

:func:`choose_open_ends` takes the answer's topology and, for each open branch with a switch
at each end whose end no hold fixes, runs pandapower's power flow with the branch opened at
its other end and keeps that end when it breaks the limits by no more and loses less (one
branch at a time, in table order, each keeping the ends chosen before it). The answer's AC
check, its tables and the written net then open the branch there
(:func:`~feederopt.io.pandapower.with_opening_switches`); :func:`open_end_note` says that the
lower bound is the model's with the charging at the net's end and does not cover this choice.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

from feederopt.io.pandapower import (
    OPENING_KEY,
    is_pandapower_net,
    origin_edits,
    switch_plan,
    two_ended,
    with_opening_switches,
)
from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork
from feederopt.validation.ac import ac_power_flow
from feederopt.validation.ac_limits import ac_limit_violations
from feederopt.validation.ac_polish import violation_parts

#: Losses [kW] by which the other end must beat the current one to be taken (round-off of the
#: power flow: no flip-flop between ends that lose the same).
LOSS_TOLERANCE_KW = 1e-6


def _key(pu: PerUnitNetwork, ac: Any) -> tuple[float, float] | None:
    """(how far the limits are broken, volts [p.u.] plus loading [%] / 100; losses [kW]) of a
    converged AC point, None when the power flow failed."""
    if not ac.converged or not math.isfinite(ac.losses_kw):
        return None
    volt, rating = violation_parts(ac_limit_violations(pu, ac))
    return volt + rating / 100.0, float(ac.losses_kw)


def choose_open_ends(net: Network, pu: PerUnitNetwork, closed: np.ndarray,
                     gen_p: np.ndarray | None = None, gen_q: np.ndarray | None = None,
                     ) -> tuple[Network, list[dict[str, Any]]]:
    """``net`` with the open end of each open two-ended branch of the topology ``closed`` (one
    state per in-service branch, ``pu``'s order) that pandapower's power flow (at the
    generators' ``gen_p``/``gen_q`` [MW, MVAr]) favours: the other end is taken when its
    violations of ``pu``'s limits (:func:`ac_limit_violations`) are no larger and its losses
    lower by more than :data:`LOSS_TOLERANCE_KW`, or its violations smaller. Branches whose
    opening switches a hold fixed (``meta[OPENING_KEY]``) keep them, and so do branches with a
    switch cost (the objective charges no operation for the end: moving the end of a branch
    open in the base case is two operations, closing one switch and opening the other).
    Returns the network (``net`` itself when nothing changed) and one record per branch moved:
    ``branch``, ``switches`` (now opened), ``instead_of`` (the net's), ``losses_kw``,
    ``losses_kw_before`` (AC, the whole grid) and ``open_in_base_case``. Nothing is tried for
    a network not read from a pandapower net, or edited since."""
    origin = net.origin
    if not is_pandapower_net(origin) or origin_edits(net) or "pp_element" not in \
            net.branches.columns:
        return net, []
    closed = np.asarray(closed, dtype=bool)
    fixed = set(net.meta.get(OPENING_KEY) or {})
    plan = switch_plan(origin)
    tried: list[tuple[str, list[int], list[int], bool]] = []
    initially = pu.initial_closed()
    for k, bid in enumerate(pu.branch_ids):
        # a switch cost: the model charges no operation for the end, so it is not moved
        if closed[k] or bid in fixed or (pu.switch_cost.size and pu.switch_cost[k] > 0):
            continue
        element, _, idx = bid.partition(":")
        et = {"line": "l", "trafo": "t"}.get(element)
        if et is None or not idx.isdigit() or (et, int(idx)) not in plan:
            continue
        ends = two_ended(origin, et, int(idx))
        if ends is None:
            continue
        now = sorted(plan[(et, int(idx))][1])
        for other in ends:
            if sorted(other) != now and not set(other) >= set(now):
                tried.append((bid, other, now, not bool(initially[k])))
    if not tried:
        return net, []
    best = _key(pu, ac_power_flow(net, closed, gen_p, gen_q))
    if best is None:
        return net, []
    moved: list[dict[str, Any]] = []
    for bid, other, now, base_open in tried:
        trial = with_opening_switches(net, {bid: other})
        key = _key(pu, ac_power_flow(trial, closed, gen_p, gen_q))
        if key is None:
            continue
        better = key[0] < best[0] - 1e-9 or (
            key[0] <= best[0] + 1e-9 and key[1] < best[1] - LOSS_TOLERANCE_KW)
        if better:
            moved.append({"branch": bid, "switches": other, "instead_of": now,
                          "losses_kw": key[1], "losses_kw_before": best[1],
                          "open_in_base_case": base_open})
            net, best = trial, key
    return net, moved


def open_end_note(moved: Collection[dict[str, Any]], lower_bound_kw: float | None) -> str:
    """The note of the ends :func:`choose_open_ends` moved: which switches open each branch
    instead of the net's, the AC losses before and after, and that the lower bound is the
    model's with each open branch's charging at the net's end, which does not cover the
    choice of the open end (so it may lie above the AC losses reported)."""
    parts = [f"{m['branch']} opened by switch {'+'.join(str(s) for s in m['switches'])} "
             f"instead of switch {'+'.join(str(s) for s in m['instead_of'])}"
             for m in moved]
    first, last = next(iter(moved)), list(moved)[-1]
    ops = [m["branch"] for m in moved if m.get("open_in_base_case")]
    operations = (f"; {', '.join(ops)} open in the base case at the other switch: closing "
                  "that one and opening this one are two switching operations" if ops else "")
    bound = (f" (the bound: {lower_bound_kw:.6g} kW)" if lower_bound_kw is not None
             and math.isfinite(lower_bound_kw) else "")
    return ("open end chosen in AC: " + ", ".join(parts)
            + f" (pandapower's power flow: {last['losses_kw']:.3f} kW against "
            f"{first['losses_kw_before']:.3f} kW; the open line stays charged from its closed "
            f"end{operations}). The optimum and the lower bound are the model's with each open "
            f"branch charged from the end of the net's own opening switch{bound}: they do not "
            "cover the choice of the open end, so the bound may lie above these AC losses")
