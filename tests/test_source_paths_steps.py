"""The depth-first enumeration of a generator bus's paths to the sources
(:func:`feederopt.algorithms.probing.source_paths`) against networkx, and its step limit: a
meshed part that leads nowhere made it run for minutes per bus (MATPOWER's case_ACTIVSg200:
``solve --time-limit 30`` did not return; now 7 s)."""

from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

import networkx as nx
import numpy as np

from feederopt.algorithms import probing
from feederopt.algorithms.probing import source_paths


def _pu(edges: list[tuple[int, int]], n: int, sources: list[int]) -> SimpleNamespace:
    is_source = np.zeros(n, bool)
    is_source[sources] = True
    return SimpleNamespace(n_bus=n, n_branch=len(edges), f=np.array([a for a, _ in edges]),
                           t=np.array([b for _, b in edges]), is_source=is_source)


def test_paths_are_networkx_simple_paths_to_the_merged_sources() -> None:
    # a 3 x 4 grid graph with two sources on one side; bus 11 holds its voltage
    g = nx.grid_2d_graph(3, 4)
    index = {v: k for k, v in enumerate(sorted(g.nodes))}
    edges = [(index[a], index[b]) for a, b in g.edges]
    pu = _pu(edges, len(index), [0, 4])
    found = source_paths(pu, 11, 10_000)
    assert found is not None
    # truth: networkx's simple paths in the graph with the sources merged into one node
    h = nx.MultiGraph()
    hub = "hub"
    name = {k: (hub if k in (0, 4) else k) for k in range(len(index))}
    for k, (a, b) in enumerate(edges):
        if name[a] != name[b]:
            h.add_edge(name[a], name[b], key=k)
    truth = {tuple(sorted(k for _, _, k in p))
             for p in nx.all_simple_edge_paths(h, 11, hub)}
    assert {tuple(sorted(p)) for p in found} == truth
    assert len(found) == len(truth) > 10
    assert source_paths(pu, 11, len(truth) - 1) is None  # the path limit


def test_a_dense_dead_end_stops_at_the_step_limit() -> None:
    # bus 1 (the generator's) hangs off the source 0; a complete graph on 12 buses is attached
    # at bus 1 only, so every partial path into it leads nowhere: about e * 11! ~ 1e8 steps
    # without a limit, for the one path 1 -> 0
    clique = list(range(1, 13))
    edges = [(0, 1), *combinations(clique, 2)]
    pu = _pu(edges, 13, [0])
    assert source_paths(pu, 1, 200) is None
    limit = probing.PATH_STEPS_PER_PATH * 200 + probing.PATH_STEPS_PER_BRANCH * len(edges)
    assert limit < 10**5
    # without the dead end the one path is found
    assert source_paths(_pu([(0, 1), (1, 2)], 3, [0]), 1, 200) == [[0]]
