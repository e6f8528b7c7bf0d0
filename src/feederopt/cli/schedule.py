"""``feederopt schedule CASE``: the 24-hour two-stage robust dynamic reconfiguration of seed 004
(storage, EV charging, PV, wind, DSM and fossil DG; C&CG); ``feederopt check RESULT`` samples
the budget set of a schedule result (cli/scenarios.py). The command joins
:data:`feederopt.cli.app.app` when :mod:`feederopt.cli` imports this module."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from feederopt import InputError, Problem, ProblemKind, write_text
from feederopt.cli.app import (
    BALANCED_SOURCE_ARG,
    FILE,
    FOLDER,
    FORCE_OPT,
    IDS,
    QUIET_OPT,
    REPEATABLE,
    TIES_OPT,
    VERBOSE_OPT,
    app,
    bound_fmt,
    cli_command,
    exit_if_interrupted,
    fmt,
    joined_list,
    late_outputs,
    progress_display,
    stderr,
    stdout,
    summary_table,
    time_limit_help,
    verdict_exit_code,
    violation_lines,
)


def _floats(text: str | None, option: str) -> list[float]:
    if not text:
        return []
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "options",
                                  "expected comma-separated numbers", (text,), option)]) from None


def _pct(gap: float | None) -> float | None:
    """A relative gap (a fraction, as the JSON holds it) in %."""
    return None if gap is None else 100 * gap


def _gap_pct(gap: float | None) -> str:
    """A relative gap in %, as ``solve``, ``plan`` and ``partition`` print it."""
    return fmt(_pct(gap), ".4f", " %")


#: schedule's list options: each may be repeated, the occurrences joined (cli.app.joined_list)
ROBUST_BUDGET_OPT = typer.Option(
    None, "--robust-budget", metavar="<gamma[,gamma_res]>",
    help="GAMMA[,GAMMA_RES]: hours per bus (and per renewable "
    "unit) that may deviate, whole numbers; with --gamma, a robust schedule by C&CG"
    f"{REPEATABLE} [default: none, a deterministic schedule].")
AGGREGATE_OPT = typer.Option(
    None, "--aggregate", metavar="<low,high>",
    help="LOW,HIGH: the aggregate-ratio reading of the budget (Sci. Rep. 14:23041) "
    "(per hour, LOW <= total realised / forecast load <= HIGH) instead of the temporal one"
    f"{REPEATABLE} [default: none, the temporal reading].")
UNCERTAIN_BUSES_OPT = typer.Option(
    None, "--uncertain-buses", metavar=IDS, help="BUS,BUS,...: the buses whose load may "
    f"deviate, each with a load (not the substation's bus){REPEATABLE} [default: every load bus].")


@app.command()
@cli_command
def schedule(
    source: str = BALANCED_SOURCE_ARG,
    ties: str = TIES_OPT,
    profiles: str | None = typer.Option(
        None, "--profiles", metavar=FILE,
        help="Hourly profile table (time, element, value; CSV or Parquet). "
        "Built-in cases (case33bw, case69bw) bring their own, which --profiles replaces "
        "entirely (PV, wind and EV rows too): start from a copy of the built-in table, "
        "feederopt/cases/data/schedule/<case>/profiles.csv in the installed package (a "
        "unit left without a profile gets its full path in the hint)."),
    devices: str | None = typer.Option(
        None, "--devices", metavar=FOLDER,
        help="Folder of device tables dg/ess/pv/wind/ev (.csv/.parquet). "
        "Built-in cases bring their own; a network of yours without it has no devices."),
    dsm: float = typer.Option(0.0, "--dsm", help="DSM share epsilon (0.1 = +-10 %)."),
    robust_budget: list[str] | None = ROBUST_BUDGET_OPT,
    gamma: float | None = typer.Option(
        None, "--gamma", help="Load deviation share with a load budget (--robust-budget "
        "GAMMA > 0 or --aggregate) [default: 0.1]."),
    aggregate: list[str] | None = AGGREGATE_OPT,
    hours: int | None = typer.Option(
        None, "--hours", help="Horizon [h]: the first hours of the profiles (a 25-hour DST "
        "day runs with --hours 24, its last hour left out) [default: 24]."),
    hourly_topology: bool = typer.Option(False, "--hourly-topology",
                                         help="A topology per hour, with --switch-cost."),
    switch_cost: float = typer.Option(0.0, "--switch-cost",
                                      help="Cost of each switching action [$], with "
                                      "--hourly-topology."),
    physical_soc: bool = typer.Option(False, "--physical-soc", help="SOC loses pdis/eta_dis "
                                      "(physical) instead of eta_dis * pdis (Sci. Rep. 14:23041)."),
    dg_commitment: bool = typer.Option(
        False, "--dg-commitment", help="Commit the fossil DG day-ahead (first stage: on/off "
        "per hour, p_min_mw when on, no_load_cost per hour on; dg table columns)."),
    import_limit: float | None = typer.Option(
        None, "--import-limit", help="Substation import limit [MW] (the transformer rating) "
        "[default: 100]."),
    buy_price: float | None = typer.Option(
        None, "--buy-price", help="Substation purchase price [$/MWh] for every hour (a "
        "profile element 'price' gives one per hour instead) [default: 50]."),
    loss_price: float | None = typer.Option(
        None, "--loss-price", help="Price of the losses [$/MWh] [default: 50]."),
    loss_tol: float | None = typer.Option(
        None, "--loss-tol", help="Largest share by which the piecewise-linear loss may "
        "under-estimate r(P^2+Q^2) between its tangents (0.04: tangents 1.5 times apart; "
        "0.01: 1.22 times; slower) [default: tangents at 0.05-6 MW, up to 0.25; on a feeder "
        "below 1 MW scaled to its flows]."),
    shed_price: float | None = typer.Option(
        None, "--shed-price", help="Price of curtailed load and unmet EV energy [$/MWh] "
        "[default: 500]."),
    spill_price: float | None = typer.Option(
        None, "--spill-price", help="Price of spilled PV/wind energy [$/MWh] [default: 0]."),
    uncertain_buses: list[str] | None = UNCERTAIN_BUSES_OPT,
    deterministic: bool = typer.Option(
        False, "--deterministic", help="Solve the forecast only, also with --robust-budget "
        "(the deterministic counterpart; the result keeps the budget set for `check`)."),
    samples: int = typer.Option(0, "--samples", help="Check the schedule on this many "
                                "realisations of the budget set."),
    ac_check: bool = typer.Option(True, "--ac-check/--no-ac-check",
                                  help="The hourly AC power flow (pandapower)."),
    time_limit: float = typer.Option(900.0, "--time-limit",
                                      help=time_limit_help()),
    gap: float = typer.Option(1e-3, "--gap", help="Relative C&CG gap."),
    json_file: str | None = typer.Option(None, "--json", metavar=FILE,
                                         help="Write the result as JSON."),
    out_dir: str | None = typer.Option(
        None, "--out", "-o", metavar=FOLDER,
        help="Write a result folder: result.json, hourly.png, setpoints.csv (the hourly "
        "set-points), report.html."),
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Schedule a feeder for the next day (the two-stage robust dynamic reconfiguration of
    Sci. Rep. 14:23041, 2024): topology, fossil DG, storage, EV charging, PV/wind use and DSM;
    robust to load and renewable deviations by C&CG."""
    from feederopt import schedule as run
    from feederopt import schedule_result_json, split_ids

    if switch_cost == 0:
        switch_cost = 0.0  # "-0" is 0: -0.0 would be written as -0.0
    # each option given once or repeated, its occurrences joined (numbers keep every entry)
    budget_text = joined_list(robust_budget, unique=False)
    aggregate_text = joined_list(aggregate, unique=False)
    buses_text = joined_list(uncertain_buses)
    budget = _floats(budget_text, "robust_budget")
    band = _floats(aggregate_text, "aggregate")
    if len(budget) > 2:  # before, a third number was dropped without a word
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "options", f"--robust-budget takes GAMMA[,GAMMA_RES], "
            f"{len(budget)} numbers given", (str(budget_text),), "robust_budget",
            hint="e.g. --robust-budget 4 (hours per bus) or 4,4 (and per renewable unit)")])
    changes: dict[str, Any] = {"eps": dsm, "hourly": hourly_topology,
                                  "c_switch": switch_cost,
                                  "soc_form": "physical" if physical_soc else "seed",
                                  "dg_commitment": dg_commitment}
    if hours is not None:  # given: a 25-hour day runs its first hours (the default refuses)
        changes["hours"] = hours
    if import_limit is not None:
        changes["ps_max_mw"] = import_limit
    for field, value in (("c_buy", buy_price), ("c_loss", loss_price),
                         ("c_shed", shed_price), ("c_spill", spill_price)):
        if value is not None:
            changes[field] = value
    if loss_tol is not None:
        changes["loss_tol"] = loss_tol
    if buses_text:
        changes["uncertain_buses"] = split_ids(buses_text)
    if budget or band:
        changes["budget"] = budget[0] if budget else 0.0
        changes["budget_res"] = budget[1] if len(budget) > 1 else 0.0
    if gamma is not None:  # given: it acts, or the settings refuse it (no load budget)
        changes["gamma"] = gamma
    elif changes.get("budget", 0.0) > 0 or band:  # a load budget: the default share
        changes["gamma"] = 0.1
    if band:
        if len(band) != 2:
            raise InputError([Problem(ProblemKind.INVALID_VALUE, "options",
                                      "--aggregate takes LOW,HIGH", (str(aggregate_text),),
                                      "aggregate")])
        changes["budget_kind"] = "aggregate"
        changes["aggregate"] = (band[0], band[1])
    from feederopt import blank_entry_problems, output_problems

    # the --json path is checked before the solve, with every problem of the options (and an
    # empty entry of --uncertain-buses, "3,,5": a bus left out)
    noticed: list[str] = []  # the notes printed before the solve (not printed again after it)

    def notice(text: str) -> None:
        noticed.append(text)
        if not quiet:  # --quiet prints nothing but errors; the notes stay in the result
            stderr().print(f"note: {text}", style="yellow", markup=False)

    from feederopt import OutputNotWrittenError

    # an output that cannot be written after the run: the answer printed, then exit 5
    late = late_outputs()
    with progress_display(f"schedule {source}", quiet=quiet, verbose=verbose) as progress:
        try:
            res = run(source, profiles=profiles, devices=devices, time_limit_s=time_limit,
                      gap=gap, ac_check=ac_check, samples=samples, out=out_dir, force=force,
                      deterministic=deterministic, prior_problems=[
                          *blank_entry_problems("uncertain_buses", buses_text),
                          *(output_problems(json_file, force=force, option="json", inputs=[
                              x for x in (source, profiles, devices) if x is not None])
                            if json_file is not None else [])],
                      progress=progress, notice=notice,
                      ties=ties,  # type: ignore[arg-type]  # the api checks the value
                      **changes)
        except OutputNotWrittenError as exc:  # the --out folder, written by the api
            res = late.caught(exc)
    data = res.to_dict()
    if json_file is not None:
        late.write(write_text, json_file, schedule_result_json(data), force=force)
    written = (json_file is not None or out_dir is not None) and late.ok
    if quiet and late.ok:  # a failed write prints the answer all the same
        exit_if_interrupted(res.status, has_answer=True, what="schedule", written=written,
                            quiet=True)
        _exit_if_not_within(res, quiet=True)
        return
    out = stdout()
    t = summary_table(f"{res.case}: schedule ({res.method}, {res.hours} h, DSM "
                      f"{100 * float(res.settings['eps']):g} %)")
    t.add_row("status", res.status)
    t.add_row("objective / lower bound", f"{fmt(res.objective, ',.4f', ' $')} / "
              f"{bound_fmt(res.lower_bound, ',.4f', ' $')} (gap {_gap_pct(res.gap)})"
              # the MILP subproblem's unproven dual bound (user test ut49_sched #1)
              + ("; the objective is the MILP bound, not a cost"
                 if res.objective_is_milp_bound else ""))
    # the worst case found at *this* schedule's first stage (the JSON's worst.cost, plus the
    # first-stage cost as in the objective): a cost the schedule meets in the budget set, so
    # its exact worst case lies between it and the objective (an upper bound). The C&CG log's
    # "worst Q" values are each at their own iteration's first stage (ut_sched2 #2: the
    # largest of them was printed here, above this schedule's worst case)
    from feederopt import worst_found_text

    found = worst_found_text(res.objective, res.first_stage_cost,
                             res.worst.cost if res.worst is not None else None,
                             bool(res.objective_is_milp_bound))
    if found is not None:
        t.add_row("worst case found", found)
    from feederopt import open_lines_text, pwl_loss_text, topology_by_hour

    spans = topology_by_hour(data)
    if len(spans) > 1:  # --hourly-topology: each span of hours with its open lines
        for hours_text, lines in spans:
            t.add_row(f"open lines, hour {hours_text}", lines)
    else:
        t.add_row("open lines", open_lines_text(res.open_branches, res.open_lines))
    from feederopt import schedule_switching_text

    switching = schedule_switching_text(data)  # --hourly-topology (ut34_schedule #6)
    if switching is not None:
        t.add_row("switching actions (hourly topology)", switching)
    from feederopt import present_switching_text

    if (present := present_switching_text(data)) is not None:  # ut47_sched #6
        t.add_row("switching from the present state", present)
    if res.dg_commitment:
        t.add_row("DG committed (hours on)", ", ".join(
            f"{k}: {''.join(str(v) for v in on)}" for k, on in res.dg_commitment.items()))
    if res.worst_searched is False:  # robust, stopped before it searched any worst case
        t.add_row("worst case", "not searched (the run stopped before any worst-case search; "
                  "no upper bound: see the notes)")
    from feederopt import ac_losses_mwh, loss_rows

    # the AC check ran at the series' realisation: its day losses go beside that one's
    ac_at = ("worst case" if res.worst is not None else "forecast", ac_losses_mwh(res.ac_check))
    for label, tot in (("forecast", res.nominal), ("worst case", res.worst)):
        if tot is None:
            continue
        for row in loss_rows(tot, label, ac_at[1] if label == ac_at[0] else None):
            t.add_row(*row)  # branches, shunts (no-load losses) and AC check (ut33)
        # what the objective prices: the tangents' under-estimate of r(P^2+Q^2) (--loss-tol)
        t.add_row(f"{label}: losses in the objective (piecewise-linear, --loss-tol)",
                  pwl_loss_text(tot))
        t.add_row(f"{label}: purchase (losses priced separately)",
                  fmt(tot.purchase_mwh, ".3f", " MWh"))
        t.add_row(f"{label}: purchase cost (each hour's price)",
                  fmt(tot.purchase_cost, ",.4f", " $"))
        t.add_row(f"{label}: import with the modelled losses", fmt(tot.import_mwh, ".3f",
                                                                     " MWh"))
        t.add_row(f"{label}: load curtailment", fmt(tot.load_shed_mwh, ".3f", " MWh"))
        t.add_row(f"{label}: EV energy not delivered", fmt(tot.ev_unmet_mwh, ".4f", " MWh"))
        t.add_row(f"{label}: renewable spill", fmt(tot.renewable_spill_mwh, ".3f", " MWh"))
        t.add_row(f"{label}: V min / V max", f"{fmt(tot.v_min_pu, '.4f')} / "
                  f"{fmt(tot.v_max_pu, '.4f')} p.u.")
    from feederopt import ac_check_rows

    for row in ac_check_rows(res.ac_check, res.ac_within_limits):
        t.add_row(*row)  # the report's Summary prints the same rows (ut38_cli #2)
    from feederopt import base_verdict_rows

    # the network's own switch states, the same injections: losses, limits, reduction
    for label, text in base_verdict_rows(res.base, engine="AC, own switch states",
                                         unit="MWh", answer_losses=ac_at[1]):
        t.add_row(escape(label), escape(text))
    if res.sample_check:
        sc = res.sample_check
        t.add_row(f"served without slack ({sc['samples']} samples)",
                  fmt(sc["served_pct"], ".1f", " %"))
        if sc.get("deterministic_served_pct") is not None:
            t.add_row("deterministic schedule served", fmt(sc["deterministic_served_pct"],
                                                           ".1f", " %"))
        if sc.get("sampling"):
            t.add_row("samples drawn as", sc["sampling"]["description"])
    from feederopt import schedule_verdict_rows

    for label, text in schedule_verdict_rows(res):  # the JSON's within_limits, with why
        t.add_row(escape(label), escape(text))
    t.add_row("run time", fmt(res.run_time_s, ".1f", " s"))
    t.add_row("validity", res.validity)
    out.print(t)
    for note in res.notes:  # the solve's own notes (C&CG's stop rule, the bounds' sources)
        if note not in noticed:
            stderr().print(f"note: {note}", style="yellow", markup=False)
    if res.iterations:
        it = Table(title="C&CG log", title_justify="left")
        for col in ("k", "LB [$]", "UB [$]", "gap [%]", "worst Q [$]", "deviations",
                    "time [s]"):
            it.add_column(escape(col), justify="right")  # "[s]" is no markup tag
        for r in res.iterations:
            it.add_row(str(r["k"]), fmt(r["lower"], ",.4f"), fmt(r["upper"], ",.4f"),
                       fmt(_pct(r["gap"]), ".4f"), fmt(r["worst_value"], ",.4f"),
                       str(r["deviations"]), fmt(r["elapsed_s"], ".1f"))
        out.print(it)
    if res.worst_case is not None:  # after the log, as docs/schedule.md's "Output" lists it
        _print_worst_case(res.worst_case)
    exit_if_interrupted(res.status, has_answer=True, what="schedule", written=written,
                        quiet=False)
    _exit_if_not_within(res, quiet=False)


