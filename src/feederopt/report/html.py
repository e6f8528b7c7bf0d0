"""One self-contained HTML report of a result folder, and ``feederopt report``'s dispatch.

:func:`write_report` reads the folder's ``result.json`` and renders the report of the command
that wrote it, by the document's ``kind`` (:data:`REPORTS`): a ``feederopt solve ... --out DIR``
folder (no ``kind``) gets the page of this module; ``schedule``, ``partition``,
``resilience_plan``, ``resilience_restore`` and ``three_phase_solve`` folders get the page that
``feederopt schedule``, ``partition``, ``plan``, ``restore`` and ``solve FEEDER.dss`` write with
``--out`` (:mod:`feederopt.report.schedule`, :mod:`feederopt.report.partition`,
:mod:`feederopt.report.resilience`, :mod:`feederopt.report.threephase`), rebuilt from the
folder's ``result.json``, its PNGs (and a restore folder's tables).
Results that no command writes a report for (:data:`NO_REPORT`), unknown kinds and folders
whose report cannot be rebuilt are refused with a typed problem, never rendered as a wrong page.

The solve page holds a summary (losses and minimum voltage before and after, the reduction, the
gap, the solver and the time), the grid with its switch states, the voltage profile, the
Benders bounds per iteration, the AC check, the switches that changed, the generators' dispatch
and limits (when the network has generators) and, for a stochastic or robust run, a row per
scenario or extreme point (:mod:`feederopt.report.scenarios`: the model's losses and slack,
pandapower's AC figures at the scenario's loads, the verdict and the broken limits); the
headline figures of such a run are labelled as the nominal load's. Figures are PNGs embedded as
base64 data URLs and the page's Content-Security-Policy forbids loading anything else, so it
opens offline and can be mailed as one file::

    from feederopt.report.html import write_report
    write_report("case33bw_result")          # -> case33bw_result/report.html
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from feederopt._version import document_kind, iteration_row, read_as_current
from feederopt.errors import InputError, OutputNotWrittenError, Problem, ProblemKind
from feederopt.forking import check_not_forked
from feederopt.io.writing import add_to_manifest, check_output, owned_by_feederopt, write_text
from feederopt.report.command_line import command_again
from feederopt.report.labels import labelled
from feederopt.report.output import read_iterations
from feederopt.report.page import (
    CSP,
    CSS,
    MAX_ROWS,
    _finite,
    _note,
    cell,
    fmt,
    frame_table,
    image,
    kv_table,
    notes_section,
    page,
    records_table,
    section,
    timings_section,
)
from feederopt.report.scenarios import (
    LIMITS,
    SINGULAR,
    ac_all_row,
    is_uncertain,
    nominal_note,
    robust_section,
    scenarios_section,
    text_table,
    violations_table,
    worst_case_bound_row,
    worst_case_unproven,
)
from feederopt.results.document import schedule_document_problems, solve_document_problems
from feederopt.results.literature import literature_title
from feederopt.results.result import (
    ac_limit_count,
    ac_verdict,
    base_case_kind,
    base_limits_note,
    bound_value,
    branch_label,
    distinct_places,
    enumerated,
    heuristic_note,
    iterations_text,
    kept_state_label,
    largest_loading_text,
    listed_text,
    nominal_breaks_limits,
    switching_text,
    within_limits_text,
)
from feederopt.solvers.status import (
    BASE_FALLBACK_WHAT,
    LOSS_PHASE,
    ONLY_EVALUATED_WHAT,
    TIE_PHASE,
    VIOLATION_PHASE,
    holds_least_violating_state,
    kept_state_name,
    master_infeasible_note,
    only_topology_evaluated_in,
)
from feederopt.validation.ac_least import least_violating_ac_text
from feederopt.validation.ac_polish import polish_text

#: Re-exported: the shared page parts lived here before :mod:`feederopt.report.page`.
__all__ = [
    "CSP", "CSS", "MAX_ROWS", "NO_REPORT", "REPORTS", "ResultFolder", "cell", "fmt",
    "frame_table", "image", "kv_table", "page", "read_result_folder", "records_table",
    "render_report", "result_kind", "section", "write_report",
]

#: The result kinds that have a report, by result.json's ``kind`` (``solve``: a document
#: without one), and the command that writes such a folder.
REPORTS = {
    "solve": "feederopt solve CASE --out DIR",
    "schedule": "feederopt schedule CASE --out DIR",
    "partition": "feederopt partition CASE --out DIR",
    "resilience_plan": "feederopt plan CASE --scenarios ... --out DIR",
    "resilience_restore": "feederopt restore CASE --broken ... --out DIR",
    "three_phase_solve": "feederopt solve FEEDER.dss --out DIR",
}

#: Results that no command writes an HTML report for, and what writes them.
NO_REPORT = {
    "solve_check": ("an out-of-sample check", "feederopt check RESULT --json FILE"),
    "schedule_check": ("a schedule check", "feederopt check RESULT --json FILE"),
    "partition_check": ("a partition check", "feederopt check RESULT --json FILE"),
    "three_phase_json": ("a three-phase solve result without a kind",
                         "feederopt solve FEEDER.dss --json FILE"),
}

#: The figure each kind's page embeds, as its command writes it into the folder.
FIGURES = {"schedule": "hourly.png", "partition": "microgrids.png",
           "resilience_plan": "plan.png", "resilience_restore": "restoration.png"}

_HINT = "pass a folder written by " + ", ".join(f"'{c}'" for c in REPORTS.values())


@dataclass
class ResultFolder:
    """What a result folder holds: ``result.json`` and whichever tables and images exist.

    ``result`` is ``result.json`` as a dict (what ``feederopt.read_result(folder)`` returns);
    ``buses``, ``branches``, ``switches``, ``generators`` are the folder's Parquet tables, as
    the result had them in memory (``Result.buses`` ...; missing values null), None where the
    folder has no such file (an older solve folder, written without ``generators.parquet``
    for a network without generators; a restoration's folder has its own ``buses`` and
    ``branches``); ``other_tables`` the other Parquet files by name (a partition's
    ``der_setpoints``, a restoration's ``switching``, a scenario run's ``scenarios``, a robust
    run's ``extreme_points``: :mod:`feederopt.results.uncertain_tables`);
    ``images`` the PNGs by name (``grid``, a three-phase solve's ``voltage_profile``, a
    partition's ``microgrids`` ...). ``feederopt.read_result(folder, tables=True)`` gives one,
    for a folder of any command's ``--out``; ``feederopt.write_report`` takes one (its
    ``path``)."""

    path: Path
    result: dict[str, Any]
    buses: pl.DataFrame | None = None
    branches: pl.DataFrame | None = None
    switches: pl.DataFrame | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    #: ``iterations.parquet`` (bounds in ``lower_bound_kw``/``upper_bound_kw``, an old
    #: folder's ``lower_bound``/``upper_bound`` renamed on read), None without one.
    iterations: pl.DataFrame | None = None
    generators: pl.DataFrame | None = None
    other_tables: dict[str, pl.DataFrame] = field(default_factory=dict)


def _unreadable(path: Path, message: str, hint: str = _HINT) -> InputError:
    return InputError([Problem(ProblemKind.UNREADABLE_FILE, "result", message,
                               ids=(str(path),), hint=hint)])


def _file_doc(path: Path) -> dict[str, Any]:
    """The JSON object in the file ``path``; empty when it holds none."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _file_kind(path: Path) -> Any:
    """The kind of the result file ``path`` (:func:`~feederopt._version.document_kind`), None
    if it is none."""
    doc = _file_doc(path)
    return document_kind(doc) if doc else None


def _file_problem(path: Path) -> InputError:
    """The problem for a result file given where a folder is wanted. A result of a kind that
    has no report (:data:`NO_REPORT`) says so, rather than telling it to run the command that
    wrote it with ``--out DIR`` (user test ut32_cli #3: ``restore``, which had no ``--out``
    then)."""
    kind = _file_kind(path)
    if isinstance(kind, str) and kind in NO_REPORT:
        what, command = NO_REPORT[kind]
        hint = ("run 'feederopt solve FEEDER.dss --out DIR' for a folder with a report"
                if kind == "three_phase_json" else
                "read the JSON file itself: 'feederopt report' takes only the folders that "
                "'solve', 'schedule', 'partition', 'plan' and 'restore' write with --out")
        return _unreadable(path, f"a file holding {what} (written by '{command}'), which has "
                           "no HTML report", hint)
    return _unreadable(path, "a file, not a result folder: the report is built from a folder "
                       "written with --out (result.json and its figures)", _file_hint(path))


def _file_hint(path: Path) -> str:
    """The hint for a result file given where a folder is wanted: the command that wrote it,
    with ``--out DIR`` (and ``--report`` for ``solve``, the only one that has it; user test
    ut_sched4 #10: a schedule JSON was told to add --report, which schedule has not), its
    network and a solve's options filled in from the file
    (:func:`~feederopt.report.command_line.command_again`; it said ``CASE``, user test
    ut38_cli #3)."""
    doc = _file_doc(path)
    kind = document_kind(doc) if doc else None
    if kind in REPORTS:
        again = command_again(doc, kind, REPORTS[kind])
        return (f"run '{again}' (the command that wrote this file, with --out; add any other "
                "options it had that the file does not record), or give that folder")
    return "run the command that wrote it again with --out DIR (and --report for 'solve'), " \
        "or give that folder"


def _read_json(folder: Path) -> dict[str, Any]:
    """``folder/result.json``: an object, else a typed problem."""
    if folder.is_file():  # a --json file: it said "no such result folder" of a file there
        raise _file_problem(folder)
    if not folder.is_dir():
        raise _unreadable(folder, "no such result folder")
    doc = folder / "result.json"
    try:
        result = json.loads(doc.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise _unreadable(doc, "the folder has no result.json") from None
    except (OSError, ValueError) as exc:
        raise _unreadable(doc, f"result.json is not readable JSON ({exc})") from None
    if not isinstance(result, dict):
        raise _unreadable(doc, "result.json does not hold an object")
    # a newer layout is refused, not misread; an older one's renamed fields read as now's
    out: dict[str, Any] = read_as_current(result, str(doc))
    return out


_NAMED_TABLES = ("buses", "branches", "switches", "generators", "iterations")


def _with_tables(folder: Path, result: dict[str, Any]) -> ResultFolder:
    """The result folder: ``result`` and the Parquet tables and PNG figures that exist."""
    kind = document_kind(result)
    again = REPORTS.get(kind if isinstance(kind, str) else "", "the command that wrote it")
    tables: dict[str, pl.DataFrame | None] = {}
    files = sorted(folder.glob("*.parquet"))
    for file in files:
        try:
            tables[file.stem] = (read_iterations(file) if file.stem == "iterations"
                                 else pl.read_parquet(file))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise _unreadable(file, f"{file.name} is not a readable Parquet table ({exc})",
                              hint=f"write the folder again with '{again}'") from None
    images = {p.stem: p.read_bytes() for p in sorted(folder.glob("*.png")) if p.is_file()}
    return ResultFolder(folder, result, tables.get("buses"), tables.get("branches"),
                        tables.get("switches"), images, tables.get("iterations"),
                        generators=tables.get("generators"),
                        other_tables={k: v for k, v in tables.items()
                                      if k not in _NAMED_TABLES and v is not None})


def read_result_folder(path: str | Path) -> ResultFolder:
    """Read ``result.json`` (required) and the Parquet tables and ``grid.png`` (optional)."""
    folder = Path(path)
    return _with_tables(folder, _read_json(folder))


def result_kind(result: Mapping[str, Any], path: str | Path = "result.json") -> str:
    """The key of :data:`REPORTS` whose report fits ``result`` (a result.json document); a
    typed problem for a result without a report (:data:`NO_REPORT`) or one of no known kind."""
    kind = document_kind(result)
    if kind is None:
        raise _unreadable(Path(path), "result.json is not a feederopt result (it has no "
                          "'kind' and no 'open_branches')")
    if not isinstance(kind, str):
        raise _unreadable(Path(path), f"result.json holds a 'kind' that is not a name: {kind!r}")
    if kind == "solve":
        _solve_fields_checked(result, Path(path))
    if kind == "schedule":  # a hand-edited field, named (before: "(AttributeError: ...)")
        problems = schedule_document_problems(result, str(path))
        if problems:
            raise InputError(problems)
    if kind in REPORTS:
        return kind
    if kind in NO_REPORT:
        what, command = NO_REPORT[kind]
        raise _unreadable(Path(path), f"result.json holds {what} (written by '{command}'), "
                          "which has no HTML report", hint=_HINT)
    raise _unreadable(Path(path), f"result.json holds a result of unknown kind {kind!r}")


def _solve_fields_checked(result: Mapping[str, Any], path: Path) -> None:
    """A typed problem for a solve result.json of a shape that
    :meth:`~feederopt.results.result.Result.from_dict` does not read (a hand-edited file: a
    status no solve gives, a figure that is no number, ``ac_check.warnings`` a number, ...;
    :func:`~feederopt.results.document.solve_document_problems`, one check for both): the
    report would show them as if the solver had said so, or stop with "error: TypeError"
    (user test ut41_recheck_a #2)."""
    problems = solve_document_problems(result, str(path))
    if problems:
        raise InputError(problems)


#: What a solve report says of a result without a topology (``has_topology`` false).
NO_TOPOLOGY = ("No topology was found: the run ended without one, so there is nothing to "
               "operate")


def _no_topology(r: Mapping[str, Any]) -> bool:
    """Whether the solve result ``r`` holds no topology (``has_topology`` false; results
    written before the key have one)."""
    return r.get("has_topology") is False


def _branch_list(rows: Sequence[Mapping[str, Any]] | None, where: str) -> str:
    """The branches of ``rows`` for a summary cell: up to ten, beyond their count, the first
    ten and how many more result.json's ``where`` lists (:func:`~feederopt.results.result.
    listed_text`, the console's rule; the report listed a SimBench grid's hundreds of open
    switches in one cell); ``none`` for none."""
    if not rows:
        return "none"
    return listed_text([branch_label(r) for r in rows], where)


def bound_text(x: Any, spec: str = ".4f", unit: str = "") -> str:
    """A lower bound of result.json (a number, or ``"inf"``/``"-inf"``: :func:`~feederopt.
    results.result.bound_json`) as the console prints it: ``+inf`` for a proof of
    infeasibility, ``-inf`` for no bound proven, else the number (``-`` when missing)."""
    v = bound_value(x)
    if v is not None and math.isinf(v):
        return "+inf (the proof of infeasibility)" if v > 0 else "-inf (no bound proven)"
    return fmt(v, spec, unit)


def least_violating(r: Mapping[str, Any]) -> bool:
    """Whether the solve result ``r`` holds a least-violating state, which breaks the limits,
    not a plan within them (:func:`~feederopt.solvers.status.holds_least_violating_state`,
    the console's rule for its row "open branches (least-violating state, breaks the
    limits)")."""
    objective = r.get("objective")
    return holds_least_violating_state(
        str(r.get("status", "")), r.get("has_topology", True) is not False,
        objective if isinstance(objective, int | float) else None)


#: The name of a least-violating state beside a figure or a list of the answer's.
LEAST_VIOLATING = "least-violating state"


def kept_name(r: Mapping[str, Any]) -> str:
    """The name of the solve result ``r``'s state that breaks the limits: "base-case
    fallback" when it is the grid's own topology, taken because the time was up
    (``base_fallback``; user test ut50_core #1), "only topology evaluated" when a stopped
    robust run compared its one topology with no other
    (:func:`~feederopt.solvers.status.only_topology_evaluated_in`; ut51_recheck #1), else
    :data:`LEAST_VIOLATING` (:func:`~feederopt.solvers.status.kept_state_name`, as the
    console)."""
    return kept_state_name(bool(r.get("base_fallback")), only_topology_evaluated_in(r))


def ac_breaks_limits(r: Mapping[str, Any]) -> bool:
    """Whether the AC check of the solve result ``r`` finds its topology outside the limits
    (``ac_check.within_limits`` false)."""
    return (r.get("ac_check") or {}).get("within_limits") is False


def first_violation_text(d: Mapping[str, Any]) -> str:
    """A broken limit of ``limit_violations`` in a few words: ``bus 32 at 0.9413 p.u.
    against v_min 0.9500 p.u. (voltage below its minimum)``."""
    comp, limit, unit = str(d.get("component", "")), str(d.get("limit", "?")), \
        str(d.get("unit") or "")
    value, rating = _finite(d.get("value")), _finite(d.get("rating"))
    places = distinct_places(value, rating) if value is not None and rating is not None else 4
    spec = f".{places}f" if unit == "p.u." else ".4g"
    return (f"{SINGULAR.get(comp, comp)} {d.get('id', '?')} at {fmt(value, spec, ' ' + unit)} "
            f"against {limit} {fmt(rating, spec, ' ' + unit)}"
            + (f" ({LIMITS[limit]})" if limit in LIMITS else ""))


def infeasible_reason(r: Mapping[str, Any]) -> str:
    """Why no topology meets the limits, as the console's "infeasible: ..." line says it:
    the result's ``infeasible_reason`` (a scenario run's names the scenario that no radial
    topology supplies: "no radial topology supplies scenario d within the limits (proven:
    ...)"), else "no radial topology meets the limits". The report said only the latter,
    never which scenario (user test ut50_scen #3)."""
    reason = r.get("infeasible_reason")
    if isinstance(reason, str) and reason.strip():
        return reason.strip()
    return "no radial topology meets the limits"


def unsupplied_row(r: Mapping[str, Any]) -> tuple[str, str] | None:
    """The summary's row of the scenarios that no radial topology supplies within the
    limits (the result's ``unsupplied_scenarios``), None without them."""
    names = r.get("unsupplied_scenarios")
    if not isinstance(names, list | tuple) or not names:
        return None
    label = ("scenario no radial topology supplies" if len(names) == 1
             else "scenarios no radial topology supplies")
    return label, '<span class="warn">' + escape(", ".join(str(x) for x in names)) + "</span>"


def least_violating_text(r: Mapping[str, Any]) -> str:
    """The summary's warning over a least-violating state (:func:`least_violating`): what the
    figures after and the switching actions are, as the console's row "open branches
    (least-violating state, breaks the limits)" says."""
    status = str(r.get("status", ""))
    why = (f"{infeasible_reason(r)} (status infeasible)" if status == "infeasible"
           else f"the run stopped (status {status}) before it found a topology within the "
                "limits")
    state = ("the base-case fallback, " + BASE_FALLBACK_WHAT + "; it breaks the limits"
             if r.get("base_fallback") else
             ONLY_EVALUATED_WHAT + "; it breaks the limits" if only_topology_evaluated_in(r)
             else "the least-violating one, which breaks the limits")
    return (f"{why}: the state after is {state}; "
            "the figures after, the open branches and the switching actions are that "
            "state's, not a switching plan within the limits")


def iterations_label(r: Mapping[str, Any]) -> str:
    """The summary's label of the iterations: what was counted, master MILP solves, or a
    scenario run's enumeration steps (one per scenario, no master: :func:`~feederopt.results.
    result.enumerated`; ut50_scen #4 labelled 4 enumeration steps master MILP solves)."""
    log = [row for row in r.get("iteration_log") or [] if isinstance(row, Mapping)]
    if enumerated([str(row.get("note") or "") for row in log]):
        return "iterations (enumeration steps, one per scenario)"
    return "iterations (master MILP solves)"


def summary_iterations(r: Mapping[str, Any]) -> str:
    """The summary's iterations (:func:`~feederopt.results.result.iterations_text`, the
    console's text), and what the log's rows numbered 0 are when it has them."""
    log = [row for row in r.get("iteration_log") or [] if isinstance(row, Mapping)]
    notes = [str(row.get("note") or "") for row in log]
    stats = r.get("engine_stats")
    text = iterations_text(r.get("iterations", "-"), str(r.get("status", "")), notes,
                           stats if isinstance(stats, Mapping) else None)
    zero = sum(row.get("iteration") == 0 for row in log)
    single_tree = any(n.startswith("tree ") for n in notes)  # no master iterations at all
    if zero and r.get("iterations") == 0 and not single_tree:
        text += (f"; the iteration log's {zero} row(s) numbered 0 are the steps before the "
                 "first master solve (the start topologies, probing)")
    return text


def within_limits_row(r: Mapping[str, Any]) -> tuple[str, str]:
    """The summary's row of the AC check's verdict on the limits (the console's "within
    limits (AC)"; a robust or scenario run has it for every extreme point or scenario too,
    :func:`~feederopt.report.scenarios.ac_all_row`): ``yes``, or ``no: the AC power flow
    breaks 7 limit(s), the worst bus 32 at 0.9413 p.u. against v_min 0.9500 p.u.``, marked;
    not verified when the power flow did not converge, not checked without an AC check.
    The verdict stood only in the AC check's table, far below cards and a switching list
    that read as a plan (user test ut42_report #1)."""
    at = " (AC, nominal load)" if is_uncertain(r) else " (AC)"
    ac = r.get("ac_check")
    if not isinstance(ac, Mapping) or not ac:
        return "within limits" + at, "- (no AC check run)"
    within = ac.get("within_limits")
    if not ac.get("converged"):
        return "within limits" + at, ('<span class="warn">not verified: the AC power flow '
                                      "did not converge</span>")
    if within is False:
        broken = [d for d in ac.get("limit_violations") or [] if isinstance(d, Mapping)]
        text = f"no: the AC power flow breaks {ac_limit_count(ac)} limit(s)"
        if broken:
            text += f", the worst {first_violation_text(broken[0])}"
        text += " (listed in the AC check below)"
        return "within limits" + at, f'<span class="warn">{escape(text)}</span>'
    if within is True:
        tolerated = ac.get("broken_within_tolerance") or []
        text = (within_limits_text(True, tolerated, ac.get("limit_tolerance") or None)
                if tolerated else "yes")
        return "within limits" + at, escape(text)
    return "within limits" + at, "-"


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
    # a scenario or robust run: the headline figures are the nominal load's, not a scenario's
    nominal = is_uncertain(r)
    at = " (nominal load)" if nominal else ""
    # the figures after of a least-violating state: named so, not as a plan's (ut42_report #1)
    least = least_violating(r)
    after = f" ({kept_name(r)}, breaks the limits)" if least else ""
    cards = [
        ("losses before" + at + (" (meshed base case)" if base_case_kind(r.get("base"))
                                 else ""), fmt(k["losses_before_kw"], ".2f", " kW")),
        ("losses after" + at + after, fmt(k["losses_after_kw"], ".2f", " kW")),
        ("reduction" + at + after, fmt(k["reduction_pct"], ".2f", " %")),
        ("min voltage before" + at, fmt(k["min_voltage_before_pu"], ".4f", " p.u.")),
        ("min voltage after" + at + after, fmt(k["min_voltage_after_pu"], ".4f", " p.u.")),
        ("gap", fmt(gap * 100 if gap is not None else None, ".4f", " %")),
        ("time", fmt(r.get("solve_time_s"), ".2f", " s")),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{escape(a)}</div><div class="v">{escape(b)}</div></div>'
        for a, b in cards
    )
    on = ", nominal load" if nominal else ""
    kind = base_case_kind(r.get("base"))  # a meshed base case: no radial answer reaches it
    # the AC check's verdict beside the model's status (a result.json written before
    # ac_verdict existed: from its ac_check)
    verdict = r["ac_verdict"] if "ac_verdict" in r else ac_verdict(r.get("ac_check"),
                                                                   r.get("losses_kw"))
    rows = [
        ("status", escape(str(r.get("status", "-")))),
        *((("AC verdict" + at, f'<span class="warn">{escape(str(verdict))}</span>'),)
          if verdict else ()),
        # the AC check's verdict on the limits, at the top as the console has it (it stood
        # only in the AC check's table, below a switching list that read as a plan)
        *((within_limits_row(r),) if not _no_topology(r) else ()),
        # a scenario or robust run: the one AC verdict over every scenario (extreme point)
        *((row,) if (row := ac_all_row(r)) else ()),
        ("method", escape(str(r.get("method", "-")))
         + (f' <span class="warn">({escape(note)})</span>' if (note := heuristic_note(
             r.get("method"), r.get("has_topology", True) is not False)) else "")),
        ("solver", escape(str(r.get("solver", "-")))),
        (f"losses before (AC, initial topology{on}{'; ' + kind if kind else ''})",
         fmt(k["losses_before_kw"], ".3f", " kW")),
        (f"losses after (AC power flow, the true value{on})",
         fmt((r.get("ac_check") or {}).get("losses_kw"), ".3f", " kW")),
        (f"losses after (SOCP model{on})", fmt(r.get("losses_kw"), ".3f", " kW")
         + _not_exact(r)),
        ("loss reduction" + at, fmt(k["reduction_pct"], ".2f", " %")
         # a base case outside the limits: why the answer may lose more (ut37_fresh #1)
         + (f' <span class="warn">({escape(note)})</span>'
            if (note := base_limits_note(
                r.get("base"), k["reduction_pct"], r.get("status"), method=r.get("method"),
                has_topology=r.get("has_topology", True) is not False,
                within_limits=r.get("within_limits", True) is not False,
                nominal_breaks=nominal_breaks_limits(r)))
            else "")),
        (f"minimum voltage before (AC{on})", fmt(k["min_voltage_before_pu"], ".4f", " p.u.")),
        (f"minimum voltage after (AC, true{on})" if _finite((r.get("ac_check") or {}).get(
            "min_voltage_pu")) is not None else f"minimum voltage after (SOCP model{on})",
         fmt(k["min_voltage_after_pu"], ".4f", " p.u.")),
        ("objective (kW-equivalent" + ("; the worst case found" if worst_case_unproven(r)
                                        else "") + ")",
         fmt(r.get("objective"), ".4f", " kW-eq")),
        # a robust run whose worst-case search stopped: the objective's bound, as the console
        *((row,) if (row := worst_case_bound_row(r)) else ()),
        *((("switching cost", escape(text)),)
          if (text := switching_text(r.get("switching"))) else ()),
        *((("AC polish (pandapower branch exchange)", escape(text)),)
          if (text := polish_text(r.get("polish"))) else ()),
        *((("least-violating, chosen in AC (pandapower)", escape(text)),)
          if (text := least_violating_ac_text(r.get("least_violating_ac"))) else ()),
        ("lower bound" + (" (the model's)" if _polish_kept(r) else ""),
         escape(bound_text(r.get("lower_bound"), ".4f", " kW-eq"))),
        ("gap", fmt(gap * 100 if gap is not None else None, ".4f", " %")),
        (iterations_label(r), escape(summary_iterations(r))),
        ("solve time", fmt(r.get("solve_time_s"), ".2f", " s")),
        ("open before", escape(_branch_list((r.get("base") or {}).get("open_branches"),
                                          "base.open_branches"))),
        (kept_state_label("open after", str(r.get("status", "")), kept_name(r),
                          least_violating=least),
         escape(_branch_list(r.get("open_branches"), "open_branches"))
         if not _no_topology(r) else "no topology found"),
    ]
    if (row := unsupplied_row(r)) is not None:  # which scenario (ut50_scen #3)
        rows.append(row)
    if r.get("out_of_service_branches"):  # outside the model: open in every answer
        rows.append(("out of service (open, not switched)",
                     escape(_branch_list(r.get("out_of_service_branches"),
                                         "out_of_service_branches"))))
    rows += settings_rows(r.get("settings"), method=r.get("method"))
    table = "<table>" + "".join(
        f'<tr><th scope="row">{escape(a)}</th><td>{b}</td></tr>' for a, b in rows
    ) + "</table>"
    base_warning = (r.get("base") or {}).get("warning")
    warn = f'<p class="warn">warning: {escape(str(base_warning))}</p>' if base_warning else ""
    # the model materially off pandapower's power flow (elements it does not model), as the
    # console says above its AC check (user test ut34_realgrid #2)
    off = ((r.get("ac_check") or {}).get("model_fidelity") or {}).get("warning")
    if off:
        warn = f'<p class="warn">warning: {escape(str(off))}</p>' + warn
    if _no_topology(r):
        reason = (f": {infeasible_reason(r)}" if r.get("status") == "infeasible"
                  and r.get("infeasible_reason") else "")
        warn = (f'<p class="warn">{escape(NO_TOPOLOGY)} (status '
                f'{escape(str(r.get("status", "-")))}){escape(reason)}.</p>') + warn
    elif least:
        warn = f'<p class="warn">warning: {escape(least_violating_text(r))}</p>' + warn
    if nominal:
        warn = _note(nominal_note()) + warn
    return section("summary", "Summary",
                   f'<div class="cards">{card_html}</div>{warn}{table}')


def _polish_kept(r: Mapping[str, Any]) -> bool:
    """--ac-polish moved the answer: the bound is the model's, the gap relative to it."""
    rec = r.get("polish")
    return isinstance(rec, dict) and bool(rec.get("kept"))


def _not_exact(r: Mapping[str, Any]) -> str:
    """Beside the SOCP losses when the AC check found the relaxation not exact
    (``ac_check.exact`` false): the AC losses, as the console's headline gives them."""
    ac = r.get("ac_check") or {}
    if (not ac.get("converged") or ac.get("exact") is not False
            or _finite(r.get("losses_kw")) is None):
        return ""
    return escape(f" (relaxation not exact: AC {fmt(ac.get('losses_kw'), '.3f', ' kW')})")


def _band(x: Any) -> str:
    """A voltage limit of ``settings``: one value, or the range over the buses."""
    if isinstance(x, Mapping):
        return f"{fmt(x.get('min'), '.4f')} to {fmt(x.get('max'), '.4f')} p.u. (per bus)"
    return fmt(x, ".4f", " p.u.")


def settings_rows(st: Mapping[str, Any] | None,
                  method: Any = None) -> list[tuple[str, str]]:
    """The summary's rows for result.json's ``settings``: the limits the result respects and
    how it was searched (results written before ``settings`` have none). ``method`` is the
    run's own (result.json's ``method``): a robust or scenario run's ``settings`` keep the
    ``--method`` of its master loop, ``benders``, which the row printed beside a method row
    and a grid title saying robust-cutting-plane (user test ut49_report #3)."""
    if not st:
        return []
    if st.get("thermal_limits"):
        thermal = (f"held ({st.get('rated_branches')} rated branches, at "
                   f"{fmt(st.get('max_loading_percent'), '.4g', ' %')} of their rating)")
    elif st.get("max_loading_percent") is None:
        thermal = "not held (--no-thermal-limits)"
    else:
        thermal = "none (no branch has a rating)"
    gap = _finite(st.get("gap"))
    # the generators held at their set-points or dispatched within their ranges (only where
    # the network has a generator with a range; user test ut45_mpsb #1)
    dispatched = st.get("dispatched_generators")
    generation = ([("generators", "held at their set-points (--fixed-generation)")]
                  if st.get("fixed_generation") else
                  [("generators", escape(f"{', '.join(map(str, dispatched))} dispatched within "
                                         f"{st.get('dispatch_ranges')} (--fixed-generation "
                                         "holds them at their set-points)"))]
                  if dispatched else [])
    rows = [
        ("voltage band (model and AC check)",
         escape(f"{_band(st.get('v_min_pu'))} - {_band(st.get('v_max_pu'))}, from the "
                f"{st.get('voltage_band_from', '-')}")),
        ("current and thermal ratings", escape(thermal)),
        ("gap tolerance", fmt(gap * 100 if gap is not None else None, ".4g", " %")),
        ("time limit", fmt(st.get("time_limit_s"), ".4g", " s")),
        ("method, solver option, radiality",
         escape(f"{method or st.get('method', '-')}, {st.get('solver_option') or 'default'}, "
                f"{st.get('radiality', '-')}")),
    ]
    return [*generation, *rows]


#: Longest list of ids an alt text names; the rest is counted.
ALT_IDS = 20


def _ids_text(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:ALT_IDS])
    return shown + (f" and {len(ids) - ALT_IDS} more" if len(ids) > ALT_IDS else "")


def grid_alt(r: Mapping[str, Any]) -> str:
    """The grid figure's alt text with the result it shows: ``grid with switch states:
    branches 7, 9, 14, 32, 37 open``."""
    ids = [str(b.get("id")) for b in r.get("open_branches") or [] if isinstance(b, Mapping)]
    if not ids:
        return "grid with switch states: every branch closed"
    return f"grid with switch states: branch{'es' if len(ids) > 1 else ''} {_ids_text(ids)} " \
        "open"


def voltage_alt(buses: pl.DataFrame) -> str:
    """The voltage profile's alt text: its least and largest voltage and where, by the AC
    power flow when the table has it (``vm_ac_pu``), else the model's (``vm_pu``):
    ``voltage profile (AC), min 0.9378 p.u. at bus 32, max 1.0000 p.u. at bus 1``."""
    for column, what in (("vm_ac_pu", "AC"), ("vm_pu", "SOCP model")):
        if column not in buses.columns:
            continue
        rows = buses.select("id", pl.col(column).cast(pl.Float64)).filter(
            pl.col(column).is_finite())
        if rows.height:
            lo = rows.row(int(rows[column].arg_min() or 0))
            hi = rows.row(int(rows[column].arg_max() or 0))
            return (f"voltage profile ({what}), min {fmt(lo[1], '.4f', ' p.u.')} at bus "
                    f"{lo[0]}, max {fmt(hi[1], '.4f', ' p.u.')} at bus {hi[0]}")
    return "voltage profile"


def convergence_alt(r: Mapping[str, Any], log: Sequence[Mapping[str, Any]]) -> str:
    """The convergence figure's alt text: how many rows the log has and the bounds and gap
    at the end (as the summary gives them)."""
    gap = _finite(r.get("gap"))
    return (f"Benders bounds over {len(log)} iteration log rows: lower bound "
            f"{bound_text(r.get('lower_bound'), '.4f', ' kW-eq')}, objective "
            f"{fmt(r.get('objective'), '.4f', ' kW-eq')}, gap "
            f"{fmt(gap * 100 if gap is not None else None, '.4f', ' %')} at the end")


def grid_section(folder: ResultFolder) -> str:
    from feederopt.report.plot import coordinates, figure_png, grid_figure, grid_title

    r = folder.result
    if _no_topology(r):
        return section("grid", "Grid", _note(NO_TOPOLOGY + ": no switch states to draw."))
    png = folder.images.get("grid")
    # a folder saved from a result read back from its bare JSON file has empty tables
    buses, branches = folder.buses, folder.branches
    if (png is None and buses is not None and branches is not None
            and all("id" in t.columns and t.height > 0 for t in (buses, branches))):
        sw = folder.switches
        changed = (sw.filter(pl.col("changed"))["id"].to_list()
                   if sw is not None and "changed" in sw.columns else [])
        fig = grid_figure(buses, branches, coordinates(buses, branches),
                          grid_title(r.get("case", ""), r.get("method", ""),
                                     str(r.get("status", "")),
                                     (r.get("ac_check") or {}).get("losses_kw"),
                                     r.get("losses_kw")), changed,
                          r.get("devices") or (), r.get("out_of_service_branches") or ())
        png = figure_png(fig)
    if png is None:
        return section("grid", "Grid", _note(
            "The result folder has no grid tables to draw (one saved from a result read back "
            "from its bare JSON file has none: save the solve's folder to draw the grid)."))
    caption = ("Closed branches solid (closed switches marked green), open branches dashed red, "
               "switched branches thick, out-of-service branches dotted grey; buses coloured by "
               "voltage magnitude (AC power flow when checked).")
    if is_uncertain(r):
        caption += " Voltages at the nominal load, not a scenario's."
    return section("grid", "Grid", image(png, grid_alt(r), caption))


def voltage_section(folder: ResultFolder) -> str:
    from feederopt.report.plot import figure_png, voltage_levels, voltage_profile_figure

    def _kv(kv: float) -> str:
        return f"{kv:g} kV" if math.isfinite(kv) and kv >= 0 else "unknown level"

    if folder.buses is None or folder.buses.height == 0:
        return section("voltages", "Voltage profile", _note("No bus table in the result folder."))
    if _no_topology(folder.result):
        return section("voltages", "Voltage profile",
                       _note(NO_TOPOLOGY + ": no voltages of a chosen topology."))
    png = figure_png(voltage_profile_figure(folder.buses))
    caption = ("|V| per bus: the AC power flow (pandapower), which is the true operating "
               "point, and the SOCP model's solution"
               + (", and the voltage band held (dashed red)."
                  if "v_min_pu" in folder.buses.columns else "."))
    levels = voltage_levels(folder.buses)
    if len(levels) > 1:
        caption += (" One panel per voltage level, each with its own axis and band: the "
                    f"feeder's {_kv(levels[0][0])} ({len(levels[0][1])} buses) first, then "
                    + ", ".join(f"{_kv(kv)} ({len(ix)} bus{'es' if len(ix) != 1 else ''})"
                                for kv, ix in levels[1:])
                    + " apart (the high-voltage side of the transformers is not part of the "
                    "feeder's profile).")
    if is_uncertain(folder.result):
        caption += " At the nominal load, not a scenario's."
    return section("voltages", "Voltage profile",
                   image(png, voltage_alt(folder.buses), caption))


def log_note(row: Mapping[str, Any]) -> Any:
    """A row's note; a bare "master infeasible" (a result.json written before the note said
    what it proves) in the words the run writes now
    (:func:`~feederopt.solvers.status.master_infeasible_note`: with an upper bound, the
    incumbent is optimal)."""
    note = row.get("note")
    if note != "master infeasible":
        return note
    phase = str(row.get("phase") or LOSS_PHASE)
    upper = row.get("violation_upper_pu" if phase == VIOLATION_PHASE else "upper_bound_kw")
    return master_infeasible_note(_finite(upper) is not None, phase)


#: The iteration log's column of the master iteration, and what its numbers are.
LOG_ITERATION = "iteration (master solves so far)"
LOG_NOTE = ("iteration: the master MILP solves so far. A row that is no master solve keeps the "
            "number of the last one: 0 for the steps before the first (start: the start "
            "topologies evaluated; probing: bounds from switch probing or the loop "
            "branch-and-bound), and a phase's start row; so rows may share a number.")


def convergence_title(method: Any) -> str:
    """The convergence section's and plot's title: "Benders convergence" for a plain Benders
    run, else the run's method's (``robust-cutting-plane convergence``, ``stochastic-benders
    convergence``; user test ut49_report #3: a robust run's section said Benders)."""
    if not method or method == "benders":
        return "Benders convergence"
    return f"{method} convergence"


def convergence_section(r: Mapping[str, Any]) -> str:
    from feederopt.report.plot import (
        ITERATION_AXIS,
        TIME_AXIS,
        convergence_axis,
        convergence_figure,
        figure_png,
    )

    # the bounds of a row as this release names them (an older result.json's too)
    log = [iteration_row(row) for row in r.get("iteration_log") or []
           if isinstance(row, Mapping)]
    if not log:
        return section("convergence", "Convergence", _note(
            f"The method {r.get('method', '?')} has no iteration log; lower bound "
            f"{bound_text(r.get('lower_bound'), '.4f')}, objective "
            f"{fmt(r.get('objective'), '.4f')}."
        ))
    title = convergence_title(r.get("method"))
    png = figure_png(convergence_figure(log, title))
    def pct(x: Any) -> float | None:
        g = _finite(x)
        return g * 100 if g is not None else None

    # as the summary: bounds in kW (the objective's unit), the gap in %; the least-violation
    # search (after a proof that no topology meets the limits) in its own columns, total
    # slack in p.u. (in the kW columns its 0 read as a falling lower bound, ut_feas #1)
    searched = any(row.get("phase") == VIOLATION_PHASE for row in log)

    def columns(row: Mapping[str, Any]) -> dict[str, Any]:
        losses = row.get("phase", LOSS_PHASE) != VIOLATION_PHASE
        out = {LOG_ITERATION: row.get("iteration")}
        if searched:
            out["phase"] = row.get("phase", LOSS_PHASE)
        out |= {"lower bound [kW]": row.get("lower_bound_kw") if losses else None,
                "upper bound [kW]": row.get("upper_bound_kw") if losses else None}
        if searched:
            out |= {"least total slack, lower bound [p.u.]":
                    None if losses else row.get("violation_lower_pu"),
                    "least total slack, found [p.u.]":
                    None if losses else row.get("violation_upper_pu")}
        return out | {"gap [%]": pct(row.get("gap")), "elapsed [s]": row.get("elapsed_s"),
                      "note": log_note(row)}

    table = _note(LOG_NOTE) + records_table([columns(row) for row in log])
    _, axis = convergence_axis(log)
    caption = "Lower and upper bound on the objective " + (
        "per master iteration (master MILP solve)." if axis == ITERATION_AXIS else
        "against the time since the start of the run (rows of the log share an iteration "
        "number: the steps between master solves keep the number of the last one)."
        if axis == TIME_AXIS else "per row of the iteration log (rows share an iteration "
        "number: the steps between master solves keep the number of the last one).")
    if searched:
        caption += (" After the proof that no radial topology meets the limits, the search "
                    "for the least-violating one: its bounds on the total slack [p.u.] in "
                    "the second panel, not on the objective's axis.")
        if any(row.get("phase") == TIE_PHASE for row in log):
            caption += (" Then, among the topologies that violate as little, the least "
                        "losses: its bounds [kW] in the third panel.")
    return section("convergence", title,
                   image(png, convergence_alt(r, log), caption)
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
    losses = r.get("losses_kw")
    # the least-violating point (no losses: it minimises slack) is not compared with the AC
    # power flow, so its "exact" says nothing (user test ut_fresh #3)
    slack_point = not (isinstance(losses, int | float) and math.isfinite(losses))
    for key, (label, spec) in labels.items():
        value = ac.get(key)
        if key == "exact" and slack_point:
            point = ("base case's point, which needs slack" if r.get("base_fallback")
                     else "least-violating point")
            rows.append(f'<tr><th scope="row">{escape(label)}</th><td>- (not compared: the '
                        f"{point})</td></tr>")
            continue
        text = fmt(value, *spec) if spec else cell(value) if value != "" else "-"
        rows.append(f'<tr><th scope="row">{escape(label)}</th><td>{text}</td></tr>')
    if ac.get("converged"):
        element = ac.get("max_loading_element")
        rows.append('<tr><th scope="row">largest loading (AC, true)</th><td>'
                    + (escape(largest_loading_text(ac.get("max_loading_percent"), element,
                                                   ac.get("loading_limit_percent", 100.0)))
                       if element is not None else "- (no rated branch)") + "</td></tr>")
    if ac.get("within_limits") is not None:
        tol = ac.get("limit_tolerance") or {}
        tolerated = ac.get("broken_within_tolerance") or []
        verdict = (escape(within_limits_text(ac["within_limits"], tolerated, tol)) if tolerated
                   else f"{cell(ac['within_limits'])} (tolerance "
                   f"{escape(str(tol.get('voltage_pu', '-')))} p.u., "
                   f"{escape(str(tol.get('rating_percent', '-')))} % of a rating)")
        rows.append(f'<tr><th scope="row">{escape("within the limits (AC, true)")}</th><td>'
                    f"{verdict}</td></tr>")
    warnings = "".join(f'<p class="warn">warning: {escape(str(w))}</p>'
                       for w in ac.get("warnings") or [])
    broken = ac.get("limit_violations") or []
    if broken:
        warnings += ('<p class="warn">The AC operating point of this topology breaks the '
                     'limits at:</p>' + violations_table(broken))
    truth = _note("The AC power flow (pandapower Newton-Raphson on the chosen topology) is the "
                  "true operating point; the SOCP values are those of the convex model.")
    title = "AC check (pandapower Newton-Raphson)"
    if is_uncertain(r):
        truth += _note(nominal_note())
        title = "AC check at the nominal load (pandapower Newton-Raphson)"
    return section("ac-check", title, f"{truth}<table>{''.join(rows)}</table>{warnings}")


#: The switching section's heading over a least-violating state (:func:`least_violating`).
SWITCHES_LEAST_VIOLATING = ("Switch changes to the least-violating state (it breaks the "
                            "limits: not a switching plan)")


def switches_heading(r: Mapping[str, Any]) -> tuple[str, str]:
    """The switching section's heading and the warning above its table: "Switching actions"
    for a plan; for a least-violating state, :data:`SWITCHES_LEAST_VIOLATING` (the console's
    "open branches (least-violating state, breaks the limits)"; the heading listed its
    close/open operations as a plan, user test ut42_report #1); and for a topology whose AC
    power flow breaks the limits (an optimal or time-limited run's whose AC check fails) a
    warning that the actions lead to no operating point within them."""
    if least_violating(r):
        if r.get("base_fallback") or only_topology_evaluated_in(r):
            # the grid's own topology (ut50_core #1), or a robust run's one topology
            # evaluated (ut51_recheck #1): neither chosen for least violation
            return SWITCHES_LEAST_VIOLATING.replace("the least-violating state",
                                                    "the " + kept_name(r)), (
                '<p class="warn">warning: ' + escape(least_violating_text(r)) + ".</p>")
        return SWITCHES_LEAST_VIOLATING, (
            '<p class="warn">warning: ' + escape(least_violating_text(r)) + ".</p>")
    if ac_breaks_limits(r):
        n = ac_limit_count(r.get("ac_check") or {})
        return "Switching actions", (
            '<p class="warn">warning: ' + escape(
                f"the AC power flow of the state after these actions breaks {n} limit(s) "
                "(the AC check above): they lead to no operating point within the "
                "limits.") + "</p>")
    return "Switching actions", ""


def switches_section(folder: ResultFolder) -> str:
    sw = folder.switches
    if _no_topology(folder.result):
        return section("switches", "Switching actions",
                       _note(NO_TOPOLOGY + ": no switching actions."))
    title, warn = switches_heading(folder.result)
    if sw is None:  # as the other tables a folder lacks: said, not left out
        return section("switches", title, warn + _note(
            "No switch table (switches.parquet) in the result folder: the switches that "
            "change state are not known here (result.json's open_branches lists the open "
            "branches after)."))
    if "changed" in sw.columns:
        changed = sw.filter(pl.col("changed"))
        body = warn + _note(f"{changed.height} of {sw.height} switchable branches change "
                            "state.")
        if changed.height:
            show = changed.select(
                pl.col("id").alias("branch"),
                # the user's name of the branch (a pandapower net's net.line.name, ...)
                *([pl.col("name")] if "name" in changed.columns
                  and changed["name"].is_not_null().any() else []),
                pl.col("from_bus").alias("from bus"),
                pl.col("to_bus").alias("to bus"),
                pl.when(pl.col("initially_closed")).then(pl.lit("closed"))
                .otherwise(pl.lit("open")).alias("before"),
                pl.when(pl.col("closed")).then(pl.lit("closed"))
                .otherwise(pl.lit("open")).alias("after"),
                # a pandapower net: the switches the operator acts on
                *([pl.col("operated_by").alias("operated by")]
                  if "operated_by" in changed.columns else []),
            )
            body += frame_table(show)
    else:
        body = warn + frame_table(sw)
    return section("switches", title, body)


def devices_section(r: Mapping[str, Any]) -> str:
    """The DOPF's devices (their chosen settings) and its cost terms."""
    rows = [{"id": d.get("id"), "kind": d.get("kind"), "bus": d.get("bus"),
             "setting": d.get("setting")} for d in r.get("devices") or []]
    body = _note("The setting the optimiser chose for every controllable device; they are "
                 "marked on the grid.") + records_table(rows)
    if r.get("costs"):
        body += ("<h3>Costs (per hour at the loss price)</h3>"
                 + kv_table(labelled(r["costs"])))
    return section("devices", "Devices", body)


def literature_section(r: Mapping[str, Any]) -> str:
    """Published figures against the proven lower bound (the heading says when the run has
    none: :func:`~feederopt.results.literature.literature_title`)."""
    entries = [e for e in r.get("literature") or [] if isinstance(e, Mapping)]
    rows = [{"source": e.get("source"), "losses [kW]": e.get("losses_kw"),
             "verdict": e.get("verdict"), "why": e.get("reason")} for e in entries]
    return section("literature", literature_title([dict(e) for e in entries]),
                   records_table(rows))


def _limit(row: Mapping[str, Any], key: str, spec: str) -> str:
    """A generator's limit: ``-`` when the result does not give it (written before the
    limits were in the table), ``none`` when it is unbounded (JSON null for infinity)."""
    if key not in row:
        return "-"
    value = row[key]
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return "none"
    return fmt(value, spec)


def uncommitted_generators(r: Mapping[str, Any]) -> set[str]:
    """The committable generators that the distribution OPF left off (``devices`` rows of
    kind ``generator`` with ``on`` false): in service in the data, but producing nothing."""
    return {str(d.get("id")) for d in r.get("devices") or []
            if isinstance(d, Mapping) and d.get("kind") == "generator" and d.get("on") is False}


def generators_section(r: Mapping[str, Any]) -> str:
    """Every in-service generator's dispatch at the chosen topology (which the AC check runs
    at) and its limits as the model reads them; empty for a network without generators. A
    committable generator that the optimiser left off is said to be off (its ``state``) and
    is not counted as running (user test ut36_dopf #2: an off sgen read "1 in-service
    generator(s)" like an ordinary unit)."""
    gens = [g for g in r.get("generators") or [] if isinstance(g, Mapping)]
    if not gens:
        return ""
    off = uncommitted_generators(r)
    committable = {str(d.get("id")) for d in r.get("devices") or []
                   if isinstance(d, Mapping) and d.get("kind") == "generator"}

    def state(gid: str) -> str:
        if gid in off:
            return "off (not committed)"
        return "on (committed)" if gid in committable else "in service"

    # the user's names (a pandapower net's net.sgen.name, ...) where the network has them
    named = any(g.get("name") for g in gens)
    rows = [[str(g.get("id", "-")), *([str(g.get("name") or "-")] if named else []),
             str(g.get("bus", "-")), state(str(g.get("id"))),
             fmt(g.get("p_mw"), ".4f"), fmt(g.get("q_mvar"), ".4f"),
             _limit(g, "p_min_mw", ".4f"), _limit(g, "p_max_mw", ".4f"),
             _limit(g, "q_min_mvar", ".4f"), _limit(g, "q_max_mvar", ".4f")] for g in gens]
    n_off = sum(str(g.get("id")) in off for g in gens)
    at = " at the nominal load" if is_uncertain(r) else ""
    left_off = (f"; {n_off} committable generator(s) left off by the optimiser (state off: "
                "no output, its limits apply only when on)" if n_off else "")
    body = _note(
        f"{len(gens) - n_off} in-service generator(s) running{left_off}: the active and "
        f"reactive power at the chosen topology{at} (positive: injected into the grid), which "
        "the AC check runs at: the optimiser's dispatch within the limits (a fixed injection "
        "where they are equal; a voltage-controlling generator's reactive power is what holds "
        "its bus voltage). Limits: the generator's, as the model reads them from the data "
        "(none: unbounded).")
    body += text_table(("id", *(("name",) if named else ()), "bus", "state", "P [MW]",
                        "Q [Mvar]", "P min [MW]", "P max [MW]", "Q min [Mvar]",
                        "Q max [Mvar]"), rows)
    return section("generators", "Generators", body)


def _records(value: Any, key: str) -> bool:
    """Whether ``value`` is a list of result rows, each with ``key`` (a scenario's or an
    extreme point's); else the report shows it as a generic table."""
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, Mapping) and key in v for v in value))


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


