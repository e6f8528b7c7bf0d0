"""Statuses: how one solver call ended (:class:`SolverStatus`, the backends' answer), how a
whole solve ended (:class:`Status`, the result's), and the per-iteration record shared by every
algorithm."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class SolverStatus(StrEnum):
    """How one call of a backend ended (the HiGHS and SCIP backends; cvxpy's own strings
    ``optimal`` and ``optimal_inaccurate`` are the same values)."""

    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"  # cvxpy: solved to a looser tolerance
    SOLUTION_LIMIT = "solution_limit"  # HiGHS: stopped at the first improving solution
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    INFEASIBLE = "infeasible"
    ERROR = "error"


#: The statuses of a conic solve whose point and duals can be used.
SOLVED = (SolverStatus.OPTIMAL, SolverStatus.OPTIMAL_INACCURATE)


class Status(StrEnum):
    """How a solve ended.

    ``optimal``: proven within the gap tolerance. ``feasible``: a radial topology that meets
    every limit, without proof of optimality (a heuristic, or an iteration limit).
    ``time_limit``: stopped by the time limit; the incumbent comes with its bound and gap.
    ``interrupted``: stopped by Ctrl-C or SIGTERM; like ``time_limit``, with the incumbent, its
    bound and gap (never ``optimal``, unless the gap was proven before the signal).
    ``infeasible``: no radial configuration meets the limits (a diagnosis says where).
    ``error``: a solver failed.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True)
class IterationRecord:
    iteration: int
    lower_bound: float  # [kW-equivalent objective]
    upper_bound: float
    gap: float
    elapsed_s: float
    master_s: float = 0.0
    slave_s: float = 0.0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
