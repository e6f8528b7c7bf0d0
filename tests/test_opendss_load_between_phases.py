"""A 1-phase load between two phases (``bus1=x.2.3``: its neutral conductor on node 3) is
rated against the phase-to-phase voltage (user test ut32_3ph B2): a ZIP load (model 8) there
with kV=12.47 sits at 1 p.u., above its ZIPV cutoff, and OpenDSS draws about its kW; the reader
used to take the line-to-neutral 7.2 kV as its voltage ("V/kV 0.58"), put it below the cutoff
and dropped it (p_mw 0), and noted a constant-power one as "rated kV far from" its voltage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opendssdirect as dss
import polars as pl
import pytest

from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.lp basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Load.ld bus1=b1 phases=3 kV=12.47 kW=900 kvar=300
New Load.lbc bus1=b1.2.3 phases=1 kV=12.47 kW=600 kvar=200 {model}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


@pytest.mark.parametrize("model", [
    "model=8 zipv=[0.2 0.3 0.5 0.2 0.3 0.5 0.7]", "model=1"])
def test_load_between_two_phases_is_kept_at_its_kw(tmp_path: Path, model: str) -> None:
    path = tmp_path / "lp.dss"
    path.write_text(FEEDER.format(model=model))
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Circuit.SetActiveElement("Load.lbc")
    drawn_kw = float(np.sum(dss.CktElement.Powers()[0::2]))
    dss.Circuit.SetActiveBus("b1")
    v = np.asarray(dss.Bus.Voltages(), float).reshape(-1, 2) @ np.array([1, 1j])
    assert abs(v[1] - v[2]) / 1000 == pytest.approx(12.47, rel=0.05)  # across, not 7.2 kV
    assert drawn_kw > 500  # OpenDSS's truth: it draws close to its 600 kW

    net = read_opendss(path)
    rows = net.loads.filter(pl.col("id") == "lbc").to_dicts()
    assert [(r["conn"], r["phase"]) for r in rows] == [("delta", "bc")]
    assert rows[0]["p_mw"] * 1000 == pytest.approx(600)
    assert rows[0]["vn_kv"] == pytest.approx(12.47)
    warnings = " ".join(net.meta["warnings"])
    assert "lbc" not in warnings and "V/kV 0.58" not in warnings
