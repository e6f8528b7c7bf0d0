"""Out-of-sample check of a topology: how often is it feasible for random loads in a box?

After Moring et al. (2024), sections IV-D and IV-E: fix the topology, draw ``N`` load samples
uniformly from the uncertainty set, and count the samples for which

* the **convex model** is feasible: the SOCP DistFlow of the topology needs no slack (the
  phase-1 value of :class:`~feederopt.problems.reconfiguration.TopologyEvaluator`, the least
  total slack on balance, voltage and current limits, is at most ``FEASIBILITY_TOL``);
* the **AC power flow** is feasible: pandapower's Newton-Raphson
  (:func:`feederopt.validation.ac.ac_power_flow`) converges, every bus voltage lies within its
  limits and every rated branch is loaded at most 100 % (with the AC check's tolerances,
  :data:`~feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE`: 1e-4 p.u., 0.1 % of a rating);
  the AC-feasible samples that hold the limits only within those tolerances (the limits
  themselves broken, as the AC check's ``broken_within_tolerance``) are counted apart
  (:attr:`MonteCarloResult.feasible_ac_within_tolerance_only`).

The limits are the network's own unless ``limits`` (a :class:`~feederopt.options.Limits`, as
``feederopt solve --v-min/--v-max/--max-loading/--no-thermal-limits`` gives them) replace them:
then both checks hold the topology to those, as the solve did. :func:`check_result` takes them
from the result's ``limits`` (what the solve used), unless told otherwise.

Sampling: each load ``k`` of the uncertain set (default: every load with non-zero demand) draws
``u_k ~ U(-1, 1)`` independently and takes ``(p, q) = (p_k^0, q_k^0)(1 + X u_k)`` (the set of
:mod:`feederopt.algorithms.robust`, unidirectional); ``numpy.random.default_rng(seed)`` draws
the ``(N, |D|)`` matrix at once, so a sample does not depend on the options of the others.

Independent draws almost never move every load the same way: a uniform growth of all loads by
``+X`` (what a planner means by "+20 %") is a corner of the box that the samples do not reach
(ut_core2 #7). The two uniform corners, every uncertain load at ``1 - X`` and at ``1 + X``
together, are therefore evaluated apart (:attr:`MonteCarloResult.corners`: feasible in the
convex model and in the AC power flow, the AC V min/max, the largest loading and the limits the
AC power flow breaks, as the solve's AC check names them), and not counted as samples.

A robust result solved with a budget ``Gamma`` (``--budget``, fewer than its uncertain loads)
was certified for the set ``{u in [-1, 1]^D : sum_k |u_k| <= Gamma}`` only (Bertsimas & Sim
2004; :mod:`feederopt.algorithms.robust`): the default check of it draws each ``u`` in the box
and scales it radially into that set (:func:`sample_factors`), and its two corners are the
set's, ``1 -+ X`` on the ``Gamma`` uncertain loads of largest apparent power (the uniform
corners lie outside the set, user test ut46_robust F2). Another box (``--uncertain-loads``,
``-u``) is sampled as given; it is inside the solved set when its loads are among the solve's,
``X' <= X`` and ``|D'| X' <= Gamma X`` (:func:`check_box`).

Source voltage (:class:`SourceVoltages`): a sample's convex model fixes ``v = vm^2`` at each
source bus (:meth:`~feederopt.network.perunit.PerUnitNetwork.with_source_voltage`) and its AC
power flow holds the ext_grid (and slack gen) there at ``vm_pu``
(:func:`~feederopt.validation.montecarlo.hold_sources`), at the network's own set-point
unless :func:`check_result` says otherwise: a scenario result whose scenario file set source
voltages (``source`` rows; result.json's ``scenarios[].source_vm_pu``) has each sample held at
the source voltages of one of its scenarios, drawn by the scenarios' weights from a stream of
its own (``numpy.random.default_rng([seed, 1])``: the loads drawn are those of the same seed
without it), and the two corners evaluated at each distinct one; ``source_vm``
(``--source-vm``) holds every source bus of every sample and corner at one voltage instead,
or each source bus it names at its own (``BUS=VM,BUS=VM``; the others at their set-points).
A robust result solved with a source band (``robust_summary.source_vm_band_pu``) has each
sample held at one of the band's corners (every source at an end), drawn with equal weights
from that stream, and the two corners evaluated at each: the band's ends are its worst cases
(:mod:`feederopt.algorithms.robust`), its interior is not sampled.

Scenario results (:class:`ScenarioLoads`, :func:`scenario_loads`): the result's scenario file
(``scenarios_file``) is read again, refused when its SHA-256 differs from the result's
``scenarios_sha256``, and each sample draws one scenario ``s`` with its probability ``w_s``
(``numpy.random.default_rng([seed, 1])``), then its loads ``(p, q) = (p_k^s, q_k^s)(1 + X
u_k)`` around that scenario's demands, with the scenario's bus rows (DER) and its source
voltage as they are; the two corners are evaluated per scenario. The samples' expected total
demand is therefore ``sum_s w_s D_s`` (``D_s``: the scenario's total, loads and DER, net of
the network's own generating units of fixed output, which the bus rows add to).
"""


from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feederopt.algorithms.base import ProgressCallback, SampleCallback, sample_progress
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.errors import InputError, Problem, ProblemKind, Severity, option_ref
from feederopt.forking import check_not_forked
from feederopt.io.digests import input_change_problems
from feederopt.io.frames import table_problem
from feederopt.io.scenarios import unknown_load_problem
from feederopt.network.container import Network, resolve_branch_ids
from feederopt.network.device_settings import DeviceSettings, with_settings
from feederopt.network.id_lists import id_list_problems
from feederopt.network.limits import held_by_generator
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.network.topology import radiality_problem
from feederopt.options import (
    VOLTAGE_LIMITS,
    Limits,
    SolveOptions,
    crossed_limit_problems,
    option_names,
    passive_limit_problems,
    seed_problem,
    source_band_problems,
)
from feederopt.problems.presolve import fixed_open, without_fixed_open
from feederopt.problems.reconfiguration import FEASIBILITY_TOL, ReconfigurationProblem
from feederopt.problems.uncertain import envelope
from feederopt.scalars import is_real, is_whole
from feederopt.solvers import interrupt
from feederopt.solvers.status import (
    BASE_FALLBACK_STATE,
    BASE_FALLBACK_WHAT,
    ONLY_EVALUATED_WHAT,
    holds_least_violating_state,
    only_topology_evaluated_in,
)
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE, STRICT, ac_limit_violations

#: How the samples are drawn, as ``feederopt check`` and its JSON (``sampling``) say it.
SAMPLING = ("each uncertain load drawn independently, uniform in nominal +- X (a uniform "
            "growth of all loads together is not sampled: see the corners)")

#: How the samples of a budgeted robust result are drawn (:func:`sample_factors`).
BUDGET_SAMPLING = ("each uncertain load drawn independently, uniform in nominal +- X, then the "
                   "deviations u (in units of X) scaled radially by min(1, {budget} / sum |u|) "
                   "into the robust solve's budgeted set sum |u| <= {budget} (draws outside it "
                   "land on its face); the corners move the {budget} largest uncertain loads "
                   "together")

#: How the samples of a scenario result are drawn (:class:`ScenarioLoads`).
SCENARIO_SAMPLING = ("each sample draws one of the result's scenarios by its weight, then each "
                     "uncertain load independently, uniform in the scenario's demand +- X, "
                     "with the scenario's bus rows (DER) and source voltage as they are (a "
                     "uniform growth of all loads together is not sampled: see the corners, "
                     "per scenario)")


@dataclass
class MonteCarloResult:
    samples: int
    uncertainty: float
    seed: int
    uncertain_loads: list[str]
    open_branches: list[str]
    feasible_convex: int
    feasible_ac: int | None  # None when the AC check was skipped
    convex_ok: list[bool] = field(default_factory=list)
    ac_ok: list[bool] = field(default_factory=list)
    ac_not_converged: int = 0
    #: Per sample: AC-feasible only within :attr:`ac_tolerance` (the limits themselves
    #: broken by no more than the tolerance), as the AC check's ``broken_within_tolerance``.
    ac_within_tolerance_only: list[bool] = field(default_factory=list)
    #: The tolerances the AC power flow's limits are held with (the AC check's,
    #: :data:`~feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE`).
    ac_tolerance: dict[str, float] = field(default_factory=dict)
    #: The limits that replaced the network's own (:meth:`Limits.to_dict`); empty: none did.
    limits: dict[str, Any] = field(default_factory=dict)
    #: The two uniform corners (every uncertain load at ``1 - X``, then ``1 + X``; one,
    #: ``nominal``, when ``X = 0``), apart from the samples: ``corner``
    #: (``lower``/``upper``/``nominal``), ``factor``, ``feasible_convex``,
    #: ``feasible_ac`` (None without the AC check), ``ac_converged``, ``min_voltage_pu``,
    #: ``min_voltage_bus``, ``max_voltage_pu``, the largest loading ``max_loading_percent``
    #: and its branch ``max_loading_element`` (AC; None when not run or not converged), and
    #: the limits the AC power flow breaks, ``limit_violations`` (:func:`corner_limits`: as
    #: the solve's AC check names them; empty when none, or not run or not converged).
    corners: list[dict[str, Any]] = field(default_factory=list)
    sampling: str = SAMPLING
    #: ``complete``, or ``interrupted`` when Ctrl-C or SIGTERM stopped the check: ``samples``
    #: and the shares are then those of the samples done, out of ``samples_requested``, and
    #: the corners were not evaluated.
    status: str = "complete"
    samples_requested: int | None = None
    #: Warnings on the check itself: a result that records no hashes of its network's files
    #: (written before they were recorded), which therefore cannot be verified unchanged; the
    #: least-violating topology of an infeasible result (:attr:`least_violating`).
    notes: list[str] = field(default_factory=list)
    #: The source voltages the samples and corners were held at (:meth:`SourceVoltages.
    #: to_dict`): ``how`` (``network``, ``scenarios`` or ``given``), ``text`` (in words, as
    #: the console says it) and ``settings``, each with its ``source_vm_pu`` (bus id -> p.u.),
    #: the ``scenarios`` it is the voltage of, its ``probability`` and the ``samples`` drawn
    #: at it.
    source_voltage: dict[str, Any] = field(default_factory=dict)
    #: True when the topology checked is the least-violating one of a result proven
    #: infeasible, or of one stopped before it found a topology within the limits
    #: (:func:`holds_least_violating`): it breaks the
    #: limits at the result's own loads, so its shares measure how often it happens to hold
    #: them, not a plan's reliability (user test ut39_uncert #1).
    least_violating: bool = False
    #: True when that topology is the grid's own, a stopped run's base-case fallback (the
    #: result's ``base_fallback``), not chosen for least violation (user test ut50_core #1).
    base_fallback: bool = False
    #: True when that topology is the only one a stopped robust run evaluated, compared with
    #: no other (:func:`~feederopt.solvers.status.only_topology_evaluated_in`), not chosen for
    #: least violation either (user test ut51_recheck #1).
    only_evaluated: bool = False
    #: The scenarios of a scenario result that the samples were drawn around
    #: (:class:`ScenarioLoads`): ``file`` (the scenario file read again), and per scenario its
    #: ``name``, ``probability``, total demand ``total_p_mw`` (loads and DER, net of the
    #: network's units of fixed output: :meth:`ScenarioLoads.totals`) and the
    #: ``samples`` drawn in it; empty for any other result (nominal loads).
    scenarios: dict[str, Any] = field(default_factory=dict)
    #: Per sample: the scenario it was drawn in (empty without scenarios) and its total
    #: active demand [MW] (loads and the scenario's bus rows, net of the network's units of
    #: fixed output: :meth:`ScenarioLoads.totals`); in the JSON with ``per_sample`` only.
    sample_scenarios: list[str] = field(default_factory=list)
    sample_total_p_mw: list[float] = field(default_factory=list)
    #: The growth margin (:func:`growth_margin`) when asked for: the largest factor of the
    #: loads (or of the fixed-output generation) the topology holds in AC, and what breaks
    #: first beyond it; empty when not asked for.
    growth_margin: dict[str, Any] = field(default_factory=dict)

    @property
    def feasible_share_convex(self) -> float:
        return self.feasible_convex / self.samples if self.samples else math.nan

    @property
    def convex_only(self) -> int:
        """Samples feasible in the convex model but not in the AC power flow (0 without AC
        power flows): the relaxation holds points that are no power flow."""
        if len(self.ac_ok) != len(self.convex_ok):
            return 0
        return sum(1 for c, a in zip(self.convex_ok, self.ac_ok, strict=True) if c and not a)

    @property
    def feasible_ac_within_tolerance_only(self) -> int | None:
        """How many of the :attr:`feasible_ac` samples hold the limits only within
        :attr:`ac_tolerance`: their AC power flow breaks a limit itself, by no more than the
        tolerance (user test ut37_fresh #2: grid3's sample 40 at V min 0.899929 p.u. on a
        limit of 0.9 counted as AC-feasible without a word). None without the AC check."""
        if self.feasible_ac is None:
            return None
        return sum(self.ac_within_tolerance_only)

    @property
    def feasible_ac_strict(self) -> int | None:
        """The AC-feasible samples that hold the limits themselves (no tolerance)."""
        if self.feasible_ac is None:
            return None
        return self.feasible_ac - sum(self.ac_within_tolerance_only)

    @property
    def feasible_share_ac(self) -> float | None:
        if self.feasible_ac is None:
            return None
        return self.feasible_ac / self.samples if self.samples else math.nan

    @property
    def judged_by(self) -> str:
        """What judges a sample served within the limits (:attr:`samples_breaking_limits`):
        ``"ac_power_flow"``, or ``"convex_model"`` when the AC check was skipped."""
        return "convex_model" if self.feasible_ac is None else "ac_power_flow"

    @property
    def samples_breaking_limits(self) -> int:
        """How many samples the topology does not serve within the limits, the count behind
        ``feederopt check``'s exit code 4 (one is enough, there is no threshold on the
        share): not AC-feasible (:attr:`feasible_ac`: no convergence, or a limit broken
        beyond :attr:`ac_tolerance`, as the solve's AC check judges its answer); without the
        AC check (``--no-ac-check``), not feasible in the convex model, a relaxation of the
        AC power flow (Farivar & Low, IEEE Trans. Power Syst. 28(3), 2013): a sample it
        cannot hold within the limits has no AC operating point within them either."""
        ok = self.feasible_convex if self.feasible_ac is None else self.feasible_ac
        return self.samples - ok

    @property
    def corners_breaking_limits(self) -> list[str]:
        """The uniform corners (``lower``, ``upper``: :attr:`corners`) that the topology does
        not serve within the limits, judged as a sample is (:attr:`samples_breaking_limits`:
        not AC-feasible, or, without the AC check, not feasible in the convex model). A corner
        is a point of the same box as the samples, so it sets ``feederopt check``'s verdict
        alike (session 42; before, corners were reported and not judged: a topology whose
        upper corner broke a limit exited 0 when no sample did)."""
        out = []
        for corner in self.corners:
            ok = (corner.get("feasible_convex") if corner.get("feasible_ac") is None
                  else corner.get("feasible_ac"))
            if not ok:
                out.append(str(corner.get("label") or corner.get("corner")))
        return out

    @property
    def within_limits(self) -> bool | None:
        """The check's verdict on the topology: True when no sample and no corner breaks a
        limit (:attr:`samples_breaking_limits`, :attr:`corners_breaking_limits`), False when
        one does (also in an interrupted check: a sample done that breaks a limit is known),
        None when the check was interrupted before any did (the samples left and the corners
        are unknown). ``feederopt check`` takes its verdict from here, with the solve
        result's own (user test ut42_recheck_a: the Python answer had the counts and no
        verdict, and the CLI summed them itself)."""
        if self.samples_breaking_limits or self.corners_breaking_limits:
            return False
        return None if self.status == "interrupted" else True

    def share_interval(self, feasible: int | None) -> list[float] | None:
        """The :func:`clopper_pearson` 95 % interval of the share ``feasible`` of the
        :attr:`samples` (``[lower, upper]``; None without samples or without the count, and
        when every sample is the same point: ``X = 0`` with neither scenarios nor a source
        band to draw from, where a binomial interval over repeats of one power flow means
        nothing; user test ut45b_recheck #3; a zero-width source band, one setting, too)."""
        one_point = (self.uncertainty == 0.0 and not self.scenarios
                     and len((self.source_voltage or {}).get("settings") or ()) <= 1)
        ci = None if feasible is None or one_point else clopper_pearson(feasible,
                                                                          self.samples)
        return None if ci is None else [ci[0], ci[1]]

    def to_dict(self, per_sample: bool = False) -> dict[str, Any]:
        out = asdict(self)
        out.pop("convex_ok")
        out.pop("ac_ok")
        out.pop("ac_within_tolerance_only")
        out.pop("sample_scenarios")
        out.pop("sample_total_p_mw")
        out["feasible_ac_within_tolerance_only"] = self.feasible_ac_within_tolerance_only
        out["feasible_ac_strict"] = self.feasible_ac_strict

        def share(x: float | None) -> float | None:  # JSON has no NaN (no sample done)
            return None if x is None or math.isnan(x) else x

        out["feasible_share_convex"] = share(self.feasible_share_convex)
        out["feasible_share_ac"] = share(self.feasible_share_ac)
        # the samples are independent draws: each share is a binomial proportion (ut45_mc #3)
        out["share_interval"] = SHARE_INTERVAL
        out["feasible_share_convex_ci95"] = self.share_interval(self.feasible_convex)
        out["feasible_share_ac_ci95"] = self.share_interval(self.feasible_ac)
        out["samples_breaking_limits"] = self.samples_breaking_limits
        out["corners_breaking_limits"] = self.corners_breaking_limits
        out["judged_by"] = self.judged_by
        if per_sample:
            out["convex_ok"] = list(self.convex_ok)
            out["ac_ok"] = list(self.ac_ok)
            out["ac_within_tolerance_only"] = list(self.ac_within_tolerance_only)
            out["sample_scenarios"] = list(self.sample_scenarios)
            out["sample_total_p_mw"] = list(self.sample_total_p_mw)
        return out


