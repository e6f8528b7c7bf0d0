"""The start heuristics propose radial topologies whose losses the AC power flow confirms, never
below the published optimum of case33bw (139.55 kW, Baran & Wu 1989 / Jabr et al. 2012), also
with two substations (case70da, Das 2006), where every tree must keep one source."""

from __future__ import annotations

import numpy as np
import pytest

from feederopt.algorithms.heuristics import branch_exchange, sequential_opening
from feederopt.api import load
from feederopt.network import to_per_unit
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.validation.ac import ac_power_flow


@pytest.mark.parametrize("case", ["case33bw", "case70da"])
def test_heuristics(case: str) -> None:
    net = load(case)
    pu = to_per_unit(net)
    ev = ReconfigurationProblem(pu).evaluator()
    y = sequential_opening(ev)
    assert y is not None
    y2, value = branch_exchange(ev, y)
    closed = y2 > 0.5
    # Radial: one tree per source, reaching every bus.
    assert closed.sum() == pu.n_bus - pu.is_source.sum()
    assert is_radial_forest(pu.n_bus, pu.f, pu.t, closed, pu.is_source)[0]
    ac = ac_power_flow(net, closed)
    assert ac.converged and np.all(np.isfinite(ac.vm_pu))
    assert ac.losses_kw == pytest.approx(value, rel=1e-3)
    base = ac_power_flow(net, pu.initial_closed())
    assert value < 0.9 * base.losses_kw
    if case == "case33bw":
        assert 139.55 - 0.01 <= value < 0.75 * 202.68
