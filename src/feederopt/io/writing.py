"""Writing output files safely: checked before the work, written atomically, never clobbered.

Every file and folder that feederopt writes (result JSON, Parquet/CSV tables, PNG, HTML report,
scenario files, result folders) goes through this module, so that

* a bad output path is found **before** a solve of many minutes: :func:`output_problems` gives
  typed problems (parent folder missing, parent not a folder, not writable, a folder where a
  file is wanted, an existing output without ``force``), which the command line reports with
  exit code 2;
* a crash, a full disk or a second Ctrl-C never leaves a half-written file: a file is written
  to a temporary file in the same folder and moved into place by one ``os.replace`` (atomic on
  POSIX and Windows within one file system), a folder is written as a temporary folder and
  renamed (:func:`atomic_file`, :func:`atomic_folder`);
* nothing the user had is overwritten or deleted without ``force`` (``--force``): without it, a
  file is published by a hard link, which fails if the name was taken meanwhile; even with it,
  an output is never one of the command's inputs (or inside an input folder), and a result
  folder replaces only an empty folder or an earlier result folder (one with ``result.json``),
  never a file or a folder of the user's other files;
* a file output's path is taken as the shell takes it (:func:`output_kind`): a **link** is
  followed, and its target (not the link) is written atomically, the ``force`` rule applying to
  the target; a **stream** (a named pipe, a character device, or an open descriptor such as
  ``/dev/stdout``) receives the bytes straight (appended, never replaced: no ``force`` needed,
  since nothing is overwritten), so ``--json /dev/stdout | jq`` works; a folder, a socket or a
  block device is refused with a typed problem (user test ut41_cli #1: ``--force`` replaced a
  link, and ``/dev/stdout`` itself, by a regular file); a folder output's link is followed
  alike (:func:`folder_target`): its target is the folder written, the link stays.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, option_ref
from feederopt.io.dss_files import script_files
from feederopt.network.schemas import nan_as_null


def write_table(table: pl.DataFrame, path: str | Path) -> None:
    """``table`` to the Parquet (or, by the suffix, CSV) file ``path``, NaN as null
    (:func:`~feederopt.network.schemas.nan_as_null`, idempotent: a result's tables are null
    already in memory): every table feederopt writes goes through here."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        nan_as_null(table).write_csv(path, null_value="")
    else:
        nan_as_null(table).write_parquet(path)


def _problem(kind: ProblemKind, path: Path, message: str, option: str | None,
             hint: str) -> Problem:
    return Problem(kind, "output", message, ids=(str(path),), field=option, hint=hint)


#: ``force`` as each caller's layer names it in a problem (:func:`~feederopt.errors.option_ref`):
#: ``force=True`` from Python (:func:`feederopt.save`), ``--force`` on the command line. Before
#: (ut42_recheck_b #1), ``feederopt.save(r, 'l1')`` was told to "pass --force (force=True)"
#: and a link loop was refused "with or without --force" from Python too.
_FORCE = option_ref("force", True)


#: The file that marks a folder as a feederopt result folder (every ``--out`` folder has it):
#: ``force`` replaces such a folder, or an empty one, never another.
RESULT_MARKER = "result.json"


def result_json_path(path: str | os.PathLike[str]) -> Path:
    """The JSON document of a result given as ``path``: a result folder's ``result.json``
    (:data:`RESULT_MARKER`), else ``path`` itself (a ``--json`` file). Every reader of a
    result resolves a folder here, so that a folder is read exactly as its result.json is
    (user test ut35: ``feederopt check`` refused a partition folder whose result.json it
    checked)."""
    path = Path(path)
    return path / RESULT_MARKER if path.is_dir() else path


def _is_result(marker: Path) -> bool:
    """``marker`` is a result.json that feederopt wrote: a JSON object with a ``status`` (every
    result kind has one); a stray ``{}`` does not make a folder of the user's files one."""
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "status" in doc


