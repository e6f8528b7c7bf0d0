"""Branch-flow (DistFlow) models with on/off branches: the SOCP relaxation and LinDistFlow.

Per branch ``l = (i, j)`` (reference direction from ``f`` to ``t``): sending-end flows ``P, Q``,
squared current ``l``; per bus the squared voltage ``v``. The SOCP relaxation of Farivar & Low
("Branch flow model: relaxations and convexification", IEEE TPWRS 28(3), 2013), after Baran &
Wu (IEEE TPWRD 4(2), 1989):

    sum_{k->j} (P_kj - r_kj l_kj) - sum_{j->k} P_jk + p_gen_j - p_load_j = 0
    sum_{k->j} (Q_kj - x_kj l_kj) - sum_{j->k} Q_jk + q_gen_j + q_sh_j v_j - q_load_j = 0
    v_j = v_i - 2 (r P + x Q) + (r^2 + x^2) l                       (closed branch)
    P^2 + Q^2 <= v_i l        i.e.  || (2P, 2Q, v_i - l) || <= v_i + l

The equations hold whatever the sign of the flows, so the physics needs no orientation.

A voltage-controlling generator (PV bus, pandapower's ``gen``) fixes its bus's ``v`` at
``v_set^2`` with its ``qg`` free; when its q limits are enforced, ``(q, v)`` lies in the convex
hull of pandapower's PV/PQ switching (:func:`pv_hull_rows`). An unlimited ``qg`` is bounded by
what the branches at its bus can carry under Ohm's law and their current ratings
(:func:`branch_end_q_caps`).

Transformers and shunts (MATPOWER's branch model, see :mod:`feederopt.network.perunit`): with
the off-nominal ratio ``tap`` at the from end the series impedance sees ``v_i / tap^2``, so the
drop reads ``v_j = v_i / tap^2 - 2 (r P + x Q) + (r^2 + x^2) l`` and the cone
``P^2 + Q^2 <= (v_i / tap^2) l`` (Farivar & Low 2013, Sec. II with the ideal transformer of
Gan, Li, Topcu & Low, IEEE TAC 60(1), 2015). A shunt ``g + j b`` at squared voltage ``v``
consumes ``g v`` and injects ``b v``: bus shunts and the ends of fixed branches use ``v``; the
ends of a switchable branch use its own copies, ``w = v_i / tap^2`` at the from end and
``u = w - 2 (r P + x Q) + (r^2 + x^2) l`` (= ``v_j``) at the to end, both zero when the branch
is open. A switchable branch that opens at one end only (a pandapower line switch) still loads
the bus at its other end ``e`` with its input admittance ``g_d + j b_d``: on the copy
``d = v_e (1 - y)``, written exactly for binary ``y`` as ``v_e - hi_e y <= d <= v_e``,
``d <= hi_e (1 - y)``, ``d >= 0``. The losses are ``sum r l`` plus the ``g v`` of the
branches' shunt conductances (a transformer's iron losses among them): :func:`loss_terms`.

A branch with state ``y = 0`` carries nothing and decouples its end voltages:

    |P| <= M^P y,  |Q| <= M^Q y,  0 <= l <= M^l y,
    -M^v_dn (1 - y) <= v_i - v_j - 2 (r P + x Q) + (r^2 + x^2) l <= M^v_up (1 - y)

The big-M values come from the data (see :func:`big_m`): ``M^v`` is the exact range of
``v_i - v_j`` under the voltage bounds, ``M^P`` and ``M^Q`` the total demand and generation
capacity with a loss allowance, capped by the branch rating, and ``M^l`` follows from them.
The cone is written on a per-branch copy ``w`` of the sending-end voltage,
``P^2 + Q^2 <= w l`` with ``w <= v_max^2 y`` and ``w <= v_f - v_min^2 (1 - y)``: for binary
``y`` it is the Farivar-Low cone (closed) or ``P = Q = 0`` (open), and for fractional ``y`` it
is the perspective of the cone, which removes the relaxation's gain from splitting a flow
over fractionally closed branches
(Frangioni & Gentile, "Perspective cuts for a class of convex 0-1 mixed integer programs",
Math. Prog. 106, 2006; Günlük & Linderoth, Math. Prog. 124, 2010); it tightens the MISOCP's
continuous relaxation and the Benders cuts alike.
LinDistFlow (Baran & Wu 1989, the ``lossless`` option) drops the ``l`` terms from the balance
and the voltage drop; ``l`` then remains only as the cone's quadratic loss proxy.

Slack groups (``slack_*``, all non-negative) relax power balance (both signs), voltage limits,
current limits and apparent-power (thermal) ratings, so that every topology has a solution;
their weighted sum is the phase-1 objective of the seed's two-stage method
(:func:`slack_objective`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import (
    Block,
    Group,
    OnOff,
    Rows,
    Sense,
    diag,
    incidence,
    select,
)
from feederopt.formulations.radiality import switch_group
from feederopt.formulations.rating import RATING_POLYGON_SIDES, rating_polygon
from feederopt.network.perunit import PerUnitNetwork

#: Squared-voltage range that slack may reach (|V| in [0.5, 1.5] p.u.).
SLACK_V_RANGE = (0.5, 1.5)


@dataclass(frozen=True)
class DistFlowOptions:
    slack: bool = False  # add slack groups (balance, voltage, current)
    lossless: bool = False  # LinDistFlow
    loss_allowance: float = 0.5  # share of total demand that losses may add to a flow bound
    perspective: bool = True  # perspective cones on switchable branches


@dataclass(frozen=True)
class BigM:
    p: np.ndarray
    q: np.ndarray
    l: np.ndarray  # noqa: E741
    v_up: np.ndarray
    v_dn: np.ndarray


def voltage_bounds(pu: PerUnitNetwork, slack: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the squared voltage ``v`` (limits, or the slack range); sources fixed."""
    lo, hi = pu.v_min**2, pu.v_max**2
    vs_lo, vs_hi = pu.source_v_range()
    if not slack and is_passive(pu):
        # Below lo where a bus's v_min lies above every source (no point meets it: the drop
        # rows keep v_t <= v_f, the relaxation's too), the bound would be an invalid box for
        # the solver: hi = lo keeps the same (empty) feasible set.
        hi = np.maximum(np.minimum(hi, float(vs_hi[pu.is_source].max()) ** 2), lo)
    if slack:
        lo = np.minimum(lo, SLACK_V_RANGE[0] ** 2)
        hi = np.maximum(hi, SLACK_V_RANGE[1] ** 2)
    src = pu.is_source
    lo = np.where(src, vs_lo**2, lo)
    hi = np.where(src, vs_hi**2, hi)
    pv, v_pv, _, _ = pu.pv_buses()
    held = pu.generator_held()[pv]
    # A voltage-controlling generator holds its bus (PV bus) whatever its q, a band that
    # excludes the set-point included (held_by_generator); with enforced q limits see
    # pv_hull_rows.
    lo[pv[held]] = hi[pv[held]] = v_pv[held] ** 2
    return lo, hi