#: The confidence level of the shares' intervals (:func:`clopper_pearson`).
SHARE_CONFIDENCE = 0.95
#: What the intervals are, in the JSON (``share_interval``) and on the console.
SHARE_INTERVAL = "Clopper-Pearson exact 95 % confidence interval"


def clopper_pearson(successes: int, trials: int,
                    confidence: float = SHARE_CONFIDENCE) -> tuple[float, float] | None:
    """The exact (Clopper-Pearson) confidence interval of a binomial proportion: with ``k``
    successes in ``n`` independent trials and ``a = 1 - confidence``,

        lower = B(a/2; k, n - k + 1)      (0 when k = 0)
        upper = B(1 - a/2; k + 1, n - k)  (1 when k = n)

    ``B(q; a, b)`` the ``q`` quantile of the beta distribution: the ``p`` at which
    ``P(X >= k | n, p) = a/2`` and ``P(X <= k | n, p) = a/2`` respectively (C. J. Clopper and
    E. S. Pearson, "The use of confidence or fiducial limits illustrated in the case of the
    binomial", Biometrika 26(4), 404-413, 1934). With ``k = n`` the lower end is
    ``(a/2)^(1/n)``: 98.17 % for 200 of 200 at 95 %. It never undercovers (it is
    conservative), which suits a share read as a reliability. None without trials."""
    if trials <= 0:
        return None
    from scipy.stats import beta

    a = 1.0 - confidence
    k, n = int(successes), int(trials)
    lower = 0.0 if k == 0 else float(beta.ppf(a / 2.0, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1.0 - a / 2.0, k + 1, n - k))
    return lower, upper


def sample_factors(pu: PerUnitNetwork, load_index: np.ndarray, uncertainty: float, samples: int,
                   seed: int, budget: int | None = None) -> np.ndarray:
    """``(samples, n_loads)`` multipliers ``1 + X u`` (1 for loads outside ``load_index``).

    ``budget`` Gamma (a budgeted robust result's, Bertsimas & Sim 2004: the set
    ``{u in [-1, 1]^D : sum_k |u_k| <= Gamma}`` of :mod:`feederopt.algorithms.robust`): each
    ``u`` drawn uniform in the box is scaled radially, ``u <- u min(1, Gamma / sum_k |u_k|)``,
    onto the budgeted set; the draws inside it are kept as they are, those outside land on
    its face ``sum_k |u_k| = Gamma`` (so the distribution is not uniform in the set: the
    box's mass outside it sits on that face). None (or Gamma >= |D|): the box."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.0, 1.0, size=(samples, len(load_index)))
    if budget is not None and budget < len(load_index):
        size = np.abs(u).sum(axis=1)
        u *= np.minimum(1.0, budget / np.maximum(size, 1e-300))[:, None]
    f = np.ones((samples, len(pu.load_ids)))
    f[:, load_index] += uncertainty * u
    return f


@dataclass(frozen=True)
class ScenarioLoads:
    """The scenarios of a scenario result that ``feederopt check`` draws its samples around
    (:func:`scenario_loads`): per scenario ``s`` (``names``, probabilities ``weights``) each
    in-service load's demand ``load_p_mw[s, k]``, ``load_q_mvar[s, k]`` [MW, MVAr] (the
    per-unit model's load order) and the bus rows' net demand ``extra_p_mw[s, j]``,
    ``extra_q_mvar[s, j]`` over ``bus_ids`` (the scenario's DER, not scaled by the box), and
    ``setting[s]``: the index of its source voltage in :attr:`SourceVoltages.settings`;
    ``fixed_generation_p_mw``: the network's in-service generating units of fixed output
    (:func:`fixed_output_units`, sgens) [MW], which inject in every scenario beside its bus
    rows (a SimBench study case's ``generator_change`` row is the set-point minus the case's
    output, so the output is ``p_set - change``).
    A sample draws one scenario ``s`` with probability ``weights[s]`` and its loads
    ``load_p_mw[s, k] (1 + X u_k)``; a corner is every uncertain load of one scenario at
    ``1 - X`` or ``1 + X``."""

    file: str
    names: tuple[str, ...]
    weights: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    bus_ids: tuple[str, ...]
    extra_p_mw: np.ndarray
    extra_q_mvar: np.ndarray
    setting: tuple[int, ...]
    fixed_generation_p_mw: float = 0.0
    #: ``unit_p_mw[s, g]``, ``unit_q_mvar[s, g]``: the output [MW, MVAr] of each unit of
    #: fixed output (:func:`fixed_output_units`' order) in scenario ``s``: its ``generator``
    #: row, else the network's set-point; what ``--growth-margin generation`` scales in that
    #: scenario (:func:`scenario_margins`). None: every unit at its set-point.
    unit_p_mw: np.ndarray | None = None
    unit_q_mvar: np.ndarray | None = None

    def draw(self, samples: int, seed: int) -> np.ndarray:
        """The scenario of each sample, drawn by :attr:`weights` from
        ``default_rng([seed, 1])``, a stream apart from the loads' (:func:`sample_factors`)."""
        w = np.asarray(self.weights, float)
        return np.random.default_rng([int(seed), 1]).choice(len(w), size=samples,
                                                            p=w / w.sum())

    def totals(self) -> np.ndarray:
        """Each scenario's total active demand [MW], net of the generation of fixed output:

            D_s = sum_k p_k^s + sum_j e_j^s - sum_g p_g

        its loads ``p_k^s``, its bus rows ``e_j^s`` (DER as demand, negative when injecting)
        and the network's units of fixed output ``p_g`` (:attr:`fixed_generation_p_mw`),
        which inject in every scenario. Before, ``p_g`` was left out: a SimBench study case
        whose PV was off (``generator_change`` rows +0.160 MW) read 0.240 MW of demand for its
        0.080 MW of load (user test ut48_scen #2)."""
        return (self.load_p_mw.sum(axis=1) + self.extra_p_mw.sum(axis=1)
                - float(self.fixed_generation_p_mw))

    def to_dict(self, counts: Sequence[int] | None = None) -> dict[str, Any]:
        """The answer's ``scenarios`` (:attr:`MonteCarloResult.scenarios`)."""
        w = np.asarray(self.weights, float) / float(np.sum(self.weights))
        totals = self.totals()
        return {"file": self.file, "scenarios": [
            {"name": n, "probability": float(w[s]), "total_p_mw": float(totals[s]),
             "samples": None if counts is None else int(counts[s])}
            for s, n in enumerate(self.names)]}


@dataclass(frozen=True)
class SourceVoltages:
    """The source voltages a check holds its samples at (module docstring): ``how`` is
    ``network`` (the network's own set-points), ``scenarios`` (each sample at the source
    voltages of one of a scenario result's scenarios, drawn by the scenarios' weights) or
    ``given`` (``source_vm``, ``--source-vm``: every source bus at one voltage, or each at
    its own) or ``band`` (a robust result's source band: each sample at one of its corners,
    every source at an end, drawn with equal weights; a zero-width band ``A:A`` is one
    corner, not ``2^S`` copies of it); ``settings``
    are the distinct voltages, each a mapping source bus id -> p.u., ``names`` the scenarios
    whose voltage each one is and ``weights`` its probability (the sum of their weights)."""

    how: str
    settings: tuple[dict[str, float], ...]
    names: tuple[tuple[str, ...], ...] = ()
    weights: tuple[float, ...] = ()

    def draw(self, samples: int, seed: int) -> np.ndarray:
        """The setting of each sample (an index into :attr:`settings`): one setting, all 0;
        else drawn by :attr:`weights` from ``default_rng([seed, 1])``, a stream apart from the
        loads' (:func:`sample_factors`)."""
        if len(self.settings) <= 1:
            return np.zeros(samples, dtype=int)
        w = np.asarray(self.weights, float)
        return np.random.default_rng([int(seed), 1]).choice(len(w), size=samples, p=w / w.sum())

    def text(self, counts: Sequence[int] | None = None) -> str:
        """The voltages in words, with the samples drawn at each (``counts``) when given."""
        def at(setting: dict[str, float]) -> str:
            if len(setting) == 1:
                bus, vm = next(iter(setting.items()))
                return f"{vm:.4f} p.u. at bus {bus}"
            return ", ".join(f"{vm:.4f} p.u. at bus {b}" for b, vm in setting.items())

        if self.how == "network":
            return f"the network's own set-point: {at(self.settings[0])}"
        if self.how == "given":
            return f"given to the check: {at(self.settings[0])}"
        if self.how == "band" and len(self.settings) == 1:  # a zero-width band (A:A)
            return ("the robust solve's source band, of zero width: every sample and corner "
                    f"at {at(self.settings[0])}")
        if self.how == "band":
            n = "" if counts is None else " (" + ", ".join(
                f"{c} sample(s) at {at(x)}" for c, x in zip(counts, self.settings,
                                                           strict=True)) + ")"
            return ("the robust solve's source band: each sample at one of its "
                    f"{len(self.settings)} corner(s) (every source at an end of the band), "
                    "drawn with equal weights, and each corner of the loads at each" + n)
        parts = []
        for k, (setting, names) in enumerate(zip(self.settings, self.names, strict=True)):
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3
                                            else "")
            n = "" if counts is None else f", {counts[k]} sample(s)"
            parts.append(f"{at(setting)} (scenario {shown}{n})")
        return ("the scenarios' (their source rows): each sample at the source voltage of one "
                "scenario, drawn by the scenarios' weights, and each corner at each of them: "
                + "; ".join(parts))

    def to_dict(self, counts: Sequence[int] | None = None) -> dict[str, Any]:
        """The answer's ``source_voltage`` (:attr:`MonteCarloResult.source_voltage`)."""
        rows = []
        for k, setting in enumerate(self.settings):
            rows.append({"source_vm_pu": dict(setting),
                         "scenarios": list(self.names[k]) if k < len(self.names) else None,
                         "probability": (float(self.weights[k]) / float(sum(self.weights))
                                         if k < len(self.weights) else 1.0),
                         "samples": None if counts is None else int(counts[k])})
        return {"how": self.how, "text": self.text(counts), "settings": rows}


def network_source_voltages(network: Network, pu: PerUnitNetwork | None = None
                            ) -> SourceVoltages:
    """The network's own source set-points (the per-unit model's ``v_set`` at its source
    buses; ``pu``: that model, default ``to_per_unit(network)``), as a check holds them by
    default."""
    pu = to_per_unit(network) if pu is None else pu
    setting = {str(b): float(v) for b, v, src in zip(pu.bus_ids, pu.v_set, pu.is_source,
                                                     strict=True) if src}
    return SourceVoltages("network", (setting,))


#: ``--source-vm``'s examples, in the caller's spelling.
_SOURCE_VM_EXAMPLE = option_ref("source_vm", "1.03")
_SOURCE_VM_PER_BUS = option_ref("source_vm", "{'0': 1.03, '10': 1.0}",
                                cli="--source-vm 0=1.03,10=1.0")


def source_vm_value(source_vm: Any) -> float | dict[str, float] | None:
    """``source_vm`` (``--source-vm``) as a check takes it: one voltage [p.u.] for every
    source bus (a number, or its text ``"1.02"``), or one per source bus, bus id -> p.u. (a
    mapping, or the command line's ``"BUS=VM,BUS=VM"``); None stays None. Raises
    :class:`InputError` with :func:`source_vm_problem`'s problem when it is neither."""
    problem = source_vm_problem(source_vm)
    if problem is not None:
        raise InputError([problem])
    value: float | dict[str, float] | None = _source_vm_parsed(source_vm)
    return value


def _source_vm_parsed(source_vm: Any) -> Any:
    """``source_vm`` read (a float, a dict bus id -> value, or None), unchecked; a text that
    does not read is returned as it is."""
    if isinstance(source_vm, str):
        text = source_vm.strip()
        if "=" not in text:
            try:
                return float(text)
            except ValueError:
                return source_vm
        pairs: dict[str, Any] = {}
        for entry in text.split(","):
            bus, eq, vm = entry.strip().rpartition("=")
            if not eq or not bus.strip() or bus.strip() in pairs:
                return source_vm
            try:
                pairs[bus.strip()] = float(vm)
            except ValueError:
                pairs[bus.strip()] = vm.strip()
        return pairs
    if isinstance(source_vm, dict):
        return {str(b): (float(v) if is_real(v) else v) for b, v in source_vm.items()}
    return float(source_vm) if is_real(source_vm) else source_vm


