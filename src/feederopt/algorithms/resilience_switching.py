"""The second phase of a restoration or of a plan's scenario operations: the fewest switch
changes from the normal state at the first phase's shed, then the set-points of the backup DGs
that form islands (``docs/resilience.md``, "Second phase").

The first phase (:func:`feederopt.algorithms.resilience.restore`, a plan's recourse) minimises
the shed load. Its optimum is seldom unique: on case33bw with the normally open tie 37 broken,
the normal topology sheds nothing, and so do many others; HiGHS returned one that opens lines
11, 13 and 16 and closes the ties 34, 35 and 36, six needless operations. And in an island
formed by a backup DG, the DG's voltage is free within the band: an LP vertex put it at
0.951 p.u. on the tester's 9-bus net, so that a bus of the island sat on ``v_min`` and the AC
check reported it below. The second phase is lexicographic (Ehrgott, *Multicriteria
Optimization*, 2nd ed., Springer 2005, sec. 5.1):

1. **Fewest switch changes** (a MILP, :func:`~feederopt.formulations.resilience.
   second_phase_block`): the first phase's weighted and plain shed (and, when priced, its
   closed lines and disconnected elements) become upper bounds, within :data:`TOL_KW`; the
   objective counts the working lines whose state differs from the normal one. It starts
   from the first phase's topology (its operation re-solved with the lines fixed), so it is
   never worse than the first phase; stopped at its time limit it keeps the fewest found.
   The chosen topology is then re-solved with the first phase's shed costs (an LP, every
   binary fixed, the shed rows freed): within :data:`TOL_KW` the MILP's vertex may shed a
   little more for nothing, and the LP's vertex on those rows did (user test ut43_resil #7).
   An LP that HiGHS's presolve calls infeasible is solved again without presolve
   (:func:`_fixed_solve`; ut43_resil #1).
2. **Dispatch of the DGs fed from a source** (two LPs, the topology, every binary, the shed
   and the island DGs fixed): the largest least margin from the model's voltage and line
   limits (:func:`~feederopt.formulations.resilience.margin_rows`, the max-min margin), then
   at that margin (to :data:`MARGIN_TOL`) the least model losses ``sum r (P^2 + Q^2)``
   (:func:`~feederopt.formulations.resilience.loss_rows`). Before, such a DG kept the first
   phase's dispatch, any point of the optimal face: at 222.87 of 300 kW on the tester's own8
   with line:8 at its rating, 100.38 % in AC (user test ut47_resil #1). It runs also when
   no switch changes: only an operation with no switch to change and no DG sited skips the
   phase (ut49_resil #1: own9 with an open tie broken kept 158.23 of 300 kW, AC V_min
   0.94837 p.u.).
3. **Island set-points** (an LP, the topology, every binary and the shed fixed): each sited
   DG that no closed path joins to a source forms its island; ``sum |U_b - U_ref,b|`` over
   their buses is minimised (:func:`~feederopt.formulations.resilience.island_reference`:
   the sources' set-point within the band). A DG fed from a source keeps its dispatch of
   step 2.

After the AC check (and its loss reserve), a dead part's lines are put back at their normal
state (:func:`dead_at_normal`): they carry nothing and need no operation.

The shed never grows beyond the solver's tolerance (:func:`shed_growth_tol_kw`, at least
1e-3 kW): a result that would is dropped for the first phase's operation (checked after the
solve, not only by the rows); a smaller difference is numerical and the result is kept. The
LPs (the start, the least shed, the set-points) are not cut short, as the start of
:func:`feederopt.algorithms.resilience._solve_from` is not; the MILP of step 1 keeps to its
time. A stop request (Ctrl-C, SIGTERM) ends the phase: the first phase's operation stays
(:data:`INTERRUPTED`), and the run is ``interrupted`` (:func:`run_status`).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from feederopt.algorithms.resilience import MIP_GAP, Operation, PlanOutcome, _cost, _operation
from feederopt.formulations.blocks import Block
from feederopt.formulations.resilience import (
    DEVIATION,
    LOSS,
    MARGIN,
    FirstPhase,
    RadialityKind,
    generator_buses,
    loss_costs,
    shed_costs,
    shunt_buses,
    switch_changes,
)
from feederopt.problems.resilience import ResilienceProblem, Scenario, reachable
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.status import SolverStatus, Status

#: The first phase's shed (weighted and plain) may grow by at most this in the second [kW]:
#: above HiGHS's primal feasibility tolerance (1e-7 on rows in kW), far below a printed digit.
TOL_KW = 1e-6

#: The least margin of the losses' step may fall short of the largest by this (a share of
#: the limits, :func:`~feederopt.formulations.resilience.margin_rows`): HiGHS's tolerance.
MARGIN_TOL = 1e-6

#: The least growth of the shed [kW] that counts as the second phase shedding more
#: (:data:`SHED_GROWS`, :func:`shed_growth_tol_kw`), and its share of the total load: the
#: shed compared is a solver's vertex, feasible to HiGHS's primal feasibility tolerance
#: (1e-7 per unit, 1e-4 kW at a 1 MVA base, on every row the shed passes through), so the
#: first phase's MILP may report a shed a few 1e-6 kW below its topology's least (7e-6 kW:
#: a numerical difference, once reported as a possible saving of switch operations).
SHED_GROWS_MIN_KW, SHED_GROWS_SHARE = 1e-3, 1e-6

#: The second phase's time cap per operation [s]: this, or the first phase's own time when
#: longer, and never past the run's time limit.
SECOND_PHASE_CAP_S = 5.0

#: ``Operation.switching``: the second phase proved the fewest switch changes (or the first
#: phase already made none), or stopped at its time cap with the fewest found.
FEWEST, TIME_LIMIT = "fewest", "time_limit"

#: ``Operation.switching`` when the first phase's operation stays, one value per cause:
#: no time was left for the second phase (``NO_TIME``), the run was interrupted (Ctrl-C,
#: SIGTERM, before or during the second phase: ``INTERRUPTED``; the run's status is then
#: ``interrupted``, :func:`run_status`), the first phase's topology or the chosen one could not be
#: re-solved within the first phase's shed (an LP without a solution: ``NOT_RESOLVED``), or
#: the second phase's answer would shed more than the first phase's by more than
#: :func:`shed_growth_tol_kw` (``SHED_GROWS``; was ``2 TOL_KW`` = 2e-6 kW, below the
#: solver's feasibility tolerance). Before (smalls41), all four were ``"first_phase"``, and
#: the note said "no time was left" for each.
NO_TIME, INTERRUPTED, NOT_RESOLVED, SHED_GROWS = (
    "first_phase_no_time", "first_phase_interrupted", "first_phase_not_resolved",
    "first_phase_shed_grows")
FIRST_PHASE_KEPT = (NO_TIME, INTERRUPTED, NOT_RESOLVED, SHED_GROWS)


def run_status(status: str, ops: list[Operation]) -> str:
    """The status of a restoration or plan whose operations ``ops`` went through the second
    phase: ``interrupted`` when a stop request (Ctrl-C, SIGTERM) ended the second phase of
    any of them (:data:`INTERRUPTED`), else ``status``. A first phase proven ``optimal``
    keeps its shed, bound and gap, but its switch operations are not the fewest that the
    run was asked for, and the stop was the user's: README "Interruption" (exit code 130 or
    143). Before (user test ut41_recheck_b #A), such a run ended ``optimal``, exit 0."""
    if any(op.switching == INTERRUPTED for op in ops):
        return Status.INTERRUPTED.value
    return status


def shed_growth_tol_kw(problem: ResilienceProblem) -> float:
    """How much more [kW] the second phase's answer may shed than the first phase's before
    it is dropped (:data:`SHED_GROWS`): ``max(1e-3 kW, 1e-6 P_total)``, ``P_total`` the
    load of every bus [kW] (:data:`SHED_GROWS_MIN_KW`, :data:`SHED_GROWS_SHARE`). Both
    sheds are vertices that HiGHS holds to its primal feasibility tolerance (1e-7 p.u. a
    row; HiGHS documentation, ``primal_feasibility_tolerance``), so a smaller difference is
    numerical, not a shed that the fewer switch operations cost; it is far below a printed
    digit (0.01 kW)."""
    total_kw = float(np.abs(np.asarray(problem.grid.p_load, float)).sum()) * problem.kw_per_pu
    return max(SHED_GROWS_MIN_KW, SHED_GROWS_SHARE * total_kw)


def second_phase_limit(left_s: float | None, first_s: float) -> float:
    """The second phase's time [s]: :data:`SECOND_PHASE_CAP_S` or the first phase's time
    ``first_s``, the longer, within the time ``left_s`` of the run's limit (None: none)."""
    cap = max(SECOND_PHASE_CAP_S, float(first_s))
    return cap if left_s is None else min(cap, max(float(left_s), 0.0))


def fewest_switches(problem: ResilienceProblem, broken: tuple[int, ...], sites: np.ndarray | None,
                    op: Operation, *, keep_closed: bool, time_limit_s: float) -> Operation:
    """The operation ``op`` (the first phase's, with ``broken`` lines out of service and DGs
    at ``sites``) after the second phase (module docstring), within ``time_limit_s``.
    ``keep_closed``: a switching penalty prices each closed line, so their number may not
    grow. Returns ``op`` itself (``switching`` set: :data:`FEWEST`, or one of
    :data:`FIRST_PHASE_KEPT` naming why the second phase's answer is not taken) when there is
    nothing to do, no time, an LP without a solution, a stop request (Ctrl-C, SIGTERM) or
    an answer that would shed more; the status, objective and bound stay the first phase's
    (the shed is the same, to :func:`shed_growth_tol_kw`), ``solve_time_s`` is both phases'
    in every case (the first phase's plus this call's).

    A stop request is looked for before the phase and after each of its solves: a solve
    that the request stopped has no solution or not the fewest (HiGHS stops an LP of
    synthetic500 within a second), which is not a failure of the second phase but the
    request, so the cause is :data:`INTERRUPTED` (before, user test ut41_recheck_b #A,
    :data:`NOT_RESOLVED`: "an LP of it had no solution", and the run ended ``optimal``,
    exit 0)."""
    t0 = time.perf_counter()

    def kept(cause: str) -> Operation:
        """``op`` with the cause ``cause``, its time both phases'."""
        return replace(op, switching=cause,
                       solve_time_s=op.solve_time_s + time.perf_counter() - t0)

    g = problem.grid
    site = np.zeros(len(g.dg_bus)) if sites is None else np.asarray(sites, float)
    stopped = interrupt.requested()
    if stopped or time_limit_s < 0.01:
        # no time: the block is not built (its build, about 10 ms a scenario on case33bw,
        # ran a plan of 400 scenarios 4 s past its limit); the lines it may switch are those
        # neither out of service nor without a switch
        movable = np.ones(g.m, bool) if g.no_switch is None else ~np.asarray(g.no_switch, bool)
        movable[np.asarray(broken, int)] = False
        changes = switch_changes(g, op.closed, np.zeros(g.m), movable.astype(float))
        done = changes == 0 and not np.any(site > 0.5)
        return kept(FEWEST if done else INTERRUPTED if stopped else NO_TIME)
    first = FirstPhase(op.weighted_shed_pu, float(np.sum(op.shed_load_pu)),
                       float(np.count_nonzero(op.closed > 0.5)) if keep_closed else None,
                       float(len(op.gen_off) + len(op.shunt_off)))
    blk = problem.second_phase_block(broken, site, first, TOL_KW)
    v = blk.groups["v"]
    changes = switch_changes(g, op.closed, v.lb, v.ub)
    if changes == 0 and not np.any(site > 0.5):
        # nothing to do: no switch to change and no backup DG to dispatch (a DG fed from a
        # source needs step 2 even when no switch changes: user test ut49_resil #1, where
        # it kept the first phase's 158.23 of 300 kW and the AC check broke v_min)
        return kept(FEWEST)
    deadline = t0 + time_limit_s
    model = HighsModel(blk)
    model.set_gap(MIP_GAP)
    # the first phase's topology, its operation re-solved (an LP in effect): the start
    start = {"v": np.round(op.closed)}
    if problem.settings.radiality is RadialityKind.FOREST:
        start.update(orientation(problem, op.closed, site))
    values = _fixed_solve(model, blk, start)
    if interrupt.requested():
        return kept(INTERRUPTED)
    if values is None:  # its own topology does not reach its shed again
        return kept(NOT_RESOLVED)
    status = FEWEST
    if changes:
        model.warm_start(values)
        model.set_time_limit(max(deadline - time.perf_counter(), 0.01))
        sol = model.solve()
        if interrupt.requested():  # the MILP stopped by the request: not the fewest
            return kept(INTERRUPTED)
        if sol.has_solution:
            values = model.values()
        if sol.status != SolverStatus.OPTIMAL:
            status = TIME_LIMIT
    # the least shed of the chosen topology (an LP, every binary fixed): within TOL_KW the
    # MILP's vertex may shed a little more for nothing. The rows that keep the shed within
    # TOL_KW of the first phase's are freed for it: the LP's vertex sat on them, 1e-6 kW
    # above the topology's least shed (1500.000001 kW for 1500 by hand, user test ut43_resil
    # #7); the check below (SHED_GROWS) holds the answer to the first phase's shed instead
    for rows in blk.rows:
        if rows.name in ("keep_weighted_shed", "keep_shed"):
            model.set_row_bounds(rows.name, -math.inf, math.inf)
    fixed = {name: np.round(values[name]) for name, grp in blk.groups.items() if grp.integer}
    model.set_costs({"shed": problem.kw_per_pu * shed_costs(g)})
    got = _fixed_solve(model, blk, fixed)
    if interrupt.requested():
        return kept(INTERRUPTED)
    if got is None:
        return kept(NOT_RESOLVED)
    values = got
    islands = island_dgs(problem, np.round(values["v"]), site)
    fed = (site > 0.5) & ~np.isin(g.dg_bus, islands)
    if fed.any():  # step 2: the dispatch of the DGs fed from a source, at the least losses
        fixed["shed"] = values["shed"]
        for name in ("pg", "qg"):
            fixed[name] = np.where(fed, np.nan, values[name])
        # lexicographic (module docstring): the largest least margin, then at that margin the
        # least losses; a model of its own (its rows would move the MILP's tolerances)
        dblk = problem.second_phase_block(broken, site, first, TOL_KW, dispatch=True)
        dmodel = HighsModel(dblk)
        for rows in dblk.rows:  # the shed is fixed at the least shed's (as freed above)
            if rows.name in ("keep_weighted_shed", "keep_shed"):
                dmodel.set_row_bounds(rows.name, -math.inf, math.inf)
        dmodel.set_costs({MARGIN: np.array([-1.0])})
        got = _fixed_solve(dmodel, dblk, fixed)
        if interrupt.requested():
            return kept(INTERRUPTED)
        if got is not None:
            mu = dblk.groups[MARGIN]
            dmodel.set_bounds(MARGIN, np.maximum(got[MARGIN] - MARGIN_TOL, 0.0), mu.ub)
            dmodel.set_costs({LOSS: loss_costs(g)})
            best = _fixed_solve(dmodel, dblk, fixed)
            if interrupt.requested():
                return kept(INTERRUPTED)
            values = got if best is None else best
    if len(islands):  # step 3: the island DGs' set-points, the shed and the rest as they are
        fixed["shed"] = values["shed"]
        free = np.isin(g.dg_bus, islands)  # a DG fed from a source keeps its dispatch
        for name in ("pg", "qg"):
            fixed[name] = np.where(free, np.nan, values[name])
        sited = g.dg_bus[site > 0.5]  # the order of the group DEVIATION
        model.set_costs({DEVIATION: np.isin(sited, islands).astype(float)})
        got = _fixed_solve(model, blk, fixed)
        if interrupt.requested():
            return kept(INTERRUPTED)
        if got is not None:
            values = got
    new = _operation(model, "", problem, op.status, op.objective, op.bound,
                     op.solve_time_s + time.perf_counter() - t0, values)
    tol = shed_growth_tol_kw(problem) / problem.kw_per_pu
    if new.weighted_shed_pu > op.weighted_shed_pu + tol or \
            float(np.sum(new.shed_load_pu)) > first.shed + tol:
        return kept(SHED_GROWS)
    # the shed-all fallback stays one: its shed is still every sheddable load, not the least
    return replace(new, switching=status, shed_all=op.shed_all)


def normal_operation(problem: ResilienceProblem, sites: np.ndarray | None,
                     radiality: RadialityKind, penalty_pu: float) -> Operation | None:
    """The restoration when no line is broken: the normal state (every line closed but the
    normally open ones, ``GridArrays.normally_open``) serving every load, nothing shed, no
    switch operation. Its flows, voltages and backup DGs' dispatch are those of the
    restoration's model (:meth:`ResilienceProblem.restore_block` with no line out: the
    big-M LinDistFlow of Zhang et al. 2020, eqs. (5b)-(5i)) with the lines fixed at the
    normal state (the forest radiality's orientation from the sources, :func:`orientation`)
    and every shed at 0: an LP in effect (:func:`_fixed_solve`), status ``optimal`` with its
    value as its bound (nothing is shed; the answer is the normal state by definition, no
    restoration MILP is solved), ``switching`` :data:`FEWEST` (none). None when the model
    has no such operation: the normal state breaks the model's voltage or line limits, or
    it closes a loop (the caller then restores as for any broken set)."""
    t0 = time.perf_counter()
    g = problem.grid
    site = np.zeros(len(g.dg_bus)) if sites is None else np.asarray(sites, float)
    blk = problem.restore_block((), sites, radiality, penalty_pu)
    model = HighsModel(blk)
    model.set_gap(MIP_GAP)
    closed = np.ones(g.m) if g.normally_open is None else \
        (~np.asarray(g.normally_open, bool)).astype(float)
    fixed = {"v": closed, "shed": np.zeros(blk.groups["shed"].size)}
    if radiality is RadialityKind.FOREST:
        fixed.update(orientation(problem, closed, site))
    values = _fixed_solve(model, blk, fixed)
    if values is None:
        return None
    value = blk.objective_value(values)
    op = _operation(model, "", problem, str(SolverStatus.OPTIMAL), value, value,
                    time.perf_counter() - t0, values)
    return replace(op, switching=FEWEST)


def _fixed_solve(model: HighsModel, blk: Block,
                 fixed: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """``model`` solved with the groups ``fixed`` at their values (within their bounds; NaN:
    that entry free), their bounds restored after: with the topology fixed an LP in effect,
    never cut short (as :func:`feederopt.algorithms.resilience._solve_from`'s start). Returns
    the values, None without a solution."""
    groups = blk.groups
    saved = {k: (groups[k].lb.copy(), groups[k].ub.copy()) for k in fixed if k in groups}
    for name, (lo, hi) in saved.items():
        val = np.asarray(fixed[name], float)
        free = np.isnan(val)
        val = np.clip(np.where(free, lo, val), lo, hi)
        model.set_bounds(name, np.where(free, lo, val), np.where(free, hi, val))
    model.set_time_limit(math.inf)
    sol = model.solve()
    if not sol.has_solution and not interrupt.requested():
        # HiGHS's presolve can call such an LP infeasible when its rows are tight to their
        # tolerance (the shed kept within TOL_KW at a binding line rating: g1 of user test
        # ut43_resil #1, where the chosen topology's least shed is the first phase's to
        # 1e-9 kW and the simplex without presolve solves it); solved again without presolve
        model.set_presolve(False)
        sol = model.solve()
        model.set_presolve(True)
    values = model.values() if sol.has_solution else None
    for name, (lo, hi) in saved.items():
        model.set_bounds(name, lo, hi)
    return values


def orientation(problem: ResilienceProblem, closed: np.ndarray,
                site: np.ndarray) -> dict[str, np.ndarray]:
    """The forest radiality's orientation ``bf``/``bb`` and depths of the closed lines (a
    forest): breadth-first from the sources, then from the sited DGs, then from any bus not
    yet reached (a de-energised part)."""
    g = problem.grid
    adj: list[list[int]] = [[] for _ in range(g.n)]
    for k in np.flatnonzero(np.asarray(closed) > 0.5).tolist():
        adj[int(g.f[k])].append(k)
        adj[int(g.t[k])].append(k)
    depth = np.full(g.n, -1)
    bf, bb = np.zeros(g.m), np.zeros(g.m)
    roots = [*np.flatnonzero(g.is_source).tolist(),
             *g.dg_bus[np.asarray(site, float) > 0.5].tolist(), *range(g.n)]
    for r in roots:
        if depth[r] >= 0:
            continue
        depth[r] = 0
        queue = [int(r)]
        while queue:
            u = queue.pop(0)
            for ln in adj[u]:
                w = int(g.t[ln]) if int(g.f[ln]) == u else int(g.f[ln])
                if depth[w] < 0:
                    depth[w] = depth[u] + 1
                    (bf if int(g.f[ln]) == u else bb)[ln] = 1.0
                    queue.append(w)
    return {"bf": bf, "bb": bb, "depth": depth.astype(float)}


def island_dgs(problem: ResilienceProblem, closed: np.ndarray, site: np.ndarray) -> np.ndarray:
    """The buses of the sited DGs that no closed path joins to a source (each forms, or lies
    in, an island), sorted."""
    g = problem.grid
    seen = reachable(g, closed, np.flatnonzero(g.is_source).tolist())
    sited = g.dg_bus[np.asarray(site, float) > 0.5]
    return np.array(sorted(int(b) for b in sited if int(b) not in seen), int)


def settle_plan(problem: ResilienceProblem, scenarios: list[Scenario], out: PlanOutcome,
                deadline: float) -> PlanOutcome:
    """The plan ``out`` with each scenario's operation after the second phase (module
    docstring), the scenarios sharing the time left before ``deadline``
    (``time.perf_counter()``), each at most :func:`second_phase_limit`. Its costs are
    re-read from the operations (the same to :func:`shed_growth_tol_kw`)."""
    if len(out.operations) != len(scenarios):
        return out
    ops = []
    for k, (sc, op) in enumerate(zip(scenarios, out.operations, strict=True)):
        share = (deadline - time.perf_counter()) / (len(scenarios) - k)
        limit = second_phase_limit(share, 0.0) if math.isfinite(share) else SECOND_PHASE_CAP_S
        new = fewest_switches(problem, problem.out_of_service(sc, out.harden), out.site, op,
                              keep_closed=problem.settings.penalty > 0, time_limit_s=limit)
        ops.append(new)
    return with_operations(problem, scenarios, out, ops)


def with_operations(problem: ResilienceProblem, scenarios: list[Scenario], out: PlanOutcome,
                    ops: list[Operation]) -> PlanOutcome:
    """The plan ``out`` with the scenario operations ``ops``, its costs re-read from them
    (each operation's cost, the expected recourse, the objective and the gap to the plan's
    lower bound)."""
    ops = [replace(op, objective=_cost(problem, op)) for op in ops]
    rec = [op.objective for op in ops]
    obj = out.investment + float(sum(sc.probability * q for sc, q in zip(scenarios, rec,
                                                                          strict=True)))
    return replace(out, operations=ops, recourse=rec, objective=obj,
                   gap=max(obj - out.lower_bound, 0.0) / max(abs(obj), 1e-9)
                   if math.isfinite(out.lower_bound) else out.gap)


def reserve_island_losses(problem: ResilienceProblem, broken: tuple[int, ...] | list[int],
                          sites: np.ndarray | None, op: Operation,
                          reserve_kw: dict[int, float]) -> Operation | None:
    """``op`` with room kept for its islands' AC losses, which the lossless LinDistFlow has
    not (user test ut47_resil #2: zhang13 with lines 11, 10 and 1 broken had DG 8 at its
    100 kW in the model and 100.107 kW in AC, its island's losses). ``reserve_kw``: per DG
    candidate position, the kW its island's AC run needed beyond the model's output (the
    grid-forming DG's AC P less its model P, from a first AC check). The operation is
    re-solved with the topology, the orientation and the connections of generators and
    shunts fixed, each such DG's P at most ``Pmax - reserve``, the shed at its least (the
    first phase's shed costs), then the island set-points (module docstring, step 3). None
    when no such operation exists (the caller keeps ``op``)."""
    g = problem.grid
    site = np.zeros(len(g.dg_bus)) if sites is None else np.asarray(sites, float)
    first = FirstPhase(op.weighted_shed_pu, float(np.sum(op.shed_load_pu)), None,
                       float(len(op.gen_off) + len(op.shunt_off)))
    blk = problem.second_phase_block(tuple(broken), site, first, TOL_KW)
    model = HighsModel(blk)
    for rows in blk.rows:  # the shed may grow: the losses are served or shed
        if rows.name in ("keep_weighted_shed", "keep_shed", "keep_connected"):
            model.set_row_bounds(rows.name, -math.inf, math.inf)
    fixed: dict[str, np.ndarray] = {"v": np.round(op.closed)}
    if problem.settings.radiality is RadialityKind.FOREST:
        fixed.update(orientation(problem, op.closed, site))
    for key, at, off in (("goff", generator_buses(g), op.gen_off),
                         ("soff", shunt_buses(g), op.shunt_off)):
        if key in blk.groups:
            fixed[key] = np.isin(at, np.asarray(off, int)).astype(float)
    pg = blk.groups["pg"]
    hi = pg.ub.copy()
    for k, kw in reserve_kw.items():
        hi[k] = max(hi[k] - kw / problem.kw_per_pu, 0.0)
    model.set_bounds("pg", pg.lb, hi)
    model.set_costs({"shed": problem.kw_per_pu * shed_costs(g)})
    values = _fixed_solve(model, blk, fixed)
    if values is None or interrupt.requested():
        return None
    islands = island_dgs(problem, np.round(values["v"]), site)
    if len(islands):
        fixed["shed"] = values["shed"]
        free = np.isin(g.dg_bus, islands)
        for name in ("pg", "qg"):
            fixed[name] = np.where(free, np.nan, values[name])
        sited = g.dg_bus[site > 0.5]
        model.set_costs({DEVIATION: np.isin(sited, islands).astype(float)})
        got = _fixed_solve(model, blk, fixed)
        if got is not None:
            values = got
    new = _operation(model, "", problem, op.status, op.objective, op.bound, op.solve_time_s,
                     values)
    # the second phase's verdict and a shed-all fallback stay the operation's
    return replace(new, switching=op.switching, shed_all=op.shed_all)


def energised(problem: ResilienceProblem, closed: np.ndarray, dg_p: np.ndarray) -> set[int]:
    """The buses that the closed lines join to a source or to a producing backup DG
    (``dg_p`` above 1e-6 kW): those an operation supplies (the results' ``energised_buses``,
    :func:`feederopt.results.resilience.operation_view`); the rest are dead."""
    g = problem.grid
    roots = set(np.flatnonzero(g.is_source).tolist())
    on = np.flatnonzero(np.asarray(dg_p, float) * problem.kw_per_pu > 1e-6)
    roots |= {int(g.dg_bus[k]) for k in on}
    return reachable(g, closed, roots)


def dead_at_normal(problem: ResilienceProblem, broken: tuple[int, ...] | list[int],
                   op: Operation, *, priced: bool) -> Operation:
    """``op`` with each working line whose two ends are dead (neither a source nor a
    producing DG joined to them, :func:`energised`) at its normal state (closed unless
    normally open): a dead part carries nothing, so its lines need no operation
    (``docs/resilience.md``, "Second phase"). The forest radiality has every closed line in
    a tree, a dead part's too, so a dead part that is meshed in the normal state was opened
    where nothing asks for it (user test ut49_resil #4: example_multivoltage with trafo:0
    broken shed everything and prescribed opening HV Line1, HV Line2 and HV Line5 of the dead
    110-kV ring). Closing a line between two dead buses joins no source, so the energised
    buses, the shed and the flows stay. Kept as it is when a switching penalty prices each
    closed line (``priced``: its cost would change) and for the shed-all fallback (not a
    restoration plan)."""
    g = problem.grid
    if priced or op.shed_all:
        return op
    closed = np.asarray(op.closed, float)
    live = energised(problem, closed, op.dg_p)
    normal = np.ones(g.m) if g.normally_open is None else \
        (~np.asarray(g.normally_open, bool)).astype(float)
    dead = np.array([int(g.f[k]) not in live and int(g.t[k]) not in live
                     for k in range(g.m)], bool)
    dead[np.asarray(list(broken), int)] = False
    if not dead.any() or np.array_equal(closed[dead] > 0.5, normal[dead] > 0.5):
        return op
    return replace(op, closed=np.where(dead, normal, closed))
