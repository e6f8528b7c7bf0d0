"""Backward/forward sweep: the exact DistFlow power flow of a radial topology, in NumPy.

For a tree the branch-flow equations of Baran & Wu ("Network reconfiguration in distribution
systems for loss reduction and load balancing", IEEE TPWRD 4(2), 1989) are solved by a fixed
point iteration over the tree, with ``v`` the squared voltage magnitude and branch ``e`` from
parent ``i`` to child ``j``:

    backward:  S_j = s_j + sum_{c child edge of j} S_c^send,   l_e = |S_j|^2 / v_j,
               S_e^send = S_j + z_e l_e
    forward:   v_j = v_i - 2 (r_e P_e^send + x_e Q_e^send) + |z_e|^2 l_e

``s_j`` is the net load of bus ``j`` (demand minus generation, plus the shunts' ``(g - j b) v``
of the bus and of the ends of its closed branches), sources hold their set-point. A tap
``tap`` at the from end of a branch scales the voltage that its series impedance sees to
``v_f / tap^2`` (:mod:`feederopt.network.perunit`), on whichever side of the tree the from end
lies. The losses are ``sum_e r_e l_e`` plus the branches' shunt ``g v`` (what a bus shunt
consumes is a load). With fixed injections this is the power flow that the SOCP slave
reproduces when its relaxation is exact, at well under a millisecond instead of a conic
solve (0.6-0.7 ms of CPU on case33bw to case136ma, 5.5 ms on the 2940-bus lv_schutterwald),
which is what the heuristics need to screen many candidate topologies (the SOCP confirms
the ones they keep). Both sweeps are sums over the tree (:class:`_TreeSums`, one
``np.bincount`` each), with no Python loop over the buses.

PV buses (a generator holding its bus voltage, :meth:`PerUnitNetwork.pv_buses`) get, after each
forward sweep, the reactive injection that restores ``v = v_set^2`` by the sensitivity of the
lossless sweep (the PV compensation of Shirmohammadi, Hong, Semlyen & Luo, "A
compensation-based power flow method for weakly meshed distribution and transmission
networks", IEEE TPWRS 3(2), 1988, on the squared voltages of DistFlow); a bus whose
generators reach their q limits keeps the limit and turns PQ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.distflow import (
    dangling_branches,
    effective_ratings,
    switchable_shunts,
)
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import radial_parents

#: How far [p.u., squared voltage] a PV bus that follows a fused bus's voltage
#: (:func:`_pv_setup`) may end off its set-point before the sweep reports no power flow.
FUSED_V_TOL = 1e-8


@dataclass(frozen=True)
class SweepResult:
    losses: float  # sum r l [p.u.]
    v: np.ndarray  # squared voltage magnitude per bus [p.u.]
    converged: bool
    l_branch: np.ndarray | None = None  # squared current per branch [p.u.] (0 when open)
    p_branch: np.ndarray | None = None  # sending-end flow, signed from ``f`` to ``t`` [p.u.]
    q_branch: np.ndarray | None = None
    q_inj: np.ndarray | None = None  # generators' reactive injection per bus [p.u.] (PV solved)
    # the tree swept: each bus's parent branch and parent bus (-1 at sources), from which
    # :func:`~feederopt.network.topology.exchanged_parents` gives a neighbour's
    tree: tuple[np.ndarray, np.ndarray] | None = None

    def point(self, pu: PerUnitNetwork) -> dict[str, np.ndarray]:
        """The flow as a point of the DistFlow block's groups ``P``, ``Q``, ``l``, ``v``,
        ``w`` (``w`` = the from-bus ``v`` on closed branches), on the boundary of every closed
        branch's cone ``P^2 + Q^2 = w l``: where OA cuts are tangent."""
        p = np.zeros(pu.n_branch) if self.p_branch is None else self.p_branch
        q = np.zeros(pu.n_branch) if self.q_branch is None else self.q_branch
        on = (self.l_branch if self.l_branch is not None else np.zeros(pu.n_branch)) > 0
        w = np.where(on, self.v[pu.f] * pu.tap2, 0.0)
        l_val = np.where(on, (p**2 + q**2) / np.maximum(w, 1e-9), 0.0)
        out = {"P": p, "Q": q, "l": l_val, "v": self.v, "w": w}
        _, sh_to = switchable_shunts(pu)
        if len(sh_to):
            out["u"] = np.where(on, self.v[pu.t], 0.0)[sh_to]
        dang = dangling_branches(pu)
        if len(dang):
            out["d"] = np.where(on[dang], 0.0, self.v[pu.dangle_bus[dang]])
        return out

    def violation(self, pu: PerUnitNetwork) -> float:
        """The phase-1 objective (:func:`~feederopt.formulations.distflow.slack_objective`) at
        this flow [p.u.]: the slack that its voltages, currents and branch powers need,

            sum_j [max(0, v_min_j^2 - v_j) + max(0, v_j - v_max_j^2)]
            + sum_rated max(0, (l_e - i_max_e^2) / (2 i_max_e))
            + sum_thermal max(0, |S_e| - s_max_e)

        with no balance slack (the loads are served). The sweep's flow satisfies DistFlow with
        its cones tight, so with these slacks it is a point of the phase-1 SOCP: the value is an
        upper bound on the topology's least total slack (equal when the slave would not shed
        load to relieve a limit), and 0 exactly when :meth:`within_limits` holds (tol 0).
        Infinite for a flow that did not converge."""
        if not self.converged:
            return float("inf")
        load = pu.banded()  # the slack rows' buses: no source, no bus a generator holds
        total = float(np.sum(np.clip(pu.v_min[load] ** 2 - self.v[load], 0.0, None))
                      + np.sum(np.clip(self.v[load] - pu.v_max[load] ** 2, 0.0, None)))
        rated, thermal = effective_ratings(pu)
        if self.l_branch is not None and len(rated):
            imax = pu.i_max[rated]
            total += float(np.sum(np.clip((self.l_branch[rated] - imax**2) / (2 * imax),
                                          0.0, None)))
        if self.p_branch is not None and self.q_branch is not None and len(thermal):
            s = np.hypot(self.p_branch[thermal], self.q_branch[thermal])
            total += float(np.sum(np.clip(s - pu.s_max[thermal], 0.0, None)))
        return total

    def within_limits(self, pu: PerUnitNetwork, tol: float = 1e-6) -> bool:
        """Voltage, current and branch apparent-power limits hold, the last on ``(P, Q)`` as
        the SOCP's thermal cone writes them (source limits are not checked)."""
        load = pu.banded()
        if np.any(self.v[load] < pu.v_min[load] ** 2 - tol) or np.any(
                self.v[load] > pu.v_max[load] ** 2 + tol):
            return False
        if self.l_branch is not None:
            lim = np.isfinite(pu.i_max)
            if np.any(self.l_branch[lim] > pu.i_max[lim] ** 2 + tol):
                return False
        if self.p_branch is not None and self.q_branch is not None:
            lim = np.isfinite(pu.s_max)
            if np.any(np.hypot(self.p_branch[lim], self.q_branch[lim]) > pu.s_max[lim] + tol):
                return False
        return True


