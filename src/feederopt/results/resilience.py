"""Results of resilience planning (seed 003) in user ids and SI-ish units (kW, kVAr, $), and
their mapping from the algorithms' per-unit, index-based outcomes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from feederopt._version import stamped
from feederopt.algorithms.resilience import FALLBACK_LABEL, Operation, PlanOutcome
from feederopt.algorithms.resilience_measures import EV_PLAN_SHARE, StochasticMeasures
from feederopt.algorithms.resilience_switching import (
    INTERRUPTED,
    NO_TIME,
    NOT_RESOLVED,
    SHED_GROWS,
    TIME_LIMIT,
    energised,
)
from feederopt.errors import shown_list
from feederopt.formulations.resilience import RadialityKind
from feederopt.network.schemas import nan_as_null
from feederopt.problems.resilience import ResilienceProblem, Scenario
from feederopt.validation.restoration import (
    RestorationAcCheck,
    restoration_verdict_causes,
    restoration_within_limits,
)


def named_id(element_id: str, names: Mapping[str, str] | None) -> str:
    """An id for a person, with the element's user name where it has one, as
    :func:`feederopt.results.result.branch_label` gives it: ``line:12 'L_Nord_3'``; the bare
    id without one."""
    name = (names or {}).get(element_id)
    return f"{element_id} '{name}'" if name else element_id


def branch_word(ids: Sequence[str], plural: bool = True) -> str:
    """What the branches ``ids`` are, in a word: "lines", "transformers", "impedances" when
    all are of one kind (a pandapower transformer's id starts ``trafo:``/``trafo3w:``, an
    impedance's ``impedance:``), else "branches" (the singular with ``plural=False``); "lines"
    for none."""
    kinds = {"transformer" if str(i).startswith(("trafo:", "trafo3w")) else
             "impedance" if str(i).startswith("impedance:") else "line" for i in ids}
    word = kinds.pop() if len(kinds) == 1 else "line" if not kinds else "branch"
    if not plural:
        return word
    return "branches" if word == "branch" else f"{word}s"


def broken_title(shown: Sequence[str], ids: Sequence[str]) -> str:
    """The title's phrase for the broken branches ``ids`` (shown as ``shown``, the same order):
    "line 7 broken", "lines 7, 37 broken", "transformer trafo:0 broken", "branches 7, trafo:0
    broken" (:func:`branch_word`); "no line broken" for none."""
    if not ids:
        return "no line broken"
    return f"{branch_word(ids, plural=len(ids) > 1)} {', '.join(shown)} broken"


def result_names(problem: ResilienceProblem) -> dict[str, dict[str, str]]:
    """The ``names`` of a restore or plan result: the user's name per bus, branch, load,
    generator and shunt id (``{"buses": {"3": "Bus Nord"}, "branches": {"line:12":
    "L_Nord_3"}, "loads": {"load:0": "Bakery"}, "generators": {...}, "shunts": {...}}``; the
    ids without one left out, an xward's internals too), by which the JSON's lists of ids
    (``broken``, ``closed_lines``, ``hardened``, ``dg_sites``, the per-bus, per-line and
    per-load maps, ``generators_off``, ``shunts_off``) are named."""
    inner_br = {problem.branch_ids[k] for k in problem.xward_branches}
    inner_bus = {problem.bus_ids[i] for i in problem.xward_buses}
    return {"buses": {b: n for b, n in problem.bus_names.items() if b not in inner_bus},
            "branches": {b: n for b, n in problem.branch_names.items() if b not in inner_br},
            "loads": dict(problem.load_names),
            "generators": {g: n for g, n in problem.generator_names.items()
                           if g not in problem.xward_generators},
            "shunts": dict(problem.shunt_names)}


def _num(x: float) -> float | None:
    return _r(x) if math.isfinite(float(x)) else None


def _opt(x: float | None) -> float | None:
    return None if x is None else _num(x)


def _r(x: float, digits: int = 6) -> float:
    """``x`` rounded, without a negative zero."""
    return round(float(x), digits) + 0.0


@dataclass(frozen=True)
class OperationView:
    """One scenario's operation: shedding per bus and per load (by load id), closed lines,
    flows, voltages, and each dispatched backup DG's output (the model's ``pg``/``qg``)."""

    shed_kw: float
    shed_per_bus_kw: dict[str, float]
    closed_lines: list[str]
    flows_kw: dict[str, float]
    flows_kvar: dict[str, float]
    voltage_pu: dict[str, float]
    #: P [kW] of each backup DG the model dispatches (P or Q above 1e-6), by bus id.
    dg_output_kw: dict[str, float]
    energised_buses: list[str]
    #: Shed kW per load id (the loads that shed any); their sum per bus is ``shed_per_bus_kw``.
    shed_per_load_kw: dict[str, float] = field(default_factory=dict)
    #: Where ``voltage_pu`` and the flows come from: the model, not an AC power flow (the AC
    #: values are in the result's ``ac_check``).
    voltage_model: str = "LinDistFlow (lossless)"
    #: The buses in a backup-DG island (energised, not fed from a source) whose generators,
    #: and those whose shunts, the model disconnects (``Operation.gen_off``/``shunt_off``
    #: there; in a part fed from a source every generator and shunt is connected).
    island_generators_off: list[str] = field(default_factory=list)
    island_shunts_off: list[str] = field(default_factory=list)
    #: What the operation disconnects: the buses it leaves de-energised (not reached over
    #: closed lines from a source or a producing backup DG: the complement of
    #: ``energised_buses``), and the ids of the generators and shunts it has off (at those
    #: buses, or disconnected in a backup-DG island: ``Operation.gen_off``/``shunt_off``).
    deenergised_buses: list[str] = field(default_factory=list)
    generators_off: list[str] = field(default_factory=list)
    shunts_off: list[str] = field(default_factory=list)
    #: Q [kvar] of the same backup DGs (``0 <= Q <= Qmax``, the model's ``qg``; user test
    #: ut35 resil #3: it was reported nowhere). Where the DG's part is fed from a source, the
    #: AC check injects exactly this P and Q; a DG forming its island is the island's slack
    #: in AC (``ac_check.dg_island_kw``).
    dg_output_kvar: dict[str, float] = field(default_factory=dict)


def dg_output_text(op: OperationView | Mapping[str, Any]) -> str:
    """Each dispatched backup DG's output, ``"3: 250.00 kW, 250.00 kvar"`` (the kvar left out
    for a result written before ``dg_output_kvar``), or ``"-"``."""
    kw = (op.get("dg_output_kw") if isinstance(op, Mapping) else op.dg_output_kw) or {}
    kvar = (op.get("dg_output_kvar") if isinstance(op, Mapping) else op.dg_output_kvar) or {}
    return "; ".join(f"{bus}: {float(p):,.2f} kW" + (
        f", {float(kvar[bus]):,.2f} kvar" if bus in kvar else "")
        for bus, p in kw.items()) or "-"


def shed_loads_text(op: OperationView | dict[str, Any]) -> str:
    """The loads an operation sheds with their shed kW (``"L11 133.33, L3 85.00"``; by bus
    when there is no per-load split), or ``"-"``."""
    if isinstance(op, dict):
        per = op.get("shed_per_load_kw") or op.get("shed_per_bus_kw") or {}
    else:
        per = op.shed_per_load_kw or op.shed_per_bus_kw
    return ", ".join(f"{k} {float(v):,.2f}" for k, v in per.items()) or "-"


#: The most switch operations a console or report cell lists; the rest are counted.
MAX_SWITCH_OPS = 8


def switch_operations_text(rows: Sequence[Mapping[str, Any]],
                           names: Mapping[str, str] | None = None,
                           most: int | None = MAX_SWITCH_OPS, *, fallback: bool = False,
                           operated_by: bool = False) -> str:
    """Switch operations for a person: ``"close line:3 'L_Tie'; open line:1"`` (with
    ``operated_by``, each row's switches in brackets), at most ``most`` of them (None: all)
    and then ``"... (+4 more)"``, or ``"-"``. The shed-all operation of a run out of time
    (``fallback``, or rows marked ``"fallback"``) is labelled as such:
    ``"shed-all fallback (stopped before a restoration): 79 operations: open line:2; ..."``,
    no restoration plan."""
    shown = rows if most is None else rows[:most]
    text = "; ".join(f"{r['action']} {named_id(str(r['branch']), names)}"
                     + (f" ({r['operated_by']})" if operated_by and r.get("operated_by")
                        else "") for r in shown)
    if len(rows) > len(shown):
        text += f"; ... (+{len(rows) - len(shown)} more)"
    if fallback or any(r.get("fallback") for r in rows):
        return f"{FALLBACK_LABEL}: " + (f"{len(rows)} operation{'s' * (len(rows) != 1)}: "
                                        f"{text}" if rows else "no switch operation")
    return text or "-"


def disconnected_text(op: OperationView | dict[str, Any]) -> str:
    """What an operation disconnects, counted: ``"3 buses, 2 generators, 1 shunt"`` (buses
    de-energised, generators and shunts off), or ``"-"``."""
    parts = []
    for key, one in (("deenergised_buses", "bus"), ("generators_off", "generator"),
                     ("shunts_off", "shunt")):
        n = len((op.get(key) if isinstance(op, dict) else getattr(op, key, None)) or [])
        if n:
            parts.append(f"{n} {one}" + ("" if n == 1 else "es" if one == "bus" else "s"))
    return ", ".join(parts) or "-"


#: What the "disconnected" column of the scenario tables counts.
DISCONNECTED_NOTE = ("disconnected: buses the operation leaves de-energised, and the "
                     "generators and shunts it has off (at those buses or in a backup-DG "
                     "island; a ward or xward counts as one shunt); their ids are in the JSON "
                     "(operation.deenergised_buses, generators_off, shunts_off)")


def operation_view(problem: ResilienceProblem, op: Operation) -> OperationView:
    kw = problem.kw_per_pu
    g = problem.grid
    closed = np.flatnonzero(op.closed > 0.5)
    shed = {problem.bus_ids[i]: _r(op.shed_pu[i] * kw)
            for i in np.flatnonzero(op.shed_pu * kw > 1e-6)}
    ids = problem.shed_ids
    per_load = {ids[k]: _r(op.shed_load_pu[k] * kw)
                for k in np.flatnonzero(op.shed_load_pu * kw > 1e-6)}
    dg_p = np.asarray(op.dg_p, float)
    dg_q = np.asarray(op.dg_q, float) if len(op.dg_q) else np.zeros(len(dg_p))
    on = np.flatnonzero((dg_p * kw > 1e-6) | (dg_q * kw > 1e-6))
    dg = {problem.bus_ids[int(g.dg_bus[k])]: _r(dg_p[k] * kw) for k in on}
    dg_kvar = {problem.bus_ids[int(g.dg_bus[k])]: _r(dg_q[k] * kw) for k in on}
    # energised: reachable over closed lines from a source or a producing DG
    adj: dict[int, list[int]] = {}
    for line in closed:
        a, b = int(g.f[line]), int(g.t[line])
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    roots = set(np.flatnonzero(g.is_source).tolist())
    roots |= {int(g.dg_bus[k]) for k in np.flatnonzero(op.dg_p * kw > 1e-6)}
    seen = _reach(adj, roots)
    island = seen - _reach(adj, set(np.flatnonzero(g.is_source).tolist()))
    dead = set(range(g.n)) - seen
    gens_off = dead | {int(b) for b in op.gen_off}
    shunts_off = dead | {int(b) for b in op.shunt_off}
    # The user's elements only: an xward's auxiliary bus, its internal branch and its P = Q = 0
    # source are the reader's model of it (the xward itself is its shunt entry, one element).
    aux = problem.xward_buses
    closed = closed[np.array([int(i) not in problem.xward_branches for i in closed], bool)]
    internal_gens = problem.xward_generators
    return OperationView(
        shed_kw=_r(op.shed_pu.sum() * kw),
        shed_per_bus_kw=shed,
        closed_lines=[problem.branch_ids[i] for i in closed],
        flows_kw={problem.branch_ids[i]: _r(op.p[i] * kw, 4) for i in closed},
        flows_kvar={problem.branch_ids[i]: _r(op.q[i] * kw, 4) for i in closed},
        voltage_pu={problem.bus_ids[i]: round(float(np.sqrt(max(op.u[i], 0.0))), 6)
                    for i in sorted(seen) if i not in aux},
        dg_output_kw=dg,
        energised_buses=[problem.bus_ids[i] for i in sorted(seen) if i not in aux],
        shed_per_load_kw=per_load,
        island_generators_off=[problem.bus_ids[int(b)] for b in op.gen_off
                               if int(b) in island and int(b) not in aux],
        island_shunts_off=[problem.bus_ids[int(b)] for b in op.shunt_off
                           if int(b) in island and int(b) not in aux],
        deenergised_buses=[problem.bus_ids[i] for i in sorted(dead) if i not in aux],
        generators_off=[e for e, b in problem.generator_ids
                        if b in gens_off and e not in internal_gens],
        shunts_off=[e for e, b in problem.shunt_ids if b in shunts_off],
        dg_output_kvar=dg_kvar,
    )


def _n_closed(op: Operation) -> int:
    """The closed branches of the model, whose switching penalty is per closed branch (every
    one, an xward's internal branch and the transformers included, as the model charges it;
    a constant for the branches that cannot open)."""
    return int(np.count_nonzero(op.closed > 0.5))


def _reach(adj: dict[int, list[int]], roots: set[int]) -> set[int]:
    seen, stack = set(roots), list(roots)
    while stack:
        u = stack.pop()
        for w in adj.get(u, []):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def island_note(views: list[tuple[str, OperationView]]) -> list[str]:
    """A note naming the generator and shunt buses the model disconnects in backup-DG islands
    (per scenario when there are several), or none."""
    parts = []
    for name, v in views:
        if not (v.island_generators_off or v.island_shunts_off):
            continue
        what = []
        if v.island_generators_off:
            what.append("the generators at bus " + ", ".join(v.island_generators_off))
        if v.island_shunts_off:
            what.append("the shunts at bus " + ", ".join(v.island_shunts_off))
        parts.append((f"{name}: " if name else "") + " and ".join(what))
    if not parts:
        return []
    return ["in a backup-DG island the model disconnects " + shown_list(parts, sep="; ")
            + " (each "
            "element bus's generators and shunts are connected or not, whichever sheds less: "
            "the DG's Q is in [0, Qmax], it absorbs no reactive power; the AC check runs them "
            "out of service)"]


def closed_loop(problem: ResilienceProblem, op: Operation) -> list[str]:
    """The branch ids of one loop (a cycle of the graph whose edges are the operation's
    closed branches, parallel branches included), or none when the closed branches form a
    forest (a radial operation). ``networkx.find_cycle`` on the multigraph of the closed
    branches; a graph is a forest exactly when it has no cycle (Diestel, Graph Theory,
    Thm. 1.5.1). A loop of a dead part (no source, no producing DG) carries nothing and is
    not counted: a dead part's lines stay at their normal state, meshed or not
    (:func:`~feederopt.algorithms.resilience_switching.dead_at_normal`)."""
    import networkx as nx

    g = problem.grid
    live = energised(problem, np.asarray(op.closed, float), op.dg_p)
    graph = nx.MultiGraph()
    for k in np.flatnonzero(np.asarray(op.closed) > 0.5):
        if int(g.f[k]) in live or int(g.t[k]) in live:
            graph.add_edge(int(g.f[k]), int(g.t[k]), key=int(k))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return []
    return [problem.branch_ids[int(k)] for _, _, k in cycle]


def loop_note(problem: ResilienceProblem, ops: Sequence[tuple[str, Operation]],
              checks: Sequence[Mapping[str, Any] | None] | None = None) -> list[str]:
    """A warning naming a loop of closed lines in each operation that has one (per scenario
    when there are several), or none: the result prescribes a meshed operation, which the
    model's LinDistFlow (radial flows) does not describe exactly. ``--radiality seed`` only
    caps the count of closed lines (n - 1 with the switch penalty), so it can close a loop
    and leave a bus dead (user test ut45b_resil #3: own10b with line:1 broken closed lines
    3, 9, 10, 11 and 6, a loop, and shed 834.35 kW where the best radial operation sheds
    862.81 kW).

    The warning also says that the model's flows around a loop are not the AC flows: its
    lossless, linear voltage drops (``U_f - U_t = 2 (r P + x Q)``) hold around the loop for
    any circulating flow whose ``sum r P + x Q`` is zero, so the model may send power (own8
    with line:1 broken: 153.87 kvar, every load at Q = 0) around the loop that no AC
    operating point has, and the shed may not be reachable; ``checks`` (per operation, its
    ``ac_check`` or None) give each loop's AC verdict (user test ut47_resil #3: shed 200 kW
    with line:8 at 135.8 % in AC, where the forest's radial answer sheds 303.59 kW)."""
    parts = []
    for k, (name, op) in enumerate(ops):
        loop = closed_loop(problem, op)
        if loop:
            check = checks[k] if checks is not None and k < len(checks) else None
            verdict = (check or {}).get("verdict")
            parts.append((f"{name}: " if name else "") + ", ".join(loop)
                         + (f" (AC check: {verdict})" if verdict else
                            " (no AC check ran)"))
    if not parts:
        return []
    seed = problem.settings.radiality is RadialityKind.SEED
    return ["warning: the operation is not radial: these closed lines form a loop: "
            + shown_list(parts, sep="; ")
            + ". The model's flows around a loop are not the AC flows (its lossless linear "
            "voltage drops let power circulate around it), so its shed may not be reachable "
            "within the limits"
            + (" (--radiality seed does not enforce a radial operation; --radiality forest "
               "does)" if seed else "")]


def unproven_note(names: Sequence[str]) -> str:
    """The warning of a plan whose operations of the scenarios ``names`` were not solved to
    optimality (the first ten named, then how many more: :func:`~feederopt.errors.shown_list`;
    a plan of 400 scenarios named all 400)."""
    return (f"the operation of {shown_list(names)} was not solved to optimality (time limit or "
            "interruption): feasible for the plan shown (its cost counts in the expected total, "
            "an upper bound), not proven its best")


def second_phase_note(ops: list[tuple[str, Operation]]) -> list[str]:
    """Notes on the operations whose switch changes the second phase did not prove the
    fewest (:mod:`feederopt.algorithms.resilience_switching`), per scenario when named, one
    per cause: stopped at its time (the fewest found), or the first phase's operation kept
    because no time was left, the run was interrupted, an LP of the second phase had no
    solution, or its answer would shed more (before, smalls41, each of the last four said
    "no time was left")."""
    kept = ("so an operation with the same shed may need fewer, and an island's DG may sit "
            "at any set-point in the band")
    out = []
    for kind, text in ((TIME_LIMIT, "the fewest the second phase found within its time, not "
                        "proven the fewest at this shed"),
                       (NO_TIME, f"the first phase's: no time was left for the second phase, "
                        f"{kept}"),
                       (INTERRUPTED, "the first phase's: the run was interrupted (Ctrl-C, "
                        "SIGTERM) before the second phase ended, hence status interrupted; "
                        "the shed, its bound and gap are the first phase's, the switch "
                        f"operations not minimised, {kept}"),
                       (NOT_RESOLVED, "the first phase's: the second phase could not re-solve "
                        "the operation within the first phase's shed (an LP of it had no "
                        f"solution), {kept}"),
                       (SHED_GROWS, "the first phase's: the second phase's answer would shed "
                        "more than the first phase's (by more than the solver's tolerance, "
                        f"max(1e-3 kW, 1e-6 of the load)), {kept}")):
        # not a shed-all fallback's: it has no first-phase operation (its own note says what
        # it is; user test ut49_cli #3: "the first phase's" beside "the answer is the shed-all
        # fallback")
        names = [name for name, op in ops if op.switching == kind and not op.shed_all]
        if names:
            who = (f" of scenario(s) {shown_list(names)}" if any(names) else "")
            out.append(f"the switch operations{who} are {text} (docs/resilience.md, "
                       "\"Second phase\")")
    return out


@dataclass(frozen=True)
class RestoreResult:
    """Phase 1: the least shedding with the given lines broken.

    ``objective_kw`` is what the seed reports as "total load shedding": the shed load (each
    load's shed kW weighted by its ``priority``, 1 by default) plus the switching penalty
    (``penalty_kw``, per closed line) when one is set."""

    case: str
    broken: list[str]
    radiality: str
    status: str
    #: The load of every bus [kW], the source buses' included (:func:`total_load_kw`).
    total_load_kw: float
    shed_kw: float
    penalty_kw: float
    objective_kw: float
    #: Proven lower bound of ``objective_kw`` and the relative gap (0 when optimal).
    lower_bound_kw: float | None
    gap: float | None
    dg_sites: list[str]
    operation: OperationView
    solve_time_s: float
    #: What the operation model leaves out or holds fixed on this network (named elements).
    notes: list[str] = field(default_factory=list)
    #: pandapower's AC power flow of the operation (``RestorationAcCheck.to_dict``); None:
    #: not run. The operation's ``voltage_pu`` are LinDistFlow's (lossless).
    ac_check: dict[str, Any] | None = None
    #: The switch operations from the normal state: ``{"branch", "name" (the branch's user
    #: name), "action": "open"|"close", "operated_by" (a pandapower net's switches)}``, name
    #: and operated_by where known, and ``"fallback": true`` when ``fallback`` is; broken
    #: lines are not listed.
    switching: list[dict[str, Any]] = field(default_factory=list)
    #: The user's names of the buses and branches by id (:func:`result_names`), for the ids
    #: that have one: ``broken``, ``closed_lines``, ... are ids.
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The tables of ``restore --out`` (:func:`restore_tables`: per bus and per branch, the
    #: model's and the AC power flow's values, units in the column names; missing values
    #: null); not in :meth:`to_dict` (the JSON has the operation's own lists).
    buses: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    branches: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    #: True: the operation is the shed-all fallback of a run whose time was up before the
    #: start topology's operation (``Operation.shed_all``): every sheddable load shed, every
    #: switchable line open; its ``switching`` only opens lines and is no restoration plan
    #: (a note says so).
    fallback: bool = False
    #: The network restored (set by :func:`feederopt.restore`), which
    #: :func:`feederopt.save` draws the folder's figure on; not in :meth:`to_dict`.
    network: Any = field(default=None, repr=False, compare=False)
    #: True: the network was given as an object (a pandapower net, a Network built in
    #: memory), whose ``case`` (its name) is no built-in case to run again: the JSON's
    #: ``source_in_memory`` (:data:`feederopt.cases.IN_MEMORY_KEY`), left out when False.
    source_in_memory: bool = field(default=False, repr=False)
    #: The options the restoration was found under, as the command takes them:
    #: ``dg_p_max_kw`` (each backup DG's size [kW], also its Q limit [kvar]),
    #: ``switch_penalty_pu`` (per closed line, the default's value when not given),
    #: ``switch_penalty_given``, ``time_limit_s`` (null: none), ``ac_check`` and ``ties`` (the
    #: tie rule the network was read with: ``--ties``); what ``feederopt report FILE.json``
    #: fills its command line from (session 47's known list: ``--dg-size`` and
    #: ``--switch-penalty`` were recorded nowhere; ``--ties`` was left out, so that the rerun
    #: of a pandapower file read other switchable branches).
    settings: dict[str, Any] = field(default_factory=dict)
    #: The network as ``feederopt restore`` names it again: the absolute path of the file or
    #: folder it was read from, or the built-in case's name (:func:`feederopt.api.
    #: network_source`; None, left out of the JSON, for a network given as an object).
    source: str | None = None
    #: The part of ``objective_kw`` [kW] that is the islands' AC loss reserve: the weighted
    #: shed added when backup DGs that form islands were held below their size for their
    #: islands' AC losses (``docs/resilience.md``, "AC check"), 0 when none was. The bound is
    #: the lossless model's, so ``gap`` holds the reserve (user test ut51_resil #1: 0.0371 %
    #: of an ``optimal`` restoration was the reserve alone).
    loss_reserve_kw: float = 0.0
    #: The gap of the lossless model's objective (``objective_kw - loss_reserve_kw``) to
    #: ``lower_bound_kw``: the solve's own; ``gap`` when there is no reserve.
    model_gap: float | None = None
    #: The seconds of the steps outside ``solve_time_s``, keyed as a solve's ``timings``:
    #: :func:`feederopt.restore` times reading the network (``read_s``) and the AC check
    #: (``ac_check_s``); the command adds its start-up (``startup_s``) and the writing of
    #: its outputs (``write_s``).
    timings: dict[str, float] = field(default_factory=dict)
    #: Set by the command (:func:`feederopt.cli.app.clock_answer`), as a solve's
    #: ``extra``: ``answer_wall_clock_s``, the wall-clock time from the process's start to
    #: the answer, and ``wall_clock_s``, with the outputs written; top-level keys of the
    #: JSON (none from a Python call).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """The JSON's ``objective`` (README, "The keys every result has"): ``objective_kw``
        [kW], so that ``result.objective`` reads as on every result kind (it was an
        AttributeError on a restoration)."""
        return self.objective_kw

    @property
    def lower_bound(self) -> float | None:
        """The JSON's ``lower_bound``: ``lower_bound_kw`` [kW] (None: no bound)."""
        return self.lower_bound_kw

    @property
    def within_limits(self) -> bool | None:
        """The result's one verdict, the JSON's ``within_limits`` and the rule of ``feederopt
        restore``'s exit code 4 (:func:`~feederopt.validation.restoration.
        restoration_within_limits`): false when the AC check breaks a limit, None without
        an AC check."""
        return restoration_within_limits([self.ac_check])

    @property
    def verdict_causes(self) -> list[str]:
        """Why :attr:`within_limits` is false (the AC check's verdict), empty otherwise."""
        return restoration_verdict_causes([("", self.ac_check)])

    @property
    def verdict_text(self) -> str:
        """:attr:`verdict_causes` in one phrase (``"; "``-joined), for the stderr line."""
        return shown_list(self.verdict_causes, sep="; ")

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(replace(self, buses=None, branches=None, network=None))
        for name in (*RESTORE_TABLES, "network"):
            doc.pop(name)
        doc.update(doc.pop("extra") or {})
        if not self.source_in_memory:
            doc.pop("source_in_memory")
        if self.source is None:
            doc.pop("source")
        return stamped("resilience_restore", with_common_keys(
            doc, objective=self.objective, lower_bound=self.lower_bound,
            within_limits=self.within_limits))


def gap_explained(loss_reserve: float | None, model_gap: float | None, unit: str) -> str:
    """What the reported gap holds beyond the solve's own, for the console's and the HTML
    report's gap rows: "" without an islands' AC loss reserve, else ``" (the islands' AC
    loss reserve, 1.41 $, over the lossless model's bound: not a solver gap; the solve's own
    gap 0.0000 %)"``. The bound is the lossless model's; the reported objective is
    ``objective = lossless + reserve``, so ``gap = (objective - bound) / |objective|`` holds
    the reserve (user test ut51_resil #1: an ``optimal`` plan showed 0.0297 %, the 1.41 $
    reserve alone, where ``--gap`` was 1e-7)."""
    if not loss_reserve or loss_reserve <= 0:
        return ""
    own = "-" if model_gap is None else f"{100 * model_gap:.4f} %"
    return (f" (the islands' AC loss reserve, {loss_reserve:,.2f}{unit}, over the lossless "
            f"model's bound: not a solver gap; the solve's own gap {own})")


def with_common_keys(doc: dict[str, Any], *, objective: float | None,
                     lower_bound: float | None, within_limits: bool | None) -> dict[str, Any]:
    """``doc`` with the keys every result kind's JSON has (README, "The keys every result
    has"), right after its ``gap``: ``objective`` and ``lower_bound`` in the command's own
    unit (a restoration's kW, a plan's $; its own ``objective_kw``, ``lower_bound_kw``,
    ``expected_total`` stay for the readers of older files) and ``within_limits``
    (:func:`~feederopt.validation.restoration.restoration_within_limits`). Before (user
    test ut41_cli #3), a script reading ``d["objective"]`` failed on a restore or plan
    result."""
    common = {"objective": objective, "lower_bound": lower_bound,
              "within_limits": within_limits}
    items = [(k, common.get(k, v)) for k, v in doc.items()]
    at = [k for k, _ in items].index("gap") + 1
    items[at:at] = [(k, v) for k, v in common.items() if k not in doc]
    return dict(items)


def document_within_limits(doc: Mapping[str, Any]) -> bool | None:
    """The ``within_limits`` of a restore or plan result's JSON document, by the rule that
    wrote it (:func:`~feederopt.validation.restoration.restoration_within_limits` over its
    AC checks), so that a file written before the field existed gets the same verdict."""
    checks = ([sc.get("ac_check") for sc in doc.get("scenarios") or []]
              if doc.get("kind") == "resilience_plan" else [doc.get("ac_check")])
    return restoration_within_limits(checks)


def resilience_within_text(within: bool | None, status: str | None = None) -> str:
    """The "within the limits" row of restore's and plan's console and report: ``yes``,
    ``no: an AC check breaks a limit (exit code 4)``, or ``not checked`` (no AC check ran:
    ``--no-ac-check``). A run that a signal stopped (``status`` ``interrupted``) exits with
    the signal's code, 128 + its number (130 for Ctrl-C, 143 for SIGTERM), not 4, and the
    row says so (user test ut47_cli #1: it said "exit code 4" beside exit code 130)."""
    if within is None:
        return "not checked (no AC check ran)"
    if within:
        return "yes"
    if status == "interrupted":
        return ("no: an AC check breaks a limit (the run was stopped: exit code 130 for "
                "Ctrl-C, 143 for SIGTERM, not 4)")
    return "no: an AC check breaks a limit (exit code 4)"


def scenario_failed(doc: Mapping[str, Any], sc: Mapping[str, Any]) -> list[str]:
    """A plan scenario's failed lines (attacked and not hardened): its ``failed``, or for a
    result written before the field, its ``broken`` less the plan's ``hardened``."""
    if "failed" in sc:
        return list(sc["failed"] or [])
    hardened = set(doc.get("hardened") or [])
    return [b for b in sc.get("broken") or [] if b not in hardened]


#: The tables a :class:`RestoreResult` holds beside its JSON document.
RESTORE_TABLES = ("buses", "branches")


def restore_tables(problem: ResilienceProblem, broken: tuple[int, ...], op: Operation,
                   ac: RestorationAcCheck | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The restoration ``op`` per bus and per branch, in the user's ids (an xward's internal
    bus and branch left out, as in :func:`operation_view`), kW, kvar and p.u.

    ``buses``: ``id``, ``name`` (the bus's user name: a pandapower net's ``net.bus.name``, a
    table folder's ``name``; null where it has none), ``is_source``, ``energised`` (reached
    over closed lines from a source or a producing backup DG), the bus's load
    ``p_load_kw``/``q_load_kvar``, the shed P ``p_shed_kw``, a backup DG's output
    ``p_backup_dg_kw``/``q_backup_dg_kvar`` (the model's ``pg``/``qg``; the AC check injects
    them where a source feeds its part), the model's voltage ``vm_pu`` (LinDistFlow,
    lossless: ``sqrt(U)``, null where de-energised), the band
    ``v_min_pu``/``v_max_pu``, and pandapower's ``vm_ac_pu``/``va_ac_degree`` (the AC check,
    :mod:`feederopt.validation.restoration`; null where it leaves the bus without a source,
    and everywhere when it did not run or converge).

    ``branches``: ``id``, ``name`` (the branch's user name: ``net.line.name``, ...; null
    where it has none), ``from_bus``, ``to_bus``, ``state`` (``closed``, ``open``, or
    ``broken``: out by the disaster), ``closed``, ``broken``, ``switchable``, the model's flow
    at the from end ``p_from_kw``/``q_from_kvar`` (0 where open), and pandapower's
    ``p_from_ac_kw``, ``q_from_ac_kvar``, ``i_ac_ka``, its series losses ``loss_ac_kw`` and
    ``loading_ac_percent`` (of the rating; null without one). An open or broken branch carries
    nothing (0); a line opened by a switch at one end keeps pandapower's charging losses. The
    total ``ac_check.losses_kw`` also counts the losses outside any branch (trafo3w, switch
    impedances), so it may exceed the column's sum."""
    g = problem.grid
    kw = problem.kw_per_pu
    aux = problem.xward_buses
    keep_bus = [i for i in range(g.n) if i not in aux]
    keep_br = [k for k in range(g.m) if k not in problem.xward_branches]
    closed = np.asarray(op.closed) > 0.5
    view = operation_view(problem, op)
    live = set(view.energised_buses)
    dg, dg_kvar = view.dg_output_kw, view.dg_output_kvar
    flow = ac.power_flow if ac is not None else None
    vm_ac: dict[str, float] = {}
    va_ac: dict[str, float] = {}
    br_ac: dict[str, tuple[float, float, float, float, float]] = {}
    if flow is not None:
        vm_ac = dict(zip(flow.bus_ids, np.asarray(flow.vm_pu, float).tolist(), strict=True))
        va_ac = dict(zip(flow.bus_ids, np.asarray(flow.va_degree, float).tolist(),
                         strict=True))
        # a closed branch inside a de-energised part carries nothing: pandapower gives it
        # p = q = loss = 0 and a NaN current, written 0 like its power (user test ut36_results
        # #1: i_ac_ka was null beside p_from_ac_kw 0.0 on such rows)
        br_ac = {b: (1e3 * p, 1e3 * q,
                     0.0 if math.isnan(i) and p == 0 and q == 0 else i, loss, load)
                 for b, p, q, i, loss, load in zip(
                     flow.branch_ids, flow.p_from_mw, flow.q_from_mvar, flow.i_ka,
                     flow.loss_kw, flow.loading_percent, strict=True)}
    ids = [problem.bus_ids[i] for i in keep_bus]
    u = np.asarray(op.u, float)
    buses = pl.DataFrame({
        "id": ids,
        "name": pl.Series([problem.bus_names.get(b) for b in ids], dtype=pl.String),
        "is_source": np.asarray(g.is_source, bool)[keep_bus],
        "energised": [b in live for b in ids],
        "p_load_kw": np.asarray(g.p_load, float)[keep_bus] * kw,
        "q_load_kvar": np.asarray(g.q_load, float)[keep_bus] * kw,
        "p_shed_kw": np.asarray(op.shed_pu, float)[keep_bus] * kw,
        "p_backup_dg_kw": [float(dg.get(b, 0.0)) for b in ids],
        "q_backup_dg_kvar": [float(dg_kvar.get(b, 0.0)) for b in ids],
        "vm_pu": [float(np.sqrt(max(u[i], 0.0))) if problem.bus_ids[i] in live else math.nan
                  for i in keep_bus],
        "v_min_pu": np.sqrt(np.asarray(g.u_min, float)[keep_bus]),
        "v_max_pu": np.sqrt(np.asarray(g.u_max, float)[keep_bus]),
        "vm_ac_pu": [vm_ac.get(b, math.nan) for b in ids],
        "va_ac_degree": [va_ac.get(b, math.nan) for b in ids],
    }, schema_overrides={"vm_pu": pl.Float64, "vm_ac_pu": pl.Float64,
                         "va_ac_degree": pl.Float64, "p_backup_dg_kw": pl.Float64,
                         "q_backup_dg_kvar": pl.Float64})
    out = set(broken)
    no_switch = (np.zeros(g.m, bool) if g.no_switch is None
                 else np.asarray(g.no_switch, bool))
    bids = [problem.branch_ids[k] for k in keep_br]
    nan5 = (math.nan,) * 5
    ac_rows = [br_ac.get(b, nan5) for b in bids]
    p = np.where(closed, np.asarray(op.p, float), 0.0) * kw
    q = np.where(closed, np.asarray(op.q, float), 0.0) * kw
    branches = pl.DataFrame({
        "id": bids,
        "name": pl.Series([problem.branch_names.get(b) for b in bids], dtype=pl.String),
        "from_bus": [problem.bus_ids[int(g.f[k])] for k in keep_br],
        "to_bus": [problem.bus_ids[int(g.t[k])] for k in keep_br],
        "state": ["closed" if closed[k] else "broken" if k in out else "open"
                  for k in keep_br],
        "closed": closed[keep_br],
        "broken": [k in out for k in keep_br],
        "switchable": ~no_switch[keep_br],
        "p_from_kw": p[keep_br] + 0.0,
        "q_from_kvar": q[keep_br] + 0.0,
        **{name: [float(r[j]) for r in ac_rows] for j, name in enumerate(
            ("p_from_ac_kw", "q_from_ac_kvar", "i_ac_ka", "loss_ac_kw", "loading_ac_percent"))},
    }, schema_overrides={"closed": pl.Boolean, "broken": pl.Boolean, "switchable": pl.Boolean})
    return nan_as_null(buses), nan_as_null(branches)


