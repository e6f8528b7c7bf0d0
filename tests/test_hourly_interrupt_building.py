"""A stop request (Ctrl-C, SIGTERM) while an hourly-topology schedule builds its masters.

Before, a request made while a master was built (the one-topology master, the hourly one,
or the radial start's LP relaxation and tree masters of C&CG) was seen only by HiGHS's first
callback, after the whole model was built and presolved: on 24 h case136ma the hourly master
takes ~1.5 s to build and ~3.5 s of presolve before that callback, and the radial start two
such masters more. Now the request is checked between the steps of the building, and no
master is solved after it.

The request is made in-process where the building happens (a wrapper of ``master_block``);
the truth is what was forced: a stop requested before any master MILP could run, so none
may run (every master solve is recorded with whether a request was pending), the status is
``interrupted``, and the lower bound is no more than the cost floor, 0 $ (no master proved
one). Small instance (case33bw, 2 hours), no AC check."""

from __future__ import annotations

from typing import Any

import pytest

from feederopt.algorithms import ccg
from feederopt.api_schedule import schedule
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel

HOURLY = {"hours": 2, "hourly": True, "c_switch": 5.0}


def _instrument(monkeypatch: pytest.MonkeyPatch, stop_when_hourly: bool | None
                ) -> list[tuple[bool, bool]]:
    """Record every solve of a schedule master (a model with ``theta``) as (hourly, a stop was
    pending); request the stop at the end of the first build of a master (of the hourly one
    when ``stop_when_hourly``, of a one-topology one when False, of any when None)."""
    solves: list[tuple[bool, bool]] = []
    built = ccg.master_block
    original = HighsModel.solve

    def master_block(d: Any, *args: Any, **kw: Any) -> Any:
        block = built(d, *args, **kw)
        if stop_when_hourly is None or d.hourly == stop_when_hourly:
            interrupt.request()
        return block

    def solve(self: HighsModel, *args: Any, **kw: Any) -> Any:
        if "theta" in self.block.groups:
            solves.append(("h1.y" in self.block.groups, interrupt.requested()))
        return original(self, *args, **kw)

    monkeypatch.setattr(ccg, "master_block", master_block)
    monkeypatch.setattr(HighsModel, "solve", solve)
    return solves


def _run(**changes: Any) -> Any:
    interrupt.clear()
    try:
        return schedule("case33bw", ac_check=False, time_limit_s=120.0, **HOURLY, **changes)
    finally:
        interrupt.clear()


def test_stop_while_building_the_one_topology_master(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic ``--hourly-topology``: the request comes as the first master (the
    one-topology one) is built: no master is solved; the schedule is the instant start."""
    solves = _instrument(monkeypatch, stop_when_hourly=False)
    res = _run()
    assert solves == [], f"a master was solved after the stop request: {solves}"
    assert res.status == "interrupted"
    assert res.lower_bound <= 0.0
    assert res.objective > 0.0  # the instant start's cost, evaluated (an LP, shielded)
    assert "before the stop request" in " ".join(res.notes), res.notes


def test_stop_while_building_the_hourly_master(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-topology master is solved; the request comes as the hourly master is built:
    the hourly master is not solved, the schedule is the one-topology one held every hour."""
    solves = _instrument(monkeypatch, stop_when_hourly=True)
    res = _run()
    assert solves and not any(hourly for hourly, _ in solves), solves
    assert not any(pending for _, pending in solves), solves
    assert res.status == "interrupted"
    assert "one-topology schedule" in " ".join(res.notes), res.notes


def test_stop_while_building_the_radial_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Robust (C&CG) ``--hourly-topology``: the request comes as the radial start builds the
    forecast master's LP relaxation: neither that LP, nor the masters at its trees, nor
    C&CG's first master are solved."""
    solves = _instrument(monkeypatch, stop_when_hourly=None)
    res = _run(gamma=0.1, budget=1.0)
    assert solves == [], f"a master was solved after the stop request: {solves}"
    assert res.status == "interrupted"
    assert res.lower_bound <= 0.0
    assert "stop request" in " ".join(res.notes), res.notes


def test_stopped_schedule_evaluated_by_the_radial_starts_own_lp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """After the stop the schedule is the instant start; its cost at each realisation comes
    from the start's own second-stage LP (one LP built, its right-hand sides set per
    realisation; before, the same LP was built and solved again per realisation: 1.7 s each
    on 24 h case136ma). The values must be those of the LP built anew at the schedule's first
    stage (:func:`~feederopt.algorithms.worst_climb.second_stage`, independent of the run)."""
    import numpy as np

    from feederopt.algorithms import worst_climb
    from feederopt.api_schedule import schedule_inputs
    from feederopt.formulations.schedule import nominal
    from feederopt.problems.schedule import ScheduleSettings, build_schedule_data

    net, dev, prof = schedule_inputs("case33bw")
    d = build_schedule_data(net, dev, prof, ScheduleSettings(**HOURLY, gamma=0.2, budget=1.0))
    up = nominal(d)
    up["xp"] = np.ones_like(up["xp"])  # every load up in every hour: dearer than the forecast
    xis = [nominal(d), up]
    built: list[int] = []
    lp_class = worst_climb.RecourseLp

    class Counted(lp_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kw: Any) -> None:
            built.append(1)
            super().__init__(*args, **kw)

    _instrument(monkeypatch, stop_when_hourly=None)
    monkeypatch.setattr(ccg, "RecourseLp", Counted)
    monkeypatch.setattr(worst_climb, "RecourseLp", Counted)
    interrupt.clear()
    try:
        sol = ccg.solve_extensive(d, xis, time_limit_s=120.0)
    finally:
        interrupt.clear()
    assert built == [1], f"second-stage LPs built: {len(built)}"
    monkeypatch.undo()
    x = {**{f"h{h}.y": sol.closed[h] for h in range(d.hours)}, "z": sol.z}
    fresh = [worst_climb.second_stage(d, x, xi).value for xi in xis]
    assert fresh[1] > fresh[0]
    assert sol.worst_cost == pytest.approx(fresh[1], rel=1e-7)
    assert sol.nominal_cost == pytest.approx(fresh[0], rel=1e-7)
    assert sol.objective == pytest.approx(sol.first_stage_cost + fresh[1], rel=1e-7)
