"""User test ut49_sched #2 and #3: the hourly-topology schedule when its master runs short.

#2: ``schedule case33bw --hourly-topology --switch-cost 5 --time-limit 60`` returned the tree of
least total resistance (18.1863 $, "the master found no solution within the time limit"), while
the one-topology run in the same 60 s returned 14.2857 $; held for every hour, that topology
is an hourly schedule with no switching action. And the note called the 0 $ cost floor "the
master's" lower bound. Now the one-topology schedule is solved first (a share of the time),
is the hourly master's MIP start and the schedule when the hourly master finds nothing or only
a dearer one; the note names the bound's source.

#3: a run without storage (an empty devices folder) whose master's later solve stopped at the
time limit blamed "the lazy storage-mode loop"; now that note needs storage.

Independent truths: the one-topology optimum (solved to a 1e-7 gap with ample time), re-read
as an hourly schedule with its topology in every hour (no switching: ``c_sw * 0``); the count
of storage units in the devices folder (none).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feederopt.algorithms import ccg
from feederopt.algorithms.ccg import MasterTimeLimit, solve_deterministic
from feederopt.api_schedule import schedule, schedule_inputs
from feederopt.formulations.schedule import ScheduleData
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers.highs_backend import MilpSolution
from feederopt.solvers.status import SolverStatus

HOURS = 3
C_SWITCH = 5.0


@pytest.fixture(scope="module")
def inputs() -> Any:
    return schedule_inputs("case33bw")


def _data(inputs: Any, hours: int, hourly: bool) -> ScheduleData:
    net, dev, prof = inputs
    st = ScheduleSettings(hours=hours, hourly=hourly, c_switch=C_SWITCH if hourly else 0.0)
    return build_schedule_data(net, dev, prof, st)


@pytest.fixture(scope="module")
def daily_optimum(inputs: Any) -> Any:
    """One topology for the day, to a 1e-7 gap: the hourly problem's optimum is at most its
    objective (its topology held every hour is feasible with no switching action)."""
    sol = solve_deterministic(_data(inputs, HOURS, False), time_limit_s=300.0, gap=1e-7)
    assert sol.status == "optimal"
    return sol


def _hourly_master_finds_nothing(monkeypatch: pytest.MonkeyPatch, bound: float) -> None:
    """The hourly master stops before its first solution (a loaded machine), with ``bound``;
    the one-topology master runs as it is."""
    real = ccg._solve_master

    def master(d: ScheduleData, *args: Any, **kw: Any) -> Any:
        if d.hourly:
            raise MasterTimeLimit("the schedule master ended time_limit without a solution",
                                  bound)
        return real(d, *args, **kw)

    monkeypatch.setattr(ccg, "_solve_master", master)


@pytest.mark.parametrize("bound", [-math.inf, 0.5])
def test_hourly_master_without_solution_falls_back_to_one_topology(
        inputs: Any, daily_optimum: Any, monkeypatch: pytest.MonkeyPatch, bound: float) -> None:
    _hourly_master_finds_nothing(monkeypatch, bound)
    d = _data(inputs, HOURS, True)
    sol = solve_deterministic(d, time_limit_s=20.0)
    # the one-topology optimum re-read as an hourly schedule: no switching, same topology
    assert sol.objective <= daily_optimum.objective * (1 + 1e-6) + 1e-9
    closed = np.asarray(sol.closed)
    assert (closed == closed[0]).all(), "no switching action"
    assert sol.first_stage_cost == 0.0
    note = " ".join(sol.notes)
    assert "one-topology schedule" in note and "radial start" not in note
    if bound == -math.inf:
        # no bound from the master: the cost floor, 0 $, and the note says so
        assert sol.lower_bound == 0.0
        assert "cost floor" in note and "the master's" not in note
    else:
        assert sol.lower_bound == pytest.approx(0.5)
        assert "the lower bound the master's" in note


def test_hourly_master_dearer_incumbent_gives_way(
        inputs: Any, daily_optimum: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hourly master stops at its limit with a first stage dearer than the one-topology
    schedule (forced: the tree of least total resistance in every hour, the storage never
    discharging, :func:`ccg.instant_start`): the schedule is the one-topology one."""
    real = ccg._solve_master
    bad = ccg.instant_start(_data(inputs, HOURS, True)).x

    def master(d: ScheduleData, xis: Any, time_limit_s: float, gap: float, *args: Any,
               **kw: Any) -> Any:
        if not d.hourly:
            return real(d, xis, time_limit_s, gap, *args, **kw)
        vals = dict(bad)
        return (MilpSolution(SolverStatus.TIME_LIMIT, math.nan, -math.inf, 0.0, True), vals,
                0.0)

    monkeypatch.setattr(ccg, "_solve_master", master)
    d = _data(inputs, HOURS, True)
    bad_cost = ccg._first_stage_cost(d, bad) + ccg.evaluate(d, bad, ccg.nominal(d))[0]
    assert bad_cost > daily_optimum.objective * 1.01  # the instance shows the difference
    sol = solve_deterministic(d, time_limit_s=20.0)
    assert sol.objective <= daily_optimum.objective * (1 + 1e-6) + 1e-9
    assert any("one-topology schedule" in n for n in sol.notes)


def test_no_storage_no_storage_mode_note(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """#3: the master's re-solve stops at the limit (forced: the real master's point returned
    as a time-limited cut, as :func:`ccg._solve_master` returns it) in a run without storage
    (an empty devices folder): the note does not blame the storage modes."""
    real = ccg._solve_master

    def cut(d: ScheduleData, *args: Any, **kw: Any) -> Any:
        sol, vals, s = real(d, *args, **kw)
        return MilpSolution(SolverStatus.TIME_LIMIT, math.nan, sol.bound, s, True), vals, s

    monkeypatch.setattr(ccg, "_solve_master", cut)
    nodev = tmp_path / "nodev"
    nodev.mkdir()
    res = schedule("case33bw", devices=nodev, hours=2, time_limit_s=30.0, ac_check=False)
    text = " ".join(res.notes)
    assert str(res.status) == "time_limit"
    assert "storage-mode" not in text and "modes" not in text
    assert "loss tangents" in text
    # with the built-in storage units the storage-mode note stays
    res2 = schedule("case33bw", hours=2, time_limit_s=30.0, ac_check=False)
    assert any("lazy storage-mode loop" in n for n in res2.notes)
