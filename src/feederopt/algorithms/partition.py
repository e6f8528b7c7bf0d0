"""Solving networked-microgrid partitioning (seed 001, Moring et al. 2024) on HiGHS.

* :func:`solve_extensive` -- the deterministic problem (one realisation) or the robust
  problem's extensive form: the first stage of :mod:`feederopt.formulations.partition` with one
  recourse copy per extreme point of the box, every copy without slack (``h = 0``) and
  ``theta >= `` its re-dispatch cost; one MILP. Exact, but its size grows with ``2^|D|``: a
  cross-check on small cases and the deterministic (0 %) problem.
* :func:`solve_robust` -- Algorithm 1 of the seed, the cutting plane over the extreme points:

  1. solve the master (first stage, ``theta``, the cuts so far) for ``x_k``;
  2. solve the recourse at every extreme point for ``x_k`` (the slaves run on an executor:
     :mod:`feederopt.execution`): first the least total slack ``H_e(x_k) = min sum h``, then,
     where ``H_e <= eps``, the seed's recourse (S1) ``V_e(x_k) = min omega sum h +
     sum c1 (o+ + o-)``;
  3. if some ``H_e(x_k) > eps``: add the feasibility cuts ``H_e(x_k) + g_e (x - x_k) <= 0``
     (their worst total slack is the seed's stopping quantity); else add the cut (17b)
     ``theta >= V_e(x_k) + pi_e A (x - x_k)`` of the worst extreme point (and of every extreme
     point whose value exceeds ``theta_k``);
  4. stop when the worst total slack is ``<= eps`` and ``max_e V_e(x_k) <= theta_k`` (within a
     tolerance): ``x_k`` is then robustly feasible and optimal.

  The seed stops on feasibility alone; the extra test makes the answer the optimum of the
  extensive form, which the tests check.

  The master also carries slack-free recourse copies (as the extensive form does) of the most
  loaded extreme point and of every extreme point found infeasible so far (column-and-constraint
  generation, Zeng & Zhao, Oper. Res. Lett. 41(5), 2013, the seed's reference [32]). Every
  robust plan is feasible there, so the master stays a relaxation; without these copies the
  feasibility cuts alone converge on the continuous set-points as slowly as Kelley's method
  (200 iterations without convergence on IEEE 13mod), with them in one to three
  iterations.

  Restricted phase (a speed-up that keeps the answer exact): after a master MILP that does not
  stop, the master is re-solved with its binaries fixed at that MILP's values (an LP, warm
  started from its last basis, about 0.1 s against 15-30 s for the MILP on IEEE 37) and the
  iterations go on with these LPs until the worst re-dispatch cost is within the tolerance of
  ``theta`` (the continuous set-points have converged for these binaries) or the LP becomes
  infeasible (the cuts exclude these binaries). Then the MILP is solved again, started from
  the restricted phase's plan with ``theta`` raised to its worst re-dispatch cost (a feasible
  point of the MILP, so an incumbent). Every cut is valid for the full master (``V_e`` is
  convex in ``x``), only a MILP iteration can stop, and the stopping test is unchanged; the
  restricted phase only replaces the MILPs that would otherwise move the continuous
  set-points alone (seven of eight MILPs at 10 % on IEEE 37: 144 s to 18 s of CPU time
  together with (2') of :mod:`feederopt.formulations.partition`). This is the
  "fix the integers, converge the continuous part" acceleration of Benders' method
  (McDaniel & Devine, Manag. Sci. 24(3), 1977, solve a restriction/relaxation first to
  generate cuts cheaply; Rahmaniani et al., EJOR 259(3), 2017, section 5).

  Time limit: a deadline for the whole run. A round of slaves still unfinished
  :data:`~feederopt.execution.executors.ROUND_GRACE_S` past it is dropped, whatever the
  executor (:meth:`~feederopt.execution.Executor.map`'s ``deadline``; the serial one, the
  default ``--workers 1``, starts no further slave), and the run ends ``time_limit`` with the
  plan of the rounds before; the post-optimal stage (the set-point tie-break and the
  grid-forming check, :func:`post_optimal_stage_skipped`) is not started after that moment
  either.

  ``pi_e A``, the duals of every row that holds ``x`` times its coefficients, is read as the
  reduced costs of the ``x`` columns, fixed by their bounds in the slave: for an LP
  ``min c y s.t. A y + B x (<=, =) b`` with ``x`` fixed, the reduced cost of a fixed column is
  ``-pi^T B_j``, the derivative of the value in ``x_j``, a subgradient because the value is
  convex in ``x``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from feederopt._version import stamped
from feederopt.algorithms.base import ProgressCallback, report_phase
from feederopt.errors import SolverError, shown_list
from feederopt.execution import make_executor, round_end
from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.formulations.partition import (
    SLACKS,
    X_GROUPS,
    PartitionData,
    first_stage_block,
    recourse_block,
    recourse_cost_terms,
    rename,
    slack_terms,
    tied_former_nodes,
)
from feederopt.problems.partition import (
    BALANCE_TOL_KW,
    PartitionPlan,
    check_partition,
    components,
    der_entry_phases,
    formed_phases,
    live_nodes,
    plan_summary,
    plan_x,
    served_at_voltages,
    setpoint_imbalance,
)
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.least_squares import StageOutcome

#: HiGHS's presolve for the partitioning MILPs. Off: HiGHS 1.15's MIP presolve declared the
#: (feasible: every block de-energised is a plan) extensive form of ``ieee37mod`` (its earlier
#: design) at 0 % infeasible, and returned 42,590.4 $ as "optimal" for IEEE 13mod at 20 %
#: (loads 801, 703, 701) whose optimum is 32,850.43 $; without presolve both are right, in
#: about the same time.
MIP_PRESOLVE = "off"


@dataclass
class BlockReport:
    """One block of the answer."""

    index: int
    buses: list[str]
    energised: bool
    component: int  # index of its connected component (microgrid), -1 when de-energised
    grid_forming: list[str]
    der_set_points_kw: dict[str, float]
    load_kw: float  # nominal kW of its loads
    #: its loads' demand at the plan's voltages (nominal realisation; :func:`operating_point`)
    load_at_plan_kw: float = math.nan
    #: the block holds the lost substation: never energised, its loads outside the
    #: objective (weight 0)
    lost: bool = False


@dataclass
class MicrogridReport:
    """One energised microgrid (connected component) of the answer at the plan's nominal
    operating point (:func:`operating_point`): the grid-forming DER's voltage set-point (the
    model's voltage at its bus, the mean over its phases, and per phase), the voltage range of
    its nodes, its served load nominal and at these voltages, and its DERs' set-points."""

    index: int
    blocks: list[int]
    grid_forming: list[str]
    v_set_pu: float
    v_set_phases_pu: list[float]
    v_min_pu: float
    v_max_pu: float
    served_load_kw: float
    served_load_at_plan_kw: float
    generation_kw: float


@dataclass
class IterationLog:
    """One iteration of Algorithm 1."""

    k: int
    master_objective: float
    theta: float
    worst_point: str  # signs of the uncertain loads (+, -; * in a de-energised block), "" if none
    total_slack: float  # at the worst extreme point (the seed's stopping quantity)
    worst_recourse: float  # max_e V_e(x_k), nan while infeasible
    cuts: int
    #: ``milp``: the master MILP (its objective is a lower bound); ``restricted``: the master
    #: with its binaries fixed at the last MILP's (an LP; see :func:`solve_robust`)
    master: str = "milp"


@dataclass
class SampleChecks:
    """Post-analyses of seed 001 on uniform in-box samples (``feederopt partition --samples``):
    the plan's LinDist3Flow-feasible share, its OpenDSS AC-feasible share (IV-E), and the
    deterministic (0 %) plan's LinDist3Flow-feasible share in the same box (IV-D) [%]."""

    samples: int
    lindist3flow_pct: float
    ac_pct: float | None
    deterministic_pct: float | None
    #: The AC check's grid-forming set-points [p.u.] by DER id (the plan's, in the problem it
    #: was solved in); None without the AC check.
    grid_forming_v_pu: dict[str, float] | None = None
    #: How many samples the plan serves within every limit in OpenDSS (IV-E; ``ac_pct`` is
    #: ``100 * ac_feasible / samples``); None without the AC check. Fewer than ``samples``
    #: makes the result not within the limits
    #: (:func:`feederopt.validation.partition.plan_within_limits`).
    ac_feasible: int | None = None
    #: The first failing samples of IV-E with the limits each breaks (worst first): ``sample``,
    #: ``converged``, ``limit_violations`` (:attr:`feederopt.validation.partition.AcSampleShare.
    #: failures`); None without the AC check (user test ut45b_part #3: the JSON named none).
    ac_failures: list[dict[str, Any]] | None = None


@dataclass(repr=False)
class PartitionResult:
    """The answer of a partitioning solve (typed; ``to_dict`` for JSON). Its repr is one
    short line (:meth:`__repr__`); the tables are in its fields and ``to_dict``."""

    case: str
    method: str  # extensive | cutting_plane
    status: str  # optimal | time_limit | iteration_limit | infeasible
    uncertainty: float
    k_der: int
    extreme_points: int
    objective: float  # first-stage cost + worst re-dispatch cost [$]
    generation_cost: float
    load_shed_cost: float
    redispatch_cost: float
    energised_blocks: int
    closed_switches: list[str]
    served_load_kw: float
    total_load_kw: float
    run_time_s: float
    time_to_best_s: float
    worst_total_slack: float
    violations: list[str]
    blocks: list[BlockReport]
    iterations: list[IterationLog] = field(default_factory=list)
    plan: PartitionPlan | None = field(default=None, repr=False)
    checks: SampleChecks | None = None
    #: What rebuilds the problem (``feederopt check``): source, settings file, uncertain loads.
    inputs: dict[str, Any] = field(default_factory=dict)
    #: Notes on the answer (e.g. no grid-forming DER defined: nothing can be energised).
    notes: list[str] = field(default_factory=list)
    #: Proven lower bound on the objective [$] (the master MILPs' / the MILP's dual bound)
    #: and the relative gap ``(objective - lower_bound) / |objective|``; nan when none.
    lower_bound: float = math.nan
    gap: float = math.nan
    #: ``voltage_dependent`` (the loads' OpenDSS models) or ``constant_power`` (the seed's)
    load_model: str = "voltage_dependent"
    #: The served loads' demand at the plan's voltages (nominal realisation) [kW]: what the
    #: model serves; ``served_load_kw`` is their nominal kW (equal with constant-power loads).
    served_load_at_plan_kw: float = math.nan
    #: What the served loads draw in OpenDSS's power flow of the plan at the nominal load
    #: [kW] (the voltage feedback's kept round; nan without it), and those of them below
    #: their ``Vminpu`` or above their ``Vmaxpu`` there, which OpenDSS draws as constant
    #: impedance whatever their model (:func:`feederopt.validation.partition.load_draw`).
    served_load_opendss_kw: float = math.nan
    loads_below_vminpu: list[str] = field(default_factory=list)
    loads_above_vmaxpu: list[str] = field(default_factory=list)
    microgrids: list[MicrogridReport] = field(default_factory=list)
    #: The voltage feedback's record (:func:`feederopt.api_partition.partition`): ``enabled``,
    #: ``rounds`` (one row per plan: its objective, set-points, the model's and OpenDSS's
    #: voltage range at the nominal load, the largest limit shift it was solved with),
    #: ``kept_round``, ``stopped``, ``within_voltage_limits``; None when not run.
    voltage_feedback: dict[str, Any] | None = None
    #: The plan's per-phase DER set-points, labelled (:func:`der_phase_table`): one row per
    #: DER phase with ``der``, ``bus``, ``phase``, ``p_kw``, ``q_kvar``, ``p_max_kw``,
    #: ``s_max_kva`` (the per-phase limits the model holds); ``plan.p_set`` / ``q_set`` are
    #: the same values in p.u. (MW / Mvar per phase), unlabelled, in the model's order.
    der_phases: list[dict[str, Any]] = field(default_factory=list)
    #: The plan is the trivial incumbent of a run stopped at a limit: every block
    #: de-energised while a grid-forming DER could energise one, and not proven optimal (gap
    #: above :data:`TRIVIAL_GAP` or no bound). It is no answer: ``feederopt partition``
    #: exits with code 4, as for a run stopped before any plan.
    trivial_plan: bool = False
    #: The feeder as the user operates it (the base case: the switches, the substation's
    #: among them, as the file sets them) in OpenDSS's power flow, against the voltage
    #: limits and ratings the plan is held to (:func:`feederopt.validation.base_case.
    #: opendss_base_case`, set by :func:`feederopt.api_partition.partition`):
    #: ``losses_kw``, ``min_voltage_pu`` at
    #: ``min_voltage_bus``, ``unserved_load_kw``, ``within_limits``, ``voltage_limits``,
    #: ``rating_limits``; empty when not run (a network not read from an OpenDSS file).
    base: dict[str, Any] = field(default_factory=dict)
    #: The plan's AC verdict (:func:`feederopt.validation.partition.plan_within_limits`, set
    #: by :func:`feederopt.api_partition.partition`): True when its OpenDSS check at the
    #: nominal load keeps every limit and, with samples, OpenDSS serves every sample within
    #: them (IV-E); False when either breaks a limit, or the plan is the trivial one; None
    #: when no AC check ran. ``feederopt partition`` exits 4 exactly when it is False.
    within_limits: bool | None = None
    #: Where the cutting plane's slaves ran: ``kind`` (``serial``, ``process`` for the
    #: local pool, ``ray``), ``workers`` (the count applied: on Ray the actors the cluster's
    #: CPUs allow) and each worker's peak ``worker_memory_mb``, as a plan's ``execution``
    #: (:class:`~feederopt.results.resilience.PlanResult`); the extensive form runs in this
    #: process (serial, 1). User test ut50_par #1: a partition recorded nothing of it.
    execution: dict[str, Any] = field(default_factory=lambda: {
        "kind": "serial", "workers": 1, "worker_memory_mb": []})
    #: The three-phase network partitioned (set by :func:`feederopt.partition`), which
    #: :func:`feederopt.save` draws the folder's figure on; not in :meth:`to_dict`.
    network: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        """One line: case, method, status, objective, the counts of blocks (energised of
        all), closed switches and microgrids, and the AC verdict; not the tables (blocks,
        iterations, DER phases, the voltage feedback's rounds), which filled screens."""
        return (f"PartitionResult(case={self.case!r}, method={self.method!r}, "
                f"status={self.status!r}, objective={self.objective:.6g}, "
                f"energised_blocks={self.energised_blocks}, blocks={len(self.blocks)}, "
                f"closed_switches={len(self.closed_switches)}, "
                f"microgrids={len(self.microgrids)}, within_limits={self.within_limits!r})")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = stamped("partition", {})
        out.update(asdict(replace(self, network=None)))
        out.pop("network")
        plan = out.pop("plan")
        out["plan"] = None if plan is None else {
            k: np.asarray(v).tolist() for k, v in plan.items()}
        return out