def pv_hull_rows(pu: PerUnitNetwork, lo: np.ndarray, hi: np.ndarray,
                 q_cap: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray,
                                             np.ndarray, np.ndarray]:
    """PV buses with enforced q limits: ``v = v_s`` while ``q_lo < q < q_hi``, ``v <= v_s`` at
    ``q_hi`` and ``v >= v_s`` at ``q_lo`` (pp.runpp(enforce_q_lims=True)), a union of three
    segments in the (q, v) plane whose convex hull is the quadrilateral with corners
    ``(q_hi, lo)``, ``(q_hi, v_s)``, ``(q_lo, v_s)``, ``(q_lo, hi)`` (``v`` squared, bounds
    ``lo``, ``hi``; an infinite limit clipped to the generators' ``q_cap``):

        v <= v_s + (hi - v_s) (q_hi - q) / (q_hi - q_lo)
        v >= v_s - (v_s - lo) (q - q_lo) / (q_hi - q_lo)

    Returns the buses, the (bus x generator) matrix that sums their PV generators' q, the
    slopes ``(hi - v_s) / dq`` and ``(v_s - lo) / dq`` and the right-hand sides
    ``v_s + up q_hi`` and ``-v_s - dn q_lo`` of ``v + up q <= .`` and ``-v - dn q <= .``
    (the second row read ``-v_s + dn q_lo`` until session 29: with ``q_lo < 0`` it raised the
    voltage floor by ``2 dn |q_lo|``, and a gen at ``q_hi`` below its set-point was "infeasible").
    The relaxation is exact where the generator holds its voltage inside its limits."""
    buses, v_set, q_lo, q_hi = pu.pv_buses()
    enforced = ~pu.generator_held()[buses]
    buses, v_set, q_lo, q_hi = (a[enforced] for a in (buses, v_set, q_lo, q_hi))
    is_pv = np.flatnonzero(np.isfinite(pu.gen_v_set) & np.isin(pu.gen_bus, buses))
    rows = np.searchsorted(buses, pu.gen_bus[is_pv])
    sum_q = sp.csr_matrix((np.ones(len(is_pv)), (rows, is_pv)), shape=(len(buses), pu.n_gen))
    cap = np.zeros(len(buses))
    np.add.at(cap, rows, q_cap[is_pv])
    q_lo, q_hi = np.maximum(q_lo, -cap), np.minimum(q_hi, cap)
    dq = np.maximum(q_hi - q_lo, 1e-9)
    vs = v_set**2
    up, dn = (hi[buses] - vs) / dq, (vs - lo[buses]) / dq
    return buses, sum_q, up, dn, vs + up * q_hi, -vs - dn * q_lo


#: How far [p.u.] a PV bus's voltage may lie off its set-point, and its generators' q inside a
#: limit, before :func:`pv_off_characteristic` counts it off pandapower's characteristic.
PV_V_TOL = 1e-4
PV_Q_TOL = 1e-4


def pv_off_characteristic(pu: PerUnitNetwork, point: dict[str, np.ndarray]
                          ) -> list[tuple[int, float, float, float, float, float]]:
    """The PV buses with enforced q limits whose point lies off pandapower's PV/PQ
    characteristic (``pp.runpp(enforce_q_lims=True)``: ``|V| = v_s`` while ``q_lo < q < q_hi``,
    ``|V| > v_s`` only at ``q_lo`` and ``|V| < v_s`` only at ``q_hi``) but inside the convex
    hull of :func:`pv_hull_rows`, which the model holds: the relaxation lets the optimiser
    move the voltage off the set-point with q inside the limits (user test ut36_real #4:
    1.0406 p.u. at q inside -0.1..0.1 Mvar where runpp held q at -0.1 Mvar, 1.0402 p.u.; a
    gen whose set-point lay within reach, 1.0402 p.u. for a set-point of 1.03, 79.8 kW in the
    model against runpp's 91.8 kW). Per such bus: (bus index, |V|, set-point, q, q_lo, q_hi),
    in p.u.; empty without such buses or without ``v`` and ``qg`` in ``point``."""
    if "v" not in point or "qg" not in point or not pu.n_gen:
        return []
    buses, v_set, q_lo, q_hi = pu.pv_buses()
    enforced = ~pu.generator_held()[buses]
    out = []
    for b, vs, lo, hi in zip(buses[enforced], v_set[enforced], q_lo[enforced], q_hi[enforced],
                             strict=True):
        mine = np.isfinite(pu.gen_v_set) & (pu.gen_bus == b)
        q = float(point["qg"][mine].sum())
        v = math.sqrt(max(float(point["v"][b]), 0.0))
        above = v > vs + PV_V_TOL and q > lo + PV_Q_TOL
        below = v < vs - PV_V_TOL and q < hi - PV_Q_TOL
        if above or below:
            out.append((int(b), v, float(vs), q, float(lo), float(hi)))
    return out


def is_passive(pu: PerUnitNetwork) -> bool:
    """No injection anywhere but the sources: loads draw p >= 0 and q >= 0, no generator can
    inject, no capacitor bank. Then no bus voltage exceeds the highest source set-point: on a
    branch feeding a passive subtree ``|V_f| >= |V_t| + (r P_t + x Q_t) / |V_t| >= |V_t|``."""
    return bool(
        np.all(pu.p_load >= 0)
        and np.all(pu.q_load >= 0)
        and not np.any(pu.gen_p_max > 0)
        and not np.any(pu.gen_q_max > 0)
        and not np.any(pu.q_shunt > 0)
        and not np.any(pu.b_from > 0)
        and not np.any(pu.b_to > 0)
        and not np.any(pu.tap < 1)
    )


