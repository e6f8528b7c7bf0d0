"""The least-violating answer of a search that finds nothing within the limits: how two
answers compare, the window each stage of the search gets, and the losses that break a tie.

When no radial topology (or setting) meets the limits, the reconfiguration (Benders), the
robust cutting plane and the DOPF report the least-violating one, lexicographically
(violation first, losses second):

    min_y  phi(y)                                                   stage 1
    min_y  losses(y)  s.t.  phi(y) <= phi* + tol(phi*)              stage 2

with ``phi`` the phase-1 total slack [p.u.] (the robust method's: its largest over the
extreme points), ``phi*`` the least found and ``tol`` :func:`violation_tol` (the slave's
slack carries its solver's noise, so topologies with the same violated limit differ in the
last digits). Each method searches both stages its own way; what they share is here:
:class:`ViolationRank` (the order), :func:`stage_stop` (each stage within
``diagnosis_time_s`` and ``diagnosis_iterations``, never past the run's own time limit),
:func:`flow_losses_kw` (the losses of a topology's power flow, the tie-break's measure) and
:class:`CandidatePool` (the best topologies met, by the same order, of which the API keeps the
one that violates the limits least in the AC power flow, not in the relaxation:
:func:`feederopt.validation.ac_least.least_violating_in_ac`; Benders', the robust cutting
plane's and the stochastic method's, whose order is the expected slack, then the expected
losses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from feederopt.algorithms.base import StopOptions, ViolatingCandidate
from feederopt.algorithms.heuristics import sweep_decides
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import components_of, is_radial_forest
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.problems.sweep import sweep

#: Two phase-1 violations [p.u.] within this share of each other (or VIOLATION_ABS_TOL) are
#: the same to the least-violating topology's choice, which then goes to the losses.
VIOLATION_REL_TOL = 1e-3
VIOLATION_ABS_TOL = 1e-6

#: The most candidate topologies (the answer included) whose AC power flows decide a
#: least-violating answer (:class:`CandidatePool`).
AC_CANDIDATES = 10

#: The most radial neighbours of the base case (:func:`base_neighbours`) offered to the AC
#: choice beside the search's candidates.
BASE_NEIGHBOURS = 30

#: The most topologies within the limits in the model kept as the rivals of an answer that
#: the model holds within the limits but whose AC power flow breaks them (the nominal
#: Benders' :attr:`~feederopt.algorithms.base.RawSolution.alternatives`, the stochastic
#: method's :meth:`~feederopt.algorithms.stochastic.StochasticBenders.alternatives`): the AC
#: choice judges them while its time budget lasts.
WITHIN_CANDIDATES = 60


def violation_tol(held: float) -> float:
    """The tolerance of stage 2's slack budget ``phi* + tol`` and of a tie: ``max(1e-6,
    1e-3 |phi*|)`` [p.u.] (0 when ``phi*`` is not finite)."""
    return max(VIOLATION_ABS_TOL, VIOLATION_REL_TOL * abs(held)) if math.isfinite(held) else 0.0


@dataclass(frozen=True)
class ViolationRank:
    """The lexicographic key of a least-violating candidate: total slack [p.u.], then losses
    [kW] (``inf`` when unknown)."""

    violation: float
    losses_kw: float

    def ties(self, held: ViolationRank) -> bool:
        """Equal violation within :func:`violation_tol` of ``held``'s."""
        return abs(self.violation - held.violation) <= violation_tol(held.violation)

    def replaces(self, held: ViolationRank | None) -> ViolationRank | None:
        """The rank to keep if this candidate beats ``held`` (less violation beyond the
        tolerance, or a tie with less losses), else None. A tie keeps the least slack seen,
        so that a chain of ties cannot drift upwards by the tolerance each time."""
        violation = self.violation if math.isfinite(self.violation) else math.inf
        if held is None:
            return ViolationRank(violation, self.losses_kw)
        tol = violation_tol(held.violation)
        if violation > held.violation + tol:
            return None
        if violation >= held.violation - tol:  # a tie: the losses decide
            if not self.losses_kw < held.losses_kw:
                return None
            violation = min(violation, held.violation)
        return ViolationRank(violation, self.losses_kw)


def stage_stop(stop: StopOptions, time_limit_s: float, elapsed: float, iteration: int,
               seconds: float, iterations: int) -> StopOptions:
    """``stop`` for one stage of the search: until ``elapsed + seconds`` but never past the
    run's ``time_limit_s``, and ``iterations`` more master iterations than ``iteration``."""
    return replace(stop, time_limit_s=min(time_limit_s, elapsed + seconds),
                   iteration_limit=iteration + iterations)


def flow_losses_kw(problem: ReconfigurationProblem, y: np.ndarray,
                   point: dict[str, np.ndarray] | None, pu: PerUnitNetwork | None = None
                   ) -> float:
    """The losses [kW] of topology ``y``'s power flow on ``pu`` (default the problem's; a
    robust extreme point's loads, :meth:`PerUnitNetwork.with_loads`): the exact DistFlow
    power flow of the tree at the generators' set-points
    (:func:`~feederopt.problems.sweep.sweep`), which the AC check reproduces when the model is
    exact, not the phase-1 slave's, whose point minimises slack and whose relaxation can be
    far from exact (case16ci: 827.7 kW kept against 440.4 kW of an equally violating
    topology, ut_research #3). Where the sweep does not decide (DG to dispatch, source
    limits) or does not converge, the losses at ``point`` (the slave's); inf if neither."""
    pu = problem.pu if pu is None else pu
    if sweep_decides(pu):
        flow = sweep(pu, np.asarray(y) > 0.5)
        if flow is not None and flow.converged:
            return problem.losses_kw(flow.point(pu))
    losses = problem.losses_kw(point) if point else math.nan
    return losses if math.isfinite(losses) else math.inf


