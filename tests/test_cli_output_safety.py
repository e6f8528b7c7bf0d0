"""User test ut32_cli: the CLI's output guards and option spellings.

#1 ``report DIR --force`` replaced a ``report.html`` of the user's (not in the folder's
manifest), although the refusal without ``--force`` says it is not written over "with or
without --force"; #2 ``--out`` onto an existing empty folder that cannot be replaced was found
only after the solve; #3 the hint for a restore JSON named a ``--out`` that restore lacks; #4
``check --uncertainty -0.2`` printed a note with "+--20 %" before its error; #5 the AC check
switch and ``-o`` spelled alike in every command.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.folder import write_folder
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
