"""Persistent HiGHS backend: a block as a MILP whose cones become outer-approximation cuts.

The model is passed to HiGHS once; cuts are added as rows afterwards, so every Benders
iteration re-solves the same model object (HiGHS keeps its presolve and basis machinery).

Outer approximation of a second-order cone ``||X x|| <= T x`` at a point ``x0``
(Duran & Grossmann, Math. Prog. 36, 1986; Fletcher & Leyffer, Math. Prog. 66, 1994):
with ``d = X x0 / ||X x0||``, the half-space ``d . (X x) <= T x`` contains the cone because
``d . w <= ||w||`` for a unit vector ``d``. The cut is valid at any point, not only at
optimal ones, and tight at ``x0`` when ``x0`` lies on the cone's boundary.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Cones, Role, Sense, Terms
from feederopt.formulations.outer import tangent_rows
from feederopt.solvers import interrupt
from feederopt.solvers.least_squares import StageOutcome, least_norm_point
from feederopt.solvers.status import SolverStatus

INF = highspy.kHighsInf
#: HiGHS's default ``mip_max_improving_sols`` (kHighsIInf: no limit, search to the optimum).
_MAX_IMPROVING_DEFAULT = int(getattr(highspy, "kHighsIInf", 2147483647))


@dataclass
class MilpSolution:
    status: str  # optimal | solution_limit | time_limit | interrupted | infeasible | error
    objective: float  # best primal value (nan when none)
    bound: float  # proven lower bound (dual bound)
    solve_time_s: float
    has_solution: bool
    nodes: int = 0
    lp_iterations: int = 0


_BANNER_SILENCED = False


def _flush_c_stdout() -> None:
    """Flush the C library's buffered standard output (where HiGHS writes)."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library to load by name (Windows)
        pass


