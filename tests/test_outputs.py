"""Output paths and files (issue 11, section 4): checked before the work, written atomically,
never replaced without ``--force``.

The solves here run with ``--no-ac-check``: what they test is the files written, and no test
here reads the AC check."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api import save_json
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.folder import write_folder
from feederopt.io.writing import atomic_file, output_problems, write_text
from feederopt.report.output import write_result_dir
from netbuild import tiny

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder(tiny(), tmp_path_factory.mktemp("net") / "tiny")


@pytest.fixture(scope="module")
def result() -> Any:
    return feederopt.solve(tiny(), ac_check=False)


def _kinds(problems: list[Any]) -> list[ProblemKind]:
    return [p.kind for p in problems]


def _leftovers(folder: Path) -> list[str]:
    """Temporary files or folders of an atomic write left behind."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# ----- the path checks --------------------------------------------------------------------------
def test_output_problems_name_what_is_wrong(tmp_path: Path) -> None:
    existing = tmp_path / "r.json"
    existing.write_text("{}")
    a_file = tmp_path / "plain"
    a_file.write_text("x")
    assert output_problems(tmp_path / "new.json", force=False) == []
    cases = {
        tmp_path / "missing" / "r.json": ("does not exist", ProblemKind.BAD_OUTPUT_PATH),
        a_file / "r.json": ("is not a folder", ProblemKind.BAD_OUTPUT_PATH),
        tmp_path: ("is a folder", ProblemKind.BAD_OUTPUT_PATH),
        existing: ("exists already", ProblemKind.OUTPUT_EXISTS),
    }
    for path, (message, kind) in cases.items():
        problems = output_problems(path, force=False, option="json")
        assert _kinds(problems) == [kind], path
        assert message in problems[0].message and problems[0].field == "json"
        assert problems[0].ids == (str(path),) and problems[0].hint
    assert output_problems(existing, force=True) == []
    # A folder output may replace a folder, with force only, and only a result folder (one
    # with result.json) or an empty one: before, --force wiped any folder of the user's files
    assert _kinds(output_problems(tmp_path, force=False, folder=True)) == [
        ProblemKind.OUTPUT_EXISTS]
    foreign = output_problems(tmp_path, force=True, folder=True)
    assert _kinds(foreign) == [ProblemKind.BAD_OUTPUT_PATH]
    assert "not a feederopt result folder" in foreign[0].message
    (tmp_path / "result.json").write_text("{}")  # not a result feederopt wrote
    assert "not a feederopt result folder" in output_problems(
        tmp_path, force=True, folder=True)[0].message
    (tmp_path / "result.json").write_text('{"status": "optimal"}')
    assert output_problems(tmp_path, force=True, folder=True) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    assert output_problems(empty, force=True, folder=True) == []
    # nor a file, with force
    assert "not a result folder" in output_problems(a_file, force=True, folder=True)[0].message
    # A folder is never replaced by a file, even with force.
    assert _kinds(output_problems(tmp_path, force=True)) == [ProblemKind.BAD_OUTPUT_PATH]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_a_problem(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        problems = output_problems(locked / "r.json", force=False)
        assert _kinds(problems) == [ProblemKind.BAD_OUTPUT_PATH]
        assert "not writable" in problems[0].message
    finally:
        locked.chmod(0o700)


def test_solve_checks_every_output_before_solving(tmp_path: Path, tiny_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def no_solve(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("solved despite a bad output path")

    monkeypatch.setattr("feederopt.api.solve", no_solve)
    existing = tmp_path / "old"
    existing.mkdir()
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", "--json",
                              str(tmp_path / "missing" / "r.json"), "--out", str(existing)])
    assert res.exit_code == 2, res.output
    # Both problems at once, as typed problems, without a traceback.
    assert "bad_output_path" in res.output and "output_exists" in res.output
    assert "Traceback" not in res.output
    # With a bad input as well: all of them at once.
    res = runner.invoke(app, ["solve", str(tmp_path / "nope.m"), "--no-ac-check", "--json",
                              str(tmp_path / "missing" / "r.json")])
    assert res.exit_code == 2 and "bad_output_path" in res.output
    assert "nope.m" in res.output


# ----- never overwrite without --force ----------------------------------------------------------
def test_every_command_refuses_to_overwrite_without_force(tmp_path: Path,
                                                          tiny_dir: Path) -> None:
    mine = "the user's own file\n"
    j, out, page, scen = (tmp_path / "r.json", tmp_path / "out", tmp_path / "r.html",
                          tmp_path / "s.csv")
    for path in (j, page, scen):
        path.write_text(mine)
    out.mkdir()
    (out / "mine.txt").write_text(mine)
    commands = {
        "solve --json": ["solve", str(tiny_dir), "--no-ac-check", "--json", str(j), "-q"],
        "solve --out": ["solve", str(tiny_dir), "--no-ac-check", "--out", str(out), "-q"],
        "scenarios --out": ["scenarios", str(tiny_dir), "--out", str(scen), "--count", "2",
                            "-q"],
        "check --json": ["check", str(tmp_path / "any.json"), "--uncertainty", "0.1",
                         "--json", str(j), "-q"],
        "report --out": ["report", str(tmp_path / "res"), "--out", str(page), "-q"],
    }
    # A result folder for `report`.
    assert runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                               "--out", str(tmp_path / "res"),
                               "-q"]).exit_code == 0
    for name, args in commands.items():
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (name, res.output)
        assert "output_exists" in res.output and "--force" in res.output, name
    for path in (j, page, scen, out / "mine.txt"):
        assert path.read_text() == mine
    # With --force each file is replaced (check needs a result to check: the JSON just
    # written); a folder of the user's files is not, only a result folder
    for name in ("solve --json", "scenarios --out", "report --out"):
        res = runner.invoke(app, [*commands[name], "--force"])
        assert res.exit_code == 0, (name, res.output)
    res = runner.invoke(app, [*commands["solve --out"], "--force"])
    assert res.exit_code == 2 and "not a feederopt result folder" in res.output, res.output
    assert (out / "mine.txt").read_text() == mine
    (out / "mine.txt").unlink()
    assert runner.invoke(app, [*commands["solve --out"], "--force"]).exit_code == 0
    assert runner.invoke(app, [*commands["solve --out"], "--force"]).exit_code == 0
    assert json.loads(j.read_text())["case"] and (out / "result.json").is_file()
    assert page.read_text().startswith("<!DOCTYPE html>") and scen.read_text() != mine
    check_json = tmp_path / "c.json"
    check_json.write_text(mine)
    args = ["check", str(j), "--uncertainty", "0.1", "--samples", "3", "--no-ac", "--json",
            str(check_json), "-q"]
    assert runner.invoke(app, args).exit_code == 2 and check_json.read_text() == mine
    res = runner.invoke(app, [*args, "--force"])
    assert res.exit_code == 0, res.output
    assert json.loads(check_json.read_text())["samples"] == 3
    assert not _leftovers(tmp_path)


