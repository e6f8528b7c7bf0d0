"""Typed outcomes of the uncertain methods, carried on
:class:`~feederopt.algorithms.base.RawSolution`.

Per-unit and by index, like the rest of a raw solution: the api layer turns them into the user's
ids (:mod:`feederopt.results.uncertain`). They replace the string-keyed ``extra`` dict the
uncertain methods used to fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feederopt.algorithms.slaves import SlaveResult


@dataclass(frozen=True)
class Execution:
    """How the slaves ran: their number of solves, the workers and the executor kind."""

    slave_solves: int
    workers: int
    executor: str


@dataclass(frozen=True)
class StochasticOutcome:
    """The stochastic Benders answer: the incumbent's slave per scenario, and the expectations."""

    scenario_results: list[SlaveResult]
    expected_objective_kw: float
    expected_losses_kw: float
    expected_violation_pu: float
    penalty_kw_per_pu: float
    execution: Execution
    #: What the run minimised: ``expected`` (``expected_objective_kw``) or ``worst``
    #: (``worst_objective_kw``, ``c_sw @ y + max_s F(y, d_s)``).
    objective: str = "expected"
    worst_objective_kw: float | None = None


@dataclass(frozen=True)
class RobustOutcome:
    """The robust cutting-plane answer: the extreme points and the incumbent's slave at each."""

    vertices: list[np.ndarray]
    vertex_results: list[SlaveResult]
    oracle: str
    oracle_s: float
    uncertified: int
    execution: Execution
    #: The incumbent's worst case found (the largest slave value at its points evaluated)
    #: and the worst-case search's upper bound on it (equal when proven), without the
    #: switching cost (:class:`~feederopt.algorithms.robust.WorstCaseBracket`).
    worst_case_objective_kw: float | None = None
    worst_case_bound_kw: float | None = None
    #: How that search ended: ``optimal`` (proven), else its status (``time_limit``, ...).
    worst_case_search_status: str | None = None
    worst_case_losses_kw: float | None = None
    worst_case_violation_pu: float | None = None
    #: Distinct topologies evaluated at the extreme points.
    topologies_evaluated: int = 0
    #: Master iterations of the least-violating search after a proof of infeasibility
    #: (``RobustCuttingPlane.least_violating_search``; None: it did not run).
    search_iterations: int | None = None
    #: That search's proven lower bound on the least worst-case slack [p.u.] (None: none).
    violation_bound_pu: float | None = None
    #: Whether its branch exchange ended at a topology none of whose single branch exchanges
    #: needs less slack (None: the exchange did not run).
    exchange_local_optimum: bool | None = None
    #: After that proof: the extreme points that no radial topology serves on its own
    #: (``RobustCuttingPlane.unsupplied_points``), each ``(index, least slack over the radial
    #: topologies [p.u.], the violated limits of a topology that needs that least slack)``,
    #: and the number of radial topologies evaluated there (None: not enumerated).
    unsupplied: list[tuple[int, float, list[Any]]] = field(default_factory=list)
    radial_topologies: int | None = None
    #: Extreme points that enumeration left undecided (its time ran out): not named.
    unsupplied_undecided: int = 0
