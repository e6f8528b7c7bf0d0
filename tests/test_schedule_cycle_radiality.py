"""Radiality of the schedule master by the edge count and the cycle rows alone
(``formulations.schedule.tree_by_cycles``, opt-in ``ScheduleData.cycle_radiality``; issue 18
session 53) against brute force: on the whole case33bw (26 simple cycles on its switch-block
graph) the 0/1 branch states that the first stage admits are exactly the spanning trees of the
grid (their number by Kirchhoff's matrix-tree theorem, and each one's own tree count 1), and
the master with it solves to the optimum of the enumerated radial topologies, as the
parent-child master does. With a fundamental cycle basis only, the same rows admit branch
states that are not radial (the check can fail)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from feederopt.algorithms.ccg import solve_deterministic
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.blocks import Sense
from feederopt.formulations.schedule import (
    ScheduleData,
    _loop_sets,
    first_stage_block,
    nominal,
    radiality_cycles,
    recourse_block,
    tree_by_cycles,
)
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers.highs_backend import HighsModel
from schedule_loop import one_loop_data


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return schedule_inputs("case33bw")


def _admitted(d: ScheduleData, block) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Every 0/1 ``y`` within the group's bounds that satisfies the block's rows on ``y``
    alone, enumerated over the sets of open branches of the size that the count row fixes."""
    y = block.groups["y"]
    free = np.flatnonzero(y.lb < y.ub)
    fixed = np.setdiff1d(np.arange(d.m), free)
    rows = [r for r in block.rows if set(r.terms) == {"y"}]
    count = [r for r in rows if r.sense is Sense.EQ]
    assert len(count) == 1  # the edge count: sum over the branches that may open
    a_eq = sp.csr_matrix(count[0].terms["y"]).toarray().ravel()
    assert set(a_eq[free]) == {1.0}
    n_open = len(free) - round(count[0].rhs[0] - a_eq[fixed] @ y.lb[fixed])
    opens = np.array(list(itertools.combinations(range(len(free)), n_open)))
    on = np.ones((len(opens), len(free)), np.float32)  # the free branches' states
    on[np.arange(len(opens))[:, None], opens] = 0.0
    ok = np.ones(len(on), bool)
    for r in rows:
        a = sp.csr_matrix(r.terms["y"]).toarray()
        lhs = on @ a[:, free].T.astype(np.float32) + a[:, fixed] @ y.lb[fixed]
        if r.sense is Sense.EQ:
            ok &= np.all(np.abs(lhs - r.rhs) < 1e-6, axis=1)
        elif r.sense is Sense.LE:
            ok &= np.all(lhs <= r.rhs + 1e-6, axis=1)
        else:
            ok &= np.all(lhs >= r.rhs - 1e-6, axis=1)
    ys = np.tile(y.lb, (int(ok.sum()), 1))
    ys[:, free] = on[ok]
    return ys


def _cost(d: ScheduleData, y: np.ndarray) -> float:
    """The forecast's second stage at topology ``y``, storage modes binary, at the master's
    MIP feasibility tolerance 1e-9 (``evaluate``'s default 1e-6 is ~2e-5 $ low here)."""
    rb = recourse_block(d, nominal(d))
    rb.groups["y"].lb = y.copy()
    rb.groups["y"].ub = y.copy()
    model = HighsModel(rb)
    model.set_gap(1e-9)
    model.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    sol = model.solve()
    assert sol.status == "optimal"
    return float(sol.objective)


def _spanning_trees(d: ScheduleData) -> int:
    """The number of spanning trees of the grid (Kirchhoff: any cofactor of the Laplacian)."""
    lap = np.zeros((d.n, d.n))
    for a, b in zip(d.f, d.t, strict=True):
        lap[a, a] += 1
        lap[b, b] += 1
        lap[a, b] -= 1
        lap[b, a] -= 1
    return round(float(np.linalg.det(lap[1:, 1:])))


