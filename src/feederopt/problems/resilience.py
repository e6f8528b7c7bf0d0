"""Resilience planning (seed 003): the problem data and its blocks; no solver.

Phases (Zhang et al., IJEPES 122:106161, 2020, as Hu and Wang's seed 003 builds them):

1. **Restoration** (:meth:`ResilienceProblem.restore_block`): with given lines broken, switch the
   rest to minimise the shed load, ``min sum_k w_k s_k [+ penalty per closed line]`` (``s_k``
   the shed share of sheddable load k, ``w_k = priority_k P_k``) subject
   to :func:`feederopt.formulations.resilience.operation_block`.
2. **Deterministic planning**: the two-stage problem below with one scenario.
3. **Two-stage stochastic planning** (:meth:`ResilienceProblem.extensive_block`)::

       min  C^h . y^h + C^g Pmax . y^g + sum_s pi_s Q_s(y^h, y^g)
       s.t. sum y^h <= H,  sum y^g <= G,  y binary
       Q_s(y^h, y^g) = min  C sum_k w_k s_k + c_sw sum_ij v_ij          (operation of scenario s)

   with ``C`` the value of lost load [$/kW] and ``c_sw`` the switching penalty [$ per closed
   line]. The recourse has binaries (the switches), so it is solved as one extensive-form MILP or
   by the integer L-shaped method of :mod:`feederopt.algorithms.resilience`.

The problem holds only arrays and ids (it pickles cheaply to the workers of the execution layer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, option_ref
from feederopt.formulations.blocks import Block
from feederopt.formulations.resilience import (
    FirstPhase,
    GridArrays,
    RadialityKind,
    first_stage_block,
    operation_block,
    second_phase_block,
)
from feederopt.network.container import Network, resolve_branch_ids
from feederopt.network.id_hints import branch_ends, id_hint, name_aliases, shared_names
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.scalars import is_finite, is_real, plain_fields

#: The seed's switching penalty: 0.01 p.u. per closed line in Phase 1 (10 kW at 1000 kVA), and
#: $0.01 per closed line in Phases 2 and 3 (seed's linked code).
SEED_PENALTY_PU = 0.01
SEED_PENALTY_USD = 0.01


#: The largest switching penalty (per closed line) that restore and plan take: at 1e300 the
#: MILP's objective overflowed to NaN (user test ut36_errs #1: ``--switch-penalty inf`` and
#: ``1e300`` gave "optimal" with objective "-" and a numpy warning); a penalty of 1e6 already
#: keeps every line open on zhang13 (the whole load shed), so the cap takes nothing a user
#: needs.
MAX_SWITCH_PENALTY = 1e9


@dataclass(frozen=True)
class PlanSettings:
    """Planning data (defaults: the seed's linked code; ``docs/resilience.md``)."""

    harden_budget: int = 2  # H, lines
    dg_budget: int = 1  # G, units
    harden_cost: float = 400.0  # C^h [$ per line]
    #: C^g [$/kW]: the authors' code and parameter figure say 1.5; the seed's text says 1500.
    dg_cost_per_kw: float = 1.5
    dg_p_max_kw: float = 100.0  # P^max per unit
    dg_q_max_kvar: float = 100.0  # Q^max per unit [ASSUME]
    voll: float = 14.0  # C [$/kW]
    radiality: RadialityKind = RadialityKind.FOREST
    #: [$ per closed line]; None: 0 with forest radiality, the seed's $0.01 with ``seed``.
    switch_penalty: float | None = None
    #: bus ids, each a candidate once (one backup DG per bus); None: every non-source bus of
    #: the user's (not a pandapower reader's internal bus: a trafo3w's star point, an xward's
    #: auxiliary bus)
    dg_candidates: tuple[str, ...] | None = None
    #: branch ids; None: every branch of the user's (not an xward's internal branch)
    harden_candidates: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)

    @property
    def penalty(self) -> float:
        if self.switch_penalty is not None:
            return float(self.switch_penalty)
        return SEED_PENALTY_USD if self.radiality is RadialityKind.SEED else 0.0

    def problems(self) -> list[Problem]:
        """Every setting that is no finite number >= 0, each with its hint: what it counts
        or costs, and an example as ``feederopt plan`` takes it (its default)."""
        out = []
        for name, (what, example) in SETTING_HINTS.items():
            value = getattr(self, name)
            if not (is_finite(value) and value >= 0):
                out.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                   f"{option_ref(name)} must be a finite number >= 0",
                                   (str(value),), name,
                                   f"{what}: e.g. {option_ref(name, example)} (the default)"))
        if self.switch_penalty is not None and not (
                is_real(self.switch_penalty) and 0 <= self.switch_penalty <= MAX_SWITCH_PENALTY):
            out.append(Problem(ProblemKind.INVALID_VALUE, "options",
                               f"{option_ref('switch_penalty')} must be a finite number >= 0 "
                               f"and at most {MAX_SWITCH_PENALTY:g}",
                               (str(self.switch_penalty),), "switch_penalty",
                               "a cost in $ per closed line: e.g. "
                               f"{option_ref('switch_penalty', 0.01)} (the seed's), or 0 for "
                               "none"))
        return out


#: The hints of :meth:`PlanSettings.problems`: what each number setting counts or costs, and
#: its default as the example (named by :func:`~feederopt.errors.option_ref`:
#: ``harden_budget=2`` from Python, ``--harden-budget 2`` on ``feederopt plan``, whose
#: ``--dg-size`` sets both DG ratings).
SETTING_HINTS: dict[str, tuple[str, float]] = {
    "harden_budget": ("the most lines to harden (H), a whole number", PlanSettings.harden_budget),
    "dg_budget": ("the most backup DGs to site (G), a whole number", PlanSettings.dg_budget),
    "harden_cost": ("the cost of hardening one line, in $", PlanSettings.harden_cost),
    "dg_cost_per_kw": ("the cost of a backup DG, in $ per kW of its rating",
                       PlanSettings.dg_cost_per_kw),
    "dg_p_max_kw": ("a backup DG's rating, in kW", PlanSettings.dg_p_max_kw),
    "dg_q_max_kvar": ("a backup DG's reactive rating, in kvar (the command line's --dg-size "
                      "sets it too)", PlanSettings.dg_q_max_kvar),
    "voll": ("the value of lost load, in $ per kW shed", PlanSettings.voll),
}


