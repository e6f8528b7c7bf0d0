"""Presolve for radial reconfiguration: switchable branches that an optimum can keep closed.

Two reductions, each keeping at least one optimal topology:

* **Bridges.** A branch whose removal leaves a part of the grid without a source must be closed
  in every radial configuration that energises all buses. (A bridge with a source on both
  sides may open, so it stays switchable.)
* **Zero-injection chains.** Buses with exactly two incident branches and no load, generation,
  shunt or source form chains. Opening any one branch of a chain gives the same flows and
  losses (the chain's buses carry nothing and take the voltage of the side that feeds them),
  so only the first branch of each chain stays switchable. This requires the chain's buses
  to have voltage limits no tighter than the chain's end buses.

The reductions shrink the master's binaries (Taylor & Hover, IEEE TPWRS 27(3), 2012, reduce
case sizes the same way by merging series branches).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from feederopt.errors import Problem
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import bridges, components_of, radiality_problem


def must_close(pu: PerUnitNetwork) -> np.ndarray:
    """Switchable branches that every energising radial configuration closes (see above)."""
    n, f, t = pu.n_bus, pu.f, pu.t
    out = np.zeros(pu.n_branch, dtype=bool)
    for k in np.flatnonzero(bridges(n, f, t) & pu.switchable):
        keep = np.ones(len(f), dtype=bool)
        keep[k] = False
        labels = components_of(n, f[keep], t[keep])
        side_a, side_b = labels[f[k]], labels[t[k]]
        src_labels = set(labels[pu.is_source].tolist())
        if side_a not in src_labels or side_b not in src_labels:
            out[k] = True
    return out


def chain_duplicates(pu: PerUnitNetwork) -> np.ndarray:
    """Switchable branches of zero-injection chains beyond each chain's first (see above)."""
    n, f, t = pu.n_bus, pu.f, pu.t
    degree = np.bincount(f, minlength=n) + np.bincount(t, minlength=n)
    inject = np.abs(pu.p_load) + np.abs(pu.q_load) + np.abs(pu.q_shunt)
    gen_bus = np.zeros(n, dtype=bool)
    gen_bus[pu.gen_bus] = True
    inner = (degree == 2) & (inject == 0) & ~gen_bus & ~pu.is_source
    incident: list[list[int]] = [[] for _ in range(n)]
    for k, (a, b) in enumerate(zip(f, t, strict=True)):
        incident[a].append(k)
        incident[b].append(k)
    out = np.zeros(pu.n_branch, dtype=bool)
    seen = np.zeros(n, dtype=bool)
    for j in np.flatnonzero(inner):
        if seen[j]:
            continue
        # Collect the whole chain of inner buses around j and the branches along it.
        chain_buses, chain_branches = [int(j)], list(incident[j])
        seen[j] = True
        frontier = [int(j)]
        while frontier:
            u = frontier.pop()
            for k in incident[u]:
                w = int(t[k] if f[k] == u else f[k])
                if inner[w] and not seen[w]:
                    seen[w] = True
                    chain_buses.append(w)
                    frontier.append(w)
                    chain_branches.extend(incident[w])
        branches = sorted(set(chain_branches))
        ends = {int(x) for k in branches for x in (f[k], t[k])} - set(chain_buses)
        if not ends:
            continue  # an isolated ring of empty buses; leave it alone
        lo = max(pu.v_min[e] for e in ends)
        hi = min(pu.v_max[e] for e in ends)
        if any(pu.v_min[b] > lo or pu.v_max[b] < hi for b in chain_buses):
            continue
        # The one kept switchable: a normally-open one (the dearest to close: the others are
        # closed, charged by fixed_closed, since every radial configuration energises the
        # chain's buses and so opens at most one of its branches), else the cheapest to open.
        def keep_first(k: int) -> tuple[bool, float, int]:
            cost = float(pu.switch_cost[k])
            return (not pu.normally_open[k], -cost if pu.normally_open[k] else cost, k)

        sw = sorted((k for k in branches if pu.switchable[k]), key=keep_first)
        if len(sw) == len(branches) and len(sw) > 1:
            out[sw[1:]] = True
    return out


def fixed_closed(pu: PerUnitNetwork, fixed: np.ndarray) -> PerUnitNetwork:
    """``pu`` with the switchable branches ``fixed`` made non-switchable and closed; the
    switching cost of those normally open (a bridge that every radial configuration closes)
    joins ``fixed_switching_kw``, the objective's constant: closing them is an action."""
    return pu.with_fixed(fixed & pu.switchable)