def _input_clash(path: Path, inputs: Sequence[str | Path], folder: bool,
                 command: str | None = None) -> str | None:
    """How writing ``path`` would touch one of the ``inputs`` (files or folders the command
    reads), or None; an input that the folder ``path`` holds under the name of a file that
    ``command`` writes there (``--scenarios DIR/scenarios.parquet --out DIR``) is named as
    such."""
    target = path.resolve()
    for given in inputs:
        if str(given).lower().endswith(".dss") and Path(given).is_file():
            # an OpenDSS feeder reads what it redirects to and its data files too
            for read in script_files(given)[1:]:
                if target == read:
                    return f"'{path}' is a file that the input '{given}' reads"
        src = Path(given)
        if not (src.exists() or src.is_symlink()):
            continue
        src = src.resolve()
        if target == src:
            return f"'{path}' is the input '{given}'"
        if src.is_dir() and src in target.parents:
            return f"'{path}' lies inside the input folder '{given}'"
        if folder and target in src.parents:
            if src.parent == target and src.name in FOLDER_FILES.get(command or "", ()):
                return (f"'{path}' holds the input '{given}', and this run writes a "
                        f"{src.name} of its own there")
            return f"'{path}' holds the input '{given}'"
    return None


#: (``devices.parquet``: a DOPF run's device settings. Whether a solve is a DOPF is known only
#: once its network is read, after this check, so every balanced solve guards it: a user's own
#: file of that name is refused, never replaced.)
_SOLVE_FILES = ("result.json", "buses.parquet", "branches.parquet", "switches.parquet",
                "generators.parquet", "iterations.parquet", "grid.png", "devices.parquet",
                # a pandapower net's answer as a net (feederopt.report.output.NET_FILE)
                "net.json")
#: The table that a scenario run and a robust run add to a balanced solve's folder
#: (:mod:`feederopt.results.uncertain_tables`): only theirs, so that a plain solve's
#: ``--out DIR --force`` does not refuse a ``DIR/scenarios.parquet`` of the user's, which it
#: does not write.
_UNCERTAIN_FILES = {"scenarios": "scenarios.parquet", "robust": "extreme_points.parquet"}
_SOLVE_3PH_FILES = ("result.json", "voltage_profile.png", "grid.png", "report.html")

#: The files each command writes into its ``--out`` folder (``solve_report``: a balanced
#: ``solve --report``; ``solve_scenarios``, ``solve_robust``: with ``--scenarios``,
#: ``--robust``; :func:`solve_folder_command`): checked by :func:`output_problems` before any
#: solving.
FOLDER_FILES: dict[str, tuple[str, ...]] = {
    "solve": _SOLVE_FILES,
    "solve_report": (*_SOLVE_FILES, "report.html"),
    **{f"solve_{kind}": (*_SOLVE_FILES, name) for kind, name in _UNCERTAIN_FILES.items()},
    **{f"solve_{kind}_report": (*_SOLVE_FILES, name, "report.html")
       for kind, name in _UNCERTAIN_FILES.items()},
    "solve_3ph": _SOLVE_3PH_FILES,
    # a three-phase scenario run's table too (feederopt.results.uncertain_tables)
    "solve_3ph_scenarios": (*_SOLVE_3PH_FILES, "scenarios.parquet"),
    "plan": ("result.json", "switching.parquet", "shed.parquet", "plan.png", "report.html"),
    "restore": ("result.json", "buses.parquet", "branches.parquet", "switching.parquet",
                "restoration.png", "report.html"),
    "partition": ("result.json", "microgrids.png", "der_setpoints.parquet", "report.html"),
    "schedule": ("result.json", "hourly.png", "setpoints.csv", "report.html"),
}


def solve_folder_command(*, report: bool = False, uncertainty: str | None = None) -> str:
    """The key of :data:`FOLDER_FILES` of a balanced solve's ``--out`` folder: with the
    report (``report``), and a scenario (``uncertainty="scenarios"``) or robust
    (``"robust"``) run's table; None: a plain solve."""
    return "solve" + (f"_{uncertainty}" if uncertainty else "") + ("_report" if report else "")


