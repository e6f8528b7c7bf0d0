"""Resilience planning (seed 003) as calls (``feederopt restore``, ``feederopt plan``).

    >>> from feederopt.api_resilience import restore, plan
    >>> restore("zhang13", broken=["2", "11", "15"]).shed_kw
    471.0
    >>> plan("zhang13", scenarios="A_C_p1").expected_total

Phase 1 (:func:`restore`): reconfigure after failures to shed the least load. Phases 2 and 3
(:func:`plan`): harden lines and site backup DGs within budgets against one attack (``broken``)
or disaster scenarios with probabilities (``scenarios``: a file, or the name of one shipped
with a built-in case), by the extensive form or the integer L-shaped method on the execution
layer (serial, local process pool, Ray). See ``docs/resilience.md``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from feederopt.algorithms.base import ProgressCallback, interrupted_label, report_phase
from feederopt.algorithms.resilience import (
    MIP_GAP,
    Operation,
    RecourseFactory,
    restore_shed_all_note,
    shed_all_note,
    solve_extensive,
    solve_lshaped,
)
from feederopt.algorithms.resilience import (
    restore as _restore,
)
from feederopt.algorithms.resilience_measures import (
    EV_PLAN_SHARE,
    ExpectedValuePlan,
    adopt_better,
    expected_value_plan,
    stochastic_measures,
)
from feederopt.algorithms.resilience_switching import (
    dead_at_normal,
    fewest_switches,
    normal_operation,
    reserve_island_losses,
    run_status,
    second_phase_limit,
    settle_plan,
    with_operations,
)
from feederopt.cases import load, tie_rule_problems
from feederopt.cases.disasters import disaster_path, load_disasters
from feederopt.errors import (
    InputError,
    Problem,
    ProblemKind,
    Severity,
    note_text,
    option_ref,
    shown_list,
)
from feederopt.execution import make_executor
from feederopt.forking import check_not_forked
from feederopt.formulations.resilience import RadialityKind
from feederopt.io.disasters import (
    DisasterSet,
    disaster_warnings,
    frame_disasters,
)
from feederopt.io.frames import is_frame, source_problems
from feederopt.io.pandapower import TieRule
from feederopt.network.container import Network
from feederopt.network.id_lists import blank_entry_problems, id_list_problems
from feederopt.network.topology import DisjointSets
from feederopt.options import (
    TIME_LIMIT_S,
    gap_problems,
    id_list,
    option_names,
    ray_address_problems,
    switch_problems,
    time_limit_problems,
    workers_problems,
)
from feederopt.problems.resilience import (
    MAX_SWITCH_PENALTY,
    SEED_PENALTY_PU,
    PlanSettings,
    ResilienceProblem,
    Scenario,
    reachable,
)
from feederopt.results.resilience import PlanResult, RestoreResult, plan_result, restore_result
from feederopt.scalars import is_finite, is_number
from feederopt.solvers import interrupt
from feederopt.validation.restoration import RestorationAcCheck, restoration_ac

#: The methods of :func:`plan`.
PLAN_METHODS = ("extensive", "lshaped")


def _network(source: Any, ties: TieRule = "auto") -> tuple[Network, str | None]:
    """The network of ``source`` (read with the tie rule ``ties``, :func:`feederopt.load`) and
    the built-in case it names, if any (whose shipped disaster files ``scenarios`` may name)."""
    net = source if isinstance(source, Network) else load(source, ties=ties)
    return net, _case_of(source)


def _case_of(source: Any) -> str | None:
    """The built-in case that ``source`` names (a string that is no existing path), whose
    shipped disaster files ``scenarios`` may name; None for a path or a network."""
    return source if isinstance(source, str) and not Path(source).exists() else None


def _in_memory(source: Any, net: Network) -> bool:
    """Whether ``source`` is a network given as an object that no name reaches again (a
    pandapower net, a Network built in memory): its result's ``case`` is the object's name,
    which the report's command line must not take for a built-in case
    (:data:`feederopt.cases.IN_MEMORY_KEY`; user test ut46_pyapi: pandapower's case33bw() is
    named 'case33bw')."""
    return not isinstance(source, str | Path) and net.meta.get("source") is None


def _radiality_kind(value: Any) -> RadialityKind | None:
    """``value`` as a :class:`RadialityKind`, a name in any case and with blanks around taken
    as solve's options take theirs (``radiality="Forest"`` was refused: session 48's known
    list); None when it is none."""
    try:
        return RadialityKind(value)
    except ValueError:
        if isinstance(value, str):
            try:
                return RadialityKind(value.strip().lower())
            except ValueError:
                return None
        return None


def _radiality(value: RadialityKind | str) -> RadialityKind:
    kind = _radiality_kind(value)
    if kind is None:
        kinds = ", ".join(k.value for k in RadialityKind)
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "options",
                                  f"radiality must be one of {kinds}", (str(value),),
                                  "radiality")])
    return kind


#: ``dg_size_kw`` for ``dg_p_max_kw``: the command line's ``--dg-size`` spelt as a keyword (it
#: got "did you mean 'dg_sites'?": user test ut45b_resil #6)
@option_names({**TIME_LIMIT_S, "dg_size_kw": "dg_p_max_kw"})
@interrupt.handle_signals("the best restoration so far, its bound and gap are")
def restore(source: Any, broken: str | list[str] | tuple[str, ...], *,
            dg_sites: str | list[str] | tuple[str, ...] = (),
            radiality: RadialityKind | str = RadialityKind.FOREST,
            switch_penalty_pu: float | None = None, dg_p_max_kw: float | None = None,
            time_limit_s: float | None = 600.0,
            prior_problems: Sequence[Problem] = (),
            progress: ProgressCallback | None = None, ac_check: bool = True,
            ties: TieRule = "auto") -> RestoreResult:
    """Phase 1: the least load shedding with the lines ``broken`` out (and backup DGs of
    ``dg_p_max_kw`` at ``dg_sites``), then a second phase: among the operations of that shed,
    the fewest switch changes from the normal state, and an island's DG at the source's
    set-point (:mod:`feederopt.algorithms.resilience_switching`; within the time limit, else
    the first phase's operation with a note). ``switch_penalty_pu`` per closed line (default: 0 with
    forest radiality, the seed's 0.01 p.u. = 10 kW at 1000 kVA with ``radiality="seed"``) is
    reported apart from the shedding; ``objective_kw`` is their sum, the seed's "total".
    ``dg_p_max_kw`` (default 100) needs ``dg_sites``; ``time_limit_s`` None: no limit. Every
    bad option is reported at once, with ``prior_problems`` (those the caller found, e.g. the
    CLI's ``--json`` path) and, when the network can be read, the ids of ``broken`` and
    ``dg_sites`` that it lacks, before any solving. ``broken`` and ``dg_sites`` may be
    comma-separated strings, as on the command line; an empty entry (``"2,,11"``) is
    refused. No broken line (``[]``, ``""``): the normal topology serving every load, with a
    note (:func:`~feederopt.algorithms.resilience_switching.normal_operation`; when the model
    has none, the restoration as for any broken set). ``progress`` gets a
    :class:`~feederopt.solvers.status.PhaseRecord` before the MILP (one solve: no
    iterations). ``ac_check``: run pandapower's AC power flow of the restored operation
    (:mod:`feederopt.validation.restoration`; ``ac_check`` of the result). ``ties``: the
    tie rule of a pandapower net or ``.json`` file (:func:`feederopt.load`). The result's
    ``timings`` hold the seconds of reading the network (``read_s``) and of the AC check
    (``ac_check_s``), beside ``solve_time_s`` (both phases' MILPs)."""
    check_not_forked("feederopt.restore")
    t0 = time.perf_counter()  # the limit counts from the call, the network's read included
    # a string is one comma-separated list, as on the command line (user test ut_dopfres
    # #5: restore(net, "15") broke lines 1 and 5, the string read character by character)
    # an empty entry ("2,,11") is a line left out, refused (split_ids drops it)
    blanks = [*blank_entry_problems("broken", broken),
              *blank_entry_problems("dg_sites", dg_sites)]
    given = broken
    broken, dg_sites = list(id_list(broken) or ()), list(id_list(dg_sites) or ())
    ties_bad = tie_rule_problems(ties, source)
    problems = [*prior_problems, *blanks, *restore_problems(
        given, dg_sites=dg_sites, radiality=radiality, switch_penalty_pu=switch_penalty_pu,
        dg_p_max_kw=dg_p_max_kw, time_limit_s=time_limit_s), *ties_bad,
        *switch_problems(ac_check=ac_check)]
    # a repeated id counts once (a warning), and is named with the other problems
    repeats = _repeats("broken", broken) + _repeats("dg_sites", dg_sites)
    if problems:
        # with the ids that the network lacks, when it can be read: all in one run
        raise InputError([*problems, *([] if ties_bad else _id_problems(
            source, ties, broken, dg_sites)), *repeats])
    rad = _radiality(radiality)
    read_started = time.perf_counter()
    net, _ = _network(source, ties)
    timings = {"read_s": time.perf_counter() - read_started}
    pen = switch_penalty_pu if switch_penalty_pu is not None else \
        (SEED_PENALTY_PU if rad is RadialityKind.SEED else 0.0)
    size = 100.0 if dg_p_max_kw is None else dg_p_max_kw
    problem = ResilienceProblem.from_network(
        net, PlanSettings(radiality=rad, dg_p_max_kw=size, dg_q_max_kvar=size))
    # the unknown broken lines and DG sites at once, with the repeated ones (before: the
    # lines, then the sites on the next run)
    idx, sites = _resolved(problem, broken, dg_sites, repeats)
    setup_s = time.perf_counter() - t0  # reading the network, building the problem
    normal = None
    if not idx:  # nothing to restore: the normal state serving every load
        report_phase(progress, "the normal topology (no line broken)")
        normal = normal_operation(problem, sites, rad, pen)
    if normal is not None:
        op = normal
    else:
        report_phase(progress, f"restoration MILP ({len(idx)} broken lines)")
        op = _restore(problem, idx, sites=sites, radiality=rad, penalty_pu=pen,
                      time_limit_s=None if time_limit_s is None
                      else max(time_limit_s - (time.perf_counter() - t0), 0.0))
        report_phase(progress, "second phase: fewest switch changes, island set-points")
        left = None if time_limit_s is None else time_limit_s - (time.perf_counter() - t0)
        op = fewest_switches(problem, idx, sites, op, keep_closed=pen > 0,
                             time_limit_s=second_phase_limit(left, op.solve_time_s))
    ac = None
    if ac_check:
        report_phase(progress, "AC check (pandapower)")
        ac_started = time.perf_counter()
        ac = restoration_ac(net, problem, op, sites, idx)
        lossless = op.weighted_shed_pu
        op, ac, reserved = _reserve_losses(net, problem, idx, sites, op, ac)
        timings["ac_check_s"] = time.perf_counter() - ac_started
        # the weighted shed the reserve adds: part of the reported gap (ut51_resil #1)
        reserve_kw = max(op.weighted_shed_pu - lossless, 0.0) * problem.kw_per_pu
    else:
        reserved, reserve_kw = [], 0.0
    # a dead part's lines at their normal state: they need no operation (ut49_resil #4)
    op = dead_at_normal(problem, idx, op, priced=pen > 0)
    res = restore_result(problem, idx, op, rad.value, pen, sites, ac, reserve_kw=reserve_kw)
    from feederopt.api import network_source

    return replace(res, network=net, source_in_memory=_in_memory(source, net),
                   source=network_source(source, net),
                   settings={"dg_p_max_kw": size, "switch_penalty_pu": pen,
                             "switch_penalty_given": switch_penalty_pu is not None,
                             "time_limit_s": time_limit_s, "ac_check": ac_check,
                             "ties": ties},
                   switching=switching(net, problem, op.closed, idx,
                                       fallback=op.shed_all),
                   notes=_warnings(repeats) + _no_line_note(problem, idx, normal)
                   + restore_shed_all_note(op, setup_s, time_limit_s, interrupt.requested())
                   + reserved + res.notes,
                   status=interrupted_label(run_status(res.status, [op])), timings=timings)


def _no_line_note(problem: ResilienceProblem, broken: tuple[int, ...],
                  normal: Operation | None) -> list[str]:
    """The note of a restoration with no line ``broken``: the normal topology is the answer
    (``normal``, :func:`~feederopt.algorithms.resilience_switching.normal_operation`), or,
    when the model has no operation of it that serves every load, the restoration's least
    shed as for any broken set, with the reason: the normal state closes more lines than
    the seed's radiality allows (``sum v <= n - 1``) or a loop that the forest radiality
    forbids (union-find over its closed lines), else the model's limits."""
    if broken:
        return []
    if normal is not None:
        return ["no line is broken: nothing to restore; the answer is the normal topology "
                "serving every load (nothing shed, no switch operation; no restoration MILP "
                "is solved), its flows and voltages the model's, checked in AC as any "
                "restoration's"]
    g = problem.grid
    closed = np.ones(g.m, bool) if g.normally_open is None else \
        ~np.asarray(g.normally_open, bool)
    sets: DisjointSets[int] = DisjointSets(range(g.n))
    loop = False
    for k in np.flatnonzero(closed).tolist():
        loop = not sets.union(int(g.f[k]), int(g.t[k])) or loop
    count = int(np.count_nonzero(closed))
    if problem.settings.radiality is RadialityKind.SEED and count > g.n - 1:
        why = (f"its {count} closed lines exceed the {g.n - 1} (buses less one) that the "
               "seed's radiality allows")
    elif loop and problem.settings.radiality is RadialityKind.FOREST:
        why = "its closed lines form a loop, which the radiality forbids"
    else:
        why = "it does not serve every load within the model's voltage and line limits"
    return [f"no line is broken, but the normal topology is no answer: {why}; the answer is "
            "the restoration's least shed, as for any broken set, and its switch operations"]


#: What a repeated id of each list means (:func:`_repeats`): (the list's element, then).
#: ``broken`` and ``dg_sites`` are options of restore and plan (each caller's spelling:
#: ``--broken`` on the command line); the candidate lists are fields of PlanSettings, which
#: no flag sets, named as they are.
_REPEATS = {"broken": ("line", "was another line meant?"),
            "dg_sites": ("bus", "one backup DG per site; was another bus meant?"),
            "dg_candidates": ("bus", "one backup DG per bus; was another bus meant?"),
            "harden_candidates": ("line", "was another line meant?")}
_REPEATED_OPTIONS = ("broken", "dg_sites")


def _repeats(option: str, ids: Sequence[Any] | None) -> list[Problem]:
    """The warning of the ids that the list ``option`` (its Python keyword, named by
    :func:`~feederopt.errors.option_ref`) repeats (each counts once), or none
    (:func:`~feederopt.network.id_lists.id_list_problems`; an empty list is
    :func:`restore_problems`' and :func:`plan_problems`')."""
    what, then = _REPEATS[option]
    named = option_ref(option) if option in _REPEATED_OPTIONS else option
    return [p for p in id_list_problems(named, list(ids or ()), what,
                                        field=option, repeats=Severity.WARNING, then=then)
            if not p.is_error]


def _warnings(problems: Sequence[Problem]) -> list[str]:
    """The notes of a result that are warnings, their options as the caller writes them
    (:func:`~feederopt.errors.note_text`): ``warning: broken names ...`` from Python,
    ``warning: --broken names ...`` on the command line (before, smalls41, the flag from
    Python too)."""
    return [f"warning: {note_text(p.unspelled[0])}" for p in problems]


def _resolved(problem: ResilienceProblem, broken: Sequence[Any], dg_sites: Sequence[Any],
              repeats: Sequence[Problem]) -> tuple[tuple[int, ...], Any]:
    """The indices of the ``broken`` lines and the DG vector of ``dg_sites``; an
    :class:`InputError` with the problems of both lists at once, and the ``repeats``
    (:func:`_repeats`) beside them."""
    problems: list[Problem] = []
    idx: tuple[int, ...] = ()
    sites = None
    try:
        idx = problem.branch_index([str(b) for b in broken])
    except InputError as e:
        problems += e.problems
    try:
        sites = problem.bus_index([str(b) for b in dg_sites]) if dg_sites else None
    except InputError as e:
        problems += e.problems
    if problems:
        raise InputError([*problems, *repeats])
    return idx, sites


def _id_problems(source: Any, ties: TieRule, broken: Sequence[Any],
                 dg_sites: Sequence[Any]) -> list[Problem]:
    """For a run that other problems stop (its options, its output paths): the ``broken``
    lines and ``dg_sites`` that the network of ``source`` lacks (:func:`_resolved`), so that
    the command line names them with the others in one run (before, only on the next one);
    the network's own problems when it cannot be read (its error alone)."""
    try:
        net, _ = _network(source, ties)
        _resolved(ResilienceProblem.from_network(net, PlanSettings()), broken, dg_sites, ())
    except InputError as e:
        return list(e.problems)
    return []


def _candidate_warnings(st: PlanSettings) -> list[str]:
    """A warning per candidate list of ``st`` that names an id more than once: each is one
    candidate (a bus holds at most one backup DG; user test ut35 resil #2)."""
    return _warnings(_repeats("dg_candidates", st.dg_candidates)
                     + _repeats("harden_candidates", st.harden_candidates))


def switching(net: Network, problem: ResilienceProblem, closed: Any, broken: tuple[int, ...],
              *, fallback: bool = False) -> list[dict[str, Any]]:
    """The switch operations from the network's normal state (normally open lines open,
    the rest closed) to the restoration ``closed``: each working line to open or close, with
    its user ``name`` (:meth:`Network.element_names`, as every result names its rows) and
    the pandapower switches that do it (``operated_by``) where known. Broken lines are left
    out (the disaster opened them). ``fallback``: ``closed`` is the shed-all operation of a
    run out of time (``Operation.shed_all``), not a restoration plan; each row then says so
    (``"fallback": True``)."""
    import polars as pl

    live = net.branches.filter(pl.col("in_service"))
    normally_open = live["normally_open"].fill_null(False).to_list()
    operated = net.meta.get("operated_by") or {}
    names = net.element_names("branches")
    out = []
    for k, bid in enumerate(problem.branch_ids):
        if k in broken:
            continue
        now = bool(closed[k] > 0.5)
        if now == (not normally_open[k]):
            continue
        row: dict[str, Any] = {"branch": bid,
                               **({"name": names[bid]} if bid in names else {}),
                               "action": "close" if now else "open"}
        if bid in operated:
            row["operated_by"] = str(operated[bid])
        if fallback:
            row["fallback"] = True
        out.append(row)
    return out


def _bad(name: str, message: str, hint: str = "", ids: tuple[str, ...] = ()) -> Problem:
    return Problem(ProblemKind.INVALID_VALUE, "options", message, ids, name, hint)


def radiality_problems(value: Any) -> list[Problem]:
    """The problem of a radiality that is none of :class:`RadialityKind` (``forest``,
    ``seed``, in any case), named ``radiality``; empty when it is one. ``feederopt plan``
    reports it with the others (:func:`plan`'s ``prior_problems``), not alone before them as
    :func:`plan_settings` raises it."""
    if _radiality_kind(value) is None:
        kinds = ", ".join(k.value for k in RadialityKind)
        return [_bad("radiality", f"radiality must be one of {kinds}", ids=(str(value),))]
    return []


#: Rounds of :func:`_reserve_losses` at most (each an LP and an AC power flow).
LOSS_RESERVE_ROUNDS = 3

#: The share by which a loss reserve exceeds the AC losses it was measured from: the losses of
#: the re-dispatched island differ a little from the first run's.
LOSS_RESERVE_SHARE = 0.1


def _reserve_losses(net: Any, problem: Any, idx: tuple[int, ...], sites: np.ndarray | None,
                    op: Any, ac: RestorationAcCheck) -> tuple[Any, RestorationAcCheck,
                                                              list[str]]:
    """The operation ``op`` and its AC check ``ac`` after keeping room for the islands' AC
    losses (user test ut47_resil #2): while a grid-forming backup DG is over its size in AC
    (``dg_over_size``: its island's losses, which the lossless model has not, on top of a
    model output at its size), the operation is re-solved with that DG's P at most its size
    less ``(1 + LOSS_RESERVE_SHARE)`` times the overshoot summed over the rounds
    (:func:`~feederopt.algorithms.resilience_switching.reserve_island_losses`: the topology
    kept, the shed at its least), and checked again; at most :data:`LOSS_RESERVE_ROUNDS`
    rounds. Returns the operation kept, its check and the notes: one naming the reserve
    applied (none when nothing changed), one naming the DGs whose reserve could not be
    applied (no operation of the topology with that DG below its size: its island's
    non-sheddable loads, which the note names, need more than the DG's size less the
    reserve; user test ut49_resil #2, where the note had claimed a reserve the operation
    did not have)."""
    g = problem.grid
    pos = {problem.bus_ids[int(b)]: k for k, b in enumerate(g.dg_bus)}
    reserve: dict[int, float] = {}
    applied: dict[int, float] = {}  # the reserve of the operation kept
    failed: dict[int, float] = {}  # the reserve that no operation of the topology has
    shed0 = float(np.sum(op.shed_load_pu)) * problem.kw_per_pu
    for _ in range(LOSS_RESERVE_ROUNDS):
        if not ac.converged or not ac.dg_over_size or interrupt.requested():
            break
        for bus_id in ac.dg_over_size:
            k = pos[bus_id]
            over = ac.dg_island_kw[bus_id] - float(g.dg_p_max[k]) * problem.kw_per_pu
            reserve[k] = reserve.get(k, 0.0) + (1 + LOSS_RESERVE_SHARE) * max(over, 0.0) + 1e-3
        new = reserve_island_losses(problem, idx, sites, op, reserve)
        if new is None:
            failed = {k: kw for k, kw in reserve.items() if applied.get(k) != kw}
            break
        applied = dict(reserve)
        op, ac = new, restoration_ac(net, problem, new, sites, idx)
    notes = []
    if applied:
        shed = float(np.sum(op.shed_load_pu)) * problem.kw_per_pu
        held = ", ".join(f"{problem.bus_ids[int(g.dg_bus[k])]} by {kw:.3f} kW"
                         for k, kw in sorted(applied.items()))
        notes.append(
            "backup DGs that form islands were held below their size for their island's "
            f"AC losses, which the lossless model has not (measured by a first AC run): "
            f"{held}; the shed is {shed - shed0:.3f} kW more than the lossless model's "
            '(docs/resilience.md, "AC check")')
    if failed:
        notes.append(_reserve_failed_note(problem, op, failed))
    return op, ac, notes


def _reserve_failed_note(problem: Any, op: Any, failed: dict[int, float]) -> str:
    """The note of the backup DGs (candidate positions -> the reserve [kW] tried) that could
    not be held below their size for their island's AC losses: no operation of the topology
    has them there. Names, per DG, its island's non-sheddable loads and their P [kW] (the
    usual cause: they need the DG's size, which the reserve would take from them)."""
    g = problem.grid
    parts = []
    for k, kw in sorted(failed.items()):
        bus = int(g.dg_bus[k])
        island = reachable(g, np.round(op.closed), [bus])
        firm = [(lid, problem.firm_p.get(lid, 0.0) * problem.kw_per_pu)
                for lid, b in problem.firm_loads if int(b) in island]
        size = float(g.dg_p_max[k]) * problem.kw_per_pu
        why = (f"its island's non-sheddable loads need {sum(p for _, p in firm):.3f} kW ("
               + ", ".join(f"{lid} {p:.3f} kW" for lid, p in firm) + ")") if firm else \
            "no operation of its topology has it there"
        parts.append(f"{problem.bus_ids[bus]} (at most {size - kw:.3f} of {size:.3f} kW: {why})")
    return ("backup DGs that form islands could not be held below their size for their "
            "island's AC losses, which the lossless model has not: " + "; ".join(parts)
            + "; they stay at the model's output, over their size in AC (the AC check names "
            'them; docs/resilience.md, "AC check")')


def restore_problems(broken: Any, *, dg_sites: Any = (),
                     radiality: RadialityKind | str = RadialityKind.FOREST,
                     switch_penalty_pu: float | None = None, dg_p_max_kw: float | None = None,
                     time_limit_s: float | None = 600.0) -> list[Problem]:
    """Every problem of :func:`restore`'s options (not of the network), each naming its
    option: an option either acts or is refused here."""
    out = radiality_problems(radiality)
    if broken is None or (not _no_line_broken(broken) and not id_list(broken)):
        # None, or only empty entries (" , ", [""]): a typo, not "no broken line"
        none = option_ref("broken", (), cli='--broken ""')
        out.append(_bad("broken", f"{option_ref('broken')} names no line (only empty "
                        "entries): name the broken lines, or give none at all for no broken "
                        "line", f"e.g. {option_ref('broken', (2, 11, 15))}, or {none}"))
    if switch_penalty_pu is not None and not (
            is_number(switch_penalty_pu) and 0 <= switch_penalty_pu <= MAX_SWITCH_PENALTY):
        out.append(_bad("switch_penalty", "the switching penalty must be a finite number >= 0 "
                        f"and at most {MAX_SWITCH_PENALTY:g}", "e.g. 0.01",
                        (str(switch_penalty_pu),)))
    if dg_p_max_kw is not None:
        if not (is_finite(dg_p_max_kw) and dg_p_max_kw >= 0):
            out.append(_bad("dg_p_max_kw", f"{option_ref('dg_p_max_kw')} must be a finite "
                            "number >= 0", f"e.g. {option_ref('dg_p_max_kw', 100)}",
                            (str(dg_p_max_kw),)))
        elif not dg_sites:
            out.append(_bad("dg_p_max_kw", f"{option_ref('dg_p_max_kw')} sizes the backup DGs "
                            f"of {option_ref('dg_sites')}, and none is given",
                            f"add {option_ref('dg_sites', ('BUS', '...'))} or leave "
                            f"{option_ref('dg_p_max_kw')} out"))
    if time_limit_s is not None:
        out += time_limit_problems(time_limit_s)
    return out


def _no_line_broken(broken: Any) -> bool:
    """Whether ``broken`` names no line on purpose: an empty (or blank) string, the command
    line's ``--broken ""``, or an empty list or tuple. :func:`restore` then answers the normal
    topology (:func:`~feederopt.algorithms.resilience_switching.normal_operation`)."""
    if isinstance(broken, str):
        return not broken.strip()
    return isinstance(broken, list | tuple) and len(broken) == 0


def plan_problems(*, scenarios: Any = None, broken: Any = None, method: str = "extensive",
                  workers: int | None = 1, ray_address: str | None = None,
                  gap: float | None = None, time_limit_s: float = 600.0,
                  settings: PlanSettings | None = None) -> list[Problem]:
    """Every problem of :func:`plan`'s options and settings (not of the network or the
    scenario file), each naming its option."""
    problems: list[Problem] = []
    if method not in PLAN_METHODS:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"method must be one of {', '.join(PLAN_METHODS)}", (method,),
                                "method"))
    if (scenarios is None) == (broken is None):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"give either {option_ref('scenarios')} (a disaster file) or "
                                f"{option_ref('broken')} (one attack)", field="scenarios",
                                hint=f"{option_ref('scenarios', 'FILE')} or "
                                f"{option_ref('broken', (2, 6, 11))}"))
    if broken is not None and len(broken) == 0:  # also beside the clash: every problem
        problems.append(_bad("broken", f"{option_ref('broken')} names no line: the attack must "
                             "break at least one", f"e.g. {option_ref('broken', (2, 6, 11))}"))
    if not isinstance(scenarios, DisasterSet):  # named by type, never by value
        problems += source_problems(
            scenarios, "scenarios", "a disaster-scenario file (its path or a shipped name), "
            "a DisasterSet, or a polars or pandas DataFrame with its columns",
            "columns name, probability, broken (ids separated by ';' or a list)")
    if method == "extensive" and ray_address is not None:
        # a worker count is taken and noted as not used (extensive_workers_note), as a
        # balanced solve takes it: a script may always pass one (user test ut50_par #5); a
        # Ray address is refused, as a balanced solve refuses one without scenarios
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"{option_ref('ray_address')} acts on the L-shaped method's "
                                "subproblems only", field="ray_address",
                                hint=f"add {option_ref('method', 'lshaped')}, or leave it "
                                "out"))
    problems += workers_problems(workers)
    problems += ray_address_problems(ray_address)
    if gap is not None:
        problems += gap_problems(gap)
    problems += time_limit_problems(time_limit_s)
    problems += (settings or PlanSettings()).problems()
    return problems


