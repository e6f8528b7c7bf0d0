"""Typed summaries of the uncertain solves: one row per scenario or extreme point, and the
totals. :meth:`to_dict` gives the JSON keys that ``feederopt check``, the report and the tests
read (``scenarios``, ``worst_scenario``, ``stochastic``; ``robust``, ``robust_summary``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from feederopt._version import UNRECORDED_SEARCH_STATUS


def _num(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


#: Beside a model's losses where its relaxation is not exact (console tables and lines).
NOT_EXACT_MARK = " (not exact)"


@dataclass(frozen=True)
class SlaveOutcome:
    """A slave's answer for the chosen topology at one load vector, in the user's ids."""

    objective_kw: float | None  # penalised value (scenarios) or losses; None if infeasible
    losses_kw: float | None
    violation_pu: float | None  # total slack
    feasible: bool
    min_voltage_pu: float | None
    max_voltage_pu: float | None
    #: The largest violated limits: component, id, limit, amount.
    violations: list[dict[str, Any]] = field(default_factory=list)
    #: The share of ``losses_kw`` that the SOCP relaxation adds beyond the exact branch-flow
    #: equations (:func:`feederopt.results.mapping.relaxation_gap`, the nominal AC check's
    #: ``relaxation_gap``), and whether that leaves the relaxation exact (at most
    #: :data:`~feederopt.results.mapping.EXACT_CONE_TOL`); None when not known.
    relaxation_gap: float | None = None
    relaxation_exact: bool | None = None

    @property
    def not_exact_mark(self) -> str:
        """`` (not exact)`` (:data:`NOT_EXACT_MARK`) beside the losses of a scenario or an
        extreme point where the SOCP relaxation is not exact, else ""."""
        return NOT_EXACT_MARK if self.relaxation_exact is False else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective_kw": _num(self.objective_kw),
            "losses_kw": _num(self.losses_kw),
            "violation_pu": _num(self.violation_pu),
            "feasible": bool(self.feasible),
            "min_voltage_pu": _num(self.min_voltage_pu),
            "max_voltage_pu": _num(self.max_voltage_pu),
            "violations": list(self.violations),
            "relaxation_gap": _num(self.relaxation_gap),
            "relaxation_exact": self.relaxation_exact,
        }


@dataclass(frozen=True)
class ScenarioOutcome:
    scenario: str
    weight: float
    outcome: SlaveOutcome
    #: The AC power flow of the chosen topology at the scenario's loads
    #: (:class:`feederopt.validation.scenario_ac.ScenarioAc`; None when not run).
    ac: Any = None
    #: The voltage [p.u.] each source bus is held at in the scenario, by bus id: its
    #: ``source`` row's ``vm_pu`` (:mod:`feederopt.io.scenarios`), else the network's
    #: set-point (``v_set_pu``, a pandapower ext_grid's ``vm_pu``); the scenario's slave
    #: fixes ``v = vm^2`` at the root and its AC power flow holds the ext_grid there. None:
    #: not recorded (a result written before it was).
    source_vm_pu: dict[str, float] | None = None

    @property
    def inexact_text(self) -> str | None:
        """:func:`inexact_text` of this scenario (with its AC power flow's losses)."""
        return inexact_text(self.outcome, self.ac)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "weight": float(self.weight),
                "source_vm_pu": None if self.source_vm_pu is None else {
                    str(b): float(v) for b, v in self.source_vm_pu.items()},
                **self.outcome.to_dict(),
                "relaxation_note": self.inexact_text,
                "ac": None if self.ac is None else self.ac.to_dict()}


@dataclass(frozen=True)
class VertexOutcome:
    vertex: int
    u: tuple[int, ...]  # the signs of the uncertain loads' deviations
    outcome: SlaveOutcome
    #: The AC power flow of the chosen topology at the extreme point's loads (a ScenarioAc;
    #: None when not run: beyond the cap on AC power flows, or without a topology).
    ac: Any = None
    #: With a source band (:attr:`RobustSummary.source_vm_band`): the voltage each source bus
    #: is held at in this extreme point (bus id -> p.u., an end of the band); None without.
    source_vm_pu: dict[str, float] | None = None

    @property
    def name(self) -> str:
        return f"extreme point {self.vertex}"

    @property
    def inexact_text(self) -> str | None:
        """:func:`inexact_text` of this extreme point (with its AC power flow's losses)."""
        return inexact_text(self.outcome, self.ac)

    def to_dict(self) -> dict[str, Any]:
        return {"vertex": self.vertex, "u": list(self.u),
                **({} if self.source_vm_pu is None else {"source_vm_pu": {
                    str(b): float(v) for b, v in self.source_vm_pu.items()}}),
                **self.outcome.to_dict(),
                "relaxation_note": self.inexact_text,
                "ac": None if self.ac is None else self.ac.to_dict()}



def inexact_text(outcome: SlaveOutcome, ac: Any) -> str | None:
    """``relaxation not exact (model 231.931 kW, AC 185.619 kW)`` when the SOCP relaxation is
    not exact in a scenario or extreme point (its relaxation gap above the tolerance: the
    model's losses include losses that no power flow has); None when it is exact or not
    known. The AC losses are that load vector's AC power flow's at the same topology
    (``ac``, a ScenarioAc; omitted when it was not run or did not converge)."""
    if outcome.relaxation_exact is not False:
        return None
    ac_kw = ac.losses_kw if ac is not None and ac.converged else None
    return (f"relaxation not exact (model {_kw(outcome.losses_kw)}"
            + (f", AC {_kw(ac_kw)}" if ac_kw is not None else "") + ")")


