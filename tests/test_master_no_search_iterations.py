"""A master call stopped by the time limit before it could search is no master MILP solve
(user test ut49_report #1: ``solve case33bw --scenarios ... --time-limit 30`` said
"iterations (master MILP solves) 1" in the console, report and result.json while the only row
of iterations.parquet said "time limit reached before the master (0.00 s left): no master
search", and its Timings gave 0.94 s of "master MILP solves" that were HiGHS's set-up and
the LP relaxation rounds before the loop).

Truth: the run's own iterations table. Each master MILP solve that ran logs one row whose
note is not the "no master search" note; the start heuristics and probing log rows with
``master_s`` 0. So the master MILP solves are the rows with ``master_s`` > 0 that do not say
"no master search", and a tiny time limit leaves none of them.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.labels import label

pytest.importorskip("pandapower")

NO_SEARCH = "no master search"


def _master_solves(log: pd.DataFrame) -> int:
    """The master MILP solves that ran, from the iterations table's rows."""
    searched = (log["master_s"] > 0) & ~log["note"].fillna("").str.contains(NO_SEARCH)
    return int(searched.sum())


def test_tiny_limit_counts_no_master_solve(tmp_path: Path) -> None:
    runner = CliRunner()
    scen = tmp_path / "scen.parquet"
    out = tmp_path / "sscen"
    got = runner.invoke(app, ["scenarios", "case33bw", "--out", str(scen), "--count", "4",
                              "--pv-share", "0.4", "--seed", "1"])
    assert got.exit_code == 0, got.output
    got = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(scen), "--out", str(out),
                              "--report", "--time-limit", "0.5"])
    assert got.exit_code in (0, 4), got.output
    log = pd.read_parquet(out / "iterations.parquet")
    # the run reached the master with no time left: the case of the user test
    assert log["note"].fillna("").str.contains(NO_SEARCH).any(), log.to_string()
    truth = _master_solves(log)
    assert truth == 0
    result = json.loads((out / "result.json").read_text())
    assert result["iterations"] == truth
    # no row numbers a master solve beyond the count
    assert int(log["iteration"].max()) <= truth
    console = re.search(r"iterations\s*│\s*(\d+)", got.output)
    assert console is not None and int(console.group(1)) == truth, got.output
    html = unescape((out / "report.html").read_text())
    row = re.search(r"iterations \(master MILP solves\)</th><td>(\d+)", html)
    assert row is not None and int(row.group(1)) == truth
    # the seconds of the call that did not search are not "master MILP solves"
    timings = result["timings"]
    assert timings["master_s"] == 0.0
    assert timings["master_setup_s"] > 0.0
    assert label("master_setup_s") in html
    shown = re.search(r"master MILP solves \[s\] \(master_s\)</th><td[^>]*>([^<]*)<", html)
    assert shown is None or float(shown.group(1)) == 0.0
