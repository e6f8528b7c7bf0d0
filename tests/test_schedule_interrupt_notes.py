"""A schedule stopped by a stop request says so in its notes, not "time limit" (user test
ut41_cli #6).

``feederopt schedule`` stopped by Ctrl-C exits 130 with status ``interrupted`` (correct), but
printed "note: time limit in the lazy storage-mode loop ..." though no time limit was reached:
the request makes the time left zero, and the notes of every step that the time left ends
named the time limit. Here the request comes in-process (:func:`feederopt.solvers.interrupt.
request`, what the SIGINT handler calls) at a controlled point of a run whose limit (600 s) is
far from reached (the runs take seconds): so no note may speak of a time limit, and the notes
of the steps the request ended say that it did.
"""

from __future__ import annotations

import math
import signal
import time
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.algorithms import ccg
from feederopt.algorithms.base import stop_cause
from feederopt.results.schedule import ScheduleResult
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel, MilpSolution
from feederopt.solvers.status import SolverStatus

LIMIT_S = 600.0


@pytest.fixture(autouse=True)
def _forget_the_request():
    interrupt.clear()
    yield
    interrupt.clear()


def _schedule(**kw: Any) -> ScheduleResult:
    t0 = time.perf_counter()
    res = feederopt.schedule("case33bw", hours=2, ac_check=False, time_limit_s=LIMIT_S, **kw)
    assert time.perf_counter() - t0 < LIMIT_S / 5  # nowhere near the limit
    return res


def test_the_cause_follows_the_request() -> None:
    assert stop_cause() == "the time limit"
    assert stop_cause("time limit", "interrupted") == "time limit"
    interrupt.request(signal.SIGINT)
    assert stop_cause() == "the stop request"
    assert stop_cause("time limit", "interrupted") == "interrupted"


def test_a_stop_in_the_lazy_storage_mode_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deterministic schedule's master with lazy storage modes (ccg._solve_master): the
    request comes after its first (relaxed) solve, which is made to report a mode conflict so
    that the loop solves again; HiGHS, stopped by the request before it has a solution (as
    when it rejects the rounded warm start, the user's run), reports ``interrupted`` without
    one. The loop then ends as at a time limit, and its note must name the request."""
    conflicts = ccg._mode_conflicts
    calls: list[int] = []

    def conflict_then_stop(*args: Any, **kwargs: Any) -> np.ndarray:
        calls.append(1)
        if len(calls) == 1:
            interrupt.request(signal.SIGINT)  # what Ctrl-C's handler does
            return np.array([0])
        return conflicts(*args, **kwargs)

    solve = HighsModel.solve

    def stopped_solve(self: HighsModel) -> MilpSolution:
        if interrupt.requested():  # HiGHS's interrupt callback stops it before a solution
            return MilpSolution(SolverStatus.INTERRUPTED, math.nan, -math.inf, 0.0, False)
        return solve(self)

    monkeypatch.setattr(ccg, "_mode_conflicts", conflict_then_stop)
    monkeypatch.setattr(ccg.HighsModel, "solve", stopped_solve)
    res = _schedule()
    assert calls, "the lazy storage-mode loop did not run"
    assert res.status == "interrupted"
    loop = [n for n in res.notes if "lazy storage-mode loop" in n]
    assert loop and loop[0].startswith("interrupted (stop request) in the lazy"), res.notes
    assert not [n for n in res.notes if "time limit" in n], res.notes


def test_a_stop_in_the_robust_schedule_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """C&CG: the request comes right after the radial start; the first master is stopped by
    it at once, and the radial start is the schedule. Its notes said "the time limit passed
    in the radial start" and "the master found no solution within the time limit"."""
    radial = ccg.radial_start

    def radial_then_stop(*args: Any, **kwargs: Any) -> ccg.RadialStart:
        found = radial(*args, **kwargs)
        interrupt.request(signal.SIGINT)
        return found

    monkeypatch.setattr(ccg, "radial_start", radial_then_stop)
    res = _schedule(gamma=0.1, budget=1)
    assert res.status == "interrupted"
    assert any("the stop request came in the radial start" in n for n in res.notes), res.notes
    assert any("found no solution before the stop request" in n for n in res.notes), res.notes
    assert not [n for n in res.notes if "time limit" in n], res.notes
