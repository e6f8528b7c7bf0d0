"""User test ut51_cli #2 and #3: ``schedule --hourly-topology`` stopped by a signal.

#2: stopped by SIGTERM during the one-topology stage, it noted "the hourly-topology master
proved no lower bound in the 585.5 s left after the one-topology schedule (time_limit in
314.5 s, ...)": no time limit had been reached (the stage was interrupted) and the hourly
master had no time left (the request stops it at once).

#3: after the request the hourly master was still built and probed (tens of seconds on 24 h),
only to stop at once: Ctrl-C took 55 s to exit. Now it is not started after a request.

Forced (a 5-minute run otherwise): the masters return their start points as interrupted
solves, the request made where the test says. The truth is what was forced: a stop request,
no time limit reached."""

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


@pytest.fixture(scope="module")
def data() -> ScheduleData:
    net, dev, prof = schedule_inputs("case33bw")
    return build_schedule_data(net, dev, prof,
                               ScheduleSettings(hours=2, hourly=True, c_switch=5.0))


def _masters(monkeypatch: pytest.MonkeyPatch, stop_in_hourly: bool) -> list[str]:
    """The one-topology master returns the instant start, the hourly master its MIP start,
    both as interrupted solves; the request is made in the one or the other. The masters
    called, in order."""
    called: list[str] = []

    def master(dm: ScheduleData, xis: Any, time_limit_s: float, gap: float,
               start: Any = None, *args: Any, **kw: Any) -> Any:
        called.append("hourly" if dm.hourly else "one")
        stopped = MilpSolution(SolverStatus.INTERRUPTED, math.nan, -math.inf, 0.0, True)
        if dm.hourly == stop_in_hourly:
            interrupt.request()
        if not dm.hourly:
            return stopped, dict(ccg.instant_start(dm).x), 0.0
        return stopped, dict(start), 0.0  # the hourly master keeps its MIP start

    monkeypatch.setattr(ccg, "_solve_master", master)
    return called


def test_request_in_one_topology_stage_is_no_time_limit_and_skips_hourly_master(
        data: ScheduleData, monkeypatch: pytest.MonkeyPatch) -> None:
    called = _masters(monkeypatch, stop_in_hourly=False)
    interrupt.clear()
    try:
        sol = solve_deterministic(data, time_limit_s=900.0)
    finally:
        interrupt.clear()
    assert called == ["one"], "the hourly master is not started after the request (#3)"
    text = " ".join(sol.notes)
    assert "time_limit in" not in text and "s left" not in text, text
    assert "interrupted in" in text and "before the stop request" in text, text


def test_request_in_hourly_master_is_not_told_as_time_left(
        data: ScheduleData, monkeypatch: pytest.MonkeyPatch) -> None:
    called = _masters(monkeypatch, stop_in_hourly=True)
    interrupt.clear()
    try:
        sol = solve_deterministic(data, time_limit_s=900.0)
    finally:
        interrupt.clear()
    assert called == ["one", "hourly"]
    text = " ".join(sol.notes)
    assert "s left" not in text, text
    assert "stopped by the stop request" in text, text
