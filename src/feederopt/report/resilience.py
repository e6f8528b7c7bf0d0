"""The result folder of ``feederopt plan CASE --out DIR`` (seed 003): ``result.json``,
``plan.png`` and a self-contained ``report.html``.

``plan.png`` has one panel per scenario (at most :data:`MAX_PANELS`): every panel draws the
hardened lines thick (dark blue), the backup-DG sites as green squares, the lines the scenario
breaks red and dotted (a broken line that was hardened stays thick blue: it survives), the
closed lines black, the open ones light grey dashed, and the buses that shed load red (the shed
area), sized by the shed share. Buses sit at the network's ``x``/``y`` when it has them (zhang13
does), else on the tree layout of :mod:`feederopt.report.plot` from the sources.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feederopt.io.writing import atomic_folder
from feederopt.network.container import Network
from feederopt.report.page import fmt, image, kv_table, page, records_table, section
from feederopt.report.plot import _pyplot, coordinates, figure_png, tree_layout
from feederopt.results.resilience import (
    DISCONNECTED_NOTE,
    disconnected_text,
    measure_caveats,
    shed_loads_text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most scenario panels drawn.
MAX_PANELS = 6
HARDENED = "#1d4ed8"
DG = "#16a34a"
SHED = "#dc2626"


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


def plan_figure(net: Network, result: Mapping[str, Any]) -> Figure:
    """The plan on the grid, one panel per scenario (module docstring)."""
    plt = _pyplot()
    pos = _layout(net)
    ids = [str(b) for b in net.buses["id"].to_list()]
    index = {b: i for i, b in enumerate(ids)}
    branches = list(zip((str(b) for b in net.branches["id"].to_list()),
                        (str(b) for b in net.branches["from_bus"].to_list()),
                        (str(b) for b in net.branches["to_bus"].to_list()), strict=True))
    loads: dict[str, float] = {}
    for bus, p in zip(net.loads["bus"].to_list(), net.loads["p_mw"].to_list(), strict=True):
        loads[str(bus)] = loads.get(str(bus), 0.0) + 1000.0 * float(p)
    # an xward's internal branch (the reader's model of it, no user line): drawn closed where
    # the xward's bus is energised, as the operation's lists leave it out
    internal = ({str(b) for b, e in zip(net.branches["id"].to_list(),
                                        net.branches["pp_element"].to_list(), strict=True)
                 if e == "xward"} if "pp_element" in net.branches.columns else set())
    hardened = set(result.get("hardened", []))
    sites = set(result.get("dg_sites", []))
    scenarios = list(result.get("scenarios", []))[:MAX_PANELS]
    k = max(len(scenarios), 1)
    cols = min(k, 3)
    rows = (k + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.4 * rows), squeeze=False)
    small = len(ids) <= 40
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, sc in zip(axes.ravel(), scenarios or [{}], strict=False):
        broken = set(sc.get("broken", []))
        op = sc.get("operation", {})
        live = set(op.get("energised_buses", []))
        closed = set(op.get("closed_lines", [])) | {b for b, a, _ in branches
                                                    if b in internal and a in live}
        shed = op.get("shed_per_bus_kw", {})
        for bid, a, b in branches:
            xs = [pos[index[a], 0], pos[index[b], 0]]
            ys = [pos[index[a], 1], pos[index[b], 1]]
            if bid in hardened:
                ax.plot(xs, ys, color=HARDENED, lw=4.5, zorder=2, solid_capstyle="round")
            if bid in broken and bid not in hardened:
                ax.plot(xs, ys, color=SHED, lw=1.6, ls=":", zorder=3)
            elif bid in closed:
                ax.plot(xs, ys, color="black", lw=1.4, zorder=3)
            else:
                ax.plot(xs, ys, color="0.75", lw=1.0, ls="--", zorder=1)
            if small:
                ax.text(np.mean(xs), np.mean(ys), bid, fontsize=6, color="0.3", zorder=5,
                        ha="center", va="center", bbox={"fc": "white", "ec": "none", "pad": 0.3})
        share = np.array([shed.get(b, 0.0) / loads[b] if loads.get(b) else 0.0 for b in ids])
        colour = [SHED if s > 1e-6 else "white" for s in share]
        size = 30 + 90 * share if small else 6 + 30 * share
        ax.scatter(pos[:, 0], pos[:, 1], s=size, c=colour, edgecolors="0.2", linewidths=0.6,
                   zorder=4)
        site_idx = [index[b] for b in sites if b in index]
        if site_idx:
            ax.scatter(pos[site_idx, 0], pos[site_idx, 1], marker="s", s=120 if small else 40,
                       facecolors="none", edgecolors=DG, linewidths=2.0, zorder=6)
        if small:
            for i, b in enumerate(ids):
                ax.annotate(b, pos[i], xytext=(4, 4), textcoords="offset points", fontsize=7)
        title = (f"{sc.get('name', '')} (p = {sc.get('probability', 0):g}): "
                 f"shed {op.get('shed_kw', 0.0):,.1f} kW") if sc else "no scenario"
        ax.set_title(title, fontsize=9)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=HARDENED, lw=4.5, label="hardened line"),
               Line2D([], [], color=SHED, lw=1.6, ls=":", label="broken line"),
               Line2D([], [], color="black", lw=1.4, label="closed line"),
               Line2D([], [], color="0.75", lw=1.0, ls="--", label="open line"),
               Line2D([], [], marker="s", color=DG, ls="", mfc="none", label="backup DG"),
               Line2D([], [], marker="o", color=SHED, ls="", label="bus shedding load")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8, frameon=False)
    fig.suptitle(f"{result.get('case', '')}: hardened {', '.join(sorted(hardened)) or '-'}; "
                 f"DGs at {', '.join(sorted(sites)) or '-'}", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return fig


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
}


def plan_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's summary rows, labelled in words with their units as the command's console
    table labels them (``investment [$]``, not ``investment``)."""
    gap = result.get("gap")
    return {
        "method": result.get("method"), "status": result.get("status"),
        "hardened lines (ids)": ", ".join(result.get("hardened") or []) or "-",
        "DG sites": ", ".join(result.get("dg_sites") or []) or "-",
        "investment [$]": _money(result.get("investment")),
        "expected shedding cost, priority-weighted [$]": _money(
            result.get("expected_recourse")),
        "expected total cost [$]": _money(result.get("expected_total")),
        "lower bound [$]": _money(result.get("lower_bound")),
        "gap [%]": fmt(None if gap is None else 100 * float(gap), ".4f"),
        "solve time [s]": fmt(result.get("solve_time_s"), ".2f"),
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


def render_plan(result: Mapping[str, Any], png: bytes, source: str) -> str:
    """The HTML page of a plan result (``result.json``) with its ``plan.png``; ``source`` is
    the result folder's name, for the footer (as every other report names its folder)."""
    rows = [{"scenario": s["name"], "probability": s["probability"],
             "broken": ", ".join(s["broken"]), "shed [kW]": s["operation"]["shed_kw"],
             "loads shed [kW]": shed_loads_text(s["operation"]),
             "weighted shed cost [$]": s["shed_cost"], "penalty [$]": s["penalty_cost"],
             "closed lines": ", ".join(s["operation"]["closed_lines"]),
             "disconnected": disconnected_text(s["operation"]),
             **_ac_cells(s.get("ac_check"))}
            for s in result.get("scenarios", [])]
    body = section("summary", "Plan", kv_table(plan_summary(result)))
    body += section("grid", "Hardened lines, DG sites and shed area per scenario",
                    image(png, "plan: hardened lines "
                          f"{', '.join(result.get('hardened') or []) or 'none'}; DG sites "
                          f"{', '.join(result.get('dg_sites') or []) or 'none'}",
                          "Thick blue: hardened; red dotted: broken; red buses: "
                          "shedding load; green squares: backup DGs."))
    body += section("scenarios", "Scenarios", records_table(rows) + (
        "<p>Weighted shed cost = value of lost load &times; the sum over the "
        "loads of priority &times; shed kW.</p>"
        f"<p>{html.escape(DISCONNECTED_NOTE[0].upper() + DISCONNECTED_NOTE[1:])}.</p>"))
    if result.get("measures"):
        body += section("measures", "Value of the stochastic solution",
                        kv_table(measures_rows(result["measures"])))
    if result.get("notes"):
        body += section("notes", "What the operation model leaves out",
                        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result["notes"])
                        + "</ul>")
    settings = {SETTING_LABELS.get(k, k): v for k, v in result.get("settings", {}).items()}
    body += section("settings", "Settings", kv_table(settings))
    return page(f"{result.get('case', '')}: resilience plan", str(result.get("status", "")),
                "Line hardening and backup-DG siting against disaster scenarios (seed 003)",
                body, source)


def write_resilience_folder(out: str | Path, source: Any, result: Mapping[str, Any], *,
                            force: bool = False) -> Path:
    """Write ``result.json``, ``plan.png`` and ``report.html`` into the folder ``out``
    (atomically; an existing folder only with ``force``)."""
    from feederopt.cases import load

    net = source if isinstance(source, Network) else load(source)
    fig = plan_figure(net, result)
    png = figure_png(fig)
    _pyplot().close(fig)
    with atomic_folder(out, force=force) as tmp:
        (tmp / "result.json").write_text(json.dumps(result, indent=2) + "\n",
                                         encoding="utf-8")
        (tmp / "plan.png").write_bytes(png)
        (tmp / "report.html").write_text(render_plan(result, png, Path(out).name),
                                         encoding="utf-8")
    return Path(out)
