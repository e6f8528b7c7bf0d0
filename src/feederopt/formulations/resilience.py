"""Post-disaster operation: big-M LinDistFlow with line states, load shedding and backup DGs.

The operation model of Zhang, Zhang, Zhang, Wu and Meng, "A multi-disaster-scenario
distributionally robust planning model for enhancing the resilience of distribution systems",
Int. J. Electr. Power Energy Syst. 122:106161, 2020, eqs. (5b)-(5i), as seed 003 implements it,
for one scenario ``s`` (every group named with the scenario's ``prefix``; per unit):

    (5b)  sum_{ji} P_ji - sum_{ij} P_ij + P^g_i = P^d_i - sum_{k at i} P_k s_k   every
          non-source bus i (the same for Q): ``P^d_i`` is all of bus i's load, ``s_k`` in
          [0, 1] the shed share of its sheddable load k (``P_k s_k <= P_k``: each sheddable
          load sheds at most its own demand, P and Q alike); the rest (loads with
          ``sheddable = false``) stays supplied
    (5c)  |U_i - U_j - 2 (r_ij P_ij + x_ij Q_ij)| <= M (1 - v_ij)      (LinDistFlow, big-M)
    (5d)  |P_ij| <= Pbar_ij v_ij,  |Q_ij| <= Pbar_ij v_ij
   (5d') cos(t_k) P_ij + sin(t_k) Q_ij <= Pbar_ij cos(pi/N) v_ij,  t_k = (2k+1) pi/N,
          k = 0..N-1 (N = ``rating_sides``, 16 by default; :func:`rating_polygon`)
          0 <= P^g_k <= Pmax_k y^g_k,  0 <= Q^g_k <= Qmax_k y^g_k       (backup DG at a site)
          vmin_i^2 <= U_i <= vmax_i^2,  U_source = v_set^2
    (5h)  v_ij <= y^h_ij                                                  line broken by the
          disaster: closed only when hardened (v = v^d AND v^w with v^d = y^h OR survives)

``v`` is the final state of a line (working and switched on). ``M = max U - min U`` is the
smallest valid big-M: an open line carries no flow, so the left side of (5c) is a voltage
difference. Radiality, one of (:class:`RadialityKind`):

* ``forest`` (default): the closed lines form a spanning forest: each closed line is oriented
  parent -> child (``b^f + b^b = v``), each bus has at most one parent, sources none, and
  Miller-Tucker-Zemlin depths ``u_j >= u_i + 1 - n (1 - b_ij)`` forbid directed cycles (Jabr,
  Singh and Pal, IEEE TPWRS 27(2), 2012, with roots allowed wherever a tree has no parent: the
  source, a sited DG, or a de-energised island). With in-degree <= 1 every undirected cycle
  would be a directed one, so the closed graph is acyclic.
* ``seed``: the seed's ``sum v <= N - 1`` (Zhang's (5i) "modified into an inequality"), which
  does not exclude loops when some bus is left out; the seed adds a switching penalty per closed
  line to keep solutions tree-like.

Existing generators and shunts (only when the network has some off the source buses;
:func:`_fixed_terms`): they inject only where energised (from a source or a sited DG, ``e``);
where fed from a source (``h``) every one is connected, and in a backup-DG island each bus's
generators (``cg``) and shunts (``cs``) are connected or not on their own:
``h_i <= cg_i, cs_i <= e_i``. The balance (5b) gains ``+ P_gen,i cg_i - g_i U_i cs_i`` and
``+ Q_gen,i cg_i + b_i U_i cs_i``, and the objective ``shed_weight * delta * sum (1 - cg) +
(1 - cs)`` (:func:`connect_epsilon`).

Objective: ``shed_weight * sum_k w_k s_k + line_weight * sum v`` with ``w_k = priority_k P_k``
per sheddable load (``P_k`` when every priority is 1): a load of lower priority is shed before
one of higher priority at the same bus. A tie-break ``+ shed_weight * eps sum_k P_k s_k``
(:func:`shed_epsilon`) makes the model shed no kW it need not shed, so a load of priority 0
is shed only when it has to be (and every method returns the same operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense, diag, incidence, select
from feederopt.formulations.rating import rating_polygon

#: The tie-break weight per p.u. of shed power, relative to the lowest positive priority
#: (:func:`shed_epsilon`).
SHED_EPS = 1e-7

#: The share of the shed tie-break's bound that the connection tie-break may take
#: (:func:`connect_epsilon`).
CONNECT_SHARE = 1e-2

#: First-stage group names (shared by every scenario of an extensive form).
HARDEN = "harden"
SITE = "site"


class RadialityKind(StrEnum):
    """How the operating topology is kept radial (module docstring)."""

    FOREST = "forest"
    SEED = "seed"


@dataclass(frozen=True)
class GridArrays:
    """The per-unit data the operation model needs."""

    n: int
    f: np.ndarray
    t: np.ndarray
    r: np.ndarray
    x: np.ndarray
    p_cap: np.ndarray  # |P|, |Q| limit per line [p.u.]
    is_source: np.ndarray
    p_load: np.ndarray  # per bus [p.u.]
    q_load: np.ndarray
    u_min: np.ndarray  # squared voltage limits
    u_max: np.ndarray
    u_source: np.ndarray  # squared set-point (used at sources)
    dg_bus: np.ndarray  # DG candidate buses
    dg_p_max: np.ndarray  # per candidate [p.u.]
    dg_q_max: np.ndarray
    #: The sheddable loads, one entry each: bus index, P and Q [p.u.] and the objective's
    #: weight of its shed share (``priority P``). None: one per non-source bus with load,
    #: the bus's whole load at priority 1 (every load sheddable, the seed's model).
    shed_bus: np.ndarray | None = None
    shed_p: np.ndarray | None = None
    shed_q: np.ndarray | None = None
    shed_w: np.ndarray | None = None
    #: ``1 / tap**2`` per line (the off-nominal transformer ratio at the from end); None: 1.
    tap2: np.ndarray | None = None
    #: The network's own generators, fixed injections [p.u.] at their set-points: bus index,
    #: P and Q of each (module docstring, "Existing generators and shunts").
    gen_bus: np.ndarray | None = None
    gen_p: np.ndarray | None = None
    gen_q: np.ndarray | None = None
    #: Per bus, the shunts' consumption ``g`` and injection ``b`` at 1 p.u. voltage [p.u.]
    #: (``P = g v^2``, ``Q = b v^2``); None: no shunts.
    sh_g: np.ndarray | None = None
    sh_b: np.ndarray | None = None
    #: Per line, True when it has no switch (``switchable = false``): closed unless broken,
    #: as in ``solve``. None: every line switchable (the seed's cases).
    no_switch: np.ndarray | None = None
    #: Sides N of the regular polygon inscribed in the rating circle ``|S| <= Pbar`` that is
    #: added to the seed's box (5d) (:func:`rating_polygon`); 0: the seed's box alone.
    rating_sides: int = 16
    #: Per line, True when it is open in the network's normal state (a tie): the state from
    #: which the second phase counts switch changes (:func:`second_phase_block`). None: every
    #: line normally closed.
    normally_open: np.ndarray | None = None

    @property
    def m(self) -> int:
        return len(self.f)

    @property
    def a(self) -> np.ndarray:
        """``1 / tap**2`` per line (ones without transformers)."""
        return np.ones(self.m) if self.tap2 is None else np.asarray(self.tap2, float)

    def fixed_elements(self) -> np.ndarray:
        """The buses with a generator or a shunt (they need the energisation model)."""
        has = np.zeros(self.n, bool)
        if self.gen_bus is not None and len(self.gen_bus):
            live = (np.abs(np.asarray(self.gen_p)) > 0) | (np.abs(np.asarray(self.gen_q)) > 0)
            has[np.asarray(self.gen_bus, int)[live]] = True
        for arr in (self.sh_g, self.sh_b):
            if arr is not None:
                has |= np.abs(np.asarray(arr)) > 0
        return has & ~self.is_source

    def sheddable(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The sheddable loads that get a shed share (those at a non-source bus with P or
        Q > 0): their positions among all ``shed_*`` entries (buses by default), bus, P, Q
        and objective weight."""
        if self.shed_bus is None or self.shed_p is None or self.shed_q is None:
            bus = np.arange(self.n)
            p, q = np.asarray(self.p_load, float), np.asarray(self.q_load, float)
            w = p
        else:
            bus = np.asarray(self.shed_bus, int)
            p, q = np.asarray(self.shed_p, float), np.asarray(self.shed_q, float)
            w = p if self.shed_w is None else np.asarray(self.shed_w, float)
        pos = np.flatnonzero(~self.is_source[bus] & ((p > 0) | (q > 0))) if len(bus) else \
            np.zeros(0, int)
        return pos, bus[pos], p[pos], q[pos], w[pos]


