"""``solve FEEDER.dss --workers N`` records the worker count in the result, as a balanced solve
records its ``--workers`` (``settings.workers``; ``feederopt report FILE.json`` repeats it in
the command it hints). Before, a three-phase solve took ``--workers`` with a note (it runs in
one process) and dropped it: the result did not say what the command was given, and the
report's command line left it out. The truth is the command line given; the smallest bundled
feeder, no OpenDSS check, no voltage feedback, no ratings (its transformer is above its
rating in every topology: exit 4 otherwise)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from feederopt.report.command_line import three_phase_options


def _solve(tmp_path: Path, *extra: str) -> dict:
    out_json = tmp_path / "r.json"
    out = CliRunner().invoke(app, ["solve", str(three_phase_case_path("ieee13")), *extra,
                                   "--no-ac-check", "--no-voltage-feedback", "--no-thermal-limits",
                                   "--time-limit", "30", "--json", str(out_json)])
    assert out.exit_code == 0, out.output
    return json.loads(out_json.read_text())


def test_workers_recorded_in_the_three_phase_json(tmp_path: Path) -> None:
    doc = _solve(tmp_path, "--workers", "2")
    assert doc["settings"]["workers"] == 2
    opts = three_phase_options(doc)
    assert opts[opts.index("--workers") + 1] == "2", opts


def test_no_workers_key_without_the_option(tmp_path: Path) -> None:
    doc = _solve(tmp_path)
    assert "workers" not in doc["settings"]
    assert "--workers" not in three_phase_options(doc)
