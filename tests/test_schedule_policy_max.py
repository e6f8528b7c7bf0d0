"""The exact maximum of the recourse policy's cost (``algorithms/policy_max.py``) against brute
force over every extreme point of the budget set, on the two-hour instances of
``test_schedule_policy_bound`` (tie-33 loop, gamma 30 %, Gamma 1 at a few buses and at one
renewable unit).

The MILP's maximum must equal the largest policy cost over the extreme points (the policy's
cost evaluated directly, ``policy_cost``: the loss ``phi`` of its flows, no MILP); its bound
must lie between the LP's brute-force worst case and the policy bound's linear maximum; the
same for the bound by hours (``policy_max_by_hours``, Lagrangian relaxation of the budgets),
whose realisation must be an extreme point with its cost at most the maximum. Checked
by hand once: without the SOS2 rows (``lambda_k <= delta_{k-1} + delta_k``) the MILP returns
the chords' value, above the brute-force maximum, and the first assertion fails on one of
the two instances.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from feederopt.algorithms.ccg import evaluate, extreme_points
from feederopt.algorithms.policy_bound import policy_cost
from feederopt.algorithms.policy_max import kinks, policy_max, policy_max_by_hours
from feederopt.api_schedule import schedule_inputs
from schedule_loop import deterministic_policy, two_hour_instance


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return schedule_inputs("case33bw")


@pytest.mark.parametrize(("buses", "units", "eps"),
                         [(("12", "18", "25"), [], 0.1), (("18", "25"), [3], 0.0)])
def test_policy_max_equals_brute_force(inputs, buses, units, eps) -> None:  # type: ignore[no-untyped-def]
    d = two_hour_instance(inputs, buses, units, eps=eps)
    x, _, _, pb = deterministic_policy(d)
    assert pb.terms is not None and pb.value is not None, pb.reason
    points = extreme_points(d)
    brute_policy = max(policy_cost(d, pb.terms, p) for p in points)
    brute_q = max(evaluate(d, x, p)[0] for p in points)
    pm = policy_max(d, pb.terms, 60.0)
    assert pm is not None and pm.xi is not None
    assert pm.status.value == "optimal"
    assert pm.value == pytest.approx(brute_policy, abs=1e-6)
    assert pm.bound == pytest.approx(brute_policy, abs=1e-5)
    assert policy_cost(d, pb.terms, pm.xi) == pytest.approx(pm.value, abs=1e-6)
    assert brute_q - 1e-9 <= pm.bound <= pb.value + 1e-9
    # the instance exercises the binaries (a flow range crosses a kink)
    assert pm.segments > 0
    # by hours (Lagrangian relaxation of the budgets): a valid bound, at most the linear one
    # (it starts at the sort's thresholds), and a realisation of the set at its policy cost
    lag = policy_max_by_hours(d, pb.terms, 30.0, starts=[pb.xi])
    assert lag is not None and lag.xi is not None
    assert brute_policy - 1e-9 <= lag.bound <= pb.value + 1e-6  # the hours' MILP gaps 1e-6
    assert lag.value == pytest.approx(policy_cost(d, pb.terms, lag.xi), abs=1e-9)
    assert lag.value <= brute_policy + 1e-9
    assert any(all(np.array_equal(lag.xi[g], p[g]) for g in p) for p in points)


def test_policy_max_not_built_for_fractional_budgets(inputs) -> None:  # type: ignore[no-untyped-def]
    d = two_hour_instance(inputs, ("18", "25"), [])
    d = dataclasses.replace(d, budget_load=np.where(d.budget_load > 0, 1.5, 0.0))
    _, _, _, pb = deterministic_policy(d)
    assert pb.terms is not None
    assert policy_max(d, pb.terms, 10.0) is None


def test_kinks_of_the_loss(inputs) -> None:  # type: ignore[no-untyped-def]
    """The breakpoints of max(0, max_a (2 a P - a^2)): midpoints of consecutive tangent points
    and half the smallest, each side; the function is linear between them."""
    d = two_hour_instance(inputs, ("18",), [])
    a = np.sort(np.asarray(d.tangents, float))
    expect = np.concatenate([[a[0] / 2], (a[:-1] + a[1:]) / 2])
    assert np.allclose(kinks(d), np.concatenate([-expect[::-1], expect]))
