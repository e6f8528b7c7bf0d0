"""User test ut51_cli #6: ``feederopt solve case33bw --robust 0.1 --scenarios nonexist.csv``
reported only the clash of the two options; that the file does not exist came on the next run.
README, "Bad input": all of it at once. The truth: the file is not on disk (tmp_path is
empty)."""

from __future__ import annotations

from typer.testing import CliRunner

from feederopt.cli import app


def test_clash_and_missing_scenario_file_reported_together(tmp_path) -> None:
    missing = tmp_path / "nonexist.csv"
    assert not missing.exists()
    res = CliRunner().invoke(app, ["solve", "case33bw", "--robust", "0.1", "--scenarios",
                                   str(missing)], env={"COLUMNS": "300"})
    text = " ".join(res.output.split())
    assert res.exit_code == 2, text
    assert "exclude each other" in text
    assert "no such file" in text
    assert "Traceback" not in text
