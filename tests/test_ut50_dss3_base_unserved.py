"""A base case that leaves load unserved is not "within" the limits, and no loss reduction is
computed against it (user test ut50_dss3 #4).

``big2.dss`` closed tie4 into an island: OpenDSS found 2527 kW unfed in the base case, and
the solve printed "base case vs limits (OpenDSS): within them" and "loss reduction vs base
case -95.53 %" (the base's losses are of 2.5 MW less load). ``island.dss`` (data/ut50_dss3)
is the same situation on a small feeder: ``f3_3.dss`` of ut48_dss3 at LoadMult 1 with sw2
opened and tie1 open, so Load.b6 and Load.c2 have no path to the source. The truth is
opendssdirect's solve of the user's file: the kW of the loads whose nodes it leaves without
voltage."""

from __future__ import annotations

import os
import re
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.results.result import base_verdict_rows

ISLAND = Path(__file__).parent / "data" / "ut50_dss3" / "island.dss"
runner = CliRunner()


def opendss_unserved_kw(path: Path) -> float:
    """The nominal kW of the loads that OpenDSS's solve of ``path`` leaves at zero voltage."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{path}"')
        dss.Text.Command("solve")
    finally:
        os.chdir(cwd)
    dark = 0.0
    for name in dss.Loads.AllNames():
        dss.Circuit.SetActiveElement(f"Load.{name}")
        mags = dss.CktElement.VoltagesMagAng()[0::2]
        if max(mags) < 1.0:  # volts: no path to the source
            dss.Loads.Name(name)
            dark += dss.Loads.kW()
    return dark


def test_base_with_unserved_load_is_not_within_and_not_compared() -> None:
    dark = opendss_unserved_kw(ISLAND)
    assert dark > 100.0  # the file's base case does leave load without supply
    res = runner.invoke(app, ["solve", str(ISLAND), "--time-limit", "20"],
                        terminal_width=250)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    verdict = re.search(r"base case vs limits \(OpenDSS\) │ (.*?) │", text)
    assert verdict is not None, text
    assert verdict.group(1).strip() != "within them"
    assert f"{dark:.3f} kW" in verdict.group(1)
    row = re.search(r"loss reduction vs base case │ (.*?) │", text)
    assert row is not None, text
    assert "not comparable" in row.group(1) and "%" not in row.group(1)


def test_rows_of_a_base_block() -> None:
    """The rows themselves: within the limits on its energised part, 650 kW unserved."""
    base = {"engine": "OpenDSS", "converged": True, "losses_kw": 15.0, "within_limits": True,
            "voltage_limits": {"within": True, "below_v_min": [], "above_v_max": []},
            "rating_limits": {"within": True, "over_rating": []}, "unserved_load_kw": 650.0}
    rows = dict(base_verdict_rows(base, engine="OpenDSS", answer_losses=19.0))
    assert rows["base case vs limits (OpenDSS)"].startswith("not within them: 650.000 kW")
    assert rows["loss reduction vs base case"].startswith("not comparable")
    served = {**base, "unserved_load_kw": 0.0}
    rows = dict(base_verdict_rows(served, engine="OpenDSS", answer_losses=12.0))
    assert rows["base case vs limits (OpenDSS)"] == "within them"
    assert rows["loss reduction vs base case"] == f"{100 * (15 - 12) / 15:.2f} %"
