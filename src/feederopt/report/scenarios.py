"""The solve report's sections of a scenario (stochastic) or robust run.

A stochastic or robust ``feederopt solve ... --out DIR`` result holds, besides its headline
figures (which are the chosen topology's at the **nominal load**, the network's own loads:
:data:`feederopt.results.uncertain_verdict.NOMINAL_NOTE`), one row per scenario or extreme
point (:meth:`feederopt.results.uncertain.StochasticSummary.to_dict`,
:meth:`~feederopt.results.uncertain.RobustSummary.to_dict`):

* ``scenarios``: name, normalised ``weight`` (the probability), ``source_vm_pu`` (the voltage
  each source bus is held at in the scenario: its ``source`` row, else the network's
  set-point), the SOCP model's
  ``losses_kw``, total slack ``violation_pu``, ``min_voltage_pu`` and ``feasible``, the
  limits it needs slack at (``violations``), whether the relaxation is exact there
  (``relaxation_gap``, ``relaxation_exact``, ``relaxation_note``: "relaxation not exact (model
  X kW, AC Y kW)"), and ``ac``: pandapower's Newton-Raphson of the
  chosen topology at the scenario's loads (:class:`feederopt.validation.scenario_ac.ScenarioAc`:
  losses, V min (and its bus), V max, the largest branch loading, the limits broken);
* ``stochastic``, ``worst_scenario``: the expected values (the model's losses and, beside
  them, ``expected_ac_losses_kw`` over the AC power flows; ``inexact_scenarios``) and the worst
  scenario;
* ``robust``: one row per extreme point (the signs ``u`` of the loads' deviations, the model's
  losses, slack, voltages, feasibility, violations, whether the relaxation is exact there as
  for a scenario, and ``ac``, its AC power flow), ``robust_summary`` the totals
  (``inexact_vertices``; ``worst_case_ac_losses_kw`` over the AC power flows beside the
  model's ``worst_case_losses_kw``; ``ac_limits_broken_vertices``; ``robust_feasible``, the
  convex model's verdict; the worst case found, ``worst_case_objective_kw``, and the proven
  ``worst_case_bound_kw`` above it when ``worst_case_proven`` is false, the worst-case search
  having stopped first: the summary's row "upper bound on the worst case") and
  ``worst_vertex_ac``, the AC power flow at the worst extreme point;
* ``ac_within_limits_all``, ``ac_all_check``: the one AC verdict over every scenario (extreme
  point checked), :class:`feederopt.results.uncertain.AcAllVerdict`, in the summary.

Everything is read from the result document; nothing is recomputed here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from feederopt._version import UNRECORDED_SEARCH_STATUS
from feederopt.report.page import MAX_ROWS, _finite, _note, fmt, kv_table, section
from feederopt.results.result import loading_limit_text
from feederopt.results.uncertain import (
    UNRECORDED_NOTE,
    WORST_CASE_BOUND_LABEL,
    ac_all_label,
    ac_all_text,
    deviation_text,
    expected_objective_terms,
    worst_case_bound_text,
)

#: What a limit of a diagnosis or violation entry means.
LIMITS = {"v_min": "voltage below its minimum", "v_max": "voltage above its maximum",
          "i_max": "current rating", "s_max": "apparent-power rating",
          "loading": "loading above the rating", "p_balance": "active power not supplied",
          "q_balance": "reactive power not supplied"}

#: An element of a table named in the singular ("bus c", not "buses c").
SINGULAR = {"buses": "bus", "branches": "branch", "lines": "line", "transformers": "transformer",
            "trafos": "trafo", "loads": "load", "generators": "generator"}


def nominal_note() -> str:
    """The headline figures of a scenario or robust run are the nominal load's."""
    from feederopt.results.uncertain_verdict import NOMINAL_NOTE

    return (f"Nominal load: {NOMINAL_NOTE}; each scenario's (extreme point's) figures are in "
            "the Scenarios (Robust) section below.")


