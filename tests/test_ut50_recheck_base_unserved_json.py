"""The JSON's three-phase ``base`` block is not ``within_limits`` when the base case leaves
load unserved, as the console and report.html say (user test ut50_recheck #3).

``us.dss`` (the tester's file): both ties (sw1, sw2) open in the file, so Load.ld4 (700 kW) sits
on the dead bus b4. The console said "not within them: 700.000 kW of load unserved" while the
JSON had ``base.within_limits: true`` beside ``base_unserved_load_kw: 700``. The truth is
opendssdirect's solve of the file: ld4 draws nothing, so its 700 kW nameplate is unserved."""

from __future__ import annotations

import json
import os
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

US = Path(__file__).parent / "data" / "ut50_recheck" / "us.dss"
runner = CliRunner()


def opendss_unserved_kw() -> float:
    """The nameplate kW of the loads that OpenDSS's solve of the file leaves without power."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{US}"')
    finally:
        os.chdir(cwd)
    dark = 0.0
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        kw = dss.Loads.kW()
        dss.Circuit.SetActiveElement(f"Load.{name}")
        if abs(sum(dss.CktElement.Powers()[0::2])) < 1e-6 * kw:
            dark += kw
    return dark


def test_json_base_block_is_not_within_limits_with_load_unserved(tmp_path: Path) -> None:
    dark = opendss_unserved_kw()
    assert abs(dark - 700.0) < 1e-9
    out = tmp_path / "us.json"
    res = runner.invoke(app, ["solve", str(US), "--json", str(out)], terminal_width=300)
    assert res.exit_code == 0, res.output
    base = json.loads(out.read_text())["base"]
    assert abs(base["unserved_load_kw"] - dark) < 1e-6
    assert base["within_limits"] is False
    # the energised part is within them, as the console says
    assert base["voltage_limits"]["within"] and base["rating_limits"]["within"]


def test_scenario_base_block_is_not_within_limits_with_load_unserved(tmp_path: Path) -> None:
    dark = opendss_unserved_kw()
    csv = tmp_path / "scen.csv"
    csv.write_text("scenario,kind,element,p_mw,q_mvar,weight\n"
                   "light,load,ld2,0.5,0.1,0.5\nheavy,load,ld2,1.0,0.2,0.5\n")
    out = tmp_path / "us.json"
    res = runner.invoke(app, ["solve", str(US), "--scenarios", str(csv), "--json", str(out)],
                        terminal_width=300)
    assert res.exit_code in (0, 4), res.output
    base = json.loads(out.read_text())["base"]
    assert abs(base["unserved_load_kw"] - dark) < 1e-6
    assert base["within_limits"] is False
    assert all(row["within_limits"] is False for row in base["per_scenario"])
