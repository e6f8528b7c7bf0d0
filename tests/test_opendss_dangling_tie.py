"""A normally open switch to a misspelt bus (``Line.t1 bus2=b1O``, ``Open Line.t1 term=1``;
user test ut32_3ph G/typo_tie.dss) ends on a bus that nothing else touches and that carries
nothing: closing it energises only that empty bus (OpenDSS's own solution with it closed
serves the same load). The reader leaves it out with a note naming the look-alike bus, as it
leaves out the same tie disabled; it used to keep it as a switch, and the answer said
"close t1"."""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.tt basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length=2 units=kft
New Line.l3 bus1=sub bus2=b3 linecode=c3 length=2 units=kft
New Line.l4 bus1=b3 bus2=b10 linecode=c3 length=2 units=kft
New Line.t1 bus1=b2 bus2=b1O switch=yes
New Line.t2 bus1=b2 bus2=b10 switch=yes
Open Line.t1 term=1
Open Line.t2 term=1
New Load.la bus1=b2 phases=3 kV=12.47 kW=600 kvar=200
New Load.lb bus1=b10 phases=3 kV=12.47 kW=400 kvar=100
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


def _served_kw(path: Path, close: str | None) -> float:
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    if close:
        dss.Text.Command(f"close Line.{close} term=1")
        dss.Text.Command("solve")
    return -float(dss.Circuit.TotalPower()[0])


def test_open_tie_to_a_dangling_bus_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "tt.dss"
    path.write_text(FEEDER)
    # OpenDSS's truth: closing t1 changes nothing that the feeder serves (a few W: the
    # switch's own line charging, energised with it)
    assert _served_kw(path, "t1") == pytest.approx(_served_kw(path, None), abs=0.01)

    net = read_opendss(path)
    assert "t1" not in net.lines["id"].to_list()
    assert "b1o" not in net.buses["id"].to_list()
    assert "t2" in net.lines.filter(net.lines["switchable"])["id"].to_list()
    note = [w for w in net.meta["warnings"] if "t1 to b1o" in w]
    assert len(note) == 1 and "a misspelling of b10?" in note[0]
    assert "left out" in note[0]
