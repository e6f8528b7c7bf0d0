"""A pandapower 3 shunt with a step table (``step_dependency_table``), as runpp takes it (user
test ut38_realg #1).

runpp (``build_bus._calc_shunts_and_add_on_ppc``) takes the row of
``net.shunt_characteristic_table`` at the shunt's ``step`` as its power. The reader ignored the
table and took ``step x q_mvar`` without a word: CIGRE MV with a -0.3 Mvar shunt at step 2
whose table gives -1.5 Mvar solved at 150.77 kW against runpp's 145.09 kW. The truth here is
pandapower's own runpp of the same net (losses and voltages).
"""

from __future__ import annotations

import warnings

import pandapower as pp
import pandas as pd
import pytest

from feederopt.errors import InputError
from feederopt.io.pandapower import from_pandapower
from feederopt.validation.fidelity import model_fidelity

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder(step: int = 2, q: tuple[float, ...] = (-0.5, -1.5, -2.5),
           p: tuple[float, ...] = (0.002, 0.006, 0.01), steps: tuple[int, ...] = (1, 2, 3),
           controllable: bool = False, max_step: int = 3, ref: float = 0):
    """A 20 kV feeder of three lines with a load and a shunt of -0.3 Mvar per step at
    ``step`` whose table (id_characteristic 0) gives ``q``/``p`` at ``steps``."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for k in range(3):
        ln = pp.create_line(net, b[k], b[k + 1], 3.0, CABLE)
        pp.create_switch(net, b[k], ln, "l", closed=True)
    pp.create_load(net, b[3], 3.0, 1.5)
    pp.create_shunt(net, b[2], q_mvar=-0.3, p_mw=0.0, step=step, max_step=max_step,
                    step_dependency_table=True, id_characteristic_table=ref)
    net.shunt["controllable"] = controllable
    net["shunt_characteristic_table"] = pd.DataFrame(
        {"id_characteristic": [0] * len(steps), "step": list(steps), "q_mvar": list(q),
         "p_mw": list(p)})
    return net


def _runpp(net) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)


def _agrees_with_runpp(net) -> None:
    network = from_pandapower(net)
    assert not [x for x in network.validate() if x.is_error]
    fid = model_fidelity(network)
    _runpp(net)
    truth_kw = float(net.res_line.pl_mw.sum()) * 1000
    assert fid.ac_losses_kw == pytest.approx(truth_kw, rel=1e-9)
    assert fid.model_losses_kw == pytest.approx(truth_kw, rel=1e-6), fid
    assert fid.max_voltage_diff_pu < 1e-6, fid


def test_runpp_takes_the_table_row():
    """The truth the reader follows: -1.5 Mvar x |V|^2 at step 2, not 2 x -0.3."""
    net = feeder()
    _runpp(net)
    vm = float(net.res_bus.vm_pu.at[2])
    assert float(net.res_shunt.q_mvar.at[0]) == pytest.approx(-1.5 * vm**2, rel=1e-9)
    assert float(net.res_shunt.p_mw.at[0]) == pytest.approx(0.006 * vm**2, rel=1e-9)


def test_a_fixed_table_shunt_is_read_from_its_table():
    """The model's power flow is runpp's (it was step x q_mvar: 0.6 Mvar, not 1.5)."""
    net = feeder()
    network = from_pandapower(net)
    row = network.shunts.row(0, named=True)
    assert row["step"] * row["q_mvar_per_step"] == pytest.approx(1.5, rel=1e-12)
    assert row["step"] * row["p_mw_per_step"] == pytest.approx(0.006, rel=1e-12)
    _agrees_with_runpp(net)


def test_a_table_row_at_step_0():
    """runpp takes a step-0 row too (one step of its power in the model)."""
    _agrees_with_runpp(feeder(step=0, q=(-0.2, -0.5), p=(0.001, 0.002), steps=(0, 1)))


def test_a_controllable_bank_of_equal_steps_stays_controllable():
    """Rows 0..3 proportional to the step: the DOPF's bank of 3 x 0.4 Mvar."""
    net = feeder(step=1, q=(0.0, -0.4, -0.8, -1.2), p=(0.0, 0.001, 0.002, 0.003),
                 steps=(0, 1, 2, 3), controllable=True)
    row = from_pandapower(net).shunts.row(0, named=True)
    assert row["controllable"] and row["max_steps"] == 3 and row["step"] == 1
    assert row["q_mvar_per_step"] == pytest.approx(0.4, rel=1e-12)
    _agrees_with_runpp(net)


def test_a_controllable_bank_of_unequal_steps_is_held_at_its_step():
    """Unequal steps (the DOPF's bank has steps of one size): fixed at its step, with a
    note naming the shunt, and read as runpp takes it."""
    net = feeder(controllable=True)
    network = from_pandapower(net)
    row = network.shunts.row(0, named=True)
    assert not row["controllable"]
    notes = [w for w in network.meta["warnings"] if "shunt:0 is controllable" in w]
    assert notes and "held at its step 2" in notes[0] and "no row at step 0" in notes[0]
    _agrees_with_runpp(net)


def test_no_id_characteristic_is_a_typed_problem():
    """runpp raises on it; so does the reader, on the shunt's field."""
    net = feeder(ref=float("nan"))
    with pytest.raises(UserWarning, match="id_characteristic_table NA"):
        _runpp(net)
    with pytest.raises(InputError) as e:
        from_pandapower(feeder(ref=float("nan")))
    (p,) = e.value.problems
    assert (p.component, p.ids, p.field) == ("shunts", ("shunt:0",), "id_characteristic_table")


def test_a_step_without_a_row_is_a_typed_problem():
    """runpp gives the shunt NaN (with another shunt it fails); the reader refuses it."""
    net = feeder(step=3, steps=(1, 2, 4))
    _runpp(net)
    assert net.res_shunt.q_mvar.isna().all()
    with pytest.raises(InputError) as e:
        from_pandapower(feeder(step=3, steps=(1, 2, 4)))
    (p,) = e.value.problems
    assert (p.component, p.ids, p.field) == ("shunts", ("shunt:0",), "step")
    assert "no row for id_characteristic 0 at the shunt's step 3" in str(e.value)
