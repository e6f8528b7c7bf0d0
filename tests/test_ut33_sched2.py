"""User test ut33 on SimBench grids (session 33):

1. ``schedule simbench:1-LV-rural1--0-sw`` printed "forecast: losses 0.0015 MWh" while an
   hourly pandapower power flow gives 12.98 kWh over the day: the 160 kVA transformer's
   no-load loss (``pfe_kw`` 0.46 kW x 24 h), a constant shunt in the model (inside the
   purchase), was in no "losses" line. And "losses in the objective 0.0000 MWh (100.0 %
   below)": the fixed tangent points (the first at 0.05 MW) lay above every LV flow (the flow
   bound 0.041 MW left none), so the objective priced no loss. Now the totals carry the
   shunts' draw (``shunt_losses_mwh``), the console and the report print it, the sum and the
   AC check's day losses beside it; the tangent points follow the feeder's flow scale below
   1 MW; a note says when the objective still prices no loss.
3. ``solve simbench:1-MV-semiurb--1-sw``: the base case is meshed (two 110/20 kV
   transformers in parallel), every radial answer has higher losses, and the console's row
   "base case losses (AC)" did not say so. It now reads "base case losses (AC; meshed, 1
   loop(s), not a radial candidate)", the report's "losses before" alike.

Truth: pandapower's own power flow of the hand-built LV feeder hour by hour (its
``res_line``/``res_trafo`` losses), the transformer's ``pfe_kw`` (an input of the net), and
networkx's cycle basis of pandapower's graph of the meshed net."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pp = pytest.importorskip("pandapower")

from typer.testing import CliRunner  # noqa: E402

from feederopt.api_schedule import schedule  # noqa: E402
from feederopt.cli import app  # noqa: E402

ENV = {"COLUMNS": "240"}
FACTORS = (0.6, 1.0, 0.8, 0.4)  # every load's P and Q factor, hour by hour
PFE_KW = 0.46  # SimBench 1-LV-rural1's 160 kVA 20/0.4 kV transformer


def _lv_net(load_kw: float = 6.0):
    """A 0.4 kV feeder of five NAYY 4x150 cable sections below SimBench 1-LV-rural1's 160 kVA
    20/0.4 kV transformer (its parameters), a load of ``load_kw`` at each LV bus."""
    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0)
    lv = [pp.create_bus(net, 0.4) for _ in range(6)]
    pp.create_ext_grid(net, mv, vm_pu=1.025)
    pp.create_transformer_from_parameters(
        net, mv, lv[0], sn_mva=0.16, vn_hv_kv=20.0, vn_lv_kv=0.4, vk_percent=4.0,
        vkr_percent=1.46875, pfe_kw=PFE_KW, i0_percent=0.28751)
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5)]:
        pp.create_line_from_parameters(net, lv[a], lv[b], 0.1, r_ohm_per_km=0.2067,
                                       x_ohm_per_km=0.080425, c_nf_per_km=830.0,
                                       max_i_ka=0.27)
    for b in lv[1:]:
        pp.create_load(net, b, p_mw=load_kw / 1000, q_mvar=0.4 * load_kw / 1000)
    return net


def _write(tmp_path: Path, net) -> tuple[Path, Path]:
    path = tmp_path / "lv.json"
    pp.to_json(net, str(path))
    prof = tmp_path / "prof.csv"
    prof.write_text("time,element,value\n" + "".join(
        f"{h},load:{i},{f}\n" for h, f in enumerate(FACTORS) for i in range(len(net.load))))
    return path, prof


def _pandapower_day(net) -> tuple[float, float]:
    """pandapower's losses over the hours [MWh]: every branch (lines and the transformer, its
    no-load loss included) and the transformer's no-load part at the hour's voltage."""
    total = iron = 0.0
    for f in FACTORS:
        n = pp.from_json_string(pp.to_json(net))
        n.load["p_mw"] *= f
        n.load["q_mvar"] *= f
        pp.runpp(n)
        total += float(n.res_line.pl_mw.sum() + n.res_trafo.pl_mw.sum())
        iron += PFE_KW / 1000 * float(n.res_bus.vm_pu.at[int(n.trafo.lv_bus.iat[0])]) ** 2
    return total, iron


def _row(output: str, label: str) -> str:
    line = next(ln for ln in output.splitlines() if label in ln)
    return line.split("│")[2].strip()


def test_lv_losses_include_the_no_load_loss_and_the_ac_check(tmp_path: Path) -> None:
    net = _lv_net()
    path, prof = _write(tmp_path, net)
    total, iron = _pandapower_day(net)
    assert iron > 0.5 * total  # the no-load loss is most of this feeder's losses
    out = tmp_path / "res"
    r = CliRunner().invoke(app, ["schedule", str(path), "--profiles", str(prof), "--hours",
                                 "4", "--time-limit", "60", "--out", str(out)], env=ENV)
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "result.json").read_text())
    nom = doc["nominal"]
    # the shunt's constant draw at 1 p.u.: pfe_kw x hours (before: no such total; the
    # transformer's input admittance y/2 + 1/(z + 2/y) differs from pfe by 1e-5)
    assert nom["shunt_losses_mwh"] == pytest.approx(PFE_KW / 1000 * len(FACTORS), rel=1e-3)
    # the model's losses with it are pandapower's within the LinDistFlow/1 p.u. error; the
    # branches alone (the only "losses" printed before) are less than half of them
    both = nom["losses_mwh"] + nom["shunt_losses_mwh"]
    assert both == pytest.approx(total, rel=0.1)
    assert nom["losses_mwh"] < 0.5 * total
    # the console prints the shunts, the sum and the AC check's day losses (pandapower's)
    assert _row(r.output, "forecast: losses in the shunts") == (
        f"{PFE_KW / 1000 * len(FACTORS):.4f} MWh (constant, in the purchase)")
    assert _row(r.output, "forecast: losses in all (branches and shunts)") == (
        f"{both:.4f} MWh (AC check, pandapower: {total:.4f} MWh)")
    html = (out / "report.html").read_text()
    assert "forecast: losses in the shunts" in html
    assert f"AC check, pandapower: {total:.4f} MWh" in html


def test_lv_losses_are_priced(tmp_path: Path) -> None:
    """Before, no tangent point lay below this feeder's flow bound (0.04 MW) and the
    objective's losses were 0; now the tangents on its scale price them within the default
    spacing's 25 % of the quadratic, which is pandapower's branch losses within 20 %."""
    net = _lv_net()
    path, prof = _write(tmp_path, net)
    total, iron = _pandapower_day(net)
    res = schedule(str(path), profiles=prof, hours=4, time_limit_s=60)
    nom = res.nominal
    assert nom.losses_mwh == pytest.approx(total - iron, rel=0.2)
    assert nom.losses_pwl_mwh >= 0.75 * nom.losses_mwh > 0
    assert not any("prices none of the losses" in n for n in res.notes)


def test_unpriced_losses_get_a_note(tmp_path: Path) -> None:
    """A 50 MW storage unit on a 15 kW feeder raises the flow bound (and with it the tangent
    points) far above every flow: the objective prices none of the losses, and a note says
    so (before: "0.0000 MWh (100.0 % below)" and nothing else)."""
    net = _lv_net(load_kw=3.0)
    path, prof = _write(tmp_path, net)
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ess.csv").write_text("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
                                 "big,3,100,50,0.95,0.95,0.5\n")
    res = schedule(str(path), profiles=prof, devices=dev, hours=4, time_limit_s=60)
    assert res.nominal.losses_pwl_mwh == pytest.approx(0.0, abs=1e-12)
    assert res.nominal.losses_mwh > 0
    (note,) = [n for n in res.notes if "prices none of the losses" in n]
    assert note.startswith("forecast: the objective prices none of the losses")
    assert "--loss-tol" in note


def _loops(net) -> int:
    import networkx as nx
    import pandapower.topology as top

    g = nx.Graph(top.create_nxgraph(net, respect_switches=True))
    return len(nx.cycle_basis(g)) - len(net.trafo3w)


def test_meshed_base_case_is_labelled(tmp_path: Path) -> None:
    from test_ut_fresh_xward_bound import _net

    net = _net()
    assert _loops(net) == 1
    path = tmp_path / "meshed.json"
    pp.to_json(net, str(path))
    out = tmp_path / "res"
    r = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "60", "--out", str(out),
                                 "--report"], env=ENV)
    assert r.exit_code == 0, r.output
    assert "base case losses (AC; meshed, 1 loop(s), not a radial candidate)" in r.output
    html = (out / "report.html").read_text()
    assert "losses before (AC, initial topology; meshed, 1 loop(s), not a radial " \
        "candidate)" in html


def test_radial_base_case_is_not_labelled() -> None:
    from feederopt.results.result import base_case_kind

    assert base_case_kind({"losses_kw": 202.7}) == ""  # no loops counted: radial
    assert base_case_kind({"loops": 0}) == ""
    assert base_case_kind({"loops": 2}) == "meshed, 2 loop(s), not a radial candidate"