# ---------------------------------------------------------------------------------------------
def _point_label(data: PartitionData, scale: np.ndarray,
                 live: np.ndarray | None = None) -> str:
    """The signs of the uncertain loads at ``scale``; ``*`` for a load whose block is
    de-energised (``live`` false: any sign, the same recourse)."""
    idx = np.flatnonzero(data.uncertain)
    return "".join("*" if live is not None and not live[i] else
                   "+" if scale[i] > 1 else "-" if scale[i] < 1 else "0" for i in idx)


def live_groups(data: PartitionData, scales: list[np.ndarray], zbl: np.ndarray
                ) -> tuple[np.ndarray, list[int]]:
    """The loads in energised blocks of ``zbl`` (``live``) and one representative extreme
    point per sign pattern of the live uncertain loads.

    For a first stage ``x`` with block ``l`` de-energised (``z_l = 0``), the recourse LP at
    ``x`` does not depend on the scale ``u_d`` of a load ``d`` of block ``l``: ``u_d`` enters
    only (18a), as ``z_l u_d s_d`` (zero) and as ``u_d K_d w`` on the nodes of block ``l``
    (the voltage-dependent part of the load), where (16c) ``0 <= w <= z_l w_max`` forces
    ``w = 0``; the flow bounds of :func:`~feederopt.formulations.partition.recourse_block`
    come from the box's upper corner, not from the point. So two extreme points that differ
    only in such loads have the same LP at ``x`` (same feasible set, same objective), hence
    the same least total slack ``H_e(x)`` and value ``V_e(x)``: the worst case over the box
    is the worst over the representatives. Their subgradients may differ (in ``z_l``), but a
    representative's cut is valid (``theta >= max_e V_e >= V_rep``, ``0 >= H_rep``) and
    tight at ``x``, which is all the convergence of Algorithm 1 uses. With ``m`` of the
    ``|D|`` uncertain loads live, ``2^m`` LPs per iteration instead of ``2^|D|``.
    """
    live = np.asarray(zbl)[data.load_block] > 0.5
    idx = np.flatnonzero(data.uncertain & live)
    seen: dict[tuple[float, ...], int] = {}
    for e, s in enumerate(scales):
        seen.setdefault(tuple(s[idx]), e)
    return live, sorted(seen.values())


def _plan_from(data: PartitionData, vals: dict[str, np.ndarray]) -> PartitionPlan:
    """The plan of a first-stage solution; a closed switch between two de-energised blocks
    (which the optimum may leave closed: it changes nothing) is reported open, and each
    energised microgrid's grid-forming DER is the one :func:`canonical_grid_forming` names
    (the solver's choice among them is a tie)."""
    on = vals["zbl"] > 0.5
    live = on[data.switch_blocks].any(axis=1) | (data.switch_fixed == 1) if data.n_switches \
        else np.zeros(0, bool)
    x = _clean_x(data, vals)  # set-points inside their bounds (3)
    closed = (vals["zsw"] > 0.5) & live
    return PartitionPlan(energised=on, closed=closed,
                         grid_forming=canonical_grid_forming(data, on, closed,
                                                             vals["zinv"] > 0.5, x["ps"]),
                         p_set=x["ps"], q_set=x["qs"])


def grid_forming_rank(data: PartitionData) -> np.ndarray:
    """Each DER's rank by size (0 first): the largest kVA rating (the sum of its phases'
    ``s_max``, as the model holds it) first, then the largest kW, then the DER's order in the
    network. The last keys of :func:`canonical_grid_forming`."""
    n = len(data.der_ids)
    kva = np.bincount(data.ph_der, weights=data.ph_s_max, minlength=n) if n else np.zeros(0)
    kw = np.bincount(data.ph_der, weights=data.ph_p_max, minlength=n) if n else np.zeros(0)
    order = np.lexsort((np.arange(n), -np.round(kw, 9), -np.round(kva, 9)))
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    return rank


def raise_room(data: PartitionData, p_set: np.ndarray) -> np.ndarray:
    """Each DER's room to raise its output within its band at the set-points ``p_set`` (per
    DER phase, p.u.): ``sum_phases min(ramp s_max, p_max - p_set)`` [p.u.], rounded to 1e-6
    (1 W) so that solver noise does not reorder DERs."""
    n = len(data.der_ids)
    if not n:
        return np.zeros(0)
    room = np.minimum(data.settings.ramp * data.ph_s_max,
                      np.maximum(data.ph_p_max - np.asarray(p_set, float), 0.0))
    return np.round(np.bincount(data.ph_der, weights=room, minlength=n), 6)


def canonical_grid_forming(data: PartitionData, energised: np.ndarray, closed: np.ndarray,
                           solver_choice: np.ndarray,
                           p_set: np.ndarray | None = None, *,
                           any_voltage: bool = False) -> np.ndarray:
    """The grid-forming DERs of a plan: in each energised microgrid (connected component of
    the energised blocks with the closed switches) one grid-forming-capable DER, and no
    other: the one with the most room to raise its output within its band at the plan's
    set-points ``p_set`` (:func:`raise_room`), then the largest (:func:`grid_forming_rank`);
    without ``p_set`` the largest.

    Why: the grid-forming choice ``zinv`` enters the first stage's structure rows ((4),
    the forest's root rule and the count flow; :func:`~feederopt.formulations.partition.
    first_stage_block`), not the objective (16a) and no row with the set-points; in the
    recourse only the one-voltage rows of a multi-phase grid former
    (:func:`~feederopt.formulations.partition.balanced_former_rows`, user test ut38_tph). So
    for fixed block and switch states, any choice of 1 to ``k_der`` capable DERs per microgrid
    (the root block then the chosen DER's) whose one-voltage rows are those of the solver's
    choice (a DER at the same bus with the same phases) or that has none (one phase) is
    feasible with the same set-points and the same cost; only among those is the choice
    made here (a three-phase former at another bus would hold another bus's phases at one
    voltage, which the plan was not solved with). ``any_voltage`` lifts that restriction:
    :func:`verified_grid_forming` takes such a choice once the recourse at every extreme
    point confirms it is a tie. The MILP returned one of these ties, which one depending on
    the solver's version and on 1e-10 differences in the cuts (user test ut34:
    ``ieee37mod`` at 10 % gave G724 with ``--workers 1`` and G732 with ``--workers 2``; at 0 %
    HiGHS 1.15.1 gave G732 and 1.16.0 G724, and the voltage feedback's OpenDSS rounds then
    ended at different plans). The choice matters in OpenDSS: the grid-forming DER is the
    voltage source of the AC check (IV-E) and of the voltage feedback, so it supplies the
    losses that the lossless LinDist3Flow leaves out, always a rise at the nominal load, and,
    within its band, what the followers cannot take of a sample's swing. Our rule (the seed
    states none): one source per microgrid, the one that can rise the most. On ``ieee37mod``
    the cheaper G724 (12 $/kWh) runs at 403-411 kW of its 417.5 kW and G732 (13 $/kWh) is the
    marginal unit: G732 passes IV-E on 100 / 100 / 79.5 % of 200 samples at 10 / 15 / 25 %,
    G724 as the source of the same plans on 100 / 83.5 / 73.5 % (its band and rating). The
    size alone (G724, 459 kVA) was the first rule tried. A microgrid with no capable DER
    (not a valid plan) keeps ``solver_choice``."""
    out = np.zeros(len(data.der_ids), bool)
    if not len(out):
        return out
    rank = grid_forming_rank(data)
    room = raise_room(data, p_set) if p_set is not None else np.zeros(len(out))
    plan = PartitionPlan(energised=np.asarray(energised, bool), closed=np.asarray(closed, bool),
                         grid_forming=np.asarray(solver_choice, bool),
                         p_set=np.zeros(0), q_set=np.zeros(0))
    formed = formed_phases(data, plan) if data.n_slots else None
    tied = tied_former_nodes(data)
    for comp in components(data, plan):
        if not plan.energised[comp[0]]:
            continue
        ders = np.flatnonzero(np.isin(data.der_block, comp))
        able = ders[data.der_gf[ders]]
        # only a former whose one-voltage rows (balanced_former_rows) are the solver's
        # choice's, or that has none: then the recourse is the one the plan was solved with
        # (or looser), so the plan stays feasible at the same cost
        if not any_voltage:
            held = {tied[d] for d in ders if plan.grid_forming[d]}
            able = np.array([d for d in able if not tied[d] or tied[d] in held], int)
        if formed is not None:
            # only a former that keeps the microgrid's live phases (formed_phases): a
            # one-phase former in place of a three-phase one would change the plan
            in_comp = np.isin(data.slot_block, comp)
            keep = []
            for d in able:
                alone = replace(plan, grid_forming=np.isin(np.arange(len(out)), d)
                                | (plan.grid_forming & ~np.isin(data.der_block, comp)))
                if np.array_equal(formed_phases(data, alone)[in_comp], formed[in_comp]):
                    keep.append(d)
            able = np.array(keep, int)
        if len(able):
            out[able[np.lexsort((rank[able], -room[able]))[0]]] = True
        else:
            out[ders] = plan.grid_forming[ders]
    return out


#: The note of a proven-optimal plan whose post-optimal stage (the set-point tie-break,
#: :func:`tie_broken`, and the grid-forming check, :func:`verified_grid_forming`) was not run or
#: was cut short by the time limit: the plan is optimal, its set-points and grid-forming DERs
#: are the MILP's vertex, one of its optimal points.
#: The note on a cutting-plane plan taken from a master whose round of slaves the time limit
#: dropped (every extreme point in the master, so the plan is robustly feasible).
MASTER_PLAN_UNCHECKED = (
    "the time limit came before the slaves evaluated the master's plan; every extreme point "
    "has a recourse copy in the master, so the plan is robustly feasible as the master solved "
    "it, its worst re-dispatch cost the master's theta; the set-point tie-break and the "
    "grid-forming check (docs/partition-tiebreak.md) did not run")

POST_OPTIMAL_SKIPPED = (
    "the time limit came before the set-point tie-break and the grid-forming check "
    "(docs/partition-tiebreak.md) could run: the plan is optimal, its set-points and "
    "grid-forming DERs are the MILP's, one of its optimal points (a longer --time-limit "
    "gives the tie-broken ones)")


def post_optimal_stage_skipped(deadline: float) -> bool:
    """Whether the post-optimal stage of a proven-optimal plan is skipped: the run's
    ``deadline`` (``time.perf_counter()``) and its grace have passed
    (:func:`~feederopt.execution.executors.round_end`, the executors' rule for a round of
    slaves, which the stage's own rounds obey too). The stage (an exact model over the
    representative extreme points, a least-norm QP, a round of slaves, the grid-forming check)
    has no time limit of its own and only moves the plan within its optimal face, so it is not
    started then (:data:`POST_OPTIMAL_SKIPPED`). Within the grace it runs: at the MILP's
    vertex a grid-forming set-point may sit at a band's edge (0.90 p.u. on ``ieee13mod``),
    which OpenDSS's check of the plan then finds below the limits (exit 4), where the
    tie-break's point, 0.3 s later, holds them."""
    return time.perf_counter() > round_end(deadline)


def verified_grid_forming(data: PartitionData, plan: PartitionPlan, worst: float,
                          evaluate: Callable[[dict[str, np.ndarray]], tuple[float, float]],
                          eps: float, tol: float) -> tuple[PartitionPlan, float]:
    """``plan`` with the grid-forming DERs that :func:`canonical_grid_forming` names without
    its one-voltage restriction (``any_voltage``), when the recourse confirms the choice is a
    tie: ``evaluate(x)`` (the worst total slack and the worst re-dispatch cost over the
    extreme points, the plan's set-points) is slack-free and costs at most ``worst`` (the
    plan's, within ``tol``). A three-phase grid former at another bus holds another bus's
    phases at one voltage (:func:`~feederopt.formulations.partition.balanced_former_rows`);
    where the plan's voltages are balanced there anyway (balanced loads, user test ut34's
    tie) the choice is the rule's whatever vertex the MILP returned. Returns the plan kept
    and its worst re-dispatch cost."""
    free = canonical_grid_forming(data, plan.energised, plan.closed, plan.grid_forming,
                                  plan.p_set, any_voltage=True)
    if np.array_equal(free, plan.grid_forming):
        return plan, worst
    alt = replace(plan, grid_forming=free)
    slack, value = evaluate(plan_x(data, alt))
    if slack <= eps and value <= worst + tol * (1 + abs(worst)):
        return alt, value
    return plan, worst


def _costs(data: PartitionData, plan: PartitionPlan) -> tuple[float, float]:
    on = plan.energised.astype(float)
    gen = float(1000.0 * data.der_c1[data.ph_der] @ plan.p_set
                + data.der_c0 @ on[data.der_block])
    shed = float(data.settings.shed_scale * data.alpha @ (1 - on))
    return gen, shed


#: [$] How far above the recourse optimum ``V*`` the operating point's second stage may go
#: (:func:`operating_point`). A plan's set-points meet the demand only within the solvers'
#: feasibility tolerance (1e-7 p.u.): the first LP absorbs such a residue within its own
#: tolerance at ``V* = 0``, while the second, solved from scratch, must cover it by
#: re-dispatch priced at ``1.001 c1`` (1,000-14,000 $/p.u. on the shipped cases), up to 1e-3 $
#: per DER phase. With ``1e-9 (1 + |V*|)`` the second stage was infeasible on constant-power
#: islands whose set-points were 1e-9 p.u. off their loads, and the first LP's vertex stood
#: (0.901 or 0.902 p.u. where every level is optimal). 1e-3 $ buys at most a few watts of
#: re-dispatch.
OPERATING_VALUE_TOL = 1e-3

#: The reactive re-dispatch groups of the recourse (``o^q+``, ``o^q-``, p.u. per DER phase).
Q_MOVES = ("oq_up", "oq_dn")

#: The slack [p.u., 1 MVA base: 1e-6 is 1 var] on the least total reactive re-dispatch that
#: :func:`operating_point`'s voltage stage keeps.
OPERATING_Q_TOL = 1e-6


