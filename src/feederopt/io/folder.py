"""feederopt's own format: a folder with one Parquet or CSV file per table and a ``meta.json``.

::

    my_feeder/
        buses.parquet       (or buses.csv)       required
        branches.parquet    (or branches.csv)    required
        loads.parquet       (or loads.csv)       optional, like the tables below
        generators.parquet
        shunts.parquet
        meta.json           {"name": ..., "integer_ids": ..., "meta": {...}}  optional

Each table is one file, Parquet or CSV; a table given in both formats is refused (a typed
problem naming both files), since it is not clear which one the user means. Any other ``.csv``
or ``.parquet`` file in the folder (``lines.csv``, a scenario file kept beside the network), or
broken link so named, is not read, with a note (``meta["warnings"]``) naming it, the table its
name looks like (:func:`likely_table`: ``lines.csv`` the branches, ``loads_2030.csv`` the loads)
with the file that table is read from, and the tables read. A table that is
missing while a file's name nearly is the table's (:func:`near_table_files`: ``load.csv``,
``Loads.csv``, ``loads.CSV``, ``lods.csv``, ``loads.xlsx``, ``lines.csv`` for the branches; for
the required buses and branches also ``branch_data.csv``), or a broken link so named, is
refused, a typed ``unreadable_file`` problem naming the file and the name it must have: read
without it, a folder whose loads file was ``load.csv`` was a feeder without load, "optimal" at
0 kW with exit 0 (user test ut35_errs #2), and so was one whose ``lods.csv`` was a dangling
link. Other files (``README.md``, ``meta.json``, a scenario or profile
table) are no table's near miss. A table's name (or ``meta.json``) that is in the folder but is
no file that can be read (a broken link, a folder, a file that may not be read) is refused too,
a typed ``unreadable_file`` problem naming the file and why (:func:`not_a_readable_file`): read
as "no such table", a dangling ``loads.csv`` link was a feeder without load, "optimal" at 0 kW
with exit 0 (user test ut42_badin #1). A link to a readable file is read.
The columns are those of :mod:`feederopt.network.schemas` (SI units, the unit in each name);
optional columns may be left out and take their defaults; extra columns are kept, and reported
as warnings (with the nearest known column, see :func:`feederopt.network.validate.unknown_columns`)
unless an importer writes them. In CSV, an empty cell is a missing value and booleans are
``true``/``false`` (or 1/0); an empty cell of a numeric column with a default (``b_us``,
``tap_ratio``, ``priority``) is that default, with a note per column naming the table, the
column and the rows (:func:`empty_default_notes`; :func:`write_folder` writes the defaults
out); a row whose every field is empty (a blank line) is skipped, and a
row without an id is a typed problem naming its file line (``line 9``). A value that is not
of its column's type is a typed problem naming the table, the column and the row ids, raised
with every other problem of the folder. So is a Parquet column of a type that holds more than one
value in a cell (a list or fixed-size array, ``loads.p_mw`` written as ``[p, q]``; a struct; a
Python object), in any column, ids included, and one whose values have no text of their own
(durations, bytes that are not UTF-8): polars casts none of them to text, and the cast failed as
"InvalidOperationError: cannot cast List type", naming no table (user test ut35_errs #1). Bytes
that are UTF-8 (a Parquet string column written without its string annotation) are read as that
text.

Ids are text (:mod:`feederopt.network.schemas`). An id column that pandas wrote as floating-point
numbers (it makes an integer column with a missing value float: bus 7 is saved as 7.0) is read
as the whole numbers' text, 7.0 as ``"7"``, with a note (``meta["warnings"]``) naming the table
and the column, by the rule that tables given in memory follow too
(:mod:`feederopt.network.float_ids`): in Parquet a column of a floating-point type, in CSV a
column whose every value is a whole number written with a decimal point (``7.0``); a
floating-point Parquet id that is not a whole number is refused. In CSV, ``1.5`` is text like
any other id.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, option_ref, warn_user
from feederopt.io._common import (
    is_broken_link,
    missing,
    not_a_readable_file,
    not_csv_text,
    raise_with_validation,
    read_user_parquet,
    result_document,
    result_not_network,
    unreadable,
)
from feederopt.io.parallel import merge_parallel_table
from feederopt.io.writing import atomic_file, write_text
from feederopt.network.container import APPROXIMATIONS_KEY, READ_NOTES_KEY, Network
from feederopt.network.float_ids import BUS_ID_COLUMNS, ID_COLUMNS, float_ids
from feederopt.network.float_ids import shown as _shown
from feederopt.network.per_km import from_per_km
from feederopt.network.schemas import (
    SET_POINT_RANGES,
    TABLES,
    null_is_refused,
    polars_schema,
    without_limits,
)
from feederopt.network.validate import without_placeholder_ratings

FORMAT_VERSION = 1
_REQUIRED = ("buses", "branches")


def is_network_folder(path: Path) -> bool:
    """Does ``path`` look like a network folder (it holds an entry named as a buses table,
    readable or not: :func:`read_folder` names one that cannot be read)?"""
    return path.is_dir() and any(os.path.lexists(path / f"buses{ext}")
                                 for ext in (".parquet", ".csv"))


def network_folder_given_as_result(path: str | Path, command: str) -> list[Problem]:
    """A problem when ``path``, given to ``command`` as a result, is a network folder (a
    buses table, no result.json): ``feederopt check FOLDER`` said only "cannot read
    FOLDER/result.json: no such file" (user test ut44_gis)."""
    folder = Path(path)
    if not is_network_folder(folder) or os.path.lexists(folder / "result.json"):
        return []
    return [Problem(
        ProblemKind.UNREADABLE_FILE, "file",
        f"{folder} is a network folder (it holds a buses table), not a result: `feederopt "
        f"{command}` takes a result file", ids=(str(folder),),
        hint=f"solve it first (feederopt solve {folder} --json result.json, or --out DIR) and "
        f"give feederopt {command} that result; `feederopt info {folder}` describes the "
        "network")]


def entry_problems(path: Path, names: dict[str, str]) -> list[Problem]:
    """An ``unreadable_file`` problem on the component ``names[name]`` for each file name of
    ``names`` in the folder ``path`` that exists as an entry but cannot be read as a file
    (:func:`not_a_readable_file`): it is refused, not read as if the file were not there."""
    problems = []
    for name, component in names.items():
        entry = path / name
        if not os.path.lexists(entry):
            continue
        why = not_a_readable_file(entry)
        if why is not None:
            problems.append(Problem(
                ProblemKind.UNREADABLE_FILE, component, f"cannot read '{entry}': {why}",
                ids=(str(entry),),
                hint=f"make {name} the file itself (or a link to one that exists and can be "
                "read), or remove it"))
    return problems


