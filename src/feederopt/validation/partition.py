"""Out-of-sample checks of a partition plan (seed 001, Moring et al. 2024, sections IV-D/IV-E).

:class:`SampleChecker` fixes a plan's first stage (block states, switches, DER set-points) and
asks, for one load realisation, the least total power-balance slack of the LinDist3Flow
recourse of :func:`feederopt.formulations.partition.recourse_block` (DER re-dispatch within
the ramp band, +-``ramp * s_max`` around the set-points: the seed's +-30 %). A realisation is
feasible when that slack is ``<= eps``: every voltage and flow limit then holds with the
re-dispatch. One persistent HiGHS LP serves every sample; a realisation only changes the
coefficients of the block states in the balance rows (and of ``w`` for voltage-dependent loads).

:func:`in_sample_share` draws uniform realisations in the box (one factor per load, all its
phases together, as in the seed's uncertainty set) and reports the feasible share: IV-D for the
deterministic plan, and the robustness certificate for the robust plan (100 % by convexity).

:func:`ac_sample_share` is IV-E: the same draws in OpenDSS's AC power flow, at the plan's
operating point (the model's regulator taps and capacitor states held, OpenDSS's controls off)
unless asked to let OpenDSS's controls act.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from feederopt.algorithms.base import SampleCallback
from feederopt.algorithms.partition import feedback_stop_text
from feederopt.errors import SolverError
from feederopt.formulations.partition import (
    X_GROUPS,
    PartitionData,
    recourse_block,
    slack_terms,
)
from feederopt.network.threephase import PHASES, ThreePhaseNetwork
from feederopt.problems.partition import PartitionPlan, formed_phases, plan_x
from feederopt.solvers.highs_backend import HighsModel

if TYPE_CHECKING:
    from feederopt.algorithms.partition import SampleChecks


class SampleChecker:
    """The least total slack of the recourse of ``plan`` at any load realisation."""

    def __init__(self, data: PartitionData, plan: PartitionPlan) -> None:
        self.data = data
        nominal = data.nominal()
        self.block = recourse_block(data, nominal)
        self.model = HighsModel(self.block, objective=slack_terms(data))
        x = plan_x(data, plan)
        for g in X_GROUPS:
            self.model.set_bounds(g, x[g], x[g])
        start, r0 = {}, 0
        for rows in self.block.rows:
            start[rows.name] = r0
            r0 += rows.m
        self.row0 = {k: start[f"balance_{k}"] for k in ("p", "q")}
        self.zcol = self.model.offset["zbl"]
        self.wcol = self.model.offset["w"]

    def slack(self, scale: np.ndarray) -> float:
        """The least total slack [p.u.] at load scales ``scale`` (one per load)."""
        d = self.data
        h = self.model.h
        blk = d.block_of_node
        for kind, const, loads, kconst, kloads in (
                ("p", d.shunt_p, d.load_p, d.shunt_kp, d.load_kp),
                ("q", d.shunt_q, d.load_q, d.shunt_kq, d.load_kq)):
            demand = const + (loads @ scale if loads.shape[1] else 0.0)
            r0 = self.row0[kind]
            for i in np.flatnonzero(loads.getnnz(axis=1) if loads.shape[1] else []):
                h.changeCoeff(int(r0 + i), int(self.zcol + blk[i]), float(-demand[i]))
            kw = sp.csr_matrix(kconst, copy=True)
            varying = False
            for s_d, k_d in zip(scale, kloads, strict=True):
                if k_d.nnz:
                    kw = kw + s_d * k_d
                    varying = True
            if varying:
                coo = kw.tocoo()
                for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
                    h.changeCoeff(int(r0 + i), int(self.wcol + j), float(-v))
        sol = self.model.solve()
        if sol.status != "optimal":  # numerical trouble (the LP always has a solution)
            self.model.h.clearSolver()
            self.model.h.setOptionValue("presolve", "off")
            sol = self.model.solve()
            self.model.h.setOptionValue("presolve", "choose")
        if sol.status != "optimal":
            raise SolverError(f"sample check: HiGHS status {sol.status}")
        return float(sol.objective)


@dataclass
class SampleShare:
    """The result of :func:`in_sample_share`."""

    samples: int
    feasible: int
    uncertainty: float
    worst_slack: float

    @property
    def share_pct(self) -> float:
        return 100.0 * self.feasible / self.samples if self.samples else float("nan")


def draw_scales(data: PartitionData, uncertainty: float, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uniform realisations of the box: ``1 + X u_d`` with ``u_d ~ U(-1, 1)`` on the
    uncertain loads, 1 elsewhere; shape ``(n, |D|)``."""
    rng = np.random.default_rng(seed)
    out = np.ones((n, len(data.load_ids)))
    idx = np.flatnonzero(data.uncertain)
    out[:, idx] = 1 + uncertainty * rng.uniform(-1.0, 1.0, size=(n, len(idx)))
    return out


#: [kW] The grid-following DERs' shares of a sample have settled when the next power flow would
#: move none of them by more than this (the band check's tolerance is BAND_TOL_KW).
SETTLE_KW = 1e-4

#: [p.u.] A node voltage is within its limits up to this (the check's tolerance).
V_TOL = 1e-9

#: [kW] A DER phase's active output is within its band up to this (the check's tolerance).
BAND_TOL_KW = 1e-3

#: [kVA] A DER phase's apparent output ``sqrt(P^2 + Q^2)`` is within its rating up to this.
RATING_TOL_KVA = 1e-3

#: Called after each sample of a share with (samples done, feasible so far): the sampling hook
#: of every check (:data:`feederopt.algorithms.base.SampleCallback`).
Progress = SampleCallback


def in_sample_share(data: PartitionData, plan: PartitionPlan, *, uncertainty: float,
                    samples: int = 10_000, seed: int = 0,
                    progress: Progress | None = None) -> SampleShare:
    """The share of uniform realisations in the box of ``uncertainty`` (on ``data``'s
    uncertain loads) at which ``plan`` is LinDist3Flow-feasible (slack ``<= eps``). The
    draws of ``n`` samples are the first ``n`` of any larger count (same ``seed``)."""
    checker = SampleChecker(data, plan)
    eps = data.settings.eps
    ok, worst = 0, 0.0
    for k, scale in enumerate(draw_scales(data, uncertainty, samples, seed), 1):
        s = checker.slack(scale)
        worst = max(worst, s)
        ok += s <= eps
        if progress is not None:
            progress(k, ok)
    return SampleShare(samples, ok, uncertainty, worst)


@dataclass
class AcSampleShare:
    """The result of :func:`ac_sample_share` (IV-E)."""

    samples: int
    feasible: int
    converged: int
    uncertainty: float
    worst_low_voltage_pu: float
    worst_high_voltage_pu: float
    #: OpenDSS's control mode of the samples: ``OFF`` (the model's taps and capacitor states
    #: held) or the mode the controls acted in (``with_controls``).
    control_mode: str = "OFF"
    #: Samples whose solve ended with a regulator tap or a capacitor's steps in an energised
    #: block other than the model's (0 when held).
    taps_moved: int = 0
    capacitors_switched: int = 0
    #: The grid-forming sources' voltages [p.u.] by DER id (:attr:`AcIsland.v_set`).
    v_set_pu: dict[str, float] = field(default_factory=dict)
    #: The first :data:`FAILED_SAMPLES_KEPT` samples that break a limit or do not converge:
    #: ``sample`` (its index in the draw), ``converged`` and ``limit_violations`` (its
    #: :data:`LIMITS_PER_SAMPLE` worst, :attr:`AcSample.limit_violations`); ut45b_part #3.
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def share_pct(self) -> float:
        return 100.0 * self.feasible / self.samples if self.samples else float("nan")


