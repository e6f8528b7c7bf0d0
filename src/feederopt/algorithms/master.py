"""The Benders master loop and master cuts, shared by every cutting-plane method.

:class:`Benders` (deterministic), :class:`~feederopt.algorithms.stochastic.StochasticBenders`
(scenarios) and :class:`~feederopt.algorithms.robust.RobustCuttingPlane` (extreme points) differ
only in what a topology's "slave" is and which cuts it returns. The master side is one thing:

* :class:`MasterHelper` adds the cuts to a persistent HiGHS master
  (:class:`~feederopt.solvers.highs_backend.HighsModel`): seed and root outer-approximation
  (OA) cuts of the branch cones, extended cutting planes at the master's point, OA cuts at slave
  points, and the one-row cuts over ``y`` and the theta columns (optimality, feasibility,
  integer L-shaped, no-good).
* :class:`MasterLoop` is the main loop: solve the master under the incumbent's cutoff, take its
  topology, cut the master's own point, hand a new topology to the method's :meth:`_offer`
  (slaves plus cuts), stop on the gap, a repeat, an infeasible master or a limit.

Cutoff: with incumbent ``UB`` the master prunes every node whose bound exceeds
``UB (1 - gap / 2)``; a master with nothing left below that value proves it as a lower bound, and
a solver bound under the cutoff speaks only for what the cutoff left, hence
``LB = min(bound, cutoff)``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feederopt.algorithms.base import AlgorithmBase, ProgressCallback, StopOptions
from feederopt.algorithms.oa import (
    OA_CONES,
    SEED_SHARES,
    cost_cone_cuts,
    cost_cones,
    cost_seed_cuts,
    seed_points,
)
from feederopt.algorithms.slaves import SlaveFailure
from feederopt.execution import Executor
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.interrupt import Interrupted
from feederopt.solvers.scip_master import ScipMaster
from feederopt.solvers.status import master_infeasible_note

#: Below this many seconds left [s], a master stopped at the time limit had no time to
#: search: its iteration's note says so.
MASTER_NO_TIME_S = 0.5


def master_not_searched(status: str, left_s: float) -> bool:
    """Whether a master that stopped without a topology had no time to search: stopped at
    the time limit, started with less than :data:`MASTER_NO_TIME_S` left. Such a call is no
    master MILP solve: it counts as no iteration."""
    return status == "time_limit" and left_s < MASTER_NO_TIME_S


def master_stopped_note(status: str, left_s: float) -> str:
    """The iteration note of a master that stopped without a topology: ``master <status>``,
    or, for a master started with less than :data:`MASTER_NO_TIME_S` of the time limit
    left, that the limit was reached before it (user test ut44_ray #5: "master time_limit"
    for a master that ran 0.03 s, the time having gone to the start heuristics and a
    dropped round of slaves)."""
    if master_not_searched(status, left_s):
        return (f"time limit reached before the master ({max(left_s, 0.0):.2f} s left): "
                "no master search")
    return f"master {status}"


@dataclass(frozen=True)
class MasterOptions:
    """Settings of the master and its loop, common to every Benders method."""

    stop: StopOptions = field(default_factory=StopOptions)
    master_physics: bool = True  # partial Benders: DistFlow rows and OA cuts in the master
    combinatorial_cuts: bool = True  # integer L-shaped cuts
    threads: int = 1
    master_heuristics: bool = False  # HiGHS's primal heuristics in the master
    master_reliable_pseudocosts: int | None = 2  # strong-branching probes per pseudo cost
    #: The master's LPs on the primal simplex. Measured (nodes / LP iterations to the proof,
    #: dual -> primal): case33bw 216/20.9k -> 204/20.4k, case69bw 384/37.3k -> 281/32.1k,
    #: case70da 76/21.0k -> 39/15.8k; bound after 60 s: case136ma 276.1 -> 277.1 kW,
    #: mv_oberrhein 901.5 -> 952.6 kW, but case118zh 822.2 -> 812.0 kW.
    master_primal_simplex: bool = True
    root_oa_rounds: int = 5  # Kelley rounds on the master's LP relaxation before branching
    ecp_min_violation: float | None = 1e-3  # cut the master's point only where it is violated
    master_first_improvement: bool = True  # stop the master at its first improving topology
    warm_topologies: int = 40  # known slave solutions whose OA cuts seed the master
    warm_rows: int = 600  # at most this many rows of such cuts (but at least one topology's)


class MasterHelper:
    """The cuts of a Benders master (after Geoffrion 1972 and Laporte & Louveaux 1993).

    ``copies`` are the suffixes of the master's physics copies (see
    :func:`feederopt.algorithms.stochastic.renamed`); a point of the slave's groups (``P``,
    ``Q``, ...) gives cuts on the copy it is mapped to. ``[""]`` is one unsuffixed copy,
    ``[]`` a master without physics.
    """

    def __init__(self, master: HighsModel | ScipMaster, sw: np.ndarray,
                 copies: Sequence[str] = ("",)) -> None:
        self.master = master
        self.sw = sw
        self.copies = list(copies)

    def _cones(self, suffix: str | None = None) -> list:
        names = {c + s for c in OA_CONES for s in (self.copies if suffix is None else [suffix])}
        return [c for c in self.master.block.cones if c.name in names]

    def _cost_cones(self, copy: str | None = None) -> list:
        """The quadratic cost cones (``pg2 >= pg^2``, ``ps2 >= ps^2``) of the unsuffixed
        physics copy (:func:`~feederopt.algorithms.oa.cost_cones`): the master carries their
        tangents as the DOPF's does; a suffixed copy's (scenarios) carry none (``pg2 >= 0``,
        valid but weaker)."""
        if "" not in self.copies or copy not in (None, ""):
            return []
        return cost_cones(self.master.block)

    def seed_and_root_cuts(self, problem: ReconfigurationProblem, rounds: int,
                           timings: dict[str, float],
                           remaining: Callable[[], float] = lambda: math.inf,
                           shares: tuple[float, ...] = SEED_SHARES) -> None:
        """OA cuts at the seed points of :func:`~feederopt.algorithms.oa.seed_points`, then
        Kelley's cutting planes on the master's LP relaxation, OA cuts at its solution until
        the relaxation bound stalls (Kelley, J. SIAM 8(4), 1960), at most ``rounds`` times."""
        for point in seed_points(problem.pu, shares):
            for sfx in self.copies:
                mapped = {g + ("" if g == "y" else sfx): v for g, v in point.items()}
                for cone in self._cones(sfx):
                    self.master.oa_cuts(cone, mapped)
        # the quadratic costs' tangents over the units' ranges and the sources' likely imports
        # (before session 43 plain reconfiguration's master had pg2 >= 0 only)
        cost_seed_cuts(self.master, self._cost_cones(), problem.pu)
        cones = self._cones()
        if not rounds or not cones or not isinstance(self.master, HighsModel):
            return  # Kelley's rounds need LP solves of a HiGHS master
        self.master.set_relaxation(True)
        last = -math.inf
        for _ in range(rounds):
            if remaining() <= 0:
                break
            if math.isfinite(remaining()):
                self.master.set_time_limit(remaining())
            sol = self.master.solve()
            # LP solves of the master's relaxation, before the loop: no master MILP solve
            # (user test ut49_report #1: they were summed into "master MILP solves [s]")
            timings["master_lp_s"] = timings.get("master_lp_s", 0.0) + sol.solve_time_s
            if not sol.has_solution:
                break
            point = self.master.values()
            for cone in cones:
                self.master.oa_cuts(cone, point)
            cost_cone_cuts(self.master, self._cost_cones(), point)
            if sol.objective - last <= 1e-4 * max(abs(sol.objective), 1e-9):
                break
            last = sol.objective
        self.master.set_relaxation(False)

    def master_point_cuts(self, min_violation: float | None = None) -> None:
        """OA cuts at the master's own solution where it violates a cone (extended cutting
        planes, Westerlund & Pettersson, Comput. Chem. Eng. 19, 1995): they cut off its
        under-estimate of the losses of the topology it proposed."""
        point = self.master.values()
        for cone in self._cones():
            self.master.oa_cuts(cone, point, min_violation=min_violation)
        cost_cone_cuts(self.master, self._cost_cones(), point, min_violation)

    def point_cuts(self, point: dict[str, np.ndarray], closed: np.ndarray | None = None,
                   copy: str | None = None) -> int:
        """OA cuts of the branch cones at a slave ``point`` (unsuffixed group names) on physics
        copy ``copy`` (default: every copy), on the ``closed`` branches only when given; any
        point gives valid cuts. Returns the number of rows added."""
        rows = None if closed is None else np.flatnonzero(closed)
        added = 0
        for sfx in self.copies if copy is None else [copy]:
            mapped = {g + ("" if g == "y" else sfx): v for g, v in point.items()}
            for cone in self._cones(sfx):
                added += self.master.oa_cuts(cone, mapped, rows=rows)
            added += cost_cone_cuts(self.master, self._cost_cones(sfx), mapped)
        return added

    def warm_cuts(self, known: Sequence[tuple[np.ndarray, Any]], max_topologies: int,
                  max_rows: int) -> int:
        """OA cuts at slave solutions found before the run (a heuristic's evaluations, items
        ``(y, evaluation)`` with ``feasible``, ``objective`` and ``point``).

        A topology's slave solution lies on the boundary of its branch cones, so the tangent
        cuts there make the master's losses exact at that topology and close to it at its
        neighbours; without them the first master solves propose topologies whose losses the
        seed cuts under-estimate (case33bw: three master solves instead of one). The
        ``max_topologies`` best distinct feasible ones are used, at most ``max_rows`` rows, to
        bound the master's size: more rows make every node's LP slower (case33bw, one master
        solve: 3.8 s with 591 rows, 5.1-6.3 s with 975-1295; case69bw 7.9 s with 556, 11.1 s
        with 950 and 10.3 s with 286). Returns the number of rows added.
        """
        best: dict[bytes, tuple[float, np.ndarray, Any]] = {}
        for y, ev in known:
            if not ev.feasible:
                continue
            key = np.round(y).astype(np.int8).tobytes()
            if key not in best or ev.objective < best[key][0]:
                best[key] = (ev.objective, y, ev)
        chosen = sorted(best.values(), key=lambda item: item[0])[:max_topologies]
        added = 0
        for _, y, ev in chosen:
            if added and added + len(self.copies) * int((y > 0.5).sum()) > max_rows:
                break
            added += self.point_cuts({**ev.point, "y": y}, y > 0.5)
        return added

    def linear_cut(self, thetas: dict[str, float], y: np.ndarray, value: float,
                   gradient: np.ndarray) -> None:
        """Optimality cut ``sum_t a_t theta_t >= value + g @ (y - y_k)`` on the switchable
        entries, ``g`` the duals of ``y = y_k`` in the slave (Geoffrion, JOTA 10(4), 1972)."""
        sw = self.sw
        g = gradient[sw]
        coefs = {t: (np.array([0]), np.array([a])) for t, a in thetas.items()}
        coefs["y"] = (sw, -g)
        self.master.add_cut(coefs, value - float(g @ y[sw]), math.inf)

    def feasibility_cut(self, y: np.ndarray, value: float, gradient: np.ndarray) -> None:
        """``phi(y_k) + h @ (y - y_k) <= 0`` with ``phi`` the slave's least total slack."""
        sw = self.sw
        g = gradient[sw]
        if np.any(np.abs(g) > 1e-12):
            self.master.add_cut({"y": (sw, g)}, -math.inf, float(g @ y[sw]) - value)

    def l_shaped_cut(self, thetas: dict[str, float], y: np.ndarray, value: float,
                     low: float = 0.0) -> None:
        """``sum_t a_t theta_t >= (value - L) (sum_C y - sum_O y - |C| + 1) + L`` with ``L``
        a lower bound of ``sum_t a_t theta_t`` (Laporte & Louveaux, Oper. Res. Lett. 13, 1993):
        exact at ``y_k``, at most ``L`` elsewhere."""
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


