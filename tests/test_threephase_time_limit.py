"""A time-limited three-phase solve never answers worse than the base topology, by the run's
own measure (OpenDSS's losses, the voltage feedback's): the base topology, when OpenDSS finds
it within the limits, is the incumbent (:func:`feederopt.api_threephase_feedback.
feedback_loop`; its logic on fake callables is in ``tests/test_threephase_feedback_loop.py``).

Iowa 240's MILP takes about 15 s; at 0.5 s it is cut short. The old code answered with a
topology of 48.1 kW by OpenDSS against the base's 46.2 kW, and a lower bound of 0.
"""

from __future__ import annotations

import pytest

from feederopt.api_threephase import solve_three_phase


def test_a_time_limited_answer_is_never_worse_than_the_base() -> None:
    out = solve_three_phase("iowa240", time_limit_s=0.5)
    if out["status"] == "optimal":  # pragma: no cover - a machine fast enough to prove it
        pytest.skip("the MILP was solved within 0.5 s")
    assert out["status"] == "time_limit" and out["has_solution"]
    base = out["voltage_feedback"]["iterations"][0]
    assert base["topology"] == "base" and base["within_voltage_limits"]
    assert out["ac_check"]["losses_kw"] <= out["base_losses_kw"] + 1e-6
    if out["voltage_feedback"]["base_kept"]:
        assert out["open_switches"] == out["base_open_switches"]
        assert any("--time-limit 0.5 s" in n and "base topology" in n for n in out["notes"])
