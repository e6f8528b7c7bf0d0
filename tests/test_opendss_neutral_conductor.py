"""A line with a neutral conductor (a 4-wire line code on ``x.1.2.3.4``, or a LineGeometry
with ``nconds=4 nphases=3 reduce=no``; user test ut32_3ph H1/H12) is refused with a message
that names the neutral and a hint to Kron-reduce it (``Kron=yes`` on the LineCode,
``reduce=yes`` on the LineGeometry); the hint was about dots in bus names. The hint's remedy
is checked on OpenDSS: the reduced line gives the same power flow as the 4-wire one (losses
within 1 %; a grounded neutral is what Kron's reduction assumes), and the reader takes it."""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss

HEAD = """Clear
New Circuit.nw basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW=900 kvar=300
"""
TAIL = """Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
CODE4 = """New Linecode.oh4 nphases=4 units=kft normamps=400
~ rmatrix=[0.12 | 0.04 0.12 | 0.04 0.04 0.12 | 0.04 0.04 0.04 0.20]
~ xmatrix=[0.30 | 0.12 0.30 | 0.11 0.12 0.30 | 0.11 0.11 0.11 0.33]
"""
GEOMETRY = """New WireData.acsr336 GMRac=0.0255 Rac=0.306 diam=0.721 normamps=530 Runits=mi
~ radunits=in gmrunits=ft
New WireData.acsr4_0 GMRac=0.00814 Rac=0.592 diam=0.563 normamps=340 Runits=mi
~ radunits=in gmrunits=ft
New LineGeometry.geo nconds=4 nphases=3 reduce={reduce}
~ cond=1 wire=acsr336 x=-4 h=28 units=ft
~ cond=2 wire=acsr336 x=-1.5 h=28 units=ft
~ cond=3 wire=acsr336 x=3 h=28 units=ft
~ cond=4 wire=acsr4_0 x=0 h=24 units=ft
"""
CASES = {
    # (4-wire, Kron-reduced as the hint says, the problem's field, the hint's words)
    "linecode": (
        CODE4 + "New Line.w bus1=b1.1.2.3.4 bus2=b2.1.2.3.4 phases=4 linecode=oh4 length=2 "
        "units=kft\n",
        CODE4 + "Edit Linecode.oh4 neutral=4 Kron=yes\nNew Line.w bus1=b1.1.2.3 "
        "bus2=b2.1.2.3 phases=3 linecode=oh4 length=2 units=kft\n",
        "linecode", "Kron=yes (neutral=4) on LineCode.oh4"),
    "geometry": (
        GEOMETRY.format(reduce="no") + "New Line.w bus1=b1 bus2=b2 geometry=geo length=2 "
        "units=kft\n",
        GEOMETRY.format(reduce="yes") + "New Line.w bus1=b1 bus2=b2 geometry=geo length=2 "
        "units=kft\n",
        "geometry", "reduce=yes on LineGeometry.geo"),
}


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.dss"
    path.write_text(HEAD + body + TAIL)
    return path


def _losses_kw(path: Path) -> float:
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    return float(dss.Circuit.Losses()[0]) / 1000


@pytest.mark.parametrize("case", sorted(CASES))
def test_neutral_conductor_is_named_with_the_kron_hint(tmp_path: Path, case: str) -> None:
    four, reduced, field, words = CASES[case]
    p4, p3 = _write(tmp_path, "four", four), _write(tmp_path, "reduced", reduced)
    assert _losses_kw(p3) == pytest.approx(_losses_kw(p4), rel=0.01)  # OpenDSS: same flow
    with pytest.raises(InputError) as err:
        read_opendss(p4)
    [prob] = err.value.problems
    assert prob.kind == ProblemKind.UNSUPPORTED_ELEMENT and prob.ids == ("w",)
    assert prob.field == field
    assert "neutral conductor" in prob.message and "node(s) 4" in prob.message
    assert words in prob.hint and "dot" not in prob.hint
    net = read_opendss(p3)  # the hint's remedy is read
    assert net.lines.filter(net.lines["id"] == "w")["phases"].to_list() == ["abc"]
