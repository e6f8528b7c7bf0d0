"""The uncertainty commands of the CLI: ``feederopt scenarios``, ``feederopt check``, and what
``feederopt solve --scenarios/--robust`` prints beyond a deterministic solve.

Registered on :data:`feederopt.cli.app.app` when :mod:`feederopt.cli` is imported.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from feederopt import InputError, Problem, ProblemKind, check_schema_version, interrupt
from feederopt.cli.app import (
    EXIT_INFEASIBLE,
    EXIT_LIMITS_BROKEN,
    FILE,
    FORCE_OPT,
    IDS,
    QUIET_OPT,
    REPEATABLE,
    SIMBENCH_FORM,
    SOURCE_ARG,
    TIES_OPT,
    VERBOSE_OPT,
    app,
    cli_command,
    cut_short,
    fmt,
    joined_list,
    late_outputs,
    load_checked,
    progress_display,
    stderr,
    stdout,
    summary_table,
    verdict_exit_code,
)

#: What the scenario table's "model slack (sum)" is: not the amount of any limit (ut44 #4: it
#: read "slack 0.725 p.u." beside a transformer 3.6 A over its rating).
MODEL_SLACK_LEGEND = (
    "model slack (sum): the penalised SOCP's slack variables summed over the limits (power "
    "balance in p.u. of the base power, squared voltage in p.u.^2, squared current in p.u.^2): "
    "a model-internal sum, not the amount by which a limit is broken (the limits and amounts "
    "are listed below, and in the AC columns)")


class GrowthOf(StrEnum):
    """What ``feederopt check --growth-margin`` scales."""

    LOAD = "load"
    GENERATION = "generation"


GROWTH_MARGIN_OPT = typer.Option(
    None, "--growth-margin", help="Solve results: also the largest uniform factor of "
    "every load (load) or of every generating unit of fixed output: PV, wind and the like "
    "(generation), "
    "that the topology withstands in the AC power flow at the nominal loads (a scenario "
    "result: at each scenario's own loads, scaling its own generation; none to scale: not "
    "applicable), by bisection to 0.001 up to x10 (the limits themselves: printed rounded "
    "down, a safe bound; the factor within the AC check's tolerance beside it where it "
    "differs), and the limit that breaks first beyond it.")


class LoadShapes(StrEnum):
    """Which load shapes of an OpenDSS feeder ``feederopt scenarios --load-shapes`` reads."""

    DAILY = "daily"


LOAD_SHAPES_OPT = typer.Option(
    None, "--load-shapes", help="OpenDSS (.dss): one scenario per step of the loads' daily "
    "load shapes (daily=...) over the day (or the shapes' length, if shorter), weighted by the "
    "step, instead of random growth and DER; PV systems, generators and storage with a daily "
    "shape get generator rows, their output in OpenDSS's daily mode at each step (positive "
    "injects); for `feederopt solve FILE.dss --scenarios` (one topology for the day).")


def parse_ids(text: str | None) -> tuple[list[str] | None, list[Problem]]:
    """``--uncertain-loads "a,b, c"`` -> ``["a", "b", "c"]`` (None stays None) and its
    problems: an empty entry (``a,,b``), a list that names no load."""
    from feederopt import blank_entry_problems, split_ids

    if text is None:
        return None, []
    ids = list(split_ids(text))
    problems = blank_entry_problems("uncertain_loads", text)
    if not ids:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                "--uncertain-loads names no load", field="uncertain_loads",
                                hint="e.g. 18,33"))
    return (ids or None), problems


def loading_cell(ac: Any) -> str:
    """A scenario's (or extreme point's) largest AC loading and its branch:
    ``61.70 % line:3``; ``-`` when the power flow failed or no closed branch is rated."""
    element = getattr(ac, "max_loading_element", None)
    if not ac.converged or element is None:
        return "-"
    return f"{fmt(ac.max_loading_percent, '.2f', ' %')} {element}"


def loading_limit(result: Any) -> str:
    """The limit beside a loading in % of the rating (:func:`~feederopt.results.result.
    loading_limit_text`): the AC check's, else the ``settings`` the result was found under;
    empty at the data's ratings."""
    from feederopt import loading_limit_text

    ac = result.ac_check
    if ac is not None:
        return loading_limit_text(ac.loading_limit_percent)
    settings = result.extra.get("settings") or {}
    return loading_limit_text(settings.get("max_loading_percent", 100.0))


def print_uncertain(result: Any) -> None:
    """The scenario or extreme-point summary of a stochastic or robust solve: each scenario's
    losses and slack (SOCP) and its AC power flow, the expected values, the worst scenario's
    losses and slack apart, and the limits verdict with the binding limits."""
    from feederopt import RobustSummary, StochasticSummary
    from feederopt.api import NOMINAL_NOTE, NOMINAL_NOTE_ROBUST, source_vm_text
    from feederopt.cli.app import volt_range

    out = stdout()
    summary = result.uncertain
    if isinstance(summary, StochasticSummary):
        table = Table(title=f"{summary.scenario_count} scenarios (one topology for all)",
                      title_justify="left")
        # the scenarios' source voltages, when the file set one (a source row)
        sources = summary.source_rows
        for col in ("scenario", "weight", *(("source V",) if sources else ()), "losses [kW]",
                    "model slack (sum)", "V min", "AC losses [kW]", "AC V min", "AC V max",
                    "AC max loading", "AC"):
            table.add_column(escape(col), justify="left" if col == "scenario" else "right")
        rows = summary.scenarios
        shown = sorted(rows, key=lambda r: -(r.outcome.objective_kw or 0.0))[:10]
        for r in shown:
            ac = r.ac
            table.add_row(escape(r.scenario), f"{r.weight:.4f}",
                          *((escape(source_vm_text(r.source_vm_pu)),) if sources else ()),
                          fmt(r.outcome.losses_kw, ".3f") + r.outcome.not_exact_mark,
                          fmt(r.outcome.violation_pu, ".2e"),
                          fmt(r.outcome.min_voltage_pu, ".4f"),
                          "-" if ac is None else fmt(ac.losses_kw, ".3f"),
                          "-" if ac is None else fmt(ac.min_voltage_pu, ".4f"),
                          "-" if ac is None else fmt(ac.max_voltage_pu, ".4f"),
                          "-" if ac is None else loading_cell(ac),
                          "-" if ac is None else "diverged" if not ac.converged
                          else "ok" if not ac.violations
                          else f"{len(ac.violations)} off")
        limit = loading_limit(result)
        if not (shown and result.has_topology):
            # stopped before any topology: no scenario was evaluated, so no table (it printed
            # its headers and no row; user test ut50_par #2)
            out.print(f"{summary.scenario_count} scenarios: none evaluated (no topology)",
                      markup=False)
        else:
            out.print(table)
        inexact = any(r.outcome.relaxation_exact is False for r in shown)
        if shown and result.has_topology:
            out.print("losses and V min [p.u.]: the SOCP model's"
                      + (" (marked not exact: the relaxation adds losses no power flow has: note "
                         "below)" if inexact else "") + "; " + MODEL_SLACK_LEGEND
                      + "; AC: pandapower's power "
                      "flow at the scenario's loads and source voltage (max loading: the "
                      "most loaded line or transformer, % of its rating"
                      f"{'; ' + limit if limit else ''}; "
                      "ok: within every limit; n off: n limits broken"
                      + ("; source V: the scenario's source voltage [p.u.], its source row's or "
                         "the network's set-point" if sources else "") + ")", style="dim",
                      markup=False)
        if len(rows) > len(shown):
            out.print(f"({len(rows) - len(shown)} more scenarios in the JSON)")
        if summary.weights_note is not None:  # also in the result's notes
            out.print(f"note: {summary.weights_note}", style="yellow", markup=False)
        worst = summary.worst
        ac0 = result.ac_check
        # the nominal load's least-violating point (it needs slack there) is not compared
        # with the AC power flow: no inexactness to report (ut48_scen #1)
        inexact = (ac0 is not None and ac0.converged and not ac0.exact
                   and math.isfinite(result.losses_kw)
                   and summary.expected_losses_kw is not None
                   and math.isfinite(summary.expected_losses_kw))
        expected_ac = summary.expected_ac_losses_kw
        line = (f"expected losses {fmt(summary.expected_losses_kw, '.3f', ' kW')} (SOCP model"
                + ("; relaxation not exact at the nominal load: AC "
                   f"{fmt(ac0.losses_kw, '.3f', ' kW')} there, the scenarios' AC losses "
                   "above" if inexact and ac0 is not None else "")
                + (f"; over the scenarios' AC power flows {expected_ac:.3f} kW"
                   if expected_ac is not None else "") + "); expected "
                f"objective {fmt(summary.expected_objective_kw, '.3f', ' kW')} ("
                f"{summary.objective_terms(result.extra.get('switching'))}); "
                + (f"{summary.infeasible_scenarios} scenario(s) need slack"
                   if result.has_topology else "no scenario was evaluated (no topology)"))
        if worst is not None:
            o = worst.outcome
            line += (f"; worst scenario {worst.scenario}: losses "
                     f"{fmt(o.losses_kw, '.3f', ' kW')}, model slack (sum) "
                     f"{fmt(o.violation_pu, '.3g')}")
        out.print(line, markup=False)
        if summary.objective == "worst":
            # what the run minimised: its objective, bound and gap are of the worst scenario
            out.print(f"{summary.objective_text}: the largest scenario value (losses plus "
                      "the slack penalty) plus the switching cost, "
                      f"{fmt(summary.worst_objective_kw, '.3f', ' kW')}", markup=False)
        else:
            out.print(summary.objective_text, markup=False)
        top = summary.ac_max_loading
        if top is not None:
            out.print(f"largest AC loading over the scenarios: {top[0]:.2f} % of its rating "
                      f"({top[1]}, scenario {top[2]}{'; ' + limit if limit else ''})",
                      markup=False)
    if isinstance(summary, RobustSummary):
        worst_ac = summary.worst_vertex_ac
        head = (f"robust: +-{summary.uncertainty * 100:g} % on "
                f"{len(summary.uncertain_loads)} load(s), budget "
                f"{summary.budget if summary.budget is not None else 'none'}"
                + (" (binds nothing: every uncertain load may deviate at once)"
                   if summary.budget_binds_nothing else "")
                + (f", {summary.source_text}" if summary.source_vm_band is not None else "")
                + ", "
                f"{summary.extreme_points_text} extreme points; ")
        if not result.has_topology:
            # no topology: nothing was held to the extreme points (ut_unc #2: "feasible at
            # every extreme point: no; worst-case losses - at extreme point None")
            out.print(head + "no topology was found, so none was checked at the extreme "
                      "points", markup=False)
        else:
            worst_row = next((v for v in summary.vertices if v.vertex == summary.worst_vertex),
                             None)
            ac_worst = summary.worst_case_ac
            out.print(head + "the topology is feasible at every extreme point in the convex "
                      f"model: {robust_feasible_text(summary)}; worst-case losses "
                      # the worst case found, not proven, when the search stopped first
                      + ("found " if summary.worst_case_proven is False else "")
                      + f"{fmt(summary.worst_case_losses_kw, '.3f', ' kW')}"
                      + ("" if worst_row is None else worst_row.outcome.not_exact_mark)
                      + ("" if summary.worst_vertex is None
                         else f" at extreme point {summary.worst_vertex}")
                      + (f" (loads {signs})" if (signs := summary.vertex_text(
                          summary.worst_vertex)) else "")
                      # the true worst case beside the model's, as the scenarios' expected
                      # AC losses beside the model's expectation (when it is not the model's
                      # worst extreme point's, which the next line gives, exact)
                      + ("" if ac_worst is None or (not summary.inexact_vertices
                                                    and ac_worst.vertex == summary.worst_vertex)
                         else
                         f"; over the AC power flows at {summary.ac_scope} "
                         f"{fmt(ac_worst.ac.losses_kw, '.3f', ' kW')} at {ac_worst.name}"),
                      markup=False)
        if worst_ac is not None:
            out.print(f"AC power flow at extreme point {summary.worst_vertex}: "
                      + ("not converged" if not worst_ac.converged else
                         f"losses {fmt(worst_ac.losses_kw, '.3f', ' kW')}, voltage "
                         f"{volt_range(worst_ac.min_voltage_pu, worst_ac.max_voltage_pu)}, "
                         f"largest loading {loading_cell(worst_ac)}"
                         + (f" ({limit})" if (limit := loading_limit(result)) else "")
                         + ", "
                         + (f"{len(worst_ac.violations)} limit(s) broken"
                            if worst_ac.violations else
                            # the model needs slack there (named below): the AC power flow
                            # breaks those limits by less than the AC check's tolerance, not
                            # "within the limits" (ut36_core #2)
                            "no limit broken beyond the AC check's tolerance (the model "
                            "needs slack there, below)" if (f"extreme point {summary.worst_vertex}"
                                                in dict(summary.with_slack)) else
                            "within the limits")), markup=False)
    if summary is not None:
        note = summary.inexact_note
        if note is not None:
            out.print(f"note: {note}", style="yellow", markup=False)
        choice = result.extra.get("ac_choice")
        if isinstance(choice, dict) and choice.get("note"):  # the model's answer broke AC
            out.print(f"note: {choice['note']}", style="yellow", markup=False)
        if result.has_topology:
            nominal = (NOMINAL_NOTE_ROBUST if isinstance(summary, RobustSummary)
                       else NOMINAL_NOTE)
            out.print(f"note: {nominal}", style="dim", markup=False)
        note = stopped_bound_note(result)
        if note is not None:
            out.print(f"note: {note}", style="yellow", markup=False)
        print_uncertain_verdict(result)


