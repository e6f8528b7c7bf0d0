"""Column-and-constraint generation (Zeng & Zhao, "Solving two-stage robust optimization
problems using a column-and-constraint generation method", Oper. Res. Lett. 41(5), 2013) for
the day-ahead schedule of seed 004, on HiGHS; its deterministic counterpart; and brute force
over the extreme points of the budget set (small instances).

Problem: ``min_x c1(x) + max_{xi in U} Q(x, xi)`` with ``x`` the topology, the storage modes
and, with day-ahead commitment, the DG on/off ``u`` (``c1`` its no-load cost; the
:func:`~feederopt.formulations.schedule.first_stage_block`) and ``Q`` the LP of the second stage
(:func:`~feederopt.formulations.schedule.recourse_block`). The second stage always has a
solution (load curtailment and unmet EV energy are priced slacks), so no feasibility cuts are
needed.

* **Master** (a lower bound): ``min c1(x) + theta`` with ``theta >= cost(y^e)`` and one recourse
  copy ``y^e`` (its own variables, constraints at ``xi^e``) per realisation found so far; the
  first copy is the forecast. Its MILP dual bound is ``LB``, non-decreasing because every
  iteration adds a copy to the same minimisation.
* **Subproblem** (an upper bound): ``Q*(x_k) = max_{xi} Q(x_k, xi)``. ``Q(x_k, .)`` is an LP
  value, convex in its right-hand side, so its maximum over the budget set is at an extreme
  point, a binary ``xi``. By LP duality ``Q(x_k, xi) = max_pi (r0 - B xi)^T pi`` over
  ``A^T pi = c``, ``pi_i <= 0`` on inequality rows (variable bounds are rows too); the bilinear
  ``pi_i xi_j`` is linearised exactly for binary ``xi_j`` by McCormick rows with
  ``|pi_i| <= M`` (the big-M dual linearisation of the C&CG literature). ``xi`` enters only
  the rows ``dem = pd (1 + gamma (xp - xm))`` and the renewable rows, so only their multipliers
  (the marginal value of demand and of renewable energy) are bounded, by ``M = dual_bound``
  (default 2000 $/MWh, four times the curtailment price: one more MW of demand can always be
  curtailed at ``c_shed``; an assumption for the downward direction, stated in the docs); the
  other multipliers are free. ``UB = min_k c1(x_k) + Q*(x_k)`` (the subproblem's dual bound when
  it stops at a time limit, so that UB stays valid). The McCormick relaxation with such ``M``
  is weak against the small cost differences of the loss term, so on 24 hours the subproblem
  often stops at its time limit: its bound, and the gap, are then reported as they are.
* **Policy bound first** (:mod:`~feederopt.algorithms.policy_bound`): a feasible recourse
  policy (the forecast's recourse plus one absorber per deviation, checked on every row over
  the budget set) bounds ``Q*(x_k)`` from above in well under a second; its maximiser is
  evaluated as a candidate worst case. When ``c1(x_k)`` + that bound already closes the gap
  with ``LB`` the MILP is skipped; otherwise ``UB`` uses the smaller of the two bounds (never
  below a value found) and the master gets the worse of the two realisations. The notes say
  which bound was used; where the policy is not proven feasible it is not used.
* Stop when ``UB - LB <= tol * max(1, |UB|)``, at the time limit or the iteration limit.

:func:`solve_extensive` is the brute force: every extreme point of the budget set gets a copy
in one MILP; on small instances it equals C&CG's answer (a test checks it).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from feederopt.algorithms.base import AlgorithmBase, StopOptions
from feederopt.algorithms.policy_bound import policy_bound
from feederopt.algorithms.schedule_probing import probe_switches
from feederopt.errors import SolverError
from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.formulations.partition import rename
from feederopt.formulations.schedule import (
    UNCERTAIN,
    ScheduleData,
    budget_block,
    first_stage_block,
    nominal,
    recourse_block,
)
from feederopt.solvers.highs_backend import HighsModel, MilpSolution
from feederopt.solvers.status import SolverStatus, Status


@dataclass
class CcgIteration:
    """One C&CG iteration: bounds, the worst case's value and where it deviates."""

    k: int
    lower: float
    upper: float
    gap: float
    master_s: float
    sub_s: float
    worst_value: float
    deviations: int  # entries of xi at a bound in the worst case
    elapsed_s: float


