"""``feederopt restore CASE --broken ...`` and ``feederopt plan CASE --scenarios ...``:
resilience planning (seed 003); the commands join :data:`feederopt.cli.app.app` when
:mod:`feederopt.cli` imports this module."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from feederopt import Problem, output_problems, write_text
from feederopt.cli.app import (
    BALANCED_SOURCE_ARG,
    EXIT_LIMITS_BROKEN,
    FILE,
    FOLDER,
    FORCE_OPT,
    IDS,
    QUIET_OPT,
    REPEATABLE,
    TIES_OPT,
    VERBOSE_OPT,
    add_time_rows,
    app,
    bound_fmt,
    choices_metavar,
    cli_command,
    clock_answer,
    clock_written,
    exit_if_interrupted,
    fmt,
    joined_list,
    late_outputs,
    not_a_regular_file,
    progress_display,
    stderr,
    stdout,
    summary_table,
    time_limit_help,
    volt_range,
)

if TYPE_CHECKING:
    from feederopt import PlanResult, RestoreResult


def _output_problems(json_file: str | None, out_dir: str | None, force: bool,
                     inputs: list[str], command: str) -> list[Problem]:
    """The problems of the output paths: the api reports them with those of the options, all
    at once and before any solving; never onto the ``inputs`` the command reads, nor onto a
    file of the user's under a name that ``command``'s folder gets."""
    problems = []
    if json_file is not None:
        problems += output_problems(json_file, force=force, option="json", inputs=inputs)
    if out_dir is not None:
        problems += output_problems(out_dir, force=force, folder=True, option="out",
                                    inputs=inputs, command=command)
    return problems


def _json_text(res: RestoreResult | PlanResult) -> str:
    """The JSON document of ``res``, as ``--json FILE`` and the folder's result.json have
    it."""
    from feederopt.api import finite_json

    return json.dumps(finite_json(res.to_dict()), indent=2, allow_nan=False) + "\n"


def _write_outputs(res: RestoreResult | PlanResult, json_file: str | None, force: bool,
                   folder: Callable[[], Path | None] | None) -> bool:
    """Write ``res``'s ``--json`` file and its ``--out`` folder (``folder`` writes it and
    returns its path; None: none asked), timed as ``solve`` writes its own: the start-up and
    the wall-clock time to the answer first (:func:`~feederopt.cli.app.clock_answer`), then
    the outputs; once written, ``timings["write_s"]`` and the wall-clock time with the
    writing (:func:`~feederopt.cli.app.clock_written`), and the JSON files written again
    with them: the folder's result.json, not its report.html, which shows the time to the
    answer and leaves out ``write_s`` (``feederopt report`` remakes the same page). A
    stream (``--json /dev/stdout``) gets its document once, after the folder, with them.
    Returns whether every output was written; one that could not be is the command's exit
    code 5 (:func:`~feederopt.cli.app.late_outputs`)."""
    write_started = clock_answer(res)
    late = late_outputs()  # a write that fails now: the answer printed, then exit 5
    stream = json_file is not None and not_a_regular_file(json_file)
    if json_file is not None and not stream:
        late.write(write_text, json_file, _json_text(res), force=force)
    written = None if folder is None else late.write(folder)
    if stream and not late.ok:
        late.write(write_text, json_file, _json_text(res), force=force)  # the answer
    elif late.ok and (json_file is not None or written is not None):
        clock_written(res, write_started)
        if json_file is not None:
            late.write(write_text, json_file, _json_text(res),
                       force=force if stream else True)
        if written is not None:
            late.write(write_text, Path(written) / "result.json", _json_text(res), force=True)
    return late.ok


RADIALITY_OPT = typer.Option(
    "forest", "--radiality", metavar=choices_metavar("forest", "seed"),
    help="forest: the closed lines form a spanning forest; seed: 'sum of closed lines <= "
    "N-1' (loops possible) with a switching penalty, the model of Hu and Wang's course "
    "project on the resilience planning of Zhang et al. 2020.")
#: The default of --switch-penalty, in the unit of each command's help.
PENALTY_DEFAULT = "[default: 0; 0.01 with --radiality seed, as that model has it]"
#: How long restore and plan may run: their limits count from the call, reading the network
#: included (docs/resilience.md, "The whole command"; user test ut39_mixed #2: the help said
#: "of the optimisation alone", reading and power flows on top).
TIME_LIMIT_HELP = time_limit_help(
    "counted from the call", scope="reading the network, building the model, the MILP and "
    "the second phase fall within it; the AC check and writing the outputs come on top. "
    "With no time left for the MILP's start the answer is the shed-all fallback (every "
    "sheddable load shed, every switchable line open), labelled so")
PLAN_TIME_LIMIT_HELP = time_limit_help(
    "counted from the call", scope="reading the network, building the models, the plan, "
    "the measures, the second phase and the AC checks (those past it are left out) fall "
    "within it; writing the outputs comes on top. A scenario with no time left for its "
    "operation gets the shed-all fallback (every sheddable load shed, every switchable "
    "line open), labelled so")


#: restore's list options: each may be repeated, the occurrences joined (cli.app.joined_list)
RESTORE_BROKEN_OPT = typer.Option(
    ..., "--broken", metavar=IDS,
    help=f"The ids of the broken lines{REPEATABLE} (\"\": none, the normal topology serving "
    "every load).")
DG_SITES_OPT = typer.Option(None, "--dg-sites", metavar=IDS,
                            help=f"The buses with a backup DG{REPEATABLE}.")


@app.command()
@cli_command
def restore(
    source: str = BALANCED_SOURCE_ARG,
    ties: str = TIES_OPT,
    broken: list[str] = RESTORE_BROKEN_OPT,
    dg_sites: list[str] | None = DG_SITES_OPT,
    dg_size: float | None = typer.Option(
        None, "--dg-size", help="Backup DG size [kW], with --dg-sites [default: 100]."),
    radiality: str = RADIALITY_OPT,
    penalty: float | None = typer.Option(
        None, "--switch-penalty", help="Switching penalty per closed line [p.u. of the 1 MVA "
        f"base: 0.01 = 10 kW] {PENALTY_DEFAULT}."),
    time_limit: float = typer.Option(600.0, "--time-limit", help=TIME_LIMIT_HELP),
    json_file: str | None = typer.Option(None, "--json", metavar=FILE,
                                         help="Write the result as JSON."),
    no_ac_check: bool = typer.Option(False, "--no-ac-check",
                                     help="Skip the AC power flow of the restoration."),
    out_dir: str | None = typer.Option(
        None, "--out", "-o", metavar=FOLDER,
        help="Write a result folder: result.json, buses.parquet and branches.parquet (the "
        "model's and the AC voltages and flows), switching.parquet, restoration.png and "
        "report.html."),
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Restoration after a disaster (phase 1 of the resilience planning of Zhang et al. 2020):
    with the given lines broken, switch the others to shed the least load (big-M LinDistFlow
    MILP on HiGHS), with the fewest switch changes from the normal state."""
    from feederopt import (
        MAX_SWITCH_OPS,
        branch_word,
        broken_title,
        dg_output_text,
        gap_explained,
        named_id,
        resilience_within_text,
        switch_operations_text,
    )
    from feederopt import restore as run

    with progress_display(f"restore {source}", quiet=quiet, verbose=verbose) as progress:
        # the text as given: the api reads it (an empty entry, "2,,11", is refused there)
        res = run(source, joined_list(broken) or "", dg_sites=joined_list(dg_sites) or (),
                  radiality=radiality,
                  switch_penalty_pu=penalty, dg_p_max_kw=dg_size, time_limit_s=time_limit,
                  prior_problems=_output_problems(json_file, out_dir, force, [source],
                                                  "restore"),
                  progress=progress, ac_check=not no_ac_check,
                  ties=ties)  # type: ignore[arg-type]  # the api checks the value
    answer = res.operation is not None
    folder: Callable[[], Path] | None = None
    if out_dir is not None and answer:
        from feederopt import write_restore_folder

        def write_folder() -> Path:
            return write_restore_folder(out_dir, source, res, force=force,
                                        ties=ties)  # type: ignore[arg-type]  # api-checked

        folder = write_folder
    ok = _write_outputs(res, json_file, force, folder)
    written = (json_file is not None or folder is not None) and ok
    if quiet and ok:  # a failed write prints the answer all the same
        exit_if_interrupted(res.status, has_answer=answer, what="restoration",
                            written=written, quiet=True)
        _exit_if_not_within(res, "restoration", quiet=True)
        return
    out = stdout()
    op = res.operation
    # the user's names beside the ids (a pandapower net's net.line.name, ...), as solve's
    branch_names = res.names.get("branches") or {}
    shown = [named_id(b, branch_names) for b in res.broken]
    t = summary_table(f"{res.case}: restore with {broken_title(shown, res.broken)} "
                      f"({res.radiality})")
    t.add_row("status", res.status)
    t.add_row("load", fmt(res.total_load_kw, ",.2f", " kW"))
    t.add_row("shed", fmt(res.shed_kw, ",.2f", " kW"))
    t.add_row("switching penalty", fmt(res.penalty_kw, ",.2f", " kW"))
    weighted = abs(res.objective_kw - res.penalty_kw - res.shed_kw) > 1e-6
    t.add_row("total (priority-weighted shed + penalty)" if weighted else
              "total (shed + penalty, as the seed reports)", fmt(res.objective_kw, ",.2f", " kW"))
    t.add_row("lower bound / gap", f"{bound_fmt(res.lower_bound_kw, ',.2f', ' kW')} / "
              f"{fmt(None if res.gap is None else 100 * res.gap, '.4f', ' %')}"
              + gap_explained(res.loss_reserve_kw, res.model_gap, " kW"))
    t.add_row("within the limits (AC check)", resilience_within_text(res.within_limits, res.status))
    # the solve's time, and the wall-clock time from the process's start to the answer and
    # with writing, as solve's (its time was in no row)
    add_time_rows(t, res, verbose=verbose)
    t.add_row(f"closed {branch_word(op.closed_lines)}", ", ".join(op.closed_lines) or "-")
    # the shed-all fallback of a run out of time opens every switchable line: labelled, and
    # its rows counted past MAX_SWITCH_OPS (all in the JSON), not listed as a plan
    t.add_row("switching (from the normal state)", switch_operations_text(
        res.switching, branch_names, MAX_SWITCH_OPS if res.fallback else None,
        fallback=res.fallback, operated_by=True))
    t.add_row("energised buses", ", ".join(op.energised_buses))
    if op.dg_output_kw:
        t.add_row("backup DG output (model)", dg_output_text(op))
    if op.island_generators_off or op.island_shunts_off:
        t.add_row("disconnected in DG islands",
                  "; ".join(f"{what} at {', '.join(buses)}" for what, buses in (
                      ("generators", op.island_generators_off),
                      ("shunts", op.island_shunts_off)) if buses))
    out.print(t)
    if op.shed_per_bus_kw:
        out.print(_shed_table("bus", op.shed_per_bus_kw))
    if op.shed_per_load_kw and op.shed_per_load_kw != op.shed_per_bus_kw:
        out.print(_shed_table("load", op.shed_per_load_kw, res.names.get("loads")))
    f = Table(title=f"flows on closed {branch_word(op.closed_lines)}", title_justify="left")
    with_names = any(line in branch_names for line in op.flows_kw)
    for col in ("line", *(("name",) if with_names else ()), "P (kW)", "Q (kVAr)"):
        f.add_column(col, justify="left" if col == "name" else "right")
    for line, p in op.flows_kw.items():
        f.add_row(line, *((branch_names.get(line) or "-",) if with_names else ()),
                  f"{p:,.2f}", f"{op.flows_kvar[line]:,.2f}")
    out.print(f)
    if res.ac_check is not None:
        out.print(_ac_table(res.ac_check))
        _print_verdict(out, res.ac_check)
    _print_notes(out, res.notes)
    exit_if_interrupted(res.status, has_answer=answer, what="restoration",
                        written=written, quiet=False)
    _exit_if_not_within(res, "restoration", quiet=False)


