"""The maths of networked-microgrid partitioning (seed 001, Moring et al. 2024): the first stage
(block states, switches, grid-forming DERs, islanding-aware radiality, DER set-points) and the
second stage (LinDist3Flow with re-dispatch and power-balance slacks), as :class:`Block`s.

First stage, groups ``zbl`` (block energised), ``zsw`` (switch closed), ``zinv`` (DER grid
forming), ``rho`` (block is the root of its component), ``eta``/``froot`` (connectivity flow),
``gam``/``groot`` (grid-forming count flow), ``ps``/``qs`` (per-phase DER set-points):

    (2)  |z_i - z_j| <= 1 - zsw_ij                          switch ij between blocks i, j
    (3)  z_l p_min <= ps <= z_l p_max,  |qs| <= z_l s_max    DER phases of block l
    (3') ps^2 + qs^2 <= (z_l s_max)^2 (inscribed polygon)  the rating, not in the seed
    (4)  z_l - sum_{ij in E_l} zsw_ij <= sum_{g in G_l} zinv_g <= k_der z_l

Formed phases (ours; :func:`formed_phase_rows`, docs/partition-phases.md): when a
grid-forming-capable DER or a switch lacks a phase, each phase of each block is a slot with a
binary ``zph``, live only where it reaches a grid-forming DER with that phase; loads need their
phases live, DER phases and node voltages follow their slot's state instead of the block's.

The seed's colouring constraints (5)-(14) and the radiality model of its reference [18] (Lei,
Chen, Song & Hou, "Radiality constraints for resilient reconfiguration of distribution systems:
formulation and application to microgrid formation", IEEE TSG 11(5), 2020) state that every
energised component is a tree with between 1 and ``k_der`` grid-forming DERs. Here they are
written as a spanning forest rooted at the grid-forming DERs (the virtual-root form of [18]):

    sum zsw + sum rho = |B|                                    edges of a spanning tree of B + root
    inflow_l(eta) - outflow_l(eta) + froot_l = 1,  |eta| <= |B| zsw,  froot <= |B| rho
    rho_l <= sum_{g in G_l} zinv_g + (1 - z_l)                 an energised root holds a GF DER
    sum_{g in G_l} zinv_g = groot_l + outflow_l(gam) - inflow_l(gam),
    |gam| <= k_der zsw,  0 <= groot_l <= k_der rho_l            <= k_der GF DERs per component

A free switch closes only between energised blocks, ``zsw_ij <= z_i`` (2'). This removes
no plan's value: closing a switch between two de-energised blocks joins two dead components
(either may be its own root: ``rho_l <= sum zinv + (1 - z_l)`` holds for a de-energised
block) and changes neither cost nor recourse (a de-energised block has ``w = 0``, no load and
no DER output, so every flow through it can be zero), and the plan reports such a switch open
anyway. Without (2') the master of Algorithm 1 may flip such a switch, where the cuts
computed with it open extrapolate, and the cutting plane converges again on an equivalent
plan (at 10 % on IEEE 37: three MILPs instead of two).

The first two make the closed switches plus one root arc per component a spanning tree of the
block graph with a virtual root (so every component is a tree of blocks with exactly one root
block); with (2) a component is all energised or all de-energised, the third puts a
grid-forming DER in the root of every energised one, and the grid-forming count flow sends the
component's grid-forming DERs to its single root arc, whose capacity is ``k_der``. Blocks are
trees themselves (radial feeders), so every energised component is radial.

Second stage for fixed first-stage values ``x = (zbl, zsw, ps, qs, zph, zinv)`` and a load
realisation (:func:`recourse_block`): :func:`~feederopt.formulations.lindist3flow.lindist3flow`
(16d)-(16k) with the switch states ``y = zsw``, the voltage bounds (16c) scaled by the block
state, one voltage magnitude on the phases of a multi-phase grid-forming DER
(:func:`balanced_former_rows`, ours),

    (16c) z_l w_min <= w_i <= z_l w_max
    (18a) inflow - outflow + pg + h+ - h- = z_l (s_sh + sum_d u_d s_d) + (K_sh + sum_d u_d K_d) w
    pg = ps + o+ - o-,   (18b) o+ <= z_l p_max - ps,   (18c) o- <= ps - z_l p_min,
    (18d,e) o+, o- <= ramp s_max,   (18f,g) o, h >= 0,   pg^2 + qg^2 <= (z_l s_max)^2

(the same for q, within ``+-s_max``). Its objectives: the total slack ``sum h`` (feasibility)
and the re-dispatch cost ``sum_g c1_g (o+ + o-)`` (active power; with a 0.1 % premium
as a tie-break, see :func:`recourse_cost_terms`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense, incidence, select
from feederopt.formulations.lindist3flow import edge_phases, lindist3flow
from feederopt.network.threephase_perunit import PerUnitThreePhase


@dataclass(frozen=True)
class PartitionSettings:
    """The parameters of the partitioning problem (defaults: the seed's section IV).

    ``uncertain_loads`` empty with ``uncertainty > 0`` means every load is uncertain.
    ``grid_forming`` (DER ids), when not None, overrides the network's grid-forming flags.
    ``costs`` maps a DER id to ``(c1 [$/kW], c0 [$])``; the others get ``default_c1`` and 0.
    ``default_c1`` None (the default) is :func:`default_der_cost` of the feeder: low enough
    that no plan's generation cost reaches the weight of one block, so the objective never
    prefers shedding a block that a plan could add (user test ut34, finding 3: the former
    fixed 10 $/kWh shed every block above about 1 MW, since a block weighs about 10,000 $
    whatever its kW).
    ``load_model``: ``voltage_dependent`` (default) keeps each load's OpenDSS model
    (constant impedance / current parts linear in ``w``, so the demand follows the plan's
    voltages); ``constant_power`` takes every load at its nominal ``s_d`` whatever the voltage,
    as the seed's (16l)/(18a) do (``s_d`` constant; spec section 1).
    ``bus_v_limits_pu``: the settings file's per-bus voltage limits [p.u.] (bus id ->
    ``(lower, upper)``, None where the file gives none or agrees with the network), which
    :func:`feederopt.problems.partition.with_voltage_limits` writes into the network's buses
    (the command line's ``--v-min``/``--v-max`` win over them).
    ``loading_limit_percent``: the share [% of each rating] up to which the model holds the
    lines' and transformer banks' current ratings and the OpenDSS check of a plan judges
    them (``--max-loading``, default 100: the ratings as given); None holds and judges none
    (``--no-thermal-limits``). The model's ratings are scaled where the problem is built
    (:func:`feederopt.api_partition.partition_data`, by
    :func:`feederopt.algorithms.threephase.scale_ratings`, as the three-phase solve's).
    """

    k_der: int = 1
    uncertainty: float = 0.0
    uncertain_loads: tuple[str, ...] = ()
    ramp: float = 0.3
    omega: float = 705.0
    alpha_base: float = 10.0
    alpha_per_load: float = 0.01
    shed_scale: float = 1000.0
    default_c1: float | None = None
    costs: dict[str, tuple[float, float]] = field(default_factory=dict)
    grid_forming: tuple[str, ...] | None = None
    fixed_open: tuple[str, ...] = ()
    fixed_closed: tuple[str, ...] = ()
    eps: float = 1e-6
    load_model: str = "voltage_dependent"
    bus_v_limits_pu: dict[str, tuple[float | None, float | None]] = field(
        default_factory=dict)
    loading_limit_percent: float | None = 100.0


@dataclass
class PartitionData:
    """Index maps and per-unit data of one partitioning problem (see module docstring)."""

    settings: PartitionSettings
    pu: PerUnitThreePhase  # sources removed, DER output zero, loads removed
    block_of_bus: np.ndarray  # per pu bus
    block_of_node: np.ndarray  # per pu node
    n_blocks: int
    block_buses: list[list[str]]
    lost: np.ndarray  # bool per block: held a (lost) source
    alpha: np.ndarray  # per block
    switch_ids: list[str]
    switch_edge: np.ndarray  # pu edge of each switch
    switch_blocks: np.ndarray  # (S, 2) blocks at the ends
    switch_fixed: np.ndarray  # -1 free, 0 open, 1 closed
    der_ids: list[str]
    der_block: np.ndarray
    der_gf: np.ndarray  # bool: can form the grid
    der_c1: np.ndarray  # $/kW
    der_c0: np.ndarray
    der_p_max_kw: np.ndarray
    ph_der: np.ndarray  # DER of each DER phase (pu.der_* order)
    ph_node: np.ndarray  # its node (a unit between two phases: the first of its two)
    ph_p_max: np.ndarray  # per-unit per phase (MW)
    ph_s_max: np.ndarray
    load_ids: list[str]
    load_block: np.ndarray
    load_p_kw: np.ndarray  # nominal active power, all phases
    load_p: sp.csr_matrix  # (n_nodes, D) constant active demand per node
    load_q: sp.csr_matrix
    load_kp: list[sp.csr_matrix]  # per load (n, n): demand part linear in w
    load_kq: list[sp.csr_matrix]
    shunt_p: np.ndarray  # constant shunt demand per node
    shunt_q: np.ndarray
    shunt_kp: sp.csr_matrix
    shunt_kq: sp.csr_matrix
    uncertain: np.ndarray  # bool per load
    #: bool per DER: its cost comes from the settings (``costs``), not the default
    der_cost_given: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: the ``c1`` [$/kWh] of the DERs without a cost: ``default_c1`` or
    #: :func:`default_der_cost`
    default_c1: float = math.nan
    #: The phase slots ``(block, phase)`` whose energisation is its own variable ``zph``
    #: (:func:`first_stage_block`, "formed phases"): every phase of every block that can be
    #: lost while the block is energised; empty when every grid-forming-capable DER and every
    #: switch has every phase of the feeder (then each phase of an energised block is live)
    slot_block: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    slot_phase: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    #: bool per slot: must be live when its block is energised (a load or a constant demand
    #: on that phase: a block's loads are served together; every phase of a block holding a
    #: transformer bank, whose windings couple its phases)
    slot_required: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: per pu node: its slot, or -1 (the node is live exactly when its block is energised)
    node_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    #: per switch: the phases it carries (indices into ``PHASES``)
    switch_phases: list[list[int]] = field(default_factory=list)
    #: per DER phase entry: the second node of a single-phase grid follower between two
    #: phases (``conn`` delta, ``pu.der_node2``: its ``s`` goes into ``ph_node`` and this
    #: node with :func:`~feederopt.network.threephase_perunit.delta_shares`), -1 for an
    #: entry phase to ground; empty: every entry is phase to ground
    ph_node2: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    #: Plans excluded from the first stage, each its block states ``zbl`` and switch states
    #: ``zsw`` (0/1 arrays; NaN: an entry the cut leaves free): a no-good cut per entry
    #: (:func:`first_stage_block`). The
    #: partition's alternative to a plan OpenDSS does not converge at
    #: (:func:`feederopt.api_partition.partition`, docs/partition-tiebreak.md); empty else.
    no_goods: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    #: The voltage feedback's tightening of each DER phase entry's kVA rating (``ph_s_cut``)
    #: and active limit (``ph_p_cut``) in the model [p.u.], by entry (``ph_der`` order): the
    #: model holds the entry within ``ph_s_max - ph_s_cut`` and ``ph_p_max - ph_p_cut``
    #: (:meth:`model_s_max`, :meth:`model_p_max`) where OpenDSS's power flow of a plan found
    #: it beyond its rating (:class:`feederopt.algorithms.partition.DerCuts`); the ratings
    #: themselves, the ramp bands ``ramp * ph_s_max`` and every check keep ``ph_s_max`` and
    #: ``ph_p_max``. Empty: no tightening.
    ph_s_cut: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ph_p_cut: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The voltage feedback's tightening of rated lines' and transformer banks' ratings in
    #: the model, by the model's edge or bank id: the model holds every rated phase (both
    #: windings of a bank) of that branch within ``k s_max`` (``0 < k <= 1``,
    #: :meth:`model_pu`) where OpenDSS's power flow of a plan found it over its current
    #: rating (:class:`feederopt.algorithms.partition.BranchCuts`); the ratings themselves
    #: (``pu``) and every check keep the file's. Empty: no tightening.
    branch_scale: dict[str, float] = field(default_factory=dict)

    def model_pu(self, pu: PerUnitThreePhase) -> PerUnitThreePhase:
        """``pu`` with the rated edges' ``s_max_pu`` and the banks' ``s_max_pri`` /
        ``s_max_sec`` scaled by :attr:`branch_scale` (the ratings the model holds)."""
        if not self.branch_scale:
            return pu
        k = self.branch_scale
        edges = [replace(e, s_max_pu=e.s_max_pu * k[e.id])
                 if e.s_max_pu and e.id in k else e for e in pu.edges]
        banks = [replace(b, s_max_pri=None if b.s_max_pri is None else b.s_max_pri * k[b.id],
                         s_max_sec=None if b.s_max_sec is None else b.s_max_sec * k[b.id])
                 if b.id in k else b for b in pu.banks]
        return replace(pu, edges=edges, banks=banks)

    def model_s_max(self) -> np.ndarray:
        """Each DER phase entry's kVA rating as the model holds it [p.u.]: ``ph_s_max`` less
        the feedback's ``ph_s_cut`` (at least 0)."""
        if len(self.ph_s_cut) != len(self.ph_s_max):
            return self.ph_s_max
        return np.maximum(self.ph_s_max - self.ph_s_cut, 0.0)

    def model_p_max(self) -> np.ndarray:
        """Each DER phase entry's active limit as the model holds it [p.u.]: ``ph_p_max``
        less the feedback's ``ph_p_cut`` (at least 0), and within :meth:`model_s_max`."""
        p = self.ph_p_max
        if len(self.ph_p_cut) == len(p):
            p = np.maximum(p - self.ph_p_cut, 0.0)
        if len(self.ph_s_cut) == len(self.ph_s_max):
            p = np.minimum(p, self.model_s_max())
        return p

    @property
    def n_switches(self) -> int:
        return len(self.switch_ids)

    @property
    def n_slots(self) -> int:
        return len(self.slot_block)

    def slot_of(self, block: int, phase: int) -> int:
        """The slot of ``phase`` in ``block`` (-1: none)."""
        hit = np.flatnonzero((self.slot_block == block) & (self.slot_phase == phase))
        return int(hit[0]) if len(hit) else -1

    def state_terms(self, nodes: np.ndarray) -> dict[str, sp.csr_matrix]:
        """The energisation of each node of ``nodes`` as row terms: the node's slot ``zph``
        where it has one, its block's ``zbl`` elsewhere (:func:`first_stage_block`)."""
        nodes = np.asarray(nodes, int)
        slot = self.node_slot[nodes] if len(self.node_slot) else np.full(len(nodes), -1)
        own = slot >= 0
        k = np.arange(len(nodes))
        out = {"zbl": sp.csr_matrix((np.ones((~own).sum()),
                                     (k[~own], self.block_of_node[nodes[~own]])),
                                    shape=(len(nodes), self.n_blocks))}
        if self.n_slots:
            out["zph"] = sp.csr_matrix((np.ones(own.sum()), (k[own], slot[own])),
                                       shape=(len(nodes), self.n_slots))
        return out

    def second_nodes(self) -> np.ndarray:
        """Per DER phase entry its second node (:attr:`ph_node2`), -1 for one phase to
        ground."""
        if len(self.ph_node2) == len(self.ph_der):
            return np.asarray(self.ph_node2, int)
        return np.full(len(self.ph_der), -1)

    def der_state_sets(self) -> list[tuple[np.ndarray, dict[str, sp.csr_matrix]]]:
        """The energisation terms that bound each DER phase entry's output (3), (18b)-(18e):
        ``(entries, terms)`` pairs, each entry's output within ``z`` of every pair that holds
        it. Every entry has its node's state (:meth:`state_terms` of :attr:`ph_node`); a unit
        between two phases whose second node is in another slot has that node's too (it
        drives its current through both conductors, so it runs only when both phases are
        live: ``ps <= min(zph_i, zph_k) p_max`` as two rows). Without slots both nodes, at
        one bus, share their block's ``zbl`` and the second pair is empty."""
        nph = len(self.ph_der)
        out = [(np.arange(nph), self.state_terms(self.ph_node))]
        node2 = self.second_nodes()
        if self.n_slots:
            two = np.flatnonzero(node2 >= 0)
            two = two[self.node_slot[node2[two]] != self.node_slot[self.ph_node[two]]]
            if len(two):
                out.append((two, self.state_terms(node2[two])))
        return out

    def node_states(self, zbl: np.ndarray, zph: np.ndarray) -> np.ndarray:
        """Per pu node its state under the first-stage values ``zbl``, ``zph``: its slot's
        where it has one, its block's elsewhere."""
        on = np.asarray(zbl, float)[self.block_of_node]
        if not self.n_slots:
            return on
        slot = self.node_slot
        return np.where(slot >= 0, np.asarray(zph, float)[np.maximum(slot, 0)], on)

    def der_states(self, node_state: np.ndarray) -> np.ndarray:
        """Per DER phase entry its state from the nodes' (:meth:`node_states`): its node's,
        and for a unit between two phases the lesser of its two nodes'."""
        state = np.asarray(node_state, float)
        on = state[self.ph_node] if len(self.ph_der) else np.zeros(0)
        node2 = self.second_nodes()
        two = node2 >= 0
        on[two] = np.minimum(on[two], state[node2[two]])
        return on

    def node_block_matrix(self) -> sp.csr_matrix:
        n = len(self.block_of_node)
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.block_of_node)),
                             shape=(n, self.n_blocks))

    def extreme_points(self) -> list[np.ndarray]:
        """The load scales of every extreme point of the box: ``1 +- X`` on each uncertain
        load (all ``2^|D|`` sign vectors), 1 elsewhere; only the nominal point when ``X = 0``
        or no load is uncertain."""
        idx = np.flatnonzero(self.uncertain)
        x = self.settings.uncertainty
        if x == 0 or not len(idx):
            return [np.ones(len(self.load_ids))]
        if len(idx) > MAX_UNCERTAIN_LOADS:
            raise ValueError(f"{len(idx)} uncertain loads: 2^{len(idx)} extreme points, more "
                             f"than the {MAX_UNCERTAIN_LOADS} loads enumerated")
        out = []
        for signs in itertools.product((-1.0, 1.0), repeat=len(idx)):
            s = np.ones(len(self.load_ids))
            s[idx] = 1 + x * np.array(signs)
            out.append(s)
        return out

    def upper_corner(self) -> np.ndarray:
        """The load scales of the box's upper corner: ``1 + X`` on the uncertain loads."""
        return 1.0 + self.settings.uncertainty * self.uncertain.astype(float)

    def nominal(self) -> np.ndarray:
        return np.ones(len(self.load_ids))


