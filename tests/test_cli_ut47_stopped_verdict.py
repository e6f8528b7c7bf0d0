"""A restore or plan that a signal stopped names the exit code it really returns (user test
ut47_cli #1).

``restore synthetic500 --broken 5,17`` stopped by Ctrl-C exited 130 (status ``interrupted``,
README "Interruption"), yet its console row and report.html said "no: an AC check breaks a
limit (exit code 4)". The truth is the process's own exit code (128 + the signal's number):
the row must not claim 4 beside it, and must name the code the run returned.

The stop is simulated as the signal handler makes it (``interrupt.request``) once the real
restoration of a small feeder has run, its result labelled ``interrupted`` as a stopped solve
labels it; the feeder (tests/test_resilience_verdict.py's heavy one) breaks v_min in
pandapower's AC power flow, so the verdict is "no".
"""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.solvers import interrupt
from test_resilience_verdict import feeder

runner = CliRunner(env={"COLUMNS": "240"})


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_restore_does_not_claim_exit_code_4(monkeypatch: Any, tmp_path: Path,
                                                      signum: int) -> None:
    src = tmp_path / "heavy.json"
    pp.to_json(feeder(1.0), str(src))
    real = feederopt.restore

    def stopped(*args: Any, **kwargs: Any) -> Any:
        res = real(*args, **kwargs)
        interrupt.request(signum)
        return dataclasses.replace(res, status="interrupted")

    monkeypatch.setattr(feederopt, "restore", stopped)
    try:
        res = runner.invoke(app, ["restore", str(src), "--broken", "line:0",
                                  "--out", str(tmp_path / "r")])
    finally:
        interrupt.clear()
    assert res.exit_code == 128 + signum, res.output  # the premise: the stop's code
    out = " ".join(res.stdout.split())
    row = out.split("within the limits (AC check) │", 1)[1].split("│", 1)[0]
    assert row.strip().startswith("no"), row
    assert "exit code 4" not in row, row  # was "(exit code 4)" beside exit code 130/143
    assert f"{res.exit_code}" in row, row
    page = (tmp_path / "r" / "report.html").read_text()
    assert "breaks a limit" in page and "(exit code 4)" not in page
    assert f"{res.exit_code}" in page.split("breaks a limit", 1)[1].split("</td>", 1)[0]


def test_a_stopped_plan_does_not_claim_exit_code_4(monkeypatch: Any, tmp_path: Path) -> None:
    src = tmp_path / "heavy.json"
    pp.to_json(feeder(1.0), str(src))
    real = feederopt.plan

    def stopped(*args: Any, **kwargs: Any) -> Any:
        res = real(*args, **kwargs)
        interrupt.request(signal.SIGINT)
        return dataclasses.replace(res, status="interrupted")

    monkeypatch.setattr(feederopt, "plan", stopped)
    try:
        res = runner.invoke(app, ["plan", str(src), "--broken", "line:0", "--harden-budget",
                                  "0", "--dg-budget", "0"])
    finally:
        interrupt.clear()
    assert res.exit_code == 130, res.output
    out = " ".join(res.stdout.split())
    row = out.split("within the limits (AC checks) │", 1)[1].split("│", 1)[0]
    assert row.strip().startswith("no") and "exit code 4" not in row, row
    assert "130" in row, row
