"""A SimBench study case after a file's name (``feederopt info mv.json@hL``) answered "no such
file or folder (hint: check the path)" with the file right there (user test of the help texts,
session 33): the hint now says that a study case applies only to a SimBench grid,
``simbench:<code>@<study case>``, and names the file to give instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "240"}


@pytest.mark.parametrize(("command", "name"), [("info", "mv.json"), ("partition", "feeder.dss")])
def test_a_study_case_on_a_file_says_study_cases_are_simbench_s(tmp_path: Path, command: str,
                                                                 name: str) -> None:
    """``info mv.json@hL``: "no such file or folder" and "check the path", with the file right
    there; the hint now says what the suffix is and which path to give."""
    real = tmp_path / name
    real.write_text("{}")
    res = runner.invoke(app, [command, f"{real}@hL"], env=ENV)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "Traceback" not in text and "no such file or folder" in text
    assert "applies only to SimBench grids" in text and f"'{real}'" in text
    res = runner.invoke(app, [command, str(tmp_path / "absent.json")], env=ENV)
    assert "SimBench" not in res.output  # a plain missing path: no such hint