#: The most uncertain loads: the worst case runs over all ``2^|D|`` extreme points of the box
#: (:meth:`PartitionData.extreme_points`; the seed's 6 give 64), each a recourse LP kept in
#: memory by the cutting plane. Beyond it the enumeration alone outgrows the memory (30
#: loads: 2^30 points; such a run was killed). ``feederopt partition`` refuses more
#: (:func:`feederopt.problems.partition.enumeration_problems`).
MAX_UNCERTAIN_LOADS = 12
#: The most uncertain loads of the extensive form (``--extensive``), whose MILP holds a
#: recourse copy per extreme point (2^8 = 256 copies; IEEE 37's take about 8 MB each).
MAX_EXTENSIVE_UNCERTAIN = 8
#: The first-stage groups that the second stage reads (the ``x`` of the seed's cuts (17b)).
X_GROUPS = ("zbl", "zsw", "ps", "qs", "zph", "zinv")
#: Slack groups of the second stage.
SLACKS = ("hp_pos", "hp_neg", "hq_pos", "hq_neg")
#: Re-dispatch costs this much more than the same energy in the set-point (a tie-break).
REDISPATCH_PREMIUM = 1.001
#: Smaller coefficients of the second stage are dropped [p.u.].
TINY = 1e-7
#: :func:`default_der_cost` keeps the largest generation cost of any plan below this share of
#: the lightest block's weight (the rest is margin for the MILP's gap and rounding).
DEFAULT_COST_SHARE = 0.5
#: :func:`default_der_cost` when no bound applies (no DER capacity or no block with load:
#: then the cost cannot decide between plans that serve different blocks) [$/kWh].
FALLBACK_C1 = 1.0


