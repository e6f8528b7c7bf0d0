"""The answer of a day-ahead schedule (``feederopt schedule``): totals, hourly series, the C&CG
log and the worst case, in user ids and SI units (typed; ``to_dict`` for JSON)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from feederopt._version import stamped
from feederopt.algorithms.ccg import ScheduleSolution
from feederopt.formulations.schedule import ScheduleData, realised
from feederopt.results.result import figures_repr, yes_no
from feederopt.validation.schedule import (
    AcHourCheck,
    schedule_verdict_causes,
    schedule_within_limits,
)


@dataclass
class Totals:
    """Day totals of one realisation (MWh over the horizon; one-hour steps)."""

    cost: float  # $
    losses_mwh: float  # sum_h sum_b r (P^2 + Q^2) of the LinDistFlow flows (exact quadratic)
    losses_pwl_mwh: float  # the model's piecewise-linear loss
    purchase_mwh: float  # sum_h ps: the substation's purchase *without* the losses
    import_mwh: float  # sum_h (ps + PWL loss): what the substation supplies, losses included
    load_shed_mwh: float
    renewable_spill_mwh: float
    dg_mwh: float
    ev_unmet_mwh: float
    v_min_pu: float
    v_max_pu: float
    # sum_h c_s,h ps_h [$]: the purchase at each hour's price (the objective's term of ps)
    purchase_cost: float = math.nan
    # sum_h of the power the network's shunts draw at 1 p.u. with the hour's topology (the
    # series' shunt_p_mw): transformers' no-load (iron) losses, the conductance of lines,
    # shunts' p_mw; constant powers in the balances, so inside purchase_mwh and import_mwh,
    # bought at the purchase price (user test ut33: a 160 kVA transformer's 0.46 kW x 24 h
    # was 88 % of an LV feeder's AC losses, and "losses" left it out)
    shunt_losses_mwh: float = math.nan


def pwl_loss_text(totals: Any) -> str:
    """The objective's (piecewise-linear) losses of a :class:`Totals` or its dict, and the
    share by which they lie below ``r (P^2 + Q^2)`` of the same flows (``--loss-tol``):
    ``"0.2847 MWh (10.1 % below)"``."""
    get = totals.get if isinstance(totals, Mapping) else (lambda k: getattr(totals, k, None))
    quad, pwl = get("losses_mwh"), get("losses_pwl_mwh")
    if pwl is None or not math.isfinite(pwl):
        return "-"
    if quad is None or not quad > 0:
        return f"{pwl:.4f} MWh"
    return f"{pwl:.4f} MWh ({100 * (1 - pwl / quad):.1f} % below)"


def ac_losses_mwh(checks: Any) -> float | None:
    """The day's AC losses [MWh] of the hourly AC check (a list of
    :class:`~feederopt.validation.schedule.AcHourCheck` or their dicts): ``sum_h losses_ac_mw``
    (one-hour steps; pandapower's ``pl_mw`` of every branch, the transformers' no-load losses
    included, the shunts' with ``V^2``). None without a check or when an hour did not
    converge (its losses are unknown)."""
    if not checks:
        return None
    total = 0.0
    for c in checks:
        get = c.get if isinstance(c, Mapping) else (lambda k, c=c: getattr(c, k, None))
        value = get("losses_ac_mw")
        if not get("converged") or not isinstance(value, int | float) or not math.isfinite(
                value):
            return None
        total += float(value)
    return total


def loss_rows(totals: Any, label: str, ac_mwh: float | None = None
              ) -> list[tuple[str, str]]:
    """The rows the console and the report print for the losses of one realisation's
    :class:`Totals` (or its dict): the branches' ``r (P^2 + Q^2)``, the shunts' constant draw
    (``shunt_losses_mwh``, when there is one) and their sum, with the AC check's day total
    ``ac_mwh`` beside it when the check ran at this realisation (:func:`ac_losses_mwh`).
    ``[(label, text), ...]``."""
    get = totals.get if isinstance(totals, Mapping) else (lambda k: getattr(totals, k, None))

    def number(v: Any) -> float | None:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        return float(v) if ok else None

    branches, shunts = number(get("losses_mwh")), number(get("shunt_losses_mwh"))
    rows = [(f"{label}: losses in the branches, r(P^2+Q^2)",
             "-" if branches is None else f"{branches:.4f} MWh")]
    if shunts:  # an old result (no field) or a net without shunt losses: no such row
        rows.append((f"{label}: losses in the shunts (no-load, conductance; at 1 p.u.)",
                     f"{shunts:.4f} MWh (constant, in the purchase)"))
    if shunts or ac_mwh is not None:
        both = None if branches is None else branches + (shunts or 0.0)
        text = "-" if both is None else f"{both:.4f} MWh"
        if ac_mwh is not None:
            text += f" (AC check, pandapower: {ac_mwh:.4f} MWh)"
        rows.append((f"{label}: losses in all" + (" (branches and shunts)" if shunts else ""),
                     text))
    return rows


def ac_check_rows(checks: Any, within_limits: bool | None) -> list[tuple[str, str]]:
    """The rows the console's summary and the report's Summary print for the hourly AC check
    (a list of :class:`~feederopt.validation.schedule.AcHourCheck` or their dicts, the JSON's
    ``ac_check``) and its own verdict ``within_limits`` (:attr:`ScheduleResult.
    ac_within_limits`, the AC check's alone; :func:`schedule_verdict_rows` gives the result's):
    over the hours whose power flow converged, the largest ``max_v_error_pu``
    (``max_h max_i |V_AC - V_model|``), the least ``v_min_ac`` and the largest ``v_max_ac``
    (pandapower's, the true voltages), and whether the AC operating points keep the limits.
    ``[(label, text), ...]``; none without a check. The report had only the hourly table,
    without the verdict (user test ut38_cli #2)."""
    if not checks:
        return []

    def get(c: Any, key: str) -> Any:
        return c.get(key) if isinstance(c, Mapping) else getattr(c, key, None)

    def numbers(key: str) -> list[float]:
        out = []
        for c in checks:
            v = get(c, key)
            if (get(c, "converged") and isinstance(v, int | float) and not isinstance(v, bool)
                    and math.isfinite(v)):
                out.append(float(v))
        return out

    def text(values: list[float], pick: Any) -> str:
        return f"{pick(values):.4f}" if values else "-"

    err = numbers("max_v_error_pu")
    return [("AC check: max |V_AC - V_model|", f"{text(err, max)} p.u." if err else "-"),
            ("AC check: V min / V max (AC, true)",
             f"{text(numbers('v_min_ac'), min)} / {text(numbers('v_max_ac'), max)} p.u."),
            ("AC check: within limits", yes_no(within_limits))]


def recorded_checks(result: Any) -> tuple[bool | None, Mapping[str, Any] | None]:
    """The two checks a schedule result (a :class:`ScheduleResult` or its JSON read back)
    records: its hourly AC check's verdict (``ac_within_limits``; a result written before
    smalls41, schema 3, has it as ``within_limits`` and no ``ac_within_limits``) and its
    samples' check (``sample_check``, None without ``--samples``)."""
    get = result.get if isinstance(result, Mapping) else (
        lambda k, d=None: getattr(result, k, d))
    ac = get("ac_within_limits", get("within_limits"))
    return (ac if isinstance(ac, bool) else None), get("sample_check")


def recorded_verdict(result: Any) -> bool | None:
    """A schedule result's one verdict as it records it (its JSON's ``within_limits``, the exit
    code 4 ``feederopt schedule`` gave it): false when its hourly AC check or one of its own
    samples fails (:func:`~feederopt.validation.schedule.schedule_within_limits` of
    :func:`recorded_checks`), also when a result written since smalls41 says false itself;
    None when neither check ran. A result written before smalls41 (schema 3) has only the AC
    check's verdict as ``within_limits``: it is read as the AC's, as before, and its samples
    join it by the same rule. ``feederopt check`` carries it into its own verdict
    (:func:`feederopt.api_schedule.check_schedule_result`'s ``result_within_limits``)."""
    if (isinstance(result, Mapping) and "ac_within_limits" in result
            and result.get("within_limits") is False):
        return False  # written since smalls41: within_limits is the one verdict
    return schedule_within_limits(*recorded_checks(result))


def schedule_verdict_rows(result: Any) -> list[tuple[str, str]]:
    """The console's and the report's row of a schedule result's one verdict
    (:attr:`ScheduleResult.within_limits`, or a result dict's ``within_limits``, the AC
    check's ``ac_within_limits`` and ``sample_check``), naming the checks that fail:
    ``[("within limits (AC check and samples)", "no: 3 of 12 sampled ...")]``; none when
    neither check ran. A result dict written before smalls41 has the AC check's verdict
    as its ``within_limits`` and no ``ac_within_limits``: that one is read as the AC's."""
    ac, sc = recorded_checks(result)
    verdict = schedule_within_limits(ac, sc)
    if verdict is None:
        return []
    causes = schedule_verdict_causes(ac, sc)
    ran = " and ".join(x for x, on in (("AC check", ac is not None),
                                        ("samples", bool(sc))) if on)
    return [(f"within limits ({ran})", yes_no(verdict) + (f": {'; '.join(causes)}" if causes
                                                      else ""))]


def worst_found_text(objective: float | None, first_stage_cost: float | None,
                     worst_cost: float | None, milp_bound: bool = False) -> str | None:
    """What a robust schedule says of the worst case found at *its own* first stage, when
    the objective lies above it: ``first_stage_cost + worst_cost`` is a cost the schedule
    meets in the budget set, and the objective is an upper bound (the policy's or the
    subproblem's), so the schedule's exact worst-case cost ``Q*`` lies between the two:
    ``first_stage + worst.cost <= Q* <= objective``. None when there is no such gap (or no
    worst case). The console's summary and the report's print this same text (the C&CG
    log's "worst Q" values are each at their own iteration's first stage: ut_sched2 #2).
    ``milp_bound``: the objective is the MILP subproblem's unproven dual bound, which the text
    says is not a cost (user test ut49_sched #1)."""
    def number(v: Any) -> float | None:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        return float(v) if ok else None

    upper, first, worst = number(objective), number(first_stage_cost), number(worst_cost)
    if upper is None or first is None or worst is None:
        return None
    seen = first + worst
    if not upper > seen + 1e-9 * max(1.0, abs(worst)):
        return None
    if milp_bound:
        return (f"{seen:,.4f} $ (at this schedule; the objective above is the MILP worst-case "
                "subproblem's dual bound at its time limit, not a cost: the schedule's exact "
                "worst-case cost lies between the two; see the notes)")
    return (f"{seen:,.4f} $ (at this schedule; the objective above is an upper bound: the "
            "schedule's exact worst-case cost lies between the two; see the notes)")


def _hours(values: Any) -> list[int]:
    """Hour keys or numbers (``"0"``, ``3``) as sorted integers."""
    return sorted(int(h) for h in values)


def hour_spans(hours: Any) -> str:
    """Hours as runs, ``0-3, 7`` for 0, 1, 2, 3, 7 (``-`` for none): the console's compact
    form of the worst case's hours."""
    runs: list[list[int]] = []
    for h in _hours(hours):
        if runs and h == runs[-1][1] + 1:
            runs[-1][1] = h
        else:
            runs.append([h, h])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs) or "-"


#: The columns of :func:`worst_case_rows`.
WORST_CASE_COLUMNS = ("element", "hours above the forecast", "hours below the forecast",
                      "hours short of its availability")


def worst_case_rows(wc: Mapping[str, Any], compact: bool = False) -> list[dict[str, str]]:
    """The worst case's deviations (``worst_case`` of result.json: ``loads`` ``{bus: {hour:
    +1 | -1}}``, ``renewables_down`` ``{unit: [hours]}``) as one row per element
    (:data:`WORST_CASE_COLUMNS`): the hours it lies above its forecast, below it, or (a
    renewable unit) short of its availability; listed (``0, 1, 2, 7``), or ``compact`` as
    runs (``0-2, 7``: :func:`hour_spans`). The report's "Worst case" table and the console's
    (``feederopt schedule`` of a robust run) show these rows."""
    def shown(hours: Any) -> str:
        listed = _hours(hours)
        return hour_spans(listed) if compact else ", ".join(map(str, listed)) or "-"

    rows = []
    for bus, by_hour in (wc.get("loads") or {}).items():
        rows.append(dict(zip(WORST_CASE_COLUMNS, (
            f"load at bus {bus}", shown(h for h, sign in by_hour.items() if sign > 0),
            shown(h for h, sign in by_hour.items() if sign < 0), "-"), strict=True)))
    for unit, hours in (wc.get("renewables_down") or {}).items():
        rows.append(dict(zip(WORST_CASE_COLUMNS, (f"renewable unit {unit}", "-", "-",
                                                  shown(hours)), strict=True)))
    return rows


def schedule_switching(result: Mapping[str, Any]) -> tuple[int, float] | None:
    """A schedule with a topology per hour (``settings.hourly``): the number of switching
    actions, ``sum_{h >= 1} |open_h xor open_{h-1}|`` over the hours' open lines (each branch
    that opens or closes between two hours is one action, ``|y_{b,h} - y_{b,h-1}|`` of the
    model), and their cost, that number times ``settings.c_switch`` ($ per action: the
    switching part of ``first_stage_cost``, which also holds the DG no-load cost with
    ``--dg-commitment``). None for one topology for the day."""
    settings = result.get("settings") or {}
    if not settings.get("hourly"):
        return None
    hours = [set(map(str, row)) for row in result.get("open_lines_by_hour") or []]
    n = sum(len(a ^ b) for a, b in pairwise(hours))
    price = settings.get("c_switch")
    price = float(price) if isinstance(price, int | float) and not isinstance(price,
                                                                                bool) else 0.0
    return n, n * price


def schedule_switching_text(result: Mapping[str, Any]) -> str | None:
    """The console's and the report's line on :func:`schedule_switching`: ``4 (0.0800 $ at
    0.02 $ each)``; None for one topology for the day."""
    found = schedule_switching(result)
    if found is None:
        return None
    n, cost = found
    price = float((result.get("settings") or {}).get("c_switch") or 0.0)
    return (f"{n} ({cost:,.4f} $ at {price:g} $ each, in the first-stage cost)" if price else
            f"{n} (no switching cost: --switch-cost 0)")


def present_switching_text(result: Mapping[str, Any]) -> str | None:
    """The console's and the report's line on ``switching_from_present``: the moves from the
    network's present switch states (its normally-open branches) to the day's topology (hour
    0's with ``--hourly-topology``), ``4 moves to the day's topology: open 7, 9; close 33, 35
    (not in the objective)``, or that there are none. None for a result without the block
    (written before user test ut47_sched #6, when these moves were neither counted nor
    reported)."""
    block = result.get("switching_from_present")
    if not isinstance(block, Mapping) or not block:
        return None
    to_open = [str(b) for b in block.get("to_open") or []]
    to_close = [str(b) for b in block.get("to_close") or []]
    target = str(block.get("topology") or "the day's topology")
    if not to_open and not to_close:
        return f"none: {target} is the network's present state"
    parts = ([f"open {', '.join(to_open)}"] if to_open else []) + (
        [f"close {', '.join(to_close)}"] if to_close else [])
    n = len(to_open) + len(to_close)
    return (f"{n} move{'s' if n != 1 else ''} to {target}: {'; '.join(parts)} (not in the "
            "objective)")


@dataclass
class HourlySeries:
    """Per-hour series of one realisation (lists over hours, per device where named).

    The model's hourly balances close with these alone (LinDistFlow, lossless; the losses are
    the priced term of the seed's (1) and, in ``import_p_mw``, taken from the substation):

    ``import_p_mw + sum dg_mw + sum ess_discharge_mw + sum renewable_mw + sum
    network_gen_p_mw + load_shed_mw = demand_mw + sum ess_charge_mw + sum ev_mw +
    losses_pwl_mw + shunt_p_mw`` (``import_p_mw - losses_pwl_mw = substation_p_mw``, the
    purchase), and ``substation_q_mvar + sum dg_q_mvar + sum network_gen_q_mvar + sum
    voltage_control_q_mvar + load_shed_mvar + shunt_q_mvar = demand_q_mvar`` (no reactive
    losses in the model; the network's shunts at 1 p.u., with the hour's topology). The
    hourly AC check injects exactly these set-points (DG ``P`` and ``Q`` included)."""

    #: ps: the purchase, without the losses (priced separately). The name is kept for
    #: compatibility; ``purchase_p_mw`` holds the same values under the name setpoints.csv
    #: gives them (there ``substation_p_mw`` is the import with the losses, this series'
    #: ``import_p_mw``; user test ut49_sched #5: one name, two meanings across files).
    substation_p_mw: list[float]
    substation_q_mvar: list[float]
    dg_mw: dict[str, list[float]]
    ess_charge_mw: dict[str, list[float]]
    ess_discharge_mw: dict[str, list[float]]
    ess_soc_mwh: dict[str, list[float]]
    renewable_mw: dict[str, list[float]]
    #: Each unit's available output in the series' realisation (the worst case's in a robust
    #: run, the forecast otherwise); ``renewable_forecast_mw`` until session 29, which named
    #: the worst case's availability "forecast" (user test ut_sched4 #7).
    renewable_available_mw: dict[str, list[float]]
    ev_mw: dict[str, list[float]]
    demand_mw: list[float]
    dsm_shift_mw: dict[str, list[float]]  # pdr - pd per bus (only buses that shift)
    v_min_pu: list[float]
    v_max_pu: list[float]
    v_mean_pu: list[float]
    losses_mw: list[float]  # r (P^2 + Q^2) of the LinDistFlow flows (exact quadratic)
    # the model's piecewise-linear loss sum_b (lp + lq) per hour [MW]
    losses_pwl_mw: list[float] = field(default_factory=list)
    # ps + sum_b (lp + lq): the substation's import with the hour's modelled losses, which
    # --import-limit bounds [MW]
    import_p_mw: list[float] = field(default_factory=list)
    dg_q_mvar: dict[str, list[float]] = field(default_factory=dict)  # qdg per unit
    # the network's own generators (pandapower sgen/gen: set-point x profile) per generator
    network_gen_p_mw: dict[str, list[float]] = field(default_factory=dict)
    network_gen_q_mvar: dict[str, list[float]] = field(default_factory=dict)
    # reactive power of a voltage-controlling gen's bus (the model's qpv), per bus
    voltage_control_q_mvar: dict[str, list[float]] = field(default_factory=dict)
    demand_q_mvar: list[float] = field(default_factory=list)  # sum_n k_{n,h} pdr (after DSM)
    load_shed_mw: list[float] = field(default_factory=list)  # sum_n pr per hour
    load_shed_mvar: list[float] = field(default_factory=list)  # sum_n k_{n,h} pr per hour
    load_shed_by_bus_mw: dict[str, list[float]] = field(default_factory=dict)  # buses that shed
    # the substation purchase price c_s,h [$/MWh] (the profile element ``price``, or c_buy)
    price_per_mwh: list[float] = field(default_factory=list)
    # c_s,h * substation_p_mw [$]: the hour's purchase cost (the losses priced separately)
    purchase_cost: list[float] = field(default_factory=list)
    # the network's shunts at 1 p.u. with the hour's topology: drawn [MW], injected [MVAr]
    shunt_p_mw: list[float] = field(default_factory=list)
    shunt_q_mvar: list[float] = field(default_factory=list)
    #: ps: the purchase without the losses, the same values as ``substation_p_mw`` under the
    #: unambiguous name of setpoints.csv's column (user test ut49_sched #5)
    purchase_p_mw: list[float] = field(default_factory=list)


@dataclass
class ScheduleResult:
    case: str
    method: str
    status: str
    hours: int
    settings: dict[str, Any]
    objective: float
    lower_bound: float
    gap: float
    open_lines: list[str]  # daily topology (hour 0 with --hourly-topology)
    open_lines_by_hour: list[list[str]]
    first_stage_cost: float
    nominal: Totals
    worst: Totals | None
    series: HourlySeries  # of the worst case (robust) or the forecast (deterministic)
    worst_case: dict[str, Any] | None
    iterations: list[dict[str, Any]]
    run_time_s: float
    violations: list[str]
    notes: list[str] = field(default_factory=list)
    ac_check: list[AcHourCheck] = field(default_factory=list)
    sample_check: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    #: The first-stage storage modes: 1 discharge, 0 charge, per ESS and hour.
    ess_discharge_mode: dict[str, list[int]] = field(default_factory=dict)
    #: The day-ahead DG commitment (with ``dg_commitment``): 1 on, per DG and hour.
    dg_commitment: dict[str, list[int]] = field(default_factory=dict)
    #: The open lines as ``feederopt solve`` gives them (``open_branches``): ``id``,
    #: ``from_bus``, ``to_bus`` (and the branch's user ``name`` and ``operated_by``, the
    #: pandapower switches, where known);
    #: the day's (hour 0 with --hourly-topology) and per hour. ``open_lines`` keep the bare ids.
    open_branches: list[dict[str, str]] = field(default_factory=list)
    open_branches_by_hour: list[list[dict[str, str]]] = field(default_factory=list)
    #: Each storage unit's SOC limits [MWh]: ``e_max_mwh`` (0 <= soc <= it) and ``soc0_mwh``
    #: (the SOC before hour 0, which the last hour's SOC may not fall below).
    ess_limits_mwh: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Robust runs: whether the schedule's worst case was searched. False when the run stopped
    #: before any search (the master fell back to the radial start, or the subproblem found
    #: nothing in time): ``worst`` and ``worst_case`` are then null, ``series`` the forecast's,
    #: and no "worst case" rows are printed (there is none). None: deterministic.
    worst_searched: bool | None = None
    #: Robust runs: True when ``objective`` is the MILP worst-case subproblem's dual bound at
    #: its time limit (a McCormick relaxation), not a cost: no recourse policy bound held and
    #: the subproblem did not finish (user test ut49_sched #1: 664.55 $ against a worst case
    #: found of 1.63 $). The console, the report and the notes say so. None: deterministic.
    objective_is_milp_bound: bool | None = None
    #: The hourly AC check's verdict alone: whether the hourly AC operating points keep the
    #: limits the model held (bus voltage bands, branch ratings, the import limit:
    #: :func:`feederopt.validation.schedule.ac_within_limits`). None: no AC check
    #: (``--no-ac-check``, or the run was interrupted). The result's one verdict is
    #: :attr:`within_limits`, which also holds the samples; until smalls41 this field was
    #: ``within_limits``.
    ac_within_limits: bool | None = None
    #: The base case: the hourly AC check at the network's own switch states with the same
    #: hour-by-hour injections as ``ac_check`` (:func:`feederopt.validation.base_case.
    #: hourly_base_case`): ``losses_mwh`` (the day's AC losses), ``min_voltage_pu`` at
    #: ``min_voltage_hour``, ``within_limits``, ``voltage_limits`` and ``rating_limits``
    #: (each broken limit once, at its worst ``hour``), ``hours_breaking``; empty without an
    #: AC check.
    base: dict[str, Any] = field(default_factory=dict)
    #: The switch moves from the network's present state (its normally-open branches) to
    #: the day's topology (hour 0's with ``--hourly-topology``): ``to_open`` and ``to_close``
    #: (branch ids), ``moves`` and ``topology`` (which one, in words). Reported only: the
    #: objective (and ``--switch-cost``, the moves between hours) does not price them (user
    #: test ut47_sched #6). :func:`present_switching_text` is its line.
    switching_from_present: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return figures_repr("ScheduleResult", {
            "case": self.case, "method": self.method, "status": self.status,
            "hours": self.hours, "objective": self.objective,
            "lower_bound": self.lower_bound, "gap": self.gap, "open_lines": self.open_lines,
            "series_realisation": self.series_realisation,
            "within_limits": self.within_limits,
            "ac_within_limits": self.ac_within_limits, "violations": self.violations,
            "iterations": len(self.iterations), "run_time_s": self.run_time_s,
            "notes": len(self.notes)})

    @property
    def within_limits(self) -> bool | None:
        """The result's one verdict, the JSON's ``within_limits`` and the one rule of
        ``feederopt schedule``'s exit code 4 (:func:`feederopt.validation.schedule.
        schedule_within_limits`): false when the hourly AC check breaks a limit
        (:attr:`ac_within_limits` false) or when one realisation of ``samples`` is not served
        without slack (``sample_check``); None when neither check ran."""
        return schedule_within_limits(self.ac_within_limits, self.sample_check)

    @property
    def verdict_causes(self) -> list[str]:
        """Why :attr:`within_limits` is false, one phrase per failing check (empty
        otherwise: :func:`feederopt.validation.schedule.schedule_verdict_causes`)."""
        return schedule_verdict_causes(self.ac_within_limits, self.sample_check)

    @property
    def validity(self) -> str:
        """The verdict of the checks (:func:`validity_text`), as the console prints it."""
        return validity_text(self.violations, bool(self.ac_check),
                             self.status == "interrupted")

    @property
    def series_realisation(self) -> str:
        """Which realisation ``series`` holds: ``worst_case`` (a robust run: the worst case
        found, its demand and renewable availability) or ``forecast``."""
        return "worst_case" if self.worst is not None else "forecast"

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": "schedule", **asdict(self)}
        at = list(out).index("series")
        items = list(out.items())
        items.insert(at, ("series_realisation", self.series_realisation))
        # the one verdict before the AC check's own (schedule_within_limits)
        at = [k for k, _ in items].index("ac_within_limits")
        items.insert(at, ("within_limits", self.within_limits))
        return _clean(stamped("schedule", dict(items)))


def validity_text(violations: list[str], ac_checked: bool, interrupted: bool = False) -> str:
    """The verdict of a schedule's checks, for the console and the report alike: the
    violations found (``violations``: the model's checks of the answer and the hourly AC
    check's), or "all checks hold"; and, when the hourly AC check did not run
    (``ac_checked`` false: ``--no-ac-check``, or ``interrupted``), that it was skipped, so the
    AC voltages, loadings and import are not verified (user test ut33_sched #2: a run with
    ``--no-ac-check`` read "all checks hold")."""
    skipped = ("" if ac_checked else
               "AC check not run (" + ("the run was interrupted" if interrupted else
                                      "--no-ac-check") + "): the AC voltages, branch loadings "
               "and import are not verified")
    if violations:
        return "; ".join([*violations, *([skipped] if skipped else [])])
    if skipped:
        return f"the model's checks hold (radiality, storage, DSM, renewables); {skipped}"
    return "all checks hold"


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, float | np.floating):
        # + 0.0 writes a solver's -0.0 (a bound at zero, rounded) as 0.0 (ut33_sched #6)
        return float(x) + 0.0 if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    return x


#: Decimals of the hourly series: 1e-9 MW, so that the balances of :class:`HourlySeries` close
#: to 1e-6 from the result alone (at 6 decimals the rounding of ten terms could reach 5e-6).
DIGITS = 9


def _loss_by_hour(d: ScheduleData, point: dict[str, np.ndarray]) -> np.ndarray:
    H, m = d.hours, d.m
    p = point["P"].reshape(H, m)
    q = point["Q"].reshape(H, m)
    return np.asarray((d.r * (p ** 2 + q ** 2)).sum(1))


def _shunt_by_hour(d: ScheduleData, closed: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """What the network's shunts draw [MW] and inject [MVAr] per hour, (H,) each: the fixed
    ones (``shunt_p``, ``shunt_q``) plus the switchable branches' with their state ``closed``
    (H, m) (every branch closed when None), at 1 p.u. as in the balances."""
    H, m = d.hours, d.m
    y = np.ones((H, m)) if closed is None else np.asarray(closed, float).reshape(H, m)
    sh_p = (d.shunt_p.sum() if d.shunt_p is not None else 0.0) + (
        y @ d.y_shunt_p.sum(0) if d.y_shunt_p is not None else np.zeros(H))
    sh_q = (d.shunt_q.sum() if d.shunt_q is not None else 0.0) + (
        y @ d.y_shunt_q.sum(0) if d.y_shunt_q is not None else np.zeros(H))
    return (np.broadcast_to(np.asarray(sh_p, float), (H,)),
            np.broadcast_to(np.asarray(sh_q, float), (H,)))


def totals(d: ScheduleData, point: dict[str, np.ndarray], cost: float,
           closed: np.ndarray | None = None) -> Totals:
    """The day totals of ``point``; ``closed`` the (H, m) branch states (for the shunts of
    switchable branches; every branch closed when not given)."""
    H, n = d.hours, d.n
    v = np.sqrt(np.maximum(point["v"].reshape(H, n), 0.0))
    return Totals(
        cost=cost, losses_mwh=float(_loss_by_hour(d, point).sum()),
        losses_pwl_mwh=float(point["lp"].sum() + point["lq"].sum()),
        purchase_mwh=float(point["ps"].sum()),
        import_mwh=float(point["ps"].sum() + point["lp"].sum() + point["lq"].sum()),
        load_shed_mwh=float(point["pr"].sum()),
        renewable_spill_mwh=float(point["spill"].sum()), dg_mwh=float(point["pdg"].sum()),
        ev_unmet_mwh=float(point["short"].sum()), v_min_pu=float(v.min()),
        v_max_pu=float(v.max()), purchase_cost=float(d.buy_price() @ point["ps"]),
        shunt_losses_mwh=float(_shunt_by_hour(d, closed)[0].sum()),
    )


def unpriced_loss_notes(d: ScheduleData, points: Mapping[str, dict[str, np.ndarray]]
                        ) -> list[str]:
    """A note per realisation whose losses the objective does not price at all: every
    branch's ``|P|`` and ``|Q|`` in every hour is at most half the first tangent point ``a0``
    of the piecewise-linear loss, where every tangent ``r (2 a |P| - a^2)`` is ``<= 0``, so
    ``lp = lq = 0`` and the schedule's choices do not weigh the losses (the totals report
    them all the same). ``points``: ``{label: point}``."""
    a0 = min(d.tangents, default=math.inf)
    out = []
    for label, point in points.items():
        flow = max(float(np.abs(point["P"]).max(initial=0.0)),
                   float(np.abs(point["Q"]).max(initial=0.0)))
        quad = float(_loss_by_hour(d, point).sum())
        if not (quad > 0 and flow <= a0 / 2):
            continue
        first = ("no tangent point below the flow bound" if not math.isfinite(a0) else
                 f"its first tangent point is {a0:.4g} MW, twice or more the largest flow, "
                 f"{flow:.4g} MW")
        out.append(
            f"{label}: the objective prices none of the losses ({quad:.4g} MWh of "
            f"r(P^2+Q^2) in the branches): {first} of the piecewise-linear loss, below which "
            "it is 0, so the schedule does not weigh the losses (the totals and the AC check "
            "report them all the same). The tangent points follow the flow bound "
            f"{d.flow_max:.4g} MW (the peak load plus the storage and EV ratings; "
            "problems.schedule.loss_tangents); --loss-tol spaces them more finely but "
            "starts at the same first point: a storage or EV rating far above the flows "
            "raises it")
    return out


def series(d: ScheduleData, ids: dict[str, list[str]], bus_ids: list[str],
           point: dict[str, np.ndarray], xi: dict[str, np.ndarray],
           closed: np.ndarray | None = None) -> HourlySeries:
    """The hourly series of ``point`` (the class docstring gives the balances they close);
    ``ids["gen"]``: the network's generator ids, in the order of ``d.gen_bus``; ``closed``
    the (H, m) branch states (every branch closed when not given)."""
    H, n, m = d.hours, d.n, d.m
    sh_p, sh_q = _shunt_by_hour(d, closed)
    pd, res = realised(d, xi)

    def per(name: str, key: str) -> dict[str, list[float]]:
        k = len(ids[key])
        arr = point[name].reshape(H, k)
        return {i: arr[:, j].round(DIGITS).tolist() for j, i in enumerate(ids[key])}

    v = np.sqrt(np.maximum(point["v"].reshape(H, n), 0.0))
    pdr = point["pdr"].reshape(H, n)
    pr = point["pr"].reshape(H, n)
    shift = pdr - pd
    pwl = (point["lp"] + point["lq"]).reshape(H, m).sum(1)
    gen_ids = ids.get("gen", [])
    k_gen = len(gen_ids)
    gp = d.gen_p if d.gen_p is not None else np.zeros((H, k_gen))
    gq = d.gen_q if d.gen_q is not None else np.zeros((H, k_gen))
    pv_bus = d.pv()[0]
    qpv = point["qpv"].reshape(H, len(pv_bus)) if len(pv_bus) else np.zeros((H, 0))
    moving = np.flatnonzero(np.abs(shift).max(0) > 1e-6)
    return HourlySeries(
        substation_p_mw=point["ps"].round(DIGITS).tolist(),
        purchase_p_mw=point["ps"].round(DIGITS).tolist(),
        substation_q_mvar=point["qs"].round(DIGITS).tolist(),
        dg_mw=per("pdg", "dg"), ess_charge_mw=per("pch", "ess"),
        ess_discharge_mw=per("pdis", "ess"), ess_soc_mwh=per("soc", "ess"),
        renewable_mw=per("pres", "res"),
        renewable_available_mw={i: res[:, j].round(DIGITS).tolist()
                               for j, i in enumerate(ids["res"])},
        ev_mw=per("pev", "ev"), demand_mw=pd.sum(1).round(DIGITS).tolist(),
        dsm_shift_mw={bus_ids[j]: shift[:, j].round(DIGITS).tolist() for j in moving},
        v_min_pu=v.min(1).round(DIGITS).tolist(), v_max_pu=v.max(1).round(DIGITS).tolist(),
        v_mean_pu=v.mean(1).round(DIGITS).tolist(),
        losses_mw=_loss_by_hour(d, point).round(DIGITS).tolist(),
        losses_pwl_mw=pwl.round(DIGITS).tolist(),
        import_p_mw=(point["ps"] + pwl).round(DIGITS).tolist(),
        dg_q_mvar=per("qdg", "dg"),
        network_gen_p_mw={i: gp[:, j].round(DIGITS).tolist() for j, i in enumerate(gen_ids)},
        network_gen_q_mvar={i: gq[:, j].round(DIGITS).tolist() for j, i in enumerate(gen_ids)},
        voltage_control_q_mvar={bus_ids[int(b)]: qpv[:, j].round(DIGITS).tolist()
                                for j, b in enumerate(pv_bus)},
        demand_q_mvar=(pdr * d.kq()).sum(1).round(DIGITS).tolist(),
        load_shed_mw=pr.sum(1).round(DIGITS).tolist(),
        load_shed_mvar=(pr * d.kq()).sum(1).round(DIGITS).tolist(),
        load_shed_by_bus_mw={bus_ids[j]: pr[:, j].round(DIGITS).tolist()
                             for j in np.flatnonzero(pr.max(0) > 1e-6)},
        price_per_mwh=d.buy_price().round(DIGITS).tolist(),
        purchase_cost=(d.buy_price() * point["ps"]).round(DIGITS).tolist(),
        shunt_p_mw=np.broadcast_to(sh_p, (H,)).round(DIGITS).tolist(),
        shunt_q_mvar=np.broadcast_to(sh_q, (H,)).round(DIGITS).tolist(),
    )


def worst_case_summary(d: ScheduleData, bus_ids: list[str], res_ids: list[str],
                       xi: dict[str, np.ndarray]) -> dict[str, Any]:
    """Where the worst case deviates: ``{bus: {hour: +1|-1}}`` and ``{unit: [hours]}``."""
    H, n, U = d.hours, d.n, len(d.res_bus)
    sign = (xi["xp"] - xi["xm"]).reshape(H, n)
    loads = {bus_ids[j]: {str(h): int(sign[h, j]) for h in np.flatnonzero(sign[:, j])}
             for j in np.flatnonzero(np.abs(sign).sum(0))}
    xr = xi["xr"].reshape(H, U)
    res = {res_ids[u]: [int(h) for h in np.flatnonzero(xr[:, u])]
           for u in np.flatnonzero(xr.sum(0))}
    return {"loads": loads, "renewables_down": res,
            "load_deviations": int(np.abs(sign).sum()), "renewable_deviations": int(xr.sum())}


def iteration_dicts(sol: ScheduleSolution) -> list[dict[str, Any]]:
    return [asdict(it) for it in sol.iterations]
