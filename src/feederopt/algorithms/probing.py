"""Conic probing: switches that every topology better than the incumbent must keep closed.

For a switchable branch ``e``, the continuous relaxation of the MISOCP with ``y_e = 0``
(``0 <= y <= 1`` otherwise, cones exact, Clarabel) is a lower bound of every topology with
``e`` open. When it reaches the cutoff ``UB (1 - gap/2)`` of the master, no topology with ``e``
open can improve the incumbent within the gap, so the master may fix ``y_e = 1``: the same
argument as the master's cutoff (:class:`~feederopt.algorithms.master.MasterLoop`), applied
per switch before branching. It is probing in the sense of Savelsbergh, "Preprocessing and
probing techniques for mixed integer programming problems", ORSA J. Comput. 6(4), 1994, with the
conic relaxation in place of the LP one (optimality-based fixing; cf. the conic relaxation
bounds of Jabr, Singh & Pal, IEEE TPWRS 27(2), 2012).

The relaxation (:class:`ConicRelaxation`, the problem's
:meth:`~feederopt.problems.reconfiguration.ReconfigurationProblem.relaxation_block`) is built
once with data groups ``y_cap`` and ``y_floor`` and the rows ``y_floor <= y <= y_cap``, so each
probe is a parameter change and a re-solve (cvxpy DPP). Branches are probed in decreasing
order of the relaxation's ``y`` (those it keeps closed are the likeliest to be fixed) until the
time budget is spent.

**Loop bound.** A probe's value ``V_e`` bounds every topology below the cutoff that opens
``e``; a switch fixed closed has ``V_e = inf`` there, a fixed branch can never open
(``V_e = inf``) and an unprobed switch has the root relaxation's bound. Every radial topology
opens at least one branch of every loop ``C`` of the graph (the sources merged into one
node), so every topology below the cutoff costs at least ``max_C min_{e in C} V_e``: the
bound of branching once on the best loop (one child per branch of the loop opened), whose
children the probes have already solved; the best loop is the bottleneck loop of
:func:`~feederopt.network.topology.bottleneck_cycle`. Measured
(cutoff from the published optimum, every switch probed): root gap -> loop-bound gap
case33bw 11.94 -> 5.31 %, case69bw 20.83 -> 9.69 %.

**Loop branch-and-bound.** With the probing budget left, the loop bound is carried deeper
(:func:`loop_branch_bound`): best-first over sets of opened branches, each child opening one
more branch of the bottleneck loop of what is left, pruned at the cutoff; a node with no loop
left is a single radial topology. It is exact when it runs to the end (its test proves the
enumerated optimum on random meshed grids) and a valid bound whenever it stops. mv_oberrhein
(probing until a round fixes nothing: 371 probes, 92 of 137 switches fixed, 4.3e4 radial
topologies left of 3.7e8; then 651 node relaxations; 149 s at load 5): bound 946.463 kW
against the incumbent 946.506 kW, optimal within the 1e-4 gap.

**Path bound of a voltage-controlled bus.** A generator that holds its bus at ``v_set`` (a PV
bus) must exchange whatever reactive power makes the voltage drop along its bus's path to the
source end at ``v_set``; with a fractional ``y`` on that path the big-M voltage rows let the
relaxation decouple the bus from the source and skip that reactive power (and its losses).
Every radial topology closes exactly one simple path ``p`` from the PV bus ``b`` to the
sources (merged into one node) and opens every other branch between two nodes of ``p`` (it
would close a loop, or join two sources), so the relaxation with ``p`` fixed closed and those
chords open bounds every topology whose path is ``p``, and ``min_p`` of these values bounds
every topology (:func:`path_bound`; the max over the PV buses). Measured on a 20 kV grid with
two substations and a CHP held at 1.01 p.u. between feeders at 1.00 and 1.046 p.u.
(/work/notes/dso_bound.md): root bound 64.87 kW, 23 paths, path bound 91.30 kW in 1.1 s,
optimum 111.80 kW (enumerated); the loop branch-and-bound had stayed at 69.57 kW after 1152
relaxations. The loop branch-and-bound branches on these paths first (its root's children,
for the PV bus with the fewest paths), so that every node below keeps its path closed and
the bus coupled to its source: on that grid, with the incumbent 111.80 kW from the PV-path starts of
:mod:`~feederopt.algorithms.heuristics`, the run proves it optimal within the 1e-4 gap in
21 s (the bound had stayed at the flat path bound 91.30 kW for 120 s without it).

The relaxation with the fixed switches closed is a lower bound of every topology below the
cutoff, hence of the optimum when the incumbent is not already optimal within the gap (a
proven lower bound before the master's root).

Measured (all switches probed, cutoff from the known optimum): fixed closed and root gap of
the relaxation before -> after: case33bw 12 of 36, 11.94 -> 11.54 %; case69bw 16 of 44,
20.83 -> 19.10 %; case70da 56 of 72, 1.52 -> 0.27 %; case118zh 35 of 122 (19.6 s), bound
811.8 kW (gap 6.66 %); case136ma 37 of 105 (18.2 s), gap 2.73 %.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from feederopt.algorithms.slaves import dpp_pays
from feederopt.formulations.blocks import Group, Sense
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import bottleneck_cycle, bottleneck_loop
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.solvers import interrupt
from feederopt.solvers.cvxpy_backend import ConicSolution, CvxpyModel, time_limit_options
from feederopt.solvers.status import SolverStatus


@dataclass
class ProbeResult:
    """The switches fixed closed, how many were probed and the time spent."""

    closed: list[int] = field(default_factory=list)
    probed: int = 0
    time_s: float = 0.0
    #: The relaxation with the fixed switches closed: its bound [kW, with ``y_const``] and its
    #: optimum (None when nothing was fixed or the solve failed).
    bound: float = -math.inf
    point: dict[str, np.ndarray] | None = None
    #: The loop disjunction's bound [kW, with ``y_const``] (module docstring; -inf: none).
    loop_bound: float = -math.inf
    #: Relaxations solved by the loop branch-and-bound (:func:`loop_branch_bound`), and the
    #: topology (``y``) whose value it proved to be the least below the cutoff (or None).
    loop_solves: int = 0
    loop_optimum: np.ndarray | None = None
    #: The PV buses' path bound [kW, with ``y_const``] (:func:`path_bound`; -inf: none) and
    #: the relaxations it solved.
    path_bound: float = -math.inf
    path_solves: int = 0


class ConicRelaxation:
    """The continuous relaxation of the MISOCP with per-branch bounds ``y_floor <= y <= y_cap``
    as data, built once (cvxpy DPP up to :data:`~feederopt.algorithms.slaves.DPP_MAX_BUSES`
    buses): every probe is a re-solve of one model."""

    def __init__(self, problem: ReconfigurationProblem, solver: str = "CLARABEL") -> None:
        n = problem.pu.n_branch
        block = problem.relaxation_block()
        block.add_group(Group.data("y_cap", np.ones(n)))
        block.add_group(Group.data("y_floor", np.zeros(n)))
        eye = sp.identity(n, format="csr")
        block.add_rows("probe_cap", {"y": eye, "y_cap": -eye}, Sense.LE, np.zeros(n))
        block.add_rows("probe_floor", {"y": -eye, "y_floor": eye}, Sense.LE, np.zeros(n))
        self.n = n
        self.solver = solver
        self.model = CvxpyModel(block, integer=False, dpp=dpp_pays(problem))
        self.build_time_s = self.model.build_time_s

    def solve(self, cap: np.ndarray | None = None, floor: np.ndarray | None = None,
              seconds: float = math.inf) -> ConicSolution:
        """The relaxation with ``cap`` and ``floor`` on ``y`` (default 1 and 0), stopped after
        ``seconds``."""
        self.model.set("y_cap", np.ones(self.n) if cap is None else cap)
        self.model.set("y_floor", np.zeros(self.n) if floor is None else floor)
        return self.model.solve(self.solver, **time_limit_options(self.solver, min(seconds,
                                                                                   1e6)))

    def values(self) -> dict[str, np.ndarray]:
        """The last solve's point."""
        return self.model.values()


