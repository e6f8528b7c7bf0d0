"""Graph helpers: islands, radiality and loops of a network or of a chosen topology."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _cc

if TYPE_CHECKING:
    from feederopt.network.container import Network


def components_of(
    n: int, f: Sequence[int] | np.ndarray, t: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Label of the connected component of each of ``n`` nodes joined by edges (f, t)."""
    f = np.asarray(f, dtype=int)
    t = np.asarray(t, dtype=int)
    graph = coo_matrix((np.ones(len(f)), (f, t)), shape=(n, n))
    _, labels = _cc(graph, directed=False)
    return np.asarray(labels)


def connected_components(net: Network, include_open: bool = True) -> list[set[str]]:
    """Sets of bus ids that in-service branches join (normally-open ones too if asked)."""
    br = net.branches.filter(pl.col("in_service"))
    if not include_open:
        br = br.filter(~pl.col("normally_open"))
    ids = net.buses["id"].to_list()
    index = {b: i for i, b in enumerate(ids)}
    f = [index[b] for b in br["from_bus"].to_list()]
    t = [index[b] for b in br["to_bus"].to_list()]
    labels = components_of(len(ids), f, t)
    groups: dict[int, set[str]] = {}
    for bus, lab in zip(ids, labels, strict=True):
        groups.setdefault(int(lab), set()).add(bus)
    return list(groups.values())


def is_radial_forest(
    n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray, sources: np.ndarray
) -> tuple[bool, str]:
    """Is the closed subgraph a forest in which every tree holds exactly one source bus?

    Returns ``(ok, reason)``. ``sources`` is a boolean mask over buses.
    """
    fc, tc = f[closed], t[closed]
    labels = components_of(n, fc, tc)
    n_comp = labels.max() + 1 if n else 0
    # A graph is a forest iff edges = nodes - components.
    if len(fc) != n - n_comp:
        return False, f"{len(fc)} closed branches for {n} buses in {n_comp} parts: a loop"
    src_per_comp = np.bincount(labels[sources], minlength=n_comp)
    if np.any(src_per_comp == 0):
        return False, "a part of the grid has no source"
    if np.any(src_per_comp > 1):
        return False, "a part of the grid joins two sources"
    return True, ""
