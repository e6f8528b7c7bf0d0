"""Tables handed to the API in memory: a polars DataFrame as it is, a pandas DataFrame
converted (``pl.from_pandas``); any other value is refused by its type, never by its repr.

A refused value is named by its type (:func:`type_text`: "a pandas DataFrame", "a list"; a
scalar also by its short repr, :func:`value_text`), never by the repr of a table, which is the
table (user test ut35: a pandas frame of 56 scenario rows, refused as ``scenarios=``, made a
3,814-character message of 57 lines).
"""

from __future__ import annotations

import math
import os
from typing import Any

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind


def type_text(value: Any) -> str:
    """The type of ``value`` with its article, the package named when it is not Python's own:
    ``a list``, ``an int``, ``a pandas DataFrame``, ``a numpy ndarray``."""
    kind = type(value)
    package = kind.__module__.split(".")[0]
    name = kind.__name__ if package == "builtins" else f"{package} {kind.__name__}"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


#: The longest repr of a value that a message shows; a longer one is cut.
SHOWN_REPR_CHARS = 60


def value_text(value: Any, *, typed: bool = True) -> str:
    """A given value as a message shows it. Only a scalar shows its repr (``'5'``, so that
    text is not read as the number 5), cut at :data:`SHOWN_REPR_CHARS`, with its type when it
    is no number or ``typed`` (``'5' (a str)``, ``5 (an int)``); any other value (a table, a
    list, a function) is named by its type alone (:func:`type_text`)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not typed and (number or value is None):
        return repr(value)
    if not isinstance(value, str | bytes | int | float | bool):
        return type_text(value)
    text = repr(value)
    if len(text) > SHOWN_REPR_CHARS:
        text = text[: SHOWN_REPR_CHARS - 3] + "..."
    return f"{text} ({type_text(value)})"


def is_pandas_frame(value: Any) -> bool:
    """A pandas DataFrame (pandas is not imported for the test)."""
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] == "pandas"


def is_frame(value: Any) -> bool:
    """A table in memory that :func:`as_polars` takes: a polars or a pandas DataFrame."""
    return isinstance(value, pl.DataFrame) or is_pandas_frame(value)


def _object_columns_as_text(df: Any) -> Any:
    """A copy of the pandas frame ``df`` whose object columns hold text (missing values stay
    missing): a column of ids mixing numbers and text (``7``, ``"load:5"``) has no Arrow
    type, and the readers read ids as text anyway."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = [None if v is None or (isinstance(v, float) and math.isnan(v))
                           else str(v) for v in out[column]]
    return out


def as_polars(value: Any, option: str) -> pl.DataFrame:
    """The polars DataFrame of ``value`` (:func:`is_frame`): a polars one as it is, a pandas
    one by ``pl.from_pandas`` (its index dropped; object columns of mixed types as text). A
    pandas frame that does not convert is an :class:`InputError` naming ``option``."""
    if isinstance(value, pl.DataFrame):
        return value
    if not is_pandas_frame(value):
        raise InputError([table_problem(value, option, "a polars or pandas DataFrame")])
    try:
        try:
            return pl.from_pandas(value)
        except Exception:  # Arrow's errors: retried with text columns
            return pl.from_pandas(_object_columns_as_text(value))
    except Exception as exc:  # any failure is the table's, reported typed
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "options",
            f"the pandas DataFrame given as {option} does not convert to a polars one "
            f"({type(exc).__name__}{': ' + reason if reason else ''})", field=option,
            hint="give column names as text and one type per column, or pass "
            "pl.from_pandas(df) yourself")]) from None


def table_problem(value: Any, option: str, accepted: str, hint: str = "") -> Problem:
    """The problem of a value that is not one of the ``accepted`` kinds of table (or path) for
    ``option``, naming its type (:func:`value_text`: a scalar with its short repr)."""
    return Problem(ProblemKind.INVALID_VALUE, "options",
                   f"{option} must be {accepted}, not {value_text(value)}", field=option,
                   hint=hint)


def source_problems(value: Any, option: str, accepted: str, hint: str = "", *,
                    frames: bool = True) -> list[Problem]:
    """The problem of an argument that takes a path (or, with ``frames``, a table in memory:
    :func:`is_frame`) when ``value`` is neither (:func:`table_problem`: its type, never its
    value); empty when it is one, or None (not given)."""
    if value is None or isinstance(value, str | os.PathLike) or (frames and is_frame(value)):
        return []
    return [table_problem(value, option, accepted, hint)]
