"""The maths of the 24-hour two-stage robust dynamic reconfiguration of seed 004 (Sci. Rep.
14:23041, 2024), with the printed model's errors fixed, as :class:`Block`s.

Indices: hours ``h = 0..H-1``, buses ``n``, branches ``b = (f, t)``; vectors over ``(h, .)``
are stored hour-major (``h * size + i``). Units: MW, MVAr, MWh (one-hour steps), squared
voltage magnitudes ``v`` [p.u.^2]; impedances in p.u. of a 1 MVA base, so ``r P^2`` is in MW.

First stage (here and now): the branch states ``y_b`` (one topology per day, or ``y_{b,h}``
with ``hourly=True``), radial by the parent-child model of Jabr, Singh & Pal (IEEE TPWRS 27(2),
2012; :func:`feederopt.formulations.radiality.parent_child`: every non-root bus has exactly one
parent, the substation none, the seed's (27)-(29) with its reversed verbal definition fixed),
and the storage modes ``z_{s,h}`` (1 discharge, 0 charge). Valid rows that every radial
topology satisfies tighten the LP relaxation without changing the optimum: the bridges fixed
closed (:func:`always_closed`), the loop and chain rows (:func:`loop_rows`) and flow bounds per
hour and bridge (:func:`flow_bounds`). With ``hourly=True`` a switching
action costs ``c_sw``: ``a_{b,h} >= |y_{b,h} - y_{b,h-1}|``. With ``commit=True`` also the
day-ahead commitment ``u_{g,h}`` of the fossil DG (1 on), at the no-load cost ``c0_g u_{g,h}``
($ per hour on): the two-stage robust unit commitment of Bertsimas, Litvinov, Sun, Zhao &
Zheng (IEEE TPWRS 28(1), 2013) and of Zeng & Zhao's own C&CG example (Oper. Res. Lett. 41(5),
2013), where commitment is the here-and-now decision and dispatch the recourse.

Second stage (wait and see, for a realisation ``xi``), the seed's (2)-(26) with fixes:

* (2)-(3) balance at bus ``n``: ``[n = root] ps_h + sum pdg + sum (pdis - pch) + sum pres + pr
  - sum_{b: f=n} P_b + sum_{b: t=n} P_b = pdr + sum pev``; the same for ``q`` with
  ``qr = k_{n,h} pr``, ``qdr = k_{n,h} pdr`` with the bus's power factor ratio of the hour
  ``k_{n,h} = sum_i q_i f_i(h) / sum_i p_i f_i(h)`` over its loads ``i`` (nominal ``p_i``,
  ``q_i``, profile factors ``f_i(h)``): without DSM ``qdr`` is then each load's ``q_i`` times
  its own profile, ``sum_i q_i f_i(h) (1 + gamma (xp - xm))``, also where loads of one bus
  follow different profiles (before, ``k_n`` was the bus's ratio over the whole day); the
  curtailment
  ``0 <= pr <= pdr`` (a bus sheds at most what it consumes). The substation
  purchase is at the substation bus only (the printed model has it at every bus).
  LinDistFlow is lossless, so ``ps`` is the purchase *without* the losses, which the seed's
  (1) prices separately (``c_l``). No export: ``ps >= 0``.
* Import limit (the substation transformer's rating ``S``, ``--import-limit``): the
  substation supplies the hour's losses too, so ``ps_h + sum_b (lp_{b,h} + lq_{b,h}) <= S``
  (row ``import``, left out where it cannot bind: :func:`import_row_needed`). ``lp``, ``lq``
  are the loss model's epigraph variables below, at the tangents' value at an optimum, which
  under-estimates ``r P^2`` by up to 25 % between two tangent points; pandapower's ext_grid
  import is the net demand plus the AC losses, and the hourly AC check
  (:mod:`feederopt.validation.schedule`) compares it with ``S``. The seed's model has no such
  row (its (2)-(3) balance has no loss term; with a bound on ``ps`` alone the AC import
  exceeded ``S`` by the losses, 2.54-2.56 MW at ``S`` = 2.5 MW on case33bw in the user test
  ut_sched).
* (6)-(11) demand-side management: ``(1-eps) pd_{n,h}(xi) <= pdr_{n,h} <= (1+eps) pd_{n,h}(xi)``,
  ``sum_n pdr_{n,h} = sum_n pd_{n,h}(xi)``.
* (12)-(13) ``|P_b|, |Q_b| <= F y_b``.
* (14) LinDistFlow (Baran & Wu, IEEE TPWRD 4(2), 1989) with the big-M the printed model forgets:
  ``|v_t - a_b v_f + 2 (r P + x Q)| <= M_b (1 - y_b)``, ``M_b = max(v_max,t^2 - a_b v_min,f^2,
  a_b v_max,f^2 - v_min,t^2)`` (an open branch has ``P = Q = 0``; :func:`voltage_big_m`);
  ``a_b = 1 / tap_b^2`` for a transformer's off-nominal ratio at the from end (1 elsewhere).
* The network's own generators (pandapower ``sgen``; a ``gen`` at the substation) are fixed
  injections ``p_fix``, ``q_fix`` per bus and hour on the balance rows' right-hand sides. A
  ``gen`` elsewhere injects its ``p_fix`` and holds its bus at its set-point: ``v = v_set^2``
  there, with its reactive power ``qpv`` free within its limits (second stage; a PV bus).
* (15) ``v_min^2 <= v <= v_max^2``, root at its set-point.
* (16)-(17) fossil DG ``0 <= pdg <= p_max``, ``0 <= qdg <= q_max``; with commitment
  ``p_min u <= pdg <= p_max u``, ``qdg <= q_max u`` (``u`` fixed in the second stage, so it
  enters right-hand sides only and the worst-case dual keeps its form).
* (18)-(21) storage: ``pdis <= P_s z``, ``pch <= P_s (1 - z)``, ``soc_h = soc_{h-1} + eta_ch pch
  - k pdis`` with ``k = eta_dis`` (the seed's form) or ``1/eta_dis`` (the physical one),
  ``0 <= soc <= E_s``, ``soc_{-1} = soc0 E_s <= soc_{H-1}``.
* (22)-(23) renewables ``pres + spill = p_hat (1 - dev xr)`` (use plus curtailment).
* (24) EV: ``0 <= pev_{k,h} <= a_{k,h} P_k`` and the daily energy ``sum_h pev + short_k >=
  E_k`` (with the seed's lower bound 0 alone the optimiser never charges); ``E_k`` is the
  station's whole requirement, also where it exceeds ``sum_h a_{k,h} P_k`` (that part is
  unmet in every schedule: :meth:`ScheduleData.ev_undeliverable`).
* Loss term of (1), ``c_l r (P^2 + Q^2)``: a piecewise-linear outer approximation by the
  tangents of the perspective ``r P^2 / y`` (Frangioni & Gentile, Math. Program. 106(2),
  2006), ``lp >= r (2 a P - a^2 y)`` at the tangent points ``a in +-A`` (and ``lp >= 0``), the
  same for ``Q``: a linear model that HiGHS solves as a MILP and whose dual the subproblem
  needs (the loss of the flows found is reported exactly, ``r (P^2 + Q^2)``). For a binary
  ``y`` these are the plain tangents ``r (2 a P - a^2)`` (``y = 1``) or ``lp >= 0`` with
  ``P = 0`` (``y = 0``): the same feasible set, so the same optimum; but a fractional ``y``
  no longer splits a flow over half-closed branches at a quarter of its loss (the LP
  relaxation's weakness).

Objective of a realisation: ``c_l sum (lp + lq) + sum_h c_s,h ps_h + c_r sum pr + sum c_dg pdg
+ c_r sum short + c_rc sum spill`` (the seed's (1) prices load curtailment; DG is free there).
The purchase price ``c_s,h`` [$/MWh] is per hour (a time-of-use or day-ahead market price: the
profile element ``price``), the seed's one ``c_s`` for every hour by default
(:meth:`ScheduleData.buy_price`); it is ``>= 0`` (the input checks refuse a negative one).

Uncertainty (the realisation ``xi``): ``pd_{n,h}(xi) = pd_{n,h} (1 + gamma (xp - xm))``,
``q`` with it, ``xp + xm <= 1``, and renewables ``p_hat (1 - dev xr)``; the budgets are in
:func:`budget_rows`. Renewables deviate only downwards: more renewable energy can be spilled at
no cost (``c_rc = 0``), so it never raises the cost, and the worst case is among the downward
points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Sense, incidence
from feederopt.formulations.radiality import parent_child
from feederopt.network.topology import (
    bridges,
    components_of,
    max_spanning_forest,
    switch_blocks,
)

UNCERTAIN = ("xp", "xm", "xr")


@dataclass(frozen=True)
class ScheduleData:
    """Arrays of one schedule problem (see the module docstring for the symbols)."""

    hours: int
    n: int
    root: int
    f: np.ndarray
    t: np.ndarray
    r: np.ndarray
    x: np.ndarray
    switchable: np.ndarray
    v_min2: np.ndarray
    v_max2: np.ndarray
    v_root2: float
    pd: np.ndarray  # (H, n) MW
    k_q: np.ndarray  # (H, n) q/p of each bus's loads per hour (an (n,) array: every hour)
    dg_bus: np.ndarray
    dg_p: np.ndarray
    dg_q: np.ndarray
    dg_cost: np.ndarray
    ess_bus: np.ndarray
    ess_e: np.ndarray
    ess_p: np.ndarray
    eta_ch: np.ndarray
    eta_dis: np.ndarray
    soc0: np.ndarray  # MWh
    res_bus: np.ndarray
    res_hat: np.ndarray  # (H, U) MW
    res_dev: np.ndarray  # (U,)
    ev_bus: np.ndarray
    ev_max: np.ndarray  # (H, K) MW
    ev_energy: np.ndarray  # (K,) MWh
    # settings
    eps: float = 0.0
    gamma: float = 0.0
    budget_load: np.ndarray | None = None  # (n,) hours; 0 where the bus is certain
    budget_res: np.ndarray | None = None  # (U,) hours
    aggregate: tuple[float, float] | None = None  # (low, high) ratio band per hour
    c_loss: float = 50.0
    c_buy: float | np.ndarray = 50.0  # $/MWh: one for every hour, or (H,) per hour
    c_shed: float = 500.0
    c_spill: float = 0.0
    c_switch: float = 0.0
    ps_max: float = 100.0
    flow_max: float = 10.0  # |P_b| bound [MW]: the day's largest total consumption
    flow_max_q: float = 10.0  # |Q_b| bound [MVAr]: reactive load plus DG reactive capacity
    physical_soc: bool = False
    hourly: bool = False
    commit: bool = False  # day-ahead DG commitment u_{g,h} in the first stage
    dg_pmin: np.ndarray | None = None  # (G,) MW when committed
    dg_c0: np.ndarray | None = None  # (G,) $ per committed hour
    tangents: tuple[float, ...] = (0.05, 0.15, 0.4, 1.0, 2.5)
    fixed_open: np.ndarray | None = None  # (m,) bool: branches kept open all day
    # radiality by the cycle rows alone when every simple cycle is enumerated
    # (:func:`radiality_cycles`, opt-in: measured not faster, docs/schedule.md "Speed",
    # session 53); False: parent-child
    cycle_radiality: bool = False
    # the network's own generators (pandapower sgens, gen at the substation) as fixed hourly
    # injections [MW, MVAr], (H, n); None: none
    p_fix: np.ndarray | None = None
    q_fix: np.ndarray | None = None
    # the same per generator (their per-bus sums are p_fix, q_fix; for the result's series):
    # buses (K,), outputs (H, K) [MW, MVAr]; a voltage-controlling gen's Q is 0 here (its
    # reactive power is the second-stage qpv of its bus)
    gen_bus: np.ndarray | None = None
    gen_p: np.ndarray | None = None
    gen_q: np.ndarray | None = None
    # 1 / tap^2 per branch (the off-nominal ratio at the from end, as in
    # :mod:`feederopt.network.perunit`); None: every tap 1
    tap2: np.ndarray | None = None
    # buses whose voltage a generator holds (pandapower gen, PV buses; their squared set-points
    # are v_min2 = v_max2 there) and the reactive range of those generators [MVAr], (K,):
    # second-stage ``qpv`` on the reactive balance; None: none
    pv_bus: np.ndarray | None = None
    pv_qmin: np.ndarray | None = None
    pv_qmax: np.ndarray | None = None
    # the network's shunts (capacitor banks and reactors at their steps, and the charging and
    # conductance of the branches that never switch) at 1 p.u., (n,): the active power they
    # draw [MW] and the reactive power they inject [MVAr]; None: none
    shunt_p: np.ndarray | None = None
    shunt_q: np.ndarray | None = None
    # the shunts of the switchable branches at 1 p.u., (n, m): what each bus draws [MW] and
    # gains [MVAr] per unit of a branch's state ``y`` (the ends' charging when closed, less the
    # open end's that ``shunt_p``, ``shunt_q`` hold when open); None: none
    y_shunt_p: np.ndarray | None = None
    y_shunt_q: np.ndarray | None = None

    @property
    def m(self) -> int:
        return len(self.f)

    def ev_undeliverable(self) -> np.ndarray:
        """The EV energy [MWh] no schedule can deliver, per station, (K,): ``max(0, E_k -
        sum_h a_{k,h} P_k)``, the requirement above what the charger can deliver at its rating
        times its availability over the horizon. It stays in the model as the unmet energy
        ``short_k`` (bounded below by it), priced at ``c_shed`` as any unmet EV energy."""
        return np.maximum(self.ev_energy - self.ev_max.sum(0), 0.0)

    def buy_price(self) -> np.ndarray:
        """``c_s,h``, the substation purchase price [$/MWh] of each hour, (H,): ``c_buy`` given
        per hour, or one value for every hour."""
        price = np.asarray(self.c_buy, float)
        if price.ndim == 0:
            return np.full(self.hours, float(price))
        if price.shape != (self.hours,):
            raise ValueError(f"c_buy has shape {price.shape}: one price, or one per hour "
                             f"({self.hours},)")
        return price.copy()

    def taps2(self) -> np.ndarray:
        """``1 / tap^2`` per branch (ones without transformer taps)."""
        return self.tap2 if self.tap2 is not None else np.ones(self.m)

    def pv(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(pv_bus, pv_qmin, pv_qmax)`` (empty without voltage-controlled buses)."""
        if self.pv_bus is None or self.pv_qmin is None or self.pv_qmax is None:
            return np.zeros(0, int), np.zeros(0), np.zeros(0)
        return self.pv_bus, self.pv_qmin, self.pv_qmax

    def kq(self) -> np.ndarray:
        """``k_{n,h}`` as (H, n): the reactive demand per MW of each bus's demand per hour,
        ``sum_i q_i f_i(h) / sum_i p_i f_i(h)`` over the bus's loads (module docstring)."""
        return np.broadcast_to(np.asarray(self.k_q, float), (self.hours, self.n))

    def generator_injection(self) -> tuple[np.ndarray, np.ndarray]:
        """``(p_fix, q_fix)``, (H, n) fixed injections of the network's own generators."""
        z = np.zeros((self.hours, self.n))
        return (self.p_fix if self.p_fix is not None else z,
                self.q_fix if self.q_fix is not None else z)

    def fixed_injection(self) -> tuple[np.ndarray, np.ndarray]:
        """(H, n) fixed injections of the balance rows: the network's own generators
        (:meth:`generator_injection`) and its shunts as constant powers at 1 p.u.
        (LinDistFlow's level of approximation: ``b v`` with ``v = 1``), ``p_fix - g``,
        ``q_fix + b``."""
        p, q = self.generator_injection()
        if self.shunt_p is not None:
            p = p - self.shunt_p[None, :]
        if self.shunt_q is not None:
            q = q + self.shunt_q[None, :]
        return p, q

    @property
    def sizes(self) -> dict[str, int]:
        return {"dg": len(self.dg_bus), "ess": len(self.ess_bus), "res": len(self.res_bus),
                "ev": len(self.ev_bus)}

    def y_groups(self) -> list[str]:
        return [f"h{h}.y" for h in range(self.hours)] if self.hourly else ["y"]

    def first_stage_groups(self) -> list[str]:
        return [*self.y_groups(), "z", *(["u"] if self.commit else [])]

    def no_load_cost(self) -> np.ndarray:
        """``c0_g`` per unit-hour, hour-major (the first-stage cost of ``u``)."""
        c0 = self.dg_c0 if self.dg_c0 is not None else np.zeros(len(self.dg_bus))
        return np.tile(c0, self.hours)


