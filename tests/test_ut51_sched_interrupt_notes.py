"""User test ut51_cli #2: ``schedule --hourly-topology`` stopped by SIGTERM during the
one-topology stage noted "the hourly-topology master proved no lower bound in the 585.5 s
left after the one-topology schedule (time_limit in 314.5 s, ...)": no time limit had been
reached (the stage was interrupted) and the hourly master had no time left (the request
stops it at once). Now the stage is "interrupted" and the note says the request stopped the
master.

Forced (a 5-minute run otherwise): the one-topology master returns its start point as an
interrupted solve after a stop request, and the hourly master keeps its MIP start, proving no
bound. The truth is what was forced: a stop request, no time limit reached."""

from __future__ import annotations

import math
from typing import Any

import pytest

from feederopt.algorithms import ccg
from feederopt.algorithms.ccg import solve_deterministic
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import ScheduleData
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import MilpSolution
from feederopt.solvers.status import SolverStatus


def test_interrupted_one_topology_stage_is_not_called_a_time_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    net, dev, prof = schedule_inputs("case33bw")
    d = build_schedule_data(net, dev, prof,
                            ScheduleSettings(hours=2, hourly=True, c_switch=5.0))

    def master(dm: ScheduleData, xis: Any, time_limit_s: float, gap: float,
               start: Any = None, *args: Any, **kw: Any) -> Any:
        stopped = MilpSolution(SolverStatus.INTERRUPTED, math.nan, -math.inf, 0.0, True)
        if not dm.hourly:  # the SIGTERM comes during the one-topology stage
            interrupt.request()
            return stopped, dict(ccg.instant_start(dm).x), 0.0
        return stopped, dict(start), 0.0  # the hourly master keeps its MIP start

    monkeypatch.setattr(ccg, "_solve_master", master)
    interrupt.clear()
    try:
        sol = solve_deterministic(d, time_limit_s=900.0)
    finally:
        interrupt.clear()
    text = " ".join(sol.notes)
    assert "time_limit in" not in text and "s left" not in text, text
    assert "interrupted in" in text
    assert "stopped by the stop request" in text