def source_vm_problem(source_vm: Any) -> Problem | None:
    """The problem of a ``source_vm`` (``--source-vm``) that is no voltage within
    :data:`~feederopt.io.scenarios.SOURCE_VM_RANGE` (0.8 - 1.2 p.u., the range of a scenario
    file's ``source`` row), nor one per source bus (``BUS=VM,BUS=VM``, a mapping bus id ->
    p.u.: each within that range, each bus named once), or None. Whether the buses are the
    network's sources is :func:`check_source_voltages`' to say."""
    from feederopt.io.scenarios import SOURCE_VM_RANGE
    from feederopt.options import shown_value

    if source_vm is None:
        return None
    lo, hi = SOURCE_VM_RANGE

    def ok(v: Any) -> bool:
        return is_real(v) and math.isfinite(v) and lo <= v <= hi

    value = _source_vm_parsed(source_vm)
    if isinstance(value, dict):
        bad = {b: v for b, v in value.items() if not ok(v)}
        if value and not bad:
            return None
        return Problem(ProblemKind.INVALID_VALUE, "options",
                       f"{option_ref('source_vm')} must give each source bus a voltage "
                       f"[p.u.] in {lo:g} - {hi:g}" + (
                           ", not " + ", ".join(f"{b}={shown_value(v)}" for b, v in
                                                list(bad.items())[:10]) if bad else ""),
                       ids=tuple(bad)[:10], field="source_vm",
                       hint=f"e.g. {_SOURCE_VM_PER_BUS}: each source bus (ext_grid) by its "
                       "bus id, or one voltage for all")
    if ok(value):
        return None
    if is_real(value) and math.isfinite(value):
        # a number outside the range: say so (user test ut47_cli #7: "not '1.5' (a str)")
        return Problem(ProblemKind.INVALID_VALUE, "options",
                       f"{option_ref('source_vm')} {value:g} p.u. is outside the allowed range "
                       f"{lo:g} - {hi:g} p.u.", field="source_vm",
                       hint=f"e.g. {_SOURCE_VM_EXAMPLE}: every source bus (ext_grid) at 1.03 "
                       f"p.u.; or one per source bus, {_SOURCE_VM_PER_BUS}")
    text = isinstance(source_vm, str)
    return Problem(ProblemKind.INVALID_VALUE, "options",
                   f"{option_ref('source_vm')} must be a voltage [p.u.] in {lo:g} - {hi:g}"
                   + (" or one per source bus, BUS=VM,BUS=VM, each bus once" if text else "")
                   + f", not {shown_value(source_vm)}", field="source_vm",
                   hint=(f"e.g. {_SOURCE_VM_PER_BUS}" if text and "=" in source_vm else
                         f"e.g. {_SOURCE_VM_EXAMPLE}: every source bus (ext_grid) at 1.03 "
                         f"p.u.; or one per source bus, {_SOURCE_VM_PER_BUS}"))


def check_source_voltages(data: dict[str, Any], network: Network,
                          source_vm: Any = None) -> SourceVoltages:
    """The source voltages a check of the result ``data`` holds its samples at (module
    docstring): ``source_vm`` when given (:func:`source_vm_value`: one voltage at every
    source bus of ``network``, or one per source bus named, the others at their set-points;
    a bus that ``network`` lacks, or that is no source of it, is an :class:`InputError`
    naming it); else, for a scenario result whose scenario file set source voltages
    (``stochastic.source_rows``), the scenarios' (``scenarios[].source_vm_pu``, grouped into
    distinct settings with their weights); else the network's own. A scenario's source bus
    that is no source of ``network`` is an :class:`InputError`."""
    own = network_source_voltages(network)
    if source_vm is not None:
        given = source_vm_value(source_vm)
        sources = own.settings[0]
        if not isinstance(given, dict):
            return SourceVoltages("given", ({b: float(given or 0.0) for b in sources},))
        buses = {str(b) for b in network.buses["id"].to_list()}
        listed = ", ".join(list(sources)[:10])
        problems = []
        for ids, what in (([b for b in given if b not in buses], "name no bus"),
                          ([b for b in given if b in buses and b not in sources],
                           "are no source bus")):
            if ids:
                problems.append(Problem(
                    ProblemKind.INVALID_VALUE, "options", f"{option_ref('source_vm')}: "
                    f"bus(es) {', '.join(ids[:10])} {what} of the network",
                    ids=tuple(ids[:10]), field="source_vm",
                    hint=f"name the network's source buses (ext_grid buses): {listed}"))
        if problems:
            raise InputError(problems)
        return SourceVoltages("given", ({b: float(given.get(b, v))
                                         for b, v in sources.items()},))
    band = _robust_source_band(data)
    if band is not None:
        held = list(own.settings[0])
        every = [{b: band[0] if s < 0 else band[1] for b, s in zip(held, signs, strict=True)}
                 for signs in itertools.product((-1, 1), repeat=len(held))]
        # a zero-width band (A:A) makes every corner the same point: one setting, not 2^S
        corners = tuple(c for k, c in enumerate(every) if c not in every[:k])
        return SourceVoltages("band", corners,
                              tuple((f"source corner {k}",) for k in range(len(corners))),
                              tuple(1.0 for _ in corners))
    st = data.get("stochastic")
    rows = [r for r in data.get("scenarios") or [] if isinstance(r, dict)]
    if not (isinstance(st, dict) and st.get("source_rows") and rows and all(
            isinstance(r.get("source_vm_pu"), dict) for r in rows)):
        return own
    settings: list[dict[str, float]] = []
    names: list[list[str]] = []
    weights: list[float] = []
    for r in rows:
        setting = {str(b): float(v) for b, v in r["source_vm_pu"].items()}
        if setting not in settings:
            settings.append(setting)
            names.append([])
            weights.append(0.0)
        k = settings.index(setting)
        names[k].append(str(r.get("scenario")))
        weights[k] += float(r.get("weight") or 0.0)
    unknown = sorted({b for s in settings for b in s} - set(own.settings[0]))
    if unknown:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", "the result's scenarios hold the source "
            "voltage at bus(es) that are no source of the network", ids=tuple(unknown),
            field="source_vm_pu", hint="check the result against the network it was solved "
            f"on, or hold every source at one voltage with {option_ref('source_vm', 'VM')}")])
    if sum(weights) <= 0:
        weights = [float(len(n)) for n in names]
    return SourceVoltages("scenarios", tuple(settings), tuple(tuple(n) for n in names),
                          tuple(weights))


def result_scenario_file_problems(data: dict[str, Any]) -> list[Problem]:
    """The problem of a scenario result's scenario file (``scenarios_file``) that is gone, or
    whose SHA-256 differs from the one the result records (``scenarios_sha256``): the
    scenarios checked would not be the ones solved for; none for any other result. A check
    reports it with the problems of its options, all at once (user test ut50_scen #5:
    ``check mv.json -n 5 -u 1.5`` said only the uncertainty's, the file's on the next run)."""
    from feederopt.io.digests import file_digest

    if not data.get("scenarios") or not isinstance(data.get("stochastic"), dict):
        return []
    path = data.get("scenarios_file")
    if not isinstance(path, str) or not path:
        return []
    now = file_digest(path)
    recorded = data.get("scenarios_sha256")
    if now is not None and not (isinstance(recorded, str) and recorded != now):
        return []
    return [Problem(
        ProblemKind.INVALID_VALUE, "result", "the result's scenario file is "
        + ("gone" if now is None else "changed since the solve (its SHA-256 differs from "
           "the result's scenarios_sha256)") + ": the check draws its samples around the "
        "scenarios' loads, DER and source voltages", ids=(path,), field="scenarios_file",
        hint="put the file the result was solved with back in place, or solve again with "
        "the file as it is now")]


def scenario_loads(data: dict[str, Any], network: Network,
                   sources: SourceVoltages) -> ScenarioLoads | None:
    """The scenarios of the scenario result ``data`` for ``feederopt check``
    (:class:`ScenarioLoads`): its scenario file (``scenarios_file``) read again and resolved on
    ``network`` (:func:`~feederopt.io.scenarios.load_scenarios`: per-load demands, not only
    per-bus totals), each scenario paired with its source voltage in ``sources`` (by name when
    ``sources`` are the scenarios', else the one setting). None for a result without
    scenarios, or whose scenarios were given as a table in memory (no file: the check draws
    around the nominal loads, and says so in its notes). A file that is gone, or whose
    SHA-256 differs from the one the result records (``scenarios_sha256``), is an
    :class:`InputError` naming it (:func:`result_scenario_file_problems`)."""
    from feederopt.io.scenarios import load_scenarios

    if not data.get("scenarios") or not isinstance(data.get("stochastic"), dict):
        return None
    path = data.get("scenarios_file")
    if not isinstance(path, str) or not path:
        return None
    problems = result_scenario_file_problems(data)
    if problems:
        raise InputError(problems)
    sset = load_scenarios(network, path)
    if sset.load_p_mw is None or sset.load_q_mvar is None or sset.extra_p_mw is None \
            or sset.extra_q_mvar is None:
        return None
    if sources.how == "scenarios":
        where = {n: k for k, names in enumerate(sources.names) for n in names}
        setting = tuple(where.get(str(n), 0) for n in sset.names)
    else:
        setting = tuple(0 for _ in sset.names)
    units = fixed_output_units(network)
    unit_p, unit_q = scenario_unit_outputs(units, sset.generator_outputs, len(sset.names))
    return ScenarioLoads(str(path), tuple(str(n) for n in sset.names),
                         np.asarray(sset.weights, float), np.asarray(sset.load_p_mw, float),
                         np.asarray(sset.load_q_mvar, float), tuple(sset.bus_ids),
                         np.asarray(sset.extra_p_mw, float), np.asarray(sset.extra_q_mvar, float),
                         setting, float(units["p_mw"].fill_null(0.0).sum()), unit_p, unit_q)


