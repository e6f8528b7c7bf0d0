"""Three-phase reconfiguration as one MILP block: LinDist3Flow, radiality and a loss proxy.

* Physics: :func:`feederopt.formulations.lindist3flow.lindist3flow` (switch states ``y``),
  with the voltage limits and the lines' current ratings (as per-phase polygons).
* Radiality: the balanced parent-child spanning-forest model of
  :func:`feederopt.formulations.radiality.parent_child` (Jabr, Singh & Pal 2012, with MTZ
  order) on the graph of the switch blocks, the buses that no switch separates
  (:func:`feederopt.network.topology.switch_blocks`, ``contract=True``): the branches of the
  bus graph are the LinDist3Flow edges and the transformer banks (always closed), and the
  closed switchable branches must make the blocks a forest with one source per tree. Every
  bus is energised. The non-switchable part may hold loops (EPRI ckt24's phase-b loop through
  two step-down banks, a ring without a switch): they are closed in every topology, so they
  stay as they are (LinDist3Flow's angle rows fix their circulating flows), and a closed
  switch never closes a loop, not even one whose ends the permanent part already joins (a
  self-loop of the block graph, which the depth rows exclude). Radiality on the bus graph
  itself would make every such feeder infeasible. :func:`permanent_loops` names them.
* Objective: the LinDist3Flow loss proxy ``sum_e sum_i r_i (p_i^2 + q_i^2)`` with the
  effective resistance ``r_i = r_ii - 1/2 sum_{k != i} r_ik`` (the series losses at 1 p.u. for
  currents 120 degrees apart, where ``Re(I_i conj(I_k)) = -|I_i||I_k| / 2``; for a transposed
  line it is the positive-sequence resistance), outer-approximated by tangent planes
  ``l >= 2 rho (cos t p + sin t q) - rho^2`` on circles of radii ``rho`` (a piecewise-linear
  under-estimator, exact at the tangent points), as the balanced LinDistFlow heuristic does.
  The circles are shares of the whole feeder's flow, so alone they count per-phase flows below
  ``rho_min / 2`` as lossless; :func:`loss_tangents_at` gives the tangents at given flows,
  which :mod:`feederopt.algorithms.threephase` adds lazily at each answer's flows.

No solver here: :mod:`feederopt.algorithms.threephase` solves the block on HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Rows, Sense
from feederopt.formulations.lindist3flow import (
    bus_branches,
    edge_phases,
    flow_bound,
    lindist3flow,
    loop_links,
)
from feederopt.formulations.radiality import parent_child
from feederopt.network.threephase_perunit import PerUnitThreePhase
from feederopt.network.topology import components_of

#: Directions of the fixed tangent planes of the loss proxy.
ANGLES = 8
#: Radii of the fixed tangent circles, as shares of the largest possible per-phase flow: one
#: coarse circle, the start of the lazy tangents of :mod:`feederopt.algorithms.threephase`,
#: which add the exact tangents at each answer's flows. Measured with the lazy tangents on Iowa
#: 240 (the same answer, objective within 0.03 % of the proxy in every case): 8 radii from
#: 0.5 % to 64 % x 16 directions (the fixed set before the lazy tangents) 2 solves, 68 s of
#: MILP; (2 %, 16 %) x 8: 5 solves, 34 s; (4 %) x 8: 3 solves, 15-18 s; none: 7 solves, 15 s.
RADII: tuple[float, ...] = (0.04,)


@dataclass
class ThreePhaseReconfiguration:
    """The block and the index maps needed to read a solution."""

    pu: PerUnitThreePhase
    block: Block
    lossy: np.ndarray  # edge-phases with resistance (they carry a proxy variable)
    r_diag: np.ndarray  # effective resistance per edge-phase [p.u.]


def reconfiguration_block(pu: PerUnitThreePhase, *, voltage_limits: bool = True,
                          thermal_limits: bool = True) -> ThreePhaseReconfiguration:
    """LinDist3Flow (with voltage and thermal limits) + radiality + tangent-plane loss proxy
    (see module docstring)."""
    block = lindist3flow(pu, voltage_limits=voltage_limits, thermal_limits=thermal_limits,
                         transformer_limits=thermal_limits)
    n_bus = len(pu.bus_ids)
    member, ends = bus_branches(pu, np.ones(len(pu.edges), bool))
    fixed = np.zeros(len(ends), bool)
    for e, g in zip(pu.edges, member, strict=True):
        fixed[g] |= not e.switchable
    f = np.array([a for a, _ in ends] + [b.f for b in pu.banks], int)
    t = np.array([b for _, b in ends] + [b.t for b in pu.banks], int)
    switchable = np.concatenate([~fixed, np.zeros(len(pu.banks), bool)])
    is_source = np.zeros(n_bus, bool)
    is_source[pu.node_bus[pu.source_nodes]] = True
    rad = parent_child(n_bus, f, t, is_source, switchable, contract=True)
    # the radiality block's branch states are "y3"; every edge's y equals its branch's y3
    ne = len(pu.edges)
    y3 = rad.groups.pop("y")
    y3.name = "y3"
    rad.groups["y3"] = y3
    for rows in rad.rows:
        if "y" in rows.terms:
            rows.terms["y3"] = rows.terms.pop("y")
    block.merge(rad)
    link = sp.csr_matrix((np.ones(ne), (np.arange(ne), member)), shape=(ne, len(f)))
    block.add_rows("y_link", {"y3": link, "y": -sp.identity(ne, format="csr")}, Sense.EQ,
                   np.zeros(ne))

    ix = edge_phases(pu)
    r_diag = effective_resistance(pu)
    lossy = np.flatnonzero(r_diag > 0)
    k = len(lossy)
    fmax = flow_bound(pu, margin=1.0)
    block.add_group(Group.new("loss", k, 0.0, 2 * fmax**2))
    pick = sp.csr_matrix((np.ones(k), (np.arange(k), lossy)), shape=(k, len(ix.edge)))
    for rho_share in RADII:
        rho = rho_share * fmax
        for j in range(ANGLES):
            th = 2 * np.pi * j / ANGLES
            # 2 rho (cos p + sin q) - loss <= rho^2
            block.add_rows(f"loss_tangent_{rho_share}_{j}",
                           {"p": pick * (2 * rho * np.cos(th)), "q": pick * (2 * rho * np.sin(th)),
                            "loss": -sp.identity(k, format="csr")}, Sense.LE,
                           np.full(k, rho**2))
    block.add_objective("loss", r_diag[lossy] * 1000.0)  # kW (per-phase S base 1 MVA)
    return ThreePhaseReconfiguration(pu, block, lossy, r_diag)


def loss_tangents_at(prob: ThreePhaseReconfiguration, rows: np.ndarray, p0: np.ndarray,
                     q0: np.ndarray, suffix: str = "",
                     ) -> tuple[dict[str, sp.csr_matrix], np.ndarray]:
    """The tangent planes of ``p^2 + q^2`` at the points ``(p0, q0)`` of the loss variables
    ``rows`` (indices into ``prob.lossy``): ``loss >= 2 p0 p + 2 q0 q - (p0^2 + q0^2)``, i.e.
    the rows ``2 p0 p + 2 q0 q - loss <= p0^2 + q0^2`` (terms and right-hand side). Each is
    exact at its point and below the paraboloid elsewhere (it is convex), so adding them keeps
    the MILP's objective an under-estimate of the loss proxy and makes it exact at the point
    (Kelley's cutting planes, J. SIAM 8(4), 1960). ``suffix`` names a scenario's copy of the
    flow groups (:func:`scenario_reconfiguration_block`)."""
    rows = np.asarray(rows, int)
    k, m = len(prob.lossy), len(prob.r_diag)
    n = len(rows)
    at = np.arange(n)
    cols = prob.lossy[rows]
    terms = {"p" + suffix: sp.csr_matrix((2 * p0, (at, cols)), shape=(n, m)),
             "q" + suffix: sp.csr_matrix((2 * q0, (at, cols)), shape=(n, m)),
             "loss" + suffix: sp.csr_matrix((-np.ones(n), (at, rows)), shape=(n, k))}
    return terms, p0**2 + q0**2


def effective_resistance(pu: PerUnitThreePhase) -> np.ndarray:
    """``r_ii - 1/2 sum_{k != i} r_ik`` per edge-phase (at least 0), see module docstring."""
    out = []
    for e in pu.edges:
        r = e.z_pu.real
        out.append(np.clip(np.diag(r) - 0.5 * (r.sum(axis=1) - np.diag(r)), 0.0, None))
    return np.concatenate(out) if out else np.zeros(0)


def permanent_loops(pu: PerUnitThreePhase) -> list[list[str]]:
    """The elements on loops that no switch opens, one sorted list of ids per meshed part.

    A non-switchable line or transformer bank lies on a permanent loop when it is no bridge of
    the graph of the non-switchable elements (:func:`~feederopt.formulations.lindist3flow.
    loop_links` with ``switches=False``; a path between two sources counts as a loop). The
    elements are grouped by the connected components that they form together."""
    on_edge, on_bank = loop_links(pu, switches=False)
    f = [pu.edges[e].f for e in np.flatnonzero(on_edge)] + [
        pu.banks[b].f for b in np.flatnonzero(on_bank)]
    t = [pu.edges[e].t for e in np.flatnonzero(on_edge)] + [
        pu.banks[b].t for b in np.flatnonzero(on_bank)]
    ids = [pu.edges[e].id for e in np.flatnonzero(on_edge)] + [
        pu.banks[b].id for b in np.flatnonzero(on_bank)]
    if not ids:
        return []
    labels = components_of(len(pu.bus_ids), f, t)
    parts: dict[int, set[str]] = {}
    for k, name in enumerate(ids):
        parts.setdefault(int(labels[f[k]]), set()).add(name)
    return sorted((sorted(p) for p in parts.values()), key=lambda p: (-len(p), p))


def switch_cost_objective(pu: PerUnitThreePhase, cost_kw: float) -> tuple[np.ndarray, float]:
    """The switching cost as a linear objective on the edges' states ``y`` and a constant.

    A switch ``e`` whose state differs from the base case's ``y0_e`` costs ``c`` [kW of loss
    proxy]: ``c |y_e - y0_e| = c y_e`` for a base-open switch and ``c (1 - y_e)`` for a
    base-closed one, so the objective gains ``sum_e c_e y_e`` with ``c_e = +c`` (base open),
    ``-c`` (base closed), 0 for the non-switchable edges, and the constant ``c`` times the
    number of base-closed switches. As the balanced model's switching cost (the number of
    switching operations priced in the objective, Baran & Wu, IEEE Trans. Power Del. 4(2),
    1989, and Jabr, Singh & Pal, IEEE Trans. Power Syst. 27(2), 2012, with a penalty on
    ``|y - y0|``). Returns ``(c_e per edge, constant)``."""
    c = np.zeros(len(pu.edges))
    const = 0.0
    if cost_kw:
        for k, e in enumerate(pu.edges):
            if e.switchable:
                c[k] = cost_kw if e.normally_open else -cost_kw
                const += 0.0 if e.normally_open else cost_kw
    return c, const


#: The groups of the LinDist3Flow flow and of the loss proxy that every scenario has its own
#: copy of (:func:`scenario_reconfiguration_block`); the switch states ``y`` are shared.
FLOW_GROUPS = ("w", "p", "q", "pt", "qt", "theta", "loss")


@dataclass
class ScenarioReconfiguration:
    """One MILP block for several load scenarios of one feeder: one set of switch states ``y``
    (and of the radiality variables), a copy of the flow and loss groups per scenario, named
    with ``suffixes[s]`` (``""`` for the first)."""

    block: Block
    copies: list[ThreePhaseReconfiguration]
    suffixes: list[str]
    weights: np.ndarray
    switch_cost_const: float = 0.0
    notes: list[str] = field(default_factory=list)


def scenario_reconfiguration_block(pus: list[PerUnitThreePhase], weights: np.ndarray, *,
                                   voltage_limits: bool = True, thermal_limits: bool = True,
                                   switch_cost_kw: float = 0.0) -> ScenarioReconfiguration:
    """Two-stage stochastic reconfiguration on LinDist3Flow: one radial topology for the
    scenarios ``pus`` (the same feeder, the loads of each scenario), minimising the expected
    loss proxy ``sum_s w_s sum_e sum_i r_i (p_is^2 + q_is^2)`` plus the switching cost
    (:func:`switch_cost_objective`), with every scenario's voltage and current limits.

    The first-stage decision is the switch states ``y`` with the radiality rows of
    :func:`reconfiguration_block` (built once, on the first scenario); each scenario ``s``
    has its own LinDist3Flow flow ``w, p, q, pt, qt, theta`` and loss variables (the rows of
    :func:`reconfiguration_block` of ``pus[s]`` that only involve them and ``y``, with the
    groups renamed ``name@s``), the extensive form of a two-stage stochastic program (J. R.
    Birge and F. Louveaux, *Introduction to Stochastic Programming*, 2nd ed., Springer 2011,
    ch. 3) as the balanced ``--scenarios`` solves it with Benders cuts."""
    weights = np.asarray(weights, float)
    first = reconfiguration_block(pus[0], voltage_limits=voltage_limits,
                                  thermal_limits=thermal_limits)
    block = first.block
    block.objective["loss"] = block.objective["loss"] * weights[0]
    copies, suffixes = [first], [""]
    keep = set(FLOW_GROUPS) | {"y"}
    for s in range(1, len(pus)):
        other = reconfiguration_block(pus[s], voltage_limits=voltage_limits,
                                      thermal_limits=thermal_limits)
        sfx = f"@{s}"
        for name in FLOW_GROUPS:
            g = other.block.groups.get(name)
            if g is not None:
                g.name = name + sfx
                block.add_group(g)
        for rows in other.block.rows:
            if set(rows.terms) <= keep and set(rows.terms) != {"y"}:
                block.rows.append(Rows(rows.name + sfx, {
                    (g if g == "y" else g + sfx): a for g, a in rows.terms.items()},
                    rows.sense, rows.rhs))
        block.add_objective("loss" + sfx, other.block.objective["loss"] * weights[s])
        copies.append(ThreePhaseReconfiguration(pus[s], block, other.lossy, other.r_diag))
        suffixes.append(sfx)
    c, const = switch_cost_objective(pus[0], switch_cost_kw)
    if switch_cost_kw:
        block.add_objective("y", c)
    return ScenarioReconfiguration(block, copies, suffixes, weights, const)
