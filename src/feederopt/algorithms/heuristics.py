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

Both only propose radial topologies; their value is an upper bound, never a proof. Their time
budgets are :class:`~feederopt.algorithms.base.Deadline` objects, which a stop request (Ctrl-C)
ends at once.
"""

from __future__ import annotations

import numpy as np

from feederopt.algorithms.base import Deadline
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.network.topology import (
    bridges,
    is_radial_forest,
    loop_path,
    max_spanning_forest,
    merge_sources,
    tree_order,
)
from feederopt.problems.reconfiguration import Evaluation
from feederopt.problems.sweep import SweepResult, sweep


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
        res = ev.evaluate(y, need_gradient=False)
        if not res.feasible:
            res = ev.evaluate_violation(y)
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


def _remember(ev: TopologyEvaluator, closed: np.ndarray, res: SweepResult) -> None:
    """Keep a screened topology's power flow in the evaluator's history (when it keeps one):
    its point is the slave's solution when the relaxation is exact, so Benders can take OA
    cuts there (the objective is the losses, used only to rank the points)."""
    if not ev.keep_history:
        return
    pu = ev.problem.pu
    y = closed.astype(float)
    losses = res.losses * ev.problem.scale
    ev.history.append((y, Evaluation(True, losses, 0.0, np.zeros(pu.n_branch),
                                     {**res.point(pu), "y": y}, 0.0)))


def branch_exchange(ev: TopologyEvaluator, y: np.ndarray, time_limit_s: float = 30.0,
                    max_passes: int = 10, reach: int = 12,
                    confirmations: int = 2) -> tuple[np.ndarray, float]:
    """Improve radial ``y`` by branch exchanges (module docstring); returns (y, objective).

    For each open switch, the candidates are the switchable branches of its loop within
    ``reach`` branches of either end; the ``confirmations`` best by the sweep go to the SOCP.
    """
    pu = ev.problem.pu
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
    # Without DG to dispatch, power or source limits, the sweep is the slave's solution (when
    # the relaxation is exact) and exchanges are taken on its word, checked once per pass.
    fixed_dg = not pu.n_gen or bool(np.all(pu.gen_p_min == pu.gen_p_max)
                                    and np.all(pu.gen_q_min == pu.gen_q_max))
    trust_sweep = (fixed_dg and best.feasible and not np.any(np.isfinite(pu.s_max))
                   and not np.any(np.isfinite(pu.source_p_max[pu.is_source]))
                   and not np.any(np.isfinite(pu.source_s_max[pu.is_source])))
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
                flow = sweep(pu, closed, gen_p, gen_q)
                if tree is None or flow is None:
                    return best_y, value
                current = (closed.tobytes(), tree[1], tree[2], flow)
            _, parent_edge, depth, base = current
            path = loop_path(pu.f, pu.t, parent_edge, depth, int(pu.f[tie]), int(pu.t[tie]))
            if not path:
                continue
            near = path[:reach] + path[max(reach, len(path) - reach):]
            screened: list[tuple[float, int]] = []
            for k in near:
                if not pu.switchable[k]:
                    continue
                cand = closed.copy()
                cand[tie], cand[k] = True, False
                res = sweep(pu, cand, gen_p, gen_q)
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


def start_budget(time_limit_s: float) -> float:
    """Seconds for each start heuristic of a run limited to ``time_limit_s``: a fifth, at most a
    minute (sequential opening of the 1000-bus feeder needs about 11 s)."""
    return min(0.2 * time_limit_s, 60.0)


def start_topologies(ev: TopologyEvaluator, time_limit_s: float,
                     fallback: np.ndarray | None = None,
                     relaxed: dict[str, np.ndarray] | None = None,
                     ) -> tuple[list[np.ndarray], list[tuple[np.ndarray, Evaluation]]]:
    """Start topologies for an exact method, and every flow computed on the way (slave
    solutions and sweeps) for the master's outer approximation.

    With a solution ``relaxed`` of the continuous relaxation: its rounding, improved by branch
    exchange. Then sequential opening and branch exchange (from ``fallback``, e.g. the base
    case, when sequential opening finds no radial topology). Each step gets at most
    ``time_limit_s``, and all together at most twice that (so that a rounding that converges
    quickly leaves the time to the classic pair)."""
    keep, ev.keep_history = ev.keep_history, True
    history_before = len(ev.history)
    starts: list[np.ndarray] = []
    overall = Deadline(2.0 * time_limit_s)

    def left() -> float:
        return min(time_limit_s, overall.left())

    try:
        if relaxed is not None:
            y = relaxation_rounding(ev, relaxed)
            if y is not None:
                starts.append(branch_exchange(ev, y, left())[0])
        if left() > 0:
            y = sequential_opening(ev, left())
            if y is None and fallback is not None and _ok(ev, fallback):
                y = fallback
            if y is not None:
                starts.append(branch_exchange(ev, y, max(left(), 0.0))[0])
    finally:
        ev.keep_history = keep
        known = ev.history[history_before:]
        del ev.history[history_before:]
    return starts, known