#: The folder of a process's open file descriptors (Linux ``/proc/PID/fd``, reached from
#: ``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``; ``/dev/fd`` elsewhere).
_FD_FOLDER = re.compile(r"/proc/\d+(/task/\d+)?/fd|/dev/fd")


def _names_descriptor(path: Path) -> bool:
    """``path`` names an open file descriptor, itself or through its links (``/dev/stdout``
    -> ``/proc/self/fd/1``): whatever the descriptor is open on (a pipe, a terminal, or the
    file of ``> out.json`` / ``>> log``) is written into as it is, never replaced. (The
    resolved path cannot say so: ``/proc/self/fd/1`` resolves to the redirected file, or to
    a ``pipe:[N]`` name that does not exist.)"""
    cur = os.path.abspath(path)
    for _ in range(40):  # the kernel's limit on links followed
        if _FD_FOLDER.fullmatch(os.path.realpath(os.path.dirname(cur))):
            return True
        if not os.path.islink(cur):
            return False
        cur = os.path.join(os.path.dirname(cur), os.readlink(cur))
    return False


#: :func:`output_kind`'s answers.
FILE, LINK, STREAM, OTHER = "file", "link", "stream", "other"


def output_kind(path: str | Path) -> tuple[str, Path]:
    """How the file output ``path`` is written, and where:

    * ``("file", path)``: a new or regular file, written atomically (a temporary file next to
      it, then one ``os.replace``);
    * ``("link", target)``: a symbolic link (to a regular file, or dangling); its resolved
      ``target`` is written atomically as a file, and the link stays;
    * ``("stream", path)``: a named pipe, a character device (``/dev/null``, a terminal) or an
      open descriptor (``/dev/stdout``, ``/dev/fd/N``): the bytes are appended to it as they
      are, no temporary file next to it and no replace;
    * ``("other", path)``: a folder, a socket, a block device or a link loop: not written.
    """
    path = Path(path)
    try:
        if _names_descriptor(path):
            return (OTHER if path.is_dir() else STREAM), path
        if path.is_symlink():
            target = path.resolve(strict=False)
            if target.is_symlink():  # a loop: resolve gives up on it (Python < 3.13)
                return OTHER, path
            kind, where = output_kind(target)
            return (LINK if kind == FILE else kind), where
        if not (path.exists() or path.is_symlink()):
            return FILE, path
        mode = path.stat().st_mode
    except (OSError, RuntimeError):  # RuntimeError: a link loop (Python < 3.13)
        return OTHER, path
    if stat.S_ISREG(mode):
        return FILE, path
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return STREAM, path
    return OTHER, path


def format_name(path: str | Path) -> Path:
    """The path whose name says the format of the file output ``path`` (``.parquet``,
    ``.csv``): a symbolic link's target, which is the file written (:func:`output_kind`: the
    link stays), else ``path`` itself. Before (ut42_recheck_b #3), ``scenarios --out lsc``,
    ``lsc`` a link to ``scen_t.parquet``, was refused because the link's own name has no
    extension."""
    kind, where = output_kind(path)
    return where if kind == LINK else Path(path)


def folder_target(path: str | Path) -> Path | None:
    """Where the folder output ``path`` is written: ``path`` itself, or, when it is a symbolic
    link (to a folder, or dangling), its resolved target, as the shell's ``cd`` and ``mkdir -p``
    take it (the link stays); None for a link loop. A user's ``results`` linked to a scratch
    disk was refused as "a file (or a link)" (session 41's known list)."""
    path = Path(path)
    if not path.is_symlink():
        return path
    try:
        target = path.resolve(strict=False)
    except (OSError, RuntimeError):  # RuntimeError: a link loop (Python < 3.13)
        return None
    return None if target.is_symlink() else target