def _read_raw(path: Path, name: str, notes: list[str] | None = None
              ) -> tuple[pl.DataFrame, list[str]]:
    """A table's file as stored: Parquet with its own dtypes, CSV with the schema's columns
    as text (:func:`_read_table` parses them); and where each row is in the file (``line 5``
    of a CSV, ``row 3`` of a Parquet table), to name a row that has no id.

    A CSV row whose every field is empty (or blank) is no row: a blank line, which editors
    and a trailing newline leave, or ``,,,``; pandas skips it too (``skip_blank_lines``).
    polars reads it as a row of nulls, which was refused as "loads [None].id: 1 row(s) have
    no value" (user test ut_io #3).

    A CSV is read as UTF-8 (a byte order mark allowed), else as Windows-1252 (cp1252, Excel's
    "CSV" on Windows, a superset of Latin-1's printable characters) with a note in ``notes``
    (user test ut44_gis #18), as the MATPOWER reader reads Latin-1. A record with more fields
    than the header is refused naming the file and its lines, with the hint that an unquoted
    decimal comma splits a number (ut44_gis #49, #50); a column whose header field is empty
    and whose cells are all empty (a trailing comma on every line, #51) is no column."""
    schema = polars_schema(TABLES[name])
    try:
        if path.suffix == ".parquet":
            df = read_user_parquet(path)
            return df, [f"row {i + 1}" for i in range(df.height)]
        not_csv_text(path)
        text = _csv_text(path, notes)
        records = _csv_records(text)
        header = [c.strip() for c in records[0][1]] if records else []
        # a European spreadsheet export (';') or a tab-separated one: one column, whose
        # name then read as a missing id and an unknown column (user test ut_edge #5)
        held = [n for sep, n in ((";", "';'"), ("\t", "tabs")) if len(header) == 1
                and sep in header[0]]
        if held:
            raise unreadable(path, f"the header is one column holding {' and '.join(held)} "
                             f"({header[0][:60]!r}): the file must be comma-delimited",
                             hint="feederopt reads comma-separated CSV with a decimal point: "
                             "save the table as CSV (comma delimited), UTF-8")
        _too_many_fields(path, records)
        _too_few_fields(path, records, name)
        _duplicate_columns(path, name)
        blank_heads = _blank_header_columns(records)
        data = _blank_wide_lines(text, records).encode("utf-8")
        columns = pl.read_csv(data, n_rows=0).columns
        as_text = {c: pl.String for c in columns if c in schema}
        df = pl.read_csv(data, schema_overrides=as_text, null_values=[""])
        if blank_heads:
            df = df.drop([df.columns[k] for k in blank_heads if k < df.width])
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "save the file as UTF-8" if "utf-8" in reason.lower() else ""
        # in the user's terms, not polars' (user test ut48_iobad #9: "NoDataError: empty
        # CSV", "ComputeError: parquet: File out of specification ...")
        if isinstance(exc, pl.exceptions.NoDataError):
            raise unreadable(path, "the file is empty: no header row, no data",
                             hint=f"write the {name} table with its header row, or remove "
                             "the file") from None
        if path.suffix == ".parquet" and isinstance(exc, pl.exceptions.PolarsError):
            raise unreadable(path, "it is not a readable Parquet file (truncated, damaged, or "
                             f"another format named .parquet; the reader says: {reason})",
                             hint=f"write the {name} table again as Parquet, or give it as "
                             f"{name}.csv") from None
        raise unreadable(path, f"{type(exc).__name__}: {reason}", hint=hint) from None
    if df.columns:
        blank = pl.all_horizontal(
            _as_text(df[c]).is_null() | (_as_text(df[c]).str.strip_chars() == "")
            for c in df.columns)
        df = df.filter(~pl.select(blank).to_series())
    lines = _record_lines(records)
    if lines is None or len(lines) != df.height:  # not the records polars read: their order
        lines = [f"data row {i + 1}" for i in range(df.height)]
    return df, lines


def _csv_text(path: Path, notes: list[str] | None) -> str:
    """The text of the CSV ``path``: UTF-8 (its byte order mark dropped), else Windows-1252
    with a note (see :func:`_read_raw`); bytes that neither reads are taken as Latin-1."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        at = exc.start
    try:
        text, codec = data.decode("cp1252"), "Windows-1252 (cp1252)"
    except UnicodeDecodeError:
        text, codec = data.decode("latin-1"), "Latin-1"
    line = data.count(b"\n", 0, at) + 1
    if notes is not None:
        notes.append(f"{path.name} is not UTF-8 (line {line}: byte 0x{data[at]:02x}): read as "
                     f"{codec}, Excel's CSV on Windows; save it as CSV UTF-8 to be sure of "
                     "its accents")
    return text


def _csv_records(text: str) -> list[tuple[int, list[str]]]:
    """The records of a CSV text with the line each starts on (a quoted field may span
    lines); empty when Python's ``csv`` cannot read it (polars then reports it)."""
    import csv
    import io

    out: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        start = 1
        for record in reader:
            out.append((start, record))
            start = reader.line_num + 1
    except csv.Error:
        return []
    return out


def _too_many_fields(path: Path, records: list[tuple[int, list[str]]]) -> None:
    """An :class:`InputError` naming the file and the lines whose records have more fields
    than its header (not counting empty fields at their ends): polars said only "found more
    fields than defined in 'Schema'" (user test ut44_gis #49, #50)."""
    if not records:
        return
    width = len(records[0][1])
    # a record whose every field is empty is no row (skipped, _blank_wide_lines), whatever
    # its width; any other with more fields than the header is refused, its extra fields
    # empty or not (user test ut48_iobad #3: a row ending in ',' got polars' "found more
    # fields than defined in 'Schema'", without file or line)
    over = [(line, r) for line, r in records[1:]
            if len(r) > width and any(c.strip() for c in r)]
    if not over:
        return
    lines = ", ".join(str(line) for line, _ in over[:10]) + (" ..." if len(over) > 10 else "")
    first_line, first = over[0]
    empty_tail = all(not c.strip() for _, r in over for c in r[width:])
    raise unreadable(
        path, f"{len(over)} line(s) have more fields than the header's {width} (line "
        f"{first_line}: {len(first)} fields" + (f"; lines {lines})" if len(over) > 1 else ")")
        + (": each ends with an empty extra field (a trailing comma)" if empty_tail else ""),
        hint="remove the comma at the end of the line" if empty_tail else
        "a number with a decimal comma (0,5) is split in two by the comma: write it with "
        "a decimal point (0.5), or quote it (\"0,5\"); else remove the extra field")


def _too_few_fields(path: Path, records: list[tuple[int, list[str]]], name: str) -> None:
    """An :class:`InputError` naming the file and the lines whose records have fewer fields
    than its header and so leave a required column of table ``name`` without its field (a
    blank line, no field, is no row): a field left out shifts the ones after it into the
    wrong columns, or leaves the last ones empty, which read as "loads [d2].q_mvar: no value
    for 'q_mvar'" by id, without the line (user test ut50_iobad #6; a line with too many
    fields is named by :func:`_too_many_fields`). A short line that leaves out optional
    columns only (a row added by hand below a written folder's wide header) is read, its
    missing fields empty, as before."""
    if not records:
        return
    header = [c.strip() for c in records[0][1]]
    width = len(header)
    model = TABLES[name].model_fields
    required = [k for k, c in enumerate(header) if c in model and model[c].is_required()]
    short = [(line, r) for line, r in records[1:]
             if r and len(r) < width and any(c.strip() for c in r)
             and any(k >= len(r) for k in required)]
    if not short:
        return
    lines = ", ".join(str(line) for line, _ in short[:10]) + (" ..." if len(short) > 10 else "")
    first_line, first = short[0]
    raise unreadable(
        path, f"{len(short)} line(s) have fewer fields than the header's {width} (line "
        f"{first_line}: {len(first)} field{'s' if len(first) != 1 else ''}, no "
        f"{', '.join(repr(c) for c in header[len(first):][:5])}"
        + (f"; lines {lines})" if len(short) > 1 else ")"),
        hint=f"give every line the header's {width} fields, in its order; an empty value is "
        "nothing between two commas (a,b,,d)")


