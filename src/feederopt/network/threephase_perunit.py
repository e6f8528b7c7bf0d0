"""Per-unit arrays of a three-phase network, as the linear unbalanced branch-flow model needs them.

Bases: per bus the phase-to-neutral voltage ``V_b = vn_kv / sqrt(3)`` and a per-phase power base
``S_b = 1 MVA``, so ``Z_b = V_b^2 / S_b`` and a per-phase power in MW is its per-unit value.
Every node (bus, phase) has a squared voltage magnitude ``w`` in the model.

Linearisation point: balanced voltages of 1 p.u. with phase angles ``a = (1, e^{-j2pi/3},
e^{j2pi/3})`` (Gan & Low 2014; Sankur, Dobbe, Arnold & Callaway 2016; Arnold et al. 2016). From it:

* **lines** (and the source and transformer impedances): ``w_t = w_f + M^p p + M^q q`` with
  ``M^p_{ij} = -2 Re(Z_ij a_j / a_i)`` and ``M^q_{ij} = -2 Im(Z_ij a_j / a_i)``, which are the
  seed's matrices (``M^p_aa = -2 r_aa``, ``M^p_ab = r_ab - sqrt(3) x_ab``, ...);
* **line charging**: half of the shunt susceptance matrix at each end, ``V_i conj(V_k)`` taken
  as ``w_i`` on the diagonal and ``a_i conj(a_k)`` off it;
* **loads**: ``s = s0 (|V| / V0)^n`` linearised in ``w``, ``s ~ s0 (1 + n/2 (w / w0 - 1))``;
  a delta load between phases ``i`` and ``k`` sees ``|V_ik|^2 ~ 3/2 (w_i + w_k)`` and draws
  ``s_i = s V_i / V_ik`` from phase ``i`` and ``s_k = -s V_k / V_ik`` from phase ``k``, with the
  ratios at the balanced point (``e^{-j30}/sqrt 3`` and ``e^{j30}/sqrt 3``) as
  PowerModelsDistribution's linear models do;
* **DERs**: phase to ground, a unit's output split equally over its phases; a single-phase
  unit between phases ``i`` and ``k`` injects its ``s`` with the delta load's ratios,
  ``s e^{-j30}/sqrt 3`` into ``i`` and ``s e^{j30}/sqrt 3`` into ``k`` for ``ab``
  (:func:`delta_shares`), linear in ``s``, so a dispatched ``s`` keeps the model linear;
* **transformer banks** (every transformer and jumper between the same two buses): the ideal
  windings give ``V_sec = T V_pri`` (the least-norm solution for a floating delta, i.e. no zero
  sequence), linearised as ``w_sec = |T a|^2 + G (w_pri - 1)`` with
  ``G_{ik} = Re(conj((T a)_i) T_ik a_k)``, and power ``s_pri = Gamma s_sec`` with
  ``Gamma_{ki} = T_ik a_k / (T a)_i`` (lossless). For a wye bank ``T = n I`` this is the seed's
  (16g)-(16h), ``w_sec = n^2 w_pri`` and ``s_pri = s_sec``; for a delta-wye bank it gives the
  relations (16i)-(16k). The leakage impedance is a line behind the ideal part, on the secondary.
* **source**: a fixed balanced voltage behind the sequence impedance ``Z_s = (Z0 + 2 Z1) / 3``,
  ``Z_m = (Z0 - Z1) / 3``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from feederopt.network.threephase import PHASES, ThreePhaseNetwork

A = np.exp(-2j * np.pi / 3 * np.arange(3))  # a = (1, e^{-j2pi/3}, e^{j2pi/3})
A[2] = np.exp(2j * np.pi / 3)
#: Squared-voltage range of internal (virtual) nodes.
W_FREE = (0.25, 2.25)


def lindist3flow_matrices(z_pu: np.ndarray, phases: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``M^p, M^q`` of a branch with per-unit impedance matrix ``z_pu`` on ``phases``:
    ``w_t = w_f + M^p p + M^q q`` (``p, q`` sending-end flows from f to t)."""
    a = A[phases]
    ratio = a[None, :] / a[:, None]  # a_j / a_i
    m = z_pu * ratio
    return -2 * m.real, -2 * m.imag


@dataclass
class Edge:
    """A branch with an impedance: a line, switch, transformer leakage or source impedance."""

    id: str
    kind: str  # line | switch | transformer | source
    f: int
    t: int
    phases: list[int]
    z_pu: np.ndarray
    mp: np.ndarray
    mq: np.ndarray
    switchable: bool = False
    normally_open: bool = False
    s_max_pu: float | None = None  # per-phase apparent-power rating at 1 p.u. voltage


