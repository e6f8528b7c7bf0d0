"""A Benders master as one SCIP branch-and-bound tree: cuts are added lazily, the tree is kept.

The HiGHS master (:mod:`feederopt.solvers.highs_backend`) re-solves its whole tree after every
round of cuts, because HiGHS calls no lazy-constraint callback. Here the master is a SCIP MILP
(the block's linear rows; its cones are left out and enter as outer-approximation rows) with a
constraint handler that asks an *oracle* about every candidate (branch-and-Benders-cut, after
Codato & Fischetti, "Combinatorial Benders' cuts for mixed-integer linear programming",
Oper. Res. 54(4), 2006, and Rahmaniani, Crainic, Gendreau & Rei, "The Benders decomposition
algorithm: a literature review", EJOR 259(3), 2017, Sec. 5.2):

* ``conscheck`` (a candidate from a heuristic or an integral LP solution): the oracle evaluates
  the topology (a slave solve, cached by the caller) and accepts or rejects it;
* ``consenfolp`` / ``consenfops`` (an integral LP or pseudo solution at a node): the oracle adds
  the topology's cuts with :meth:`ScipMaster.add_cut` / :meth:`ScipMaster.oa_cuts`, and the node
  is re-solved with them (``CONSADDED``); a point whose cuts are all in the model already is
  accepted (it violates them by no more than SCIP's tolerances);
* ``conssepalp`` (a fractional LP solution, optional): the oracle may add outer-approximation
  cuts at it.

A constraint handler that can reject solutions must lock the variables it reads, or SCIP's dual
reductions may fix them against it: one constraint of the handler locks every column in both
directions.

The incumbent is the caller's (its slave solutions); :meth:`ScipMaster.set_cutoff` hands SCIP
the value to beat (``limits/objective``, which SCIP only lets tighten during the solve).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pyscipopt import SCIP_RESULT, Conshdlr

from feederopt.formulations.blocks import Block, Cones, Role, Terms
from feederopt.formulations.outer import tangent_rows
from feederopt.solvers.scip_backend import ZERO_TOL, ScipModel, ScipSolution

#: Check priority of the handler: after every built-in one (linear rows: -1e6), so that a
#: candidate that breaks a row never reaches the slave.
CHECK_PRIORITY = -9_000_000

#: ``oracle(point, enforce)``: True when the master's point (its groups and extra columns) is
#: accepted; with ``enforce``, the oracle may add cuts that cut it off.
Oracle = Callable[[dict[str, np.ndarray], bool], bool]


class _LazyBenders(Conshdlr):
    """The constraint handler of :class:`ScipMaster` (module docstring)."""

    def __init__(self, master: ScipMaster) -> None:
        self.master = master

    def _ask(self, solution: Any, enforce: bool) -> bool:
        master = self.master
        if master.oracle is None:  # not in ScipMaster.run: nothing to ask
            return True
        master.at = solution
        try:
            return master.oracle(master.values(), enforce)
        finally:
            master.at = None

    def conscheck(self, constraints: Any, solution: Any, checkintegrality: Any,
                  checklprows: Any, printreason: Any, completely: Any) -> dict[str, Any]:
        self.master.n_checks += 1
        ok = self._ask(solution, enforce=False)
        return {"result": SCIP_RESULT.FEASIBLE if ok else SCIP_RESULT.INFEASIBLE}

    def _enforce(self) -> dict[str, Any]:
        master = self.master
        master.n_enforce += 1
        before = master.n_cuts
        ok = self._ask(None, enforce=True)
        if ok or master.n_cuts == before:
            return {"result": SCIP_RESULT.FEASIBLE}
        return {"result": SCIP_RESULT.CONSADDED}

    def consenfolp(self, constraints: Any, nusefulconss: Any, solinfeasible: Any
                   ) -> dict[str, Any]:
        return self._enforce()

    def consenfops(self, constraints: Any, nusefulconss: Any, solinfeasible: Any,
                   objinfeasible: Any) -> dict[str, Any]:
        return self._enforce()

    def conssepalp(self, constraints: Any, nusefulconss: Any) -> dict[str, Any]:
        master = self.master
        if master.separator is None:
            return {"result": SCIP_RESULT.DIDNOTRUN}
        before = master.n_cuts
        master.at = None
        try:
            master.separator(master.values())
        finally:
            master.at = None
        return {"result": SCIP_RESULT.CONSADDED if master.n_cuts > before
                else SCIP_RESULT.DIDNOTFIND}

    def conslock(self, constraint: Any, locktype: Any, nlockspos: int, nlocksneg: int) -> None:
        both = nlockspos + nlocksneg
        for var in self.master.vars:
            self.master.model.addVarLocksType(var, locktype, both, both)


class ScipMaster(ScipModel):
    """A block's linear rows as a SCIP MILP with lazy Benders cuts (module docstring).

    The cut methods have the signatures of :class:`~feederopt.solvers.highs_backend.HighsModel`
    (``add_rows``, ``add_cut``, ``oa_cuts``, ``values``), so one master helper serves both; in a
    callback, :meth:`values` is the point being checked or enforced. ``cones=True`` keeps the
    block's cones as SCIP second-order-cone constraints (SCIP separates them itself).
    """

    def __init__(self, block: Block, *, objective: dict[str, np.ndarray] | None = None,
                 extra_columns: dict[str, tuple[float, float, float]] | None = None,
                 params: dict[str, Any] | None = None, separate: bool = False,
                 cones: bool = False, objective_offset: float = 0.0) -> None:
        super().__init__(block, objective=objective, params=params, cones=cones,
                         extra_columns=extra_columns, objective_offset=objective_offset)
        self.extra = list(extra_columns or {})
        self.oracle: Oracle | None = None
        self.separator: Callable[[dict[str, np.ndarray]], None] | None = None
        self.at: Any = None  # the solution a callback asks about (None: the LP's)
        self.in_solve = False
        self.n_cuts = 0
        self.n_checks = 0
        self.n_enforce = 0
        handler = _LazyBenders(self)
        self.model.includeConshdlr(
            handler, "feederopt_benders", "lazy Benders cuts of the slave",
            sepapriority=0 if separate else -1, enfopriority=-1, chckpriority=CHECK_PRIORITY,
            sepafreq=1 if separate else -1, needscons=True)
        self.model.addPyCons(self.model.createCons(handler, "benders", initial=False,
                                                   separate=separate))

    # ----- rows -----------------------------------------------------------------------------
    def add_rows(self, terms: Terms, lo: np.ndarray, hi: np.ndarray) -> None:
        """Rows ``lo <= sum_g A_g x_g <= hi`` over the block's groups (data groups move to the
        bounds)."""
        m = len(hi)
        a, const = self._matrix(terms, m)
        for i in range(m):
            self._add(self._expr(a, i), float(lo[i] - const[i]), float(hi[i] - const[i]))

    def add_cut(self, coefs: dict[str, tuple[np.ndarray, np.ndarray]], lo: float,
                hi: float) -> None:
        """One row from sparse coefficients ``{group: (indices, values)}``."""
        expr = 0.0
        for g, (idx, val) in coefs.items():
            off = self.offset[g]
            for i, c in zip(np.asarray(idx, int), np.asarray(val, float), strict=True):
                if abs(c) > ZERO_TOL:
                    expr = expr + float(c) * self.vars[off + int(i)]
        self._add(expr, lo, hi)

    def _add(self, expr: Any, lo: float, hi: float) -> None:
        m = self.model
        name = f"cut[{self.n_cuts}]"
        if math.isfinite(lo) and math.isfinite(hi):
            if lo == hi:
                m.addCons(expr == lo, name=name)
            else:
                m.addCons(expr >= lo, name=name + "lo")
                m.addCons(expr <= hi, name=name + "hi")
        elif math.isfinite(lo):
            m.addCons(expr >= lo, name=name)
        elif math.isfinite(hi):
            m.addCons(expr <= hi, name=name)
        self.n_cuts += 1

    def oa_cuts(self, cone: Cones, point: dict[str, np.ndarray], rows: np.ndarray | None = None,
                min_norm: float = 1e-9, min_violation: float | None = None) -> int:
        """The tangent rows of ``cone`` at ``point``
        (:func:`feederopt.formulations.outer.tangent_rows`); the number added."""
        terms, n = tangent_rows(self.block, cone, point, rows, min_norm, min_violation)
        if n:
            self.add_rows(terms, np.full(n, -np.inf), np.zeros(n))
        return n

    # ----- values and solving ---------------------------------------------------------------
    def values(self) -> dict[str, np.ndarray]:
        """In a callback: the point asked about; after the solve: the best solution."""
        sol = self.at if self.in_solve else self._sol
        m = self.model
        get = m.getSolVal
        if not self.in_solve and sol is None:
            return {g: np.zeros(self.block.groups[g].size) if g in self.block.groups
                    else np.zeros(1) for g in self.offset}
        out: dict[str, np.ndarray] = {}
        for name, off in self.offset.items():
            g = self.block.groups.get(name)
            size = 1 if g is None else g.size
            out[name] = np.array([get(sol, self.vars[off + k]) for k in range(size)])
        for name, g in self.block.groups.items():
            if g.role is Role.DATA:
                out[name] = np.asarray(g.value, float).copy()
        return out

    def set_bounds(self, group: str, lb: np.ndarray, ub: np.ndarray) -> None:
        """New bounds of a group's columns (before the solve)."""
        off = self.offset[group]
        for k, (lo, hi) in enumerate(zip(lb, ub, strict=True)):
            var = self.vars[off + k]
            self.model.chgVarLb(var, float(lo) if np.isfinite(lo) else None)
            self.model.chgVarUb(var, float(hi) if np.isfinite(hi) else None)

    def set_cutoff(self, value: float) -> None:
        """Only solutions below ``value`` count (SCIP's objective limit; it only tightens)."""
        if value < self.model.getObjlimit():
            self.model.setObjlimit(float(value))

    def run(self, oracle: Oracle, time_limit_s: float, gap: float,
            separator: Callable[[dict[str, np.ndarray]], None] | None = None) -> ScipSolution:
        """Solve once with the oracle (and the fractional-point separator, when given)."""
        self.oracle, self.separator = oracle, separator
        self.in_solve = True
        t0 = time.perf_counter()
        try:
            sol = self.solve(time_limit_s=time_limit_s, gap=gap)
        finally:
            self.in_solve = False
        sol.stats.update(checks=self.n_checks, enforcements=self.n_enforce, lazy_rows=self.n_cuts,
                         lp_iterations=int(self.model.getNLPIterations()))
        sol.solve_time_s = time.perf_counter() - t0
        return sol
