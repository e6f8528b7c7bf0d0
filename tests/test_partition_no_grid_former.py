"""Without a grid-forming DER no block can be energised (every energised microgrid needs one):
the first stage says so in its bounds, so the MILP has nothing to search (user test ut_3ph
#11: 35 s of branch and bound on Iowa 240 to find the all-off plan). The plan is the same:
every block off, every load shed, at the weights' cost."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from feederopt.algorithms.partition import solve_extensive
from feederopt.cases import load_three_phase
from feederopt.formulations.partition import first_stage_block
from feederopt.problems.partition import PartitionSettings, build_partition_data


def test_no_grid_forming_der_energises_nothing() -> None:
    data = build_partition_data(load_three_phase("ieee13mod"), PartitionSettings())
    assert data.der_gf.any()  # the premise: the case has grid formers
    block, _ = first_stage_block(data)
    assert block.groups["zbl"].ub.max() == 1.0
    none = replace(data, der_gf=np.zeros_like(data.der_gf))
    block, _ = first_stage_block(none)
    assert block.groups["zbl"].ub.max() == 0.0
    res = solve_extensive(none)
    assert res.plan is not None and not res.plan.energised.any()
    # the objective of the all-off plan: every block's shed weight (no generation)
    assert abs(res.objective - none.settings.shed_scale * none.alpha.sum()) < 1e-6
