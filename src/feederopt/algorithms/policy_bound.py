"""A valid upper bound on the C&CG worst case ``max_{xi in U} Q(x, xi)`` from a feasible recourse
*policy*: a restriction of the second stage, as in the affine decision rules of Ben-Tal,
Goryashko, Guslitzer & Nemirovski ("Adjustable robust solutions of uncertain linear programs",
Math. Program. 99(2), 2004), here with fixed (not optimised) coefficients, checked and priced
exactly over the budget set.

For a first stage ``x`` (topology, storage modes, commitment) and any realisation ``xi``,
``Q(x, xi) <= cost(y(xi))`` for every recourse ``y(xi)`` feasible at ``xi``. The policy:

* ``y(xi) = y0 + sum_j xi_j r_j`` with ``y0`` the optimal recourse of the forecast,
  ``Q(x, 0)``: storage, EV, DG commitment, DSM shifts and curtailment stay at their forecast
  values, and each binary ``xi_j`` of the budget set (``xp_{n,h}``, ``xm_{n,h}``: load of bus
  ``n`` in hour ``h`` at ``pd (1 +- gamma)``; ``xr_{u,h}``: renewable unit ``u`` at ``p_hat
  (1 - dev)``) has a response ``r_j`` in its own hour:
  - a load deviation ``c = +-gamma pd_{n,h}`` (and ``k_n c`` reactive) moves the bus's demand
    ``pdr`` by ``rho_n c`` with ``rho_n = pdr0_n / pd_n`` (``pdr0 (1 + gamma delta)`` stays in
    the DSM band ``(1 +- eps) pd(xi)``, which scales with ``pd(xi)``) and, with DSM, a partner
    bus's ``pdr`` by the rest ``(1 - rho_n) c`` (so the hour's total follows ``sum pd(xi)``;
    the partner's room is its band's at its own worst deviation, and keeps ``pr <= pdr``);
    without DSM ``rho = 1``. The deviation is absorbed by one absorber, or split between
    two in fixed shares (``_Greedy.SPLITS``): a DG unit
    with headroom (``c`` up or down within ``[p_min u, p_max u]``), the substation (``ps``
    within ``[0, ps_max]``, at the hour's purchase price ``c_s,h``; the import row ``ps +
    sum_b (phi_b(P) + phi_b(Q)) <= ps_max`` is checked over the set with the losses' chord
    bound below), a renewable unit's extra spill (``c < 0``, at ``c_spill``) or less spill
    where the forecast spills (``c > 0``: the free renewable energy the forecast left unused;
    24 h case69bw spills 0.2-0.6 MW at midday), or, for ``c > 0`` and without DSM,
    curtailment at the bus itself (``pr`` and ``pdr`` up together, at ``c_shed``: always
    feasible, flows unchanged); its reactive part likewise by reactive absorbers (a DG
    unit's ``qdg`` within ``[0, q_max u]`` or the substation's ``qs``, both free);
  - a renewable shortfall ``D = p_hat dev`` first reduces that unit's spill (``s = min(spill0,
    D)``) and the rest ``D - s`` is absorbed like a load increase at the unit's bus.
  The absorbers are chosen greedily, the largest deviations first, each by the increase of the
  hour's cost it causes with the deviations already assigned in the same direction counted
  (``price c + c_l sum_b (phi_b(P0 + D + dP) - phi_b(P0 + D))``, ``D`` the flow change of those
  deviations together), which spreads the deviations over the units as a re-dispatch would.
  Each absorber's usage is accounted for the worst hour (every element deviating at once,
  which the temporal budget allows), so the device bounds hold for every ``xi``.
* In an hour's fixed spanning tree the LinDistFlow flows and voltages are linear in the
  injections (Baran & Wu, IEEE TPWRD 4(2), 1989): ``P_down = A^T cons``, ``v_k = v_root -
  2 sum_{b in path(k)} (r_b P_down,b + x_b Q_down,b)`` with ``A[k, b] = 1`` when branch ``b``
  is on the path from the root to ``k``. So every row of the second stage (flow limits,
  voltage limits, device, substation, DSM bounds) is ``a0 + sum_j a_j xi_j`` and its maximum
  over the budget set is exact: per uncertain element ``e`` (a bus or a renewable unit) at
  most ``Gamma_e`` hours, one sign per hour, so ``max = sum_e w_e max(0, a_{xp}, a_{xm})`` for
  a row of one hour (``w_e = min(1, Gamma_e)``) and the top-``Gamma_e`` hours for a sum over
  hours (a sort; the fractional part of ``Gamma_e`` at its weight, which bounds the binary
  set as well as its convex hull).
* The loss ``phi_b(P) = r_b max(0, max_a (2 a P - a^2))`` (the model's tangents, convex) of
  ``P_b(xi) = P0 + d(xi)`` with ``d in [-w_-, w_+]`` (the exact range over the set): ``phi``
  lies below its chords, so with ``s_+ = (phi(P0 + w_+) - phi(P0)) / w_+`` and ``s_- =
  (phi(P0) - phi(P0 - w_-)) / w_-`` (``s_- <= s_+``),
  ``phi(P0 + d) - phi(P0) <= max(s_+ d, s_- d) = (s_+ + s_-)/2 d + (s_+ - s_-)/2 |d|``
  ``<= sum_j ((s_+ + s_-)/2 d_j + (s_+ - s_-)/2 |d_j|) xi_j`` (``xi_j >= 0``,
  ``|d| <= sum_j |d_j| xi_j``). The same for ``Q_b``.
* A second valid linearisation, the telescoped increments: order the columns (largest
  first-order value first); with ``S_j`` the running sum of the positive parts ``d_j^+``,
  ``phi(P0 + D^+) - phi(P0) <= sum_j xi_j (phi(P0 + S_j) - phi(P0 + S_{j-1}))`` (the increment
  of a convex ``phi`` grows with the flow already added, at most ``S_{j-1}``), the same for the
  negative parts, and ``phi(P0 + D^+ - D^-) + phi(P0) <= phi(P0 + D^+) + phi(P0 - D^-)``
  (Karamata's inequality: the right-hand pair majorises the left). Any order is valid;
  besides the first-order one, ``ROUNDS`` re-ordered variants put first the columns most often
  active at the maximisers found so far (so that those get the small increments at the
  bottom of the range: the bound at a maximiser is then close to the policy's exact cost
  there). Measured at the first master's first stage of the 24 h robust case33bw: 15.637 ->
  15.541 $ (worst case found 15.317 $), case69bw 4.857 -> 4.803 $ (4.544 $), about 0.5 s and
  1 s more. The smallest of all the maxima is the bound.
* Hence ``Q(x, xi) <= cost0 + sum_j beta_j xi_j`` on the whole set, with ``cost0`` the policy's
  cost at the forecast (``<= Q(x, 0)``), and the bound is its maximum over the set, a
  per-element sort. The maximiser is a candidate worst case.

When a check fails (a flow, voltage or import limit, no absorber or DSM partner with room
left, the forecast's curtailment above a lowered demand, or a topology that is not a
spanning tree) no bound is returned: the policy is not proven feasible.

On the aggregate-ratio set (``--aggregate lo,hi``; user test ut49_sched #1) every point lies in
the box of one deviation per uncertain bus and hour, which the rows are checked over (weight 1
per element and hour, every element at once); the cost bound ``cost0 + beta xi`` is maximised
over the set's binary points, per hour a small MILP (:func:`_aggregate_max`).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from feederopt.formulations.schedule import ScheduleData, nominal
from feederopt.network.topology import tree_order

ROUNDS = 8  # re-ordered telescoped variants (accumulated maximisers first)
TOL = 1e-7  # the LP's primal feasibility tolerance: the nominal point is feasible within it
#: seconds per hour's MILP of the aggregate-ratio set's maximum (:func:`_aggregate_max`)
AGGREGATE_MILP_S = 10.0


@dataclass
class PolicyTerms:
    """The policy's cost as a function of ``xi``: ``cost0 + sum_h (direct_h xs_h + c_loss
    sum_b (phi_b(P0_h + dP_h xs_h) - phi_b(P0_h)) + the same for Q)``, with ``xs_h`` the
    columns of hour ``h`` (:func:`policy_cost`); ``betas`` the valid linear bounds ``cost0 +
    beta xi`` (chord, telescoped; the telescoped ones for binary ``xi``)."""

    hours: list[tuple[int, _Elements, np.ndarray, np.ndarray, np.ndarray]]
    cost0: float
    p0: np.ndarray  # (H, m)
    q0: np.ndarray  # (H, m)
    betas: list[dict[str, np.ndarray]]


@dataclass
class PolicyBound:
    """``value >= max_xi Q(x, xi)`` when ``value`` is not None (``reason`` says why not)."""

    value: float | None
    xi: dict[str, np.ndarray] | None
    nominal_cost: float  # the policy's cost at the forecast, cost0
    reason: str
    solve_s: float
    policy_cost: float = math.nan  # the policy's exact cost at ``xi`` (>= Q(x, xi))
    xi_first_order: dict[str, np.ndarray] | None = None  # a second candidate worst case
    variants: tuple[float, ...] = ()  # each valid linearisation's bound (chord, telescoped)
    terms: PolicyTerms | None = None  # the policy's cost function (module policy_max)


def tree_paths(n: int, root: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(A, s)`` of a spanning tree: ``A[k, b] = 1`` when branch ``b`` is on the path from
    ``root`` to bus ``k``; ``s_b = +1`` when ``f_b`` is the parent (``P_b = s_b P_down,b``).
    None when the closed branches are not a spanning tree (the breadth-first order of
    :func:`feederopt.network.topology.tree_order`)."""
    sources = np.zeros(n, bool)
    sources[root] = True
    tree = tree_order(n, f, t, closed > 0.5, sources)
    if tree is None:
        return None
    order, parent_edge, _ = tree
    a = np.zeros((n, len(f)))
    s = np.zeros(len(f))
    for j in (int(v) for v in order[1:]):
        b = int(parent_edge[j])
        k = int(f[b]) if int(t[b]) == j else int(t[b])  # the parent bus
        s[b] = 1.0 if int(f[b]) == k else -1.0
        a[j] = a[k]
        a[j, b] = 1.0
    return a, s


