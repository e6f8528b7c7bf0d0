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
* When no radial topology meets the limits the master (with physics) is infeasible, or every
  topology gets a feasibility cut; the method then minimises the total slack instead and
  reports the least-violating topology with the limits that it breaks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from feederopt.algorithms.base import AlgorithmBase, ProgressCallback, RawSolution, StopOptions
from feederopt.algorithms.oa import OA_CONES, SEED_SHARES, seed_points
from feederopt.formulations.blocks import Block
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import (
    Evaluation,
    ReconfigurationProblem,
    TopologyEvaluator,
)
from feederopt.results.status import Status
from feederopt.solvers.highs_backend import HighsModel


@dataclass(frozen=True)
class BendersOptions:
    stop: StopOptions = field(default_factory=StopOptions)
    master_physics: bool = True
    combinatorial_cuts: bool = True
    warm_start: bool = True
    threads: int = 1
    verbose: bool = False
    master_heuristics: bool = False  # HiGHS's primal heuristics in the master (see below)
    master_reliable_pseudocosts: int | None = 2  # strong-branching probes per pseudo cost
    warm_topologies: int = 40  # known slave solutions whose OA cuts seed the master
    root_oa_rounds: int = 5
    seed_shares: tuple[float, ...] = SEED_SHARES
    ecp_min_violation: float | None = 1e-3  # cut the master's point only where it is violated
    master_first_improvement: bool = True  # stop the master at its first improving topology
    diagnosis_time_s: float = 30.0
    diagnosis_iterations: int = 10  # Kelley rounds on the master's LP relaxation before branching


