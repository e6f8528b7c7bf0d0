"""Graph helpers: islands, radiality and loops of a network or of a chosen topology."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order
from scipy.sparse.csgraph import connected_components as _cc

from feederopt.errors import Problem, ProblemKind
from feederopt.forking import check_not_forked

if TYPE_CHECKING:
    from feederopt.network.container import Network

_K = TypeVar("_K", bound=Hashable)


def components_of(
    n: int, f: Sequence[int] | np.ndarray, t: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Label of the connected component of each of ``n`` nodes joined by edges (f, t)."""
    f = np.asarray(f, dtype=int)
    t = np.asarray(t, dtype=int)
    graph = coo_matrix((np.ones(len(f)), (f, t)), shape=(n, n))
    _, labels = _cc(graph, directed=False)
    return np.asarray(labels)


def reachable(f: Sequence[int] | np.ndarray, t: Sequence[int] | np.ndarray,
              closed: np.ndarray, roots: Sequence[int] | np.ndarray) -> set[int]:
    """The nodes reached from ``roots`` over the edges (f, t) that are ``closed`` (a
    breadth-first search; the roots included)."""
    fa, ta = np.asarray(f, dtype=int), np.asarray(t, dtype=int)
    adj: dict[int, list[int]] = {}
    for k in np.flatnonzero(np.asarray(closed, dtype=bool)):
        a, b = int(fa[k]), int(ta[k])
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    seen = {int(r) for r in roots}
    stack = list(seen)
    while stack:
        for w in adj.get(stack.pop(), []):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def fixed_flow_side(n: int, f: np.ndarray, t: np.ndarray, usable: np.ndarray,
                    is_source: np.ndarray, e: int) -> np.ndarray | None:
    """The buses that branch ``e`` feeds in every radial topology, or None when a switch can
    change them. ``usable`` marks the branches that can be closed (in service; switchable or
    normally closed), ``e`` among them. ``e`` feeds a fixed set of buses when it is a bridge
    of the graph of the usable branches (removing it separates its ends: no other path, over
    any switch, joins them) and one side of it holds no source: every radial topology that
    supplies those buses supplies them through ``e``, so its flow is theirs (their loads and
    generators, and the losses beyond it, which alone change with the switches beyond it).
    That side's bus mask; None when ``e`` is on a cycle of the usable branches or both of its
    sides (or neither) hold a source. Cf. three-phase
    :func:`feederopt.algorithms.threephase.fixed_flow_elements` (Tarjan's bridges, 1974)."""
    keep = np.asarray(usable, dtype=bool).copy()
    if not keep[e]:
        return None
    keep[e] = False
    labels = components_of(n, np.asarray(f)[keep], np.asarray(t)[keep])
    a, b = labels[int(f[e])], labels[int(t[e])]
    if a == b:
        return None
    src = np.asarray(is_source, dtype=bool)
    fed_a, fed_b = bool(src[labels == a].any()), bool(src[labels == b].any())
    if fed_a == fed_b:
        return None
    return np.asarray(labels == (b if fed_a else a))


def switch_blocks(n: int, f: np.ndarray, t: np.ndarray, switchable: np.ndarray,
                  is_source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The buses that no switch separates, merged into blocks (as PowerModelsONM's load
    blocks): the block of each bus (the components of the non-switchable branches) and, per
    block, whether it holds a source. The non-switchable branches are closed in every
    configuration, so a set of switchable branches makes the grid a forest with one source
    per tree exactly when it does so on the graph of the blocks (given that the
    non-switchable branches form no loop and join no two sources,
    :func:`radiality_problem`)."""
    fixed = ~np.asarray(switchable, dtype=bool)
    labels = components_of(n, np.asarray(f)[fixed], np.asarray(t)[fixed])
    has_source = np.zeros(int(labels.max()) + 1 if n else 0, dtype=bool)
    has_source[labels[np.asarray(is_source, dtype=bool)]] = True
    return labels, has_source


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


def bridges(n: int, f: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Boolean mask of bridge edges (Tarjan's low-link, iterative; parallel edges handled)."""
    m = len(f)
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (a, b) in enumerate(zip(f, t, strict=True)):
        adj[a].append((b, k))
        adj[b].append((a, k))
    disc = np.full(n, -1)
    low = np.zeros(n, dtype=int)
    bridge = np.zeros(m, dtype=bool)
    timer = 0
    for root in range(n):
        if disc[root] >= 0:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack: list[tuple[int, int, int]] = [(root, -1, 0)]
        while stack:
            u, via, i = stack[-1]
            if i < len(adj[u]):
                stack[-1] = (u, via, i + 1)
                w, k = adj[u][i]
                if k == via:
                    continue
                if disc[w] < 0:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, k, 0))
                else:
                    low[u] = min(low[u], disc[w])
            else:
                stack.pop()
                if stack:
                    p = stack[-1][0]
                    low[p] = min(low[p], low[u])
                    if low[u] > disc[p]:
                        bridge[via] = True
    return bridge


