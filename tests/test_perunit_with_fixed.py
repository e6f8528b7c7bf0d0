"""``PerUnitNetwork.with_fixed``: the one place where branches are fixed in the per-unit model
(the holds and presolve's forced closings). Truth: hand sums of case33bw's branch table with
a switching cost per branch written in."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

import feederopt
from feederopt.network.perunit import to_per_unit


def test_fixed_branches_stop_switching_and_moved_ones_are_charged() -> None:
    net = feederopt.load("case33bw")
    cost = [float(k + 1) for k in range(net.branches.height)]  # branch k costs k + 1 kW
    net = net.replace(branches=net.branches.with_columns(pl.Series("switch_cost_kw", cost)))
    pu = to_per_unit(net.check())
    tie = int(np.flatnonzero(pu.normally_open)[0])  # normally open: closing it is an action
    line, other = 3, 7  # normally closed: opening one is an action, holding one closed not
    not_switchable = 10
    pu = replace(pu, switchable=pu.switchable.copy())
    pu.switchable[not_switchable] = False
    closed = np.zeros(pu.n_branch, bool)
    opened = np.zeros(pu.n_branch, bool)
    closed[[tie, other]] = True
    opened[[line, not_switchable]] = True
    out = pu.with_fixed(closed, opened)
    # charged: the tie closed and the line opened; not the line held closed as it is, nor the
    # branch that could not switch anyway
    assert out.fixed_switching_kw == (tie + 1) + (line + 1)
    assert not out.switchable[[tie, other, line, not_switchable]].any()
    assert out.switchable.sum() == pu.switchable.sum() - 3
    assert not out.normally_open[tie] and not out.normally_open[other]
    assert out.normally_open[line] and out.normally_open[not_switchable]
    # the rest unchanged, the original untouched, and the constant accumulates
    rest = ~(closed | opened)
    assert (out.normally_open[rest] == pu.normally_open[rest]).all()
    assert pu.fixed_switching_kw == 0.0 and pu.normally_open[tie]
    again = out.with_fixed(np.eye(pu.n_branch, dtype=bool)[int(np.flatnonzero(
        out.normally_open & out.switchable)[0])])
    assert again.fixed_switching_kw > out.fixed_switching_kw
