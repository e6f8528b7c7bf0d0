"""The notes of a plan with many scenarios name ten of them and the count of the rest
(holdsdup #2). Before, a plan of 40 scenarios at a time limit too short for any of them named
all 40 in each of its notes ("not solved to optimality", the shed-all, the second-phase and
the skipped-AC-check notes; 400 names with 400 scenarios). Truth: the scenario names the test
writes, and their number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()
N_SCENARIOS = 40


def test_plan_notes_of_many_scenarios_name_ten_and_count_the_rest(tmp_path: Path) -> None:
    names = [f"storm{k:02d}" for k in range(N_SCENARIOS)]
    rows = [f"{name},{1 / N_SCENARIOS},{1 + k % 15};{1 + (k + 4) % 15}"
            for k, name in enumerate(names)]
    csv = tmp_path / "storms.csv"
    csv.write_text("name,probability,broken\n" + "\n".join(rows) + "\n")
    out_json = tmp_path / "plan.json"
    res = runner.invoke(app, ["plan", "zhang13", "--scenarios", str(csv), "--time-limit",
                              "0.01", "--no-measures", "--json", str(out_json)],
                        env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    notes = json.loads(out_json.read_text())["notes"]
    printed = [line for line in res.output.splitlines()
               if line.startswith(("note:", "warning:"))]
    listing = [n for n in [*notes, *printed] if "storm" in n]
    # with no time, no scenario's operation is solved: the notes on them are there
    assert any("not solved to optimality" in line for line in printed)
    assert sum("start topology's operation" in n for n in notes) == 1
    more = f"and {N_SCENARIOS - 10} more"
    for note in listing:
        assert len(set(re.findall(r"storm\d\d", note))) <= 10, note
        assert more in note, note
        assert len(note) < 600, note
