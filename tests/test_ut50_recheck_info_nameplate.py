"""``info`` labels the total load as drawn at 1 p.u., with the loads' nameplate sum beside it,
for every load model whose draw differs from its nameplate (user test ut50_recheck #4).

``noder.dss`` (the tester's file): ``Load.ld1 kV=4.16`` of the default model 1 on a 12.47 kV
bus. The reader re-rates it at its bus's voltage by OpenDSS's law (above Vmaxpu = 1.05 of its
kV, an impedance: ``kW (v/1.05)^2``, v = 12.47/4.16 = 3.0), and ``info`` printed "total load
3.3451 MW" with neither a label nor the nameplate sum 1.2 MW (model 2 got both). The truth is
opendssdirect: the loads' nameplate kW, and the kW OpenDSS's solve of the file draws, brought
to 1 p.u. of each load's bus by OpenDSS's law for that load (``kW / |V|^2`` above Vmaxpu, the
kW itself within the band), so that the 3261 kW OpenDSS draws at b1's 0.98 p.u. is compared
with the model's figure at 1 p.u."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

NODER = Path(__file__).parent / "data" / "ut50_recheck" / "noder.dss"
runner = CliRunner()


def opendss_kw() -> tuple[float, float, float]:
    """(the nameplate kW, the kW OpenDSS's solve draws, that draw at 1 p.u. of the buses)."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{NODER}"')
    finally:
        os.chdir(cwd)
    nominal = drawn = at_one = 0.0
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        kw, kv, vmax = dss.Loads.kW(), dss.Loads.kV(), dss.Loads.Vmaxpu()
        dss.Circuit.SetActiveElement(f"Load.{name}")
        p = sum(dss.CktElement.Powers()[0::2])
        dss.Circuit.SetActiveBus(dss.CktElement.BusNames()[0].split(".")[0])
        v = float(np.mean(dss.Bus.puVmagAngle()[0::2]))  # p.u. of the bus's base
        base_kv = dss.Bus.kVBase() * np.sqrt(3)
        above = v * base_kv / kv > vmax  # outside the band: an impedance
        nominal += kw
        drawn += p
        at_one += p / v**2 if above else p
    return nominal, drawn, at_one


def test_info_labels_a_model_1_load_rerated_at_its_bus() -> None:
    nominal, drawn, at_one = opendss_kw()
    assert abs(nominal - 1200.0) < 1e-6  # 300 + 900 kW, the file's nameplates
    assert abs(drawn - at_one) > 0.02 * at_one  # the 1 p.u. figure is not OpenDSS's draw
    res = runner.invoke(app, ["info", str(NODER)], terminal_width=600)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    row = re.search(r"│ total load \(drawn at 1 p\.u\.\) *│ ([0-9.]+) MW", text)
    assert row is not None, text
    assert abs(float(row.group(1)) * 1000 - at_one) < 0.01 * at_one, (row.group(1), at_one)
    cells = " ".join(res.output.replace("│", " ").split())  # the row's wrapped lines joined
    assert f"nominal kW and kvar sum to {nominal / 1000:.4f} MW" in cells
    doc = json.loads(runner.invoke(app, ["info", str(NODER), "--json"]).output)
    assert abs(doc["load_nominal_mw"] * 1000 - nominal) < 1e-6
