"""ut_sb #2: ``feederopt info`` on a SimBench MV grid (MV buses held to 0.965..1.055 p.u., the
HV buses to 0.9..1.1) said "base-case voltage vs limits (AC): within 0.9000 - 1.1000 p.u.",
the loosest band, which reads as the MV buses' limits. With several bands it now gives each
limit's range. Truth: the user's bus table (min_vm_pu, max_vm_pu) and pandapower's own power
flow, whose voltages lie within each bus's band. The HV band is a second HV bus's: the
ext_grid's own bus holds its set-point, which no band binds (user test ut33_dopf #3)."""

from __future__ import annotations

import json

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app


def _two_band_net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    grid = pp.create_bus(net, 110, min_vm_pu=0.9, max_vm_pu=1.1)
    hv = pp.create_bus(net, 110, min_vm_pu=0.9, max_vm_pu=1.1)
    mv = [pp.create_bus(net, 20, min_vm_pu=0.965, max_vm_pu=1.055) for _ in range(3)]
    pp.create_ext_grid(net, grid, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], "25 MVA 110/20 kV")
    for a, b in ((0, 1), (1, 2)):
        pp.create_line(net, mv[a], mv[b], 2.0, "NA2XS2Y 1x185 RM/25 12/20 kV")
    pp.create_line(net, grid, hv, 5.0, "149-AL1/24-ST1A 110.0")  # line 2
    for bus in mv[1:]:
        pp.create_load(net, bus, 2.0, 0.5)
    return net


def test_info_names_the_tight_band(tmp_path: object) -> None:
    net = _two_band_net()
    path = f"{tmp_path}/two_bands.json"
    pp.to_json(net, path)
    pp.runpp(net)
    vm = net.res_bus["vm_pu"]
    assert ((vm >= net.bus.min_vm_pu) & (vm <= net.bus.max_vm_pu)).all()
    res = CliRunner().invoke(app, ["info", path, "--json"])
    assert res.exit_code == 0, res.output
    band = json.loads(res.stdout)["base_voltage_limits"]
    assert band["within"] is True
    assert (band["v_min_pu"], band["v_max_pu"]) == (net.bus.min_vm_pu.min(),
                                                     net.bus.max_vm_pu.max())
    assert (band["v_min_highest_pu"], band["v_max_lowest_pu"]) == (
        net.bus.min_vm_pu.max(), net.bus.max_vm_pu.min())
    text = CliRunner().invoke(app, ["info", path], env={"COLUMNS": "200"}).output
    row = next(line for line in text.splitlines() if "base-case voltage vs limits" in line)
    assert "within each bus's band, 0.9000..0.9650 - 1.0550..1.1000 p.u." in row
    assert "within 0.9000 - 1.1000" not in row


def test_info_says_the_base_case_overloads_a_line(tmp_path: object) -> None:
    """ut_sb #3: a SimBench LV grid (1-LV-rural1--1-sw) whose base case loads its transformer
    to 316 % got "problems: none" and no word on it from ``info``, and every solve then ended
    infeasible. Truth: pandapower's ``res_line.loading_percent`` of the user's net."""
    net = _two_band_net()
    net.line.loc[[0, 1], "max_i_ka"] = [0.5, 0.05]  # line 1 carries about 2 MW at 20 kV
    path = f"{tmp_path}/overloaded.json"
    pp.to_json(net, path)
    pp.runpp(net)
    loading = net.res_line.loading_percent
    assert loading[1] > 100.0 > loading[0]  # the premise, by pandapower
    res = CliRunner().invoke(app, ["info", path, "--json"])
    assert res.exit_code == 0, res.output
    verdict = json.loads(res.stdout)["base_rating_limits"]
    assert verdict["within"] is False
    assert [d["id"] for d in verdict["over_rating"]] == ["line:1"]
    assert verdict["over_rating"][0]["loading_percent"] == pytest.approx(loading[1], rel=1e-6)
    assert verdict["max_loading_percent"] == pytest.approx(loading.max(), rel=1e-6)
    text = CliRunner().invoke(app, ["info", path], env={"COLUMNS": "200"}).output
    row = next(line for line in text.splitlines() if "base-case loading vs ratings" in line)
    assert "breaks them: 1 branch(es) over their rating (worst line:1" in row
    assert "the base case already overloads branches (AC)" in text


def test_info_gives_the_largest_loading_within_the_ratings(tmp_path: object) -> None:
    net = _two_band_net()
    path = f"{tmp_path}/two_bands.json"
    pp.to_json(net, path)
    pp.runpp(net)
    res = CliRunner().invoke(app, ["info", path, "--json"])
    verdict = json.loads(res.stdout)["base_rating_limits"]
    largest = max(net.res_line.loading_percent.max(), net.res_trafo.loading_percent.max())
    assert largest < 100.0
    assert verdict["within"] is True and verdict["over_rating"] == []
    assert verdict["max_loading_percent"] == pytest.approx(largest, rel=1e-6)