def load_monotonicity_violations(pu: PerUnitNetwork) -> list[str]:
    """Why the SOCP of a radial topology may fail to be monotone in the loads (empty: it is).

    **Lemma.** Let the closed branches form a forest in which every tree holds one source, and
    let (i) no generator have a non-zero bound, (ii) no bus or branch end have a shunt (no
    ``q_shunt``, ``p_shunt``, line charging ``b`` or branch-end ``g``, ``b``) and every
    transformer its nominal ratio (``tap = 1``), (iii) every ``r >= 0`` and ``x >= 0``, (iv) every
    source set-point be at most every bus's ``v_max``. Then for per-bus loads
    ``0 <= d <= d'`` (``p`` and ``q`` alike) the feasible set of the phase-2 slave (no slack)
    at ``d'``, projected on the squared currents ``l``, lies inside the one at ``d``, so

        f(d) <= f(d')   (least losses sum r l),   and   F(d') != {}  =>  F(d) != {}.

    *Proof.* On a tree with ``l`` fixed, the balance rows and the voltage-drop rows determine
    every other variable: the flow delivered at the receiving end of a branch is the load
    below it plus the losses ``r l`` (``x l``) below it (``P_recv = sum_below (d + r l)``),
    and the squared voltage falls along every branch away from the source by
    ``v_send - v_recv = 2 (r P_recv + x Q_recv) + (r^2 + x^2) l``, the receiving-end form of
    Baran & Wu's drop equation (Baran & Wu, IEEE TPWRD 4(2), 1989; it is the drop row of
    :func:`distflow` rewritten with ``P_send = P_recv + r l``). With (i)-(iii) every term is
    non-negative, so for fixed ``l`` the flows at both ends are non-negative and
    non-decreasing in ``d``, every ``v`` is non-increasing in ``d`` and at most the source's
    ``v``. Each constraint then only gets easier when ``d`` falls: the cone
    ``P^2 + Q^2 <= v l`` (written at the sending end, or at the receiving end for a branch
    whose reference direction points to the source: both sides of the inequality move the
    right way), the thermal and source cones, the big-M bounds on ``|P|, |Q|``, and
    ``v >= v_min^2``; ``v <= v_max^2`` holds for every ``d`` by (iv); ``l <= i_max^2`` and
    the objective ``sum r l`` do not depend on ``d``. (The per-branch voltage copy ``w`` is
    taken equal to its bus voltage.) ∎

    With slack (phase 1) only the feasibility statement is used: a topology feasible at the
    largest loads of a box of non-negative loads is feasible in the whole box.
    """
    reasons = []
    if np.any(pu.gen_p_min != 0) or np.any(pu.gen_p_max != 0) or np.any(
            pu.gen_q_min != 0) or np.any(pu.gen_q_max != 0):
        reasons.append("a generator can inject or absorb power")
    shunts = (pu.q_shunt, pu.p_shunt, pu.b, pu.g_from, pu.b_from, pu.g_to, pu.b_to,
              pu.g_dangle, pu.b_dangle, pu.g_open_end)
    if any(np.any(a != 0) for a in shunts):
        reasons.append("a shunt, line charging or iron losses make the power drawn depend on "
                       "voltage")
    if np.any(pu.tap != 1):
        reasons.append("a transformer has an off-nominal tap")
    if np.any(pu.r < 0) or np.any(pu.x < 0):
        reasons.append("a branch has negative resistance or reactance")
    load_bus = ~pu.is_source
    if load_bus.any() and pu.is_source.any() and (
            float(pu.v_set[pu.is_source].max()) > float(pu.v_max[load_bus].min())):
        reasons.append("a source set-point exceeds a bus's upper voltage limit")
    return reasons


def _totals(pu: PerUnitNetwork, options: DistFlowOptions, hi_max: float) -> tuple[float, float]:
    """Bounds on |P| and |Q| of any branch: total demand with a loss allowance, plus every
    injection that generators and capacitor banks can make."""
    gen_p = float(np.clip(pu.gen_p_max, 0, None).sum() + np.clip(-pu.gen_p_min, 0, None).sum())
    gen_q = float(_gen_q_range(pu, np.full(pu.n_bus, hi_max)).sum())
    g_sh = float(np.abs(pu.p_shunt).sum() + np.abs(pu.g_from * pu.tap2).sum()
                 + np.abs(pu.g_to).sum() + np.abs(pu.g_open_end).sum()) * hi_max
    b_sh = float(np.abs(pu.q_shunt).sum() + np.abs(pu.b_from * pu.tap2).sum()
                 + np.abs(pu.b_to).sum()) * hi_max
    p_tot = float(np.abs(pu.p_load).sum()) * (1 + options.loss_allowance) + gen_p + g_sh
    q_tot = (
        float(np.abs(pu.q_load).sum()) * (1 + options.loss_allowance)
        + gen_q
        + b_sh
        + float(np.abs(pu.p_load).sum()) * options.loss_allowance
    )
    return max(p_tot, 1e-6), max(q_tot, 1e-6)


def series_flow_cap(pu: PerUnitNetwork, hi: np.ndarray) -> np.ndarray:
    """Per branch, a bound on the apparent power entering its series impedance under the
    squared-voltage bounds ``hi``: ``|S| = |V_f'| |I| <= |V_f'| (|V_f'| + |V_t|) / |z|`` with
    ``|V_f'| = |V_f| / tap`` (Ohm's law, triangle inequality); infinite for ideal branches."""
    vf = np.sqrt(pu.tap2 * hi[pu.f])
    z = np.hypot(pu.r, pu.x)
    with np.errstate(divide="ignore"):
        return np.where(z > 0, vf * (vf + np.sqrt(hi[pu.t])) / np.where(z > 0, z, 1.0), np.inf)