def shed_epsilon(p: np.ndarray, w: np.ndarray) -> float:
    """The tie-break weight ``eps`` per p.u. of shed power (module docstring): ``SHED_EPS``
    times the lowest positive priority ``w_k / P_k`` (1 when there is none).

    Why this size: for any operation ``x`` the tie-break term lies in ``[0, eps sum_k P_k]``,
    so the optimum ``x'`` of the perturbed objective has a priority-weighted shed within
    ``eps sum_k P_k`` of the priority-weighted optimum ``x*``
    (``f(x') <= f(x') + eps g(x') <= f(x*) + eps g(x*) <= f(x*) + eps sum P``). With
    ``eps = 1e-7 p_min`` that is at most 1e-7 times the cost of shedding every sheddable load
    at the lowest positive priority: no more than the relative MIP gap (``MIP_GAP = 1e-7`` of
    :mod:`feederopt.algorithms.resilience`) the solves accept on the weighted objective anyway,
    and below every printed digit of the weighted shed of a real case. It is still well above
    the solver's tolerances: a priority-0 load of 10 kW at a 1 MVA base gets an objective
    coefficient of ``1e-9`` times the shed weight (1.4e-5 $ at $14/kW, 1e-6 kW in a
    restoration), above HiGHS's dual feasibility tolerance (1e-7), so ties are broken by shed
    kW. The
    reported costs use ``w`` alone (the operation's ``weighted_shed_pu``)."""
    p = np.asarray(p, float)
    w = np.asarray(w, float)
    ok = p > 0
    prio = w[ok] / p[ok]
    prio = prio[prio > 0]
    return SHED_EPS * (float(prio.min()) if len(prio) else 1.0)