@dataclass
class ScheduleSolution:
    """First-stage decisions and the second stage at the forecast and at the worst case."""

    status: Status
    method: str  # deterministic | ccg | extensive
    objective: float  # $ (robust: first stage + worst recourse)
    lower_bound: float
    gap: float
    closed: np.ndarray  # (H, m) 1 closed
    z: np.ndarray  # (H*S,)
    nominal_point: dict[str, np.ndarray]
    nominal_cost: float
    worst_point: dict[str, np.ndarray] | None = None
    worst_xi: dict[str, np.ndarray] | None = None
    worst_cost: float = math.nan
    first_stage_cost: float = 0.0
    iterations: list[CcgIteration] = field(default_factory=list)
    run_time_s: float = 0.0
    copies: int = 1
    notes: list[str] = field(default_factory=list)
    commitment: np.ndarray | None = None  # (H*G,) day-ahead DG on/off, with commitment


# ----- building blocks ---------------------------------------------------------------------------
def _cost_terms(block: Block, prefix: str) -> dict[str, sp.spmatrix]:
    return {prefix + g: sp.csr_matrix(np.atleast_2d(c)) for g, c in block.objective.items()}


def master_block(d: ScheduleData, xis: list[dict[str, np.ndarray]]) -> Block:
    """First stage, ``theta`` and one recourse copy per realisation in ``xis``."""
    block = first_stage_block(d)
    block.add_group(Group.new("theta", 1, -np.inf, np.inf))
    block.add_objective("theta", np.ones(1))
    keep = tuple(d.first_stage_groups())
    for e, xi in enumerate(xis):
        rb = recourse_block(d, xi)
        copy = rename(rb, f"e{e}.", keep=keep)
        cost = _cost_terms(rb, f"e{e}.")
        copy.objective.clear()
        block.merge(copy)
        cost["theta"] = -sp.csr_matrix(np.ones((1, 1)))
        block.add_rows(f"theta_{e}", cost, Sense.LE, np.zeros(1))
    return block