def _blank_wide_lines(text: str, records: list[tuple[int, list[str]]]) -> str:
    """``text`` without the lines of its records whose every field is empty and that have
    more fields than the header (``,,,,`` below a shorter header): no row, as a blank line is
    none, but polars refuses the whole file for them ("found more fields than defined in
    'Schema'"; user test ut48_iobad #3)."""
    if not records:
        return text
    width = len(records[0][1])
    drop = {line for line, r in records[1:]
            if len(r) > width and not any(c.strip() for c in r)}
    if not drop:
        return text
    return "".join(ln for k, ln in enumerate(text.splitlines(keepends=True), start=1)
                   if k not in drop)


def _blank_header_columns(records: list[tuple[int, list[str]]]) -> list[int]:
    """The positions of the header's empty fields whose cells are all empty: a trailing
    comma on every line, which polars read as a column ``column_5`` ("unknown column";
    user test ut44_gis #51)."""
    if not records:
        return []
    head = records[0][1]
    return [k for k, h in enumerate(head) if not h.strip()
            and all(k >= len(r) or not r[k].strip() for _, r in records[1:])]


def _duplicate_columns(path: Path, name: str) -> None:
    """An :class:`InputError` with a ``duplicate_column`` problem for each column that the
    header of the CSV ``path`` (table ``name``) names more than once. polars renames the second
    ``r_ohm`` to ``r_ohm_duplicated_0``, which read as an unknown column beside whatever
    column the duplicate displaced ("x_ohm missing"; user test ut37_errs2 #3b)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, csv.Error):
        return  # polars reports it
    places: dict[str, list[int]] = {}
    for k, col in enumerate(header):
        places.setdefault(col.strip(), []).append(k + 1)
    twice = {col: at for col, at in places.items() if col and len(at) > 1}
    if not twice:
        return
    absent = [c for c in TABLES[name].columns if c not in places
              and TABLES[name].model_fields[c].is_required()]
    raise InputError([Problem(
        ProblemKind.DUPLICATE_COLUMN, name,
        f"duplicate column '{col}' in {path.name} (columns {', '.join(map(str, at))} of its "
        "header): it is not clear which one holds the values",
        field=col,
        hint=f"keep one '{col}' column" + (
            f"; the table has no {', '.join(absent)} column: is one of them meant to be "
            f"{absent[0]}?" if absent else " and remove or rename the others"))
        for col, at in twice.items()])


def _record_lines(records: list[tuple[int, list[str]]]) -> list[str] | None:
    """``line N`` for each record after the header (of :func:`_csv_records`) that has a field
    that is not blank (:func:`_read_raw` drops the others), N the file line that the record
    starts on; None when Python's ``csv`` could not read the file."""
    if not records:
        return None
    return [f"line {line}" for line, record in records[1:]
            if any(cell.strip() for cell in record)]


def _without_ids(name: str, df: pl.DataFrame, where: list[str], file: Path
                 ) -> tuple[pl.DataFrame, list[Problem]]:
    """``df`` without its rows that have no id (empty or blank), and a problem naming them by
    their place in ``file`` (``where``: ``line 7``), not as ``[None]``: validation would name
    each of their empty fields by the missing id."""
    if "id" not in df.columns or not df.height:
        return df, []
    text = _as_text(df["id"])
    empty = (df["id"].is_null() | (text.fill_null("x").str.strip_chars() == "")).to_list()
    if not any(empty):
        return df, []
    rows = [w for w, e in zip(where, empty, strict=True) if e]
    problem = Problem(
        ProblemKind.INVALID_VALUE, name,
        f"{len(rows)} row(s) of {file.name} have no id",
        ids=tuple(rows), field="id",
        hint="give each row an id (text, unique in the table), or remove the row")
    return df.filter(~pl.Series(empty)), [problem]


def _row_ids(df: pl.DataFrame, mask: list[bool]) -> tuple[str, ...]:
    """The ids of the rows in ``mask`` (``row N`` where the table has no id column, or one
    that holds no single id in a cell: a list column)."""
    ids = (_shown_values(df["id"]) if "id" in df.columns and not _not_one_value(df["id"].dtype)
           else [f"row {i + 1}" for i in range(df.height)])
    return tuple(str(i) for i, m in zip(ids, mask, strict=True) if m)


#: A number written with a decimal point (``2.0``, ``2.5``).
_DECIMAL = re.compile(r"^[+-]?[0-9]+\.[0-9]+$")


def decimal_references(tables: dict[str, pl.DataFrame]) -> list[Problem]:
    """A problem for each column that refers to buses by ids that no bus has and that are
    numbers with a decimal point (``2.0``, ``2.5``: a float column written by pandas, in CSV,
    or as text): the unknown-bus problem, with its likely cause and how to fix it."""
    if "buses" not in tables or "id" not in tables["buses"].columns:
        return []
    bus_ids = set(tables["buses"]["id"].cast(pl.String).to_list())
    out = []
    for name, col in sorted(BUS_ID_COLUMNS - {("buses", "id")}):
        df = tables.get(name)
        if df is None or col not in df.columns:
            continue
        vals = df[col].cast(pl.String).to_list()
        bad = [v is not None and v not in bus_ids and bool(_DECIMAL.match(v)) for v in vals]
        if not any(bad):
            continue
        bad_ids = [v for v, b in zip(vals, bad, strict=True) if b]
        whole = sorted({v.split(".")[0].lstrip("+") for v in bad_ids} & bus_ids)
        out.append(Problem(
            ProblemKind.UNKNOWN_BUS, name,
            f"refers to bus(es) {_shown(bad_ids)}, numbers with a decimal point that no bus id "
            "is (ids are text: 2.0 is not 2)"
            + (f"; buses.id has {_shown(whole)}" if whole else ""),
            ids=_row_ids(df, bad), field=col,
            hint=f"write {name}.{col} as buses.id has the ids (pandas writes an integer column "
            f"with a missing value as floats: store it with df['{col}'].astype('Int64'))"))
    return out