def operation_block(
    g: GridArrays,
    prefix: str,
    broken: np.ndarray,
    *,
    harden_pos: np.ndarray | None = None,
    sites_fixed: np.ndarray | None = None,
    radiality: RadialityKind = RadialityKind.FOREST,
    shed_weight: float = 1.0,
    line_weight: float = 0.0,
) -> Block:
    """The operation model of one scenario (module docstring).

    ``broken``: indices of the lines the disaster breaks. ``harden_pos[l]`` is the position of
    line ``l`` in the first-stage group ``harden`` (-1: not a candidate); without it, broken lines
    are simply open. ``sites_fixed``: 0/1 per DG candidate when the sites are data (Phase 1);
    otherwise the first-stage group ``site`` bounds the DG output.
    """
    n, m = g.n, g.m
    blk = Block()
    v_ub = np.ones(m)
    hardenable = np.zeros(m, bool)
    for line in np.asarray(broken, int):
        if harden_pos is not None and harden_pos[line] >= 0:
            hardenable[line] = True
        else:
            v_ub[line] = 0.0
    v, p_, q_, u, s = (prefix + k for k in ("v", "P", "Q", "U", "shed"))
    fixed_line = np.zeros(m, bool) if g.no_switch is None else np.asarray(g.no_switch, bool)
    v_lb = np.where(fixed_line & (v_ub > 0) & ~hardenable, 1.0, 0.0)
    blk.add_group(Group.new(v, m, v_lb, v_ub, integer=True))
    blk.add_group(Group.new(p_, m, -g.p_cap, g.p_cap))
    blk.add_group(Group.new(q_, m, -g.p_cap, g.p_cap))
    u_lo = np.where(g.is_source, g.u_source, g.u_min)
    u_hi = np.where(g.is_source, g.u_source, g.u_max)
    blk.add_group(Group.new(u, n, u_lo, u_hi))
    _, shed_bus, shed_p, shed_q, shed_w = g.sheddable()
    n_shed = len(shed_bus)
    blk.add_group(Group.new(s, n_shed, 0.0, 1.0))
    k = len(g.dg_bus)
    pg, qg = prefix + "pg", prefix + "qg"
    p_hi, q_hi = g.dg_p_max.astype(float), g.dg_q_max.astype(float)
    if sites_fixed is not None:
        p_hi, q_hi = p_hi * sites_fixed, q_hi * sites_fixed
    blk.add_group(Group.new(pg, k, 0.0, p_hi))
    blk.add_group(Group.new(qg, k, 0.0, q_hi))
    has_fixed = bool(g.fixed_elements().any())
    if sites_fixed is None and has_fixed:  # used by the energisation rows
        blk.add_group(Group.new(SITE, k, 0.0, 1.0, integer=True))
    eye = sp.identity(m, format="csr")
    # (5d) capacity on the line state
    cap = diag(-g.p_cap, m)
    for name, grp in (("p", p_), ("q", q_)):
        blk.add_rows(f"{prefix}cap_{name}_hi", {grp: eye, v: cap}, Sense.LE, np.zeros(m))
        blk.add_rows(f"{prefix}cap_{name}_lo", {grp: -eye, v: cap}, Sense.LE, np.zeros(m))
    if g.rating_sides and m:
        # (5d') |S| <= Pbar: the inscribed polygon (every feasible flow within the rating)
        cos_t, sin_t, share = rating_polygon(g.rating_sides)
        for j, (c, sn) in enumerate(zip(cos_t, sin_t, strict=True)):
            blk.add_rows(f"{prefix}cap_s{j}", {p_: diag(np.full(m, c), m),
                                               q_: diag(np.full(m, sn), m),
                                               v: diag(-share * g.p_cap, m)},
                         Sense.LE, np.zeros(m))
    # (5b) balance at every non-source bus
    loads = np.flatnonzero(~g.is_source)
    net_in = (incidence(n, g.t) - incidence(n, g.f))[loads]
    dg_at = incidence(n, g.dg_bus)[loads]
    n_choices = len(generator_buses(g)) + len(shunt_buses(g))
    fixed, const = _fixed_terms(
        blk, g, prefix, sites_fixed, loads,
        shed_weight * connect_epsilon(shed_p, shed_w, n_choices)) if has_fixed else \
        (({}, {}), (np.zeros(len(loads)), np.zeros(len(loads))))
    for (grp, dg, d, shed), extra, c0 in zip(
            ((p_, pg, g.p_load, shed_p), (q_, qg, g.q_load, shed_q)), fixed, const, strict=True):
        blk.add_rows(f"{prefix}bal_{grp[len(prefix):]}",
                     {grp: net_in, dg: dg_at, s: incidence(n, shed_bus, shed)[loads], **extra},
                     Sense.EQ, d[loads] - c0)
    # (5c) big-M LinDistFlow voltage drop, ``a U_f - U_t = 2 (r P + x Q)`` on a closed line
    # with ``a = 1 / tap**2`` (the ideal transformer at the from end)
    a = g.a
    big_m = np.full(m, max(float(a.max() * u_hi.max() - u_lo.min()),
                           float(u_hi.max() - a.min() * u_lo.min())) if m else 0.0)
    du = select(g.f, n) - select(g.t, n)
    drop = {u: select(g.f, n, a) - select(g.t, n), p_: diag(-2.0 * g.r, m),
            q_: diag(-2.0 * g.x, m)}
    blk.add_rows(f"{prefix}vdrop_hi", {**drop, v: diag(big_m, m)}, Sense.LE, big_m)
    neg = {key: -mat for key, mat in drop.items()}
    blk.add_rows(f"{prefix}vdrop_lo", {**neg, v: diag(big_m, m)}, Sense.LE, big_m)
    # (5h) broken lines close only when hardened
    lines = np.flatnonzero(hardenable)
    if harden_pos is not None:
        n_h = int((harden_pos >= 0).sum())
        blk.add_group(Group.new(HARDEN, n_h, 0.0, 1.0, integer=True))
    if len(lines) and harden_pos is not None:
        blk.add_rows(f"{prefix}survive", {v: select(lines, m),
                                         HARDEN: -select(harden_pos[lines], n_h)},
                     Sense.LE, np.zeros(len(lines)))
        held = lines[fixed_line[lines]]  # no switch: in service (closed) exactly when hardened
        if len(held):
            blk.add_rows(f"{prefix}survive_held", {v: -select(held, m),
                                                   HARDEN: select(harden_pos[held], n_h)},
                         Sense.LE, np.zeros(len(held)))
    if sites_fixed is None and not has_fixed:
        blk.add_group(Group.new(SITE, k, 0.0, 1.0, integer=True))
    if sites_fixed is None and k:
        sel = sp.identity(k, format="csr")
        blk.add_rows(f"{prefix}dg_p", {pg: sel, SITE: diag(-g.dg_p_max, k)}, Sense.LE,
                     np.zeros(k))
        blk.add_rows(f"{prefix}dg_q", {qg: sel, SITE: diag(-g.dg_q_max, k)}, Sense.LE,
                     np.zeros(k))
    if radiality is RadialityKind.SEED:
        blk.add_rows(f"{prefix}count", {v: sp.csr_matrix(np.ones((1, m)))}, Sense.LE,
                     np.array([n - 1.0]))
    else:
        bf, bb, dep = prefix + "bf", prefix + "bb", prefix + "depth"
        blk.add_group(Group.new(bf, m, 0.0, np.where(g.is_source[g.t], 0.0, v_ub),
                                integer=True))
        blk.add_group(Group.new(bb, m, 0.0, np.where(g.is_source[g.f], 0.0, v_ub),
                                integer=True))
        blk.add_rows(f"{prefix}orient", {bf: eye, bb: eye, v: -eye}, Sense.EQ, np.zeros(m))
        blk.add_rows(f"{prefix}one_parent", {bf: incidence(n, g.t), bb: incidence(n, g.f)},
                     Sense.LE, np.ones(n))
        blk.add_group(Group.new(dep, n, 0.0, float(n - 1)))
        big = float(n)
        blk.add_rows(f"{prefix}mtz_f", {dep: du, bf: diag(big, m)}, Sense.LE,
                     np.full(m, big - 1.0))
        blk.add_rows(f"{prefix}mtz_b", {dep: -du, bb: diag(big, m)}, Sense.LE,
                     np.full(m, big - 1.0))
    blk.add_objective(s, shed_weight * shed_costs(g))
    if line_weight:
        blk.add_objective(v, np.full(m, float(line_weight)))
    return blk