def new_highs() -> highspy.Highs:
    """A new ``highspy.Highs`` object, without HiGHS's banner on standard output.

    HiGHS prints "Running HiGHS <version> ...: Copyright ..." on the process's file descriptor
    1 when the first object of the process is made, before any option can turn its output off;
    ``feederopt info FILE.dss --json`` then printed it ahead of the JSON, and ``--quiet`` runs
    printed it too. The first object is made with descriptor 1 pointed at the null device
    (C buffers flushed before and after); later objects print no banner."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        return highspy.Highs()
    _BANNER_SILENCED = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no descriptor 1 to point elsewhere
        return highspy.Highs()
    _flush_c_stdout()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
        _flush_c_stdout()
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)
    return h


#: A run still going this long past its time limit is stopped by the interrupt callbacks:
#: ``OVERRUN_GRACE_S`` plus ``OVERRUN_GRACE_SHARE`` of the limit. HiGHS checks its own limit
#: only at certain points; a 300 s robust schedule once spent 755 s in one solve of its
#: radial start on a loaded machine (not reproduced), while its simplex and MIP callbacks kept
#: being called.
OVERRUN_GRACE_S = 5.0
OVERRUN_GRACE_SHARE = 0.1


class HighsModel:
    """A block in a persistent ``highspy.Highs`` object (linear rows plus OA cuts)."""

    def __init__(
        self,
        block: Block,
        *,
        objective: dict[str, np.ndarray] | None = None,
        extra_columns: dict[str, tuple[float, float, float]] | None = None,
        threads: int = 1,
        verbose: bool = False,
    ) -> None:
        if block.on_off:  # a slave's block (fixed_topology_form): only CvxpyModel states them
            raise ValueError("a block with on/off bounds (a slave's) is for CvxpyModel")
        t0 = time.perf_counter()
        self.block = block
        self.h = new_highs()
        self._warm = False  # a warm start was given for the next solve
        self.h.setOptionValue("output_flag", verbose)
        self.h.setOptionValue("threads", threads)
        self.h.setOptionValue("mip_rel_gap", 1e-6)
        # A stop request (Ctrl-C, SIGTERM: feederopt.solvers.interrupt) ends a solve within a
        # callback's period: HiGHS asks these callbacks during branch and bound, simplex and IPM
        # whether to stop, and running them (Python code) lets the signal handler run too.
        # The same callbacks stop a run that overran its time limit (OVERRUN_GRACE_S).
        self._deadline = math.inf
        self.overran = False  # the last solve was stopped by that guard
        self.time_limit_s = math.inf  # per run, as set by set_time_limit
        self._relaxed = False  # set_relaxation(True): the next runs solve the LP relaxation

        def stop(event: Any) -> None:
            # the flag is written every call: HiGHS keeps it in the object's callback input,
            # so one set in an earlier run would stop every later run at its first callback
            late = not interrupt.requested() and time.perf_counter() > self._deadline
            self.overran = self.overran or late
            event.interrupt(interrupt.requested() or late)

        for events in (self.h.cbMipInterrupt, self.h.cbSimplexInterrupt, self.h.cbIpmInterrupt):
            events.subscribe(stop)
        self.offset: dict[str, int] = {}
        lb: list[np.ndarray] = []
        ub: list[np.ndarray] = []
        cost: list[np.ndarray] = []
        integ: list[np.ndarray] = []
        n = 0
        obj = objective if objective is not None else block.objective
        for name, g in block.groups.items():
            if g.role is Role.DATA:
                continue
            self.offset[name] = n
            n += g.size
            lb.append(g.lb)
            ub.append(g.ub)
            cost.append(obj.get(name, np.zeros(g.size)))
            integ.append(np.full(g.size, g.integer))
        for name, (lo, hi, c) in (extra_columns or {}).items():
            self.offset[name] = n
            n += 1
            lb.append(np.array([lo]))
            ub.append(np.array([hi]))
            cost.append(np.array([c]))
            integ.append(np.array([False]))
        self.n = n
        lbs = np.concatenate(lb) if lb else np.zeros(0)
        ubs = np.concatenate(ub) if ub else np.zeros(0)
        lbs = np.where(np.isfinite(lbs), lbs, -INF)
        ubs = np.where(np.isfinite(ubs), ubs, INF)
        costs = np.concatenate(cost) if cost else np.zeros(0)
        self.integer = np.concatenate(integ) if integ else np.zeros(0, bool)
        self.h.addVars(n, lbs, ubs)
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        ints = np.flatnonzero(self.integer).astype(np.int32)
        if len(ints):
            self.h.changeColsIntegrality(
                len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger)
            )
        mats, los, his = [], [], []
        self._row_start: list[int] = []  # the first row of each of block.rows in the model
        start = 0
        for rows in block.rows:
            self._row_start.append(start)
            start += rows.m
            a, const = self._matrix(rows.terms, rows.m)
            rhs = rows.rhs - const
            mats.append(a)
            his.append(rhs)
            los.append(rhs if rows.sense is Sense.EQ else np.full(rows.m, -INF))
        if mats:
            self._add_rows(sp.vstack(mats).tocsr(), np.concatenate(los), np.concatenate(his))
        self.n_cuts = 0
        self.build_time_s = time.perf_counter() - t0

    # ----- rows -----------------------------------------------------------------------------
    def _matrix(self, terms: Terms, m: int) -> tuple[sp.csr_matrix, np.ndarray]:
        """Columns of the variables, and the constant that data groups contribute.

        Every group's coefficients go into one COO triplet list, shifted to the group's
        columns, and become one CSR matrix (duplicates summed). Before, each group became an
        ``m x n`` CSR matrix and they were added one by one, each sum copying the rows so
        far: a model of many groups (a schedule's master, 25 scenario copies) spent a quarter
        of its building there."""
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        const = np.zeros(m)
        for g, a in terms.items():
            grp = self.block.groups[g]
            if grp.role is Role.DATA:
                const += a @ np.asarray(grp.value, float)
                continue
            coo = sp.coo_matrix(a)
            rows.append(coo.row)
            cols.append(coo.col + self.offset[g])
            vals.append(coo.data)
        if not rows:
            return sp.csr_matrix((m, self.n)), const
        total = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))),
                              shape=(m, self.n))
        total.sum_duplicates()
        return total, const

    def _add_rows(self, a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> None:
        a.sum_duplicates()
        lo = np.where(np.isfinite(lo), lo, -INF)
        hi = np.where(np.isfinite(hi), hi, INF)
        self.h.addRows(
            a.shape[0], lo, hi, a.nnz,
            a.indptr.astype(np.int32), a.indices.astype(np.int32), a.data.astype(float),
        )

    def add_rows(self, terms: Terms, lo: np.ndarray, hi: np.ndarray) -> None:
        """Add rows ``lo <= sum_g A_g x_g <= hi`` (data groups move to the bounds)."""
        m = len(hi)
        a, const = self._matrix(terms, m)
        self._add_rows(a, np.asarray(lo, float) - const, np.asarray(hi, float) - const)
        self.n_cuts += m

    def add_cut(
        self, coefs: dict[str, tuple[np.ndarray, np.ndarray]], lo: float, hi: float
    ) -> None:
        """One row from sparse coefficients: ``{group: (indices, values)}`` (may be empty:
        the row ``lo <= 0 <= hi``)."""
        idx = np.concatenate([np.zeros(0, int)] + [self.offset[g] + np.asarray(i, int)
                                                   for g, (i, _) in coefs.items()])
        val = np.concatenate([np.zeros(0)] + [np.asarray(v, float) for _, v in coefs.values()])
        a = sp.csr_matrix((val, (np.zeros(len(idx), int), idx)), shape=(1, self.n))
        self._add_rows(a, np.array([lo]), np.array([hi]))
        self.n_cuts += 1

    # ----- outer approximation --------------------------------------------------------------
    def oa_cuts(self, cone: Cones, point: dict[str, np.ndarray], rows: np.ndarray | None = None,
                min_norm: float = 1e-9, min_violation: float | None = None) -> int:
        """Add the OA cut of ``cone`` at ``point`` (group values) for the selected cone rows;
        with ``min_violation``, only where the point violates the cone by that relative amount
        (:func:`feederopt.formulations.outer.tangent_rows`). Returns the number of rows."""
        terms, n = tangent_rows(self.block, cone, point, rows, min_norm, min_violation)
        if n:
            self.add_rows(terms, np.full(n, -np.inf), np.zeros(n))
        return n

    # ----- solving --------------------------------------------------------------------------
    def configure_master(self, *, primal_heuristics: bool,
                         reliable_pseudocosts: int | None, primal_simplex: bool = False) -> None:
        """Settings for a Benders master whose incumbents come from elsewhere (the slaves).

        With a cutoff from a known topology the master's job is a proof, and HiGHS's primal
        heuristics (RINS, RENS, feasibility jump, shifting, ...) spend most of the root on sub-MIPs
        that cannot beat it: on case33bw they took 3.7 s of a 7 s final master solve.
        ``reliable_pseudocosts`` is the number of strong-branching probes after which a pseudo
        cost is trusted (HiGHS default 8; fewer probes cut the strong-branching iterations).
        ``primal_simplex`` solves the LPs with the primal simplex (``simplex_strategy`` 4)
        instead of HiGHS's default choice, the dual simplex.
        """
        for name in ("feasibility_jump", "rens", "rins", "root_reduced_cost", "shifting",
                     "zi_round"):
            self.h.setOptionValue(f"mip_heuristic_run_{name}", primal_heuristics)
        if not primal_heuristics:
            self.h.setOptionValue("mip_heuristic_effort", 0.0)
        if reliable_pseudocosts is not None:
            self.h.setOptionValue("mip_pscost_minreliable", int(reliable_pseudocosts))
        if primal_simplex:
            self.h.setOptionValue("simplex_strategy", 4)

    def least_squares_stage(self, fixed: dict[str, np.ndarray], objective_max: float,
                            groups: tuple[str, ...],
                            near: tuple[str, np.ndarray, float] | None = None,
                            box: tuple[str, np.ndarray, np.ndarray, np.ndarray] | None = None
                            ) -> StageOutcome:
        """A second lexicographic stage on this model's rows (cuts included): with the groups
        in ``fixed`` fixed (the binaries) and the current objective kept as the row
        ``c^T x <= objective_max`` (scaled by ``max |c|`` to a row of order one), minimise
        ``sum x_j^2`` over the columns of ``groups``, a convex QP, solved by Clarabel (an
        interior-point method; HiGHS 1.15's QP solvers stop with a "solve error" on these
        models) with the fixed columns substituted out
        (:func:`feederopt.solvers.least_squares.least_norm_point`). The model is not changed.
        Returns the outcome: its point (``values_of`` gives it by group), ``None`` when
        Clarabel found none that meets the rows, with its status and why.

        ``near = (group, idx, t)``: instead of ``groups``, minimise ``sum (x_j - t)^2`` over
        the columns ``idx`` of ``group`` (the partition's grid-former voltage stage);
        ``box = (group, idx, lo, hi)``: those columns held within ``[lo, hi]`` besides."""
        lp = self.h.getLp()
        n = self.n
        parts = (np.asarray(lp.a_matrix_.value_, float),
                 np.asarray(lp.a_matrix_.index_, np.int64),
                 np.asarray(lp.a_matrix_.start_, np.int64))
        # column-wise once HiGHS has solved the model, row-wise as it was passed before
        am = (sp.csr_matrix(parts, shape=(lp.num_row_, n))
              if lp.a_matrix_.format_ == highspy.MatrixFormat.kRowwise
              else sp.csc_matrix(parts, shape=(lp.num_row_, n)).tocsr())
        rlo = np.asarray(lp.row_lower_, float)
        rhi = np.asarray(lp.row_upper_, float)
        clo = np.asarray(lp.col_lower_, float).copy()
        chi = np.asarray(lp.col_upper_, float).copy()
        for g, v in fixed.items():
            idx = self.offset[g] + np.arange(len(v))
            clo[idx] = v
            chi[idx] = v
        c = np.asarray(lp.col_cost_, float)
        scale = max(1.0, float(np.abs(c).max(initial=0.0)))  # a row of order one
        am = sp.vstack([am, sp.csr_matrix(c / scale)]).tocsr()
        rlo = np.append(rlo, -INF)
        rhi = np.append(rhi, objective_max / scale)
        if box is not None:
            idx = self.offset[box[0]] + np.asarray(box[1], int)
            clo[idx] = np.maximum(clo[idx], box[2])
            chi[idx] = np.minimum(chi[idx], box[3])
        if near is not None:
            cols = self.offset[near[0]] + np.asarray(near[1], int)
            target = np.zeros(n)
            target[cols] = near[2]
            return least_norm_point(am, rlo, rhi, clo, chi, cols, 0.5 * INF, target)
        cols = np.concatenate([self.offset[g] + np.arange(self.block.groups[g].size)
                               for g in groups])
        return least_norm_point(am, rlo, rhi, clo, chi, cols, 0.5 * INF)

    def set_time_limit(self, seconds: float) -> None:
        """Each later :meth:`solve` may run ``seconds`` (wall clock, per run).

        HiGHS 1.x times the two kinds of run differently: its MIP solver against a clock of
        its own, started with each run (``HighsMipSolver::timer_``, HiGHS 1.7 to 1.16), an LP
        against the run time of all the object's solves (``Highs::getRunTime``,
        ERGO-Code/HiGHS#1477, to change in HiGHS 2.0). :meth:`solve` therefore gives HiGHS
        ``seconds`` for a MIP and the run time so far plus ``seconds`` for an LP (the LP
        relaxation, or a model without integer columns). The option is also set here, for
        callers that run ``self.h`` directly."""
        self.time_limit_s = float(max(seconds, 0.01))
        self.h.setOptionValue("time_limit", self.time_limit_s)

    def _mip_run(self) -> bool:
        """Whether the next run is a MIP: integer columns, not the LP relaxation."""
        return bool(self.integer.any()) and not self._relaxed

    def _apply_time_limit(self) -> None:
        """HiGHS's ``time_limit`` for the next run, per :meth:`set_time_limit`."""
        if math.isfinite(self.time_limit_s):
            before = 0.0 if self._mip_run() else float(self.h.getRunTime())
            self.h.setOptionValue("time_limit", before + self.time_limit_s)

    def set_integrality(self, cols: np.ndarray, integer: bool) -> None:
        """Make the columns ``cols`` integer or continuous (what :meth:`solve` reads to tell a
        MIP run from an LP run, and the bound it reports)."""
        cols = np.asarray(cols, dtype=np.int32)
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        self.h.changeColsIntegrality(len(cols), cols, np.full(len(cols), kind))
        self.integer[cols] = bool(integer)

    def set_gap(self, gap: float) -> None:
        """The relative MIP gap at which HiGHS stops."""
        self.h.setOptionValue("mip_rel_gap", float(gap))

    def set_presolve(self, on: bool) -> None:
        """HiGHS's presolve on (its default, ``"choose"``) or off for the next runs. Off: a
        model whose rows are tight to HiGHS's tolerances, which presolve may call infeasible
        while the simplex solves it (a second-phase LP of the resilience planner, user test
        ut43_resil #1)."""
        self.h.setOptionValue("presolve", "choose" if on else "off")

    def set_relaxation(self, relax: bool) -> None:
        """Solve the LP relaxation only (``True``) or the MILP again (``False``)."""
        self.h.setOptionValue("solve_relaxation", bool(relax))
        self._relaxed = bool(relax)

    def set_cutoff(self, bound: float, *, first_improving: bool = False) -> None:
        """Prune every node whose bound is not below ``bound``; with ``first_improving``, stop
        at the first solution that beats it, else (again) search to the optimum (HiGHS's
        ``mip_max_improving_sols`` back at its default)."""
        self.h.setOptionValue("objective_bound", float(bound))
        self.h.setOptionValue("mip_max_improving_sols",
                              1 if first_improving else _MAX_IMPROVING_DEFAULT)

    def set_bounds(self, group: str, lb: np.ndarray, ub: np.ndarray) -> None:
        g = self.block.groups.get(group)
        size = g.size if g is not None else 1
        idx = (self.offset[group] + np.arange(size)).astype(np.int32)
        self.h.changeColsBounds(size, idx, np.asarray(lb, float), np.asarray(ub, float))

    def set_data(self, values: dict[str, np.ndarray]) -> None:
        """New values of data groups (``Role.DATA``): the bounds of the block's rows where they
        appear are set again, ``rhs - sum_g A_g value_g`` as in the constructor; the matrix,
        the columns and HiGHS's basis stay, so the next :meth:`solve` starts from the last
        one's basis. This is the persistent form of building the block again with the new
        data (the same LP, one ``changeRowsBounds`` call per row set instead of a new model).
        Cuts added since hold no data groups and are left as they are."""
        for g, v in values.items():
            grp = self.block.groups[g]
            if grp.role is not Role.DATA:
                raise ValueError(f"set_data: group {g!r} is not a data group")
            v = np.asarray(v, float)
            if v.shape != (grp.size,):
                raise ValueError(f"set_data: group {g!r} has {grp.size} entries, not {v.shape}")
            grp.value = v.copy()
            grp.lb = v.copy()
            grp.ub = v.copy()
        for rows, start in zip(self.block.rows, self._row_start, strict=True):
            if not any(g in values for g in rows.terms):
                continue
            const = np.zeros(rows.m)
            for g, a in rows.terms.items():
                grp = self.block.groups[g]
                if grp.role is Role.DATA:
                    const += a @ np.asarray(grp.value, float)
            hi = rows.rhs - const
            lo = hi if rows.sense is Sense.EQ else np.full(rows.m, -INF)
            idx = np.arange(start, start + rows.m, dtype=np.int32)
            # in highspy's compiled module, not in its type stub (highspy 1.16)
            self.h.changeRowsBounds(  # type: ignore[attr-defined]
                rows.m, idx, np.where(np.isfinite(lo), lo, -INF),
                np.where(np.isfinite(hi), hi, INF))

    def set_row_bounds(self, name: str, lo: np.ndarray | float, hi: np.ndarray | float) -> None:
        """New bounds ``lo <= A x <= hi`` of the block's row set ``name`` (its first set of
        that name; +-inf: that side free), the matrix and the basis kept."""
        for rows, start in zip(self.block.rows, self._row_start, strict=True):
            if rows.name == name:
                idx = np.arange(start, start + rows.m, dtype=np.int32)
                lo = np.broadcast_to(np.asarray(lo, float), (rows.m,))
                hi = np.broadcast_to(np.asarray(hi, float), (rows.m,))
                # in highspy's compiled module, not in its type stub (highspy 1.16)
                self.h.changeRowsBounds(  # type: ignore[attr-defined]
                    rows.m, idx, np.where(np.isfinite(lo), lo, -INF),
                    np.where(np.isfinite(hi), hi, INF))
                return
        raise KeyError(f"set_row_bounds: no row set {name!r}")

    def set_costs(self, costs: dict[str, np.ndarray]) -> None:
        c = np.zeros(self.n)
        for g, v in costs.items():
            c[self.offset[g] + np.arange(len(np.atleast_1d(v)))] = v
        self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), c)

    def warm_start(self, point: dict[str, np.ndarray]) -> None:
        x = np.zeros(self.n)
        for g, off in self.offset.items():
            if g in point:
                v = np.atleast_1d(point[g])
                x[off: off + len(v)] = v
        sol = highspy.HighsSolution()
        sol.col_value = list(x)
        sol.value_valid = True
        self.h.setSolution(sol)
        self._warm = True

    def _point_has_objective(self) -> bool:
        """Whether the solution point's cost is the objective HiGHS reports."""
        lp = self.h.getLp()
        x = np.asarray(self.h.getSolution().col_value, float)
        value = float(np.asarray(lp.col_cost_, float) @ x) + float(lp.offset_)
        obj = float(self.h.getInfo().objective_function_value)
        return abs(value - obj) <= 1e-6 * max(1.0, abs(obj))

    def _arm_deadline(self) -> None:
        """The overrun guard's deadline for the next run: :meth:`set_time_limit`'s limit is
        per run, so it is ``limit`` (plus the grace) from now. (It was the limit less the run
        time of all the object's earlier solves, which HiGHS's MIP clock does not count: a
        Benders master that had run 10 s of a 12 s remainder was cut after 5 s, and the run
        ended short of its time limit as ``feasible``; user test ut_sb #1.)"""
        limit = self.time_limit_s
        self._deadline = (time.perf_counter() + limit + OVERRUN_GRACE_S
                          + OVERRUN_GRACE_SHARE * limit
                          if math.isfinite(limit) else math.inf)

    def solve(self) -> MilpSolution:
        t0 = time.perf_counter()
        self.overran = False
        self._apply_time_limit()
        self._arm_deadline()
        self.h.run()
        if self._warm:
            self._warm = False
            if (self.h.getInfo().primal_solution_status == 2
                    and not self._point_has_objective()):
                # HiGHS 1.16 can report the optimum while its solution is still the warm start
                # (seen on the resilience MILPs when presolve finishes them): solve again
                # without the start
                self.h.clearSolver()
                self.h.run()
        self._deadline = math.inf  # runs outside solve() (schedule probing) have no guard
        status = self.h.getModelStatus()
        info = self.h.getInfo()
        ms = highspy.HighsModelStatus
        has = info.primal_solution_status == 2  # kSolutionStatusFeasible
        obj = float(info.objective_function_value) if has else float("nan")
        is_mip = bool(self.integer.any())
        bound = float(info.mip_dual_bound) if is_mip else obj
        if status == ms.kOptimal:
            name = SolverStatus.OPTIMAL
            if not is_mip:
                bound = obj
        elif status in (ms.kInfeasible,):
            name = SolverStatus.INFEASIBLE
        elif status == ms.kSolutionLimit:
            name = SolverStatus.SOLUTION_LIMIT
        elif status in (ms.kTimeLimit, ms.kIterationLimit):
            name = SolverStatus.TIME_LIMIT
        elif status == ms.kInterrupt:
            # stopped by the overrun guard: a time limit, not the user's stop
            name = SolverStatus.TIME_LIMIT if self.overran else SolverStatus.INTERRUPTED
        elif status in (ms.kObjectiveBound, ms.kObjectiveTarget):
            name = SolverStatus.INFEASIBLE  # nothing better than the objective bound (a cutoff)
        elif status == ms.kUnboundedOrInfeasible:
            name = SolverStatus.INFEASIBLE
        else:
            name = SolverStatus.ERROR
        if not np.isfinite(bound):
            bound = -np.inf
        nodes = int(getattr(info, "mip_node_count", 0) or 0)
        lp_its = int(getattr(info, "simplex_iteration_count", 0) or 0)
        return MilpSolution(name, obj, bound, time.perf_counter() - t0, has, max(nodes, 0),
                            max(lp_its, 0))

    def row_duals(self) -> dict[str, np.ndarray]:
        """The row duals of the last LP solve per row set of the block (cuts added later are
        not included), in HiGHS's sign convention: ``y = d objective / d rhs``, the change of
        the optimal value per unit of the row's right-hand side (a data group's terms sit in
        the right-hand side, so ``d objective / d data = -terms^T y``)."""
        y = np.asarray(self.h.getSolution().row_dual, float)
        out: dict[str, np.ndarray] = {}
        off = 0
        for rows in self.block.rows:
            part = y[off: off + rows.m]
            out[rows.name] = np.concatenate([out[rows.name], part]) if rows.name in out else part
            off += rows.m
        return out

    def values(self) -> dict[str, np.ndarray]:
        return self.values_of(np.asarray(self.h.getSolution().col_value, float))

    def values_of(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The column vector ``x`` (one entry per column, in the model's order) by group."""
        out = {}
        for g, off in self.offset.items():
            grp = self.block.groups.get(g)
            size = grp.size if grp is not None else 1
            out[g] = x[off: off + size]
        return out

    def record_incumbents(self) -> list[np.ndarray]:
        """A list that every later MIP run fills with each improving solution HiGHS finds
        (its incumbents in the order found, each the column vector of the original model;
        :meth:`values_of` gives it by group), through HiGHS's ``MipImprovingSolution``
        callback. A run stopped at its limit reports only its last incumbent; the earlier
        ones, worse in the model's objective, can be better in another measure (the
        resilience extensive form's plans: ``feederopt.algorithms.resilience``)."""
        found: list[np.ndarray] = []

        def keep(event: Any) -> None:
            found.append(np.array(event.data_out.mip_solution, float))

        self.h.cbMipImprovingSolution.subscribe(keep)
        return found
