"""Three-phase entry points: the facts ``feederopt info`` shows for a ``.dss`` feeder, and
three-phase reconfiguration (``feederopt solve FILE.dss``).

    >>> from feederopt.api_threephase import three_phase_info
    >>> three_phase_info("ieee37")["base_losses_kw"]          # OpenDSS's own solution
"""

from __future__ import annotations

import math
from typing import Any

from feederopt.algorithms.threephase import lindist3flow_power_flow
from feederopt.cases import load_three_phase
from feederopt.errors import InputError
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.options import loading_problems
from feederopt.validation.opendss import OpenDSSSolution, max_voltage_error, solve_opendss


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _names(ids: list[str], most: int = 8) -> str:
    """``ids`` for a message, the first ``most`` of them and how many more."""
    more = f" and {len(ids) - most} more" if len(ids) > most else ""
    return ", ".join(ids[:most]) + more


def floating_buses(net: ThreePhaseNetwork) -> set[str]:
    """Buses in three-wire (delta-fed) regions, whose neutral shift the model leaves out."""
    pu = to_per_unit_3ph(net)
    return {pu.bus_ids[b] for b in range(len(pu.bus_ids)) if pu.floating[b]
            and not pu.virtual[b]}


def lindist3flow_vs_opendss(net: ThreePhaseNetwork, *, open_switches: set[str] | None = None,
                            ) -> tuple[float, str, OpenDSSSolution]:
    """The largest ``|V_LinDist3Flow - V_OpenDSS|`` [p.u.] over the energised nodes, where it
    occurs, and OpenDSS's solution, for the given switch states (default: the base case).

    In three-wire regions the OpenDSS phase-to-ground voltages are compared without their zero
    sequence (:meth:`OpenDSSSolution.comparable_voltages`)."""
    pu = to_per_unit_3ph(net, open_switches=open_switches)
    flow = lindist3flow_power_flow(pu)
    floating = {pu.bus_ids[b] for b in range(len(pu.bus_ids)) if pu.floating[b]}
    sol = solve_opendss(net, open_switches=open_switches, floating_buses=floating,
                        model_voltages=flow.voltages_pu, with_controls=False)
    err, node = max_voltage_error(flow.voltages_pu, sol)
    return err, node, sol


def three_phase_info(source: Any) -> dict[str, Any]:
    """Counts, OpenDSS's base-case solution and LinDist3Flow's voltage error of a three-phase
    feeder (a ``.dss`` path or a built-in three-phase case name)."""
    net = load_three_phase(source, check=False)
    problems = net.validate()
    summary = net.summary()
    for key in ("total_load_mw", "total_load_mvar"):
        summary[key] = round(summary[key], 9)
    out: dict[str, Any] = {**summary, "source_format": "opendss"}
    if problems:
        out.update(problems=[p.to_dict() for p in problems], warnings=net.meta["warnings"])
        return out
    err, node, sol = lindist3flow_vs_opendss(net)
    vmin = min(sol.min_voltage_pu.values()) if sol.min_voltage_pu else math.nan
    vmax = max(sol.max_voltage_pu.values()) if sol.max_voltage_pu else math.nan
    out.update({
        "base_converged": sol.converged,
        "base_losses_kw": _num(sol.losses_kw),
        "base_min_voltage_pu": _num(vmin),
        "base_min_voltage_bus": sol.min_voltage_node,
        "base_max_voltage_pu": _num(vmax),
        "base_message": "" if sol.converged else "OpenDSS did not converge",
        "opendss_source_kw": _num(sol.source_kw),
        "opendss_load_kw": _num(sol.load_kw),
        "base_min_voltage_by_phase_pu": sol.min_voltage_pu,
        "base_max_voltage_by_phase_pu": sol.max_voltage_pu,
        "base_unbalance_pct": _num(sol.unbalance_pct),
        "lindist3flow_max_voltage_error_pu": _num(err),
        "lindist3flow_max_voltage_error_node": node,
        "problems": [],
        "warnings": list(dict.fromkeys(list(net.meta.get("warnings", [])) + sol.warnings)),
    })
    return out


