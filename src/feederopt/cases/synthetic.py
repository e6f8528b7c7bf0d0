"""Seeded synthetic medium-voltage distribution feeders for benchmarks.

:func:`synthetic_feeder` builds a network of any size that looks like a real MV distribution
grid: one or more substations, several radial feeders per substation, each feeder a main trunk
with laterals and sub-laterals, and normally-open tie lines between geographically close buses.

The model
---------
**Substations and feeders.** Below 300 buses there is one substation; above, about one per 450
buses (at least two). Each substation is its own source bus (``is_source``, ``v_set_pu`` 1.0,
no transformer is modelled: the source bus is the MV busbar). The non-source buses are split
into feeders of about 60 buses each (``buses_per_feeder``; sizes vary by +-30 %), dealt out to
the substations in turn, so that every substation feeds at least one feeder.

**Topology.** A feeder is a tree: a trunk of 25-40 % of its buses leaving the substation, and
laterals of 2-10 sections hung on trunk buses (65 %) or on earlier laterals (sub-laterals, 35 %).
Buses are numbered substations first, then feeder by feeder, trunk first, as in the classic test
feeders. Each bus has planar ``x``/``y`` coordinates in km: the feeders of a substation leave
it in evenly spread directions, a trunk wanders about its direction, laterals leave roughly at
right angles, and a section's straight-line extent is its length divided by a routing factor of
1.05-1.3. Substations sit on a square grid 1.5 times the typical supply radius apart, so that
the outer parts of neighbouring supply areas interleave.

**Lines** (positive sequence, shunt capacitance neglected: ``b_us`` = 0). Typical MV overhead
and cable data (W. H. Kersting, *Distribution System Modeling and Analysis*, CRC Press, ch. 4
and the conductor tables of its appendices; K. P. Schneider et al., "Analytic considerations
and design basis for the IEEE distribution test feeders", IEEE Trans. Power Syst. 33(3),
2018; 12.66 kV as in Baran and Wu's 33-bus feeder, IEEE Trans. Power Del. 4(2), 1989):

========  =====================  =====================  ==============  ==========
section   r [Ohm/km]             x [Ohm/km]             length [km]     i_max [kA]
========  =====================  =====================  ==============  ==========
trunk     0.10-0.22              0.30-0.40 (0.08-0.13)  0.2-1.0         0.4
lateral   0.30-0.60              0.30-0.40 (0.08-0.13)  0.1-0.8         0.2
tie       0.30-0.60              0.30-0.40              distance x 1.2  0.2
========  =====================  =====================  ==============  ==========

The x values in brackets are for underground-cable feeders (30 % of the feeders); the others
are overhead. One conductor is drawn per trunk and one per lateral. The sizing step below then
stretches or shrinks a feeder's sections, each kept within 0.1-1.5 km. Lengths (and the 1.5 km
bound, above 12.66 kV) scale with ``vn_kv / 12.66``: a higher voltage carries the same load
with less drop, so its feeders are longer.

**Loads.** 70-90 % of the buses of a feeder carry a constant-power load of 20-300 kW
(log-normal around 90 kW before sizing) at a lagging power factor of 0.85-0.98.

**Sizing.** Each feeder gets a target minimum voltage drawn in ``v_min_target`` (default
0.93-0.96 p.u.). An exact AC backward/forward sweep of the base radial configuration is run, and
the feeder's loads are scaled (0.5x-2x, each load kept within 20-300 kW, the largest branch
current kept under 70 % of its rating) and, for what the loads cannot give, its section lengths,
until the feeder meets its target. So in the base case every feeder of a reasonable size (a
dozen buses or more) has its minimum voltage at 0.93-0.96 p.u., the largest loading is at most
about 70 % (no rating binds), the losses are about 3 % of the load, and a feeder carries
2.5-5.5 MW at 12.66 kV (3-9 MW at 20 kV).

**Ties.** ``tie_fraction`` of all branches (5-10 % is typical; 0.07 by default) are
normally-open tie lines between nearby buses outside the substations' cores (the inner 30 % of
the supply radius). With several substations a quarter of the ties join the nearest buses of
two substations, and with several feeders a quarter join the nearest buses of two feeders of a
substation (not more than twice the longest section apart); the rest join the nearest buses of
different laterals. Ends of laterals are preferred; there is never a duplicate of another
branch nor a self-loop; each bus takes at most one tie where possible; and the tree path
between a tie's ends has at least four sections, so that closing a tie makes a real loop (or
joins two substations).

**Switches.** With ``all_switchable`` (the default, as in the classic reconfiguration
benchmarks) every branch can be opened. Otherwise the ties, the first section of every feeder
and of every lateral, and every fourth trunk section are switchable.

The same arguments and seed give the same network (NumPy ``default_rng``). ``Network.meta``
records the parameters, the number of feeders and the base-case minimum voltage and losses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from feederopt.network.container import Network

__all__ = ["synthetic_feeder"]

# Typical ranges (see the module docstring).
_TRUNK_R = (0.10, 0.22)  # Ohm/km
_LATERAL_R = (0.30, 0.60)
_OVERHEAD_X = (0.30, 0.40)
_CABLE_X = (0.08, 0.13)
_CABLE_SHARE = 0.3
_TRUNK_LEN = (0.2, 1.0)  # km
_LATERAL_LEN = (0.1, 0.8)
_LEN_BOUNDS = (0.1, 1.5)
_TRUNK_I_MAX = 0.4  # kA
_LATERAL_I_MAX = 0.2
_LOAD_BOUNDS = (0.020, 0.300)  # MW
_LOAD_MEDIAN = 0.090
_PF = (0.85, 0.98)
_HEAD_UTIL_CAP = 0.7
_TIE_ROUTING = 1.2


@dataclass
class _Grid:
    """The radial part under construction, in global bus indices."""

    parent: list[int] = field(default_factory=list)  # -1 for a substation
    feeder: list[int] = field(default_factory=list)  # -1 for a substation
    root: list[int] = field(default_factory=list)  # substation index
    depth: list[int] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)  # trunk or lateral number, -1 at a source
    heading: list[float] = field(default_factory=list)  # direction of the incoming section
    is_trunk: list[bool] = field(default_factory=list)
    lateral_head: list[bool] = field(default_factory=list)  # first section of a lateral
    r_km: list[float] = field(default_factory=list)  # conductor of the incoming section
    x_km: list[float] = field(default_factory=list)
    i_max: list[float] = field(default_factory=list)
    length: list[float] = field(default_factory=list)

    def add(
        self,
        parent: int,
        feeder: int,
        segment: int,
        heading: float,
        trunk: bool,
        head: bool,
        conductor: tuple[float, float, float],
        length: float,
    ) -> int:
        self.parent.append(parent)
        self.feeder.append(feeder)
        self.root.append(self.root[parent])
        self.depth.append(self.depth[parent] + 1)
        self.segment.append(segment)
        self.heading.append(heading)
        self.is_trunk.append(trunk)
        self.lateral_head.append(head)
        self.r_km.append(conductor[0])
        self.x_km.append(conductor[1])
        self.i_max.append(conductor[2])
        self.length.append(length)
        return len(self.parent) - 1


def synthetic_feeder(
    n_buses: int,
    seed: int = 0,
    n_substations: int | None = None,
    tie_fraction: float = 0.07,
    vn_kv: float = 12.66,
    *,
    buses_per_feeder: int = 60,
    all_switchable: bool = True,
    v_min_pu: float = 0.9,
    v_max_pu: float = 1.1,
    v_min_target: tuple[float, float] = (0.93, 0.96),
) -> Network:
    """A seeded synthetic MV distribution grid of exactly ``n_buses`` buses.

    Args:
        n_buses: number of buses, substations included (at least twice the substations).
        seed: seed of the NumPy generator; the same arguments give the same network.
        n_substations: number of substation (source) buses; by default 1 below 300 buses and
            ``max(2, round(n_buses / 450))`` from 300 on.
        tie_fraction: share of normally-open tie lines among all branches (0 <= f < 0.5).
        vn_kv: nominal line-to-line voltage of every bus [kV] (12.66 and 20 are typical).
        buses_per_feeder: mean number of buses of a feeder (40-80 is typical).
        all_switchable: every branch switchable (else ties, lateral heads and every fourth
            trunk section).
        v_min_pu, v_max_pu: voltage limits written to every bus.
        v_min_target: range of the per-feeder base-case minimum voltage the loads are sized to.

    Returns:
        A valid :class:`Network` named ``f"synthetic{n_buses}_s{seed}"`` whose closed branches
        form one radial tree per substation.
    """
    if n_substations is None:
        n_substations = 1 if n_buses < 300 else max(2, round(n_buses / 450))
    if n_substations < 1:
        raise ValueError("n_substations must be at least 1")
    if n_buses < 2 * n_substations:
        raise ValueError(
            f"n_buses must be at least {2 * n_substations} for {n_substations} substation(s)"
        )
    if not 0.0 <= tie_fraction < 0.5:
        raise ValueError("tie_fraction must be in [0, 0.5)")
    if not vn_kv > 0:
        raise ValueError("vn_kv must be positive")
    if buses_per_feeder < 2:
        raise ValueError("buses_per_feeder must be at least 2")
    lo_t, hi_t = v_min_target
    if not 0.5 < lo_t <= hi_t < 1.0:
        raise ValueError("v_min_target must satisfy 0.5 < low <= high < 1")

    rng = np.random.default_rng(seed)
    n_sub = n_substations
    # Higher voltages carry the same loads with less drop: their sections are longer.
    stretch = min(max(vn_kv / 12.66, 0.5), 2.5)
    len_bounds = (_LEN_BOUNDS[0], _LEN_BOUNDS[1] * max(stretch, 1.0))
    m = n_buses - n_sub

    # ----- feeders and their sizes ---------------------------------------------------------
    n_feeders = max(n_sub, round(m / buses_per_feeder))
    n_feeders = min(n_feeders, m)
    weights = rng.uniform(0.7, 1.3, n_feeders)
    sizes = _split(m, weights)
    feeder_sub = np.arange(n_feeders) % n_sub
    rng.shuffle(feeder_sub[n_sub:])

    # ----- topology: trunk + laterals ------------------------------------------------------
    g = _Grid()
    for _ in range(n_sub):
        g.parent.append(-1)
        g.feeder.append(-1)
        g.root.append(len(g.root))
        g.depth.append(0)
        g.segment.append(-1)
        g.heading.append(0.0)
        g.is_trunk.append(False)
        g.lateral_head.append(False)
        g.r_km.append(0.0)
        g.x_km.append(0.0)
        g.i_max.append(0.0)
        g.length.append(0.0)

    feeders_of_sub = [np.flatnonzero(feeder_sub == s) for s in range(n_sub)]
    angle = np.zeros(n_feeders)
    for fs in feeders_of_sub:
        k = len(fs)
        start = rng.uniform(0, 2 * math.pi)
        spread = 2 * math.pi / k
        angle[fs] = start + spread * np.arange(k) + rng.uniform(-0.3, 0.3, k) * spread
    cable = rng.random(n_feeders) < _CABLE_SHARE
    segment_counter = 0
    for f in range(n_feeders):
        x_range = _CABLE_X if cable[f] else _OVERHEAD_X
        trunk_c = (rng.uniform(*_TRUNK_R), rng.uniform(*x_range), _TRUNK_I_MAX)
        size = int(sizes[f])
        n_trunk = max(1, min(size, round(size * rng.uniform(0.25, 0.40))))
        seg = segment_counter
        segment_counter += 1
        parent = int(feeder_sub[f])
        head = float(angle[f])
        trunk: list[int] = []
        for _ in range(n_trunk):
            head = angle[f] + 0.6 * (head - angle[f]) + rng.normal(0.0, 0.25)
            parent = g.add(
                parent, f, seg, head, True, False, trunk_c, stretch * rng.uniform(*_TRUNK_LEN)
            )
            trunk.append(parent)
        lateral_buses: list[int] = []
        remaining = size - n_trunk
        while remaining > 0:
            n_lat = min(remaining, int(rng.integers(2, 11)))
            if lateral_buses and rng.random() < 0.35:
                at = lateral_buses[int(rng.integers(len(lateral_buses)))]
            else:
                at = trunk[int(rng.integers(len(trunk)))]
            c = (rng.uniform(*_LATERAL_R), rng.uniform(*x_range), _LATERAL_I_MAX)
            seg = segment_counter
            segment_counter += 1
            head = g.heading[at] + (math.pi / 2 if rng.random() < 0.5 else -math.pi / 2)
            head += rng.normal(0.0, 0.3)
            parent = at
            for j in range(n_lat):
                head += rng.normal(0.0, 0.2)
                parent = g.add(
                    parent, f, seg, head, False, j == 0, c, stretch * rng.uniform(*_LATERAL_LEN)
                )
                lateral_buses.append(parent)
            remaining -= n_lat

    parent_a = np.asarray(g.parent, dtype=int)
    feeder_a = np.asarray(g.feeder, dtype=int)
    depth_a = np.asarray(g.depth, dtype=int)
    child = np.arange(n_sub, n_buses)  # one tree section per non-source bus: parent -> child
    base_len = np.asarray(g.length)[child]
    r_km = np.asarray(g.r_km)[child]
    x_km = np.asarray(g.x_km)[child]
    i_max = np.asarray(g.i_max)[child]
    feeder_c = feeder_a[child]

    # ----- loads ----------------------------------------------------------------------------
    loaded_share = rng.uniform(0.7, 0.9, n_feeders)
    loaded = rng.random(m) < loaded_share[feeder_c]
    for f in range(n_feeders):  # every feeder carries at least one load
        members = np.flatnonzero(feeder_c == f)
        if not loaded[members].any():
            loaded[members[-1]] = True
    base_p = np.clip(_LOAD_MEDIAN * np.exp(rng.normal(0.0, 0.6, m)), 0.030, 0.250)
    base_p = np.where(loaded, base_p, 0.0)
    tan_phi = np.tan(np.arccos(rng.uniform(*_PF, m)))
    target = rng.uniform(lo_t, hi_t, n_feeders)

    # ----- sizing: scale loads (and lengths) per feeder to the target minimum voltage --------
    sweep = _Sweep(parent_a, depth_a, n_sub, vn_kv)
    load_scale = np.ones(n_feeders)
    len_scale = np.ones(n_feeders)
    p = length = np.zeros(m)
    v = np.ones(n_buses, dtype=complex)
    i_br = np.zeros(m, dtype=complex)
    for _ in range(30):
        p = np.where(loaded, np.clip(base_p * load_scale[feeder_c], *_LOAD_BOUNDS), 0.0)
        q = p * tan_phi
        length = np.clip(base_len * len_scale[feeder_c], *len_bounds)
        v, i_br = sweep.run(p, q, r_km * length, x_km * length, v)
        vmin_f = np.ones(n_feeders)
        np.minimum.at(vmin_f, feeder_c, np.abs(v[child]))
        util = np.zeros(n_feeders)
        np.maximum.at(util, feeder_c, np.abs(i_br) * sweep.i_base_ka / i_max)
        err = vmin_f - target
        if np.all(np.abs(err) < 5e-4):
            break
        gain = (1.0 - target) / np.maximum(1.0 - vmin_f, 1e-6)
        new_load = np.clip(load_scale * gain, 0.5, 2.0)
        new_load = np.minimum(new_load, load_scale * _HEAD_UTIL_CAP / np.maximum(util, 1e-9))
        k_len = gain * load_scale / new_load
        new_len = np.clip(len_scale * k_len, 0.3, 3.0)
        load_scale, len_scale = new_load, new_len

    # ----- coordinates ---------------------------------------------------------------------
    heading = np.asarray(g.heading)
    geo = length / rng.uniform(1.05, 1.3, m)
    dx = np.zeros((n_buses, 2))
    dx[child, 0] = geo * np.cos(heading[child])
    dx[child, 1] = geo * np.sin(heading[child])
    xy = np.zeros((n_buses, 2))
    for lev in sweep.levels:  # parents before children
        xy[lev] = xy[parent_a[lev]] + dx[lev]
    radius = np.hypot(xy[:, 0], xy[:, 1])
    reach = float(np.quantile(radius[n_sub:], 0.75)) if m else 1.0
    sub_xy = _substation_sites(n_sub, 1.5 * reach, rng)
    xy += sub_xy[np.asarray(g.root)]

    # ----- ties -----------------------------------------------------------------------------
    n_tree = m
    n_ties = round(tie_fraction * n_tree / (1.0 - tie_fraction))
    ties = _choose_ties(n_ties, xy, radius, g, n_sub, 2.0 * len_bounds[1], rng)

    # ----- tables ---------------------------------------------------------------------------
    bus_ids = [str(i + 1) for i in range(n_buses)]
    is_source = np.zeros(n_buses, dtype=bool)
    is_source[:n_sub] = True
    buses = pl.DataFrame(
        {
            "id": bus_ids,
            "vn_kv": np.full(n_buses, float(vn_kv)),
            "v_min_pu": np.full(n_buses, float(v_min_pu)),
            "v_max_pu": np.full(n_buses, float(v_max_pu)),
            "is_source": is_source,
            "v_set_pu": np.ones(n_buses),
            "x": np.round(xy[:, 0], 4),
            "y": np.round(xy[:, 1], 4),
        }
    )

    tie_f = np.asarray([t[0] for t in ties], dtype=int)
    tie_t = np.asarray([t[1] for t in ties], dtype=int)
    tie_d = np.hypot(*(xy[tie_f] - xy[tie_t]).T) if len(ties) else np.zeros(0)
    tie_len = np.maximum(_TIE_ROUTING * tie_d, len_bounds[0])
    tie_rx = (
        np.column_stack([rng.uniform(*_LATERAL_R, len(ties)), rng.uniform(*_OVERHEAD_X, len(ties))])
        if len(ties)
        else np.zeros((0, 2))
    )
    if all_switchable:
        tree_switch = np.ones(m, dtype=bool)
    else:
        trunk_a = np.asarray(g.is_trunk)[child]
        every_fourth = (depth_a[child] - 1) % 4 == 0  # the feeder head, then every 4th
        tree_switch = np.asarray(g.lateral_head)[child] | (trunk_a & every_fourth)
    n_br = m + len(ties)
    r_ohm = np.round(r_km * length, 6)
    x_ohm = np.round(x_km * length, 6)
    branches = pl.DataFrame(
        {
            "id": [str(i + 1) for i in range(n_br)],
            "from_bus": [bus_ids[i] for i in parent_a[child]] + [bus_ids[i] for i in tie_f],
            "to_bus": [bus_ids[i] for i in child] + [bus_ids[i] for i in tie_t],
            "r_ohm": np.concatenate([r_ohm, np.round(tie_rx[:, 0] * tie_len, 6)]),
            "x_ohm": np.concatenate([x_ohm, np.round(tie_rx[:, 1] * tie_len, 6)]),
            "i_max_ka": np.concatenate([i_max, np.full(len(ties), _LATERAL_I_MAX)]),
            "kind": ["line"] * n_br,
            "switchable": np.concatenate([tree_switch, np.ones(len(ties), dtype=bool)]),
            "normally_open": np.concatenate(
                [np.zeros(m, dtype=bool), np.ones(len(ties), dtype=bool)]
            ),
        }
    )

    p_mw = np.round(p, 6)
    q_mvar = np.round(p_mw * tan_phi, 6)
    load_bus = child[loaded]
    loads = pl.DataFrame(
        {
            "id": [str(i + 1) for i in range(len(load_bus))],
            "bus": [bus_ids[i] for i in load_bus],
            "p_mw": p_mw[loaded],
            "q_mvar": q_mvar[loaded],
        }
    )

    # Base-case facts from a final sweep with the rounded values.
    v, i_br = sweep.run(p_mw, q_mvar, r_ohm, x_ohm, v)
    losses = float(np.sum(np.abs(i_br) ** 2 * r_ohm / vn_kv**2))
    meta = {
        "generator": "feederopt.cases.synthetic.synthetic_feeder",
        "seed": seed,
        "n_substations": n_sub,
        "n_feeders": n_feeders,
        "tie_fraction": tie_fraction,
        "vn_kv": vn_kv,
        "base_v_min_pu": round(float(np.min(np.abs(v))), 6),
        "base_losses_mw": round(losses, 6),
        "base_max_loading": round(float(np.max(np.abs(i_br) * sweep.i_base_ka / i_max)), 6),
        "total_load_mw": round(float(np.sum(p_mw)), 6),
    }
    return Network.from_tables(
        buses=buses,
        branches=branches,
        loads=loads,
        name=f"synthetic{n_buses}_s{seed}",
        meta=meta,
    )


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers >= 1 proportional to ``weights`` that sum to ``total`` (largest remainder)."""
    k = len(weights)
    share = (total - k) * weights / weights.sum()
    sizes = np.floor(share).astype(int)
    rest = (total - k) - int(sizes.sum())
    sizes[np.argsort(-(share - sizes), kind="stable")[:rest]] += 1
    return sizes + 1


