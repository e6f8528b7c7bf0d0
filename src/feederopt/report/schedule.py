"""The result folder of ``feederopt schedule CASE --out DIR`` (seed 004): ``result.json``,
``hourly.png`` (substation purchase, import with the losses and Q; DG P and Q; storage
charge/discharge and SOC; EV charging; renewables; DSM shifts; voltages; losses; the network's
own generators and the load curtailment, per hour: people read these as plots; a panel only
for what the schedule has, the others named under the panels) and a self-contained
``report.html`` (summary, the plots, the topology by hour, the C&CG log, the worst case, the
hourly AC check). Open lines read as in ``feederopt solve``: ``7 (7-8)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feederopt.io.writing import atomic_folder
from feederopt.report.page import (
    fmt,
    image,
    kv_table,
    notes_section,
    page,
    records_table,
    section,
)
from feederopt.report.partition import partition_result_json
from feederopt.report.plot import _pyplot, figure_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def schedule_result_json(result: Mapping[str, Any]) -> str:
    """The result as JSON text; non-finite numbers become null (the partition result's
    writer, which is generic)."""
    return partition_result_json(result)


def _step(ax: Any, values: Any, **kw: Any) -> Any:
    """Hourly values as steps over ``[h, h + 1)`` (the last hour drawn to its end)."""
    y = np.asarray(values, float)
    return ax.step(np.arange(len(y) + 1), np.append(y, y[-1:]), where="post", **kw)[0]


def hourly_figure(result: Mapping[str, Any]) -> Figure:
    """Ten panels of hourly series (module docstring)."""
    plt = _pyplot()
    s = result["series"]
    hours = np.arange(len(s["substation_p_mw"]))
    fig, axes = plt.subplots(5, 2, figsize=(12, 15), sharex=True)
    ax = axes.ravel()
    _step(ax[0], s["substation_p_mw"], label="P purchase [MW]")
    if s.get("import_p_mw"):
        _step(ax[0], s["import_p_mw"], ls="--", label="P import with losses [MW]")
        limit = (result.get("settings") or {}).get("ps_max_mw")
        if isinstance(limit, int | float) and limit <= 2 * max(max(s["import_p_mw"]), 1e-3):
            ax[0].axhline(limit, color="tab:red", lw=0.8, ls=":", label="import limit")
    _step(ax[0], s["substation_q_mvar"], label="Q [MVAr]")
    ax[0].set_title("substation (purchase: losses priced separately)")
    for k, v in s["dg_mw"].items():
        line = _step(ax[1], v, label=k)
        if k in (s.get("dg_q_mvar") or {}):
            _step(ax[1], s["dg_q_mvar"][k], ls=":", color=line.get_color())
    ax[1].set_title("fossil DG P [MW] (solid) and Q [MVAr] (dotted)")
    on = result.get("dg_commitment") or {}
    if on:
        any_on = np.asarray(list(on.values()), float).max(0)
        for h in np.flatnonzero(any_on > 0.5):
            ax[1].axvspan(h, h + 1, color="tab:orange", alpha=0.12, lw=0)
        ax[1].set_title("fossil DG [MW] (shaded: hours with a unit committed day-ahead)")
    for k in s["ess_charge_mw"]:
        net = np.asarray(s["ess_discharge_mw"][k]) - np.asarray(s["ess_charge_mw"][k])
        _step(ax[2], net, label=k)
    ax[2].axhline(0, color="grey", lw=0.5)
    ax[2].set_title("storage discharge (+) / charge (-) [MW]")
    for k, v in s["ess_soc_mwh"].items():
        ax[3].plot(hours + 1, v, marker="o", ms=3, label=k)
    ax[3].set_title("storage state of charge at the end of each hour [MWh]")
    for k, v in s["renewable_mw"].items():
        line = _step(ax[4], v, label=k)
        _step(ax[4], s["renewable_forecast_mw"][k], ls=":", color=line.get_color())
    ax[4].set_title("PV and wind used (solid) and available (dotted) [MW]")
    for k, v in s["ev_mw"].items():
        _step(ax[5], v, label=k)
    ax[5].set_title("EV charging [MW]")
    for k, v in list(s["dsm_shift_mw"].items())[:12]:
        _step(ax[6], v, label=f"bus {k}")
    if not s["dsm_shift_mw"]:
        ax[6].text(0.5, 0.5, "no load shifted (DSM off or not used)", ha="center",
                   va="center", transform=ax[6].transAxes)
    ax[6].axhline(0, color="grey", lw=0.5)
    ax[6].set_title("DSM shift pdr - pd [MW] (first 12 buses that shift)")
    _step(ax[7], s["v_min_pu"], label="V min")
    _step(ax[7], s["v_mean_pu"], label="V mean")
    _step(ax[7], s["v_max_pu"], label="V max")
    ax[7].set_title("voltages [p.u.]")
    _step(ax[8], s["losses_mw"], label="model r(P²+Q²)")
    if s.get("losses_pwl_mw"):
        _step(ax[8], s["losses_pwl_mw"], ls="--", label="model, piecewise-linear")
    ac = [a.get("losses_ac_mw") for a in result.get("ac_check") or []]
    if ac and len(ac) == len(hours):
        _step(ax[8], [np.nan if v is None else v for v in ac], ls=":", label="AC (pandapower)")
    ax[8].set_title("losses [MW]")
    for k, v in list((s.get("network_gen_p_mw") or {}).items())[:8]:
        _step(ax[9], v, label=k)
    if s.get("load_shed_mw") and max(s["load_shed_mw"]) > 0:
        _step(ax[9], s["load_shed_mw"], color="tab:red", lw=2, label="load curtailed")
    if not ax[9].get_legend_handles_labels()[0]:
        ax[9].text(0.5, 0.5, "no network generators, no curtailment", ha="center",
                   va="center", transform=ax[9].transAxes)
    ax[9].set_title("network generators P (first 8) and load curtailment [MW]")
    for a in ax:
        a.grid(alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7, ncol=2)
    ax[8].set_xlabel("hour")
    what = f"{result.get('method')}, worst case" if result.get("worst") else "forecast"
    fig.suptitle(f"{result.get('case', '')}: {len(hours)}-hour schedule ({what})")
    fig.tight_layout()
    return fig


def open_lines_text(rows: Sequence[Mapping[str, Any]] | None,
                    bare: Sequence[str] | None = None) -> str:
    """Open lines as ``feederopt solve`` prints them (``7 (7-8)``: the branch id and its
    from-to buses, :func:`feederopt.results.result.branch_label`); ``bare`` (the ids alone)
    for a result written before the rows were recorded."""
    from feederopt.results.result import branch_label

    if rows:
        return ", ".join(branch_label(r) for r in rows)
    return ", ".join(bare or []) or "-"


def topology_by_hour(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The hourly topology as ``(hours, open lines)`` spans of consecutive hours with the same
    open lines (``"0-5"``, ``"7 (7-8), ..."``); one span when the day has one topology."""
    rows = result.get("open_branches_by_hour") or []
    bare = result.get("open_lines_by_hour") or []
    hours = max(len(rows), len(bare))
    texts = [open_lines_text(rows[h] if h < len(rows) else None,
                             bare[h] if h < len(bare) else None) for h in range(hours)]
    out: list[tuple[str, str]] = []
    start = 0
    for h in range(1, hours + 1):
        if h == hours or texts[h] != texts[start]:
            out.append((f"{start}" if h - 1 == start else f"{start}-{h - 1}", texts[start]))
            start = h
    return out