def scenario_unit_outputs(units: pl.DataFrame,
                          rows: Sequence[Mapping[str, tuple[float, float]]], count: int,
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Per scenario ``s`` and unit of fixed output ``g`` (``units``, :func:`fixed_output_units`)
    its output ``(p_g^s, q_g^s)`` [MW, MVAr]: the scenario's ``generator`` row ``rows[s]``
    (unit id -> output), else the unit's set-point ``(p_g^0, q_g^0)``."""
    ids = [str(u) for u in units["id"].to_list()]
    p0 = units["p_mw"].fill_null(0.0).to_numpy().astype(float)
    q0 = units["q_mvar"].fill_null(0.0).to_numpy().astype(float)
    p = np.tile(p0, (count, 1))
    q = np.tile(q0, (count, 1))
    for s in range(min(count, len(rows))):
        for g, uid in enumerate(ids):
            if uid in rows[s]:
                p[s, g], q[s, g] = rows[s][uid]
    return p, q


def _robust_source_band(data: dict[str, Any]) -> tuple[float, float] | None:
    """The source band a robust result was solved for (``robust_summary.source_vm_band_pu``),
    None for any other result."""
    summ = data.get("robust_summary")
    band = summ.get("source_vm_band_pu") if isinstance(summ, dict) else None
    if isinstance(band, list) and len(band) == 2 and all(
            is_real(v) and math.isfinite(v) for v in band):
        return float(band[0]), float(band[1])
    return None


def source_band_note(data: dict[str, Any], network: Network,
                     sources: SourceVoltages) -> str | None:
    """The note of a robust result checked at source voltages (``--source-vm``) outside the
    ones it was certified for: its ``source_vm_band_pu``, or without one the network's own
    set-points (user test ut49_robust #2: a check at 0.95 p.u. of a result solved for
    0.98-1.02 read "(the robust solve's budgeted set)" and found every sample infeasible,
    with no word that the source lay outside that set, as a load box outside it gets); None
    otherwise."""
    own = robust_box(data)
    if own is None or sources.how != "given":
        return None
    band = _robust_source_band(data)
    held = {b: v for setting in sources.settings for b, v in setting.items()}
    if band is not None:
        lo, hi = band
        off = {b: v for b, v in held.items() if not lo - 1e-9 <= v <= hi + 1e-9}
        certified = f"source voltages within {lo:g}-{hi:g} p.u. (its --source-vm-band)"
    else:
        base = network_source_voltages(network).settings[0]
        off = {b: v for b, v in held.items()
               if b in base and not math.isclose(v, base[b], abs_tol=1e-9)}
        certified = ("the network's own source voltage(s) (" + ", ".join(
            f"{b} at {base[b]:g} p.u." for b in list(base)[:5]) + "; no --source-vm-band)")
    if not off:
        return None
    given = ", ".join(f"{b} at {v:g} p.u." for b, v in list(off.items())[:5])
    return (f"the robust solve was certified for {certified}; this check holds source(s) "
            f"{given}, outside that set: its samples are not points the solve was certified "
            "for")


@contextmanager
def sources_held(network: Network, setting: dict[str, float] | None) -> Iterator[None]:
    """Temporarily hold the ext_grids (and slack gens) of the cached pandapower model of
    ``network`` at the voltages ``setting`` (source bus id -> p.u.; None: as they are), as a
    scenario's AC power flow does (:func:`~feederopt.validation.montecarlo.hold_sources`);
    restored on exit."""
    if not setting:
        yield
        return
    from feederopt.io.pandapower import OriginModel
    from feederopt.validation.ac import pandapower_model

    model = pandapower_model(network)
    origin = isinstance(model, OriginModel)
    position = {str(b): k for k, b in enumerate(network.buses["id"].to_list())}
    held = [(int(b) if origin else position[b], float(v)) for b, v in setting.items()
            if b in position]
    undo = hold_sources(model.net, held)
    try:
        yield
    finally:
        for table, idx, old in reversed(undo):
            model.net[table].at[idx, "vm_pu"] = old


def bus_loads(pu: PerUnitNetwork, factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-bus ``(p, q)`` [p.u.] of per-load multipliers."""
    n = pu.n_bus
    return (np.bincount(pu.load_bus, weights=pu.load_p * factor, minlength=n),
            np.bincount(pu.load_bus, weights=pu.load_q * factor, minlength=n))


def resolve_loads(pu: PerUnitNetwork, loads: Sequence[str] | None) -> np.ndarray:
    index = {lid: k for k, lid in enumerate(pu.load_ids)}
    if loads is None:
        return np.flatnonzero((pu.load_p != 0) | (pu.load_q != 0))
    # a load named twice with the unknown ones, at once (before, ``check --uncertain-loads``
    # sampled a repeated load once, silently)
    problems = id_list_problems(option_ref("uncertain_loads"), list(loads), "load",
                                field="uncertain_loads", example="e.g. 18,33")
    unknown = unknown_load_problem(loads, pu.load_ids)
    if unknown is not None or problems:
        raise InputError([*problems, *([] if unknown is None else [unknown])])
    return np.array(sorted({index[x] for x in loads}), dtype=int)


def closed_from_open(pu: PerUnitNetwork, open_ids: Sequence[str]) -> np.ndarray:
    """The state vector (in-service branches) with the branches ``open_ids`` open."""
    index = {bid: k for k, bid in enumerate(pu.branch_ids)}
    open_ids = resolve_branch_ids(open_ids, pu.branch_ids)  # L1 -> its merged L1+L1b
    unknown = [b for b in open_ids if b not in index]
    if unknown:
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "result", "open branch id(s) that "
                                  "the network does not have (in service)", ids=tuple(unknown),
                                  field="open_branches",
                                  hint="check the result against the network it was solved on")])
    closed = np.ones(pu.n_branch, dtype=bool)
    closed[[index[b] for b in open_ids]] = False
    return closed


def hold_sources(net: Any, held: list[tuple[int, float]]) -> list[tuple[str, Any, float]]:
    """Set ``vm_pu`` of the in-service ext_grids and slack gens at each pandapower bus of
    ``held`` (bus, |V| [p.u.]) in ``net``; returns ``(table, index, old vm_pu)`` to restore."""
    undo: list[tuple[str, Any, float]] = []
    for bus, vm in held:
        tables = [("ext_grid", net.ext_grid["bus"] == bus)]
        if len(net.gen) and "slack" in net.gen.columns:
            tables.append(("gen", net.gen["slack"].fillna(False).astype(bool)
                           & (net.gen["bus"] == bus)))
        for table, mask in tables:
            for idx in net[table].index[mask]:
                undo.append((table, idx, float(net[table].at[idx, "vm_pu"])))
                net[table].at[idx, "vm_pu"] = vm
    return undo


@contextmanager
def loads_set(network: Network, p_mw: np.ndarray, q_mvar: np.ndarray) -> Iterator[None]:
    """Temporarily give the cached pandapower model of ``network`` other in-service loads
    (table order of the in-service loads); restored on exit: the model's load table is the
    one it had before, rows and values, whatever replaced it meanwhile."""
    from feederopt.io.pandapower import OriginModel
    from feederopt.validation.ac import pandapower_model

    model = pandapower_model(network)
    live = np.flatnonzero(network.loads["in_service"].to_numpy().astype(bool))
    if isinstance(model, OriginModel):  # the user's pandapower net: loads by element
        before = model.load_values(live)
        try:
            model.set_load_values(live, p_mw, q_mvar)
            yield
        finally:
            model.set_load_values(live, *before)
        return
    # the table as it was, assigned back on exit: whatever ran inside may have replaced
    # ``net.load`` by another DataFrame (pandapower's ``create_loads`` concatenates a new
    # one, as a scenario's AC check does); values written back into the table held here
    # then went to a DataFrame the model no longer used, and every later AC check of the
    # cached model ran with the loads at 0 (user test ut44_nb: 0.0 kW for case33bw's
    # 139.551 kW after a robust solve)
    saved = model.net["load"].copy()
    table = model.net["load"]
    try:
        table.loc[table.index[live], "p_mw"] = p_mw
        table.loc[table.index[live], "q_mvar"] = q_mvar
        yield
    finally:
        model.net["load"] = saved


@contextmanager
def bus_rows_added(network: Network, bus_ids: Sequence[str], p_mw: np.ndarray,
                   q_mvar: np.ndarray) -> Iterator[None]:
    """Temporarily add to the cached pandapower model of ``network`` one constant-power
    ``load`` per bus of ``bus_ids`` with a non-zero net demand ``p_mw``, ``q_mvar`` (a
    scenario's bus rows: PV negative), as a scenario's AC power flow does
    (:mod:`feederopt.validation.scenario_ac`); removed on exit."""
    from feederopt.io.pandapower import OriginModel
    from feederopt.validation.ac import pandapower_model

    all_ids = [str(b) for b in network.buses["id"].to_list()]
    position = {b: k for k, b in enumerate(all_ids)}
    rows = [(position[b], float(p), float(q)) for b, p, q in
            zip(bus_ids, p_mw, q_mvar, strict=True)
            if b in position and (p != 0.0 or q != 0.0)]
    if not rows:
        yield
        return
    import pandapower as pp

    model = pandapower_model(network)
    origin = isinstance(model, OriginModel)
    pp_bus = [int(all_ids[k]) if origin else k for k, _, _ in rows]
    added = pp.create_loads(model.net, pp_bus, [r[1] for r in rows],
                            q_mvar=[r[2] for r in rows], name="feederopt scenario")
    try:
        yield
    finally:
        model.net.load.drop(index=list(added), inplace=True)


def ac_feasible(network: Network, closed: np.ndarray, p_mw: np.ndarray, q_mvar: np.ndarray,
                tolerance: float | None = None, limits: Limits | None = None
                ) -> tuple[bool, bool]:
    """``(feasible, converged)`` of the AC power flow with these per-load demands [MW, MVAr],
    against the network's limits or ``limits`` (every bus's band; the loading limit in % of
    each rating, or none without thermal limits)."""
    ok, converged, _ = ac_sample(network, closed, p_mw, q_mvar, tolerance, limits)
    return ok, converged


def ac_sample(network: Network, closed: np.ndarray, p_mw: np.ndarray, q_mvar: np.ndarray,
              tolerance: float | None = None, limits: Limits | None = None,
              source_vm: dict[str, float] | None = None,
              extra: tuple[Sequence[str], np.ndarray, np.ndarray] | None = None
              ) -> tuple[bool, bool, Any]:
    """:func:`ac_feasible` and the power flow itself
    (:class:`~feederopt.validation.ac.AcResult`): ``(feasible, converged, ac)``. The limits
    are held with the AC check's tolerances (:data:`~feederopt.validation.ac_limits.
    AC_LIMIT_TOLERANCE`: 1e-4 p.u., 0.1 % of a rating), so that ``check`` and the solve's AC
    check judge one operating point alike (user test ut_growth #4: 1e-6 here counted 12 of
    1000 samples infeasible that the solve's check passes); ``tolerance`` replaces both (p.u.
    and a share of the loading limit). ``source_vm``: the ext_grids held at these voltages
    (source bus id -> p.u.; :func:`sources_held`), else at the network's set-points.
    ``extra``: ``(bus ids, p_mw, q_mvar)`` of a scenario's bus rows added as loads
    (:func:`bus_rows_added`)."""
    from feederopt.validation.ac import ac_power_flow

    with loads_set(network, p_mw, q_mvar), sources_held(network, source_vm), \
            bus_rows_added(network, *(extra if extra is not None else ((), (), ()))):
        ac = ac_power_flow(network, closed)
    if not ac.converged:
        return False, False, ac
    return sample_holds(network, ac, tolerance, limits), True, ac


def sample_holds(network: Network, ac: Any, tolerance: float | None = None,
                 limits: Limits | None = None) -> bool:
    """Whether the converged AC power flow ``ac`` of a sample holds the limits (the one rule
    of :func:`ac_sample`): every energised bus but one held at its set-point within its band
    (``limits``' when given), every rated branch's ``loading_percent`` at most the loading
    limit, each beyond :data:`~feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE` unless
    ``tolerance`` replaces both (0: the limits themselves, as the AC check's
    ``broken_within_tolerance`` holds them); a bus cut off from every source fails it."""
    buses = network.buses
    v_min = buses["v_min_pu"].cast(pl.Float64).fill_null(0.9).to_numpy()
    v_max = buses["v_max_pu"].cast(pl.Float64).fill_null(1.1).to_numpy()
    # a source's bus, or one that a voltage-controlling generator holds (held_by_generator),
    # is at its set-point, which no band binds, as in the solve's AC check
    src = (buses["is_source"].fill_null(False).to_numpy().astype(bool)
           | np.array([v is not None for v in held_by_generator(buses, network.generators)],
                      dtype=bool))
    vm = ac.vm_pu
    if not np.all(np.isfinite(vm)):
        return False  # a bus cut off from every source
    max_loading = 100.0
    if limits is not None:
        if limits.v_min is not None:
            v_min = np.full(len(v_min), float(limits.v_min))
        if limits.v_max is not None:
            v_max = np.full(len(v_max), float(limits.v_max))
        if limits.max_loading_percent is not None:
            max_loading = float(limits.max_loading_percent)
        if not limits.thermal_limits:
            max_loading = math.inf
    tol_v = AC_LIMIT_TOLERANCE["voltage_pu"] if tolerance is None else tolerance
    tol_r = AC_LIMIT_TOLERANCE["rating_percent"] / 100.0 if tolerance is None else tolerance
    ok_v = np.all((vm >= v_min - tol_v) | src) and np.all((vm <= v_max + tol_v) | src)
    loading = ac.loading_percent[np.isfinite(ac.loading_percent)]
    ok_i = bool(np.all(loading <= max_loading * (1 + tol_r)))
    return bool(ok_v and ok_i)


@interrupt.handle_signals("the counts of the samples done so far are")
def out_of_sample(
    network: Network,
    closed: np.ndarray,
    uncertainty: float,
    samples: int,
    seed: int = 0,
    uncertain_loads: Sequence[str] | None = None,
    ac: bool = True,
    solver: str = "CLARABEL",
    progress: SampleCallback | None = None,
    limits: Limits | None = None,
    sources: SourceVoltages | None = None,
    scenarios: ScenarioLoads | None = None,
    margin_of: str | None = None,
    budget: int | None = None,
) -> MonteCarloResult:
    """Count the samples for which topology ``closed`` is feasible (module docstring);
    ``progress(done, feasible in the convex model)`` after each sample. ``limits`` replace
    the network's own in both checks. ``sources``: the source voltages of the samples and
    corners (:class:`SourceVoltages`; None: the network's own set-points). Ctrl-C or
    SIGTERM stops it after the sample under way, as they stop a solve
    (:mod:`feederopt.solvers.interrupt`): the counts of the samples done, ``status``
    ``interrupted`` (the command line exited 130 and wrote nothing, ut_unc). ``margin_of``
    (``load`` or ``generation``): the answer's ``growth_margin`` (:func:`growth_margin`) at
    the network's nominal loads and source set-points (or the given source voltage). ``scenarios``
    (:class:`ScenarioLoads`, a scenario result's): each sample draws one scenario by its
    weight and takes that scenario's loads in +- ``uncertainty``, its bus rows (DER) and its
    source voltage (``sources.settings[scenarios.setting[s]]``); the two corners are
    evaluated per scenario; None: the network's nominal loads. ``budget`` Gamma (a budgeted
    robust result's, :func:`check_box`): the samples are drawn in the budgeted set
    (:func:`sample_factors`) and, when Gamma is below the number of uncertain loads, the two
    corners judged are that set's: ``1 -+ X`` on the Gamma uncertain loads of largest
    apparent power (the point the robust master carries, ``UncertaintySet.most_loaded``), the
    others at nominal (the uniform corners, every load at ``1 -+ X``, lie outside the set
    and are not judged)."""
    check_options(samples, uncertainty)
    limited = network
    if limits is not None and limits.changes_network:
        # the values, as solve checks them
        problems = SolveOptions(limits=limits, validate=False).check()
        problems += crossed_limit_problems(network.buses, limits.v_min, limits.v_max,
                                           network.generators)
        problems += source_band_problems(network.buses, limits.v_min, limits.v_max)
        problems += passive_limit_problems(network, limits.v_min)
        if problems:
            raise InputError(problems)
        limited = network.with_limits(v_min_pu=limits.v_min, v_max_pu=limits.v_max,
                                      max_loading_percent=limits.max_loading_percent,
                                      thermal_limits=limits.thermal_limits)
    else:
        limits = None
    pu = to_per_unit(limited)
    stuck = np.flatnonzero(fixed_open(pu) & np.asarray(closed, bool))
    if len(stuck):
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "result", "the topology closes "
                                  "branch(es) that cannot switch and are open",
                                  ids=tuple(pu.branch_ids[k] for k in stuck), field="closed",
                                  hint="a branch with switchable=false and normally_open=true "
                                  "stays open")])
    inner, keep = without_fixed_open(pu)
    idx = resolve_loads(pu, uncertain_loads)
    budgeted = budget is not None and budget < len(idx)
    factors = sample_factors(pu, idx, uncertainty, samples, seed,
                             budget if budgeted else None)
    moved = idx
    if budgeted:  # the budgeted set's corners: the Gamma largest loads move
        size = np.hypot(pu.load_p, pu.load_q)[idx]
        moved = idx[np.sort(np.argsort(-size, kind="stable")[:budget])]
    lo = np.ones(len(pu.load_ids))
    lo[moved] -= uncertainty
    hi = np.ones(len(pu.load_ids))
    hi[moved] += uncertainty
    s_base = pu.s_base_mva
    # per scenario (one: the nominal loads) each load's demand [MW, MVAr] and the bus rows'
    # net demand [p.u.] over the model's buses
    if scenarios is not None:
        base_p, base_q = scenarios.load_p_mw, scenarios.load_q_mvar
        col = {b: j for j, b in enumerate(scenarios.bus_ids)}
        take = np.array([col.get(str(b), -1) for b in pu.bus_ids], dtype=int)
        add_p = np.where(take >= 0, scenarios.extra_p_mw[:, np.maximum(take, 0)], 0.0) / s_base
        add_q = np.where(take >= 0, scenarios.extra_q_mvar[:, np.maximum(take, 0)],
                         0.0) / s_base
    else:
        base_p, base_q = pu.load_p[None, :] * s_base, pu.load_q[None, :] * s_base
        add_p = add_q = np.zeros((1, pu.n_bus))

    def at(s: int, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-bus (p, q) [p.u.] of scenario ``s``'s loads times ``f`` and its bus rows."""
        n = pu.n_bus
        return (np.bincount(pu.load_bus, weights=base_p[s] * f / s_base, minlength=n)
                + add_p[s],
                np.bincount(pu.load_bus, weights=base_q[s] * f / s_base, minlength=n)
                + add_q[s])

    def extra(s: int) -> tuple[Sequence[str], np.ndarray, np.ndarray] | None:
        if scenarios is None:
            return None
        return scenarios.bus_ids, scenarios.extra_p_mw[s], scenarios.extra_q_mvar[s]

    corners = [at(s, f) for s in range(len(base_p)) for f in (lo, hi)]
    env = envelope(inner, np.vstack([c[0] for c in corners]),
                   np.vstack([c[1] for c in corners]))
    # the source voltages: one evaluator per setting (its root fixed at vm^2), and the
    # setting of each sample
    sources = network_source_voltages(limited, pu) if sources is None else sources
    held = [None if sources.how == "network" else dict(x) for x in sources.settings]
    evaluators = [TopologyEvaluator(ReconfigurationProblem(
        env if h is None else env.with_source_voltage(
            np.array([h.get(b, v) for b, v in zip(env.bus_ids, env.v_set, strict=True)]))),
        solver) for h in held]
    if scenarios is not None:
        scen_of = scenarios.draw(len(factors), seed)
        which = np.array([scenarios.setting[s] for s in scen_of], dtype=int)
    else:
        scen_of = np.zeros(len(factors), dtype=int)
        which = sources.draw(len(factors), seed)
    y = np.asarray(closed, float)[keep]  # the fixed-open branches are out of the model
    # a sample's total demand is net of the network's units of fixed output, as a scenario's
    # (ScenarioLoads.totals): they inject beside the loads and bus rows
    fixed_mw = (scenarios.fixed_generation_p_mw if scenarios is not None else
                float(fixed_output_units(network)["p_mw"].fill_null(0.0).sum()))
    totals: list[float] = []
    convex_ok: list[bool] = []
    ac_ok: list[bool] = []
    tolerated: list[bool] = []  # AC-feasible within the tolerance only
    not_converged = 0
    for f, k, sc in zip(factors, which, scen_of, strict=True):
        if interrupt.requested():
            break
        p, q = at(sc, f)
        totals.append(float(p.sum() * s_base) - fixed_mw)
        evaluator = evaluators[k]
        evaluator.set_loads(p, q)
        ev = evaluator.evaluate_violation(y)
        convex_ok.append(bool(ev.violation <= FEASIBILITY_TOL))
        if ac:
            # the power flow of the network as it is (its pandapower model may be the user's
            # own net, with its own ratings), judged against the limits
            ok, conv, flow = ac_sample(network, np.asarray(closed, bool),
                                       base_p[sc] * f, base_q[sc] * f,
                                       limits=limits, source_vm=held[k], extra=extra(sc))
            ac_ok.append(ok)
            tolerated.append(ok and not sample_holds(network, flow, 0.0, limits))
            not_converged += int(not conv)
        if progress is not None:
            progress(len(convex_ok), sum(convex_ok))
    stopped = interrupt.requested()
    counts = np.bincount(which[:len(convex_ok)], minlength=len(held)).tolist()
    corners_out = []
    several = len(held) > 1
    # (setting, scenario, name, factors): per setting (a scenario result's own, per scenario)
    # with X = 0 (or no load varying) both corners are the loads as given: one corner,
    # "nominal" (before, the same point was listed twice, as "lower" and "upper" x1: session
    # 43's note); a zero-width source band is one setting (check_source_voltages)
    named = ((("lower", lo), ("upper", hi)) if uncertainty > 0 and not np.array_equal(lo, hi)
             else (("nominal", lo),))
    todo = ([(scenarios.setting[sc], sc, name, f) for sc in range(len(scenarios.names))
             for name, f in named] if scenarios is not None
            else [(k, 0, name, f) for k in range(len(held)) for name, f in named])
    for k, sc, name, f in () if stopped else todo:
        p, q = at(sc, f)
        evaluator = evaluators[k]
        evaluator.set_loads(p, q)
        setting = sources.settings[k]
        entry: dict[str, Any] = {
            "corner": name, "factor": float(1.0 - uncertainty if name == "lower"
                                            else 1.0 + uncertainty if name == "upper"
                                            else 1.0),
            # the source voltages it is held at; with several (a scenario result's), named
            "source_vm_pu": dict(setting),
            "scenario": None if scenarios is None else scenarios.names[sc],
            "label": (f"{name} at scenario {scenarios.names[sc]}" if scenarios is not None
                      else name if not several else f"{name} at source V "
                      + ", ".join(f"{v:.4f}" for v in setting.values())),
            "feasible_convex": bool(evaluator.evaluate_violation(y).violation
                                    <= FEASIBILITY_TOL),
            "feasible_ac": None, "ac_within_tolerance_only": None, "ac_converged": None,
            "min_voltage_pu": None, "min_voltage_bus": None, "max_voltage_pu": None,
            "max_loading_percent": None, "max_loading_element": None, "limit_violations": [],
            # with a budget, the loads the corner moves (the others at nominal)
            "budget": int(budget) if budgeted and budget is not None else None,
            "moved_loads": [pu.load_ids[k] for k in moved] if budgeted else None}
        if ac:
            ok, conv, flow = ac_sample(network, np.asarray(closed, bool),
                                       base_p[sc] * f, base_q[sc] * f,
                                       limits=limits, source_vm=held[k], extra=extra(sc))
            low = flow.min_voltage_bus if conv else None
            entry.update(feasible_ac=ok, ac_converged=conv,
                         ac_within_tolerance_only=ok and not sample_holds(network, flow, 0.0,
                                                                          limits),
                         min_voltage_pu=float(flow.min_voltage_pu) if conv else None,
                         min_voltage_bus=None if low is None else network.bus_id_out(low),
                         max_voltage_pu=float(flow.max_voltage_pu) if conv else None)
            if conv:
                entry.update(corner_limits(pu, network, flow))
        corners_out.append(entry)
    margin = ({} if margin_of is None or stopped else
              scenario_margins(network, pu, np.asarray(closed, bool), margin_of, limits,
                               scenarios, held, base_p, base_q) if scenarios is not None else
              growth_margin(network, pu, np.asarray(closed, bool), margin_of, limits,
                            None if sources.how in ("network", "scenarios", "band")
                            else dict(sources.settings[0])))
    open_ids = [pu.branch_ids[k] for k in np.flatnonzero(~np.asarray(closed, bool))]
    return MonteCarloResult(
        growth_margin=margin,
        samples=len(convex_ok), uncertainty=float(uncertainty), seed=int(seed),
        uncertain_loads=[pu.load_ids[k] for k in idx], open_branches=open_ids,
        feasible_convex=int(sum(convex_ok)), feasible_ac=int(sum(ac_ok)) if ac else None,
        convex_ok=convex_ok, ac_ok=ac_ok, ac_not_converged=not_converged,
        ac_within_tolerance_only=tolerated,
        ac_tolerance=dict(AC_LIMIT_TOLERANCE) if ac else {},
        limits=limits.to_dict() if limits is not None else {}, corners=corners_out,
        status="interrupted" if stopped else "complete", samples_requested=samples,
        source_voltage=sources.to_dict(counts),
        scenarios={} if scenarios is None else scenarios.to_dict(
            np.bincount(scen_of[:len(convex_ok)], minlength=len(scenarios.names)).tolist()),
        sample_scenarios=[] if scenarios is None else [
            scenarios.names[s] for s in scen_of[:len(convex_ok)]],
        sample_total_p_mw=totals,
        sampling=(SCENARIO_SAMPLING if scenarios is not None else
                  BUDGET_SAMPLING.format(budget=budget) if budgeted else SAMPLING),
    )


#: What ``growth_margin`` scales: every load, or every generating unit of fixed output.
GROWTH_OF = ("load", "generation")


def fixed_output_units(network: Network) -> pl.DataFrame:
    """The in-service generating units of fixed output (sgens: ``p_min_mw = p_max_mw``, no
    voltage set-point), whose output a growth margin of the generation scales."""
    g = network.generators
    return g.filter(pl.col("in_service") & pl.col("v_set_pu").is_null()
                    & ((pl.col("p_max_mw").fill_null(0.0) - pl.col("p_min_mw").fill_null(0.0))
                       .abs() <= 1e-9))


def scenario_margins(network: Network, pu: PerUnitNetwork, closed: np.ndarray, of: str,
                     limits: Limits | None, scenarios: ScenarioLoads,
                     held: Sequence[dict[str, float] | None], base_p: np.ndarray,
                     base_q: np.ndarray) -> dict[str, Any]:
    """The growth margin of a scenario result: :func:`growth_margin` at each scenario's own
    operating point (its loads, its bus rows, its source voltages ``held``; of the
    generation, its own units' output ``ScenarioLoads.unit_p_mw``), and the
    scenario whose factor is smallest as the answer (its fields at the top, ``scenario``
    naming it, ``per_scenario`` every scenario's factor, first failing factor and first
    broken limit). Before (session 43's note), a scenario result's margin was taken at the
    network's nominal loads, which no scenario of the run might have: a growth file whose
    every scenario loads the feeder more reported the margin of a load none of them has.

    Of the generation, a scenario whose units produce nothing (``applicable`` False: ``0 x
    lambda = 0``) has no margin and is not the answer; when no scenario has generation, the
    answer is that of the first, not applicable. Before (user test ut49_growth #1), only
    the network's set-points were scaled and a scenario's ``generator`` rows stayed a fixed
    offset at their bus: the factor printed as the scenario's own PV's was not (x1.813 at
    a scenario of twice the set-point, whose own limit is x1.406), and a scenario with no
    PV at all got a bounded factor."""
    per: list[dict[str, Any]] = []
    for sc, name in enumerate(scenarios.names):
        outputs = (None if scenarios.unit_p_mw is None or scenarios.unit_q_mvar is None
                   else (scenarios.unit_p_mw[sc], scenarios.unit_q_mvar[sc]))
        m = growth_margin(network, pu, closed, of, limits, held[scenarios.setting[sc]],
                          loads_mw=(base_p[sc], base_q[sc]),
                          rows=(scenarios.bus_ids, scenarios.extra_p_mw[sc],
                                scenarios.extra_q_mvar[sc]), outputs=outputs)
        per.append({"scenario": name, **m})

    def key(m: dict[str, Any]) -> tuple[float, float]:
        lo, hi = m["factor"], m["first_failing_factor"]
        return (-1.0 if lo is None else float(lo), np.inf if hi is None else float(hi))

    applicable = [m for m in per if m.get("applicable", True)]
    worst = min(applicable, key=key) if applicable else per[0]
    scaled = f"{worst['scaled']} of scenario {worst['scenario']}"
    return {**worst, "scaled": scaled, "per_scenario": [
        {"scenario": m["scenario"], "factor": m["factor"],
         "first_failing_factor": m["first_failing_factor"], "bounded": m["bounded"],
         "converged_at_first_failing": m["converged_at_first_failing"],
         "applicable": m["applicable"], "unit_ids": m["unit_ids"],
         "unit_output_mw": m["unit_output_mw"],
         "unit_output_at_factor_mw": m["unit_output_at_factor_mw"],
         "breaks": m["breaks"][:1], "factor_strict": m["factor_strict"],
         "first_failing_factor_strict": m["first_failing_factor_strict"],
         "converged_at_first_failing_strict": m["converged_at_first_failing_strict"],
         "unit_output_at_factor_strict_mw": m["unit_output_at_factor_strict_mw"],
         "breaks_strict": m["breaks_strict"][:1]} for m in per]}


def growth_margin(network: Network, pu: PerUnitNetwork, closed: np.ndarray, of: str,
                  limits: Limits | None = None, source_vm: dict[str, float] | None = None,
                  most: float = 10.0, tolerance: float = 1e-3,
                  loads_mw: tuple[np.ndarray, np.ndarray] | None = None,
                  rows: tuple[Sequence[str], np.ndarray, np.ndarray] | None = None,
                  outputs: tuple[np.ndarray, np.ndarray] | None = None,
                  ) -> dict[str, Any]:
    """The largest uniform factor ``lambda`` of the loads (``of = "load"``: every in-service load
    at ``lambda (p_k^0, q_k^0)``) or of the generation (``"generation"``: every unit of
    fixed output, :func:`fixed_output_units`, at ``lambda (p_g, q_g)`` of its output, the
    change a bus row at its bus) at which the AC power flow of topology ``closed`` still
    holds the limits (:func:`ac_sample`: converged, voltages and loadings within the limits
    and the AC check's tolerances), by bisection on ``[0, most]`` to ``tolerance``: ``lambda
    = 1`` first; when it holds, the factor is doubled until one breaks a limit (or ``most``
    holds: ``bounded`` False), then the interval halved. The bisection assumes that a limit,
    once broken, stays broken as ``lambda`` grows (voltage drop and loading grow with the
    load; reverse flows with PV); between ``factor`` and ``first_failing_factor`` lies the
    boundary, and ``breaks`` names the limits broken at ``first_failing_factor``, worst
    first (as the AC check names them), or the power flow's failure to converge there.

    ``factor`` holds the limits within the AC check's tolerance (as the samples are judged:
    a voltage 1e-4 p.u. below ``v_min`` passes), so a limit itself may already be broken
    there; ``factor_strict`` and ``first_failing_factor_strict`` bracket, by the same
    bisection with no tolerance (:func:`sample_holds` with 0), the largest factor at which
    the limits themselves hold, ``breaks_strict`` naming what breaks them at
    ``first_failing_factor_strict`` (user test ut51_robust #2: case33bw's x1.6416 gave V min
    0.89995 p.u. on a limit of 0.9; the limit holds to x1.6409). ``factor_strict`` is the
    bound a planner reads as safe; the two bisections share their power flows until their
    brackets part.

    ``loads_mw`` (each in-service load's ``(p, q)`` [MW, MVAr], the per-unit model's order)
    and ``rows`` (bus ids and the net demand [MW, MVAr] of a scenario's bus rows, its DER,
    its ``generator`` rows as ``-(p_g^s - p_g^0)`` at the unit's bus) give a scenario's
    operating point instead of the network's (:func:`scenario_margins`): its loads are
    scaled (``"load"``; its rows are not), or (``"generation"``) its units' outputs
    ``outputs`` ``(p_g^s, q_g^s)`` (:func:`fixed_output_units`' order; None: the
    set-points ``p_g^0``), the other rows and the loads as they are: the injection of unit
    ``g`` is then ``p_g^0 + (p_g^s - p_g^0) + (lambda - 1) p_g^s = lambda p_g^s``.
    Generation that is zero (every ``p_g = q_g = 0``) has no margin (``0 x lambda = 0``):
    ``applicable`` False, ``factor`` and ``first_failing_factor`` None, no power flow run.
    ``unit_ids``, ``unit_output_mw`` (``p_g``), ``unit_output_at_factor_mw`` (``lambda
    p_g`` at ``factor``) and ``unit_output_at_factor_strict_mw`` (at ``factor_strict``) say
    what the factor means in MW (empty for the loads)."""
    s_base = pu.s_base_mva
    p0, q0 = ((pu.load_p * s_base, pu.load_q * s_base) if loads_mw is None
              else (np.asarray(loads_mw[0], float), np.asarray(loads_mw[1], float)))
    units = fixed_output_units(network)
    g_bus = [str(b) for b in units["bus"].to_list()]
    g_p = (units["p_mw"].fill_null(0.0).to_numpy().astype(float) if outputs is None
           else np.asarray(outputs[0], float))
    g_q = (units["q_mvar"].fill_null(0.0).to_numpy().astype(float) if outputs is None
           else np.asarray(outputs[1], float))
    state = np.asarray(closed, bool)
    r_bus, r_p, r_q = ([], np.zeros(0), np.zeros(0)) if rows is None else (
        [str(b) for b in rows[0]], np.asarray(rows[1], float), np.asarray(rows[2], float))
    what = ("every load" if of == "load" else
            f"the {units.height} generating unit(s) of fixed output")
    gen = of != "load"
    ids = [str(u) for u in units["id"].to_list()] if gen else []
    if gen and not np.any(np.abs(g_p) + np.abs(g_q) > 0.0):
        return {"of": of, "scaled": what, "factor": None, "first_failing_factor": None,
                "bounded": False, "applicable": False, "searched_up_to": float(most),
                "tolerance": float(tolerance), "converged_at_first_failing": None,
                "breaks": [], "factor_strict": None, "first_failing_factor_strict": None,
                "converged_at_first_failing_strict": None, "breaks_strict": [],
                "ac_tolerance": dict(AC_LIMIT_TOLERANCE), "unit_ids": ids,
                "unit_output_mw": [float(x) for x in g_p], "unit_output_at_factor_mw": [],
                "unit_output_at_factor_strict_mw": []}

    def run(lam: float) -> tuple[bool, bool, Any]:
        if of == "load":
            return ac_sample(network, state, p0 * lam, q0 * lam, limits=limits,
                             source_vm=source_vm,
                             extra=None if rows is None else (r_bus, r_p, r_q))
        return ac_sample(network, state, p0, q0, limits=limits, source_vm=source_vm,
                         extra=([*g_bus, *r_bus],
                                np.concatenate([-(lam - 1.0) * g_p, r_p]),
                                np.concatenate([-(lam - 1.0) * g_q, r_q])))

    # factor -> (holds within the AC check's tolerance, holds the limits themselves,
    # converged, the power flow): the two bisections share their power flows (the same
    # points until their brackets part)
    held: dict[float, tuple[bool, bool, bool, Any]] = {}

    def holds(lam: float) -> tuple[bool, bool, bool, Any]:
        if lam not in held:
            ok, converged, flow = run(lam)
            held[lam] = (ok, ok and sample_holds(network, flow, 0.0, limits), converged, flow)
        return held[lam]

    strict_lo, strict_hi = _bisect(lambda lam: holds(lam)[1], most, tolerance)
    lo, hi = _bisect(lambda lam: holds(lam)[0], most, tolerance)
    breaks: list[dict[str, Any]] = []
    converged = None
    if hi is not None:
        _, _, converged, flow = holds(hi)
        if converged:
            breaks = corner_limits(pu, network, flow)["limit_violations"][:5]
    breaks_strict: list[dict[str, Any]] = []
    converged_strict = None
    if strict_hi is not None:
        _, _, converged_strict, flow = holds(strict_hi)
        if converged_strict:
            breaks_strict = ac_limit_violations(pu, flow, network.bus_id_out,
                                                tolerance=STRICT)[:5]
    return {"of": of, "scaled": what, "factor": lo, "first_failing_factor": hi,
            "bounded": hi is not None, "applicable": True, "searched_up_to": float(most),
            "tolerance": float(tolerance), "converged_at_first_failing": converged,
            "breaks": breaks, "factor_strict": strict_lo,
            "first_failing_factor_strict": strict_hi,
            "converged_at_first_failing_strict": converged_strict,
            "breaks_strict": breaks_strict, "ac_tolerance": dict(AC_LIMIT_TOLERANCE),
            "unit_ids": ids,
            "unit_output_mw": [float(x) for x in g_p] if gen else [],
            "unit_output_at_factor_mw": ([float(x) * lo for x in g_p] if gen and lo is not None
                                         else []),
            "unit_output_at_factor_strict_mw": (
                [float(x) * strict_lo for x in g_p] if gen and strict_lo is not None else [])}


def _bisect(holds: Callable[[float], bool], most: float, tolerance: float
            ) -> tuple[float | None, float | None]:
    """``(lo, hi)`` around the largest factor in ``[0, most]`` at which ``holds``, for a rule
    that, once broken, stays broken as the factor grows (:func:`growth_margin`): ``1`` first;
    when it holds, doubled until one breaks (``hi``; None when ``most`` holds), else ``0``
    (``lo`` None when it breaks too); then the interval ``[lo, hi]`` halved until it is at
    most ``tolerance`` wide."""
    lo: float | None
    hi: float | None
    if holds(1.0):
        lo, hi, step = 1.0, None, 2.0
        while True:
            at = min(step, most)
            if not holds(at):
                hi = at
                break
            lo = at
            if lo >= most:
                break
            step *= 2.0
    else:
        lo, hi = (0.0 if holds(0.0) else None), 1.0
    if lo is not None and hi is not None:
        while hi - lo > tolerance:
            mid = 0.5 * (lo + hi)
            if holds(mid):
                lo = mid
            else:
                hi = mid
    return lo, hi


def corner_limits(pu: PerUnitNetwork, network: Network, flow: Any) -> dict[str, Any]:
    """What a corner's converged AC power flow ``flow`` breaks, as the solve's AC check names
    it (:func:`~feederopt.validation.ac_limits.ac_limit_violations` over the model ``pu`` of
    the limits held, worst first, beyond :data:`~feederopt.validation.ac_limits.
    AC_LIMIT_TOLERANCE`): ``limit_violations`` (each with its ``component``, ``id``,
    ``limit``, ``value``, ``rating``, ``amount``, ``unit``; a branch's ``loading_percent`` of
    the limit), and the largest loading ``max_loading_percent`` (pandapower's
    ``loading_percent``, of the data's rating) at its branch ``max_loading_element``, as the
    AC check gives them. A corner said "AC infeasible" beside voltages within the band, and
    nothing of the line at 113 % of its rating that broke it (user test ut40_realg5 #1)."""
    largest = float(flow.max_loading_percent)
    return {"max_loading_percent": largest if math.isfinite(largest) else None,
            "max_loading_element": flow.max_loading_element,
            "limit_violations": ac_limit_violations(pu, flow, network.bus_id_out)}


def result_limits(data: dict[str, Any], *, v_min: float | None = None,
                  v_max: float | None = None, max_loading_percent: float | None = None,
                  thermal_limits: bool | None = None) -> Limits:
    """The limits a check of result ``data`` holds its topology to: those its solve used (its
    ``limits``), each replaced by the one given here."""
    rec = data.get("limits")
    rec = rec if isinstance(rec, dict) else {}

    def num(key: str) -> float | None:
        x = rec.get(key)
        return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None

    return Limits(
        v_min=v_min if v_min is not None else num("v_min_pu"),
        v_max=v_max if v_max is not None else num("v_max_pu"),
        max_loading_percent=(max_loading_percent if max_loading_percent is not None
                             else num("max_loading_percent")),
        thermal_limits=(thermal_limits if thermal_limits is not None
                        else rec.get("thermal_limits") is not False))


def check_options(samples: int, uncertainty: float, seed: int | None = None) -> None:
    """InputError naming each option out of range: ``samples`` >= 1, ``uncertainty`` in
    [0, 1] (as ``solve --robust``: beyond 1 a load would inject), ``seed`` >= 0
    (:func:`check_option_problems`)."""
    problems = check_option_problems(samples, uncertainty, seed)
    if problems:
        raise InputError(problems)


@option_names(VOLTAGE_LIMITS)
def check_option_problems(samples: int, uncertainty: float | None, seed: int | None = None,
                          *, v_min: float | None = None, v_max: float | None = None,
                          max_loading_percent: float | None = None) -> list[Problem]:
    """The problems of :func:`check_options`, as a list, for a caller that reports them with
    others (``feederopt check``), and those of the limits ``v_min``, ``v_max`` and
    ``max_loading_percent`` (as ``solve`` checks them); an ``uncertainty`` of None is not
    checked (the caller says that it is required)."""
    from feederopt.options import shown_value

    limits = SolveOptions(validate=False, limits=Limits(v_min=v_min, v_max=v_max,
                                        max_loading_percent=max_loading_percent)).check()

    problems = [p for p in [samples_problem(samples)] if p is not None]
    number = is_real(uncertainty)
    if uncertainty is not None and not (
            number and math.isfinite(uncertainty) and 0 <= uncertainty <= 1):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                "the uncertainty must be a number in [0, 1], not "
                                f"{uncertainty if number else shown_value(uncertainty)}"
                                + (" (above 1 it would turn loads into generators)"
                                   if number and math.isfinite(uncertainty) and uncertainty > 1
                                   else ""),
                                field="uncertainty",
                                hint="a relative deviation: 0.1 varies loads by +-10 %"))
    if seed is not None and not (_whole(seed) and seed >= 0):
        problems.append(seed_problem(seed))
    return problems + limits


#: The number of samples of a check unless told otherwise (``feederopt check``'s
#: ``--samples``, :func:`check_result`'s ``samples``).
DEFAULT_SAMPLES = 1000


@dataclass(frozen=True)
class RobustBox:
    """The box a robust result was solved for (its ``robust_summary``): the relative load
    uncertainty X, the uncertain loads' ids and the budget (at most that many loads off
    nominal at once; None: any number)."""

    uncertainty: float
    loads: list[str]
    budget: int | None


def robust_box(data: dict[str, Any]) -> RobustBox | None:
    """The box a robust result was solved for, from its ``robust_summary``; None for any
    other result (or a summary without an uncertainty and uncertain loads)."""
    summ = data.get("robust_summary")
    if not isinstance(summ, dict):
        return None
    x, loads = summ.get("uncertainty"), summ.get("uncertain_loads")
    if not isinstance(x, int | float) or isinstance(x, bool) or not isinstance(loads, list) \
            or not loads:
        return None
    budget = summ.get("budget")
    return RobustBox(float(x), [str(v) for v in loads],
                     budget if isinstance(budget, int) and not isinstance(budget, bool)
                     else None)


@dataclass(frozen=True)
class CheckBox:
    """The box a check of a result samples (:func:`check_box`): ``uncertainty``,
    ``uncertain_loads`` (None: every load), whether it is the robust solve's own box
    (``own``), and the notes on it (another box than the robust solve's, a budget that the
    samples do not keep)."""

    uncertainty: float
    uncertain_loads: list[str] | None
    own: bool = False
    notes: tuple[str, ...] = ()
    #: the budget the samples keep (the robust solve's, when its own set is checked)
    budget: int | None = None
    #: another box than the robust solve's that lies inside its budgeted set
    inside: bool = False


def check_box(data: dict[str, Any], uncertainty: float | None,
              uncertain_loads: Sequence[str] | None) -> CheckBox:
    """The box a check of the result ``data`` samples: ``uncertainty`` and
    ``uncertain_loads`` as given, each one not given (None) taken from the box a robust result
    was solved for (:func:`robust_box`; user test ut_unc #6: a check of a 6-load robust solve
    sampled all 32 loads); the loads of another result default to every load. A robust result
    checked in another box, or one solved with a budget (the samples move every uncertain
    load), gets a note. Without ``uncertainty``, a result that is not robust has no box to
    default to: an :class:`InputError` on ``uncertainty`` (user test ut40_docs #1: it was a
    bare ``TypeError`` in Python)."""
    own = robust_box(data)
    if own is None:
        if uncertainty is None:
            raise InputError([uncertainty_required_problem(data)])
        return CheckBox(uncertainty, None if uncertain_loads is None else list(uncertain_loads))
    x = own.uncertainty if uncertainty is None else uncertainty
    loads = own.loads if uncertain_loads is None else list(uncertain_loads)
    number = is_real(x)
    same = (number and math.isclose(x, own.uncertainty, rel_tol=1e-9, abs_tol=1e-12)
            and {str(v) for v in loads} == set(own.loads))
    notes: list[str] = []
    budgeted = own.budget is not None and own.budget < len(own.loads)
    # a box of the loads L' at +-X' lies in the budgeted set {|xi_k| <= 1, sum |xi_k| <= G}
    # (xi = deviation / X) iff L' is among the solve's loads, X' <= X and |L'| X' <= G X
    # (without a budget: iff L' is among the solve's loads and X' <= X; X' = 0 is the nominal
    # point, inside any set: user test ut49_robust #5a)
    inside = (not same and number and (x == 0 or (
        {str(v) for v in loads} <= set(own.loads) and x <= own.uncertainty * (1 + 1e-9)
        and (not budgeted or own.budget is None
             or len(set(map(str, loads))) * x <= own.budget * own.uncertainty * (1 + 1e-9)))))
    if inside and budgeted:
        notes.append(f"this check samples +-{x * 100:g} % on {len(loads)} load(s), inside "
                     f"the set the robust solve was certified for (+-"
                     f"{own.uncertainty * 100:g} % on {len(own.loads)} load(s), at most "
                     f"{own.budget} deviating at once: every point of this box fits its "
                     "budget)")
    elif inside:
        notes.append(f"this check samples +-{x * 100:g} % on {len(loads)} load(s), inside "
                     f"the box the robust solve was certified for (+-"
                     f"{own.uncertainty * 100:g} % on {len(own.loads)} load(s))")
    elif not same and number:
        notes.append(f"the robust solve was certified for +-{own.uncertainty * 100:g} % on "
                     f"{len(own.loads)} load(s); this check samples +-{x * 100:g} % on "
                     f"{len(loads)} load(s), a box it was not solved for")
        if budgeted:
            notes.append(f"the robust solve let at most {own.budget} load(s) deviate at "
                         "once (its budget); the samples move every load of this box")
    elif budgeted:
        notes.append(f"the robust solve let at most {own.budget} load(s) deviate at once (its "
                     f"budget): the samples are drawn in that budgeted set and the corners "
                     f"move its {own.budget} largest uncertain loads, not all "
                     f"{len(own.loads)}")
    return CheckBox(x, loads, own=same, notes=tuple(notes),
                    budget=own.budget if same and budgeted else None, inside=bool(inside))


def uncertainty_required_problem(data: dict[str, Any]) -> Problem:
    """The problem of a check without an uncertainty of a result that has no box of its own
    (any but a robust one): a scenario result's samples are drawn in a box around each
    scenario's loads, whose width it does not record."""
    why = ("the check draws each sample in one of the result's scenarios, in a box of loads "
           "around that scenario's, and a scenario result has no box of its own (each "
           "scenario's own AC power flow is in the result's scenarios[].ac)"
           if data.get("scenarios") else
           "it was not solved for a box of load deviations, so the check has none to "
           "default to")
    return Problem(ProblemKind.INVALID_VALUE, "options",
                   f"{option_ref('uncertainty')} is required for this result: {why}",
                   field="uncertainty", hint=f"e.g. {option_ref('uncertainty', 0.1)}")


def samples_problem(samples: Any, example: int = 1000) -> Problem | None:
    """The problem of a ``samples`` option that is not a whole number >= 1 (numpy integers
    count; a bool does not), or None: one rule for every ``check`` (solve, partition and
    schedule results)."""
    from feederopt.options import shown_value

    if _whole(samples) and samples >= 1:
        return None
    # 5.0 was told "must be at least 1, not 5.0" (user test ut44_nb #3): say what is wrong
    what = "at least 1" if _whole(samples) else "a whole number at least 1"
    return Problem(ProblemKind.INVALID_VALUE, "options",
                   f"samples must be {what}, not {shown_value(samples)}",
                   field="samples", hint=f"e.g. {option_ref('samples', example)}")


def _whole(x: Any) -> bool:
    """An integer (numpy's too), not a bool: a count of samples, a seed."""
    return is_whole(x)


#: Result statuses whose topology can be checked (the others hold no feasible topology);
#: an ``infeasible`` result that holds its least-violating topology is checked too
#: (:func:`holds_least_violating`).
CHECKABLE = ("optimal", "feasible", "time_limit", "interrupted")

#: What a check of an infeasible result's least-violating topology says of it (the check's
#: ``notes``, and the console's warning).
LEAST_VIOLATING_NOTE = (
    "the result is infeasible (status 'infeasible'): the topology checked is its "
    "least-violating one, which breaks the limits at the loads it was solved for (its "
    "diagnosis says where); the shares say how often that topology holds them in the box "
    "sampled, it is no plan within them")


def least_violating_note(status: str, base_fallback: bool = False,
                         only_evaluated: bool = False) -> str:
    """:data:`LEAST_VIOLATING_NOTE` for an infeasible result; for one that stopped before it
    found a topology within the limits (status ``time_limit``, ``interrupted``), the same
    warning with what the status says: infeasibility is not proven. A stopped result answered
    by the grid's own topology (``base_fallback``) says so: that topology was chosen for
    nothing, it is no least-violating one (user test ut50_core #1); nor is a stopped robust
    run's only topology evaluated (``only_evaluated``), compared with no other (ut51_recheck
    #1)."""
    if status == "infeasible":
        return LEAST_VIOLATING_NOTE
    which = (f"its {BASE_FALLBACK_STATE}, {BASE_FALLBACK_WHAT}; it breaks" if base_fallback
             else f"{ONLY_EVALUATED_WHAT}; it breaks" if only_evaluated
             else "the least-violating one it evaluated, which breaks")
    return (f"the result found no topology within the limits before it stopped (status "
            f"'{status}'; infeasibility not proven): the topology checked is {which} "
            "the limits at the loads it was "
            "solved for (its diagnosis says where); the shares say how often that topology "
            "holds them in the box sampled, it is no plan within them")


def holds_least_violating(data: dict[str, Any]) -> bool:
    """Whether a result holds a least-violating topology, not a plan within the limits
    (:func:`~feederopt.solvers.status.holds_least_violating_state`, the solve's rule):
    ``has_topology`` true and status ``infeasible``, or a run stopped (``time_limit``,
    ``interrupted``) with no objective (no topology within the limits found: a robust run
    whose worst-case search certified none, ut39_recheck_b). ``feederopt solve`` prints its
    open branches as "open branches (least-violating state, breaks the limits)"; such a
    topology is checked, said so, and ``feederopt check`` exits as the solve did; an
    infeasible result without a topology, or one written before ``has_topology`` was
    recorded, is not."""
    return holds_least_violating_state(str(data.get("status")), data.get("has_topology"),
                                       data.get("objective"))


#: The result kinds other than a solve's, as :func:`~feederopt._version.document_kind` names
#: them: the command that writes each, and what checks it (``check_result`` checks a solve's
#: topology only). ``feederopt.read_result`` reads every one of them back.
OTHER_KINDS = {
    "three_phase_solve": ("feederopt solve FEEDER.dss", "nothing checks it yet: its OpenDSS "
                          "check is in the result's ac_check"),
    "three_phase_json": ("feederopt solve FEEDER.dss --json FILE", "nothing checks it yet: "
                         "its OpenDSS check is in the result's ac_check"),
    "partition": ("feederopt partition", "feederopt.check_partition_result, or `feederopt "
                  "check FILE`, checks it"),
    "schedule": ("feederopt schedule", "feederopt.check_schedule_result, or `feederopt check "
                 "FILE`, checks it"),
    "resilience_plan": ("feederopt plan", "check does not support resilience results (their "
                        "scenarios are broken lines, not loads); its AC checks are in the "
                        "result itself (scenarios[].ac_check; its verdict within_limits, "
                        "false when one breaks a limit: plan exited 4)"),
    "resilience_restore": ("feederopt restore", "check does not support resilience results "
                           "(their scenarios are broken lines, not loads); its AC check is in "
                           "the result itself (ac_check; its verdict within_limits, false "
                           "when it breaks a limit: restore exited 4)"),
    "solve_check": ("feederopt check RESULT --json FILE", "it is a check's answer, not a "
                    "result to check"),
    "schedule_check": ("feederopt check RESULT --json FILE", "it is a check's answer, not a "
                       "result to check"),
    "partition_check": ("feederopt check RESULT --json FILE", "it is a check's answer, not a "
                        "result to check"),
}

