"""cvxpy backend: a :class:`~feederopt.formulations.blocks.Block` as a (mixed-integer) conic
problem.

The problem is built once. Data groups become ``cp.Parameter`` values, so a re-solve with other
loads or another topology only updates data (cvxpy's DPP; Agrawal et al., "Differentiable convex
optimization layers", NeurIPS 2019). A group named in ``fixed`` becomes a variable tied to a
parameter by an equality ``x == x_hat``; the dual of that equality is the (negated) gradient of
the optimal value with respect to ``x_hat``, which is what a Benders cut needs.

A block's on/off bounds (:class:`~feederopt.formulations.blocks.OnOff`, ``|x| <= M y``)
whose switch group is fixed become ``(1 - y_hat) x = 0`` with a parameter mask (DPP): an open
entry is exactly zero whatever ``M``, and the gradient adds what the big-M rows' duals would
give (:meth:`CvxpyModel.gradient`). Otherwise they are the big-M rows.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

from feederopt.formulations.blocks import Block, OnOff, Role, Sense, Terms


@dataclass
class ConicSolution:
    status: str  # cvxpy status string
    objective: float
    solve_time_s: float
    build_time_s: float
    #: A lower bound of the optimum verified from the solver's dual point
    #: (:meth:`CvxpyModel.solve_certified`), or a MIP solver's own best bound (Gurobi's
    #: ``ObjBound``, :meth:`CvxpyModel.solve`); nan when not computed or not verifiable.
    dual_bound: float = float("nan")


#: Below this many seconds a conic solve is not started (it could not finish anyway).
MIN_SOLVE_S = 0.05


def time_limit_options(solver: str, seconds: float) -> dict[str, object]:
    """The solver options that stop ``solver`` after ``seconds`` (at least ``MIN_SOLVE_S``):
    Clarabel's ``time_limit``, SCS's ``time_limit_secs``, MOSEK's
    ``MSK_DPAR_OPTIMIZER_MAX_TIME``; none for other solvers."""
    left = max(float(seconds), MIN_SOLVE_S)
    if solver == "CLARABEL":
        return {"time_limit": left}
    if solver == "SCS":
        return {"time_limit_secs": left}
    if solver == "MOSEK":
        return {"mosek_params": {"MSK_DPAR_OPTIMIZER_MAX_TIME": left}}
    return {}


class CvxpyModel:
    """A cvxpy problem built from a block.

    ``integer=False`` relaxes integrality; ``fixed`` lists variable groups to pin to parameters;
    ``objective`` overrides the block's objective. ``dpp=False`` compiles every solve anew with
    the parameters' current values as constants: cvxpy's DPP compilation (the parameter
    tensor) is what a re-solve saves, but it grows much faster than the problem. Measured
    (the slave of one topology, Clarabel): case33bw DPP compile 0.06 s then 15 ms per
    solve, without 55 ms per solve; synthetic1000 DPP compile 2.7 s then 0.63 s per solve,
    without 0.09 s compile and 0.59 s per solve; lv_schutterwald (2940 buses) DPP compile
    18.1 s and 2.9 GB resident, without 0.24 s and 0.35 GB.
    """

    def __init__(
        self,
        block: Block,
        *,
        integer: bool = True,
        fixed: Iterable[str] = (),
        objective: dict[str, np.ndarray] | None = None,
        dpp: bool = True,
    ) -> None:
        t0 = time.perf_counter()
        self.block = block
        self.dpp = dpp
        self.fixed = set(fixed)
        self.vars: dict[str, cp.Expression] = {}
        self.params: dict[str, cp.Parameter] = {}
        self.copies: dict[str, cp.Constraint] = {}
        constraints: list[cp.Constraint] = []
        for name, g in block.groups.items():
            if g.size == 0:
                self.vars[name] = cp.Constant(np.zeros(0))
                continue
            if g.role is Role.DATA:
                par = cp.Parameter(g.size, value=np.asarray(g.value, float), name=name)
                self.params[name] = par
                self.vars[name] = par
                continue
            lb = np.where(np.isfinite(g.lb), g.lb, -np.inf)
            ub = np.where(np.isfinite(g.ub), g.ub, np.inf)
            if name in self.fixed:
                var = cp.Variable(g.size, name=name)
                start = np.clip(np.zeros(g.size), lb, ub)
                par = cp.Parameter(g.size, value=start, name=name + "_hat")
                self.params[name] = par
                self.copies[name] = var == par
                constraints.append(self.copies[name])
            elif g.integer and integer:
                is_binary = bool(np.all(lb >= 0) and np.all(ub <= 1))
                if is_binary:
                    var = cp.Variable(g.size, boolean=True, name=name)
                    fixed_lo = np.flatnonzero(lb > 0)
                    fixed_hi = np.flatnonzero(ub < 1)
                    if len(fixed_lo):
                        constraints.append(var[fixed_lo] >= lb[fixed_lo])
                    if len(fixed_hi):
                        constraints.append(var[fixed_hi] <= ub[fixed_hi])
                else:
                    var = cp.Variable(g.size, integer=True, name=name, bounds=[lb, ub])
            else:
                var = cp.Variable(g.size, name=name, bounds=[lb, ub])
            self.vars[name] = var
        #: The on/off bounds stated for fixed switches: bound, mask ``1 - y_hat``, constraint.
        self.masked: list[tuple[OnOff, cp.Parameter, cp.Constraint]] = []
        big_m_rows = []
        for on in block.on_off:
            if on.switch not in self.fixed:
                big_m_rows += on.big_m_rows(block.groups)
                continue
            start_y = np.asarray(self.params[on.switch].value, float)
            mask = cp.Parameter(len(on.cols), value=1.0 - start_y[on.switches],
                                name=on.name + "_off")
            x = cp.multiply(mask, self.vars[on.group][on.cols])
            # One-sided (x >= 0 by the group's bounds) it is stated as x = 0 all the same:
            # x <= 0 next to x >= 0 is an equality with no interior (no Slater point), at
            # which Clarabel's iterates stay off 0 or stall. On example_multivoltage with
            # two 3-step 200 Mvar banks (the bank's vc weighs 600 p.u. of q in the balance)
            # the DOPF slave's phase 1 left a bank at step 0 injecting 1e-5..1e-3 p.u. (its
            # guard refused the point) or ended in a solver error on 36 of 150 settings, on
            # 2 as an equality. The dual keeps its meaning (eta > 0: x = 0 acts as x <= 0).
            nonneg = bool(np.all(block.groups[on.group].lb[on.cols] >= 0))
            con = x == 0 if on.two_sided or nonneg else x <= 0
            self.masked.append((on, mask, con))
            constraints.append(con)
        for rows in block.rows + big_m_rows:
            expr = self._affine(rows.terms)
            if rows.sense is Sense.EQ:
                constraints.append(expr == rows.rhs)
            else:
                constraints.append(expr <= rows.rhs)
        for cone in block.cones:
            t = self._affine(cone.t)
            xs = cp.vstack([self._affine(x) for x in cone.xs])
            constraints.append(cp.SOC(t, xs, axis=0))
        obj = objective if objective is not None else block.objective
        cost = sum(
            (c @ self.vars[g] for g, c in obj.items() if block.groups[g].size), cp.Constant(0.0)
        )
        self.problem = cp.Problem(cp.Minimize(cost), constraints)
        used = {v.id for v in self.problem.variables()}
        #: Variable groups in no row, cone or objective term (the voltage of a grid without
        #: branches): cvxpy gives them no value, yet every point of their bounds is optimal.
        self.unused = {name for name, var in self.vars.items()
                       if isinstance(var, cp.Variable) and var.id not in used}
        self.build_time_s = time.perf_counter() - t0

    def _affine(self, terms: Terms) -> cp.Expression:
        parts = [a @ self.vars[g] for g, a in terms.items() if a.shape[1]]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    def set(self, name: str, value: np.ndarray) -> None:
        """Set a data group or the parameter of a fixed group. An empty group (a grid without
        branches has no topology ``y``) is a constant, not a parameter: nothing to set."""
        if self.block.groups[name].size == 0:
            return
        value = np.asarray(value, float)
        masks = [(on, mask) for on, mask, _ in self.masked if on.switch == name]
        if masks and not np.all((value == 0) | (value == 1)):
            raise ValueError(f"the fixed group {name!r} switches on/off bounds: its values "
                             "must be 0 or 1")
        self.params[name].value = value
        for on, mask in masks:
            mask.value = 1.0 - value[on.switches]

    def off_residual(self) -> float:
        """The largest ``|x|`` (times the entry's :attr:`~feederopt.formulations.blocks.OnOff.
        weight`: the power it injects) of the last solve on an entry that an open switch or a
        device switched off holds at 0 (0 without such entries or values): above the solver's
        tolerance, the solve did not keep the open branches empty or the devices off."""
        worst = 0.0
        for on, mask, _ in self.masked:
            value = self.vars[on.group].value
            off = np.asarray(mask.value, float) > 0.5
            if value is not None and off.any():
                x = np.abs(np.asarray(value)[on.cols])
                if on.weight is not None:
                    x = x * np.abs(on.weight)
                worst = max(worst, float(np.max(x[off])))
        return worst

    def solve(self, solver: str = "CLARABEL", **kwargs: object) -> ConicSolution:
        t0 = time.perf_counter()
        build = self.build_time_s
        self.build_time_s = 0.0
        try:
            with warnings.catch_warnings():  # "inaccurate" is the status, read by the caller
                warnings.simplefilter("ignore", UserWarning)
                self.problem.solve(solver=solver, ignore_dpp=not self.dpp, **kwargs)
            status = str(self.problem.status)
        except cp.SolverError as exc:
            status = f"solver_error: {exc}"
        # after a solver error cvxpy keeps the previous solve's value: not this one's
        value = None if status.startswith("solver_error") else self.problem.value
        obj = float(value) if value is not None and np.isfinite(value) else float("nan")
        return ConicSolution(status, obj, time.perf_counter() - t0, build, self._mip_bound(obj))

    def _mip_bound(self, obj: float) -> float:
        """Gurobi's best bound of the last solve in this problem's terms (cvxpy's GUROBI
        interface keeps the gurobipy model as ``solver_stats.extra_stats``: ``ObjBound`` plus
        the offset cvxpy added to ``ObjVal``); nan for other solvers or without an
        incumbent."""
        try:
            model: Any = self.problem.solver_stats.extra_stats
            bound, val = float(model.ObjBound), float(model.ObjVal)
        except Exception:  # not gurobipy, or no incumbent (ObjVal unavailable)
            return float("nan")
        return bound + (obj - val) if np.isfinite(bound) and np.isfinite(obj) else float("nan")

    def solve_certified(self, solver: str = "CLARABEL", **kwargs: object) -> ConicSolution:
        """:meth:`solve`, and on Clarabel a lower bound of the optimum from its dual point that
        holds whatever the solver's status (an ``AlmostSolved`` "inaccurate" answer included).

        With Clarabel's form ``min q'x  s.t.  Ax + s = b, s in K`` and its dual point ``z``
        projected onto the dual cone ``K*`` (``z_hat``), weak duality gives for every feasible
        ``x``: ``q'x = -b'z_hat + z_hat's + r'x >= -b'z_hat - ||r||_1 ||x||_inf`` with the
        dual residual ``r = A'z_hat + q`` (Boyd & Vandenberghe, Convex Optimization, 5.9).
        ``||x||_inf`` is taken as ten times the optimum's largest entry (at least 1): the
        relaxation's variables are bounded by the voltage, rating and big-M bounds, far inside
        that. Other solvers (and cones other than zero, non-negative and second-order) give no
        bound (nan)."""
        if solver != "CLARABEL":
            return self.solve(solver, **kwargs)
        t0 = time.perf_counter()
        build = self.build_time_s
        self.build_time_s = 0.0
        bound = float("nan")
        try:
            opts = dict(kwargs)
            data, chain, inverse = self.problem.get_problem_data(
                cp.CLARABEL, ignore_dpp=not self.dpp, solver_opts=opts)
            raw = chain.solve_via_data(self.problem, data, False, False, opts)
            with warnings.catch_warnings():  # "inaccurate" is the status, read by the caller
                warnings.simplefilter("ignore", UserWarning)
                self.problem.unpack_results(raw, chain, inverse)
            status = str(self.problem.status)
            if raw.z is not None and raw.x is not None:
                offset = (float(self.problem.value) - float(raw.obj_val)
                          if self.problem.value is not None else float("nan"))
                bound = _clarabel_dual_bound(data, np.asarray(raw.x), np.asarray(raw.z)) + offset
        except cp.SolverError as exc:
            status = f"solver_error: {exc}"
        value = None if status.startswith("solver_error") else self.problem.value
        obj = float(value) if value is not None and np.isfinite(value) else float("nan")
        return ConicSolution(status, obj, time.perf_counter() - t0, build,
                             bound if np.isfinite(bound) else float("nan"))

    def value(self, name: str) -> np.ndarray:
        g = self.block.groups[name]
        if g.size == 0:
            return np.zeros(0)
        if name in self.unused:  # free within its bounds: the point nearest 0 (a fixed value)
            return np.clip(np.zeros(g.size), g.lb, g.ub)
        v = self.vars[name].value
        return np.zeros(g.size) if v is None else np.asarray(v, float).reshape(g.size)

    def values(self) -> dict[str, np.ndarray]:
        return {name: self.value(name) for name in self.block.groups}

    def gradient(self, name: str) -> np.ndarray:
        """d(optimal value) / d(fixed value of group ``name``), from the copy constraint's dual
        (empty for an empty group, which has no copy constraint).

        With on/off bounds switched by ``name`` (module docstring) it is the gradient of the
        model with their big-M rows ``x - M y <= 0``, ``-x - M y <= 0`` (duals ``mu+``,
        ``mu-``), whose stationarity in ``y`` reads ``lambda_big = lambda + M (mu+ + mu-)``
        for the copy row's dual ``lambda``. At an open entry both rows hold ``x = 0`` and
        ``mu+ - mu- = eta``, the dual of ``x = 0``: the least ``mu+ + mu-`` is ``|eta|``
        (one-sided: ``max(eta, 0)``), the big-M model's largest subgradient there, so
        ``g = -lambda - M |eta|``; with a lower side's own ``M^lo`` (a committable generator,
        ``lo y <= x <= hi y``: ``M = hi``, ``M^lo = -lo``) it is
        ``g = -lambda - M max(eta, 0) - M^lo max(-eta, 0)`` (``eta > 0`` where ``x = 0`` acts
        as ``x <= 0``). At a closed entry the big-M rows are slack (``|x| <= M``
        holds at every point of the other rows, see ``fixed_topology_form``) or kept as rows
        of the block (a generator's, :func:`~feederopt.formulations.devices.fixed_device_form`,
        whose duals are in ``lambda``): nothing is added."""
        size = self.block.groups[name].size
        if size == 0:
            return np.zeros(0)
        dual = self.copies[name].dual_value
        grad = np.zeros(size) if dual is None else -np.asarray(dual, float).reshape(-1)
        for on, mask, con in self.masked:
            if on.switch != name or con.dual_value is None:
                continue
            eta = np.asarray(con.dual_value, float).reshape(-1)
            pull = on.big_m * np.clip(eta, 0.0, None)
            if on.two_sided:
                pull = pull + on.lower_m * np.clip(-eta, 0.0, None)
            np.subtract.at(grad, on.switches, np.where(np.asarray(mask.value, float) > 0.5,
                                                      pull, 0.0))
        return grad


def _clarabel_dual_bound(data: dict, x: np.ndarray, z: np.ndarray) -> float:
    """The weak-duality bound of :meth:`CvxpyModel.solve_certified` in Clarabel's objective
    (without cvxpy's constant offset); nan for cones other than zero, non-negative and SOC."""
    from cvxpy.reductions.solvers.conic_solvers.conic_solver import ConicSolver

    dims = data[ConicSolver.DIMS]
    if dims.exp or dims.psd or getattr(dims, "p3d", None):
        return float("nan")
    a_mat, b, q = data["A"], np.asarray(data["b"], float), np.asarray(data["c"], float)
    z = z.astype(float).copy()
    start = dims.zero
    z[start:start + dims.nonneg] = np.clip(z[start:start + dims.nonneg], 0.0, None)
    start += dims.nonneg
    for size in dims.soc:  # projection onto the second-order cone t >= ||u||
        t, u = z[start], z[start + 1:start + size]
        norm = float(np.linalg.norm(u))
        if norm > t:
            if norm <= -t:
                z[start:start + size] = 0.0
            else:
                scale = (t + norm) / 2.0
                z[start] = scale
                z[start + 1:start + size] = u * (scale / norm)
        start += size
    residual = a_mat.T @ z + q
    reach = 10.0 * max(1.0, float(np.max(np.abs(x))) if len(x) else 1.0)
    return float(-b @ z - np.sum(np.abs(residual)) * reach)