def stopped_bound_note(result: Any) -> str | None:
    """Why a scenario or robust run that stopped has no gap: no lower bound (the master had
    not completed a solve), or, for a robust run, no topology certified within the limits at
    every extreme point (the worst-case search did not prove the ones it was given within the
    time limit: ``uncertified_topologies``), so no upper bound; its lower bound is then the
    master's, a relaxation's. None when there is a gap, or nothing to bound (proven
    infeasible). ut39_recheck_b: case84tpc's run said "lower bound -inf" and "the master had
    not completed a solve" beside a master bound of 470.38 kW in its log."""
    status = result.status.value
    if not result.has_topology or status == "infeasible":
        return None
    lb = result.lower_bound
    if lb is None or not math.isfinite(lb):
        return (f"no lower bound was reached before the run stopped ({status}): the master "
                "had not completed a solve, so the gap is unknown; a longer --time-limit "
                "gives one")
    uncertified = getattr(result.uncertain, "uncertified_topologies", None) or 0
    objective = result.objective
    if uncertified and (objective is None or not math.isfinite(objective)):
        n = uncertified
        return (f"no topology was certified within the limits at every extreme point before "
                f"the run stopped ({status}): the worst-case (violation) search did not "
                f"certify the {n} topolog{'y' if n == 1 else 'ies'} it was given within the "
                "time limit, so there is no upper bound and the gap is unknown; the lower "
                f"bound {lb:.3f} kW is the master's (a relaxation: no robust topology does "
                "better); a longer --time-limit may certify one")
    return None


def robust_feasible_text(summary: Any) -> str:
    """The answer to "the topology is feasible at every extreme point in the convex model"
    (``robust_feasible``, the model's: no slack): ``yes``, ``no``, or, when the model holds
    the limits but an extreme point's AC power flow breaks one or its relaxation is not exact
    there, ``yes, not in AC: the AC power flow breaks 4 limit(s) at extreme point 0``: the
    model's "yes" is no AC feasibility (g10c under reverse power: "yes" beside 4 broken
    v_max). The AC verdict over the extreme points is its own row (``ac_all``)."""
    if not summary.robust_feasible:
        return "no"
    breaking, inexact = summary.ac_breaking, summary.inexact_vertices
    if not breaking and not inexact:
        return "yes"
    if breaking:
        parts = [f"{len(v.ac.violations)} limit(s) at {v.name}" if v.ac.converged
                 else f"no convergence at {v.name}" for v in breaking[:10]]
        more = f" ... ({len(breaking) - 10} more extreme points)" if len(breaking) > 10 else ""
        return "yes, not in AC: the AC power flow breaks " + ", ".join(parts) + more
    names = ", ".join(v.name for v in inexact[:10]) + (" ..." if len(inexact) > 10 else "")
    return (f"yes (its relaxation is not exact at {names}: note below); the AC power flows "
            f"at {summary.ac_scope} break no limit")


def robust_choice_text(summary: Any, least_ac: Any = None) -> str:
    """What the topology of a proven-infeasible robust solve is: the least-violating one of a
    bounded search, or of the few topologies the proof evaluated. It was called "the best one
    found for the penalised objective" although the robust method has no penalised objective
    and had evaluated the start topology only (ut_unc). When the AC choice among the
    search's candidates moved the answer (``least_ac``, the result's ``least_violating_ac``),
    least is the worst AC violation over the extreme points checked, not the model's slack."""
    n = summary.topologies_evaluated
    count = "" if n is None else f"{n} topolog{'y' if n == 1 else 'ies'} evaluated"
    least = ("the least worst AC violation over the extreme points checked among the "
             "candidate topologies the search met (least_violating_ac; the least largest total "
             "slack over the extreme points is another one)" if ac_chosen(least_ac)
             else "the least largest total slack over the extreme points")
    if summary.least_violating_search_iterations is not None:
        return ("The topology above is the least-violating topology found in a bounded "
                f"search ({count or 'topologies evaluated: unknown'}): {least}; "
                + search_extent_text(summary, ac_chosen(least_ac)))
    return ("The topology above is the least-violating of the topologies evaluated"
            + (f" ({count})" if count else "")
            + (f" ({least})" if ac_chosen(least_ac) else "")
            + "; no search for a less-violating one ran (no time left)")


def search_extent_text(summary: Any, moved: bool) -> str:
    """How far the robust least-violating search went (ut45_mc #1): whether its branch
    exchange ended at a local optimum (no single branch exchange of the relaxation's
    least-violating topology needs less worst-case slack), and the cutting plane's proven
    lower bound on the least slack beside the slack found."""
    local = getattr(summary, "least_violating_exchange_local_optimum", None)
    whose = "the relaxation's least-violating topology" if moved else "it"
    parts = []
    if local is True:
        parts.append(f"no single branch exchange of {whose} needs less worst-case slack (the "
                     "search ends with a branch exchange from its best topology)")
    elif local is False:
        parts.append("the branch exchange from its best topology stopped at its time budget "
                     "before every single exchange was evaluated")
    bound = getattr(summary, "least_violating_bound_pu", None)
    found = getattr(summary, "worst_case_violation_pu", None)
    if bound is not None and found is not None and bound >= found * (1 - 1e-4) - 1e-9:
        parts.append(f"its proven lower bound on the least worst-case slack, {bound:.4g} p.u., "
                     "meets the slack found (within 1e-4 relative): no topology needs less")
    elif bound is not None and found is not None:
        parts.append(f"its proven lower bound on the least worst-case slack is {bound:.4g} "
                     f"p.u. against {found:.4g} p.u. found, so a less-violating one may exist")
    else:
        parts.append("a less-violating one may exist")
    return "; ".join(parts)


def ac_chosen(least_ac: Any) -> bool:
    """Whether the AC choice among a least-violating search's candidates moved the answer
    (the result's ``least_violating_ac`` says ``changed``)."""
    return isinstance(least_ac, dict) and bool(least_ac.get("changed"))


def robust_only_evaluated(result: Any) -> bool:
    """Whether the robust ``result`` answers with the only topology its run evaluated,
    compared with no other (:func:`~feederopt.solvers.status.only_topology_evaluated`: a run
    stopped after its first round; user test ut51_recheck #1). One rule for the verdict
    (:func:`print_uncertain_verdict`) and the row "open branches (only topology evaluated,
    breaks the limits)"; a base-case fallback is named as such, not so."""
    from feederopt import RobustSummary, only_topology_evaluated

    summary = result.uncertain
    if not isinstance(summary, RobustSummary) or result.extra.get("base_fallback"):
        return False
    return only_topology_evaluated(result.status.value, summary.topologies_evaluated,
                                   summary.uncertified_topologies,
                                   ac_chosen(result.extra.get("least_violating_ac")))


#: What the topology of a proven-infeasible scenario run is when the AC choice moved it.
SCENARIO_AC_CHOICE = (
    "The topology above is the least violating in AC (the probability-weighted AC violation "
    "over the scenarios) among the candidate topologies the search met (least_violating_ac), "
    "not the best one found for the penalised objective")