def _kron_hours(h: int, a: sp.spmatrix) -> sp.csr_matrix:
    return sp.csr_matrix(sp.kron(sp.identity(h), a))


def first_stage_block(d: ScheduleData) -> Block:
    """Radiality of the topology (per day or per hour; parent-child on the switch-block graph,
    or with ``d.cycle_radiality`` the cycle rows alone (:func:`tree_by_cycles`) when
    :func:`radiality_cycles` enumerates every simple cycle of that graph; the
    :func:`always_closed` branches fixed), the loop and chain rows of :func:`loop_rows`, the
    storage modes and, hourly, the switching actions and their cost."""
    is_source = np.zeros(d.n, bool)
    is_source[d.root] = True
    block = Block()
    may_open = ~always_closed(d)
    tree_cycles = radiality_cycles(d)
    by_cycles = tree_cycles is not None

    def radial() -> Block:
        if tree_cycles is not None:
            return tree_by_cycles(d, tree_cycles)
        return parent_child(d.n, d.f, d.t, is_source, may_open, contract=True)

    if not d.hourly:
        block.merge(radial())
    else:
        from feederopt.formulations.partition import rename

        for h in range(d.hours):
            block.merge(rename(radial(), f"h{h}.", keep=()))
        m = d.m
        block.add_group(Group.new("act", (d.hours - 1) * m, 0.0, 1.0))
        block.add_objective("act", np.full((d.hours - 1) * m, d.c_switch))
        eye = sp.identity(m, format="csr")
        for h in range(1, d.hours):
            sel = sp.csr_matrix(sp.hstack([sp.csr_matrix((m, (h - 1) * m)), eye,
                                           sp.csr_matrix((m, (d.hours - 1 - h) * m))]))
            for sign in (1.0, -1.0):
                block.add_rows(f"act_{h}_{sign:+.0f}", {
                    f"h{h}.y": sign * eye, f"h{h - 1}.y": -sign * eye, "act": -sel},
                    Sense.LE, np.zeros(m))
    sets = loop_sets(d)  # once: the same sets for every hour's y (24 enumerations before)
    for g in d.y_groups():
        loop_rows(d, block, g, sets, cycles=not by_cycles)
    s = len(d.ess_bus)
    block.add_group(Group.new("z", d.hours * s, 0.0, 1.0, integer=True))
    if d.commit:
        block.add_group(Group.new("u", d.hours * len(d.dg_bus), 0.0, 1.0, integer=True))
        block.add_objective("u", d.no_load_cost())
    return block


