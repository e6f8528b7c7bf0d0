"""The schedule report's subtitle follows the run (``feederopt report`` on a 4-hour
deterministic schedule said "24-hour robust dynamic reconfiguration")."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.schedule import schedule_title

runner = CliRunner()


def test_title_of_a_short_deterministic_schedule(tmp_path: Path) -> None:
    out = tmp_path / "s"
    res = runner.invoke(app, ["schedule", "case33bw", "--hours", "2", "--no-ac-check",
                              "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["hours"] == 2 and doc["method"] == "deterministic"  # the premise
    page = (out / "report.html").read_text()
    assert "2-hour deterministic dynamic reconfiguration" in page
    assert "24-hour" not in page and "robust" not in schedule_title(doc)


def test_title_names_robust_and_hourly_runs() -> None:
    assert schedule_title({"hours": 24, "method": "ccg", "settings": {"hourly": False}}) == (
        "24-hour robust (C&CG) dynamic reconfiguration with storage (seed 004)")
    assert schedule_title({"hours": 3, "method": "extensive", "settings": {"hourly": True}}) \
        == "3-hour robust (every extreme point) hourly reconfiguration with storage (seed 004)"
