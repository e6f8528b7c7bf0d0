"""An infeasibility caused by the backup DG's reactive capacity is named as such (user test
ut45b_resil #2): own10c (an 11 kV 10-bus feeder) with ``line:0`` broken leaves an island whose
non-sheddable loads D4 (800 kW, 800 kvar) and D9 (600 kW, 200 kvar) need 1,400 kW and
1,000 kvar. Hand calculation: active power suffices (a 700 kW DG plus the island's sgens of
300 + 250 + 200 = 750 kW >= 1,400 kW), reactive power does not (the DG's Qmax = 700 kvar, the
sgens give 0 kvar, no capacitors: 700 < 1,000 kvar). ``restore`` blamed "the voltage and line
limits" and its hint left out --dg-size; ``plan`` worded it as a kW shortfall only."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=11.0, min_vm_pu=0.93, max_vm_pu=1.07) for _ in range(10)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    lines = [(0, 1, True), (1, 2, True), (2, 3, True), (3, 4, True), (1, 5, True),
             (5, 6, True), (6, 7, True), (2, 8, True), (8, 9, True), (4, 7, False),
             (9, 6, False), (3, 9, False)]
    for f, t, cl in lines:
        li = pp.create_line_from_parameters(net, b[f], b[t], 2.0, r_ohm_per_km=0.35,
                                            x_ohm_per_km=0.38, c_nf_per_km=0.0, max_i_ka=0.3)
        pp.create_switch(net, b[f], li, et="l", closed=cl)
    loads = [(2, 0.6, 0.2, True), (3, 0.5, 0.15, True), (4, 0.8, 0.8, False),
             (5, 0.4, 0.1, True), (6, 0.7, 0.2, True), (7, 0.9, 0.3, True),
             (8, 0.3, 0.1, True), (9, 0.6, 0.2, False)]
    for bus, p, q, _ in loads:
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q)
    net.load["sheddable"] = [x[3] for x in loads]
    for bus, p in ((4, 0.3), (7, 0.25), (9, 0.2)):
        pp.create_sgen(net, b[bus], p_mw=p, q_mvar=0.0)
    return net


@pytest.mark.filterwarnings("ignore")
def test_restore_names_the_reactive_shortfall(tmp_path: Path) -> None:
    net = _net()
    src = tmp_path / "own10c.json"
    pp.to_json(net, str(src))
    firm = net.load[~net.load.sheddable.astype(bool)]
    need_kw, need_kvar = firm.p_mw.sum() * 1e3, firm.q_mvar.sum() * 1e3
    assert need_kw <= 700 + net.sgen.p_mw.sum() * 1e3  # the premise: P suffices
    assert need_kvar > 700 + net.sgen.q_mvar.sum() * 1e3  # Q does not
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["restore", str(src), "--broken", "line:0", "--dg-sites", "4", "--dg-size", "700",
              "--no-ac-check", "--time-limit", "50"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "voltage and line limits" not in text
    assert f"reactive demand ({need_kvar:,.2f} kvar)" in text
    assert "(700.00 kvar" in text and "--dg-size" in text.split("hint:")[1]
    assert "Traceback" not in res.output


@pytest.mark.filterwarnings("ignore")
def test_plan_names_the_reactive_demand(tmp_path: Path) -> None:
    net = _net()
    src = tmp_path / "own10c.json"
    pp.to_json(net, str(src))
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["plan", str(src), "--broken", "line:0", "--harden-budget", "0", "--dg-budget",
              "1", "--dg-size", "800", "--no-ac-check", "--time-limit", "50"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    firm = net.load[~net.load.sheddable.astype(bool)]
    assert f"{firm.q_mvar.sum() * 1e3:,.2f} kvar" in text and "800 kvar" in text
    # by hand: 800 kW of DG + 750 kW of sgens >= 1,400 kW; 800 kvar < 1,000 kvar
    assert "kvar binds, not kW" in text
