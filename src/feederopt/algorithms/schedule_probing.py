"""Switch probing of the schedule master: branches that every optimal daily topology keeps closed.

For a branch ``b`` that may open, the LP relaxation of the master (every integer relaxed) with
``y_b = 0`` is a lower bound ``V_b`` of every first stage that opens ``b``. A feasible first
stage of the master (here: a spanning tree evaluated at fixed ``y``) has a value ``UB``; when
``V_b > UB`` no first stage with ``b`` open reaches ``UB``, so every optimum keeps ``b``
closed and the master may fix ``y_b = 1``: optimality-based fixing, i.e. probing in the sense of
Savelsbergh ("Preprocessing and probing techniques for mixed integer programming problems",
ORSA J. Comput. 6(4), 1994), the LP counterpart of the core engine's conic probing
(:mod:`feederopt.algorithms.probing`). The fixing is exact: the optimum and its value are
unchanged (only first stages worse than ``UB`` are cut off).

* **Order.** The LP relaxation is solved once; each probe changes one column bound and
  re-solves from the previous basis (dual simplex), so a probe costs a fraction of the root LP.
* **Incumbent.** The tree is a maximum spanning tree of the probe values ``V_b`` (Kruskal, J.
  AMS 7(1), 1956; :func:`~feederopt.network.topology.max_spanning_forest`): it opens, loop by
  loop, the branches whose opening costs the relaxation least; then branch exchange from it.
  A tree's value is the relaxed master at fixed ``y`` (an LP: the orientation binaries do not
  touch the cost); the upper bound is the best tree's value with the storage modes fixed
  binary, valid for the master with lazy or binary modes alike.
* **Loop bound.** Every radial topology opens at least one branch of every loop, so the master
  is at least ``max_C min_{b in C} V_b`` (:func:`~feederopt.network.topology.bottleneck_cycle`),
  reported as a diagnostic (the MILP's own bound passes it after a few hundred nodes).

Measured on the 24 h case69bw master (forecast copy, gamma 10 %, Gamma 4/4 h): root LP 3.4918 $,
57 probes, loop bound 3.6620 $; the spanning tree 4.4030 $, after branch exchange 3.941665 $
(the optimum), 27 branches fixed closed, 152 s in all at load 1-2; the MILP with them takes 304
nodes and 519,785 LP iterations (299 s) instead of 490 and 868,037 (513-695 s);
docs/schedule.md, "case69bw master: session 5".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from feederopt.formulations.blocks import Block
from feederopt.formulations.schedule import ScheduleData, always_closed
from feederopt.network.topology import (
    bottleneck_cycle,
    loop_path,
    max_spanning_forest,
    tree_order,
)
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel


@dataclass
class SwitchProbe:
    """What probing found: the branches fixed closed, the tree's value and the bounds."""

    closed: list[int] = field(default_factory=list)
    upper: float = math.inf  # the tree's master value (inf: none valid)
    tree: np.ndarray | None = None  # its y (1 closed)
    root: float = -math.inf  # the LP relaxation
    loop_bound: float = -math.inf
    probed: int = 0
    time_s: float = 0.0
    values: dict[int, float] = field(default_factory=dict)  # V_b per probed branch


def _lp(model: HighsModel, seconds: float) -> float | None:
    """Solve the (relaxed) model; its optimum, or None when not proven optimal in time. HiGHS
    compares its time limit with the run time of all the object's solves, hence the sum."""
    model.set_time_limit(model.h.getRunTime() + seconds)
    model.h.run()
    status = model.h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return math.inf
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    return float(model.h.getInfo().objective_function_value)


def _tree_value(model: HighsModel, tree: np.ndarray, left: Callable[[], float]
                ) -> tuple[float, np.ndarray, dict[str, np.ndarray]] | None:
    """The relaxed master at the topology ``tree`` (its value and point; None if unsolved).
    At a binary ``y`` the orientation binaries do not touch the cost (some binary orientation
    exists for any spanning tree), so the LP is the master's value with the storage modes
    relaxed (:func:`_binary_modes_value` makes them binary)."""
    model.set_bounds("y", tree, tree)
    v = _lp(model, max(left(), 0.01))
    if v is None or not math.isfinite(v):
        return None
    return v, tree.copy(), {g: x.copy() for g, x in model.values().items()}


def _binary_modes_value(d: ScheduleData, model: HighsModel,
                        best: tuple[float, np.ndarray, dict[str, np.ndarray]],
                        left: Callable[[], float]) -> float | None:
    """A value of the binary master at the tree of ``best``: the MILP at fixed ``y`` with the
    storage modes binary (any solution it finds is a feasible first stage, so its value bounds
    the master with binary or lazy modes alike from above; the relaxed tree value alone does
    not, since the relaxation may charge and discharge a unit in the same hour)."""
    grp = model.block.groups.get("z")
    if grp is None or grp.size == 0:
        return best[0]
    z = (model.offset["z"] + np.arange(grp.size)).astype(np.int32)
    model.set_bounds("y", best[1], best[1])
    model.set_integrality(z, True)
    try:
        model.set_time_limit(max(left(), 0.01))  # a MIP run: HiGHS times it on its own
        sol = model.solve()
    finally:
        model.set_integrality(z, False)
    return float(sol.objective) if sol.has_solution and math.isfinite(sol.objective) else None