def inexact_note(named: list[tuple[str, str]], where: str, consequence: str) -> str | None:
    """The note naming the scenarios or extreme points (``where``: "scenario(s)", "extreme
    point(s)") in which the SOCP relaxation is not exact at the chosen topology, ``named``
    their ``(name, inexact_text)``, the first ten shown, and what follows for the totals
    (``consequence``); None when there is none. The one wording of
    :attr:`StochasticSummary.inexact_note` and :attr:`RobustSummary.inexact_note`."""
    if not named:
        return None
    shown = "; ".join(f"{name}: {text}" for name, text in named[:10])
    more = f"; ... ({len(named) - 10} more)" if len(named) > 10 else ""
    return (f"the SOCP relaxation is not exact in {len(named)} {where} at the chosen "
            f"topology ({shown}{more}): the model's losses there include losses that no "
            "power flow has (l > (P^2+Q^2)/v), which it can use to hold the voltages "
            "within the limits under reverse power flow; the AC power flow there is the "
            f"true operating point, and {consequence}")


#: At most this many scenarios (extreme points) get an AC power flow, one pandapower ``runpp``
#: each (:func:`feederopt.results.uncertain_verdict.scenario_ac_checks`).
MAX_AC_SCENARIOS = 200

#: On a small grid more extreme points get one: every one up to this many extreme points
#: times buses (:func:`ac_point_cap`; user test ut46_robust F3: mesh9's 280 points, 9 buses,
#: had 80 without an AC power flow).
MAX_AC_BUS_POINTS = 20_000


