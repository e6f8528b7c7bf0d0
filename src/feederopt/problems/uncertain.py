"""Reconfiguration under load uncertainty: the problem data and the slaves that scenarios share.

Three things the stochastic (:mod:`feederopt.algorithms.stochastic`) and the robust
(:mod:`feederopt.algorithms.robust`) methods need beyond the deterministic problem:

* **An envelope network.** The DistFlow block takes its big-M values and its passive-feeder
  voltage tightening (``v <= v_set^2`` when no bus injects, see
  :func:`feederopt.formulations.distflow.is_passive`) from the per-unit network it is built
  from, while the loads themselves are data (``pd``, ``qd``) that a slave re-sets per scenario.
  A block for many load vectors must therefore be built from loads that *dominate* all of them:
  :func:`envelope` gives every bus the largest ``|d_s(j)|`` over the scenarios, with a negative
  sign where some scenario injects. So ``sum_j |d(j)|``, which bounds every flow, is at least
  that of every scenario, and a single negative net demand switches the tightening off (it
  would be wrong with PV: a bus with reverse power flow can lie above the source voltage).
  No change to the formulation is needed.
* **Presolve on all scenarios.** The zero-injection chain reduction of
  :mod:`feederopt.problems.presolve` is valid only for buses that carry nothing; a bus with no
  nominal load may host PV or an EV in a scenario, so presolve runs on the envelope
  (:func:`presolve_for`).
* **A penalised slave** (:class:`PenalizedEvaluator`): for fixed switch states ``y`` and loads
  ``d``,

      F(y, d) = min  sum_l c_l l_l  (+ priced DG cost)  +  omega * sum(slack)
                s.t. DistFlow SOCP with slack on power balance, voltage and current limits,

  with ``c = r * 1000 * s_base`` [kW per p.u.] and the penalty ``omega`` in **kW per p.u. of
  slack** (power-balance slack in p.u. of ``s_base``, voltage slack in p.u. of squared voltage,
  current slack in p.u. of squared current). It is feasible for every topology, so every
  scenario always has a value and a cut. ``F`` is jointly convex in ``(y, d)`` for relaxed ``y``
  (the optimal value of a conic program whose right-hand side is affine in ``(y, d)``), so the
  duals of the copy constraints ``y = y_hat`` give Benders cuts (Geoffrion, JOTA 10(4), 1972),
  and by Jensen's inequality ``E_s F(y, d_s) >= F(y, E_s d_s)``.

Executors (:mod:`feederopt.execution`) build one slave per worker with :class:`SlaveFactory` and
run :func:`evaluate_task` on items ``(p, q, y)``; the answer depends only on the item, so the
run is the same for any number of workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import cast

import numpy as np

from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.presolve import presolve
from feederopt.problems.reconfiguration import (
    FEASIBILITY_TOL,
    ReconfigurationProblem,
    TopologyEvaluator,
    Violation,
)

#: Default penalty [kW per p.u. of slack]: 1e5 kW for 1 p.u. (1 MW at s_base = 1 MVA) of
#: unbalanced power, i.e. 100 kW-equivalent of losses per kW of balance slack, well above the
#: marginal loss of a kW of load (below 0.3 kW/kW on any sensible feeder).
DEFAULT_PENALTY = 1e5

_OK = ("optimal", "optimal_inaccurate")
#: Groups of a slave's point that the master's outer approximation and the tables need.
POINT_GROUPS = ("P", "Q", "l", "v", "w", "u", "d")


def envelope(pu: PerUnitNetwork, p: np.ndarray, q: np.ndarray) -> PerUnitNetwork:
    """``pu`` with per-bus loads that dominate every row of ``p``, ``q`` ((S, n_bus) p.u.):
    ``max_s |d_s(j)|``, negative where ``min_s d_s(j) < 0`` (see the module docstring)."""
    p, q = np.atleast_2d(p), np.atleast_2d(q)
    p_all = np.vstack([p, pu.p_load[None, :]])
    q_all = np.vstack([q, pu.q_load[None, :]])

    def dom(a: np.ndarray) -> np.ndarray:
        mag = np.abs(a).max(axis=0)
        return np.where(a.min(axis=0) < 0, -mag, mag)

    return pu.with_loads(dom(p_all), dom(q_all))


def presolve_for(pu: PerUnitNetwork, p: np.ndarray, q: np.ndarray) -> tuple[PerUnitNetwork,
                                                                           np.ndarray]:
    """Presolve valid for every load vector in ``p``, ``q``: returns ``pu`` (its own loads)
    with the reductions applied, and the mask of branches fixed closed."""
    env = envelope(pu, p, q)
    _, fixed = presolve(env)
    if not fixed.any():
        return pu, fixed
    return replace(pu, switchable=pu.switchable & ~fixed,
                   normally_open=pu.normally_open & ~fixed), fixed


def violations_at(pu: PerUnitNetwork, point: dict[str, np.ndarray],
                  tol: float = 1e-6) -> list[Violation]:
    """The limits that slack relaxed at ``point``, largest first (the deterministic slave's
    :meth:`~feederopt.problems.reconfiguration.TopologyEvaluator.violations`, which only
    needs the problem's network)."""
    holder = SimpleNamespace(problem=ReconfigurationProblem(pu))
    return TopologyEvaluator.violations(cast(TopologyEvaluator, holder), point, tol)


@dataclass
class SlaveResult:
    """A slave's answer for one topology and one load vector (small enough to ship around)."""

    feasible: bool  # no slack needed (total slack <= FEASIBILITY_TOL)
    objective: float  # the slave's value [kW]: penalised value, or losses (nan if infeasible)
    losses_kw: float  # sum r l [kW] at the slave's point
    violation: float  # total slack [p.u.]
    gradient: np.ndarray  # d objective / d y, or d violation / d y when infeasible (two-phase)
    point: dict[str, np.ndarray]
    solve_time_s: float
    min_voltage_pu: float
    max_voltage_pu: float
    violations: list[Violation] = field(default_factory=list)


class PenalizedEvaluator:
    """The penalised slave ``F(y, d)`` (module docstring), built once, re-solved with new data."""

    def __init__(self, problem: ReconfigurationProblem, penalty: float = DEFAULT_PENALTY,
                 solver: str = "CLARABEL") -> None:
        from feederopt.solvers.cvxpy_backend import CvxpyModel

        self.problem = problem
        self.penalty = float(penalty)
        self.solver = solver
        block = problem.physics_block(slack=True)
        objective: dict[str, np.ndarray] = dict(problem.operating_cost())
        for name, g in block.groups.items():
            if name.startswith("slack_"):
                objective[name] = np.full(g.size, self.penalty)
        self.slack_groups = [n for n in block.groups if n.startswith("slack_")]
        self.model = CvxpyModel(block, integer=False, fixed=["y"], objective=objective)
        self.build_time_s = self.model.build_time_s
        self.n_solves = 0
        self.solve_time_s = 0.0

    def set_loads(self, p_load: np.ndarray, q_load: np.ndarray) -> None:
        self.model.set("pd", p_load)
        self.model.set("qd", q_load)

    def evaluate(self, y: np.ndarray, need_gradient: bool = True) -> SlaveResult:
        y = np.round(np.asarray(y, float))
        self.model.set("y", y)
        sol = self.model.solve(self.solver)
        self.n_solves += 1
        self.solve_time_s += sol.solve_time_s
        if sol.status not in _OK:
            raise RuntimeError(f"the penalised slave failed: {sol.status}")
        point = self.model.values()
        slack = float(sum(np.clip(point[n], 0, None).sum() for n in self.slack_groups))
        return _result(self.problem, slack <= FEASIBILITY_TOL, sol.objective, slack,
                       self.model.gradient("y") if need_gradient else np.zeros(len(y)),
                       point, sol.solve_time_s)


def _result(problem: ReconfigurationProblem, feasible: bool, objective: float, violation: float,
            gradient: np.ndarray, point: dict[str, np.ndarray], spent: float) -> SlaveResult:
    pu = problem.pu
    losses = problem.losses_kw(point)
    vm = np.sqrt(np.clip(point["v"], 0, None)) if "v" in point else np.full(pu.n_bus, np.nan)
    small = {g: np.asarray(point[g], float).copy() for g in POINT_GROUPS if g in point}
    return SlaveResult(
        feasible, float(objective), losses, float(violation), np.asarray(gradient, float), small,
        float(spent), float(np.nanmin(vm)), float(np.nanmax(vm)),
        violations_at(pu, point) if violation > FEASIBILITY_TOL else [],
    )


@dataclass(frozen=True)
class SlaveFactory:
    """Builds a worker's slave (picklable: the per-unit network is plain arrays).

    ``kind``: ``penalized`` (:class:`PenalizedEvaluator`) or ``two_phase`` (the deterministic
    :class:`~feederopt.problems.reconfiguration.TopologyEvaluator`: losses when feasible, else
    the least total slack).
    """

    pu: PerUnitNetwork
    kind: str = "penalized"
    penalty: float = DEFAULT_PENALTY
    solver: str = "CLARABEL"

    def __call__(self) -> PenalizedEvaluator | TopologyEvaluator:
        problem = ReconfigurationProblem(self.pu)
        y0 = self.pu.initial_closed().astype(float)
        if self.kind == "penalized":
            pen = PenalizedEvaluator(problem, self.penalty, self.solver)
            models = [pen.model]
            slave: PenalizedEvaluator | TopologyEvaluator = pen
        elif self.kind == "two_phase":
            two = TopologyEvaluator(problem, self.solver)
            models = [two.phase2, two.phase1]
            slave = two
        else:
            raise ValueError(f"unknown slave kind {self.kind!r}")
        # Warm-up: cvxpy's first solve of a parametrised problem takes another numerical path
        # than the later ones (answers differ in the 11th digit); after one solve, an answer
        # depends only on the parameters, so every worker gives the same bits for an item.
        for model in models:
            model.set("y", y0)
            model.solve(self.solver)
        return slave


def evaluate_task(slave: PenalizedEvaluator | TopologyEvaluator,
                  item: tuple[np.ndarray, np.ndarray, np.ndarray, bool]) -> SlaveResult:
    """One slave solve: ``item = (p_load, q_load, y, need_gradient)`` (per-bus p.u.)."""
    p, q, y, need_gradient = item
    slave.set_loads(p, q)
    if isinstance(slave, PenalizedEvaluator):
        return slave.evaluate(y, need_gradient)
    t0 = time.perf_counter()
    ev = slave.evaluate(y, need_gradient)
    spent = ev.solve_time_s or (time.perf_counter() - t0)
    return _result(slave.problem, ev.feasible, ev.objective, ev.violation, ev.gradient, ev.point,
                   spent)