def shed_all_point(g: GridArrays, blk: Block, broken: np.ndarray, *,
                   harden_pos: np.ndarray | None = None, harden: np.ndarray | None = None,
                   prefix: str = "", sweeps: int = 3) -> dict[str, np.ndarray] | None:
    """A point of :func:`operation_block`'s ``blk`` (one scenario, the first stage fixed by
    its groups' bounds, ``harden`` the hardening) found without a solver: every sheddable load
    shed (``s = 1``), every backup DG at 0, and every line open but those the block holds
    closed (no switch, working: not ``broken``, or broken and hardened). The held lines form a
    forest (roots: the sources, then any bus), oriented away from the roots, with depths from
    them; on it the flows are LinDistFlow's, lossless, so each line carries what its subtree
    consumes (the firm loads, less the generators, plus the shunts of an energised part), the
    voltages follow (5c) from the roots (``U = v_set^2`` at a source, 1 p.u. elsewhere,
    ``a U_f - U_t = 2 (r P + x Q)``; ``sweeps`` passes, for the shunts' ``g U``, ``b U``),
    and the energisation groups say which parts a source feeds (:func:`_fixed_terms`).

    With every load sheddable and no line held closed this is the shed-everything operation
    (``v = 0``, ``P = Q = 0``): feasible, so a recourse always has an operation
    (complete recourse) worth at most the shedding of every load. In general the point is not
    checked here: ``blk.violation(point)`` says whether it is feasible (firm loads in an
    unfed part, a voltage limit on a held line: not). None: the held lines close a loop."""
    n, m = g.n, g.m
    broken = np.asarray(broken, int)
    held = np.zeros(m, bool) if g.no_switch is None else np.asarray(g.no_switch, bool)
    working = np.ones(m, bool)
    for line in broken.tolist():
        pos = -1 if harden_pos is None else int(harden_pos[line])
        working[line] = pos >= 0 and harden is not None and float(harden[pos]) > 0.5
    closed = held & working
    adj: list[list[int]] = [[] for _ in range(n)]
    for ln in np.flatnonzero(closed).tolist():
        adj[int(g.f[ln])].append(ln)
        adj[int(g.t[ln])].append(ln)
    parent = np.full(n, -1)
    parent_line = np.full(n, -1)
    depth = np.zeros(n)
    fed = np.zeros(n, bool)  # in a part that held lines join to a source
    seen = np.zeros(n, bool)
    order: list[int] = []  # every bus, each after its parent
    for root in [*np.flatnonzero(g.is_source).tolist(), *range(n)]:
        if seen[root]:
            continue
        seen[root] = True
        source = bool(g.is_source[root])
        fed[root] = source
        order.append(root)
        queue = [root]
        while queue:
            u = queue.pop()
            for ln in adj[u]:
                if ln == parent_line[u]:
                    continue
                w = int(g.t[ln]) if int(g.f[ln]) == u else int(g.f[ln])
                if seen[w]:
                    return None  # the held lines close a loop
                seen[w] = True
                parent[w], parent_line[w], depth[w] = u, ln, depth[u] + 1
                fed[w] = source
                order.append(w)
                queue.append(w)
    point = {name: np.clip(np.zeros(grp.size), grp.lb, grp.ub)
             for name, grp in blk.groups.items()}
    _, shed_bus, shed_p, shed_q, _ = g.sheddable()
    point[prefix + "shed"] = np.ones(len(shed_bus))
    point[prefix + "v"] = closed.astype(float)
    if harden is not None and HARDEN in blk.groups:
        point[HARDEN] = np.asarray(harden, float)
    child = np.flatnonzero(parent >= 0)
    down = np.zeros(m)  # +1: the line's parent is its from bus, -1: its to bus
    down[parent_line[child]] = np.where(g.f[parent_line[child]] == parent[child], 1.0, -1.0)
    if prefix + "bf" in blk.groups:
        point[prefix + "bf"] = (down > 0).astype(float)
        point[prefix + "bb"] = (down < 0).astype(float)
        point[prefix + "depth"] = depth
    gp, gq = np.zeros(n), np.zeros(n)
    if g.gen_bus is not None and len(g.gen_bus):
        np.add.at(gp, np.asarray(g.gen_bus, int), np.asarray(g.gen_p, float))
        np.add.at(gq, np.asarray(g.gen_bus, int), np.asarray(g.gen_q, float))
    sh_g = np.zeros(n) if g.sh_g is None else np.asarray(g.sh_g, float)
    sh_b = np.zeros(n) if g.sh_b is None else np.asarray(g.sh_b, float)
    live = fed & g.fixed_elements()  # generators injecting, shunts connected
    firm_p = np.asarray(g.p_load, float) - np.bincount(shed_bus, shed_p, minlength=n)
    firm_q = np.asarray(g.q_load, float) - np.bincount(shed_bus, shed_q, minlength=n)
    a = g.a
    u = np.where(g.is_source, g.u_source, np.clip(1.0, g.u_min, g.u_max))
    p_line, q_line = np.zeros(m), np.zeros(m)

    def subtree(d: np.ndarray) -> np.ndarray:
        """Per line, the flow from its from bus: what the subtree below it consumes."""
        total = np.where(g.is_source, 0.0, d)
        for w in reversed(order):
            if parent[w] >= 0:
                total[parent[w]] += total[w]
        flow = np.zeros(m)
        flow[parent_line[child]] = down[parent_line[child]] * total[child]
        return flow

    for _ in range(max(sweeps, 1)):
        p_line = subtree(firm_p - np.where(live, gp - sh_g * u, 0.0))
        q_line = subtree(firm_q - np.where(live, gq + sh_b * u, 0.0))
        for w in order:
            ln = parent_line[w]
            if ln < 0:
                continue
            drop = 2.0 * (g.r[ln] * p_line[ln] + g.x[ln] * q_line[ln])
            if down[ln] > 0:  # U_t = a U_f - drop
                u[w] = a[ln] * u[parent[w]] - drop
            else:  # U_f = (U_t + drop) / a
                u[w] = (u[parent[w]] + drop) / a[ln]
    point[prefix + "P"], point[prefix + "Q"], point[prefix + "U"] = p_line, q_line, u
    e = fed.astype(float)
    elem = np.flatnonzero(g.fixed_elements())
    if prefix + "e" in blk.groups:
        point[prefix + "e"] = e
        point[prefix + "eb"] = e[elem]
        count = subtree(e)  # the commodity each energised non-source bus consumes
        point[prefix + "F"] = count
        if prefix + "h" in blk.groups:
            point[prefix + "h"] = e
            point[prefix + "FH"] = count
    gen_at, sh_at = generator_buses(g), shunt_buses(g)
    if prefix + "goff" in blk.groups:
        point[prefix + "goff"] = 1.0 - e[gen_at]
        point[prefix + "soff"] = 1.0 - e[sh_at]
    if prefix + "z" in blk.groups:
        at = sh_at if prefix + "soff" in blk.groups else elem
        point[prefix + "z"] = u[at] * e[at]
    return point




@dataclass(frozen=True)
class FirstPhase:
    """What the second phase (:func:`second_phase_block`) keeps of the first phase's
    operation, each as an upper bound: its priority-weighted shed ``sum_k w_k s_k`` and its
    plain shed ``sum_k P_k s_k`` [p.u.]; the number of closed lines when a switching penalty
    prices each (None: free); the number of generator and shunt buses it has off (the
    connection tie-break's count; used only where the model has that choice)."""

    weighted_shed: float
    shed: float
    closed: float | None = None
    off: float | None = None


