"""When OpenDSS does not converge at the LinDist3Flow plan, the voltage feedback's note says
so; it used to print the missing range as "voltages nan-nan p.u. ... outside the limits" (user
test ut_3ph #2). Every AC solve of a plan is made to fail here, which ends the feedback (and,
since ut47_part follow-up #2, the equal-cost alternatives tried after it, which fail too)."""

from __future__ import annotations

import pytest

from feederopt.api_partition import partition
from feederopt.validation import partition as vp


def test_a_plan_opendss_cannot_solve_is_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(self, scale):  # type: ignore[no-untyped-def]
        return vp.AcSample(False)

    monkeypatch.setattr(vp.AcIsland, "solve", fails)
    res = partition("ieee37mod", time_limit_s=120)
    (note,) = [n for n in res.notes if n.startswith("voltage feedback")]
    assert "OpenDSS did not converge" in note and "nan" not in note
    fb = res.voltage_feedback
    assert fb["rounds"][0]["opendss_converged"] is False
    assert fb["stopped"] == "OpenDSS did not converge" and not fb["within_voltage_limits"]
    assert "alternatives_stopped" in fb  # the tries are recorded
    assert all(not t["opendss_converged"] for t in fb["alternatives"])
