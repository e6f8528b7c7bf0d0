"""``--ac-polish`` of a balanced solve: a branch-exchange local search judged by pandapower's
AC power flow.

Where the SOCP relaxation is not exact (strong DG: reverse flow, overvoltage) the model's
answer may break a limit in AC although another radial topology keeps every limit there.
From the answer's topology, each round evaluates the single branch exchanges: close an open
switchable branch, which makes one loop (through the sources when it joins two substations'
trees, :func:`feederopt.network.topology.loop_path`), and open a closed switchable branch on
that loop, so that the closed branches stay one tree per source reaching every bus. The
switchable branches are those of the model the answer came from: the options' holds
(``hold_closed``/``hold_open``), fixed and out-of-service branches and presolve's fixed
closings never move. Each exchange is judged by the AC check's own power flow
(:func:`feederopt.validation.ac.ac_power_flow`, the user's net with the switch states
written in, at the answer's generator dispatch) and its limits
(:func:`feederopt.validation.ac_limits.ac_limit_violations`, with
:data:`~feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE`), by the lexicographic key

1. the AC violation total: the voltage beyond the band [p.u.] summed over buses, plus the
   loading beyond the rating [% of it] summed over branches divided by 100 (both shares of
   their base: 0.01 p.u. weighs as 1 %), each only where the AC check calls the limit broken;
2. then the AC losses plus the switching cost (``switch_cost_kw`` per branch whose state
   differs from the base case: ``--switch-cost`` or the branches' column) [kW].

The best exchange of a round is made when it lowers the key (the violation by more than
:data:`VIOLATION_TOL`, or at an equal violation the cost by more than :data:`POLISH_TOL_KW`);
the search stops when none does, or at its bounds: :data:`MAX_ROUNDS` rounds,
:data:`MAX_MOVES_PER_ROUND` exchanges evaluated per round, and its time budget.

This is the branch exchange of S. Civanlar, J. J. Grainger, H. Yin and S. S. H. Lee
("Distribution feeder reconfiguration for loss reduction", IEEE Trans. Power Delivery 3(3),
1988) and of M. E. Baran and F. F. Wu ("Network reconfiguration in distribution systems for
loss reduction and load balancing", IEEE Trans. Power Delivery 4(2), 1989), with the AC power
flow itself in place of their loss-change estimates and the limits first: a local search,
one exchange at a time; it proves nothing about the topologies it does not reach.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import branch_exchanges
from feederopt.solvers import interrupt
from feederopt.validation.ac import ac_power_flow
from feederopt.validation.ac_limits import ac_limit_violations

#: Most seconds the polish runs (less when the solve's time limit leaves less).
AC_POLISH_MAX_S = 60.0
#: Least seconds the polish runs, also past the solve's time limit (it is a check after the
#: solve, like the AC check, which the limit does not cover either), capped by a quarter of the
#: limit: a solve that used its whole limit still gets its answer polished.
AC_POLISH_MIN_S = 20.0
#: Most rounds (exchanges made).
MAX_ROUNDS = 50
#: Most exchanges evaluated (AC power flows) per round; the rest of a round is left out (the
#: record says so).
MAX_MOVES_PER_ROUND = 1000
#: A lower violation total must be lower by more than this (the power flow's own noise).
VIOLATION_TOL = 1e-9
#: At an equal violation total, a move must lower losses plus switching cost by more than this
#: [kW]: below it the difference is the power flow's tolerance, not the topology.
POLISH_TOL_KW = 1e-3


@dataclass(frozen=True)
class AcKey:
    """How good an AC operating point is for the polish: the violation total first
    (``voltage_pu + rating_percent / 100``), then ``losses_kw + switching_kw``."""

    voltage_pu: float
    rating_percent: float
    losses_kw: float
    switching_kw: float

    @property
    def violation(self) -> float:
        return self.voltage_pu + self.rating_percent / 100.0

    @property
    def cost_kw(self) -> float:
        return self.losses_kw + self.switching_kw

    def better_than(self, other: AcKey) -> bool:
        """Lower by the lexicographic rule, beyond the tolerances."""
        if not math.isfinite(self.violation) or not math.isfinite(self.cost_kw):
            return False
        if not (math.isfinite(other.violation) and math.isfinite(other.cost_kw)):
            return True
        if self.violation < other.violation - VIOLATION_TOL:
            return True
        if self.violation > other.violation + VIOLATION_TOL:
            return False
        return self.cost_kw < other.cost_kw - POLISH_TOL_KW

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"violation_total": num(self.violation),
                "voltage_beyond_pu": num(self.voltage_pu),
                "rating_beyond_percent": num(self.rating_percent),
                "ac_losses_kw": num(self.losses_kw), "switching_cost_kw": num(self.switching_kw)}


#: The key of an operating point that has none (the power flow did not converge).
NO_KEY = AcKey(math.inf, math.inf, math.inf, math.inf)


def violation_parts(violations: Any) -> tuple[float, float]:
    """The AC check's broken limits (entries of
    :func:`~feederopt.validation.ac_limits.ac_limit_violations` or ``ac_check.
    limit_violations``) as ``(voltage beyond the band [p.u.], loading beyond the ratings [%])``,
    summed."""
    volt = sum(float(d["amount"]) for d in violations if d["limit"] in ("v_min", "v_max"))
    rating = sum(float(d["loading_percent"]) - 100.0 for d in violations
                 if d["limit"] in ("i_max", "s_max") and d.get("loading_percent") is not None)
    return volt, rating


def switching_kw(pu: PerUnitNetwork, closed: np.ndarray) -> float:
    """``switch_cost`` [kW] of every switchable branch of ``pu`` whose state in ``closed``
    differs from the base case."""
    moved = (np.asarray(closed, bool) != pu.initial_closed()) & pu.switchable
    return float(np.sum(pu.switch_cost[moved]))


def key_of_check(pu: PerUnitNetwork, closed: np.ndarray, check: Any) -> AcKey:
    """The key of a result's AC check (:class:`~feederopt.results.result.AcCheck`) at the
    topology ``closed``."""
    if check is None or not check.converged:
        return NO_KEY
    volt, rating = violation_parts(check.limit_violations)
    return AcKey(volt, rating, float(check.losses_kw), switching_kw(pu, closed))


def exchanges(model: PerUnitNetwork, closed: np.ndarray) -> list[tuple[int, int]] | None:
    """The single branch exchanges ``(close, open)`` of ``closed`` (branch positions of
    ``model``): an open switchable branch to close and a closed switchable branch on the loop
    it makes; None when ``closed`` is not one tree per source reaching every bus
    (:func:`~feederopt.network.topology.branch_exchanges`)."""
    return branch_exchanges(model.n_bus, model.f, model.t, model.is_source, model.switchable,
                            closed)


def branch_exchange(net: Network, limits: PerUnitNetwork, model: PerUnitNetwork,
                    start: np.ndarray, *, gen_p: np.ndarray | None = None,
                    gen_q: np.ndarray | None = None, budget_s: float = AC_POLISH_MAX_S,
                    budget_why: str = "cap", max_rounds: int = MAX_ROUNDS,
                    max_moves: int = MAX_MOVES_PER_ROUND,
                    bus_out: Callable[[str], Any] | None = None,
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """The branch-exchange search of this module from the topology ``start`` (one state per
    in-service branch of ``net``, as the AC check's). ``limits`` is the per-unit model whose
    limits and switching costs judge (the result's), ``model`` the one whose ``switchable``
    branches may move (the solved model's, holds and presolve applied). ``gen_p``/``gen_q``
    [MW, MVAr]: the generators' dispatch of the answer (held in every exchange).

    Returns the final topology and the record (the JSON's ``polish``): ``rounds``,
    ``moves_tried`` (AC power flows of exchanges), the ``exchanges`` made (branch ids closed
    and opened, with the key before and after), the key ``before`` and ``after``, ``stopped``
    (why), ``truncated_rounds`` (rounds that left exchanges out), ``time_s``, ``budget_s``."""
    t0 = time.perf_counter()
    ids = limits.branch_ids

    def judge(closed: np.ndarray) -> AcKey:
        ac = ac_power_flow(net, closed, gen_p, gen_q)
        if not ac.converged:
            return NO_KEY
        volt, rating = violation_parts(ac_limit_violations(limits, ac, bus_out))
        return AcKey(volt, rating, float(ac.losses_kw), switching_kw(limits, closed))

    current = np.asarray(start, bool).copy()
    key = judge(current)
    first = key
    made: list[dict[str, Any]] = []
    tried = rounds = truncated = 0
    interrupted = False
    stopped = "no exchange improves the AC key"
    while True:
        if rounds >= max_rounds:
            stopped = f"round limit ({max_rounds})"
            break
        moves = exchanges(model, current)
        if moves is None:
            stopped = "the topology is not one tree per source reaching every bus"
            break
        if len(moves) > max_moves:
            truncated += 1
            moves = moves[:max_moves]
        best: tuple[AcKey, int, int] | None = None
        out_of_time = False
        for a, b in moves:
            if interrupt.requested():  # Ctrl-C or SIGTERM: stop with the best so far
                interrupted = out_of_time = True
                break
            if time.perf_counter() - t0 >= budget_s:
                out_of_time = True
                break
            trial = current.copy()
            trial[a], trial[b] = True, False
            k = judge(trial)
            tried += 1
            if k.better_than(key) and (best is None or k.better_than(best[0])):
                best = (k, a, b)
        rounds += 1
        if best is not None:
            k, a, b = best
            made.append({"close": ids[a], "open": ids[b], "before": key.to_dict(),
                         "after": k.to_dict()})
            current[a], current[b] = True, False
            key = k
        if out_of_time:
            stopped = "interrupted" if interrupted else (
                f"time budget ({budget_why}, {budget_s:.3g} s)")
        if best is None or out_of_time:
            break
    record = {
        "enabled": True, "judge": "pandapower Newton-Raphson (the AC check's power flow)",
        "rounds": rounds, "moves_tried": tried, "exchanges": made,
        "before": first.to_dict(), "after": key.to_dict(),
        "stopped": stopped, "interrupted": interrupted, "truncated_rounds": truncated,
        "max_rounds": max_rounds, "max_moves_per_round": max_moves,
        "time_s": time.perf_counter() - t0, "budget_s": budget_s, "budget": budget_why,
    }
    return current, record


def polish_text(rec: Any) -> str | None:
    """A result's ``polish`` record in one line for the console and the report; None without
    one."""
    if not isinstance(rec, dict):
        return None
    if rec.get("skipped"):
        return f"skipped: {rec['skipped']}"
    n = len(rec.get("exchanges") or ())
    before, after = rec.get("before") or {}, rec.get("after") or {}

    def kw(x: Any) -> str:
        return "-" if x is None else f"{float(x):.3f} kW"

    def viol(x: Any) -> str:
        return "-" if x is None else f"{float(x):.4g}"

    moved = ", ".join(f"close {e['close']} open {e['open']}"
                      for e in rec.get("exchanges") or ())
    text = f"{n} exchange{'s' if n != 1 else ''} ({moved})" if n else "no exchange"

    text += (f"; AC violation {viol(before.get('violation_total'))} -> "
             f"{viol(after.get('violation_total'))}, AC losses {kw(before.get('ac_losses_kw'))}"
             f" -> {kw(after.get('ac_losses_kw'))}; {rec.get('rounds', 0)} round(s), "
             f"{rec.get('moves_tried', 0)} exchanges tried, {float(rec.get('time_s', 0.0)):.1f}"
             f" s; {rec.get('stopped', '')}")
    if rec.get("not_adopted"):
        text += f"; not adopted: {rec['not_adopted']}"
    return text


#: Most seconds the AC repair of a DOPF answer's device settings runs.
AC_REPAIR_MAX_S = 60.0


def setting_repair(candidates: list[tuple[str, Any]], judge: Callable[[Any], AcKey], *,
                   budget_s: float = AC_REPAIR_MAX_S) -> tuple[int | None, dict[str, Any]]:
    """The AC repair of a distribution OPF's answer, this module's search over device settings
    instead of branch exchanges: where the SOCP relaxation is not exact at the answer's
    device settings (it holds a voltage at its limit by inflating a transformer's current)
    the AC power flow breaks a limit that a setting one step away keeps. Each candidate
    ``(label, setting)`` (the caller's neighbours of the answer at its topology) is judged by
    ``judge`` (the AC check's power flow and limits, as :func:`branch_exchange`'s); of those
    within every limit (violation total 0) the one with the least ``cost_kw`` wins. One pass,
    no descent: the neighbours are few and the repair is a check, not a search.

    Returns the winner's index (None: no candidate keeps the limits) and the record (the
    JSON's ``ac_repair``): ``tried`` (label and key per candidate evaluated), ``chosen``,
    ``stopped``, ``time_s``."""
    t0 = time.perf_counter()
    best: tuple[AcKey, int] | None = None
    tried: list[dict[str, Any]] = []
    stopped = "every neighbour evaluated"
    for i, (label, setting) in enumerate(candidates):
        if interrupt.requested():
            stopped = "interrupted"
            break
        if time.perf_counter() - t0 >= budget_s:
            stopped = f"time budget ({budget_s:.3g} s)"
            break
        k = judge(setting)
        tried.append({"setting": label, **k.to_dict()})
        if k.violation > VIOLATION_TOL or not math.isfinite(k.cost_kw):
            continue
        if best is None or k.cost_kw < best[0].cost_kw - POLISH_TOL_KW:
            best = (k, i)
    record = {"enabled": True, "judge": "pandapower Newton-Raphson (the AC check's power flow)",
              "tried": tried, "chosen": None if best is None else candidates[best[1]][0],
              "stopped": stopped, "time_s": time.perf_counter() - t0, "budget_s": budget_s}
    return (None if best is None else best[1]), record
