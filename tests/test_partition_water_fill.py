"""The AC check's sharing rule (:func:`feederopt.validation.partition._water_fill`): the grid
followers' outputs ``x_i = clip(setp_i + w_i t, lo_i, hi_i)`` with one ``t`` for all, whose
deviations sum to the imbalance ``total`` as nearly as the bounds allow.

Independent truth: the defining properties checked on random instances (the sum, the bounds,
one common ``t`` for the entries strictly inside their band, every entry at its bound when
the sum is out of reach), and a bisection over a bracket wide enough for each instance's
``t`` (numpy only, 200 halvings) giving the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

from feederopt.validation.partition import _water_fill


def _bisection(total: float, setp, lo, hi, w) -> np.ndarray:
    ends = np.concatenate(((lo - setp) / w, (hi - setp) / w))
    a, b = float(ends.min()) - 1.0, float(ends.max()) + 1.0
    for _ in range(200):
        mid = (a + b) / 2
        if (np.clip(setp + w * mid, lo, hi) - setp).sum() < total:
            a = mid
        else:
            b = mid
    return np.clip(setp + w * (a + b) / 2, lo, hi)


@pytest.mark.parametrize("seed", range(40))
def test_the_outputs_share_one_t_and_sum_to_the_total(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    setp = rng.uniform(-50, 50, n)
    lo = setp - rng.uniform(0, 30, n)
    hi = setp + rng.uniform(0, 30, n)
    w = rng.uniform(0.1, 20, n)
    reach_lo, reach_hi = float((lo - setp).sum()), float((hi - setp).sum())
    total = float(rng.uniform(reach_lo - 10, reach_hi + 10))
    x = _water_fill(total, setp, lo, hi, w)
    assert np.all(x >= lo - 1e-9) and np.all(x <= hi + 1e-9)
    assert x == pytest.approx(_bisection(total, setp, lo, hi, w), abs=1e-9)
    if total <= reach_lo:
        assert x == pytest.approx(lo, abs=1e-9)
    elif total >= reach_hi:
        assert x == pytest.approx(hi, abs=1e-9)
    else:
        assert float((x - setp).sum()) == pytest.approx(total, abs=1e-9)
        inside = (x > lo + 1e-9) & (x < hi - 1e-9)
        t = (x - setp)[inside] / w[inside]
        assert t.size == 0 or np.ptp(t) <= 1e-9 * max(1.0, float(np.abs(t).max()))


def test_a_small_weight_reaches_its_share() -> None:
    """A follower whose band is wide for its weight (here w = 1e-10 for 1 kW: t = 1e10) gets
    its share all the same; the bisection over [-1e9, 1e9] this replaced stopped at 0.1 kW."""
    setp, lo, hi = np.array([0.0]), np.array([-5.0]), np.array([5.0])
    x = _water_fill(1.0, setp, lo, hi, np.array([1e-10]))
    assert x == pytest.approx([1.0], abs=1e-9)


def test_zero_weights_move_nothing() -> None:
    setp = np.array([1.0, 2.0])
    x = _water_fill(3.0, setp, setp - 1, setp + 1, np.zeros(2))
    assert x == pytest.approx(setp)
