"""Stochastic reconfiguration: one radial topology for many load/DER scenarios (multi-cut Benders).

Problem (two-stage stochastic program with the topology as first stage):

    min_y  c_sw @ y + sum_s w_s F(y, d_s)       s.t. radiality(y),  y binary

with ``F`` the penalised slave of :mod:`feederopt.problems.uncertain` (losses [kW] plus
``omega`` [kW per p.u.] times the total slack on balance, voltage and current limits), which is
finite for every topology (complete recourse), and ``w_s`` the normalised scenario weights.

With ``objective="worst"`` the same topology minimises the worst scenario instead:

    min_y  c_sw @ y + max_s F(y, d_s)           s.t. radiality(y),  y binary

(the maximum is over each scenario's whole penalised slave value, losses plus ``omega`` times
its slack; the switching cost does not depend on the scenario and stays outside it). The master
then minimises ``eta + c_sw @ y`` with ``eta >= theta_s`` for every ``s`` and the same
per-scenario cuts on ``theta_s``; the L-shaped cut bounds ``eta`` by ``max_s F(y_k, d_s)``.
The maximum of convex value functions is convex, so the cuts stay valid and the master's bound
is a proven lower bound of the worst-case objective (minimax two-stage programs, e.g. Takriti
& Ahmed, "On robust optimization of two-stage systems", Math. Program. 99, 2004).

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

A scenario may hold the sources at its own voltage ``V_s`` (a SimBench study case's
``Slack_vm``; ``vm``): its slave is then the DistFlow model with ``v = V_s^2`` at the root. ``F``
is convex in ``(d, V^2)`` jointly (both are right-hand sides of the conic program), so the mean
scenario's master copy takes ``V^2`` at the weighted mean ``sum_s w_s V_s^2`` and stays a
relaxation.

Each iteration's ``S`` slaves run through an :class:`~feederopt.execution.Executor` (serial,
process pool or Ray); the cuts are added in scenario order, so the run is the same for any
number of workers.

When the answer needs slack in some scenario, the best topologies evaluated in every scenario
that need slack too, by the expected slack ``sum_s w_s phi_s`` and then the expected losses,
are its rivals (:attr:`~feederopt.algorithms.base.RawSolution.candidates`) in the API's choice
of the least probability-weighted AC violation, made when the run proves that no topology
meets the limits in every scenario (:func:`feederopt.validation.ac_least.realisation_key`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from feederopt.algorithms.base import (
    ProgressCallback,
    RawSolution,
    ViolatingCandidate,
    sweep_topologies,
)
from feederopt.algorithms.least_violating import WITHIN_CANDIDATES, CandidatePool
from feederopt.algorithms.master import MasterHelper, MasterLoop, MasterOptions
from feederopt.algorithms.outcomes import Execution, StochasticOutcome
from feederopt.algorithms.slaves import SlaveFactory, SlaveResult, evaluate_task
from feederopt.execution import Executor, SerialExecutor
from feederopt.formulations.blocks import Block, Cones, Group, Rows
from feederopt.network.topology import radial_topologies
from feederopt.options import SCENARIO_OBJECTIVES
from feederopt.problems.reconfiguration import (
    FEASIBILITY_TOL,
    ReconfigurationProblem,
    Violation,
)
from feederopt.problems.uncertain import DEFAULT_PENALTY
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.interrupt import Interrupted
from feederopt.solvers.status import Status


@dataclass(frozen=True)
class StochasticOptions(MasterOptions):
    penalty: float = DEFAULT_PENALTY  # omega [kW per p.u. of slack]
    #: Stop the master at its first improving topology (off: with many scenarios the masters
    #: then wander; solving them to optimality closed the gap faster on case33bw).
    master_first_improvement: bool = False
    solver: str = "CLARABEL"
    #: Physics copies in the master: scenarios sorted by total demand, split into this many
    #: groups, each carrying DistFlow at its own mean (Jensen per group; 1 = the mean only).
    clusters: int = 1
    #: Relative MIP gap of each master solve (a fraction of the stopping gap is enough).
    master_gap_share: float = 0.25
    #: After the run, when scenarios need slack at the chosen topology: seconds (beyond the
    #: time limit, like Benders' diagnosis) for naming their binding limits and for trying
    #: to prove that no topology supplies the worst of them (:func:`scenario_infeasible`).
    verdict_time_s: float = 30.0
    #: At most this many scenarios that need slack are diagnosed and tried for a proof.
    verdict_scenarios: int = 5
    #: Enumerate the radial topologies (:meth:`StochasticBenders.enumerate`) instead of
    #: running the master when their number times the scenarios' is at most this many slave
    #: solves (0: never). CIGRE MV with 10 more switches (184 radial topologies, 3 scenarios,
    #: user test ut41_unc): the master ended at the 90 s limit with a 45 % gap (17 % after
    #: 300 s; its Jensen bound at the mean load is far below the expected losses where
    #: PV scenarios cancel the load); the enumeration proves the optimum with 366 of the 552
    #: slave solves in 10-15 s. Beyond it (case33bw: 50,751 topologies) the master runs.
    enumeration_max_solves: int = 3000
    #: After a complete enumeration that proves no topology meets the limits in every
    #: scenario: evaluate the topologies it dropped in every scenario, for the AC choice's
    #: candidates (:meth:`StochasticBenders._complete_candidates`; off without an AC check).
    complete_candidates: bool = True
    #: ``expected`` (``sum_s w_s F(y, d_s)``) or ``worst`` (``max_s F(y, d_s)``): what the
    #: topology minimises beside its switching cost (module docstring).
    objective: str = "expected"


#: ``RawSolution.extra`` key (and the result JSON's): how many evaluations after an
#: enumeration (the per-scenario proof, the completion of the dropped topologies for the AC
#: choice) were left out because their conic solve failed (:meth:`StochasticBenders._map_after`).
SKIPPED_NOTE = "evaluations_skipped_conic_failure"

#: What a scenario run minimises (:attr:`StochasticOptions.objective`).
OBJECTIVES = SCENARIO_OBJECTIVES
#: The worst-case master's column ``eta >= theta_s`` for every scenario ``s``.
ETA = "eta"


@dataclass(frozen=True)
class ScenarioViolation(Violation):
    """A limit that a scenario (or an extreme point: ``scenario`` is then its index) breaks
    at the chosen topology."""

    scenario: int = -1


def scenario_infeasible(problem: ReconfigurationProblem, p: np.ndarray, q: np.ndarray,
                        time_limit_s: float) -> bool:
    """True when no radial topology meets the limits at the loads ``p``, ``q`` [p.u.] (proven).

    The MILP of radiality and DistFlow at these loads **without slack**, its branch cones
    replaced by tangent cuts at the seed points (outer approximation, Duran & Grossmann,
    Math. Prog. 36, 1986): a relaxation of every topology's SOCP, so HiGHS proving it
    infeasible proves that no topology is feasible there; then no topology meets the limits
    in every scenario either. False when HiGHS finds a point or runs out of time (no proof).
    This is the robust master's own proof (:mod:`feederopt.algorithms.robust`)."""
    block = problem.radiality_block()
    block.merge(physics_at(problem, p, q, slack=False))
    y_cost, _ = problem.y_cost()
    master = HighsModel(block, objective={"y": y_cost}, threads=1)
    helper = MasterHelper(master, np.flatnonzero(problem.pu.switchable), [""])
    helper.seed_and_root_cuts(problem, 0, {"master_s": 0.0})
    master.set_time_limit(max(time_limit_s, 0.1))
    return master.solve().status == "infeasible"


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


