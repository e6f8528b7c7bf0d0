"""A partition stopped by Ctrl-C before any plan writes the all-dark plan, as at a time limit
(user test ut50_par #2).

Before, ``feederopt partition ieee37mod --uncertainty 0.1 --workers 2 --json part_int.json``
stopped during its first round of slaves printed "SIGINT: stopping; the best plan so far, its
bound and gap are reported and written", then "interrupted: before any answer was found;
nothing written", exit 130, no JSON: the first line promised a write that did not come, and
the README says partition stops "the same way ... written to --json". Now the answer is the
all-dark fallback (every block de-energised, always robustly feasible), status
``interrupted``, ``trivial_plan`` true, written; exit 130.

The stop is forced in-process the way it comes: the first round of slaves sends SIGINT to the
process (the stop handler records it and prints its line) and its slave returns HiGHS's
``interrupted``. The truth is the all-dark plan's load-shed cost by hand from the tester's
.dss file of ut47_part (:func:`test_ut47_partition_stopped.all_dark_cost_by_hand`).
"""

from __future__ import annotations

import json
import os
import signal

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_ut47_partition_stopped import ARGS, DSS, all_dark_cost_by_hand


def test_ctrl_c_before_any_plan_writes_the_all_dark_plan(tmp_path, monkeypatch) -> None:
    import feederopt.execution.executors as ex_mod
    from feederopt.solvers import interrupt

    def stopped(self, fn, items, deadline=None):  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signal.SIGINT)  # the handler takes it: its line, the request
        raise interrupt.Interrupted("partition slave 0: interrupted")

    monkeypatch.setattr(ex_mod.SerialExecutor, "map", stopped)
    out = tmp_path / "p.json"
    res = CliRunner().invoke(app, ["partition", *ARGS, "--json", str(out)])
    assert res.exit_code == 130, res.output
    assert "Traceback" not in res.output
    assert "reported and written" in res.output  # the stop line's promise ...
    assert "nothing written" not in res.output
    doc = json.loads(out.read_text())  # ... kept
    assert doc["status"] == "interrupted" and doc["trivial_plan"] is True
    assert not any(doc["plan"]["energised"])
    assert doc["objective"] == pytest.approx(all_dark_cost_by_hand(DSS))
    assert any("stopped (Ctrl-C or SIGTERM)" in n for n in doc["notes"])
