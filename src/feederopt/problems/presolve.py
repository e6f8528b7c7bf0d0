"""Presolve for radial reconfiguration: switchable branches that an optimum can keep closed.

Two reductions, each keeping at least one optimal topology:

* **Bridges.** A branch whose removal leaves a part of the grid without a source must be closed
  in every radial configuration that energises all buses. (A bridge with a source on both
  sides may open, so it stays switchable.)
* **Zero-injection chains.** Buses with exactly two incident branches and no load,
  generation, shunt or source form chains: paths ``e_0 .. e_m`` of branches through them
  between two other buses (its ends). Every radial configuration that energises the chain's
  buses opens at most one of its branches. Where a *run* of consecutive branches ``e_i .. e_j``
  of a chain carries no shunt admittance (no line charging ``b``, no branch-end ``g``/``b``,
  nothing on an open end), opening any one of them gives the same flows and losses: the buses
  inside the run then hang off one of the run's end buses (``e_i``'s outer end or ``e_j``'s)
  on branches that carry no current, so they take that bus's voltage (times the ratios of the
  taps on the way, ``|V_t| = |V_f| / tap``) and nothing else in the grid changes. So only one
  branch of each such run stays switchable. This requires the run's inner buses to accept
  any voltage that either end bus may take (its limits, a source's set-point range) scaled
  by those ratios. A branch that carries a shunt is never interchangeable with another:
  opening it drops its own charging instead of another's, and the buses that change sides
  draw the shunts between them from the other end (a 3 km cable tie on a 3-bus ring:
  2.3867 kW against 3.1172 kW; user test ut34_fuzz, ``tests/test_presolve_chain_charging.py``).

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


def shunt_free(pu: PerUnitNetwork) -> np.ndarray:
    """Per branch: no shunt admittance anywhere on it (line charging ``b``, branch-end
    ``g_from``, ``b_from``, ``g_to``, ``b_to``, the admittance it leaves on an energised end
    when open): closed, its series current is the same at both ends."""
    out = np.ones(pu.n_branch, dtype=bool)
    for value in (pu.b, pu.g_from, pu.b_from, pu.g_to, pu.b_to, pu.g_dangle, pu.b_dangle):
        if value.size == pu.n_branch:
            out &= value == 0
    return out


def _empty_buses(pu: PerUnitNetwork) -> np.ndarray:
    """Buses with no load, generator, source or shunt (capacitor, conductance, the open end of
    a branch left out)."""
    n = pu.n_bus
    inject = np.abs(pu.p_load) + np.abs(pu.q_load) + np.abs(pu.q_shunt)
    for value in (pu.p_shunt, pu.g_open_end):
        if value.size == n:
            inject = inject + np.abs(value)
    gen_bus = np.zeros(n, dtype=bool)
    gen_bus[pu.gen_bus] = True
    return (inject == 0) & ~gen_bus & ~pu.is_source


def _chain_path(start: int, first: int, inner: np.ndarray, f: np.ndarray, t: np.ndarray,
                incident: list[list[int]]) -> tuple[list[int], list[int]] | None:
    """The buses ``p_0 .. p_(m+1)`` and branches ``e_0 .. e_m`` of the chain that leaves the
    end bus ``start`` on branch ``first`` (``e_k`` joins ``p_k`` and ``p_(k+1)``), walked
    through the ``inner`` buses to the next end; None when a bus of it is not a plain
    two-branch bus (a self-loop)."""
    buses, branches = [start], []
    u, k = start, first
    while True:
        branches.append(k)
        w = int(t[k] if f[k] == u else f[k])
        buses.append(w)
        if not inner[w]:
            return buses, branches
        nxt = [j for j in incident[w] if j != k]
        if len(nxt) != 1:
            return None
        u, k = w, nxt[0]


def _voltage_range(pu: PerUnitNetwork, bus: int) -> tuple[float, float]:
    """The |V| [p.u.] that ``bus`` may take: a source's set-point range, a generator-held
    bus's set-point (:meth:`~feederopt.network.perunit.PerUnitNetwork.generator_held`), else
    its limits."""
    if pu.is_source[bus]:
        lo, hi = pu.source_v_range()
        return float(lo[bus]), float(hi[bus])
    if pu.generator_held()[bus]:
        v = float(pu.held_set_point()[bus])
        return v, v
    return float(pu.v_min[bus]), float(pu.v_max[bus])


def _run_voltages_hold(pu: PerUnitNetwork, buses: list[int], branches: list[int]) -> bool:
    """Whether every inner bus of the run (``buses[1:-1]``, joined by ``branches``, none
    carrying current) accepts any voltage of either end bus, scaled by the taps between."""
    tap = pu.tap if pu.tap.size == pu.n_branch else np.ones(pu.n_branch)
    ratio = [1.0]  # |V_(p_k)| / |V_(p_0)| along the run
    for k, (u, e) in enumerate(zip(buses[:-1], branches, strict=True)):
        ratio.append(ratio[k] / tap[e] if pu.f[e] == u else ratio[k] * tap[e])
    ranges = [(_voltage_range(pu, buses[0]), 1.0),
              (_voltage_range(pu, buses[-1]), ratio[-1])]
    tol = 1e-12
    for p in range(1, len(buses) - 1):
        b = buses[p]
        for (lo, hi), at_end in ranges:
            scale = ratio[p] / at_end
            if lo * scale < pu.v_min[b] - tol or hi * scale > pu.v_max[b] + tol:
                return False
    return True


def chain_duplicates(pu: PerUnitNetwork) -> np.ndarray:
    """Switchable branches of shunt-free runs of zero-injection chains beyond each run's
    first (module docstring)."""
    n, f, t = pu.n_bus, pu.f, pu.t
    degree = np.bincount(f, minlength=n) + np.bincount(t, minlength=n)
    inner = (degree == 2) & _empty_buses(pu)
    plain = shunt_free(pu)
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
        ends = sorted({int(x) for k in branches for x in (f[k], t[k])} - set(chain_buses))
        if not ends:
            continue  # an isolated ring of empty buses; leave it alone
        first = next(k for k in branches if ends[0] in (int(f[k]), int(t[k])))
        path = _chain_path(ends[0], first, inner, f, t, incident)
        if path is None or sorted(path[1]) != branches:
            continue
        path_buses, path_branches = path
        # Maximal runs of consecutive shunt-free branches: positions lo .. hi of the path.
        pos = 0
        while pos < len(path_branches):
            if not plain[path_branches[pos]]:
                pos += 1
                continue
            stop = pos
            while stop + 1 < len(path_branches) and plain[path_branches[stop + 1]]:
                stop += 1
            run = path_branches[pos:stop + 1]
            run_buses = path_buses[pos:stop + 2]
            pos = stop + 1
            if len(run) < 2 or not all(pu.switchable[k] for k in run):
                continue
            if not _run_voltages_hold(pu, run_buses, run):
                continue
            out[_run_duplicates(pu, run)] = True
    return out


def _run_duplicates(pu: PerUnitNetwork, run: list[int]) -> list[int]:
    """The branches of ``run`` fixed closed: all but one. The one kept switchable: a normally
    open one (the dearest to close: the others are closed, charged by fixed_closed, since
    every radial configuration energises the chain's buses and so opens at most one of its
    branches), else the cheapest to open."""

    def keep_first(k: int) -> tuple[bool, float, int]:
        cost = float(pu.switch_cost[k])
        return (not pu.normally_open[k], -cost if pu.normally_open[k] else cost, k)

    return sorted(run, key=keep_first)[1:]


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
                 "dangle_bus", "g_dangle", "b_dangle", "i_rating", "tap_rated",
                 "i_end")


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


def on_all_branches_model(full: PerUnitNetwork, part: PerUnitNetwork,
                          keep: np.ndarray) -> PerUnitNetwork:
    """The model that a point solved on ``part`` belongs to, on all branches of ``full``:
    ``full`` with the switchable branches (and their states) of ``part``, a model of the
    branches ``keep`` of ``full`` (:func:`without_fixed_open` after the options' holds and,
    where run, :func:`presolve`); the branches left out are fixed open. The point's groups
    per switchable branch (``u``, ``d``: to-end shunts, energised open ends; see
    :func:`feederopt.formulations.distflow.loss_terms`) follow ``part``'s switchable branches,
    so its losses are those of this model, not of ``full``, whose own switch states make a
    held branch switchable again (``--hold-closed`` on a pandapower net with devices: 8 loss
    terms on a point of 7, user test ut34_combo #1). Its point comes onto all branches with
    :func:`feederopt.algorithms.base.on_all_branches`."""
    model = replace(full, switchable=np.zeros(full.n_branch, bool),
                    normally_open=np.ones(full.n_branch, bool))
    model.switchable[keep] = part.switchable
    model.normally_open[keep] = part.normally_open
    return model


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
        # merge (:mod:`feederopt.io.parallel` merges plain lines, and pandapower
        # transformers of one ratio; user tests ut_io #4, ut48_simb #3).
        a, b = sorted(pu.bus_ids[k] for k in next(iter(ends)))
        return replace(problem, message=problem.message + " that cannot open: a double "
                       f"circuit between buses {a} and {b}, which is merged into one branch "
                       "only where both are plain lines (no tap or asymmetric shunt) read "
                       "from a file, or pandapower transformers from the same hv bus at the "
                       "same ratio", field="switchable",
                       hint="make one of them switchable or normally open, give them as "
                       "one branch (their parallel impedance), or give parallel transformers "
                       "the same tap position")
    which = "it" if len(problem.ids) == 1 else "one of them"
    return replace(problem, message=problem.message + " that cannot open", field="switchable",
                   hint=f"make {which} switchable or normally open")