class StochasticBenders(MasterLoop):
    """Multi-cut Benders over scenarios (see module docstring)."""

    method = "stochastic-benders"
    options: StochasticOptions

    def __init__(
        self,
        problem: ReconfigurationProblem,
        p: np.ndarray,
        q: np.ndarray,
        weights: np.ndarray,
        options: StochasticOptions | None = None,
        executor: Executor | None = None,
        progress: ProgressCallback | None = None,
        vm: np.ndarray | None = None,
    ) -> None:
        """``problem`` must be built on a network whose loads dominate every scenario (see
        :func:`feederopt.problems.uncertain.envelope`); ``p``, ``q`` are (S, n_bus) in p.u.;
        ``vm`` (S, n_bus) the sources' voltage [p.u.] per scenario (read at the source buses;
        None: the network's ``v_set`` in every scenario)."""
        super().__init__(problem, options or StochasticOptions(), progress)
        self.p = np.atleast_2d(np.asarray(p, float))
        self.q = np.atleast_2d(np.asarray(q, float))
        self.vm = None if vm is None else np.atleast_2d(np.asarray(vm, float))
        self.weights = np.asarray(weights, float) / float(np.sum(weights))
        self.n_s = self.p.shape[0]
        self.executor = executor or SerialExecutor(
            SlaveFactory(self.pu, "penalized", self.options.penalty, self.options.solver))
        if self.options.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, not "
                             f"{self.options.objective!r}")
        self.worst = self.options.objective == "worst"
        #: the theta columns' objective coefficients (0 for worst: eta carries the objective)
        self.thetas = {f"theta_{s}": 0.0 if self.worst else float(self.weights[s])
                       for s in range(self.n_s)}
        self.timings = {"build_s": 0.0, "master_s": 0.0, "slave_s": 0.0, "slave_wall_s": 0.0}
        self.incumbent_y: np.ndarray | None = None
        self.incumbent_results: list[SlaveResult] = []
        self.clusters: list[np.ndarray] = []
        #: The start topologies evaluated before an enumeration (not evaluated again).
        self._started: set[bytes] = set()
        self._last_results: list[SlaveResult] = []
        #: After a complete enumeration: (the radial topologies, whether each of them needs
        #: slack in some scenario), for the verdict's wording (:meth:`_verdict`).
        self.exhaustive: tuple[int, bool] | None = None
        self._any_without_slack = False
        #: Per scenario: whether some topology evaluated there needs no slack in it.
        self._held_in = np.zeros(self.n_s, dtype=bool)
        #: After a complete enumeration in which every radial topology needs slack: the
        #: scenarios in which each of them needs slack (:meth:`_unsupplied_scenarios`).
        self.unsupplied: list[int] = []
        #: The best topologies evaluated in every scenario that need slack in one, by the
        #: expected total slack, then the expected losses (:meth:`_offer_candidate`): the
        #: answer's rivals in the AC choice of :attr:`RawSolution.candidates`.
        self.pool = CandidatePool()
        #: The best topologies evaluated in every scenario that need no slack in any, by the
        #: run's objective (:meth:`value`: ``c_sw @ y + sum_s w_s F(y, d_s)``, or the
        #: maximum over ``s`` with ``objective="worst"``): the rivals of an answer
        #: whose AC power flows break the limits although the model held them
        #: (:meth:`alternatives`; the SOCP relaxation is not exact under reverse flow).
        self.within_pool = CandidatePool(WITHIN_CANDIDATES)
        #: After a complete enumeration: the topologies dropped at the cutoff (their bound
        #: then, y, their slave per scenario, None where not evaluated).
        self._dropped: list[tuple[float, np.ndarray, list[SlaveResult | None]]] = []
        #: The evaluations after the run left out because a conic solve failed
        #: (:meth:`_map_after`): the note ``evaluations_skipped_conic_failure``.
        self.skipped_after = 0

    def source_vm(self, s: int) -> np.ndarray | None:
        """Scenario ``s``'s source voltages [p.u. per bus] (None: the network's)."""
        return None if self.vm is None else self.vm[s]

    def problem_at(self, vm: np.ndarray | None) -> ReconfigurationProblem:
        """The problem with the sources held at ``vm`` (None: the problem itself)."""
        pu = self.problem.pu.with_source_voltage(vm)
        return self.problem if pu is self.problem.pu else replace(self.problem, pu=pu)

    def mean_vm(self, idx: np.ndarray) -> np.ndarray | None:
        """The source voltage of scenarios ``idx``'s mean: ``sqrt(sum w_s V_s^2 / sum w_s)``
        (the model's variable is ``V^2``; None without scenario voltages)."""
        if self.vm is None:
            return None
        w = self.weights[idx] / self.weights[idx].sum()
        return np.sqrt(w @ self.vm[idx] ** 2)

    # ----- master -----------------------------------------------------------------------
    def _build_master(self) -> tuple[HighsModel, MasterHelper]:
        block: Block = self.problem.radiality_block()
        physics = self.options.master_physics
        groups = clusters_of(self.p, self.options.clusters) if physics else []
        self.clusters = groups
        copies = [f"#{k}" for k in range(len(groups))]
        for sfx, idx in zip(copies, groups, strict=True):
            w = self.weights[idx] / self.weights[idx].sum()
            block.merge(renamed(physics_at(self.problem_at(self.mean_vm(idx)), w @ self.p[idx],
                                           w @ self.q[idx], slack=True), sfx))
        low = self.problem.cost_lower_bound()
        extra = {name: (low, math.inf, w) for name, w in self.thetas.items()}
        if self.worst:
            extra[ETA] = (low, math.inf, 1.0)  # eta >= max_s theta_s (rows below)
        master = HighsModel(block, objective={"y": self.y_cost}, extra_columns=extra,
                            threads=self.options.threads)
        self._configure(master)
        master.set_gap(max(self.stop.gap * self.options.master_gap_share, 1e-9))
        helper = MasterHelper(master, self.sw, copies)
        if self.worst:
            for name in self.thetas:  # eta - theta_s >= 0
                master.add_cut({ETA: (np.array([0]), np.array([1.0])),
                                name: (np.array([0]), np.array([-1.0]))}, 0.0, math.inf)
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
            helper.seed_and_root_cuts(self.problem, self.options.root_oa_rounds, self.timings,
                                      self.remaining)
        self.timings["build_s"] += master.build_time_s
        return master, helper

    # ----- slaves -----------------------------------------------------------------------
    def evaluate(self, y: np.ndarray, need_gradient: bool = True) -> list[SlaveResult]:
        """Every scenario's slave at topology ``y``, in scenario order."""
        items = [(self.p[s], self.q[s], y, need_gradient, self.source_vm(s))
                 for s in range(self.n_s)]
        return self._map_slaves(evaluate_task, items)

    def expected(self, y: np.ndarray, results: Sequence[SlaveResult]) -> float:
        """``c_sw @ y + sum_s w_s F(y, d_s)`` [kW-equivalent]."""
        values = np.array([r.objective for r in results])
        return float(self.weights @ values) + float(self.y_cost @ y) + self.y_const

    def worst_value(self, y: np.ndarray, results: Sequence[SlaveResult]) -> float:
        """``c_sw @ y + max_s F(y, d_s)`` [kW-equivalent]."""
        values = np.array([r.objective for r in results])
        return float(values.max()) + float(self.y_cost @ y) + self.y_const

    def value(self, y: np.ndarray, results: Sequence[SlaveResult]) -> float:
        """The run's objective at ``y``: :meth:`expected` or :meth:`worst_value`
        (``options.objective``)."""
        return self.worst_value(y, results) if self.worst else self.expected(y, results)

    def _offer_candidate(self, y: np.ndarray, results: Sequence[SlaveResult]) -> None:
        """Offer topology ``y``, evaluated in every scenario (``results``), to :attr:`pool`
        when some scenario needs slack there: ranked by its expected total slack
        ``sum_s w_s phi_s`` [p.u.] (the penalised slaves' slack), then its expected losses
        ``sum_s w_s losses_s`` [kW]; the slave results go with it. A topology that needs no
        slack in any scenario goes to :attr:`within_pool` instead, ranked by its expected
        objective (:meth:`expected`)."""
        if all(r.violation <= FEASIBILITY_TOL for r in results):
            self.within_pool.offer(y, 0.0, self.value(y, results), list(results))
            return
        w = self.weights
        self.pool.offer(y, float(w @ np.array([r.violation for r in results])),
                        float(w @ np.array([r.losses_kw for r in results])), list(results))

    def _offer(self, helper: MasterHelper | None, y: np.ndarray) -> None:
        results = self.evaluate(y)
        self._last_results = results
        self._offer_candidate(y, results)
        total = self.value(y, results)
        if self.update_upper(total):
            self.incumbent_y, self.incumbent_results = y.copy(), results
        if helper is not None:
            for s, r in enumerate(results):
                helper.linear_cut({f"theta_{s}": 1.0}, y, r.objective, r.gradient)
            if self.options.combinatorial_cuts:
                values = np.array([r.objective for r in results])
                if self.worst:  # eta >= max_s F(y_k, d_s) at y_k
                    helper.l_shaped_cut({ETA: 1.0}, y, float(values.max()),
                                        self.problem.cost_lower_bound())
                else:
                    helper.l_shaped_cut(self.thetas, y, float(self.weights @ values),
                                        self.problem.cost_lower_bound())
            for sfx, idx in zip(helper.copies, self.clusters, strict=True):
                point = weighted_point([results[s] for s in idx], self.weights[idx])
                helper.point_cuts({**point, "y": y}, y > 0.5, copy=sfx)
        self._last_slave_s = sum(r.solve_time_s for r in results)

    # ----- main loop --------------------------------------------------------------------
    def _has_incumbent(self) -> bool:
        return self.incumbent_y is not None

    def run(self, initial: list[np.ndarray] | None = None,
            known: Sequence[tuple[np.ndarray, Any]] = ()) -> RawSolution:
        """Solve from the start topologies ``initial``; ``known`` are slave solutions (of any
        load) whose points seed the outer approximation of the master's physics copies. With
        few radial topologies (``enumeration_max_solves``) they are enumerated instead of
        running the master (:meth:`enumerate`)."""
        pu = self.pu
        limit = self.options.enumeration_max_solves // max(self.n_s, 1)
        topologies = radial_topologies(pu.n_bus, pu.f, pu.t, pu.switchable, pu.is_source,
                                       limit) if limit > 0 else None
        if topologies is not None:
            self._offer_initial_unhelped(initial or [])
            self.enumerate([c.astype(float) for c in topologies])
            raw = self._verdict(self._solution())
            if (raw.status is Status.INFEASIBLE and self.options.complete_candidates
                    and self._complete_candidates()):
                raw = replace(raw, candidates=self._candidates(), timings=dict(self.timings))
            if self.skipped_after:
                # a topology left out of the proof or the AC choice's candidates, said
                raw = replace(raw, extra={**raw.extra, SKIPPED_NOTE: self.skipped_after})
            return raw
        master, helper = self._build_master()
        if self.options.master_physics:
            self.timings["warm_cuts"] = helper.warm_cuts(
                known, self.options.warm_topologies, self.options.warm_rows)
        self._offer_initial(helper, initial or [])
        self._master_loop(master, helper, y_const=self.y_const)
        raw = self._verdict(self._solution())
        if self.skipped_after:  # a topology left out of the verdict's enumeration, said
            raw = replace(raw, extra={**raw.extra, SKIPPED_NOTE: self.skipped_after})
        return raw

    def _offer_initial_unhelped(self, initial: Sequence[np.ndarray]) -> None:
        """The radial start topologies' slaves (no master: their values only), until a stop
        request."""
        for y in self._radial_starts(initial):
            if self.interrupted() or not self._try_offer(None, y):
                break
            self._started.add(np.round(y).astype(np.int8).tobytes())
            self._held_in |= np.array([r.violation <= FEASIBILITY_TOL
                                       for r in self._last_results])
            self._any_without_slack |= all(r.violation <= FEASIBILITY_TOL
                                           for r in self._last_results)
        self.record(0.0, self.timings["slave_s"], "start")

    def enumerate(self, topologies: Sequence[np.ndarray]) -> None:
        """The least expected value over ``topologies`` (every radial topology), proven:

            min_y  c_sw @ y + sum_s w_s F(y, d_s)      over the listed y.

        The scenarios are taken one at a time, the one with the largest share of the
        incumbent's expected value first, each for every topology still in the race (one
        round of slaves through the executor, in chunks); after each, a topology's bound is
        ``c_sw @ y + sum_{s done} w_s F(y, d_s) + sum_{s not done} w_s L`` (``L`` the slave's
        lower bound, :meth:`~feederopt.problems.reconfiguration.ReconfigurationProblem.
        cost_lower_bound`: losses are not negative), and a topology whose bound reaches the
        cutoff ``UB (1 - gap/2)`` of the master is dropped (it cannot improve the incumbent
        within the gap). The run's lower bound is the least of the bounds of the topologies
        left, of those dropped (each when dropped) and of the incumbent's value: every
        topology is of one of these kinds, so it holds whenever the enumeration stops (time
        limit, stop request); when it ends, the incumbent is the optimum within the gap (a
        branch-and-bound with one level per scenario; cf. the enumeration of the three-phase
        method, :mod:`feederopt.algorithms.radial_enumeration`). A complete enumeration sets
        :attr:`exhaustive`: the number of topologies and whether each needs slack in a
        scenario (one dropped before any scenario with slack counts as not needing it).

        With ``objective="worst"`` the value is ``c_sw @ y + max_s F(y, d_s)`` and a
        topology's bound after some scenarios is ``c_sw @ y + max(L, max_{s done}
        F(y, d_s))`` (the maximum over all scenarios is at least that over those done); the
        scenarios are taken largest incumbent value first.
        """
        low = self.problem.cost_lower_bound()
        left = [y for y in topologies
                if np.round(y).astype(np.int8).tobytes() not in self._started]
        base = np.array([float(self.y_cost @ y) + self.y_const for y in left])
        partial = base + low * (1.0 if self.worst else float(self.weights.sum()))
        results: list[list[SlaveResult | None]] = [[None] * self.n_s for _ in left]
        # worst: each scenario weighs fully (the largest value first prunes most)
        weights = np.ones(self.n_s) if self.worst else self.weights
        if self.incumbent_results:
            share = weights * np.array([r.objective for r in self.incumbent_results])
        else:
            share = weights.copy()
        order = [int(s) for s in np.argsort(-share, kind="stable")]
        alive = np.ones(len(left), dtype=bool)
        slack = np.zeros(len(left), dtype=bool)  # needs slack in a scenario evaluated
        chunk = max(16, 4 * self.executor.workers)
        self.timings["enumerated_topologies"] = len(topologies)

        def cutoff() -> float:
            return self.upper - self.stop.gap * abs(self.upper) * 0.5 if math.isfinite(
                self.upper) else math.inf

        dropped = [math.inf]  # the least bound of a topology dropped at the cutoff

        def bound() -> float:
            least = float(partial[alive].min()) if alive.any() else math.inf
            return min(dropped[0], least, self.upper)

        def drop(ks: list[int]) -> None:
            if ks:
                dropped[0] = min(dropped[0], float(partial[ks].min()))
                alive[ks] = False

        for done, s in enumerate(order, start=1):
            self.iteration += 1
            self.phase(f"enumeration: scenario {done} of {self.n_s}, "
                       f"{int(alive.sum())} topologies left")
            todo = [int(k) for k in np.flatnonzero(alive)]
            slave_s = 0.0
            for j in range(0, len(todo), chunk):
                if self.remaining() <= 0:
                    self.update_lower(bound())
                    self.record(0.0, slave_s, "enumeration stopped")
                    return
                part = [k for k in todo[j:j + chunk] if partial[k] < cutoff()]
                drop([k for k in todo[j:j + chunk] if partial[k] >= cutoff()])
                if not part:
                    continue
                try:
                    got = self._map_slaves(evaluate_task, [
                        (self.p[s], self.q[s], left[k], False, self.source_vm(s))
                        for k in part])
                except Interrupted:
                    self.update_lower(bound())
                    self.record(0.0, slave_s, "enumeration stopped")
                    return
                slave_s += sum(r.solve_time_s for r in got)
                for k, r in zip(part, got, strict=True):
                    results[k][s] = r
                    slack[k] |= r.violation > FEASIBILITY_TOL
                    if self.worst:  # c_sw @ y + max over the scenarios done (and L)
                        partial[k] = max(partial[k], base[k] + r.objective)
                    else:
                        partial[k] += self.weights[s] * (r.objective - low)
                    if done == self.n_s:
                        full = [x for x in results[k] if x is not None]
                        self._offer_candidate(left[k], full)
                        if self.update_upper(float(partial[k])):
                            self.incumbent_y, self.incumbent_results = left[k].copy(), full
                        alive[k] = False  # evaluated: no longer a bound below the value
                        partial[k] = math.inf
                    elif partial[k] >= cutoff():
                        drop([k])
            self._last_slave_s = slave_s
            self.update_lower(bound())
            self.record(0.0, slave_s, f"enumeration: scenario {done} of {self.n_s}")
        self.update_lower(bound())
        # every topology evaluated (or dropped): does each need slack somewhere?
        self.exhaustive = (len(topologies),
                           not self._any_without_slack and bool(np.all(slack)))
        # the topologies dropped at the cutoff, with the scenarios evaluated before
        self._dropped = [(float(bound_k), left[k], results[k])
                         for k, bound_k in enumerate(partial) if np.isfinite(bound_k)]
        if self.exhaustive[1]:
            self.unsupplied = self._unsupplied_scenarios(left, results)

    def _unsupplied_scenarios(self, left: Sequence[np.ndarray],
                              results: list[list[SlaveResult | None]]) -> list[int]:
        """After a complete enumeration in which every radial topology needs slack in some
        scenario: the scenarios in which every radial topology needs slack (no radial
        topology supplies them within the limits, in the model, hence in AC: the SOCP
        relaxes the AC equations). A scenario in which some topology evaluated needs none is
        held; for the others, the topologies dropped before the scenario was evaluated are
        evaluated in it (within ``verdict_time_s``, until a stop request); a scenario left
        with a topology not evaluated there is not named (no proof)."""
        held = self._held_in.copy()
        for row in results:
            held |= np.array([r is not None and r.violation <= FEASIBILITY_TOL for r in row])
        end = self.elapsed + self.options.verdict_time_s
        out: list[int] = []
        for s in (int(x) for x in np.flatnonzero(~held)):
            todo = [k for k, row in enumerate(results) if row[s] is None]
            proven = True
            for j in range(0, len(todo), 32):
                if self.elapsed >= end or self.interrupted():
                    proven = False
                    break
                part = todo[j:j + 32]
                try:
                    done = self._map_after([
                        (self.p[s], self.q[s], left[k], False, self.source_vm(s))
                        for k in part])
                except Interrupted:
                    done = None
                if done is None:
                    proven = False
                    break
                got = done
                for k, r in zip(part, got, strict=True):
                    results[k][s] = r
                if any(r.violation <= FEASIBILITY_TOL for r in got):
                    proven = False
                    break
            if proven:
                out.append(s)
        return out

    def _unsupplied_by_enumeration(self, trees: Sequence[np.ndarray], scenarios: Sequence[int],
                                   end: float) -> tuple[list[int], list[int]]:
        """After the master, for the scenarios that need slack at the answer (``scenarios``):
        each of the grid's radial topologies ``trees`` evaluated in them, one scenario at a
        time (its penalised SOCP slave). A scenario in which every topology needs slack is
        supplied by none within the limits, in the model, hence in AC (the SOCP relaxes the
        AC equations): the first list. The MILP proof (:func:`scenario_infeasible`) outer-
        approximates the cones and can miss a current limit (ut48_scen #3: 79 topologies, 40
        scenarios, 3160 slave solves just over ``enumeration_max_solves``; in scenario s35
        every topology loads a branch >= 71.52 % against 70 %, and the MILP found a point).
        A scenario in which a topology needs no slack is held (no proof, by any method: each
        topology's SOCP contains the MILP's relaxation); one whose evaluation the clock
        (``end``: the run's clock, past the time limit as the verdict), a stop request or a
        failed conic solve (:meth:`_map_after`) cut short is undecided: the second list."""
        proven: list[int] = []
        undecided: list[int] = []
        for s in scenarios:
            def evaluate(part: list[np.ndarray], s: int = s) -> list[SlaveResult] | None:
                try:
                    return self._map_after([(self.p[s], self.q[s], y, False,
                                             self.source_vm(s)) for y in part])
                except Interrupted:
                    return None

            sweep = sweep_topologies(trees, evaluate,
                                     lambda r: r.violation <= FEASIBILITY_TOL,
                                     lambda: self.elapsed >= end or self.interrupted())
            if sweep.held:
                continue
            (proven if sweep.decided else undecided).append(s)
        return proven, undecided

    def _complete_candidates(self) -> bool:
        """After a complete enumeration that proves no radial topology meets the limits in
        every scenario (the verdict's ``infeasible``): evaluate the other scenarios of the
        topologies that the enumeration dropped at the cutoff, least bound first, until
        :attr:`pool` holds its ``size`` candidates of the AC choice, within
        ``verdict_time_s`` (as the verdict, past the time limit) and until a stop request.
        Dropped, they had no complete evaluation, so the AC choice had only the answer and
        the few topologies completed (two of fifteen on a ring where another one breaks the
        limits by a third less in AC). The incumbent stays: each was dropped at a bound
        within the gap of it. A topology whose conic solve fails is left out (counted in
        :attr:`skipped_after`), as :meth:`alternatives` does: before, the failure went
        through the run's round of slaves, which requests a stop of the whole run. True when
        some topology was completed."""
        t0 = self.elapsed
        # after the run, as the AC choice's completion: a failed conic solve leaves this
        # topology out (noted), it does not stop the run (session 44, savefix #3)
        done = self._complete_dropped(self.pool, t0 + self.options.verdict_time_s)
        if done:
            self.timings["candidates_completed_s"] = self.elapsed - t0
        return done > 0

    def _complete_dropped(self, pool: Any, end: float) -> int:
        """Evaluate the other scenarios of the topologies the enumeration dropped at the
        cutoff, least bound first, offering each completed one as a candidate, until ``pool``
        is full, the clock passes ``end`` or a stop is requested; the dropped list is then
        cleared. A topology whose conic solve fails is left out (:meth:`_map_after`). The
        number of topologies completed."""
        done = 0
        for _, y, partial in sorted(self._dropped, key=lambda d: d[0]):
            if len(pool) >= pool.size or self.elapsed >= end or self.interrupted():
                break
            missing = [s for s in range(self.n_s) if partial[s] is None]
            try:
                got = self._map_after([
                    (self.p[s], self.q[s], y, False, self.source_vm(s)) for s in missing])
            except Interrupted:
                break
            if got is None:
                continue
            for s, r in zip(missing, got, strict=True):
                partial[s] = r
            self._offer_candidate(y, [r for r in partial if r is not None])
            done += 1
        self._dropped = []
        return done

    def _map_after(self, items: list[Any]) -> list[SlaveResult] | None:
        """The slaves of ``items`` after the run (the AC choice's and the verdict's extra
        evaluations, whose own budget bounds them, past the time limit as the verdict):
        None when a conic solver failed on one (that evaluation is left out; unlike a
        failure during the run it stops nothing, the answer is already found)."""
        from feederopt.algorithms.slaves import SlaveFailure

        try:
            got: list[SlaveResult] = self.executor.map(evaluate_task, items)
        except SlaveFailure:
            self.skipped_after += 1
            return None
        self.timings["slave_s"] += sum(r.solve_time_s for r in got)
        self.n_slave_solves += len(got)
        return got

    def alternatives(self, seconds: float) -> list[ViolatingCandidate]:
        """The answer (the incumbent) and its rivals for an AC choice when the answer needs no
        slack in the model but its AC power flows break the limits (the SOCP relaxation not
        exact: under reverse flow its losses that no power flow has can hold ``v_max``; Gan,
        Li, Topcu & Low, IEEE TAC 60(1), 2015): first the topologies within the limits in
        the model (:attr:`within_pool`, least objective first: expected or worst-case,
        ``options.objective``), then those that
        need slack (:attr:`pool`, least expected slack first). After an enumeration, the
        topologies it dropped at the cutoff are first evaluated in their other scenarios,
        least bound first, for ``seconds`` at most and until a stop request, so that they
        can be rivals too. Empty without an incumbent."""
        if self.incumbent_y is None:
            return []
        self._complete_dropped(self.within_pool, self.elapsed + max(seconds, 0.0))
        results = self.incumbent_results
        w = self.weights
        answer = ViolatingCandidate(
            self.incumbent_y.copy(), float(w @ np.array([r.violation for r in results])),
            float(w @ np.array([r.losses_kw for r in results])), list(results))
        within = self.within_pool.ranked(answer)
        seen = {np.round(c.y).astype(np.int8).tobytes() for c in within}
        return within + [c for c in self.pool.ranked(None)
                         if np.round(c.y).astype(np.int8).tobytes() not in seen]

    def _candidates(self) -> list[ViolatingCandidate]:
        """The answer (the incumbent) and its rivals of :attr:`pool`, when some scenario
        needs slack at the answer (none otherwise)."""
        results = self.incumbent_results
        if self.incumbent_y is None or all(r.violation <= FEASIBILITY_TOL for r in results):
            return []
        w = self.weights
        return self.pool.ranked(ViolatingCandidate(
            self.incumbent_y.copy(), float(w @ np.array([r.violation for r in results])),
            float(w @ np.array([r.losses_kw for r in results])), list(results)))

    def _verdict(self, raw: RawSolution) -> RawSolution:
        """The limits verdict of the chosen topology over the scenarios: within the limits
        only when no scenario needs slack (total slack <= ``FEASIBILITY_TOL``). Otherwise the
        worst scenarios (at most ``verdict_scenarios``, most slack first) are diagnosed and,
        within ``verdict_time_s``, tried for a proof that no topology supplies them
        (:func:`scenario_infeasible`; when the grid has at most ``enumeration_max_solves``
        radial topologies and the MILP proved nothing in half that time, each topology is
        evaluated in those scenarios, :meth:`_unsupplied_by_enumeration`): a proof makes the
        status ``infeasible``.

        A scenario's diagnosis is the deterministic phase-1 slave's (balance slack weighted
        up, so that it names the binding voltage or current limit rather than unsupplied
        load), else the scenario's own penalised slave's violated limits, those its reported
        slack is on. Phase 1 minimises the slack alone, so it can find none where the
        penalised slave ``F`` = losses + ``omega`` * slack paid slack: where the relaxation is
        not exact, the losses that would hold the limits (``l > (P^2+Q^2)/v``, which no power
        flow has) cost more than the slack (user test ut35: 1.74e-3 p.u. of slack on v_max at
        bus 7 in the penalised slave, none in phase 1, and the diagnosis was empty beside a
        scenario table that showed the slack). Every scenario diagnosed, also when the time
        for phase 1 is spent, so names its limits."""
        if raw.y is None or not self.incumbent_results:
            return raw
        bad = [s for s, r in enumerate(self.incumbent_results)
               if r.violation > FEASIBILITY_TOL]
        if not bad:
            return raw
        bad.sort(key=lambda s: -self.incumbent_results[s].violation)
        end = self.elapsed + self.options.verdict_time_s
        diagnosis = self._diagnose(raw.y, self.incumbent_results, end)
        proven: int | None = None
        tried = [] if self.unsupplied else bad[: self.options.verdict_scenarios]
        # few radial topologies (the master ran: too many for the scenarios together): after
        # the MILP's proof, given half the time, each topology is evaluated in the scenarios
        # that need slack, an exact proof per scenario (the MILP's cones are outer-
        # approximated, and it can miss a limit: ut48_scen #3)
        enumerated: list[int] = []
        trees = (radial_topologies(self.pu.n_bus, self.pu.f, self.pu.t, self.pu.switchable,
                                   self.pu.is_source, self.options.enumeration_max_solves)
                 if tried and self.exhaustive is None
                 and self.options.enumeration_max_solves > 0 else None)
        milp_end = self.elapsed + (end - self.elapsed) / 2 if trees else end
        # (an enumeration that named the scenarios no topology supplies needs no more proof)
        for s in tried:
            left = milp_end - self.elapsed
            if left <= 0:
                break
            if scenario_infeasible(self.problem_at(self.source_vm(s)), self.p[s], self.q[s],
                                   left):
                proven = s
                break
        if trees and proven is None:
            enumerated, _ = self._unsupplied_by_enumeration(
                [c.astype(float) for c in trees], tried, end)
        extra = {**raw.extra, "scenarios_with_slack": len(bad)}
        if self.exhaustive is not None:
            # the search was exhaustive: the verdict's wording says so (ut41_unc #3)
            extra["radial_topologies_evaluated"] = self.exhaustive[0]
            extra["every_radial_topology_needs_slack"] = self.exhaustive[1]
        if enumerated and trees:
            # every radial topology evaluated in these scenarios needs slack there: the
            # enumeration's proof per scenario, after the master (ut48_scen #3)
            extra["radial_topologies_evaluated"] = len(trees)
            extra["every_radial_topology_needs_slack"] = True
            self.unsupplied = list(enumerated)
        if self.unsupplied:
            # the enumeration's proof, per scenario: every radial topology needs slack there
            extra["unsupplied_scenarios"] = list(self.unsupplied)
            proven = self.unsupplied[0] if proven is None else proven
        elif proven is not None:
            # the MILP's proof names one scenario no topology supplies (it stops at the first
            # it proves): listed as the enumeration's are (ut46_scen #1)
            extra["unsupplied_scenarios"] = [proven]
        if proven is not None:
            extra["infeasible_scenario"] = proven
        # Every radial topology enumerated needs slack in some scenario: the SOCP is a
        # relaxation of the AC equations, so no radial topology keeps the limits in every
        # scenario, in the model or in AC -- proven infeasible, as the master's proof would be.
        every = self.exhaustive is not None and bool(self.exhaustive[1])
        return replace(raw, within_limits=False, diagnosis=diagnosis, extra=extra,
                       status=Status.INFEASIBLE if proven is not None or every
                       else raw.status)

    def _diagnose(self, y: np.ndarray, results: Sequence[SlaveResult],
                  end: float) -> list[Violation]:
        """The violated limits of topology ``y`` in the scenarios that need slack there
        (``results``, one per scenario; at most ``verdict_scenarios``, most slack first), as
        :meth:`_verdict` names them: the deterministic phase-1 slave's while the run's clock
        is before ``end``, else (or when it names none) the penalised slave's."""
        from feederopt.algorithms.slaves import TopologyEvaluator

        bad = sorted((s for s, r in enumerate(results) if r.violation > FEASIBILITY_TOL),
                     key=lambda s: -results[s].violation)
        evaluators: dict[bytes, TopologyEvaluator] = {}
        diagnosis: list[Violation] = []
        for s in bad[: self.options.verdict_scenarios]:
            named: list[Violation] = []
            if self.elapsed < end:
                problem = self.problem_at(self.source_vm(s))
                key = np.asarray(problem.pu.v_set, float).tobytes()
                if key not in evaluators:
                    evaluators[key] = TopologyEvaluator(problem, self.options.solver)
                evaluator = evaluators[key]
                evaluator.set_loads(self.p[s], self.q[s])
                named = list(evaluator.evaluate_violation(y).violations)
            named = named or list(results[s].violations)
            diagnosis += [ScenarioViolation(v.component, v.index, v.limit, v.amount, v.value,
                                            scenario=s) for v in named]
        return diagnosis

    def at_candidate(self, raw: RawSolution, candidate: ViolatingCandidate) -> RawSolution:
        """``raw`` (a least-violating answer: no topology meets the limits in every
        scenario) with ``candidate`` of its :attr:`~RawSolution.candidates` as the topology
        (the AC choice among them): its scenario results, expected objective
        ``c_sw @ y + sum_s w_s F(y, d_s)`` (and the gap to the same bound) and the violated
        limits of its scenarios (:meth:`_diagnose`, within ``verdict_time_s`` more) and how
        many need slack; the status, bound, proof and log stay the run's."""
        y = np.asarray(candidate.y, float)
        results = list(candidate.evaluation)
        w = self.weights
        objective = self.value(y, results)
        outcome = StochasticOutcome(
            scenario_results=results,
            expected_objective_kw=self.expected(y, results),
            expected_losses_kw=float(w @ np.array([r.losses_kw for r in results])),
            expected_violation_pu=float(w @ np.array([r.violation for r in results])),
            penalty_kw_per_pu=self.options.penalty,
            execution=Execution(self.n_slave_solves, self.executor.workers, self.executor.kind),
            objective=self.options.objective,
            worst_objective_kw=self.worst_value(y, results),
        )
        gap = (max(objective - raw.lower_bound, 0.0) / max(abs(objective), 1e-9)
               if math.isfinite(raw.lower_bound) else math.inf)
        diagnosis = self._diagnose(y, results, self.elapsed + self.options.verdict_time_s)
        bad = sum(r.violation > FEASIBILITY_TOL for r in results)
        return replace(raw, y=y.copy(), objective=objective, gap=gap, outcome=outcome,
                       diagnosis=diagnosis, within_limits=bad == 0,
                       extra={**raw.extra, "scenarios_with_slack": bad})

    def _solution(self) -> RawSolution:
        if self.incumbent_y is None:
            return RawSolution(self.final_status(False), self.method, None, math.nan,
                               -math.inf, math.inf, self.iteration, self.elapsed,
                               log=list(self.log),
                               timings=dict(self.timings), solver=self._solver_name())
        self.record_if_moved("final bounds")  # the log ends on the result's bounds
        status = self.final_status(True)
        results = self.incumbent_results
        w = self.weights
        outcome = StochasticOutcome(
            scenario_results=results,
            expected_objective_kw=self.expected(self.incumbent_y, results),
            expected_losses_kw=float(w @ np.array([r.losses_kw for r in results])),
            expected_violation_pu=float(w @ np.array([r.violation for r in results])),
            penalty_kw_per_pu=self.options.penalty,
            execution=Execution(self.n_slave_solves, self.executor.workers, self.executor.kind),
            objective=self.options.objective,
            worst_objective_kw=self.worst_value(self.incumbent_y, results),
        )
        # Some scenario needs slack: the candidates of the AC choice (the API's, when the
        # verdict proves that no topology meets the limits in every scenario)
        candidates = self._candidates()
        return RawSolution(
            status=status, method=self.method, y=self.incumbent_y.copy(),
            objective=self.upper, lower_bound=self.lower, gap=self.gap,
            iterations=self.iteration, solve_time_s=self.elapsed, point={},
            log=list(self.log), timings=dict(self.timings), solver=self._solver_name(),
            outcome=outcome, candidates=candidates,
        )

    def _solver_name(self) -> str:
        if "enumerated_topologies" in self.timings:
            n = int(self.timings["enumerated_topologies"])
            return (f"enumeration of {n} radial {'topology' if n == 1 else 'topologies'} + "
                    f"{self.options.solver} (scenario slaves)")
        return f"HiGHS (master) + {self.options.solver} (scenario slaves)"
