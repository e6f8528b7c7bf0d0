"""ut_out #2: a user's own ``report.html`` (or any file the command would write) in the
``--out`` folder is refused before any solving, with exit code 2: found after the solve, the
result files were already replaced when the command stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt.api
from feederopt.cli import app
from feederopt.io.writing import MANIFEST, output_problems

USER_PAGE = b"<html><body>my own notes, not feederopt's</body></html>\n"


def _earlier_result(folder: Path) -> None:
    """A result folder that feederopt wrote (result.json, listed in its manifest) beside
    which the user put a report.html of their own (not in the manifest)."""
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps({"status": "optimal"}) + "\n")
    (folder / MANIFEST).write_text("result.json\n")
    (folder / "report.html").write_bytes(USER_PAGE)


def test_solve_refuses_users_report_before_solving(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "res"
    _earlier_result(out)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the solve ran although an output problem was known")

    monkeypatch.setattr(feederopt.api, "solve", no_solve)
    res = CliRunner().invoke(app, ["solve", "case33bw", "--out", str(out), "--force",
                                   "--report", "--quiet"])
    assert res.exit_code == 2, res.output
    assert "report.html" in res.output and "not feederopt's" in res.output
    assert "Traceback" not in res.output
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    assert after == before  # the user's page byte-identical, result.json untouched


def test_solve_without_report_keeps_users_page(tmp_path: Path) -> None:
    """Without --report the page is not written: no problem, and --force carries it over."""
    out = tmp_path / "res"
    _earlier_result(out)
    assert output_problems(out, force=True, folder=True, command="solve") == []


@pytest.mark.parametrize("kind", ["solve_3ph", "plan", "restore", "partition", "schedule"])
def test_every_folder_kind_checks_its_files(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "res"
    _earlier_result(out)
    problems = output_problems(out, force=True, folder=True, option="out", command=kind)
    assert len(problems) == 1 and problems[0].field == "out"
    assert str(out / "report.html") in problems[0].message