def cost_floor(d: ScheduleData) -> float:
    """A lower bound of every schedule's cost, robust or not: ``sum_g sum_i min(c_i lb_i,
    c_i ub_i)`` over the objective terms of the first stage (:func:`first_stage_block`:
    switching actions ``c_sw a``, no-load costs ``c0 u``) and of the second
    (:func:`recourse_block` with the realisation as variables, so for every realisation of
    the budget set: losses ``c_loss (lp + lq)``, purchase ``price_h ps_h``, curtailment and
    unmet EV energy ``c_shed``, DG energy ``c_g pdg``, spill ``c_spill``), each variable within
    its bounds (a box relaxation; C&CG's master is ``c1(x) + theta`` with ``theta >=
    Q(x, xi)``). Every such price is validated ``>= 0`` (settings, profile ``price`` and
    device tables) on a variable ``>= 0`` (``ps`` in ``0..ps_max``: no export), so the floor
    is 0; ``-inf`` if a term were unbounded below. The bound a run reports when its master
    proved none in time (user test ut45_sched #8: the robust run printed ``-inf`` where the
    deterministic one printed 0)."""
    total = 0.0
    for block in (first_stage_block(d), recourse_block(d)):
        for g, c in block.objective.items():
            grp = block.groups[g]
            c = np.asarray(c, float)
            lb = np.broadcast_to(np.asarray(grp.lb, float), c.shape)
            ub = np.broadcast_to(np.asarray(grp.ub, float), c.shape)
            with np.errstate(invalid="ignore"):
                low = np.where(c > 0, c * lb, np.where(c < 0, c * ub, 0.0))
            total += float(low.sum())
    return total