def _exit_if_not_within(res: Any, what: str, *, quiet: bool) -> None:
    """End a restoration or plan whose one verdict is false (its JSON's ``within_limits``,
    :func:`~feederopt.validation.restoration.restoration_within_limits`: an operation's AC
    check breaks a limit) with exit code 4 (:data:`EXIT_LIMITS_BROKEN`), as ``solve``,
    ``check``, ``partition`` and ``schedule`` end theirs, after the result is printed and
    written; one line on stderr (unless ``quiet``) names the scenario(s) and the limits.
    Before (user test ut41_cli #2), ``restore case33bw --broken 2`` exited 0 with its AC
    check's ``limits_hold`` false."""
    if res.within_limits is not False:
        return
    if not quiet:
        causes = res.verdict_causes
        where = "ac_check" if what == "restoration" else "scenarios[].ac_check"
        scope = ("" if what == "restoration" else
                 f" in {len(causes)} of {len(res.scenarios)} scenario(s)")
        stderr().print(f"the {what} is not within the limits{scope}: "
                       f"{res.verdict_text} ({where} in the JSON); exit code "
                       f"{EXIT_LIMITS_BROKEN}", style="yellow", markup=False)
    raise typer.Exit(EXIT_LIMITS_BROKEN)


def _ac_table(ac: dict[str, Any]) -> Table:
    """A restoration's AC check (``feederopt.validation.restoration``) as a table."""
    t = summary_table("AC check (pandapower Newton-Raphson): the true operating point")
    from feederopt import yes_no  # yes/no as the other rows, not True (ut47_report #3)

    t.add_row("converged", yes_no(ac["converged"]))
    t.add_row("losses (AC; the model has none)", fmt(ac["losses_kw"], ".3f", " kW"))
    t.add_row("voltage (AC, true)", volt_range(ac["min_voltage_pu"], ac["max_voltage_pu"]))
    t.add_row("voltage (model: LinDistFlow, lossless)",
              volt_range(ac["model_min_voltage_pu"], ac["model_max_voltage_pu"]))
    t.add_row("max |V_model - V_ac| (model error)",
              fmt(ac["max_voltage_diff_pu"], ".2e", " p.u."))
    kvar = ac.get("dg_island_kvar") or {}
    for bus, kw in (ac.get("dg_island_kw") or {}).items():
        text = fmt(kw, ",.2f", " kW")
        if bus in kvar:
            text += ", " + fmt(kvar[bus], ",.2f", " kvar")
        t.add_row(f"backup DG {bus} forming its island (AC)", text)
    t.add_row("limits hold in AC", yes_no(ac["limits_hold"]))
    return t