def is_uncertain(r: Mapping[str, Any]) -> bool:
    """Whether ``r`` is a stochastic or robust solve result (its headline is the nominal
    load's)."""
    return (r.get("headline_load") == "nominal" or isinstance(r.get("stochastic"), Mapping)
            or isinstance(r.get("robust_summary"), Mapping))


def violation_text(d: Mapping[str, Any]) -> str:
    """One broken limit in the user's ids and units, e.g. ``bus c: v_min (voltage below its
    minimum) 0.8940 p.u. against 0.9000 p.u., by 0.006022 p.u.``."""
    comp = str(d.get("component", ""))
    limit = str(d.get("limit", "?"))
    unit = str(d.get("unit") or "")
    text = f"{SINGULAR.get(comp, comp)} {d.get('id', '?')}: {limit}"
    if limit in LIMITS:
        text += f" ({LIMITS[limit]})"
    value, rating = _finite(d.get("value")), _finite(d.get("rating"))
    loading = _finite(d.get("loading_percent"))
    spec = ".4f" if unit == "p.u." else ".4g"  # voltages to 1e-4 p.u., as the tables
    if value is not None and rating is not None:
        text += f" {value:{spec}} {unit} against {rating:{spec}} {unit}"
        if loading is not None and unit != "%":
            text += f" ({loading:.1f} % of the limit)"
    amount = _finite(d.get("amount"))
    if amount is not None:
        text += f", by {amount:.4g} {unit}"
    return text.strip()


def violations_table(items: Any) -> str:
    """Broken limits (the AC check's ``limit_violations``, a diagnosis) as a table with
    readable headers: the element, the limit broken, its value, the limit's value (a bus's
    ``v_min``/``v_max``, a branch's rating as held), by how much and, for a rating, the
    loading in % of the limit; first each row's scenario when a row has one (a scenario
    run's diagnosis). The unit goes into the headers when every row has the same,
    else into each cell."""
    rows = [d for d in items or [] if isinstance(d, Mapping)]
    units = {str(d.get("unit") or "") for d in rows}
    one = units.pop() if len(units) == 1 else None
    head = f" [{one}]" if one else ""

    def num(x: Any, unit: str) -> str:
        spec = ".4f" if unit == "p.u." else ".4g"  # voltages to 1e-4 p.u., as the tables
        return fmt(x, spec, "" if one is not None or not unit else f" {unit}")

    loading = any(_finite(d.get("loading_percent")) is not None for d in rows)
    # a scenario run's diagnosis: each row's scenario (ut50_scen #3: every row was scenario
    # d's, which the table did not say)
    scenario = any(d.get("scenario") is not None for d in rows)
    columns = (["scenario"] if scenario else []) + [
        "element", "limit broken", f"value{head}", f"limit{head}",
        f"exceeded by{head}"] + (["loading [% of the limit]"] if loading else [])
    body = []
    for d in rows:
        comp, limit, unit = str(d.get("component", "")), str(d.get("limit", "?")), \
            str(d.get("unit") or "")
        cells = ([str(d["scenario"]) if d.get("scenario") is not None else "-"]
                 if scenario else []) + [
                 f"{SINGULAR.get(comp, comp)} {d.get('id', '?')}",
                 f"{limit} ({LIMITS[limit]})" if limit in LIMITS else limit,
                 num(d.get("value"), unit), num(d.get("rating"), unit),
                 fmt(d.get("amount"), ".4g", "" if one is not None or not unit
                     else f" {unit}")]
        if loading:
            cells.append(fmt(d.get("loading_percent"), ".1f"))
        body.append(cells)
    return text_table(columns, body)


def _violations(items: Any) -> str:
    rows = [d for d in items or [] if isinstance(d, Mapping)]
    return "; ".join(violation_text(d) for d in rows) if rows else "none"


def _yes_no(x: Any) -> str:
    return "-" if x is None else "yes" if x else "no"


def _ac_verdict(ac: Mapping[str, Any] | None) -> str:
    """Whether the AC power flow at the scenario's loads keeps every limit."""
    if not ac:
        return "- (no AC power flow)"
    if not ac.get("converged"):
        return "no (did not converge)"
    return _yes_no(ac.get("within_limits"))