def recourse_block(d: ScheduleData, xi: dict[str, np.ndarray] | None = None) -> Block:
    """The second stage for the first-stage groups (``y`` or ``h*.y``, ``z``) and the
    realisation ``xi`` (groups ``xp``, ``xm``, ``xr``): data groups when ``xi`` is given,
    otherwise binary variables (the subproblem's). The first-stage groups are added as
    placeholders that :meth:`Block.merge` joins with the first stage's."""
    H, n, m = d.hours, d.n, d.m
    G, S, U, K = (len(d.dg_bus), len(d.ess_bus), len(d.res_bus), len(d.ev_bus))
    b = Block()
    y_ub = np.where(d.fixed_open, 0.0, 1.0) if d.fixed_open is not None else 1.0
    y_lb = np.where(always_closed(d), 1.0, 0.0)
    for g in d.y_groups():
        b.add_group(Group.new(g, m, y_lb, y_ub, integer=True))
    b.add_group(Group.new("z", H * S, 0.0, 1.0, integer=True))
    if d.commit:
        b.add_group(Group.new("u", H * G, 0.0, 1.0, integer=True))
    for name, size in (("xp", H * n), ("xm", H * n), ("xr", H * U)):
        if xi is not None:
            b.add_group(Group.data(name, np.asarray(xi.get(name, np.zeros(size)), float)))
        else:
            b.add_group(Group.new(name, size, 0.0, 1.0, integer=True))
    fp, fq = flow_bounds(d)
    F, FQ = fp.ravel(), fq.ravel()
    b.add_group(Group.new("P", H * m, -F, F))
    b.add_group(Group.new("Q", H * m, -FQ, FQ))
    vlo = np.tile(d.v_min2, H)
    vhi = np.tile(d.v_max2, H)
    roots = np.arange(H) * n + d.root
    vlo[roots] = vhi[roots] = d.v_root2
    b.add_group(Group.new("v", H * n, vlo, vhi))
    b.add_group(Group.new("lp", H * m, 0.0, np.inf))
    b.add_group(Group.new("lq", H * m, 0.0, np.inf))
    b.add_group(Group.new("ps", H, 0.0, d.ps_max))
    b.add_group(Group.new("qs", H, -d.ps_max, d.ps_max))
    b.add_group(Group.new("pdg", H * G, 0.0, np.tile(d.dg_p, H)))
    b.add_group(Group.new("qdg", H * G, 0.0, np.tile(d.dg_q, H)))
    b.add_group(Group.new("pch", H * S, 0.0, np.tile(d.ess_p, H)))
    b.add_group(Group.new("pdis", H * S, 0.0, np.tile(d.ess_p, H)))
    soc_lo = np.zeros(H * S)
    soc_lo[(H - 1) * S:] = d.soc0
    b.add_group(Group.new("soc", H * S, soc_lo, np.tile(d.ess_e, H)))
    b.add_group(Group.new("pres", H * U, 0.0, d.res_hat.ravel()))
    b.add_group(Group.new("spill", H * U, 0.0, d.res_hat.ravel()))
    b.add_group(Group.new("pev", H * K, 0.0, d.ev_max.ravel()))
    b.add_group(Group.new("short", K, 0.0, d.ev_energy))
    top = d.pd * (1 + d.eps) * (1 + d.gamma)
    b.add_group(Group.new("pdr", H * n, 0.0, top.ravel()))
    b.add_group(Group.new("pr", H * n, 0.0, np.inf))  # <= pdr: row "shed_cap"
    b.add_group(Group.new("dem", H * n, -np.inf, np.inf))
    pv_bus, pv_lo, pv_hi = d.pv()
    if len(pv_bus):  # the reactive power that holds a PV bus at its set-point
        b.add_group(Group.new("qpv", H * len(pv_bus), np.tile(pv_lo, H), np.tile(pv_hi, H)))

    eye_m = sp.identity(H * m, format="csr")
    # (12)-(13): flows only on closed branches
    for g, cap in (("P", F), ("Q", FQ)):
        ysel = _y_terms(d, cap)
        for sign in (1.0, -1.0):
            b.add_rows(f"cap_{g}{sign:+.0f}", {g: sign * eye_m, **_neg(ysel)}, Sense.LE,
                       np.zeros(H * m))
    # (14) LinDistFlow with big-M on open branches
    big = np.tile(voltage_big_m(d), H)
    # v_t - v_f / tap^2 (the series impedance sees the from-end voltage behind the tap)
    dv = _kron_hours(H, incidence(n, d.t).T - sp.diags(d.taps2()) @ incidence(n, d.f).T)
    rP = sp.diags(np.tile(2 * d.r, H)).tocsr()
    xQ = sp.diags(np.tile(2 * d.x, H)).tocsr()
    ybig = _y_terms(d, big)
    b.add_rows("ldf_hi", {"v": dv, "P": rP, "Q": xQ, **ybig}, Sense.LE, big)
    b.add_rows("ldf_lo", {"v": -dv, "P": -rP, "Q": -xQ, **ybig}, Sense.LE, big)
    # loss tangents of the perspective r P^2 / y: r (2 a P - a^2 y) - lp <= 0
    rr = np.tile(d.r, H)
    for g, lg in (("P", "lp"), ("Q", "lq")):
        for a in d.tangents:
            ya = _y_terms(d, -rr * a * a)
            for sign in (1.0, -1.0):
                b.add_rows(f"loss_{g}_{sign * a:g}", {g: sp.diags(2 * sign * a * rr).tocsr(),
                                                      lg: -eye_m, **ya}, Sense.LE,
                           np.zeros(H * m))
    # (2)-(3) balance
    net = _kron_hours(H, incidence(n, d.t) - incidence(n, d.f))  # inflow - outflow
    root = sp.csr_matrix((np.ones(H), (np.arange(H) * n + d.root, np.arange(H))),
                         shape=(H * n, H))

    def at(buses: np.ndarray) -> sp.csr_matrix:
        return _kron_hours(H, incidence(n, buses))

    eye_n = sp.identity(H * n, format="csr")
    p_fix, q_fix = d.fixed_injection()  # the network's own generators: constant injections
    kq = sp.diags(d.kq().ravel()).tocsr()
    p_terms = {"ps": root, "pdg": at(d.dg_bus), "pdis": at(d.ess_bus),
               "pch": -at(d.ess_bus), "pres": at(d.res_bus), "pr": eye_n, "P": net,
               "pdr": -eye_n, "pev": -at(d.ev_bus)}
    if d.y_shunt_p is not None:  # the switchable branches' conductance, drawn when closed
        p_terms.update(_y_bus_terms(d, -d.y_shunt_p))
    b.add_rows("bal_p", p_terms, Sense.EQ, -p_fix.ravel())
    q_terms = {"qs": root, "qdg": at(d.dg_bus), "pr": kq, "Q": net, "pdr": -kq}
    if d.y_shunt_q is not None:  # and their charging, injected when closed
        q_terms.update(_y_bus_terms(d, d.y_shunt_q))
    if len(pv_bus):
        q_terms["qpv"] = at(pv_bus)
    b.add_rows("bal_q", q_terms, Sense.EQ, -q_fix.ravel())
    # the import limit with the hour's modelled losses: ps_h + sum_b (lp + lq)_{b,h} <= S
    if import_row_needed(d):
        hsum_m = _kron_hours(H, sp.csr_matrix(np.ones((1, m))))
        b.add_rows("import", {"ps": sp.identity(H, format="csr"), "lp": hsum_m, "lq": hsum_m},
                   Sense.LE, np.full(H, d.ps_max))
    # the realised demand: the only rows where the load's xi enters (one entry per row, so
    # that the worst-case subproblem bounds one multiplier per uncertain entry)
    pd = d.pd.ravel()
    g_pd = sp.diags(d.gamma * pd).tocsr()
    b.add_rows("demand", {"dem": eye_n, "xp": -g_pd, "xm": g_pd}, Sense.EQ, pd)
    # (6)-(11) demand-side management within +-eps of the realised demand, each hour's total
    # conserved
    b.add_rows("dsm_hi", {"pdr": eye_n, "dem": -(1 + d.eps) * eye_n}, Sense.LE, np.zeros(H * n))
    b.add_rows("dsm_lo", {"pdr": -eye_n, "dem": (1 - d.eps) * eye_n}, Sense.LE,
               np.zeros(H * n))
    hsum = _kron_hours(H, sp.csr_matrix(np.ones((1, n))))
    # curtailment sheds at most the bus's (shifted) demand: pr <= pdr (a cap on pr alone let
    # a bus "shed" more than it consumes, an injection at c_shed)
    b.add_rows("shed_cap", {"pr": eye_n, "pdr": -eye_n}, Sense.LE, np.zeros(H * n))
    b.add_rows("dsm_total", {"pdr": hsum, "dem": -hsum}, Sense.EQ, np.zeros(H))
    # (18)-(21) storage
    if S:
        eye_s = sp.identity(H * S, format="csr")
        pcap = sp.diags(np.tile(d.ess_p, H)).tocsr()
        b.add_rows("ess_dis", {"pdis": eye_s, "z": -pcap}, Sense.LE, np.zeros(H * S))
        b.add_rows("ess_ch", {"pch": eye_s, "z": pcap}, Sense.LE, np.tile(d.ess_p, H))
        shift = sp.csr_matrix(sp.kron(sp.eye(H, k=-1), sp.identity(S)))
        k_dis = 1.0 / d.eta_dis if d.physical_soc else d.eta_dis
        rhs = np.zeros(H * S)
        rhs[:S] = d.soc0
        b.add_rows("soc", {"soc": eye_s - shift, "pch": -sp.diags(np.tile(d.eta_ch, H)).tocsr(),
                           "pdis": sp.diags(np.tile(k_dis, H)).tocsr()}, Sense.EQ, rhs)
    # (16)-(17) with day-ahead commitment: p_min u <= pdg <= p_max u, qdg <= q_max u
    if d.commit and G:
        eye_g = sp.identity(H * G, format="csr")
        pmin = d.dg_pmin if d.dg_pmin is not None else np.zeros(G)
        b.add_rows("dg_on_hi", {"pdg": eye_g, "u": -sp.diags(np.tile(d.dg_p, H)).tocsr()},
                   Sense.LE, np.zeros(H * G))
        b.add_rows("dg_on_lo", {"pdg": -eye_g, "u": sp.diags(np.tile(pmin, H)).tocsr()},
                   Sense.LE, np.zeros(H * G))
        b.add_rows("dg_on_q", {"qdg": eye_g, "u": -sp.diags(np.tile(d.dg_q, H)).tocsr()},
                   Sense.LE, np.zeros(H * G))
    # (22)-(23) renewables
    if U:
        eye_u = sp.identity(H * U, format="csr")
        hat = d.res_hat.ravel()
        b.add_rows("res", {"pres": eye_u, "spill": eye_u,
                           "xr": sp.diags(hat * np.tile(d.res_dev, H)).tocsr()}, Sense.EQ, hat)
    # (24) EV energy over the day
    if K:
        daily = sp.csr_matrix(sp.kron(np.ones((1, H)), sp.identity(K)))
        b.add_rows("ev_energy", {"pev": -daily, "short": -sp.identity(K, format="csr")},
                   Sense.LE, -d.ev_energy)
    # objective (1)
    b.add_objective("lp", np.full(H * m, d.c_loss))
    b.add_objective("lq", np.full(H * m, d.c_loss))
    b.add_objective("ps", d.buy_price())
    b.add_objective("pr", np.full(H * n, d.c_shed))
    b.add_objective("pdg", np.tile(d.dg_cost, H))
    b.add_objective("short", np.full(K, d.c_shed))
    b.add_objective("spill", np.full(H * U, d.c_spill))
    return b


