"""The wait-and-see and expected-value analyses of a resilience plan (seed 003), within the
plan's deadline, and the better of the plans a run has evaluated.

Birge and Louveaux, *Introduction to Stochastic Programming*, 2nd ed., Springer 2011,
sec. 4.1-4.2, with ``c . x`` the investment and ``Q_s(x)`` scenario ``s``'s recourse
(:func:`feederopt.algorithms.resilience.recourse_value`):

* RP   = min_x  c . x + sum_s p_s Q_s(x)                (the plan's expected total cost)
* WS   = sum_s p_s min_x (c . x + Q_s(x))                (wait-and-see)
* EEV  = c . x_EV + sum_s p_s Q_s(x_EV),  x_EV = argmin_x c . x + Q_EV(x)  for the
  expected-value scenario EV (every line broken with probability at least 1/2)
* EVPI = RP - WS >= 0 and VSS = EEV - RP >= 0 (both when RP is the optimum).

**Deadline.** The measures share the plan's ``--time-limit``. The EV plan (a one-scenario
extensive form, :func:`expected_value_plan`) is made first, within :data:`EV_PLAN_SHARE` of
the limit, and given to the solve as a candidate plan, evaluated like the solve's own
(:func:`feederopt.algorithms.resilience.choose_plan`; the L-shaped method's first plan). The
rest run after the solve, in the time it leaves: the EV plan's evaluation on every scenario
(EEV: the solve's own when it evaluated the plan, refined by :func:`evaluate_within` until
half of the time left, else evaluated there), then WS (one extensive form per scenario, an
equal share of the rest each). The solve, which finds the plans, is not cut short for them:
it used to get 3/4 of the limit, and case33bw with 40 random storm scenarios at
``--time-limit 10`` answered the plan that invests nothing (17,347 $) where 8 s of MILP find
hardening lines 1 and 2 (7,692 $); the measures left it then computed nothing but EEV. A
measure that gets no time is not computed (``not_computed``); one from a MILP stopped at its
limit is not
proven (``not_proven``): its value comes from feasible plans and operations, an upper bound.
A scenario's wait-and-see value stopped at its limit is at most what the plan and the EV plan
cost in that scenario (``c . x + Q_s(x)`` of a plan is a value of the scenario's own problem),
so WS <= RP and EVPI >= 0 (case33bw, 40 storm scenarios, ``--time-limit 150``: WS was
9,577 $ against RP 4,459 $, EVPI -5,118 $).

**The better plan** (:func:`adopt_better`). A plan stopped at its time limit is the method's
incumbent, evaluated within the time; the EV plan evaluated on every scenario is a plan of the
same problem. When it costs less, it is the answer (user test ut33 #1: zhang13, B611_C_p3,
``--time-limit 1``: the incumbent hardened line 2 for 1,114.04 $, the EV plan, line 2 and a DG
at 13, costs the optimum 550 $, VSS was -564.04 $); when it is the same plan, each scenario
keeps the cheaper of the two operations found (case33bw, 40 storm scenarios: RP 15,003 $ from
recourse MILPs stopped at the limit, EEV 14,900 $ for the same plan). The status and the lower
bound stay the method's, so VSS >= 0 (up to the MIP gap) whatever the time limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from feederopt.algorithms.base import ProgressCallback, report_phase
from feederopt.algorithms.resilience import (
    Candidate,
    Operation,
    PlanOutcome,
    ResilienceStopped,
    evaluate_within,
    solve_extensive,
)
from feederopt.errors import InputError, shown_list
from feederopt.problems.resilience import ResilienceProblem, Scenario
from feederopt.solvers import interrupt
from feederopt.solvers.status import Status

#: The share of ``--time-limit`` the expected-value plan's MILP may take when the measures are
#: on. It runs first: the plan is a candidate of the solve (:func:`expected_value_plan`); the
#: other measures run in the time the solve leaves.
EV_PLAN_SHARE = 0.1

#: The label of the expected-value plan in notes.
EV_LABEL = "the expected-value plan"

#: The measures, by their names in the notes and the JSON's ``not_computed``/``not_proven``.
WS, EEV, EVPI, VSS = "WS", "EEV", "EVPI", "VSS"


@dataclass(frozen=True)
class StochasticMeasures:
    """RP, WS, EEV [$] (module docstring) and the EV scenario's broken lines and plan.

    ``ws`` None: not computed within the deadline; ``eev`` None: not computed, ``inf``: the
    EV plan leaves a non-sheddable load unsupplied in some scenario."""

    rp: float
    ws: float | None
    eev: float | None
    ws_per_scenario: tuple[float, ...]
    ev_broken: tuple[int, ...]
    ev_harden: np.ndarray | None
    ev_site: np.ndarray | None
    #: The status of the plan RP is the cost of (``optimal``, ``time_limit``, ...).
    rp_status: str = "optimal"
    #: The measures not computed within the deadline (of WS, EEV, EVPI, VSS).
    not_computed: tuple[str, ...] = ()
    #: The measures from a MILP stopped at its limit (of WS, EEV): upper bounds.
    not_proven: tuple[str, ...] = ()
    #: The EV plan with its operation per scenario (for :func:`adopt_better`).
    ev_outcome: PlanOutcome | None = field(default=None, repr=False, compare=False)
    #: Why EEV (and so VSS) is undefined (``eev`` inf): the EV plan leaves non-sheddable
    #: loads unsupplied ("the expected-value plan leaves d4 unsupplied in s2"); "" when
    #: defined.
    eev_undefined: str = ""

    #: The part of ``rp`` [$] that is the islands' AC loss reserve (:meth:`against`): 0 when
    #: no backup DG island was held below its size; WS and EEV are the lossless model's.
    loss_reserve: float = 0.0
    #: True: the expected-value plan is the plan RP is the cost of, and EEV, its cost, is RP
    #: with its loss reserve (:meth:`against`).
    eev_is_rp: bool = False

    @property
    def evpi(self) -> float | None:
        return None if self.ws is None else self.rp - self.ws

    @property
    def vss(self) -> float | None:
        return None if self.eev is None else self.eev - self.rp

    def against(self, out: PlanOutcome, lossless: float | None = None) -> StochasticMeasures:
        """The measures of the plan ``out`` (RP its expected total cost, its status), so that
        EVPI = RP - WS and VSS = EEV - RP hold with the RP the result reports.

        ``lossless``: the plan's expected total cost before its scenario operations kept room
        for their islands' AC losses (:func:`feederopt.api_resilience.plan`; user test
        ut51_resil #1: the measures kept the lossless 4,740 $ against a reported 4,741.41 $).
        The reserve ``out.objective - lossless`` is then part of RP and so of EVPI, while WS
        and EEV stay the lossless model's (their operations are not checked in AC); when the
        expected-value plan is ``out``'s plan, EEV is its cost as reported: RP (VSS 0, not
        minus the reserve)."""
        rp = float(out.objective)
        reserve = 0.0 if lossless is None else max(rp - float(lossless), 0.0)
        same = (reserve > 0 and self.eev is not None and math.isfinite(self.eev)
                and self.ev_harden is not None and self.ev_site is not None
                and _same_plan(out, self.ev_harden, self.ev_site))
        return replace(self, rp=rp, rp_status=str(out.status), loss_reserve=reserve,
                       eev=rp if same else self.eev, eev_is_rp=same)


def _cost(problem: ResilienceProblem, op: Operation) -> float:
    return float(problem.shed_weight_usd * op.weighted_shed_pu
                 + problem.settings.penalty * float(op.closed.sum()))


def _same_plan(a: PlanOutcome, harden: np.ndarray, site: np.ndarray) -> bool:
    return bool(np.array_equal(np.round(a.harden), np.round(harden))
                and np.array_equal(np.round(a.site), np.round(site)))


@dataclass(frozen=True)
class ExpectedValuePlan:
    """The plan made for the expected-value scenario (:func:`expected_value_plan`)."""

    scenario: Scenario
    #: The plan (a one-scenario extensive form); None: none within its time, or none at all
    #: (``infeasible``).
    outcome: PlanOutcome | None
    #: No plan within the budgets keeps the non-sheddable loads supplied in the EV scenario:
    #: EEV is undefined (``inf``).
    infeasible: bool = False

    def candidates(self) -> list[Candidate]:
        """The plan as a candidate of the solve (none when there is no plan)."""
        if self.outcome is None:
            return []
        return [Candidate(EV_LABEL, self.outcome.harden, self.outcome.site)]


def expected_value_plan(problem: ResilienceProblem, scenarios: list[Scenario], *,
                        time_limit_s: float, progress: ProgressCallback | None = None
                        ) -> ExpectedValuePlan:
    """The plan for the expected-value scenario (every line broken with probability at least
    1/2): one scenario's extensive form within ``time_limit_s``, usually far quicker than the
    plan's own. :func:`feederopt.api_resilience.plan` makes it first and gives it to the solve
    as a candidate plan (user test ut33 #1: zhang13, B611_C_p3, ``--time-limit 1``, the EV
    plan is the optimum where the extensive form's incumbent cost twice as much)."""
    ev = problem.expected_value_scenario(scenarios)
    if time_limit_s <= 0 or interrupt.requested():
        return ExpectedValuePlan(ev, None)
    report_phase(progress, "expected-value plan")
    try:
        return ExpectedValuePlan(ev, solve_extensive(problem, [ev], time_limit_s=time_limit_s))
    except InputError:  # no plan supplies the non-sheddable loads in the EV scenario
        return ExpectedValuePlan(ev, None, infeasible=True)
    except ResilienceStopped:  # no plan within its time
        return ExpectedValuePlan(ev, None)


def stochastic_measures(problem: ResilienceProblem, scenarios: list[Scenario],
                        rp: PlanOutcome, *, deadline: float = math.inf,
                        progress: ProgressCallback | None = None,
                        ev: ExpectedValuePlan | None = None) -> StochasticMeasures:
    """WS, EEV, EVPI and VSS of the plan ``rp`` by extensive forms, until ``deadline``
    (``time.perf_counter()``; module docstring); ``progress`` gets a
    :class:`~feederopt.solvers.status.PhaseRecord` before each MILP. ``ev``: the
    expected-value plan made before the solve (None: made here, within a third of the time
    left). EEV is read from ``rp`` or ``rp.evaluated`` when the solve evaluated the EV plan on
    every scenario, else evaluated here; either way refined while time is left, until half
    of it; WS gets the rest."""
    t0 = time.perf_counter()
    if ev is None:
        ev = expected_value_plan(problem, scenarios, time_limit_s=(deadline - t0) / 3,
                                 progress=progress)
    not_proven: list[str] = []
    ev_plan = ev.outcome
    ev_outcome: PlanOutcome | None = None
    eev: float | None = math.inf if ev.infeasible else None
    undefined = ("no plan within the budgets keeps the non-sheddable loads supplied in the "
                 "expected-value scenario" if ev.infeasible else "")
    if ev_plan is not None and ev_plan.status is not Status.OPTIMAL:
        not_proven.append(EEV)
    eev_deadline = time.perf_counter() + max(deadline - time.perf_counter(), 0.0) / 2
    known = None if ev_plan is None else next(
        (p for p in (rp, *rp.evaluated) if _same_plan(p, ev_plan.harden, ev_plan.site)
         and len(p.operations) == len(scenarios)), None)
    if ev_plan is not None and not interrupt.requested() and (
            known is not None or time.perf_counter() < eev_deadline):
        report_phase(progress, f"expected-value plan on the {len(scenarios)} scenarios")
        start: list[Operation | None] | None = None if known is None else \
            list(known.operations)
        got = evaluate_within(problem, scenarios, ev_plan.harden, ev_plan.site,
                              eev_deadline, start, finish=False, quick=known is None)
        if got.infeasible:
            eev = math.inf  # the EV plan leaves a non-sheddable load unsupplied somewhere
            undefined = ev_unsupplied(problem, [scenarios[k] for k in got.infeasible],
                                      ev_plan.harden, ev_plan.site)
        elif got.complete:
            ops = [op for op in got.operations if op is not None]
            rec = [op.objective for op in ops]
            invest = problem.investment(ev_plan.harden, ev_plan.site)
            eev = invest + float(sum(sc.probability * q
                                     for sc, q in zip(scenarios, rec, strict=True)))
            if not got.proven and EEV not in not_proven:
                not_proven.append(EEV)
            ev_outcome = PlanOutcome("expected value", Status.FEASIBLE, ev_plan.harden,
                                     ev_plan.site, invest, rec, ops, eev, -math.inf, math.nan,
                                     time.perf_counter() - t0)
    ws_each: list[float] = []
    for k, sc in enumerate(scenarios):
        left = deadline - time.perf_counter()
        if left <= 0 or interrupt.requested():
            break
        report_phase(progress, f"wait-and-see: scenario {k + 1} of {len(scenarios)}")
        one = solve_extensive(problem, [Scenario(sc.name, 1.0, sc.broken)],
                              time_limit_s=left / (len(scenarios) - k))
        if one.status is not Status.OPTIMAL and WS not in not_proven:
            not_proven.append(WS)
        # the plans evaluated on every scenario are plans of this scenario's problem too:
        # a MILP stopped at its limit is not left above them (so WS <= RP, EVPI >= 0)
        ws_each.append(min([one.objective] + [
            plan.investment + plan.recourse[k] for plan in (rp, ev_outcome)
            if plan is not None and len(plan.recourse) == len(scenarios)]))
    ws = float(sum(sc.probability * w for sc, w in zip(scenarios, ws_each, strict=False))) \
        if len(ws_each) == len(scenarios) else None
    not_computed = ([WS, EVPI] if ws is None else []) + ([EEV, VSS] if eev is None else [])
    return StochasticMeasures(
        float(rp.objective), ws, eev, tuple(ws_each) if ws is not None else (),
        ev.scenario.broken, None if ev_plan is None else ev_plan.harden,
        None if ev_plan is None else ev_plan.site,
        str(rp.status), tuple(sorted(not_computed, key=[WS, EEV, EVPI, VSS].index)),
        tuple(m for m in (WS, EEV) if m in not_proven and m not in not_computed), ev_outcome,
        undefined if eev is not None and math.isinf(eev) else "")


def ev_unsupplied(problem: ResilienceProblem, scenarios: list[Scenario], harden: np.ndarray,
                  site: np.ndarray) -> str:
    """Why EEV is undefined: the non-sheddable loads the EV plan ``(harden, site)`` leaves
    unsupplied in each of ``scenarios`` (those cut off from every source and sited DG; when
    none is cut off, the voltage, line or DG limits keep them all from being supplied: every
    non-sheddable load is named)."""
    every = [lid for lid, _ in problem.firm_loads]
    parts = []
    for sc in scenarios:
        cut = problem.unsupplied_firm_loads(sc.broken, harden, site) or every
        parts.append(f"{shown_list(list(cut))} unsupplied in {sc.name}")
    return "the expected-value plan leaves " + "; ".join(parts)


def adopt_better(problem: ResilienceProblem, scenarios: list[Scenario], out: PlanOutcome,
                 other: PlanOutcome | None) -> tuple[PlanOutcome, list[str]]:
    """``out`` or, when ``other`` (a plan evaluated on every scenario: the EV plan) costs less,
    ``other``'s plan and operations with ``out``'s status, bound and method (module
    docstring); the same plan keeps each scenario's cheaper operation. Returns the plan and
    the notes saying what came from ``other``."""
    if other is None or not math.isfinite(other.objective) or \
            len(other.operations) != len(scenarios):
        return out, []
    probs = [sc.probability for sc in scenarios]
    if _same_plan(out, other.harden, other.site) and len(out.operations) == len(scenarios):
        ops, rec, took = [], [], []
        for k, (mine, theirs) in enumerate(zip(out.operations, other.operations,
                                               strict=True)):
            q_mine, q_theirs = _cost(problem, mine), _cost(problem, theirs)
            if q_theirs < q_mine - 1e-6 * max(1.0, q_mine):
                ops.append(theirs)
                rec.append(q_theirs)
                took.append(scenarios[k].name)
            else:
                ops.append(mine)
                rec.append(out.recourse[k])
        if not took:
            return out, []
        obj = out.investment + float(np.dot(probs, rec))
        note = (f"the operations of scenario(s) {shown_list(took)} come from the evaluation of "
                "the expected-value plan (the same plan): cheaper than those the "
                f"{out.method} run found within its limit; the expected total is "
                f"{obj:,.2f} $ (was {out.objective:,.2f} $)")
    else:
        if other.objective >= out.objective - 1e-6 * max(1.0, abs(out.objective)):
            return out, []
        ops, rec, obj = list(other.operations), list(other.recourse), other.objective
        note = (f"the plan is the expected-value plan, evaluated on every scenario "
                f"({obj:,.2f} $): it costs less than the plan the {out.method} run had at "
                f"its {_stop(out.status)} ({out.objective:,.2f} $); the status and the lower "
                f"bound are the {out.method} run's")
    same = _same_plan(out, other.harden, other.site)
    better = replace(out, harden=np.asarray(other.harden), site=np.asarray(other.site),
                     investment=problem.investment(other.harden, other.site),
                     recourse=rec, operations=ops, objective=obj,
                     gap=max(obj - out.lower_bound, 0.0) / max(abs(obj), 1e-9),
                     notes=out.notes if same else [])
    return better, [note]


def _stop(status: Status | str) -> str:
    return {"time_limit": "time limit", "interrupted": "interruption"}.get(
        str(status), f"end ({status})")