def generation_cost_bound(c1: np.ndarray, c0: np.ndarray, p_max_kw: np.ndarray,
                          s_max_kva: np.ndarray, ramp: float) -> float:
    """The largest generation-side cost any plan can have [$], per DER ``g`` (c1 [$/kWh],
    c0 [$], limits in kW / kVA, all phases):

        C_max = sum_g c0_g + c1_g (p_max_g + REDISPATCH_PREMIUM min(ramp s_max_g, p_max_g))

    The first stage pays ``c1 ps`` with ``0 <= ps <= p_max`` (3) and ``c0`` per DER of an
    energised block; the worst-case recourse ``theta`` pays ``premium c1 (o+ + o-)`` at one
    extreme point, where at the recourse optimum only one of ``o+``, ``o-`` is positive (both
    down by the same amount keeps ``pg`` and lowers the cost) and each is at most
    ``ramp s_max`` (18d,e) and at most ``p_max - ps`` or ``ps`` (18b,c)."""
    redispatch = np.minimum(ramp * np.asarray(s_max_kva, float), np.asarray(p_max_kw, float))
    return float(np.sum(np.asarray(c0, float))
                 + np.asarray(c1, float) @ (np.asarray(p_max_kw, float)
                                            + REDISPATCH_PREMIUM * redispatch))


