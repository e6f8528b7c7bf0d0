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
``diagnosis_time_s`` and ``diagnosis_iterations``, never past the run's own time limit) and
:func:`flow_losses_kw` (the losses of a topology's power flow, the tie-break's measure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from feederopt.algorithms.base import StopOptions
from feederopt.algorithms.heuristics import sweep_decides
from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.problems.sweep import sweep

#: Two phase-1 violations [p.u.] within this share of each other (or VIOLATION_ABS_TOL) are
#: the same to the least-violating topology's choice, which then goes to the losses.
VIOLATION_REL_TOL = 1e-3
VIOLATION_ABS_TOL = 1e-6


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