@dataclass(frozen=True)
class ScenarioView:
    name: str
    probability: float
    broken: list[str]
    shed_cost: float  # $
    penalty_cost: float  # $
    recourse: float  # $ = shed_cost + penalty_cost
    operation: OperationView
    #: pandapower's AC power flow of the operation (None: not run)
    ac_check: dict[str, Any] | None = None
    #: The status of this scenario's operation: ``optimal`` (for the plan shown), or
    #: ``time_limit`` (a recourse MILP stopped at its limit: a feasible operation, not proven
    #: the best for the plan).
    recourse_status: str = "optimal"
    #: The load this operation serves [kW]: the load of every bus, the source buses'
    #: included (as ``RestoreResult.total_load_kw``), less ``operation.shed_kw``.
    served_kw: float = 0.0
    #: The switch operations from the normal state to this scenario's operation, as
    #: ``RestoreResult.switching`` has them (``branch``, its user ``name``, ``action``:
    #: ``open`` | ``close``, ``operated_by``); the lines the scenario takes out (broken and not
    #: hardened) are not listed. Read from the solution, not solved again.
    switching: list[dict[str, Any]] = field(default_factory=list)
    #: True: this scenario's operation is the shed-all fallback of a recourse out of time
    #: (``Operation.shed_all``), its ``switching`` rows marked ``"fallback": true``
    #: (``RestoreResult.fallback``).
    fallback: bool = False
    #: The lines the scenario attacks, as given (``broken`` holds the same list: its old
    #: name, kept for the readers of older files; deprecated), and those of them that fail:
    #: attacked and not hardened by the plan. A hardened line stays in service and may be
    #: closed and carry flow in the operation. Before (user test ut41_cli #4), ``broken``
    #: listed a hardened line that ``closed_lines`` listed closed too.
    attacked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MeasuresView:
    """Wait-and-see and expected-value analyses [$] (EEV and VSS None when the expected-value
    plan leaves a non-sheddable load unsupplied in some scenario, or when not computed within
    the time limit: then named in ``not_computed``, as WS and EVPI are)."""

    recourse_problem: float
    wait_and_see: float | None
    expected_value_solution_cost: float | None
    evpi: float | None
    vss: float | None
    wait_and_see_per_scenario: dict[str, float]
    ev_scenario_broken: list[str]
    ev_hardened: list[str]
    ev_dg_sites: list[str]
    #: The status of the plan whose expected total cost is RP: EVPI and VSS are proven
    #: measures only when it is ``optimal`` (else RP is an upper bound of the optimum).
    recourse_problem_status: str = "optimal"
    #: The measures (of WS, EEV, EVPI, VSS) the time limit left no time for.
    not_computed: list[str] = field(default_factory=list)
    #: The measures (of WS, EEV) from MILPs stopped at their time limits: upper bounds.
    not_proven: list[str] = field(default_factory=list)
    #: Why a measure is undefined, by name (EEV and VSS when the expected-value plan leaves
    #: a non-sheddable load unsupplied: "the expected-value plan leaves d4 unsupplied in
    #: s2"); empty when all are defined.
    undefined: dict[str, str] = field(default_factory=dict)
    #: The part of RP [$] that is the islands' AC loss reserve (0: none); WS and EEV are the
    #: lossless model's, so EVPI = RP - WS holds the reserve (``basis`` says so).
    loss_reserve: float = 0.0
    #: What RP, WS and EEV are the costs of (:func:`measures_basis`), the basis of the
    #: identities EVPI = RP - WS and VSS = EEV - RP.
    basis: str = ""


