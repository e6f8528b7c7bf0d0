"""MISOCP with a switching cost: its objective and lower bound hold the cost's constant part
(user test ut_api #2: the bound sat 5 kW x the closed switches of the base case below the
objective, so a proven optimum was reported ``feasible`` with a gap of 89 %).

Reference: every radial state of the tiny feeder (netbuild: l1 fixed; the loop s-a-b-c-s
opened at l2, l3 or tie1; sw1 a bridge) by pandapower's Newton-Raphson, plus the switching
cost counted by hand (switch_cost_kw per branch whose state differs from the base case).
"""

from __future__ import annotations

import pytest

import feederopt
from netbuild import tiny, tiny_pandapower_losses_kw

#: The radial states: the open branch of the loop and the switching actions against the base
#: case (tie1 open): opening l2 or l3 closes tie1, two actions.
STATES = {"tie1": 0, "l2": 2, "l3": 2}


def _pandapower_losses_kw(open_branch: str) -> float:
    return tiny_pandapower_losses_kw({open_branch})


@pytest.mark.parametrize("cost_kw", [5.0, 0.001])
def test_misocp_bound_includes_the_switching_cost_constant(cost_kw: float) -> None:
    brute = min(_pandapower_losses_kw(b) + cost_kw * n for b, n in STATES.items())
    r = feederopt.solve(tiny(), "misocp", switch_cost_kw=cost_kw, time_limit=30, gap=1e-6)
    assert r.status.value == "optimal"
    assert r.objective == pytest.approx(brute, abs=1e-3)
    assert r.lower_bound == pytest.approx(r.objective, abs=1e-3)
    assert r.gap < 1e-4
    b = feederopt.solve(tiny(), "benders", switch_cost_kw=cost_kw, time_limit=30, gap=1e-6)
    assert r.objective == pytest.approx(b.objective, abs=1e-3)