def solve_badge(r: Mapping[str, Any]) -> str:
    """The solve page's status badge: the run's status, or ``limits_broken`` where the
    command exits with code 4 for a topology outside the limits (result.json's
    ``within_limits`` false: its AC power flow breaks a limit or was not verified, or it is
    the least-violating state of a run that stopped), as the three-phase, partition,
    schedule and resilience pages have it; a proven ``infeasible`` (exit 3) and an ``error``
    keep their own."""
    status = str(r.get("status", "unknown"))
    if status in ("infeasible", "error") or _no_topology(r):
        return status
    return "limits_broken" if r.get("within_limits") is False else status


def render_report(folder: ResultFolder) -> str:
    """The whole HTML page."""
    r = folder.result
    status = solve_badge(r)
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
    parts.append(generators_section(r))
    if r.get("scenarios") is not None:
        parts.append(scenarios_section(r) if _records(r["scenarios"], "scenario")
                     else generic_section("scenarios", "Scenarios", r["scenarios"]))
    if r.get("robust") is not None:
        parts.append(robust_section(r) if _records(r["robust"], "vertex")
                     else generic_section("robust", "Robust", r["robust"]))
    if r.get("diagnosis"):
        which = ("base-case fallback (the grid's own topology)" if r.get("base_fallback")
                 else "only topology evaluated (compared with no other)"
                 if only_topology_evaluated_in(r) else "least-violating configuration")
        title = f"Diagnosis: {which}"
        parts.append(section("diagnosis", title, _note(
            f"The limits that the {which} needs slack at, in the model.")
            + violations_table(r["diagnosis"])) if _records(r["diagnosis"], "limit")
            else generic_section("diagnosis", title, r["diagnosis"]))
    if r.get("timings") or r.get("engine_stats"):
        # seconds (keys ending _s) apart from the engine's counts and bounds, which a result
        # written before engine_stats kept in its timings
        timings = r.get("timings") or {}
        # but write_s, the writing of the outputs that this page is one of: known only after
        # it, so that the page `feederopt report` makes from the folder is the one solve wrote
        # (timings_section); labelled with their units, the JSON key after each (ut47_report
        # #5: the keys alone)
        secs = timings_section(r)
        other = {**{k: v for k, v in timings.items() if not k.endswith("_s")},
                 **(r.get("engine_stats") or {})}
        if secs:
            parts.append(secs)
        if other:
            parts.append(generic_section("engine", "Engine counts and bounds",
                                         labelled(other)))
    parts.append(notes_section(r))
    title = f"feederopt report: {r.get('case', folder.path.name)}"
    sub = f"{r.get('method', '')} with {r.get('solver', '')}"
    return page(title, status, sub, "".join(parts), folder.path.name)