def print_uncertain_verdict(result: Any) -> None:
    """Which scenarios (extreme points) break which limits at the chosen topology, by how
    much, and whether infeasibility is proven."""
    from feederopt import RobustSummary, StochasticSummary, ac_broken_text
    from feederopt.cli.app import describe_violation

    out = stdout()
    summary = result.uncertain
    what = "scenario" if isinstance(summary, StochasticSummary) else "extreme point"
    rows: list[tuple[str, Any]] = []
    if isinstance(summary, StochasticSummary):
        rows = [(f"scenario {s.scenario}", s.ac) for s in summary.scenarios]
    elif isinstance(summary, RobustSummary):
        rows = [(v.name, v.ac) for v in summary.vertices]
    bad_ac = [(name, ac) for name, ac in rows if ac is not None and ac.violations]
    for name, ac in bad_ac[:10]:
        out.print(f"AC power flow, {name}: {ac_broken_text(ac)}", style="yellow", markup=False)
    if result.within_limits or not result.has_topology:
        return
    # the exit code the command returns: 3 for a proof of infeasibility, else 4 (ut36_core #2:
    # "Exit code 4." was printed whatever the status, beside exit code 3)
    # a Ctrl-C after the proof, in the search for the least-violating topology, ends the run
    # as a stopped one (130/143), as the command exits (ut47_cli #2's note, for scenarios)
    code = (interrupt.exit_code() if cut_short(result) else
            verdict_exit_code(result.status.value, str(result.method),
                              within_limits=False, has_topology=result.has_topology))
    slack = summary.with_slack if summary is not None else []
    if not result.diagnosis and slack:
        # Slack without named limits: never "no slack" beside a table that shows it (ut35:
        # the diagnosis was empty while scenario A needed 1.74e-3 p.u. of slack).
        shown = ", ".join(f"{name} ({pu:.3g} p.u.)" for name, pu in slack[:10]) + (
            " ..." if len(slack) > 10 else "")
        proof = (f"No radial configuration meets the limits in every {what} (proven). "
                 if code == EXIT_INFEASIBLE else "")
        out.print(f"{proof}The topology breaks the limits: the SOCP model needed slack in "
                  f"{len(slack)} {what}(s), {shown} (its violations per {what} are in the "
                  f"JSON's {'scenarios' if what == 'scenario' else 'robust'}). Exit code "
                  f"{code}.", style="red", markup=False)
        return
    if not result.diagnosis:
        # The model needed no slack in any scenario; the AC power flows (above, and the
        # nominal load's AC check) break the limits: the verdict is the true operating
        # points'. Where the relaxation is not exact, the model "held" them only by losses
        # that no power flow has (ut33: v_max at 8 buses in AC, no slack in the model).
        fictitious = summary.held_by_inexact if summary is not None else []
        if fictitious:
            shown = ", ".join(fictitious[:10]) + (" ..." if len(fictitious) > 10 else "")
            out.print(f"The topology breaks the limits in the AC power flow. The SOCP model "
                      f"needed no slack in any {what}, but in {shown} only through its inexact "
                      "relaxation (losses no power flow has): it did not hold the limits there; "
                      f"the AC power flow is the true operating point. Exit code "
                      f"{code}.", style="red", markup=False)
            return
        out.print(f"The topology breaks the limits in the AC power flow (the SOCP model held "
                  f"them in every {what}, no slack). Exit code {code}.",
                  style="red", markup=False)
        return
    status = result.status.value
    proven = result.extra.get("infeasible_scenario")
    least_ac = result.extra.get("least_violating_ac")
    if status == "infeasible":
        n_all = result.extra.get("radial_topologies_evaluated")
        unsupplied = [str(x) for x in result.extra.get("unsupplied_scenarios") or ()]
        points = result.extra.get("unsupplied_extreme_points") or []
        why = (f": each of the grid's {n_all} radial topologies needs slack at extreme point"
               + ("s " if len(points) > 1 else " ")
               + ", ".join(str(p["extreme_point"]) for p in points)
               + ", each on its own: lower the uncertainty, the budget or the limit there"
               if points and n_all is not None else
               f": each of the grid's {n_all} radial topologies needs slack in scenario"
               + ("s " if len(unsupplied) > 1 else " ") + ", ".join(unsupplied)
               if unsupplied and n_all is not None else
               f": none supplies scenario {proven}" if proven is not None else
               f": each of the grid's {n_all} radial topolog"
               + ("y" if n_all == 1 else "ies") + " needs slack in some " + what
               if n_all is not None and result.extra.get("every_radial_topology_needs_slack")
               else "")
        head = ("No radial configuration meets the limits in every " + what + " (proven"
                + why + "). "
                + (robust_choice_text(summary, least_ac) if isinstance(summary, RobustSummary)
                   else SCENARIO_AC_CHOICE if ac_chosen(least_ac) else
                   "The topology above is the best one found for the penalised objective")
                + "; it needs slack at:")
    elif isinstance(summary, RobustSummary) and result.extra.get("base_fallback"):
        # the time limit was up before any topology was found: the grid's own topology was
        # evaluated, chosen for nothing, so "least-violating of the N evaluated" misnamed it
        head = (f"The topology breaks the limits in some {what}s (status {status}: the time "
                "limit was up before any topology was found, so this is the grid's own "
                "topology, the base-case fallback, evaluated at the extreme points; it was not "
                "chosen for least violation and infeasibility is not proven). It needs slack "
                "at:")
    elif isinstance(summary, RobustSummary):
        n = summary.topologies_evaluated
        # a topology cut away uncertified (the worst-case search stopped before deciding it)
        # was not compared: "least-violating of the 2 evaluated" counted one (ut46_robust F1)
        unc = summary.uncertified_topologies or 0
        decided = None if n is None else max(n - unc, 0)
        # one topology evaluated (a run stopped after its first round): it was compared with
        # none, so "the least-violating of the 1 topology evaluated" misnamed it (ut51_recheck)
        only = robust_only_evaluated(result)
        head = (f"The topology breaks the limits in some {what}s (status {status}: no topology "
                "within them was found before the run stopped; this is "
                + ("the only topology evaluated, compared with no other" if only else
                   "the least-violating of "
                   + ("the topologies" if decided is None else f"the {decided} topolog"
                      + ("y" if decided == 1 else "ies")))
                + ("" if only else " evaluated" if not unc else
                   " whose worst case the search decided; "
                   f"{unc} more {'was' if unc == 1 else 'were'} cut away uncertified, the "
                   "worst-case search stopping before it proved a violation or feasibility, "
                   "and not compared: they may hold the limits")
                + (" in AC, the worst AC violation over the extreme points checked among the "
                   "candidates (least_violating_ac)" if ac_chosen(least_ac) else "")
                + "; infeasibility is not proven). It needs slack at:")
    else:
        worst = getattr(result.uncertain, "objective", "expected") == "worst"
        head = (f"The topology breaks the limits in some {what}s (status {status}: the "
                f"penalised objective's; {exhaustive_text(result.extra, worst)}). It needs "
                "slack at:")
    out.print(head, style="red", markup=False)
    for p in result.extra.get("unsupplied_extreme_points") or [] if status == "infeasible" \
            else []:
        # the robust enumeration's proof per extreme point, with the binding limit (ut49_robust
        # #3): the least slack any radial topology needs there, and where the closest one
        # needs it
        limits = p.get("closest_limits") or []
        out.print(f"  - extreme point {p['extreme_point']} ({p.get('loads') or 'nominal'}): "
                  f"every radial topology needs at least {p['least_slack_pu']:.4g} p.u. of "
                  "slack" + ("; the closest: " + "; ".join(describe_violation(d)
                                                          for d in limits[:3])
                             if limits else ""), markup=False)
    if result.extra.get("unsupplied_extreme_points") and status == "infeasible":
        out.print("The least-violating topology above needs slack at:", style="red",
                  markup=False)
    for d in result.diagnosis[:20]:
        where = d.get("scenario")
        out.print(f"  - {where + ': ' if where is not None else ''}{describe_violation(d)}",
                  markup=False)
    if len(result.diagnosis) > 20:
        out.print(f"  ... and {len(result.diagnosis) - 20} more (all in the JSON's diagnosis)")


def exhaustive_text(extra: dict[str, Any], worst: bool = False) -> str:
    """What the scenario search proves about the limits when its topology needs slack: after
    an enumeration of every radial topology (``radial_topologies_evaluated``,
    :meth:`~feederopt.algorithms.stochastic.StochasticBenders.enumerate`) that each needs
    slack in some scenario (``every_radial_topology_needs_slack``), no radial topology keeps
    the limits in the model, and with one radial topology there is no other; else that
    infeasibility is not proven (user test ut41_unc #3: "a topology within the limits may
    exist" on a grid with one radial topology)."""
    n = extra.get("radial_topologies_evaluated")
    if n is None:
        return ("infeasibility is not proven, a topology within the limits may exist at "
                "higher losses")
    if extra.get("every_radial_topology_needs_slack"):
        if n == 1:
            return ("it is the grid's only radial topology, so no radial topology keeps the "
                    "limits in every scenario")
        return (f"every one of the grid's {n} radial topologies was evaluated and each needs "
                "slack in some scenario: no radial topology keeps the limits in every "
                "scenario in the model")
    return (f"every one of the grid's {n} radial topologies was evaluated: one that keeps the "
            "limits in the model, if any, has a higher "
            + ("worst-case" if worst else "expected") + " value than this one's losses "
            "plus its slack penalty")


# ----------------------------------------------------------------------------------------------
# scenarios
# ----------------------------------------------------------------------------------------------


#: scenarios's list options: each may be repeated, the occurrences joined (cli.app.joined_list)
STUDY_CASES_OPT = typer.Option(
    None, "--study-cases", metavar="CASES",
    help="A SimBench grid (simbench:<code>): one scenario per study case listed (hL, n1 "
    "(its loadcase factors only: no (n-1) analysis), hW, hPV, lW, lPV, bc; e.g. hL,lW), "
    "its loads and sgens scaled by the case's factors "
    "as simbench's get_absolute_values does and its source voltage Slack_vm (a source row), "
    f"instead of random growth and DER{REPEATABLE}.")
WEIGHTS_OPT = typer.Option(
    None, "--weights", metavar="W1,W2,...",
    help="With --study-cases: one weight per study case (normalised to sum to 1); "
    f"without it, equal weights{REPEATABLE}.")


