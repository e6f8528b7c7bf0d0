"""A pandapower net's own power-flow options (``net.user_pf_options``) in feederopt's model.

User test ut37_realg #1: a net whose ``runpp`` took its lines at 80 C
(``consider_line_temperature``) lost 7.238 kW in the user's runpp and 6.430 kW in the model,
which read the resistances at 20 C; a net with ``neglect_open_switch_branches`` kept the
cables behind open switches charged (222.375 kW against runpp's 224.280 kW). The truth in
every test is ``pp.runpp`` of the user's net with its options set; the model's number is its
exact radial power flow (the sweep) of the base case.
"""

from __future__ import annotations

import copy
import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io import from_pandapower
from feederopt.network.perunit import to_per_unit
from feederopt.problems.sweep import sweep

REL = 1e-6  # the model is pandapower's: the two agree to the power flows' tolerance


def _runpp_losses_kw(net) -> float:
    net = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    sw = net.res_switch
    switches = float((sw.p_from_mw + sw.p_to_mw).sum()) if len(sw) else 0.0
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum() + switches) * 1e3


def _model_losses_kw(net) -> tuple[float, list[str]]:
    network = from_pandapower(net).check()
    pu = to_per_unit(network)
    flow = sweep(pu, pu.initial_closed(), tol=1e-13, max_iter=200)
    assert flow is not None and flow.converged
    return flow.losses * 1e3, list(network.meta["warnings"])


def _feeder() -> pp.pandapowerNet:
    """A 20 kV cable feeder from a 110/20 kV transformer with iron losses: a radial chain
    0-1-2-3-4 and a 12 km cable 1-4 opened by a switch at bus 4 (charged from bus 1 unless
    runpp neglects it), an impedance bus-bus switch 4-5 and loads at 2, 3, 4 and 5."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, 110.0)
    b = [pp.create_bus(net, 20.0) for _ in range(6)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer_from_parameters(
        net, hv, b[0], sn_mva=25.0, vn_hv_kv=110.0, vn_lv_kv=20.0, vk_percent=12.0,
        vkr_percent=0.4, pfe_kw=40.0, i0_percent=0.8)
    cable = {"r_ohm_per_km": 0.161, "x_ohm_per_km": 0.117, "c_nf_per_km": 273.0,
             "max_i_ka": 0.362}
    for k, (f, t, km) in enumerate([(0, 1, 3.0), (1, 2, 2.5), (2, 3, 4.0), (3, 4, 3.5),
                                    (1, 4, 12.0)]):
        pp.create_line_from_parameters(net, b[f], b[t], length_km=km, **cable,
                                       name=f"cable {k}")
    pp.create_switch(net, b[4], 4, et="l", closed=False)
    pp.create_switch(net, b[4], b[5], et="b", closed=True, z_ohm=0.8)
    for bus, p in ((2, 2.0), (3, 1.5), (4, 2.5), (5, 1.0)):
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.3 * p)
    return net


def test_the_feeder_agrees_without_options() -> None:
    """The feeder itself: without options the model is runpp's (so the tests below measure
    the options alone)."""
    net = _feeder()
    model, _ = _model_losses_kw(net)
    assert model == pytest.approx(_runpp_losses_kw(net), rel=REL)


def test_line_temperature_is_modelled_as_pandapower_takes_it() -> None:
    """r20 (1 + alpha (T - 20)) per line, alpha from net.line.alpha with a NaN taken as 0."""
    net = _feeder()
    pp.set_user_pf_options(net, consider_line_temperature=True)
    net.line["temperature_degree_celsius"] = [80.0, 60.0, 40.0, 90.0, 20.0]
    net.line["alpha"] = [0.004, 0.00403, float("nan"), 0.0039, 0.004]
    truth = _runpp_losses_kw(net)
    at_20c = copy.deepcopy(net)
    at_20c.user_pf_options = {}
    assert truth > 1.05 * _runpp_losses_kw(at_20c)  # the option matters here
    model, notes = _model_losses_kw(net)
    assert model == pytest.approx(truth, rel=REL)
    assert any("consider_line_temperature" in n and "alpha" in n for n in notes)


def test_line_temperature_without_an_alpha_column_takes_pandapowers_default() -> None:
    net = _feeder()
    pp.set_user_pf_options(net, consider_line_temperature=True)
    net.line["temperature_degree_celsius"] = 70.0
    assert "alpha" not in net.line.columns
    model, notes = _model_losses_kw(net)
    assert model == pytest.approx(_runpp_losses_kw(net), rel=REL)
    assert any("0.004" in n and "default" in n for n in notes)


def test_line_temperature_without_its_column_is_a_typed_problem() -> None:
    """pandapower's runpp fails on it ("Specify line temperature"); feederopt says which
    column the option needs."""
    net = _feeder()
    pp.set_user_pf_options(net, consider_line_temperature=True)
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    assert "temperature_degree_celsius" in str(err.value)
    assert "consider_line_temperature" in str(err.value)


def test_neglect_open_switch_branches_takes_the_opened_cable_out() -> None:
    """runpp's neglect_open_switch_branches takes a line with an open switch out entirely:
    the 12 km cable no longer loads bus 1 with its charging current."""
    net = _feeder()
    pp.set_user_pf_options(net, neglect_open_switch_branches=True)
    truth = _runpp_losses_kw(net)
    charged = copy.deepcopy(net)
    charged.user_pf_options = {}
    assert abs(truth - _runpp_losses_kw(charged)) > 1e-3 * truth  # the option matters here
    model, notes = _model_losses_kw(net)
    assert model == pytest.approx(truth, rel=REL)
    assert any("neglect_open_switch_branches" in n for n in notes)


def test_pi_transformer_model_and_switch_rx_ratio_are_modelled() -> None:
    net = _feeder()
    pp.set_user_pf_options(net, trafo_model="pi", switch_rx_ratio=0.5)
    truth = _runpp_losses_kw(net)
    model, _ = _model_losses_kw(net)
    assert model == pytest.approx(truth, rel=REL)


def test_constant_power_loads_under_voltage_depend_loads_false() -> None:
    """ZIP shares that the net's runpp ignores are no difference: no ZIP note."""
    net = _feeder()
    net.load["const_z_p_percent"] = 50.0
    pp.set_user_pf_options(net, voltage_depend_loads=False)
    model, notes = _model_losses_kw(net)
    assert model == pytest.approx(_runpp_losses_kw(net), rel=REL)
    assert not any("ZIP" in n for n in notes)


def test_options_the_model_does_not_follow_are_named() -> None:
    net = _feeder()
    pp.set_user_pf_options(net, distributed_slack=True, trafo_loading="power")
    _, notes = _model_losses_kw(net)
    assert any("distributed_slack" in n for n in notes)
    assert any("trafo_loading='power'" in n for n in notes)


def test_solve_of_a_hot_net_equals_its_ac_check() -> None:
    """The whole run: the model's losses are the AC check's (runpp with the net's options)."""
    net = _feeder()
    pp.set_user_pf_options(net, consider_line_temperature=True)
    net.line["temperature_degree_celsius"] = 80.0
    result = feederopt.solve(net, time_limit=60)
    assert result.ac_check is not None
    assert result.losses_kw == pytest.approx(result.ac_check.losses_kw, rel=1e-5)
    assert any("consider_line_temperature" in n for n in result.extra.get("notes", []))