@dataclass(frozen=True)
class Scenario:
    """A disaster: its name, probability and the indices of the lines it breaks."""

    name: str
    probability: float
    broken: tuple[int, ...]


def flow_bound(load_pu: float, dg_pu: float, gen_pu: float, shunt_pu: float) -> float:
    """The bound ``Pbar`` of ``|P_ij|, |Q_ij|`` on every line [p.u.]: the sum of every load's
    ``|P| + |Q|`` (``load_pu``), every backup DG's ``Pmax + Qmax`` (``dg_pu``), every
    generator's ``|P| + |Q|`` (``gen_pu``) and every shunt's ``(|g| + |b|) max U`` (``shunt_pu``),
    plus 1 p.u. In a radial operation (a forest) the flow of a line is the net demand of the
    subtree it feeds, lossless in LinDistFlow: ``|P_ij| <= sum_{k in subtree} |p_k|`` and so
    at most this; the bound therefore cuts off no radial operation. It is also the big-M of
    the line's on/off rows (5d): the smaller, the less an integrality tolerance ``eps`` on
    ``v`` lets through an open line (``eps Pbar``)."""
    return load_pu + dg_pu + gen_pu + shunt_pu + 1.0


@dataclass
class ResilienceProblem:
    """Arrays and ids of a network for the resilience models (module docstring)."""

    grid: GridArrays
    bus_ids: list[str]
    branch_ids: list[str]
    s_base_mva: float
    settings: PlanSettings
    harden_lines: np.ndarray  # branch index of each hardening candidate
    integer_ids: bool = False
    meta: dict[str, str] = field(default_factory=dict)
    #: The loads that cannot be shed (``sheddable = false``): (load id, bus index).
    firm_loads: list[tuple[str, int]] = field(default_factory=list)
    #: The id of each sheddable load (``grid.shed_bus`` order); empty: the grid has one
    #: sheddable entry per bus (``GridArrays`` default), named by the bus id.
    shed_load_ids: list[str] = field(default_factory=list)
    #: P [p.u.] of each non-sheddable load, by id.
    firm_p: dict[str, float] = field(default_factory=dict)
    #: What the operation model leaves out or holds fixed on this network (:func:`model_notes`).
    notes: list[str] = field(default_factory=list)
    #: Names a user may give for branches and buses (a pandapower net's ``name`` column) ->
    #: their ids, for the hints of unknown ids (:func:`name_aliases`).
    branch_aliases: dict[str, str] = field(default_factory=dict)
    bus_aliases: dict[str, str] = field(default_factory=dict)
    #: Names of elements of different branches -> what they name (:func:`shared_names`).
    branch_shared: dict[str, str] = field(default_factory=dict)
    #: Per branch id, its from and to bus ids (:func:`branch_ends`): a branch given by its
    #: buses (``7-8``) gets its id in the hint.
    branch_ends: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The in-service generators and shunts: (id, bus index), for the elements an operation
    #: disconnects (:func:`feederopt.results.resilience.operation_view`).
    generator_ids: list[tuple[str, int]] = field(default_factory=list)
    shunt_ids: list[tuple[str, int]] = field(default_factory=list)
    #: The model's internals of the pandapower xwards (:func:`xward_internals`): the
    #: auxiliary bus (index -> the xward's id), the branch behind its impedance (indices) and
    #: its P = Q = 0 source (generator ids). Not the user's elements: the operation's
    #: listings leave them out (the xward itself is its shunt entry ``xward:<index>``).
    xward_buses: dict[int, str] = field(default_factory=dict)
    xward_branches: frozenset[int] = frozenset()
    xward_generators: frozenset[str] = frozenset()
    #: The user's names of the buses and branches by id, for the ids that have one
    #: (:meth:`Network.element_names`: a pandapower net's ``net.bus.name``, ``net.line.name``,
    #: ..., a table folder's ``name`` column), which the results give beside the ids.
    bus_names: dict[str, str] = field(default_factory=dict)
    branch_names: dict[str, str] = field(default_factory=dict)
    #: The same for the loads, generators and shunts (``net.load.name``, ``net.sgen.name``,
    #: ...), whose ids the results list (shed per load, generators and shunts off).
    load_names: dict[str, str] = field(default_factory=dict)
    generator_names: dict[str, str] = field(default_factory=dict)
    shunt_names: dict[str, str] = field(default_factory=dict)
    #: Q [p.u.] of each non-sheddable load, by id (:meth:`firm_q_shortfalls`).
    firm_q: dict[str, float] = field(default_factory=dict)

    @property
    def shed_ids(self) -> list[str]:
        """The id of each shed share of the operation model (its ``shed`` group)."""
        pos = self.grid.sheddable()[0]
        names = self.shed_load_ids if self.grid.shed_bus is not None else self.bus_ids
        return [names[int(i)] for i in pos]

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def from_network(cls, net: Network, settings: PlanSettings | None = None,
                     s_base_mva: float = 1.0) -> ResilienceProblem:
        st = settings or PlanSettings()
        problems = st.problems()
        pu = to_per_unit(net, s_base_mva=s_base_mva)
        index = {b: i for i, b in enumerate(pu.bus_ids)}
        # the defaults leave out what the pandapower reader adds (a trafo3w's star point, an
        # xward's auxiliary bus and internal branch): no place for a DG nor a line to harden
        internal_buses = net.internal_bus_ids()
        if st.dg_candidates is None:
            dg_bus = np.array([i for i in np.flatnonzero(~pu.is_source).tolist()
                               if pu.bus_ids[i] not in internal_buses], dtype=int)
        else:
            unknown = [b for b in st.dg_candidates if b not in index]
            if unknown:
                problems.append(Problem(ProblemKind.UNKNOWN_BUS, "options",
                                        "DG candidates that are not buses", tuple(unknown),
                                        "dg_candidates",
                                        id_hint(unknown, list(pu.bus_ids), {}, "bus")))
            # a bus named twice is one candidate (it held two DGs: plan's dg_sites ['3', '3'])
            dg_bus = np.array([index[b] for b in dict.fromkeys(st.dg_candidates)
                               if b in index], dtype=int)
        bindex = {b: i for i, b in enumerate(pu.branch_ids)}
        if st.harden_candidates is None:
            internal_branches = net.internal_branch_ids()
            harden = np.array([k for k, b in enumerate(pu.branch_ids)
                               if b not in internal_branches], dtype=int)
        else:
            cands = net.resolve_branch_ids(st.harden_candidates)  # L1 -> L1+L1b
            unknown = [b for b in cands if b not in bindex]
            if unknown:
                problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                        "hardening candidates that are not branches",
                                        tuple(unknown), "harden_candidates",
                                        id_hint(unknown, list(pu.branch_ids), {}, "branch",
                                                ends=branch_ends(net))))
            harden = np.array(sorted({bindex[b] for b in cands if b in bindex}), int)
        lw = _load_weights(net, index, s_base_mva, problems)
        if problems:
            raise InputError(problems)
        kw = 1000.0 * s_base_mva
        p_load = pu.p_load.copy()
        q_load = pu.q_load.copy()
        total = float(np.abs(p_load).sum() + np.abs(q_load).sum())
        dg_p = np.full(len(dg_bus), st.dg_p_max_kw / kw)
        dg_q = np.full(len(dg_bus), st.dg_q_max_kvar / kw)
        gen_p, gen_q = pu.gen_p_set.copy(), pu.gen_q_set.copy()
        # the most any line can carry in a radial operation (:func:`flow_bound`)
        u_top = float(np.max(pu.v_max ** 2)) if len(pu.v_max) else 1.0
        fallback = flow_bound(total, float(dg_p.sum() + dg_q.sum()),
                              float(np.abs(gen_p).sum() + np.abs(gen_q).sum()),
                              u_top * float(np.abs(pu.q_shunt).sum() + np.abs(pu.p_shunt).sum()))
        # |P|, |Q| <= the line's rating: its MVA limit, or its current limit at 1 p.u. voltage,
        # and never above ``fallback``: a placeholder rating (pandapower's case33bw has
        # max_i_ka = 99999, 2.2e6 p.u.) is a big-M that HiGHS's integrality tolerance (1e-6)
        # turns into 2 MW through an "open" line (user test ut40_resreal)
        rating = np.minimum(pu.s_max, pu.i_max)
        p_cap = np.minimum(np.where(np.isfinite(rating), rating, fallback), fallback)
        v_set = np.where(pu.is_source, pu.v_set, 1.0)
        grid = GridArrays(
            n=len(pu.bus_ids), f=pu.f.copy(), t=pu.t.copy(), r=pu.r.copy(), x=pu.x.copy(),
            p_cap=p_cap, is_source=pu.is_source.copy(), p_load=p_load, q_load=q_load,
            u_min=pu.v_min ** 2, u_max=pu.v_max ** 2, u_source=v_set ** 2, dg_bus=dg_bus,
            dg_p_max=dg_p, dg_q_max=dg_q, shed_bus=lw.bus, shed_p=lw.p, shed_q=lw.q,
            shed_w=lw.weight, tap2=pu.tap2 if pu.tap.size else None,
            gen_bus=pu.gen_bus.copy(), gen_p=gen_p, gen_q=gen_q,
            sh_g=pu.p_shunt.copy(), sh_b=pu.q_shunt.copy(),
            no_switch=~pu.switchable if not pu.switchable.all() else None,
            normally_open=pu.normally_open.copy())
        return cls(grid, list(pu.bus_ids), list(pu.branch_ids), s_base_mva, st, harden,
                   bool(net.integer_ids), {"case": str(net.meta.get("case", net.name))},
                   lw.firm, lw.ids, lw.firm_p,
                   model_notes(net, pu) + source_load_notes(net, pu, index),
                   *name_aliases(net, set(pu.branch_ids), set(pu.bus_ids)),
                   branch_shared=shared_names(net, set(pu.branch_ids)),
                   branch_ends=branch_ends(net),
                   generator_ids=_element_ids(net.generators, index),
                   shunt_ids=_element_ids(net.shunts, index),
                   **xward_internals(net, index, bindex),
                   bus_names=net.element_names("buses"),
                   branch_names=net.element_names("branches"),
                   load_names=net.element_names("loads"),
                   generator_names=net.element_names("generators"),
                   shunt_names=net.element_names("shunts"), firm_q=lw.firm_q)

    def unsupplied_firm_loads(self, broken: tuple[int, ...], harden: np.ndarray | None = None,
                              site: np.ndarray | None = None) -> list[str]:
        """The non-sheddable loads that no working line connects to a source or a sited DG
        (``broken`` lines out unless hardened): the ones that make the operation infeasible
        by connectivity alone."""
        g = self.grid
        working = self._working(broken, harden)
        roots = set(np.flatnonzero(g.is_source).tolist())
        if site is not None:
            roots |= set(g.dg_bus[np.flatnonzero(np.asarray(site) > 0.5)].tolist())
        seen = reachable(g, working, roots)
        return [lid for lid, b in self.firm_loads if b not in seen]

    def _working(self, broken: tuple[int, ...], harden: np.ndarray | None) -> np.ndarray:
        """Per line, whether it can carry power: not among ``broken`` unless hardened."""
        working = np.ones(self.grid.m, bool)
        for line in broken:
            pos = self.harden_pos[line]
            working[line] = harden is not None and pos >= 0 and harden[pos] > 0.5
        return working

    def firm_shortfalls(self, broken: tuple[int, ...], harden: np.ndarray | None = None,
                        site: np.ndarray | None = None
                        ) -> list[tuple[tuple[str, ...], float, float]]:
        """The backup-DG islands too small for their non-sheddable loads, by arithmetic alone.

        The working lines (``broken`` ones out unless hardened) split the grid into parts; a
        part without a source can be supplied only by its sited DGs and its own generators
        (each generator's connection in a DG island is the operation's choice). Its
        non-sheddable loads need ``D = sum_k P_k`` (they cannot be shed); the most it can supply
        is ``S = sum_g Pmax_g (sited DGs) + sum_i max(P_gen,i, 0)`` (losses and shunts only
        lower it). ``D > S`` makes every operation infeasible whatever the voltage and line
        limits. Returns, per such part: its non-sheddable load ids, ``D`` and ``S`` [kW]."""
        return self._short_parts(self._working(broken, harden),
                                 self._bus_supply(site, reactive=False), self.firm_kw)

    def firm_q_shortfalls(self, broken: tuple[int, ...], harden: np.ndarray | None = None,
                          site: np.ndarray | None = None
                          ) -> list[tuple[tuple[str, ...], float, float]]:
        """The backup-DG islands too small for their non-sheddable loads' reactive demand,
        by arithmetic alone (user test ut45b_resil #2: 1,000 kvar of firm load against a DG
        of 700 kvar was blamed on "the voltage and line limits").

        As :meth:`firm_shortfalls`, for Q: a part without a source needs
        ``D_Q = sum_k Q_k`` over its non-sheddable loads; the model's LinDistFlow (5b) has no
        line reactive losses, and its reactive sources are the sited DGs, ``0 <= Q <= Qmax``
        ((5g), ``dg_q_max_kvar``), its generators at their set-points (connected or not:
        at most ``max(Q_gen, 0)`` each) and its shunts (``Q = b v^2 <= max(b, 0) u_max``).
        ``D_Q > S_Q`` (their sum) makes every operation infeasible. Returns, per such part:
        its non-sheddable load ids, ``D_Q`` and ``S_Q`` [kvar]."""
        return self._short_parts(self._working(broken, harden),
                                 self._bus_supply(site, reactive=True), self.firm_kvar)

    def _bus_supply(self, site: np.ndarray | None, *, reactive: bool) -> np.ndarray:
        """Per bus, the most [p.u.] that a part without a source gets there of P
        (``reactive`` False) or Q (True), the one arithmetic of :meth:`firm_shortfalls` and
        :meth:`firm_q_shortfalls`: the sited DGs (``site``; None: none) at their rating
        ``Pmax`` or ``Qmax`` ((5g)), plus each generator's set-point where positive,
        ``max(P_gen, 0)`` or ``max(Q_gen, 0)``, plus for Q the shunts at the band's top,
        ``max(b, 0) u_max`` (``Q = b U``, LinDistFlow's shunt)."""
        g = self.grid
        supply = np.zeros(g.n)
        if site is not None and len(g.dg_bus):
            on = np.asarray(site) > 0.5
            np.add.at(supply, g.dg_bus[on], (g.dg_q_max if reactive else g.dg_p_max)[on])
        gen = g.gen_q if reactive else g.gen_p
        if g.gen_bus is not None and gen is not None and len(g.gen_bus):
            np.add.at(supply, np.asarray(g.gen_bus, int), np.maximum(np.asarray(gen), 0.0))
        if reactive and g.sh_b is not None:
            supply += np.maximum(np.asarray(g.sh_b, float), 0.0) * np.asarray(g.u_max, float)
        return supply

    def budget_capacity(self, broken: tuple[int, ...], ids: Sequence[str], dgs: int
                        ) -> tuple[float, float]:
        """The most [kW, kvar] that the parts holding the non-sheddable loads ``ids`` can get
        when none of them has a source (the working lines: ``broken`` ones out, none
        hardened), by the arithmetic of :meth:`firm_shortfalls` and
        :meth:`firm_q_shortfalls` (:meth:`_bus_supply`): those parts' generators (and, for
        Q, their shunts) plus ``dgs`` backup DGs at their ratings,
        ``S_P = dgs Pmax + sum_i max(P_gen,i, 0)``, ``S_Q = dgs Qmax + sum_i max(Q_gen,i, 0)
        + sum_i max(b_i, 0) u_max,i`` ((5g); LinDistFlow (5b) has no losses to add). Against
        the loads' demand ``D_P``, ``D_Q`` it says which of kW and kvar binds a plan whose
        budgets allow ``dgs`` DGs (:func:`feederopt.algorithms.resilience.plan_infeasible`).
        ``(inf, inf)`` when a source lies in one of those parts: a source's supply has no
        bound here."""
        g = self.grid
        working = self._working(broken, None)
        bus_of = dict(self.firm_loads)
        parts: set[int] = set()
        for lid in ids:
            bus = bus_of.get(lid)
            if bus is not None and bus not in parts:
                parts |= reachable(g, working, [bus])
        if any(g.is_source[b] for b in parts):
            return math.inf, math.inf
        at = sorted(parts)
        kw = self.kw_per_pu
        p = float(self._bus_supply(None, reactive=False)[at].sum()) * kw
        q = float(self._bus_supply(None, reactive=True)[at].sum()) * kw
        st = self.settings
        return p + dgs * st.dg_p_max_kw, q + dgs * st.dg_q_max_kvar

    def _short_parts(self, working: np.ndarray, supply: np.ndarray,
                     demand_of: Callable[[tuple[str, ...]], float],
                     ) -> list[tuple[tuple[str, ...], float, float]]:
        """The parts of the grid over the ``working`` branches that hold a non-sheddable
        load and no source, whose demand ``demand_of(ids)`` [kW or kvar] of those loads
        exceeds the sum of ``supply`` [p.u.] over their buses: per such part its
        non-sheddable load ids, the demand and the supply (:meth:`firm_shortfalls`,
        :meth:`firm_q_shortfalls`)."""
        g = self.grid
        seen: set[int] = set()
        out = []
        for _, bus in self.firm_loads:
            if bus in seen:
                continue
            part = reachable(g, working, [bus])
            seen |= part
            if any(g.is_source[b] for b in part):
                continue
            ids = tuple(lid for lid, b in self.firm_loads if b in part)
            demand = demand_of(ids)
            have = float(sum(supply[b] for b in part)) * self.kw_per_pu
            if demand > have * (1.0 + 1e-9) + 1e-9:
                out.append((ids, demand, have))
        return out

    def firm_infeasible(self, what: str, broken: tuple[int, ...],
                        harden: np.ndarray | None = None,
                        site: np.ndarray | None = None) -> InputError:
        """The typed problem of an operation that cannot keep every non-sheddable load
        supplied, with its cause: the loads cut off from every source and sited DG; else the
        backup-DG islands whose non-sheddable demand exceeds their DGs' (and generators')
        capacity (:meth:`firm_shortfalls`); else those whose reactive demand exceeds it
        (:meth:`firm_q_shortfalls`); else (capacity suffices) all of them, which the
        voltage and line limits (losses included) keep from being supplied."""
        cut = self.unsupplied_firm_loads(broken, harden, site)
        if cut:
            return InputError([self.firm_problem(
                what, tuple(cut), "no working line connects them to a source or a backup DG",
                "mark them sheddable (sheddable = true), or break fewer lines")])
        short = self.firm_shortfalls(broken, harden, site)
        if short:
            size = self.settings.dg_p_max_kw
            return InputError([self.firm_problem(
                what, ids, self.capacity_why(
                    demand, "in their island",
                    f"{supply:,.2f} kW: its sited DGs of --dg-size {size:g} kW and its "
                    "generators"),
                "raise --dg-size, site more DGs in that island, or mark them sheddable "
                "(sheddable = true)") for ids, demand, supply in short])
        short_q = self.firm_q_shortfalls(broken, harden, site)
        if short_q:
            size_q = self.settings.dg_q_max_kvar
            return InputError([self.firm_problem(
                what, ids, f"their reactive demand ({demand:,.2f} kvar) exceeds what the "
                f"backup DGs in their island can supply ({supply:,.2f} kvar: its sited DGs of "
                f"{size_q:g} kvar each (--dg-size), its generators and capacitors)",
                "raise --dg-size (it sets the DG's kvar too), site more DGs in that island, "
                "or mark them sheddable (sheddable = true)")
                for ids, demand, supply in short_q])
        return InputError([self.firm_problem(
            what, tuple(lid for lid, _ in self.firm_loads),
            "they cannot all be supplied within the voltage and line limits",
            "mark them sheddable (sheddable = true), or break fewer lines")])

    @staticmethod
    def capacity_why(kw: float, whose: str, detail: str) -> str:
        """The one wording of a DG capacity shortfall in kW (restore's): demand ``kw`` [kW]
        of the non-sheddable loads exceeds what the backup DGs ``whose`` can supply."""
        return f"their demand ({kw:,.2f} kW) exceeds what the backup DGs {whose} can supply " \
            f"({detail})"

    @staticmethod
    def binding_why(kw: float, kvar: float, supply_kw: float, supply_kvar: float,
                    whose: str, detail: str) -> str:
        """The wording of a DG capacity shortfall that says which of kW and kvar binds
        (plan's; user test ut45b_resil #2 was one of kvar, worded as of kW, and then both
        figures were given without saying which binds): the non-sheddable loads' demand
        ``kw`` [kW] and ``kvar`` [kvar] against the most the backup DGs ``whose`` can supply,
        ``supply_kw`` and ``supply_kvar`` (:meth:`budget_capacity`; ``detail`` says what
        they hold). kW binds when ``kw > supply_kw``, kvar when ``kvar > supply_kvar`` (to
        a relative 1e-9, as :meth:`_short_parts`); when neither does, the totals suffice
        and the DGs' split among islands or the voltage and line limits keep the loads
        from being supplied."""
        def short(d: float, s: float) -> bool:
            return d > s * (1.0 + 1e-9) + 1e-9

        p_short, q_short = short(kw, supply_kw), short(kvar, supply_kvar)
        has = f"{supply_kw:,.2f} kW and {supply_kvar:,.2f} kvar" \
            if math.isfinite(supply_kw) and math.isfinite(supply_kvar) else "no bound"
        if p_short and q_short:
            return (f"their demand ({kw:,.2f} kW and {kvar:,.2f} kvar) exceeds what the backup "
                    f"DGs {whose} can supply ({has}: {detail}) in both: kW and kvar bind")
        if p_short:
            return (f"their demand ({kw:,.2f} kW) exceeds what the backup DGs {whose} can "
                    f"supply ({supply_kw:,.2f} kW: {detail}): kW binds, not kvar (their "
                    f"{kvar:,.2f} kvar are within the {supply_kvar:,.2f} kvar)")
        if q_short:
            return (f"their reactive demand ({kvar:,.2f} kvar) exceeds what the backup DGs "
                    f"{whose} can supply ({supply_kvar:,.2f} kvar: {detail}): kvar binds, not "
                    f"kW (their {kw:,.2f} kW are within the {supply_kw:,.2f} kW)")
        return (f"their demand ({kw:,.2f} kW and {kvar:,.2f} kvar) is within what the backup "
                f"DGs {whose} can supply in total ({has}: {detail}), yet no plan within the "
                "budgets supplies them: neither kW nor kvar binds in total; the DGs' split "
                "among islands or the voltage and line limits do")

    def firm_problem(self, what: str, ids: tuple[str, ...], why: str, hint: str) -> Problem:
        """The typed ``bad_load`` problem: ``what`` is infeasible because the non-sheddable
        loads ``ids`` ``why``; ``hint`` says what to change."""
        return Problem(ProblemKind.BAD_LOAD, "loads",
                       f"{what} is infeasible: these loads have sheddable = false and {why}",
                       ids, "sheddable", hint)

    def firm_kw(self, ids: tuple[str, ...] | list[str]) -> float:
        """The demand [kW] of the non-sheddable loads ``ids``."""
        return float(sum(self.firm_p.get(i, 0.0) for i in ids) * self.kw_per_pu)

    def firm_kvar(self, ids: tuple[str, ...] | list[str]) -> float:
        """The reactive demand [kvar] of the non-sheddable loads ``ids``."""
        return float(sum(self.firm_q.get(i, 0.0) for i in ids) * self.kw_per_pu)

    # ----- ids ----------------------------------------------------------------------------
    @property
    def kw_per_pu(self) -> float:
        return 1000.0 * self.s_base_mva

    @property
    def harden_pos(self) -> np.ndarray:
        pos = np.full(self.grid.m, -1, dtype=int)
        pos[self.harden_lines] = np.arange(len(self.harden_lines))
        return pos

    def branch_index(self, ids: tuple[str, ...] | list[str], field_name: str = "broken"
                     ) -> tuple[int, ...]:
        index = {b: i for i, b in enumerate(self.branch_ids)}
        # a circuit of a merged double circuit names its merged branch (L1 -> L1+L1b)
        ids = resolve_branch_ids(ids, self.branch_ids)
        # each once: one named twice is the list's own warning (id_list_problems)
        unknown = list(dict.fromkeys(str(b) for b in ids if str(b) not in index))
        if unknown:
            raise InputError([Problem(ProblemKind.INVALID_VALUE, "options",
                                      "branch ids that the network does not have",
                                      tuple(unknown), field_name,
                                      id_hint(unknown, self.branch_ids, self.branch_aliases,
                                               "branch", self.branch_shared,
                                               self.branch_ends))])
        return tuple(sorted({index[str(b)] for b in ids}))

    def bus_index(self, ids: tuple[str, ...] | list[str]) -> np.ndarray:
        """0/1 per DG candidate for the bus ids ``ids`` (which must be candidates)."""
        pos = {self.bus_ids[b]: k for k, b in enumerate(self.grid.dg_bus)}
        known = set(self.bus_ids)
        given = list(dict.fromkeys(str(b) for b in ids))  # each once
        missing = [b for b in given if b not in known]
        others = [b for b in given if b in known and b not in pos]
        out = []
        if missing:
            out.append(Problem(ProblemKind.UNKNOWN_BUS, "options",
                               "DG sites that are not buses of the network", tuple(missing),
                               "dg_sites", id_hint(missing, self.bus_ids, self.bus_aliases,
                                                    "bus")))
        if others:
            src = [b for b in others if self.grid.is_source[self.bus_ids.index(b)]]
            why = "source buses (a backup DG stands at a load bus)" if len(src) == len(
                others) else "buses that are not DG candidates (a source bus, or not in " \
                "the candidate list)"
            out.append(Problem(ProblemKind.INVALID_VALUE, "options", f"DG sites that are {why}",
                               tuple(others), "dg_sites", "give buses other than the source"))
        if out:
            raise InputError(out)
        chosen = np.zeros(len(self.grid.dg_bus))
        for b in ids:
            chosen[pos[str(b)]] = 1.0
        return chosen

    # ----- costs --------------------------------------------------------------------------
    @property
    def harden_cost(self) -> np.ndarray:
        return np.full(len(self.harden_lines), self.settings.harden_cost)

    @property
    def site_cost(self) -> np.ndarray:
        st = self.settings
        return np.full(len(self.grid.dg_bus), st.dg_cost_per_kw * st.dg_p_max_kw)

    def investment(self, harden: np.ndarray, site: np.ndarray) -> float:
        return float(self.harden_cost @ harden + self.site_cost @ site)

    @property
    def shed_weight_usd(self) -> float:
        """$ per p.u. of shed power."""
        return self.settings.voll * self.kw_per_pu

    # ----- blocks -------------------------------------------------------------------------
    def restore_block(self, broken: tuple[int, ...], sites: np.ndarray | None = None,
                      radiality: RadialityKind | None = None, penalty_pu: float = 0.0) -> Block:
        """Phase 1: minimise the shed load [kW] (+ ``penalty_pu`` p.u. per closed line, as kW)
        with ``broken`` lines out and DGs at ``sites`` (0/1 per candidate; none by default)."""
        fixed = np.zeros(len(self.grid.dg_bus)) if sites is None else np.asarray(sites, float)
        return operation_block(self.grid, "", np.asarray(broken, int), sites_fixed=fixed,
                               radiality=radiality or self.settings.radiality,
                               shed_weight=self.kw_per_pu,
                               line_weight=penalty_pu * self.kw_per_pu)

    def second_phase_block(self, broken: tuple[int, ...] | list[int], sites: np.ndarray,
                           first: FirstPhase, tol_kw: float, *,
                           dispatch: bool = False) -> Block:
        """The second phase of an operation with ``broken`` lines out of service and DGs at
        ``sites``: the fewest switch changes from the normal state among the operations as
        good as ``first`` (:func:`~feederopt.formulations.resilience.second_phase_block`; its
        shed rows in kW, within ``tol_kw``; ``dispatch``: with the rows of the dispatch of the
        DGs fed from a source)."""
        return second_phase_block(self.grid, np.asarray(broken, int), np.asarray(sites, float),
                                  self.settings.radiality, first, scale=self.kw_per_pu,
                                  tol=tol_kw, dispatch=dispatch)

    def out_of_service(self, scenario: Scenario, harden: np.ndarray) -> tuple[int, ...]:
        """The lines ``scenario`` breaks that the plan ``harden`` does not harden: out of
        service in its operation (a hardened one survives and is switched as any other)."""
        pos = self.harden_pos
        return tuple(k for k in scenario.broken if pos[k] < 0 or harden[pos[k]] < 0.5)

    def recourse_block(self, scenario: Scenario, weight: float = 1.0, prefix: str = "") -> Block:
        """``weight * Q_s``: the operation of scenario ``s`` with the first-stage groups
        ``harden`` and ``site`` as columns (fixed by bounds in a subproblem)."""
        return operation_block(
            self.grid, prefix, np.asarray(scenario.broken, int), harden_pos=self.harden_pos,
            radiality=self.settings.radiality, shed_weight=weight * self.shed_weight_usd,
            line_weight=weight * self.settings.penalty)

    def first_stage(self, harden_budget: int | None = None,
                    site_budget: int | None = None) -> Block:
        st = self.settings
        return first_stage_block(
            len(self.harden_lines), len(self.grid.dg_bus), self.harden_cost, self.site_cost,
            st.harden_budget if harden_budget is None else harden_budget,
            st.dg_budget if site_budget is None else site_budget)

    def extensive_block(self, scenarios: list[Scenario],
                        give_up: Callable[[], bool] | None = None) -> Block | None:
        """Phase 3's extensive form: the first stage and one operation copy per scenario.
        ``give_up`` is asked after each copy; when it says so, the build stops: None."""
        blk = self.first_stage()
        for k, sc in enumerate(scenarios):
            blk.merge(self.recourse_block(sc, sc.probability, prefix=f"s{k}."))
            if give_up is not None and give_up():
                return None
        return blk

    def relevant(self, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
        """The first-stage entries the recourse of ``scenario`` depends on: the hardening
        candidates it breaks (positions in ``harden``) and every DG site."""
        pos = self.harden_pos[np.asarray(scenario.broken, int)]
        return np.sort(pos[pos >= 0]), np.arange(len(self.grid.dg_bus))

    def expected_value_scenario(self, scenarios: list[Scenario]) -> Scenario:
        """The expected-value scenario: each line broken whose failure probability
        ``sum_s pi_s [l in B_s]`` is at least 1/2 (the rounded mean of the failure indicators)."""
        fail = np.zeros(self.grid.m)
        for sc in scenarios:
            fail[list(sc.broken)] += sc.probability
        return Scenario("EV", 1.0, tuple(int(i) for i in np.flatnonzero(fail >= 0.5 - 1e-12)))


@dataclass(frozen=True)
class LoadWeights:
    """The in-service loads split for the operation model: the sheddable ones, one entry each
    (bus index, P and Q [p.u.], objective weight ``priority P``, id), and the non-sheddable
    ones (id, bus index)."""

    bus: np.ndarray
    p: np.ndarray
    q: np.ndarray
    weight: np.ndarray
    ids: list[str]
    firm: list[tuple[str, int]]
    firm_p: dict[str, float] = field(default_factory=dict)
    firm_q: dict[str, float] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> LoadWeights:
        z = np.zeros(0)
        return cls(np.zeros(0, int), z, z, z, [], [])


def model_notes(net: Network, pu: PerUnitNetwork) -> list[str]:
    """The elements of ``net`` that the operation model (LinDistFlow) leaves out or holds
    fixed, named (``docs/resilience.md``, "What the operation model includes")."""
    out = []
    pv = [pu.gen_ids[k] for k in np.flatnonzero(np.isfinite(pu.gen_v_set))] \
        if pu.gen_v_set.size else []
    if pv:
        out.append("voltage-controlled generators are modelled at their P and Q set-points; "
                   f"their voltage control is ignored: {', '.join(pv)}")
    gens = net.generators.filter(pl.col("in_service"))
    lo = gens["p_min_mw"].cast(pl.Float64).fill_null(0.0).to_numpy()
    hi = gens["p_max_mw"].cast(pl.Float64).fill_null(0.0).to_numpy()
    com = gens["committable"].fill_null(False).to_numpy().astype(bool)
    ctrl = [str(i) for i, a, b, c in zip(gens["id"].to_list(), lo, hi, com, strict=True)
            if c or a < b]
    if ctrl:
        out.append("dispatchable generators are held at their set-points (p_mw, q_mvar), "
                   f"not dispatched: {', '.join(ctrl)}")
    br = net.branches.filter(pl.col("in_service"))
    taps = br.filter(pl.col("tap_controllable").fill_null(False))["id"].to_list()
    if taps:
        out.append("tap changers are held at their data positions (tap_ratio), not moved: "
                   + ", ".join(str(t) for t in taps))
    if "controllable" in net.shunts.columns:
        caps = net.shunts.filter(pl.col("in_service")
                                 & pl.col("controllable").fill_null(False))["id"].to_list()
        if caps:
            out.append("switchable capacitors are held at their data steps, not switched: "
                       + ", ".join(str(c) for c in caps))
    if np.any(pu.b) or np.any(pu.g_from) or np.any(pu.b_to) or np.any(pu.g_to):
        out.append("line charging and transformer magnetising shunts are ignored "
                   "(as in LinDistFlow)")
    return out


def source_load_notes(net: Network, pu: PerUnitNetwork, index: dict[str, int]) -> list[str]:
    """A note naming the in-service loads at source buses, or none. The operation model's
    balance (5b) holds at the non-source buses only: a source feeds its own bus's load
    directly, so that load is served in every operation and never shed (a ``sheddable`` flag
    or ``priority`` there has no effect); it counts in the load and the served load
    (:func:`feederopt.results.resilience.total_load_kw`; user test ut39_mixed: 500 kW at the
    ext_grid bus were left out of restore's "load" and plan's ``served_kw``)."""
    ld = net.loads.filter(pl.col("in_service").fill_null(True))
    if not ld.height:
        return []
    names = net.element_names("loads")
    at = [(str(i), float(p or 0.0)) for i, b, p in zip(
        ld["id"].to_list(), ld["bus"].to_list(), ld["p_mw"].to_list(), strict=True)
        if str(b) in index and pu.is_source[index[str(b)]]]
    if not at:
        return []
    text = ", ".join(f"{i} '{names[i]}'" if i in names else i for i, _ in at)
    kw = 1000.0 * sum(p for _, p in at)
    return [f"the load at the source buses ({text}: {kw:,.2f} kW) is fed by the source "
            "directly: served in every operation, never shed; it counts in the load and the "
            "served load"]


def _load_weights(net: Network, index: dict[str, int], s_base_mva: float,
                  problems: list[Problem]) -> LoadWeights:
    """Each sheddable load with its bus, P, Q and priority-weighted P, and the non-sheddable
    loads (``sheddable = false``); a priority that is not a finite number >= 0 is a typed
    problem. Loads are kept apart (not summed per bus), so that a bus's loads of different
    priority are shed lowest priority first."""

    ld = net.loads.filter(pl.col("in_service").fill_null(True))
    if not len(ld):
        return LoadWeights.empty()
    ids = [str(x) for x in ld["id"].to_list()]
    bus = np.array([index.get(str(b), -1) for b in ld["bus"].to_list()], dtype=int)
    p = ld["p_mw"].cast(pl.Float64).fill_null(0.0).to_numpy() / s_base_mva
    q = ld["q_mvar"].cast(pl.Float64).fill_null(0.0).to_numpy() / s_base_mva
    prio = ld["priority"].cast(pl.Float64).fill_null(1.0).to_numpy()
    shed = ld["sheddable"].fill_null(True).to_numpy().astype(bool)
    bad = [i for i in range(len(ids)) if not (np.isfinite(prio[i]) and prio[i] >= 0)]
    for i in bad:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "loads",
                                f"priority must be a finite number >= 0, not {float(prio[i])!r}",
                                (ids[i],), "priority"))
    if bad or np.any(bus < 0):
        return LoadWeights.empty()
    firm = [(ids[i], int(bus[i])) for i in np.flatnonzero(~shed)]
    k = np.flatnonzero(shed)
    return LoadWeights(bus[k], p[k], q[k], prio[k] * p[k], [ids[i] for i in k], firm,
                       {ids[i]: float(p[i]) for i in np.flatnonzero(~shed)},
                       {ids[i]: float(q[i]) for i in np.flatnonzero(~shed)})