def sweep(pu: PerUnitNetwork, closed: np.ndarray, p_inj: np.ndarray | None = None,
          q_inj: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 50,
          parents: tuple[np.ndarray, np.ndarray] | None = None) -> SweepResult | None:
    """Power flow of the radial topology ``closed`` (see module docstring); ``p_inj``,
    ``q_inj`` are generator injections per bus [p.u.] (default: the set-points). None when
    ``closed`` is not radial. ``parents``: the tree of ``closed`` when the caller knows it,
    each bus's parent branch and parent bus (-1 at sources, :func:`~feederopt.network.
    topology.radial_parents`; :func:`exchanged_parents` for a branch exchange), trusted as
    given.

    Sums over subtrees (the backward sweep) and over root paths (the forward sweep) are
    ``np.bincount`` over the pairs (ancestor, descendant) of the tree, :class:`_TreeSums`: no
    Python loop over the buses and no sparse factorisation (before session 53: two SuperLU
    factorisations per call and a breadth-first search in Python)."""
    if parents is None:
        parents = radial_parents(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
        if parents is None:
            return None
    parent_edge, parent = parents
    n = pu.n_bus
    if p_inj is None or q_inj is None:
        p_inj = np.zeros(n)
        q_inj = np.zeros(n)
        np.add.at(p_inj, pu.gen_bus, pu.gen_p_set)
        np.add.at(q_inj, pu.gen_bus, pu.gen_q_set)
    children = np.flatnonzero(parent >= 0)
    edge = parent_edge[children]
    par = parent[children]
    on = np.zeros(pu.n_branch, dtype=bool)
    on[edge] = True
    # Shunts acting on each bus's v: bus shunts and both ends of the tree's branches.
    a = pu.tap2
    g_v, b_v = pu.p_shunt.copy(), pu.q_shunt.copy()
    if not g_v.size:
        g_v = np.zeros(n)
    if pu.g_open_end.size:  # open ends of left-out branches, a loss (bus_g below excludes it)
        g_v = g_v + pu.g_open_end
    if pu.has_branch_shunts():
        np.add.at(g_v, pu.f[on], pu.g_from[on] * a[on])
        np.add.at(g_v, pu.t[on], pu.g_to[on])
        np.add.at(b_v, pu.f[on], pu.b_from[on] * a[on])
        np.add.at(b_v, pu.t[on], pu.b_to[on])
        dang = pu.dangling()
        dang = dang[~on[dang]]
        if len(dang):
            np.add.at(g_v, pu.dangle_bus[dang], pu.g_dangle[dang])
            np.add.at(b_v, pu.dangle_bus[dang], pu.b_dangle[dang])
    r, x = np.zeros(n), np.zeros(n)  # of each bus's parent branch (0 at sources)
    r[children], x[children] = pu.r[edge], pu.x[edge]
    # The series impedance sees a_par v_parent and a_own v_j (the tap's side gets 1/tap^2).
    a_par, a_own = np.ones(n), np.ones(n)
    down = pu.f[edge] == par
    a_par[children] = np.where(down, a[edge], 1.0)
    a_own[children] = np.where(down, 1.0, a[edge])
    # M = I - A with A[parent(j), j] = 1: M^-1 sums over subtrees. K = diag(a_own) - B with
    # B[j, parent(j)] = a_par[j]: K v = rhs walks the root paths.
    sums = _TreeSums(parent, a_par, a_own)
    q_inj = np.array(q_inj, dtype=float)
    pv, v_pv, sens, q_pv, q_lo, q_hi, follow, v_follow, lead_of = _pv_setup(
        pu, sums, x, q_inj, children, edge)
    root_v = np.where(pu.is_source, pu.v_set**2, 0.0)
    v = sums.forward(root_v)  # flat start: each tree at its source's voltage
    l_e = np.zeros(n)
    converged = False
    # P and Q side by side (rows 0 and 1): one subtree sum for both, the same arithmetic per
    # element as two separate sweeps.
    rx = np.vstack((r, x))
    z2 = r**2 + x**2
    shunt = np.vstack((g_v, -b_v)) if np.any(g_v) or np.any(b_v) else None
    taps = sums.h is not None
    fixed = np.vstack((pu.p_load - p_inj, pu.q_load - q_inj))
    for _ in range(max_iter):
        s_net = fixed if shunt is None else fixed + shunt * v
        loss_flow = rx * l_e
        send = sums.subtree2(s_net + loss_flow)
        recv = send - loss_flow
        l_new = np.where(pu.is_source, 0.0, (recv[0] ** 2 + recv[1] ** 2)
                         / np.maximum(a_own * v if taps else v, 1e-6))
        send = send + rx * (l_new - l_e)
        l_e = l_new
        drop = 2 * (rx[0] * send[0] + rx[1] * send[1]) - z2 * l_e
        v_new = sums.forward(root_v - np.where(pu.is_source, 0.0, drop))
        if np.any(v_new <= 0):
            return SweepResult(float("inf"), v_new, False)
        delta = float(np.max(np.abs(v_new - v)))
        v = v_new
        if len(pv):
            # PV buses: the reactive injection that brings v back to v_set^2, by the
            # sensitivity of the lossless sweep; a bus at its q limit turns PQ (as
            # pp.runpp(enforce_q_lims=True)).
            try:
                step = np.linalg.solve(sens, v_pv**2 - v[pv])
            except np.linalg.LinAlgError:  # a PV bus whose reactive power moves no voltage
                return SweepResult(float("inf"), v, False)
            q_new = np.clip(q_pv + step, q_lo, q_hi)
            q_inj[pv] += q_new - q_pv
            fixed[1] = pu.q_load - q_inj
            delta = max(delta, float(np.max(np.abs(q_new - q_pv))))
            q_pv = q_new
            held = (q_new > q_lo) & (q_new < q_hi)
            if not held.all():
                pv, v_pv, sens, q_pv = pv[held], v_pv[held], sens[np.ix_(held, held)], q_pv[held]
                q_lo, q_hi = q_lo[held], q_hi[held]
                # the buses that followed a group now PQ follow no set-point either
                stays = (lead_of < 0) | held[np.maximum(lead_of, 0)]
                renumber = np.cumsum(held) - 1
                follow, v_follow = follow[stays], v_follow[stays]
                lead_of = np.where(lead_of[stays] < 0, -1, renumber[np.maximum(lead_of[stays], 0)])
                delta = np.inf
        if delta < tol:
            # A PV bus fused with a source or another PV bus holds its set-point only if
            # that bus holds the same voltage: set-points that disagree have no power flow.
            converged = bool(np.all(np.abs(v[follow] - v_follow**2) <= FUSED_V_TOL))
            break
    l_branch = np.zeros(pu.n_branch)
    l_branch[edge] = l_e[children]
    # DistFlow's P_e is the power leaving f towards t; a branch fed from t carries minus the
    # power that arrives at f.
    p_branch, q_branch = np.zeros(pu.n_branch), np.zeros(pu.n_branch)
    ps, qs, lc = send[0, children], send[1, children], l_e[children]
    p_branch[edge] = np.where(down, ps, -(ps - r[children] * lc))
    q_branch[edge] = np.where(down, qs, -(qs - x[children] * lc))
    bus_g = pu.p_shunt if pu.p_shunt.size else 0.0  # a bus shunt's power is a load
    losses = float(np.sum(r * l_e) + np.sum((g_v - bus_g) * v))
    return SweepResult(losses, v, converged, l_branch, p_branch, q_branch, q_inj,
                       parents)


def _pv_setup(pu: PerUnitNetwork, sums: _TreeSums, x: np.ndarray, q_inj: np.ndarray,
              children: np.ndarray, edge: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
        np.ndarray, np.ndarray]:
    """The PV buses of the sweep (local to it): the buses whose reactive injection it solves
    for, their set-points, the sensitivity ``d v_j / d q_k = [K^-1 diag(2 x) M^-1]_jk`` of
    their squared voltages to their reactive injections (the lossless backward/forward sweep,
    linear in the injections), what their PV generators inject now (``q_inj`` less the other
    generators' set-points) and their q limits, then the PV buses that follow another's
    voltage, their set-points (checked once the sweep converged) and the position of the PV
    bus they follow (-1: a source's).

    Buses fused by the tree's ideal branches (zero impedance: a closed bus-bus switch, a
    substation coupler) share one voltage, so the PV buses of one such group are one PV bus:
    its first bus takes the group's reactive injection (its sensitivity is every member's)
    within the sum of their limits, and the others follow. A group that holds a source is
    held by it (the source absorbs the reactive power): its PV buses only follow. Solving
    for two injections that move the same voltage made ``sens`` singular (user test ut41_io
    #1: a gen on the busbar section that a closed coupler joins to the source bus,
    ``LinAlgError: Singular matrix``)."""
    from scipy.sparse.csgraph import connected_components

    buses, v_set, lo, hi = pu.pv_buses()
    empty = np.zeros(0)
    if not len(buses):
        return buses, empty, np.zeros((0, 0)), empty, empty, empty, buses, empty, buses
    n = pu.n_bus
    other = ~np.isfinite(pu.gen_v_set) & np.isin(pu.gen_bus, buses)
    q_now = q_inj[buses].copy()  # the PV generators' injection per bus
    np.subtract.at(q_now, np.searchsorted(buses, pu.gen_bus[other]), pu.gen_q_set[other])
    ideal = (pu.r[edge] == 0) & (pu.x[edge] == 0)
    par = np.where(pu.f[edge] == children, pu.t[edge], pu.f[edge])
    _, group = connected_components(sp.csr_matrix(
        (np.ones(int(ideal.sum())), (children[ideal], par[ideal])), shape=(n, n)),
        directed=False)
    held = np.zeros(int(group.max()) + 1, dtype=bool)
    held[group[pu.is_source]] = True
    g = group[buses]
    free = ~held[g]
    _, first, pos = np.unique(g[free], return_index=True, return_inverse=True)
    lead = np.flatnonzero(free)[first]
    follow = np.ones(len(buses), dtype=bool)
    follow[lead] = False
    lead_of = np.full(len(buses), -1)
    lead_of[free] = pos

    def per_group(a: np.ndarray) -> np.ndarray:
        out = np.zeros(len(lead))
        np.add.at(out, pos, a[free])
        return out

    pv = buses[lead]
    unit = np.zeros((n, len(pv)))
    unit[pv, np.arange(len(pv))] = 1.0
    sens = sums.forward(2.0 * x[:, None] * sums.subtree(unit))[pv]
    return (pv, v_set[lead], sens, per_group(q_now), per_group(lo), per_group(hi),
            buses[follow], v_set[follow], lead_of[follow])



class _TreeSums:
    """The two triangular solves of the sweep on a tree given by each bus's ``parent`` (-1 at
    sources), as sums over the pairs (ancestor ``i``, descendant ``j``) of the tree, ``j``
    itself included (``sum_j depth_j + 1`` pairs, 1112 on case136ma, 38355 on the 2940-bus
    lv_schutterwald), each one ``np.bincount``:

        subtree:  (M^-1 b)_i = sum_{j in subtree(i)} b_j                  (backward sweep)
        forward:  v_j = (c_j + a_par_j v_parent(j)) / a_own_j, i.e.     (forward sweep)
                  v_j = H_j sum_{i ancestor of j} c_i / (a_own_i H_i),
                  H_j = prod_{i ancestor of j} a_par_i / a_own_i

    (``M = I - A``, ``K = diag(a_own) - B`` as in :func:`sweep`; ``H = 1`` and ``a_own = 1``
    without taps, and ``K^-1 c`` is then the sum of ``c`` over the root path). Both take a
    vector or a matrix of columns."""

    def __init__(self, parent: np.ndarray, a_par: np.ndarray, a_own: np.ndarray) -> None:
        n = len(parent)
        node = np.arange(n)
        anc = node
        rows, cols = [anc], [node]
        while True:  # one round per level of depth, not per bus
            up = parent[anc]
            keep = up >= 0
            if not keep.any():
                break
            anc, node = up[keep], node[keep]
            rows.append(anc)
            cols.append(node)
        self.n = n
        self.anc = np.concatenate(rows)
        self.desc = np.concatenate(cols)
        self.a_own = a_own
        self._anc2: np.ndarray | None = None
        self._desc2 = self.desc
        self.h: np.ndarray | None = None
        if np.any(a_par != 1.0) or np.any(a_own != 1.0):
            self.h = np.exp(self._sum(self.desc, self.anc, np.log(a_par / a_own)))

    def _sum(self, to: np.ndarray, of: np.ndarray, b: np.ndarray) -> np.ndarray:
        if b.ndim == 1:
            return np.bincount(to, weights=b[of], minlength=self.n)
        out = np.empty((self.n, b.shape[1]))
        for c in range(b.shape[1]):
            out[:, c] = np.bincount(to, weights=b[of, c], minlength=self.n)
        return out

    def subtree(self, b: np.ndarray) -> np.ndarray:
        """``M^-1 b``: each bus's sum of ``b`` over its subtree (per column of a matrix)."""
        return self._sum(self.anc, self.desc, b)

    def subtree2(self, b: np.ndarray) -> np.ndarray:
        """:meth:`subtree` of both rows of a ``(2, n)`` array in one ``np.bincount``."""
        if self._anc2 is None:
            self._anc2 = np.concatenate((self.anc, self.anc + self.n))
            self._desc2 = np.concatenate((self.desc, self.desc + self.n))
        return np.bincount(self._anc2, weights=b.ravel()[self._desc2],
                           minlength=2 * self.n).reshape(2, self.n)

    def forward(self, c: np.ndarray) -> np.ndarray:
        """``K^-1 c``: the squared voltages that the drops ``c`` give down the root paths."""
        if self.h is None:
            return self._sum(self.desc, self.anc, c)
        h = self.h if c.ndim == 1 else self.h[:, None]
        own = self.a_own if c.ndim == 1 else self.a_own[:, None]
        return h * self._sum(self.desc, self.anc, c / (own * h))