def pwl_loss(d: ScheduleData, p: np.ndarray) -> np.ndarray:
    """``phi_b(P) = r_b max(0, max_{a in +-A} (2 a P - a^2))`` per branch (columns of ``p``)."""
    a = np.asarray(d.tangents, float)
    a = np.concatenate([a, -a])
    tang = 2.0 * p[..., None] * a - a * a
    return d.r * np.maximum(0.0, tang.max(axis=-1))


def _chord(d: ScheduleData, p0: np.ndarray, up: np.ndarray, dn: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(mid, half)`` with ``phi(p0 + e) - phi(p0) <= mid e + half |e|`` on ``e in [-dn, up]``."""
    f0 = pwl_loss(d, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sp_ = np.where(up > 0, (pwl_loss(d, p0 + up) - f0) / up, np.nan)
        sm = np.where(dn > 0, (f0 - pwl_loss(d, p0 - dn)) / dn, np.nan)
    sp_ = np.where(np.isnan(sp_), np.nan_to_num(sm), sp_)
    sm = np.where(np.isnan(sm), sp_, sm)
    hi = np.maximum(sp_, sm)  # s_- <= s_+ by convexity; max/min guard rounding
    lo = np.minimum(sp_, sm)
    return 0.5 * (hi + lo), 0.5 * (hi - lo)


@dataclass
class _Elements:
    """The columns ``j`` of one hour: kind 0 ``xp``, 1 ``xm`` (load of bus ``elem``), 2 ``xr``
    (renewable unit ``elem``); ``weight = min(1, Gamma_elem)``."""

    kind: np.ndarray
    elem: np.ndarray
    weight: np.ndarray


def _row_max(coef: np.ndarray, el: _Elements, n: int, u: int) -> np.ndarray:
    """Max over the budget set of ``coef @ xi`` for rows of one hour (``coef``: rows x j)."""
    pos = np.maximum(coef, 0.0) * el.weight
    out = np.zeros(coef.shape[0])
    # per element the larger of its columns (xp and xm of a bus share the element)
    load = el.kind < 2
    if load.any():
        m = np.zeros((coef.shape[0], n))
        cols = np.flatnonzero(load)
        for j in cols:
            e = el.elem[j]
            m[:, e] = np.maximum(m[:, e], pos[:, j])
        out += m.sum(axis=1)
    res = np.flatnonzero(~load)
    if len(res):
        out += pos[:, res].sum(axis=1)
    return out


def _top_budget(vals: np.ndarray, budget: float) -> tuple[float, np.ndarray]:
    """Max of ``sum_h vals_h xi_h`` over ``0 <= xi <= 1``, ``sum xi <= budget``, and the hours of
    the binary top-``floor(budget)`` choice."""
    order = np.argsort(-vals)
    k = math.floor(budget + 1e-9)
    pos = vals[order]
    total = float(np.maximum(pos[:k], 0.0).sum())
    frac = budget - k
    if frac > 1e-9 and k < len(pos):
        total += frac * max(float(pos[k]), 0.0)
    chosen = order[:k][pos[:k] > 0]
    return total, chosen


class _Greedy:
    """Absorbers per column, in the order given: the choice that raises the hour's cost least,
    with the flows of the columns already assigned in the same direction counted (``est =
    price c + c_loss sum_b (phi(P0 + D + dp) - phi(P0 + D))``, ``D`` their sum), so that a path
    loaded by earlier columns costs more; capacities per direction. A choice is one absorber or
    a split of the column between two, shares ``SPLITS`` (the flows of a split are the mix of
    the two single choices', LinDistFlow being linear): splitting spreads the loss increase over
    two paths as the LP's re-dispatch does (24 h robust case33bw at the deterministic first
    stage: bound 15.541 -> 15.461 $, case69bw 4.803 -> 4.767 $; shares in tenths gave 15.448 and
    4.770 $ in three times the time)."""

    SPLITS = (0.25, 0.5, 0.75)

    def __init__(self, d: ScheduleData, a: np.ndarray, sgn: np.ndarray,
                 at: dict[tuple[str, int], int], p0: np.ndarray) -> None:
        self.d, self.a, self.sgn, self.at, self.p0 = d, a, sgn, at, p0
        self.load = {1: np.zeros(len(p0)), -1: np.zeros(len(p0))}
        self.used: dict[tuple[int, tuple[str, int]], float] = {}

    def pick(self, cons0: np.ndarray, caps: dict[tuple[str, int], float],
             price: dict[tuple[str, int], float],
             extra: tuple[float, tuple[str, int], np.ndarray] | None
             ) -> tuple[list[tuple[tuple[str, int], float]], np.ndarray] | None:
        """``cons0``: the column's consumption change per bus; the absorbers inject its sum
        ``c``. Returns the absorbers with their shares of ``c`` and the flow change; ``extra``
        (curtailment at the bus: its cost, key and flow change) is a single choice."""
        c = float(cons0.sum())
        side = 1 if c > 0 else -1
        base = self.p0 + self.load[side]
        phi0 = pwl_loss(self.d, base).sum()

        def est(cost: float, dp: np.ndarray) -> float:
            return cost + self.d.c_loss * float(pwl_loss(self.d, base + dp).sum() - phi0)

        cands: list[tuple[float, list[tuple[tuple[str, int], float]], np.ndarray]] = []
        if extra is not None:
            cands.append((extra[0], [(extra[1], 1.0)], extra[2]))
        singles = []
        for a, cap in caps.items():
            room = cap - self.used.get((side, a), 0.0)
            if room <= TOL:
                continue
            cons = cons0.copy()
            cons[self.at[a]] -= c
            dp = self.sgn * (self.a.T @ cons)
            singles.append((a, room, dp))
            if room >= abs(c) - TOL:
                cands.append((est(price[a] * c, dp), [(a, 1.0)], dp))
        for (a1, r1, d1), (a2, r2, d2) in itertools.combinations(singles, 2):
            for w in self.SPLITS:
                if r1 < w * abs(c) - TOL or r2 < (1 - w) * abs(c) - TOL:
                    continue
                dp = w * d1 + (1 - w) * d2
                cost = (w * price[a1] + (1 - w) * price[a2]) * c
                cands.append((est(cost, dp), [(a1, w), (a2, 1 - w)], dp))
        if not cands:
            return None
        _, shares, dp = min(cands, key=lambda z: z[0])
        for a, w in shares:
            if a in caps:
                self.used[(side, a)] = self.used.get((side, a), 0.0) + w * abs(c)
        self.load[side] += dp
        return shares, dp


def policy_bound(d: ScheduleData, x: dict[str, np.ndarray], closed: np.ndarray,
                 y0: dict[str, np.ndarray], q0: float) -> PolicyBound:
    """The policy's upper bound on ``max_xi Q(x, xi)`` (module docstring); ``closed`` the
    ``(H, m)`` branch states of ``x``, ``y0`` and ``q0`` the forecast's optimal recourse and its
    value ``Q(x, 0)``."""
    t0 = time.perf_counter()

    def fail(why: str) -> PolicyBound:
        return PolicyBound(None, None, math.nan, why, time.perf_counter() - t0)

    # the aggregate-ratio set (user test ut49_sched #1: without a bound the run showed the
    # MILP subproblem's McCormick bound, 664.55 $, against a worst case of 1.63 $): its
    # points lie in the box of one deviation per uncertain bus and hour (budget_load 1 marks
    # those buses), so the rows are checked over that box (weight 1 per element and hour,
    # every element at once, as with the temporal budget) and the cost's maximum is taken over
    # the band (maximise_linear): both bound the set's binary points
    if d.pv_bus is not None and len(d.pv_bus):
        # its policy holds the reactive power of a voltage-controlled bus fixed
        return fail("a voltage-controlled bus (gen): the policy bound does not model it")
    if d.tap2 is not None and np.any(d.tap2 != 1.0):
        # its voltage rows propagate deviations along the tree paths with tap 1
        return fail("a transformer tap: the policy bound's voltage rows assume tap 1")
    H, n, m = d.hours, d.n, d.m
    G, U = len(d.dg_bus), len(d.res_bus)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    gr = d.budget_res if d.budget_res is not None else np.zeros(U)
    P0 = y0["P"].reshape(H, m)
    Q0 = y0["Q"].reshape(H, m)
    v0 = y0["v"].reshape(H, n)
    pdg0 = y0["pdg"].reshape(H, G)
    ps0, qs0 = y0["ps"], y0["qs"]
    pres0 = y0["pres"].reshape(H, U)
    spill0 = y0["spill"].reshape(H, U)
    pdr0 = y0["pdr"].reshape(H, n)
    pr0 = y0["pr"].reshape(H, n)
    if d.commit and G:
        u = x["u"].reshape(H, G)
        pmin = d.dg_pmin if d.dg_pmin is not None else np.zeros(G)
        dg_lo, dg_hi, q_hi = pmin * u, d.dg_p * u, d.dg_q * u
    else:
        dg_lo, dg_hi = np.zeros((H, G)), np.tile(d.dg_p, (H, 1))
        q_hi = np.tile(d.dg_q, (H, 1))
    qdg0 = y0["qdg"].reshape(H, G)
    # the policy's cost at the forecast: the LP's, with lp, lq replaced by phi(P0), phi(Q0)
    cost0 = q0 + d.c_loss * float(pwl_loss(d, P0).sum() + pwl_loss(d, Q0).sum()
                                  - y0["lp"].sum() - y0["lq"].sum())
    buy = d.buy_price()  # c_s,h [$/MWh] per hour
    vlo, vhi = d.v_min2.copy(), d.v_max2.copy()
    vlo[d.root] = vhi[d.root] = d.v_root2
    beta: dict[str, np.ndarray] = {"xp": np.zeros((H, n)), "xm": np.zeros((H, n)),
                                   "xr": np.zeros((H, U))}
    first = {g: v.copy() for g, v in beta.items()}
    betas = [beta, {g: v.copy() for g, v in beta.items()}]
    hours_data: list[tuple[int, _Elements, np.ndarray, np.ndarray, np.ndarray]] = []
    trees: dict[bytes, tuple[np.ndarray, np.ndarray] | None] = {}
    kq = d.kq()  # (H, n) reactive demand per MW of each bus's demand
    for h in range(H):
        key = closed[h].astype(bool).tobytes()
        if key not in trees:
            trees[key] = tree_paths(n, d.root, d.f, d.t, closed[h])
        tree = trees[key]
        if tree is None:
            return fail(f"hour {h}: the closed branches are not a spanning tree")
        A, sgn = tree
        # the columns of this hour
        kinds, elems, amounts, buses, cuts = [], [], [], [], []
        for i in (int(v) for v in np.flatnonzero((gl > 0) & (d.pd[h] > 0))):
            c = d.gamma * d.pd[h, i]
            if c <= 0:
                continue
            kinds += [0, 1]
            elems += [i, i]
            amounts += [c, -c]
            buses += [i, i]
            cuts += [0.0, 0.0]
        for k in (int(v) for v in np.flatnonzero(gr > 0)):
            dd = d.res_hat[h, k] * d.res_dev[k]
            if dd <= 0:
                continue
            kinds.append(2)
            elems.append(k)
            cut = min(spill0[h, k], dd)
            cuts.append(cut)
            amounts.append(dd - cut)
            buses.append(int(d.res_bus[k]))
        if not kinds:
            continue
        el = _Elements(np.array(kinds), np.array(elems),
                       np.array([min(1.0, gl[e] if k < 2 else gr[e])
                                 for k, e in zip(kinds, elems, strict=True)]))
        amt = np.array(amounts)
        J = len(amt)
        bus = np.array(buses)
        # DSM: a load column moves its bus's pdr by rho c (rho = pdr0 / pd: pdr0 (1 + gamma
        # delta) stays in the band, which scales with pd(xi)) and a partner bus's by the rest
        # (1 - rho) c, so the hour's total follows pd(xi); the partner's room is the band's
        # at its own worst deviation. Without DSM rho = 1 and no partner.
        own_ = np.where(d.pd[h] > 0, pdr0[h] / np.where(d.pd[h] > 0, d.pd[h], 1.0), 1.0)
        wdev = np.where(gl > 0, 1.0 - d.gamma, 1.0)
        room = {1: wdev * ((1 + d.eps) * d.pd[h] - pdr0[h]),
                -1: np.minimum(wdev * (pdr0[h] - (1 - d.eps) * d.pd[h]),
                               wdev * pdr0[h] - pr0[h])}
        room = {k: np.where(d.pd[h] > 0, v, 0.0) for k, v in room.items()}
        cons_p = np.zeros((n, J))
        cons_q = np.zeros((n, J))
        for j in np.argsort(-np.abs(amt)):
            c = amt[j]
            if el.kind[j] == 2:
                cons_p[bus[j], j] = c
                continue
            i = int(el.elem[j])
            mine = own_[i] * c
            rest = c - mine
            cons_p[i, j], cons_q[i, j] = mine, kq[h, i] * mine
            if pr0[h, i] > pdr0[h, i] + mine + TOL:  # pr <= pdr at the bus itself
                return fail(f"hour {h}, bus {i}: the forecast's curtailment exceeds the "
                            "lowered demand")
            if abs(rest) > TOL:
                side = 1 if rest > 0 else -1
                avail = room[side].copy()
                avail[i] = 0.0
                k = int(np.argmax(avail))
                if avail[k] < abs(rest) - TOL:
                    return fail(f"hour {h}, bus {i}: no DSM room for the band to follow the "
                                "deviation")
                room[side][k] -= abs(rest)
                cons_p[k, j] += rest
                cons_q[k, j] += kq[h, k] * rest
        # absorbers: ("dg", g) | ("sub", -1) | ("shed", -1) | ("spill", k); capacities per
        # direction over the hour (every column at once: the worst case of the budget set)
        cap_up = {("dg", g): dg_hi[h, g] - pdg0[h, g] for g in range(G)}
        cap_dn = {("dg", g): pdg0[h, g] - dg_lo[h, g] for g in range(G)}
        cap_up[("sub", -1)] = d.ps_max - ps0[h]
        cap_dn[("sub", -1)] = ps0[h]
        for k in range(U):  # less use of a unit, less what its own shortfall takes already
            own = [amounts[j] for j in range(len(kinds)) if kinds[j] == 2 and elems[j] == k]
            cap_dn[("spill", k)] = pres0[h, k] - sum(own)
            # more use of a unit that the forecast spills (less spill), less what its own
            # shortfall un-spills already
            cut_k = sum(cuts[j] for j in range(len(kinds)) if kinds[j] == 2 and elems[j] == k)
            if spill0[h, k] - cut_k > TOL:
                cap_up[("spill", k)] = spill0[h, k] - cut_k
        # the substation at the hour's purchase price (a time-of-use price per hour)
        price = {("sub", -1): float(buy[h]), ("shed", -1): d.c_shed,
                 **{("dg", g): float(d.dg_cost[g]) for g in range(G)},
                 **{("spill", k): -d.c_spill for k in range(U)}}
        # for the absorbers: the bus where the injection changes
        at = {("sub", -1): d.root, **{("dg", g): int(d.dg_bus[g]) for g in range(G)},
              **{("spill", k): int(d.res_bus[k]) for k in range(U)}}
        # reactive absorbers (free): the substation's qs and the DG units' qdg
        qcap_up = {("sub", -1): d.ps_max - qs0[h],
                   **{("dg", g): q_hi[h, g] - qdg0[h, g] for g in range(G)}}
        qcap_dn = {("sub", -1): qs0[h] + d.ps_max, **{("dg", g): qdg0[h, g] for g in range(G)}}
        qprice = dict.fromkeys(qcap_up, 0.0)
        dP = np.zeros((m, J))
        dQ = np.zeros((m, J))
        direct = -d.c_spill * np.array(cuts)  # less spill where the unit falls short
        sub = np.zeros(J)  # the substation's share of each column [MW], for the import row
        greedy_p, greedy_q = _Greedy(d, A, sgn, at, P0[h]), _Greedy(d, A, sgn, at, Q0[h])
        for j in np.argsort(-np.abs(amt)):
            c = amt[j]
            if c == 0:
                continue
            # curtailment at the bus (pr and pdr up together), without DSM only (there pdr
            # moves by c exactly, so pr <= pdr holds)
            shed = (d.c_shed * c, ("shed", -1), np.zeros(m)) \
                if c > 0 and el.kind[j] == 0 and d.eps == 0 else None
            pick = greedy_p.pick(cons_p[:, j], cap_up if c > 0 else cap_dn, price, shed)
            if pick is None:
                return fail(f"hour {h}: no absorber left for a deviation of {c:.4g} MW")
            shares, dP[:, j] = pick
            direct[j] += sum(w * price[a] for a, w in shares) * c
            sub[j] = sum(w for a, w in shares if a == ("sub", -1)) * c
            qc = float(cons_q[:, j].sum()) if shares[0][0][0] != "shed" else 0.0
            if qc != 0.0:
                qpick = greedy_q.pick(cons_q[:, j], qcap_up if qc > 0 else qcap_dn, qprice,
                                      None)
                if qpick is None:
                    return fail(f"hour {h}: no reactive absorber left")
                dQ[:, j] = qpick[1]
        # exact checks of the hour's rows over the budget set
        closed_h = closed[h] > 0.5
        for arr0, dmat, cap_, what in ((P0[h], dP, d.flow_max, "P"),
                                       (Q0[h], dQ, d.flow_max_q, "Q")):
            up = _row_max(dmat, el, n, U)
            dn = _row_max(-dmat, el, n, U)
            lim = np.where(closed_h, cap_, 0.0)
            if np.any(arr0 + up > lim + TOL) or np.any(arr0 - dn < -lim - TOL):
                return fail(f"hour {h}: a flow limit ({what}) can be exceeded by the policy")
        dPd, dQd = sgn[:, None] * dP, sgn[:, None] * dQ
        dv = -2.0 * A @ (d.r[:, None] * dPd + d.x[:, None] * dQd)
        vup = _row_max(dv, el, n, U)
        vdn = _row_max(-dv, el, n, U)
        if np.any(v0[h] + vup > vhi + TOL) or np.any(v0[h] - vdn < vlo - TOL):
            return fail(f"hour {h}: a voltage limit can be reached by the policy")
        # the import row ps + sum_b (phi(P) + phi(Q)) <= ps_max over the budget set: the
        # substation's shares plus the chord bound of the loss increase (convex phi)
        imp = sub.copy()
        phi0 = 0.0
        for arr0, dmat in ((P0[h], dP), (Q0[h], dQ)):
            mid, half = _chord(d, arr0, _row_max(dmat, el, n, U), _row_max(-dmat, el, n, U))
            imp += mid @ dmat + half @ np.abs(dmat)
            phi0 += float(pwl_loss(d, arr0).sum())
        if ps0[h] + phi0 + _row_max(imp[None, :], el, n, U)[0] > d.ps_max + TOL:
            return fail(f"hour {h}: the import limit (with the losses) can be exceeded by the "
                        "policy")
        hours_data.append((h, el, dP, dQ, direct.copy()))
        # first-order coefficients (directional derivative of the loss at the forecast): the
        # ranking of a second candidate worst case, not a bound
        fo = direct.copy()
        for arr0, dmat in ((P0[h], dP), (Q0[h], dQ)):
            fo += d.c_loss * _directional(d, arr0, dmat)
        # the cost coefficients: direct + chord-bounded losses (variant 0) or the telescoped
        # increments, the columns of largest first-order value first (variant 1)
        coefs = [direct.copy() for _ in range(2)]
        orders = (np.argsort(-fo),)
        for arr0, dmat in ((P0[h], dP), (Q0[h], dQ)):
            up = _row_max(dmat, el, n, U)
            dn = _row_max(-dmat, el, n, U)
            mid, half = _chord(d, arr0, up, dn)
            coefs[0] += d.c_loss * (mid @ dmat + half @ np.abs(dmat))
            for v, order in enumerate(orders, start=1):
                coefs[v] += d.c_loss * _increments(d, arr0, dmat, order)
        for jc in range(J):
            name = ("xp", "xm", "xr")[int(el.kind[jc])]
            for v in range(2):
                betas[v][name][h, el.elem[jc]] = coefs[v][jc]
            first[name][h, el.elem[jc]] = fo[jc]
    # the maximum over the budget set: per element its best hours (a sort); every variant is
    # a valid bound, the smallest is kept
    tried = [maximise_linear(d, b) for b in betas]
    total, xi = min(tried, key=lambda z: z[0])
    # telescoped increments re-ordered: the columns active at the last maximiser first
    prev = xi
    freq = {g: np.zeros_like(v) for g, v in xi.items()}
    for _ in range(ROUNDS):
        for g in freq:
            freq[g] += prev[g]
        beta_r = {g: np.zeros_like(v) for g, v in beta.items()}
        for h, el, dP, dQ, direct in hours_data:
            names, xs = _columns(freq, h, el, n, U)
            fo_h = np.array([first[nm][h, e] for nm, e in zip(names, el.elem, strict=True)])
            order = np.lexsort((-fo_h, -xs))
            coef = direct.copy()
            for arr0, dmat in ((P0[h], dP), (Q0[h], dQ)):
                coef += d.c_loss * _increments(d, arr0, dmat, order)
            for jc in range(len(el.kind)):
                beta_r[names[jc]][h, el.elem[jc]] = coef[jc]
        t_r, xi_r = maximise_linear(d, beta_r)
        betas.append(beta_r)
        tried.append((t_r, xi_r))
        if t_r < total:
            total, xi = t_r, xi_r
        prev = xi_r
    xi_first = maximise_linear(d, first)[1]
    terms = PolicyTerms(hours_data, cost0, P0, Q0, betas)
    return PolicyBound(total + cost0, xi, cost0, "policy feasible on the budget set",
                       time.perf_counter() - t0, policy_cost(d, terms, xi), xi_first,
                       tuple(cost0 + t[0] for t in tried), terms)


def policy_cost(d: ScheduleData, terms: PolicyTerms, xi: dict[str, np.ndarray]) -> float:
    """The policy's exact cost at ``xi`` (>= ``Q(x, xi)``; the loss ``phi`` of its flows)."""
    n, U = d.n, len(d.res_bus)
    out = terms.cost0
    for h, el, dP, dQ, direct in terms.hours:
        xs = _columns(xi, h, el, n, U)[1]
        out += float(direct @ xs)
        for arr0, dmat in ((terms.p0[h], dP), (terms.q0[h], dQ)):
            out += d.c_loss * float((pwl_loss(d, arr0 + dmat @ xs) - pwl_loss(d, arr0)).sum())
    return out


def _columns(xi: dict[str, np.ndarray], h: int, el: _Elements, n: int, U: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """The group names (``xp``, ``xm``, ``xr``) of the columns of hour ``h`` and their entries
    in ``xi`` (flat, hour-major)."""
    names = np.array(["xp", "xm", "xr"])[el.kind]
    sizes = np.where(el.kind < 2, n, U)
    return names, np.array([xi[nm][h * sz + e]
                            for nm, sz, e in zip(names, sizes, el.elem, strict=True)])


def _increments(d: ScheduleData, p0: np.ndarray, dmat: np.ndarray, order: np.ndarray
                ) -> np.ndarray:
    """Per column ``j`` the telescoped loss increment ``sum_b phi_b(p0 + S_j) - phi_b(p0 +
    S_{j-1})`` with ``S`` the running sum (in ``order``) of the positive parts of the columns,
    plus the same for the negative parts. Valid per column: by convexity the increment of
    ``phi`` for ``d_j`` is non-decreasing in the flow already added, which is at most
    ``S_{j-1}``; and ``phi(p0 + D+ - D-) + phi(p0) <= phi(p0 + D+) + phi(p0 - D-)`` (Karamata:
    the pair on the right majorises the one on the left)."""
    out = np.zeros(dmat.shape[1])
    for part in (np.maximum(dmat, 0.0), np.minimum(dmat, 0.0)):
        cols = part[:, order]
        run = np.cumsum(cols, axis=1)
        inc = pwl_loss(d, (p0[:, None] + run).T) - pwl_loss(d, (p0[:, None] + run - cols).T)
        out[order] += inc.sum(axis=1)
    return out


def _directional(d: ScheduleData, p0: np.ndarray, dmat: np.ndarray) -> np.ndarray:
    """Per column ``j``: ``sum_b phi_b'(p0_b; dmat_bj)``, the directional derivative."""
    h = 1e-6
    up = (pwl_loss(d, p0 + h) - pwl_loss(d, p0)) / h
    dn = (pwl_loss(d, p0) - pwl_loss(d, p0 - h)) / h
    return up @ np.maximum(dmat, 0.0) + dn @ np.minimum(dmat, 0.0)


def maximise_linear(d: ScheduleData, coef: dict[str, np.ndarray]
              ) -> tuple[float, dict[str, np.ndarray]]:
    """``max sum_j coef_j xi_j`` over the temporal budget set and a binary maximiser: per bus
    (``xp``/``xm``, one sign per hour) and per renewable unit its best ``Gamma`` hours. On the
    aggregate-ratio set the loads' part is :func:`_aggregate_max` (per hour a small MILP over
    the band's binary points; its dual bound, with a binary point of the set)."""
    n, U = d.n, len(d.res_bus)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    gr = d.budget_res if d.budget_res is not None else np.zeros(U)
    xi = nominal(d)
    total = 0.0
    if d.aggregate is not None:
        total += _aggregate_max(d, coef, xi)
        gl = np.zeros(n)  # the loads are done
    for i in (int(v) for v in np.flatnonzero(gl > 0)):
        best = np.maximum(coef["xp"][:, i], coef["xm"][:, i])
        val, hours = _top_budget(best, float(gl[i]))
        total += val
        for hh in hours:
            name = "xp" if coef["xp"][hh, i] >= coef["xm"][hh, i] else "xm"
            xi[name][hh * n + i] = 1.0
    for k in (int(v) for v in np.flatnonzero(gr > 0)):
        val, hours = _top_budget(coef["xr"][:, k], float(gr[k]))
        total += val
        for hh in hours:
            xi["xr"][hh * U + k] = 1.0
    return total, xi


def _aggregate_max(d: ScheduleData, coef: dict[str, np.ndarray], xi: dict[str, np.ndarray]
                   ) -> float:
    """The loads' part of :func:`maximise_linear` on the aggregate-ratio set (``budget_block``:
    per hour ``xp + xm <= 1`` on the uncertain buses and ``lo sum_n pd <= sum_n pd (1 + gamma
    (xp - xm)) <= hi sum_n pd``, ``xp``, ``xm`` binary): per hour the MILP ``max coef_p xp +
    coef_m xm`` over those rows (HiGHS through scipy, ``2 k`` binaries for ``k`` uncertain
    buses, milliseconds on case33bw). The bound is the MILP's dual bound (its optimum when
    proven; any stop leaves it valid), ``xi`` the incumbent (a binary point of the set; the
    forecast, all zero, is one: ``lo <= 1 <= hi``). Binary, not the LP relaxation: there ``xp
    = xm = 1/2`` at a bus nets to zero in the band yet counts half of both columns' loss
    curvature (a two-hour instance with the band +-0.5 %: 1.292 $ against the set's 1.148 $,
    the binary maximum 1.1488 $)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = d.n
    lo, hi = d.aggregate if d.aggregate is not None else (1.0, 1.0)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    total = 0.0
    for h in range(d.hours):
        tot = float(d.pd[h].sum())
        idx = np.flatnonzero((gl > 0) & (d.pd[h] > 0))
        if not len(idx) or d.gamma <= 0:
            continue
        k = len(idx)
        w = d.gamma * d.pd[h, idx]  # MW of one deviation
        cp, cm = coef["xp"][h, idx], coef["xm"][h, idx]
        rows = LinearConstraint(
            np.vstack([np.hstack([np.eye(k), np.eye(k)]), np.hstack([w, -w])[None, :]]),
            np.concatenate([np.full(k, -np.inf), [(lo - 1.0) * tot]]),
            np.concatenate([np.ones(k), [(hi - 1.0) * tot]]))
        res = milp(-np.concatenate([cp, cm]), constraints=rows, integrality=np.ones(2 * k),
                   bounds=Bounds(0.0, 1.0),
                   options={"time_limit": AGGREGATE_MILP_S, "mip_rel_gap": 1e-9})
        dual = getattr(res, "mip_dual_bound", None)
        if res.x is None or dual is None or not np.isfinite(dual):
            # no answer in its time: the box's maximum (a sort per bus) bounds the set
            total += float(np.maximum(0.0, np.maximum(cp, cm)).sum())
            continue
        # the dual bound, with the solver's tolerance (the bound must not fall short)
        total += -float(dual) + 1e-9 * max(1.0, abs(float(dual)))
        v = np.round(res.x)
        xi["xp"][h * n + idx] = v[:k]
        xi["xm"][h * n + idx] = v[k:]
    return total


__all__ = ["PolicyBound", "PolicyTerms", "maximise_linear", "policy_bound", "policy_cost",
           "pwl_loss", "tree_paths"]