def _bound_of(sol: ConicSolution, y_const: float) -> float | None:
    """A probe's proven bound [kW, with ``y_const``]: the optimum less the solver's relative
    tolerance, inf when infeasible, None when it stopped without an answer."""
    if sol.status == SolverStatus.OPTIMAL and math.isfinite(sol.objective):
        return sol.objective + y_const - 1e-6 * max(abs(sol.objective), 1.0)
    if sol.status == SolverStatus.INFEASIBLE:
        return math.inf
    return None


def loop_branch_bound(model: ConicRelaxation, problem: ReconfigurationProblem,
                      open_bound: np.ndarray, floor: np.ndarray, cutoff: float, y_const: float,
                      deadline: float, pv_bus: int | None = None,
                      max_paths: int = 200) -> tuple[float, int, np.ndarray | None]:
    """The loop bound carried deeper: a best-first branch-and-bound over the loops, each node
    a set ``O`` of branches opened and a set ``C`` closed, its value the relaxation with ``O``
    open and ``C`` and the fixed switches ``floor`` closed (a lower bound of every topology
    that opens ``O`` and closes ``C``).

    A node is expanded on the bottleneck loop of the graph without ``O``
    (:func:`~feederopt.network.topology.bottleneck_loop`, by the single-switch values
    ``open_bound``, ``C`` never open): every radial topology opens a branch of it, so the
    children ``O + e`` (``e`` on that loop, not in ``C``) cover every topology of the node. A
    child whose single value or relaxation reaches ``cutoff`` is pruned (it bounds no topology
    below the cutoff); a node whose graph without ``O`` is a forest is one radial topology, and
    its relaxation is that topology's SOCP. The bound is the least value among the nodes left
    (``cutoff`` or more when none is left): every topology below the cutoff lies below one of
    them. One level is the loop bound of the module docstring; when a leaf is the best node
    left, the bound is its value, i.e. the optimum among the topologies below the cutoff is
    proven (the radial structure: every radial topology opens exactly one branch per
    independent loop, so the depth is the number of loops, 6 on mv_oberrhein once its switch
    blocks are contracted).

    With ``pv_bus`` (a PV bus with at most ``max_paths`` simple paths to the merged sources,
    :func:`source_paths`), the root branches on those paths first: child ``p`` closes
    ``C = p`` and opens ``O`` = its chords (:func:`path_chords`); every radial topology closes
    exactly one of these paths (the path bound of the module docstring), and the nodes below
    keep the path closed, so the bus stays coupled to its source in their relaxations. A path
    whose chord cannot open (fixed or in ``floor``) has no topology and no child.

    Stops at ``deadline`` (``time.perf_counter()``) or a stop request (Ctrl-C). Returns the
    bound, the number of relaxations solved and the topology (``y``) of a leaf that attains it
    (None otherwise)."""
    pu = problem.pu
    m = pu.n_branch
    root_value, loop = bottleneck_loop(pu.n_bus, pu.f, pu.t, open_bound, pu.is_source)
    if not loop or not math.isfinite(root_value):
        return root_value, 0, None
    # Nodes: (value, tie-break, opened branches, closed branches, is a leaf); the root's value
    # is the least single value of its first loop, a bound of every topology (the one-level
    # loop bound).
    heap: list[tuple[float, int, tuple[int, ...], tuple[int, ...], bool]] = [
        (root_value, 0, (), (), False)]
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    count = solves = 0
    blocked = ~pu.switchable | (floor > 0)
    paths = None if pv_bus is None else source_paths(pu, pv_bus, max_paths)
    while heap:
        value, _, opened, closed, leaf = heap[0]
        if value >= cutoff:
            return value, solves, None
        if leaf:
            y = np.ones(m)
            y[list(opened)] = 0.0
            return value, solves, y
        if time.perf_counter() >= deadline or interrupt.requested():
            return value, solves, None
        heapq.heappop(heap)
        children: list[tuple[tuple[int, ...], tuple[int, ...], float]] = []
        if paths is not None and not opened and not closed:
            for path in paths:
                chord = path_chords(pu, int(pv_bus or 0), path)
                if np.any(chord & blocked):
                    continue
                sub = tuple(int(k) for k in np.flatnonzero(chord))
                single = max((float(open_bound[k]) for k in sub), default=-math.inf)
                children.append((sub, tuple(sorted(int(k) for k in path)), single))
        else:
            weight = open_bound.copy()
            weight[list(closed)] = math.inf
            keep = np.setdiff1d(np.arange(m), opened)
            _, loop = bottleneck_loop(pu.n_bus, pu.f[keep], pu.t[keep], weight[keep],
                                      pu.is_source)
            for j in loop:
                e = int(keep[j])
                if e in closed or not math.isfinite(open_bound[e]):
                    continue  # never open (on the node's path, or fixed)
                children.append((tuple(sorted((*opened, e))), closed, float(open_bound[e])))
        for child, shut, single in children:
            if single >= cutoff or (child, shut) in seen:
                continue  # pruned by a single value, or known
            seen.add((child, shut))
            left = 0.0 if interrupt.requested() else deadline - time.perf_counter()
            found: float | None = None
            if left <= 0:  # out of time: the parent's value still bounds the child
                child_value = max(value, single)
            else:
                cap = np.ones(m)
                cap[list(child)] = 0.0
                low = floor.copy()
                low[list(shut)] = 1.0
                found = _bound_of(model.solve(cap, low, left), y_const)
                solves += 1
                child_value = max(value, single, -math.inf if found is None else found)
            if child_value >= cutoff:
                continue
            rest = np.setdiff1d(np.arange(m), child)
            is_leaf = found is not None and not bottleneck_loop(
                pu.n_bus, pu.f[rest], pu.t[rest], open_bound[rest], pu.is_source)[1]
            count += 1
            heapq.heappush(heap, (child_value, count, child, shut, is_leaf))
    return cutoff, solves, None  # every topology below the cutoff is pruned