def _water_fill(total: float, setp: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                weight: np.ndarray) -> np.ndarray:
    """Outputs ``x(t) = clip(setp + weight * t, lo, hi)`` whose deviations sum to ``total``
    (as nearly as the bounds allow).

    ``dev(t) = sum_i (x_i(t) - setp_i)`` is nondecreasing and piecewise linear in ``t`` (for
    ``weight >= 0``), with its breakpoints where an entry meets a bound, ``t = (lo_i -
    setp_i) / w_i`` and ``(hi_i - setp_i) / w_i`` (``w_i > 0``); ``t`` is found exactly on the
    segment whose ends bracket ``total`` (linear interpolation), or at the first (last)
    breakpoint when ``total`` is below (above) every reachable sum, where every entry is at
    its bound. (It was a bisection of 100 evaluations over ``[-1e9, 1e9]``, half the time of
    an AC sample of :func:`ac_sample_share`, which could not reach a ``t`` beyond 1e9, i.e.
    a weight below ``gap / 1e9``.) Negative weights or non-finite values: that bisection."""
    def out(t: float) -> np.ndarray:
        return np.clip(setp + weight * t, lo, hi)

    def dev(t: float) -> float:
        return float((out(t) - setp).sum())

    moving = weight > 0
    values = (setp, lo, hi, weight)
    if (not moving.any() or (weight < 0).any() or not math.isfinite(total)
            or not all(np.isfinite(v).all() for v in values)):
        a, b = -1e9, 1e9
        for _ in range(100):
            mid = (a + b) / 2
            a, b = (mid, b) if dev(mid) < total else (a, mid)
        return out((a + b) / 2)
    ends = np.unique(np.concatenate(((lo - setp)[moving] / weight[moving],
                                     (hi - setp)[moving] / weight[moving])))
    devs = np.maximum.accumulate(np.array([dev(t) for t in ends]))
    if total <= devs[0]:
        return out(float(ends[0]))
    if total >= devs[-1]:
        return out(float(ends[-1]))
    k = int(np.searchsorted(devs, total, side="right")) - 1  # devs[k] <= total < devs[k+1]
    t = ends[k] + (total - devs[k]) / (devs[k + 1] - devs[k]) * (ends[k + 1] - ends[k])
    return out(float(t))


def _circle_q_band(qlo: np.ndarray, qhi: np.ndarray, smax: np.ndarray, p: np.ndarray,
                   sources: int) -> tuple[np.ndarray, np.ndarray]:
    """The reactive band ``[qlo, qhi]`` of each entry narrowed to its kVA circle at the active
    output ``p``: ``|q| <= sqrt(s_max^2 - p^2)`` (the model's (3'), seed 001), for the entries
    after the first ``sources`` (the grid-forming sources take what the power flow leaves
    them). A band wholly outside the circle is pulled onto its nearest point of it."""
    cap = np.sqrt(np.maximum(0.0, smax ** 2 - p ** 2))
    lo, hi = qlo.astype(float).copy(), qhi.astype(float).copy()
    f = slice(sources, None)
    lo[f] = np.clip(lo[f], -cap[f], cap[f])
    hi[f] = np.clip(hi[f], -cap[f], cap[f])
    return lo, hi


def ac_sample_share(net: ThreePhaseNetwork, data: PartitionData, plan: PartitionPlan, *,
                    uncertainty: float, samples: int = 10_000, seed: int = 0,
                    v_set_pu: float | None = None, rounds: int = 20,
                    with_controls: bool = False,
                    progress: Progress | None = None) -> AcSampleShare:
    """IV-E of the seed: the share of uniform load realisations in the box at which the plan
    is feasible in OpenDSS's three-phase AC power flow.

    Every sample is solved at the plan's operating point: the regulator taps and capacitor
    states that the plan's LinDist3Flow model holds, which are ``net``'s (``tap_from`` /
    ``tap_to`` and the capacitors as OpenDSS solved the file,
    :func:`~feederopt.network.threephase_perunit.to_per_unit_3ph` without ``taps``), written
    where they differ (:func:`feederopt.validation.opendss.hold_taps`) and kept by
    ``ControlMode=OFF``, as :func:`feederopt.validation.opendss.solve_opendss` checks a
    topology. Otherwise OpenDSS's ``RegControl`` and ``CapControl`` would move them at every
    sample, for the islanded topology and the sample's loads, away from what the plan was
    optimised for. ``with_controls`` solves each sample with OpenDSS's controls acting instead
    (the file's control mode, ``STATIC`` if the file sets ``OFF``), each sample from the
    model's taps and capacitor states; ``taps_moved`` and ``capacitors_switched`` count the
    samples whose solve ended elsewhere in an energised block.

    The circuit is compiled once; the plan's switch states are written into it as the
    topology check writes them (:func:`feederopt.validation.opendss.set_switch`: a closed
    switch enabled and both its terminals closed, an open one disabled; the lost substation's
    switches open; every node of a de-energised block grounded through
    :data:`FLOAT_GROUND_OHM`, so that no floating node makes OpenDSS's matrix singular), each
    energised component's grid-forming DER becomes a
    voltage source at its bus (its own element disabled) at the plan's voltage set-point, and
    DERs of de-energised blocks are disabled. The set-point is the model's voltage at that bus
    in the plan's nominal operating point
    (:func:`feederopt.algorithms.partition.operating_point`; the mean of ``sqrt(w)`` over the
    DER's phases): with voltage-dependent loads a plan may serve its loads at a lowered
    voltage (its set-points balance the demand there), so a source at 1 p.u. would draw more
    than the plan dispatches. ``v_set_pu`` puts every source at that voltage instead (the
    check before this rule: 1.0). The loads keep their OpenDSS definitions (below their
    ``Vminpu``, 0.95 by default, OpenDSS takes a load as constant impedance). A realisation
    scales the uncertain loads (``kW`` and ``kvar`` together). Every grid-following DER is
    dispatched phase by phase at the plan's per-phase set-points (``p_set``/``q_set``), as
    single-phase constant-PQ Generators at its nodes (its own element disabled: a three-phase
    element splits its kW equally over the phases); a single-phase unit between two phases as
    one 1-phase Generator on both nodes at the line-line kV (OpenDSS's ``bus1=x.2.3``), which
    shares the imbalance of each of its two phases with half of its set-point, band and ramp
    (the real part of its delta share in each, docs/partition-phases.md). The grid-forming
    source takes each phase's imbalance; the grid-following DER phases of its component on
    that phase then share it in proportion to their ramp limits (``ramp * s_max`` of the
    phase), clipped to their per-phase bands (within ``[0, p_max]`` of the phase), as the
    model's recourse balances and bounds each phase; the reactive imbalance is shared alike, within
    ``q_set +- ramp`` (and ``+-s_max``) of each phase, as the recourse moves ``q`` (before, the
    followers stayed at their reactive set-points and the grid-forming DER took the island's whole
    reactive demand: IV-E 0.00 % on its rating for ieee37mod's robust plans); and the power flow is
    solved again with those shares until they settle (within :data:`SETTLE_KW` of the ones solved,
    at most ``rounds`` power flows): the sample is judged on a power flow solved with the shares it
    reports (the GF DER's output is that flow's, the followers' what was dispatched in it), so that
    every DER moves within its band. A realisation is feasible when OpenDSS converges, every node of
    the energised blocks lies within its voltage limits, and every DER phase's active output (the
    source's on each phase for the grid-forming DER) stays within its ramp band around its per-phase
    set-point and within ``[0, p_max]`` of the phase (``docs/partition-ac-check.md``, "Per-phase
    dispatch")."""
    island = AcIsland(net, data, plan, v_set_pu=v_set_pu, rounds=rounds,
                      with_controls=with_controls)
    ok = conv = moved = switched = 0
    lo_w, hi_w = np.inf, 0.0
    failures: list[dict[str, Any]] = []
    for k, scale in enumerate(draw_scales(data, uncertainty, samples, seed)):
        if progress is not None and k:
            progress(k, ok)
        r = island.solve(scale)
        moved += r.taps_moved
        switched += r.capacitors_switched
        if not r.feasible and len(failures) < FAILED_SAMPLES_KEPT:
            failures.append({"sample": k, "converged": r.converged, "limit_violations":
                             worst_first(r.limit_violations)[:LIMITS_PER_SAMPLE]})
        if not r.converged:
            continue
        conv += 1
        lo_w, hi_w = min(lo_w, r.low_pu), max(hi_w, r.high_pu)
        ok += r.feasible
    if progress is not None:
        progress(samples, ok)
    return AcSampleShare(samples, ok, conv, uncertainty, float(lo_w), float(hi_w),
                         island.control_mode, moved, switched,
                         {data.der_ids[d]: v for d, v in island.v_set.items()}, failures)


#: Resistance [ohm] from every node of a de-energised block to ground in the partition's AC
#: check (:class:`AcIsland`): a reference for floating nodes, at most V^2/R = 8 W per node at
#: 4.8 kV even where a lost substation still feeds its block in OpenDSS, and none in any
#: energised island.
FLOAT_GROUND_OHM = 1e6