def import_row_needed(d: ScheduleData) -> bool:
    """Can the row ``import`` (``ps_h + sum_b (lp + lq)_{b,h} <= S``) bind at an optimum?

    ``ps_h <= C_h``, the most the hour can consume (:func:`flow_bounds`: nothing is exported),
    and at an optimum ``lp, lq`` sit at the tangents' value, below ``r F^2`` and ``r FQ^2`` for
    the flow bounds ``F``, ``FQ``. When ``S >= C_h + sum_b r_b (F_{h,b}^2 + FQ_{h,b}^2)`` in
    every hour the row holds at every optimum of the second stage without it, so leaving it out
    changes no optimal value (the default ``S`` = 100 MW on the built-in feeders: their LPs, and
    the optimal vertices the solver returns, stay as they were)."""
    fp, fq = flow_bounds(d)
    p_fix, _ = d.fixed_injection()
    cons = ((1 + d.gamma) * np.maximum(d.pd, 0.0).sum(1) + d.ess_p.sum()
            + (d.ev_max.sum(1) if d.ev_max.size else 0.0) + np.maximum(-p_fix, 0.0).sum(1))
    loss = (d.r * (fp ** 2 + fq ** 2)).sum(1)
    return bool(np.any(d.ps_max < cons + loss))


def loss_tangent(row_name: str) -> float | None:
    """The tangent point ``a`` [MW] of a loss row ``loss_P_{a}`` / ``loss_Q_{a}`` of
    :func:`recourse_block` (also with a copy's prefix ``e{k}.``), None for other rows."""
    head, _, tail = row_name.rpartition("loss_")
    if not tail or (head and not head.endswith(".")) or tail[:2] not in ("P_", "Q_"):
        return None
    try:
        return float(tail[2:])
    except ValueError:
        return None