def measures_basis(rp: float, loss_reserve: float, eev_is_rp: bool) -> str:
    """The basis of the measures: RP is the plan's expected total cost as reported, with
    its islands' AC loss reserve when there is one; WS and EEV are the lossless model's
    (their operations are not checked in AC), except EEV when the expected-value plan is
    the plan (then RP). User test ut51_resil #1: EVPI and VSS came from the lossless RP
    (4,740 $) below a reported expected total of 4,741.41 $."""
    if loss_reserve <= 0:
        return ("RP is the plan's expected total cost; RP, WS and EEV are the model's "
                "(lossless) costs")
    eev = ("EEV is RP: the expected-value plan is the plan" if eev_is_rp else
           "EEV is the lossless model's, so VSS = EEV - RP is lowered by the reserve")
    return (f"RP is the plan's expected total cost, {rp:,.2f} $, which holds the islands' AC "
            f"loss reserve, {loss_reserve:,.2f} $ over the lossless model's "
            f"{rp - loss_reserve:,.2f} $; WS is the lossless model's (its operations are not "
            f"checked in AC), so EVPI = RP - WS holds the reserve; {eev}")


def measure_caveats(m: MeasuresView | Mapping[str, Any]) -> dict[str, str]:
    """What qualifies each measure's value, by name (``WS``, ``EEV``, ``EVPI``, ``VSS``):
    not computed within the time limit, not proven (from MILPs stopped at their limits), or
    from an RP whose plan is not proven optimal; measures without a caveat are left out."""
    get = m.get if isinstance(m, Mapping) else (lambda k, d=None: getattr(m, k, d))
    skipped = list(get("not_computed") or [])
    unproven = list(get("not_proven") or [])
    rp_status = str(get("recourse_problem_status") or "optimal")
    out: dict[str, list[str]] = {}
    for name, why in dict(get("undefined") or {}).items():
        out.setdefault(str(name), []).append(f"undefined: {why}")
    for name in skipped:
        out.setdefault(name, []).append("not computed: no time left")
    for name in unproven:
        out.setdefault(name, []).append("not proven: from MILPs stopped at their limits, "
                                        "an upper bound")
    for name in ("EVPI", "VSS"):
        if name in skipped:
            continue
        if rp_status != "optimal":
            out.setdefault(name, []).append(f"RP not proven optimal: {rp_status}")
        for part in ("WS",) if name == "EVPI" else ("EEV",):
            if part in unproven:
                out.setdefault(name, []).append(f"{part} not proven")
    return {k: "; ".join(v) for k, v in out.items()}