def solve_three_phase(source: Any, *, time_limit_s: float = 300.0, gap: float = 1e-4,
                      ac_check: bool = True, thermal_limits: bool = True,
                      max_loading_percent: float | None = None) -> dict[str, Any]:
    """The loss-minimising radial topology of a three-phase feeder (LinDist3Flow with a loss
    proxy, a MILP on HiGHS), checked by OpenDSS's power flow: a JSON-ready dict.

    ``thermal_limits=False`` drops the lines' current ratings, ``max_loading_percent`` scales
    them (OpenDSS rates every line 400 A unless the file says otherwise). Without a topology
    (infeasible, or a time limit with none found) ``open_switches`` and ``changed_switches``
    are empty and ``reason`` says why. ``loss_proxy_kw`` is the LinDist3Flow loss proxy of the
    answer's flow (``loss_proxy_source_kw`` of it on the source's own impedance), and
    ``milp_objective_kw`` and ``lower_bound_kw`` the MILP's tangent-plane under-estimate of it
    and its bound: tangent planes are added at the answer's flows until the objective is
    within ``LAZY_TOL`` (0.1 %) of the proxy (``milp_solves``, ``tangents_added``; the fixed
    tangent circles, shares of the whole feeder's flow, missed the small flows: EPRI ckt24
    516 kW against 849 kW). ``notes`` says when there is
    nothing to reconfigure and names the loops that no switch opens (``permanent_loops``: they
    stay closed, the switchable part is made radial around them).
    The OpenDSS check (``ac_check``) solves the topology with the model's regulator taps and
    capacitor states held (OpenDSS's controls off), counts de-energised nodes and unserved load,
    and does not pass (``ac_check["passed"]``) when any load is left without voltage;
    ``ac_check["with_controls"]`` is the same topology with OpenDSS's controls acting (the taps
    they move, losses, voltages), for information."""
    from feederopt.algorithms.threephase import reconfigure_three_phase

    problems = loading_problems(max_loading_percent)
    if problems:
        raise InputError(problems)
    net = load_three_phase(source)
    switchable = net.lines.filter(net.lines["switchable"])
    base_open = sorted(switchable.filter(switchable["normally_open"])["id"].to_list())
    # what the reader reduced (centre-tapped service transformers and their secondaries)
    notes: list[str] = list(net.meta.get("reductions", []))
    if switchable.height == 0:
        notes.append("the feeder has no switchable lines (Switch=yes or a SwtControl): there "
                     "is nothing to reconfigure, the answer is the base topology")
    elif not base_open:
        notes.append(f"all {switchable.height} switchable lines are normally closed (no tie "
                     "switch): a radial feeder keeps its base topology; only loops can be opened")
    topo = reconfigure_three_phase(net, time_limit_s=time_limit_s, gap=gap,
                                   thermal_limits=thermal_limits,
                                   max_loading_percent=max_loading_percent)
    for part in topo.permanent_loops:
        notes.append(f"{len(part)} element(s) form loops that no switch opens and stay closed "
                     f"({_names(part)}); radiality is imposed on the switchable part")
    solved = topo.flow is not None
    out: dict[str, Any] = {
        "case": net.name,
        "method": "lindist3flow",
        "status": topo.status,
        "has_solution": solved,
        "reason": topo.reason,
        "overloaded": topo.overloaded,
        "thermal_limits": thermal_limits,
        "max_loading_percent": max_loading_percent,
        "notes": notes,
        "permanent_loops": topo.permanent_loops,
        "open_switches": topo.open_switches,
        "base_open_switches": base_open,
        "changed_switches": sorted(set(topo.open_switches) ^ set(base_open)) if solved else [],
        # the proxy of the answer's LinDist3Flow flow, and of it on the source's own impedance
        # (not in OpenDSS's losses); the MILP's objective is its tangent-plane under-estimate
        "loss_proxy_kw": _num(topo.flow.loss_proxy_kw) if topo.flow else None,
        "loss_proxy_source_kw": _num(topo.flow.source_loss_proxy_kw) if topo.flow else None,
        "milp_objective_kw": _num(topo.loss_proxy_kw),
        "lower_bound_kw": _num(topo.bound_kw),
        "solve_time_s": topo.solve_time_s,
        "milp_solves": topo.milp_solves,
        "tangents_added": topo.tangents_added,
        "lindist3flow_min_voltage_pu": _num(topo.flow.min_voltage_pu) if topo.flow else None,
        "lindist3flow_max_voltage_pu": _num(topo.flow.max_voltage_pu) if topo.flow else None,
    }
    if ac_check and topo.flow is not None:
        floating = floating_buses(net)
        base = solve_opendss(net, floating_buses=floating, with_controls=False)
        check = solve_opendss(net, open_switches=set(topo.open_switches),
                              floating_buses=floating, model_voltages=topo.flow.voltages_pu)
        out["base_losses_kw"] = _num(base.losses_kw)
        out["base_unserved_load_kw"] = base.unserved_load_kw
        out["ac_check"] = {"engine": "OpenDSS", **check.to_dict(),
                           "warnings": check.warnings}
        # every node's |V| [p.u.], for the report's voltage profile (``--out DIR``)
        out["node_voltages_pu"] = {"opendss": check.voltages_pu,
                                   "opendss_base": base.voltages_pu}
    if topo.flow is not None:
        out.setdefault("node_voltages_pu", {})["lindist3flow"] = topo.flow.voltages_pu
    out["grid"] = report_grid(net, set(topo.open_switches) if solved else set(base_open),
                              set(base_open))
    return out


