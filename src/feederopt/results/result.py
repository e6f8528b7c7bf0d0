"""The result of a solve, mapped back to the user's ids and SI units.

A :class:`Result` holds Polars tables (``buses``, ``branches``, ``switches``, ``generators``),
the bounds and gap, the iteration log, the AC check and, for an infeasible grid, the
diagnosis. ``to_dict`` gives the JSON document that ``feederopt solve --json`` writes; the
writing itself is the output layer's (:func:`feederopt.report.output.write_result_json`),
and the pandapower export is handed in by the api layer (``switch_writer``): this module
imports neither ``io`` nor ``report``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import polars as pl

from feederopt._version import ITERATION_LOG_RENAMED, iteration_row, read_as_current, stamped
from feederopt.errors import InputError, Problem, ProblemKind, note_text, option_ref
from feederopt.network.container import Network
from feederopt.network.device_settings import DeviceSettings
from feederopt.network.schemas import nan_as_null
from feederopt.results.document import AC_CHECK_FIGURES, solve_document_problems
from feederopt.results.dopf import DopfSummary
from feederopt.results.uncertain import RobustSummary, StochasticSummary
from feederopt.solvers.status import IterationRecord, Status

# The AC check's tolerances, re-exported (their home: feederopt.validation.ac_limits, beside
# the one list of AC limit violations).
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE as AC_LIMIT_TOLERANCE


def _num(x: float | None) -> float | None:
    """JSON has no NaN or infinity: they become null."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def kept_state_label(label: str, status: str, state: str, *,
                     least_violating: bool | None = None) -> str:
    """The row name of a run's switch states (``label``: "open switches", "open branches")
    in the console and the report: ``label`` itself, or, when ``status`` is ``infeasible``,
    ``"label (state, breaks the limits)"``: the states shown are the ones the run kept
    (``state``: the voltage feedback's kept state, the least-violating one), which break the
    limits, not a switching plan within them (user test ut37_tph2: an infeasible three-phase
    result listed "open switches" and "changed switches" as a plan). ``least_violating``, when
    given, decides instead of the status: the rule of
    :func:`~feederopt.solvers.status.holds_least_violating_state`, which also labels a run
    that stopped before it found a topology within the limits (ut39_recheck_b)."""
    kept = status == "infeasible" if least_violating is None else least_violating
    return f"{label} ({state}, breaks the limits)" if kept else label


def enumerated(notes: Sequence[str]) -> bool:
    """Whether a run's iteration log (``notes``, in order) is a scenario run's enumeration of
    the radial topologies (:meth:`feederopt.algorithms.stochastic.StochasticBenders.
    enumerate`: rows "enumeration: scenario k of S", "enumeration stopped"), whose iterations
    are enumeration steps, one per scenario, not master MILP solves."""
    return any(n and n.startswith(("enumeration: scenario ", "enumeration stopped"))
               for n in notes)


def iterations_text(iterations: Any, status: str, notes: Sequence[str],
                    stats: Mapping[str, Any] | None = None) -> str:
    """A run's iterations for a person: the master iterations (master MILP solves; the
    iteration log's rows before the first are numbered 0: the start topologies, probing,
    ...), and when there were none although a bound was found, what found it (``notes``: the
    iteration log's notes in order). "0" beside a proven optimum read as if nothing ran, where
    the loop branch-and-bound or switch probing had closed the gap before the first master
    iteration (user test ut36_results #2). "Closed" only when the gap closed (``status``
    ``optimal``; ``infeasible``: proven so); a run stopped before its first master iteration
    (``--time-limit 0.01``: status ``time_limit``, no objective) says that it stopped, with its
    status (ut37 #2 printed "closed ... final bounds"). One text for the console and the
    report (user test ut42_report #4: the report said "iterations 0" beside two log rows
    numbered 0). A scenario run that enumerated the radial topologies (:func:`enumerated`)
    counts enumeration steps, one per scenario: "4 enumeration steps (one per scenario, ...;
    no master MILP solve)".

    A single-tree run (``benders-scip``: a log note ``tree closed``, ``tree time_limit``, ...)
    has no master iterations: its SCIP tree is the master, and its ``iterations`` are the
    topologies the slave evaluated inside the tree. The text says so, with the tree's nodes
    (``stats``: the result's ``engine_stats``, ``master_nodes``): ``0 topologies
    evaluated in the SCIP tree (the master, 831 nodes): none beat the start topology, which
    the tree proved optimal``. Before, "0 (closed before any master
    iteration: tree closed)" after 24 s of tree search (user test ut46_core #4)."""
    text = str(iterations)
    if enumerated(notes) and isinstance(iterations, int) and not isinstance(iterations, bool):
        # no master ran: one step per scenario (ut50_scen #4 read "iterations (master MILP
        # solves) 4" beside 4 "enumeration: scenario k of 4" rows)
        text += (f" enumeration step{'' if iterations == 1 else 's'} (one per scenario, each "
                 "evaluating there every radial topology still in the running; no master "
                 "MILP solve)")
        if "enumeration stopped" in notes:
            text += f"; the enumeration stopped before its end ({status or 'gap open'})"
        return text
    tree = [n for n in notes if n and n.startswith("tree ")]
    if tree and isinstance(iterations, int) and not isinstance(iterations, bool):
        nodes = _num((stats or {}).get("master_nodes"))
        size = f", {nodes:.0f} nodes" if nodes is not None else ""
        text += f" topologies evaluated in the SCIP tree (the master{size})"
        if tree[-1] == "tree closed" and status == "optimal":
            text += (": none beat the start topology, which the tree proved optimal"
                     if iterations == 0 else ", which closed the gap")
        elif tree[-1] == "tree closed":
            text += ", which closed"
        else:
            text += f"; it ended: {tree[-1]}"
        return text
    if iterations == 0:
        said = [n for n in notes if n and n != "start"]
        if said and status == "optimal":
            text += f" (closed before any master iteration: {said[-1]})"
        elif said and status == "infeasible":
            text += f" (proven infeasible before any master iteration: {said[-1]})"
        elif said:
            text += f" (stopped before any master iteration: {status or 'gap open'})"
    return text


def switching_text(rec: Any) -> str | None:
    """A result's switching record (``extra["switching"]``, written when a switch has a
    cost): ``3 actions x cost = 15.000 kW (2 held: line:3, line:9; charged as any action)``;
    None without one."""
    if not isinstance(rec, dict) or rec.get("actions") is None:
        return None
    n = int(rec["actions"])
    held = list(rec.get("held") or ())
    text = f"{n} action{'s' if n != 1 else ''}, {float(rec.get('cost_kw') or 0.0):.3f} kW"
    if held:
        text += (f" (incl. {len(held)} held away from the base case: {', '.join(held)}; "
                 "charged as any action)")
    return text + " in the objective"


def base_case_kind(base: Any) -> str:
    """What the base case is beside the answers, for the label of its losses: ``"meshed, 1
    loop(s), not a radial candidate"`` when its closed branches close loops (``base["loops"]``,
    counted by :func:`feederopt.validation.base_case.base_loops`): every answer is radial, so its
    losses are a meshed operating point's, which no answer need reach (user test ut33: SimBench
    1-MV-semiurb, two 110/20 kV transformers in parallel, 563.42 kW against 607.69-663.07 kW
    for every radial version of it). ``""`` otherwise."""
    loops = base.get("loops") if isinstance(base, Mapping) else None
    if not isinstance(loops, int) or isinstance(loops, bool) or loops <= 0:
        return ""
    return f"meshed, {loops} loop(s), not a radial candidate"