def operating_point(data: PartitionData, plan: PartitionPlan,
                    scale: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The plan's operating point at the load scales ``scale`` (default nominal): the
    recourse LP of :func:`~feederopt.formulations.partition.recourse_block` with the plan's
    first stage fixed and the seed's (S1) objective ``V = omega sum h + sum c1 (o+ + o-)``;
    its values (``w`` squared node voltages [p.u.^2], ``pg`` DER outputs per phase [MW], the
    slacks). With voltage-dependent loads the voltages are part of the plan: at fixed
    set-points the demand ``p_d(w)`` (:func:`~feederopt.problems.partition.served_at_voltages`)
    balances them, which fixes the grid-forming DER's voltage. Where ``V`` leaves the voltage
    level free (constant-power loads: LinDist3Flow's demand and flows do not depend on it),
    two more stages pick a unique point among those with
    ``V <= V* (1 + 1e-9) + OPERATING_VALUE_TOL`` (our rules; the seed states no set-point):
    first the grid followers' least reactive re-dispatch ``Q* = min sum_F (o^q+ + o^q-)``
    (``F`` the phases of DERs that do not form the grid: a grid former is the island's voltage
    source, its ``q`` what the flow asks of it, as in OpenDSS), since ``V`` prices only
    active moves and left ``qg`` at any vertex of its band, which moved every phase by its
    full band away from the published ``q_set`` and put the reported voltages 4 % away from
    OpenDSS's at the set-points (user test ut45b_part #2); then, with
    ``sum_F (o^q+ + o^q-) <= Q* (1 + 1e-9) + OPERATING_Q_TOL``, the point whose grid-forming
    nodes are nearest 1 p.u., ``min sum_j |w_j - 1|``, so the reported set-point is unique."""
    sc = data.nominal() if scale is None else scale
    omega = data.settings.omega * 1000.0
    costs = {**{g: omega * v for g, v in slack_terms(data).items()},
             **recourse_cost_terms(data)}
    x = plan_x(data, plan)

    def fixed_model(block: Block) -> HighsModel:
        m = HighsModel(block)
        for g in X_GROUPS:
            m.set_bounds(g, x[g], x[g])
        return m

    # the recourse block is built once for the three stages (it was built three times, a
    # third of a partition run's voltage feedback): each stage takes a copy of its lists, to
    # which it adds its own rows, groups and objective; the groups, rows and cones themselves
    # are shared and never changed (HighsModel reads them)
    base = recourse_block(data, sc)

    def fresh() -> Block:
        return Block(groups=dict(base.groups), rows=list(base.rows), cones=list(base.cones),
                     objective=dict(base.objective), on_off=list(base.on_off))

    m = fixed_model(fresh())
    m.set_costs(costs)
    value = PartitionSlaves._solve(m, -1).objective
    cap = value + 1e-9 * abs(value) + OPERATING_VALUE_TOL

    def capped(extra_q: float | None) -> Block:
        b = fresh()
        b.objective.clear()
        b.add_rows("value_cap", {g: sp.csr_matrix(np.atleast_2d(c)) for g, c in costs.items()},
                   Sense.LE, np.array([cap]))
        if extra_q is not None:
            b.add_rows("q_move_cap", {g: sp.csr_matrix(np.atleast_2d(follower))
                                      for g in Q_MOVES}, Sense.LE, np.array([extra_q]))
        return b

    # stage 2: the grid followers' least reactive re-dispatch (V prices only o^p, so without
    # it their qg is any vertex of the band and the voltages with it; user test ut45b_part
    # #2). A grid-forming DER is the island's voltage source: its q is what the flow asks of
    # it (in OpenDSS too), so it stays free.
    follower = (~np.asarray(plan.grid_forming, bool)[data.ph_der]).astype(float)
    b = capped(None)
    for g in Q_MOVES:
        b.add_objective(g, follower)
    m_q = fixed_model(b)
    if m_q.solve().status != "optimal":
        return m.values()
    q_move = float(sum(m_q.values()[g] @ follower for g in Q_MOVES))
    gf_nodes = np.array(sorted({int(j) for d in np.flatnonzero(plan.grid_forming)
                                for j in data.ph_node[data.ph_der == d]}), int)
    if not len(gf_nodes):
        return m_q.values()
    b = capped(q_move * (1 + 1e-9) + OPERATING_Q_TOL)
    k, n = len(gf_nodes), data.pu.n_nodes
    b.add_group(Group.new("vdev", k, 0.0, np.inf))
    sel = sp.csr_matrix((np.ones(k), (np.arange(k), gf_nodes)), shape=(k, n))
    eye = sp.identity(k, format="csr")
    b.add_rows("vdev_up", {"w": sel, "vdev": -eye}, Sense.LE, np.ones(k))
    b.add_rows("vdev_dn", {"w": -sel, "vdev": -eye}, Sense.LE, -np.ones(k))
    b.add_objective("vdev", np.ones(k))
    m2 = fixed_model(b)
    sol = m2.solve()
    return m2.values() if sol.status == "optimal" else m_q.values()


def _microgrids(data: PartitionData, plan: PartitionPlan, w: np.ndarray,
                served: np.ndarray) -> list[MicrogridReport]:
    """The energised components of ``plan`` at the squared voltages ``w`` (see
    :class:`MicrogridReport`); ``served`` is each load's demand at ``w`` [kW]."""
    pu = data.pu
    real = ~np.asarray(pu.virtual, bool)[pu.node_bus] & live_nodes(data, plan)
    v = np.sqrt(np.maximum(w, 0.0))
    out: list[MicrogridReport] = []
    for comp in (c for c in components(data, plan) if plan.energised[c[0]]):
        nodes = np.flatnonzero(np.isin(data.block_of_node, comp) & real)
        ders = [d for d in range(len(data.der_ids)) if data.der_block[d] in comp]
        gf = [d for d in ders if plan.grid_forming[d]]
        vs = [float(v[j]) for d in gf for j in data.ph_node[data.ph_der == d]]
        loads = np.isin(data.load_block, comp)
        out.append(MicrogridReport(
            len(out), [int(b) for b in comp], [data.der_ids[d] for d in gf],
            float(np.mean(vs)) if vs else math.nan, vs,
            float(v[nodes].min()) if len(nodes) else math.nan,
            float(v[nodes].max()) if len(nodes) else math.nan,
            float(data.load_p_kw[loads].sum()), float(served[loads].sum()),
            float(sum(plan.p_set[data.ph_der == d].sum() * 1000 for d in ders))))
    return out


def _blocks(data: PartitionData, plan: PartitionPlan,
            served: np.ndarray | None = None) -> list[BlockReport]:
    comp_of = {}
    for c, members in enumerate(x for x in components(data, plan) if plan.energised[x[0]]):
        for m in members:
            comp_of[m] = c
    out = []
    for k in range(data.n_blocks):
        ders = [d for d in range(len(data.der_ids)) if data.der_block[d] == k]
        setp = {data.der_ids[d]: float(plan.p_set[data.ph_der == d].sum() * 1000) for d in ders}
        out.append(BlockReport(k, data.block_buses[k], bool(plan.energised[k]),
                               comp_of.get(k, -1),
                               [data.der_ids[d] for d in ders if plan.grid_forming[d]], setp,
                               float(data.load_p_kw[data.load_block == k].sum()),
                               float(served[data.load_block == k].sum()) if served is not None
                               else math.nan, bool(data.lost[k])))
    return out


def der_phase_table(data: PartitionData, plan: PartitionPlan) -> list[dict[str, Any]]:
    """The plan's set-points per DER phase in the user's ids and SI units (user test ut32_part
    #2: ``plan.p_set`` / ``q_set`` are p.u. vectors, MW / Mvar per phase on a 1 MVA base, with
    no DER or phase names). ``p_max_kw`` and ``s_max_kva`` are the per-phase limits of the
    model (``p_max / |phases|`` and ``kVA / |phases|``, the rating capped as in
    :func:`~feederopt.problems.partition.build_partition_data`; a single-phase unit between two
    phases is one row, ``phase`` the pair, e.g. ``"bc"``, with its whole limits); a DER's rows
    sum to its set-point in the block table (``der_set_points_kw``)."""
    pu = data.pu
    rows = []
    for i, (d, node) in enumerate(zip(data.ph_der, data.ph_node, strict=True)):
        # "phase": one letter phase to ground, the pair ("bc") for a unit between two phases
        rows.append({"der": data.der_ids[int(d)], "bus": pu.bus_ids[int(pu.node_bus[node])],
                     "phase": der_entry_phases(data, i),
                     "p_kw": float(plan.p_set[i] * 1000), "q_kvar": float(plan.q_set[i] * 1000),
                     "p_max_kw": float(data.ph_p_max[i] * 1000),
                     "s_max_kva": float(data.ph_s_max[i] * 1000)})
    return rows


#: The gap at or below which a time-limited all-off plan is proven optimal, hence an answer
#: (:attr:`PartitionResult.trivial_plan`).
TRIVIAL_GAP = 1e-9


def _result(data: PartitionData, case: str, method: str, status: str, plan: PartitionPlan,
            redispatch: float, t0: float, t_best: float, worst_slack: float,
            iterations: list[IterationLog], n_points: int,
            lower_bound: float = math.nan) -> PartitionResult:
    """The result of ``plan``; its objective, bound and gap (``(obj - lb) / |obj|``, 0 when
    the bound meets the objective within rounding), and the plan's nominal operating point
    (:func:`operating_point`: served load at the plan's voltages, microgrid voltages)."""
    gen, shed = _costs(data, plan)
    summ = plan_summary(data, plan)
    objective = gen + shed + redispatch
    gap = math.nan
    if math.isfinite(lower_bound):
        lower_bound = min(lower_bound, objective)  # a bound above by rounding only
        gap = (objective - lower_bound) / max(abs(objective), 1e-9)
    with interrupt.shielded():  # short LPs: a stopped run still reports its plan
        w = operating_point(data, plan)["w"]
        served = served_at_voltages(data, plan.energised, w)
    res = PartitionResult(
        case=case, method=method, status=status, uncertainty=data.settings.uncertainty,
        k_der=data.settings.k_der, extreme_points=n_points,
        objective=objective, generation_cost=gen, load_shed_cost=shed,
        redispatch_cost=redispatch, energised_blocks=summ["energised_blocks"],
        closed_switches=[data.switch_ids[s] for s in np.flatnonzero(plan.closed)],
        served_load_kw=summ["served_load_kw"], total_load_kw=summ["total_load_kw"],
        run_time_s=time.perf_counter() - t0, time_to_best_s=t_best - t0,
        worst_total_slack=worst_slack, violations=check_partition(data, plan),
        blocks=_blocks(data, plan, served), iterations=iterations, plan=plan,
        lower_bound=lower_bound, gap=gap, load_model=data.settings.load_model,
        served_load_at_plan_kw=float(served.sum()),
        microgrids=_microgrids(data, plan, w, served), der_phases=der_phase_table(data, plan))
    if n_points == 1:  # the deterministic plan: its set-points are the nominal dispatch
        res.notes.extend(balance_notes(data, plan, w))
    if not plan.energised.any() and status != "optimal" and data.der_gf.any() and not (
            math.isfinite(gap) and gap <= TRIVIAL_GAP):
        res.trivial_plan = True
        res.notes.append(
            ("the plan found before the stop (interrupted)" if status == "interrupted" else
             f"the plan found by the time limit ({status})")
            + " de-energises every block (the "
            "trivial plan, always feasible); it is no answer: "
            + (f"the lower bound is {lower_bound:,.2f} $ (gap {100 * gap:.2f} %)"
               if math.isfinite(lower_bound) else "no lower bound is known")
            + "; give more time"
            + (" or use the cutting plane (leave --extensive out)" if method == "extensive"
               else ""))
    return res


def balance_notes(data: PartitionData, plan: PartitionPlan, w: np.ndarray) -> list[str]:
    """A note when a deterministic plan's set-points do not balance the model demand of its
    served blocks at the plan's voltages ``w`` (P or Q, beyond :data:`BALANCE_TOL_KW` in a
    microgrid; :func:`~feederopt.problems.partition.setpoint_imbalance`). Tie-break rule 1
    makes them balance (docs/partition-tiebreak.md); when it could not be applied (its note
    says why) or the plan was not tie-broken, the nominal load takes re-dispatch, and the
    published set-points are then not the DERs' outputs at the nominal load (user test
    ut38_tph: q = 0 on every DER for 180 kvar of load)."""
    bad = [(b, dp, dq) for b, dp, dq in setpoint_imbalance(data, plan, w)
           if max(abs(dp), abs(dq)) > BALANCE_TOL_KW]
    if not bad:
        return []
    # rounded before printing: -0.001 is "0.00", not "-0.00" (ut38_recheck)
    each = "; ".join(f"microgrid of blocks {b}: {round(dp, 2) + 0.0:.2f} kW, "
                     f"{round(dq, 2) + 0.0:.2f} kvar" for b, dp, dq in bad)
    return [f"the DER set-points do not balance the nominal load of the served blocks (the "
            f"model's demand at the plan's voltages less the set-points, tolerance "
            f"{BALANCE_TOL_KW:g} kW / kvar per microgrid): {each}; the re-dispatch at the "
            "nominal load covers the difference"]


def _theta_group(block: Block) -> None:
    block.add_group(Group.new("theta", 1, 0.0, np.inf))
    block.add_objective("theta", np.ones(1))


# ---------------------------------------------------------------------------------------------
class PartitionStopped(SolverError):
    """A partitioning MILP that stopped without any plan for a reason other than a limit
    (HiGHS's error, say; exit code 4, as ``feederopt solve`` and ``schedule`` end a run that
    stopped before an answer); ``bound`` is the lower bound proven so far [$] (nan when
    none). A run stopped at its time limit before any plan answers the all-dark plan instead
    (:func:`stopped_result`)."""

    exit_code = 4

    def __init__(self, message: str, bound: float = math.nan) -> None:
        super().__init__(message)
        self.bound = bound


def all_dark_plan(data: PartitionData) -> PartitionPlan:
    """Every block de-energised: the switches held closed by the settings closed, every other
    one open, no grid-forming DER, zero set-points. Robustly feasible in every realisation
    (seed 001, section II: a dark block serves no load and holds no DER output, and a closed
    switch joins two dark blocks, eq. 2), so it is the fallback of a run stopped before any
    plan was found. Its objective is the load shed of every block,
    ``shed_scale * sum_k alpha_k`` (docs/partition-settings.md: ``1000 (10 + 0.01 loads)``
    per block by default), with no generation and no re-dispatch cost."""
    n_ph = len(data.ph_der)
    return PartitionPlan(np.zeros(data.n_blocks, bool), np.asarray(data.switch_fixed == 1),
                         np.zeros(len(data.der_ids), bool), np.zeros(n_ph), np.zeros(n_ph))


def stopped_result(data: PartitionData, case: str, method: str, status: str, why: str, *,
                   t0: float, n_points: int, iterations: list[IterationLog] | None = None,
                   lower_bound: float = math.nan) -> PartitionResult:
    """The result of a run stopped (``status``: ``time_limit``, ``iteration_limit``,
    ``interrupted`` by Ctrl-C or SIGTERM) before
    any plan was found: the all-dark plan (:func:`all_dark_plan`), always robustly feasible,
    with the bound proven so far; ``why`` (what stopped, and when) is its first note. When a
    grid-forming DER could energise a block and the bound does not prove it optimal it is the
    trivial plan (:attr:`PartitionResult.trivial_plan`, exit code 4), written all the same.
    Before (user test ut47_part): :class:`PartitionStopped`, nothing written."""
    res = _result(data, case, method, status, all_dark_plan(data), 0.0, t0, time.perf_counter(),
                  0.0, list(iterations or []), n_points, lower_bound=lower_bound)
    res.notes.insert(0, why + "; the plan is the all-dark fallback (every block "
                     "de-energised), always robustly feasible")
    return res


class _Deadline(Exception):
    """The deadline passed while the extensive form was being built."""


def with_copies(data: PartitionData, scales: list[np.ndarray],
                 deadline: float = math.inf) -> Block:
    """First stage, ``theta`` and one slack-free recourse copy per realisation in ``scales``
    with ``theta >=`` its re-dispatch cost. Raises :class:`_Deadline` when
    ``time.perf_counter()`` passes ``deadline`` between two copies."""
    block, _ = first_stage_block(data)
    _theta_group(block)
    for e, s in enumerate(scales):
        if time.perf_counter() > deadline:
            raise _Deadline
        rb = recourse_block(data, s)
        for g in SLACKS:
            rb.groups[g].ub[:] = 0.0
        cost = recourse_cost_terms(data)
        copy = rename(rb, f"e{e}.")
        copy.objective.clear()
        block.merge(copy)
        terms = {f"e{e}.{g}": np.atleast_2d(c) for g, c in cost.items()}
        terms["theta"] = -np.ones((1, 1))
        block.add_rows(f"theta_{e}", {g: sp.csr_matrix(a) for g, a in terms.items()}, Sense.LE,
                       np.zeros(1))
    return block


def solve_extensive(data: PartitionData, *, scales: list[np.ndarray] | None = None,
                    case: str = "network", time_limit_s: float = 600.0,
                    gap: float = 1e-6) -> PartitionResult:
    """The extensive form (one recourse copy per realisation in ``scales``, default every
    extreme point of the box) as one MILP on HiGHS; see module docstring.

    ``time_limit_s`` is a deadline for the whole run, the model building included (64 copies
    of IEEE 37's recourse take seconds): HiGHS gets what is left. At the limit the incumbent
    is the result, with status ``time_limit`` and HiGHS's dual bound (plus the first stage's
    constant) as ``lower_bound``; without an incumbent (or when the building alone used the
    time) the all-dark plan (:func:`stopped_result`), with that bound if any."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    scales = scales if scales is not None else data.extreme_points()
    const = first_stage_block(data)[1]
    stopped = (f"the extensive form ({len(scales)} recourse copies) stopped at the time limit "
               f"({time_limit_s:g} s)")
    advice = "give more time, or leave --extensive out for the cutting plane"
    try:
        model = HighsModel(with_copies(data, scales, deadline))
    except _Deadline:
        return stopped_result(data, case, "extensive", "time_limit",
                              f"{stopped} while it was being built, before any partition was "
                              f"found ({advice})", t0=t0, n_points=len(scales))
    left = deadline - time.perf_counter()
    if left <= 0:
        return stopped_result(data, case, "extensive", "time_limit",
                              f"{stopped} once built, before any partition was found "
                              f"({advice})", t0=t0, n_points=len(scales))
    model.h.setOptionValue("mip_rel_gap", gap)
    model.h.setOptionValue("presolve", MIP_PRESOLVE)
    model.set_time_limit(left)
    sol = model.solve()
    bound = sol.bound + const if math.isfinite(sol.bound) else math.nan
    if not sol.has_solution:
        if sol.status == "infeasible":
            raise SolverError("the partitioning MILP is infeasible")
        if sol.status in ("time_limit", "iteration_limit", "solution_limit"):
            return stopped_result(
                data, case, "extensive", "time_limit" if sol.status == "time_limit"
                else "iteration_limit", f"{stopped} before HiGHS found any partition "
                f"({advice})", t0=t0, n_points=len(scales), lower_bound=bound)
        if sol.status == "interrupted" or interrupt.requested():
            # Ctrl-C or SIGTERM: the all-dark plan, as at a time limit (ut50_par #2)
            return stopped_result(
                data, case, "extensive", "interrupted", f"the extensive form ({len(scales)} "
                "recourse copies) was stopped (Ctrl-C or SIGTERM) before HiGHS found any "
                "partition", t0=t0, n_points=len(scales), lower_bound=bound)
        raise PartitionStopped(
            f"{stopped} before any partition was found ({sol.status}"
            + (f"; lower bound {bound:,.2f} $" if math.isfinite(bound) else "")
            + "); nothing is written; give more time or leave --extensive out (the cutting "
            "plane)", bound)
    vals = model.values()
    notes: list[str] = []
    polish = sol.status == "optimal" and not post_optimal_stage_skipped(deadline)
    if sol.status == "optimal" and not polish:
        notes.append(POST_OPTIMAL_SKIPPED)
    if polish:  # the tie-break of the set-points, as in solve_robust
        vals = canonical_roots(data, vals)
        objective = restricted_optimum(model, vals, sol.objective)
        if len(scales) == 1:
            vals = tie_broken(data, model, vals, objective, nominal_copy="e0.",
                              notes=notes) or vals
        else:
            vals = tie_broken(data, model, vals, objective, rel_tol=ROBUST_TIE_TOL,
                              notes=notes) or vals
    plan = _plan_from(data, vals)
    theta = float(vals["theta"][0])
    if polish:
        slaves = PartitionSlaves(data, scales)

        def in_turn(x: dict[str, np.ndarray]) -> tuple[float, float]:
            rv = [slaves.evaluate(e, x, data.settings.eps)
                  for e in live_groups(data, scales, x["zbl"])[1]]
            return max(r.slack for r in rv), max(r.value for r in rv)

        plan, theta = verified_grid_forming(data, plan, theta, in_turn, data.settings.eps,
                                            1e-6)
    status = "optimal" if sol.status == "optimal" else sol.status
    res = _result(data, case, "extensive", status, plan, theta, t0,
                  time.perf_counter(), 0.0, [], len(scales), lower_bound=bound)
    res.notes.extend(notes)
    return res


# ---------------------------------------------------------------------------------------------
@dataclass
class RecourseValue:
    """The recourse at one extreme point for one ``x``: least total slack and its
    subgradient; where feasible, the seed's (S1) value and its subgradient."""

    point: int
    slack: float
    slack_grad: dict[str, np.ndarray]
    value: float
    value_grad: dict[str, np.ndarray]


class PartitionSlaves:
    """A worker's slaves: one persistent HiGHS LP per extreme point, built on first use."""

    def __init__(self, data: PartitionData, scales: list[np.ndarray]) -> None:
        self.data = data
        self.scales = scales
        self.models: dict[int, HighsModel] = {}

    def model(self, e: int) -> HighsModel:
        if e not in self.models:
            self.models[e] = HighsModel(recourse_block(self.data, self.scales[e]))
        return self.models[e]

    def evaluate(self, e: int, x: dict[str, np.ndarray], eps: float) -> RecourseValue:
        m = self.model(e)
        for g in X_GROUPS:
            m.set_bounds(g, x[g], x[g])
        m.set_costs(slack_terms(self.data))
        sol = self._solve(m, e)
        slack, sgrad = sol.objective, self._grad(m)
        if slack > eps:
            return RecourseValue(e, slack, sgrad, math.nan, {})
        omega = self.data.settings.omega * 1000.0  # $/kW of slack -> $/p.u.
        costs = {**{g: omega * v for g, v in slack_terms(self.data).items()},
                 **recourse_cost_terms(self.data)}
        m.set_costs(costs)
        sol = self._solve(m, e)
        return RecourseValue(e, slack, sgrad, sol.objective, self._grad(m))

    @staticmethod
    def _solve(m: HighsModel, e: int) -> Any:
        """Solve; after a numerical failure, once more from scratch without presolve."""
        sol = m.solve()
        if sol.status == "interrupted":  # Ctrl-C: the round is dropped, the run stops
            raise interrupt.Interrupted(f"partition slave {e}: interrupted")
        if sol.status != "optimal":
            m.h.clearSolver()
            m.h.setOptionValue("presolve", "off")
            sol = m.solve()
            m.h.setOptionValue("presolve", "choose")
        if sol.status != "optimal":
            raise SolverError(f"partition slave {e}: HiGHS status {sol.status}")
        return sol

    @staticmethod
    def _grad(m: HighsModel) -> dict[str, np.ndarray]:
        dual = np.asarray(m.h.getSolution().col_dual, float)
        out = {}
        for g in X_GROUPS:
            off, size = m.offset[g], m.block.groups[g].size
            out[g] = dual[off: off + size].copy()
        return out


@dataclass
class _SlaveFactory:
    data: PartitionData
    scales: list[np.ndarray]

    def __call__(self) -> PartitionSlaves:
        return PartitionSlaves(self.data, self.scales)


def _evaluate(state: PartitionSlaves, item: tuple[int, dict[str, np.ndarray], float]
              ) -> RecourseValue:
    e, x, eps = item
    return state.evaluate(e, x, eps)


def solve_robust(data: PartitionData, *, case: str = "network", workers: int = 1,
                 ray_address: str | None = None, time_limit_s: float = 600.0,
                 max_iterations: int = 200, tol: float = 1e-6,
                 progress: ProgressCallback | None = None) -> PartitionResult:
    """Algorithm 1 of the seed (see module docstring); the slaves run on an executor.
    ``progress`` gets a :class:`~feederopt.solvers.status.PhaseRecord` as each master and
    each round of slaves starts."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    round_deadline = deadline if math.isfinite(deadline) else None
    eps = data.settings.eps
    scales = data.extreme_points()
    in_master = [int(np.argmax([float(x @ data.load_p_kw) for x in scales]))]
    cuts: list[tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]] = []

    const = first_stage_block(data)[1]

    def build_master() -> HighsModel:
        m = HighsModel(with_copies(data, [scales[e] for e in in_master]))
        m.h.setOptionValue("mip_rel_gap", 1e-9)
        m.h.setOptionValue("presolve", MIP_PRESOLVE)
        cut_rows.clear()
        for coefs, rhs in cuts:
            cut_rows.add(m, coefs, rhs)
        return m

    cut_rows = CutRows()
    master = build_master()
    log: list[IterationLog] = []
    status = "iteration_limit"
    best: tuple[PartitionPlan, float, float] | None = None
    t_best = t0
    fixed: dict[str, np.ndarray] | None = None  # the binaries of the restricted phase
    hint: dict[str, np.ndarray] | None = None  # a master solution to start the next MILP
    lower = -math.inf  # the best master MILP bound: a lower bound of the problem
    notes: list[str] = []  # the tie-break's, on the plan it returns
    polish = False  # the post-optimal stage runs (not past the deadline)
    with make_executor(_SlaveFactory(data, scales), workers=workers,
                       ray_address=ray_address) as ex:
        for k in range(1, max_iterations + 1):
            left = time_limit_s - (time.perf_counter() - t0)
            if left <= 0:
                status = "time_limit"
                break
            report_phase(progress, f"master {k}" + (" (binaries fixed)" if fixed is not None
                                                     else ""), k, time.perf_counter() - t0)
            _restrict(master, fixed, cut_rows)
            if fixed is None and hint is not None:
                master.warm_start(hint)
            hint = None
            master.set_time_limit(left)
            sol = master.solve()
            if fixed is None and math.isfinite(sol.bound):  # a MILP: its dual bound is one
                lower = max(lower, sol.bound + const)  # of the problem (a relaxation)
            if not sol.has_solution:
                if fixed is not None:  # the cuts exclude these binaries: back to the MILP
                    fixed = None
                    continue
                status = "infeasible" if sol.status == "infeasible" else sol.status
                break
            phase = "restricted" if fixed is not None else "milp"
            vals = master.values()
            x = _clean_x(data, vals)
            theta = float(vals["theta"][0])
            live, reps = live_groups(data, scales, x["zbl"])
            report_phase(progress, f"slaves {k} ({len(reps)} extreme points)", k,
                         time.perf_counter() - t0)
            try:
                rv = ex.map(_evaluate, [(e, x, eps) for e in reps], deadline=round_deadline)
            except interrupt.RoundOverran:  # past the limit and its grace: the plan so far
                status = "time_limit"
                if len(in_master) == len(scales):
                    # every extreme point has its slack-free recourse copy in the master (the
                    # deterministic problem's one, say): the master's plan is robustly
                    # feasible without its slaves, and theta bounds its re-dispatch cost as
                    # in the extensive form (ut47_part follow-up #1: the MILP's incumbent
                    # before the all-dark fallback)
                    value = sol.objective + const
                    if best is None or value < best[1] - 1e-9:
                        best = (_plan_from(data, vals), value, theta)
                        t_best = time.perf_counter()
                        notes.append(MASTER_PLAN_UNCHECKED)
                break
            except interrupt.Interrupted:  # Ctrl-C: the incumbent so far is the answer
                status = "interrupted"
                break
            worst_h = max(rv, key=lambda r: r.slack)
            n_cuts = 0
            if fixed is None:
                fixed = {g: np.round(vals[g]) for g in _integer_groups(master)}
            if worst_h.slack > eps:
                for r in rv:
                    if r.slack > eps:
                        cuts.append(_cut(master, cut_rows, x, r.slack, r.slack_grad,
                                         theta_coef=0.0))
                        n_cuts += 1
                if worst_h.point not in in_master:
                    in_master.append(worst_h.point)
                    master = build_master()
                log.append(IterationLog(k, sol.objective + const, theta,
                                        _point_label(data, scales[worst_h.point], live),
                                        worst_h.slack, math.nan, n_cuts, phase))
                continue
            worst = max(rv, key=lambda r: r.value)
            for r in rv:
                if r is worst or r.value > theta + tol * (1 + abs(theta)):
                    cuts.append(_cut(master, cut_rows, x, r.value, r.value_grad,
                                      theta_coef=-1.0))
                    n_cuts += 1
            log.append(IterationLog(k, sol.objective + const, theta,
                                    _point_label(data, scales[worst.point], live),
                                    worst_h.slack,
                                    worst.value, n_cuts, phase))
            plan = _plan_from(data, vals)
            value = sol.objective + const - theta + worst.value
            if best is None or value < best[1] - 1e-9:
                best = (plan, value, worst.value)
                t_best = time.perf_counter()
            if worst.value <= theta + tol * (1 + abs(sol.objective)):
                if phase == "milp":
                    if sol.status != "optimal":
                        # the cutting plane has converged on a master that stopped short
                        # (its time limit, which was the run's time left): theta meets the
                        # worst re-dispatch cost, but the master's incumbent is not proven
                        # optimal, so neither is the plan; only its MILP dual bound
                        # (``lower``) bounds the problem (user test ut32_time #1: ieee37mod,
                        # --time-limit 2, "optimal" with a 2.09 % gap). The check after the
                        # loop relabels it optimal if the plan meets that bound.
                        status = "time_limit" if sol.status == "time_limit" else sol.status
                        break
                    status = "optimal"
                    polish = not post_optimal_stage_skipped(deadline)
                    if polish:
                        try:
                            best = _tie_break(data, master, vals,
                                              sol.objective + max(0.0, worst.value - theta),
                                              best, ex, scales, reps, eps, tol, notes,
                                              deadline=round_deadline)
                        except interrupt.RoundOverran:  # its round dropped: the MILP's vertex
                            polish = False
                    if not polish:
                        notes.append(POST_OPTIMAL_SKIPPED)
                    break
                # the restricted phase has converged: prove (or improve) it with the MILP,
                # starting from this plan with theta at its worst re-dispatch cost
                fixed = None
                hint = {**vals, "theta": np.array([max(theta, worst.value)])}
        if best is not None and status == "optimal" and polish:
            def on_slaves(x: dict[str, np.ndarray]) -> tuple[float, float]:
                reps_x = live_groups(data, scales, x["zbl"])[1]
                rv = ex.map(_evaluate, [(e, x, eps) for e in reps_x],
                            deadline=round_deadline)
                return max(r.slack for r in rv), max(r.value for r in rv)

            try:
                kept_plan, kept_worst = verified_grid_forming(data, best[0], best[2],
                                                              on_slaves, eps, tol)
            except interrupt.RoundOverran:  # the check's round dropped: the plan as it is
                notes.append(POST_OPTIMAL_SKIPPED)
            else:
                best = (kept_plan, best[1] - best[2] + kept_worst, kept_worst)
        execution = {"kind": ex.kind, "workers": int(ex.workers),
                     "worker_memory_mb": [round(float(mb), 1) for mb in
                                          ex.worker_memory_mb()]}
    res = _robust_result(data, case, status, best, lower, log, notes, scales, t0, t_best,
                         time_limit_s, tol)
    res.execution = execution
    return res


def _robust_result(data: PartitionData, case: str, status: str,
                   best: tuple[PartitionPlan, float, float] | None, lower: float,
                   log: list[IterationLog], notes: list[str], scales: list[np.ndarray],
                   t0: float, t_best: float, time_limit_s: float, tol: float
                   ) -> PartitionResult:
    """The result of :func:`solve_robust`'s loop: its best plan, or the all-dark plan of a
    run stopped before any (:func:`stopped_result`)."""
    bound = lower if math.isfinite(lower) else math.nan
    if best is None:
        if status == "interrupted" or interrupt.requested():
            # Ctrl-C or SIGTERM: the all-dark plan, as at a time limit (README
            # "Interruption"; user test ut50_par #2: "nothing written" after the stop line
            # had promised the plan so far "reported and written")
            return stopped_result(
                data, case, "cutting_plane", "interrupted",
                f"the cutting plane was stopped (Ctrl-C or SIGTERM) after {len(log)} "
                "iterations, before any robustly feasible partition was found", t0=t0,
                n_points=len(scales), iterations=log, lower_bound=bound)
        if status in ("time_limit", "iteration_limit"):
            # the master's incumbent, if any, is not robustly feasible until its slaves say
            # so (their round was dropped at the deadline): the all-dark plan is the answer
            return stopped_result(
                data, case, "cutting_plane", status,
                f"the cutting plane stopped at its {status.replace('_', ' ')} "
                f"({time_limit_s:g} s, {len(log)} iterations) before any robustly feasible "
                "partition was found (give more time)", t0=t0, n_points=len(scales),
                iterations=log, lower_bound=bound)
        raise SolverError(f"no robustly feasible partition found ({status})")
    plan, value, redispatch = best
    if status in ("time_limit", "iteration_limit") and math.isfinite(bound) \
            and value - bound <= tol * (1 + abs(value)):
        # the limit came after the proof: the plan meets the bound (user test ut_part #4:
        # objective = bound, gap 0.0000 %, labelled time_limit)
        status = "optimal"
    worst_slack = log[-1].total_slack if log else (
        0.0 if MASTER_PLAN_UNCHECKED in notes else math.nan)
    res = _result(data, case, "cutting_plane", status, plan, redispatch, t0, t_best,
                  worst_slack, log, len(scales), lower_bound=bound)
    res.notes.extend(notes)
    return res


def _tie_break(data: PartitionData, master: HighsModel, vals: dict[str, np.ndarray],
               objective: float, best: tuple[PartitionPlan, float, float] | None, ex: Any,
               scales: list[np.ndarray], reps: list[int], eps: float, tol: float,
               notes: list[str] | None = None, *, deadline: float | None = None
               ) -> tuple[PartitionPlan, float, float] | None:
    """The optimal plan with its set-points moved to the least-norm point of its optimal face
    (:func:`least_norm_setpoints`). ``objective`` is the optimal value less the first stage's
    constant (the master's objective at the optimum, with ``theta`` raised to the worst
    re-dispatch cost).

    * Deterministic plan (one realisation, the nominal load): the master is exact (one
      slack-free recourse copy, the nominal one, ``e0.``), so the stage runs on it, with the
      re-dispatch at the nominal load fixed at zero (the seed's problem (16) has none).
    * Robust plan: the master's ``theta`` is only a cutting-plane model of the worst
      re-dispatch cost, so its optimal face is too large. The stage runs instead on the
      extensive form restricted to the plan's binaries, which is exact: a slack-free recourse
      copy per representative extreme point ``reps`` (with the binaries fixed these cover
      every extreme point, :func:`live_groups`) and ``theta >=`` each copy's cost, so every
      point of the QP's feasible set is robustly feasible and optimal. The zero-re-dispatch
      rule does not apply: the robust set-points are chosen against the extreme points (the
      seed's master (M) and recourse (S1)), not as the dispatch of one load, and on IEEE
      13mod at 20 % fixing the nominal re-dispatch at zero costs more than 1e-6 of the
      optimum (the voltage-dependent loads make the corners asymmetric), so it is off the
      optimal face.

    In both cases the stage runs on the exact model (the deterministic plan's is the first
    stage with its one nominal copy, the master without its cuts) and around that model's
    own optimum for the plan's binaries (:func:`restricted_optimum`), not the cutting plane's
    value, which stops within ``tol`` of it wherever the iterations happened to end (user test
    ut34: ``ieee37mod`` at 10 % ended 5e-4 $ apart with ``--workers 1`` and ``2``, whose
    slaves' warm starts differ, and the least-norm point on the face's edge moved with it,
    0.09 kW). So the set-points depend on the binaries alone.

    The new point is checked at every extreme point (the representatives
    ``reps`` on the slaves) and kept only if it is robustly feasible (worst total slack
    ``<= eps``) and its true objective is within ``tol`` of the optimum; else ``best``
    stays (the MILP's vertex). The stage's notes on the plan returned (rule 1 not applied,
    :func:`least_norm_setpoints`) go to ``notes``, and one when ``best`` stays. Its round of
    slaves gets the run's ``deadline`` (:meth:`~feederopt.execution.Executor.map`), so it
    may raise :class:`~feederopt.solvers.interrupt.RoundOverran`."""
    if best is None:
        return best
    exact = HighsModel(with_copies(data, [scales[e] for e in reps]))
    vals = canonical_roots(data, vals)
    objective = restricted_optimum(exact, vals, objective)
    said: list[str] = []
    if len(scales) == 1:
        tb = tie_broken(data, exact, vals, objective, nominal_copy="e0.", notes=said)
    else:
        tb = tie_broken(data, exact, vals, objective, rel_tol=ROBUST_TIE_TOL, notes=said)
    kept = ("the set-point tie-break's point {} (docs/partition-tiebreak.md): the "
            "set-points are the MILP's, one of its optimal points")
    if tb is None:
        if notes is not None:
            notes.extend(said)
        return best
    x = _clean_x(data, tb)
    rv = ex.map(_evaluate, [(e, x, eps) for e in reps], deadline=deadline)
    slack = max(r.slack for r in rv)
    worst = max(r.value for r in rv)
    plan = _plan_from(data, tb)
    gen, shed = _costs(data, plan)
    value = gen + shed + worst
    if slack > eps or value > best[1] + tol * (1 + abs(best[1])):
        if notes is not None:
            notes.append(kept.format(
                f"needs {slack:.2g} p.u. of slack at an extreme point" if slack > eps else
                f"costs {value - best[1]:.3g} $ more than the optimum"))
        return best
    if notes is not None:
        notes.extend(said)
    return plan, value, worst


def _integer_groups(master: HighsModel) -> list[str]:
    return [g for g, grp in master.block.groups.items() if grp.integer]


def _restrict(master: HighsModel, fixed: dict[str, np.ndarray] | None,
              cut_rows: CutRows) -> None:
    """Fix the master's binaries at ``fixed`` and solve it as an LP, with the binaries' terms
    of the cuts folded into the cuts' right-hand sides (:class:`CutRows`), or (``None``)
    restore their bounds, the cuts and the MILP."""
    for g in _integer_groups(master):
        grp = master.block.groups[g]
        lo, hi = (grp.lb, grp.ub) if fixed is None else (fixed[g], fixed[g])
        master.set_bounds(g, lo, hi)
    cut_rows.set_fixed(master, fixed)
    master.set_relaxation(fixed is not None)


Coefs = dict[str, tuple[np.ndarray, np.ndarray]]


def fold_fixed(coefs: Coefs, rhs: float, fixed: dict[str, np.ndarray]) -> tuple[Coefs, float]:
    """The row ``sum_g a_g x_g <= rhs`` with the groups of ``fixed`` held at their values
    ``xbar_g``: ``sum_{g not fixed} a_g x_g <= rhs - sum_{g fixed} a_g xbar_g``.

    Exact: for every point with ``x_g = xbar_g`` (the restricted phase fixes the binaries by
    their bounds) both rows hold or fail together; no tolerance, no rounding."""
    kept = {g: c for g, c in coefs.items() if g not in fixed}
    shift = sum(float(np.asarray(v, float) @ np.asarray(fixed[g], float)[np.asarray(i, int)])
                for g, (i, v) in coefs.items() if g in fixed)
    return kept, rhs - shift


class CutRows:
    """The cuts of one master (their HiGHS rows), and their form in the restricted phase.

    A cut's coefficients on the binaries ``zbl``/``zsw`` are the derivatives of the recourse
    in the block and switch states: the shed load a state change causes (kW-scale demand in
    p.u.) times the slack price ``omega`` (705 $/kW = 705,000 $/p.u.), up to 3e7 on IEEE 37 at
    15 %; its coefficients on the set-points ``ps``/``qs`` can be 1e-7-1e-9 (reduced costs at
    the slave's dual tolerance). In the MILP the binaries need these terms. In the restricted
    phase (binaries fixed by their bounds) they are constants, but they stay in the matrix
    HiGHS scales, and the hot-started dual simplex wandered on one such LP (5,804 x 2,674,
    IEEE 37 at 15 %: 1,928 iterations, 48-117 s, its objective running to -6e11, under HiGHS
    1.15.1 and 1.16.0 alike; with scaling off the same hot solve takes 9 iterations). So
    while the binaries are fixed their terms move into the right-hand side
    (:func:`fold_fixed`, exact), and the original coefficients and right-hand sides are put
    back before the next MILP. Replayed from the saved models, that LP then takes 73
    iterations (0.02 s) from the same basis; in the run, 40 (0.01 s)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, Coefs, float]] = []  # HiGHS row, coefficients, rhs
        self.fixed: dict[str, np.ndarray] | None = None

    def clear(self) -> None:
        self.rows.clear()
        self.fixed = None

    def add(self, master: HighsModel, coefs: Coefs, rhs: float) -> None:
        """Add the cut ``coefs x <= rhs`` (folded while binaries are fixed)."""
        row = int(master.h.getNumRow())
        c, r = (coefs, rhs) if self.fixed is None else fold_fixed(coefs, rhs, self.fixed)
        master.add_cut(c, -np.inf, r)
        self.rows.append((row, coefs, rhs))

    def set_fixed(self, master: HighsModel, fixed: dict[str, np.ndarray] | None) -> None:
        """Fold the cuts at ``fixed`` (``None``: restore them) in place in ``master``."""
        if fixed is self.fixed:
            return
        for row, coefs, rhs in self.rows:
            r = rhs
            for g, (idx, val) in coefs.items():
                if g not in (fixed if fixed is not None else self.fixed or {}):
                    continue
                off = master.offset[g]
                for i, v in zip(np.asarray(idx, int), np.asarray(val, float), strict=True):
                    master.h.changeCoeff(row, off + int(i), 0.0 if fixed is not None else v)
            if fixed is not None:
                r = fold_fixed(coefs, rhs, fixed)[1]
            master.h.changeRowBounds(row, -np.inf, r)
        self.fixed = fixed


def _clean_x(data: PartitionData, vals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The master's ``x`` with binaries rounded and set-points clipped into their bounds (3)
    (the master meets them only within its feasibility tolerance)."""
    z = np.round(vals["zbl"])
    zph = np.round(vals["zph"])
    # a DER phase follows its node's state, its slot's where it has one (formed_phase_rows);
    # a unit between two phases the lesser of its two nodes' (der_state_sets)
    on = data.der_states(data.node_states(z, zph))
    # + 0.0: a clip to [-0.0, 0.0] may give -0.0, written as such to JSON (ut38_tph)
    return {"zbl": z, "zsw": np.round(vals["zsw"]),
            "ps": np.clip(vals["ps"], 0.0, on * data.model_p_max()) + 0.0,
            "qs": np.clip(vals["qs"], -on * data.model_s_max(), on * data.model_s_max()) + 0.0,
            "zph": zph, "zinv": np.round(vals["zinv"])}


def _cut(master: HighsModel, cut_rows: CutRows, x: dict[str, np.ndarray], value: float,
         grad: dict[str, np.ndarray], theta_coef: float
         ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    """Add ``value + grad (x' - x) + theta_coef theta <= 0`` to ``master`` (through
    ``cut_rows``); return it."""
    coefs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rhs = -value
    for g in X_GROUPS:
        gg = np.where(np.abs(grad[g]) > 1e-10, grad[g], 0.0)
        idx = np.flatnonzero(gg)
        if len(idx):
            coefs[g] = (idx, gg[idx])
        rhs += float(gg @ x[g])
    if theta_coef:
        coefs["theta"] = (np.array([0]), np.array([theta_coef]))
    cut_rows.add(master, coefs, rhs)
    return coefs, rhs


# ---------------------------------------------------------------------------------------------
#: The objective's relative tolerance in the robust plans' tie-break: the extensive form's
#: optimum (a MILP value, within HiGHS's feasibility tolerance of 1e-7) can lie below the best
#: value a QP can meet exactly by more than 1e-8 (IEEE 13mod at 20 %: 8e-9 below).
ROBUST_TIE_TOL = 1e-7
#: Set-point groups of the tie-break (second lexicographic stage).
SETPOINT_GROUPS = ("ps", "qs")


#: The re-dispatch groups of a recourse copy (:func:`recourse_block`).
REDISPATCH_GROUPS = ("op_up", "op_dn", "oq_up", "oq_dn")


def open_empty_leaves(data: PartitionData, vals: dict[str, np.ndarray]
                      ) -> dict[str, np.ndarray] | None:
    """The binaries of ``vals`` with every energised block that holds no load and no DER and
    hangs off its microgrid by exactly one closed (free) switch de-energised and that switch
    opened, repeatedly (a chain of such blocks goes too); ``None`` if there is none.

    Why: a block with no load weighs 0 (``build_partition_data``: nothing to shed), so it
    energised or off is a tie of the objective, and the MILP returns either (user test
    ut32_part #1: ``ieee13mod`` closed 800801 only to energise the load-free 800aux/800, and
    the cutting plane and the extensive form returned different plans). The rule prefers the
    plan with fewer closed switches. A leaf block with no load and no DER carries only its own
    shunts (line charging), so the rest of the plan is unchanged but for those; the caller
    keeps the pruned plan only when the set-point stage (:func:`least_norm_setpoints`) finds
    it within the optimum's tolerance, and re-checks it as any tie-broken plan. The forest's
    root indicator ``rho`` of the block becomes 1 (an off block is its own root), so the
    count ``sum zsw + sum rho = n_blocks`` holds."""
    zbl = np.round(vals["zbl"]).copy()
    zsw = np.round(vals["zsw"]).copy()
    rho = np.round(vals["rho"]).copy()
    zph = np.round(vals["zph"]).copy()
    has_load = np.bincount(data.load_block, minlength=data.n_blocks) > 0
    has_der = np.bincount(data.der_block, minlength=data.n_blocks) > 0
    empty = ~has_load & ~has_der & ~data.lost
    ends = data.switch_blocks
    changed = False
    while True:
        for blk in np.flatnonzero(empty & (zbl > 0.5)):
            touching = np.flatnonzero((zsw > 0.5) & ((ends[:, 0] == blk) | (ends[:, 1] == blk)))
            if len(touching) != 1 or ends[touching[0], 0] == ends[touching[0], 1] \
                    or data.switch_fixed[touching[0]] == 1:
                continue
            zbl[blk], zsw[touching[0]], rho[blk] = 0.0, 0.0, 1.0
            zph[data.slot_block == blk] = 0.0
            changed = True
            break
        else:
            break
    if not changed:
        return None
    return {**vals, "zbl": zbl, "zsw": zsw, "rho": rho, "zph": zph}


def canonical_roots(data: PartitionData, vals: dict[str, np.ndarray],
                    p_set: np.ndarray | None = None, *,
                    any_voltage: bool = False) -> dict[str, np.ndarray]:
    """``vals`` with its grid-forming DERs those of :func:`canonical_grid_forming` by size
    alone (the set-points are not final yet: this only fixes the set-point stage's other
    columns; the plan's own choice is made on its final set-points, :func:`_plan_from`), or
    by room at the set-points ``p_set`` when given, free of the one-voltage restriction with
    ``any_voltage`` (:func:`tie_broken`'s second pass, as :func:`verified_grid_forming`), and
    the forest's roots ``rho`` to match: one root per component of the blocks joined by the closed
    switches ``zsw``, the block of the chosen grid-forming DER in an energised component
    (``rho_l <= sum_g zinv_g + 1 - z_l``), the first block of a de-energised one. Both are
    ties of the first stage (neither enters the objective or a row with the set-points, and
    the choice keeps the recourse's one-voltage rows, :func:`canonical_grid_forming`), so the
    point stays optimal with the same set-points; fixing them too makes
    the set-point stage's QP, which fixes every binary, the same problem whatever vertex the
    MILP returned (its solution moved by 7e-6 kW with the QP's other columns). ``vals``
    unchanged when an energised component holds no grid-forming-capable DER."""
    zbl = np.round(vals["zbl"])
    closed = np.round(vals["zsw"]) > 0.5
    on = zbl > 0.5
    zinv = canonical_grid_forming(data, on, closed, vals["zinv"] > 0.5, p_set,
                                  any_voltage=any_voltage)
    rho = np.zeros(data.n_blocks)
    plan = PartitionPlan(energised=on, closed=closed, grid_forming=zinv, p_set=np.zeros(0),
                         q_set=np.zeros(0))
    for comp in components(data, plan):
        if not on[comp[0]]:
            rho[comp[0]] = 1.0
            continue
        gf = np.flatnonzero(zinv & np.isin(data.der_block, comp) & data.der_gf)
        if not len(gf):
            return vals
        rho[data.der_block[gf[0]]] = 1.0
    return {**vals, "zinv": zinv.astype(float), "rho": rho}


def restricted_optimum(model: HighsModel, vals: dict[str, np.ndarray],
                       fallback: float) -> float:
    """The optimum of ``model`` (first stage and recourse copies, without the first stage's
    constant) with its binaries fixed at ``vals``: an LP, solved on ``model``, which keeps
    the binaries fixed and the relaxation flag set (the tie-break's stages fix them anyway).
    ``fallback`` when HiGHS does not report an optimum (retried once without presolve)."""
    for g in _integer_groups(model):
        v = np.round(vals[g])
        model.set_bounds(g, v, v)
    model.set_relaxation(True)
    sol = model.solve()
    if sol.status != "optimal":
        model.h.clearSolver()
        model.h.setOptionValue("presolve", "off")
        sol = model.solve()
    return float(sol.objective) if sol.status == "optimal" else fallback


def tie_broken(data: PartitionData, model: HighsModel, vals: dict[str, np.ndarray],
               objective: float, rel_tol: float = 1e-8, nominal_copy: str | None = None,
               notes: list[str] | None = None) -> dict[str, np.ndarray] | None:
    """The tie-break of an optimal plan: first the binaries (:func:`open_empty_leaves`, kept
    only if the set-point stage finds the pruned plan within ``rel_tol`` of the optimum), then
    the set-points (:func:`least_norm_setpoints`). Its notes on the plan returned go to
    ``notes``.

    With ``nominal_copy`` (the deterministic plan, whose stage 0 takes the grid formers'
    voltages nearest 1 p.u.) the grid formers whose voltages stage 0 held are ``vals``'s,
    the largest of each microgrid (:func:`canonical_roots`), while the plan names the one
    with the most room at its final set-points (:func:`_plan_from`,
    :func:`verified_grid_forming`). When those differ the stage runs again with the plan's
    formers (:func:`canonical_roots` at the set-points found, ``any_voltage``: the QP fixes
    ``zinv`` and holds the cost cap, so a choice that is no tie finds no point), and its
    point is taken when the plan then names the formers it held: else the
    published former was not the one held nearest 1 p.u. (user test ut49_part: on Iowa 240
    stage 0 held Storage.bat3 at 1.0 p.u., the rule named Generator.gen3, reported at 1.038
    p.u.; with the second pass Generator.gen3 is at 1.0)."""
    first = _tie_broken_once(data, model, vals, objective, rel_tol, nominal_copy, notes)
    if first is None or nominal_copy is None:
        return None if first is None else first[1]
    used, out, _ = first
    again = canonical_roots(data, used, _clean_x(data, out)["ps"], any_voltage=True)
    if np.array_equal(np.round(again["zinv"]), np.round(used["zinv"])):
        return out
    said: list[str] = []
    second = _tie_broken_once(data, model, again, objective, rel_tol, nominal_copy, said)
    if second is not None:
        used2, out2, _ = second
        named = canonical_roots(data, used2, _clean_x(data, out2)["ps"], any_voltage=True)
        if np.array_equal(np.round(named["zinv"]), np.round(used2["zinv"])):
            if notes is not None:
                notes[len(notes) - len(first[2]):] = said
            return out2
    return out


def _tie_broken_once(data: PartitionData, model: HighsModel, vals: dict[str, np.ndarray],
                     objective: float, rel_tol: float, nominal_copy: str | None,
                     notes: list[str] | None
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]] | None:
    """One pass of :func:`tie_broken`: the binaries used (``vals`` or its pruned plan), the
    stage's values and the notes it added to ``notes`` (also in that list)."""
    before = len(notes) if notes is not None else 0
    pruned = open_empty_leaves(data, vals)
    if pruned is not None:
        tried: list[str] = []
        out = least_norm_setpoints(model, pruned, objective, rel_tol, nominal_copy, tried,
                                   former_nodes(data, pruned))
        if out is not None:
            if notes is not None:
                notes.extend(tried)
            return pruned, out, tried
    out = least_norm_setpoints(model, vals, objective, rel_tol, nominal_copy, notes,
                               former_nodes(data, vals))
    added = notes[before:] if notes is not None else []
    return (vals, out, added) if out is not None else None


def former_nodes(data: PartitionData, vals: dict[str, np.ndarray]) -> np.ndarray:
    """The pu nodes of the grid-forming DERs of ``vals`` (``zinv``), whose voltages are the
    plan's set-points (:func:`least_norm_setpoints`, stage 0)."""
    gf = np.flatnonzero(np.round(vals["zinv"]) > 0.5)
    return np.array(sorted({int(j) for d in gf for j in data.ph_node[data.ph_der == d]}), int)


def least_norm_setpoints(model: HighsModel, vals: dict[str, np.ndarray], objective: float,
                         rel_tol: float = 1e-8, nominal_copy: str | None = None,
                         notes: list[str] | None = None,
                         formers: np.ndarray | None = None) -> dict[str, np.ndarray] | None:
    """The second lexicographic stage: among the solutions of ``model`` with its binaries
    fixed at ``vals`` and an objective within ``rel_tol`` of ``objective`` (the first stage's
    optimum), the one with the least Euclidean norm of the DER set-points,

        min  sum_g,phi (s_g^phi)^2 + (q_g^phi)^2      (p.u.)
        s.t. every row of ``model``,  binaries = vals,
             c^T x <= objective + rel_tol (1 + |objective|),
             o^{+-} = 0 in the recourse copy ``nominal_copy`` (its group prefix), if given.

    The deterministic plan passes its nominal copy: the seed's deterministic problem (16) has
    no re-dispatch, its set-points are the DERs' outputs at the nominal load, so the re-dispatch
    there is fixed at zero (only the reactive one can be non-zero at the optimum: it is free,
    the active one carries a premium, :func:`recourse_cost_terms`); without it the least-norm
    point shrinks the reactive set-points and leans on free reactive re-dispatch already at
    the nominal load, spending the +-30 % band that IV-D gives the DERs. If the QP with it finds
    no point (infeasible, or Clarabel fails) the stage runs without it, and a note saying so
    and why goes to ``notes``: the set-points are then not the nominal outputs (user test
    ut37_mixed: on the tester's ring Clarabel stopped the rule-1 QP at ``AlmostSolved``, a duality
    gap of 1.5e-8 against its 1e-8, and the fallback gave 649.95 kW and 0 kvar for a nominal
    650 kW and 130 kvar, with 0.27 $ of re-dispatch at +-0 %, silently;
    the QP is now posed without its fixed columns, and a point of reduced accuracy is
    polished or kept after a check of its own, :mod:`feederopt.solvers.least_squares`; user
    test ut38_tph: a point with rows met to 5.2e-9 had been thrown away for a duality gap of
    9.5e-7, and the fallback published q = 0 for 180 kvar of load). Whatever the outcome, the
    result notes set-points that do not balance the nominal load (:func:`balance_notes`).

    Why: the seed's objective (16a) prices only the active set-points ``s_g``; the reactive
    set-points cost nothing, so every split of the reactive power over the DERs that meets the
    physics is optimal and a solver returns one vertex of that face, which one depending on
    its presolve, pivoting and version. The post-analysis IV-D (and every other use of the
    set-points) then depended on that choice. The least-norm point of a convex optimal face is
    unique (the objective is strictly convex in ``(s, q)``), so the plan no longer depends on
    the solver; it takes the reactive set-points as near zero (unity power factor) as the
    physics allows, and ties of the active set-points (equal costs) the same way. The seed
    states no convention for the reactive set-points (spec section 1); this one is ours.
    The robust plans use it without ``nominal_copy`` on the extensive form with their binaries
    (:func:`_tie_break`). Solved as a convex QP by Clarabel on the model's rows
    (:meth:`HighsModel.least_squares_stage`; the model is not changed); returns the new
    values, or ``None`` when neither QP gives a point (the caller keeps the first-stage point;
    a note goes to ``notes`` too).

    Stage 0, the grid formers' voltages (with ``nominal_copy`` and the grid-forming DERs'
    nodes ``formers``): before the set-points, the nominal copy's squared voltages ``w_j``
    at those nodes are taken nearest nominal on the same face,

        min  sum_{j in formers} (w_j - 1)^2      s.t. the rows above,

    and held within :data:`VSET_TOL` of that point in the set-point stage. Why: with fixed
    set-points the voltage is part of the plan (OpenDSS holds the grid former at it), and
    where the cost is flat in it (constant-power loads, equal DER costs) the least norm of the
    set-points alone picked the voltage whose shunt capacitors give the most reactive power:
    ut39_recheck_a's pc.dss was planned at 1.0983 p.u., where OpenDSS draws its loads above
    their Vmaxpu 1.05 as constant impedance (961 kW for 880) and the grid former's phase c
    left its band; at 1.0 p.u. it stays inside. The optimum (the cap) is unchanged; the stage
    is skipped, with the set-point stage as before, when its QP or the held set-point stage
    finds no point, and a note (:data:`STAGE0_FAILED`) then says so and why (user test
    ut49_part: it had been skipped without a word, and Iowa 240's Generator.gen3 was planned
    at the 1.1 p.u. ceiling)."""
    fixed = {g: np.round(vals[g]) for g in _integer_groups(model)}
    cap = objective + rel_tol * (1.0 + abs(objective))
    why = ""
    if nominal_copy is not None:  # the set-points are the nominal dispatch, as in (16)
        zero = {f"{nominal_copy}{g}": np.zeros(model.block.groups[f"{nominal_copy}{g}"].size)
                for g in REDISPATCH_GROUPS}
        first = _setpoints_near_nominal(model, {**fixed, **zero}, cap, f"{nominal_copy}w",
                                        formers)
        if first.x is None:
            stage0 = first
            first = model.least_squares_stage({**fixed, **zero}, cap, SETPOINT_GROUPS)
            if notes is not None and first.x is not None and stage0.status != "skipped":
                notes.append(STAGE0_FAILED.format(stage0.reason or stage0.status))
        if first.x is not None:
            if notes is not None and first.accuracy == "certified":
                notes.append(f"the set-point tie-break's QP ({first.reason}): tie-break rule 1 "
                             "holds, the least norm (rule 2) within that bound")
            return model.values_of(first.x)
        why = first.reason
    out = model.least_squares_stage(fixed, cap, SETPOINT_GROUPS)
    if notes is not None and out.accuracy == "certified":
        notes.append(f"the set-point tie-break's QP ({out.reason}): the least norm holds "
                     "within that bound")
    if notes is not None and nominal_copy is not None:
        notes.append(
            "tie-break rule 1 (set-points = the DERs' outputs at the nominal load, no "
            "re-dispatch there; docs/partition-tiebreak.md) could not be applied: its QP found "
            f"no point ({why}); " + (
                "the set-points are the least-norm point without it, and the nominal load "
                "takes re-dispatch" if out.x is not None else
                f"nor did the QP without it ({out.reason}): the set-points are the MILP's"))
    elif notes is not None and out.x is None:
        notes.append(f"the set-point tie-break's QP found no point ({out.reason}): the "
                     "set-points are the MILP's, one of its optimal points")
    return model.values_of(out.x) if out.x is not None else None


#: The note of a deterministic plan whose stage 0 (the grid formers' voltages nearest 1 p.u.,
#: :func:`least_norm_setpoints`) found no point while rules 1 and 2 did (user test ut49_part:
#: on Iowa 240 the set-point stage with the voltages held stopped at Clarabel's
#: ``AlmostSolved``, the stage was dropped without a word, and Generator.gen3's set-point
#: went to the 1.1 p.u. ceiling though the same cost was open at 1.0).
STAGE0_FAILED = (
    "tie-break stage 0 (the grid formers' voltages nearest 1 p.u.; docs/partition-tiebreak.md) "
    "could not be applied: {}; the set-points are rules 1 and 2's alone, at whatever "
    "voltage level their least norm takes (it may be at a voltage limit), and at the "
    "reported voltages they may then miss the nominal load")

#: [p.u.^2] How far the set-point stage may move a grid former's squared voltage from the
#: point of stage 0 (:func:`least_norm_setpoints`): Clarabel's accuracy, about 1e-8, with room.
VSET_TOL = 1e-6


def _setpoints_near_nominal(model: HighsModel, fixed: dict[str, np.ndarray], cap: float,
                            w_group: str, formers: np.ndarray | None) -> StageOutcome:
    """Stage 0 and the set-point stage of :func:`least_norm_setpoints` (its docstring): the
    outcome of the set-point stage with the grid formers' ``w`` held near their point
    nearest 1 p.u.; an outcome with no point when there are no grid formers or a QP finds
    none (the caller runs the set-point stage alone)."""
    if formers is None or not len(formers) or w_group not in model.block.groups:
        return StageOutcome(None, "skipped")
    near = model.least_squares_stage(fixed, cap, (), near=(w_group, formers, 1.0))
    if near.x is None:
        return near
    w = model.values_of(near.x)[w_group][formers]
    return model.least_squares_stage(fixed, cap, SETPOINT_GROUPS,
                                     box=(w_group, formers, w - VSET_TOL, w + VSET_TOL))


# ---------------------------------------------------------------------------------------------
#: [p.u.] The voltage feedback aims this far inside each limit, so that a plan whose OpenDSS
#: voltages approach the limit as the rounds go on ends within it (the solve's AC check
#: tolerance, ``ac_check.limit_tolerance``).
FEEDBACK_MARGIN_PU = 1e-4
#: The least and greatest sensitivity of a node's OpenDSS voltage to its shifted limit used by
#: the secant step of :class:`VoltageShifts`.
SECANT_RANGE = (0.2, 1.0)


#: The voltage feedback's stop reason (``voltage_feedback.stopped``) when its last re-solve
#: held the limits only by de-energising every block (no energised node to judge): that plan
#: serves nothing, so the round nearest the limits before it is kept (user test ut38_tph: it
#: said "within limits" beside ``within_voltage_limits: false`` and the kept round 1).
STOPPED_ALL_OFF = "every block de-energised"


#: The voltage feedback's stop when the plan's OpenDSS check holds every limit.
STOPPED_WITHIN = "within limits"


def within_voltage_stop(der_breaches: Sequence[str], branch_overloads: Sequence[str],
                        uncorrectable: Sequence[str] = ()) -> str:
    """The voltage feedback's stop reason for a round whose OpenDSS voltages are within their
    limits and whose DER breaches, if any, the model cannot correct (:class:`DerCuts`):
    :data:`STOPPED_WITHIN` when the same power flow also holds every DER band and kVA rating
    and every line and transformer rating; else ``voltages within limits`` and what that
    flow breaks (the round's ``der_breaches`` and ``branch_overloads``) and why the feedback
    does not re-solve for it: ``uncorrectable``, the reasons of :meth:`DerCuts.update` and
    :meth:`BranchCuts.update` (since branchfb a branch overload starts a round as a DER
    breach does; before, "the feedback re-solves for voltages and DER ratings, not branch
    ratings"). User test ut51_part #3: "stopped: within limits" beside
    ``Generator.g732.a 141.24 kVA over its 141.00 kVA rating`` and exit code 4."""
    broken = [*map(str, der_breaches), *map(str, branch_overloads)]
    if not broken:
        return STOPPED_WITHIN
    why = (f"not correctable in the model: {'; '.join(map(str, uncorrectable))}"
           if uncorrectable else "not corrected by the feedback")
    return ("voltages within limits, but the same OpenDSS flow breaks "
            f"{shown_list(broken, 3, sep='; ')} ({why})")


def feedback_stop_text(feedback: Mapping[str, Any]) -> str:
    """Why the partition's voltage feedback (``voltage_feedback`` of a result) stopped, in
    words, for the console row, the note and the report: ``stopped: <reason>``, or for
    :data:`STOPPED_ALL_OFF` which round held the limits only so and which round was kept."""
    stopped = feedback.get("stopped")
    if stopped == STOPPED_ALL_OFF:
        last = len(feedback.get("rounds") or []) - 1
        return (f"stopped: round {last} held the limits only by de-energising every block, "
                f"so round {feedback.get('kept_round')} was kept")
    return f"stopped: {stopped}"


def _two_sided_map(doc: Any, key: str, sides: tuple[str, str], shape: str,
                   maps: str) -> dict[str, dict[str, float]]:
    """A feedback correction read back from a result's JSON (``voltage_feedback.<key>``):
    ``{side: {name: value}}`` for the two ``sides``, every value a finite number >= 0; a
    ``ValueError`` naming the entry otherwise (``shape`` the whole map's form, ``maps`` what
    a side maps)."""
    if not isinstance(doc, dict) or set(doc) - set(sides):
        raise ValueError(f"{key} must be {shape}")
    out: dict[str, dict[str, float]] = {}
    for side in sides:
        part = doc.get(side) or {}
        if not isinstance(part, dict):
            raise ValueError(f"{key}.{side} must map {maps}")
        for n, v in part.items():
            if isinstance(v, bool) or not isinstance(v, int | float) \
                    or not math.isfinite(v) or v < 0:
                raise ValueError(f"{key}.{side}[{n!r}] = {v!r} is no finite number >= 0")
        out[side] = {str(n): float(v) for n, v in part.items()}
    return out


@dataclass
class VoltageShifts:
    """The per-node tightening of the model's voltage limits by the voltage feedback
    (:func:`feederopt.api_partition.partition`): the model holds node ``n`` to
    ``v_min,n + a_n <= V_n <= v_max,n - b_n`` (on ``w = V^2``: :meth:`apply`), with
    ``a_n, b_n >= 0`` [p.u.] by node name (``"bus.a"``).

    After each plan OpenDSS's voltages ``V^AC_n`` at its nominal operating point give the
    offsets ``d_n = V^AC_n - V^LD3F_n`` (:meth:`update`), and

        a_n <- max(a_n, -d_n + m, a_n + (v_min,n + m - V^AC_n) / s_n),
        b_n <- max(b_n,  d_n + m, b_n + (V^AC_n - v_max,n + m) / s_n),

    with the margin ``m`` (:data:`FEEDBACK_MARGIN_PU`). The second term is the offset
    correction of the three-phase solve's voltage feedback (docs/threephase.md: the model's
    prediction ``V^LD3F_n + d_n`` of OpenDSS's voltage held within the limits; S. Bolognani and
    F. Dörfler, Allerton 2015; E. Dall'Anese and A. Simonetto, IEEE Trans. Smart Grid 9(2),
    2018). The third is a secant step on the node's OpenDSS voltage as a function of its
    shift, ``s_n = (V^AC_n,k - V^AC_n,k-1) / (a_n,k - a_n,k-1)`` clipped to
    :data:`SECANT_RANGE` (1 in the first round): on ``ieee37mod`` the offsets grow as the
    limits tighten (the cost minimum meets a tighter limit where LinDist3Flow is most
    optimistic), so that the offset alone gains about half the shift per round. The shifts only
    grow (limits are only tightened, never loosened by an offset measured at another plan;
    on ``ieee37mod`` at 0 % the two-sided latest-offset rule of the three-phase solve
    loosened limits by offsets measured at another grid-forming DER and never reached the
    limits in five rounds)."""

    lower: dict[str, float] = field(default_factory=dict)
    upper: dict[str, float] = field(default_factory=dict)
    _last: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def update(self, v_ac: dict[str, float], v_model: dict[str, float],
               limits: dict[str, tuple[float, float]]) -> None:
        """Update the shifts from OpenDSS's voltages ``v_ac`` and the model's ``v_model`` at
        one plan (by node name) and each bus's ``(v_min, v_max)`` (by bus id)."""
        m = FEEDBACK_MARGIN_PU
        lo_s, hi_s = SECANT_RANGE
        seen: dict[str, tuple[float, float, float]] = {}
        for n, v in v_ac.items():
            if n not in v_model or not math.isfinite(v):
                continue
            vmin, vmax = limits[n.rsplit(".", 1)[0]]
            d = v - v_model[n]
            a, b = self.lower.get(n, 0.0), self.upper.get(n, 0.0)
            sa = sb = 1.0
            if n in self._last:
                a0, b0, v0 = self._last[n]
                if a - a0 > 1e-12:
                    sa = min(max((v - v0) / (a - a0), lo_s), hi_s)
                if b - b0 > 1e-12:
                    sb = min(max((v0 - v) / (b - b0), lo_s), hi_s)
            seen[n] = (a, b, v)
            self.lower[n] = max(a, -d + m, a + (vmin + m - v) / sa, 0.0)
            self.upper[n] = max(b, d + m, b + (v - vmax + m) / sb, 0.0)
        self._last.update(seen)

    @property
    def largest_pu(self) -> float:
        """The largest shift of any limit [p.u.]."""
        return max([0.0, *self.lower.values(), *self.upper.values()])

    def nonzero(self) -> dict[str, dict[str, float]]:
        """The nonzero shifts [p.u.] by node name (``"bus.a"``), as the result JSON's
        ``voltage_feedback.limit_shifts_pu`` holds them: ``{"lower": {node: a_n}, "upper":
        {node: b_n}}`` (a copy; :meth:`from_dict` reads it back)."""
        return {"lower": {n: float(a) for n, a in self.lower.items() if a > 0.0},
                "upper": {n: float(b) for n, b in self.upper.items() if b > 0.0}}

    @classmethod
    def from_dict(cls, doc: Any) -> VoltageShifts:
        """The shifts of :meth:`nonzero`'s dict (a result's ``limit_shifts_pu``); a
        ``ValueError`` naming what is wrong when it is not one (a side other than
        ``lower``/``upper``, a shift that is no finite number >= 0)."""
        sides = _two_sided_map(
            doc, "limit_shifts_pu", ("lower", "upper"),
            "{\"lower\": {node: p.u.}, \"upper\": {node: p.u.}}", "node names to p.u.")
        return cls(lower=sides["lower"], upper=sides["upper"])

    def apply(self, data: PartitionData) -> PartitionData:
        """``data`` with every node's ``w`` bounds ``[(v_min + a_n)^2, (v_max - b_n)^2]`` (from
        ``data``'s own limits; a range that would close keeps ``w_min = w_max``); internal
        (virtual) nodes keep theirs."""
        from dataclasses import replace

        pu = data.pu
        w_min, w_max = pu.w_min.copy(), pu.w_max.copy()
        for k, name in enumerate(pu.node_names()):
            if pu.virtual[pu.node_bus[k]]:
                continue
            lo = math.sqrt(max(w_min[k], 0.0)) + self.lower.get(name, 0.0)
            hi = max(math.sqrt(max(w_max[k], 0.0)) - self.upper.get(name, 0.0), lo)
            w_min[k], w_max[k] = lo * lo, hi * hi
        return replace(data, pu=replace(pu, w_min=w_min, w_max=w_max))


#: The DER feedback aims this share of a DER phase's rating inside it (:class:`DerCuts`), so
#: that a plan whose OpenDSS output approaches the rating as the rounds go on ends within it
#: (the check's tolerances are 0.001 kW and 0.001 kVA).
DER_MARGIN = 1e-3


#: Why the model cannot correct a DER breach of :class:`DerCuts`, by its cause.
UNCORRECTABLE = {
    "ramp": "beyond the grid-forming source's set-point +- its ramp: it takes the island's "
            "imbalance (the losses and voltage effects the lossless model leaves out) beyond "
            "what the followers' bands absorb, and no limit of the model holds that",
    "p_min": "the grid-forming source absorbs the island's surplus, and no limit of the model "
             "holds that",
    "absent": "the grid-forming source feeds a phase its DER does not have",
    "no_room": "holding it within its rating in OpenDSS would leave it no capacity in the "
               "model",
}


def _uncorrectable_text(causes: Mapping[str, list[str]]) -> list[str]:
    """The breaches the model cannot correct (DER phase names by cause, :data:`UNCORRECTABLE`)
    in words, one phrase per cause."""
    return [f"{shown_list(list(dict.fromkeys(names)), 4)}: {UNCORRECTABLE[cause]}"
            for cause, names in causes.items() if names]


@dataclass
class DerCuts:
    """The voltage feedback's tightening of DER phases' limits in the model, for the DER
    phases that OpenDSS's power flow of a plan finds beyond their kVA rating or above their
    active limit (``AcSample.der_breach_records``; docs/partition-ac-check.md, "DER breaches
    start a round"): the model holds entry ``j`` within ``s_max,j - c_j`` (its capability
    polygon, its reactive bounds) and ``p_max,j - e_j`` (set-point and re-dispatch), with
    ``c_j, e_j >= 0`` [kVA, kW] by DER phase name (``"Generator.g1.a"``; :meth:`apply`).

    After each plan, with OpenDSS's ``S^AC_j = sqrt(P^2 + Q^2)`` of the phase and the model's
    ``S^LD3F_j`` at the plan's nominal operating point (the recourse LP with the plan fixed,
    :func:`operating_point`), and ``m = DER_MARGIN s_max,j``:

        c_j <- max(c_j, S^AC_j - S^LD3F_j + m, c_j + (S^AC_j - s_max,j + m) / s_j),

    and likewise ``e_j`` with ``P`` and ``p_max,j``: the voltage rule of
    :class:`VoltageShifts` applied to a rating. The second term is the offset correction (the
    model's prediction ``S^LD3F_j + (S^AC_j - S^LD3F_j)`` held within the rating less the
    margin); the third moves the limit by what OpenDSS still exceeds, over the secant
    ``s_j = (S^AC_j,k-1 - S^AC_j,k) / (c_j,k - c_j,k-1)`` clipped to :data:`SECANT_RANGE`
    (1 in the first round): the AC check's re-dispatch holds a grid-forming source at its
    band's top while the followers have room (:class:`~feederopt.validation.partition.
    AcIsland`), so its OpenDSS output can move less than the model's. The cuts only grow.

    Not every breach has a limit of the model to tighten: a grid-forming source outside its
    set-point +- its ramp (it takes the island's imbalance, the losses the lossless model
    leaves out, beyond the followers' bands), below 0 kW, on a phase its DER lacks, or a cut
    that would leave the phase no rating. :meth:`update` returns those, in words."""

    s_kva: dict[str, float] = field(default_factory=dict)
    p_kw: dict[str, float] = field(default_factory=dict)
    _last: dict[str, tuple[float, float]] = field(default_factory=dict)

    def update(self, records: Sequence[Mapping[str, Any]], data: PartitionData,
               pg_kw: np.ndarray, qg_kvar: np.ndarray) -> tuple[list[str], list[str]]:
        """Tighten the cuts for the breaches ``records`` of one plan's OpenDSS flow, with the
        model's outputs ``pg_kw``, ``qg_kvar`` per DER phase entry at that plan's nominal
        operating point. Returns the breaches tightened (their names and limits, in words)
        and those the model cannot correct, one phrase per cause (:data:`UNCORRECTABLE`)."""
        fixed: list[str] = []
        causes: dict[str, list[str]] = {}
        for rec in records:
            j, kind = int(rec.get("entry", -1)), str(rec["limit"])
            name, value = str(rec["name"]), float(rec["value"])
            if j < 0 or kind not in ("s_max", "p_max"):
                cause = ("absent" if j < 0 else "p_min" if kind == "p_min" else "ramp")
                causes.setdefault(cause, []).append(name)
                continue
            if kind == "s_max":
                rating = float(data.ph_s_max[j]) * 1000.0
                model = math.hypot(float(pg_kw[j]), float(qg_kvar[j]))
                cuts, unit = self.s_kva, "kVA"
            else:
                rating = float(data.ph_p_max[j]) * 1000.0
                model = float(pg_kw[j])
                cuts, unit = self.p_kw, "kW"
            m = DER_MARGIN * rating
            old = cuts.get(name, 0.0)
            # the secant step (VoltageShifts'): how far OpenDSS's output moved per unit of
            # the cut since the last round, clipped to SECANT_RANGE (1 in the first round)
            sens = 1.0
            key = f"{kind}:{name}"
            if key in self._last:
                old0, value0 = self._last[key]
                if old - old0 > 1e-12:
                    sens = min(max((value0 - value) / (old - old0), SECANT_RANGE[0]),
                               SECANT_RANGE[1])
            self._last[key] = (old, value)
            new = max(old, value - model + m, old + (value - rating + m) / sens, 0.0)
            if new >= rating:
                causes.setdefault("no_room", []).append(name)
                continue
            cuts[name] = new
            fixed.append(f"{name} {value:.2f} {unit} over its {rating:.2f} {unit} "
                         f"{'rating' if unit == 'kVA' else 'active limit'}")
        return fixed, _uncorrectable_text(causes)

    @property
    def largest(self) -> float:
        """The largest cut of any DER phase [kVA or kW]."""
        return max([0.0, *self.s_kva.values(), *self.p_kw.values()])

    def nonzero(self) -> dict[str, dict[str, float]]:
        """The nonzero cuts by DER phase name, as the result JSON's
        ``voltage_feedback.der_cuts`` holds them: ``{"s_max_kva": {name: c_j}, "p_max_kw":
        {name: e_j}}`` (a copy; :meth:`from_dict` reads it back)."""
        return {"s_max_kva": {n: float(c) for n, c in self.s_kva.items() if c > 0.0},
                "p_max_kw": {n: float(c) for n, c in self.p_kw.items() if c > 0.0}}

    @classmethod
    def from_dict(cls, doc: Any) -> DerCuts:
        """The cuts of :meth:`nonzero`'s dict (a result's ``der_cuts``); a ``ValueError``
        naming what is wrong when it is not one."""
        sides = _two_sided_map(
            doc, "der_cuts", ("s_max_kva", "p_max_kw"),
            "{\"s_max_kva\": {DER phase: kVA}, \"p_max_kw\": {DER phase: kW}}",
            "DER phase names to numbers")
        return cls(s_kva=sides["s_max_kva"], p_kw=sides["p_max_kw"])

    def apply(self, data: PartitionData) -> PartitionData:
        """``data`` with the cuts as its ``ph_s_cut`` / ``ph_p_cut`` [p.u.]
        (:meth:`PartitionData.model_s_max`); a ``ValueError`` for a DER phase name the data
        has not."""
        names = der_phase_names(data)
        index = {n: j for j, n in enumerate(names)}
        unknown = sorted((set(self.s_kva) | set(self.p_kw)) - set(index))
        if unknown:
            raise ValueError(f"der_cuts names DER phase(s) the feeder has not: "
                             f"{', '.join(unknown)}")
        s_cut, p_cut = np.zeros(len(names)), np.zeros(len(names))
        for n, c in self.s_kva.items():
            s_cut[index[n]] = c / 1000.0
        for n, c in self.p_kw.items():
            p_cut[index[n]] = c / 1000.0
        return replace(data, ph_s_cut=s_cut, ph_p_cut=p_cut)


#: The branch feedback aims this share of a line's or transformer's rating inside it in
#: OpenDSS (:class:`BranchCuts`): the check's tolerance is 1e-6 of the rating.
BRANCH_MARGIN = 1e-3

#: How far one secant step of :class:`BranchCuts` may go, in multiples of the proportional
#: step of that round.
BRANCH_SECANT_MAX = 5.0


def branch_model_ids(data: PartitionData, series: Mapping[str, str] | None = None
                     ) -> dict[str, str]:
    """The model's edge or bank id of each rated branch by OpenDSS's element name, in lower
    case (``"line.l12"`` -> ``"l12"``, ``"transformer.t"`` -> ``"T"``, each unit of a bank
    of single-phase units -> the bank, ``"transformer.t1"`` -> ``"t1+t2+t3"``), as
    ``AcSample.branch_overloads`` names them; ``series`` (the network's
    ``meta["series_elements"]``, ``{line id: "Capacitor.c1"}``) adds the series capacitors
    and reactors, lines of the model."""
    pu = data.pu
    out: dict[str, str] = {}
    for e in pu.edges:
        if e.s_max_pu and e.kind != "transformer":
            out[f"line.{e.id}".lower()] = e.id
    for b in pu.banks:
        if b.s_max_pri is not None or b.s_max_sec is not None:
            out[f"transformer.{b.id}".lower()] = b.id
            # a bank of single-phase units is one bank of the model, "t1+t2+t3"
            # (network.threephase_perunit): each unit's overload cuts the bank's ratings
            for unit in b.id.split("+"):
                out[f"transformer.{unit}".lower()] = b.id
    rated = {e.id for e in pu.edges if e.s_max_pu}
    for line_id, element in (series or {}).items():
        if line_id in rated:
            out[str(element).lower()] = line_id
    return out


@dataclass
class BranchCuts:
    """The voltage feedback's tightening of line and transformer ratings in the model, for
    the branches that OpenDSS's power flow of a plan finds over their current rating
    (``AcSample.branch_overload_records``; docs/partition-ac-check.md, "Branch overloads
    start a round"): the model holds every rated phase of branch ``e`` (a bank's on both
    windings) within ``k_e s_max`` (the 12-gon of (16e)-(16f), Moring et al., seed 001),
    ``0 < k_e <= 1`` by OpenDSS's element name (``"Line.l12"``; :meth:`apply`).

    After each plan, with OpenDSS's loading ``r_e = I_e / (L I_max,e)`` of the branch (its
    worst conductor's current over its rating at the loading limit ``L``) and the margin
    ``m = BRANCH_MARGIN``:

        k_e <- min(k_e / r_e - m, k_e - (r_e - 1 + m) / s_e),

    the proportional step (OpenDSS's current scales with the flow the model allows), and a
    secant step with ``s_e = (r_e' - r_e) / (k_e' - k_e)`` the change of the loading per
    unit of ``k`` between the previous round ``'`` and this one (only when the previous cut
    moved it, ``s_e > 0``; at most :data:`BRANCH_SECANT_MAX` proportional steps). The cuts
    only grow; the ratings themselves and every check keep the file's values. A branch the
    model does not rate, or a cut that would leave it no rating, cannot be corrected
    (:meth:`update` returns those in words)."""

    scale: dict[str, float] = field(default_factory=dict)
    #: the previous round's ``(k_e, r_e)`` per branch, for the secant step
    last: dict[str, tuple[float, float]] = field(default_factory=dict)

    def update(self, records: Sequence[Mapping[str, Any]], known: Mapping[str, str]
               ) -> tuple[list[str], list[str]]:
        """Tighten the cuts for the overloads ``records`` of one plan's OpenDSS flow;
        ``known`` the branches the model rates (:func:`branch_model_ids`). Returns the
        overloads tightened (in words, "Line.l12 100.5 % of its rating") and those the model
        cannot correct, one phrase per cause."""
        fixed: list[str] = []
        absent: list[str] = []
        no_room: list[str] = []
        for rec in records:
            name = str(rec["name"])
            r = float(rec["loading_pct"]) / float(rec.get("limit_pct") or 100.0)
            if name.lower() not in known:
                absent.append(name)
                continue
            k = self.scale.get(name, 1.0)
            new = k / r - BRANCH_MARGIN
            prev = self.last.get(name)
            if prev is not None and prev[0] > k:
                slope = (prev[1] - r) / (prev[0] - k)
                if slope > 0:
                    sec = k - (r - 1.0 + BRANCH_MARGIN) / slope
                    new = min(new, max(sec, k - BRANCH_SECANT_MAX * (k - new)))
            new = min(new, k)
            if new <= 0.0:
                no_room.append(name)
                continue
            self.last[name] = (k, r)
            self.scale[name] = new
            fixed.append(f"{name} {100.0 * r:.1f} % of its rating")
        why = ([f"{shown_list(absent, 4)}: a branch the model does not rate"] if absent
               else []) + ([f"{shown_list(no_room, 4)}: holding it within its rating in "
                            "OpenDSS would leave it no capacity in the model"]
                           if no_room else [])
        return fixed, why

    @property
    def largest(self) -> float:
        """The largest cut of any branch [% of its rating]."""
        return max([0.0, *(100.0 * (1.0 - k) for k in self.scale.values())])

    def nonzero(self) -> dict[str, float]:
        """The cuts by element name as the result JSON's ``voltage_feedback.branch_cuts``
        holds them, ``{"Line.l12": 1 - k}`` (the share of the rating cut; a copy,
        :meth:`from_dict` reads it back)."""
        return {n: float(1.0 - k) for n, k in self.scale.items() if k < 1.0}

    @classmethod
    def from_dict(cls, doc: Any) -> BranchCuts:
        """The cuts of :meth:`nonzero`'s dict; a ``ValueError`` naming what is wrong."""
        if not isinstance(doc, dict):
            raise ValueError("branch_cuts must map line and transformer names to the share "
                             "of their rating cut, {\"Line.l12\": 0.01}")
        for n, v in doc.items():
            if isinstance(v, bool) or not isinstance(v, int | float) \
                    or not math.isfinite(v) or not 0.0 <= v < 1.0:
                raise ValueError(f"branch_cuts[{n!r}] = {v!r} is no number in [0, 1)")
        return cls(scale={str(n): 1.0 - float(v) for n, v in doc.items()})

    def apply(self, data: PartitionData, series: Mapping[str, str] | None = None
              ) -> PartitionData:
        """``data`` with the cuts as its ``branch_scale`` (:meth:`PartitionData.model_pu`);
        a ``ValueError`` for a name the model rates no branch of."""
        known = branch_model_ids(data, series)
        unknown = sorted(n for n in self.scale if n.lower() not in known)
        if unknown:
            raise ValueError(f"branch_cuts names line(s) or transformer(s) the feeder does "
                             f"not rate: {', '.join(unknown)}")
        return replace(data, branch_scale={known[n.lower()]: float(k)
                                           for n, k in self.scale.items() if k < 1.0})


def der_phase_names(data: PartitionData) -> list[str]:
    """Each DER phase entry's name, ``"Generator.g1.a"`` (``"...bc"`` for a unit between two
    phases), as the AC check names it (``AcSample.der_breaches``)."""
    return [f"{data.der_ids[int(d)]}.{der_entry_phases(data, j)}"
            for j, d in enumerate(data.ph_der)]


def model_der_outputs(data: PartitionData, plan: PartitionPlan) -> tuple[np.ndarray, np.ndarray]:
    """Each DER phase entry's active [kW] and reactive [kvar] output in the model at the
    plan's nominal operating point (:func:`operating_point`)."""
    op = operating_point(data, plan)
    return np.asarray(op["pg"], float) * 1000.0, np.asarray(op["qg"], float) * 1000.0


def model_voltages(data: PartitionData, plan: PartitionPlan) -> dict[str, float]:
    """The model's node voltages [p.u.] at the plan's nominal operating point
    (:func:`operating_point`), by node name (``"bus.a"``)."""
    v = np.sqrt(np.maximum(operating_point(data, plan)["w"], 0.0))
    live = live_nodes(data, plan) | ~np.asarray(plan.energised, bool)[data.block_of_node]
    return {n: float(v[k]) for k, n in enumerate(data.pu.node_names()) if live[k]}
