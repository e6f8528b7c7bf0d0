"""The radiality model on the blocks of buses that no switch separates keeps every radial
configuration and nothing else.

On random small meshed grids (one or two sources) with a random forest of non-switchable
branches, the switch states that make the grid radial are listed by brute force (a
union-find over every subset of the switchable branches, independent of the formulations).
For random costs on the switch states, the parent-child model written on the blocks
(``contract=True``) and the one written on the buses give, solved by HiGHS, the minimum of
the enumeration; the contracted model has fewer integer variables when a branch is fixed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from feederopt.formulations.radiality import parent_child
from feederopt.network.topology import switch_blocks
from feederopt.solvers.highs_backend import HighsModel


def _find(parent: list[int], a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def radial(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray, src: np.ndarray) -> bool:
    """Union-find: the closed branches form a forest in which each tree has one source."""
    parent = list(range(n))
    for a, b in zip(f[closed], t[closed], strict=True):
        ra, rb = _find(parent, int(a)), _find(parent, int(b))
        if ra == rb:
            return False
        parent[ra] = rb
    roots = [_find(parent, i) for i in range(n)]
    per_tree = dict.fromkeys(roots, 0)
    for i in np.flatnonzero(src):
        per_tree[roots[i]] += 1
    return all(c == 1 for c in per_tree.values())


def random_grid(seed: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n, f, t, is_source, switchable): a random tree plus extra branches; some branches
    (a forest joining no two sources) fixed closed."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 10))
    edges = {(int(rng.integers(0, j)), j) for j in range(1, n)}
    for _ in range(int(rng.integers(1, 5))):
        a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        edges.add((a, b))
    f = np.array([a for a, _ in sorted(edges)])
    t = np.array([b for _, b in sorted(edges)])
    src = np.zeros(n, dtype=bool)
    src[0] = True
    if n >= 6 and rng.random() < 0.5:
        src[n - 1] = True
    switchable = np.ones(len(f), dtype=bool)
    parent = list(range(n))
    for k in rng.permutation(len(f)):
        if rng.random() < 0.4:
            ra, rb = _find(parent, int(f[k])), _find(parent, int(t[k]))
            fixed_sources = {_find(parent, int(s)) for s in np.flatnonzero(src)}
            if ra != rb and not (ra in fixed_sources and rb in fixed_sources):
                parent[ra] = rb
                switchable[k] = False
    return n, f, t, src, switchable


def enumerated(n: int, f: np.ndarray, t: np.ndarray, src: np.ndarray,
               switchable: np.ndarray) -> list[np.ndarray]:
    out = []
    free = np.flatnonzero(switchable)
    for states in itertools.product((False, True), repeat=len(free)):
        closed = ~switchable.copy()
        closed[free] = states
        if radial(n, f, t, closed, src):
            out.append(closed.astype(float))
    return out


def minimum(n: int, f: np.ndarray, t: np.ndarray, src: np.ndarray, switchable: np.ndarray,
            cost: np.ndarray, contract: bool) -> float:
    model = HighsModel(parent_child(n, f, t, src, switchable, contract=contract),
                       objective={"y": cost})
    sol = model.solve()
    return sol.objective if sol.has_solution else np.inf


@pytest.mark.parametrize("seed", range(25))
def test_contracted_parent_child_keeps_every_radial_configuration(seed: int) -> None:
    n, f, t, src, switchable = random_grid(seed)
    configurations = enumerated(n, f, t, src, switchable)
    assert configurations, "a tree plus fixed branches always has a radial configuration"
    rng = np.random.default_rng(1000 + seed)
    for _ in range(3):
        cost = rng.normal(size=len(f))
        best = min(float(cost @ y) for y in configurations)
        assert minimum(n, f, t, src, switchable, cost, contract=True) == pytest.approx(
            best, abs=1e-6)
        assert minimum(n, f, t, src, switchable, cost, contract=False) == pytest.approx(
            best, abs=1e-6)
    _labels, has_source = switch_blocks(n, f, t, switchable, src)
    assert len(has_source) == n - int((~switchable).sum())  # the fixed branches form a forest
    assert has_source.sum() == src.sum()
