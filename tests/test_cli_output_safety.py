"""User test ut32_cli: the CLI's output guards and option spellings.

#1 ``report DIR --force`` replaced a ``report.html`` of the user's (not in the folder's
manifest), although the refusal without ``--force`` says it is not written over "with or
without --force"; #2 ``--out`` onto an existing empty folder that cannot be replaced was found
only after the solve; #3 the hint for a restore JSON named a ``--out`` that restore lacked (it has
one now, and the hint names it); #4
``check --uncertainty -0.2`` printed a note with "+--20 %" before its error; #5 the AC check
switch and ``-o`` spelled alike in every command.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt.api
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io.folder import write_folder
from feederopt.io.writing import atomic_folder
from netbuild import tiny

runner = CliRunner(env={"COLUMNS": "240"})
USER_PAGE = b"<html><body>MY OWN</body></html>\n"


def _solved(tmp_path: Path) -> Path:
    net = write_folder(tiny(), tmp_path / "tiny")
    out = tmp_path / "res"
    res = runner.invoke(app, ["solve", str(net), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return out


def test_report_force_keeps_the_users_page(tmp_path: Path) -> None:
    """#1: the user's bytes survive ``report DIR`` and ``report DIR --force`` (exit 2 both)."""
    out = _solved(tmp_path)
    (out / "report.html").write_bytes(USER_PAGE)
    for extra in ([], ["--force"]):
        res = runner.invoke(app, ["report", str(out), *extra])
        assert res.exit_code == 2, (extra, res.output)
        assert "not feederopt's" in " ".join(res.output.split())
        assert "Traceback" not in res.output
        assert (out / "report.html").read_bytes() == USER_PAGE
    # the same page named by --out is the folder's page too
    res = runner.invoke(app, ["report", str(out), "--out", str(out / "report.html"), "--force"])
    assert res.exit_code == 2, res.output
    assert (out / "report.html").read_bytes() == USER_PAGE


def test_report_force_replaces_its_own_page(tmp_path: Path) -> None:
    """The page feederopt wrote (listed in the manifest) is still replaced with --force."""
    out = _solved(tmp_path)
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    (out / "report.html").write_text("stale")
    res = runner.invoke(app, ["report", str(out), "--force"])
    assert res.exit_code == 0, res.output
    assert (out / "report.html").read_text() != "stale"


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """``path`` made immutable (``chattr +i``; root cannot write it either); the test is
    skipped where chattr is missing or not permitted (chmod 0555 would not stop root)."""
    if not _chattr("+i", path):
        pytest.skip("chattr +i is unavailable or not permitted here")
    try:
        yield
    finally:
        _chattr("-i", path)


def test_out_onto_an_unreplaceable_empty_folder_is_refused_before_solving(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """#2: ``solve case33bw --out ro --force`` with ``ro`` immutable exits 2 before solving
    and leaves no '.ro.XXXX.old' folder beside it."""
    ro = tmp_path / "ro"
    ro.mkdir()

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the solve ran although the output folder cannot be replaced")

    monkeypatch.setattr(feederopt.api, "solve", no_solve)
    with _immutable(ro):
        res = runner.invoke(app, ["solve", "case33bw", "--out", str(ro), "--force"])
    assert res.exit_code == 2, res.output
    assert "cannot be replaced" in " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro"]


def test_a_failed_replacement_leaves_no_old_folder(tmp_path: Path) -> None:
    """#2: a folder that becomes unreplaceable after the check (here during the write) fails
    with a typed error; the folder stays where it was and no '.old' folder is left."""
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "result.json").write_text('{"status": "optimal"}')
    (ro / ".feederopt-files").write_text("result.json\n")
    (ro / "notes.txt").write_text("mine")
    publishing = atomic_folder(ro, force=True)
    tmp = publishing.__enter__()  # the output checks pass here
    (tmp / "result.json").write_text('{"status": "optimal"}')
    with _immutable(ro), pytest.raises(InputError, match="could not be written"):
        publishing.__exit__(None, None, None)  # the rename, with ro immutable
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro"]
    assert (ro / "notes.txt").read_text() == "mine"


def test_report_of_a_restore_json_names_restore_out(tmp_path: Path) -> None:
    """#3: ``report rs.json`` of a restore result was told "run the command that wrote it again
    with --out DIR" when restore had no --out. Now it has (its folder has a report): the hint
    names that very command line, not the report-less kinds' "read the JSON file itself"."""
    rs = tmp_path / "rs.json"
    res = runner.invoke(app, ["restore", "zhang13", "--broken", "2", "--json", str(rs),
                              "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", str(rs)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    # the hint fills in the network the file records (session 38: report/command_line.py)
    # and its broken lines (ut47_report #4)
    assert "feederopt restore zhang13 --broken 2 --out DIR" in text
    assert "no HTML report" not in text and "Traceback" not in text


@pytest.mark.parametrize("bad", ["-0.2", "nan"])
def test_check_validates_the_uncertainty_before_its_notes(tmp_path: Path, bad: str) -> None:
    """#4: ``check robust.json --uncertainty -0.2`` printed "this check samples +--20 % on 6
    load(s)" (and "+-nan %") before the right invalid_value error."""
    robust = tmp_path / "robust.json"
    res = runner.invoke(app, ["solve", "case33bw", "--robust", "0.3", "--uncertain-loads",
                              "16,17,18,31,32,33", "--time-limit", "60", "--json", str(robust),
                              "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["check", str(robust), "--uncertainty", bad, "--samples", "5"])
    assert res.exit_code == 2, res.output
    assert "invalid_value" in res.output and "uncertainty" in res.output
    assert "note:" not in res.output and "+--" not in res.output and "nan %" not in res.output


AC_COMMANDS = ["solve", "restore", "plan", "partition", "schedule", "check"]
OUT_COMMANDS = ["solve", "schedule", "partition", "plan", "report", "scenarios"]


@pytest.mark.parametrize("command", AC_COMMANDS)
def test_no_ac_check_is_spelled_alike_everywhere(command: str) -> None:
    """#5a: the AC check switch is --no-ac-check in every command that has one."""
    res = runner.invoke(app, [command, "--help"])
    assert res.exit_code == 0, res.output
    assert "--no-ac-check" in res.output


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_has_the_short_o_everywhere(command: str) -> None:
    """#5b: -o is short for --out in every command that has --out."""
    res = runner.invoke(app, [command, "--help"])
    assert res.exit_code == 0, res.output
    assert "-o, --out" in res.output


def test_no_ac_check_and_o_run(tmp_path: Path) -> None:
    """#5a/b on a quick case: ``solve -o DIR`` writes the folder; ``check --no-ac-check`` runs
    (the old ``--no-ac`` too) and runs no AC power flow."""
    net = write_folder(tiny(), tmp_path / "tiny")
    out = tmp_path / "res"
    res = runner.invoke(app, ["solve", str(net), "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert (out / "result.json").is_file()
    for flag in ("--no-ac-check", "--no-ac"):
        res = runner.invoke(app, ["check", str(out / "result.json"), "--case", str(net),
                                  "--uncertainty", "0.1", "--samples", "3", flag])
        assert res.exit_code in (0, 4), (flag, res.output)
        assert "no such option" not in res.output.lower()
