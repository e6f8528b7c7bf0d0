"""A controllable pandapower ``gen``'s voltage is a decision of the DOPF, as in ``runopp``.

pandapower's ``runopp`` lets a ``controllable`` gen's bus voltage move within the bus's
``min_vm_pu..max_vm_pu`` (its ``vm_pu`` is only the starting point); the DOPF held it at
``vm_pu`` (docs/dopf.md, "Not done yet", session 43). Now the model drops the set-point of such
a unit (:func:`feederopt.problems.dopf.with_free_gen_voltages`), its q within
``min/max_q_mvar``, and the chosen voltage is written wherever the answer is checked: the AC
check, ``with_settings`` (``DeviceSettings.gen_v_set``), ``to_pandapower`` and the AC-OPF
polish.

Reference: pandapower's own ``runopp`` on the same net (PYPOWER's interior point at tight
tolerances): its ``res_cost``, its gen's ``p_mw`` and ``vm_pu`` and every bus voltage, and
``runpp`` on the net that ``to_pandapower`` writes. The grid: 20 kV, an ext_grid importing at
40 per MWh - 4 km - bus 1 (1.0 MW) - 4 km - bus 2 (1.5 MW) and, from bus 1, 4 km to bus 3 (0.8
MW) with a controllable gen (0..1 MW, q -2..2 Mvar, 30 per MWh + 20 per MW^2 h, ``vm_pu``
1.0), every bus in 0.95..1.05. Held at 1.0 p.u. (before) the DOPF's cost was 133.0764 per
hour against ``runopp``'s 132.2983 and the gen's bus at 1.0 where ``runopp`` puts it at
0.98925; now 132.29830 (2.6e-9 relative) with every bus within 1e-6 p.u. of ``runopp``'s. The
DOPF's loss price is the least allowed (0.001 per MWh), so that the losses' own term moves its
optimum by far less than the tolerance (1e-4 relative on the cost, 1e-4 p.u. on voltages).
"""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower
from feederopt.network.device_settings import DeviceSettings, with_settings
from feederopt.options import MIN_LOSS_PRICE_PER_MWH
from netbuild import star4_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

TIGHT = {"OPF_VIOLATION": 1e-10, "PDIPM_COSTTOL": 1e-10, "PDIPM_GRADTOL": 1e-10,
         "PDIPM_COMPTOL": 1e-10, "PDIPM_FEASTOL": 1e-10}


def _grid(controllable: bool = True) -> pp.pandapowerNet:
    net = star4_pandapower((0.95, 1.05), 4.0, 0.3,
                           ((1, 1.0, 0.3), (2, 1.5, 0.6), (3, 0.8, 0.2)))
    b = list(net.bus.index)
    pp.create_gen(net, b[3], 0.4, vm_pu=1.0, controllable=controllable, min_p_mw=0.0,
                  max_p_mw=1.0, min_q_mvar=-2.0, max_q_mvar=2.0)
    pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=30.0, cp2_eur_per_mw2=20.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=40.0)
    return net


@pytest.fixture(scope="module")
def runopp() -> pp.pandapowerNet:
    opf = _grid()
    pp.runopp(opf, init="pf", **TIGHT)
    assert opf.OPF_converged
    return opf


@pytest.fixture(scope="module")
def result() -> feederopt.Result:
    return feederopt.solve(from_pandapower(_grid()), time_limit=30,
                           loss_price_per_mwh=MIN_LOSS_PRICE_PER_MWH)


