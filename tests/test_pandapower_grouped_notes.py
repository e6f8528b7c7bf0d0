"""A note that concerns many elements is given once, naming them: the transformers whose
tap_pos is off neutral without a tap_changer_type (user test ut_ppgrid #6: SimBench's
1-HVMV-mixed-all-0-sw printed it once per transformer, dozens of lines)."""

from __future__ import annotations

import pandapower as pp

from feederopt.io import from_pandapower


def feeder(n_trafos: int):
    """``n_trafos`` 20/0.4 kV transformers on one MV bus, each at tap_pos -1 of a step of
    2.5 % with no tap_changer_type; the first has a second tap changer too."""
    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, mv)
    for _ in range(n_trafos):
        lv = pp.create_bus(net, 0.4)
        t = pp.create_transformer(net, mv, lv, "0.4 MVA 20/0.4 kV")
        pp.create_load(net, lv, 0.1, 0.02)
        net.trafo.loc[t, ["tap_pos", "tap_neutral", "tap_step_percent"]] = (-1, 0, 2.5)
        net.trafo.loc[t, "tap_changer_type"] = None
    net.trafo["tap2_pos"] = float("nan")
    net.trafo.loc[0, "tap2_pos"] = 1.0
    return net


def test_untyped_tap_notes_are_one_note_naming_the_transformers():
    notes = from_pandapower(feeder(12)).meta["warnings"]
    tap = [w for w in notes if "tap_changer_type" in w]
    assert len(tap) == 1
    assert tap[0].startswith("12 trafo(s)")
    assert "0 (tap_pos -1, neutral 0)" in tap[0] and "7 (tap_pos" in tap[0]
    assert "8 (tap_pos" not in tap[0] and "..." in tap[0]
    # the first transformer's other note stays
    assert any(w.startswith("trafo 0: a second tap changer") for w in notes)