def ac_point_cap(n_bus: int) -> int:
    """How many extreme points get an AC power flow on a grid of ``n_bus`` buses:
    ``max(MAX_AC_SCENARIOS, MAX_AC_BUS_POINTS // n_bus)`` (a power flow's cost grows with the
    buses)."""
    return max(MAX_AC_SCENARIOS, MAX_AC_BUS_POINTS // max(int(n_bus), 1))


def ac_all_label(what: str) -> str:
    """The console's and the report's label of :class:`AcAllVerdict` (``what``: "scenario"
    or "extreme point")."""
    return f"within limits (AC, every {what}{' checked' if what == 'extreme point' else ''})"


def ac_broken_text(ac: Any) -> str:
    """What one scenario's (extreme point's) AC power flow breaks, for a person: ``3 limit(s)
    broken, the largest v_min at bus c by 0.003879 p.u.`` (the violations come worst first:
    :func:`feederopt.validation.scenario_ac.scenario_violations`), or that it did not
    converge; "" when it keeps every limit."""
    if not ac.converged:
        return "the AC power flow did not converge" + (f" ({ac.message})" if ac.message else "")
    if not ac.violations:
        return ""
    v = ac.violations[0]
    one = {"buses": "bus", "branches": "branch"}.get(v["component"], v["component"])
    if v["limit"] == "supplied":
        worst = f"{one} {v['id']} not supplied"
    else:
        amount = "" if v["amount"] is None else f" by {v['amount']:.4g} {v['unit']}"
        worst = f"{v['limit']} at {one} {v['id']}{amount}"
    return f"{len(ac.violations)} limit(s) broken, the largest {worst}"


@dataclass(frozen=True)
class AcAllVerdict:
    """The one AC verdict of a scenario (robust) run: does the chosen topology keep the limits
    in the AC power flow of every scenario (every extreme point checked)? Built by
    :func:`ac_all_verdict` from the per-scenario (per-extreme-point) AC checks that the run
    already made (:class:`feederopt.validation.scenario_ac.ScenarioAc`, each held to the run's
    limits within :data:`~feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE`, as the single
    solve's ``ac_check.within_limits``); no power flow is run for it.

    ``within_limits_all``: False when an AC power flow breaks a limit or does not converge;
    True when every scenario (every extreme point the solve evaluated) has an AC power flow
    and each keeps the limits; None (not checked) when no AC power flow ran (``--no-ac-check``,
    no topology) or some were left out (more than :data:`MAX_AC_SCENARIOS`) and none breaks
    a limit. ``text`` says which, and how many of how many were checked.
    The model's own verdict is apart: ``robust_summary.robust_feasible``, the slack."""

    within_limits_all: bool | None
    #: "scenario" or "extreme point".
    what: str
    #: The scenarios of the set, or the extreme points of the box.
    points: int
    #: The scenarios (extreme points) the solve evaluated at the chosen topology.
    evaluated: int
    #: Those with an AC power flow.
    checked: int
    #: One entry per scenario (extreme point) whose AC power flow breaks a limit or fails:
    #: ``scenario`` (or ``vertex``), ``name``, ``converged``, ``limits_broken``, ``worst`` (the
    #: largest violation: component, id, limit, value, rating, amount, unit), ``text``.
    breaking: list[dict[str, Any]]
    text: str

    @property
    def label(self) -> str:
        return ac_all_label(self.what)

    def to_dict(self) -> dict[str, Any]:
        return {"ac_within_limits_all": self.within_limits_all,
                "ac_all_check": {"of": self.what, "points": self.points,
                                 "evaluated": self.evaluated, "checked": self.checked,
                                 "breaking": [dict(b) for b in self.breaking],
                                 "text": self.text}}


def ac_all_text(text: Any) -> str:
    """An :class:`AcAllVerdict`'s ``text`` as read back from a result JSON, for a person: a
    file written before user test ut47_report #3 began it with Python's ``True:`` or
    ``False:``, now ``yes:`` / ``no:`` as every other verdict row."""
    words = str(text)
    for old, new in (("True:", "yes:"), ("False:", "no:")):
        if words.startswith(old):
            return new + words[len(old):]
    return words


def ac_all_verdict(rows: Sequence[tuple[Any, str, Any]], what: str, points: int,
                   points_text: str | None = None, not_evaluated: str = "") -> AcAllVerdict:
    """The :class:`AcAllVerdict` of ``rows``, one ``(id, name, ac)`` per scenario (extreme
    point) the solve evaluated (``ac`` a ScenarioAc, None where no AC power flow ran), out
    of ``points`` in the set (``points_text``: that number for a person); ``not_evaluated``
    says why the others were not evaluated (robust oracles that evaluate a few extreme
    points)."""
    key = "scenario" if what == "scenario" else "vertex"
    total = points_text or str(points)
    checked = [(i, name, ac) for i, name, ac in rows if ac is not None]
    breaking = [{key: i, "name": name, "converged": bool(ac.converged),
                 "limits_broken": len(ac.violations),
                 "worst": dict(ac.violations[0]) if ac.violations else None,
                 "text": ac_broken_text(ac)}
                for i, name, ac in checked if not ac.within_limits]
    n, k = len(checked), len(rows)
    plural = f"{what}s"
    if breaking:
        shown = "; ".join(f"{b['name']}: {b['text']}" for b in breaking[:10])
        more = f"; ... ({len(breaking) - 10} more)" if len(breaking) > 10 else ""
        scope = f" (AC power flows at {n} of the {total} {plural})" if n < points else ""
        text = (f"no: {len(breaking)} of the {n} {plural} checked "
                f"break{'s' if len(breaking) == 1 else ''} a limit in the AC power flow at the "
                f"chosen topology{scope}: {shown}{more}")
        return AcAllVerdict(False, what, points, k, n, breaking, text)
    if n == 0:
        why = (f"no {what} was evaluated at a topology" if k == 0 else
               "the AC check was not run (--no-ac-check)")
        return AcAllVerdict(None, what, points, k, 0, [],
                            f"not checked: no AC power flow at any of the {total} {plural} "
                            f"({why})")
    if n < k or (what == "scenario" and k < points):
        return AcAllVerdict(None, what, points, k, n, [], (
            f"not checked at every {what}: AC power flows at {n} of the {total} {plural}, "
            f"none breaks a limit; the other {points - n} were not run (the AC check runs at "
            f"most {MAX_AC_SCENARIOS} {plural}, more on a small grid: up to "
            f"{MAX_AC_BUS_POINTS} {plural} x buses)"))
    scope = (f"{'of' if what == 'scenario' else 'at'} all {n} {plural}" if n == points else
             f"at the {n} {what}(s) the solve evaluated (of {total}; the others have no AC "
             f"power flow{': ' + not_evaluated if not_evaluated else ''})")
    return AcAllVerdict(True, what, points, k, n, [],
                        f"yes: the AC power flows {scope} keep every limit")


def expected_objective_terms(objective_kw: float | None, losses_kw: float | None,
                             violation_pu: float | None, penalty_kw_per_pu: float,
                             switching: dict[str, Any] | None = None) -> str:
    """What a stochastic solve's expected objective sums, the master's
    ``c_sw . y + sum_s w_s F(y, d_s)`` (:mod:`feederopt.algorithms.stochastic`) with
    ``F = losses + c_g p_g / price + penalty x slack``: ``losses plus 10.000 kW for 2
    switching actions plus 1e+05 kW per p.u. of slack``. ``switching`` is the result's record
    (``actions``, ``cost_kw``; :func:`feederopt.api.switching_record`): the switching cost was
    in the number but not in the words (user test ut34_combo #3). The generators' energy cost
    (a priced generator at its held set-point) is what remains of the number after the
    expected losses, the switching and the penalty times the expected slack, named when it
    shows at 0.001 kW."""
    cost = float((switching or {}).get("cost_kw") or 0.0)
    terms = ["losses"]
    if cost:
        actions = int((switching or {}).get("actions") or 0)
        terms.append(f"{cost:.3f} kW for {actions} switching action{'' if actions == 1 else 's'}")
    if (objective_kw is not None and losses_kw is not None and violation_pu is not None
            and math.isfinite(objective_kw + losses_kw + violation_pu)):
        rest = objective_kw - losses_kw - cost - penalty_kw_per_pu * violation_pu
        if abs(rest) >= 5e-4:
            terms.append(f"{rest:.3f} kW-eq of the generators' energy cost")
    terms.append(f"{penalty_kw_per_pu:.3g} kW per p.u. of slack")
    return " plus ".join(terms)


@dataclass(frozen=True)
class StochasticSummary:
    """The stochastic solve: every scenario's outcome and the expected values."""

    scenarios: list[ScenarioOutcome]
    scenario_count: int
    expected_objective_kw: float | None
    expected_losses_kw: float | None
    expected_violation_pu: float | None
    penalty_kw_per_pu: float
    slave_solves: int | None = None
    workers: int | None = None
    executor: str | None = None
    #: The sum of the scenario weights as given (each scenario's weight is its share of it).
    given_weight_sum: float = 1.0
    #: Whether the scenario file set a source voltage (a ``source`` row) in some scenario;
    #: each scenario's voltages are its :attr:`ScenarioOutcome.source_vm_pu`.
    source_rows: bool = False
    #: What the topology minimised: ``expected`` (:attr:`expected_objective_kw`, ``c_sw @ y +
    #: sum_s w_s F_s``) or ``worst`` (:attr:`worst_objective_kw`, ``c_sw @ y + max_s F_s``),
    #: ``F_s`` a scenario's losses plus the penalty times its slack (the run's objective,
    #: lower bound and gap are of it).
    objective: str = "expected"
    worst_objective_kw: float | None = None

    @property
    def objective_text(self) -> str:
        """``objective: expected value over N scenarios`` or ``objective: worst case over N
        scenarios``: what the run minimised, as the console and the report say it."""
        what = "worst case" if self.objective == "worst" else "expected value"
        return f"objective: {what} over {self.scenario_count} scenarios"

    @property
    def weights_normalised(self) -> bool:
        """Whether the given weights did not sum to 1 (and were divided by their sum)."""
        return abs(self.given_weight_sum - 1.0) > 1e-9

    @property
    def weights_note(self) -> str | None:
        """The note that the given weights did not sum to 1 and were each divided by their
        sum (:attr:`given_weight_sum`), so that a wrong weight does not shift the probability
        mass silently; None when they summed to 1. The one wording: the result's ``notes``
        (JSON, :class:`~feederopt.results.result.Result`, the report) and the console."""
        if not self.weights_normalised:
            return None
        return (f"the scenario weights summed to {self.given_weight_sum:.6g}; each was "
                "divided by that sum (the weight column shows the shares)")

    @property
    def worst(self) -> ScenarioOutcome | None:
        """The scenario with the largest objective."""
        if not self.scenarios:
            return None
        return max(self.scenarios, key=lambda s: _key(s.outcome.objective_kw))

    @property
    def ac_max_loading(self) -> tuple[float, str, str] | None:
        """The largest AC loading [% of the rating] over the scenarios' power flows, its branch
        and its scenario; None when no scenario's AC check found a rated branch."""
        best: tuple[float, str, str] | None = None
        for s in self.scenarios:
            ac = s.ac
            if ac is None or getattr(ac, "max_loading_element", None) is None:
                continue
            lp = float(ac.max_loading_percent)
            if math.isfinite(lp) and (best is None or lp > best[0]):
                best = (lp, str(ac.max_loading_element), s.scenario)
        return best

    @property
    def infeasible_scenarios(self) -> int:
        return sum(1 for s in self.scenarios if not s.outcome.feasible)

    def objective_terms(self, switching: dict[str, Any] | None = None) -> str:
        """What :attr:`expected_objective_kw` sums (:func:`expected_objective_terms`)."""
        return expected_objective_terms(self.expected_objective_kw, self.expected_losses_kw,
                                        self.expected_violation_pu, self.penalty_kw_per_pu,
                                        switching)

    @property
    def inexact_scenarios(self) -> list[ScenarioOutcome]:
        """The scenarios in which the SOCP relaxation is not exact at the chosen topology
        (:attr:`ScenarioOutcome.inexact_text`)."""
        return [s for s in self.scenarios if s.outcome.relaxation_exact is False]

    @property
    def inexact_note(self) -> str | None:
        """A note naming the scenarios in which the SOCP relaxation is not exact at the chosen
        topology (:attr:`inexact_scenarios`: the share of a scenario's losses that the
        relaxation adds, the nominal AC check's ``relaxation_gap``, above
        :data:`~feederopt.results.mapping.EXACT_CONE_TOL`), with the model's and the AC power
        flow's losses there and the expectation over the AC power flows; None when the
        relaxation is exact in every scenario."""
        return inexact_note(
            [(s.scenario, s.inexact_text or "") for s in self.inexact_scenarios],
            "scenario(s)",
            f"the model's expected losses ({_kw(self.expected_losses_kw)}) overstate the "
            f"expectation over the AC power flows ({_kw(self.expected_ac_losses_kw)})")

    @property
    def held_by_inexact(self) -> list[str]:
        """The scenarios whose AC power flow breaks a limit while the model needed no slack
        there only by an inexact relaxation: the model did not hold the limits there, its
        fictitious losses did."""
        return [s.scenario for s in self.scenarios
                if s.ac is not None and not s.ac.within_limits and s.outcome.feasible
                and s.outcome.relaxation_exact is False]

    @property
    def with_slack(self) -> list[tuple[str, float]]:
        """The scenarios that need slack in the model at the chosen topology, with their total
        slack [p.u.], in scenario order."""
        return [(s.scenario, float(s.outcome.violation_pu or 0.0)) for s in self.scenarios
                if not s.outcome.feasible]

    @property
    def expected_ac_losses_kw(self) -> float | None:
        """The expectation of the AC losses over the scenarios, ``sum_s w_s L_s^AC`` (``w_s``
        the normalised weights): the true operating points' expected losses beside the
        model's :attr:`expected_losses_kw`, which counts the fictitious losses of a scenario
        where the relaxation is not exact. None unless every scenario's AC power flow ran
        and converged."""
        acs = [s.ac for s in self.scenarios]
        if not acs or len(acs) < self.scenario_count or any(
                a is None or not a.converged or not math.isfinite(a.losses_kw) for a in acs):
            return None
        return float(sum(s.weight * s.ac.losses_kw for s in self.scenarios))

    @property
    def ac_all(self) -> AcAllVerdict:
        """The one AC verdict over every scenario (:func:`ac_all_verdict`)."""
        return ac_all_verdict([(s.scenario, f"scenario {s.scenario}", s.ac)
                               for s in self.scenarios], "scenario", self.scenario_count)

    def to_dict(self) -> dict[str, Any]:
        worst = self.worst
        return {
            **self.ac_all.to_dict(),
            "scenarios": [s.to_dict() for s in self.scenarios],
            "worst_scenario": None if worst is None else {
                "scenario": worst.scenario,
                "objective_kw": _num(worst.outcome.objective_kw),
                "losses_kw": _num(worst.outcome.losses_kw),
                "violation_pu": _num(worst.outcome.violation_pu),
                "penalty_kw": _num(None if worst.outcome.violation_pu is None
                                   else worst.outcome.violation_pu * self.penalty_kw_per_pu),
                "feasible": bool(worst.outcome.feasible),
                "min_voltage_pu": _num(worst.outcome.min_voltage_pu),
            },
            "stochastic": {
                "headline_load": "nominal",
                "scenario_count": self.scenario_count,
                "given_weight_sum": self.given_weight_sum,
                # a source row in the file (scenarios[].source_vm_pu: each one's voltages)
                "source_rows": self.source_rows,
                # what the run minimised (its objective, bound and gap): expected or worst
                "objective": self.objective,
                "expected_objective_kw": self.expected_objective_kw,
                "worst_objective_kw": _num(self.worst_objective_kw),
                "expected_losses_kw": self.expected_losses_kw,
                # the same expectation over the scenarios' AC power flows (the true losses)
                "expected_ac_losses_kw": _num(self.expected_ac_losses_kw),
                "expected_violation_pu": self.expected_violation_pu,
                "inexact_scenarios": [s.scenario for s in self.inexact_scenarios],
                "infeasible_scenarios": self.infeasible_scenarios,
                # the largest AC loading over every scenario's power flow, and where
                **_loading_dict(self.ac_max_loading),
                "penalty_kw_per_pu": self.penalty_kw_per_pu,
                "slave_solves": self.slave_solves,
                "workers": self.workers,
                "executor": self.executor,
            },
        }


def deviation_text(loads: Sequence[Any], u: Sequence[Any], shown: int | None = 12) -> str:
    """The loads that deviate at an extreme point (``u != 0``), each with its sign: ``+`` at
    ``nominal x (1 + X)``, ``-`` at ``nominal x (1 - X)``, e.g. ``30+, 32+; the others at
    nominal``; ``every load at nominal`` when none deviates. At most ``shown`` named (None:
    all), then how many more. ``loads`` and ``u`` pair up in order (the JSON's
    ``uncertain_loads`` and a point's ``u``); a ``u`` that is no number is named as it is."""
    parts: list[str] = []
    for load, x in zip(loads, u, strict=False):
        if isinstance(x, bool) or not isinstance(x, int | float):
            parts.append(f"{load} {x}")
        elif x != 0:
            parts.append(f"{load}{'+' if x > 0 else '-'}")
    if not parts:
        return "every load at nominal"
    more = 0 if shown is None else len(parts) - shown
    text = ", ".join(parts if shown is None else parts[:shown])
    text += f" ... ({more} more)" if more > 0 else ""
    if len(parts) < len(loads):
        text += "; the others at nominal"
    return text


@dataclass(frozen=True)
class RobustSummary:
    """The robust solve: every extreme point's outcome and the worst case."""

    vertices: list[VertexOutcome]
    uncertainty: float
    uncertain_loads: list[str]
    budget: int | None
    extreme_points: int
    #: The convex (SOCP) model's verdict: True when the chosen topology needs no slack in the
    #: model at any extreme point evaluated; None: no topology was found (the solve stopped
    #: first), so nothing was held to the extreme points; False also when the model proves
    #: that no topology holds at all of them. Not the AC power flows' (:attr:`ac_all`).
    robust_feasible: bool | None
    oracle: str | None = None
    oracle_s: float | None = None
    uncertified_topologies: int | None = None
    #: The worst case *found* at the chosen topology: the largest slave value over its extreme
    #: points evaluated, a value it attains (without the switching cost); the worst case
    #: itself when :attr:`worst_case_proven`.
    worst_case_objective_kw: float | None = None
    #: A proven upper bound on the topology's worst case (without the switching cost): equal
    #: to :attr:`worst_case_objective_kw` when proven, the worst-case search's bound when it
    #: stopped first (inf: it stopped without any).
    worst_case_bound_kw: float | None = None
    #: How the search for the topology's worst case ended: ``optimal`` (proven: enumerated,
    #: the upper corner of a passive feeder, or the dual search's proof), else its status
    #: (``time_limit``, ...); None without a topology.
    worst_case_search_status: str | None = None
    worst_case_losses_kw: float | None = None
    worst_case_violation_pu: float | None = None
    slave_solves: int | None = None
    workers: int | None = None
    executor: str | None = None
    #: The AC power flow at the worst extreme point (a ScenarioAc; None when not run).
    worst_vertex_ac: Any = None
    #: Distinct topologies evaluated at the extreme points (None: not known).
    topologies_evaluated: int | None = None
    #: Master iterations of the bounded least-violating search that follows a proof that no
    #: topology is robustly feasible (None: no such search ran).
    least_violating_search_iterations: int | None = None
    #: That search's proven lower bound on the least worst-case slack [p.u.] (None: none), and
    #: whether its branch exchange ended at a topology none of whose single branch exchanges
    #: needs less slack (None: the exchange did not run).
    least_violating_bound_pu: float | None = None
    least_violating_exchange_local_optimum: bool | None = None
    #: The source band ``(a, b)`` [p.u.] of the set (every source bus anywhere in it; the
    #: extreme points hold each source at ``a`` or ``b``); None: every source at the
    #: network's set-point.
    source_vm_band: tuple[float, float] | None = None

    @property
    def source_text(self) -> str:
        """The set's source voltages in words: the band and its extreme points, or the
        network's set-points."""
        if self.source_vm_band is None:
            return "every source at the network's set-point"
        a, b = self.source_vm_band
        if a == b:  # a zero-width band: one source voltage, no corners (ut45b B6)
            return f"every source held at {a:.4f} p.u. (a zero-width band)"
        return (f"every source anywhere in {a:.4f}-{b:.4f} p.u. (each extreme point holds "
                "each source at one end of the band, both ends taken)")

    @property
    def worst_case_proven(self) -> bool | None:
        """Whether the chosen topology's worst case is proven (None: no topology)."""
        status = self.worst_case_search_status
        return None if status is None else status == "optimal"

    def objective_bound_text(self, objective: float,
                             lower_bound: float | None = None) -> str | None:
        """:func:`worst_case_bound_text` of this run, whose objective and lower bound are
        ``objective`` and ``lower_bound``."""
        return worst_case_bound_text(objective, self.worst_case_objective_kw,
                                     self.worst_case_bound_kw, self.worst_case_search_status,
                                     lower_bound)

    @property
    def held_by_inexact(self) -> list[str]:
        """The extreme points whose AC power flow breaks a limit while the model needed no
        slack there only by an inexact relaxation (as
        :attr:`StochasticSummary.held_by_inexact`)."""
        return [v.name for v in self.vertices
                if v.ac is not None and not v.ac.within_limits and v.outcome.feasible
                and v.outcome.relaxation_exact is False]

    @property
    def inexact_vertices(self) -> list[VertexOutcome]:
        """The extreme points at which the SOCP relaxation is not exact at the chosen topology
        (as :attr:`StochasticSummary.inexact_scenarios`)."""
        return [v for v in self.vertices if v.outcome.relaxation_exact is False]

    @property
    def ac_checked(self) -> list[VertexOutcome]:
        """The extreme points whose AC power flow ran (at most
        :data:`MAX_AC_SCENARIOS` of them)."""
        return [v for v in self.vertices if v.ac is not None]

    @property
    def ac_breaking(self) -> list[VertexOutcome]:
        """The extreme points whose AC power flow breaks a limit or did not converge."""
        return [v for v in self.ac_checked if not v.ac.within_limits]

    @property
    def worst_case_ac(self) -> VertexOutcome | None:
        """The extreme point with the largest AC losses over those whose AC power flow ran and
        converged, ``max_k L_k^AC``: the true worst-case losses beside the model's
        :attr:`worst_case_losses_kw`, which counts the fictitious losses of an extreme point
        where the relaxation is not exact (g10c under reverse power: the model's worst 513.3
        kW at extreme point 0 is 40.7 kW in AC; the AC worst is 94.9 kW at extreme point 15).
        None when no AC power flow converged, or one did not, or one gave no finite losses."""
        acs = self.ac_checked
        if not acs or any(not v.ac.converged or not math.isfinite(v.ac.losses_kw)
                          for v in acs):
            return None
        return max(acs, key=lambda v: float(v.ac.losses_kw))

    @property
    def extreme_points_text(self) -> str:
        """The number of extreme points for a person: exact up to a million, else rounded
        (2^96 printed as 79228162514264337593543950336 is unreadable)."""
        n = self.extreme_points
        return f"{n}" if n < 1_000_000 else f"about {float(n):.3g}"

    @property
    def ac_scope(self) -> str:
        """Which extreme points the AC figures cover: "every extreme point", or "N of the M
        extreme points" (the evaluated ones, up to the cap)."""
        n = len(self.ac_checked)
        if n == self.extreme_points:
            return "every extreme point"
        return f"{n} of the {self.extreme_points_text} extreme points"

    @property
    def inexact_note(self) -> str | None:
        """A note naming the extreme points at which the SOCP relaxation is not exact at the
        chosen topology (:func:`inexact_note`, the scenarios' wording), with the model's and
        the AC power flow's losses there and the worst case over the AC power flows: the
        model's worst-case losses are "not" that worst case only when they differ beyond
        rounding (:func:`same_kw`), and a missing figure (an extreme point needs slack: the
        model has no worst-case losses) is not quoted; None when the relaxation is exact at
        every extreme point (an extreme point that needs slack is not compared:
        :func:`feederopt.results.uncertain_verdict.slave_outcome`)."""
        worst = self.worst_case_ac
        model = self.worst_case_losses_kw
        known = model is not None and math.isfinite(model)
        if worst is None:
            consequence = (f"the model's worst-case losses ({_kw(model)}) are not the true "
                           "ones" if known else "the worst case over the AC power flows is "
                           "not known") + " (an AC power flow did not converge)"
        elif not known:  # an extreme point needs slack: the model has no worst-case losses
            consequence = (f"the worst case over the AC power flows at {self.ac_scope} is "
                           f"{_kw(worst.ac.losses_kw)} at {worst.name}")
        elif same_kw(float(model or 0.0), float(worst.ac.losses_kw)):
            # the inexact points' fictitious losses stay below the worst case (r_012: "are
            # not the worst case ... (148.123 kW ...)" beside the model's 148.123 kW)
            consequence = (f"the model's worst-case losses ({_kw(model)}) are the worst "
                           f"case over the AC power flows at {self.ac_scope} as well "
                           f"({_kw(worst.ac.losses_kw)} at {worst.name}): the worst case is "
                           "unaffected")
        else:
            consequence = (f"the model's worst-case losses ({_kw(model)}) are not the worst "
                           f"case over the AC power flows at {self.ac_scope} "
                           f"({_kw(worst.ac.losses_kw)} at {worst.name})")
        return inexact_note(
            [(v.name, v.inexact_text or "") for v in self.inexact_vertices],
            "extreme point(s)", consequence)

    @property
    def with_slack(self) -> list[tuple[str, float]]:
        """The extreme points that need slack in the model at the chosen topology, with their
        total slack [p.u.] (as :attr:`StochasticSummary.with_slack`)."""
        return [(f"extreme point {v.vertex}", float(v.outcome.violation_pu or 0.0))
                for v in self.vertices if not v.outcome.feasible]

    @property
    def budget_binds_nothing(self) -> bool:
        """A budget not below the number of uncertain loads: every uncertain load may
        deviate at once, as in the box without a budget."""
        return self.budget is not None and self.budget >= len(self.uncertain_loads)

    @property
    def worst_vertex(self) -> int | None:
        """The extreme point that is infeasible, else needs most slack, else loses most."""
        if not self.vertices:
            return None
        return max(self.vertices, key=lambda v: ((not v.outcome.feasible),
                                                 v.outcome.violation_pu or 0.0,
                                                 _key(v.outcome.losses_kw))).vertex

    def vertex_text(self, vertex: int | None, shown: int = 12) -> str:
        """The uncertain loads that deviate at extreme point ``vertex``, with their sign
        (:func:`deviation_text`: ``30+, 32+; the others at nominal``); "" when the point is not
        known. The console named only the point's number (user test ut_growth), its signs were
        in the JSON's ``u``; then the first 12 loads whatever their sign, hiding the deviating
        ones behind "0"s (user test ut47_report #1)."""
        hit = next((v for v in self.vertices if v.vertex == vertex), None)
        if hit is None or len(hit.u) != len(self.uncertain_loads):
            return ""
        text = deviation_text(self.uncertain_loads, hit.u, shown)
        if hit.source_vm_pu:
            text += "; source " + ", ".join(f"{b} at {v:.4f} p.u."
                                            for b, v in hit.source_vm_pu.items())
        return text

    @property
    def ac_all(self) -> AcAllVerdict:
        """The one AC verdict over the extreme points checked (:func:`ac_all_verdict`): those
        the solve evaluated (every one when they are enumerated; the upper corner alone on a
        passive feeder, the model's worst case there; the worst-case search's otherwise)."""
        why = {"monotone": "on this passive feeder the model's worst case is the upper "
                           "corner, the only one evaluated" + (
                               " (at each corner of the source band)"
                               if self.source_vm_band is not None else ""),
               "dual": "the worst-case search evaluated only these"}.get(str(self.oracle), "")
        return ac_all_verdict([(v.vertex, v.name, v.ac) for v in self.vertices],
                              "extreme point", self.extreme_points, self.extreme_points_text,
                              why)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.ac_all.to_dict(),
            "robust": [v.to_dict() for v in self.vertices],
            "robust_summary": {
                "uncertainty": self.uncertainty,
                "uncertain_loads": list(self.uncertain_loads),
                "budget": self.budget,
                # the sources' band [a, b] (p.u.; null: the network's set-points)
                "source_vm_band_pu": None if self.source_vm_band is None
                else [float(x) for x in self.source_vm_band],
                "extreme_points": self.extreme_points,
                "oracle": self.oracle,
                "oracle_s": self.oracle_s,
                "uncertified_topologies": self.uncertified_topologies,
                # the convex model's verdict (no slack at any extreme point evaluated); the
                # AC power flows' is ac_within_limits_all
                "robust_feasible": self.robust_feasible,
                # the worst case found at the topology (a value it attains) and the proven
                # upper bound on it, equal unless the search stopped (worst_case_proven false)
                "worst_case_objective_kw": _num(self.worst_case_objective_kw),
                "worst_case_bound_kw": _num(self.worst_case_bound_kw),
                "worst_case_proven": self.worst_case_proven,
                "worst_case_search_status": self.worst_case_search_status,
                "worst_case_losses_kw": self.worst_case_losses_kw,
                "worst_case_violation_pu": self.worst_case_violation_pu,
                "worst_vertex": self.worst_vertex,
                "worst_vertex_ac": None if self.worst_vertex_ac is None
                else self.worst_vertex_ac.to_dict(),
                # the extreme points where the relaxation is not exact (the model's losses
                # there include losses no power flow has), as stochastic.inexact_scenarios
                "inexact_vertices": [v.vertex for v in self.inexact_vertices],
                # the worst case over the extreme points' AC power flows (the true losses)
                "worst_case_ac_losses_kw": None if (w := self.worst_case_ac) is None
                else _num(w.ac.losses_kw),
                "worst_case_ac_vertex": None if w is None else w.vertex,
                "ac_checked_vertices": len(self.ac_checked),
                "ac_limits_broken_vertices": [v.vertex for v in self.ac_breaking],
                "headline_load": "nominal",
                "slave_solves": self.slave_solves,
                "workers": self.workers,
                "executor": self.executor,
                "topologies_evaluated": self.topologies_evaluated,
                "least_violating_search_iterations": self.least_violating_search_iterations,
                "least_violating_bound_pu": _num(self.least_violating_bound_pu),
                "least_violating_exchange_local_optimum":
                    self.least_violating_exchange_local_optimum,
            },
        }