def measures_note(m: MeasuresView) -> list[str]:
    """A note naming the measures not computed within the time limit and those from a plan or
    MILPs not proven optimal, or none."""
    def come(names: list[str]) -> str:
        return "come" if len(names) > 1 else "comes"

    notes = []
    if m.loss_reserve > 0:
        notes.append(f"stochastic measures: {m.basis}")
    if m.not_computed:
        notes.append(f"{', '.join(m.not_computed)} not computed: the time limit left no time "
                     f"for {'them' if len(m.not_computed) > 1 else 'it'} (the measures share "
                     "--time-limit with the plan: the expected-value plan takes at most "
                     f"{100 * EV_PLAN_SHARE:.0f} % of it, first, and the others run in the "
                     "time the plan's solve leaves); give more time, or --no-measures")
    qualified = [k for k in ("EVPI", "VSS") if k not in m.not_computed]
    if m.recourse_problem_status != "optimal" and qualified:
        notes.append(f"{' and '.join(qualified)} {come(qualified)} from an RP whose plan is "
                     f"not proven optimal (status {m.recourse_problem_status}): RP, the plan's "
                     "expected total cost, is an upper bound of the optimum")
    if m.not_proven:
        notes.append(f"{', '.join(m.not_proven)} {come(m.not_proven)} from MILPs stopped at "
                     "their time limits: feasible plans and operations, upper bounds, not "
                     "proven")
    return notes


