"""User test 14 of the distribution OPF on a pandapower net with devices (a 110/20 kV OLTC, two
capacitor banks, a committable sgen, three switches). The truth is pandapower's own power flow
(``pp.runpp``) of the user's net, or the net's data by hand:

* an ``oltc`` trafo whose changer is "Symmetrical" without a phase step is, in pandapower's
  power flow, the same as a "Ratio" one: the DOPF moves it, and its SOCP voltages at the
  chosen position are runpp's; an lv-side changer (its impedance moves with the position) is
  held at ``tap_pos`` with a note naming the trafo;
* with the capacitors as the only control the net is infeasible (runpp over every topology and
  bank step: the best minimum voltage is 0.9446 < 0.95): the result names the least-violating
  setting and its violated limits, gives no bound, and runpp of that setting has the voltages
  of the diagnosis;
* the OLTC's position is pandapower's ``tap_pos`` (ratio ``1 + tap_pos x 1.25 %``), and a
  ``tap_pos`` outside ``tap_min..tap_max`` is a typed problem;
* an unused flexible load reads "not reduced", not "-0.0 kW".
"""

from __future__ import annotations

import itertools
import math
import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io.pandapower import from_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")


def _net(**trafo: object) -> pp.pandapowerNet:
    """The user's net (/tmp/ut_ops/mknet.py): B0..B8 at 20 kV behind a 25 MVA OLTC, the tie
    line 8 open, switches on lines 2 and 6, banks at B3 and B7, a committable sgen at B4."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, 110, name="HV")
    b = [pp.create_bus(net, 20, name=f"B{i}", min_vm_pu=0.95, max_vm_pu=1.05) for i in range(9)]
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, hv, b[0], sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vk_percent=10, vkr_percent=0.5,
        pfe_kw=0, i0_percent=0, tap_side="hv", tap_neutral=0, tap_min=-8, tap_max=8,
        tap_step_percent=1.25, tap_pos=0, tap_changer_type="Ratio")
    net.trafo["oltc"] = True
    for k, v in trafo.items():
        net.trafo.loc[0, k] = v
    lt = dict(r_ohm_per_km=0.3, x_ohm_per_km=0.35, c_nf_per_km=0, max_i_ka=0.4)
    lines = [pp.create_line_from_parameters(net, b[i], b[j], km, **lt)
             for i, j, km in [(0, 1, 2), (1, 2, 3), (2, 3, 3), (3, 4, 2), (0, 5, 2), (5, 6, 3),
                              (6, 7, 3), (7, 8, 2)]]
    tie = pp.create_line_from_parameters(net, b[4], b[8], 2, **lt)
    pp.create_switch(net, b[8], tie, et="l", closed=False)
    for ln in (lines[2], lines[6]):
        pp.create_switch(net, net.line.from_bus[ln], ln, et="l", closed=True)
    for k, p in zip(range(1, 9), [1.5, 1.0, 2.0, 1.2, 1.0, 1.5, 1.8, 1.0], strict=True):
        pp.create_load(net, b[k], p_mw=p, q_mvar=0.5 * p)
    pp.create_shunt(net, b[3], q_mvar=-0.3, p_mw=0, step=0, max_step=4, controllable=True)
    pp.create_shunt(net, b[7], q_mvar=-0.3, p_mw=0, step=1, max_step=4, controllable=True)
    g = pp.create_sgen(net, b[4], p_mw=0.0, q_mvar=0, controllable=True, max_p_mw=1.5,
                       min_p_mw=0.2, max_q_mvar=0.8, min_q_mvar=-0.8)
    pp.create_poly_cost(net, g, "sgen", cp1_eur_per_mw=20.0, cp0_eur=5.0)
    return net


def _set_open(net: pp.pandapowerNet, open_ids: list[str]) -> None:
    """Close every line switch, then open those of the open branches ``line:k``."""
    net.switch["closed"] = True
    for bid in open_ids:
        kind, k = bid.split(":")
        assert kind == "line"
        net.switch.loc[(net.switch.et == "l") & (net.switch.element == int(k)), "closed"] = False


def _vm(result: feederopt.Result) -> dict[str, float]:
    return dict(zip(result.buses["id"].to_list(), result.buses["vm_pu"].to_list(), strict=True))


# ----- 1. tap changers with oltc=True that the old reader held fixed silently ------------------
def test_symmetrical_changer_without_phase_step_is_the_oltc_runpp_takes() -> None:
    net = _net(tap_changer_type="Symmetrical")
    # pandapower's power flow: the Symmetrical changer gives the Ratio changer's voltages.
    ratio = _net(tap_pos=-5)
    net.trafo.loc[0, "tap_pos"] = -5
    pp.runpp(net)
    pp.runpp(ratio)
    assert net.res_bus.vm_pu.to_numpy() == pytest.approx(ratio.res_bus.vm_pu.to_numpy(), abs=1e-12)
    net.trafo.loc[0, "tap_pos"] = 0
    result = feederopt.solve(from_pandapower(net), controls="taps", time_limit=30, gap=1e-4)
    oltc = [d for d in result.dopf.devices if d["kind"] == "oltc"]
    assert [d["id"] for d in oltc] == ["oltc:trafo:0"]
    pos = oltc[0]["tap_pos"]
    assert oltc[0]["ratio_pu"] == pytest.approx(1 + pos * 0.0125, abs=1e-12)
    # runpp of the user's net at that position and topology: the SOCP's voltages.
    net.trafo.loc[0, "tap_pos"] = pos
    _set_open(net, [b["id"] for b in result.open_branches])
    pp.runpp(net)
    vm = _vm(result)
    for bus, v in net.res_bus.vm_pu.items():
        assert vm[str(bus)] == pytest.approx(v, abs=1e-5), bus


def test_lv_side_changer_is_held_at_tap_pos_with_a_note() -> None:
    net = _net(tap_side="lv", tap_pos=-3)
    # Why it is not our OLTC (pandapower's model): on the lv side the position scales the lv
    # rated voltage and with it the impedance, so the hv-side ratio with the same voltage
    # ratio gives other voltages.
    hv_equiv = _net(tap_pos=3)  # 110 (1 + 3 s) / 20 vs 110 / (20 (1 - 3 s)): near, not equal
    pp.runpp(net)
    pp.runpp(hv_equiv)
    assert abs(net.res_bus.vm_pu[5] - hv_equiv.res_bus.vm_pu[5]) > 1e-4
    read = from_pandapower(net)
    notes = [w for w in read.meta["warnings"] if w.startswith("trafo 0:")]
    assert len(notes) == 1 and "lv side" in notes[0] and "tap_pos -3" in notes[0]
    tr = read.branches.filter(read.branches["id"] == "trafo:0")
    assert not tr["tap_controllable"].fill_null(False)[0]
    with pytest.raises(InputError, match="no such device"):  # no OLTC to set
        feederopt.solve(read, controls="taps", time_limit=10)
    # the devices and the notes are the reader's and the model's: no AC check needed
    result = feederopt.solve(read, controls="caps", time_limit=10, ac_check=False)
    assert all(d["kind"] != "oltc" for d in result.dopf.devices)
    assert notes[0] in result.to_dict()["notes"]


def test_ideal_phase_shifter_with_oltc_is_held_fixed_with_a_note() -> None:
    read = from_pandapower(_net(tap_changer_type="Ideal", tap_step_degree=1.0,
                                tap_step_percent=math.nan))
    notes = [w for w in read.meta["warnings"] if w.startswith("trafo 0:")]
    assert len(notes) == 1 and "phase shifter" in notes[0]


# ----- 2. the infeasible DOPF: diagnosis, devices, no bound ------------------------------------
def test_infeasible_caps_only_names_the_least_violating_setting() -> None:
    net = _net()
    # Truth: runpp over every topology and bank step (tap at 0, the sgen off as given).
    net.sgen["in_service"] = False
    best = -math.inf
    for opened, s0, s1 in itertools.product(net.switch.index, range(5), range(5)):
        net.switch["closed"] = net.switch.index != opened
        net.shunt.loc[0, "step"], net.shunt.loc[1, "step"] = s0, s1
        # init="dc": what runpp's "auto" picks on this net (flat magnitudes at the ext_grid's
        # 1.0 p.u., dc angles; the same voltages to the last bit), without the pandas
        # queries by which "auto" finds it (a third of each of these 75 runs)
        pp.runpp(net, numba=False, init="dc")
        best = max(best, float(net.res_bus.vm_pu[1:].min()))
    assert best == pytest.approx(0.9446, abs=1e-4)  # below 0.95: no setting is feasible
    result = feederopt.solve(from_pandapower(_net()), controls="caps", time_limit=60)
    d = result.to_dict()
    assert d["status"] == "infeasible"
    # proven infeasible: the bound is +inf, written "inf" (null would lose the sign)
    assert d["lower_bound"] == "inf" and d["objective"] is None
    assert d["diagnosis"] and {x["limit"] for x in d["diagnosis"]} == {"v_min"}
    worst = max(x["amount"] for x in d["diagnosis"])
    # The least-violating setting found is the best runpp finds.
    assert worst == pytest.approx(0.95 - best, abs=2e-4)
    steps = {x["id"]: x["step"] for x in d["devices"] if x["kind"] == "capacitor"}
    assert set(steps) == {"shunt:0", "shunt:1"}
    # runpp of that setting has the voltages the diagnosis names.
    net = _net()
    net.sgen["in_service"] = False
    _set_open(net, [b["id"] for b in d["open_branches"]])
    net.shunt.loc[0, "step"], net.shunt.loc[1, "step"] = steps["shunt:0"], steps["shunt:1"]
    pp.runpp(net)
    for x in d["diagnosis"]:
        assert net.res_bus.vm_pu[int(x["id"])] == pytest.approx(x["value"], abs=1e-4)


# ----- 3. the OLTC's position in pandapower's numbering; impossible tap_pos --------------------
def test_oltc_position_is_pandapowers_tap_pos() -> None:
    net = _net(tap_pos=-3)
    result = feederopt.solve(from_pandapower(net), controls="taps", time_limit=30, gap=1e-4)
    (oltc,) = [d for d in result.dopf.devices if d["kind"] == "oltc"]
    pos = oltc["tap_pos"]
    assert oltc["data_tap_pos"] == -3
    assert pos != -3  # the test needs a moved tap
    assert oltc["ratio_pu"] == pytest.approx(1 + pos * 0.0125, abs=1e-12)
    assert f"tap_pos {pos}" in oltc["setting"]
    net.trafo.loc[0, "tap_pos"] = pos
    _set_open(net, [b["id"] for b in result.open_branches])
    pp.runpp(net)
    assert _vm(result)["1"] == pytest.approx(net.res_bus.vm_pu[1], abs=1e-5)


def test_tap_pos_outside_its_range_is_a_typed_problem() -> None:
    with pytest.raises(InputError) as err:
        from_pandapower(_net(tap_pos=12))
    (p,) = [p for p in err.value.problems if p.field == "tap_pos"]
    assert p.ids == ("trafo:0",) and "12" in p.message and "-8..8" in p.message


# ----- 4. an unused flexible load --------------------------------------------------------------
def test_unused_flexible_load_reads_zero_not_minus_zero() -> None:
    net = _net()
    net.poly_cost.loc[0, ["cp1_eur_per_mw", "cp0_eur"]] = [1.0, 0.0]
    ld = int(net.load.index[net.load.bus == 5][0])
    net.load["controllable"] = False
    net.load.loc[ld, "controllable"] = True
    net.load["min_p_mw"] = net.load.p_mw
    net.load.loc[ld, "min_p_mw"] = 0.7 * net.load.p_mw[ld]
    net.load["max_p_mw"] = net.load.p_mw
    # 1e6 per MWh reduced: far above what a MW of load costs in losses, so it stays unused.
    pp.create_poly_cost(net, ld, "load", cp1_eur_per_mw=-1e6)
    result = feederopt.solve(from_pandapower(net), controls="caps,taps,flex", time_limit=30)
    assert result.status.value == "optimal"
    (flex,) = [d for d in result.dopf.devices if d["kind"] == "flexible_load"]
    assert flex["reduction_mw"] == pytest.approx(0.0, abs=1e-6)
    assert flex["setting"] == "not reduced"
    assert "-0.0" not in result.dopf.table()["setting"].to_list()[0]