def _gen_q_range(pu: PerUnitNetwork, hi: np.ndarray) -> np.ndarray:
    """Per generator, a bound on |q|: its limits, or, where a limit is infinite (a PV bus
    whose q limits are not enforced), what can leave its bus: the reactive power that the
    branches at the group of buses that ideal branches (zero impedance) fuse with it can carry
    (:func:`branch_end_q_caps`, Ohm's law and the branch's current rating), plus the group's
    loads and shunts at ``hi``. A group that holds a source has no such bound (the source
    absorbs any q); its generators get the total of every branch's bound.

    The current ratings matter: on short cables Ohm's law alone allows thousands of p.u.
    (mynet4: 4286 p.u. for a 0.5 MW generator, so that the Q and l big-M of the unrated
    bus-bus switches reached 8842 and 9.7e7 p.u. and Clarabel failed on 72 of the 188 radial
    topologies, each then read as infeasible)."""
    from scipy.sparse.csgraph import connected_components

    q = np.abs(pu.gen_q_max) + np.abs(pu.gen_q_min)
    free = np.flatnonzero(~np.isfinite(q))
    if not len(free):
        return q
    n = pu.n_bus
    cap_from, cap_to = branch_end_q_caps(pu, hi)
    ideal = ~np.isfinite(series_flow_cap(pu, hi))
    _, group = connected_components(sp.csr_matrix(
        (np.ones(int(ideal.sum())), (pu.f[ideal], pu.t[ideal])), shape=(n, n)), directed=False)
    k = int(group.max()) + 1
    out = np.zeros(k)
    np.add.at(out, group[pu.f[~ideal]], cap_from[~ideal])
    np.add.at(out, group[pu.t[~ideal]], cap_to[~ideal])
    _, b_v = bus_shunts(pu)
    np.add.at(out, group, np.abs(pu.q_load) + np.abs(b_v) * hi)
    # The charging of switchable branches acts on their copies w, u and d (not in b_v).
    if pu.has_branch_shunts():
        sw = pu.switchable
        np.add.at(out, group[pu.f[sw]], np.abs(pu.b_from[sw] * pu.tap2[sw]) * hi[pu.f[sw]])
        np.add.at(out, group[pu.t[sw]], np.abs(pu.b_to[sw]) * hi[pu.t[sw]])
    dang = dangling_branches(pu)
    if len(dang):
        e = pu.dangle_bus[dang]
        np.add.at(out, group[e], np.abs(pu.b_dangle[dang]) * hi[e])
    held = np.zeros(k, dtype=bool)
    held[group[pu.is_source]] = True
    out[held] = float(cap_from[~ideal].sum() + cap_to[~ideal].sum()) + float(out.sum())
    q[free] = out[group[pu.gen_bus[free]]]
    return q


