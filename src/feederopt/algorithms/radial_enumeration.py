"""Exact three-phase reconfiguration by enumeration of the radial switch states.

The reconfiguration MILP of :mod:`feederopt.problems.threephase` lets the closed switchable
branches be any spanning forest of the graph of the switch blocks (the buses that no switch
separates, :func:`feederopt.network.topology.switch_blocks`) with one source block per tree:
the parent-child rows of :func:`feederopt.formulations.radiality.parent_child` (one parent per
non-source block, as many closed branches as non-source blocks, the depth rows excluding
cycles and self-loops). Merging the source blocks into one root, these forests are the
spanning trees of the merged block graph. On a feeder with few switches (Iowa 240: 9 switch
lines, a few dozen trees) the trees are few, and an exhaustive search over them is exact and
fast: :func:`radial_states` lists them (a backtracking over the branches that only descends
where a tree can still be completed, so the work is linear in the number of trees, and stops
past a limit), :func:`evaluate_states` solves each state's LinDist3Flow rows (the MILP's
:func:`~feederopt.formulations.lindist3flow.lindist3flow` block with the same voltage limits,
shifted by any offsets, and the same current-rating polygons, the switch states fixed by
bounds: an LP) in every scenario.

With the switch states fixed, LinDist3Flow is a square linear system (the flows of a radial
network, with the angle rows of the loops that no switch opens), so each state has one flow
per scenario, within the limits or not. The MILP restricted to a state therefore has that one
flow, and its objective with the lazy tangents of :mod:`feederopt.algorithms.threephase`
converges to the loss proxy of that flow (a tangent at the flow is exact there): the
enumeration uses that proxy, exactly, plus the switching cost. The least over the feasible
states is the MILP's optimum (to its tolerances), and it is also a valid lower bound, as every
state was evaluated; a state is dropped as soon as the weighted proxy of the scenarios solved
so far reaches the best objective found (the proxy is not negative), which keeps the bound.

Of a state's evaluation in a scenario only the check against the limits depends on the
voltage limits (and so on the offsets of the voltage feedback, :mod:`feederopt.
api_threephase_feedback`, which shift them): the flow without the limits and its loss proxy
do not, nor does the proxy depend on any loss tangent. Within :func:`state_cache` (the
feedback's rounds) each flow without the limits is solved once and reused
(:class:`StateCache`); the check, and the LP with the limits where it fails, are done anew.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Sense
from feederopt.formulations.lindist3flow import bus_branches, edge_phases, lindist3flow
from feederopt.network.threephase_perunit import PerUnitThreePhase
from feederopt.network.topology import components_of, spanning_trees, switch_blocks
from feederopt.problems.threephase import effective_resistance
from feederopt.solvers.highs_backend import HighsModel

#: Most radial switch states for which :func:`feederopt.algorithms.threephase.
#: reconfigure_three_phase_scenarios` (and ``reconfigure_three_phase``) enumerate them
#: instead of solving the MILP. Each state costs one LP per scenario (and a check of its flow
#: against the limits). Measured on the shared 2-core machine (its load varies): Iowa 240 (43
#: states) one case 1.5 s against the MILP's 8.3 s; 24 hourly scenarios 20-45 s, optimal,
#: against the MILP's 600 s time limit at a 27 % gap (the same topology); IEEE 123 (9 states,
#: no ratings) 0.7 s against 1.3-4 s. At ~35-50 ms a state and scenario, 64 states cost at
#: most ~3 s for one case (about the MILP's on these feeders) and ~1 min for a day of hourly
#: scenarios on a 240-bus feeder, where the MILP does not close its gap in 10 min.
ENUMERATION_MAX_STATES = 64


@dataclass
class RadialState:
    """One radial switch state: the state of every edge (``y``, 1 closed) and the ids of the
    open switchable edges."""

    y: np.ndarray
    open_switches: frozenset[str]


@dataclass
class _BlockGraph:
    """The branches of the MILP's radiality rows over the switch blocks (:func:`radial_states`):
    each edge's branch (``member``), the branches' bus ends and the banks (``f``, ``t``),
    which of them can switch, the switch block of each bus (``labels``) and whether it holds
    a source, and each block's node with the source blocks merged into node 0 (``n``
    nodes)."""

    member: list[int]
    ends: list[tuple[int, int]]
    fixed: np.ndarray
    f: np.ndarray
    t: np.ndarray
    switchable: np.ndarray
    labels: np.ndarray
    has_source: np.ndarray
    node: np.ndarray
    n: int


def _block_graph(pu: PerUnitThreePhase) -> _BlockGraph:
    member, ends = bus_branches(pu, np.ones(len(pu.edges), bool))
    fixed = np.zeros(len(ends), bool)
    for e, g in zip(pu.edges, member, strict=True):
        fixed[g] |= not e.switchable
    n_bus = len(pu.bus_ids)
    f = np.array([a for a, _ in ends] + [b.f for b in pu.banks], int)
    t = np.array([b for _, b in ends] + [b.t for b in pu.banks], int)
    switchable = np.concatenate([~fixed, np.zeros(len(pu.banks), bool)])
    is_source = np.zeros(n_bus, bool)
    is_source[pu.node_bus[pu.source_nodes]] = True
    labels, has_source = switch_blocks(n_bus, f, t, switchable, is_source)
    # the source blocks merged into node 0, the other blocks 1..
    node = np.zeros(len(has_source), int)
    others = np.flatnonzero(~has_source)
    node[others] = np.arange(1, len(others) + 1)
    return _BlockGraph(member, ends, fixed, f, t, switchable, labels, has_source, node,
                       len(others) + 1)


def radial_states(pu: PerUnitThreePhase, limit: int | None = None) -> list[RadialState] | None:
    """Every switch state that the radiality rows of :func:`feederopt.problems.threephase.
    reconfiguration_block` allow (module docstring), or ``None`` when there are more than
    ``limit``. The branches are those of the MILP (:func:`~feederopt.formulations.lindist3flow.
    bus_branches`: edges on disjoint phases between two buses are one branch, and a branch
    with a non-switchable edge is always closed); an edge's state is its branch's."""
    g = _block_graph(pu)
    member, fixed, f, t, switchable = g.member, g.fixed, g.f, g.t, g.switchable
    labels, has_source, node, n = g.labels, g.has_source, g.node, g.n
    branches = np.flatnonzero(switchable)
    bf, bt = node[labels[f[branches]]], node[labels[t[branches]]]
    if not has_source.any():
        return []
    # a self-loop (or two source blocks) is never closed
    trees = spanning_trees(n, bf, bt, limit)
    if trees is None:
        return None
    state_of_branch = fixed.astype(float)
    out = []
    for tree in trees:
        on = state_of_branch.copy()
        on[branches[tree]] = 1.0
        y = np.array([on[g] if e.switchable else (0.0 if e.normally_open else 1.0)
                      for e, g in zip(pu.edges, member, strict=True)])
        opened = frozenset(e.id for e, v in zip(pu.edges, y, strict=True)
                           if e.switchable and v < 0.5)
        out.append(RadialState(y, opened))
    return out


def base_state(pu: PerUnitThreePhase) -> RadialState | None:
    """The base case's switch state as a :class:`RadialState`, when the radiality rows allow
    it (the closed switchable branches a spanning tree of the switch blocks, the source
    blocks merged, as :func:`radial_states` builds them); None when they do not (a loop
    through a closed switch, a block without a source)."""
    g = _block_graph(pu)
    member, ends, f, t, switchable = g.member, g.ends, g.f, g.t, g.switchable
    labels, node, n = g.labels, g.node, g.n
    if not g.has_source.any():
        return None
    closed = np.zeros(len(ends), bool)
    for e, k in zip(pu.edges, member, strict=True):
        closed[k] |= not e.normally_open
    on = np.flatnonzero(switchable[: len(ends)] & closed)
    bf, bt = node[labels[f[on]]], node[labels[t[on]]]
    if len(on) != n - 1 or np.any(bf == bt):
        return None
    lab = components_of(n, bf, bt) if n > 1 else np.zeros(1, int)
    if not np.all(lab == lab[0]):
        return None
    y = np.array([(1.0 if closed[g] else 0.0) if e.switchable else
                  (0.0 if e.normally_open else 1.0)
                  for e, g in zip(pu.edges, member, strict=True)])
    return RadialState(y, frozenset(e.id for e in pu.edges
                                    if e.switchable and e.normally_open))


@dataclass
class Evaluation:
    """What :func:`evaluate_states` found.

    ``status``: optimal (every state evaluated or dropped by its partial objective), infeasible
    (no state within every scenario's limits), time_limit. ``best`` is the index of the state
    of least objective (None: none found), ``objective`` its weighted loss proxy plus switching
    cost [kW], ``proxy_kw`` its weighted loss proxy, ``bound_kw`` the least objective any state
    can have (the best's when every state was evaluated), ``flows[s]`` its LinDist3Flow
    solution in scenario ``s`` (the block's groups ``w``, ``p``, ``q`` ...),
    ``feasible_alone[s]`` whether scenario ``s`` alone has a state within its limits (only
    filled when ``status`` is infeasible), ``lp_solves`` the LPs solved."""

    status: str
    best: int | None
    objective: float
    proxy_kw: float
    bound_kw: float
    flows: list[dict[str, np.ndarray]] = field(default_factory=list)
    feasible_alone: list[bool] = field(default_factory=list)
    lp_solves: int = 0
    seconds: float = 0.0
    #: The flows without the limits taken from the :class:`StateCache` instead of solved.
    reused: int = 0


class StateCache:
    """The flows without the limits of the states evaluated so far (:func:`state_cache`).

    ``flows[(scenario, y)]`` is the outcome of the LP without the limits of
    :class:`_Scenario` (HiGHS's status, ``optimal`` or ``infeasible``, and the solution when
    optimal) for the state ``y`` (its bytes) in the scenario whose LP that is: ``scenario``
    is a digest of that LP's every group bound and row and of the edge-phases' resistances of
    the loss proxy (:func:`_fingerprint`), so an entry serves only an identical LP, whatever
    network, limits or offsets it came with. The voltage limits are no part of that LP (its
    ``w`` within +-W_UNBOUNDED), nor are the current ratings; only its flow bound
    (:func:`~feederopt.formulations.lindist3flow.flow_bound`) counts voltage-dependent loads
    at the largest ``w_max``, which the offsets move on a feeder without internal nodes (their
    range W_FREE is the largest elsewhere): the digest then differs and the flows are solved
    again. ``hits`` counts the entries used."""

    def __init__(self) -> None:
        self.flows: dict[tuple[bytes, bytes], tuple[str, dict[str, np.ndarray]]] = {}
        self.hits = 0


_ACTIVE: contextvars.ContextVar[StateCache | None] = contextvars.ContextVar(
    "feederopt_state_cache", default=None)


@contextlib.contextmanager
def state_cache() -> Iterator[StateCache]:
    """Within it, :func:`evaluate_states` reuses the flows without the limits that it solved
    before (:class:`StateCache`; the voltage feedback's rounds, which differ by the limits
    only). Nested, the outer cache serves."""
    cache = _ACTIVE.get()
    if cache is not None:
        yield cache
        return
    cache = StateCache()
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def _fingerprint(block: Block, r: np.ndarray) -> bytes:
    """A digest of ``block`` (groups, rows, cones, objective) and the resistances ``r``."""
    h = hashlib.blake2b(digest_size=20)

    def arr(a: object) -> None:
        if sp.issparse(a):
            m = sp.csr_matrix(a)
            h.update(repr(("csr", m.shape)).encode())
            for part in (m.indptr, m.indices, m.data):
                arr(part)
            return
        x = np.ascontiguousarray(a)
        h.update(repr((x.dtype.str, x.shape)).encode())
        h.update(x.tobytes())

    for name, grp in block.groups.items():
        h.update(repr(("group", name, grp.size, grp.integer, str(grp.role))).encode())
        arr(grp.lb)
        arr(grp.ub)
        if grp.value is not None:
            arr(grp.value)
    for rows in block.rows:
        h.update(repr(("rows", rows.name, str(rows.sense), sorted(rows.terms))).encode())
        arr(rows.rhs)
        for g in sorted(rows.terms):
            arr(rows.terms[g])
    for cone in block.cones:
        h.update(repr(("cone", cone.name, sorted(cone.t), [sorted(x) for x in cone.xs]))
                 .encode())
        for terms in [cone.t, *cone.xs]:
            for g in sorted(terms):
                arr(terms[g])
    for g in sorted(block.objective):
        h.update(repr(("objective", g)).encode())
        arr(block.objective[g])
    h.update(b"r")
    arr(r)
    return h.digest()


#: Absolute tolerance of the check of a state's flow against the MILP's rows and bounds
#: (:class:`_Scenario`), HiGHS's primal feasibility tolerance.
FEASIBILITY_TOL = 1e-7


class _Scenario:
    """One scenario's LinDist3Flow rows, the switch states fixed by bounds per state.

    The flow is solved without the limits (an LP of the balance, drop and angle rows, 2,500
    rows on Iowa 240, ~13 ms warm-started from the last basis) and then checked against every
    row and bound of the MILP's LinDist3Flow block with its limits (the voltage limits and the
    current-rating polygons, 11,700 rows on Iowa 240, ~70 ms as an LP). The flow of a state
    is unique (a square system), so the check decides what the LP with the limits would;
    when it fails, that LP is solved (``infeasible`` or the flow it finds) all the same, so a
    state is dropped only when the MILP's own rows exclude it."""

    def __init__(self, pu: PerUnitThreePhase, *, voltage_limits: bool, thermal_limits: bool,
                 cache: StateCache | None = None):
        self.pu = pu
        self.full = lindist3flow(pu, voltage_limits=voltage_limits,
                                 thermal_limits=thermal_limits,
                                 transformer_limits=thermal_limits)
        self.full.groups["y"].integer = False
        self.free = lindist3flow(pu, voltage_limits=False, thermal_limits=False)
        self.free.groups["y"].integer = False
        self.model: HighsModel | None = None  # built at the first flow not in the cache
        self.limited: HighsModel | None = None
        self.r = effective_resistance(pu) * 1000.0  # kW per p.u.^2 (S base 1 MVA per phase)
        assert len(self.r) == len(edge_phases(pu).edge)
        self.cache = cache
        self.key = _fingerprint(self.free, self.r) if cache is not None else b""
        self.solves = 0
        self.reused = 0

    def _within(self, vals: dict[str, np.ndarray]) -> bool:
        """Whether ``vals`` keeps every row and bound of the block with the limits."""
        tol = FEASIBILITY_TOL
        for name, group in self.full.groups.items():
            if name in vals and (np.any(vals[name] < group.lb - tol)
                                 or np.any(vals[name] > group.ub + tol)):
                return False
        for rows in self.full.rows:
            act = np.zeros(rows.m)
            for g, a in rows.terms.items():
                grp = self.full.groups[g]
                x = vals[g] if g in vals else np.asarray(grp.value, float)
                act = act + a @ x
            bad = np.abs(act - rows.rhs) > tol if rows.sense is Sense.EQ else act > rows.rhs + tol
            if np.any(bad):
                return False
        return True

    def _free(self, y: np.ndarray, seconds: float) -> tuple[str, dict[str, np.ndarray]]:
        """The LP without the limits at the state ``y``: HiGHS's status and, when optimal, the
        solution (empty otherwise); from the cache when it holds it, into it when it is
        optimal or infeasible (not when out of time or interrupted)."""
        key = (self.key, y.tobytes())
        if self.cache is not None and key in self.cache.flows:
            self.cache.hits += 1
            self.reused += 1
            return self.cache.flows[key]
        if self.model is None:
            self.model = HighsModel(self.free, objective={})
        model = self.model
        model.set_bounds("y", y, y)
        model.set_time_limit(seconds)
        sol = model.solve()
        self.solves += 1
        ok = sol.has_solution and sol.status == "optimal"
        vals = {g: v.copy() for g, v in model.values().items()} if ok else {}
        out = (str(sol.status), vals)
        if self.cache is not None and (ok or sol.status == "infeasible"):
            self.cache.flows[key] = out
        return out

    def solve(self, y: np.ndarray, seconds: float) -> tuple[str, float, dict[str, np.ndarray]]:
        """The state ``y``'s status (optimal: within the limits), loss proxy [kW] and
        LinDist3Flow solution."""
        status, vals = self._free(y, seconds)
        if not vals or not self._within(vals):
            if status not in ("optimal", "infeasible"):  # out of time, interrupted
                return status, math.nan, {}
            if self.limited is None:
                self.limited = HighsModel(self.full, objective={})
            model = self.limited
            model.set_bounds("y", y, y)
            model.set_time_limit(seconds)
            sol = model.solve()
            self.solves += 1
            if not sol.has_solution or sol.status != "optimal":
                return sol.status, math.nan, {}
            vals = model.values()
        vals = {g: v.copy() for g, v in vals.items()}
        return "optimal", float(np.sum(self.r * (vals["p"]**2 + vals["q"]**2))), vals


def evaluate_states(pus: list[PerUnitThreePhase], weights: np.ndarray,
                    states: list[RadialState], *, deadline: float, voltage_limits: bool = True,
                    thermal_limits: bool = True, switch_cost_kw: float = 0.0,
                    cache: StateCache | None = None) -> Evaluation:
    """The state of ``states`` of least expected loss proxy ``sum_s w_s L_s`` plus
    ``switch_cost_kw`` per switch whose state differs from the base case, among those within
    every scenario's limits (module docstring); ``pus`` are the scenarios' per-unit networks
    with their limits (offsets and rating scales applied), ``deadline`` a
    ``time.perf_counter()`` time. The scenarios of most weight are solved first, and once a
    state is within every scenario's limits those of most weighted loss proxy in it; a state
    is dropped at its first infeasible scenario or when its partial objective reaches the
    best. Out of time (or interrupted: ``status`` is then HiGHS's), the bound is the least of
    the best objective and the partial objectives of the states not done. The flows without
    the limits come from ``cache`` when it holds them (default: :func:`state_cache`'s, if
    any), and go into it."""
    t0 = time.perf_counter()
    cache = cache if cache is not None else _ACTIVE.get()
    weights = np.asarray(weights, float)
    base = pus[0]
    costs = [switch_cost_kw * sum(1 for e in base.edges if e.switchable
                                  and (e.id in st.open_switches) != bool(e.normally_open))
             for st in states]
    models = [_Scenario(pu, voltage_limits=voltage_limits, thermal_limits=thermal_limits,
                        cache=cache) for pu in pus]
    order = sorted(range(len(pus)), key=lambda s: -weights[s])
    # per state: the scenarios solved (True within the limits, False not)
    known: list[dict[int, bool]] = [{} for _ in states]
    best, best_obj, best_proxy = None, math.inf, math.nan
    best_flows: list[dict[str, np.ndarray]] = []
    lower = list(costs)  # the least objective each state can still have
    done = [False] * len(states)
    out_of_time, stopped = False, "time_limit"
    # the base state first, the incumbent of a time-limited search (a time-limited answer is
    # never worse than the base when the base is within the limits); then the states of
    # least switching cost first, then in order
    base_open = frozenset(e.id for e in base.edges if e.switchable and e.normally_open)
    for i in sorted(range(len(states)),
                    key=lambda j: (states[j].open_switches != base_open, costs[j])):
        partial = costs[i]
        flows: list[dict[str, np.ndarray]] = [{} for _ in pus]
        terms = np.zeros(len(pus))
        for s in order:
            if partial >= best_obj:
                break
            left = deadline - time.perf_counter()
            if left <= 0.0:
                out_of_time = True
                stopped = "time_limit"
                break
            status, proxy, vals = models[s].solve(states[i].y, left)
            if status not in ("optimal", "infeasible"):  # out of time, or interrupted
                out_of_time = True
                stopped = "interrupted" if status == "interrupted" else "time_limit"
                break
            known[i][s] = status == "optimal"
            if status != "optimal":
                partial = math.inf
                break
            partial += weights[s] * proxy
            flows[s] = vals
            terms[s] = weights[s] * proxy
            lower[i] = partial
        else:
            if best is None:  # then the scenarios of most weighted loss first
                order = sorted(order, key=lambda k: -terms[k])
            if partial < best_obj:
                best, best_obj = i, partial
                best_proxy = partial - costs[i]
                best_flows = flows
        if out_of_time:
            break
        done[i] = True
    seconds = time.perf_counter() - t0
    if out_of_time:
        bound = min([best_obj] + [lower[i] for i in range(len(states)) if not done[i]])
        return Evaluation(stopped, best, best_obj, best_proxy, bound, best_flows,
                          lp_solves=sum(m.solves for m in models), seconds=seconds,
                          reused=sum(m.reused for m in models))
    if best is not None:
        return Evaluation("optimal", best, best_obj, best_proxy, best_obj, best_flows,
                          lp_solves=sum(m.solves for m in models), seconds=seconds,
                          reused=sum(m.reused for m in models))
    # none within every scenario's limits: which scenarios have no state alone
    alone = []
    for s in range(len(pus)):
        ok = any(known[i].get(s, False) for i in range(len(states)))
        for i in range(len(states)):
            if ok or s in known[i]:
                continue
            left = deadline - time.perf_counter()
            if left <= 0.0:
                ok = True  # unknown: not named as infeasible alone
                break
            status, *_ = models[s].solve(states[i].y, left)
            known[i][s] = status == "optimal"
            ok = known[i][s] or status != "infeasible"
        alone.append(ok)
    return Evaluation("infeasible", None, math.nan, math.nan, math.inf, [], alone,
                      lp_solves=sum(m.solves for m in models), seconds=time.perf_counter() - t0,
                      reused=sum(m.reused for m in models))


def state_flows(pu: PerUnitThreePhase, states: list[RadialState], *, voltage_limits: bool,
                deadline: float) -> list[dict[str, np.ndarray] | None]:
    """Each state's LinDist3Flow solution without the current and transformer ratings, the
    voltage limits held when ``voltage_limits`` (the LP of :func:`evaluate_states` without the
    ratings): None for a state outside the voltage limits, or not solved before ``deadline``
    (:func:`time.perf_counter`). The flow of a state is unique (module docstring), so its
    loadings are the least any solution at that state has."""
    model = _Scenario(pu, voltage_limits=voltage_limits, thermal_limits=False)
    out: list[dict[str, np.ndarray] | None] = []
    for st in states:
        left = deadline - time.perf_counter()
        if left <= 0:
            out.append(None)
            continue
        status, _, vals = model.solve(st.y, max(left, 0.05))
        out.append(vals if status == "optimal" else None)
    return out