def tree_order(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray,
               sources: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Nodes in breadth-first order from the ``sources`` over the ``closed`` edges, the edge to
    each node's parent (-1 at sources) and each node's depth; None unless the closed graph is a
    forest with one source per tree that reaches every node."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k in (int(e) for e in np.flatnonzero(closed)):
        a, b = int(f[k]), int(t[k])
        adj[a].append((b, k))
        adj[b].append((a, k))
    parent_edge = np.full(n, -1)
    depth = np.zeros(n, dtype=int)
    seen = np.zeros(n, dtype=bool)
    order: list[int] = []
    for s in np.flatnonzero(sources):
        if seen[s]:
            return None
        seen[s] = True
        order.append(int(s))
    head = 0
    while head < len(order):
        i = order[head]
        head += 1
        for j, k in adj[i]:
            if k == parent_edge[i]:
                continue
            if seen[j]:
                return None  # a loop, or two sources in one tree
            seen[j] = True
            parent_edge[j] = k
            depth[j] = depth[i] + 1
            order.append(j)
    if len(order) != n:
        return None
    return np.asarray(order), parent_edge, depth


def radial_parents(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray,
                   sources: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per node, the edge to its parent and the parent node (-1 at sources) of the closed
    forest rooted at the ``sources``; None unless the closed graph is a forest with one source
    per tree that reaches every node (as :func:`tree_order`, whose ``parent_edge`` this is,
    without the Python loop over the nodes).

    One breadth-first search (scipy's csgraph) from a super root joined to every source: the
    closed edges and those joins make a tree exactly when there are ``n`` of them (``n - #sources``
    closed edges) and the search reaches all ``n + 1`` nodes (a connected multigraph on ``V``
    nodes with ``V - 1`` edges has no cycle, parallel edges and self-loops included)."""
    k = np.flatnonzero(closed)
    src = np.flatnonzero(sources)
    if len(k) + len(src) != n:
        return None
    if not n:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    fk, tk = f[k], t[k]
    graph = csr_matrix((np.ones(n), (np.concatenate((fk, np.full(len(src), n))),
                                     np.concatenate((tk, src)))), shape=(n + 1, n + 1))
    order, pred = breadth_first_order(graph, n, directed=False, return_predecessors=True)
    if len(order) != n + 1:
        return None
    parent = np.where(pred[:n] == n, -1, pred[:n])
    parent_edge = np.full(n, -1)
    parent_edge[np.where(parent[tk] == fk, tk, fk)] = k
    return parent_edge, parent


def exchanged_parents(f: np.ndarray, t: np.ndarray, parents: tuple[np.ndarray, np.ndarray],
                      close: int, open_: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The tree (:func:`radial_parents`) after the branch exchange "close ``close``, open
    ``open_``" of the tree ``parents``, in O(loop length): opening ``open_`` cuts off the
    subtree below it, which the closed branch joins at its end ``a`` in that subtree, so the
    parent pointers on the path from ``a`` up to the lower end of ``open_`` turn round and
    ``a`` hangs from the other end. None when ``open_`` is not on the loop that ``close``
    makes (not a radial exchange)."""
    parent_edge, parent = parents
    for a, b in ((int(f[close]), int(t[close])), (int(t[close]), int(f[close]))):
        path = [a]
        while parent_edge[path[-1]] != open_:
            up = int(parent[path[-1]])
            if up < 0:
                break
            path.append(up)
        else:
            cut, up = path[-1], b
            while up >= 0:  # the other end below the cut too: a loop within the subtree
                if up == cut:
                    return None
                up = int(parent[up])
            new_edge, new_parent = parent_edge.copy(), parent.copy()
            idx = np.asarray(path)
            new_parent[idx[1:]] = idx[:-1]
            new_edge[idx[1:]] = parent_edge[idx[:-1]]
            new_parent[a], new_edge[a] = b, close
            return new_edge, new_parent
    return None


def branch_exchanges(n: int, f: np.ndarray, t: np.ndarray, sources: np.ndarray,
                     switchable: np.ndarray, closed: np.ndarray) -> list[tuple[int, int]] | None:
    """The single branch exchanges ``(close, open)`` of the radial topology ``closed``: an open
    ``switchable`` edge to close and a closed ``switchable`` edge on the loop it makes (the
    tree path between its ends, or through the sources, :func:`loop_path`), so that every
    exchange gives a radial topology again (the branch exchange of Civanlar, Grainger, Yin &
    Lee, IEEE Trans. Power Delivery 3(3), 1988). None when ``closed`` is not one tree per
    source reaching every node."""
    closed = np.asarray(closed, bool)
    order = tree_order(n, f, t, closed, sources)
    if order is None:
        return None
    _, parent_edge, depth = order
    out: list[tuple[int, int]] = []
    for a in np.flatnonzero(np.asarray(switchable, bool) & ~closed).tolist():
        loop = loop_path(f, t, parent_edge, depth, int(f[a]), int(t[a]))
        out += [(int(a), int(b)) for b in loop if switchable[b]]
    return out


def loop_path(f: np.ndarray, t: np.ndarray, parent_edge: np.ndarray, depth: np.ndarray,
              a: int, b: int) -> list[int]:
    """Branches of the loop that a branch between buses ``a`` and ``b`` closes: the tree path
    from ``a`` to ``b``, or, when they lie in trees of different sources, the paths from both
    to their sources (a loop through the sources, which act as one node). ``parent_edge`` and
    ``depth`` come from :func:`tree_order`."""
    left, right = loop_sides(f, t, parent_edge, depth, a, b)
    return left + right[::-1]


def loop_sides(f: np.ndarray, t: np.ndarray, parent_edge: np.ndarray, depth: np.ndarray,
               a: int, b: int) -> tuple[list[int], list[int]]:
    """The two halves of :func:`loop_path`: the branches from ``a`` up to the meeting point
    (the lowest common ancestor, or the sources), and those from ``b`` up to it, each listed
    from its bus upwards."""
    left: list[int] = []
    right: list[int] = []
    while a != b:
        if depth[a] >= depth[b]:
            k = int(parent_edge[a])
            if k < 0:  # a and b are both sources
                break
            left.append(k)
            a = int(t[k] if f[k] == a else f[k])
        else:
            k = int(parent_edge[b])
            right.append(k)
            b = int(t[k] if f[k] == b else f[k])
    return left, right


def merge_sources(f: np.ndarray, t: np.ndarray,
                  sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge ends with every source bus replaced by the first one: in a radial grid with several
    substations the sources act as one node, so a path between two sources is a loop."""
    src = np.flatnonzero(sources)
    hub = int(src[0]) if len(src) else 0
    return np.where(sources[f], hub, f), np.where(sources[t], hub, t)


class DisjointSets(Generic[_K]):
    """Disjoint sets of hashable items (union-find; Tarjan, J. ACM 22(2), 1975): which items
    the unions so far have joined. An item not seen yet is a set of its own.

    :meth:`find` halves the path to the representative on the way (``parent[x] <-
    parent[parent[x]]``) and :meth:`union` hangs the smaller set below the larger one (union
    by size), so ``m`` operations on ``n`` items take ``O(m alpha(m, n))`` (Tarjan & van
    Leeuwen, J. ACM 31(2), 1984). Which item represents a set is an implementation detail:
    compare representatives (:meth:`connected`), never keep one as a particular item.
    """

    __slots__ = ("_parent", "_size")

    def __init__(self, items: Iterable[_K] = ()) -> None:
        self._parent: dict[_K, _K] = {x: x for x in items}
        self._size: dict[_K, int] = dict.fromkeys(self._parent, 1)

    def find(self, x: _K) -> _K:
        """The representative of the set that holds ``x`` (``x`` itself when no union has
        touched it; a new item is added as a set of its own)."""
        parent = self._parent
        if x not in parent:
            parent[x] = x
            self._size[x] = 1
            return x
        while (up := parent[x]) != x:
            parent[x] = parent[up]
            x = parent[x]
        return x

    def union(self, a: _K, b: _K) -> bool:
        """Join the sets of ``a`` and ``b``; True when they were apart (the union merged two
        sets), False when they were one already (an edge ``a-b`` closes a loop)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size.pop(rb)
        return True

    def connected(self, a: _K, b: _K) -> bool:
        """Whether ``a`` and ``b`` are in one set."""
        return self.find(a) == self.find(b)

    def groups(self) -> list[list[_K]]:
        """The sets of the items seen so far, each in the order the items were first seen,
        ordered by their first item."""
        out: dict[_K, list[_K]] = {}
        for x in list(self._parent):
            out.setdefault(self.find(x), []).append(x)
        return list(out.values())


def max_spanning_forest(n: int, f: np.ndarray, t: np.ndarray, weight: np.ndarray,
                        fixed: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Edges of a maximum-weight spanning forest with one source per tree (Kruskal, J. AMS
    7(1), 1956): the sources are merged into one node, the ``fixed`` edges are taken first,
    then the others by decreasing ``weight``. Returns a boolean mask over the edges; it spans
    every node joined to a source at all."""
    fm, tm = merge_sources(f, t, sources)
    sets: DisjointSets[int] = DisjointSets(range(n))
    chosen = np.zeros(len(f), dtype=bool)
    for k in np.lexsort((-np.asarray(weight, float), ~np.asarray(fixed, bool))):
        chosen[k] = sets.union(int(fm[k]), int(tm[k]))
    return chosen


def bottleneck_cycle(n: int, f: np.ndarray, t: np.ndarray, weight: np.ndarray,
                     sources: np.ndarray) -> float:
    """The largest ``w`` such that the edges of weight at least ``w`` contain a loop (the sources
    merged into one node, see :func:`merge_sources`): the max over loops of the least weight
    on the loop (``-inf`` when the graph is a forest). Kruskal's order (J. AMS 7(1), 1956):
    edges by decreasing weight join components until the first one closes a loop; every edge
    before it weighs at least as much, and they form a forest, so no loop does better."""
    return bottleneck_loop(n, f, t, weight, sources)[0]


def bottleneck_loop(n: int, f: np.ndarray, t: np.ndarray, weight: np.ndarray,
                    sources: np.ndarray) -> tuple[float, list[int]]:
    """:func:`bottleneck_cycle` and the edges of a loop that attains it: the edge that closes
    the first loop in Kruskal's order and the path between its ends in the forest of the
    edges before it (an empty list when the graph is a forest)."""
    fm, tm = merge_sources(f, t, sources)
    sets: DisjointSets[int] = DisjointSets(range(n))
    adj: dict[int, list[tuple[int, int]]] = {}
    for k in (int(e) for e in np.argsort(-np.asarray(weight, float), kind="stable")):
        if not sets.union(int(fm[k]), int(tm[k])):
            return float(weight[k]), [k, *_forest_path(adj, int(fm[k]), int(tm[k]))]
        adj.setdefault(int(fm[k]), []).append((int(tm[k]), k))
        adj.setdefault(int(tm[k]), []).append((int(fm[k]), k))
    return -np.inf, []


def _forest_path(adj: dict[int, list[tuple[int, int]]], a: int, b: int) -> list[int]:
    """The edges of the path from ``a`` to ``b`` in a forest given by its adjacency lists."""
    via: dict[int, tuple[int, int]] = {a: (a, -1)}
    stack = [a]
    while stack and b not in via:
        i = stack.pop()
        for j, k in adj.get(i, []):
            if j not in via:
                via[j] = (i, k)
                stack.append(j)
    path = []
    while b != a:
        b, k = via[b]
        path.append(k)
    return path


def radiality_problem(
    bus_ids: Sequence[str],
    branch_ids: Sequence[str],
    f: np.ndarray,
    t: np.ndarray,
    closed: np.ndarray,
    sources: np.ndarray,
    *,
    spanning: bool = True,
) -> Problem | None:
    """Why the ``closed`` branches are no radial configuration, as a typed problem, or None.

    Radial (as in :func:`is_radial_forest`): the closed branches form a forest in which every
    tree holds exactly one source. With the sources merged into one node (a path between two
    sources is a loop, :func:`merge_sources`), that is a spanning tree of the merged graph
    (``spanning``) or, without ``spanning``, a forest. The first branch that closes a loop
    (union-find in branch order) is named with the tree path between its ends; otherwise the
    buses that no source reaches are named.
    """
    n = len(bus_ids)
    fm, tm = merge_sources(np.asarray(f, int), np.asarray(t, int), np.asarray(sources, bool))
    sets: DisjointSets[int] = DisjointSets(range(n))
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k in (int(e) for e in np.flatnonzero(closed)):
        a, b = int(fm[k]), int(tm[k])
        if not sets.union(a, b):
            loop = [*_tree_path(adj, a, b), k]
            ends = {int(x) for e in loop for x in (f[e], t[e])}
            joins = sum(bool(sources[j]) for j in ends) >= 2
            # "1 branch": one line between two sources (user test ut32_multi netC_fixed)
            count = f"{len(loop)} branch" + ("" if len(loop) == 1 else "es")
            pair = {frozenset((int(f[e]), int(t[e]))) for e in loop}
            # two circuits between the same two buses (ut43_ppgrid #1): named as such
            parallel = len(loop) > 1 and len(pair) == 1 and not joins
            what = (f" of parallel circuits between buses {bus_ids[int(f[loop[0]])]} and "
                    f"{bus_ids[int(t[loop[0]])]}" if parallel else "")
            return Problem(
                ProblemKind.NOT_RADIAL,
                "branches",
                (f"the closed branches join two sources ({count})" if joins else
                 f"the closed branches form a loop ({count}){what}"),
                ids=tuple(str(branch_ids[e]) for e in loop),
                field="closed",
                hint=("a radial model holds parallel circuits closed together only as one "
                      "branch: a pandapower net's double circuit is one when its circuits are "
                      "all in one state (each switch closed, or each open), so give them the "
                      "same state, or open one circuit" if parallel else
                      "open one branch of the loop"),
            )
        adj[a].append((b, k))
        adj[b].append((a, k))
    if not spanning or not np.any(sources):
        return None
    # Every source is the merged hub (no edge of the merged graph touches a second source's
    # own index, so it is supplied by being a source, not by union-find).
    hub = sets.find(int(np.flatnonzero(sources)[0]))
    src = np.asarray(sources, bool)
    cut = [str(bus_ids[j]) for j in range(n) if not src[j] and sets.find(j) != hub]
    if cut:
        return Problem(
            ProblemKind.NOT_RADIAL,
            "buses",
            f"{len(cut)} bus(es) are cut off from every source",
            ids=tuple(cut),
            field="closed",
            hint="close a branch that joins them to the energised grid",
        )
    return None


def _tree_path(adj: list[list[tuple[int, int]]], a: int, b: int) -> list[int]:
    """The edges of the path from ``a`` to ``b`` in a forest (breadth-first search)."""
    via: dict[int, tuple[int, int]] = {a: (-1, -1)}
    queue = [a]
    for u in queue:
        if u == b:
            break
        for w, k in adj[u]:
            if w not in via:
                via[w] = (u, k)
                queue.append(w)
    path: list[int] = []
    node = b
    while node != a and node in via:
        node, k = via[node]
        path.append(k)
    return path[::-1]


@dataclass(frozen=True)
class Unsupplied:
    """The buses that no source reaches over the closed branches of the base case (every
    in-service branch but the normally open ones), and their in-service load."""

    buses: tuple[str, ...]
    load_mw: float
    load_mvar: float

    @property
    def has_load(self) -> bool:
        return bool(self.buses) and (abs(self.load_mw) > 0 or abs(self.load_mvar) > 0)

    def warning(self) -> str | None:
        """The note for the user when the base case leaves load without supply (None when it
        does not): its losses are those of the supplied part only."""
        if not self.has_load:
            return None
        shown = ", ".join(self.buses[:10]) + (" ..." if len(self.buses) > 10 else "")
        return (f"the base case leaves {len(self.buses)} bus(es) without supply ({shown}), "
                f"with {self.load_mw:.4f} MW, {self.load_mvar:.4f} MVAr of load: the base-case "
                "losses are those of the supplied part only, so a loss reduction against them "
                "is not comparable (reconfiguration may supply these buses)")

    def to_dict(self) -> dict[str, object]:
        return {"buses": list(self.buses), "load_mw": self.load_mw,
                "load_mvar": self.load_mvar}


def base_case_unsupplied(net: Network) -> Unsupplied:
    """The buses without supply in ``net``'s base case (see :class:`Unsupplied`)."""
    check_not_forked("feederopt.base_case_unsupplied")
    sources = {str(b) for b in net.buses.filter(pl.col("is_source"))["id"].to_list()}
    dead: set[str] = set()
    for group in connected_components(net, include_open=False):
        if not group & sources:
            dead |= group
    ld = net.loads.filter(pl.col("in_service") & pl.col("bus").is_in(list(dead)))
    order = [str(b) for b in net.buses["id"].to_list() if str(b) in dead]
    return Unsupplied(tuple(order), float(ld["p_mw"].sum()) if ld.height else 0.0,
                      float(ld["q_mvar"].sum()) if ld.height else 0.0)


def dead_islands(net: Network) -> tuple[str, ...]:
    """The buses of the islands that no source can ever reach and that hold no load, in table
    order. Reach is over the in-service branches that can close (open or closed, but not fixed
    open), as validation's island check has it; load is an in-service load with a non-zero
    power. Generators there do not keep an island: with no load and no slack, pandapower's power
    flow leaves such buses unsupplied (NaN results) and their generators idle; an island that
    holds load stays validation's ``island_without_source`` problem."""
    ids = [str(b) for b in net.buses["id"].to_list()]
    index = {b: i for i, b in enumerate(ids)}
    sources = net.buses["is_source"].fill_null(False).to_numpy().astype(bool)
    if not ids or not sources.any():
        return ()
    br = net.branches.filter(
        pl.col("in_service").fill_null(True)
        & ~(~pl.col("switchable").fill_null(False) & pl.col("normally_open").fill_null(False)))
    pairs = [(index[str(a)], index[str(b)]) for a, b in zip(
        br["from_bus"].to_list(), br["to_bus"].to_list(), strict=True)
        if str(a) in index and str(b) in index]
    labels = components_of(len(ids), [a for a, _ in pairs], [b for _, b in pairs])
    live = set(labels[sources].tolist())
    ld = net.loads.filter(pl.col("in_service").fill_null(True)
                          & ((pl.col("p_mw").fill_null(0.0) != 0)
                             | (pl.col("q_mvar").fill_null(0.0) != 0)))
    for bus in ld["bus"].to_list():
        if str(bus) in index:
            live.add(int(labels[index[str(bus)]]))
    return tuple(b for b, lab in zip(ids, labels, strict=True) if int(lab) not in live)


def without_buses(net: Network, buses: Sequence[str]) -> Network:
    """``net`` without ``buses`` and every branch, load, generator and shunt on them."""
    gone = [str(b) for b in buses]
    if not gone:
        return net
    return net.replace(
        buses=net.buses.filter(~pl.col("id").cast(pl.String).is_in(gone)),
        branches=net.branches.filter(~pl.col("from_bus").cast(pl.String).is_in(gone)
                                     & ~pl.col("to_bus").cast(pl.String).is_in(gone)),
        loads=net.loads.filter(~pl.col("bus").cast(pl.String).is_in(gone)),
        generators=net.generators.filter(~pl.col("bus").cast(pl.String).is_in(gone)),
        shunts=net.shunts.filter(~pl.col("bus").cast(pl.String).is_in(gone)),
    )


def spanning_tree_count(n: int, f: np.ndarray, t: np.ndarray) -> float:
    """The number of spanning trees of the multigraph of ``n`` nodes and edges ``(f, t)``
    (self-loops ignored): the determinant of its Laplacian with one row and column deleted
    (Kirchhoff's matrix-tree theorem), by a sparse LU; a float (inf past its range), 0 for a
    disconnected graph."""
    f = np.asarray(f, dtype=int)
    t = np.asarray(t, dtype=int)
    keep = f != t
    f, t = f[keep], t[keep]
    if n <= 1:
        return 1.0
    if len(f) < n - 1:
        return 0.0
    lab = components_of(n, f, t)
    if not np.all(lab == lab[0]):
        return 0.0
    from scipy.sparse import csc_matrix
    from scipy.sparse.linalg import splu

    deg = np.bincount(np.concatenate([f, t]), minlength=n).astype(float)
    rows = np.concatenate([f, t, np.arange(n)])
    cols = np.concatenate([t, f, np.arange(n)])
    vals = np.concatenate([-np.ones(2 * len(f)), deg])
    lap = csc_matrix((vals, (rows, cols)), shape=(n, n))[1:, 1:]
    diag = np.abs(splu(csc_matrix(lap)).U.diagonal())
    return float(np.exp(np.sum(np.log(diag))))


def spanning_trees(n: int, f: np.ndarray, t: np.ndarray,
                   limit: int | None = None) -> list[list[int]] | None:
    """Every spanning tree of the multigraph of ``n`` nodes and edges ``(f, t)`` (edge indices,
    increasing), or None when there are more than ``limit`` (counted first by
    :func:`spanning_tree_count`). A backtracking over the edges, each taken or left out,
    that leaves an edge out only where the edges left still connect the graph (so the work is
    about linear in the number of trees); parallel edges give distinct trees, a self-loop is
    in none."""
    f = np.asarray(f, dtype=int)
    t = np.asarray(t, dtype=int)
    if n < 1:
        return []
    count = spanning_tree_count(n, f, t)
    if limit is not None and count > limit + 0.5:
        return None
    if count < 0.5:
        return []
    usable = [int(e) for e in np.flatnonzero(f != t)]
    trees: list[list[int]] = []

    def connected(chosen: list[int]) -> bool:
        lab = components_of(n, f[chosen], t[chosen])
        return bool(np.all(lab == lab[0]))

    # Depth-first (an explicit stack: a ring of many switches is deep): the forest
    # ``closed`` (component labels ``lab``) to extend with the usable edges from ``i`` on,
    # the graph of ``closed`` and those edges being connected.
    stack: list[tuple[int, list[int], np.ndarray]] = [(0, [], np.arange(n))]
    while stack:
        i, closed, lab = stack.pop()
        if len(closed) == n - 1:
            trees.append(closed)
            continue
        k = usable[i]
        if connected(closed + usable[i + 1:]):
            stack.append((i + 1, closed, lab))  # k left out
        a, b = lab[f[k]], lab[t[k]]
        if a != b:
            stack.append((i + 1, [*closed, k], np.where(lab == b, a, lab)))  # k taken
    return trees


def radial_topologies(n: int, f: np.ndarray, t: np.ndarray, switchable: np.ndarray,
                      sources: np.ndarray, limit: int | None = None
                      ) -> list[np.ndarray] | None:
    """Every radial topology of a grid (as :func:`is_radial_forest`: a forest in which every
    tree holds exactly one source, every bus supplied), as closed-branch masks, or None when
    there are more than ``limit``. The non-switchable branches are closed in each; the
    switchable ones chosen are the spanning trees of the graph of the switch blocks
    (:func:`switch_blocks`) with the source blocks merged into one node
    (:func:`spanning_trees`). No topology when the fixed branches close a loop or join two
    sources, or no bus is a source."""
    f = np.asarray(f, dtype=int)
    t = np.asarray(t, dtype=int)
    switchable = np.asarray(switchable, dtype=bool)
    sources = np.asarray(sources, dtype=bool)
    if not sources.any():
        return []
    fixed = ~switchable
    if _fixed_loop_or_joined(n, f[fixed], t[fixed], sources):
        return []
    labels, has_source = switch_blocks(n, f, t, switchable, sources)
    node = np.zeros(len(has_source), dtype=int)  # the source blocks merged into node 0
    others = np.flatnonzero(~has_source)
    node[others] = np.arange(1, len(others) + 1)
    branches = np.flatnonzero(switchable)
    trees = spanning_trees(len(others) + 1, node[labels[f[branches]]],
                           node[labels[t[branches]]], limit)
    if trees is None:
        return None
    out = []
    for tree in trees:
        closed = fixed.copy()
        closed[branches[tree]] = True
        out.append(closed)
    return out


def _fixed_loop_or_joined(n: int, f: np.ndarray, t: np.ndarray, sources: np.ndarray) -> bool:
    """Whether the branches ``(f, t)`` close a loop or join two sources (a path between two
    sources, :func:`merge_sources`)."""
    fm, tm = merge_sources(f, t, sources)
    labels = components_of(n, fm, tm)
    return len(f) != n - (int(labels.max()) + 1 if n else 0)
