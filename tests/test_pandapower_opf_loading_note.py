"""pandapower's ``max_loading_percent`` (an OPF constraint column, which its power flow
ignores) is not read as a rating; a value below 100 % gets a note naming the branches and
pointing to ``--max-loading`` (user test ut_ppgrid #5: lines at 20 % were called "within" at
36.85 % without a word)."""

from __future__ import annotations

import pandapower as pp

from feederopt.io import from_pandapower

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder(limits):
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    for k, limit in enumerate(limits):
        pp.create_line(net, b[k], b[k + 1], 2.0, CABLE, max_loading_percent=limit)
        pp.create_load(net, b[k + 1], 1.0, 0.3)
    return net


def _notes(net):
    return [w for w in from_pandapower(net).meta["warnings"] if "max_loading_percent" in w]


def test_a_limit_below_100_is_noted_with_the_branches():
    notes = _notes(feeder([20.0, 100.0, 60.0]))
    assert len(notes) == 1
    assert "line:0" in notes[0] and "line:2" in notes[0] and "line:1" not in notes[0]
    assert "lowest 20 %" in notes[0] and "--max-loading" in notes[0]


def test_no_note_at_or_above_100_or_unset():
    assert not _notes(feeder([100.0, 120.0, float("nan")]))