def _exit_if_not_within(res: Any, *, quiet: bool) -> None:
    """End a schedule whose one verdict is false (the JSON's ``within_limits``,
    :func:`~feederopt.validation.schedule.schedule_within_limits`) with exit code 4
    (:data:`EXIT_LIMITS_BROKEN`): its hourly AC check breaks a limit
    (:func:`_print_ac_limits`, red lines naming them), or its ``--samples`` check finds a
    realisation of the budget set it does not serve without slack (one is enough, no
    threshold on the share, as ``feederopt check`` of the result judges it), or both; a line
    on stderr names the checks that fail. Before (smalls41), the AC check's verdict and the
    samples' were two exits, and the JSON's ``within_limits`` held the AC's alone: it could
    read true while the run exited 4 for its samples."""
    if res.within_limits is not False:
        return
    code = verdict_exit_code(res.status, res.method, within_limits=False, has_topology=True)
    if not quiet:
        if res.ac_within_limits is False:
            _print_ac_limits(res, code)
        stderr().print(f"the schedule is not within the limits: {'; '.join(res.verdict_causes)}"
                       f"; exit code {code}", style="yellow", markup=False)
    raise typer.Exit(code)


#: The most elements of the worst case the console lists (the JSON's worst_case has all).
WORST_CASE_ROWS = 12


