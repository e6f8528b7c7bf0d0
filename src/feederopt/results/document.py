"""The shape of a balanced solve's JSON document, checked before it is read back.

:meth:`feederopt.results.result.Result.from_dict` (and :func:`feederopt.load_result`, which
reads a file into it) reads ``case``, ``method`` and ``status`` as required and the figures,
lists and tables as optional; a document edited by hand or cut short leaked ``KeyError:
'status'``, ``ValueError: 'great' is not a valid Status``, ``could not convert string to
float: 'abc'`` or ``AttributeError: 'str' object has no attribute 'get'`` (user test
ut41_pyapi #2). :func:`solve_document_problems` lists every such problem at once, each
naming the field (and the file, when there is one), with the valid values of an enum.
Which key holds what is one table, :data:`FIELDS` (and :data:`AC_CHECK_FIELDS` for the AC
check's keys), so that every key ``from_dict`` converts is checked (user test
ut41_recheck_a #2: ``ac_check.losses_kw`` as a string, ``ac_check.warnings`` as a number or a
list as ``status`` still leaked ``TypeError``/``ValueError``, and ``gap: -1``, ``lower_bound:
[1]`` (read as -inf) and ``within_limits: "x"`` (read as true) were taken without a word).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from feederopt.errors import Problem, ProblemKind
from feederopt.scalars import is_real, is_switch, is_whole
from feederopt.solvers.status import Status

#: The keys a solve's document must have, each with what it holds (the hint of a missing one).
REQUIRED = {
    "case": 'the name of the case solved, e.g. "case33bw"',
    "method": 'the method it was solved with, e.g. "benders"',
    "status": "one of " + ", ".join(s.value for s in Status),
}


@dataclass(frozen=True)
class Shape:
    """What a field of the document holds: ``ok`` tells a value that fits (null is checked
    apart: an optional field may be null), ``what`` names it in the message ("must be
    <what>"), ``hint`` says how to mend it."""

    ok: Callable[[Any], bool]
    what: str
    hint: str = "leave the field as the solve wrote it, or leave it out"


#: How far below 0 a gap may be (rounding: a solver's bound can pass its incumbent by its
#: tolerance) before it is no gap: (objective - bound) / |objective| is >= 0 by definition.
GAP_ROUNDING = 1e-6

_AS_WRITTEN = "leave the figure as the solve wrote it (null where there is none)"
NUMBER = Shape(is_real, "a number or null", _AS_WRITTEN)
SECONDS = Shape(lambda v: is_real(v) and not v < 0, "a number >= 0 or null", _AS_WRITTEN)
GAP = Shape(lambda v: is_real(v) and not v < -GAP_ROUNDING,
            "a relative gap >= 0 (0.01 is 1 %) or null", _AS_WRITTEN)
#: ``lower_bound``: a number, ``"inf"`` / ``"-inf"`` (:func:`~feederopt.results.result.
#: bound_json`) or null.
BOUND = Shape(lambda v: is_real(v) or (isinstance(v, str)
                                       and v.strip().lower() in ("inf", "+inf", "-inf")),
              'a number, "inf", "-inf" or null', _AS_WRITTEN)
COUNT = Shape(lambda v: is_whole(v) and v >= 0, "a whole number",
              "the number of iterations the solve ran, e.g. 12")
TEXT = Shape(lambda v: isinstance(v, str), "a string or null")
FLAG = Shape(is_switch, "true or false")
OBJECT = Shape(lambda v: isinstance(v, Mapping), "an object or null")
LIST = Shape(lambda v: isinstance(v, list), "a list")
TEXTS = Shape(lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
              "a list of strings")
OBJECTS = Shape(lambda v: isinstance(v, list) and all(isinstance(x, Mapping) for x in v),
                "a list of objects")
BRANCHES = Shape(OBJECTS.ok, OBJECTS.what, 'as a solve writes it, e.g. [{"id": "7", ...}]')
FIGURES = Shape(lambda v: isinstance(v, Mapping)
                and all(x is None or is_real(x) for x in v.values()), "an object of figures")

#: Every key of a solve's document that :meth:`~feederopt.results.result.Result.from_dict`
#: converts into a field, with what it must hold; null is allowed (the field's default) but
#: for :data:`REQUIRED` (``status`` has its own check). ``tables`` is checked by
#: :func:`_table_problems`.
FIELDS: dict[str, Shape] = {
    "case": TEXT, "method": TEXT,
    "objective": NUMBER, "losses_kw": NUMBER, "min_voltage_pu": NUMBER,
    "max_voltage_pu": NUMBER, "gap": GAP, "solve_time_s": SECONDS, "lower_bound": BOUND,
    "iterations": COUNT, "solver": TEXT, "source": TEXT,
    "open_branches": BRANCHES, "out_of_service_branches": BRANCHES,
    "iteration_log": OBJECTS, "generators": OBJECTS,
    "timings": FIGURES, "engine_stats": FIGURES,
    "base": OBJECT, "ac_check": OBJECT,
    "within_limits": FLAG, "has_topology": FLAG,
    # a network given as an object, not a file (feederopt.cases.IN_MEMORY_KEY): check and
    # report read it, so a wrong type is named rather than read as true
    "source_in_memory": FLAG,
    "diagnosis": LIST, "literature": LIST,
}

#: The AC check's figures, which :meth:`~feederopt.results.result.AcCheck.from_dict` reads
#: as floats (null as NaN).
AC_CHECK_FIGURES = ("losses_kw", "min_voltage_pu", "max_voltage_pu", "max_voltage_diff_pu",
                    "relaxation_gap", "reactive_relaxation_gap", "losses_diff_pct",
                    "max_loading_percent")

#: The same as :data:`FIELDS` for the keys of ``ac_check`` that
#: :meth:`~feederopt.results.result.AcCheck.from_dict` converts; ``converged`` is required.
AC_CHECK_FIELDS: dict[str, Shape] = {
    "converged": FLAG, "exact": FLAG,
    **dict.fromkeys(AC_CHECK_FIGURES, NUMBER), "loading_limit_percent": NUMBER,
    "warnings": TEXTS, "message": TEXT, "within_limits": FLAG,
    "limit_violations": OBJECTS, "broken_within_tolerance": OBJECTS,
    "max_loading_element": TEXT, "model_fidelity": OBJECT,
}


def _shown(value: Any) -> str:
    """A scalar by its repr with its type (``'abc' (a str)``), anything else by its type."""
    kind = type(value).__name__
    article = "an" if kind[:1] in "aeiou" else "a"
    if isinstance(value, str | int | float | bool):
        text = repr(value)
        return f"{text[:57] + '...' if len(text) > 60 else text} ({article} {kind})"
    return f"{article} {kind}"


def solve_document_problems(doc: Mapping[str, Any], where: str | None = None) -> list[Problem]:
    """Every problem of ``doc``'s shape as a balanced solve's result (empty when
    :meth:`~feederopt.results.result.Result.from_dict` can read it): a required key missing
    (:data:`REQUIRED`), an unknown status, a value of a key in :data:`FIELDS` or
    :data:`AC_CHECK_FIELDS` that does not have its :class:`Shape`, a table that is none.
    ``where``: the file it was read from, named in each problem."""
    ids = () if where is None else (str(where),)
    out: list[Problem] = []

    def bad(name: str, message: str, hint: str) -> None:
        out.append(Problem(ProblemKind.INVALID_VALUE, "result", message, ids, name, hint))

    def check(fields: Mapping[str, Shape], data: Mapping[str, Any], prefix: str) -> None:
        for key, shape in fields.items():
            value = data.get(key)
            name = prefix + key
            if value is not None and not shape.ok(value) and name not in REQUIRED:
                bad(name, f"{name} must be {shape.what}, not {_shown(value)}", shape.hint)

    for name, what in REQUIRED.items():
        value = doc.get(name)
        if value is None:
            bad(name, f"the result has no {name}" + (" (null)" if name in doc else ""),
                f"a solve's result records {name}: {what}")
        elif not isinstance(value, str):  # before the status's look-up: [1] is unhashable
            bad(name, f"{name} must be a string, not {_shown(value)}", f"{name} is {what}")
        elif name == "status" and value not in {s.value for s in Status}:
            bad(name, f"unknown status {_shown(value)}", f"status is {what}")
    check(FIELDS, doc, "")
    ac = doc.get("ac_check")
    if isinstance(ac, Mapping):
        if ac.get("converged") is None:
            bad("ac_check.converged", "ac_check has no converged",
                "ac_check records converged: true or false")
        check(AC_CHECK_FIELDS, ac, "ac_check.")
    _table_problems(doc.get("tables"), bad)
    return out


def _table_problems(tables: Any, bad: Callable[[str, str, str], None]) -> None:
    """The problems of a document's ``tables``: an object of name -> ``{"columns": {...},
    "rows": [...]}`` (:func:`~feederopt.results.result.table_to_dict`); reported by ``bad``."""
    if tables is None:
        return
    example = 'as to_dict(tables=True) writes it: {"buses": {"columns": {...}, "rows": [...]}}'
    if not isinstance(tables, Mapping):
        bad("tables", f"tables must be an object of tables, not {_shown(tables)}", example)
        return
    for name, table in tables.items():
        ok = (isinstance(table, Mapping)
              and isinstance(table.get("columns") or {}, Mapping)
              and isinstance(table.get("rows") or [], list)
              and all(isinstance(r, Mapping) for r in table.get("rows") or []))
        if not ok:
            bad(f"tables.{name}", f"tables.{name} must be a table (an object with columns and "
                f"rows), not {_shown(table)}", example)


def _is_id(v: Any) -> bool:
    return isinstance(v, str | int) and not isinstance(v, bool)


_AS_SCHEDULED = "leave the field as the schedule wrote it, or leave it out"
#: Per hour of a schedule, one value per device: ``{"ESS1": [1, 0, ...], ...}``.
_HOURLY = Shape(lambda v: isinstance(v, Mapping) and all(
    isinstance(row, list) and all(is_real(x) for x in row) for row in v.values()),
    "an object of id -> a list of one number per hour", _AS_SCHEDULED)

#: Every key of a schedule's document (``feederopt schedule --json/--out``,
#: :meth:`~feederopt.results.schedule.ScheduleResult.to_dict`) that ``feederopt check`` or
#: ``feederopt report`` reads, with what it must hold (null allowed but for the keys
#: :func:`schedule_document_problems` is told are required). Before, a hand-edited
#: ``open_lines_by_hour``, ``ess_discharge_mode``, ``inputs`` or ``sample_check`` stopped
#: check with ``KeyError``, ``IndexError`` or ``TypeError`` (exit 1, a traceback with
#: --verbose), and report with "result.json is not a schedule result (AttributeError: 'str'
#: object has no attribute 'get')", naming no field.
def _scheduled(shape: Shape) -> Shape:
    """``shape`` with its hint for a schedule's result (the schedule, not the solve)."""
    return Shape(shape.ok, shape.what, shape.hint.replace("the solve", "the schedule"))


SCHEDULE_FIELDS: dict[str, Shape] = {
    **{k: _scheduled(TEXT) for k in ("case", "method", "status", "series_realisation")},
    "hours": Shape(lambda v: is_whole(v) and v >= 1, "a whole number of hours >= 1",
                   "the schedule's horizon, e.g. 24"),
    **{k: _scheduled(NUMBER) for k in ("objective", "first_stage_cost")},
    "gap": _scheduled(GAP), "lower_bound": _scheduled(BOUND), "run_time_s": _scheduled(SECONDS),
    "settings": Shape(OBJECT.ok, "an object", _AS_SCHEDULED),
    "inputs": Shape(OBJECT.ok, "an object", _AS_SCHEDULED),
    **{k: _scheduled(OBJECT) for k in ("nominal", "worst", "worst_case", "series",
                                       "sample_check", "ess_limits_mwh", "base")},
    "open_lines": Shape(lambda v: isinstance(v, list) and all(_is_id(x) for x in v),
                        "a list of branch ids", 'as the schedule writes it, e.g. ["7", "9"]'),
    "open_lines_by_hour": Shape(
        lambda v: isinstance(v, list) and all(
            isinstance(row, list) and all(_is_id(x) for x in row) for row in v),
        "a list of one list of branch ids per hour",
        'as the schedule writes it, e.g. [["7", "9"], ["7", "9"], ...]: one list per hour'),
    **{k: _scheduled(LIST) for k in ("open_branches", "open_branches_by_hour", "violations")},
    **{k: _scheduled(OBJECTS) for k in ("iterations", "ac_check")},
    "notes": _scheduled(TEXTS),
    "ess_discharge_mode": _HOURLY, "dg_commitment": _HOURLY,
    "within_limits": _scheduled(FLAG), "ac_within_limits": _scheduled(FLAG),
}

#: The keys of a schedule's ``inputs`` and ``sample_check`` that check and report read.
SCHEDULE_INNER_FIELDS: dict[str, Shape] = {
    **{f"inputs.{k}": _scheduled(TEXT) for k in ("source", "profiles", "devices")},
    "sample_check.samples": Shape(lambda v: is_whole(v) and v >= 1, "a whole number >= 1",
                                  _AS_SCHEDULED),
    "sample_check.served": Shape(lambda v: is_whole(v) and v >= 0, "a whole number >= 0",
                                 _AS_SCHEDULED),
    "sample_check.served_pct": _scheduled(NUMBER),
}


def _shown_hours(value: Any) -> str:
    """An ``open_lines_by_hour`` that is no list of lists of ids, by its first wrong hour:
    ``a list whose hour 0 is None`` (``_shown`` alone says "not a list", which it is)."""
    if isinstance(value, list):
        for h, row in enumerate(value):
            if not (isinstance(row, list) and all(_is_id(x) for x in row)):
                return f"a list whose hour {h} is {row!r:.60}"
    return _shown(value)


def schedule_document_problems(doc: Mapping[str, Any], where: str | None = None, *,
                               required: tuple[str, ...] = ()) -> list[Problem]:
    """Every problem of ``doc``'s shape as a schedule's result: a key of ``required`` missing
    (``feederopt check`` needs ``settings`` and ``open_lines_by_hour``), a value of a key in
    :data:`SCHEDULE_FIELDS` or :data:`SCHEDULE_INNER_FIELDS` that does not have its
    :class:`Shape`, and an ``ess_discharge_mode`` or ``dg_commitment`` row whose hours are
    not those of ``open_lines_by_hour``. Each problem names the field and ``where``, the file
    it was read from."""
    ids = () if where is None else (str(where),)
    out: list[Problem] = []

    def bad(name: str, message: str, hint: str) -> None:
        out.append(Problem(ProblemKind.INVALID_VALUE, "result", message, ids, name, hint))

    for name in required:
        if doc.get(name) is None:
            shape = SCHEDULE_FIELDS[name]
            bad(name, f"the schedule result has no {name}" + (" (null)" if name in doc else ""),
                f"a schedule's result records {name}: {shape.what}; {shape.hint}")
    for name, shape in SCHEDULE_FIELDS.items():
        value = doc.get(name)
        if value is not None and not shape.ok(value):
            shown = _shown_hours(value) if name == "open_lines_by_hour" else _shown(value)
            bad(name, f"{name} must be {shape.what}, not {shown}", shape.hint)
    for name, shape in SCHEDULE_INNER_FIELDS.items():
        outer, _, key = name.partition(".")
        inner = doc.get(outer)
        value = inner.get(key) if isinstance(inner, Mapping) else None
        if value is not None and not shape.ok(value):
            bad(name, f"{name} must be {shape.what}, not {_shown(value)}", shape.hint)
    sample_check = doc.get("sample_check")
    if isinstance(sample_check, Mapping) and (
            sample_check.get("samples") is None
            or (sample_check.get("served") is None and sample_check.get("served_pct") is None)):
        bad("sample_check", "sample_check must record samples and served (the realisations "
            "drawn and those served without slack)", _AS_SCHEDULED)
    by_hour = doc.get("open_lines_by_hour")
    if isinstance(by_hour, list):
        for name in ("ess_discharge_mode", "dg_commitment"):
            rows = doc.get(name)
            if not _HOURLY.ok(rows) or rows is None:
                continue
            short = [(str(i), len(row)) for i, row in rows.items() if len(row) != len(by_hour)]
            if short:
                bad(name, f"{name} has not one value per hour of open_lines_by_hour "
                    f"({len(by_hour)}) for " + ", ".join(f"{i} ({n})" for i, n in short[:5])
                    + (" ..." if len(short) > 5 else ""), _AS_SCHEDULED)
    return out


__all__ = ["AC_CHECK_FIELDS", "AC_CHECK_FIGURES", "FIELDS", "SCHEDULE_FIELDS", "Shape",
           "schedule_document_problems", "solve_document_problems"]