def _substation_sites(n: int, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """Substation positions on a jittered square grid ``spacing`` km apart."""
    cols = math.ceil(math.sqrt(n))
    idx = np.arange(n)
    sites = np.column_stack([idx % cols, idx // cols]).astype(float) * spacing
    return sites + rng.uniform(-0.1, 0.1, (n, 2)) * spacing


class _Sweep:
    """Exact AC backward/forward sweep of the radial base case, per unit on 1 MVA.

    Every non-source bus ``b`` is fed by one section from ``parent[b]``; the arrays of
    sections are indexed by ``b - n_sub``.
    """

    def __init__(self, parent: np.ndarray, depth: np.ndarray, n_sub: int, vn_kv: float) -> None:
        self.parent = parent
        self.n_sub = n_sub
        self.z_base = vn_kv**2  # Ohm, on 1 MVA
        self.i_base_ka = 1.0 / (math.sqrt(3.0) * vn_kv)
        self.levels = [np.flatnonzero(depth == d) for d in range(1, int(depth.max()) + 1)]

    def run(
        self,
        p: np.ndarray,
        q: np.ndarray,
        r_ohm: np.ndarray,
        x_ohm: np.ndarray,
        v0: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        n_sub, parent = self.n_sub, self.parent
        z = (r_ohm + 1j * x_ohm) / self.z_base
        s = p + 1j * q
        v = v0.copy()
        v[:n_sub] = 1.0
        i_bus = np.zeros(len(v), dtype=complex)
        for _ in range(100):
            i_bus[n_sub:] = np.conj(s / v[n_sub:])
            i_bus[:n_sub] = 0.0
            for lev in reversed(self.levels):  # children before parents
                np.add.at(i_bus, parent[lev], i_bus[lev])
            v_old = v.copy()
            for lev in self.levels:  # parents before children
                v[lev] = v[parent[lev]] - z[lev - n_sub] * i_bus[lev]
            if np.max(np.abs(v - v_old)) < 1e-10:
                break
        return v, i_bus[n_sub:]


def _choose_ties(
    n_ties: int,
    xy: np.ndarray,
    radius: np.ndarray,
    tree: _Grid,
    n_sub: int,
    max_km: float,
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """Nearby bus pairs of different laterals whose tree path has at least four sections.

    Candidates are nearest neighbours in the plane, away from the substations' cores (the inner
    30 % of the supply radius). A quarter of the ties join two substations (when there are
    several) and a quarter two feeders of one substation (when it has several), each pair the
    nearest such buses not more than ``max_km`` apart; the rest join the nearest buses of
    different laterals. Ends of laterals are preferred, and each bus takes at most one tie
    where possible.
    """
    if n_ties <= 0:
        return []
    parent = np.asarray(tree.parent, dtype=int)
    depth = np.asarray(tree.depth, dtype=int)
    root = np.asarray(tree.root, dtype=int)
    feeder = np.asarray(tree.feeder, dtype=int)
    segment = np.asarray(tree.segment, dtype=int)
    n = len(parent)
    is_leaf = np.ones(n, dtype=bool)
    is_leaf[parent[parent >= 0]] = False
    outer = radius >= 0.3 * np.quantile(radius[n_sub:], 0.9)
    eligible = np.flatnonzero((depth >= 2) & outer)
    if len(eligible) < 8:
        eligible = np.flatnonzero(depth >= 1)
    if len(eligible) < 2:
        return []
    up = _ancestors(parent)
    chosen: list[tuple[int, int]] = []
    taken: set[tuple[int, int]] = set()
    uses = np.zeros(n, dtype=int)

    def pick(u: np.ndarray, w: np.ndarray, d: np.ndarray, limit: int, max_use: int) -> None:
        a, b = np.minimum(u, w), np.maximum(u, w)
        _, first = np.unique(a.astype(np.int64) * n + b, return_index=True)
        a, b, d = a[first], b[first], d[first]
        ok = (segment[a] != segment[b]) & (_hops(a, b, depth, root, up) >= 4)
        a, b, d = a[ok], b[ok], d[ok]
        score = d * rng.uniform(0.8, 1.25, len(d)) / (1.0 + is_leaf[a] + is_leaf[b])
        for i in np.argsort(score, kind="stable"):
            if len(chosen) >= limit:
                return
            pair = (int(a[i]), int(b[i]))
            if pair in taken or uses[pair[0]] >= max_use or uses[pair[1]] >= max_use:
                continue
            chosen.append(pair)
            taken.add(pair)
            uses[list(pair)] += 1

    def across(
        group: np.ndarray, within: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each eligible bus, the nearest eligible buses of another group (same ``within``)."""
        us, ws, ds = [], [], []
        for g in np.unique(group[eligible]):
            mine = eligible[group[eligible] == g]
            other = eligible[group[eligible] != g]
            if within is not None:
                other = other[within[other] == within[mine[0]]]
            if len(other) == 0:
                continue
            kk = min(3, len(other))
            dist, nb = cKDTree(xy[other]).query(xy[mine], k=kk)
            d = np.asarray(dist).reshape(len(mine), kk).ravel()
            near = d <= max_km
            us.append(np.repeat(mine, kk)[near])
            ws.append(other[np.asarray(nb).reshape(len(mine), kk).ravel()][near])
            ds.append(d[near])
        if not us:
            return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
        return np.concatenate(us), np.concatenate(ws), np.concatenate(ds)

    quota = max(1, round(0.25 * n_ties))
    if n_sub > 1:
        pick(*across(root, None), limit=quota, max_use=1)
    pick(*across(feeder, root), limit=len(chosen) + quota, max_use=1)

    kd = cKDTree(xy[eligible])
    k = 8
    while True:
        kk = min(k + 1, len(eligible))
        dist, nb = kd.query(xy[eligible], k=kk)
        d = np.asarray(dist).reshape(len(eligible), kk)[:, 1:].ravel()
        w = eligible[np.asarray(nb).reshape(len(eligible), kk)[:, 1:].ravel()]
        u = np.repeat(eligible, kk - 1)
        for max_use in (1, 2):
            pick(u, w, d, n_ties, max_use)
        if len(chosen) >= n_ties or kk >= len(eligible):
            return chosen
        k *= 2


def _ancestors(parent: np.ndarray) -> list[np.ndarray]:
    """Binary-lifting table: ``up[j][b]`` is the 2**j-th ancestor of ``b`` (a root stays)."""
    n = len(parent)
    first = np.where(parent >= 0, parent, np.arange(n))
    up = [first]
    span = 1
    while span < n:
        up.append(up[-1][up[-1]])
        span *= 2
    return up


def _hops(
    u: np.ndarray, w: np.ndarray, depth: np.ndarray, root: np.ndarray, up: list[np.ndarray]
) -> np.ndarray:
    """Sections on the tree path between u and w (a large number across substations)."""
    a, b = u.copy(), w.copy()
    swap = depth[a] < depth[b]
    a[swap], b[swap] = w[swap], u[swap]
    diff = depth[a] - depth[b]
    for j, anc in enumerate(up):
        bit = (diff >> j) & 1 == 1
        a[bit] = anc[a[bit]]
    for anc in reversed(up):
        move = anc[a] != anc[b]
        a[move] = anc[a[move]]
        b[move] = anc[b[move]]
    lca = np.where(a == b, a, up[0][a])
    hops = depth[u] + depth[w] - 2 * depth[lca]
    return np.where(root[u] == root[w], hops, 10**9)
