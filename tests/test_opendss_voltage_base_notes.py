"""The note on the buses' voltage bases says what OpenDSS did (user test ut32_3ph P1): a file
without ``Set VoltageBases``/``CalcVoltageBases`` leaves every bus's base at 0 (OpenDSS's
kVBase, checked here), which the note used to call "an OpenDSS voltage base that does not
match their transformer's ratio" on a feeder with no transformer. Each case's premise is
OpenDSS's own kVBase of the buses."""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss

from feederopt.io.opendss import read_opendss

BODY = """Clear
New Circuit.vb basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length=2 units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW=900 kvar=300
"""


def _bases(path: Path) -> dict[str, float]:
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    out = {}
    for b in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(b)
        out[b] = float(dss.Bus.kVBase())
    return out


def _base_notes(path: Path) -> list[str]:
    return [w for w in read_opendss(path).meta["warnings"] if "voltage base" in w]


def test_no_voltage_bases_is_said_as_such(tmp_path: Path) -> None:
    path = tmp_path / "novb.dss"
    path.write_text(BODY + "Solve\n")
    assert set(_bases(path).values()) == {0.0}  # OpenDSS: no bus has a base
    [note] = _base_notes(path)
    assert "no bus a voltage base" in note and "12.47" in note
    assert "transformer's ratio" not in note and "does not match" not in note


def test_a_bus_defined_after_calcv_is_said_to_have_no_base(tmp_path: Path) -> None:
    path = tmp_path / "late.dss"
    path.write_text(BODY + "Set VoltageBases=[12.47]\nCalcVoltageBases\n"
                    "New Line.l3 bus1=b2 bus2=b3 linecode=c3 length=2 units=kft\nSolve\n")
    bases = _bases(path)
    assert bases["b3"] == 0.0 and bases["b2"] > 0  # OpenDSS: only b3 has none
    [note] = _base_notes(path)
    assert note.startswith("1 bus(es) have no OpenDSS voltage base (b3;")
    assert "does not match" not in note


def test_a_bus_with_bases_set_gets_no_note(tmp_path: Path) -> None:
    path = tmp_path / "ok.dss"
    path.write_text(BODY + "Set VoltageBases=[12.47]\nCalcVoltageBases\nSolve\n")
    assert _base_notes(path) == []
