"""The MILPs that say why a solve is infeasible share what is left of the run's time (user
test ut50_dss3 #1).

After the first MILP was infeasible, ``_why_infeasible`` re-solved it without the ratings,
without the voltage limits and without both, each with the whole ``--time-limit`` again: a
60 s run of a 50-bus feeder took 148 s, and its time row counted the first MILP only.

``f7.dss`` (data/ut48_dss3, LoadMult 7) with v_min 0.95 is infeasible with the voltage limits
alone and with the ratings alone, so every diagnosis MILP runs (four MILPs in all). Each MILP
is slowed here by a sleep (a stand-in for a large feeder's MILP) and the truth is the wall
clock: no MILP may be given a limit that ends after the run's deadline (start + limit <= t0 +
time limit, with a margin for the conversion before the first one), and when the first MILP
alone outlasts the limit no diagnosis MILP starts and the reason blames the time, not a limit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from feederopt.algorithms import threephase as tp
from feederopt.algorithms.threephase import reconfigure_three_phase
from feederopt.api_threephase import with_voltage_limits
from feederopt.io.opendss import read_opendss

F7 = Path(__file__).parent / "data" / "ut48_dss3" / "f7.dss"


def _slowed(monkeypatch: pytest.MonkeyPatch, delay: float) -> list[dict[str, Any]]:
    """``_milp`` wrapped: each call sleeps ``delay`` s after the real solve; the calls'
    start time, limit, end time and solver seconds are recorded."""
    calls: list[dict[str, Any]] = []
    real = tp._milp

    def slow(pu: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        model, sol, prob = real(pu, **kw)
        time.sleep(delay)
        calls.append({"start": start, "limit": kw["time_limit_s"], "end": time.perf_counter(),
                      "solver_s": sol.solve_time_s, "status": sol.status})
        return model, sol, prob

    monkeypatch.setattr(tp, "_milp", slow)
    return calls


def test_diagnosis_milps_get_only_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    net = with_voltage_limits(read_opendss(F7), 0.95)
    calls = _slowed(monkeypatch, 0.6)
    limit = 4.0
    t0 = time.perf_counter()
    topo = reconfigure_three_phase(net, time_limit_s=limit, max_enumerated_states=0)
    assert topo.status == "infeasible"
    assert len(calls) >= 2  # the first MILP and at least one diagnosis MILP
    assert "voltage" in topo.reason  # the diagnosis ran to its end in the time
    for c in calls:  # no MILP may run past the run's deadline (0.5 s for the conversion)
        assert c["start"] + c["limit"] <= t0 + limit + 0.5, (c, t0)
    # the result's solver seconds count every MILP, not the first alone
    assert topo.solve_time_s == pytest.approx(sum(c["solver_s"] for c in calls))


def test_no_diagnosis_once_the_time_is_out(monkeypatch: pytest.MonkeyPatch) -> None:
    net = with_voltage_limits(read_opendss(F7), 0.95)
    calls = _slowed(monkeypatch, 2.5)
    limit = 2.0
    t0 = time.perf_counter()
    topo = reconfigure_three_phase(net, time_limit_s=limit, max_enumerated_states=0)
    assert topo.status == "infeasible"
    assert len(calls) == 1, calls  # the first MILP ended after the deadline: nothing more
    assert time.perf_counter() - t0 < limit + 2.5 + 1.0
    assert "time limit ran out" in topo.reason and "raise --time-limit" in topo.reason
    assert "voltage" not in topo.reason.split(";")[0].replace("voltage limits", "")


def test_what_was_proven_before_the_time_ran_out_is_said(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first MILP and the re-solve without the ratings end, infeasible, after which the
    time is out: the voltage limits alone admit no topology, proven, and the reason says so
    (OpenDSS agrees: every radial state of f7 has a node below 0.95 p.u.) and that the time
    cut the rest short."""
    from test_ut48_dss3_infeasible_reasons import opendss_radial_states

    truth = opendss_radial_states(F7)
    assert truth and all(v < 0.95 for v, _ in truth.values())
    net = with_voltage_limits(read_opendss(F7), 0.95)
    calls = _slowed(monkeypatch, 0.8)
    topo = reconfigure_three_phase(net, time_limit_s=1.5, max_enumerated_states=0)
    assert topo.status == "infeasible"
    assert [c["status"] for c in calls] == ["infeasible", "infeasible"], calls
    assert topo.reason.startswith("infeasible: no radial topology keeps every voltage")
    assert "time limit ran out" in topo.reason
