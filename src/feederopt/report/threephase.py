"""The result folder of ``feederopt solve FEEDER.dss --out DIR``: ``result.json`` (the dict of
:func:`feederopt.api_threephase.solve_three_phase` with ``"kind": "three_phase_solve"``),
``voltage_profile.png``, ``grid.png``, a self-contained ``report.html`` and, for a scenario run,
``scenarios.parquet`` (one row per scenario: :mod:`feederopt.results.uncertain_tables`).

The product's rule is that every answer is checked by a full AC power flow; for a three-phase
feeder that is OpenDSS's, with the model's taps and capacitors held, and the page shows it: the
losses, the voltage range per phase, the unbalance, LinDist3Flow's largest voltage error, the
de-energised nodes and the load they leave unserved, and whether the check passed; OpenDSS's
second solve with its own controls acting when the result has it; the notes.

``voltage_profile.png`` has one panel per phase: OpenDSS's node voltages at the answer (blue,
drawn along the closed lines of the answer as OpenDSS's own ``plot profile`` does), the
LinDist3Flow voltages of the answer (orange crosses) and OpenDSS's voltages in the base case
(grey, along the base case's closed lines), against the distance from the source over closed
lines (``grid.buses[].distance_m``; the bus order when the feeder has no line lengths), with the
buses' voltage limits as red dotted lines. Nodes below :data:`DEAD_PU` (de-energised) are left
out of the profile; the check counts them. ``grid.png`` is the feeder with its open and closed
switches (:func:`feederopt.report.plot.grid_figure`), on the file's ``BusCoords`` when it has
them, else on the tree layout; buses coloured by their lowest phase voltage in OpenDSS's check.

A scenario run (``--scenarios``: one topology for several load/DER scenarios) has no
top-level ``ac_check``; its check is OpenDSS's solve of the answer in every scenario
(``scenarios`` of the result), shown in a "Scenarios" section (:func:`scenarios_section`) in
place of the check, with the summary's cards on the weighted losses and the per-scenario
verdict, and the badge ``limits_broken`` when a scenario is outside its limits or not passed
(:func:`scenarios_broken`). Its ``node_voltages_pu`` are one scenario's, named by
``node_voltages_scenario`` (the least voltage margin in OpenDSS); the figures and their
captions say so.

Both figures are drawn from ``result.json`` alone, so ``feederopt report DIR`` rebuilds the page
(:func:`rebuild_three_phase_report`) with the folder's PNGs or, when they are gone, redrawn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.io.writing import atomic_folder, write_table
from feederopt.report.page import (
    _finite,
    _note,
    check_writer_arguments,
    fmt,
    image,
    json_text,
    notes_section,
    page,
    records_table,
    section,
)
from feederopt.report.plot import _pyplot, coordinates, figure_png, grid_figure
from feederopt.results.result import ac_verdict, base_verdict_rows, kept_state_label
from feederopt.results.threephase import (
    INFEASIBLE_BOUND_WORDS,
    KEPT_STATE,
    ScenarioSummary,
    base_kept_words,
    status_words,
)
from feederopt.results.uncertain_tables import uncertain_tables
from feederopt.validation.opendss import DEAD_PU

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: result.json's ``kind`` of a three-phase solve folder.
KIND = "three_phase_solve"
#: The figures of the folder, by file name, and what each shows (alt text).
FIGURES = {"voltage_profile.png": "voltage profile per phase", "grid.png": "grid with switch "
           "states"}
PHASES = "abc"
#: The series of the voltage profile: (key in ``node_voltages_pu``, label, the grid's
#: distance and closed-state keys, colour, line style, marker).
SERIES = (
    ("opendss_base", "OpenDSS, base case", "base_distance_m", "base_closed", "0.6", "--", "."),
    ("opendss", "OpenDSS at the answer (the check)", "distance_m", "closed", "tab:blue", "-",
     "o"),
    ("lindist3flow", "LinDist3Flow at the answer (the model)", "distance_m", "closed",
     "tab:orange", "", "x"),
)


def three_phase_result_json(result: Mapping[str, Any]) -> str:
    """``result`` with its ``kind`` as JSON text; non-finite numbers become null
    (:func:`feederopt.report.page.json_text`)."""
    return json_text({"kind": KIND, **result})


# ----- figures -----------------------------------------------------------------------------------
def _grid(result: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    grid = result.get("grid") or {}
    return list(grid.get("buses") or []), list(grid.get("branches") or [])


def _use_distance(buses: Sequence[Mapping[str, Any]]) -> bool:
    """Distances when some bus is a positive distance from the source, else the bus order."""
    return any((_finite(b.get(k)) or 0.0) > 0 for b in buses
               for k in ("distance_m", "base_distance_m"))


def profile_points(result: Mapping[str, Any], series: str, phase: str) -> tuple[
        list[str], np.ndarray, np.ndarray]:
    """The nodes ``bus.phase`` of ``series`` (a key of :data:`SERIES`) that the profile draws:
    their buses, x (distance from the source [km], or the bus's position in ``grid.buses``)
    and |V| [p.u.]: every bus of the grid that has the phase, a voltage of at least
    :data:`DEAD_PU` and a closed path from a source."""
    buses, _ = _grid(result)
    volts: Mapping[str, Any] = (result.get("node_voltages_pu") or {}).get(series) or {}
    dist_key = next(s[2] for s in SERIES if s[0] == series)
    by_distance = _use_distance(buses)
    ids, xs, vs = [], [], []
    for k, b in enumerate(buses):
        v = _finite(volts.get(f"{b['id']}.{phase}"))
        d = _finite(b.get(dist_key))
        if v is None or v < DEAD_PU or d is None:
            continue
        ids.append(str(b["id"]))
        xs.append(d / _length_scale(result) if by_distance else float(k))
        vs.append(v)
    return ids, np.asarray(xs, float), np.asarray(vs, float)


def _length_scale(result: Mapping[str, Any]) -> float:
    """The divisor of ``distance_m`` on the profile's axis: 1000 (km), or 1 when the file's
    lengths have no unit (``grid.length_unit`` ``"none"``: the bare numbers)."""
    grid = result.get("grid")
    unit = grid.get("length_unit") if isinstance(grid, Mapping) else None
    return 1.0 if unit == "none" else 1000.0


def voltage_profile_figure(result: Mapping[str, Any]) -> Figure:
    """One panel per phase (module docstring). Each series' markers are one artist with the
    ``gid`` ``"<series>.<phase>"`` (:func:`profile_points` gives its data)."""
    plt = _pyplot()
    from matplotlib.collections import LineCollection

    buses, branches = _grid(result)
    by_distance = _use_distance(buses)
    volts = result.get("node_voltages_pu") or {}
    fig, axes = plt.subplots(3, 1, figsize=(11, 10), sharex=True)
    for ax, ph in zip(axes, PHASES, strict=True):
        for key, label, _dist, closed_key, colour, ls, marker in SERIES:
            if not volts.get(key):
                continue
            ids, xs, vs = profile_points(result, key, ph)
            if not ids:
                continue
            at = {b: (x, v) for b, x, v in zip(ids, xs, vs, strict=True)}
            if key == "lindist3flow" and not volts.get("opendss"):  # the model alone
                ls = "-"
            if ls:  # along the closed lines between the drawn nodes
                segs = [[at[br["from_bus"]], at[br["to_bus"]]] for br in branches
                        if br.get(closed_key) and br["from_bus"] in at and br["to_bus"] in at]
                ax.add_collection(LineCollection(segs, colors=colour, linestyles=ls,
                                                 linewidths=1.3 if key == "opendss" else 1.0,
                                                 zorder=2))
            ax.plot(xs, vs, ls="none", marker=marker, ms=4 if marker != "." else 5,
                    color=colour, label=label, gid=f"{key}.{ph}", zorder=3,
                    mfc="none" if marker == "o" else colour)
        on_phase = [b for b in buses if ph in str(b.get("phases", ""))]
        limits = sorted({v for b in on_phase for key in ("v_min_pu", "v_max_pu")
                         if (v := _finite(b.get(key))) is not None})
        for k, lim in enumerate(limits):
            ax.axhline(lim, color="tab:red", ls=":", lw=1.2, zorder=1,
                       label="voltage limits" if k == 0 else None)
        ax.set_ylabel(f"phase {ph}: |V| [p.u.]")
        ax.grid(alpha=0.3)
        ax.autoscale_view()
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:  # a series that only another phase has
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.965))
    axes[-1].set_xlabel(("distance from the source over closed lines [km] (the file's line "
                         "lengths)" if _length_scale(result) != 1.0 else
                         "distance from the source over closed lines [the file's length unit: "
                         "its lines give lengths without one]") if by_distance
                        else "bus (order of the grid's bus table; the file gives no line "
                        "lengths)")
    drawn = result.get("node_voltages_scenario")
    fig.suptitle(f"{result.get('case', '')}: voltage profile per phase"
                 + (f", scenario {drawn}" if drawn is not None else ""))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _lowest_voltage(result: Mapping[str, Any]) -> dict[str, float]:
    """Bus -> its lowest live phase voltage in OpenDSS's check (LinDist3Flow's without one)."""
    volts = result.get("node_voltages_pu") or {}
    series = volts.get("opendss") or volts.get("lindist3flow") or {}
    out: dict[str, float] = {}
    for node, v in series.items():
        val = _finite(v)
        if val is None or val < DEAD_PU:
            continue
        bus = node.rsplit(".", 1)[0]
        out[bus] = min(out.get(bus, math.inf), val)
    return out


def grid_figure_3ph(result: Mapping[str, Any]) -> Figure:
    """The feeder with its switch states (:func:`feederopt.report.plot.grid_figure`): the
    answer's open switches (or the base case's without an answer) dashed red, the changed
    ones thick; buses at the file's coordinates or on the tree layout, coloured by their
    lowest phase voltage (:func:`_lowest_voltage`)."""
    buses, branches = _grid(result)
    sources = {str(s) for s in (result.get("grid") or {}).get("sources") or []}
    low = _lowest_voltage(result)
    ids = [str(b["id"]) for b in buses]
    bus_df = pl.DataFrame({
        "id": ids, "is_source": [b in sources for b in ids],
        "vm_ac_pu": pl.Series([low.get(b, math.nan) for b in ids], dtype=pl.Float64),
        "x": pl.Series([_finite(b.get("x")) for b in buses], dtype=pl.Float64),
        "y": pl.Series([_finite(b.get("y")) for b in buses], dtype=pl.Float64)})
    known = set(ids)
    rows = [br for br in branches if br["from_bus"] in known and br["to_bus"] in known]
    br_df = pl.DataFrame({
        "id": [str(br["id"]) for br in rows], "from_bus": [br["from_bus"] for br in rows],
        "to_bus": [br["to_bus"] for br in rows],
        "closed": pl.Series([bool(br["closed"]) for br in rows], dtype=pl.Boolean),
        "switchable": pl.Series([bool(br.get("switchable")) for br in rows],
                                dtype=pl.Boolean)})
    opened = result.get("open_switches") if result.get("has_solution") else \
        result.get("base_open_switches")
    changed = list(result.get("changed_switches") or [])
    title = (f"{result.get('case', '')}: "
             + kept_state_label("open switches", str(result.get("status"))
                                if result.get("has_solution") else "", KEPT_STATE)
             + f" {', '.join(opened or []) or 'none'}"
             + (f"; changed {', '.join(changed)}" if changed else "")
             + ("" if result.get("has_solution") else " (base case: no answer)"))
    fig = grid_figure(bus_df, br_df, coordinates(bus_df, br_df), title, changed)
    if len(fig.axes) > 1:  # the colour bar
        drawn = result.get("node_voltages_scenario")
        fig.axes[-1].set_ylabel("lowest phase |V| in OpenDSS's check [p.u.]" if drawn is None
                                else f"lowest phase |V|, scenario {drawn} [p.u.]")
    return fig


def three_phase_figures(result: Mapping[str, Any]) -> dict[str, bytes]:
    """The folder's PNGs by file name, drawn from ``result``; none without the ``grid`` data
    (a result written before it was added)."""
    buses, branches = _grid(result)
    if not buses:
        return {}
    out = {}
    if result.get("node_voltages_pu"):
        out["voltage_profile.png"] = figure_png(voltage_profile_figure(result))
    if branches:
        out["grid.png"] = figure_png(grid_figure_3ph(result))
    return out


# ----- the page ----------------------------------------------------------------------------------
def _rows(rows: Sequence[tuple[str, str]]) -> str:
    return "<table>" + "".join(f'<tr><th scope="row">{escape(a)}</th><td>{b}</td></tr>'
                               for a, b in rows) + "</table>"


def _names(ids: Sequence[Any] | None) -> str:
    return escape(", ".join(str(i) for i in ids or [])) or "none"


def _min_over(d: Any) -> float | None:
    vals = [v for v in (_finite(x) for x in (d or {}).values()) if v is not None]
    return min(vals) if vals else None


def _scenarios(r: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``scenarios`` block of a scenario run (one topology for several load/DER
    scenarios), None for a run of one load case."""
    sc = r.get("scenarios")
    return sc if isinstance(sc, Mapping) and sc.get("per_scenario") is not None else None