@dataclass
class AcSample:
    """One load realisation of :class:`AcIsland`: converged, feasible (voltages within the
    limits and every DER within its band and its kVA rating), the lowest and highest
    energised node voltage [p.u.], whether the DER bands, the ratings and the voltage limits
    hold, each energised node's voltage
    magnitude by name (``"bus.a"``, OpenDSS's in the model's base ``vn_kv``: what the check
    judges), and
    the DERs' active outputs [kW]."""

    converged: bool
    feasible: bool = False
    low_pu: float = math.inf
    high_pu: float = 0.0
    within_bands: bool = False
    within_ratings: bool = False
    within_voltage_limits: bool = False
    voltages_pu: dict[str, float] = field(default_factory=dict)
    der_kw: np.ndarray | None = None
    der_phase_kw: dict[str, float] = field(default_factory=dict)
    #: each DER phase's reactive output [kvar] in the judged flow (a follower's dispatched
    #: share, the grid-forming source's what OpenDSS asked of it)
    der_phase_kvar: dict[str, float] = field(default_factory=dict)
    #: each DER phase outside its band or over its kVA rating beyond the tolerances
    #: (BAND_TOL_KW, RATING_TOL_KVA), in words ("PVSystem.pv4.b 56.71 kVA over its 56.67
    #: kVA rating")
    der_breaches: list[str] = field(default_factory=list)
    #: the same breaches as records, for the voltage feedback's correction
    #: (:class:`feederopt.algorithms.partition.DerCuts`): ``name`` (as in ``der_breaches``),
    #: ``entry`` (the model's DER phase entry, ``PartitionData.ph_der`` order; -1 for a phase
    #: the grid-forming source feeds but its DER lacks), ``limit`` (``s_max``: over the kVA
    #: rating; ``p_max``: above the active limit; ``ramp_up`` / ``ramp_down``: beyond the
    #: set-point +- the ramp band, inside ``0..p_max``; ``p_min``: below 0 kW), ``value``
    #: [kW or kVA], ``rating`` the bound broken, ``set_point`` [kW]
    der_breach_records: list[dict[str, Any]] = field(default_factory=list)
    #: each rated line or transformer whose current in this flow is above its rating (times
    #: the settings' ``loading_limit_percent`` / 100, ``--max-loading``) beyond
    #: :data:`LOADING_TOL` (:func:`feederopt.validation.opendss.branch_loading`: OpenDSS's
    #: currents against the file's normamps and normhkva), in words ("Transformer.t 88.2 A
    #: over its 41.6 A rating (212.0 %)", :func:`branch_overload_text`); none judged with
    #: ``--no-thermal-limits``; user test ut47_part #1
    branch_overloads: list[str] = field(default_factory=list)
    #: the same overloads as records, for the voltage feedback's correction
    #: (:class:`feederopt.algorithms.partition.BranchCuts`): ``name`` (OpenDSS's element,
    #: ``"Line.l12"``, ``"Transformer.t"``), ``loading_pct`` (its worst conductor's current
    #: in % of the file's rating), ``limit_pct`` (the loading limit judged, ``--max-loading``),
    #: ``amps`` and ``rating_a``
    branch_overload_records: list[dict[str, Any]] = field(default_factory=list)
    within_branch_ratings: bool = False
    #: every limit this flow breaks, one dict each as the solve's AC check lists them
    #: (``component``, ``id``, ``limit`` v_min / v_max / s_max / p_band / i_max, ``value``,
    #: ``rating`` the limit broken, ``amount`` beyond it, ``unit``); user test ut45b_part #3
    limit_violations: list[dict[str, Any]] = field(default_factory=list)
    taps_moved: int = 0
    capacitors_switched: int = 0


def load_draw(names: list[str]) -> tuple[float, list[str], list[str]]:
    """The active power [kW] that the OpenDSS loads ``names`` of the solved circuit draw
    (the sum over their terminals of ``CktElement.Powers``), those of them below their
    ``Vminpu`` and those above their ``Vmaxpu`` (1.05 by default; user test ut39_recheck_a:
    a plan at 1.098 p.u. drew 961 kW for 880), as OpenDSS's ``Load`` judges it: the voltage
    across each phase (wye: phase to
    the load's neutral conductor; delta: phase to the next phase, a one-phase delta load
    across its two conductors) against ``Vminpu`` times the load's base, ``kV`` for a
    delta or one-phase load and ``kV / sqrt(3)`` for a two- or three-phase wye one (OpenDSS
    Reference Guide, Load object: below ``Vminpu`` and above ``Vmaxpu`` the load is a
    constant impedance, matched at the limit: a constant-power load draws ``kW (V / Vlim)^2``)."""
    import opendssdirect as dss

    total, below, above = 0.0, [], []
    for name in names:
        dss.Circuit.SetActiveElement(f"Load.{name}")
        n_ph = int(dss.CktElement.NumPhases())
        n_cond = int(dss.CktElement.NumConductors())
        powers = np.asarray(dss.CktElement.Powers(), float)
        total += float(powers[0:2 * n_cond:2].sum())
        dss.Loads.Name(name)
        raw = np.asarray(dss.CktElement.Voltages(), float)[:2 * n_cond]
        v = raw[0::2] + 1j * raw[1::2]
        kv = float(dss.Loads.kV())
        if dss.Loads.IsDelta():
            across = np.array([v[0] - v[1]]) if n_ph == 1 else v[:n_ph] - np.roll(v[:n_ph], -1)
            base = kv * 1000.0
        else:
            across = v[:n_ph] - (v[n_ph] if len(v) > n_ph else 0.0)
            base = kv * 1000.0 / (math.sqrt(3.0) if n_ph in (2, 3) else 1.0)
        if len(across) and base > 0 and np.abs(across).min() < float(dss.Loads.Vminpu()) * base:
            below.append(name)
        if len(across) and base > 0 and np.abs(across).max() > float(dss.Loads.Vmaxpu()) * base:
            above.append(name)
    return total, below, above