@app.command()
@cli_command
def scenarios(
    source: str = SOURCE_ARG,
    ties: str = TIES_OPT,
    out: str = typer.Option(..., "--out", "-o", metavar=FILE,
                            help="The scenario file (.parquet or .csv)."),
    count: int = typer.Option(10, "--count", "-n", help="Number of scenarios."),
    pv_share: float = typer.Option(0.3, "--pv-share",
                                   help="Highest PV penetration level: each scenario draws its "
                                   "level in [0, share], and round(level x load buses), "
                                   "rounded to the nearest bus count, host PV (so up to half "
                                   "a bus above the share: 13 of 32 at 0.4)."),
    ev_share: float = typer.Option(0.2, "--ev-share",
                                   help="Highest EV penetration level, as --pv-share: the "
                                   "host count is rounded to the nearest bus count."),
    hp_share: float = typer.Option(0.1, "--hp-share",
                                   help="Highest heat-pump penetration level, as --pv-share: "
                                   "the host count is rounded to the nearest bus count."),
    growth: float = typer.Option(0.2, "--growth",
                                 help="Highest load growth (each scenario draws in [0, growth], "
                                 "the same for every load); negative: a decline, drawn in "
                                 "[growth, 0] (> -1)."),
    growth_fixed: bool = typer.Option(False, "--growth-fixed",
                                      help="Every scenario grows by exactly --growth (not "
                                      "drawn): --growth 0.3 --growth-fixed is +30 %, "
                                      "--growth -0.2 --growth-fixed a 20 % decline (with "
                                      "--noise 0 every load alike)."),
    noise: float = typer.Option(0.05, "--noise",
                                help="Each load's own variation around the scenario's growth: "
                                "x(1 + e), e drawn in [-noise, noise] per load and scenario "
                                "(0: every load grows alike)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    bounding: bool = typer.Option(False, "--bounding",
                                  help="Also the two bounding futures of these ranges, not "
                                  "drawn: 'peak' (every load at growth max and +noise, EV and "
                                  "heat pumps at their largest share and size on the largest "
                                  "load buses, no PV) and 'valley' (every load at growth min "
                                  "and -noise, PV at its largest share, size and capacity "
                                  "factor on the largest load buses, no EV or heat pump); the "
                                  "drawn scenarios stay those of the same seed."),
    bounding_weight: float | None = typer.Option(
        None, "--bounding-weight", metavar="W",
        help="With --bounding: the weight of each of peak and valley, in (0, 0.5); the drawn "
        "scenarios share 1 - 2W equally. They count W each in the expected objective (losses "
        "and slack penalty), while the verdict needs every scenario served "
        "[default: 0.01]."),
    load_shapes: LoadShapes | None = LOAD_SHAPES_OPT,
    study_cases: list[str] | None = STUDY_CASES_OPT,
    weights: list[str] | None = WEIGHTS_OPT,
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Generate load-growth and DER (PV, EV, heat pump) scenarios in the long format; of an
    OpenDSS feeder, its daily load shapes (--load-shapes daily); of a SimBench grid, its study
    cases (--study-cases hL,lW,...)."""
    from feederopt import (
        bounding_problems,
        generate_scenarios,
        generation_by_bus,
        is_three_phase,
        output_problems,
        resolve_scenarios,
        scenario_file_problems,
        write_scenarios,
    )

    path = Path(out)
    problems = output_problems(out, force=force, option="out", inputs=[source])
    if out.strip():  # an empty one is output_problems's (not '.': ut51_cli #5)
        problems += scenario_file_problems(path, "out")  # a link: by its target's name
    if seed < 0:
        from feederopt.api import seed_problem

        problems.append(seed_problem(seed))
    generator = dict(count=(count, 10), pv_share=(pv_share, 0.3), ev_share=(ev_share, 0.2),
                     hp_share=(hp_share, 0.1), growth=(growth, 0.2), noise=(noise, 0.05),
                     seed=(seed, 0), growth_fixed=(growth_fixed, False),
                     bounding=(bounding, False), bounding_weight=(bounding_weight, None))
    if study_cases is not None:
        _study_case_scenarios(source, path, joined_list(study_cases) or "",
                              joined_list(weights, unique=False), problems, ties,
                              {**generator, "load_shapes": (load_shapes, None)},
                              force=force, quiet=quiet)
        return
    if weights is not None:  # the one problem; the others are the random run's (ut51_cli #1)
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options", "--weights needs "
                                "--study-cases", field="weights",
                                hint="e.g. --study-cases hL,lW --weights 0.3,0.7, or leave "
                                "--weights out"))
    three_phase = is_three_phase(source)
    if load_shapes is not None:  # the generator's options do not apply: refused, not ignored
        problems += _not_applying(generator, "--load-shapes", "the scenarios are the shapes' "
                                  "steps", "load_shapes")
    if load_shapes is not None or three_phase:
        from feederopt import tie_rule_problems

        problems += tie_rule_problems(ties, source)  # an OpenDSS feeder: refused
        _shape_scenarios(source, path, three_phase, load_shapes, problems, force=force,
                         quiet=quiet)
        return
    # with the output's and the network's problems, all at once (as options, by their flags)
    problems += bounding_problems(bounding, bounding_weight, flags=True)
    net = load_checked(source, problems, ties)
    table = generate_scenarios(net, count=count, pv_share=pv_share, ev_share=ev_share,
                               hp_share=hp_share, growth=growth, noise=noise, seed=seed,
                               growth_fixed=growth_fixed, bounding=bounding,
                               bounding_weight=bounding_weight)
    # a file that cannot be written now: the summary printed, then exit 5 (late_outputs)
    late_outputs().write(write_scenarios, table, path, force=force)
    if not quiet:
        sset = resolve_scenarios(net, table)
        totals = sset.p_mw.sum(axis=1)
        out_c = stdout()
        if bounding:
            w = table.filter(table["scenario"] == "peak")["weight"][0]
            out_c.print(f"{count} drawn scenarios (weight {(1 - 2 * w) / count:.4g} each) and "
                        f"the bounding peak and valley (weight {w:g} each), {table.height} "
                        f"rows -> {path}", markup=False)
        else:
            out_c.print(f"{count} scenarios, {table.height} rows -> {path}", markup=False)
        out_c.print(f"net demand per scenario (loads and the scenarios' DER): "
                    f"{totals.min():.3f} - {totals.max():.3f} MW "
                    f"(nominal {net.summary()['total_load_mw']:.3f} MW); "
                    f"{int((sset.p_mw < 0).any(axis=1).sum())} scenario(s) with reverse power "
                    "at some bus", markup=False)
        # The network's own generation (a SimBench grid's sgens: 25.6 MW against 17.3 MW of
        # load) is not in the scenarios' figures; without this line the summary told such a
        # grid's planner that most scenarios had no reverse power anywhere (ut_unc #4).
        units, gen_p = generation_by_bus(net, sset.bus_ids)
        net_p = sset.p_mw - gen_p
        if gen_p.any():
            totals_g = net_p.sum(axis=1)
            out_c.print(f"the network's own generation, {units} unit(s) with "
                        f"{gen_p.sum():.3f} MW at their set points (p_mw), comes on top: "
                        f"with it {totals_g.min():.3f} - {totals_g.max():.3f} MW net, "
                        f"{int((net_p < 0).any(axis=1).sum())} scenario(s) with reverse "
                        "power at some bus", markup=False)


def _not_applying(options: dict[str, tuple[Any, Any]], flag: str, why: str,
                  field: str) -> list[Problem]:
    """The options of ``options`` (name -> (value, default)) given with other than their
    default, which do not apply with ``flag`` (``why``): one problem naming them, refused,
    not ignored; none when every one is at its default."""
    given = [f"--{k.replace('_', '-')}" for k, (value, default) in options.items()
             if value != default]
    if not given:
        return []
    return [Problem(ProblemKind.INVALID_VALUE, "options", f"{', '.join(given)} do(es) not "
                    f"apply with {flag}: {why}", tuple(given), field,
                    hint=f"leave {', '.join(given)} out")]


def _study_case_scenarios(source: str, path: Path, cases: str, weights: str | None,
                          problems: list[Problem], ties: str,
                          others: dict[str, tuple[Any, Any]], *, force: bool,
                          quiet: bool) -> None:
    """``feederopt scenarios simbench:<code> --study-cases hL,lW``: the grid's study cases as
    scenarios (:func:`feederopt.study_case_scenarios`); the random generator's options and a
    tie rule are refused, not ignored."""
    from feederopt import (
        blank_entry_problems,
        split_ids,
        study_case_problems,
        study_case_scenarios,
        write_scenarios,
    )

    problems += _not_applying(others, "--study-cases", "the scenarios are the grid's study "
                              "cases", "study_cases")
    from feederopt import TIE_RULES

    if ties != TIE_RULES[0]:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options", "--ties does not apply with --study-cases "
            "(the scenario file holds loads, DER and the source voltage)", (ties,), "ties",
            hint="give --ties to `feederopt solve`"))
    names = list(split_ids(cases))
    problems += blank_entry_problems("study_cases", cases)
    w: list[float] | None = None
    parsed = True
    if weights is not None:
        problems += blank_entry_problems("weights", weights)
        try:
            w = [float(x) for x in split_ids(weights)]
        except ValueError:
            parsed = False
            problems.append(Problem(ProblemKind.INVALID_VALUE, "options", "--weights must be "
                                    "numbers separated by commas", (weights,), "weights",
                                    hint="e.g. --weights 0.3,0.7"))
    # the grid name, the list and the weights' count, with the problems above: all at once
    # (before, -n 3 --study-cases hL on case33bw named only --count; user test ut51_cli #1)
    problems += [p for p in study_case_problems(source, names, w)
                 if parsed or p.field != "weights"]
    if problems:
        raise InputError(problems)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = study_case_scenarios(source, names, w)
    late_outputs().write(write_scenarios, table, path, force=force)  # else exit 5 after
    for note in [] if quiet else caught:
        stderr().print(f"note: {note.message}", style="yellow", markup=False)
    if not quiet:
        vm = table.filter(table["kind"] == "source")
        volts = ", ".join(f"{r['scenario']} {r['vm_pu']:g}" for r in vm.iter_rows(named=True))
        stdout().print(f"{len(names)} study case scenario(s), {table.height} rows -> {path}; "
                       f"source voltage [p.u.]: {volts}", markup=False)
        stdout().print(f"one topology for all of them: feederopt solve {source} --scenarios "
                       f"{path}", markup=False)


def _shape_scenarios(source: str, path: Path, three_phase: bool, shapes: LoadShapes | None,
                     problems: list[Problem], *, force: bool, quiet: bool) -> None:
    """``feederopt scenarios FILE.dss --load-shapes daily``: the feeder's daily load shapes as
    scenarios (:func:`feederopt.daily_scenarios`); a .dss file without the option, or the
    option on a balanced network, is a typed problem."""
    from feederopt import daily_scenarios, write_scenarios

    if not three_phase:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options", "--load-shapes reads an OpenDSS feeder's "
            f"load shapes; '{source}' is not an OpenDSS .dss file", (source,), "load_shapes",
            hint="leave --load-shapes out to generate growth and DER scenarios"))
    elif shapes is None:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options", f"'{source}' is a three-phase OpenDSS "
            "feeder: its scenarios come from its daily load shapes", (source,), "load_shapes",
            hint="add --load-shapes daily, or write a table of load and bus rows yourself "
            "(docs/threephase.md, scenarios)"))
    if problems:
        raise InputError(problems)
    table, info = daily_scenarios(source)
    late_outputs().write(write_scenarios, table, path, force=force)  # else exit 5 after
    if not quiet:
        out_c = stdout()
        out_c.print(f"{info['count']} scenarios (every {info['interval_h']:g} h over "
                    f"{info['horizon_h']:g} h, weight {1 / info['count']:.4g} each), "
                    f"{table.height} rows -> {path}", markup=False)
        follow = (f"{info['shaped_loads']} load(s) follow their daily shapes; "
                  if info["shaped_loads"] else "no load has a daily shape (the generating "
                  "units' shapes set the step); ")
        out_c.print(f"{follow}"
                    f"{info['unshaped_loads']} without one keep their kW all day. Total demand "
                    f"{info['p_mw_min']:.4f} - {info['p_mw_max']:.4f} MW over the steps "
                    f"(snapshot {info['snapshot_p_mw']:.4f} MW)", markup=False)
        out_c.print("one topology for all of them: "
                    f"feederopt solve {source} --scenarios {path}", markup=False)
    shaped = [d for d in info["shaped_ders"] if d not in info["unshaped_ders"]]
    if not quiet and shaped:
        stdout().print(f"{len(shaped)} generating unit(s) with a daily shape follow it "
                       f"({', '.join(shaped[:4])}{' ...' if len(shaped) > 4 else ''}): "
                       "generator rows with their output in OpenDSS's daily mode at each step",
                       markup=False)
    ders = info["unshaped_ders"]
    if ders:  # on stderr, quiet or not: the user expects these units to vary over the day
        stderr().print("[yellow]warning:[/] ", end="")
        stderr().print(f"{len(ders)} generating unit(s) ({', '.join(ders[:4])}"
                       f"{' ...' if len(ders) > 4 else ''}) name a daily shape without points "
                       "(mult= given without npts=?), which OpenDSS does not apply: its daily "
                       "mode, and so every scenario (their generator rows), holds them at their "
                       "snapshot output",
                       markup=False)


# ----------------------------------------------------------------------------------------------
# check
# ----------------------------------------------------------------------------------------------


#: check's list options: each may be repeated, the occurrences joined (cli.app.joined_list)
CHECK_UNCERTAIN_LOADS_OPT = typer.Option(
    None, "--uncertain-loads", metavar=IDS, help=f"The load ids that vary{REPEATABLE} "
    "[default: a robust result's own, else all].")
SOURCE_VM_OPT = typer.Option(
    None, "--source-vm", metavar="<VM|BUS=VM,...>",
    help="Solve results: hold every source bus (ext_grid) at this "
    "voltage [p.u., 0.8 - 1.2] in every sample, or each source bus named at its own "
    "(BUS=VM,BUS=VM by the network's bus ids; the others at their set-points; "
    "comma-separated; may be repeated) [default: a scenario result whose file "
    "has source rows: each sample at the source voltage of a scenario drawn by weight; "
    "else the network's set-point].")


@app.command()
@cli_command
def check(
    result_file: str = typer.Argument(..., metavar="RESULT.json", show_default=False,
                                      help="A result JSON (`feederopt solve --json FILE` of a "
                                      "balanced network, `feederopt partition` or `feederopt "
                                      "schedule`) or a result folder; three-phase (.dss) "
                                      "solve results are not checked here."),
    samples: int = typer.Option(1000, "--samples", "-n", help="Number of load samples."),
    uncertainty: float | None = typer.Option(
        None, "--uncertainty", "-u", help="Relative load uncertainty X (loads in nominal +- X; "
        "a scenario result's samples: the loads of a scenario drawn by weight +- X); "
        "required for a solve result without one of its own [default: a partition or robust "
        "result's own]; a schedule result takes none (it is checked in its own budget set)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    uncertain_loads: list[str] | None = CHECK_UNCERTAIN_LOADS_OPT,
    case: str | None = typer.Option(
        None, "--case", metavar="<case_or_file>", help="The network, if not the result's own "
        f"source/case: a built-in case, {SIMBENCH_FORM} or a file or folder, as solve's "
        "CASE_OR_FILE."),
    ties: str = typer.Option(
        TIES_OPT.default, "--ties", metavar=TIES_OPT.metavar,
        help=f"With --case: {TIES_OPT.help} Without --case, the result's own network is read "
        "again with the tie rule it was solved with (the result's ties)."),
    no_ac: bool = typer.Option(False, "--no-ac-check", "--no-ac",
                               help="Skip the AC power flows."),
    v_min: float | None = typer.Option(
        None, "--v-min", help="Lowest bus voltage [p.u.] for every bus but one held at its "
        "set-point by a source or a generator [default: the solve's --v-min, else the "
        "network's own]."),
    v_max: float | None = typer.Option(
        None, "--v-max", help="Highest bus voltage [p.u.] for every bus but one held at its "
        "set-point by a source or a generator [default: the solve's --v-max, else the "
        "network's own]."),
    max_loading: float | None = typer.Option(
        None, "--max-loading", help="Loading limit of every line and transformer, in % of its "
        "rating [default: the solve's --max-loading, else 100]."),
    source_vm: list[str] | None = SOURCE_VM_OPT,
    growth_margin: GrowthOf | None = GROWTH_MARGIN_OPT,
    json_file: str | None = typer.Option(None, "--json", metavar=FILE,
                                         help="Write the counts as JSON here."),
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Out-of-sample check: the share of random loads in the box for which the result's
    topology is feasible in the convex model (SOCP, no slack) and in the AC power flow. For a
    partition result (`feederopt partition --json FILE`): Moring et al.'s section IV-D (the
    deterministic plan in LinDist3Flow) and IV-E (the plan in OpenDSS), and the plan in
    LinDist3Flow. For a schedule result: the share of its budget set's realisations served
    without slack.
    The limits are those the solve used (its --v-min, --v-max, --max-loading,
    --no-thermal-limits, recorded in the result), else the network's own. The source voltage
    (the row "source voltage") is the network's set-point; a scenario result whose file has
    source rows holds each sample at the source voltage of a scenario drawn by weight (each
    corner at each); --source-vm holds every source at one, or each named source at its
    own (BUS=VM,BUS=VM). A solve result's own
    verdict is shown too (within_limits, its AC check's broken limits).

    Exit code, one rule for every kind of result: 4 when the result is not within the limits,
    that is when its own verdict says so (the exit code 4 its command gave it: a solve's AC
    check, a partition's OpenDSS check at the nominal load, a schedule's within_limits: its
    hourly AC check and its own --samples) or
    when one sample of this check is not served within the limits, whatever the share: a
    solve result's sample not AC-feasible (with --no-ac-check: infeasible in the convex model,
    a relaxation), a partition result's sample that OpenDSS does not serve within the limits
    (IV-E below 100 %; with --no-ac-check its samples are not judged), a schedule
    realisation not served without slack; or, for a solve result, when one of the two
    uniform corners of the box is not served within the limits (every varying load at 1 -
    the uncertainty or at 1 + it, the rows "corner: ... (not a sample)"; a scenario result's
    at each scenario), even when every sample is. A line on stderr says why, and the JSON's
    within_limits is false (corners_breaking_limits names the corners). 3 when a solve
    result proves the grid infeasible (its least-violating topology, which the result holds,
    is then the one checked, and a warning says so). 0 when every sample and both corners
    are served within the limits and the result is within them."""

    from feederopt import (
        check_box,
        check_option_problems,
        check_result,
        kept_state_label,
        kept_state_name,
        listed_text,
        network_folder_given_as_result,
        output_problems,
        read_result_to_check,
        result_json_path,
        result_scenario_file_problems,
        stamped,
        uncertain_load_list_problems,
        write_text,
    )
    from feederopt.api import seed_problem, source_vm_problem
    from feederopt.cli.app import cli_load

    # A result folder is checked as its result.json, whatever its kind: read, named in the
    # messages and kept from --json alike (user test ut35: a partition folder was refused as
    # "not a solve's" while its result.json was checked)
    not_result = network_folder_given_as_result(result_file, "check")
    if not_result:
        raise InputError(not_result)
    result_file = str(result_json_path(result_file))
    # every kind of result draws with numpy, which takes seeds >= 0
    bad_seed = [seed_problem(seed)] if seed < 0 else []
    sched = _kind_doc(result_file, "schedule")
    if bad_seed and (sched is not None or _three_phase_doc(result_file) is not None
                     or _kind_doc(result_file, "partition") is not None):
        raise InputError(bad_seed)
    if sched is not None:  # a schedule result (feederopt schedule --json/--out): its own set
        _check_schedule(sched, samples=samples, seed=seed, json_file=json_file, force=force,
                        quiet=quiet, verbose=verbose, inputs=[result_file],
                        misplaced={"uncertainty": uncertainty is not None,
                                   "uncertain_loads": uncertain_loads is not None,
                                   "source_vm": source_vm is not None,
                                   "growth_margin": growth_margin is not None,
                                   "case": case is not None, "no_ac": no_ac,
                                   "ties": ties != TIES_OPT.default,
                                   **_limit_options(v_min, v_max, max_loading)})
        return
    three = _three_phase_doc(result_file)
    if three is not None:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", "check does not support three-phase results "
            f"yet ({three.get('case') or 'this'} is a three-phase `feederopt solve --json` "
            "result, with open switches, not open branches)", (result_file,), "open_switches",
            hint="check single-phase solve results, or partition and schedule results; the "
            + ("three-phase scenario result's OpenDSS check of each scenario is in its "
               "scenarios.per_scenario" if three.get("scenarios") else
               "three-phase result's OpenDSS check is in its ac_check"))])
    doc = _kind_doc(result_file, "partition")
    if doc is not None:
        limit_given = [k for k, v in _limit_options(v_min, v_max, max_loading).items() if v]
        if limit_given:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", "--v-min, --v-max and --max-loading do "
                "not apply to a partition result: it is checked against its own limits",
                field=limit_given[0], hint="leave them out")])
        if case is not None or uncertain_loads is not None or ties != TIES_OPT.default:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", "--case, --ties and --uncertain-loads do "
                "not apply to a partition result: its case and uncertain loads are its own",
                field="case" if case is not None else "uncertain_loads"
                if uncertain_loads is not None else "ties",
                hint="run 'feederopt partition' again with other loads")])
        if growth_margin is not None:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", "--growth-margin does not apply to a "
                "partition result: it scales a solve result's loads", field="growth_margin",
                hint="leave it out; --growth-margin checks a solve result")])
        if source_vm is not None:
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", "--source-vm does not apply to a "
                "partition result: its OpenDSS check holds the feeder's own source",
                field="source_vm", hint="leave it out; --source-vm checks a solve result")])
        _check_partition(doc, result_file, samples, uncertainty, seed, not no_ac, json_file,
                         force, quiet, verbose)
        return
    # Every problem of the command line at once (ut inputs #2: a bad --samples stopped the
    # run before the network was read, and an unknown --uncertain-loads id came on the next)
    problems = list(bad_seed)
    ties_bad = case is None and ties != TIES_OPT.default
    if ties_bad:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options", "--ties reads the network of --case; without "
            "--case the result's own network is read again with the tie rule it was solved "
            "with (the result's ties)", (ties,), "ties",
            hint="leave --ties out, or give the network with --case FILE.json --ties RULE"))
    if json_file is not None:
        # before the samples, not after; never onto the result checked or the case
        problems += output_problems(json_file, force=force, option="json",
                                    inputs=[x for x in (result_file, case) if x is not None])
    # before --uncertainty: a file that is no result (or none that check takes) says so
    try:
        data = read_result_to_check(result_file)
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    loads_arg, blank = parse_ids(joined_list(uncertain_loads))
    problems += blank
    # A robust result records the box it was certified for: that box is the default, and a
    # check of another box says so (ut_unc #6: `check robust.json --uncertainty 0.3` without
    # --uncertain-loads silently sampled all 32 loads of a 6-load robust solve); another
    # result needs --uncertainty. The same rule as feederopt.check_result's (check_box).
    box = None
    try:
        box = check_box(data, uncertainty, loads_arg)
    except InputError as exc:  # no --uncertainty, and the result has no box of its own
        problems += exc.problems
    if box is not None:
        uncertainty, loads_arg = box.uncertainty, box.uncertain_loads
    box_note = ("" if box is None else " (the robust solve's budgeted set)" if box.budget
                is not None else " (the robust solve's box)" if box.own
                else (" (inside the robust solve's budgeted set)" if "budget" in " ".join(
                    box.notes) else " (inside the robust solve's box)") if box.inside else "")
    # printed once the options are known valid (ut32_cli #4: "+--20 %")
    box_notes: tuple[str, ...] = box.notes if box is not None else ()
    notes = [f"note: {n}" for n in box_notes]
    problems += check_option_problems(samples, uncertainty, v_min=v_min, v_max=v_max,
                                      max_loading_percent=max_loading)  # the seed: above
    vm_text = joined_list(source_vm, unique=False)  # BUS=VM entries: a repeated bus refused
    problems += [p for p in [source_vm_problem(vm_text)] if p is not None]
    if problems or uncertainty is None:  # (a missing --uncertainty is among the problems)
        # with the loads of --uncertain-loads that the network lacks, when it can be read
        # (the network of --case, else the result's own); its error alone if it cannot
        found: list[Problem] = []
        net = None
        if case is not None and not ties_bad:
            try:
                net = cli_load(case, ties)
            except InputError as exc:
                found = list(exc.problems)
        if not found and (case is None or net is not None):
            found = uncertain_load_list_problems(data, loads_arg, net)
        # the result's scenario file gone or changed, with the options' (ut50_scen #5)
        found += result_scenario_file_problems(data)
        raise InputError([*problems, *found])
    for note in [] if quiet else notes:
        stderr().print(note, style="yellow", markup=False)
    net = cli_load(case, ties) if case is not None else None
    with progress_display(f"check {data.get('case')}", quiet=quiet,
                          verbose=verbose) as progress:
        mc = check_result(data, samples, uncertainty, seed, network=net,
                          uncertain_loads=loads_arg, ac=not no_ac,
                          progress=progress, v_min=v_min, v_max=v_max,
                          max_loading_percent=max_loading, source_vm=vm_text,
                          growth_margin_of=None if growth_margin is None
                          else str(growth_margin))
    for note in [] if quiet else mc.notes:  # its network's files cannot be verified
        if mc.least_violating and note == mc.notes[0]:
            continue  # the least-violating topology's warning: printed with the table
        if note in box_notes:
            continue  # the box's notes: printed before the samples
        stderr().print(f"note: {note}", style="yellow", markup=False)
    verdict = result_verdict(data)
    # the check's verdict (chkexit): the solve's own, and 4 when a sample breaks a limit
    # a uniform corner is a point of the same box: judged as a sample is
    mc_within = mc.within_limits  # the samples' and corners' verdict (None: interrupted)
    broken = mc_within is False
    code = check_exit_code(verdict["exit_code"], mc_within)
    interrupted = mc.status == "interrupted"
    within = (False if broken or not verdict["within_limits"] else mc_within)
    payload = stamped("solve_check", {"case": data.get("case"), "method": data.get("method"),
                                      **mc.to_dict(), "result_verdict": verdict,
                                      **check_verdict(within, None if interrupted else code)})
    if json_file is not None:  # a file that cannot be written now: printed, then exit 5
        late_outputs().write(write_text, json_file, json.dumps(payload, indent=2) + "\n",
                             force=force)
    if interrupted:
        _check_interrupted(mc, json_file, quiet)
    if quiet:
        if code:
            raise typer.Exit(code)
        return
    table = summary_table(f"out-of-sample check: {data.get('case')} ({data.get('method')})")
    table.add_row("samples", f"{mc.samples} (seed {mc.seed}), loads +-{uncertainty * 100:g} % "
                  f"on {len(mc.uncertain_loads)} load(s){box_note}")
    drawn = mc.scenarios.get("scenarios") if mc.scenarios else None
    if drawn:  # a scenario result: each sample in one of its scenarios (ut44_growth #1)
        table.add_row("sampling", "each sample in one scenario drawn by its weight: its loads "
                      f"+-{uncertainty * 100:g} % (each load drawn independently), its DER and "
                      + ("--source-vm's source voltage" if source_vm is not None else
                         "its source voltage")
                      + " (a uniform growth of all loads together is not sampled: the corners "
                      "below, per scenario)")
        table.add_row("scenarios", escape(", ".join(
            f"{d['name']} ({d['probability']:.3g}, {d['total_p_mw']:.3f} MW, "
            f"{d['samples']} sample(s))" for d in drawn[:8])
            + (f" ... ({len(drawn) - 8} more in the JSON)" if len(drawn) > 8 else "")
            + f"; read again from {mc.scenarios.get('file')}"))
    elif box is not None and box.budget is not None:
        table.add_row("sampling", f"each load drawn independently, then the deviations "
                      f"scaled radially into the budget (sum |deviation| / X <= {box.budget}); "
                      "draws beyond it land on its face")
    else:
        table.add_row("sampling", "each load drawn independently (a uniform growth of all "
                      "loads together is not sampled: the corners below)")
    # an infeasible result's topology is its least-violating one (ut39_uncert #1)
    table.add_row(kept_state_label("open branches", str(data.get("status")),
                                   kept_state_name(mc.base_fallback, mc.only_evaluated),
                                   least_violating=mc.least_violating),
                  listed_text(list(mc.open_branches), "open_branches"))
    table.add_row("limits", _limits_text(mc.limits, _limit_options(v_min, v_max, max_loading)))
    if mc.source_voltage:  # what the ext_grids are held at (the JSON's source_voltage)
        table.add_row("source voltage", escape(str(mc.source_voltage.get("text"))))
    table.add_row("feasible, convex model",
                  f"{mc.feasible_convex} ({mc.feasible_share_convex * 100:.2f} %"
                  f"{_interval_text(mc.share_interval(mc.feasible_convex))})")
    share_ac = mc.feasible_share_ac
    table.add_row("feasible, AC power flow",
                  "skipped" if share_ac is None or math.isnan(share_ac) else
                  f"{mc.feasible_ac} ({share_ac * 100:.2f} %"
                  f"{_interval_text(mc.share_interval(mc.feasible_ac))})")
    tolerated = mc.feasible_ac_within_tolerance_only
    strict = mc.feasible_ac_strict
    if tolerated is not None and strict is not None and mc.samples:
        # the AC check's tolerance lets a sample pass a limit by 1e-4 p.u.: how many did
        # (user test ut37_fresh #2: V min 0.899929 p.u. on a limit of 0.9 counted feasible)
        table.add_row("  of them within the tolerance only",
                      f"{tolerated} (tolerance {tolerance_text(mc.ac_tolerance)}); the limits "
                      f"themselves hold in {strict} ({strict / mc.samples * 100:.2f} %)")
    # the corners scale the uncertain loads only: "every load" when --uncertain-loads is not
    # given (all loads), else how many (user test ut_fresh: "every load x1.3" for 6 of 32)
    which = (("every load of the scenario" if drawn else "every load") if loads_arg is None
             else f"the {len(mc.uncertain_loads)} uncertain load(s)")
    for corner in mc.corners:
        at = str(corner.get("label") or "").partition(" at ")[2]  # several source voltages
        who = corner_who(corner, which)
        table.add_row(f"corner: {who} x{corner['factor']:g}{' at ' + at if at else ''} "
                      "(not a sample)", corner_text(corner))
    if mc.growth_margin:
        table.add_row(f"growth margin ({mc.growth_margin['of']})",
                      escape(growth_margin_text(mc.growth_margin)))
        per = mc.growth_margin.get("per_scenario") or []
        for m in per if len(per) > 1 else ():  # a scenario result's: each scenario's own
            table.add_row(f"  at scenario {escape(str(m['scenario']))}",
                          escape(growth_margin_text({**mc.growth_margin, **m,
                                                     "scaled": mc.growth_margin["scaled"]
                                                     .rpartition(" of scenario ")[0]})))
    for label, text in _verdict_rows(verdict):
        table.add_row(label, text)
    reasons = [text for text in ("" if verdict["within_limits"] else "the result's own "
                                 "verdict, above", _broken_text(mc)) if text]
    table.add_row("within the limits (the check's verdict)",
                  "yes" if within else f"no ({'; '.join(reasons)}; exit code {code})")
    if mc.least_violating:  # before the table's shares are read as a plan's
        stdout().print("[bold red]warning:[/] ", end="")
        stdout().print(mc.notes[0], markup=False)
    stdout().print(table)
    gap = mc.convex_only
    if gap:
        # ut_unc #10: on SimBench 1-MV-rural at --max-loading 50, 59 of 60 samples were
        # "feasible, convex model" and 40 in AC, side by side without a word on which to trust
        stdout().print(f"note: {gap} sample(s) feasible in the convex model break a limit in "
                       "the AC power flow: the convex model is a relaxation (no objective: any "
                       "point of the SOCP within the limits counts, also one that is not a "
                       "power flow, as under reverse power), so its share can exceed the AC "
                       "one, which is the true operating points'", style="yellow",
                       markup=False)
    if tolerated:
        stdout().print(f"note: {tolerated} AC-feasible sample(s) break a limit itself by no "
                       f"more than the AC check's tolerance ({tolerance_text(mc.ac_tolerance)}"
                       "), as the solve's AC check would pass them; counted strictly, "
                       f"{strict} sample(s) are AC-feasible (the JSON's "
                       "feasible_ac_strict)", style="yellow", markup=False)
    _print_corner_violations(mc.corners, which)
    _print_ac_violations(verdict)
    if broken:
        stderr().print(f"the topology is not within the limits. {_broken_text(mc)} (the row "
                       f"'within the limits'; samples_breaking_limits and "
                       f"corners_breaking_limits in the JSON); exit code {code}",
                       style="yellow", markup=False)
    if code:
        raise typer.Exit(code)


