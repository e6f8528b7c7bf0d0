"""pandapower's own readings of two fields the reader took otherwise (user test ut36_real #2, #3).

* A shunt's ``step`` above its ``max_step`` (``pp.create_shunt(net, bus, q_mvar=-0.3, step=2)``
  keeps create_shunt's ``max_step=1``): pandapower's runpp takes it at ``step x`` its per-step
  power (0.6 Mvar); the reader refused it with "shunts [shunt:1].step: ... above max_steps".
* A bus created with ``pp.create_bus`` in a net where other buses have ``min_vm_pu``/
  ``max_vm_pu`` gets pandapower's fill values 0.0/2.0, which the reader took as the band (a bus
  at 1.10 p.u. "within limits"); the documented default is 0.9/1.1.
"""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

from feederopt.errors import InputError
from feederopt.io.pandapower import from_pandapower
from feederopt.validation.fidelity import model_fidelity

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder(step: int = 2, controllable: bool | None = None):
    """A 20 kV feeder of three lines with a load and a capacitor of 0.3 Mvar per step at
    ``step`` (create_shunt's default max_step 1)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k in range(3):
        ln = pp.create_line(net, b[k], b[k + 1], 3.0, CABLE)
        pp.create_switch(net, b[k], ln, "l", closed=True)
    pp.create_load(net, b[3], 2.0, 0.8)
    pp.create_shunt(net, b[2], q_mvar=-0.3, p_mw=0.0, step=step)
    if controllable is not None:
        net.shunt["controllable"] = controllable
    return net


def _runpp(net) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)


def test_pandapower_takes_the_step_beyond_max_step():
    """The truth the reader follows: runpp injects step x 0.3 Mvar x |V|^2."""
    net = feeder()
    _runpp(net)
    vm = float(net.res_bus.vm_pu.at[2])
    assert float(net.res_shunt.q_mvar.at[0]) == pytest.approx(-2 * 0.3 * vm**2, rel=1e-9)


def test_a_fixed_shunt_above_max_step_is_read_at_its_step():
    """Read (it was refused) at step 2 of 0.3 Mvar, with a note naming the shunt; the model's
    own power flow agrees with pandapower's runpp (losses and voltages)."""
    net = feeder()
    network = from_pandapower(net)
    assert not [p for p in network.validate() if p.is_error]  # the solve refused it (exit 2)
    row = network.shunts.filter(network.shunts["id"] == "shunt:0").row(0, named=True)
    assert row["step"] * row["q_mvar_per_step"] == pytest.approx(0.6, rel=1e-12)
    notes = [w for w in network.meta["warnings"] if "max_step" in w]
    assert notes and "shunt:0 step 2 > max_step 1" in notes[0]
    fid = model_fidelity(network)
    _runpp(net)
    assert fid.ac_losses_kw == pytest.approx(float(net.res_line.pl_mw.sum()) * 1000, rel=1e-9)
    assert fid.exact, fid


def test_a_controllable_shunt_above_max_step_is_refused_on_its_own_fields():
    """A bank the DOPF would set: its range 0..max_step contradicts its step. Refused on the
    pandapower element and field (shunt, shunt:0, max_step), not on the derived table."""
    with pytest.raises(InputError) as e:
        from_pandapower(feeder(controllable=True))
    (p,) = e.value.problems
    assert (p.component, p.ids, p.field) == ("shunts", ("shunt:0",), "max_step")
    assert "step is above max_step" in str(e.value)


def test_a_shunt_within_max_step_gives_no_note():
    network = from_pandapower(feeder(step=1))
    assert not [w for w in network.meta["warnings"] if "max_step" in w]


def banded_net():
    """Buses 0..2 with limits 0.95/1.05; bus 3 added by create_bus without limits, which
    pandapower fills with 0.0/2.0."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.95, max_vm_pu=1.05) for _ in range(3)]
    b.append(pp.create_bus(net, 20.0))
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k in range(3):
        pp.create_line(net, b[k], b[k + 1], 3.0, CABLE)
    pp.create_load(net, b[3], 1.0, 0.3)
    return net


def test_pandapower_fills_unset_limits_with_0_and_2():
    """Where the values come from (pandapower's create_bus), so the next test can fail."""
    net = banded_net()
    assert (float(net.bus.min_vm_pu.at[3]), float(net.bus.max_vm_pu.at[3])) == (0.0, 2.0)


def test_filled_limits_read_as_the_default_band_with_a_note():
    """Bus 3's 0.0/2.0 are taken as unset: the documented 0.9/1.1, and a note names bus 3;
    the buses with limits keep theirs."""
    network = from_pandapower(banded_net())
    band = {r["id"]: (r["v_min_pu"], r["v_max_pu"]) for r in network.buses.iter_rows(named=True)}
    assert band["3"] == (0.9, 1.1)
    assert band["1"] == band["2"] == (0.95, 1.05)
    notes = [w for w in network.meta["warnings"] if "create_bus" in w]
    assert len(notes) == 1 and "(3)" in notes[0] and "0.9..1.1" in notes[0]
