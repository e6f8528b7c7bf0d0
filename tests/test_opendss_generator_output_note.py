"""The note on an OpenDSS generator whose solved output differs from its rating names the right
cause (user test ut38_recheck): a unit cut off from every source (an open switch) produces
nothing, whatever its kV, where the note said "-0 kW (its kV rating does not match its bus)" for
a 12.47 kV unit on a 12.47 kV bus. The truth is OpenDSS's own solution of each script."""

from __future__ import annotations

import sys
from pathlib import Path

import opendssdirect as dss

from feederopt.io.opendss import read_opendss

sys.path.insert(0, str(Path(__file__).parent))
from test_partition_balanced_former import P3

LIVE_MISMATCH = """Clear
New Circuit.k basekv=12.47 pu=1.0 phases=3 bus1=src
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.3 x1=0.6 r0=0.9 x0=1.8 length=1 units=km
New Load.ld phases=3 bus1=b1 kv=12.47 kw=900 kvar=300
New Generator.g phases=3 bus1=b1 kv=4.16 kw=1000 kva=1200
Set voltagebases=[12.47]
Calcv
Solve
"""


def _note(path: Path, unit: str) -> str:
    (note,) = [w for w in read_opendss(path).meta["warnings"] if w.startswith(unit)]
    return note


def test_a_unit_cut_off_from_every_source_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "p3.dss"
    path.write_text(P3)
    dss.Text.Command(f'redirect "{path}"')
    dss.Circuit.SetActiveElement("Generator.g1")
    assert max(abs(v) for v in dss.CktElement.Voltages()) < 1e-6  # OpenDSS: no voltage
    note = _note(path, "Generator.g1")
    assert "no source energises it" in note and "kV rating" not in note
    assert "-0 kW" not in note and "at 0 kW" in note


def test_a_live_unit_with_another_kv_keeps_the_kv_note(tmp_path: Path) -> None:
    path = tmp_path / "k.dss"
    path.write_text(LIVE_MISMATCH)
    dss.Text.Command(f'redirect "{path}"')
    dss.Circuit.SetActiveElement("Generator.g")
    out_kw = -sum(dss.CktElement.Powers()[0::2])
    assert abs(out_kw - 1000) > 100  # OpenDSS runs the 4.16 kV unit off its rating
    note = _note(path, "Generator.g")
    assert "kV rating does not match its bus" in note