def _through_link(problems: list[Problem], path: Path, target: Path) -> list[Problem]:
    """``problems`` of the link ``path``'s ``target``, saying that ``path`` is a link."""
    return [Problem(p.kind, p.component, f"'{path}' is a link to '{target}': {p.unspelled[0]}",
                    (str(path),), p.field, p.unspelled[1], p.severity) for p in problems]


def dash_problem(option: str | None, *, folder: bool = False,
                 example: str = "result.json") -> Problem:
    """The problem of ``-`` given as an output (the Unix "standard output" convention, which
    feederopt does not follow), its hint fitting the output: a folder's name for a folder; for
    a file, ``example`` (``report.html`` for ``feederopt report -o``), and for ``--json`` also
    ``/dev/stdout``, which receives the document (README "Output paths"). Before (user test
    ut47_cli #8) every hint was "give a file name, e.g. result.json", for a folder and an
    HTML report too, and ``--json -`` was not told of ``/dev/stdout``."""
    if folder:
        hint = "give a folder name, e.g. results"
    elif option == "json":
        hint = (f"give a file name, e.g. {example}, or --json /dev/stdout to write the JSON "
                "to standard output")
    else:
        hint = f"give a file name, e.g. {example}"
    return _problem(ProblemKind.BAD_OUTPUT_PATH, Path("-"), "'-' is not written to standard "
                    "output: results are written to a named file or folder", option, hint)


