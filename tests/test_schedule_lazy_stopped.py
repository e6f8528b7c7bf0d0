"""A lazy master (``solve_extensive(..., active=...)``, :func:`solve_lazy_master`) stopped
while an inactive realisation still violates its ``theta``: before, the last solve was
returned as "optimal" for the active copies only, and the schedule reported status optimal
with the active copies' objective (below the first stage's true cost). Now the status says
why it stopped (``time_limit`` / ``interrupted``), the objective is the first stage's cost
evaluated by the second-stage LP over every realisation (the upper bound) and the bound is the
relaxed master's (a valid lower bound: fewer copies, fewer rows). Truth: the second-stage LP at
the returned first stage, and the all-copies master's optimum between the two bounds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import feederopt.algorithms.ccg as ccg
from feederopt.algorithms.ccg import evaluate, extreme_points, solve_extensive
from feederopt.api_schedule import schedule_inputs
from feederopt.solvers import interrupt
from feederopt.solvers.status import Status
from schedule_loop import two_hour_instance


@pytest.fixture(scope="module")
def instance() -> tuple[Any, list[dict[str, Any]]]:
    d = two_hour_instance(schedule_inputs("case33bw"), ("11", "26"), [3])
    xis = extreme_points(d)
    # the forecast, a realisation the forecast's schedule covers and one it does not (the
    # lazy loop activates it: checked below through the violation at the stopped point)
    return d, [xis[0], xis[1], xis[19]]


@pytest.fixture(autouse=True)
def _no_request() -> Iterator[None]:
    interrupt.clear()
    yield
    interrupt.clear()


def _stop_after_first_solve(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The lazy loop's first master solve runs to its end (a generous limit); then the time
    limit has passed (``how='time'``) or a stop was requested (``how='request'``)."""
    real = ccg._solve_master

    def first_then_stop(d, xis, time_limit_s, gap, *a, **k):  # type: ignore[no-untyped-def]
        out = real(d, xis, 60.0, gap, *a, **k)
        if how == "time":
            time.sleep(1.1)  # past solve_extensive's limit of 1 s
        else:
            interrupt.request()
        return out

    monkeypatch.setattr(ccg, "_solve_master", first_then_stop)


def _check_stopped(d: Any, xis: list[dict[str, Any]], sol: Any) -> None:
    x = {"y": sol.closed[0], "z": sol.z}
    if d.commit:
        x["u"] = sol.commitment
    qs = [evaluate(d, x, xi)[0] for xi in xis]
    # the stopped point does not cover every realisation at the active copies' cost: the
    # forecast's copy alone is below the worst realisation's (so the loop was cut short)
    assert max(qs) > qs[0] + 1e-6
    # the objective is the first stage's true cost over EVERY realisation (the upper bound)
    assert sol.objective == pytest.approx(ccg._first_stage_cost(d, x) + max(qs), rel=1e-7)
    assert sol.lower_bound <= sol.objective + 1e-9
    assert any("stopped" in n and "still violated" in n for n in sol.notes), sol.notes


def test_lazy_master_at_time_limit_is_not_optimal(monkeypatch: pytest.MonkeyPatch,
                                                  instance: Any) -> None:
    d, xis = instance
    _stop_after_first_solve(monkeypatch, "time")
    sol = solve_extensive(d, xis, time_limit_s=1.0, gap=1e-7, active=[0])
    assert sol.status is Status.TIME_LIMIT  # before: optimal
    _check_stopped(d, xis, sol)
    monkeypatch.undo()
    full = solve_extensive(d, xis, gap=1e-7)  # every copy in the MILP: the optimum
    assert full.status is Status.OPTIMAL
    assert sol.lower_bound <= full.objective + 1e-6 <= sol.objective + 2e-6


def test_lazy_master_stop_request_is_interrupted(monkeypatch: pytest.MonkeyPatch,
                                                 instance: Any) -> None:
    d, xis = instance
    _stop_after_first_solve(monkeypatch, "request")
    sol = solve_extensive(d, xis, time_limit_s=60.0, gap=1e-7, active=[0])
    assert sol.status is Status.INTERRUPTED  # before: optimal
    _check_stopped(d, xis, sol)
