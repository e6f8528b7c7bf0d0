"""Three-phase entry points: the facts ``feederopt info`` shows for a ``.dss`` feeder, and
three-phase reconfiguration (``feederopt solve FILE.dss``).

    >>> from feederopt.api_threephase import three_phase_info
    >>> three_phase_info("ieee37")["base_losses_kw"]          # OpenDSS's own solution
"""

from __future__ import annotations

import math
import time
from typing import Any

import polars as pl

from feederopt.algorithms.threephase import (
    Tangents,
    ThreePhaseFlow,
    ThreePhaseTopology,
    lindist3flow_power_flow,
    reconfigure_three_phase,
)
from feederopt.cases import load_three_phase
from feederopt.errors import InputError, SolverError
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.options import (
    crossed_limit_problems,
    loading_problems,
    voltage_limit_problems,
)
from feederopt.validation.opendss import (
    DEAD_PU,
    OpenDSSSolution,
    max_voltage_error,
    solve_opendss,
)

#: Most MILP solves of the voltage feedback (:func:`_voltage_feedback`).
FEEDBACK_ITERATIONS = 4


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


def with_voltage_limits(net: ThreePhaseNetwork, v_min_pu: float | None = None,
                        v_max_pu: float | None = None) -> ThreePhaseNetwork:
    """``net`` with every bus's ``v_min_pu`` (``v_max_pu``) set to the given value (None: the
    bus's own)."""
    cols = []
    if v_min_pu is not None:
        cols.append(pl.lit(float(v_min_pu)).alias("v_min_pu"))
    if v_max_pu is not None:
        cols.append(pl.lit(float(v_max_pu)).alias("v_max_pu"))
    return net.replace_tables(buses=net.buses.with_columns(cols)) if cols else net


def _limits_used(net: ThreePhaseNetwork, given: bool) -> dict[str, Any]:
    """The voltage limits of ``net``'s buses for the JSON: one number when every bus has the
    same, else the lowest and highest (``{"min": , "max": }``)."""
    out: dict[str, Any] = {"from": "options" if given else "network"}
    for col in ("v_min_pu", "v_max_pu"):
        vals = net.buses[col].unique().sort().to_list()
        out[col] = float(vals[0]) if len(vals) == 1 else {"min": float(vals[0]),
                                                          "max": float(vals[-1])}
    return out


def voltage_offsets(flow: ThreePhaseFlow, sol: OpenDSSSolution) -> dict[str, float]:
    """``d_n = V_OpenDSS,n - V_LinDist3Flow,n`` [p.u.] at every node that both have and that
    OpenDSS energises (comparable voltages at three-wire buses)."""
    live = {k: v for k, v in sol.voltages_pu.items() if v >= DEAD_PU}
    return {k: live[k] - v for k, v in flow.voltages_pu.items() if k in live}


def _range(sol: OpenDSSSolution) -> tuple[float | None, float | None]:
    lo = min(sol.min_voltage_pu.values()) if sol.min_voltage_pu else math.nan
    hi = max(sol.max_voltage_pu.values()) if sol.max_voltage_pu else math.nan
    return _num(lo), _num(hi)