@dataclass
class Bank:
    """The ideal part of a transformer bank: ``w_sec = g0 + G w_pri``, ``s_pri = Gamma s_sec``."""

    id: str
    f: int
    t: int
    pri: list[int]
    sec: list[int]
    g: np.ndarray  # (len(sec), len(pri))
    g0: np.ndarray
    gamma: np.ndarray  # complex (len(pri), len(sec))
    #: Per-phase apparent-power ratings at 1 p.u. voltage of the primary (``pri``) and
    #: secondary (``sec``) phases [p.u.], ``inf`` where no unit is rated (see
    #: :func:`unit_phase_currents`); None: no rating.
    s_max_pri: np.ndarray | None = None
    s_max_sec: np.ndarray | None = None


@dataclass
class PerUnitThreePhase:
    """Node-level per-unit data (see module docstring)."""

    bus_ids: list[str]
    virtual: np.ndarray  # bool per bus
    base_kv_ln: np.ndarray
    node_bus: np.ndarray
    node_phase: np.ndarray
    node_of: dict[tuple[int, int], int]
    w_min: np.ndarray
    w_max: np.ndarray
    source_nodes: np.ndarray
    w_source: np.ndarray
    edges: list[Edge]
    banks: list[Bank]
    demand_p0: np.ndarray  # demand = demand0 + K w
    demand_q0: np.ndarray
    demand_kp: sp.csr_matrix
    demand_kq: sp.csr_matrix
    gen_p: np.ndarray  # base-case output per node
    gen_q: np.ndarray
    floating: np.ndarray  # bool per bus: behind a delta (ungrounded) winding, no zero sequence
    notes: list[str] = field(default_factory=list)
    #: One entry per DER phase: its id, node, base output and limits [p.u. per phase]. A
    #: unit between two phases (``conn`` delta) is one entry whose ``s = p + jq`` (the whole
    #: unit's, its limits the unit's) goes into two nodes: ``der_share * s`` into
    #: ``der_node`` and ``der_share2 * s`` into ``der_node2`` (:func:`delta_shares`); a phase
    #: to ground entry has ``der_share`` 1 and ``der_node2`` -1.
    der_id: list[str] = field(default_factory=list)
    der_node: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    der_node2: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    der_share: np.ndarray = field(default_factory=lambda: np.zeros(0, complex))
    der_share2: np.ndarray = field(default_factory=lambda: np.zeros(0, complex))
    der_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    der_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    der_p_min: np.ndarray = field(default_factory=lambda: np.zeros(0))
    der_p_max: np.ndarray = field(default_factory=lambda: np.zeros(0))
    der_s_max: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The squared voltage limits as given (the buses' ``v_min_pu``, ``v_max_pu``) when
    #: ``w_min``, ``w_max`` were shifted by OpenDSS's offsets
    #: (:func:`feederopt.algorithms.threephase.shift_voltage_limits`); None: not shifted
    w_min_given: np.ndarray | None = None
    w_max_given: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.node_bus)

    def der_injection(self) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix,
                                     sp.csr_matrix]:
        """The nodes' injections as linear maps of the DER entries' ``(p, q)``: ``(Pp, Pq,
        Qp, Qq)``, each ``n_nodes x n_entries``, with node ``p = Pp p + Pq q`` and node ``q =
        Qp p + Qq q``. An entry with share ``c`` into a node puts ``c s`` there: ``p`` gets
        ``Re(c) p - Im(c) q`` and ``q`` gets ``Im(c) p + Re(c) q`` (for a phase to ground
        entry ``c = 1``: the identity)."""
        nd = len(self.der_node)
        two = np.flatnonzero(self.der_node2 >= 0) if len(self.der_node2) else np.zeros(0, int)
        share = self.der_share if len(self.der_share) else np.ones(nd, complex)
        rows = np.r_[self.der_node, self.der_node2[two]] if len(two) else self.der_node
        cols = np.r_[np.arange(nd), two]
        c = np.r_[share, self.der_share2[two]] if len(two) else share

        def m(vals: np.ndarray) -> sp.csr_matrix:
            out = sp.csr_matrix((vals, (rows, cols)), shape=(self.n_nodes, nd))
            out.eliminate_zeros()
            return out

        return m(c.real), m(-c.imag), m(c.imag), m(c.real)

    def node_names(self) -> list[str]:
        return [f"{self.bus_ids[b]}.{PHASES[p]}" for b, p in zip(self.node_bus, self.node_phase,
                                                                  strict=True)]