#: A solve's result as :data:`OTHER_KINDS` names the others: for the checks of other kinds
#: given one.
SOLVE_KIND = ("feederopt solve", "feederopt.check_result, or `feederopt check FILE`, checks it")


def read_result_document(path: str | Path) -> dict[str, Any]:
    """The JSON document that a feederopt command wrote (a ``--json`` file, or a folder's
    ``result.json``) as a dict, of whatever kind, with typed errors: no such file, not JSON,
    a newer ``schema_version`` than this release reads, a pandapower net, no object."""
    from feederopt._version import read_as_current
    from feederopt.io._common import unreadable
    from feederopt.io.writing import result_json_path

    path = result_json_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is dropped
    except FileNotFoundError:
        raise unreadable(path, "no such file", hint="check the path") from None
    except UnicodeDecodeError:
        raise unreadable(path, "not a result JSON (not text)",
                         hint="give the JSON that `feederopt solve --json FILE` writes") from None
    except ValueError:
        raise unreadable(path, "not a result JSON (not JSON at all"
                         + (f"; {path.suffix} is a network file: give it with --case"
                            if path.suffix.lower() in (".m", ".dss") else "") + ")",
                         hint="give the JSON that `feederopt solve --json FILE` writes") from None
    except OSError as exc:
        raise unreadable(path, str(exc)) from None
    # a newer layout is refused, not misread; an older one's renamed fields (a solve's
    # iteration_log bounds) read under their names now
    data = read_as_current(data, str(path))
    if isinstance(data, dict) and data.get("_module") == "pandapower.auxiliary":
        raise unreadable(path, "a pandapower net, not a feederopt result (give it with --case)",
                         hint="give the JSON that `feederopt solve --json FILE` writes")
    if not isinstance(data, dict):
        raise unreadable(path, f"not a feederopt result (a JSON {type(data).__name__}, not "
                         "an object)", hint="give the JSON that `feederopt solve --json FILE` "
                         "writes")
    return data


