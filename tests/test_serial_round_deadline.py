"""The serial executor drops a round that overruns the deadline, as the pool and Ray do.

Before (serialdl), ``SerialExecutor.map`` ran every item of a round whatever its
``deadline``: ``solve case33bw --scenarios (200 scenarios) --workers 1 --time-limit 1`` ran
its whole first round, 10.9 s past the limit, where the process pool and Ray stop waiting
:data:`~feederopt.execution.executors.ROUND_GRACE_S` past it and raise
:class:`~feederopt.solvers.interrupt.RoundOverran`. Now it starts no item past
``deadline + ROUND_GRACE_S`` (the one rule, :func:`~feederopt.execution.executors.round_end`).

Independent truth: the wall clock and a count of the items a fake task ran (each sleeps a known
time, so the number that can start before ``deadline + grace`` is a hand calculation); at the
CLI, the run's own optimisation time against its limit, with a margin far above one slave's
solve time (the brief's "below the grace plus a margin", not a speed target).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.execution import SerialExecutor
from feederopt.execution import executors as ex_mod
from feederopt.solvers import interrupt

#: How long [s] one fake item takes.
ITEM_S = 0.1


class _Counter:
    """A worker state that counts the items run on it."""

    def __init__(self) -> None:
        self.ran = 0


def _factory() -> _Counter:
    return _Counter()


def _slow(state: _Counter, item: int) -> int:
    state.ran += 1
    time.sleep(ITEM_S)
    return 2 * item


def test_a_serial_round_past_the_deadline_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 items of 0.1 s (3 s of work) against a deadline 0.2 s away and a 0.3 s grace: items
    start while the clock is before 0.5 s, so 5 run (at 0, 0.1, ..., 0.4 s; a sixth at most,
    should the clock land on the boundary), then RoundOverran, no stop request. Before: all 30
    ran, 3 s, and the list came back."""
    monkeypatch.setattr(ex_mod, "ROUND_GRACE_S", 0.3)
    ex = SerialExecutor(_factory)
    state = ex.state
    t0 = time.perf_counter()
    with pytest.raises(interrupt.RoundOverran, match="past the time limit"):
        ex.map(_slow, list(range(30)), deadline=t0 + 0.2)
    took = time.perf_counter() - t0
    assert 5 <= state.ran <= 6, state.ran
    assert took < 0.5 + ITEM_S + 1.0  # the grace, the item running then, a margin
    assert not interrupt.requested()


def test_a_serial_round_within_the_grace_or_without_a_deadline_runs_to_its_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A round that ends before ``deadline + grace`` (also one that starts past the deadline
    itself but within the grace) and one without a deadline return every result, in order."""
    monkeypatch.setattr(ex_mod, "ROUND_GRACE_S", 5.0)
    ex = SerialExecutor(_factory)
    assert ex.map(_slow, [1, 2, 3], deadline=time.perf_counter() - 1.0) == [2, 4, 6]
    assert ex.map(_slow, [4, 5], deadline=None) == [8, 10]
    assert ex.state.ran == 5
    assert ex_mod.round_end(None) == math.inf
    assert ex_mod.round_end(10.0) == 15.0


def _scenarios(tmp_path: Path, count: int) -> Path:
    out = tmp_path / "sc.parquet"
    r = CliRunner().invoke(app, ["scenarios", "case33bw", "-n", str(count), "--seed", "1",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_cli_scenario_run_with_one_worker_ends_near_its_time_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``solve case33bw --scenarios (120) --workers 1 --time-limit 0.5`` with the grace at
    0.5 s: the first round of 120 slave SOCPs (about 6 s on 2 shared cores; one slave about
    0.05 s) is dropped, the run ends ``time_limit`` within the limit plus the grace plus a
    2 s margin, without a topology (none was evaluated), labelled so: exit 4. Before: the
    round ran to its end, 6 s past the limit, and its topology was reported."""
    monkeypatch.setattr(ex_mod, "ROUND_GRACE_S", 0.5)
    scen = _scenarios(tmp_path, 120)
    limit = 0.5
    r = CliRunner().invoke(app, ["solve", "case33bw", "--scenarios", str(scen), "--workers",
                                 "1", "--time-limit", str(limit), "--no-ac-check", "--json",
                                 str(tmp_path / "r.json")])
    assert "Traceback" not in r.output, r.output
    res: dict[str, Any] = json.loads((tmp_path / "r.json").read_text())
    assert res["status"] == "time_limit"
    overrun = res["solve_time_s"] - limit
    assert overrun < ex_mod.ROUND_GRACE_S + 2.0, f"{overrun:.2f} s past the limit"
    if not res["has_topology"]:
        assert r.exit_code == 4
        assert "No topology was found" in " ".join(r.output.split())
