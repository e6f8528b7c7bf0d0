"""A pandapower trafo's ``tap_pos`` within 1e-9 of a whole position is that position (user
test ut47_recheck #5: ``example_multivoltage``'s trafo 0 with tap_pos 1.0000000001 was
refused as "tap_pos 1 is not a whole position", the value shown rounded by ``:g``). A
position farther off is refused as before (tests/test_whole_tap_position.py), its value shown
in full.

Truth: pandapower's ratio 1 + (tap_pos - tap_neutral) tap_step_percent / 100 at the whole
position, by hand: 1 + (1 - 0) x 1.5 / 100 = 1.015."""

from __future__ import annotations

import pytest

import feederopt
from feederopt.errors import InputError

pn = pytest.importorskip("pandapower.networks")


def _net(pos: float):
    n = pn.example_multivoltage()
    n.trafo.loc[0, ["tap_side", "tap_neutral", "tap_min", "tap_max", "tap_step_percent",
                    "tap_pos"]] = ["hv", 0, -9, 9, 1.5, pos]
    if "tap_changer_type" in n.trafo:
        n.trafo.loc[0, "tap_changer_type"] = "Ratio"
    return n


@pytest.mark.parametrize("pos", [1.0000000001, 1 - 1e-10, 1.0 + 9e-10])
def test_a_position_within_1e_9_of_a_whole_one_is_read_as_it(pos: float) -> None:
    n = _net(pos)
    read = feederopt.load(n)
    row = read.branches.filter(read.branches["id"] == "trafo:0")
    assert row["tap_ratio"][0] == pytest.approx(1 + (1 - 0) * 1.5 / 100, abs=1e-12)
    assert float(n.trafo.at[0, "tap_pos"]) == pos  # the user's net is left as it is


@pytest.mark.parametrize(("pos", "shown"), [(1.0000001, "1.0000001"), (1.5, "1.5"),
                                            (1.000000002, "1.000000002")])
def test_a_position_farther_off_is_refused_shown_in_full(pos: float, shown: str) -> None:
    with pytest.raises(InputError) as err:
        feederopt.load(_net(pos))
    (prob,) = [p for p in err.value.problems if p.field == "tap_pos"]
    assert f"tap_pos {shown} is not a whole position" in prob.message
