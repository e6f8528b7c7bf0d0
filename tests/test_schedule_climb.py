"""The second stage's subgradient in ``xi`` and mountain climbing for the C&CG worst case
(``algorithms/worst_climb.py``), against the LP's own values.

On a two-hour instance of the tie-33 loop (tests/schedule_loop.py; gamma 30 %, Gamma 1 at three
buses and at one renewable unit) the subgradient from the row duals is checked against finite
differences of the LP value (a subgradient of a convex function lies between its one-sided
derivatives) and against the convexity inequality at every extreme point of the budget set;
a sign error in ``g = -B^T y`` fails both (the deviations here move the cost by 10 % and
more). Climbing never lowers the LP value and ends at a realisation of the set whose value
is at most the brute-force maximum.

The LP values (the 375 extreme points of the brute force and the perturbed realisations of the
finite differences) come from one :class:`~feederopt.algorithms.worst_climb.RecourseLp` at the
first stage, only the right-hand sides in ``xi`` set per solve, instead of an LP built anew for
each: building was 50 of the file's 52 s. tests/test_schedule_recourse_reuse.py shows on this
same instance that those values equal the LP built anew at every extreme point (1e-9); here
the brute-force maximum and the climb's end are still checked against a fresh build. The
climb builds its own model, not this one.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from feederopt.algorithms.ccg import evaluate, extreme_points, solve_deterministic
from feederopt.algorithms.worst_climb import RecourseLp, climb, second_stage
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import UNCERTAIN, ScheduleData, nominal
from schedule_loop import one_loop_data


@pytest.fixture(scope="module")
def case():  # type: ignore[no-untyped-def]
    d = one_loop_data(schedule_inputs("case33bw"), 2, gamma=0.3, budget=1.0,
                      uncertain_buses=("12", "18", "25"))
    br = np.zeros(len(d.res_bus))
    br[[3]] = 1.0
    d = dataclasses.replace(d, budget_res=br)
    det = solve_deterministic(d, gap=1e-7)
    x = {"y": det.closed[0], "z": det.z}
    points = extreme_points(d)
    resolve = RecourseLp(d, x)  # one model, the right-hand sides set per realisation
    values = [resolve.solve(p).value for p in points]
    worst = points[int(np.argmax(values))]
    assert max(values) == pytest.approx(evaluate(d, x, worst)[0], rel=1e-9)  # a fresh build
    return d, x, points, values, resolve


def _flat(xi: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([xi[g] for g in UNCERTAIN])


def _unflat(d: ScheduleData, v: np.ndarray) -> dict[str, np.ndarray]:
    out, off = {}, 0
    for g, size in zip(UNCERTAIN, (len(x) for x in nominal(d).values()), strict=True):
        out[g] = v[off: off + size]
        off += size
    return out


def test_subgradient_against_lp_values(case) -> None:  # type: ignore[no-untyped-def]
    d, x, points, values, resolve = case
    for at in (nominal(d), points[int(np.argmax(values))]):
        lp = second_stage(d, x, at)
        g = _flat(lp.gradient)
        assert np.abs(g).max() > 0.05  # the test has something to check
        base = _flat(at)
        step = 1e-4
        checked = 0
        for j in np.flatnonzero(np.abs(g) > 1e-12):  # one-sided, inside the box [0, 1]
            e = np.zeros_like(base)
            e[j] = step
            if base[j] < 1:
                right = (resolve.solve(_unflat(d, base + e)).value - lp.value) / step
                assert g[j] <= right + 1e-4, (j, g[j], right)
                checked += 1
            if base[j] > 0:
                left = (lp.value - resolve.solve(_unflat(d, base - e)).value) / step
                assert left - 1e-4 <= g[j], (j, left, g[j])
                checked += 1
        assert checked >= 3
        for p, q in zip(points, values, strict=True):  # Q(p) >= Q(at) + g (p - at)
            assert q >= lp.value + g @ (_flat(p) - base) - 1e-7


def test_climb_rises_and_stays_in_the_set(case) -> None:  # type: ignore[no-untyped-def]
    d, x, points, values, _ = case
    brute = max(values)
    keys = {_flat(p).tobytes() for p in points}
    c = climb(d, x, nominal(d))
    assert len(c.path) >= 2  # it moved
    assert all(b >= a - 1e-9 for a, b in zip(c.path, c.path[1:], strict=False))
    assert _flat(c.xi).tobytes() in keys
    assert c.value == pytest.approx(evaluate(d, x, c.xi)[0], abs=1e-9)
    assert c.value <= brute + 1e-9
    print(f"climb {c.path} brute force {brute}")
