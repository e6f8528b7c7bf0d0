"""The base case: the user's own operating point (the switch states as given, open exactly the
normally open branches) in an AC power flow, judged against the limits the answer is held to,
as one JSON block ``base`` for every kind of result:

* :func:`balanced_base_case` -- ``feederopt solve`` on a balanced network: pandapower's
  Newton-Raphson power flow of the base case (:func:`feederopt.validation.ac.ac_power_flow`),
  its losses and voltage range, the verdict :func:`~feederopt.validation.ac_limits.
  limits_verdict` (as ``feederopt info`` gives it), the buses it leaves without supply and the
  loops it closes;
* :func:`opendss_base_case` -- a three-phase ``feederopt solve`` and ``feederopt partition``:
  OpenDSS's power flow of the feeder with its own switch states
  (:func:`feederopt.validation.opendss.solve_opendss`), its nodes outside their bus's voltage
  limits and its rated lines and transformers above their rating;
* :func:`scenario_base_case` -- a three-phase ``feederopt solve --scenarios``: OpenDSS's power
  flow of the feeder with its own switch states in every scenario (the scenario's loads, units
  and bus rows, as the answer's check has them), the weighted (expected) losses
  ``sum_s w_s P_loss,s``, the verdict with each limit at its worst scenario, and each
  scenario's own figures;
* :func:`hourly_base_case` -- ``feederopt schedule``: the hourly AC check
  (:func:`feederopt.validation.schedule.ac_check_hours`) at the network's own switch states in
  every hour, with the schedule's own hour-by-hour bus injections (so the base case and the
  schedule differ in the topology alone), each limit broken at its worst hour.

Every verdict has one form (:func:`verdict_block`, from the broken limits by
:func:`~feederopt.validation.ac_limits.limit_rows`): ``within_limits``, ``voltage_limits``
(``below_v_min``, ``above_v_max``: ``id``, AC ``value``, limit ``rating`` [p.u.]) and
``rating_limits`` (``over_rating``: ``id``, ``limit``, ``value``, ``rating``, ``unit``,
``loading_percent``), which :func:`feederopt.results.result.base_limits_text` puts in words
for the console and the reports ("the base case puts bus(es) below v_min: 675.a at 0.9312 <
0.9500 p.u."). The loss reduction is ``(P_loss,base - P_loss,answer) / P_loss,base`` of the
two AC power flows (:func:`loss_reduction_pct`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import DisjointSets
from feederopt.validation.ac_limits import limit_rows, limits_verdict


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def verdict_block(violations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The verdict of a base case from the limits its AC power flow breaks (``violations``:
    entries in the form of :func:`~feederopt.validation.ac_limits.ac_limit_violations`,
    worst first): ``within_limits`` (none broken), ``voltage_limits`` (``within``,
    ``below_v_min``, ``above_v_max``) and ``rating_limits`` (``within``, ``over_rating``)."""
    rows = limit_rows([dict(v) for v in violations])
    volts_ok = not rows["below_v_min"] and not rows["above_v_max"]
    return {"within_limits": volts_ok and not rows["over_rating"],
            "voltage_limits": {"within": volts_ok, "below_v_min": rows["below_v_min"],
                               "above_v_max": rows["above_v_max"]},
            "rating_limits": {"within": not rows["over_rating"],
                              "over_rating": rows["over_rating"]}}


def loss_reduction_pct(base_kw: float | None, answer_kw: float | None) -> float | None:
    """``100 (base - answer) / base`` [%] of two AC losses (kW or MWh alike); None when either
    is missing or the base case has none."""
    b, a = _num(base_kw), _num(answer_kw)
    if b is None or a is None or b == 0.0:
        return None
    return 100.0 * (b - a) / b


# --- balanced: feederopt solve -------------------------------------------------------------
def base_loops(f: np.ndarray, t: np.ndarray, closed: np.ndarray,
               is_source: np.ndarray, zero: np.ndarray | None = None) -> int:
    """How far the closed branches are from radial: the independent loops they close (closed
    branches minus buses plus connected parts) plus, per connected part, its sources beyond
    the first (a closed path between two sources). 0 for a radial forest with at most one
    source per tree. Branches without impedance (``zero``: bus-bus switches) join their buses
    first, so a ring of busbar couplers is no loop (it carries no losses); a loop through
    them and a line is one."""
    sets: DisjointSets[int] = DisjointSets(range(len(is_source)))
    zero = np.zeros(len(f), dtype=bool) if zero is None else zero
    loops = 0
    for first in (True, False):
        pick = closed & (zero if first else ~zero)
        for a, b in zip(f[pick].tolist(), t[pick].tolist(), strict=True):
            if not sets.union(int(a), int(b)) and not first:
                loops += 1
    roots: dict[int, int] = {}
    for k in np.flatnonzero(is_source).tolist():
        r = sets.find(int(k))
        roots[r] = roots.get(r, 0) + 1
    return loops + sum(n - 1 for n in roots.values())