#: The group of the second phase's voltage deviations, one per sited DG
#: (:func:`second_phase_block`).
DEVIATION = "dev"

#: The group of the second phase's line losses, one per line (:func:`second_phase_block`).
LOSS = "loss"

#: The group of the second phase's least margin, one entry (:func:`margin_rows`).
MARGIN = "margin"

#: Tangents per sign of ``P^2`` (and ``Q^2``) in the second phase's losses
#: (:func:`loss_rows`), at ``j / LOSS_TANGENTS`` of the line's capacity, ``j = 1..``.
LOSS_TANGENTS = 8


def shed_costs(g: GridArrays) -> np.ndarray:
    """The first phase's objective per shed share, ``w_k + eps P_k`` (:func:`shed_epsilon`),
    per unit of shed weight."""
    _, _, shed_p, _, shed_w = g.sheddable()
    return np.asarray(shed_w, float) + shed_epsilon(shed_p, shed_w) * np.asarray(shed_p, float)


def island_reference(g: GridArrays) -> np.ndarray:
    """Per bus, the squared voltage the second phase steers an island's grid-forming DG to:
    the sources' set-point (the mean of their squared set-points when there are several),
    clipped into the bus's band ``[vmin^2, vmax^2]``. An island so formed runs at the voltage
    of the feeder it was cut from (the AC check's reference for it, and the voltage it must
    match to be reconnected), not at whichever edge of the band an LP vertex gives."""
    src = np.asarray(g.u_source, float)[np.asarray(g.is_source, bool)]
    ref = float(src.mean()) if len(src) else 1.0
    return np.clip(np.full(g.n, ref), g.u_min, g.u_max)


def switch_change_costs(g: GridArrays, v_lb: np.ndarray, v_ub: np.ndarray) -> np.ndarray:
    """Per line, the objective coefficient of ``v`` that counts the switch changes from the
    normal state: ``+1`` for a normally open line (closing it is one operation), ``-1`` for a
    normally closed one (opening it is one; the constant, their number, is left out), ``0``
    for a line whose state is fixed (broken, or closed without a switch)."""
    tie = np.zeros(g.m, bool) if g.normally_open is None else np.asarray(g.normally_open, bool)
    movable = np.asarray(v_lb, float) < np.asarray(v_ub, float)
    return np.where(movable, np.where(tie, 1.0, -1.0), 0.0)


def switch_changes(g: GridArrays, closed: np.ndarray, v_lb: np.ndarray,
                   v_ub: np.ndarray) -> int:
    """The number of lines whose state ``closed`` (0/1) differs from the normal state, among
    those the operation may switch (:func:`switch_change_costs`)."""
    tie = np.zeros(g.m, bool) if g.normally_open is None else np.asarray(g.normally_open, bool)
    movable = np.asarray(v_lb, float) < np.asarray(v_ub, float)
    now = np.asarray(closed, float) > 0.5
    return int(np.count_nonzero(movable & (now == tie)))


def second_phase_block(g: GridArrays, broken: np.ndarray, sites_fixed: np.ndarray,
                       radiality: RadialityKind, first: FirstPhase, *, scale: float,
                       tol: float, dispatch: bool = False) -> Block:
    """The second phase of an operation (Phase 1 restoration or a plan's scenario, the plan
    fixed: ``broken`` the lines out of service, ``sites_fixed`` the DGs): among the
    operations that are as good as the first phase's ``first``, the one with the fewest
    switch changes from the normal state (``GridArrays.normally_open``); a lexicographic
    optimisation (Ehrgott, *Multicriteria Optimization*, 2nd ed., Springer 2005, sec. 5.1):

        min  sum_l c_l v_l                       c_l = +1 normally open, -1 normally closed
        s.t. the operation (:func:`operation_block`) with a zero objective,
             scale sum_k w_k s_k <= scale W_1 + tol,   scale sum_k P_k s_k <= scale S_1 + tol,
             sum_l v_l <= V_1          (when a switching penalty prices the closed lines),
             sum goff + sum soff <= C_1  (when the model chooses connections in DG islands)

    so the first phase's objective (shed, its tie-breaks and the penalty) is not worse, up to
    ``tol`` (in the units of ``scale``: kW with ``scale`` the kW per p.u.). Within ``tol`` a
    vertex may shed a little more for nothing (1e-6 kW, 7e-6 $ on zhang13's B_C_p2): the
    caller re-solves the chosen topology with the first phase's shed costs
    (:func:`shed_costs`), an LP, for the least shed of that topology. It also has the
    group :data:`DEVIATION`, ``d_k >= |U_b - U_ref,b|`` at each sited DG's bus ``b``
    (:func:`island_reference`), with no cost here: the caller prices the DGs that form an
    island once the topology is chosen (their set-point is otherwise any point of an LP's
    optimal face, often at a band edge). ``dispatch``: also the groups :data:`LOSS`
    (:func:`loss_rows`) and :data:`MARGIN` (:func:`margin_rows`), with no cost here either:
    the caller prices them for the dispatch of the DGs fed from a source, every binary fixed
    (a block of its own, so that the MILP of the fewest switches and its LPs are as they
    were: their HiGHS tolerances, their vertices)."""
    blk = operation_block(g, "", np.asarray(broken, int), sites_fixed=sites_fixed,
                          radiality=radiality, shed_weight=0.0, line_weight=0.0)
    blk.objective.clear()
    _, _, shed_p, _, shed_w = g.sheddable()
    if len(shed_p):
        for name, w, cap in (("keep_weighted_shed", shed_w, first.weighted_shed),
                             ("keep_shed", shed_p, first.shed)):
            blk.add_rows(name, {"shed": sp.csr_matrix(scale * np.asarray(w, float)[None, :])},
                         Sense.LE, np.array([scale * cap + tol]))
    v = blk.groups["v"]
    if first.closed is not None:
        blk.add_rows("keep_closed", {"v": sp.csr_matrix(np.ones((1, g.m)))}, Sense.LE,
                     np.array([float(first.closed)]))
    offs: dict[str, sp.spmatrix] = {k: sp.csr_matrix(np.ones((1, blk.groups[k].size)))
            for k in ("goff", "soff") if k in blk.groups and blk.groups[k].size}
    if first.off is not None and offs:
        blk.add_rows("keep_connected", offs, Sense.LE, np.array([float(first.off)]))
    blk.add_objective("v", switch_change_costs(g, v.lb, v.ub))
    sited = g.dg_bus[np.asarray(sites_fixed, float) > 0.5]
    k = len(sited)
    blk.add_group(Group.new(DEVIATION, k, 0.0, np.inf))
    if k:
        ref = island_reference(g)[sited]
        one = sp.identity(k, format="csr")
        at = select(sited, g.n)
        blk.add_rows("dev_hi", {"U": at, DEVIATION: -one}, Sense.LE, ref)
        blk.add_rows("dev_lo", {"U": -at, DEVIATION: -one}, Sense.LE, -ref)
    if dispatch:
        loss_rows(blk, g)
        margin_rows(blk, g)
    return blk


