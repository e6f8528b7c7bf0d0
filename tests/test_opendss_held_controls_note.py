"""The reader's note on RegControl and CapControl elements (user test ut45 dssday #4).

``info`` said "1 CapControl element(s) ignored (control/protection)" and nothing of the
RegControls, which are held the same way: the model takes the regulator's tap and the
capacitor's states as OpenDSS solved the file. Now one note names both classes and says so.

Truth: OpenDSS's own solve of the file (opendssdirect, ``opendss_plain``), its controls
acting: the tap and capacitor state that the note says are held are the model's.
"""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt.io.opendss import read_opendss
from opendss_plain import plain_solution
from test_partition_ac_held import FEEDER


def test_regcontrols_and_capcontrols_are_noted_as_held(tmp_path: Path) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER)
    net = read_opendss(path)
    notes = [w for w in net.meta["warnings"] if "RegControl" in w or "CapControl" in w]
    assert len(notes) == 1, net.meta["warnings"]
    (note,) = notes
    assert "1 RegControl (reg)" in note and "1 CapControl (cap)" in note
    assert "held as OpenDSS solved the file" in note and "ignored" not in note
    assert "controls acting" in note
    # the claim: the model's tap and capacitor are OpenDSS's solved ones
    plain_solution(FEEDER, tmp_path)
    dss.Transformers.Name("reg")
    dss.Transformers.Wdg(2)
    assert float(dss.Transformers.Tap()) != pytest.approx(1.0)  # the control moved it
    assert net.transformers.filter(id="reg")["tap_to"].item() == pytest.approx(
        float(dss.Transformers.Tap()))
    dss.Capacitors.Name("cap")
    on = sum(int(x) for x in dss.Capacitors.States())
    assert net.shunts.filter(id="cap")["q_mvar"].item() == pytest.approx(0.6 * on)