@dataclass(frozen=True)
class PlanResult:
    """Phases 2 and 3: hardening and DG siting against disaster scenarios.

    ``settings``: the :class:`~feederopt.problems.resilience.PlanSettings` (``switch_penalty``
    the one in effect), the candidate counts and, set by :func:`feederopt.plan`, the options
    of the run: ``time_limit_s``, ``gap`` (null: the method's default), ``measures``,
    ``ac_check`` and ``ties``."""

    case: str
    method: str
    status: str
    settings: dict[str, Any]
    hardened: list[str]
    dg_sites: list[str]
    investment: float
    expected_recourse: float
    expected_total: float
    lower_bound: float | None
    gap: float | None
    solve_time_s: float
    iterations: int
    scenarios: list[ScenarioView]
    measures: MeasuresView | None = None
    execution: dict[str, Any] = field(default_factory=dict)
    #: What the operation model leaves out or holds fixed on this network (named elements).
    notes: list[str] = field(default_factory=list)
    #: The user's names of the buses and branches by id (:func:`result_names`), for the ids
    #: that have one: ``hardened``, ``dg_sites``, each scenario's ``broken``, ... are ids.
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: As :attr:`RestoreResult.source_in_memory`: the JSON's ``source_in_memory`` when True.
    source_in_memory: bool = field(default=False, repr=False)
    #: As :attr:`RestoreResult.source`: the file's absolute path or the case's name (None,
    #: left out of the JSON, for a network given as an object).
    source: str | None = None
    #: The network planned (set by :func:`feederopt.plan`), which :func:`feederopt.save`
    #: draws the folder's figure on; not in :meth:`to_dict`.
    network: Any = field(default=None, repr=False, compare=False)
    #: How the scenarios were given (set by :func:`feederopt.plan`): ``broken``, the ids of
    #: one certain attack (``--broken``), or ``scenarios_file``, the absolute path of the
    #: disaster file read (``--scenarios``; a shipped name's file too); both None for
    #: scenarios given as an object (a DisasterSet, a data frame). What ``feederopt report
    #: FILE.json`` names the scenarios by (user test: its hint said ``--scenarios ...`` for
    #: a ``--broken`` run).
    broken: list[str] | None = None
    scenarios_file: str | None = None
    #: The part of ``expected_total`` [$] that is the islands' AC loss reserve of the
    #: scenario operations (as :attr:`RestoreResult.loss_reserve_kw`), 0 when none; ``gap``
    #: holds it, ``model_gap`` is the lossless plan's to ``lower_bound``, the solve's own.
    loss_reserve: float = 0.0
    model_gap: float | None = None
    #: As :attr:`RestoreResult.timings`: :func:`feederopt.plan` times reading the network
    #: and the scenarios (``read_s``), the expected-value plan and the measures
    #: (``measures_s``), the second phase (``second_phase_s``) and the AC checks
    #: (``ac_check_s``).
    timings: dict[str, float] = field(default_factory=dict)
    #: As :attr:`RestoreResult.extra`: the command's ``wall_clock_s`` and
    #: ``answer_wall_clock_s``.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """The JSON's ``objective`` (README, "The keys every result has"): the expected total
        cost ``expected_total`` [$] (investment plus expected recourse), the one ``gap`` is
        relative to."""
        return self.expected_total

    @property
    def within_limits(self) -> bool | None:
        """The plan's one verdict, the JSON's ``within_limits`` and the rule of ``feederopt
        plan``'s exit code 4 (:func:`~feederopt.validation.restoration.
        restoration_within_limits`): false when one scenario's AC check breaks a limit,
        None when no scenario's AC check ran."""
        return restoration_within_limits([sc.ac_check for sc in self.scenarios or ()])

    @property
    def verdict_causes(self) -> list[str]:
        """Why :attr:`within_limits` is false, per scenario (``"A: limits broken in AC:
        ..."``), empty otherwise."""
        return restoration_verdict_causes([(sc.name, sc.ac_check)
                                           for sc in self.scenarios or ()])

    @property
    def verdict_text(self) -> str:
        """:attr:`verdict_causes` in one phrase (the first ten scenarios, then how many
        more: :func:`~feederopt.errors.shown_list`), for the stderr line."""
        return shown_list(self.verdict_causes, sep="; ")

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(replace(self, network=None))
        doc.pop("network")
        doc.update(doc.pop("extra") or {})
        if not self.source_in_memory:
            doc.pop("source_in_memory")
        if self.source is None:
            doc.pop("source")
        return stamped("resilience_plan", with_common_keys(
            doc, objective=self.objective, lower_bound=self.lower_bound,
            within_limits=self.within_limits))


def _ac_dict(ac: RestorationAcCheck | None) -> dict[str, Any] | None:
    return ac.to_dict() if ac is not None else None


def _op_status(status: str) -> str:
    """``optimal``, or the solver's status of an operation not proven optimal."""
    return "optimal" if status in ("optimal", "OPTIMAL") else str(status)


def _hardened(problem: ResilienceProblem, harden: np.ndarray) -> list[str]:
    return [problem.branch_ids[int(problem.harden_lines[i])] for i in np.flatnonzero(harden)]


def _sites(problem: ResilienceProblem, site: np.ndarray) -> list[str]:
    return [problem.bus_ids[int(problem.grid.dg_bus[i])] for i in np.flatnonzero(site)]


def total_load_kw(problem: ResilienceProblem) -> float:
    """The load of every bus [kW], the source buses' included: what an operation serves
    (this less its shed). A source bus's load is served in every operation and never shed
    (the model's balance (5b) holds at the non-source buses only; a note names those loads,
    :func:`feederopt.problems.resilience.source_load_notes`): user test ut39_mixed, 500 of
    3,100 kW at the ext_grid bus, was printed as a load of 2,600 kW."""
    g = problem.grid
    return round(float(g.p_load.sum() * problem.kw_per_pu), 6)


def restore_gap(objective_kw: float, bound_kw: float) -> float:
    """The gap of a restoration, README's ``(objective - lower_bound) / |objective|`` of the
    objective and bound it reports [kW] (the priority-weighted shed plus the penalty, and
    the MILP's bound within it), 0 when both are 0 (nothing shed: ``max(|objective|,
    1e-9)``); infinite without a bound. Not the MILP's own gap: its objective holds the
    tie-breaks of :func:`~feederopt.formulations.resilience.shed_epsilon` and the connection
    term, so cig_mod with line:10 broken (user test ut41_recheck_b #C) showed 5.66 % with
    an objective and bound of 0 kW (a tie-break of a few 1e-7 kW against a bound below it)."""
    if not math.isfinite(bound_kw):
        return math.inf
    return max(objective_kw - bound_kw, 0.0) / max(abs(objective_kw), 1e-9)


def restore_result(problem: ResilienceProblem, broken: tuple[int, ...], op: Operation,
                   radiality: str, penalty_pu: float, sites: np.ndarray | None,
                   ac: RestorationAcCheck | None = None, *,
                   reserve_kw: float = 0.0) -> RestoreResult:
    """The restoration's result; ``reserve_kw``: the weighted shed the islands' AC loss
    reserve added to ``op``'s (:attr:`RestoreResult.loss_reserve_kw`)."""
    view = operation_view(problem, op)
    buses, branches = restore_tables(problem, broken, op, ac)
    penalty_kw = penalty_pu * problem.kw_per_pu * _n_closed(op)
    weighted_kw = _r(op.weighted_shed_pu * problem.kw_per_pu)  # = shed_kw at priority 1
    objective_kw = round(weighted_kw + penalty_kw, 6)
    # the bound is the tie-broken objective's (formulations.resilience.shed_epsilon); the gap
    # is of the two as reported (rounded to 1e-6 kW: a bound of -1e-12 kW is 0)
    bound = min(op.bound, objective_kw)
    bound_kw = _r(bound) if math.isfinite(bound) else bound
    return RestoreResult(
        case=problem.meta.get("case", ""), broken=[problem.branch_ids[i] for i in broken],
        radiality=radiality, status=op.status,
        total_load_kw=total_load_kw(problem),
        shed_kw=view.shed_kw, penalty_kw=round(penalty_kw, 6),
        objective_kw=objective_kw, lower_bound_kw=_num(bound_kw),
        gap=_num(restore_gap(objective_kw, bound_kw)),
        loss_reserve_kw=round(reserve_kw, 6),
        model_gap=_num(restore_gap(objective_kw - round(reserve_kw, 6), bound_kw)),
        dg_sites=_sites(problem, sites) if sites is not None else [], operation=view,
        solve_time_s=op.solve_time_s, notes=list(problem.notes) + island_note([("", view)])
        + loop_note(problem, [("", op)], [ac.to_dict() if ac is not None else None])
        + second_phase_note([("", op)]),
        ac_check=ac.to_dict() if ac is not None else None, buses=buses, branches=branches,
        names=result_names(problem), fallback=op.shed_all)


def plan_result(problem: ResilienceProblem, scenarios: list[Scenario], out: PlanOutcome,
                measures: StochasticMeasures | None = None,
                acs: list[RestorationAcCheck | None] | None = None, *,
                lossless: float | None = None,
                lossless_gap: float | None = None) -> PlanResult:
    """The plan's result; ``lossless`` and ``lossless_gap``: the plan's expected total cost
    and gap before its operations kept room for their islands' AC losses (None: as
    ``out``'s), whence :attr:`PlanResult.loss_reserve` and ``model_gap``."""
    st = problem.settings
    load_kw = total_load_kw(problem)
    views = []
    for k, (sc, op) in enumerate(zip(scenarios, out.operations, strict=True)):
        view = operation_view(problem, op)
        shed_cost = st.voll * op.weighted_shed_pu * problem.kw_per_pu  # priority-weighted
        pen = st.penalty * _n_closed(op)
        attacked = [problem.branch_ids[i] for i in sc.broken]
        views.append(ScenarioView(sc.name, sc.probability, attacked,
                                  _r(shed_cost), _r(pen), _r(shed_cost + pen), view,
                                  _ac_dict(acs[k] if acs is not None else None),
                                  _op_status(op.status), _r(load_kw - view.shed_kw),
                                  fallback=op.shed_all, attacked=list(attacked),
                                  failed=[problem.branch_ids[i] for i in
                                          problem.out_of_service(sc, out.harden)]))
    exp_rec = float(sum(v.probability * v.recourse for v in views))
    mv = None
    if measures is not None:
        mv = MeasuresView(
            _r(measures.rp), _opt(measures.ws), _opt(measures.eev),
            _opt(measures.evpi), _opt(measures.vss),
            {sc.name: _r(w) for sc, w in zip(scenarios, measures.ws_per_scenario,
                                              strict=False)},
            [problem.branch_ids[i] for i in measures.ev_broken],
            [] if measures.ev_harden is None else _hardened(problem, measures.ev_harden),
            [] if measures.ev_site is None else _sites(problem, measures.ev_site),
            measures.rp_status, list(measures.not_computed), list(measures.not_proven),
            {k: measures.eev_undefined for k in ("EEV", "VSS")} if measures.eev_undefined
            else {}, _r(measures.loss_reserve),
            measures_basis(measures.rp, measures.loss_reserve, measures.eev_is_rp))
    settings = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(st).items()}
    settings["switch_penalty"] = st.penalty
    # how many candidates the default (None: every non-source bus, every line) stands for
    settings["dg_candidate_count"] = len(problem.grid.dg_bus)
    settings["harden_candidate_count"] = len(problem.harden_lines)
    return PlanResult(
        case=problem.meta.get("case", ""), method=out.method, status=str(out.status),
        settings=settings, hardened=_hardened(problem, out.harden),
        dg_sites=_sites(problem, out.site), investment=round(out.investment, 6),
        expected_recourse=round(exp_rec, 6),
        expected_total=round(out.investment + exp_rec, 6),
        lower_bound=_num(min(out.lower_bound, out.investment + exp_rec)), gap=_num(out.gap),
        loss_reserve=round(max(out.objective - lossless, 0.0), 6)
        if lossless is not None else 0.0,
        model_gap=_num(out.gap if lossless_gap is None else lossless_gap),
        solve_time_s=out.solve_time_s,
        iterations=out.iterations, scenarios=views, measures=mv,
        execution={"kind": out.executor, "workers": out.workers,
                   "worker_memory_mb": out.worker_memory_mb},
        notes=list(problem.notes) + island_note([(v.name, v.operation) for v in views])
        + loop_note(problem, list(zip([sc.name for sc in scenarios], out.operations,
                                      strict=True)), [v.ac_check for v in views])
        + second_phase_note([(sc.name, op) for sc, op in zip(scenarios, out.operations,
                                                              strict=True)])
        + (measures_note(mv) if mv is not None else []), names=result_names(problem))