def test_save_refuses_an_existing_folder_without_force(tmp_path: Path, result: Any) -> None:
    out = tmp_path / "res"
    feederopt.save(result, out, report=False)
    (out / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match="exists already"):
        feederopt.save(result, out, report=False)
    assert (out / "mine.txt").read_text() == "keep"
    feederopt.save(result, out, force=True, report=False)
    # force replaces feederopt's own files and keeps the user's (user tests: it deleted them)
    assert (out / "mine.txt").read_text() == "keep" and (out / "result.json").is_file()
    with pytest.raises(InputError, match="exists already"):
        save_json(result, out / "result.json")


# ----- atomic writes ----------------------------------------------------------------------------
def test_a_failing_writer_leaves_the_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(path, force=True) as tmp:
        tmp.write_text("half a resu")
        raise RuntimeError("disk full")
    assert path.read_text() == "old" and not _leftovers(tmp_path)
    write_text(path, "new", force=True)
    assert path.read_text() == "new" and not _leftovers(tmp_path)


def test_a_file_that_appears_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    with pytest.raises(InputError, match="exists already"), atomic_file(path) as tmp:
        tmp.write_text("ours")
        path.write_text("theirs")  # another process took the name during the write
    assert path.read_text() == "theirs" and not _leftovers(tmp_path)


