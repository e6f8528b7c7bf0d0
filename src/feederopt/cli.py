"""The ``feederopt`` command line (typer + rich).

Commands are plain functions registered on :data:`app` and wrapped in :func:`cli_command`, which
turns every :class:`~feederopt.network.FeederoptError` into a message without a traceback and the
error's exit code (2 for bad input), and any other exception into a one-line message and exit
code 1. A command with a ``verbose`` parameter (``--verbose``) shows the traceback as well; one
with a ``json_output`` parameter (``--json``) gets its errors as JSON on stdout too. To add a
command::

    @app.command()
    @cli_command
    def solve(source: str = SOURCE_ARG, json_output: bool = JSON_OPT,
              verbose: bool = VERBOSE_OPT) -> None:
        net = load(source)
        ...
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from rich.table import Table

from feederopt import __version__
from feederopt.network.errors import FeederoptError, InputError, Problem, ProblemKind
from feederopt.solvers import interrupt

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="feederopt",
    help="Exact radial reconfiguration of power-distribution feeders.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Shared argument and option declarations, so that every command spells them alike.
FORCE_OPT = typer.Option(False, "--force",
                         help="Replace existing output files and folders (never without it).")
SOURCE_ARG = typer.Argument(
    ...,
    metavar="CASE_OR_FILE",
    help="A built-in case (see `feederopt cases`), a MATPOWER .m file, a pandapower .json file, "
    "an OpenDSS .dss file or a folder of .parquet/.csv tables.",
    show_default=False,
)
JSON_OPT = typer.Option(False, "--json", help="Print the result as JSON.")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
VERBOSE_OPT = typer.Option(False, "--verbose", "-v",
                           help="More output, and the traceback of an error.")


def stdout() -> Console:
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def problem_lines(problems: list[Problem] | tuple[Problem, ...]) -> list[str]:
    """One line per problem: kind, component [ids].field: message (hint)."""
    return [str(p) for p in problems]


def report_error(exc: FeederoptError, as_json: bool) -> None:
    """Print ``exc`` for a person (stderr) or, with ``as_json``, as JSON on stdout."""
    problems = list(exc.problems) if isinstance(exc, InputError) else []
    if as_json:
        payload = {
            "error": type(exc).__name__,
            "message": str(exc),
            "exit_code": exc.exit_code,
            "problems": [p.to_dict() for p in problems],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    err = stderr()
    if problems:
        n = len(problems)
        err.print(f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''} in the input")
        for line in problem_lines(problems):
            err.print(f"  - {line}", markup=False)
    else:
        err.print("[bold red]error:[/] ", end="")
        err.print(str(exc), markup=False)


def report_unexpected(exc: Exception, as_json: bool) -> None:
    """Print an exception that feederopt did not raise on purpose, in one line (or JSON)."""
    message = str(exc) or type(exc).__name__
    if as_json:
        payload = {"error": type(exc).__name__, "message": message, "exit_code": 1,
                   "problems": []}
        typer.echo(json.dumps(payload, indent=2))
        return
    err = stderr()
    err.print("[bold red]error:[/] ", end="")
    err.print(f"{type(exc).__name__}: {message}", markup=False)
    err.print("(run the command again with --verbose for the traceback)", style="dim")


def cli_command(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command; a :class:`FeederoptError` becomes a message and its exit code, any other
    exception a message and exit code 1. With ``verbose`` the traceback is shown too (an
    unexpected exception propagates)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("json_output", False))
        verbose = bool(kwargs.get("verbose", False))
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort,
                click.ClickException):
            raise
        except FeederoptError as exc:
            if verbose:
                stderr().print_exception()
            report_error(exc, as_json)
            raise typer.Exit(exc.exit_code) from None
        except interrupt.Interrupted:
            stderr().print("[bold red]interrupted[/]")
            raise typer.Exit(interrupt.exit_code()) from None
        except Exception as exc:
            if verbose:
                raise
            report_unexpected(exc, as_json)
            raise typer.Exit(1) from None

    return wrapper


def load_checked(source: Any, problems: list[Problem]) -> Any:
    """The network of ``source``, reporting the ``problems`` found before (options, output
    paths) together with the network's own: all at once, before any work."""
    from feederopt.io import load

    try:
        net = load(source)
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    if problems:
        raise InputError(problems)
    return net


def _num(value: float) -> float | None:
    """A JSON-safe float (NaN and infinities become null)."""
    return float(value) if value is not None and math.isfinite(value) else None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"feederopt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Exact radial reconfiguration of power-distribution feeders."""


