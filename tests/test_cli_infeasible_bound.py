"""A proven-infeasible solve prints its lower bound as +inf, as the JSON writes it (user test
ut32_pub #4: the console printed "-" beside the JSON's "inf"). case16ci as MATPOWER ships it
holds load bus 4 at Vmin = Vmax = 1 p.u., which no power flow from the 1 p.u. sources meets."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.app import bound_fmt

runner = CliRunner()


def test_infeasible_solve_prints_plus_inf(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", "case16ci", "--time-limit", "60", "--json", str(out)],
                        env={"COLUMNS": "240"})
    assert res.exit_code == 3, res.output
    assert json.loads(out.read_text())["lower_bound"] == "inf"
    row = next(line for line in res.output.splitlines() if "lower bound" in line)
    assert re.search(r"\+inf\b", row), row


def test_bound_text() -> None:
    assert bound_fmt(math.inf, ".4f", " kW-eq") == "+inf"
    assert bound_fmt(-math.inf, ".4f", " kW-eq") == "-inf"
    assert bound_fmt(None, ".4f", " kW-eq") == "-"
    assert bound_fmt(12.5, ".4f", " kW-eq") == "12.5000 kW-eq"