def test_a_failing_result_folder_leaves_the_old_one_intact(
        tmp_path: Path, result: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "res"
    write_result_dir(result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("crash while drawing")

    monkeypatch.setattr("feederopt.report.plot.plot_grid", crash)
    with pytest.raises(RuntimeError, match="crash"):
        write_result_dir(result, out, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not _leftovers(tmp_path)
    # A new folder is not created half-way either.
    with pytest.raises(RuntimeError, match="crash"):
        write_result_dir(result, tmp_path / "new")
    assert not (tmp_path / "new").exists() and not _leftovers(tmp_path)


def test_a_failing_json_writer_leaves_the_old_json_intact(
        tmp_path: Path, result: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.json"
    save_json(result, path)
    old = path.read_text()

    def broken(self: Any) -> str:
        raise ValueError("not serialisable")

    monkeypatch.setattr(type(result), "to_json", broken)
    with pytest.raises(ValueError):
        save_json(result, path, force=True)
    assert path.read_text() == old and not _leftovers(tmp_path)


# ----- never onto the inputs, never a folder of other files -------------------------------------
def test_force_never_writes_onto_an_input(tmp_path: Path) -> None:
    """``--force`` replaces an earlier output, never what the command reads: before, ``solve
    NET --json NET --force`` replaced the user's network with the result, ``scenarios FOLDER
    --out FOLDER/loads.csv --force`` a table of the input folder, and ``check R.json --json
    R.json --force`` the result being checked (each exit 0)."""
    net = write_folder(tiny(), tmp_path / "tiny")
    tables = {p.name: p.read_bytes() for p in net.iterdir()}
    loads = next(p for p in net.iterdir() if p.name.startswith("loads."))
    runs = {
        "solve --json inside the input folder": (
            ["solve", str(net), "--no-ac-check",
             "--json", str(net / "r.json"), "--force"], "inside the input"),
        "scenarios --out onto an input table": (
            ["scenarios", str(net), "--out", str(loads.with_suffix(".csv")), "--force"],
            "inside the input"),
    }
    for name, (args, said) in runs.items():
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and said in res.output, (name, res.output)
    assert {p.name: p.read_bytes() for p in net.iterdir()} == tables  # nothing touched
    result = tmp_path / "r.json"
    assert runner.invoke(app, ["solve", str(net), "--no-ac-check", "--json", str(result), "--quiet"]
                         ).exit_code == 0
    before = result.read_bytes()
    for args in (["solve", str(result), "--no-ac-check", "--json", str(result), "--force"],
                 ["check", str(result), "-u", "0.1", "-n", "5", "--json", str(result),
                  "--force"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and "is the input" in res.output, (args, res.output)
    assert result.read_bytes() == before


def test_force_replaces_only_a_result_folder(tmp_path: Path) -> None:
    """``solve case --out DIR --force`` where DIR holds the user's files (no result.json):
    refused and the files kept; before, they were deleted. A result folder is replaced."""
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "mydata.txt").write_text("data")
    net = write_folder(tiny(), tmp_path / "tiny")
    res = runner.invoke(app, ["solve", str(net), "--no-ac-check",
                              "--out", str(precious), "--force"])
    assert res.exit_code == 2 and "not a feederopt result folder" in res.output, res.output
    assert (precious / "mydata.txt").read_text() == "data"
    out = tmp_path / "out"
    for _ in range(2):  # written, then replaced with --force
        res = runner.invoke(app, ["solve", str(net), "--no-ac-check",
                                  "--out", str(out), "--force", "--quiet"])
        assert res.exit_code == 0, res.output
    assert (out / "result.json").is_file()


def test_force_on_a_folder_with_a_foreign_result_json_names_it(tmp_path: Path) -> None:
    """DIR holds a result.json that feederopt did not write: the message said the folder
    "holds files but no result.json"; it names the result.json as not a feederopt result, and
    nothing is replaced."""
    keep = tmp_path / "out_keep"
    keep.mkdir()
    (keep / "result.json").write_text("keep\n")
    net = write_folder(tiny(), tmp_path / "tiny")
    res = runner.invoke(app, ["solve", str(net), "--no-ac-check", "--out", str(keep), "--force"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "its result.json is not a feederopt result" in text, text
    assert "no result.json" not in text and "Traceback" not in res.output
    assert (keep / "result.json").read_text() == "keep\n"
    assert sorted(p.name for p in keep.iterdir()) == ["result.json"]


def test_force_never_writes_onto_a_file_the_feeder_reads(tmp_path: Path) -> None:
    """An OpenDSS feeder reads what it redirects to and its shapes' data files: ``solve a.dss
    --json base.dss --force`` replaced the redirected base.dss with the result, and
    ``scenarios a.dss --load-shapes daily -o m.csv --force`` a LoadShape's mult file. Both are
    refused now, and nothing is touched; an unrelated name in the same folder is fine."""
    from feederopt.io.dss_files import script_files

    sub = tmp_path / "sub"
    sub.mkdir()
    files = {
        "a.dss": "Clear\nRedirect sub/base.dss ! the circuit\n"
                 "New LoadShape.m npts=2 interval=1 mult=(file=m.csv)\nBusCoords xy.csv\n",
        "sub/base.dss": "New Circuit.x bus1=src basekV=12.47\nCompile \"lines.dss\"\n",
        "sub/lines.dss": "New Line.l Bus1=src Bus2=b Length=1\n",
        "m.csv": "0.5\n1.0\n", "xy.csv": "src,0,0\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    feeder = tmp_path / "a.dss"
    assert {p.relative_to(tmp_path).as_posix() for p in script_files(feeder)} == set(files)
    runs = [["solve", str(feeder), "--no-ac-check", "--json", str(sub / "base.dss"), "--force"],
            ["solve", str(feeder), "--no-ac-check", "--json", str(sub / "lines.dss"), "--force"],
            ["scenarios", str(feeder), "--load-shapes", "daily", "-o", str(tmp_path / "m.csv"),
             "--force"],
            ["solve", str(feeder), "--no-ac-check", "--json", str(tmp_path / "xy.csv"), "--force"]]
    for args in runs:
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and "a file that the input" in res.output, (args, res.output)
    for name, text in files.items():
        assert (tmp_path / name).read_text() == text, name
    assert output_problems(tmp_path / "result.json", force=True, inputs=[feeder]) == []


# ----- folders that cannot be written, outputs that are not regular files (ut_bad 2, 9) ---------
needs_proc = pytest.mark.skipif(not Path("/proc/self").is_dir(),
                                reason="needs Linux's /proc, where nobody may create a file")


@needs_proc
def test_an_unwritable_folder_is_found_before_solving(tmp_path: Path, tiny_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # os.access says yes to root for /proc (and /sys, a read-only mount): the solve ran, then
    # failed with a raw FileNotFoundError/PermissionError on its '.part' file, exit 1
    def no_solve(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("solved despite an unwritable output folder")

    monkeypatch.setattr("feederopt.api.solve", no_solve)
    for option, path in (("--json", "/proc/feederopt_nope.json"), ("--out", "/proc/fo_nope")):
        res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", option, path, "--force"])
        assert res.exit_code == 2, res.output
        assert "bad_output_path" in res.output and path in res.output
        assert "cannot be written" in res.output
        assert "Traceback" not in res.output and "PermissionError" not in res.output
        assert not Path(path).exists()


@needs_proc
def test_report_and_save_json_refuse_an_unwritable_folder(tmp_path: Path, tiny_dir: Path,
                                                          result: Any) -> None:
    res_dir = tmp_path / "res"
    assert runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", "--out", str(res_dir),
                               "-q"]).exit_code == 0
    res = runner.invoke(app, ["report", str(res_dir), "--out", "/proc/fo_nope.html"])
    assert res.exit_code == 2, res.output
    assert "/proc/fo_nope.html" in res.output and "bad_output_path" in res.output
    assert "Traceback" not in res.output
    with pytest.raises(InputError, match=r"/proc/fo_nope\.json") as info:
        save_json(result, "/proc/fo_nope.json")
    assert _kinds(list(info.value.problems)) == [ProblemKind.BAD_OUTPUT_PATH]


def test_an_os_error_while_writing_is_a_typed_problem(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("old")
    with pytest.raises(InputError, match=r"r\.json' could not be written") as info, \
            atomic_file(path, force=True) as tmp:
        raise OSError(28, "No space left on device", str(tmp))
    assert _kinds(list(info.value.problems)) == [ProblemKind.BAD_OUTPUT_PATH]
    assert "No space left" in str(info.value)
    assert path.read_text() == "old" and not _leftovers(tmp_path)


def test_force_never_replaces_a_device_or_pipe(tmp_path: Path, tiny_dir: Path) -> None:
    # '--out /dev/null --force' replaced the device node by a regular file (as root, the
    # system's /dev/null); a result folder never goes into a pipe or a device
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    targets = [str(fifo)] + (["/dev/null"] if Path("/dev/null").exists() else [])
    for target in targets:
        before = os.stat(target)
        res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                                  "--out", target, "--force", "-q"])
        assert res.exit_code == 2, (target, res.output)
        assert "not a regular file" in res.output and target in res.output
        assert "Traceback" not in res.output
        after = os.stat(target)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode, before.st_ino, before.st_rdev)
    assert not _leftovers(tmp_path)


def _is_solve_result(text: str) -> bool:
    """``text`` is one whole JSON document of a solve (what ``--json`` writes)."""
    doc = json.loads(text)
    return doc["kind"] == "solve" and doc["status"] == "optimal"


def test_force_writes_a_links_target_and_keeps_the_link(tmp_path: Path,
                                                         tiny_dir: Path) -> None:
    """User test ut41_cli #1: ``--force --json link.json`` replaced the link by a regular
    file; the file it points to kept its old content. As the shell's ``>`` does, the target
    is written (atomically, beside it) and the link stays; ``--force`` is the target's rule."""
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "latest.json"
    target.write_text('{"old": 1}\n')
    link = tmp_path / "link.json"
    link.symlink_to(Path("shared") / "latest.json")
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                              "--json", str(link), "--force", "-q"])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and os.readlink(link) == str(Path("shared") / "latest.json")
    assert _is_solve_result(target.read_text())
    assert not _leftovers(tmp_path) and not _leftovers(shared)
    # without --force the target is not replaced, and the message says whose rule that is
    target.write_text('{"old": 1}\n')
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", "--json", str(link), "-q"])
    assert res.exit_code == 2 and "exists already" in res.output, res.output
    assert "is a link to" in res.output and str(target) in res.output
    assert link.is_symlink() and target.read_text() == '{"old": 1}\n'
    # a dangling link: its target is created, no --force needed (nothing is overwritten)
    dangling = tmp_path / "next.json"
    dangling.symlink_to("new.json")
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                              "--json", str(dangling), "-q"])
    assert res.exit_code == 0, res.output
    assert dangling.is_symlink() and _is_solve_result((tmp_path / "new.json").read_text())
    # and the Python API alike
    write_text(link, "x", force=True)
    assert link.is_symlink() and target.read_text() == "x"


def test_json_streams_into_a_named_pipe(tmp_path: Path, tiny_dir: Path) -> None:
    """``--json PIPE`` (and so ``--json /dev/stdout | jq``): the reader gets the whole JSON
    document and the pipe stays a pipe; it was refused (and with --force, as /dev/stdout, the
    node replaced by a regular file and the reader got nothing, exit 0)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []

    def read() -> None:
        with open(fifo, encoding="utf-8") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", "--json", str(fifo), "-q"])
    if res.exit_code != 0:  # let the waiting reader go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(timeout=30)
    assert res.exit_code == 0, res.output
    assert got and _is_solve_result(got[0])
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not _leftovers(tmp_path)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="Linux /proc descriptors")
def test_json_appends_to_an_open_descriptor(tmp_path: Path, tiny_dir: Path) -> None:
    """``--json /dev/stdout >> log``: a path that names an open descriptor (here a link to
    /proc/self/fd/N, as /dev/stdout is one) is written into, appended, never replaced, and
    needs no --force; the file the descriptor is open on keeps what it had."""
    log = tmp_path / "log.txt"
    log.write_text("earlier line\n")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{fd}")
        res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                                  "--json", str(link), "-q"])
        assert res.exit_code == 0, res.output
        assert link.is_symlink()
    finally:
        os.close(fd)
    first, rest = log.read_text().split("\n", 1)
    assert first == "earlier line" and _is_solve_result(rest)


def test_a_folder_socket_or_link_loop_is_no_json_file(tmp_path: Path, tiny_dir: Path) -> None:
    """What is neither a file (or a link to one) nor a stream is refused, typed, exit 2,
    with or without --force, and left as it was (a link loop was replaced with --force)."""
    folder = tmp_path / "folder"
    folder.mkdir()
    to_folder = tmp_path / "to_folder"
    to_folder.symlink_to("folder")
    loop = tmp_path / "loop"
    (tmp_path / "loop2").symlink_to("loop")
    loop.symlink_to("loop2")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    try:
        for target in (folder, to_folder, loop, tmp_path / "sock"):
            before = os.lstat(target)
            for force in ([], ["--force"]):
                res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                                          "--json", str(target),
                                          "-q", *force])
                assert res.exit_code == 2, (target, res.output)
                assert "bad_output_path" in res.output and str(target) in res.output
                assert "Traceback" not in res.output
                after = os.lstat(target)
                assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    finally:
        sock.close()
    assert not any(folder.iterdir())
    assert not _leftovers(tmp_path)


def test_force_keeps_the_users_files_in_a_result_folder(tmp_path: Path) -> None:
    """User tests (three of them): ``solve --out DIR --force`` on an earlier result folder
    deleted the notes, annotated plots and sub-folders the user had put there. The folder's
    manifest names what feederopt wrote: those are replaced, a stale one that the new run
    does not write is removed, and every other file stays, sub-folders included; a folder
    written before manifests keeps every file but feederopt's own outputs (by name)."""
    from feederopt.io.writing import MANIFEST

    net = write_folder(tiny(), tmp_path / "tiny")
    out = tmp_path / "res"
    solve = ["solve", str(net), "--no-ac-check", "--out", str(out), "--quiet"]
    assert runner.invoke(app, solve).exit_code == 0
    ours = set((out / MANIFEST).read_text().split())
    assert "result.json" in ours and ours == {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {MANIFEST}
    (out / "my_notes.txt").write_text("notes")
    (out / "my_annotated_grid.png").write_bytes(b"png of mine")
    (out / "mine").mkdir()
    (out / "mine" / "data.csv").write_text("1")
    (out / "stale.parquet").write_bytes(b"old")  # as if an earlier run had written it
    (out / MANIFEST).write_text((out / MANIFEST).read_text() + "stale.parquet\n")
    res = runner.invoke(app, [*solve, "--force"])
    assert res.exit_code == 0, res.output
    assert (out / "my_notes.txt").read_text() == "notes"
    assert (out / "my_annotated_grid.png").read_bytes() == b"png of mine"
    assert (out / "mine" / "data.csv").read_text() == "1"
    assert not (out / "stale.parquet").exists()
    assert "my_notes.txt" not in (out / MANIFEST).read_text()  # still the user's
    # a folder from before manifests: feederopt's own output files (by name, at the top
    # level) go, every other file stays, sub-folders included (user test ut_cli #1: the
    # files of feederopt's kinds, .csv among them, went at every depth, and the emptied
    # sub-folders with them)
    (out / MANIFEST).unlink()
    (out / "extra.png").write_bytes(b"x")
    (out / "mine" / "more.csv").write_text("2")
    (out / "only").mkdir()
    (out / "only" / "data.csv").write_text("3")
    (out / "hourly.png").write_bytes(b"a schedule's plot of an earlier run")
    res = runner.invoke(app, [*solve, "--force"])
    assert res.exit_code == 0, res.output
    assert (out / "my_notes.txt").read_text() == "notes"
    assert (out / "extra.png").read_bytes() == b"x"
    assert (out / "mine" / "more.csv").read_text() == "2"
    assert (out / "only" / "data.csv").read_text() == "3"
    assert not (out / "hourly.png").exists()
    assert not _leftovers(tmp_path)


def test_force_replaces_the_folders_own_report(tmp_path: Path) -> None:
    """User test ut_io #2: the report of ``--report`` is written after the folder is
    published, so it was missing from the manifest and ``--force`` kept it as the user's file:
    a rerun without a report left the previous run's page beside the new result.json."""
    from feederopt.io.writing import MANIFEST

    net = write_folder(tiny(), tmp_path / "tiny")
    out = tmp_path / "res"
    solve = ["solve", str(net), "--no-ac-check", "--out", str(out), "--quiet"]
    assert runner.invoke(app, [*solve, "--report"]).exit_code == 0
    assert "report.html" in (out / MANIFEST).read_text().split()
    (out / "my_page.html").write_text("mine")
    assert runner.invoke(app, [*solve, "--force"]).exit_code == 0
    assert not (out / "report.html").exists()
    assert (out / "my_page.html").read_text() == "mine"
    # a report written elsewhere by ``report --out`` is not the folder's: not in its manifest
    assert runner.invoke(app, ["report", str(out), "--out", str(out / "copy.html")]
                         ).exit_code == 0
    assert "copy.html" not in (out / MANIFEST).read_text().split()


def test_force_report_onto_a_users_page_says_why(tmp_path: Path) -> None:
    """User test ut_cli #2: a page of the user's named report.html in a result folder survives
    ``--force`` (it is not feederopt's), and ``--report`` then refused it with the hint "pass
    --force" to a command given --force. The page is kept and the message says why."""
    net = write_folder(tiny(), tmp_path / "tiny")
    out = tmp_path / "res"
    solve = ["solve", str(net), "--no-ac-check", "--out", str(out), "--quiet"]
    assert runner.invoke(app, solve).exit_code == 0
    (out / "report.html").write_text("<p>mine</p>")
    res = runner.invoke(app, [*solve, "--force", "--report"])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "is not feederopt's" in text and "pass --force" not in text
    assert (out / "report.html").read_text() == "<p>mine</p>"
    assert (out / "result.json").exists()


def test_out_folder_through_a_link_writes_its_target(tmp_path: Path, tiny_dir: Path) -> None:
    """``--out results`` where ``results`` links to a folder on another disk (session 41's
    known list: refused as "a file (or a link)"): as ``cd``/``mkdir -p`` take it, the target is
    the result folder, the link stays, and ``--force`` is the target's rule."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    link = tmp_path / "results"
    link.symlink_to(Path("scratch") / "run1")  # dangling: the folder is created
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", "--out", str(link), "-q"])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and os.readlink(link) == str(Path("scratch") / "run1")
    target = scratch / "run1"
    assert target.is_dir() and _is_solve_result((target / "result.json").read_text())
    (target / "my_notes.txt").write_text("mine")
    # an existing result folder behind the link: refused without --force, naming both
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check", "--out", str(link), "-q"])
    assert res.exit_code == 2 and "exists already" in res.output, res.output
    assert "is a link to" in res.output and "Traceback" not in res.output
    # replaced with it; the user's own file carried over, the link kept
    res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                              "--out", str(link), "-q", "--force"])
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and (target / "my_notes.txt").read_text() == "mine"
    assert _is_solve_result((target / "result.json").read_text())
    assert not _leftovers(tmp_path) and not _leftovers(scratch)
    # a link to a file or a link loop is no folder: refused, left as it was
    (tmp_path / "f.txt").write_text("x")
    to_file = tmp_path / "to_file"
    to_file.symlink_to("f.txt")
    loop = tmp_path / "loop"
    (tmp_path / "loop2").symlink_to("loop")
    loop.symlink_to("loop2")
    for bad in (to_file, loop):
        for force in ([], ["--force"]):
            res = runner.invoke(app, ["solve", str(tiny_dir), "--no-ac-check",
                                      "--out", str(bad), "-q", *force])
            assert res.exit_code == 2 and "Traceback" not in res.output, (bad, res.output)
            assert bad.is_symlink()
    assert (tmp_path / "f.txt").read_text() == "x"
