"""The backward/forward sweep against an independent AC power flow (pandapower Newton-Raphson)."""

from __future__ import annotations

import numpy as np
import pytest

from feederopt.api import load
from feederopt.network import to_per_unit
from feederopt.network.topology import is_radial_forest
from feederopt.problems.sweep import sweep
from feederopt.validation.ac import ac_power_flow


@pytest.mark.parametrize("case", ["case33bw", "case70da"])
def test_sweep_is_the_ac_power_flow(case: str) -> None:
    net = load(case)
    pu = to_per_unit(net)
    # A radial topology: the base case (case33bw), or one the heuristics find (case70da, whose
    # base case is radial too, from two substations).
    closed = pu.initial_closed()
    assert is_radial_forest(pu.n_bus, pu.f, pu.t, closed, pu.is_source)[0]
    res = sweep(pu, closed)
    assert res is not None and res.converged
    ac = ac_power_flow(net, closed)
    assert ac.converged
    assert res.losses * 1000 * pu.s_base_mva == pytest.approx(ac.losses_kw, rel=1e-5)
    np.testing.assert_allclose(np.sqrt(res.v), ac.vm_pu, atol=1e-6)


def test_sweep_refuses_a_meshed_topology() -> None:
    pu = to_per_unit(load("case33bw"))
    assert sweep(pu, np.ones(pu.n_branch, dtype=bool)) is None
    # Cutting bus 18 (a leaf) off leaves it without a source.
    closed = pu.initial_closed().copy()
    closed[np.flatnonzero(pu.t == pu.bus_ids.index("18"))] = False
    assert sweep(pu, closed) is None