def output_problems(path: str | Path, *, force: bool, folder: bool = False,
                    option: str | None = None,
                    inputs: Sequence[str | Path] = (),
                    command: str | None = None) -> list[Problem]:
    """What stops ``path`` from being written as a file (or, with ``folder``, a folder of
    files); empty when it can be. ``option`` names the command-line option (``"json"`` for
    ``--json``) in the problems. ``inputs`` are the paths the command reads: an output that is
    one of them, lies in an input folder or (a folder) holds one is refused, with or without
    ``force``. With ``folder``, ``force`` replaces only an empty folder or a result folder
    (one with :data:`RESULT_MARKER`), not a file or a folder of other files; ``command`` (a key
    of :data:`FOLDER_FILES`) names the files it writes into the folder, and one of them that the
    folder holds but feederopt did not write (a user's own ``report.html``) is refused, here,
    before the solve: found after it, the results were already replaced when the command
    stopped (user test ut_out #2)."""
    if str(path) == "-":  # the Unix "standard output" convention, which we do not follow
        return [dash_problem(option, folder=folder)]
    if isinstance(path, str) and not path.strip():
        # "" is Path("."): said as the empty path given, not as '.' (user test ut51_cli #5)
        kind = "folder" if folder else "file"
        return [Problem(ProblemKind.BAD_OUTPUT_PATH, "output", f"the {kind} path is empty",
                        ids=(path,), field=option,
                        hint=f"give the {kind}'s name")]
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    what = "folder" if folder else "file"
    if path.is_dir() and not folder:
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"'{path}' is a folder",
                         option, "give the name of a file")]
    if folder and path.is_symlink():
        followed = folder_target(path)
        if followed is None:
            return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"'{path}' is a link loop: "
                             f"feederopt does not write it, with or without {_FORCE}", option,
                             "name a folder")]
        # the link's target is the folder written (the link stays), so the target is checked
        return _through_link(output_problems(followed, force=force, folder=True,
                                             option=option, inputs=inputs, command=command),
                             path, followed)
    if not folder:
        kind, target = output_kind(path)
        if kind == STREAM:
            # a pipe, a terminal, /dev/stdout: written into, nothing replaced (user test
            # ut41_cli #1: '--force --json /dev/stdout | jq' replaced /dev/stdout)
            return []
        if kind == OTHER:
            return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"'{path}' is neither a "
                             "regular file nor a pipe or character device (a folder, a "
                             "socket, a block device or a link loop): feederopt does not "
                             f"write it, with or without {_FORCE}", option,
                             "give the name of a file")]
        if kind == LINK:
            # the link's target is written (the link stays), so the target is checked
            return _through_link(output_problems(target, force=force, option=option,
                                                 inputs=inputs), path, target)
    if not parent.exists():
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path,
                         f"the folder '{parent}' does not exist", option,
                         "create it first, or choose another path")]
    if not parent.is_dir():
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"'{parent}' is not a folder",
                         option, "choose a path inside a folder")]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path,
                         f"the folder '{parent}' is not writable", option,
                         "choose a folder you may write to")]
    refused = _write_refused(parent)
    if refused is not None:
        # os.access answers yes to root on a read-only mount, /sys or /proc: the solve ran for
        # minutes and then failed with a raw PermissionError (exit 1)
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path,
                         f"the folder '{parent}' cannot be written to ({refused})", option,
                         "choose a folder you may write to")]
    if (path.exists() and not path.is_file() and not path.is_dir()):
        # --out /dev/null --force replaced the device node with a regular file
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"'{path}' is not a regular file "
                         f"(a device, pipe or socket): feederopt never replaces it, even with "
                         f"{_FORCE}", option, f"name a new {what}")]
    if folder and path.is_dir() and path.resolve() in (Path.cwd(), *Path.cwd().parents):
        # 'solve X --out . --force' failed with "OSError: Device or resource busy" (exit 1)
        # and left a '..<random>.old' folder behind
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"'{path}' is the current folder "
                         "or holds it: a result folder cannot replace it", option,
                         "name a new folder, e.g. result")]
    clash = _input_clash(path, inputs, folder, command)
    if clash is not None:
        return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"{clash}: writing it would "
                         "overwrite what the command reads, which feederopt never does, "
                         f"with or without {_FORCE}", option,
                         f"give the output {what} another path")]
    exists = path.exists() or path.is_symlink()
    if folder and exists:
        # what --force would refuse is said at once, not "pass --force" first (user test
        # ut34: --out on a folder of the user's own files was told to pass --force, which
        # then said that it replaces only result folders)
        theirs = _not_replaceable(path, option, command, force)
        if theirs is not None:
            return [theirs]
    if exists and not force:
        return [_problem(ProblemKind.OUTPUT_EXISTS, path, f"'{path}' exists already", option,
                         f"choose another {what}, or pass {_FORCE} to replace it")]
    if folder and exists:
        refused = _replace_refused(path)
        if refused is not None:
            # found only after the solve, at the rename (user test ut32_cli #2: ``chattr +i``
            # on an empty --out folder; the solve lost, a '.ro.XXXX.old' folder left behind)
            return [_problem(ProblemKind.BAD_OUTPUT_PATH, path, f"the folder '{path}' cannot "
                             f"be replaced ({refused}); nothing was solved or replaced", option,
                             "name a new folder, or make this one writable")]
    return []


def _not_replaceable(path: Path, option: str | None, command: str | None,
                     force: bool) -> Problem | None:
    """The problem of the existing ``path`` as an output folder that ``force`` would not
    replace either, or None: a file or a link, a folder of other files than a feederopt
    result's, or a result folder holding a file of the user's that the command writes.
    Without ``force`` its kind is ``output_exists`` (the path exists), with it
    ``bad_output_path`` (the path is not one that ``force`` replaces)."""
    kind = ProblemKind.BAD_OUTPUT_PATH if force else ProblemKind.OUTPUT_EXISTS
    if not path.is_dir() or path.is_symlink():
        return _problem(kind, path, f"'{path}' exists already and is a file (or a "
                        f"link), not a result folder: {_FORCE} replaces only result folders, so "
                        "it does not replace this one either", option,
                        "name a new folder, or remove it yourself")
    marker = path / RESULT_MARKER
    if any(path.iterdir()) and not _is_result(marker):
        why = (f"its {RESULT_MARKER} is not a feederopt result, so it is not a feederopt "
               "result folder" if marker.exists() or marker.is_symlink() else
               f"holds files but no {RESULT_MARKER}: it is not a feederopt result folder")
        return _problem(kind, path, f"'{path}' exists already and "
                        f"{why}; {_FORCE} replaces only those (or an empty folder), so it does "
                        "not replace this one either; nothing is replaced", option,
                        "name a new folder, or empty it yourself")
    theirs = [name for name in FOLDER_FILES.get(command or "", ())
              if ((path / name).exists() or (path / name).is_symlink())
              and not owned_by_feederopt(path, name)]
    if theirs:
        listed = ", ".join(f"'{path / name}'" for name in theirs)
        return _problem(ProblemKind.OUTPUT_EXISTS, path, f"{listed} exist"
                        f"{'s' if len(theirs) == 1 else ''} already and "
                        f"{'is' if len(theirs) == 1 else 'are'} not feederopt's (the "
                        f"folder's {MANIFEST} does not list it): the command would write "
                        f"over it, which it does not do, with or without {_FORCE}; nothing "
                        "was solved or replaced", option,
                        "move or rename your file, or name another output folder")
    return None


