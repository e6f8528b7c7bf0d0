"""``plan`` keeps nearer its time limit (user test ut32_time #4: synthetic500, 20 storm
scenarios, ``--method lshaped --time-limit 2`` took 28.7 s; the extensive form at 10 s, 31 s).

Out of time, each scenario's recourse was still solved in full: the LP relaxation (two thirds
of its time on synthetic500), the start topology's operation, then a MILP of 0.001-0.01 s.
Now an out-of-time recourse (limit <= LAST_RESORT_S) solves the start's operation alone, with
0 as its bound (Q_s >= 0). Truth: the count of HiGHS solves (one per recourse), and the solve
time against the limit with a generous margin (the start operations, one LP each, cannot be
bounded: without them there is no plan to answer; docs/resilience.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import feederopt.algorithms.resilience as res
from feederopt.api_resilience import plan, plan_settings
from feederopt.cases import load_case
from feederopt.problems.resilience import ResilienceProblem, Scenario
from feederopt.solvers.highs_backend import HighsModel

BROKEN = [(5, 40, 100), (10, 60, 120), (15, 70, 130), (20, 80, 110), (25, 90, 125),
          (30, 50, 115), (35, 45, 105), (8, 66, 99)]
SETTINGS = plan_settings(harden_budget=3, dg_budget=2)


def test_an_out_of_time_recourse_solves_the_start_alone(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    problem = ResilienceProblem.from_network(load_case("case136ma"), SETTINGS)
    calls: list[bool] = []
    real = HighsModel.solve

    def counted(self: HighsModel) -> object:
        calls.append(True)
        return real(self)

    monkeypatch.setattr(HighsModel, "solve", counted)
    sc = Scenario("s", 1.0, problem.branch_index(["5", "40", "100"]))
    zero_h, zero_s = np.zeros(len(problem.harden_lines)), np.zeros(len(problem.grid.dg_bus))
    v = res.recourse_value(problem, sc, zero_h, zero_s, keep=True,
                           time_limit_s=res.LAST_RESORT_S)
    assert len(calls) == 1  # before: 3 (LP relaxation, the start, a 0.01 s MILP)
    assert v.operation is not None and v.value >= 0.0
    assert 0.0 <= v.bound <= v.value
    # the start's operation is a feasible one: at least the proven bound of a longer solve
    best = res.recourse_value(problem, sc, zero_h, zero_s, time_limit_s=5.0)
    assert v.value >= best.bound - 1e-6


@pytest.mark.parametrize("method", ["lshaped", "extensive"])
def test_plan_at_a_short_limit_keeps_near_it(tmp_path: Path, method: str) -> None:
    storm = tmp_path / "storm136.json"
    storm.write_text(json.dumps({"scenarios": [
        {"name": f"s{k}", "probability": 1 / len(BROKEN), "broken": [str(b) for b in br]}
        for k, br in enumerate(BROKEN)]}))
    r = plan("case136ma", scenarios=storm, settings=SETTINGS, method=method,
             time_limit_s=0.5, measures=False, ac_check=False)
    assert r.status in ("time_limit", "optimal")
    # measured 1.7 s (lshaped) and 1.3 s (extensive), before 2.5 s and 2.4 s; the margin
    # leaves room for a loaded machine
    assert r.solve_time_s <= 0.5 + 3.0