def default_der_cost(block_weights: np.ndarray, p_max_kw: np.ndarray, s_max_kva: np.ndarray,
                     ramp: float) -> float:
    """The default active-power cost ``c1`` [$/kWh] of a DER with no cost in the settings.

    The objective (16a) prices a shed block at its weight ``W_l = shed_scale alpha_l`` [$]
    (about 10,000 $ whatever the block's kW) and generation at ``c1`` $ per kWh: serving one
    kW is worth ``W_l / P_l`` $, and a block is cheaper to shed than to serve once
    ``c1 P_l > W_l`` (10 $/kWh: above about 1 MW). With one ``c1`` for every DER and
    ``c0 = 0``, any plan's generation-side cost is at most ``c1 K``,
    ``K = sum_g p_max_g + REDISPATCH_PREMIUM min(ramp s_max_g, p_max_g)`` [kW]
    (:func:`generation_cost_bound`). If ``c1 K < min_l W_l`` over the blocks with load, a
    plan ``P'`` serving the blocks of a plan ``P`` and one block ``l`` more costs
    ``obj(P) - W_l + (gen(P') - gen(P)) < obj(P)``: no block that a plan can add is left
    dark for its cost, and the cost only ranks plans serving the same weight. This returns

        c1 = floor_1(DEFAULT_COST_SHARE min_l W_l / K)

    (``floor_1``: rounded down to one significant digit, so the figures stay readable:
    0.9 $/kWh for 10,020 $ blocks and 5,200 kW of DERs and re-dispatch), or
    :data:`FALLBACK_C1` when ``K = 0`` or no block has a weight."""
    weights = np.asarray(block_weights, float)
    weights = weights[weights > 0]
    k = generation_cost_bound(np.ones(len(p_max_kw)), np.zeros(len(p_max_kw)), p_max_kw,
                              s_max_kva, ramp)
    if not len(weights) or not k > 0:
        return FALLBACK_C1
    x = DEFAULT_COST_SHARE * float(weights.min()) / k
    digit = 10.0 ** math.floor(math.log10(x))
    return float(math.floor(x / digit * (1 + 1e-12)) * digit)



#: Sides of the regular polygon inscribed in each DER phase's capability circle
#: ``p^2 + q^2 <= s_max^2`` (:func:`capability_rows`).
CAPABILITY_SIDES = 16


def capability_rows(b: Block, name: str, p: str, q: str, state: dict[str, sp.csr_matrix],
                    s_max: np.ndarray, entries: np.ndarray | None = None) -> None:
    """The apparent-power rating of each DER phase, ``p^2 + q^2 <= (z_l s_max)^2``, as the
    regular ``CAPABILITY_SIDES``-gon inscribed in the circle (vertices at ``k 2 pi / K``, so
    ``p = s_max, q = 0`` and ``q = +-s_max`` stay reachable; no point outside the rating):

        cos(t_k) p + sin(t_k) q <= cos(pi / K) s_max z,   t_k = (2k + 1) pi / K,

(``z`` the phase's energisation, ``state``: its block's ``z_l`` or its slot's ``zph``)

    for the sides facing ``p >= 0`` (``cos t_k > 0``; ``p >= 0`` and ``|q| <= s_max`` bound
    the rest). Seed 001's (3) bounds ``p`` and ``q`` separately, which lets an inverter run
    at up to sqrt(2) times its kVA (user test: 309 kVA from a 229 kVA unit). The polygon
    gives up at most ``1 - cos(pi / K)`` (1.9 %) of the rating between its vertices.
    ``entries`` (default all) are the DER phases the rows are for, ``state`` one row each."""
    idx = np.arange(len(s_max)) if entries is None else np.asarray(entries, int)
    n = len(idx)
    if not n:
        return
    k_sides = CAPABILITY_SIDES
    angles = (2 * np.arange(k_sides) + 1) * np.pi / k_sides
    angles = angles[np.cos(angles) > 1e-12]
    eye = sp.identity(len(s_max), format="csr")[idx]
    reach = np.cos(np.pi / k_sides) * np.asarray(s_max, float)[idx]
    for k, t in enumerate(angles):
        b.add_rows(f"{name}_{k}", {p: np.cos(t) * eye, q: np.sin(t) * eye,
                                  **_scaled(state, -reach)}, Sense.LE, np.zeros(n))


def _scaled(state: dict[str, sp.csr_matrix], factor: np.ndarray) -> dict[str, sp.csr_matrix]:
    """The terms ``state`` with row ``i`` times ``factor[i]``."""
    f = np.asarray(factor, float)[:, None]
    return {g: sp.csr_matrix(a.multiply(f)) for g, a in state.items()}

