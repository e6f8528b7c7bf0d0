"""A time-limited extensive plan whose MILP incumbent's scenario blocks shed everything
(user test ut43_resil #2; ``algorithms.resilience._best_at_limit``).

On a loaded machine, ``plan case33bw --scenarios storm33.json --time-limit 20`` ended its MILP
past the deadline with the plan that invests nothing as its incumbent, every scenario block
"shed everything, every switch open"; no time was left for the quick pass, so those blocks
were the answer: 28-30 "open" commands per scenario, ``fallback: false``, listed as a
restoration plan. Such an operation is the shed-all fallback and is now labelled so.

The stand-in here is deterministic: the incumbent's blocks are the shed-all points and the
evaluation's deadline has passed. Independent truth: pandapower's case33bw (3,715 kW of
load, its switchable lines) read directly.
"""

from __future__ import annotations

import time

import numpy as np
import pandapower.networks as pn

import feederopt
from feederopt.algorithms.resilience import HARDEN, SITE, _best_at_limit
from feederopt.formulations.resilience import shed_all_point
from feederopt.problems.resilience import PlanSettings, ResilienceProblem, Scenario


def test_shed_everything_incumbent_is_labelled_fallback() -> None:
    problem = ResilienceProblem.from_network(feederopt.load("case33bw"), PlanSettings())
    scenarios = [Scenario("s0", 0.5, (3, 7, 10)), Scenario("s1", 0.5, (3, 7, 10, 16))]
    harden = np.zeros(len(problem.harden_lines))
    site = np.zeros(len(problem.grid.dg_bus))
    val: dict[str, np.ndarray] = {HARDEN: harden, SITE: site}
    for k, sc in enumerate(scenarios):
        blk = problem.recourse_block(sc)
        blk.groups[HARDEN].lb = blk.groups[HARDEN].ub = harden
        blk.groups[SITE].lb = blk.groups[SITE].ub = site
        point = shed_all_point(problem.grid, blk, np.asarray(sc.broken, int),
                               harden_pos=problem.harden_pos, harden=harden)
        assert point is not None
        val.update({f"s{k}.{name}": x for name, x in point.items()})
    out = _best_at_limit(problem, scenarios, None, [val], "time_limit", 0.0, [],
                         time.perf_counter() - 1.0, time.perf_counter())
    load_kw = 1000.0 * float(pn.case33bw().load.p_mw.sum())
    assert abs(load_kw - 3715.0) < 1e-9
    for op in out.operations:
        assert abs(float(np.sum(op.shed_load_pu)) * problem.kw_per_pu - load_kw) < 1e-6
        assert not np.any(op.closed > 0.5)  # every line of case33bw has a switch here
        assert op.shed_all  # was False: listed as a restoration plan
