"""A voltage-controlled generator and an InvControl's DERs are said to be held at OpenDSS's
solved output (user test ut50_dss3 #6).

``two/vgen3.dss`` (data/ut50_dss3, the tester's file): ``Generator.g7 model=3 Vpu=1.03``; its
solved 1236 kvar was read as a fixed output with no note that its voltage control is not
modelled. ``two/vinv2.dss``: a PV under an InvControl (volt-var); the note said "InvControl
element(s) ignored" while the PV's volt-var Q of the file's solve (38.3 kvar) was held. The
truth is opendssdirect's solve of the files: the units' output."""

from __future__ import annotations

import os
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

DATA = Path(__file__).parent / "data" / "ut50_dss3" / "two"
runner = CliRunner()


def opendss_output(name: str, element: str) -> tuple[float, float]:
    """(kW, kvar) that OpenDSS's solve of the file has ``element`` put out."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{DATA / name}"')
    finally:
        os.chdir(cwd)
    dss.Circuit.SetActiveElement(element)
    powers = dss.CktElement.Powers()
    return -sum(powers[0::2]), -sum(powers[1::2])


def _notes(name: str) -> list[str]:
    res = runner.invoke(app, ["info", str(DATA / name)], terminal_width=400)
    assert res.exit_code == 0, res.output
    text = res.output.replace("\n", " ")
    return [" ".join(n.split()) for n in text.split("note: ")[1:]]


def test_voltage_controlled_generator_is_held_as_solved() -> None:
    _, kvar = opendss_output("vgen3.dss", "Generator.g7")
    assert abs(kvar) > 100  # the voltage control puts out reactive power
    note = next((n for n in _notes("vgen3.dss") if "Generator.g7" in n), None)
    assert note is not None
    assert "voltage control is not modelled" in note
    assert "held at its output as OpenDSS solved the file" in note
    assert f"{kvar:.1f} kvar" in note


def test_invcontrol_der_is_held_as_solved() -> None:
    _, kvar = opendss_output("vinv2.dss", "PVSystem.pv4")
    notes = _notes("vinv2.dss")
    assert not any("InvControl element(s) ignored" in n for n in notes)
    note = next((n for n in notes if "InvControl" in n), None)
    assert note is not None
    assert "PVSystem.pv4" in note and f"{kvar:.1f} kvar" in note
    assert "held at their output as OpenDSS solved the file" in note
