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
(probing until a round fixes nothing, with the presolve of then, which also fixed 8 charging
cables of chains closed (:mod:`feederopt.problems.presolve`): 371 probes, 92 of 137 switches
fixed, 4.3e4 radial topologies left of 3.7e8; then 651 node relaxations; 149 s at load 5):
bound 946.463 kW against the incumbent 946.506 kW, optimal within the 1e-4 gap.

The children of a node partition it: child ``j`` opens the loop's ``j``-th branch (in
increasing single-switch value) and closes the ones before it, so a topology lies in the child
of the first branch it opens, and the closed branches tighten the child's relaxation. A child
is solved only when it reaches the top of the heap (with its parent's value until then), so
children that the bound never reaches cost nothing. A node whose relaxation the solver leaves
inaccurate takes the verified bound of its dual point; one that fails outright keeps its
parent's value and, when it is one radial topology, ends the search there (it was dropped
before, a bound not proven). Bound at a fixed number of relaxations (cutoff from the incumbent
or the published optimum; overlapping eager children -> partition -> partition with lazy
solves): 1-MV-semiurb--0-sw (SimBench, 9 loops) 1000: 146.61 -> 148.50 -> 148.99 kW (cutoff
169.39); 1-MV-urban--0-sw 1000: 222.86 -> 222.91 -> 223.27 kW (247.82); case118zh 1000:
851.28 -> 851.79 -> 852.92 kW; case136ma 1500: 279.24 -> 279.26 -> 279.32 kW; mv_oberrhein
300: 944.20 -> 944.53 -> 944.54 kW; relaxations to the proof: case33bw 115 -> 106 -> 106,
case69bw 376 -> 363 (with the inaccurate nodes' verified bounds in both).

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
relaxations. The loop branch-and-bound branches on these paths first, one level per PV bus
(fewest paths first; :func:`loop_branch_bound`), so that every node below keeps each bus's
path closed and the bus coupled to its source: on that grid, with the incumbent 111.80 kW
from the PV-path starts of :mod:`~feederopt.algorithms.heuristics`, the run proves it optimal
within the 1e-4 gap in 21 s (the bound had stayed at the flat path bound 91.30 kW for 120 s
without it). With a second CHP held at 1.02 p.u. on the far end of feeder A3 (optimum
128.48 kW, every one of its 30,644 radial topologies swept), branching on one bus's paths
left the bound at 93.27 kW after 120 s (probing alone: 108.34 kW after 5,583 relaxations);
one level per bus proves the optimum with 723 relaxations. With a third at 1.02 p.u. on
feeder B2 (optimum 127.61 kW): 104.48 kW after 120 s before, proven optimal in 61 s after
(the heuristics' incumbent was 130.17 kW; the tree's leaf is the optimum).

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
from collections.abc import Sequence
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

    def solve_certified(self, cap: np.ndarray | None = None, floor: np.ndarray | None = None,
                        seconds: float = math.inf) -> ConicSolution:
        """:meth:`solve` with, on Clarabel, the verified weak-duality bound of its dual point
        (``dual_bound``, :meth:`~feederopt.solvers.cvxpy_backend.CvxpyModel.solve_certified`),
        which holds for an inaccurate answer too."""
        self.model.set("y_cap", np.ones(self.n) if cap is None else cap)
        self.model.set("y_floor", np.zeros(self.n) if floor is None else floor)
        return self.model.solve_certified(self.solver, **time_limit_options(
            self.solver, min(seconds, 1e6)))

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


def _certified_bound_of(sol: ConicSolution, y_const: float) -> float | None:
    """:func:`_bound_of`, else the solve's verified dual bound (:meth:`ConicRelaxation.
    solve_certified`, never above its objective) when it has one."""
    found = _bound_of(sol, y_const)
    if found is None and math.isfinite(sol.dual_bound):
        low = min(sol.dual_bound, sol.objective) if math.isfinite(sol.objective) else (
            sol.dual_bound)
        return low + y_const
    return found


#: The loop branch-and-bound in :func:`probe_closed` hands its time to the master when, after
#: ``STALL_CHECK`` of its budget, its bound has closed less than ``STALL_SHARE`` of the gap
#: between its root value and the cutoff (at that pace it would close about a third of it).
#: Measured shares closed after a quarter of the budget: 1-MV-urban--0-sw 0.01-0.04 (the
#: master: bound 223.34 -> 228.55 kW with its time), 1-MV-semiurb--0-sw 0.13-0.20, case118zh
#: 0.18-0.20, case136ma 0.46-0.52; case33bw, case69bw and mv_oberrhein prove or nearly.
STALL_CHECK = 0.25
STALL_SHARE = 0.08

#: Node states of :func:`loop_branch_bound`.
_UNSOLVED, _SOLVED, _LEAF, _STUCK = 0, 1, 2, 3


def loop_branch_bound(model: ConicRelaxation, problem: ReconfigurationProblem,
                      open_bound: np.ndarray, floor: np.ndarray, cutoff: float, y_const: float,
                      deadline: float, pv_buses: Sequence[int] = (),
                      max_paths: int = 200, partition: bool = True,
                      lazy: bool = True, stall: tuple[float, float] | None = None
                      ) -> tuple[float, int, np.ndarray | None]:
    """The loop bound carried deeper: a best-first branch-and-bound over the loops, each node
    a set ``O`` of branches opened and a set ``C`` closed, its value the relaxation with ``O``
    open and ``C`` and the fixed switches ``floor`` closed (a lower bound of every topology
    that opens ``O`` and closes ``C``).

    A node is expanded on the bottleneck loop of the graph without ``O``
    (:func:`~feederopt.network.topology.bottleneck_loop`, by the single-switch values
    ``open_bound``, ``C`` never open): every radial topology opens a branch of it, so the
    children ``O + e`` (``e`` on that loop, not in ``C``) cover every topology of the node;
    with ``partition`` child ``j`` also closes the ``j - 1`` branches before ``e_j``
    (:func:`_loop_children`), which makes them disjoint. With ``lazy`` a child enters the heap
    with ``max(parent value, open_bound[e])`` and its relaxation is solved when it reaches the
    top (then it goes back with that value); otherwise at once. A child whose single value or
    relaxation reaches ``cutoff`` is pruned (it bounds no topology below the cutoff); a node
    whose graph without ``O`` is a forest is one radial topology, and its relaxation is that
    topology's SOCP. An inaccurate relaxation gives the verified bound of its dual point
    (:meth:`ConicRelaxation.solve_certified`); a failed one leaves the node its inherited value,
    and a failed radial topology ends the search with that value as the bound. The bound is
    the least value among the nodes left (``cutoff`` or more when none is left): every
    topology below the cutoff lies below one of them. One level is the loop bound of the
    module docstring; when a leaf is the best node left, the bound is its value, i.e. the
    optimum among the topologies below the cutoff is proven (the radial structure: every
    radial topology opens exactly one branch per independent loop, so the depth is the number
    of loops, 6 on mv_oberrhein once its switch blocks are contracted).

    With ``pv_buses`` (PV buses, in branching order, e.g. :func:`_branching_pv_buses`: fewest
    paths first), the tree first branches on their source paths (:func:`source_paths`, a bus
    with more than ``max_paths`` is left out), one level per bus, then on the loops. At a node
    ``(O, C)`` the children for bus ``b`` are its paths ``p`` with no branch in ``O`` and
    ``C + p`` plus the branches that cannot open (fixed, or in ``floor``) a forest (the sources
    merged), in particular no chord of ``p`` (:func:`path_chords`) among them; child ``p`` is
    ``O' = O + chords(p)``, ``C' = C + p``. They cover the node: a radial topology ``T`` (every
    bus fed by one source) below the cutoff that opens ``O`` and closes ``C`` closes exactly one
    path ``p`` from ``b`` to the merged sources (the path bound of the module docstring); ``p``
    avoids ``O`` because ``T`` opens ``O``; ``C + p`` and the branches that cannot open are
    closed in ``T``, a forest; and ``T`` opens the chords of ``p`` (each would close a loop
    with it), so ``T`` lies in child ``p``. A node with no such path holds no topology below
    the cutoff. The nodes below keep every PV bus's path closed, so the buses stay coupled to
    their sources in the relaxations (where a fractional ``y`` on the path lets the big-M
    voltage rows decouple them). A bus whose path and chords the node already fixes has one
    child, equal to its node, and adds no level.

    Stops at ``deadline`` (``time.perf_counter()``) or a stop request (Ctrl-C), and with
    ``stall = (when, share)`` at ``when`` (``time.perf_counter()``) if the bound has closed less
    than ``share`` of the gap between the root's value and ``cutoff`` by then. Returns the
    bound, the number of relaxations solved and the topology (``y``) of a leaf that attains it
    (None otherwise)."""
    pu = problem.pu
    m = pu.n_branch
    root_value, loop = bottleneck_loop(pu.n_bus, pu.f, pu.t, open_bound, pu.is_source)
    if not loop or not math.isfinite(root_value):
        return root_value, 0, None
    # Nodes: (value, tie-break, opened branches, closed branches, state, PV levels done); the
    # root's value is the least single value of its first loop, a bound of every topology
    # (the one-level loop bound). A child enters unsolved with its parent's value (or its
    # single value, if larger) and is solved when it reaches the top of the heap.
    heap: list[tuple[float, int, tuple[int, ...], tuple[int, ...], int, int]] = [
        (root_value, 0, (), (), _SOLVED, 0)]
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    count = solves = 0
    blocked = ~pu.switchable | (floor > 0)
    # Per PV bus: its paths as (branches of the path, chords) index tuples.
    levels: list[list[tuple[tuple[int, ...], tuple[int, ...]]]] = []
    for bus in pv_buses:
        paths = source_paths(pu, int(bus), max_paths)
        if paths:
            levels.append([(tuple(sorted(int(k) for k in path)),
                            tuple(int(k) for k in np.flatnonzero(
                                path_chords(pu, int(bus), path))))
                           for path in paths])

    def solve(value: float, opened: tuple[int, ...], closed: tuple[int, ...], level: int
              ) -> tuple[float, int, tuple[int, ...], tuple[int, ...], int, int] | None:
        """Node ``(opened, closed)`` with inherited value ``value`` after its relaxation
        (None: cut off); left unsolved when the deadline or a stop request comes first."""
        nonlocal count, solves
        count += 1
        left = deadline - time.perf_counter()
        if left <= 0 or interrupt.requested():
            return value, count, opened, closed, _UNSOLVED, level
        cap = np.ones(m)
        cap[list(opened)] = 0.0
        low = floor.copy()
        low[list(closed)] = 1.0
        found = _bound_of(model.solve(cap, low, left), y_const)
        solves += 1
        if found is None and time.perf_counter() < deadline and not interrupt.requested():
            # Inaccurate (Clarabel's AlmostSolved on 14 of 242 nodes of case69bw): the dual
            # point's verified bound, so that the node is neither lost nor left unbounded.
            found = _certified_bound_of(model.solve_certified(
                cap, low, deadline - time.perf_counter()), y_const)
            solves += 1
        if found is not None and found >= cutoff:
            return None
        rest = np.setdiff1d(np.arange(m), opened)
        loopless = not bottleneck_loop(pu.n_bus, pu.f[rest], pu.t[rest], open_bound[rest],
                                       pu.is_source)[1]
        if found is not None:
            return max(value, found), count, opened, closed, _LEAF if loopless else _SOLVED, level
        if time.perf_counter() >= deadline or interrupt.requested():
            return value, count, opened, closed, _UNSOLVED, level  # stopped: solve it later
        # Failed: the inherited value holds; a radial topology cannot be branched on further.
        return value, count, opened, closed, _STUCK if loopless else _SOLVED, level

    while heap:
        value, _, opened, closed, state, level = heap[0]
        if value >= cutoff:
            return value, solves, None
        if state == _LEAF:
            y = np.ones(m)
            y[list(opened)] = 0.0
            return value, solves, y
        if (state == _STUCK or time.perf_counter() >= deadline
                or interrupt.requested()):
            # _STUCK: one radial topology whose relaxation failed; its value still bounds it
            return value, solves, None
        if stall is not None and time.perf_counter() >= stall[0]:
            if value - root_value < stall[1] * (cutoff - root_value):
                return value, solves, None  # stalled: the time is the master's
            stall = None
        heapq.heappop(heap)
        if state == _UNSOLVED:
            node = solve(value, opened, closed, level)
            if node is not None:
                heapq.heappush(heap, node)
            continue
        children: list[tuple[tuple[int, ...], tuple[int, ...], float]] = []
        while level < len(levels):
            children = _path_children(pu, levels[level], opened, closed, blocked, open_bound)
            level += 1
            if [(c, s) for c, s, _ in children] != [(opened, closed)]:
                break  # a level that branches (or leaves no child)
            children = []  # the bus's path is already closed: no level
        else:
            children = _loop_children(pu, opened, closed, open_bound, partition)
        for child, shut, single in children:
            if single >= cutoff or (child, shut) in seen:
                continue  # pruned by a single value, or known
            seen.add((child, shut))
            count += 1
            node = (max(value, single), count, child, shut, _UNSOLVED, level)
            if not lazy:
                node = solve(*node[:1], child, shut, level)
            if node is not None:
                heapq.heappush(heap, node)
    return cutoff, solves, None  # every topology below the cutoff is pruned


def _loop_children(pu: PerUnitNetwork, opened: tuple[int, ...], closed: tuple[int, ...],
                   open_bound: np.ndarray, partition: bool = True
                   ) -> list[tuple[tuple[int, ...], tuple[int, ...], float]]:
    """The children of node ``(opened, closed)`` on the bottleneck loop of the graph without
    ``opened`` (weights ``open_bound``, ``closed`` never open), as ``(O', C', single)``: one per
    branch ``e`` of the loop that can open (not in ``closed``, finite ``open_bound``), with
    ``O' = O + e`` and ``single = open_bound[e]``. Every radial topology of the node opens a
    branch of the loop, so the children cover the node. With ``partition``, the loop's
    branches are taken in increasing ``open_bound`` and child ``j`` also closes the ``j - 1``
    before it (``C' = C + {e_1 .. e_(j-1)}``): a topology lies in the child of the first
    branch, in that order, that it opens, so the children are disjoint. Without it they
    overlap wherever a topology opens two branches of the loop (loops that share branches).
    A child whose closed branches (with those that cannot open) close a loop holds no radial
    topology and is left out, as are those after it (their closed sets contain it)."""
    weight = open_bound.copy()
    weight[list(closed)] = math.inf
    keep = np.setdiff1d(np.arange(pu.n_branch), opened)
    _, loop = bottleneck_loop(pu.n_bus, pu.f[keep], pu.t[keep], weight[keep], pu.is_source)
    shut = set(closed)
    free = [e for e in (int(keep[j]) for j in loop)
            if e not in shut and math.isfinite(open_bound[e])]
    if not partition:
        return [(tuple(sorted((*opened, e))), closed, float(open_bound[e])) for e in free]
    free.sort(key=lambda e: (float(open_bound[e]), e))
    never = ~np.isfinite(open_bound)  # fixed branches and switches fixed closed
    never[list(closed)] = True
    out = []
    for j, e in enumerate(free):
        if j:
            never[free[j - 1]] = True
            idx = np.flatnonzero(never)
            if bottleneck_loop(pu.n_bus, pu.f[idx], pu.t[idx], np.zeros(len(idx)),
                               pu.is_source)[1]:
                break  # the closed branches close a loop: no radial topology here or after
        out.append((tuple(sorted((*opened, e))), tuple(sorted(shut.union(free[:j]))),
                    float(open_bound[e])))
    return out


def _path_children(pu: PerUnitNetwork, paths: list[tuple[tuple[int, ...], tuple[int, ...]]],
                   opened: tuple[int, ...], closed: tuple[int, ...], blocked: np.ndarray,
                   open_bound: np.ndarray) -> list[tuple[tuple[int, ...], tuple[int, ...],
                                                         float]]:
    """The children of node ``(opened, closed)`` on one PV bus's ``paths`` (each its branches
    and its chords, :func:`loop_branch_bound`): ``(O + chords, C + path, single)`` for each
    path that avoids ``O`` and whose branches, with ``C`` and the ``blocked`` branches (that
    cannot open), form a forest with the sources merged; ``single`` is the largest
    single-switch value ``open_bound`` of a chord the child opens."""
    out = []
    shut_now = blocked.copy()
    shut_now[list(closed)] = True
    free = set(opened)
    for path, chords in paths:
        if free.intersection(path):
            continue
        shut = shut_now.copy()
        shut[list(path)] = True
        idx = np.flatnonzero(shut)
        if bottleneck_loop(pu.n_bus, pu.f[idx], pu.t[idx], np.zeros(len(idx)),
                           pu.is_source)[1]:
            continue  # closes a loop (or joins two sources): no radial topology
        new = [k for k in chords if k not in free]
        single = max((float(open_bound[k]) for k in new), default=-math.inf)
        out.append((tuple(sorted((*opened, *new))), tuple(sorted({*closed, *path})), single))
    return out


#: Depth-first steps (partial paths pushed) per path allowed in :func:`source_paths`, and the
#: steps allowed per branch besides. A meshed grid can have few paths to its sources and an
#: exponential number of partial paths that lead nowhere: on MATPOWER's case_ACTIVSg200 (200
#: buses, 245 branches, 49 generators holding their buses) the enumeration ran for minutes per
#: bus and ``solve --time-limit 30`` never returned. The limit is 40,740 steps on case33bw
#: and 43,160 on 1-MV-urban--0-sw; the most any bus of the literature feeders and SimBench MV
#: rings took when it had 200 paths or fewer (every 15th bus as the generator's): case33bw
#: 726, case69bw 1,515, mv_oberrhein 3,612, 1-MV-semiurb--0-sw 8,419 steps.
PATH_STEPS_PER_PATH = 200
PATH_STEPS_PER_BRANCH = 20


def source_paths(pu: PerUnitNetwork, bus: int, limit: int) -> list[list[int]] | None:
    """Every simple path (branch indices, from ``bus``) from ``bus`` to a source in the graph
    whose sources are merged into one node; None when there are more than ``limit``, or when
    the depth-first search takes more than ``PATH_STEPS_PER_PATH * limit +
    PATH_STEPS_PER_BRANCH * n_branch`` steps (a meshed grid: the callers then treat the bus
    as having too many paths, which only leaves out a heuristic start or a bound level) or a
    stop is requested (Ctrl-C)."""
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
    steps_left = PATH_STEPS_PER_PATH * limit + PATH_STEPS_PER_BRANCH * pu.n_branch
    while stack:
        steps_left -= 1
        if steps_left < 0 or (steps_left % 4096 == 0 and interrupt.requested()):
            return None
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


def _branching_pv_buses(pu: PerUnitNetwork, max_paths: int = 200) -> list[int]:
    """The PV buses whose source paths the loop branch-and-bound branches on first, one level
    each: those with at most ``max_paths`` paths, fewest first (ties by bus index)."""
    counts = []
    for bus in pu.pv_buses()[0]:
        paths = source_paths(pu, int(bus), max_paths)
        if paths:
            counts.append((len(paths), int(bus)))
    return [bus for _, bus in sorted(counts)]


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
        start = time.perf_counter()
        deep, out.loop_solves, out.loop_optimum = loop_branch_bound(
            model, problem, open_bound, floor, cutoff, y_const, start + left,
            pv_buses=_branching_pv_buses(pu),
            stall=(start + STALL_CHECK * left, STALL_SHARE))
        out.loop_bound = max(out.loop_bound, deep)
    if out.closed and not interrupt.requested():
        sol = model.solve(None, floor, hard_limit_s - (time.perf_counter() - t0))
        if sol.status == SolverStatus.OPTIMAL and math.isfinite(sol.objective):
            out.bound = sol.objective + y_const - 1e-6 * max(abs(sol.objective), 1.0)
            out.point = model.values()
    out.time_s = time.perf_counter() - t0
    return out
