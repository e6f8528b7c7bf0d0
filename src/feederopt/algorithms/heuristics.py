"""Fast start topologies for the exact methods.

* :func:`sequential_opening` -- Shirmohammadi & Hong, "Distribution system reconfiguration for
  loss reduction", IEEE TPWRD 4(2), 1989: close every switch, solve the (meshed) optimal flow,
  open the closed switch that carries the least current and does not disconnect a bus, repeat
  until the grid is radial. One SOCP per opened switch.
* :func:`branch_exchange` -- Civanlar, Grainger, Yin & Lee, "Distribution feeder
  reconfiguration for loss reduction", IEEE TPWRD 3(3), 1988: for each open switch, close it
  and open a neighbour of it on the loop it closes, keep the exchange when the SOCP losses fall.

Both only propose radial topologies; their value is an upper bound, never a proof.
"""

from __future__ import annotations

import time

import numpy as np

from feederopt.network.topology import is_radial_forest
from feederopt.problems.presolve import _bridges
from feederopt.problems.reconfiguration import TopologyEvaluator


def _ok(ev: TopologyEvaluator, y: np.ndarray) -> bool:
    pu = ev.problem.pu
    return bool(is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)[0])


def sequential_opening(ev: TopologyEvaluator, time_limit_s: float = 30.0) -> np.ndarray | None:
    """A radial topology by opening least-current switches one by one (None if none found)."""
    pu = ev.problem.pu
    t0 = time.perf_counter()
    y = np.ones(pu.n_branch)
    n_open = pu.n_branch - (pu.n_bus - int(pu.is_source.sum()))
    for _ in range(n_open):
        if time.perf_counter() - t0 > time_limit_s:
            return None
        res = ev.evaluate(y, need_gradient=False)
        if not res.feasible:
            res = ev.evaluate_violation(y)
        closed = np.flatnonzero(y > 0.5)
        # Candidates: closed switchable branches that lie on a loop of the closed graph.
        bridge = np.zeros(pu.n_branch, dtype=bool)
        bridge[closed] = _bridges(pu.n_bus, pu.f[closed], pu.t[closed])
        cand = np.flatnonzero((y > 0.5) & pu.switchable & ~bridge)
        if not len(cand):
            return None
        flow = res.point["P"] ** 2 + res.point["Q"] ** 2
        y[cand[int(np.argmin(flow[cand]))]] = 0.0
    return y if _ok(ev, y) else None


def branch_exchange(ev: TopologyEvaluator, y: np.ndarray, time_limit_s: float = 30.0,
                    max_passes: int = 3) -> tuple[np.ndarray, float]:
    """Improve radial ``y`` by exchanges next to its open switches; returns (y, losses)."""
    pu = ev.problem.pu
    t0 = time.perf_counter()
    best = ev.evaluate(y, need_gradient=False)
    value = best.objective if best.feasible else np.inf
    y = y.copy()
    incident: list[list[int]] = [[] for _ in range(pu.n_bus)]
    for k, (a, b) in enumerate(zip(pu.f, pu.t, strict=True)):
        incident[a].append(k)
        incident[b].append(k)
    for _ in range(max_passes):
        improved = False
        for tie in np.flatnonzero((y < 0.5) & pu.switchable):
            for end in (pu.f[tie], pu.t[tie]):
                for k in incident[end]:
                    if k == tie or y[k] < 0.5 or not pu.switchable[k]:
                        continue
                    if time.perf_counter() - t0 > time_limit_s:
                        return y, value
                    cand = y.copy()
                    cand[tie], cand[k] = 1.0, 0.0
                    if not _ok(ev, cand):
                        continue
                    res = ev.evaluate(cand, need_gradient=False)
                    if res.feasible and res.objective < value - 1e-9:
                        y, value, improved = cand, res.objective, True
                        break
                if y[tie] > 0.5:
                    break
        if not improved:
            break
    return y, value
