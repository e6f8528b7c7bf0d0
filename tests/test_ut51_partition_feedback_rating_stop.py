"""The partition's voltage feedback stop when the plan's OpenDSS voltages are within their
limits but the same flow breaks a DER's rating, user test ut51_part #3.

``ieee37mod --v-min 0.95`` printed "stopped: within limits ... within the limits" beside the
AC verdict "breaks a limit" (``Generator.g732.a 141.24 kVA over its 141.00 kVA rating``) and
exit code 4. The feedback re-solved for voltages only; the stop said the voltages are
within their limits and named what the flow breaks. Since partfb a DER breach starts a round
too (docs/partition-ac-check.md, "DER breaches start a round"): here the tightened rating
leaves no plan serving the load, and the validity row says why the breach stands.

The fixture (tests/data/ut51_part/tight.dss) is one microgrid: a grid-forming ``G1`` of
150.1 kVA at b1 and a 150 kW unity-power-factor load 3 km away at b2. The model is lossless
(LinDist3Flow), so it serves the load at 150 kW from G1, within its rating; the line's losses
push what G1 must deliver in AC above 150.1 kVA. The truth is OpenDSS's own power flow of the
file (opendssdirect: the circuit's source at b1's end of the zero-impedance switch standing in
for G1 at 1.0 p.u., G1 disabled) and the file's ratings read as text.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import opendssdirect as dss

from feederopt.algorithms.partition import (
    STOPPED_ALL_OFF,
    STOPPED_WITHIN,
    within_voltage_stop,
)

DATA = Path(__file__).parent / "data" / "ut51_part"
TEXT = (DATA / "tight.dss").read_text()


def _kva_rating() -> float:
    return float(re.search(r"New Generator\.G1 .*kva=([\d.]+)", TEXT).group(1))


def _opendss_supply_kva() -> tuple[float, float]:
    """What the source must deliver to the load in OpenDSS [kVA], and the lowest node
    voltage [p.u.]."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{DATA / "tight.dss"}"')
        dss.Text.Command("Generator.G1.enabled=no")
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        p, q = dss.Circuit.TotalPower()
        low = min(dss.Circuit.AllBusMagPu())
    finally:
        os.chdir(cwd)
    return math.hypot(p, q), low


def test_the_flow_breaks_the_rating_with_voltages_within_limits():
    s, low = _opendss_supply_kva()
    assert s > _kva_rating() + 0.1  # the rating is broken in AC
    assert _kva_rating() >= 150.0  # but the lossless model's 150 kW fits it
    assert low > 0.95  # and the voltages are far within 0.9-1.1 p.u.


def test_the_stop_names_the_breach_not_within_limits():
    """Since partfb a DER breach starts a round (the model's rating of G1 tightened): here no
    tightened plan can serve the 150 kW load, so the re-solve de-energises the block, round 0
    is kept, and the stop and the validity row say why the breach stands."""
    from feederopt.api_partition import partition
    from feederopt.validation.partition import feedback_row, validity_text

    res = partition(str(DATA / "tight.dss"), settings=str(DATA / "tight.json"),
                    time_limit_s=60)
    vf = res.voltage_feedback
    assert res.served_load_kw == 150.0 and res.within_limits is False
    assert vf["within_voltage_limits"] is True and vf["kept_round"] == 0
    assert vf["stopped"] != STOPPED_WITHIN
    assert any("Generator.g1.a" in b for b in vf["rounds"][0]["der_breaches"])
    # the round after it ran for the breach, and held the rating only with every block dark
    assert any(w.startswith("Generator.g1.a") for w in vf["rounds"][1]["ran_for"])
    assert vf["rounds"][1]["served_load_kw"] == 0.0
    assert vf["stopped"] == STOPPED_ALL_OFF
    _, row = feedback_row(vf)
    assert "stopped: within limits" not in row and "within the limits," not in row
    assert "within the voltage limits, not the ratings" in row
    text = validity_text([], vf)
    assert "Generator.g1.a" in text and "not corrected by the feedback's re-solves" in text
    assert "de-energising every block" in text


def test_within_limits_only_when_nothing_breaks():
    assert within_voltage_stop([], []) == STOPPED_WITHIN
    text = within_voltage_stop([f"G.{p} 1 kVA over its 0.9 kVA rating" for p in "abcd"],
                               ["Line.l1 110 % of its rating"])
    assert text.startswith("voltages within limits") and "G.a" in text and "and 2 more" in text