def report_grid(net: ThreePhaseNetwork, open_switches: set[str],
                base_open: set[str]) -> dict[str, Any]:
    """The feeder as the report draws it (:mod:`feederopt.report.threephase`): ``buses``
    (phases, voltage limits, the file's ``BusCoords`` ``x``/``y`` when it has them, and
    ``distance_m``/``base_distance_m``, the length of the shortest path of closed lines from a
    source with ``open_switches`` and with ``base_open`` open, None where no closed path
    reaches), ``branches`` (lines and transformers in service, their kind and whether they are
    closed in the answer and in the base case) and ``sources`` (the source buses).

    Distances are Dijkstra's shortest paths over the closed lines' ``length_m`` (a
    transformer has length 0); on a radial topology, the path along the tree."""
    import heapq

    lines = net.lines.filter(net.lines["in_service"] | net.lines["switchable"])
    trs = net.transformers.filter(net.transformers["in_service"])
    branches: list[dict[str, Any]] = []
    for r in lines.iter_rows(named=True):
        switch = bool(r["switchable"])
        branches.append({
            "id": r["id"], "from_bus": r["from_bus"], "to_bus": r["to_bus"],
            "kind": "switch" if switch else "line", "phases": r["phases"],
            "length_m": r["length_m"], "switchable": switch,
            "closed": not switch or r["id"] not in open_switches,
            "base_closed": not switch or r["id"] not in base_open})
    for r in trs.iter_rows(named=True):
        branches.append({
            "id": r["id"], "from_bus": r["from_bus"], "to_bus": r["to_bus"],
            "kind": "transformer", "phases": None, "length_m": 0.0, "switchable": False,
            "closed": True, "base_closed": True})
    sources = sorted(set(net.sources["bus"].to_list()))

    def distances(key: str) -> dict[str, float]:
        adj: dict[str, list[tuple[str, float]]] = {}
        for b in branches:
            if b[key]:
                length = max(float(b["length_m"] or 0.0), 0.0)
                adj.setdefault(b["from_bus"], []).append((b["to_bus"], length))
                adj.setdefault(b["to_bus"], []).append((b["from_bus"], length))
        dist: dict[str, float] = {}
        heap = [(0.0, s) for s in sources]
        while heap:
            d, u = heapq.heappop(heap)
            if u in dist:
                continue
            dist[u] = d
            for w, length in adj.get(u, []):
                if w not in dist:
                    heapq.heappush(heap, (d + length, w))
        return dist

    after, before = distances("closed"), distances("base_closed")
    buses = [{"id": r["id"], "phases": r["phases"], "vn_kv": r["vn_kv"],
              "v_min_pu": r["v_min_pu"], "v_max_pu": r["v_max_pu"], "x": _num(r["x"]),
              "y": _num(r["y"]), "distance_m": after.get(r["id"]),
              "base_distance_m": before.get(r["id"])}
             for r in net.buses.iter_rows(named=True)]
    return {"buses": buses, "branches": branches, "sources": sources}