def _disaster_path_problems(source: Any, scenarios: Any) -> list[Problem]:
    """The problem of a ``scenarios`` path or shipped name that names no file
    (:func:`~feederopt.cases.disasters.disaster_path`, for the built-in case ``source``
    names), found without the network, so that :func:`plan` reports it with the other bad
    input (the clash of ``scenarios`` with ``broken``, a negative budget), not on the next
    run; empty for another kind of ``scenarios`` (a table, a :class:`DisasterSet`)."""
    if not isinstance(scenarios, str | Path):
        return []
    try:
        disaster_path(scenarios, _case_of(source))
    except InputError as e:
        return list(e.problems)
    return []


def _plan_input_problems(source: Any, ties: TieRule, broken: Sequence[Any] | None,
                         scenarios: Any, file_found: bool) -> list[Problem]:
    """For a plan that other problems stop (its options, its output paths, the clash of
    ``scenarios`` with ``broken``): the network's own problems when it cannot be read (its
    error alone); else the lines of ``broken`` that it lacks (:func:`_resolved`) and the
    problems of the disaster scenarios read for it (a file's rows, the lines they break;
    ``file_found``: its path or shipped name was found), so that the command line names them
    all in one run, each by its option."""
    try:
        net, case = _network(source, ties)
        problem = ResilienceProblem.from_network(net, PlanSettings())
    except InputError as e:
        return list(e.problems)
    out: list[Problem] = []
    if broken:
        try:
            _resolved(problem, broken, (), ())
        except InputError as e:
            out += e.problems
    if scenarios is None or isinstance(scenarios, DisasterSet) or (
            isinstance(scenarios, str | Path) and not file_found):
        return out
    try:
        ds = (frame_disasters(scenarios, net) if is_frame(scenarios) else
              load_disasters(scenarios, net, case) if isinstance(scenarios, str | Path)
              else None)
        if ds is not None:
            scenarios_of(problem, ds)
    except InputError as e:
        out += e.problems
    return out