def read_result_to_check(path: str | Path) -> dict[str, Any]:
    """A solve's result JSON (``feederopt solve --json``) as a dict, with typed errors, for
    :func:`check_result`: a result of another kind (:data:`OTHER_KINDS`) is refused, naming
    its kind and what checks it."""
    from feederopt._version import document_kind
    from feederopt.io._common import unreadable
    from feederopt.io.writing import result_json_path

    data = read_result_document(path)
    kind = document_kind(data)
    path = result_json_path(path)
    kind_problems(data, str(path))  # first: a kind of no name (a list) is no dict key
    if kind in OTHER_KINDS:
        # a feederopt result all the same (user tests ut_cli #5, ut34: "not a feederopt
        # result (no open_branches)" of a plan, a partition, a three-phase solve)
        # the command first, then Python's names (user test ut47_cli #7: a CLI error named
        # check_result and feederopt.read_result alone)
        # read, and its kind known: a wrong kind, not an unreadable file (user test
        # ut49_docs #2: "unreadable_file ... cannot read" of a restore folder)
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", f"'{path}' is " + other_kind_text(
                kind, "solve", "`feederopt check` (check_result in Python) checks a solve's "
                "topology"), (str(path),), "kind",
            "`feederopt check` takes the JSON that `feederopt solve --json FILE` writes "
            "(and partition and schedule results); in Python, feederopt.read_result reads "
            "this one")])
    if "open_branches" not in data and kind == "solve":
        # a solve's result.json whose open_branches was deleted by hand: before, "its kind
        # 'solve' is none that feederopt writes", which it is
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", "the solve result has no open_branches (the "
            "topology that the check samples)", (str(path),), "open_branches",
            'leave the field as the solve wrote it, e.g. [{"id": "7", ...}]')])
    if "open_branches" not in data:
        raise unreadable(path, "not a feederopt result (no open_branches)",
                         hint="give the JSON that `feederopt solve --json FILE` writes")
    result_problems(data)
    return data


