"""A LinDistFlow run whose MILP stops at the time limit says so (user test ut_research #4):
status ``time_limit`` (not ``feasible``), the MILP's status and gap in the JSON, and a line on
the console. case118zh's LinDistFlow MILP needs far more than 5 s (the tester's 120 s run
still stopped at the limit), so a 5 s run stops it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app


def test_lindistflow_stopped_by_the_time_limit_says_so(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", "case118zh", "--method", "lindistflow",
                                   "--time-limit", "5", "--json", str(out)])
    doc = json.loads(out.read_text())
    assert doc["milp_status"] == "time_limit"
    assert doc["status"] == "time_limit"
    assert 0 < doc["milp_gap"] < 1
    assert doc["lower_bound"] == "-inf"  # a heuristic: no bound on the losses
    text = " ".join(res.output.split())
    assert "The LinDistFlow MILP stopped at the time limit" in text
    assert res.exit_code == 0, res.output  # a topology within the limits