def _read_table(path: Path, name: str, df: pl.DataFrame | None = None,
                ) -> tuple[pl.DataFrame, list[Problem]]:
    """A table (``df``, the file as stored, or read here) with its schema's columns parsed
    to their dtypes, and a problem for each column with values that are not of its type
    (naming the table, the column and the row ids)."""
    schema = polars_schema(TABLES[name])
    if df is None:
        df = _read_raw(path, name)[0]
    problems: list[Problem] = []
    columns = []
    for col in df.columns:
        if col not in schema:
            columns.append(df[col])
            continue
        parsed, bad = _parse(df[col], schema[col])
        columns.append(parsed)
        if bad.any():
            raw = [v for v, b in zip(_shown_values(df[col], quoted=True), bad.to_list(),
                                     strict=True) if b]
            ids = _row_ids(df, bad.to_list())
            shown = ", ".join(raw[:5]) + (" ..." if len(raw) > 5 else "")
            what = _TYPE_NAMES.get(schema[col], "text")
            nested = _not_one_value(df[col].dtype)
            hint = _type_hint(name, col, schema[col], raw)
            if nested:
                hint = (f"write {name}.{col} as one {what} per row" + (
                    " (a pair such as [p, q] goes in two columns, p_mw and q_mvar)"
                    if schema[col].is_numeric() else ""))
            elif df[col].dtype == pl.Binary:  # bytes that are not UTF-8
                hint = (f"store {name}.{col} as " + ("UTF-8 text" if what == "text" else
                                                     f"{what}s") + ", not as bytes")
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    name,
                    f"{len(raw)} value(s) are not of type {what}: {shown}"
                    + (f" (the Parquet column holds {nested} of type {df[col].dtype}: a "
                       "cell holds one value)" if nested else ""),
                    ids=ids,
                    field=col,
                    hint=hint,
                )
            )
    return pl.DataFrame(columns), problems


def empty_defaults(name: str, df: pl.DataFrame, skip: set[str] | None = None
                   ) -> dict[str, tuple[Any, pl.Series]]:
    """The numeric columns of table ``name`` whose empty cells read as the schema's default
    (``branches.b_us`` 0, ``branches.tap_ratio`` 1, ``loads.priority`` 1): column -> (default,
    mask of those cells). Not the columns whose empty cell has a meaning of its own (a rating
    left empty is no limit: their default is none), nor Booleans (an empty one is refused),
    nor ``skip`` (columns with values not of their type: a problem each), nor ``v_set_pu`` of
    a bus that is no source (it holds no set-point there), nor the limits of a row that gives
    neither of a pair (:data:`~feederopt.network.schemas.SET_POINT_RANGES`: they are its
    set-point, with a note of their own, not the default 0)."""
    model = TABLES[name]
    schema, defaults = polars_schema(model), model.defaults
    by_set_point = without_limits(model, df)
    held = {col: by_set_point[point] for point, lo, hi in SET_POINT_RANGES.get(model, ())
            for col in (lo, hi)}
    out = {}
    for col in df.columns:
        default = defaults.get(col)
        if (col not in schema or not schema[col].is_numeric() or default is None
                or isinstance(default, bool) or col in (skip or ())):
            continue
        empty = df[col].is_null()
        if col == "v_set_pu" and "is_source" in df.columns:
            empty = empty & df["is_source"].fill_null(False)
        if col in held:
            empty = empty & ~held[col]
        if empty.any():
            out[col] = (default, empty)
    return out


def empty_default_notes(name: str, df: pl.DataFrame, bad: list[Problem]) -> list[str]:
    """A note for each column of :func:`empty_defaults`, naming the table, the column, the
    default and the rows: an empty cell looks like a value forgotten, and was read as the
    default without a word (nits #6)."""
    out = []
    for col, (default, empty) in empty_defaults(name, df, {p.field or "" for p in bad}).items():
        ids = _row_ids(df, empty.to_list())
        out.append(f"{name}.{col}: {len(ids)} empty cell(s) read as the default {default:g} "
                   f"({_shown(list(ids))}); fill them in where another value is meant")
    return out


_TYPE_NAMES = {pl.Float64(): "number", pl.Int64(): "integer", pl.Boolean(): "boolean"}
_TYPE_HINTS = {
    pl.Float64(): "give a number (a dot as decimal separator)",
    pl.Int64(): "give a whole number",
    pl.Boolean(): "write true or false",
}
#: A number written with a decimal comma (``'0,6'``, as a European spreadsheet saves it).
_DECIMAL_COMMA = re.compile(r"^'?[+-]?[0-9]*,[0-9]+'?$")


def _type_hint(name: str, col: str, dtype: pl.DataType, raw: list[str]) -> str:
    """The hint for the values ``raw`` (as shown, quoted) of ``name.col`` that are not of its
    type ``dtype``: what to write (with a decimal comma, the value with a dot: ``0.6, not
    '0,6'``), and that an empty cell is the other way out only where the column may be left
    empty (:func:`~feederopt.network.schemas.null_is_refused`): an empty cell of a required
    column (``loads.p_mw``) is refused in turn (user test ut37 gendef #2)."""
    hint = _TYPE_HINTS.get(dtype, "correct the value")
    comma = next((v for v in raw if _DECIMAL_COMMA.match(v)), None)
    if comma is not None and dtype.is_numeric():
        hint += f": {comma.strip(chr(39)).replace(',', '.')}, not {comma}"
    if dtype == pl.Float64() and not null_is_refused(TABLES[name], col):
        hint += "; or leave the cell empty"
    return hint
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def _not_one_value(dtype: pl.DataType) -> str | None:
    """What a Parquet column of ``dtype`` holds when a cell of it holds more than one value
    (``lists``, ``arrays``, ``structs``) or a Python object, else None."""
    if isinstance(dtype, pl.List):
        return "lists"
    if isinstance(dtype, pl.Array):
        return "fixed-size arrays"
    if isinstance(dtype, pl.Struct):
        return "structs (several fields in a cell)"
    if isinstance(dtype, pl.Object):
        return "Python objects"
    return None


def _as_text(col: pl.Series) -> pl.Series:
    """Each value of ``col`` as text, null where it is missing, whatever the column's type:
    polars casts neither lists, arrays, Python objects nor durations to text (it raises), and
    raises on bytes that are not UTF-8; such bytes are null here (:func:`_parse` counts them
    as given)."""
    dtype = col.dtype
    if dtype == pl.Binary:
        def decoded(v: bytes | None) -> str | None:
            try:
                return None if v is None else v.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return pl.Series(col.name, [decoded(v) for v in col.to_list()], dtype=pl.String)
    if (_not_one_value(dtype) and not isinstance(dtype, pl.Struct)) or isinstance(
            dtype, pl.Duration):
        return pl.Series(col.name, [None if v is None else str(v) for v in col.to_list()],
                         dtype=pl.String)
    return col.cast(pl.String)


def _shown_values(col: pl.Series, *, quoted: bool = False) -> list[str]:
    """Each value of ``col`` as a problem shows it: its text (:func:`_as_text`; in quotes
    with ``quoted``), the bytes themselves (``b'\\xff'``) where they are not UTF-8."""
    text = _as_text(col).to_list()
    return [repr(v) if t is None and v is not None else repr(t) if quoted else str(t)
            for t, v in zip(text, col.to_list(), strict=True)]


