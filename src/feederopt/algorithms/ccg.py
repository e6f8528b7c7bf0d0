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
  copy ``y^e`` (its own variables, constraints at ``xi^e``) per realisation found so far
  (``xis[0]`` is always the forecast). Copies are lazy (:func:`solve_lazy_master`): only the
  active ones are in the MILP, an inactive one is added when its LP at the master's first
  stage exceeds ``theta``. Its MILP dual bound is ``LB``, non-decreasing because every
  iteration adds a copy to the same minimisation.
* **Start** (:meth:`ColumnConstraintGeneration._start`): a radial ``x0`` (:func:`radial_start`),
  the policy bound at ``x0`` and its worse candidate ``xi0``; the first master has the copies
  ``[forecast (lazy), xi0 (active)]`` and ``x0`` gives a first UB. Without the policy bound,
  the forecast master as the first.
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
  policy (the forecast's recourse plus one or two absorbers per deviation, checked on every
  row over the budget set) bounds ``Q*(x_k)`` from above in 3-7 s on 24 hours; its maximiser
  is evaluated as a candidate worst case. A second policy around the storage and EV schedule
  of the worst case found (:func:`centred_policy_bound`) is also valid; the smaller bound is
  used. When ``c1(x_k)`` + that bound already closes the gap
  with ``LB`` the MILP is skipped; otherwise ``UB`` uses the smaller of the two bounds (never
  below a value found) and the master gets the worse of the two realisations. The notes say
  which bound was used; where the policy is not proven feasible it is not used.
* **The policy's exact maximum** (:mod:`~feederopt.algorithms.policy_max`): when the linear
  policy bound does not close the gap, the policy's own cost (its piecewise-linear loss with
  segment binaries) is maximised within ``POLICY_MAX_SHARE`` of the time limit, as one MILP
  up to ``POLICY_ONE_MILP_BINARIES`` binaries, otherwise by hours (Lagrangian relaxation of
  the budgets); each dual bound is a valid UB at any stop (24 h case33bw: 15.423 $ against
  the linear 15.450 $; case69bw 4.666 $ against 4.699 $).
* **Mountain climbing** (:mod:`~feederopt.algorithms.worst_climb`): from each of the policy's
  two candidates, LP subgradient and sort until the LP value stops rising; the worse end point
  is the policy's realisation above (a local maximum of ``Q(x_k, .)``: LB side only).
* **A stalled subproblem** (:meth:`ColumnConstraintGeneration._past_stall`): when the MILP
  subproblem stops at its time limit with an incumbent whose ``Q(x_k, .)`` is not above the
  master's ``theta`` (often its start, the forecast: nothing for the master to learn), mountain
  climbing from that incumbent and from the sort of the forecast's LP gradient, then, without
  the policy bound, the subproblem again with most of the time left. A user's 24 h net with a
  transformer tap (no policy bound; ``--time-limit 90``): the forecast was reported as the
  worst case found (7113.49 $) and the run stopped at 33.6 s; now climbing reaches 7313.28 $
  at once (every load +15 % at hours 17-19 costs 7312.40 $ at the best first stage) and LB
  rises to 7312.93 $.
* Stop when ``UB - LB <= tol * max(1, |UB|)``, at the time limit or the iteration limit, or
  when the worst case found is already in the master ("worst case repeated"). After a
  subproblem solved to optimality a repeat closes the gap (``LB >= c1 + Q*(x_k)``); after a
  time-limited one (and the search above) it is only a stop rule: nothing more is proven, the
  status is ``optimal`` only when the gap is closed.

:func:`solve_extensive` is the brute force: every extreme point of the budget set gets a copy
in one MILP; on small instances it equals C&CG's answer (a test checks it).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from feederopt.algorithms.base import AlgorithmBase, ProgressCallback, StopOptions, stop_cause
from feederopt.algorithms.policy_bound import PolicyBound, maximise_linear, policy_bound
from feederopt.algorithms.policy_max import policy_max_auto
from feederopt.algorithms.schedule_probing import probe_switches
from feederopt.algorithms.worst_climb import RecourseLp, climb, second_stage
from feederopt.errors import InfeasibleError, SolverError
from feederopt.formulations.blocks import Block, Group, Rows, Sense
from feederopt.formulations.partition import rename
from feederopt.formulations.schedule import (
    UNCERTAIN,
    ScheduleData,
    always_closed,
    budget_block,
    cost_floor,
    first_stage_block,
    loss_tangent,
    nominal,
    recourse_block,
)
from feederopt.network.topology import max_spanning_forest
from feederopt.solvers import interrupt
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
    #: False: no realisation but the forecast was evaluated at the schedule's first stage (the
    #: run stopped before any worst-case search: the master fell back to the radial start, or
    #: the subproblem found nothing), so ``worst_point`` is the forecast's, not a worst case
    #: (user test ut32_time #3: "worst case" rows equal to the forecast's were printed)
    worst_searched: bool = True
    #: True: the objective is the MILP worst-case subproblem's dual bound at its time limit
    #: (its McCormick relaxation), not proven and not a cost of the schedule: no policy bound
    #: and no subproblem finished in time (user test ut49_sched #1: 664.55 $ against a worst
    #: case found of 1.63 $). The notes, the console and the JSON say so.
    objective_is_milp_bound: bool = False


# ----- building blocks ---------------------------------------------------------------------------
def _cost_terms(block: Block, prefix: str) -> dict[str, sp.spmatrix]:
    return {prefix + g: sp.csr_matrix(np.atleast_2d(c)) for g, c in block.objective.items()}


def master_block(d: ScheduleData, xis: list[dict[str, np.ndarray]],
                 active: Sequence[int] | None = None) -> Block:
    """First stage, ``theta`` and one recourse copy per realisation in ``xis`` (only those
    whose indices are in ``active``, when given); the copy of ``xis[e]`` has the prefix
    ``e{e}.`` whichever copies are present.

    A stop request (Ctrl-C, SIGTERM) made meanwhile ends the building between its parts (the
    first stage, each copy) with :class:`MasterTimeLimit` (:func:`_stop_if_requested`): the
    master would only be stopped at HiGHS's first callback, after its building and presolve
    (seconds on 24 hourly topologies)."""
    _stop_if_requested("while the schedule master was built")
    block = first_stage_block(d)
    block.add_group(Group.new("theta", 1, -np.inf, np.inf))
    block.add_objective("theta", np.ones(1))
    keep = tuple(d.first_stage_groups())
    for e in (range(len(xis)) if active is None else active):
        _stop_if_requested("while the schedule master was built")
        xi = xis[e]
        rb = recourse_block(d, xi)
        copy = rename(rb, f"e{e}.", keep=keep)
        cost = _cost_terms(rb, f"e{e}.")
        copy.objective.clear()
        block.merge(copy)
        cost["theta"] = -sp.csr_matrix(np.ones((1, 1)))
        block.add_rows(f"theta_{e}", cost, Sense.LE, np.zeros(1))
    return block


def _stop_if_requested(when: str, bound: float = -math.inf) -> None:
    """Raise :class:`MasterTimeLimit` (``bound``: the master's lower bound proved so far)
    when a stop was requested (Ctrl-C, SIGTERM: :mod:`feederopt.solvers.interrupt`): the
    checks between the steps that build a schedule master and before its solve. Before (our
    notes: "Ctrl-C on --hourly-topology: master building has no interrupt checks") a request
    made while a master was built was seen only at HiGHS's first callback, after the whole
    building and the MIP presolve: 24 h case136ma, about 1.4 s to build the hourly master and
    3.5 s of presolve, and C&CG's radial start built and presolved two such masters more and
    a third for its LP relaxation. The callers treat it as a master stopped before its first
    solution (the radial or instant start, or the one-topology schedule, with the bound)."""
    if interrupt.requested():
        raise MasterTimeLimit(f"the schedule master was stopped by the stop request {when}",
                              bound)


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
    lp = second_stage(d, x, xi, time_limit_s)
    return lp.value, lp.values


#: the recourse that couples the hours (storage, EV charging and its unmet energy): fixed in
#: :func:`centred_policy_bound`
TIME_COUPLED = ("pch", "pdis", "soc", "pev", "short")


def centred_policy_bound(d: ScheduleData, x: dict[str, np.ndarray],
                         xi: dict[str, np.ndarray], lp: RecourseLp | None = None
                         ) -> PolicyBound:
    """The policy bound (:func:`~feederopt.algorithms.policy_bound.policy_bound`) around the
    storage and EV schedule of the realisation ``xi`` instead of the forecast's.

    The policy needs a recourse ``y0`` feasible at the forecast and its cost ``q0``, not the
    forecast's optimum: ``y0`` here is the forecast's LP with the time-coupled recourse
    (:data:`TIME_COUPLED`) fixed at its values in ``Q(x, xi)``'s optimum (those rows do not
    contain ``xi``, so the fixed values stay feasible), ``q0`` its value ``>= Q(x, 0)``. Near
    ``xi`` the policy then keeps the LP's own storage response, which the forecast-centred
    policy cannot (its storage does not move): at the start's ``x0`` of the 24 h robust
    case69bw the policy's cost at the worst case found is 5.328 $ against 5.403 $ (``Q`` =
    5.303 $), the linear bound 5.466 $ against 5.496 $; case33bw 15.460 $ against 15.525 $
    (``Q`` = 15.455 $). ``lp``: the second-stage LP at ``x`` (:class:`RecourseLp`) for
    ``Q(x, xi)``, built here when None; the forecast's LP with the fixed recourse is another
    LP, built here."""
    at_xi = (lp.solve(xi) if lp is not None else second_stage(d, x, xi)).values
    fixed = {**x, **{g: at_xi[g] for g in TIME_COUPLED if g in at_xi}}
    y0 = second_stage(d, fixed, nominal(d))
    return policy_bound(d, x, closed_by_hour(d, x), y0.values, y0.value)


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
def _copy_ids(copies: int | Sequence[int]) -> Sequence[int]:
    return range(copies) if isinstance(copies, int) else copies


