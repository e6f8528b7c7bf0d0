"""Every OpenDSS solve feederopt does is at one load level: snapshot mode (user test ut42_dss3).

A file that ends in ``Set mode=daily number=1 hour=14`` and ``Solve`` left OpenDSS in daily
mode, whose every ``Solve`` steps the clock an hour and draws the loads at their shape's
multiplier for it: ``info``'s base losses were those of hour 15, ``solve``'s base case of
hour 16 and the AC check and the solve with OpenDSS's controls of hours 17-18, while the
model took the loads at their kW. The reader now puts OpenDSS in snapshot mode after the file
(docs/threephase.md), so every figure is OpenDSS's snapshot solution of the file.

The truth is independent of feederopt: the loads are constant-power (model=1) and within
their Vminpu, so OpenDSS draws exactly their kW (sum 1100 kW, by hand), and the base losses
are a plain OpenDSSDirect.py snapshot solve of the same file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.daily basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.2 units=mi normamps=600
New Line.l1 bus1=src bus2=b1 linecode=lc length=1 units=mi
New Line.l2 bus1=b1 bus2=b2 linecode=lc length=1 units=mi
New Line.l3 bus1=src bus2=b3 linecode=lc length=1 units=mi
New Line.tie bus1=b2 bus2=b3 linecode=lc length=1 units=mi switch=y
Open Line.tie term=1
New Load.a bus1=b2 phases=3 kV=12.47 kW=600 kvar=200 model=1
New Load.b bus1=b3 phases=3 kV=12.47 kW=500 kvar=150 model=1
New Loadshape.day npts=24 interval=1
~ mult=[0.3 0.3 0.3 0.3 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1 1 1 0.5 0.7 0.2 0.5 0.5 0.5 0.4 0.4 0.3 0.3]
BatchEdit Load..* daily=day
Set voltagebases=[12.47]
CalcVoltageBases
Set mode=daily number=1 hour=14
Solve
"""
NAMEPLATE_KW = 1100.0


def _snapshot_losses_kw(path: Path) -> float:
    """Plain OpenDSSDirect.py: the file compiled, then a snapshot solve."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        dss.Text.Command("set mode=snapshot")
        dss.Solution.Solve()
        return float(dss.Circuit.Losses()[0]) / 1000.0
    finally:
        os.chdir(cwd)


@pytest.fixture()
def feeder(tmp_path: Path) -> Path:
    path = tmp_path / "daily.dss"
    path.write_text(FEEDER)
    return path


def test_reader_notes_the_mode_and_reads_nameplate(feeder: Path) -> None:
    net = read_opendss(feeder)
    assert net.loads["p_mw"].sum() == pytest.approx(NAMEPLATE_KW / 1000.0)
    note = " ".join(net.meta["warnings"])
    assert "Daily mode" in note and "snapshot" in note


def test_base_check_and_controls_at_one_load_level(feeder: Path, tmp_path: Path) -> None:
    truth = _snapshot_losses_kw(feeder)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(feeder), "--time-limit", "30", "--json",
                                   str(out)])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    assert doc["base_losses_kw"] == pytest.approx(truth, rel=1e-3)
    ac = doc["ac_check"]
    assert ac["load_kw"] == pytest.approx(NAMEPLATE_KW, rel=1e-4)
    assert ac["with_controls"]["load_kw"] == pytest.approx(NAMEPLATE_KW, rel=1e-4)
