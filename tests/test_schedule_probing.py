"""Switch probing of the schedule master (issue 18, ``algorithms/schedule_probing.py``) against
enumeration: on case33bw with two tie switches usable (101 radial topologies, networkx), every
probe value is a lower bound of every topology that opens its branch, the tree's value is that
topology's own cost, no branch fixed closed is open in an optimal topology, and the master with
the fixings keeps the enumerated optimum."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from feederopt.algorithms.ccg import master_block
from feederopt.algorithms.schedule_probing import probe_switches
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import ScheduleData, nominal, recourse_block
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers.highs_backend import HighsModel

TIES = ("33", "34", "35", "36", "37")


@pytest.fixture(scope="module")
def two_loops() -> ScheduleData:
    inputs = schedule_inputs("case33bw")
    return build_schedule_data(*inputs, ScheduleSettings(
        hours=2, fixed_open=tuple(t for t in TIES if t not in ("33", "37"))))


def _topologies(d: ScheduleData) -> list[np.ndarray]:
    g = nx.MultiGraph()
    g.add_nodes_from(range(d.n))
    assert d.fixed_open is not None
    for k in np.flatnonzero(~d.fixed_open):
        g.add_edge(int(d.f[k]), int(d.t[k]), key=int(k))
    out = []
    for tree in nx.SpanningTreeIterator(g):
        y = np.zeros(d.m)
        y[[k for _, _, k in tree.edges(keys=True)]] = 1.0
        out.append(y)
    return out


def _cost(d: ScheduleData, y: np.ndarray) -> float:
    """The forecast's second stage at topology ``y`` (the storage modes free binaries), with
    HiGHS's MIP feasibility tolerance at 1e-9 as the master's: at the default 1e-6 every loss
    row may be short by 1e-6 MW, which on 2 x 37 rows moves the cost by ~2e-4 $."""
    rb = recourse_block(d, nominal(d))
    rb.groups["y"].lb = y.copy()
    rb.groups["y"].ub = y.copy()
    model = HighsModel(rb)
    model.set_gap(1e-9)
    model.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    sol = model.solve()
    assert sol.status == "optimal"
    return float(sol.objective)


def _master(d: ScheduleData) -> HighsModel:
    """The master as ``ccg._solve_master`` first solves it: storage modes continuous."""
    import highspy

    model = HighsModel(master_block(d, [nominal(d)]))
    model.set_gap(1e-9)
    model.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    z = (model.offset["z"] + np.arange(d.hours * len(d.ess_bus))).astype(np.int32)
    model.h.changeColsIntegrality(len(z), z, np.full(len(z), highspy.HighsVarType.kContinuous))
    return model


def test_probing_never_cuts_the_optimum(two_loops: ScheduleData) -> None:
    d = two_loops
    tops = _topologies(d)
    assert len(tops) == 101
    cost = np.array([_cost(d, y) for y in tops])
    best = float(cost.min())
    model = _master(d)
    found = probe_switches(d, model, 60.0)
    assert found.probed > 0 and found.tree is not None
    # each probe bounds every topology that opens its branch (the LP's tolerance aside)
    for b, v in found.values.items():
        opening = cost[[y[b] < 0.5 for y in tops]]
        if len(opening):
            assert v <= opening.min() + 1e-6 * max(1.0, abs(v))
    # the tree is a radial topology and its value is its cost
    k = next(i for i, y in enumerate(tops) if np.array_equal(y, found.tree))
    assert found.upper >= cost[k] * (1 - 1e-6)  # the modes fixed by a rule: at least its cost
    assert found.root <= best + 1e-9 and found.loop_bound <= best + 1e-6
    # the fixings are the point: some branch is fixed, and none is open in an optimum
    assert found.closed
    optimal = [y for y, c in zip(tops, cost, strict=True) if c <= best * (1 + 1e-9)]
    for b in found.closed:
        assert all(y[b] == 1.0 for y in optimal)
        assert cost[[y[b] < 0.5 for y in tops]].min(initial=np.inf) > found.upper - 1e-9
    # and the master with them solves to the enumerated optimum
    model.set_time_limit(60.0)
    sol = model.solve()
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, rel=1e-6)
