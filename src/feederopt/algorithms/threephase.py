"""Three-phase computations on LinDist3Flow: the power flow of a fixed topology, and
reconfiguration.

:func:`lindist3flow_power_flow` fixes the switch states and solves the LinDist3Flow rows of
:mod:`feederopt.formulations.lindist3flow` (a square linear system on a radial network) as an LP
on HiGHS, with the voltage limits lifted so that violations are reported, not infeasible.
:func:`reconfigure_three_phase` solves the MILP of :mod:`feederopt.problems.threephase`
(LinDist3Flow, radiality, loss proxy) on HiGHS.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from feederopt.algorithms.radial_enumeration import (
    ENUMERATION_MAX_STATES,
    Evaluation,
    RadialState,
    base_state,
    evaluate_states,
    radial_states,
    state_flows,
)
from feederopt.errors import SolverError
from feederopt.formulations.lindist3flow import (
    W_UNBOUNDED,
    bank_flow_terms,
    edge_phases,
    lindist3flow,
)
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.network.threephase_perunit import PerUnitThreePhase, to_per_unit_3ph
from feederopt.problems.threephase import (
    ThreePhaseReconfiguration,
    effective_resistance,
    loss_tangents_at,
    permanent_loops,
    reconfiguration_block,
    scenario_reconfiguration_block,
    switch_cost_objective,
)
from feederopt.solvers.highs_backend import HighsModel


@dataclass
class ThreePhaseFlow:
    """A LinDist3Flow solution: voltages per node ``"bus.a"`` [p.u.] and per-phase flows."""

    voltages_pu: dict[str, float]
    source_p_kw: float
    source_q_kvar: float
    loss_proxy_kw: float
    open_switches: list[str] = field(default_factory=list)
    #: The part of ``loss_proxy_kw`` on the source's own (Thevenin) impedance, which OpenDSS's
    #: circuit losses leave out: the proxy minus it is the one to set against OpenDSS's losses.
    source_loss_proxy_kw: float = 0.0

    @property
    def min_voltage_pu(self) -> float:
        return min(self.voltages_pu.values()) if self.voltages_pu else math.nan

    @property
    def max_voltage_pu(self) -> float:
        return max(self.voltages_pu.values()) if self.voltages_pu else math.nan


def loss_proxy(pu: PerUnitThreePhase, p: np.ndarray, q: np.ndarray, *,
               source_only: bool = False) -> float:
    """``sum_e sum_i r_i (p_i^2 + q_i^2)`` [p.u.], the loss proxy of
    :mod:`feederopt.problems.threephase` (effective resistances ``r_i``); with
    ``source_only`` the part on the source edges (the source's Thevenin impedance)."""
    terms = effective_resistance(pu) * (p**2 + q**2)
    if source_only:
        ix = edge_phases(pu)
        terms = terms[[pu.edges[e].kind == "source" for e in ix.edge]]
    return float(np.sum(terms))


def lindist3flow_power_flow(net: ThreePhaseNetwork | PerUnitThreePhase, *,
                            open_switches: set[str] | None = None) -> ThreePhaseFlow:
    """LinDist3Flow voltages of ``net`` with the switches ``open_switches`` open (default: the
    base-case states)."""
    pu = net if isinstance(net, PerUnitThreePhase) else to_per_unit_3ph(
        net, open_switches=open_switches)
    block = lindist3flow(pu, voltage_limits=False)
    y = block.groups["y"]
    state = np.array([0.0 if e.normally_open else 1.0 for e in pu.edges])
    y.lb = state.copy()
    y.ub = state.copy()
    y.integer = False
    model = HighsModel(block, objective={})
    sol = model.solve()
    if not sol.has_solution:
        raise SolverError(f"LinDist3Flow power flow: HiGHS status {sol.status}")
    return flow_of(pu, model.values(), {e.id for e in pu.edges if e.normally_open})


def flow_of(pu: PerUnitThreePhase, vals: dict[str, np.ndarray],
            open_switches: set[str]) -> ThreePhaseFlow:
    """The :class:`ThreePhaseFlow` of a LinDist3Flow solution ``vals`` (the groups ``w``,
    ``p``, ``q`` of :func:`~feederopt.formulations.lindist3flow.lindist3flow` on ``pu``) with
    the edges ``open_switches`` open."""
    w = vals["w"]
    names = pu.node_names()
    volts = {name: float(math.sqrt(max(wi, 0.0)))
             for name, wi, b in zip(names, w, pu.node_bus, strict=True) if not pu.virtual[b]}
    ix = edge_phases(pu)
    src = [k for k, e in enumerate(ix.edge) if pu.edges[e].kind == "source"]
    p_src = float(vals["p"][src].sum()) * 1000 if src else math.nan
    q_src = float(vals["q"][src].sum()) * 1000 if src else math.nan
    return ThreePhaseFlow(
        voltages_pu=volts, source_p_kw=p_src, source_q_kvar=q_src,
        loss_proxy_kw=loss_proxy(pu, vals["p"], vals["q"]) * 1000,
        source_loss_proxy_kw=loss_proxy(pu, vals["p"], vals["q"], source_only=True) * 1000,
        open_switches=sorted(open_switches),
    )


@dataclass
class ThreePhaseTopology:
    """The answer of :func:`reconfigure_three_phase`."""

    #: optimal | time_limit | infeasible | error; feasible: OpenDSS's answer where the model's
    #: ratings admit none (:func:`feederopt.api_threephase_feedback.opendss_least_overloading`)
    status: str
    open_switches: list[str]
    #: The MILP's objective: the tangent-plane under-estimate of the loss proxy
    #: (``flow.loss_proxy_kw`` is the proxy itself); with the lazy tangents of
    #: :func:`reconfigure_three_phase` within ``LAZY_TOL`` of it when ``status`` is optimal;
    #: the proxy itself when the radial states were enumerated (``method``).
    loss_proxy_kw: float
    bound_kw: float
    solve_time_s: float
    flow: ThreePhaseFlow | None
    #: Why there is no topology (infeasible): which limits bind, and what to do.
    reason: str = ""
    #: The rated edges that carry more than their rating when the thermal limits are dropped
    #: (``"id (loading %)"``), for an answer that is infeasible because of them.
    overloaded: list[str] = field(default_factory=list)
    #: The elements on loops that no switch opens, per meshed part
    #: (:func:`feederopt.problems.threephase.permanent_loops`): closed in every topology.
    permanent_loops: list[list[str]] = field(default_factory=list)
    #: MILP solves (1 + the rounds of lazy tangents) and the tangent planes they added.
    milp_solves: int = 1
    tangents_added: int = 0
    #: Every tangent plane of the loss proxy beyond the fixed set that the MILP had at the end
    #: (given and added), to start a later solve of the same network with.
    tangents: list[Tangents] = field(default_factory=list)
    #: The cost of one switching action [kW of loss proxy] the MILP priced, the switches whose
    #: state differs from the base case's and their cost (``loss_proxy_kw`` leaves it out).
    switch_cost_kw: float = 0.0
    switching_actions: list[str] = field(default_factory=list)
    switching_cost_kw: float = 0.0
    #: With scenarios (:func:`reconfigure_three_phase_scenarios`): the LinDist3Flow power flow
    #: of the answer in each scenario (``flow`` is the first's), and the tangents per scenario.
    scenario_flows: list[ThreePhaseFlow] = field(default_factory=list)
    scenario_tangents: list[list[Tangents]] = field(default_factory=list)
    #: How the topology was searched: ``"milp"``, or ``"enumeration"`` (every radial switch
    #: state evaluated, :mod:`feederopt.algorithms.radial_enumeration`; ``milp_solves`` is
    #: then 0), with ``radial_states`` the number of those states and ``lp_solves`` the LPs.
    method: str = "milp"
    radial_states: int = 0
    lp_solves: int = 0
    #: What ``bound_kw`` rests on (:data:`BOUND_SOURCES`): ``"milp"`` (HiGHS's dual bound),
    #: ``"enumeration"`` (the states' own objectives: exact once every state was evaluated),
    #: ``"opendss"`` (no bound: OpenDSS's ranking of the radial states found an answer within
    #: every limit where the model's ratings admit none,
    #: :func:`feederopt.api_threephase_feedback.opendss_least_overloading`),
    #: ``"relaxation"`` (the MILP's LP relaxation, :func:`_relaxation_bound`, raised it:
    #: a time-limited run) or ``"trivial"`` (nothing better than 0 was had: the loss proxy and
    #: the switching cost are never negative, so no gap is proven).
    bound_source: str = "milp"
    #: A time-limited run that answers with the base topology, its incumbent (the MILP path's
    #: :func:`_base_if_better`, the enumeration's base state evaluated first), and the notes
    #: that say so to the user.
    base_kept: bool = False
    notes: list[str] = field(default_factory=list)
    #: Rated elements that every radial topology overloads alike (:func:`fixed_overloads`:
    #: their flow does not depend on the switches), ``"id (loading %)"``; their ratings were
    #: left out of the search, and OpenDSS's check reports them.
    fixed_overloads: list[str] = field(default_factory=list)


#: What a :class:`ThreePhaseTopology`'s ``bound_source`` means, for the CLI and the report.
BOUND_SOURCES = {
    "milp": "HiGHS's bound of the MILP",
    "enumeration": "the radial states' own objectives",
    "relaxation": "the MILP's LP relaxation (switch states continuous), for the radial states "
                  "not evaluated or not yet bounded",
    "trivial": "trivial: the loss proxy and switching cost are never negative; no relaxation "
               "was solved in time, so no gap is proven",
    "opendss": "none on the loss proxy: the model's ratings admit no radial state, and the "
               "answer is the least OpenDSS losses (plus switching cost) of the radial states "
               "that OpenDSS finds within every limit, every state solved by OpenDSS",
}


def switching_actions(pu: PerUnitThreePhase, open_switches: set[str]) -> list[str]:
    """The switchable edges of ``pu`` whose state with ``open_switches`` open differs from the
    base case's (sorted ids)."""
    return sorted(e.id for e in pu.edges
                  if e.switchable and (e.id in open_switches) != bool(e.normally_open))


def scale_ratings(pu: PerUnitThreePhase, *, thermal_limits: bool = True,
                  max_loading_percent: float | None = None) -> None:
    """Drop (``thermal_limits=False``) or scale (``max_loading_percent``, % of the rating) the
    current ratings of ``pu``'s edges, in place. OpenDSS gives every line 400 A unless the file
    says otherwise (IEEE 123 carries 631 A at its head), so a user must be able to lift them."""
    for e in pu.edges:
        if e.s_max_pu is None:
            continue
        if not thermal_limits:
            e.s_max_pu = None
        elif max_loading_percent is not None:
            e.s_max_pu = e.s_max_pu * max_loading_percent / 100.0
    for bk in pu.banks:  # the transformers' ratings alike
        for attr in ("s_max_pri", "s_max_sec"):
            val = getattr(bk, attr)
            if val is None:
                continue
            if not thermal_limits:
                setattr(bk, attr, None)
            elif max_loading_percent is not None:
                setattr(bk, attr, val * max_loading_percent / 100.0)


def _loadings(pu: PerUnitThreePhase, p: np.ndarray, q: np.ndarray,
              pt: np.ndarray | None = None, qt: np.ndarray | None = None, *,
              polygon_sides: int | None = None) -> dict[str, float]:
    """The largest per-phase loading ``|s| / s_max`` of every rated edge and transformer bank
    (given their flows ``pt, qt``; as ``"Transformer id"``), by name. With
    ``polygon_sides``, the loading the MILP's rating rows see instead: ``max_t (p cos t + q
    sin t) / s_max`` over the polygon's directions ``t = 2 pi j / polygon_sides``
    (:func:`feederopt.formulations.lindist3flow.lindist3flow`'s circumscribed polygon; at most
    ``|s| / s_max``, and the rows hold when it is at most 1)."""
    ix = edge_phases(pu)
    worst: dict[str, float] = {}

    def size(pp: float, qq: float) -> float:
        if polygon_sides is None:
            return math.hypot(pp, qq)
        th = 2 * np.pi * np.arange(polygon_sides) / polygon_sides
        return float(np.max(pp * np.cos(th) + qq * np.sin(th)))

    for k, e in enumerate(ix.edge):
        edge = pu.edges[e]
        if edge.s_max_pu:
            load = size(float(p[k]), float(q[k])) / edge.s_max_pu
            worst[edge.id] = max(worst.get(edge.id, 0.0), load)
    if pt is not None and qt is not None and len(pt):
        x = np.r_[np.asarray(pt, float), np.asarray(qt, float)]
        for bank, _, smax, prow, qrow in bank_flow_terms(pu, ix):
            load = size(float((prow @ x)[0]), float((qrow @ x)[0])) / smax
            key = f"Transformer {bank}"
            worst[key] = max(worst.get(key, 0.0), load)
    return worst


def tighten_ratings(pu: PerUnitThreePhase, factors: dict[str, float]) -> None:
    """Multiply the ratings of the edges and transformer banks named in ``factors`` (edge ids,
    ``"Transformer <bank id>"``, the keys of :func:`_loadings`) by their factor, in place:
    the voltage feedback's correction of a rating that OpenDSS's currents break where the
    lossless flow keeps it (:func:`feederopt.api_threephase_feedback._voltage_feedback`; per
    scenario, :func:`feederopt.api_threephase_feedback._scenario_feedback`)."""
    for e in pu.edges:
        if e.id in factors and e.s_max_pu is not None:
            e.s_max_pu = e.s_max_pu * factors[e.id]
    for bk in pu.banks:
        f = factors.get(f"Transformer {bk.id}")
        if f is None:
            continue
        for attr in ("s_max_pri", "s_max_sec"):
            val = getattr(bk, attr)
            if val is not None:
                setattr(bk, attr, val * f)


def _overloads(pu: PerUnitThreePhase, p: np.ndarray, q: np.ndarray,
               pt: np.ndarray | None = None, qt: np.ndarray | None = None) -> list[str]:
    """The rated edges and transformer banks (given their flows ``pt, qt``) whose per-phase
    flow exceeds the rating, worst first."""
    worst = {k: v for k, v in _loadings(pu, p, q, pt, qt).items() if v > 1.0 + 1e-6}
    return [f"{k} ({v * 100:.0f} %)" for k, v in sorted(worst.items(), key=lambda kv: -kv[1])]


def shift_voltage_limits(pu: PerUnitThreePhase, offsets: dict[str, float]) -> None:
    """Shift the voltage limits of ``pu``'s nodes by the offsets ``d_n = V_AC,n -
    V_LinDist3Flow,n`` [p.u.] (by node name ``"bus.a"``), in place: the MILP's ``w_n`` is bounded
    by ``[(v_min - d_n)^2, (v_max - d_n)^2]``, so that ``V_LinDist3Flow,n + d_n``, the AC voltage
    predicted with the offset measured at a topology, stays within ``[v_min, v_max]`` (the
    offset correction of :func:`feederopt.api_threephase.solve_three_phase`'s voltage
    feedback). Internal (virtual) nodes and nodes without an offset keep their range; a
    shifted lower limit below 0 is 0. The limits as given stay in ``w_min_given``,
    ``w_max_given`` (for the messages, :func:`_voltage_breaches`)."""
    if not offsets:
        return
    if pu.w_min_given is None or pu.w_max_given is None:
        pu.w_min_given, pu.w_max_given = pu.w_min.copy(), pu.w_max.copy()
    for k, name in enumerate(pu.node_names()):
        d = offsets.get(name)
        if d is None or pu.virtual[pu.node_bus[k]] or not math.isfinite(d):
            continue
        lo = max(math.sqrt(max(pu.w_min[k], 0.0)) - d, 0.0)
        hi = max(math.sqrt(max(pu.w_max[k], 0.0)) - d, lo)
        pu.w_min[k] = lo * lo
        pu.w_max[k] = hi * hi


def _milp_model(pu: PerUnitThreePhase, *, voltage_limits: bool, thermal_limits: bool,
                tangents: list[Tangents] | None = None, switch_cost_kw: float = 0.0,
                ) -> tuple[HighsModel, ThreePhaseReconfiguration]:
    """The reconfiguration MILP of ``pu`` on HiGHS, with the tangents ``tangents`` and the
    switching cost (less its constant, :func:`~feederopt.problems.threephase.
    switch_cost_objective`) in the objective; not solved."""
    prob = reconfiguration_block(pu, voltage_limits=voltage_limits,
                                 thermal_limits=thermal_limits)
    if switch_cost_kw:
        prob.block.add_objective("y", switch_cost_objective(pu, switch_cost_kw)[0])
    model = HighsModel(prob.block)
    for pick, p0, q0 in tangents or []:
        terms, rhs = loss_tangents_at(prob, pick, p0, q0)
        model.add_rows(terms, np.full(len(pick), -np.inf), rhs)
    return model, prob


def _milp(pu: PerUnitThreePhase, *, time_limit_s: float, gap: float, voltage_limits: bool,
          thermal_limits: bool, tangents: list[Tangents] | None = None,
          switch_cost_kw: float = 0.0,
          ) -> tuple[HighsModel, Any, ThreePhaseReconfiguration]:
    model, prob = _milp_model(pu, voltage_limits=voltage_limits,
                              thermal_limits=thermal_limits, tangents=tangents,
                              switch_cost_kw=switch_cost_kw)
    model.set_gap(gap)
    model.set_time_limit(time_limit_s)
    return model, model.solve(), prob


#: Tangent planes of the loss proxy at given flows: (indices into the lossy edge-phases, p0, q0)
#: (:func:`feederopt.problems.threephase.loss_tangents_at`).
Tangents = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Relative tolerance of the lazy tangents: the MILP's objective at the answer is within it of
#: the loss proxy of the answer's flows (:func:`_lazy_tangents`).
LAZY_TOL = 1e-3


def _lazy_tangents(prob: ThreePhaseReconfiguration, model: HighsModel, sol: Any,
                   deadline: float, tol: float = LAZY_TOL,
                   record: list[Tangents] | None = None,
                   ) -> tuple[Any, dict[str, np.ndarray], bool, int, int, float]:
    """Tangent planes of the loss proxy added where the answer's flows need them.

    The block's fixed tangents (:data:`feederopt.problems.threephase.RADII`, shares of the
    whole feeder's flow) count a per-phase flow ``s`` as lossless below ``rho_min / 2``
    (``2 rho |s| - rho^2 > 0`` only for ``|s| > rho / 2``): 2 % of the feeder's total
    ``|P| + |Q|`` (0.25 % with the 8 radii of 0.5 % to 64 % that were the whole objective
    before this loop; EPRI ckt24: 516 kW against a proxy of 849 kW at the answer). After a
    solve with flows ``(p_k, q_k)`` and loss variables ``l_k``, the under-estimate of
    edge-phase ``k`` is ``u_k = r_k (p_k^2 + q_k^2 - l_k) >= 0`` and the exact proxy of the
    answer is ``L = sum_k r_k (p_k^2 + q_k^2)``. While ``sum_k u_k > tol L``, the tangent
    ``l_k >= 2 p_k p + 2 q_k q - (p_k^2 + q_k^2)`` is added at every ``k`` with
    ``u_k > tol L / K`` (``K`` edge-phases; one exists, and the others sum to at most
    ``tol L``) and the MILP solved again, warm-started from the answer with
    ``l_k = p_k^2 + q_k^2`` (it satisfies every tangent, so it is feasible, at the exact
    proxy). As the balanced schedule's lazy loss tangents (``algorithms.ccg``), but the rows
    are new tangents at the answer's flows, not a fixed set held back.

    A tangent is below the paraboloid everywhere, so every solve's bound stays a lower bound of
    the exact proxy MILP; at the end ``objective >= (1 - tol) L``, so the answer is within
    ``tol`` (and the MIP gap) of the least proxy over all radial topologies. It ends: the flows
    of a topology are fixed (LinDist3Flow with fixed switches is a square linear system), so a
    topology chosen again has its tangents and its objective is then exact (Kelley's cutting
    planes on a finite set of flow points). Returns the last solution and its values, whether
    the tolerance was met, the solves, the tangents added and the seconds of all solves; the
    tangents added are appended to ``record``.

    Measured (old: 8 fixed radii x 16 directions, one solve; new: one radius x 8 directions and
    this loop; objective / proxy of the answer, MILP seconds on a shared 2-core machine):
    IEEE 13 (PowerModelsONM) 54.60 / 57.71 kW, 0.15 s -> 57.708 / 57.708, 3 solves, 0.16 s;
    IEEE 123 (stock, no ratings) 87.57 / 92.28, 1.0 s -> 92.274 / 92.276, 3 solves, 1.3 s;
    Iowa 240 41.19 / 51.27, 22.5 s -> 51.254 / 51.267, 3 solves, 15.2 s; EPRI ckt24
    (ratings 105 %) 519.7 / 854.7, 15.6 s -> 854.67 / 854.71, 2 solves, 3.9 s. The same
    topologies on these feeders; on a feeder whose switches carry small flows the old
    objective chose a worse one (``tests/test_threephase_lazy_tangents.py``)."""
    r = prob.r_diag[prob.lossy]
    solves, added, seconds = 1, 0, float(sol.solve_time_s)
    while True:
        vals = model.values()
        p, q, loss = vals["p"][prob.lossy], vals["q"][prob.lossy], vals["loss"]
        exact = p**2 + q**2
        under = r * (exact - loss)
        total = float(np.sum(r * exact))
        if math.isinf(tol) or float(np.sum(under)) <= tol * total:
            return sol, vals, True, solves, added, seconds
        left = deadline - time.perf_counter()
        if left <= 0.05 or sol.status != "optimal":  # out of time, or interrupted
            return sol, vals, False, solves, added, seconds
        pick = np.flatnonzero(under > tol * total / len(under))
        if record is not None:
            record.append((pick, p[pick], q[pick]))
        terms, rhs = loss_tangents_at(prob, pick, p[pick], q[pick])
        model.add_rows(terms, np.full(len(pick), -np.inf), rhs)
        added += len(pick)
        start = dict(vals)
        start["loss"] = np.maximum(loss, exact)
        model.warm_start(start)
        model.set_time_limit(left)
        new = model.solve()
        solves += 1
        seconds += new.solve_time_s
        if not new.has_solution:  # keep the last answer
            return sol, vals, False, solves, added, seconds
        sol = new


def _voltage_breaches(pu: PerUnitThreePhase, w: np.ndarray | None, most: int = 5,
                      without: str = "the voltage limits") -> str:
    """The nodes that the best topology without voltage limits puts outside them, the worst
    first, as ``"; without the voltage limits the best topology has, by LinDist3Flow, 675.b
    at 1.1371 p.u. (v_max 1.1000), ..."`` (user test ut_3ph #6: the message named no node);
    empty without ``w``.

    When the limits were shifted by OpenDSS's offsets ``d = V_OpenDSS - V_LinDist3Flow``
    (:func:`shift_voltage_limits`), each node says so: the limit given, the shifted limit
    that the model held (``v_min - d``, ``v_max - d``) and the voltage the offset predicts
    for OpenDSS (``V_LinDist3Flow + d``); user test ut45 dssday #2: "(limit 0.9957)" for a
    v_min of 0.993, with nothing saying that it was shifted. No OpenDSS voltage is quoted: the
    offset was measured at the topology OpenDSS solved, and ``V_LinDist3Flow + d`` at another
    topology is an extrapolation that OpenDSS need not come near (user test ut50_recheck #1:
    "OpenDSS at about 0.7567 p.u." where no radial state's OpenDSS solve goes below 0.8246)."""
    if w is None or len(w) != len(pu.w_min):
        return ""
    v = np.sqrt(np.maximum(np.asarray(w, float), 0.0))
    lo, hi = np.sqrt(np.maximum(pu.w_min, 0.0)), np.sqrt(np.maximum(pu.w_max, 0.0))
    given_lo = lo if pu.w_min_given is None else np.sqrt(np.maximum(pu.w_min_given, 0.0))
    given_hi = hi if pu.w_max_given is None else np.sqrt(np.maximum(pu.w_max_given, 0.0))
    excess = np.maximum(v - hi, lo - v)
    live = v > 1e-6  # a de-energised node (w = 0) is no voltage breach
    idx = [int(i) for i in np.argsort(-excess) if excess[i] > 1e-6 and live[i]][:most]
    if not idx:
        return ""
    names = pu.node_names()
    parts: list[str] = []
    for i in idx:
        above = bool(v[i] > hi[i])
        held, given = (hi[i], given_hi[i]) if above else (lo[i], given_lo[i])
        text = f"{names[i]} at {v[i]:.4f} p.u. ({'v_max' if above else 'v_min'} {given:.4f}"
        if abs(held - given) > 5e-5:  # shown to 4 decimals
            d = given - held
            text += (f"; held in the model as {held:.4f}, the limit shifted by OpenDSS's "
                     f"offset V_OpenDSS - V_LinDist3Flow = {d:+.4f}, measured at the "
                     "topology OpenDSS solved, not this one" if not any(
                         "held in" in x for x in parts)
                     else f"; held as {held:.4f}, offset {d:+.4f}")
        parts.append(text + ")")
    more = int(np.sum((excess > 1e-6) & live)) - len(idx)
    return (f"; without {without} the best topology has, by LinDist3Flow, "
            + ", ".join(parts) + (f" and {more} more node(s)" if more > 0 else ""))


def _lift_side(pu: PerUnitThreePhase, side: str) -> PerUnitThreePhase:
    """A copy of ``pu`` whose upper (``side="v_max"``) or lower (``"v_min"``) voltage limit is
    lifted to +-W_UNBOUNDED on every node but the sources', the other limit kept (the limits
    as given too, for :func:`_voltage_breaches`)."""
    out = deepcopy(pu)
    if out.w_min_given is None or out.w_max_given is None:
        out.w_min_given, out.w_max_given = out.w_min.copy(), out.w_max.copy()
    keep = np.zeros(out.n_nodes, bool)
    keep[out.source_nodes] = True
    if side == "v_max":
        out.w_max = np.where(keep, out.w_max, W_UNBOUNDED)
        out.w_max_given = np.where(keep, out.w_max_given, W_UNBOUNDED)
    else:
        out.w_min = np.where(keep, out.w_min, 0.0)
        out.w_min_given = np.where(keep, out.w_min_given, 0.0)
    return out


def _one_voltage_side(pu: PerUnitThreePhase, *, deadline: float, gap: float,
                      thermal_limits: bool) -> tuple[str, np.ndarray | None, float, str]:
    """Which voltage limit is broken, when the MILP is infeasible with both and feasible with
    neither: it is solved again with only v_max lifted (v_min kept), then with only v_min
    lifted; a side whose lifting alone admits a topology is named, as the option that sets it
    (``--v-max``, ``--v-min``), with that topology's ``w`` (its breaches of the lifted side,
    :func:`_voltage_breaches`, follow). User test ut50_recheck #1: ``--v-max 1.03`` on IEEE 13,
    which every radial state's OpenDSS solve breaks (1.069-1.090 p.u.), was blamed on nodes
    below v_min at 0.76 p.u. of the loss-minimal topology with no voltage limit at all.
    Returns the text (empty when neither side alone admits one, or out of time), the ``w``
    (None then), the solver seconds and the side lifted ("" when none is named)."""
    seconds = 0.0
    admits: list[tuple[str, np.ndarray | None]] = []
    for side in ("v_max", "v_min"):
        left = _time_left(deadline)
        if left is None:
            return "", None, seconds, ""
        model, sol, _ = _milp(_lift_side(pu, side), time_limit_s=left, gap=gap,
                              voltage_limits=True, thermal_limits=thermal_limits)
        seconds += sol.solve_time_s
        if sol.has_solution:
            admits.append((side, model.values().get("w")))
    if len(admits) != 1:  # neither side alone, or either side alone: no one side to blame
        text = ("; lifting v_max or v_min alone admits no topology: both bind"
                if not admits else "")
        return text, None, seconds, ""
    side, w = admits[0]
    other = "v_min" if side == "v_max" else "v_max"
    return (f"; the {side} limit is the one broken (--{side.replace('_', '-')}): with only "
            f"{side} lifted, {other} kept, a radial topology exists", w, seconds, side)


def _time_left(deadline: float) -> float | None:
    """The seconds left before ``deadline`` for one more diagnosis MILP; None when too few
    (under 0.05 s) to start one."""
    left = deadline - time.perf_counter()
    return left if left > 0.05 else None


def _why_infeasible(pu: PerUnitThreePhase, *, deadline: float, gap: float,
                    voltage_limits: bool, thermal_limits: bool,
                    ) -> tuple[str, list[str], float]:
    """Which limits make the MILP infeasible: it is solved again without the thermal limits,
    then without the voltage limits, then without both; the first that is feasible names the
    binding limits. Feasible only without both, each set of limits alone admits no topology:
    the voltage limits are named first (they bind whatever the ratings; the reason starts as
    the voltage limits' alone do, so that OpenDSS's verdict over the radial states follows,
    :func:`feederopt.api_threephase_feedback.opendss_within_voltage_states`), with the
    ratings' overloads after. When none is, no limit is to blame (a load that no radial
    topology reaches on its phase).

    The re-solves share what is left of the run's time, up to ``deadline`` (each gets the
    time left, none starts with under 0.05 s left: user test ut50_dss3 #1, where each got the
    whole --time-limit again and a 60 s run took 148 s); when one runs out of time unproven,
    the reason says that the time limit cut the diagnosis short instead of blaming a limit it
    did not prove. Returns the reason, the overloads the ratings bind (for
    :func:`_least_overloading`) and the re-solves' solver seconds (the time row counts them)."""
    hint = "--max-loading PCT (e.g. 200) or --no-thermal-limits"
    seconds = 0.0
    unproven = False
    proven: list[tuple[bool, bool]] = []  # (voltage, thermal) limits proven infeasible alone

    def resolve(voltage: bool, thermal: bool) -> tuple[HighsModel, Any] | None:
        nonlocal seconds, unproven
        left = _time_left(deadline)
        if left is None:
            unproven = True
            return None
        model, sol, _ = _milp(pu, time_limit_s=left, gap=gap, voltage_limits=voltage,
                              thermal_limits=thermal)
        seconds += sol.solve_time_s
        if sol.status == "infeasible":
            proven.append((voltage, thermal))
        elif not sol.has_solution:
            unproven = True
        return (model, sol) if sol.has_solution else None

    if thermal_limits:
        found = resolve(voltage_limits, False)
        if found is not None:
            vals = found[0].values()
            over = _overloads(pu, vals["p"], vals["q"], vals.get("pt"), vals.get("qt"))
            named = f" ({', '.join(over[:5])}{' ...' if len(over) > 5 else ''})" if over else ""
            return (f"infeasible: the current limits bind{named}; OpenDSS rates a line "
                    "400 A unless the file sets NormAmps, a transformer at its normhkva "
                    f"(110 % of kVA unless set); try {hint}", over, seconds)
    if voltage_limits:
        found = resolve(False, thermal_limits)
        if found is not None:
            side = _one_voltage_side(pu, deadline=deadline, gap=gap,
                                     thermal_limits=thermal_limits)
            seconds += side[2]
            w = found[0].values().get("w") if side[1] is None else side[1]
            lifted = "the voltage limits" if side[1] is None else side[3]
            return ("infeasible: no radial topology keeps every voltage within its limits "
                    "(LinDist3Flow)" + side[0] + _voltage_breaches(pu, w, without=lifted), [],
                    seconds)
    if thermal_limits and voltage_limits and not unproven:
        found = resolve(False, False)
        if found is not None:
            # each alone admits no topology (both MILPs above were infeasible): the voltage
            # limits bind whatever the ratings, so they come first (user test ut48_dss3 #3:
            # "the current and voltage limits bind together; try --max-loading ..." where
            # --no-thermal-limits then said "no radial topology keeps every voltage")
            vals = found[0].values()
            over = _overloads(pu, vals["p"], vals["q"], vals.get("pt"), vals.get("qt"))
            named = f" ({', '.join(over[:5])}{' ...' if len(over) > 5 else ''})" if over else ""
            return ("infeasible: no radial topology keeps every voltage within its limits "
                    "(LinDist3Flow), whatever the ratings" + _voltage_breaches(pu, vals.get("w"))
                    + f"; the ratings alone admit none either{named}, so --max-loading or "
                    "--no-thermal-limits alone does not make it feasible", [], seconds)
    if unproven and voltage_limits and (True, False) in proven:
        # the voltage limits alone admit none (proven); whether the ratings do is not known
        return ("infeasible: no radial topology keeps every voltage within its limits "
                "(LinDist3Flow), whatever the ratings: the MILP without the current limits is "
                "infeasible too; the time limit ran out before the re-solve without the "
                "voltage limits ended, so whether the ratings alone admit one is not known",
                [], seconds)
    if unproven and thermal_limits and (False, True) in proven:
        return ("infeasible: the current limits alone admit no radial topology (the MILP "
                "without the voltage limits is infeasible too; the time limit ran out before "
                f"the re-solve without the current limits ended); try {hint}", [], seconds)
    if unproven:
        lifted = " and ".join(x for x, on in (("the current limits", thermal_limits),
                                              ("the voltage limits", voltage_limits)) if on)
        return ("infeasible: no radial topology is within the limits (LinDist3Flow); the time "
                f"limit ran out before the re-solves without {lifted or 'them'} named which "
                "bind; raise --time-limit to learn which, or try --no-voltage-feedback, "
                f"{hint}", [], seconds)
    return ("infeasible: no radial topology feeds every load on its phases, with or without "
            "the voltage and current limits"), [], seconds


#: The least-overloading topology of an infeasible solve (:func:`_least_overloading`): at
#: most this many MILPs bisect the ratings' scale, to this relative resolution.
LEAST_OVERLOAD_MILPS = 6
LEAST_OVERLOAD_RESOLUTION = 0.01


def _scaled(pu: PerUnitThreePhase, scale: float) -> PerUnitThreePhase:
    """A copy of ``pu`` with every rating times ``scale`` (:func:`scale_ratings`)."""
    out = deepcopy(pu)
    scale_ratings(out, max_loading_percent=scale * 100.0)
    return out


def _answer_loadings(net: ThreePhaseNetwork, opened: set[str],
                     max_loading_percent: float | None,
                     polygon_sides: int | None = None) -> dict[str, float]:
    """The loadings (:func:`_loadings`, of the ratings as scaled by ``max_loading_percent``;
    with ``polygon_sides`` as the rating rows see them) of the LinDist3Flow power flow of
    ``net`` with ``opened`` open."""
    pu = to_per_unit_3ph(net, open_switches=opened)
    scale_ratings(pu, max_loading_percent=max_loading_percent)
    block = lindist3flow(pu, voltage_limits=False, thermal_limits=False)
    y = block.groups["y"]
    y.lb = y.ub = np.array([0.0 if e.normally_open else 1.0 for e in pu.edges])
    y.integer = False
    model = HighsModel(block, objective={})
    if not model.solve().has_solution:
        return {}
    vals = model.values()
    return _loadings(pu, vals["p"], vals["q"], vals.get("pt"), vals.get("qt"),
                     polygon_sides=polygon_sides)


def model_loadings(net: ThreePhaseNetwork, open_switches: set[str],
                   max_loading_percent: float | None = None) -> dict[str, float]:
    """The loading (1 = at the rating as ``max_loading_percent`` scales it) of every rated line
    (by id) and transformer bank (``"Transformer <bank id>"``) in the LinDist3Flow power flow
    of ``net`` with ``open_switches`` open, as the MILP's 12-sided rating rows see it
    (:func:`_loadings` with ``polygon_sides=12``); empty when that flow has no solution."""
    return _answer_loadings(net, set(open_switches), max_loading_percent, polygon_sides=12)


def model_overloads(net: ThreePhaseNetwork, open_switches: set[str],
                    max_loading_percent: float | None, leave_out: set[str]) -> list[str]:
    """``"id (L %)"`` of each rated element but ``leave_out`` that the LinDist3Flow power
    flow of ``net`` with ``open_switches`` open loads above its limit (L: % of the rating as
    ``max_loading_percent`` scales it, :func:`_loadings`), worst first: the ``overloaded``
    of a least-overloading topology (:func:`_least_overloading`)."""
    loads = {k: v for k, v in _answer_loadings(net, open_switches, max_loading_percent).items()
             if k not in leave_out}
    return [f"{k} ({v * 100:.1f} %)"
            for k, v in sorted(loads.items(), key=lambda kv: -kv[1]) if v > 1.0 + 1e-6]


def _least_overloading(net: ThreePhaseNetwork, pu: PerUnitThreePhase,
                       states: list[RadialState] | None, binding: list[str], *, t0: float,
                       time_limit_s: float, gap: float, voltage_limits: bool,
                       max_loading_percent: float | None, voltage_offsets: dict[str, float],
                       tangents: list[Tangents], switch_cost_kw: float,
                       max_enumerated_states: int | None,
                       unrated: set[str] | None = None) -> ThreePhaseTopology | None:
    """The least-overloading topology of a solve that is infeasible because of the ratings
    alone (``binding``, the overloads :func:`_why_infeasible` names): the least uniform scale
    ``lambda >= 1`` of every rating (lines and transformers, on top of
    ``max_loading_percent``) at which a radial topology within the limits exists, and that
    scale's loss-minimal topology
    (:func:`reconfigure_three_phase` at ``max_loading_percent * lambda``) with status
    ``infeasible`` (no topology holds the ratings; proven by the MILP or the enumeration) and
    a note naming ``lambda`` and the elements it overloads.

    With the radial states enumerated, ``lambda`` is exact: each state has one flow
    (:func:`~feederopt.algorithms.radial_enumeration.state_flows`, the voltage limits held),
    and ``lambda`` is the least over the states of the largest loading ``|s|/s_max``. Else it
    is bisected (geometric) between 1 (infeasible) and the largest loading of the MILP's
    answer without the ratings (feasible), with at most :data:`LEAST_OVERLOAD_MILPS` MILPs
    within the time left, down to :data:`LEAST_OVERLOAD_RESOLUTION` relative; ``lambda`` is
    then the upper end, at most that much above the least scale. The rating rows are the
    circumscribed 12-gon of ``|s| <= s_max``, so the topology found at ``lambda`` (times
    ``1 + 1e-6``) may load up to ``1/cos(15 deg)`` of it. None when no flow is had in
    the time left."""
    deadline = t0 + time_limit_s
    exact = states is not None
    spent = 0.0  # the bisection's solver seconds, counted in the answer's
    if states is not None:
        loads = [max(_loadings(pu, v["p"], v["q"], v.get("pt"), v.get("qt")).values(),
                     default=0.0)
                 for v in state_flows(pu, states, voltage_limits=voltage_limits,
                                      deadline=deadline) if v is not None]
        if not loads:
            return None
        hi = max(min(loads), 1.0)
    else:
        model, sol, _ = _milp(pu, time_limit_s=max(deadline - time.perf_counter(), 0.5),
                              gap=gap, voltage_limits=voltage_limits, thermal_limits=False)
        spent += sol.solve_time_s
        if not sol.has_solution:
            return None
        vals = model.values()
        hi = max(max(_loadings(pu, vals["p"], vals["q"], vals.get("pt"),
                               vals.get("qt")).values(), default=1.0), 1.0)
        lo = 1.0
        for _ in range(LEAST_OVERLOAD_MILPS):
            left = deadline - time.perf_counter()
            if hi <= lo * (1 + LEAST_OVERLOAD_RESOLUTION) or left <= 0:
                break
            mid = math.sqrt(lo * hi)
            _, s, _ = _milp(_scaled(pu, mid), time_limit_s=left, gap=gap,
                            voltage_limits=voltage_limits, thermal_limits=True)
            spent += s.solve_time_s
            if s.has_solution:
                hi = mid
            elif s.status == "infeasible":
                lo = mid
            else:  # out of time: hi holds
                break
    scale = hi * (1 + 1e-6)
    base_pct = 100.0 if max_loading_percent is None else max_loading_percent
    at = to_per_unit_3ph(net)
    shift_voltage_limits(at, voltage_offsets)
    scale_ratings(at, max_loading_percent=base_pct * scale)
    _drop_ratings(at, unrated or set())
    topo = _reconfigure(
        net, at, t0=time.perf_counter(),
        time_limit_s=max(deadline - time.perf_counter(), 1.0), gap=gap,
        voltage_limits=voltage_limits, thermal_limits=True,
        max_loading_percent=base_pct * scale, tangent_tol=LAZY_TOL,
        voltage_offsets=voltage_offsets, tangents=tangents, switch_cost_kw=switch_cost_kw,
        max_enumerated_states=max_enumerated_states, least_overloading=False,
        unrated=unrated or set())
    if topo.flow is None:
        return None
    topo.solve_time_s += spent
    names = ", ".join(b.rsplit(" (", 1)[0].replace("Transformer ", "Transformer.")
                      for b in binding[:5]) or "every element"
    of = f" of {base_pct:g} %" if max_loading_percent is not None else ""
    topo.status = "infeasible"
    topo.overloaded = model_overloads(net, set(topo.open_switches), max_loading_percent,
                                      unrated or set())
    topo.reason = (
        f"infeasible: no radial topology keeps {names} within its rating{of}; this one "
        "overloads least: " + (", ".join(topo.overloaded) or "-") + " (LinDist3Flow)"
    ).replace("Transformer ", "Transformer.")
    how = (f"exact over the {len(states or [])} radial states" if exact
           else "bisected to 1 %")
    topo.notes.append(
        f"least-overloading topology by LinDist3Flow's loadings: the ratings must be scaled "
        f"by lambda = {hi:.4f} "
        f"({how}) for a radial topology to exist; this is the loss-minimal one at that scale; "
        "OpenDSS's check reports its own loadings; --max-loading or --no-thermal-limits "
        "accept the overload")
    return topo


def _enumerated(nets: list[ThreePhaseNetwork], pus: list[PerUnitThreePhase],
                weights: np.ndarray, states: list[RadialState], *, t0: float,
                time_limit_s: float, voltage_limits: bool, thermal_limits: bool,
                switch_cost_kw: float, tangents: list[list[Tangents]],
                loops: list[list[str]],
                ) -> tuple[ThreePhaseTopology | None, Evaluation, str]:
    """The answer of the exhaustive search over ``states``
    (:func:`feederopt.algorithms.radial_enumeration.evaluate_states`) as the MILP path gives
    it, or None when no state is within every scenario's limits or the time ran out before
    one was found (the caller says why), the evaluation (its ``bound_kw`` raised by
    :func:`_enumeration_bound` out of time) and what the bound rests on. ``loss_proxy_kw`` is
    the weighted loss proxy of the answer's flows: the MILP restricted to that state, with the
    lazy tangents, converges to it (the tangent at the flows is exact); the tangents at the
    answer's flows are recorded after ``tangents`` (per scenario), as the lazy tangents would
    add them. Out of time with the base state as the best found (it is evaluated first, the
    incumbent), ``base_kept`` is set and a note says so."""
    ev = evaluate_states(pus, weights, states, deadline=t0 + time_limit_s,
                         voltage_limits=voltage_limits, thermal_limits=thermal_limits,
                         switch_cost_kw=switch_cost_kw)
    known = [list(t) for t in tangents]
    if ev.best is None:
        ev.bound_kw, source = _enumeration_bound(
            ev, pus, weights, known, voltage_limits=voltage_limits,
            thermal_limits=thermal_limits, switch_cost_kw=switch_cost_kw)
        return None, ev, source
    opened = set(states[ev.best].open_switches)
    added = 0
    for s, vals in enumerate(ev.flows):
        lossy = np.flatnonzero(effective_resistance(pus[s]) > 0)
        pk, qk = vals["p"][lossy], vals["q"][lossy]
        pick = np.flatnonzero(pk**2 + qk**2 > 0)
        if len(pick):
            known[s].append((pick, pk[pick], qk[pick]))
            added += len(pick)
    # the flow of every edge open in this state (the switches, and any open edge that no
    # switch is), as lindist3flow_power_flow(net, open_switches=opened) names them
    shut = opened | {e.id for e in pus[0].edges if not e.switchable and e.normally_open}
    flows = [flow_of(pu, vals, shut) for pu, vals in zip(pus, ev.flows, strict=True)]
    actions = switching_actions(pus[0], opened)
    ev.bound_kw, source = _enumeration_bound(
        ev, pus, weights, known, voltage_limits=voltage_limits, thermal_limits=thermal_limits,
        switch_cost_kw=switch_cost_kw)
    topo = ThreePhaseTopology(
        ev.status, sorted(opened), ev.proxy_kw, ev.bound_kw, time.perf_counter() - t0,
        flows[0], permanent_loops=loops, milp_solves=0, tangents_added=added,
        tangents=known[0], switch_cost_kw=switch_cost_kw, switching_actions=actions,
        switching_cost_kw=switch_cost_kw * len(actions), scenario_flows=flows,
        scenario_tangents=known, method="enumeration", radial_states=len(states),
        lp_solves=ev.lp_solves, bound_source=source)
    base_open = {e.id for e in pus[0].edges if e.switchable and e.normally_open}
    if ev.status == "time_limit" and opened == base_open:
        topo.base_kept = True
        topo.notes.append(_base_kept_note(
            time_limit_s, ev.proxy_kw, f"no radial state evaluated in that time (of "
            f"{len(states)}) is better"))
    return topo, ev, source


#: Most seconds for the base topology's LinDist3Flow check after a time-limited MILP
#: (:func:`_base_if_better`; its LPs take milliseconds).
BASE_CHECK_S = 5.0


def _base_if_better(pus: list[PerUnitThreePhase], weights: np.ndarray, answer_kw: float, *,
                    voltage_limits: bool, thermal_limits: bool,
                    ) -> tuple[RadialState, Evaluation] | None:
    """The base topology, when a time-limited MILP's answer (``answer_kw``: its weighted loss
    proxy plus switching cost, ``inf`` without an answer) is worse: the base state when the
    radiality rows allow it (:func:`~feederopt.algorithms.radial_enumeration.base_state`), is
    within every scenario's limits (:func:`~feederopt.algorithms.radial_enumeration.
    evaluate_states`, the MILP's own rows) and has less weighted loss proxy; else None."""
    st = base_state(pus[0])
    if st is None:
        return None
    ev = evaluate_states(pus, weights, [st], deadline=time.perf_counter() + BASE_CHECK_S,
                         voltage_limits=voltage_limits, thermal_limits=thermal_limits)
    if ev.best is None or not ev.proxy_kw < answer_kw:
        return None
    return st, ev


#: Most seconds for the LP relaxation that bounds a time-limited search
#: (:func:`_relaxation_bound`; 0.3 s with the block's construction on Iowa 240).
BOUND_CHECK_S = 5.0

#: A lower bound at or below this [kW] says no more than that the loss proxy and the
#: switching cost are never negative: it is trivial (``bound_source``).
TRIVIAL_BOUND_KW = 1e-9


def _relaxation_bound(model: HighsModel, const: float) -> float:
    """The optimum of the LP relaxation of the reconfiguration MILP ``model`` (every switch
    state continuous in [0, 1]) plus ``const`` (the switching cost's constant) [kW], or
    ``-inf`` when HiGHS does not solve it to optimality within :data:`BOUND_CHECK_S`.

    It is a lower bound of the least loss proxy plus switching cost over the radial states
    within the limits (the enumeration's optimum, :mod:`feederopt.algorithms.
    radial_enumeration`, and the MILP's with exact losses). Such a state's LinDist3Flow flow,
    with ``y`` its switch states and each loss variable ``l_k = p_k^2 + q_k^2``, satisfies
    every row of the MILP: the LinDist3Flow rows, limits and flow bounds are the
    enumeration's own, the radiality rows admit every radial state, and each tangent row
    ``l_k >= 2 p0 p_k + 2 q0 q_k - (p0^2 + q0^2)`` holds, a tangent being below the
    paraboloid; the objective ``sum_k r_k l_k`` plus the switching cost is there the state's
    proxy plus switching cost exactly. Dropping the integrality of ``y`` only enlarges the
    feasible set, so the relaxation's optimum is at most any such state's objective (to
    HiGHS's tolerances), whatever tangents the model holds. Weak where the big-M rows let a
    fractional ``y`` split the flow (Iowa 240: 31.27 kW against the optimum's 51.27 kW), but
    not trivial. ``model`` is left set to the MILP again."""
    model.set_relaxation(True)
    model.set_time_limit(BOUND_CHECK_S)
    try:
        sol = model.solve()
    finally:
        model.set_relaxation(False)
    if sol.status != "optimal" or not sol.has_solution or not math.isfinite(sol.objective):
        return -math.inf
    return float(sol.objective) + const


def _milp_bound(model: HighsModel, sol: Any, const: float) -> tuple[float, str]:
    """The lower bound of a MILP that HiGHS stopped (time limit), plus the switching cost's
    constant ``const``, and what it rests on: HiGHS's dual bound, or the LP relaxation
    (:func:`_relaxation_bound`) when that is higher. The relaxation is solved only when
    HiGHS's branch and bound has no node yet or its bound is not finite: stopped within its
    root (Iowa 240 at 0.01-0.05 s: ``-inf``; at 0.1 s 28.02 kW against the relaxation's 31.27
    kW); after the root its bound is at least the root LP's, which is the relaxation's."""
    bound = sol.bound + const
    if sol.status == "time_limit" and (sol.nodes == 0 or not math.isfinite(bound)):
        relaxed = _relaxation_bound(model, const)
        if relaxed > bound:
            return relaxed, _bound_source(relaxed, "relaxation")
    return bound, _bound_source(bound, "milp")


def _time_limited(model: HighsModel, sol: Any, const: float, pus: list[PerUnitThreePhase],
                  weights: np.ndarray, answer_kw: float, paid_kw: float, opened: set[str],
                  time_limit_s: float, *, voltage_limits: bool, thermal_limits: bool,
                  weighted: bool = False,
                  ) -> tuple[float, str, tuple[RadialState, Evaluation] | None, list[str]]:
    """The MILP stopped by the time limit with an answer (``opened``; its weighted loss proxy
    ``answer_kw``, switching cost ``paid_kw``): its bound and what it rests on
    (:func:`_milp_bound`), the base state when it is better (:func:`_base_if_better`), and the
    note when the base topology is the answer, kept or found."""
    bound, source = _milp_bound(model, sol, const)
    kept = _base_if_better(pus, weights, answer_kw + paid_kw, voltage_limits=voltage_limits,
                           thermal_limits=thermal_limits)
    notes: list[str] = []
    if kept is not None:
        notes.append(_base_kept_note(
            time_limit_s, kept[1].proxy_kw, "the MILP's best answer in that time "
            f"({answer_kw + paid_kw:.3f} kW of {'weighted ' if weighted else ''}loss proxy "
            "plus switching cost) is worse"))
    elif opened == {e.id for e in pus[0].edges if e.switchable and e.normally_open}:
        notes.append(_base_kept_note(time_limit_s, answer_kw,
                                     "it is the MILP's best answer in that time"))
    return bound, source, kept, notes


def _base_kept_note(time_limit_s: float, proxy_kw: float, why: str) -> str:
    """The note of a time-limited search that answers with the base topology (its loss
    proxy ``proxy_kw``), ``why``; the voltage feedback's own is :func:`feederopt.
    api_threephase.base_kept_note`."""
    return (f"the time limit ({time_limit_s:g} s for this search) ran out before it proved an "
            f"answer; the base topology (within the limits, loss proxy {proxy_kw:.3f} kW) is "
            f"kept: {why}; raise --time-limit for a proven answer")


def _bound_source(bound: float, source: str) -> str:
    """``source``, or ``"trivial"`` when ``bound`` says no more than that the objective is not
    negative (:data:`TRIVIAL_BOUND_KW`)."""
    if bound == math.inf or (math.isfinite(bound) and bound > TRIVIAL_BOUND_KW):
        return source
    return "trivial"


def _enumeration_bound(ev: Evaluation, pus: list[PerUnitThreePhase], weights: np.ndarray,
                       tangents: list[list[Tangents]], *, voltage_limits: bool,
                       thermal_limits: bool, switch_cost_kw: float) -> tuple[float, str]:
    """The lower bound of an enumeration and what it rests on (``bound_source``).

    Every state evaluated (optimal, infeasible): the evaluation's own. Out of time, the
    evaluation's bound is ``min(best, U)`` with ``U`` the least partial objective of the states
    not done, which is their switching cost alone (0 for most) for the states not evaluated at
    all: a bound of 0 that says nothing. Then the LP relaxation ``R`` of the MILP over all the
    states (:func:`_relaxation_bound`: single case or scenarios, with the tangents known) is a
    lower bound of every state's objective, so of the least over the states not done, and the
    bound is ``min(best, max(U, R))`` (``best`` the least objective evaluated, ``inf``
    without one): every state is either evaluated (at least ``best``) or not done (at least
    ``U`` and at least ``R``)."""
    if ev.status != "time_limit":
        return ev.bound_kw, "enumeration"
    best = ev.objective if ev.best is not None else math.inf
    if not ev.bound_kw < best:  # the states not done cannot beat the best: no relaxation
        return ev.bound_kw, _bound_source(ev.bound_kw, "enumeration")
    if len(pus) == 1 and float(weights[0]) == 1.0:
        model, _ = _milp_model(pus[0], voltage_limits=voltage_limits,
                                  thermal_limits=thermal_limits, tangents=tangents[0],
                                  switch_cost_kw=switch_cost_kw)
        const = switch_cost_objective(pus[0], switch_cost_kw)[1] if switch_cost_kw else 0.0
    else:
        model, sprob = _scenario_model(pus, weights, tangents, voltage_limits=voltage_limits,
                                       thermal_limits=thermal_limits,
                                       switch_cost_kw=switch_cost_kw)
        const = sprob.switch_cost_const
    relaxed = _relaxation_bound(model, const)
    if not relaxed > ev.bound_kw:
        return ev.bound_kw, _bound_source(ev.bound_kw, "enumeration")
    bound = min(best, relaxed)
    return bound, _bound_source(bound, "relaxation" if relaxed < best else "enumeration")


def _states_to_enumerate(pu: PerUnitThreePhase, most: int | None) -> list[RadialState] | None:
    """The radial states of ``pu`` when there are at most ``most`` of them (default
    :data:`~feederopt.algorithms.radial_enumeration.ENUMERATION_MAX_STATES`; 0: never)."""
    most = ENUMERATION_MAX_STATES if most is None else most
    return radial_states(pu, most) if most > 0 else None


def fixed_flow_elements(pu: PerUnitThreePhase) -> set[str]:
    """The elements whose flow no radial topology changes: the bridges of the graph of the
    buses with every edge and transformer bank of ``pu`` (the switchable ones closed) as an
    edge. A bridge's far side is the same set of buses in every radial topology that feeds
    them all, so it carries that side's load (and losses) whatever the switches. Edges by id,
    banks as ``"Transformer id"`` (the keys of :func:`_loadings`); two elements between the
    same buses are never bridges."""
    between: dict[tuple[int, int], list[str]] = {}
    for e in pu.edges:
        between.setdefault((min(e.f, e.t), max(e.f, e.t)), []).append(e.id)
    for bk in pu.banks:
        between.setdefault((min(bk.f, bk.t), max(bk.f, bk.t)), []).append(f"Transformer {bk.id}")
    g: Any = nx.Graph()
    g.add_edges_from(k for k in between if k[0] != k[1])
    return {name for a, b in nx.bridges(g) for name in between[(min(a, b), max(a, b))]
            if len(between[(min(a, b), max(a, b))]) == 1}


def fixed_overloads(net: ThreePhaseNetwork, pu: PerUnitThreePhase,
                    max_loading_percent: float | None) -> dict[str, float]:
    """The rated elements of :func:`fixed_flow_elements` that the base topology's LinDist3Flow
    power flow loads above their rating (``max_loading_percent`` of it), with their loading
    (1 = at rating). No reconfiguration relieves them (their far side's load is theirs in
    every radial topology), so holding their rating would make every topology infeasible and
    hide what the switches can do for the rest; empty when the base topology has no flow."""
    fixed = fixed_flow_elements(pu)
    rated = {e.id for e in pu.edges if e.s_max_pu} | {
        f"Transformer {bk.id}" for bk in pu.banks
        if bk.s_max_pri is not None or bk.s_max_sec is not None}
    if not fixed & rated:
        return {}
    try:
        loads = _answer_loadings(net, _feeding_open_switches(pu), max_loading_percent)
    except SolverError:
        return {}
    return {k: v for k, v in loads.items() if k in fixed and v > 1.0 + 1e-6}


def _feeding_open_switches(pu: PerUnitThreePhase) -> set[str]:
    """The open switches of a radial topology that feeds every bus it can: a spanning forest
    (:func:`~feederopt.network.topology.max_spanning_forest`) of the banks and closed
    non-switchable edges first, then the base case's closed switches, then the others. The
    base case itself when it feeds every bus; when it does not (a file that opens a switch
    which cuts buses off: user test ut_3ph2 D2), the bridges' flows of the base were those of
    a feeder without those buses, and the fixed overloads came out empty."""
    from feederopt.network.topology import max_spanning_forest

    live = [e for e in pu.edges if e.switchable or not e.normally_open]
    f = np.array([bk.f for bk in pu.banks] + [e.f for e in live], dtype=int)
    t = np.array([bk.t for bk in pu.banks] + [e.t for e in live], dtype=int)
    fixed = np.array([True] * len(pu.banks) + [not e.switchable for e in live], dtype=bool)
    weight = np.array([1.0] * len(pu.banks) + [0.0 if e.normally_open else 1.0 for e in live])
    sources = np.zeros(len(pu.bus_ids), bool)
    sources[np.asarray(pu.node_bus)[np.asarray(pu.source_nodes, int)]] = True
    chosen = max_spanning_forest(len(pu.bus_ids), f, t, weight, fixed, sources)
    return {e.id for e, on in zip(live, chosen[len(pu.banks):], strict=True)
            if e.switchable and not on}


def _drop_ratings(pu: PerUnitThreePhase, names: set[str]) -> None:
    """Leave the ratings of ``names`` (edge ids, ``"Transformer id"``) out of ``pu``."""
    for e in pu.edges:
        if e.id in names:
            e.s_max_pu = None
    for bk in pu.banks:
        if f"Transformer {bk.id}" in names:
            bk.s_max_pri = bk.s_max_sec = None


def _fixed_overload_labels(over: dict[str, float], max_loading_percent: float | None,
                           where: dict[str, str] | None = None) -> list[str]:
    """``"id (L % of its rating)"`` per element of ``over`` (loadings of the limit, 1 = at
    ``max_loading_percent`` of the rating), worst first; ``where[id]`` names the scenario."""
    scale = (100.0 if max_loading_percent is None else max_loading_percent) / 100.0
    return [f"{k} ({v * scale * 100:.1f} % of its rating"
            + (f", scenario {where[k]}" if where and k in where else "") + ")"
            for k, v in sorted(over.items(), key=lambda kv: -kv[1])]


def _fixed_overload_note(labels: list[str], max_loading_percent: float | None) -> str:
    limit = 100.0 if max_loading_percent is None else max_loading_percent
    named = ", ".join(lab.replace("Transformer ", "Transformer.") for lab in labels)
    return (f"{named}: LinDist3Flow puts these above {limit:g} % of their rating in every "
            "radial topology (the base topology's flow), and no switch changes their flow "
            "(bridges of the feeder's graph: the same buses behind them whatever the "
            "switches), so no switching relieves them (fixed_overloads): their ratings are "
            "left out of the search, which holds the others. OpenDSS's check gives their "
            "loading from its own currents (it may differ from the model's; "
            "opendss_fixed_overloads names those it finds above). Relieving them takes more "
            "than switching (a larger unit, less load); --max-loading accepts the overload")


def reconfigure_three_phase(net: ThreePhaseNetwork, *, time_limit_s: float = 300.0,
                            gap: float = 1e-4, voltage_limits: bool = True,
                            thermal_limits: bool = True,
                            max_loading_percent: float | None = None,
                            tangent_tol: float = LAZY_TOL,
                            voltage_offsets: dict[str, float] | None = None,
                            tangents: list[Tangents] | None = None,
                            switch_cost_kw: float = 0.0,
                            max_enumerated_states: int | None = None,
                            least_overloading: bool = True,
                            rating_factors: dict[str, float] | None = None,
                            ) -> ThreePhaseTopology:
    """The radial topology that minimises the LinDist3Flow loss proxy, as a MILP on HiGHS
    (:func:`feederopt.problems.threephase.reconfiguration_block`); its LinDist3Flow power flow
    is attached. Radial means radial in the switchable part: loops that no switch opens stay
    closed (``permanent_loops`` names their elements).

    ``thermal_limits=False`` drops the current ratings, ``max_loading_percent`` scales them
    (:func:`scale_ratings`). When the MILP is infeasible, it is solved again with limits
    lifted to say which ones bind (``reason``, ``overloaded``). Tangent planes of the loss
    proxy are added at the answer's flows until the objective is within ``tangent_tol`` of the
    proxy of the answer (:func:`_lazy_tangents`; ``math.inf`` keeps the fixed tangents only,
    as before); when the time runs out first the status is ``time_limit``.
    ``voltage_offsets`` (``V_AC - V_LinDist3Flow`` per node, measured at some topology) shift
    the voltage limits (:func:`shift_voltage_limits`). ``tangents`` (an earlier answer's
    ``tangents``, of the same network) are added before the first solve: they are valid
    under-estimates whatever the limits, and spare the rounds that found them; the answer's
    ``tangents`` are those and the ones added here. ``switch_cost_kw`` prices each switch whose
    state differs from the base case (:func:`feederopt.problems.threephase.
    switch_cost_objective`); ``bound_kw`` is then the bound of the loss proxy plus the
    switching cost, ``loss_proxy_kw`` the objective without the switching cost.
    ``max_enumerated_states``: as :func:`reconfigure_three_phase_scenarios`'s (the radial
    states evaluated one by one instead of the MILP when they are that few).
    ``least_overloading``: when the ratings alone make it infeasible, the least-overloading
    topology is the answer, status still ``infeasible`` (:func:`_least_overloading`).
    ``rating_factors`` (edge ids and ``"Transformer <bank id>"``: factor) tighten those
    ratings after the scaling (:func:`tighten_ratings`, the voltage feedback's correction);
    with them, no least-overloading topology is sought (it would scale the untightened
    ratings): an infeasible MILP is infeasible. The fixed overloads are judged on the
    untightened ratings."""
    t0 = time.perf_counter()
    pu = to_per_unit_3ph(net)
    shift_voltage_limits(pu, voltage_offsets or {})
    scale_ratings(pu, thermal_limits=thermal_limits, max_loading_percent=max_loading_percent)
    fixed = fixed_overloads(net, pu, max_loading_percent) if thermal_limits else {}
    if thermal_limits and rating_factors:
        tighten_ratings(pu, rating_factors)
        least_overloading = False
    if fixed:
        _drop_ratings(pu, set(fixed))
        topo = _reconfigure(net, pu, t0=t0, time_limit_s=time_limit_s, gap=gap,
                            voltage_limits=voltage_limits, thermal_limits=thermal_limits,
                            max_loading_percent=max_loading_percent, tangent_tol=tangent_tol,
                            voltage_offsets=voltage_offsets, tangents=tangents,
                            switch_cost_kw=switch_cost_kw,
                            max_enumerated_states=max_enumerated_states,
                            least_overloading=least_overloading, unrated=set(fixed))
        topo.fixed_overloads = _fixed_overload_labels(fixed, max_loading_percent)
        topo.notes.insert(0, _fixed_overload_note(topo.fixed_overloads, max_loading_percent))
        return topo
    return _reconfigure(net, pu, t0=t0, time_limit_s=time_limit_s, gap=gap,
                        voltage_limits=voltage_limits, thermal_limits=thermal_limits,
                        max_loading_percent=max_loading_percent, tangent_tol=tangent_tol,
                        voltage_offsets=voltage_offsets, tangents=tangents,
                        switch_cost_kw=switch_cost_kw,
                        max_enumerated_states=max_enumerated_states,
                        least_overloading=least_overloading, unrated=set())


def _reconfigure(net: ThreePhaseNetwork, pu: PerUnitThreePhase, *, t0: float,
                 time_limit_s: float, gap: float, voltage_limits: bool, thermal_limits: bool,
                 max_loading_percent: float | None, tangent_tol: float,
                 voltage_offsets: dict[str, float] | None, tangents: list[Tangents] | None,
                 switch_cost_kw: float, max_enumerated_states: int | None,
                 least_overloading: bool, unrated: set[str]) -> ThreePhaseTopology:
    """:func:`reconfigure_three_phase` on ``pu`` (per unit, limits shifted and scaled, the
    ratings of ``unrated`` left out)."""
    loops = permanent_loops(pu)
    known = list(tangents or [])
    states = _states_to_enumerate(pu, max_enumerated_states)
    if states is not None:
        topo, ev, source = _enumerated([net], [pu], np.ones(1), states, t0=t0,
                                       time_limit_s=time_limit_s,
                                       voltage_limits=voltage_limits,
                                       thermal_limits=thermal_limits,
                                       switch_cost_kw=switch_cost_kw, tangents=[known],
                                       loops=loops)
        if topo is not None:
            topo.scenario_flows, topo.scenario_tangents = [], []
            return topo
        why: tuple[str, list[str]] = ("", [])
        seconds = ev.seconds
        if ev.status == "time_limit":
            why = (f"the time limit ({time_limit_s:g} s) ran out before a topology was "
                   "found; raise --time-limit", [])
        elif ev.status == "infeasible":
            told, named, spent = _why_infeasible(pu, deadline=t0 + time_limit_s, gap=gap,
                                                 voltage_limits=voltage_limits,
                                                 thermal_limits=thermal_limits)
            why, seconds = (told, named), seconds + spent
            least = _least_overloading(
                net, pu, states, why[1], t0=t0, time_limit_s=time_limit_s, gap=gap,
                voltage_limits=voltage_limits, max_loading_percent=max_loading_percent,
                voltage_offsets=voltage_offsets or {}, tangents=known,
                switch_cost_kw=switch_cost_kw, max_enumerated_states=max_enumerated_states,
                unrated=unrated) if least_overloading and why[1] else None
            if least is not None:
                least.solve_time_s += seconds  # the first solve's and the diagnosis'
                return least
        return ThreePhaseTopology(ev.status, [], math.nan, ev.bound_kw, seconds, None,
                                  why[0], why[1], loops, milp_solves=0, method="enumeration",
                                  radial_states=len(states), lp_solves=ev.lp_solves,
                                  bound_source=source)
    model, sol, prob = _milp(pu, time_limit_s=max(t0 + time_limit_s - time.perf_counter(), 0.05),
                             gap=gap, voltage_limits=voltage_limits,
                             thermal_limits=thermal_limits, tangents=known,
                             switch_cost_kw=switch_cost_kw)
    const = switch_cost_objective(pu, switch_cost_kw)[1]
    if not sol.has_solution:
        reason: str = ""
        over: list[str] = []
        bound, source = sol.bound + const, "milp"
        seconds = sol.solve_time_s
        if sol.status == "infeasible":  # the diagnosis shares the time left (ut50_dss3 #1)
            reason, over, spent = _why_infeasible(pu, deadline=t0 + time_limit_s, gap=gap,
                                                  voltage_limits=voltage_limits,
                                                  thermal_limits=thermal_limits)
            seconds += spent
            least = _least_overloading(
                net, pu, None, over, t0=t0, time_limit_s=time_limit_s, gap=gap,
                voltage_limits=voltage_limits, max_loading_percent=max_loading_percent,
                voltage_offsets=voltage_offsets or {}, tangents=known,
                switch_cost_kw=switch_cost_kw, max_enumerated_states=max_enumerated_states,
                unrated=unrated) if least_overloading and over else None
            if least is not None:
                least.solve_time_s += seconds  # the first solve's and the diagnosis'
                return least
        elif sol.status == "time_limit":
            reason = (f"the time limit ({time_limit_s:g} s) ran out before a topology was "
                      "found; raise --time-limit")
            bound, source = _milp_bound(model, sol, const)
            kept = _base_if_better([pu], np.ones(1), math.inf, voltage_limits=voltage_limits,
                                   thermal_limits=thermal_limits)
            if kept is not None:  # the base is the incumbent of a time-limited run
                opened = set(kept[0].open_switches)
                return ThreePhaseTopology(
                    "time_limit", sorted(opened), kept[1].proxy_kw, bound,
                    sol.solve_time_s, lindist3flow_power_flow(net, open_switches=opened),
                    permanent_loops=loops, tangents=known, switch_cost_kw=switch_cost_kw,
                    bound_source=source, base_kept=True, notes=[_base_kept_note(
                        time_limit_s, kept[1].proxy_kw,
                        "the MILP found no topology in that time")])
        return ThreePhaseTopology(sol.status, [], math.nan, bound, seconds, None,
                                  reason, over, loops, bound_source=source)
    sol, vals, met, solves, added, seconds = _lazy_tangents(prob, model, sol,
                                                            t0 + time_limit_s, tangent_tol,
                                                            record=known)
    status = sol.status if met or sol.status != "optimal" else "time_limit"
    opened = {e.id for e, v in zip(pu.edges, vals["y"], strict=True) if e.switchable and v < 0.5}
    flow = lindist3flow_power_flow(net, open_switches=opened)
    actions = switching_actions(pu, opened)
    paid = switch_cost_kw * len(actions)
    objective = sol.objective + const - paid
    bound, source = sol.bound + const, "milp"
    notes: list[str] = []
    if status == "time_limit":  # not proven: the base, when it is better by the proxy
        bound, source, kept, notes = _time_limited(
            model, sol, const, [pu], np.ones(1), flow.loss_proxy_kw, paid, opened,
            time_limit_s, voltage_limits=voltage_limits, thermal_limits=thermal_limits)
        if kept is not None:
            opened = set(kept[0].open_switches)
            flow = lindist3flow_power_flow(net, open_switches=opened)
            actions, paid, objective = [], 0.0, kept[1].proxy_kw
    return ThreePhaseTopology(status, sorted(opened), objective, bound, seconds, flow,
                              permanent_loops=loops, milp_solves=solves, tangents_added=added,
                              tangents=known, switch_cost_kw=switch_cost_kw,
                              switching_actions=actions, switching_cost_kw=paid,
                              bound_source=source, base_kept=bool(notes), notes=notes)


def _lazy_tangents_scenarios(prob: Any, model: HighsModel, sol: Any, deadline: float,
                             tol: float, record: list[list[Tangents]],
                             ) -> tuple[Any, dict[str, np.ndarray], bool, int, int, float]:
    """:func:`_lazy_tangents` on the scenario block of :func:`feederopt.problems.threephase.
    scenario_reconfiguration_block`: the under-estimate is the weighted sum over the scenarios'
    copies, ``sum_s w_s sum_k r_k (p_ks^2 + q_ks^2 - l_ks)``, against the weighted proxy
    ``L = sum_s w_s sum_k r_k (p_ks^2 + q_ks^2)``; tangents are added at every scenario's
    edge-phases whose weighted under-estimate exceeds ``tol L / K`` (``K`` the edge-phases of
    all scenarios), in that scenario's copy. ``record[s]`` gets scenario ``s``'s tangents."""
    solves, added, seconds = 1, 0, float(sol.solve_time_s)
    while True:
        vals = model.values()
        parts = []
        for w, copy, sfx in zip(prob.weights, prob.copies, prob.suffixes, strict=True):
            r = copy.r_diag[copy.lossy]
            p, q = vals["p" + sfx][copy.lossy], vals["q" + sfx][copy.lossy]
            exact = p**2 + q**2
            parts.append((p, q, exact, w * r * (exact - vals["loss" + sfx]), w * r * exact))
        total = float(sum(np.sum(x[4]) for x in parts))
        under = float(sum(np.sum(x[3]) for x in parts))
        if math.isinf(tol) or under <= tol * total:
            return sol, vals, True, solves, added, seconds
        left = deadline - time.perf_counter()
        if left <= 0.05 or sol.status != "optimal":
            return sol, vals, False, solves, added, seconds
        count = sum(len(x[3]) for x in parts)
        start = dict(vals)
        for s, (p, q, exact, u, _) in enumerate(parts):
            pick = np.flatnonzero(u > tol * total / count)
            sfx = prob.suffixes[s]
            start["loss" + sfx] = np.maximum(vals["loss" + sfx], exact)
            if not len(pick):
                continue
            record[s].append((pick, p[pick], q[pick]))
            terms, rhs = loss_tangents_at(prob.copies[s], pick, p[pick], q[pick], suffix=sfx)
            model.add_rows(terms, np.full(len(pick), -np.inf), rhs)
            added += len(pick)
        model.warm_start(start)
        model.set_time_limit(left)
        new = model.solve()
        solves += 1
        seconds += new.solve_time_s
        if not new.has_solution:
            return sol, vals, False, solves, added, seconds
        sol = new


def _scenario_model(pus: list[PerUnitThreePhase], weights: np.ndarray,
                    tangents: list[list[Tangents]], *, voltage_limits: bool,
                    thermal_limits: bool, switch_cost_kw: float,
                    ) -> tuple[HighsModel, Any]:
    """The scenario MILP of :func:`reconfigure_three_phase_scenarios` on HiGHS (the block of
    :func:`feederopt.problems.threephase.scenario_reconfiguration_block`) with each
    scenario's tangents ``tangents[s]`` in its copy; not solved."""
    prob = scenario_reconfiguration_block(pus, weights, voltage_limits=voltage_limits,
                                          thermal_limits=thermal_limits,
                                          switch_cost_kw=switch_cost_kw)
    model = HighsModel(prob.block)
    for s, tans in enumerate(tangents):
        for pick, p0, q0 in tans:
            terms, rhs = loss_tangents_at(prob.copies[s], pick, p0, q0, suffix=prob.suffixes[s])
            model.add_rows(terms, np.full(len(pick), -np.inf), rhs)
    return model, prob


def _scenarios_infeasible(pus: list[PerUnitThreePhase], alone: list[int],
                          names: Sequence[str] | None, *, time_limit_s: float, gap: float,
                          voltage_limits: bool, thermal_limits: bool) -> str:
    """The reason of an infeasible scenario reconfiguration: the scenarios ``alone`` that are
    infeasible alone (by ``names``, else by position) and what binds in the first of them (as
    a plain solve says it, :func:`_why_infeasible`)."""
    why = ""
    if alone:  # what binds in the first of them, as a plain solve says it
        first = str(alone[0]) if names is None else str(names[alone[0]])
        why = f" (in {first}: " + _why_infeasible(
            pus[alone[0]], deadline=time.perf_counter() + max(time_limit_s / len(pus), 1.0),
            gap=gap, voltage_limits=voltage_limits, thermal_limits=thermal_limits,
        )[0].removeprefix("infeasible: ") + ")"
    which = (", ".join(str(s) for s in alone) + " (by position, from 0)"
             if names is None else ", ".join(str(names[s]) for s in alone))
    return ("infeasible: no radial topology keeps every scenario within its limits"
            + (f"; scenario(s) {which} are infeasible alone{why}"
               if alone else "; each scenario alone has one, but no topology serves "
               "them all"))


def reconfigure_three_phase_scenarios(
        nets: list[ThreePhaseNetwork], weights: np.ndarray, *, time_limit_s: float = 300.0,
        gap: float = 1e-4, voltage_limits: bool = True, thermal_limits: bool = True,
        max_loading_percent: float | None = None, tangent_tol: float = LAZY_TOL,
        voltage_offsets: list[dict[str, float]] | None = None,
        tangents: list[list[Tangents]] | None = None, switch_cost_kw: float = 0.0,
        names: Sequence[str] | None = None, max_enumerated_states: int | None = None,
        rating_factors: Sequence[dict[str, float]] | None = None,
        ) -> ThreePhaseTopology:
    """One radial topology for the load scenarios ``nets`` (the same feeder with each
    scenario's loads, :func:`feederopt.api_threephase.scenario_networks`) with the weights
    ``weights``: the least expected LinDist3Flow loss proxy (plus ``switch_cost_kw`` per
    switching action) with every scenario within its limits, one MILP on HiGHS
    (:func:`feederopt.problems.threephase.scenario_reconfiguration_block`), with the lazy
    loss tangents per scenario (:func:`_lazy_tangents_scenarios`). ``voltage_offsets[s]``
    shifts scenario ``s``'s voltage limits (:func:`shift_voltage_limits`), ``tangents[s]`` are
    an earlier answer's tangents of scenario ``s``. The answer's ``flow`` is the first
    scenario's, ``scenario_flows`` every scenario's; ``loss_proxy_kw`` is the MILP's weighted
    loss under-estimate. When the MILP is infeasible, ``reason`` names the scenarios that are
    infeasible alone (each solved as :func:`reconfigure_three_phase` does, without
    tangents), by their ``names`` (default: their positions from 0).

    When the radiality rows allow at most ``max_enumerated_states`` switch states (default
    :data:`~feederopt.algorithms.radial_enumeration.ENUMERATION_MAX_STATES`, 0: always the
    MILP), every one is evaluated instead (:mod:`feederopt.algorithms.radial_enumeration`,
    ``method`` ``"enumeration"``): the same answer, exact, and ``bound_kw`` the least
    objective over all states; out of time, the best state found so far (``time_limit``)
    with the least objective the others can still have as the bound.

    Ratings that every radial topology breaks in some scenario (:func:`fixed_overloads` of
    each scenario's base flow) are left out, as :func:`reconfigure_three_phase` does, and
    named in ``fixed_overloads`` (the worst loading over the scenarios, and that scenario)
    and a note.

    ``rating_factors[s]`` (edge ids and ``"Transformer <bank id>"``: factor ``f_e,s``)
    tighten scenario ``s``'s ratings after the scaling (:func:`tighten_ratings`; only with
    ``thermal_limits``): the per-scenario voltage feedback's correction ``f_e,s =
    L_model,s / L_OpenDSS,s`` (:func:`feederopt.api_threephase_feedback._scenario_feedback`,
    the same secant rule as :func:`reconfigure_three_phase`'s ``rating_factors``). The fixed
    overloads are judged on the untightened ratings and stay left out."""
    t0 = time.perf_counter()
    if rating_factors is not None and len(rating_factors) != len(nets):
        raise ValueError(f"rating_factors has {len(rating_factors)} entries for "
                         f"{len(nets)} scenarios (one dict per scenario)")
    fixed: dict[str, float] = {}
    where: dict[str, str] = {}  # the scenario of each element's largest loading
    if thermal_limits:
        for s, net in enumerate(nets):
            pu = to_per_unit_3ph(net)
            scale_ratings(pu, max_loading_percent=max_loading_percent)
            for k, v in fixed_overloads(net, pu, max_loading_percent).items():
                if v > fixed.get(k, 0.0):
                    fixed[k] = v
                    where[k] = str(names[s]) if names is not None else str(s)
    topo = _reconfigure_scenarios(
        nets, weights, t0=t0, time_limit_s=time_limit_s, gap=gap,
        voltage_limits=voltage_limits, thermal_limits=thermal_limits,
        max_loading_percent=max_loading_percent, tangent_tol=tangent_tol,
        voltage_offsets=voltage_offsets, tangents=tangents, switch_cost_kw=switch_cost_kw,
        names=names, max_enumerated_states=max_enumerated_states, unrated=set(fixed),
        rating_factors=rating_factors if thermal_limits else None)
    if fixed:
        topo.fixed_overloads = _fixed_overload_labels(fixed, max_loading_percent, where)
        topo.notes.insert(0, _fixed_overload_note(topo.fixed_overloads, max_loading_percent))
    return topo


def _reconfigure_scenarios(
        nets: list[ThreePhaseNetwork], weights: np.ndarray, *, t0: float, time_limit_s: float,
        gap: float, voltage_limits: bool, thermal_limits: bool,
        max_loading_percent: float | None, tangent_tol: float,
        voltage_offsets: list[dict[str, float]] | None,
        tangents: list[list[Tangents]] | None, switch_cost_kw: float,
        names: Sequence[str] | None, max_enumerated_states: int | None,
        unrated: set[str], rating_factors: Sequence[dict[str, float]] | None = None,
        ) -> ThreePhaseTopology:
    """:func:`reconfigure_three_phase_scenarios` with the ratings of ``unrated`` left out and
    scenario ``s``'s ratings times ``rating_factors[s]`` (:func:`tighten_ratings`, after
    :func:`scale_ratings`; only with ``thermal_limits``)."""
    pus = []
    for s, net in enumerate(nets):
        pu = to_per_unit_3ph(net)
        shift_voltage_limits(pu, (voltage_offsets or [{}] * len(nets))[s] or {})
        scale_ratings(pu, thermal_limits=thermal_limits,
                      max_loading_percent=max_loading_percent)
        if thermal_limits and rating_factors and rating_factors[s]:
            tighten_ratings(pu, rating_factors[s])
        _drop_ratings(pu, unrated)
        pus.append(pu)
    loops = permanent_loops(pus[0])
    states = _states_to_enumerate(pus[0], max_enumerated_states)
    if states is not None:
        topo, ev, source = _enumerated(
            nets, pus, weights, states, t0=t0, time_limit_s=time_limit_s,
            voltage_limits=voltage_limits, thermal_limits=thermal_limits,
            switch_cost_kw=switch_cost_kw,
            tangents=[list(t) for t in (tangents or [[] for _ in nets])], loops=loops)
        if topo is not None:
            return topo
        if ev.status == "infeasible":
            why = _scenarios_infeasible(pus, [s for s, ok in enumerate(ev.feasible_alone)
                                              if not ok], names, time_limit_s=time_limit_s,
                                           gap=gap, voltage_limits=voltage_limits,
                                           thermal_limits=thermal_limits)
        elif ev.status == "time_limit":
            why = (f"the time limit ({time_limit_s:g} s) ran out before a topology was "
                   "found; raise --time-limit")
        else:
            why = ""
        return ThreePhaseTopology(ev.status, [], math.nan, ev.bound_kw, ev.seconds, None,
                                  why, [], loops, switch_cost_kw=switch_cost_kw,
                                  milp_solves=0, method="enumeration",
                                  radial_states=len(states), lp_solves=ev.lp_solves,
                                  bound_source=source)
    known = [list(t) for t in (tangents or [[] for _ in nets])]
    model, prob = _scenario_model(pus, weights, known, voltage_limits=voltage_limits,
                                  thermal_limits=thermal_limits, switch_cost_kw=switch_cost_kw)
    model.set_gap(gap)
    model.set_time_limit(time_limit_s)
    sol = model.solve()
    const = prob.switch_cost_const
    if not sol.has_solution:
        reason = ""
        bound, source = sol.bound + const, "milp"
        if sol.status == "infeasible":
            alone: list[int] = []
            for s, pu in enumerate(pus):
                _, one, _ = _milp(pu, time_limit_s=max(time_limit_s / len(pus), 1.0), gap=gap,
                                  voltage_limits=voltage_limits, thermal_limits=thermal_limits)
                if not one.has_solution:
                    alone.append(s)
            reason = _scenarios_infeasible(pus, alone, names, time_limit_s=time_limit_s,
                                           gap=gap, voltage_limits=voltage_limits,
                                           thermal_limits=thermal_limits)
        elif sol.status == "time_limit":
            reason = (f"the time limit ({time_limit_s:g} s) ran out before a topology was "
                      "found; raise --time-limit")
            bound, source = _milp_bound(model, sol, const)
            kept = _base_if_better(pus, weights, math.inf, voltage_limits=voltage_limits,
                                   thermal_limits=thermal_limits)
            if kept is not None:  # the base is the incumbent of a time-limited run
                opened = set(kept[0].open_switches)
                flows = [lindist3flow_power_flow(net, open_switches=opened) for net in nets]
                return ThreePhaseTopology(
                    "time_limit", sorted(opened), kept[1].proxy_kw, bound,
                    sol.solve_time_s, flows[0], permanent_loops=loops, tangents=known[0],
                    switch_cost_kw=switch_cost_kw, scenario_flows=flows,
                    scenario_tangents=known, bound_source=source, base_kept=True,
                    notes=[_base_kept_note(time_limit_s, kept[1].proxy_kw,
                                           "the MILP found no topology in that time")])
        return ThreePhaseTopology(sol.status, [], math.nan, bound, sol.solve_time_s, None,
                                  reason, [], loops, switch_cost_kw=switch_cost_kw,
                                  bound_source=source)
    sol, vals, met, solves, added, seconds = _lazy_tangents_scenarios(
        prob, model, sol, t0 + time_limit_s, tangent_tol, known)
    status = sol.status if met or sol.status != "optimal" else "time_limit"
    opened = {e.id for e, v in zip(pus[0].edges, vals["y"], strict=True)
              if e.switchable and v < 0.5}
    flows = [lindist3flow_power_flow(net, open_switches=opened) for net in nets]
    actions = switching_actions(pus[0], opened)
    paid = switch_cost_kw * len(actions)
    objective = sol.objective  # the MILP's, switching cost included (less its constant)
    bound, source = sol.bound + const, "milp"
    notes: list[str] = []
    if status == "time_limit":  # not proven: the base, when it is better by the proxy
        answer = float(sum(wi * f.loss_proxy_kw for wi, f in zip(weights, flows, strict=True)))
        bound, source, kept, notes = _time_limited(
            model, sol, const, pus, weights, answer, paid, opened, time_limit_s,
            voltage_limits=voltage_limits, thermal_limits=thermal_limits, weighted=True)
        if kept is not None:
            opened = set(kept[0].open_switches)
            flows = [lindist3flow_power_flow(net, open_switches=opened) for net in nets]
            actions, paid = [], 0.0
            objective = kept[1].proxy_kw - const
    return ThreePhaseTopology(
        status, sorted(opened), objective + const - paid, bound, seconds, flows[0],
        permanent_loops=loops, milp_solves=solves, tangents_added=added, tangents=known[0],
        switch_cost_kw=switch_cost_kw, switching_actions=actions, switching_cost_kw=paid,
        scenario_flows=flows, scenario_tangents=known, bound_source=source,
        base_kept=bool(notes), notes=notes)