def _trees(d: ScheduleData, ys: np.ndarray) -> np.ndarray:
    """Per row of ``ys``: the number of spanning trees of its closed branches (Kirchhoff), 1
    exactly when they are a spanning tree."""
    inc = np.zeros((d.n, d.m))
    inc[d.f, np.arange(d.m)] = 1.0
    inc[d.t, np.arange(d.m)] = -1.0
    inc = inc[1:]
    out = []
    for chunk in np.array_split(ys, max(1, len(ys) // 4000)):
        lap = (inc[None, :, :] * chunk[:, None, :]) @ inc.T
        out.append(np.linalg.det(lap))
    return np.rint(np.concatenate(out))


def test_cycle_rows_admit_exactly_the_spanning_trees(inputs) -> None:  # type: ignore[no-untyped-def]
    net, dev, prof = inputs
    d = replace(build_schedule_data(net, dev, prof, ScheduleSettings(hours=1)),
                cycle_radiality=True)
    cycles = radiality_cycles(d)
    assert cycles is not None and len(cycles) == 26  # every simple cycle, as networkx's
    block = first_stage_block(d)
    assert not any(g.startswith("beta") or g == "rad_depth" for g in block.groups)
    ys = _admitted(d, block)
    trees = _spanning_trees(d)
    assert trees == 50751  # case33bw's radial configurations (e.g. Taylor & Hover 2012)
    assert len(ys) == trees
    assert (_trees(d, ys) == 1).all()  # each a spanning tree: the admitted set is the trees
    # with the fundamental basis alone the count and cycle rows admit more than the trees
    # (a closed loop that is the sum of two basis cycles, a cut-off part elsewhere)
    basis = _loop_sets(d, max_basis=0)[0]
    assert len(basis) == 5
    loose = _admitted(d, tree_by_cycles(d, basis))
    assert len(loose) > trees  # all with d.n - 1 closed branches: some are no tree


def test_parent_child_beyond_the_cycle_cap(inputs) -> None:  # type: ignore[no-untyped-def]
    """The option is off by default (session 53: not faster), and with the cycles not all
    enumerated (a cyclomatic number above ``max_basis``) the master keeps parent-child."""
    net, dev, prof = inputs
    d = build_schedule_data(net, dev, prof, ScheduleSettings(hours=1))
    assert not d.cycle_radiality and radiality_cycles(d) is None
    assert "beta_fwd" in first_stage_block(d).groups
    assert _loop_sets(d, max_basis=4)[2] is False and _loop_sets(d)[2] is True


@pytest.mark.parametrize("hourly", [False, True])
def test_master_by_cycles_equals_enumeration(inputs, hourly: bool) -> None:  # type: ignore[no-untyped-def]
    """The tie-33 loop (10 radial topologies) and tie 37 usable too: the deterministic master
    with cycle radiality, and with parent-child, equals the best enumerated topology (one per
    day); with a topology per hour the two formulations agree."""
    base = one_loop_data(inputs, 2, eps=0.1)
    assert base.fixed_open is not None
    ids = [str(b) for b in inputs[0].branches["id"].to_list()]
    fixed_open = base.fixed_open.copy()
    fixed_open[ids.index("37")] = False
    d = replace(base, fixed_open=fixed_open, hourly=hourly,
                cycle_radiality=True)
    assert radiality_cycles(d) is not None
    g = nx.MultiGraph()
    g.add_nodes_from(range(d.n))
    for k in np.flatnonzero(~fixed_open):
        g.add_edge(int(d.f[k]), int(d.t[k]), key=int(k))
    tops = []
    for tree in nx.SpanningTreeIterator(g):
        y = np.zeros(d.m)
        y[[k for _, _, k in tree.edges(keys=True)]] = 1.0
        if (y[~d.switchable] == 1.0).all():
            tops.append(y)
    assert len(tops) > 10  # the second loop adds topologies
    values = [solve_deterministic(replace(d, cycle_radiality=on), gap=1e-9,
                                  time_limit_s=60.0).objective for on in (True, False)]
    if hourly:  # a topology per hour: parent-child is the reference
        assert values[0] == pytest.approx(values[1], rel=1e-6, abs=1e-6)
    else:
        best = min(_cost(d, y) for y in tops)
        assert values == pytest.approx([best, best], rel=1e-6, abs=1e-6)