def _voltage_feedback(net: ThreePhaseNetwork, floating: set[str], base_open: list[str], *,
                      time_limit_s: float, gap: float, thermal_limits: bool,
                      max_loading_percent: float | None, max_iterations: int,
                      ) -> tuple[ThreePhaseTopology, OpenDSSSolution, OpenDSSSolution | None,
                                 dict[str, Any]]:
    """The MILP's voltage limits corrected by OpenDSS's power flow, to a fixed point.

    LinDist3Flow is lossless, so its voltages miss the drops of the losses (and what else the
    model leaves out): on IEEE 8500 by 0.08 p.u. With the offsets ``d_n = V_OpenDSS,n -
    V_LinDist3Flow,n`` measured at a topology (first the base case, then each answer) the MILP
    is solved with the limits shifted to ``[v_min - d_n, v_max - d_n]``
    (:func:`feederopt.algorithms.threephase.shift_voltage_limits`, on ``w = V^2``), so that its
    prediction ``V_LinDist3Flow,n + d_n`` of OpenDSS's voltage keeps the limits; OpenDSS solves
    the answer, which gives the next offsets. It stops when a topology repeats (its offsets
    were used already, so the next MILP is the same), after ``max_iterations`` MILPs, when the
    time runs out, when the MILP has no answer or when OpenDSS does not converge. (When the
    base case's LinDist3Flow has no solution, a load that it leaves unfed, the first MILP has
    the limits unshifted.) Of the answers, the one with the least OpenDSS losses among those
    that OpenDSS finds within the limits (and with every load served) is kept; when none is,
    the last answer.

    This is the linearised model corrected by the AC power flow at the present operating
    point, the zeroth-order (offset) form of the fixed point used in feedback optimisation of
    distribution grids: the linear model about a measured operating point (S. Bolognani and F.
    Dörfler, "Fast power system analysis via implicit linearization of the power flow
    manifold", Allerton 2015) and the measured voltages in place of the model's in the voltage
    constraints (E. Dall'Anese and A. Simonetto, "Optimal power flow pursuit", IEEE Trans.
    Smart Grid 9(2), 2018). Only the offset is corrected, not the sensitivities, so it is a
    heuristic: a topology's offsets differ from another's, which the iterations measure.

    Returns the kept topology, OpenDSS's base-case solution (controls off), OpenDSS's
    solution of the kept topology (None without one) and the record for the JSON."""
    t0 = time.perf_counter()
    try:
        flow0: ThreePhaseFlow | None = lindist3flow_power_flow(net)
    except SolverError:  # the base case leaves a load unfed: no offsets to start from
        flow0 = None
    base = solve_opendss(net, floating_buses=floating,
                         model_voltages=flow0.voltages_pu if flow0 else None,
                         with_controls=False)
    lo, hi = _range(base)
    iterations: list[dict[str, Any]] = [{
        "topology": "base", "open_switches": sorted(base_open),
        "opendss_losses_kw": _num(base.losses_kw), "opendss_min_voltage_pu": lo,
        "opendss_max_voltage_pu": hi, "within_voltage_limits": base.within_voltage_limits,
        "lindist3flow_min_voltage_pu": _num(flow0.min_voltage_pu) if flow0 else None,
        "lindist3flow_max_voltage_pu": _num(flow0.max_voltage_pu) if flow0 else None,
    }]
    offsets = voltage_offsets(flow0, base) if flow0 else {}
    seen = {frozenset(base_open)}
    answers: list[tuple[ThreePhaseTopology, OpenDSSSolution]] = []
    last: ThreePhaseTopology | None = None
    milp_s = 0.0
    tangents: list[Tangents] = []  # the loss tangents found so far, valid whatever the limits
    stopped = "iteration cap"
    for _ in range(max(1, max_iterations)):
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0 and answers:
            stopped = "time limit"
            break
        big = max(abs(d) for d in offsets.values()) if offsets else 0.0
        # the base case's OpenDSS solve counts in the budget: a MILP gets at least 1 s of
        # it, but never more than the whole time limit (--time-limit 0.01 ran 1 s)
        topo = reconfigure_three_phase(net, time_limit_s=max(left, min(1.0, time_limit_s)),
                                       gap=gap,
                                       thermal_limits=thermal_limits,
                                       max_loading_percent=max_loading_percent,
                                       voltage_offsets=offsets, tangents=tangents)
        milp_s += topo.solve_time_s
        tangents = topo.tangents or tangents
        last = topo
        row: dict[str, Any] = {"topology": "answer", "status": topo.status,
                               "max_offset_pu": _num(big), "milp_time_s": topo.solve_time_s}
        if topo.flow is None:
            iterations.append({**row, "open_switches": None})
            stopped = "no answer"
            break
        key = frozenset(topo.open_switches)
        known = next((sol for t, sol in answers if frozenset(t.open_switches) == key), None)
        sol = known or solve_opendss(net, open_switches=set(key), floating_buses=floating,
                                     model_voltages=topo.flow.voltages_pu,
                                     with_controls=False)
        lo, hi = _range(sol)
        iterations.append({
            **row, "open_switches": topo.open_switches,
            "opendss_losses_kw": _num(sol.losses_kw), "opendss_min_voltage_pu": lo,
            "opendss_max_voltage_pu": hi, "within_voltage_limits": sol.within_voltage_limits,
            "passed": sol.passed,
            "lindist3flow_min_voltage_pu": _num(topo.flow.min_voltage_pu),
            "lindist3flow_max_voltage_pu": _num(topo.flow.max_voltage_pu),
        })
        answers.append((topo, sol))
        if key in seen:
            stopped = "topology repeated"
            break
        if not sol.converged:  # no offsets to take from it
            stopped = "OpenDSS did not converge"
            break
        seen.add(key)
        offsets = voltage_offsets(topo.flow, sol)
    good = [(t, s) for t, s in answers if s.within_voltage_limits and s.passed]
    if good:
        keep, kept = min(good, key=lambda ts: ts[1].losses_kw)
    elif answers:
        keep, kept = answers[-1]
    else:
        assert last is not None
        keep, kept = last, None
        if keep.reason.startswith("infeasible: no radial topology keeps every voltage"):
            keep.reason += (", with the limits shifted by OpenDSS's offsets (V_OpenDSS - "
                            "V_LinDist3Flow at the base case); --no-voltage-feedback holds the "
                            "lossless model's voltages to the limits instead")
    keep.solve_time_s = milp_s
    chosen_at = next((k for k, row in enumerate(iterations)
                      if row["topology"] == "answer" and kept is not None
                      and row["open_switches"] == keep.open_switches), None)
    record = {"enabled": True, "iterations": iterations, "kept_iteration": chosen_at,
              "stopped": stopped, "within_voltage_limits": bool(good),
              "milp_time_s": milp_s, "time_s": time.perf_counter() - t0}
    return keep, base, kept, record


