"""The algorithm base class: it owns the bounds, the gap, the iteration log and the stopping rules.

After Pyomo's GDPopt, whose algorithm base class keeps the primal and dual bounds and the
iteration log for every strategy. Subclasses only report bounds (:meth:`update_upper`,
:meth:`update_lower`) and ask :meth:`should_stop`; the base class decides the status.

Stopping rules: the gap, the time limit, the iteration limit, and a stop request (Ctrl-C or
SIGTERM, :mod:`feederopt.solvers.interrupt`). A stop request makes :meth:`remaining` zero, so
that everything that budgets its time by it stops too; the status is then ``interrupted`` (unless
the gap was proven before). :class:`Deadline` is the same test for code without an algorithm
object (the start heuristics), :func:`stopped_status` the status of a single solver call stopped
early (the monolithic methods).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from feederopt.solvers import interrupt
from feederopt.solvers.status import (
    LOSS_PHASE,
    VIOLATION_PHASE,
    IterationRecord,
    PhaseRecord,
    ProgressEvent,
    SampleRecord,
    Status,
)

if TYPE_CHECKING:
    from feederopt.algorithms.outcomes import RobustOutcome, StochasticOutcome

#: The progress callback of a long run (``feederopt.solve``, ``schedule``, ``partition``,
#: ``plan``, the checks), called in the caller's thread: each iteration's
#: :class:`IterationRecord`, a :class:`PhaseRecord` when a phase starts, a
#: :class:`SampleRecord` after each sample of a check. The CLI shows them as a progress bar.
ProgressCallback = Callable[[ProgressEvent], None]

#: The hook of a sampling loop, called after each sample with (samples done, feasible so far);
#: :func:`sample_progress` turns it into :class:`SampleRecord` events.
SampleCallback = Callable[[int, int], None]


def sample_progress(progress: ProgressCallback | None, what: str, total: int
                    ) -> SampleCallback | None:
    """The sampling hook that reports ``SampleRecord(what, done, total, ok)`` to ``progress``
    (None without one)."""
    if progress is None:
        return None
    report = progress

    def hook(done: int, ok: int) -> None:
        report(SampleRecord(what, int(done), total, int(ok)))

    return hook


def report_phase(progress: ProgressCallback | None, phase: str, iteration: int = 0,
                 elapsed_s: float = 0.0) -> None:
    """Tell ``progress`` (if any) that ``phase`` starts."""
    if progress is not None:
        progress(PhaseRecord(phase, iteration, elapsed_s))


class NegativeGapError(RuntimeError):
    """The lower bound exceeded the upper bound beyond numerical tolerance: a bug, never data."""


def stopped_status(solver_status: str | None = None) -> Status:
    """The status of a run that a limit stopped before its proof: ``interrupted`` when the
    solver call says it was (``solver_status``, its own status: HiGHS and SCIP report
    ``interrupted`` only after a stop request, their overrun guard gives ``time_limit``) or
    after a stop request, else ``time_limit``.

    The solver's own status decides first: it is what stopped the run, whatever the flag says
    afterwards (a :func:`~feederopt.solvers.interrupt.shielded` evaluation reads it as False),
    so that the status cannot turn into ``time_limit`` or ``feasible`` after a Ctrl-C."""
    if solver_status == Status.INTERRUPTED.value or interrupt.requested():
        return Status.INTERRUPTED
    return Status.TIME_LIMIT


def stop_cause(limit: str = "the time limit", stopped: str = "the stop request") -> str:
    """What ended a step that its time ran out on, in a note's words: ``limit`` (``time
    limit``, ``within the time left``) or, after a stop request (Ctrl-C, SIGTERM), ``stopped``
    (``interrupted``, ``before the stop request``). The
    request makes the time left zero (:meth:`AlgorithmBase.remaining`, :class:`Deadline`), so
    every step that a time limit ends ends on it too, and its note has to say which. Before
    (user test ut41_cli #6) a schedule stopped by Ctrl-C (exit 130, status ``interrupted``)
    noted "time limit in the lazy storage-mode loop" though no limit was reached."""
    return stopped if interrupt.requested() else limit


def interrupted_label(status: str) -> str:
    """The status of a run of ``partition``, ``schedule``, ``plan`` or ``restore`` as reported:
    after a stop request (Ctrl-C, SIGTERM) every status but a proof made before it (``optimal``,
    ``infeasible``) is ``interrupted``. Why: a solver stopped by the request ends with a status
    of its own (HiGHS ``interrupted``, a sub-solve's ``error``, a limit's ``time_limit``) that
    the algorithms read as a time limit or an error; the incumbent, bound and gap they report
    are the same either way, and the status says why the run stopped (as ``solve`` does,
    :func:`stopped_status`)."""
    if interrupt.requested() and status not in ("optimal", "infeasible"):
        return Status.INTERRUPTED.value
    return status


#: Topologies evaluated per round of a sweep (:func:`sweep_topologies`).
SWEEP_CHUNK = 32


@dataclass(frozen=True)
class Sweep:
    """What :func:`sweep_topologies` found at one realisation: whether some topology
    ``held`` it (needed no slack), whether every topology was evaluated (``decided``), and
    the least violating result seen (``best``, None when none was)."""

    held: bool
    decided: bool
    best: Any = None


def sweep_topologies(trees: Sequence[Any], evaluate: Callable[[Any], list[Any] | None],
                     holds: Callable[[Any], bool], stop: Callable[[], bool],
                     chunk: int = SWEEP_CHUNK) -> Sweep:
    """Every topology of ``trees`` evaluated at one realisation (a scenario, an extreme
    point), ``chunk`` at a time (``evaluate(part)``: their results, or None when a stop or a
    failure cuts the sweep short), until one ``holds`` (needs no slack), ``stop()`` asks to
    end (the clock, a stop request) or all were evaluated: an enumeration proof that no
    radial topology serves the realisation when ``decided`` and not ``held`` (the SOCP
    relaxes the AC equations). One sweep for the scenario runs' proof
    (:meth:`~feederopt.algorithms.stochastic.StochasticBenders`) and the robust runs'
    unsupplied extreme points (:mod:`~feederopt.algorithms.robust`); results have a
    ``violation``."""
    best = None
    decided = False
    for j in range(0, len(trees), chunk):
        if stop():
            break
        got = evaluate(trees[j:j + chunk])
        if got is None:
            break
        if any(holds(r) for r in got):
            return Sweep(True, False, best)
        for r in got:
            if best is None or r.violation < best.violation:
                best = r
        decided = j + chunk >= len(trees)
    return Sweep(False, decided, best)


class OutOfTime(Exception):
    """A solver call reached the run's deadline without an answer: the phase that made it stops,
    and the run reports what it has (incumbent, bound, gap) with status ``time_limit``."""


class Deadline:
    """``seconds`` from now, cut short by a stop request."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        """Seconds left (0 after a stop request)."""
        return 0.0 if interrupt.requested() else self.end - time.perf_counter()

    def expired(self) -> bool:
        return self.left() <= 0.0


@dataclass(frozen=True)
class StopOptions:
    gap: float = 1e-4  # relative
    time_limit_s: float = 600.0
    iteration_limit: int = 10_000


@dataclass(frozen=True)
class ViolatingCandidate:
    """A radial topology that a least-violating search met, for the AC choice among them
    (:func:`feederopt.validation.ac_least.least_violating_in_ac`): ``y`` (closed per branch of
    the problem), the relaxation's total slack ``violation`` [p.u.] and the losses of its
    power flow ``losses_kw`` (inf when not computed: it violates more than the least found),
    and its phase-1 ``evaluation`` (point, violated limits) when the search has it (None: a
    topology of the second stage, whose point minimises losses within the slack budget).
    Under load uncertainty ``violation`` and ``losses_kw`` aggregate the realisations (the
    robust cutting plane: the largest slack over the extreme points and the worst-case
    losses, ``evaluation`` its ``(extreme points, slave results)``; the stochastic method:
    the expected slack and losses, ``evaluation`` its slave result per scenario)."""

    y: np.ndarray
    violation: float
    losses_kw: float
    evaluation: Any = None


@dataclass
class RawSolution:
    """What an algorithm hands to the result layer (per-unit, indices, not yet user ids)."""

    status: Status
    method: str
    y: np.ndarray | None  # closed (1) / open (0) per in-service branch
    objective: float  # [kW-equivalent]
    lower_bound: float
    gap: float
    iterations: int
    solve_time_s: float
    point: dict[str, np.ndarray] = field(default_factory=dict)
    log: list[IterationRecord] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    diagnosis: list[Any] = field(default_factory=list)
    solver: str = ""
    #: Flat solver diagnostics (``solver_status``, ``milp_status``, ``total_violation_pu``,
    #: SCIP statistics), merged as they are into the result's JSON.
    extra: dict[str, Any] = field(default_factory=dict)
    #: The typed outcome of an uncertain method (:mod:`feederopt.algorithms.outcomes`).
    outcome: StochasticOutcome | RobustOutcome | None = None
    #: False when ``y`` breaks a limit: no radial topology meets them (status ``infeasible``)
    #: or none that does was found before a limit (``time_limit``, ``interrupted``); ``y`` is
    #: then the least-violating topology seen and ``diagnosis`` its violated limits. Also
    #: False when ``y`` is None (no topology at all; the result layer treats it so anyway).
    within_limits: bool = True
    #: A least-violating answer's candidate topologies (``within_limits`` False): the answer
    #: first, then the best others the search met by the relaxation's rank (total slack, then
    #: losses), at most :data:`~feederopt.algorithms.least_violating.AC_CANDIDATES` in all,
    #: of which the AC check's power flow picks the least violating in AC (the API). The
    #: robust and stochastic methods' rank aggregates their realisations
    #: (:class:`ViolatingCandidate`).
    candidates: list[ViolatingCandidate] = field(default_factory=list)
    #: An answer within the limits in the model (``within_limits`` True): the answer first,
    #: then the best other topologies the search evaluated within the limits, by the model's
    #: objective [kW-equivalent] (in ``losses_kw``; ``violation`` 0; ``evaluation`` the
    #: slave's), at most :data:`~feederopt.algorithms.least_violating.WITHIN_CANDIDATES`: the
    #: rivals the API judges by the AC power flow when the answer's breaks the limits (the
    #: SOCP relaxation not exact; Gan, Li, Topcu & Low, IEEE TAC 60(1), 2015). Only the
    #: nominal Benders methods fill it.
    alternatives: list[ViolatingCandidate] = field(default_factory=list)


class AlgorithmBase:
    """Bounds, gap, log and stopping criteria of an iterative method (minimisation)."""

    #: Relative slack within which a lower bound above the upper bound is rounding, not a bug.
    bound_tolerance = 1e-6

    def __init__(self, stop: StopOptions, progress: ProgressCallback | None = None) -> None:
        self.stop = stop
        self.progress = progress
        self.lower = -math.inf
        self.upper = math.inf
        self.log: list[IterationRecord] = []
        #: The phase the bounds belong to (:data:`LOSS_PHASE`, :data:`VIOLATION_PHASE` or
        #: :data:`~feederopt.solvers.status.TIE_PHASE`, whose bounds are in kW as the first's).
        self.log_phase = LOSS_PHASE
        self.t0 = time.perf_counter()
        self.iteration = 0

    # ----- bounds -----------------------------------------------------------------------
    def update_upper(self, value: float) -> bool:
        """Offer a feasible objective value; True when it improves the incumbent by more than
        :data:`INCUMBENT_NOISE_KW` (a tie keeps the first found: the base case, evaluated
        first, on a feeder without load, not a heuristic's topology 1e-12 kW 'better')."""
        if value < self.upper - (INCUMBENT_NOISE_KW if math.isfinite(self.upper) else 0.0):
            self.upper = value
            self._check()
            return True
        return False

    def update_lower(self, value: float) -> None:
        """Offer a proven lower bound (bounds only ever tighten)."""
        if value > self.lower:
            self.lower = value
            self._check()

    def _check(self) -> None:
        if self.lower > self.upper:
            scale = max(abs(self.upper), 1.0)
            if self.lower - self.upper <= self.bound_tolerance * scale:
                self.lower = self.upper
            else:
                raise NegativeGapError(
                    f"lower bound {self.lower!r} above upper bound {self.upper!r}"
                )

    @property
    def gap(self) -> float:
        """Relative gap :func:`relative_gap` ``(UB - LB) / max(|UB|, GAP_FLOOR_KW)``; inf
        without incumbent."""
        return relative_gap(self.upper, self.lower)

    # ----- stopping and logging ---------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def remaining(self) -> float:
        """Seconds left of the time limit (0 after a stop request)."""
        if self.interrupted():
            return 0.0
        return self.stop.time_limit_s - self.elapsed

    def converged(self) -> bool:
        return self.gap <= self.stop.gap

    @staticmethod
    def interrupted() -> bool:
        """Whether a stop was requested (Ctrl-C, SIGTERM)."""
        return interrupt.requested()

    def should_stop(self) -> bool:
        return (
            self.converged()
            or self.interrupted()
            or self.elapsed >= self.stop.time_limit_s
            or self.iteration >= self.stop.iteration_limit
        )

    def record(self, master_s: float = 0.0, slave_s: float = 0.0, note: str = "") -> None:
        """Log the bounds now, in the columns of :attr:`log_phase` (the violation phase's are
        total slack in p.u., never in the kW columns)."""
        if self.log_phase == VIOLATION_PHASE:
            rec = IterationRecord(self.iteration, math.nan, math.nan, self.gap, self.elapsed,
                                  master_s, slave_s, note, VIOLATION_PHASE, self.lower,
                                  self.upper)
        else:
            rec = IterationRecord(self.iteration, self.lower, self.upper, self.gap,
                                  self.elapsed, master_s, slave_s, note, self.log_phase)
        self.log.append(rec)
        if self.progress is not None:
            self.progress(rec)

    def record_if_moved(self, note: str, master_s: float = 0.0, slave_s: float = 0.0) -> bool:
        """:meth:`record` a row when a bound moved since the last row; True if it did.

        For the steps outside the main loop that tighten a bound (probing, a bound proven
        before or after the loop) and for the end of a run: ``note`` names what moved it, and
        the log's last row is then the run's final bounds and gap (a proven-optimal run showed
        the 11.9 % gap of its start row while probing had closed it). Nothing is recorded for a
        run with no row yet and no finite bound."""
        last = self.log[-1] if self.log else None
        if last is None:
            if not (math.isfinite(self.lower) or math.isfinite(self.upper)):
                return False
        elif last.phase == self.log_phase and last.bounds == (self.lower, self.upper):
            return False
        self.record(master_s, slave_s, note)
        return True

    def phase(self, text: str) -> None:
        """Report that the phase ``text`` of the current iteration starts (progress only, not
        logged)."""
        report_phase(self.progress, text, self.iteration, self.elapsed)

    def final_status(self, has_incumbent: bool) -> Status:
        """The status implied by the bounds and the stopping reason."""
        if has_incumbent and self.converged():
            return Status.OPTIMAL
        if self.interrupted() or self.elapsed >= self.stop.time_limit_s:
            return stopped_status()
        return Status.FEASIBLE if has_incumbent else Status.ERROR


#: Groups of a solution point with one entry per branch (zero on an open branch).
#: The least objective [kW] a relative gap is taken of: below it, ``(UB - LB) / UB`` measures
#: the conic solver's noise, not a gap (a feeder without load: objective 8.6e-12 kW, bound 0,
#: "gap 0.8627 %" and status feasible after 14 iterations; user test ut48_iobad #5). One
#: milliwatt is far below any feeder's losses and far above the solvers' tolerances.
GAP_FLOOR_KW = 1e-6


#: The least improvement [kW] that replaces an incumbent: below it two objectives are the
#: conic solver's noise apart (a microwatt), and the one found first stays.
INCUMBENT_NOISE_KW = 1e-9


def relative_gap(upper: float, lower: float) -> float:
    """``(UB - LB) / max(|UB|, GAP_FLOOR_KW)``, 0 when ``UB - LB <= GAP_FLOOR_KW``
    (:data:`GAP_FLOOR_KW`: both bounds the same objective within the solvers' noise); inf
    when either bound is not finite."""
    if not (math.isfinite(upper) and math.isfinite(lower)):
        return math.inf
    diff = upper - lower
    return 0.0 if diff <= GAP_FLOOR_KW else diff / max(abs(upper), GAP_FLOOR_KW)


BRANCH_GROUPS = ("y", "P", "Q", "l", "w")


def on_all_branches(raw: RawSolution, keep: np.ndarray, n_branch: int) -> RawSolution:
    """``raw``, solved on the branches ``keep`` of a network with ``n_branch`` branches, on all
    of them: the others (fixed open, :func:`feederopt.problems.presolve.without_fixed_open`)
    open and carrying nothing; violations re-indexed."""
    if len(keep) == n_branch:
        return raw

    def spread(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n_branch)
        out[keep] = values
        return out

    point = {name: spread(v) if name in BRANCH_GROUPS and len(v) == len(keep) else v
             for name, v in raw.point.items()}
    diagnosis = [replace(d, index=int(keep[d.index])) if getattr(d, "component", "") ==
                 "branches" else d for d in raw.diagnosis]
    return replace(raw, y=None if raw.y is None else spread(raw.y), point=point,
                   diagnosis=diagnosis)