# ----------------------------------------------------------------------------------------------
# info
# ----------------------------------------------------------------------------------------------


def network_info(source: Any) -> dict[str, Any]:
    """The facts ``feederopt info`` prints: counts, the base-case AC power flow, problems."""
    from feederopt.io import is_three_phase, load
    from feederopt.validation.ac import ac_power_flow

    if is_three_phase(source):  # an OpenDSS feeder: counts, OpenDSS's solution, LinDist3Flow
        from feederopt.api_threephase import three_phase_info

        return three_phase_info(source)
    net = load(source)
    summary = net.summary()
    for key in ("total_load_mw", "total_load_mvar"):  # no float noise such as 3.715000000000001
        summary[key] = round(summary[key], 9)
    from feederopt.validation.fidelity import model_fidelity

    ac = ac_power_flow(net)
    fidelity = model_fidelity(net, ac=ac) if ac.converged else None
    notes = list(net.meta.get("warnings", []))
    model_warning = fidelity.warning(notes) if fidelity is not None else None
    return {
        **summary,
        "source_format": net.meta.get("source_format"),
        "base_converged": ac.converged,
        "base_losses_kw": _num(ac.losses_kw),
        "base_min_voltage_pu": _num(ac.min_voltage_pu),
        "base_min_voltage_bus": ac.min_voltage_bus,
        "base_max_voltage_pu": _num(ac.max_voltage_pu),
        "base_message": ac.message,
        "model": fidelity.to_dict() if fidelity is not None else None,
        "problems": [p.to_dict() for p in net.validate()],
        "warnings": notes + ([model_warning] if model_warning else []),
    }