def base_limits_text(base: Any) -> str | None:
    """What the base case breaks of the limits that the answer is held to, from its verdict
    (``within_limits``, ``voltage_limits``, ``rating_limits``:
    :func:`feederopt.validation.ac_limits.limits_verdict`, as ``feederopt info`` gives it; a
    three-phase solve's, a partition's and a schedule's alike:
    :mod:`feederopt.validation.base_case`): ``the base case overloads L3 (102.6 %)``, ``the
    base case puts bus(es) below v_min: B4 at 0.8950 < 0.9000 p.u.`` (a schedule's with the
    limit's worst hour, a three-phase scenario run's with its worst scenario), the three worst
    of each kind by id. None when the base case
    holds the limits or has no verdict (its AC power flow did not converge; a result written
    before the verdict was recorded)."""
    if not isinstance(base, Mapping) or base.get("within_limits") is not False:
        return None

    def listed(rows: Sequence[Mapping[str, Any]], text: Callable[[Mapping[str, Any]], str]
               ) -> str:
        more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
        return ", ".join(text(d) for d in rows[:3]) + more

    def when(d: Mapping[str, Any]) -> str:  # the limit's worst hour (scenario)
        if d.get("hour") is not None:
            return f" (hour {d['hour']})"
        return f" (scenario {d['scenario']})" if d.get("scenario") is not None else ""

    def bus(sign: str) -> Callable[[Mapping[str, Any]], str]:
        return lambda d: (f"{d['id']} at {d['value']:.4f} {sign} {d['rating']:.4f} p.u."
                          + when(d))

    def over_text(d: Mapping[str, Any]) -> str:
        # a balanced verdict's row has the limit held beside the loading, both in % of the
        # rating (validation.ac_limits.of_rating): "118.0 %" of a 48 % limit beside "largest
        # loading 46.77 % of its rating" read as two units (user test ut46_core #1)
        if d.get("limit_percent") is None:
            return f"{d['id']} ({d['loading_percent']:.1f} %)" + when(d)
        limit = (f", limit {d['limit_percent']:g} %" if d["limit_percent"] != 100.0
                 else "")  # as the AC check's largest loading leaves out 100 %
        return f"{d['id']} ({d['loading_percent']:.1f} % of its rating{limit})" + when(d)

    parts = []
    volts = base.get("voltage_limits") or {}
    for key, what, sign in (("below_v_min", "below v_min", "<"),
                            ("above_v_max", "above v_max", ">")):
        rows = volts.get(key) or []
        if rows:
            parts.append(f"puts bus(es) {what}: " + listed(rows, bus(sign)))
    over = (base.get("rating_limits") or {}).get("over_rating") or []
    if over:
        parts.append("overloads " + listed(over, over_text))
    if not parts:
        return None
    return "the base case " + "; it ".join(parts)


def base_verdict_rows(base: Any, *, engine: str = "AC", unit: str = "kW",
                      answer_losses: float | None = None) -> list[tuple[str, str]]:
    """The rows of a base case (``base``, the block of :mod:`feederopt.validation.base_case`)
    that the console and the HTML report print, as ``(label, value)``: ``base case losses
    (engine)``, ``base case vs limits (engine)`` (what it breaks,
    :func:`base_limits_text`, or "within them") and, given the answer's AC losses in the same
    ``unit`` (``answer_losses``), ``loss reduction vs base case`` (``100 (base - answer) /
    base``, :func:`~feederopt.validation.base_case.loss_reduction_pct`). A base case that
    leaves load unserved (``unserved_load_kw`` above 1e-6 kW) is not "within them" (the
    verdict names the unserved kW), and its losses, of a smaller load, give no reduction: the
    row says why it is not comparable. Empty without a base case
    (no AC check ran). A three-phase solve's, a partition's (OpenDSS) and a schedule's
    (pandapower, the day's MWh) alike, so that the user's grid as operated and the answer
    are judged side by side. A three-phase scenario run's base case (``per_scenario`` given,
    :func:`~feederopt.validation.base_case.scenario_base_case`) has the weighted losses,
    ``base case expected losses (engine)``, compared with the answer's expected losses."""
    if not isinstance(base, Mapping) or not base:
        return []
    from feederopt.validation.base_case import loss_reduction_pct

    before = base.get("losses_kw") if unit == "kW" else base.get("losses_mwh")
    digits = ".3f" if unit == "kW" else ".4f"
    no_flow = base.get("ac_power_flow")
    expected = "expected " if base.get("per_scenario") is not None else ""
    rows = [(f"base case {expected}losses ({engine})",
             (f"{before:{digits}} {unit}" if isinstance(before, int | float)
              and math.isfinite(before) else "-")
             + (f" (its power flow {no_flow})" if no_flow else ""))]
    dark = base.get("unserved_load_kw")  # OpenDSS's: loads on de-energised nodes
    unserved = isinstance(dark, int | float) and dark > 1e-6
    where = (f" in scenario {base['unserved_scenario']}, the most of any"
             if unserved and base.get("unserved_scenario") is not None else "")
    if base.get("within_limits") is not None:
        # load left unserved is no state "within" the limits: they hold on the energised part
        # only (user test ut50_dss3 #4: "within them" beside 2527 kW unfed)
        broken = (base_limits_text(base) or "").removeprefix("the base case ")
        dead = f"{dark:.3f} kW of load unserved{where}" if unserved else ""
        rows.append((f"base case vs limits ({engine})",
                     f"{broken}; and {dead}" if broken and dead
                     else broken or (f"not within them: {dead} (the energised part is within "
                                     "them)" if dead else "within them")))
    if unserved:
        rows.append((f"base case unsupplied ({engine})",
                     f"{dark:.3f} kW of load on de-energised nodes{where} (not in its "
                     "losses)"))
    reduction = loss_reduction_pct(before, answer_losses)
    if reduction is not None and unserved:
        # its losses are of a smaller load: a "reduction" against them misleads (ut50_dss3 #4)
        rows.append(("loss reduction vs base case",
                     f"not comparable: the base case leaves {dark:.3f} kW of load "
                     f"unserved{where}, so its losses are of a smaller load"))
    elif reduction is not None:
        rows.append(("loss reduction vs base case", f"{reduction:.2f} %"))
    return rows


def nominal_breaks_limits(doc: Mapping[str, Any]) -> bool:
    """Whether a scenario or robust result (its JSON ``doc``, or a Result's ``extra`` beside
    ``ac_check``) breaks the limits at the nominal load (not a scenario): the model needs
    slack there (``nominal_within_limits`` false) or its AC check breaks a limit."""
    if doc.get("headline_load") != "nominal":
        return False
    ac = doc.get("ac_check")
    ac_within = ac.get("within_limits") if isinstance(ac, Mapping) else getattr(
        ac, "within_limits", None)
    return doc.get("nominal_within_limits") is False or ac_within is False


def base_limits_note(base: Any, reduction_pct: float | None,
                     status: str | None = None, *, method: str | None = None,
                     has_topology: bool = True,
                     within_limits: bool = True,
                     nominal_breaks: bool = False) -> str | None:
    """:func:`base_limits_text` beside the loss reduction (``reduction_pct``, of the base
    case's losses; None when there is none): ``the base case overloads L3 (102.6 %): the
    reduction is negative because the answer holds the limits``. The base case's losses are
    those of an operating point outside the limits, which every answer is held to, so they
    can be lower than the answer's (user test ut37_fresh #1: 226.33 kW against 277.68 kW,
    "loss reduction -22.69 %" with no reason). None when the base case holds the limits.
    With ``status`` infeasible, proven so (``method`` no heuristic, :data:`HEURISTIC_METHODS`),
    no answer holds the limits either (the topology shown is the least-violating one), and
    the note says that instead (ut37 recheck: example_multivoltage said "because the answer
    holds the limits" beside "no radial configuration meets the limits"). A run without a
    topology (``has_topology`` false: stopped before it found one, or a heuristic's unproven
    ``infeasible``) has no answer to compare, and an answer outside the limits
    (``within_limits`` false, no proof of infeasibility) holds none: the note says so, and
    nothing about whether a topology within the limits exists (user test ut43_optima #1:
    LinDistFlow's ``infeasible`` on a grid with one said "no topology holds the limits
    either"). ``nominal_breaks``: a scenario or robust run whose answer, within the limits in
    every scenario, breaks them at the nominal load (not a scenario), where the reduction is
    taken (ut48_scen #1: "the reduction is negative because the answer holds the limits"
    beside the nominal load's AC power flow breaking them)."""
    text = base_limits_text(base)
    if text is None:
        return None
    if nominal_breaks and within_limits and has_topology and status != "infeasible":
        return (f"{text}; the answer holds the limits in every scenario but not at the nominal "
                "load (not a scenario), so the reduction there compares two operating points "
                "outside them")
    if status == "infeasible" and method not in HEURISTIC_METHODS:
        return (f"{text}; no topology holds the limits either (status infeasible), "
                + ("so the reduction compares two operating points outside them"
                   if has_topology else "and the run has no answer to compare it with"))
    if not has_topology:
        return (f"{text}; the run found no topology (status {status}), so there is no "
                "answer to compare it with")
    if not within_limits or status == "infeasible":
        return (f"{text}; the answer shown is not within the limits either (status {status}, "
                "no proof that no topology holds them), so the reduction compares two "
                "operating points outside them")
    if reduction_pct is not None and math.isfinite(reduction_pct) and reduction_pct < 0:
        return f"{text}: the reduction is negative because the answer holds the limits"
    return (f"{text}: it is no operating point within the limits, which the answer holds, "
            "so the reduction compares with a point the answer may not take")


