"""A voltage-controlled generator on a bus that closed ideal switches fuse with the source's
bus or with other buses (a substation busbar in two sections joined by a closed coupler, an
everyday DSO layout): one held bus. The sweep crashed with ``LinAlgError: Singular matrix``
(user test ut41_io #1, in ``feederopt info`` and ``solve``); checked against pandapower's
Newton-Raphson (losses, voltages) and the solve against brute force over the radial options."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from feederopt.api import load, solve
from feederopt.network import to_per_unit
from feederopt.network.topology import is_radial_forest
from feederopt.problems.sweep import sweep

pp = pytest.importorskip("pandapower")

LINE = "NA2XS2Y 1x95 RM/25 12/20 kV"


def coupler_net(couplers: int = 1) -> pp.pandapowerNet:
    """ext_grid on busbar A; ``couplers`` closed bus-bus switches chain busbar A to the
    section that the gen (same set-point) holds; a ring of four loads with a tie."""
    net = pp.create_empty_network(name="coupler_gen")
    bar = [pp.create_bus(net, 20, name=f"busbar {k}") for k in range(couplers + 1)]
    b = [pp.create_bus(net, 20, name=f"n{i}") for i in range(4)]
    pp.create_ext_grid(net, bar[0], vm_pu=1.01)
    for k in range(couplers):
        pp.create_switch(net, bar[k], bar[k + 1], "b", closed=True, name=f"coupler {k}")
    pp.create_line(net, bar[0], b[0], 2, LINE)
    l1 = pp.create_line(net, b[0], b[1], 2, LINE)
    pp.create_line(net, bar[1], b[2], 2, LINE)
    pp.create_line(net, b[2], b[3], 2, LINE)
    l4 = pp.create_line(net, b[1], b[3], 1, LINE)
    pp.create_switch(net, b[3], l4, "l", closed=False, name="tie")
    pp.create_switch(net, b[1], l1, "l", closed=True, name="s1")
    for x in b:
        pp.create_load(net, x, p_mw=1.0, q_mvar=0.3)
    pp.create_gen(net, bar[-1], p_mw=2.0, vm_pu=1.01, name="CHP")
    return net


@pytest.mark.parametrize("couplers", [1, 2])
def test_sweep_of_a_gen_behind_closed_couplers_is_pandapowers(couplers: int) -> None:
    net = coupler_net(couplers)
    pu = to_per_unit(load(net))
    res = sweep(pu, pu.initial_closed())
    assert res is not None and res.converged
    pp.runpp(net)
    assert res.losses * 1000 * pu.s_base_mva == pytest.approx(
        1000 * net.res_line.pl_mw.sum(), rel=1e-6)
    vm = net.res_bus.vm_pu.to_numpy()
    np.testing.assert_allclose(np.sqrt(res.v), [vm[int(b)] for b in pu.bus_ids], atol=1e-7)


def test_fused_set_points_that_disagree_have_no_sweep() -> None:
    # The gen's bus is fused with the source's: a set-point other than the source's has no
    # power flow (pandapower refuses such a net), which the sweep now says, not a crash.
    pu = to_per_unit(load(coupler_net()))
    gen_v = pu.gen_v_set.copy()
    gen_v[:] = 1.03
    from dataclasses import replace

    res = sweep(replace(pu, gen_v_set=gen_v), pu.initial_closed())
    assert res is not None and not res.converged


def test_solve_with_a_gen_behind_a_coupler_is_the_brute_force_optimum() -> None:
    net = coupler_net()
    switches = list(net.switch.index)
    best = np.inf
    for states in itertools.product([True, False], repeat=len(switches)):
        trial = coupler_net()
        trial.switch["closed"] = list(states)
        pu = to_per_unit(load(trial))
        if not is_radial_forest(pu.n_bus, pu.f, pu.t, pu.initial_closed(), pu.is_source)[0]:
            continue
        pp.runpp(trial)
        best = min(best, 1000 * trial.res_line.pl_mw.sum())
    assert np.isfinite(best)
    r = solve(load(net), time_limit=60)
    assert r.status == "optimal"
    assert r.ac_check is not None and r.ac_check.losses_kw == pytest.approx(best, rel=1e-6)
    assert r.losses_kw == pytest.approx(best, rel=1e-4)