def voltage_big_m(d: ScheduleData) -> np.ndarray:
    """The per-branch ``M_b`` of (14): an open branch carries no flow (rows (12)-(13) force
    ``P_b = Q_b = 0`` when ``y_b = 0``), so ``|v_t - v_f| <= max(v_max,t - v_min,f,
    v_max,f - v_min,t)`` (squared limits, the root at its set-point) is all the big-M needs
    to relax: an exact, tighter value than ``v_max^2 - v_min^2 + 2 (r F + x F_Q)``."""
    lo, hi = d.v_min2.copy(), d.v_max2.copy()
    lo[d.root] = hi[d.root] = d.v_root2
    a = d.taps2()
    return np.maximum(hi[d.t] - a * lo[d.f], a * hi[d.f] - lo[d.t]) + 1e-9


def always_closed(d: ScheduleData) -> np.ndarray:
    """Branches closed in every radial topology that serves every bus: the non-switchable
    ones and the bridges of the graph of the branches that may close (not fixed open). With
    one source, opening a bridge cuts the buses on its far side off the substation, which the
    radiality rows forbid (every non-root bus has a parent); this is the bridge reduction of
    the core's presolve (:func:`feederopt.problems.presolve.must_close`)."""
    may = ~_fixed_open(d)
    out = ~d.switchable.copy()
    out[np.flatnonzero(may)] |= bridges(d.n, d.f[may], d.t[may])
    return out & may


def _fixed_open(d: ScheduleData) -> np.ndarray:
    return d.fixed_open if d.fixed_open is not None else np.zeros(d.m, bool)


