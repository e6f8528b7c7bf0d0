"""A robust schedule stopped before any worst-case search has no worst case to show (user
test ut32_time #3: ``schedule case69bw --robust-budget 4,4 --gamma 0.1 --time-limit 20``
printed "worst case: losses 0.1148 MWh" etc., the forecast's own rows, while its note said
"without an upper bound (its worst case not searched)").

The master is made to find nothing in its time (as in test_schedule_time_limit.py), so the
schedule is the radial start and only the forecast is evaluated. Truth: the definition of a
worst case (a realisation searched for); the JSON's ``worst`` and ``worst_case`` must be null,
``worst_searched`` false, the console and the report must say "not searched" and print no
"worst case:" totals rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

import feederopt.algorithms.ccg as ccg
from feederopt.algorithms.policy_bound import PolicyBound
from feederopt.cli import app


def test_a_worst_case_not_searched_is_not_printed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_solution(*a: object, **k: object) -> NoReturn:
        raise ccg.MasterTimeLimit("the schedule master ended time_limit without a solution",
                                  1.25)

    monkeypatch.setattr(ccg, "solve_lazy_master", no_solution)
    # no policy bound at the start either (so no incumbent before the master): the aggregate
    # set had none until user test ut49_sched #1; now a feeder whose policy is not proven
    # feasible, simulated
    monkeypatch.setattr(ccg, "policy_bound", lambda *a, **k: PolicyBound(
        None, None, float("nan"), "refused (test)", 0.0))
    out, folder = tmp_path / "r.json", tmp_path / "sched"
    r = CliRunner(env={"COLUMNS": "200"}).invoke(app, [
        "schedule", "case33bw", "--hours", "2", "--robust-budget", "0,1", "--aggregate",
        "0.95,1.05", "--no-ac-check", "--time-limit", "20", "--json", str(out), "--out",
        str(folder)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "time_limit"
    assert any("not searched" in n for n in doc["notes"])
    assert doc["worst"] is None and doc["worst_case"] is None
    assert doc["worst_searched"] is False
    assert doc["series_realisation"] == "forecast"
    assert "worst case: losses" not in r.output
    assert "not searched" in " ".join(r.output.split())
    html = (folder / "report.html").read_text()
    assert "worst case: losses" not in html and "not searched" in html