def _figure(folder: Path, kind: str, result: Mapping[str, Any]) -> bytes:
    """The PNG that ``kind``'s page embeds: the folder's own, or for a schedule redrawn from
    the hourly series in result.json; a typed problem when neither is there (a partition's
    and a plan's drawings need the feeder, which the folder does not hold)."""
    name = FIGURES[kind]
    file = folder / name
    if file.is_file():
        return file.read_bytes()
    if kind == "schedule" and isinstance(result.get("series"), Mapping):
        from feederopt.report.plot import figure_png
        from feederopt.report.schedule import hourly_figure

        return figure_png(hourly_figure(result))
    raise _unreadable(file, f"the {kind.replace('_', ' ')} report cannot be rebuilt: the "
                      f"folder has no {name}",
                      hint=f"'{REPORTS[kind]}' writes the folder with its report.html")


def _restore_tables(folder: Path) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """A restore folder's ``buses.parquet`` and ``branches.parquet`` (None where missing); a
    typed problem for one that is not a readable table."""
    tables: list[pl.DataFrame | None] = []
    for name in ("buses", "branches"):
        file = folder / f"{name}.parquet"
        try:
            tables.append(pl.read_parquet(file) if file.is_file() else None)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise _unreadable(file, f"{file.name} is not a readable Parquet table ({exc})",
                              hint=f"write the folder again with "
                              f"'{REPORTS['resilience_restore']}'") from None
    return tables[0], tables[1]