def test_the_voltage_and_cost_are_runopps(runopp: pp.pandapowerNet,
                                          result: feederopt.Result) -> None:
    assert result.status.value == "optimal" and result.dopf is not None
    vm_opf = float(runopp.res_gen.vm_pu[0])
    assert abs(vm_opf - 1.0) > 5e-3  # runopp moves it: the test could not pass at 1.0
    costs = result.dopf.costs
    assert costs["dg_per_h"] + costs["import_per_h"] == pytest.approx(
        float(runopp.res_cost), rel=1e-4)
    # every bus, the model's and the AC check's, at runopp's voltage
    assert result.buses["vm_pu"].to_list() == pytest.approx(
        runopp.res_bus.vm_pu.to_list(), abs=1e-4)
    assert result.buses["vm_ac_pu"].to_list() == pytest.approx(
        runopp.res_bus.vm_pu.to_list(), abs=1e-4)
    (unit,) = [d for d in result.dopf.devices if d["id"] == "gen:0"]
    assert unit["v_set_pu"] == pytest.approx(vm_opf, abs=1e-4)
    assert unit["p_mw"] == pytest.approx(float(runopp.res_gen.p_mw[0]), abs=1e-3)
    assert "V = " in unit["setting"]
    check = result.ac_check
    assert check is not None and check.converged and check.within_limits
    assert not [n for n in result.extra.get("notes", []) if "set-point" in n]


def test_the_chosen_voltage_is_written_wherever_it_is_checked(
        result: feederopt.Result) -> None:
    assert result.dopf is not None
    (unit,) = [d for d in result.dopf.devices if d["id"] == "gen:0"]
    vm = float(unit["v_set_pu"])
    # with_settings (the AC check's and feederopt check's network), from the result's rows
    settings = DeviceSettings.from_devices(result.dopf.devices)
    assert settings.gen_v_set == {"gen:0": pytest.approx(vm)}
    net = with_settings(from_pandapower(_grid()), settings)
    assert net.generators.filter(net.generators["id"] == "gen:0")["v_set_pu"].to_list() == [
        pytest.approx(vm)]
    # to_pandapower: runpp on the user's net with the answer is the AC check
    pn = result.to_pandapower(_grid())
    assert float(pn.gen.vm_pu[0]) == pytest.approx(vm)
    pp.runpp(pn)
    check = result.ac_check
    assert check is not None
    assert float(pn.res_bus.vm_pu[3]) == pytest.approx(vm, abs=1e-9)
    losses = float(pn.res_line.pl_mw.sum()) * 1000.0
    assert losses == pytest.approx(check.losses_kw, abs=1e-3)


def test_the_polish_moves_the_voltage_too(runopp: pp.pandapowerNet,
                                          result: feederopt.Result) -> None:
    assert result.dopf is not None and result.dopf.ac_opf is not None
    polish = result.dopf.ac_opf
    assert polish["converged"], polish["message"]
    # the relaxation is exact here: the polish ties, at runopp's voltage and dispatch
    assert polish["verdict"] == "equal"
    assert polish["gen_vm_pu"]["gen:0"] == pytest.approx(float(runopp.res_gen.vm_pu[0]),
                                                         abs=1e-5)
    assert polish["gen_p_mw"]["gen:0"] == pytest.approx(float(runopp.res_gen.p_mw[0]),
                                                        abs=1e-5)


def test_a_gen_that_is_not_controllable_keeps_its_set_point() -> None:
    r = feederopt.solve(from_pandapower(_grid(controllable=False)), time_limit=30,
                        loss_price_per_mwh=MIN_LOSS_PRICE_PER_MWH)
    assert r.buses["vm_pu"][3] == pytest.approx(1.0, abs=1e-6)
    assert r.buses["vm_ac_pu"][3] == pytest.approx(1.0, abs=1e-9)


def test_held_the_gen_keeps_its_set_point() -> None:
    # --fix-devices: the unit is held at its p_mw and its bus at vm_pu
    r = feederopt.solve(from_pandapower(_grid()), time_limit=30, fix_devices=True,
                        loss_price_per_mwh=MIN_LOSS_PRICE_PER_MWH)
    assert r.buses["vm_pu"][3] == pytest.approx(1.0, abs=1e-4)
    assert r.buses["vm_ac_pu"][3] == pytest.approx(1.0, abs=1e-9)
