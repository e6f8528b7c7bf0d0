"""The limits verdict of a stochastic or robust result, and its per-scenario AC check.

The headline figures of an uncertain result (losses, voltages, the AC check, the tables and
plots) are those of the chosen topology at the **nominal load** (the network's own loads, which
need not be a scenario). The verdict is the scenarios' (or the extreme points'): the result is
within the limits only when no scenario needs slack at the chosen topology; the diagnosis names
each scenario's binding limits in the user's ids and units
(:func:`feederopt.results.mapping._diagnosis_entry`), and every scenario is checked by one AC
power flow at its loads (:mod:`feederopt.validation.scenario_ac`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from feederopt.algorithms.base import RawSolution
from feederopt.algorithms.slaves import SlaveResult
from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork
from feederopt.results.mapping import _diagnosis_entry, slave_summary
from feederopt.results.result import Result, proven_lower_bound
from feederopt.results.uncertain import (
    MAX_AC_SCENARIOS,
    RobustSummary,
    SlaveOutcome,
    StochasticSummary,
    UncertainSummary,
)
from feederopt.solvers.status import Status

#: What the headline figures of an uncertain result are.
NOMINAL_NOTE = ("the headline losses, voltages, AC check, tables and plots are the chosen "
                "topology's at the nominal load (the network's own loads), not a scenario's")
#: :data:`NOMINAL_NOTE` of a robust run, whose realisations are extreme points (user test
#: ut49_journey #4).
NOMINAL_NOTE_ROBUST = NOMINAL_NOTE.replace("not a scenario's", "not an extreme point's")

#: What a proof that no topology supplies a scenario rests on (JSON ``infeasible_reason``;
#: :func:`feederopt.algorithms.stochastic.scenario_infeasible` proves it).
#: The reason of an enumeration's proof per scenario (``unsupplied_scenarios``).
SCENARIO_UNSUPPLIED = (
    "no radial topology supplies {scenarios} within the limits (proven: each of "
    "the grid's {n} radial topologies was evaluated there and needs slack in the SOCP "
    "relaxation, which contains every AC operating point)")
#: The reason of a robust run's enumeration proof per extreme point
#: (``unsupplied_extreme_points``; :meth:`feederopt.algorithms.robust.RobustCuttingPlane.
#: unsupplied_points`).
ROBUST_UNSUPPLIED = (
    "no radial topology meets the limits at {points}, each on its own (proven: each of the "
    "grid's {n} radial topologies was evaluated there and needs slack in the SOCP relaxation, "
    "which contains every AC operating point), so none meets them at every extreme point of "
    "the uncertainty set: lower the uncertainty, the budget or the binding limit")
SCENARIO_INFEASIBLE = (
    "no radial topology supplies scenario {scenario} within the limits (proven: an MILP over "
    "radiality and DistFlow without slack at its loads, its cones outer-approximated, a "
    "relaxation, is infeasible)")



def slave_outcome(pu: PerUnitNetwork, net: Network, r: SlaveResult,
                  diagnosed: Sequence[Any] = (), least_violating: bool = False
                  ) -> SlaveOutcome:
    """A scenario's or extreme point's outcome, its violated limits in the user's ids and
    units (the phase-1 diagnosis ``diagnosed`` when there is one: it names the binding limit).

    ``least_violating``: ``r`` is a two-phase slave's (the robust extreme points'), whose
    point where it needs slack is phase 1's, the least total slack: its losses are not
    minimised (any ``l >= (P^2+Q^2)/v`` is as good), so its relaxation is not compared with
    the AC power flow there (``relaxation_gap`` and ``relaxation_exact`` None), as the single
    solve's least-violating point is not (its AC table: "not compared"); an "inexact
    relaxation ... under reverse power flow" note on a feeder without generation said
    otherwise (ut38_lit, case84tpc)."""
    base = slave_summary(pu, net, r)
    if least_violating and not r.feasible:
        base = replace(base, relaxation_gap=None, relaxation_exact=None)
    violations = list(diagnosed) or list(r.violations)
    return replace(base, violations=[_diagnosis_entry(pu, v, net.bus_id_out)
                                     for v in violations[:10]])


def by_scenario(diagnosis: Sequence[Any]) -> dict[int, list[Any]]:
    """The violations of a raw diagnosis (:class:`~feederopt.algorithms.stochastic.
    ScenarioViolation`) by scenario index."""
    out: dict[int, list[Any]] = {}
    for d in diagnosis:
        out.setdefault(int(getattr(d, "scenario", -1)), []).append(d)
    return out


def nominal_view(raw: RawSolution, nominal_feasible: bool) -> dict[str, Any]:
    """The fields of ``raw`` that the mapping of the nominal-load point sees: its own
    feasibility (not the scenarios'), so that a feasible nominal point keeps its losses and
    its comparison with the AC power flow. Its ``extra`` says that the point is the nominal
    load's (``headline_load``): where it needs slack, the AC check words it as the nominal
    load's least-violating point, not as a run that found no topology within the limits."""
    status = raw.status
    if status is Status.INFEASIBLE and raw.y is not None:
        status = Status.FEASIBLE if nominal_feasible else Status.INFEASIBLE
    return {"status": status, "within_limits": nominal_feasible,
            "extra": {"headline_load": "nominal"}}


def apply_verdict(result: Result, raw: RawSolution, shown: RawSolution,
                  labels: Sequence[str], nominal_feasible: bool) -> Result:
    """``result`` (mapped from ``shown``, the nominal-load view of ``raw``) with the status,
    the limits verdict and the diagnosis of ``raw`` (the scenarios'); each diagnosis entry
    names its scenario (``labels``: a name per scenario index); :func:`ac_within_limits` adds
    the scenarios' AC power flows. The nominal load (the network's own loads) is not a
    scenario: where it needs slack in the model or breaks a limit in AC at the chosen
    topology, that is a note (:func:`nominal_note`), not the verdict (README: "The verdict of a
    scenario or robust run is the scenarios'"; ut48_scen #1: a topology within the limits in
    every scenario's AC power flow read "not within the limits", exit 4, because the nominal
    load, 1/0.6 of the scenarios', broke them)."""
    result.status = raw.status
    result.within_limits = bool(raw.within_limits and result.has_topology)
    for entry, d in zip(result.diagnosis, shown.diagnosis, strict=True):
        s = int(getattr(d, "scenario", -1))
        if 0 <= s < len(labels):
            entry["scenario"] = labels[s]
    # The nominal view's status may be another (a feasible nominal point): the bound is
    # stated for the verdict's, +inf after a proof of infeasibility (ut36_core #2: a proven
    # robust infeasibility said -inf).
    result.lower_bound = proven_lower_bound(raw.status, raw.method, raw.lower_bound)
    if result.lower_bound == math.inf and math.isfinite(raw.lower_bound):
        # the penalised objective's own bound, which its gap is to (scenarios: the penalised
        # problem was solved; the proof is about the limits without slack)
        result.extra["penalised_lower_bound_kw"] = float(raw.lower_bound)
    result.extra.update({k: v for k, v in raw.extra.items()
                         if k in ("scenarios_with_slack", "infeasible_scenario",
                                  "infeasible_reason", "radial_topologies_evaluated",
                                  "every_radial_topology_needs_slack",
                                  "unsupplied_scenarios", "note", "base_fallback")})
    if "unsupplied_scenarios" in result.extra:  # indices to the scenarios' labels
        named = [labels[s] if 0 <= s < len(labels) else s
                 for s in map(int, result.extra["unsupplied_scenarios"])]
        result.extra["unsupplied_scenarios"] = named
        if result.extra.get("radial_topologies_evaluated") is not None:
            # the enumeration's proof (an MILP's proof, below, names its one scenario)
            result.extra.setdefault("infeasible_reason", SCENARIO_UNSUPPLIED.format(
                scenarios=("scenario " if len(named) == 1 else "scenarios ")
                + ", ".join(map(str, named)),
                n=result.extra.get("radial_topologies_evaluated")))
    if "infeasible_scenario" in result.extra:
        s = int(result.extra["infeasible_scenario"])
        result.extra["infeasible_scenario"] = labels[s] if 0 <= s < len(labels) else s
        result.extra.setdefault("infeasible_reason", SCENARIO_INFEASIBLE.format(
            scenario=result.extra["infeasible_scenario"]))
    result.extra["headline_load"] = "nominal"
    result.extra["nominal_within_limits"] = bool(nominal_feasible)
    note = nominal_note(result, nominal_feasible)
    if note is not None:
        result.extra["nominal_note"] = note
        result.extra["notes"] = [*result.extra.get("notes", []), note]
    return result


def nominal_note(result: Result, nominal_feasible: bool) -> str | None:
    """The note on a nominal load (not a scenario) that breaks the limits at the chosen
    topology: it needs slack in the SOCP model (``nominal_feasible`` False; its point shown is
    then the least-violating one there) or its AC power flow breaks a limit. None when it
    holds them, or without a topology."""
    if not result.has_topology:
        return None
    ac = result.ac_check
    ac_broken = ac is not None and ac.within_limits is False
    if nominal_feasible and not ac_broken:
        return None
    where = []
    if not nominal_feasible:
        where.append("needs slack in the SOCP model (the point shown there is the "
                     "least-violating one, not a loss-minimising operating point)")
    if ac_broken:
        where.append("its AC power flow breaks the limits (ac_check.limit_violations)")
    return ("the nominal load (the network's own loads, not a scenario) "
            + " and ".join(where) + " at the chosen topology; the verdict is the scenarios' "
            "(the scenarios' table), not the nominal load's")


def closed_of(result: Result) -> np.ndarray | None:
    """The chosen switch states (in-service branches, table order), None without a topology."""
    if not result.has_topology:
        return None
    return np.array([bool(c) for c in result.branches["closed"].to_list()], dtype=bool)


def scenario_ac_checks(result: Result, net: Network, bus_ids: Sequence[str],
                       p_mw: np.ndarray, q_mvar: np.ndarray,
                       dispatch: Sequence[tuple[np.ndarray, np.ndarray] | None], *,
                       pu: PerUnitNetwork | None = None,
                       source_vm: np.ndarray | None = None,
                       cap: int = MAX_AC_SCENARIOS) -> list[Any]:
    """One AC power flow per load vector (rows of ``p_mw``, ``q_mvar`` [MW, MVAr] over
    ``bus_ids``) at the result's topology, with the generators at ``dispatch`` [MW, MVAr]
    where given (at most ``cap``, :data:`MAX_AC_SCENARIOS` by default; None beyond, and
    without a topology), each
    held to the limits of ``pu``, the run's per-unit model of ``net`` (the limits the
    optimisation held, after ``--v-min``/``--v-max``/``--max-loading``; default
    ``to_per_unit(net)``, the same model when ``net`` has the run's limits applied);
    ``source_vm`` (rows as ``p_mw``; NaN or None: the network's): each scenario's source
    voltages [p.u.] (its ``source`` rows)."""
    from feederopt.network.perunit import to_per_unit
    from feederopt.validation.scenario_ac import scenario_ac

    closed = closed_of(result)
    model = pu if pu is not None else to_per_unit(net)
    out: list[Any] = []
    for s in range(p_mw.shape[0]):
        if closed is None or s >= cap:
            out.append(None)
            continue
        given = dispatch[s] if s < len(dispatch) else None
        gp, gq = given if given is not None else (None, None)
        out.append(scenario_ac(net, closed, list(bus_ids), p_mw[s], q_mvar[s], gp, gq,
                               pu=model,
                               source_vm=None if source_vm is None else source_vm[s]))
    return out


def dispatch_of(pu: PerUnitNetwork, r: SlaveResult) -> tuple[np.ndarray, np.ndarray] | None:
    """A slave's generator dispatch [MW, MVAr] (None without generators or dispatch)."""
    if not pu.n_gen or "pg" not in r.point or "qg" not in r.point:
        return None
    return r.point["pg"] * pu.s_base_mva, r.point["qg"] * pu.s_base_mva


def with_ac(summary: UncertainSummary, checks: Sequence[Any],
            order: Sequence[int] | None = None) -> UncertainSummary:
    """``summary`` with each scenario's AC check (stochastic, in scenario order) or the
    extreme points' (robust: ``checks[i]`` is the AC check of extreme point ``order[i]``;
    ``worst_vertex_ac`` the worst extreme point's)."""
    if isinstance(summary, StochasticSummary):
        rows = [replace(s, ac=c) for s, c in zip(summary.scenarios, checks, strict=False)]
        rows += summary.scenarios[len(rows):]
        return replace(summary, scenarios=rows)
    if isinstance(summary, RobustSummary) and checks:
        at = dict(zip(range(len(checks)) if order is None else order, checks, strict=False))
        vertices = [replace(v, ac=at.get(v.vertex)) for v in summary.vertices]
        return replace(summary, vertices=vertices,
                       worst_vertex_ac=at.get(summary.worst_vertex)
                       if summary.worst_vertex is not None else None)
    return summary


def vertex_ac_order(summary: RobustSummary, cap: int = MAX_AC_SCENARIOS) -> list[int]:
    """The extreme points that get an AC power flow, at most ``cap`` (default
    :data:`MAX_AC_SCENARIOS`; :func:`~feederopt.results.uncertain.ac_point_cap` of the grid):
    the worst first, then those where the relaxation is not exact (their model losses are not
    a power flow's), then the others in order."""
    worst = summary.worst_vertex
    first = ([] if worst is None else [worst]) + [
        v.vertex for v in summary.inexact_vertices if v.vertex != worst]
    rest = [v.vertex for v in summary.vertices if v.vertex not in set(first)]
    return (first + rest)[:max(int(cap), 0)]


def ac_within_limits(summary: UncertainSummary) -> bool:
    """False when the AC power flow of a scenario (stochastic) or of an extreme point (robust)
    breaks a limit or fails (the summary's one AC verdict, ``ac_all``, is False): the true
    operating points are the verdict, not only the SOCP model's slack."""
    return summary.ac_all.within_limits_all is not False


def fmt_num(x: float | None, spec: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def apply_unsupplied_points(result: Result, pu: PerUnitNetwork, net: Network,
                            keep: np.ndarray, loads: Sequence[str],
                            vertices: Sequence[np.ndarray],
                            unsupplied: Sequence[tuple[int, float, Sequence[Any]]],
                            radial_topologies: int | None, undecided: int = 0) -> None:
    """A proven-infeasible robust ``result`` with the extreme points that no radial topology
    serves on its own (``unsupplied``: index, least slack over the radial topologies [p.u.],
    the violated limits of a topology that needs that least slack, in the indices of the
    model's branches ``keep`` of ``pu``'s), as ``extra["unsupplied_extreme_points"]``: per
    point its signs (``u``, one per uncertain load of ``loads``: -1, 0, +1), the least slack
    and those limits in the user's ids and units (:func:`_diagnosis_entry`, most first); and
    ``infeasible_reason`` :data:`ROBUST_UNSUPPLIED`, naming them (user test ut49_robust #3).
    ``undecided`` points that the enumeration's time left open are counted
    (``unsupplied_points_undecided``), not named."""
    if not unsupplied or radial_topologies is None:
        return
    bus_out = net.bus_id_out
    rows = []
    for i, slack, limits in unsupplied:
        u = [int(x) for x in np.asarray(vertices[i])[: len(loads)]]
        entries = [_diagnosis_entry(pu, replace(v, index=int(keep[v.index]))
                                    if v.component == "branches" else v, bus_out)
                   for v in sorted(limits, key=lambda v: -float(v.amount))]
        rows.append({"extreme_point": int(i), "u": u,
                     "loads": ", ".join(f"{load}{'+' if x > 0 else '-'}"
                                        for load, x in zip(loads, u, strict=True) if x),
                     "least_slack_pu": float(slack), "closest_limits": entries})
    result.extra["unsupplied_extreme_points"] = rows
    result.extra["radial_topologies_evaluated"] = int(radial_topologies)
    result.extra["every_radial_topology_needs_slack"] = True
    named = ", ".join(str(r["extreme_point"]) for r in rows)
    result.extra["infeasible_reason"] = ROBUST_UNSUPPLIED.format(
        points=("extreme point " if len(rows) == 1 else "extreme points ") + named,
        n=radial_topologies)
    if undecided:
        result.extra["unsupplied_points_undecided"] = int(undecided)
        result.extra["infeasible_reason"] += (
            f" ({undecided} more extreme point{'s' if undecided > 1 else ''} not decided "
            "within the enumeration's time)")