def formed_phase_rows(b: Block, data: PartitionData) -> None:
    """The formed phases (our extension of the seed's (4) to single- and two-phase grid
    formers; PowerModelsONM, too, forms a microgrid's voltage per terminal of its
    grid-forming inverters). Per slot ``s = (l, phi)`` (:attr:`PartitionData.slot_block`), a
    binary ``zph_s``, 1 when phase ``phi`` of block ``l`` is live:

        zph_s <= z_l                                   a live phase is in an energised block
        zph_s >= z_l                                   s required (a load on phi; a bank)
        zph_s >= zinv_g                                g grid-forming in l, with phase phi
        |zph_s - zph_s'| <= 1 - zsw_ij                 switch ij carrying phi, s, s' its ends
        src_s + inflow_s(phi) - outflow_s(phi) = zph_s,  |flow_ij(phi)| <= |B| zsw_ij,
        src_s <= |B| sum_{g in G_l, phi in g} zinv_g    a live phase reaches a former's phi

    so a phase of a microgrid is live exactly when it reaches, over closed switches carrying
    it, a grid-forming DER of that microgrid that has the phase (the phase-wise copy of the
    forest's connectivity flow). No slots: every phase of an energised block is live."""
    ns_ = data.n_slots
    b.add_group(Group.new("zph", ns_, 0.0, (~data.lost[data.slot_block]).astype(float),
                          integer=True))
    if not ns_:
        return
    nb, nsw = data.n_blocks, data.n_switches
    big = float(nb)
    eye = sp.identity(ns_, format="csr")
    blk = select(data.slot_block, nb)
    b.add_rows("phase_on", {"zph": eye, "zbl": -blk}, Sense.LE, np.zeros(ns_))
    req = np.flatnonzero(data.slot_required)
    if len(req):
        b.add_rows("phase_required", {"zbl": blk[req], "zph": -eye[req]}, Sense.LE,
                   np.zeros(len(req)))
    # grid formers' own phases, and the sources of the phase-wise flow
    gf_rows: list[tuple[int, int]] = []  # (slot, der)
    for j in range(len(data.ph_der)):
        d = int(data.ph_der[j])
        if data.der_gf[d]:
            s = int(data.node_slot[data.ph_node[j]])
            if s >= 0:
                gf_rows.append((s, d))
    nd = len(data.der_ids)
    has_src = np.zeros(ns_, bool)
    if gf_rows:
        rs, ds = (np.array(v, int) for v in zip(*gf_rows, strict=True))
        k = len(rs)
        b.add_rows("phase_former", {"zinv": select(ds, nd), "zph": -select(rs, ns_)},
                   Sense.LE, np.zeros(k))
        has_src[rs] = True
        src_der = sp.csr_matrix((np.ones(k), (rs, ds)), shape=(ns_, nd))
    else:
        src_der = sp.csr_matrix((ns_, nd))
    b.add_group(Group.new("phsrc", ns_, 0.0, np.where(has_src, big, 0.0)))
    b.add_rows("phase_source", {"phsrc": eye, "zinv": -big * src_der}, Sense.LE,
               np.zeros(ns_))
    arcs = [(s, data.slot_of(int(data.switch_blocks[s, 0]), ph),
             data.slot_of(int(data.switch_blocks[s, 1]), ph))
            for s in range(nsw) for ph in data.switch_phases[s]]
    arcs = [a for a in arcs if a[1] >= 0 and a[2] >= 0]
    na = len(arcs)
    b.add_group(Group.new("phflow", na, -big, big))
    if na:
        sw, fr, to = (np.array(v, int) for v in zip(*arcs, strict=True))
        eye_a = sp.identity(na, format="csr")
        diff = select(fr, ns_) - select(to, ns_)
        for sign, name in ((1.0, "phase_same_1"), (-1.0, "phase_same_2")):
            b.add_rows(name, {"zph": sign * diff, "zsw": select(sw, nsw)}, Sense.LE,
                       np.ones(na))
            b.add_rows(f"phflow_{'up' if sign > 0 else 'dn'}",
                       {"phflow": sign * eye_a, "zsw": -big * select(sw, nsw)}, Sense.LE,
                       np.zeros(na))
        net_in = incidence(ns_, to) - incidence(ns_, fr)
    else:
        net_in = sp.csr_matrix((ns_, 0))
    b.add_rows("phase_connect", {"phsrc": eye, "phflow": net_in, "zph": -eye}, Sense.EQ,
               np.zeros(ns_))