class AcIsland:
    """The plan's microgrids in OpenDSS, as :func:`ac_sample_share` solves them (see there):
    the circuit compiled once with the plan's switch states, grid-forming sources and
    disabled DERs; :meth:`solve` solves one load realisation."""

    def __init__(self, net: ThreePhaseNetwork, data: PartitionData, plan: PartitionPlan, *,
                 v_set_pu: float | None = None, rounds: int = 20,
                 with_controls: bool = False) -> None:
        import opendssdirect as dss

        from feederopt.io.opendss import compile_circuit
        from feederopt.problems.partition import components
        from feederopt.validation.opendss import (
            CONTROL_MODES,
            OFF,
            STATIC,
            capacitor_states,
            hold_taps,
            regulator_taps,
            set_switch,
        )

        path = net.meta.get("source_path")
        if not path:
            raise ValueError("the network was not read from an OpenDSS file")
        self.net, self.data, self.rounds = net, data, rounds
        self.with_controls = with_controls
        self._diverged = False  # the last power flow diverged (its voltages are no start)
        compile_circuit(path)
        # compile_circuit leaves the taps and capacitor states as OpenDSS solved the file,
        # which are the model's; the model's taps are written where they differ all the same
        file_mode = int(dss.Solution.ControlMode())
        hold_taps(net, {})
        taps0 = regulator_taps()
        caps0 = capacitor_states()
        mode = (file_mode if file_mode != OFF else STATIC) if with_controls else OFF
        self.control_mode = CONTROL_MODES.get(mode, str(mode))
        closed = {data.switch_ids[s] for s in np.flatnonzero(plan.closed)}
        for sid in data.switch_ids:  # a tie opened at a terminal (``Open Line.X 1``) is closed
            set_switch(sid, open_=sid not in closed)
        gens = net.generators
        bus_of = dict(zip(gens["id"].to_list(), gens["bus"].to_list(), strict=True))
        kv_of = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
        n_der = len(data.der_ids)
        ph_of = data.pu.node_phase[data.ph_node] if len(data.ph_der) else np.zeros(0, int)
        # one entry per DER phase (the model's ``ps``/``qs``: a set-point, a ramp band and a
        # cap per phase, (3) and (18b)-(18e)), in kW / kvar
        self.e_der = [int(d) for d in data.ph_der]
        self.e_phase = [int(p) for p in ph_of]
        # and, for a grid follower between two phases (one entry, its whole s), the second
        # phase (-1: phase to ground)
        self.e_phase2 = [int(data.pu.node_phase[n2]) if n2 >= 0 else -1
                         for n2 in data.second_nodes()]
        self.e_setp = [float(v) * 1000 for v in plan.p_set]
        self.e_qset = [float(v) * 1000 for v in plan.q_set]
        self.e_ramp = [data.settings.ramp * float(v) * 1000 for v in data.ph_s_max]
        self.e_pmax = [float(v) * 1000 for v in data.ph_p_max]
        self.e_smax = [float(v) * 1000 for v in data.ph_s_max]
        if v_set_pu is None:  # the plan's voltage set-points (its nominal operating point)
            from feederopt.algorithms.partition import operating_point

            v_node = np.sqrt(np.maximum(operating_point(data, plan)["w"], 0.0))
            v_gf = {int(d): float(v_node[data.ph_node[data.ph_der == d]].mean())
                    for d in np.flatnonzero(plan.grid_forming)}
        #: the grid-forming sources' voltages [p.u.] by DER index
        self.v_set: dict[int, float] = {}
        #: each source's OpenDSS elements and the phases (0-2) of their terminals
        self.sources: dict[str, list[tuple[str, list[int]]]] = {}
        # per energised component: its sources, their DERs, its grid-following DERs (with
        # k_der > 1 a component has several sources; a grid-forming DER is never also
        # dispatched as a follower)
        groups: list[tuple[list[str], list[int], list[int]]] = []
        n_src = 0
        for comp in components(data, plan):
            if not plan.energised[comp[0]]:
                continue
            members = [d for d in range(n_der) if data.der_block[d] in comp]
            names: list[str] = []
            gfs = [d for d in members if plan.grid_forming[d]]
            for d in gfs:
                name = f"gf{n_src}"
                n_src += 1
                names.append(name)
                bus = bus_of[data.der_ids[d]]
                self.v_set[d] = v_gf[d] if v_set_pu is None else v_set_pu
                # the DER's own phases: a three-phase DER is a three-phase source, any other
                # one a single-phase source per phase, at the phase's node and angle (a
                # one-phase grid former holds its phase only, not phases it has not;
                # OpenDSS's two-phase Vsource puts its phases 180 degrees apart)
                own = sorted({self.e_phase[k] for k, e in enumerate(self.e_der) if e == d})
                if own == [0, 1, 2]:
                    self.sources[name] = [(f"Vsource.{name}", own)]
                    dss.Text.Command(f"new Vsource.{name} bus1={bus} phases=3 "
                                     f"basekv={kv_of[bus]} pu={self.v_set[d]} angle=0 "
                                     "MVAsc3=1e6 MVAsc1=1e6")
                    continue
                self.sources[name] = [(f"Vsource.{name}_{PHASES[ph]}", [ph]) for ph in own]
                for ph in own:
                    dss.Text.Command(f"new Vsource.{name}_{PHASES[ph]} bus1={bus}.{ph + 1} "
                                     f"phases=1 basekv={kv_of[bus] / math.sqrt(3)} "
                                     f"pu={self.v_set[d]} angle={-120 * ph} "
                                     "MVAsc3=1e6 MVAsc1=1e6")
            if gfs:
                groups.append((names, gfs, [m for m in members if m not in gfs]))
        self.groups = groups
        self.following = {m for _, _, f in groups for m in f}
        # every DER's own element is off: a grid-forming one is its source, and a
        # grid-following one is dispatched phase by phase (a three-phase Generator, PVSystem
        # or Storage splits its kW equally over its phases, so it cannot hold the plan's
        # unequal per-phase set-points)
        for der in data.der_ids:
            dss.Text.Command(f"edit {der} enabled=n")
        # every node of a block the plan leaves de-energised gets a resistance to ground
        # (FLOAT_GROUND_OHM): such a block floats, its switches open and no source in it, and
        # where nothing there reached ground (IEEE 37's bus 701 with its three delta loads; a
        # block whose loads and DERs are all off) OpenDSS's admittance matrix was singular and
        # the whole power flow diverged with NaN at those nodes, the energised islands solved
        # (4 of 40 samples of a user's IEEE 37 plan at 15 %, each of them alone too)
        for blk, buses in enumerate(data.block_buses):
            if plan.energised[blk]:
                continue
            for k, bus in enumerate(buses):
                dss.Circuit.SetActiveBus(bus)
                for node in dss.Bus.Nodes():
                    dss.Text.Command(f"new Reactor.floatgnd_{blk}_{k}_{node} bus1={bus}.{node} "
                                     f"phases=1 R={FLOAT_GROUND_OHM} X=0")
        # and so does every node of a phase that no grid former of its microgrid holds
        # (formed_phases): it is dead in the plan, and nothing else holds it here either
        pu = data.pu
        live = formed_phases(data, plan) > 0.5
        #: the dead nodes of energised blocks ("bus.a"), left out of the voltage limits
        self.dead_nodes: set[str] = set()
        for i in np.flatnonzero(data.node_slot >= 0) if data.n_slots else []:
            blk, s_ = int(data.block_of_node[i]), int(data.node_slot[i])
            if plan.energised[blk] and not live[s_] and not pu.virtual[pu.node_bus[i]]:
                bus, ph = pu.bus_ids[pu.node_bus[i]], int(pu.node_phase[i])
                self.dead_nodes.add(f"{bus}.{PHASES[ph]}")
                dss.Text.Command(f"new Reactor.deadgnd_{i} bus1={bus}.{ph + 1} phases=1 "
                                 f"R={FLOAT_GROUND_OHM} X=0")
        # per group: its entries by phase (the sources' DER phases first, a placeholder with
        # no band when a grid-forming DER lacks a phase its source feeds), and the
        # grid-following phase elements: single-phase constant-PQ Generators (model=1) at
        # their node, to ground, as the model injects a DER phase at its node; a unit between
        # two phases is one entry on both phases' lists, its element a 1-phase Generator on
        # both nodes at the line-line kV (OpenDSS's bus1=x.2.3, as model_script writes it)
        self._phase_entries: list[dict[int, list[int]]] = []
        self.e_elem: dict[int, str] = {}
        for gi, (_, gfs, fol) in enumerate(groups):
            by_phase: dict[int, list[int]] = {}
            for ph in range(3):
                gf = []
                for g in gfs:
                    own = [k for k, d in enumerate(self.e_der)
                           if d == g and self.e_phase[k] == ph]
                    if not own:
                        self._add_entry(g, ph, 0.0, 0.0, 0.0, 0.0)
                        own = [len(self.e_der) - 1]
                    gf += own
                by_phase[ph] = gf + [k for k, d in enumerate(self.e_der)
                                     if d in fol and ph in (self.e_phase[k], self.e_phase2[k])]
            self._phase_entries.append(by_phase)
            for m in fol:
                bus = bus_of[self.data.der_ids[m]]
                for k in (k for k, d in enumerate(self.e_der) if d == m):
                    name = f"fol{gi}_{k}"
                    self.e_elem[k] = name
                    between = self.e_phase2[k] >= 0
                    nodes = f"{self.e_phase[k] + 1}" + (f".{self.e_phase2[k] + 1}" if between
                                                        else "")
                    kv = kv_of[bus] / (1.0 if between else math.sqrt(3))
                    dss.Text.Command(f"new Generator.{name} bus1={bus}.{nodes} "
                                     f"phases=1 kV={kv} model=1 "
                                     f"kW={self.e_setp[k]} kvar={self.e_qset[k]} "
                                     "Vminpu=0.1 Vmaxpu=10")
        e_setp = np.array(self.e_setp)
        e_ramp = np.array(self.e_ramp)
        self.e_lo = np.maximum(e_setp - e_ramp, 0.0)
        self.e_hi = np.minimum(e_setp + e_ramp, np.array(self.e_pmax))
        # the reactive bands of the model's recourse ((18b)-(18e) on q: the set-point +- the
        # ramp, within +-s_max of the phase)
        e_qset = np.array(self.e_qset)
        e_smax = np.array(self.e_smax)
        self.e_qlo = np.maximum(e_qset - e_ramp, -e_smax)
        self.e_qhi = np.minimum(e_qset + e_ramp, e_smax)
        #: the loads of the energised blocks (:func:`load_draw` of the last solve reads them)
        self.live_loads = [lid for lid, blk in zip(data.load_ids, data.load_block, strict=True)
                           if plan.energised[blk]]
        loads = net.loads.filter(pl.col("in_service"))
        self.nominal = {lid: (float(part["p_mw"].sum() * 1000),
                              float(part["q_mvar"].sum() * 1000))
                        for lid in data.load_ids for part in [loads.filter(pl.col("id") == lid)]}
        on_bus = {data.pu.bus_ids[b] for b in range(len(data.pu.bus_ids))
                  if plan.energised[data.block_of_bus[b]] and not data.pu.virtual[b]}
        self.limits = {r["id"]: (r["v_min_pu"], r["v_max_pu"])
                       for r in net.buses.iter_rows(named=True) if r["id"] in on_bus}
        #: each checked bus's line-to-neutral voltage base [V], the model's
        self.base_v = {r["id"]: r["vn_kv"] * 1000 / math.sqrt(3)
                       for r in net.buses.iter_rows(named=True) if r["id"] in on_bus}
        # the regulators that act on the plan: those in energised blocks (the lost
        # substation's keep their source in OpenDSS and move, but no checked node is behind
        # them)
        tr_bus = dict(zip(net.transformers["id"].to_list(),
                          net.transformers["from_bus"].to_list(), strict=True))
        self.taps0 = {tr: t for tr, t in taps0.items() if tr_bus.get(tr) in on_bus}
        self.caps0 = caps0
        self.live_caps = [c for c in caps0 if _capacitor_bus(c) in on_bus]
        # the lines, series elements and transformers with a terminal in an energised block
        # (OpenDSS's element names, lower case): the branches whose ratings the check judges
        # (the lost substation's block keeps its source in OpenDSS; its currents are no plan's)
        series = net.meta.get("series_elements") or {}
        self.live_branches = {
            name.lower() for frame, prefix in ((net.lines, "Line."),
                                               (net.transformers, "Transformer."))
            for r in frame.select("id", "from_bus", "to_bus").iter_rows(named=True)
            if r["from_bus"] in on_bus or r["to_bus"] in on_bus
            for name in [prefix + str(r["id"]), *([series[r["id"]]]
                                                  if prefix == "Line." and r["id"] in series
                                                  else [])]}
        # the uncertain loads, which a realisation scales (the others stay nominal)
        self.scaled = [(lid, data.load_ids.index(lid)) for lid in
                       (data.load_ids[i] for i in np.flatnonzero(data.uncertain))]
        dss.Solution.ControlMode(mode)

    def _add_entry(self, d: int, ph: int, setp: float, qset: float, ramp: float,
                   pmax: float) -> None:
        self.e_der.append(d)
        self.e_phase.append(ph)
        self.e_phase2.append(-1)
        self.e_setp.append(setp)
        self.e_qset.append(qset)
        self.e_ramp.append(ramp)
        self.e_pmax.append(pmax)
        self.e_smax.append(math.inf)  # a phase the DER lacks: its band [0, 0] judges it

    def _dispatch(self, k: int, kw: float, kvar: float) -> None:
        """Dispatch the grid-following DER phase ``k`` at ``kw`` [kW] and ``kvar``."""
        import opendssdirect as dss

        dss.Text.Command(f"edit Generator.{self.e_elem[k]} kW={kw} kvar={kvar}")

    def solve(self, scale: np.ndarray) -> AcSample:
        """The power flow at the load scales ``scale`` (one per load; only the uncertain
        loads' are applied, as the box moves only them), the followers' shares solved until
        they settle (see :func:`ac_sample_share`)."""
        import opendssdirect as dss

        from feederopt.validation.opendss import (
            LOADING_TOL,
            TAP_TOL,
            branch_loading,
            capacitor_states,
            hold_taps,
            load_nameplate,
            phase_nodes,
            regulator_taps,
        )

        setp = np.array(self.e_setp)
        lo, hi, ramp = self.e_lo, self.e_hi, np.array(self.e_ramp)
        smax = np.array(self.e_smax)
        following = sorted(self.e_elem)  # the grid-following DER phases
        if self.with_controls:  # each sample acts from the model's taps and capacitor states
            hold_taps(self.net, {})
            for cap, states in self.caps0.items():
                dss.Capacitors.Name(cap)
                if list(dss.Capacitors.States()) != states:
                    dss.Capacitors.States(states)
        for lid, i in self.scaled:
            # the model's draw at 1 p.u. of the bus; a re-rated load's nameplate is that over
            # its share (load_nameplate), or OpenDSS would apply its law twice
            p0, q0 = self.nominal[lid]
            kw, kvar = load_nameplate(self.net, f"Load.{lid}", p0 * scale[i], q0 * scale[i])
            dss.Text.Command(f"edit Load.{lid} kW={kw!r} kvar={kvar!r}")
        out = setp.copy()
        qset = np.array(self.e_qset)
        qout = qset.copy()
        converged = True
        if self._diverged:
            # OpenDSS starts each solve from the last solution's voltages: after a power flow
            # that diverged those are garbage, and every later sample diverged from them too
            # (user test ut_part #6: IV-E 3.5 % where each sample alone gives 90 %); a
            # snapshot mode set anew starts the next solve from the initial voltages again
            dss.Text.Command("set mode=snap")
            self._diverged = False
        for r in range(self.rounds):
            for k in following:
                self._dispatch(k, float(out[k]), float(qout[k]))
            try:
                dss.Solution.Solve()
                converged = bool(dss.Solution.Converged())
            except Exception:  # OpenDSS refuses: an infeasible sample
                converged = False
            if not converged:
                self._diverged = True
                break
            new = out.copy()
            newq = qout.copy()
            for (names, _, _), by_phase in zip(self.groups, self._phase_entries, strict=True):
                src, src_q = [], []
                for name in names:  # per phase: its source's output, 0 on phases it lacks
                    p_ph, q_ph = np.zeros(3), np.zeros(3)
                    for element, phases in self.sources[name]:
                        dss.Circuit.SetActiveElement(element)
                        powers = -np.asarray(dss.CktElement.Powers(), float)
                        p_ph[phases] = powers[0:2 * len(phases):2]
                        q_ph[phases] = powers[1:2 * len(phases):2]
                    src.append(p_ph)
                    src_q.append(q_ph)
                # each phase's imbalance, as the model's recourse balances each phase: the
                # sources' phase outputs, then the component's DER phases on that phase share
                # it within their own bands, in proportion to their ramp limits
                n = len(names)
                # a unit between two phases takes part in both phases' shares with half its
                # s, set-point, band and ramp (Re of its delta share, 1/2, in each: the model
                # injects c s into each phase, c = e^-+j30 / sqrt 3), and its new output is
                # the sum of its two halves
                halves: dict[int, list[tuple[float, float]]] = {}
                for ph, entries in by_phase.items():
                    for i in range(n):
                        out[entries[i]] = new[entries[i]] = float(src[i][ph])
                        qout[entries[i]] = newq[entries[i]] = float(src_q[i][ph])
                    f = np.array([0.5 if self.e_phase2[k] >= 0 else 1.0 for k in entries])
                    total = float(sum(fk * (out[k] - setp[k]) for fk, k in zip(
                        f, entries, strict=True)))
                    share = _water_fill(total, f * setp[entries], f * lo[entries],
                                        f * hi[entries], f * ramp[entries])
                    # and the reactive imbalance alike, as the model's recourse shares q
                    # within the same ramp (the followers held at their q set-points left
                    # the whole island's kvar to the grid-forming DER: 346 kvar against its
                    # 141 kVA per phase on ieee37mod at 10 %, IV-E 0.00 %)
                    total_q = float(sum(fk * (qout[k] - qset[k]) for fk, k in zip(
                        f, entries, strict=True)))
                    # within each follower's kVA circle at its new P (the model's (3'):
                    # P^2 + Q^2 <= s_max^2); what the followers cannot take stays with the
                    # grid-forming source (user test ut42_part #1: sharing P and Q each in its
                    # band put followers at 16.73 kVA on a 16.67 kVA rating, exit 4 on Iowa
                    # 240 where OpenDSS with the followers held in their circles is within
                    # every limit)
                    qlo_e, qhi_e = _circle_q_band(
                        f * self.e_qlo[entries], f * self.e_qhi[entries],
                        f * smax[entries], share, n)
                    share_q = _water_fill(total_q, f * qset[entries], qlo_e, qhi_e,
                                          f * ramp[entries])
                    for k, v, vq in zip(entries[n:], share[n:], share_q[n:], strict=True):
                        if self.e_phase2[k] >= 0:
                            halves.setdefault(k, []).append((float(v), float(vq)))
                        else:
                            new[k], newq[k] = v, vq
                for k, parts in halves.items():
                    new[k] = sum(v for v, _ in parts)
                    newq[k] = sum(vq for _, vq in parts)
            # the sample is judged on this power flow: stop when the followers' shares are the
            # ones it was solved with, and never change them after the last flow
            settled = all(abs(new[k] - out[k]) <= SETTLE_KW
                          and abs(newq[k] - qout[k]) <= SETTLE_KW for k in following)
            if settled or r == self.rounds - 1:
                break
            out, qout = new, newq
        res = AcSample(converged)
        if self.with_controls:
            taps = regulator_taps()
            res.taps_moved = int(any(abs(taps[tr] - t0) > TAP_TOL
                                     for tr, t0 in self.taps0.items()))
            caps = capacitor_states()
            res.capacitors_switched = int(any(caps[c] != self.caps0[c]
                                              for c in self.live_caps))
        if not converged:
            return res
        n_der = len(self.data.der_ids)
        res.der_kw = np.array([sum(out[k] for k, d in enumerate(self.e_der) if d == g)
                               for g in range(n_der)])
        shown = [(k, f"{self.data.der_ids[d]}.{'abc'[self.e_phase[k]]}"
                  + ("abc"[self.e_phase2[k]] if self.e_phase2[k] >= 0 else ""))
                 for k, d in enumerate(self.e_der) if d in self.v_set or d in self.following]
        res.der_phase_kw = {name: float(out[k]) for k, name in shown}
        res.der_phase_kvar = {name: float(qout[k]) for k, name in shown}
        # every DER phase within its own band (and a source's phase its DER lacks at 0)
        entries_all = [k for by_phase in self._phase_entries
                       for entries in by_phase.values() for k in entries]
        name_of = dict(shown)
        off_band = [k for k in entries_all
                    if not lo[k] - BAND_TOL_KW <= out[k] <= hi[k] + BAND_TOL_KW]
        res.within_bands = not off_band
        # and within its kVA rating (per phase, as the model's (3'): P^2 + Q^2 <= s_max^2;
        # a grid-forming source's Q is what OpenDSS's flow asks of it)
        over = [k for k in entries_all
                if math.hypot(out[k], qout[k]) > self.e_smax[k] + RATING_TOL_KVA]
        res.within_ratings = not over
        res.der_breaches = [
            f"{name_of.get(k, str(k))} {out[k]:.2f} kW outside its band {lo[k]:.2f}-{hi[k]:.2f} kW"
            for k in off_band] + [
            f"{name_of.get(k, str(k))} {math.hypot(out[k], qout[k]):.2f} kVA over its "
            f"{self.e_smax[k]:.2f} kVA rating" for k in over]
        n_model = len(self.data.ph_der)
        for k in off_band:
            bound = lo[k] if out[k] < lo[k] else hi[k]
            res.limit_violations.append(_breach("der", name_of.get(k, str(k)), "p_band",
                                                float(out[k]), float(bound), "kW"))
            # which end of the band: the active limit (p_max) or 0, or the set-point +- the
            # ramp inside them (the grid-forming source's share of the island's imbalance)
            if out[k] > hi[k]:
                kind = "p_max" if hi[k] >= self.e_pmax[k] - 1e-9 else "ramp_up"
            else:
                kind = "p_min" if lo[k] <= 1e-9 else "ramp_down"
            res.der_breach_records.append({
                "name": name_of.get(k, str(k)), "entry": k if k < n_model else -1,
                "limit": kind, "value": float(out[k]), "rating": float(bound),
                "set_point": float(setp[k])})
        for k in over:
            res.limit_violations.append(_breach(
                "der", name_of.get(k, str(k)), "s_max", math.hypot(out[k], qout[k]),
                float(self.e_smax[k]), "kVA"))
            res.der_breach_records.append({
                "name": name_of.get(k, str(k)), "entry": k if k < n_model else -1,
                "limit": "s_max", "value": math.hypot(out[k], qout[k]),
                "rating": float(self.e_smax[k]), "set_point": float(setp[k])})
        res.within_voltage_limits = True
        for bus, (vmin, vmax) in self.limits.items():
            dss.Circuit.SetActiveBus(bus)
            # in the model's voltage base (the network's vn_kv), as the three-phase check
            # reads OpenDSS: OpenDSS's own kVBase is the nearest of the file's VoltageBases,
            # which Iowa 240 gives no 0.48 kV for (T_bus3082_L, Gen3's bus, read 0.0348 p.u.
            # at 277 V line-neutral, and the voltage feedback shed blocks for it)
            mags = np.asarray(dss.Bus.VMagAngle(), float)[0::2] / self.base_v[bus]
            # the phase nodes 1-3 only (phase_nodes, the filter of the three-phase solve's
            # check and the base-case verdicts): a bank's floating star point (bus2=x.4.4.4,
            # ~0 p.u.) had put every plan "outside the limits"; a dead phase is judged by
            # nobody's limits
            named = {n: float(v) for n, v in phase_nodes(bus, dss.Bus.Nodes(), mags).items()
                     if n not in self.dead_nodes}
            if not named:
                continue
            res.voltages_pu.update(named)
            mags = np.fromiter(named.values(), float)
            res.low_pu = min(res.low_pu, float(mags.min()))
            res.high_pu = max(res.high_pu, float(mags.max()))
            if mags.min() < vmin - V_TOL or mags.max() > vmax + V_TOL:
                res.within_voltage_limits = False
            for node, v in named.items():
                if v < vmin - V_TOL:
                    res.limit_violations.append(_breach("buses", node, "v_min", v, vmin, "p.u."))
                elif v > vmax + V_TOL:
                    res.limit_violations.append(_breach("buses", node, "v_max", v, vmax, "p.u."))
        # every rated line and transformer within its current rating (OpenDSS's currents, the
        # three-phase check's loading: feederopt.validation.opendss.branch_loading), up to the
        # settings' loading limit (--max-loading, % of the rating; none judged with
        # --no-thermal-limits); the model holds both ratings at that limit
        # (formulations.partition.recourse_block), so a breach here is the lossless model's
        # error or the polygon's, and the plan is not within the limits
        limit = self.data.settings.loading_limit_percent
        over_rated = [] if limit is None else sorted(
            (r for r in branch_loading(self.net) if r[1] > limit * (1 + LOADING_TOL)
             and r[0].lower() in self.live_branches), key=lambda r: -r[1])
        res.within_branch_ratings = not over_rated
        res.branch_overloads = [branch_overload_text(e, pct, amps, rating, limit)
                                for e, pct, amps, rating in over_rated]
        res.branch_overload_records = [
            {"name": e, "loading_pct": float(pct), "limit_pct": float(limit or 100.0),
             "amps": float(amps), "rating_a": float(rating)}
            for e, pct, amps, rating in over_rated]
        for e, _, amps, rating in over_rated:  # the limit broken: the scaled rating [A]
            res.limit_violations.append(_breach(
                "transformers" if e.startswith("Transformer.") else "lines", e, "i_max", amps,
                rating * (limit or 100.0) / 100.0, "A"))
        res.feasible = (res.within_bands and res.within_ratings and res.within_voltage_limits
                        and res.within_branch_ratings)
        return res