def extensive_workers_note(method: str, workers: int | None) -> list[str]:
    """The note for a worker count other than 1 given to the extensive form: taken, not
    used (one MILP in this process; the L-shaped method's scenario subproblems are what
    workers share). User test ut50_par #5: refused, it failed scripts that always pass
    one."""
    if method != "extensive" or workers is None or workers == 1:
        return []
    return [note_text(f"{option_ref('workers', workers)} not used: the extensive form is "
                      "one MILP solved in this process; "
                      f"{option_ref('method', 'lshaped')} spreads its scenario subproblems "
                      "over the workers")]


def scenarios_of(problem: ResilienceProblem, disasters: DisasterSet) -> list[Scenario]:
    return [Scenario(d.name, d.probability, problem.branch_index(d.broken, "scenarios"))
            for d in disasters.scenarios]


@option_names(TIME_LIMIT_S)
@interrupt.handle_signals("the best plan so far, its bound and gap are")
def plan(source: Any, *, scenarios: str | Path | DisasterSet | Any = None,
         broken: str | list[str] | tuple[str, ...] | None = None,
         settings: PlanSettings | None = None, method: str = "extensive",
         measures: bool = True, workers: int | None = 1, ray_address: str | None = None,
         gap: float | None = None, time_limit_s: float = 600.0,
         prior_problems: Sequence[Problem] = (),
         progress: ProgressCallback | None = None, ac_check: bool = True,
         ties: TieRule = "auto") -> PlanResult:
    """Phases 2 and 3: which lines to harden and where to site backup DGs.

    Give ``scenarios`` (a file, a shipped name, a :class:`DisasterSet`, or a polars or pandas
    DataFrame with the CSV file's columns: :func:`~feederopt.io.disasters.frame_disasters`) or
    ``broken`` (one
    certain attack: Phase 2). ``method``: ``extensive`` (one MILP on HiGHS) or ``lshaped``
    (integer L-shaped; its scenario subproblems run on ``workers`` local processes or on Ray at
    ``ray_address``, ``"auto"`` for a local one; with the extensive form a worker count is
    taken and noted as not used, a Ray address refused). ``gap``: the relative optimality
    gap at which the run stops (default: the extensive form's MILP at 1e-7, HiGHS's
    ``mip_rel_gap``; the L-shaped method at 1e-6). With ``measures`` (two or more
    scenarios), the wait-and-see value, the expected-value solution's cost, EVPI and VSS
    are added (by extensive forms; :mod:`feederopt.algorithms.resilience_measures`).

    ``time_limit_s`` bounds the plan and the measures together: with the measures on, the
    expected-value plan is made first (within :data:`EV_PLAN_SHARE` of the limit) and given
    to the solve as a candidate plan; the solve gets the rest, and the other measures run in
    the time it leaves; those without time are not computed (``measures.not_computed``, a
    note). Stopped at its limit, the solve answers the least costly of the plans it
    evaluated on every scenario (the extensive form: its incumbents, the expected-value plan
    and the plan that invests nothing; :func:`feederopt.algorithms.resilience.choose_plan`),
    so more time never answers a dearer plan for want of one found sooner. When the
    expected-value plan, evaluated on every scenario, costs less than the plan the solve
    stopped with, it is the answer (status and lower bound stay the solve's; a note says
    so), so VSS >= 0; the same plan keeps each scenario's cheaper operation. Every bad
    option is reported at once, before any solving, with ``prior_problems`` (those the caller
    found, e.g. the CLI's output paths) and, when the network can be read, the lines of
    ``broken`` that it lacks (``broken`` may be a comma-separated string, as on the command
    line; an empty entry, ``"2,,11"``, is refused). ``progress`` gets the phases (the
    extensive form, the L-shaped master and recourses, each wait-and-see scenario) and the
    L-shaped method's iterations. Each scenario's operation of the answer then gets
    :func:`restore`'s second phase (the fewest switch changes, island set-points) in the time
    left. ``ac_check``: pandapower's AC power flow of each scenario's operation
    (:mod:`feederopt.validation.restoration`; each scenario's ``ac_check``). ``ties``: the
    tie rule of a pandapower net or ``.json`` file (:func:`feederopt.load`). The result's
    ``timings`` hold the seconds outside ``solve_time_s`` (the plan's solve): reading the
    network and the scenarios (``read_s``), the expected-value plan and the measures
    (``measures_s``), the second phase (``second_phase_s``) and the AC checks
    (``ac_check_s``)."""
    check_not_forked("feederopt.plan")
    # the limit counts from the call: reading the network, building the problem and the
    # models, the solve, the second phase and the AC checks all fall within it
    deadline = time.perf_counter() + time_limit_s
    blanks = blank_entry_problems("broken", broken)  # "2,,11": a line left out
    broken = None if broken is None else list(id_list(broken) or ())
    ties_bad = tie_rule_problems(ties, source)
    # a method's name in any case, as solve's and partition's (ut48_pyapi #12)
    method = method.strip().lower() if isinstance(method, str) and \
        method.strip().lower() in PLAN_METHODS else method
    problems = [*prior_problems, *blanks, *plan_problems(
        scenarios=scenarios, broken=broken, method=method, workers=workers,
        ray_address=ray_address, gap=gap, time_limit_s=time_limit_s, settings=settings),
        *ties_bad, *switch_problems(ac_check=ac_check, measures=measures)]
    # a scenario file that is not there: with the rest, found without the network
    no_file = _disaster_path_problems(source, scenarios)
    problems += no_file
    st = settings or PlanSettings()
    repeats = _repeats("broken", broken)
    if problems:
        # with the network's own problems, the lines of --broken that it lacks and the
        # scenario file's, when it can be read: every problem in one run, also beside the
        # clash of --scenarios with --broken
        raise InputError([*problems, *([] if ties_bad else _plan_input_problems(
            source, ties, broken, scenarios, not no_file)), *repeats])
    read_started = time.perf_counter()
    net, case = _network(source, ties)
    read_s = time.perf_counter() - read_started
    problem = ResilienceProblem.from_network(net, st)
    scenarios_file: str | None = None
    scenarios_started = time.perf_counter()  # reading the scenarios: part of read_s
    if broken is not None:
        scs = [Scenario("attack", 1.0, _resolved(problem, broken, (), repeats)[0])]
        warned = _warnings(repeats)
    else:
        ds = (scenarios if isinstance(scenarios, DisasterSet) else
              frame_disasters(scenarios, net) if is_frame(scenarios) else
              load_disasters(scenarios, net, case))
        if isinstance(scenarios, str | Path):  # the file read, as a command line names it
            scenarios_file = str(disaster_path(scenarios, case).resolve())
        scs = scenarios_of(problem, ds)
        warned = disaster_warnings(ds)
    # the seconds outside the solve's solve_time_s, keyed as a solve's timings
    timings = {"read_s": read_s + time.perf_counter() - scenarios_started}
    with_measures = measures and len(scs) > 1
    ev: ExpectedValuePlan | None = None
    if with_measures:
        measures_started = time.perf_counter()
        ev = expected_value_plan(
            problem, scs, time_limit_s=min(EV_PLAN_SHARE * time_limit_s,
                                           max(deadline - time.perf_counter(), 0.0)),
            progress=progress)
        timings["measures_s"] = time.perf_counter() - measures_started
    start = [] if ev is None else ev.candidates()
    solve_s = max(deadline - time.perf_counter(), 0.0)
    if method == "extensive":
        report_phase(progress, f"extensive form ({len(scs)} scenarios, one MILP)")
        out = solve_extensive(problem, scs, time_limit_s=solve_s,
                              gap=MIP_GAP if gap is None else gap, candidates=start)
    else:
        with make_executor(RecourseFactory(problem, tuple(scs)), workers=workers,
                           ray_address=ray_address) as ex:
            out = solve_lshaped(problem, scs, executor=ex,
                                gap=1e-6 if gap is None else gap,
                                time_limit_s=solve_s, progress=progress, start=start)
    sm = None
    adopted: list[str] = list(out.notes)
    if with_measures and not interrupt.requested():
        measures_started = time.perf_counter()
        sm = stochastic_measures(problem, scs, out, deadline=deadline, progress=progress,
                                 ev=ev)
        out, better = adopt_better(problem, scs, out, sm.ev_outcome)
        adopted = list(out.notes) + better
        sm = sm.against(out)
        timings["measures_s"] = timings.get("measures_s", 0.0) + (
            time.perf_counter() - measures_started)
    # after a stop request too: each operation is then the first phase's at once, marked
    # (resilience_switching.INTERRUPTED) where the second phase had work to do, so that the
    # note says so and the run ends interrupted (run_status)
    report_phase(progress, "second phase: fewest switch changes, island set-points")
    second_started = time.perf_counter()
    out = settle_plan(problem, scs, out, deadline)
    timings["second_phase_s"] = time.perf_counter() - second_started
    # the plan's cost and gap before the islands' AC loss reserve (ut51_resil #1)
    lossless, lossless_gap = out.objective, out.gap
    acs: list[RestorationAcCheck | None] | None = None
    skipped: list[str] = []
    if ac_check and len(out.operations) == len(scs):
        report_phase(progress, f"AC check of the {len(scs)} scenario operations (pandapower)")
        ac_started = time.perf_counter()
        acs = []
        ops = list(out.operations)
        for i, (sc, op) in enumerate(zip(scs, out.operations, strict=True)):
            # within the limit: a power flow per scenario (tens of ms each) past it would
            # overrun it by their number; those left are named in a note
            if time.perf_counter() >= deadline:
                acs.append(None)
                skipped.append(sc.name)
                continue
            out_now = problem.out_of_service(sc, out.harden)
            ac = restoration_ac(net, problem, op, out.site, list(out_now))
            # an island DG over its size by its island's AC losses: held below it (as restore)
            ops[i], ac, held = _reserve_losses(net, problem, tuple(out_now), out.site, op, ac)
            adopted += [f"{sc.name}: {x}" for x in held]
            acs.append(ac)
        if any(a is not b for a, b in zip(ops, out.operations, strict=True)):
            out = with_operations(problem, scs, out, ops)
        timings["ac_check_s"] = time.perf_counter() - ac_started
    if len(out.operations) == len(scs):
        # a dead part's lines at their normal state: they need no operation (ut49_resil #4)
        out = replace(out, operations=[
            dead_at_normal(problem, problem.out_of_service(sc, out.harden), op,
                           priced=problem.settings.penalty > 0)
            for sc, op in zip(scs, out.operations, strict=True)])
    if sm is not None:  # one RP: the expected total the result reports (ut51_resil #1)
        sm = sm.against(out, lossless)
    res = plan_result(problem, scs, out, sm, acs, lossless=lossless, lossless_gap=lossless_gap)
    adopted += shed_all_note(scs, out.operations, interrupt.requested()) + _ac_skipped_note(skipped)
    views = [replace(v, switching=switching(net, problem, op.closed,
                                            problem.out_of_service(sc, out.harden),
                                            fallback=op.shed_all))
             for v, sc, op in zip(res.scenarios, scs, out.operations, strict=True)]
    from feederopt.api import network_source

    return replace(res, scenarios=views, network=net, source_in_memory=_in_memory(source, net),
                   source=network_source(source, net),
                   broken=broken, scenarios_file=scenarios_file,
                   settings={**res.settings, "time_limit_s": time_limit_s, "gap": gap,
                             "measures": measures, "ac_check": ac_check, "ties": ties},
                   notes=warned + extensive_workers_note(method, workers)
                   + _candidate_warnings(st) + adopted + res.notes,
                   status=interrupted_label(run_status(res.status, out.operations)),
                   timings=timings)


def _ac_skipped_note(names: list[str]) -> list[str]:
    """A note naming the scenarios whose AC check the time limit left no time for."""
    if not names:
        return []
    return [f"no AC check of scenario(s) {shown_list(names)}: the time limit was reached "
            "before their power flows (their ac_check is null); give more time, or "
            "--no-ac-check"]


@option_names(passes_to=PlanSettings)
def plan_settings(**changes: Any) -> PlanSettings:
    """:class:`PlanSettings` with ``changes`` (``None`` values keep the defaults); the
    radiality may be given as a string."""
    kept = {k: v for k, v in changes.items() if v is not None}
    if "radiality" in kept:
        kept["radiality"] = _radiality(kept["radiality"])
    return replace(PlanSettings(), **kept)