def ac_limit_count(ac: Mapping[str, Any]) -> int:
    """How many limits an AC check as the JSON writes it breaks: the balanced check's
    ``limit_violations`` (:meth:`AcCheck.to_dict`, a bus's voltage or a branch's rating
    each), or OpenDSS's three-phase check's nodes outside their voltage limits and elements
    above their rating (:meth:`feederopt.validation.opendss.OpenDSSSolution.to_dict`:
    ``voltage_limits`` ``nodes_below_min`` and ``nodes_above_max``, ``loading``
    ``overloaded``)."""
    if "limit_violations" in ac:
        return len(ac.get("limit_violations") or ())
    volts = ac.get("voltage_limits") or {}
    loading = ac.get("loading") or {}
    return sum(int(x) for x in (volts.get("nodes_below_min"), volts.get("nodes_above_max"),
                                loading.get("overloaded")) if isinstance(x, int | float))


def ac_verdict(ac: Mapping[str, Any] | None, losses_kw: Any) -> str | None:
    """The AC check's verdict on a solve's answer, for the headline beside its ``status`` (the
    console's "AC verdict" row, the JSON's ``ac_verdict``, the report's summary), from the AC
    check as the JSON writes it (:meth:`AcCheck.to_dict`; for a three-phase solve OpenDSS's
    check, :meth:`feederopt.validation.opendss.OpenDSSSolution.to_dict`, with the LinDist3Flow
    loss proxy as the model's losses) and the model's losses [kW], the limits counted by
    :func:`ac_limit_count`. The status is the model's: ``optimal`` proves the SOCP model's
    optimum, not that it is an operating point. Where the SOCP relaxation is not exact
    (``exact`` false: the model's losses include ``l > (P^2+Q^2)/v``, losses no power flow has,
    as in a scenario's ``relaxation_note``) or the AC power flow breaks a limit
    (``within_limits`` false), this says so: ``relaxation not exact (model 347.560 kW, AC 11.340
    kW); the AC power flow breaks 4 limit(s): the model's answer is no operating point within
    the limits`` (user test ut34_fuzz #4: "status: optimal" beside 347.56 kW in the model, 11.34
    kW in AC, exit 4). An AC check that did not converge (or could not run) verifies nothing,
    and says so: ``the AC check found no operating point (...): the model's answer is not
    verified`` (user test ut36_api #2: a generator's set-point 12.66 p.u., the AC power flow
    NaN, and "optimal" with no verdict). None when the AC check confirms the answer or was not
    run, or the answer has no model losses (the least-violating point of a run without a
    topology within the limits, whose ``diagnosis`` speaks)."""
    if not isinstance(ac, Mapping):
        return None
    model = _num(losses_kw) if isinstance(losses_kw, int | float) else None
    if model is None:
        return None
    if not ac.get("converged"):
        why = str(ac.get("message") or "").strip() or "the power flow did not converge"
        return (f"the AC check found no operating point ({why}): the model's answer is not "
                "verified (its losses, voltages and ratings are unchecked)")
    inexact = ac.get("exact") is False
    broken = ac.get("within_limits") is False
    if not inexact and not broken:
        return None
    true_kw = _num(ac.get("losses_kw")) if isinstance(ac.get("losses_kw"), int | float) else None
    parts = []
    if inexact:
        parts.append(f"relaxation not exact (model {model:.3f} kW"
                     + (f", AC {true_kw:.3f} kW" if true_kw is not None else "") + ")")
    if broken:
        n = ac_limit_count(ac)
        parts.append(f"the AC power flow breaks {n} limit(s): the model's answer is no "
                     "operating point within the limits")
    else:
        parts.append("the AC power flow keeps the limits; its losses are the true ones")
    return "; ".join(parts)