def render_schedule_report(result: Mapping[str, Any], png: bytes, source: str) -> str:
    r = result
    nom = r.get("nominal") or {}
    worst = r.get("worst") or {}
    summary: dict[str, Any] = {
        "status": r.get("status"), "method": r.get("method"), "hours": r.get("hours"),
        "objective [$]": fmt(r.get("objective"), ",.3f"),
        "lower bound [$]": fmt(r.get("lower_bound"), ",.3f"), "gap": fmt(r.get("gap"), ".2e"),
        "open lines": open_lines_text(r.get("open_branches"), r.get("open_lines")),
        **({"DG committed day-ahead (1 on, per hour)": "; ".join(
            f"{k}: {''.join(str(v) for v in on)}" for k, on in r["dg_commitment"].items())}
           if r.get("dg_commitment") else {}),
        "import limit [MW]": fmt((r.get("settings") or {}).get("ps_max_mw"), "g"),
        "run time [s]": fmt(r.get("run_time_s"), ".1f"),
        "validity": "; ".join(r.get("violations") or []) or "all checks hold",
    }
    for label, t in (("forecast", nom), ("worst case", worst)):
        if not t:
            continue
        summary[f"{label}: losses [MWh]"] = fmt(t.get("losses_mwh"), ".4f")
        summary[f"{label}: purchase, losses priced separately [MWh]"] = fmt(
            t.get("purchase_mwh"), ".3f")
        summary[f"{label}: import with the modelled losses [MWh]"] = fmt(
            t.get("import_mwh"), ".3f")
        summary[f"{label}: load shed [MWh]"] = fmt(t.get("load_shed_mwh"), ".3f")
        summary[f"{label}: renewable spill [MWh]"] = fmt(t.get("renewable_spill_mwh"), ".3f")
        summary[f"{label}: V min / max [p.u.]"] = (f"{fmt(t.get('v_min_pu'), '.4f')} / "
                                                   f"{fmt(t.get('v_max_pu'), '.4f')}")
    sc = r.get("sample_check")
    if sc:
        summary[f"served without slack ({sc.get('samples')} samples)"] = fmt(
            sc.get("served_pct"), ".1f", " %")
        if sc.get("deterministic_served_pct") is not None:
            summary["deterministic schedule served"] = fmt(sc.get("deterministic_served_pct"),
                                                           ".1f", " %")
        if sc.get("sampling"):
            summary["samples drawn as"] = sc["sampling"]["description"]
    iters = [{"k": it["k"], "LB [$]": fmt(it["lower"], ",.4f"), "UB [$]": fmt(it["upper"],
                                                                               ",.4f"),
              "gap": fmt(it["gap"], ".2e"), "worst Q [$]": fmt(it["worst_value"], ",.4f"),
              "deviations": it["deviations"], "master [s]": fmt(it["master_s"], ".1f"),
              "subproblem [s]": fmt(it["sub_s"], ".1f")} for it in r.get("iterations", [])]
    ac = [{"hour": a["hour"], "converged": a["converged"], "V min AC": fmt(a["v_min_ac"], ".4f"),
           "V min model": fmt(a["v_min_model"], ".4f"),
           "max |dV| [p.u.]": fmt(a["max_v_error_pu"], ".4f"),
           "losses AC [MW]": fmt(a["losses_ac_mw"], ".4f"),
           "losses model [MW]": fmt(a["losses_model_mw"], ".4f"),
           "import AC [MW]": fmt(a.get("import_ac_mw"), ".4f")} for a in r.get("ac_check", [])]
    wc = r.get("worst_case")
    spans = topology_by_hour(r)
    if len(spans) > 1:
        summary["open lines"] += f" (hour 0; {len(spans)} topologies over the day, below)"
    body = (section("summary", "Summary", kv_table(summary))
            + section("hourly", "Hourly series", image(png, "hourly series",
                                                       "The worst case's dispatch (robust) or "
                                                       "the forecast's (deterministic)."))
            + (section("topology", "Topology by hour", records_table(
                [{"hours": h, "open lines": t} for h, t in spans]))
               if len(spans) > 1 else "")
            + section("ccg", "C&CG log", records_table(iters) if iters else
                      '<p class="note">deterministic: no iterations</p>')
            + section("worst", "Worst case", kv_table(wc) if wc else "-")
            + section("ac", "Hourly AC check (pandapower)", records_table(ac) if ac else "-")
            + notes_section(r))
    return page(f"feederopt schedule: {r.get('case', '')}", str(r.get("status", "unknown")),
                schedule_title(r), body, source)


