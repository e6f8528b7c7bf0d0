"""Fast start topologies for the exact methods.

* :func:`sequential_opening` -- Shirmohammadi & Hong, "Distribution system reconfiguration for
  loss reduction", IEEE TPWRD 4(2), 1989: close every switch, solve the (meshed) optimal flow,
  open the closed switch that carries the least current and does not disconnect a bus, repeat
  until the grid is radial. One SOCP per round; on large grids a round opens up to a quarter of
  the switches still to open (least current first, each checked against the bridges of the
  graph left by the ones before), so that a 1000-bus feeder needs about 15 SOCPs, not 75.
* :func:`relaxation_rounding` -- the maximum spanning forest of the apparent power flows of the
  MISOCP's continuous relaxation (the meshed optimal flow with fractional switch states, which
  Benders computes for its first bound anyway): the branches that carry least stay open, as in
  sequential opening, but all at once, in milliseconds instead of one SOCP per round (cf. the
  rounding of a convex relaxation in Jabr, Singh & Pal, IEEE TPWRS 27(2), 2012, and the
  spanning-tree view of Taylor & Hover, IEEE TPWRS 27(3), 2012). Branch exchange then repairs
  what the rounding gets wrong, e.g. a voltage limit (case136ma: 280.2 kW against 285.0 kW
  from sequential opening; on the 1000-bus feeder 2499 kW at once against 2539 kW after 12 s).
* :func:`branch_exchange` -- Civanlar, Grainger, Yin & Lee, "Distribution feeder
  reconfiguration for loss reduction", IEEE TPWRD 3(3), 1988, with the loop-wide search of
  Baran & Wu (IEEE TPWRD 4(2), 1989): for each open switch, close it and open a branch of the
  loop it closes. Every candidate is screened by the exact radial power flow
  (:func:`~feederopt.problems.sweep.sweep`, milliseconds) with the DG set-points of the current
  SOCP solution; the best screened exchanges are confirmed by the SOCP slave (limits, DG
  dispatch) and kept when its objective falls.

* :func:`perturbation_search` -- iterated local search (Lourenço, Martin & Stützle, "Iterated
  local search", Handbook of Metaheuristics, 2003): from the best start, apply a few random
  branch exchanges (a "kick", accepted whether or not it worsens the losses), repair by branch
  exchange, keep the result when it beats the best. Branch exchange alone stops in a local
  optimum: on case118zh every start ends at 878.21 kW, and the topology at 869.73 kW is five
  exchanges away, each of which worsens the losses on its own.

* :func:`pv_path_starts` -- for a generator that holds its bus voltage (a PV bus), one start
  per simple path from that bus to the sources: the continuous relaxation with the path closed
  and its chords open, rounded with the path kept. Which source feeds the PV bus decides the
  reactive power it must exchange and its losses, and moving the bus to another path takes
  several exchanges at once that each worsen the losses, so branch exchange from the plain
  rounding stays in the basin of whichever path that rounding picked (dso_mv, a CHP at 1.01
  p.u. between two substations: 140.54 kW against the enumerated optimum 111.80 kW, which
  these starts reach in 2.5 s).

All only propose radial topologies; their value is an upper bound, never a proof. Their time
budgets are :class:`~feederopt.algorithms.base.Deadline` objects, which a stop request (Ctrl-C)
ends at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np

from feederopt.algorithms.base import Deadline, OutOfTime
from feederopt.algorithms.probing import ConicRelaxation, path_chords, source_paths
from feederopt.algorithms.slaves import SlaveFailure, TopologyEvaluator
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import (
    bridges,
    exchanged_parents,
    is_radial_forest,
    loop_path,
    loop_sides,
    max_spanning_forest,
    merge_sources,
    tree_order,
)
from feederopt.problems.reconfiguration import Evaluation
from feederopt.problems.sweep import SweepResult, sweep
from feederopt.solvers.status import SolverStatus


class SweepMemo:
    """The radial sweeps (:func:`~feederopt.problems.sweep.sweep`) of one network's topologies,
    kept by topology and generator injections: the heuristics come back to the same topologies
    again and again (the accepted candidate is the next pass's base, the perturbation search's
    descents share their neighbourhoods), and a topology's flow is the same whenever it is
    asked for (case33bw's start asked 329 sweeps of 133 topologies, case136ma's 2633 of 1860).
    A candidate of a branch exchange from a swept ``base`` gets its tree from the base's in
    O(loop length) (:func:`~feederopt.network.topology.exchanged_parents`) instead of a search.
    At most about a million bus values are kept (the oldest go first): 7000 topologies of
    case136ma, 340 of the 2940-bus lv_schutterwald."""

    def __init__(self, pu: PerUnitNetwork) -> None:
        self.pu = pu
        self.capacity = max(64, 1_000_000 // max(pu.n_bus, 1))
        self.flows: dict[bytes, SweepResult | None] = {}

    def __call__(self, closed: np.ndarray, p_inj: np.ndarray | None = None,
                 q_inj: np.ndarray | None = None, base: SweepResult | None = None,
                 exchange: tuple[int, int] | None = None) -> SweepResult | None:
        """The sweep of ``closed`` (a bool mask) at the injections ``p_inj``, ``q_inj`` (None:
        the set-points); ``exchange`` = (closed branch, opened branch) when ``closed`` is
        ``base``'s topology with that exchange made."""
        key = np.asarray(closed, dtype=bool).tobytes() + (
            b"set" if p_inj is None or q_inj is None else p_inj.tobytes() + q_inj.tobytes())
        if key in self.flows:
            return self.flows[key]
        pu = self.pu
        parents = None
        if base is not None and base.tree is not None and exchange is not None:
            parents = exchanged_parents(pu.f, pu.t, base.tree, *exchange)
        res = sweep(pu, closed, p_inj, q_inj, parents=parents)
        if len(self.flows) >= self.capacity:
            del self.flows[next(iter(self.flows))]
        self.flows[key] = res
        return res


