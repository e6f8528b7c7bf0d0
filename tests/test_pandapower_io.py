"""pandapower import/export: a net round-tripped through feederopt keeps its AC solution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

from feederopt.cases import load
from feederopt.io import from_pandapower, to_pandapower, write_switch_states
from feederopt.validation.ac import ac_power_flow


def _losses_kw(net) -> float:
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1e3


def small_net():
    """110/20 kV substation (tapped, two in parallel), three feeders' worth of lines,
    a line switch, an open tie, a bus-bus switch, an sgen and a capacitor."""
    net = pp.create_empty_network(f_hz=50)
    b = [pp.create_bus(net, v) for v in (110, 20, 20, 20, 20, 20)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    pp.create_transformer_from_parameters(
        net, b[0], b[1], sn_mva=25, vn_hv_kv=110, vn_lv_kv=20.5, vkr_percent=0.4,
        vk_percent=12, pfe_kw=0, i0_percent=0, tap_side="hv", tap_pos=-2, tap_neutral=0,
        tap_step_percent=1.5, tap_changer_type="Ratio", parallel=2,
    )  # fmt: skip
    pp.create_line_from_parameters(net, b[1], b[2], 3.0, 0.2, 0.35, 250, 0.4)
    l2 = pp.create_line_from_parameters(net, b[2], b[3], 2.0, 0.3, 0.35, 200, 0.3, parallel=2)
    pp.create_line_from_parameters(net, b[1], b[4], 4.0, 0.25, 0.35, 220, 0.3)
    # The tie has no capacitance: pandapower keeps an open line energised from its other end.
    tie = pp.create_line_from_parameters(net, b[4], b[3], 1.5, 0.3, 0.35, 0, 0.3)
    pp.create_switch(net, b[3], tie, "l", closed=False)
    pp.create_switch(net, b[2], l2, "l", closed=True)
    pp.create_switch(net, b[4], b[5], "b", closed=True)
    for bus, p in ((b[2], 2.0), (b[3], 1.5), (b[4], 3.0), (b[5], 1.0)):
        pp.create_load(net, bus, p, 0.4 * p)
    pp.create_sgen(net, b[3], 0.8, 0.1)
    pp.create_shunt(net, b[4], q_mvar=-0.5)
    return net


@pytest.mark.parametrize("make", [small_net, pn.case33bw], ids=["small_net", "case33bw"])
def test_round_trip_keeps_losses(make):
    original = make()
    pp.runpp(original)
    net = from_pandapower(original).check()
    ours = ac_power_flow(net)
    assert ours.converged
    assert ours.losses_kw == pytest.approx(_losses_kw(original), rel=1e-7)
    np.testing.assert_allclose(ours.vm_pu, original.res_bus.vm_pu.to_numpy(), atol=1e-8)
    # ... and back to pandapower again.
    back = to_pandapower(net)
    pp.runpp(back)
    assert _losses_kw(back) == pytest.approx(_losses_kw(original), rel=1e-7)
    again = from_pandapower(back)
    cols = ["from_bus", "to_bus", "switchable", "normally_open"]
    assert again.branches.select(cols).equals(net.branches.select(cols))


def test_switches_and_ids():
    net = from_pandapower(small_net())
    br = {r["id"]: r for r in net.branches.iter_rows(named=True)}
    assert br["line:3"]["switchable"] and br["line:3"]["normally_open"]
    assert br["line:1"]["switchable"] and not br["line:1"]["normally_open"]
    assert not br["line:0"]["switchable"]
    assert br["switch:2"]["kind"] == "switch" and br["switch:2"]["r_ohm"] == 0
    assert br["trafo:0"]["kind"] == "transformer"
    assert br["trafo:0"]["tap_ratio"] == pytest.approx((110 * (1 - 0.03) / 110) / (20.5 / 20))
    assert net.meta["ties"] == "switches"
    gen = net.generators.row(0, named=True)
    assert gen["p_min_mw"] == gen["p_max_mw"] == pytest.approx(0.8)
    assert net.shunts["q_mvar_per_step"].to_list() == [0.5]


def test_out_of_service_lines_are_ties_in_matpower_style_nets():
    net = from_pandapower(pn.case33bw())
    assert net.meta["ties"] == "out_of_service"
    ties = net.branches.filter(pl.col("normally_open"))["id"].to_list()
    assert ties == ["line:32", "line:33", "line:34", "line:35", "line:36"]
    kept = from_pandapower(pn.case33bw(), ties="switches")
    assert kept.summary()["branches"] == 32 and kept.summary()["switchable"] == 0


def test_write_switch_states_into_a_copy():
    original = small_net()
    original.line.at[1, "c_nf_per_km"] = 0.0  # opened below; see small_net about charging
    net = from_pandapower(original)
    ids = net.branches.filter(pl.col("in_service"))["id"].to_list()
    closed = {"line:3": True, "line:1": False}  # close the tie, open the line it backs up
    new = write_switch_states(original, net, closed)
    assert not original.switch.at[0, "closed"]  # the original is unchanged
    assert new.switch.at[0, "closed"] and not new.switch.at[1, "closed"]
    pp.runpp(new)
    base = net.branches["normally_open"].to_list()
    state = np.array([closed.get(i, not o) for i, o in zip(ids, base, strict=True)])
    ours = ac_power_flow(net, state)
    assert ours.losses_kw == pytest.approx(_losses_kw(new), rel=1e-7)


def test_write_switch_states_matpower_style():
    original = pn.case33bw()
    net = from_pandapower(original)
    closed = np.ones(37, dtype=bool)
    closed[[6, 8, 13, 31, 36]] = False  # the known optimum
    new = write_switch_states(original, net, closed)
    assert int(new.line.in_service.sum()) == 32
    pp.runpp(new)
    assert _losses_kw(new) == pytest.approx(139.55, abs=0.1)


def test_pandapower_json_file(tmp_path):
    path = tmp_path / "net.json"
    pp.to_json(small_net(), str(path))
    net = load(path)
    assert net.meta["source_format"] == "pandapower"
    assert net.name == "net"
    assert net.summary()["normally_open"] == 1


def test_pandapower_net_object_via_load():
    net = load(pn.case33bw())
    assert net.summary()["buses"] == 33


def test_switching_actions_name_the_pandapower_switches():
    """The result names, for each switchable branch of a pandapower net, the pandapower
    switches (index and name) that operate it; operating exactly those switches of the user's
    net for the changed branches, pandapower's own power flow gives the result's AC losses
    (independent: no feederopt code between the names and the flow)."""
    import feederopt

    def moved() -> pp.pandapowerNet:  # the tie closed, line 1 open: a worse radial state
        net = small_net()
        net.switch["name"] = [f"sw_{k}" for k in range(len(net.switch))]
        net.switch.loc[0, "closed"], net.switch.loc[1, "closed"] = True, False
        return net

    result = feederopt.solve(moved(), time_limit=60)
    sw = result.switches
    assert "operated_by" in sw.columns
    names = dict(zip(sw["id"].to_list(), sw["operated_by"].to_list(), strict=True))
    assert names["line:3"] == "switch 0 'sw_0'" and names["line:1"] == "switch 1 'sw_1'"
    assert names["switch:2"] == "switch 2 'sw_2'"
    changed = sw.filter(pl.col("changed"))
    assert changed.height >= 2  # the premise: the answer moves the tie
    user = moved()
    for op in changed["operated_by"].to_list():
        for part in op.split(" + "):
            k = int(part.split()[1])
            user.switch.at[k, "closed"] = not bool(user.switch.at[k, "closed"])
    pp.runpp(user)
    assert _losses_kw(user) == pytest.approx(result.ac_check.losses_kw, rel=1e-6)
    opened = {b["id"]: b.get("operated_by") for b in result.open_branches}
    assert all(opened[b] == names[b] for b in opened if b in names)
    # the report's "open after" row names them too
    import html
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        page = (feederopt.save(result, Path(tmp) / "r", report=True) / "report.html").read_text()
    after = next(line for line in html.unescape(page).splitlines() if "open after" in line)
    for b, op in opened.items():
        if op:
            assert op in after, (b, after)


def test_a_tap_without_a_changer_type_is_noted():
    """pandapower takes no tap step without ``tap_changer_type`` (its own power flow: the
    voltage stays at the neutral tap's), and neither does the reader: it says so."""
    net = pp.create_empty_network()
    hv, mv, b2 = pp.create_bus(net, 110), pp.create_bus(net, 20), pp.create_bus(net, 20)
    pp.create_ext_grid(net, hv)
    t = pp.create_transformer(net, hv, mv, "25 MVA 110/20 kV")
    pp.create_line(net, mv, b2, 2.0, "NA2XS2Y 1x185 RM/25 12/20 kV")
    pp.create_load(net, b2, 1.0, 0.2)
    net.trafo.loc[t, "tap_pos"] = -2
    net.trafo.loc[t, "tap_changer_type"] = None
    model = from_pandapower(net)
    notes = [w for w in model.meta["warnings"] if "tap_changer_type" in w]
    assert len(notes) == 1 and "trafo 0: tap_pos -2" in notes[0]
    pp.runpp(net)
    untapped = net.res_bus.vm_pu.at[b2]
    net.trafo.loc[t, "tap_changer_type"] = "Ratio"
    pp.runpp(net)
    assert abs(net.res_bus.vm_pu.at[b2] - untapped) > 0.01  # the type is what moves the tap
    assert not [w for w in from_pandapower(net).meta["warnings"] if "tap_changer_type" in w]
