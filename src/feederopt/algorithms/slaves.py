"""The slaves: the problem's SOCP for fixed switch states, built on a cvxpy model.

:class:`TopologyEvaluator` is the two-phase slave of the deterministic problem
(:mod:`feederopt.problems.reconfiguration`): phase 2 minimises losses without slack; if the
topology is infeasible, phase 1 minimises the total slack on power balance, voltage and current.
:class:`PenalizedEvaluator` is the penalised slave of the uncertain problems
(:mod:`feederopt.problems.uncertain`). Executors (:mod:`feederopt.execution`) build one slave per
worker with :class:`SlaveFactory` and run :func:`evaluate_task` on items ``(p, q, y)``.

The problems hand out blocks and import no solver; the backend is chosen here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from feederopt.algorithms.base import Deadline, OutOfTime
from feederopt.errors import SolverError
from feederopt.formulations.distflow import fixed_topology_form, slack_objective
from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.reconfiguration import (
    FEASIBILITY_TOL,
    Evaluation,
    ReconfigurationProblem,
    Violation,
    violations_at,
)
from feederopt.problems.uncertain import DEFAULT_PENALTY
from feederopt.solvers.cvxpy_backend import ConicSolution, CvxpyModel, time_limit_options
from feederopt.solvers.status import SOLVED, SolverStatus

#: Groups of a slave's point that the master's outer approximation and the tables need.
POINT_GROUPS = ("P", "Q", "l", "v", "w", "u", "d", "pg", "qg")


#: Above this many buses the slaves compile every solve anew instead of once with cvxpy's DPP
#: (:class:`~feederopt.solvers.cvxpy_backend.CvxpyModel`, ``dpp``): DPP compile / per-solve
#: time with and without it, synthetic500 0.73 s / ~0.15-0.23 s vs 0.03 s / ~0.2 s;
#: synthetic1000 2.7 s / 0.63 s vs 0.09 s / 0.59 s; lv_schutterwald (2940) 18.1 s and 2.9 GB
#: vs 0.24 s and 0.35 GB.
DPP_MAX_BUSES = 500


def dpp_pays(problem: ReconfigurationProblem) -> bool:
    """Whether re-solves of ``problem``'s conic models should use cvxpy's DPP (above)."""
    return problem.pu.n_bus <= DPP_MAX_BUSES


#: Solver settings of a slave's first solve and of the fresh re-solves of a failed one, in
#: turn (default: one fresh re-solve). Each Clarabel attempt names the equilibration: cvxpy
#: keeps the last solver with its settings for the next (warm) solve, so a retry's setting
#: must not carry over to the next topology.
#: The last two: Clarabel stopped with "InsufficientProgress" (cvxpy: a solver error) on the
#: DOPF slave's phase 1 of example_multivoltage with a 3-step 200 Mvar bank (l of 6.6e4 p.u.
#: on its phantom losses, see :class:`~feederopt.algorithms.dopf.DopfSlave`) after the first
#: three, on 2 of 300 settings; 50 equilibration passes, or a larger static regularisation,
#: solved both.
ATTEMPTS: dict[str, tuple[dict[str, object], ...]] = {
    "CLARABEL": tuple({"equilibrate_enable": eq, "equilibrate_max_iter": passes,
                       "static_regularization_constant": reg}
                      for eq, passes, reg in ((True, 10, 1e-8), (True, 10, 1e-8),
                                              (False, 10, 1e-8), (True, 50, 1e-8),
                                              (True, 10, 1e-7))),
}

#: cvxpy statuses that prove a fixed topology infeasible.
INFEASIBLE = (SolverStatus.INFEASIBLE.value, "infeasible_inaccurate")

#: Above this ``|P|``, ``|Q|`` or ``l`` [p.u.] on an open branch a slave's solve is not
#: accepted (:func:`open_flow_status`). The slave states ``P = Q = l = 0`` on open branches
#: without big-M (:func:`~feederopt.formulations.distflow.fixed_topology_form`), so only a
#: solver that stopped short of its tolerance gets here; with the big-M rows Clarabel ended
#: at 26 p.u. of q on an open switch of example_multivoltage and called it optimal. The DOPF
#: slave holds a device switched off (a generator's p and q, a bank's injected power, an
#: OLTC's unchosen position) to the same tolerance
#: (:func:`~feederopt.formulations.devices.fixed_device_form`).
OPEN_FLOW_TOL = 1e-5


def open_flow_status(model: CvxpyModel, sol: ConicSolution) -> ConicSolution:
    """``sol``, or, when it is solved but an open branch carries (or a device switched off
    injects) more than :data:`OPEN_FLOW_TOL`, ``sol`` with a status that says so (not
    solved: no value, no cut)."""
    if sol.status not in SOLVED:
        return sol
    worst = model.off_residual()
    if worst <= OPEN_FLOW_TOL:
        return sol
    return replace(sol, status=f"an open branch or a device switched off carries {worst:.3g} "
                   f"p.u. ({sol.status})", objective=float("nan"))


def solve_retried(model: CvxpyModel, solver: str,
                  solve_once: Callable[..., ConicSolution]) -> ConicSolution:
    """``solve_once(model, **options)`` (a solve with the guard :func:`open_flow_status`); a
    solve that neither solves nor proves infeasibility (a solver error, an inaccurate point
    that leaves an open branch carrying, or a device switched off injecting, more than
    :data:`OPEN_FLOW_TOL`) is tried again from scratch with the next settings of
    :data:`ATTEMPTS`: cvxpy re-uses the solver of the previous topology (``warm_start``), and
    on mynet4 that re-used solver failed on a topology that a fresh one solves; ring_with_dg
    priced at 1e6 per MWh (an objective coefficient of 1e9) fails on its base topology until
    Clarabel's equilibration is off. The time spent is the sum over the attempts."""
    attempts = ATTEMPTS.get(solver, ({}, {}))
    sol = solve_once(model, **attempts[0])
    spent = sol.solve_time_s
    for options in attempts[1:]:
        if sol.status in SOLVED or sol.status in INFEASIBLE:
            break
        sol = solve_once(model, warm_start=False, **options)
        spent += sol.solve_time_s
    return replace(sol, solve_time_s=spent)