def balanced_base_case(net: Network, pu: PerUnitNetwork, base_ac: Any,
                       bus_out: Callable[[str], Any]) -> dict[str, Any]:
    """The ``base`` block of a balanced solve: ``base_ac`` is pandapower's power flow of
    ``net``'s base case (:func:`feederopt.validation.ac.ac_power_flow` with no states given),
    ``pu`` its per-unit model (the branches' order), ``bus_out`` the user's bus ids."""
    from feederopt.network.topology import base_case_unsupplied

    branch_names = net.element_names("branches")
    bus_ids = pu.bus_ids
    initially = pu.initial_closed()
    unsupplied = base_case_unsupplied(net)
    base: dict[str, Any] = {
        "losses_kw": base_ac.losses_kw,
        "min_voltage_pu": base_ac.min_voltage_pu,
        "min_voltage_bus": bus_out(bus_ids[int(np.nanargmin(base_ac.vm_pu))])
        if np.any(np.isfinite(base_ac.vm_pu)) else None,
        "max_voltage_pu": base_ac.max_voltage_pu,
        # the maximum's bus, as the minimum's (ut50_simb #3)
        "max_voltage_bus": bus_out(bus_ids[int(np.nanargmax(base_ac.vm_pu))])
        if np.any(np.isfinite(base_ac.vm_pu)) else None,
        "open_branches": [
            {"id": bid, "from_bus": bus_out(bus_ids[fb]), "to_bus": bus_out(bus_ids[tb]),
             **({"name": branch_names[bid]} if bid in branch_names else {})}
            for bid, fb, tb, c in zip(pu.branch_ids, pu.f, pu.t, initially, strict=True)
            if not c
        ],
    }
    if base_ac.converged:
        # the base case against the limits the answer is held to, as `feederopt info`
        # judges it (one verdict, limits_verdict): a base case over a rating has lower
        # losses than any answer within the limits, and "loss reduction -22.69 %" said
        # nothing of why (user test ut37_fresh #1)
        base.update(limits_verdict(net, base_ac))
    if unsupplied.has_load:
        base["unsupplied"] = unsupplied.to_dict()
        base["warning"] = unsupplied.warning()
    loops = base_loops(pu.f, pu.t, initially, pu.is_source, zero=(pu.r == 0) & (pu.x == 0))
    no_flow = None
    if not math.isfinite(base_ac.losses_kw):
        # pandapower could not run the base case (two set-points on one bus: user test
        # ut32_multi netC), or it did not converge: there are no losses to compare with
        what = "could not be run" if base_ac.failed else "did not converge"
        why = f" ({base_ac.message})" if base_ac.message else ""
        no_flow = (f"its AC power flow {what}{why}, so there are no base-case losses to "
                   "compare with")
        base["ac_power_flow"] = what
        base["ac_message"] = base_ac.message
    if loops:
        # Every answer is radial; a meshed base case's losses are no radial topology's,
        # so "losses before" and the reduction compare with another kind of operating
        # point (user test ut_fresh #7: -22.6 % on a net whose impedance closed a loop).
        base["loops"] = loops
        meshed = (f"the base case is not radial ({loops} loop(s) closed, a closed path "
                  "between two sources counting as one): " + (
                      no_flow if no_flow is not None else
                      f"its losses ({base_ac.losses_kw:.3f} kW) are a meshed operating "
                      "point's, which a radial answer need not reach; the loss reduction "
                      "compares with it"))
        base["warning"] = "; ".join(w for w in (base.get("warning"), meshed) if w)
    elif no_flow is not None:
        base["warning"] = "; ".join(w for w in (base.get("warning"),
                                                f"the base case: {no_flow}") if w)
    return base


# --- three-phase: OpenDSS ------------------------------------------------------------------
def opendss_violations(sol: Any) -> list[dict[str, Any]]:
    """The limits an OpenDSS solution (:class:`~feederopt.validation.opendss.OpenDSSSolution`)
    breaks, in the form of :func:`~feederopt.validation.ac_limits.ac_limit_violations`: each
    energised node outside its bus's voltage limits (``id`` the node, ``"675.a"``) and each
    rated line or transformer above its rating (``id`` OpenDSS's element, current [A])."""
    out: list[dict[str, Any]] = [
        {"component": "buses", "id": node, "limit": kind, "value": float(v),
         "rating": float(lim), "amount": abs(float(v) - float(lim)), "unit": "p.u."}
        for node, v, lim, kind in sol.voltage_violations]
    out += [{"component": "branches", "id": element, "limit": "i_max", "value": float(amps),
             "rating": float(rating), "amount": float(amps) - float(rating), "unit": "A",
             "loading_percent": float(pct)}
            for element, pct, amps, rating in sol.overloads]
    return out


