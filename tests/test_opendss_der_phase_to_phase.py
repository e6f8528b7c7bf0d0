"""A single-phase generator, PV system or storage unit connected between two phases
(``bus1=x.2.3``; user test ut32_3ph B3/B4/M5) is refused by name: OpenDSS injects half of its
power on each of the two nodes with opposite reactive parts (``S V_k / (V_2 - V_3)``), which
the model's DERs, held phase to ground, cannot represent. It used to be read as a unit on
phase b alone (LinDist3Flow's voltage error 0.066 p.u.). The same unit phase to ground is
read on its one phase, as OpenDSS's own solution has it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest

from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.pp basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length=2 units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW=900 kvar=300
{der}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


def _feeder(tmp_path: Path, der: str) -> Path:
    path = tmp_path / "pp.dss"
    path.write_text(FEEDER.format(der=der))
    return path


def _opendss_node_powers(path: Path, element: str) -> np.ndarray:
    """OpenDSS's own terminal powers of the element (kW, kvar per conductor)."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Circuit.SetActiveElement(element)
    return np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2)


@pytest.mark.parametrize("der", [
    "New PVSystem.pvbc phases=1 bus1=b2.2.3 kV=12.47 kVA=600 Pmpp=550 irradiance=1 pf=1",
    "New Generator.gbc phases=1 bus1=b2.2.3 kV=12.47 kW=550 pf=1",
])
def test_phase_to_phase_der_is_refused_by_name(tmp_path: Path, der: str) -> None:
    path = _feeder(tmp_path, der)
    element = der.split()[1]
    s = _opendss_node_powers(path, element)
    # OpenDSS's truth: the unit's power is on both nodes 2 and 3 (not on one phase), with
    # reactive parts of opposite sign although its pf is 1
    assert s[0, 0] < -200 and s[1, 0] < -200
    assert s[0, 1] * s[1, 1] < 0 and abs(s[0, 1]) > 100
    with pytest.raises(InputError) as err:
        read_opendss(path)
    probs = [p for p in err.value.problems if p.kind == ProblemKind.UNSUPPORTED_ELEMENT]
    assert len(probs) == 1
    assert probs[0].ids == (element.split(".")[1].lower(),)
    assert "between phases" in probs[0].message and element.lower() in probs[0].message.lower()
    assert "phase to ground" in probs[0].hint


def test_phase_to_ground_der_is_read_on_its_phase(tmp_path: Path) -> None:
    path = _feeder(tmp_path, "New Generator.gb phases=1 bus1=b2.2 kV=7.2 kW=300 pf=1")
    s = _opendss_node_powers(path, "Generator.gb")
    net = read_opendss(path)
    row = net.generators.to_dicts()[0]
    assert row["phases"] == "b"
    assert row["p_mw"] * 1000 == pytest.approx(-s[0, 0], rel=1e-6)