def source_paths(pu: PerUnitNetwork, bus: int, limit: int) -> list[list[int]] | None:
    """Every simple path (branch indices, from ``bus``) from ``bus`` to a source in the graph
    whose sources are merged into one node; None when there are more than ``limit``."""
    hub = -1
    node = np.where(pu.is_source, hub, np.arange(pu.n_bus))
    adj: dict[int, list[tuple[int, int]]] = {}
    for k in range(pu.n_branch):
        a, b = int(node[pu.f[k]]), int(node[pu.t[k]])
        if a != b:
            adj.setdefault(a, []).append((b, k))
            adj.setdefault(b, []).append((a, k))
    paths: list[list[int]] = []
    start = int(node[bus])
    if start == hub:
        return paths
    # Depth-first over simple paths: (node, branches so far, nodes so far).
    stack: list[tuple[int, list[int], frozenset[int]]] = [(start, [], frozenset([start]))]
    while stack:
        at, edges, seen = stack.pop()
        for nxt, k in adj.get(at, []):
            if nxt == hub:
                paths.append([*edges, k])
                if len(paths) > limit:
                    return None
            elif nxt not in seen:
                stack.append((nxt, [*edges, k], seen | {nxt}))
    return paths


def path_chords(pu: PerUnitNetwork, bus: int, path: list[int]) -> np.ndarray:
    """The branches off ``path`` (a :func:`source_paths` path from ``bus``) whose two ends are
    nodes of the path, the sources merged into one node: a radial topology that closes the
    path opens all of them (each would close a loop or join two sources). A boolean mask."""
    node = np.where(pu.is_source, -1, np.arange(pu.n_bus))
    on_path = np.zeros(pu.n_branch, dtype=bool)
    on_path[path] = True
    ends = np.zeros(pu.n_bus + 1, dtype=bool)  # index -1: the merged sources
    ends[node[bus]] = True
    ends[node[pu.f[path]]] = True
    ends[node[pu.t[path]]] = True
    return ~on_path & ends[node[pu.f]] & ends[node[pu.t]]