def _parse(col: pl.Series, dtype: pl.DataType) -> tuple[pl.Series, pl.Series]:
    """``col`` as ``dtype`` (null where a value cannot be read), and the mask of the values
    that were given but cannot be read."""
    if col.dtype == dtype:
        return col, pl.Series([False] * col.len(), dtype=pl.Boolean)
    given = col.is_not_null()
    if col.dtype.is_float() and dtype.is_integer():
        # polars' cast truncates: a step (or tap_steps) of 1.5 in a parquet file of floats
        # read as 1 with no word (user test ut46_dopf #2); a whole number is one, as in a
        # CSV file's text below
        nums = col.to_list()
        out = pl.Series([int(v) if v is not None and math.isfinite(v) and v == round(v)
                         else None for v in nums], dtype=pl.Int64).cast(dtype, strict=False)
    elif col.dtype.is_numeric() and dtype.is_numeric():
        out = col.cast(dtype, strict=False)
    elif _not_one_value(col.dtype):  # a list of ids is no id (nor a number, nor a boolean)
        out = pl.Series([None] * col.len(), dtype=dtype)
    else:
        text = _as_text(col).str.strip_chars()
        given = given & (text.is_null() | (text != ""))  # null: bytes that are not UTF-8
        if dtype == pl.Boolean():
            words = text.str.to_lowercase().to_list()
            out = pl.Series([True if w in _TRUE else False if w in _FALSE else None
                             for w in words], dtype=pl.Boolean)
        elif dtype == pl.Int64():
            nums = text.cast(pl.Float64, strict=False).to_list()
            out = pl.Series([int(v) if v is not None and math.isfinite(v) and v == round(v)
                             else None for v in nums], dtype=pl.Int64)
        else:
            out = text.cast(dtype, strict=False)
    out = out.alias(col.name)
    return out, (given & out.is_null()).fill_null(False)


#: File name endings that a table saved in another format, or under the wrong ending, has
#: (``loads.xlsx``, ``loads.txt``, ``loads.csv.gz``); none: a file without an ending.
_TABLE_LIKE_SUFFIXES = frozenset({"", ".csv", ".parquet", ".pq", ".parq", ".tsv", ".txt",
                                  ".dat", ".xlsx", ".xls", ".ods", ".json", ".feather",
                                  ".arrow", ".gz", ".zip"})


def _singular(name: str) -> str:
    """``buses`` -> ``bus``, ``branches`` -> ``branch``, ``loads`` -> ``load``; a name that is
    no plural is itself (``ess``, ``pv``, ``wind``: the schedule's device tables)."""
    if name.endswith(("ses", "ches")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _within_one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by at most one insertion, deletion, substitution or swap of two
    neighbouring characters (Damerau-Levenshtein distance <= 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y),
             len(short))
    return short[i:] == long[i + 1:]


#: Other words for a table's rows that its file may be named by: ``lines.csv`` (pandapower's
#: and MATPOWER's word) for the branches. A near miss like a misspelling.
TABLE_ALIASES = {"line": "branches", "lines": "branches"}


def likely_table(file_name: str, names: list[str] | tuple[str, ...], *,
                 loose: bool = False, aliases: Mapping[str, str] = TABLE_ALIASES
                 ) -> str | None:
    """The table of ``names`` that a file named ``file_name`` nearly is, or None. A near miss:
    the name before its first dot is the table's in another case, its singular (``load``)
    or plural (``evs``), one edit away (``lods``, ``laods``, ``busses``; for a name of three
    letters or more: two-letter names such as ``pv`` and ``ev`` are one edit from each
    other) or another word for it, or one edit from one (``aliases``, by default
    :data:`TABLE_ALIASES`: ``lines``; the schedule's devices: ``storage``, ``storge``). With
    ``loose``, also a name that begins with the table's name or its singular followed by
    something that is not a letter (``branch_data``, ``loads_2030``). Not
    :func:`feederopt.network.validate.nearest_name`: its closeness ratio calls ``results``
    the shunts and ``nodes`` the loads."""
    word = file_name.partition(".")[0].lower()
    if not word:
        return None
    for name in names:
        if word in (name, _singular(name), f"{name}s") or (
                len(name) >= 3 and _within_one_edit(word, name)):
            return name
    for alias, name in aliases.items():
        if name in names and (word == alias or (len(alias) >= 4
                                                and _within_one_edit(word, alias))):
            return name
    if loose:
        for name in names:
            for start in (name, _singular(name)):
                if word.startswith(start) and len(word) > len(start) \
                        and not word[len(start)].isalpha():
                    return name
    return None


def near_table_files(path: Path, names: list[str], *, loose: tuple[str, ...] = (),
                     known: Collection[str] | None = None,
                     aliases: Mapping[str, str] = TABLE_ALIASES) -> dict[str, list[Path]]:
    """The files of the folder ``path`` whose name nearly is that of one of the tables
    ``names`` without being one (:func:`likely_table` with ``aliases``; for the tables of
    ``loose`` with its ``loose`` rule), and whose ending is a table's or a data file's
    (``.csv``, ``.parquet``, ``.CSV``, ``.xlsx``, ``.txt``, none;
    :data:`_TABLE_LIKE_SUFFIXES`), by table; ``known``: the folder's file names that are read
    (by default those of a network folder's tables). A broken link so named counts: read
    around, a dangling ``lods.csv`` was a feeder without load."""
    if known is None:
        known = {f"{name}{ext}" for name in TABLES for ext in (".parquet", ".csv")}
    out: dict[str, list[Path]] = {}
    for f in sorted(path.iterdir()):
        if (f.name in known or not (f.is_file() or is_broken_link(f))
                or f.suffix.lower() not in _TABLE_LIKE_SUFFIXES):
            continue
        name = likely_table(f.name, names, aliases=aliases)
        if name is None:
            name = likely_table(f.name, [n for n in names if n in loose], loose=True,
                                aliases=aliases)
        if name is not None:
            out.setdefault(name, []).append(f)
    return out


def misnamed_problems(path: Path, missing: list[str], *, loose: tuple[str, ...] = _REQUIRED,
                      known: Collection[str] | None = None,
                      aliases: Mapping[str, str] = TABLE_ALIASES,
                      component: str = "") -> list[Problem]:
    """A problem for each table of ``missing`` (no file of its name) that a file of a near
    name (:func:`near_table_files` with ``known`` and ``aliases``; for a table of ``loose``,
    by default the required ones, also a loose one, ``branch_data``) is most likely meant to
    be; a broken link so named is said to be one. The problem's component is the table's
    name after ``component`` (``devices.`` for the schedule's device tables)."""
    problems = []
    for name, found in near_table_files(path, missing, loose=loose, known=known,
                                        aliases=aliases).items():
        shown = " and ".join(f.name for f in found)
        ext = ".parquet" if found[0].suffix.lower() in (".parquet", ".pq", ".parq") else ".csv"
        other = found[0].suffix.lower() not in (".csv", ".parquet")
        why = "; ".join(f"{f.name}: {w}" if len(found) > 1 else w for f in found
                        if (w := not_a_readable_file(f)) is not None)
        if is_broken_link(found[0]):
            hint = (f"make {name}{ext} the {name} table's file (or a link to one that exists) "
                    f"in place of {found[0].name}")
        elif other:
            hint = f"save {found[0].name} as CSV (comma delimited) named {name}.csv"
        else:
            hint = f"rename {found[0].name} to {name}{ext}"
        problems.append(Problem(
            ProblemKind.UNREADABLE_FILE, f"{component}{name}",
            f"the folder has no {name} table: it is read from {name}.csv or {name}.parquet "
            f"(lower case), and {shown} {'is' if len(found) == 1 else 'are'} not read"
            + (f" ({why})" if why else ""),
            ids=tuple(str(f) for f in found), hint=hint))
    return problems


