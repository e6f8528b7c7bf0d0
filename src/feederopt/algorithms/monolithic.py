"""Monolithic baselines: the MISOCP in one model, and the LinDistFlow MILP heuristic.

* :func:`solve_misocp` -- physics (SOCP DistFlow with on/off branches) plus radiality as one
  mixed-integer SOCP (Jabr, Singh & Pal, IEEE TPWRS 27(2), 2012; Taylor & Hover, IEEE TPWRS
  27(3), 2012), solved by SCIP (or Gurobi / MOSEK when installed and licensed). At a time limit
  it reports the solver's dual bound and gap.
* :func:`solve_lindistflow` -- LinDistFlow (Baran & Wu, IEEE TPWRD 4(2), 1989) with a
  piecewise-linear outer approximation of the quadratic loss proxy ``r (P^2 + Q^2) / v``
  (tangents in six directions of ``(P, Q)``, :func:`~feederopt.algorithms.oa.seed_points`), as
  a MILP on HiGHS. It is a heuristic: its objective is no bound on the SOCP losses. The topology
  it returns is evaluated exactly with the SOCP slave, and so is the base case's when it is
  radial: the better of the two is the answer (a note says when it is the base case); Benders
  uses it as a warm start.

  After a stop request (Ctrl-C, SIGTERM) the MILP returns its incumbent with its own status
  ``interrupted``, which decides the run's status (:func:`~feederopt.algorithms.base.\
stopped_status`): ``interrupted`` whichever topology is reported. The SOCP evaluations of its
  topology and of the base case then run to their end (the stop request would cut them short)
  but within :data:`STOPPED_EVALUATION_S` together.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from feederopt.algorithms.base import (
    Deadline,
    OutOfTime,
    RawSolution,
    StopOptions,
    ViolatingCandidate,
    relative_gap,
    stopped_status,
)
from feederopt.algorithms.oa import OA_CONES, RING_DIRECTIONS, seed_points
from feederopt.algorithms.slaves import SlaveFailure, TopologyEvaluator
from feederopt.formulations.distflow import add_rating_polygons
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import Evaluation, ReconfigurationProblem
from feederopt.solvers import interrupt
from feederopt.solvers.cvxpy_backend import CvxpyModel
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.scip_backend import ScipModel, ScipSolution
from feederopt.solvers.status import IterationRecord, Status


def _evaluate(problem: ReconfigurationProblem, y: np.ndarray,
              evaluator: TopologyEvaluator | None) -> tuple[float, dict[str, np.ndarray], bool]:
    value, ev = _evaluation(problem, y, evaluator)
    return value, ev.point, ev.feasible


def _evaluation(problem: ReconfigurationProblem, y: np.ndarray,
                evaluator: TopologyEvaluator | None) -> tuple[float, Evaluation]:
    """The SOCP slave of topology ``y``: its objective with the switching cost (NaN when it
    needs slack) and the evaluation (its violated limits then)."""
    ev = (evaluator or TopologyEvaluator(problem)).evaluate(y, need_gradient=False)
    c, const = problem.y_cost()
    value = ev.objective + float(c @ y) + const if ev.feasible else math.nan
    return value, ev


#: What a MISOCP proof that no radial topology meets the limits rests on (JSON
#: ``infeasible_reason``; ``solver`` the MIP solver's name).
MISOCP_INFEASIBLE = (
    "no radial topology meets the limits (proven: {solver} finds the mixed-integer SOCP, "
    "radiality with the DistFlow relaxation and no slack, infeasible; the SOCP is a "
    "relaxation of the model's AC power flow, so no radial topology meets the limits in AC "
    "either)")

#: What a LinDistFlow result that meets no limits says (JSON ``infeasible_reason``): the
#: heuristic's "infeasible" proves nothing.
LINDISTFLOW_NOT_PROVEN = (
    "not proven: LinDistFlow (a heuristic: linearised voltages, no losses, ratings by "
    "inscribed polygons) found no radial topology within its limits{what}; this proves "
    "nothing about the grid, --method benders decides")


def solve_misocp(
    problem: ReconfigurationProblem,
    solver: str = "SCIP",
    stop: StopOptions | None = None,
    evaluator: TopologyEvaluator | None = None,
) -> RawSolution:
    """The monolithic MISOCP (see module docstring).

    SCIP gets the block directly through PySCIPOpt (:class:`ScipModel`, cones in the form its
    second-order-cone handler detects); Gurobi and MOSEK go through cvxpy.
    """
    stop = stop or StopOptions()
    if solver == "SCIP":
        return _solve_misocp_scip(problem, stop, evaluator)
    t0 = time.perf_counter()
    model = CvxpyModel(problem.monolithic_block(), dpp=False)  # solved once
    kwargs: dict[str, object] = {}
    if solver == "GUROBI":
        kwargs.update(TimeLimit=stop.time_limit_s, MIPGap=stop.gap)
    elif solver == "MOSEK":
        kwargs["mosek_params"] = {
            "MSK_DPAR_OPTIMIZER_MAX_TIME": stop.time_limit_s,
            "MSK_DPAR_MIO_TOL_REL_GAP": stop.gap,
        }
    sol = model.solve(solver, **kwargs)
    elapsed = time.perf_counter() - t0
    to_kw = problem.to_kw
    has_solution = sol.status in ("optimal", "optimal_inaccurate", "user_limit") and np.isfinite(
        sol.objective
    )
    if not has_solution:
        status = Status.INFEASIBLE if "infeasible" in sol.status else (
            Status.TIME_LIMIT if sol.status == "user_limit" else Status.ERROR
        )
        return RawSolution(status, "misocp", None, math.nan, -math.inf, math.inf, 1, elapsed,
                           solver=solver, timings={"build_s": model.build_time_s},
                           extra={"solver_status": sol.status}, within_limits=False,
                           log=[IterationRecord(1, -math.inf, math.inf, math.inf, elapsed,
                                                elapsed, 0.0, "final bounds")])
    y = np.round(model.value("y"))
    # the model's objective holds the switching cost's ``c @ y``, not its constant
    const = problem.y_cost()[1]
    objective = to_kw(sol.objective) + const
    bound = mip_lower_bound(sol.objective, sol.dual_bound, sol.status == "optimal", stop.gap)
    bound = min(to_kw(bound) + const, objective) if math.isfinite(bound) else -math.inf
    gap = relative_gap(objective, bound)
    if sol.status == "user_limit":
        status = stopped_status()
    else:
        status = Status.OPTIMAL if gap <= max(stop.gap, 1e-6) else Status.FEASIBLE
    _, point, _ = _evaluate(problem, y, evaluator)
    return RawSolution(status, "misocp", y, objective, bound, gap, 1, elapsed, point=point,
                       solver=solver, timings={"build_s": model.build_time_s},
                       extra={"solver_status": sol.status},
                       log=[IterationRecord(1, bound, objective, gap, elapsed, elapsed, 0.0,
                                            "final bounds")])


def mip_lower_bound(objective: float, solver_bound: float, optimal: bool, rel_gap: float
                    ) -> float:
    """The proven lower bound of a MIP solved through cvxpy, in the model's terms: the solver's
    own best bound when it gives one (Gurobi's ``ObjBound``); else, for a solve that ended
    "optimal", what its stopping rule proves, ``objective - rel_gap |objective|`` (Gurobi's
    ``MIPGap`` and MOSEK's ``MIO_TOL_REL_GAP`` are relative to the incumbent); else ``-inf``
    (a solve stopped at its limit without a bound proves nothing)."""
    if math.isfinite(solver_bound):
        return solver_bound
    if optimal and math.isfinite(objective):
        return objective - rel_gap * abs(objective)
    return -math.inf


def _solve_misocp_scip(
    problem: ReconfigurationProblem, stop: StopOptions, evaluator: TopologyEvaluator | None
) -> RawSolution:
    """The MISOCP on SCIP through :class:`ScipModel`; SCIP's dual bound is the lower bound."""
    t0 = time.perf_counter()
    # The model's objective holds the switching cost's ``c @ y`` (:meth:`y_cost`); its
    # constant (the cost of the base case's closed switches and of the branches held or
    # fixed away from their base-case state) is SCIP's objective offset, so that SCIP's
    # objective, bound and gap limit are those of the reported objective. Added afterwards
    # instead, SCIP measured its gap on a value that a large constant had made small or
    # negative: 1000 kW per normally-closed switch stopped it at 0.66 % of the reported
    # objective, status feasible.
    const = problem.y_cost()[1]
    model = ScipModel(problem.monolithic_block(), objective_offset=const)
    remaining = stop.time_limit_s - (time.perf_counter() - t0)
    # half the gap asked for: the reported objective is the slave's at SCIP's topology, which
    # SCIP's own can sit below by its tolerances (a 0.262 kW optimum: 6.2e-6 below), so that
    # SCIP's gap limit alone left a gap of 1.40e-5 against the 1e-5 asked for ('feasible')
    sol = model.solve(time_limit_s=remaining, gap=stop.gap / 2)
    elapsed = time.perf_counter() - t0
    to_kw = problem.to_kw
    timings = {"build_s": model.build_time_s, "solve_s": sol.solve_time_s}
    extra = {"solver_status": sol.scip_status, **sol.stats}
    bound = to_kw(sol.bound) if math.isfinite(sol.bound) else sol.bound
    if not sol.has_solution:
        if sol.status == "infeasible":
            status = Status.INFEASIBLE
        elif sol.status in ("time_limit", "interrupted"):
            status = stopped_status(sol.status)
        else:
            status = Status.ERROR
        # No topology: nothing within the limits to report (the CLI exits 4 at a limit, 3
        # after a proof of infeasibility); SCIP's dual bound is kept.
        # One solve ran (iterations 1, as with a topology; it said 0, which the console read
        # as "stopped before any master iteration" once the log had SCIP's rows).
        return RawSolution(status, "misocp", None, math.nan, bound, math.inf, 1, elapsed,
                           solver="SCIP", timings=timings, extra=extra, within_limits=False,
                           log=_scip_log(sol, to_kw, elapsed - sol.solve_time_s, bound,
                                         math.inf, elapsed))
    y = np.round(model.value("y"))
    objective = to_kw(sol.objective)
    value, point, feasible = _evaluate(problem, y, evaluator)
    if feasible and math.isfinite(value) and abs(value - objective) > 1e-6 * max(1.0, abs(value)):
        # the topology's cost is the slave's at it: SCIP's objective can sit below it by what
        # its tolerances allow (a DG priced at 1e6 per MWh, pg at -1e-8 p.u. under its p_min:
        # -10 kW), and so can its bound
        extra["scip_objective_kw"] = objective
        objective = value
    bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    if sol.status in ("time_limit", "interrupted"):
        status = stopped_status(sol.status)
    else:
        status = Status.OPTIMAL if gap <= max(stop.gap, 1e-6) else Status.FEASIBLE
    return RawSolution(status, "misocp", y, objective, bound, gap, 1, elapsed, point=point,
                       solver="SCIP", timings=timings, extra=extra,
                       log=_scip_log(sol, to_kw, elapsed - sol.solve_time_s, bound, objective,
                                     elapsed))


def _scip_log(sol: ScipSolution, to_kw: Callable[[float], float], start_s: float,
              lower: float, upper: float, elapsed: float) -> list[IterationRecord]:
    """The MISOCP's iteration log: SCIP's bounds over its one solve (``sol.trace``: each new
    incumbent, and the dual bound as it moved; ``note`` ``SCIP: incumbent`` or ``SCIP:
    bound``), in kW, ``start_s`` (the model's build) added to their times, then the run's
    ``final bounds`` as reported (``lower``, ``upper`` [kW]), whose ``master_s`` is SCIP's
    whole solve (the rows before it are moments of that one step). Before, a MISOCP run's log was
    empty, and its folder had no ``iterations.parquet`` (user test ut43_optima #7)."""
    rows: list[IterationRecord] = []
    for t, primal, dual in sol.trace:
        up = to_kw(primal) if math.isfinite(primal) else math.inf
        lo = to_kw(dual) if math.isfinite(dual) else -math.inf
        lo = min(lo, up)
        if not (math.isfinite(lo) or math.isfinite(up)):
            continue  # no bound yet
        if rows and math.isclose(lo, rows[-1].lower_bound, rel_tol=1e-9) and math.isclose(
                up, rows[-1].upper_bound, rel_tol=1e-9):
            continue  # moved by less than what the kW show
        gap = relative_gap(up, lo)
        best = rows[-1].upper_bound if rows else math.inf
        note = "SCIP: incumbent" if up < best else "SCIP: bound"
        rows.append(IterationRecord(1, lo, up, gap, start_s + t, 0.0, 0.0, note))
    gap = relative_gap(upper, lower)
    rows.append(IterationRecord(1, lower, upper, gap, elapsed, sol.solve_time_s, 0.0,
                                "final bounds"))
    return rows


def lindistflow_topology(
    problem: ReconfigurationProblem, time_limit_s: float = 60.0, threads: int = 1,
    info: dict[str, float] | None = None,
) -> tuple[np.ndarray | None, str]:
    """The LinDistFlow MILP's topology (or None) and the MILP status; ``info`` receives the
    MILP's relative gap ``milp_gap`` = (objective - bound) / |objective| on its own (loss
    proxy) objective, which is no bound on the true losses."""
    block = problem.monolithic_block(lossless=True)
    # The ratings by inscribed polygons: the tangents of the loss proxy's cone alone let a
    # lossless overload through (add_rating_polygons).
    add_rating_polygons(block, problem.pu)
    model = HighsModel(block, threads=threads)
    cones = [c for c in block.cones if c.name in OA_CONES]
    # a ring of tangents: LinDistFlow has no slave to add the cuts its flows need, and a
    # reactive flow against the active one (a PV generator's) must cost its losses too
    for point in seed_points(problem.pu, ring=RING_DIRECTIONS):
        for cone in cones:
            model.oa_cuts(cone, point)
    model.set_time_limit(time_limit_s)
    sol = model.solve()
    if info is not None and math.isfinite(sol.objective) and math.isfinite(sol.bound):
        info["milp_gap"] = float(abs(sol.objective - sol.bound)
                                 / max(abs(sol.objective), 1e-12))
    if not sol.has_solution:
        return None, sol.status
    return np.round(model.values()["y"]), sol.status


#: The seconds that the SOCP evaluations of a LinDistFlow run may take together after a stop
#: request (its topology's, then the base case's): the README promises that a Ctrl-C'd run
#: ends within a second or two past the solver's own stop. One evaluation takes 0.2-0.6 s on
#: synthetic500/1000 (Clarabel); on a grid where it takes longer, the base case is not
#: compared (a note says so), and a topology whose evaluation does not end in this time is not
#: reported (its losses and limits are unknown).
STOPPED_EVALUATION_S = 5.0


@contextlib.contextmanager
def _bounded_after_stop(evaluator: TopologyEvaluator, stopped: bool) -> Iterator[None]:
    """The evaluations of the block run to their end after a stop request (``stopped``),
    within :data:`STOPPED_EVALUATION_S` in all (the evaluator's deadline; a solve that reaches
    it raises :class:`OutOfTime`); without one, as they are."""
    if not stopped:
        yield
        return
    before = evaluator.deadline
    with interrupt.shielded():  # the Deadline reads the request as False meanwhile
        evaluator.deadline = Deadline(STOPPED_EVALUATION_S)
        try:
            yield
        finally:
            evaluator.deadline = before


def lindistflow_status(milp_status: str, feasible: bool) -> Status:
    """The status of a LinDistFlow run whose MILP ended with ``milp_status`` and whose answer
    (its topology, or the base case kept) is ``feasible`` in the SOCP model or not. The MILP's
    own status decides: ``interrupted`` (a stop request) makes the run ``interrupted`` whatever
    it reports, so that the command line exits 130 (before: ``feasible`` and exit 0 when the
    base case was kept, user test ut40_scale); ``time_limit`` makes a run within the limits
    ``time_limit`` (a longer run may give another topology, the base case kept or not);
    otherwise ``feasible``, or ``infeasible`` for a topology that needs slack."""
    if milp_status == "interrupted" or (milp_status == "time_limit" and feasible):
        return stopped_status(milp_status)
    return Status.FEASIBLE if feasible else Status.INFEASIBLE


def solve_lindistflow(
    problem: ReconfigurationProblem,
    stop: StopOptions | None = None,
    evaluator: TopologyEvaluator | None = None,
) -> RawSolution:
    """The LinDistFlow MILP heuristic, with the SOCP value of its topology; the status by
    :func:`lindistflow_status`. Its log is one row, ``LinDistFlow MILP (a heuristic: no
    bound)``: the answer's objective, no lower bound (before, the log was empty and a result
    folder had no ``iterations.parquet``, beside "iterations 1"; user test ut43_optima #7)."""
    raw = _solve_lindistflow(problem, stop, evaluator)
    upper = raw.objective if math.isfinite(raw.objective) else math.inf
    raw.log = [IterationRecord(raw.iterations, -math.inf, upper, math.inf, raw.solve_time_s,
                               0.0, 0.0, "LinDistFlow MILP (a heuristic: no bound)")]
    return raw


def _solve_lindistflow(
    problem: ReconfigurationProblem,
    stop: StopOptions | None = None,
    evaluator: TopologyEvaluator | None = None,
) -> RawSolution:
    """:func:`solve_lindistflow` without its log."""
    stop = stop or StopOptions()
    t0 = time.perf_counter()
    info: dict[str, float] = {}
    y, milp_status = lindistflow_topology(problem, stop.time_limit_s, info=info)
    if y is None:
        status = (Status.INFEASIBLE if milp_status == "infeasible" else
                  stopped_status(milp_status) if milp_status in ("time_limit", "interrupted")
                  else Status.ERROR)
        extra: dict[str, object] = {"milp_status": milp_status}
        kept = (_base_case(problem, evaluator) if status is Status.TIME_LIMIT else None)
        if kept is not None:
            # no topology from the MILP in its time: the grid the user already operates
            # (radial, within the limits) is an answer, not proven (ut32_multi)
            y0, value0, ev0 = kept
            extra["note"] = ("the base case is kept: the LinDistFlow MILP found no topology "
                             "within the time limit; --method benders decides")
            return RawSolution(status, "lindistflow", y0, problem.to_kw(value0), -math.inf,
                               math.inf, 1, time.perf_counter() - t0, point=ev0.point,
                               solver="HiGHS + Clarabel", extra={**extra, **info})
        if status is Status.INFEASIBLE:
            extra["infeasible_reason"] = LINDISTFLOW_NOT_PROVEN.format(what="")
        return RawSolution(status, "lindistflow", None, math.nan, -math.inf, math.inf, 1,
                           time.perf_counter() - t0, solver="HiGHS", extra=extra,
                           within_limits=False)
    evaluator = evaluator or TopologyEvaluator(problem)
    interrupted = stopped_status(milp_status) is Status.INTERRUPTED
    more: dict[str, object] = {}
    with _bounded_after_stop(evaluator, interrupted):
        try:
            value, ev = _evaluation(problem, y, evaluator)
        except OutOfTime:
            return RawSolution(
                Status.INTERRUPTED, "lindistflow", None, math.nan, -math.inf, math.inf, 1,
                time.perf_counter() - t0, solver="HiGHS + Clarabel", within_limits=False,
                extra={"milp_status": milp_status, **info, "note": (
                    "the SOCP evaluation of the interrupted MILP's topology did not end "
                    f"within {STOPPED_EVALUATION_S:g} s of the stop request: not reported")})
        try:
            base = _better_base(problem, y, value if ev.feasible else math.inf, evaluator)
        except OutOfTime:
            base = None
            more["note"] = ("the base case was not compared: its SOCP evaluation did not end "
                            f"within {STOPPED_EVALUATION_S:g} s of the stop request")
    if base is not None:
        # the base case loses less: it is the answer, with a note
        y, (value0, ev) = base[0], base[1:]
        more["note"] = (
            "the base case is kept: LinDistFlow's topology ("
            + (f"{problem.to_kw(value):.3f} kW in the SOCP model" if math.isfinite(value)
               else "outside the limits in the SOCP model")
            + f") is worse than the grid's own ({problem.to_kw(value0):.3f} kW); "
            "--method benders decides")
        value = value0
    feasible = ev.feasible
    status = lindistflow_status(milp_status, feasible)
    if not feasible:
        # the linearised model's topology needs slack in the SOCP: its violated limits, as an
        # exact method names them (before: diagnosis [] beside "the model held them")
        more = {**more, "total_violation_pu": ev.violation, "infeasible_reason":
                LINDISTFLOW_NOT_PROVEN.format(
                    what=" that the SOCP model holds (its topology needs slack there)")}
    return RawSolution(
        status, "lindistflow", y, problem.to_kw(value) if feasible else math.nan, -math.inf,
        math.inf, 1, time.perf_counter() - t0, point=ev.point, solver="HiGHS + Clarabel",
        extra={"milp_status": milp_status, **info, **more}, within_limits=feasible,
        diagnosis=[] if feasible else list(ev.violations),
    )


def _better_base(problem: ReconfigurationProblem, y: np.ndarray, value: float,
                 evaluator: TopologyEvaluator | None
                 ) -> tuple[np.ndarray, float, Evaluation] | None:
    """The base case's topology, its value and evaluation when it is radial, within the
    limits and better than ``value`` (the heuristic's, ``inf`` when it breaks a limit); else
    None. LinDistFlow is a heuristic with no bound: the grid the user already operates is an
    answer it must not make worse without saying so (user test ut32_multi netA: 214.5 kW
    against the base case's 125.2 kW). The SOCP is exact on a radial topology when it
    reports no gap (Farivar & Low 2013), so both values are AC losses of the same model."""
    y0 = problem.pu.initial_closed().astype(float)
    if np.array_equal(np.round(y) > 0.5, y0 > 0.5):
        return None
    base = _base_case(problem, evaluator)
    if base is None or not base[1] < value - 1e-9 * max(1.0, abs(base[1])):
        return None
    return base


def _base_case(problem: ReconfigurationProblem, evaluator: TopologyEvaluator | None
               ) -> tuple[np.ndarray, float, Evaluation] | None:
    """The base case's topology, its SOCP value and evaluation when it is radial and within
    the limits; else None."""
    pu = problem.pu
    y0 = pu.initial_closed().astype(float)
    if not is_radial_forest(pu.n_bus, pu.f, pu.t, y0 > 0.5, pu.is_source)[0]:
        return None
    value0, ev0 = _evaluation(problem, y0, evaluator)
    return (y0, value0, ev0) if ev0.feasible else None


#: The note of a run whose time was up before any incumbent, answered by the base case
#: (:func:`base_fallback`).
BASE_FALLBACK_NOTE = ("the base case is the answer: the time limit was up before any topology "
                      "was found, so the grid's own (radial) topology was evaluated by the "
                      "SOCP slave after the limit; a longer --time-limit may find a better one")

#: The base case's one solve after the limit may take half the run's time again, at least this
#: many seconds [s] (:func:`base_fallback`; before, it ran to its end however long that was:
#: session 48's known list).
BASE_FALLBACK_MIN_S = 30.0


def base_fallback_cap(run_s: float) -> float:
    """Seconds the base-case fallback's solve may take after a run of ``run_s`` seconds:
    ``max(BASE_FALLBACK_MIN_S, run_s / 2)``."""
    return max(BASE_FALLBACK_MIN_S, 0.5 * run_s)


def base_fallback(raw: RawSolution, problem: ReconfigurationProblem,
                  evaluator: TopologyEvaluator | None = None) -> RawSolution:
    """``raw`` answered by the base case when the run's time was up before any incumbent
    (status ``time_limit``, no topology) and the grid's own topology is radial: the one SOCP
    slave of that topology, solved to its end after the limit (as the restore command's
    shed-all fallback and the partition's all-dark plan are for theirs) within
    :func:`base_fallback_cap` seconds, gives its point and
    its objective ``f(y0) + c @ y0 + const`` [kW]. Its bound stays the run's (``-inf`` when
    none: gap ``inf``, else ``(UB - LB) / max(|UB|, 1e-9)``); the status stays
    ``time_limit``. A base case that needs slack in the model is a least-violating answer (its
    violated limits the diagnosis). Otherwise (a topology found, another status, a meshed base
    case, a failed slave) ``raw`` as it is; a solve past the cap too leaves ``raw`` with a
    note (``base_unfinished``, ``base_fallback_cap_s``) saying so."""
    if raw.y is not None or raw.status is not Status.TIME_LIMIT or interrupt.requested():
        return raw
    pu = problem.pu
    y0 = pu.initial_closed().astype(float)
    if not is_radial_forest(pu.n_bus, pu.f, pu.t, y0 > 0.5, pu.is_source)[0]:
        return raw
    t0 = time.perf_counter()
    evaluator = evaluator or TopologyEvaluator(problem)
    before = evaluator.deadline
    cap = base_fallback_cap(raw.solve_time_s)
    evaluator.deadline = Deadline(cap)  # the one solve after the limit, within its cap
    try:
        value, ev = _evaluation(problem, y0, evaluator)
    except SlaveFailure:
        return raw
    except OutOfTime:
        # as Benders' unfinished first slave: the run has no topology (cli.solve's reason)
        return replace(raw, extra={**raw.extra, "base_unfinished": True,
                                   "base_fallback_cap_s": cap})
    finally:
        evaluator.deadline = before
    spent = time.perf_counter() - t0
    elapsed = raw.solve_time_s + spent
    extra = {**{k: v for k, v in raw.extra.items() if k != "base_unfinished"},
             "note": BASE_FALLBACK_NOTE, "base_fallback": True}
    timings = {**raw.timings, "base_fallback_s": spent}
    if not ev.feasible:
        return replace(raw, y=y0, objective=math.nan, gap=math.inf, solve_time_s=elapsed,
                       point=ev.point, diagnosis=list(ev.violations), within_limits=False,
                       timings=timings,
                       extra={**extra, "total_violation_pu": ev.violation},
                       candidates=[ViolatingCandidate(y0.copy(), ev.violation, math.inf, ev)])
    upper = problem.to_kw(value)
    lower = min(raw.lower_bound, upper) if math.isfinite(raw.lower_bound) else -math.inf
    gap = relative_gap(upper, lower)  # inf without a bound (base.relative_gap)
    log = [*raw.log, IterationRecord(raw.iterations, lower, upper, gap, elapsed, 0.0,
                                     ev.solve_time_s, "base case (time up before any topology)")]
    return replace(raw, y=y0, objective=upper, lower_bound=lower, gap=gap,
                   solve_time_s=elapsed, point=ev.point, within_limits=True, timings=timings,
                   extra=extra, log=log, diagnosis=[], candidates=[])



#: The note of a stopped run whose only topology evaluated is the grid's own, which breaks
#: the limits (:func:`base_only_answer`).
BASE_ONLY_NOTE = ("the base case is the answer: the run stopped ({why}) before any topology "
                  "but the grid's own (radial) one, evaluated first, was evaluated; it breaks "
                  "the limits and was not chosen for least violation; a longer --time-limit "
                  "may find a better one")


def base_only_answer(raw: RawSolution, problem: ReconfigurationProblem) -> RawSolution:
    """``raw`` marked as the base-case fallback (``base_fallback`` true, the note
    :data:`BASE_ONLY_NOTE`) when the run stopped (status ``time_limit`` or ``interrupted``)
    with no topology within the limits, and the topology it holds is the grid's own and the
    only one it evaluated (at most one violating candidate: a search keeps every violating
    topology it evaluated among its candidates, up to their number). Benders evaluates the
    grid's own topology first (``assess_first``), so a run whose time is up after it holds
    that topology as its "least-violating" answer, one of one (user test ut50_core #1:
    ``case84tpc --time-limit 0.5`` said "the least-violating one found"). Otherwise ``raw``
    as it is."""
    if (raw.y is None or raw.within_limits or raw.extra.get("base_fallback")
            or raw.status not in (Status.TIME_LIMIT, Status.INTERRUPTED)
            or len(raw.candidates) > 1):
        return raw
    y0 = problem.pu.initial_closed()
    if not np.array_equal(np.round(raw.y) > 0.5, y0 > 0.5):
        return raw
    why = "the time limit was up" if raw.status is Status.TIME_LIMIT else "interrupted"
    return replace(raw, extra={**raw.extra, "note": BASE_ONLY_NOTE.format(why=why),
                               "base_fallback": True})

def solve_fixed(problem: ReconfigurationProblem, method: str,
                solver: str = "CLARABEL") -> RawSolution:
    """Nothing to decide (no branch can switch): the fixed topology's SOCP.

    Phase 2 of the slave gives its losses (optimal, gap 0); when it is infeasible, phase 1
    gives the least total slack and the violated limits as the diagnosis (status infeasible).
    The fixed branches must form a radial configuration (checked before).
    """
    t0 = time.perf_counter()
    evaluator = TopologyEvaluator(problem, solver)
    y = np.ones(problem.pu.n_branch)
    ev = evaluator.evaluate(y, need_gradient=False)
    elapsed = time.perf_counter() - t0
    timings = {"build_s": evaluator.build_time_s, "slave_s": evaluator.solve_time_s}
    # evaluated_only: the status "optimal" is the optimum of the problem posed (its one
    # topology), not a choice among topologies (user test ut47_optima #3)
    note = {"note": "every branch is fixed: the fixed topology is evaluated",
            "evaluated_only": True}
    if ev.feasible:
        # plus the switching cost: every branch fixed, so its constant (held changes)
        value = problem.to_kw(ev.objective) + problem.y_cost()[1]
        return RawSolution(Status.OPTIMAL, method, y, value, value, 0.0, 0, elapsed,
                           point=ev.point, timings=timings, solver=solver, extra=note)
    return RawSolution(Status.INFEASIBLE, method, y, math.nan, -math.inf, math.inf, 0, elapsed,
                       point=ev.point, timings=timings, diagnosis=list(ev.violations),
                       within_limits=False, solver=solver,
                       extra={**note, "total_violation_pu": ev.violation})