def _mode_conflicts(d: ScheduleData, vals: dict[str, np.ndarray],
                    copies: int | Sequence[int], tol: float = 1e-7) -> np.ndarray:
    """The storage unit-hours (indices of ``z``) where some recourse copy charges and some copy
    (the same or another) discharges: there no single binary mode ``z`` serves every copy.
    ``copies``: the copies' indices (an int ``k``: the copies ``0 .. k-1``)."""
    size = d.hours * len(d.ess_bus)
    ch = np.zeros(size, bool)
    dis = np.zeros(size, bool)
    for e in _copy_ids(copies):
        ch |= vals[f"e{e}.pch"] > tol
        dis |= vals[f"e{e}.pdis"] > tol
    return np.flatnonzero(ch & dis)


def _repair_modes(d: ScheduleData, vals: dict[str, np.ndarray], copy: int = 0) -> np.ndarray:
    """Binary storage modes from a relaxed master's answer: discharge (``z = 1``) where the
    copy ``e{copy}`` (the master's first copy) discharges more than it charges, charge
    otherwise. Any binary ``z`` is a feasible first stage (the second stage always has a
    solution), so the schedule it gives is valid; its cost is the second-stage LP's, evaluated
    by the caller."""
    return (vals[f"e{copy}.pdis"] > vals[f"e{copy}.pch"] + 1e-9).astype(float)


#: Share of a master's time limit for switch probing (:func:`probe_switches`).
PROBE_SHARE = 0.2


class _LazyTangents:
    """The master without the loss tangents at ``|a| > LAZY_TANGENT`` MW (``block``), and
    those row sets, added back when a solution violates one of their rows
    (:meth:`add_violated`).

    Fewer tangents are a relaxation (the loss is under-estimated only where a flow exceeds
    about ``(0.4 + 1) / 2`` MW, the point where the tangent at 1 MW overtakes the one at
    0.4 MW), so every bound stays valid, and a solution that satisfies the rows left out is
    feasible, with the same cost, for the full master. On the built-in feeders no 24 h flow
    exceeds 0.77 MW. Measured on the case69bw master with one 24 h worst-case copy (switch
    probing on, gap 2.5e-4): 573 -> 403 nodes, 760k -> 597k LP iterations, 881.9 -> 604.8 s,
    the same optimum 4.527835 $, no row added back."""

    LAZY_TANGENT = 0.4

    def __init__(self, full: Block) -> None:
        self.block = Block(full.groups, [], full.cones, full.objective)
        self.left: list[tuple[Rows, np.ndarray]] = []  # the rows left out, a mask of those
        for rows in full.rows:
            a = loss_tangent(rows.name)
            if a is not None and abs(a) > self.LAZY_TANGENT + 1e-12 and rows.sense is Sense.LE:
                self.left.append((rows, np.ones(rows.m, bool)))
            else:
                self.block.rows.append(rows)

    def add_violated(self, model: HighsModel, vals: dict[str, np.ndarray],
                     tol: float = 1e-9) -> bool:
        """Add to ``model`` every row set left out of which ``vals`` violates a row by more
        than ``tol`` (sets with a group that ``vals`` lacks are skipped: a partial warm
        start)."""
        added = False
        for rows, out in self.left:
            if any(g not in vals for g in rows.terms):
                continue
            lhs = sum((a @ vals[g] for g, a in rows.terms.items()), np.zeros(rows.m))
            if np.any(out & (lhs - rows.rhs > tol)):
                # the whole set (this tangent on every branch and hour): flows that reach it in
                # one place reach it elsewhere after the re-solve (case33bw, 24 h: adding only
                # the violated rows took four solves, 29 + 6 + 4 rows)
                idx = np.flatnonzero(out)
                model.add_rows({g: a[idx] for g, a in rows.terms.items()},
                               np.full(len(idx), -np.inf), rows.rhs[idx])
                out[idx] = False
                added = True
        return added