def _interval_text(ci: list[float] | None) -> str:
    """A share's 95 % interval beside it: ``; 95 % CI 98.17 - 100.00 %, Clopper-Pearson``
    (:func:`~feederopt.validation.montecarlo.clopper_pearson`; ut45_mc #3: "200 (100.00 %)"
    read as a guarantee)."""
    if ci is None:
        return ""
    return f"; 95 % CI {ci[0] * 100:.2f} - {ci[1] * 100:.2f} %, Clopper-Pearson"


def growth_margin_text(margin: dict[str, Any]) -> str:
    """``check --growth-margin``'s row: the factor, and what breaks first beyond it. The
    factor that holds is printed rounded down and the first failing one rounded up
    (:func:`floor_factor`, :func:`ceil_factor`): a safe bound, the JSON keeps the exact
    values (user test ut49_growth #4: x1.555 printed for 1.5546875, at which V min is
    0.899883 p.u. on a limit of 0.9). The factor printed is the one at which the limits
    themselves hold (``factor_strict``), and what breaks them first beyond it; the factor
    within the AC check's tolerance (``factor``, as the samples are judged) is said beside it
    where it reads otherwise (user test ut51_robust #2: x1.641 was printed as safe, at which
    V min is 0.899993 p.u. on a limit of 0.9). Of the generation, the units' output at the
    printed factor is said in MW (``output x factor``), and generation of zero is not
    applicable."""
    lo, hi = margin.get("factor"), margin.get("first_failing_factor")
    what = margin.get("scaled")
    if margin.get("applicable") is False:
        return (f"not applicable: {what} produce 0 MW (0 x lambda = 0), there is no "
                "generation to grow")
    if lo is None:
        return f"none: {what} breaks a limit at any factor from 0 to 1"
    strict = "factor_strict" in margin  # a margin without the strict bisection: as before
    s_lo, s_hi = ((margin.get("factor_strict"), margin.get("first_failing_factor_strict"))
                  if strict else (lo, hi))
    suffix = "_strict" if strict else ""
    tolerated = ""
    if strict and (s_lo is None or floor_factor(float(s_lo)) != floor_factor(float(lo))
                   or (s_hi is None) != (hi is None)):
        beyond = (f", broken beyond it from x{ceil_factor(float(hi)):.3f}" if hi is not None
                  else f", and to x{margin.get('searched_up_to'):g}, where none breaks")
        tolerance = margin.get("ac_tolerance") or {}
        tolerated = (f"; within the AC check's tolerance ({tolerance_text(tolerance)}) up "
                     f"to x{floor_factor(float(lo)):.3f}{beyond}")
    breaks = margin.get(f"breaks{suffix}") or []
    first = ("the AC power flow does not converge" if not margin.get(
        f"converged_at_first_failing{suffix}") else ", ".join(
        f"{_short_violation(d)}" for d in breaks[:2]) or "a limit")
    if s_lo is None:
        return (f"none: {what} breaks a limit itself at any factor from 0 to 1 ({first})"
                f"{tolerated}")
    shown = floor_factor(float(s_lo))
    mw = _unit_mw_text(margin, shown)
    if s_hi is None:
        return (f"{what} x{shown:.3f}{mw} holds every limit (searched up to "
                f"x{margin.get('searched_up_to'):g}; no limit breaks)")
    return (f"{what} up to x{shown:.3f}{mw} (bisection, +-{margin.get('tolerance'):g}); at "
            f"x{ceil_factor(float(s_hi)):.3f} first breaks: {first}{tolerated}")