def render_folder(folder: Path, result: dict[str, Any], kind: str) -> str:
    """The page of ``kind`` (:func:`result_kind`) for the folder ``folder`` holding
    ``result``; a result.json that does not have the shape its command writes is a typed
    problem, not a crash or a page of dashes."""
    try:
        if kind == "solve":
            return render_report(_with_tables(folder, result))
        if kind == "three_phase_solve":
            from feederopt.report.threephase import rebuild_three_phase_report

            return rebuild_three_phase_report(folder, result)
        png = _figure(folder, kind, result)
        if kind == "schedule":
            from feederopt.report.schedule import render_schedule_report

            return render_schedule_report(result, png, folder.name)
        if kind == "partition":
            from feederopt.report.partition import render_partition_report

            return render_partition_report(result, png, folder.name)
        if kind == "resilience_restore":
            from feederopt.report.resilience import render_restore

            return render_restore(result, png, folder.name, *_restore_tables(folder))
        from feederopt.report.resilience import render_plan

        return render_plan(result, png, folder.name)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        what = "a solve result" if kind == "solve" else f"a {kind.replace('_', ' ')} result"
        raise _unreadable(folder / "result.json", f"result.json is not {what} as "
                          f"'{REPORTS[kind]}' writes it ({type(exc).__name__}: {exc})",
                          hint=f"write the folder again with '{REPORTS[kind]}'") from exc


