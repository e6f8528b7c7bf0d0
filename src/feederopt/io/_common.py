"""Helpers shared by the importers: file errors as typed problems."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.network.container import Network


def unreadable(path: str | Path, reason: str, hint: str = "") -> InputError:
    """An :class:`InputError` for a file that exists but cannot be read."""
    return InputError(
        [
            Problem(
                ProblemKind.UNREADABLE_FILE,
                "file",
                f"cannot read '{path}': {reason}",
                ids=(str(path),),
                hint=hint or "check that the file is complete and in the format its name says",
            )
        ]
    )


def is_broken_link(entry: Path) -> bool:
    """Is ``entry`` a symbolic link to nothing (its target gone)?"""
    return entry.is_symlink() and not entry.exists()


def not_a_readable_file(entry: Path) -> str | None:
    """Why the folder entry ``entry``, which exists by name, cannot be read as a file (``a
    broken link to /mnt/x/loads.csv``, ``it is a folder``), or None when it is a file that can
    be opened (or a link to one). A table's name that is a dangling link or a folder was read
    as "no such table": a feeder without load, "optimal" at 0 kW with exit 0, and a buses
    table so named as "the folder has no buses table" (user test ut42_badin #1)."""
    if entry.is_symlink():
        target = os.readlink(entry)
        if not entry.exists():
            return f"it is a broken link to {target} (no such file)"
        it = f"it is a link to {target}, which is"
    else:
        it = "it is"
    if entry.is_dir():
        return f"{it} a folder, not a file"
    if not entry.is_file():
        return f"{it} not a regular file (a device, pipe or socket)"
    if not os.access(entry, os.R_OK):
        return f"{it} a file that may not be read (permission denied)"
    return None


def missing(path: str | Path, want: str = "file", hint: str = "check the path") -> InputError:
    """A typed problem for a ``want`` ("file" or "folder") that is not there: a path of the
    other kind is named as such ("is a folder, not a file"), a broken link as one with its
    target (:func:`not_a_readable_file`), else "no such file"."""
    path = Path(path)
    other = "folder" if want == "file" else "file"
    if is_broken_link(path):  # before: "no such file", the link and its target unnamed
        return unreadable(path, str(not_a_readable_file(path)), hint=hint)
    if (path.is_dir() if want == "file" else path.is_file()):
        return unreadable(path, f"it is a {other}, not a {want}", hint=hint)
    return unreadable(path, f"no such {want}", hint=hint)


def no_such_path(path: str | Path) -> InputError:
    """A typed problem for a network path that is neither a file nor a folder. A name with a
    study case after ``@`` (``mv.json@hL``) is told that study cases apply only to SimBench
    grids (``simbench:<code>@<study case>``, :mod:`feederopt.cases.simbench`), and which file
    to give instead when the part before ``@`` exists."""
    text = str(path)
    hint = "check the path"
    if "@" in Path(text).name:
        base, _, study = text.rpartition("@")
        hint = (f"a study case after '@' ('@{study}') applies only to SimBench grids, "
                "simbench:<code>@<study case>; a file or folder is given by its path alone"
                + (f": '{base}'" if Path(base).exists() else ""))
    return unreadable(text, "no such file or folder", hint=hint)


def unknown_file_type(path: str | Path, known: str, message: str | None = None) -> InputError:
    """A typed problem for a file this reader does not take: ``message`` says why (default:
    not a file type feederopt reads), ``known`` what to give instead."""
    return InputError(
        [
            Problem(
                ProblemKind.UNKNOWN_FILE_TYPE,
                "file",
                message or f"'{path}' is not a file type feederopt reads",
                ids=(str(path),),
                hint=f"give {known}",
            )
        ]
    )


def result_document(path: Path) -> dict[str, Any] | None:
    """The JSON object of ``path`` when it is a feederopt result (a solve's ``result.json``: a
    ``status`` with ``open_branches``, a ``kind`` or a ``schedule``), else None (no such file,
    not JSON, another document)."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if isinstance(doc, dict) and "status" in doc and ("open_branches" in doc
                                                       or "kind" in doc or "schedule" in doc):
        return doc
    return None


def result_source(doc: Mapping[str, Any]) -> str | None:
    """The network a result document names as the one it was solved on: its ``source`` (a
    solve's, three-phase too), else its ``inputs.source`` (schedule, partition), else its
    ``case`` (a restore or plan result written before session 48, or through the Python
    API, records the case alone: a built-in case's name, else the network's name); None when
    it names none. Before, only ``source`` was looked at, and a
    restore folder was refused with "its 'source' field names it", a field it does not have
    (user test ut47_recheck #3)."""
    inputs = doc.get("inputs")
    for value in (doc.get("source"), inputs.get("source") if isinstance(inputs, dict)
                  else None, doc.get("case")):
        if isinstance(value, str) and value.strip():
            return value
    return None


def result_not_network(doc: Mapping[str, Any]) -> str:
    """Why a feederopt result (its file, or the folder of ``solve``, ``restore``,
    ``schedule``, ``partition`` or ``plan --out``) given where a network is wanted is not
    read, naming the network it was solved on (:func:`result_source`)."""
    source = result_source(doc)
    solved_on = (f": give the network it was solved on ({source})" if source is not None
                 else ": give the network it was solved on")
    return f"a feederopt result (result.json), not a network{solved_on}"


def read_text(path: Path) -> str:
    """The text of a file; UTF-8, falling back to Latin-1 (older MATPOWER files). A UTF-8
    byte order mark (``EF BB BF``, which Windows editors such as Notepad write) is dropped, as
    the CSV reader does (``utf-8-sig``): it is no character of the file's content, and left in,
    it made line 1 of a MATPOWER case read as ``\ufefffunction mpc = ...``, a statement that
    could not be run."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc.strerror or str(exc)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def raise_with_validation(
    net: Network, problems: list[Problem], superseded: tuple[ProblemKind, ...] = (),
    covered: Mapping[tuple[str, str], set[str]] | None = None,
) -> None:
    """Raise the reader's own ``problems`` together with every problem that validation finds in
    what could be read (all problems at once); do nothing when the reader found none.

    Validation problems on a (component, field) that the reader reported already, those of
    a kind in ``superseded`` (consequences of the reader's problems), and those on a
    (component, field) of ``covered`` whose every id is among its ids (rows whose value the
    reader could not compute, for a reason it named already) are left out.
    """
    if not problems:
        return
    seen = {(p.component, p.field) for p in problems}
    covered = covered or {}
    more = [
        p for p in net.validate()
        if (p.component, p.field) not in seen and p.kind not in superseded
        and not (p.ids and set(p.ids) <= covered.get((p.component, p.field or ""), set()))
    ]
    raise InputError(sorted([*problems, *more], key=lambda p: p.is_error, reverse=True))


#: Share of control characters (bytes below 0x20 but tab, line feed, form feed and carriage
#: return, and 0x7F) above which a file is binary, not text: text in any 8-bit encoding has
#: next to none, random bytes about 11 %.
BINARY_CONTROL_SHARE = 0.05


def not_csv_text(path: Path) -> None:
    """An :class:`InputError` when the ``.csv`` file ``path`` is not text: a Parquet file
    (``PAR1``), a ZIP archive (an ``.xlsx`` workbook), UTF-16 text (a byte order mark), or
    binary data (a NUL byte, or more than :data:`BINARY_CONTROL_SHARE` control characters in its
    first 64 KiB). polars read the bytes of such a file as column names, and every one was an
    "unknown column" warning, screenfuls of junk (user test ut37_errs2 #3c). Text in another
    8-bit encoding (Latin-1) is text: the reader says to save it as UTF-8."""
    try:
        with path.open("rb") as fh:
            sample = fh.read(65536)
    except OSError:
        return  # polars reports it
    if sample.startswith(b"PAR1"):
        what, hint = "it is a Parquet file", f"rename it to {path.stem}.parquet"
    elif sample.startswith(b"PK\x03\x04"):
        what, hint = ("it is a ZIP archive (an Excel workbook?)",
                      "save the table as CSV (comma delimited), UTF-8")
    elif sample[:2] in (b"\xff\xfe", b"\xfe\xff"):
        what, hint = "it is UTF-16 text", "save the table as CSV (comma delimited), UTF-8"
    else:
        control = sum(1 for b in sample if (b < 0x20 and b not in b"\t\n\f\r") or b == 0x7F)
        if b"\x00" not in sample and control <= BINARY_CONTROL_SHARE * len(sample):
            return
        what, hint = ("it holds binary data, not text",
                      "give the table as comma-separated text (UTF-8), or as .parquet")
    raise unreadable(path, f"not a CSV (text) file: {what}", hint=hint)


def _comma_separated(path: Path) -> None:
    """An :class:`InputError` for a CSV whose header is separated by ``;`` or tabs and has no
    comma: a spreadsheet's export in a locale with decimal commas (``;`` and ``0,5``), which
    polars read as one column ("missing column(s) scenario, element, ...") or failed on with
    "found more fields than defined in 'Schema'" (user test ut_unc, finding 5)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return  # polars reports it
    if "," in header:
        return
    for sep, name in ((";", "';'"), ("\t", "tabs")):
        if sep in header:
            raise unreadable(path, f"its columns are separated by {name}, not commas "
                             f"(header: {header.strip()[:80]!r})",
                             hint="save it as a comma-separated CSV with decimal points "
                             "(0.5, not 0,5); pandas: to_csv(path, sep=',', decimal='.')")


def read_user_parquet(path: Path) -> pl.DataFrame:
    """A user's Parquet table without the unnamed index that pandas writes beside the data
    (``__index_level_0__``, listed in the file's ``pandas`` metadata as an index column):
    ``DataFrame.to_parquet`` stores it whenever the index is not 0, 1, 2, ... (after a filter
    or a concat), and pandas' own ``read_parquet`` hides it again, so the user never sees the
    column that a reader would refuse as unknown (user test ut38_sched). A named index
    (``set_index("time")``) is the user's own column and is kept."""
    import json

    df = pl.read_parquet(path)
    try:
        meta = pl.read_parquet_metadata(path).get("pandas")
        index = json.loads(meta).get("index_columns", []) if meta else []
    except (pl.exceptions.PolarsError, OSError, ValueError, AttributeError):
        return df
    hidden = [c for c in index if isinstance(c, str) and c.startswith("__index_level_")
              and c in df.columns]
    return df.drop(hidden) if hidden else df


def _header(path: Path) -> list[str]:
    """The column names of the CSV ``path`` as written (Python's ``csv``; polars renames a
    repeated one to ``<name>_duplicated_0``); empty when ``csv`` cannot read it."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            return next(csv.reader(fh), [])
    except (OSError, csv.Error):
        return []


def duplicate_columns(source: str, columns: list[str], what: str) -> None:
    """An :class:`InputError` with a ``duplicate_column`` problem for each column name of
    ``columns`` (the header of ``source``, a file name or "the table", a ``what``) that
    appears more than once once case and surrounding blanks are ignored, as the long-table
    readers ignore them: polars read a
    repeated ``p_mw`` as ``p_mw`` and ``p_mw_duplicated_0`` and used the first silently, and
    ``P_MW`` beside ``p_mw`` crashed the lower-casing with polars' DuplicateError (session 38)."""
    places: dict[str, list[int]] = {}
    for k, col in enumerate(columns):
        places.setdefault(col.strip().lower(), []).append(k + 1)
    twice = {col: at for col, at in places.items() if col and len(at) > 1}
    if twice:
        raise InputError([Problem(
            ProblemKind.DUPLICATE_COLUMN, what,
            f"duplicate column '{col}' in {source} (columns {', '.join(map(str, at))} of "
            "its header, case ignored): it is not clear which one holds the values",
            field=col, hint=f"keep one '{col}' column and remove or rename the others")
            for col, at in twice.items()])


def read_long_table(path: str | Path, what: str) -> pl.DataFrame:
    """A ``.parquet`` table, or a ``.csv`` one with every column as text (validation parses
    the numbers and reports what is not one); file errors as typed problems."""
    path = Path(path)
    if not path.is_file():
        raise missing(path, "file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            df = read_user_parquet(path)
            duplicate_columns(path.name, df.columns, what)
            return df
        if suffix == ".csv":
            not_csv_text(path)
            _comma_separated(path)
            duplicate_columns(path.name, _header(path), what)
            return pl.read_csv(path, infer_schema_length=0)
    except InputError:
        raise
    except Exception as exc:  # polars' parse errors
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise unreadable(path, reason) from None
    raise unknown_file_type(path, f"a .parquet or .csv {what}")


def match_id(value: str, known: set[str]) -> str | None:
    """``value`` as one of the ``known`` ids: itself, or an integral number written as a float
    (``15.0``, what pandas or Excel write for an integer column that held a NaN) as the integer
    id ``15``; None when it matches none (``15.5``, ``16`` where no bus 16 is)."""
    if value in known:
        return value
    whole = _INTEGRAL_FLOAT.fullmatch(value.strip())
    if whole is None:
        return None
    as_int = str(int(whole.group(1)))
    return as_int if as_int in known else None


#: An integer written as a float: ``15.0``, ``15.``, ``-3.00`` (not ``1e1``, not ``15.5``).
_INTEGRAL_FLOAT = re.compile(r"([+-]?\d+)\.0*")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """The key that orders ids naturally: the runs of digits as numbers, so ``2 < 10`` and
    ``load2 < load10`` (a digit run before a letter run at the same place)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.findall(r"\d+|\D+", text))