def floor_factor(x: float, places: int = 3) -> float:
    """``x`` rounded down to ``places`` decimals, ``floor(x 10^places) / 10^places``: a factor
    that holds, printed no larger than it is."""
    return math.floor(x * 10 ** places) / 10 ** places


def ceil_factor(x: float, places: int = 3) -> float:
    """``x`` rounded up to ``places`` decimals: a factor that breaks, printed no smaller."""
    return math.ceil(x * 10 ** places) / 10 ** places


def _unit_mw_text(margin: dict[str, Any], factor: float) -> str:
    """The units' output at ``factor`` [MW], ``p_g x factor``: `` (1.125 MW per unit)`` when
    they are alike, else each unit's (the first five); empty for the loads."""
    ids, out = margin.get("unit_ids") or [], margin.get("unit_output_mw") or []
    if margin.get("of") != "generation" or not out:
        return ""
    at = [float(p) * factor for p in out]
    if max(at) - min(at) <= 1e-9:
        return f" ({at[0]:.3f} MW per unit, {sum(at):.3f} MW in all)"
    parts = [f"{u} {p:.3f} MW" for u, p in zip(ids, at, strict=False)][:5]
    more = f", ... ({len(at) - 5} more)" if len(at) > 5 else ""
    return f" ({', '.join(parts)}{more}; {sum(at):.3f} MW in all)"