class Benders(AlgorithmBase):
    """Two-stage Benders reconfiguration (see module docstring)."""

    method = "benders"

    def __init__(
        self,
        problem: ReconfigurationProblem,
        options: BendersOptions | None = None,
        progress: ProgressCallback | None = None,
        evaluator: TopologyEvaluator | None = None,
    ) -> None:
        self.options = options or BendersOptions()
        super().__init__(self.options.stop, progress)
        self.problem = problem
        self.pu = problem.pu
        self.sw = np.flatnonzero(self.pu.switchable)
        self.evaluator = evaluator or problem.evaluator()
        self.y_cost, self.y_const = problem.y_cost()
        self.timings = {"build_s": self.evaluator.build_time_s, "master_s": 0.0, "slave_s": 0.0}
        self.incumbent: Evaluation | None = None
        self.incumbent_y: np.ndarray | None = None
        self._known: list[tuple[np.ndarray, Evaluation]] = []

    # ----- master -----------------------------------------------------------------------
    def _build_master(self, minimize_violation: bool) -> HighsModel:
        block: Block = self.problem.radiality_block()
        physics = self.options.master_physics
        if physics:
            block.merge(self.problem.physics_block(slack=minimize_violation))
        cost = {"y": np.zeros(self.pu.n_branch) if minimize_violation else self.y_cost}
        master = HighsModel(
            block, objective=cost,
            extra_columns={"theta": (0.0 if minimize_violation else
                                     self.problem.cost_lower_bound(), math.inf, 1.0)},
            threads=self.options.threads, verbose=self.options.verbose,
        )
        # Incumbents come from the slaves, so the master's own primal heuristics add little.
        master.configure_master(primal_heuristics=self.options.master_heuristics,
                                reliable_pseudocosts=self.options.master_reliable_pseudocosts)
        if physics:
            if minimize_violation:
                slack = {g: (np.arange(b.size), -np.ones(b.size))
                         for g, b in block.groups.items() if g.startswith("slack_")}
                master.add_cut({"theta": (np.array([0]), np.array([1.0])), **slack}, 0.0, math.inf)
            else:
                coefs = {g: (np.arange(len(c)), -c)
                         for g, c in self.problem.operating_cost().items() if len(c)}
                master.add_cut({"theta": (np.array([0]), np.array([1.0])), **coefs},
                               0.0, math.inf)
            cones = [c for c in block.cones if c.name in OA_CONES]
            for point in seed_points(self.pu, self.options.seed_shares):
                for cone in cones:
                    master.oa_cuts(cone, point)
            self._root_cuts(master, cones)
        self.timings["build_s"] += master.build_time_s
        return master

    def _root_cuts(self, master: HighsModel, cones: list) -> None:
        """Kelley's cutting planes on the master's LP relaxation: OA cuts at its solution until
        the relaxation bound stalls (Kelley, J. SIAM 8(4), 1960)."""
        if not self.options.root_oa_rounds:
            return
        master.h.setOptionValue("solve_relaxation", True)
        last = -math.inf
        for _ in range(self.options.root_oa_rounds):
            if self.remaining() <= 0:
                break
            master.set_time_limit(self.remaining())
            sol = master.solve()
            self.timings["master_s"] += sol.solve_time_s
            if not sol.has_solution:
                break
            point = master.values()
            for cone in cones:
                master.oa_cuts(cone, point)
            if sol.objective - last <= 1e-4 * max(abs(sol.objective), 1e-9):
                break
            last = sol.objective
        master.h.setOptionValue("solve_relaxation", False)

    def _warm_cuts(self, master: HighsModel, known: Sequence[tuple[np.ndarray, Evaluation]]) -> int:
        """OA cuts at slave solutions found before the run (a heuristic's evaluations).

        A topology's slave solution lies on the boundary of its branch cones, so the tangent
        cuts there make the master's losses exact at that topology and close to it at its
        neighbours; without them the first master solves propose topologies whose losses the
        seed cuts under-estimate (case33bw: three master solves instead of one). Only the
        ``warm_topologies`` best distinct feasible ones are used, to bound the master's size.
        Returns the number of rows added.
        """
        best: dict[bytes, tuple[float, np.ndarray, Evaluation]] = {}
        for y, ev in known:
            if not ev.feasible:
                continue
            key = np.round(y).astype(np.int8).tobytes()
            if key not in best or ev.objective < best[key][0]:
                best[key] = (ev.objective, y, ev)
        chosen = sorted(best.values(), key=lambda item: item[0])[: self.options.warm_topologies]
        cones = [c for c in master.block.cones if c.name in OA_CONES]
        added = 0
        for _, y, ev in chosen:
            point = {**ev.point, "y": y}
            for cone in cones:
                rows = np.flatnonzero(y > 0.5) if cone.name == "branch_cone" else None
                added += master.oa_cuts(cone, point, rows=rows)
        return added

    def _master_point_cuts(self, master: HighsModel) -> None:
        """OA cuts at the master's own solution (extended cutting planes, Westerlund &
        Pettersson, Comput. Chem. Eng. 19, 1995): they cut off its under-estimate of the losses
        of the topology it proposed."""
        point = master.values()
        for cone in master.block.cones:
            if cone.name in OA_CONES:
                master.oa_cuts(cone, point, min_violation=self.options.ecp_min_violation)

    def _add_cuts(self, master: HighsModel, y: np.ndarray, ev: Evaluation, value: float,
                  optimality: bool, minimize_violation: bool = False) -> None:
        sw = self.sw
        g = ev.gradient[sw]
        ys = y[sw]
        if optimality:
            # theta - g @ y >= f - g @ y_k
            master.add_cut({"theta": (np.array([0]), np.array([1.0])), "y": (sw, -g)},
                           value - float(g @ ys), math.inf)
        else:
            # phi + h @ (y - y_k) <= 0
            if np.any(np.abs(g) > 1e-12):
                master.add_cut({"y": (sw, g)}, -math.inf, float(g @ ys) - value)
        if self.options.combinatorial_cuts or not optimality:
            closed = ys > 0.5
            sign = np.where(closed, 1.0, -1.0)
            n_closed = float(closed.sum())
            if optimality:
                # theta >= (f - L) (sum_C y - sum_O y - |C| + 1) + L
                low = 0.0 if minimize_violation else self.problem.cost_lower_bound()
                span = value - low
                master.add_cut({"theta": (np.array([0]), np.array([1.0])), "y": (sw, -span * sign)},
                               span * (1.0 - n_closed) + low, math.inf)
            else:
                # no-good: sum_C y - sum_O y <= |C| - 1
                master.add_cut({"y": (sw, sign)}, -math.inf, n_closed - 1.0)
        if self.options.master_physics:
            point = {**ev.point, "y": y}
            for cone in master.block.cones:
                if cone.name == "branch_cone":
                    master.oa_cuts(cone, point, rows=np.flatnonzero(y > 0.5))
                elif cone.name in OA_CONES:
                    master.oa_cuts(cone, point)

    # ----- main loop --------------------------------------------------------------------
    def run(self, initial: list[np.ndarray] | None = None,
            known: Sequence[tuple[np.ndarray, Evaluation]] = ()) -> RawSolution:
        """Solve from the start topologies ``initial`` (offered to the slave first); ``known``
        holds slave solutions computed before (e.g. by a heuristic) that seed the master's
        outer approximation."""
        self._known = list(known)
        result = self._loop(minimize_violation=False, initial=initial or [])
        if result is not None:
            return result
        # Proven: no radial topology meets the limits. Search a little for the least-violating
        # one (the diagnosis names its violated limits); it need not be proven optimal.
        self.stop = replace(
            self.stop,
            time_limit_s=min(self.stop.time_limit_s, self.elapsed + self.options.diagnosis_time_s),
            iteration_limit=self.iteration + self.options.diagnosis_iterations,
        )
        return self._loop(minimize_violation=True, initial=initial or []) or self._error()

    def _evaluate(self, y: np.ndarray, minimize_violation: bool) -> Evaluation:
        if minimize_violation:
            return self.evaluator.evaluate_violation(y)
        return self.evaluator.evaluate(y)

    def _offer(self, master: HighsModel | None, y: np.ndarray, minimize_violation: bool) -> None:
        ev = self._evaluate(y, minimize_violation)
        self.timings["slave_s"] += ev.solve_time_s
        if minimize_violation:
            value, total = ev.violation, ev.violation
            optimality = True
        else:
            value = ev.objective
            total = value + float(self.y_cost @ y) + self.y_const
            optimality = ev.feasible
        if optimality and self.update_upper(total):
            self.incumbent, self.incumbent_y = ev, y.copy()
        if master is not None:
            self._add_cuts(master, y, ev, value, optimality, minimize_violation)
        self._last_slave_s = ev.solve_time_s

    def _loop(self, minimize_violation: bool, initial: list[np.ndarray]) -> RawSolution | None:
        self.lower, self.upper = -math.inf, math.inf
        self.incumbent = self.incumbent_y = None
        master = self._build_master(minimize_violation)
        if self.options.master_physics and not minimize_violation:
            self.timings["warm_cuts"] = self._warm_cuts(master, self._known)
        pu = self.pu
        for y in initial:
            y = np.round(np.asarray(y, float))
            # Only radial starts (the user's base case need not be radial).
            free_ok = np.all((y > 0.5) | pu.switchable)
            if free_ok and is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)[0]:
                self._offer(master, y, minimize_violation)
        seen: set[bytes] = set()
        infeasible_master = False
        while True:
            self.iteration += 1
            master.set_time_limit(self.remaining())
            cutoff = math.inf
            if math.isfinite(self.upper):
                # Nodes that cannot beat the incumbent by more than the gap tolerance are pruned;
                # a master with nothing left proves the bound ``cutoff``.
                cutoff = self.upper - self.stop.gap * abs(self.upper) * 0.5
                const = 0.0 if minimize_violation else self.y_const
                master.h.setOptionValue("objective_bound", cutoff - const)
                if self.options.master_first_improvement:
                    master.h.setOptionValue("mip_max_improving_sols", 1)
            ms = master.solve()
            self.timings["master_s"] += ms.solve_time_s
            self.timings["master_nodes"] = self.timings.get("master_nodes", 0) + ms.nodes
            self.timings["master_lp_iterations"] = (
                self.timings.get("master_lp_iterations", 0) + ms.lp_iterations
            )
            if ms.status == "infeasible":
                infeasible_master = True
                if self.incumbent is not None:
                    # No topology beats the cutoff: the incumbent is optimal within the gap.
                    self.update_lower(min(cutoff, self.upper))
                self.record(ms.solve_time_s, 0.0, "master infeasible")
                break
            if not ms.has_solution:
                self.record(ms.solve_time_s, 0.0, f"master {ms.status}")
                break
            bound = ms.bound + (0.0 if minimize_violation else self.y_const)
            # Under a cutoff the solver's dual bound only speaks for what the cutoff left.
            self.update_lower(min(bound, cutoff))
            y = np.round(master.values()["y"])
            key = y.astype(np.int8).tobytes()
            note = ""
            self._last_slave_s = 0.0
            if self.options.master_physics:
                self._master_point_cuts(master)
            if key in seen:
                # A repeat: its L-shaped cut gives theta >= f(y) >= incumbent, so the master's
                # optimum is no better than the incumbent and the bounds meet.
                note = "repeat"
                if self.incumbent is not None:
                    self.update_lower(self.upper)
            else:
                seen.add(key)
                self._offer(master, y, minimize_violation)
            self.record(ms.solve_time_s, self._last_slave_s, note)
            if self.should_stop() or (ms.status == "time_limit"):
                break
        if minimize_violation:
            if self.incumbent is None:
                return None
            return self._solution(Status.INFEASIBLE, minimize_violation=True)
        if self.incumbent is None:
            if infeasible_master or self.converged():
                return None  # proven: no feasible radial topology
            return self._solution(self.final_status(False), minimize_violation=False)
        return self._solution(self.final_status(True), minimize_violation=False)

    def _solution(self, status: Status, minimize_violation: bool) -> RawSolution:
        to_kw = self.problem.to_kw
        ev = self.incumbent
        diagnosis = list(ev.violations) if (ev is not None and minimize_violation) else []
        lower = to_kw(self.lower) if math.isfinite(self.lower) else -math.inf
        upper = to_kw(self.upper) if math.isfinite(self.upper) else math.nan
        extra: dict[str, object] = {}
        if minimize_violation:
            extra["total_violation_pu"] = self.upper
            upper, lower = math.nan, -math.inf
        return RawSolution(
            status=status,
            method=self.method,
            y=None if self.incumbent_y is None else self.incumbent_y.copy(),
            objective=upper,
            lower_bound=lower,
            gap=math.inf if minimize_violation else self.gap,
            iterations=self.iteration,
            solve_time_s=self.elapsed,
            point={} if ev is None else ev.point,
            log=list(self.log),
            timings=dict(self.timings),
            diagnosis=diagnosis,
            solver="HiGHS (master) + Clarabel (slave)",
            extra=extra,
        )

    def _error(self) -> RawSolution:
        return RawSolution(Status.ERROR, self.method, None, math.nan, -math.inf, math.inf,
                           self.iteration, self.elapsed, log=list(self.log),
                           timings=dict(self.timings))