def _first_stage(d: ScheduleData, vals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {g: np.round(vals[g]) for g in d.first_stage_groups()}


def _first_stage_cost(d: ScheduleData, x: dict[str, np.ndarray]) -> float:
    """Switching actions (hourly topology) and DG no-load costs ``sum c0_g u_{g,h}``."""
    cost = float(d.no_load_cost() @ x["u"]) if d.commit else 0.0
    if not d.hourly:
        return cost
    ys = np.vstack([x[g] for g in d.y_groups()])
    return cost + float(d.c_switch * np.abs(np.diff(ys, axis=0)).sum())


def closed_by_hour(d: ScheduleData, x: dict[str, np.ndarray]) -> np.ndarray:
    if d.hourly:
        return np.vstack([x[g] for g in d.y_groups()])
    return np.tile(x["y"], (d.hours, 1))


def evaluate(d: ScheduleData, x: dict[str, np.ndarray], xi: dict[str, np.ndarray],
             time_limit_s: float = 600.0) -> tuple[float, dict[str, np.ndarray]]:
    """``Q(x, xi)``: the second-stage LP for fixed first stage and realisation."""
    rb = recourse_block(d, xi)
    for g, v in x.items():
        grp = rb.groups[g]
        grp.lb = np.asarray(v, float).copy()
        grp.ub = np.asarray(v, float).copy()
        grp.integer = False
    model = HighsModel(rb)
    model.set_time_limit(time_limit_s)
    sol = model.solve()
    if not sol.has_solution or sol.status != "optimal":
        raise SolverError(f"the second-stage LP ended {sol.status}")
    vals = model.values()
    return float(sol.objective), vals


# ----- the worst case: big-M dual linearisation -----------------------------------------------
@dataclass
class _Flat:
    a: sp.csr_matrix  # rows x recourse variables
    r0: np.ndarray
    eq: np.ndarray  # bool per row
    bxi: dict[str, sp.csr_matrix]  # rows x xi group
    c: np.ndarray


def _flatten(d: ScheduleData, x: dict[str, np.ndarray]) -> _Flat:
    """The second stage at fixed ``x`` as ``A u (<=|=) r0 - B xi`` with the bounds as rows."""
    rb = recourse_block(d, None)
    fixed = set(d.first_stage_groups())
    var = [g for g in rb.groups if g not in fixed and g not in UNCERTAIN]
    off: dict[str, int] = {}
    n = 0
    for g in var:
        off[g] = n
        n += rb.groups[g].size
    mats, rhs, eqs = [], [], []
    bx: dict[str, list[sp.csr_matrix]] = {g: [] for g in UNCERTAIN}
    for rows in rb.rows:
        m = rows.m
        parts = []
        const = np.zeros(m)
        for g, a in rows.terms.items():
            if g in fixed:
                const += a @ x[g]
            elif g in off:
                coo = sp.csr_matrix(a).tocoo()
                parts.append(sp.csr_matrix((coo.data, (coo.row, coo.col + off[g])),
                                           shape=(m, n)))
        mats.append(sum(parts[1:], parts[0]) if parts else sp.csr_matrix((m, n)))
        for g in UNCERTAIN:
            a = rows.terms.get(g)
            bx[g].append(sp.csr_matrix(a) if a is not None else
                         sp.csr_matrix((m, rb.groups[g].size)))
        rhs.append(rows.rhs - const)
        eqs.append(np.full(m, rows.sense is Sense.EQ))
    lb = np.concatenate([rb.groups[g].lb for g in var])
    ub = np.concatenate([rb.groups[g].ub for g in var])
    same = np.isfinite(lb) & (lb == ub)
    hi = np.flatnonzero(np.isfinite(ub) & ~same)
    lo = np.flatnonzero(np.isfinite(lb) & ~same)
    fx = np.flatnonzero(same)
    for idx, sign, bound, is_eq in ((hi, 1.0, ub, False), (lo, -1.0, lb, False),
                                    (fx, 1.0, lb, True)):
        k = len(idx)
        mats.append(sp.csr_matrix((np.full(k, sign), (np.arange(k), idx)), shape=(k, n)))
        rhs.append(sign * bound[idx])
        eqs.append(np.full(k, is_eq))
        for g in UNCERTAIN:
            bx[g].append(sp.csr_matrix((k, rb.groups[g].size)))
    c = np.concatenate([rb.objective.get(g, np.zeros(rb.groups[g].size)) for g in var])
    return _Flat(sp.csr_matrix(sp.vstack(mats)), np.concatenate(rhs), np.concatenate(eqs),
                 {g: sp.csr_matrix(sp.vstack(v)) for g, v in bx.items()}, c)


@dataclass
class WorstCase:
    xi: dict[str, np.ndarray]
    value: float  # the subproblem's objective
    bound: float  # its dual bound (>= the true worst case when the big-M holds)
    optimal: bool
    big_m: float
    solve_s: float


def worst_case(d: ScheduleData, x: dict[str, np.ndarray], *, dual_bound: float = 2e3,
               time_limit_s: float = 300.0, gap: float = 1e-6) -> WorstCase:
    """``max_{xi in U} Q(x, xi)`` by the big-M dual linearisation (module docstring)."""
    t0 = time.perf_counter()
    flat = _flatten(d, x)
    rows = len(flat.r0)
    big = dual_bound
    tmp = Block()
    for g in UNCERTAIN:
        tmp.add_group(Group.new(g, flat.bxi[g].shape[1], 0.0, 1.0, integer=True))
    budget_block(d, tmp)
    block = Block()
    for g, grp in tmp.groups.items():
        block.add_group(Group(g, grp.size, grp.lb.copy(), grp.ub.copy(), True))
    block.rows = list(tmp.rows)
    # only the multipliers of rows where xi enters need a bound (the McCormick rows); the
    # others are free (equality rows) or <= 0 (inequality rows)
    with_xi = np.zeros(rows, bool)
    for g in UNCERTAIN:
        with_xi[flat.bxi[g].tocoo().row] = True
    lo = np.where(with_xi, -big, -np.inf)
    hi = np.where(flat.eq, np.where(with_xi, big, np.inf), 0.0)
    # exact one-sided bounds (multiplier = dQ/d right-hand side): one more MW of demand at a
    # bus can be curtailed there (pdr and pr up by the same amount keep both balances, the DSM
    # band and the hour's total), so dQ/d demand <= c_shed; one more MW of renewable output can
    # be spilled at c_spill, so dQ/d available renewable <= c_spill (the lower sides, and
    # whether more load never lowers the cost, are not proven here: they keep -M)
    dem_rows = np.unique(flat.bxi["xp"].tocoo().row)
    res_rows = np.unique(flat.bxi["xr"].tocoo().row)
    hi[dem_rows] = np.minimum(hi[dem_rows], d.c_shed * (1 + 1e-9) + 1e-6)
    hi[res_rows] = np.minimum(hi[res_rows], d.c_spill * (1 + 1e-9) + 1e-6)
    block.add_group(Group("pi", rows, lo, hi))
    block.add_rows("dual", {"pi": sp.csr_matrix(flat.a.T)}, Sense.EQ, flat.c)
    block.add_objective("pi", -flat.r0)
    for g in UNCERTAIN:
        coo = flat.bxi[g].tocoo()
        k = coo.nnz
        if not k:
            continue
        wn = f"w_{g}"
        block.add_group(Group.new(wn, k, -big, big))
        block.add_objective(wn, coo.data)  # - (-B xi)^T pi ... minimised: + B w
        ew = sp.identity(k, format="csr")
        pi_sel = sp.csr_matrix((np.ones(k), (np.arange(k), coo.row)), shape=(k, rows))
        xi_sel = sp.csr_matrix((np.ones(k), (np.arange(k), coo.col)),
                               shape=(k, flat.bxi[g].shape[1]))
        u = hi[coo.row]
        low = lo[coo.row]
        block.add_rows(f"mc1_{g}", {wn: ew, g: -sp.diags(u) @ xi_sel}, Sense.LE,
                       np.zeros(k))
        block.add_rows(f"mc2_{g}", {wn: -ew, g: sp.diags(low) @ xi_sel}, Sense.LE,
                       np.zeros(k))
        block.add_rows(f"mc3_{g}", {wn: ew, "pi": -pi_sel, g: -sp.diags(low) @ xi_sel},
                       Sense.LE, -low)
        block.add_rows(f"mc4_{g}", {wn: -ew, "pi": pi_sel, g: sp.diags(u) @ xi_sel},
                       Sense.LE, u)
    model = HighsModel(block)
    model.set_gap(gap)
    model.set_time_limit(max(time_limit_s - (time.perf_counter() - t0), 1.0))
    sol = model.solve()
    if not sol.has_solution:
        raise SolverError(f"the worst-case subproblem ended {sol.status}")
    vals = model.values()
    xi = {g: np.round(vals[g]) for g in UNCERTAIN}
    return WorstCase(xi, -float(sol.objective), -float(sol.bound), sol.status == "optimal",
                     big, time.perf_counter() - t0)


# ----- deterministic, extensive (brute force) and C&CG ---------------------------------------
def _mode_conflicts(d: ScheduleData, vals: dict[str, np.ndarray], copies: int,
                    tol: float = 1e-7) -> np.ndarray:
    """The storage unit-hours (indices of ``z``) where some recourse copy charges and some copy
    (the same or another) discharges: there no single binary mode ``z`` serves every copy."""
    size = d.hours * len(d.ess_bus)
    ch = np.zeros(size, bool)
    dis = np.zeros(size, bool)
    for e in range(copies):
        ch |= vals[f"e{e}.pch"] > tol
        dis |= vals[f"e{e}.pdis"] > tol
    return np.flatnonzero(ch & dis)


def _repair_modes(d: ScheduleData, vals: dict[str, np.ndarray]) -> np.ndarray:
    """Binary storage modes from a relaxed master's answer: discharge (``z = 1``) where the
    forecast copy ``e0`` discharges more than it charges, charge otherwise. Any binary ``z`` is
    a feasible first stage (the second stage always has a solution), so the schedule it gives
    is valid; its cost is the second-stage LP's, evaluated by the caller."""
    return (vals["e0.pdis"] > vals["e0.pch"] + 1e-9).astype(float)


#: Share of a master's time limit for switch probing (:func:`probe_switches`).
PROBE_SHARE = 0.2


def _solve_master(d: ScheduleData, xis: list[dict[str, np.ndarray]], time_limit_s: float,
                  gap: float, start: dict[str, np.ndarray] | None = None
                  ) -> tuple[MilpSolution, dict[str, np.ndarray], float]:
    """The master MILP with lazy storage modes (an exact scheme): the binaries ``z`` start
    continuous (then ``pch + pdis <= P`` only, a relaxation); if no unit-hour has a copy that
    charges and a copy that discharges, ``z = [discharging]`` is binary, serves every copy
    with the same recourse, and the relaxed optimum is the binary master's optimum (and its
    dual bound a valid bound). Otherwise the offending unit-hours get their binaries back and
    the MILP is solved again (warm-started), until none is left or time runs out (then every
    ``z`` is binary in the last solve). Measured on case33bw, eps 0.1 (shared 2-core machine,
    with the voltage big-M of :func:`~feederopt.formulations.schedule.voltage_big_m`): 6 h
    8.1 -> 7.7 s, 12 h 18.6 -> 16.5 s, 24 h 339 s at the time limit (gap 7.7 %) -> 87.6 s
    optimal (objective 12.1572, inside the old [LB, incumbent] = [11.2476, 12.1866]).

    The first solve always gets at least one second; a later solve only the time left. When
    a later solve finds nothing (or no time is left for it), the answer is time-limited: the
    status ``time_limit``, the largest valid bound seen (a relaxed master bounds the binary
    one), the previous solve's first stage with its modes made binary by
    :func:`_repair_modes`, and ``objective`` NaN (the caller evaluates that first stage)."""
    t0 = time.perf_counter()
    model = HighsModel(master_block(d, xis))
    model.set_gap(gap)
    # a loose integrality tolerance lets an "open" branch carry F * 1e-6 and shifts the
    # objective by ~1e-4 against the LP of the rounded first stage
    model.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    z_cols = (model.offset["z"] + np.arange(d.hours * len(d.ess_bus))).astype(np.int32)
    integer = np.zeros(len(z_cols), bool)

    def set_integer(idx: np.ndarray, on: bool) -> None:
        kind = highspy.HighsVarType.kInteger if on else highspy.HighsVarType.kContinuous
        model.h.changeColsIntegrality(len(idx), z_cols[idx], np.full(len(idx), kind))

    if len(z_cols):
        set_integer(np.arange(len(z_cols)), False)
    # switch probing fixes closed the branches that no optimum opens (exact; module
    # schedule_probing): case69bw 24 h with 27 fixed, 490 -> 304 nodes, 868k -> 520k LP iterations
    probe_switches(d, model, PROBE_SHARE * time_limit_s)
    prev: tuple[MilpSolution, dict[str, np.ndarray]] | None = None
    while True:
        left = time_limit_s - (time.perf_counter() - t0)
        sol: MilpSolution | None = None
        if prev is None or left > 0.05:
            model.set_time_limit(max(left, 1.0) if prev is None else left)
            if start is not None:
                model.warm_start(start)
            sol = model.solve()
        if sol is None or not sol.has_solution:
            if prev is None:
                status = sol.status if sol is not None else "no solve"
                raise SolverError(f"the schedule master ended {status} without a solution")
            last, vals = prev
            bound = max(last.bound, sol.bound if sol is not None else -math.inf)
            vals["z"] = _repair_modes(d, vals)
            cut = MilpSolution(SolverStatus.TIME_LIMIT, math.nan, bound,
                               time.perf_counter() - t0, True)
            return cut, vals, time.perf_counter() - t0
        vals = model.values()
        bad = _mode_conflicts(d, vals, len(xis))
        if not len(bad) or integer.all():
            break
        if time_limit_s - (time.perf_counter() - t0) < 1.0:
            bad = np.flatnonzero(~integer)  # the last solve: every mode binary
        integer[bad] = True
        set_integer(bad, True)
        prev = (sol, {g: v.copy() for g, v in vals.items()})
        start = vals
        start["z"] = np.round(np.clip(vals["z"], 0.0, 1.0))
    if len(z_cols):
        dis = np.zeros(len(z_cols), bool)
        for e in range(len(xis)):
            dis |= vals[f"e{e}.pdis"] > 1e-7
        vals["z"] = np.where(integer, np.round(vals["z"]), dis.astype(float))
    return sol, vals, time.perf_counter() - t0


def solve_extensive(d: ScheduleData, xis: list[dict[str, np.ndarray]] | None = None, *,
                    time_limit_s: float = 600.0, gap: float = 1e-6,
                    method: str = "extensive") -> ScheduleSolution:
    """One MILP with a copy per realisation in ``xis`` (default: every extreme point of the
    budget set, :func:`extreme_points`); with ``[nominal(d)]`` the deterministic schedule."""
    t0 = time.perf_counter()
    xis = xis if xis is not None else extreme_points(d)
    sol, vals, _ = _solve_master(d, xis, time_limit_s, gap)
    x = _first_stage(d, vals)
    status = Status.OPTIMAL if sol.status == "optimal" else Status.TIME_LIMIT
    nom_cost, nom_point = evaluate(d, x, nominal(d))
    values = [evaluate(d, x, xi) for xi in xis] if len(xis) > 1 else [(nom_cost, nom_point)]
    worst = int(np.argmax([v[0] for v in values]))
    objective = float(sol.objective)
    if math.isnan(objective):  # a time-limited answer: the cost of the first stage returned
        objective = _first_stage_cost(d, x) + values[worst][0]
    out = ScheduleSolution(status, method, objective, float(sol.bound),
                           _rel_gap(objective, sol.bound), closed_by_hour(d, x), x["z"],
                           nom_point, nom_cost, first_stage_cost=_first_stage_cost(d, x),
                           run_time_s=time.perf_counter() - t0, copies=len(xis),
                           commitment=x.get("u"))
    out.worst_xi, out.worst_cost, out.worst_point = xis[worst], values[worst][0], \
        values[worst][1]
    if math.isnan(sol.objective):
        out.notes.append("time limit in the lazy storage-mode loop: the modes of the last "
                         "relaxed master made binary (discharge where the forecast copy "
                         "discharges); objective evaluated, bound from the relaxed masters")
    return out


def solve_deterministic(d: ScheduleData, *, time_limit_s: float = 600.0,
                        gap: float = 1e-6) -> ScheduleSolution:
    """The deterministic counterpart: the forecast only."""
    return solve_extensive(d, [nominal(d)], time_limit_s=time_limit_s, gap=gap,
                           method="deterministic")


def extreme_points(d: ScheduleData, limit: int = 4096) -> list[dict[str, np.ndarray]]:
    """Every binary point of the temporal budget set (small instances only)."""
    H, n, U = d.hours, d.n, len(d.res_bus)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    gr = d.budget_res if d.budget_res is not None else np.zeros(U)
    if d.aggregate is not None:
        raise ValueError("brute force enumerates the temporal budget set only")
    # per uncertain element: its choices of (hour, sign) sets within the budget
    options: list[list[tuple[str, list[int]]]] = []
    for i in (int(v) for v in np.flatnonzero(gl > 0)):
        opts: list[tuple[str, list[int]]] = [("xp", [])]
        k = math.floor(gl[i] + 1e-9)
        for size in range(1, min(k, H) + 1):
            for hours in itertools.combinations(range(H), size):
                for signs in itertools.product(("xp", "xm"), repeat=size):
                    opts.append(("mixed", [h * n + i if s == "xp" else -(h * n + i) - 1
                                           for h, s in zip(hours, signs, strict=True)]))
        options.append(opts)
    for u in (int(v) for v in np.flatnonzero(gr > 0)):
        opts = [("xr", [])]
        k = math.floor(gr[u] + 1e-9)
        for size in range(1, min(k, H) + 1):
            for hours in itertools.combinations(range(H), size):
                opts.append(("xr", [h * U + u for h in hours]))
        options.append(opts)
    count = math.prod(len(o) for o in options)
    if count > limit:
        raise ValueError(f"{count} extreme points: too many for brute force (limit {limit})")
    out = []
    for combo in itertools.product(*options):
        xi = nominal(d)
        for kind, idx in combo:
            for j in idx:
                if kind == "xr":
                    xi["xr"][j] = 1.0
                elif j >= 0:
                    xi["xp"][j] = 1.0
                else:
                    xi["xm"][-j - 1] = 1.0
        out.append(xi)
    return out


class ColumnConstraintGeneration(AlgorithmBase):
    """The C&CG loop (module docstring); bounds, gap and log from :class:`AlgorithmBase`."""

    def __init__(self, d: ScheduleData, stop: StopOptions, *, dual_bound: float = 2e3,
                 sub_time_s: float = math.inf) -> None:
        super().__init__(stop)
        self.d = d
        self.sub_time_s = sub_time_s
        self.dual_bound = dual_bound
        self.iters: list[CcgIteration] = []

    def run(self) -> ScheduleSolution:
        d = self.d
        xis = [nominal(d)]
        best: tuple[dict[str, np.ndarray], WorstCase] | None = None
        notes: list[str] = []
        start = None
        while True:
            self.iteration += 1
            try:
                sol, vals, master_s = _solve_master(d, xis, max(self.remaining(), 1.0),
                                                    min(self.stop.gap / 4, 1e-4), start)
            except SolverError:
                if best is None:
                    raise
                notes.append(f"iteration {self.iteration}: the master found no solution "
                             "within the time left")
                break
            self.update_lower(float(sol.bound))
            x = _first_stage(d, vals)
            start = vals
            c1 = _first_stage_cost(d, x)
            # the policy bound first (cheap, module policy_bound): a valid UB on max_xi Q
            # when the policy is proven feasible; its maximiser is a candidate worst case
            q_nom, y_nom = evaluate(d, x, xis[0])
            pb = policy_bound(d, x, closed_by_hour(d, x), y_nom, q_nom)
            q_pb, pb_xi = -math.inf, None
            for cand in (pb.xi, pb.xi_first_order):  # the worse of the two candidates
                q_c = evaluate(d, x, cand)[0] if cand is not None else -math.inf
                if q_c > q_pb:
                    q_pb, pb_xi = q_c, cand
            pb_ub = max(pb.value, q_pb) if pb.value is not None else math.inf
            source = "policy"
            if pb_xi is not None and (c1 + pb_ub - self.lower
                                      <= self.stop.gap * max(abs(c1 + pb_ub), 1e-9)):
                # the policy bound closes the gap: no MILP subproblem
                wc = WorstCase(pb_xi, q_pb, pb_ub, True, self.dual_bound, pb.solve_s)
                q_star, sub_ub = q_pb, pb_ub
            else:
                found: WorstCase | None
                try:
                    found = worst_case(d, x, dual_bound=self.dual_bound,
                                       time_limit_s=max(min(self.remaining(),
                                                            self.sub_time_s), 1.0))
                except SolverError:
                    found = None
                if found is None and pb_xi is None:
                    if best is not None:
                        notes.append(f"iteration {self.iteration}: the subproblem found no "
                                     "worst case within the time left")
                        break
                    # no worst case at all: the forecast's value, and no valid upper bound
                    notes.append("the subproblem found no worst case within the time limit: "
                                 "the schedule is the first master's, without an upper bound")
                    wc = WorstCase(xis[0], q_nom, math.inf, False, self.dual_bound, 0.0)
                    best = (x, wc)
                    break
                if found is None:
                    notes.append(f"iteration {self.iteration}: the MILP subproblem found no "
                                 "worst case within the time left; the policy's is used")
                    wc = WorstCase(pb_xi or xis[0], q_pb, math.inf, False, self.dual_bound,
                                   pb.solve_s)
                    q_star = q_pb
                else:
                    wc = found
                    if not wc.optimal:
                        notes.append(f"iteration {self.iteration}: the subproblem stopped at "
                                     f"its time limit (dual bound {wc.bound:.6g} $)")
                    # the LP at the worst case found: a check of the dual (the larger of the
                    # two is the worst case's value; a truncating M would show as LP > MILP)
                    q_star, _ = evaluate(d, x, wc.xi)
                    if q_star > wc.value + 1e-6 * max(1.0, abs(q_star)):
                        notes.append(f"iteration {self.iteration}: Q(x, xi*) = {q_star:.6g} "
                                     f"above the subproblem's {wc.value:.6g}: the dual bound M "
                                     "truncates")
                milp_ub = max(wc.value, q_star) if wc.optimal else max(wc.bound, q_star)
                source = "policy" if pb_ub < milp_ub else "MILP"
                sub_ub = max(min(milp_ub, pb_ub), q_star, q_pb)
                if q_pb > q_star:  # the policy's maximiser is the worse realisation: add it
                    wc = WorstCase(pb_xi or wc.xi, q_pb, wc.bound, wc.optimal, wc.big_m,
                                   wc.solve_s + pb.solve_s)
                    q_star = q_pb
            notes.append(f"iteration {self.iteration}: UB from the {source} bound "
                         f"({sub_ub:.6g} $; policy: "
                         + (f"{pb.value:.6g} $, Q at its worse candidate {q_pb:.6g} $)"
                            if pb.value is not None else f"not used, {pb.reason})"))
            ub = c1 + sub_ub
            if self.update_upper(ub) or best is None:
                best = (x, wc)
            dev = int(sum(v.sum() for v in wc.xi.values()))
            self.record(master_s, wc.solve_s, f"worst case: {dev} deviations; UB from "
                        f"the {source} bound")
            self.iters.append(CcgIteration(self.iteration, self.lower, self.upper, self.gap,
                                           master_s, wc.solve_s, wc.value, dev, self.elapsed))
            if self.should_stop():
                break
            if any(all(np.array_equal(xi[g], wc.xi[g]) for g in UNCERTAIN) for xi in xis):
                # the worst case is already in the master: then LB >= Q*(x) and the gap closes
                notes.append("worst case repeated")
                break
            xis.append(wc.xi)
        if best is None:
            raise SolverError("C&CG ended without a schedule")
        x, wc = best
        worst_cost, worst_point = evaluate(d, x, wc.xi)
        nom_cost, nom_point = evaluate(d, x, nominal(d))
        status = self.final_status(True)
        return ScheduleSolution(
            status, "ccg", self.upper, self.lower, self.gap, closed_by_hour(d, x), x["z"],
            nom_point, nom_cost, worst_point, wc.xi, worst_cost, _first_stage_cost(d, x),
            self.iters, self.elapsed, len(xis), notes, x.get("u"))


def solve_ccg(d: ScheduleData, *, gap: float = 1e-4, time_limit_s: float = 600.0,
              iteration_limit: int = 50, dual_bound: float = 2e3,
              sub_time_s: float = math.inf) -> ScheduleSolution:
    """Two-stage robust schedule by C&CG (module docstring); ``sub_time_s`` caps each
    subproblem."""
    stop = StopOptions(gap=gap, time_limit_s=time_limit_s, iteration_limit=iteration_limit)
    return ColumnConstraintGeneration(d, stop, dual_bound=dual_bound,
                                      sub_time_s=sub_time_s).run()


def _rel_gap(ub: float, lb: float) -> float:
    if not (math.isfinite(ub) and math.isfinite(lb)):
        return math.inf
    return max(ub - lb, 0.0) / max(abs(ub), 1e-9)


__all__ = ["ColumnConstraintGeneration", "ScheduleSolution", "evaluate",
           "extreme_points", "solve_ccg", "solve_deterministic", "solve_extensive",
           "worst_case"]
