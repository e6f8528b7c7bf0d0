"""Grid drawings (matplotlib): the topology with open branches marked and voltages coloured.

Buses sit at their coordinates when the input has them (``buses.x``/``buses.y``); otherwise a
tree layout places each bus by its depth from the source along the closed branches and spreads
the leaves evenly (a simple layered layout in the spirit of Reingold & Tilford, IEEE TSE 7(2),
1981).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from feederopt.results.result import Result


def tree_layout(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray,
                roots: np.ndarray) -> np.ndarray:
    """(n x 2) positions: x = leaf order, y = -depth, over the closed branches from ``roots``."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b, c in zip(f, t, closed, strict=True):
        if c:
            adj[a].append(b)
            adj[b].append(a)
    parent = np.full(n, -1)
    depth = np.full(n, -1)
    children: list[list[int]] = [[] for _ in range(n)]
    order: list[int] = []
    starts = list(roots) + [i for i in range(n) if i not in set(roots)]
    for r in starts:
        if depth[r] >= 0:
            continue
        depth[r] = 0
        queue = deque([r])
        while queue:
            u = queue.popleft()
            order.append(u)
            for w in sorted(adj[u]):
                if depth[w] < 0:
                    depth[w] = depth[u] + 1
                    parent[w] = u
                    children[u].append(w)
                    queue.append(w)
    x = np.zeros(n)
    next_leaf = [0.0]

    def place(u: int) -> None:
        if not children[u]:
            x[u] = next_leaf[0]
            next_leaf[0] += 1.0
            return
        for c in children[u]:
            place(c)
        x[u] = float(np.mean([x[c] for c in children[u]]))

    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * n + 100))
    for r in starts:
        if parent[r] < 0 and depth[r] == 0:
            place(r)
            next_leaf[0] += 1.0
    return np.column_stack([x, -depth.astype(float)])


def plot_grid(result: Result, path: str | Path, title: str | None = None) -> Path:
    """Draw the result's topology: closed branches solid, open ones dashed red, buses coloured
    by voltage (AC when available)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buses = result.buses
    br = result.branches
    ids = buses["id"].to_list()
    index = {b: i for i, b in enumerate(ids)}
    f = np.array([index[b] for b in br["from_bus"].to_list()], dtype=int)
    t = np.array([index[b] for b in br["to_bus"].to_list()], dtype=int)
    closed = np.asarray(br["closed"].to_list(), dtype=bool)
    net = result.network
    pos = None
    if net is not None and {"x", "y"} <= set(net.buses.columns):
        xs = net.buses["x"].to_numpy().astype(float)
        ys = net.buses["y"].to_numpy().astype(float)
        if np.all(np.isfinite(xs)) and np.all(np.isfinite(ys)):
            pos = np.column_stack([xs, ys])
    if pos is None:
        roots = np.flatnonzero(np.asarray(buses["is_source"].to_list(), dtype=bool))
        pos = tree_layout(len(ids), f, t, closed, roots)
    vm = buses["vm_ac_pu"].to_numpy().astype(float)
    if not np.any(np.isfinite(vm)):
        vm = buses["vm_pu"].to_numpy().astype(float)
    n = len(ids)
    fig, ax = plt.subplots(figsize=(min(4 + n / 6, 16), 7))
    for a, b, c in zip(f, t, closed, strict=True):
        style = {"color": "0.35", "lw": 1.2} if c else {"color": "tab:red", "lw": 1.2, "ls": "--"}
        ax.plot([pos[a, 0], pos[b, 0]], [pos[a, 1], pos[b, 1]], zorder=1, **style)
    sc = ax.scatter(pos[:, 0], pos[:, 1], c=vm, cmap="viridis", s=40 if n < 200 else 8,
                    zorder=2, edgecolors="k", linewidths=0.3)
    src = np.asarray(buses["is_source"].to_list(), dtype=bool)
    ax.scatter(pos[src, 0], pos[src, 1], marker="s", s=120, c="tab:orange", zorder=3,
               label="source")
    if n <= 120:
        for i, bid in enumerate(ids):
            ax.annotate(str(bid), pos[i], fontsize=6, xytext=(2, 2), textcoords="offset points")
    fig.colorbar(sc, ax=ax, label="|V| [p.u.]")
    ax.plot([], [], color="tab:red", ls="--", label="open branch")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or f"{result.case}: {result.method}, {result.losses_kw:.2f} kW")
    ax.set_axis_off()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
