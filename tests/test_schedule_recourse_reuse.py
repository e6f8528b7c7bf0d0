"""C&CG's second-stage evaluations and mountain climbing on one recourse LP per first stage
(:class:`~feederopt.algorithms.worst_climb.RecourseLp`, only the right-hand sides where ``xi``
enters set per realisation, each solve from the last one's basis), issue 18 (speed).

Truth: the LP built anew for each ``(x, xi)`` (:func:`~feederopt.algorithms.ccg.evaluate`, the
code before), and brute force over every extreme point of the budget set. On the tie-33 loop
(2 hours, gamma 30 %, Gamma 1 at three buses and one renewable unit, storage and EV: the
time-coupled recourse where a basis carried over from another realisation could matter) the
persistent LP's value at every extreme point and at random points of the set, in a shuffled
order, equals the LP built for it to 1e-9 (relative); on the 3-hour brute-force instance of
tests/test_schedule.py a whole C&CG run builds the recourse LP at most once per first stage
(before: once per evaluation and per climbing step) and its worst case found at the returned
first stage is the brute-force maximum over the extreme points.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import feederopt.algorithms.worst_climb as worst_climb
from feederopt.algorithms.ccg import evaluate, extreme_points, solve_ccg, solve_deterministic
from feederopt.algorithms.worst_climb import RecourseLp, climb, second_stage
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import UNCERTAIN
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.validation.schedule import sample_budget_set
from schedule_loop import one_loop_data

LOOP34 = ("9", "10", "11", "12", "13", "14", "34")  # tests/test_schedule.py's brute force


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return schedule_inputs("case33bw")


def test_persistent_lp_values_equal_lp_built_anew(inputs) -> None:  # type: ignore[no-untyped-def]
    d = one_loop_data(inputs, 2, gamma=0.3, budget=1.0, uncertain_buses=("12", "18", "25"))
    br = np.zeros(len(d.res_bus))
    br[[3]] = 1.0
    d = dataclasses.replace(d, budget_res=br)
    assert len(d.ess_bus) and len(d.ev_bus)
    det = solve_deterministic(d, gap=1e-7)
    x = {"y": det.closed[0], "z": det.z}
    points = extreme_points(d)
    rng = np.random.default_rng(7)
    xis = [points[0], *(points[i] for i in rng.choice(len(points), 25, replace=False)),
           *sample_budget_set(d, 15, seed=3)]
    order = [0, *rng.permutation(np.arange(1, len(xis)))]
    lp = RecourseLp(d, x)
    values = []
    for i in order:
        got = lp.solve(xis[i])
        want = second_stage(d, x, xis[i])
        assert got.value == pytest.approx(want.value, rel=1e-9, abs=1e-9)
        values.append(want.value)
    assert max(values) > min(values) * 1.01  # the realisations move the cost
    # climbing on the shared LP from the forecast ends at the value of the LP built for its
    # end point, an extreme point of the set (tests/test_schedule_climb.py: at most the
    # brute-force maximum)
    c = climb(d, x, points[0], lp=lp)
    assert len(c.path) >= 2
    assert c.value == pytest.approx(evaluate(d, x, c.xi)[0], rel=1e-9, abs=1e-9)
    keys = {np.concatenate([p[g] for g in UNCERTAIN]).tobytes() for p in points}
    assert np.concatenate([c.xi[g] for g in UNCERTAIN]).tobytes() in keys


def test_ccg_builds_one_recourse_lp_per_first_stage(inputs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    net, dev, prof = inputs
    ids = [str(b) for b in net.branches["id"].to_list()]
    others = ("33", "35", "36", "37")
    d = build_schedule_data(net, dev, prof, ScheduleSettings(
        hours=3, gamma=0.3, budget=1.0, uncertain_buses=("12",), fixed_open=others,
        fixed_closed=tuple(b for b in ids if b not in LOOP34 and b not in others)))
    first = set(d.first_stage_groups())
    built: list[dict[str, np.ndarray]] = []
    real_init = RecourseLp.__init__

    def counting_init(self, d_, x, *a, **k):  # type: ignore[no-untyped-def]
        if set(x) == first:  # not the centred policy's LP (its storage recourse fixed too)
            built.append({g: np.array(v, float) for g, v in x.items()})
        real_init(self, d_, x, *a, **k)

    monkeypatch.setattr(worst_climb.RecourseLp, "__init__", counting_init)
    sol = solve_ccg(d, gap=1e-5, time_limit_s=120)
    monkeypatch.undo()
    distinct: list[dict[str, np.ndarray]] = []
    for x in built:
        if not any(all(np.array_equal(x[g], o[g]) for g in first) for o in distinct):
            distinct.append(x)
    assert built and len(built) == len(distinct), (len(built), len(distinct))
    # the worst case found at the returned first stage: the brute-force maximum over the
    # extreme points by the LP built for each
    x = {"y": sol.closed[0], "z": sol.z}
    brute = max(evaluate(d, x, p)[0] for p in extreme_points(d))
    assert sol.worst_cost == pytest.approx(brute, rel=1e-9)
    assert all(g in UNCERTAIN for g in sol.worst_xi)
