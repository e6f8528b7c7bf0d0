"""The voltage feedback of the three-phase solve (:mod:`feederopt.api_threephase`): the MILP's
voltage limits corrected by OpenDSS's power flow, to a fixed point (:func:`feedback_loop`),
for one operating point (:func:`_voltage_feedback`) and for scenarios
(:func:`_scenario_feedback`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from feederopt.algorithms.radial_enumeration import (
    RadialState,
    base_state,
    radial_states,
    state_cache,
)
from feederopt.algorithms.threephase import (
    Tangents,
    ThreePhaseFlow,
    ThreePhaseTopology,
    fixed_flow_elements,
    lindist3flow_power_flow,
    model_loadings,
    model_overloads,
    reconfigure_three_phase,
    reconfigure_three_phase_scenarios,
    switching_actions,
)
from feederopt.errors import SolverError
from feederopt.io.scenarios import ScenarioRows
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.network.threephase_perunit import PerUnitThreePhase, to_per_unit_3ph
from feederopt.validation.opendss import DEAD_PU, OpenDSSSolution, solve_opendss

#: Most MILP solves of the voltage feedback (:func:`_voltage_feedback`).
FEEDBACK_ITERATIONS = 4

#: The offsets of :func:`feedback_loop` (one operating point's, or one per scenario).
Offsets = TypeVar("Offsets")
#: The loss tangents that one MILP of :func:`feedback_loop` hands to the next.
TangentSet = TypeVar("TangentSet")
#: OpenDSS's solutions of one topology: one per operating point (scenario).
Solutions = list[OpenDSSSolution]


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def base_case_solution(net: ThreePhaseNetwork, floating: set[str], *,
                       model_voltages: dict[str, float] | None = None,
                       thermal_limits: bool = True, max_loading_percent: float | None = None,
                       ) -> OpenDSSSolution:
    """OpenDSS's solve of the base case (``net``'s own switch states, controls off, the file's
    taps and capacitors held), solved once more after the file's own solve
    (:func:`~feederopt.validation.opendss.solve_opendss`'s ``solve_again``) as every answer
    is: the one base-case solve of ``solve`` (its base case, the voltage feedback's start,
    the loss reduction's reference), ``partition`` and ``info``. Until user test ut46_dss3
    #5, ``info`` took the file's own solve, which stops within the file's ``tolerance``:
    IEEE 13mod (``tolerance=0.001``, its Generator.675 run as an impedance) 62.27 kW in
    ``info`` against 62.372 kW in ``solve``, both labelled OpenDSS."""
    return solve_opendss(net, floating_buses=floating, model_voltages=model_voltages,
                         with_controls=False, solve_again=True, thermal_limits=thermal_limits,
                         max_loading_percent=max_loading_percent)


def voltage_offsets(flow: ThreePhaseFlow, sol: OpenDSSSolution) -> dict[str, float]:
    """``d_n = V_OpenDSS,n - V_LinDist3Flow,n`` [p.u.] at every node that both have and that
    OpenDSS energises (comparable voltages at three-wire buses)."""
    live = {k: v for k, v in sol.voltages_pu.items() if v >= DEAD_PU}
    return {k: live[k] - v for k, v in flow.voltages_pu.items() if k in live}


def unswitched_elements(net: ThreePhaseNetwork) -> dict[str, str]:
    """The rated elements whose flow no switch changes, by OpenDSS's name (``"Line.<id>"``,
    ``"Transformer.<unit>"``) with the model's key (edge id, ``"Transformer <bank id>"``):
    the bridges of the feeder's graph (:func:`feederopt.algorithms.threephase.
    fixed_flow_elements`, which holds the solve's ``fixed_overloads``). Their loading is the
    same whatever the answer, so it does not tell answers apart."""
    out: dict[str, str] = {}
    for key in fixed_flow_elements(to_per_unit_3ph(net)):
        if key.startswith("Transformer "):
            for unit in key.removeprefix("Transformer ").split("+"):
                out[f"Transformer.{unit}"] = key
        else:
            out[net.opendss_name(key)] = key
    return out


def model_key(net: ThreePhaseNetwork, bank_ids: list[str], element: str) -> str:
    """The model's key of OpenDSS's element name: a line's id (a series capacitor's or
    reactor's line, :meth:`~feederopt.network.threephase.ThreePhaseNetwork.line_of`), or
    ``"Transformer <bank id>"`` of the bank (of ``bank_ids``, the per-unit network's) that
    holds the unit (the ids of its units joined by ``+``)."""
    cls, _, name = element.partition(".")
    if cls.lower() != "transformer":
        return net.line_of(element)
    for bank in bank_ids:
        if name in bank.split("+"):
            return f"Transformer {bank}"
    return f"Transformer {name}"


def switched_overloads(sol: OpenDSSSolution, unswitched: dict[str, str],
                       ) -> list[tuple[str, float]]:
    """OpenDSS's overloads of ``sol`` (``(element, loading %)``, worst first) but those of
    ``unswitched`` (:func:`unswitched_elements`): the overloads a topology can change."""
    return [(e, pct) for e, pct, _, _ in sol.overloads if e not in unswitched]


def unswitched_overloads(sol: OpenDSSSolution, unswitched: dict[str, str],
                         ) -> list[tuple[str, float]]:
    """OpenDSS's overloads of ``sol`` (``(element, loading %)``, worst first) on the elements
    of ``unswitched`` (:func:`unswitched_elements`): the overloads that no switching relieves,
    by OpenDSS's verdict (the complement of :func:`switched_overloads`)."""
    return [(e, pct) for e, pct, _, _ in sol.overloads if e in unswitched]


def opendss_fixed_overloads(sols: list[tuple[str | None, OpenDSSSolution]],
                            unswitched: dict[str, str], model_fixed: list[str],
                            limit: float | None, *, solved_by: str | None = None,
                            ) -> tuple[list[str], str | None]:
    """OpenDSS's verdict that no switching relieves an overload: the elements that OpenDSS's
    check (``sols``: per scenario name, or None for a single check) finds above their rating
    and whose flow no switch changes (:func:`unswitched_overloads`), worst first, and the
    note that says so (None without any). ``model_fixed`` (the result's ``fixed_overloads``,
    LinDist3Flow's verdict) says which the model found too; ``limit`` is the check's limit
    [% of the rating]. ``solved_by`` names the OpenDSS solve of the answer when it is not
    OpenDSS's check (``--no-ac-check``: the voltage feedback's, or the ranking's of the
    radial states), and the note then says that no AC check ran."""
    worst: dict[str, tuple[float, str | None]] = {}
    for name, sol in sols:
        for element, pct in unswitched_overloads(sol, unswitched):
            if element not in worst or pct > worst[element][0]:
                worst[element] = (pct, name)
    if not worst:
        return [], None
    ranked = sorted(worst, key=lambda e: -worst[e][0])
    keys = {lab.rsplit(" (", 1)[0] for lab in model_fixed}
    named = ", ".join(f"{e} ({worst[e][0]:.1f} %"
                      + (f", scenario {worst[e][1]}" if worst[e][1] is not None else "") + ")"
                      for e in ranked)
    both = [e for e in ranked if unswitched.get(e) in keys]
    one = len(ranked) == 1
    these, its, them = ("this", "its", "it") if one else ("these", "their", "them")
    model = (f"LinDist3Flow puts {them} above {its} rating too (fixed_overloads)"
             if len(both) == len(ranked)
             else "LinDist3Flow puts " + ", ".join(e for e in ranked if e not in both)
             + " within the rating, so the search held it (the model's flow misses what "
             "OpenDSS's currents see)")
    by = ("OpenDSS's check" if solved_by is None
          else f"{solved_by} (no AC check ran: --no-ac-check)")
    return ranked, (
        f"{named}: {by} puts {these} above {100.0 if limit is None else limit:g} "
        f"% of {its} rating, and no switch changes {its} flow (a bridge of the feeder's "
        f"graph: the same buses behind {them} whatever the switches), so no switching "
        f"relieves {them} (opendss_fixed_overloads); {model}. Relieving {them} takes more "
        "than switching (a larger unit, less load); --max-loading accepts the overload")


def within_limits_judged(sol: OpenDSSSolution, unswitched: dict[str, str]) -> bool:
    """The feedback's and the AC polish's acceptance of an answer's OpenDSS solution:
    converged, every load served, every node within its voltage limits and no rated element
    above its rating but those whose flow no switch changes (:func:`unswitched_elements`,
    the fixed overloads among them: overloaded whatever the topology)."""
    return sol.passed and sol.within_voltage_limits and not switched_overloads(sol, unswitched)


def _range(sol: OpenDSSSolution) -> tuple[float | None, float | None]:
    lo = min(sol.min_voltage_pu.values()) if sol.min_voltage_pu else math.nan
    hi = max(sol.max_voltage_pu.values()) if sol.max_voltage_pu else math.nan
    return _num(lo), _num(hi)


def _margin(sol: OpenDSSSolution, net: ThreePhaseNetwork) -> float:
    """The least distance [p.u.] of an energised node's OpenDSS voltage to its limits
    (negative: a limit broken)."""
    lim = {r["id"]: (r["v_min_pu"], r["v_max_pu"]) for r in net.buses.iter_rows(named=True)}
    out = math.inf
    for node, v in sol.voltages_pu.items():
        bus = node.rsplit(".", 1)[0]
        if v >= DEAD_PU and bus in lim:
            out = min(out, v - lim[bus][0], lim[bus][1] - v)
    return out


def feedback_loop(
        milp: Callable[[Offsets, TangentSet, float], tuple[ThreePhaseTopology, TangentSet]],
        opendss: Callable[[ThreePhaseTopology], Solutions],
        next_offsets: Callable[[ThreePhaseTopology, Solutions], Offsets],
        answer_row: Callable[[ThreePhaseTopology, Offsets, Solutions | None], dict[str, Any]],
        loss: Callable[[ThreePhaseTopology, Solutions], float], *,
        offsets: Offsets, tangents: TangentSet, iterations: list[dict[str, Any]],
        base_open: list[str], time_limit_s: float, max_iterations: int, t0: float,
        record: dict[str, Any], feedback: bool = True,
        base: Callable[[], tuple[ThreePhaseTopology, Solutions] | None] | None = None,
        ok: Callable[[OpenDSSSolution], bool] | None = None,
        probe: Callable[[ThreePhaseTopology, Offsets, set[frozenset[str]], float],
                        ThreePhaseTopology | None] | None = None,
) -> tuple[ThreePhaseTopology, Solutions | None, dict[str, Any]]:
    """The fixed point of the voltage feedback (:func:`_voltage_feedback`,
    :func:`_scenario_feedback`), on callables.

    Each round solves the MILP, ``milp(offsets, tangents, seconds)`` (its topology and the loss
    tangents for the next round), with the time limit left since ``t0`` (at least 1 s of it,
    never more than ``time_limit_s``), and OpenDSS at the answer, ``opendss(topo)`` (one
    solution per operating point; a topology already solved is not solved again), whose
    solutions give the next offsets, ``next_offsets(topo, sols)``. It stops when the time runs
    out (after an answer), when the MILP has no answer, when a topology repeats (``base_open``
    or an earlier answer: its offsets were used already, so the next MILP is the same), when
    OpenDSS does not converge (in some operating point), or after ``max_iterations`` MILPs.
    Without ``feedback``, one MILP and no OpenDSS (stopped: "no feedback"). The rounds share
    one :func:`feederopt.algorithms.radial_enumeration.state_cache`: where the MILP is the
    enumeration of the radial states, a state's flow without the limits is solved in the first
    round that needs it only (the offsets move the limits, not the flows).

    Each MILP appends ``answer_row(topo, offsets it had, sols or None without OpenDSS)`` to
    ``iterations`` (which holds the base case's rows, if any). Of the answers, the one of
    least ``loss(topo, sols)`` among those that ``ok`` accepts in every operating point is
    kept (default: OpenDSS finds it within the voltage limits with every load served; the
    voltage feedback's ``ok`` also judges the ratings, :func:`within_limits_judged`); when
    none is, the least among those within the voltage limits with every load served; when
    none is, the last answer; without one, the last MILP's topology (and None for its
    solutions). The kept topology's ``solve_time_s`` becomes the time of all the MILPs.

    The base topology is a candidate too, judged by the same ``loss``: OpenDSS is the truth
    check, and the model's optimum is the optimum of a model (lossless voltages, a loss
    proxy), which OpenDSS may put above the base (user test ut_dss D: the exact optimum over
    22 radial states had 70.46 kW in OpenDSS, the base 69.79 kW, both within the limits).
    When ``base()`` gives the base topology as an answer (its LinDist3Flow flows and OpenDSS's
    solutions; None without them) that ``ok`` accepts in every operating point, it is kept
    unless a kept answer (accepted by ``ok``) has less ``loss``: (a) in a time-limited run
    (a MILP ran out of time, with or without an answer; ``base_kept_why`` ``"time limit"``,
    status ``time_limit``); (b) in any other run whose kept answer is the model's answer
    within its own limits (status not ``infeasible``; an infeasible MILP's answer is left to
    OpenDSS's rankings of the radial states, :func:`opendss_least_overloading` and
    :func:`opendss_within_voltage_states`), with status ``feasible`` (within every limit by
    OpenDSS, not the model's optimum) and ``base_kept_why`` ``"opendss_losses"`` (the answer
    keeps the limits with more loss) or ``"opendss_limits"`` (it breaks one). The MILP's bound
    stays (:func:`_as_answer`). A time-limited MILP without an answer has its reason say the
    user's limit and the seconds that were left for it (the base case's OpenDSS solves come
    first).

    **Probes.** An infeasible MILP proves nothing about OpenDSS: its limits were shifted by
    the offsets of one topology (first the base case's), and another topology has other
    offsets (user test ut48_dss3 #1: 650 radial states, the base's offsets, 0.014 p.u. at the
    far bus, left no topology within ``v_min`` 0.917 and the solve said infeasible, exit 3,
    where OpenDSS puts two states within every limit; the loss-minimal topology within the
    unshifted limits has offsets of 0.011 p.u., with which the next MILP finds one of them).
    When the MILP has no answer (status ``infeasible``) and ``probe(topo, offsets, seen,
    seconds)`` gives a topology not in ``seen`` (those whose offsets were used: the base and
    each answer), OpenDSS solves it, its row is appended (``answer_row``, with ``"probe":
    True``), its offsets are the next MILP's and the loop goes on (a round as a MILP's is).
    A probe is a candidate answer as an answer is when ``ok`` accepts it (its status becomes
    ``feasible``: within every limit by OpenDSS, not the model's optimum); one that breaks a
    limit is never the kept answer (the last MILP's infeasibility then stands, with
    ``probes`` in the record).

    Returns the kept topology, its OpenDSS solutions and ``record`` followed by
    ``iterations``, ``kept_iteration`` (the first answer row of the kept topology; None
    without OpenDSS's solutions of it, or the base kept), ``stopped``,
    ``within_voltage_limits`` (some answer is), ``within_limits`` (some answer is accepted by
    ``ok``), ``base_kept``, ``base_kept_why`` (None unless kept), ``displaced_answer`` (the
    model's answer that the base was kept over: its ``iteration`` row, ``status``,
    ``open_switches``, ``changed_switches``, ``loss_kw`` (the ``loss``, switching cost
    included), ``switching_cost_kw``, ``within_limits`` (accepted by ``ok``) and the base's
    ``base_loss_kw``; None when none was set aside), ``milp_time_s`` and ``time_s`` (since
    ``t0``)."""

    def volts_ok(y: OpenDSSSolution) -> bool:
        return y.within_voltage_limits and y.passed

    accept = ok or volts_ok
    seen = {frozenset(base_open)}
    answers: list[tuple[ThreePhaseTopology, Solutions]] = []
    probed: list[ThreePhaseTopology] = []  # the probes among the answers
    last: ThreePhaseTopology | None = None
    milp_s = 0.0
    stopped = "iteration cap" if feedback else "no feedback"
    timed_out = False
    # the rounds differ by the voltage limits only: an enumeration's flows of the radial
    # states without the limits serve every round (radial_enumeration.state_cache)
    with state_cache():
        for _ in range(max(1, max_iterations) if feedback else 1):
            left = time_limit_s - (time.perf_counter() - t0)
            if left <= 0 and answers:
                stopped = "time limit"
                break
            # the base case's OpenDSS solve counts in the budget: a MILP gets at least 1 s of
            # it, but never more than the whole time limit (--time-limit 0.01 ran 1 s)
            seconds = max(left, min(1.0, time_limit_s))
            topo, tangents = milp(offsets, tangents, seconds)
            milp_s += topo.solve_time_s
            last = topo
            timed_out |= topo.status == "time_limit"
            if topo.flow is None and topo.status == "time_limit":
                topo.reason = (
                    f"the time limit (--time-limit {time_limit_s:g} s; {seconds:.2f} s of it "
                    "left for this MILP after the OpenDSS solves before it) ran out before a "
                    "topology was found; raise --time-limit")
            if topo.flow is None:
                iterations.append(answer_row(topo, offsets, None))
                stopped = "no answer"
                left = time_limit_s - (time.perf_counter() - t0)
                found = (probe(topo, offsets, seen, max(left, min(1.0, time_limit_s)))
                         if probe is not None and feedback and topo.status == "infeasible"
                         else None)
                if found is None or found.flow is None \
                        or frozenset(found.open_switches) in seen:
                    break
                # another topology's offsets: the infeasibility was of the first ones only
                milp_s += found.solve_time_s
                sols = opendss(found)
                iterations.append({**answer_row(found, offsets, sols), "probe": True})
                answers.append((found, sols))
                probed.append(found)
                seen.add(frozenset(found.open_switches))
                if not all(x.converged for x in sols):
                    stopped = "OpenDSS did not converge"
                    break
                stopped = "iteration cap"
                offsets = next_offsets(found, sols)
                continue
            if not feedback:
                iterations.append(answer_row(topo, offsets, None))
                break
            key = frozenset(topo.open_switches)
            known = next((sols for t, sols in answers if frozenset(t.open_switches) == key), None)
            sols = known or opendss(topo)
            iterations.append(answer_row(topo, offsets, sols))
            answers.append((topo, sols))
            if key in seen:
                stopped = "topology repeated"
                break
            if not all(x.converged for x in sols):  # no offsets to take from it
                stopped = "OpenDSS did not converge"
                break
            seen.add(key)
            offsets = next_offsets(topo, sols)
    within = [(t, x) for t, x in answers if all(volts_ok(y) for y in x)
              and not any(t is p for p in probed)]
    good = [(t, x) for t, x in answers if all(volts_ok(y) and accept(y) for y in x)]
    mine = [(t, x) for t, x in answers if not any(t is p for p in probed)]
    kept: Solutions | None
    if good or within:
        keep, kept = min(good or within, key=lambda tx: loss(*tx))
        if any(keep is p for p in probed):
            keep.status = "feasible"  # by OpenDSS; the MILP's optimum it is not
    elif mine:
        keep, kept = mine[-1]
    else:
        assert last is not None
        keep, kept = last, None
    # the base topology is a candidate of every run that has a model's answer within the
    # model's limits, not only of a time-limited one: OpenDSS is the truth check, and the
    # model's optimum may have more OpenDSS losses than the base (user test ut_dss D: the
    # enumeration's exact optimum 70.46 kW against the base's 69.79 kW)
    answered = keep.flow is not None and keep.status != "infeasible" and (
        frozenset(keep.open_switches) != frozenset(base_open))
    incumbent = base() if base is not None and (timed_out or answered) else None
    base_kept = False
    why: str | None = None
    displaced: dict[str, Any] | None = None
    if incumbent is not None and all(accept(y) for y in incumbent[1]) and (
            not good or loss(*incumbent) < loss(keep, kept or [])):
        assert last is not None
        if kept is not None and keep.flow is not None:  # the model's answer set aside
            displaced = {
                "iteration": _first_row(iterations, keep.open_switches),
                "status": keep.status, "open_switches": list(keep.open_switches),
                "changed_switches": sorted(set(keep.open_switches) ^ set(base_open)),
                "loss_kw": _num(loss(keep, kept)),
                "switching_cost_kw": _num(keep.switching_cost_kw),
                "within_limits": bool(good), "base_loss_kw": _num(loss(*incumbent))}
        why = ("time limit" if timed_out
               else "opendss_losses" if good else "opendss_limits")
        keep, kept, base_kept = _as_answer(incumbent[0], last, timed_out), incumbent[1], True
    keep.solve_time_s = milp_s
    chosen = _first_row(iterations, keep.open_switches) if kept and not base_kept else None
    return keep, kept, {**record, "iterations": iterations, "kept_iteration": chosen,
                        "stopped": stopped, "within_voltage_limits": bool(within) or base_kept,
                        "within_limits": bool(good) or base_kept,
                        "base_kept": base_kept, "base_kept_why": why,
                        "displaced_answer": displaced,
                        "probes": [sorted(p.open_switches) for p in probed],
                        "milp_time_s": milp_s, "time_s": time.perf_counter() - t0}


def _first_row(iterations: list[dict[str, Any]], opened: list[str]) -> int | None:
    """The first answer row of ``iterations`` with ``opened`` open (None without one)."""
    return next((k for k, r in enumerate(iterations) if r["topology"] == "answer"
                 and r["open_switches"] == opened), None)


def _as_answer(b_topo: ThreePhaseTopology, last: ThreePhaseTopology,
               timed_out: bool) -> ThreePhaseTopology:
    """The base topology (``b_topo``: its flows, the base as the feedback's ``base()`` gives
    it) as the kept answer of :func:`feedback_loop`, with what the search found (``last``,
    its last MILP): status ``time_limit`` out of time, else ``feasible`` (within every limit
    by OpenDSS, but not the model's optimum); the MILP's bound and its source (the gap of the
    base's own loss proxy to it is what is proven, :func:`feederopt.api_threephase.
    bound_record`), the loops no switch opens, the tangents, how it searched and the fixed
    overloads (the same whatever the topology: bridges of the feeder's graph) with their
    note, which the search puts first (:func:`feederopt.algorithms.threephase.
    reconfigure_three_phase`)."""
    b_topo.status = "time_limit" if timed_out else "feasible"
    b_topo.bound_kw, b_topo.bound_source = last.bound_kw, last.bound_source
    b_topo.permanent_loops, b_topo.tangents = last.permanent_loops, last.tangents
    b_topo.scenario_tangents = last.scenario_tangents
    b_topo.switch_cost_kw = last.switch_cost_kw
    b_topo.method, b_topo.radial_states = last.method, last.radial_states
    b_topo.lp_solves, b_topo.milp_solves = last.lp_solves, last.milp_solves
    b_topo.tangents_added = last.tangents_added
    if last.fixed_overloads and not b_topo.fixed_overloads:
        b_topo.fixed_overloads = list(last.fixed_overloads)
        b_topo.notes = [*last.notes[:1], *b_topo.notes]
    return b_topo


def _voltage_feedback(net: ThreePhaseNetwork, floating: set[str], base_open: list[str], *,
                      time_limit_s: float, gap: float, thermal_limits: bool,
                      max_loading_percent: float | None, max_iterations: int,
                      switch_cost_kw: float = 0.0,
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
    the last answer; the base topology, when radial (:func:`base_is_radial`) and within the
    limits, is kept over an answer with more OpenDSS losses (plus switching cost) or out of
    them (:func:`feedback_loop`). The loop is :func:`feedback_loop`'s.

    This is the linearised model corrected by the AC power flow at the present operating
    point, the zeroth-order (offset) form of the fixed point used in feedback optimisation of
    distribution grids: the linear model about a measured operating point (S. Bolognani and F.
    Dörfler, "Fast power system analysis via implicit linearization of the power flow
    manifold", Allerton 2015) and the measured voltages in place of the model's in the voltage
    constraints (E. Dall'Anese and A. Simonetto, "Optimal power flow pursuit", IEEE Trans.
    Smart Grid 9(2), 2018). Only the offset is corrected, not the sensitivities, so it is a
    heuristic: a topology's offsets differ from another's, which the iterations measure.

    **Ratings.** OpenDSS's check of each answer reads every rated line's and transformer's
    loading from its currents (against ``max_loading_percent`` of the rating; none with
    ``thermal_limits=False``), and an answer is accepted only when none is above it but the
    elements whose flow no switch changes (:func:`within_limits_judged`: the fixed overloads
    are overloaded whatever the topology). Where OpenDSS finds element ``e`` above its limit
    at a topology whose LinDist3Flow flow keeps it (losses and voltage drop raise the
    current), the next MILPs hold ``e`` to its rating times ``f_e = L_model / L_OpenDSS``
    (:func:`feederopt.algorithms.threephase.tighten_ratings`): ``L_model`` the loading the
    MILP's 12-sided rating rows see at that topology (:func:`feederopt.algorithms.threephase.
    model_loadings`), ``L_OpenDSS`` OpenDSS's, both of the untightened rating, so that the
    model's flow of that topology would be at ``L_OpenDSS > 1`` of the tightened rating and
    the topology is excluded. This is the secant (offset) rule of the voltages, on the
    ratings; a factor once found is kept for the later MILPs (the least one per element:
    another topology's flow of ``e`` is another secant). With factors, an infeasible MILP
    stops the loop (no least-overloading topology of the tightened ratings); the first MILP
    then is solved again without them. :func:`_scenario_feedback` applies the same rule per
    scenario (``f_e,s``).

    **No answer.** When a MILP (the MILP path, not the enumeration) has no topology within
    the voltage limits as shifted, another topology is probed (:func:`feedback_loop`'s
    ``probe``: the loss-minimal one within the unshifted limits, else without voltage limits)
    and the search goes on with its offsets. When the loop still ends without an answer, the
    infeasibility rests on the offsets of the topologies measured, not on OpenDSS: the answer
    is the probe nearest to the limits by OpenDSS (:func:`_margin`), status ``feasible`` with
    its OpenDSS verdict breaking them (exit 4), no bound, ``infeasibility_proven`` False in
    the record and a note "not proven infeasible" (user test ut48_dss3 #1).

    Returns the kept topology, OpenDSS's base-case solution (controls off), OpenDSS's
    solution of the kept topology (None without one) and the record for the JSON (its rows
    also give each answer's ratings verdict and the factors its MILP had)."""
    t0 = time.perf_counter()
    rated: dict[str, Any] = {"thermal_limits": thermal_limits,
                             "max_loading_percent": max_loading_percent}
    unswitched = unswitched_elements(net) if thermal_limits else {}
    factors: dict[str, float] = {}  # model key: the least factor found (rating tightened)
    answered = False

    def judged(sol: OpenDSSSolution) -> bool:
        return within_limits_judged(sol, unswitched)

    def tighten(opened: list[str], sol: OpenDSSSolution) -> None:
        """The factors ``L_model / L_OpenDSS`` of the overloads a topology can change."""
        over = switched_overloads(sol, unswitched) if thermal_limits else []
        if not over:
            return
        model = model_loadings(net, set(opened), max_loading_percent)
        limit = sol.loading_limit_percent or 100.0
        banks = [bank.id for bank in to_per_unit_3ph(net).banks]  # once per topology
        for element, pct in over:
            key = model_key(net, banks, element)
            lm = model.get(key)
            if lm is not None and lm > 0 and lm / (pct / limit) < 1.0:
                factors[key] = min(factors.get(key, 1.0), lm / (pct / limit))

    def ratings_row(sol: OpenDSSSolution) -> dict[str, Any]:
        over = switched_overloads(sol, unswitched)
        return {"within_thermal_limits": sol.within_thermal_limits,
                "opendss_max_loading_percent": _num(sol.max_loading_percent),
                "opendss_max_loading_element": sol.max_loading_element,
                "overloads_switched": [f"{e} ({pct:.1f} %)" for e, pct in over],
                # the overloads that no switching relieves (bridges of the feeder's graph)
                "overloads_unswitched": [f"{e} ({pct:.1f} %)" for e, pct
                                         in unswitched_overloads(sol, unswitched)],
                "within_limits": judged(sol)}

    try:
        flow0: ThreePhaseFlow | None = lindist3flow_power_flow(net)
    except SolverError:  # the base case leaves a load unfed: no offsets to start from
        flow0 = None
    # solved once more, as an answer is (its switches changed): the keep rule compares them,
    # and the file's own solve at its tolerance would bias it (solve_opendss's solve_again)
    base = base_case_solution(net, floating,
                              model_voltages=flow0.voltages_pu if flow0 else None, **rated)
    lo, hi = _range(base)
    iterations: list[dict[str, Any]] = [{
        "topology": "base", "open_switches": sorted(base_open),
        "opendss_losses_kw": _num(base.losses_kw), "opendss_min_voltage_pu": lo,
        "opendss_max_voltage_pu": hi, "within_voltage_limits": base.within_voltage_limits,
        "lindist3flow_min_voltage_pu": _num(flow0.min_voltage_pu) if flow0 else None,
        "lindist3flow_max_voltage_pu": _num(flow0.max_voltage_pu) if flow0 else None,
        **ratings_row(base),
    }]
    if flow0 is not None and base.converged:
        tighten(sorted(base_open), base)
    Offsets2 = tuple[dict[str, float], dict[str, float]]

    def milp(offsets: Offsets2, tangents: list[Tangents], seconds: float,
             ) -> tuple[ThreePhaseTopology, list[Tangents]]:
        volts, tight = offsets

        def solve(tight: dict[str, float]) -> ThreePhaseTopology:
            return reconfigure_three_phase(net, time_limit_s=seconds, gap=gap,
                                           thermal_limits=thermal_limits,
                                           max_loading_percent=max_loading_percent,
                                           voltage_offsets=volts, tangents=tangents,
                                           switch_cost_kw=switch_cost_kw,
                                           rating_factors=tight or None)

        topo = solve(tight)
        if tight and topo.flow is None and topo.status == "infeasible" and not answered:
            topo = solve({})  # the tightened ratings leave no first answer: without them
        # the loss tangents found so far, valid whatever the limits
        return topo, topo.tangents or tangents

    # every topology OpenDSS solved in the loop (answers and probes), by its open switches
    solved: dict[frozenset[str], tuple[ThreePhaseTopology, OpenDSSSolution]] = {}

    def probe(topo: ThreePhaseTopology, offsets: Offsets2, seen: set[frozenset[str]],
              seconds: float) -> ThreePhaseTopology | None:
        """Another topology to measure offsets at, when the MILP with the voltage limits
        shifted by ``offsets`` has none (no radial topology within them by those offsets):
        the loss-minimal one within the unshifted limits (``--no-voltage-feedback``'s, which
        holds the lossless voltages to them), else the one without the voltage limits, the
        first not in ``seen``. Not for the enumeration (OpenDSS then judges every radial state
        after the feedback, :func:`opendss_within_voltage_states`), nor for an infeasibility
        of the ratings."""
        if topo.method == "enumeration" or not topo.reason.startswith(
                "infeasible: no radial topology keeps every voltage"):
            return None
        t1 = time.perf_counter()
        for limits in (True, False):  # within the unshifted limits; without any
            left = seconds - (time.perf_counter() - t1)
            if left <= 0:
                return None
            found = reconfigure_three_phase(
                net, time_limit_s=left, gap=gap, voltage_limits=limits,
                thermal_limits=thermal_limits, max_loading_percent=max_loading_percent,
                switch_cost_kw=switch_cost_kw, least_overloading=False,
                rating_factors=offsets[1] or None)
            if found.flow is not None and frozenset(found.open_switches) not in seen:
                found.reason = ""
                return found
        return None

    def opendss(topo: ThreePhaseTopology) -> Solutions:
        nonlocal answered
        assert topo.flow is not None
        answered = True
        sol = solve_opendss(net, open_switches=set(topo.open_switches),
                            floating_buses=floating, model_voltages=topo.flow.voltages_pu,
                            with_controls=False, solve_again=True, **rated)
        solved[frozenset(topo.open_switches)] = (topo, sol)
        return [sol]

    def next_offsets(topo: ThreePhaseTopology, sols: Solutions) -> Offsets2:
        assert topo.flow is not None
        tighten(topo.open_switches, sols[0])
        return voltage_offsets(topo.flow, sols[0]), dict(factors)

    def answer_row(topo: ThreePhaseTopology, offsets: Offsets2,
                   sols: Solutions | None) -> dict[str, Any]:
        volts, tight = offsets
        big = max(abs(d) for d in volts.values()) if volts else 0.0
        row: dict[str, Any] = {
            "topology": "answer", "status": topo.status, "max_offset_pu": _num(big),
            # the ratings this MILP held tightened (OpenDSS's names: factor of the rating)
            "rating_factors": {_element_name(net, k): round(f, 6)
                               for k, f in sorted(tight.items())},
            "milp_time_s": topo.solve_time_s}
        if sols is None or topo.flow is None:
            return {**row, "open_switches": None}
        sol = sols[0]
        lo, hi = _range(sol)
        return {
            **row, "open_switches": topo.open_switches,
            "opendss_losses_kw": _num(sol.losses_kw), "opendss_min_voltage_pu": lo,
            "opendss_max_voltage_pu": hi, "within_voltage_limits": sol.within_voltage_limits,
            "passed": sol.passed,
            "lindist3flow_min_voltage_pu": _num(topo.flow.min_voltage_pu),
            "lindist3flow_max_voltage_pu": _num(topo.flow.max_voltage_pu),
            **ratings_row(sol),
        }

    def loss(topo: ThreePhaseTopology, sols: Solutions) -> float:
        # with a switching cost, the least OpenDSS losses plus the answer's switching cost
        return sols[0].losses_kw + topo.switching_cost_kw

    def base_answer() -> tuple[ThreePhaseTopology, Solutions] | None:
        if flow0 is None or not base_is_radial(net):
            return None
        return ThreePhaseTopology("time_limit", sorted(base_open), flow0.loss_proxy_kw,
                                  math.nan, 0.0, flow0), [base]

    no_tangents: list[Tangents] = []
    keep, kept, record = feedback_loop(
        milp, opendss, next_offsets, answer_row, loss,
        offsets=(voltage_offsets(flow0, base) if flow0 else {}, dict(factors)),
        tangents=no_tangents, iterations=iterations, base_open=base_open,
        time_limit_s=time_limit_s, max_iterations=max_iterations, t0=t0,
        record={"enabled": True}, base=base_answer, ok=judged, probe=probe)
    record["rating_factors"] = {_element_name(net, k): round(f, 6)
                                for k, f in sorted(factors.items())}
    rows = record["iterations"]
    model_why = keep.reason
    if (record["stopped"] == "no answer" and not record["within_limits"] and kept is not None
            and keep.flow is not None and keep.status in ("optimal", "feasible")
            and rows and rows[-1].get("status") == "infeasible"):
        # user test ut32_3ph M4: every answer broke a limit in OpenDSS and the MILP with the
        # ratings tightened by OpenDSS's loadings had none; the answer kept is no state
        # within the limits, so its status says so (the least-overloading answer follows,
        # as for the model's own infeasibility) rather than "optimal" with no note
        k = record["kept_iteration"]
        over = rows[k].get("overloads_switched") if isinstance(k, int) else None
        what = over[0] if over else ""
        keep.status = "infeasible"
        keep.reason = (
            "infeasible: no radial topology was found within the limits: OpenDSS's power "
            f"flow of the model's answer breaks them ({what or 'see voltage_feedback'}), and "
            "the MILP with the ratings tightened by OpenDSS's loadings (and the voltage "
            "limits shifted by its voltages) has no answer; the answer is the feedback's "
            "kept one (voltage_feedback.kept_iteration), not a topology within them")
        keep.notes.append(
            "the voltage feedback found no radial topology within the limits: the MILP with "
            "the limits corrected by OpenDSS's power flow is infeasible (voltage_feedback."
            "stopped 'no answer'); " + broken_limits_hint(net, kept[0]))
    probes = [solved[frozenset(p)] for p in record["probes"] if frozenset(p) in solved]
    if kept is None and probes and keep.reason.startswith(
            "infeasible: no radial topology keeps every voltage"):
        # user test ut48_dss3 #1: the MILP's infeasibility rests on the offsets of the
        # topologies measured, not on OpenDSS; the probe nearest to the limits by OpenDSS is
        # the answer, which breaks them (exit 4), and the infeasibility is not claimed
        keep, sol = max(probes, key=lambda ts: _margin(ts[1], net))
        kept = [sol]
        record["kept_iteration"] = _first_row(rows, keep.open_switches)
        record["infeasibility_proven"] = False
        lo, hi = _range(sol)
        # a radial topology, not the optimum of a model: "feasible", its OpenDSS verdict (the
        # voltage feedback's row, within_limits False) breaking the limits
        keep.status, keep.reason = "feasible", ""
        keep.bound_kw = math.nan  # the probe's MILP bounds another model (its limits unshifted)
        keep.notes.append(
            "not proven infeasible: the voltage feedback's MILP, its voltage limits shifted by "
            "OpenDSS's offsets V_OpenDSS - V_LinDist3Flow of each topology measured (the base "
            f"case and {len(probes)} probe(s): voltage_feedback.probes), found no radial "
            f"topology within them ({model_why.removeprefix('infeasible: ')}); those offsets "
            "are of the topologies measured, not of every radial state, so this proves "
            "nothing about OpenDSS. The answer is the probe nearest to the limits by OpenDSS "
            f"({', '.join(keep.open_switches) or 'none'} open: "
            + (f"{lo:.4f} - {hi:.4f} p.u." if lo is not None and hi is not None else "no "
               "voltages")
            + "), which breaks them; --v-min/--v-max or --max-loading may admit a topology")
    elif kept is None and keep.reason.startswith(
            "infeasible: no radial topology keeps every voltage"):
        # the nodes named say their shifted limits (algorithms.threephase._voltage_breaches)
        keep.reason += (("" if "held in the model as" in keep.reason else
                         ", with the limits shifted by OpenDSS's offsets (V_OpenDSS - "
                         "V_LinDist3Flow at the base case)")
                        + "; --no-voltage-feedback holds the lossless model's voltages to "
                        "the limits instead")
    return keep, base, kept[0] if kept is not None else None, record


def regulator_taps_at_limit(net: ThreePhaseNetwork) -> dict[str, str]:
    """``{"reg1": "1.1, its maximum"}`` for each regulator (``transformers.is_regulator``)
    whose held tap (either winding's, as OpenDSS solved the file) is at its tap limit
    ``tap_max`` or ``tap_min`` (within 1e-6): a tap the file's own solve ran into its limit,
    which the model holds there."""
    out: dict[str, str] = {}
    tr = net.transformers
    if tr.is_empty() or "is_regulator" not in tr.columns:
        return out
    for row in tr.filter(tr["is_regulator"]).iter_rows(named=True):
        for tap in (row["tap_to"], row["tap_from"]):
            if abs(tap - row["tap_max"]) <= 1e-6 or abs(tap - row["tap_min"]) <= 1e-6:
                side = "maximum" if abs(tap - row["tap_max"]) <= 1e-6 else "minimum"
                out[str(row["id"])] = f"{tap:g}, its {side}"
                break
    return out


def broken_limits_hint(net: ThreePhaseNetwork, sol: OpenDSSSolution) -> str:
    """What may admit a topology, from the limits OpenDSS's solve ``sol`` of the answer kept
    actually breaks: ``--v-min`` for nodes below v_min, ``--v-max`` for nodes above v_max,
    ``--max-loading`` for overloads (``sol.voltage_violations``, ``sol.overloads``); and,
    when regulator taps are held at a tap limit (:func:`regulator_taps_at_limit`), that they
    are. User test ut50_dss3 #2: "--max-loading or --v-min may admit one" was said of 10
    nodes above v_max, with reg1-3 held at tap 1.1 (their maximum) that OpenDSS's controls
    move to 1.00625."""
    low = sum(1 for v in sol.voltage_violations if v[3] == "v_min")
    high = sum(1 for v in sol.voltage_violations if v[3] == "v_max")
    broken = [(opt, f"{n} {what}") for opt, n, what in (
        ("--v-min", low, "node(s) below v_min"), ("--v-max", high, "node(s) above v_max"),
        ("--max-loading", len(sol.overloads), "element(s) over their rating")) if n]
    text = ("OpenDSS's solve of the answer kept has " + ", ".join(w for _, w in broken)
            + ": " + " or ".join(o for o, _ in broken) + " may admit one" if broken else
            "OpenDSS's solve of the answer kept breaks none of the check's limits")
    held = regulator_taps_at_limit(net)
    if held:
        text += ("; regulator taps held at a tap limit, as OpenDSS solved the file: "
                 + ", ".join(f"{k} at {v}" for k, v in sorted(held.items()))
                 + " (the model holds taps; \"OpenDSS with its controls acting\" shows "
                 "where the regulators would move them)")
    return text


def base_is_radial(net: ThreePhaseNetwork) -> bool:
    """Is the base topology one of the search's radial states (the radiality rows allow it:
    :func:`feederopt.algorithms.radial_enumeration.base_state`)? Only then is it a candidate
    answer of :func:`feedback_loop`: a base with a loop through a closed switch has less loss
    than any radial state (tests/test_threephase_permanent_loop.py: 44.69 kW against the
    radial optimum's 45.58 kW), but it is not an answer of the problem."""
    return base_state(to_per_unit_3ph(net)) is not None


def _element_name(net: ThreePhaseNetwork, key: str) -> str:
    """A model key (edge id, ``"Transformer <bank id>"``) as OpenDSS names the element."""
    return (key.replace("Transformer ", "Transformer.", 1) if key.startswith("Transformer ")
            else net.opendss_name(key))


def scenario_opendss(net: ThreePhaseNetwork, rows: ScenarioRows, s: int,
                     open_switches: set[str] | None, floating: set[str],
                     model_voltages: dict[str, float] | None,
                     with_controls: bool = False, *, thermal_limits: bool = True,
                     max_loading_percent: float | None = None) -> OpenDSSSolution:
    """OpenDSS's power flow of scenario ``s``: the loads' totals edited, the generating units
    set to their outputs (:meth:`~feederopt.io.scenarios.ScenarioRows.opendss_setpoints`) and
    the bus rows added as new loads (:func:`feederopt.validation.opendss.add_bus_load`). The
    voltage feedback's solves and the answer's check are both this one. Every rated line's
    and transformer's loading is read from its currents against the solve's ratings
    (``thermal_limits``, ``max_loading_percent``: :func:`~feederopt.validation.opendss.
    solve_opendss`), so each scenario has its ratings verdict too."""
    extra = {b: (p * 1000.0, q * 1000.0) for b, (p, q) in rows.buses[s].items()}
    return solve_opendss(net, open_switches=open_switches, setpoints=rows.opendss_setpoints(s),
                         bus_loads=extra, floating_buses=floating,
                         model_voltages=model_voltages, with_controls=with_controls,
                         thermal_limits=thermal_limits,
                         max_loading_percent=max_loading_percent)


def _scenario_feedback(nets: list[ThreePhaseNetwork], rows: ScenarioRows,
                       floating: set[str], base_open: list[str], *, time_limit_s: float,
                       gap: float, thermal_limits: bool, max_loading_percent: float | None,
                       max_iterations: int, switch_cost_kw: float, feedback: bool,
                       ) -> tuple[ThreePhaseTopology, list[OpenDSSSolution] | None,
                                  dict[str, Any]]:
    """The scenario MILP (:func:`feederopt.algorithms.threephase.
    reconfigure_three_phase_scenarios`) with the voltage feedback of :func:`_voltage_feedback`
    per scenario: each scenario's offsets ``d_n,s = V_OpenDSS,n,s - V_LinDist3Flow,n,s`` are
    measured by OpenDSS's power flow of that scenario (first at the base topology, then at
    each answer) and shift that scenario's limits. It stops as :func:`_voltage_feedback`
    does; of the answers, the one with the least weighted OpenDSS losses plus switching cost
    among those within the limits (and serving every load) in every scenario is kept, the
    ratings judged as :func:`_voltage_feedback` judges them (:func:`within_limits_judged`),
    else the least among those within the voltage limits, else the last; the base topology
    is a candidate by the same weighted measure (:func:`feedback_loop`). Without
    ``feedback``, one MILP with the lossless limits. The loop is :func:`feedback_loop`'s.

    **Ratings**, per scenario, by the same secant rule as :func:`_voltage_feedback`'s: where
    OpenDSS's solution of scenario ``s`` at a topology (the base topology, then each answer)
    puts element ``e`` above its limit while the MILP's 12-sided rating rows keep it, the next
    MILPs hold ``e`` in scenario ``s`` to its rating times ``f_e,s = L_model,s /
    L_OpenDSS,s`` (``rating_factors[s]`` of :func:`feederopt.algorithms.threephase.
    reconfigure_three_phase_scenarios`): ``L_model,s`` the loading of scenario ``s``'s
    LinDist3Flow flow at that topology as those rows see it (:func:`feederopt.algorithms.
    threephase.model_loadings` of scenario ``s``'s network), ``L_OpenDSS,s`` OpenDSS's, both
    of the untightened rating; the least factor found is kept per element and scenario. The
    elements whose flow no switch changes are not tightened (the fixed overloads stay left
    out). With factors, an infeasible MILP stops the loop; when the tightened ratings leave
    no first answer, that MILP is solved again without them.

    Returns the kept topology, OpenDSS's solutions of it per scenario (None when not solved
    here) and the record for the JSON (each answer row's ``rating_factors``: the factors its
    MILP held, per scenario name; the record's ``rating_factors``: all found)."""
    t0 = time.perf_counter()
    w = rows.weights
    names = [str(n) for n in rows.names]
    rated: dict[str, Any] = {"thermal_limits": thermal_limits,
                             "max_loading_percent": max_loading_percent}
    # the acceptance and the tightening leave out the ratings that no switch changes
    unswitched = unswitched_elements(nets[0]) if thermal_limits and feedback else {}
    # per scenario, model key: the least factor found (that scenario's rating tightened)
    factors: list[dict[str, float]] = [{} for _ in nets]
    banks = ([bank.id for bank in to_per_unit_3ph(nets[0]).banks]
             if thermal_limits and feedback else [])
    answered = False

    def judged(sol: OpenDSSSolution) -> bool:
        return within_limits_judged(sol, unswitched)

    def tighten(s: int, opened: list[str], sol: OpenDSSSolution) -> None:
        """Scenario ``s``'s factors ``L_model,s / L_OpenDSS,s`` of the overloads a topology
        can change (:func:`_voltage_feedback`'s rule)."""
        over = switched_overloads(sol, unswitched) if thermal_limits else []
        if not over:
            return
        model = model_loadings(nets[s], set(opened), max_loading_percent)
        limit = sol.loading_limit_percent or 100.0
        for element, pct in over:
            key = model_key(nets[s], banks, element)
            lm = model.get(key)
            if lm is not None and lm > 0 and lm / (pct / limit) < 1.0:
                factors[s][key] = min(factors[s].get(key, 1.0), lm / (pct / limit))

    def named(tight: list[dict[str, float]]) -> dict[str, dict[str, float]]:
        """The factors per scenario name, by OpenDSS's element names."""
        return {n: {_element_name(nets[0], k): round(f, 6) for k, f in sorted(t.items())}
                for n, t in zip(names, tight, strict=True)}

    volts0: list[dict[str, float]] = [{} for _ in nets]
    iterations: list[dict[str, Any]] = []
    bases: list[OpenDSSSolution] = []
    flows0: list[ThreePhaseFlow | None] = []
    if feedback:
        for s, net in enumerate(nets):
            try:
                flow0: ThreePhaseFlow | None = lindist3flow_power_flow(net)
            except SolverError:
                flow0 = None
            base = scenario_opendss(nets[0], rows, s, None, floating,
                                     flow0.voltages_pu if flow0 else None, **rated)
            volts0[s] = voltage_offsets(flow0, base) if flow0 else {}
            bases.append(base)
            flows0.append(flow0)
            if flow0 is not None and base.converged:
                tighten(s, sorted(base_open), base)
        iterations.append({
            "topology": "base", "open_switches": sorted(base_open),
            "opendss_expected_losses_kw": _num(float(sum(
                wi * x.losses_kw for wi, x in zip(w, bases, strict=True)))),
            "within_voltage_limits": all(x.within_voltage_limits for x in bases),
            "within_thermal_limits": all(x.within_thermal_limits for x in bases),
            "within_limits": all(judged(x) for x in bases),
            "passed": all(x.passed for x in bases)})
    ScenarioOffsets = tuple[list[dict[str, float]], list[dict[str, float]]]

    def milp(offsets: ScenarioOffsets, tangents: list[list[Tangents]] | None,
             seconds: float) -> tuple[ThreePhaseTopology, list[list[Tangents]] | None]:
        volts, tight = offsets

        def solve(tight: list[dict[str, float]] | None) -> ThreePhaseTopology:
            return reconfigure_three_phase_scenarios(
                nets, w, time_limit_s=seconds, gap=gap,
                thermal_limits=thermal_limits, max_loading_percent=max_loading_percent,
                voltage_offsets=volts, tangents=tangents, switch_cost_kw=switch_cost_kw,
                names=rows.names, rating_factors=tight)

        tightened = any(tight)
        topo = solve(tight if tightened else None)
        if tightened and topo.flow is None and topo.status == "infeasible" and not answered:
            topo = solve(None)  # the tightened ratings leave no first answer: without them
        return topo, topo.scenario_tangents or tangents

    def opendss(topo: ThreePhaseTopology) -> Solutions:
        nonlocal answered
        answered = True
        return [scenario_opendss(nets[0], rows, s, set(topo.open_switches), floating,
                                  topo.scenario_flows[s].voltages_pu, **rated)
                for s in range(len(nets))]

    def next_offsets(topo: ThreePhaseTopology, sols: Solutions) -> ScenarioOffsets:
        for s, sol in enumerate(sols):
            tighten(s, topo.open_switches, sol)
        return ([voltage_offsets(f, x) for f, x in zip(topo.scenario_flows, sols, strict=True)],
                [dict(t) for t in factors])

    def answer_row(topo: ThreePhaseTopology, offsets: ScenarioOffsets,
                   sols: Solutions | None) -> dict[str, Any]:
        row: dict[str, Any] = {"topology": "answer", "status": topo.status,
                               "milp_time_s": topo.solve_time_s,
                               # the ratings this MILP held tightened, per scenario name
                               "rating_factors": named(offsets[1]),
                               "open_switches": topo.open_switches if topo.flow else None}
        if sols is not None:
            row["opendss_expected_losses_kw"] = _num(float(sum(
                wi * x.losses_kw for wi, x in zip(w, sols, strict=True))))
            row["within_voltage_limits"] = all(x.within_voltage_limits for x in sols)
            row["within_thermal_limits"] = all(x.within_thermal_limits for x in sols)
            row["within_limits"] = all(judged(x) for x in sols)
            row["passed"] = all(x.passed for x in sols)
            row["overloads_switched"] = {
                n: [f"{e} ({pct:.1f} %)" for e, pct in switched_overloads(x, unswitched)]
                for n, x in zip(names, sols, strict=True)}
        return row

    def loss(topo: ThreePhaseTopology, sols: Solutions) -> float:
        return sum(wi * y.losses_kw for wi, y in zip(w, sols, strict=True)) \
            + topo.switching_cost_kw

    def base_answer() -> tuple[ThreePhaseTopology, Solutions] | None:
        flows = [f for f in flows0 if f is not None]
        if not bases or len(flows) != len(nets) or not base_is_radial(nets[0]):
            return None
        proxy = float(sum(wi * f.loss_proxy_kw for wi, f in zip(w, flows, strict=True)))
        return ThreePhaseTopology("time_limit", sorted(base_open), proxy, math.nan, 0.0,
                                  flows[0], scenario_flows=flows), bases

    keep, kept, record = feedback_loop(
        milp, opendss, next_offsets, answer_row, loss,
        offsets=(volts0, [dict(t) for t in factors]), tangents=None,
        iterations=iterations, base_open=base_open, time_limit_s=time_limit_s,
        max_iterations=max_iterations, t0=t0,
        record={"enabled": feedback, "per_scenario": True}, feedback=feedback,
        base=base_answer, ok=judged)
    record["rating_factors"] = named(factors)
    return keep, kept, record


#: The least-overloading topology of an infeasible solve is ranked by OpenDSS's own currents
#: when the feeder has at most this many radial states (one OpenDSS solve each;
#: :func:`opendss_least_overloading`); with more, LinDist3Flow's ranking stands.
OPENDSS_RANK_MAX_STATES = 64
#: Two states whose largest OpenDSS loadings differ by at most this [percentage points] tie:
#: the model's loss proxy (plus switching cost) decides (OpenDSS solves to 1e-4 p.u.).
LOADING_TIE_PCT = 0.01
#: The least seconds the OpenDSS ranking gets, whatever is left of the time limit.
OPENDSS_RANK_MIN_S = 30.0


def _states_to_rank(net: ThreePhaseNetwork, record: dict[str, Any]) -> tuple[Any, Any]:
    """The per-unit feeder and its radial states for an OpenDSS ranking, with their count in
    ``record["radial_states"]``; no states (None) and ``record["why"]`` past
    :data:`OPENDSS_RANK_MAX_STATES`."""
    pu = to_per_unit_3ph(net)
    states = radial_states(pu, OPENDSS_RANK_MAX_STATES)
    if states is None:
        record["why"] = f"more than {OPENDSS_RANK_MAX_STATES} radial states for OpenDSS"
    else:
        record["radial_states"] = len(states)
    return pu, states

def _state_solved(net: ThreePhaseNetwork, opened: set[str], floating: set[str], *,
                  thermal_limits: bool, max_loading_percent: float | None,
                  ) -> tuple[ThreePhaseFlow | None, OpenDSSSolution]:
    """One radial state with ``opened`` open: its LinDist3Flow power flow (None when that has
    no solution) and OpenDSS's solve of it as the check solves an answer (controls off)."""
    try:
        flow: ThreePhaseFlow | None = lindist3flow_power_flow(net, open_switches=opened)
    except SolverError:
        flow = None
    # solve_again: the base state (no switch changed) is solved as every other one
    sol = solve_opendss(net, open_switches=opened, floating_buses=floating,
                        model_voltages=flow.voltages_pu if flow else None,
                        with_controls=False, thermal_limits=thermal_limits,
                        max_loading_percent=max_loading_percent, solve_again=True)
    return flow, sol


def opendss_least_overloading(net: ThreePhaseNetwork, topo: ThreePhaseTopology,
                              floating: set[str], *, max_loading_percent: float | None,
                              switch_cost_kw: float, deadline: float, opendss: bool,
                              ) -> tuple[OpenDSSSolution | None, dict[str, Any]]:
    """OpenDSS's own ranking of the radial states for a least-overloading answer ``topo``
    (status ``infeasible`` with a topology: LinDist3Flow's pick,
    :func:`feederopt.algorithms.threephase._least_overloading`).

    When the feeder has at most :data:`OPENDSS_RANK_MAX_STATES` radial states
    (:func:`~feederopt.algorithms.radial_enumeration.radial_states`, those the MILP's
    radiality rows allow), each is solved by OpenDSS as the check solves an answer (its
    controls off, the model's taps and capacitors held, :func:`solve_opendss`), and ranked
    by its largest loading (% of the rating, OpenDSS's currents, :func:`~feederopt.
    validation.opendss.branch_loading`) over the rated elements that the switches change:
    the bridges of the feeder's graph (:func:`unswitched_elements`) are left out, as their
    loading is the same in every state. A state is a candidate when OpenDSS converges,
    serves every load and keeps the voltage limits and LinDist3Flow has its flow. The
    least largest loading wins; states within :data:`LOADING_TIE_PCT` of it tie, and the
    least LinDist3Flow loss proxy plus switching cost among them is the answer. When it is
    not ``topo``'s state, ``topo`` becomes it in place (open switches, flow, loss proxy,
    switching actions, the model's ``overloaded``; ``bound_kw`` NaN: the bound was of
    LinDist3Flow's pick), and ``reason`` says that OpenDSS ranked the states either way.

    When some candidates are also within every rating that switching changes (OpenDSS's
    overloads, if any, all on bridges; ``within_limits`` per state), the model's linearised
    ratings were conservative: the answer is the one of them with the least OpenDSS losses
    plus switching cost, ``topo.status`` becomes ``"feasible"`` (``bound_kw`` NaN,
    ``bound_source`` ``"opendss"``), ``reason`` and a note in ``topo.notes`` say so, and the
    record has ``within_limits`` True with the chosen state's ``opendss_overloads`` and
    ``opendss_within_thermal_limits``.

    LinDist3Flow's ranking stands (``ranked_by`` ``"LinDist3Flow"``, and ``reason`` says
    why) with more states, without OpenDSS (``opendss`` False: neither the check nor the
    voltage feedback; or a network not read from a file), when no state is a candidate or
    when ``deadline`` (``time.perf_counter()``; at least :data:`OPENDSS_RANK_MIN_S` from the
    call) passes first. Returns OpenDSS's solution of the chosen state (None when LinDist3Flow
    ranked) and the record for the JSON (``least_overloading``: ``ranked_by``,
    ``radial_states``, ``why``, per state ``open_switches``, ``opendss_max_loading_percent``
    and ``_element`` (of the switched elements), ``opendss_min_voltage_pu`` and ``_max_``,
    ``candidate`` (with ``why_not_candidate`` when not), ``loss_proxy_kw``, and ``chosen``,
    ``lindist3flow_pick``: open switches).

    The reason names the ranking as it went: when some states are no candidates, that the
    candidates come first (the only one of them: "this is the only one of the N radial states
    that OpenDSS puts within every voltage limit ...", not "overloads least"), and each other
    state with its worst node and largest loading (user test ut48_dss3 #2); the search's note
    on LinDist3Flow's own pick (its lambda) says that OpenDSS's ranking chose
    (:func:`_model_pick_note`)."""
    pick = sorted(topo.open_switches)
    record: dict[str, Any] = {"ranked_by": "LinDist3Flow", "radial_states": None,
                              "lindist3flow_pick": pick, "chosen": pick, "states": []}

    def model_ranked(why: str) -> tuple[None, dict[str, Any]]:
        record["why"] = why
        if topo.reason.endswith("(LinDist3Flow)"):
            topo.reason = topo.reason.removesuffix("(LinDist3Flow)") + (
                f"(ranked by LinDist3Flow: {why})")
        return None, record

    if not opendss:
        return model_ranked("no OpenDSS solve was asked for")
    if not net.meta.get("source_path"):
        return model_ranked("the network was not read from an OpenDSS file")
    pu = to_per_unit_3ph(net)
    states = radial_states(pu, OPENDSS_RANK_MAX_STATES)
    if states is None:
        return model_ranked(f"more than {OPENDSS_RANK_MAX_STATES} radial states for "
                            "OpenDSS to rank")
    record["radial_states"] = len(states)
    unswitched = unswitched_elements(net)
    bridges = fixed_flow_elements(pu)
    end = max(deadline, time.perf_counter() + OPENDSS_RANK_MIN_S)
    rows: list[dict[str, Any]] = []
    # (largest switched loading, loss proxy + switching cost, index, flow, OpenDSS's solution,
    # OpenDSS's losses + switching cost) of each candidate state
    found: list[tuple[float, float, int, ThreePhaseFlow, OpenDSSSolution, float]] = []
    for k, state in enumerate(states):
        if time.perf_counter() > end:
            record["states"] = rows
            return model_ranked(f"the time ran out after {k} of the {len(states)} radial "
                                "states solved by OpenDSS")
        opened = set(state.open_switches)
        flow, sol = _state_solved(net, opened, floating, thermal_limits=True,
                                  max_loading_percent=max_loading_percent)
        switched = [(e, pct) for e, pct in sol.loadings.items() if e not in unswitched]
        top = max(switched, key=lambda ep: ep[1], default=(None, 0.0))
        ok = (flow is not None and sol.converged and sol.passed
              and sol.within_voltage_limits)
        switching = switch_cost_kw * len(switching_actions(pu, opened))
        cost = flow.loss_proxy_kw + switching if flow is not None else math.nan
        # within every limit: no rating that switching changes broken, besides the above
        within = ok and not switched_overloads(sol, unswitched)
        lo, hi = _range(sol) if sol.converged else (None, None)
        rows.append({"open_switches": sorted(opened),
                     "opendss_max_loading_percent": _num(top[1]) if sol.converged else None,
                     "opendss_max_loading_element": top[0] if sol.converged else None,
                     "opendss_min_voltage_pu": lo, "opendss_max_voltage_pu": hi,
                     "why_not_candidate": None if ok else _not_candidate(flow, sol, top[1]),
                     "candidate": ok, "within_limits": within,
                     "opendss_losses_kw": _num(sol.losses_kw) if sol.converged else None,
                     "loss_proxy_kw": _num(cost)})
        if ok and flow is not None:
            found.append((top[1], cost, k, flow, sol, sol.losses_kw + switching))
    record["states"] = rows
    if not found:
        return model_ranked("OpenDSS finds no radial state within the voltage limits with "
                            "every load served")
    inside = [f for f in found if rows[f[2]]["within_limits"]]
    if inside:  # the model's ratings were conservative: the least OpenDSS losses among them
        load, _, k, flow, sol, _ = min(inside, key=lambda f: (f[5], f[2]))
    else:
        least = min(f[0] for f in found)
        load, _, k, flow, sol, _ = min((f for f in found if f[0] <= least + LOADING_TIE_PCT),
                                       key=lambda f: (f[1], f[2]))
    chosen = rows[k]["open_switches"]
    record.update(ranked_by="OpenDSS", chosen=chosen, why=(
        f"{len(states)} radial states, at most {OPENDSS_RANK_MAX_STATES}: each solved by "
        "OpenDSS"), within_limits=bool(inside),
        # the chosen state's OpenDSS verdict (the answer's, without an AC check)
        opendss_within_thermal_limits=sol.within_thermal_limits,
        opendss_overloads=[f"{e} ({pct:.1f} %)" for e, pct, _, _ in sol.overloads])
    before = next((r for r in rows if r["open_switches"] == pick), None)
    if chosen != pick:
        opened = set(chosen)
        actions = switching_actions(pu, opened)
        topo.open_switches, topo.flow = chosen, flow
        topo.loss_proxy_kw = flow.loss_proxy_kw
        topo.bound_kw = math.nan
        topo.switching_actions = actions
        topo.switching_cost_kw = switch_cost_kw * len(actions)
        topo.overloaded = model_overloads(net, opened, max_loading_percent, bridges)
    head = topo.reason.partition("; this one overloads least")[0]
    element = rows[k]["opendss_max_loading_element"] or "-"
    limit = 100.0 if max_loading_percent is None else max_loading_percent
    if inside:
        topo.status, topo.bound_kw, topo.bound_source = "feasible", math.nan, "opendss"
        model = head.removeprefix("infeasible: ")
        fixed = [e for e, _ in unswitched_overloads(sol, unswitched)]
        topo.reason = (
            f"feasible by OpenDSS: LinDist3Flow's linearised ratings were conservative here "
            f"({model}, by the lossless flow at 1 p.u.), and OpenDSS finds this state within "
            f"every rating that switching changes (largest {element} {load:.1f} %, limit "
            f"{limit:g} %) and every voltage limit, with every load served; of the "
            f"{len(inside)} such radial state(s) of {len(states)}, each solved by OpenDSS, "
            "it has the least OpenDSS losses" + (" plus switching cost" if switch_cost_kw
                                                 else "")
            + ("" if not fixed else f" ({', '.join(fixed)}: above the rating whatever the "
               "switches, opendss_fixed_overloads)"))
        topo.notes.append(
            "status feasible, by OpenDSS: the model's linearised ratings (LinDist3Flow: "
            "lossless, currents at 1 p.u.) admit no radial topology, but OpenDSS's own power "
            f"flow puts {len(inside)} of the {len(states)} radial states within every limit "
            "(least_overloading.states: within_limits); the answer is the one of least "
            "OpenDSS losses among them. Not proven optimal: no bound on the loss proxy "
            "(lower_bound_source opendss)")
        _model_pick_note(topo, pick)
        return sol, record
    # user test ut48_dss3 #2: "this one overloads least ... over the 3 radial states" named
    # the most overloaded state, the only one of the 3 within the voltage limits; the ranking
    # is of the candidates (within every voltage limit, every load served), and says so
    others = [r for r in rows if not r["candidate"]]
    if load <= limit:
        verdict = (f"OpenDSS finds this one within every rating that switching changes "
                   f"(largest {element} {load:.1f} %, limit {limit:g} %)")
    elif not others:
        verdict = f"this one overloads least in OpenDSS: {element} {load:.1f} %"
    elif len(found) == 1:
        verdict = (f"this is the only one of the {len(states)} radial states that OpenDSS "
                   f"puts within every voltage limit with every load served, and it loads "
                   f"{element} at {load:.1f} % (limit {limit:g} %)")
    else:
        verdict = (f"of the {len(found)} of the {len(states)} radial states that OpenDSS puts "
                   f"within every voltage limit with every load served, this one overloads "
                   f"least in OpenDSS: {element} {load:.1f} %")
    if others and load > limit:
        verdict += ("; the other " + ("state breaks a voltage limit (or leaves"
                                      if len(others) == 1 else
                                      f"{len(others)} states break a voltage limit (or leave")
                    + " load unserved) in OpenDSS, which the ranking puts before any "
                    "overload: " + "; ".join(
                        f"{', '.join(r['open_switches']) or 'none'} open"
                        + (" (the base case)" if r["open_switches"] == sorted(
                            _base_open(net)) else "") + f": {r['why_not_candidate']}"
                        for r in others))
    was = ""
    if chosen != pick and before is not None \
            and before["opendss_max_loading_percent"] is not None:
        was = (f"; LinDist3Flow's pick ({', '.join(pick) or 'none'} open) has "
               f"{before['opendss_max_loading_element']} at "
               f"{before['opendss_max_loading_percent']:.1f} % in OpenDSS")
    first = ("" if not others else "those within every voltage limit with every load "
             "served first, then ")
    topo.reason = (f"{head} (LinDist3Flow); {verdict} (ranked by OpenDSS over the "
                   f"{len(states)} radial states: {first}the least largest loading of the "
                   f"elements that switching changes{was})")
    _model_pick_note(topo, pick)
    return sol, record


def _base_open(net: ThreePhaseNetwork) -> list[str]:
    """The switches that ``net``'s own states leave open (the base case's)."""
    sw = net.lines.filter(net.lines["switchable"])
    return sorted(sw.filter(sw["normally_open"])["id"].to_list())


def _not_candidate(flow: ThreePhaseFlow | None, sol: OpenDSSSolution, loading: float) -> str:
    """Why OpenDSS's ranking of the least-overloading answer leaves a radial state out
    (:func:`opendss_least_overloading`): OpenDSS does not converge, leaves load unserved or
    puts a node outside its voltage limits (the worst named, with the state's largest
    ``loading`` [%] of the elements that switching changes, to compare), or LinDist3Flow has
    no flow of it."""
    if not sol.converged:
        return "OpenDSS does not converge"
    if not sol.passed:
        return f"OpenDSS leaves {sol.unserved_load_kw:.1f} kW of load unserved"
    if sol.voltage_violations:
        node, v, lim, kind = sol.voltage_violations[0]
        more = len(sol.voltage_violations) - 1
        return (f"{node} at {v:.4f} p.u. {'<' if kind == 'v_min' else '>'} {kind} {lim:.4f}"
                + (f" and {more} more node(s)" if more else "")
                + f" in OpenDSS, its largest loading {loading:.1f} %")
    if flow is None:
        return "LinDist3Flow has no flow of it"
    return "outside the limits"


def _model_pick_note(topo: ThreePhaseTopology, pick: list[str]) -> None:
    """The note of LinDist3Flow's least-overloading topology (:func:`feederopt.algorithms.
    threephase._least_overloading`: "least-overloading topology by LinDist3Flow's loadings
    ... lambda") said once OpenDSS has ranked the radial states: it was the model's pick, and
    OpenDSS's ranking chose the answer (user test ut48_dss3 #2: the note and the reason named
    two rankings, neither saying which one chose)."""
    head = "least-overloading topology by LinDist3Flow's loadings: "
    for i, note in enumerate(topo.notes):
        if note.startswith(head):
            scale = note.removeprefix(head).split(" for a radial topology to exist", 1)[0]
            topo.notes[i] = (
                f"LinDist3Flow's own least-overloading pick ({', '.join(pick) or 'none'} "
                f"open; by its loadings {scale} for a radial topology to exist) is not the "
                "ranking that chose the answer: OpenDSS's ranking of the radial states did "
                "(least_overloading.ranked_by OpenDSS; the reason says how); OpenDSS's check "
                "reports its own loadings; --max-loading or --no-thermal-limits accept the "
                "overload")


StateFound = tuple[float, int, ThreePhaseFlow, OpenDSSSolution]


def _judged_states(net: ThreePhaseNetwork, pu: PerUnitThreePhase, states: list[RadialState],
                   floating: set[str], rows: list[dict[str, Any]], *, thermal_limits: bool,
                   max_loading_percent: float | None, switch_cost_kw: float, end: float,
                   ) -> tuple[list[StateFound], int]:
    """Every radial state solved by OpenDSS as the check solves an answer
    (:func:`_state_solved`) and judged as the OpenDSS rankings judge an answer: within the
    limits when OpenDSS converges, serves every load, keeps every voltage limit and (with
    ``thermal_limits``) every rating that switching changes, and LinDist3Flow has its flow.
    One place for that verdict, for :func:`opendss_within_voltage_states` and
    :func:`opendss_least_losses` alike. Appends a row per state to ``rows`` (open switches,
    ``within_limits``, OpenDSS's losses and voltage range) and returns the states within the
    limits as ``(OpenDSS losses + switching cost, index, flow, solution)`` with the number of
    states solved before ``end`` (``time.perf_counter()``) passed."""
    unswitched = unswitched_elements(net)
    found: list[StateFound] = []
    for k, state in enumerate(states):
        if time.perf_counter() > end:
            return found, k
        opened = set(state.open_switches)
        flow, sol = _state_solved(net, opened, floating, thermal_limits=thermal_limits,
                                  max_loading_percent=max_loading_percent)
        ok = (flow is not None and sol.converged and sol.passed and sol.within_voltage_limits
              and (not thermal_limits or not switched_overloads(sol, unswitched)))
        lo, hi = _range(sol) if sol.converged else (None, None)
        switching = switch_cost_kw * len(switching_actions(pu, opened))
        rows.append({
            "open_switches": sorted(opened), "within_limits": ok,
            "opendss_losses_kw": _num(sol.losses_kw) if sol.converged else None,
            "switching_cost_kw": _num(switching),
            "opendss_min_voltage_pu": lo, "opendss_max_voltage_pu": hi})
        if ok and flow is not None:
            found.append((sol.losses_kw + switching, k, flow, sol))
    return found, len(states)


def opendss_within_voltage_states(net: ThreePhaseNetwork, topo: ThreePhaseTopology,
                                  floating: set[str], *, thermal_limits: bool,
                                  max_loading_percent: float | None, switch_cost_kw: float,
                                  deadline: float, opendss: bool,
                                  ) -> tuple[OpenDSSSolution | None, dict[str, Any]]:
    """OpenDSS's verdict on every radial state when the voltage feedback ends with no
    topology (``topo`` infeasible: "no radial topology keeps every voltage", the MILP's
    limits shifted by OpenDSS's offsets at the base case). That MILP is a heuristic: on IEEE
    13 with two ties it was infeasible at ``--v-max 1.09`` where OpenDSS puts two of the 16
    radial states within 0.9-1.09 p.u. (user test ut_3ph2 D1), and exit code 3 claimed a
    proof it did not have.

    With at most :data:`OPENDSS_RANK_MAX_STATES` radial states each is solved by OpenDSS as
    the check solves an answer (:func:`solve_opendss`, controls off); a state passes when
    OpenDSS converges, serves every load, keeps every voltage limit and (with thermal limits)
    every rating that switching changes, and LinDist3Flow has its flow. The passing state of
    least OpenDSS losses plus switching cost becomes ``topo`` (status ``feasible``, bound NaN,
    ``bound_source`` ``opendss``; ``reason`` and a note say so). When none passes, the
    infeasibility is OpenDSS's over every radial state (``proven``: ``reason`` says so). With
    more states, or without OpenDSS, nothing changes and ``proven`` is False. Returns the
    chosen state's OpenDSS solution (None when none) and the record
    (``voltage_feedback.opendss_states``)."""
    record: dict[str, Any] = {"radial_states": None, "proven": False, "states": []}
    if not opendss or not net.meta.get("source_path"):
        record["why"] = "no OpenDSS solve of the feeder's file"
        return None, record
    pu, states = _states_to_rank(net, record)
    if states is None:
        return None, record
    bridges = fixed_flow_elements(pu)
    end = max(deadline, time.perf_counter() + OPENDSS_RANK_MIN_S)
    found, done = _judged_states(net, pu, states, floating, record["states"],
                                 thermal_limits=thermal_limits,
                                 max_loading_percent=max_loading_percent,
                                 switch_cost_kw=switch_cost_kw, end=end)
    if done < len(states):
        record["why"] = f"the time ran out after {done} of the {len(states)} radial states"
        return None, record
    if not found:
        record["proven"] = True
        topo.reason += (f"; OpenDSS confirms it: none of the {len(states)} radial states, each "
                        "solved by OpenDSS, keeps every voltage limit"
                        + (" and rating that switching changes" if thermal_limits else "")
                        + " with every load served")
        return None, record
    _, k, flow, sol = min(found, key=lambda f: (f[0], f[1]))
    chosen = sorted(states[k].open_switches)
    opened = set(chosen)
    actions = switching_actions(pu, opened)
    topo.status, topo.open_switches, topo.flow = "feasible", chosen, flow
    topo.loss_proxy_kw = flow.loss_proxy_kw
    topo.bound_kw, topo.bound_source = math.nan, "opendss"
    topo.switching_actions = actions
    topo.switching_cost_kw = switch_cost_kw * len(actions)
    topo.overloaded = model_overloads(net, opened, max_loading_percent, bridges)
    record["chosen"] = chosen
    model = topo.reason.removeprefix("infeasible: ")
    topo.reason = (
        f"feasible by OpenDSS: the voltage feedback's MILP found no topology ({model}), but "
        f"OpenDSS puts {len(found)} of the {len(states)} radial states within every voltage "
        "limit" + (" and every rating that switching changes" if thermal_limits else "")
        + ", with every load served; this one has the least OpenDSS losses"
        + (" plus switching cost" if switch_cost_kw else ""))
    topo.notes.append(
        "status feasible, by OpenDSS: LinDist3Flow's voltages, shifted by OpenDSS's offsets at "
        "the base case, admit no radial topology, but OpenDSS's own power flow of every radial "
        f"state puts {len(found)} of {len(states)} within the limits "
        "(voltage_feedback.opendss_states); the answer is the one of least OpenDSS losses. "
        "Not proven optimal: no bound on the loss proxy (lower_bound_source opendss)")
    return sol, record


def opendss_least_losses(net: ThreePhaseNetwork, topo: ThreePhaseTopology, floating: set[str],
                         *, thermal_limits: bool, max_loading_percent: float | None,
                         switch_cost_kw: float, deadline: float,
                         lindist3flow_pick: list[str] | None = None,
                         ) -> tuple[OpenDSSSolution | None, dict[str, Any]]:
    """The exact AC optimum over the radial states, when the search enumerated them
    (``topo.method`` ``"enumeration"``, at most :data:`OPENDSS_RANK_MAX_STATES` states) and
    ended with an answer (status ``optimal`` or ``feasible``, after the voltage feedback).

    The enumeration ranks the states by LinDist3Flow's loss proxy, which is not OpenDSS's
    order (Iowa 240: the pick second of 43 by OpenDSS, 45.96 against 45.82 kW; ieee37mod 0.15
    kW above OpenDSS's best). With so few states the truth costs one OpenDSS solve each: every
    state is solved and judged as the check solves and judges an answer
    (:func:`_judged_states`), and the answer is the one of least OpenDSS losses plus
    switching cost among those within every limit. That minimum is exact (up to OpenDSS's
    tolerance): ``topo.status`` becomes ``"optimal"`` with a note "optimal over the N radial
    states by OpenDSS"; the model's bound stays (``lower_bound_kw``; the gap is then the
    answer's loss proxy over the model's optimum). When the answer moves, ``topo`` becomes
    the state (open switches, flow, loss proxy, switching actions, the model's
    ``overloaded``) and the note names LinDist3Flow's pick (``lindist3flow_pick``, when the
    voltage feedback kept the base over it; else ``topo``'s) and its OpenDSS losses.

    Nothing changes (a note says why, ``proven`` False) when the time limit (``deadline``,
    ``time.perf_counter()``) passes before every state is solved, or when OpenDSS finds no
    state within the limits. Returns OpenDSS's solution of the answer when the step decided
    (None otherwise) and the record (``voltage_feedback.opendss_states``: ``radial_states``,
    ``proven``, ``states`` with each one's OpenDSS losses and ``within_limits``, ``chosen``,
    ``lindist3flow_pick`` and its ``lindist3flow_pick_opendss_losses_kw``, ``why``)."""
    now = sorted(topo.open_switches)
    pick = sorted(lindist3flow_pick) if lindist3flow_pick is not None else now
    record: dict[str, Any] = {"radial_states": None, "proven": False, "states": [],
                              "ranked_by": "OpenDSS", "lindist3flow_pick": pick,
                              "chosen": now}
    pu, states = _states_to_rank(net, record)
    if states is None:
        return None, record
    found, done = _judged_states(net, pu, states, floating, record["states"],
                                 thermal_limits=thermal_limits,
                                 max_loading_percent=max_loading_percent,
                                 switch_cost_kw=switch_cost_kw, end=deadline)
    mine = next((r for r in record["states"] if r["open_switches"] == pick), None)
    record["lindist3flow_pick_opendss_losses_kw"] = mine["opendss_losses_kw"] if mine else None
    if done < len(states):
        record["why"] = (f"the time limit ran out after {done} of the {len(states)} radial "
                         "states solved by OpenDSS")
        topo.notes.append(f"OpenDSS's ranking of the {len(states)} radial states skipped: "
                          f"{record['why']} (the answer is LinDist3Flow's pick; raise "
                          "--time-limit for the exact optimum by OpenDSS)")
        return None, record
    limits = "voltage limit" + (" and rating that switching changes" if thermal_limits else "")
    if not found:
        record["why"] = f"OpenDSS finds no radial state within every {limits}"
        topo.notes.append(f"OpenDSS's ranking of the {len(states)} radial states: none is "
                          f"within every {limits} with every load served by OpenDSS; the "
                          "answer is LinDist3Flow's pick")
        return None, record
    ranked, k, flow, sol = min(found, key=lambda f: (f[0], f[1]))
    chosen = sorted(states[k].open_switches)
    record.update(proven=True, chosen=chosen, why=(
        f"{len(states)} radial states, at most {OPENDSS_RANK_MAX_STATES}: each solved by "
        "OpenDSS"))
    # the ranked value, and its losses apart (user test ut45 dssday #3: the losses alone,
    # 89.779 kW, were printed as "losses plus switching cost" for a ranked 119.779 kW)
    value = (f" plus switching cost ({ranked:.3f} kW: {sol.losses_kw:.3f} kW of losses and "
             f"{ranked - sol.losses_kw:.3f} kW of switching)" if switch_cost_kw
             else f" ({sol.losses_kw:.3f} kW)")
    was = ""
    if chosen != pick:
        theirs = record["lindist3flow_pick_opendss_losses_kw"]
        was = (f"; LinDist3Flow's pick ({', '.join(pick) or 'none'} open) has "
               + (f"{theirs:.3f} kW" if theirs is not None else "no solution")
               + " in OpenDSS"
               + (f" plus {mine['switching_cost_kw']:.3f} kW of switching"
                  if switch_cost_kw and mine and mine.get("switching_cost_kw") is not None
                  and theirs is not None else "")
               + ("" if mine and mine["within_limits"] else ", and breaks a limit there"))
    if chosen != now:
        opened = set(chosen)
        actions = switching_actions(pu, opened)
        topo.open_switches, topo.flow = chosen, flow
        topo.loss_proxy_kw = flow.loss_proxy_kw
        topo.switching_actions = actions
        topo.switching_cost_kw = switch_cost_kw * len(actions)
        topo.overloaded = model_overloads(net, opened, max_loading_percent,
                                          fixed_flow_elements(pu))
    topo.status = "optimal"
    if len(states) == 1:  # user test ut47_docs #4: "optimal over the 1 radial states"
        topo.notes.append(
            "optimal, the only radial state: nothing to switch; OpenDSS solved it as the check "
            f"solves an answer, within every {limits} with every load served, OpenDSS "
            f"losses{value}{was} (voltage_feedback.opendss_states)")
        return sol, record
    topo.notes.append(
        f"optimal over the {len(states)} radial states by OpenDSS: each solved by OpenDSS as "
        f"the check solves an answer; of the {len(found)} within every {limits} with every "
        f"load served, this one ({', '.join(chosen) or 'none'} open) has the least OpenDSS "
        f"losses{value}{was} (voltage_feedback.opendss_states)")
    return sol, record