def check_exit_code(result_code: int, samples_within_limits: bool | None) -> int:
    """The exit code of ``feederopt check`` of a solve result: the one ``solve`` gave the
    result (:func:`result_verdict`'s ``exit_code``: 3 proven infeasible, 4 not within the
    limits, ...) when it is not 0, else :data:`EXIT_LIMITS_BROKEN` (4) when a sample or a
    corner is not served within the limits (:attr:`MonteCarloResult.within_limits` False:
    one is enough, as for a partition or a schedule result), else 0. Before (chkexit), the
    samples were reported and not judged: a topology that 40 % of them broke exited 0."""
    if result_code:
        return result_code
    return EXIT_LIMITS_BROKEN if samples_within_limits is False else 0


def check_verdict(within_limits: bool | None, exit_code: int | None) -> dict[str, Any]:
    """The verdict of ``feederopt check --json``, the same two keys for every kind of result
    (solve, partition, schedule): ``within_limits`` (the check's verdict; None when an
    interrupted check could not tell) and ``exit_code``, the code the command exits with
    (:func:`check_exit_code` for a solve result; :data:`EXIT_LIMITS_BROKEN`, 4, when a
    partition or schedule result is not within the limits, else 0; None when interrupted).
    Before, a schedule check's JSON had no ``exit_code`` (user test ut40_recheck_c #2)."""
    return {"within_limits": within_limits, "exit_code": exit_code}


def _broken_text(mc: Any) -> str:
    """The samples that break a limit, in words: "3 of 20 samples (15.00 %) break a limit in
    the AC power flow"; empty when none does."""
    n, broken = mc.samples, mc.samples_breaking_limits
    corners = mc.corners_breaking_limits
    if not broken and not corners:
        return ""
    judge = ("in the AC power flow" if mc.judged_by == "ac_power_flow" else
             "in the convex model, a relaxation (--no-ac-check): no AC operating point "
             "holds them")
    parts = []
    if broken:
        parts.append(f"{broken} of {n} samples ({100.0 * broken / n:.2f} %)")
    if corners:
        # "the upper corner at scenario s1 (x1.1)": the label (the JSON's, "upper at scenario
        # s1") split around "corner" (it read "the upper at scenario s1 corner", ut45_mc #5)
        names = []
        for c in mc.corners:
            label = str(c.get("label") or c["corner"])
            if label in corners:
                at = label.partition(" at ")[2]
                names.append(f"the {c['corner']} corner{' at ' + at if at else ''} "
                             f"(x{c['factor']:g})")
        parts.append(" and ".join(names))
    verb = "breaks" if not broken and len(corners) == 1 else "break"
    return f"{' and '.join(parts)} {verb} a limit {judge}"


def tolerance_text(tolerance: dict[str, Any]) -> str:
    """The AC check's tolerances for a person: ``0.0001 p.u., 0.1 % of a rating``."""
    return (f"{tolerance.get('voltage_pu', '-')} p.u., "
            f"{tolerance.get('rating_percent', '-')} % of a rating")


def _check_interrupted(mc: Any, json_file: str | None, quiet: bool) -> None:
    """A check stopped by Ctrl-C or SIGTERM: one line with the samples done and the shares so
    far (the JSON, written before, says ``status: interrupted``), then the signal's exit code
    (130 or 143), as ``solve`` does. Before, it exited 130 silently with nothing written."""
    from feederopt import interrupt

    if not quiet:
        def share(n: int | None, x: float | None) -> str:
            return ("skipped" if n is None else
                    f"{n} ({'-' if x is None or math.isnan(x) else f'{x * 100:.2f} %'})")

        stderr().print(f"interrupted: {mc.samples} of {mc.samples_requested} samples done; "
                       f"feasible so far: convex model "
                       f"{share(mc.feasible_convex, mc.feasible_share_convex)}, AC power flow "
                       f"{share(mc.feasible_ac, mc.feasible_share_ac)}; the corners were not "
                       "evaluated" + (f"; written to {json_file}" if json_file
                                      and late_outputs().ok else ""),
                       style="yellow", markup=False)
    raise typer.Exit(interrupt.exit_code())


def corner_text(corner: dict[str, Any]) -> str:
    """One uniform corner of the check (:attr:`MonteCarloResult.corners`) in a line: feasible
    or not in the convex model and in the AC power flow, and the AC voltage range."""
    from feederopt.cli.app import volt_range

    def yes(x: bool | None) -> str:
        return "skipped" if x is None else "feasible" if x else "infeasible"

    text = f"convex model {yes(corner['feasible_convex'])}; AC {yes(corner['feasible_ac'])}"
    if corner.get("ac_within_tolerance_only"):
        text += " (within the tolerance only)"
    if corner["ac_converged"] is False:
        return text + " (did not converge)"
    if corner["ac_converged"]:
        text += (f", V {volt_range(corner['min_voltage_pu'], corner['max_voltage_pu'])} "
                 f"(lowest at bus {corner['min_voltage_bus']})")
        # the limits it breaks, by name: "AC infeasible" beside voltages within the band said
        # nothing of the line at 113 % that broke it (user test ut40_realg5 #1)
        if corner.get("max_loading_percent") is not None:
            text += (f", largest loading {corner['max_loading_percent']:.2f} % of its rating "
                     f"({corner.get('max_loading_element')})")
        broken = corner.get("limit_violations") or []
        if broken:
            text += (f"; breaks {len(broken)} limit(s), worst {_short_violation(broken[0])}"
                     " (all below the table)")
    return text


def _short_violation(d: dict[str, Any]) -> str:
    """A broken limit in a few words: ``line:11 at 113.3 % of its i_max``, ``bus 12 at
    0.8912 p.u. < v_min 0.9``."""
    if d.get("loading_percent") is not None:
        return (f"{d['id']} at {_beside(float(d['loading_percent']), 100.0, 1)} % of its "
                f"{d['limit']}")
    return (f"bus {d['id']} at {_beside(float(d['value']), float(d['rating']), 4)} "
            f"{d['unit']} {'<' if d['limit'] == 'v_min' else '>'} {d['limit']} "
            f"{d['rating']:g}")


def _beside(value: float, limit: float, places: int) -> str:
    """``value`` to ``places`` decimals, or to as many more (up to 7) as it takes to differ
    from ``limit``: a limit broken by less than the rounding (the growth margin's strict
    limit, user test ut51_robust #2) reads ``0.899993 p.u. < v_min 0.9``, not ``0.9000``."""
    while places < 7 and f"{value:.{places}f}" == f"{limit:.{places}f}":
        places += 1
    return f"{value:.{places}f}"


def corner_who(corner: dict[str, Any], which: str) -> str:
    """The loads a corner moves in words: ``which`` (every load, the N uncertain loads), or
    the budgeted corner's ``the 2 largest uncertain load(s) (load:3, load:7; budget 2)``: the
    one label of the table's row and of its violations below it (user test ut49_robust #1:
    the violations were headed by all 4 loads for the 2 the corner moved)."""
    moved = corner.get("moved_loads")
    return (which if not moved else f"the {len(moved)} largest uncertain load(s) "
            f"({', '.join(map(str, moved))}; budget {corner.get('budget')})")


def _print_corner_violations(corners: list[dict[str, Any]], label: str) -> None:
    """The limits that each corner's AC power flow breaks, one line each, as the solve
    prints its AC check's (:func:`feederopt.cli.app.violation_lines`); ``label`` the loads
    moved, a budgeted corner's own (:func:`corner_who`)."""
    from feederopt.cli.app import violation_lines

    out = stdout()
    for k, corner in enumerate(corners):
        broken = corner.get("limit_violations") or []
        if not broken:
            continue
        at = str(corner.get("label") or "").partition(" at ")[2]  # a scenario, a source V
        out.print(f"[red]corner: {escape(corner_who(corner, label))} x{corner['factor']:g}"
                  f"{' at ' + escape(at) if at else ''}[/]: its AC power flow breaks "
                  "the limits at:")
        for line in violation_lines(broken, f"corners[{k}].limit_violations", most=10):
            out.print(line, markup=False)


def result_verdict(data: dict[str, Any]) -> dict[str, Any]:
    """The verdict that a solve's result (its JSON ``data``) carries, for ``feederopt check``:
    the result's ``within_limits`` and status, its AC check's (``ac_check.within_limits``,
    ``limit_violations``; None when it was not run or did not converge), how many scenarios'
    AC power flows break a limit (None without scenarios) and the exit code that ``solve``
    gave it (:func:`feederopt.cli.app.verdict_exit_code`), and a scenario or robust solve's one
    AC verdict over every scenario (extreme point checked), ``ac_all_check``. A result
    written before these fields existed counts as within the limits."""
    within = data.get("within_limits")
    within = True if within is None else bool(within)
    has_topology = data.get("has_topology")
    has_topology = True if has_topology is None else bool(has_topology)
    ac = data.get("ac_check") if isinstance(data.get("ac_check"), dict) else None
    scen = data.get("scenarios") if isinstance(data.get("scenarios"), list) else None
    scen_ac = [s.get("ac") for s in scen or [] if isinstance(s, dict)]
    return {
        "status": data.get("status"),
        "within_limits": within,
        "ac_converged": None if ac is None else ac.get("converged"),
        "ac_within_limits": None if ac is None else ac.get("within_limits"),
        "ac_limit_violations": list(ac.get("limit_violations") or []) if ac else [],
        "scenarios_ac_breaking_limits": None if scen is None else sum(
            1 for a in scen_ac if isinstance(a, dict) and a.get("within_limits") is False),
        "scenarios_ac_checked": None if scen is None else sum(
            1 for a in scen_ac if isinstance(a, dict)),
        # the solve's one AC verdict over every scenario (extreme point checked); None for a
        # single solve or a result written before it existed
        "ac_all_check": every if isinstance(every := data.get("ac_all_check"), dict)
        and every.get("text") else None,
        "exit_code": verdict_exit_code(str(data.get("status")), str(data.get("method")),
                                       within_limits=within, has_topology=has_topology),
    }


def _verdict_rows(verdict: dict[str, Any]) -> list[tuple[str, str]]:
    """The check table's rows on the result's own verdict (:func:`result_verdict`)."""
    from feederopt import ac_all_label, ac_all_text

    rows = [("result within limits (its solve)",
             "yes" if verdict["within_limits"] else
             f"no (status {verdict['status']}; exit code {verdict['exit_code']})")]
    if verdict["ac_converged"] is None:
        rows.append(("result's AC check", "not run"))
    elif not verdict["ac_converged"]:
        rows.append(("result's AC check", "did not converge: the limits are not verified"))
    elif verdict["ac_within_limits"] is not None:
        broken = len(verdict["ac_limit_violations"])
        rows.append(("result's AC check", "within the limits" if verdict["ac_within_limits"]
                     else f"{broken} limit(s) broken"))
    every = verdict.get("ac_all_check")
    if every is not None:
        # judged by the solve at its own limits, not at this check's --v-min/--max-loading
        # (user test ut_growth: read as this check's verdict at another --max-loading)
        rows.append((f"result's {ac_all_label(str(every.get('of')))} (at its solve's limits)",
                     ac_all_text(every["text"])))
    elif verdict["scenarios_ac_checked"]:
        # judged by the solve at its own limits, not at this check's --v-min/--max-loading
        # (user test ut_growth: read as this check's verdict at another --max-loading)
        rows.append(("result's scenario AC checks (at its solve's limits)",
                     f"{verdict['scenarios_ac_breaking_limits']} of "
                     f"{verdict['scenarios_ac_checked']} break a limit"))
    return rows