def schedule_title(r: Mapping[str, Any]) -> str:
    """The report's subtitle as the run was: its horizon, robust (C&CG) or deterministic, one
    topology for the day or one per hour (before, every report said "24-hour robust", and a
    run with one topology for the day "dynamic reconfiguration")."""
    hours = r.get("hours")
    span = f"{hours}-hour" if isinstance(hours, int) else "day-ahead"
    method = str(r.get("method") or "")
    kind = {"ccg": "robust (C&CG)", "extensive": "robust (every extreme point)"}.get(method,
                                                                                  method)
    hourly = bool((r.get("settings") or {}).get("hourly"))
    topology = ("dynamic reconfiguration (a topology per hour)" if hourly else
                "reconfiguration (one topology for the day)")
    return f"{span} {kind} {topology} with storage (seed 004)".replace("  ", " ")


def write_schedule_folder(out: str | Path, result: Mapping[str, Any], *,
                          force: bool = False) -> Path:
    """Write ``out/`` (result.json, hourly.png, report.html) atomically; an existing ``out``
    is replaced only with ``force``."""
    png = figure_png(hourly_figure(result))
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        (tmp / "result.json").write_text(schedule_result_json(result), encoding="utf-8")
        (tmp / "hourly.png").write_bytes(png)
        (tmp / "report.html").write_text(render_schedule_report(result, png, out.name),
                                         encoding="utf-8")
    return out
