"""A pandapower ``gen`` (not a slack) on an ext_grid's bus: a generator of its ``p_mw``.

pandapower's power flow makes the bus a reference; the gen injects its ``p_mw`` and the ext_grid
supplies the rest of the balance (``res_ext_grid.p_mw = P_bus - res_gen.p_mw``,
``pandapower.pypower.pfsoln._split_p_for_gens_at_same_bus``); ``runopp`` dispatches a
``controllable`` one within ``min_p_mw..max_p_mw`` and prices its ``poly_cost`` row, the
ext_grid's price applying to the ext_grid's power alone. Before, feederopt dropped such a gen
without a note: the source imported the gen's power too (on the net below 0.7 MW more than
``runpp``'s ``res_ext_grid``) at the import price, the gen's cost was left out, and a gen whose
``vm_pu`` differs from the ext_grid's (which ``runpp`` refuses: "different setpoints") was read
as ``problems: none``.

The truth: pandapower's ``runpp`` (``res_ext_grid``, ``res_gen``, line losses) and ``runopp``
(``res_cost``, tight interior-point tolerances) of the same net, and ``runpp``'s refusal.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.pandapower import from_pandapower
from feederopt.validation.ac import ac_power_flow
from netbuild import star4_gen_sgen
from runopp_costs import TIGHT, dopf_at_runopps_cost

warnings.filterwarnings("ignore", message=".*numba.*")

GEN_P = 0.7


def _net(controllable: bool = False, vm_pu: float = 1.0) -> pp.pandapowerNet:
    """The 4-bus star (ext_grid at bus 0, 1 p.u., 50 per MWh) with a gen at bus 0 (0.7 MW;
    20 per MWh + 4 per MW^2 h + 1 per h; ``controllable``: 0..2 MW, -1..1 Mvar) and a
    controllable sgen at bus 2 (0..1 MW, -1..1 Mvar, 45 per MWh)."""
    limits = ({"controllable": True, "min_p_mw": 0.0, "max_p_mw": 2.0, "min_q_mvar": -1.0,
               "max_q_mvar": 1.0} if controllable else {"controllable": False})
    net, g = star4_gen_sgen({"p_mw": GEN_P, "vm_pu": vm_pu, **limits}, 45.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=50.0)
    pp.create_poly_cost(net, g, "gen", cp1_eur_per_mw=20.0, cp2_eur_per_mw2=4.0, cp0_eur=1.0)
    return net


def test_the_gen_injects_its_p_and_the_source_imports_the_rest() -> None:
    net = _net()
    pp.runpp(net)
    network = from_pandapower(_net())
    (gen,) = network.generators.filter(network.generators["id"] == "gen:0").iter_rows(
        named=True)
    assert gen["bus"] == "0" and gen["p_mw"] == pytest.approx(float(net.res_gen.p_mw[0]))
    ac = ac_power_flow(network)
    assert ac.losses_kw == pytest.approx(1e3 * float(net.res_line.pl_mw.sum()), rel=1e-9)
    assert ac.source_p_by_bus == {"0": pytest.approx(float(net.res_ext_grid.p_mw[0]))}
    # the model's import (the balance of its tables at runpp's losses) is runpp's ext_grid
    load = float(network.loads["p_mw"].sum())
    injected = float(network.generators["p_mw"].sum())
    assert load - injected + float(net.res_line.pl_mw.sum()) == pytest.approx(
        float(net.res_ext_grid.p_mw[0]), abs=1e-9)


@pytest.fixture(scope="module")
def runopp_of() -> dict[bool, pp.pandapowerNet]:
    """runopp's answer on :func:`_net` for each ``controllable``, run once for the module (the
    Benders and the MISOCP tests of the controllable gen read the same one)."""
    return {}


@pytest.mark.parametrize(("controllable", "method"),
                         [(False, "benders"), (True, "benders"), (True, "misocp")])
def test_the_dopfs_cost_is_runopps(controllable: bool, method: str,
                                   runopp_of: dict[bool, pp.pandapowerNet]) -> None:
    if controllable not in runopp_of:
        runopp_of[controllable] = _net(controllable)
        pp.runopp(runopp_of[controllable], init="pf", **TIGHT)
    net = runopp_of[controllable]
    assert net.OPF_converged
    result, sgen = dopf_at_runopps_cost(from_pandapower(_net(controllable)), net, method)
    assert result.dopf is not None
    devices = {d["id"]: d for d in result.dopf.devices}
    assert sgen["p_mw"] == pytest.approx(float(net.res_sgen.p_mw[0]), abs=1e-4)
    if controllable:  # dispatched as runopp does; written back, runpp's ext_grid is runopp's
        assert devices["gen:0"]["p_mw"] == pytest.approx(float(net.res_gen.p_mw[0]), abs=1e-4)
        written = result.to_pandapower(_net(controllable))
        pp.runpp(written)
        assert float(written.res_ext_grid.p_mw[0]) == pytest.approx(
            float(net.res_ext_grid.p_mw[0]), abs=1e-4)


def test_a_set_point_other_than_the_ext_grids_is_refused_by_name(tmp_path: Path) -> None:
    net = _net(vm_pu=1.02)
    with pytest.raises(UserWarning, match="different setpoints"):
        pp.runpp(net)
    path = tmp_path / "net.json"
    pp.to_json(_net(vm_pu=1.02), str(path))
    for command in ("info", "solve"):
        res = CliRunner().invoke(app, [command, str(path)])
        assert res.exit_code == 2, res.output
        assert "gen:0" in res.output and "v_set_pu" in res.output
        assert "Traceback" not in res.output


def _q_priced(controllable: bool) -> pp.pandapowerNet:
    """:func:`_net` with the ext_grid's reactive power priced at 10 per MVAr h."""
    net = _net(controllable)
    net.poly_cost.loc[net.poly_cost["et"] == "ext_grid", "cq1_eur_per_mvar"] = 10.0
    return net


def test_a_reactive_import_price_shifts_q_onto_the_gen_as_runopp_does() -> None:
    """The gen's q within its -1..1 Mvar: runopp runs it at 1 Mvar and the ext_grid
    supplies the rest of the bus's q; the DOPF's cost is runopp's."""
    net = _q_priced(True)
    pp.runopp(net, init="pf", **TIGHT)
    assert net.OPF_converged
    _, gen = dopf_at_runopps_cost(from_pandapower(_q_priced(True)), net, unit_id="gen:0")
    assert gen["q_mvar"] == pytest.approx(float(net.res_gen.q_mvar[0]), abs=1e-4)


def test_a_reactive_import_price_with_an_unlimited_gen_is_refused(tmp_path: Path) -> None:
    """Without q limits the gen and the ext_grid trade q at the same bus without bound:
    runopp stops at its default limits (1e9 Mvar); feederopt refuses the net by name."""
    net = _q_priced(False)
    pp.runopp(net, init="pf", **TIGHT)
    assert float(net.res_gen.q_mvar[0]) > 1e8 and float(net.res_cost) < -1e8
    path = tmp_path / "net.json"
    pp.to_json(_q_priced(False), str(path))
    res = CliRunner().invoke(app, ["solve", str(path)])
    assert res.exit_code == 2, res.output
    assert "gen:0" in res.output and "q_max_mvar" in res.output
    assert "Traceback" not in res.output