def _solve_master(d: ScheduleData, xis: list[dict[str, np.ndarray]], time_limit_s: float,
                  gap: float, start: dict[str, np.ndarray] | None = None, *,
                  active: Sequence[int] | None = None, integer: np.ndarray | None = None,
                  rows_from: Sequence[dict[str, np.ndarray]] = ()
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
    :func:`_repair_modes`, and ``objective`` NaN (the caller evaluates that first stage).

    ``active``: the indices of the realisations that get a copy (default all; the lazy copies
    of :func:`solve_lazy_master`). ``integer``: a mask of the modes that start binary (default
    none), updated in place with those the loop made binary, so that a later solve with more
    copies starts where this one ended."""
    t0 = time.perf_counter()
    ids = list(range(len(xis)) if active is None else active)
    full = master_block(d, xis, ids)
    lazy = _LazyTangents(full)
    model = HighsModel(lazy.block)
    _stop_if_requested("while the schedule master was built")
    model.set_gap(gap)
    # a loose integrality tolerance lets an "open" branch carry F * 1e-6 and shifts the
    # objective by ~1e-4 against the LP of the rounded first stage
    model.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    z_cols = (model.offset["z"] + np.arange(d.hours * len(d.ess_bus))).astype(np.int32)
    integer = np.zeros(len(z_cols), bool) if integer is None else integer

    def set_integer(idx: np.ndarray, on: bool) -> None:
        model.set_integrality(z_cols[idx], on)

    if len(z_cols):
        set_integer(np.flatnonzero(~integer), False)
    # switch probing fixes closed the branches that no optimum opens (exact; module
    # schedule_probing): case69bw 24 h with 27 fixed, 490 -> 304 nodes, 868k -> 520k LP iterations
    # its loop bound (every radial topology opens a branch of every loop, so max over loops of
    # min over the loop's branches of the probe values) bounds the master from below too
    loop_bound = probe_switches(d, model, PROBE_SHARE * time_limit_s, full).loop_bound
    # the lazy rows that the warm start (the last master's point) or a hint (``rows_from``:
    # master points, e.g. the start's recourse) violate, before the first solve
    for point in ([start] if start is not None else []) + list(rows_from):
        lazy.add_violated(model, point)
    # a request during the switch probing: the master is not started, its loop bound kept
    _stop_if_requested("before the schedule master's first solve", loop_bound)
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
                bound = max(sol.bound if sol is not None and sol.bound is not None
                            else -math.inf, loop_bound)
                if status in ("time_limit", "interrupted", "no solve"):
                    raise MasterTimeLimit(f"the schedule master ended {status} without a "
                                          "solution", bound)
                if status == "infeasible":
                    raise InfeasibleError(
                        "the schedule has no solution: no topology and dispatch keeps every "
                        "bus within its voltage limits and every branch within its rating in "
                        "every hour (curtailment, which relieves the rest, cannot)")
                raise SolverError(f"the schedule master ended {status} without a solution")
            last, vals = prev
            bound = max(last.bound, sol.bound if sol is not None else -math.inf, loop_bound)
            vals["z"] = _repair_modes(d, vals, ids[0])
            cut = MilpSolution(SolverStatus.TIME_LIMIT, math.nan, bound,
                               time.perf_counter() - t0, True)
            return cut, vals, time.perf_counter() - t0
        vals = model.values()
        if lazy.add_violated(model, vals):  # a loss row left out binds: solve again with it
            prev = (sol, {g: v.copy() for g, v in vals.items()})
            start = vals
            continue
        bad = _mode_conflicts(d, vals, ids)
        if not len(bad) or integer.all():
            break
        if time_limit_s - (time.perf_counter() - t0) < 1.0 or interrupt.requested():
            bad = np.flatnonzero(~integer)  # the last solve: every mode binary
        integer[bad] = True
        set_integer(bad, True)
        prev = (sol, {g: v.copy() for g, v in vals.items()})
        start = vals
        start["z"] = np.round(np.clip(vals["z"], 0.0, 1.0))
    if len(z_cols):
        dis = np.zeros(len(z_cols), bool)
        for e in ids:
            dis |= vals[f"e{e}.pdis"] > 1e-7
        vals["z"] = np.where(integer, np.round(vals["z"]), dis.astype(float))
    if loop_bound > sol.bound:
        sol = replace(sol, bound=min(loop_bound, sol.objective))
    return sol, vals, time.perf_counter() - t0


@dataclass
class LazyMaster:
    """The master with lazy recourse copies (:func:`solve_lazy_master`)."""

    sol: MilpSolution
    vals: dict[str, np.ndarray]
    seconds: float
    active: list[int]  # indices into xis with a copy in the last solve
    added: list[int]  # the copies activated by the lazy loop, in order
    solves: int
    #: stopped (time limit, stop request) with this inactive copy still violated (None:
    #: not stopped so); ``sol`` is then time-limited or interrupted, not optimal
    violated: int | None = None


def _with_copy(vals: dict[str, np.ndarray], e: int, point: dict[str, np.ndarray],
               q: float, first: Sequence[str]) -> dict[str, np.ndarray]:
    """A master point with the copy ``e{e}`` set to ``point`` (its recourse at the point's
    first stage, value ``q``) and ``theta`` raised to cover it: a feasible warm start."""
    out = dict(vals)
    for g, v in point.items():
        if g not in first:
            out[f"e{e}.{g}"] = v
    out["theta"] = np.array([max(float(np.asarray(vals["theta"]).ravel()[0]), q)])
    return out


#: ``(x, xi) -> (Q(x, xi), recourse)``
QOf = Callable[[dict[str, np.ndarray], dict[str, np.ndarray]],
               tuple[float, dict[str, np.ndarray]]]


def solve_lazy_master(d: ScheduleData, xis: list[dict[str, np.ndarray]],
                      active: Sequence[int], time_limit_s: float, gap: float,
                      start: dict[str, np.ndarray] | None = None, *, tol: float | None = None,
                      rows_from: Sequence[dict[str, np.ndarray]] = (),
                      q_of: QOf | None = None) -> LazyMaster:
    """The master over every realisation in ``xis`` with recourse copies only for the active
    ones, activated lazily (an exact scheme: the row generation of C&CG itself, Zeng & Zhao
    2013, applied to the master's own copies).

    Let ``A`` be the active set and ``M_A = min_x c1(x) + max_{e in A} Q(x, xi_e)`` the master
    with copies for ``A`` only. ``M_A <= M_all`` (fewer rows ``theta >= cost(y^e)``), so the MILP
    bound of every solve is a valid lower bound of the full master. After a solve with first
    stage ``x`` and ``theta = max_{e in A} Q(x, xi_e)`` (the objective minus ``c1(x)``), every
    inactive ``xi_e`` is evaluated, ``Q(x, xi_e)`` (the LP :func:`evaluate`). If none exceeds
    ``theta + tol``, then ``(x, theta + tol)`` is feasible for the full master at the cost found,
    which is therefore optimal for it within the solve's gap plus ``tol`` (``tol`` default:
    ``gap * max(1, |objective|)``). Otherwise the most violated copy is activated and the master
    solved again, warm-started at ``x`` with the new copy at its recourse ``y(x, xi_e)`` (a
    feasible point of the larger master). Each pass adds a copy, so the loop ends after at most
    ``len(xis) - len(A)`` passes.

    The lazy storage modes of :func:`_solve_master` run inside each solve, with the modes made
    binary so far kept binary in the next one (a mode conflict is between copies, and the
    copies only grow). A time-limited solve ends the loop: its bound is still valid, its first
    stage feasible, its objective that of the active copies only (the caller evaluates). So
    does the time limit or a stop request between solves while an inactive copy is still
    violated: the last solve is then returned with the status ``time_limit`` or
    ``interrupted`` (not ``optimal``: it is optimal for the active copies only), its bound
    (valid, ``M_A <= M_all``) and ``violated``, the copy left violated; the upper bound is the
    caller's evaluation of its first stage over every realisation, ``c1(x) + max_e Q(x, xi_e)``.
    ``rows_from``: master points whose violated lazy loss rows the first solve starts with
    (:class:`_LazyTangents`). ``q_of(x, xi)``: ``(Q(x, xi), recourse)`` for the inactive
    copies (default :func:`evaluate`, the LP built per call; C&CG passes its one LP per first
    stage, :meth:`ColumnConstraintGeneration._q`)."""
    t0 = time.perf_counter()
    if q_of is None:
        def q_of(x: dict[str, np.ndarray], xi: dict[str, np.ndarray]
                 ) -> tuple[float, dict[str, np.ndarray]]:
            return evaluate(d, x, xi)
    active = sorted(set(active)) or [0]
    added: list[int] = []
    integer = np.zeros(d.hours * len(d.ess_bus), bool)
    first = tuple(d.first_stage_groups())
    solves = 0
    while True:
        left = time_limit_s - (time.perf_counter() - t0)
        sol, vals, _ = _solve_master(d, xis, left if solves else max(left, 1.0), gap, start,
                                     active=active, integer=integer, rows_from=rows_from)
        solves += 1
        if math.isnan(sol.objective) or sol.status != "optimal" or len(active) == len(xis):
            break
        x = _first_stage(d, vals)
        theta = float(sol.objective) - _first_stage_cost(d, x)
        eps = tol if tol is not None else gap * max(1.0, abs(float(sol.objective)))
        worst, q_worst, p_worst = -1, -math.inf, None
        for e in (e for e in range(len(xis)) if e not in active):
            q, point = q_of(x, xis[e])
            if q > q_worst:
                worst, q_worst, p_worst = e, q, point
        if p_worst is None or q_worst <= theta + eps:
            break
        if time_limit_s - (time.perf_counter() - t0) < 0.05 or interrupt.requested():
            # (after a stop request the next master would not start: _stop_if_requested)
            # stopped with a copy still violated: the solve is optimal for the active copies
            # only, so not for the master (before, the schedule said "optimal" with the
            # active copies' objective, below the first stage's true cost). Its bound stays
            # valid (M_A <= M_all); its objective, an active-copies value, is kept for the
            # caller, which evaluates the first stage over every realisation (the UB)
            why = (SolverStatus.INTERRUPTED if interrupt.requested()
                   else SolverStatus.TIME_LIMIT)
            sol = replace(sol, status=why)
            return LazyMaster(sol, vals, time.perf_counter() - t0, active, added, solves,
                              violated=worst)
        active = sorted([*active, worst])
        added.append(worst)
        start = _with_copy({**vals, **x}, worst, p_worst, q_worst, first)
    return LazyMaster(sol, vals, time.perf_counter() - t0, active, added, solves)


#: Share of the time limit in which an hourly-topology schedule (``--hourly-topology``)
#: first solves the one-topology schedule (:func:`_one_topology`), whose topology held every
#: hour is the hourly master's MIP start and the fallback. User test ut49_sched #2: 24 h
#: case33bw, ``--switch-cost 5 --time-limit 60``: the hourly master found nothing in time and
#: the schedule was the tree of least total resistance, 18.1863 $, against 14.2857 $ for the
#: one-topology run in the same 60 s; 6 h, 5 s: 42.8872 $ (modes repaired after a time-limited
#: storage-mode loop) against 1.9454 $. With half the limit (shared 2-core machine): 24 h
#: 14.3305 $ (the one-topology schedule of 30 s, which the hourly master kept, proving no
#: bound in the 27.6 s left), 6 h at 5 s 1.9862 $; the price is the hourly master's time (3 h
#: at 8 s: optimal before, ``time_limit`` at the same cost now; 12 h at 10 s: the same
#: 6.0222 $, the lower bound 0 $ against the master's 5.6805 $ before).
ONE_TOPOLOGY_SHARE = 0.5


@dataclass
class OneTopology:
    """The one-topology schedule of an hourly-topology problem (:func:`_one_topology`): its
    first stage as an hourly one (the day's topology in every hour, no switching action),
    the hourly master's warm start built from it, and its cost ``c1(x) + max_e Q(x, xi_e)``."""

    x: dict[str, np.ndarray]
    start: dict[str, np.ndarray]
    cost: float
    values: list[tuple[float, dict[str, np.ndarray]]]  # Q(x, xi_e) and its recourse, per e
    status: str  # the one-topology master's: optimal, time_limit or interrupted
    seconds: float


def _one_topology(d: ScheduleData, xis: list[dict[str, np.ndarray]], time_limit_s: float,
                  gap: float) -> OneTopology | None:
    """The one-topology master (``d`` with ``hourly=False``) within ``time_limit_s``, its first
    stage held for every hour of the hourly problem ``d``. One topology for the day is a
    restriction of one per hour: its ``y`` in every hour is a radial hourly topology with
    ``|y_h - y_{h-1}| = 0``, so no switching cost (docs/schedule.md, model item 8), and the
    second stage at it is the same LP, so its cost in the hourly problem is
    ``c0 u + max_e Q(x, xi_e)`` (evaluated here by the LP, :func:`evaluate`). The hourly
    master's optimum is therefore at most this cost. The warm start is that first stage with
    the radiality columns of the one-topology master in every hour (``h{h}.``), no switching
    action, each copy's recourse at that first stage and ``theta`` its largest value: a
    feasible point of the hourly master (HiGHS checks it; a point it rejects only loses the
    start). None when the one-topology master found nothing in time."""
    t0 = time.perf_counter()
    d1 = replace(d, hourly=False)
    try:
        sol1, vals1, _ = _solve_master(d1, xis, time_limit_s, gap)
        # stopped by a request (Ctrl-C, SIGTERM): "interrupted", not a time limit that was
        # never reached (user test ut51_cli #2)
        status = ("optimal" if sol1.status == "optimal" and not math.isnan(sol1.objective)
                  else stop_cause("time_limit", "interrupted"))
    except MasterTimeLimit:
        return None
    x1 = _first_stage(d1, vals1)
    x = {g: x1["y"].copy() for g in d.y_groups()}
    for g in d.first_stage_groups():
        if g not in x:
            x[g] = x1[g]
    values = [evaluate(d, x, xi) for xi in xis]
    q = max(v[0] for v in values)
    start: dict[str, np.ndarray] = dict(x)
    skip = {"theta", "y", "z", "u"}
    for g, v in vals1.items():
        if g in skip or g.startswith("e"):
            continue
        for h in range(d.hours):  # the radiality columns, hour by hour
            start[f"h{h}.{g}"] = np.round(v) if g.startswith("beta") else v
    start["act"] = np.zeros((d.hours - 1) * d.m)
    first = d.first_stage_groups()
    for e, (_q, point) in enumerate(values):
        for g, v in point.items():
            if g not in first:
                start[f"e{e}.{g}"] = v
        for g, v in xis[e].items():  # the realisation, fixed columns of the copy
            start[f"e{e}.{g}"] = np.asarray(v, float)
    start["theta"] = np.array([q])
    return OneTopology(x, start, _first_stage_cost(d, x) + q, values, status,
                       time.perf_counter() - t0)


def solve_extensive(d: ScheduleData, xis: list[dict[str, np.ndarray]] | None = None, *,
                    time_limit_s: float = 600.0, gap: float = 1e-6,
                    method: str = "extensive",
                    active: Sequence[int] | None = None) -> ScheduleSolution:
    """One MILP with a copy per realisation in ``xis`` (default: every extreme point of the
    budget set, :func:`extreme_points`); with ``[nominal(d)]`` the deterministic schedule.
    With ``active`` only those copies start in the MILP and the others are added lazily
    (:func:`solve_lazy_master`; the same optimum).

    With an hourly topology the one-topology schedule comes first, within
    :data:`ONE_TOPOLOGY_SHARE` of the limit (:func:`_one_topology`): its topology held every
    hour is the hourly master's MIP start, and the schedule whenever the hourly master finds
    nothing or only a dearer first stage in the time left (a restriction's feasible point:
    the hourly optimum is never above it)."""
    t0 = time.perf_counter()
    xis = xis if xis is not None else extreme_points(d)
    lazy: LazyMaster | None = None
    fallback: str | None = None
    one: OneTopology | None = None
    start: dict[str, np.ndarray] | None = None
    floor = math.nan  # cost_floor(d), once it is needed
    fallback_lp: RecourseLp | None = None  # the radial start's LP at x, when it is the schedule
    limit = time_limit_s
    if d.hourly:
        one = _one_topology(d, xis, ONE_TOPOLOGY_SHARE * time_limit_s, gap)
        if one is not None:
            start = one.start
        limit = max(time_limit_s - (time.perf_counter() - t0), 1.0)
    try:
        if d.hourly and interrupt.requested():
            # the request came during the one-topology stage: the hourly master would stop at
            # once, after its build and switch probing (tens of seconds on 24 h; user test
            # ut51_cli #3: 55 s from Ctrl-C to exit), so it is not started
            raise MasterTimeLimit("the schedule master was not started after the stop "
                                  "request", -math.inf)
        if active is None:
            sol, vals, _ = _solve_master(d, xis, limit, gap, start)
        else:
            lazy = solve_lazy_master(d, xis, active, limit, gap, start)
            sol, vals = lazy.sol, lazy.vals
        x = _first_stage(d, vals)
    except MasterTimeLimit as exc:
        sol = MilpSolution(SolverStatus.TIME_LIMIT, math.nan, exc.bound,
                           time.perf_counter() - t0, True)
        # the bound shown: the master's when it proved one above the cost floor, else the
        # floor (0 $; user test ut49_sched #2 read "the master's" beside 0 $)
        floor = cost_floor(d)
        whose = ("the master's" if math.isfinite(exc.bound) and exc.bound > floor else
                 f"the cost floor ({floor:g} $: every cost a price >= 0 on a quantity >= 0; "
                 "the master proved none)")
        found = ("the master found no solution "
                 + stop_cause(f"within the time limit ({time_limit_s:g} s)",
                              "before the stop request"))
        if one is not None:
            # the one-topology schedule held every hour (no switching action)
            x, lazy = one.x, None
            fallback = (f"the hourly-topology {found}: the schedule is the one-topology "
                        f"schedule ({one.status} in {one.seconds:.1f} s, solved first) held "
                        f"for every hour, 0 switching actions; the lower bound {whose}")
        else:
            # no master solution within the limit: the radial start is the schedule (a
            # feasible first stage)
            rs = _fallback_start(d, time_limit_s, exc, _fallback_budget(time_limit_s))
            x, lazy, fallback_lp = rs.x, None, rs.lp
            fallback = (f"{found}: the schedule is the radial start ({rs.how}, "
                        f"{rs.seconds:.1f} s after "
                        f"{stop_cause('the limit', 'the request')}), the lower bound {whose}")
    # a lazy loop cut short by a stop request with a copy still violated: interrupted (the
    # other stopped answers stay time_limit here; the commands label them, interrupted_label)
    status = (Status.OPTIMAL if sol.status == "optimal" else
              Status.INTERRUPTED if lazy is not None and lazy.violated is not None
              and sol.status == "interrupted" else Status.TIME_LIMIT)
    held = one is not None and x is one.x  # the one-topology schedule, evaluated already

    def q_of(xi: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        """``Q(x, xi)``: with the radial start as the schedule, its own second-stage LP at x
        (built and solved at the forecast by _fallback_start), each realisation only setting
        its right-hand sides; before, the same LP was built and solved again per realisation
        (24 h case136ma, after a stop request: 1.7 s each). Else the LP built at x."""
        if fallback_lp is None:
            return evaluate(d, x, xi)
        st = fallback_lp.solve(xi)
        return st.value, st.values

    values = one.values if one is not None and held else [q_of(xi) for xi in xis]
    nom_cost, nom_point = values[0] if len(xis) == 1 else q_of(nominal(d))
    worst = int(np.argmax([v[0] for v in values]))
    objective = float(sol.objective)
    if math.isnan(objective) or (lazy is not None and sol.status != "optimal"):
        # a time-limited answer (or a lazy master's, whose objective covers its active
        # copies only): the cost of the first stage returned, over every realisation
        objective = _first_stage_cost(d, x) + values[worst][0]
    cheaper = None
    if one is not None and x is not one.x and one.cost < objective - 1e-9 * max(1.0,
                                                                                  objective):
        # the hourly master's answer (time-limited) is dearer than the one-topology schedule
        # held every hour: that is the schedule (ut49_sched #2)
        cheaper = (f"the hourly-topology master's schedule "
                   f"{'(time limit) ' if status is Status.TIME_LIMIT else ''}cost "
                   f"{objective:.4f} $, the one-topology schedule ({one.status} in "
                   f"{one.seconds:.1f} s, solved first) held for every hour {one.cost:.4f} $ "
                   "with 0 switching actions: the schedule is the latter")
        # the status stays: the bound is the hourly master's either way, and the gap narrower
        x, values, objective, lazy = one.x, one.values, one.cost, None
        worst = int(np.argmax([v[0] for v in values]))
        nom_cost, nom_point = values[0] if len(xis) == 1 else evaluate(d, x, nominal(d))
    # no bound proven (nan or -inf from a master stopped early): the model's own floor,
    # every cost term a price >= 0 on a quantity >= 0 (cost_floor, 0)
    # (built once: cost_floor builds the first-stage and recourse blocks, 0.7-1.2 s with 24
    # hourly topologies, and a stopped run waited for it up to four times)
    if math.isnan(floor):
        floor = cost_floor(d)
    bound = max(float(sol.bound), floor) if not math.isnan(sol.bound) else floor
    out = ScheduleSolution(status, method, objective, bound,
                           _rel_gap(objective, bound), closed_by_hour(d, x), x["z"],
                           nom_point, nom_cost, first_stage_cost=_first_stage_cost(d, x),
                           run_time_s=time.perf_counter() - t0,
                           copies=len(xis) if lazy is None else len(lazy.active),
                           commitment=x.get("u"))
    if lazy is not None:
        out.notes.append(f"lazy recourse copies: {len(lazy.active)} of {len(xis)} in the "
                         f"last of {lazy.solves} solves (activated {lazy.added})")
        if lazy.violated is not None:
            out.notes.append(
                "lazy recourse copies "
                + stop_cause("stopped at the time limit", "stopped by the stop request")
                + f" with realisation {lazy.violated} still violated: the master's solve is "
                "optimal for its active copies only; objective evaluated over every "
                "realisation (upper bound), bound from the relaxed master")
    out.worst_xi, out.worst_cost, out.worst_point = xis[worst], values[worst][0], \
        values[worst][1]
    if fallback is not None:
        out.notes.append(fallback)
    elif cheaper is not None:
        out.notes.append(cheaper)
    elif math.isnan(sol.objective):
        out.notes.append(_cut_loop_note(d))
    if one is not None and fallback is None and bound <= floor < objective:
        # the hourly master kept its MIP start (or found a schedule) without proving a bound
        # after a stop request the master had no time left, whatever ``limit`` said
        # (user test ut51_cli #2: "in the 585.5 s left" of a run stopped by SIGTERM)
        when = stop_cause(f"proved no lower bound in the {limit:.1f} s left",
                          "was stopped by the stop request before it proved a lower bound")
        out.notes.append(f"the hourly-topology master {when}, after "
                         f"the one-topology schedule ({one.status} "
                         f"in {one.seconds:.1f} s, its MIP start): the lower bound shown is "
                         f"the cost floor ({floor:g} $: every cost a price >= 0 on a "
                         "quantity >= 0), not the master's")
    return out


def _cut_loop_note(d: ScheduleData) -> str:
    """The note on a master whose later solve (:func:`_solve_master`: a loss-tangent row set
    added back, or storage modes made binary) found nothing in the time left: the previous
    solve's first stage evaluated. The storage-mode loop only where there is storage (user
    test ut49_sched #3: a run without devices blamed "the lazy storage-mode loop")."""
    cause = stop_cause("time limit", "interrupted (stop request)")
    if len(d.ess_bus):
        # by its cause: a Ctrl-C ends the loop as a time limit does (user test ut41_cli #6)
        return (f"{cause} in the lazy storage-mode loop: the modes of the last relaxed "
                "master made binary (discharge where the forecast copy discharges); "
                "objective evaluated, bound from the relaxed masters")
    return (f"{cause} in the master's re-solve after the loss tangents it violated were "
            "added back: the previous solve's topology evaluated (objective by the LP), "
            "bound from the earlier solves")


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


class MasterTimeLimit(SolverError):
    """The schedule master stopped (time limit) before its first solution; ``bound`` is its
    lower bound so far (``-inf`` when none). The callers fall back to a radial start
    (:func:`radial_start`); only when that fails too does this reach the user (exit 4: stopped
    before a schedule was found, nothing proven)."""

    exit_code = 4

    def __init__(self, message: str, bound: float = -math.inf) -> None:
        super().__init__(message)
        self.bound = bound


def _fallback_start(d: ScheduleData, time_limit_s: float, exc: MasterTimeLimit,
                    budget_s: float) -> RadialStart:
    """The schedule when the master ended ``exc``: the radial start (:func:`radial_start`,
    within ``budget_s``) when the limit is long enough for that to be a small overrun
    (:data:`RADIAL_FALLBACK_MIN_LIMIT_S`), else (or when it fails) the instant one
    (:func:`instant_start`); :class:`MasterTimeLimit` (exit 4) with a clear message when
    nothing can be evaluated. After a stop request (Ctrl-C) the instant one: the radial
    start's MILP would be stopped at once, after seconds of building it."""
    if time_limit_s >= RADIAL_FALLBACK_MIN_LIMIT_S and not interrupt.requested():
        try:
            return radial_start(d, budget_s)
        except SolverError:
            pass
    try:
        return instant_start(d)
    except SolverError:
        raise MasterTimeLimit(f"{exc} within the time limit ({time_limit_s:g} s), and no "
                              "radial start could be evaluated: no schedule; give a longer "
                              "--time-limit", exc.bound) from None


def instant_start(d: ScheduleData) -> RadialStart:
    """A radial first stage without a MILP: the spanning tree of least total resistance, the
    storage never discharging (``z = 0``: it may charge or idle, so the final SOC can stay at
    the initial one) and, with commitment, every DG unit off; always feasible (shedding
    completes the recourse). Its forecast LP is evaluated."""
    t0 = time.perf_counter()
    r = np.abs(d.r) / max(float(np.abs(d.r).max(initial=0.0)), 1e-12)
    tree = _max_tree(d, -r).astype(float)
    x = {g: tree.copy() for g in d.y_groups()}
    x["z"] = np.zeros(d.hours * len(d.ess_bus))
    if d.commit:
        x["u"] = np.zeros(d.hours * len(d.dg_bus))
    lp = RecourseLp(d, x)
    q0 = lp.solve(nominal(d))
    return RadialStart(x, q0.value, q0.values, time.perf_counter() - t0, "the tree of least "
                       "total resistance, storage not discharging ("
                       + stop_cause("no time for the master at it",
                                    "the master at it stopped by the request") + ")", lp)


@dataclass
class RadialStart:
    """A cheap radial first stage (:func:`radial_start`) and its forecast recourse."""

    x: dict[str, np.ndarray]
    q_forecast: float
    y_forecast: dict[str, np.ndarray]
    seconds: float
    how: str
    #: the second-stage LP at ``x`` (its forecast solved), for C&CG's later evaluations at x
    lp: RecourseLp | None = field(default=None, repr=False)


def _max_tree(d: ScheduleData, w: np.ndarray) -> np.ndarray:
    """The spanning tree of greatest weight ``w``
    (:func:`~feederopt.network.topology.max_spanning_forest`, Kruskal), the
    :func:`~feederopt.formulations.schedule.always_closed` branches taken first and the
    fixed-open ones left out: a bool mask of its branches."""
    usable = np.flatnonzero(~(d.fixed_open if d.fixed_open is not None
                              else np.zeros(d.m, bool)))
    sources = np.zeros(d.n, bool)
    sources[d.root] = True
    tree = np.zeros(d.m, bool)
    tree[usable[max_spanning_forest(d.n, d.f[usable], d.t[usable], w[usable],
                                    always_closed(d)[usable], sources)]] = True
    return tree


def radial_start(d: ScheduleData, time_limit_s: float = 60.0) -> RadialStart:
    """A radial first stage ``x0`` in seconds, the better (by the forecast's LP) of two trees:

    * the forecast master's LP relaxation (every binary continuous), its switch values ``y``
      (averaged over the hours with an hourly topology) rounded by a maximum spanning tree,
      ties broken by the smaller resistance: the MIP start of docs/schedule.md ("The master
      MILP", item 5);
    * the spanning tree of least total resistance.

    Each with its storage modes (and commitment) from the forecast master at that one topology
    (an LP with the lazy storage modes; a MILP over ``u`` with commitment). Measured on the
    24 h built-in data, forecast cost at the tree: case33bw 14.3305 $ (LP rounding) against
    18.1863 $ (least resistance), the deterministic optimum 14.2347 $; case69bw 5.6947 $
    against 4.7168 $, optimum 3.9417 $ (there the LP relaxation's ``y`` are near 1 on every
    branch of a loop and carry little information). ``d`` carries no normally-open switch
    states, so the case's own radial configuration is not a candidate."""
    t0 = time.perf_counter()
    # after a stop request (also one made while its LP relaxation is built) nothing is
    # solved: MasterTimeLimit, as when no tree's master found a solution in time
    model = HighsModel(master_block(d, [nominal(d)]))
    _stop_if_requested("while the radial start was built")
    cols = np.flatnonzero(model.integer).astype(np.int32)
    model.set_integrality(cols, False)
    model.set_time_limit(max(time_limit_s / 2, 1.0))
    sol = model.solve()
    r = np.abs(d.r) / max(float(np.abs(d.r).max()), 1e-12)
    trees = [("the tree of least total resistance", _max_tree(d, -r))]
    if sol.has_solution:
        vals = model.values()
        w = np.mean([vals[g] for g in d.y_groups()], axis=0) - 1e-6 * r
        trees.insert(0, ("the forecast master's LP relaxation rounded by a maximum spanning "
                         "tree", _max_tree(d, w)))
    found: list[RadialStart] = []
    failed: MasterTimeLimit | None = None
    for how, tree in trees:
        d0 = replace(d, fixed_open=~tree)
        # at one topology the master is small; a second or so may not do on a busy machine
        left = max(time_limit_s - (time.perf_counter() - t0), RADIAL_TREE_MIN_S)
        try:
            _, vals0, _ = _solve_master(d0, [nominal(d0)], left, 1e-4)
        except MasterTimeLimit as exc:
            failed = exc
            continue
        x0 = _first_stage(d, vals0)
        if any(all(np.array_equal(x0[g], c.x[g]) for g in x0) for c in found):
            continue  # two trees gave one first stage
        lp = RecourseLp(d, x0)
        q0 = lp.solve(nominal(d))
        found.append(RadialStart(x0, q0.value, q0.values, 0.0, how, lp))
    if not found:
        raise failed or MasterTimeLimit("no radial start within the time limit")
    best = min(found, key=lambda c: c.q_forecast)
    best.seconds = time.perf_counter() - t0
    return best


#: Seconds the master at one tree of the radial start gets at least.
RADIAL_TREE_MIN_S = 1.0
#: Shorter limits fall back to :func:`instant_start` (no MILP) when the master finds nothing.
RADIAL_FALLBACK_MIN_LIMIT_S = 30.0
#: Seconds the radial start may take when the master found nothing within the time limit
#: (after the limit: the price of having a schedule at all), at most half the limit.
RADIAL_FALLBACK_S = 10.0


def _fallback_budget(time_limit_s: float) -> float:
    return min(RADIAL_FALLBACK_S, max(2.0, 0.5 * time_limit_s))


class ColumnConstraintGeneration(AlgorithmBase):
    """The C&CG loop (module docstring); bounds, gap and log from :class:`AlgorithmBase`.

    When the policy bound is available the MILP subproblem gets at most ``POLICY_SUB_SHARE``
    of the time limit (at least ``POLICY_SUB_MIN_S``): on 24 hours its McCormick bound never
    beat the policy's (2162-2171 $ against 15.6 $ on case33bw, docs/schedule.md "Speed") and
    its incumbent never beat the policy's candidate, while its 60 s share was a fifth of the
    limit that the masters need; on small instances it proves its optimum within that cap
    (the brute-force tests)."""

    POLICY_SUB_SHARE = 0.02
    POLICY_SUB_MIN_S = 5.0
    POLICY_MAX_SHARE = 0.2
    # above this many binaries the policy's maximum runs by hours: 24 h case33bw (2,837) one
    # MILP 15.4229 $ in 60 s, by hours 15.4246 $; case69bw (5,446) one MILP 4.6814 $ in 150 s,
    # by hours 4.6659 $
    POLICY_ONE_MILP_BINARIES = 4000
    #: Time held back from a master for the evaluation of its first stage should it stop at
    #: its limit (ut_sched2 #4: a 120 s run whose first master used the time left returned
    #: the radial start, costlier at its worst case than the deterministic schedule): this
    #: many times what the last evaluation (policy bound, climbing) took, at most
    #: ``EVAL_RESERVE_SHARE`` of the time limit.
    EVAL_RESERVE_FACTOR = 1.5
    EVAL_RESERVE_SHARE = 0.1
    #: second-stage LPs kept (:meth:`_recourse`), the most recently built: the incumbent's
    #: first stage, the master's latest and one the lazy master passed through
    RECOURSE_LPS_KEPT = 3

    def _time_for(self, seconds: float) -> bool:
        """Is there time left for a step that took ``seconds`` before (the policy bound
        around another storage schedule costs about what the first one did)?"""
        return self.remaining() > seconds

    def _reserve(self) -> float:
        """Seconds a master leaves for the evaluation of its first stage (policy bound and
        mountain climbing, measured at the last evaluation) when it stops at its limit; 0
        without an incumbent (nothing to compare with) or before any evaluation."""
        if self._eval_s is None:
            return 0.0
        return min(max(self.EVAL_RESERVE_FACTOR * self._eval_s, 1.0),
                   self.EVAL_RESERVE_SHARE * self.stop.time_limit_s)

    def _closes(self, ub: float) -> bool:
        """``ub`` (a valid upper bound) closes the gap with the current ``LB``."""
        return ub - self.lower <= self.stop.gap * max(abs(ub), 1e-9)

    def __init__(self, d: ScheduleData, stop: StopOptions, *, dual_bound: float = 2e3,
                 sub_time_s: float = math.inf, progress: ProgressCallback | None = None
                 ) -> None:
        super().__init__(stop, progress)
        self.d = d
        self.sub_time_s = sub_time_s
        self.dual_bound = dual_bound
        self.iters: list[CcgIteration] = []
        self._x0: RadialStart | None = None  # the radial start, once computed
        self._eval_s: float | None = None  # seconds the last first-stage evaluation took
        self._lps: list[tuple[dict[str, np.ndarray], RecourseLp]] = []  # newest first

    def _recourse(self, x: dict[str, np.ndarray]) -> RecourseLp:
        """The second-stage LP at the first stage ``x``
        (:class:`~feederopt.algorithms.worst_climb.RecourseLp`), built once per first stage:
        every ``Q(x, xi)`` of the run (the forecast, the climbing steps, the policy's and the
        subproblem's realisations, the final re-evaluation) solves it with only the
        right-hand sides where ``xi`` enters set, from the last solve's basis. The values are
        those of the LP built anew per call (the same LP; a test compares them); the
        measurements are in docs/schedule.md (Speed, session 40)."""
        for key, lp in self._lps:
            if key.keys() == x.keys() and all(np.array_equal(key[g], x[g]) for g in x):
                return lp
        lp = RecourseLp(self.d, x)
        self._lps = [({g: np.array(v, float) for g, v in x.items()}, lp),
                     *self._lps][: self.RECOURSE_LPS_KEPT]
        return lp

    def _q(self, x: dict[str, np.ndarray], xi: dict[str, np.ndarray]
           ) -> tuple[float, dict[str, np.ndarray]]:
        """``Q(x, xi)`` and the recourse, by the first stage's LP (:meth:`_recourse`)."""
        lp = self._recourse(x).solve(xi)
        return lp.value, lp.values

    def _start(self, notes: list[str]
               ) -> tuple[list[dict[str, np.ndarray]], list[int],
                          tuple[dict[str, np.ndarray], WorstCase] | None]:
        """The realisations of the first master, the active ones, and an incumbent.

        Start from a worst case rather than from the forecast (the forecast master is wasted
        work when a worst case dominates it): a radial ``x0`` (:func:`radial_start`), the
        policy bound at ``x0`` (:func:`~feederopt.algorithms.policy_bound.policy_bound`) and
        the worse (by the LP) of its two candidates as ``xi0``. The first master has the
        copies ``[forecast (inactive, lazy), xi0 (active)]``; ``xis[0]`` stays the forecast.
        ``x0`` with the policy bound is also a first upper bound, ``c1(x0) + max(bound,
        Q(x0, xi0))``. Without the policy bound (a policy not proven feasible) the start is the
        forecast's, as before."""
        d = self.d
        forecast = nominal(d)
        self.phase("start: a radial first stage")
        try:
            rs = radial_start(d, min(60.0, max(self.remaining() / 5, 1.0)))
        except MasterTimeLimit:
            notes.append("start: the forecast master (no radial start "
                         + stop_cause("within its time", "before the stop request") + ")")
            return [forecast], [0], None
        self._x0 = rs
        if rs.lp is not None:  # its forecast LP: the first stage's evaluations start there
            self._lps = [(rs.x, rs.lp)]
        if self.remaining() <= 0:
            notes.append("start: the forecast master ("
                         + stop_cause("the time limit passed", "the stop request came")
                         + f" in the radial start, {rs.seconds:.1f} s)")
            return [forecast], [0], None
        self.phase("start: policy bound")
        t_eval = time.perf_counter()
        pb = policy_bound(d, rs.x, closed_by_hour(d, rs.x), rs.y_forecast, rs.q_forecast)
        if pb.value is None:
            notes.append(f"start: the forecast master (no policy bound at x0: {pb.reason}; "
                         f"x0 from {rs.how}, {rs.seconds:.1f} s)")
            return [forecast], [0], None
        q0, xi0, climbed = self._climbed(rs.x, (pb.xi, pb.xi_first_order))
        if xi0 is None:
            notes.append("start: the forecast master (the policy bound gave no realisation)")
            return [forecast], [0], None
        pbc = centred_policy_bound(d, rs.x, xi0, self._recourse(rs.x)) \
            if self._time_for(pb.solve_s) else None
        bound = min(pb.value, pbc.value) if pbc is not None and pbc.value is not None \
            else pb.value
        ub = max(bound, q0)
        self._eval_s = time.perf_counter() - t_eval
        self.update_upper(_first_stage_cost(d, rs.x) + ub)
        dev = int(sum(v.sum() for v in xi0.values()))
        notes.append(f"start: x0 from {rs.how} ({rs.seconds:.1f} s; forecast "
                     f"{rs.q_forecast:.6g} $), xi0 the worse of the policy bound's candidates "
                     f"after mountain climbing ({climbed}; "
                     f"{dev} deviations, Q(x0, xi0) = {q0:.6g} $, bound {bound:.6g} $); "
                     "first master with the xi0 copy, the forecast copy lazy")
        return [forecast, xi0], [1], (rs.x, WorstCase(xi0, q0, ub, True, self.dual_bound,
                                                      pb.solve_s))

    def _climbed(self, x: dict[str, np.ndarray],
                 candidates: Sequence[dict[str, np.ndarray] | None]
                 ) -> tuple[float, dict[str, np.ndarray] | None, str]:
        """The worst realisation (by the LP) reached by mountain climbing
        (:func:`~feederopt.algorithms.worst_climb.climb`) from each candidate, its ``Q(x, .)``
        and the climbs as text."""
        q, xi, text = -math.inf, None, []
        for cand in candidates:
            if cand is None:
                continue
            if self.remaining() <= 0:  # past the deadline: the candidate itself, by the LP
                value = self._q(x, cand)[0]
                text.append(f"{value:.6g} $ (not climbed: {stop_cause('time limit', 'stopped')})")
                if value > q:
                    q, xi = value, cand
                continue
            c = climb(self.d, x, cand, time_limit_s=max(self.remaining() / 20, 1.0),
                      lp=self._recourse(x))
            text.append(f"{c.path[0]:.6g} -> {c.value:.6g} $ in {len(c.path) - 1} steps")
            if c.value > q:
                q, xi = c.value, c.xi
        return q, xi, ", ".join(text)

    @staticmethod
    def _stall_tol(theta: float) -> float:
        """A realisation is new for the master when its ``Q(x, xi)`` exceeds the master's
        ``theta`` by more than this (a relative 1e-6)."""
        return 1e-6 * max(1.0, abs(theta))

    def _sorted(self, x: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """The budget set's maximiser of the forecast's LP gradient at ``x`` (per bus and
        renewable unit its best ``Gamma`` hours, a sort:
        :func:`~feederopt.algorithms.policy_bound.maximise_linear`; on the aggregate-ratio set
        a binary point near the band's LP maximum)."""
        d = self.d
        grad = self._recourse(x).solve(nominal(d)).gradient
        return maximise_linear(d, {g: v.reshape(d.hours, -1) for g, v in grad.items()})[1]

    def _past_stall(self, x: dict[str, np.ndarray], wc: WorstCase, q_star: float,
                    sub_ub: float, theta: float, milp_only: bool, master_s: float,
                    notes: list[str]) -> tuple[WorstCase, float, float]:
        """The subproblem stopped at its time limit with an incumbent whose ``Q(x, xi)`` is not
        above the master's ``theta`` (seen on a 24 h net with a transformer tap, where the
        policy bound is off: the forecast itself, and C&CG stopped on "worst case repeated"
        with most of the time unused while every load +15 % at three peak hours cost more).
        Search on, in order, until a realisation above ``theta`` turns up:

        1. mountain climbing (:func:`~feederopt.algorithms.worst_climb.climb`) from the
           subproblem's incumbent and from the sort of the forecast's LP gradient
           (:meth:`_sorted`; from the forecast, climbing's first step is that sort);
        2. without the policy bound (``milp_only``: the MILP's bound is the only upper
           bound), the subproblem again with more time: the time left less the last
           master's time, at least half the time left, when that is more than 1.5 times
           what it had; its dual bound tightens the upper bound (the smaller of two valid
           bounds).

        Returns the worst case (unchanged when nothing better turned up), its ``Q(x, .)``
        and the upper bound on ``max_xi Q(x, xi)``."""
        d = self.d
        tol = self._stall_tol(theta)
        sort = self._sorted(x)
        # from the forecast, climbing's first step is the sort: climb from the sort alone
        forecast = not any(v.any() for v in wc.xi.values())
        cands = [] if forecast and sort is not None else [wc.xi]
        if sort is not None and not all(np.array_equal(sort[g], wc.xi[g]) for g in UNCERTAIN):
            cands.append(sort)
        q_c, xi_c, climbed = self._climbed(x, cands)
        notes.append(f"iteration {self.iteration}: the subproblem's incumbent ({q_star:.6g} $) "
                     f"is not above the master's theta ({theta:.6g} $): mountain climbing "
                     f"from it and from the sort of the forecast's LP gradient: {climbed}")
        if xi_c is not None and q_c > q_star:  # a worse realisation at x (maybe in the master)
            wc, q_star, sub_ub = (WorstCase(xi_c, q_c, wc.bound, False, wc.big_m, wc.solve_s),
                                  q_c, max(sub_ub, q_c))
        if q_star > theta + tol:
            return wc, q_star, sub_ub
        left = self.remaining()
        extra = max(left - master_s, left / 2)
        if not milp_only or extra < 1.5 * max(wc.solve_s, 1.0):
            return wc, q_star, sub_ub
        self.phase(f"worst-case search {self.iteration} (MILP, longer)")
        try:
            again = worst_case(d, x, dual_bound=self.dual_bound, time_limit_s=extra)
        except SolverError:
            notes.append(f"iteration {self.iteration}: the longer subproblem ({extra:.1f} s) "
                         "found no worst case")
            return wc, q_star, sub_ub
        q_a = self._q(x, again.xi)[0]
        bound = max(again.value, q_a) if again.optimal else max(again.bound, q_a)
        sub_ub = max(min(sub_ub, bound), q_star, q_a)
        notes.append(f"iteration {self.iteration}: the subproblem again with {extra:.1f} s: "
                     f"{'optimal' if again.optimal else 'time limit'}, Q at its incumbent "
                     f"{q_a:.6g} $, dual bound {again.bound:.6g} $")
        if q_a > q_star:
            return (WorstCase(again.xi, q_a, min(wc.bound, again.bound), again.optimal,
                              again.big_m, wc.solve_s + again.solve_s), q_a, sub_ub)
        return wc, q_star, sub_ub

    def run(self) -> ScheduleSolution:
        d = self.d
        notes: list[str] = []
        xis, active, best = self._start(notes)
        first = tuple(d.first_stage_groups())
        start = None
        fell_back = False  # the master found nothing in time: the radial start is the schedule
        unsearched = False  # the schedule's worst case was not searched (forecast only)
        cut = False  # the last master stopped at its time limit (the run ends after it)
        # the incumbent's UB is the MILP subproblem's dual bound at its time limit (unproven)
        milp_ub_open = False
        # the start's recourse at (x0, xi0) as a master point: the loss tangents it needs are
        # in the first master from the beginning (case33bw: one solve instead of two)
        hints = []
        if best is not None:
            x0, wc0 = best
            y0 = self._q(x0, wc0.xi)[1]
            hints = [_with_copy({**x0, "theta": np.array([wc0.value])}, active[-1], y0,
                                wc0.value, first)]
        while True:
            self.iteration += 1
            self.phase(f"master {self.iteration}")
            # with an incumbent the master leaves time to evaluate its own first stage should
            # it stop at its limit (ut_sched2 #4): a cut master's incumbent is a radial first
            # stage too, often better than the one the run holds
            reserve = self._reserve() if best is not None else 0.0
            if milp_ub_open:
                # the incumbent's UB is the MILP subproblem's unproven bound: half the time
                # left stays for that subproblem at the incumbent (_final_search; user test
                # ut49_sched #1: the second master used the rest of the limit and the bound
                # 664.55 $ of a 10 s subproblem stood against a worst case of 1.63 $)
                reserve = max(reserve, 0.5 * self.remaining())
            try:
                lm = solve_lazy_master(d, xis, active, max(self.remaining() - reserve, 1.0),
                                       min(self.stop.gap / 4, 1e-4), start, rows_from=hints,
                                       q_of=self._q)
                sol, vals, master_s, active = lm.sol, lm.vals, lm.seconds, lm.active
                if lm.added:
                    notes.append(f"iteration {self.iteration}: recourse copies activated "
                                 f"lazily: realisations {lm.added} (0 the forecast); "
                                 f"{lm.solves} master solves")
            except SolverError as exc:
                if best is None:
                    if not isinstance(exc, MasterTimeLimit):
                        raise
                    # no incumbent yet (no policy bound at the start): the radial start is
                    # the schedule, its worst case unknown (no upper bound)
                    self.update_lower(exc.bound)
                    rs = self._x0 or _fallback_start(d, self.stop.time_limit_s, exc,
                                                     _fallback_budget(self.stop.time_limit_s))
                    if rs.lp is not None and rs is not self._x0:
                        # its LP at the forecast, solved: the evaluations at x start there
                        self._lps = [(rs.x, rs.lp), *self._lps][: self.RECOURSE_LPS_KEPT]
                    q_nom = self._q(rs.x, xis[0])[0]
                    best = (rs.x, WorstCase(xis[0], q_nom, math.inf, False, self.dual_bound,
                                            0.0))
                    fell_back = unsearched = True
                    notes.append(f"iteration {self.iteration}: the master found no solution "
                                 + stop_cause("within the time limit", "before the stop request")
                                 + ": the schedule is the radial start "
                                 f"({rs.how}), without an upper bound (its worst case not "
                                 "searched)")
                    break
                notes.append(f"iteration {self.iteration}: the master found no solution "
                             + stop_cause("within the time left", "before the stop request"))
                break
            self.update_lower(float(sol.bound))
            if self.remaining() <= 0 and best is not None:
                # the master used the time left: its bound counts, its first stage is not
                # evaluated (the policy bound, climbing and the subproblem would run past the
                # deadline); the incumbent stays
                notes.append(f"iteration {self.iteration}: "
                             + stop_cause("the time limit passed", "the stop request came")
                             + " in the master; its first stage is not evaluated, the "
                             "incumbent stays")
                break
            x = _first_stage(d, vals)
            # a master cut at its limit (time-limited, not proven): its incumbent's first stage
            # is evaluated in the time held back (policy bound and climbing only), kept when
            # its upper bound beats the incumbent's, and the run ends
            cut = best is not None and sol.status == SolverStatus.TIME_LIMIT
            if cut and best is not None and _same_first_stage(x, best[0]):
                notes.append(f"iteration {self.iteration}: the master stopped "
                             + stop_cause("at its time limit", "on the stop request")
                             + " at the incumbent's first stage; the incumbent stays")
                break
            theta = float(np.ravel(vals["theta"])[0])  # the master's max_e Q(x, xi_e)
            start = vals
            c1 = _first_stage_cost(d, x)
            # the policy bound first (cheap, module policy_bound): a valid UB on max_xi Q
            # when the policy is proven feasible; its maximiser is a candidate worst case
            self.phase(f"policy bound {self.iteration}")
            t_eval = time.perf_counter()
            q_nom, y_nom = self._q(x, xis[0])
            pb = policy_bound(d, x, closed_by_hour(d, x), y_nom, q_nom)
            # the worse of its two candidates after mountain climbing (module worst_climb)
            q_pb, pb_xi, climbed = self._climbed(x, (pb.xi, pb.xi_first_order))
            if pb_xi is not None:
                notes.append(f"iteration {self.iteration}: mountain climbing from the policy "
                             f"bound's candidates: {climbed}")
            if pb.value is not None and pb_xi is not None and self._time_for(pb.solve_s):
                # the same policy around the storage and EV schedule of the worst case found
                # (a feasible recourse at the forecast too): near that worst case it keeps
                # the LP's own storage response (24 h case69bw at x0: 5.466 $ against 5.496 $)
                pbc = centred_policy_bound(d, x, pb_xi, self._recourse(x))
                if pbc.value is not None and pbc.value < pb.value:
                    notes.append(f"iteration {self.iteration}: the policy around the worst "
                                 f"case's storage schedule: {pbc.value:.6g} $ (around the "
                                 f"forecast's {pb.value:.6g} $)")
                    pb = pbc
            self._eval_s = time.perf_counter() - t_eval
            pb_ub = max(pb.value, q_pb) if pb.value is not None else math.inf
            source = "policy"
            if cut and (pb.value is None or pb_xi is None):
                notes.append(f"iteration {self.iteration}: the master stopped "
                             + stop_cause("at its time limit", "on the stop request")
                             + "; its first stage has no policy bound "
                             f"({pb.reason or 'no realisation'}), so no upper bound: the "
                             "incumbent stays")
                break
            # (not on the aggregate-ratio set: the policy's MILP maximum is built over the
            # temporal budget set)
            if pb.terms is not None and d.aggregate is None and not cut \
                    and not self._closes(c1 + pb_ub):
                # the policy's maximum (module policy_max): one MILP when it is small enough
                # to converge, otherwise by hours (Lagrangian relaxation of the budgets)
                cap = min(self.remaining(), self.POLICY_MAX_SHARE * self.stop.time_limit_s)
                how, pm = "none", None
                if cap >= 1.0:
                    self.phase(f"policy maximum {self.iteration}")
                    starts = [v for v in (pb.xi, pb.xi_first_order, pb_xi) if v is not None]
                    how, pm = policy_max_auto(d, pb.terms, cap, starts,
                                              self.POLICY_ONE_MILP_BINARIES)
                if pm is not None:
                    notes.append(f"iteration {self.iteration}: the policy's maximum {how}: "
                                 f"{pm.status}, bound {pm.bound:.6g} $, best {pm.value:.6g} $ "
                                 f"(linear {pb.value:.6g} $; {pm.columns} + {pm.segments} "
                                 f"binaries, {pm.solve_s:.1f} s)")
                    pb_ub = max(min(pb_ub, pm.bound), q_pb)
                    if pm.xi is not None:
                        q_pm = self._q(x, pm.xi)[0]
                        if q_pm > q_pb:
                            q_pb, pb_xi, pb_ub = q_pm, pm.xi, max(pb_ub, q_pm)
            if pb_xi is not None and (self._closes(c1 + pb_ub) or (
                    (self.remaining() <= 0 or cut) and pb.value is not None)):
                # the policy bound closes the gap (or the deadline passed, or the master was
                # cut: the policy bound is the UB, no MILP subproblem past the limit)
                if not self._closes(c1 + pb_ub) and not cut:
                    notes.append(f"iteration {self.iteration}: "
                                 f"{stop_cause('time limit', 'stopped')}: no MILP "
                                 "subproblem, the policy bound is the upper bound")
                wc = WorstCase(pb_xi, q_pb, pb_ub, True, self.dual_bound, pb.solve_s)
                q_star, sub_ub = q_pb, pb_ub
            else:
                found: WorstCase | None
                self.phase(f"worst-case search {self.iteration} (MILP)")
                try:
                    cap = self.sub_time_s if pb.value is None else min(
                        self.sub_time_s, max(self.POLICY_SUB_MIN_S,
                                             self.POLICY_SUB_SHARE * self.stop.time_limit_s))
                    found = worst_case(d, x, dual_bound=self.dual_bound,
                                       time_limit_s=max(min(self.remaining(), cap), 1.0))
                except SolverError:
                    found = None
                if found is None and pb_xi is None:
                    # mountain climbing from the sort of the forecast's LP gradient: a
                    # realisation for the master even without a subproblem incumbent
                    q_c, xi_c, climbed = self._climbed(x, [self._sorted(x)])
                    if xi_c is not None and q_c > theta + self._stall_tol(theta):
                        notes.append(f"iteration {self.iteration}: the subproblem found no "
                                     "worst case in its time; mountain climbing from the "
                                     f"sort of the forecast's LP gradient: {climbed} (no "
                                     "upper bound from this iteration)")
                        found = WorstCase(xi_c, q_c, math.inf, False, self.dual_bound, 0.0)
                if found is None and pb_xi is None:
                    if best is not None:
                        notes.append(f"iteration {self.iteration}: the subproblem found no "
                                     "worst case " + stop_cause("within the time left",
                                                                "before the stop request"))
                        break
                    # no worst case at all: the forecast's value, and no valid upper bound
                    notes.append("the subproblem found no worst case "
                                 + stop_cause("within the time limit", "before the stop request")
                                 + ": the schedule is the first master's, without an upper "
                                 "bound")
                    wc = WorstCase(xis[0], q_nom, math.inf, False, self.dual_bound, 0.0)
                    best = (x, wc)
                    unsearched = True
                    break
                if found is None:
                    notes.append(f"iteration {self.iteration}: the MILP subproblem found no "
                                 "worst case " + stop_cause("within the time left",
                                                            "before the stop request")
                                 + "; the policy's is used")
                    wc = WorstCase(pb_xi or xis[0], q_pb, math.inf, False, self.dual_bound,
                                   pb.solve_s)
                    q_star = q_pb
                else:
                    wc = found
                    if not wc.optimal:
                        notes.append(f"iteration {self.iteration}: the subproblem stopped "
                                     + stop_cause("at its time limit", "on the stop request")
                                     + f" (dual bound {wc.bound:.6g} $)")
                    # the LP at the worst case found: a check of the dual (the larger of the
                    # two is the worst case's value; a truncating M would show as LP > MILP)
                    q_star, _ = self._q(x, wc.xi)
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
                if not wc.optimal and q_star <= theta + self._stall_tol(theta) \
                        and not self._closes(c1 + sub_ub):
                    # the subproblem stopped at its limit with a realisation that the master
                    # already covers (often its start, the forecast), and the gap is open:
                    # search on before C&CG would call it a repeat
                    wc, q_star, sub_ub = self._past_stall(x, wc, q_star, sub_ub, theta,
                                                          pb.value is None, master_s, notes)
            notes.append(f"iteration {self.iteration}: UB from the {source} bound "
                         f"({sub_ub:.6g} $; policy: "
                         + (f"{pb.value:.6g} $, Q at its worse candidate {q_pb:.6g} $)"
                            if pb.value is not None else f"not used, {pb.reason})"))
            ub = c1 + sub_ub
            kept = self.update_upper(ub)
            if kept or best is None:
                best = (x, wc)
                milp_ub_open = source == "MILP" and not wc.optimal
            if cut:
                notes.append(f"iteration {self.iteration}: the master stopped "
                             + stop_cause("at its time limit", "on the stop request")
                             + "; its incumbent's first stage, evaluated in the time held "
                             f"back, has UB {ub:.6g} $ (policy bound): "
                             + ("it is the schedule" if kept else
                                "the earlier schedule's UB is lower, that one stays"))
            dev = int(sum(v.sum() for v in wc.xi.values()))
            self.record(master_s, wc.solve_s, f"worst case: {dev} deviations; UB from "
                        f"the {source} bound")
            self.iters.append(CcgIteration(self.iteration, self.lower, self.upper, self.gap,
                                           master_s, wc.solve_s, wc.value, dev, self.elapsed))
            if self.should_stop() or cut:
                break
            if any(all(np.array_equal(xi[g], wc.xi[g]) for g in UNCERTAIN) for xi in xis) \
                    or (not wc.optimal and q_star <= theta + self._stall_tol(theta)):
                # the worst case is already covered by the master: with a subproblem solved to
                # optimality LB >= Q*(x) and the gap closes; after a time-limited one (and the
                # search of _past_stall) this is only a stop rule, nothing is proven
                notes.append("worst case repeated" + ("" if wc.optimal else
                             ": no realisation above the master's theta at this first stage "
                             "was found (subproblem "
                             + stop_cause("at its time limit", "stopped by the request")
                             + ", mountain climbing"
                             + (", a longer subproblem" if pb.value is None else "")
                             + "); a stop rule, not a proof: the gap stays open"))
                break
            xis.append(wc.xi)
            # only the new copy starts active: the earlier ones are checked lazily (and
            # activated when violated), so a master that one copy decides is a one-copy MILP
            active = [len(xis) - 1]
            q_new, y_new = self._q(x, wc.xi)
            start = _with_copy({**vals, **x}, len(xis) - 1, y_new, q_new, first)
        if best is None:
            raise SolverError("C&CG ended without a schedule")
        if milp_ub_open and not fell_back:
            best = self._final_search(best, notes)
            milp_ub_open = not best[1].optimal
        self.record_if_moved("final bounds")  # a stop after a bound moved: the log ends on it
        x, wc = best
        # the run's other realisations at x too, while time is left (each one LP)
        others = xis if self.remaining() > 0 else []
        if not others and len(xis) > 1:
            notes.append(f"{stop_cause('time limit', 'stopped')}: the realisations of the "
                         "other iterations were not re-evaluated at the schedule's first stage "
                         "(the worst case found is its own subproblem's)")
        worst_xi, worst_cost, worst_point = _worst_found_at(x, [wc.xi, *others], notes,
                                                            self._q)
        nom_cost, nom_point = self._q(x, nominal(d))
        status = self.final_status(True)
        if fell_back or (cut and status == Status.FEASIBLE):
            # a master cut at its limit ended the run, inside the time held back
            status = Status.TIME_LIMIT
        # other realisations evaluated at x (the run's earlier ones) are a worst case found
        searched = not unsearched or len(others) > 1
        # no bound proven by the master in time (-inf): the model's own floor, every cost
        # term a price >= 0 on a quantity >= 0 (cost_floor: 0), as the deterministic
        # schedule reports it (user test ut45_sched #8: "-inf (gap -)" against "0.0000 $")
        floor = cost_floor(d)
        if floor > self.lower:
            notes.append(f"lower bound {floor:g} $: the master proved none in time; every cost "
                         "term of the schedule is a non-negative price on a non-negative "
                         "quantity, so no schedule costs less")
        lower = max(self.lower, floor)
        c1 = _first_stage_cost(d, x)
        milp_bound = milp_ub_open and self.upper > c1 + worst_cost + 1e-6 * max(1.0, abs(
            worst_cost))
        if milp_bound:
            notes.append(
                f"the objective, {self.upper:.6g} $, is the MILP worst-case subproblem's dual "
                "bound at its time limit (its McCormick relaxation, M = "
                f"{self.dual_bound:g} $/MWh), not a cost of this schedule: no recourse policy "
                "bound held and the subproblem did not finish; the worst case found at the "
                f"schedule costs {c1 + worst_cost:.6g} $, and the exact worst-case cost lies "
                "between the two (a longer --time-limit tightens the bound)")
        return ScheduleSolution(
            status, "ccg", self.upper, lower, _rel_gap(self.upper, lower), closed_by_hour(d, x),
            x["z"],
            nom_point, nom_cost, worst_point, worst_xi, worst_cost, _first_stage_cost(d, x),
            self.iters, self.elapsed, len(active), notes, x.get("u"), worst_searched=searched,
            objective_is_milp_bound=milp_bound)

    #: seconds kept for the final evaluations (the realisations at the schedule, the
    #: forecast) when the subproblem gets the time left (:meth:`_final_search`)
    FINAL_EVAL_S = 2.0

    def _final_search(self, best: tuple[dict[str, np.ndarray], WorstCase], notes: list[str]
                      ) -> tuple[dict[str, np.ndarray], WorstCase]:
        """The MILP subproblem at the schedule's first stage again, with the time left, when
        the run's UB is that subproblem's unproven dual bound (user test ut49_sched #1: with
        the aggregate set and no policy bound the subproblem stopped at its 10 s cap, bound
        664.55 $, and the run ended 21 s into a 45 s limit). Its bound (or optimum) lowers
        the UB when smaller; a worse realisation replaces the worst case found."""
        x, wc = best
        left = self.remaining() - self.FINAL_EVAL_S
        if left < 1.0 or interrupt.requested():
            return best
        self.phase("worst-case search at the schedule (MILP, the time left)")
        try:
            again = worst_case(self.d, x, dual_bound=self.dual_bound, time_limit_s=left)
        except SolverError:
            return best
        q_old = self._q(x, wc.xi)[0]
        q_new = self._q(x, again.xi)[0]
        value = max(q_old, q_new)
        sub_ub = max(again.value if again.optimal else again.bound, value)
        c1 = _first_stage_cost(self.d, x)
        lowered = self.update_upper(c1 + sub_ub)
        notes.append(f"the subproblem at the schedule's first stage again, with the time left "
                     f"({left:.1f} s): " + ("optimal" if again.optimal else "stopped at its "
                     "time limit") + f", bound {again.bound:.6g} $, worst case {q_new:.6g} $"
                     + (f"; UB {c1 + sub_ub:.6g} $" if lowered else "; the UB stays"))
        xi = again.xi if q_new > q_old else wc.xi
        return x, WorstCase(xi, value, sub_ub, again.optimal, wc.big_m,
                            wc.solve_s + again.solve_s)


def _same_first_stage(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Do two first stages (topology, storage modes, commitment) agree, within 1e-6?"""
    return a.keys() == b.keys() and all(
        np.allclose(np.asarray(a[g], float), np.asarray(b[g], float), atol=1e-6) for g in a)


def _worst_found_at(x: dict[str, np.ndarray], xis: list[dict[str, np.ndarray]],
                    notes: list[str], q_of: QOf
                    ) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray]]:
    """The worst case found *at the returned first stage* ``x``: ``max_e Q(x, xi_e)`` over the
    realisations of the run (``xis[0]`` the subproblem's one at ``x``, then the master's copies,
    found at other first stages), each the second-stage LP at ``x``. Each value is a cost
    ``x`` really meets in the budget set, so ``c1(x) + max_e Q(x, xi_e) <= c1(x) + max_xi
    Q(x, xi) <= UB``: the pair brackets the schedule's exact worst case. The values of the
    C&CG log (``worst_value``) are each at its own iteration's first stage and bracket
    nothing about ``x`` (ut_sched2 #2: the console printed iteration 1's 39,187.96 $ at
    ``x1`` beside the final ``x2``, whose worst case found was 38,706.34 $). ``q_of(x, xi)``
    is ``(Q(x, xi), recourse)`` (:meth:`ColumnConstraintGeneration._q`: one LP at ``x``)."""
    q0, point0 = q_of(x, xis[0])
    best = (xis[0], q0, point0)
    seen = [xis[0]]
    for xi in xis[1:]:
        if any(all(np.array_equal(xi[g], o[g]) for g in UNCERTAIN) for o in seen):
            continue
        seen.append(xi)
        q, point = q_of(x, xi)
        if q > best[1] + 1e-9 * max(1.0, abs(best[1])):
            best = (xi, q, point)
    if best[0] is not xis[0]:
        notes.append(f"the worst case found at the schedule's first stage is a realisation "
                     f"found at another iteration's first stage ({best[1]:.6g} $ here, against "
                     f"{q0:.6g} $ at the subproblem's own realisation)")
    return best


def solve_ccg(d: ScheduleData, *, gap: float = 1e-4, time_limit_s: float = 600.0,
              iteration_limit: int = 50, dual_bound: float = 2e3,
              sub_time_s: float = math.inf,
              progress: ProgressCallback | None = None) -> ScheduleSolution:
    """Two-stage robust schedule by C&CG (module docstring); ``sub_time_s`` caps each
    subproblem. ``progress`` gets a :class:`~feederopt.solvers.status.PhaseRecord` as each
    phase starts (start, master k, policy bound k, policy maximum k, worst-case search k) and
    an :class:`~feederopt.solvers.status.IterationRecord` (LB, UB, gap) after each iteration;
    the last record holds the result's bounds."""
    stop = StopOptions(gap=gap, time_limit_s=time_limit_s, iteration_limit=iteration_limit)
    return ColumnConstraintGeneration(d, stop, dual_bound=dual_bound,
                                      sub_time_s=sub_time_s, progress=progress).run()


def _rel_gap(ub: float, lb: float) -> float:
    if not (math.isfinite(ub) and math.isfinite(lb)):
        return math.inf
    return max(ub - lb, 0.0) / max(abs(ub), 1e-9)


__all__ = ["ColumnConstraintGeneration", "MasterTimeLimit", "ScheduleSolution", "evaluate",
           "extreme_points", "solve_ccg", "solve_deterministic", "solve_extensive",
           "worst_case"]