def _print_ac_violations(verdict: dict[str, Any]) -> None:
    """The limits that the result's AC check found broken, as ``solve`` prints them."""
    from feederopt.cli.app import violation_lines

    broken = verdict["ac_limit_violations"]
    if not broken:
        return
    out = stdout()
    code = verdict["exit_code"]
    out.print("[red]The result's AC power flow breaks the limits[/] (its solve's AC check"
              + (f"; exit code {code}" if code else "") + "). It is outside at:")
    for line in violation_lines(broken, "ac_check.limit_violations"):
        out.print(line, markup=False)


def _limit_options(v_min: float | None, v_max: float | None,
                   max_loading: float | None) -> dict[str, bool]:
    return {"v_min": v_min is not None, "v_max": v_max is not None,
            "max_loading": max_loading is not None}


def _limits_text(limits: dict[str, Any], given: dict[str, bool]) -> str:
    """Which limits the check held the topology to (``MonteCarloResult.limits``: those that
    replaced the network's own), and where each came from: an option of check or the solve."""
    def origin(name: str) -> str:
        return f"--{name.replace('_', '-')}" if given.get(name) else \
            f"the solve's --{name.replace('_', '-')}"

    parts = []
    if "v_min_pu" in limits:
        parts.append(f"v_min {limits['v_min_pu']:g} p.u. ({origin('v_min')})")
    if "v_max_pu" in limits:
        parts.append(f"v_max {limits['v_max_pu']:g} p.u. ({origin('v_max')})")
    if limits.get("thermal_limits") is False:
        parts.append("no current limits (the solve's --no-thermal-limits)")
    elif "max_loading_percent" in limits:
        parts.append(f"loading <= {limits['max_loading_percent']:g} % "
                     f"({origin('max_loading')})")
    own = [name for key, name in (("v_min_pu", "v_min"), ("v_max_pu", "v_max"))
           if key not in limits]
    if limits.get("thermal_limits") is not False and "max_loading_percent" not in limits:
        own.append("ratings (loading <= 100 %)")
    if own:
        parts.append("the network's own " + ", ".join(own))
    return "; ".join(parts)


#: The ``check`` options that do not apply to a schedule result, and why.
_SCHEDULE_MISPLACED = {
    "uncertainty": ("--uncertainty", "it is checked in its own budget set"),
    "uncertain_loads": ("--uncertain-loads", "it is checked in its own budget set"),
    "case": ("--case", "it is checked on its own case"),
    "ties": ("--ties", "its case is read again with the tie rule it was scheduled with"),
    "no_ac": ("--no-ac-check", "its check runs no AC power flow (the LinDistFlow model only)"),
    "v_min": ("--v-min", "it is checked against its own limits"),
    "v_max": ("--v-max", "it is checked against its own limits"),
    "max_loading": ("--max-loading", "it is checked against its own limits"),
    "source_vm": ("--source-vm", "it is checked at its own case's source voltage"),
    "growth_margin": ("--growth-margin", "it scales a solve result's loads"),
}


def _check_schedule(doc: dict[str, Any], *, samples: int, seed: int, json_file: str | None,
                    force: bool, quiet: bool, verbose: bool, misplaced: dict[str, bool],
                    inputs: list[str]) -> None:
    """``feederopt check`` of a schedule result: the share of realisations of its own budget
    set served without slack, and exit code 4 with a line on stderr saying why when one is
    not, or when the result's own hourly AC check broke a limit (the result's
    ``ac_within_limits``, :func:`~feederopt.validation.schedule.sample_check_within_limits`;
    the result's own samples are not counted: the check draws its own).
    Options for other results are refused, and every problem (options, samples, the output
    path) is reported before the sampling."""
    from feederopt import check_schedule_result, output_problems, write_text

    problems = [Problem(
        ProblemKind.INVALID_VALUE, "options", f"{flag} does not apply to a schedule result: "
        f"{why}", field=name, hint=f"leave {flag} out" + (
            "; for another set, run 'feederopt schedule' again with other --robust-budget, "
            "--gamma or --uncertain-buses" if "set" in why else ""))
        for name, (flag, why) in _SCHEDULE_MISPLACED.items() if misplaced.get(name)]
    if json_file is not None:
        problems += output_problems(json_file, force=force, option="json", inputs=inputs)

    def note(text: str) -> None:
        if not quiet:
            stderr().print(f"note: {text}", style="yellow", markup=False)

    with progress_display(f"check {doc.get('case')}", quiet=quiet,
                          verbose=verbose) as progress:
        rep = check_schedule_result(doc, samples=samples, seed=seed, prior_problems=problems,
                                    notice=note, progress=progress, path=inputs[0])
    # the exit code beside the verdict, as for a solve or a partition result
    rep = {**rep, **check_verdict(rep["within_limits"],
                                  0 if rep["within_limits"] else EXIT_LIMITS_BROKEN)}
    if json_file is not None:  # a file that cannot be written now: printed, then exit 5
        late_outputs().write(write_text, json_file, json.dumps(rep, indent=2) + "\n",
                             force=force)
    if not quiet:
        if not rep["budget_set"]:
            stdout().print(f"{rep['case']}: the forecast is "
                           f"{'' if rep['served_pct'] >= 100.0 else 'not '}served without "
                           "slack (no budget set: 1 realisation)", markup=False)
        else:
            stdout().print(f"{rep['case']}: {rep['served_pct']:.1f} % of {rep['samples']} "
                           "realisations of the budget set served without slack",
                           markup=False)
            stdout().print(f"samples: {rep['sampling']['description']}", markup=False)
    if rep["within_limits"]:
        return
    # the check's verdict (sample_check_within_limits), as for a solve or a partition result:
    # exit 4 when one realisation is not served (chkexit: before, 0 whatever the share)
    if not quiet:
        n, ok = rep["samples"], rep["served"]
        why = []
        if ok < n:
            why.append(f"{n - ok} of {n} realisation(s) ({100.0 * (n - ok) / n:.2f} %) not "
                       "served without slack (load curtailment or unmet EV energy)")
        if rep["result_within_limits"] is False:
            # the result's one verdict (its within_limits, the exit code 4 schedule gave it)
            causes = rep.get("result_verdict_causes") or ["its within_limits false"]
            why.append("the result's own verdict (its within_limits, the exit code 4 "
                       "schedule gave it) is false: " + "; ".join(causes))
        stderr().print(f"the schedule is not within the limits. {'; '.join(why)}; exit code "
                       f"{EXIT_LIMITS_BROKEN}", style="yellow", markup=False)
    raise typer.Exit(EXIT_LIMITS_BROKEN)


def _three_phase_doc(result_file: str) -> dict[str, Any] | None:
    """The result JSON when it is a three-phase solve result (``feederopt solve FILE.dss
    --json``: open switches, no open branches), else None."""
    doc = _json_doc(Path(result_file))
    if doc is not None and "open_branches" not in doc and "open_switches" in doc:
        return doc
    return None


def _json_doc(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None when it is not a readable JSON object."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    check_schema_version(doc, str(path))  # a newer layout is refused, not misread
    return doc if isinstance(doc, dict) else None


def _kind_doc(result_file: str, kind: str) -> dict[str, Any] | None:
    """The result JSON when it is a result of ``kind`` (``"kind": "partition"`` or
    ``"schedule"``), else None (the ordinary reader then reports what is wrong with it)."""
    doc = _json_doc(Path(result_file))
    return doc if doc is not None and doc.get("kind") == kind else None


def _check_partition(doc: dict[str, Any], result_file: str, samples: int,
                     uncertainty: float | None, seed: int, ac: bool, json_file: str | None,
                     force: bool, quiet: bool, verbose: bool) -> None:
    from feederopt import check_output, check_partition_result, stamped, write_text

    if json_file is not None:
        check_output(json_file, force=force, option="json", inputs=[result_file])
    with progress_display(f"check {doc.get('case')}", quiet=quiet,
                          verbose=verbose) as progress:
        c = check_partition_result(doc, samples=samples, uncertainty=uncertainty, ac_check=ac,
                                   seed=seed, path=result_file, progress=progress,
                                   notice=None if quiet else lambda text: stderr().print(
                                       f"note: {text}", style="yellow", markup=False))
    from feederopt import (
        current_ratings_text,
        nominal_check_text,
        plan_within_limits,
        sample_breaches,
    )
    from feederopt.cli.partition import exit_if_not_within

    x = doc.get("uncertainty") if uncertainty is None else uncertainty
    # the check's verdict by the rule of `feederopt partition` (plan_within_limits): the
    # result's own OpenDSS check at the nominal load and this check's samples in OpenDSS
    # (IV-E); before (chkexit), check printed the share and exited 0 where partition exited 4
    vf = doc.get("voltage_feedback") if isinstance(doc.get("voltage_feedback"), dict) else None
    trivial = bool(doc.get("trivial_plan"))
    within = plan_within_limits(vf, c, trivial_plan=trivial)
    given = doc.get("inputs")
    inputs: dict[str, Any] = given if isinstance(given, dict) else {}
    # the ratings the check judged, those the result was found under (ut48_recheck #5)
    ratings = {"thermal_limits": inputs.get("thermal_limits", True),
               "max_loading_percent": inputs.get("max_loading_percent")}
    payload = stamped("partition", {"case": doc.get("case"), "uncertainty": x, "seed": seed,
                                    **ratings, **asdict(c), **check_verdict(
                                        within, EXIT_LIMITS_BROKEN if within is False else 0)})
    if json_file is not None:  # a file that cannot be written now: printed, then exit 5
        late_outputs().write(write_text, json_file, json.dumps(payload, indent=2) + "\n",
                             force=force)

    def finish() -> None:
        exit_if_not_within(vf, c, trivial_plan=trivial, status=doc.get("status"), quiet=quiet,
                           checks_where="this check's IV-E row",
                           feedback_where="voltage_feedback in the result")

    if quiet:
        finish()
        return
    table = summary_table(f"partition check: {doc.get('case')} (+-{100 * float(x or 0):g} %)")
    table.add_row("samples", f"{c.samples} (seed {seed})")
    table.add_row("current ratings", current_ratings_text(doc.get("inputs")))
    table.add_row("plan LinDist3Flow-feasible", fmt(c.lindist3flow_pct, ".2f", " %"))
    table.add_row("plan AC-feasible, OpenDSS (IV-E)", fmt(c.ac_pct, ".2f", " %"))
    for der, v in sorted((c.grid_forming_v_pu or {}).items()):
        table.add_row(f"grid-forming set-point {der}", fmt(v, ".5f", " p.u."))
    table.add_row("deterministic plan LinDist3Flow-feasible (IV-D)",
                  fmt(c.deterministic_pct, ".2f", " %"))
    why = [text for text in ("the trivial plan of a stopped run" if trivial else "",
                             nominal_check_text(vf), sample_breaches(c)) if text]
    table.add_row("within the limits (the check's verdict)",
                  "yes" if within else "not judged (no AC check ran: --no-ac-check, and the "
                  "result has no OpenDSS check at the nominal load)" if within is None else
                  f"no ({'; '.join(why)}; exit code {EXIT_LIMITS_BROKEN})")
    stdout().print(table)
    finish()
