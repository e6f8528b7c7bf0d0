"""A pandapower controllable sgen read by feederopt (user test ut47_recheck #4).

1. ``p_mw`` outside ``[min_p_mw, max_p_mw]`` was refused in a table folder's words
   ("p_min_mw and p_max_mw ... (empty cells)"); it is named by pandapower's columns
   (net.sgen.p_mw, min_p_mw, max_p_mw), as the inverted and negative ranges are
   (tests/test_dopf_error_fields.py). The set-point checked is pandapower's: ``p_mw x
   scaling`` (runpp's res_sgen.p_mw, the truth below).
2. ``create_sgen(..., max_p_mw=nan)`` leaves the column out of ``net.sgen``, and the reader
   took the sgen's p_mw as its upper limit in silence; a note says so now. Truth: pandapower's
   own OPF (runopp) fails on that net, as the note says.
"""

from __future__ import annotations

import math

import pytest

import feederopt
from feederopt.errors import InputError

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")


def _net(**kw):
    n = pn.case33bw()
    pp.create_sgen(n, 17, **{"p_mw": 0.9, "q_mvar": 0.0, "controllable": True,
                             "min_p_mw": 0.0, "max_p_mw": 0.5, "min_q_mvar": -0.1,
                             "max_q_mvar": 0.1, **kw})
    return n


def test_p_mw_outside_the_opf_limits_is_named_by_pandapower_columns() -> None:
    with pytest.raises(InputError) as err:
        feederopt.load(_net())
    probs = [p for p in err.value.problems if "sgen:0" in p.ids]
    assert len(probs) == 1, err.value
    (prob,) = probs
    assert prob.field == "p_mw"
    assert "min_p_mw..max_p_mw = 0..0.5" in prob.message and "0.9" in prob.message
    text = f"{prob.message} {prob.hint}"
    assert "net.sgen" in text
    assert "p_min_mw" not in text and "empty cells" not in text


def test_the_set_point_checked_is_p_mw_times_scaling() -> None:
    n = _net(scaling=0.5)  # 0.9 x 0.5 = 0.45 in 0..0.5
    pp.runpp(n)
    assert n.res_sgen.at[0, "p_mw"] == pytest.approx(0.45)
    read = feederopt.load(n)
    row = read.generators.filter(read.generators["id"] == "sgen:0")
    assert row["p_mw"][0] == pytest.approx(0.45)
    assert (row["p_min_mw"][0], row["p_max_mw"][0]) == (0.0, 0.5)


def test_an_absent_max_p_mw_column_is_said_in_a_note() -> None:
    n = _net(max_p_mw=math.nan)
    assert "max_p_mw" not in n.sgen.columns  # the premise: create_sgen leaves it out
    with pytest.raises(Exception, match="OPF parameters"):
        pp.runopp(n)  # pandapower's OPF fails on it
    read = feederopt.load(_net(max_p_mw=math.nan))
    row = read.generators.filter(read.generators["id"] == "sgen:0")
    assert row["p_max_mw"][0] == pytest.approx(0.9)  # the sgen's p_mw, as read
    notes = [w for w in read.meta.get("warnings", []) if "no max_p_mw column" in w]
    assert len(notes) == 1, read.meta.get("warnings")
    assert "sgen:0: max_p_mw 0.9" in notes[0] and "runopp" in notes[0]
    full = feederopt.load(_net(p_mw=0.4))  # every column given: no such note
    assert not [w for w in full.meta.get("warnings", []) if "column" in w and "sgen" in w]


def _plain_sgen_net(drop_flag: bool):
    """The tester's repro (ut48_simb #1): an sgen of ``create_sgen``'s defaults, no OPF
    limit column; with ``drop_flag`` no ``controllable`` column either (pn.mv_oberrhein)."""
    n = pp.create_empty_network()
    b0, b1 = pp.create_bus(n, 20), pp.create_bus(n, 20)
    pp.create_ext_grid(n, b0)
    pp.create_line(n, b0, b1, 1, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_load(n, b1, 1.0, 0.2)
    pp.create_sgen(n, b1, 0.5)
    if drop_flag:
        n.sgen = n.sgen.drop(columns="controllable")
    return n


@pytest.mark.parametrize("drop_flag", [False, True])
def test_an_sgen_not_controllable_has_no_opf_limit_note(drop_flag: bool) -> None:
    """ut48_simb #1: every sgen without OPF limit columns was called a "controllable sgen"
    whose limits were read at defaults, and "pandapower's OPF (runopp) fails on such a
    net". Truth: pandapower's own flag (False, or no column) and runopp converging."""
    n = _plain_sgen_net(drop_flag)
    assert "min_p_mw" not in n.sgen.columns  # the premise: no OPF limit column
    assert drop_flag or n.sgen.controllable.tolist() == [False]
    pp.runopp(n)
    assert n.OPF_converged  # the note's claim was false
    read = feederopt.load(_plain_sgen_net(drop_flag))
    assert not [w for w in read.meta.get("warnings", []) if "controllable sgen" in w], \
        read.meta.get("warnings")
    row = read.generators.filter(read.generators["id"] == "sgen:0")
    assert (row["p_min_mw"][0], row["p_max_mw"][0]) == (0.5, 0.5)  # held at its p_mw
    # the same sgen made controllable with only min_p_mw given does get the note
    n = _plain_sgen_net(False)
    n.sgen["controllable"] = True
    n.sgen["min_p_mw"], n.sgen["min_q_mvar"], n.sgen["max_q_mvar"] = 0.0, -0.1, 0.1
    read = feederopt.load(n)
    notes = [w for w in read.meta.get("warnings", []) if "controllable sgen" in w]
    assert len(notes) == 1 and "sgen:0: max_p_mw 0.5" in notes[0], notes