class _Builder:
    def __init__(self) -> None:
        self.bus_ids: list[str] = []
        self.bus_index: dict[str, int] = {}
        self.virtual: list[bool] = []
        self.base: list[float] = []
        self.node_bus: list[int] = []
        self.node_phase: list[int] = []
        self.node_of: dict[tuple[int, int], int] = {}
        self.w_min: list[float] = []
        self.w_max: list[float] = []

    def bus(self, bid: str, phases: str, base_kv_ln: float, virtual: bool,
            v_min: float, v_max: float) -> int:
        b = len(self.bus_ids)
        self.bus_ids.append(bid)
        self.bus_index[bid] = b
        self.virtual.append(virtual)
        self.base.append(base_kv_ln)
        for ch in phases:
            ph = PHASES.index(ch)
            self.node_of[(b, ph)] = len(self.node_bus)
            self.node_bus.append(b)
            self.node_phase.append(ph)
            lo, hi = (W_FREE if virtual else (v_min**2, v_max**2))
            self.w_min.append(lo)
            self.w_max.append(hi)
        return b


def _winding_rows(nodes: list[int], conn: str, n_phases: int) -> list[dict[int, float]]:
    """Winding voltages as combinations of node voltages ({node: coefficient}, node 1-3)."""
    if n_phases == 3:
        live = nodes[:3]
        neutral = nodes[3] if len(nodes) > 3 and nodes[3] in (1, 2, 3) else 0
        if conn == "delta":
            return [{live[k]: 1.0, live[(k + 1) % 3]: -1.0} for k in range(3)]
        return [{live[k]: 1.0, **({neutral: -1.0} if neutral else {})} for k in range(3)]
    first = nodes[0]
    second = nodes[1] if len(nodes) > 1 else 0
    return [{first: 1.0, **({second: -1.0} if second in (1, 2, 3) else {})}]


def unit_rating_kva(u: dict, rating: str = "normal") -> float:
    """A transformer row's loading limit [kVA]: ``s_norm_kva`` (OpenDSS ``normhkva``), else
    (None: not given) ``s_kva``; ``rating="emergency"``: ``s_emerg_kva`` (``emerghkva``), else
    the normal one. ``0`` (a file's ``normhkva=0``) is returned as it is: the unit is unrated
    (:func:`unit_phase_currents` gives it no rated current, as OpenDSS's ``NormAmps`` of 0)."""
    norm = u.get("s_norm_kva")
    if norm is None:
        norm = u["s_kva"]
    if rating == "emergency":
        emerg = u.get("s_emerg_kva")
        return float(norm if emerg is None else emerg)
    if rating != "normal":
        raise ValueError(f"rating must be 'normal' or 'emergency', not {rating!r}")
    return float(norm)


def unit_phase_currents(u: dict, winding: int, s_kva: float) -> dict[int, float]:
    """The rated current [A] that a transformer unit (a ``transformers`` row) rated ``s_kva``
    allows in each phase conductor (node 1-3) of ``winding`` (1 or 2).

    OpenDSS rates a winding ``I = S / (n kV_ph)`` with ``kV_ph = kV / sqrt(3)`` for a two- or
    three-phase unit (``kV`` line-to-line) and ``kV`` for a single-phase one (the winding's
    own voltage) (OpenDSS manual, Transformer: ``kV``; ``NormAmps`` of the element is this at
    winding 1 and ``normhkva``). Each live conductor of the winding carries that current at
    rating, except a single-phase unit between two phase conductors (a delta or open-delta
    member), whose winding current is shared by two lines: each is given ``sqrt(3)/2 I``, the
    line current of a balanced closed delta of such units at rating (an open delta's common
    line carries ``I`` there, its outer lines ``I``: the rule is loose on the first and tight on
    the others by the factor ``sqrt(3)/2``)."""
    n = int(u["n_phases"])
    kv = float(u["kv_from"] if winding == 1 else u["kv_to"])
    nodes = [int(x) for x in (u["from_nodes"] if winding == 1 else u["to_nodes"]).split(".")
             if x]
    kv_ph = kv / math.sqrt(3) if n > 1 else kv
    if not (kv_ph > 0 and s_kva > 0):
        return {}
    amps = s_kva / (n * kv_ph)
    if n == 1:
        live = [x for x in nodes[:2] if x in (1, 2, 3)]
        if len(live) == 2:
            return {x: amps * math.sqrt(3) / 2 for x in live}
        return {live[0]: amps} if live else {}
    return {x: amps for x in nodes[:n] if x in (1, 2, 3)}


