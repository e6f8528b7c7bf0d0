"""Loss-minimising radial reconfiguration, written once for every algorithm.

    min   sum_l r_l l_l + sum g v  (+ switching cost)
    s.t.  radiality(y)                       (formulations.radiality)
          DistFlow(y, P, Q, l, v)            (formulations.distflow)

The problem hands out blocks: the monolithic MISOCP (physics + radiality), the master's parts,
and the slave that solves the SOCP for a fixed topology (built on a solver by
:class:`feederopt.algorithms.slaves.TopologyEvaluator`; this module imports no solver). The
evaluator is the two-phase slave of the seed paper: phase 1 minimises the sum of the slacks on
power balance, voltage and current (zero exactly when the topology is feasible); phase 2
minimises losses without slack. Both values are convex in the relaxed switch states, so the
duals of the copy constraints ``y = y_hat`` give Benders cuts (Geoffrion, "Generalized Benders
decomposition", JOTA 10(4), 1972): optimality cuts from phase 2, feasibility cuts from phase 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Sense
from feederopt.formulations.distflow import (
    DistFlowOptions,
    distflow,
    effective_ratings,
    loss_terms,
    losses_of,
    slack_objective,
)
from feederopt.formulations.energy_cost import (
    add_quadratic_cost,
    import_cost,
    import_cost_lower_bound,
    import_fixed_cost,
    import_quadratic_coefficients,
    quadratic_coefficients,
    quadratic_sources,
    quadratic_units,
    reactive_cost_lower_bound,
    reactive_cost_terms,
    reactive_epigraphs,
)
from feederopt.formulations.radiality import parent_child, single_commodity_flow
from feederopt.network.perunit import PerUnitNetwork

#: Total slack [p.u.] below which a topology counts as feasible.
FEASIBILITY_TOL = 1e-6


class RadialityModel(StrEnum):
    FLOW = "flow"
    PARENT_CHILD = "parent_child"


#: The radiality model of every solve unless asked otherwise (tighter than the flow model).
DEFAULT_RADIALITY = RadialityModel.PARENT_CHILD


@dataclass(frozen=True)
class Violation:
    """One limit that the least-violating operating point of a topology had to break."""

    component: str  # buses | branches
    index: int
    limit: str  # v_min | v_max | i_max | s_max | p_balance | q_balance
    amount: float  # beyond the limit: p.u. voltage, p.u. current, MVA, MW, MVAr
    value: float = float("nan")  # the limited quantity at the point, in the limit's unit


@dataclass
class Evaluation:
    """The slave's answer for one topology."""

    feasible: bool
    objective: float  # phase-2 losses [kW] when feasible, else nan
    violation: float  # phase-1 total slack [p.u.]
    gradient: np.ndarray  # d objective / d y (feasible) or d violation / d y (infeasible)
    point: dict[str, np.ndarray]
    solve_time_s: float
    violations: list[Violation] = field(default_factory=list)
    #: A start heuristic's power flow (a sweep) kept for its OA cuts, not a slave solve: its
    #: ``objective`` is the losses alone, not the slave's value where DG or the import is
    #: priced, so it is never an incumbent's value (:func:`~feederopt.algorithms.heuristics.
    #: _remember`).
    screened: bool = False