def branch_overload_text(element: str, pct: float, amps: float, rating: float,
                         limit: float | None) -> str:
    """One line or transformer over its loading limit in OpenDSS's flow, in words:
    "Transformer.t 88.2 A over its 41.6 A rating (212.0 %)" at the rating itself, and with
    a ``--max-loading`` limit other than 100 % "Transformer.t 88.2 A over 120 % of its 41.6 A
    rating (212.0 %)"."""
    of = "" if limit is None or limit == 100.0 else f"{limit:g} % of "
    return f"{element} {amps:.1f} A over {of}its {rating:.1f} A rating ({pct:.1f} %)"


def _breach(component: str, name: str, limit: str, value: float, rating: float,
            unit: str) -> dict[str, Any]:
    """One broken limit of an :class:`AcSample`: ``amount = |value - rating|`` beyond the
    limit ``rating``, in ``unit``."""
    return {"component": component, "id": name, "limit": limit, "value": float(value),
            "rating": float(rating), "amount": abs(float(value) - float(rating)),
            "unit": unit}


def worst_first(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``violations`` (:func:`_breach`) by their relative amount, ``amount / |rating|``,
    largest first (a voltage in p.u. and a rating in kVA compare as shares of their
    limits)."""
    return sorted(violations, key=lambda d: -d["amount"] / max(abs(d["rating"]), 1e-9))


#: How many failing samples :func:`ac_sample_share` records with their broken limits, and how
#: many limits each (the worst, :func:`worst_first`); the counts are over all samples.
FAILED_SAMPLES_KEPT = 20
LIMITS_PER_SAMPLE = 10


def _kept_round(voltage_feedback: Mapping[str, Any]) -> Mapping[str, Any]:
    """The voltage feedback's round of the plan kept (``kept_round``); empty when the record
    has no such round (a record written without its rounds)."""
    rounds = [r for r in voltage_feedback.get("rounds") or [] if isinstance(r, Mapping)]
    k = voltage_feedback.get("kept_round", 0)
    return rounds[k] if isinstance(k, int) and 0 <= k < len(rounds) else {}


def nominal_breaches(voltage_feedback: Mapping[str, Any] | None) -> list[str]:
    """What the plan's own OpenDSS check at the nominal load breaks, in words: the voltage
    feedback's power flow of the kept plan (:class:`AcIsland` at the nominal realisation, its
    round in ``voltage_feedback``, :func:`feederopt.api_partition.partition`). ``"did not
    converge"`` when OpenDSS found no operating point; else ``"voltages outside the limits
    ..."`` when an energised node is outside its limits beyond :data:`V_TOL`, and one entry
    per DER phase outside its band beyond :data:`BAND_TOL_KW` or over its kVA rating
    (``sqrt(P^2 + Q^2) > s_max + RATING_TOL_KVA``), as the round's ``der_breaches`` name them,
    and one per rated line or transformer whose OpenDSS current is above its rating (the
    round's ``branch_overloads``, :attr:`AcSample.branch_overloads`; user test ut47_part #1).
    Empty when the check holds, or did not run (``--no-voltage-feedback``: nothing judged).

    This is the verdict behind ``feederopt partition``'s exit code 4 (a plan that breaks a
    limit in its OpenDSS check, as the three-phase ``solve`` exits 4 for an answer whose
    OpenDSS check breaks one), the report's ``limits_broken`` badge and the "validity" row
    (:func:`validity_text`). User test ut39_tph #4: a PV phase at 56.74 kVA against its
    56.67 kVA was named in the validity row while the run exited 0."""
    if not isinstance(voltage_feedback, Mapping) or not voltage_feedback.get("enabled"):
        return []
    kept = _kept_round(voltage_feedback)
    if kept.get("opendss_converged") is False or (
            not kept and voltage_feedback.get("stopped") == "OpenDSS did not converge"):
        return ["did not converge"]
    found: list[str] = []
    if kept.get("within_voltage_limits") is False \
            or voltage_feedback.get("within_voltage_limits") is False:
        found.append("voltages break the voltage limits (see the voltage feedback row)")
    found += [str(b) for b in kept.get("der_breaches") or []]
    found += [str(b) for b in kept.get("branch_overloads") or []]
    return found


def _checks_value(checks: SampleChecks | Mapping[str, Any] | None, name: str) -> Any:
    """Field ``name`` of a run's post-analyses: the :class:`SampleChecks` of a result, or
    its JSON object (``checks``); None when absent."""
    if isinstance(checks, Mapping):
        return checks.get(name)
    return getattr(checks, name, None)


def sample_breaches(checks: SampleChecks | Mapping[str, Any] | None) -> str:
    """The samples of ``--samples`` that the plan does not serve within the limits in
    OpenDSS (IV-E, :func:`ac_sample_share`: no convergence, a node voltage outside its
    limits, a DER phase outside its band or over its rating), in words: "2 of 5 samples
    (40.00 %) break a limit in OpenDSS (IV-E AC-feasible 60.00 %)". Empty when every sample
    is served or no AC sample ran (``--samples 0``, ``--no-ac-check``). The count is
    ``samples - ac_feasible``; a result written before ``ac_feasible`` existed gives its
    share ``ac_pct`` instead (below 100 % breaks)."""
    n, pct = _checks_value(checks, "samples"), _checks_value(checks, "ac_pct")
    if not isinstance(n, int) or n <= 0 or not isinstance(pct, int | float) or math.isnan(pct):
        return ""
    ok = _checks_value(checks, "ac_feasible")
    ok = ok if isinstance(ok, int) else round(n * pct / 100.0)
    if ok >= n and pct >= 100.0:
        return ""
    broken = max(n - ok, 1)  # a share below 100 % is at least one sample
    return (f"{broken} of {n} samples ({100.0 * broken / n:.2f} %) break a limit in OpenDSS "
            f"(IV-E AC-feasible {pct:.2f} %)")


def plan_within_limits(voltage_feedback: Mapping[str, Any] | None,
                       checks: SampleChecks | Mapping[str, Any] | None, *,
                       trivial_plan: bool = False) -> bool | None:
    """The partition's AC verdict, ``within_limits`` of its result and JSON, and the one rule
    behind ``feederopt partition``'s exit code 4 and the report's ``limits_broken`` badge:

    * False when the plan is the trivial all-off incumbent of a stopped run (no answer,
      :attr:`~feederopt.algorithms.partition.PartitionResult.trivial_plan`), when its own
      OpenDSS check at the nominal load breaks a limit (:func:`nominal_breaches`), or when
      some sample of ``--samples`` is not served within the limits in OpenDSS
      (:func:`sample_breaches`: IV-E below 100 %);
    * None when no AC check ran (the voltage feedback off or not run, and no AC samples);
    * True otherwise: every AC check that ran holds.

    As the three-phase ``solve`` with scenarios exits 4 for any scenario whose OpenDSS check
    breaks a limit, one sample that breaks one is enough: there is no threshold on the
    share (each sample is judged with the tolerances of :class:`AcIsland`, :data:`V_TOL`,
    :data:`BAND_TOL_KW`, :data:`RATING_TOL_KVA`). ``voltage_feedback`` and ``checks`` are the
    result's fields or their JSON objects."""
    if trivial_plan:
        return False
    if nominal_breaches(voltage_feedback) or sample_breaches(checks):
        return False
    nominal_ran = isinstance(voltage_feedback, Mapping) and bool(voltage_feedback.get("enabled"))
    samples_ran = _checks_value(checks, "ac_pct") is not None
    return True if nominal_ran or samples_ran else None