def _local_search(d: ScheduleData, model: HighsModel, tree: np.ndarray,
                  open_value: np.ndarray, may: np.ndarray, left: Callable[[], float],
                  tries: int = 3) -> tuple[float, np.ndarray, dict[str, np.ndarray]] | None:
    """Branch exchange (Civanlar, Grainger, Yin & Lee, IEEE TPWRD 3(3), 1988) from ``tree``:
    close an open branch, open one of the ``tries`` branches of the loop it closes with the
    lowest probe values, keep the first exchange that lowers the value; until none does or
    the time is out."""
    best = _tree_value(model, tree, left)
    is_source = np.zeros(d.n, bool)
    is_source[d.root] = True
    improved = best is not None
    while improved and best is not None and left() > 0:
        improved = False
        cur = best[1]
        order = tree_order(d.n, d.f, d.t, cur > 0.5, is_source)
        if order is None:
            break
        _, parent_edge, depth = order
        for o in np.flatnonzero((cur < 0.5) & may):
            loop = [c for c in loop_path(d.f, d.t, parent_edge, depth, int(d.f[o]),
                                         int(d.t[o])) if may[c]]
            for c in sorted(loop, key=lambda c: open_value[c])[:tries]:
                if left() <= 0:
                    return best
                cand = cur.copy()
                cand[o], cand[c] = 1.0, 0.0
                got = _tree_value(model, cand, left)
                if got is not None and got[0] < best[0] - 1e-9 * max(1.0, abs(best[0])):
                    best, improved = got, True
                    break
            if improved:
                break
    return best


def probe_switches(d: ScheduleData, master: HighsModel, budget_s: float,
                   block: Block | None = None) -> SwitchProbe:
    """Fix closed in ``master`` (a schedule master with a daily topology ``y``) the branches
    whose opening lifts its LP relaxation above the value of a spanning tree (module
    docstring), within ``budget_s``. The LPs run on a copy of ``block`` (default
    ``master``'s; HiGHS's time limit counts the run time of every solve of one object, so
    ``master``'s stays untouched). ``block`` must be the complete master when ``master``
    holds a relaxation of it (rows added lazily): the tree's value must be a true one."""
    t0 = time.perf_counter()
    out = SwitchProbe()
    # hourly topologies and the DG commitment (whose relaxed u may not round to a feasible
    # first stage) are left out
    if d.hourly or d.commit or "y" not in master.offset or budget_s <= 0:
        return out
    model = HighsModel(master.block if block is None else block)
    # the master's tolerances: at HiGHS's default MIP feasibility tolerance (1e-6) every loss
    # row may be short by 1e-6, which on case69bw lowers a tree's value by ~5e-4 relative
    for option in ("mip_feasibility_tolerance", "primal_feasibility_tolerance"):
        got = master.h.getOptionValue(option)  # (status, value) in highspy 1.15
        model.h.setOptionValue(option, float(got[1] if isinstance(got, tuple) else got))
    n = model.n
    model.set_integrality(np.arange(n), False)
    off = model.offset["y"]
    grp = model.block.groups["y"]
    lb, ub = grp.lb.copy(), grp.ub.copy()
    may = np.flatnonzero((~always_closed(d)) & (lb < 0.5) & (ub > 0.5))

    def left() -> float:
        # a stop request (Ctrl-C, SIGTERM) ends the probing as its budget would: the probes
        # and trees left are not tried (each LP would stop at its first callback anyway,
        # but the loops would go on through every branch)
        return 0.0 if interrupt.requested() else budget_s - (time.perf_counter() - t0)

    try:
        root = _lp(model, max(left(), 0.01))
        if root is None:
            return out
        out.root = root
        for b in may:
            if left() <= 0:
                break
            model.h.changeColBounds(int(off + b), 0.0, 0.0)
            v = _lp(model, max(left(), 0.01))
            model.h.changeColBounds(int(off + b), float(lb[b]), float(ub[b]))
            if v is None:
                continue
            out.probed += 1
            # the LP's tolerance must not overstate the bound
            out.values[int(b)] = v - 1e-7 * max(abs(v), 1.0)
        # per branch, a lower bound of the first stages that open it: the probe's value, the
        # root LP where unprobed, +inf where it never opens
        open_value = np.full(d.m, math.inf)
        open_value[may] = root
        for k, value in out.values.items():
            open_value[k] = value
        is_source = np.zeros(d.n, bool)
        is_source[d.root] = True
        usable = np.flatnonzero(ub > 0.5)  # the branches fixed open are not in the graph
        out.loop_bound = bottleneck_cycle(d.n, d.f[usable], d.t[usable], open_value[usable],
                                          is_source)
        if not out.values or left() <= 0:
            return out
        tree = np.zeros(d.m)
        tree[usable[max_spanning_forest(d.n, d.f[usable], d.t[usable], open_value[usable],
                                        lb[usable] > 0.5, is_source)]] = 1.0
        best = _local_search(d, model, tree, open_value, np.isin(np.arange(d.m), may), left)
        upper = _binary_modes_value(d, model, best, left) if best is not None else None
        if best is None or upper is None:
            return out
        out.upper, out.tree = upper, best[1]
        out.closed = [b for b, v in out.values.items() if v > out.upper]
        if out.closed:
            lb2 = lb.copy()
            lb2[out.closed] = 1.0
            master.set_bounds("y", lb2, ub)
        return out
    finally:
        out.time_s = time.perf_counter() - t0


__all__ = ["SwitchProbe", "probe_switches"]
