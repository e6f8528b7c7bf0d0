"""LinDist3Flow: the linear unbalanced branch-flow model, with on/off switches.

Variables: the squared voltage magnitude ``w`` of every node (bus, phase); per branch phase the
sending-end flows ``p, q`` (lossless, so also the receiving-end flows); per transformer-bank
secondary phase the flows ``pt, qt``; the branch states ``y``. From Gan & Low, "Convex
relaxations and linear approximation for optimal power flow in multiphase radial networks",
PSCC 2014; Sankur, Dobbe, Arnold & Callaway, "A linearized power flow model for optimization in
unbalanced distribution systems", arXiv:1606.04492, 2016; Arnold et al., "Optimal dispatch of
reactive power for voltage regulation and balancing in unbalanced distribution systems", IEEE PES
GM 2016; and the seed 001 (Moring et al.) equations (16c)-(16l):

    (16l) sum_{k->i} p_ki - sum_{i->k} p_ik = p_load_i(w) - p_gen_i           per node
    (16d) w_t = w_f + M^p p + M^q q                                            closed branch
          -M (1 - y) <= w_t - w_f - M^p p - M^q q <= M (1 - y),  |p|, |q| <= F y   switch
    (16g/16i) w_sec = g0 + G w_pri,  (16h/16j/16k) s_pri = Gamma s_sec          transformer bank
    (16c) w_min <= w <= w_max,  w = v_set^2 at the source
    (KVL) theta_t = theta_f + (M^q p - M^p q) / 2                               branch on a loop
          theta_sec = Re(C) theta_pri + Im(C) (w_pri - 1) / 2,  C = Gamma^T        bank on a loop

The last two rows are the angle half of the linearised drop. With ``V_i = a_i (1 + delta_i)``,
``delta_i ~ (w_i - 1) / 2 + j theta_i`` (``theta`` the angle deviation of a node from its
nominal phase angle) and ``I_j ~ conj(s_j) a_j``, a branch gives ``delta_t = delta_f -
sum_j m_ij conj(s_j)`` with ``m_ij = Z_ij a_j / a_i``: its real part is (16d) and its imaginary
part ``theta_t - theta_f = -Im(m) p + Re(m) q = (M^q p - M^p q) / 2``. An ideal bank
``V_sec = T V_pri`` gives ``delta_sec,i = sum_k C_ik delta_k`` with ``C_ik = T_ik a_k / (T a)_i =
Gamma_ki``. On a radial network ``theta`` only follows the flows, so these rows are left out;
on a loop (a mesh, or two banks from one feeder into one secondary network) (16d) alone leaves
one circulating flow per loop free, ``sum_loop (M^p p + M^q q) = 0`` fixes only its magnitude
part, and the solver returns an arbitrary vertex (EPRI ckt24: 2.35 p.u. behind a step-down
bank). The angle rows are therefore written for the branches and banks on a loop of the bus
graph of the closed (or switchable closed) branches, banks and sources (:func:`loop_links`),
with a big-M on switchable branches, and they fix the circulating flow by Kirchhoff's voltage
law around the loop.

``M^p, M^q``, the load linearisation (wye and delta, exponential models), line charging and the
bank matrices ``G, g0, Gamma`` come from :mod:`feederopt.network.threephase_perunit`. ``M`` is the
exact range of ``w_t - w_f`` under the bounds (an open switch carries no flow), ``F`` the total
demand and generation with a margin. Maths only: the block is solved elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.network.threephase_perunit import PerUnitThreePhase
from feederopt.network.topology import bridges

#: Range of ``w`` without voltage limits (finite, so that the big-M of a switch stays finite).
W_UNBOUNDED = 100.0
#: Range of a node's angle deviation ``theta`` [rad] with voltage limits (only on loops).
THETA_MAX = np.pi / 2


@dataclass(frozen=True)
class EdgePhases:
    """Index maps of the edge-phase and bank-phase flow vectors."""

    edge: np.ndarray  # edge of each edge-phase
    f_node: np.ndarray
    t_node: np.ndarray
    start: np.ndarray  # first edge-phase of each edge
    bank_start: np.ndarray
    bank_sec_node: np.ndarray  # node of each bank-phase (secondary)


def edge_phases(pu: PerUnitThreePhase) -> EdgePhases:
    edge: list[int] = []
    fn: list[int] = []
    tn: list[int] = []
    start: list[int] = []
    for e, ed in enumerate(pu.edges):
        start.append(len(edge))
        for ph in ed.phases:
            edge.append(e)
            fn.append(pu.node_of[(ed.f, ph)])
            tn.append(pu.node_of[(ed.t, ph)])
    bstart: list[int] = []
    bsec: list[int] = []
    for bk in pu.banks:
        bstart.append(len(bsec))
        bsec += [pu.node_of[(bk.t, ph)] for ph in bk.sec]
    return EdgePhases(np.array(edge, int), np.array(fn, int), np.array(tn, int),
                      np.array(start, int), np.array(bstart, int), np.array(bsec, int))


def bus_branches(pu: PerUnitThreePhase, keep: np.ndarray,
                 ) -> tuple[list[int], list[tuple[int, int]]]:
    """The branches of the bus graph of the edges in ``keep`` (a mask over ``pu.edges``): the
    branch of each edge (-1 where not kept) and the two buses of each branch.

    Edges between the same two buses on disjoint phases (ckt24's pairs of single-phase lines
    behind a two-unit bank, Iowa 240's parallel single-phase lines) are one branch: together
    they are one multi-phase connection and close no loop of a phase. Edges between the same
    buses that share a phase (a switch beside a line, parallel lines) close a loop and are
    branches of their own."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k in np.flatnonzero(keep):
        ed = pu.edges[int(k)]
        groups.setdefault((min(ed.f, ed.t), max(ed.f, ed.t)), []).append(int(k))
    member = [-1] * len(pu.edges)
    ends: list[tuple[int, int]] = []
    for pair, es in groups.items():
        phases = [ph for e in es for ph in pu.edges[e].phases]
        parts = [es] if len(set(phases)) == len(phases) else [[e] for e in es]
        for part in parts:
            for e in part:
                member[e] = len(ends)
            ends.append(pair)
    return member, ends


def loop_links(pu: PerUnitThreePhase, *, switches: bool = True,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Which edges and banks lie on a loop: masks over ``pu.edges`` and ``pu.banks``.

    The graph has the buses as vertices, one link per edge (a non-switchable open edge left
    out, a switchable one in if closed in the base case; with ``switches=False`` every
    switchable edge left out, which gives the permanent loops, closed in every topology), one
    per bank (primary to secondary bus) and one from every source bus to a common ground (so
    that a path between two sources is a loop). Edges between the same two buses on disjoint
    phases (ckt24's pairs of single-phase lines behind a two-unit bank) are one link
    (:func:`bus_branches`): they close no loop of a phase. A link lies on a loop unless it is
    a bridge (Tarjan). A loop of the bus graph that closes on no single phase only adds angle
    rows that are redundant but consistent."""
    nbus = len(pu.bus_ids)
    keep = np.array([not ed.normally_open and (switches or not ed.switchable)
                     for ed in pu.edges], bool)
    member, ends = bus_branches(pu, keep)
    f = [a for a, _ in ends]
    t = [b for _, b in ends]
    for bk in pu.banks:
        f.append(bk.f)
        t.append(bk.t)
    for b in sorted({int(pu.node_bus[nd]) for nd in pu.source_nodes}):
        f.append(b)
        t.append(nbus)  # the ground
    on_loop = ~bridges(nbus + 1, np.array(f, int), np.array(t, int))
    edge_mask = np.zeros(len(pu.edges), bool)
    edge_mask[keep] = on_loop[np.array(member, int)[keep]]
    bank_mask = on_loop[len(ends):len(ends) + len(pu.banks)].copy()
    return edge_mask, bank_mask


def flow_bound(pu: PerUnitThreePhase, margin: float = 1.5) -> float:
    """A bound on any per-phase flow: all demand and generation, with a margin."""
    d = float(np.abs(pu.demand_p0).sum() + np.abs(pu.demand_q0).sum())
    d += float(abs(pu.demand_kp).sum() + abs(pu.demand_kq).sum()) * float(pu.w_max.max())
    g = float(np.abs(pu.gen_p).sum() + np.abs(pu.gen_q).sum())
    return max((d + g) * margin, 1e-3)


def bank_flow_terms(pu: PerUnitThreePhase, ix: EdgePhases,
                    ) -> list[tuple[str, int, float, sp.csr_matrix, sp.csr_matrix]]:
    """The rated phases of every transformer bank as linear maps of the bank flows: one entry
    ``(bank id, winding, s_max, P, Q)`` per phase with a finite rating, where ``P`` and ``Q``
    (1 x len(pt) rows, each a map of ``[pt, qt]`` stacked: 1 x 2 len(pt)) give the phase's
    ``p`` and ``q``. The secondary phase ``i`` is ``(pt_i, qt_i)``; the primary phase ``i`` is
    ``s_pri,i = sum_k Gamma_ik s_sec,k`` (the lossless bank of
    :mod:`feederopt.network.threephase_perunit`), ``p = sum_k Re(Gamma_ik) pt_k -
    Im(Gamma_ik) qt_k`` and ``q = sum_k Im(Gamma_ik) pt_k + Re(Gamma_ik) qt_k``."""
    nb = len(ix.bank_sec_node)
    out: list[tuple[str, int, float, sp.csr_matrix, sp.csr_matrix]] = []
    for b, bk in enumerate(pu.banks):
        start = int(ix.bank_start[b])
        if bk.s_max_sec is not None:
            for i, smax in enumerate(bk.s_max_sec):
                if np.isfinite(smax):
                    pr = sp.csr_matrix(([1.0], ([0], [start + i])), shape=(1, 2 * nb))
                    qr = sp.csr_matrix(([1.0], ([0], [nb + start + i])), shape=(1, 2 * nb))
                    out.append((bk.id, 2, float(smax), pr, qr))
        if bk.s_max_pri is not None:
            for i, smax in enumerate(bk.s_max_pri):
                if not np.isfinite(smax):
                    continue
                g = np.asarray(bk.gamma[i, :], complex)
                cols = np.arange(start, start + len(bk.sec))
                pr = sp.csr_matrix((np.r_[g.real, -g.imag], ([0] * 2 * len(cols),
                                                            np.r_[cols, nb + cols])),
                                   shape=(1, 2 * nb))
                qr = sp.csr_matrix((np.r_[g.imag, g.real], ([0] * 2 * len(cols),
                                                           np.r_[cols, nb + cols])),
                                   shape=(1, 2 * nb))
                out.append((bk.id, 1, float(smax), pr, qr))
    return out


def bank_thermal_rows(block: Block, pu: PerUnitThreePhase, ix: EdgePhases,
                      polygon_sides: int = 12) -> None:
    """Add the transformer ratings to ``block``: for every rated bank phase of each winding
    (:func:`bank_flow_terms`), ``p cos t + q sin t <= s_max`` for ``polygon_sides`` directions
    ``t``, the circumscribed polygon of ``|s| <= s_max`` that (16e)-(16f) put on the lines
    (Moring et al., seed 001; Sankur et al. 2016). ``s_max = V_b I_max`` is the rated current
    at the base phase voltage (:func:`feederopt.network.threephase_perunit.to_per_unit_3ph`),
    so at 1 p.u. the row is ``|I| <= I_max``, the lines' form."""
    terms = bank_flow_terms(pu, ix)
    if not terms:
        return
    nb = len(ix.bank_sec_node)
    prow = sp.vstack([t[3] for t in terms]).tocsr()
    qrow = sp.vstack([t[4] for t in terms]).tocsr()
    smax = np.array([t[2] for t in terms], float)
    for j in range(polygon_sides):
        th = 2 * np.pi * j / polygon_sides
        both = (prow * np.cos(th) + qrow * np.sin(th)).tocsr()
        block.add_rows(f"thermal_bank_{j}", {"pt": both[:, :nb], "qt": both[:, nb:]},
                       Sense.LE, smax)


def lindist3flow(pu: PerUnitThreePhase, *, voltage_limits: bool = True,
                 der_variables: bool = False, thermal_limits: bool = False,
                 polygon_sides: int = 12, transformer_limits: bool = False) -> Block:
    """The LinDist3Flow block (see module docstring).

    Groups ``w``, ``p``, ``q``, ``pt``, ``qt`` and ``y`` (one per edge: binary where switchable,
    fixed closed elsewhere, fixed open for a non-switchable open edge). ``voltage_limits=False``
    leaves ``w`` within +-W_UNBOUNDED (a power flow that reports violations, even a collapse).
    ``der_variables=True`` makes every DER phase's output a variable ``pg, qg`` (within
    ``[p_min, p_max]`` and ``|q| <= s_max``, per phase) instead of its base-case value; a
    single-phase unit between two phases is one such entry, its ``s = pg + j qg`` (limits
    the unit's) injected into both phases with the delta ratios (``s V_i / V_ik``, ``-s V_k
    / V_ik`` at the balanced point), linear in ``s``.
    ``thermal_limits=True`` adds (16e)-(16f), ``|s_i| <= s_max`` per phase of every rated edge,
    as the circumscribed polygon ``p cos t + q sin t <= s_max`` (``polygon_sides`` directions;
    on an open switch the flows are zero anyway). With ``transformer_limits`` as well, the
    same polygon holds every rated transformer bank's phases on both windings
    (:func:`bank_thermal_rows`; off by default, so that callers that hold the lines only, the
    partition's, keep their model; the three-phase reconfiguration turns it on).
    """
    ix = edge_phases(pu)
    n, m, nb = pu.n_nodes, len(ix.edge), len(ix.bank_sec_node)
    block = Block()
    lo = pu.w_min.copy() if voltage_limits else np.full(n, -W_UNBOUNDED)
    hi = pu.w_max.copy() if voltage_limits else np.full(n, W_UNBOUNDED)
    lo[pu.source_nodes] = pu.w_source
    hi[pu.source_nodes] = pu.w_source
    block.add_group(Group.new("w", n, lo, hi))
    fmax = flow_bound(pu)
    block.add_group(Group.new("p", m, -fmax, fmax))
    block.add_group(Group.new("q", m, -fmax, fmax))
    block.add_group(Group.new("pt", nb, -fmax, fmax))
    block.add_group(Group.new("qt", nb, -fmax, fmax))
    sw = np.array([e.switchable for e in pu.edges], bool)
    closed = np.array([not e.normally_open for e in pu.edges], bool)
    y_lo = np.where(sw, 0.0, closed.astype(float))
    y_hi = np.where(sw, 1.0, closed.astype(float))
    block.add_group(Group.new("y", len(pu.edges), y_lo, y_hi, integer=True))

    # ---- power balance (16l) at every node but the sources' -------------------------------
    keep = np.setdiff1d(np.arange(n), pu.source_nodes)
    inc = (sp.csr_matrix((np.ones(m), (ix.t_node, np.arange(m))), shape=(n, m))
           - sp.csr_matrix((np.ones(m), (ix.f_node, np.arange(m))), shape=(n, m)))
    bank_in = sp.csr_matrix((np.ones(nb), (ix.bank_sec_node, np.arange(nb))), shape=(n, nb))
    rows_pp, rows_pq, rows_qp, rows_qq = [], [], [], []  # primary draw of each bank
    for b, bk in enumerate(pu.banks):
        for i, ph in enumerate(bk.pri):
            node = pu.node_of[(bk.f, ph)]
            for k in range(len(bk.sec)):
                col = ix.bank_start[b] + k
                gam = bk.gamma[i, k]
                rows_pp.append((node, col, gam.real))
                rows_pq.append((node, col, -gam.imag))
                rows_qp.append((node, col, gam.imag))
                rows_qq.append((node, col, gam.real))

    def mat(entries: list[tuple[int, int, float]]) -> sp.csr_matrix:
        if not entries:
            return sp.csr_matrix((n, nb))
        r, c, v = zip(*entries, strict=True)
        return sp.csr_matrix((v, (r, c)), shape=(n, nb))

    out_pp, out_pq, out_qp, out_qq = mat(rows_pp), mat(rows_pq), mat(rows_qp), mat(rows_qq)
    terms_p = {"p": inc[keep], "pt": (bank_in - out_pp)[keep], "qt": -out_pq[keep],
               "w": -pu.demand_kp[keep]}
    terms_q = {"q": inc[keep], "qt": (bank_in - out_qq)[keep], "pt": -out_qp[keep],
               "w": -pu.demand_kq[keep]}
    gen_p, gen_q = pu.gen_p, pu.gen_q
    if der_variables:
        nd = len(pu.der_node)
        block.add_group(Group.new("pg", nd, pu.der_p_min, pu.der_p_max))
        block.add_group(Group.new("qg", nd, -pu.der_s_max, pu.der_s_max))
        # a phase to ground entry injects its (pg, qg) at its node; a unit between two
        # phases rotates its s into both (PerUnitThreePhase.der_injection)
        pp, pq, qp, qq = (mtx[keep] for mtx in pu.der_injection())
        terms_p["pg"], terms_p["qg"] = pp, pq
        terms_q["pg"], terms_q["qg"] = qp, qq
        gen_p = np.zeros(n)
        gen_q = np.zeros(n)
    block.add_rows("balance_p", terms_p, Sense.EQ, (pu.demand_p0 - gen_p)[keep])
    block.add_rows("balance_q", terms_q, Sense.EQ, (pu.demand_q0 - gen_q)[keep])

    # ---- voltage drop (16d), with big-M on switchable edges ------------------------------
    mp = sp.block_diag([e.mp for e in pu.edges], format="csr") if m else sp.csr_matrix((0, 0))
    mq = sp.block_diag([e.mq for e in pu.edges], format="csr") if m else sp.csr_matrix((0, 0))
    dw = (sp.csr_matrix((np.ones(m), (np.arange(m), ix.t_node)), shape=(m, n))
          - sp.csr_matrix((np.ones(m), (np.arange(m), ix.f_node)), shape=(m, n)))
    fixed = ~sw[ix.edge]
    free = np.flatnonzero(~fixed)
    fixed_closed = np.flatnonzero(fixed & closed[ix.edge])
    block.add_rows("drop", {"w": dw[fixed_closed], "p": -mp[fixed_closed],
                            "q": -mq[fixed_closed]}, Sense.EQ, np.zeros(len(fixed_closed)))
    big = np.maximum(hi[ix.t_node] - lo[ix.f_node], hi[ix.f_node] - lo[ix.t_node])[free]
    ysel = sp.csr_matrix((np.ones(len(free)), (np.arange(len(free)), ix.edge[free])),
                         shape=(len(free), len(pu.edges)))
    for sign, name in ((1.0, "drop_switch_up"), (-1.0, "drop_switch_dn")):
        block.add_rows(name, {"w": sign * dw[free], "p": -sign * mp[free], "q": -sign * mq[free],
                              "y": ysel.multiply(big[:, None]).tocsr()}, Sense.LE, big)
    # flows vanish on open edges
    off = np.flatnonzero(~(fixed & closed[ix.edge]))
    ysel_all = sp.csr_matrix((np.full(len(off), -fmax), (np.arange(len(off)), ix.edge[off])),
                             shape=(len(off), len(pu.edges)))
    pick = sp.csr_matrix((np.ones(len(off)), (np.arange(len(off)), off)), shape=(len(off), m))
    for g in ("p", "q"):
        block.add_rows(f"{g}_switch_up", {g: pick, "y": ysel_all}, Sense.LE, np.zeros(len(off)))
        block.add_rows(f"{g}_switch_dn", {g: -pick, "y": ysel_all}, Sense.LE, np.zeros(len(off)))

    # ---- thermal limits (16e)-(16f) ---------------------------------------------------------
    if thermal_limits:
        rated = [k for k in range(m) if pu.edges[ix.edge[k]].s_max_pu]
        smax = np.array([pu.edges[ix.edge[k]].s_max_pu for k in rated], float)
        pick_r = sp.csr_matrix((np.ones(len(rated)), (np.arange(len(rated)), rated)),
                               shape=(len(rated), m))
        for j in range(polygon_sides):
            th = 2 * np.pi * j / polygon_sides
            block.add_rows(f"thermal_{j}", {"p": pick_r * np.cos(th), "q": pick_r * np.sin(th)},
                           Sense.LE, smax)
        if transformer_limits:
            bank_thermal_rows(block, pu, ix, polygon_sides)

    # ---- transformer banks (16g-16k) ------------------------------------------------------
    entries_w: list[tuple[int, int, float]] = []
    rhs: list[float] = []
    r = 0
    for bk in pu.banks:
        for i, ph in enumerate(bk.sec):
            entries_w.append((r, pu.node_of[(bk.t, ph)], 1.0))
            for k, pk in enumerate(bk.pri):
                if bk.g[i, k] != 0:
                    entries_w.append((r, pu.node_of[(bk.f, pk)], -bk.g[i, k]))
            rhs.append(bk.g0[i])
            r += 1
    if r:
        rr, cc, vv = zip(*entries_w, strict=True)
        block.add_rows("bank_voltage", {"w": sp.csr_matrix((vv, (rr, cc)), shape=(r, n))},
                       Sense.EQ, np.array(rhs))

    # ---- angles on loops (see module docstring) ---------------------------------------------
    loop_e, loop_b = loop_links(pu)
    if loop_e.any() or loop_b.any():
        th_max = THETA_MAX if voltage_limits else W_UNBOUNDED
        th_lo = np.full(n, -th_max)
        th_hi = np.full(n, th_max)
        th_lo[pu.source_nodes] = 0.0
        th_hi[pu.source_nodes] = 0.0
        block.add_group(Group.new("theta", n, th_lo, th_hi))
        on = loop_e[ix.edge]
        eq = np.flatnonzero(on & fixed & closed[ix.edge])
        block.add_rows("angle", {"theta": dw[eq], "p": -0.5 * mq[eq], "q": 0.5 * mp[eq]},
                       Sense.EQ, np.zeros(len(eq)))
        sw_rows = np.flatnonzero(on & ~fixed)
        big_th = np.full(len(sw_rows), 2 * th_max)
        ysw = sp.csr_matrix((big_th, (np.arange(len(sw_rows)), ix.edge[sw_rows])),
                            shape=(len(sw_rows), len(pu.edges)))
        for sign, name in ((1.0, "angle_switch_up"), (-1.0, "angle_switch_dn")):
            block.add_rows(name, {"theta": sign * dw[sw_rows], "p": -0.5 * sign * mq[sw_rows],
                                  "q": 0.5 * sign * mp[sw_rows], "y": ysw}, Sense.LE, big_th)
        ent_t: list[tuple[int, int, float]] = []
        ent_w: list[tuple[int, int, float]] = []
        rhs_t: list[float] = []
        r = 0
        for b, bk in enumerate(pu.banks):
            if not loop_b[b]:
                continue
            for i, ph in enumerate(bk.sec):
                ent_t.append((r, pu.node_of[(bk.t, ph)], 1.0))
                const = 0.0
                for k, pk in enumerate(bk.pri):
                    c = complex(bk.gamma[k, i])  # C_ik = T_ik a_k / (T a)_i
                    node = pu.node_of[(bk.f, pk)]
                    if c.real != 0:
                        ent_t.append((r, node, -c.real))
                    if c.imag != 0:
                        ent_w.append((r, node, -c.imag / 2))
                        const -= c.imag / 2
                rhs_t.append(const)
                r += 1
        if r:
            rt, ct, vt = zip(*ent_t, strict=True)
            terms = {"theta": sp.csr_matrix((vt, (rt, ct)), shape=(r, n))}
            if ent_w:
                rw, cw, vw = zip(*ent_w, strict=True)
                terms["w"] = sp.csr_matrix((vw, (rw, cw)), shape=(r, n))
            block.add_rows("bank_angle", terms, Sense.EQ, np.array(rhs_t))
    return block
