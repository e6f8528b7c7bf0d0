"""The start heuristics propose radial topologies whose losses the AC power flow confirms, never
below the published optimum of case33bw (139.55 kW, Baran & Wu 1989 / Jabr et al. 2012)."""

from __future__ import annotations

import numpy as np
import pytest

from feederopt.algorithms.heuristics import branch_exchange, sequential_opening
from feederopt.api import load
from feederopt.network import to_per_unit
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.validation.ac import ac_power_flow


def test_heuristics_on_case33bw() -> None:
    net = load("case33bw")
    pu = to_per_unit(net)
    ev = ReconfigurationProblem(pu).evaluator()
    y = sequential_opening(ev)
    assert y is not None
    y2, value = branch_exchange(ev, y)
    closed = y2 > 0.5
    # Radial: 32 closed branches that reach all 33 buses from the source.
    assert closed.sum() == 32
    ac = ac_power_flow(net, closed)
    assert ac.converged and np.all(np.isfinite(ac.vm_pu))
    assert ac.losses_kw == pytest.approx(value, rel=1e-3)
    assert 139.55 - 0.01 <= value < 0.75 * 202.68