def path_bound(model: ConicRelaxation, problem: ReconfigurationProblem, floor: np.ndarray,
               cutoff: float, y_const: float, deadline: float,
               max_paths: int = 200) -> tuple[float, int]:
    """The path bound of the PV buses (module docstring): for each bus that a generator holds
    at a voltage, the least over the simple paths ``p`` from it to the (merged) sources of the
    relaxation with ``p`` closed (``y >= 1``), every other branch between two nodes of ``p``
    open (``y <= 0``) and the switches ``floor`` closed; a path whose chord cannot open (a
    fixed branch, or a switch in ``floor``) is no radial topology's and is skipped, a path
    whose value reaches ``cutoff`` bounds no topology below it. The bound is the largest of
    these per-bus values (``cutoff`` or more when every path is cut off). A bus with more than
    ``max_paths`` paths, or whose paths the ``deadline`` (``time.perf_counter()``) or a stop
    request interrupts, or whose relaxation fails on a path, adds nothing. Returns the bound
    [kW, with ``y_const``; -inf: none] and the relaxations solved."""
    pu = problem.pu
    fixed = ~pu.switchable
    best, solves = -math.inf, 0
    for bus in pu.pv_buses()[0]:
        paths = source_paths(pu, int(bus), max_paths)
        if not paths:
            continue
        least = math.inf
        for path in paths:
            if time.perf_counter() >= deadline or interrupt.requested():
                least = -math.inf
                break
            chord = path_chords(pu, int(bus), path)
            if np.any(chord & (fixed | (floor > 0))):
                continue  # a branch that must stay closed would close a loop
            cap = np.where(chord, 0.0, 1.0)
            low = floor.copy()
            low[path] = 1.0
            found = _bound_of(model.solve(cap, low, deadline - time.perf_counter()), y_const)
            solves += 1
            if found is None:
                least = -math.inf
                break
            least = min(least, found)
        best = max(best, least)
    return best, solves