def to_per_unit_3ph(net: ThreePhaseNetwork, *, open_switches: set[str] | None = None,
                    taps: dict[str, float] | None = None,
                    transformer_rating: str = "normal") -> PerUnitThreePhase:
    """Per-unit arrays of ``net`` (see the module docstring).

    ``open_switches`` overrides the base-case switch states (else normally-open switches are
    open); ``taps`` overrides the winding-2 taps of transformers by id.

    Every bank's phases get a rating (:attr:`Bank.s_max_pri`, :attr:`Bank.s_max_sec`) as the
    lines do from ``i_max_a``: ``s_max = V_b I_max`` per phase (``V_b`` the bus's base
    phase-to-neutral voltage, so ``|s| <= s_max`` at 1 p.u. is ``|I| <= I_max``), with
    ``I_max`` the sum over the bank's units of their rated current on that phase conductor
    (:func:`unit_phase_currents`) at their ``transformer_rating`` limit
    (:func:`unit_rating_kva`: ``"normal"`` OpenDSS's normhkva, ``"emergency"`` emerghkva).
    """
    bld = _Builder()
    notes: list[str] = []
    buses = net.buses
    for row in buses.iter_rows(named=True):
        bld.bus(row["id"], row["phases"], row["vn_kv"] / math.sqrt(3), False, row["v_min_pu"],
                row["v_max_pu"])
    zb = np.array(bld.base) ** 2  # per-phase S base 1 MVA
    edges: list[Edge] = []
    source_nodes: list[int] = []
    w_source: list[float] = []

    # ---- sources -------------------------------------------------------------------------
    for s in net.sources.iter_rows(named=True):
        b = bld.bus_index[s["bus"]]
        z1 = complex(s["r1_ohm"], s["x1_ohm"])
        z0 = complex(s["r0_ohm"], s["x0_ohm"])
        phases = [PHASES.index(c) for c in buses["phases"][b]]
        if abs(z1) + abs(z0) > 0:
            v = bld.bus(f"~{s['id']}", "abc", bld.base[b], True, 1.0, 1.0)
            zs, zm = (z0 + 2 * z1) / 3, (z0 - z1) / 3
            z = np.full((3, 3), zm) + np.eye(3) * (zs - zm)
            z = z[np.ix_(phases, phases)] / zb[b]
            mp, mq = lindist3flow_matrices(z, phases)
            edges.append(Edge(s["id"], "source", v, b, phases, z, mp, mq))
            src_bus = v
        else:
            src_bus = b
        for ph in phases:
            source_nodes.append(bld.node_of[(src_bus, ph)])
            w_source.append(float(s["v_set_pu"]) ** 2)

    # ---- transformer banks (with the jumpers between the same buses) ---------------------
    lines = net.lines.filter(pl.col("in_service"))
    tr = net.transformers.filter(pl.col("in_service"))
    pairs: dict[tuple[str, str], list[dict]] = {}
    for row in tr.iter_rows(named=True):
        pairs.setdefault((row["from_bus"], row["to_bus"]), []).append(row)
    jumpers: dict[tuple[str, str], list[dict]] = {}
    for row in lines.iter_rows(named=True):
        for key in ((row["from_bus"], row["to_bus"]), (row["to_bus"], row["from_bus"])):
            if key in pairs:
                jumpers.setdefault(key, []).append(row)
    absorbed = {r["id"] for rows in jumpers.values() for r in rows}
    if absorbed:
        notes.append(f"line(s) {', '.join(sorted(absorbed))} join a transformer bank's buses "
                     "and are taken as ideal jumpers of the bank")
    banks: list[Bank] = []
    floating_banks: set[str] = set()
    passing: list[tuple[str, str]] = []  # banks that pass a zero sequence on
    pending: list[tuple[list[dict], int, int, list[int], list[int], np.ndarray, np.ndarray,
                        np.ndarray, tuple[np.ndarray, np.ndarray]]] = []
    for (fb, tb), units in pairs.items():
        f, t = bld.bus_index[fb], bld.bus_index[tb]
        pri = [PHASES.index(c) for c in buses["phases"][f]]
        sec = [PHASES.index(c) for c in buses["phases"][t]]
        a_rows, b_rows = [], []  # A_sec V_sec = A_pri V_pri (volts / base)
        z_sum = np.zeros(3, complex)
        z_cnt = np.zeros(3)
        amps = {1: np.zeros(3), 2: np.zeros(3)}  # rated current per phase conductor [A]
        for u in units:
            s_u = unit_rating_kva(u, transformer_rating)
            for wdg in (1, 2):
                for node, i_a in unit_phase_currents(u, wdg, s_u).items():
                    amps[wdg][node - 1] += i_a
            n_from = [int(x) for x in u["from_nodes"].split(".") if x]
            n_to = [int(x) for x in u["to_nodes"].split(".") if x]
            wf = _winding_rows(n_from, u["conn_from"], u["n_phases"])
            wt = _winding_rows(n_to, u["conn_to"], u["n_phases"])
            vf = u["kv_from"] / (math.sqrt(3) if u["n_phases"] == 3 and u["conn_from"] == "wye"
                                 else 1.0)
            vt = u["kv_to"] / (math.sqrt(3) if u["n_phases"] == 3 and u["conn_to"] == "wye"
                               else 1.0)
            tap_to = (taps or {}).get(u["id"], u["tap_to"])
            ratio = vt * tap_to / (vf * u["tap_from"])
            for rf, rt in zip(wf, wt, strict=True):
                arow = np.zeros(3)
                brow = np.zeros(3)
                for node, c in rt.items():
                    arow[node - 1] = c * bld.base[t]
                for node, c in rf.items():
                    brow[node - 1] = c * ratio * bld.base[f]
                a_rows.append(arow)
                b_rows.append(brow)
            # leakage impedance, per phase on the secondary, in Ohm
            zpu = complex(u["r_pct"], u["x_pct"]) / 100
            s_mva = u["s_kva"] / 1000
            zohm = zpu * u["kv_to"] ** 2 / s_mva
            live_to = [n for n in n_to if n in (1, 2, 3)]
            if u["n_phases"] == 1 and len(live_to) == 2:
                # a phase-to-phase unit (open-delta regulator): V'_x - V'_y = t (V_x - V_y)
                # - Z I_x, so its whole impedance is in series with phase x, its first node
                live_to = live_to[:1]
            for node in live_to:
                z_sum[node - 1] += zohm
                z_cnt[node - 1] += 1
        for j in jumpers.get((fb, tb), []) + jumpers.get((tb, fb), []):
            for ch in j["phases"]:
                k = PHASES.index(ch)
                arow, brow = np.zeros(3), np.zeros(3)
                arow[k] = bld.base[t]
                brow[k] = bld.base[f]
                a_rows.append(arow)
                b_rows.append(brow)
        a_mat = np.array(a_rows)[:, sec]
        b_mat = np.array(b_rows)[:, pri]
        tmat = np.linalg.pinv(a_mat) @ b_mat  # V_sec = T V_pri (p.u.)
        if np.linalg.matrix_rank(a_mat) < len(sec):
            floating_banks.add(tb)
        elif len(pri) == 3 and np.linalg.norm(tmat @ np.ones(3)) > 1e-6:
            passing.append((fb, tb))
        with np.errstate(invalid="ignore"):
            rated = (np.where(amps[1][pri] > 0, bld.base[f] * amps[1][pri] / 1000.0, np.inf),
                     np.where(amps[2][sec] > 0, bld.base[t] * amps[2][sec] / 1000.0, np.inf))
        pending.append((units, f, t, pri, sec, tmat, z_sum, z_cnt, rated))
    float_set = _floating(net, floating_banks, absorbed, passing)
    for units, f, t, pri, sec, tmat, z_sum, z_cnt, rated in pending:
        if bld.bus_ids[t] in float_set and len(sec) == 3:
            # a three-wire region: keep its phase voltages free of zero sequence
            tmat = (np.eye(3) - np.ones((3, 3)) / 3) @ tmat
        a = A[pri]
        s_ref = tmat @ a
        g = (np.conj(s_ref)[:, None] * tmat * a[None, :]).real
        g0 = np.abs(s_ref) ** 2 - g.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(np.abs(s_ref)[None, :] > 1e-9,
                             tmat.T * a[:, None] / s_ref[None, :], 0.0)
        bank_id = "+".join(u["id"] for u in units)
        z_ph = np.where(z_cnt > 0, z_sum / np.maximum(z_cnt, 1), 0.0)[sec] / zb[t]
        if np.any(np.abs(z_ph) > 0):
            inner = bld.bus(f"~{bank_id}", "".join(PHASES[k] for k in sec), bld.base[t], True,
                            1.0, 1.0)
            if bld.bus_ids[t] in float_set:
                float_set.add(bld.bus_ids[inner])
            banks.append(Bank(bank_id, f, inner, pri, sec, g, g0, gamma, *rated))
            z = np.diag(z_ph)
            mp, mq = lindist3flow_matrices(z, sec)
            edges.append(Edge(bank_id, "transformer", inner, t, sec, z, mp, mq))
        else:
            banks.append(Bank(bank_id, f, t, pri, sec, g, g0, gamma, *rated))

    # ---- lines and switches ----------------------------------------------------------------
    zt = net.impedances
    z_of: dict[str, list[tuple[str, str, complex, float]]] = {}
    for r in zt.iter_rows(named=True):
        z_of.setdefault(r["line"], []).append((r["row"], r["col"], complex(r["r_ohm"],
                                                                          r["x_ohm"]),
                                               r["b_us"] * 1e-6))
    shunt_b: list[tuple[int, list[int], np.ndarray]] = []
    for row in lines.iter_rows(named=True):
        if row["id"] in absorbed:
            continue
        f, t = bld.bus_index[row["from_bus"]], bld.bus_index[row["to_bus"]]
        phases = [PHASES.index(c) for c in row["phases"]]
        k = len(phases)
        z = np.zeros((k, k), complex)
        bmat = np.zeros((k, k))
        pos = {PHASES.index(c): i for i, c in enumerate(row["phases"])}
        for rr, cc, zz, bb in z_of.get(row["id"], []):
            z[pos[PHASES.index(rr)], pos[PHASES.index(cc)]] = zz
            bmat[pos[PHASES.index(rr)], pos[PHASES.index(cc)]] = bb
        z = z / zb[f]
        mp, mq = lindist3flow_matrices(z, phases)
        is_open = (row["id"] in open_switches) if open_switches is not None else bool(
            row["normally_open"])
        s_max = (bld.base[f] * row["i_max_a"] / 1000.0) if row["i_max_a"] else None
        edges.append(Edge(row["id"], row["kind"], f, t, phases, z, mp, mq,
                          bool(row["switchable"]), is_open, s_max))
        if np.any(bmat):
            shunt_b.append((f, phases, bmat * zb[f] / 2))
            shunt_b.append((t, phases, bmat * zb[f] / 2))

    n = len(bld.node_bus)
    d_p0 = np.zeros(n)
    d_q0 = np.zeros(n)
    kp = sp.lil_matrix((n, n))
    kq = sp.lil_matrix((n, n))

    def nd_of(b: int, ph: int) -> int:
        return bld.node_of[(b, ph)]

    # line charging: consumed s_i = -j sum_k (B_ik / 2) V_i conj(V_k)
    for b, phases, half in shunt_b:
        for i, pi in enumerate(phases):
            ni = nd_of(b, pi)
            kq[ni, ni] += -half[i, i]
            for k, pk in enumerate(phases):
                if k == i:
                    continue
                c = A[pi] * np.conj(A[pk])
                d_p0[ni] += half[i, k] * c.imag
                d_q0[ni] += -half[i, k] * c.real

    # ---- loads ---------------------------------------------------------------------------
    for ld in net.loads.filter(pl.col("in_service")).iter_rows(named=True):
        b = bld.bus_index[ld["bus"]]
        vb = bld.base[b]
        s0 = complex(ld["p_mw"], ld["q_mvar"])
        phs = [PHASES.index(c) for c in ld["phase"]]
        w0 = (ld["vn_kv"] / vb) ** 2
        if ld["conn"] == "wye":
            ni = nd_of(b, phs[0])
            for val, expo, const, kmat in ((s0.real, ld["p_exponent"], d_p0, kp),
                                           (s0.imag, ld["q_exponent"], d_q0, kq)):
                const[ni] += val * (1 - expo / 2)
                kmat[ni, ni] += val * expo / 2 / w0
            continue
        _delta_part(d_p0, d_q0, kp, kq, nd_of(b, phs[0]), nd_of(b, phs[1]), phs[0], phs[1],
                    s0, ld["p_exponent"], ld["q_exponent"], w0)

    # ---- shunts: capacitors, reactors, no-load branches (constant impedance) --------------
    for sh in net.shunts.filter(pl.col("in_service")).iter_rows(named=True):
        b = bld.bus_index[sh["bus"]]
        phs = [PHASES.index(c) for c in sh["phases"]]
        if sh["conn"] == "delta" and len(phs) > 1:
            # branches between phase pairs, each at vn_kv across it: a constant-impedance delta
            # load consuming p_mw - j q_mvar at rated voltage, shared over its branches
            branches = [(phs[0], phs[1])] if len(phs) == 2 else [
                (phs[j], phs[(j + 1) % 3]) for j in range(3)]
            s0 = complex(sh["p_mw"], -sh["q_mvar"]) / len(branches)
            w0 = (sh["vn_kv"] / bld.base[b]) ** 2
            for pi, pk in branches:
                _delta_part(d_p0, d_q0, kp, kq, nd_of(b, pi), nd_of(b, pk), pi, pk, s0, 2.0,
                            2.0, w0)
            continue
        # wye (or a 1-phase delta with its second conductor on ground: OpenDSS puts it phase
        # to ground at its kV); vn_kv is line-line for more than one phase
        nph = len(phs)
        w0 = (sh["vn_kv"] / (math.sqrt(3) if nph > 1 else 1.0) / bld.base[b]) ** 2
        for i in phs:
            ni = nd_of(b, i)
            kq[ni, ni] += -sh["q_mvar"] / nph / w0
            kp[ni, ni] += sh["p_mw"] / nph / w0

    # ---- generators (fixed at their base-case output) ------------------------------------
    g_p = np.zeros(n)
    g_q = np.zeros(n)
    der: dict[str, list] = {k: [] for k in ("id", "node", "node2", "share", "share2", "p",
                                            "q", "pmin", "pmax", "smax")}
    for g in net.generators.filter(pl.col("in_service")).iter_rows(named=True):
        b = bld.bus_index[g["bus"]]
        # a unit between two phases is one entry over both nodes (delta_shares); a wye unit
        # one entry per phase, its output and ratings split equally; a 3-phase delta unit
        # one entry per phase with the shares its two branches give that phase
        # (three_phase_delta_shares)
        gph: str = g["phases"]
        parts: list[tuple[str, complex, complex]]
        if g.get("conn") == "delta" and len(gph) == 2:
            parts = [(gph, *delta_shares(PHASES.index(gph[0]), PHASES.index(gph[1])))]
        elif g.get("conn") == "delta":
            parts = [(c, three_phase_delta_shares()[PHASES.index(c)], 0j) for c in gph]
        else:
            parts = [(c, 1.0 + 0j, 0j) for c in gph]
        k = len(parts)
        for pair, c1, c2 in parts:
            ni = nd_of(b, PHASES.index(pair[0]))
            nk = nd_of(b, PHASES.index(pair[1])) if len(pair) > 1 else -1
            s_unit = complex(g["p_mw"], g["q_mvar"]) / k
            for nd, share in ((ni, c1), (nk, c2)):
                if nd >= 0:
                    g_p[nd] += (share * s_unit).real
                    g_q[nd] += (share * s_unit).imag
            p_max = max(g["p_max_mw"], g["p_mw"]) / k
            for attr, item in (("id", g["id"]), ("node", ni), ("node2", nk), ("share", c1),
                               ("share2", c2), ("p", s_unit.real), ("q", s_unit.imag),
                               ("pmin", -p_max if g["kind"] == "storage" else 0.0),
                               ("pmax", p_max), ("smax", max(g["s_max_mva"] / k, p_max))):
                der[attr].append(item)

    floating = np.array([b in float_set for b in bld.bus_ids], bool)
    return PerUnitThreePhase(
        bus_ids=bld.bus_ids, virtual=np.array(bld.virtual), base_kv_ln=np.array(bld.base),
        node_bus=np.array(bld.node_bus), node_phase=np.array(bld.node_phase),
        node_of=bld.node_of, w_min=np.array(bld.w_min), w_max=np.array(bld.w_max),
        source_nodes=np.array(source_nodes, int), w_source=np.array(w_source),
        edges=edges, banks=banks, demand_p0=d_p0, demand_q0=d_q0,
        demand_kp=kp.tocsr(), demand_kq=kq.tocsr(), gen_p=g_p, gen_q=g_q, floating=floating,
        notes=notes, der_id=der["id"], der_node=np.array(der["node"], int),
        der_node2=np.array(der["node2"], int), der_share=np.array(der["share"], complex),
        der_share2=np.array(der["share2"], complex),
        der_p=np.array(der["p"], float), der_q=np.array(der["q"], float),
        der_p_min=np.array(der["pmin"], float), der_p_max=np.array(der["pmax"], float),
        der_s_max=np.array(der["smax"], float),
    )


