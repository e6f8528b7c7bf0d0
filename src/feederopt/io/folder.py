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
problem naming both files), since it is not clear which one the user means.
The columns are those of :mod:`feederopt.network.schemas` (SI units, the unit in each name);
optional columns may be left out and take their defaults; extra columns are kept, and reported
as warnings (with the nearest known column, see :func:`feederopt.network.validate.unknown_columns`)
unless an importer writes them. In CSV, an empty cell is a missing value and booleans are
``true``/``false`` (or 1/0). A value that is not of its column's type is a typed problem naming
the table, the column and the row ids, raised with every other problem of the folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io._common import raise_with_validation, unreadable
from feederopt.io.writing import atomic_file, write_text
from feederopt.network.container import Network
from feederopt.network.schemas import TABLES, polars_schema

FORMAT_VERSION = 1
_REQUIRED = ("buses", "branches")


def is_network_folder(path: Path) -> bool:
    """Does ``path`` look like a network folder (it holds a buses table)?"""
    return path.is_dir() and any((path / f"buses{ext}").is_file() for ext in (".parquet", ".csv"))


def _read_table(path: Path, name: str) -> tuple[pl.DataFrame, list[Problem]]:
    """A table with its schema's columns parsed to their dtypes, and a problem for each column
    with values that are not of its type (naming the table, the column and the row ids)."""
    schema = polars_schema(TABLES[name])
    try:
        if path.suffix == ".parquet":
            df = pl.read_parquet(path)
        else:
            header = pl.read_csv(path, n_rows=0).columns
            as_text = {c: pl.String for c in header if c in schema}
            df = pl.read_csv(path, schema_overrides=as_text, null_values=[""])
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise unreadable(path, f"{type(exc).__name__}: {reason}") from None
    problems: list[Problem] = []
    columns = []
    for col in df.columns:
        if col not in schema:
            columns.append(df[col])
            continue
        parsed, bad = _parse(df[col], schema[col])
        columns.append(parsed)
        if bad.any():
            raw = df[col].filter(bad).cast(pl.String).to_list()
            ids = (df["id"].filter(bad).cast(pl.String) if "id" in df.columns else
                   pl.Series([f"row {i + 1}" for i in range(df.height)]).filter(bad))
            shown = ", ".join(repr(v) for v in raw[:5]) + (" ..." if len(raw) > 5 else "")
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    name,
                    f"{len(raw)} value(s) are not of type {_TYPE_NAMES.get(schema[col], 'text')}:"
                    f" {shown}",
                    ids=tuple(str(v) for v in ids.to_list()),
                    field=col,
                    hint=_TYPE_HINTS.get(schema[col], "correct the value"),
                )
            )
    return pl.DataFrame(columns), problems


_TYPE_NAMES = {pl.Float64(): "number", pl.Int64(): "integer", pl.Boolean(): "boolean"}
_TYPE_HINTS = {
    pl.Float64(): "give a number (a dot as decimal separator) or leave the cell empty",
    pl.Int64(): "give a whole number",
    pl.Boolean(): "write true or false",
}
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def _parse(col: pl.Series, dtype: pl.DataType) -> tuple[pl.Series, pl.Series]:
    """``col`` as ``dtype`` (null where a value cannot be read), and the mask of the values
    that were given but cannot be read."""
    if col.dtype == dtype:
        return col, pl.Series([False] * col.len(), dtype=pl.Boolean)
    given = col.is_not_null()
    if col.dtype.is_numeric() and dtype.is_numeric():
        out = col.cast(dtype, strict=False)
    else:
        text = col.cast(pl.String).str.strip_chars()
        given = given & (text != "")
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


def read_folder(path: str | Path) -> Network:
    """Read a network folder (see the module docstring). The network is not validated here.

    A table given twice (``branches.parquet`` and ``branches.csv``) is refused, for every such
    table at once, before any table is read: the two may differ, and reading one of them
    silently would ignore the user's edits to the other.
    """
    path = Path(path)
    if not path.is_dir():
        raise unreadable(path, "no such folder")
    tables: dict[str, pl.DataFrame] = {}
    problems: list[Problem] = []
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
    if both:
        raise InputError(both)
    for name in TABLES:
        found = files[name]
        if found:
            tables[name], bad = _read_table(found[0], name)
            problems += bad
        elif name in _REQUIRED:
            raise unreadable(
                path, f"the folder has no {name} table", hint=f"add {name}.parquet or {name}.csv"
            )
    info: dict[str, Any] = {}
    meta_file = path / "meta.json"
    if meta_file.is_file():
        try:
            info = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise unreadable(meta_file, str(exc)) from None
        if not isinstance(info, dict):
            raise unreadable(meta_file, "expected a JSON object")
    meta = dict(info.get("meta") or {})
    meta.setdefault("source_format", "folder")
    meta["path"] = str(path)
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
    raise_with_validation(net, problems)
    return net


def write_folder(
    network: Network,
    path: str | Path,
    *,
    fmt: Literal["parquet", "csv"] = "parquet",
    force: bool = False,
) -> Path:
    """Write ``network`` as a folder of ``fmt`` tables and a ``meta.json``; return the folder.

    An existing non-empty folder is never overwritten unless ``force``; with ``force``, only the
    table files and ``meta.json`` in it are replaced.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not force:
        raise InputError(
            [
                Problem(
                    ProblemKind.OUTPUT_EXISTS,
                    "file",
                    f"'{path}' already exists",
                    ids=(str(path),),
                    hint="choose a new folder or pass force=True (--force) to overwrite",
                )
            ]
        )
    if path.exists() and not path.is_dir():
        path.unlink()
    path.mkdir(parents=True, exist_ok=True)
    for name, df in network.tables().items():
        # Each file is replaced atomically; the other format's copy goes once the new is in.
        target = path / f"{name}.{fmt}"
        with atomic_file(target, force=True) as tmp:
            if fmt == "parquet":
                df.write_parquet(tmp)
            else:
                df.write_csv(tmp, null_value="")
        (path / f"{name}.{'csv' if fmt == 'parquet' else 'parquet'}").unlink(missing_ok=True)
    # not where the network was read from: the folder is a source of its own
    meta = {k: v for k, v in network.meta.items() if k not in ("path", "source")}
    info = {
        "format_version": FORMAT_VERSION,
        "name": network.name,
        "integer_ids": network.integer_ids,
        "meta": meta,
    }
    write_text(path / "meta.json", json.dumps(info, indent=2, default=str), force=True)
    return path