def other_kind_text(kind: str, wanted: str, checks: str) -> str:
    """Why a result of ``kind`` (a key of :data:`OTHER_KINDS`, or ``"solve"``) is not the
    ``wanted`` kind's that a function checks (``checks``: what it checks), and what checks it:
    "a `feederopt partition` result (kind 'partition'), not a solve's: check_result checks a
    solve's topology; feederopt.check_partition_result, or `feederopt check FILE`, checks
    it"."""
    wanted = wanted.replace("_", " ")
    if kind != "solve" and kind not in OTHER_KINDS:  # a dict edited by hand
        return (f"a document of kind {kind!r}, which feederopt does not write, not a "
                f"{wanted}'s: {checks}")
    command, checked_by = OTHER_KINDS.get(kind, SOLVE_KIND)
    return f"a `{command}` result (kind {kind!r}), not a {wanted}'s: {checks}; {checked_by}"


def kind_problems(data: dict[str, Any], where: str | None = None) -> None:
    """InputError when ``data`` names a ``kind`` that feederopt does not write (``"banana"``,
    a number): it is no solve result, whatever fields it has. Before (user test ut35), a
    document with ``open_branches`` was checked as a solve's whatever its kind said (exit 0).
    The known kinds are ``solve`` and :data:`OTHER_KINDS`; a document without a kind is
    left to its fields (written before the stamp: :func:`~feederopt._version.document_kind`)."""
    from feederopt._version import INFERRED_KINDS, __version__, document_kind

    kind = document_kind(data)
    if kind is None or (isinstance(kind, str) and (kind == "solve" or kind in OTHER_KINDS)):
        return
    written = [k for k in ("solve", *OTHER_KINDS) if k not in INFERRED_KINDS]
    raise InputError([Problem(
        ProblemKind.UNREADABLE_FILE, "result", f"the result's kind is {kind!r}, which feederopt "
        f"{__version__} does not write: it is not known to be a solve result, so its topology "
        "is not checked", (where,) if where else (), "kind", "give a result as a feederopt "
        "command wrote it: check takes the kinds solve, partition and schedule (the kinds "
        "feederopt writes: "
        + ", ".join(written) + ")")])


def result_problems(data: dict[str, Any], *, checkable: bool = True) -> None:
    """InputError when a result cannot be checked: ``open_branches`` is not a list of branch
    ids (or of objects with an ``id``), or (with ``checkable``) the status says the result
    holds no feasible topology (see :data:`CHECKABLE`; an infeasible result that holds its
    least-violating topology passes, :func:`holds_least_violating`). Without ``checkable``, only the
    shape: what ``feederopt.read_result`` needs to read a result back, whatever its status."""
    problems = []
    opened = data.get("open_branches")
    if not isinstance(opened, list) or not all(
        (isinstance(b, str | int) and not isinstance(b, bool))
        or (isinstance(b, dict) and isinstance(b.get("id"), str | int))
        for b in opened
    ):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "result",
                                "open_branches must be a list of branches, each with an id "
                                f"(got {type(opened).__name__})", field="open_branches",
                                hint='as `feederopt solve --json` writes: [{"id": "7", ...}]'))
    status = data.get("status")
    if checkable and data.get("has_topology") is False:
        # --method does not apply to a robust solve (its own cutting plane): its hint names
        # what shortens one (ut46_robust F4)
        robust = (isinstance(data.get("robust_summary"), dict)
                  or str(data.get("method") or "").startswith("robust"))
        problems.append(Problem(ProblemKind.INVALID_VALUE, "result",
                                f"the result (status {status!r}) holds no topology: the run "
                                "ended before it found one", field="has_topology",
                                hint="solve again with a longer --time-limit, or with fewer "
                                "--uncertain-loads or a smaller --budget (fewer extreme "
                                "points to search)" if robust else
                                "solve again with a longer --time-limit, or with "
                                "--method benders"))
    elif checkable and status is not None and status not in CHECKABLE \
            and not holds_least_violating(data):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "result",
                                f"the result has status {status!r}: it holds no feasible "
                                "topology to check"
                                + (" (and does not record that it holds its least-violating "
                                   "one: has_topology)" if status == "infeasible" else ""),
                                field="status",
                                hint="check a result whose status is one of "
                                + ", ".join(CHECKABLE) + ", or an infeasible one with "
                                "has_topology true (its least-violating topology)"))
    if problems:
        raise InputError(problems)


def open_ids(data: dict[str, Any]) -> list[str]:
    """The ids of a result's open branches (objects with an ``id``, or bare ids)."""
    return [str(b["id"]) if isinstance(b, dict) else str(b) for b in data["open_branches"]]


