"""Stochastic reconfiguration: one radial topology for many load/DER scenarios (multi-cut Benders).

Problem (two-stage stochastic program with the topology as first stage):

    min_y  c_sw @ y + sum_s w_s F(y, d_s)       s.t. radiality(y),  y binary

with ``F`` the penalised slave of :mod:`feederopt.problems.uncertain` (losses [kW] plus
``omega`` [kW per p.u.] times the total slack on balance, voltage and current limits), which is
finite for every topology (complete recourse), and ``w_s`` the normalised scenario weights.

Master (persistent HiGHS MILP, rows only added):

    min   sum_s w_s theta_s + c_sw @ y
    s.t.  radiality(y)
          theta_s >= F(y_k, d_s) + g_s^k @ (y - y_k)                    multi-cut (per scenario)
          sum_s w_s theta_s >= Fbar_k (sum_{C_k} y - sum_{O_k} y - |C_k| + 1)     integer L-shaped
          [partial Benders] DistFlow(y) at the mean demand dbar = sum_s w_s d_s, with slack,
              sum_s w_s theta_s >= c @ l + omega * sum(slack),  cones outer-approximated

* Multi-cut Benders keeps one ``theta_s`` per scenario (Birge & Louveaux, "A multicut algorithm
  for two-stage stochastic linear programs", EJOR 34(3), 1988): a cut from scenario ``s``
  bounds only its own recourse, so the master learns ``S`` cuts per iteration.
* ``g_s^k`` are the duals of ``y = y_k`` in scenario ``s``'s SOCP (Geoffrion 1972); ``F`` is
  convex in relaxed ``y``, so the cuts hold for every binary ``y``.
* The integer L-shaped cut (Laporte & Louveaux, Oper. Res. Lett. 13, 1993) with ``L = 0``
  (``F >= 0``) on the expected value ``Fbar_k = sum_s w_s F(y_k, d_s)`` makes the method finite.
* Partial Benders (Crainic et al., Transp. Sci. 55(2), 2021) with the **mean scenario**:
  ``F(y, .)`` is convex in the loads (the value of a conic program whose right-hand side is
  affine in ``d``), so by Jensen's inequality ``sum_s w_s F(y, d_s) >= F(y, dbar)``; the
  master's DistFlow rows at ``dbar`` with the cones replaced by outer-approximation cuts
  (tangents at seed points, Kelley rounds at the root, each iteration's master point and the
  weighted mean of the scenario solutions) are a relaxation of ``F(y, dbar)``, hence of the
  expected recourse, and the master bound stays a proven lower bound.

Each iteration's ``S`` slaves run through an :class:`~feederopt.execution.Executor` (serial,
process pool or Ray); the cuts are added in scenario order, so the run is the same for any
number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from feederopt.algorithms.base import AlgorithmBase, ProgressCallback, RawSolution, StopOptions
from feederopt.algorithms.oa import OA_CONES, seed_points
from feederopt.execution import Executor, SerialExecutor
from feederopt.formulations.blocks import Block, Cones, Group, Rows
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.problems.uncertain import (
    DEFAULT_PENALTY,
    SlaveFactory,
    SlaveResult,
    evaluate_task,
)
from feederopt.results.status import Status
from feederopt.solvers.highs_backend import HighsModel


@dataclass(frozen=True)
class StochasticOptions:
    stop: StopOptions = field(default_factory=StopOptions)
    penalty: float = DEFAULT_PENALTY  # omega [kW per p.u. of slack]
    master_physics: bool = True
    combinatorial_cuts: bool = True
    threads: int = 1
    master_heuristics: bool = False  # HiGHS's primal heuristics in the master
    master_reliable_pseudocosts: int | None = 2
    root_oa_rounds: int = 5
    ecp_min_violation: float | None = 1e-3  # cut the master's point only where it is violated
    #: Stop the master at its first improving topology (off: with many scenarios the masters
    #: then wander; solving them to optimality closed the gap faster on case33bw).
    master_first_improvement: bool = False
    solver: str = "CLARABEL"
    #: Physics copies in the master: scenarios sorted by total demand, split into this many
    #: groups, each carrying DistFlow at its own mean (Jensen per group; 1 = the mean only).
    clusters: int = 1
    #: Relative MIP gap of each master solve (a fraction of the stopping gap is enough).
    master_gap_share: float = 0.25


class MasterHelper:
    """The master pieces that the stochastic and the robust methods share (after
    :class:`feederopt.algorithms.benders.Benders`): seed and root outer-approximation cuts, cuts
    at the master's point, and one-row cuts over ``y`` and the theta columns.

    ``copies`` are the suffixes of the master's physics copies (see :func:`renamed`); a point
    of the slave's groups (``P``, ``Q``, ...) gives cuts on the copy it is mapped to.
    """

    def __init__(self, master: HighsModel, sw: np.ndarray, copies: Sequence[str] = ("",)) -> None:
        self.master = master
        self.sw = sw
        self.copies = list(copies)

    def _cones(self, suffix: str | None = None) -> list:
        names = {c + s for c in OA_CONES for s in (self.copies if suffix is None else [suffix])}
        return [c for c in self.master.block.cones if c.name in names]

    def seed_and_root_cuts(self, problem: ReconfigurationProblem, rounds: int,
                           timings: dict[str, float]) -> None:
        for point in seed_points(problem.pu):
            for sfx in self.copies:
                mapped = {g + ("" if g == "y" else sfx): v for g, v in point.items()}
                for cone in self._cones(sfx):
                    self.master.oa_cuts(cone, mapped)
        cones = self._cones()
        if not rounds:
            return
        h = self.master.h
        h.setOptionValue("solve_relaxation", True)
        last = -math.inf
        for _ in range(rounds):
            sol = self.master.solve()
            timings["master_s"] += sol.solve_time_s
            if not sol.has_solution:
                break
            point = self.master.values()
            for cone in cones:
                self.master.oa_cuts(cone, point)
            if sol.objective - last <= 1e-4 * max(abs(sol.objective), 1e-9):
                break
            last = sol.objective
        h.setOptionValue("solve_relaxation", False)

    def master_point_cuts(self, min_violation: float | None = None) -> None:
        """Outer-approximation cuts at the master's own solution where it violates a cone
        (extended cutting planes, Westerlund & Pettersson, Comput. Chem. Eng. 19, 1995)."""
        point = self.master.values()
        for cone in self._cones():
            self.master.oa_cuts(cone, point, min_violation=min_violation)

    def point_cuts(self, point: dict[str, np.ndarray], closed: np.ndarray | None = None,
                   copy: str | None = None) -> None:
        """Outer-approximation cuts of the branch cones at a slave ``point`` (unsuffixed group
        names) on physics copy ``copy`` (default: every copy); any point gives valid cuts."""
        rows = None if closed is None else np.flatnonzero(closed)
        for sfx in self.copies if copy is None else [copy]:
            mapped = {g + ("" if g == "y" else sfx): v for g, v in point.items()}
            for cone in self._cones(sfx):
                self.master.oa_cuts(cone, mapped, rows=rows)

    def linear_cut(self, thetas: dict[str, float], y: np.ndarray, value: float,
                   gradient: np.ndarray) -> None:
        """``sum_t a_t theta_t >= value + g @ (y - y_k)`` on the switchable entries."""
        sw = self.sw
        g = gradient[sw]
        coefs = {t: (np.array([0]), np.array([a])) for t, a in thetas.items()}
        coefs["y"] = (sw, -g)
        self.master.add_cut(coefs, value - float(g @ y[sw]), math.inf)

    def feasibility_cut(self, y: np.ndarray, value: float, gradient: np.ndarray) -> None:
        """``phi(y_k) + h @ (y - y_k) <= 0``."""
        sw = self.sw
        g = gradient[sw]
        if np.any(np.abs(g) > 1e-12):
            self.master.add_cut({"y": (sw, g)}, -math.inf, float(g @ y[sw]) - value)

    def l_shaped_cut(self, thetas: dict[str, float], y: np.ndarray, value: float,
                     low: float = 0.0) -> None:
        """``sum_t a_t theta_t >= (value - L) (sum_C y - sum_O y - |C| + 1) + L`` with ``L``
        a lower bound of ``sum_t a_t theta_t`` (Laporte & Louveaux 1993)."""
        ys = y[self.sw]
        closed = ys > 0.5
        sign = np.where(closed, 1.0, -1.0)
        span = value - low
        coefs = {t: (np.array([0]), np.array([a])) for t, a in thetas.items()}
        coefs["y"] = (self.sw, -span * sign)
        self.master.add_cut(coefs, span * (1.0 - float(closed.sum())) + low, math.inf)

    def no_good_cut(self, y: np.ndarray) -> None:
        """``sum_C y - sum_O y <= |C| - 1``: topology ``y`` is excluded."""
        ys = y[self.sw]
        closed = ys > 0.5
        self.master.add_cut({"y": (self.sw, np.where(closed, 1.0, -1.0))}, -math.inf,
                            float(closed.sum()) - 1.0)


def physics_at(problem: ReconfigurationProblem, p: np.ndarray, q: np.ndarray,
               slack: bool) -> Block:
    """The problem's DistFlow block with the load data set to ``p``, ``q`` (big-M values stay
    those of the problem's own network, which must dominate ``p``, ``q``)."""
    block = problem.physics_block(slack=slack)
    block.groups["pd"] = Group.data("pd", p)
    block.groups["qd"] = Group.data("qd", q)
    return block


