"""A robust schedule whose C&CG master proves no bound in time (user test ut45_sched #8):
before, its lower bound was ``-inf`` (console ``-inf (gap -)``, JSON null) where the
deterministic schedule in the same state printed ``0.0000 $ (gap 100 %)``. Every cost term
of the schedule is a price >= 0 on a quantity >= 0, so 0 bounds every schedule's cost; the
test checks that premise on the model's own objective (each priced variable's bounds and
price) apart from the function under test, and the bound reported."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import feederopt.algorithms.ccg as ccg
from feederopt.algorithms.ccg import solve_ccg
from feederopt.api_schedule import schedule_inputs
from feederopt.cli import app
from feederopt.formulations.schedule import first_stage_block, recourse_block
from schedule_loop import one_loop_data


def _no_bound(*a, **k):  # type: ignore[no-untyped-def]
    raise ccg.MasterTimeLimit("the schedule master ended time_limit without a solution")


def test_a_robust_master_without_a_bound_reports_zero(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    d = one_loop_data(schedule_inputs("case33bw"), 2, gamma=0.1, budget=1.0)
    # the premise, read off the model: every priced variable has lb >= 0 and price >= 0
    for block in (first_stage_block(d), recourse_block(d)):
        for g, c in block.objective.items():
            assert (np.asarray(c) >= 0).all() and (block.groups[g].lb >= 0).all(), g
    monkeypatch.setattr(ccg, "solve_lazy_master", _no_bound)
    sol = solve_ccg(d, time_limit_s=5.0)
    assert sol.status.value != "optimal"
    assert sol.lower_bound == 0.0 and sol.gap == pytest.approx(1.0)  # before: -inf, inf
    assert sol.objective >= 0.0 and math.isfinite(sol.objective)
    assert any(n.startswith("lower bound 0 $: the master proved none") for n in sol.notes)


def test_the_console_prints_the_robust_bound_as_the_deterministic_one(monkeypatch,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(ccg, "solve_lazy_master", _no_bound)
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "2", "--robust-budget",
                                 "1,1", "--gamma", "0.1", "--time-limit", "10", "--no-ac-check",
                                 "--json", str(out)], env={"COLUMNS": "240"})
    assert r.exit_code in (0, 4), r.output
    text = " ".join(r.output.split())
    assert "/ 0.0000 $ (gap 100.0000 %)" in text and "-inf" not in text
    assert json.loads(out.read_text())["lower_bound"] == 0.0
