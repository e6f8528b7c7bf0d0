"""The parts every feederopt HTML page shares: the page itself (inline style, a
Content-Security-Policy that forbids loading anything, so it opens offline and can be mailed as
one file), number formatting, result JSON text, tables from JSON values, embedded PNGs and sections.

The reports of :mod:`feederopt.report.html` (solve), :mod:`feederopt.report.schedule`,
:mod:`feederopt.report.partition` and :mod:`feederopt.report.resilience` are built from these;
this module imports none of them, so that :func:`feederopt.report.html.write_report` can
dispatch to each without an import cycle.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import polars as pl

from feederopt.report.labels import labelled

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
.status.infeasible, .status.error, .status.limits_broken { background: #b91c1c; }
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


# ----- formatting --------------------------------------------------------------------------------
def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def fmt(x: Any, spec: str = ".3f", unit: str = "") -> str:
    """A number for a person; ``-`` for a missing or non-finite one."""
    v = _finite(x)
    if v is None:
        return "-"
    text = f"{v:{spec}}"
    if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0]):
        text = text[1:]  # a value that rounds to zero has no sign (not "-0.00")
    return f"{text}{unit}"


#: ``out`` of :func:`check_writer_arguments` for a writer without one.
NO_OUT = object()


def check_writer_arguments(function: str, result: Any, takes: str, hint: str, *,
                           expected: type | tuple[type, ...] = Mapping,
                           out: Any = NO_OUT) -> None:
    """An :class:`~feederopt.errors.InputError` naming each argument of a public writer of
    results (``function``) that is of the wrong type, before any work: ``result`` not an
    ``expected`` (``takes`` and ``hint`` say what to give), ``out`` (unless :data:`NO_OUT`)
    not a path. Before (user test ut35), ``write_three_phase_folder(out, "p13")`` raised
    ``AttributeError: 'str' object has no attribute 'get'`` and ``partition_result_json("p13")``
    returned the JSON text ``"p13"``."""
    from feederopt.errors import InputError
    from feederopt.io.frames import table_problem

    problems = []
    if out is not NO_OUT and not isinstance(out, str | os.PathLike):
        problems.append(table_problem(out, "out", f"the path to write ({function})",
                                      "give a str or Path"))
    if not isinstance(result, expected):  # named by its type (a scalar: its short repr)
        problems.append(table_problem(result, "result", f"{takes} ({function})", hint))
    if problems:
        raise InputError(problems)


def json_text(value: Any) -> str:
    """``value`` as the JSON text of a result file (indent 2, a final newline); non-finite
    floats become null, as JSON has no NaN or infinity (:func:`~feederopt.results.result.
    finite_json`)."""
    from feederopt.results.result import finite_json

    return json.dumps(finite_json(value), indent=2) + "\n"


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
    rows = "".join(f'<tr><th scope="row">{escape(str(k))}</th>{_td(v, depth)}</tr>'
                   for k, v in data.items())
    return f"<table>{rows}</table>"


def records_table(rows: Sequence[Mapping[str, Any]], depth: int = 0) -> str:
    """A table with a column per key (in first-seen order) and a row per record."""
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(str(k) for k in r))
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
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


def notes_section(r: Mapping[str, Any]) -> str:
    """The result's ``notes`` (what the run did not apply, fell back to or left out) as a
    list; empty when it has none."""
    notes = list(r.get("notes") or [])
    if not notes:
        return ""
    return section("notes", "Notes", "<ul>" + "".join(f"<li>{escape(str(n))}</li>"
                                                      for n in notes) + "</ul>")


def timings_section(r: Mapping[str, Any]) -> str:
    """The result's ``timings`` in seconds (keys ending ``_s``) as a "Timings" section,
    labelled with their units and keys (:func:`~feederopt.report.labels.labelled`); empty
    when there are none. ``write_s``, the writing of the outputs that the page is one of,
    is left out: it is known only after the page is written, and a page that ``feederopt
    report`` remakes from the folder's result.json (which the command writes again with it)
    must be the page the command wrote. Every kind's page that has timings (solve, plan,
    restore) shows them by it."""
    timings = r.get("timings") or {}
    secs = {k: v for k, v in timings.items() if k.endswith("_s") and k != "write_s"}
    if not secs:
        return ""
    return section("timings", "Timings", kv_table(labelled(secs)))


def answer_time_rows(r: Mapping[str, Any]) -> dict[str, str]:
    """The summary row of the wall-clock time to the answer, from the command's start
    (``answer_wall_clock_s``: the start-up, reading the network, the solve, the power
    flows) with the writing of the outputs not counted, as the console's "... s to the
    answer"; none for a result that does not record it (written by a Python call, or
    before plan and restore recorded it)."""
    answer = _finite(r.get("answer_wall_clock_s"))
    if answer is None:
        return {}
    return {"wall-clock time":
            f"{answer:.2f} s to the answer (from the command's start; writing the outputs "
            "not counted)"}


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


#: What a page's status badge says for a status token that is no plain word (the token
#: stays the badge's CSS class): ``limits_broken`` is the badge of a run whose command exits
#: with code 4 (the AC check, OpenDSS's, a sample's or an operation's, breaks a limit), as the
#: console says "the AC power flow breaks N limit(s)"; the three-phase page showed the raw
#: token (user test ut42_report #2).
BADGE_WORDS = {
    "limits_broken": "breaks the limits",
    "time_limit": "stopped at the time limit",
}


def badge_text(status: str) -> str:
    """The words of the status badge for ``status`` (:data:`BADGE_WORDS`; any other token's
    underscores as spaces)."""
    return BADGE_WORDS.get(status, status.replace("_", " "))


def page(title: str, status: str, sub: str, body: str, source: str) -> str:
    """A whole self-contained HTML page (inline style, no network loads by its CSP); its
    status badge has ``status`` as its CSS class and :func:`badge_text` as its words."""
    from feederopt._version import __version__

    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)} <span class=\"status {escape(status)}\">"
        f"{escape(badge_text(status))}</span></h1>"
        f'<p class="sub">{escape(sub)}</p></header>'
        + body
        + f"<footer>feederopt {escape(__version__)}, from {escape(source)}/</footer>"
        "</body></html>\n"
    )