def ac_all_row(r: Mapping[str, Any]) -> tuple[str, str] | None:
    """The summary's row of a scenario or robust result's one AC verdict over every scenario
    (extreme point checked): its label and its text (``ac_all_check``, :class:`~feederopt.
    results.uncertain.AcAllVerdict`), escaped, marked when it is not True; None for another
    result or one written before the field existed."""
    every = r.get("ac_all_check")
    if not isinstance(every, Mapping) or not every.get("text"):
        return None
    text = escape(ac_all_text(every["text"]))
    if r.get("ac_within_limits_all") is not True:
        text = f'<span class="warn">{text}</span>'
    return escape(ac_all_label(str(every.get("of") or "scenario"))), text


def _ac_all_cell(r: Mapping[str, Any]) -> str | None:
    """The one AC verdict's text for a totals table (``yes: ...``/``no: ...``, an older
    file's ``True:``/``False:`` read as such); None without one."""
    every = r.get("ac_all_check")
    text = every.get("text") if isinstance(every, Mapping) else None
    return None if text is None else ac_all_text(text)


def _robust_summary(r: Mapping[str, Any]) -> Mapping[str, Any]:
    raw = r.get("robust_summary")
    return raw if isinstance(raw, Mapping) else {}


def worst_case_unproven(r: Mapping[str, Any]) -> bool:
    """Whether ``r`` is a robust result whose worst-case search stopped before proving the
    topology's worst case (its objective is the worst case found)."""
    status = _robust_summary(r).get("worst_case_search_status")
    return status is not None and status != "optimal"


def worst_case_bound_row(r: Mapping[str, Any]) -> tuple[str, str] | None:
    """The summary's row beside the objective of such a robust result: the objective's
    upper bound and why (:func:`~feederopt.results.uncertain.worst_case_bound_text`, the
    console's words), escaped and marked; None for any other result."""
    summ = _robust_summary(r)
    text = worst_case_bound_text(_finite(r.get("objective")),
                                 _finite(summ.get("worst_case_objective_kw")),
                                 _finite(summ.get("worst_case_bound_kw")),
                                 summ.get("worst_case_search_status"),
                                 _finite(r.get("lower_bound")))
    if text is None:
        return None
    return escape(WORST_CASE_BOUND_LABEL), f'<span class="warn">{escape(text)}</span>'


