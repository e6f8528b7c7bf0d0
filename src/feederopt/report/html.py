"""One self-contained HTML report of a result folder (``feederopt solve ... --out DIR``).

The page holds a summary (losses and minimum voltage before and after, the reduction, the gap,
the solver and the time), the grid with its switch states, the voltage profile, the Benders
bounds per iteration, the AC check, the switches that changed and, when the result has them,
the ``scenarios`` and ``robust`` results as generic tables. Figures are PNGs embedded as base64
data URLs and the page's Content-Security-Policy forbids loading anything else, so it opens
offline and can be mailed as one file::

    from feederopt.report.html import write_report
    write_report("case33bw_result")          # -> case33bw_result/report.html
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.writing import check_output, write_text

#: Longest list rendered as a table; the rest is counted in a note (result.json has it all).
MAX_ROWS = 500

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
       margin: 0 auto; max-width: 1200px; padding: 1.5em 2em 3em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #d5dae1; padding-bottom: .2em; }
.sub { color: #5b6472; margin-top: 0; }
.status { display: inline-block; padding: .1em .6em; border-radius: 1em; font-weight: 600;
          font-size: .85em; vertical-align: middle; color: #fff; background: #6b7280; }
.status.optimal { background: #15803d; }
.status.feasible, .status.time_limit, .status.interrupted { background: #b45309; }
.status.infeasible, .status.error { background: #b91c1c; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0; }
.card { border: 1px solid #d5dae1; border-radius: .5em; padding: .6em 1em; min-width: 10em; }
.card .k { color: #5b6472; font-size: .85em; } .card .v { font-size: 1.35em; font-weight: 600; }
table { border-collapse: collapse; margin: .5em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d5dae1; padding: .25em .6em; text-align: left; vertical-align: top; }
thead th { background: #f1f3f6; } td.num { text-align: right; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eceff3; }
figcaption { color: #5b6472; font-size: .9em; }
.warn { color: #b45309; } .note { color: #5b6472; } footer { margin-top: 3em; color: #8a93a0; }
"""


@dataclass
class ResultFolder:
    """What a result folder holds: ``result.json`` and whichever tables and images exist."""

    path: Path
    result: dict[str, Any]
    buses: pl.DataFrame | None = None
    branches: pl.DataFrame | None = None
    switches: pl.DataFrame | None = None
    images: dict[str, bytes] = field(default_factory=dict)


def _unreadable(path: Path, message: str) -> InputError:
    return InputError([Problem(
        ProblemKind.UNREADABLE_FILE, "result", message, ids=(str(path),),
        hint="pass the folder written by 'feederopt solve CASE --out DIR'",
    )])