#: Load left unserved above this [kW] puts a base case outside the limits (the threshold of
#: :func:`feederopt.results.result.base_verdict_rows`' "not within them").
UNSERVED_KW = 1e-6


def opendss_base_case(sol: Any, open_switches: Iterable[str]) -> dict[str, Any]:
    """The ``base`` block of a three-phase solve or a partition from OpenDSS's solve ``sol``
    of the feeder with its own switch states (``open_switches``: its normally open switches):
    ``engine`` OpenDSS, ``converged``, ``losses_kw``, the lowest and highest node voltage
    (``min_voltage_pu`` and its ``min_voltage_bus``, the node; ``max_voltage_pu``),
    ``unserved_load_kw`` (loads on de-energised nodes), ``open_switches`` and, when it
    converged, the verdict (:func:`verdict_block`), whose ``within_limits`` is false when
    load is left unserved (above :data:`UNSERVED_KW`) whatever the energised part does
    (``voltage_limits.within`` and ``rating_limits.within`` still say that): the console's
    and the report's "not within them: 700.000 kW of load unserved" (user test ut50_recheck
    #3: the JSON had ``within_limits: true`` beside ``unserved_load_kw: 700``)."""
    volts = {k: v for k, v in sol.voltages_pu.items() if math.isfinite(v)
             and k not in set(sol.dead_nodes)}
    lowest = min(volts, key=lambda k: volts[k]) if volts else None
    base: dict[str, Any] = {
        "engine": "OpenDSS",
        "converged": bool(sol.converged),
        "losses_kw": _num(sol.losses_kw) if sol.converged else None,
        "min_voltage_pu": volts[lowest] if lowest is not None else None,
        "min_voltage_bus": lowest,
        "max_voltage_pu": max(volts.values()) if volts else None,
        "unserved_load_kw": _num(sol.unserved_load_kw),
        "open_switches": sorted(open_switches),
    }
    if sol.converged:
        base.update(verdict_block(opendss_violations(sol)))
        if (base["unserved_load_kw"] or 0.0) > UNSERVED_KW:
            base["within_limits"] = False
    else:
        base["ac_power_flow"] = "did not converge"
    return base


def _worst_per_limit(runs: Iterable[tuple[str, Any, Sequence[Mapping[str, Any]]]]
                     ) -> list[dict[str, Any]]:
    """Each limit of each bus or branch once, at the run that breaks it most: ``runs`` are
    ``(key, value, violations)`` (``"hour"`` and the hour, ``"scenario"`` and its name; the
    violations in the form of :func:`~feederopt.validation.ac_limits.ac_limit_violations`),
    each kept entry tagged ``key: value``; worst first (the amount relative to the limit)."""
    worst: dict[tuple[str, str], dict[str, Any]] = {}
    for key, value, violations in runs:
        for v in violations:
            k = (str(v["id"]), str(v["limit"]))
            if k not in worst or v["amount"] > worst[k]["amount"]:
                worst[k] = {**v, key: value}
    return sorted(worst.values(), key=lambda v: -v["amount"] / max(abs(v["rating"]), 1e-12))