def loop_sets(d: ScheduleData, max_basis: int = 10) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The cycles and the chains of :func:`_loop_sets` (its docstring)."""
    cycles, chains, _ = _loop_sets(d, max_basis)
    return cycles, chains


#: The most simple cycles for which the master's radiality is the cycle rows alone
#: (:func:`tree_by_cycles`); above it, or when the cycles are not all enumerated, parent-child.
CYCLE_RADIALITY_MAX = 1023


def radiality_cycles(d: ScheduleData) -> list[np.ndarray] | None:
    """Every simple cycle of the switch-block graph (:func:`loop_sets`) when they are all
    enumerated (cyclomatic number at most 10), at most :data:`CYCLE_RADIALITY_MAX` of them
    and ``d.cycle_radiality``; else None (the master's radiality is then parent-child)."""
    if not d.cycle_radiality:
        return None
    cycles, _, complete = _loop_sets(d)
    return cycles if complete and len(cycles) <= CYCLE_RADIALITY_MAX else None


def tree_by_cycles(d: ScheduleData, cycles: list[np.ndarray]) -> Block:
    """Radiality by edge count and cycles alone: the branch states ``y`` (the
    :func:`always_closed` ones fixed closed) with ``sum_{e may open} y_e = B - 1`` on the
    switch-block graph (``B`` blocks: buses joined by always-closed branches merged,
    :func:`~feederopt.network.topology.switch_blocks`) and the row ``sum_{e in C} y_e <=
    |C| - 1`` of each of ``cycles``. With EVERY simple cycle ``C`` of that graph
    (:func:`radiality_cycles`; they include the branches with both ends in one block, length
    one, and parallel pairs; branches fixed open are in none, their ``y`` is 0) this is
    exact: the closed edges are acyclic (every cycle of a graph contains a simple one) and
    number ``B - 1``, and an acyclic graph on ``B`` nodes with ``B - 1`` edges is connected
    (a forest with ``k`` trees has ``B - k`` edges), i.e. a spanning tree of the blocks: every
    bus is served from the one substation and the grid is radial. Conversely every radial
    topology that serves every bus is such a tree. These are the integer points of the
    cycle-elimination (subtour) form of the spanning-tree polytope (Magnanti & Wolsey,
    Handbook in OR&MS 7, 1995), which is all the master needs: no orientation binaries or
    depth labels (cf. :func:`parent_child`). With
    several sources the same holds after merging every source block into one super-root
    node: the simple cycles of the merged graph include every path between two sources, the
    count is ``B - S`` (``S`` source blocks), and a spanning tree of the merged graph is a
    forest of the blocks with exactly one source per tree; the schedule has one substation
    (``d.root``), so no merge is needed here. Exact only with every simple cycle: a fundamental
    basis alone admits a closed cycle (the sum of two basis cycles) with a cut-off part."""
    is_source = np.zeros(d.n, bool)
    is_source[d.root] = True
    may_open = ~always_closed(d)
    _, has_source = switch_blocks(d.n, d.f, d.t, may_open, is_source)
    block = Block()
    block.add_group(Group.new("y", d.m, lb=np.where(may_open, 0.0, 1.0),
                              ub=np.where(_fixed_open(d), 0.0, 1.0), integer=True))
    k = float(len(has_source) - int(has_source.sum()))
    row = sp.csr_matrix(may_open.astype(float)[None, :])
    block.add_rows("rad_count", {"y": row}, Sense.EQ, np.array([k]))
    _set_rows(block, "y", "rad_cycle", cycles, 1.0, d.m)
    return block


def _loop_sets(d: ScheduleData, max_basis: int = 10
               ) -> tuple[list[np.ndarray], list[np.ndarray], bool]:
    """The cycles and the chains of the branches that may open (index arrays over branches).

    On the graph of the switch blocks (buses joined by :func:`always_closed` branches merged,
    :func:`feederopt.network.topology.switch_blocks`) with the branches that may open as edges:

    * every cycle (all of them when the cyclomatic number is at most ``max_basis``, the
      ``2^k - 1`` sums over GF(2) of a fundamental cycle basis that are simple cycles; else the
      basis), for ``sum_{e in C} (1 - y_e) >= 1``: a radial topology has no loop (the loop
      inequalities of the spanning-tree polytope, Magnanti & Wolsey, Handbook in OR&MS 7,
      1995). A branch whose ends are in one block is a cycle of length one (always open).
    * every chain (a maximal path through blocks with two such edges), for ``sum_{e in chain}
      (1 - y_e) <= 1``: two open branches of a chain cut off the blocks between them (one
      side then has no source), the series-branch argument of the core's switch-block
      contraction (Taylor & Hover, IEEE TPWRS 27(3), 2012).

    The third value: whether the cycles are every simple cycle of that graph."""
    may = ~always_closed(d) & ~_fixed_open(d)
    is_source = np.zeros(d.n, bool)
    is_source[d.root] = True
    labels, _ = switch_blocks(d.n, d.f, d.t, ~always_closed(d) | _fixed_open(d), is_source)
    edges = np.flatnonzero(may)
    a, c = labels[d.f[edges]], labels[d.t[edges]]
    cycles = [np.array([e]) for e, u, v in zip(edges, a, c, strict=True) if u == v]
    keep = a != c
    edges, a, c = edges[keep], a[keep], c[keep]
    nb = int(labels.max()) + 1 if d.n else 0
    # chains: maximal runs of edges through blocks of degree two
    deg = np.bincount(a, minlength=nb) + np.bincount(c, minlength=nb)
    inc: list[list[int]] = [[] for _ in range(nb)]
    for k, (u, v) in enumerate(zip(a, c, strict=True)):
        inc[u].append(k)
        inc[v].append(k)
    chains: list[np.ndarray] = []
    seen = np.zeros(len(edges), bool)
    for k in range(len(edges)):
        if seen[k]:
            continue
        run, todo = {k}, [int(a[k]), int(c[k])]
        while todo:
            u = todo.pop()
            if deg[u] != 2:
                continue
            for j in inc[u]:
                if j not in run:
                    run.add(j)
                    todo += [int(a[j]), int(c[j])]
        seen[list(run)] = True
        if len(run) > 1:
            chains.append(np.sort(edges[list(run)]))
    # cycles: a fundamental basis from a spanning forest (Kruskal), then its simple sums
    none = np.zeros(len(edges), bool)
    tree = max_spanning_forest(nb, a, c, np.zeros(len(edges)), none, np.zeros(nb, bool))
    basis = []
    t_idx = np.flatnonzero(tree)
    for k in np.flatnonzero(~tree).tolist():
        # the tree path between the ends of k closes its fundamental cycle
        keep_k = np.zeros(len(edges), bool)
        keep_k[t_idx] = True
        basis.append(_cycle_of(nb, a, c, keep_k, int(k)))
    if 0 < len(basis) <= max_basis:
        found = set()
        for mask in range(1, 2 ** len(basis)):
            vec = np.zeros(len(edges), bool)
            for i, cyc in enumerate(basis):
                if mask >> i & 1:
                    vec ^= cyc
            if _is_simple_cycle(nb, a[vec], c[vec]):
                found.add(tuple(np.flatnonzero(vec)))
        vecs = [np.array(f) for f in sorted(found)]
    else:
        vecs = [np.flatnonzero(cyc) for cyc in basis]
    cycles += [np.sort(edges[v]) for v in vecs]
    return cycles, chains, len(basis) <= max_basis


def _cycle_of(nb: int, a: np.ndarray, c: np.ndarray, tree: np.ndarray, k: int) -> np.ndarray:
    """Edge mask of the cycle that edge ``k`` closes with the path of ``tree`` edges."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(nb)]
    for j in np.flatnonzero(tree).tolist():
        adj[int(a[j])].append((int(c[j]), j))
        adj[int(c[j])].append((int(a[j]), j))
    src, dst = int(a[k]), int(c[k])
    via: dict[int, int] = {src: -1}
    todo = [src]
    while todo and dst not in via:
        node = todo.pop()
        for w, j in adj[node]:
            if w not in via:
                via[w] = j
                todo.append(w)
    out = np.zeros(len(a), bool)
    out[k] = True
    u = dst
    while u != src:
        j = via[u]
        out[j] = True
        u = int(a[j]) if int(c[j]) == u else int(c[j])
    return out


def _is_simple_cycle(nb: int, a: np.ndarray, c: np.ndarray) -> bool:
    """Do the edges ``(a, c)`` form one simple cycle (every touched node of degree two, one
    connected piece)?"""
    if not len(a):
        return False
    deg = np.bincount(a, minlength=nb) + np.bincount(c, minlength=nb)
    if not np.all((deg == 0) | (deg == 2)):
        return False
    lab = components_of(nb, a, c)
    return len(np.unique(lab[np.concatenate([a, c])])) == 1


def loop_rows(d: ScheduleData, block: Block, group: str,
              known: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
              cycles: bool = True) -> None:
    """The rows of :func:`loop_sets` on the branch-state group ``group`` of ``block``:
    ``sum_{e in C} y_e <= |C| - 1`` per cycle, ``sum_{e in chain} y_e >= |chain| - 1`` per
    chain. Valid for every radial topology that serves every bus (so the optimum is
    unchanged); they cut fractional ``y`` of the LP relaxation. With every simple cycle they
    are also the radiality itself (:func:`tree_by_cycles`). ``known``: ``loop_sets(d)`` when
    the caller has them (one enumeration for the 24 groups of an hourly topology)."""
    loops, chains = known if known is not None else loop_sets(d)
    if cycles:
        _set_rows(block, group, f"{group}.loop", loops, 1.0, d.m)
    _set_rows(block, group, f"{group}.chain", chains, -1.0, d.m)


def _set_rows(block: Block, group: str, name: str, sets: list[np.ndarray], sign: float,
              m: int) -> None:
    """``sign sum_{e in S} y_e <= sign (|S| - 1)`` per set ``S`` on ``group``."""
    if not sets:
        return
    rows = np.concatenate([np.full(len(s), i) for i, s in enumerate(sets)])
    cols = np.concatenate(sets)
    a = sp.csr_matrix((np.full(len(cols), sign), (rows, cols)), shape=(len(sets), m))
    rhs = np.array([sign * (len(s) - 1.0) for s in sets])
    block.add_rows(name, {group: a}, Sense.LE, rhs)


def flow_bounds(d: ScheduleData) -> tuple[np.ndarray, np.ndarray]:
    """``(F_{h,b}, FQ_{h,b})``, (H, m) bounds on ``|P|`` and ``|Q|`` (the big-M of (12)-(13)).

    The flow into the part ``T`` of the grid below a branch is ``P = sum_T (pdr - pr + pev +
    pch) - sum_T (pdg + pdis + pres)`` (lossless LinDistFlow), so ``-G_T <= P <= C_T`` with
    ``C_T`` the most ``T`` can consume and ``G_T`` the most it can generate. Since ``ps >= 0``
    all generation is consumed, ``G_T <= C``, the whole grid's consumption in the hour:
    ``|P| <= C_h = (1 + gamma) sum_n pd_{n,h} + sum P_s + sum_k evmax_{k,h}`` (DSM conserves
    the hour's total). For a bridge the part below is fixed (the far side of the branch), so
    ``|P| <= max(C_T, G_T)`` on that side. Reactive: ``|Q| <= max(QC, QG)`` with ``QC = (1 +
    eps)(1 + gamma) sum_{k_n > 0} k_n pd_n`` and ``QG = sum qmax_g`` plus the loads with
    ``k_n < 0`` (the substation may absorb, so ``QG`` is not bounded by ``QC``). Each is
    capped by ``flow_max``/``flow_max_q``."""
    H, n, m = d.hours, d.n, d.m
    grow = 1 + d.gamma
    pd = np.maximum(d.pd, 0.0)  # pdr >= 0 (its group's bound)
    cons = grow * pd * (1 + d.eps)  # per bus, the most a bus's DSM-shifted demand reaches
    cons = cons + _per_bus(n, d.ess_bus, np.tile(d.ess_p, (H, 1)))
    cons = cons + _per_bus(n, d.ev_bus, d.ev_max)
    gen = _per_bus(n, d.dg_bus, np.tile(d.dg_p, (H, 1)))
    gen = gen + _per_bus(n, d.ess_bus, np.tile(d.ess_p, (H, 1)))
    gen = gen + _per_bus(n, d.res_bus, d.res_hat)
    p_fix, q_fix = d.fixed_injection()
    gen = gen + np.maximum(p_fix, 0.0)
    cons = cons + np.maximum(-p_fix, 0.0)
    # reactive: qdr = k_{n,h} pdr; loads with k_{n,h} < 0 supply reactive power like the DG
    qcons = grow * (1 + d.eps) * pd * np.maximum(d.kq(), 0.0)
    qgen = _per_bus(n, d.dg_bus, np.tile(d.dg_q, (H, 1)))
    qgen = qgen + grow * (1 + d.eps) * pd * np.maximum(-d.kq(), 0.0)
    qgen = qgen + np.maximum(q_fix, 0.0)
    qcons = qcons + np.maximum(-q_fix, 0.0)
    pv_bus, pv_lo, pv_hi = d.pv()
    if len(pv_bus):
        qgen = qgen + _per_bus(n, pv_bus, np.tile(np.maximum(pv_hi, 0.0), (H, 1)))
        qcons = qcons + _per_bus(n, pv_bus, np.tile(np.maximum(-pv_lo, 0.0), (H, 1)))
    total = (grow * pd.sum(1) + d.ess_p.sum() + d.ev_max.sum(1)
             + np.maximum(-p_fix, 0.0).sum(1))[:, None] + 0.01
    fp = np.tile(np.minimum(total, d.flow_max), (1, m))
    fq_h = np.maximum(qcons.sum(1), qgen.sum(1))[:, None] + 0.01
    fq = np.tile(np.minimum(fq_h, d.flow_max_q), (1, m))
    may = ~_fixed_open(d)
    is_bridge = np.zeros(m, bool)
    is_bridge[np.flatnonzero(may)] = bridges(n, d.f[may], d.t[may])
    for k in np.flatnonzero(is_bridge):
        keep = may.copy()
        keep[k] = False
        lab = components_of(n, d.f[keep], d.t[keep])
        below = lab == lab[d.t[k]] if lab[d.t[k]] != lab[d.root] else lab == lab[d.f[k]]
        side_p = np.maximum(cons[:, below].sum(1), gen[:, below].sum(1)) + 0.01
        side_q = np.maximum(qcons[:, below].sum(1), qgen[:, below].sum(1)) + 0.01
        fp[:, k] = np.minimum(fp[:, k], side_p)
        fq[:, k] = np.minimum(fq[:, k], side_q)
    return fp, fq


def _per_bus(n: int, buses: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(H, n) sums of per-device (H, K) values at their buses."""
    out = np.zeros((values.shape[0], n))
    for k, bus in enumerate(buses):
        out[:, bus] += values[:, k]
    return out


def _neg(terms: dict[str, sp.spmatrix]) -> dict[str, sp.spmatrix]:
    return {g: -a for g, a in terms.items()}


def _y_terms(d: ScheduleData, coef: np.ndarray) -> dict[str, sp.spmatrix]:
    """``coef * y`` on the stacked ``(h, b)`` rows: the day's ``y`` in every hour, or each
    hour's own ``h*.y``."""
    H, m = d.hours, d.m
    if not d.hourly:
        return {"y": sp.diags(coef) @ sp.csr_matrix(sp.kron(np.ones((H, 1)),
                                                            sp.identity(m)))}
    out: dict[str, sp.spmatrix] = {}
    for h in range(H):
        e = sp.csr_matrix((np.ones(m), (h * m + np.arange(m), np.arange(m))), shape=(H * m, m))
        out[f"h{h}.y"] = sp.diags(coef) @ e
    return out


def _y_bus_terms(d: ScheduleData, coef: np.ndarray) -> dict[str, sp.spmatrix]:
    """``coef @ y`` on the stacked ``(h, n)`` bus rows (``coef`` is (n, m)): the day's ``y``
    in every hour, or each hour's own ``h*.y``."""
    H, n = d.hours, d.n
    c = sp.csr_matrix(coef)
    if not d.hourly:
        return {"y": sp.csr_matrix(sp.kron(np.ones((H, 1)), c))}
    out: dict[str, sp.spmatrix] = {}
    for h in range(H):
        pick = sp.csr_matrix((np.ones(n), (h * n + np.arange(n), np.arange(n))), shape=(H * n, n))
        out[f"h{h}.y"] = sp.csr_matrix(pick @ c)
    return out


def budget_block(d: ScheduleData, block: Block) -> None:
    """The uncertainty set on the binary groups ``xp``, ``xm``, ``xr`` of ``block``:
    ``xp + xm <= 1``; the temporal budget ``sum_h (xp + xm)_{n,h} <= Gamma_n`` per bus and
    ``sum_h xr_{u,h} <= Gamma_u`` per renewable unit; or, with ``aggregate = (lo, hi)``, the seed's
    aggregate-ratio reading ``lo <= sum_n pd(xi) / sum_n pd <= hi`` per hour (on the binary
    points of that band)."""
    H, n, U = d.hours, d.n, len(d.res_bus)
    eye = sp.identity(H * n, format="csr")
    block.add_rows("xi_one", {"xp": eye, "xm": eye}, Sense.LE, np.ones(H * n))
    per_bus = sp.csr_matrix(sp.kron(np.ones((1, H)), sp.identity(n)))
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    if d.aggregate is None:
        block.add_rows("xi_budget", {"xp": per_bus, "xm": per_bus}, Sense.LE, gl)
    else:
        # certain buses stay at the forecast
        block.add_rows("xi_certain", {"xp": per_bus, "xm": per_bus}, Sense.LE,
                       np.where(gl > 0, H, 0.0))
        lo, hi = d.aggregate
        hsum = _kron_hours(H, sp.csr_matrix(np.ones((1, n))))
        g_pd = sp.diags(d.gamma * d.pd.ravel()).tocsr()
        tot = d.pd.sum(axis=1)
        block.add_rows("xi_ratio_hi", {"xp": hsum @ g_pd, "xm": -(hsum @ g_pd)}, Sense.LE,
                       (hi - 1.0) * tot)
        block.add_rows("xi_ratio_lo", {"xp": -(hsum @ g_pd), "xm": hsum @ g_pd}, Sense.LE,
                       (1.0 - lo) * tot)
    if U:
        per_unit = sp.csr_matrix(sp.kron(np.ones((1, H)), sp.identity(U)))
        gr = d.budget_res if d.budget_res is not None else np.zeros(U)
        block.add_rows("xi_budget_res", {"xr": per_unit}, Sense.LE, gr)


def nominal(d: ScheduleData) -> dict[str, np.ndarray]:
    """The forecast realisation (every ``xi`` zero)."""
    return {"xp": np.zeros(d.hours * d.n), "xm": np.zeros(d.hours * d.n),
            "xr": np.zeros(d.hours * len(d.res_bus))}


def realised(d: ScheduleData, xi: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(pd(xi), p_hat(xi))`` of a realisation: (H, n) demand and (H, U) renewable forecast."""
    H, n, U = d.hours, d.n, len(d.res_bus)
    pd = d.pd * (1 + d.gamma * (xi["xp"] - xi["xm"]).reshape(H, n))
    res = d.res_hat * (1 - d.res_dev * xi["xr"].reshape(H, U))
    return pd, res