@app.command()
@cli_command
def info(source: str = SOURCE_ARG, json_output: bool = JSON_OPT,
         verbose: bool = VERBOSE_OPT) -> None:
    """Counts, a base-case AC power flow (pandapower) and the validation problems of a network."""
    data = network_info(source)
    if data["problems"] and data.get("source_format") == "opendss":
        raise InputError([Problem(ProblemKind(p["kind"]), p["component"], p["message"],
                                  tuple(p["ids"]), p["field"], p["hint"])
                          for p in data["problems"]])
    if json_output:
        typer.echo(json.dumps(data, indent=2))
        return
    out = stdout()
    table = Table(title=f"{data['name']}", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("buses", "phases", "branches", "switchable", "normally_open", "sources",
                "loads"):
        if key in data:
            table.add_row(key.replace("_", " "), str(data[key]))
    table.add_row("generators", str(data["generators"]))
    table.add_row(
        "total load", f"{data['total_load_mw']:.4f} MW, {data['total_load_mvar']:.4f} MVAr"
    )
    if data["base_converged"]:
        table.add_row("base-case losses (AC)", f"{data['base_losses_kw']:.2f} kW")
        table.add_row(
            "base-case voltage (AC)",
            f"{data['base_min_voltage_pu']:.4f} p.u. (bus {data['base_min_voltage_bus']}) - "
            f"{data['base_max_voltage_pu']:.4f} p.u.",
        )
    else:
        table.add_row("base-case AC power flow", f"did not converge ({data['base_message']})")
    if data.get("lindist3flow_max_voltage_error_pu") is not None:
        table.add_row("LinDist3Flow max |V - V_OpenDSS|",
                      f"{data['lindist3flow_max_voltage_error_pu']:.4f} p.u. "
                      f"({data['lindist3flow_max_voltage_error_node']})")
    model = data.get("model")
    if model and model["measured"]:
        table.add_row("base-case losses (model)",
                      f"{model['model_losses_kw']:.2f} kW ({model['losses_diff_pct']:+.3f} % "
                      f"vs AC, |dV| <= {model['max_voltage_diff_pu']:.1e} p.u.)")
    elif model:
        table.add_row("base-case losses (model)", f"not measured ({model['message']})")
    out.print(table)
    if data["problems"]:
        out.print(f"[red]{len(data['problems'])} problem(s)[/]")
    else:
        out.print("problems: none")
    for note in data["warnings"]:
        out.print(f"[yellow]note:[/] {note}", markup=True)
    if data["base_converged"] and data["base_message"]:
        out.print(f"[yellow]note:[/] AC power flow {data['base_message']}")


# ----------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------


@app.command()
@cli_command
def cases(json_output: bool = JSON_OPT) -> None:
    """List the built-in cases with their buses, branches, ties and load."""
    from feederopt.cases import list_cases

    rows = list_cases()
    if json_output:
        payload = [
            {
                "name": c.name,
                "buses": c.buses,
                "branches": c.branches,
                "ties": c.ties,
                "switchable": c.switchable,
                "sources": c.sources,
                "load_mw": c.load_mw,
                "load_mvar": c.load_mvar,
                "origin": c.origin,
                "description": c.description,
            }
            for c in rows
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title="Built-in cases", title_justify="left")
    for col in ("name", "buses", "branches", "ties", "load [MW]"):
        width = 14 if col == "name" else len(col)
        table.add_column(col, justify="left" if col == "name" else "right", min_width=width,
                         no_wrap=True)
    table.add_column("data from", no_wrap=True, overflow="ellipsis", max_width=30)
    for c in rows:
        m = re.search(r"\bfrom (.*)", c.description)
        where = m.group(1) if m else ""
        table.add_row(
            c.name,
            str(c.buses),
            str(c.branches),
            str(c.ties),
            f"{c.load_mw:.3f}",
            f"{where} ({c.origin})" if where else c.origin,
        )
    stdout().print(table)


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------


@app.command()
@cli_command
def report(
    result_dir: str = typer.Argument(..., metavar="RESULT_DIR", show_default=False,
                                     help="A folder written by `feederopt solve CASE --out DIR`."),
    out: str | None = typer.Option(None, "--out", "-o",
                                   help="The HTML file [default: RESULT_DIR/report.html]."),
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Write one self-contained HTML report of a result folder: summary, grid, voltage profile,
    convergence, AC check, and scenario and robust tables when present."""
    from feederopt.report.html import write_report

    path = write_report(result_dir, out, force=force)
    if not quiet:
        stdout().print(f"report: {path}", markup=False)


# ----------------------------------------------------------------------------------------------
# solve
# ----------------------------------------------------------------------------------------------

#: Exit code of a solve that proves the grid infeasible (no radial topology meets the limits).
EXIT_INFEASIBLE = 3


def _fmt(value: float | None, spec: str = ".3f", unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:{spec}}{unit}"


def print_result(result: Any) -> None:
    """A summary table of a solve, and the AC check."""
    out = stdout()
    table = Table(title=f"{result.case}: {result.method}", show_header=False,
                  title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("status", result.status.value)
    table.add_row("losses (SOCP model)", _fmt(result.losses_kw, ".3f", " kW"))
    table.add_row("objective", _fmt(result.objective, ".4f"))
    table.add_row("lower bound", _fmt(result.lower_bound, ".4f"))
    table.add_row("gap", _fmt(result.gap * 100 if result.gap is not None else None, ".4f", " %"))
    table.add_row("iterations", str(result.iterations))
    table.add_row("time", _fmt(result.solve_time_s, ".2f", " s"))
    table.add_row("solver", result.solver)
    table.add_row("voltage (SOCP model)", f"{_fmt(result.min_voltage_pu, '.4f')} - "
                  f"{_fmt(result.max_voltage_pu, '.4f')} p.u.")
    if result.base:
        table.add_row("base case losses (AC)", _fmt(result.base.get("losses_kw"), ".3f", " kW"))
    opened = ", ".join(f"{b['id']} ({b['from_bus']}-{b['to_bus']})" for b in result.open_branches)
    table.add_row("open branches", opened or "-")
    out.print(table)
    ac = result.ac_check
    if ac is not None:
        acs = Table(title="AC check (pandapower Newton-Raphson): the true operating point",
                    show_header=False, title_justify="left")
        acs.add_column("what")
        acs.add_column("value", justify="right")
        acs.add_row("converged", str(ac.converged))
        acs.add_row("losses (AC, true)", _fmt(ac.losses_kw, ".3f", " kW"))
        acs.add_row("voltage (AC, true)", f"{_fmt(ac.min_voltage_pu, '.4f')} - "
                    f"{_fmt(ac.max_voltage_pu, '.4f')} p.u.")
        acs.add_row("max |V_socp - V_ac| (model error)",
                    _fmt(ac.max_voltage_diff_pu, ".2e", " p.u."))
        acs.add_row("relaxation exact", str(ac.exact))
        out.print(acs)
        for w in ac.warnings:
            out.print(f"[yellow]warning:[/] {w}")
    if result.diagnosis:
        out.print("[red]No radial configuration meets the limits.[/] The least-violating one "
                  "needs slack at:")
        for d in result.diagnosis[:20]:
            out.print(f"  - {describe_violation(d)}", markup=False)


def describe_violation(d: dict[str, Any]) -> str:
    """One line of a diagnosis: the element, its limit and by how much it is exceeded."""
    what = {"v_min": "voltage below its minimum", "v_max": "voltage above its maximum",
            "i_max": "current rating", "s_max": "apparent-power rating",
            "p_balance": "active power not supplied", "q_balance": "reactive power not supplied",
            }.get(d["limit"], d["limit"])
    text = f"{d['component']} {d['id']}: {what} ({d['limit']}) exceeded by {d['amount']:.4g} " \
        f"{d['unit']}"
    if d.get("loading_percent") is not None and math.isfinite(d["loading_percent"]):
        text += f": {d['value']:.4g} {d['unit']} on a rating of {d['rating']:.4g} {d['unit']} " \
            f"({d['loading_percent']:.1f} % loading)"
    elif d.get("rating") is not None:
        text += f": {d['value']:.4f} {d['unit']} against {d['rating']:.4f} {d['unit']}"
    return text


@app.command()
@cli_command
def solve(
    source: str = SOURCE_ARG,
    method: str = typer.Option("benders", "--method", "-m",
                               help="benders (exact), misocp (exact, monolithic) or lindistflow "
                               "(heuristic)."),
    solver: str | None = typer.Option(None, "--solver",
                                      help="Override the conic solver: the slave's for benders "
                                      "(CLARABEL, MOSEK, ...), the model's for misocp (SCIP, "
                                      "GUROBI, MOSEK)."),
    gap: float = typer.Option(1e-4, "--gap", help="Relative optimality gap."),
    time_limit: float = typer.Option(600.0, "--time-limit", help="Time limit [s]."),
    radiality: str = typer.Option("parent_child", "--radiality",
                                  help="parent_child or flow (single-commodity flow)."),
    json_file: str | None = typer.Option(None, "--json", help="Write the result as JSON here."),
    out_dir: str | None = typer.Option(None, "--out",
                                       help="Write JSON, Parquet tables and a PNG here."),
    force: bool = FORCE_OPT,
    no_ac_check: bool = typer.Option(False, "--no-ac-check", help="Skip the AC power flow."),
    v_min: float | None = typer.Option(None, "--v-min",
                                       help="Lowest bus voltage [p.u.] for every bus."),
    v_max: float | None = typer.Option(None, "--v-max",
                                       help="Highest bus voltage [p.u.] for every bus."),
    max_loading: float | None = typer.Option(
        None, "--max-loading", help="Loading limit of every line and transformer, in % of its "
        "rating (e.g. 120)."),
    no_thermal_limits: bool = typer.Option(False, "--no-thermal-limits",
                                           help="Ignore every current and thermal rating."),
    switch_cost: float | None = typer.Option(
        None, "--switch-cost", help="Cost of each switching action, in kW of losses."),
    loss_price: float | None = typer.Option(
        None, "--loss-price", help="Price of lost energy [per MWh]; adds the generators' "
        "cost_per_mwh to the objective."),
    report: bool = typer.Option(False, "--report",
                                help="Also write the HTML report, DIR/report.html (needs --out)."),
    scenarios: str | None = typer.Option(
        None, "--scenarios", help="Stochastic: one topology for the scenarios of this file "
        "(.parquet/.csv, see `feederopt scenarios`), minimising expected losses."),
    robust: float | None = typer.Option(
        None, "--robust", help="Robust: feasible for all loads in nominal +- X (e.g. 0.1), "
        "minimising worst-case losses."),
    uncertain_loads: str | None = typer.Option(
        None, "--uncertain-loads", help="With --robust: comma-separated load ids that vary "
        "(default: all)."),
    budget: int | None = typer.Option(
        None, "--budget", help="With --robust: at most this many loads deviate (Gamma)."),
    workers: int | None = typer.Option(
        None, "--workers", help="Processes for the scenario/extreme-point slaves "
        "[default: all cores]."),
    ray: str | None = typer.Option(
        None, "--ray", help="Run the slaves on Ray: 'auto' starts a local Ray, else the "
        "address of a cluster to join."),
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Find the loss-minimising radial topology and check it with an AC power flow (with
    --scenarios or --robust: under load uncertainty)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from feederopt.api import solve as run_solve
    from feederopt.io.writing import output_problems
    from feederopt.results.output import write_result_dir
    from feederopt.results.status import Status

    problems: list[Problem] = []
    if report and out_dir is None:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options", "--report needs --out",
                                field="report",
                                hint="add --out DIR; the report is written to DIR/report.html"))
    # Every output path is checked before the solve, not after it.
    if json_file is not None:
        problems += output_problems(json_file, force=force, option="json")
    if out_dir is not None:
        problems += output_problems(out_dir, force=force, folder=True, option="out")
    from feederopt.io import is_three_phase

    if is_three_phase(source):  # an OpenDSS feeder: LinDist3Flow MILP, checked by OpenDSS
        from feederopt.cli_threephase import solve_three_phase_command

        if problems:
            raise InputError(problems)
        unsupported = {"--method": method not in ("benders", "lindistflow"),
                       "--out": out_dir is not None, "--scenarios": scenarios is not None,
                       "--robust": robust is not None, "--switch-cost": switch_cost is not None,
                       "--loss-price": loss_price is not None, "--solver": solver is not None,
                       "--v-min": v_min is not None, "--v-max": v_max is not None,
                       "--max-loading": max_loading is not None,
                       "--no-thermal-limits": no_thermal_limits}
        solve_three_phase_command(source, time_limit=time_limit, gap=gap, json_file=json_file,
                                  force=force, ac_check=not no_ac_check, quiet=quiet,
                                  unsupported=[k for k, v in unsupported.items() if v])
        return
    net = load_checked(source, problems)
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), console=stderr(), disable=quiet, transient=True,
    )
    from feederopt.api import relax_limits  # bad values: exit 2, before the solve

    net = relax_limits(net, v_min=v_min, v_max=v_max, max_loading_percent=max_loading,
                       thermal_limits=not no_thermal_limits)
    with progress:
        task = progress.add_task(f"{method} {net.name}", total=None, info="")

        def on_iteration(rec: Any) -> None:
            gap_txt = "inf" if not math.isfinite(rec.gap) else f"{rec.gap * 100:.3f}%"
            line = (f"it {rec.iteration}  LB {_fmt(rec.lower_bound * 1.0, '.4g')}  "
                    f"UB {_fmt(rec.upper_bound, '.4g')}  gap {gap_txt}")
            progress.update(task, info=line)
            if verbose and not quiet:
                progress.console.print(f"{line}  ({rec.elapsed_s:.1f} s)", markup=False)

        if scenarios is not None or robust is not None:
            from feederopt.cli_uncertain import solve_uncertain

            result = solve_uncertain(
                net, source, scenarios=scenarios, robust=robust, uncertain_loads=uncertain_loads,
                budget=budget, workers=workers, ray=ray, gap=gap, time_limit=time_limit,
                radiality=radiality, solver=solver, ac_check=not no_ac_check,
                progress=on_iteration)
        else:
            result = run_solve(net, method, solver=solver, gap=gap, time_limit=time_limit,
                               radiality=radiality, ac_check=not no_ac_check,
                               progress=on_iteration, switch_cost_kw=switch_cost,
                               loss_price_per_mwh=loss_price)
            from feederopt.cli_uncertain import source_of

            result.extra.setdefault("source", source_of(source))  # for `feederopt check`
    if not quiet:
        print_result(result)
        if scenarios is not None or robust is not None:
            from feederopt.cli_uncertain import print_uncertain

            print_uncertain(result)
    if json_file is not None:
        result.write_json(json_file, force=force)
    if out_dir is not None:
        write_result_dir(result, out_dir, force=force)
        if report:
            from feederopt.report.html import write_report

            path = write_report(out_dir)  # into the new folder
            if not quiet:
                stdout().print(f"report: {path}", markup=False)
    if result.status is Status.INTERRUPTED:
        # Ctrl-C or SIGTERM (feederopt.solve's handler): the incumbent is printed and written
        # as at a time limit; the exit code says which signal (130 SIGINT, 143 SIGTERM).
        if not quiet:
            stderr().print("[yellow]interrupted:[/] the best topology found so far is above, "
                           "with its bound and gap" + (", and written" if json_file or out_dir
                                                       else ""))
        raise typer.Exit(interrupt.exit_code())
    if result.status is Status.INFEASIBLE:
        raise typer.Exit(EXIT_INFEASIBLE)
    if result.status is Status.ERROR:
        raise typer.Exit(1)


# The uncertainty commands (scenarios, check) register themselves on ``app``.
from feederopt import cli_partition as _cli_partition  # noqa: E402,F401
from feederopt import cli_uncertain as _cli_uncertain  # noqa: E402,F401


def main() -> None:
    """The console-script entry point."""
    app(prog_name="feederopt")


if __name__ == "__main__":
    main()