#: Why a robust result read from an old file (:data:`~feederopt._version.UNRECORDED_SEARCH_STATUS`
#: as its ``worst_case_search_status``) gives no status for its worst-case search: the console
#: and the report say this, not "stopped with status not proven" (user test session 39).
UNRECORDED_NOTE = "result written before feederopt recorded the search's status"

#: The label of the row beside a robust run's objective when the worst-case search did not
#: prove the topology's worst case (console and report).
WORST_CASE_BOUND_LABEL = "upper bound on the worst case"


def worst_case_bound_text(objective: float | None, found: float | None,
                          bound: float | None, status: str | None,
                          lower_bound: float | None = None) -> str | None:
    """The value of the row :data:`WORST_CASE_BOUND_LABEL` of a robust run whose worst-case
    search stopped (``status`` not ``optimal``) before proving the chosen topology's worst
    case: the objective's upper bound, ``objective + (bound - found)`` in kW-eq (the objective
    is the worst case ``found`` plus the switching cost), and why it is not the objective;
    ``bound`` None or inf: no bound. The topology's worst case (plus switching cost) lies
    between ``max(objective, lower_bound)`` and that bound; a worst case found below the run's
    lower bound is said to be so; a result converted from an old file
    (:func:`~feederopt._version.robust_as_current`, ``status``
    :data:`~feederopt._version.UNRECORDED_SEARCH_STATUS`) says that the search did not prove
    it and that the file did not record why (:data:`UNRECORDED_NOTE`). None when the worst
    case is proven (the objective is the worst case) or not known. The console
    (:meth:`RobustSummary.objective_bound_text`) and the report (from result.json's
    ``robust_summary``) print the same words."""
    if status is None or status == "optimal" or objective is None \
            or not math.isfinite(objective):
        return None
    if status == UNRECORDED_SEARCH_STATUS:
        tail = f"the worst-case search did not prove the topology's worst case ({UNRECORDED_NOTE})"
    else:
        why = ("at its time limit" if status == "time_limit" else f"with status {status}")
        tail = (f"the worst-case search (SCIP) stopped {why} before proving the topology's "
                "worst case")
    below = lower_bound is not None and math.isfinite(lower_bound) and lower_bound > objective
    low = (f"the lower bound ({lower_bound:.4f} kW-eq; the worst case found, the objective, "
           "lies below it: the search did not reach the worst extreme point)" if below
           else "the objective, the worst case found,")
    if bound is None or found is None or not math.isfinite(bound) or not math.isfinite(found):
        return f"none ({tail}, without a bound: the gap is open)"
    return (f"{objective + max(bound - found, 0.0):.4f} kW-eq ({tail}: it lies between "
            f"{low} and this bound; the gap is measured from the bound)")


def _loading_dict(top: tuple[float, str, str] | None) -> dict[str, Any]:
    return {"ac_max_loading_percent": None if top is None else top[0],
            "ac_max_loading_element": None if top is None else top[1],
            "ac_max_loading_scenario": None if top is None else top[2]}


#: Two losses [kW] closer than this (or than ``SAME_KW_REL`` of the larger) are the same: the
#: solvers' tolerance, below the 0.001 kW that the notes print.
SAME_KW_ABS = 1e-3
SAME_KW_REL = 1e-6


def same_kw(a: float, b: float) -> bool:
    """Whether losses ``a`` and ``b`` [kW] agree within rounding, ``|a - b| <= max(
    SAME_KW_ABS, SAME_KW_REL max(|a|, |b|))``: a note does not call 148.123 kW "not" 148.123
    kW."""
    return abs(a - b) <= max(SAME_KW_ABS, SAME_KW_REL * max(abs(a), abs(b)))


def _kw(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.3f} kW"


def _key(x: float | None) -> float:
    return x if x is not None and math.isfinite(x) else -math.inf


UncertainSummary = StochasticSummary | RobustSummary