def margin_rows(blk: Block, g: GridArrays) -> None:
    """The group :data:`MARGIN`, one ``mu`` in ``[0, 1]``: the least margin, as a share, of
    every limit the dispatch of a DG may move away from. At each bus ``b`` that is not a
    source ``U_b >= u_min,b + mu (U_ref - u_min,b)`` and ``U_b <= u_max,b - mu (u_max,b -
    U_ref)`` (``U_ref`` :func:`island_reference`, within the band: ``mu = 1`` is the
    feeder's set-point); at each line ``|P_k|, |Q_k| <= (1 - mu) P_cap,k`` and each face of
    the rating polygon (:func:`~feederopt.formulations.rating.rating_polygon`)
    ``cos(t) P_k + sin(t) Q_k <= (1 - mu) share P_cap,k``. ``mu = 0`` is every operation of
    the model; maximising ``mu`` is the max-min margin (the Chebyshev point of the limits,
    Boyd and Vandenberghe, *Convex Optimization*, 2004, sec. 8.5.1). A de-energised bus has
    no line to bind it (its ``U`` is free in the band, ``U_ref`` meets both rows), an open
    line no flow."""
    n, m = g.n, g.m
    blk.add_group(Group.new(MARGIN, 1, 0.0, 1.0))
    col = np.ones((1, 1))
    load = np.flatnonzero(~np.asarray(g.is_source, bool))
    if len(load):
        ref = island_reference(g)[load]
        lo = np.asarray(g.u_min, float)[load]
        hi = np.asarray(g.u_max, float)[load]
        at = select(load, n)
        ones = sp.csr_matrix(np.ones((len(load), 1)))
        # u_min + mu (ref - u_min) - U <= 0;  U + mu (u_max - ref) <= u_max
        blk.add_rows("margin_v_lo", {"U": -at, MARGIN: sp.diags(np.maximum(ref - lo, 0.0))
                                     @ ones}, Sense.LE, -lo)
        blk.add_rows("margin_v_hi", {"U": at, MARGIN: sp.diags(np.maximum(hi - ref, 0.0))
                                     @ ones}, Sense.LE, hi)
    if not m:
        return
    cap = np.asarray(g.p_cap, float)
    eye = sp.identity(m, format="csr")
    caps = sp.csr_matrix(cap[:, None] * col)
    for name, grp in (("p", "P"), ("q", "Q")):
        for sign, tag in ((1.0, "hi"), (-1.0, "lo")):
            blk.add_rows(f"margin_{name}_{tag}", {grp: sign * eye, MARGIN: caps}, Sense.LE, cap)
    if g.rating_sides:
        cos_t, sin_t, share = rating_polygon(g.rating_sides)
        for j, (c, sn) in enumerate(zip(cos_t, sin_t, strict=True)):
            blk.add_rows(f"margin_s{j}", {"P": diag(np.full(m, c), m),
                                          "Q": diag(np.full(m, sn), m),
                                          MARGIN: share * caps}, Sense.LE, share * cap)


def loss_rows(blk: Block, g: GridArrays) -> None:
    """The group :data:`LOSS`, ``l_k >= r_k (P_k^2 + Q_k^2)`` per line ``k`` in p.u., from
    below by tangents: ``l_k >= r_k (2 a P_k - a^2 + 2 b Q_k - b^2)`` for every pair of
    points ``a, b`` in ``{0, +-j/N P_cap,k}`` (``N`` :data:`LOSS_TANGENTS`), written as
    ``l_k = lp_k + lq_k`` with ``lp_k >= r_k (2 a P_k - a^2)`` and the same for ``Q``.
    ``r (P^2 + Q^2)`` is DistFlow's series loss of a line at 1 p.u. (Baran and Wu, IEEE
    TPWRD 4(2), 1989, eq. (1): ``r (P^2 + Q^2) / v^2``), which LinDistFlow drops; with every
    tangent at most ``P_cap / N`` apart the cut's error is at most ``r (P_cap / 2N)^2`` a
    flow. Costed by the caller (the dispatch of the DGs fed from a source, a minimum of the
    model's losses: flows, so margins, away from the line ratings and the voltage band)."""
    m = g.m
    blk.add_group(Group.new(LOSS, 2 * m, 0.0, np.inf))
    if not m:
        return
    eye = sp.identity(m, format="csr")
    pick = (sp.hstack([eye, sp.csr_matrix((m, m))]).tocsr(),
            sp.hstack([sp.csr_matrix((m, m)), eye]).tocsr())
    r = np.asarray(g.r, float)
    for (name, grp), at in zip((("p", "P"), ("q", "Q")), pick, strict=True):
        for j in range(1, LOSS_TANGENTS + 1):
            for sign in (1.0, -1.0):
                a = sign * j / LOSS_TANGENTS * np.asarray(g.p_cap, float)
                # r (2 a P - a^2) <= l  <=>  2 r a P - l <= r a^2
                blk.add_rows(f"loss_{name}_{j}_{'+' if sign > 0 else '-'}",
                             {grp: diag(2.0 * r * a, m), LOSS: -at}, Sense.LE, r * a * a)


def loss_costs(g: GridArrays) -> np.ndarray:
    """The objective per entry of :data:`LOSS` (:func:`loss_rows`): 1 each, the model's
    series losses in p.u."""
    return np.ones(2 * g.m)


def connect_epsilon(p: np.ndarray, w: np.ndarray, n_choices: int) -> float:
    """The tie-break weight per disconnected generator or shunt bus of a backup-DG island
    (:func:`_fixed_terms`): ``CONNECT_SHARE * eps * sum_k P_k / n_choices`` with ``eps`` of
    :func:`shed_epsilon` and ``n_choices`` the number of connection binaries (``cg`` and ``cs``).

    Why this size: the term lies in ``[0, CONNECT_SHARE eps sum_k P_k]`` for every operation,
    so (by the argument of :func:`shed_epsilon`) it moves the priority-weighted shed of the
    optimum by at most 1 % of the bound of the shed tie-break itself (1e-9 of shedding every
    load at the lowest priority): the least shed comes first, then the least shed kW, then
    the most elements connected. On the planner's net of ut_res (10.35 MW, 1 MVA base, 3
    choices) it is 3.45e-9 p.u. per choice, 3.45e-6 in a restoration's kW objective, above
    HiGHS's dual feasibility tolerance (1e-7). It is a tie-break within the solver's
    tolerances, like the shed one: a MILP stopped at its gap may leave an element off that
    could stay on at the same shed."""
    p = np.asarray(p, float)
    total = float(p[p > 0].sum()) if p.size else 0.0
    return CONNECT_SHARE * shed_epsilon(p, w) * (total if total > 0 else 1.0) / max(n_choices, 1)