#: The endings of the files a command reads (networks, scenario and disaster files, profiles,
#: device and settings tables): a string of result.json with one of them names an input.
_INPUT_SUFFIXES = (".json", ".csv", ".parquet", ".m", ".dss", ".p", ".xlsx", ".toml",
                   ".yaml", ".yml", ".txt", ".mat", ".sqlite", ".xml")


def _solved_from(result: dict[str, Any]) -> list[str]:
    """Every file or folder that result.json names and that exists: its network (``source``,
    ``inputs``' ``source``), the scenario, disaster, profile, device and settings files
    wherever the command recorded them (user test ut_3ph #9: ``report --out feeder.dss
    --force`` replaced the feeder with the page; only the network and three ``inputs`` keys,
    and only as absolute paths, were kept from it before, so a scenario file or a relative
    ``source`` was written over). A string names a path when it is absolute, holds a
    separator or ends as an input file does (:data:`_INPUT_SUFFIXES`): a status such as
    ``optimal`` is no file even if the working folder has one of that name."""
    found: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, str):
            text = x.strip()
            if text and len(text) < 4096 and "\n" not in text and (
                    Path(text).is_absolute() or "/" in text or "\\" in text
                    or text.lower().endswith(_INPUT_SUFFIXES)):
                try:
                    if Path(text).exists():
                        found.append(text)
                except (OSError, ValueError):
                    pass
        elif isinstance(x, Mapping):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk(result)
    return list(dict.fromkeys(found))