def _print_verdict(out: Any, ac: dict[str, Any]) -> None:
    if not ac["limits_hold"]:
        out.print("[yellow]warning:[/] ", end="")
        cause = ac.get("cause") or ("the model's LinDistFlow is lossless and linear; the AC "
                                    "operating point is the true one")
        out.print(f"{ac['verdict']} ({cause})", markup=False)


def _print_notes(out: Any, notes: list[str]) -> None:
    for note in notes:
        kind, text = ("warning", note[len("warning: "):]) if note.startswith("warning: ") \
            else ("note", note)
        out.print(f"[yellow]{kind}:[/] ", end="")
        out.print(text, markup=False)



def _shed_table(what: str, shed_kw: dict[str, float],
                names: dict[str, str] | None = None) -> Table:
    """The shed per ``what`` (bus or load id) as a table, with the user's ``names`` of the
    ids (a column only when one has a name)."""
    s = Table(title=f"shed per {what}", title_justify="left")
    s.add_column(what)
    named = any(key in (names or {}) for key in shed_kw)
    if named:
        s.add_column("name")
    s.add_column("shed (kW)", justify="right")
    for key, kw in shed_kw.items():
        s.add_row(key, *(((names or {}).get(key) or "-",) if named else ()), f"{kw:,.2f}")
    return s