def delta_shares(i: int, k: int) -> tuple[complex, complex]:
    """The shares of phases ``i`` and ``k`` in the power ``s`` of a single-phase element
    between them, at the balanced point: ``s_i = s V_i / V_ik`` and ``s_k = -s V_k / V_ik``
    (``V_ik = V_i - V_k``), i.e. ``A_i / (A_i - A_k)`` and ``-A_k / (A_i - A_k)``; for ``ab``
    ``e^{-j30} / sqrt 3`` and ``e^{j30} / sqrt 3``, which add up to 1. The current ``I =
    conj(s / V_ik)`` leaves one conductor and returns on the other (OpenDSS's 1-phase element
    on ``x.i.k``). A delta load draws its demand so, a unit between two phases injects its
    output so (PowerModelsDistribution's linear models)."""
    d = A[i] - A[k]
    return complex(A[i] / d), complex(-A[k] / d)


def three_phase_delta_shares() -> tuple[complex, complex, complex]:
    """The share of phases a, b, c in the output ``s`` of a balanced 3-phase delta unit
    (OpenDSS's ``phases=3 conn=delta``): ``s / 3`` on each branch ab, bc, ca, each branch
    split as :func:`delta_shares`, so phase ``i`` gets ``s / 3 (A_i / (A_i - A_k) + A_i /
    (A_i - A_m))`` from its two branches. With ``A_i - A_k = sqrt 3 A_i e^{j30}`` (``k`` the
    lagging phase) and ``A_i - A_m = sqrt 3 A_i e^{-j30}`` each sum is ``2 cos 30 / sqrt 3 =
    1``: at the balanced point of the linearisation (LinDist3Flow; Sankur et al., "A linearized
    power flow model for optimization in unbalanced distribution systems", 2016) a balanced
    delta unit injects ``s / 3`` into each phase, as a wye one does; the two differ in
    OpenDSS's exact power flow (the delta unit has no neutral current), which model_script
    keeps (``conn=delta``). Returned per phase over ``s / 3``: 1, 1, 1 up to rounding."""
    shares = [0j, 0j, 0j]
    for i, k in ((0, 1), (1, 2), (2, 0)):
        si, sk = delta_shares(i, k)
        shares[i] += si
        shares[k] += sk
    return shares[0], shares[1], shares[2]