def renamed(block: Block, suffix: str, keep: Sequence[str] = ("y",)) -> Block:
    """A copy of ``block`` whose groups, rows and cones carry ``suffix`` (groups in ``keep``
    stay shared), so that several copies can be merged into one master."""
    def f(g: str) -> str:
        return g if g in keep else g + suffix

    out = Block()
    for name, g in block.groups.items():
        out.groups[f(name)] = replace(g, name=f(name))
    out.rows = [Rows(r.name + suffix, {f(g): a for g, a in r.terms.items()}, r.sense, r.rhs)
                for r in block.rows]
    out.cones = [Cones(c.name + suffix, {f(g): a for g, a in c.t.items()},
                       [{f(g): a for g, a in x.items()} for x in c.xs]) for c in block.cones]
    out.objective = {f(g): c for g, c in block.objective.items()}
    return out


def clusters_of(p: np.ndarray, k: int) -> list[np.ndarray]:
    """Scenario indices in ``k`` groups of consecutive total demand (deterministic)."""
    order = np.argsort(p.sum(axis=1), kind="stable")
    return [np.sort(g) for g in np.array_split(order, max(1, min(k, len(order)))) if len(g)]


def weighted_point(results: Sequence[SlaveResult], weights: np.ndarray) -> dict[str, np.ndarray]:
    keys = set.intersection(*(set(r.point) for r in results))
    w = np.asarray(weights, float) / float(np.sum(weights))
    return {k: np.asarray(sum(wi * r.point[k] for wi, r in zip(w, results, strict=True)))
            for k in keys}


