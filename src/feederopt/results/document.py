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


__all__ = ["AC_CHECK_FIELDS", "AC_CHECK_FIGURES", "FIELDS", "Shape", "solve_document_problems"]