def _unread_note(path: Path, read: dict[str, list[Path]]) -> list[str]:
    """The note on the ``.csv``/``.parquet`` entries of the folder ``path`` that are no table's
    file (``lines.csv``, a scenario table kept beside the network), broken links included:
    each named, with the table it looks like (:func:`likely_table`, loose) and the file that
    table is read from (``read``), a broken link said to be one; empty when there is none."""
    known = {f"{name}{ext}" for name in TABLES for ext in (".parquet", ".csv")}
    read_files = [f for found in read.values() for f in found]
    unknown = [f for f in sorted(path.iterdir(), key=lambda f: f.name)
               if (f.is_file() or is_broken_link(f))
               and f.suffix.lower() in (".parquet", ".csv") and f.name not in known
               and (is_broken_link(f) or not any(f.samefile(r) for r in read_files))]
    # (Loads.csv, where the file system ignores case, is the loads.csv read)
    if not unknown:
        return []
    details = []
    for f in unknown:
        why = not_a_readable_file(f)
        if why is not None:
            details.append(f"{f.name}: {why}")
        table = likely_table(f.name, list(TABLES), loose=True)
        if table is not None:
            details.append(f"{f.name} looks like the {table} table, read from "
                           f"{read[table][0].name}" if read.get(table) else
                           f"{f.name} looks like the {table} table, which the folder does not "
                           f"have (it is read from {table}.csv or {table}.parquet)")
    return [f"{', '.join(f.name for f in unknown)}: not read (a network folder's tables are "
            + ", ".join(f"{name}.csv" for name in TABLES)
            + ", or .parquet; the names are lower case)"
            + "".join(f"; {d}" for d in details)]


def _defines_circuit(file: Path) -> bool:
    """The OpenDSS file ``file`` defines the circuit (``New Circuit.x``, ``New
    object=circuit.x``): a master file."""
    import re

    try:
        with file.open(encoding="utf-8", errors="replace") as fh:
            text = fh.read(200_000).lower()
    except OSError:
        return False
    return re.search(r"^\s*new\s+(object\s*=\s*)?circuit\.", text, re.MULTILINE) is not None


def _network_header(path: Path, name: str) -> list[str] | None:
    """The column names of the folder's ``name`` table (Parquet or CSV), or None when there is
    no such table or it cannot be read."""
    try:
        if (path / f"{name}.parquet").is_file():
            return list(pl.read_parquet_schema(path / f"{name}.parquet"))
        if (path / f"{name}.csv").is_file():
            with open(path / f"{name}.csv", encoding="utf-8-sig") as file:
                return [c.strip() for c in file.readline().split(",")]
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None
    return None


def result_folder_error(path: Path) -> InputError | None:
    """The typed problem of a result folder (``solve --out DIR``: a ``result.json`` beside
    tables of the solution) given where a network is wanted, or None. Its ``buses.parquet`` made
    it look like a network folder, and ``feederopt info DIR`` said "required column 'r_ohm' is
    missing", with did-you-mean hints from the result's columns (user test ut46_iobad #3); it
    now says what ``info DIR/result.json`` says. A network folder with a ``result.json`` saved
    beside its tables (whose branches have ``r_ohm``) is read as the network it is."""
    doc = result_document(path / "result.json")
    if doc is None:
        return None
    header = _network_header(path, "branches")
    if header is not None and "r_ohm" in header:
        return None
    return unreadable(path, result_not_network(doc).replace(
        "a feederopt result (result.json)", "a feederopt result folder (it holds result.json)"),
        hint="give the network file or folder it was solved on")


#: The keys of a folder's ``meta.json`` that feederopt reads, each with the JSON type it must
#: have (null is the key left out) and an example.
_META_KEYS: dict[str, tuple[type | tuple[type, ...], str, str]] = {
    "name": (str, "a text", '"my_feeder"'),
    "integer_ids": (bool, "true or false", "false"),
    "meta": (dict, "a JSON object", '{"source_format": "folder"}'),
    "format_version": (int, "a whole number", str(FORMAT_VERSION)),
}


def _meta_json_problems(meta_file: Path, info: dict[str, Any]) -> list[Problem]:
    """A typed problem for each key of ``meta.json`` that is not of its type
    (:data:`_META_KEYS`): ``{"integer_ids": "yes"}`` was read as true (``bool("yes")``), ``{"name":
    5}`` as the name "5", and ``{"meta": []}`` as no meta, without a word (user test ut46_iobad
    #8). JSON's true and false are no numbers here, nor numbers true and false."""
    problems: list[Problem] = []
    for key, (kind, what, example) in _META_KEYS.items():
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            continue
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "meta.json",
            f"'{key}' must be {what}, not {json.dumps(value)[:60]}", ids=(str(meta_file),),
            field=key, hint=f'write "{key}": {example}, or leave the key out'))
    given = info.get("meta")
    notes = given.get("warnings") if isinstance(given, dict) else None
    if notes is not None and not (isinstance(notes, list)
                                  and all(isinstance(n, str) for n in notes)):
        # its notes are printed one per line: a text was printed a character per line
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "meta.json",
            f"'meta.warnings' must be a list of texts, not {json.dumps(notes)[:60]}",
            ids=(str(meta_file),), field="meta.warnings",
            hint='write "warnings": ["a note", ...] in "meta", or leave the key out'))
    return problems