def _fixed_terms(blk: Block, g: GridArrays, prefix: str, sites_fixed: np.ndarray | None,
                 loads: np.ndarray, connect_weight: float
                 ) -> tuple[tuple[dict[str, sp.csr_matrix], dict[str, sp.csr_matrix]],
                            tuple[np.ndarray, np.ndarray]]:
    """The energisation of the buses with a generator or a shunt, their connection, and their
    terms in the P and Q balances of the buses ``loads`` (module docstring, "Existing
    generators and shunts").

    *Energised* (from a source or a sited DG): ``e`` in [0, 1] per bus (1 at sources), equal
    at the ends of a closed line (``|e_i - e_j| <= 1 - v_ij``) and binary (``eb``) at the
    buses with elements; a commodity flow ``F`` (``|F_ij| <= n v_ij``) in which every
    non-source bus consumes ``e_i``, supplied only by sources and sited DGs
    (``0 <= sup_k <= n y^g_k``): a part is energised only when a closed path joins it to one.

    *Fed from a source*: ``h`` in [0, 1] per bus, ``h = 1`` at sources,
    ``|h_i - h_j| <= 1 - v_ij``, and a second commodity flow ``FH`` (``|FH_ij| <= n v_ij``) in
    which every non-source bus consumes ``h_i``, supplied by the sources alone. In a part that
    closed lines join to a source ``h = 1`` (it equals the source's across closed lines); in
    any other part (a backup-DG island, a de-energised part) the flow balance sums to
    ``sum h_i = 0``, so ``h = 0``. No integrality is needed.

    *Connection*, per element bus: binaries ``cg_i`` (its generators inject) at the buses with
    generators and ``cs_i`` (its shunts are connected) at the buses with shunts, with
    ``h_i <= cg_i <= eb_i`` and ``h_i <= cs_i <= eb_i``: in a part fed from a source every
    generator and shunt is connected, in a de-energised part none, and in a backup-DG island
    each bus's generators and shunts separately are the model's choice (the operator's
    switching). They are modelled by their complements ``goff = 1 - cg``, ``soff = 1 - cs``
    with the objective term ``connect_weight (goff + soff)`` (:func:`connect_epsilon`): at
    equal shed, elements stay connected. ``z = U cs`` at the shunt buses (exact for binary
    ``cs``: ``u_lo cs <= z <= u_hi cs``, ``U - u_hi (1 - cs) <= z <= U - u_lo (1 - cs)``,
    McCormick).

    With no DG sited (``sites_fixed`` all 0) no island can form, so ``h = e`` and
    ``cg = cs = eb``: the ``h`` rows and the connection binaries are left out, the terms are
    on ``eb`` and ``z = U eb`` (the same McCormick rows on ``eb``).

    Returns the P and Q terms ``+ P_gen,i cg_i - g_i z_i`` and ``+ Q_gen,i cg_i + b_i z_i``
    (``P_gen cg = P_gen - P_gen goff``: the constant goes to the right-hand side, returned
    as the P and Q amounts to subtract from it per row of ``loads``)."""
    n, m = g.n, g.m
    elem = np.flatnonzero(g.fixed_elements())
    ne = len(elem)
    v = prefix + "v"
    e, eb, fl, sup, z = (prefix + k for k in ("e", "eb", "F", "sup", "z"))
    h, fh, goff, soff = (prefix + k for k in ("h", "FH", "goff", "soff"))
    blk.add_group(Group.new(e, n, np.where(g.is_source, 1.0, 0.0), 1.0))
    blk.add_group(Group.new(eb, ne, 0.0, 1.0, integer=True))
    blk.add_rows(f"{prefix}e_bin", {e: select(elem, n), eb: -sp.identity(ne, format="csr")},
                 Sense.EQ, np.zeros(ne))
    de = select(g.f, n) - select(g.t, n)
    eye = sp.identity(m, format="csr")
    net_in = (incidence(n, g.t) - incidence(n, g.f))[loads]
    big_flow = diag(-float(n), m)
    # without a sited DG (``sites_fixed`` all 0) no island can form: ``h = e`` and the
    # connection is the energisation itself (``cg = cs = eb``), so those rows are left out
    islands = sites_fixed is None or bool(np.any(np.asarray(sites_fixed, float) > 0.5))
    for var, flow, tag in ((e, fl, "e"), (h, fh, "h"))[:2 if islands else 1]:
        if var == h:
            blk.add_group(Group.new(h, n, np.where(g.is_source, 1.0, 0.0), 1.0))
        blk.add_rows(f"{prefix}{tag}_same_f", {var: de, v: eye}, Sense.LE, np.ones(m))
        blk.add_rows(f"{prefix}{tag}_same_t", {var: -de, v: eye}, Sense.LE, np.ones(m))
        blk.add_group(Group.new(flow, m, -float(n), float(n)))
        blk.add_rows(f"{prefix}{tag}_flow_hi", {flow: eye, v: big_flow}, Sense.LE, np.zeros(m))
        blk.add_rows(f"{prefix}{tag}_flow_lo", {flow: -eye, v: big_flow}, Sense.LE,
                     np.zeros(m))
    if islands:
        blk.add_rows(f"{prefix}h_bal", {fh: net_in, h: -select(loads, n)}, Sense.EQ,
                     np.zeros(len(loads)))
    k = len(g.dg_bus)
    hi = float(n) * (np.ones(k) if sites_fixed is None else np.asarray(sites_fixed, float))
    blk.add_group(Group.new(sup, k, 0.0, hi))
    if sites_fixed is None and k:
        blk.add_rows(f"{prefix}e_sup", {sup: sp.identity(k, format="csr"),
                                        SITE: diag(-float(n), k)}, Sense.LE, np.zeros(k))
    blk.add_rows(f"{prefix}e_bal", {fl: net_in, sup: incidence(n, g.dg_bus)[loads],
                                    e: -select(loads, n)}, Sense.EQ, np.zeros(len(loads)))
    gp = np.zeros(n)
    gq = np.zeros(n)
    if g.gen_bus is not None and len(g.gen_bus):
        np.add.at(gp, np.asarray(g.gen_bus, int), np.asarray(g.gen_p, float))
        np.add.at(gq, np.asarray(g.gen_bus, int), np.asarray(g.gen_q, float))
    sh_g = np.zeros(n) if g.sh_g is None else np.asarray(g.sh_g, float)
    sh_b = np.zeros(n) if g.sh_b is None else np.asarray(g.sh_b, float)
    pos = {int(b): r for r, b in enumerate(loads)}
    if not islands:  # ``cg = cs = eb``: the terms on ``eb`` and ``z = U eb`` (McCormick)
        _voltage_product(blk, g, prefix, elem, eb, complement=False)
        rows = np.array([pos[int(b)] for b in elem], int)

        def on_eb(w: np.ndarray) -> sp.csr_matrix:
            return sp.csr_matrix((w, (rows, np.arange(ne))), shape=(len(loads), ne))

        zero = np.zeros(len(loads))
        return (({eb: on_eb(gp[elem]), z: on_eb(-sh_g[elem])},
                 {eb: on_eb(gq[elem]), z: on_eb(sh_b[elem])}), (zero, zero.copy()))
    gen_at, sh_at = generator_buses(g), shunt_buses(g)
    epos = {int(b): r for r, b in enumerate(elem)}
    # goff and soff, each bounded by ``h`` (connected where fed) and ``eb`` (not where dead)
    for off, at, tag in ((goff, gen_at, "g"), (soff, sh_at, "s")):
        cnt = len(at)
        one = sp.identity(cnt, format="csr")
        blk.add_group(Group.new(off, cnt, 0.0, 1.0, integer=True))
        # h_i <= 1 - off_i ;  1 - off_i <= eb_i
        blk.add_rows(f"{prefix}{tag}_fed", {off: one, h: select(at, n)}, Sense.LE,
                     np.ones(cnt))
        blk.add_rows(f"{prefix}{tag}_live", {off: -one, eb: -select(
            np.array([epos[int(b)] for b in at], int), ne)}, Sense.LE, -np.ones(cnt))
        if cnt and connect_weight > 0:
            blk.add_objective(off, np.full(cnt, float(connect_weight)))
    _voltage_product(blk, g, prefix, sh_at, soff, complement=True)  # z = U cs, cs = 1 - soff
    # rows: the balance rows of ``loads``; columns: the generator / shunt buses

    def mat(at: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
        rows = np.array([pos[int(b)] for b in at], int)
        return sp.csr_matrix((w, (rows, np.arange(len(at)))), shape=(len(loads), len(at)))

    return (({goff: mat(gen_at, -gp[gen_at]), z: mat(sh_at, -sh_g[sh_at])},
             {goff: mat(gen_at, -gq[gen_at]), z: mat(sh_at, sh_b[sh_at])}),
            (gp[loads], gq[loads]))


def _voltage_product(blk: Block, g: GridArrays, prefix: str, buses: np.ndarray, binary: str,
                     *, complement: bool) -> None:
    """The group ``z`` (one per bus of ``buses``) with ``z = U c``, ``c`` the binary group
    ``binary`` (``c = x``) or its complement (``complement``: ``c = 1 - x``), exact for binary
    ``x`` by McCormick's envelope on ``U`` in ``[u_lo, u_hi]``: ``u_lo c <= z <= u_hi c``,
    ``U - u_hi (1 - c) <= z <= U - u_lo (1 - c)``. With ``c = o + s x`` (``o, s`` = 0, 1 or
    1, -1) each row is linear in ``x``."""
    n, cnt = g.n, len(buses)
    u_lo, u_hi = g.u_min[buses], g.u_max[buses]
    o, sg = (1.0, -1.0) if complement else (0.0, 1.0)
    z, u = prefix + "z", prefix + "U"
    blk.add_group(Group.new(z, cnt, 0.0, u_hi))
    one = sp.identity(cnt, format="csr")
    ub = select(buses, n)
    blk.add_rows(f"{prefix}z_hi", {z: one, binary: diag(-sg * u_hi, cnt)}, Sense.LE, o * u_hi)
    blk.add_rows(f"{prefix}z_lo", {z: -one, binary: diag(sg * u_lo, cnt)}, Sense.LE,
                 -o * u_lo)
    blk.add_rows(f"{prefix}z_u_hi", {z: one, u: -ub, binary: diag(-sg * u_lo, cnt)}, Sense.LE,
                 -(1.0 - o) * u_lo)
    blk.add_rows(f"{prefix}z_u_lo", {z: -one, u: ub, binary: diag(sg * u_hi, cnt)}, Sense.LE,
                 (1.0 - o) * u_hi)


def generator_buses(g: GridArrays) -> np.ndarray:
    """The non-source buses with a generator of nonzero P or Q (sorted)."""
    has = np.zeros(g.n, bool)
    if g.gen_bus is not None and len(g.gen_bus):
        live = (np.abs(np.asarray(g.gen_p)) > 0) | (np.abs(np.asarray(g.gen_q)) > 0)
        has[np.asarray(g.gen_bus, int)[live]] = True
    return np.flatnonzero(has & ~g.is_source)


def shunt_buses(g: GridArrays) -> np.ndarray:
    """The non-source buses with a shunt of nonzero ``g`` or ``b`` (sorted)."""
    has = np.zeros(g.n, bool)
    for arr in (g.sh_g, g.sh_b):
        if arr is not None:
            has |= np.abs(np.asarray(arr)) > 0
    return np.flatnonzero(has & ~g.is_source)


def first_stage_block(n_harden: int, n_sites: int, harden_cost: np.ndarray,
                      site_cost: np.ndarray, harden_budget: int, site_budget: int) -> Block:
    """Hardening ``y^h`` and DG-siting ``y^g`` binaries with their budgets
    (``sum y^h <= H``, ``sum y^g <= G``) and the investment ``C^h y^h + C^g y^g``."""
    blk = Block()
    blk.add_group(Group.new(HARDEN, n_harden, 0.0, 1.0, integer=True))
    blk.add_group(Group.new(SITE, n_sites, 0.0, 1.0, integer=True))
    if n_harden:
        blk.add_rows("budget_harden", {HARDEN: sp.csr_matrix(np.ones((1, n_harden)))},
                     Sense.LE, np.array([float(harden_budget)]))
        blk.add_objective(HARDEN, harden_cost)
    if n_sites:
        blk.add_rows("budget_site", {SITE: sp.csr_matrix(np.ones((1, n_sites)))}, Sense.LE,
                     np.array([float(site_budget)]))
        blk.add_objective(SITE, site_cost)
    return blk
