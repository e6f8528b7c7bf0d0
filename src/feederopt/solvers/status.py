"""Statuses: how one solver call ended (:class:`SolverStatus`, the backends' answer), how a
whole solve ended (:class:`Status`, the result's), the per-iteration record shared by every
algorithm, and the other records of a long run's progress (:data:`ProgressEvent`: what the
run does now, how many samples are done), which a progress display shows and no result keeps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from feederopt._version import ITERATION_LOG_RENAMED


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


#: Statuses of a run that stopped (time limit, stop request) rather than ended.
STOPPED_STATUSES = ("time_limit", "interrupted")


def holds_least_violating_state(status: str, has_topology: bool | None,
                                objective: float | None) -> bool:
    """Whether a result's topology is a least-violating one (it breaks the limits), not a
    plan within them: it holds a topology (``has_topology`` true) and either the run proved
    that none meets the limits (status ``infeasible``) or it stopped (:data:`STOPPED_STATUSES`)
    before it found one within them (no objective: NaN, or None in the JSON; a robust run
    whose worst-case search certified no topology, ut39_recheck_b). One rule for the
    solve's console, ``feederopt check`` and the report (the row "open branches
    (least-violating state, breaks the limits)")."""
    if has_topology is not True:
        return False
    if status == "infeasible":
        return True
    no_objective = objective is None or (isinstance(objective, float) and math.isnan(objective))
    return status in STOPPED_STATUSES and no_objective


#: The name of a kept state that breaks the limits: the least-violating one a search chose.
LEAST_VIOLATING_STATE = "least-violating state"

#: The name of a stopped run's answer that is the grid's own topology, taken because the time
#: was up before any other topology was evaluated (the result's ``base_fallback``): it was not
#: chosen for least violation, so "least-violating" misnamed it (user test ut50_core #1).
BASE_FALLBACK_STATE = "base-case fallback"

#: What a base-case fallback is, in the sentences that name it (:data:`BASE_FALLBACK_STATE`).
BASE_FALLBACK_WHAT = ("the grid's own (base) topology, the only one evaluated before the run "
                      "stopped; it was not chosen for least violation, and another radial "
                      "topology may break the limits less or meet them")


#: The name of a stopped robust run's answer that is the only topology it evaluated (a run
#: stopped after its first round): compared with no other, so "least-violating" misnamed it
#: (user test ut51_recheck #1; the console's verdict says "the only topology evaluated,
#: compared with no other").
ONLY_EVALUATED_STATE = "only topology evaluated"

#: What such an answer is, in the sentences that name it (:data:`ONLY_EVALUATED_STATE`).
ONLY_EVALUATED_WHAT = ("the only topology evaluated before the run stopped, compared with no "
                       "other; it was not chosen for least violation, and another radial "
                       "topology may break the limits less or meet them")


def only_topology_evaluated(status: str, topologies_evaluated: int | None,
                            uncertified: int | None = 0, ac_moved: bool = False) -> bool:
    """Whether a robust run's answer is the only topology it evaluated, compared with no
    other: the run stopped (:data:`STOPPED_STATUSES`) and of its ``topologies_evaluated``,
    less the ``uncertified`` ones (cut away before the worst-case search decided them, not
    compared), exactly one was decided, none was left uncertified, and the AC choice among
    candidates did not move the answer (``ac_moved``: the result's ``least_violating_ac``
    ``changed``). Then ``n - u = 1``: no comparison, so no "least-violating" choice (user
    test ut51_recheck #1). A proven ``infeasible`` result is not one: its proof covers every
    radial topology. A base-case fallback is named for that first
    (:data:`BASE_FALLBACK_STATE`)."""
    if status not in STOPPED_STATUSES or topologies_evaluated is None or ac_moved:
        return False
    unc = uncertified or 0
    return unc == 0 and topologies_evaluated == 1


def only_topology_evaluated_in(doc: Mapping[str, Any]) -> bool:
    """:func:`only_topology_evaluated` of a result's JSON document (or a Result's ``extra``
    with its ``status``): its ``status``, ``robust_summary``'s ``topologies_evaluated`` and
    ``uncertified_topologies``, and whether ``least_violating_ac`` ``changed``; False for a
    result without a robust summary (a deterministic or scenario run) and for a base-case
    fallback (``base_fallback``, named as such)."""
    summary = doc.get("robust_summary")
    if not isinstance(summary, Mapping) or doc.get("base_fallback"):
        return False
    n, unc = summary.get("topologies_evaluated"), summary.get("uncertified_topologies")
    least_ac = doc.get("least_violating_ac")
    moved = isinstance(least_ac, Mapping) and bool(least_ac.get("changed"))
    return only_topology_evaluated(str(doc.get("status", "")),
                                   n if isinstance(n, int) else None,
                                   unc if isinstance(unc, int) else 0, moved)


def kept_state_name(base_fallback: bool, only_evaluated: bool = False) -> str:
    """The name of a kept state that breaks the limits: :data:`BASE_FALLBACK_STATE` for a
    result answered by the grid's own topology (``base_fallback`` true),
    :data:`ONLY_EVALUATED_STATE` for a stopped robust run's only topology evaluated
    (``only_evaluated``, :func:`only_topology_evaluated`), else
    :data:`LEAST_VIOLATING_STATE`. One name for the console's row "open branches (...,
    breaks the limits)", its warnings and the report."""
    if base_fallback:
        return BASE_FALLBACK_STATE
    return ONLY_EVALUATED_STATE if only_evaluated else LEAST_VIOLATING_STATE


