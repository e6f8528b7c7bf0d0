"""Loads with voltage-dependent (ZIP) parts: the model takes them at constant power, and the
reader says so for every ZIP column of pandapower 3, the reactive ones (``const_z_q_percent``,
``const_i_q_percent``) included (user test ut_ppgrid #2: a net with const_z_q_percent=100 was
11 % off in losses with only the generic note)."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from feederopt.io import from_pandapower
from test_pandapower_fidelity import _model_base_case, _pp_losses_kw

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder(column: str | None):
    """A 20 kV feeder of four loads at 0.75 power factor, their ``column`` at 100 % (or 60 %
    for a constant-current share)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k in range(4):
        pp.create_line(net, b[k], b[k + 1], 4.0, CABLE)
        pp.create_load(net, b[k + 1], p_mw=1.2, q_mvar=1.06)
    if column is not None:
        net.load[column] = 100.0 if "_z_" in column else 60.0
    return net


@pytest.mark.parametrize("column", ["const_z_q_percent", "const_i_q_percent",
                                    "const_z_p_percent"])
def test_zip_parts_are_noted_and_taken_at_constant_power(column):
    net = feeder(column)
    notes = [w for w in from_pandapower(net).meta["warnings"] if "ZIP" in w]
    assert len(notes) == 1
    assert column in notes[0] and "load:0" in notes[0] and "load:3" in notes[0]
    # the note says why the model differs from pandapower's default power flow, and what the
    # model takes: pandapower's power flow with constant-power loads
    _, _, losses_kw, vm, buses = _model_base_case(net)
    pp.runpp(net)
    assert abs(losses_kw / _pp_losses_kw(net) - 1) > 0.01
    pp.runpp(net, voltage_depend_loads=False)
    assert losses_kw == pytest.approx(_pp_losses_kw(net), rel=1e-9)
    np.testing.assert_allclose(vm, net.res_bus.vm_pu.reindex(buses).to_numpy(), atol=1e-9)


def test_constant_power_loads_have_no_zip_note():
    assert not [w for w in from_pandapower(feeder(None)).meta["warnings"] if "ZIP" in w]


def test_legacy_zip_columns_unread_by_pandapower_3_get_no_scaling_note():
    """pandapower 2's ``const_z_percent``/``const_i_percent`` on a pandapower 3 net (user test
    ut43_ppgrid #3): runpp ignores them, so the note that its power flow scales those parts was
    false. Truth: runpp gives the losses of the same net without the columns, and the model's
    base case equals it."""
    if int(pp.__version__.split(".")[0]) < 3:
        pytest.skip("pandapower 2 reads the legacy pair")
    net = feeder(None)
    net.load["const_z_percent"] = 50.0
    net.load["const_i_percent"] = 30.0
    network = from_pandapower(net)
    plain = feeder(None)
    pp.runpp(net)
    pp.runpp(plain)
    assert _pp_losses_kw(net) == pytest.approx(_pp_losses_kw(plain), rel=1e-12)
    assert _model_base_case(net)[2] == pytest.approx(_pp_losses_kw(net), rel=1e-6)
    notes = network.meta["warnings"]
    assert not any("scales those parts" in w for w in notes)
    (note,) = [w for w in notes if "const_z_percent" in w]
    assert "does not read" in note and "const_z_p_percent" in note
