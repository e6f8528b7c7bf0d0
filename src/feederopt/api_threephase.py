"""Three-phase entry points: the facts ``feederopt info`` shows for a ``.dss`` feeder, and
three-phase reconfiguration (``feederopt solve FILE.dss``).

    >>> from feederopt.api_threephase import three_phase_info
    >>> three_phase_info("ieee37")["base_losses_kw"]          # OpenDSS's own solution
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feederopt.algorithms.threephase import (
    BOUND_SOURCES,
    ThreePhaseTopology,
    lindist3flow_power_flow,
    reconfigure_three_phase,
)
from feederopt.api_threephase_feedback import (
    FEEDBACK_ITERATIONS,
    _margin,
    _num,
    _range,
    _scenario_feedback,
    _voltage_feedback,
    base_case_solution,
    opendss_fixed_overloads,
    opendss_least_losses,
    opendss_least_overloading,
    opendss_within_voltage_states,
    scenario_opendss,
    unswitched_elements,
    within_limits_judged,
)
from feederopt.api_threephase_feedback import voltage_offsets as voltage_offsets
from feederopt.cases import load_three_phase
from feederopt.cases.loading import opendss_file
from feederopt.cases.threephase import has_three_phase_case
from feederopt.errors import InputError, Problem, ProblemKind, SolverError, option_ref
from feederopt.forking import check_not_forked
from feederopt.io.opendss_shapes import daily_load_scenarios
from feederopt.io.scenarios import (
    ScenarioRows,
    resolve_scenario_rows,
    scenario_source_problems,
    scenario_table,
    three_phase_unsuppliable,
)
from feederopt.network.limits import three_phase_limits
from feederopt.network.threephase import (
    ThreePhaseNetwork,
    dead_end_buses,
    island_of,
    misspelt_bus_hint,
    supplied_nodes,
    unsupplied_elements,
)
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.network.topology import components_of, switch_blocks
from feederopt.options import (
    MAX_SWITCH_COST_KW,
    TIME_LIMIT_S,
    VOLTAGE_LIMITS_PU,
    count_problems,
    crossed_limit_problems,
    gap_problems,
    loading_factor_note,
    loading_problems,
    option_names,
    switch_cost_problems,
    switch_problems,
    time_limit_problems,
    voltage_limit_problems,
)
from feederopt.results.threephase import (
    AcPolish,
    LeastOverloading,
    OpenDssCheck,
    ScenarioSummary,
    SwitchingAction,
    ThreePhaseResult,
    VoltageFeedback,
    VoltageLimits,
)
from feederopt.validation.base_case import opendss_base_case, scenario_base_case
from feederopt.validation.opendss import (
    OpenDSSSolution,
    max_voltage_error,
    solve_opendss,
)


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
    if open_switches is None:  # the base case: solve's own base-case solve (info, ut46_dss3)
        sol = base_case_solution(net, floating, model_voltages=flow.voltages_pu)
    else:
        sol = solve_opendss(net, open_switches=open_switches, floating_buses=floating,
                            model_voltages=flow.voltages_pu, with_controls=False)
    err, node = max_voltage_error(flow.voltages_pu, sol)
    return err, node, sol


def _misspelt_hints(net: ThreePhaseNetwork) -> list[str]:
    """For the buses of the loads and generators that the base case cuts off, a dead-end bus
    of a close name (:func:`~feederopt.network.threephase.misspelt_bus_hint`): a line's
    misspelt ``Bus2`` cuts its bus off this way, and closing a tie then looks like the fix."""
    live = {b for b, _ in supplied_nodes(net, base_case=True)}
    cut = sorted({b for name in ("loads", "generators")
                  for b in net.tables[name].filter(pl.col("in_service"))["bus"].to_list()
                  if b not in live})
    dead_ends = dead_end_buses(net)
    return list(dict.fromkeys(
        h for b in cut
        for h in [misspelt_bus_hint(b, dead_ends, set(island_of(net, b, live, base_case=True)))]
        if h))


def _cutting_switches(net: ThreePhaseNetwork) -> str:
    """`` (Line.632670, ...)``: the normally open switches between a bus that the base case
    supplies and one it cuts off (the file's disabled or open switches), or ``""``."""
    live = {b for b, _ in supplied_nodes(net, base_case=True)}
    opened = net.lines.filter(pl.col("in_service") & pl.col("switchable")
                              & pl.col("normally_open"))
    names = [net.opendss_name(i) for i, f, t in opened.select(
        "id", "from_bus", "to_bus").iter_rows() if (f in live) != (t in live)]
    return f" ({_names(names)})" if names else ""


def base_loops(net: ThreePhaseNetwork) -> int:
    """The independent loops of the base topology: ``E - N + C`` (the cyclomatic number: edges,
    nodes, connected components) of the graph of the buses joined by the in-service lines that
    the base case has closed (a switch not ``normally_open``) and the in-service transformers,
    the single-phase units of one bank between the same two buses one edge (IEEE 13's three
    regulators 650-rg60). 0 for a radial feeder."""
    ids = net.buses["id"].to_list()
    index = {b: i for i, b in enumerate(ids)}
    lines = net.lines.filter(pl.col("in_service") & ~(pl.col("switchable")
                                                      & pl.col("normally_open")))
    trafos = net.transformers.filter(pl.col("in_service"))
    banks = {tuple(sorted(pair)) for pair in trafos.select("from_bus", "to_bus").iter_rows()}
    ends = [(index[a], index[b]) for a, b in (
        *lines.select("from_bus", "to_bus").iter_rows(), *sorted(banks))
        if a in index and b in index]
    f = np.array([a for a, _ in ends], int)
    t = np.array([b for _, b in ends], int)
    n_comp = len(set(components_of(len(ids), f, t).tolist()))
    return len(ends) - len(ids) + n_comp


def _all_closed_note(net: ThreePhaseNetwork, n_switchable: int) -> str:
    """The note of a feeder whose switchable lines are all normally closed, worded by its
    base topology (user test ut46_dss3 #4: IEEE 13mod with its tie enabled was called radial,
    "a radial feeder keeps its base topology", while the solve opened 801675): radial, it
    keeps its base topology; meshed, the search opens switches on its loops."""
    loops = base_loops(net)
    head = f"all {n_switchable} switchable lines are normally closed (no tie switch)"
    if loops == 0:
        return f"{head}: the base topology is radial, so it is the only radial state"
    return (f"{head}, and the base topology is meshed ({loops} loop(s) of closed lines and "
            "transformers): the search opens switches on its loops (a loop that no switch "
            "opens stays closed)")


def three_phase_info(source: Any) -> dict[str, Any]:
    """Counts, OpenDSS's base-case solution and LinDist3Flow's voltage error of a three-phase
    feeder (a ``.dss`` path or a built-in three-phase case name)."""
    check_not_forked("feederopt.three_phase_info")
    net = load_three_phase(source, check=False, purpose="three_phase_info")
    problems = net.validate()
    summary = net.summary()
    for key in ("total_load_mw", "total_load_mvar"):
        summary[key] = round(summary[key], 9)
    out: dict[str, Any] = {**summary, "source_format": "opendss"}
    # the generating units by the full names that scenario generator rows take; ``conn``
    # "delta" is a single-phase unit between the two phases of ``phases`` (OpenDSS's
    # bus1=x.2.3), "wye" one phase to ground on each of them (user test ut39_tph, partexit:
    # "bc" alone read as two phase-to-ground halves)
    out["generator_units"] = [
        {"id": g["id"], "kind": g["kind"], "bus": g["bus"], "phases": g["phases"],
         "conn": g["conn"],
         "p_kw": _num(1000 * g["p_mw"]), "q_kvar": _num(1000 * g["q_mvar"]),
         "s_max_kva": _num(1000 * g["s_max_mva"]), "in_service": g["in_service"]}
        for g in net.generators.iter_rows(named=True)]
    if problems:
        out.update(problems=[p.to_dict() for p in problems], warnings=net.meta["warnings"])
        return out
    # loads cut off by the normally open switches (closing one feeds them): OpenDSS solves
    # them dead; LinDist3Flow's power flow, which feeds every load, has no base case
    cut = unsupplied_elements(net, base_case=True)
    notes = []
    if cut:
        sol = base_case_solution(net, floating_buses(net))
        err, node = math.nan, ""
        notes.append(f"the base case's open switches{_cutting_switches(net)} cut {len(cut)} "
                     "load(s) or generator(s) "
                     f"off the source ({_names(cut)}): OpenDSS solves them without voltage, "
                     "and LinDist3Flow is not compared with it (its power flow feeds every "
                     "load)" + "".join(f"; {h}" for h in _misspelt_hints(net)))
    else:
        try:
            err, node, sol = lindist3flow_vs_opendss(net)
        except SolverError as exc:
            # no LinDist3Flow power flow (a load far beyond what reaches its bus: the squared
            # voltages it gives fall below zero); info ended with exit 1 on it
            sol = base_case_solution(net, floating_buses(net))
            err, node = math.nan, ""
            notes.append(f"LinDist3Flow has no power flow of the base case ({exc}), so it is "
                         "not compared with OpenDSS"
                         + ("; see the bad_load warning" if net.meta.get("load_warnings")
                            else ""))
    vmin = min(sol.min_voltage_pu.values()) if sol.min_voltage_pu else math.nan
    vmax = max(sol.max_voltage_pu.values()) if sol.max_voltage_pu else math.nan
    if sol.voltage_violations:  # said like the overloads (user test ut_3ph #5: only "none")
        node, v, limit, side = sol.voltage_violations[0]
        notes.append(f"OpenDSS: {len(sol.voltage_violations)} node(s) outside their voltage "
                     f"limits in the base case, the worst {node} at {v:.4f} p.u. "
                     f"({'above' if side == 'v_max' else 'below'} {limit:g} p.u.)")
    out.update({
        "base_converged": sol.converged,
        "base_losses_kw": _num(sol.losses_kw),
        "base_min_voltage_pu": _num(vmin),
        "base_min_voltage_bus": sol.min_voltage_node,
        "base_max_voltage_pu": _num(vmax),
        "base_max_voltage_bus": sol.max_voltage_node or None,
        "base_message": "" if sol.converged else "OpenDSS did not converge",
        "opendss_source_kw": _num(sol.source_kw),
        "opendss_load_kw": _num(sol.load_kw),
        "base_min_voltage_by_phase_pu": sol.min_voltage_pu,
        "base_max_voltage_by_phase_pu": sol.max_voltage_pu,
        "base_unbalance_pct": _num(sol.unbalance_pct),
        "lindist3flow_max_voltage_error_pu": _num(err),
        "lindist3flow_max_voltage_error_node": node,
        "base_voltage_violations": [
            {"node": n, "voltage_pu": _num(v), "limit_pu": _num(lim), "limit": side}
            for n, v, lim, side in sol.voltage_violations],
        "problems": [],
        "warnings": list(dict.fromkeys(list(net.meta.get("warnings", [])) + notes
                                       + sol.warnings)),
    })
    # what the optimisation holds: the voltage band and the lines' current ratings
    out["limits"] = three_phase_limits(net)
    return out


def base_case_of(net: ThreePhaseNetwork, *, thermal_limits: bool = True,
                 max_loading_percent: float | None = None) -> dict[str, Any]:
    """OpenDSS's verdict on ``net`` as the user operates it (its normally open switches open,
    every other switchable line closed; controls off, the file's taps and capacitors held):
    the ``base`` block of :func:`feederopt.validation.base_case.opendss_base_case`, as a
    three-phase solve's (``feederopt partition`` has it from here)."""
    switchable = net.lines.filter(net.lines["switchable"])
    base_open = switchable.filter(switchable["normally_open"])["id"].to_list()
    sol = base_case_solution(net, floating_buses(net), thermal_limits=thermal_limits,
                             max_loading_percent=max_loading_percent)
    return opendss_base_case(sol, base_open)


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


#: Most seconds the OpenDSS branch-exchange polish (:func:`opendss_branch_exchange`) runs.
AC_POLISH_MAX_S = 60.0
#: A move must lower OpenDSS's losses (plus switching cost) by more than this [kW]: below
#: it the difference is OpenDSS's solution tolerance, not the topology.
AC_POLISH_TOL_KW = 1e-3


def radial_exchanges(net: ThreePhaseNetwork) -> Callable[[set[str]], list[tuple[str, str]]]:
    """The single branch exchanges ``(close, open)`` of ``net``'s switchable lines that keep
    the switchable part radial, as a function of the open switches: closing the open line
    ``close`` makes one loop (around the loops that no switch opens), and ``open`` is a closed
    switchable line on it. Tested on the graph of the switch blocks (the buses that no switch
    separates, :func:`feederopt.network.topology.switch_blocks`; a loop that no switch opens
    lies inside a block): after the exchange the closed switchable lines are a forest of the
    blocks (none joins a block to itself, as many lines as blocks less components) with as
    many components as with every switch closed (the branch exchange of M. E. Baran and F. F.
    Wu, "Network reconfiguration in distribution systems for loss reduction and load
    balancing", IEEE Trans. Power Delivery 4(2), 1989). The blocks are built once."""
    pu = to_per_unit_3ph(net, open_switches=set())
    f = np.array([e.f for e in pu.edges] + [b.f for b in pu.banks], int)
    t = np.array([e.t for e in pu.edges] + [b.t for b in pu.banks], int)
    switchable = np.array([e.switchable for e in pu.edges] + [False] * len(pu.banks), bool)
    n = len(pu.bus_ids)
    block, _ = switch_blocks(n, f, t, switchable, np.zeros(n, bool))
    n_blocks = int(block.max()) + 1 if n else 0
    ends = {e.id: (int(block[e.f]), int(block[e.t])) for e in pu.edges if e.switchable}

    def forest_parts(closed: list[str]) -> tuple[bool, int]:
        bf = np.array([ends[k][0] for k in closed], int)
        bt = np.array([ends[k][1] for k in closed], int)
        parts = int(components_of(n_blocks, bf, bt).max()) + 1 if n_blocks else 0
        return bool(np.all(bf != bt)) and len(closed) == n_blocks - parts, parts

    parts_all = forest_parts(list(ends))[1]

    def exchanges(open_now: set[str]) -> list[tuple[str, str]]:
        closed_now = [k for k in ends if k not in open_now]
        out = []
        for a in sorted(k for k in ends if k in open_now):
            for b in sorted(closed_now):
                if forest_parts([*(k for k in closed_now if k != b), a]) == (True, parts_all):
                    out.append((a, b))
        return out

    return exchanges


def opendss_branch_exchange(net: ThreePhaseNetwork, floating: set[str], open_switches: list[str],
              base_open: list[str], *, budget_s: float, budget_why: str,
              switch_cost_kw: float = 0.0,
              start: OpenDSSSolution | None = None, thermal_limits: bool = True,
              max_loading_percent: float | None = None) -> tuple[list[str], dict[str, Any]]:
    """Branch-exchange local search on OpenDSS's losses from the topology ``open_switches``.

    Each step solves OpenDSS (controls off, taps held, :func:`solve_opendss`) at every single
    branch exchange that keeps the switchable part radial (:func:`radial_exchanges`) and
    moves to the one of least ``P_loss,OpenDSS + c_sw * |open ^ base_open|`` among those that
    pass (every load served), keep every bus within its voltage limits and load no rated line
    or transformer above its rating (``max_loading_percent`` of it; not judged with
    ``thermal_limits=False``) but those whose flow no switch changes (the fixed overloads
    among them: :func:`feederopt.api_threephase_feedback.within_limits_judged`), if it
    lowers that cost by more than :data:`AC_POLISH_TOL_KW` (from a start outside the
    limits, any exchange within them is a move). It stops when no exchange does, or when
    ``budget_s`` runs out (checked before each OpenDSS solve). This is the branch exchange
    of Baran and Wu (IEEE Trans. Power Delivery 4(2), 1989) and of S. Civanlar, J. J.
    Grainger, H. Yin and S. S. H. Lee ("Distribution feeder reconfiguration for loss
    reduction", IEEE Trans. Power Delivery 3(3), 1988), with the AC power flow itself in place
    of their loss-change estimate: it corrects the lossless LinDist3Flow proxy's choice to a
    local optimum of OpenDSS's losses (a local one: one exchange at a time).

    Returns the final open switches and the record for the JSON (``ac_polish``)."""
    t0 = time.perf_counter()
    evaluations = 0
    rated: dict[str, Any] = {"thermal_limits": thermal_limits,
                             "max_loading_percent": max_loading_percent}
    unswitched = unswitched_elements(net) if thermal_limits else {}

    def cost(opened: set[str], sol: OpenDSSSolution) -> float:
        return sol.losses_kw + switch_cost_kw * len(opened ^ set(base_open))

    def ok(sol: OpenDSSSolution) -> bool:
        return within_limits_judged(sol, unswitched)

    current = set(open_switches)
    if start is None:
        # solve_again: the start may be the base, compared with the exchanges' solves
        start = solve_opendss(net, open_switches=current, floating_buses=floating,
                              with_controls=False, solve_again=True, **rated)
        evaluations += 1
    sol = start
    moves: list[dict[str, Any]] = []
    exchanges = radial_exchanges(net)
    stopped = "no exchange lowers the losses within the limits"
    done = False
    while not done:
        best: tuple[float, str, str, set[str], OpenDSSSolution] | None = None
        for a, b in exchanges(current):
            if time.perf_counter() - t0 >= budget_s:
                stopped, done = f"time budget ({budget_why}, {budget_s:.3g} s)", True
                break
            trial = (current - {a}) | {b}
            cand = solve_opendss(net, open_switches=trial, floating_buses=floating,
                                 with_controls=False, **rated)
            evaluations += 1
            if ok(cand) and (best is None or cost(trial, cand) < best[0]):
                best = (cost(trial, cand), a, b, trial, cand)
        if done or best is None:
            break
        better = (best[0] < cost(current, sol) - AC_POLISH_TOL_KW) if ok(sol) else True
        if not better:
            break
        moves.append({"close": best[1], "open": best[2],
                      "opendss_losses_kw": _num(best[4].losses_kw),
                      "cost_kw": _num(best[0])})
        current, sol = best[3], best[4]
    record = {
        "enabled": True, "moves": moves, "open_switches": sorted(current),
        "opendss_losses_before_kw": _num(start.losses_kw),
        "opendss_losses_after_kw": _num(sol.losses_kw),
        "opendss_min_voltage_pu": _range(sol)[0], "opendss_max_voltage_pu": _range(sol)[1],
        "within_voltage_limits": sol.within_voltage_limits, "passed": sol.passed,
        "within_thermal_limits": sol.within_thermal_limits,
        "opendss_max_loading_percent": _num(sol.max_loading_percent),
        "opendss_max_loading_element": sol.max_loading_element,
        "within_limits": ok(sol), "evaluations": evaluations, "time_s": time.perf_counter() - t0,
        "budget_s": budget_s, "budget": budget_why, "stopped": stopped,
    }
    return sorted(current), record


def _polish(net: ThreePhaseNetwork, topo: ThreePhaseTopology, floating: set[str],
            base_open: list[str], enabled: bool, notes: list[str], left_s: float,
            switch_cost_kw: float, start: OpenDSSSolution | None, thermal_limits: bool = True,
            max_loading_percent: float | None = None) -> dict[str, Any] | None:
    """``--ac-polish`` of :func:`solve_three_phase`: None when off; else the record of
    :func:`opendss_branch_exchange` from ``topo`` (whose open switches and LinDist3Flow flow
    become the polished topology's), or why it was skipped."""
    if not enabled:
        return None
    why = None
    if not net.meta.get("source_path"):
        why = "the network was not read from an OpenDSS file"
    elif topo.flow is None:
        why = "the MILP has no topology to start from"
    elif not net.lines.filter(pl.col("switchable")).height:
        why = "the feeder has no switchable lines"
    if why is not None:
        notes.append(f"--ac-polish skipped: {why}")
        return {"enabled": False, "skipped": why}
    budget, budget_why = (AC_POLISH_MAX_S, "cap") if left_s > AC_POLISH_MAX_S else (
        max(left_s, 0.0), "time limit left")
    opened, record = opendss_branch_exchange(
        net, floating, topo.open_switches, base_open, budget_s=budget, budget_why=budget_why,
        switch_cost_kw=switch_cost_kw, start=start, thermal_limits=thermal_limits,
        max_loading_percent=max_loading_percent)
    if record["moves"]:
        topo.open_switches = opened
        if topo.status == "optimal":
            # the answer is no longer the MILP's optimum (as the balanced polish: feasible);
            # the MILP's objective and bound stay in milp_objective_kw / lower_bound_kw
            topo.status = "feasible"
            notes.append("status feasible: --ac-polish moved the answer from the MILP's "
                         "optimum to a topology of lower OpenDSS losses (or within the "
                         "limits); the MILP's objective and bound are kept")
        try:
            topo.flow = lindist3flow_power_flow(net, open_switches=set(opened))
        except SolverError:  # keep OpenDSS's answer; the lossless flow has none here
            notes.append("--ac-polish: LinDist3Flow has no flow at the polished topology")
    return record


def _source_path(source: Any) -> str | None:
    """The absolute path of the feeder file a solve read (the result records it so that no
    output replaces it; for a network given as an object, the file it was read from), the
    built-in case's name (as a balanced solve records it; user test ut_cli #7: ``source``
    was null for ``ieee13mod``), or None (a network built in memory)."""
    if isinstance(source, str | Path) and Path(source).is_file():
        return str(Path(source).resolve())
    if isinstance(source, str) and has_three_phase_case(source):
        return source
    # a network read from a file beforehand: the file it was read from (user test ut_io #2,
    # whose balanced twin replaced the input with save_json(..., force=True))
    read_from = getattr(source, "meta", {}).get("source_path")
    if isinstance(read_from, str | Path) and Path(read_from).is_file():
        return str(Path(read_from).resolve())
    return None


@option_names({**TIME_LIMIT_S, **VOLTAGE_LIMITS_PU})
def solve_three_phase(source: Any, *, time_limit_s: float = 300.0, gap: float = 1e-4,
                      ac_check: bool = True, thermal_limits: bool = True,
                      max_loading_percent: float | None = None,
                      v_min_pu: float | None = None,
                      v_max_pu: float | None = None, voltage_feedback: bool = True,
                      feedback_iterations: int = FEEDBACK_ITERATIONS,
                      switch_cost_kw: float | None = None,
                      scenarios: Any = None, ac_polish: bool = False) -> ThreePhaseResult:
    """The loss-minimising radial topology of a three-phase feeder (LinDist3Flow with a loss
    proxy, a MILP on HiGHS), checked by OpenDSS's power flow: a
    :class:`~feederopt.results.threephase.ThreePhaseResult` (typed attributes; ``to_dict()``
    is the JSON of ``--json``, with the keys named below; ``result["key"]`` still reads them).

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
    516 kW against 849 kW). ``lower_bound_source``, ``lower_bound_basis`` and ``gap`` say what
    the bound rests on and the gap it proves (:func:`bound_record`: out of time, the MILP's LP
    relaxation bounds the radial states not evaluated; ``trivial``, with no gap, when nothing
    better than 0 was had), and ``base_kept`` that the answer is the base topology kept over
    the search's: a time-limited run's incumbent, or, with the voltage feedback, the base
    that OpenDSS puts below the model's answer (less OpenDSS loss plus switching cost, or the
    answer out of a limit that the base keeps: status ``feasible``;
    ``voltage_feedback["base_kept_why"]`` and ``["displaced_answer"]``); a note says why, on
    every path. ``notes`` says when there is
    nothing to reconfigure and names the loops that no switch opens (``permanent_loops``: they
    stay closed, the switchable part is made radial around them).
    The OpenDSS check (``ac_check``) solves the topology with the model's regulator taps and
    capacitor states held (OpenDSS's controls off), counts de-energised nodes and unserved load,
    and does not pass (``ac_check["passed"]``) when any load is left without voltage;
    ``ac_check["with_controls"]`` is the same topology with OpenDSS's controls acting (the taps
    they move, losses, voltages), for information. ``opendss_fixed_overloads`` (OpenDSS's
    overloads that no switching relieves) comes from the check, or without it from the voltage
    feedback's (or OpenDSS's ranking's) solve of the answer, a note saying which.
    When the ratings leave the MILP infeasible and OpenDSS, ranking the radial states
    (:func:`opendss_least_overloading`), puts some within every limit, the answer is the one
    of least OpenDSS losses among them, status ``feasible``. When the search enumerated few
    radial states, OpenDSS solves every one after the voltage feedback and the answer is the
    one of least OpenDSS losses (plus switching cost) within every limit, status ``optimal``
    over them by OpenDSS (:func:`opendss_least_losses`; LinDist3Flow's proxy ranks them
    otherwise).

    ``switch_cost_kw`` prices each switch whose state differs from the base case in the MILP's
    objective (kW of loss proxy per action; ``switching_actions``, ``switching_cost_kw`` in
    the result; the voltage feedback keeps the answer of least OpenDSS losses plus switching
    cost). ``scenarios`` (a scenario table's path or DataFrame, polars or pandas,
    :mod:`feederopt.io.scenarios`' format) solves for one topology for all of them
    (:func:`solve_three_phase_scenarios`).

    ``ac_polish`` (off by default) moves the answer by single branch exchanges to a local
    optimum of OpenDSS's losses within the voltage limits (:func:`opendss_branch_exchange`,
    within the time limit left, at most :data:`AC_POLISH_MAX_S`); ``ac_polish`` in the result
    records it, and the topology, flow and OpenDSS check are then the polished one's (an
    ``optimal`` status becomes ``feasible``: no longer the MILP's optimum). Not with
    ``scenarios`` (a note says so)."""
    check_not_forked("feederopt.solve_three_phase")
    # the checks of the command line's --time-limit and --gap, with the others, all at once
    problems = time_limit_problems(time_limit_s, "time_limit_s") + gap_problems(gap) + (
        voltage_limit_problems(v_min_pu, v_max_pu) + loading_problems(max_loading_percent)
        + switch_cost_problems(switch_cost_kw, MAX_SWITCH_COST_KW))
    # the switches and the count by the one rule of every entry point (ac_check="no" was
    # read as true, voltage_feedback=0 taken: user test ut48_pyapi #5)
    problems += switch_problems(ac_check=ac_check, thermal_limits=thermal_limits,
                                voltage_feedback=voltage_feedback, ac_polish=ac_polish)
    problems += count_problems(
        "feedback_iterations", feedback_iterations, least=1, example=FEEDBACK_ITERATIONS,
        note=f" (MILPs of the voltage feedback); {option_ref('voltage_feedback', False)} "
        "switches it off")
    if scenarios is not None:
        problems += scenario_source_problems(scenarios)
    if problems:
        raise InputError(problems)
    # the options as given, for the result's ``settings`` (report FILE.json's hint)
    settings: dict[str, Any] = {
        "time_limit_s": float(time_limit_s), "gap": float(gap), "ac_check": ac_check,
        "ac_polish": ac_polish, "voltage_feedback": voltage_feedback,
        "feedback_iterations": feedback_iterations, "thermal_limits": thermal_limits,
        "max_loading_percent": max_loading_percent, "v_min_pu": v_min_pu,
        "v_max_pu": v_max_pu, "switch_cost_kw": switch_cost_kw}
    if isinstance(scenarios, str | Path):
        settings["scenarios_file"] = str(Path(scenarios).resolve())
    cost = float(switch_cost_kw or 0.0)
    net = load_three_phase(source)
    problems = crossed_limit_problems(net.buses, v_min_pu, v_max_pu)
    if problems:
        raise InputError(problems)
    net = with_voltage_limits(net, v_min_pu, v_max_pu)
    rows = scenario_rows(net, scenarios) if scenarios is not None else None
    switchable = net.lines.filter(net.lines["switchable"])
    base_open = sorted(switchable.filter(switchable["normally_open"])["id"].to_list())
    # what the reader reduced (centre-tapped service transformers and their secondaries), the
    # switches it holds, the disabled plain lines and unknown length units it found
    # (meta["reductions"]), and the loads that no power flow can supply (kW typed with zeros
    # too many: the MILP is then infeasible)
    notes: list[str] = [*net.meta.get("reductions", []), *net.meta.get("load_warnings", [])]
    factor = loading_factor_note(max_loading_percent) if thermal_limits else None
    if factor:  # --max-loading 1.2 meant as 120 %: the balanced solve's rule (ut50_recheck #6)
        notes.append(factor)
    if switchable.height == 0:
        notes.append("the feeder has no switchable lines (Switch=yes or a SwtControl): there "
                     "is nothing to reconfigure, the answer is the base topology")
    elif not base_open:
        notes.append(_all_closed_note(net, switchable.height))
    if voltage_feedback and not net.meta.get("source_path"):
        voltage_feedback = False
        notes.append("the voltage feedback needs OpenDSS's file of the feeder, which this "
                     "network was not read from: the lossless voltages are held to the limits")
    skip = "with scenarios: the branch exchange judges one operating point's OpenDSS losses"
    if rows is not None and ac_polish:
        notes.append(f"--ac-polish skipped: {skip}")
    if rows is not None:
        result = solve_three_phase_scenarios(
            net, rows, base_open, notes, time_limit_s=time_limit_s, gap=gap,
            ac_check=ac_check, thermal_limits=thermal_limits,
            max_loading_percent=max_loading_percent, voltage_feedback=voltage_feedback,
            feedback_iterations=feedback_iterations, switch_cost_kw=switch_cost_kw,
            limits_given=v_min_pu is not None or v_max_pu is not None)
        if ac_polish:
            result = replace(result, ac_polish=AcPolish({"enabled": False, "skipped": skip}))
        return replace(result, source=_source_path(source), settings=settings)
    t_start = time.perf_counter()
    floating = floating_buses(net) if ac_check or voltage_feedback or ac_polish else set()
    base: OpenDSSSolution | None = None
    kept: OpenDSSSolution | None = None
    feedback: dict[str, Any] | None = None
    if voltage_feedback:
        topo, base, kept, feedback = _voltage_feedback(
            net, floating, base_open, time_limit_s=time_limit_s, gap=gap,
            thermal_limits=thermal_limits, max_loading_percent=max_loading_percent,
            max_iterations=feedback_iterations, switch_cost_kw=cost)
    else:
        topo = reconfigure_three_phase(net, time_limit_s=time_limit_s, gap=gap,
                                       thermal_limits=thermal_limits,
                                       max_loading_percent=max_loading_percent,
                                       switch_cost_kw=cost)
    # which OpenDSS solve ``kept`` is (of the answer, unless the AC polish moves it)
    kept_by = "the voltage feedback's OpenDSS solve of the answer"
    if feedback is not None and topo.method == "enumeration" and topo.flow is not None \
            and topo.status in ("optimal", "feasible"):
        # few radial states: OpenDSS's own least losses over them, not LinDist3Flow's order
        before = sorted(topo.open_switches)
        decided, feedback["opendss_states"] = opendss_least_losses(
            net, topo, floating, thermal_limits=thermal_limits,
            max_loading_percent=max_loading_percent, switch_cost_kw=cost,
            deadline=t_start + time_limit_s,
            lindist3flow_pick=(feedback.get("displaced_answer") or {}).get("open_switches")
            if feedback.get("base_kept") else None)
        if decided is not None and sorted(topo.open_switches) != before:
            # moved: the feedback's solve is of another state
            kept, kept_by = decided, "OpenDSS's solve of the answer over the radial states"
    if feedback is not None and feedback.get("base_kept"):
        notes.append(base_kept_note(time_limit_s, feedback))
    searched = len(notes)
    notes.extend(topo.notes)  # the search's own: the base kept without the feedback's loop
    least: dict[str, Any] | None = None
    if topo.status == "infeasible" and topo.flow is not None and thermal_limits:
        # a least-overloading answer: OpenDSS ranks the radial states when they are few
        # (and answers, status feasible, when it finds one within every limit: its note)
        said = len(topo.notes)
        ranked, least = opendss_least_overloading(
            net, topo, floating, max_loading_percent=max_loading_percent,
            switch_cost_kw=cost, deadline=t_start + time_limit_s,
            opendss=ac_check or voltage_feedback or ac_polish)
        # the search's notes as the ranking left them (its least-overloading note says that
        # OpenDSS's ranking chose: user test ut48_dss3 #2), then the ranking's own
        notes[searched:searched + said] = topo.notes[:said]
        notes.extend(topo.notes[said:])
        if ranked is not None:
            kept = ranked
            kept_by = "OpenDSS's solve of the answer in its ranking of the radial states"
            if least["chosen"] != least["lindist3flow_pick"] and feedback is not None:
                notes.append("the voltage feedback's rows end at LinDist3Flow's "
                             "least-overloading topology; OpenDSS's ranking of the radial "
                             "states moved the answer from it (least_overloading)")
    if (topo.status == "infeasible" and topo.flow is None and feedback is not None
            and topo.reason.startswith("infeasible: no radial topology keeps every voltage")):
        # the voltage feedback's MILP is a heuristic: OpenDSS decides over few radial states
        # (user test ut_3ph2 D1: exit 3 where OpenDSS found two states within the limits)
        said = len(topo.notes)
        found, states = opendss_within_voltage_states(
            net, topo, floating, thermal_limits=thermal_limits,
            max_loading_percent=max_loading_percent, switch_cost_kw=cost,
            deadline=t_start + time_limit_s, opendss=ac_check or voltage_feedback)
        notes.extend(topo.notes[said:])
        feedback["opendss_states"] = states
        if found is not None:
            kept, kept_by = found, "OpenDSS's solve of the answer over the radial states"
    polish = _polish(net, topo, floating, base_open, ac_polish, notes,
                     time_limit_s - (time.perf_counter() - t_start), cost,
                     kept, thermal_limits, max_loading_percent)
    for part in topo.permanent_loops:
        notes.append(f"{len(part)} element(s) form loops that no switch opens and stay closed "
                     f"({_names(part)}); radiality is imposed on the switchable part")
    solved = topo.flow is not None
    flow = topo.flow
    check: OpenDssCheck | None = None
    fixed_dss: list[str] = []
    volts: dict[str, dict[str, float]] = {}
    base_losses = base_unserved = None
    base_case: dict[str, Any] = {}
    if ac_check and flow is not None:
        if base is None:
            # solved once more, as the answer is: its losses are the reduction's reference,
            # its limits those the answer's check holds
            base = base_case_solution(net, floating, thermal_limits=thermal_limits,
                                      max_loading_percent=max_loading_percent)
        # the user's own switch states against the limits (validation.base_case, as a
        # balanced solve's `base`)
        base_case = opendss_base_case(base, base_open)
        sol = solve_opendss(net, open_switches=set(topo.open_switches),
                            floating_buses=floating, model_voltages=flow.voltages_pu,
                            thermal_limits=thermal_limits,
                            max_loading_percent=max_loading_percent, solve_again=True)
        base_losses, base_unserved = _num(base.losses_kw), base.unserved_load_kw
        check = OpenDssCheck({"engine": "OpenDSS", **sol.to_dict(), "warnings": sol.warnings})
        # every node's |V| [p.u.], for the report's voltage profile (``--out DIR``)
        volts = {"opendss": sol.voltages_pu, "opendss_base": base.voltages_pu}
        if thermal_limits:  # OpenDSS's overloads that no switching relieves
            fixed_dss, note = opendss_fixed_overloads(
                [(None, sol)], unswitched_elements(net), topo.fixed_overloads,
                sol.loading_limit_percent)
            if note:
                notes.append(note)
    elif flow is not None and thermal_limits and kept is not None \
            and sorted(kept.open_switches) == sorted(topo.open_switches):
        # --no-ac-check: the same verdict from the feedback's (or the ranking's) OpenDSS
        # solve of the answer, which has OpenDSS's currents (not after a polish's move)
        fixed_dss, note = opendss_fixed_overloads(
            [(None, kept)], unswitched_elements(net), topo.fixed_overloads,
            kept.loading_limit_percent, solved_by=kept_by)
        if note:
            notes.append(note)
    if flow is not None:
        volts["lindist3flow"] = flow.voltages_pu
    return replace(ThreePhaseResult(
        case=net.name,
        method="lindist3flow",
        status=topo.status,
        has_solution=solved,
        reason=topo.reason,
        overloaded=tuple(topo.overloaded), fixed_overloads=tuple(topo.fixed_overloads),
        opendss_fixed_overloads=tuple(fixed_dss),
        least_overloading=LeastOverloading(least) if least is not None else None,
        thermal_limits=thermal_limits,
        max_loading_percent=max_loading_percent,
        voltage_limits=VoltageLimits.from_dict(
            _limits_used(net, v_min_pu is not None or v_max_pu is not None)),
        notes=tuple(notes),
        permanent_loops=tuple(tuple(p) for p in topo.permanent_loops),
        open_switches=tuple(topo.open_switches),
        base_open_switches=tuple(base_open),
        changed_switches=tuple(sorted(set(topo.open_switches) ^ set(base_open))
                               if solved else ()),
        # the proxy of the answer's LinDist3Flow flow, and of it on the source's own impedance
        # (not in OpenDSS's losses); the MILP's objective is its tangent-plane under-estimate
        loss_proxy_kw=_num(flow.loss_proxy_kw) if flow else None,
        loss_proxy_source_kw=_num(flow.source_loss_proxy_kw) if flow else None,
        milp_objective_kw=_num(topo.loss_proxy_kw),
        lower_bound_kw=_num(topo.bound_kw),
        **bound_record(topo, flow.loss_proxy_kw if flow else None),
        # the answer is the base topology, the incumbent of a time-limited run or OpenDSS's
        # pick over the model's answer (a note says so; --ac-polish may have moved from it)
        base_kept=bool(topo.base_kept or (feedback or {}).get("base_kept"))
        and sorted(topo.open_switches) == base_open,
        solve_time_s=topo.solve_time_s,
        milp_solves=topo.milp_solves,
        tangents_added=topo.tangents_added,
        search=search_label(topo),
        lindist3flow_min_voltage_pu=_num(flow.min_voltage_pu) if flow else None,
        lindist3flow_max_voltage_pu=_num(flow.max_voltage_pu) if flow else None,
        voltage_feedback=VoltageFeedback(feedback if feedback is not None
                                         else {"enabled": False}),
        **_switching_fields(topo, base_open, switch_cost_kw),
        ac_polish=AcPolish(polish) if polish is not None else None,
        base_losses_kw=base_losses,
        base_unserved_load_kw=base_unserved,
        base=base_case,
        ac_check=check,
        node_voltages_pu=volts or None,
        grid=report_grid(net, set(topo.open_switches) if solved else set(base_open),
                         set(base_open)),
    ), source=_source_path(source), settings=settings)


def _switching_fields(topo: ThreePhaseTopology, base_open: list[str],
                      switch_cost_kw: float | None) -> dict[str, Any]:
    """:func:`switching_record` as :class:`ThreePhaseResult`'s fields."""
    record = switching_record(topo, base_open, switch_cost_kw)
    record["switching_actions"] = tuple(SwitchingAction(a["switch"], a["action"])
                                        for a in record["switching_actions"])
    return record


def base_kept_note(time_limit_s: float, record: dict[str, Any]) -> str:
    """The note of a time-limited run that keeps the base topology (the voltage feedback's
    ``base_kept``): what the MILP's answers were, against the base's OpenDSS losses."""
    key = ("opendss_expected_losses_kw" if record.get("per_scenario")
           else "opendss_losses_kw")
    rows = record.get("iterations") or []
    base = next((r.get(key) for r in rows if r["topology"] == "base"), None)
    if record.get("base_kept_why") in ("opendss_losses", "opendss_limits"):
        return opendss_base_note(record)
    found = [r for r in rows if r["topology"] == "answer" and r.get(key) is not None]
    what = ("the MILP found no topology in that time" if not found else
            "the MILP's best answer in that time ("
            + ", ".join(sorted({f"{r[key]:.3f} kW" for r in found}))
            + " by OpenDSS) is worse than it or breaks a limit")
    return (f"the time limit (--time-limit {time_limit_s:g} s) ran out before the MILP "
            f"proved an answer; the base topology (within the voltage limits and the "
            f"ratings that switching changes, "
            + (f"{base:.3f} kW by OpenDSS" if base is not None else "solved by OpenDSS")
            + f") is kept: {what}; raise --time-limit for a proven answer")


def opendss_base_note(record: dict[str, Any]) -> str:
    """The note of a run that keeps the base topology over the model's answer by OpenDSS's
    verdict (the voltage feedback's ``base_kept_why`` ``opendss_losses`` or
    ``opendss_limits``, :func:`feederopt.api_threephase_feedback.feedback_loop`): the model's
    pick (the switches it changes) and its OpenDSS losses (weighted over the scenarios; plus
    its switching cost, the feedback's measure) against the base topology's, or the limit it
    breaks in OpenDSS where the base keeps them all."""
    per = bool(record.get("per_scenario"))
    d = record.get("displaced_answer") or {}
    rows = record.get("iterations") or []
    k = d.get("iteration")
    row = rows[k] if isinstance(k, int) and 0 <= k < len(rows) else {}
    pick = ("the model's optimum" if d.get("status") == "optimal"
            else f"the model's answer (status {d.get('status', '-')})")
    changed = ", ".join(d.get("changed_switches") or []) or "-"
    what = "expected (weighted) OpenDSS losses" if per else "in OpenDSS"
    cost = d.get("switching_cost_kw") or 0.0

    def kw(x: Any) -> str:
        return f"{x:.2f} kW" if isinstance(x, float | int) else "- kW"

    losses = d.get("loss_kw")
    ans = (kw(losses - cost) + f" {what} plus {cost:g} kW of switching cost"
           if cost and isinstance(losses, float | int) else f"{kw(losses)} {what}")
    # OpenDSS's ranking of every radial state (opendss_least_losses) proves more
    status = ("status optimal over the radial states by OpenDSS" if
              (record.get("opendss_states") or {}).get("proven") else "status feasible")
    if record.get("base_kept_why") == "opendss_losses":
        return (f"{pick} ({changed} changed) has {ans} against the base topology's "
                f"{kw(d.get('base_loss_kw'))}; the base topology is kept ({status}: "
                "within every limit by OpenDSS, with less loss than the model's pick; the "
                "model's bound stays as lower_bound_kw)")
    broken = []
    if row.get("passed") is False:
        broken.append("load left unserved (or no convergence)")
    if row.get("within_voltage_limits") is False:
        broken.append("the voltage limits")
    elif row.get("within_limits") is False:
        broken.append("a rating that switching changes")
    return (f"{pick} ({changed} changed) breaks "
            + (", ".join(broken) or "a limit") + f" in OpenDSS ({ans}), where the base "
            f"topology ({kw(d.get('base_loss_kw'))}) keeps every limit; the base topology is "
            f"kept ({status}: within every limit by OpenDSS; the model's bound stays as "
            "lower_bound_kw)")


def bound_record(topo: ThreePhaseTopology, proxy_kw: float | None) -> dict[str, Any]:
    """What the lower bound rests on, for the JSON: ``lower_bound_source`` (the topology's
    ``bound_source``: ``milp``, ``enumeration``, ``relaxation`` or ``trivial``),
    ``lower_bound_basis`` (:data:`~feederopt.algorithms.threephase.BOUND_SOURCES`, in words)
    and ``gap``, the answer's loss proxy ``proxy_kw`` (weighted, with scenarios) plus its
    switching cost less the bound, relative to it; None without an answer or with a trivial
    bound, which proves no gap (a gap of 100 % would only restate that the proxy is not
    negative)."""
    source = topo.bound_source
    gap = None
    if proxy_kw is not None and source != "trivial" and math.isfinite(topo.bound_kw):
        answer = proxy_kw + topo.switching_cost_kw
        if answer > 0:
            gap = max(answer - topo.bound_kw, 0.0) / answer
    return {"lower_bound_source": source, "lower_bound_basis": BOUND_SOURCES.get(source, ""),
            "gap": _num(gap)}


def search_label(topo: ThreePhaseTopology) -> str:
    """How the topology was searched, for the JSON's ``search``: ``"milp"``, or
    ``"enumeration (N radial states)"`` when every radial switch state was evaluated
    (:mod:`feederopt.algorithms.radial_enumeration`)."""
    if topo.method == "enumeration":
        n = topo.radial_states
        return f"enumeration ({n} radial state{'' if n == 1 else 's'})"
    return topo.method


def report_grid(net: ThreePhaseNetwork, open_switches: set[str],
                base_open: set[str]) -> dict[str, Any]:
    """The feeder as the report draws it (:mod:`feederopt.report.threephase`): ``buses``
    (phases, voltage limits, the file's ``BusCoords`` ``x``/``y`` when it has them, and
    ``distance_m``/``base_distance_m``, the length of the shortest path of closed lines from a
    source with ``open_switches`` and with ``base_open`` open, None where no closed path
    reaches), ``branches`` (lines, series capacitors and transformers in service, their kind
    (``switch``, ``line``, ``capacitor``, ``transformer``) and whether they are closed in the
    answer and in the base case) and ``sources`` (the source buses).

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
            "kind": "switch" if switch else (
                "capacitor" if r["kind"] == "capacitor" else "line"), "phases": r["phases"],
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
    # the file's lengths without a unit (IEEE 37's, in kft by its impedances) are bare numbers
    unitless = int(net.meta.get("unitless_lengths", 0) or 0)
    return {"buses": buses, "branches": branches, "sources": sources,
            "length_unit": "none" if unitless else "m"}


# ----- switching cost and scenarios -------------------------------------------------------------
def switching_record(topo: ThreePhaseTopology, base_open: list[str],
                     switch_cost_kw: float | None) -> dict[str, Any]:
    """The switching actions of an answer against the base case (``open`` a base-closed
    switch, ``close`` a base-open one) and their cost, for the JSON."""
    solved = topo.flow is not None
    changed = sorted(set(topo.open_switches) ^ set(base_open)) if solved else []
    return {
        "switch_cost_kw": switch_cost_kw,
        "switching_actions": [{"switch": k, "action": "close" if k in base_open else "open"}
                              for k in changed],
        "switching_cost_kw": (float(switch_cost_kw or 0.0) * len(changed)) if solved else None,
    }


def scenario_rows(net: ThreePhaseNetwork, source: Any) -> ScenarioRows:
    """A scenario table (path or DataFrame) validated on a three-phase feeder: ``element`` is
    a load id (OpenDSS's ``Load`` name, bare or in full, ``Load.<name>``), a bus id or a
    generating unit's id (kind ``generator``: the unit's OpenDSS full name, ``PVSystem.pv1``,
    as the generators table has it), in any case as OpenDSS's names are (the reader's ids
    are OpenDSS's lower-case ones); typed ``bad_scenario`` problems
    (:func:`feederopt.io.scenarios.resolve_scenario_rows`)."""
    loads = net.loads
    live = sorted(set(loads.filter(pl.col("in_service"))["id"].to_list()))
    gone = sorted(set(loads["id"].to_list()) - set(live))
    gens = net.generators
    units = sorted(set(gens.filter(pl.col("in_service"))["id"].to_list()))
    units_off = sorted(set(gens["id"].to_list()) - set(units))
    unit_of = {u.lower(): u for u in [*units, *units_off]}
    bus_ids = net.buses["id"].to_list()
    df = scenario_table(source)
    if "element" in df.columns:
        known_loads, known = set(live) | set(gone), set(live) | set(gone) | set(bus_ids)
        kinds = df["kind"].to_list() if "kind" in df.columns else [None] * df.height

        def opendss_id(e: str | None, kind: str | None) -> str | None:
            if e is None or e in known or e in unit_of.values():
                return e
            low = e.lower()
            if kind in (None, "", "generator") and low in unit_of:
                return unit_of[low]
            if low.startswith("load.") and kind != "bus" and low[5:] in known_loads:
                return low[5:]
            return low if low in known else e

        elements = df["element"].to_list()
        df = df.with_columns(pl.Series("element", [
            opendss_id(e, k) for e, k in zip(elements, kinds, strict=True)], dtype=pl.String))
        # ``Load.<name>`` names the load, not a bus of the same name: its kind is ``load``
        full = [k in (None, "") and isinstance(e, str) and e.lower().startswith("load.")
                for e, k in zip(elements, kinds, strict=True)]
        if any(full):
            df = df.with_columns(pl.Series("kind", [
                "load" if f else k for f, k in zip(full, kinds, strict=True)], dtype=pl.String))
    rows = resolve_scenario_rows(df, live, bus_ids, gone, units, units_off)
    absorbing = [f"{unit} in {name}: {p * 1000:.4g} kW" for s, name in enumerate(rows.names)
                 for unit, (p, _) in rows.generator_outputs(s).items()
                 if unit.lower().startswith("pvsystem.") and p < -PV_ABSORB_TOL_MW]
    if absorbing:  # OpenDSS's PV output is its panel's, never below 0 (a Generator can be)
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "scenarios", "a PV system cannot absorb power (OpenDSS "
            "would put it out at 0 kW where the model takes the row): "
            + "; ".join(absorbing[:5]) + (" ..." if len(absorbing) > 5 else ""),
            tuple(sorted({a.split(" ", 1)[0] for a in absorbing})), field="p_mw",
            hint="give a PV system's output >= 0, or its absorbed power as a load or bus row")])
    over = _rows_over_rating(gens, rows)
    if over:  # OpenDSS caps a unit at its kVA: the check would not see the row's output
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "scenarios", "generator row(s) above the unit's kVA "
            "rating (OpenDSS would cap the output that the model takes as given): "
            + "; ".join(over[:5]) + (" ..." if len(over) > 5 else ""),
            tuple(sorted({o.split(" ", 1)[0] for o in over})), field="p_mw",
            hint="give an output within the unit's rating, or raise its kVA in the .dss file")])
    secondary = set(net.meta.get("secondaries") or {})
    on_secondary = sorted({b for per in rows.buses for b in per if b in secondary})
    if on_secondary:  # one 240 V node in the model, two hot nodes in OpenDSS
        raise InputError([Problem(
            ProblemKind.BAD_SCENARIO, "scenarios", "bus row(s) at a reduced 120/240 V "
            "secondary bus", tuple(on_secondary), field="element",
            hint="give the DER as a load row of a load at that bus, or at the primary bus")])
    # a bus that draws or injects more than any power flow can bring or carry away (kW
    # written as MW), as the balanced solve refuses it (io.scenarios)
    unsuppliable = three_phase_unsuppliable(net, rows)
    if unsuppliable is not None:
        raise InputError([unsuppliable])
    return rows


#: The scenario weights' sum within this of 1 is 1 (no note that they were normalised).
WEIGHT_SUM_TOL = 1e-9

#: A PV system's row below minus this [MW] (1 mW) absorbs power, which OpenDSS's PV cannot:
#: a problem; above it, float noise of OpenDSS's own terminal powers at night is allowed.
PV_ABSORB_TOL_MW = 1e-9

#: Relative tolerance of a ``generator`` row's apparent power over the unit's rating
#: (OpenDSS's own daily-mode outputs at the terminals exceed the kVA by up to 3.2e-6: Iowa
#: 240's PV systems).
RATING_TOL = 1e-4


def _rows_over_rating(gens: pl.DataFrame, rows: ScenarioRows) -> list[str]:
    """``"unit in scenario: S > rating"`` for each ``generator`` row whose apparent power
    ``sqrt(p^2 + q^2)`` exceeds the unit's ``s_max_mva`` (a positive rating)."""
    rating = {r["id"]: float(r["s_max_mva"] or 0.0) for r in gens.iter_rows(named=True)}
    out = []
    for s, name in enumerate(rows.names):
        for unit, (p, q) in rows.generator_outputs(s).items():
            cap = rating.get(unit, 0.0)
            if cap > 0 and math.hypot(p, q) > cap * (1 + RATING_TOL):
                out.append(f"{unit} in {name}: {math.hypot(p, q) * 1000:.4g} kVA > "
                           f"{cap * 1000:.4g} kVA")
    return out


def daily_scenarios(source: str | Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The scenarios of the daily load shapes of the OpenDSS feeder ``source`` (one per time
    step, :func:`feederopt.io.opendss_shapes.daily_load_scenarios`), validated on the feeder
    as ``--scenarios`` will read them (:func:`scenario_rows`), and a summary: ``count``,
    ``interval_h``, ``horizon_h``, ``shaped_loads``, ``unshaped_loads`` (in service, no daily
    shape: their snapshot kW all day), ``p_mw_min``/``p_mw_max`` (the total demand over the
    steps) and ``snapshot_p_mw`` (the snapshot's total, what ``solve`` without scenarios
    takes), ``shaped_ders`` (the PVSystem, Generator and Storage elements with a daily shape,
    whose ``generator`` rows give their output in OpenDSS's daily mode) and ``unshaped_ders``
    (those of them whose shape has no points, which OpenDSS does not apply: their rows are
    their snapshot output)."""
    check_not_forked("feederopt.daily_scenarios")
    net = load_three_phase(source)
    # the loads re-rated at their bus's voltage scale their rows by OpenDSS's law there
    shapes = daily_load_scenarios(opendss_file(source), net.meta.get("rerated_loads"))
    table = shapes.table
    rows = scenario_rows(net, table)
    live = net.loads.filter(pl.col("in_service"))
    shaped = set(table.filter(pl.col("kind") == "load")["element"].unique().to_list())
    base = {r["id"]: 0.0 for r in live.iter_rows(named=True)}
    for r in live.iter_rows(named=True):
        base[r["id"]] += float(r["p_mw"])
    totals = [sum(p for p, _ in per.values()) + sum(v for k, v in base.items() if k not in per)
              for per in rows.loads]
    return table, {
        "count": len(rows.names),
        "interval_h": shapes.interval_h,
        "horizon_h": shapes.horizon_h,
        "shaped_loads": len(shaped),
        "unshaped_loads": len(set(base) - shaped),
        "p_mw_min": min(totals), "p_mw_max": max(totals),
        "snapshot_p_mw": sum(base.values()),
        "shaped_ders": shapes.shaped_ders,
        "unshaped_ders": shapes.unshaped_ders,
    }


#: The id of the load that a scenario's ``bus`` row adds at a bus (model and OpenDSS).
def bus_load_id(bus: str) -> str:
    return f"feederopt_{bus}"


def scenario_networks(net: ThreePhaseNetwork, rows: ScenarioRows) -> list[ThreePhaseNetwork]:
    """``net`` with each scenario's loads (``rows``, :func:`scenario_rows`).

    A ``load`` row gives the load's total ``P, Q`` [MW, MVAr], spread over its parts (phases
    or phase pairs, the rows of ``net.loads``) in their nominal shares ``p_k / sum p``
    (``q_k / sum q``; equal shares when the nominal total is 0); its voltage dependence is
    kept. A ``bus`` row adds a net demand at the bus, spread equally over the bus's phases as
    constant-power wye parts (load id :func:`bus_load_id`; negative injects). Loads without a
    row keep their nominal demand. A ``generator`` row sets the unit's output ``p_mw``,
    ``q_mvar`` in the ``generators`` table (positive injects; the model's fixed injection,
    spread equally over its phases as for the snapshot output); units without a row keep
    their snapshot output.

    The scenarios start from the file's own load rows: a row that the reader re-rated at
    OpenDSS's solution of the file (outside its ``Vminpu``-``Vmaxpu`` band there, a tangent of
    OpenDSS's law at that one voltage, :mod:`feederopt.io.opendss_rated_kv`) is put back to
    its model at its kV (:meth:`~feederopt.network.threephase.ThreePhaseNetwork.
    nameplate_band_loads`), since a scenario's voltages are not the file's. With the rows
    re-rated, the scenario run of ``tests/test_threephase_scenario_base_block.py`` answered a
    topology below ``v_min`` and then none (exit 4) where ``s2`` holds: the re-rated loads are
    the smaller, the lossless LinDist3Flow is further above OpenDSS, and the voltage
    feedback's offsets carry worse from one topology to another (a2_heavy, ``a2.a``: -0.0179
    p.u. found at ``s3`` open predicts 0.9196 at ``s2`` open, OpenDSS 0.9256, limit 0.92; the
    file's rows -0.0145, 0.9217). Re-rating each scenario at OpenDSS's solution of that
    scenario did the same, and refitting at OpenDSS's solution of the answer ``s3`` predicts
    0.9193. The file's rows are the scenarios' behaviour before the re-rating
    (docs/threephase.md, "Loads outside their band"); OpenDSS's check of the answer draws
    OpenDSS's law."""
    out = []
    net = net.nameplate_band_loads()
    loads = net.loads
    buses = {r["id"]: r for r in net.buses.iter_rows(named=True)}
    for s in range(len(rows.names)):
        new = loads
        if rows.loads[s]:
            ids = list(rows.loads[s])
            tot = loads.filter(pl.col("id").is_in(ids)).group_by("id").agg(
                pl.col("p_mw").sum().alias("_p0"), pl.col("q_mvar").sum().alias("_q0"),
                pl.len().alias("_n"))
            given = pl.DataFrame({"id": ids,
                                  "_p": [rows.loads[s][k][0] for k in ids],
                                  "_q": [rows.loads[s][k][1] for k in ids]},
                                 schema={"id": pl.String, "_p": pl.Float64, "_q": pl.Float64})
            new = loads.join(tot.join(given, on="id"), on="id", how="left")
            share_p = pl.when(pl.col("_p0") != 0).then(pl.col("p_mw") / pl.col("_p0")).otherwise(
                1.0 / pl.col("_n"))
            share_q = pl.when(pl.col("_q0") != 0).then(pl.col("q_mvar") / pl.col("_q0")
                                                       ).otherwise(1.0 / pl.col("_n"))
            new = new.with_columns(
                pl.when(pl.col("_p").is_not_null()).then(pl.col("_p") * share_p)
                .otherwise(pl.col("p_mw")).alias("p_mw"),
                pl.when(pl.col("_q").is_not_null()).then(pl.col("_q") * share_q)
                .otherwise(pl.col("q_mvar")).alias("q_mvar"),
            ).select(loads.columns)
        extra = []
        for bus, (p, q) in rows.buses[s].items():
            b = buses[bus]
            n = len(b["phases"])
            for ph in b["phases"]:
                extra.append({"id": bus_load_id(bus), "bus": bus, "conn": "wye", "phase": ph,
                              "p_mw": p / n, "q_mvar": q / n,
                              "vn_kv": b["vn_kv"] / math.sqrt(3), "p_exponent": 0.0,
                              "q_exponent": 0.0, "model": 1, "in_service": True})
        if extra:
            new = pl.concat([new, pl.DataFrame(extra, schema=loads.schema)])
        units = rows.generator_outputs(s)
        gens = net.generators
        if units:
            gens = gens.with_columns(
                pl.col("id").replace_strict({k: v[0] for k, v in units.items()},
                                            default=pl.col("p_mw"),
                                            return_dtype=pl.Float64).alias("p_mw"),
                pl.col("id").replace_strict({k: v[1] for k, v in units.items()},
                                            default=pl.col("q_mvar"),
                                            return_dtype=pl.Float64).alias("q_mvar"))
        out.append(net.replace_tables(loads=new, generators=gens))
    return out


def solve_three_phase_scenarios(net: ThreePhaseNetwork, rows: ScenarioRows,
                                base_open: list[str], notes: list[str], *,
                                time_limit_s: float, gap: float, ac_check: bool,
                                thermal_limits: bool, max_loading_percent: float | None,
                                voltage_feedback: bool, feedback_iterations: int,
                                switch_cost_kw: float | None,
                                limits_given: bool) -> ThreePhaseResult:
    """:func:`solve_three_phase` with scenarios: one radial topology for every scenario of
    ``rows`` (:func:`scenario_networks`), the least weighted LinDist3Flow loss proxy plus
    switching cost, with every scenario's limits (with the voltage feedback per scenario,
    :func:`_scenario_feedback`). OpenDSS solves the
    answer in every scenario (:func:`scenario_opendss`: its loads edited, its units set, the
    bus rows added as loads): ``scenarios["weights"]`` the weights normalised to sum to 1,
    ``given_weight_sum`` their sum as the file gave them (a note says so when it is not 1;
    and one names the scenarios that leave out a load which another lists, as a balanced
    solve's: :func:`feederopt.io.scenarios.missing_loads_note`);
    ``scenarios["per_scenario"]`` has per scenario the weight
    (``generation_mw``, ``generation_mvar``: with generator rows, the in-service units' total
    output in the model, the rows' and the others' snapshot output, which
    ``units_at_snapshot_mw`` lists; ``opendss_generation_mw``: their total in OpenDSS's check,
    where a unit without a row runs on its own model),
    the LinDist3Flow loss proxy and voltage range, OpenDSS's losses, voltage range,
    whether it keeps the limits and serves every load, and its ratings verdict from
    OpenDSS's currents (``within_thermal_limits``, ``max_loading_percent`` and
    ``max_loading_element``, ``overloaded`` and the first ``overloads``; ``within_limits``:
    voltages and ratings); ``expected_losses_kw`` the weighted
    OpenDSS losses, ``worst_losses``, ``worst_voltage`` and ``worst_loading`` the scenarios
    with the largest losses, the least voltage margin (negative: broken) and the largest
    loading. ``within_voltage_limits``, ``within_thermal_limits`` and ``passed`` hold when
    they hold in every scenario (an overload of a ``fixed_overloads`` element counts: it is
    one). ``node_voltages_pu`` (as
    :func:`solve_three_phase`'s) holds the voltages of one scenario, named by
    ``node_voltages_scenario``: ``worst_voltage``, or without the check the scenario of the
    lowest LinDist3Flow voltage. ``switch_cost_kw`` as given (None: no cost; 0 is recorded as
    0, as :func:`solve_three_phase` records it). With the check, ``base`` is the base
    topology's verdict over every scenario
    (:func:`feederopt.validation.base_case.scenario_base_case`: OpenDSS's solves of the
    feeder's own switch states with each scenario's loads, the expected losses, each limit
    at its worst scenario)."""
    nets = scenario_networks(net, rows)
    if abs(rows.given_weight_sum - 1.0) > WEIGHT_SUM_TOL:
        # the file format normalises the weights; say so, as the balanced solve does (a wrong
        # weight shifts the probability mass silently otherwise)
        notes.append(f"the scenario weights summed to {rows.given_weight_sum:.6g}; each was "
                     "divided by that sum (the weight column shows the shares)")
    notes.extend(rows.notes)  # a column the table is not read by (ut42_badin #5)
    missing = rows.missing_loads_note  # a load's row forgotten in a scenario, as balanced
    if missing is not None:
        notes.append(missing)
    floating = floating_buses(net) if ac_check or voltage_feedback else set()
    topo, sols, record = _scenario_feedback(
        nets, rows, floating, base_open, time_limit_s=time_limit_s, gap=gap,
        thermal_limits=thermal_limits, max_loading_percent=max_loading_percent,
        max_iterations=feedback_iterations, switch_cost_kw=float(switch_cost_kw or 0.0),
        feedback=voltage_feedback)
    if record.get("base_kept"):
        notes.append(base_kept_note(time_limit_s, record))
    notes.extend(topo.notes)  # the search's own: the base kept without the feedback's loop
    if voltage_feedback and topo.method == "enumeration" and topo.flow is not None:
        # opendss_least_losses is of one operating point (not yet weighted over scenarios)
        notes.append("OpenDSS's ranking of the radial states (the exact optimum by OpenDSS "
                     "over them, as a single operating point gets) is not run with scenarios: "
                     "the answer is the model's, kept by the voltage feedback")
    for part in topo.permanent_loops:
        notes.append(f"{len(part)} element(s) form loops that no switch opens and stay closed "
                     f"({_names(part)}); radiality is imposed on the switchable part")
    solved = topo.flow is not None
    w = rows.weights
    flows = topo.scenario_flows
    proxy = float(sum(wi * f.loss_proxy_kw for wi, f in zip(w, flows, strict=True))) \
        if solved else None
    per: list[dict[str, Any]] = []
    rated: dict[str, Any] = {"thermal_limits": thermal_limits,
                             "max_loading_percent": max_loading_percent}
    if solved and ac_check and sols is None:
        sols = [scenario_opendss(net, rows, s, set(topo.open_switches), floating,
                                 flows[s].voltages_pu, **rated) for s in range(len(nets))]
    bases = ([scenario_opendss(net, rows, s, None, floating, None, **rated)
              for s in range(len(nets))] if ac_check else None)
    for s, name in enumerate(rows.names):
        row: dict[str, Any] = {"scenario": name, "weight": float(w[s])}
        if rows.generator_outputs(s):  # the in-service units' output in this scenario
            gens = nets[s].generators.filter(pl.col("in_service"))
            row.update(generation_mw=_num(float(gens["p_mw"].sum())),
                       generation_mvar=_num(float(gens["q_mvar"].sum())))
        if bases is not None:
            row.update(opendss_base_losses_kw=_num(bases[s].losses_kw),
                       opendss_base_within_voltage_limits=bases[s].within_voltage_limits,
                       opendss_base_within_thermal_limits=bases[s].within_thermal_limits)
        if solved:
            f = flows[s]
            row.update(loss_proxy_kw=_num(f.loss_proxy_kw),
                       lindist3flow_min_voltage_pu=_num(f.min_voltage_pu),
                       lindist3flow_max_voltage_pu=_num(f.max_voltage_pu))
        if solved and ac_check and sols is not None:
            x = sols[s]
            lo, hi = _range(x)
            if "generation_mw" in row:  # the units' output in OpenDSS's check (user test
                # ut34_combo #4: a unit without a row runs on its own model there)
                row.update(opendss_generation_mw=_num(x.generation_kw / 1000.0))
            row.update(opendss_converged=x.converged, opendss_losses_kw=_num(x.losses_kw),
                       opendss_min_voltage_pu=lo, opendss_max_voltage_pu=hi,
                       opendss_min_voltage_node=x.min_voltage_node,
                       voltage_margin_pu=_num(_margin(x, nets[s])),
                       within_voltage_limits=x.within_voltage_limits, passed=x.passed,
                       unserved_load_kw=x.unserved_load_kw,
                       max_voltage_diff_pu=_num(x.max_voltage_diff_pu),
                       # the ratings verdict from OpenDSS's currents (validation.opendss)
                       within_thermal_limits=x.within_thermal_limits,
                       max_loading_percent=_num(x.max_loading_percent),
                       max_loading_element=x.max_loading_element,
                       overloaded=len(x.overloads),
                       overloads=x.loading_summary()["overloads"][:5],
                       within_limits=x.within_limits)
        per.append(row)
    fixed_dss: list[str] = []
    if solved and ac_check and sols is not None and thermal_limits:
        # OpenDSS's overloads that no switching relieves, in any scenario
        fixed_dss, note = opendss_fixed_overloads(
            list(zip(rows.names, sols, strict=True)), unswitched_elements(net),
            topo.fixed_overloads, sols[0].loading_limit_percent)
        if note:
            notes.append(note)
    # the storage rows that OpenDSS's check had to make followable (validation.opendss)
    held = [f"{rows.names[s]}: {m}" for s, x in enumerate(sols or [])
            for m in x.warnings if m.startswith("Storage.")
            and ("checked with kWhstored" in m or "for the check" in m)]
    if held:
        notes.append(f"{len(held)} storage row(s) set in OpenDSS's check beyond what the unit's "
                     "file allows (a scenario is a snapshot): " + "; ".join(held[:3])
                     + (" ..." if len(held) > 3 else ""))
    # the generator rows that OpenDSS's check did not run at their output (validation.opendss
    # setpoint_misses): its figures then describe another injection than the model's
    missed = sorted({f"{e} in {rows.names[s]}: {kw:.1f} kW and {kvar:.1f} kvar for the row's "
                     f"{set_kw:.1f} kW and {set_kvar:.1f} kvar"
                     for run in (sols, bases) for s, x in enumerate(run or [])
                     for e, set_kw, set_kvar, kw, kvar in x.setpoint_misses})
    if missed:
        notes.append(f"OpenDSS's check puts {len(missed)} generator row(s) at another output "
                     "than the scenario's, which the model injects (its losses, voltages and "
                     "loadings there are of another operating point): " + "; ".join(missed[:5])
                     + (" ..." if len(missed) > 5 else ""))
    summary: dict[str, Any] = {"count": len(rows.names), "names": rows.names,
                               "weights": [float(x) for x in w],
                               "given_weight_sum": float(rows.given_weight_sum),
                               "per_scenario": per,
                               "bus_rows": "a net demand spread equally over the bus's phases"}
    if any(rows.generator_outputs(s) for s in range(len(rows.names))):
        summary["generator_rows"] = ("a unit's output (positive injects) in place of its "
                                     "snapshot output; generation_mw per scenario")
        # the in-service units that no scenario gives a row: at their snapshot output in
        # every scenario's model (in generation_mw; user test ut34_combo #4: 1352.6 kW of
        # Generator.675 in every hour read as the PV's output)
        given = {u for s in range(len(rows.names)) for u in rows.generator_outputs(s)}
        summary["units_at_snapshot_mw"] = {
            str(g["id"]): float(g["p_mw"]) for g in net.generators.filter(
                pl.col("in_service")).iter_rows(named=True)
            if g["id"] not in given and abs(float(g["p_mw"])) > 0.0}
    if bases is not None:
        summary["base_expected_losses_kw"] = _num(float(sum(
            wi * x.losses_kw for wi, x in zip(w, bases, strict=True))))
    if solved and ac_check and sols is not None:
        summary["expected_losses_kw"] = _num(float(sum(
            wi * x.losses_kw for wi, x in zip(w, sols, strict=True))))
        summary["within_voltage_limits"] = all(x.within_voltage_limits for x in sols)
        summary["within_thermal_limits"] = all(x.within_thermal_limits for x in sols)
        summary["loading_limit_percent"] = sols[0].loading_limit_percent
        summary["passed"] = all(x.passed for x in sols)
        summary["worst_loading"] = rows.names[max(
            range(len(sols)), key=lambda k: sols[k].max_loading_percent or 0.0)]
        summary["worst_losses"] = rows.names[max(range(len(sols)),
                                                 key=lambda k: sols[k].losses_kw)]
        summary["worst_voltage"] = rows.names[min(range(len(sols)),
                                                  key=lambda k: _margin(sols[k], nets[k]))]
    volts: dict[str, dict[str, float]] | None = None
    volts_scenario = None
    if solved:
        # every node's |V| [p.u.] of one scenario, for the report's voltage profile and grid
        # colours: the least voltage margin in OpenDSS (the lowest LinDist3Flow voltage
        # without the check)
        k = (rows.names.index(summary["worst_voltage"]) if "worst_voltage" in summary else
             min(range(len(flows)), key=lambda j: flows[j].min_voltage_pu))
        volts = {}
        if ac_check and sols is not None:
            volts["opendss"] = sols[k].voltages_pu
        if bases is not None:
            volts["opendss_base"] = bases[k].voltages_pu
        volts["lindist3flow"] = flows[k].voltages_pu
        volts_scenario = rows.names[k]
    return ThreePhaseResult(
        case=net.name, method="lindist3flow-scenarios", status=topo.status,
        has_solution=solved, reason=topo.reason, overloaded=tuple(topo.overloaded),
        fixed_overloads=tuple(topo.fixed_overloads),
        opendss_fixed_overloads=tuple(fixed_dss), thermal_limits=thermal_limits,
        max_loading_percent=max_loading_percent,
        voltage_limits=VoltageLimits.from_dict(_limits_used(net, limits_given)),
        notes=tuple(notes), permanent_loops=tuple(tuple(p) for p in topo.permanent_loops),
        open_switches=tuple(topo.open_switches), base_open_switches=tuple(base_open),
        changed_switches=tuple(sorted(set(topo.open_switches) ^ set(base_open))
                               if solved else ()),
        loss_proxy_kw=_num(proxy) if proxy is not None else None,
        milp_objective_kw=_num(topo.loss_proxy_kw), lower_bound_kw=_num(topo.bound_kw),
        **bound_record(topo, proxy),
        base_kept=bool(topo.base_kept or record.get("base_kept")),  # the incumbent
        solve_time_s=topo.solve_time_s, milp_solves=topo.milp_solves,
        tangents_added=topo.tangents_added, search=search_label(topo),
        voltage_feedback=VoltageFeedback(record),
        **_switching_fields(topo, base_open, switch_cost_kw),
        node_voltages_pu=volts, node_voltages_scenario=volts_scenario,
        # the user's own switch states in every scenario against the limits, as a plain
        # solve's `base` (validation.base_case; user defect tphscen: there was none)
        base=scenario_base_case(bases, rows.names, [float(x) for x in w], base_open)
        if bases is not None else {},
        scenarios=ScenarioSummary(summary),
        grid=report_grid(net, set(topo.open_switches) if solved else set(base_open),
                         set(base_open)),
    )