#: The phase of a row of the iteration log: the objective's (losses plus costs, bounds in kW)
#: and, after a proof that no radial topology meets the limits, the search for the
#: least-violating topology (bounds on the total slack, in p.u.; Benders' phase 1), then its
#: second stage, the least objective (losses plus costs, bounds in kW) among the topologies
#: whose total slack is within a tolerance of the least found (:data:`TIE_PHASE`).
LOSS_PHASE = "losses"
VIOLATION_PHASE = "least violation"
TIE_PHASE = "least losses at the least violation"


def master_infeasible_note(has_incumbent: bool, phase: str = LOSS_PHASE) -> str:
    """The iteration log's note of a master MILP that has no solution under the cutoff (the
    incumbent's objective less the gap), in plain words: with an incumbent, no topology beats
    it, so it is optimal within the gap (in the least-violation phase: no topology violates
    the limits less); without one, in the objective's phase, no radial topology meets the
    limits (the cuts exclude every one: the proof of infeasibility). "master infeasible"
    alone, the only row of an optimal robust run's log, read as a failure (user test
    ut42_report #3). The note starts with "master infeasible" as before."""
    if has_incumbent:
        if phase == VIOLATION_PHASE:
            return ("master infeasible: no topology violates the limits less than the "
                    "incumbent, which is the least-violating one (within the gap)")
        return ("master infeasible: no topology beats the incumbent, which is optimal "
                "(within the gap)")
    if phase == LOSS_PHASE:
        return ("master infeasible: no radial topology meets the limits (the proof of "
                "infeasibility)")
    return "master infeasible: no topology is left to evaluate"


@dataclass(frozen=True)
class IterationRecord:
    """One row of the iteration log. The loss and violation phases have different objectives
    and units, so they have their own columns (the tie phase, :data:`TIE_PHASE`, has the
    objective's): ``lower_bound``/``upper_bound`` the objective's
    [kW-equivalent] (NaN in the violation phase), ``violation_lower_pu``/
    ``violation_upper_pu`` the total slack's [p.u.] (NaN in the loss phase). One column for
    both made the kW lower bound seem to fall to 0 (user test ut_feas #1). Written
    (:meth:`to_row`: ``result.json``'s ``iteration_log``, ``iterations.parquet``), the
    objective's bounds carry their unit: ``lower_bound_kw``/``upper_bound_kw``."""

    iteration: int
    lower_bound: float  # [kW-equivalent objective]
    upper_bound: float
    gap: float
    elapsed_s: float
    master_s: float = 0.0
    slave_s: float = 0.0
    note: str = ""
    phase: str = LOSS_PHASE
    violation_lower_pu: float = math.nan
    violation_upper_pu: float = math.nan

    @property
    def violation_phase(self) -> bool:
        """Whether the row is of the least-violation search (bounds in p.u. of slack)."""
        return self.phase == VIOLATION_PHASE

    @property
    def tie_phase(self) -> bool:
        """Whether the row is of the least-violating search's second stage (least losses
        among the least-violating topologies; bounds in kW, as the objective's)."""
        return self.phase == TIE_PHASE

    @property
    def bounds(self) -> tuple[float, float]:
        """(lower, upper) in the unit of the row's phase."""
        if self.violation_phase:
            return self.violation_lower_pu, self.violation_upper_pu
        return self.lower_bound, self.upper_bound

    def to_dict(self) -> dict[str, Any]:
        """The fields by their attribute names (``lower_bound``, ...)."""
        return asdict(self)

    def to_row(self) -> dict[str, Any]:
        """The row as the result files write it, the one layout of ``result.json``'s
        ``iteration_log`` and of ``iterations.parquet``: the fields of :meth:`to_dict`, the
        objective's bounds named with their unit, ``lower_bound_kw`` and ``upper_bound_kw``
        (:data:`~feederopt._version.ITERATION_LOG_RENAMED`; the JSON had ``lower_bound`` where
        the table had ``lower_bound_kw``, user test ut38_cli #1)."""
        return {ITERATION_LOG_RENAMED.get(k, k): v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PhaseRecord:
    """A long run starts ``phase`` (e.g. ``master 3``, ``worst case 3 (MILP)``) in its
    iteration ``iteration`` (0 before the first), ``elapsed_s`` after its start. Progress only:
    never in a result's log."""

    phase: str
    iteration: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class SampleRecord:
    """``done`` of ``total`` samples evaluated, ``ok`` of them passing the check ``what``
    (e.g. ``"AC-feasible, OpenDSS (IV-E)"``). Progress only: never in a result."""

    what: str
    done: int
    total: int
    ok: int

    @property
    def share_pct(self) -> float:
        """The feasible share of the samples done [%] (nan before the first)."""
        return 100.0 * self.ok / self.done if self.done else float("nan")


#: What a progress callback receives: an iteration's bounds, the phase a run starts, or the
#: samples done of a check.
ProgressEvent = IterationRecord | PhaseRecord | SampleRecord