def read_result_folder(path: str | Path) -> ResultFolder:
    """Read ``result.json`` (required) and the Parquet tables and ``grid.png`` (optional)."""
    folder = Path(path)
    if not folder.is_dir():
        raise _unreadable(folder, "no such result folder")
    doc = folder / "result.json"
    try:
        result = json.loads(doc.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _unreadable(doc, "the folder has no result.json") from None
    except (OSError, ValueError) as exc:
        raise _unreadable(doc, f"result.json is not readable JSON ({exc})") from None
    if not isinstance(result, dict):
        raise _unreadable(doc, "result.json does not hold an object")
    tables: dict[str, pl.DataFrame | None] = {}
    for name in ("buses", "branches", "switches"):
        file = folder / f"{name}.parquet"
        tables[name] = pl.read_parquet(file) if file.is_file() else None
    images = {p.stem: p.read_bytes() for p in [folder / "grid.png"] if p.is_file()}
    return ResultFolder(folder, result, tables["buses"], tables["branches"], tables["switches"],
                        images)


# ----- formatting --------------------------------------------------------------------------------
def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def fmt(x: Any, spec: str = ".3f", unit: str = "") -> str:
    """A number for a person; ``-`` for a missing or non-finite one."""
    v = _finite(x)
    return "-" if v is None else f"{v:{spec}}{unit}"


def cell(value: Any, depth: int = 0) -> str:
    """Any JSON value as HTML: lists of objects as tables, objects as key/value tables."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return fmt(value, ".6g")
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return kv_table(value, depth + 1)
    if isinstance(value, Sequence):
        if value and all(isinstance(v, Mapping) for v in value):
            return records_table(value, depth + 1)
        shown = ", ".join(cell(v, depth + 1) for v in value[:MAX_ROWS])
        return shown + (f" ... ({len(value) - MAX_ROWS} more)" if len(value) > MAX_ROWS else "")
    return escape(str(value))


def _td(value: Any, depth: int) -> str:
    num = ' class="num"' if _finite(value) is not None else ""
    return f"<td{num}>{cell(value, depth)}</td>"


def kv_table(data: Mapping[str, Any], depth: int = 0) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th>{_td(v, depth)}</tr>" for k, v in data.items())
    return f"<table>{rows}</table>"


def records_table(rows: Sequence[Mapping[str, Any]], depth: int = 0) -> str:
    """A table with a column per key (in first-seen order) and a row per record."""
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(str(k) for k in r))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_td(r.get(c), depth) for c in columns) + "</tr>"
        for r in rows[:MAX_ROWS]
    )
    more = len(rows) - MAX_ROWS
    note = f'<p class="note">{more} more rows in result.json.</p>' if more > 0 else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def frame_table(df: pl.DataFrame) -> str:
    return records_table(df.to_dicts())


def image(png: bytes, alt: str, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">{cap}</figure>'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _branch_list(rows: Sequence[Mapping[str, Any]] | None) -> str:
    if not rows:
        return "none"
    return ", ".join(f"{r.get('id')} ({r.get('from_bus')}-{r.get('to_bus')})" for r in rows)


# ----- sections ----------------------------------------------------------------------------------
def key_figures(r: Mapping[str, Any]) -> dict[str, Any]:
    """Losses and minimum voltage before (AC, initial topology) and after (AC when checked)."""
    base = r.get("base") or {}
    ac = r.get("ac_check") or {}
    before = _finite(base.get("losses_kw"))
    after = _finite(ac.get("losses_kw"))
    if after is None:
        after = _finite(r.get("losses_kw"))
    reduction = (before - after) / before * 100 if before and after is not None else None
    v_after = _finite(ac.get("min_voltage_pu"))
    if v_after is None:
        v_after = _finite(r.get("min_voltage_pu"))
    return {
        "losses_before_kw": before,
        "losses_after_kw": after,
        "reduction_pct": reduction,
        "min_voltage_before_pu": _finite(base.get("min_voltage_pu")),
        "min_voltage_after_pu": v_after,
    }


def summary_section(r: Mapping[str, Any]) -> str:
    k = key_figures(r)
    gap = _finite(r.get("gap"))
    cards = [
        ("losses before", fmt(k["losses_before_kw"], ".2f", " kW")),
        ("losses after", fmt(k["losses_after_kw"], ".2f", " kW")),
        ("reduction", fmt(k["reduction_pct"], ".2f", " %")),
        ("min voltage before", fmt(k["min_voltage_before_pu"], ".4f", " p.u.")),
        ("min voltage after", fmt(k["min_voltage_after_pu"], ".4f", " p.u.")),
        ("gap", fmt(gap * 100 if gap is not None else None, ".4f", " %")),
        ("time", fmt(r.get("solve_time_s"), ".2f", " s")),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{escape(a)}</div><div class="v">{escape(b)}</div></div>'
        for a, b in cards
    )
    rows = [
        ("status", escape(str(r.get("status", "-")))),
        ("method", escape(str(r.get("method", "-")))),
        ("solver", escape(str(r.get("solver", "-")))),
        ("losses before (AC, initial topology)", fmt(k["losses_before_kw"], ".3f", " kW")),
        ("losses after (AC power flow, the true value)",
         fmt((r.get("ac_check") or {}).get("losses_kw"), ".3f", " kW")),
        ("losses after (SOCP model)", fmt(r.get("losses_kw"), ".3f", " kW")),
        ("loss reduction", fmt(k["reduction_pct"], ".2f", " %")),
        ("minimum voltage before (AC)", fmt(k["min_voltage_before_pu"], ".4f", " p.u.")),
        ("minimum voltage after (AC, true)" if _finite((r.get("ac_check") or {}).get(
            "min_voltage_pu")) is not None else "minimum voltage after (SOCP model)",
         fmt(k["min_voltage_after_pu"], ".4f", " p.u.")),
        ("objective", fmt(r.get("objective"), ".4f")),
        ("lower bound", fmt(r.get("lower_bound"), ".4f")),
        ("gap", fmt(gap * 100 if gap is not None else None, ".4f", " %")),
        ("iterations", escape(str(r.get("iterations", "-")))),
        ("solve time", fmt(r.get("solve_time_s"), ".2f", " s")),
        ("open before", escape(_branch_list((r.get("base") or {}).get("open_branches")))),
        ("open after", escape(_branch_list(r.get("open_branches")))),
    ]
    table = "<table>" + "".join(
        f"<tr><th>{escape(a)}</th><td>{b}</td></tr>" for a, b in rows
    ) + "</table>"
    return section("summary", "Summary", f'<div class="cards">{card_html}</div>{table}')


def grid_section(folder: ResultFolder) -> str:
    from feederopt.report.plot import coordinates, figure_png, grid_figure

    r = folder.result
    png = folder.images.get("grid")
    if png is None and folder.buses is not None and folder.branches is not None:
        sw = folder.switches
        changed = (sw.filter(pl.col("changed"))["id"].to_list()
                   if sw is not None and "changed" in sw.columns else [])
        fig = grid_figure(folder.buses, folder.branches, coordinates(folder.buses, folder.branches),
                          f"{r.get('case', '')}: {r.get('method', '')}", changed,
                          r.get("devices") or ())
        png = figure_png(fig)
    if png is None:
        return section("grid", "Grid", _note("The result folder has no grid tables."))
    caption = ("Closed branches solid (closed switches marked green), open branches dashed red, "
               "switched branches thick; buses coloured by voltage magnitude (AC power flow when "
               "checked).")
    return section("grid", "Grid", image(png, "grid with switch states", caption))


def voltage_section(folder: ResultFolder) -> str:
    from feederopt.report.plot import figure_png, voltage_profile_figure

    if folder.buses is None or folder.buses.height == 0:
        return section("voltages", "Voltage profile", _note("No bus table in the result folder."))
    png = figure_png(voltage_profile_figure(folder.buses))
    return section("voltages", "Voltage profile",
                   image(png, "voltage profile",
                         "|V| per bus: the AC power flow (pandapower), which is the true "
                         "operating point, and the SOCP model's solution."))


def convergence_section(r: Mapping[str, Any]) -> str:
    from feederopt.report.plot import convergence_figure, figure_png

    log = r.get("iteration_log") or []
    if not log:
        return section("convergence", "Convergence", _note(
            f"The method {r.get('method', '?')} has no iteration log; lower bound "
            f"{fmt(r.get('lower_bound'), '.4f')}, objective {fmt(r.get('objective'), '.4f')}."
        ))
    png = figure_png(convergence_figure(log))
    table = records_table([
        {k: row.get(k) for k in ("iteration", "lower_bound", "upper_bound", "gap", "elapsed_s",
                                 "note")} for row in log
    ])
    return section("convergence", "Benders convergence",
                   image(png, "Benders bounds per iteration",
                         "Lower and upper bound on the objective per iteration.")
                   + f"<details><summary>Iteration log</summary>{table}</details>")


def ac_section(r: Mapping[str, Any]) -> str:
    ac = r.get("ac_check")
    if not ac:
        return section("ac-check", "AC check", _note("No AC check in this result."))
    labels = {
        "converged": ("converged", None),
        "losses_kw": ("losses (AC, true)", (".3f", " kW")),
        "min_voltage_pu": ("minimum voltage (AC, true)", (".4f", " p.u.")),
        "max_voltage_pu": ("maximum voltage (AC, true)", (".4f", " p.u.")),
        "max_voltage_diff_pu": ("max |V_socp - V_ac| (SOCP model error)", (".2e", " p.u.")),
        "relaxation_gap": ("largest cone gap", (".2e", "")),
        "losses_diff_pct": ("(AC - SOCP) / AC losses", (".2e", " %")),
        "exact": ("relaxation exact", None),
        "message": ("message", None),
    }
    rows = []
    for key, (label, spec) in labels.items():
        value = ac.get(key)
        text = fmt(value, *spec) if spec else cell(value) if value != "" else "-"
        rows.append(f"<tr><th>{escape(label)}</th><td>{text}</td></tr>")
    warnings = "".join(f'<p class="warn">warning: {escape(str(w))}</p>'
                       for w in ac.get("warnings") or [])
    truth = _note("The AC power flow (pandapower Newton-Raphson on the chosen topology) is the "
                  "true operating point; the SOCP values are those of the convex model.")
    return section("ac-check", "AC check (pandapower Newton-Raphson)",
                   f"{truth}<table>{''.join(rows)}</table>{warnings}")


def switches_section(folder: ResultFolder) -> str:
    sw = folder.switches
    if sw is None:
        return ""
    if "changed" in sw.columns:
        changed = sw.filter(pl.col("changed"))
        body = _note(f"{changed.height} of {sw.height} switchable branches change state.")
        if changed.height:
            show = changed.select(
                "id", "from_bus", "to_bus",
                pl.when(pl.col("initially_closed")).then(pl.lit("closed"))
                .otherwise(pl.lit("open")).alias("before"),
                pl.when(pl.col("closed")).then(pl.lit("closed"))
                .otherwise(pl.lit("open")).alias("after"),
            )
            body += frame_table(show)
    else:
        body = frame_table(sw)
    return section("switches", "Switching actions", body)


def devices_section(r: Mapping[str, Any]) -> str:
    """The DOPF's devices (their chosen settings) and its cost terms."""
    rows = [{"id": d.get("id"), "kind": d.get("kind"), "bus": d.get("bus"),
             "setting": d.get("setting")} for d in r.get("devices") or []]
    body = _note("The setting the optimiser chose for every controllable device; they are "
                 "marked on the grid.") + records_table(rows)
    if r.get("costs"):
        body += "<h3>Costs (per hour at the loss price)</h3>" + kv_table(r["costs"])
    return section("devices", "Devices", body)


def literature_section(r: Mapping[str, Any]) -> str:
    """Published figures against the proven lower bound."""
    rows = [{"source": e.get("source"), "losses [kW]": e.get("losses_kw"),
             "verdict": e.get("verdict"), "why": e.get("reason")}
            for e in r.get("literature") or []]
    return section("literature", "Published figures against the proven bound",
                   records_table(rows))


def generic_section(anchor: str, title: str, value: Any) -> str:
    """``value`` from result.json as tables, whatever its shape."""
    if isinstance(value, Mapping):
        parts = []
        scalars = {k: v for k, v in value.items()
                   if not isinstance(v, Mapping | list | tuple)}
        if scalars:
            parts.append(kv_table(scalars))
        for k, v in value.items():
            if k not in scalars:
                parts.append(f"<h3>{escape(str(k))}</h3>{cell(v)}")
        return section(anchor, title, "".join(parts))
    return section(anchor, title, cell(value))


def render_report(folder: ResultFolder) -> str:
    """The whole HTML page."""
    r = folder.result
    status = str(r.get("status", "unknown"))
    parts = [
        summary_section(r),
        grid_section(folder),
        voltage_section(folder),
        convergence_section(r),
        ac_section(r),
        switches_section(folder),
    ]
    if r.get("devices"):
        parts.append(devices_section(r))
    if r.get("literature"):
        parts.append(literature_section(r))
    if r.get("scenarios") is not None:
        parts.append(generic_section("scenarios", "Scenarios", r["scenarios"]))
    if r.get("robust") is not None:
        parts.append(generic_section("robust", "Robust", r["robust"]))
    if r.get("diagnosis"):
        parts.append(generic_section("diagnosis", "Diagnosis: least-violating configuration",
                                     r["diagnosis"]))
    if r.get("timings"):
        parts.append(generic_section("timings", "Timings [s]", r["timings"]))
    title = f"feederopt report: {r.get('case', folder.path.name)}"
    sub = f"{r.get('method', '')} with {r.get('solver', '')}"
    return page(title, status, sub, "".join(parts), folder.path.name)


def page(title: str, status: str, sub: str, body: str, source: str) -> str:
    """A whole self-contained HTML page (inline style, no network loads by its CSP)."""
    from feederopt._version import __version__

    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)} <span class=\"status {escape(status)}\">"
        f"{escape(status)}</span></h1>"
        f'<p class="sub">{escape(sub)}</p></header>'
        + body
        + f"<footer>feederopt {escape(__version__)}, from {escape(source)}/</footer>"
        "</body></html>\n"
    )


def write_report(result_dir: str | Path, out: str | Path | None = None, *,
                 force: bool = False) -> Path:
    """Write the report of ``result_dir`` to ``out`` (default ``result_dir/report.html``),
    atomically; an existing file is replaced only with ``force``."""
    folder = read_result_folder(result_dir)
    target = Path(out) if out is not None else folder.path / "report.html"
    check_output(target, force=force)  # before rendering
    return write_text(target, render_report(folder), force=force)