#: plan's list options: each may be repeated, the occurrences joined (cli.app.joined_list)
PLAN_BROKEN_OPT = typer.Option(
    None, "--broken", metavar=IDS,
    help=f"One certain attack instead (Phase 2): the broken lines{REPEATABLE}.")


@app.command()
@cli_command
def plan(
    source: str = BALANCED_SOURCE_ARG,
    ties: str = TIES_OPT,
    scenarios: str | None = typer.Option(
        None, "--scenarios", metavar="<file|name>",
        help="Disaster scenarios: a .json/.csv file, or the name of a "
        "file shipped with the case (zhang13: A_C_p1 ... B611_C_p3)."),
    broken: list[str] | None = PLAN_BROKEN_OPT,
    harden_budget: int | None = typer.Option(None, "--harden-budget",
                                             help="Most lines hardened (H) [default: 2]."),
    dg_budget: int | None = typer.Option(None, "--dg-budget",
                                         help="Most backup DGs (G) [default: 1]."),
    dg_cost: float | None = typer.Option(
        None, "--dg-cost", help="DG cost [$/kW]: 1.5 (the code and figures of Hu and "
        "Wang's course project on Zhang et al. 2020) or 1500 (its text) [default: 1.5]."),
    dg_size: float | None = typer.Option(None, "--dg-size", help="DG size [kW] [default: 100]."),
    harden_cost: float | None = typer.Option(None, "--harden-cost",
                                             help="Hardening cost [$ per line] [default: 400]."),
    voll: float | None = typer.Option(None, "--voll",
                                      help="Value of lost load [$/kW] [default: 14]."),
    radiality: str = RADIALITY_OPT,
    penalty: float | None = typer.Option(
        None, "--switch-penalty", help="Switching penalty per closed line [$] "
        f"{PENALTY_DEFAULT}."),
    method: str = typer.Option("extensive", "--method",
                               metavar=choices_metavar("extensive", "lshaped"),
                               help="extensive (one MILP) or lshaped (integer L-shaped)."),
    workers: int = typer.Option(1, "--workers", help="Processes for the L-shaped "
                                "subproblems (with the extensive method: taken, not used, "
                                "with a note)."),
    ray: str | None = typer.Option(None, "--ray", metavar="<auto|local|address>",
                                   help="Run the L-shaped subproblems on Ray: auto (the "
                                   "running local cluster, else a local Ray), local (a "
                                   "Ray of its own) or a cluster address."),
    measures: bool = typer.Option(True, "--measures/--no-measures",
                                  help="Wait-and-see, EEV, EVPI and VSS (within --time-limit: "
                                  "the expected-value plan first, at most 1/10 of it, a "
                                  "candidate plan; the others in the time the solve leaves)."),
    gap: float | None = typer.Option(
        None, "--gap", help="Relative optimality gap at which the solve stops [default: 1e-7 "
        "for the extensive form's MILP, 1e-6 for the L-shaped method]."),
    time_limit: float = typer.Option(
        600.0, "--time-limit",
        help=PLAN_TIME_LIMIT_HELP),
    json_file: str | None = typer.Option(None, "--json", metavar=FILE,
                                         help="Write the result as JSON."),
    no_ac_check: bool = typer.Option(False, "--no-ac-check",
                                     help="Skip the AC power flows of the scenario operations."),
    out_dir: str | None = typer.Option(
        None, "--out", "-o", metavar=FOLDER,
        help="Write a result folder: result.json, switching.parquet and shed.parquet (per "
        "scenario its switch operations and shed loads), plan.png and report.html."),
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Harden lines and site backup DGs within budgets to minimise investment plus the
    expected cost of shed load over disaster scenarios (phases 2 and 3 of the resilience
    planning of Zhang et al. 2020)."""
    from feederopt import (
        DISCONNECTED_NOTE,
        MAX_SWITCH_OPS,
        disconnected_text,
        gap_explained,
        measure_caveats,
        named_id,
        plan_settings,
        radiality_problems,
        resilience_within_text,
        switch_operations_text,
        unproven_note,
    )
    from feederopt import plan as run

    # a bad --radiality among the other problems (plan_settings raises it alone): the
    # default kept meanwhile, the run refused with every problem
    bad_radiality = radiality_problems(radiality)
    st = plan_settings(harden_budget=harden_budget, dg_budget=dg_budget,
                       dg_cost_per_kw=dg_cost, dg_p_max_kw=dg_size,
                       dg_q_max_kvar=dg_size, harden_cost=harden_cost, voll=voll,
                       radiality=None if bad_radiality else radiality, switch_penalty=penalty)
    with progress_display(f"plan {source}", quiet=quiet, verbose=verbose) as progress:
        res = run(source, scenarios=scenarios,
                  broken=joined_list(broken), settings=st,
                  method=method, measures=measures, workers=workers, ray_address=ray,
                  gap=gap, time_limit_s=time_limit,
                  prior_problems=[*bad_radiality, *_output_problems(
                      json_file, out_dir, force,
                      [x for x in (source, scenarios) if x is not None], "plan")],
                  progress=progress, ac_check=not no_ac_check,
                  ties=ties)  # type: ignore[arg-type]  # the api checks the value
    folder: Callable[[], Path] | None = None
    if out_dir is not None:
        from feederopt import write_resilience_folder

        def write_folder() -> Path:
            # the document at the answer (its clock_answer figures): the page's
            return write_resilience_folder(
                out_dir, source, res.to_dict(), force=force,
                ties=ties)  # type: ignore[arg-type]  # the api checked the value

        folder = write_folder
    ok = _write_outputs(res, json_file, force, folder)
    written = (json_file is not None or out_dir is not None) and ok
    if quiet and ok:  # a failed write prints the answer all the same
        exit_if_interrupted(res.status, has_answer=True, what="plan", written=written,
                            quiet=True)
        _exit_if_not_within(res, "plan", quiet=True)
        return
    out = stdout()
    # the user's names beside the ids (a pandapower net's net.line.name, ...), as solve's
    branch_names = res.names.get("branches") or {}
    bus_names = res.names.get("buses") or {}
    t = summary_table(f"{res.case}: resilience plan ({res.method})")
    t.add_row("status", res.status)
    t.add_row("hardened lines (ids)",
              ", ".join(named_id(b, branch_names) for b in res.hardened) or "none")
    t.add_row("DG sites", ", ".join(named_id(b, bus_names) for b in res.dg_sites) or "-")
    t.add_row("investment", fmt(res.investment, ",.2f", " $"))
    t.add_row("expected shedding cost (priority-weighted)",
              fmt(res.expected_recourse, ",.2f", " $"))
    t.add_row("expected total cost", fmt(res.expected_total, ",.2f", " $"))
    t.add_row("lower bound / gap", f"{bound_fmt(res.lower_bound, ',.2f', ' $')} / "
              f"{fmt(None if res.gap is None else 100 * res.gap, '.4f', ' %')}"
              + gap_explained(res.loss_reserve, res.model_gap, " $"))
    t.add_row("within the limits (AC checks)",
              resilience_within_text(res.within_limits, res.status))
    # the solve's time, and the wall-clock time from the process's start to the answer and
    # with writing, as solve's (a plan showed its solver's 0.31 s of a 4.2 s run)
    add_time_rows(t, res, verbose=verbose)
    if res.measures is not None:
        m = res.measures
        why = measure_caveats(m)
        for label, name, value in (
                ("wait-and-see (WS)", "WS", m.wait_and_see),
                ("expected-value solution cost (EEV)", "EEV", m.expected_value_solution_cost),
                ("EVPI = RP - WS", "EVPI", m.evpi), ("VSS = EEV - RP", "VSS", m.vss)):
            t.add_row(label, fmt(value, ",.2f", " $")
                      + (f" ({why[name]})" if name in why else ""))
    out.print(t)
    s = Table(title="scenarios", title_justify="left")
    for col in ("scenario", "prob.", "attacked", "failed (not hardened)", "shed (kW)",
                "weighted shed cost ($)", "penalty ($)", "closed lines", "disconnected"):
        s.add_column(col)
    for sc in res.scenarios:
        s.add_row(sc.name, f"{sc.probability:g}",
                  ", ".join(named_id(b, branch_names) for b in sc.attacked) or "-",
                  ", ".join(named_id(b, branch_names) for b in sc.failed) or "-",
                  f"{sc.operation.shed_kw:,.2f}",
                  f"{sc.shed_cost:,.2f}", f"{sc.penalty_cost:,.2f}",
                  ", ".join(sc.operation.closed_lines) or "-",
                  disconnected_text(sc.operation))
    from feederopt.cli.app import keep_figures  # figures whole on a narrow terminal

    out.print(keep_figures(s, out))
    out.print("weighted shed cost = value of lost load x sum over the loads of "
              "priority x shed kW")
    out.print(DISCONNECTED_NOTE, markup=False)
    unproven = [sc.name for sc in res.scenarios if sc.recourse_status != "optimal"]
    if unproven:
        out.print("[yellow]warning:[/] ", end="")
        out.print(unproven_note(unproven), markup=False)
    load_names = {**bus_names, **(res.names.get("loads") or {})}
    per = Table(title="loads shed per scenario", title_justify="left")
    for col in ("scenario", "loads shed (kW)"):
        per.add_column(col)
    for sc in res.scenarios:
        shed = sc.operation.shed_per_load_kw or sc.operation.shed_per_bus_kw
        per.add_row(sc.name, ", ".join(f"{named_id(k, load_names)} {v:,.2f}"
                                       for k, v in shed.items()) or "-")
    out.print(per)
    sw = Table(title="operation per scenario: load served and switch operations from the "
               "normal state", title_justify="left")
    for col in ("scenario", "served (kW)", "shed (kW)", "switch operations"):
        sw.add_column(col, justify="right" if col.endswith("(kW)") else "left")
    for sc in res.scenarios:
        sw.add_row(sc.name, f"{sc.served_kw:,.2f}", f"{sc.operation.shed_kw:,.2f}",
                   switch_operations_text(sc.switching, branch_names,
                                          fallback=sc.fallback))
    out.print(keep_figures(sw, out))
    if any(len(sc.switching) > MAX_SWITCH_OPS for sc in res.scenarios):
        out.print(f"(at most {MAX_SWITCH_OPS} switch operations a scenario are shown; all of "
                  "them are in the JSON: scenarios[].switching)", markup=False)
    if any(sc.ac_check is not None for sc in res.scenarios):
        a = Table(title="AC check per scenario (pandapower; model: LinDistFlow, lossless)",
                  title_justify="left")
        for col in ("scenario", "V AC", "V model", "losses AC (kW)", "limits hold in AC"):
            a.add_column(col)
        for sc in res.scenarios:
            if sc.ac_check is None:  # left out past the time limit (a note says so)
                a.add_row(sc.name, "-", "-", "-", "not run")
                continue
            ac = sc.ac_check
            a.add_row(sc.name, volt_range(ac.get("min_voltage_pu"), ac.get("max_voltage_pu")),
                      volt_range(ac.get("model_min_voltage_pu"),
                                 ac.get("model_max_voltage_pu")),
                      fmt(ac.get("losses_kw"), ",.2f"),
                      "yes" if ac.get("limits_hold") else "no: " + str(ac.get("verdict", "")))
        out.print(a)
    _print_notes(out, res.notes)
    exit_if_interrupted(res.status, has_answer=True, what="plan", written=written,
                        quiet=False)
    _exit_if_not_within(res, "plan", quiet=False)
