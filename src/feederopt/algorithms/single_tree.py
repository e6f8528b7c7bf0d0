"""Branch-and-Benders-cut: the master of :mod:`feederopt.algorithms.benders` as one SCIP tree.

The master, the slave and the cuts are those of :class:`~feederopt.algorithms.benders.Benders`
(partial Benders: the DistFlow rows and the outer approximation of the branch cones in the
master; optimality, integer L-shaped, feasibility and no-good cuts from the slave). Only the
search differs: instead of re-solving the master's branch-and-bound tree after every new
topology, one SCIP tree runs to the end and the slave is asked inside it
(:mod:`feederopt.solvers.scip_master`; Codato & Fischetti, Oper. Res. 54(4), 2006; Rahmaniani
et al., EJOR 259(3), 2017, Sec. 5.2):

* every candidate that SCIP would accept (an integral LP solution, a heuristic's solution) is
  checked against the slave: the topology ``y`` is evaluated once (cached), and the candidate
  passes only if its ``theta`` is at least the slave's value ``f(y)`` (relative tolerance
  ``min(check_tolerance, gap / 2)``) and ``y`` is feasible;
* at an integral LP solution that fails, the topology's cuts go in (the L-shaped cut makes
  ``theta >= f(y)`` exact at ``y``, so ``y`` cannot fail twice) together with the outer-
  approximation cuts at the master's point where it violates a cone (extended cutting planes);
* with ``separate_fractional``, fractional LP solutions get those extended cutting planes too;
* every slave solution that improves the incumbent tightens SCIP's objective limit to
  ``UB (1 - gap / 2)``: a tree with nothing left below it is the proof
  (:class:`~feederopt.algorithms.master.MasterLoop`'s cutoff rule, ``LB = min(bound, cutoff)``).

When no radial topology meets the limits, the least-violating one is searched for by the
re-solved HiGHS master, as in :class:`~feederopt.algorithms.benders.Benders`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from feederopt.algorithms.base import OutOfTime, ProgressCallback
from feederopt.algorithms.benders import Benders, BendersOptions
from feederopt.algorithms.master import MasterHelper
from feederopt.algorithms.slaves import SlaveFailure, TopologyEvaluator
from feederopt.formulations.blocks import Block
from feederopt.problems.reconfiguration import Evaluation, ReconfigurationProblem
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.scip_master import ScipMaster
from feederopt.solvers.status import SolverStatus

#: SCIP settings of the single-tree master (measured below).
MASTER_PARAMS: dict[str, Any] = {}


@dataclass(frozen=True)
class SingleTreeOptions(BendersOptions):
    #: No Kelley rounds (they need LP solves of a HiGHS master); SCIP's root LP plus the
    #: tangents at the conic relaxation's optimum give the same bound.
    root_oa_rounds: int = 0
    separate_fractional: bool = False  # extended cutting planes at fractional LP points too
    #: The branch cones as SCIP cone constraints in the master (SCIP's own outer approximation)
    #: instead of the tangent rows only.
    conic_master: bool = False
    check_tolerance: float = 1e-6  # relative, at most gap / 2: theta >= f(y) (1 - tol) passes
    #: SCIP parameters of the master, on top of :data:`MASTER_PARAMS`.
    scip_params: tuple[tuple[str, Any], ...] = ()


class SingleTreeBenders(Benders):
    """Branch-and-Benders-cut on SCIP (module docstring)."""

    method = "benders-scip"
    master_solver = "SCIP"
    options: SingleTreeOptions

    def __init__(self, problem: ReconfigurationProblem, options: SingleTreeOptions | None = None,
                 progress: ProgressCallback | None = None,
                 evaluator: TopologyEvaluator | None = None) -> None:
        super().__init__(problem, options or SingleTreeOptions(), progress, evaluator)
        self._cache: dict[bytes, tuple[np.ndarray, Evaluation, float, bool]] = {}
        self._cut: set[bytes] = set()

    def _new_master(self, block: Block, cost: dict[str, np.ndarray],
                    theta: tuple[float, float, float]) -> HighsModel | ScipMaster:
        if self._minimize_violation or self._budget is not None:
            # the least-violating search (both stages) re-solves a HiGHS master
            return super()._new_master(block, cost, theta)
        # the switching cost's constant as SCIP's objective offset: SCIP's gap limit, bound
        # and objective limit (the cutoff) are then those of the run's objective
        return ScipMaster(block, objective=cost, extra_columns={"theta": theta},
                          objective_offset=self.y_const,
                          separate=self.options.separate_fractional,
                          cones=self.options.conic_master,
                          params={**MASTER_PARAMS, **dict(self.options.scip_params)})

    def _search(self, master: HighsModel | ScipMaster, helper: MasterHelper,
                minimize_violation: bool) -> bool:
        if not isinstance(master, ScipMaster):
            return super()._search(master, helper, minimize_violation)
        gap = self.stop.gap
        self.iteration = 0
        self._cache.clear()
        self._cut.clear()
        self.timings["slave_in_tree_s"] = 0.0

        def cutoff() -> float:
            return self.upper - gap * abs(self.upper) * 0.5

        def tighten() -> None:
            if math.isfinite(self.upper):
                master.set_cutoff(cutoff())  # y_const is the master's offset

        # relative, and at most half the gap: a candidate that passes has theta >= f(y) (1 -
        # gap / 2), at or above the objective limit, so an incumbent of SCIP's is within the gap
        # of the slave's value (with the earlier absolute 1e-6 a 0.182 kW optimum ended at
        # SCIP's own gap limit with a gap of 1.47e-6 against the 1e-6 asked for: 'feasible')
        tol = min(self.options.check_tolerance, gap / 2)
        failures: list[SlaveFailure] = []

        def oracle(point: dict[str, np.ndarray], enforce: bool) -> bool:
            y = np.round(point["y"])
            key = y.astype(np.int8).tobytes()
            if key not in self._cache and not self._radial_starts([y]):
                return False  # not a radial topology: no slave (never at an LP point)
            if key not in self._cache:
                self.iteration += 1
                before = self.upper
                try:
                    ev, value, optimality = self._assess(y)
                except OutOfTime:
                    # The run's deadline: stop the tree. Rejecting the point is safe (its
                    # value as SCIP's incumbent would be theta, a lower bound of its losses).
                    master.model.interruptSolve()
                    return False
                except SlaveFailure as exc:
                    # No valid cut for this topology: stop the tree and raise it once SCIP
                    # has returned (raised inside SCIP's callback, it only ended the solve
                    # with status "error").
                    failures.append(exc)
                    master.model.interruptSolve()
                    return False
                self.timings["slave_in_tree_s"] += ev.solve_time_s
                self._cache[key] = (y, ev, value, optimality)
                self.record(0.0, ev.solve_time_s, "in tree")
                if self.upper < before:
                    tighten()
            y, ev, value, optimality = self._cache[key]
            theta = float(point["theta"][0])
            ok = optimality and theta >= value - tol * abs(value)
            if ok or not enforce:
                return ok
            if key not in self._cut:
                self._cut.add(key)
                self._add_cuts(helper, y, ev, value, optimality)
            helper.master_point_cuts(self.options.ecp_min_violation)
            return False

        def separator(point: dict[str, np.ndarray]) -> None:
            helper.master_point_cuts(self.options.ecp_min_violation)

        tighten()
        # SCIP's own gap limit at a quarter: an incumbent it accepted while the objective limit
        # moved (theta >= f(y) (1 - gap / 2)) leaves the bound within gap / 2 + gap / 4 of f(y)
        sol = master.run(oracle, max(self.remaining(), 0.01), gap / 4,
                         separator if self.options.separate_fractional else None)
        if failures:
            raise failures[0]
        self.timings["master_s"] += sol.solve_time_s - self.timings["slave_in_tree_s"]
        self.timings["master_nodes"] = sol.nodes
        self.timings["master_lp_iterations"] = sol.stats.get("lp_iterations", 0)
        self.timings["lazy_rows"] = sol.stats.get("lazy_rows", 0)
        self.timings["tree_checks"] = sol.stats.get("checks", 0)
        limit = cutoff() if math.isfinite(self.upper) else math.inf
        if sol.status == SolverStatus.INFEASIBLE:
            if self._has_incumbent():
                self.update_lower(min(limit, self.upper))
            self.record(sol.solve_time_s, 0.0, "tree closed")
            return True
        if math.isfinite(sol.bound):
            self.update_lower(min(sol.bound, limit))
        self.record(sol.solve_time_s, 0.0, f"tree {sol.status}")
        return False