def solve_three_phase(source: Any, *, time_limit_s: float = 300.0, gap: float = 1e-4,
                      ac_check: bool = True, thermal_limits: bool = True,
                      max_loading_percent: float | None = None,
                      v_min_pu: float | None = None,
                      v_max_pu: float | None = None, voltage_feedback: bool = True,
                      feedback_iterations: int = FEEDBACK_ITERATIONS) -> dict[str, Any]:
    """The loss-minimising radial topology of a three-phase feeder (LinDist3Flow with a loss
    proxy, a MILP on HiGHS), checked by OpenDSS's power flow: a JSON-ready dict.

    ``thermal_limits=False`` drops the lines' current ratings, ``max_loading_percent`` scales
    them (OpenDSS rates every line 400 A unless the file says otherwise). ``v_min_pu`` and
    ``v_max_pu`` set every bus's voltage limits (default: the network's, 0.9-1.1 p.u. as read
    from OpenDSS); ``voltage_limits`` in the result records the limits used.
    ``voltage_feedback`` (default) corrects the MILP's voltage limits by OpenDSS's voltages
    (:func:`_voltage_feedback`, at most ``feedback_iterations`` MILPs; it solves OpenDSS even
    with ``ac_check=False``) and records its iterations under ``voltage_feedback``;
    ``solve_time_s`` is then the MILP time of all of them. Without a topology
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
    problems = voltage_limit_problems(v_min_pu, v_max_pu) + loading_problems(
        max_loading_percent)
    if problems:
        raise InputError(problems)
    net = load_three_phase(source)
    problems = crossed_limit_problems(net.buses, v_min_pu, v_max_pu)
    if problems:
        raise InputError(problems)
    net = with_voltage_limits(net, v_min_pu, v_max_pu)
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
    if voltage_feedback and not net.meta.get("source_path"):
        voltage_feedback = False
        notes.append("the voltage feedback needs OpenDSS's file of the feeder, which this "
                     "network was not read from: the lossless voltages are held to the limits")
    floating = floating_buses(net) if ac_check or voltage_feedback else set()
    base: OpenDSSSolution | None = None
    feedback: dict[str, Any] | None = None
    if voltage_feedback:
        topo, base, _, feedback = _voltage_feedback(
            net, floating, base_open, time_limit_s=time_limit_s, gap=gap,
            thermal_limits=thermal_limits, max_loading_percent=max_loading_percent,
            max_iterations=feedback_iterations)
    else:
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
        "voltage_limits": _limits_used(net, v_min_pu is not None or v_max_pu is not None),
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
        "voltage_feedback": feedback if feedback is not None else {"enabled": False},
    }
    if ac_check and topo.flow is not None:
        if base is None:
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