class SlaveFailure(SolverError):
    """The conic solver neither solved a slave nor proved its topology infeasible: no valid
    cut can be built from it, so the run stops instead of guessing."""


def open_branch_text(problem: ReconfigurationProblem, y: np.ndarray, most: int = 8) -> str:
    """The open branches of topology ``y`` by their ids (``line:11``), the first ``most`` and
    how many more: the internal indices meant nothing to a user (ut_ppgrid #3, a list of 400
    integers)."""
    ids = [problem.pu.branch_ids[k] for k in np.flatnonzero(np.asarray(y) < 0.5)]
    more = f", ... ({len(ids) - most} more)" if len(ids) > most else ""
    return ", ".join(ids[:most]) + more if ids else "none"


def _solved_violation(sol: ConicSolution, y: np.ndarray,
                      problem: ReconfigurationProblem) -> float:
    """Phase 1's least total slack, or :class:`SlaveFailure` when the solve failed (phase 1
    has slack on every balance row: it always has a solution)."""
    if sol.status not in SOLVED or not np.isfinite(sol.objective):
        raise SlaveFailure(f"the phase-1 slave failed ({sol.status}) on the topology with open "
                           f"branches {open_branch_text(problem, y)}")
    return float(sol.objective)


class TopologyEvaluator:
    """The two-phase SOCP slave for fixed switch states (built once, re-solved with new data)."""

    def __init__(self, problem: ReconfigurationProblem, solver: str = "CLARABEL") -> None:
        self.problem = problem
        self.solver = solver
        dpp = dpp_pays(problem)
        # y is fixed: the bounds that the big-M rows state leave the solver's b (see
        # fixed_topology_form: 6e9 there made Clarabel fail on example_multivoltage)
        pu = problem.pu
        self.phase2 = CvxpyModel(fixed_topology_form(problem.physics_block(), pu),
                                 integer=False, fixed=["y"], dpp=dpp)
        feas = fixed_topology_form(problem.physics_block(slack=True), pu)
        self.phase1 = CvxpyModel(feas, integer=False, fixed=["y"], objective=slack_objective(feas),
                                 dpp=dpp)
        self.build_time_s = self.phase2.build_time_s + self.phase1.build_time_s
        self.n_solves = 0
        self.solve_time_s = 0.0
        # Feasible phase-2 solutions, kept while ``keep_history`` is set (the heuristics' work,
        # which Benders turns into outer-approximation cuts of its master).
        self.keep_history = False
        self.history: list[tuple[np.ndarray, Evaluation]] = []
        #: The run's deadline: every solve gets the time left as its limit, and one that
        #: reaches it raises :class:`~feederopt.algorithms.base.OutOfTime` (None: no limit).
        self.deadline: Deadline | None = None
        #: The slave of the least-violating search's second stage, least losses within a
        #: slack budget (:meth:`set_violation_budget`); None until it is asked for.
        self.budgeted: CvxpyModel | None = None
        self.violation_budget = float("nan")
        #: The slaves at other source voltages (:meth:`at_source_voltage`), by ``v_set``.
        self._by_vm: dict[bytes, TopologyEvaluator] = {}

    def _solve(self, model: CvxpyModel) -> ConicSolution:
        """``model`` solved within the deadline (:class:`OutOfTime` when it is reached), with
        the retries of :func:`solve_retried`."""
        return solve_retried(model, self.solver, self._solve_once)

    def _solve_once(self, model: CvxpyModel, **kwargs: object) -> ConicSolution:
        if self.deadline is None:
            return open_flow_status(model, model.solve(self.solver, **kwargs))
        if self.deadline.expired():
            raise OutOfTime("deadline reached before a slave solve")
        sol = open_flow_status(model, model.solve(
            self.solver, **kwargs, **time_limit_options(self.solver, self.deadline.left())))
        if sol.status not in SOLVED and self.deadline.expired():
            raise OutOfTime(f"slave stopped at the deadline ({sol.status})")
        return sol

    def at_source_voltage(self, vm: np.ndarray | None) -> TopologyEvaluator:
        """The slave with the sources held at ``vm`` [p.u., per bus; a robust set's source
        corner, :meth:`feederopt.algorithms.robust.UncertaintySet.source_vm`]: ``self`` for
        None or the problem's own ``v_set``, else a slave of its own per distinct ``vm``
        (the root's ``v = vm^2`` is a bound of the model and enters its big-M values,
        :meth:`~feederopt.network.perunit.PerUnitNetwork.with_source_voltage`), built once and
        warmed up as :class:`SlaveFactory` warms the first; set the loads on the slave
        returned."""
        pu = self.problem.pu.with_source_voltage(vm)
        if pu is self.problem.pu:
            return self
        key = np.asarray(pu.v_set, float).tobytes()
        if key not in self._by_vm:
            other = TopologyEvaluator(replace(self.problem, pu=pu), self.solver)
            y0 = pu.initial_closed().astype(float)
            for model in (other.phase2, other.phase1):
                model.set("y", y0)
                model.solve(self.solver)
            other.deadline = self.deadline
            self.build_time_s += other.build_time_s
            self._by_vm[key] = other
        return self._by_vm[key]

    def set_loads(self, p_load: np.ndarray, q_load: np.ndarray) -> None:
        for model in (self.phase2, self.phase1, self.budgeted):
            if model is not None:
                model.set("pd", p_load)
                model.set("qd", q_load)

    def evaluate(self, y: np.ndarray, need_gradient: bool = True) -> Evaluation:
        y = np.round(np.asarray(y, float))
        self.phase2.set("y", y)
        sol = self._solve(self.phase2)
        spent = sol.solve_time_s
        self.n_solves += 1
        if sol.status in SOLVED:
            ev = Evaluation(
                True, sol.objective, 0.0,
                self.phase2.gradient("y") if need_gradient else np.zeros(len(y)),
                self.phase2.values(), spent,
            )
            self.solve_time_s += spent
            if self.keep_history:
                self.history.append((y, ev))
            return ev
        self.phase1.set("y", y)
        sol1 = self._solve(self.phase1)
        spent += sol1.solve_time_s
        self.n_solves += 1
        self.solve_time_s += spent
        # Only a solved phase 1 says anything (a failed solve leaves cvxpy's values, duals
        # and objective of an earlier topology); and a topology is infeasible only when phase
        # 2 proved it or phase 1 needs slack. A failure read as infeasibility gave mynet4 a
        # no-good cut on its optimum and a wrong "optimal" (or a negative gap).
        viol = _solved_violation(sol1, y, self.problem)
        if sol.status not in INFEASIBLE and viol <= FEASIBILITY_TOL:
            raise SlaveFailure(
                f"the slave failed on a topology that needs no slack (phase 2: {sol.status}; "
                f"phase 1: {viol:.3g}): its losses are unknown (open branches "
                f"{open_branch_text(self.problem, y)})")
        point = self.phase1.values()
        return Evaluation(
            False, float("nan"), float(viol),
            self.phase1.gradient("y") if need_gradient else np.zeros(len(y)),
            point, spent, self.violations(point),
        )

    def evaluate_violation(self, y: np.ndarray) -> Evaluation:
        """Phase 1 only: the least total slack of topology ``y`` and its gradient."""
        y = np.round(np.asarray(y, float))
        self.phase1.set("y", y)
        sol = self._solve(self.phase1)
        self.n_solves += 1
        self.solve_time_s += sol.solve_time_s
        viol = _solved_violation(sol, y, self.problem)
        point = self.phase1.values()
        return Evaluation(
            viol <= FEASIBILITY_TOL, float("nan"), viol, self.phase1.gradient("y"), point,
            sol.solve_time_s, self.violations(point),
        )

    def set_violation_budget(self, budget: float) -> None:
        """Build the slave of :meth:`evaluate_within_budget`: least losses with the weighted
        total slack held within ``budget`` [p.u.]
        (:meth:`~feederopt.problems.reconfiguration.ReconfigurationProblem.slack_budget_block`),
        once per budget; the data are the phase-1 slave's (its loads)."""
        problem = self.problem
        model = CvxpyModel(fixed_topology_form(problem.slack_budget_block(budget), problem.pu),
                           integer=False, fixed=["y"], dpp=dpp_pays(problem))
        for name in ("pd", "qd"):
            value = self.phase1.params[name].value if name in self.phase1.params else None
            if value is not None:
                model.set(name, np.asarray(value, float))
        self.budgeted, self.violation_budget = model, float(budget)
        self.build_time_s += model.build_time_s

    def evaluate_within_budget(self, y: np.ndarray) -> Evaluation:
        """Topology ``y`` in the least-violating search's second stage: ``feasible`` when its
        least total slack is within the budget of :meth:`set_violation_budget`, then
        ``objective`` the least losses [kW] at that budget, ``violation`` its point's total
        slack and ``gradient`` the losses' (an optimality cut); otherwise phase 1's evaluation
        (:meth:`evaluate_violation`), its ``violation`` the least total slack and ``gradient``
        its own, for the cut ``phi(y_k) + h @ (y - y_k) <= budget``."""
        if self.budgeted is None:
            raise ValueError("evaluate_within_budget needs set_violation_budget first")
        y = np.round(np.asarray(y, float))
        self.budgeted.set("y", y)
        sol = self._solve(self.budgeted)
        self.n_solves += 1
        self.solve_time_s += sol.solve_time_s
        if sol.status in SOLVED:
            point = self.budgeted.values()
            slack = sum(float(w @ np.clip(point[g], 0.0, None))
                        for g, w in slack_objective(self.budgeted.block).items() if len(w))
            return Evaluation(True, sol.objective, slack,
                              self.budgeted.gradient("y"), point, sol.solve_time_s,
                              self.violations(point))
        ev = self.evaluate_violation(y)
        ev = replace(ev, feasible=False, solve_time_s=ev.solve_time_s + sol.solve_time_s)
        if ev.violation <= self.violation_budget:
            # the budget holds, but the budgeted solve failed: its losses are unknown
            raise SlaveFailure(
                f"the least-loss slave within the slack budget failed ({sol.status}) on a "
                f"topology within it (open branches {open_branch_text(self.problem, y)})")
        return ev

    def violations(self, point: dict[str, np.ndarray], tol: float = 1e-6) -> list[Violation]:
        """The limits that slack relaxed at ``point``, largest first."""
        return violations_at(self.problem.pu, point, tol)


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
        self.problem = problem
        self.penalty = float(penalty)
        self.solver = solver
        self.model, self.slack_groups = self._build(problem)
        self.build_time_s = self.model.build_time_s
        self.n_solves = 0
        self.solve_time_s = 0.0
        #: The models by source voltage (:meth:`set_source_voltage`; None: the problem's own).
        self._base = problem
        self._models: dict[bytes | None, tuple[ReconfigurationProblem, CvxpyModel,
                                                list[str]]] = {
            None: (problem, self.model, self.slack_groups)}
        self._vm_key: bytes | None = None

    def _build(self, problem: ReconfigurationProblem) -> tuple[CvxpyModel, list[str]]:
        block = fixed_topology_form(problem.physics_block(slack=True), problem.pu)
        objective: dict[str, np.ndarray] = dict(problem.operating_cost())
        for name, g in block.groups.items():
            if name.startswith("slack_"):
                objective[name] = np.full(g.size, self.penalty)
        slack_groups = [n for n in block.groups if n.startswith("slack_")]
        return CvxpyModel(block, integer=False, fixed=["y"], objective=objective,
                          dpp=dpp_pays(problem)), slack_groups

    def set_loads(self, p_load: np.ndarray, q_load: np.ndarray) -> None:
        self.model.set("pd", p_load)
        self.model.set("qd", q_load)

    def set_source_voltage(self, vm: np.ndarray | None) -> None:
        """Solve with the sources held at ``vm`` [p.u., per bus] (a scenario's ``source``
        rows; None: the problem's own ``v_set``). The source voltage is a bound of the
        DistFlow model (and enters its big-M values), so each distinct ``vm`` gets a model of
        its own (:meth:`~feederopt.network.perunit.PerUnitNetwork.with_source_voltage`),
        built once per worker, warmed up as :class:`SlaveFactory` warms the first; set the
        loads after this call."""
        pu = self._base.pu.with_source_voltage(vm)
        key = None if pu is self._base.pu else np.asarray(pu.v_set, float).tobytes()
        if key == self._vm_key:
            return
        if key not in self._models:
            problem = replace(self._base, pu=pu)
            model, groups = self._build(problem)
            model.set("y", pu.initial_closed().astype(float))
            model.solve(self.solver)
            self.build_time_s += model.build_time_s
            self._models[key] = (problem, model, groups)
        self.problem, self.model, self.slack_groups = self._models[key]
        self._vm_key = key

    def evaluate(self, y: np.ndarray, need_gradient: bool = True) -> SlaveResult:
        y = np.round(np.asarray(y, float))
        self.model.set("y", y)
        sol = open_flow_status(self.model, self.model.solve(self.solver))
        self.n_solves += 1
        self.solve_time_s += sol.solve_time_s
        if sol.status not in SOLVED:
            # typed (ut_unc #8): the command line said "RuntimeError: ..." and asked for
            # --verbose; no cut can be built from a failed solve, so the run stops
            raise SlaveFailure(
                f"the conic solver failed on a scenario's (or extreme point's) SOCP at the "
                f"topology with open branches {open_branch_text(self.problem, y)} "
                f"({sol.status}): no valid cut can be built, so the run stops; loads far "
                "beyond the network's (kW written as MW?) or extreme impedances are the usual "
                "cause")
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
                  item: tuple[Any, ...]) -> SlaveResult:
    """One slave solve: ``item = (p_load, q_load, y, need_gradient)`` (per-bus p.u.), or
    ``(p_load, q_load, y, need_gradient, vm)`` with the scenario's (or a robust source
    corner's) source voltages ``vm`` [p.u. per bus, or None]
    (:meth:`PenalizedEvaluator.set_source_voltage`,
    :meth:`TopologyEvaluator.at_source_voltage`)."""
    p, q, y, need_gradient = item[:4]
    vm = item[4] if len(item) > 4 else None
    if isinstance(slave, PenalizedEvaluator):
        slave.set_source_voltage(vm)
    else:
        slave = slave.at_source_voltage(vm)
    slave.set_loads(p, q)
    if isinstance(slave, PenalizedEvaluator):
        return slave.evaluate(y, need_gradient)
    t0 = time.perf_counter()
    ev = slave.evaluate(y, need_gradient)
    spent = ev.solve_time_s or (time.perf_counter() - t0)
    return _result(slave.problem, ev.feasible, ev.objective, ev.violation, ev.gradient, ev.point,
                   spent)
