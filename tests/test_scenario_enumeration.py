"""Scenario mode on grids with few radial topologies: enumerated, proven (user test ut41_unc #1).

On CIGRE MV with PV/wind and switches on lines 1-9 and 11 (184 radial topologies, 3 weighted
scenarios), the multi-cut master stalled: its Jensen bound at the mean load lies far below the
expected losses where a PV scenario cancels the load, and it rose 0.5-3 kW per iteration (90 s:
``time_limit`` at a 45 % gap). The truth is ut41_unc's brute force with pandapower, written
before this fix (``brute2_1end.py``: every one of the 184 radial topologies, a Newton-Raphson
power flow per scenario): open lines 5, 7 and 9, expected AC losses 219.863 kW, all limits held,
the runner-up 235.807 kW. The SOCP is exact on this grid, so the model's optimum is that one.

The enumeration of radial topologies itself is checked against itertools and a union-find.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

from feederopt import load
from feederopt.network.topology import radial_topologies, spanning_tree_count, spanning_trees
from feederopt.solvers.status import Status
from feederopt.uncertainty import solve_scenarios


def _radial(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray,
            sources: np.ndarray) -> bool:
    """Union-find: a forest in which every tree holds exactly one source, every bus in one."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for k in np.flatnonzero(closed):
        a, b = find(int(f[k])), find(int(t[k]))
        if a == b:
            return False
        parent[a] = b
    roots = [find(i) for i in range(n)]
    per_tree: dict[int, int] = {}
    for i in range(n):
        per_tree[roots[i]] = per_tree.get(roots[i], 0) + int(sources[i])
    return all(c == 1 for c in per_tree.values())


@pytest.mark.parametrize("seed", range(6))
def test_radial_topologies_are_those_of_a_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 8))
    edges = [(int(rng.integers(0, j)), j) for j in range(1, n)]  # a spanning tree
    edges += [tuple(int(x) for x in rng.choice(n, 2, replace=False)) for _ in range(3)]
    edges.append(edges[-1])  # a parallel branch
    edges.append((1, 1))  # a self-loop: never closed
    f = np.array([a for a, _ in edges])
    t = np.array([b for _, b in edges])
    switchable = rng.random(len(edges)) < 0.8
    switchable[-1] = True
    sources = np.zeros(n, bool)
    sources[0] = True
    sources[n - 1] = seed % 2 == 1  # two substations on odd seeds
    truth = {closed.tobytes() for closed in (np.array(c, bool) for c in itertools.product(
        [False, True], repeat=len(edges)))
        if np.all(closed | switchable) and _radial(n, f, t, closed, sources)}
    got = radial_topologies(n, f, t, switchable, sources)
    assert got is not None
    assert {c.tobytes() for c in got} == truth and len(got) == len(truth)
    if len(truth) > 1:
        assert radial_topologies(n, f, t, switchable, sources, limit=len(truth) - 1) is None


def test_spanning_tree_count_is_kirchhoffs() -> None:
    # K4 has 4^2 = 16 spanning trees (Cayley); a double edge doubles a tree's choices
    f, t = zip(*itertools.combinations(range(4), 2), strict=True)
    assert spanning_tree_count(4, np.array(f), np.array(t)) == pytest.approx(16)
    assert len(spanning_trees(4, np.array(f), np.array(t)) or []) == 16
    assert spanning_tree_count(3, np.array([0, 0, 1]), np.array([1, 1, 2])) == pytest.approx(2)
    assert spanning_tree_count(3, np.array([0]), np.array([1])) == 0.0


def _cigre_with_switches() -> pp.pandapowerNet:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    for line in [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]:
        pp.create_switch(net, bus=int(net.line.from_bus[line]), element=line, et="l",
                         closed=True, name=f"SW{line}")
    return net


Spec = tuple[str, float, float, list[tuple[int, float, float]]]


def scenario_table(net: pp.pandapowerNet, specs: list[Spec]) -> pl.DataFrame:
    """A scenario table: per ``(name, weight, factor, extra)`` every load of ``net`` scaled
    by ``factor`` and the bus injections ``extra`` (``(bus, p_mw, q_mvar)``: heat pumps, PV
    as negative load, EV chargers)."""
    rows = []
    for name, weight, factor, extra in specs:
        for i, r in net.load.iterrows():
            rows.append({"scenario": name, "kind": "load", "element": f"load:{i}",
                         "p_mw": r.p_mw * factor, "q_mvar": r.q_mvar * factor,
                         "weight": weight})
        for bus, p, q in extra:
            rows.append({"scenario": name, "kind": "bus", "element": str(bus), "p_mw": p,
                         "q_mvar": q, "weight": weight})
    return pl.DataFrame(rows)


def _cigre_scenarios(net: pp.pandapowerNet) -> pl.DataFrame:
    return scenario_table(net, [
        ("winter_peak", 2.0, 1.0, [(11, 0.8, 0.26), (9, 0.8, 0.26), (10, 0.6, 0.2)]),
        ("pv_noon", 1.0, 0.55, [(5, -2.0, 0.0), (9, -2.5, 0.0), (10, -1.5, 0.0)]),
        ("ev_evening", 1.0, 0.9, [(11, 0.6, 0.0), (3, 0.5, 0.0), (8, 0.4, 0.0)])])


def test_scenarios_on_cigre_with_184_radial_topologies_are_proven_optimal() -> None:
    """On main: ``time_limit`` after 20 s at a gap of about 50 %; now optimal in seconds."""
    raw_net = _cigre_with_switches()
    net = load(raw_net)
    res = solve_scenarios(net, _cigre_scenarios(raw_net), gap=0.01, time_limit=20.0,
                          ac_check=False)
    assert res.status is Status.OPTIMAL
    assert res.gap <= 0.01
    assert {b["id"] for b in res.open_branches} == {"line:5", "line:7", "line:9"}
    assert res.objective == pytest.approx(219.863, abs=0.01)  # the brute force's
    assert res.lower_bound <= res.objective + 1e-9
    assert "enumeration of 184 radial topologies" in res.solver  # the brute force's count
