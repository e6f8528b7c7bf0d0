"""Blocks that a partition plan leaves dark although they hold a grid-forming DER: for the
DERs' cost (user test ut34, finding 3), or for want of power (ut36_tph #3).

The objective (16a) of seed 001 weighs a shed block ``l`` at ``W_l = shed_scale alpha_l`` $
(about 10,000 $, whatever its kW) and generation at ``c1`` $/kWh: a block whose generation
costs more than ``W_l`` is cheaper to shed, and the optimum sheds it although a grid-forming
DER could carry it. The default DER cost
(:func:`~feederopt.formulations.partition.default_der_cost`) rules that out; costs given in
the settings may not. :func:`cost_dark_blocks` finds such blocks for an optimal plan ``P``:

* **candidates**: de-energised blocks with load (weight > 0), not lost, with no switch the
  settings fix closed, holding a grid-forming DER with capacity; none when the largest
  generation cost of any plan
  (:func:`~feederopt.formulations.partition.generation_cost_bound`) is below the lightest
  candidate's weight (then adding a block always pays);
* **the block alone**: the first stage with only block ``l`` allowed on (every other block
  held off, every switch open) and ``z_l >= 1``, with one slack-free recourse copy per sign
  pattern of ``l``'s uncertain loads (the extensive form of
  :func:`~feederopt.algorithms.partition.with_copies`; loads of de-energised blocks do not
  change the recourse, :func:`~feederopt.algorithms.partition.live_groups`), at the plan's
  costs. Feasible means ``l`` runs as a microgrid of its own, robustly over the box; its
  optimum is the least cost of serving it, generation ``sum c1 ps + c0`` plus the worst
  re-dispatch ``theta``.

A feasible ``l`` is left dark because of the cost: its island touches none of ``P``'s energised
blocks (its switches are open in ``P``, (2)), so ``P`` plus the island is a plan, robust
because the recourse separates over components, and ``P``'s optimality means that it costs at
least as much (``cost_l >= W_l`` up to the MILP's gap). Blocks that only a networked
microgrid (closed switches to other blocks) could carry are not checked here: that is the
whole partition problem again.

A dark block that holds a grid-forming DER with capacity and is not dark for its cost gets a
reason too (:func:`short_dark_blocks`, user test ut36_tph #3: 0 of 400 kW served, "optimal",
no word why): the first phase on which its loads draw more than its DERs' per-phase active
limits there (``ph_p_max``) can give, at the box's upper corner and the lowest voltage the
limits allow (the least draw a robust plan must meet on that phase, so no plan can serve the
block alone); then the first phase whose least apparent draw exceeds its DERs' per-phase kVA
ratings there (:func:`_kva_short`, user test ut49_part #6); else its phases are covered and
other limits (voltages, line and transformer ratings, the uncertainty box) rule it out alone.
Before both, a phase with load that none of the block's grid-forming DERs holds (ut47_part
#2): a microgrid holds only the phases of its grid formers (docs/partition-phases.md), so the
block cannot run alone whatever its grid followers give there; the note names the phase, the
grid formers' phases and the fix (a DER with that phase made grid-forming, and ``k_der`` for
one more grid former). The phase tests are skipped in a block holding a transformer bank,
whose windings move power between phases.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from feederopt.algorithms.partition import live_groups, with_copies
from feederopt.formulations.partition import (
    PartitionData,
    default_der_cost,
    generation_cost_bound,
)
from feederopt.network.threephase import PHASES
from feederopt.problems.partition import PartitionPlan
from feederopt.solvers.highs_backend import HighsModel

#: A block whose island costs less than its weight by more than this share contradicts the
#: plan's optimality (a gap, not the cost): :func:`cost_dark_blocks` leaves it out.
OPTIMALITY_TOL = 1e-3


@dataclass
class DarkBlock:
    """A block left dark that can run as a microgrid of its own (:func:`cost_dark_blocks`)."""

    block: int
    load_kw: float  # nominal kW of its loads
    weight: float  # its load-shed cost W_l = shed_scale alpha_l [$]
    serve_cost: float  # least generation + worst re-dispatch cost of serving it alone [$]
    ders: list[str]  # its DERs
    c1: list[float]  # their c1 [$/kWh]
    c0: list[float]  # their c0 [$]
    given: list[bool]  # whether each cost comes from the settings (else the default)


def _der_s_max_kva(data: PartitionData) -> np.ndarray:
    return 1000.0 * np.bincount(data.ph_der, weights=data.ph_s_max,
                                minlength=len(data.der_ids))


def cost_dark_blocks(data: PartitionData, plan: PartitionPlan, *,
                     deadline: float = math.inf) -> list[DarkBlock]:
    """The de-energised blocks of the optimal ``plan`` that can run as a microgrid of their
    own (see module docstring), each with its weight and its least cost of being served;
    blocks are checked until ``deadline`` (``time.perf_counter()``)."""
    weight = data.settings.shed_scale * data.alpha
    # a switch the settings fix closed ties its block to its neighbour: no island of its own
    tied = set(data.switch_blocks[data.switch_fixed == 1].ravel().tolist())
    cands = [b for b in range(data.n_blocks)
             if not plan.energised[b] and not data.lost[b] and weight[b] > 0
             and b not in tied
             and any(data.der_gf[d] and data.der_p_max_kw[d] > 0
                     for d in np.flatnonzero(data.der_block == b))]
    if not cands:
        return []
    bound = generation_cost_bound(data.der_c1, data.der_c0, data.der_p_max_kw,
                                  _der_s_max_kva(data), data.settings.ramp)
    if bound < min(weight[b] for b in cands):
        return []  # adding any block pays: none is dark for its cost
    scales = data.extreme_points()
    out: list[DarkBlock] = []
    for b in cands:
        if time.perf_counter() > deadline:
            break
        alone = replace(data, lost=np.arange(data.n_blocks) != b,
                        switch_fixed=np.zeros(data.n_switches, int))
        on = np.zeros(data.n_blocks)
        on[b] = 1.0
        _, reps = live_groups(data, scales, on)
        block = with_copies(alone, [scales[e] for e in reps])
        block.groups["zbl"].lb[b] = 1.0
        model = HighsModel(block)
        left = deadline - time.perf_counter()
        if math.isfinite(left):
            model.set_time_limit(max(left, 1e-3))
        sol = model.solve()
        if sol.status != "optimal":
            continue  # infeasible: it cannot run alone (or no answer in time)
        vals = model.values()
        ders = np.flatnonzero(data.der_block == b)
        cost = float(1000.0 * data.der_c1[data.ph_der] @ vals["ps"]
                     + data.der_c0[ders].sum() + vals["theta"][0])
        if cost < weight[b] * (1 - OPTIMALITY_TOL):
            continue  # cheaper than shedding: the plan was not optimal, not a cost matter
        out.append(DarkBlock(
            block=b, load_kw=float(data.load_p_kw[data.load_block == b].sum()),
            weight=float(weight[b]), serve_cost=cost,
            ders=[data.der_ids[d] for d in ders], c1=[float(data.der_c1[d]) for d in ders],
            c0=[float(data.der_c0[d]) for d in ders],
            given=[bool(data.der_cost_given[d]) if len(data.der_cost_given) else False
                   for d in ders]))
    return out


def cost_dark_note(dark: DarkBlock, data: PartitionData) -> str:
    """The result's note on a block left dark for its cost: what it holds, what serving it
    costs against its weight, the costs in use and the setting that changes them (with the
    feeder's default cost, :func:`~feederopt.formulations.partition.default_der_cost`)."""
    st = data.settings
    default_c1 = default_der_cost(st.shed_scale * data.alpha, data.der_p_max_kw,
                                  _der_s_max_kva(data), st.ramp)
    costs = ", ".join(
        f"{d} c1 {c1:g} $/kWh" + (f" c0 {c0:g} $" if c0 else "")
        + ("" if given else " (default)")
        for d, c1, c0, given in zip(dark.ders, dark.c1, dark.c0, dark.given, strict=True))
    than = "more than" if dark.serve_cost > dark.weight else "as much as"
    return (f"block {dark.block} ({dark.load_kw:,.1f} kW) is left dark although it can run as "
            f"a microgrid of its own: serving it costs {dark.serve_cost:,.2f} $ of generation "
            f"and re-dispatch, {than} its load-shed cost {dark.weight:,.2f} $ "
            f"({st.shed_scale:g} x alpha_l per block, whatever its kW), so the optimum sheds "
            f"it because of the DER costs ({costs}); lower them with the settings' dss cost "
            "[c1, c0] of each DER, or leave cost out to get the default (here "
            f"{default_c1:g} $/kWh, low enough that no plan's generation costs as much as a "
            "block: docs/partition-settings.md, \"DER costs\")")


@dataclass
class ShortBlock:
    """A dark block holding a grid-forming DER that is not dark for its cost
    (:func:`short_dark_blocks`)."""

    block: int
    load_kw: float  # nominal kW of its loads
    grid_forming: list[str]  # its grid-forming DERs with capacity
    phase: str | None  # the first phase its DERs cannot cover (None: they cover every phase)
    draw_kw: float  # its loads' least draw on that phase [kW]
    limit_kw: float  # its DERs' per-phase active limits on that phase, summed [kW]
    limits: list[tuple[str, float]]  # each DER's per-phase active limit there [kW]
    #: the first phase with load that none of its grid-forming DERs holds (None: each loaded
    #: phase has one), and the block's other DERs with that phase (ut47_part #2)
    unformed: str | None = None
    holders: list[str] = field(default_factory=list)
    #: the grid-forming DERs of the block with their phases ("Generator.g: a")
    formers: list[str] = field(default_factory=list)
    #: the block's grid formers plus one: the k_der a networked microgrid of its own with a
    #: holder of the unformed phase made grid-forming needs (above k_der: name the option)
    k_needed: int = 1
    k_der: int = 1
    #: its phases covered in kW, the first phase whose least apparent draw exceeds its DERs'
    #: per-phase kVA ratings there (None: none), that draw [kW, kvar, kVA], the ratings
    #: summed [kVA] and each DER's [kVA] (ut49_part #6)
    kva_phase: str | None = None
    draw_kvar: float = 0.0
    draw_kva: float = 0.0
    limit_kva: float = 0.0
    kva_limits: list[tuple[str, float]] = field(default_factory=list)
    #: the box's half-width [%] when the block holds an uncertain load (its draws are at the
    #: box's top), else 0 (at the nominal load)
    top_pct: float = 0.0


def short_dark_blocks(data: PartitionData, plan: PartitionPlan,
                      skip: set[int] | frozenset[int] = frozenset()) -> list[ShortBlock]:
    """The de-energised blocks with load (not lost, not in ``skip``: those dark for their
    cost) that hold a grid-forming DER with capacity, each with the first phase whose least
    draw exceeds its DERs' per-phase active limits there (see module docstring).

    The least draw of node ``n`` is ``sum_d s_d (p_d,n + (K_d w_min)_n)`` at the box's upper
    corner ``s`` (the nominal point without uncertainty), ``p_d`` the constant part and
    ``K_d`` the voltage-dependent one of load ``d`` (:class:`PartitionData`), at the lowest
    squared voltage ``w_min`` of every node; shunts and losses only add to it."""
    weight = data.settings.shed_scale * data.alpha
    scale = data.upper_corner()
    w_min = np.asarray(data.pu.w_min, float)
    draw = data.load_p @ scale if data.load_p.shape[1] else np.zeros(len(w_min))
    for d, kp in enumerate(data.load_kp):
        draw = draw + scale[d] * (kp @ w_min)
    bank_blocks = {int(data.block_of_bus[bk.f]) for bk in data.pu.banks}
    out: list[ShortBlock] = []
    for b in range(data.n_blocks):
        ders = np.flatnonzero(data.der_block == b)
        gf = [d for d in ders if data.der_gf[d] and data.der_p_max_kw[d] > 0]
        if plan.energised[b] or data.lost[b] or weight[b] <= 0 or b in skip or not gf:
            continue
        load_kw = float(data.load_p_kw[data.load_block == b].sum())
        short = ShortBlock(b, load_kw, [data.der_ids[d] for d in gf], None, 0.0, 0.0, [])
        if b not in bank_blocks:
            nodes = np.flatnonzero(data.block_of_node == b)
            # a live phase is a phase a grid former holds (docs/partition-phases.md): a
            # phase with load that no grid-forming DER of the block has cannot be served
            # by the block alone, whatever the followers on it give (ut47_part #2)
            on = {d: [k for k in range(len(PHASES))
                      if any(_phase_limit(data, int(i), k) is not None
                             for i in np.flatnonzero(data.ph_der == d))]
                  for d in ders}
            for k, phase in enumerate(PHASES):
                at = nodes[data.pu.node_phase[nodes] == k]
                if float(draw[at].sum()) <= 0 or any(k in on[d] for d in gf):
                    continue
                short = replace(
                    short, unformed=phase, draw_kw=1000.0 * float(draw[at].sum()),
                    holders=[data.der_ids[d] for d in ders if d not in gf and k in on[d]
                             and data.der_p_max_kw[d] > 0],
                    formers=[f"{data.der_ids[d]} ({''.join(PHASES[j] for j in on[d])})"
                             for d in gf],
                    k_needed=len(gf) + 1, k_der=int(data.settings.k_der))
                break
            if short.unformed is not None:
                out.append(short)
                continue
            uncertain = data.uncertain & (data.load_block == b)
            top = 100.0 * float(data.settings.uncertainty) if uncertain.any() else 0.0
            short = replace(short, top_pct=top)
            for k, phase in enumerate(PHASES):
                at = nodes[data.pu.node_phase[nodes] == k]
                need = 1000.0 * float(draw[at].sum())
                phs = [(i, lim) for i in range(len(data.ph_der)) if data.ph_der[i] in ders
                       for lim in [_phase_limit(data, i, k)] if lim is not None]
                have = 1000.0 * float(sum(lim for _, lim in phs))
                if need > have * (1 + 1e-6) + 1e-6:
                    short = replace(short, phase=phase, draw_kw=need, limit_kw=have, limits=[
                        (data.der_ids[data.ph_der[i]], 1000.0 * float(lim)) for i, lim in phs])
                    break
            if short.phase is None:
                short = _kva_short(data, short, nodes, ders, scale)
        out.append(short)
    return out


def _least(const: float, kmats: list[tuple[float, sp.csr_matrix]], rows: np.ndarray,
           w_lo: np.ndarray, w_hi: np.ndarray) -> float:
    """The least ``|x|`` of ``x = const + sum_j a_j 1_rows' K_j w`` over the squared voltages
    ``w_lo <= w <= w_hi`` (each node on its own): the distance of 0 from the interval the
    sum spans."""
    lo = hi = const
    for a, k in kmats:
        c = a * np.asarray(k[rows].sum(axis=0)).ravel()
        lo += float(np.minimum(c * w_lo, c * w_hi).sum())
        hi += float(np.maximum(c * w_lo, c * w_hi).sum())
    return lo if lo > 0 else -hi if hi < 0 else 0.0


def _kva_short(data: PartitionData, short: ShortBlock, nodes: np.ndarray, ders: np.ndarray,
               scale: np.ndarray) -> ShortBlock:
    """``short`` with the first phase whose least apparent draw exceeds the block's DERs'
    per-phase kVA ratings there (:func:`_phase_kva`), when one does (user test ut49_part #6).

    Alone, a block's phase ``k`` is balanced on its own (LinDist3Flow is lossless and has a
    power balance per phase; no transformer bank moves power between phases): its DERs'
    outputs ``s_i`` on that phase sum to the demand ``S_k = P_k + j Q_k`` of its loads (at
    the box's upper corner ``scale``) and shunts (a capacitor's negative ``Q`` included),
    so ``sum_i |s_i| >= |S_k|`` and each ``|s_i|`` is at most its rating (the capability
    polygon, :func:`~feederopt.formulations.partition.capability_rows`, inscribed in the
    circle). ``|S_k|`` is at least ``sqrt(Pmin^2 + Qmin^2)``, each the least magnitude of
    its sum over the voltages the limits allow (:func:`_least`). E.g. IEEE 13's Load.801,
    200 kW + j120 kvar wye, at +10 %: 73.3 kW + j44.0 kvar = 85.5 kVA per phase, above
    Storage.battery_mg1c's 250 / 3 = 83.3 kVA."""
    w_lo, w_hi = np.asarray(data.pu.w_min, float), np.asarray(data.pu.w_max, float)
    p_draw = data.load_p @ scale if data.load_p.shape[1] else np.zeros(len(w_lo))
    q_draw = data.load_q @ scale if data.load_q.shape[1] else np.zeros(len(w_lo))
    for k, phase in enumerate(PHASES):
        at = nodes[data.pu.node_phase[nodes] == k]
        if not len(at):
            continue
        p = _least(float(p_draw[at].sum() + data.shunt_p[at].sum()),
                   [*((float(scale[d]), m) for d, m in enumerate(data.load_kp)),
                    (1.0, data.shunt_kp)], at, w_lo, w_hi)
        q = _least(float(q_draw[at].sum() + data.shunt_q[at].sum()),
                   [*((float(scale[d]), m) for d, m in enumerate(data.load_kq)),
                    (1.0, data.shunt_kq)], at, w_lo, w_hi)
        need = 1000.0 * math.hypot(p, q)
        phs = [(i, lim) for i in range(len(data.ph_der)) if data.ph_der[i] in ders
               for lim in [_phase_kva(data, i, k)] if lim is not None]
        have = 1000.0 * float(sum(lim for _, lim in phs))
        if need > have * (1 + 1e-6) + 1e-6:
            return replace(short, kva_phase=phase, draw_kw=1000.0 * p, draw_kvar=1000.0 * q,
                           draw_kva=need, limit_kva=have, kva_limits=[
                               (data.der_ids[data.ph_der[i]], 1000.0 * float(lim))
                               for i, lim in phs])
    return short


def _phase_limit(data: PartitionData, i: int, phase: int) -> float | None:
    """The most active power [p.u.] DER phase entry ``i`` puts on ``phase`` (None: none of
    its nodes is on it): its ``p_max`` phase to ground; for a unit between two phases, whose
    ``s`` goes into the phase with share ``c`` (``delta_shares``), the most of
    ``Re(c s) = Re(c) p - Im(c) q`` over ``0 <= p <= p_max``, ``|q| <= s_max``."""
    pu = data.pu
    node2 = int(data.second_nodes()[i])
    if node2 < 0:
        return float(data.ph_p_max[i]) if pu.node_phase[data.ph_node[i]] == phase else None
    for node, share in ((data.ph_node[i], pu.der_share[i]), (node2, pu.der_share2[i])):
        if pu.node_phase[node] == phase:
            c = complex(share)
            return max(c.real, 0.0) * float(data.ph_p_max[i]) + abs(c.imag) * float(
                data.ph_s_max[i])
    return None


def _phase_kva(data: PartitionData, i: int, phase: int) -> float | None:
    """The most apparent power [p.u.] DER phase entry ``i`` puts on ``phase`` (None: none of
    its nodes is on it): its rating ``s_max``; for a unit between two phases, whose ``s``
    goes into the phase with share ``c`` (``delta_shares``), ``|c| s_max``."""
    pu = data.pu
    node2 = int(data.second_nodes()[i])
    if node2 < 0:
        return float(data.ph_s_max[i]) if pu.node_phase[data.ph_node[i]] == phase else None
    for node, share in ((data.ph_node[i], pu.der_share[i]), (node2, pu.der_share2[i])):
        if pu.node_phase[node] == phase:
            return abs(complex(share)) * float(data.ph_s_max[i])
    return None


def short_dark_note(short: ShortBlock, loading_limit_percent: float | None = 100.0) -> str:
    """The result's note on a block of :func:`short_dark_blocks`: why no plan energises it.
    ``loading_limit_percent`` is the settings' (``--max-loading``, None with
    ``--no-thermal-limits``): the line and transformer ratings are named among the causes with
    the limit they were held at, and not at all when none was held."""
    head = (f"block {short.block} ({short.load_kw:,.1f} kW) holds grid-forming "
            f"{', '.join(short.grid_forming)} but the plan leaves it de-energised")
    if short.unformed is not None:
        if short.holders:
            k_opt = (f", and --k-der {short.k_needed} (settings partition.k_der; now "
                     f"{short.k_der}) so that {short.k_needed} grid formers may share one "
                     "microgrid" if short.k_needed > short.k_der else "")
            fix = (f"mark one of its DERs with phase {short.unformed} grid-forming (settings "
                   f"{{\"dss\": {{\"{short.holders[0]}\": {{\"inverter\": \"gfm\"}}}}}}; "
                   f"on phase {short.unformed}: {', '.join(short.holders)}){k_opt}")
        else:
            fix = (f"add a grid-forming DER with phase {short.unformed} (none of its DERs has "
                   "it)")
        return (f"{head}: its loads draw {short.draw_kw:,.1f} kW on phase {short.unformed}, "
                f"which none of its grid-forming DERs holds ({', '.join(short.formers)}); a "
                "microgrid holds only the phases of its grid formers (docs/partition-phases.md),"
                " whatever a grid-following DER gives on it, so the block cannot run as "
                "a microgrid of its own; to serve it, " + fix
                + ", or let a networked microgrid with a grid former on that phase take it")
    at = (f" at the top of the uncertainty box (+{short.top_pct:g} % on its uncertain loads)"
          if short.top_pct > 0 else "")
    if short.kva_phase is not None:
        each = ", ".join(f"{d} {kva:,.1f} kVA" for d, kva in short.kva_limits) or "none"
        return (f"{head}: on phase {short.kva_phase} its loads{at} draw at least "
                f"{short.draw_kw:,.1f} kW + j{short.draw_kvar:,.1f} kvar = "
                f"{short.draw_kva:,.1f} kVA, more than the {short.limit_kva:,.1f} kVA that its "
                f"DERs' per-phase kVA ratings give on that phase ({each}), so it cannot run as "
                "a microgrid of its own; only a networked microgrid with more power on that "
                "phase could take it")
    if short.phase is None:
        limit = loading_limit_percent
        ratings = ("" if limit is None else "line and transformer ratings"
                   + ("" if limit == 100.0 else f" (held at {limit:g} %, --max-loading)")
                   + ", ")
        return (f"{head}: its DERs' per-phase active limits cover its loads on every phase, so "
                "other limits rule out serving it as a microgrid of its own (voltage limits, "
                f"kVA ratings with its loads' reactive power, {ratings}or the uncertainty box), "
                "and no networked microgrid takes it")
    each = ", ".join(f"{d} {kw:,.1f} kW" for d, kw in short.limits) or "none"
    return (f"{head}: on phase {short.phase} its loads{at} draw at least "
            f"{short.draw_kw:,.1f} kW, "
            f"more than the {short.limit_kw:,.1f} kW that its DERs' per-phase active limits "
            f"give on that phase ({each}), so it cannot run as a microgrid of its own; only a "
            "networked microgrid with more power on that phase could take it")
