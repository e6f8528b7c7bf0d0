"""feederopt's own format: a folder with one Parquet or CSV file per table and a ``meta.json``.

::

    my_feeder/
        buses.parquet       (or buses.csv)       required
        branches.parquet    (or branches.csv)    required
        loads.parquet       (or loads.csv)       optional, like the tables below
        generators.parquet
        shunts.parquet
        meta.json           {"name": ..., "integer_ids": ..., "meta": {...}}  optional

The columns are those of :mod:`feederopt.network.schemas` (SI units, the unit in each name);
optional columns may be left out and take their defaults; extra columns are kept. In CSV, an
empty cell is a missing value and booleans are ``true``/``false``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import polars as pl

from feederopt.io._common import unreadable
from feederopt.io.writing import atomic_file, write_text
from feederopt.network.container import Network
from feederopt.network.errors import InputError, Problem, ProblemKind
from feederopt.network.schemas import TABLES, polars_schema

FORMAT_VERSION = 1
_REQUIRED = ("buses", "branches")


def is_network_folder(path: Path) -> bool:
    """Does ``path`` look like a network folder (it holds a buses table)?"""
    return path.is_dir() and any((path / f"buses{ext}").is_file() for ext in (".parquet", ".csv"))


def _read_table(path: Path, name: str) -> pl.DataFrame:
    schema = polars_schema(TABLES[name])
    try:
        if path.suffix == ".parquet":
            df = pl.read_parquet(path)
            casts = [pl.col(c).cast(schema[c], strict=False) for c in df.columns if c in schema]
            return df.with_columns(casts)
        header = pl.read_csv(path, n_rows=0).columns
        overrides = {c: schema[c] for c in header if c in schema}
        return pl.read_csv(path, schema_overrides=overrides, null_values=[""])
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise unreadable(path, f"{type(exc).__name__}: {exc}") from None


def read_folder(path: str | Path) -> Network:
    """Read a network folder (see the module docstring). The network is not validated here."""
    path = Path(path)
    if not path.is_dir():
        raise unreadable(path, "no such folder")
    tables: dict[str, pl.DataFrame] = {}
    for name in TABLES:
        found = [path / f"{name}{ext}" for ext in (".parquet", ".csv")]
        found = [p for p in found if p.is_file()]
        if found:
            tables[name] = _read_table(found[0], name)
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
    return Network.from_tables(
        buses=tables["buses"],
        branches=tables["branches"],
        loads=tables.get("loads"),
        generators=tables.get("generators"),
        shunts=tables.get("shunts"),
        name=str(info.get("name") or path.name),
        integer_ids=bool(info.get("integer_ids", False)),
        meta=meta,
    )


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
    meta = {k: v for k, v in network.meta.items() if k != "path"}
    info = {
        "format_version": FORMAT_VERSION,
        "name": network.name,
        "integer_ids": network.integer_ids,
        "meta": meta,
    }
    write_text(path / "meta.json", json.dumps(info, indent=2, default=str), force=True)
    return path
