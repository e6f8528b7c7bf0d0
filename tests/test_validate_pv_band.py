"""A zero-width voltage band (v_min_pu = v_max_pu) at a bus that a voltage-controlling
generator holds at that value is met, not "almost no topology meets" it: MATPOWER's case6ww
(pandapower.networks.case6ww) gives its generator buses Vmin = Vmax = Vg and drew the warning.
pandapower's runpp is the truth: the generator's bus sits at its vm_pu exactly."""

from __future__ import annotations

import copy
import warnings

import pandapower as pp
import pytest

from feederopt.io import from_pandapower


def pv_feeder():
    """A 20 kV feeder with a generator holding bus 3 at 1.01 p.u. (band 1.01..1.01) and a
    load bus 4 with a zero-width band 1.0..1.0 that nothing holds."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 20, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(5)]
    net.bus.loc[3, ["min_vm_pu", "max_vm_pu"]] = 1.01
    net.bus.loc[4, ["min_vm_pu", "max_vm_pu"]] = 1.0
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2), (2, 3), (1, 4)):
        pp.create_line_from_parameters(net, b[f], b[t], 2.0, 0.2, 0.3, 250, 0.4)
    pp.create_load(net, b[2], p_mw=1.0, q_mvar=0.3)
    pp.create_load(net, b[4], p_mw=0.5, q_mvar=0.1)
    pp.create_gen(net, b[3], p_mw=0.4, vm_pu=1.01)
    return net


def test_generator_bus_band_is_met_in_runpp():
    net = copy.deepcopy(pv_feeder())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    assert net.res_bus.vm_pu.at[3] == pytest.approx(1.01, abs=1e-9)
    assert abs(net.res_bus.vm_pu.at[4] - 1.0) > 1e-3  # nothing holds the load bus


def test_zero_width_band_warning_names_only_the_unheld_bus():
    network = from_pandapower(pv_feeder())
    problems = [p for p in network.validate()
                if p.field == "v_min_pu" and "v_min_pu equals v_max_pu" in p.message]
    assert [list(p.ids) for p in problems] == [["4"]]

