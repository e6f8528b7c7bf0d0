"""Id columns given as floating-point numbers: read as the whole numbers' text, with a note.

Ids are text (:mod:`feederopt.network.schemas`). pandas makes an integer column with a missing
value float (after a merge that left a gap, or ``reindex``): bus 7 becomes 7.0, which as text
is ``"7.0"``, no bus's id ``"7"``. Such a column is read as the whole numbers' text, 7.0 as
``"7"``, with a note naming the table and the column, so that it matches the ``"7"`` of the
other tables: a column of a floating-point type (a Parquet file's, or a table in memory), and
in a CSV file a column whose every value is a whole number written with a decimal point
(``7.0``, as pandas writes a float column). A floating-point id that is not a whole number
(``1.5``, or infinite) is refused: a typed ``invalid_value`` problem naming the table, the
column and the ids, with how to store them as text. The bus ids are one set across the tables
(``buses.id``, ``branches.from_bus``/``to_bus`` and the ``bus`` columns): where another of those
columns holds such text as its own (``"7.0"`` as a string), none of them is read as a whole
number, so ids that match as written keep matching. A float NaN is a missing id (pandas'
missing value), as an empty cell.

One rule for every way a table is given: :meth:`feederopt.network.container.Network.
from_tables` (a table in memory, :meth:`~feederopt.network.container.Network.replace` too) and
the folder reader (:func:`feederopt.io.folder.read_folder`, which names its CSV tables) apply
:func:`float_ids` alike (user test ut36_api #3: the folder read 7.0 as ``"7"``, the same tables
in memory were refused as ``unknown_bus 7.0``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

import polars as pl

from feederopt.errors import Problem, ProblemKind

#: The id columns of each table (text in the schema).
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "buses": ("id",), "branches": ("id", "from_bus", "to_bus"), "loads": ("id", "bus"),
    "generators": ("id", "bus"), "shunts": ("id", "bus")}
#: The columns that hold bus ids: one set of ids across the tables.
BUS_ID_COLUMNS = frozenset({("buses", "id"), ("branches", "from_bus"), ("branches", "to_bus"),
                            ("loads", "bus"), ("generators", "bus"), ("shunts", "bus")})
#: A whole number written with a decimal point, as pandas writes a float column (``7.0``).
WHOLE_DECIMAL = re.compile(r"^[+-]?(0|[1-9][0-9]*)\.0+$")


def shown(values: list[Any], most: int = 5) -> str:
    """The first ``most`` of ``values``, comma-separated, `` ...`` where there are more."""
    return ", ".join(str(v) for v in values[:most]) + (" ..." if len(values) > most else "")


def _row_ids(df: pl.DataFrame, mask: list[bool]) -> tuple[str, ...]:
    """The ids of the rows in ``mask``; ``row N`` where a row has none (or the table no id
    column that reads as text)."""
    try:
        ids = df["id"].cast(pl.String).to_list() if "id" in df.columns else None
    except pl.exceptions.PolarsError:  # a list or struct column: no id of its own
        ids = None
    return tuple(ids[i] if ids is not None and ids[i] is not None else f"row {i + 1}"
                 for i, m in enumerate(mask) if m)


def float_ids(tables: Mapping[str, pl.DataFrame | None], csv_tables: Collection[str] = ()
              ) -> tuple[dict[tuple[str, str], pl.Series], list[str], list[Problem]]:
    """The id columns of ``tables`` given as floating-point numbers (see the module
    docstring): the text to read each one as, by ``(table, column)``; a note for each; and a
    problem for each floating-point column whose numbers are not all whole (or finite).
    ``csv_tables`` names the tables read from CSV files, whose text ``7.0`` is a float column
    as pandas writes it. Nothing to do (the common case: text ids) costs one pass over the
    columns' types."""
    present = {name: df for name, df in tables.items() if df is not None and name in ID_COLUMNS}
    if not any(df[c].dtype.is_float() or (name in csv_tables and df[c].dtype == pl.String)
               for name, df in present.items() for c in ID_COLUMNS[name] if c in df.columns):
        return {}, [], []
    floats: dict[tuple[str, str], list[float | None]] = {}  # floating-point, whole numbers
    decimals: dict[tuple[str, str], list[str | None]] = {}  # CSV, ``7.0`` text
    literal: set[object] = set()  # the id sets where some column holds ``7.0`` as text
    problems: list[Problem] = []
    for name, df in present.items():
        for col in ID_COLUMNS[name]:
            if col not in df.columns:
                continue
            key = (name, col)
            group: object = "bus" if key in BUS_ID_COLUMNS else key
            s = df[col]
            if s.dtype.is_float():
                vals = [None if v is None or math.isnan(v) else float(v) for v in s.to_list()]
                bad = [v is not None and not (math.isfinite(v) and v == round(v)) for v in vals]
                if any(bad):
                    given = [f"{v:g}" for v, b in zip(vals, bad, strict=True)
                             if b and v is not None]
                    problems.append(Problem(
                        ProblemKind.INVALID_VALUE, name,
                        f"the ids are stored as floating-point numbers and {len(given)} of "
                        f"them {'is' if len(given) == 1 else 'are'} not a whole number "
                        f"({shown(given)}); ids are text",
                        ids=_row_ids(df, bad), field=col,
                        hint=f"store {name}.{col} as text (in pandas: df['{col}'] = "
                        f"df['{col}'].astype(str); whole-number ids as "
                        f".astype('Int64').astype(str))"))
                elif any(v is not None for v in vals):
                    floats[key] = vals
            elif s.dtype == pl.String:
                text = [None if v is None or not v.strip() else v.strip() for v in s.to_list()]
                given_text = [t for t in text if t is not None]
                whole = [bool(WHOLE_DECIMAL.match(t)) for t in given_text]
                if given_text and all(whole) and name in csv_tables:
                    decimals[key] = text
                elif any(whole):
                    literal.add(group)
    converted: dict[tuple[str, str], pl.Series] = {}
    notes: list[str] = []
    for key, vals in floats.items():
        if ("bus" if key in BUS_ID_COLUMNS else key) in literal:
            continue
        out = [None if v is None else str(int(v)) for v in vals]
        converted[key] = pl.Series(key[1], out, dtype=pl.String)
        pairs = [(f"{v:.1f}", t) for v, t in zip(vals, out, strict=True) if v is not None]
        notes.append(
            f"{key[0]}.{key[1]}: the ids are stored as floating-point numbers "
            f"({shown([a for a, _ in pairs], 3)}) and were read as whole numbers "
            f"({shown([b for _, b in pairs], 3)}); pandas stores an integer column with a "
            f"missing value as floats: store the ids as text or integers "
            f"(df['{key[1]}'].astype('Int64')) to keep them as written")
    for key, texts in decimals.items():
        if ("bus" if key in BUS_ID_COLUMNS else key) in literal:
            continue
        out = [None if t is None else str(int(t.split(".")[0])) for t in texts]
        converted[key] = pl.Series(key[1], out, dtype=pl.String)
        pairs = [(t, o) for t, o in zip(texts, out, strict=True) if t is not None]
        notes.append(
            f"{key[0]}.{key[1]}: every id is a whole number written with a decimal point "
            f"({shown([a for a, _ in pairs], 3)}), as pandas writes a float column; they were "
            f"read as whole numbers ({shown([b for _, b in pairs], 3)}): write the ids as "
            "text or integers to keep them as written")
    return converted, notes, problems