def write_report(result_dir: str | Path | ResultFolder, out: str | Path | None = None, *,
                 force: bool = False) -> Path:
    """Write the report of ``result_dir`` to ``out`` (default ``result_dir/report.html``),
    atomically; an existing file is replaced only with ``force``.

    ``result_dir`` is the folder's path, or the :class:`ResultFolder` that
    ``feederopt.read_result(folder, tables=True)`` returned (the report is built from its
    ``path``, the folder as it is on disk); anything else is a typed problem (user test ut34:
    a ResultFolder raised a raw TypeError). The page is the one the command that wrote the
    folder writes (:func:`result_kind`): ``solve --out`` (balanced or three-phase),
    ``schedule --out``, ``partition --out``, ``plan --out`` or ``restore --out``. ``out`` is
    checked before the page is drawn (a typed problem); a page that cannot be written after
    it raises :class:`~feederopt.errors.OutputNotWrittenError` (the command line's exit code
    5)."""
    check_not_forked("feederopt.write_report")
    if isinstance(result_dir, ResultFolder):
        result_dir = result_dir.path
    for name, value, nullable in (("result_dir", result_dir, False), ("out", out, True)):
        if not (isinstance(value, str | os.PathLike) or (nullable and value is None)):
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", f"write_report takes a result folder's "
                f"path{' and an HTML file' if name == 'out' else ''} ({name}), not a value "
                f"of type {type(value).__name__}", field=name,
                hint="give the folder's path (a str or Path) or what "
                "feederopt.read_result(folder, tables=True) returns" if name == "result_dir"
                else "give the HTML file's path (a str or Path), or None for "
                "RESULT_DIR/report.html")])
    folder = Path(result_dir)
    result = _read_json(folder)
    kind = result_kind(result, folder / "result.json")
    target = Path(out) if out is not None else folder / "report.html"
    # before rendering; never onto the folder's own files (result.json, figures, tables)
    inputs: list[str | Path] = (
        [p for p in folder.iterdir() if p.name != "report.html"] if folder.is_dir() else [])
    # and never onto a file the result names: the network it was solved from, its scenario,
    # disaster and profile files (user test ut_3ph #9: ``report --out feeder.dss --force``
    # replaced the feeder with the page), with or without --force
    inputs += _solved_from(result)
    own_page = (folder / "report.html").resolve()
    if ((target.exists() or target.is_symlink()) and target.resolve() == own_page
            and not owned_by_feederopt(folder, "report.html")):
        # a page of the user's that --force carried over with the folder (user test ut_cli
        # #2: the hint said "pass --force" to a command given --force); refused with --force
        # too, as the message says (user test ut32_cli #1: ``report DIR --force`` replaced it)
        raise InputError([Problem(
            ProblemKind.OUTPUT_EXISTS, "output", f"'{target}' exists already and is not "
            "feederopt's (the folder's .feederopt-files does not list it): the report is not "
            "written over it, with or without --force", (str(target),), None,
            f"move or rename your file, or write the report elsewhere: feederopt report "
            f"{folder} --out OTHER.html")])
    check_output(target, force=force, inputs=inputs)
    page = render_folder(folder, result, kind)
    try:
        path = write_text(target, page, force=force)
        if out is None:
            # the folder's own report is feederopt's file: a later ``--force`` replaces it
            # with the folder (user test ut_io #2: a stale report.html of the previous run
            # survived)
            add_to_manifest(folder, path.name)
    except InputError as exc:  # checked above: it became unwritable while the page was drawn
        raise OutputNotWrittenError(exc.problems) from None
    return path