def scenario_base_case(sols: Sequence[Any], names: Sequence[str], weights: Sequence[float],
                       open_switches: Iterable[str]) -> dict[str, Any]:
    """The ``base`` block of a three-phase scenario run from OpenDSS's solves ``sols`` of the
    feeder with its own switch states (``open_switches``), one per scenario of ``names``
    with weight ``weights`` (normalised to sum to 1), each with that scenario's loads as the
    answer's check has them: ``engine`` OpenDSS, ``converged`` (in every scenario),
    ``losses_kw`` the expected losses ``sum_s w_s P_loss,s`` (None unless every scenario
    converged; the answer's ``scenarios.expected_losses_kw`` is the same sum), the lowest
    node voltage of any scenario (``min_voltage_pu`` at ``min_voltage_bus`` in
    ``min_voltage_scenario``), the highest (``max_voltage_pu``, ``max_voltage_scenario``),
    ``unserved_load_kw`` the most load on de-energised nodes in any scenario
    (``unserved_scenario``, when there is some), ``open_switches``,
    ``scenarios_not_converged`` and ``scenarios_breaking`` (the scenarios that break a limit),
    ``per_scenario`` (per scenario its ``weight`` and :func:`opendss_base_case`'s figures and
    ``within_limits``) and, when some scenario converged, the verdict (:func:`verdict_block`)
    with each limit of each node or element once, at its worst ``scenario``, worst first."""
    open_switches = sorted(open_switches)
    each = [opendss_base_case(sol, open_switches) for sol in sols]
    ok = [k for k, sol in enumerate(sols) if sol.converged]
    per = [{"scenario": str(n), "weight": float(w),
            **{k: b.get(k) for k in ("converged", "losses_kw", "min_voltage_pu",
                                     "min_voltage_bus", "max_voltage_pu",
                                     "unserved_load_kw", "within_limits")}}
           for n, w, b in zip(names, weights, each, strict=True)]
    low = [k for k in ok if each[k]["min_voltage_pu"] is not None]
    lo = min(low, key=lambda k: each[k]["min_voltage_pu"]) if low else None
    hi = max(low, key=lambda k: each[k]["max_voltage_pu"]) if low else None
    dark = [k for k in range(len(sols)) if (each[k]["unserved_load_kw"] or 0.0) > 0.0]
    most = max(dark, key=lambda k: each[k]["unserved_load_kw"]) if dark else None
    violations = {k: opendss_violations(sols[k]) for k in ok}
    base: dict[str, Any] = {
        "engine": "OpenDSS",
        "loads": "each scenario's",
        "converged": len(ok) == len(sols),
        "losses_kw": _num(sum(float(w) * float(sols[k].losses_kw)
                              for k, w in enumerate(weights)))
        if ok and len(ok) == len(sols) else None,
        "min_voltage_pu": each[lo]["min_voltage_pu"] if lo is not None else None,
        "min_voltage_bus": each[lo]["min_voltage_bus"] if lo is not None else None,
        "min_voltage_scenario": str(names[lo]) if lo is not None else None,
        "max_voltage_pu": each[hi]["max_voltage_pu"] if hi is not None else None,
        "max_voltage_scenario": str(names[hi]) if hi is not None else None,
        "unserved_load_kw": each[most]["unserved_load_kw"] if most is not None else 0.0,
        **({"unserved_scenario": str(names[most])} if most is not None else {}),
        "open_switches": open_switches,
        "scenarios_not_converged": [str(names[k]) for k in range(len(sols)) if k not in ok],
        "scenarios_breaking": [str(names[k]) for k in ok if violations[k]],
        "per_scenario": per,
    }
    if ok:
        base.update(verdict_block(_worst_per_limit(
            ("scenario", str(names[k]), violations[k]) for k in ok)))
        if most is not None and (each[most]["unserved_load_kw"] or 0.0) > UNSERVED_KW:
            base["within_limits"] = False  # load unserved in some scenario (ut50_recheck #3)
    if len(ok) < len(sols):
        base["ac_power_flow"] = "did not converge in every scenario"
    return base


# --- schedule: hour by hour ----------------------------------------------------------------
def hourly_base_case(checks: Sequence[Any], open_branches: Sequence[Mapping[str, Any]]
                     ) -> dict[str, Any]:
    """The ``base`` block of a schedule from the hourly AC check at the network's own switch
    states (``checks``: :class:`~feederopt.validation.schedule.AcHourCheck` per hour, run with
    the schedule's injections; ``open_branches`` the normally open ones): ``losses_mwh`` (the
    day's AC losses; None unless every hour converged), ``min_voltage_pu`` and its
    ``min_voltage_hour``, ``max_voltage_pu``, ``hours_not_converged``, ``hours_breaking``
    (the hours that break a limit) and the verdict (:func:`verdict_block`) with each limit of
    each bus or branch once, at its worst hour (``hour``), worst first."""
    ok = [c for c in checks if c.converged]
    failed = [int(c.hour) for c in checks if not c.converged]
    ranked = _worst_per_limit(("hour", int(c.hour), c.limit_violations) for c in ok)
    low = min(ok, key=lambda c: c.v_min_ac) if ok else None
    base: dict[str, Any] = {
        "engine": "pandapower",
        "injections": "the schedule's, hour by hour",
        "losses_mwh": float(sum(c.losses_ac_mw for c in ok)) if ok and not failed else None,
        "min_voltage_pu": _num(low.v_min_ac) if low is not None else None,
        "min_voltage_hour": int(low.hour) if low is not None else None,
        "max_voltage_pu": _num(max(c.v_max_ac for c in ok)) if ok else None,
        "hours_not_converged": failed,
        "hours_breaking": sorted({int(c.hour) for c in ok if c.limit_violations}),
        "open_branches": [dict(b) for b in open_branches],
    }
    if ok:
        base.update(verdict_block(ranked))
    return base
