"""The partition page's badge says ``limits_broken`` exactly when the command exits with code 4
(user test ut_3ph #2: a green "optimal" badge on the page of a run that exited 4, OpenDSS
not converging at the kept plan; ut39_tph #4: a DER phase over its kVA rating in the plan's
OpenDSS check at the nominal load, the kept round's ``der_breaches``, exited 0 under a green
"optimal" badge: both are 4 / ``limits_broken`` now)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import typer

from feederopt.cli.partition import _exit
from feederopt.report.partition import partition_badge

CASES: list[dict[str, Any]] = [
    {"status": "optimal", "trivial_plan": False, "checks": None,
     "voltage_feedback": {"enabled": True, "within_voltage_limits": False,
                          "stopped": "OpenDSS did not converge"}},
    {"status": "optimal", "trivial_plan": False, "checks": None,
     "voltage_feedback": {"enabled": True, "within_voltage_limits": True}},
    {"status": "time_limit", "trivial_plan": True, "voltage_feedback": None, "checks": None},
    {"status": "optimal", "trivial_plan": False, "voltage_feedback": {"enabled": False},
     "checks": None},
]

#: the voltage feedback's record of a plan within the voltage limits, whose kept round's
#: OpenDSS check has the DER breaches given
def _record(breaches: list[str]) -> dict[str, Any]:
    return {"enabled": True, "within_voltage_limits": True, "kept_round": 1,
            "stopped": "within limits",
            "rounds": [{"round": 0, "opendss_converged": True, "within_voltage_limits": False,
                        "der_breaches": []},
                       {"round": 1, "opendss_converged": True, "within_voltage_limits": True,
                        "der_breaches": breaches}]}


BREACH = "PVSystem.pv4.b 56.71 kVA over its 56.67 kVA rating"
CASES += [
    {"status": "optimal", "trivial_plan": False, "voltage_feedback": _record([BREACH]),
     "checks": None},
    {"status": "optimal", "trivial_plan": False, "voltage_feedback": _record([]),
     "checks": None},
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


def test_a_der_breach_at_the_nominal_check_exits_4() -> None:
    """The kept round's DER breach alone (voltages within the limits) is exit 4 and
    ``limits_broken``, and the message names it; without it, exit 0 and the run's status
    (the earlier round's voltages do not count: the plan kept is round 1's)."""
    for breaches, code in (([BREACH], 4), ([], 0)):
        doc = {"status": "optimal", "trivial_plan": False, "checks": None,
               "voltage_feedback": _record(breaches)}
        try:
            _exit(SimpleNamespace(**doc), quiet=True)
            got = 0
        except typer.Exit as stop:
            got = stop.exit_code
        assert got == code
        assert partition_badge(doc) == ("limits_broken" if code else "optimal")