def nominal_check_text(voltage_feedback: Mapping[str, Any] | None) -> str:
    """:func:`nominal_breaches` in one phrase, "OpenDSS at the nominal load: PVSystem.pv4.b
    56.74 kVA over its 56.67 kVA rating (tolerance 0.001 kW, 0.001 kVA)" (the tolerances
    only beside a DER's breach), and beside a DER's breach why the voltage feedback left it
    (``der_breaches_why``: "not correctable in the model: ..." or "not corrected by the
    feedback's re-solves (stopped: ...)"); empty when the check holds or did not run."""
    found = nominal_breaches(voltage_feedback)
    if not found:
        return ""
    ders = _kept_round(voltage_feedback or {}).get("der_breaches")
    # why the voltage feedback left the DER breaches standing (the model cannot correct
    # them, or its re-solves did not: api_partition._voltage_feedback)
    why = (voltage_feedback or {}).get("der_breaches_why") if ders else None
    # and why it left the line and transformer overloads (branchfb)
    bwhy = (voltage_feedback or {}).get("branch_overloads_why")
    return ("OpenDSS at the nominal load: " + "; ".join(found)
            + (f" (tolerance {BAND_TOL_KW:g} kW, {RATING_TOL_KVA:g} kVA)" if ders else "")
            + (f"; the DER breach(es) {why}" if isinstance(why, str) and why else "")
            + (f"; the branch overload(s) {bwhy}" if isinstance(bwhy, str) and bwhy else ""))


