"""Among equal-cost plans the grid former's voltage set-point is the one nearest 1 p.u.
(user test ut39_recheck_a, pc.dss; ``least_norm_setpoints``, stage 0).

The feeder: a lost substation, the grid-forming Generator.gf (900 kW, 1,100 kVA) at b1, a
grid-following PV between phases b and c, constant-power loads (880 kW) and shunt banks
(a 300 kvar delta capacitor, two reactors). Every DER has the feeder's one default cost, so the
plan's cost does not depend on the voltage. The set-point stage's least norm alone had taken
the voltage at which the capacitor gives the most reactive power: 1.0983 p.u., where OpenDSS
draws the loads above their default Vmaxpu of 1.05 as constant impedance (961 kW for 880) and
gf's phase c left its 300 kW band (exit 4).

Truth: our own opendssdirect island of the plan (s12 and s34 closed, gf a stiff source at the
plan's set-point, the PV a constant-power unit at its planned set-points between b and c):
at 1.0 p.u. gf's phase c supplies less than its 300 kW (277.8 kW by the tester's count) and
the loads draw their 880 kW; at 1.0983 p.u. they draw more and phase c is over 300 kW."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from partition_feeders import RING_WITH_SHUNTS_SETTINGS, ring_with_shunts

runner = CliRunner()

FEEDER = ring_with_shunts(20, 10, "conn=delta")
SETTINGS = RING_WITH_SHUNTS_SETTINGS


def _island(feeder: Path, v_set: float, pv_kw: float, pv_kvar: float) -> tuple[list[float], float]:
    """Our own OpenDSS island of the plan: the stiff source's kW per phase (gf's output) and
    what the loads draw [kW]."""
    dss.Text.Command(f"Redirect [{feeder}]")
    for cmd in (f"New Vsource.gfm bus1=b1 basekv=12.47 pu={v_set} MVAsc3=1e7 MVAsc1=1e7",
                "Edit Generator.gf enabled=no", "Edit PVSystem.pvbc enabled=no",
                f"New Generator.pvset phases=1 bus1=c1.2.3 kv=12.47 kw={pv_kw} "
                f"kvar={pv_kvar} model=1 vminpu=0.5 vmaxpu=1.5",
                "Close Line.s12 term=1", "Close Line.s34 term=1", "Solve"):
        dss.Text.Command(cmd)
    assert dss.Solution.Converged()
    dss.Circuit.SetActiveElement("Vsource.gfm")
    kw = -np.asarray(dss.CktElement.Powers(), float)[0:6:2]
    drawn = 0.0
    for name in dss.Loads.AllNames():
        dss.Circuit.SetActiveElement(f"Load.{name}")
        drawn += float(np.asarray(dss.CktElement.Powers(), float)[0::2].sum())
    return [float(x) for x in kw], drawn


def test_grid_former_set_point_nearest_nominal(tmp_path):
    feeder, settings = tmp_path / "pc.dss", tmp_path / "pc.json"
    feeder.write_text(FEEDER)
    settings.write_text(json.dumps(SETTINGS))
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                              "--json", str(out)])
    doc = json.loads(out.read_text())
    assert doc["closed_switches"] == ["s12", "s34"]  # the island below
    pv = next(r for r in doc["der_phases"] if r["der"] == "PVSystem.pvbc")
    v_set = doc["microgrids"][0]["v_set_pu"]
    # the truth at the tester's set-point: OpenDSS takes the loads over Vmaxpu, phase c over
    high_kw, high_drawn = _island(feeder, 1.0983, pv["p_kw"], pv["q_kvar"])
    assert high_kw[2] > 300.0 and high_drawn > 900.0
    assert abs(v_set - 1.0) < 1e-3, v_set
    kw, drawn = _island(feeder, v_set, pv["p_kw"], pv["q_kvar"])
    assert max(kw) < 300.0 and abs(drawn - 880.0) < 0.05
    assert doc["loads_above_vmaxpu"] == []
    assert abs(doc["served_load_opendss_kw"] - drawn) < 0.1
    assert res.exit_code == 0, res.output
