"""``solve --method lindistflow`` whose MILP finds no topology within its time limit answers
with the base case when it is radial and within the limits (user test ut32_multi: the
heuristic may not leave the user with nothing where the grid they operate is an answer).

Truth: Baran & Wu (1989), the 33-bus feeder with its five ties open loses 202.68 kW at
V_min 0.9131 p.u. (within the default 0.9 - 1.1 p.u.); its open branches are the ties 33-37.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app


def test_no_milp_topology_in_time_keeps_the_base_case(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "solve", "case33bw", "--method", "lindistflow", "--time-limit", "0.001",
        "--json", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["milp_status"] == "time_limit"
    assert doc["status"] == "time_limit"  # not proven, not "optimal"
    assert sorted(int(b["id"]) for b in doc["open_branches"]) == [33, 34, 35, 36, 37]
    assert abs(doc["ac_check"]["losses_kw"] - 202.68) < 0.05
    assert "the base case is kept" in " ".join(res.output.split())