def nominal_verdict(voltage_feedback: Mapping[str, Any] | None) -> str | None:
    """OpenDSS's verdict on the plan beside the model's ``status`` (the console's and the
    report's "AC verdict" row), worded as the three-phase solve's
    (:func:`feederopt.results.result.ac_verdict`): ``the plan breaks a limit in OpenDSS at
    the nominal load (named under validity); exit code 4``, or that OpenDSS found no
    operating point; None when the check holds or did not run (:func:`nominal_breaches`)."""
    found = nominal_breaches(voltage_feedback)
    if not found:
        return None
    if found == ["did not converge"]:
        return ("OpenDSS found no operating point for the plan at the nominal load: not "
                "verified; exit code 4")
    return ("the plan breaks a limit in OpenDSS at the nominal load (named under validity); "
            "exit code 4")


def _no_number(x: Any) -> bool:
    """No number: None (JSON's null) or NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def _four(x: Any) -> str:
    """``x`` to 4 decimals, ``-`` when it is no number."""
    return "-" if _no_number(x) or not isinstance(x, int | float) else f"{float(x):.4f}"


def feedback_row(voltage_feedback: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The voltage feedback's summary row, label and value, of the console and the HTML
    report alike: ``N re-solve(s), stopped: <reason>; plan of round K: OpenDSS
    V_lo-V_hi p.u., within the limits`` (or that OpenDSS did not converge), ``off (<why>)``
    when it did not run, None when the result records none. Before (user test ut49_part #4)
    only the console printed it."""
    vf = voltage_feedback
    if not isinstance(vf, Mapping):
        return None
    rows = vf.get("rounds") or []
    if not vf.get("enabled") or not rows:
        return "voltage feedback", f"off ({vf.get('stopped')})"
    kept = rows[int(vf.get("kept_round") or 0)]
    lo, hi = kept.get("opendss_v_min_pu"), kept.get("opendss_v_max_pu")
    seen = ("OpenDSS did not converge" if kept.get("opendss_converged") is False else
            # user test ut_part #5: "no energised node" for a plan of five blocks whose
            # OpenDSS power flow failed
            "no energised node") if _no_number(lo) and _no_number(hi) else (
        f"OpenDSS {_four(lo)}-{_four(hi)} p.u., "
        + ("outside the limits" if not vf.get("within_voltage_limits") else
           "within the limits" if not (kept.get("der_breaches") or kept.get("branch_overloads"))
           # the p.u. range is the voltages': a rating the same flow breaks is not "within"
           # (ut51_part #3)
           else "within the voltage limits, not the ratings (named under validity)"))
    return ("voltage feedback (OpenDSS at the nominal load)",
            f"{len(rows) - 1} re-solve(s), {feedback_stop_text(vf)}; plan of round "
            f"{vf.get('kept_round')}: {seen}")


