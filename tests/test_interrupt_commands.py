"""Ctrl-C stops ``partition``, ``schedule``, ``plan`` and ``restore`` as it stops ``solve``
(user test ut32_time, item 1).

Each command runs in a subprocess on a case whose solve lasts far longer than the test (the
user test's: partition ieee37mod +-10 % took 25 s, the robust schedule of case69bw and the
L-shaped plan of synthetic500 minutes, restore synthetic2000 ignored the signal); once the
progress log shows its first phase, the test sends SIGINT and expects what ``solve`` does
(README "Interruption"): the process ends within seconds with exit code 130 and no traceback,
and ``--json`` is either not written (interrupted before any answer) or a whole JSON document
with status ``interrupted``.

Before the fix none of the four installed the stop handler: partition died of a segfault
(139), exited 130 silently or reported status ``error`` with exit 0; schedule ran on to its
end (exit 0) or failed with "second-stage LP ended error" (exit 1); plan failed with a
RuntimeError (exit 1); restore ignored the signal.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from pathlib import Path

import pytest

from feederopt.algorithms.base import interrupted_label
from feederopt.solvers import interrupt
from signal_run import signal_after

DATA = Path(__file__).parent / "data"
#: A progress line of ``--verbose``: a phase and its start time, ``  master 1 (0.3 s)``.
PHASE = re.compile(r"^\s+\S.*\(\d+(\.\d+)? s\)\s*$")
#: From the signal to the exit (the user test's runs went on for minutes); generous for a
#: loaded 2-core machine.
EXIT_WITHIN_S = 45.0

COMMANDS = {
    "partition": ["partition", "ieee37mod", "--uncertainty", "0.1", "--no-voltage-feedback",
                  "--time-limit", "600"],
    "schedule": ["schedule", "case69bw", "--robust-budget", "4,4", "--gamma", "0.1",
                 "--time-limit", "600"],
    "plan": ["plan", "synthetic500", "--scenarios", "STORM", "--method", "lshaped",
             "--harden-budget", "3", "--dg-budget", "2", "--no-measures", "--time-limit", "600"],
    "restore": ["restore", "synthetic2000", "--broken", "5,40,100,200,400,800,1200,1600",
                "--time-limit", "600"],
}


def _interrupt(args: list[str], tmp_path: Path) -> tuple[int, str, float, Path]:
    """Run ``feederopt ARGS --json FILE --verbose``, send SIGINT after its first phase line;
    (exit code, stderr, seconds from the signal to the exit, JSON path)."""
    json_file = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "feederopt", *args, "--json", str(json_file), "--verbose"]
    run = signal_after(cmd, lambda line: PHASE.match(line) is not None, signal.SIGINT,
                       start_within_s=180, settle_s=1.0,  # into the solve
                       exit_within_s=EXIT_WITHIN_S + 60)
    return run.returncode, run.stderr, run.waited_s, json_file


@pytest.mark.parametrize("command", list(COMMANDS))
def test_ctrl_c_stops_the_command_like_solve(command: str, tmp_path: Path) -> None:
    # STORM: the user test's 20-scenario storm of synthetic500 (a copy of its file)
    args = [str(DATA / "resilience" / "storm500.json") if a == "STORM" else a
            for a in COMMANDS[command]]
    code, err, waited, json_file = _interrupt(args, tmp_path)
    assert "Traceback" not in err, err
    assert code == 130, f"exit code {code}:\n{err}"
    assert waited < EXIT_WITHIN_S, f"{waited:.1f} s from the signal to the exit:\n{err}"
    assert "interrupted" in err.split("SIGINT: stopping", 1)[-1], err
    if json_file.exists():  # an answer so far: whole, and labelled as such
        doc = json.loads(json_file.read_text())
        assert doc["status"] == "interrupted"
    else:  # none: the console says so
        assert "before any" in err, err


def test_a_stop_request_labels_every_unproven_status_interrupted() -> None:
    interrupt.clear()
    assert interrupted_label("time_limit") == "time_limit"
    interrupt.request(signal.SIGINT)
    try:
        for status in ("time_limit", "error", "feasible", "iteration_limit", "interrupted"):
            assert interrupted_label(status) == "interrupted"
        # a proof made before the request stands
        assert interrupted_label("optimal") == "optimal"
        assert interrupted_label("infeasible") == "infeasible"
    finally:
        interrupt.clear()


def test_a_shielded_solve_does_not_see_the_request() -> None:
    interrupt.clear()
    interrupt.request(signal.SIGINT)
    try:
        assert interrupt.requested()
        with interrupt.shielded():
            assert not interrupt.requested()
            with interrupt.shielded():
                assert not interrupt.requested()
            assert not interrupt.requested()
        assert interrupt.requested()
    finally:
        interrupt.clear()