def _delta_part(d_p0: np.ndarray, d_q0: np.ndarray, kp: sp.lil_matrix, kq: sp.lil_matrix,
                ni: int, nk: int, i: int, k: int, s0: complex, p_exponent: float,
                q_exponent: float, w0: float) -> None:
    """Add a delta part between phases ``i`` and ``k`` (nodes ``ni``, ``nk``) to the linear
    demand ``d0 + K w``: it consumes ``s = s0 (|V_ik|^2 / w0)^(n/2)`` per exponent ``n``
    (``w0`` the squared rated voltage across it, in the bus's phase base), with ``|V_ik|^2 ~
    3/2 (w_i + w_k)``, drawn as ``s V_i / V_ik`` from phase ``i`` and ``-s V_k / V_ik`` from
    phase ``k`` at the balanced point (``e^{-j30} / sqrt 3`` and ``e^{j30} / sqrt 3`` for
    ``ab``; PowerModelsDistribution's linear models). A delta load, and a delta capacitor
    (``n = 2``: a constant impedance), are such parts."""
    fac_i, fac_k = delta_shares(i, k)
    # s_part = s0 (1 - n/2) + s0 n/2 * 1.5 (w_i + w_k) / w0, per p and q exponent
    for fac, nd in ((fac_i, ni), (fac_k, nk)):
        for part, expo in ((complex(s0.real, 0.0), p_exponent), (complex(0.0, s0.imag),
                                                                  q_exponent)):
            c0 = part * (1 - expo / 2) * fac
            c1 = part * expo / 2 * 1.5 / w0 * fac
            d_p0[nd] += c0.real
            d_q0[nd] += c0.imag
            for other in (ni, nk):
                kp[nd, other] += c1.real
                kq[nd, other] += c1.imag


def _floating(net: ThreePhaseNetwork, roots: set[str], absorbed: set[str],
              passing: list[tuple[str, str]]) -> set[str]:
    """Buses reached from a floating-delta bank secondary through lines and through banks that
    pass a zero sequence on (wye-wye, regulators): their phase-to-ground voltages carry a
    neutral shift that the three-wire network does not fix."""
    adj: dict[str, set[str]] = {}
    for fb, tb in passing:
        adj.setdefault(fb, set()).add(tb)
    for row in net.lines.filter(pl.col("in_service")).iter_rows(named=True):
        if row["id"] in absorbed:
            continue
        adj.setdefault(row["from_bus"], set()).add(row["to_bus"])
        adj.setdefault(row["to_bus"], set()).add(row["from_bus"])
    seen = set(roots)
    stack = list(roots)
    while stack:
        b = stack.pop()
        for o in adj.get(b, ()):
            if o not in seen:
                seen.add(o)
                stack.append(o)
    return seen