def round_within_text(row: Mapping[str, Any]) -> str:
    """Whether one round of the voltage feedback (a ``voltage_feedback.rounds`` record) holds
    the limits in its OpenDSS flow: ``yes`` (every limit), ``voltages only`` (its voltages,
    not a DER's or a branch's rating: ``der_breaches``, ``branch_overloads``) or ``no``."""
    if not row.get("within_voltage_limits"):
        return "no"
    return "voltages only" if row.get("der_breaches") or row.get("branch_overloads") else "yes"


def round_reason_text(row: Mapping[str, Any]) -> str:
    """What one round of the voltage feedback was solved for, in a few words for the
    console: ``first plan``, ``voltages``, ``DER ratings (3)`` (the number of DER phases
    tightened), ``branch ratings (1)`` (lines and transformers tightened) or several, from the
    record's ``ran_for``."""
    why = [str(x) for x in row.get("ran_for") or []]
    if not why or why == ["the first plan"]:
        return "first plan" if why else "-"
    volts = [x for x in why if x.startswith("voltages")]
    # a branch tightened: "Line.l12 100.5 % of its rating" (BranchCuts.update)
    branches = [x for x in why if x.endswith("% of its rating")]
    ders = len(why) - len(volts) - len(branches)
    return ", ".join((["voltages"] if volts else [])
                     + ([f"DER ratings ({ders})"] if ders else [])
                     + ([f"branch ratings ({len(branches)})"] if branches else []))


def alternatives_rows(voltage_feedback: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The plans tried when OpenDSS did not converge at the first one
    (``voltage_feedback.alternatives``, :func:`feederopt.api_partition._alternatives`), one
    row each: the plan (``first`` or ``alternative i``), its cost, the switches it closes,
    its grid-forming DERs and whether OpenDSS converged at it; empty when none was tried."""
    vf = voltage_feedback if isinstance(voltage_feedback, Mapping) else {}
    out: list[dict[str, str]] = []
    n = 0
    for t in (x for x in vf.get("alternatives") or [] if isinstance(x, Mapping)):
        obj = t.get("objective")
        n += not t.get("first")
        out.append({
            "plan": "first" if t.get("first") else f"alternative {n}",
            "total cost [$]": f"{float(obj):,.2f}" if isinstance(obj, int | float)
            and not _no_number(obj) else "-",
            "closed switches": ", ".join(map(str, t.get("closed_switches") or [])) or "-",
            "grid-forming": ", ".join(map(str, t.get("grid_forming") or [])) or "-",
            "OpenDSS converged": "yes" if t.get("opendss_converged") else "no"})
    return out


def validity_text(violations: list[str], voltage_feedback: Mapping[str, Any] | None) -> str:
    """The partition's validity verdict (the console's and the report's "validity" row): the
    model checks of seed 001 (``violations``, :func:`~feederopt.problems.partition.
    check_partition`) and, when the voltage feedback ran, what its OpenDSS check of the kept
    plan at the nominal load found (:func:`nominal_check_text`): no convergence, voltages
    outside the limits, or DER phases outside their bands or over their kVA ratings beyond
    the tolerances (BAND_TOL_KW, RATING_TOL_KVA). "all checks hold" only when none of these
    is found (user test ut39_tph #4: it was printed beside an OpenDSS check that had
    PVSystem.pv4.b at 56.71 kVA against its 56.67 kVA)."""
    parts = list(violations)
    text = nominal_check_text(voltage_feedback)
    if text:
        parts.append(("model checks hold; " if not violations else "") + text)
    return "; ".join(parts) or "all checks hold"


def _capacitor_bus(name: str) -> str:
    """The bus of ``Capacitor.<name>`` in the compiled circuit."""
    import opendssdirect as dss

    dss.Circuit.SetActiveElement(f"Capacitor.{name}")
    return str(dss.CktElement.BusNames()[0]).split(".")[0].lower()


def current_ratings_text(inputs: Any) -> str:
    """The current ratings a partition run held and judged (``inputs.thermal_limits`` and
    ``inputs.max_loading_percent`` of its result: ``--no-thermal-limits``,
    ``--max-loading``) in one cell, for the console and the report, in the three-phase
    solve's words: ``ignored (--no-thermal-limits)``, else ``the lines' and transformers'
    ratings`` with `` at 120 %`` after ``--max-loading 120``; the same for a result written
    before the options (which held the ratings as given); ``-`` without ``inputs``."""
    if not isinstance(inputs, dict):
        return "-"
    if inputs.get("thermal_limits") is False:
        return "ignored (--no-thermal-limits): not held by the model, not judged by OpenDSS"
    loading = inputs.get("max_loading_percent")
    at = (f" at {loading:g} % (--max-loading)" if isinstance(loading, int | float)
          and not isinstance(loading, bool) and loading != 100 else "")
    return f"the lines' and transformers' ratings{at}, in the model and the OpenDSS check"


def voltage_limits_text(limits: Any) -> str:
    """The run's voltage limits (``inputs.voltage_limits`` of a partition result,
    :func:`feederopt.api_partition.voltage_limits_used`) in one cell, for the console and the
    report: ``0.95 - 1.1 p.u. (v_min: --v-min; v_max: network)``, a spread over the buses as
    ``0.9..0.96``; ``-`` when not recorded (older results)."""
    if not isinstance(limits, dict):
        return "-"
    words = {"options": "{}", "settings": "settings file's bus {} where given, else network",
             "network": "network"}
    parts, whence = [], []
    for side, option, key in (("v_min", "--v-min", "vm_lb"), ("v_max", "--v-max", "vm_ub")):
        v = limits.get(f"{side}_pu")
        parts.append(f"{v['min']:g}..{v['max']:g}" if isinstance(v, dict) else
                     f"{v:g}" if isinstance(v, int | float) else "-")
        src = str(limits.get(f"{side}_from", "network"))
        whence.append(f"{side}: " + words.get(src, src).format(
            option if src == "options" else key))
    return f"{parts[0]} - {parts[1]} p.u. ({'; '.join(whence)})"