def first_stage_block(data: PartitionData) -> tuple[Block, float]:
    """The first-stage block and the constant of its objective (the shed cost of shedding
    every block): objective ``shed_scale sum alpha (1 - z) + sum c1 ps + c0 z``, in $."""
    st = data.settings
    nb, ns, nd, nph = data.n_blocks, data.n_switches, len(data.der_ids), len(data.ph_der)
    k = float(st.k_der)
    b = Block()
    zhi = (~data.lost).astype(float)
    if not data.der_gf.any():
        # no DER can form a grid: every energised component needs one ((4) and the forest's
        # root rule), so no block can be energised; said as bounds, the MILP is trivial
        # (user test ut_3ph #11: 35 s of branch and bound on Iowa 240 to find that)
        zhi = np.zeros_like(zhi)
    b.add_group(Group.new("zbl", nb, 0.0, zhi, integer=True))
    lo = np.where(data.switch_fixed == 1, 1.0, 0.0)
    hi = np.where(data.switch_fixed == 0, 0.0, 1.0)
    b.add_group(Group.new("zsw", ns, lo, hi, integer=True))
    b.add_group(Group.new("zinv", nd, 0.0, data.der_gf.astype(float), integer=True))
    b.add_group(Group.new("rho", nb, 0.0, 1.0, integer=True))
    b.add_group(Group.new("eta", ns, -float(nb), float(nb)))
    b.add_group(Group.new("froot", nb, 0.0, float(nb)))
    b.add_group(Group.new("gam", ns, -k, k))
    b.add_group(Group.new("groot", nb, 0.0, k))
    # the DER phases' limits as the model holds them: the ratings, less the voltage
    # feedback's tightening where OpenDSS found a phase beyond its rating (model_s_max)
    p_cap, s_cap = data.model_p_max(), data.model_s_max()
    b.add_group(Group.new("ps", nph, 0.0, p_cap))
    b.add_group(Group.new("qs", nph, -s_cap, s_cap))

    ends_f, ends_t = data.switch_blocks[:, 0], data.switch_blocks[:, 1]
    sel_f = select(ends_f, nb) if ns else sp.csr_matrix((0, nb))
    sel_t = select(ends_t, nb) if ns else sp.csr_matrix((0, nb))
    eye_s = sp.identity(ns, format="csr")
    # (2) |z_i - z_j| <= 1 - zsw
    b.add_rows("same_state_1", {"zbl": sel_f - sel_t, "zsw": eye_s}, Sense.LE, np.ones(ns))
    b.add_rows("same_state_2", {"zbl": sel_t - sel_f, "zsw": eye_s}, Sense.LE, np.ones(ns))
    # (2') a free switch closes only between energised blocks (symmetry breaking, see above)
    free = np.flatnonzero(data.switch_fixed == -1)
    if len(free):
        b.add_rows("closed_live", {"zsw": select(free, ns), "zbl": -sel_f[free]}, Sense.LE,
                   np.zeros(len(free)))
    formed_phase_rows(b, data)
    # (3) DER set-points within the state of the DER phase's node (its block's, or its
    # phase's where phases are formed apart: no output on a phase no grid former holds)
    # (a unit between two phases within the state of both: PartitionData.der_state_sets)
    eye_p = sp.identity(nph, format="csr")
    for ks, (idx, zsel) in enumerate(data.der_state_sets()):
        sfx = f"_{ks + 1}" if ks else ""
        m = len(idx)
        b.add_rows(f"der_p_max{sfx}", {"ps": eye_p[idx],
                                       **_scaled(zsel, -p_cap[idx])},
                   Sense.LE, np.zeros(m))
        for sign, name in ((1.0, "der_q_max"), (-1.0, "der_q_min")):
            b.add_rows(name + sfx, {"qs": sign * eye_p[idx],
                                    **_scaled(zsel, -s_cap[idx])},
                       Sense.LE, np.zeros(m))
        capability_rows(b, f"der_s_max{sfx}", "ps", "qs", zsel, s_cap, idx)
    # (4) grid-forming DERs of a block
    gsum = incidence(nb, data.der_block) if nd else sp.csr_matrix((nb, 0))
    inc_sw = (incidence(nb, ends_f) + incidence(nb, ends_t)) if ns else sp.csr_matrix((nb, 0))
    eye_b = sp.identity(nb, format="csr")
    b.add_rows("gf_max", {"zinv": gsum, "zbl": -k * eye_b}, Sense.LE, np.zeros(nb))
    b.add_rows("gf_isolated", {"zbl": eye_b, "zsw": -inc_sw, "zinv": -gsum}, Sense.LE,
               np.zeros(nb))
    # spanning forest rooted at grid-forming DERs (virtual root)
    b.add_rows("forest_edges", {"zsw": sp.csr_matrix(np.ones((1, ns))),
                                "rho": sp.csr_matrix(np.ones((1, nb)))}, Sense.EQ,
               np.array([float(nb)]))
    net_in = (incidence(nb, ends_t) - incidence(nb, ends_f)) if ns else sp.csr_matrix((nb, 0))
    b.add_rows("connect", {"eta": net_in, "froot": eye_b}, Sense.EQ, np.ones(nb))
    for sign, name in ((1.0, "eta_up"), (-1.0, "eta_dn")):
        b.add_rows(name, {"eta": sign * eye_s, "zsw": -float(nb) * eye_s}, Sense.LE,
                   np.zeros(ns))
    b.add_rows("froot_max", {"froot": eye_b, "rho": -float(nb) * eye_b}, Sense.LE, np.zeros(nb))
    b.add_rows("root_gf", {"rho": eye_b, "zinv": -gsum, "zbl": eye_b}, Sense.LE, np.ones(nb))
    b.add_rows("gf_count", {"zinv": gsum, "groot": -eye_b, "gam": net_in}, Sense.EQ,
               np.zeros(nb))
    for sign, name in ((1.0, "gam_up"), (-1.0, "gam_dn")):
        b.add_rows(name, {"gam": sign * eye_s, "zsw": -k * eye_s}, Sense.LE, np.zeros(ns))
    b.add_rows("groot_max", {"groot": eye_b, "rho": -k * eye_b}, Sense.LE, np.zeros(nb))
    # no-good cuts (Balas & Jeroslow, SIAM J. Appl. Math. 23(1), 1972): an excluded plan's
    # block and switch states y* (those given, not NaN) differ from the answer's in at least
    # one entry, sum_{y*=0} y + sum_{y*=1} (1 - y) >= 1, i.e. -sum (1 - 2 y*) y <= sum y* - 1
    for i, (zb, zs) in enumerate(data.no_goods):
        zb, zs = np.asarray(zb, float), np.asarray(zs, float)
        cb, cs = np.nan_to_num(2.0 * zb - 1.0), np.nan_to_num(2.0 * zs - 1.0)
        b.add_rows(f"no_good_{i}", {"zbl": sp.csr_matrix(cb[None, :]),
                                    "zsw": sp.csr_matrix(cs[None, :])},
                   Sense.LE, np.array([np.nansum(zb) + np.nansum(zs) - 1.0]))
    # objective (16a), in $: shed cost and generation cost
    der_c0_block = gsum.multiply(data.der_c0[None, :]).sum(axis=1).A1 if nd else np.zeros(nb)
    b.add_objective("zbl", -st.shed_scale * data.alpha + der_c0_block)
    b.add_objective("ps", 1000.0 * data.der_c1[data.ph_der])
    return b, float(st.shed_scale * data.alpha.sum())