def presolve(pu: PerUnitNetwork) -> tuple[PerUnitNetwork, np.ndarray]:
    """The network with the reductions applied (fixed branches made non-switchable), and the
    mask of branches that were fixed closed."""
    fixed = (must_close(pu) | chain_duplicates(pu)) & pu.switchable
    if not fixed.any():
        return pu, fixed
    return fixed_closed(pu, fixed), fixed


#: The per-branch fields of :class:`PerUnitNetwork` (one entry per in-service branch); the
#: branch-end shunts, taps and dangling ends where the model has them.
BRANCH_FIELDS = ("branch_ids", "f", "t", "r", "x", "b", "i_max", "s_max", "switchable",
                 "normally_open", "switch_cost", "tap", "g_from", "b_from", "g_to", "b_to",
                 "dangle_bus", "g_dangle", "b_dangle", "i_rating", "tap_rated")


def fixed_open(pu: PerUnitNetwork) -> np.ndarray:
    """Branches that cannot switch and are open (``switchable`` false, ``normally_open``
    true): open in every configuration."""
    return ~pu.switchable & pu.normally_open


def without_fixed_open(pu: PerUnitNetwork) -> tuple[PerUnitNetwork, np.ndarray]:
    """The network without its fixed-open branches, and the indices of the branches kept.

    A fixed-open branch carries nothing in every configuration, so the problem leaves it out
    (the models treat every non-switchable branch as closed); results put it back as open
    (:func:`feederopt.algorithms.base.on_all_branches`).
    """
    keep = np.flatnonzero(~fixed_open(pu))
    if len(keep) == pu.n_branch:
        return pu, keep
    changes: dict[str, Any] = {}
    for name in BRANCH_FIELDS:
        value = getattr(pu, name, None)
        if value is None or len(value) != pu.n_branch:
            continue  # a field this model does not fill
        changes[name] = [value[k] for k in keep] if isinstance(value, list) else value[keep]
    # A fixed-open branch still energised at one end (a pandapower line whose switch opens
    # one end; a held-open one among them) keeps loading that bus with its input admittance
    # g_d + j b_d, as pandapower solves it: its charging joins the bus's q_shunt (an
    # injection b v), its conductance g_open_end (a loss g v). Before, a held-open cable
    # vanished from the model: losses 322.65 kW against pandapower's 320.55 kW (user test).
    dropped = np.flatnonzero(fixed_open(pu))
    dang = dropped[pu.dangle_bus[dropped] >= 0] if pu.dangle_bus.size else dropped[:0]
    if len(dang):
        e = pu.dangle_bus[dang]
        q_shunt = pu.q_shunt.astype(float).copy()
        np.add.at(q_shunt, e, pu.b_dangle[dang])
        g_end = (pu.g_open_end.astype(float).copy() if pu.g_open_end.size
                 else np.zeros(pu.n_bus))
        np.add.at(g_end, e, pu.g_dangle[dang])
        changes.update(q_shunt=q_shunt, g_open_end=g_end)
    return replace(pu, **changes), keep


def fixed_loop(pu: PerUnitNetwork) -> Problem | None:
    """A loop (or a path between two sources) of branches that cannot open: then no radial
    configuration exists (:func:`~feederopt.network.topology.radiality_problem`)."""
    problem = radiality_problem(pu.bus_ids, pu.branch_ids, pu.f, pu.t, ~pu.switchable,
                                pu.is_source, spanning=False)
    if problem is None:
        return None
    pos = {b: k for k, b in enumerate(pu.branch_ids)}
    ends = {frozenset((int(pu.f[pos[b]]), int(pu.t[pos[b]]))) for b in problem.ids if b in pos}
    if len(problem.ids) == 2 and len(ends) == 1:
        # Two branches between the same buses: a double circuit that the readers did not
        # merge (:mod:`feederopt.io.parallel` merges plain lines only; user test ut_io #4).
        a, b = sorted(pu.bus_ids[k] for k in next(iter(ends)))
        return replace(problem, message=problem.message + " that cannot open: a double "
                       f"circuit between buses {a} and {b}, which is merged into one branch "
                       "only where both are plain lines (no transformer, tap or asymmetric "
                       "shunt) read from a file", field="switchable",
                       hint="make one of them switchable or normally open, or give them as "
                       "one branch (their parallel impedance)")
    which = "it" if len(problem.ids) == 1 else "one of them"
    return replace(problem, message=problem.message + " that cannot open", field="switchable",
                   hint=f"make {which} switchable or normally open")