def topology_key(y: np.ndarray) -> bytes:
    """The topology ``y`` (closed per branch) as a key: rounded to 0/1."""
    return np.round(np.asarray(y, float)).astype(np.int8).tobytes()


class CandidatePool:
    """The best ``size`` distinct topologies a least-violating search met, by the
    relaxation's order (total slack, then losses, then the topology itself, so that the
    choice does not depend on the order they came in): the candidates of the AC choice
    (:attr:`feederopt.algorithms.base.RawSolution.candidates`). Top ``size`` of a stream:
    a topology dropped is beaten by ``size`` kept ones and never comes back."""

    def __init__(self, size: int = AC_CANDIDATES) -> None:
        self.size = size
        self._kept: dict[bytes, ViolatingCandidate] = {}

    def __len__(self) -> int:
        return len(self._kept)

    @staticmethod
    def _order(key: bytes, c: ViolatingCandidate) -> tuple[float, float, bytes]:
        v = c.violation if math.isfinite(c.violation) else math.inf
        return (v, c.losses_kw if math.isfinite(c.losses_kw) else math.inf, key)

    def offer(self, y: np.ndarray, violation: float, losses_kw: float = math.inf,
              evaluation: object | None = None) -> None:
        """Keep topology ``y`` if it is among the best ``size`` so far; a topology met again
        keeps its least violation and losses and gains a phase-1 ``evaluation``."""
        if self.size <= 0 or not math.isfinite(violation):
            return
        key = topology_key(y)
        old = self._kept.get(key)
        if old is not None:
            violation = min(violation, old.violation)
            losses_kw = min(losses_kw, old.losses_kw)
            evaluation = old.evaluation if old.evaluation is not None else evaluation
        self._kept[key] = ViolatingCandidate(np.round(np.asarray(y, float)).copy(),
                                             float(violation), float(losses_kw), evaluation)
        if len(self._kept) > self.size:
            worst = max(self._kept.items(), key=lambda kv: self._order(*kv))[0]
            del self._kept[worst]

    def ranked(self, answer: ViolatingCandidate | None) -> list[ViolatingCandidate]:
        """The candidates, the search's ``answer`` first (kept whatever its rank: the
        lexicographic choice with ties within :func:`violation_tol`), then the others by
        the order above, ``size`` in all."""
        out = [] if answer is None else [answer]
        skip = None if answer is None else topology_key(answer.y)
        out += [c for k, c in sorted(self._kept.items(), key=lambda kv: self._order(*kv))
                if k != skip]
        return out[:max(self.size, 1)]


def _loops(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray,
           sources: np.ndarray) -> int:
    """How far ``closed`` is from radial: closed branches minus buses plus connected parts
    (the independent loops, ``m - n + c``), plus per part its sources beyond the first."""
    labels = components_of(n, f[closed], t[closed])
    parts = int(labels.max()) + 1 if n else 0
    per_part = np.bincount(labels[sources], minlength=parts)
    return int(closed.sum()) - n + parts + int(np.sum(np.maximum(per_part - 1, 0)))


def base_neighbours(pu: PerUnitNetwork, limit: int = BASE_NEIGHBOURS) -> list[np.ndarray]:
    """The radial topologies next to the base case (``pu.initial_closed()``), closed per
    branch: the base itself when it is radial, else the ones that open one switchable branch
    on each of its loops (``k`` loops, :func:`_loops`: each opening lowers ``k`` by one, so
    it lies on a loop), in branch order, at most ``limit``. With one loop these are all
    the radial topologies that open a single branch of it: the trivial repairs of a meshed
    base case that the AC choice of a least-violating answer compares with the search's
    candidates, so that the answer never breaks the limits in AC by more than them (user test
    ut47_ppgrid #2: lv_schutterwald, one loop; the search's answer V min 0.8873 p.u. where
    opening one switch of the loop gives 0.951)."""
    n = len(pu.bus_ids)
    f, t = np.asarray(pu.f, int), np.asarray(pu.t, int)
    sources = np.asarray(pu.is_source, bool)
    switchable = np.asarray(pu.switchable, bool)
    base = np.asarray(pu.initial_closed(), bool).copy()
    k0 = _loops(n, f, t, base, sources)
    if k0 <= 0:
        return [base] if is_radial_forest(n, f, t, base, sources)[0] else []
    out: list[np.ndarray] = []

    def opened(closed: np.ndarray, start: int, k: int) -> None:
        if k == 0:
            if is_radial_forest(n, f, t, closed, sources)[0]:
                out.append(closed.copy())
            return
        for e in range(start, len(f)):
            if len(out) >= limit:
                return
            if not (closed[e] and switchable[e]):
                continue
            closed[e] = False
            if _loops(n, f, t, closed, sources) == k - 1:
                opened(closed, e + 1, k - 1)
            closed[e] = True

    opened(base, 0, k0)
    return out