class StochasticBenders(AlgorithmBase):
    """Multi-cut Benders over scenarios (see module docstring)."""

    method = "stochastic-benders"

    def __init__(
        self,
        problem: ReconfigurationProblem,
        p: np.ndarray,
        q: np.ndarray,
        weights: np.ndarray,
        options: StochasticOptions | None = None,
        executor: Executor | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """``problem`` must be built on a network whose loads dominate every scenario (see
        :func:`feederopt.problems.uncertain.envelope`); ``p``, ``q`` are (S, n_bus) in p.u."""
        self.options = options or StochasticOptions()
        super().__init__(self.options.stop, progress)
        self.problem = problem
        self.pu = problem.pu
        self.p = np.atleast_2d(np.asarray(p, float))
        self.q = np.atleast_2d(np.asarray(q, float))
        self.weights = np.asarray(weights, float) / float(np.sum(weights))
        self.n_s = self.p.shape[0]
        self.sw = np.flatnonzero(self.pu.switchable)
        self.y_cost, self.y_const = problem.y_cost()
        self.executor = executor or SerialExecutor(
            SlaveFactory(self.pu, "penalized", self.options.penalty, self.options.solver))
        self.thetas = {f"theta_{s}": float(self.weights[s]) for s in range(self.n_s)}
        self.timings = {"build_s": 0.0, "master_s": 0.0, "slave_s": 0.0, "slave_wall_s": 0.0}
        self.n_slave_solves = 0
        self.incumbent_y: np.ndarray | None = None
        self.incumbent_results: list[SlaveResult] = []
        self.clusters: list[np.ndarray] = []

    # ----- master -----------------------------------------------------------------------
    def _build_master(self) -> tuple[HighsModel, MasterHelper]:
        block: Block = self.problem.radiality_block()
        physics = self.options.master_physics
        groups = clusters_of(self.p, self.options.clusters) if physics else []
        self.clusters = groups
        copies = [f"#{k}" for k in range(len(groups))]
        for sfx, idx in zip(copies, groups, strict=True):
            w = self.weights[idx] / self.weights[idx].sum()
            block.merge(renamed(physics_at(self.problem, w @ self.p[idx], w @ self.q[idx],
                                           slack=True), sfx))
        low = self.problem.cost_lower_bound()
        extra = {name: (low, math.inf, w) for name, w in self.thetas.items()}
        master = HighsModel(block, objective={"y": self.y_cost}, extra_columns=extra,
                            threads=self.options.threads)
        master.configure_master(primal_heuristics=self.options.master_heuristics,
                                reliable_pseudocosts=self.options.master_reliable_pseudocosts)
        master.h.setOptionValue("mip_rel_gap",
                                max(self.stop.gap * self.options.master_gap_share, 1e-9))
        helper = MasterHelper(master, self.sw, copies)
        for sfx, idx in zip(copies, groups, strict=True):
            # sum_{s in G} w_s theta_s >= W_G (c @ l + omega * sum(slack)) at G's mean (Jensen)
            wg = float(self.weights[idx].sum())
            coefs = {f"theta_{s}": (np.array([0]), np.array([self.weights[s]])) for s in idx}
            for g, c in self.problem.operating_cost().items():
                if len(c):
                    coefs[g + sfx] = (np.arange(len(c)), -wg * c)
            for g, grp in block.groups.items():
                if g.startswith("slack_") and g.endswith(sfx):
                    coefs[g] = (np.arange(grp.size),
                                -wg * np.full(grp.size, self.options.penalty))
            master.add_cut(coefs, 0.0, math.inf)
        if physics:
            helper.seed_and_root_cuts(self.problem, self.options.root_oa_rounds, self.timings)
        self.timings["build_s"] += master.build_time_s
        return master, helper

    # ----- slaves -----------------------------------------------------------------------
    def evaluate(self, y: np.ndarray, need_gradient: bool = True) -> list[SlaveResult]:
        """Every scenario's slave at topology ``y``, in scenario order."""
        items = [(self.p[s], self.q[s], y, need_gradient) for s in range(self.n_s)]
        t0 = self.elapsed
        results: list[SlaveResult] = self.executor.map(evaluate_task, items)
        self.timings["slave_wall_s"] += self.elapsed - t0
        self.timings["slave_s"] += sum(r.solve_time_s for r in results)
        self.n_slave_solves += len(results)
        return results

    def expected(self, y: np.ndarray, results: Sequence[SlaveResult]) -> float:
        """``c_sw @ y + sum_s w_s F(y, d_s)`` [kW-equivalent]."""
        values = np.array([r.objective for r in results])
        return float(self.weights @ values) + float(self.y_cost @ y) + self.y_const

    def _offer(self, helper: MasterHelper | None, y: np.ndarray) -> float:
        results = self.evaluate(y)
        total = self.expected(y, results)
        if self.update_upper(total):
            self.incumbent_y, self.incumbent_results = y.copy(), results
        if helper is not None:
            for s, r in enumerate(results):
                helper.linear_cut({f"theta_{s}": 1.0}, y, r.objective, r.gradient)
            if self.options.combinatorial_cuts:
                fbar = float(self.weights @ np.array([r.objective for r in results]))
                helper.l_shaped_cut(self.thetas, y, fbar, self.problem.cost_lower_bound())
            for sfx, idx in zip(helper.copies, self.clusters, strict=True):
                point = weighted_point([results[s] for s in idx], self.weights[idx])
                helper.point_cuts({**point, "y": y}, y > 0.5, copy=sfx)
        self._last_slave_s = sum(r.solve_time_s for r in results)
        return total

    # ----- main loop --------------------------------------------------------------------
    def run(self, initial: list[np.ndarray] | None = None) -> RawSolution:
        master, helper = self._build_master()
        pu = self.pu
        for y in initial or []:
            y = np.round(np.asarray(y, float))
            free_ok = np.all((y > 0.5) | pu.switchable)
            if free_ok and is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)[0]:
                self._offer(helper, y)
        seen: set[bytes] = set()
        while True:
            self.iteration += 1
            master.set_time_limit(self.remaining())
            cutoff = math.inf
            if math.isfinite(self.upper):
                cutoff = self.upper - self.stop.gap * abs(self.upper) * 0.5
                master.h.setOptionValue("objective_bound", cutoff - self.y_const)
                if self.options.master_first_improvement:
                    master.h.setOptionValue("mip_max_improving_sols", 1)
            ms = master.solve()
            self.timings["master_s"] += ms.solve_time_s
            self.timings["master_nodes"] = self.timings.get("master_nodes", 0) + ms.nodes
            if ms.status == "infeasible":
                if self.incumbent_y is not None:
                    self.update_lower(min(cutoff, self.upper))
                self.record(ms.solve_time_s, 0.0, "master infeasible")
                break
            if not ms.has_solution:
                self.record(ms.solve_time_s, 0.0, f"master {ms.status}")
                break
            self.update_lower(min(ms.bound + self.y_const, cutoff))
            y = np.round(master.values()["y"])
            key = y.astype(np.int8).tobytes()
            note = ""
            self._last_slave_s = 0.0
            if self.options.master_physics:
                helper.master_point_cuts(self.options.ecp_min_violation)
            if key in seen:
                note = "repeat"
                if self.incumbent_y is not None:
                    self.update_lower(self.upper)
            else:
                seen.add(key)
                self._offer(helper, y)
            self.record(ms.solve_time_s, self._last_slave_s, note)
            if self.should_stop() or ms.status == "time_limit":
                break
        return self._solution()

    def _solution(self) -> RawSolution:
        if self.incumbent_y is None:
            return RawSolution(Status.ERROR, self.method, None, math.nan, -math.inf, math.inf,
                               self.iteration, self.elapsed, log=list(self.log),
                               timings=dict(self.timings), solver=self._solver_name())
        status = self.final_status(True)
        results = self.incumbent_results
        w = self.weights
        extra = {
            "expected_objective_kw": self.upper,
            "expected_losses_kw": float(w @ np.array([r.losses_kw for r in results])),
            "expected_violation_pu": float(w @ np.array([r.violation for r in results])),
            "penalty_kw_per_pu": self.options.penalty,
            "scenario_results": results,
            "slave_solves": self.n_slave_solves,
            "workers": self.executor.workers,
            "executor": self.executor.kind,
        }
        return RawSolution(
            status=status, method=self.method, y=self.incumbent_y.copy(),
            objective=self.upper, lower_bound=self.lower, gap=self.gap,
            iterations=self.iteration, solve_time_s=self.elapsed, point={},
            log=list(self.log), timings=dict(self.timings), solver=self._solver_name(),
            extra=extra,
        )

    def _solver_name(self) -> str:
        return f"HiGHS (master) + {self.options.solver} (scenario slaves)"