@dataclass(frozen=True)
class ReconfigurationProblem:
    pu: PerUnitNetwork
    radiality: RadialityModel = DEFAULT_RADIALITY
    loss_price_per_mwh: float | None = None  # prices DG energy against losses when given
    #: The fixed cost of the generators that run at their held settings [kW-equivalent]:
    #: ``1000 / lambda sum_m F_m`` (:func:`~feederopt.network.devices.running_fixed_cost_per_h`),
    #: a constant that :meth:`y_cost` adds, so that every method reports it in its values and
    #: bounds (0 without a loss price: the DG costs are then not priced at all).
    fixed_cost_kw: float = 0.0

    def radiality_block(self, *, order: bool = True) -> Block:
        """The radiality rows; ``order=False`` leaves out the parent-child model's depth rows
        (see :meth:`relaxation_block`)."""
        pu = self.pu
        if self.radiality is RadialityModel.PARENT_CHILD:
            # On the blocks of buses that no switch separates: mv_oberrhein's master after
            # 200 nodes 899.32 -> 913.43 kW, 73.4k -> 68.0k LP iterations (case136ma: same).
            return parent_child(pu.n_bus, pu.f, pu.t, pu.is_source, pu.switchable,
                                order=order, contract=True)
        return single_commodity_flow(pu.n_bus, pu.f, pu.t, pu.is_source, pu.switchable)

    @property
    def scale(self) -> float:
        """Objective scale: model objectives are in kW (losses [p.u.] x s_base x 1000), which
        keeps solver tolerances meaningful on small and large grids alike."""
        return 1000.0 * self.pu.s_base_mva

    def loss_cost(self) -> dict[str, np.ndarray]:
        """Objective coefficients of the losses in kW per p.u., by variable group: ``r`` on the
        squared currents ``l`` and the shunt conductances on the voltages
        (:func:`feederopt.formulations.distflow.loss_terms`)."""
        return {g: c * self.scale for g, c in loss_terms(self.pu).items()}

    def losses_kw(self, point: dict[str, np.ndarray]) -> float:
        """The losses of a block's point [kW]."""
        return losses_of(self.pu, point) * self.scale

    def operating_cost(self) -> dict[str, np.ndarray]:
        """The slave's objective [kW-equivalent] by variable group: losses (series and shunt)
        and, when a loss price is given, the DG energy cost ``sum c_g p_g / price`` (so that
        generation cost and losses share one unit: currency per hour divided by the price of
        lost energy), the quadratic DG cost ``sum c2_g pg2_g / price`` and the import cost
        ``sum (c_s ps_s + c2_s ps2_s) / price`` (:mod:`feederopt.formulations.energy_cost`;
        its constant ``F_s`` is in :meth:`y_cost`)."""
        cost = self.loss_cost()
        if not self.loss_price_per_mwh:
            return cost
        k = 1000.0 / self.loss_price_per_mwh
        if np.any(self.pu.gen_cost != 0):
            cost["pg"] = self.pu.gen_cost * k
        if len(quadratic_units(self.pu)):
            cost["pg2"] = quadratic_coefficients(self.pu) * k
        if len(price := import_cost(self.pu)):
            cost["ps"] = price * k
        if len(quadratic_sources(self.pu)):
            cost["ps2"] = import_quadratic_coefficients(self.pu) * k
        # the reactive costs (pandapower's cq1, cq2 on the injected q)
        for g, c in reactive_cost_terms(self.pu, reactive_epigraphs(self.pu)).items():
            cost[g] = c * k
        return cost

    def cost_lower_bound(self) -> float:
        """A lower bound of the slave's objective: losses are non-negative, DG cost bounded,
        the quadratic cost >= 0, the import bounded (:func:`~feederopt.formulations.
        energy_cost.import_cost_lower_bound`)."""
        cost = self.operating_cost()
        c = cost.get("pg")
        out = 0.0 if c is None else float(
            np.minimum(c * self.pu.gen_p_min, c * self.pu.gen_p_max).sum())
        if "ps" in cost:
            out += import_cost_lower_bound(self.pu, cost["ps"])
        if self.loss_price_per_mwh:
            out += reactive_cost_lower_bound(self.pu) * 1000.0 / self.loss_price_per_mwh
        return out

    def physics_block(self, *, slack: bool = False, lossless: bool = False) -> Block:
        block = distflow(self.pu, DistFlowOptions(slack=slack, lossless=lossless))
        if self.loss_price_per_mwh:
            add_quadratic_cost(block, self.pu)
        block.objective = self.operating_cost()
        return block

    def slack_budget_block(self, budget: float) -> Block:
        """The physics with slack (:meth:`physics_block`, ``slack=True``) whose weighted total
        slack, phase 1's objective (:func:`~feederopt.formulations.distflow.slack_objective`),
        is held within ``budget`` [p.u.]:

            min  losses (+ DG cost)   s.t.  DistFlow with slack,  sum_k w_k s_k <= budget.

        The second stage of the least-violating search (:meth:`Benders.search_least_violating
        <feederopt.algorithms.benders.Benders.search_least_violating>`): with ``budget`` the
        least total slack found plus a tolerance, its topologies are the least-violating ones
        and its objective the losses, so the search minimises violation first and losses
        second. Its value is convex in the relaxed switch states as phase 2's is (a convex
        program whose data depend on ``y`` through the same on/off rows), so the duals of
        ``y = y_hat`` give valid optimality cuts."""
        block = self.physics_block(slack=True)
        weights = slack_objective(block)
        terms = {g: sp.csr_matrix(w.reshape(1, -1)) for g, w in weights.items() if len(w)}
        block.add_rows("slack_budget", terms, Sense.LE, np.array([float(budget)]))
        return block

    def y_cost(self) -> tuple[np.ndarray, float]:
        """Switching cost as ``c @ y + const`` [kW]: ``cost * |y - y0|`` with y0 the base case.

        ``switch_cost`` is given in kW of losses per switching action. A branch held away from
        its base-case state (``--hold-closed`` a normally-open tie, ``--hold-open`` a closed
        branch) is no longer switchable in the model, but it is still switched: its cost is in
        ``const`` (:attr:`PerUnitNetwork.fixed_switching_kw`, set by
        :func:`feederopt.problems.holds.held_model`), so every method charges it alike.
        ``const`` also holds :attr:`fixed_cost_kw`, the held generators' fixed cost, and with
        a loss price the sources' constant cost ``1000 / lambda sum_s F_s`` (an ext_grid's
        ``cp0_eur``, :func:`~feederopt.formulations.energy_cost.import_fixed_cost`).
        """
        pu = self.pu
        c_pu = pu.switch_cost  # already in kW, the objective's unit
        y0 = pu.initial_closed().astype(float)
        c = np.where(y0 > 0.5, -c_pu, c_pu) * pu.switchable
        const = float((c_pu * y0 * pu.switchable).sum()) + float(pu.fixed_switching_kw)
        if self.loss_price_per_mwh:
            const += 1000.0 / self.loss_price_per_mwh * import_fixed_cost(pu)
        return c, const + self.fixed_cost_kw

    def monolithic_block(self, *, lossless: bool = False, order: bool = True) -> Block:
        block = self.physics_block(lossless=lossless).merge(self.radiality_block(order=order))
        c, _ = self.y_cost()
        if np.any(c):
            block.add_objective("y", c)
        return block

    def relaxation_block(self) -> Block:
        """The block of the continuous relaxation (``0 <= y <= 1``, cones exact): the
        monolithic block without the parent-child model's Miller-Tucker-Zemlin depth rows.
        Leaving rows out keeps it a relaxation of the MISOCP. The depth rows only exclude
        source-free directed cycles of integral ``beta`` (:mod:`feederopt.formulations.radiality`);
        with ``0 <= y <= 1`` they left the relaxation's optimum unchanged (to 1e-4 kW) on
        case33bw, case69bw, case70da, case118zh and case136ma, while each conic probe
        (:mod:`feederopt.algorithms.probing`) took 10-40 % longer with them (same
        interior-point iteration count, a larger model)."""
        return self.monolithic_block(order=False)

    def to_kw(self, value: float) -> float:
        """A model objective value in kW (the models are scaled to kW already)."""
        return float(value)


