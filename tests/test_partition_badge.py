"""The partition page's badge says ``limits_broken`` exactly when the command exits with code 4
(user test ut_3ph #2: a green "optimal" badge on the page of a run that exited 4, OpenDSS
not converging at the kept plan)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import typer

from feederopt.cli.partition import _exit
from feederopt.report.partition import partition_badge

CASES: list[dict[str, Any]] = [
    {"status": "optimal", "trivial_plan": False,
     "voltage_feedback": {"enabled": True, "within_voltage_limits": False,
                          "stopped": "OpenDSS did not converge"}},
    {"status": "optimal", "trivial_plan": False,
     "voltage_feedback": {"enabled": True, "within_voltage_limits": True}},
    {"status": "time_limit", "trivial_plan": True, "voltage_feedback": None},
    {"status": "optimal", "trivial_plan": False, "voltage_feedback": {"enabled": False}},
]


@pytest.mark.parametrize("doc", CASES)
def test_badge_follows_the_exit_code(doc: dict[str, Any]) -> None:
    res = SimpleNamespace(**doc)
    try:
        _exit(res, quiet=True)
        code = 0
    except typer.Exit as stop:
        code = stop.exit_code
    assert (partition_badge(doc) == "limits_broken") == (code == 4)
    if code == 0:
        assert partition_badge(doc) == doc["status"]