def finite_json(value: Any) -> Any:
    """``value`` (dicts, lists and scalars) with every NaN or infinite float as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: finite_json(x) for k, x in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(x) for x in value]
    return value


def branch_label(row: Any) -> str:
    """An open branch of ``Result.open_branches`` for a person: ``id (from-to)``, with its
    user name and the pandapower switches that operate it when known (``line:11 'MV1.101
    Line 12' (14-15; switch 18 'MV1.101 Switch 19')``) and the ``state`` of a branch to an
    out-of-service bus (``line:5 (3-6; switch 5; bus 6 out of service; open at bus 3,
    ...)``)."""
    extra = "".join(f"; {row[k]}" for k in ("operated_by", "state") if row.get(k))
    name = f" '{row['name']}'" if row.get("name") else ""
    return f"{row.get('id')}{name} ({row.get('from_bus')}-{row.get('to_bus')}{extra})"


#: At most this many items of a list are shown in a console cell (:func:`listed_text`).
LISTED_MOST = 10


def listed_text(labels: Sequence[str], where: str, most: int = LISTED_MOST) -> str:
    """A list for a console cell: all of ``labels`` (comma-separated) up to ``most``; beyond,
    their count, the first ``most`` and how many more the JSON's ``where`` lists (``243:
    switch:0 ..., ... and 233 more (all in the JSON's open_branches)``), as the limit
    violations are listed (user test ut50_simb #5: 243 switches with their names in the
    "open branches" cell); ``-`` for none."""
    items = [str(x) for x in labels]
    if len(items) <= most:
        return ", ".join(items) or "-"
    return (f"{len(items)}: " + ", ".join(items[:most])
            + f", ... and {len(items) - most} more (all in the JSON's {where})")


def loading_limit_text(limit_percent: Any) -> str:
    """What follows a loading in % of the rating when the ratings were held to another limit
    (``AcCheck.loading_limit_percent``, ``settings.max_loading_percent``): ``limit 60 %``
    after ``--max-loading 60``, ``no limit held`` with ``--no-thermal-limits`` (None), and
    nothing at 100 % (the rating is the limit). A loading of 49.95 % beside ``limit 60 %``
    is within it (user test ut35_dopf #1 read 83.24 %, its share of the limit, as "% of its
    rating")."""
    if limit_percent is None:
        return "no limit held"
    limit = float(limit_percent)
    return "" if limit == 100.0 else f"limit {limit:g} %"


def distinct_places(value: float, limit: float, least: int = 4, most: int = 8) -> int:
    """The decimals, ``least`` or more (at most ``most``), at which ``value`` and ``limit``
    print differently: a voltage 5.6e-6 p.u. below a floor of 0.964 read "0.9640 p.u. against
    0.9640 p.u." at four (user test ut36_core #1), at five "0.96399 against 0.96400"."""
    for places in range(least, most + 1):
        if f"{value:.{places}f}" != f"{limit:.{places}f}":
            return places
    return most


def yes_no(x: Any) -> str:
    """A verdict for a person: ``yes``, ``no``, ``-`` when unknown (None), never Python's
    ``True``/``False`` (user test ut47_report #3: "within limits (AC) True" on the console
    beside "yes" elsewhere)."""
    return "-" if x is None else ("yes" if x else "no")


def within_limits_text(within: Any, tolerated: Sequence[Mapping[str, Any]],
                       tolerance: Mapping[str, Any] | None = None) -> str:
    """The AC check's verdict on the limits for a person (``AcCheck.within_limits``):
    ``True``, ``False``, or, where the model found the limits broken and the AC power flow
    breaks them by no more than the check's tolerance (``broken_within_tolerance``), that
    the limits hold within the tolerance only, with the first such limit and its amount:
    ``within the tolerance only (0.0001 p.u.): bus 3 at 0.96399 p.u., 5.611e-06 p.u. below
    v_min 0.96400 p.u.; the limit itself is broken, as the model found``, the tolerance
    :data:`AC_LIMIT_TOLERANCE` unless given. "True" beside "the grid is infeasible" read as
    a contradiction (user test ut36_core #1). ``yes``/``no`` (``-`` unknown), as the other
    rows, not Python's ``True``/``False`` (user test ut47_report #3)."""
    if within is not True or not tolerated:
        return yes_no(within)
    d = tolerated[0]
    one = {"buses": "bus", "branches": "branch"}.get(str(d["component"]), str(d["component"]))
    places = distinct_places(float(d["value"]), float(d["rating"]))
    side = "below" if d["limit"] == "v_min" else "above"
    first = (f"{one} {d['id']} at {float(d['value']):.{places}f} {d['unit']}, "
             f"{float(d['amount']):.4g} {d['unit']} {side} {d['limit']} "
             f"{float(d['rating']):.{places}f} {d['unit']}")
    more = f" (+{len(tolerated) - 1} more)" if len(tolerated) > 1 else ""
    tol = AC_LIMIT_TOLERANCE if tolerance is None else tolerance
    allowed = (f"{tol.get('voltage_pu', '-')} p.u." if d["limit"] in ("v_min", "v_max") else
               f"{tol.get('rating_percent', '-')} % of the rating")
    return (f"within the tolerance only ({allowed}): {first}{more}; the limit itself is "
            "broken, as the model found")


def largest_loading_text(percent: Any, element: Any, limit_percent: Any) -> str:
    """The largest AC loading for a person: ``49.95 % of its rating (trafo:0; limit 60 %)``
    (:func:`loading_limit_text`), ``61.70 % of its rating (line:21)`` at the data's ratings."""
    if percent is None or not math.isfinite(float(percent)):
        head = "-"
    else:
        head = f"{float(percent):.2f} %"
    limit = loading_limit_text(limit_percent)
    return f"{head} of its rating ({element}{'; ' + limit if limit else ''})"




@dataclass(frozen=True)
class AcCheck:
    """The full AC power flow of the chosen topology, compared with the SOCP solution."""

    converged: bool
    losses_kw: float
    min_voltage_pu: float
    max_voltage_pu: float
    max_voltage_diff_pu: float  # max |V_socp - V_ac| over buses
    relaxation_gap: float  # sum r (l - (P^2 + Q^2) / w) / sum r l over closed branches
    losses_diff_pct: float  # (AC - SOCP) / AC losses [%]
    exact: bool
    warnings: tuple[str, ...] = ()
    message: str = ""
    #: Whether the AC operating point keeps every limit of the model (bus voltage band,
    #: current and apparent-power ratings) within :data:`AC_LIMIT_TOLERANCE`; None when the
    #: power flow did not converge (nothing to hold to the limits).
    within_limits: bool | None = None
    #: The AC limits broken beyond the tolerance, worst first: ``component``, ``id``,
    #: ``limit``, ``value``, ``rating``, ``amount`` (beyond the limit), ``unit`` (and
    #: ``loading_percent`` for a rating), as in a result's ``diagnosis``.
    limit_violations: tuple[dict[str, Any], ...] = ()
    #: The largest loading of a closed line or transformer in the AC power flow, in % of its
    #: rating (pandapower's ``res_line.loading_percent`` / ``res_trafo.loading_percent`` for a
    #: pandapower net; else ``100 i_ka / i_max_ka``, or ``100 |S_from| / s_max_mva``, with
    #: the data's ratings: not of the ``--max-loading`` limit, ``loading_limit_percent``), and
    #: that branch's id; NaN and None when no closed branch has a rating (as a scenario's
    #: ``ac``).
    max_loading_percent: float = math.nan
    max_loading_element: str | None = None
    #: The limit that the check holds each rating to, in % of the rating: 100, the
    #: ``--max-loading`` value, or None with ``--no-thermal-limits``
    #: (:attr:`~feederopt.network.container.Network.loading_limit_percent`).
    #: ``max_loading_percent`` is of the rating, not of this limit.
    loading_limit_percent: float | None = 100.0
    #: The model's own power flow of the topology against the AC one
    #: (:meth:`feederopt.validation.fidelity.ModelFidelity.to_dict`: ``model_losses_kw``,
    #: ``ac_losses_kw``, ``losses_diff_pct``, ``max_voltage_diff_pu``, ``exact``,
    #: ``material``), with the reader's ``notes`` (what it did not model) and, when the
    #: difference is material, the ``warning`` that the console prints above the AC check;
    #: None when not measured.
    model_fidelity: dict[str, Any] | None = None
    #: The limits that the AC operating point breaks by no more than the tolerance (so
    #: ``within_limits`` stays True), as ``limit_violations``; listed only where the model
    #: found that the topology breaks the limits (the least-violating point: the status is
    #: not within the limits), so that the AC check says by how much it agrees (user test
    #: ut36_core #1: "within limits (AC) True" beside "the grid is infeasible", V_min 5.6e-6
    #: p.u. below the floor). Empty otherwise.
    broken_within_tolerance: tuple[dict[str, Any], ...] = ()
    #: sum |x| (l - (P^2 + Q^2) / w) / sum |x| l over closed branches: the share of the series
    #: reactances' reactive consumption that the relaxation adds
    #: (:func:`feederopt.results.mapping.reactive_relaxation_gap`; ``relaxation_gap`` does not
    #: see it on a branch without resistance); NaN when not measured.
    reactive_relaxation_gap: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "converged": self.converged,
            "losses_kw": _num(self.losses_kw),
            "min_voltage_pu": _num(self.min_voltage_pu),
            "max_voltage_pu": _num(self.max_voltage_pu),
            "max_voltage_diff_pu": _num(self.max_voltage_diff_pu),
            "relaxation_gap": _num(self.relaxation_gap),
            "reactive_relaxation_gap": _num(self.reactive_relaxation_gap),
            "losses_diff_pct": _num(self.losses_diff_pct),
            "exact": self.exact,
            "warnings": list(self.warnings),
            "message": self.message,
            "within_limits": self.within_limits,
            "limit_tolerance": dict(AC_LIMIT_TOLERANCE),
            "limit_violations": [{k: _num(v) if isinstance(v, float) else v
                                  for k, v in d.items()} for d in self.limit_violations],
            "broken_within_tolerance": [{k: _num(v) if isinstance(v, float) else v
                                         for k, v in d.items()}
                                        for d in self.broken_within_tolerance],
            "max_loading_percent": _num(self.max_loading_percent),
            "max_loading_element": self.max_loading_element,
            "loading_limit_percent": _num(self.loading_limit_percent),
            "model_fidelity": self.model_fidelity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AcCheck:
        """The AC check of a result's JSON (:meth:`to_dict`'s; null figures NaN again)."""
        return cls(
            **{k: _float(data.get(k)) for k in AC_CHECK_FIGURES},
            converged=bool(data["converged"]), exact=bool(data.get("exact")),
            warnings=tuple(data.get("warnings") or ()), message=data.get("message") or "",
            within_limits=data.get("within_limits"),
            limit_violations=tuple(data.get("limit_violations") or ()),
            broken_within_tolerance=tuple(data.get("broken_within_tolerance") or ()),
            max_loading_element=data.get("max_loading_element"),
            loading_limit_percent=data.get("loading_limit_percent"),
            model_fidelity=data.get("model_fidelity"))


def _float(x: Any) -> float:
    """A JSON figure as a float: null (a figure that does not exist) is NaN."""
    return math.nan if x is None else float(x)


def table_to_dict(table: pl.DataFrame) -> dict[str, Any]:
    """A result table in a JSON document: ``columns`` (name -> Polars type, so that a column
    of nulls keeps its type) and ``rows`` (NaN null); :func:`table_from_dict` reads it."""
    return {"columns": {c: str(t) for c, t in table.schema.items()},
            "rows": [{k: _num(v) if isinstance(v, float) else v for k, v in row.items()}
                     for row in table.iter_rows(named=True)]}


def table_from_dict(data: Mapping[str, Any]) -> pl.DataFrame:
    """The table of :func:`table_to_dict` (a type Polars does not name plainly is inferred)."""
    types = {c: _polars_type(t) for c, t in (data.get("columns") or {}).items()}
    schema = {c: t for c, t in types.items() if isinstance(t, type | pl.DataType)}
    rows = list(data.get("rows") or ())
    if schema and len(schema) < len(types):
        # a column whose type is not read here is inferred from its values, not dropped
        frame = pl.DataFrame(rows, infer_schema_length=None)
        return frame.with_columns(pl.col(c).cast(t) for c, t in schema.items()
                                  if c in frame.columns) if rows else pl.DataFrame(
            schema={c: schema.get(c, pl.Null) for c in types})
    return pl.DataFrame(rows, schema=schema or None, infer_schema_length=None)


def _polars_type(name: str) -> Any:
    """The Polars type named ``name`` as ``str(dtype)`` writes it: ``Float64``, and a list of
    one, ``List(Int64)`` (the switches' ``pp_switches``); None when not read here."""
    if name.startswith("List(") and name.endswith(")"):
        inner = _polars_type(name[5:-1])
        return pl.List(inner) if inner is not None else None
    return getattr(pl, name, None)


#: The result tables that ``to_dict(tables=True)`` holds (the JSON's ``tables``; a folder has
#: them as Parquet files).
RESULT_TABLES = ("buses", "branches", "switches")

#: The keys of a solve's JSON that :meth:`Result.from_dict` reads into the fields; every other
#: key (the settings, notes, ``held``, a stochastic or robust run's rows and summary, a
#: distribution OPF's devices and costs) is kept in ``extra``, as the JSON has it.
_READ_KEYS = frozenset({
    "kind", "schema_version", "feederopt_version", "case", "method", "status", "objective",
    "losses_kw", "lower_bound", "gap", "iterations", "solve_time_s", "solver", "open_branches",
    "out_of_service_branches", "min_voltage_pu", "max_voltage_pu", "ac_check", "ac_verdict",
    "base", "within_limits", "has_topology", "diagnosis", "timings", "engine_stats",
    "iteration_log", "source", "generators", "literature", "tables"})


#: The columns of ``Result.generators``: every in-service generator's user ``name`` (null
#: where it has none) and dispatch [MW, MVAr]
#: and its limits as the model reads them from the data (``p_min_mw`` to ``p_max_mw``,
#: ``q_min_mvar`` to ``q_max_mvar``; equal for a fixed injection, infinite (JSON null) where
#: unbounded).
GENERATOR_SCHEMA = {"id": pl.String, "name": pl.String, "bus": pl.String, "p_mw": pl.Float64,
                    "q_mvar": pl.Float64, "p_min_mw": pl.Float64, "p_max_mw": pl.Float64,
                    "q_min_mvar": pl.Float64, "q_max_mvar": pl.Float64}


def _no_generators() -> pl.DataFrame:
    return pl.DataFrame(schema=GENERATOR_SCHEMA)


def _table(table: pl.DataFrame | None) -> pl.DataFrame:
    return pl.DataFrame() if table is None else table


#: A row of the JSON's ``iteration_log`` -> the fields of an IterationRecord.
_ITERATION_FIELDS = {v: k for k, v in ITERATION_LOG_RENAMED.items()}


def _iteration_record(row: Mapping[str, Any]) -> IterationRecord:
    """A row of a result JSON's ``iteration_log`` (of any schema version) as the record it was:
    the bounds under their field names, a null figure NaN."""
    fields: dict[str, Any] = {
        _ITERATION_FIELDS.get(k, k): (math.nan if v is None and k not in ("note", "phase")
                                      else v)
        for k, v in iteration_row(row).items()}
    return IterationRecord(**fields)


#: Methods whose ``infeasible`` proves nothing (LinDistFlow's linearised limits).
HEURISTIC_METHODS = frozenset({"lindistflow"})


def heuristic_note(method: str | None, has_topology: bool = True) -> str | None:
    """What a heuristic's answer (``method`` in :data:`HEURISTIC_METHODS`, with a topology)
    is not: ``LinDistFlow is a heuristic (...): its topology is not proven optimal and
    nothing bounds its losses from below (lower bound -inf); --method benders proves the
    optimum``, beside its status ``feasible`` (user test ut43_optima #6: case33bw's 144.182
    kW read as an answer beside Benders' ``optimal`` 139.551 kW, with nothing saying that
    LinDistFlow proves nothing). None for an exact method, or without a topology (whose
    own messages say what the heuristic did not prove)."""
    if method not in HEURISTIC_METHODS or not has_topology:
        return None
    # the option as the caller writes it (note_text): method="benders" from Python, which
    # keeps it in the result's notes (user test ut44_nb #5: a lindistflow result's notes
    # were empty), --method benders on the command line
    return note_text(
        "LinDistFlow is a heuristic (linearised voltages, no losses in its model, ratings "
        "by inscribed polygons): its topology is not proven optimal and nothing bounds "
        f"its losses from below (lower bound -inf); {option_ref('method', 'benders')} "
        "proves the optimum")


def proven_lower_bound(status: Status, method: str, lower_bound: float | None) -> float:
    """The lower bound a result states, one convention for every method (Benders said -inf
    and the MISOCP +inf for the same proof of infeasibility): +inf when the run proved the
    minimisation infeasible (the optimum of an infeasible problem; not a heuristic's
    ``infeasible``, :data:`HEURISTIC_METHODS`), -inf when it stopped with no bound (NaN or
    None: nothing proven), else the bound as the method found it."""
    if status is Status.INFEASIBLE and method not in HEURISTIC_METHODS:
        return math.inf
    if lower_bound is None or math.isnan(float(lower_bound)):
        return -math.inf
    return float(lower_bound)


def bound_json(x: float | None) -> float | str | None:
    """A bound in the JSON: the number, or the strings ``"inf"`` / ``"-inf"`` (JSON has no
    infinity, and null would lose the sign that tells a proof of infeasibility, +inf, from no
    bound at all, -inf); null for NaN. :func:`bound_value` reads it back."""
    if x is None:
        return None
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x if math.isfinite(x) else None


def bound_value(x: Any) -> float | None:
    """A bound as :func:`bound_json` wrote it, as a float (``"inf"`` -> inf); None for null or
    anything else that is no number."""
    if isinstance(x, str) and x.strip().lower() in ("inf", "+inf", "-inf"):
        return float(x.strip())
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def figures_repr(name: str, figures: Mapping[str, Any]) -> str:
    """A result's ``repr`` for a person at the Python prompt: its headline figures, each on
    one line (``name(case='case33bw', status='optimal', objective=139.551, ...)``), floats to
    6 significant digits, a list as its length and first ids, a table as its shape. The
    dataclass's own repr printed every table and the network (14,708 characters for case33bw;
    session 38)."""

    def shown(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return repr(v)
        if isinstance(v, float):
            return f"{v:.6g}"
        if isinstance(v, Enum):
            return repr(v.value)
        if isinstance(v, pl.DataFrame):
            return f"<{v.height} x {v.width} table>"
        if isinstance(v, list | tuple):
            head = ", ".join(str(x) for x in v[:8])
            return f"[{head}{', ...' if len(v) > 8 else ''}] ({len(v)})"
        return repr(v)

    body = ",\n".join(f"    {k}={shown(v)}" for k, v in figures.items())
    return f"{name}(\n{body},\n)"


@dataclass(frozen=True)
class Shown:
    """A figure of :func:`figures_repr` shown as ``text`` as it is: what a list of records
    is, e.g. ``<5 branches (dicts), ids 7, 9, 14, 32, 37>``, not a list it is not (user test
    ut44_nb #4: ``open_branches=[7, 9, ...]`` for a list of dicts)."""

    text: str

    def __repr__(self) -> str:
        return self.text


def records_shown(records: Sequence[Mapping[str, Any]], what: str) -> Shown:
    """``records`` (dicts with an ``id``) as ``<N what (dicts), ids a, b, ...>``: the
    first 8 ids."""
    ids = [str(r.get("id")) for r in records]
    head = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
    return Shown(f"<{len(ids)} {what} (dicts){', ids ' + head if ids else ''}>")


@dataclass
class Result:
    """The answer of :func:`feederopt.solve`, in the user's ids and SI units.

    Figures (a float that does not exist is NaN; ``to_dict``/the JSON write it as null):

    * ``case``, ``method`` (``benders``, ``benders-scip``, ``misocp``, ``lindistflow``;
      ``stochastic-benders``, ``robust-cutting-plane`` with ``scenarios=``/``robust=``),
      ``solver``, ``status`` (:class:`~feederopt.solvers.status.Status`: ``optimal``,
      ``feasible``, ``time_limit``, ``interrupted``, ``infeasible``, ``error``),
      ``solve_time_s`` (wall time), ``timings`` (seconds per step: ``build_s``, ``master_s``,
      ``slave_s``, ... within ``solve_time_s``; outside it ``read_s``, ``base_case_s``,
      ``ac_check_s``, ``ac_end_choice_s``, ``ac_choice_s``, ... and, from the command line,
      ``startup_s`` and ``write_s``: user test ut51_bigrid #2; every key ends in ``_s``) and
      ``engine_stats`` (the engine's counts and bounds: ``master_nodes``,
      ``master_lp_iterations``, ``warm_cuts``, ``probed``, ...; a key ending in ``_kw`` in
      kW), apart so that no count reads as seconds (user test ut36_api #5).
    * ``objective`` [kW-equivalent]: what the method minimised at the chosen topology: the
      losses plus the switching cost ``sum_{changed switches} c_s`` (``switch_cost_kw``, its
      constant part included; ``extra["switching"]`` itemises it) plus, with
      ``loss_price_per_mwh``, the generators' energy cost priced as losses, ``sum_g
      cost_per_mwh_g p_g / loss_price_per_mwh`` (with its fixed, quadratic, reactive and
      import parts: ``extra["cost_breakdown"]``, :func:`feederopt.api.cost_breakdown`, whose
      parts sum to it). ``losses_kw`` is the losses alone, the model's
      ``sum r l`` over the series impedances plus the branches' shunt conductance losses
      (Farivar & Low 2013's SOCP branch flow model; NaN for a topology that breaks a limit,
      whose point minimises slack: the AC check has its true losses). With ``scenarios=``
      or ``robust=``, ``objective`` is the expected (probability-weighted) or worst-case
      value over the scenarios or extreme points, while ``losses_kw``, the tables and the AC
      check are those of the chosen topology at the network's **nominal** loads
      (``uncertain`` and ``extra`` hold the per-scenario values). A robust run whose
      worst-case search stopped before its proof has the worst case *found* as its objective
      (a value the topology attains) and the search's upper bound apart
      (:class:`~feederopt.results.uncertain.RobustSummary`'s ``worst_case_bound_kw``,
      ``worst_case_proven``).
    * ``lower_bound`` [kW-equivalent]: a proven lower bound of ``objective`` over every radial
      topology (+inf: the run proved that none meets the limits; -inf: nothing proven, e.g. a
      heuristic); ``gap``: ``(objective - lower_bound) / max(|objective|, 1e-9)``, relative
      (inf without a bound or an incumbent, never NaN; the JSON's null reads back as inf);
      for such a robust run, ``(U - lower_bound) / U``
      with ``U`` the upper bound on the objective (the worst case's bound plus the switching
      cost).
    * ``iterations``: how often the method's main loop ran: the master problems a
      decomposition solved (generalised Benders, Geoffrion 1972; outer approximation,
      stochastic, robust), or for the single-tree ``benders-scip`` the distinct topologies
      its callback evaluated; 1 for a one-shot MISOCP or LinDistFlow solve. 0 when the bounds
      met before the first master, as on case33bw, where the start heuristics and probing
      prove the optimum.
      ``log`` is not one row per iteration: it has a row (:class:`~feederopt.solvers.status.
      IterationRecord`: bounds, gap, times, ``note``) whenever a bound moved, the start and
      the steps outside the loop (probing, a final proof; named by ``note``) included, each
      labelled with the ``iteration`` it was recorded at; so ``len(log)`` may exceed
      ``iterations`` (case33bw with Benders: 2 rows, ``start`` and ``probing``, 0 iterations).
      ``iterations.parquet`` of a result folder is ``log``.
    * ``min_voltage_pu``/``max_voltage_pu``: the model's voltage range over the user's buses;
      ``ac_check`` (:class:`AcCheck`): pandapower's AC power flow of the chosen topology at the
      optimiser's dispatch against the model (None with ``ac_check=False``).
    * ``base``: the network's own base case (its normally open branches) in the AC power flow:
      ``losses_kw``, ``min_voltage_pu``, ``min_voltage_bus``, ``max_voltage_pu``,
      ``max_voltage_bus``, ``open_branches``, and where they apply ``unsupplied``, ``loops``,
      ``warning``, ``ac_power_flow``/``ac_message`` (why the base case has no losses); empty
      without the AC check.
    * ``extra``: what else the method reported, merged into the JSON as it is: ``settings``
      (the options as used), ``notes``, ``held``, ``switching``, ``solver_status``,
      ``polish``, the scenarios' or extreme points' rows, ...
    * ``open_branches``: the branches the answer opens (``id``, ``from_bus``, ``to_bus``, and
      the branch's user ``name`` and ``operated_by``, the pandapower switches, where known);
      ``out_of_service_branches``: the network's out-of-service ones, open in every answer,
      and those of a pandapower net that reach an out-of-service bus, outside the model, each
      with its ``state`` (charged from its other end, open, out of service); ``closed``:
      branch id -> state.
    * ``within_limits``: False when the topology breaks a limit (the least-violating one of
      a grid proven infeasible, or of a run stopped before it found one within the limits),
      in the model or in the AC check, and when the AC check did not converge (or could not
      run: nothing verifies the limits; ``ac_verdict`` says so); ``diagnosis`` then names the
      violated limits.
      ``has_topology``: False when the run ended without any topology (``open_branches``
      empty, the tables' ``closed`` null).

    Tables (Polars, one row per bus, in-service branch, switchable branch, in-service
    generator; each with the element's user ``name`` beside its ``id``, null where the source
    has none: pandapower's ``net.bus.name``, ``net.line.name``, ..., a table folder's
    ``name`` column): ``buses`` (``vm_pu`` the model's, ``vm_ac_pu`` the AC check's, the load, the
    band), ``branches`` (``closed``, the model's flows ``p_from_mw``, ``q_from_mvar``, series
    current ``i_ka``, ``loss_kw``, and pandapower's ``p_from_ac_mw``, ``q_from_ac_mvar``,
    ``i_ac_ka``, ``loading_ac_percent``, ``loss_ac_kw``), ``switches`` (``closed``,
    ``initially_closed``, ``changed``, ``operated_by``) and ``generators``. A value that does
    not exist (the loading of a branch
    without a rating, every AC column without the AC check) is **null**, never NaN, exactly
    as in the Parquet files that :func:`feederopt.save` writes (``pl.read_parquet(folder /
    "branches.parquet")`` equals ``branches``): to Polars a NaN is a number above every other,
    so ``filter(pl.col("loading_ac_percent") > 100)`` would pick every unrated branch
    (:func:`feederopt.network.schemas.nan_as_null`, applied when a Result is built).
    """

    case: str
    method: str
    status: Status
    objective: float  # [kW-equivalent]: losses plus optional switching cost
    losses_kw: float
    lower_bound: float
    gap: float
    iterations: int
    solve_time_s: float
    solver: str
    buses: pl.DataFrame
    branches: pl.DataFrame
    switches: pl.DataFrame
    open_branches: list[dict[str, Any]]
    min_voltage_pu: float
    max_voltage_pu: float
    ac_check: AcCheck | None = None
    base: dict[str, Any] = field(default_factory=dict)
    log: list[IterationRecord] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    diagnosis: list[dict[str, Any]] = field(default_factory=list)
    #: The engine's counts and bounds, apart from ``timings`` (the class docstring).
    engine_stats: dict[str, float] = field(default_factory=dict)
    #: Anything else the algorithm reported (solver statuses, notes), merged into the JSON.
    extra: dict[str, Any] = field(default_factory=dict)
    network: Network | None = None
    #: The scenario or extreme-point summary of a stochastic or robust solve.
    uncertain: StochasticSummary | RobustSummary | None = None
    #: What ``feederopt check`` loads the network from again (a resolved path or a case name).
    source: str | None = None
    #: The devices' settings and the cost terms of a distribution OPF (``devices``, ``costs``).
    dopf: DopfSummary | None = None
    #: A loaded DOPF result's ``devices.parquet`` (:func:`feederopt.load_result` of a folder;
    #: :meth:`DopfSummary.devices_table`), None otherwise; a solved one has :attr:`dopf`.
    device_table: pl.DataFrame | None = None
    #: False when the topology breaks a limit: the least-violating one, either of a grid
    #: proven infeasible or of a run that found none within the limits before it stopped
    #: (``diagnosis`` names the violated limits, ``total_violation_pu`` sums their slack).
    within_limits: bool = True
    #: False when the run ended without any topology (a solver stopped by its time limit, or
    #: failed, before it found one): ``open_branches`` is empty, the tables' ``closed`` is
    #: null, ``within_limits`` is False; there is nothing to operate.
    has_topology: bool = True
    #: Every in-service generator's active and reactive power [MW, MVAr] at the chosen
    #: topology: the optimiser's dispatch where the data give a range (``p_min_mw`` to
    #: ``p_max_mw``, ``q_min_mvar`` to ``q_max_mvar``), which the AC check runs at (null
    #: without a topology). The JSON's ``generators``; ``generators.parquet`` of a folder.
    generators: pl.DataFrame = field(default_factory=_no_generators)
    #: The network's out-of-service branches (``id``, ``from_bus``, ``to_bus``): outside the
    #: model and the tables, open in every answer (a tie held open by taking it out).
    out_of_service_branches: list[dict[str, Any]] = field(default_factory=list)
    #: Published figures of the case against the proven bound (``literature``).
    literature: list[dict[str, Any]] = field(default_factory=list)
    #: ``(pandapower net, network, closed, generators) -> net with those switch states``,
    #: the network's loads and the ``generators``' dispatch; set by the api layer
    #: (:func:`feederopt.io.pandapower.write_switch_states` and
    #: :func:`~feederopt.io.pandapower.write_operating_point`) for :meth:`to_pandapower`.
    switch_writer: Callable[[Any, Network, dict[str, bool], pl.DataFrame], Any] | None = field(
        default=None, repr=False, compare=False)
    #: ``(pandapower net, network, settings) -> None``: writes a DOPF's device settings into
    #: the (copied) net; set by the api layer
    #: (:func:`feederopt.io.pandapower.write_device_settings`) for :meth:`to_pandapower`.
    device_writer: Callable[[Any, Network, DeviceSettings], Any] | None = field(
        default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        ac = self.ac_check
        return figures_repr("Result", {
            "case": self.case, "method": self.method, "status": self.status,
            "objective": self.objective, "losses_kw": self.losses_kw,
            "lower_bound": self.lower_bound, "gap": self.gap,
            "open_branches": records_shown(self.open_branches, "branches"),
            "within_limits": self.within_limits,
            # names a user can copy: ac_check.losses_kw is the attribute (ut44_nb #4)
            "ac_check.within_limits": None if ac is None else ac.within_limits,
            "ac_check.losses_kw": None if ac is None else ac.losses_kw,
            "iterations": self.iterations, "solve_time_s": self.solve_time_s,
            "buses": self.buses, "branches": self.branches, "switches": self.switches,
            "generators": self.generators})

    def __post_init__(self) -> None:
        self.lower_bound = proven_lower_bound(self.status, self.method, self.lower_bound)
        # the gap is a number or +inf (no bound and incumbent to measure it by: the class
        # docstring), never NaN: the JSON writes inf as null (README), read back here as
        # inf, so a proven-infeasible result's gap round-trips (user test ut40_recheck_b #3:
        # ``inf`` came back as ``nan`` from from_dict and load_result, old files alike)
        if math.isnan(self.gap):
            self.gap = math.inf
        # the algorithms keep their counts with their clocks; a result gives seconds apart
        counts = {k: v for k, v in self.timings.items() if not k.endswith("_s")}
        if counts:
            self.timings = {k: v for k, v in self.timings.items() if k.endswith("_s")}
            self.engine_stats = {**self.engine_stats, **counts}
        # missing values are null in memory as in the files written (the class docstring)
        self.buses = nan_as_null(self.buses)
        self.branches = nan_as_null(self.branches)
        self.switches = nan_as_null(self.switches)
        self.generators = nan_as_null(self.generators)

    @property
    def notes(self) -> list[str]:
        """What the run did not apply, fell back to, left out or changed (the reader's notes,
        the scenario weights divided by their sum, an inexact relaxation, ...): the JSON's
        ``notes``, the report's notes (kept in :attr:`extra`); empty when there is none."""
        return [str(n) for n in self.extra.get("notes", [])]

    @property
    def ac_verdict(self) -> str | None:
        """The AC check's verdict on this answer (:func:`ac_verdict`); None when the AC check
        confirms it (or there is none to give)."""
        return ac_verdict(self.ac_check.to_dict() if self.ac_check else None, self.losses_kw)

    @property
    def closed(self) -> dict[str, bool]:
        """Branch id -> closed, for every in-service branch."""
        return dict(
            zip(self.branches["id"].to_list(), self.branches["closed"].to_list(), strict=True)
        )

    def to_dict(self, *, tables: bool = False) -> dict[str, Any]:
        """The JSON document of this result (``feederopt solve --json``, a folder's
        ``result.json``). ``tables=True`` adds the ``buses``, ``branches`` and ``switches``
        tables (``tables``: :func:`table_to_dict`), which a folder keeps as Parquet files and
        a ``--json`` file leaves out; :meth:`from_dict` reads either back."""
        out: dict[str, Any] = {
            "case": self.case,
            "method": self.method,
            "status": self.status.value,
            "objective": _num(self.objective),
            "losses_kw": _num(self.losses_kw),
            "lower_bound": bound_json(self.lower_bound),
            "gap": _num(self.gap),
            "iterations": self.iterations,
            "solve_time_s": _num(self.solve_time_s),
            "solver": self.solver,
            "open_branches": self.open_branches,
            "out_of_service_branches": self.out_of_service_branches,
            "min_voltage_pu": _num(self.min_voltage_pu),
            "max_voltage_pu": _num(self.max_voltage_pu),
            "ac_check": self.ac_check.to_dict() if self.ac_check else None,
            # the headline's verdict beside the status (the model's): null when the AC check
            # confirms the answer
            "ac_verdict": self.ac_verdict,
            "base": {k: _num(v) if isinstance(v, float) else v for k, v in self.base.items()},
            "within_limits": self.within_limits,
            "has_topology": self.has_topology,
            "diagnosis": self.diagnosis,
            "timings": {k: _num(v) for k, v in self.timings.items()},
            "engine_stats": {k: _num(v) for k, v in self.engine_stats.items()},
            "iteration_log": [
                {k: (_num(v) if isinstance(v, float) else v) for k, v in r.to_row().items()}
                for r in self.log
            ],
        }
        out.update(self.extra)
        if self.uncertain is not None:
            out.update(self.uncertain.to_dict())
        if self.source is not None:
            out["source"] = self.source
        if self.dopf is not None:
            out.update(self.dopf.to_dict())
        if self.generators.height:
            out["generators"] = [{k: _num(v) if isinstance(v, float) else v
                                  for k, v in row.items()}
                                 for row in self.generators.iter_rows(named=True)]
        if self.literature:
            out["literature"] = [{k: _num(v) if isinstance(v, float) else v
                                  for k, v in e.items()} for e in self.literature]
        if tables:
            out["tables"] = {name: table_to_dict(getattr(self, name)) for name in RESULT_TABLES}
        return stamped("solve", out)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *,
                  tables: Mapping[str, pl.DataFrame | None] | None = None,
                  where: str | None = None) -> Result:
        """The result of a solve's JSON document (:meth:`to_dict`'s, a ``--json`` file's or a
        folder's ``result.json``, read with :func:`json.load`), of this schema version or an
        older one (:func:`~feederopt._version.read_as_current`: the iteration log's bounds
        of version 1, ``lower_bound``/``upper_bound``, and an older robust run's worst case
        read as this version's). The figures, status, bounds, gap, open branches, AC check,
        base case, iteration log and generators are read into their fields, a null figure as
        NaN (a null ``gap`` as inf: a gap is never NaN); everything else the document holds
        (settings, notes, a stochastic or robust run's summary and rows, a distribution OPF's
        devices) stays in :attr:`extra`, so
        that ``Result.from_dict(d).to_dict()`` gives ``d`` again. The ``buses``,
        ``branches`` and ``switches`` tables are the document's ``tables``
        (``to_dict(tables=True)``), else ``tables`` (a folder's Parquet tables, and its
        ``generators``: :func:`feederopt.load_result`), else empty. Without :attr:`network`
        the result cannot write its switch states (:meth:`to_pandapower`); the rest reads as
        the result solved.

        A document that is no solve's (a required key missing, an unknown status, a figure
        that is no number, a table that is none) is an :class:`~feederopt.errors.InputError`
        naming each field, and the file ``where`` it was read from when given
        (:func:`~feederopt.results.document.solve_document_problems`)."""
        doc = read_as_current(data, "the result document")
        if not isinstance(doc, Mapping) or doc.get("kind", "solve") != "solve":
            kind = doc.get("kind") if isinstance(doc, Mapping) else type(doc).__name__
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "result", f"not a balanced solve's result (kind "
                f"{kind!r})", field="kind", hint="feederopt.read_result reads every kind "
                "as a dict; a three-phase solve's: ThreePhaseResult.from_dict")])
        problems = solve_document_problems(doc, where)
        if problems:
            raise InputError(problems)
        given = dict(tables or {})
        for name, table in (doc.get("tables") or {}).items():
            given[name] = table_from_dict(table)
        log = [_iteration_record(r) for r in doc.get("iteration_log") or ()]
        generators = doc.get("generators") or []
        gen_table = given.get("generators")
        ac = doc.get("ac_check")
        lower = bound_value(doc.get("lower_bound"))
        return cls(
            case=doc["case"], method=doc["method"], status=Status(doc["status"]),
            objective=_float(doc.get("objective")), losses_kw=_float(doc.get("losses_kw")),
            lower_bound=-math.inf if lower is None else lower, gap=_float(doc.get("gap")),
            iterations=int(doc.get("iterations") or 0),
            solve_time_s=_float(doc.get("solve_time_s")), solver=doc.get("solver") or "",
            buses=_table(given.get("buses")), branches=_table(given.get("branches")),
            switches=_table(given.get("switches")),
            open_branches=[dict(b) for b in doc.get("open_branches") or ()],
            out_of_service_branches=[dict(b) for b in doc.get("out_of_service_branches") or ()],
            min_voltage_pu=_float(doc.get("min_voltage_pu")),
            max_voltage_pu=_float(doc.get("max_voltage_pu")),
            ac_check=None if ac is None else AcCheck.from_dict(ac),
            base=dict(doc.get("base") or {}), log=log,
            timings={k: _float(v) for k, v in (doc.get("timings") or {}).items()},
            diagnosis=list(doc.get("diagnosis") or ()),
            engine_stats={k: _float(v) for k, v in (doc.get("engine_stats") or {}).items()},
            extra={k: v for k, v in doc.items() if k not in _READ_KEYS},
            source=doc.get("source"),
            within_limits=bool(doc.get("within_limits", True)),
            has_topology=bool(doc.get("has_topology", True)),
            generators=gen_table if gen_table is not None
            else pl.DataFrame(generators, schema=GENERATOR_SCHEMA) if generators
            else _no_generators(),
            literature=list(doc.get("literature") or ()),
            device_table=given.get("devices"))

    def to_json(self) -> str:
        """The JSON document of :meth:`to_dict`; NaN and infinities (``time_limit_s`` of
        ``--time-limit inf``) are null, as JSON has neither (``Infinity`` broke strict
        parsers; user test ut_io #7)."""
        return json.dumps(finite_json(self.to_dict()), indent=2, allow_nan=False)

    def to_pandapower(self, net: Any) -> Any:
        """A copy of the pandapower ``net`` with this result's switch states, the network's
        loads and the generators' set-points at this result's dispatch (:attr:`generators`:
        what the AC check runs at, so that loads or set-points changed with
        ``network.replace`` are in the copy too) and, for a distribution OPF, its device
        settings (``tap_pos``, shunt ``step``, the committable
        sgens' ``p_mw``, ``q_mvar`` and ``in_service``, the reduced flexible loads) written
        into it: ``pp.runpp`` on the copy is the result's AC check. ``net`` is not changed.
        A result with nothing to write (no network, no topology) is an
        :class:`~feederopt.errors.InputError` naming why (:meth:`switch_states_network`)."""
        network = self.switch_states_network()
        if self.switch_writer is None or (self.dopf is not None and self.device_writer is None):
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "result", "this result was not built by "
                "feederopt.solve, so it has no writer of switch states", field="switch_writer",
                hint="use feederopt.api.to_pandapower(result, net)")])
        out = self.switch_writer(net, network, self.closed, self.generators)
        if self.dopf is not None and self.device_writer is not None:
            self.device_writer(out, network, self.dopf.settings)
        return out

    def switch_states_network(self) -> Network:
        """The network whose switch states this result writes (:meth:`to_pandapower`), or an
        :class:`~feederopt.errors.InputError` when there are none to write: no network (a
        result built by hand, or read back from its JSON), or no topology (a run stopped
        before it found one). Before, an untyped ``ValueError`` (user test ut36_api #5)."""
        if self.network is None:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "result", "this result has no network to map the "
                "switch states with", field="network",
                hint="write the switch states of the result that feederopt.solve returned")])
        if not self.has_topology:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "result", f"this result holds no topology (status "
                f"{self.status.value}): there are no switch states to write",
                field="has_topology", hint="a longer time_limit, or relaxed limits, may find "
                "one (result.diagnosis names what binds)")])
        return self.network