def read_folder(path: str | Path) -> Network:
    """Read a network folder (see the module docstring). The network is not validated here.

    A table given twice (``branches.parquet`` and ``branches.csv``) is refused, for every such
    table at once, before any table is read: the two may differ, and reading one of them
    silently would ignore the user's edits to the other. A result folder (``solve --out``) is
    refused as one (:func:`result_folder_error`).
    """
    path = Path(path)
    if not path.is_dir():
        raise missing(path, "folder")
    result = result_folder_error(path)
    if result is not None:
        raise result
    tables: dict[str, pl.DataFrame] = {}
    problems: list[Problem] = []
    # a table's name (or meta.json) that exists but is no readable file (a dangling link, a
    # folder): refused, not read as "no such table" (user test ut42_badin #1)
    broken = entry_problems(path, {**{f"{name}{ext}": name for name in TABLES
                                       for ext in (".parquet", ".csv")}, "meta.json": "file"})
    if broken:
        raise InputError(broken)
    files = {name: [f for f in (path / f"{name}.parquet", path / f"{name}.csv") if f.is_file()]
             for name in TABLES}
    # Two files for one table: either may be the one the user edited, so neither is read.
    both = [
        Problem(
            ProblemKind.UNREADABLE_FILE,
            name,
            f"the folder has both {found[0].name} and {found[1].name}; it is not clear which "
            "one holds the table",
            ids=tuple(str(f) for f in found),
            hint=f"keep one of {found[0].name} and {found[1].name} and remove the other",
        )
        for name, found in files.items() if len(found) > 1
    ]
    # a table that is missing while a file is nearly named as it (load.csv, Loads.csv): read
    # without it, the network lacked its loads and was solved "optimal" at 0 kW
    # (loosely for the loads too: a loads_2025.parquet alone was a feeder without load, exit 0)
    misnamed = misnamed_problems(path, [name for name, found in files.items() if not found],
                                 loose=(*_REQUIRED, "loads"))
    if both or misnamed:
        raise InputError([*both, *misnamed])
    # a table file feederopt does not read (lines.csv, a scenario file kept beside the
    # network, a broken link): a note naming it, the table it looks like and the tables read,
    # rather than dropped without a word
    unread = _unread_note(path, files)
    raw: dict[str, tuple[pl.DataFrame, Path]] = {}
    where: dict[str, list[str]] = {}  # each row's place in its file
    encoding_notes: list[str] = []
    unreadable_files: list[Problem] = []  # every table's at once (a folder of ';' exports)
    for name in TABLES:
        found = files[name]
        if found:
            try:
                df, where[name] = _read_raw(found[0], name, encoding_notes)
            except InputError as exc:
                unreadable_files += exc.problems
                continue
            raw[name] = (df, found[0])
        elif name in _REQUIRED:
            dss = sorted(f.name for f in path.iterdir() if f.is_file()
                         and f.suffix.lower() == ".dss")
            if dss:  # an OpenDSS feeder's folder (user test ut_3ph #13: "add buses.csv")
                masters = [n for n in dss if _defines_circuit(path / n)] or dss
                raise unreadable(
                    path, f"the folder holds OpenDSS files ({', '.join(dss[:4])}"
                    f"{' ...' if len(dss) > 4 else ''}) but no {name} table: a feeder is read "
                    "from its master file, not its folder",
                    hint=f"give the master file, e.g. {path / masters[0]}")
            raise unreadable(
                path, f"the folder has no {name} table", hint=f"add {name}.parquet or {name}.csv"
            )
    if unreadable_files:
        raise InputError(unreadable_files)
    if not files["loads"]:
        # a forgotten loads table read as a feeder without load: "optimal" at 0 kW, any
        # topology alike (user test ut36_errs #3); said, not refused (a folder may be meant so)
        unread = [*unread, "the folder has no loads table: the network carries no load (add "
                  "loads.parquet or loads.csv for its loads)"]
    elif "loads" in raw and raw["loads"][0].height == 0:
        # a header-only loads.csv or a 0-row Parquet: "problems: none" and 0 MW without a
        # word (user test ut48_iobad #5)
        unread = [*unread, f"the loads table {raw['loads'][1].name} has no row: the network "
                  "carries no load (give one row per load)"]
    # ids that pandas stored as floats (7.0): read as "7", or refused when not whole
    as_text, id_notes, id_problems = float_ids(
        {name: df for name, (df, _) in raw.items()},
        csv_tables={name for name, (_, file) in raw.items() if file.suffix == ".csv"})
    problems += id_problems
    refused = {(p.component, p.field) for p in id_problems}
    default_notes: list[str] = []  # empty cells read as their column's default
    for name, (df, file) in raw.items():
        fixed = [as_text[(name, c)] for c in ID_COLUMNS[name] if (name, c) in as_text]
        df, no_id = _without_ids(name, df.with_columns(fixed) if fixed else df, where[name],
                                 file)
        problems += no_id
        tables[name], bad = _read_table(file, name, df)
        problems += [p for p in bad if (p.component, p.field) not in refused]
        default_notes += empty_default_notes(name, tables[name], bad)
    problems += [p for p in decimal_references(tables) if (p.component, p.field) not in refused]
    # a GIS export's length_km and r_ohm_per_km, x_ohm_per_km (user test ut44_gis #21)
    # a row whose per-km value has no positive length has no total either: its "no value for
    # r_ohm" is the length's problem again, left out (user test ut46_iobad #6)
    no_total: dict[str, set[str]] = {}
    tables["branches"], km_problems, km_notes = from_per_km(tables["branches"], no_total)
    problems += km_problems
    uncomputed = {("branches", total): ids for total, ids in no_total.items()}
    default_notes += km_notes
    # 99999 kA (or inf): no rating, as pandapower's max_i_ka (user test ut50_iobad #2)
    tables["branches"], placeholder_note = without_placeholder_ratings(tables["branches"])
    if placeholder_note:
        default_notes.append(placeholder_note)
    # a double circuit (two lines that never open between two buses): one branch L1+L1b
    merged_notes: list[str] = []
    tables["branches"] = merge_parallel_table(tables["branches"], merged_notes, problems)
    info: dict[str, Any] = {}
    meta_file = path / "meta.json"
    if meta_file.is_file():
        try:
            info = json.loads(meta_file.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise unreadable(meta_file, str(exc)) from None
        if not isinstance(info, dict):
            raise unreadable(meta_file, "expected a JSON object")
        wrong = _meta_json_problems(meta_file, info)
        if wrong:
            raise InputError(wrong)
    meta = dict(info.get("meta") or {})
    if meta.get("warnings"):  # (a folder written before the notes were said once)
        meta["warnings"] = _approximations_once(meta)
    meta.setdefault("source_format", "folder")
    meta["path"] = str(path)
    version = info.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        # a folder of a newer (or unknown) format is read as this one (user test ut_cli #8:
        # format_version 99 was read without a word)
        unread = [*unread, f"meta.json gives format_version {version!r}; this feederopt "
                  f"reads format {FORMAT_VERSION}: columns of another format may be ignored "
                  "or read differently (a folder written by a newer feederopt?)"]
    read_notes = [*encoding_notes, *unread, *id_notes, *default_notes, *merged_notes]
    if read_notes:  # about these files: not written to a folder
        meta["warnings"] = [*meta.get("warnings", []), *read_notes]
        meta[READ_NOTES_KEY] = read_notes
    net = Network.from_tables(
        buses=tables["buses"],
        branches=tables["branches"],
        loads=tables.get("loads"),
        generators=tables.get("generators"),
        shunts=tables.get("shunts"),
        name=str(info.get("name") or path.name),
        integer_ids=bool(info.get("integer_ids", False)),
        meta=meta,
    )
    raise_with_validation(net, problems, covered=uncomputed)
    return net


def _write_folder_problems(network: Network, path: Path, fmt: str) -> list[Problem]:
    """What stops :func:`write_folder` from writing ``path`` even with ``force``: a file that
    is not a folder (the MATPOWER or pandapower file the network was read from, say: it was
    deleted and replaced by the folder; user test ut_io #3), or the network's own source folder
    in the other format (its tables would be deleted for the new format's)."""
    def refuse(message: str, hint: str) -> list[Problem]:
        return [Problem(ProblemKind.BAD_OUTPUT_PATH, "output", message, ids=(str(path),),
                        hint=hint)]

    if path.is_symlink() or (path.exists() and not path.is_dir()):
        return refuse(f"'{path}' is a file (or a link), not a folder: write_folder never "
                      "replaces it, even with force", "name a new folder")
    source = network.meta.get("path")
    if source and path.is_dir() and Path(str(source)).resolve() == path.resolve():
        other = "csv" if fmt == "parquet" else "parquet"
        if any(path.glob(f"*.{other}")):
            return refuse(f"'{path}' is the folder the network was read from, in {other.upper()}"
                          f": writing {fmt.upper()} there would delete its {other.upper()} tables",
                          f"write to a new folder, or keep the format (fmt=\"{other}\")")
    return []


#: The formats :func:`write_folder` writes (``fmt``), as the tables' file extensions.
FOLDER_FORMATS = ("parquet", "csv")


def folder_format(fmt: object) -> str:
    """``fmt`` of :func:`write_folder` as one of :data:`FOLDER_FORMATS` (any case:
    ``"Parquet"`` is ``"parquet"``), or a typed ``invalid_value`` problem naming it. Checked
    before anything is deleted or written: ``fmt="Parquet"`` with ``force`` deleted an earlier
    Parquet export's tables (``"Parquet" != "parquet"``, so ``.parquet`` was "the other format")
    and wrote CSV text as ``buses.Parquet``; ``"xlsx"``, ``"json"`` and ``None`` wrote CSV text
    under those extensions (user test ut46_iobad #1)."""
    if isinstance(fmt, str) and fmt.strip().lower() in FOLDER_FORMATS:
        return fmt.strip().lower()
    raise InputError([Problem(
        ProblemKind.INVALID_VALUE, "options",
        f"{option_ref('fmt', repr(fmt))} is not a table format: a "
        "network folder is written as Parquet or CSV tables", (str(fmt),), "fmt",
        hint="use fmt=\"parquet\" or fmt=\"csv\"")])


def approximations_note(network: Network) -> str | None:
    """The note of a folder written from ``network`` when its importer approximated the
    source's data (:data:`~feederopt.network.container.APPROXIMATIONS_KEY`: a pandapower
    trafo3w's negative star resistance taken as 0), else None. Without it, the folder of
    pandapower's ``example_multivoltage`` was the model's approximation stored as the grid's
    data: ``info`` of it reported AC losses of 1998.08 kW against pandapower's own 1995.22 kW,
    without a word (user test ut46_iobad #2)."""
    approximations = [str(a) for a in network.meta.get(APPROXIMATIONS_KEY) or []]
    if not approximations:
        return None
    source = str(network.meta.get("source_format") or "source")
    return (f"the tables hold feederopt's model of the {source} network, not its data "
            f"unchanged: {'; '.join(approximations)}; a power flow of these tables differs "
            f"from one of the original {source} network")


def _approximations_once(meta: dict[str, Any]) -> list[str]:
    """``meta["warnings"]`` without the bare approximation notes
    (:data:`~feederopt.network.container.APPROXIMATIONS_KEY`) that a longer warning, the
    folder's :func:`approximations_note`, quotes already: ``info`` of a folder written from
    pandapower's ``example_multivoltage`` printed the trafo3w note twice, bare and wrapped
    (user test ut46_recheck iobad/t2_trafo3w.py)."""
    warnings = [str(w) for w in meta.get("warnings") or []]
    bare = {str(a) for a in meta.get(APPROXIMATIONS_KEY) or []}
    return [w for w in warnings
            if w not in bare or not any(w in other and other != w for other in warnings)]


def write_folder(
    network: Network,
    path: str | Path,
    *,
    fmt: str = "parquet",
    force: bool = False,
) -> Path:
    """Write ``network`` as a folder of ``fmt`` tables and a ``meta.json``; return the folder.

    An existing non-empty folder is never overwritten unless ``force``; with ``force``, only the
    table files and ``meta.json`` in it are replaced (so a folder's own tables can be saved back
    in their format after an edit). A file, or the network's own source folder in the other
    format, is never replaced: a typed ``bad_output_path`` problem. ``fmt`` is ``"parquet"`` or
    ``"csv"`` in any case (:func:`folder_format`); any other value is a typed ``invalid_value``
    problem, raised before anything in ``path`` is touched. A network whose importer
    approximated its source's data (:func:`approximations_note`) is written with a
    :class:`~feederopt.errors.FeederoptWarning` and that note in ``meta.json``'s warnings, which
    ``feederopt info FOLDER`` prints.
    """
    path = Path(path)
    fmt = folder_format(fmt)  # before anything is deleted or written
    problems = _write_folder_problems(network, path, fmt)
    if problems:
        raise InputError(problems)
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not force:
        raise InputError(
            [
                Problem(
                    ProblemKind.OUTPUT_EXISTS,
                    "file",
                    f"'{path}' already exists",
                    ids=(str(path),),
                    hint=f"choose a new folder or pass {option_ref('force', True)} to "
                    "overwrite",
                )
            ]
        )
    path.mkdir(parents=True, exist_ok=True)
    for name, df in network.tables().items():
        # the defaults that empty cells mean, written out: the folder reads back without a
        # note on them (a pandapower xward's load has no flex_share)
        filled = empty_defaults(name, df)
        if filled:
            df = df.with_columns(
                pl.when(pl.Series(mask)).then(pl.lit(default, dtype=df.schema[col]))
                .otherwise(pl.col(col)).alias(col) for col, (default, mask) in filled.items())
        # Each file is replaced atomically; the other format's copy goes once the new is in.
        target = path / f"{name}.{fmt}"
        with atomic_file(target, force=True) as tmp:
            if fmt == "parquet":
                df.write_parquet(tmp)
            else:
                df.write_csv(tmp, null_value="")
        (path / f"{name}.{'csv' if fmt == 'parquet' else 'parquet'}").unlink(missing_ok=True)
    # not where the network was read from: the folder is a source of its own; the notes on
    # how the files read were stored are not the new folder's (it stores the ids as text)
    meta = {k: v for k, v in network.meta.items() if k not in ("path", "source", READ_NOTES_KEY)}
    read_notes = network.meta.get(READ_NOTES_KEY) or []
    if read_notes and "warnings" in meta:
        meta["warnings"] = [w for w in meta["warnings"] if w not in read_notes]
    note = approximations_note(network)
    if note:
        # the folder's tables are the model, not the source's data: said when written, and
        # in meta.json, whose warnings `feederopt info FOLDER` prints
        if note not in meta.get("warnings", []):
            meta["warnings"] = [*meta.get("warnings", []), note]
        meta["warnings"] = _approximations_once(meta)
        warn_user(f"{path}: {note}")
    info = {
        "format_version": FORMAT_VERSION,
        "name": network.name,
        "integer_ids": network.integer_ids,
        "meta": meta,
    }
    write_text(path / "meta.json", json.dumps(info, indent=2, default=str), force=True)
    return path
