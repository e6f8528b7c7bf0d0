"""The shape of a balanced solve's JSON document, checked before it is read back.

:meth:`feederopt.results.result.Result.from_dict` (and :func:`feederopt.load_result`, which
reads a file into it) reads ``case``, ``method`` and ``status`` as required and the figures,
lists and tables as optional; a document edited by hand or cut short leaked ``KeyError:
'status'``, ``ValueError: 'great' is not a valid Status``, ``could not convert string to
float: 'abc'`` or ``AttributeError: 'str' object has no attribute 'get'`` (user test
ut41_pyapi #2). :func:`solve_document_problems` lists every such problem at once, each
naming the field (and the file, when there is one), with the valid values of an enum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from feederopt.errors import Problem, ProblemKind
from feederopt.scalars import is_real, is_whole
from feederopt.solvers.status import Status

#: The keys a solve's document must have, each with what it holds (the hint of a missing one).
REQUIRED = {
    "case": 'the name of the case solved, e.g. "case33bw"',
    "method": 'the method it was solved with, e.g. "benders"',
    "status": "one of " + ", ".join(s.value for s in Status),
}

#: The figures: a number or null (NaN); ``lower_bound`` may be ``"-inf"`` too
#: (:func:`~feederopt.results.result.bound_value`).
NUMBERS = ("objective", "losses_kw", "gap", "solve_time_s", "min_voltage_pu",
           "max_voltage_pu")

#: The lists of objects: each entry a JSON object.
OBJECT_LISTS = ("open_branches", "out_of_service_branches", "iteration_log", "generators")

#: The objects whose values are figures.
FIGURE_MAPS = ("timings", "engine_stats")


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
    (:data:`REQUIRED`), an unknown status, a figure that is no number, a list or table that is
    not one. ``where``: the file it was read from, named in each problem."""
    ids = () if where is None else (str(where),)
    out: list[Problem] = []

    def bad(name: str, message: str, hint: str) -> None:
        out.append(Problem(ProblemKind.INVALID_VALUE, "result", message, ids, name, hint))

    for name, what in REQUIRED.items():
        value = doc.get(name)
        if value is None:
            bad(name, f"the result has no {name}" + (" (null)" if name in doc else ""),
                f"a solve's result records {name}: {what}")
        elif name == "status" and value not in {s.value for s in Status}:
            bad(name, f"unknown status {_shown(value)}", f"status is {what}")
        elif not isinstance(value, str):
            bad(name, f"{name} must be a string, not {_shown(value)}", f"{name} is {what}")
    for name in NUMBERS:
        value = doc.get(name)
        if value is not None and not is_real(value):
            bad(name, f"{name} must be a number or null, not {_shown(value)}",
                "leave the figure as the solve wrote it (null where there is none)")
    iterations = doc.get("iterations")
    if iterations is not None and not is_whole(iterations):
        bad("iterations", f"iterations must be a whole number, not {_shown(iterations)}",
            "the number of iterations the solve ran, e.g. 12")
    for name in OBJECT_LISTS:
        value = doc.get(name)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, Mapping) for v in value)):
            bad(name, f"{name} must be a list of objects, not {_shown(value)}",
                'as a solve writes it, e.g. [{"id": "7", ...}]' if "branches" in name
                else "as the solve wrote it")
    for name in FIGURE_MAPS:
        value = doc.get(name)
        if value is not None and not (isinstance(value, Mapping) and all(
                v is None or is_real(v) for v in value.values())):
            bad(name, f"{name} must be an object of figures, not {_shown(value)}",
                "as the solve wrote it, or leave it out")
    for name in ("base", "ac_check"):
        value = doc.get(name)
        if value is not None and not isinstance(value, Mapping):
            bad(name, f"{name} must be an object or null, not {_shown(value)}",
                "as the solve wrote it, or leave it out")
    ac = doc.get("ac_check")
    if isinstance(ac, Mapping) and "converged" not in ac:
        bad("ac_check", "ac_check has no converged", "ac_check records converged: true or "
            "false")
    for name in ("diagnosis", "literature"):
        value = doc.get(name)
        if value is not None and not isinstance(value, list):
            bad(name, f"{name} must be a list, not {_shown(value)}",
                "as the solve wrote it, or leave it out")
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


__all__ = ["solve_document_problems"]
