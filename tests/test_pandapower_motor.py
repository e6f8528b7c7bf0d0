"""A pandapower ``motor`` is a constant-power load in pandapower's power flow
(``build_bus._get_motor_pq``); the reader imports it as the load ``motor:<index>`` with that
power (user test ut_ppgrid #3: it was dropped silently, the model 15.9 % below pandapower).
Every number is compared with ``pp.runpp`` on the user's net."""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io import from_pandapower
from test_pandapower_fidelity import _model_base_case, _pp_losses_kw, _runpp

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder():
    """A 20 kV ring 0-1-2-3-4-0 opened by a switch, loads at 1, 2, 4 and two motors at 3
    (one scaled, partly loaded, one out of service)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    for x, y in ((0, 1), (1, 2), (2, 3), (3, 4), (4, 0)):
        ln = pp.create_line(net, b[x], b[y], 3.0, CABLE)
        pp.create_switch(net, b[x], ln, "l", closed=(x, y) != (2, 3))
    for bus, p, q in ((1, 1.0, 0.3), (2, 0.8, 0.2), (4, 1.2, 0.4)):
        pp.create_load(net, b[bus], p, q)
    pp.create_motor(net, b[3], pn_mech_mw=2.0, cos_phi=0.82, efficiency_percent=93.0,
                    loading_percent=80.0, scaling=0.9)
    pp.create_motor(net, b[3], pn_mech_mw=1.0, cos_phi=0.9, efficiency_percent=95.0,
                    in_service=False)
    return net


def test_motor_is_a_load_of_pandapowers_power():
    net = feeder()
    _runpp(net)
    network, _, losses_kw, vm, buses = _model_base_case(net)
    # by hand: 2.0 MW mechanical / 0.93 x 0.8 x 0.9, at cos phi 0.82
    p = 2.0 / 0.93 * 0.8 * 0.9
    q = p * math.tan(math.acos(0.82))
    row = network.loads.filter(network.loads["id"] == "motor:0").row(0, named=True)
    assert (row["p_mw"], row["q_mvar"]) == (pytest.approx(p), pytest.approx(q))
    assert float(net.res_motor.p_mw.at[0]) == pytest.approx(p)  # pandapower's own
    assert float(net.res_motor.q_mvar.at[0]) == pytest.approx(q)
    assert losses_kw == pytest.approx(_pp_losses_kw(net), rel=1e-9)
    np.testing.assert_allclose(vm, net.res_bus.vm_pu.reindex(buses).to_numpy(), atol=1e-9)


def test_ac_check_of_scaled_loads_and_write_back():
    """The AC check of a network with its loads scaled writes the motor's share into the
    user's net (loading_percent at scaling 1), and a result writes back into the user's net
    with its motors as they were, no rows added."""
    network = from_pandapower(feeder())
    ac = feederopt.ac_power_flow(network.with_loads_scaled(1.3))
    ref = feeder()
    ref.load["scaling"] = 1.3
    ref.motor["scaling"] *= 1.3
    _runpp(ref)
    assert ac.losses_kw == pytest.approx(_pp_losses_kw(ref), rel=1e-9)
    res = feederopt.solve(feeder(), time_limit=60)
    assert res.ac_check is not None and res.ac_check.converged
    out = res.to_pandapower(feeder())
    assert len(out.motor) == 2 and len(out.load) == 3
    assert out.motor.equals(feeder().motor)
    _runpp(out)
    assert res.ac_check.losses_kw == pytest.approx(_pp_losses_kw(out), rel=1e-9)


def test_a_motor_without_an_efficiency_is_a_typed_problem():
    net = feeder()
    net.motor.loc[0, "efficiency_percent"] = 0.0
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    problems = [p for p in err.value.problems if p.field == "efficiency_percent"]
    assert len(problems) == 1 and problems[0].ids == ("motor:0",)
    assert not [p for p in err.value.problems if p.field in ("p_mw", "q_mvar")]
