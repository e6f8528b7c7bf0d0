"""The union-find helper :class:`~feederopt.network.topology.DisjointSets` against brute force.

* On random small multigraphs (self-loops and parallel edges included) the sets after the
  unions are the connected components that a breadth-first search finds, and each
  :meth:`union` says True exactly when its edge joins two components of the edges before it
  (a breadth-first search over those edges alone).
* Items of any hashable type, added on first sight; :meth:`groups` in first-seen order.
* Union by size keeps the trees shallow: a chain of ``n`` unions leaves no item more than
  ``log2(n)`` steps below its representative.
* :func:`~feederopt.validation.base_case.base_loops`, one of its users, against the
  cyclomatic number ``m - n + c`` of the closed branches with the sources merged into one
  node (each closed path between two sources is a loop).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from feederopt.network.topology import DisjointSets
from feederopt.validation.base_case import base_loops


def _bfs_components(n: int, edges: list[tuple[int, int]]) -> list[frozenset[int]]:
    """The connected components of nodes ``0..n-1`` over ``edges`` (breadth-first search)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    seen = [False] * n
    out = []
    for s in range(n):
        if seen[s]:
            continue
        seen[s] = True
        part, queue = {s}, deque([s])
        while queue:
            for w in adj[queue.popleft()]:
                if not seen[w]:
                    seen[w] = True
                    part.add(w)
                    queue.append(w)
        out.append(frozenset(part))
    return out


def _reaches(n: int, edges: list[tuple[int, int]], a: int, b: int) -> bool:
    """Whether a path over ``edges`` joins ``a`` and ``b``."""
    return any(a in c and b in c for c in _bfs_components(n, edges))


@pytest.mark.parametrize("seed", range(60))
def test_sets_are_the_bfs_components(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    m = int(rng.integers(0, 2 * n + 1))
    edges = [(int(a), int(b)) for a, b in rng.integers(0, n, size=(m, 2))]
    sets: DisjointSets[int] = DisjointSets(range(n))
    for k, (a, b) in enumerate(edges):
        joined_before = _reaches(n, edges[:k], a, b)
        assert sets.union(a, b) is (not joined_before), (edges[: k + 1], a, b)
        assert sets.connected(a, b)
    expected = set(_bfs_components(n, edges))
    assert {frozenset(g) for g in sets.groups()} == expected
    for i in range(n):
        for j in range(n):
            together = any(i in c and j in c for c in expected)
            assert sets.connected(i, j) is together
            assert (sets.find(i) == sets.find(j)) is together


def test_items_of_any_type_are_added_on_first_sight() -> None:
    sets: DisjointSets[str] = DisjointSets()
    assert sets.find("a") == "a"
    assert not sets.connected("a", "b")
    assert sets.union("b", "c")
    assert sets.union("d", "b")
    assert not sets.union("c", "d")
    assert sets.groups() == [["a"], ["b", "c", "d"]]
    assert sets.find("c") in {"b", "c", "d"}


@pytest.mark.parametrize("new_first", [True, False])
def test_union_by_size_keeps_trees_shallow(new_first: bool) -> None:
    n = 1024
    sets: DisjointSets[int] = DisjointSets(range(n))
    for i in range(1, n):  # a fixed rule (first root below the second, or the second below
        # the first) makes a path of n items in one of the two orders
        sets.union(*((i, 0) if new_first else (0, i)))
    parent = sets._parent  # the tree itself, read without find's path halving
    deepest = 0
    for x in range(n):
        depth = 0
        while parent[x] != x:
            x, depth = parent[x], depth + 1
        deepest = max(deepest, depth)
    assert deepest <= math.log2(n)
    assert len(sets.groups()) == 1


@pytest.mark.parametrize("seed", range(30))
def test_base_loops_is_the_cyclomatic_number_with_sources_merged(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 10))
    m = int(rng.integers(0, 2 * n))
    f, t = rng.integers(0, n, size=m), rng.integers(0, n, size=m)
    closed = rng.random(m) < 0.7
    is_source = rng.random(n) < 0.3
    # the sources merged: one more node (the hub) joined to every source by an edge
    hub = n
    edges = [(int(a), int(b)) for a, b, c in zip(f, t, closed, strict=True) if c]
    edges += [(hub, int(s)) for s in np.flatnonzero(is_source)]
    parts = len(_bfs_components(n + 1, edges))
    # m - n + c of that graph: a path between two sources closes a loop through the hub
    expected = len(edges) - (n + 1) + parts
    assert base_loops(f, t, closed, is_source) == expected