def recourse_block(data: PartitionData, scale: np.ndarray) -> Block:
    """The second stage at the load scales ``scale`` (one per load); see module docstring.
    Its objective is the re-dispatch cost [$]; the slacks have no cost here (the caller picks
    the objective)."""
    st = data.settings
    pu = data.pu
    n, nb, nph = pu.n_nodes, data.n_blocks, len(data.ph_der)
    # finite flow bounds: the lindist3flow helper sizes them from demand and generation
    gen_cap = np.zeros(n)
    np.add.at(gen_cap, data.ph_node, data.ph_s_max)
    node2 = data.second_nodes()
    np.add.at(gen_cap, node2[node2 >= 0], data.ph_s_max[node2 >= 0])
    # sized from the box's upper corner (or the point, outside it), the same for every extreme
    # point: then points that differ only in loads of de-energised blocks give the same LP
    # (see feederopt.algorithms.partition.live_groups)
    size = np.maximum(np.abs(scale), data.upper_corner())
    total_p = data.load_p @ size if data.load_p.shape[1] else np.zeros(n)
    total_q = data.load_q @ size if data.load_q.shape[1] else np.zeros(n)
    # the ratings as the model holds them: the file's, less the voltage feedback's
    # tightening where OpenDSS found a branch over its rating (PartitionData.branch_scale)
    model_pu = replace(data.model_pu(pu), w_min=np.zeros(n), gen_p=gen_cap + np.abs(total_p),
                       gen_q=gen_cap + np.abs(total_q))
    # the lines' and the transformer banks' ratings alike (the three-phase reconfiguration's
    # rows, feederopt.problems.threephase; user test ut47_part #1: a 300 kVA bank carried
    # 600 kW + 100 kvar, 212 % of its rated current in OpenDSS)
    b = lindist3flow(model_pu, voltage_limits=True, der_variables=True, thermal_limits=True,
                     transformer_limits=True)
    b.groups["pg"].lb[:] = -np.inf
    b.groups["pg"].ub[:] = np.inf
    b.groups["qg"].lb[:] = -np.inf
    b.groups["qg"].ub[:] = np.inf
    y = b.groups["y"]
    y.integer = False
    y.lb[:] = np.where([e.switchable for e in pu.edges], 0.0, y.lb)
    y.ub[:] = np.where([e.switchable for e in pu.edges], 1.0, y.ub)
    ns = data.n_switches
    b.add_group(Group.new("zbl", nb, 0.0, 1.0))  # integral in the first stage
    b.add_group(Group.new("zsw", ns, 0.0, 1.0))
    p_cap, s_cap = data.model_p_max(), data.model_s_max()  # less the feedback's cuts
    b.add_group(Group.new("ps", nph, 0.0, p_cap))
    b.add_group(Group.new("qs", nph, -s_cap, s_cap))
    b.add_group(Group.new("zph", data.n_slots, 0.0, 1.0))  # integral in the first stage
    b.add_group(Group.new("zinv", len(data.der_ids), 0.0, 1.0))  # integral in the first stage
    if ns:
        b.add_rows("switch_link", {"y": select(data.switch_edge, len(pu.edges)),
                                   "zsw": -sp.identity(ns, format="csr")}, Sense.EQ,
                   np.zeros(ns))
    zmap = data.node_block_matrix()
    eye_n = sp.identity(n, format="csr")
    # (16g)/(16i) banks: the constant of the linearised winding relation vanishes with the
    # block (w = 0 on both sides of a de-energised bank)
    sec = [pu.node_of[(bk.t, ph)] for bk in pu.banks for ph in bk.sec]
    if sec:
        rows = b.row("bank_voltage")
        rows.terms["zbl"] = -sp.csr_matrix(zmap[sec].multiply(rows.rhs[:, None]))
        rows.rhs = np.zeros(len(sec))
    # (16c) voltage bounds follow the node's state: its block's, or its formed phase's (a
    # phase no grid former holds is dead, w = 0, and its voltage drops do not bind)
    state = data.state_terms(np.arange(n))
    b.add_rows("v_min", {"w": -eye_n, **_scaled(state, pu.w_min)}, Sense.LE, np.zeros(n))
    b.add_rows("v_max", {"w": eye_n, **_scaled(state, -pu.w_max)}, Sense.LE, np.zeros(n))
    if data.n_slots:
        _dead_phase_drops(b, data, model_pu)
    balanced_former_rows(b, data)
    # (18a) power balance with slacks, loads switched by the block state
    for grp in SLACKS:
        b.add_group(Group.new(grp, n, 0.0, np.inf))
    for kind, const, kmat, loads, kloads in (
            ("p", data.shunt_p, data.shunt_kp, data.load_p, data.load_kp),
            ("q", data.shunt_q, data.shunt_kq, data.load_q, data.load_kq)):
        rows = b.row(f"balance_{kind}")
        demand = const + (loads @ scale if loads.shape[1] else 0.0)
        kw = kmat.copy()
        for s_d, k_d in zip(scale, kloads, strict=True):
            if k_d.nnz:
                kw = kw + s_d * k_d
        rows.terms["w"] = -sp.csr_matrix(kw)
        rows.terms[f"h{kind}_pos"] = eye_n
        rows.terms[f"h{kind}_neg"] = -eye_n
        rows.terms["zbl"] = -sp.csr_matrix(zmap.multiply(np.asarray(demand)[:, None]))
        rows.rhs = np.zeros(n)
    # re-dispatch (18b)-(18e)
    # (an entry of a unit between two phases is its whole s, which lindist3flow's balance rows
    # already split over both nodes, PerUnitThreePhase.der_injection; its band within the
    # state of both nodes, PartitionData.der_state_sets)
    eye_p = sp.identity(nph, format="csr")
    ramp = st.ramp * data.ph_s_max
    states = data.der_state_sets()
    for kind, cap_lo, cap_hi in (("p", np.zeros(nph), p_cap), ("q", -s_cap, s_cap)):
        up, dn = f"o{kind}_up", f"o{kind}_dn"
        b.add_group(Group.new(up, nph, 0.0, ramp))
        b.add_group(Group.new(dn, nph, 0.0, ramp))
        b.add_rows(f"redispatch_{kind}", {f"{kind}g": eye_p, f"{kind}s": -eye_p, up: -eye_p,
                                         dn: eye_p}, Sense.EQ, np.zeros(nph))
        for ks, (idx, zsel) in enumerate(states):
            sfx = f"_{ks + 1}" if ks else ""
            e = eye_p[idx]
            b.add_rows(f"up_{kind}{sfx}", {up: e, f"{kind}s": e,
                                           **_scaled(zsel, -cap_hi[idx])},
                       Sense.LE, np.zeros(len(idx)))
            b.add_rows(f"down_{kind}{sfx}", {dn: e, f"{kind}s": -e,
                                             **_scaled(zsel, cap_lo[idx])},
                       Sense.LE, np.zeros(len(idx)))
    for ks, (idx, zsel) in enumerate(states):
        capability_rows(b, "redispatch_s_max" + (f"_{ks + 1}" if ks else ""), "pg", "qg", zsel,
                        s_cap, idx)
    for g, c in recourse_cost_terms(data).items():
        b.add_objective(g, c)
    # coefficients below TINY (rounding residue of the bank and load linearisations) made
    # HiGHS 1.15's MIP presolve declare a feasible extensive form infeasible
    for r in b.rows:
        for g, a in list(r.terms.items()):
            a = sp.csr_matrix(a, copy=True)
            a.data[np.abs(a.data) < TINY] = 0.0
            a.eliminate_zeros()
            r.terms[g] = a
    return b


