"""On a narrow terminal the tables keep their figures whole (user test ut47_cli #5).

At COLUMNS=60 ``partition ieee13mod``'s blocks table showed "2453…", ``plan zhang13
--scenarios A_C_p1`` "79…" for 793.38, and ``feederopt cases`` lost its "data from" column
(header ``┃┃``). Truths: a table built here by hand (its figures typed in), the case
catalogue's own loads (``feederopt.list_cases``), and the plan's JSON, written by the same
run, for the figures its console table must show.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.cli.app import keep_figures

FIGURES = ["2453.1", "793.38", "1,013.25", "-0.2"]


@pytest.mark.parametrize("width", [40, 60, 80])
def test_a_hand_made_table_keeps_its_figures(width: int) -> None:
    t = Table(title="blocks")
    for col in ("block", "state", "grid-forming DERs of the block", "load [kW]",
                "weighted shed cost ($)"):
        t.add_column(col)
    for i, fig in enumerate(FIGURES):
        t.add_row(str(i), "lost (substation)", "Storage.battery1, PVSystem.pv2", fig,
                  FIGURES[-1 - i])
    buf = io.StringIO()
    console = Console(width=width, file=buf, color_system=None)
    console.print(keep_figures(t, console))
    lines = buf.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), buf.getvalue()
    cells = re.findall(r"-?[\d,]+\.\d+", buf.getvalue())
    assert sorted(cells) == sorted(FIGURES * 2), buf.getvalue()  # each whole, none cut
    assert "PVSystem.pv2" in "".join(x.strip() for x in buf.getvalue().split())


def test_cases_keeps_every_column_on_60() -> None:
    res = CliRunner(env={"COLUMNS": "60"}).invoke(app, ["cases"])
    assert res.exit_code == 0, res.output
    assert "┃┃" not in res.output and "data" in res.output, res.output
    lines = res.output.split("Also any SimBench", 1)[0].splitlines()  # the table
    assert all(len(line) <= 60 for line in lines), res.output
    for c in feederopt.list_cases():
        assert f"{c.load_mw:.3f}" in res.output, c.name


def test_plan_scenarios_keep_their_costs_on_60(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    res = CliRunner(env={"COLUMNS": "60"}).invoke(
        app, ["plan", "zhang13", "--scenarios", "A_C_p1", "--json", str(out)])
    assert res.exit_code in (0, 4), res.output
    doc = json.loads(out.read_text())
    table = res.stdout.split("scenarios", 1)[1].split("weighted shed cost =", 1)[0]
    for sc in doc["scenarios"]:
        for key in ("shed_cost", "penalty_cost"):
            assert f"{sc[key]:,.2f}" in table, (key, table)
        assert f"{sc['operation']['shed_kw']:,.2f}" in table, table
    assert "…" not in table, table