def branch_end_q_caps(pu: PerUnitNetwork, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per branch, bounds on |Q| at its from end (``Q``) and at its to end (``Q - x l``) that
    hold in the SOCP relaxation under the squared-voltage bounds ``hi``. With
    ``W = tap2 v_f <= tap2 hi_f`` the drop row of a closed branch
    ``|z|^2 l = v_t - W + 2 (r P + x Q)`` and the cone ``P^2 + Q^2 <= w l <= W l`` give
    ``(|z| sqrt(l) - sqrt(W))^2 <= v_t``, so ``|z| sqrt(l) <= sqrt(W) + sqrt(v_t)``; the
    current rating gives ``sqrt(l) <= i_max``. With ``c`` the smaller bound on ``sqrt(l)``:
    ``|Q| <= sqrt(w l) <= sqrt(tap2 hi_f) c`` and ``|Q - x l| <= sqrt(tap2 hi_f) c + |x| c^2``
    (an open branch carries nothing). Infinite for ideal branches without a rating. The
    rating bound holds wherever the rating does (every model without slack); a model with
    current slack keeps it too: it removes only points beyond the ratings, never a point
    without slack, so the least slack is still zero exactly for the feasible topologies."""
    wf = np.sqrt(pu.tap2 * hi[pu.f])
    z = np.hypot(pu.r, pu.x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ohm = np.where(z > 0, (wf + np.sqrt(hi[pu.t])) / np.where(z > 0, z, 1.0), np.inf)
    c = np.minimum(ohm, np.where(np.isfinite(pu.i_max), np.abs(pu.i_max), np.inf))
    cap_from = wf * c
    with np.errstate(invalid="ignore"):  # x = 0 with c = inf: no reactive loss term
        cap_to = cap_from + np.where(pu.x != 0, np.abs(pu.x) * c**2, 0.0)
    return cap_from, cap_to


def effective_ratings(pu: PerUnitNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Branches whose current (and apparent-power) rating can bind: a rating above what the
    whole demand could push through the branch is no constraint (pandapower nets often carry
    placeholder ratings of 99999 kA, which would only spoil the solver's numerics)."""
    opt = DistFlowOptions()
    lo, hi = voltage_bounds(pu, False)
    p_tot, q_tot = _totals(pu, opt, float(hi.max()))
    s_tot = float(np.hypot(p_tot, q_tot))
    i_tot2 = s_tot**2 / np.maximum(lo[pu.f], 1e-3)
    rated = np.flatnonzero(np.isfinite(pu.i_max) & (pu.i_max**2 < i_tot2))
    thermal = np.flatnonzero(np.isfinite(pu.s_max) & (pu.s_max < s_tot))
    return rated, thermal




def add_rating_polygons(block: Block, pu: PerUnitNetwork,
                        sides: int = RATING_POLYGON_SIDES) -> None:
    """Hold every binding rating in a linear model (LinDistFlow) by a polygon inscribed in its
    circle ``|S| <= S_max``: ``P cos(t_j) + Q sin(t_j) <= cos(pi / sides) S_max``,
    ``t_j = (2 j + 1) pi / sides`` (:func:`~feederopt.formulations.rating.rating_polygon`). A
    point of the polygon lies within the circle, so the rating holds wherever the polygon
    does (conservative: up to ``1 - cos(pi/16) = 1.9 %`` of the rating is given away between
    the corners; a pure P or pure Q flow keeps its whole rating, at a corner).
    In the MILP the ratings were held only through
    the outer-approximated cone of the loss proxy (``l >= (P^2+Q^2)/w`` by a few tangents),
    which lets an overload through: on the user test's g4b, line 0 kept 8.79 MVA against its
    8.00 MVA (0.231 kA at 20 kV), a lossless overload (user test ut_feas #3).

    A current rating: ``|S| <= i_max sqrt(w)`` with ``w = a v_f`` (the sending-end squared
    voltage seen by the series impedance, ``a = 1 / tap^2``; ``I^2 = l = |S|^2 / w``). The
    concave ``sqrt(w)`` lies above its chord over the voltage band ``[a lo_f, a hi_f]``,
    ``sqrt(w) >= c0 + c1 w`` with ``c1 = 1 / (sqrt(lo) + sqrt(hi))``, ``c0 = sqrt(lo hi) c1``,
    so ``S_max = i_max (c0 + c1 a v_f)`` is conservative as well. An open branch carries
    nothing, which every side holds. An apparent-power rating: ``S_max = s_max``."""
    rated, thermal = effective_ratings(pu)
    if not (len(rated) or len(thermal)):
        return
    n, m, f = pu.n_bus, pu.n_branch, pu.f
    lo, hi = voltage_bounds(pu, False)
    a = pu.tap2
    cos_t, sin_t, shrink = rating_polygon(sides)
    for j in range(sides):
        c, s = float(cos_t[j]), float(sin_t[j])
        if len(rated):
            wl, wh = a[rated] * lo[f[rated]], a[rated] * hi[f[rated]]
            c1 = 1.0 / (np.sqrt(wl) + np.sqrt(wh))
            c0 = np.sqrt(wl * wh) * c1
            i_max = pu.i_max[rated]
            block.add_rows(f"current_polygon_{j}", {
                "P": select(rated, m, c), "Q": select(rated, m, s),
                "v": select(f[rated], n, -shrink * i_max * c1 * a[rated])},
                Sense.LE, shrink * i_max * c0)
        if len(thermal):
            block.add_rows(f"thermal_polygon_{j}", {"P": select(thermal, m, c),
                                                    "Q": select(thermal, m, s)},
                           Sense.LE, shrink * pu.s_max[thermal])


def big_m(pu: PerUnitNetwork, options: DistFlowOptions) -> BigM:
    """Big-M values from the data (see module docstring)."""
    lo, hi = voltage_bounds(pu, options.slack)
    f, t = pu.f, pu.t
    a = pu.tap2
    p_tot, q_tot = _totals(pu, options, float(hi.max()))
    cap = np.minimum(pu.s_max, np.sqrt(a * hi[f]) * pu.i_max)
    if options.slack:
        cap = np.full_like(cap, np.inf)  # current slack may exceed the rating
    mp = np.minimum(p_tot, cap)
    mq = np.minimum(q_tot, cap)
    ml = (mp**2 + mq**2) / np.maximum(a * lo[f], 1e-3)
    if not options.slack:
        ml = np.minimum(ml, pu.i_max**2)
    v_up = np.maximum(a * hi[f] - lo[t], 0.0)
    v_dn = np.maximum(hi[t] - a * lo[f], 0.0)
    return BigM(mp, mq, ml, v_up, v_dn)


def distflow(pu: PerUnitNetwork, options: DistFlowOptions | None = None) -> Block:
    """The on/off-branch DistFlow block: SOCP relaxation, or LinDistFlow when ``lossless``.

    Groups: ``y`` (switch states), ``P``, ``Q``, ``l``, ``v``, ``pg``, ``qg`` (generators),
    ``ps``, ``qs`` (sources), data ``pd``, ``qd`` (per-bus load) and, with ``slack``,
    ``slack_p_pos``, ``slack_p_neg``, ``slack_q_pos``, ``slack_q_neg``, ``slack_v_up``,
    ``slack_v_dn``, ``slack_i``. Objective: losses ``sum r l`` [p.u.].
    """
    opt = options or DistFlowOptions()
    n, m = pu.n_bus, pu.n_branch
    f, t, r, x = pu.f, pu.t, pu.r, pu.x
    src = pu.sources
    mm = big_m(pu, opt)
    lo, hi = voltage_bounds(pu, opt.slack)

    block = Block()
    block.add_group(switch_group(pu.switchable))
    block.add_group(Group.new("P", m, -mm.p, mm.p))
    block.add_group(Group.new("Q", m, -mm.q, mm.q))
    block.add_group(Group.new("l", m, 0.0, mm.l))
    block.add_group(Group.new("v", n, lo, hi))
    block.add_group(Group.new("pg", pu.n_gen, pu.gen_p_min, pu.gen_p_max))
    # A PV generator's q is free: infinite limits become the bound of _gen_q_range.
    q_range = _gen_q_range(pu, hi)
    block.add_group(Group.new("qg", pu.n_gen, np.maximum(pu.gen_q_min, -q_range),
                              np.minimum(pu.gen_q_max, q_range)))
    pv_hull, sum_q, slope_up, slope_dn, rhs_up, rhs_dn = pv_hull_rows(pu, lo, hi, q_range)
    if len(pv_hull):
        k = len(pv_hull)
        block.add_rows("pv_v_up", {"v": select(pv_hull, n), "qg": diag(slope_up, k) @ sum_q},
                       Sense.LE, rhs_up)
        block.add_rows("pv_v_dn", {"v": -select(pv_hull, n),
                                   "qg": -diag(slope_dn, k) @ sum_q}, Sense.LE, rhs_dn)
    s_max = pu.source_s_max[src]
    block.add_group(Group.new("ps", len(src), -np.minimum(s_max, pu.source_p_max[src]),
                              np.minimum(s_max, pu.source_p_max[src])))
    block.add_group(Group.new("qs", len(src), -s_max, s_max))
    block.add_group(Group.data("pd", pu.p_load))
    block.add_group(Group.data("qd", pu.q_load))
    # w: the branch's copy of the sending-end voltage v_f / tap^2 that the series impedance sees;
    # u: the receiving-end voltage of switchable branches with a to-end shunt.
    a = pu.tap2
    lo_w, hi_w = a * lo[f], a * hi[f]
    block.add_group(Group.new("w", m, 0.0, hi_w))
    sh_from, sh_to = switchable_shunts(pu)
    if len(sh_to):
        block.add_group(Group.new("u", len(sh_to), 0.0, hi[t[sh_to]]))
    dang = dangling_branches(pu)
    if len(dang):
        block.add_group(Group.new("d", len(dang), 0.0, hi[pu.dangle_bus[dang]]))

    a_to, a_from = incidence(n, t), incidence(n, f)
    net_in = a_to - a_from
    gen = incidence(n, pu.gen_bus) if pu.n_gen else sp.csr_matrix((n, 0))
    srcm = incidence(n, src)
    eye_n = sp.identity(n, format="csr")
    p_terms = {"P": net_in, "pg": gen, "ps": srcm, "pd": -eye_n}
    q_terms = {"Q": net_in, "qg": gen, "qs": srcm, "qd": -eye_n}
    if not opt.lossless:
        p_terms["l"] = -incidence(n, t, r)
        q_terms["l"] = -incidence(n, t, x)
    # Shunts: bus shunts and the ends of fixed branches act on v, the ends of switchable
    # branches on the branch's copies w (from end) and u (to end); see the module docstring.
    g_v, b_v = bus_shunts(pu)
    if np.any(g_v != 0):
        p_terms["v"] = diag(-g_v, n)
    if np.any(b_v != 0):
        q_terms["v"] = diag(b_v, n)
    if len(sh_from):
        p_terms["w"] = _at(n, m, f[sh_from], sh_from, -pu.g_from[sh_from])
        q_terms["w"] = _at(n, m, f[sh_from], sh_from, pu.b_from[sh_from])
    if len(sh_to):
        p_terms["u"] = incidence(n, t[sh_to], -pu.g_to[sh_to])
        q_terms["u"] = incidence(n, t[sh_to], pu.b_to[sh_to])
    if len(dang):
        p_terms["d"] = incidence(n, pu.dangle_bus[dang], -pu.g_dangle[dang])
        q_terms["d"] = incidence(n, pu.dangle_bus[dang], pu.b_dangle[dang])
        # d = v_e (1 - y): v_e - hi_e y <= d <= v_e and d <= hi_e (1 - y).
        e, k_d = pu.dangle_bus[dang], len(dang)
        eye_d = sp.identity(k_d, format="csr")
        block.add_rows("d_le_v", {"d": eye_d, "v": -select(e, n)}, Sense.LE, np.zeros(k_d))
        block.add_rows("d_ge_v", {"d": -eye_d, "v": select(e, n), "y": select(dang, m, -hi[e])},
                       Sense.LE, np.zeros(k_d))
        block.add_rows("d_off", {"d": eye_d, "y": select(dang, m, hi[e])}, Sense.LE, hi[e])
    if opt.slack:
        for name in ("slack_p_pos", "slack_p_neg", "slack_q_pos", "slack_q_neg"):
            block.add_group(Group.new(name, n, 0.0, np.inf))
        p_terms["slack_p_pos"], p_terms["slack_p_neg"] = eye_n, -eye_n
        q_terms["slack_q_pos"], q_terms["slack_q_neg"] = eye_n, -eye_n
    block.add_rows("balance_p", p_terms, Sense.EQ, np.zeros(n))
    block.add_rows("balance_q", q_terms, Sense.EQ, np.zeros(n))

    # Voltage drop: d = v_f - v_t - 2 (r P + x Q) + |z|^2 l.
    z2 = r**2 + x**2
    sw = np.flatnonzero(pu.switchable)
    fx = np.flatnonzero(~pu.switchable)

    def drop(rows: np.ndarray, sign: float) -> dict[str, sp.spmatrix]:
        k = len(rows)
        dv = select(f[rows], n, a[rows]) - select(t[rows], n)
        terms: dict[str, sp.spmatrix] = {
            "v": sign * dv,
            "P": select(rows, m, -2 * sign * r[rows]),
            "Q": select(rows, m, -2 * sign * x[rows]),
        }
        if not opt.lossless:
            terms["l"] = select(rows, m, sign * z2[rows])
        del k
        return terms

    block.add_rows("drop_fixed", drop(fx, 1.0), Sense.EQ, np.zeros(len(fx)))
    up = drop(sw, 1.0)
    up["y"] = select(sw, m, mm.v_up[sw])
    block.add_rows("drop_up", up, Sense.LE, mm.v_up[sw])
    dn = drop(sw, -1.0)
    dn["y"] = select(sw, m, mm.v_dn[sw])
    block.add_rows("drop_dn", dn, Sense.LE, mm.v_dn[sw])

    # Open branches carry nothing: |P| <= M^P y, |Q| <= M^Q y, l <= M^l y.
    for on in (OnOff("P_on", "P", sw, "y", sw, mm.p[sw], True),
               OnOff("Q_on", "Q", sw, "y", sw, mm.q[sw], True),
               OnOff("l_on", "l", sw, "y", sw, mm.l[sw], False)):
        for rows in on.big_m_rows(block.groups):
            block.add_rows(rows.name, rows.terms, rows.sense, rows.rhs)

    # Limits: current, voltage (with slack where asked).
    rated, thermal = effective_ratings(pu)
    if len(rated):
        terms = {"l": select(rated, m)}
        if opt.slack:
            # l <= i_max^2 + 2 i_max slack_i: slack_i is about the current beyond the rating
            # [p.u.], comparable with the other slacks.
            block.add_group(Group.new("slack_i", len(rated), 0.0, np.inf))
            terms["slack_i"] = diag(-2.0 * pu.i_max[rated], len(rated))
        block.add_rows("current_max", terms, Sense.LE, pu.i_max[rated] ** 2)
    if opt.slack:
        # the buses a band binds: not a source's, not one a generator holds at its set-point
        # (fixed by voltage_bounds: a slack row there measured the set-point against a band
        # that does not bind it)
        load_bus = np.flatnonzero(pu.banded())
        k = len(load_bus)
        block.add_group(Group.new("slack_v_up", k, 0.0, np.inf))
        block.add_group(Group.new("slack_v_dn", k, 0.0, np.inf))
        eye_k = sp.identity(k, format="csr")
        block.add_rows("v_max", {"v": select(load_bus, n), "slack_v_up": -eye_k}, Sense.LE,
                       pu.v_max[load_bus] ** 2)
        block.add_rows("v_min", {"v": -select(load_bus, n), "slack_v_dn": -eye_k}, Sense.LE,
                       -pu.v_min[load_bus] ** 2)

    # Cone on the branch's own copy w of the sending-end voltage:
    #   ||(2P, 2Q, w - l)|| <= w + l,  0 <= w <= v_max_f^2 y,  w <= v_f - v_min_f^2 (1 - y).
    # Closed (y = 1): w <= v_f, the Farivar-Low cone. Open: w = 0 forces P = Q = 0.
    # With a tap, w is the scaled voltage v_f / tap^2 that the series impedance sees.
    eye_m = sp.identity(m, format="csr")
    vf = select(f, n, a)
    block.add_rows("w_volt", {"w": eye_m, "v": -vf, "y": diag(-lo_w, m)}, Sense.LE, -lo_w)
    if opt.perspective and len(sw):
        block.add_rows("w_on", {"w": select(sw, m), "y": select(sw, m, -hi_w[sw])}, Sense.LE,
                       np.zeros(len(sw)))
    if len(sh_from) or len(sh_to):
        # Where a shunt sits on w, a closed branch needs w = v_f / tap^2 exactly:
        # w >= v_f / tap^2 - hi_w (1 - y).
        k_w = np.union1d(sh_from, sh_to)
        block.add_rows("w_floor", {"w": -select(k_w, m), "v": select(f[k_w], n, a[k_w]),
                                   "y": select(k_w, m, hi_w[k_w])}, Sense.LE, hi_w[k_w])
    if len(sh_to):
        # u = w - 2 (r P + x Q) + |z|^2 l: v_t when closed, 0 when open.
        k = len(sh_to)
        u_terms: dict[str, sp.spmatrix] = {
            "u": sp.identity(k, format="csr"),
            "w": -select(sh_to, m),
            "P": select(sh_to, m, 2 * r[sh_to]),
            "Q": select(sh_to, m, 2 * x[sh_to]),
        }
        if not opt.lossless:
            u_terms["l"] = select(sh_to, m, -z2[sh_to])
        block.add_rows("u_def", u_terms, Sense.EQ, np.zeros(k))
    block.add_cones(
        "branch_cone",
        {"w": eye_m, "l": eye_m},
        [{"P": 2 * eye_m}, {"Q": 2 * eye_m}, {"w": eye_m, "l": -eye_m}],
    )
    if len(thermal):
        # ||(P, Q)|| <= s_max (+ slack_s): the constant is a bound on a helper group.
        block.add_group(Group.data("s_rating", pu.s_max[thermal]))
        eye_s = sp.identity(len(thermal), format="csr")
        t_terms = {"s_rating": eye_s}
        if opt.slack:
            block.add_group(Group.new("slack_s", len(thermal), 0.0, np.inf))
            t_terms["slack_s"] = eye_s
        block.add_cones(
            "thermal_cone",
            t_terms,
            [{"P": select(thermal, m)}, {"Q": select(thermal, m)}],
        )
    limited = np.flatnonzero(np.isfinite(s_max))
    if len(limited):
        block.add_group(Group.data("s_source", s_max[limited]))
        block.add_cones(
            "source_cone",
            {"s_source": sp.identity(len(limited), format="csr")},
            [{"ps": select(limited, len(src))}, {"qs": select(limited, len(src))}],
        )

    for group, c in loss_terms(pu).items():
        block.add_objective(group, c)
    return block


def fixed_topology_form(block: Block, pu: PerUnitNetwork) -> Block:
    """``block`` (of :func:`distflow`) for a slave, whose switch states ``y`` are fixed at 0 or
    1: the bounds of ``P``, ``Q`` and ``l`` and the bounds of the generators without q limits
    are left out (infinite), in place; ``block`` is returned.

    The feasible set stays the same. With ``y`` binary, the big-M rows ``|P| <= M^P y``,
    ``|Q| <= M^Q y``, ``l <= M^l y`` of a switchable branch state its bounds; those of a fixed
    branch and of a PV generator's ``q`` (:func:`big_m`, :func:`_gen_q_range`) are derived
    from the other rows (Ohm's law under the voltage bounds, the totals of demand and
    generation, the ratings), so no point of the other rows breaks them. They exist for the
    models where ``y`` is fractional or free (the relaxation, the master, the MISOCP). As
    finite numbers they are entries of the conic solver's right-hand side ``b``, whose norm
    scales its feasibility tolerance: on pandapower's ``example_multivoltage`` (a 100 MW
    generator and two xwards with unlimited q next to 110 kV lines of 5e-4 p.u. on the 1 MVA
    base, 244 MW of load) Ohm's law allows each unlimited generator up to 38 000 p.u. of q, so
    ``M^Q = 67 607`` and ``M^l = 6.3e9`` p.u. (1.8e10 with slack), and Clarabel failed on 159
    of its 160 distinct radial topologies at ``v_min`` 0.85 (phase 2 an error, phase 1
    "unbounded" although its objective is a sum of non-negative slacks), which stopped the
    run; without these bounds on 17 (phase 1 ``optimal_inaccurate``, still an answer).

    The big-M rows of the switchable branches (``P_on``, ``Q_on``, ``l_on``) become on/off
    bounds (:class:`~feederopt.formulations.blocks.OnOff`), which the slave's backend states
    without ``M`` for its fixed ``y_hat``: ``(1 - y_hat) P = 0``, ``(1 - y_hat) Q = 0``,
    ``(1 - y_hat) l <= 0``. With ``y`` in these rows, the conic solver's residue on the copy
    row ``y = y_hat`` let an open branch carry up to ``M`` times it: on
    ``example_multivoltage`` at ``v_min`` 0.85 (``M^Q = 36 446`` p.u.) Clarabel ended at
    ``y = 7.2e-4`` on the open switch 21, which then carried 26.1 p.u. of q (and
    ``l = 1.3e6``), so the slave priced a meshed grid: "optimal" 5189 kW where every radial
    topology that meets the limits loses 9852 kW (pandapower). The Benders gradient stays
    that of the big-M rows (:meth:`~feederopt.solvers.cvxpy_backend.CvxpyModel.gradient`)."""
    groups = block.groups
    block.on_off += _take_on_off(block)
    for name in ("P", "Q", "l"):
        if name in groups:
            g = groups[name]
            g.ub = np.full(g.size, np.inf)
            g.lb = np.zeros(g.size) if name == "l" else np.full(g.size, -np.inf)
    if "qg" in groups and groups["qg"].size:
        g = groups["qg"]
        g.lb = np.where(np.isfinite(pu.gen_q_min), g.lb, -np.inf)
        g.ub = np.where(np.isfinite(pu.gen_q_max), g.ub, np.inf)
    return block


#: The on/off bounds of :func:`distflow` (name, group, two-sided), written as big-M rows.
ON_OFF = (("P_on", "P", True), ("Q_on", "Q", True), ("l_on", "l", False))


def _take_on_off(block: Block) -> list[OnOff]:
    """The on/off bounds :data:`ON_OFF` of ``block``, their big-M rows taken out of it."""
    out = []
    for name, group, two_sided in ON_OFF:
        first = name + "_pos" if two_sided else name
        names = {first, name + "_neg"} if two_sided else {first}
        taken: list[Rows] = [r for r in block.rows if r.name in names]
        if not taken:  # no switchable branch
            continue
        block.rows = [r for r in block.rows if r.name not in names]
        pos = next(r for r in taken if r.name == first)
        pick, on = pos.terms[group].tocoo(), pos.terms["y"].tocoo()
        if pick.nnz != pos.m or on.nnz != pos.m:
            raise ValueError(f"rows {first!r} are not one entry per switchable branch")
        cols, switches, big = (np.zeros(pos.m, int), np.zeros(pos.m, int), np.zeros(pos.m))
        cols[pick.row] = pick.col
        switches[on.row] = on.col
        big[on.row] = -on.data
        out.append(OnOff(name, group, cols, "y", switches, big, two_sided))
    return out


def _at(n: int, m: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
    """An (n x m) matrix with ``values`` at ``(rows[k], cols[k])``."""
    return sp.csr_matrix((np.asarray(values, float), (rows, cols)), shape=(n, m))


def dangling_branches(pu: PerUnitNetwork) -> np.ndarray:
    """Switchable branches that load one end when open (see the module docstring)."""
    k = pu.dangling()
    return k[pu.switchable[k]] if len(k) else k


def switchable_shunts(pu: PerUnitNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Switchable branches with a shunt at the from end, and at the to end."""
    if not pu.has_branch_shunts():
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    sw = pu.switchable
    return (np.flatnonzero(sw & ((pu.g_from != 0) | (pu.b_from != 0))),
            np.flatnonzero(sw & ((pu.g_to != 0) | (pu.b_to != 0))))


def bus_shunts(pu: PerUnitNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Per bus, the conductance and susceptance [p.u.] that act on its squared voltage ``v``:
    bus shunts plus the ends of the fixed closed branches (the from end scaled by
    ``1 / tap^2``) and the energised ends of the fixed-open ones (``g_d + j b_d``)."""
    n = pu.n_bus
    g_v, b_v = pu.p_shunt.copy(), pu.q_shunt.copy()
    if not g_v.size:
        g_v = np.zeros(n)
    if pu.g_open_end.size:  # open ends of left-out branches: a loss (see loss_terms)
        g_v = g_v + pu.g_open_end
    if pu.has_branch_shunts():
        # a fixed-open branch (held open; only in the full models that results are mapped
        # on, the formulations never see one) loads only the bus its open end hangs on
        fx = ~pu.switchable & ~pu.normally_open
        a = pu.tap2
        np.add.at(g_v, pu.f[fx], pu.g_from[fx] * a[fx])
        np.add.at(g_v, pu.t[fx], pu.g_to[fx])
        np.add.at(b_v, pu.f[fx], pu.b_from[fx] * a[fx])
        np.add.at(b_v, pu.t[fx], pu.b_to[fx])
        k = pu.dangling()
        k = k[~pu.switchable[k] & pu.normally_open[k]] if len(k) else k
        np.add.at(g_v, pu.dangle_bus[k], pu.g_dangle[k])
        np.add.at(b_v, pu.dangle_bus[k], pu.b_dangle[k])
    return g_v, b_v


def loss_terms(pu: PerUnitNetwork) -> dict[str, np.ndarray]:
    """The losses [p.u.] as linear terms of the block's groups: ``r l`` in the series
    impedances, ``g v`` in the branches' shunt conductances (line conductance, transformer
    iron losses; on ``v``, ``w``, ``u`` or ``d``, see :func:`distflow`). What a bus shunt
    consumes is a load, as in pandapower's ``res_shunt``, not a loss."""
    out = {"l": pu.r.astype(float)}
    g_v, _ = bus_shunts(pu)
    g_v = g_v - (pu.p_shunt if pu.p_shunt.size else 0.0)  # a bus shunt's power is a load
    if np.any(g_v != 0):
        out["v"] = g_v
    sh_from, sh_to = switchable_shunts(pu)
    if len(sh_from) and np.any(pu.g_from[sh_from] != 0):
        c = np.zeros(pu.n_branch)
        c[sh_from] = pu.g_from[sh_from]
        out["w"] = c
    if len(sh_to) and np.any(pu.g_to[sh_to] != 0):
        out["u"] = pu.g_to[sh_to].astype(float)
    dang = dangling_branches(pu)
    if len(dang) and np.any(pu.g_dangle[dang] != 0):
        out["d"] = pu.g_dangle[dang].astype(float)
    return out


def losses_of(pu: PerUnitNetwork, point: dict[str, np.ndarray]) -> float:
    """The losses [p.u.] of a block's point (see :func:`loss_terms`)."""
    total = 0.0
    for group, c in loss_terms(pu).items():
        if group not in point:
            return float("nan")
        total += float(np.nansum(c * point[group]))
    return total


#: Weight of the power-balance slack in the phase-1 objective, against 1 for the limits'
#: slack: a topology that needs slack relaxes a voltage, current or thermal limit before it
#: sheds load, so the diagnosis names the binding limit.
BALANCE_SLACK_WEIGHT = 10.0


def slack_objective(block: Block) -> dict[str, np.ndarray]:
    """The phase-1 objective: the weighted sum of every slack group (zero exactly when the
    topology is feasible, whatever the positive weights)."""
    return {
        name: np.full(g.size, BALANCE_SLACK_WEIGHT if name.startswith(
            ("slack_p_", "slack_q_")) else 1.0)
        for name, g in block.groups.items() if name.startswith("slack_")
    }
