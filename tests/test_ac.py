"""The AC check (pandapower Newton-Raphson) on the tiny feeder."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from feederopt.network import Network
from feederopt.validation.ac import ac_power_flow
from netbuild import tiny, tiny_tables


def test_base_case_shapes_and_order():
    net = tiny().check()
    r = ac_power_flow(net)
    assert r.converged and r.message == ""
    assert r.bus_ids == ["s", "a", "b", "c", "d"]
    assert r.branch_ids == ["l1", "l2", "l3", "sw1", "tie1"]
    assert r.vm_pu.shape == (5,) and r.vm_pu[0] == pytest.approx(1.0)
    assert r.vm_pu[3] == pytest.approx(r.vm_pu[4])  # c and d are joined by an ideal switch
    assert r.min_voltage_pu == pytest.approx(r.vm_pu.min())
    assert list(r.closed) == [True, True, True, True, False]
    assert r.loss_kw[4] == 0.0 and r.p_from_mw[4] == 0.0  # the open tie
    assert r.losses_kw == pytest.approx(r.loss_kw.sum())
    # Losses equal what the source supplies beyond the load.
    assert r.losses_kw == pytest.approx((r.source_p_mw - 0.85) * 1e3, rel=1e-6)


def test_other_topology_and_island():
    net = tiny()
    r = ac_power_flow(net, np.array([True, False, True, True, True]))  # open l2, close the tie
    assert r.converged
    assert r.p_from_mw[1] == 0.0 and r.p_from_mw[4] > 0
    r = ac_power_flow(net, np.array([True, False, True, True, False]))  # b, c, d cut off
    assert r.converged
    assert np.isnan(r.vm_pu[2:]).all() and not np.isnan(r.vm_pu[:2]).any()


def test_wrong_length_is_an_error():
    with pytest.raises(ValueError):
        ac_power_flow(tiny(), np.array([True, False]))


def test_no_convergence_is_reported_not_raised():
    net = tiny().with_loads_scaled(500.0)
    r = ac_power_flow(net)
    assert not r.converged
    assert math.isnan(r.losses_kw) and np.isnan(r.vm_pu).all()
    assert r.message


def test_generator_set_points():
    t = tiny_tables()
    gens = pl.DataFrame({"id": ["pv"], "bus": ["c"], "p_mw": [0.3], "p_max_mw": [0.3]})
    net = Network.from_tables(**t, generators=gens).check()
    with_pv = ac_power_flow(net)
    assert with_pv.source_p_mw < ac_power_flow(tiny()).source_p_mw
    zero = ac_power_flow(net, gen_p=np.array([0.0]))
    assert zero.losses_kw == pytest.approx(ac_power_flow(tiny()).losses_kw, rel=1e-9)


def test_cache_follows_the_network():
    net = tiny()
    first = ac_power_flow(net).losses_kw
    heavier = net.with_loads_scaled(2.0)
    assert ac_power_flow(heavier).losses_kw > first
    assert ac_power_flow(net).losses_kw == pytest.approx(first)
