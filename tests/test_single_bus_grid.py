"""A grid of one bus (a source with a load, no branches) has nothing to decide and no losses.

User test ut_edge #1: it crashed with ``KeyError: 'y'`` for every method (the model of zero
branches has an empty topology group, which the conic model holds as a constant, not a
parameter), and the model's voltage read 0 p.u. (a voltage in no constraint gets no value from
cvxpy). The truth is pandapower's power flow of the same net, built here.
"""

from __future__ import annotations

import pandapower as pp
import pytest

import feederopt


def _single_bus_net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    bus = pp.create_bus(net, vn_kv=11.0)
    pp.create_ext_grid(net, bus, vm_pu=1.0)
    pp.create_load(net, bus, p_mw=1.0, q_mvar=0.2)
    return net


@pytest.mark.parametrize("method", ["benders", "misocp", "lindistflow"])
def test_single_bus_grid_is_optimal_with_runpp_losses(method: str) -> None:
    truth = _single_bus_net()
    pp.runpp(truth)
    truth_kw = 1000.0 * (float(truth.res_ext_grid.p_mw.sum()) - float(truth.load.p_mw.sum()))

    result = feederopt.solve(_single_bus_net(), method=method, time_limit=60)

    assert result.status == "optimal"
    assert result.has_topology and result.within_limits
    assert result.open_branches == []
    assert result.losses_kw == pytest.approx(truth_kw, abs=1e-6)
    assert result.min_voltage_pu == pytest.approx(float(truth.res_bus.vm_pu.iloc[0]), abs=1e-6)
    assert result.ac_check is not None and result.ac_check.converged
    assert result.ac_check.losses_kw == pytest.approx(truth_kw, abs=1e-6)
    assert result.ac_check.exact