def text_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of already formatted cells (escaped here); numbers right-aligned; at most
    :data:`~feederopt.report.page.MAX_ROWS` rows (the rest is counted in a note)."""
    def td(text: str) -> str:
        try:
            num = math.isfinite(float(text))
        except ValueError:
            num = False
        return f'<td class="num">{escape(text)}</td>' if num else f"<td>{escape(text)}</td>"

    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(td(c) for c in row) + "</tr>" for row in rows[:MAX_ROWS])
    more = len(rows) - MAX_ROWS
    note = f'<p class="note">{more} more rows in result.json.</p>' if more > 0 else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


#: The per-scenario table's columns.
SCENARIO_COLUMNS = (
    "scenario", "probability", "source V [p.u.]", "model losses [kW]", "model slack (sum)",
    "model V min [p.u.]", "model within limits", "model relaxation", "AC losses [kW]",
    "AC V min [p.u.]",
    "AC V min at bus", "AC V max [p.u.]", "AC max loading [%]", "AC max loading at",
    "AC within limits", "AC limits broken", "model needs slack at",
)


def _relaxation(s: Mapping[str, Any]) -> str:
    """Whether the SOCP relaxation is exact in a scenario (``relaxation_exact``): ``exact``,
    its ``relaxation_note`` (``relaxation not exact (model X kW, AC Y kW)``), ``-`` when not
    known (a result written before the field existed)."""
    exact = s.get("relaxation_exact")
    if exact is None:
        return "-"
    return "exact" if exact else str(s.get("relaxation_note") or "relaxation not exact")


def source_vm_text(held: Any) -> str:
    """A scenario's source voltages (its ``source_vm_pu``: bus id -> p.u.) for a person:
    ``1.0350`` for one source bus, ``42: 1.0350; 7: 1.0000`` for several, ``-`` when not
    recorded."""
    if not isinstance(held, Mapping) or not held:
        return "-"
    if len(held) == 1:
        return fmt(next(iter(held.values())), ".4f")
    return "; ".join(f"{b}: {fmt(v, '.4f')}" for b, v in held.items())


def _scenario_row(s: Mapping[str, Any]) -> list[str]:
    ac = s.get("ac") if isinstance(s.get("ac"), Mapping) else None
    acv = ac or {}
    return [
        str(s.get("scenario", "-")),
        fmt(s.get("weight"), ".4g"),
        source_vm_text(s.get("source_vm_pu")),
        fmt(s.get("losses_kw"), ".3f"),
        fmt(s.get("violation_pu"), ".3g"),
        fmt(s.get("min_voltage_pu"), ".4f"),
        _yes_no(s.get("feasible")),
        _relaxation(s),
        fmt(acv.get("losses_kw"), ".3f"),
        fmt(acv.get("min_voltage_pu"), ".4f"),
        str(acv.get("min_voltage_bus") or "-"),
        fmt(acv.get("max_voltage_pu"), ".4f"),
        fmt(acv.get("max_loading_percent"), ".2f"),
        str(acv.get("max_loading_element") or "-"),
        _ac_verdict(ac),
        _violations(acv.get("violations")) if ac else "-",
        _violations(s.get("violations")),
    ]


def _objective_terms(st: Mapping[str, Any], switching: Any) -> str | None:
    """The terms of the expected objective (:func:`~feederopt.results.uncertain.
    expected_objective_terms`, as the console gives them); None without a penalty."""
    penalty = _finite(st.get("penalty_kw_per_pu"))
    if penalty is None:
        return None
    return expected_objective_terms(_finite(st.get("expected_objective_kw")),
                                    _finite(st.get("expected_losses_kw")),
                                    _finite(st.get("expected_violation_pu")), penalty,
                                    dict(switching) if isinstance(switching, Mapping) else None)


def _loading_note(r: Mapping[str, Any]) -> str:
    """What the AC max loading is: % of the rating (pandapower's ``loading_percent``), with
    the limit the ratings were held to when ``--max-loading`` moved it (the AC check's
    ``loading_limit_percent``, else ``settings.max_loading_percent``)."""
    ac = r.get("ac_check")
    st = r.get("settings")
    if isinstance(ac, Mapping) and "loading_limit_percent" in ac:
        limit = loading_limit_text(ac.get("loading_limit_percent"))
    elif isinstance(st, Mapping):
        limit = loading_limit_text(st.get("max_loading_percent", 100.0))
    else:
        limit = ""
    return f"in % of the rating{' (' + limit + ')' if limit else ''}"


def scenarios_section(r: Mapping[str, Any]) -> str:
    """Every scenario's model and AC figures, its verdict and its broken limits, then the
    expected values and the worst scenario."""
    rows = [s for s in r.get("scenarios") or [] if isinstance(s, Mapping)]
    n = len(rows)
    body = _note(
        f"{n} scenario(s), one topology for all. Probability: the scenario's weight, "
        "normalised to sum to 1. Source V: the voltage each source bus is held at in the "
        "scenario, in the model and in its AC power flow (its source row's vm_pu, else the "
        "network's set-point). Model: the SOCP relaxation at the chosen topology (model slack "
        "(sum): the sum of the model's slack variables, in mixed units (p.u. of power, of "
        "squared voltage and of squared current), 0 within the limits; not the amount by "
        "which any limit is broken: the AC columns and the notes give those; relaxation not "
        "exact: its losses "
        "include losses that no power flow has, by which it may hold voltages within the "
        "limits that the AC power flow breaks). AC: pandapower's Newton-Raphson "
        "power flow of the chosen topology at the scenario's loads, the true operating "
        f"point; max loading over the rated branches, {_loading_note(r)} (- when none is "
        "rated). The headline "
        "figures above are the nominal load's, not a scenario's.")
    table = [_scenario_row(s) for s in rows]
    if not any("source_vm_pu" in s for s in rows):
        # a result written before scenarios recorded their source voltage: no empty column
        k = SCENARIO_COLUMNS.index("source V [p.u.]")
        body += text_table(SCENARIO_COLUMNS[:k] + SCENARIO_COLUMNS[k + 1:],
                           [row[:k] + row[k + 1:] for row in table])
    else:
        body += text_table(SCENARIO_COLUMNS, table)
    st = r.get("stochastic")
    if isinstance(st, Mapping):
        worst_run = st.get("objective") == "worst"
        body += ("<h3>Worst-case objective and expected values</h3>" if worst_run
                 else "<h3>Expected values</h3>") + kv_table({
            "scenarios": st.get("scenario_count"),
            # what the run minimised (its objective, bound and gap); absent before it was
            # recorded (an expected-value run)
            "objective (minimised)": (
                f"worst case over {st.get('scenario_count')} scenarios: the largest scenario "
                "value (losses plus the slack penalty) plus the switching cost"
                if worst_run else
                f"expected value over {st.get('scenario_count')} scenarios"),
            **({"worst-case objective [kW]": st.get("worst_objective_kw")}
               if worst_run else {}),
            "within the limits in AC (every scenario)": _ac_all_cell(r),
            "expected losses (model) [kW]": st.get("expected_losses_kw"),
            "expected losses (AC power flows) [kW]": st.get("expected_ac_losses_kw"),
            "scenarios where the relaxation is not exact":
                ", ".join(str(x) for x in st["inexact_scenarios"])
                if st.get("inexact_scenarios") else
                ("none" if "inexact_scenarios" in st else None),
            "expected objective [kW]": st.get("expected_objective_kw"),
            "expected objective: what it sums": _objective_terms(st, r.get("switching")),
            "expected model slack (sum)": st.get("expected_violation_pu"),
            "scenarios that need slack": st.get("infeasible_scenarios"),
            "largest AC loading over the scenarios [%]": st.get("ac_max_loading_percent"),
            "largest AC loading: branch, scenario":
                (f"{st.get('ac_max_loading_element')}, {st.get('ac_max_loading_scenario')}"
                 if st.get("ac_max_loading_element") else None),
            "penalty [kW per p.u. of slack]": st.get("penalty_kw_per_pu"),
            "slave solves": st.get("slave_solves"),
        })
    worst = r.get("worst_scenario")
    if isinstance(worst, Mapping):
        body += "<h3>Worst scenario (largest objective)</h3>" + kv_table({
            "scenario": worst.get("scenario"),
            "model losses [kW]": worst.get("losses_kw"),
            "model slack (sum)": worst.get("violation_pu"),
            "penalty [kW]": worst.get("penalty_kw"),
            "model within limits": worst.get("feasible"),
            "model V min [p.u.]": worst.get("min_voltage_pu"),
        })
    return section("scenarios", "Scenarios", body)


def _signs(u: Any, loads: Sequence[Any]) -> str:
    """The loads that deviate at an extreme point with their signs, as the console names them
    (:func:`~feederopt.results.uncertain.deviation_text`, every one named); the bare signs
    in the order of the uncertain loads when those are not recorded; "-" without ``u``."""
    if not isinstance(u, Sequence) or isinstance(u, str):
        return "-"
    if len(loads) != len(u):
        return " ".join({1: "+", -1: "-", 0: "0"}.get(x, str(x)) for x in u)
    return deviation_text(loads, u, shown=None)


#: The extreme-point table's columns.
ROBUST_COLUMNS = (
    "extreme point", "deviating loads (others at nominal)", "model losses [kW]",
    "model slack (sum)", "model V min [p.u.]", "model V max [p.u.]", "model within limits",
    "model relaxation", "AC losses [kW]", "AC V min [p.u.] (bus)", "AC V max [p.u.]",
    "AC within limits",
    "model needs slack at",
)


def _robust_feasible(summ: Mapping[str, Any]) -> Any:
    """``robust_feasible`` (the convex model's verdict), qualified when the model's "yes"
    rests on an inexact relaxation or an extreme point's AC power flow breaks a limit (the
    console's wording)."""
    feasible = summ.get("robust_feasible")
    broken = summ.get("ac_limits_broken_vertices") or []
    inexact = summ.get("inexact_vertices") or []
    if feasible is not True or not (broken or inexact):
        return feasible
    if broken:
        return ("yes, not in AC: the AC power flow breaks a limit at extreme point(s) "
                + ", ".join(str(x) for x in broken))
    return ("yes (its relaxation is not exact at extreme point(s) "
            + ", ".join(str(x) for x in inexact) + "); the AC power flows break no limit")


def _band_clause(band: Any) -> str:
    """The robust table's words on the source band: each source at an end of it, or, for a
    zero-width band, every source held at its one voltage (ut45b B6)."""
    if isinstance(band, list) and len(band) == 2 and band[0] == band[1]:
        return f"; a zero-width band: every source held at {band[0]:.4f} p.u."
    return f"; each source at an end of the band {_band_text(band)}"


def _band_text(band: Any) -> str:
    """A robust set's source band (``source_vm_band_pu``) for a person; "-" without one (the
    network's set-points)."""
    if isinstance(band, list) and len(band) == 2 and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in band):
        if band[0] == band[1]:  # zero width: one voltage (ut45b B6)
            return f"{band[0]:.4f} (every source held there)"
        return f"{band[0]:.4f}-{band[1]:.4f} (each source at either end)"
    return "- (the network's set-points)"


def _held_text(held: Any) -> str:
    """An extreme point's source voltages (``source_vm_pu``), after its signs; "" without."""
    if not isinstance(held, Mapping) or not held:
        return ""
    return "; source " + source_vm_text(held)


def _vertex_row(v: Mapping[str, Any], loads: Sequence[Any] = ()) -> list[str]:
    """An extreme point's row of :data:`ROBUST_COLUMNS` (AC ``-`` where none ran; the AC
    power flow's lowest voltage with its bus beside its highest: before, only "AC V max" was
    shown, user test ut46_pyapi)."""
    ac = v.get("ac") if isinstance(v.get("ac"), Mapping) else None
    acv = ac or {}
    return [str(v.get("vertex", "-")),
            _signs(v.get("u"), loads) + _held_text(v.get("source_vm_pu")),
            fmt(v.get("losses_kw"), ".3f"),
            fmt(v.get("violation_pu"), ".3g"), fmt(v.get("min_voltage_pu"), ".4f"),
            fmt(v.get("max_voltage_pu"), ".4f"), _yes_no(v.get("feasible")), _relaxation(v),
            fmt(acv.get("losses_kw"), ".3f"), _v_at_bus(acv),
            fmt(acv.get("max_voltage_pu"), ".4f"),
            "-" if ac is None else _ac_verdict(ac), _violations(v.get("violations"))]


def _v_at_bus(ac: Mapping[str, Any]) -> str:
    """The AC power flow's lowest voltage and its bus (``min_voltage_pu``,
    ``min_voltage_bus``: the extreme point's ``ac_min_voltage_pu`` of the robust table),
    ``0.9384 (32)``; ``-`` where none ran or it did not converge."""
    v = fmt(ac.get("min_voltage_pu"), ".4f")
    bus = ac.get("min_voltage_bus")
    return f"{v} ({bus})" if v != "-" and bus is not None else v


def robust_section(r: Mapping[str, Any]) -> str:
    """Every extreme point's model figures, the robust totals and the AC power flow at the
    worst extreme point."""
    rows = [v for v in r.get("robust") or [] if isinstance(v, Mapping)]
    raw = r.get("robust_summary")
    summ: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    loads = summ.get("uncertain_loads") or []
    budget = summ.get("budget")
    budgeted = (isinstance(budget, int) and not isinstance(budget, bool)
                and budget < len(loads))
    # a budgeted set's extreme points are not the box's vertices (user test ut49_robust #5c)
    where = ("of the budgeted set (nominal x (1 + u x uncertainty), u in {-1, 0, 1} per "
             f"uncertain load with at most {budget} nonzero" if budgeted else
             "of the load box (nominal x (1 + u x uncertainty), u the signs per uncertain "
             "load")
    body = _note(
        f"One row per extreme point {where}"
        + (f": {', '.join(str(x) for x in loads[:50])}" if loads else "")
        + (" ..." if len(loads) > 50 else "")
        + (_band_clause(summ.get("source_vm_band_pu"))
           if isinstance(summ.get("source_vm_band_pu"), list) else "")
        + "). Model: the SOCP relaxation at the chosen topology. The headline figures above "
        f"are the nominal load's. AC max loading: {_loading_note(r)}.")
    body += text_table(ROBUST_COLUMNS, [_vertex_row(v, loads) for v in rows])
    if summ:
        unc = _finite(summ.get("uncertainty"))
        body += "<h3>Robust totals</h3>" + kv_table({
            "uncertainty [%]": unc * 100 if unc is not None else None,
            "budget (loads that deviate at once)": summ.get("budget"),
            "source voltage band [p.u.]": _band_text(summ.get("source_vm_band_pu")),
            "extreme points": summ.get("extreme_points"),
            # without a topology nothing was held to the extreme points (ut_unc #2)
            "feasible at every extreme point (convex model)": (
                _robust_feasible(summ) if r.get("has_topology", True)
                else "- (no topology found)"),
            # the AC power flows' verdict beside the model's (the summary's row as well)
            "within the limits in AC (every extreme point checked)": _ac_all_cell(r),
            "worst-case losses (model) [kW]": summ.get("worst_case_losses_kw"),
            # found at the topology, and proven above it (equal unless the search stopped)
            "worst case found (objective without switching cost) [kW]":
                summ.get("worst_case_objective_kw"),
            "upper bound on the worst case [kW]": summ.get("worst_case_bound_kw"),
            "worst case proven": None if summ.get("worst_case_search_status") is None
            else ("yes" if summ.get("worst_case_proven") else
                  f"no (the worst-case search did not prove it; {UNRECORDED_NOTE})"
                  if summ.get("worst_case_search_status") == UNRECORDED_SEARCH_STATUS else
                  f"no (the worst-case search ended {summ.get('worst_case_search_status')})"),
            "extreme points where the relaxation is not exact":
                ", ".join(str(x) for x in summ["inexact_vertices"])
                if summ.get("inexact_vertices") else
                ("none" if "inexact_vertices" in summ else None),
            "worst-case losses (AC power flows) [kW]": summ.get("worst_case_ac_losses_kw"),
            "AC worst-case extreme point": summ.get("worst_case_ac_vertex"),
            "worst-case slack [p.u.]": summ.get("worst_case_violation_pu"),
            "worst extreme point": summ.get("worst_vertex"),
            "oracle": summ.get("oracle"),
        })
        ac = summ.get("worst_vertex_ac")
        if isinstance(ac, Mapping):
            body += ("<h3>AC power flow at the worst extreme point</h3>"
                     + text_table(("extreme point", "AC losses [kW]", "AC V min [p.u.]",
                              "AC V min at bus", "AC V max [p.u.]", "AC max loading [%]",
                              "AC max loading at", "AC within limits", "AC limits broken"),
                             [[str(summ.get("worst_vertex", "-")),
                               fmt(ac.get("losses_kw"), ".3f"),
                               fmt(ac.get("min_voltage_pu"), ".4f"),
                               str(ac.get("min_voltage_bus") or "-"),
                               fmt(ac.get("max_voltage_pu"), ".4f"),
                               fmt(ac.get("max_loading_percent"), ".2f"),
                               str(ac.get("max_loading_element") or "-"),
                               _ac_verdict(ac), _violations(ac.get("violations"))]]))
    return section("robust", "Robust: extreme points", body)
