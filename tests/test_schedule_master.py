"""The tightened schedule master (issue 18) is an exact reformulation: the perspective loss
tangents, the bridges fixed closed, the loop and chain rows and the per-branch flow bounds keep
every radial topology's value, and the master's optimum equals enumeration over the radial
topologies (networkx) and the plain formulation (plain tangents, no loop rows, one flow bound)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import feederopt.algorithms.ccg as ccg
import feederopt.formulations.schedule as fs
from feederopt.algorithms.ccg import evaluate, master_block, solve_deterministic
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import (
    ScheduleData,
    always_closed,
    flow_bounds,
    loop_sets,
    nominal,
)
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers.highs_backend import HighsModel
from schedule_loop import one_loop_data


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return schedule_inputs("case33bw")


@pytest.fixture(scope="module")
def full3(inputs) -> ScheduleData:  # type: ignore[no-untyped-def]
    net, dev, prof = inputs
    return build_schedule_data(net, dev, prof, ScheduleSettings(hours=3, gamma=0.1))


def _graph(d: ScheduleData, usable: np.ndarray) -> nx.MultiGraph:
    g = nx.MultiGraph()
    g.add_nodes_from(range(d.n))
    for k in np.flatnonzero(usable):
        g.add_edge(int(d.f[k]), int(d.t[k]), key=int(k))
    return g


def _radial_topologies(d: ScheduleData) -> list[np.ndarray]:
    """Every spanning tree (networkx's iterator) of the branches that are not fixed open and
    that contains the non-switchable ones: the radial topologies serving every bus."""
    usable = ~d.fixed_open if d.fixed_open is not None else np.ones(d.m, bool)
    out = []
    for tree in nx.SpanningTreeIterator(_graph(d, usable)):
        y = np.zeros(d.m)
        y[[k for _, _, k in tree.edges(keys=True)]] = 1.0
        if (y[~d.switchable] == 1.0).all():
            out.append(y)
    return out


def _random_trees(d: ScheduleData, count: int, seed: int) -> list[np.ndarray]:
    """Random spanning trees of the whole grid (Kruskal on random weights, networkx)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        g = nx.Graph()
        for k in range(d.m):
            g.add_edge(int(d.f[k]), int(d.t[k]), weight=float(rng.random()), k=k)
        y = np.zeros(d.m)
        y[[e["k"] for _, _, e in nx.minimum_spanning_tree(g).edges(data=True)]] = 1.0
        out.append(y)
    return out


def _violations(y: np.ndarray, cycles: list[np.ndarray], chains: list[np.ndarray]) -> int:
    bad = sum(int((1.0 - y[c]).sum() < 1.0) for c in cycles)
    return bad + sum(int((1.0 - y[c]).sum() > 1.0) for c in chains)


def test_loop_sets_are_the_graph_cycles_and_hold_for_every_tree(inputs) -> None:  # type: ignore[no-untyped-def]
    net, dev, prof = inputs
    d = build_schedule_data(net, dev, prof, ScheduleSettings(hours=1))
    cycles, chains = loop_sets(d)
    # the cycles are exactly networkx's simple cycles (case33bw has no parallel branches)
    index = {frozenset((int(a), int(b))): k for k, (a, b) in enumerate(zip(d.f, d.t, strict=True))}
    ref = {frozenset(index[frozenset((c[i], c[(i + 1) % len(c)]))] for i in range(len(c)))
           for c in nx.simple_cycles(nx.Graph(list(zip(d.f.tolist(), d.t.tolist(),
                                                       strict=True))))}
    assert {frozenset(c.tolist()) for c in cycles} == ref
    assert len(ref) > len(nx.cycle_basis(nx.Graph(list(zip(d.f.tolist(), d.t.tolist(),
                                                           strict=True)))))
    assert chains and all(len(c) >= 2 for c in chains)
    trees = _random_trees(d, 300, seed=4)
    closed = always_closed(d)
    assert closed.any()
    for y in trees:
        assert (y[closed] == 1.0).all()
        assert _violations(y, cycles, chains) == 0
    # the check can fail: a path (a cycle less one branch) is not a valid "cycle", nor is a
    # chain plus one more branch
    path = cycles[0][1:]
    assert any(_violations(y, [path], []) for y in trees)
    longer = np.append(chains[0], next(k for k in range(d.m) if k not in chains[0]
                                       and not closed[k]))
    assert any(_violations(y, [], [longer]) for y in trees)


def _pwl(d: ScheduleData, flow: np.ndarray) -> np.ndarray:
    """The plain tangent outer approximation ``max(0, max_a r (2 a |P| - a^2))`` per entry."""
    r = np.tile(d.r, d.hours)
    a = np.asarray(d.tangents)[:, None]
    return np.maximum(0.0, (r * (2 * a * np.abs(flow) - a * a)).max(axis=0))


def test_master_equals_enumeration_and_plain_tangents(inputs) -> None:  # type: ignore[no-untyped-def]
    d = one_loop_data(inputs, 3, eps=0.1)
    topologies = _radial_topologies(d)
    assert len(topologies) == 10
    values = []
    for y in topologies:
        cost, pt = evaluate(d, {"y": y}, nominal(d))
        # the perspective rows at a binary y are the plain tangents: recompute the cost from
        # the flows (an open branch carries nothing)
        open_ = np.tile(y, d.hours) < 0.5
        assert np.abs(pt["P"][open_]).max(initial=0.0) < 1e-9
        H = d.hours
        ref = (d.c_loss * (_pwl(d, pt["P"]).sum() + _pwl(d, pt["Q"]).sum())
               + d.c_buy * pt["ps"].sum() + d.c_shed * (pt["pr"].sum() + pt["short"].sum())
               + float(np.tile(d.dg_cost, H) @ pt["pdg"]) + d.c_spill * pt["spill"].sum())
        assert cost == pytest.approx(ref, rel=1e-4)  # LP tolerances of ~10^3 rows
        values.append(cost)
    sol = solve_deterministic(d, gap=1e-9, time_limit_s=60.0)
    assert sol.objective == pytest.approx(min(values), rel=1e-6, abs=1e-6)


def test_lazy_loss_tangents_added_back_equal_enumeration(inputs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The master leaves the loss tangents above ``LAZY_TANGENT`` out and adds back those a
    solution violates. With the threshold lowered to 0.05 MW (the 3 h flows reach ~0.4 MW) rows
    must come back, and the optimum is still the enumerated one (all tangents, every radial
    topology by the LP)."""
    d = one_loop_data(inputs, 3, eps=0.1)
    best = min(evaluate(d, {"y": y}, nominal(d))[0] for y in _radial_topologies(d))
    added: list[bool] = []
    original = ccg._LazyTangents.add_violated

    def spy(self, model, vals, tol=1e-9):  # type: ignore[no-untyped-def]
        added.append(original(self, model, vals, tol))
        return added[-1]

    monkeypatch.setattr(ccg._LazyTangents, "LAZY_TANGENT", 0.05)
    monkeypatch.setattr(ccg._LazyTangents, "add_violated", spy)
    sol = solve_deterministic(d, gap=1e-9, time_limit_s=60.0)
    assert any(added) and not added[-1]
    assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-6)


def _plain(block_of, d: ScheduleData, monkeypatch) -> HighsModel:  # type: ignore[no-untyped-def]
    """The master of the plain formulation: tangents without ``y``, no loop or chain rows, no
    bridge fixed, the one flow bound ``flow_max``."""
    with monkeypatch.context() as mp:
        mp.setattr(fs, "loop_rows", lambda *a, **k: None)
        mp.setattr(fs, "always_closed", lambda d: ~d.switchable & ~fs._fixed_open(d))
        mp.setattr(fs, "flow_bounds", lambda d: (np.full((d.hours, d.m), d.flow_max),
                                                 np.full((d.hours, d.m), d.flow_max_q)))
        block = block_of()
    for rows in block.rows:
        if ".loss_" in rows.name:
            ya = rows.terms.pop("y")
            rows.rhs = -np.asarray(sp.csr_matrix(ya) @ np.ones(d.m)).ravel()
    assert not any(".loop" in r.name or ".chain" in r.name for r in block.rows)
    return HighsModel(block)


def test_master_equals_plain_formulation_case33bw_3h(full3, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    d = full3
    objs = []
    for model in (HighsModel(master_block(d, [nominal(d)])),
                  _plain(lambda: master_block(d, [nominal(d)]), d, monkeypatch)):
        model.set_gap(1e-6)
        model.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        model.set_time_limit(60.0)
        sol = model.solve()
        assert sol.status == "optimal"
        objs.append(sol.objective)
    # both within their 1e-6 gap of one optimum
    assert objs[0] == pytest.approx(objs[1], rel=2e-6)


def test_flow_bounds_keep_every_topology_value(full3, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``Q(y, xi)`` with the per-branch bounds equals ``Q`` with a loose one, for random radial
    topologies and extreme realisations (all loads up, all down with the renewables short)."""
    d = replace(full3, budget_load=np.full(full3.n, 3.0))
    size = d.hours * d.n
    ups = {**nominal(d), "xp": np.ones(size)}
    downs = {**nominal(d), "xm": np.ones(size), "xr": np.ones(d.hours * len(d.res_bus))}
    fp, _ = flow_bounds(d)
    assert (fp <= d.flow_max).all() and (fp < d.flow_max).any()
    loose = (np.full((d.hours, d.m), 1e3), np.full((d.hours, d.m), 1e3))
    for y, xi in itertools.product(_random_trees(d, 3, seed=18), (ups, downs)):
        x = {"y": y, "z": np.zeros(d.hours * len(d.ess_bus))}
        tight, pt = evaluate(d, x, xi)
        with monkeypatch.context() as mp:
            mp.setattr(fs, "flow_bounds", lambda d: loose)
            ref, _ = evaluate(d, x, xi)
        assert tight == pytest.approx(ref, rel=1e-7, abs=1e-7)
        # the comparison can fail: bounds below the flows found raise the cost
        with monkeypatch.context() as mp:
            cut = np.abs(pt["P"]).reshape(d.hours, d.m).max() * 0.5
            mp.setattr(fs, "flow_bounds", lambda d, c=cut: (np.full((d.hours, d.m), c),
                                                           loose[1]))
            assert evaluate(d, x, xi)[0] > ref + 1e-6
