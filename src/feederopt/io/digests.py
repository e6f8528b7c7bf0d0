"""Content hashes (SHA-256) of the files a run read, recorded in its result so that
``feederopt check``, which reads the inputs again from their paths, refuses files that changed
since the result was made instead of checking the result against other data.

Before (user test ut34_schedule #3), ``feederopt check`` of a schedule read the profile table
again from disk: after the loads in it were raised by 40 %, it reported "0.0 % served" of the
schedule against the edited data, without a note. Now a schedule result records the hashes of
its network, profile and device files (``inputs.sha256``), a ``solve`` result those of its
network (``inputs_sha256``) and a partition result those of its OpenDSS feeder and settings
file (``inputs.sha256``); the checks compare them (:func:`input_change_problems`).

What an input path stands for (:func:`input_files`): a file is itself, an OpenDSS script
also every file it reads (:func:`~feederopt.io.dss_files.script_files`: ``Redirect``,
``Compile``, ``file=`` data), a folder the tables that a network or devices folder is read
from (its ``.csv`` and ``.parquet`` files and ``meta.json``). A file that does not exist is
recorded as ``None``: one that appears later (a ``wind.csv`` added to the devices folder) is a
change. A name that is no path (a built-in case, a SimBench code) has no files: the package's
own data changes only with its version, which the result records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from pathlib import Path

from feederopt.errors import Problem, ProblemKind, Severity
from feederopt.io.dss_files import script_files

#: The files of a folder that the folder readers read (network and device tables, a
#: network folder's ``meta.json``).
FOLDER_SUFFIXES = (".csv", ".parquet")
FOLDER_FILES = ("meta.json",)


def input_files(path: str | Path, skip: Collection[str] = ()) -> list[Path]:
    """The files that reading ``path`` reads, resolved (module docstring); none for a name
    that is no existing path. In a folder, the files named in ``skip`` are left out (those
    its reader passes over: a profile table beside the device tables)."""
    p = Path(path)
    if p.is_dir():
        return sorted(f.resolve() for f in p.iterdir() if f.is_file() and not
                      f.name.startswith(".") and f.name not in skip
                      and (f.suffix.lower() in FOLDER_SUFFIXES or f.name in FOLDER_FILES))
    if p.is_file():
        return script_files(p) if p.suffix.lower() == ".dss" else [p.resolve()]
    return []


def file_digest(path: str | Path) -> str | None:
    """The SHA-256 of a file's bytes (hex); None when it is not a readable file."""
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def input_digests(paths: Iterable[str | Path | None], skip: Collection[str] = ()
                  ) -> dict[str, str | None]:
    """Absolute path -> SHA-256 (None: absent) of every file that the ``paths`` stand for
    (:func:`input_files`, with ``skip``; None entries and names that are no path add
    nothing)."""
    out: dict[str, str | None] = {}
    for path in paths:
        if path is None:
            continue
        for f in input_files(path, skip):
            out.setdefault(str(f), file_digest(f))
    return out


def input_change_problems(recorded: object, paths: Iterable[str | Path | None], *,
                          made: str, field: str, skip: Collection[str] = ()) -> list[Problem]:
    """What ``feederopt check`` finds when it reads ``paths`` again for a result that
    recorded ``recorded`` (:func:`input_digests` of the same ``paths`` and ``skip`` when it
    was made; ``field`` names it in the
    result, ``made`` what made it: ``the schedule``). An error (the check is refused) naming
    each file whose content differs, that is gone, or that the result did not read (a file
    added to a folder, a relative path now read from another folder); a warning when the
    result records no hashes (written before they were recorded) but reads files: they cannot
    be verified. Nothing when the paths name no files (built-in cases)."""
    now = input_digests(paths, skip)
    if recorded is None:
        if not now:
            return []
        files = sorted(now)
        return [Problem(
            ProblemKind.INVALID_VALUE, "result", f"the result records no hashes of its "
            f"{len(files)} input file(s) (written by an older feederopt): check cannot verify "
            f"that they are unchanged since {made} was made, and reads them as they are now",
            tuple(files), field, severity=Severity.WARNING)]
    if not isinstance(recorded, dict):
        return [Problem(ProblemKind.INVALID_VALUE, "result", f"{field} is not a table of file "
                        "hashes", (), field, f"pass the JSON that {made} wrote, unedited")]
    why: dict[str, str] = {}
    for name, digest in recorded.items():
        current = file_digest(name)
        if current != digest:
            why[str(name)] = ("changed" if current is not None and digest is not None else
                              "gone" if current is None else "new: absent when it was made")
    for name, digest in now.items():
        if name not in recorded and digest is not None:
            why.setdefault(name, "not read when it was made")
    if not why:
        return []
    listed = sorted(why)
    return [Problem(
        ProblemKind.INVALID_VALUE, "result", f"input file(s) changed since {made} was made (the "
        f"SHA-256 of each differs from the one recorded in {field}): "
        + "; ".join(f"{Path(n).name} ({why[n]})" for n in listed[:5])
        + (f"; and {len(listed) - 5} more" if len(listed) > 5 else ""), tuple(listed),
        field, f"check a result against the files it was made from: restore them, or run "
        f"{made.removeprefix('the ')} again on the files as they are now")]