def _write_refused(parent: Path) -> str | None:
    """Why a file cannot be created in the folder ``parent`` (the OS's reason), or None: a
    real probe (an empty temporary file, removed at once), since ``os.access`` does not see
    read-only mounts or pseudo file systems for root."""
    try:
        fd, name = tempfile.mkstemp(dir=parent, prefix=".feederopt-probe.", suffix=".part")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _replace_refused(folder: Path) -> str | None:
    """Why the existing folder ``folder`` cannot be replaced by a new result folder (the OS's
    reason), or None. Replacing renames it into a '.old' folder and moves the user's files out
    of it: renaming a folder needs write access to it (its '..' entry changes) and, in a sticky
    parent (/tmp), to own it or the parent; moving files out needs creating and removing names
    in it. Probed for real (a file created and removed in it), since ``os.access`` does not see
    the immutable or append-only flags (``chattr +i``/``+a``) or read-only mounts for root."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return "it is not writable"
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and geteuid() != 0:
        parent = folder.resolve().parent
        pst = parent.stat()
        if pst.st_mode & stat.S_ISVTX and geteuid() not in (pst.st_uid, folder.stat().st_uid):
            return f"'{parent}' is sticky and neither it nor the folder is yours"
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".feederopt-probe.", suffix=".part")
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    try:
        os.unlink(name)
    except OSError as exc:  # append-only: names can be made but not removed
        return exc.strerror or type(exc).__name__
    return None


def write_failed(path: Path, exc: OSError) -> InputError:
    """A typed ``bad_output_path`` problem for an OS error met while writing ``path`` (a full
    disk, a folder made read-only during the solve): the CLI exits with code 2 and names the
    path, not a raw PermissionError with a temporary file's name."""
    reason = exc.strerror or str(exc)
    return InputError([_problem(ProblemKind.BAD_OUTPUT_PATH, path,
                                f"'{path}' could not be written ({reason}); nothing was "
                                "replaced", None, "check the folder's permissions and free "
                                "space, or choose another path")])


def check_output(path: str | Path, *, force: bool, folder: bool = False,
                 option: str | None = None, inputs: Sequence[str | Path] = (),
                 command: str | None = None) -> Path:
    """``path`` if it can be written (see :func:`output_problems`), else an InputError."""
    problems = output_problems(path, force=force, folder=folder, option=option, inputs=inputs,
                               command=command)
    if problems:
        raise InputError(problems)
    return Path(path)


def _exists_error(path: Path) -> InputError:
    return InputError([_problem(ProblemKind.OUTPUT_EXISTS, path, f"'{path}' exists already",
                                None, f"choose another name, or pass {_FORCE} to replace it")])


def _publish_file(tmp: Path, path: Path, force: bool) -> None:
    """Move the finished ``tmp`` to ``path`` in one step."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if ``path`` exists: no clobbering, even in a race
    except FileExistsError:
        raise _exists_error(path) from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise _exists_error(path) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def _process_umask() -> int:
    """The process's umask, read once at import (``os.umask`` can only read it by setting it,
    which would race with other threads later)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _process_umask()