def tied_former_nodes(data: PartitionData) -> list[tuple[int, ...]]:
    """Per DER: the pu nodes whose voltage magnitudes it holds equal when it forms the grid
    (:func:`balanced_former_rows`), its distinct nodes in phase order when it can form the
    grid and has two or more phases; ``()`` for the others (a one-phase grid former holds its
    one phase, a grid follower none)."""
    out: list[tuple[int, ...]] = []
    for d in range(len(data.der_ids)):
        nodes = sorted({int(j) for j in data.ph_node[data.ph_der == d]})
        out.append(tuple(nodes) if data.der_gf[d] and len(nodes) >= 2 else ())
    return out


def balanced_former_rows(b: Block, data: PartitionData) -> None:
    """A multi-phase grid-forming DER holds one voltage magnitude on its phases (ours; user
    test ut38_tph; docs/partition-phases.md, "One voltage per grid former"): a three-phase
    synchronous machine, or a grid-forming inverter behind its transformer, regulates a
    balanced positive-sequence voltage, so its terminal phases are at one magnitude, and the
    AC check writes it so (a three-phase ``Vsource`` at one ``pu``). The seed states no
    voltage set-point (its set-points ``s_g^phi`` are powers), and its LinDist3Flow left each
    phase's ``w`` free at the grid former's bus: a plan raised one phase alone to carry a
    single-phase load (1.0 / 1.057 / 1.0 p.u.), which no such unit does and which the check,
    at the phases' mean, did not see. For each grid-forming-capable DER ``g`` with
    nodes ``n_1 < ... < n_k`` (``k >= 2``, :func:`tied_former_nodes`) and ``W`` the largest
    ``w_max`` of them:

        |w_{n_j} - w_{n_j+1}| <= W (1 - zinv_g)        j = 1 .. k-1

    (``0 <= w <= w_max`` makes the rows void for a grid follower). ``zinv`` is therefore part
    of the recourse's first stage ``x`` (:data:`X_GROUPS`). A unit that is controlled phase
    by phase is three one-phase DERs in the data (each a grid former of its own phase)."""
    tied = tied_former_nodes(data)
    rows_i: list[int] = []
    rows_j: list[int] = []
    rows_d: list[int] = []
    for d, nodes in enumerate(tied):
        for i, j in itertools.pairwise(nodes):
            rows_i.append(i)
            rows_j.append(j)
            rows_d.append(d)
    if not rows_i:
        return
    m, n, nd = len(rows_i), data.pu.n_nodes, len(data.der_ids)
    k = np.arange(m)
    diff = sp.csr_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[k, k], np.r_[rows_i, rows_j])),
                         shape=(m, n))
    big = np.maximum(data.pu.w_max[rows_i], data.pu.w_max[rows_j])
    gf = sp.csr_matrix((big, (k, rows_d)), shape=(m, nd))
    for sign, name in ((1.0, "former_balanced_up"), (-1.0, "former_balanced_dn")):
        b.add_rows(name, {"w": sign * diff, "zinv": gf}, Sense.LE, big)


def _dead_phase_drops(b: Block, data: PartitionData, pu: PerUnitThreePhase) -> None:
    """Free the voltage drop (16d) of every branch phase whose node has a slot when the slot
    is dead: a dead phase has ``w = 0`` at both ends, while its drop row still couples it to
    the live phases' flows through the mutual impedances (``M^p``, ``M^q``), which would
    force those to zero. The row ``a x = 0`` of a line phase becomes
    ``|a x| <= D (1 - zph_s)`` and a switch's ``|a x| <= M (1 - y)`` gets ``+ D (1 - zph_s)``,
    ``D`` the range of ``a x`` under the bounds of ``w`` and of the flows; with the slot
    live both are the rows of :func:`~feederopt.formulations.lindist3flow.lindist3flow`."""
    ix = edge_phases(pu)
    sw = np.array([e.switchable for e in pu.edges], bool)
    closed = np.array([not e.normally_open for e in pu.edges], bool)
    fixed_closed = np.flatnonzero(~sw[ix.edge] & closed[ix.edge])
    free = np.flatnonzero(sw[ix.edge])
    fmax_p = b.groups["p"].ub
    fmax_q = b.groups["q"].ub
    wmax = float(np.max(pu.w_max)) if len(pu.w_max) else 1.0
    rows = []
    for r in b.rows:
        if r.name == "drop":
            rows.append((r, fixed_closed, True))
        elif r.name in ("drop_switch_up", "drop_switch_dn"):
            rows.append((r, free, False))
    for r, which, equality in rows:
        slot = data.node_slot[ix.f_node[which]]
        big = wmax + abs(r.terms["p"]) @ fmax_p + abs(r.terms["q"]) @ fmax_q
        big = np.where(slot >= 0, big, 0.0)
        sel = sp.csr_matrix((big[slot >= 0], (np.flatnonzero(slot >= 0), slot[slot >= 0])),
                            shape=(len(which), data.n_slots))
        if equality:
            b.rows.remove(r)
            for sign, name in ((1.0, "drop_up"), (-1.0, "drop_dn")):
                terms = {g: sign * a for g, a in r.terms.items()}
                b.add_rows(name, {**terms, "zph": sel}, Sense.LE, sign * r.rhs + big)
        else:
            r.terms["zph"] = sel
            r.rhs = r.rhs + big


def recourse_cost_terms(data: PartitionData) -> dict[str, np.ndarray]:
    """The re-dispatch cost of :func:`recourse_block` as an objective dict: ``c1`` [$/kW]
    times :data:`REDISPATCH_PREMIUM`, so that the set-points carry what every realisation
    needs and the re-dispatch only the deviations (with equal prices the split between the
    two is arbitrary, and a plan may then lean on re-dispatch at the nominal load)."""
    c = 1000.0 * REDISPATCH_PREMIUM * data.der_c1[data.ph_der]
    return {"op_up": c, "op_dn": c}


def slack_terms(data: PartitionData) -> dict[str, np.ndarray]:
    """The total slack ``sum h`` [p.u.] as an objective dict."""
    return {g: np.ones(data.pu.n_nodes) for g in SLACKS}


def rename(block: Block, prefix: str, keep: tuple[str, ...] = X_GROUPS) -> Block:
    """A copy of ``block`` whose groups other than ``keep`` carry ``prefix`` (one recourse copy
    of the extensive form)."""
    out = Block()

    def nm(g: str) -> str:
        return g if g in keep else prefix + g

    for g in block.groups.values():
        out.add_group(Group(nm(g.name), g.size, g.lb.copy(), g.ub.copy(), g.integer, g.role,
                            g.value))
    for r in block.rows:
        out.add_rows(prefix + r.name, {nm(g): a for g, a in r.terms.items()}, r.sense, r.rhs)
    for gname, c in block.objective.items():
        out.add_objective(nm(gname), c)
    return out
