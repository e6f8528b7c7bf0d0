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

#: Range of ``w`` without voltage limits (finite, so that the big-M of a switch stays finite).
W_UNBOUNDED = 100.0


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


def flow_bound(pu: PerUnitThreePhase, margin: float = 1.5) -> float:
    """A bound on any per-phase flow: all demand and generation, with a margin."""
    d = float(np.abs(pu.demand_p0).sum() + np.abs(pu.demand_q0).sum())
    d += float(abs(pu.demand_kp).sum() + abs(pu.demand_kq).sum()) * float(pu.w_max.max())
    g = float(np.abs(pu.gen_p).sum() + np.abs(pu.gen_q).sum())
    return max((d + g) * margin, 1e-3)


def lindist3flow(pu: PerUnitThreePhase, *, voltage_limits: bool = True,
                 der_variables: bool = False, thermal_limits: bool = False,
                 polygon_sides: int = 12) -> Block:
    """The LinDist3Flow block (see module docstring).

    Groups ``w``, ``p``, ``q``, ``pt``, ``qt`` and ``y`` (one per edge: binary where switchable,
    fixed closed elsewhere, fixed open for a non-switchable open edge). ``voltage_limits=False``
    leaves ``w`` within +-W_UNBOUNDED (a power flow that reports violations, even a collapse).
    ``der_variables=True`` makes every DER phase's output a variable ``pg, qg`` (within
    ``[p_min, p_max]`` and ``|q| <= s_max``, per phase) instead of its base-case value.
    ``thermal_limits=True`` adds (16e)-(16f), ``|s_i| <= s_max`` per phase of every rated edge,
    as the circumscribed polygon ``p cos t + q sin t <= s_max`` (``polygon_sides`` directions;
    on an open switch the flows are zero anyway).
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
        at = sp.csr_matrix((np.ones(nd), (pu.der_node, np.arange(nd))), shape=(n, nd))[keep]
        terms_p["pg"] = at
        terms_q["qg"] = at
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
    return block
