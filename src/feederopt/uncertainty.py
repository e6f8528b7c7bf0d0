"""The Python API of reconfiguration under uncertainty (the CLI calls these functions).

    >>> import feederopt
    >>> from feederopt.uncertainty import solve_scenarios, solve_robust
    >>> from feederopt.io.scenarios import generate_scenarios
    >>> net = feederopt.load("case33bw")
    >>> table = generate_scenarios(net, count=20, pv_share=0.3, seed=1)
    >>> res = solve_scenarios(net, table, workers=2)          # one topology, expected losses
    >>> res.extra["scenarios"][0], res.extra["worst_scenario"]
    >>> rob = solve_robust(net, 0.1, uncertain_loads=["18", "33"])   # loads in +-10 % boxes
    >>> rob.extra["robust"]                                   # one row per extreme point

Both return a :class:`~feederopt.results.result.Result` whose tables (``buses``, ``branches``)
and ``losses_kw`` are those of the chosen topology at the network's **nominal** loads (so that
the AC check compares like with like), whose ``objective`` is the method's own (expected, or
worst-case, value), and whose ``extra`` (merged into the JSON) holds:

* stochastic: ``scenarios`` (one dict per scenario: name, weight, objective_kw, losses_kw,
  violation_pu, feasible, min/max voltage, violations), ``worst_scenario`` and ``stochastic``
  (expected values, penalty, executor);
* robust: ``robust`` (one dict per extreme point: the signs ``u`` of the uncertain loads,
  losses_kw, violation_pu, feasible, min/max voltage) and ``robust_summary``;
* both: ``source`` (what the network was loaded from, for ``feederopt check``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feederopt.algorithms.base import (
    ProgressCallback,
    RawSolution,
    StopOptions,
    on_all_branches,
)
from feederopt.algorithms.heuristics import start_budget, start_topologies
from feederopt.algorithms.robust import (
    RobustCuttingPlane,
    RobustOptions,
    WorstCaseOracle,
    uncertainty_set,
)
from feederopt.algorithms.stochastic import StochasticBenders, StochasticOptions
from feederopt.execution import Executor, make_executor
from feederopt.io.scenarios import ScenarioSet, load_scenarios
from feederopt.network.container import Network
from feederopt.network.errors import InputError, Problem, ProblemKind
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.problems.presolve import fixed_loop, without_fixed_open
from feederopt.problems.reconfiguration import (
    RadialityModel,
    ReconfigurationProblem,
    TopologyEvaluator,
)
from feederopt.problems.uncertain import (
    DEFAULT_PENALTY,
    SlaveFactory,
    SlaveResult,
    envelope,
    presolve_for,
)
from feederopt.results.result import Result
from feederopt.solvers.interrupt import handle_signals


def _network(network: Network | Any) -> tuple[Network, str]:
    from feederopt.api import load

    if isinstance(network, Network):
        return network, network.meta.get("source", network.name)
    net = load(network)
    src = str(network)
    if isinstance(network, str | Path) and Path(network).exists():
        src = str(Path(network).resolve())
    return net, src


def _options(gap: float, time_limit: float, radiality: RadialityModel | str) -> tuple[
        StopOptions, RadialityModel]:
    problems = []
    if not (gap >= 0 and math.isfinite(gap)):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"gap must be a non-negative number, not {gap}", field="gap"))
    if not time_limit > 0:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                "the time limit must be positive", field="time_limit"))
    try:
        model = RadialityModel(radiality)
    except ValueError:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"unknown radiality model {radiality!r}", field="radiality"))
        model = RadialityModel.PARENT_CHILD
    if problems:
        raise InputError(problems)
    return StopOptions(gap, time_limit), model


def _slave_dict(pu: PerUnitNetwork, net: Network, r: SlaveResult) -> dict[str, Any]:
    def num(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    bus_ids = pu.bus_ids
    return {
        "objective_kw": num(r.objective),
        "losses_kw": num(r.losses_kw),
        "violation_pu": num(r.violation),
        "feasible": bool(r.feasible),
        "min_voltage_pu": num(r.min_voltage_pu),
        "max_voltage_pu": num(r.max_voltage_pu),
        "violations": [
            {"component": v.component,
             "id": net.bus_id_out(bus_ids[v.index]) if v.component == "buses"
             else pu.branch_ids[v.index],
             "limit": v.limit, "amount": v.amount}
            for v in r.violations[:10]
        ],
    }


def _nominal_point(pu: PerUnitNetwork, y: np.ndarray | None, radiality: RadialityModel,
                   solver: str) -> dict[str, np.ndarray]:
    """The SOCP point of topology ``y`` at the nominal loads (for the result tables)."""
    if y is None:
        return {}
    env = envelope(pu, pu.p_load[None, :], pu.q_load[None, :])
    ev = TopologyEvaluator(ReconfigurationProblem(env, radiality), solver)
    ev.set_loads(pu.p_load, pu.q_load)
    return ev.evaluate(y, need_gradient=False).point


def _decidable(full: PerUnitNetwork) -> tuple[PerUnitNetwork, np.ndarray]:
    """The network without its fixed-open branches (and the indices kept); InputError when
    branches that cannot open form a loop."""
    pu, keep = without_fixed_open(full)
    loop = fixed_loop(pu)
    if loop is not None:
        raise InputError([loop])
    return pu, keep


def _finish(net: Network, pu: PerUnitNetwork, raw: RawSolution, extra: dict[str, Any],
            radiality: RadialityModel, solver: str, ac_check: bool, source: str,
            full: PerUnitNetwork, keep: np.ndarray) -> Result:
    from feederopt.api import to_result

    point = _nominal_point(pu, raw.y, radiality, solver)
    raw = on_all_branches(replace(raw, point=point, extra={}), keep, full.n_branch)
    result = to_result(net, full, raw, ac_check)
    result.extra.update(extra)
    result.extra["source"] = source
    return result


# ----------------------------------------------------------------------------------------------
@handle_signals()
def solve_scenarios(
    network: Network | Any,
    scenarios: ScenarioSet | pl.DataFrame | str | Path,
    *,
    gap: float = 1e-4,
    time_limit: float = 600.0,
    radiality: RadialityModel | str = RadialityModel.PARENT_CHILD,
    penalty: float = DEFAULT_PENALTY,
    workers: int | None = 1,
    ray_address: str | None = None,
    executor: Executor | None = None,
    ac_check: bool = True,
    master_physics: bool = True,
    solver: str = "CLARABEL",
    iteration_limit: int = 10_000,
    progress: ProgressCallback | None = None,
) -> Result:
    """One radial topology for every scenario, minimising the expected losses plus ``penalty``
    [kW per p.u. of slack] times the expected slack (multi-cut Benders,
    :mod:`feederopt.algorithms.stochastic`).

    ``scenarios``: a :class:`ScenarioSet`, a long table or the path of one (see
    :mod:`feederopt.io.scenarios`). ``workers``/``ray_address`` choose the executor of the
    scenario slaves (:func:`feederopt.execution.make_executor`) unless ``executor`` is given.
    """
    net, source = _network(network)
    stop, model = _options(gap, time_limit, radiality)
    stop = replace(stop, iteration_limit=iteration_limit)
    if not (penalty > 0 and math.isfinite(penalty)):
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "options",
                                  f"the penalty must be positive, not {penalty}", field="penalty")])
    sset = scenarios if isinstance(scenarios, ScenarioSet) else load_scenarios(net, scenarios)
    full = to_per_unit(net)
    pu, keep = _decidable(full)
    p, q = sset.per_unit(pu.s_base_mva)
    reduced, _ = presolve_for(pu, p, q)
    problem = ReconfigurationProblem(envelope(reduced, p, q), model)
    own = executor is None
    ex = executor or make_executor(SlaveFactory(problem.pu, "penalized", penalty, solver),
                                   workers, ray_address)
    try:
        algo = StochasticBenders(problem, p, q, sset.weights,
                                 StochasticOptions(stop=stop, penalty=penalty,
                                                   master_physics=master_physics, solver=solver),
                                 executor=ex, progress=progress)
        # A start from the heuristics on the expected loads (the scenarios' weighted mean).
        w = np.asarray(sset.weights, float) / float(np.sum(sset.weights))
        mean = ReconfigurationProblem(reduced.with_loads(w @ p, w @ q), model).evaluator()
        starts, known = start_topologies(mean, start_budget(time_limit))
        raw = algo.run(initial=[pu.initial_closed().astype(float), *starts], known=known)
    finally:
        if own:
            ex.close()
    results: list[SlaveResult] = raw.extra.get("scenario_results", [])
    rows = []
    for name, w, r in zip(sset.names, sset.weights, results, strict=False):
        rows.append({"scenario": name, "weight": float(w), **_slave_dict(pu, net, r)})
    worst = max(rows, key=lambda d: d["objective_kw"] or -math.inf) if rows else None
    extra: dict[str, Any] = {
        "scenarios": rows,
        "worst_scenario": None if worst is None else {
            k: worst[k] for k in ("scenario", "objective_kw", "losses_kw", "violation_pu",
                                  "feasible", "min_voltage_pu")},
        "stochastic": {
            "scenario_count": sset.count,
            "expected_objective_kw": raw.extra.get("expected_objective_kw"),
            "expected_losses_kw": raw.extra.get("expected_losses_kw"),
            "expected_violation_pu": raw.extra.get("expected_violation_pu"),
            "infeasible_scenarios": sum(1 for r in rows if not r["feasible"]),
            "penalty_kw_per_pu": penalty,
            "slave_solves": raw.extra.get("slave_solves"),
            "workers": raw.extra.get("workers"),
            "executor": raw.extra.get("executor"),
        },
    }
    return _finish(net, pu, raw, extra, model, solver, ac_check, source, full, keep)


@handle_signals()
def solve_robust(
    network: Network | Any,
    uncertainty: float,
    *,
    uncertain_loads: Sequence[str] | None = None,
    budget: int | None = None,
    gap: float = 1e-4,
    time_limit: float = 600.0,
    radiality: RadialityModel | str = RadialityModel.PARENT_CHILD,
    workers: int | None = 1,
    ray_address: str | None = None,
    executor: Executor | None = None,
    max_vertices: int | None = None,
    oracle: WorstCaseOracle | str = WorstCaseOracle.AUTO,
    oracle_time_limit: float = 300.0,
    ac_check: bool = True,
    master_physics: bool = True,
    solver: str = "CLARABEL",
    iteration_limit: int = 10_000,
    progress: ProgressCallback | None = None,
) -> Result:
    """The radial topology feasible for every load in the set ``nominal +- uncertainty``
    (relative; ``uncertain_loads`` load ids, default all; ``budget`` Gamma, default none) with
    the least worst-case losses (:mod:`feederopt.algorithms.robust`). Status ``infeasible``
    when no topology is feasible at every extreme point.

    ``oracle``: ``monotone`` (evaluate the upper corner only: exact on a passive feeder with
    a box without budget, see :mod:`feederopt.algorithms.robust`), ``enumerate`` the extreme
    points, search the worst one exactly by the ``dual`` MISOCP (SCIP, at most
    ``oracle_time_limit`` seconds each), or ``auto`` (monotone where it is exact, else
    enumerate up to ``max_vertices``, default 1024, else dual)."""
    net, source = _network(network)
    stop, model = _options(gap, time_limit, radiality)
    stop = replace(stop, iteration_limit=iteration_limit)
    full = to_per_unit(net)
    pu, keep = _decidable(full)
    uset = uncertainty_set(pu, uncertainty, uncertain_loads, budget)
    lo_hi_p, lo_hi_q = uset.extremes(pu)
    reduced, _ = presolve_for(pu, lo_hi_p, lo_hi_q)
    problem = ReconfigurationProblem(envelope(reduced, lo_hi_p, lo_hi_q), model)
    if oracle not in tuple(WorstCaseOracle):
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "options",
                                  f"unknown worst-case oracle {oracle!r}", field="oracle",
                                  hint=", ".join(WorstCaseOracle))])
    options = RobustOptions(stop=stop, master_physics=master_physics, solver=solver,
                            oracle=WorstCaseOracle(oracle),
                            oracle_time_limit_s=oracle_time_limit)
    if max_vertices is not None:
        options = replace(options, max_vertices=max_vertices)
    if oracle == "enumerate" and uset.vertex_count() > options.max_vertices:
        RobustCuttingPlane(problem, uset, pu, options)  # raises the explained InputError
    own = executor is None
    ex = executor or make_executor(SlaveFactory(problem.pu, "two_phase", solver=solver),
                                   workers, ray_address)
    try:
        algo = RobustCuttingPlane(problem, uset, pu, options, executor=ex, progress=progress)
        starts: list[np.ndarray] = []
        known: list[Any] = []
        if algo.oracle is WorstCaseOracle.MONOTONE:
            # The robust problem is the deterministic one at the upper corner: start from the
            # heuristics there, as Benders does.
            upper = ReconfigurationProblem(
                reduced.with_loads(*uset.loads(pu, np.ones(uset.size))), model).evaluator()
            starts, known = start_topologies(upper, start_budget(time_limit))
        raw = algo.run(initial=[pu.initial_closed().astype(float), *starts], known=known)
    finally:
        if own:
            ex.close()
    load_ids = [pu.load_ids[k] for k in uset.load_index]
    results: list[SlaveResult] = raw.extra.get("vertex_results", [])
    vertices = raw.extra.get("vertices", [])
    rows = [{"vertex": i, "u": [int(x) for x in u], **_slave_dict(pu, net, r)}
            for i, (u, r) in enumerate(zip(vertices, results, strict=False))]
    worst = None
    if rows:
        worst = max(rows, key=lambda d: ((not d["feasible"]), d["violation_pu"] or 0.0,
                                         d["losses_kw"] or -math.inf))
    extra: dict[str, Any] = {
        "robust": rows,
        "robust_summary": {
            "uncertainty": uset.fraction,
            "uncertain_loads": load_ids,
            "budget": uset.budget,
            "extreme_points": uset.vertex_count(),
            "oracle": raw.extra.get("oracle"),
            "oracle_s": raw.extra.get("oracle_s"),
            "uncertified_topologies": raw.extra.get("uncertified"),
            "robust_feasible": bool(rows) and all(r["feasible"] for r in rows)
            and raw.y is not None and raw.status.value != "infeasible",
            "worst_case_objective_kw": raw.extra.get("worst_case_objective_kw"),
            "worst_case_losses_kw": raw.extra.get("worst_case_losses_kw"),
            "worst_case_violation_pu": raw.extra.get("worst_case_violation_pu"),
            "worst_vertex": None if worst is None else worst["vertex"],
            "slave_solves": raw.extra.get("slave_solves"),
            "workers": raw.extra.get("workers"),
            "executor": raw.extra.get("executor"),
        },
    }
    return _finish(net, pu, raw, extra, model, solver, ac_check, source, full, keep)
