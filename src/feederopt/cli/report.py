"""``feederopt report``: the HTML report of a result folder."""

from __future__ import annotations

import typer

from feederopt.cli.app import (
    FILE,
    FORCE_OPT,
    QUIET_OPT,
    VERBOSE_OPT,
    app,
    cli_command,
    stdout,
)


@app.command()
@cli_command
def report(
    result_dir: str = typer.Argument(
        ..., metavar="RESULT_DIR", show_default=False,
        help="A folder written with --out by `feederopt solve` (with or without --report; a "
        "three-phase FEEDER.dss too), `schedule`, `partition`, `plan` or `restore`."),
    out: str | None = typer.Option(None, "--out", "-o", metavar=FILE,
                                   help="The HTML file [default: RESULT_DIR/report.html]."),
    force: bool = FORCE_OPT,
    quiet: bool = QUIET_OPT,
    verbose: bool = VERBOSE_OPT,
) -> None:
    """Write one self-contained HTML report of a result folder: the report of the command that
    wrote it. A solve folder gets the summary, grid, voltage profile, convergence, AC check,
    devices and generators, and the scenario and robust tables when present; a schedule,
    partition, plan, restore or three-phase solve folder gets the report.html that command
    writes, rebuilt from result.json and its figures (and a restore folder's tables)."""
    from feederopt import InputError, ProblemKind, write_report

    try:
        path = write_report(result_dir, out, force=force)
    except InputError as exc:
        if out != "-":
            raise
        # an HTML file's name in the hint of "-", not result.json (user test ut47_cli #8)
        raise InputError([p.with_hint("give a file name, e.g. report.html")
                          if p.kind is ProblemKind.BAD_OUTPUT_PATH and p.ids == ("-",) else p
                          for p in exc.problems]) from None
    if not quiet:
        stdout().print(f"report: {path}", markup=False)