def _usual_mode(tmp: Path, mode: int) -> None:
    """Give ``tmp`` the permissions a plain ``open``/``mkdir`` gives (``mode`` less the umask):
    ``mkstemp``/``mkdtemp`` make them private (0600/0700), so result folders and reports were
    unreadable to anyone else (``drwx------``) where the user's umask allows more."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode & ~_UMASK)


@contextlib.contextmanager
def atomic_file(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """A temporary path next to ``path`` to write to; moved to ``path`` when the block ends
    without an exception, removed otherwise (``path`` is then as it was). An existing ``path``
    is replaced only with ``force``. A link is followed: its target is written so (the
    temporary file next to the target), and the link stays; a stream (a pipe, a character
    device, ``/dev/stdout``) gets the bytes appended instead (:func:`output_kind`)."""
    path = Path(path)
    check_output(path, force=force)
    kind, target = output_kind(path)
    if kind == STREAM:
        with _streamed(path) as tmp:
            yield tmp
        return
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".part")
    except OSError as exc:
        raise write_failed(path, exc) from None
    os.close(fd)
    tmp = Path(name)
    _usual_mode(tmp, 0o666)
    try:
        try:
            yield tmp
            _publish_file(tmp, target, force)  # a link's target: the link stays
        except OSError as exc:
            raise write_failed(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _streamed(path: Path) -> Iterator[Path]:
    """:func:`atomic_file` for a stream ``path`` (:func:`output_kind`): the bytes written to
    the temporary path (in the system's temporary folder: nothing is created beside a device)
    are appended to ``path`` when the block ends without an exception, so that a reader gets
    the whole document or nothing; ``path`` itself is never replaced."""
    try:
        fd, name = tempfile.mkstemp(prefix="feederopt-", suffix=".part")
    except OSError as exc:
        raise write_failed(path, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        for console in (sys.stdout, sys.stderr):  # what was printed comes first
            with contextlib.suppress(Exception):
                console.flush()
        try:
            # append: '--json /dev/stdout >> log' keeps the log; a pipe or a terminal
            # does not mind. A named pipe waits here for its reader, as 'cat > pipe' does.
            with open(tmp, "rb") as src, open(path, "ab") as dst:
                shutil.copyfileobj(src, dst)
        except OSError as exc:
            raise write_failed(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str, *, force: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | Path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, force=force) as tmp:
        tmp.write_bytes(data)
    return Path(path)


#: The list of the files that feederopt wrote into a result folder (one relative path a
#: line), written last into every folder :func:`atomic_folder` publishes: ``force`` replaces
#: those files and keeps every other file of the folder (the user's notes, say).
MANIFEST = ".feederopt-files"

#: The files that result folders written before :data:`MANIFEST` hold, all at the folder's
#: top level (solve, scenarios, robust, plan, partition, schedule and three-phase results): in
#: such a folder ``force`` replaces these and keeps every other file, those in sub-folders
#: included. (It kept only the files of other kinds than .json, .parquet, .png, .html and .csv
#: until session 29, at every depth: user test ut_cli #1, ``mydata/keep.csv`` deleted.)
LEGACY_OUTPUTS = frozenset({
    "result.json", "buses.parquet", "branches.parquet", "switches.parquet",
    "generators.parquet", "iterations.parquet", "grid.png", "report.html", "plan.png",
    "microgrids.png", "hourly.png", "voltage_profile.png"})


def _files(root: Path) -> list[str]:
    """Every file (or link) below ``root``, as relative POSIX paths."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        links = [d for d in dirnames if (base / d).is_symlink()]  # walk does not enter them
        out += [(base / n).relative_to(root).as_posix() for n in (*filenames, *links)]
    return sorted(out)


def _ours(folder: Path) -> set[str] | None:
    """The files that feederopt wrote into the result folder ``folder`` (its manifest), or
    None for a folder written before manifests."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return None
    return {line for line in text.splitlines() if line} | {MANIFEST}


def owned_by_feederopt(folder: str | Path, rel: str) -> bool:
    """Whether the file ``rel`` of the result folder ``folder`` is feederopt's: listed in its
    :data:`MANIFEST`, or for a folder from before manifests one of :data:`LEGACY_OUTPUTS`."""
    ours = _ours(Path(folder))
    return rel in (ours if ours is not None else LEGACY_OUTPUTS)


def add_to_manifest(folder: str | Path, rel: str) -> None:
    """Record the file ``rel`` (relative to ``folder``) that feederopt wrote into the result
    folder ``folder`` after it was published (``report.html``), so that ``force`` replaces it
    with the folder; nothing for a folder without a :data:`MANIFEST`."""
    folder = Path(folder)
    ours = _ours(folder)
    if ours is None or rel in ours:
        return
    try:
        with open(folder / MANIFEST, "a", encoding="utf-8") as fh:
            fh.write(f"{rel}\n")
    except OSError as exc:
        raise write_failed(folder / MANIFEST, exc) from None


def _carry_over(old: Path, new: Path, moved: list[str]) -> None:
    """Move the files of the replaced folder ``old`` that feederopt did not write (not in its
    manifest; in a folder without one, all but the :data:`LEGACY_OUTPUTS` at its top level)
    and that the new folder ``new`` does not have into ``new``; ``moved`` collects their
    relative paths, so that a failure can put them back (:func:`_put_back`)."""
    ours = _ours(old)
    for rel in _files(old):
        theirs = rel not in (ours if ours is not None else LEGACY_OUTPUTS)
        target = new / rel
        if not theirs or target.exists() or target.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old / rel, target)
        moved.append(rel)


def _put_back(path: Path, old: Path | None, tmp: Path, moved: list[str]) -> None:
    """Undo a replacement of ``path`` that failed half-way: the user's files carried into
    ``tmp`` go back into the folder set aside in ``old``, that folder back to ``path``, and
    the '.old' folder is removed once empty (user test ut32_cli #2: every failed attempt left
    an empty '.ro.XXXX.old' folder behind)."""
    if old is None:
        return
    saved = old / path.name
    with contextlib.suppress(OSError):
        for rel in moved:
            if (tmp / rel).exists() or (tmp / rel).is_symlink():
                os.replace(tmp / rel, saved / rel)
        if (saved.exists() or saved.is_symlink()) and not (path.exists() or path.is_symlink()):
            os.replace(saved, path)
    with contextlib.suppress(OSError):
        old.rmdir()  # only when empty: nothing of the user's is deleted


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """A new temporary folder next to ``path`` to fill; renamed to ``path`` when the block ends
    without an exception, removed otherwise. An existing ``path`` (folder or file) is replaced,
    and only then deleted, only with ``force``; the files in it that feederopt did not write
    (not in its :data:`MANIFEST`) are moved into the new folder first, so that nothing of the
    user's is deleted (user test: ``--force`` deleted the notes a user had put beside a
    result)."""
    check_output(path, force=force, folder=True)
    path = folder_target(path) or Path(path)  # a link's target: the link stays
    try:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part"))
    except OSError as exc:
        raise write_failed(path, exc) from None
    _usual_mode(tmp, 0o777)
    try:
        old: Path | None = None
        moved: list[str] = []
        try:
            yield tmp
            (tmp / MANIFEST).write_text("".join(f"{rel}\n" for rel in _files(tmp)),
                                        encoding="utf-8")
            if path.exists() or path.is_symlink():
                if not force:
                    raise _exists_error(path)
                old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.",
                                            suffix=".old"))
                os.replace(path, old / path.name)
                if (old / path.name).is_dir() and not (old / path.name).is_symlink():
                    _carry_over(old / path.name, tmp, moved)
            os.rename(tmp, path)
        except BaseException as exc:
            _put_back(path, old, tmp, moved)
            if isinstance(exc, OSError):
                raise write_failed(path, exc) from exc
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
