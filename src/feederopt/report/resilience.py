"""The result folders of ``feederopt plan CASE --out DIR`` (seed 003): ``result.json``,
``plan.png`` and a self-contained ``report.html``; and of ``feederopt restore CASE --broken ...
--out DIR``: ``result.json``, the tables ``buses.parquet``, ``branches.parquet`` (the
restoration per bus and per branch, the model's and the AC check's values:
:func:`feederopt.results.resilience.restore_tables`) and ``switching.parquet`` (the switch
operations from the normal state), ``restoration.png`` and ``report.html``.

``plan.png`` has one panel per scenario (at most :data:`MAX_PANELS`): every panel draws the
hardened lines thick (dark blue), the backup-DG sites as green squares, the lines the scenario
breaks red and dotted (a broken line that was hardened stays thick blue: it survives), the
closed lines black, the open ones light grey dashed, and the buses that shed load red (the shed
area), sized by the shed share; the source bus is an orange square (``restoration.png`` too).
Buses sit at the network's ``x``/``y`` when it has them (zhang13
does), else on the tree layout of :mod:`feederopt.report.plot` from the sources.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.algorithms.resilience import FALLBACK_LABEL
from feederopt.io.pandapower import TieRule
from feederopt.io.writing import atomic_folder, check_output, write_table
from feederopt.network.container import Network
from feederopt.report.page import (
    MAX_ROWS,
    answer_time_rows,
    check_writer_arguments,
    fmt,
    image,
    kv_table,
    notes_section,
    page,
    records_table,
    section,
    timings_section,
)
from feederopt.report.plot import _pyplot, coordinates, figure_png, tree_layout
from feederopt.results.resilience import (
    DISCONNECTED_NOTE,
    RestoreResult,
    branch_word,
    broken_title,
    dg_output_text,
    disconnected_text,
    document_within_limits,
    gap_explained,
    measure_caveats,
    named_id,
    resilience_within_text,
    scenario_failed,
    shed_loads_text,
    switch_operations_text,
)
from feederopt.results.result import finite_json

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most scenario panels drawn.
MAX_PANELS = 6
HARDENED = "#1d4ed8"
DG = "#16a34a"
SHED = "#dc2626"
#: The source's colour, the grid figure's (matplotlib's tab:orange).
SOURCE = "tab:orange"


def _layout(net: Network) -> np.ndarray:
    pos = coordinates(net.buses, net.branches)
    if pos is not None:
        return pos
    ids = [str(b) for b in net.buses["id"].to_list()]
    index = {b: i for i, b in enumerate(ids)}
    f = np.array([index[str(b)] for b in net.branches["from_bus"].to_list()], dtype=int)
    t = np.array([index[str(b)] for b in net.branches["to_bus"].to_list()], dtype=int)
    roots = np.flatnonzero(np.asarray(net.buses["is_source"].to_list(), bool))
    return tree_layout(len(ids), f, t, np.ones(len(f), bool), roots)


@dataclass(frozen=True)
class _Grid:
    """What the drawings take of the network: bus positions, ids, branches, load per bus."""

    pos: np.ndarray
    ids: list[str]
    index: dict[str, int]
    branches: list[tuple[str, str, str]]
    load_kw: dict[str, float]
    #: An xward's internal branch (the reader's model of it, no user line): drawn closed
    #: where the xward's bus is energised, as the operation's lists leave it out.
    internal: set[str]
    #: The source (substation) buses, by id.
    sources: tuple[str, ...] = ()

    @property
    def small(self) -> bool:
        return len(self.ids) <= 40


def _grid(net: Network) -> _Grid:
    ids = [str(b) for b in net.buses["id"].to_list()]
    branches = list(zip((str(b) for b in net.branches["id"].to_list()),
                        (str(b) for b in net.branches["from_bus"].to_list()),
                        (str(b) for b in net.branches["to_bus"].to_list()), strict=True))
    loads: dict[str, float] = {}
    for bus, p in zip(net.loads["bus"].to_list(), net.loads["p_mw"].to_list(), strict=True):
        loads[str(bus)] = loads.get(str(bus), 0.0) + 1000.0 * float(p)
    internal = ({str(b) for b, e in zip(net.branches["id"].to_list(),
                                        net.branches["pp_element"].to_list(), strict=True)
                 if e == "xward"} if "pp_element" in net.branches.columns else set())
    sources = tuple(b for b, src in zip(ids, net.buses["is_source"].to_list(), strict=True)
                    if src)
    return _Grid(_layout(net), ids, {b: i for i, b in enumerate(ids)}, branches, loads,
                 internal, sources)


def _draw_operation(ax: Any, grid: _Grid, op: Mapping[str, Any], broken: set[str],
                    hardened: set[str], sites: set[str]) -> set[str]:
    """One operation on the grid (module docstring): hardened lines thick blue, broken ones
    red dotted, closed black, open grey dashed, shedding buses red, backup DGs green. Returns
    what it drew, as keys of :data:`LEGEND`."""
    pos, index, small = grid.pos, grid.index, grid.small
    drawn: set[str] = set()
    live = set(op.get("energised_buses", []))
    closed = set(op.get("closed_lines", [])) | {b for b, a, _ in grid.branches
                                                if b in grid.internal and a in live}
    shed = op.get("shed_per_bus_kw", {})
    for bid, a, b in grid.branches:
        xs = [pos[index[a], 0], pos[index[b], 0]]
        ys = [pos[index[a], 1], pos[index[b], 1]]
        if bid in hardened:
            ax.plot(xs, ys, color=HARDENED, lw=4.5, zorder=2, solid_capstyle="round")
            drawn.add("hardened")
        if bid in broken and bid not in hardened:
            ax.plot(xs, ys, color=SHED, lw=1.6, ls=":", zorder=3)
            drawn.add("broken")
        elif bid in closed:
            ax.plot(xs, ys, color="black", lw=1.4, zorder=3)
            drawn.add("closed")
        else:
            ax.plot(xs, ys, color="0.75", lw=1.0, ls="--", zorder=1)
            drawn.add("open")
        if small:
            ax.text(np.mean(xs), np.mean(ys), bid, fontsize=6, color="0.3", zorder=5,
                    ha="center", va="center", bbox={"fc": "white", "ec": "none", "pad": 0.3})
    loads = grid.load_kw
    share = np.array([shed.get(b, 0.0) / loads[b] if loads.get(b) else 0.0 for b in grid.ids])
    colour = [SHED if s > 1e-6 else "white" for s in share]
    size = 30 + 90 * share if small else 6 + 30 * share
    ax.scatter(pos[:, 0], pos[:, 1], s=size, c=colour, edgecolors="0.2", linewidths=0.6,
               zorder=4)
    if (share > 1e-6).any():
        drawn.add("shed")
    site_idx = [index[b] for b in sites if b in index]
    if site_idx:
        ax.scatter(pos[site_idx, 0], pos[site_idx, 1], marker="s", s=120 if small else 40,
                   facecolors="none", edgecolors=DG, linewidths=2.0, zorder=6)
        drawn.add("dg")
    # the source: an orange square under the bus (user test ut49_report #4: restoration.png
    # did not mark it), as the grid figure marks it
    for b in grid.sources:
        art = ax.scatter(pos[index[b], 0], pos[index[b], 1], marker="s",
                         s=150 if small else 60, c=SOURCE, edgecolors="0.2", linewidths=0.6,
                         zorder=3.5)
        art.set_gid(f"source:{b}")
        drawn.add("source")
    if small:
        for i, b in enumerate(grid.ids):
            ax.annotate(b, pos[i], xytext=(4, 4), textcoords="offset points", fontsize=7)
    return drawn


#: The legend's entries, in its order: what :func:`_draw_operation` draws, by key, and its
#: label.
LEGEND = {"source": "source", "hardened": "hardened line", "broken": "broken line",
          "closed": "closed line",
          "open": "open line", "dg": "backup DG", "shed": "bus shedding load"}


def _legend(fig: Any, drawn: set[str], labels: Mapping[str, str] | None = None) -> None:
    """The figure's legend: an entry for each thing drawn in some panel, none for the others
    (user test ut35: a restoration without backup DGs listed "backup DG"); ``labels`` replace
    :data:`LEGEND`'s (a broken transformer is no "broken line", user test ut50_recheck #7)."""
    from matplotlib.lines import Line2D

    style: dict[str, dict[str, Any]] = {
        "source": {"marker": "s", "color": SOURCE, "ls": "", "mec": "0.2"},
        "hardened": {"color": HARDENED, "lw": 4.5},
        "broken": {"color": SHED, "lw": 1.6, "ls": ":"},
        "closed": {"color": "black", "lw": 1.4},
        "open": {"color": "0.75", "lw": 1.0, "ls": "--"},
        "dg": {"marker": "s", "color": DG, "ls": "", "mfc": "none"},
        "shed": {"marker": "o", "color": SHED, "ls": ""}}
    handles = [Line2D([], [], label=(labels or {}).get(key, label), **style[key])
               for key, label in LEGEND.items() if key in drawn]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
                   frameon=False)


