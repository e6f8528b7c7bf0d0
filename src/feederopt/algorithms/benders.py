"""Benders decomposition for radial reconfiguration: MILP master on HiGHS, SOCP slave on Clarabel.

Master (persistent HiGHS model, rows only ever added):

    min   theta + c_sw @ y
    s.t.  radiality(y)
          theta >= f(y_k) + g_k @ (y - y_k)                              optimality cuts
          phi(y_k) + h_k @ (y - y_k) <= 0,  no-good(y_k)                 feasibility cuts
          theta >= (f(y_k) - L) (sum_{C_k} y - sum_{O_k} y - |C_k| + 1) + L   integer L-shaped
          [partial Benders] DistFlow rows, theta >= sum r l, OA cuts of the cones

* ``f`` is the slave's phase-2 value (losses), ``phi`` its phase-1 value (total slack), and
  ``g``, ``h`` their gradients from the duals of ``y = y_k`` (Geoffrion 1972). Both functions
  are convex in the relaxed ``y``, so the cuts are valid for every binary ``y``.
* Cuts from big-M models are weak; the integer L-shaped cut (Laporte & Louveaux, "The integer
  L-shaped method for stochastic integer programs with complete recourse", Oper. Res. Lett. 13,
  1993), with ``L`` a lower bound of the slave's cost (0 for losses alone, less with priced DG),
  makes the method finite: a topology that
  the master proposes twice has ``theta >= f``, and the bounds meet.
* Partial Benders (Crainic, Hewitt, Maggioni & Rei, "Partial Benders decomposition: general
  methodology and application to stochastic network design", Transp. Sci. 55(2), 2021) keeps a
  relaxation of the slave in the master: the DistFlow rows with the cones replaced by their
  outer approximation at seed points and at every slave solution. It is a valid relaxation of
  the MISOCP, so the master's bound stays a proven lower bound. ``master_physics=False`` runs
  the classic method.
* Start: the continuous relaxation of the MISOCP (``0 <= y <= 1``, Clarabel) is the first lower
  bound and its optimum the first OA point; the start topologies (the base case and the
  heuristics' result) are evaluated before the master is built, and the heuristics' flows give
  OA cuts as well (:meth:`MasterHelper.warm_cuts`), so that the master's first topology is
  priced close to its true losses. The main loop itself is :class:`MasterLoop`.
* When no radial topology meets the limits the master (with physics) is infeasible, or every
  topology gets a feasibility cut; the method then minimises the total slack instead and
  reports the least-violating topology with the limits that it breaks. The violation is the
  slave's phase-1 value ``phi``, the weighted sum of the slacks (1 on the voltage, current and
  rating limits, ``BALANCE_SLACK_WEIGHT`` on power balance), not the largest loading. A second
  stage then breaks the ties of that sum: among the topologies with ``phi(y) <= phi* + tol``
  (``phi*`` the least found, ``tol`` of
  :func:`~feederopt.algorithms.least_violating.violation_tol`) it minimises the objective
  (losses, plus switching costs when priced) by the same master loop, the slave being the
  least-loss SOCP within that slack budget
  (:meth:`~feederopt.problems.reconfiguration.ReconfigurationProblem.slack_budget_block`), the
  feasibility cuts ``phi(y_k) + h_k @ (y - y_k) <= phi* + tol`` (lexicographic optimisation:
  violation first, losses second). The order, the stages' windows and the tie-break's losses
  are shared with the robust and DOPF searches (:mod:`feederopt.algorithms.least_violating`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from feederopt.algorithms.base import (
    Deadline,
    OutOfTime,
    ProgressCallback,
    RawSolution,
    StopOptions,
    ViolatingCandidate,
    stopped_status,
)
from feederopt.algorithms.least_violating import (
    WITHIN_CANDIDATES,
    CandidatePool,
    ViolationRank,
    flow_losses_kw,
    stage_stop,
    violation_tol,
)
from feederopt.algorithms.master import MasterHelper, MasterLoop, MasterOptions
from feederopt.algorithms.oa import SEED_SHARES
from feederopt.algorithms.probing import probe_closed
from feederopt.algorithms.slaves import SlaveFailure, TopologyEvaluator
from feederopt.formulations.blocks import Block
from feederopt.formulations.distflow import slack_objective
from feederopt.problems.reconfiguration import Evaluation, ReconfigurationProblem
from feederopt.solvers import interrupt
from feederopt.solvers.cvxpy_backend import CvxpyModel, time_limit_options
from feederopt.solvers.detect import solver_label
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.scip_master import ScipMaster
from feederopt.solvers.status import (
    LOSS_PHASE,
    SOLVED,
    TIE_PHASE,
    VIOLATION_PHASE,
    SolverStatus,
    Status,
)


@dataclass(frozen=True)
class BendersOptions(MasterOptions):
    #: One Kelley round: the tangents at the conic relaxation's optimum already bring the
    #: master's LP to the conic bound (on the 1000-bus feeder each round is a 10-25 s LP).
    root_oa_rounds: int = 1
    verbose: bool = False
    relaxation_bound: bool = True  # the continuous relaxation's bound before the master
    seed_shares: tuple[float, ...] = SEED_SHARES
    #: The search for the least-violating topology: each of its two stages (least total
    #: slack, then least losses at it) within this time and this many master iterations.
    diagnosis_time_s: float = 30.0
    diagnosis_iterations: int = 10
    #: Share of the time limit for conic probing (:mod:`feederopt.algorithms.probing`): the
    #: switches that every topology better than the incumbent keeps closed are fixed in the
    #: master; 0 turns it off. 60 s runs, 0.1 -> 0.3: case136ma 34 -> 105 of 105 switches
    #: probed, bound 272.39 -> 273.75 kW; case118zh 34 -> 122 of 122, gap 6.7 -> 5.8 %.
    #: With the loop branch-and-bound (probing.loop_branch_bound) after the rounds, 60 s runs
    #: (load 3-5), share/rounds 0.3/1 -> 0.8/10: mv_oberrhein gap 2.90 -> 0.56 %, case136ma
    #: 1.94 -> 0.42 %, case118zh 3.20 -> 2.40 %; case33bw and case69bw still proven (5.0 s,
    #: 12.4 s; the branch-and-bound proves them, the master is not needed).
    probe_time_share: float = 0.8
    #: Passes over the switches (a fixed switch stays closed after); they stop when one fixes
    #: nothing (mv_oberrhein: 50 fixed after the first, 92 after the third).
    probe_rounds: int = 10


class Benders(MasterLoop):
    """Two-stage Benders reconfiguration (see module docstring)."""

    method = "benders"
    options: BendersOptions

    def __init__(
        self,
        problem: ReconfigurationProblem,
        options: BendersOptions | None = None,
        progress: ProgressCallback | None = None,
        evaluator: TopologyEvaluator | None = None,
    ) -> None:
        super().__init__(problem, options or BendersOptions(), progress)
        self.evaluator = evaluator or TopologyEvaluator(problem)
        # Every slave solve (the start heuristics' too, on the same evaluator) stops at the
        # run's time limit: lv_schutterwald's (2940 buses) took 83.5 s of a 60 s limit.
        self.evaluator.deadline = Deadline(self.stop.time_limit_s)
        self.timings = {"build_s": self.evaluator.build_time_s, "master_s": 0.0, "slave_s": 0.0}
        self.incumbent: Evaluation | None = None
        self.incumbent_y: np.ndarray | None = None
        self._known: list[tuple[np.ndarray, Evaluation]] = []
        self._minimize_violation = False
        #: The slack budget [p.u.] of the least-violating search's second stage while it runs
        #: (:meth:`_least_losses_at_least_violation`), else None.
        self._budget: float | None = None
        #: The least-violating topology evaluated so far: (its rank: total slack, losses; y;
        #: its phase-1 evaluation); the answer when no topology meets the limits.
        self.least_violating: tuple[ViolationRank, np.ndarray, Evaluation] | None = None
        #: The best topologies that need slack met by either stage (the answer's rivals in
        #: the AC choice of :attr:`RawSolution.candidates`).
        self.pool = CandidatePool()
        #: The best topologies evaluated within the limits, by the model's objective
        #: [kW-equivalent]: the rivals of an answer whose AC power flow breaks the limits
        #: although the model holds them (:attr:`RawSolution.alternatives`).
        self.within_pool = CandidatePool(WITHIN_CANDIDATES)
        # The continuous relaxation, once solved: (bound, optimum); (-inf, None) if it failed.
        self._relaxed: tuple[float, dict[str, np.ndarray] | None] | None = None
        #: Start topologies assessed before the run (:meth:`assess_first`: the grid's own
        #: topology, before the start heuristics), by their switch states: (evaluation, cut
        #: value, optimality?).
        self._first: dict[bytes, tuple[Evaluation, float, bool]] = {}
        #: :meth:`assess_first`'s slave reached the run's deadline: the grid's own topology
        #: was not evaluated in time (the result's ``extra["base_unfinished"]``).
        self.first_unfinished = False

    # ----- master -----------------------------------------------------------------------
    #: The master's solver, for the result's ``solver`` label.
    master_solver = "HiGHS"

    def _new_master(self, block: Block, cost: dict[str, np.ndarray],
                    theta: tuple[float, float, float]) -> HighsModel | ScipMaster:
        """The master model: a persistent HiGHS MILP, re-solved after every round of cuts."""
        master = HighsModel(block, objective=cost, extra_columns={"theta": theta},
                            threads=self.options.threads, verbose=self.options.verbose)
        # Incumbents come from the slaves, so the master's own primal heuristics add little.
        self._configure(master)
        return master

    def _build_master(self, minimize_violation: bool
                      ) -> tuple[HighsModel | ScipMaster, MasterHelper]:
        block: Block = self.problem.radiality_block()
        physics = self.options.master_physics
        if physics:
            # the least-violating search's second stage: its slack budget in the master too
            block.merge(self.problem.physics_block(slack=minimize_violation)
                        if self._budget is None else self.problem.slack_budget_block(
                            self._budget))
        cost = {"y": np.zeros(self.pu.n_branch) if minimize_violation else self.y_cost}
        master = self._new_master(
            block, cost, (0.0 if minimize_violation else self.problem.cost_lower_bound(),
                          math.inf, 1.0))
        helper = MasterHelper(master, self.sw, [""] if physics else [])
        if physics:
            if minimize_violation:
                slack = {g: (np.arange(len(c)), -c) for g, c in slack_objective(block).items()}
                master.add_cut({"theta": (np.array([0]), np.array([1.0])), **slack}, 0.0, math.inf)
            else:
                coefs = {g: (np.arange(len(c)), -c)
                         for g, c in self.problem.operating_cost().items() if len(c)}
                master.add_cut({"theta": (np.array([0]), np.array([1.0])), **coefs},
                               0.0, math.inf)
            point = self._relaxed[1] if self._relaxed is not None else None
            if point is not None and not minimize_violation:
                # Tangents at the conic relaxation's optimum: the master's LP relaxation
                # reaches the conic bound at once (KKT), without Kelley rounds.
                helper.point_cuts(point)
            helper.seed_and_root_cuts(self.problem, self.options.root_oa_rounds, self.timings,
                                      self.remaining, self.options.seed_shares)
        self.timings["build_s"] += master.build_time_s
        return master, helper

    def _add_cuts(self, helper: MasterHelper, y: np.ndarray, ev: Evaluation, value: float,
                  optimality: bool) -> None:
        theta = {"theta": 1.0}
        if optimality:
            helper.linear_cut(theta, y, value, ev.gradient)
        else:
            helper.feasibility_cut(y, value, ev.gradient)
        if self.options.combinatorial_cuts or not optimality:
            if optimality:
                low = 0.0 if self._minimize_violation else self.problem.cost_lower_bound()
                helper.l_shaped_cut(theta, y, value, low)
            else:
                helper.no_good_cut(y)
        helper.point_cuts({**ev.point, "y": y}, y > 0.5)

    # ----- main loop --------------------------------------------------------------------
    def run(self, initial: list[np.ndarray] | None = None,
            known: Sequence[tuple[np.ndarray, Evaluation]] = ()) -> RawSolution:
        """Solve from the start topologies ``initial`` (offered to the slave first); ``known``
        holds slave solutions computed before (e.g. by a heuristic) that seed the master's
        outer approximation."""
        self._known = list(known)
        try:
            result = self._loop(minimize_violation=False, initial=initial or [])
        except OutOfTime:  # a slave reached the deadline: what the run has, time_limit
            self._adopt_known()
            return self._solution(self.final_status(self.incumbent is not None), False)
        except SlaveFailure as exc:
            # No valid cut for that topology, so the search cannot go on; the incumbent, the
            # bound (every cut so far is valid) and the gap are reported as at a stop request,
            # with the reason (ut_ppgrid #3: a 1942-bus SimBench grid ended after 167 s with
            # "error: the phase-1 slave failed ..." and nothing written).
            interrupt.stop_for(f"{interrupt.CONIC_FAILURE}: {exc}")
            self._adopt_known()
            return self._solution(stopped_status(), False)
        if result is not None:
            return result
        found = self.search_least_violating(initial or [])
        if found is None:
            return self._error()
        # what proves it (user test ut42_journey #2: a proven-infeasible run had a null reason)
        return replace(found, extra={**found.extra, "infeasible_reason": BENDERS_INFEASIBLE})

    def search_least_violating(self, initial: list[np.ndarray]) -> RawSolution | None:
        """After a proof that no radial topology meets the limits (this run's, or another
        method's: :func:`least_violating_after_proof`): search a little, within
        ``diagnosis_time_s`` and ``diagnosis_iterations``, for the least-violating one,

            min_y  phi(y)  s.t. radiality(y)      (phi: the slave's phase-1 total slack),

        by the same master loop with the slack objective (the module docstring); then, as
        much again, the least losses among the topologies that violate as little
        (:meth:`_least_losses_at_least_violation`): of the topologies with the least total
        slack the answer is the one with the least losses, not the first found (user test
        ut39_lit: 220.48 kW kept against 205.67 kW at the same 65.29 % loading). The
        diagnosis names its violated limits. Neither stage need be proven optimal. Status
        ``infeasible``; None when it found no topology and was not stopped."""
        time_limit_s = self.stop.time_limit_s
        self.stop = stage_stop(self.stop, time_limit_s, self.elapsed, self.iteration,
                               self.options.diagnosis_time_s, self.options.diagnosis_iterations)
        seen = [] if self.least_violating is None else [self.least_violating[1]]
        try:
            found = self._loop(minimize_violation=True, initial=[*initial, *seen])
        except (OutOfTime, SlaveFailure):  # proven infeasible, diagnosis cut short
            return self._solution(Status.INFEASIBLE, minimize_violation=True)
        if found is None and not (self.interrupted() or self.least_violating is not None):
            return None
        # Proven infeasible (the diagnosis perhaps cut short): the least-violating topology
        # seen, then the least-loss one among those that violate as little.
        self.stop = stage_stop(self.stop, time_limit_s, self.elapsed, self.iteration,
                               self.options.diagnosis_time_s, self.options.diagnosis_iterations)
        self._least_losses_at_least_violation(initial)
        return self._solution(Status.INFEASIBLE, minimize_violation=True)

    def _least_losses_at_least_violation(self, initial: list[np.ndarray]) -> None:
        """The second stage of :meth:`search_least_violating` (lexicographic: violation first,
        then the objective): with ``phi*`` the least total slack found,

            min_y  losses(y) (+ switching cost)  s.t.  radiality(y),  phi(y) <= phi* + tol,

        ``tol`` as the ties of :meth:`_note_violating` (:func:`violation_tol`), by the same
        master loop: the slave is the least-loss SOCP whose weighted total slack is held
        within ``phi* + tol`` (:meth:`TopologyEvaluator.evaluate_within_budget`); a topology
        beyond it gets the feasibility cut ``phi(y_k) + h_k @ (y - y_k) <= phi* + tol`` and a
        no-good cut. ``phi`` is the sum of the slacks, so the tie broken is one of that sum
        (equal total slack), which is the largest loading's when one limit is broken. Its
        best topology, if another, becomes :attr:`least_violating` (its phase-1 point and
        violated limits, as the first stage's); stopped by the time or iteration limit, a stop
        request or a failed slave, the best one found so far does, and the first stage's
        topology, always among its starts, is the fallback."""
        if self.least_violating is None or self.interrupted() or self.remaining() <= 0:
            return
        rank, best_y, _ = self.least_violating
        held = rank.violation
        budget = held + violation_tol(held)
        self.lower, self.upper = -math.inf, math.inf
        self.incumbent = self.incumbent_y = None
        self._minimize_violation = False
        self.log_phase = TIE_PHASE
        self.phase("least violation, second stage: least losses within the least total "
                   f"slack ({held:.4g} p.u. + {budget - held:.2g})")
        try:
            self.evaluator.set_violation_budget(budget)
            self._budget = budget
            radial = self._radial_starts([best_y, *initial])
            starts = [(y, *self._assess(y)) for y in radial]
            self.record(0.0, sum(ev.solve_time_s for _, ev, _, _ in starts), "start")
            if not (self.interrupted() or self.remaining() <= 0 or self.converged()):
                self.phase("building the master")
                master, helper = self._build_master(minimize_violation=False)
                for y, ev, value, optimality in starts:
                    self._add_cuts(helper, y, ev, value, optimality)
                self._search(master, helper, minimize_violation=False)
            self.record_if_moved("final bounds")
        except (OutOfTime, SlaveFailure):
            pass  # the best topology found so far
        finally:
            self._budget = None
        chosen = self.incumbent_y
        if chosen is None or np.array_equal(np.round(chosen), best_y):
            return
        try:
            ev = self.evaluator.evaluate_violation(chosen)
        except (OutOfTime, SlaveFailure):
            return
        self.least_violating = (
            ViolationRank(float(ev.violation), flow_losses_kw(self.problem, chosen, ev.point)),
            np.round(chosen).copy(), ev)

    def relaxation(self) -> dict[str, np.ndarray] | None:
        """The continuous relaxation of the MISOCP (``0 <= y <= 1``, cones exact) on Clarabel,
        solved once: its optimum (None if it failed). Its value
        is a proven lower bound before the master's first solve, which on large grids can take
        longer than the whole time limit; it is reduced by the solver's relative tolerance
        (1e-6) so that an inexact interior-point optimum cannot overstate it. Callers may take
        the point for a start heuristic
        (:func:`~feederopt.algorithms.heuristics.relaxation_rounding`) before :meth:`run`, which
        then reuses it."""
        if self._relaxed is None:
            self.phase("continuous relaxation (the first lower bound)")
            # Solved once: no DPP compilation (lv_schutterwald: 18 s of compiling otherwise).
            # The full monolithic block, MTZ rows included: the probes' model without them
            # (ConicRelaxation) has the same optimum, but tangent cuts at its point (equal to
            # 1e-5) changed the master's proof from 152 to 205 nodes on case33bw and from 159
            # to 40 nodes in 60 s (bound 276.3 -> 274.9 kW) on case136ma.
            model = CvxpyModel(self.problem.monolithic_block(), integer=False, dpp=False)
            sol = model.solve_certified(self.evaluator.solver,
                                        **time_limit_options(self.evaluator.solver,
                                                             self.remaining()))
            self.timings["relaxation_s"] = model.build_time_s + sol.solve_time_s
            self._relaxed = (-math.inf, None)
            if sol.status in SOLVED and math.isfinite(sol.objective):
                # An inaccurate optimum (lv_schutterwald: Clarabel's AlmostSolved, primal
                # 87.930 kW) is still a good point to round and to cut at; its value is no
                # bound, but the dual point's verified weak-duality bound is (87.929 kW).
                bound = -math.inf
                if sol.status == SolverStatus.OPTIMAL:
                    bound = sol.objective + self.y_const - 1e-6 * max(abs(sol.objective), 1.0)
                elif math.isfinite(sol.dual_bound):
                    bound = min(sol.dual_bound, sol.objective) + self.y_const
                self._relaxed = (bound, model.values())
        return self._relaxed[1]

    @property
    def relaxation_bound(self) -> float:
        """The continuous relaxation's proven bound [kW] (-inf before :meth:`relaxation` or
        when it failed)."""
        return -math.inf if self._relaxed is None else self._relaxed[0]

    def _has_incumbent(self) -> bool:
        return self.incumbent is not None

    def _offer(self, helper: MasterHelper | None, y: np.ndarray) -> None:
        ev, value, optimality = self._assess(y)
        if helper is not None:
            self._add_cuts(helper, y, ev, value, optimality)

    def _assess(self, y: np.ndarray) -> tuple[Evaluation, float, bool]:
        """The slave of topology ``y``: (evaluation, cut value, optimality?); updates the
        incumbent."""
        if self._minimize_violation:
            ev = self.evaluator.evaluate_violation(y)
            value = total = ev.violation
            optimality = True
        elif self._budget is not None:  # the least-violating search's second stage
            ev = self.evaluator.evaluate_within_budget(y)
            optimality = ev.feasible
            # within the budget: a tie of the least violation (its point is the least-loss
            # one there, not phase 1's); beyond it: phase 1's evaluation
            self.pool.offer(y, ev.violation,
                            flow_losses_kw(self.problem, y, ev.point) if ev.feasible
                            else math.inf, None if ev.feasible else ev)
            # beyond the budget: the feasibility cut phi(y_k) + h @ (y - y_k) <= budget
            value = ev.objective if optimality else ev.violation - self._budget
            total = value + float(self.y_cost @ y) + self.y_const
        else:
            ev = self.evaluator.evaluate(y)
            value = ev.objective
            total = value + float(self.y_cost @ y) + self.y_const
            optimality = ev.feasible
        self.timings["slave_s"] += ev.solve_time_s
        if self._minimize_violation or (not ev.feasible and self._budget is None):
            self._note_violating(y, ev)
        if optimality and self._budget is None and not self._minimize_violation:
            self._offer_within(y, ev, total)
        if optimality and self.update_upper(total):
            self.incumbent, self.incumbent_y = ev, y.copy()
        self._last_slave_s = ev.solve_time_s
        return ev, value, optimality

    def assess_first(self, y: np.ndarray) -> None:
        """Evaluate start topology ``y`` (the grid's own) now, before the start heuristics, when
        it is radial: a time-limited run then has it as its incumbent (or, when it breaks a
        limit, as the least-violating answer) although the heuristics use up the limit (user
        test ut46_simb #2: a 10,458-bus SimBench grid ended after 120 s with "No topology was
        found", its own radial topology never evaluated). :meth:`run` takes its evaluation
        instead of solving its slave again. A slave that reaches the deadline sets
        :attr:`first_unfinished`; one that fails is left to the run, which meets it again. Not
        after a stop request."""
        radial = self._radial_starts([y])
        if not radial or self.interrupted():  # a stop request (Ctrl-C) during the relaxation
            return
        y = radial[0]
        try:
            self._first[y.astype(np.int8).tobytes()] = self._assess(y)
        except OutOfTime:
            self.first_unfinished = True
        except SlaveFailure:
            pass

    def _adopt_known(self) -> None:
        """Make the best radial topology among the slave solutions computed before the run
        (``known``: the start heuristics' flows, on this evaluator) the incumbent when it beats
        the current one. A run stopped right after the heuristics (Ctrl-C, or the deadline)
        cannot solve the starts' slaves again, since every solve is then refused; without this
        it ended with no topology although the heuristics had one (ut_docs, case118zh
        interrupted at 4-5 s). Their evaluations are of the same problem, so the value is
        the one :meth:`_assess` would give; a heuristic's screened power flow
        (``Evaluation.screened``: its losses alone) is none."""
        for y, ev in self._known:
            if (ev.screened or not ev.feasible or not math.isfinite(ev.objective)
                    or not self._radial_starts([y])):
                continue
            total = ev.objective + float(self.y_cost @ y) + self.y_const
            self._offer_within(y, ev, total)
            if self.update_upper(total):
                self.incumbent, self.incumbent_y = ev, np.round(y).copy()

    def _offer_within(self, y: np.ndarray, ev: Evaluation, total: float) -> None:
        """Offer topology ``y``, within the limits in the model at objective ``total``
        [per unit, with the switching cost], to :attr:`within_pool`."""
        value = self.problem.to_kw(total)
        if math.isfinite(value):
            self.within_pool.offer(y, 0.0, value, ev)

    def _note_violating(self, y: np.ndarray, ev: Evaluation) -> None:
        """Keep ``y`` if it violates the limits less than the least-violating topology so far:
        total slack first, equal within
        :data:`~feederopt.algorithms.least_violating.VIOLATION_REL_TOL` (the slave's slack
        carries its solver's noise, so topologies with the same violated limit differ in the
        last digits), then the topology's losses
        (:meth:`~feederopt.algorithms.least_violating.ViolationRank.replaces`).

        The losses are those of its power flow
        (:func:`~feederopt.algorithms.least_violating.flow_losses_kw`), not the slave's: the
        phase-1 point minimises slack, not losses, and its relaxation is far from exact."""
        violation = float(ev.violation)
        held = None if self.least_violating is None else self.least_violating[0]
        if held is not None and violation > held.violation + violation_tol(held.violation):
            self.pool.offer(y, violation, math.inf, ev)
            return  # no power flow for a topology that violates more
        losses = flow_losses_kw(self.problem, y, ev.point)
        self.pool.offer(y, violation, losses, ev)
        rank = ViolationRank(violation, losses).replaces(held)
        if rank is not None:
            self.least_violating = (rank, np.round(y).copy(), ev)

    def _loop(self, minimize_violation: bool, initial: list[np.ndarray]) -> RawSolution | None:
        self.lower, self.upper = -math.inf, math.inf
        self.incumbent = self.incumbent_y = None
        self._minimize_violation = minimize_violation
        # The search's bounds are total slack [p.u.]: rows of their own phase and columns.
        self.log_phase = VIOLATION_PHASE if minimize_violation else LOSS_PHASE
        if minimize_violation:
            self.phase("least violation: minimising the total slack of the limits [p.u.]")
        if self.options.relaxation_bound and not minimize_violation:
            self.relaxation()
            if self._relaxed is not None:
                self.update_lower(self._relaxed[0])
        # The start topologies first, so that the log has an incumbent and a bound before the
        # master's root (a minute on a 1000-bus feeder); their cuts go in once it is built.
        radial = self._radial_starts(initial)
        self.phase(f"slaves of {len(radial)} start topolog{'y' if len(radial) == 1 else 'ies'}")
        # Those assessed before the run (assess_first) first, without a second slave solve:
        # their incumbent holds although a later start's slave reaches the deadline.
        first = {} if minimize_violation else self._first
        starts: list[tuple[np.ndarray, Evaluation, float, bool]] = []
        for y in radial:
            done = first.get(y.astype(np.int8).tobytes())
            if done is not None:
                ev, value, optimality = done
                total = value + float(self.y_cost @ y) + self.y_const
                if optimality and self.update_upper(total):
                    self.incumbent, self.incumbent_y = ev, y.copy()
                starts.append((y, ev, value, optimality))
        starts += [(y, *self._assess(y)) for y in radial
                   if y.astype(np.int8).tobytes() not in first]
        if not minimize_violation:
            self.record(0.0, sum(ev.solve_time_s for _, ev, _, _ in starts), "start")
        # Stopped before the master (seconds to build on large grids), or the starts already
        # close the gap (the relaxation's bound and the best start).
        if self.interrupted() or self.remaining() <= 0 or (
                not minimize_violation and self.incumbent is not None and self.converged()):
            if not minimize_violation:
                self._adopt_known()
            return self._solution(self.final_status(self.incumbent is not None),
                                  minimize_violation)
        self.phase("building the master")
        master, helper = self._build_master(minimize_violation)
        if self.options.master_physics and not minimize_violation:
            self.timings["warm_cuts"] = helper.warm_cuts(
                self._known, self.options.warm_topologies, self.options.warm_rows)
        for y, ev, value, optimality in starts:
            self._add_cuts(helper, y, ev, value, optimality)
        if not minimize_violation:
            self._probe(master)
        # Probing's loop branch-and-bound may have closed the gap: no master solve then.
        infeasible_master = (not minimize_violation and self.converged()) or self._search(
            master, helper, minimize_violation)
        if minimize_violation:
            if self.incumbent is None:
                return None
            return self._solution(Status.INFEASIBLE, minimize_violation=True)
        if self.incumbent is None:
            if infeasible_master or self.converged():
                return None  # proven: no feasible radial topology
            return self._solution(self.final_status(False), minimize_violation=False)
        return self._solution(self.final_status(True), minimize_violation=False)

    def _probe(self, master: HighsModel | ScipMaster) -> None:
        """Fix closed in ``master`` the switches that conic probing proves closed in every
        topology below the cutoff ``UB (1 - gap/2)`` (:func:`probe_closed`); the relaxation
        with them closed bounds what the cutoff leaves (``LB = min(bound, cutoff)``, as for the
        master)."""
        budget = min(self.options.probe_time_share * self.stop.time_limit_s, self.remaining())
        # A probe costs about one solve of the relaxation (plus building it once): skip probing
        # when the budget would not pay for a few of them.
        if (not math.isfinite(self.upper) or budget <= 0
                or 3.0 * self.timings.get("relaxation_s", 0.0) > budget):
            return
        self.phase("conic probing of the switches")
        point = self._relaxed[1] if self._relaxed is not None else None
        cutoff = self.upper - self.stop.gap * abs(self.upper) * 0.5
        found = probe_closed(self.problem, cutoff, self.y_const, budget,
                             None if point is None else point["y"], self.evaluator.solver,
                             self.options.probe_rounds, hard_limit_s=self.remaining(),
                             root_bound=self._relaxed[0] if self._relaxed else -math.inf)
        self.timings["probe_s"] = found.time_s
        self.timings["probed"] = found.probed
        self.timings["fixed_closed"] = len(found.closed)
        if found.closed:
            y = master.block.groups["y"]
            lb = y.lb.copy()
            lb[found.closed] = 1.0
            master.set_bounds("y", lb, y.ub.copy())
        if math.isfinite(found.loop_bound):
            self.timings["loop_bound_kw"] = found.loop_bound
            self.timings["loop_solves"] = found.loop_solves
        slave_s = 0.0
        if found.loop_optimum is not None:
            # The loop branch-and-bound proved this topology the best below the cutoff: its
            # slave makes it the incumbent (and the bound below then closes the gap).
            self._assess(found.loop_optimum)
            slave_s = self._last_slave_s
        # The loop bound and the relaxation with the fixed switches closed bound every
        # topology below the cutoff (the cutoff argument of the master). Each step that moves
        # a bound is a row of the log, named by what moved it.
        self.update_lower(min(found.loop_bound, cutoff))
        self.record_if_moved("probing: loop branch-and-bound" if found.loop_solves
                             else "probing: loop bound", slave_s=slave_s)
        if found.point is not None:
            # Tangent cuts at its optimum were measured and left out: more nodes on case33bw
            # (152 -> 188) and case69bw (236 -> 308), fewer only on case70da
            # (5 -> 1).
            self.update_lower(min(found.bound, cutoff))
            self.record_if_moved(f"probing: {len(found.closed)} switches fixed closed")

    def _search(self, master: HighsModel | ScipMaster, helper: MasterHelper,
                minimize_violation: bool) -> bool:
        """The search over topologies (here the re-solved master, :class:`MasterLoop`); True
        when the master ran out of topologies below the incumbent."""
        if not isinstance(master, HighsModel):
            raise TypeError("the re-solved master loop needs a HiGHS master")
        return self._master_loop(master, helper,
                                 y_const=0.0 if minimize_violation else self.y_const)

    def _solution(self, status: Status, minimize_violation: bool) -> RawSolution:
        if not minimize_violation:
            # A bound moved after the last row (a slave or master stopped by the deadline, a
            # stop request): the log ends on the final bounds. The diagnosis phase's rows are
            # in total slack, its result has no bounds.
            self.record_if_moved("final bounds")
        to_kw = self.problem.to_kw
        ev, y = self.incumbent, self.incumbent_y
        lower = to_kw(self.lower) if math.isfinite(self.lower) else -math.inf
        upper = to_kw(self.upper) if math.isfinite(self.upper) else math.nan
        extra: dict[str, object] = {}
        if self.first_unfinished:
            extra["base_unfinished"] = True
        candidates: list[ViolatingCandidate] = []
        violating = minimize_violation or ev is None
        if violating and self.least_violating is not None:
            # No topology within the limits (proven, or none found before a limit): the
            # least-violating one seen, its violated limits named. A bound proven for the
            # feasible topologies stays a bound (none may exist); after a proof of
            # infeasibility there is nothing to bound.
            rank, y, ev = self.least_violating
            extra["total_violation_pu"] = rank.violation
            candidates = self.pool.ranked(ViolatingCandidate(y.copy(), rank.violation,
                                                             rank.losses_kw, ev))
            upper = math.nan
            if minimize_violation:
                lower = -math.inf
        alternatives: list[ViolatingCandidate] = []
        if not violating and y is not None and ev is not None:
            alternatives = self.within_pool.ranked(ViolatingCandidate(y.copy(), 0.0, upper, ev))
        diagnosis = list(ev.violations) if (ev is not None and violating) else []
        return RawSolution(
            status=status,
            method=self.method,
            y=None if y is None else y.copy(),
            objective=upper,
            lower_bound=lower,
            gap=math.inf if violating else self.gap,
            iterations=self.iteration,
            solve_time_s=self.elapsed,
            point={} if ev is None else ev.point,
            log=list(self.log),
            timings=dict(self.timings),
            diagnosis=diagnosis,
            # violating: the least-violating topology, or none at all (stopped before any
            # topology was evaluated); neither is a topology within the limits
            within_limits=not violating,
            solver=f"{self.master_solver} (master) + {solver_label(self.evaluator.solver)} (slave)",
            extra=extra,
            candidates=candidates,
            alternatives=alternatives,
        )

    def _error(self) -> RawSolution:
        return RawSolution(Status.ERROR, self.method, None, math.nan, -math.inf, math.inf,
                           self.iteration, self.elapsed, log=list(self.log),
                           timings=dict(self.timings), within_limits=False)


#: What a Benders proof that no radial topology meets the limits rests on (JSON
#: ``infeasible_reason``).
BENDERS_INFEASIBLE = (
    "no radial topology meets the limits (proven: the Benders master, radiality with the "
    "DistFlow relaxation and the cuts of every topology whose SOCP needs slack, has no radial "
    "topology left; the SOCP is a relaxation of the model's AC power flow, so no radial "
    "topology meets the limits in AC either)")


def least_violating_after_proof(raw: RawSolution, problem: ReconfigurationProblem,
                                time_limit_s: float, initial: list[np.ndarray],
                                progress: ProgressCallback | None = None,
                                evaluator: TopologyEvaluator | None = None) -> RawSolution:
    """``raw``, another method's proof that no radial topology meets the limits (the
    MISOCP's: SCIP answers "infeasible" and no topology), with the least-violating topology
    that Benders reports after its own proof (:meth:`Benders.search_least_violating`, the
    same search from the start topologies ``initial``, within ``time_limit_s``): its
    topology, point, violated limits (``diagnosis``) and ``total_violation_pu``, so that
    every exact method names the limits that the grid breaks (before, ``misocp`` gave
    ``diagnosis: []``, user test ut_feas #2). The proof stays ``raw``'s: its method, solver
    and solver statistics; the search's rows join its log."""
    if time_limit_s <= 0:
        return raw
    algo = Benders(problem, BendersOptions(stop=StopOptions(time_limit_s=time_limit_s)),
                   progress=progress, evaluator=evaluator)
    found = algo.search_least_violating(initial)
    if found is None or found.y is None:
        return raw
    return replace(raw, y=found.y, point=found.point, diagnosis=found.diagnosis,
                   log=[*raw.log, *found.log], within_limits=False,
                   candidates=found.candidates,
                   extra={**raw.extra, **found.extra},
                   timings={**raw.timings, "least_violating_s": found.solve_time_s})
