"""asymmetric_load and asymmetric_sgen in a pandapower net (``pandapower.networks.
ieee_european_lv_asymmetric`` holds only asymmetric loads).

pandapower's balanced power flow (``pp.runpp``) takes each as the sum of its three phases
times ``scaling``; the reader used to drop them ("not imported"), so the model optimised an
empty grid while the AC check ran the loaded one. Every number here is compared with
``pp.runpp`` of the user's net, or with the phases summed by hand.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.io import from_pandapower
from feederopt.io.pandapower import OriginModel
from feederopt.network.perunit import to_per_unit
from feederopt.problems.sweep import sweep
from feederopt.validation.ac import ac_power_flow


def _runpp(net) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-12)


def _losses_kw(net) -> float:
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1e3


def asym_grid():
    """A 20/0.4 kV transformer feeding two LV feeders tied by an open line switch; unbalanced
    asymmetric loads (one with scaling 0.5), an asymmetric sgen with scaling 0.8, an
    out-of-service asymmetric load, and an ordinary load."""
    net = pp.create_empty_network(f_hz=50, sn_mva=1.0)
    mv = pp.create_bus(net, 20)
    lv = [pp.create_bus(net, 0.4) for _ in range(6)]
    pp.create_ext_grid(net, mv, vm_pu=1.02)
    pp.create_transformer_from_parameters(
        net, mv, lv[0], sn_mva=0.4, vn_hv_kv=20, vn_lv_kv=0.4, vkr_percent=1.2,
        vk_percent=6, pfe_kw=0.5, i0_percent=0.3)
    line = pp.create_line_from_parameters
    line(net, lv[0], lv[1], 0.12, 0.206, 0.08, 260, 0.27)
    line(net, lv[1], lv[2], 0.10, 0.206, 0.08, 260, 0.27)
    line(net, lv[0], lv[3], 0.15, 0.206, 0.08, 260, 0.27)
    line(net, lv[3], lv[4], 0.08, 0.206, 0.08, 260, 0.27)
    line(net, lv[4], lv[5], 0.09, 0.206, 0.08, 260, 0.27)
    tie = line(net, lv[2], lv[5], 0.11, 0.206, 0.08, 260, 0.27)
    pp.create_switch(net, lv[5], tie, "l", closed=False)
    pp.create_switch(net, lv[3], 2, "l", closed=True)  # line 2 switchable
    pp.create_asymmetric_load(net, lv[1], p_a_mw=0.012, p_b_mw=0.004, p_c_mw=0.0,
                              q_a_mvar=0.003, q_b_mvar=0.001)
    pp.create_asymmetric_load(net, lv[2], p_a_mw=0.0, p_b_mw=0.018, p_c_mw=0.006,
                              q_b_mvar=0.004, q_c_mvar=0.002, scaling=0.5)
    pp.create_asymmetric_load(net, lv[4], p_c_mw=0.025, q_c_mvar=0.006)
    pp.create_asymmetric_load(net, lv[5], p_a_mw=0.05, q_a_mvar=0.01, in_service=False)
    pp.create_asymmetric_sgen(net, lv[5], p_a_mw=0.01, p_b_mw=0.01, p_c_mw=0.0,
                              q_a_mvar=-0.002, scaling=0.8)
    pp.create_load(net, lv[3], p_mw=0.015, q_mvar=0.004)
    return net


def test_asymmetric_elements_are_read_as_runpp_takes_them():
    """Load and generation totals are the phases summed times scaling (by hand)."""
    network = from_pandapower(asym_grid()).check()
    loads = network.loads.filter(network.loads["in_service"])
    assert loads["p_mw"].sum() == pytest.approx(0.012 + 0.004 + 0.5 * 0.024 + 0.025 + 0.015)
    assert loads["q_mvar"].sum() == pytest.approx(0.004 + 0.5 * 0.006 + 0.006 + 0.004)
    gens = network.generators.filter(network.generators["in_service"])
    assert gens["p_mw"].sum() == pytest.approx(0.8 * 0.02)
    assert gens["q_mvar"].sum() == pytest.approx(0.8 * -0.002)
    notes = network.meta["warnings"]
    assert not any("not imported" in w for w in notes)
    assert any(w.startswith("4 asymmetric_load element(s) are read as balanced") for w in notes)


def test_model_base_case_matches_runpp():
    """The model's exact radial power flow reproduces runpp of the user's net."""
    net = asym_grid()
    ref = copy.deepcopy(net)
    _runpp(ref)
    pu = to_per_unit(from_pandapower(net).check())
    result = sweep(pu, pu.initial_closed(), tol=1e-12, max_iter=200)
    assert result is not None and result.converged
    assert result.losses * pu.s_base_mva * 1e3 == pytest.approx(_losses_kw(ref), rel=1e-6)
    vm = ref.res_bus.vm_pu.reindex([int(b) for b in pu.bus_ids]).to_numpy()
    assert np.max(np.abs(np.sqrt(result.v) - vm)) < 1e-7
    fid = feederopt.model_fidelity(feederopt.load(copy.deepcopy(net)))
    assert fid.measured and fid.exact


def test_ac_check_of_another_topology_matches_runpp():
    """The AC check of a changed topology (tie closed, line 2 opened) is runpp of the user's
    net with those switches: the asymmetric sgen's scaling is applied once."""
    net = asym_grid()
    network = from_pandapower(net).check()
    ids = network.branches.filter(network.branches["in_service"])["id"].to_list()
    closed = np.array([b not in ("line:2",) for b in ids])
    ac = ac_power_flow(network, closed, tolerance_mva=1e-12)
    ref = copy.deepcopy(net)
    ref.switch["closed"] = True
    ref.switch.loc[(ref.switch.et == "l") & (ref.switch.element == 2), "closed"] = False
    _runpp(ref)
    assert ac.converged
    assert ac.losses_kw == pytest.approx(_losses_kw(ref), rel=1e-9)
    # The user's net is unchanged, and so is the model's copy after the run.
    assert net.asymmetric_sgen.at[0, "scaling"] == 0.8
    again = ac_power_flow(network, tolerance_mva=1e-12)
    base = copy.deepcopy(net)
    _runpp(base)
    assert again.losses_kw == pytest.approx(_losses_kw(base), rel=1e-9)


def test_origin_load_values_round_trip():
    """The AC check's copy of the net gives the loads' totals and takes new ones (the
    Monte-Carlo check's path), keeping each load's phase shares."""
    network = from_pandapower(asym_grid()).check()
    model = OriginModel.build(network)
    assert model is not None
    rows = [k for k, (t, _) in enumerate(model.load_rows) if t == "asymmetric_load"]
    p, q = model.load_values(np.array(rows))
    assert p[:3] == pytest.approx([0.016, 0.012, 0.025])
    assert q[:3] == pytest.approx([0.004, 0.003, 0.006])
    model.set_load_values(np.array(rows[:1]), np.array([0.032]), np.array([0.002]))
    tab = model.net.asymmetric_load
    assert [tab.at[0, c] for c in ("p_a_mw", "p_b_mw", "p_c_mw")] == pytest.approx(
        [0.024, 0.008, 0.0])
    assert [tab.at[0, c] for c in ("q_a_mvar", "q_b_mvar", "q_c_mvar")] == pytest.approx(
        [0.0015, 0.0005, 0.0])
