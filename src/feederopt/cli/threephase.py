"""``feederopt solve FILE.dss``: the three-phase path of the solve command."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from feederopt import Problem, ProblemKind
from feederopt.cli.app import (
    EXIT_INFEASIBLE,
    EXIT_LIMITS_BROKEN,
    fmt,
    late_outputs,
    stderr,
    stdout,
    summary_table,
    time_text,
    wall_clock_s,
)

if TYPE_CHECKING:
    from feederopt import LimitSpread, OpenDssCheck, ScenarioSummary, ThreePhaseResult

#: How to hold a switch of a .dss feeder, which --hold-closed/--hold-open do not take: a
#: SwtControl with Lock=yes holds it in the state the file leaves it in (io.opendss; the
#: reader makes it not switchable, docs/threephase.md "Switches with an impedance").
HOLD_IN_FILE = ("to hold a switch of a .dss feeder, set its state in the file (enabled=yes "
                "closed, enabled=no open) and lock it there: New SwtControl.hold_X "
                "SwitchedObj=Line.X Lock=yes")


def unsupported_problem(unsupported: list[str]) -> Problem:
    """The options a three-phase solve does not have, as one typed problem; ``--controls`` and
    ``--fix-devices`` say what a three-phase run does with the devices instead (it holds
    the regulator taps and capacitor states at the file's solve: docs/threephase.md)."""
    held = ("; a three-phase run holds the regulator taps and capacitor states at the "
            "file's OpenDSS solve (plain reconfiguration, as --fix-devices does), and the AC "
            "check reports what OpenDSS's own controls would do from there"
            if {"--controls", "--fix-devices"} & set(unsupported) else "")
    # the documented way to hold a switch of a .dss feeder (user test ut46_dss3 #3)
    lock = (f"; {HOLD_IN_FILE}" if {"--hold-closed", "--hold-open"} & set(unsupported)
            else "")
    return Problem(
        ProblemKind.INVALID_VALUE, "options",
        f"{', '.join(unsupported)} not available for three-phase feeders yet{held}",
        tuple(unsupported), hint="three-phase solve: LinDist3Flow MILP; use --json FILE, "
        "--out DIR, --time-limit, --gap, --no-ac-check, --max-loading, --no-thermal-limits, "
        "--v-min, --v-max, --no-voltage-feedback, --ac-polish, --switch-cost, --scenarios "
        "(--workers and --ray are taken and ignored: one process)"
        + lock)


def three_phase_workers_note(workers: int | None, ray: str | None,
                             scenarios: bool) -> str | None:
    """The note for ``--workers``/``--ray`` given to a three-phase solve, None without them:
    taken (checked as on a balanced solve) and ignored, since the three-phase solve runs in
    this process, its scenarios too (one LinDist3Flow model over every scenario, or one
    enumeration of the radial states, not slaves the workers could share). Refused, they
    made scripts that always pass a worker count fail on a .dss feeder (ut50_scen #2)."""
    given = [f"--workers {workers}"] * (workers is not None) + [f"--ray {ray}"] * (
        ray is not None)
    if not given:
        return None
    what = (" (its scenarios are solved together, in one LinDist3Flow model or one "
            "enumeration of the radial states, not as slaves for workers to share)"
            if scenarios else "")
    return (f"{' and '.join(given)} ignored: a three-phase solve runs in this process"
            f"{what}")


def _limit(value: float | LimitSpread) -> str:
    """A voltage limit of the result: one number, or the range of the buses' own."""
    from feederopt import LimitSpread

    if isinstance(value, LimitSpread):
        return f"[{value.min:.4g}, {value.max:.4g}]"
    return f"{value:.4g}"


def _unrelieved(data: ThreePhaseResult) -> str:
    """The tail of the OpenDSS overload line: the overloads that no switching relieves
    (``opendss_fixed_overloads``: bridges of the feeder's graph), or nothing."""
    fixed = data.opendss_fixed_overloads
    if not fixed:
        return ""
    return ("; no switching relieves " + ", ".join(fixed) + " (no switch changes "
            + ("its" if len(fixed) == 1 else "their") + " flow: a bridge of the feeder's graph)")


def _limits_line(ac: OpenDssCheck) -> str:
    """OpenDSS's voltages against the limits, in one line: yes, or how many nodes are below
    and above them and the worst."""
    if ac.within_voltage_limits:
        return "yes"
    if not ac.converged:
        return "no (no convergence)"
    lim = ac.voltage_limits
    return (f"no: {lim['nodes_below_min']} node(s) below v_min, {lim['nodes_above_max']} above "
            f"v_max; worst {lim['worst_node']} at {lim['worst_voltage_pu']:.4f} p.u. "
            f"({lim['worst_limit']} {lim['worst_limit_pu']:.4g}, by "
            f"{lim['worst_violation_pu']:.4f} p.u.)")


def bound_line(data: ThreePhaseResult) -> str:
    """The lower bound of a result, what it rests on and the gap it proves; a trivial bound
    (``lower_bound_source``) says so instead of a gap of 100 %; an infeasible result shows
    neither (:data:`~feederopt.results.threephase.INFEASIBLE_BOUND_WORDS`)."""
    from feederopt import INFEASIBLE_BOUND_WORDS

    if data.status == "infeasible":
        return INFEASIBLE_BOUND_WORDS
    text = fmt(data.lower_bound_kw, ".3f", " kW") + " (loss proxy plus switching cost"
    basis = data.lower_bound_basis
    if data.lower_bound_source == "trivial":
        return text + f"; {basis or 'trivial'})"
    text += f"; {basis})" if basis else ")"
    gap = data.gap
    return text + (f", gap {fmt(100 * gap, '.2f', ' %')}" if gap is not None else "")


def _with_controls_table(ctl: Mapping[str, Any]) -> Table:
    """The check's second solve, with OpenDSS's controls acting (for information)."""
    from feederopt import yes_no  # yes/no as the other rows, not True (ut47_report #3)

    table = summary_table(f"OpenDSS with its controls acting (ControlMode={ctl['control_mode']})")
    table.add_row("converged", yes_no(ctl["converged"]))
    table.add_row("losses", fmt(ctl["losses_kw"], ".3f", " kW"))
    for ph in sorted(ctl["min_voltage_pu"]):
        table.add_row(f"voltage phase {ph}", f"{fmt(ctl['min_voltage_pu'][ph], '.4f')} - "
                      f"{fmt(ctl['max_voltage_pu'][ph], '.4f')} p.u.")
    table.add_row("taps moved", ", ".join(
        f"{tr} {m['held']:.6g} -> {m['with_controls']:.6g}"
        for tr, m in ctl["taps_moved"].items()) or "none")
    table.add_row("capacitors switched", ", ".join(
        f"{c} {m['held']} -> {m['with_controls']}"
        for c, m in ctl["capacitors_switched"].items()) or "none")
    if ctl["dead_nodes"]:
        table.add_row("load not served", fmt(ctl["unserved_load_kw"], ".3f", " kW"))
    return table


def scenario_table(scen: ScenarioSummary) -> Table:
    """One row per scenario: weight, the generating units' total output in the model and in
    OpenDSS's check (with generator rows; :meth:`ScenarioSummary.der_words` says what they
    sum), LinDist3Flow loss proxy, OpenDSS's losses, voltage range and largest loading of a
    rated line or transformer, within the limits (voltages, ratings, every load served; what
    is broken when not); and the weighted losses and the worst scenarios below."""
    from feederopt import ScenarioSummary

    table = Table(title=f"{scen.count} scenarios (one topology; OpenDSS per scenario)")
    der = any(r.get("generation_mw") is not None for r in scen.per_scenario)
    der_dss = der and any(r.get("opendss_generation_mw") is not None for r in scen.per_scenario)
    cols = ["scenario", "weight", *(["DER kW"] if der else []),
            *(["DER kW OpenDSS"] if der_dss else []), "proxy kW", "OpenDSS kW",
            "V min", "V max", "load %", "within"]
    for col in cols:
        table.add_column(col, justify="left" if col == "scenario" else "right",
                         no_wrap=col == "within")
    for r in scen.per_scenario:
        within = r.get("within_voltage_limits")
        gen, gen_dss = r.get("generation_mw"), r.get("opendss_generation_mw")
        broken = ScenarioSummary.broken_parts(r)
        table.add_row(r["scenario"], f"{r['weight']:.3f}",
                      *([fmt(None if gen is None else 1000 * gen, ".1f")] if der else []),
                      *([fmt(None if gen_dss is None else 1000 * gen_dss, ".1f")]
                        if der_dss else []),
                      fmt(r.get("loss_proxy_kw"), ".3f"),
                      fmt(r.get("opendss_losses_kw"), ".3f"),
                      fmt(r.get("opendss_min_voltage_pu"), ".4f"),
                      fmt(r.get("opendss_max_voltage_pu"), ".4f"),
                      fmt(r.get("max_loading_percent"), ".1f"),
                      "-" if within is None else
                      ("yes" if not broken else "no: " + ", ".join(broken)))
    captions = [] if (der_words := scen.der_words()) is None else [der_words]
    if scen.expected_losses_kw is not None:
        captions.insert(0, f"expected OpenDSS losses {scen.expected_losses_kw:.3f} kW "
                         f"(base topology {fmt(scen.base_expected_losses_kw, '.3f')}"
                         " kW); "
                         f"worst losses: {scen.worst_losses}, least voltage margin: "
                         f"{scen.worst_voltage}"
                         + (f", largest loading: {scen.worst_loading}"
                            if scen.worst_loading else ""))
    if captions:
        table.caption = "\n".join(captions)
    return table


def solve_three_phase_command(source: Any, *, time_limit: float, gap: float,
                              json_file: str | None, ac_check: bool, quiet: bool,
                              out_dir: str | None = None,
                              force: bool = False, thermal_limits: bool = True,
                              max_loading: float | None = None, v_min: float | None = None,
                              v_max: float | None = None,
                              voltage_feedback: bool = True, switch_cost: float | None = None,
                              scenarios: str | None = None, ac_polish: bool = False,
                              workers: int | None = None, ray: str | None = None) -> None:
    """Solve, print a summary and the OpenDSS check, write ``json_file``. The options that the
    three-phase path does not have were refused before (:func:`unsupported_problem`).

    ``workers`` and ``ray`` (``--workers``, ``--ray``: taken, checked and ignored, the solve
    runs in this process; :func:`three_phase_workers_note`) are recorded in the result's
    ``settings`` as given (``workers``, ``ray_address``), as a balanced solve records its
    own, so that ``feederopt report FILE.json`` repeats them in the command it hints.

    ``out_dir`` is the folder of result.json, the voltage profile and grid PNGs and report.html
    (:mod:`feederopt.report.threephase`); its path, like ``json_file``'s, was checked before.

    The exit codes are the balanced path's: :data:`EXIT_INFEASIBLE` when the MILP is
    infeasible, :data:`EXIT_LIMITS_BROKEN` when a time limit ends without a topology, the
    OpenDSS check does not pass (load left without voltage) or OpenDSS's voltages of the answer
    break the voltage limits (the answer is not within the limits, as a balanced solve's
    least-violating topology; with ``--no-ac-check``, the voltage feedback's OpenDSS solve of
    the answer says so), with the reason on stderr. ``ac_polish``, ``switch_cost`` [kW per
    switching action] and ``scenarios`` (a scenario file: one topology for all, a per-scenario
    table; the exit code says whether every scenario keeps the limits) are
    :func:`feederopt.api_threephase.solve_three_phase`'s."""
    from feederopt import (
        KEPT_STATE,
        ScenarioSummary,
        kept_state_label,
        solve_three_phase,
        write_text,
        yes_no,  # yes/no as the other rows, not True (ut47_report #3)
    )

    data = solve_three_phase(source, time_limit_s=time_limit, gap=gap, ac_check=ac_check,
                             thermal_limits=thermal_limits, max_loading_percent=max_loading,
                             v_min_pu=v_min, v_max_pu=v_max, voltage_feedback=voltage_feedback,
                             switch_cost_kw=switch_cost, scenarios=scenarios,
                             ac_polish=ac_polish)
    given = {**({"workers": int(workers)} if workers is not None else {}),
             **({"ray_address": str(ray)} if ray is not None else {})}
    if given:  # as given (ignored: one process), as a balanced solve records them
        data = replace(data, settings={**data.settings, **given})
    # the wall-clock time at the answer, before anything is written: result.json's
    # wall_clock_s and report.html's "to the answer" (ut47_report #2)
    answer_s = wall_clock_s()
    late = late_outputs()  # a write that fails now: the answer printed, then exit 5
    if json_file is not None:
        late.write(write_text, json_file, data.to_json() + "\n", force=force)
    folder = None
    if out_dir is not None:
        from feederopt import write_three_phase_folder

        # the wall-clock time to the answer, for report.html's time row (result.json too)
        folder = late.write(write_three_phase_folder, out_dir,
                            {**data.to_dict(), "wall_clock_s": answer_s}, force=force)
    solved = data.has_solution
    ac = data.ac_check
    fb = data.voltage_feedback
    polished = data.ac_polish
    # without the check, the feedback's (or the polish's) own OpenDSS solve of the answer
    feedback_broken = data.feedback_broken
    scen = data.scenarios
    scen_broken = data.scenarios_broken
    if not quiet or not late.ok:  # a failed write prints the answer, --quiet or not
        out = stdout()
        table = summary_table(f"{data.case}: three-phase, {data.method}")
        # what an optimal status proves: OpenDSS's optimum, or the loss proxy's (OPTIMAL_FOR)
        table.add_row("status", escape(data.status_words))
        # OpenDSS's verdict beside the model's status; ratings that no switch relieves said
        # as such (ut46_dss3 #6), not as a failure of the answer
        verdict = data.unrelieved_verdict or data.ac_verdict
        if verdict:
            table.add_row("AC verdict", f"[red]{escape(verdict)}[/]")
        if data.base_kept:  # every path: the enumeration, the MILP, the feedback
            table.add_row("answer", data.base_kept_words)
        lim = data.voltage_limits
        table.add_row("voltage limits", f"{_limit(lim.v_min_pu)} - "
                      f"{_limit(lim.v_max_pu)} p.u. ({lim.source})")
        if solved:
            # an infeasible result's states break the limits: not a plan (ut37_tph2)
            table.add_row(kept_state_label("open switches", data.status, KEPT_STATE),
                          ", ".join(data.open_switches) or "-")
            table.add_row(kept_state_label("changed switches", data.status, KEPT_STATE),
                          ", ".join(data.changed_switches) or "-")
            if data.switch_cost_kw is not None:
                table.add_row("switching actions", ", ".join(
                    f"{a.action} {a.switch}" for a in data.switching_actions) or "-")
                table.add_row("switching cost", f"{len(data.switching_actions)} x "
                              f"{data.switch_cost_kw:g} = "
                              + fmt(data.switching_cost_kw, ".3f", " kW"))
            table.add_row("loss proxy (LinDist3Flow)", fmt(data.loss_proxy_kw, ".3f", " kW"))
            if data.loss_proxy_source_kw:
                table.add_row("source-impedance part (LinDist3Flow)",
                              fmt(data.loss_proxy_source_kw, ".3f", " kW")
                              + " (not in OpenDSS's losses)")
        # the optimisation's time (what --time-limit bounds) and the wall-clock time in all, as
        # on a balanced grid (user test ut46_dss3 #2: the optimisation's alone was shown)
        # with outputs written, the time to the answer (the folder's) and with the writing
        table.add_row("time", time_text(data.solve_time_s, wall_clock_s(),
                                        answer_s if json_file or out_dir else None))
        if data.search:  # the MILP, or every radial state when they are few
            table.add_row("search", data.search)
        if solved and data.status != "optimal":  # stopped early: what is proven
            table.add_row("lower bound", bound_line(data))
        if fb.enabled:
            answers = [r for r in fb.iterations if r["topology"] == "answer"]
            # a MILP without an answer (infeasible, time limit) has no voltages to judge
            found = [r for r in answers if r.get("open_switches") is not None]
            table.add_row("voltage feedback (OpenDSS)",
                          f"{len(answers)} solve(s), {fb.stopped}"
                          + (f"; kept answer {fb.kept_iteration}" if fb.kept_iteration
                             else "")
                          + (f"; {data.base_kept_words}" if fb.base_kept else "")
                          + ("" if fb.within_voltage_limits or not found
                             else ", none within the limits"))
        if polished is not None and polished.enabled:
            table.add_row("AC polish (OpenDSS)",
                          f"{len(polished.moves)} move(s), "
                          f"{fmt(polished.opendss_losses_before_kw, '.3f')}"
                          f" -> {fmt(polished.opendss_losses_after_kw, '.3f')} kW, "
                          f"{polished.evaluations} solves, {polished.time_s:.1f} s; "
                          f"{polished.stopped}")
        if ac is not None:
            from feederopt import base_verdict_rows

            # the user's own switch states beside the answer: losses, limits, reduction
            rows = base_verdict_rows(data.base, engine="OpenDSS", answer_losses=ac.losses_kw)
            for label, value in rows or [("base case losses (OpenDSS)",
                                          fmt(data.base_losses_kw, ".3f", " kW"))]:
                table.add_row(label, escape(value))
        elif scen is not None and data.base:
            from feederopt import base_verdict_rows

            # the same over every scenario: expected losses, each limit at its worst scenario
            for label, value in base_verdict_rows(data.base, engine="OpenDSS",
                                                  answer_losses=scen.expected_losses_kw):
                table.add_row(label, escape(value))
        out.print(table)
        if ac is not None:
            acs = summary_table("AC check (OpenDSS, the model's taps and capacitors held)")
            acs.add_row("converged", yes_no(ac.converged))
            acs.add_row("losses", fmt(ac.losses_kw, ".3f", " kW"))
            lows, highs = ac.min_voltage_pu, ac.max_voltage_pu
            for ph in sorted(lows):
                acs.add_row(f"voltage phase {ph}", f"{fmt(lows[ph], '.4f')} - "
                            f"{fmt(highs[ph], '.4f')} p.u.")
            if ac.voltage_note:
                n_zs = len(ac.record.get("zero_sequence_removed_buses") or [])
                acs.add_row("voltages at ungrounded buses",
                            f"{n_zs} bus(es): phase voltages less the zero sequence (note)")
            acs.add_row("unbalance (max)", fmt(ac.unbalance_pct, ".2f", " %"))
            acs.add_row("max |V_model - V_OpenDSS|",
                        fmt(ac.max_voltage_diff_pu, ".4f", " p.u."))
            acs.add_row("load (OpenDSS)", fmt(ac.load_kw, ".1f", " kW"))
            acs.add_row("de-energised nodes", str(ac.dead_nodes))
            acs.add_row("load not served", fmt(ac.unserved_load_kw, ".3f", " kW"))
            acs.add_row("within voltage limits", _limits_line(ac))
            load = ac.loading
            if load.get("max_loading_percent") is not None:
                # of the rating, with the --max-loading limit beside it, as a single-phase
                # solve's AC check gives it
                from feederopt import loading_limit_text

                limit = (loading_limit_text(load.get("loading_limit_percent"))
                         if data.thermal_limits else "")
                acs.add_row("largest loading (lines, series elements, transformers)",
                            f"{load['max_loading_percent']:.1f} % of its rating "
                            f"({load.get('max_loading_element')}"
                            f"{'; ' + limit if limit else ''})")
            acs.add_row("within ratings",
                        "not judged (--no-thermal-limits)" if not data.thermal_limits
                        else "-" if not ac.converged
                        else "yes" if ac.within_thermal_limits
                        else f"no: {load.get('overloaded', 0)} overloaded"
                        + (f" ({len(data.opendss_fixed_overloads)} that no switching "
                           "relieves)" if data.opendss_fixed_overloads else ""))
            acs.add_row("passed (converged, every load served)", yes_no(ac.passed))
            out.print(acs)
            if ac.with_controls:
                out.print(_with_controls_table(ac.with_controls))
        if scen is not None:
            out.print(scenario_table(scen))
        if folder is not None:
            out.print(f"report: {folder / 'report.html'}", markup=False)
        err = stderr()
        for note in data.notes:
            err.print(f"note: {note}", markup=False)
        if ac is not None and ac.voltage_note:
            err.print(f"note (OpenDSS check): {ac.voltage_note}", markup=False)
        # OpenDSS's own warnings about the circuit it checked (the page shows them too)
        controls = (ac.with_controls or {}) if ac is not None else {}
        held = list(ac.warnings) if ac is not None else []
        for warning in held:
            err.print(f"warning (OpenDSS check): {warning}", style="yellow", markup=False)
        for warning in controls.get("warnings", []):
            if warning not in held:
                err.print(f"warning (OpenDSS with its controls acting): {warning}",
                          style="yellow", markup=False)
        if data.reason:  # the least-overloading answer, or OpenDSS's feasible one
            err.print(data.reason if solved else f"no topology: {data.reason}",
                      style="" if data.status == "feasible" else "yellow", markup=False)
        if ac is not None and not ac.passed:
            err.print(f"OpenDSS check not passed: {ac.dead_nodes} node(s) de-energised, "
                      f"{ac.unserved_load_kw:.3f} kW of load not served"
                      if ac.converged else "OpenDSS check not passed: no convergence",
                      style="yellow", markup=False)
        if ac is not None and ac.converged and not ac.within_voltage_limits:
            err.print("OpenDSS check: the answer's voltages break the limits ("
                      f"{_limits_line(ac).removeprefix('no: ')})", style="yellow",
                      markup=False)
        if ac is not None and ac.converged and not ac.within_thermal_limits:
            over = ac.loading.get("overloads") or []
            err.print("OpenDSS check: the answer loads "
                      f"{ac.loading.get('overloaded', len(over))} element(s) above "
                      f"{ac.loading.get('loading_limit_percent')} % of their rating ("
                      + ", ".join(f"{o['element']} {o['loading_percent']:.1f} %"
                                  for o in over[:5]) + ")" + _unrelieved(data),
                      style="yellow", markup=False)
        if data.model_broken:
            err.print("no OpenDSS solve judged the answer (--no-ac-check, no voltage feedback), "
                      "and the model itself puts " + ", ".join(data.fixed_overloads)
                      + " above the rating whatever the switches", style="yellow",
                      markup=False)
        if scen_broken:
            bad = [(r, ScenarioSummary.broken_parts(r))
                   for r in (scen.per_scenario if scen else ())]
            err.print("scenarios: OpenDSS's check breaks a limit (V: voltages, rating: a line "
                      "or transformer above its rating, unserved: load without voltage) in "
                      "scenario(s) " + "; ".join(
                          f"{r['scenario']} ({', '.join(parts)}"
                          + (f"; {r.get('max_loading_element')} at "
                             f"{r.get('max_loading_percent'):.1f} %"
                             if "rating" in parts and r.get("max_loading_percent") is not None
                             else "") + ")"
                          for r, parts in bad if parts) + _unrelieved(data),
                      style="yellow", markup=False)
        elif ac is None and feedback_broken and data.opendss_ranked is not None \
                and not (polished is not None and polished.enabled):
            # OpenDSS's ranking solved the answer: within every rating switching changes
            err.print("OpenDSS's ranking of the radial states: OpenDSS's currents of the "
                      "answer load " + ", ".join(
                          data.opendss_ranked.record.get("opendss_overloads") or ["-"])
                      + " (least_overloading in the JSON)" + _unrelieved(data),
                      style="yellow", markup=False)
        elif ac is None and feedback_broken:
            k = 0 if fb.base_kept else fb.kept_iteration  # the base row: the base kept
            row: Mapping[str, Any] = (fb.iterations[k] if isinstance(k, int)
                                      and 0 <= k < len(fb.iterations) else {})
            by_polish = (polished is not None and polished.enabled
                         and "opendss_min_voltage_pu" in polished.record)
            if by_polish:
                assert polished is not None
                row = polished.record  # the polish's OpenDSS solve of the final answer
            seen = (f"OpenDSS {fmt(row.get('opendss_min_voltage_pu'), '.4f')} - "
                    f"{fmt(row.get('opendss_max_voltage_pu'), '.4f')} p.u. against "
                    f"{_limit(lim.v_min_pu)} - {_limit(lim.v_max_pu)}; "
                    if row.get("opendss_min_voltage_pu") is not None else "")
            what = "AC polish" if by_polish else "voltage feedback"
            if row.get("within_thermal_limits") is False:
                err.print(f"{what}: OpenDSS's currents of the answer load "
                          f"{row.get('opendss_max_loading_element')} at "
                          f"{fmt(row.get('opendss_max_loading_percent'), '.1f')} % of its "
                          f"rating ({'ac_polish' if by_polish else 'voltage_feedback'} in the "
                          "JSON)" + _unrelieved(data), style="yellow", markup=False)
            if not (row.get("within_voltage_limits", True) and row.get("passed", True)) or (
                    row.get("within_thermal_limits") is not False):
                err.print(f"{what}: OpenDSS's voltages of the answer break the limits "
                          f"({seen}{'ac_polish' if by_polish else 'voltage_feedback'} in the "
                          "JSON)", style="yellow", markup=False)
    if data.status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)
    if not data.within_limits:
        raise typer.Exit(EXIT_LIMITS_BROKEN)
