"""``solve FILE.dss --workers N`` (user test ut45 dssday #4): the option is for a balanced
network's scenario/extreme-point slaves and a three-phase feeder refuses it, which ``--help``
did not say. The refusal comes before the feeder is read: a .dss file that OpenDSS could not
compile is refused for ``--workers`` alone, exit 2 without a traceback (the time the user
measured, several seconds, is the import of the solvers, which every solve pays)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app


def test_help_says_workers_is_for_balanced_networks() -> None:
    out = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["solve", "--help"])
    text = " ".join(out.output.replace("│", " ").split())
    assert "slaves of a balanced network (--scenarios, --robust); a three-phase .dss feeder " \
           "refuses it" in text


def test_workers_refused_before_the_feeder_is_read(tmp_path: Path) -> None:
    path = tmp_path / "junk.dss"
    path.write_text("this is no OpenDSS script\n")
    out = CliRunner().invoke(app, ["solve", str(path), "--workers", "1"])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert "--workers not available for three-phase feeders" in out.output
    assert "1 problem in the input" in out.output
