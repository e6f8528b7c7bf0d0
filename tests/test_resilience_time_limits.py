"""``plan`` stopped by its time limit (user test ut_dopf #3 and #6, ut_res #4): the extensive form
reports the incumbent plan's own recourse per scenario, checked scenario by scenario by
``restore`` (the plan's hardened lines repaired, its DGs sited: equal where proven optimal, an
upper bound where not), within its limit; the L-shaped method keeps to its limit.

Eight random 3-6-line failures of case33bw (from the tester's storm33.json), p = 1/8 each.
Unlimited, the extensive form's MILP takes minutes (stopped after 110 s of CPU, unsolved) and
the L-shaped method's first iteration about 60 s, so both stop at their limits: status
``time_limit``, never ``optimal``. The limit is checked on CPU time with a generous wall
clock (tests/time_limit_checks.py): the wall-clock bounds (limit + 1.5 s, + 5 s) failed on
the 2-core CI machine at a load of 8 to 11."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.cases.loading import load
from time_limit_checks import assert_kept, clock

BROKEN = [["9", "24", "31"], ["5", "20", "1", "27", "16", "9"],
          ["15", "7", "23", "16", "18", "27"], ["3", "10", "21", "22"],
          ["2", "19", "30", "14", "36"], ["26", "6", "11", "33"], ["12", "25", "17"],
          ["4", "28", "35", "8"]]


@pytest.fixture(scope="module")
def storm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    load("case33bw")  # the imports and the case's first read, before any clock starts
    path = tmp_path_factory.mktemp("storm") / "storm8.json"
    path.write_text(json.dumps({"scenarios": [
        {"name": f"s{k}", "probability": 1 / len(BROKEN), "broken": b}
        for k, b in enumerate(BROKEN)]}))
    return path


SETTINGS = plan_settings(harden_budget=3, dg_budget=2)


def test_extensive_at_its_time_limit_reports_the_plans_recourse(storm: Path) -> None:
    with clock() as c:
        r = plan("case33bw", scenarios=storm, settings=SETTINGS, time_limit_s=2.0,
                 measures=False, ac_check=False)
    assert r.status == "time_limit"
    hardened = set(r.hardened)
    total = r.investment
    for sc in r.scenarios:
        left = [b for b in sc.broken if b not in hardened]
        shed = restore("case33bw", left, dg_sites=r.dg_sites, ac_check=False).shed_kw \
            if left else 0.0
        if sc.recourse_status == "optimal":
            assert sc.operation.shed_kw == pytest.approx(shed, abs=0.05), sc.name
        else:  # a feasible operation of the plan, not proven its best: an upper bound
            assert sc.recourse_status == "time_limit", sc.name
            assert sc.operation.shed_kw >= shed - 0.05, sc.name
        total += sc.probability * SETTINGS.voll * sc.operation.shed_kw
    assert r.expected_total == pytest.approx(total, abs=1.0)
    # the evaluation of the incumbent plan is inside the limit but for its quick pass (about
    # 30 ms a scenario); the old code evaluated after the limit: 5.4 s at this 2 s limit
    assert_kept(c, 2.0, 1.5)
    assert r.lower_bound is not None and r.lower_bound <= r.expected_total + 1e-6
    assert r.gap == pytest.approx((r.expected_total - r.lower_bound) / r.expected_total,
                                  abs=1e-4)


def test_lshaped_keeps_to_its_time_limit(storm: Path) -> None:
    with clock() as c:
        r = plan("case33bw", scenarios=storm, settings=SETTINGS, time_limit_s=3.0,
                 method="lshaped", measures=False, ac_check=False)
    assert r.status == "time_limit"
    # one recourse solve past the limit at most; the old code ran every recourse MILP of its
    # first iteration: about 60 s on this storm
    assert_kept(c, 3.0, 5.0)
    assert r.lower_bound is not None and r.gap is not None
    assert r.lower_bound <= r.expected_total + 1e-6
    assert r.gap == pytest.approx((r.expected_total - r.lower_bound) / r.expected_total,
                                  abs=1e-4)
