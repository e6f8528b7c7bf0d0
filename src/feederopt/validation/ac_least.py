"""The least-violating answer chosen in AC: of the radial topologies that a search which
found none within the limits met, the one whose AC power flow breaks the limits least.

When no radial topology meets the limits, the searches (Benders, ``--method misocp`` after
its proof) rank the topologies by the relaxation's phase-1 total slack ``phi`` (the SOCP's,
:mod:`feederopt.algorithms.least_violating`). The relaxation is not exact at such points
(slack, reverse flow), and its sum of slacks weighs a limit otherwise than the AC check
does (a squared-voltage slack against the voltage itself, a current slack in p.u. against a
share of the rating), so another topology the search met may break the limits less in the
real grid (user test on SimBench ``1-MV-rural--2-sw@lW``: 2.19 against 2.02). The
candidates (:attr:`feederopt.algorithms.base.RawSolution.candidates`: the answer, then the
best others by the relaxation's rank, at most
:data:`~feederopt.algorithms.least_violating.AC_CANDIDATES`) are each judged by the AC
check's own power flow and limits, by the key of ``--ac-polish``
(:class:`~feederopt.validation.ac_polish.AcKey`):

1. the AC violation total ``sum_buses dV + sum_branches (loading - 100 %) / 100``: the
   voltage beyond the band [p.u.] plus the loading beyond the rating [% of it] / 100, each
   only where the AC check calls the limit broken
   (:func:`~feederopt.validation.ac_polish.violation_parts`);
2. then the AC losses plus the switching cost [kW].

A candidate replaces the one held only when its key is lower beyond the tolerances
(:meth:`~feederopt.validation.ac_polish.AcKey.better_than`), in the relaxation's order: a tie
keeps the relaxation's choice, and the outcome does not depend on timing except through the
budget, which the answer itself (judged first) never misses. It is a choice among the
topologies met, not a search: a radial topology the search did not meet may break the limits
less still.

Under load uncertainty a topology has one AC power flow per realisation (the uncertain
result's AC check, :mod:`feederopt.validation.scenario_ac`), and the key aggregates them
(:func:`realisation_key`), with ``v_r`` the AC violation total above of realisation ``r``:

* ``--robust`` (:data:`ROBUST_MEASURE`): the worst, ``max_r v_r`` over the extreme points that
  the robust AC check evaluates (the worst and the inexact ones first, at most
  :data:`~feederopt.results.uncertain.MAX_AC_SCENARIOS`), then the worst AC losses
  ``max_r losses_r`` plus the switching cost: the robust objective's own worst case;
* ``--scenarios`` (:data:`SCENARIO_MEASURE`): the expectation ``sum_s w_s v_s`` with the
  scenarios' probabilities ``w_s`` (normalised over the scenarios checked), then the expected
  AC losses ``sum_s w_s losses_s`` plus the switching cost: the stochastic objective's terms.
  The worst scenario's ``v_s`` is recorded beside it (``worst_violation_total``);
* ``--scenarios --objective worst`` (:data:`SCENARIO_WORST_MEASURE`): the worst scenario's,
  ``max_s v_s``, then the worst AC losses ``max_s losses_s`` plus the switching cost, as its
  objective ``max_s (losses_s + penalty * slack_s)`` ranks.

A realisation whose power flow does not converge makes the key infinite (never chosen).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from feederopt.solvers import interrupt
from feederopt.validation.ac_polish import NO_KEY, AcKey, violation_parts

#: Most seconds the AC choice runs (less when the solve's time limit leaves less).
AC_CHOICE_MAX_S = 30.0
#: Least seconds it gets past the solve's time limit (a check after the solve, as the AC
#: check), capped by a quarter of the limit.
AC_CHOICE_MIN_S = 5.0

#: What the choice measures (the record's ``measure``).
MEASURE = ("AC violation total: the voltage beyond the band [p.u.] summed over buses plus the "
           "loading beyond the rating [% of it] / 100 summed over branches (the AC check's "
           "limits and tolerance; as --ac-polish), then AC losses plus switching cost [kW]")


#: What the choice measures under ``--robust`` (the record's ``measure``).
ROBUST_MEASURE = ("the worst over the extreme points checked in AC of the AC violation total "
                  "(the voltage beyond the band [p.u.] summed over buses plus the loading beyond "
                  "the rating [% of it] / 100 summed over branches, the AC check's limits and "
                  "tolerance), then the worst AC losses over them plus switching cost [kW]")
#: What the choice measures under ``--scenarios`` (the record's ``measure``).
SCENARIO_MEASURE = ("the probability-weighted AC violation total over the scenarios checked "
                    "in AC, sum_s w_s v_s (v_s: the voltage beyond the band [p.u.] summed over "
                    "buses plus the loading beyond the rating [% of it] / 100 summed over "
                    "branches, the AC check's limits and tolerance), then the expected AC "
                    "losses plus switching cost [kW]; the worst scenario's v_s is recorded "
                    "beside it")
#: What the choice measures under ``--scenarios --objective worst`` (the record's ``measure``).
SCENARIO_WORST_MEASURE = ("the worst over the scenarios checked in AC of the AC violation "
                          "total, max_s v_s (v_s: the voltage beyond the band [p.u.] summed "
                          "over buses plus the loading beyond the rating [% of it] / 100 summed "
                          "over branches, the AC check's limits and tolerance), then the worst "
                          "AC losses over them plus switching cost [kW]: the run's objective "
                          "is the worst scenario's")
#: The record's ``aggregate`` of each kind of run (None: the nominal solve's single point).
AGGREGATE_WORST = "worst over the extreme points"
AGGREGATE_EXPECTED = "expected over the scenarios"
AGGREGATE_WORST_SCENARIO = "worst over the scenarios"


def realisation_key(checks: Sequence[tuple[str, Any]], switching_kw: float,
                    weights: Sequence[float] | None = None) -> tuple[AcKey, dict[str, Any]]:
    """The key of one topology from its AC power flows at the realisations, ``(label,
    ScenarioAc)`` each (:func:`feederopt.validation.scenario_ac.scenario_ac`; None: not
    checked, left out): the worst violation total over them and the worst AC losses
    (``weights`` None, ``--robust``), or the ``weights``-weighted sums, the weights
    normalised over the realisations checked (``--scenarios``); the module docstring. With
    the record's fields: the realisations ``checked``, the worst one's label and violation
    total (``worst_realisation``, ``worst_violation_total``), a power flow that did not
    converge (``not_converged``)."""
    rows = [(k, label, ac) for k, (label, ac) in enumerate(checks) if ac is not None]
    extra: dict[str, Any] = {"checked": len(rows)}
    if not rows:
        return NO_KEY, extra
    failed = [label for _, label, ac in rows if not ac.converged]
    if failed:
        return NO_KEY, {**extra, "not_converged": failed}
    parts = [violation_parts(ac.violations) for _, _, ac in rows]
    totals = [v + r / 100.0 for v, r in parts]
    worst = max(range(len(rows)), key=lambda i: (totals[i], -i))  # the first of equals
    extra.update(worst_realisation=rows[worst][1], worst_violation_total=totals[worst])
    losses = [float(ac.losses_kw) for _, _, ac in rows]
    if weights is None:
        volt, rating = parts[worst]
        return AcKey(volt, rating, max(losses), switching_kw), extra
    w = [float(weights[k]) for k, _, _ in rows]
    total_w = sum(w)
    if not total_w > 0:
        return NO_KEY, extra
    w = [x / total_w for x in w]
    volt = sum(x * v for x, (v, _) in zip(w, parts, strict=True))
    rating = sum(x * r for x, (_, r) in zip(w, parts, strict=True))
    return AcKey(volt, rating, sum(x * loss for x, loss in zip(w, losses, strict=True)),
                 switching_kw), extra


def choice_budget_s(time_limit_s: float, spent_s: float) -> float:
    """The seconds of the AC choice: what the solve's time limit leaves, at most
    :data:`AC_CHOICE_MAX_S`, at least ``min(AC_CHOICE_MIN_S, time_limit_s / 4)``."""
    left = time_limit_s - spent_s
    return min(AC_CHOICE_MAX_S, max(left, min(AC_CHOICE_MIN_S, 0.25 * time_limit_s)))


def least_violating_in_ac(candidates: Sequence[tuple[dict[str, Any], Any]],
                          judge: Callable[[Any], AcKey | tuple[AcKey, dict[str, Any]] | None],
                          *, budget_s: float = AC_CHOICE_MAX_S, measure: str = MEASURE,
                          aggregate: str | None = None) -> tuple[int, dict[str, Any]]:
    """Judge each candidate ``(row, item)`` by ``judge(item)`` (the AC check's power flow and
    limits: a key, or a key and more fields of its row, or None when the budget or a stop
    request cut its judgement short) in the order given, the relaxation's answer first
    (always judged), the others while ``budget_s`` lasts and no stop is requested; keep the
    least key (module docstring). ``row`` describes the candidate in the record (its open
    branches, the relaxation's total slack); ``measure`` and ``aggregate`` (None for the
    nominal solve, :data:`AGGREGATE_WORST` or :data:`AGGREGATE_EXPECTED`) say what the key
    is.

    Returns the chosen index (0: the relaxation's answer) and the record (the JSON's
    ``least_violating_ac``): ``measure``, ``judge``, ``candidates`` (each ``row`` with its
    key and ``relaxation_rank``), ``relaxation_choice`` and ``chosen`` (their rows),
    ``changed``, ``evaluated`` of ``offered``, ``stopped``, ``time_s``, ``budget_s`` (and
    ``aggregate`` when given)."""
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    best: tuple[AcKey, int] | None = None
    stopped = "every candidate evaluated"
    for i, (row, item) in enumerate(candidates):
        if i and interrupt.requested():
            stopped = "interrupted"
            break
        if i and time.perf_counter() - t0 >= budget_s:
            stopped = f"time budget ({budget_s:.3g} s)"
            break
        judged = judge(item)
        if judged is None:  # cut short within the candidate (never the answer's)
            stopped = "interrupted" if interrupt.requested() else (
                f"time budget ({budget_s:.3g} s)")
            break
        key, more = judged if isinstance(judged, tuple) else (judged, {})
        rows.append({"relaxation_rank": i, **row, **key.to_dict(), **more})
        if best is None or key.better_than(best[0]):
            best = (key, i)
    chosen = 0 if best is None else best[1]
    record = {
        "measure": measure,
        **({} if aggregate is None else {"aggregate": aggregate}),
        "judge": "pandapower Newton-Raphson (the AC check's power flow)",
        "candidates": rows,
        "relaxation_choice": rows[0] if rows else None,
        "chosen": rows[chosen] if rows else None,
        "changed": chosen != 0,
        "evaluated": len(rows), "offered": len(candidates),
        "stopped": stopped, "time_s": time.perf_counter() - t0, "budget_s": budget_s,
    }
    return chosen, record


def converged_any(rec: Any) -> bool:
    """Whether a ``least_violating_ac`` record holds a candidate whose AC power flow converged
    (a finite ``violation_total``): without one, nothing was compared in AC."""
    rows = rec.get("candidates") if isinstance(rec, dict) else None
    return any(isinstance(r, dict) and r.get("violation_total") is not None
               for r in rows or ())


def least_violating_ac_text(rec: Any) -> str | None:
    """A result's ``least_violating_ac`` record in one line for the console and the report
    (the measure, the relaxation's choice and its AC violation beside the answer's); None
    without one."""
    if not isinstance(rec, dict) or not rec.get("relaxation_choice"):
        return None

    def viol(x: Any) -> str:
        return "-" if x is None else f"{float(x):.4g}"

    def kw(x: Any) -> str:
        return "-" if x is None else f"{float(x):.3f} kW"

    first, chosen = rec["relaxation_choice"], rec.get("chosen") or rec["relaxation_choice"]
    n, offered = int(rec.get("evaluated", 0)), int(rec.get("offered", 0))
    near = int(rec.get("base_neighbours") or 0)
    of = f"{n} candidate topolog{'y' if n == 1 else 'ies'} the search met" + (
        f" ({offered - n} left out: {rec.get('stopped', '')})" if n < offered else "")
    # the base case's radial neighbours among them (api._least_violating_in_ac), said last
    tail = (f"; {near} of the {offered} offered open a branch of each of the base case's "
            "loops" if near else "")
    total = ("voltage beyond the band [p.u.] + loading beyond the ratings [%] / 100")
    aggregate = rec.get("aggregate")
    losses, slack = "AC losses", "total slack"
    if aggregate in (AGGREGATE_WORST, AGGREGATE_WORST_SCENARIO):
        over = ("the extreme points" if aggregate == AGGREGATE_WORST else "the scenarios")
        measure = (f"the worst AC violation total over {over} checked ({total}), "
                   "then the worst AC losses")
        losses, slack = "worst-case AC losses", "worst-case total slack"
    elif aggregate == AGGREGATE_EXPECTED:
        measure = (f"the probability-weighted AC violation total over the scenarios ({total}), "
                   "then expected AC losses")
        losses, slack = "expected AC losses", "expected total slack"
    else:
        measure = f"AC violation total = {total}, then AC losses"

    def figures(row: dict[str, Any]) -> str:
        worst = (f"; worst scenario {row.get('worst_realisation')}: "
                 f"{viol(row.get('worst_violation_total'))}"
                 if aggregate == AGGREGATE_EXPECTED and row.get("worst_realisation") is not None
                 else "")
        return (f"{viol(row.get('violation_total'))} ({losses} "
                f"{kw(row.get('ac_losses_kw'))}{worst})")

    if not converged_any(rec):
        # every candidate's key NO_KEY: no comparison happened (user test ut47_ppgrid #3)
        return (f"no candidate's AC power flow converged ({of}), so none was compared in AC: "
                f"the answer is the relaxation's least-violating topology (its {slack} "
                f"{viol(first.get('relaxation_violation_pu'))} p.u.){tail}")
    if rec.get("changed"):
        moved = chosen.get("differs") or {}
        how = "; ".join(f"{what} {', '.join(map(str, ids))}" for what, ids in
                        (("closes", moved.get("closes") or ()),
                         ("opens", moved.get("opens") or ())) if ids)
        return (f"chosen in AC among {of} ({measure}): {figures(chosen)}, against "
                f"{figures(first)} of the relaxation's least-violating "
                f"topology ({slack} {viol(first.get('relaxation_violation_pu'))} p.u.)"
                + (f"; from it this answer {how}" if how else "") + tail)
    return (f"the relaxation's least-violating topology is also the least violating in AC "
            f"among {of} ({measure}): {figures(first)}{tail}")


#: The AC check's words on what "least" measures once the AC choice compared candidates
#: (in place of :data:`feederopt.results.mapping.LEAST_IN_MODEL`).
LEAST_IN_AC = (
    "least is measured in the AC power flow among the candidate topologies the search met "
    "(least_violating_ac), which the model ranked by the total slack of the limits in the "
    "SOCP relaxation (total_violation_pu): a radial topology the search did not meet may "
    "break the limits less in AC")