def xward_internals(net: Network, index: dict[str, int],
                    bindex: dict[str, int]) -> dict[str, Any]:
    """The fields ``xward_buses``, ``xward_branches`` and ``xward_generators`` of
    :class:`ResilienceProblem`: what the pandapower reader adds for each xward
    (:mod:`feederopt.io.pandapower`: an auxiliary bus behind a fixed branch ``xward:<index>``
    holding its voltage by a generator ``xward:<index>`` at P = Q = 0), found by their
    ``pp_element`` = ``"xward"``; empty for other networks."""
    def rows(table: pl.DataFrame | None) -> pl.DataFrame | None:
        if table is None or "pp_element" not in table.columns:
            return None
        return table.filter(pl.col("pp_element") == "xward")

    buses: dict[int, str] = {}
    branches: set[int] = set()
    br = rows(net.branches)
    for bid, to in (zip(br["id"].to_list(), br["to_bus"].to_list(), strict=True)
                    if br is not None else ()):
        if str(bid) in bindex and str(to) in index:
            branches.add(bindex[str(bid)])
            buses[index[str(to)]] = str(bid)
    gens = rows(net.generators)
    return {"xward_buses": buses, "xward_branches": frozenset(branches),
            "xward_generators": frozenset(str(g) for g in gens["id"].to_list())
            if gens is not None else frozenset()}


def _element_ids(table: pl.DataFrame | None, index: dict[str, int]) -> list[tuple[str, int]]:
    """(id, bus index) of the in-service rows of a generator or shunt table."""
    if table is None or not len(table):
        return []
    live = table.filter(pl.col("in_service").fill_null(True)) if "in_service" in table.columns \
        else table
    return [(str(i), index[str(b)]) for i, b in zip(live["id"].to_list(), live["bus"].to_list(),
                                                    strict=True) if str(b) in index]


def reachable(grid: Any, lines: np.ndarray, roots: Iterable[int]) -> set[int]:
    """The buses joined to ``roots`` by the lines where ``lines`` is true (a 0/1 or boolean
    mask over ``grid``'s lines): a depth-first search."""
    adj: list[list[int]] = [[] for _ in range(grid.n)]
    for k in np.flatnonzero(np.asarray(lines) > 0.5).tolist():
        adj[int(grid.f[k])].append(int(grid.t[k]))
        adj[int(grid.t[k])].append(int(grid.f[k]))
    seen = set(int(r) for r in roots)
    stack = list(seen)
    while stack:
        for w in adj[stack.pop()]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen
