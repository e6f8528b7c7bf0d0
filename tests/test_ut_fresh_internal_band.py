"""ut_fresh #6: `feederopt info` on a pandapower net with a three-winding transformer and an
xward said "base-case voltage vs limits (AC): within 0.5000 - 1.5000 p.u." for a net held to
0.92-1.06 p.u.: the reader's internal buses (the star point, the xward's auxiliary bus, limits
0.5..1.5) set the band's extremes. Truth: the user's bus table (min_vm_pu, max_vm_pu) and
pandapower's own power flow, whose voltages lie within it."""

from __future__ import annotations

import json

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app
from test_ut_fresh_xward_bound import _net


def test_info_band_is_the_users(tmp_path: object) -> None:
    net = _net()
    net.bus["min_vm_pu"] = 0.92
    net.bus["max_vm_pu"] = 1.06
    path = f"{tmp_path}/three_winding.json"
    pp.to_json(net, path)
    pp.runpp(net)
    vm = net.res_bus["vm_pu"]
    assert vm.min() >= 0.92 and vm.max() <= 1.06  # pandapower: within the user's band
    res = CliRunner().invoke(app, ["info", path, "--json"])
    assert res.exit_code == 0, res.output
    band = json.loads(res.stdout)["base_voltage_limits"]
    assert band["within"] is True
    assert (band["v_min_pu"], band["v_max_pu"]) == (0.92, 1.06)
    text = CliRunner().invoke(app, ["info", path], env={"COLUMNS": "200"}).output
    row = next(line for line in text.splitlines() if "base-case voltage vs limits" in line)
    assert "within 0.9200 - 1.0600 p.u." in row


def test_solve_settings_band_is_the_users(tmp_path: object) -> None:
    """The solve's settings (result.json, console's limits row) give the band of the user's
    buses, not 0.5..1.5 from the reader's internal ones."""
    net = _net()
    net.bus["min_vm_pu"] = 0.92
    net.bus["max_vm_pu"] = 1.06
    path = f"{tmp_path}/three_winding.json"
    pp.to_json(net, path)
    out = f"{tmp_path}/r.json"
    res = CliRunner().invoke(app, ["solve", path, "--json", out, "--time-limit", "60"],
                             env={"COLUMNS": "200"})
    assert res.exit_code in (0, 4), res.output
    with open(out) as f:
        settings = json.load(f)["settings"]
    assert (settings["v_min_pu"], settings["v_max_pu"]) == (0.92, 1.06)
    assert "0.5000" not in res.output and "1.5000" not in res.output