def _recorded_ends(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The branches whose buses the result records (its ``open_branches`` and the base
    case's, as ``feederopt solve --json`` writes them: ``{"id", "from_bus", "to_bus"}``): id
    -> (from bus, to bus). Bare ids record no buses and are left out."""
    rows = list(data.get("open_branches") or [])
    base = data.get("base")
    if isinstance(base, dict) and isinstance(base.get("open_branches"), list):
        rows += base["open_branches"]
    out: dict[str, tuple[str, str]] = {}
    for b in rows:
        if isinstance(b, dict) and b.get("id") is not None and b.get("from_bus") is not None \
                and b.get("to_bus") is not None:
            out.setdefault(str(b["id"]), (str(b["from_bus"]), str(b["to_bus"])))
    return out


def _same_source(recorded: str, given: str, digests: object) -> bool:
    """Whether the network ``given`` (a case name or path) is the ``recorded`` source of a
    result: the same name or file, or files of the same content (SHA-256) as those the
    result recorded (``digests``, its ``inputs_sha256``): a copy elsewhere."""
    from feederopt.io.digests import input_digests

    if recorded == given:
        return True
    rec, giv = Path(recorded), Path(given)
    if giv.is_absolute() and not rec.is_absolute() and rec.parts \
            and giv.parts[-len(rec.parts):] == rec.parts:
        return True  # a result that recorded a relative path, given as the path it meant
    if isinstance(digests, dict) and digests:
        now = input_digests([given])
        return bool(now) and sorted(map(str, now.values())) == sorted(map(str, digests.values()))
    return False


def network_mismatch(data: dict[str, Any], network: Network) -> Problem | None:
    """Whether ``network`` (given to :func:`check_result`, ``--case``) is not the one the
    result was solved on, as a problem naming both and the branches that differ; None when
    nothing says so.

    Two kinds of evidence: the name (the result's ``source``, else ``case``, against the
    network's ``meta`` ``source``, else ``case``; the same files by SHA-256 count as the
    same), and the branches whose buses the result records (its open branches and the base
    case's, :func:`_recorded_ends`): one that the network lacks or that joins other buses in
    it. Branches that differ are proof: the problem is an error (the check is refused). A name
    alone is not (a copy, a renamed file): the problem is a warning, which the check makes
    the first of its problems when the topology fails, and a note when it passes."""
    from feederopt.cases import IN_MEMORY_KEY

    # the name of an object in memory is no name of a file or case (ut46_pyapi t16)
    recorded = data.get("source") or (None if data.get(IN_MEMORY_KEY) is True
                                      else data.get("case"))
    given = network.meta.get("source") or network.meta.get("case")
    named = (isinstance(recorded, str) and isinstance(given, str)
             and not _same_source(recorded, str(given), data.get("inputs_sha256")))
    ends = _recorded_ends(data)
    table = network.branches
    have = {str(i): (str(f), str(t)) for i, f, t in zip(
        table["id"].to_list(), table["from_bus"].to_list(), table["to_bus"].to_list(),
        strict=True)}
    differ = []
    for (bid, (f, t)), rid in zip(ends.items(), network.resolve_branch_ids(ends),
                                  strict=True):
        if rid not in have:
            differ.append(f"branch {bid} ({f}-{t} in the result) is not in it")
        elif {f, t} != set(have[rid]):
            differ.append(f"branch {bid} joins buses {f}-{t} in the result, "
                          f"{have[rid][0]}-{have[rid][1]} in it")
    if not named and not differ:
        return None
    names = (f"the result records the source {recorded!r}, and the network given is {given!r}"
             if named else "")
    branches = (f"{len(differ)} of the {len(ends)} branches whose buses the result records "
                "differ: " + "; ".join(differ[:3]) + (" ..." if len(differ) > 3 else "")
                if differ else "")
    lead = ("the network given is not the one the result was solved on" if differ else
            "the network given may not be the one the result was solved on")
    again = (f"leave --case out (network=None in Python) to load {recorded!r} again, or "
             if isinstance(recorded, str) and recorded else "")
    return Problem(ProblemKind.INVALID_VALUE, "result",
                   f"{lead}: " + "; ".join(x for x in (names, branches) if x),
                   tuple(x for x in (recorded, given) if isinstance(x, str)), "source",
                   f"check the result against the network it was solved on: {again}give "
                   "that network with --case",
                   Severity.ERROR if differ else Severity.WARNING)


def result_source(data: dict[str, Any]) -> str:
    """What the network of a result is loaded from again: its ``source`` (an absolute path or
    a built-in case name, as ``feederopt solve`` and :func:`feederopt.solve` record it), else
    its ``case`` when that is a built-in case. A relative path, or a case name that is no
    built-in case (a result saved without its source names the folder it was read from), would
    be resolved against the current folder, where another network may bear that name: it is
    refused, with the ``--case``/``network=`` to give instead."""
    from feederopt.cases import IN_MEMORY_KEY
    from feederopt.cases.registry import has_case
    from feederopt.cases.simbench import is_simbench_name
    from feederopt.io import looks_like_path

    source = data.get("source")
    if not (isinstance(source, str) and source) and data.get(IN_MEMORY_KEY) is True:
        # a net given as an object: its name is no case to load (pandapower's case33bw() is
        # named 'case33bw', another network than the built-in case33bw; ut46_pyapi t16)
        case = data.get("case")
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result",
            "the result records no source: it was solved on a network given as an object in "
            f"memory (a pandapower net or a Network{f' named {case!r}' if case else ''}), "
            "which no name loads again", field="source",
            hint="give the network it was solved on: network= in Python (the same object, or "
            "feederopt.load of its file), --case PATH on the command line")])
    named = source if isinstance(source, str) and source else data.get("case")
    if not isinstance(named, str) or not named:
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "result",
                                  "the result names no case or source", field="source",
                                  hint="give the network with --case (network= in Python)")])
    if Path(named).is_absolute() or is_simbench_name(named) or (
            not looks_like_path(named) and has_case(named)):
        return named
    what = "source" if named == source else "case (it records no source)"
    raise InputError([Problem(
        ProblemKind.INVALID_VALUE, "result",
        f"the result's {what} '{named}' is neither an absolute path nor a built-in case: it "
        "would be looked up in the current folder, which may hold another network of that "
        "name", ids=(named,), field="source",
        hint="give the network it was solved on with --case PATH (network= in Python)")])


def result_network(data: dict[str, Any]) -> tuple[Network, list[str]]:
    """The network of the solve result ``data`` read again from its ``source`` (else its
    ``case``), with the tie rule it was solved with (a pandapower file read with
    ``ties=...``), and the notes of the check: refused when its files changed since the solve
    (their SHA-256 against the result's ``inputs_sha256``; :mod:`feederopt.io.digests`), as a
    schedule's; a result without hashes gets a note."""
    from feederopt.cases import load, reread_tie_rule

    source = result_source(data)
    changed = input_change_problems(data.get("inputs_sha256"), [source],
                                    made="the solve", field="inputs_sha256")
    if any(p.is_error for p in changed):
        raise InputError([p for p in changed if p.is_error])
    return (load(source, ties=reread_tie_rule(data.get("ties"), source)),
            [str(p) for p in changed])


def with_result_devices(network: Network, data: dict[str, Any]) -> Network:
    """``network`` at the device settings of the result ``data`` (its ``devices``: bank
    steps, transformer OLTC ratios, source set-points, generator commitment and dispatch,
    load reductions; :meth:`~feederopt.network.device_settings.DeviceSettings.from_devices`),
    written by the one writer the solve's AC check uses
    (:func:`~feederopt.network.device_settings.with_settings`), so that both the convex model
    and the AC power flow of every sample hold the devices at the result's settings: a check
    of the decision, not of the data's settings nor a re-optimisation. ``network`` itself
    when the result sets no device. Before (user test ut40_dopfreal), the samples of a DOPF
    result ran at the data's tap 0 and bank step 0: 20 of 20 broke v_min where the result,
    at tap_pos -4 and step 3, holds 1.000-1.045 p.u."""
    settings = DeviceSettings.from_devices(data.get("devices"))
    if settings.empty:
        return network
    unknown = _unknown_devices(network, settings)
    if unknown:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", "the result sets devices that the network "
            "does not have", ids=tuple(unknown), field="devices",
            hint="check the result against the network it was solved on")])
    return with_settings(network, settings)


def _unknown_devices(network: Network, settings: DeviceSettings) -> list[str]:
    """The ids of ``settings`` that ``network``'s tables lack."""
    def ids(df: pl.DataFrame) -> set[str]:
        return set(df["id"].cast(pl.String).to_list()) if "id" in df.columns else set()

    out = [k for k in settings.cap_steps if k not in ids(network.shunts)]
    out += [k for k in settings.branch_tap if k not in ids(network.branches)]
    out += [k for k in settings.source_v_set if k not in ids(network.buses)]
    out += [k for k in settings.gen_dispatch if k not in ids(network.generators)]
    out += [k for k in settings.load_reduction if k not in ids(network.loads)]
    return out


def uncertain_load_list_problems(data: dict[str, Any], uncertain_loads: Sequence[str] | None,
                                 network: Network | None = None) -> list[Problem]:
    """For a check that other problems stop (its options): the problems of
    ``uncertain_loads`` against the network of the result ``data`` (``network``, else the one
    read again from its source, :func:`result_network`): a load it lacks, a load named twice
    (:func:`resolve_loads`), so that ``feederopt check`` names them with the options' in one
    run (before, only on the next); the network's own problems when it cannot be read."""
    if uncertain_loads is None:
        return []
    try:
        if network is None:
            network, _ = result_network(data)
        resolve_loads(to_per_unit(network), uncertain_loads)
    except InputError as e:
        return list(e.problems)
    return []


def check_network(data: dict[str, Any], network: Any) -> Network | None:
    """The ``network=`` of :func:`check_result` as a Network: None and a Network as they are;
    anything :func:`feederopt.load` accepts (a pandapower net, a case name, a path) loaded by
    it, a pandapower net or ``.json`` file with the tie rule the result records
    (:func:`~feederopt.cases.reread_tie_rule`); anything else an :class:`InputError` naming
    ``network``. Before (user test ut46_pyapi t17), a pandapower net raised ``AttributeError:
    'pandapowerNet' instance has no attribute 'meta'`` and ``network=5`` another."""
    from feederopt.cases import load, reread_tie_rule
    from feederopt.io import is_pandapower_net

    if network is None or isinstance(network, Network):
        return network
    if is_pandapower_net(network) or isinstance(network, str | os.PathLike):
        source = network if is_pandapower_net(network) else os.fspath(network)
        return load(source, ties=reread_tie_rule(data.get("ties"), source))
    raise InputError([table_problem(network, "network", "a network (a feederopt Network, a "
                                    "pandapower net, a built-in case name or the path of a "
                                    "network file or folder)",
                                    hint="give the network the result was solved on, e.g. "
                                    "network=feederopt.load(...), or leave it out to load the "
                                    "result's source again")])


@option_names(VOLTAGE_LIMITS)
@interrupt.handle_signals("the counts of the samples done so far are")
def check_result(
    result: dict[str, Any] | str | Path,
    samples: int = DEFAULT_SAMPLES,
    uncertainty: float | None = None,
    seed: int = 0,
    network: Any = None,
    uncertain_loads: Sequence[str] | None = None,
    ac: bool = True,
    progress: ProgressCallback | None = None,
    *,
    v_min: float | None = None,
    v_max: float | None = None,
    max_loading_percent: float | None = None,
    source_vm: float | dict[str, float] | str | None = None,
    growth_margin_of: str | None = None,
) -> MonteCarloResult:
    """:func:`out_of_sample` for the topology of a result (a Result, a dict or a JSON path), as
    ``feederopt check``: ``samples`` (default 1000, as ``--samples``) uniform draws of the
    loads in nominal +- ``uncertainty``. The box (:func:`check_box`) defaults to the one a
    robust result was solved for: ``uncertainty=None`` is its uncertainty and
    ``uncertain_loads=None`` its uncertain loads (another box is checked with a note in the
    answer's ``notes``); for any other result ``uncertain_loads=None`` is every load and
    ``uncertainty`` is required (an :class:`InputError` on ``uncertainty`` without it). The
    network is ``network`` or is loaded from the result's ``source`` (else its ``case``), a
    pandapower file with the tie rule the result records (its ``ties``: ``feederopt.load(...,
    ties=...)``, ``--ties``); the limits are those the solve used (the result's ``limits``),
    each replaced by ``v_min``, ``v_max`` or ``max_loading_percent`` when given
    (:func:`result_limits`), else the network's own; the answer's ``limits`` says which
    replaced the network's. ``progress`` gets a :class:`~feederopt.solvers.status.SampleRecord`
    after each sample (feasible: in the convex model). A network loaded from the result's
    ``source`` whose files changed since the solve (their SHA-256 against the result's
    ``inputs_sha256``) is refused with a typed problem naming them; a result that records no
    hashes gets a warning in the answer's ``notes``
    (:func:`~feederopt.io.digests.input_change_problems`). An infeasible result that holds its
    least-violating topology (:func:`holds_least_violating`) is checked too: the answer's
    ``least_violating`` is True and its first note says that the topology breaks the limits
    (:data:`LEAST_VIOLATING_NOTE`); one without a topology is refused.

    The source voltage (:func:`check_source_voltages`; the answer's ``source_voltage`` says
    which): ``source_vm`` [p.u.] when given (``--source-vm``, 0.8 - 1.2): one voltage at every
    source bus, or one per source bus (a mapping bus id -> p.u., or ``"BUS=VM,BUS=VM"``; the
    sources not named at their set-points); else, for a robust result solved with a source
    band (``robust_summary.source_vm_band_pu``), each sample at one of the band's corners
    (every source at an end), drawn with equal weights, and each corner at each of them;
    else, for a scenario result whose scenario file set source voltages (``source`` rows),
    each sample at the source voltages of one of its scenarios, drawn by their weights, and
    each corner at each of them; else the network's own set-points.

    ``growth_margin_of`` (``"load"`` or ``"generation"``, ``--growth-margin``): the answer's
    ``growth_margin`` also gives the largest uniform factor of every load (or of every
    generating unit of fixed output) that the topology withstands in AC at the network's
    nominal loads, and the limit that breaks first beyond it (:func:`growth_margin`)."""
    check_not_forked("feederopt.check_result")
    from feederopt._version import document_kind

    if type(result).__module__.startswith("feederopt.") and callable(
            getattr(result, "to_dict", None)):
        # the Result that feederopt.solve returned, as its document: it was refused as "not a
        # feederopt Result" by a message asking for a result (user test ut41_pyapi)
        result = result.to_dict()  # type: ignore[union-attr]
    if not isinstance(result, dict | str | os.PathLike):  # named by type, never by value
        raise InputError([table_problem(result, "result", "a result (a Result, its "
                                        "to_dict(), a dict as json.load gives it) or the path "
                                        "of a result file")])
    if isinstance(result, dict):
        data = result
        kind_problems(data)  # a kind that feederopt does not write (ut35 errs 4)
        kind = document_kind(data)
        if kind in OTHER_KINDS:  # as read_result_to_check refuses its file (ut35)
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", "the result (result) is " + other_kind_text(
                    kind, "solve", "check_result checks a solve's topology"), field="result",
                hint="give what feederopt.solve returned, as its to_dict(), or the path of its "
                "JSON file or result folder")])
    else:
        data = read_result_to_check(result)
    result_problems(data)
    box = check_box(data, uncertainty, uncertain_loads)
    # every problem at once: the options' and a scenario file gone or changed (ut50_scen #5)
    problems = check_option_problems(samples, box.uncertainty)
    given = Limits(v_min=v_min, v_max=v_max, max_loading_percent=max_loading_percent)
    # the values, as `solve` checks them
    problems += SolveOptions(limits=given, validate=False).check()
    problems += [p for p in [source_vm_problem(source_vm)] if p is not None]
    if growth_margin_of is not None and growth_margin_of not in GROWTH_OF:
        ref = option_ref("growth_margin_of", cli="--growth-margin")
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"{ref} must be one of {', '.join(GROWTH_OF)}",
                                field="growth_margin_of", hint="e.g. load"))
    if problems:
        raise InputError(problems + result_scenario_file_problems(data))
    notes: list[str] = []
    network = check_network(data, network)
    # a network given by the caller (--case): the one the result was solved on? (user test
    # ut35: case33bw's result on case69bw said "not radial: the closed branches form a loop")
    other = None if network is None else network_mismatch(data, network)
    if network is None:
        network, notes = result_network(data)
    network = with_result_devices(network, data)
    pu = to_per_unit(network)
    found: list[Problem] = []
    try:
        closed = closed_from_open(pu, open_ids(data))
    except InputError as err:  # open ids the network lacks: after the mismatch, if any
        found = list(err.problems)
    else:
        not_radial = radiality_problem(pu.bus_ids, pu.branch_ids, pu.f, pu.t, closed,
                                       pu.is_source)
        if not_radial is not None:
            found.append(replace(not_radial, component="result",
                                 message="the result's topology is not radial: "
                                 + not_radial.message,
                                 hint=not_radial.hint + ", or check the result against the "
                                 "network it was solved on"))
    if other is not None and (found or other.is_error):
        # what explains the rest comes first: another network, not a bad topology
        raise InputError([replace(other, severity=Severity.ERROR), *found])
    if found:
        raise InputError(found)
    if other is not None:  # another name, the same branches: checked, and said so
        notes.append(str(other))
    if growth_margin_of == "generation" and fixed_output_units(network).height == 0:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "options",
            f"{option_ref('growth_margin_of', 'generation', cli='--growth-margin generation')} "
            "scales the network's generating units of fixed output (sgens): the "
            "network has none", field="growth_margin_of",
            hint="scale the loads (load), or add the PV as sgens")])
    sources = check_source_voltages(data, network, source_vm)
    outside = source_band_note(data, network, sources)
    if outside is not None:
        notes.append(outside)
    scen = scenario_loads(data, network, sources)
    if scen is None and data.get("scenarios"):
        notes.append("the result's scenarios were given as a table in memory (no scenario "
                     "file recorded): the samples are drawn around the network's nominal "
                     "loads, without the scenarios' loads and DER")
    if scen is not None and not isinstance(data.get("scenarios_sha256"), str):
        notes.append(f"the result records no hash of its scenario file {scen.file} (written "
                     "by an older feederopt): check cannot verify that it is unchanged since "
                     "the solve, and reads it as it is now")
    hook = sample_progress(progress, "feasible in the convex model", samples)
    notes.extend(box.notes)
    mc = out_of_sample(network, closed, box.uncertainty, samples, seed, box.uncertain_loads, ac,
                       progress=hook, budget=box.budget,
                       limits=result_limits(data, v_min=v_min, v_max=v_max,
                                            max_loading_percent=max_loading_percent),
                       sources=sources, scenarios=scen, margin_of=growth_margin_of)
    if holds_least_violating(data):  # said first: the shares are no plan's (ut39_uncert #1)
        fallback = bool(data.get("base_fallback"))
        only = only_topology_evaluated_in(data)
        notes.insert(0, least_violating_note(str(data.get("status")), fallback, only))
        mc.least_violating = True
        mc.base_fallback = fallback
        mc.only_evaluated = only
    mc.notes = notes
    return mc
