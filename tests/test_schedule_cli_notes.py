"""The schedule's console lists the result's notes, each once: the notes on the inputs before
the solve, the solve's own (C&CG's start, stop rule, the bounds' sources) after the summary.
Before, only the input notes were printed, while the summary said "see the notes"."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app


def test_every_note_of_a_robust_schedule_is_on_the_console_once(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "2", "--robust-budget",
                                 "1,1", "--no-ac-check", "--time-limit", "60", "--json",
                                 str(out), "--physical-soc"])
    assert r.exit_code == 0, r.output
    notes = json.loads(out.read_text())["notes"]
    assert notes  # a robust run says which start it used and why it stopped
    text = " ".join(r.output.split())
    for note in notes:
        assert text.count(" ".join(f"note: {note}".split())) == 1, note
