"""SCIP backend: a :class:`~feederopt.formulations.blocks.Block` as a PySCIPOpt MISOCP model.

The model is built directly from the block's sparse matrices (no modelling layer in between):
one SCIP column per entry of a variable group (binary, integer or continuous, with the group's
bounds; data groups are constants), one linear constraint per row, and one nonlinear constraint
per cone row, written in the form that SCIP's second-order-cone handler ``nlhdlr_soc`` detects
(SCIP >= 8, Bestuzheva et al., "Enabling research through the SCIP Optimization Suite 8.0",
ACM TOMS 49(2), 2023, Sec. 3.2; Mahajan & Munson, "Exploiting second-order cone structure for
global optimization", 2010):

* ``rotated`` -- a cone ``||x|| <= t`` with an entry ``x_k`` such that ``t + x_k = a u`` and
  ``t - x_k = b v`` are single variables (the rotated cone of DistFlow,
  ``||(2P, 2Q, w - l)|| <= w + l``) becomes the quadratic ``sum_{j != k} x_j^2 <= a b u v``
  with ``a u, b v >= 0`` (bounds implied by the cone). SCIP recognises the hyperbolic form
  ``x^2 + y^2 <= u v`` and separates gradient cuts of the equivalent SOC, on the original
  variables, without auxiliary columns.
* ``norm`` -- ``sqrt(sum_j x_j^2) <= t``, which ``nlhdlr_soc`` also detects.
* ``quadratic`` -- ``sum_j x_j^2 <= t^2`` plus ``t >= 0``, the squared form of cvxpy's SCIP
  interface (which also adds a column and an equality per cone entry); with ``t`` not a single
  variable, SCIP must find the cone by an eigenvalue decomposition. Kept for comparison.

``auto`` (the default) writes rotated cones where the pattern applies, convex quadratics
``sum_j x_j^2 <= T^2`` for cones with a constant right-hand side ``T`` (thermal and source
ratings), and norms otherwise. An entry ``x_j`` that is not a single scaled variable gets an
auxiliary column tied to it by a linear equality, so that the cone stays recognisable.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pyscipopt import SCIP_EVENTTYPE, Eventhdlr, Model, quicksum, sqrt

from feederopt.formulations.blocks import Block, Cones, Role, Sense, Terms
from feederopt.solvers import interrupt
from feederopt.solvers.native_output import native_noise_dropped
from feederopt.solvers.status import SolverStatus

ConeForm = Literal["auto", "rotated", "norm", "quadratic"]

#: SCIP's infinity; larger magnitudes mean "no bound".
SCIP_INF = 1e20
#: Coefficients below this magnitude are dropped from rows and cone entries.
ZERO_TOL = 1e-12

#: SCIP parameters set on every model. SCIP classes the rotated cones as nonconvex constraints
#: (``x^2 + y^2 - u v`` is an indefinite quadratic; only ``nlhdlr_soc`` sees the cone), so by
#: default it runs optimisation-based bound tightening (OBBT, many LP solves at the root) and
#: the MPEC heuristic (Ipopt on a complementarity reformulation). On case33bw they found
#: nothing and took about half the CPU time (21-26 s with them, 10-17 s without, 3 seeds).
#: Other settings tried there (no restarts, fast heuristics, fast separation, less strong
#: branching, no LP-tolerance tightening) were no better or worse.
DEFAULT_PARAMS: dict[str, Any] = {
    "propagating/obbt/freq": -1,
    "heuristics/mpec/freq": -1,
    # SCIP's own Ctrl-C handler would hide the signal from Python's; the stop request goes
    # through feederopt.solvers.interrupt instead (for SIGTERM as well), see _StopOnRequest.
    "misc/catchctrlc": False,
}

#: SCIP statuses that mean "a limit stopped the search" (reported as ``time_limit``).
_LIMITS = frozenset({
    "timelimit", "nodelimit", "totalnodelimit", "stallnodelimit", "memlimit", "sollimit",
    "bestsollimit", "restartlimit", "userinterrupt", "primallimit", "duallimit",
})


@dataclass
class ScipSolution:
    status: str  # optimal | time_limit | interrupted | infeasible | error
    objective: float  # best primal value (nan when none)
    bound: float  # SCIP's dual bound (-inf when none, +inf when infeasible)
    gap: float  # (objective - bound) / max(|objective|, 1e-9); inf without both
    solve_time_s: float
    has_solution: bool
    scip_status: str  # SCIP's own status string
    nodes: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    #: SCIP's bounds over the solve, ``(seconds since it started, primal bound, dual bound)``
    #: in the model's objective (inf / -inf where it had none): a row at every new incumbent
    #: and, at most every :data:`TRACE_PERIOD_S`, one when the dual bound moved.
    trace: list[tuple[float, float, float]] = field(default_factory=list)


#: Seconds between two rows of a :class:`ScipSolution`'s ``trace`` for a moved dual bound.
TRACE_PERIOD_S = 1.0


class _StopOnRequest(Eventhdlr):
    """Interrupts SCIP after a stop request (Ctrl-C, SIGTERM: feederopt.solvers.interrupt).

    SCIP runs in C; this handler is Python code that SCIP calls at every presolving round, LP
    solve and node, so the signal handler runs there too and the solve stops soon after. It
    also keeps SCIP's bounds over the solve (:attr:`ScipSolution.trace`): every new incumbent,
    and a moved dual bound at most every :data:`TRACE_PERIOD_S` seconds."""

    EVENTS = (SCIP_EVENTTYPE.PRESOLVEROUND | SCIP_EVENTTYPE.LPSOLVED
              | SCIP_EVENTTYPE.NODESOLVED | SCIP_EVENTTYPE.BESTSOLFOUND)

    def __init__(self) -> None:
        super().__init__()
        self.trace: list[tuple[float, float, float]] = []
        self.t0 = time.perf_counter()
        self._last = -math.inf

    def start(self) -> None:
        """A new solve: an empty trace, its clock from now."""
        self.trace = []
        self.t0 = time.perf_counter()
        self._last = -math.inf

    def eventinit(self) -> None:
        self.model.catchEvent(self.EVENTS, self)

    def eventexit(self) -> None:
        self.model.dropEvent(self.EVENTS, self)

    def eventexec(self, event: Any) -> None:
        if interrupt.requested():
            self.model.interruptSolve()
            return
        now = time.perf_counter()
        found = event.getType() == SCIP_EVENTTYPE.BESTSOLFOUND
        if not found and now - self._last < TRACE_PERIOD_S:
            return
        try:
            primal = _finite_or_none(float(self.model.getPrimalbound()))
            dual = _finite_or_none(float(self.model.getDualbound()))
        except Exception:  # a stage without bounds (presolving): nothing to record
            return
        row = (now - self.t0, math.inf if primal is None else primal,
               -math.inf if dual is None else dual)
        if found or not self.trace or row[2] != self.trace[-1][2]:
            self.trace.append(row)
            self._last = now


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) and abs(x) < SCIP_INF else None


class ScipModel:
    """A block as a PySCIPOpt model (see module docstring).

    ``objective`` overrides the block's objective; ``cone_form`` picks how cones are written;
    ``params`` are SCIP parameters on top of :data:`DEFAULT_PARAMS`. ``cones=False`` leaves the
    cones out (a MILP whose cones come as outer-approximation rows, the single-tree master of
    :mod:`feederopt.solvers.scip_master`); ``extra_columns`` are continuous columns
    ``{name: (lb, ub, cost)}`` outside the block. ``objective_offset`` is a constant of the
    objective (SCIP's objective offset: its objective, bound, gap and objective limit hold it).
    """

    def __init__(
        self,
        block: Block,
        *,
        objective: dict[str, np.ndarray] | None = None,
        cone_form: ConeForm = "auto",
        params: dict[str, Any] | None = None,
        cones: bool = True,
        extra_columns: dict[str, tuple[float, float, float]] | None = None,
        objective_offset: float = 0.0,
    ) -> None:
        if block.on_off:  # a slave's block (fixed_topology_form): only CvxpyModel states them
            raise ValueError("a block with on/off bounds (a slave's) is for CvxpyModel")
        t0 = time.perf_counter()
        self.block = block
        self.cone_form = cone_form
        self.model = Model("feederopt")
        self.model.hideOutput(True)
        for key, value in {**DEFAULT_PARAMS, **(params or {})}.items():
            self.model.setParam(key, value)
        self._events = _StopOnRequest()
        self.model.includeEventhdlr(self._events, "feederopt_stop",
                                    "interrupt on a stop request")
        self.offset: dict[str, int] = {}
        self.vars: list[Any] = []
        self.n_aux = 0
        self.cone_counts: dict[str, int] = {"rotated": 0, "norm": 0, "quadratic": 0}
        obj = objective if objective is not None else block.objective
        # The objective's constant (``objective_offset``, e.g. the switching cost's ``const``
        # of :meth:`~feederopt.problems.reconfiguration.ReconfigurationProblem.y_cost`, plus
        # the data groups' terms) goes to SCIP as its objective offset: SCIP's objective,
        # dual bound, relative gap (``limits/gap``) and objective limit are then those of the
        # reported objective. Left out, a large constant (1000 kW per normally-closed switch)
        # made SCIP stop at its gap limit on a value thousands of kW below the reported one,
        # a 0.66 % gap on the reported objective, status feasible.
        obj_const = float(objective_offset)
        m = self.model
        for name, g in block.groups.items():
            c = np.asarray(obj.get(name, np.zeros(g.size)), float)
            if g.role is Role.DATA:
                if g.size:
                    obj_const += float(c @ np.asarray(g.value, float))
                continue
            self.offset[name] = len(self.vars)
            binary = g.integer and bool(np.all(g.lb >= 0) and np.all(g.ub <= 1))
            vtype = "B" if binary else ("I" if g.integer else "C")
            for k in range(g.size):
                lb = g.lb[k] if np.isfinite(g.lb[k]) else None
                ub = g.ub[k] if np.isfinite(g.ub[k]) else None
                self.vars.append(
                    m.addVar(f"{name}[{k}]", vtype=vtype, lb=lb, ub=ub, obj=float(c[k]))
                )
        for name, (lo, hi, cost) in (extra_columns or {}).items():
            self.offset[name] = len(self.vars)
            self.vars.append(m.addVar(name, lb=_finite_or_none(lo), ub=_finite_or_none(hi),
                                      obj=float(cost)))
        self.n = len(self.vars)
        if obj_const:
            m.addObjoffset(obj_const)
        for rows in block.rows:
            a, const = self._matrix(rows.terms, rows.m)
            rhs = rows.rhs - const
            self._add_linear(rows.name, a, rhs, rows.sense)
        for cone in block.cones if cones else []:
            self._add_cones(cone)
        self.build_time_s = time.perf_counter() - t0
        self._solved = False
        self._sol: Any = None

    # ----- assembly -------------------------------------------------------------------------
    def _matrix(self, terms: Terms, m: int) -> tuple[sp.csr_matrix, np.ndarray]:
        """``sum_g A_g x_g`` as one CSR matrix over the SCIP columns, and the data constant."""
        rows, cols, vals = [], [], []
        const = np.zeros(m)
        for g, a in terms.items():
            grp = self.block.groups[g]
            if grp.size == 0:
                continue
            if grp.role is Role.DATA:
                const += a @ np.asarray(grp.value, float)
                continue
            coo = sp.coo_matrix(a)
            rows.append(coo.row)
            cols.append(coo.col + self.offset[g])
            vals.append(coo.data)
        if rows:
            total = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(m, self.n),
            )
        else:
            total = sp.csr_matrix((m, self.n))
        total.sum_duplicates()
        total.data[np.abs(total.data) < ZERO_TOL] = 0.0
        total.eliminate_zeros()
        return total, const

    def _expr(self, a: sp.csr_matrix, i: int) -> Any:
        lo, hi = a.indptr[i], a.indptr[i + 1]
        v = self.vars
        return quicksum(c * v[j] for j, c in zip(a.indices[lo:hi], a.data[lo:hi], strict=True))

    def _add_linear(self, name: str, a: sp.csr_matrix, rhs: np.ndarray, sense: Sense) -> None:
        m = self.model
        for i in range(a.shape[0]):
            expr = self._expr(a, i)
            if a.indptr[i] == a.indptr[i + 1]:
                ok = abs(rhs[i]) <= 1e-9 if sense is Sense.EQ else rhs[i] >= -1e-9
                if not ok:  # 0 (<= | ==) rhs fails: an infeasible model, keep it so
                    expr = self._infeasible_var()
                    m.addCons(expr <= -1.0, name=f"{name}[{i}]")
                continue
            if sense is Sense.EQ:
                m.addCons(expr == float(rhs[i]), name=f"{name}[{i}]")
            else:
                m.addCons(expr <= float(rhs[i]), name=f"{name}[{i}]")

    def _infeasible_var(self) -> Any:
        self.n_aux += 1
        return self.model.addVar(f"aux_empty[{self.n_aux}]", lb=0.0, ub=0.0)

    def _entry(self, a: sp.csr_matrix, const: np.ndarray, i: int, name: str) -> tuple[Any, float]:
        """One cone entry as ``(coef * var, 0)``, ``(None, constant)``, or an auxiliary column."""
        lo, hi = a.indptr[i], a.indptr[i + 1]
        k = float(const[i])
        if hi == lo:
            return None, k
        if hi - lo == 1 and abs(k) <= ZERO_TOL:
            return float(a.data[lo]) * self.vars[a.indices[lo]], 0.0
        self.n_aux += 1
        z = self.model.addVar(f"aux_{name}[{self.n_aux}]", lb=None, ub=None)
        self.model.addCons(self._expr(a, i) - z == -k, name=f"aux_{name}[{self.n_aux}]")
        return z, 0.0

    def _add_cones(self, cone: Cones) -> None:
        m = cone.m
        t, t0 = self._matrix(cone.t, m)
        xs = [self._matrix(x, m) for x in cone.xs]
        form = self.cone_form
        pivot = np.full(m, -1)
        if form in ("auto", "rotated"):
            pivot = self._rotated_pivots(t, t0, xs)
        for i in range(m):
            if pivot[i] >= 0:
                self._rotated(cone.name, i, t, xs, int(pivot[i]))
                continue
            entries = [self._entry(a, c, i, cone.name) for a, c in xs]
            squares = quicksum(e * e for e, _ in entries if e is not None)
            const2 = sum(k * k for _, k in entries)
            lo, hi = t.indptr[i], t.indptr[i + 1]
            name = f"{cone.name}[{i}]"
            if hi == lo and form != "norm":
                # Constant right-hand side T: a convex quadratic; T < 0 is infeasible.
                rhs = float(t0[i])
                if rhs < 0:
                    self.model.addCons(self._infeasible_var() <= -1.0, name=name)
                    continue
                self.model.addCons(squares <= rhs * rhs - const2, name=name)
                self.cone_counts["quadratic"] += 1
            elif form == "quadratic":
                texpr = self._expr(t, i) + float(t0[i])
                self.model.addCons(texpr >= 0.0, name=name + "_nonneg")
                self.model.addCons(squares + const2 - texpr * texpr <= 0.0, name=name)
                self.cone_counts["quadratic"] += 1
            else:
                texpr = self._expr(t, i) + float(t0[i])
                self.model.addCons(sqrt(squares + const2) - texpr <= 0.0, name=name)
                self.cone_counts["norm"] += 1

    def _rotated_pivots(
        self, t: sp.csr_matrix, t0: np.ndarray, xs: list[tuple[sp.csr_matrix, np.ndarray]]
    ) -> np.ndarray:
        """Per cone row, an entry ``k`` with ``t + x_k`` and ``t - x_k`` single variables, or -1."""
        m = t.shape[0]
        pivot = np.full(m, -1)
        for k in range(len(xs) - 1, -1, -1):
            a, c = xs[k]
            plus, minus = _clean(t + a), _clean(t - a)
            ok = (
                (np.diff(plus.indptr) == 1)
                & (np.diff(minus.indptr) == 1)
                & (np.abs(t0 + c) <= ZERO_TOL)
                & (np.abs(t0 - c) <= ZERO_TOL)
            )
            pivot = np.where((pivot < 0) & ok, k, pivot)
        return pivot

    def _rotated(
        self, name: str, i: int, t: sp.csr_matrix, xs: list[tuple[sp.csr_matrix, np.ndarray]],
        k: int,
    ) -> None:
        ak = xs[k][0]
        plus, minus = _clean(t[i] + ak[i]), _clean(t[i] - ak[i])
        cu, u = float(plus.data[0]), self.vars[plus.indices[0]]
        cv, v = float(minus.data[0]), self.vars[minus.indices[0]]
        # ||x|| <= t implies t + x_k >= 0 and t - x_k >= 0: make these bounds explicit so that
        # SCIP sees a product of non-negative terms.
        for coef, var in ((cu, u), (cv, v)):
            if coef > 0:
                if var.getLbOriginal() < 0:
                    self.model.chgVarLb(var, 0.0)
            elif var.getUbOriginal() > 0:
                self.model.chgVarUb(var, 0.0)
        entries = [self._entry(a, c, i, name) for j, (a, c) in enumerate(xs) if j != k]
        squares = quicksum(e * e for e, _ in entries if e is not None)
        const2 = sum(c * c for _, c in entries)
        self.model.addCons(squares - (cu * cv) * (u * v) <= -const2, name=f"{name}[{i}]")
        self.cone_counts["rotated"] += 1

    # ----- solving --------------------------------------------------------------------------
    def set_param(self, name: str, value: Any) -> None:
        self.model.setParam(name, value)

    def solve(
        self,
        time_limit_s: float = 600.0,
        gap: float = 1e-4,
        threads: int = 1,
        verbose: bool = False,
    ) -> ScipSolution:
        """Optimise; ``gap`` is SCIP's relative gap limit (``limits/gap``).

        SCIP's branch and bound runs on one thread; ``threads > 1`` only lets the LP solver
        use more (``lp/threads``).
        """
        m = self.model
        if self._solved:
            m.freeTransform()
        self._sol = None
        m.hideOutput(not verbose)
        m.setParam("limits/time", float(min(max(time_limit_s, 0.01), 1e20)))
        m.setParam("limits/gap", float(max(gap, 0.0)))
        m.setParam("lp/threads", int(max(threads, 1)))
        t0 = time.perf_counter()
        self._events.start()
        try:
            # SoPlex's warnings bypass hideOutput (solvers/native_output.py)
            with contextlib.nullcontext() if verbose else native_noise_dropped():
                m.optimize()
        except Exception as exc:  # SCIP errors surface as plain exceptions
            self._solved = True
            return ScipSolution("error", math.nan, -math.inf, math.inf,
                                time.perf_counter() - t0, False, f"error: {exc}")
        self._solved = True
        elapsed = time.perf_counter() - t0
        scip_status = str(m.getStatus())
        has = m.getNSols() > 0
        self._sol = m.getBestSol() if has else None
        objective = float(m.getSolObjVal(self._sol)) if has else math.nan
        raw_bound = _finite_or_none(float(m.getDualbound()))
        if scip_status in ("optimal", "gaplimit"):
            status = SolverStatus.OPTIMAL if has else SolverStatus.ERROR
        elif scip_status in ("infeasible", "inforunbd"):
            status = SolverStatus.INFEASIBLE
        elif scip_status == "userinterrupt":
            status = SolverStatus.INTERRUPTED
        elif scip_status in _LIMITS:
            status = SolverStatus.TIME_LIMIT
        else:
            status = SolverStatus.ERROR
        if status == "infeasible":
            bound = math.inf
        else:
            bound = raw_bound if raw_bound is not None else -math.inf
        if has and math.isfinite(bound):
            bound = min(bound, objective)
            gap_value = (objective - bound) / max(abs(objective), 1e-9)
        else:
            gap_value = math.inf
        stats = {"nodes": int(m.getNTotalNodes()), "aux_columns": self.n_aux,
                 **{f"cones_{k}": v for k, v in self.cone_counts.items()}}
        return ScipSolution(status, objective, bound, gap_value, elapsed, has, scip_status,
                            int(m.getNTotalNodes()), stats, list(self._events.trace))

    def value(self, group: str) -> np.ndarray:
        """The best solution's values of ``group`` (a data group's value; zeros without one)."""
        g = self.block.groups[group]
        if g.role is Role.DATA:
            return np.asarray(g.value, float).copy()
        sol = self._sol
        if sol is None or g.size == 0:
            return np.zeros(g.size)
        off = self.offset[group]
        return np.array([self.model.getSolVal(sol, self.vars[off + k]) for k in range(g.size)])

    def values(self) -> dict[str, np.ndarray]:
        return {name: self.value(name) for name in self.block.groups}


def _clean(a: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(a)
    out.sum_duplicates()
    out.data[np.abs(out.data) < ZERO_TOL] = 0.0
    out.eliminate_zeros()
    return out