def _memo(pu: PerUnitNetwork, memo: SweepMemo | None) -> SweepMemo:
    return memo if memo is not None and memo.pu is pu else SweepMemo(pu)


def _ok(ev: TopologyEvaluator, y: np.ndarray) -> bool:
    pu = ev.problem.pu
    return bool(is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)[0])


def sequential_opening(ev: TopologyEvaluator, time_limit_s: float = 30.0) -> np.ndarray | None:
    """A radial topology by opening least-current switches (None if none found); past
    ``time_limit_s`` the remaining switches are opened by the last flows without re-solving."""
    pu = ev.problem.pu
    deadline = Deadline(time_limit_s)
    y = np.ones(pu.n_branch)
    to_open = pu.n_branch - (pu.n_bus - int(pu.is_source.sum()))
    f_merged, t_merged = merge_sources(pu.f, pu.t, pu.is_source)
    while to_open > 0:
        try:
            res = ev.evaluate(y, need_gradient=False)
            if not res.feasible:
                res = ev.evaluate_violation(y)
        except SlaveFailure:
            # A meshed intermediate topology need not have a DistFlow point at all (two
            # sources and a generator holding its bus at 1.06 p.u. around one loop: phase 1
            # infeasible); the heuristic gives up, the other starts go on.
            return None
        flow = res.point["P"] ** 2 + res.point["Q"] ** 2
        # Out of time: open all the rest by the last flows (a radial topology all the same).
        late = deadline.expired()
        batch = to_open if late else max(1, to_open // 4)
        opened = 0
        for _ in range(batch):
            closed = np.flatnonzero(y > 0.5)
            # Candidates: closed switchable branches that lie on a loop of the closed graph,
            # with the sources merged into one node (a path between two sources is a loop).
            bridge = np.zeros(pu.n_branch, dtype=bool)
            bridge[closed] = bridges(pu.n_bus, f_merged[closed], t_merged[closed])
            cand = np.flatnonzero((y > 0.5) & pu.switchable & ~bridge)
            if not len(cand):
                break
            y[cand[int(np.argmin(flow[cand]))]] = 0.0
            opened += 1
        if not opened:
            return None
        to_open -= opened
    return y if _ok(ev, y) else None


def relaxation_rounding(ev: TopologyEvaluator, point: dict[str, np.ndarray]) -> np.ndarray | None:
    """A radial topology from a solution ``point`` of the continuous relaxation (groups ``P``
    and ``Q`` per branch): the maximum spanning forest, one source per tree, with the apparent
    power flows ``sqrt(P^2 + Q^2)`` as weights and the non-switchable branches closed first
    (module docstring). None if that forest is not radial (e.g. a free branch joins two
    sources)."""
    pu = ev.problem.pu
    weight = np.hypot(point["P"], point["Q"])
    y = max_spanning_forest(pu.n_bus, pu.f, pu.t, weight, ~pu.switchable,
                            pu.is_source).astype(float)
    if np.any((y < 0.5) & ~pu.switchable) or not _ok(ev, y):
        return None
    return y


#: At most this many source paths per PV bus seed :func:`pv_path_starts` (a bus with more
#: adds none; dso_mv's CHP has 23, of which 13 can close).
PV_PATHS_MAX = 50


def pv_path_starts(ev: TopologyEvaluator, time_limit_s: float,
                   max_paths: int = PV_PATHS_MAX) -> Iterator[np.ndarray]:
    """Radial topologies, one per simple path from a PV bus to the (merged) sources: the
    continuous relaxation with the path closed and its chords open (the node of the path bound,
    :func:`~feederopt.algorithms.probing.path_bound`), rounded as in
    :func:`relaxation_rounding` with the path's branches taken first, so that the start keeps
    the path. A generator that holds its bus voltage makes the losses of a topology depend on
    which source feeds that bus: the plain relaxation decouples the bus (its big-M voltage
    rows), its rounding then lands in an arbitrary path's basin, and changing the path takes
    several exchanges at once, each worse on its own (dso_mv: branch exchange from the
    rounding and from sequential opening ends at 140.54 kW, a local optimum of the full
    one-exchange neighbourhood that shares none of its open branches with the optimum at
    111.80 kW; from these starts it reaches 111.80 kW). Paths whose chords include a branch
    that cannot open, or whose relaxation has no optimum (infeasible: no topology with that
    path fits), give none. Generated lazily until ``time_limit_s``."""
    pu = ev.problem.pu
    deadline = Deadline(time_limit_s)
    model: ConicRelaxation | None = None
    seen: set[bytes] = set()
    for bus in pu.pv_buses()[0]:
        paths = source_paths(pu, int(bus), max_paths)
        for path in paths or []:
            if deadline.expired():
                return
            chord = path_chords(pu, int(bus), path)
            if np.any(chord & ~pu.switchable):
                continue
            if model is None:
                model = ConicRelaxation(ev.problem)
            on_path = np.zeros(pu.n_branch, dtype=bool)
            on_path[path] = True
            sol = model.solve(np.where(chord, 0.0, 1.0), on_path.astype(float),
                              deadline.left())
            if sol.status != SolverStatus.OPTIMAL:
                continue
            point = model.values()
            y = max_spanning_forest(pu.n_bus, pu.f, pu.t, np.hypot(point["P"], point["Q"]),
                                    ~pu.switchable | on_path, pu.is_source)
            if np.any(~y & ~pu.switchable) or not _ok(ev, y.astype(float)):
                continue
            if y.tobytes() not in seen:
                seen.add(y.tobytes())
                yield y.astype(float)


def _within_limits(pu: PerUnitNetwork, y: np.ndarray, memo: SweepMemo | None = None) -> bool:
    """The radial sweep of ``y`` converges within every limit it checks."""
    flow = _memo(pu, memo)(y > 0.5)
    return flow is not None and flow.converged and flow.within_limits(pu)


def _remember(ev: TopologyEvaluator, closed: np.ndarray, res: SweepResult) -> None:
    """Keep a screened topology's power flow in the evaluator's history (when it keeps one):
    its point is the slave's solution when the relaxation is exact, so Benders can take OA
    cuts there (the objective is the losses, used only to rank the points: ``screened``, so
    that Benders never takes it for the slave's value; with a priced import or DG the losses
    alone lie far below it, and a run adopting one as its incumbent stopped with "lower bound
    ... above upper bound" before session 43)."""
    if not ev.keep_history:
        return
    pu = ev.problem.pu
    y = closed.astype(float)
    losses = res.losses * ev.problem.scale
    ev.history.append((y, Evaluation(True, losses, 0.0, np.zeros(pu.n_branch),
                                     {**res.point(pu), "y": y}, 0.0, screened=True)))


def sweep_decides(pu: PerUnitNetwork) -> bool:
    """The sweep gives the slave's answer for a radial topology (when the relaxation is exact):
    no DG to dispatch and no source limits (it checks voltage, current and branch power
    limits itself, :meth:`~feederopt.problems.sweep.SweepResult.within_limits`)."""
    fixed_dg = not pu.n_gen or bool(np.all(pu.gen_p_min == pu.gen_p_max)
                                    and np.all(pu.gen_q_min == pu.gen_q_max))
    return (fixed_dg and not np.any(np.isfinite(pu.source_p_max[pu.is_source]))
            and not np.any(np.isfinite(pu.source_s_max[pu.is_source])))


def sweep_descent(pu: PerUnitNetwork, y: np.ndarray, time_limit_s: float,
                  screen: int = 4, memo: SweepMemo | None = None,
                  ) -> tuple[np.ndarray, SweepResult | None]:
    """Branch exchange on the sweep alone (first improvement, the ``screen`` best estimates of
    each loop): the local optimum and its power flow, None if ``y`` violates a limit."""
    deadline = Deadline(time_limit_s)
    flows = _memo(pu, memo)
    closed = y > 0.5
    base = flows(closed)
    if base is None or not base.converged or not base.within_limits(pu):
        return y, None
    improved = True
    while improved and not deadline.expired():
        improved = False
        tree = tree_order(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
        if tree is None:
            break
        for tie in np.flatnonzero(~closed & pu.switchable):
            sides = loop_sides(pu.f, pu.t, tree[1], tree[2], int(pu.f[tie]), int(pu.t[tie]))
            for _est, k in sorted(exchange_estimates(pu, int(tie), sides, base))[:screen]:
                cand = closed.copy()
                cand[tie], cand[k] = True, False
                res = flows(cand, base=base, exchange=(int(tie), k))
                if (res is not None and res.converged and res.losses < base.losses - 1e-12
                        and res.within_limits(pu)):
                    closed, base, improved = cand, res, True
                    break
            if improved:
                break
    return closed.astype(float), base


def _downward(pu: PerUnitNetwork, side: list[int], bus: int,
              base: SweepResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resistance and the flows ``(P, Q)`` towards the leaves on the branches of ``side``,
    a path listed upwards from ``bus`` (:func:`~feederopt.network.topology.loop_sides`)."""
    p = np.zeros(pu.n_branch) if base.p_branch is None else base.p_branch
    q = np.zeros(pu.n_branch) if base.q_branch is None else base.q_branch
    sign = np.empty(len(side))
    upper = np.empty(len(side), dtype=int)
    for j, k in enumerate(side):
        down = int(pu.t[k]) == bus  # the reference direction f -> t points to the leaves
        sign[j] = 1.0 if down else -1.0
        bus = int(pu.f[k]) if down else int(pu.t[k])
        upper[j] = bus
    idx = np.asarray(side, dtype=int)
    return pu.r[idx] / base.v[upper], sign * p[idx], sign * q[idx]


def exchange_estimates(pu: PerUnitNetwork, tie: int, sides: tuple[list[int], list[int]],
                       base: SweepResult) -> list[tuple[float, int]]:
    """Estimated loss change [p.u.] of each exchange "close ``tie``, open branch ``k`` of its
    loop", for every switchable ``k``, in O(loop length) (after Civanlar et al. 1988).

    Opening ``k`` on the side of end ``a`` moves the part of the tree below ``k`` (carrying
    ``S = (P_k, Q_k)``) to the other end ``b``. With the flows shifted losslessly: below ``k``
    on ``a``'s side a branch with flow ``F`` carries ``S - F`` the other way, above ``k`` it
    carries ``F - S``, on ``b``'s side ``F + S``, the tie carries ``S``; the change is
    ``sum r (F_new^2 - F^2) / v`` over the loop (``P`` and ``Q`` alike, ``v`` the squared
    voltage of the branch's upper bus in the base flow).
    Prefix sums over the loop give every candidate at once. Only a ranking: the exact sweep
    confirms the best ones."""
    a, b = int(pu.f[tie]), int(pu.t[tie])
    out: list[tuple[float, int]] = []
    for side, other, start, other_start in ((sides[0], sides[1], a, b),
                                            (sides[1], sides[0], b, a)):
        if not side:
            continue
        r, fp, fq = _downward(pu, side, start, base)
        ro, op, oq = _downward(pu, other, other_start, base)
        sp_, sq_ = fp, fq  # S of each candidate: its own flow
        s2 = sp_**2 + sq_**2

        def prefix(v: np.ndarray) -> np.ndarray:
            return np.concatenate(([0.0], np.cumsum(v)))

        rr, rp, rq = prefix(r), prefix(r * fp), prefix(r * fq)
        i = np.arange(len(side))
        below_r, below_p, below_q = rr[i], rp[i], rq[i]
        above_r, above_p, above_q = rr[-1] - rr[i + 1], rp[-1] - rp[i + 1], rq[-1] - rq[i + 1]
        delta = (s2 * (below_r + above_r) - 2 * sp_ * (below_p + above_p)
                 - 2 * sq_ * (below_q + above_q) - r * s2
                 + s2 * ro.sum() + 2 * sp_ * (ro * op).sum() + 2 * sq_ * (ro * oq).sum()
                 + pu.r[tie] / base.v[other_start] * s2)
        out.extend((float(d), int(k)) for d, k in zip(delta, side, strict=True)
                   if pu.switchable[k])
    return out


def _subtree_violation(pu: PerUnitNetwork, res: SweepResult, order: np.ndarray,
                       parent_edge: np.ndarray) -> np.ndarray:
    """Per bus, the slack (:meth:`SweepResult.violation`'s terms) that the subtree below it
    needs: a bus's own voltage slack plus its parent branch's current and power slack, summed
    up the tree."""
    one = np.zeros(pu.n_bus)
    load = pu.banded()
    one[load] = (np.clip(pu.v_min[load] ** 2 - res.v[load], 0.0, None)
                 + np.clip(res.v[load] - pu.v_max[load] ** 2, 0.0, None))
    branch = np.zeros(pu.n_branch)
    if res.l_branch is not None:
        lim = np.flatnonzero(np.isfinite(pu.i_max) & (pu.i_max > 0))
        branch[lim] += np.clip((res.l_branch[lim] - pu.i_max[lim] ** 2) / (2 * pu.i_max[lim]),
                               0.0, None)
    if res.p_branch is not None and res.q_branch is not None:
        lim = np.flatnonzero(np.isfinite(pu.s_max))
        branch[lim] += np.clip(np.hypot(res.p_branch[lim], res.q_branch[lim]) - pu.s_max[lim],
                               0.0, None)
    child = order[parent_edge[order] >= 0]
    one[child] += branch[parent_edge[child]]
    sub = one.copy()
    for j in child[::-1]:  # leaves first: each bus adds its subtree to its parent
        k = int(parent_edge[j])
        sub[int(pu.t[k] if pu.f[k] == j else pu.f[k])] += sub[j]
    return sub


def _half_violation(pu: PerUnitNetwork, sub: np.ndarray, depth: np.ndarray,
                    side: list[int]) -> float:
    """The violation below one half of a loop (:func:`~feederopt.network.topology.loop_sides`):
    the subtree of the lower end of its top branch."""
    if not side:
        return 0.0
    k = side[-1]
    low = pu.f[k] if depth[pu.f[k]] > depth[pu.t[k]] else pu.t[k]
    return float(sub[int(low)])


def violation_repair(pu: PerUnitNetwork, y: np.ndarray, time_limit_s: float,
                     screen: int = 6, memo: SweepMemo | None = None,
                     ) -> tuple[np.ndarray, SweepResult | None]:
    """Branch exchange that minimises the total violation of the limits, then the losses
    (lexicographically), on the exact radial sweep alone: the load transfer of Civanlar et al.
    (IEEE TPWRD 3(3), 1988) aimed at the limits instead of the losses.

    The violation of a topology is :meth:`SweepResult.violation` (the phase-1 slack of its
    power flow). Each pass ranks the open switches by the violation hanging below the two
    sides of the loop they close (the subtrees of its two halves), and for each tries opening
    the ``screen`` branches of a violated side with the best loss estimate
    (:func:`exchange_estimates`): opening branch ``k`` of that side moves the part below ``k``
    to the other end of the switch. The first exchange that lowers (violation, losses) is
    taken. Stops at zero violation, a local optimum or ``time_limit_s``. Returns the topology
    and its flow (None if ``y`` is not radial)."""
    deadline = Deadline(time_limit_s)
    flows = _memo(pu, memo)
    closed = y > 0.5
    base = flows(closed)
    if base is None:
        return y, None
    best = (base.violation(pu), base.losses)
    improved = True
    while improved and best[0] > 0 and not deadline.expired():
        improved = False
        tree = tree_order(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
        if tree is None:
            break
        order, parent_edge, depth = tree
        sub = _subtree_violation(pu, base, order, parent_edge)
        ranked: list[tuple[float, int, tuple[list[int], list[int]]]] = []
        for sw in np.flatnonzero(~closed & pu.switchable):
            sides = loop_sides(pu.f, pu.t, parent_edge, depth, int(pu.f[sw]), int(pu.t[sw]))
            score = sum(_half_violation(pu, sub, depth, side) for side in sides)
            if score > 0:
                ranked.append((-score, int(sw), sides))
        ranked.sort(key=lambda item: item[0])
        for _score, tie, sides in ranked:
            if deadline.expired():
                break
            violated = {k for side in sides if _half_violation(pu, sub, depth, side) > 0
                        for k in side}
            estimates = sorted(e for e in exchange_estimates(pu, tie, sides, base)
                               if e[1] in violated)
            for _est, k in estimates[:screen]:
                cand = closed.copy()
                cand[tie], cand[k] = True, False
                res = flows(cand, base=base, exchange=(tie, k))
                if res is None or not res.converged:
                    continue
                value = (res.violation(pu), res.losses)
                if value[0] < best[0] - 1e-12 or (value[0] <= best[0] + 1e-12
                                                  and value[1] < best[1] - 1e-12):
                    closed, base, best, improved = cand, res, value, True
                    break
            if improved:
                break
    return closed.astype(float), base


def radial_base(pu: PerUnitNetwork) -> np.ndarray | None:
    """The grid's own switch states made radial: a spanning forest (one source per tree) of
    the closed branches first, the non-switchable ones before all (Kruskal's order of
    :func:`~feederopt.network.topology.max_spanning_forest`), so that a base case with loops
    loses one switchable branch per loop and an unsupplied part is joined by one of its open
    switches. None when no radial topology keeps every fixed branch closed."""
    weight = pu.initial_closed().astype(float)
    y = max_spanning_forest(pu.n_bus, pu.f, pu.t, weight, ~pu.switchable, pu.is_source)
    if np.any(~y & ~pu.switchable) or not is_radial_forest(pu.n_bus, pu.f, pu.t, y,
                                                           pu.is_source)[0]:
        return None
    return y.astype(float)


def branch_exchange(ev: TopologyEvaluator, y: np.ndarray, time_limit_s: float = 30.0,
                    max_passes: int = 10, screen: int = 4,
                    confirmations: int = 2, memo: SweepMemo | None = None,
                    ) -> tuple[np.ndarray, float]:
    """Improve radial ``y`` by branch exchanges (module docstring); returns (y, objective).

    For each open switch, every switchable branch of its loop is ranked by
    :func:`exchange_estimates`; the ``screen`` best go through the exact sweep, and the
    ``confirmations`` best by the sweep to the SOCP.
    """
    pu = ev.problem.pu
    flows = _memo(pu, memo)
    deadline = Deadline(time_limit_s)
    best = ev.evaluate(y, need_gradient=False)
    value = best.objective if best.feasible else np.inf
    y = y.copy()
    gen_p = np.zeros(pu.n_bus)
    gen_q = np.zeros(pu.n_bus)

    def injections(point: dict[str, np.ndarray]) -> None:
        gen_p[:] = 0.0
        gen_q[:] = 0.0
        if pu.n_gen and "pg" in point:
            np.add.at(gen_p, pu.gen_bus, point["pg"])
            np.add.at(gen_q, pu.gen_bus, point["qg"])

    injections(best.point)
    # Without DG to dispatch or source limits, the sweep is the slave's solution (when the
    # relaxation is exact) and exchanges are taken on its word, checked once per pass.
    trust_sweep = best.feasible and sweep_decides(pu)
    pending = False
    best_y = y.copy()
    # The current topology's tree (parents, depths) and flow, recomputed after an exchange.
    current: tuple[bytes, np.ndarray, np.ndarray, SweepResult] | None = None
    for _ in range(max_passes):
        improved = False
        for tie in np.flatnonzero((y < 0.5) & pu.switchable):
            if deadline.expired():
                break
            closed = y > 0.5
            if current is None or current[0] != closed.tobytes():
                tree = tree_order(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
                flow = flows(closed, gen_p, gen_q)
                if tree is None or flow is None:
                    return best_y, value
                current = (closed.tobytes(), tree[1], tree[2], flow)
            _, parent_edge, depth, base = current
            sides = loop_sides(pu.f, pu.t, parent_edge, depth, int(pu.f[tie]), int(pu.t[tie]))
            ranked = sorted(exchange_estimates(pu, int(tie), sides, base))[:screen]
            screened: list[tuple[float, int]] = []
            for _est, k in ranked:
                cand = closed.copy()
                cand[tie], cand[k] = True, False
                res = flows(cand, gen_p, gen_q, base=base, exchange=(int(tie), k))
                if res is None or not res.converged:
                    continue
                ok = res.within_limits(pu)
                if ok:
                    _remember(ev, cand, res)
                if res.losses < base.losses - 1e-12 and (ok or not trust_sweep):
                    screened.append((res.losses, k))
            for _loss, k in sorted(screened)[:confirmations]:
                cand_y = y.copy()
                cand_y[tie], cand_y[k] = 1.0, 0.0
                if trust_sweep:
                    y, improved, pending = cand_y, True, True
                    break
                res_socp = ev.evaluate(cand_y, need_gradient=False)
                if res_socp.feasible and res_socp.objective < value - 1e-9:
                    y, value, improved = cand_y, res_socp.objective, True
                    injections(res_socp.point)
                    break
        if pending:
            # The exchanges the sweep accepted: one SOCP for the pass confirms them.
            res_socp = ev.evaluate(y, need_gradient=False)
            if res_socp.feasible and res_socp.objective < value - 1e-9:
                value, pending = res_socp.objective, False
                best_y = y.copy()
            else:  # the sweep and the SOCP disagree (limits): confirm one by one from here
                y, trust_sweep, pending, improved = best_y.copy(), False, False, True
        else:
            best_y = y.copy()
        if not improved or deadline.expired():
            break
    return best_y, value


def perturbation_search(ev: TopologyEvaluator, y: np.ndarray, value: float,
                        time_limit_s: float, kicks: int = 3, max_failures: int | None = None,
                        seed: int = 0, memo: SweepMemo | None = None,
                        ) -> tuple[np.ndarray, float]:
    """Iterated local search from radial ``y`` with losses ``value`` (module docstring):
    ``kicks`` random exchanges (a random open switch closes, a random switchable branch of
    its loop opens), then a repair: :func:`sweep_descent` where the sweep decides (the SOCP
    confirms an improvement), else :func:`branch_exchange`. Stops after ``time_limit_s`` or
    ``max_failures`` kicks in a row without improvement (default: four per open switch).
    Returns the best (y, objective); seeded, so a run is repeatable up to the time limit."""
    pu = ev.problem.pu
    flows = _memo(pu, memo)
    deadline = Deadline(time_limit_s)
    rng = np.random.default_rng(seed)
    best_y, best = y.copy(), value
    ties = int(((y < 0.5) & pu.switchable).sum())
    limit = 4 * max(ties, 1) if max_failures is None else max_failures
    failures = 0
    tol = 1e-9 * max(abs(value), 1.0)
    # Where the sweep decides, the repair runs on sweeps alone and the SOCP only confirms an
    # improvement (when the objective is the losses alone: no priced DG).
    by_sweep = sweep_decides(pu) and set(ev.problem.operating_cost()) == {"l"}
    while failures < limit and not deadline.expired():
        cur = best_y.copy()
        for _ in range(kicks):
            closed = cur > 0.5
            tree = tree_order(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
            open_sw = np.flatnonzero(~closed & pu.switchable)
            if tree is None or not len(open_sw):
                break
            tie = int(rng.choice(open_sw))
            path = [k for k in loop_path(pu.f, pu.t, tree[1], tree[2], int(pu.f[tie]),
                                         int(pu.t[tie])) if pu.switchable[k]]
            if path:
                cur[tie], cur[int(rng.choice(path))] = 1.0, 0.0
        left = deadline.left()
        if left <= 0 or not _ok(ev, cur):
            break
        if by_sweep:
            cand_y, flow = sweep_descent(pu, cur, left, memo=flows)
            cand = math.inf
            if flow is not None and flow.losses * ev.problem.scale < best - tol:
                _remember(ev, cand_y > 0.5, flow)
                res = ev.evaluate(cand_y, need_gradient=False)  # the SOCP confirms
                cand = res.objective if res.feasible else math.inf
        else:
            cand_y, cand = branch_exchange(ev, cur, left, memo=flows)
        if cand < best - tol:
            best_y, best, failures = cand_y, cand, 0
        else:
            failures += 1
    return best_y, best


#: The perturbation search's time as a multiple of the time the other start heuristics took
#: (case118zh: they take about 2.5 s and the search reaches 869.73 kW in 2-4 s; on
#: synthetic250, where it finds nothing, an unbounded search would take 30 s).
PERTURBATION_SHARE = 2.0


def start_budget(time_limit_s: float) -> float:
    """Seconds for each start heuristic of a run limited to ``time_limit_s``: a fifth, at most a
    minute (sequential opening of the 1000-bus feeder needs about 11 s)."""
    return min(0.2 * time_limit_s, 60.0)


def start_topologies(ev: TopologyEvaluator, time_limit_s: float,
                     fallback: np.ndarray | None = None,
                     relaxed: dict[str, np.ndarray] | None = None,
                     enough: Callable[[np.ndarray, float], bool] | None = None,
                     ) -> tuple[list[np.ndarray], list[tuple[np.ndarray, Evaluation]]]:
    """Start topologies for an exact method, and every flow computed on the way (slave
    solutions and sweeps) for the master's outer approximation.

    With a solution ``relaxed`` of the continuous relaxation: its rounding, improved by branch
    exchange. Then sequential opening and branch exchange (from ``fallback``, e.g. the base
    case, when sequential opening finds no radial topology). With a PV bus, then the best of
    the :func:`pv_path_starts` (one per source path of the bus), each improved. Each step gets
    at most ``time_limit_s``, and all together at most twice that (so that a rounding that
    converges quickly leaves the time to the classic pair). The perturbation search from the best of
    them then gets at most ``PERTURBATION_SHARE`` times the time they took. ``enough(y,
    value)`` ends the sequence after a step whose topology is good enough (e.g. it closes the
    run's gap against the relaxation's bound: a 5 % gap on the 1000-bus feeder is then proven
    after the rounding, not after the whole budget).

    A start whose power flow breaks a limit is repaired by :func:`violation_repair` before
    branch exchange; when no start meets the limits, the grid's own state (made radial by
    :func:`radial_base` when it has loops) is repaired as one more start. A start that still
    breaks a limit is returned all the same: when no topology meets the limits, the exact
    method reports the least-violating one it saw (lv_schutterwald)."""
    pu = ev.problem.pu
    keep, ev.keep_history = ev.keep_history, True
    history_before = len(ev.history)
    starts: list[np.ndarray] = []
    flows = SweepMemo(pu)  # every heuristic's sweeps, shared
    overall = Deadline(2.0 * time_limit_s)
    t0 = time.perf_counter()

    def left() -> float:
        return min(time_limit_s, overall.left())

    try:
        done = False

        def take(found: tuple[np.ndarray, float]) -> bool:
            starts.append(found[0])
            return enough is not None and math.isfinite(found[1]) and enough(*found)

        def improve(y: np.ndarray) -> tuple[np.ndarray, float]:
            """Branch exchange; a topology whose power flow breaks a limit is first repaired
            by :func:`violation_repair` (and stays a start if it still breaks one: the
            least-violating answer when no topology meets the limits)."""
            flow = flows(y > 0.5) if sweep_decides(pu) else None
            if flow is not None and flow.converged and not flow.within_limits(pu):
                y, flow = violation_repair(pu, y, max(left(), 0.0), memo=flows)
                if flow is None or not flow.within_limits(pu):
                    return y, math.inf
            return branch_exchange(ev, y, max(left(), 0.0), memo=flows)

        if fallback is not None and not _ok(ev, fallback):
            fallback = radial_base(pu)  # the grid's own state with its loops opened
        if relaxed is not None:
            y = relaxation_rounding(ev, relaxed)
            if y is not None:
                done = take(improve(y))
        if left() > 0 and not done:
            y = sequential_opening(ev, left())
            if y is None and fallback is not None:
                y, fallback = fallback, None
            if y is not None:
                done = take(improve(y))
        if left() > 0 and not done and len(pu.pv_buses()[0]):
            # A PV bus: one start per source path of it (:func:`pv_path_starts`), each
            # improved; the best of them is a start.
            found: tuple[np.ndarray, float] | None = None
            for y in pv_path_starts(ev, left()):
                cand = improve(y)
                if found is None or cand[1] < found[1]:
                    found = cand
                if left() <= 0:
                    break
            if found is not None:
                done = take(found)
        if left() > 0 and not done and fallback is not None and not any(
                _within_limits(pu, y, flows) for y in starts):
            # No start meets the limits yet: the grid's own state, repaired, is one more.
            done = take(improve(fallback))
        if starts and left() > 0 and not done:
            values = [ev.evaluate(y, need_gradient=False) for y in starts]
            feasible = [(r.objective, k) for k, r in enumerate(values) if r.feasible]
            if feasible:
                value, k = min(feasible)
                spent = time.perf_counter() - t0
                y, better = perturbation_search(ev, starts[k], value,
                                                min(left(), PERTURBATION_SHARE * spent),
                                                memo=flows)
                if better < value:
                    starts.insert(0, y)
    except OutOfTime:
        pass  # the run's deadline (the evaluator's): the starts found so far
    except SlaveFailure:
        # The conic solver failed on a topology that a heuristic tried: the starts found so
        # far (the exact method stops with its reason if it meets that topology itself).
        pass
    finally:
        ev.keep_history = keep
        known = ev.history[history_before:]
        del ev.history[history_before:]
    return starts, known
