"""The reported voltage range (AC and model; ``info``, a solve's result and its JSON) is over
the user's buses, not the internal buses the reader adds (an xward's auxiliary bus, a trafo3w's
star), which are not in pandapower's ``res_bus`` (user test ut_ppgrid #4: the AC minimum was
the xward's fictitious bus at 1.0000 p.u. while res_bus's minimum was 1.0017)."""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.cli.info import network_info

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder():
    """A 20 kV feeder held high (ext_grid 1.04 p.u.) with an xward whose internal source holds
    0.97 p.u. behind its impedance."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.04)
    for k in range(3):
        ln = pp.create_line(net, b[k], b[k + 1], 2.0, CABLE)
        pp.create_switch(net, b[k], ln, "l", closed=True)
    pp.create_load(net, b[2], 1.0, 0.2)
    pp.create_xward(net, b[3], ps_mw=0.2, qs_mvar=0.05, pz_mw=0.0, qz_mvar=0.0, r_ohm=0.5,
                    x_ohm=6.0, vm_pu=0.97)
    return net


def _pp_range(net) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    vm = net.res_bus.vm_pu.dropna()
    return float(vm.min()), float(vm.max())


def test_the_internal_bus_is_outside_the_users_range():
    """The xward's internal voltage is below every user bus's: counted, it would be the
    minimum, so the tests below can fail."""
    net = feeder()
    lo, _ = _pp_range(net)
    assert float(net.res_xward.vm_internal_pu.at[0]) < lo - 0.01


def test_info_reports_the_users_range():
    net = feeder()
    lo, hi = _pp_range(net)
    facts = network_info(feeder())
    assert facts["base_min_voltage_pu"] == pytest.approx(lo, abs=1e-9)
    assert facts["base_max_voltage_pu"] == pytest.approx(hi, abs=1e-9)
    assert not str(facts["base_min_voltage_bus"]).startswith("xward")


def test_solve_reports_the_users_range():
    res = feederopt.solve(feeder(), time_limit=60)
    assert res.ac_check is not None and res.ac_check.converged
    lo, hi = _pp_range(res.to_pandapower(feeder()))
    out = res.to_dict()
    assert out["ac_check"]["min_voltage_pu"] == pytest.approx(lo, abs=1e-9)
    assert out["ac_check"]["max_voltage_pu"] == pytest.approx(hi, abs=1e-9)
    # the model's range, over the same buses (the model is exact on this net)
    assert out["min_voltage_pu"] == pytest.approx(lo, abs=1e-6)
    assert out["max_voltage_pu"] == pytest.approx(hi, abs=1e-6)