def plan_figure(net: Network, result: Mapping[str, Any]) -> Figure:
    """The plan on the grid, one panel per scenario (module docstring)."""
    plt = _pyplot()
    grid = _grid(net)
    hardened = set(result.get("hardened", []))
    sites = set(result.get("dg_sites", []))
    scenarios = list(result.get("scenarios", []))[:MAX_PANELS]
    k = max(len(scenarios), 1)
    cols = min(k, 3)
    rows = (k + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    drawn: set[str] = set()
    for ax, sc in zip(axes.ravel(), scenarios or [{}], strict=False):
        op = sc.get("operation", {})
        drawn |= _draw_operation(ax, grid, op, set(sc.get("broken", [])), hardened, sites)
        title = (f"{sc.get('name', '')} (p = {sc.get('probability', 0):g}): "
                 f"shed {op.get('shed_kw', 0.0):,.1f} kW") if sc else "no scenario"
        ax.set_title(title, fontsize=9)
    _legend(fig, drawn)
    fig.suptitle(f"{result.get('case', '')}: hardened {', '.join(sorted(hardened)) or '-'}; "
                 f"DGs at {', '.join(sorted(sites)) or '-'}", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return fig


def restoration_figure(net: Network, result: Mapping[str, Any]) -> Figure:
    """A restoration (``restore``'s result document) on the grid: the broken lines red
    dotted, the closed lines black, the open ones grey dashed, the buses that shed load red
    (sized by the shed share), the backup DGs green (module docstring); the legend lists
    only what is drawn."""
    plt = _pyplot()
    grid = _grid(net)
    fig, ax = plt.subplots(figsize=(7.5, 6.0) if grid.small else (10.0, 8.0))
    ax.set_axis_off()
    op = result.get("operation") or {}
    drawn = _draw_operation(ax, grid, op, set(result.get("broken", [])), set(),
                            set(result.get("dg_sites", [])))
    broken = list(result.get("broken", []))
    _legend(fig, drawn, {"broken": f"broken {branch_word(broken, plural=False)}"}
            if broken else None)
    fig.suptitle(f"{result.get('case', '')}: {broken_title(broken, broken)}"
                 + f"; shed {fmt(op.get('shed_kw'), ',.1f', ' kW')}", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return fig


def resilience_badge(result: Mapping[str, Any]) -> str:
    """The page's status badge: the run's status, or ``limits_broken`` where the command
    exits with code 4 (an operation's AC check breaks a limit:
    :func:`~feederopt.results.resilience.document_within_limits` false), as a partition's
    and a schedule's pages have it."""
    if document_within_limits(result) is False:
        return "limits_broken"
    return str(result.get("status", ""))


def _money(value: Any) -> str:
    return fmt(value, ",.2f")


#: The settings' labels, in words with their units (as the command's options give them).
SETTING_LABELS = {
    "harden_budget": "hardening budget H [lines]", "dg_budget": "DG budget G [units]",
    "harden_cost": "hardening cost [$ per line]", "dg_cost_per_kw": "DG cost [$/kW]",
    "dg_p_max_kw": "DG size, active [kW]", "dg_q_max_kvar": "DG size, reactive [kvar]",
    "voll": "value of lost load [$/kW]", "radiality": "radiality",
    "switch_penalty": "switch penalty [$ per closed line]",
    "dg_candidates": "DG candidate buses", "harden_candidates": "hardening candidate lines",
    "time_limit_s": "time limit [s]", "gap": "relative gap", "measures": "measures (WS, EEV)",
    "ac_check": "AC check", "ties": "tie rule (pandapower)",
}


def settings_shown(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A plan's settings as the report shows them: the candidates' default (None, every
    non-source bus and every line: :class:`~feederopt.problems.resilience.PlanSettings`)
    as ``all (N buses)`` / ``all (N lines)`` with the count the result recorded (``all``
    alone in a result written before it), not ``-``, which reads as none (user test
    ut45b_resil #5); the counts themselves are not rows of their own. A ``gap`` not given
    (null) is shown as the method's default."""
    out = {k: v for k, v in settings.items()
           if k not in ("dg_candidate_count", "harden_candidate_count")}
    for key, count, unit in (("dg_candidates", "dg_candidate_count", "buses"),
                             ("harden_candidates", "harden_candidate_count", "lines")):
        if key in out and out[key] is None:
            n = settings.get(count)
            out[key] = f"all ({n} {unit})" if isinstance(n, int) else "all"
    if "gap" in out and out["gap"] is None:  # not given: the method's own, not none
        out["gap"] = "the method's default"
    return out


def _named(result: Mapping[str, Any], table: str, ids: Any) -> str:
    """``ids`` for a person, each with its user name from the result's ``names`` (a result
    written before them: the bare ids; :func:`named_id`), or ``"-"``."""
    names = (result.get("names") or {}).get(table) or {}
    return ", ".join(named_id(str(i), names) for i in ids or []) or "-"


def plan_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's summary rows, labelled in words with their units as the command's console
    table labels them (``investment [$]``, not ``investment``)."""
    gap = result.get("gap")
    return {
        "method": result.get("method"), "status": result.get("status"),
        "hardened lines (ids)": _named(result, "branches", result.get("hardened")),
        "DG sites": _named(result, "buses", result.get("dg_sites")),
        "investment [$]": _money(result.get("investment")),
        "expected shedding cost, priority-weighted [$]": _money(
            result.get("expected_recourse")),
        "expected total cost [$]": _money(result.get("expected_total")),
        "lower bound [$]": _money(result.get("lower_bound")),
        "gap [%]": fmt(None if gap is None else 100 * float(gap), ".4f") + gap_explained(
            result.get("loss_reserve"), result.get("model_gap"), " $"),
        "within the limits (AC checks)": resilience_within_text(document_within_limits(result),
                                                               result.get("status")),
        "solve time [s]": fmt(result.get("solve_time_s"), ".2f"),
        # the command's whole time to the answer beside the solve's, as its console row
        **answer_time_rows(result),
        "iterations": result.get("iterations"),
    }


def measures_rows(m: Mapping[str, Any]) -> dict[str, Any]:
    """The value of the stochastic solution, labelled (Birge & Louveaux, "Introduction to
    stochastic programming", 2011, ch. 4: EVPI = RP - WS, VSS = EEV - RP), each with what
    qualifies it (:func:`~feederopt.results.resilience.measure_caveats`)."""
    per = m.get("wait_and_see_per_scenario") or {}
    why = measure_caveats(m)

    def val(name: str, key: str) -> str:
        return _money(m.get(key)) + (f" ({why[name]})" if name in why else "")

    return {
        "recourse problem (RP) [$]": _money(m.get("recourse_problem")),
        "RP's plan status": m.get("recourse_problem_status") or "optimal",
        "wait-and-see (WS) [$]": val("WS", "wait_and_see"),
        "expected-value solution cost (EEV) [$]": val("EEV", "expected_value_solution_cost"),
        "EVPI = RP - WS [$]": val("EVPI", "evpi"),
        "VSS = EEV - RP [$]": val("VSS", "vss"),
        "basis of RP, WS and EEV": m.get("basis") or "-",
        "wait-and-see cost per scenario [$]": ", ".join(
            f"{k}: {_money(v)}" for k, v in per.items()) or "-",
        "expected-value scenario: broken lines": ", ".join(
            m.get("ev_scenario_broken") or []) or "-",
        "expected-value plan: hardened lines (ids)": ", ".join(m.get("ev_hardened") or []) or "-",
        "expected-value plan: DG sites": ", ".join(m.get("ev_dg_sites") or []) or "-",
    }


def _ac_cells(ac: Mapping[str, Any] | None) -> dict[str, Any]:
    """A scenario's AC check (``validation.restoration``) as table cells; none when not run."""
    if not ac:
        return {}

    def rng(lo: Any, hi: Any) -> str:
        return "-" if lo is None or hi is None else f"{lo:.4f} - {hi:.4f}"

    return {"V AC [p.u.]": rng(ac.get("min_voltage_pu"), ac.get("max_voltage_pu")),
            "V model (LinDistFlow, lossless) [p.u.]": rng(ac.get("model_min_voltage_pu"),
                                                          ac.get("model_max_voltage_pu")),
            "losses AC [kW]": ac.get("losses_kw"),
            "limits hold in AC": "yes" if ac.get("limits_hold") else
            f"no: {ac.get('verdict', '')}"}


#: A scenario table's cell for a field that a plan result written before it holds no value
#: of (``served_kw``, ``switching``; added to schema version 3 without a version of their own).
NOT_RECORDED = "not recorded (older result)"

#: The per-scenario fields that plan results written before them lack, and the columns that
#: show them: (field, column).
PLAN_SCENARIO_FIELDS_ADDED = (("served_kw", "served [kW]"),
                              ("switching", "switch operations"))


def _added_cells(result: Mapping[str, Any], s: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's served load and switch operations as table cells. A result written before
    plan recorded them (user test ut39_cli #1: a schema-2 folder showed "-" in every cell,
    which in "switch operations" means "nothing to switch") has neither field: the column is
    left out when no scenario has its field, and a scenario without it, beside others with
    it, says :data:`NOT_RECORDED`. Nothing is computed in their place: the file holds neither
    the scenario's total load nor the switch states of the normal operation."""
    scenarios = result.get("scenarios") or []
    branch_names = (result.get("names") or {}).get("branches") or {}
    cells: dict[str, Any] = {}
    for key, column in PLAN_SCENARIO_FIELDS_ADDED:
        if not any(key in sc for sc in scenarios):
            continue
        if key not in s:
            cells[column] = NOT_RECORDED
        elif key == "switching":
            cells[column] = switch_operations_text(s["switching"] or [], branch_names)
        else:
            cells[column] = s[key]
    return cells


def _not_recorded_note(result: Mapping[str, Any]) -> str:
    """The paragraph under the scenario table naming the columns that the result does not
    record (:data:`PLAN_SCENARIO_FIELDS_ADDED`), or ``""``."""
    scenarios = result.get("scenarios") or []
    missing = [column for key, column in PLAN_SCENARIO_FIELDS_ADDED
               if scenarios and not all(key in sc for sc in scenarios)]
    if not missing:
        return ""
    writer = result.get("feederopt_version")
    by = f" by feederopt {writer}" if isinstance(writer, str) else ""
    what = " and ".join(missing)
    return (f"<p>{html.escape(what[:1].upper() + what[1:])}: not recorded in this "
            f"result (written{html.escape(by)} before plan recorded them per scenario); run "
            "feederopt plan again to get them.</p>")


def render_plan(result: Mapping[str, Any], png: bytes, source: str) -> str:
    """The HTML page of a plan result (``result.json``) with its ``plan.png``; ``source`` is
    the result folder's name, for the footer (as every other report names its folder). The
    served load and switch operations of a result written before they were recorded are
    left out, and said so (:func:`_added_cells`)."""
    rows = []
    for s in result.get("scenarios", []):
        added = _added_cells(result, s)
        rows.append({
            "scenario": s["name"], "probability": s["probability"],
            "attacked": _named(result, "branches", s.get("attacked", s["broken"])),
            "failed (not hardened)": _named(result, "branches", scenario_failed(result, s)),
            **{k: added[k] for k in ("served [kW]",) if k in added},
            "shed [kW]": s["operation"]["shed_kw"],
            **{k: added[k] for k in ("switch operations",) if k in added},
            "loads shed [kW]": shed_loads_text(s["operation"]),
            "weighted shed cost [$]": s["shed_cost"], "penalty [$]": s["penalty_cost"],
            "closed lines": ", ".join(s["operation"]["closed_lines"]),
            "disconnected": disconnected_text(s["operation"]),
            **_ac_cells(s.get("ac_check"))})
    body = section("summary", "Plan", kv_table(plan_summary(result)))
    body += section("grid", "Hardened lines, DG sites and shed area per scenario",
                    image(png, "plan: hardened lines "
                          f"{', '.join(result.get('hardened') or []) or 'none'}; DG sites "
                          f"{', '.join(result.get('dg_sites') or []) or 'none'}",
                          "Thick blue: hardened; red dotted: broken; red buses: "
                          "shedding load; green squares: backup DGs."))
    body += section("scenarios", "Scenarios", records_table(rows)
                    + _not_recorded_note(result) + (
        "<p>Weighted shed cost = value of lost load &times; the sum over the "
        "loads of priority &times; shed kW.</p>"
        f"<p>{html.escape(DISCONNECTED_NOTE[0].upper() + DISCONNECTED_NOTE[1:])}.</p>"))
    if result.get("measures"):
        body += section("measures", "Value of the stochastic solution",
                        kv_table(measures_rows(result["measures"])))
    # the steps outside the solve (reading, measures, AC checks, ...), but write_s
    body += timings_section(result)
    if result.get("notes"):
        body += section("notes", "What the operation model leaves out",
                        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result["notes"])
                        + "</ul>")
    settings = {SETTING_LABELS.get(k, k): v
                for k, v in settings_shown(result.get("settings") or {}).items()}
    body += section("settings", "Settings", kv_table(settings))
    return page(f"{result.get('case', '')}: resilience plan", resilience_badge(result),
                "Line hardening and backup-DG siting against disaster scenarios (seed 003)",
                body, source)


#: ``switching.parquet`` of a plan folder: per scenario, its switch operations.
PLAN_SWITCHING_SCHEMA = {"scenario": pl.String, "branch": pl.String, "name": pl.String,
                         "action": pl.String, "operated_by": pl.String,
                         "fallback": pl.Boolean}
#: ``shed.parquet`` of a plan folder: per scenario, the loads it sheds.
PLAN_SHED_SCHEMA = {"scenario": pl.String, "load": pl.String, "name": pl.String,
                    "shed_kw": pl.Float64}


def plan_switching_frame(result: Mapping[str, Any]) -> pl.DataFrame:
    """``switching.parquet`` of a plan folder: each scenario's switch operations from the
    normal state (``scenario``, ``branch``, its user ``name``, ``action``: open | close,
    ``operated_by``: a pandapower net's switches; null where none; ``fallback``: true where
    the scenario's operation is the shed-all fallback of a recourse out of time, no
    restoration plan), as the JSON's ``scenarios[].switching``."""
    rows = [{"scenario": sc["name"], **_switching_row(w)}
            for sc in result.get("scenarios", []) for w in sc.get("switching") or []]
    return pl.DataFrame(rows, schema=PLAN_SWITCHING_SCHEMA)


def plan_shed_frame(result: Mapping[str, Any]) -> pl.DataFrame:
    """``shed.parquet`` of a plan folder: per scenario, each load it sheds (``load``: the
    load's id, or the bus id where the network has one load entry per bus; its user
    ``name``; ``shed_kw``), as the JSON's ``operation.shed_per_load_kw``."""
    names = {**((result.get("names") or {}).get("buses") or {}),
             **((result.get("names") or {}).get("loads") or {})}
    rows = []
    for sc in result.get("scenarios", []):
        op = sc["operation"]
        per = op.get("shed_per_load_kw") or op.get("shed_per_bus_kw") or {}
        rows += [{"scenario": sc["name"], "load": k, "name": names.get(k),
                  "shed_kw": float(v)} for k, v in per.items()]
    return pl.DataFrame(rows, schema=PLAN_SHED_SCHEMA)


def write_resilience_folder(out: str | Path, source: Any, result: Mapping[str, Any], *,
                            force: bool = False, ties: TieRule = "auto") -> Path:
    """Write ``result.json``, ``switching.parquet`` (:func:`plan_switching_frame`),
    ``shed.parquet`` (:func:`plan_shed_frame`), ``plan.png`` and ``report.html`` into the
    folder ``out``
    (atomically; an existing folder only with ``force``) for ``result``, a plan's dict
    (:func:`feederopt.plan`'s ``to_dict()``), the plan of ``source`` read with the tie rule
    ``ties`` (as :func:`feederopt.plan` read it). An ``out`` or ``result`` of the wrong type is
    an :class:`~feederopt.errors.InputError` naming it."""
    from feederopt.cases import load

    check_writer_arguments("write_resilience_folder", result, "a plan's result as a dict",
                           "give the result's to_dict()", out=out)
    net = source if isinstance(source, Network) else load(source, ties=ties)
    fig = plan_figure(net, result)
    png = figure_png(fig)
    _pyplot().close(fig)
    with atomic_folder(out, force=force) as tmp:
        (tmp / "result.json").write_text(json.dumps(
            finite_json(result), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        write_table(plan_switching_frame(result), tmp / "switching.parquet")
        write_table(plan_shed_frame(result), tmp / "shed.parquet")
        (tmp / "plan.png").write_bytes(png)
        (tmp / "report.html").write_text(render_plan(result, png, Path(out).name),
                                         encoding="utf-8")
    return Path(out)


# ----- restore --out -----------------------------------------------------------------------------
#: The figure of a restore folder.
RESTORATION_PNG = "restoration.png"
#: The switch operations' table of a restore folder, and its columns.
SWITCHING_SCHEMA = {"branch": pl.String, "name": pl.String, "action": pl.String,
                    "operated_by": pl.String, "fallback": pl.Boolean}


def _switching_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of ``switching.parquet`` from one of the JSON's switching rows (``fallback``
    false where the row has none)."""
    return {k: bool(row.get(k)) if k == "fallback" else row.get(k) for k in SWITCHING_SCHEMA}


def switching_frame(switching: list[Mapping[str, Any]]) -> pl.DataFrame:
    """``switching.parquet``: a restoration's switch operations from the normal state (the
    branch, its user ``name``, ``open`` or ``close``, and the pandapower switches that do it;
    null where none; ``fallback``: true where the operation is the shed-all fallback of a
    run out of time, no restoration plan)."""
    return pl.DataFrame([_switching_row(row) for row in switching], schema=SWITCHING_SCHEMA)


def restore_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """A restoration's summary rows, labelled as the console's table labels them, units in
    brackets."""
    op = result.get("operation") or {}
    gap = result.get("gap")
    weighted = abs(float(result.get("objective_kw") or 0.0) - float(
        result.get("penalty_kw") or 0.0) - float(result.get("shed_kw") or 0.0)) > 1e-6
    return {
        "status": result.get("status"),
        f"broken {branch_word(result.get('broken') or [])}":
            _named(result, "branches", result.get("broken")),
        "radiality": result.get("radiality"),
        "load [kW]": fmt(result.get("total_load_kw"), ",.2f"),
        "shed [kW]": fmt(result.get("shed_kw"), ",.2f"),
        "switching penalty [kW]": fmt(result.get("penalty_kw"), ",.2f"),
        ("total (priority-weighted shed + penalty) [kW]" if weighted else
         "total (shed + penalty, as the seed reports) [kW]"):
            fmt(result.get("objective_kw"), ",.2f"),
        "lower bound [kW]": fmt(result.get("lower_bound_kw"), ",.2f"),
        "gap [%]": fmt(None if gap is None else 100 * float(gap), ".4f") + gap_explained(
            result.get("loss_reserve_kw"), result.get("model_gap"), " kW"),
        "within the limits (AC check)": resilience_within_text(document_within_limits(result),
                                                               result.get("status")),
        "backup DG sites": _named(result, "buses", result.get("dg_sites")),
        "backup DG output (model)": dg_output_text(op),
        f"closed {branch_word(op.get('closed_lines') or [])}":
            ", ".join(op.get("closed_lines") or []) or "-",
        "disconnected": disconnected_text(op),
        "solve time [s]": fmt(result.get("solve_time_s"), ".2f"),
        # the command's whole time to the answer beside the solve's, as its console row
        **answer_time_rows(result),
    }


def restore_ac_rows(ac: Mapping[str, Any]) -> dict[str, Any]:
    """A restoration's AC check (:mod:`feederopt.validation.restoration`) as the console's
    table has it."""
    def rng(lo: Any, hi: Any) -> str:
        return "-" if lo is None or hi is None else f"{lo:.4f} - {hi:.4f}"

    rows = {
        "converged": ac.get("converged"),
        "losses (AC; the model has none) [kW]": fmt(ac.get("losses_kw"), ".3f"),
        "voltage (AC, true) [p.u.]": rng(ac.get("min_voltage_pu"), ac.get("max_voltage_pu")),
        "voltage (model: LinDistFlow, lossless) [p.u.]": rng(ac.get("model_min_voltage_pu"),
                                                            ac.get("model_max_voltage_pu")),
        "max |V_model - V_ac| (model error) [p.u.]": fmt(ac.get("max_voltage_diff_pu"), ".2e"),
    }
    for bus, kw in (ac.get("dg_island_kw") or {}).items():
        rows[f"backup DG {bus} forming its island (AC) [kW]"] = fmt(kw, ",.2f")
        kvar = (ac.get("dg_island_kvar") or {}).get(bus)
        if kvar is not None:
            rows[f"backup DG {bus} forming its island (AC) [kvar]"] = fmt(kvar, ",.2f")
    rows["limits hold in AC"] = ac.get("limits_hold")
    if not ac.get("limits_hold"):
        rows["verdict"] = ac.get("verdict")
        rows["why"] = ac.get("cause")
    return rows


def _table(df: pl.DataFrame | None, name: str) -> str:
    """A folder's table on the page (at most :data:`MAX_ROWS` rows; the rest counted)."""
    if df is None:
        return f"<p>The result folder has no {name}.</p>"
    more = df.height - MAX_ROWS
    return records_table(df.head(MAX_ROWS).to_dicts()) + (
        f'<p class="note">{more} more rows in {name}.</p>' if more > 0 else "")


def render_restore(result: Mapping[str, Any], png: bytes, source: str,
                   buses: pl.DataFrame | None, branches: pl.DataFrame | None) -> str:
    """The HTML page of a restoration (``result.json``) with its ``restoration.png`` and the
    folder's ``buses``/``branches`` tables (None: the folder has none); ``source`` is the
    folder's name, for the footer."""
    op = result.get("operation") or {}
    body = section("summary", "Restoration", kv_table(restore_summary(result)))
    body += section("grid", "Restored topology and shed area",
                    image(png, f"restoration: broken {branch_word(result.get('broken') or [])} "
                          f"{', '.join(result.get('broken') or []) or 'none'}; closed "
                          f"{branch_word(op.get('closed_lines') or [])} "
                          f"{', '.join(op.get('closed_lines') or []) or 'none'}",
                          "Red dotted: broken; black: closed; grey dashed: open; red buses: "
                          "shedding load; green squares: backup DGs."))
    switching = list(result.get("switching") or [])
    fallback = (f"<p>{html.escape(FALLBACK_LABEL[0].upper() + FALLBACK_LABEL[1:])}: the "
                "time was up before the start topology's operation, so every sheddable load "
                "is shed with every switchable line open; these operations are no "
                "restoration plan (see the notes).</p>" if result.get("fallback") else "")
    body += section("switching", "Switch operations from the normal state",
                    fallback + (records_table(switching) if switching else
                                "<p>None: the normal state serves the restoration.</p>"))
    per_bus = op.get("shed_per_bus_kw") or {}
    per_load = op.get("shed_per_load_kw") or {}
    shed = records_table([{"bus": k, "shed [kW]": v} for k, v in per_bus.items()])
    if per_load and per_load != per_bus:  # several loads at a bus, or load ids not bus ids
        shed += records_table([{"load": k, "shed [kW]": v} for k, v in per_load.items()])
    body += section("shed", "Shed load", shed if per_bus else "<p>No load is shed.</p>")
    ac = result.get("ac_check")
    body += section("ac-check", "AC check (pandapower Newton-Raphson): the true operating point",
                    kv_table(restore_ac_rows(ac)) if ac else
                    "<p>Not run (--no-ac-check): the AC columns of the tables are empty.</p>")
    body += section("buses", "Buses (model: LinDistFlow, lossless; AC: pandapower)",
                    _table(buses, "buses.parquet"))
    body += section("branches", "Branches (flows at the from end)",
                    _table(branches, "branches.parquet"))
    # the steps outside the solve (reading, the AC check, ...), but write_s
    body += timings_section(result)
    body += notes_section(result)
    return page(f"{result.get('case', '')}: restoration", resilience_badge(result),
                "Least load shedding after line failures (seed 003, Phase 1)", body, source)


def write_restore_folder(out: str | Path, source: Any, result: RestoreResult, *,
                         force: bool = False, ties: TieRule = "auto") -> Path:
    """Write the folder of ``feederopt restore ... --out DIR`` (module docstring) for
    ``result``, the restoration of ``source`` (a case name, file or
    :class:`~feederopt.network.container.Network`; a pandapower file read with the tie rule
    ``ties``, as :func:`feederopt.restore` read it), atomically. An existing ``out`` is
    replaced only with ``force``, and then only an empty folder or an earlier result folder,
    never a file of the user's under a name the folder gets
    (:func:`feederopt.io.writing.output_problems`). An ``out`` or ``result`` of the wrong
    type is an :class:`~feederopt.errors.InputError` naming it."""
    from feederopt.cases import load

    check_writer_arguments("write_restore_folder", result, "what feederopt.restore returns",
                           "give the result of feederopt.restore itself", expected=RestoreResult,
                           out=out)
    check_output(out, force=force, folder=True, command="restore",
                 inputs=[source] if isinstance(source, str | Path) else [])
    net = source if isinstance(source, Network) else load(source, ties=ties)
    data = result.to_dict()
    fig = restoration_figure(net, data)
    png = figure_png(fig)
    _pyplot().close(fig)
    with atomic_folder(out, force=force) as tmp:
        (tmp / "result.json").write_text(json.dumps(
            finite_json(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        if result.buses is not None:
            write_table(result.buses, tmp / "buses.parquet")
        if result.branches is not None:
            write_table(result.branches, tmp / "branches.parquet")
        write_table(switching_frame(data.get("switching") or []), tmp / "switching.parquet")
        (tmp / RESTORATION_PNG).write_bytes(png)
        (tmp / "report.html").write_text(
            render_restore(data, png, Path(out).name, result.buses, result.branches),
            encoding="utf-8")
    return Path(out)