def _scenario_rows(sc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [row for row in sc.get("per_scenario") or [] if isinstance(row, Mapping)]


def scenarios_broken(r: Mapping[str, Any]) -> list[str] | None:
    """The scenarios in which OpenDSS's solution of the answer is outside its voltage limits,
    loads a line or transformer above its rating or does not pass (load left without
    voltage); None when the run has no per-scenario OpenDSS check (no scenarios, no answer,
    ``--no-ac-check``)."""
    sc = _scenarios(r)
    if sc is None or not r.get("has_solution") or "passed" not in sc:
        return None
    bad = [str(row.get("scenario")) for row in _scenario_rows(sc)
           if row.get("within_voltage_limits") is False or row.get("passed") is False
           or row.get("within_thermal_limits") is False]
    if not bad and not (sc.get("passed") and sc.get("within_voltage_limits")
                        and sc.get("within_thermal_limits") is not False):
        bad = ["(the scenarios' summary)"]
    return bad


def _scenario_cards(r: Mapping[str, Any], sc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary's cards of a scenario run: the weighted OpenDSS losses before and after,
    the lowest voltage of any scenario and the per-scenario check's verdict."""
    before, after = _finite(sc.get("base_expected_losses_kw")), _finite(
        sc.get("expected_losses_kw"))
    where = "OpenDSS"
    fb = r.get("voltage_feedback") or {}
    if before is None and after is None and fb.get("enabled"):
        before, after = _feedback_losses(r, "opendss_expected_losses_kw")
        where = "OpenDSS, in the voltage feedback"
    reduction = (before - after) / before * 100 if before and after is not None else None
    rows = _scenario_rows(sc)
    broken = scenarios_broken(r)
    n = len(rows)
    check = ("-" if broken is None else f"passed in all {n} scenarios" if not broken
             else f"limits broken in {', '.join(broken)}")
    if broken is None and r.get("has_solution") and fb.get("enabled"):  # --no-ac-check
        check = "none; feedback: " + ("within the voltage limits" if fb.get(
            "within_voltage_limits") else "voltage limits broken")
    low = [v for v in (_finite(row.get("opendss_min_voltage_pu")) for row in rows)
           if v is not None]
    return [
        (f"expected losses before ({where}, base topology)", fmt(before, ".2f", " kW")),
        (f"expected losses after ({where})", fmt(after, ".2f", " kW")),
        ("reduction", fmt(reduction, ".2f", " %")),
        ("expected loss proxy (LinDist3Flow)", fmt(r.get("loss_proxy_kw"), ".2f", " kW")),
        (f"lowest voltage after (OpenDSS, {n} scenarios)",
         fmt(min(low) if low else None, ".4f", " p.u.")),
        ("OpenDSS check per scenario", check),
        ("time", time_words(r)),
    ]


def time_words(r: Mapping[str, Any]) -> str:
    """The time row of the page: the optimisation's time (``solve_time_s``, what
    ``--time-limit`` bounds) and, when the command line wrote the folder
    (``wall_clock_s``: from the command's start to the answer, reading the network, the
    power flows and the AC check included, writing the outputs not), the wall-clock time
    beside it (user test ut46_dss3 #2: the optimisation's time alone), named as the console
    names it: ``... s to the answer`` (ut47_report #2: "wall-clock in all" here and on the
    console, 9.33 s here, 13.72 s there, which counts the writing too)."""
    text = fmt(r.get("solve_time_s"), ".2f", " s") + " optimisation"
    wall = _finite(r.get("wall_clock_s"))
    return (text if wall is None
            else f"{text}; {wall:.2f} s to the answer (writing the outputs not counted)")


def summary_section(r: Mapping[str, Any]) -> str:
    ac = r.get("ac_check") or {}
    sc = _scenarios(r)
    before, after = _finite(r.get("base_losses_kw")), _finite(ac.get("losses_kw"))
    where = "OpenDSS"
    if not ac and before is None and (r.get("voltage_feedback") or {}).get("enabled"):
        before, after = _feedback_losses(r, "opendss_losses_kw")
        where = "OpenDSS, in the voltage feedback"
    reduction = (before - after) / before * 100 if before and after is not None else None
    dark = _finite(r.get("base_unserved_load_kw"))
    # a base case that leaves load unserved has the losses of a smaller load (ut50_dss3 #4)
    reduction_text = (f"not comparable (the base case leaves {dark:.1f} kW unserved)"
                      if reduction is not None and dark is not None and dark > 1e-6
                      else fmt(reduction, ".2f", " %"))
    passed = ac.get("passed")
    check = ("-" if passed is None else "passed" if passed else "not passed") + (
        ", voltage limits broken" if ac.get("within_voltage_limits") is False else "") + (
        ", ratings broken" if ac.get("within_thermal_limits") is False else "")
    fb = _feedback_answer(r)
    if not ac and fb is not None:  # --no-ac-check: the feedback's OpenDSS solve of the answer
        check = "none; feedback: " + ("within the voltage limits" if fb.get(
            "within_voltage_limits") else "voltage limits broken")
    cards = [
        (f"losses before ({where}, base case)", fmt(before, ".2f", " kW")),
        (f"losses after ({where})", fmt(after, ".2f", " kW")),
        ("reduction", reduction_text),
        ("loss proxy (LinDist3Flow)", fmt(r.get("loss_proxy_kw"), ".2f", " kW")),
        ("lowest voltage after (OpenDSS)", fmt(_min_over(ac.get("min_voltage_pu")), ".4f",
                                               " p.u.")
         + _zero_sequence_mark(ac, ac.get("min_voltage_node"))),
        ("OpenDSS check", check),
        ("time", time_words(r)),
    ]
    if sc is not None:
        cards = _scenario_cards(r, sc)
    card_html = "".join(f'<div class="card"><div class="k">{escape(a)}</div>'
                        f'<div class="v">{escape(b)}</div></div>' for a, b in cards)
    loading = r.get("max_loading_percent")
    # OpenDSS's verdict beside the model's status, as a balanced report's (a result.json
    # written before ac_verdict existed: from its ac_check)
    status = str(r.get("status", "-"))
    verdict = r["ac_verdict"] if "ac_verdict" in r else ac_verdict(r.get("ac_check"),
                                                                   r.get("loss_proxy_kw"))
    rows = [
        ("case", escape(str(r.get("case", "-")))),
        ("status", escape(status_words(r)
                          + (f"; {base_kept_words(r)}" if r.get("base_kept") else ""))),
        *((("AC verdict", f'<span class="warn">{escape(str(verdict))}</span>'),)
          if verdict else ()),
        ("method", escape(f"{r.get('method', '-')} ({_search_words(r)})"
                          + (", checked by OpenDSS" if r.get("ac_check") else
                             ", checked by OpenDSS per scenario"
                             if sc is not None and "passed" in sc else ""))),
        # an infeasible result's states break the limits: not a plan (ut37_tph2)
        (kept_state_label("open switches", status, KEPT_STATE) if status == "infeasible"
         else "open switches (answer)",
         _names(r.get("open_switches")) if r.get("has_solution") else "no answer"),
        ("open switches (base case)", _names(r.get("base_open_switches"))),
        (kept_state_label("changed switches", status, KEPT_STATE),
         _names(r.get("changed_switches"))),
        ("loss proxy of the answer (LinDist3Flow)", fmt(r.get("loss_proxy_kw"), ".3f", " kW")),
        ("of it on the source's impedance (not in OpenDSS's losses)",
         fmt(r.get("loss_proxy_source_kw"), ".3f", " kW")),
        ("MILP objective (tangent planes)", fmt(r.get("milp_objective_kw"), ".3f", " kW")),
        ("lower bound", _bound(r)),
        ("search", escape(str(r.get("search") or "milp"))),
        *([("MILP solves / tangents added", f"{escape(str(r.get('milp_solves', '-')))} / "
                                            f"{escape(str(r.get('tangents_added', '-')))}")]
          if not str(r.get("search") or "milp").startswith("enumeration") else []),
        ("LinDist3Flow voltage range (the model)",
         f"{fmt(r.get('lindist3flow_min_voltage_pu'), '.4f')} - "
         f"{fmt(r.get('lindist3flow_max_voltage_pu'), '.4f')} p.u."),
        (f"losses before ({where}, base case)", fmt(before, ".3f", " kW")),
        ("load not served in the base case", fmt(r.get("base_unserved_load_kw"), ".3f", " kW")),
        # OpenDSS's verdict on the user's own switch states (validation.base_case)
        *((label, escape(value)) for label, value in base_verdict_rows(r.get("base"),
                                                                       engine="OpenDSS")
          if label.startswith("base case vs limits")),
        ("current ratings", "ignored (--no-thermal-limits)" if r.get("thermal_limits") is False
         else "the lines' and transformers' ratings"
         + (f" at {fmt(loading, 'g', ' %')}" if loading else "")),
        ("solve time", time_words(r)),
    ]
    if sc is not None:  # the weighted figures, and the range over the scenarios
        srows = _scenario_rows(sc)
        lo = [v for row in srows if (v := _finite(row.get("lindist3flow_min_voltage_pu")))
              is not None]
        hi = [v for row in srows if (v := _finite(row.get("lindist3flow_max_voltage_pu")))
              is not None]
        rename = {
            "loss proxy of the answer (LinDist3Flow)": (
                "loss proxy of the answer (LinDist3Flow, weighted over the scenarios)",
                fmt(r.get("loss_proxy_kw"), ".3f", " kW")),
            "LinDist3Flow voltage range (the model)": (
                "LinDist3Flow voltage range (the model, all scenarios)",
                f"{fmt(min(lo) if lo else None, '.4f')} - "
                f"{fmt(max(hi) if hi else None, '.4f')} p.u."),
            f"losses before ({where}, base case)": (
                f"expected losses before ({where}, base topology)", fmt(
                    sc.get("base_expected_losses_kw") if "base_expected_losses_kw" in sc
                    else _feedback_losses(r, "opendss_expected_losses_kw")[0], ".3f",
                    " kW")),
        }
        rows = [rename.get(k, (k, v)) for k, v in rows
                if k not in ("of it on the source's impedance (not in OpenDSS's losses)",
                             "load not served in the base case")]
        rows.insert(1, ("scenarios", escape(f"{len(srows)}: "
                                            + ", ".join(str(x.get("scenario")) for x in srows)
                                            + " (one topology for all; see 'Scenarios')")))
    if r.get("switch_cost_kw") is not None:  # --switch-cost: the bound includes the cost
        acts = r.get("switching_actions") or []
        at = next(k for k, (name, _) in enumerate(rows) if name == "lower bound")
        rows[at] = ("lower bound (loss proxy plus switching cost)", rows[at][1])
        rows.insert(at + 1, ("switching actions", escape(", ".join(
            f"{a.get('action')} {a.get('switch')}" for a in acts) or "none")))
        rows.insert(at + 2, ("switching cost", escape(
            f"{len(acts)} x {r['switch_cost_kw']:g} kW = ")
            + fmt(r.get("switching_cost_kw"), ".3f", " kW")))
    if not r.get("has_solution"):  # the answer's figures: there are none
        rows = [(k, v) for k, v in rows if not k.startswith(
            ("loss proxy", "of it on", "MILP objective", "lower bound", "LinDist3Flow",
             "switching"))]
    lim = r.get("voltage_limits")
    if isinstance(lim, Mapping):
        rows.insert(2, ("voltage limits", escape(
            f"{_limit(lim.get('v_min_pu'))} - {_limit(lim.get('v_max_pu'))} p.u. "
            f"(from the {lim.get('from', '-')})")))
    if r.get("reason"):
        rows.insert(4, ("why feasible by OpenDSS (the model's ratings admit no topology)"
                        if r.get("status") == "feasible"
                        else "why infeasible (the answer overloads least)"
                        if r.get("has_solution") else "why no topology",
                        escape(str(r["reason"]))))
    if r.get("fixed_overloads"):
        rows.append(("no switching relieves (LinDist3Flow: above the rating in every radial "
                     "topology, a bridge of the feeder's graph; rating left out of the "
                     "search)", escape(", ".join(str(o) for o in r["fixed_overloads"]))))
    if r.get("opendss_fixed_overloads"):
        least = r.get("least_overloading") or {}
        by = ("OpenDSS's check" if r.get("ac_check") or r.get("scenarios")
              else "OpenDSS's ranking of the radial states, no AC check"
              if least.get("ranked_by") == "OpenDSS"
              else "the voltage feedback's OpenDSS solve, no AC check")
        rows.append((f"no switching relieves ({by}: above the rating, a bridge of "
                     "the feeder's graph)", escape(", ".join(
                         _loading_of(r, str(e)) for e in r["opendss_fixed_overloads"]))))
    if r.get("overloaded"):
        over = r["overloaded"]
        rows.append(("overloaded (LinDist3Flow)", escape(
            ", ".join(str(o) for o in over) if isinstance(over, list) else json.dumps(over))))
    return section("summary", "Summary", f'<div class="cards">{card_html}</div>{_rows(rows)}')


def _loading_of(r: Mapping[str, Any], element: str) -> str:
    """``element`` with its largest loading in OpenDSS's check (or the scenarios' checks,
    with the scenario) when the result lists it among the overloads; without the check
    (``--no-ac-check``), in the OpenDSS solve of the answer that named it: the voltage
    feedback's kept row (``overloads_unswitched``) or the chosen state of OpenDSS's ranking
    (``least_overloading``'s ``opendss_overloads``)."""
    found: list[tuple[float, str | None]] = []
    for o in ((r.get("ac_check") or {}).get("loading") or {}).get("overloads") or []:
        if o.get("element") == element and o.get("loading_percent") is not None:
            found.append((float(o["loading_percent"]), None))
    if not r.get("ac_check"):
        least = r.get("least_overloading") or {}
        if least.get("ranked_by") == "OpenDSS" and "opendss_overloads" in least:
            labels = least.get("opendss_overloads") or []
        else:
            fb = r.get("voltage_feedback") or {}
            rows = fb.get("iterations") or []
            k = 0 if fb.get("base_kept") else fb.get("kept_iteration")
            row = rows[k] if isinstance(k, int) and 0 <= k < len(rows) else {}
            labels = row.get("overloads_unswitched") or []
        for label in labels:
            name, _, share = str(label).rpartition(" (")
            if name == element and share.endswith(" %)"):
                found.append((float(share.removesuffix(" %)")), None))
    for row in (r.get("scenarios") or {}).get("per_scenario") or []:
        for o in row.get("overloads") or []:
            if o.get("element") == element and o.get("loading_percent") is not None:
                found.append((float(o["loading_percent"]), str(row.get("scenario"))))
    if not found:
        return element
    pct, where = max(found, key=lambda f: f[0])
    return f"{element} ({pct:.1f} %" + (f", scenario {where}" if where else "") + ")"


def _bound(r: Mapping[str, Any]) -> str:
    """The lower bound, what it rests on (``lower_bound_basis``) and the gap it proves; a
    trivial bound says so, with no gap; an infeasible result shows neither
    (:data:`~feederopt.results.threephase.INFEASIBLE_BOUND_WORDS`)."""
    if r.get("status") == "infeasible":
        return escape(INFEASIBLE_BOUND_WORDS)
    text = fmt(r.get("lower_bound_kw"), ".3f", " kW")
    basis = r.get("lower_bound_basis")
    if basis:
        text += f" ({basis})"
    gap = _finite(r.get("gap"))
    if gap is not None and r.get("lower_bound_source") != "trivial":
        text += f", gap {fmt(100 * gap, '.2f', ' %')}"
    return escape(text)


def _limit(value: Any) -> str:
    """A voltage limit of the JSON: one number, or the range of the buses' own."""
    if isinstance(value, Mapping):
        return f"[{fmt(value.get('min'), '.4g')}, {fmt(value.get('max'), '.4g')}]"
    return fmt(value, ".4g")


def _within_limits(ac: Mapping[str, Any]) -> str:
    """OpenDSS's voltages against the buses' limits (``within_voltage_limits`` and
    ``voltage_limits`` of the check): yes, or how many nodes break them and the worst."""
    if ac.get("within_voltage_limits"):
        return "yes"
    lim = ac.get("voltage_limits") or {}
    if not ac.get("converged") or not lim:
        return '<b class="warn">no</b>'
    return ('<b class="warn">no</b>: ' + escape(
        f"{lim.get('nodes_below_min')} node(s) below v_min, {lim.get('nodes_above_max')} above "
        f"v_max; worst {lim.get('worst_node')} at {fmt(lim.get('worst_voltage_pu'), '.4f')} "
        f"p.u. ({lim.get('worst_limit')} {fmt(lim.get('worst_limit_pu'), '.4g')}, by "
        f"{fmt(lim.get('worst_violation_pu'), '.4f')} p.u.)"))


def _within_ratings(ac: Mapping[str, Any]) -> str:
    """OpenDSS's currents against the lines' and transformers' ratings
    (``within_thermal_limits`` and ``loading`` of the check): yes, or how many elements are
    overloaded and the worst."""
    if ac.get("within_thermal_limits"):
        return "yes"
    load = ac.get("loading") or {}
    worst = (load.get("overloads") or [{}])[0]
    if not worst:
        return '<b class="warn">no</b>'
    return ('<b class="warn">no</b>: ' + escape(
        f"{load.get('overloaded')} element(s) above {fmt(load.get('loading_limit_percent'), '.4g')}"
        f" % of their rating; worst {worst.get('element')} at "
        f"{fmt(worst.get('loading_percent'), '.1f')} % ({fmt(worst.get('current_a'), '.1f')} A "
        f"of {fmt(worst.get('rating_a'), '.1f')} A)"))


def _yes_no(value: Any) -> str:
    return "-" if value is None else "yes" if value else "no"


def scenarios_section(r: Mapping[str, Any]) -> str:
    """The check of a scenario run (``scenarios`` of the result): OpenDSS's power flow of the
    answer in every scenario (its loads edited, the bus rows added as loads, the generator
    rows' units set to their output), one row per
    scenario as the console's table prints it, with the base topology's losses, the voltage
    margin and the load not served; the weighted (expected) losses
    ``sum_s w_s P_loss,s`` of the answer and of the base topology, and the scenarios with
    the largest losses and the least voltage margin."""
    sc = _scenarios(r) or {}
    rows = _scenario_rows(sc)
    checked = "passed" in sc and bool(r.get("has_solution"))
    table = [{
        "scenario": row.get("scenario"),
        "weight": fmt(row.get("weight"), ".3f"),
        "proxy [kW] (LinDist3Flow)": fmt(row.get("loss_proxy_kw"), ".3f"),
        "V [p.u.] (LinDist3Flow)": f"{fmt(row.get('lindist3flow_min_voltage_pu'), '.4f')} - "
                                   f"{fmt(row.get('lindist3flow_max_voltage_pu'), '.4f')}"
        if row.get("lindist3flow_min_voltage_pu") is not None else "-",
        "OpenDSS losses [kW]": fmt(row.get("opendss_losses_kw"), ".3f"),
        "base topology [kW] (OpenDSS)": fmt(row.get("opendss_base_losses_kw"), ".3f"),
        "V min [p.u.]": fmt(row.get("opendss_min_voltage_pu"), ".4f"),
        "V max [p.u.]": fmt(row.get("opendss_max_voltage_pu"), ".4f"),
        "lowest at": row.get("opendss_min_voltage_node") or "-",
        "margin [p.u.]": fmt(row.get("voltage_margin_pu"), ".4f"),
        "load not served [kW]": fmt(row.get("unserved_load_kw"), ".3f"),
        "largest loading": (f"{fmt(row.get('max_loading_percent'), '.1f')} % "
                            f"({row.get('max_loading_element') or '-'})"
                            if row.get("max_loading_percent") is not None else "-"),
        "within the ratings": _yes_no(row.get("within_thermal_limits")),
        "within the limits": _yes_no(row.get("within_voltage_limits")),
        "passed": _yes_no(row.get("passed")),
        **({"DER output [kW] (model)": fmt(1000 * row["generation_mw"], ".1f")
            if row.get("generation_mw") is not None else "-"}
           if any(x.get("generation_mw") is not None for x in rows) else {}),
        **({"DER output [kW] (OpenDSS)": fmt(1000 * row["opendss_generation_mw"], ".1f")
            if row.get("opendss_generation_mw") is not None else "-"}
           if any(x.get("opendss_generation_mw") is not None for x in rows) else {}),
    } for row in rows]
    if not checked:
        for t in table:  # the columns of OpenDSS's check of the answer: none
            for key in ("OpenDSS losses [kW]", "base topology [kW] (OpenDSS)",
                        "V min [p.u.]", "V max [p.u.]", "lowest at",
                        "margin [p.u.]", "load not served [kW]", "within the limits",
                        "largest loading", "within the ratings", "passed",
                        "DER output [kW] (OpenDSS)"):
                t.pop(key, None)
    by_name = {str(row.get("scenario")): row for row in rows}
    head: list[tuple[str, str]] = [("scenarios", escape(str(sc.get("count", len(rows)))))]
    if checked:
        head += [("expected losses of the answer (OpenDSS)",
                  fmt(sc.get("expected_losses_kw"), ".3f", " kW")),
                 ("expected losses of the base topology (OpenDSS)",
                  fmt(sc.get("base_expected_losses_kw"), ".3f", " kW"))]
        worst_l, worst_v = str(sc.get("worst_losses")), str(sc.get("worst_voltage"))
        broken = scenarios_broken(r) or []
        head += [
            ("largest losses", f"{escape(worst_l)} ("
             f"{fmt(by_name.get(worst_l, {}).get('opendss_losses_kw'), '.3f', ' kW')})"),
            ("least voltage margin", f"{escape(worst_v)} ("
             f"{fmt(by_name.get(worst_v, {}).get('voltage_margin_pu'), '.4f', ' p.u.')})"),
            ("every scenario within the voltage limits and ratings and passed",
             "yes" if not broken else '<b class="warn">no</b>: '
             + escape(", ".join(broken))),
        ]
    if sc.get("bus_rows"):
        head.append(("a scenario's bus row", escape(str(sc["bus_rows"]))))
    if sc.get("generator_rows"):
        head.append(("a scenario's generator row", escape(str(sc["generator_rows"]))))
    der = ScenarioSummary(sc).der_words() if sc.get("per_scenario") else None
    note = _note(
        "One topology for every scenario. OpenDSS's power flow of the answer in each scenario "
        "(the scenario's loads edited, its bus rows added as loads"
        + (", its generating units set to their generator rows' output (a unit without a "
           "row runs on its own model)" if sc.get("generator_rows") else "")
        + "; the model's taps and "
        "capacitors held) is the check: it passes when it converges and serves every load, "
        "and the answer keeps the limits when every energised node of every scenario is "
        "within its bus's voltage limits and no rated line or transformer carries more than "
        "its rating (OpenDSS's currents). Expected losses: sum over the scenarios of "
        "weight x OpenDSS losses.")
    if der is not None:
        note += _note(der.replace("DER kW:", "DER output:", 1) + ".")
    if not checked:
        why = ("the run found no topology" if not r.get("has_solution") else
               "the solve was run with --no-ac-check")
        if r.get("has_solution") and (r.get("voltage_feedback") or {}).get("enabled"):
            why += "; the voltage feedback's OpenDSS solves are under 'Voltage feedback'"
        note += _note(f"No OpenDSS check of the answer per scenario: {why}.")
    warn = ""
    for row in rows if checked else []:
        reasons = []
        if row.get("within_voltage_limits") is False:
            reasons.append(f"OpenDSS's voltages break the limits (lowest "
                       f"{row.get('opendss_min_voltage_node') or '-'} at "
                       f"{fmt(row.get('opendss_min_voltage_pu'), '.4f')} p.u., margin "
                       f"{fmt(row.get('voltage_margin_pu'), '.4f')} p.u.)")
        if row.get("within_thermal_limits") is False:
            reasons.append(f"OpenDSS's currents load {row.get('overloaded')} element(s) above "
                           "their rating (" + ", ".join(
                               f"{o.get('element')} {fmt(o.get('loading_percent'), '.1f')} %"
                               for o in row.get("overloads") or []) + ")")
        if row.get("passed") is False:
            reasons.append("OpenDSS's check not passed (" + (
                f"{fmt(row.get('unserved_load_kw'), '.3f')} kW of load not served)"
                if row.get("opendss_converged") else "no convergence)"))
        if reasons:
            warn += (f'<p class="warn">scenario {escape(str(row.get("scenario")))}: '
                     f'{escape("; ".join(reasons))}</p>')
    return section("scenarios", "Scenarios: OpenDSS check per scenario" if checked
                   else "Scenarios",
                   note + _rows(head) + records_table(table) + warn)


def _zero_sequence_mark(ac: Mapping[str, Any], node: Any) -> str:
    """`` (799: phase voltage less the zero sequence, ungrounded bus)`` when ``node``'s bus
    is one whose OpenDSS voltages the check gives less the zero sequence; else empty."""
    bus = str(node or "").split(".")[0]
    if not bus or bus not in (ac.get("zero_sequence_removed_buses") or []):
        return ""
    return f" ({bus}: phase voltage less the zero sequence, ungrounded bus)"


def check_section(r: Mapping[str, Any]) -> str:
    """OpenDSS's check of the answer, and the second solve with its controls acting; the
    per-scenario check (:func:`scenarios_section`) for a scenario run."""
    if _scenarios(r) is not None:
        return scenarios_section(r)
    ac = r.get("ac_check")
    if not ac:
        why = ("the run found no topology" if not r.get("has_solution") else
               "the solve was run with --no-ac-check")
        if _feedback_answer(r) is not None:
            why += ("; the voltage feedback's OpenDSS solve of the answer (its controls off) "
                    "is under 'Voltage feedback'")
        return section("opendss-check", "OpenDSS check", _note(f"No OpenDSS check: {why}."))
    truth = _note("OpenDSS's power flow of the chosen topology, with the model's regulator taps "
                  "and capacitor states held (its controls off), is the true operating point; "
                  "the check passes when it converges and every load is served.")
    node = ac.get("max_voltage_diff_node")
    rows = [
        ("converged", "yes" if ac.get("converged") else "no"),
        ("losses", fmt(ac.get("losses_kw"), ".3f", " kW")),
        ("reactive losses", fmt(ac.get("losses_kvar"), ".3f", " kvar")),
        ("power from the source", fmt(ac.get("source_kw"), ".3f", " kW")),
        ("load (at the solved voltages)", fmt(ac.get("load_kw"), ".3f", " kW")),
        ("voltage unbalance (largest, three-phase buses)", fmt(ac.get("unbalance_pct"), ".2f",
                                                                " %")),
        ("max |V_model - V_OpenDSS| (LinDist3Flow's error)",
         fmt(ac.get("max_voltage_diff_pu"), ".4f", " p.u.")
         + (f" at {escape(str(node))}" if node else "")),
        ("lowest voltage at", escape(str(ac.get("min_voltage_node") or "-")
                                     + _zero_sequence_mark(ac, ac.get("min_voltage_node")))),
        ("de-energised nodes", escape(str(ac.get("dead_nodes", "-")))
         + (f" ({_names(ac.get('dead_node_names'))})" if ac.get("dead_nodes") else "")),
        ("load not served", fmt(ac.get("unserved_load_kw"), ".3f", " kW")),
        *([("within the voltage limits", _within_limits(ac))]
          if "within_voltage_limits" in ac else []),
        *([("within the ratings (lines, series elements, transformers)", _within_ratings(ac))]
          if "within_thermal_limits" in ac else []),
        ("passed (converged, every load served)",
         "yes" if ac.get("passed") else "<b class=\"warn\">no</b>"),
        ("OpenDSS control mode", escape(str(ac.get("control_mode", "-")))),
    ]
    phases = [{"phase": ph, "min |V| [p.u.]": fmt((ac.get("min_voltage_pu") or {}).get(ph),
                                                   ".4f"),
               "max |V| [p.u.]": fmt((ac.get("max_voltage_pu") or {}).get(ph), ".4f")}
              for ph in sorted(ac.get("min_voltage_pu") or {})]
    body = truth + _rows(rows) + "<h3>Voltage range per phase</h3>" + records_table(phases)
    if ac.get("voltage_note"):
        body += _note(f"Voltages: {ac['voltage_note']}.")
    body += "".join(f'<p class="warn">warning: {escape(str(w))}</p>'
                    for w in ac.get("warnings") or [])
    ctl = ac.get("with_controls")
    if ctl:
        taps = ", ".join(f"{tr} {fmt(m.get('held'), '.6g')} -> {fmt(m.get('with_controls'), '.6g')}"
                         for tr, m in (ctl.get("taps_moved") or {}).items()) or "none"
        caps = ", ".join(f"{c} {m.get('held')} -> {m.get('with_controls')}"
                         for c, m in (ctl.get("capacitors_switched") or {}).items()) or "none"
        crow = [("converged", "yes" if ctl.get("converged") else "no"),
                ("losses", fmt(ctl.get("losses_kw"), ".3f", " kW"))]
        for ph in sorted(ctl.get("min_voltage_pu") or {}):
            crow.append((f"voltage phase {ph}",
                         f"{fmt(ctl['min_voltage_pu'][ph], '.4f')} - "
                         f"{fmt((ctl.get('max_voltage_pu') or {}).get(ph), '.4f')} p.u."))
        crow += [("unbalance (largest)", fmt(ctl.get("unbalance_pct"), ".2f", " %")),
                 ("taps moved", escape(taps)), ("capacitors switched", escape(caps)),
                 ("load not served", fmt(ctl.get("unserved_load_kw"), ".3f", " kW"))]
        body += (f"<h3>With OpenDSS's controls acting (ControlMode="
                 f"{escape(str(ctl.get('control_mode', '-')))})</h3>"
                 + _note("The same topology solved again from there with OpenDSS's regulator "
                         "and capacitor controls on, for information.") + _rows(crow))
        body += "".join(f'<p class="warn">warning: {escape(str(w))}</p>'
                        for w in ctl.get("warnings") or [])
    return section("opendss-check", "OpenDSS check (the AC power flow of the answer)", body)


def _feedback_answer(r: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The voltage feedback's row of the kept answer (OpenDSS's losses and voltages of it),
    None without the feedback or an answer."""
    fb = r.get("voltage_feedback") or {}
    rows = fb.get("iterations") or []
    k = 0 if fb.get("base_kept") else fb.get("kept_iteration")  # row 0: the base topology
    if not fb.get("enabled") or not isinstance(k, int) or not 0 <= k < len(rows):
        return None
    row = rows[k]
    return row if isinstance(row, Mapping) else None


def _base_row_words(fb: Mapping[str, Any]) -> str:
    """The feedback section's kept row when the base topology was kept: why, and over which
    of the model's answers (its row) when OpenDSS decided."""
    why = fb.get("base_kept_why")
    row = (fb.get("displaced_answer") or {}).get("iteration")
    over = f" (row {row})" if row is not None else ""
    if why == "opendss_losses":
        return f"the base topology (0): less OpenDSS loss than the model's answer{over}"
    if why == "opendss_limits":
        return (f"the base topology (0): within every limit in OpenDSS, where the model's "
                f"answer{over} breaks one")
    return "the base topology (0): the time limit ran out"


def _feedback_losses(r: Mapping[str, Any], key: str) -> tuple[float | None, float | None]:
    """OpenDSS's losses (``key``: ``opendss_losses_kw``, or ``opendss_expected_losses_kw``
    weighted over the scenarios) of the base topology and of the kept answer as the voltage
    feedback solved them (controls off, as the check does): with ``--no-ac-check`` the only
    OpenDSS figures of the run. None where the feedback has no such row."""
    rows = (r.get("voltage_feedback") or {}).get("iterations") or []
    base = rows[0] if rows and isinstance(rows[0], Mapping) \
        and rows[0].get("topology") == "base" else None
    kept = _feedback_answer(r)
    return (_finite(base.get(key)) if base is not None else None,
            _finite(kept.get(key)) if kept is not None else None)


def feedback_section(r: Mapping[str, Any]) -> str:
    """The voltage feedback (``voltage_feedback`` of the result): its MILPs, where it stopped,
    the kept answer and whether OpenDSS finds it within the limits; one row per OpenDSS solve
    (the base case, then each MILP's answer). With ``--no-ac-check`` this is the only OpenDSS
    solve of the answer, and what the exit code 4 looks at."""
    fb = r.get("voltage_feedback") or {}
    if not fb.get("enabled"):
        return ""
    rows = [row for row in fb.get("iterations") or [] if isinstance(row, Mapping)]
    found = [row for row in rows if row.get("topology") == "answer"
             and row.get("open_switches") is not None]
    if not found:
        verdict = "-"
    elif fb.get("within_voltage_limits"):
        verdict = "yes"
    else:
        verdict = '<b class="warn">no</b>: OpenDSS finds no answer within the voltage limits'
    kept = fb.get("kept_iteration")
    head = _rows([
        ("solves (MILP or enumeration)", escape(str(sum(row.get("topology") == "answer"
                                                         for row in rows)))),
        ("stopped", escape(str(fb.get("stopped", "-")))),
        ("kept answer (row)", escape(str(kept)) if kept is not None else (
            _base_row_words(fb) if fb.get("base_kept") else "-")),
        ("the kept answer within the voltage limits (OpenDSS)", verdict),
        ("MILP time / total", f"{fmt(fb.get('milp_time_s'), '.2f', ' s')} / "
                              f"{fmt(fb.get('time_s'), '.2f', ' s')}"),
    ])
    def first(k: int, row: Mapping[str, Any]) -> dict[str, Any]:  # the row's MILP
        return {"row": k, "topology": row.get("topology"),
                "open switches": ", ".join(row["open_switches"])
                if row.get("open_switches") is not None else "no answer",
                "MILP status": row.get("status", "-")}

    table = [{
        **first(k, row),
        "largest offset [p.u.]": fmt(row.get("max_offset_pu"), ".4f"),
        "OpenDSS losses [kW]": fmt(row.get("opendss_losses_kw"), ".3f"),
        "OpenDSS |V| [p.u.]": f"{fmt(row.get('opendss_min_voltage_pu'), '.4f')} - "
                              f"{fmt(row.get('opendss_max_voltage_pu'), '.4f')}"
        if row.get("opendss_min_voltage_pu") is not None else "-",
        "within the limits": row.get("within_voltage_limits"),
    } for k, row in enumerate(rows)]
    text = ("The MILP's voltage limits shifted per node by OpenDSS's offsets V_OpenDSS - "
            "V_LinDist3Flow, measured at the base case and then at each answer (OpenDSS's "
            "controls off, the model's taps); the answer kept is the least-loss one that "
            "OpenDSS finds within the limits, else the last.")
    if fb.get("per_scenario"):  # one OpenDSS solve per scenario and row: weighted losses
        text = text.replace("V_LinDist3Flow,", "V_LinDist3Flow of each scenario,").replace(
            "within the limits, else", "within the limits in every scenario, else")
        table = [{
            **first(k, row),
            "OpenDSS expected losses [kW]": fmt(row.get("opendss_expected_losses_kw"), ".3f"),
            "within the limits (every scenario)": row.get("within_voltage_limits"),
            "passed (every scenario)": row.get("passed"),
        } for k, row in enumerate(rows)]
    return section("voltage-feedback", "Voltage feedback", _note(text) + head
                   + records_table(table))


def switches_section(r: Mapping[str, Any]) -> str:
    _, branches = _grid(r)
    rows = [{"switch": br["id"], "from bus": br["from_bus"], "to bus": br["to_bus"],
             "before": "closed" if br.get("base_closed") else "open",
             "after": "closed" if br.get("closed") else "open",
             "changed": bool(br.get("closed")) != bool(br.get("base_closed"))}
            for br in branches if br.get("switchable")]
    if not rows:
        return section("switches", "Switches", _note("The feeder has no switchable lines."))
    changed = sum(row["changed"] for row in rows)
    return section("switches", "Switches", _note(
        f"{changed} of {len(rows)} switchable lines change state.") + records_table(rows))


def figures_section(images: Mapping[str, bytes], result: Mapping[str, Any] | None = None,
                    ) -> str:
    """The two figures; the profile's caption names the series that ``result`` has (all three
    when it is not given): without OpenDSS's check (``--no-ac-check``) only LinDist3Flow's."""
    profile = images.get("voltage_profile.png")
    grid = images.get("grid.png")
    have = (result.get("node_voltages_pu") or {}) if result is not None else None
    series = [text for key, text in (
        ("opendss", "OpenDSS at the answer (blue, along the answer's closed lines)"),
        ("lindist3flow", "LinDist3Flow at the answer (orange crosses)"),
        ("opendss_base", "OpenDSS in the base case (grey, along the base case's closed lines)"))
        if have is None or have.get(key)]
    drawn = result.get("node_voltages_scenario") if result is not None else None
    checked = bool((have or {}).get("opendss"))
    of = "" if drawn is None else (
        f" Scenario {drawn} of the {len(_scenario_rows(_scenarios(result or {}) or {}))}"
        " (the one of " + ("least voltage margin in OpenDSS" if checked else
                           "lowest LinDist3Flow voltage")
        + "); the others are in the 'Scenarios' table.")
    low = _min_over(((result or {}).get("ac_check") or {}).get("min_voltage_pu"))
    profile_alt = FIGURES["voltage_profile.png"] + (
        f", lowest {fmt(low, '.4f', ' p.u.')} (OpenDSS at the answer)" if low is not None
        else "")
    opened = (result or {}).get("open_switches") if (result or {}).get("has_solution") else None
    grid_alt = FIGURES["grid.png"] + (
        f": switches {', '.join(str(i) for i in opened)} open" if opened else
        ": every switch closed" if opened is not None else "")
    body = image(profile, profile_alt,
                 "|V| per node and phase against the distance from the source over closed "
                 f"lines: {', '.join(series)}; red dotted: the voltage limits. "
                 "De-energised nodes are left out." + of) if profile else _note(
        "No voltage profile: result.json has no node voltages.")
    parts = section("voltages", "Voltage profile per phase", body)
    body = image(grid, grid_alt,
                 "Closed lines solid (closed switches green squares), open switches dashed "
                 "red, changed switches thick; buses coloured by their lowest phase voltage in "
                 + ("OpenDSS's check" if checked or have is None else "LinDist3Flow")
                 + ("" if drawn is None else f" of scenario {drawn}")
                 + "; on the file's bus coordinates when it has them, else a tree "
                 "from the source.") if grid else _note("No grid drawing: result.json has no "
                                                        "grid data.")
    return parts + section("grid", "Grid", body)


def badge_status(r: Mapping[str, Any]) -> str:
    """The page's status badge: the MILP's status, or ``limits_broken`` when the answer is
    one that OpenDSS finds outside the limits (the solve's exit code 4): the OpenDSS check
    did not pass, puts a voltage outside its limits or loads an element above its rating, or,
    without the check, the AC polish's or the voltage feedback's OpenDSS solve of the kept
    answer does; in a scenario run, OpenDSS's solution of some scenario does
    (:func:`scenarios_broken`); with no OpenDSS solve at all, the model's own fixed overloads
    (``fixed_overloads``: above the rating whatever the switches)."""
    status = str(r.get("status", "unknown"))
    if not r.get("has_solution"):
        return status
    if status == "infeasible":  # a least-overloading answer: the solve's exit code is 3
        return status
    ac = r.get("ac_check")
    pol = r.get("ac_polish")
    fb = r.get("voltage_feedback")
    if isinstance(ac, Mapping):
        broken = (ac.get("passed") is False or ac.get("within_voltage_limits") is False
                  or ac.get("within_thermal_limits") is False)
    elif isinstance(pol, Mapping) and pol.get("enabled") and "passed" in pol:
        broken = not (pol.get("passed") and pol.get("within_voltage_limits")
                      and pol.get("within_thermal_limits") is not False)
    elif status == "feasible" and isinstance(least := r.get("least_overloading"), Mapping) \
            and least.get("ranked_by") == "OpenDSS" and least.get("within_limits"):
        # OpenDSS's ranking of the radial states solved the answer (within every rating
        # that switching changes): only a bridge's overload breaks it
        broken = least.get("opendss_within_thermal_limits") is False
    elif isinstance(fb, Mapping) and fb.get("enabled"):
        rows = fb.get("iterations") or []
        k = 0 if fb.get("base_kept") else fb.get("kept_iteration")
        row = rows[k] if isinstance(k, int) and 0 <= k < len(rows) else {}
        broken = (fb.get("within_voltage_limits") is False
                  or row.get("within_thermal_limits") is False)
    else:  # no OpenDSS solve of the answer: the model's own fixed overloads
        broken = bool(r.get("fixed_overloads")) and scenarios_broken(r) is None
    return "limits_broken" if broken or scenarios_broken(r) else status


def _checked_by(r: Mapping[str, Any]) -> str:
    sc = _scenarios(r)
    if sc is not None:
        n = len(_scenario_rows(sc))
        return (f", one topology for {n} scenarios"
                + (", checked by OpenDSS per scenario" if "passed" in sc
                   else ", no OpenDSS check"))
    return ", checked by OpenDSS" if r.get("ac_check") else ", no OpenDSS check"


def render_three_phase_report(result: Mapping[str, Any], images: Mapping[str, bytes],
                              source: str) -> str:
    """The whole page: summary, OpenDSS check (per scenario in a scenario run), voltage
    feedback, notes, the figures, the switches."""
    body = (summary_section(result) + check_section(result) + feedback_section(result)
            + notes_section(result)
            + figures_section(images, result) + switches_section(result))
    return page(f"feederopt report: {result.get('case', '')}",
                badge_status(result),
                "three-phase reconfiguration: LinDist3Flow, "
                + _search_words(result) + _checked_by(result),
                body, source)


def _search_words(result: Mapping[str, Any]) -> str:
    """How the answer was searched: "MILP on HiGHS", or the radial states enumerated (the
    result's ``search``, "enumeration (11 radial states)"; user test ut_3ph2: the page said
    MILP where its own search row said enumeration)."""
    search = str(result.get("search") or "")
    return search if search.startswith("enumeration") else "MILP on HiGHS"


def write_three_phase_folder(out: str | Path, result: Mapping[str, Any], *,
                             force: bool = False) -> Path:
    """Write ``out/`` (result.json, the PNGs, report.html and, for a scenario run,
    ``scenarios.parquet``: :mod:`feederopt.results.uncertain_tables`, the rows of
    result.json's ``scenarios.per_scenario``) for ``result`` (a three-phase solve's
    ``to_dict()``) atomically; an existing ``out`` is replaced only with ``force``.
    An ``out`` or ``result`` of the wrong type is an :class:`~feederopt.errors.InputError`
    naming it (``feederopt.save`` takes the result object itself)."""
    check_writer_arguments("write_three_phase_folder", result, "a three-phase solve's result "
                           "as a dict", "give the result's to_dict(), or use feederopt.save("
                           "result, out)", out=out)
    images = three_phase_figures(result)
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        (tmp / "result.json").write_text(three_phase_result_json(result), encoding="utf-8")
        for name, png in images.items():
            (tmp / name).write_bytes(png)
        for name, table in uncertain_tables(result).items():  # a scenario run's table
            write_table(table, tmp / name)
        (tmp / "report.html").write_text(render_three_phase_report(result, images, out.name),
                                         encoding="utf-8")
    return out


def rebuild_three_phase_report(folder: Path, result: Mapping[str, Any]) -> str:
    """The page of a folder written by :func:`write_three_phase_folder`: its PNGs, redrawn
    from ``result`` where a file is missing."""
    drawn: dict[str, bytes] | None = None
    images: dict[str, bytes] = {}
    for name in FIGURES:
        file = folder / name
        if file.is_file():
            images[name] = file.read_bytes()
            continue
        if drawn is None:
            drawn = three_phase_figures(result)
        if name in drawn:
            images[name] = drawn[name]
    return render_three_phase_report(result, images, folder.name)
