"""A refused output path is headed as the output's problem (user test ut50_iobad #6):
``--json`` onto an existing file, onto the input, into the input folder was "error: 1 problem
in the input". The truth is the user's files: the existing file, the input itself."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io import write_folder

runner = CliRunner()


def _refused(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    return r.output


def test_an_existing_output_file_is_a_problem_in_the_output(tmp_path: Path) -> None:
    there = tmp_path / "x.json"
    there.write_text("{}")  # the user's file
    out = _refused(["solve", "case33bw", "--json", str(there), "-q"])
    assert "1 problem in the output" in out and "in the input" not in out
    assert there.read_text() == "{}"


def test_a_file_inside_the_input_folder_is_a_problem_in_the_output(tmp_path: Path) -> None:
    folder = tmp_path / "net"
    write_folder(load("case33bw"), folder, fmt="csv")
    out = _refused(["solve", str(folder), "--json", str(folder / "x.json"), "-q"])
    assert "1 problem in the output" in out and "in the input" not in out
    assert not (folder / "x.json").exists()


def test_input_and_output_problems_together_say_both() -> None:
    err = InputError([
        Problem(ProblemKind.INVALID_VALUE, "options", "the time limit must be positive"),
        Problem(ProblemKind.OUTPUT_EXISTS, "output", "'x.json' exists already")])
    assert err.headings()[0] == "2 problems in the input and the output"
    only_input = InputError([Problem(ProblemKind.INVALID_VALUE, "loads", "p_mw is negative")])
    assert only_input.headings()[0] == "1 problem in the input"