def _branching_pv_bus(pu: PerUnitNetwork, max_paths: int = 200) -> int | None:
    """The PV bus whose source paths the loop branch-and-bound branches on first: the one with
    the fewest paths (at most ``max_paths``), None without one."""
    best: tuple[int, int] | None = None
    for bus in pu.pv_buses()[0]:
        paths = source_paths(pu, int(bus), max_paths)
        if paths and (best is None or len(paths) < best[0]):
            best = (len(paths), int(bus))
    return None if best is None else best[1]


def probe_closed(problem: ReconfigurationProblem, cutoff: float, y_const: float,
                 budget_s: float, order: np.ndarray | None = None,
                 solver: str = "CLARABEL", rounds: int = 1,
                 hard_limit_s: float = math.inf,
                 root_bound: float = -math.inf) -> ProbeResult:
    """The switchable branches whose opening lifts the conic relaxation to ``cutoff`` or above
    (module docstring); ``cutoff`` and the relaxation's value plus ``y_const`` are in kW.
    ``order`` ranks the branches (higher first, e.g. the relaxation's ``y``). A switch found
    closed stays closed in the later probes (``y >= y_floor``); ``rounds`` passes repeat the
    probes of the others until one finds nothing new. Each solve stops at the budget, the
    final one (the bound with the fixed switches closed) at ``hard_limit_s`` (the run's time
    left). ``root_bound`` is the relaxation's bound with nothing fixed [kW, with ``y_const``],
    which the loop bound takes for a switch left unprobed."""
    t0 = time.perf_counter()
    out = ProbeResult()
    pu = problem.pu
    if not math.isfinite(cutoff) or budget_s <= 0:
        return out
    model = ConicRelaxation(problem, solver)
    n = pu.n_branch
    sw = np.flatnonzero(pu.switchable)
    if order is not None:
        sw = sw[np.argsort(-np.asarray(order, float)[sw], kind="stable")]
    floor = np.zeros(n)
    # Per branch, a lower bound of every topology below the cutoff that opens it.
    open_bound = np.where(pu.switchable, root_bound, math.inf)
    for _ in range(rounds):
        found = 0
        for e in sw:
            if floor[e] or time.perf_counter() - t0 > budget_s or interrupt.requested():
                continue
            cap = np.ones(n)
            cap[e] = 0.0
            sol = model.solve(cap, floor, budget_s - (time.perf_counter() - t0))
            out.probed += 1
            if sol.status == SolverStatus.OPTIMAL and math.isfinite(sol.objective):
                # The solver's relative tolerance must not overstate the bound.
                bound = sol.objective + y_const - 1e-6 * max(abs(sol.objective), 1.0)
            elif sol.status == SolverStatus.INFEASIBLE:
                bound = math.inf
            else:
                continue
            open_bound[e] = max(open_bound[e], bound)
            if bound >= cutoff:
                # Later probes keep it closed: a topology below the cutoff has it closed.
                floor[e] = 1.0
                out.closed.append(int(e))
                found += 1
        if not found:
            break
    out.loop_bound = bottleneck_cycle(pu.n_bus, pu.f, pu.t, open_bound, pu.is_source)
    if len(pu.pv_buses()[0]) and not interrupt.requested():
        out.path_bound, out.path_solves = path_bound(
            model, problem, floor, cutoff, y_const, t0 + budget_s)
        out.loop_bound = max(out.loop_bound, out.path_bound)
    left = budget_s - (time.perf_counter() - t0)
    if left > 0 and out.loop_bound < cutoff and not interrupt.requested():
        deep, out.loop_solves, out.loop_optimum = loop_branch_bound(
            model, problem, open_bound, floor, cutoff, y_const, time.perf_counter() + left,
            pv_bus=_branching_pv_bus(pu))
        out.loop_bound = max(out.loop_bound, deep)
    if out.closed and not interrupt.requested():
        sol = model.solve(None, floor, hard_limit_s - (time.perf_counter() - t0))
        if sol.status == SolverStatus.OPTIMAL and math.isfinite(sol.objective):
            out.bound = sol.objective + y_const - 1e-6 * max(abs(sol.objective), 1.0)
            out.point = model.values()
    out.time_s = time.perf_counter() - t0
    return out
