"""The HiGHS backend's overrun guard: a run that goes on past its time limit (HiGHS checks
its own limit only at certain points; a 300 s robust schedule once spent 755 s in one solve)
is stopped by the interrupt callbacks, with status ``time_limit``, not ``interrupted``.

HiGHS not honouring its limit is simulated by giving it an infinite limit where ``solve``
sets HiGHS's option; the model is the 24 h case69bw schedule master, which HiGHS does not
solve within minutes (513-700 s measured, docs/schedule.md). The second test also catches
a flag that HiGHS keeps between runs: an interrupt set in one run stopped the next at its
first callback."""

from __future__ import annotations

import math
import time

import pytest

from feederopt.algorithms.ccg import master_block
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import nominal
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers import highs_backend
from feederopt.solvers.highs_backend import HighsModel


@pytest.fixture(scope="module")
def master() -> HighsModel:
    d = build_schedule_data(*schedule_inputs("case69bw"), ScheduleSettings())
    return HighsModel(master_block(d, [nominal(d)]))


def test_a_run_past_its_limit_is_stopped_as_a_time_limit(
        master: HighsModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs_backend, "OVERRUN_GRACE_S", 0.5)
    monkeypatch.setattr(highs_backend, "OVERRUN_GRACE_SHARE", 0.0)
    master.set_time_limit(0.5)
    # HiGHS no longer stops by itself: solve() hands it infinity instead of the limit
    monkeypatch.setattr(master, "_apply_time_limit",
                        lambda: master.h.setOptionValue("time_limit", math.inf))
    t0 = time.perf_counter()
    sol = master.solve()
    took = time.perf_counter() - t0
    assert master.overran is True
    assert sol.status == "time_limit"
    # the deadline was 1 s; HiGHS calls no callback while it sets the MIP up (seconds on a
    # loaded machine), then within milliseconds
    assert took < 60.0
    # the guard is disarmed after the solve: a later run outside solve() is not cut short
    assert master._deadline == math.inf


def test_a_run_after_a_stopped_one_runs_to_its_limit(master: HighsModel) -> None:
    master.h.clearSolver()
    master.set_time_limit(3.0)  # per run (HighsModel.set_time_limit)
    t0 = time.perf_counter()
    sol = master.solve()
    # not stopped at its first callback by the flag of the run before (status interrupted)
    assert sol.status == "time_limit"
    assert time.perf_counter() - t0 >= 2.5
