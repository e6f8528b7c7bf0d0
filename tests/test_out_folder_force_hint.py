"""User test ut34 #4: ``solve --out userdir`` on a folder of the user's own files said "exists
already (hint: ... pass --force)", and with ``--force`` then "holds files but no result.json":
the first answer sent the user to an option that cannot help. The first answer now says that
--force does not replace such a folder; an earlier result folder still gets the --force hint.
Checked before any solving (the folder's files are the truth: untouched)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.app import cli_problems
from feederopt.errors import ProblemKind
from feederopt.io.writing import output_problems

runner = CliRunner()


def _text(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args)
    return res.exit_code, " ".join(res.output.split())


def test_without_force_a_users_folder_is_told_that_force_will_not_help(tmp_path: Path) -> None:
    mine = tmp_path / "userdir"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    code, text = _text(["solve", "case33bw", "--out", str(mine), "--time-limit", "5"])
    assert code == 2 and "output_exists" in text, text
    assert "not a feederopt result folder" in text
    assert "does not replace this one either" in text
    assert "pass --force" not in text  # the hint that could not help
    code, forced = _text(["solve", "case33bw", "--out", str(mine), "--force"])
    assert code == 2 and "not a feederopt result folder" in forced
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_file_given_as_an_out_folder_is_told_the_same(tmp_path: Path) -> None:
    a_file = tmp_path / "plain"
    a_file.write_text("x")
    problems = output_problems(a_file, force=False, folder=True, option="out")
    assert [p.kind for p in problems] == [ProblemKind.OUTPUT_EXISTS]
    assert "not a result folder" in problems[0].message
    assert "--force" not in (problems[0].hint or "")


def test_a_result_folder_still_gets_the_force_hint(tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    (out / "result.json").write_text('{"status": "optimal"}')
    problems = output_problems(out, force=False, folder=True, option="out", command="solve")
    assert [p.kind for p in problems] == [ProblemKind.OUTPUT_EXISTS]
    assert "pass force=True" in (problems[0].hint or "")  # Python's spelling; the CLI's:
    assert "pass --force" in (cli_problems(problems)[0].hint or "")
    assert output_problems(out, force=True, folder=True, option="out", command="solve") == []
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "pass --force" in (cli_problems(output_problems(empty, force=False,
                                                          folder=True))[0].hint or "")
