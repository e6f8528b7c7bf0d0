"""The result folder of ``feederopt schedule CASE --out DIR`` (seed 004): ``result.json``,
``hourly.png`` (substation purchase, import with the losses and Q; DG P and Q; storage
charge/discharge and SOC; EV charging; renewables; DSM shifts; voltages; losses; the network's
own generators and the load curtailment, per hour: people read these as plots; a panel only
for what the schedule has, the others named under the panels) and a self-contained
``report.html`` (summary, the plots, the topology by hour, the C&CG log, the worst case, the
hourly AC check). Open lines read as in ``feederopt solve``: ``7 (7-8)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feederopt.io.writing import atomic_folder
from feederopt.network.timeseries import clock_text
from feederopt.report.page import (
    check_writer_arguments,
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
from feederopt.results.result import base_verdict_rows
from feederopt.results.schedule import (
    ac_check_rows,
    ac_losses_mwh,
    loss_rows,
    present_switching_text,
    pwl_loss_text,
    schedule_switching_text,
    schedule_verdict_rows,
    worst_case_rows,
    worst_found_text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def schedule_result_json(result: Mapping[str, Any]) -> str:
    """The result (a dict: a schedule result's ``to_dict()``) as JSON text; non-finite
    numbers become null (the partition result's writer, which is generic). Anything else is
    an :class:`~feederopt.errors.InputError` naming ``result``."""
    check_writer_arguments("schedule_result_json", result, "a result as a dict",
                           "give the result's to_dict()")
    return partition_result_json(result)


def _step(ax: Any, values: Any, **kw: Any) -> Any:
    """Hourly values as steps over ``[h, h + 1)`` (the last hour drawn to its end)."""
    y = np.asarray(values, float)
    return ax.step(np.arange(len(y) + 1), np.append(y, y[-1:]), where="post", **kw)[0]


#: Units drawn as a line each, with a legend entry each, up to this many per panel; a panel
#: with more units draws a heat map instead, one row per unit named on the axis (every unit
#: visible, no legend to trim).
LINE_UNITS = 8

#: The panels' titles by kind (the figure draws a panel only for what the schedule has).
TITLES = {
    "substation": "substation (purchase: losses priced separately)",
    "dg": "fossil DG P [MW] (solid) and Q [MVAr] (dotted)",
    "ess_power": "storage discharge (+) / charge (-) [MW]",
    "ess_soc": "storage state of charge [MWh] (start, then end of each hour)",
    "renewables": "PV and wind used (solid) and available (dotted) [MW]",
    "ev": "EV charging [MW]",
    "dsm": "DSM shift pdr - pd [MW]",
    "voltages": "voltages [p.u.]",
    "losses": "losses [MW]",
    "network_gen": "network generators P [MW]",
    "curtailment": "load curtailment [MW]",
}

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass
class _Panel:
    kind: str
    draw: Callable[[Any, Any], None]  # (fig, ax)
    wide: bool = False
    height: float = 3.0
    legend: dict[str, Any] | None = None  # the legend's place (default: matplotlib's "best")


def _width(i: int) -> float:
    """Line widths that shrink with the order drawn, so that a unit whose series equals an
    earlier one's shows as a thinner line inside the earlier, wider one."""
    return max(4.0 * 0.7 ** i, 1.0)  # 4, 2.8, 2, 1.4, 1 pt


def _same_as(y: np.ndarray, seen: dict[str, np.ndarray]) -> str:
    for k, v in seen.items():
        if v.shape == y.shape and np.allclose(v, y, atol=1e-6, rtol=0.0):
            return f" (= {k})"
    return ""


def _unit_lines(ax: Any, data: Mapping[str, Any], second: Mapping[str, Any] | None = None
                ) -> None:
    """One step line per unit (a colour and a width each; a series equal to an earlier unit's
    says so in its legend entry), and the matching ``second`` series dotted."""
    seen: dict[str, np.ndarray] = {}
    for i, (k, v) in enumerate(data.items()):
        y = np.asarray(v, float)
        line = _step(ax, y, color=f"C{i % 10}", lw=_width(i), label=f"{k}{_same_as(y, seen)}")
        seen[k] = y
        if second is not None and k in second:
            _step(ax, second[k], ls=":", color=line.get_color(), lw=1.2)


def _unit_map(fig: Any, ax: Any, data: Mapping[str, Any], unit: str,
              cmap: str = "viridis", values: Any = None) -> None:
    """A heat map of one row per unit (named on the axis) and one column per hour."""
    ids = list(data)
    m = np.asarray(values if values is not None else [data[k] for k in ids], float)
    hours = m.shape[1]
    lim = float(np.nanmax(np.abs(m))) if m.size else 1.0
    signed = bool(m.size and np.nanmin(m) < -1e-9)
    im = ax.imshow(m, aspect="auto", interpolation="nearest", extent=(0, hours, len(ids), 0),
                   cmap="RdBu_r" if signed else cmap,
                   vmin=-lim if signed else None, vmax=lim if signed else None)
    ax.set_yticks(np.arange(len(ids)) + 0.5, ids, fontsize=max(5, min(8, 220 // len(ids))))
    fig.colorbar(im, ax=ax, pad=0.01, label=unit)


def _map_height(units: int) -> float:
    return max(3.0, 0.22 * units + 1.2)


def _legend_note(ax: Any, shown: int, total: int) -> None:
    if shown < total:
        ax.text(0.99, 0.01, f"legend: {shown} of {total} (all drawn)", ha="right",
                va="bottom", fontsize=7, transform=ax.transAxes)


def _units_panel(kind: str, data: Mapping[str, Any], unit: str,
                 second: Mapping[str, Any] | None = None,
                 after: Callable[[Any, bool], None] | None = None) -> _Panel:
    """The panel of a kind of unit: a line per unit (``second`` dotted beside it) up to
    :data:`LINE_UNITS` units, else a heat map with a row per unit (``unit`` names its colour
    scale); ``after(ax, as_map)`` draws on it last."""
    many = len(data) > LINE_UNITS

    def draw(fig: Any, ax: Any) -> None:
        if many:
            _unit_map(fig, ax, data, unit)
        else:
            _unit_lines(ax, data, second)
        if after is not None:
            after(ax, many)

    return _Panel(kind, draw, wide=many, height=_map_height(len(data)) if many else 3.0)


def _zero_line(ax: Any, as_map: bool) -> None:
    if not as_map:
        ax.axhline(0, color="grey", lw=0.5)


def _panels(result: Mapping[str, Any]) -> tuple[list[_Panel], list[str]]:
    """The panels that the schedule has data for, and what is not drawn (none in it)."""
    s = result["series"]
    settings = result.get("settings") or {}
    panels: list[_Panel] = []
    absent: list[str] = []

    def substation(fig: Any, ax: Any) -> None:
        _step(ax, s["substation_p_mw"], lw=2.4, label="P purchase [MW]")
        if s.get("import_p_mw"):
            _step(ax, s["import_p_mw"], ls="--", label="P import with losses [MW]")
            limit = settings.get("ps_max_mw")
            if isinstance(limit, int | float) and limit <= 2 * max(max(s["import_p_mw"]), 1e-3):
                ax.axhline(limit, color="tab:red", lw=0.8, ls=":", label="import limit")
        _step(ax, s["substation_q_mvar"], label="Q [MVAr]")
        price = s.get("price_per_mwh") or []
        if len(price) and max(price) - min(price) > 1e-9:  # an hourly price: its own axis
            twin = ax.twinx()
            _step(twin, price, color="tab:gray", lw=1.0, ls="-.", label="price [$/MWh]")
            twin.tick_params(axis="y", colors="tab:gray")
            # its entry joins the panel's one legend (below): a legend of its own hid the
            # substation's "Q [MVAr]" entry (user test ut_sched4 #9)

    panels.append(_Panel("substation", substation))

    dg = s.get("dg_mw") or {}
    on = result.get("dg_commitment") or {}
    if dg:
        def committed(ax: Any, as_map: bool) -> None:
            if on:
                any_on = np.asarray(list(on.values()), float).max(0)
                for h in np.flatnonzero(any_on > 0.5):
                    ax.axvspan(h, h + 1, color="tab:orange", alpha=0.12, lw=0)

        panels.append(_units_panel("dg", dg, "P [MW]", s.get("dg_q_mvar") or {}, committed))
    else:
        absent.append("fossil DG (no units)")

    ess = s.get("ess_charge_mw") or {}
    limits = result.get("ess_limits_mwh") or {}
    if ess:
        net = {k: (np.asarray(s["ess_discharge_mw"][k], float)
                   - np.asarray(s["ess_charge_mw"][k], float)).tolist() for k in ess}
        soc = s["ess_soc_mwh"]

        def state(fig: Any, ax: Any) -> None:
            if len(soc) > LINE_UNITS:  # SOC as a share of each unit's E max: limits 0-100 %
                e = [limits.get(k, {}).get("e_max_mwh") or max(max(soc[k]), 1e-9) for k in soc]
                _unit_map(fig, ax, soc, "SOC [% of E max] (limits 0 and 100)", values=[
                    100 * np.asarray(soc[k], float) / ek for k, ek in zip(soc, e, strict=True)])
                return
            seen: dict[str, np.ndarray] = {}
            colours: dict[str, str] = {}
            for i, (k, v) in enumerate(soc.items()):
                lim = limits.get(k) or {}
                y = np.asarray(v, float)
                if lim.get("soc0_mwh") is not None:  # the SOC before hour 0, then each hour's end
                    x, y = np.arange(len(y) + 1), np.concatenate([[lim["soc0_mwh"]], y])
                else:
                    x = np.arange(1, len(y) + 1)
                colours[k] = f"C{i % 10}"
                ax.plot(x, y, color=colours[k], lw=_width(i), marker=_MARKERS[i % len(_MARKERS)],
                        ms=max(7 - i, 3), label=f"{k}{_same_as(y, seen)}", zorder=3 + i)
                seen[k] = y
            # each limit value once, named with its units (in the unit's colour, black when
            # shared): a limit shared by several units is not hidden under another's
            for key, name, ls in (("e_max_mwh", "E max", "--"), ("soc0_mwh", "SOC0", ":")):
                groups: dict[float, list[str]] = {}
                for k in soc:
                    if (limits.get(k) or {}).get(key) is not None:
                        groups.setdefault(float(limits[k][key]), []).append(k)
                for value, units in groups.items():
                    col = colours[units[0]] if len(units) == 1 else "black"
                    ax.axhline(value, color=col, ls=ls, lw=1.0, zorder=20)
                    who = "all" if len(units) == len(soc) > 1 else ", ".join(units)
                    ax.annotate(f"{name} {value:g} ({who})", xy=(1.0, value),
                                xycoords=("axes fraction", "data"), ha="right", va="bottom",
                                fontsize=6.5, color=col, zorder=21)
            if limits:
                ax.plot([], [], color="grey", ls="--", label="E max (soc <= it)")
                ax.plot([], [], color="grey", ls=":", label="SOC0 (last hour >= it)")
            ax.axhline(0, color="black", lw=0.8, label="lower limit 0")
            top = max([lim.get("e_max_mwh") or 0.0 for lim in limits.values()]
                      + [max(v) for v in soc.values()] + [1e-3])
            # the limits and every line inside the axes, the legend above the E max line
            ax.set_ylim(-0.06 * top, 1.55 * top)

        power = _units_panel("ess_power", net, "discharge (+) / charge (-) [MW]",
                             after=_zero_line)
        panels.append(power)
        panels.append(_Panel("ess_soc", state, wide=power.wide, height=power.height,
                             legend={"loc": "upper center", "ncol": 3}))
    else:
        absent.append("storage (no ESS units)")

    res = s.get("renewable_mw") or {}
    if res:
        panels.append(_units_panel("renewables", res, "used [MW]",
                                   s.get("renewable_available_mw")
                                   or s.get("renewable_forecast_mw") or {}))
    else:
        absent.append("PV and wind (no units)")

    ev = s.get("ev_mw") or {}
    if ev:
        panels.append(_units_panel("ev", ev, "charging [MW]"))
    else:
        absent.append("EV charging (no EV units)")

    shift = s.get("dsm_shift_mw") or {}
    if shift:
        panels.append(_units_panel("dsm", {f"bus {k}": v for k, v in shift.items()},
                                   "pdr - pd [MW]", after=_zero_line))
    else:
        eps = settings.get("eps")
        absent.append("DSM shift (DSM off, --dsm 0)" if not eps else
                      f"DSM shift (DSM +-{100 * float(eps):g} %, no load shifted)")

    def voltages(fig: Any, ax: Any) -> None:
        _step(ax, s["v_min_pu"], label="V min")
        _step(ax, s["v_mean_pu"], label="V mean")
        _step(ax, s["v_max_pu"], label="V max")

    def losses(fig: Any, ax: Any) -> None:
        _step(ax, s["losses_mw"], lw=2.4, label="model r(P²+Q²)")
        if s.get("losses_pwl_mw"):
            _step(ax, s["losses_pwl_mw"], ls="--", label="model, piecewise-linear")
        ac = [a.get("losses_ac_mw") for a in result.get("ac_check") or []]
        if ac and len(ac) == len(s["losses_mw"]):
            _step(ax, [np.nan if v is None else v for v in ac], ls=":",
                  label="AC (pandapower)")

    panels += [_Panel("voltages", voltages), _Panel("losses", losses)]

    gens = s.get("network_gen_p_mw") or {}
    if gens:
        panels.append(_units_panel("network_gen", gens, "P [MW]"))
    else:
        absent.append("network generators (the net has none)")

    shed = s.get("load_shed_mw") or []
    if shed and max(shed) > 0:
        by_bus = s.get("load_shed_by_bus_mw") or {}

        def curtailment(fig: Any, ax: Any) -> None:
            _step(ax, shed, color="black", lw=2.4, label=f"total ({len(by_bus)} buses)")
            for i, (k, v) in enumerate(by_bus.items()):
                _step(ax, v, color=f"C{i % 10}", lw=1.0,
                      label=f"bus {k}" if i < LINE_UNITS else None)
            _legend_note(ax, min(len(by_bus), LINE_UNITS) + 1, len(by_bus) + 1)

        panels.append(_Panel("curtailment", curtailment))
    else:
        absent.append("load curtailment (0 MW every hour)")
    return panels, absent


def profile_clock(result: Mapping[str, Any], n_hours: int | None = None) -> list[str]:
    """Each hour's clock time from the profile table's timestamps (``inputs.profile_times``,
    ISO), empty where the table gave hour indices (or a result of another length)."""
    times = (result.get("inputs") or {}).get("profile_times") or []
    n = n_hours if n_hours is not None else result.get("hours")
    return [str(t) for t in times] if times and len(times) == n else []


def _hour_axis(ax: Any, clock: list[str]) -> None:
    """The x axis in hours, labelled with each labelled hour's clock time where the profile
    table gave timestamps (hour 0 need not be midnight: before, user test ut37_errs2, a day
    from 06:00 read "hour 0" at 06:00 with no clock time anywhere)."""
    if not clock:
        ax.set_xlabel("hour", fontsize=8)
        return
    step = max(1, round(len(clock) / 8))
    ticks = list(range(0, len(clock), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{h}\n{clock_text(clock[h])[11:16]}" for h in ticks], fontsize=7)
    ax.set_xlabel(f"hour (clock time below; hour 0 = {clock_text(clock[0])})", fontsize=8)


def hourly_figure(result: Mapping[str, Any]) -> Figure:
    """The hourly series as panels (module docstring), only those the schedule has data for;
    a line under the panels names what is not drawn. Up to :data:`LINE_UNITS` units a panel
    draws a line per unit, more as a heat map with a row per unit."""
    plt = _pyplot()
    s = result["series"]
    n_hours = len(s["substation_p_mw"])
    clock = profile_clock(result, n_hours)
    panels, absent = _panels(result)
    rows: list[list[_Panel]] = []  # a wide panel alone, the others two to a row
    for p in panels:
        if p.wide:
            rows.append([p])
        elif rows and len(rows[-1]) == 1 and not rows[-1][0].wide:
            rows[-1].append(p)
        else:
            rows.append([p])
    heights = [max(p.height for p in row) for row in rows]
    fig = plt.figure(figsize=(12, sum(heights) + 1.0))
    grid = fig.add_gridspec(len(rows), 2, height_ratios=heights)
    for r, row in enumerate(rows):
        for c, p in enumerate(row):
            ax = fig.add_subplot(grid[r, :] if p.wide else grid[r, c])
            p.draw(fig, ax)
            title = TITLES[p.kind]
            if p.kind == "dg" and result.get("dg_commitment"):
                title += "; shaded: hours with a unit committed day-ahead"
            if p.wide:
                title += {"dg": " (P; Q in result.json series.dg_q_mvar)",
                          "renewables": " (used; available in result.json)"}.get(p.kind, "")
            ax.set_title(title, fontsize=10)
            ax.set_xlim(0, n_hours)
            if not ax.get_images():  # no grid over a heat map
                ax.grid(alpha=0.3)
            _hour_axis(ax, clock)
            # one legend for the panel and its twin axes (an hourly price's), on the one
            # drawn last so that no line covers it
            twins = [a for a in fig.axes if a in ax.get_shared_x_axes().get_siblings(ax)]
            handles, labels = [], []
            for a in twins:
                h, lab = a.get_legend_handles_labels()
                handles += h
                labels += lab
            if handles:
                twins[-1].legend(handles, labels, **{
                    "fontsize": 7, "ncol": 2 if len(handles) <= 6 else 3, **(p.legend or {})})
    what = f"{result.get('method')}, worst case" if result.get("worst") else "forecast"
    fig.suptitle(f"{result.get('case', '')}: {n_hours}-hour schedule ({what})")
    if absent:
        fig.text(0.5, 0.005, "not drawn, none in this schedule: " + "; ".join(absent),
                 ha="center", va="bottom", fontsize=8, wrap=True)
    # tight_layout leaves the suptitle out: keep half an inch free above the panels (user
    # test ut_sched3 #6: the title ran over the top panels' titles)
    top = 1.0 - 0.5 / (sum(heights) + 1.0)
    fig.tight_layout(rect=(0, (0.035 if clock else 0.02) if absent else 0, 1, top))
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


def _pct_text(gap: Any, unit: str = "") -> str:
    """A relative gap (a fraction in result.json) in %, as every report and the console show
    it."""
    g = gap if isinstance(gap, int | float) and not isinstance(gap, bool) else None
    return fmt(None if g is None else 100 * g, ".4f", unit)


def _gap_text(gap: Any) -> str:
    return _pct_text(gap, " %")


def worst_case_body(wc: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """The "Worst case" section: a line that says how to read it and :func:`worst_case_rows`
    as a table (a ``worst_case`` of another shape as written)."""
    if not isinstance(wc.get("loads", {}), Mapping) or not isinstance(
            wc.get("renewables_down", {}), Mapping):
        return kv_table(wc)
    gamma = settings.get("gamma")
    share = (f"{100 * float(gamma):g} % (gamma) "
             if isinstance(gamma, int | float) and not isinstance(gamma, bool) else "")
    budget = settings.get("budget")
    within = (f"; the budget allows at most {float(budget):g} hours per bus"
              if settings.get("budget_kind", "temporal") == "temporal"
              and isinstance(budget, int | float) and not isinstance(budget, bool) else "")
    text = (f"Where the worst case found deviates from the forecast: each load listed lies "
            f"{share}above or below its forecast in the hours given (hour 0 is the first), "
            "each renewable unit listed falls short of its forecast availability by its "
            f"deviation share; {wc.get('load_deviations', '-')} load and "
            f"{wc.get('renewable_deviations', '-')} renewable deviations in all{within}. "
            "Elements not listed stay at their forecast.")
    rows = worst_case_rows(wc)
    return (f'<p class="note">{escape(text)}</p>'
            + (records_table(rows) if rows else '<p class="note">no deviation</p>'))


def hourly_alt(r: Mapping[str, Any]) -> str:
    """The hourly figure's alt text with what it shows: which realisation, the hours, the
    losses and the voltage range of its totals."""
    realisation = "worst case" if r.get("worst") else "forecast"
    t = (r.get("worst") or r.get("nominal") or {})
    hours = r.get("hours")
    text = f"hourly series of the {realisation}" + (f", {hours} hours" if hours else "")
    if isinstance(t, Mapping) and t:
        text += (f": losses {fmt(t.get('losses_mwh'), '.4f', ' MWh')}, voltage "
                 f"{fmt(t.get('v_min_pu'), '.4f')} to {fmt(t.get('v_max_pu'), '.4f', ' p.u.')}")
    return text


#: The file of a schedule's ``--out`` folder with the hourly set-points (:func:`setpoint_rows`).
SETPOINTS_FILE = "setpoints.csv"

#: The per-unit series of the set-point table, by kind: (series key, column suffix) pairs,
#: each column ``<id>_<suffix>`` (``dsm_bus<k>_<suffix>`` for the DSM shifts), a unit's
#: columns side by side.
_SETPOINT_SERIES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("dg_mw", "p_mw"), ("dg_q_mvar", "q_mvar")),
    (("ess_charge_mw", "charge_mw"), ("ess_discharge_mw", "discharge_mw"),
     ("ess_soc_mwh", "soc_mwh")),
    (("renewable_mw", "p_mw"),), (("ev_mw", "charging_mw"),),
    (("network_gen_p_mw", "p_mw"), ("network_gen_q_mvar", "q_mvar")),
    (("dsm_shift_mw", "shift_mw"),))


def realisation_text(result: Mapping[str, Any]) -> str:
    """Which realisation the series hold, in words: "the worst case found" (a robust run's
    ``series_realisation`` ``worst_case``) or "the forecast"."""
    worst = result.get("series_realisation", "worst_case" if result.get("worst")
                       else "forecast") == "worst_case"
    return "the worst case found" if worst else "the forecast"


def setpoint_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per hour of the schedule's set-points, from the result's ``series`` (the
    realisation :func:`realisation_text` names): ``hour`` (and ``clock`` for a table of
    timestamps), ``substation_p_mw`` (the substation's import with the model's losses,
    ``ps + sum_b (lp + lq)``, the series' ``import_p_mw``: the hourly balance of
    :class:`~feederopt.results.schedule.HourlySeries`), ``substation_q_mvar`` and
    ``purchase_p_mw`` (the purchase ``ps``, without the losses, which are priced apart; the
    series' ``purchase_p_mw``, alias ``substation_p_mw``), ``import_p_mw`` (the same values
    as ``substation_p_mw`` here, under the series' name: user test ut49_sched #5, the series'
    ``substation_p_mw`` is the purchase), then per unit
    the DG's P and Q, the storage's charge, discharge and SOC at the hour's end, the PV or
    wind unit's used power, the EV station's charging, the network generators' P and Q and
    each bus's DSM shift (``pdr - pd``), each ``<id>_<quantity>_<unit>``. Before (user test
    ut45_sched #9) the report and ``--out`` held them only in result.json. With
    ``--hourly-topology`` (``settings.hourly``) the second column, ``open_branches``, is the
    hour's open branch ids joined by commas (``8,9,16,24,33``), the switching plan beside the
    dispatch (user test ut47_sched #5: the set-points held no topology)."""
    s = result.get("series") or {}
    purchase = s.get("purchase_p_mw") or s.get("substation_p_mw") or []
    hours = len(purchase)
    clock = profile_clock(result, hours)
    # the substation's P is its import with the modelled losses, ps + sum_b (lp + lq) (the
    # series' import_p_mw); the purchase ps alone leaves the losses out (user test ut45b B2:
    # 0.0 MW each hour while the AC check imported 8.06 kW). Older results without
    # import_p_mw keep the purchase there.
    imported = s.get("import_p_mw") or purchase
    columns: dict[str, Sequence[Any]] = {"substation_p_mw": imported,
                                         "substation_q_mvar": s.get("substation_q_mvar") or [],
                                         "purchase_p_mw": purchase, "import_p_mw": imported}
    for family in _SETPOINT_SERIES:
        units = dict.fromkeys(u for key, _ in family for u in (s.get(key) or {}))
        for unit in units:
            for key, suffix in family:
                values = (s.get(key) or {}).get(unit)
                if values is not None:
                    columns[f"dsm_bus{unit}_{suffix}" if key == "dsm_shift_mw"
                            else f"{unit}_{suffix}"] = values
    by_hour = result.get("open_lines_by_hour") or []
    hourly = bool((result.get("settings") or {}).get("hourly")) and bool(by_hour)
    rows = []
    for h in range(hours):
        row: dict[str, Any] = {"hour": h, **({"clock": clock[h]} if clock else {})}
        if hourly:
            row["open_branches"] = (",".join(str(b) for b in by_hour[h])
                                    if h < len(by_hour) else None)
        row.update({c: (v[h] if h < len(v) else None) for c, v in columns.items()})
        rows.append(row)
    return rows


def write_setpoints(path: str | Path, result: Mapping[str, Any]) -> Path:
    """:func:`setpoint_rows` as a CSV file (every number as stored, full precision)."""
    import csv

    rows = setpoint_rows(result)
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["hour"])
        w.writeheader()
        w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return path


def _setpoint_table(result: Mapping[str, Any]) -> str:
    """The report's table of :func:`setpoint_rows`, numbers to 4 decimals, with what it shows."""
    rows = [{k: (fmt(v, ".4f") if isinstance(v, float) else v) for k, v in r.items()}
            for r in setpoint_rows(result)]
    if not rows:
        return "-"
    return (f'<p class="note">The set-points of {realisation_text(result)} per hour (MW, '
            f'MVAr, MWh: SOC at the hour\'s end), as in {SETPOINTS_FILE} of the result folder '
            "(written with --out).</p>" + records_table(rows))


def render_schedule_report(result: Mapping[str, Any], png: bytes, source: str) -> str:
    from feederopt.results.schedule import validity_text

    r = result
    nom = r.get("nominal") or {}
    worst = r.get("worst") or {}
    # the console's statement of the worst case found at this schedule (between it and the
    # objective lies the exact worst-case cost), in the same words
    found = worst_found_text(r.get("objective"), r.get("first_stage_cost"),
                             worst.get("cost") if isinstance(worst, Mapping) else None,
                             bool(r.get("objective_is_milp_bound")))
    clock = profile_clock(r)
    summary: dict[str, Any] = {
        "status": r.get("status"), "method": r.get("method"), "hours": r.get("hours"),
        # the clock time of hour 0 and of the last hour, from the profile's timestamps
        **({"hour 0 (clock time)": f"{clock_text(clock[0])} (hour {len(clock) - 1} = "
            f"{clock_text(clock[-1])})"} if clock else {}),
        "objective [$]": fmt(r.get("objective"), ",.3f"),
        "lower bound [$]": fmt(r.get("lower_bound"), ",.3f"), "gap": _gap_text(r.get("gap")),
        **({"worst case found": found} if found is not None else {}),
        "open lines": open_lines_text(r.get("open_branches"), r.get("open_lines")),
        # a topology per hour: its switching actions and their cost, before only in the
        # first-stage cost of the JSON (user test ut34_schedule #6)
        **({"switching actions (hourly topology)": schedule_switching_text(r)}
           if schedule_switching_text(r) is not None else {}),
        # the moves from the network's present state, reported only (ut47_sched #6)
        **({"switching from the present state": present_switching_text(r)}
           if present_switching_text(r) is not None else {}),
        **({"DG committed day-ahead (1 on, per hour)": "; ".join(
            f"{k}: {''.join(str(v) for v in on)}" for k, on in r["dg_commitment"].items())}
           if r.get("dg_commitment") else {}),
        "import limit [MW]": fmt((r.get("settings") or {}).get("ps_max_mw"), "g"),
        "run time [s]": fmt(r.get("run_time_s"), ".1f"),
        "validity": validity_text(r.get("violations") or [], bool(r.get("ac_check")),
                                  r.get("status") == "interrupted"),
    }
    if r.get("worst_searched") is False:  # robust, stopped before any worst-case search
        summary["worst case"] = ("not searched (the run stopped before any worst-case "
                                 "search; no upper bound: see the notes)")
    # the AC check ran at the series' realisation: its day losses go beside that one's
    ac_at = ("worst case" if worst else "forecast", ac_losses_mwh(r.get("ac_check")))
    for label, t in (("forecast", nom), ("worst case", worst)):
        if not t:
            continue
        for key, text in loss_rows(t, label, ac_at[1] if label == ac_at[0] else None):
            summary[key] = text  # branches, shunts (no-load losses) and AC check (ut33)
        summary[f"{label}: losses in the objective (piecewise-linear, --loss-tol)"] = (
            pwl_loss_text(t))
        summary[f"{label}: purchase, losses priced separately [MWh]"] = fmt(
            t.get("purchase_mwh"), ".3f")
        summary[f"{label}: purchase cost (each hour's price) [$]"] = fmt(
            t.get("purchase_cost"), ",.4f")
        summary[f"{label}: import with the modelled losses [MWh]"] = fmt(
            t.get("import_mwh"), ".3f")
        summary[f"{label}: load shed [MWh]"] = fmt(t.get("load_shed_mwh"), ".3f")
        summary[f"{label}: EV energy not delivered [MWh]"] = fmt(t.get("ev_unmet_mwh"), ".4f")
        summary[f"{label}: renewable spill [MWh]"] = fmt(t.get("renewable_spill_mwh"), ".3f")
        summary[f"{label}: V min / max [p.u.]"] = (f"{fmt(t.get('v_min_pu'), '.4f')} / "
                                                   f"{fmt(t.get('v_max_pu'), '.4f')}")
    # the hourly AC check's verdict, in the console's words (ut38_cli #2: the report had the
    # hourly table only)
    # (its own ac_within_limits; a result written before smalls41 had it as within_limits)
    summary |= dict(ac_check_rows(r.get("ac_check"),
                                  r.get("ac_within_limits", r.get("within_limits"))))
    # the network's own switch states with the same injections (validation.base_case)
    summary |= dict(base_verdict_rows(r.get("base"), engine="AC, own switch states",
                                      unit="MWh", answer_losses=ac_at[1]))
    sc = r.get("sample_check")
    if sc:
        summary[f"served without slack ({sc.get('samples')} samples)"] = fmt(
            sc.get("served_pct"), ".1f", " %")
        if sc.get("deterministic_served_pct") is not None:
            summary["deterministic schedule served"] = fmt(sc.get("deterministic_served_pct"),
                                                           ".1f", " %")
        if sc.get("sampling"):
            summary["samples drawn as"] = sc["sampling"]["description"]
    # the result's one verdict (within_limits: the AC check and the samples), naming the
    # checks that fail, as the console prints it
    summary |= dict(schedule_verdict_rows(r))
    iters = [{"k": it["k"], "LB [$]": fmt(it["lower"], ",.4f"), "UB [$]": fmt(it["upper"],
                                                                               ",.4f"),
              "gap [%]": _pct_text(it["gap"]), "worst Q [$]": fmt(it["worst_value"], ",.4f"),
              "deviations": it["deviations"], "master [s]": fmt(it["master_s"], ".1f"),
              "subproblem [s]": fmt(it["sub_s"], ".1f")} for it in r.get("iterations", [])]
    ac = [{"hour": f"{a['hour']} ({clock_text(clock[a['hour']])[11:]})"
           if clock and 0 <= a["hour"] < len(clock) else a["hour"],
           "converged": a["converged"], "V min AC": fmt(a["v_min_ac"], ".4f"),
           "V max AC": fmt(a.get("v_max_ac"), ".4f"),
           "limits broken (AC)": len(a.get("limit_violations") or []),
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
            + section("hourly", "Hourly series", image(
                png, hourly_alt(r), f"The dispatch of {realisation_text(r)}."))
            + section("setpoints", "Hourly set-points", _setpoint_table(r))
            + (section("topology", "Topology by hour", records_table(
                [{"hours": h, "open lines": t} for h, t in spans]))
               if len(spans) > 1 else "")
            + section("ccg", "C&CG log", records_table(iters) if iters else
                      _no_iterations(r))
            + section("worst", "Worst case", worst_case_body(wc, r.get("settings") or {})
                      if wc else ("not searched" if r.get("worst_searched") is False
                                  else "-"))
            + section("ac", "Hourly AC check (pandapower)", records_table(ac) if ac else "-")
            + notes_section(r))
    # the badge of a run not within the limits (its hourly AC check breaks one, or a sample
    # is not served: within_limits, the exit code 4), as solve's report
    badge = "limits_broken" if r.get("within_limits") is False else str(r.get("status",
                                                                               "unknown"))
    return page(f"feederopt schedule: {r.get('case', '')}", badge, schedule_title(r), body,
                source)


def _no_iterations(r: Mapping[str, Any]) -> str:
    """The C&CG log's place when it has no row: a deterministic run has none, a robust run
    that stopped before its first iteration completed has none yet (user test ut33_sched #3:
    it read "deterministic: no iterations")."""
    text = ("deterministic: no iterations" if r.get("method") == "deterministic" else
            "no C&CG iteration completed (the run stopped before its first iteration "
            "ended; the notes say why)")
    return f'<p class="note">{text}</p>'


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
    return f"{span} {kind} {topology} {schedule_has(r)} (seed 004)".replace("  ", " ")


def schedule_has(r: Mapping[str, Any]) -> str:
    """What the schedule dispatches besides the topology, from its series (a unit table is
    a non-empty mapping) and DSM from its settings: "with fossil DG, storage and EV charging",
    or "without devices" (user test ut_sched4 #8: every subtitle said "with storage")."""
    ser = r.get("series") or {}
    parts = [name for key, name in (("dg_mw", "fossil DG"), ("ess_soc_mwh", "storage"),
                                    ("renewable_mw", "PV/wind"), ("ev_mw", "EV charging"))
             if ser.get(key)]
    if float((r.get("settings") or {}).get("eps") or 0.0) > 0:
        parts.append("DSM")
    if not parts:
        return "without devices"
    return "with " + (parts[0] if len(parts) == 1 else
                      ", ".join(parts[:-1]) + " and " + parts[-1])


def write_schedule_folder(out: str | Path, result: Mapping[str, Any], *,
                          force: bool = False) -> Path:
    """Write ``out/`` (result.json, hourly.png, setpoints.csv: :func:`setpoint_rows`,
    report.html) atomically; an existing ``out`` is replaced only with ``force``."""
    png = figure_png(hourly_figure(result))
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        (tmp / "result.json").write_text(schedule_result_json(result), encoding="utf-8")
        (tmp / "hourly.png").write_bytes(png)
        write_setpoints(tmp / SETPOINTS_FILE, result)
        (tmp / "report.html").write_text(render_schedule_report(result, png, out.name),
                                         encoding="utf-8")
    return out
