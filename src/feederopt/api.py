"""The Python API: ``feederopt.load`` and ``feederopt.solve`` (the CLI calls the same functions).

    >>> import feederopt
    >>> net = feederopt.load("case33bw")
    >>> result = feederopt.solve(net, method="benders")
    >>> result.losses_kw, result.open_branches, result.buses.head()
    >>> feederopt.save(result, "case33bw_result")     # tables, grid.png and report.html
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.algorithms.base import (
    ProgressCallback,
    RawSolution,
    StopOptions,
    on_all_branches,
)
from feederopt.algorithms.benders import Benders, BendersOptions
from feederopt.algorithms.heuristics import start_budget, start_topologies
from feederopt.algorithms.monolithic import solve_fixed, solve_lindistflow, solve_misocp
from feederopt.formulations.distflow import losses_of
from feederopt.network.container import Network
from feederopt.network.errors import InputError, Problem, ProblemKind
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.problems.presolve import fixed_loop, presolve, without_fixed_open
from feederopt.problems.reconfiguration import (
    RadialityModel,
    ReconfigurationProblem,
    TopologyEvaluator,
)
from feederopt.results.result import AcCheck, Result
from feederopt.results.status import Status
from feederopt.solvers.detect import default_misocp_solver, require_solver
from feederopt.solvers.interrupt import handle_signals

if TYPE_CHECKING:
    from feederopt.validation.fidelity import ModelFidelity


class Method(StrEnum):
    BENDERS = "benders"
    MISOCP = "misocp"
    LINDISTFLOW = "lindistflow"


#: Largest |V_socp - V_ac| [p.u.] and relative cone gap for which the relaxation counts as exact.
EXACT_VOLTAGE_TOL = 1e-3
EXACT_CONE_TOL = 1e-3


def load(source: Any, *, check: bool = True) -> Network:
    """A network from a built-in case name, a file or folder path, or a pandapower net."""
    from feederopt.io import load as _load

    return _load(source, check=check)


@dataclass(frozen=True)
class SolveOptions:
    method: Method = Method.BENDERS
    solver: str | None = None
    gap: float = 1e-4
    time_limit_s: float = 600.0
    iteration_limit: int = 10_000
    radiality: RadialityModel = RadialityModel.PARENT_CHILD
    ac_check: bool = True
    master_physics: bool = True
    s_base_mva: float = 1.0


def _bad_option(field: str, message: str, hint: str) -> InputError:
    return InputError([Problem(ProblemKind.INVALID_VALUE, "options", message, field=field,
                               hint=hint)])


@handle_signals()
def solve(
    network: Network | Any,
    method: Method | str = Method.BENDERS,
    *,
    solver: str | None = None,
    gap: float = 1e-4,
    time_limit: float = 600.0,
    iteration_limit: int = 10_000,
    radiality: RadialityModel | str = RadialityModel.PARENT_CHILD,
    ac_check: bool = True,
    master_physics: bool = True,
    switch_cost_kw: float | None = None,
    loss_price_per_mwh: float | None = None,
    progress: ProgressCallback | None = None,
    v_min: float | None = None,
    v_max: float | None = None,
    max_loading_percent: float | None = None,
    thermal_limits: bool = True,
) -> Result:
    """Find the loss-minimising radial topology of ``network``.

    ``method``: ``benders`` (exact, default), ``misocp`` (exact, monolithic) or ``lindistflow``
    (heuristic). ``gap`` is the relative optimality tolerance, ``time_limit`` in seconds. The
    result carries the AC power-flow check of the chosen topology unless ``ac_check=False``.
    ``v_min``/``v_max`` [p.u.] replace every bus's voltage band, ``max_loading_percent``
    scales every current and thermal rating (120: 20 % overload allowed), and
    ``thermal_limits=False`` drops them (see :func:`relax_limits`).
    ``switch_cost_kw`` charges every switching action (against the base case) that many kW of
    losses, overriding the branches' ``switch_cost`` column; ``loss_price_per_mwh`` prices the
    generators' ``cost_per_mwh`` against losses, adding DG cost to the objective.

    Ctrl-C or SIGTERM during the solve (in the main thread) stops it within a second or two;
    the result then has status ``interrupted`` and carries the best topology found, its bound
    and gap, as at a time limit (:mod:`feederopt.solvers.interrupt`).
    """
    net = network if isinstance(network, Network) else load(network)
    net = relax_limits(net, v_min=v_min, v_max=v_max, max_loading_percent=max_loading_percent,
                       thermal_limits=thermal_limits)
    if switch_cost_kw is not None:
        if not (switch_cost_kw >= 0 and math.isfinite(switch_cost_kw)):
            raise _bad_option("switch_cost_kw", "the switching cost must be >= 0", "e.g. 1.0")
        net = net.replace(branches=net.branches.with_columns(
            pl.lit(float(switch_cost_kw)).alias("switch_cost")))
    if loss_price_per_mwh is not None and not loss_price_per_mwh > 0:
        raise _bad_option("loss_price_per_mwh", "the loss price must be positive", "e.g. 50")
    try:
        method = Method(method)
    except ValueError:
        raise _bad_option("method", f"unknown method {method!r}",
                          "use one of " + ", ".join(m.value for m in Method)) from None
    try:
        radiality = RadialityModel(radiality)
    except ValueError:
        raise _bad_option("radiality", f"unknown radiality model {radiality!r}",
                          "use one of " + ", ".join(m.value for m in RadialityModel)) from None
    if not (gap >= 0 and math.isfinite(gap)):
        raise _bad_option("gap", f"gap must be a non-negative number, not {gap}", "e.g. 1e-4")
    if not time_limit > 0:
        raise _bad_option("time_limit", "the time limit must be positive", "e.g. 600")
    opts = SolveOptions(method, solver, gap, time_limit, iteration_limit, radiality, ac_check,
                        master_physics)
    pu = to_per_unit(net, opts.s_base_mva)
    inner, keep = without_fixed_open(pu)
    loop = fixed_loop(inner)
    if loop is not None:
        raise InputError([loop])
    reduced, _ = presolve(inner)
    problem = ReconfigurationProblem(reduced, radiality, loss_price_per_mwh)
    raw = run(problem, opts, progress)
    model = replace(pu, switchable=np.zeros(pu.n_branch, bool),
                    normally_open=np.ones(pu.n_branch, bool))
    model.switchable[keep] = reduced.switchable
    model.normally_open[keep] = reduced.normally_open
    return to_result(net, pu, on_all_branches(raw, keep, pu.n_branch), opts.ac_check,
                     model_pu=model)


def relax_limits(net: Network, *, v_min: float | None = None, v_max: float | None = None,
                 max_loading_percent: float | None = None,
                 thermal_limits: bool = True) -> Network:
    """The network with the limits the user asked for (:meth:`Network.with_limits`); bad
    values are typed problems. Unchanged when nothing is asked."""
    if v_min is None and v_max is None and max_loading_percent is None and thermal_limits:
        return net
    problems = []
    for name, value in (("v_min", v_min), ("v_max", v_max)):
        if value is not None and not (math.isfinite(value) and 0.0 < value < 2.0):
            problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                    f"{name} must be a voltage in p.u. between 0 and 2",
                                    field=name, hint="e.g. --v-min 0.9 --v-max 1.1"))
    if v_min is not None and v_max is not None and not problems and v_min >= v_max:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"v_min ({v_min}) must be below v_max ({v_max})",
                                field="v_min", hint="e.g. --v-min 0.9 --v-max 1.1"))
    if max_loading_percent is not None and not (
            math.isfinite(max_loading_percent) and max_loading_percent > 0):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                "the loading limit must be a positive percentage of the rating",
                                field="max_loading_percent", hint="e.g. --max-loading 120"))
    if problems:
        raise InputError(problems)
    return net.with_limits(v_min_pu=v_min, v_max_pu=v_max,
                           max_loading_percent=max_loading_percent,
                           thermal_limits=thermal_limits)


def save(result: Result, out_dir: str | Path, *, force: bool = False,
         report: bool = True) -> Path:
    """Write ``result`` to a new folder as ``feederopt solve --out DIR --report`` does:
    ``result.json``, Parquet tables, ``grid.png`` and, with ``report``, ``report.html``.
    An existing folder (or file) is replaced only with ``force``; the folder appears complete
    or not at all (:mod:`feederopt.io.writing`)."""
    from feederopt.results.output import write_result_dir

    out = write_result_dir(result, out_dir, force=force)
    if report:
        from feederopt.report.html import write_report

        write_report(out)
    return out


def run(problem: ReconfigurationProblem, opts: SolveOptions,
        progress: ProgressCallback | None = None) -> RawSolution:
    """Dispatch to the algorithm of ``opts.method``."""
    stop = StopOptions(opts.gap, opts.time_limit_s, opts.iteration_limit)
    if not problem.pu.switchable.any():
        conic = require_solver(opts.solver, mixed_integer=False) if (
            opts.solver and opts.method is Method.BENDERS) else "CLARABEL"
        return solve_fixed(problem, opts.method.value, conic)
    if opts.method is Method.MISOCP:
        solver = require_solver(opts.solver, mixed_integer=True) if opts.solver else (
            default_misocp_solver()
        )
        return solve_misocp(problem, solver, stop)
    if opts.method is Method.LINDISTFLOW:
        return solve_lindistflow(problem, stop)
    slave_solver = require_solver(opts.solver, mixed_integer=False) if opts.solver else "CLARABEL"
    evaluator = TopologyEvaluator(problem, slave_solver)
    algo = Benders(problem, BendersOptions(stop=stop, master_physics=opts.master_physics),
                   progress=progress, evaluator=evaluator)
    initial = [problem.pu.initial_closed().astype(float)]
    # Starts from the heuristics give the master a tight cutoff from the beginning; the
    # rounding of the continuous relaxation (Benders' first bound) is one of them.
    starts, known = start_topologies(evaluator, start_budget(opts.time_limit_s),
                                     fallback=initial[0], relaxed=algo.relaxation())
    return algo.run(initial=initial + starts, known=known)


# ----- mapping back to the user's ids -----------------------------------------------------------
def to_result(net: Network, pu: PerUnitNetwork, raw: RawSolution, ac_check: bool = True, *,
              model_pu: PerUnitNetwork | None = None) -> Result:
    """Map an algorithm's per-unit answer to user ids and SI units, and run the AC check.
    ``model_pu`` is the model the point belongs to when presolve changed which branches are
    switchable (its copies ``u``, ``d`` follow the switchable branches); default ``pu``."""
    from feederopt.validation.ac import ac_power_flow
    from feederopt.validation.fidelity import model_fidelity

    bus_out: Callable[[str], Any] = net.bus_id_out
    y = raw.y if raw.y is not None else pu.initial_closed().astype(float)
    closed = y > 0.5
    point = raw.point
    s = pu.s_base_mva
    v = np.sqrt(np.clip(point["v"], 0, None)) if "v" in point else np.full(pu.n_bus, np.nan)
    i_base = s / (math.sqrt(3.0) * pu.vn_kv[pu.f])
    p = point.get("P", np.full(pu.n_branch, np.nan))
    q = point.get("Q", np.full(pu.n_branch, np.nan))
    ell = point.get("l", np.full(pu.n_branch, np.nan))
    losses_kw = losses_of(model_pu or pu, point) * s * 1000.0 if "l" in point else math.nan

    base_ac = ac_power_flow(net) if ac_check else None
    ac = None
    if ac_check and raw.y is not None:
        # The same loads and the DG set-points that the optimiser chose.
        gen_p = point["pg"] * s if pu.n_gen and "pg" in point else None
        gen_q = point["qg"] * s if pu.n_gen and "qg" in point else None
        ac = ac_power_flow(net, closed, gen_p, gen_q)

    bus_ids = pu.bus_ids
    buses = pl.DataFrame({
        "id": bus_ids,
        "vm_pu": v,
        "vm_ac_pu": ac.vm_pu if ac is not None else np.full(pu.n_bus, np.nan),
        "p_load_mw": pu.p_load * s,
        "q_load_mvar": pu.q_load * s,
        "is_source": pu.is_source,
    })
    if {"x", "y"} <= set(net.buses.columns) and net.buses["x"].is_not_null().any():
        buses = buses.with_columns(net.buses["x"].cast(pl.Float64).alias("x"),
                                   net.buses["y"].cast(pl.Float64).alias("y"))
    from_ids = [bus_ids[i] for i in pu.f]
    to_ids = [bus_ids[i] for i in pu.t]
    branches = pl.DataFrame({
        "id": pu.branch_ids,
        "from_bus": from_ids,
        "to_bus": to_ids,
        "closed": closed,
        "switchable": pu.switchable,
        "p_from_mw": p * s,
        "q_from_mvar": q * s,
        "i_ka": np.sqrt(np.clip(ell, 0, None)) * i_base,
        "loss_kw": pu.r * ell * s * 1000.0,
        "p_from_ac_mw": ac.p_from_mw if ac is not None else np.full(pu.n_branch, np.nan),
        "i_ac_ka": ac.i_ka if ac is not None else np.full(pu.n_branch, np.nan),
    })
    initially = pu.initial_closed()
    switches = branches.filter(pl.col("switchable")).select(
        "id", "from_bus", "to_bus", "closed"
    ).with_columns(
        pl.Series("initially_closed", initially[pu.switchable]),
    ).with_columns((pl.col("closed") != pl.col("initially_closed")).alias("changed"))
    open_branches = [
        {"id": bid, "from_bus": bus_out(fb), "to_bus": bus_out(tb)}
        for bid, fb, tb, c in zip(pu.branch_ids, from_ids, to_ids, closed, strict=True)
        if not c
    ] if raw.y is not None else []

    check = None
    if ac is not None:
        fidelity = model_fidelity(net, closed, pu=pu, ac=ac) if ac.converged else None
        check = _ac_check(pu, point, v, losses_kw, closed, ac, fidelity,
                          list(net.meta.get("warnings", [])),
                          compare=raw.status is not Status.INFEASIBLE)
    base: dict[str, Any] = {}
    if base_ac is not None:
        base = {
            "losses_kw": base_ac.losses_kw,
            "min_voltage_pu": base_ac.min_voltage_pu,
            "max_voltage_pu": base_ac.max_voltage_pu,
            "open_branches": [
                {"id": bid, "from_bus": bus_out(fb), "to_bus": bus_out(tb)}
                for bid, fb, tb, c in zip(pu.branch_ids, from_ids, to_ids, initially, strict=True)
                if not c
            ],
        }
    diagnosis = [_diagnosis_entry(pu, d, bus_out) for d in raw.diagnosis]
    has_point = raw.y is not None and "v" in point
    return Result(
        case=net.name,
        method=raw.method,
        status=raw.status,
        objective=raw.objective,
        losses_kw=losses_kw if raw.status is not Status.INFEASIBLE else math.nan,
        lower_bound=raw.lower_bound,
        gap=raw.gap,
        iterations=raw.iterations,
        solve_time_s=raw.solve_time_s,
        solver=raw.solver,
        buses=buses,
        branches=branches,
        switches=switches,
        open_branches=open_branches,
        min_voltage_pu=float(np.nanmin(v)) if has_point else math.nan,
        max_voltage_pu=float(np.nanmax(v)) if has_point else math.nan,
        ac_check=check,
        base=base,
        log=raw.log,
        timings=raw.timings,
        diagnosis=diagnosis,
        extra={k: v for k, v in raw.extra.items() if k != "objective_kind"},
        network=net,
    )


#: The unit of each limit in a diagnosis.
LIMIT_UNITS = {"v_min": "p.u.", "v_max": "p.u.", "i_max": "kA", "s_max": "MVA",
               "p_balance": "MW", "q_balance": "MVAr"}


def _diagnosis_entry(pu: PerUnitNetwork, d: Any, bus_out: Callable[[str], Any]) -> dict[str, Any]:
    """One violated limit of the least-violating topology, in the user's ids and SI units:
    the limit, its value, the amount beyond it and, for a rating, the loading in %."""
    entry: dict[str, Any] = {
        "component": d.component,
        "id": bus_out(pu.bus_ids[d.index]) if d.component == "buses" else pu.branch_ids[d.index],
        "limit": d.limit,
        "amount": d.amount,
        "unit": LIMIT_UNITS[d.limit],
    }
    if d.limit in ("v_min", "v_max"):
        entry["rating"] = float(pu.v_min[d.index] if d.limit == "v_min" else pu.v_max[d.index])
        entry["value"] = entry["rating"] - d.amount if d.limit == "v_min" else (
            entry["rating"] + d.amount)
    elif d.limit in ("i_max", "s_max"):
        if d.limit == "i_max":
            i_base = pu.s_base_mva / (math.sqrt(3.0) * pu.vn_kv[pu.f[d.index]])
            rating, value = pu.i_max[d.index] * i_base, d.value * i_base
            entry["amount"] = d.amount * i_base
        else:
            rating, value = pu.s_max[d.index] * pu.s_base_mva, d.value
        entry.update(rating=float(rating), value=float(value),
                     loading_percent=float(100.0 * value / rating) if rating > 0 else math.nan)
    return entry


def _ac_check(pu: PerUnitNetwork, point: dict[str, np.ndarray], v: np.ndarray, losses_kw: float,
              closed: np.ndarray, ac: Any, fidelity: ModelFidelity | None = None,
              notes: list[str] | None = None, compare: bool = True) -> AcCheck:
    """Compare the SOCP point with the AC power flow; flag an inexact relaxation, and a model
    that does not represent every element exactly (``fidelity``: the model's own power flow
    against the AC one on the same topology; ``notes``: what the reader could not model).
    ``compare=False`` (the least-violating point of an infeasible grid, which minimises slack,
    not losses) skips the comparison of the SOCP point with the AC power flow."""
    warnings: list[str] = []
    model_warning = fidelity.warning(notes) if fidelity is not None else None
    if model_warning:
        warnings.append(model_warning)
    if "w" in point and "l" in point:
        # Losses the relaxation adds beyond the exact branch-flow equations l = (P^2+Q^2)/v,
        # as a share of all losses: sum r (l - S^2/w) / sum r l over closed branches.
        w, ell = point["w"], point["l"]
        s2 = point["P"] ** 2 + point["Q"] ** 2
        exact_l = np.where(closed & (w > 1e-9), s2 / np.maximum(w, 1e-9), 0.0)
        excess = float(np.sum(pu.r * np.clip(np.where(closed, ell, 0.0) - exact_l, 0, None)))
        total = float(np.sum(pu.r * np.where(closed, ell, 0.0)))
        cone_gap = excess / total if total > 0 else 0.0
    else:
        cone_gap = math.nan
    if not ac.converged:
        return AcCheck(False, math.nan, math.nan, math.nan, math.nan, cone_gap, math.nan, False,
                       ("the AC power flow did not converge",), ac.message)
    dv = float(np.nanmax(np.abs(v - ac.vm_pu))) if np.any(np.isfinite(v)) else math.nan
    diff_pct = (ac.losses_kw - losses_kw) / ac.losses_kw * 100 if ac.losses_kw else math.nan
    if not compare:
        warnings.append("the grid is infeasible: the SOCP point shown is the least-violating "
                        "one, not a loss-minimising operating point")
    elif cone_gap > EXACT_CONE_TOL:
        warnings.append(
            f"the SOCP relaxation is not exact: it adds {cone_gap:.2%} to the losses"
        )
    if compare and dv > EXACT_VOLTAGE_TOL:
        warnings.append(f"SOCP and AC voltages differ by up to {dv:.4f} p.u. (the AC power "
                        "flow is the true one)")
    exact = not warnings
    return AcCheck(True, ac.losses_kw, ac.min_voltage_pu, ac.max_voltage_pu, dv, cone_gap,
                   diff_pct, exact, tuple(warnings), ac.message)
