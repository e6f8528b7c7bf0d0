"""Seed 002 (Khodr, Matos & Pereira 2007) on the command line: case 1 (``case70da``,
reconfiguration only) against the published figures, case 2 (``case70da_khodr``) against the
seed's limits and trends, the device options and bad device data (exit 2).

References: the published base-case voltage at bus 67 (0.88389 p.u.) and losses (337.45 kW,
which these data reproduce within 1.5 %, see the seed's acceptance check 1); Das's 302.05 kW;
the case's limits [0.96, 1.04] p.u., bank steps of 150 kvar, the OLTC window; AC voltages from
pandapower's Newton-Raphson power flow (the result's AC check).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from dopf_grid import device_grid, device_tables
from feederopt.cases import load
from feederopt.cases.khodr import case70da_khodr
from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.network import Network

runner = CliRunner()

#: The proven optimum of case 1 that the issue asks for (or better).
CASE1_KW = 301.645


@pytest.fixture(scope="module")
def case1(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("c1") / "case70da.json"
    res = runner.invoke(app, ["solve", "case70da", "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())


def test_case1_base_case_matches_the_seed(case1: dict) -> None:
    base = case1["base"]
    assert str(base["min_voltage_bus"]) == "67"
    assert base["min_voltage_pu"] == pytest.approx(0.88389, abs=1e-4)
    assert base["losses_kw"] == pytest.approx(337.45, rel=0.015)  # 341.43 kW: +1.2 %
    entry = next(e for e in case1["literature"] if e.get("kind") == "base_case")
    assert entry["difference_pct"] == pytest.approx(1.18, abs=0.05)


def test_case1_optimum_is_proven_and_the_literature_classified(case1: dict) -> None:
    assert case1["status"] == "optimal"
    assert case1["ac_check"]["losses_kw"] <= CASE1_KW + 1e-3
    bound = case1["lower_bound"]
    assert bound <= case1["objective"] and case1["gap"] <= 1e-4
    verdicts = {e["losses_kw"]: e["verdict"] for e in case1["literature"]
                if e.get("kind") != "base_case"}
    # Das's heuristic (302.05) is beaten; Khodr's 288.55 and 268.55 lie below the bound.
    assert verdicts == {302.05: "improved upon", 288.55: "unattainable",
                        268.55: "unattainable"}
    assert bound > 288.55


@pytest.mark.parametrize("cheap", [False, True])
def test_case2_meets_the_limits_and_shows_the_dg_cost_trend(cheap: bool) -> None:
    base = load("case70da")
    net = case70da_khodr(base, dg_cost_per_mwh=0.0, dg_fixed_cost_per_h=0.0) if cheap else (
        case70da_khodr(base))
    result = feederopt.solve(net, time_limit=2)  # same settings as at 5 s and 60 s
    d = result.to_dict()
    assert d["status"] in ("optimal", "time_limit") and result.lower_bound <= result.objective
    ac = d["ac_check"]
    assert ac["converged"] and ac["exact"]
    vm = result.buses["vm_ac_pu"].to_numpy()
    assert vm.min() >= 0.96 - 1e-6 and vm.max() <= 1.04 + 1e-6
    devices = {x["id"]: x for x in d["devices"]}
    for cap in ("cap49", "cap64"):
        assert devices[cap]["q_mvar_at_1pu"] * 1000 == pytest.approx(
            150 * devices[cap]["step"]) and 0 <= devices[cap]["step"] <= 4
    for tap in ("oltc:1", "oltc:70"):
        assert 0.96 <= devices[tap]["v_set_pu"] <= 1.04
    assert ac["losses_kw"] < CASE1_KW  # below case 1
    on = [devices[g]["on"] for g in ("dg15", "dg29")]
    if cheap:
        assert any(on) and sum(devices[g]["p_mw"] for g in ("dg15", "dg29")) > 0.5
    else:
        assert not any(on)
        assert d["costs"]["dg_per_h"] == 0.0


def test_fix_devices_and_controls(tmp_path: Path) -> None:
    folder = write_folder(device_grid(), tmp_path / "dev")
    out = tmp_path / "fixed.json"
    res = runner.invoke(app, ["solve", str(folder), "--fix-devices", "--json", str(out),
                              "--quiet"])
    assert res.exit_code == 0, res.output
    fixed = json.loads(out.read_text())
    assert "devices" not in fixed
    # The committable generator stays at its set-point (0 MW): nothing flows out of bus b's
    # generator, so the AC check's losses are those of the loads alone.
    base = feederopt.solve(device_grid().replace(generators=device_grid().generators.clear()),
                           controls=None, fix_devices=True)
    assert fixed["ac_check"]["losses_kw"] == pytest.approx(base.ac_check.losses_kw, rel=1e-6)
    out = tmp_path / "caps.json"
    res = runner.invoke(app, ["solve", str(folder), "--controls", "caps", "--json", str(out),
                              "--quiet"])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    # only the banks are set; every other device is listed as held at the data's setting
    assert {x["kind"] for x in d["devices"] if not x.get("held")} == {"capacitor"}
    held = [x for x in d["devices"] if x.get("held")]
    assert held and all("not in --controls" in x["setting"] for x in held)
    assert all(not x["on"] for x in held if x["kind"] == "generator")  # set-point 0 MW: off
    assert set(d["costs"]) >= {"losses_per_h", "dg_per_h", "flexibility_per_h",
                               "switching_per_h"}


def test_bad_controls_exit_2(tmp_path: Path) -> None:
    folder = write_folder(device_grid(), tmp_path / "dev")
    res = runner.invoke(app, ["solve", str(folder), "--controls", "caps,wind"])
    assert res.exit_code == 2
    assert "controls" in res.output


@pytest.mark.parametrize(("table", "column", "value", "field"), [
    ("shunts", "step", 9, "step"),
    ("generators", "fixed_cost_per_h", -3.0, "fixed_cost_per_h"),
    ("shunts", "bus", "zz", "bus"),
])
def test_bad_device_data_exits_2(tmp_path: Path, table: str, column: str, value: object,
                                 field: str) -> None:
    t = device_tables()
    t[table] = t[table].with_columns(pl.lit(value).alias(column))
    net = Network.from_tables(**t, name="bad")
    folder = write_folder(net, tmp_path / "bad")
    res = runner.invoke(app, ["solve", str(folder)])
    assert res.exit_code == 2
    assert field in res.output and "Traceback" not in res.output


def test_tap_min_above_max_exits_2(tmp_path: Path) -> None:
    t = device_tables()
    t["buses"] = t["buses"].with_columns(
        pl.when(pl.col("id") == "s").then(1.2).otherwise(None).alias("tap_min_pu"))
    folder = write_folder(Network.from_tables(**t, name="bad"), tmp_path / "bad")
    res = runner.invoke(app, ["solve", str(folder)])
    assert res.exit_code == 2 and "tap_min_pu" in res.output


def test_misocp_with_devices_refuses_a_solver_it_cannot_use(tmp_path: Path) -> None:
    """The DOPF's MISOCP is built for SCIP: another --solver is a typed problem, not ignored."""
    folder = write_folder(device_grid(), tmp_path / "dev")
    res = runner.invoke(app, ["solve", str(folder), "--method", "misocp", "--solver", "GUROBI"])
    assert res.exit_code == 2, res.output
    assert "solver" in res.output and "Traceback" not in res.output