def _print_worst_case(wc: dict[str, Any]) -> None:
    """The worst case found as the report gives it (docs/schedule.md, "Output"), compact:
    each load and renewable unit that deviates with its hours as runs (``0-3, 7``), at most
    :data:`WORST_CASE_ROWS` elements and a count of the others. Before (user test
    ut34_schedule #6), the console of a robust run printed only the totals."""
    from feederopt import worst_case_rows

    rows = worst_case_rows(wc, compact=True)
    n = (wc.get("load_deviations"), wc.get("renewable_deviations"))
    head = (f"worst case found: {n[0]} load and {n[1]} renewable deviation(s) (hour 0 is the "
            "first; elements not listed stay at their forecast)")
    if not rows:
        stdout().print(f"{head}: no deviation, the forecast", markup=False)
        return
    table = Table(title=head, title_justify="left")
    for col in ("element", "above forecast [h]", "below forecast [h]",
                "short of availability [h]"):
        table.add_column(escape(col), justify="left" if col == "element" else "right")
    for row in rows[:WORST_CASE_ROWS]:
        table.add_row(*(escape(v) for v in row.values()))
    stdout().print(table)
    if len(rows) > WORST_CASE_ROWS:
        stdout().print(f"... and {len(rows) - WORST_CASE_ROWS} more element(s) deviate (the "
                       "JSON's worst_case and the report list them all)", markup=False)


def _print_ac_limits(res: Any, code: int) -> None:
    """Say that a schedule's hourly AC operating points break the limits the model held
    (``ac_within_limits`` false: a bus voltage band, a branch rating or the import limit) as
    ``solve`` does for a topology whose AC power flow breaks them: a red line and the limits
    broken per hour, after the result was printed and written (exit code ``code``, 4:
    :func:`~feederopt.cli.app.verdict_exit_code`)."""
    out = stdout()
    out.print("[red]The AC power flow of this schedule breaks the limits[/] (beyond the AC "
              "check's tolerance: the true operating point is outside them, while "
              "LinDistFlow's voltages, without the losses' drop, lie above the AC ones and "
              "the schedule's model holds no branch rating; see validity). Exit code "
              f"{code}.")
    hours = [a for a in res.ac_check if a.limit_violations]
    for a in hours[:6]:
        out.print(f"  hour {a.hour}:", markup=False)
        for line in violation_lines(a.limit_violations,
                                    f"ac_check[{a.hour}].limit_violations", most=5):
            out.print(f"  {line}", markup=False)
    if len(hours) > 6:
        out.print(f"  ... and {len(hours) - 6} more hours (the JSON's ac_check lists "
                  "them)", markup=False)