class MasterLoop(AlgorithmBase, ABC):
    """The main loop of a Benders method (module docstring); subclasses give the slaves.

    The constructor sets what the loop reads from the problem (``pu``, ``sw``, ``y_cost`` and
    ``y_const``, the switching cost and its constant) and the ``options``. A subclass may extend
    ``timings`` (it keeps ``master_s`` and ``slave_s``), sets ``executor`` if it maps slaves
    (:meth:`_map_slaves`), and implements :meth:`_offer` (evaluate a topology, update the
    incumbent, add its cuts, set ``_last_slave_s``) and :meth:`_has_incumbent`.
    """

    problem: ReconfigurationProblem
    pu: PerUnitNetwork
    sw: np.ndarray  # indices of the switchable branches
    y_cost: np.ndarray
    y_const: float
    timings: dict[str, float]
    options: MasterOptions
    executor: Executor  # for methods with many slaves per topology (set by the subclass)
    n_slave_solves: int
    _last_slave_s: float

    def __init__(self, problem: ReconfigurationProblem, options: MasterOptions,
                 progress: ProgressCallback | None = None) -> None:
        super().__init__(options.stop, progress)
        self.options = options
        self.problem = problem
        self.pu = problem.pu
        self.sw = np.flatnonzero(self.pu.switchable)
        self.y_cost, self.y_const = problem.y_cost()
        self.timings = {"build_s": 0.0, "master_s": 0.0, "slave_s": 0.0}
        self.n_slave_solves = 0
        self._last_slave_s = 0.0

    def _map_slaves(self, task: Callable[..., Any], items: list[Any]) -> list[Any]:
        """Run ``task`` over ``items`` on the executor, in order, timing the round; a round
        that overruns the time limit is dropped (the executor raises
        :class:`~feederopt.solvers.interrupt.RoundOverran`, an :class:`Interrupted`)."""
        t0 = self.elapsed
        end = self.t0 + self.stop.time_limit_s
        try:
            results = self.executor.map(task, items,
                                        deadline=end if math.isfinite(end) else None)
        except SlaveFailure as exc:
            # no valid cut from that round: stop as a dead worker does (user test ut_ppgrid
            # #3), the incumbent, bound and gap of the rounds before it reported, with why
            raise interrupt.stop_for(f"{interrupt.CONIC_FAILURE}: {exc}") from exc
        self.timings["slave_wall_s"] = self.timings.get("slave_wall_s", 0.0) + self.elapsed - t0
        self.timings["slave_s"] += sum(r.solve_time_s for r in results)
        self.n_slave_solves += len(results)
        return results

    def _configure(self, master: HighsModel) -> None:
        """The master settings of :class:`MasterOptions`."""
        master.configure_master(primal_heuristics=self.options.master_heuristics,
                                reliable_pseudocosts=self.options.master_reliable_pseudocosts,
                                primal_simplex=self.options.master_primal_simplex)

    @abstractmethod
    def _offer(self, helper: MasterHelper | None, y: np.ndarray) -> None:
        """Evaluate topology ``y``: update the incumbent, add its cuts, set ``_last_slave_s``."""

    @abstractmethod
    def _has_incumbent(self) -> bool:
        """Whether a feasible topology is known."""

    def _radial_starts(self, initial: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The radial ones among the start topologies (the user's base case need not be
        radial, and a free branch must stay closed)."""
        pu = self.pu
        out = []
        for y in initial:
            y = np.round(np.asarray(y, float))
            free_ok = np.all((y > 0.5) | pu.switchable)
            if free_ok and is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)[0]:
                out.append(y)
        return out

    def _offer_initial(self, helper: MasterHelper, initial: Sequence[np.ndarray]) -> None:
        """Offer the radial start topologies (until a stop request)."""
        for y in self._radial_starts(initial):
            if self.interrupted() or not self._try_offer(helper, y):
                return

    def _try_offer(self, helper: MasterHelper | None, y: np.ndarray) -> bool:
        """:meth:`_offer`; False when a stop request cut its round of slaves short (the round
        is dropped: the incumbent, bound and cuts stay as they were before it)."""
        try:
            self._offer(helper, y)
        except Interrupted:
            return False
        return True

    def _master_loop(self, master: HighsModel, helper: MasterHelper, *,
                     y_const: float) -> bool:
        """Iterate until a stopping rule holds; True when the master ran out of topologies
        (infeasible under the cutoff: the incumbent, if any, is optimal within the gap)."""
        seen: set[bytes] = set()
        physics = bool(helper.copies)
        to_optimum = False  # after a repeat: the next master searches to its optimum
        while not self.interrupted():
            self.iteration += 1
            left = self.remaining()
            master.set_time_limit(left)
            cutoff = math.inf
            first = self.options.master_first_improvement and not to_optimum
            if math.isfinite(self.upper):
                cutoff = self.upper - self.stop.gap * abs(self.upper) * 0.5
                master.set_cutoff(cutoff - y_const, first_improving=first)
            self.phase(f"master {self.iteration}")
            ms = master.solve()
            if not ms.has_solution and master_not_searched(ms.status, left):
                # The time limit came before the master: no master MILP solve ran, so it is
                # no iteration (user test ut49_report #1: "iterations 1" beside a log whose
                # only row said "no master search"); its seconds are HiGHS's set-up.
                self.iteration -= 1
                self.timings["master_setup_s"] = (self.timings.get("master_setup_s", 0.0)
                                                  + ms.solve_time_s)
                if math.isfinite(ms.bound):
                    self.update_lower(min(ms.bound + y_const, cutoff))
                self.record(ms.solve_time_s, 0.0, master_stopped_note(ms.status, left))
                return False
            self.timings["master_s"] += ms.solve_time_s
            self.timings["master_nodes"] = self.timings.get("master_nodes", 0) + ms.nodes
            self.timings["master_lp_iterations"] = (
                self.timings.get("master_lp_iterations", 0) + ms.lp_iterations
            )
            if ms.status == "infeasible":
                if self._has_incumbent():
                    self.update_lower(min(cutoff, self.upper))
                self.record(ms.solve_time_s, 0.0,
                            master_infeasible_note(self._has_incumbent(), self.log_phase))
                return True
            if not ms.has_solution or self.interrupted():
                # Stopped (time limit, stop request) before a topology, or a stop request came
                # while it ran (no slave solves after it): its dual bound still holds.
                if math.isfinite(ms.bound):
                    self.update_lower(min(ms.bound + y_const, cutoff))
                self.record(ms.solve_time_s, 0.0, master_stopped_note(ms.status, left))
                return False
            self.update_lower(min(ms.bound + y_const, cutoff))
            y = np.round(master.values()["y"])
            key = y.astype(np.int8).tobytes()
            note = ""
            self._last_slave_s = 0.0
            if physics:
                helper.master_point_cuts(self.options.ecp_min_violation)
            if key in seen:
                # A repeat: its L-shaped cut gives theta >= f(y) >= incumbent, so it came back
                # under the cutoff only within the solver's tolerances. A master stopped at its
                # first improving topology (mip_max_improving_sols = 1) proves nothing of the
                # nodes it left, so the next master searches to its optimum: nothing below the
                # cutoff (infeasible) proves the cutoff, else its dual bound is the bound. A
                # master at its optimum that repeats has proven its dual bound (taken above)
                # and can offer nothing new: the loop ends on that bound, never on LB = UB
                # unproven (user test ut43_optima #2: --gap 0 on case33bw reported gap 0
                # where 139.551207 kW against 139.551346 kW was proven).
                note = "repeat"
                if self._has_incumbent():
                    if first:
                        to_optimum = True
                        note = "repeat: the master again, to its optimum"
                    else:
                        self.record(ms.solve_time_s, 0.0,
                                    "repeat at the master's optimum: its bound is final")
                        return False
            else:
                to_optimum = False
                seen.add(key)
                self.phase(f"slaves {self.iteration}")
                if not self._try_offer(helper, y):
                    note = ("interrupted" if self.interrupted()
                            else "slaves past the time limit: round dropped")
            self.record(ms.solve_time_s, self._last_slave_s, note)
            if self.should_stop() or ms.status in ("time_limit", "interrupted"):
                return False
        return False  # a stop request before the next master solve