#: How far [p.u. voltage or current] a quantity must lie beyond its limit to be listed as
#: violated: an interior-point solver leaves slack slightly above zero on limits that hold
#: (on an overloaded feeder whose slack is hundreds of MW, well above 1e-6), and those are no
#: violation to report.
VIOLATION_TOL_PU = 1e-5


def violations_at(pu: PerUnitNetwork, point: dict[str, np.ndarray],
                  tol: float = 1e-6) -> list[Violation]:
    """The limits that slack relaxed at ``point``, largest first (the slaves' diagnosis): a
    voltage, current or rating is listed only when the point's own value lies beyond its
    limit by more than :data:`VIOLATION_TOL_PU` (a slack above ``tol`` on a limit that holds
    is the solver's tolerance, not a violation), with that value.

    A point that needs slack (its total slack above :data:`FEASIBILITY_TOL`: the slave calls
    the topology infeasible) is never left without a named limit: when no value lies that far
    beyond its limit, the slacked limits whose value lies beyond it at all are listed (user
    test ut36_core #1: V_min 0.963994 p.u. against a floor of 0.964, 5.6e-6 p.u. below it,
    gave status ``infeasible`` with ``diagnosis: []``), and failing that the limit with the
    most slack, by the amount its slack ``s`` allows: ``v_min - sqrt(v_min^2 - s)``,
    ``sqrt(v_max^2 + s) - v_max`` (the slack rows are on ``v = |V|^2``),
    ``sqrt(i_max^2 + 2 i_max s) - i_max`` (``l <= i_max^2 + 2 i_max s``) and ``s`` times the
    base power (``|P + jQ| <= s_max + s``)."""
    found: list[tuple[Violation, float, float]] = []  # (violation, threshold, slack)
    load_bus = np.flatnonzero(pu.banded())  # the slack rows' buses (distflow)
    v = np.sqrt(np.clip(point["v"], 0, None))
    for name, limit in (("slack_v_dn", "v_min"), ("slack_v_up", "v_max")):
        slack = point.get(name, np.zeros(0))
        for k in np.flatnonzero(slack > tol):
            j = int(load_bus[k])
            amount = pu.v_min[j] - v[j] if limit == "v_min" else v[j] - pu.v_max[j]
            found.append((Violation("buses", j, limit, float(amount), float(v[j])),
                          VIOLATION_TOL_PU, float(slack[k])))
    rated, thermal = effective_ratings(pu)
    slack = point.get("slack_i", np.zeros(0))
    for k in np.flatnonzero(slack > tol):
        i = int(rated[k])
        current = float(np.sqrt(max(point["l"][i], 0.0)))
        found.append((Violation("branches", i, "i_max", current - pu.i_max[i], current),
                      VIOLATION_TOL_PU, float(slack[k])))
    slack = point.get("slack_s", np.zeros(0))
    for k in np.flatnonzero(slack > tol):
        i = int(thermal[k])
        s_mva = float(np.hypot(point["P"][i], point["Q"][i]) * pu.s_base_mva)
        over = s_mva - pu.s_max[i] * pu.s_base_mva
        found.append((Violation("branches", i, "s_max", over, s_mva),
                      VIOLATION_TOL_PU * pu.s_base_mva, float(slack[k])))
    out = [w for w, threshold, _ in found if w.amount > threshold]
    for name, limit in (("slack_p_pos", "p_balance"), ("slack_p_neg", "p_balance"),
                        ("slack_q_pos", "q_balance"), ("slack_q_neg", "q_balance")):
        for jj in np.flatnonzero(point.get(name, np.zeros(0)) > tol):
            out.append(Violation("buses", int(jj), limit,
                                 float(point[name][jj] * pu.s_base_mva)))
    if not out and total_slack(point) > FEASIBILITY_TOL:
        out = [w for w, _, _ in found if w.amount > 0.0]
        if not out and found:
            w, _, s = max(found, key=lambda x: x[2])
            out = [replace(w, amount=_slack_amount(pu, w, s))]
    out.sort(key=lambda w: -w.amount)
    return out


def total_slack(point: dict[str, np.ndarray]) -> float:
    """The sum of every slack group of ``point`` (``slack_*``, negatives as 0) [p.u.]."""
    return float(sum(np.clip(np.asarray(x, float), 0, None).sum()
                     for name, x in point.items() if name.startswith("slack_")))


def _slack_amount(pu: PerUnitNetwork, w: Violation, s: float) -> float:
    """How far beyond its limit the slack ``s`` of violation ``w``'s row lets its quantity go
    (:func:`violations_at`, its last resort): the rows are on ``v = |V|^2``,
    ``l <= i_max^2 + 2 i_max s`` and ``|P + jQ| <= s_max + s``."""
    if w.limit == "v_min":
        return float(pu.v_min[w.index] - np.sqrt(max(pu.v_min[w.index] ** 2 - s, 0.0)))
    if w.limit == "v_max":
        return float(np.sqrt(pu.v_max[w.index] ** 2 + s) - pu.v_max[w.index])
    if w.limit == "i_max":
        i_max = pu.i_max[w.index]
        return float(np.sqrt(i_max ** 2 + 2.0 * i_max * s) - i_max)
    return float(s * pu.s_base_mva)
