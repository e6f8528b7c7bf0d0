"""Conic probing (:mod:`feederopt.algorithms.probing`) against published optima.

With a cutoff just above a published optimum, the optimal configuration lies below the cutoff,
so every switch that probing fixes closed must be closed in it: Baran & Wu's case33bw (open 7,
9, 14, 32, 37; 139.55 kW, IEEE Trans. Power Delivery 4(2), 1989) and case69bw (open 14, 57, 61,
69, 70; 98.6 kW, Chiang & Jean-Jumeau 1990, see test_reference_values). The test also asks
that probing fixes a few switches at all, so that it cannot pass by fixing nothing.
"""

from __future__ import annotations

import pytest

from feederopt.algorithms.probing import probe_closed
from feederopt.api import load, prepare
from feederopt.problems.reconfiguration import RadialityModel


@pytest.mark.parametrize(("case", "optimum_kw", "open_ids"), [
    ("case33bw", 139.55, {"7", "9", "14", "32", "37"}),
    ("case69bw", 98.6, {"14", "57", "61", "69", "70"}),
])
def test_probing_keeps_the_published_optimum(case: str, optimum_kw: float,
                                             open_ids: set[str]) -> None:
    problem = prepare(load(case), RadialityModel.PARENT_CHILD).problem
    ids = problem.pu.branch_ids
    assert open_ids <= set(ids)
    found = probe_closed(problem, cutoff=optimum_kw + 0.05, y_const=0.0, budget_s=120.0)
    assert found.probed == int(problem.pu.switchable.sum())
    fixed = {ids[e] for e in found.closed}
    assert len(fixed) >= 5
    assert not fixed & open_ids
    # The relaxation with them closed is still a lower bound of the optimum.
    assert found.bound <= optimum_kw + 0.05
