"""The ``feederopt`` command line: the app, its shared options and the error handling.

Commands are plain functions registered on :data:`app` and wrapped in :func:`cli_command`, which
turns every :class:`~feederopt.network.FeederoptError` into a message without a traceback and the
error's exit code (2 for bad input), and any other exception into a one-line message and exit
code 1. A command with a ``verbose`` parameter (``--verbose``) shows the traceback as well; one
with a ``json_output`` parameter (``--json``) gets its errors as JSON on stdout too. A command
that runs long shows its progress with :func:`progress_display`. To add a command::

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
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from rich.table import Table

from feederopt import (
    TIE_RULES,
    FeederoptError,
    InputError,
    OptionRef,
    OutputNotWrittenError,
    Problem,
    ProblemKind,
    __version__,
    caller_spelling,
    interrupt,
)

if TYPE_CHECKING:
    from feederopt import IterationRecord, ProgressCallback

#: Exit code of a solve that proves the grid infeasible (no radial topology meets the limits).
EXIT_INFEASIBLE = 3
#: Exit code of a solve that stopped (time limit, iteration limit) before it found a topology
#: within the limits: the least-violating topology found is printed and written, with the
#: limits it breaks, but infeasibility is not proven.
EXIT_LIMITS_BROKEN = 4
#: Exit code of a run that finished but whose output (``--json``, ``--out``) could not be
#: written after it (:class:`~feederopt.errors.OutputNotWrittenError`): the answer is printed
#: all the same. It takes precedence over the verdict's code (3, 4, 130 ...), which the
#: console shows: a script must not take the missing file for an answer.
EXIT_OUTPUT_NOT_WRITTEN = OutputNotWrittenError.exit_code


def is_heuristic(method: str) -> bool:
    """A method whose "infeasible" proves nothing (LinDistFlow's linearised limits)."""
    from feederopt import HEURISTIC_METHODS

    return method in HEURISTIC_METHODS


def verdict_exit_code(status: str, method: str, *, within_limits: bool,
                      has_topology: bool) -> int:
    """The exit code of a result's verdict, for ``solve`` and for ``check`` of a solve's
    result: :data:`EXIT_INFEASIBLE` (3) when the grid is proven infeasible (not by a
    heuristic, :func:`is_heuristic`), 1 for an error without a topology,
    :data:`EXIT_LIMITS_BROKEN` (4) when the result is not within the limits (the
    least-violating topology of a run that stopped, a heuristic's infeasible one, none at all,
    or a topology whose AC operating point breaks a limit), 1 for another error, else 0.
    ``status`` is the result's status value (``optimal``, ``infeasible``, ``error``, ...)."""
    if status == "infeasible" and not is_heuristic(method):
        return EXIT_INFEASIBLE  # proven; a heuristic's is exit 4 below
    if status == "error" and not has_topology:
        return 1
    if not within_limits:
        return EXIT_LIMITS_BROKEN
    if status == "error":
        return 1
    return 0

def cut_short(result: Any) -> bool:
    """Whether a Ctrl-C or SIGTERM came after the proof of infeasibility, during the search
    for the least-violating topology (README "When no topology meets the limits"): the
    status stays ``infeasible`` (the proof stands, the search keeps the best it found), and
    the command ends as a stopped run, exit code 130 or 143, not 3 (user test ut47_cli #2:
    exit 3, and only the JSON's ``least_violating_ac.stopped`` said so). A stop for a reason
    (a dead worker, :func:`~feederopt.solvers.interrupt.reason`) is not a signal."""
    return (result.status.value == "infeasible" and interrupt.requested()
            and interrupt.reason() is None)


def source_of(source: str) -> str:
    """What ``feederopt check`` can load the network from again: an absolute path for a file
    or folder, else the case name."""
    path = Path(source)
    return str(path.resolve()) if path.exists() else source


P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="feederopt",
    help="Exact radial reconfiguration of power-distribution feeders.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help text: rich markup would eat the units in brackets ([s], [per MWh]).
    rich_markup_mode=None,
)

#: The metavars of the options that take text, in the form typer gives a number's
#: (``--gap <float>``), so that none shows a bare ``<str>``: a path to write or read, a folder,
#: comma-separated ids.
FILE = "<file>"
FOLDER = "<folder>"
IDS = "<ids>"

#: The end of the help of every option that takes a comma-separated list: each such option is
#: declared ``list[str] | None`` (click's ``multiple``) and read with :func:`joined_list`.
REPEATABLE = " (comma-separated; may be repeated)"


def joined_list(given: Sequence[str] | None, *, unique: bool = True) -> str | None:
    """The one comma-separated text of a list option given once per occurrence (``given``,
    click's values of a ``multiple`` option: ``--hold-open 7,9 --hold-open 8`` gives
    ``["7,9", "8"]``): None when the option is absent, one occurrence as typed, several joined
    in order: ``"7,9,8"``. With ``unique`` (an id list) an entry that an earlier occurrence
    gave is kept once, at its first place (``--broken 7 --broken 7,9``: ``"7,9"``); one
    repeated inside an occurrence (``7,7``) is kept, for the command's check that refuses it
    as it refuses it given once. A list of numbers (``--weights``, ``unique=False``) keeps
    every entry, and its positions. An occurrence that is blank (``--broken ""``: none) adds
    nothing beside the others; empty entries inside one (``7,,9``) are kept for the
    command's check, which refuses them. Before, click kept the last occurrence only:
    ``--hold-open 7,9 --hold-open 8`` held 8 alone (user test ut47_recheck #1)."""
    if not given:
        return None
    texts = [t for t in given if t.strip()] or [given[0]]
    if len(texts) == 1:
        return texts[0]
    entries: list[str] = []
    seen: set[str] = set()
    for text in texts:
        mine = text.split(",")
        entries += [e for e in mine if not (unique and e.strip() in seen)]
        seen.update(e.strip() for e in mine if e.strip())
    return ",".join(entries)


def choices_metavar(*choices: str) -> str:
    """``<a|b|c>``: an option's choices as typer shows an Enum option's (``--load-shapes
    <daily>``), for an option declared as text whose value the api checks, so that a bad one
    is reported with every other problem of the input (exit 2), not by click alone."""
    return "<" + "|".join(choices) + ">"


#: How a network is named on the command line (the README's "SimBench grids"); a study case
#: after ``@`` applies only to a SimBench name, not to a file.
SIMBENCH_FORM = ("a SimBench grid simbench:<code>[@<study case>] (e.g. "
                 "simbench:1-MV-rural--0-sw@lPV)")

#: Shared argument and option declarations, so that every command spells them alike.
FORCE_OPT = typer.Option(False, "--force",
                         help="Replace existing output files and folders (never without it).")
#: ``--max-loading`` and ``--no-thermal-limits`` of ``solve`` and ``partition``: one meaning
#: (the ratings scaled or dropped in the model and in the OpenDSS check alike) and one wording
MAX_LOADING_OPT = typer.Option(
    None, "--max-loading", help="Loading limit of every line and transformer, in % of its "
    "rating (e.g. 120) [default: 100, the ratings as given].")
NO_THERMAL_LIMITS_OPT = typer.Option(False, "--no-thermal-limits",
                                     help="Ignore every current and thermal rating.")
SOURCE_ARG = typer.Argument(
    ...,
    metavar="CASE_OR_FILE",
    help=f"A built-in case (see `feederopt cases`), {SIMBENCH_FORM}, a MATPOWER .m file, a "
    "pandapower .json file, an OpenDSS .dss file or a folder of .parquet/.csv tables.",
    show_default=False,
)
BALANCED_SOURCE_ARG = typer.Argument(
    ...,
    metavar="CASE_OR_FILE",
    help=f"A balanced network: a built-in case (see `feederopt cases`), {SIMBENCH_FORM}, a "
    "MATPOWER .m file, a pandapower .json file or a folder of .parquet/.csv tables (not a "
    "three-phase .dss feeder).",
    show_default=False,
)
THREE_PHASE_SOURCE_ARG = typer.Argument(
    ...,
    metavar="CASE_OR_FILE",
    help="A three-phase feeder: a built-in OpenDSS case (see `feederopt cases`) or an OpenDSS "
    ".dss file.",
    show_default=False,
)
#: ``--ties``: :func:`feederopt.load`'s tie rule (``TIE_RULES``, the default first), for
#: every command that reads a balanced network from a file; the api checks the value.
TIES_OPT = typer.Option(
    TIE_RULES[0], "--ties", metavar=choices_metavar(*TIE_RULES),
    help="A pandapower .json file's switchable branches: switches (the branches with a switch "
    "element), out_of_service (every line, the out-of-service ones as normally-open ties, as "
    "pandapower.networks.case33bw() stores them) or auto (out_of_service for a net without any "
    "switch element that has an out-of-service line, else switches: a switch-free net with "
    "every line in service has no switchable branch; give it --ties out_of_service to make "
    "every line switchable). Refused for any other network, which says itself which "
    "branches switch.")
#: What ``--time-limit`` bounds, in the help of every command that has it: a 120 s limit took
#: 289 s of wall-clock time on SimBench 1-MVLV-comm-all-0-sw (user test ut34_realgrid #3).
TIME_LIMIT_SCOPE = ("reading the network, its power flows (the base case, the AC check) and "
                    "writing the outputs come on top of it, so the wall-clock time can be "
                    "several times longer on a large grid")


def time_limit_help(what: str = "of the optimisation alone", after: str = "",
                    scope: str = TIME_LIMIT_SCOPE) -> str:
    """The help of a command's ``--time-limit``: ``Time limit [s]``, ``what`` it covers,
    ``scope`` (what comes on top of it: :data:`TIME_LIMIT_SCOPE`, or a command's own where its
    limit counts from the call) and ``after`` (where the command shows the times)."""
    return f"Time limit [s] {what}; {scope}{after}."


#: When the running command started (``time.perf_counter()``; set by :func:`cli_command`):
#: for the process's first command in the ``feederopt`` command itself, when the process
#: began (:data:`feederopt._startup.PROCESS_STARTED_AT`), so that its start-up counts.
_STARTED: list[float] = []
#: Per command under way: the seconds of the process's start-up before it, the interpreter
#: and the imports (None but for the process's first command in the ``feederopt`` command;
#: ``timings["startup_s"]``).
_STARTUP: list[float | None] = []
#: Whether a command has started in this process (only the first counts the imports).
_ONE_STARTED: list[bool] = []
#: Per command under way: :func:`feederopt.solvers.interrupt.answered` when it began.
_ANSWERED: list[int] = []


def wall_clock_s() -> float | None:
    """The wall-clock time [s] since the running command started (None outside a
    command): in the ``feederopt`` command, since the process began, the interpreter's
    start and the imports included (user test ut51_bigrid #1: 13 s of imports were in no
    figure)."""
    return time.perf_counter() - _STARTED[-1] if _STARTED else None


def startup_s() -> float | None:
    """The seconds of the process's start-up before the running command (the interpreter,
    ``import feederopt`` and the command line's modules), which :func:`wall_clock_s` counts;
    None in a command run in-process (a test's CliRunner), whose imports were done long
    before."""
    return _STARTUP[-1] if _STARTUP else None


def _command_start() -> tuple[float, float | None]:
    """When the command starts counting, and the start-up's seconds before it: the
    ``feederopt`` command's first command counts from the process's start
    (:data:`feederopt._startup.PROCESS_STARTED_AT`: the interpreter and the imports), any
    other from now.

    The command line is imported without :mod:`feederopt.api` and the solvers behind it
    (``--help`` and a mistyped option answer without them; docs/architecture.md, "Start-up
    of the command line"); the ``feederopt`` command's first command imports it here, before
    taking the time, so that its start-up (``timings["startup_s"]``) still counts every
    import before the command's work, as when the command line imported it. A Ctrl-C in
    this import is one of the start (:func:`feederopt._startup.interrupted_at_start`: one
    line, exit code 130)."""
    from feederopt._startup import PROCESS_STARTED_AT, as_command

    first = not _ONE_STARTED
    if first:
        _ONE_STARTED.append(True)
    if first and as_command():
        from feederopt import _interrupted_at_start

        try:
            import feederopt.api  # noqa: F401  (the solvers: cvxpy, HiGHS, SCIP)
        except KeyboardInterrupt:
            _interrupted_at_start()
            raise
    now = time.perf_counter()
    if first and as_command() and now >= PROCESS_STARTED_AT:
        return PROCESS_STARTED_AT, now - PROCESS_STARTED_AT
    return now, None


def time_text(solve_s: float | None, wall_s: float | None,
              answer_s: float | None = None) -> str:
    """The console's time row: the optimisation's time, which ``--time-limit`` bounds, and
    beside it the wall-clock time since the command started, which adds reading the network,
    the base-case and AC power flows and writing the outputs (user test ut34_realgrid #3: a
    120 s limit, 122.57 s shown, 289 s taken); ``0.81 s optimisation; 4.32 s wall-clock in
    all``. With ``answer_s``, the wall-clock time at the answer, before the outputs were
    written (what a folder's result.json keeps as ``wall_clock_s``, and its report.html
    shows), both are named: ``0.37 s optimisation; 9.33 s to the answer; 13.72 s with
    writing`` (user test ut47_report #2: the console's 13.72 s "in all" beside the report's
    9.33 s, said alike)."""
    text = fmt(solve_s, ".2f", " s")
    if wall_s is None:
        return text
    # short: a long row widened the table's value column until rich wrapped the labels of a
    # 120-column console (the label "objective (worst-case losses plus switching cost)" split)
    if answer_s is not None:
        return (f"{text} optimisation; {answer_s:.2f} s to the answer; {wall_s:.2f} s with "
                "writing")
    return f"{text} optimisation; {wall_s:.2f} s wall-clock in all"


#: The steps of a balanced solve, a plan and a restoration outside the optimiser, as their
#: ``timings`` key them, with the console's words (user test ut51_bigrid #2: 880 s of a
#: 1001 s run were in no figure).
OUTSIDE_STEPS = (("startup_s", "start-up (Python, imports)"), ("read_s", "reading the network"),
                 ("base_case_s", "base-case power flow"), ("ac_check_s", "AC check"),
                 ("ac_end_choice_s", "open ends chosen in AC"),
                 ("ac_choice_s", "answer chosen in AC"),
                 ("least_violating_ac_s", "least-violating chosen in AC"),
                 ("ac_polish_s", "AC polish"),
                 ("measures_s", "expected-value plan and measures"),
                 ("second_phase_s", "second phase"), ("write_s", "writing the outputs"))


def outside_steps_text(timings: Mapping[str, Any], wall_s: float | None, *,
                       every: bool) -> str | None:
    """The console's row of the time outside the optimisation: with ``every`` (``-v``) each
    step of :data:`OUTSIDE_STEPS` that took time, the largest first (``writing the outputs
    30.52 s, reading the network 13.20 s, ...``); else only the largest, and only where it
    dominates, more than half of the wall-clock time ``wall_s`` (``reading the network
    880.20 s of 1001.01 s (-v: every step)``); None where there is nothing to say."""
    steps = sorted(((float(timings[k]), words) for k, words in OUTSIDE_STEPS
                    if isinstance(timings.get(k), int | float) and timings[k] > 0.0
                    and math.isfinite(timings[k])), reverse=True)
    if not steps:
        return None
    if every:
        return ", ".join(f"{words} {t:.2f} s" for t, words in steps)
    t, words = steps[0]
    if wall_s is None or t <= 0.5 * wall_s:
        return None
    return f"{words} {t:.2f} s of {wall_s:.2f} s (-v: every step)"


def clock_answer(result: Any) -> float:
    """Mark the answer of the running command, before any output is written: into
    ``result.timings`` (a dict of seconds) its start-up (``startup_s``, where the process's
    imports are known: :func:`startup_s`), into ``result.extra`` (a dict, top-level keys of
    the JSON) the wall-clock time since it started (:func:`wall_clock_s`) as
    ``answer_wall_clock_s`` and, until :func:`clock_written`, ``wall_clock_s``. Returns the
    ``time.perf_counter()`` at which the writing starts. ``solve``, ``plan`` and ``restore``
    record their whole time by it (user tests ut51_bigrid #1, where 13 s of imports were in
    no figure; a ``plan`` that showed its solver's 0.31 s of a 4.2 s run)."""
    imports = startup_s()
    if imports is not None:
        result.timings["startup_s"] = imports
    result.extra["wall_clock_s"] = answer = wall_clock_s()
    # the same time kept apart: wall_clock_s becomes the time with writing (clock_written;
    # the console's "... s to the answer; ... s with writing": ut51_bigrid #1)
    result.extra["answer_wall_clock_s"] = answer
    return time.perf_counter()


def clock_written(result: Any, write_started: float) -> None:
    """Mark the outputs written since ``write_started`` (:func:`clock_answer`'s return):
    ``result.timings["write_s"]``, and ``result.extra["wall_clock_s"]`` the wall-clock time
    with the writing. Called before the JSON's last write, which then carries both."""
    result.timings["write_s"] = time.perf_counter() - write_started
    result.extra["wall_clock_s"] = wall_clock_s()


def add_time_rows(table: Table, result: Any, *, verbose: bool) -> None:
    """The console's time rows of ``result`` (``solve_time_s``, ``timings``, ``extra``, as
    :func:`clock_answer` and :func:`clock_written` left them): ``time``, the optimisation's
    time and the wall-clock time (:func:`time_text`; "... s to the answer; ... s with
    writing" once outputs were written), and ``time outside the optimisation``
    (:func:`outside_steps_text`) where there is something to say."""
    wall = wall_clock_s()
    answer = result.extra.get("answer_wall_clock_s")
    written = isinstance(answer, int | float) and math.isfinite(answer) \
        and "write_s" in result.timings
    table.add_row("time", time_text(result.solve_time_s, wall, answer if written else None))
    outside = outside_steps_text(result.timings, wall, every=verbose)
    if outside:
        table.add_row("time outside the optimisation", outside)


def not_a_regular_file(path: str | Path) -> bool:
    """Whether ``path`` exists and is no regular file (a pipe, a device, a FIFO), or names
    one through a link (``/dev/stdout`` redirected to a file is a link to that file: the
    second write appended a second document, user test ut49_recheck #1): such an output is
    written only once."""
    import stat

    text = str(path)
    if text.startswith(("/dev/", "/proc/")):
        return True
    try:
        return not (stat.S_ISREG(os.lstat(path).st_mode) and stat.S_ISREG(os.stat(path).st_mode))
    except OSError:
        return False


JSON_OPT = typer.Option(False, "--json", help="Print the result as JSON.")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help=(
    "Print nothing but errors (when an output cannot be written, the answer is printed too, "
    "so that it is not lost)."))
VERBOSE_OPT = typer.Option(False, "--verbose", "-v",
                           help="More output, and the traceback of an error.")


class PipeSafeStdout:
    """``sys.stdout`` for the command line, harmless once its reader has gone.

    ``feederopt solve case33bw --out d | head -2``: ``head`` exits after two lines, and the next
    write to stdout raises :class:`BrokenPipeError`. Unhandled, it ended the command with exit
    code 1 before it had written ``--out`` (ut_docs, 2). The usual recipe (Python's
    documentation of SIGPIPE, "Note on SIGPIPE"): catch the error and point the file
    descriptor at :data:`os.devnull`, so that the rest of the printing (and the interpreter's
    last flush) goes nowhere; the command carries on, writes its outputs and exits with its own
    code. Everything else is the wrapped stream's.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        #: Whether the reader has gone (stdout points at os.devnull since).
        self.reader_gone = False

    def _to_devnull(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        self.reader_gone = True

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()
            self._stream.flush()  # what was buffered goes to os.devnull

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Make ``sys.stdout`` a :class:`PipeSafeStdout` (once; for the console script)."""
    if not isinstance(sys.stdout, PipeSafeStdout) and sys.stdout is not None:
        sys.stdout = PipeSafeStdout(sys.stdout)


#: The console's width when it writes to no terminal (a log file, a pipe, CI) and the
#: ``COLUMNS`` environment variable does not give one: rich's default, 80, cut the columns of
#: the scenario table to ``scena…`` and ``465.0…`` in a log (ut_core2 #8).
PLAIN_WIDTH = 120


def console(file: Any) -> Console:
    """The one place the command line's rich consoles are made: on a terminal, its width; else
    ``COLUMNS`` when set (rich reads it), else :data:`PLAIN_WIDTH`."""
    out = Console(file=file, highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal and not os.environ.get("COLUMNS", "").strip().isdigit():
        out.width = PLAIN_WIDTH
    return out


def stdout() -> Console:
    return console(sys.stdout)


def stderr() -> Console:
    return console(sys.stderr)


#: The flags whose name is not the option's Python keyword with dashes (``v_min`` is
#: ``--v-min``): the one map from keyword to flag (:func:`flag_spelling`).
OPTION_FLAGS = {
    "switch_cost_kw": "--switch-cost",
    "loss_price_per_mwh": "--loss-price",
    "max_loading_percent": "--max-loading",
    "ray_address": "--ray",
    "ray": "--ray",
    # restore and plan: both DG ratings are one flag, the DG cost and penalty are shorter
    "dg_p_max_kw": "--dg-size",
    "dg_q_max_kvar": "--dg-size",
    "dg_cost_per_kw": "--dg-cost",
    "switch_penalty_pu": "--switch-penalty",
    # schedule's settings (ScheduleSettings' fields; budget and budget_res, both
    # --robust-budget, are named with it beside, problems.schedule.OPTION_OF, or give it as
    # their own command-line spelling, option_ref(..., cli=...): problems.schedule.budget_refs)
    "eps": "--dsm",
    "ps_max_mw": "--import-limit",
    "c_buy": "--buy-price",
    "c_loss": "--loss-price",
    "c_shed": "--shed-price",
    "c_spill": "--spill-price",
    "c_switch": "--switch-cost",
    "hourly": "--hourly-topology",
}


def flag_spelling(ref: OptionRef) -> str:
    """An option named in a problem (:func:`~feederopt.errors.option_ref`) as the command
    line takes it: ``--v-min 0.9``; a switch by its flag, ``--no-ac-check`` for
    ``ac_check=False``, ``--fix-devices`` for ``fix_devices=True``; a reference that gives
    its own command-line spelling (``option_ref(..., cli=...)``: the schedule's
    ``--robust-budget``) by it."""
    if ref.cli is not None:
        return ref.cli
    flag = OPTION_FLAGS.get(ref.name, "--" + ref.name.replace("_", "-"))
    if ref.py_value in ("True", "False"):
        return flag if ref.py_value == "True" else "--no-" + flag.removeprefix("--")
    return flag if ref.value is None else f"{flag} {ref.value}"


def cli_problems(problems: Sequence[Problem]) -> list[Problem]:
    """``problems`` with the options they name spelled as flags (:func:`flag_spelling`)."""
    return [p.spelled(flag_spelling) for p in problems]


def problem_lines(problems: list[Problem] | tuple[Problem, ...]) -> list[str]:
    """One line per problem: kind, component [ids].field: message (hint); the options named
    as flags."""
    return [str(p) for p in cli_problems(problems)]


def report_error(exc: FeederoptError, as_json: bool) -> None:
    """Print ``exc`` for a person (stderr) or, with ``as_json``, as JSON on stdout."""
    problems = cli_problems(exc.problems) if isinstance(exc, InputError) else []
    if as_json:
        from feederopt.api import finite_json

        payload = {
            "error": type(exc).__name__,
            "message": str(InputError(problems)) if problems else str(exc),
            "exit_code": exc.exit_code,
            "problems": [p.to_dict() for p in problems],
        }
        typer.echo(json.dumps(finite_json(payload), indent=2, allow_nan=False))
        return
    err = stderr()
    if isinstance(exc, InputError) and problems:
        # the errors counted, the warnings apart after them (InputError.split)
        errors, warnings = exc.split()
        head, warning_head = exc.headings()
        err.print(f"[bold red]error:[/] {head}")
        for line in problem_lines(errors):
            err.print(f"  - {line}", markup=False)
        if warning_head is not None:
            err.print(f"[bold yellow]{warning_head}:[/]")
            for line in problem_lines(warnings):
                err.print(f"  - {line}", markup=False)
    else:
        err.print("[bold red]error:[/] ", end="")
        err.print(str(exc), markup=False)


def report_unexpected(exc: Exception, as_json: bool) -> None:
    """Print an exception that feederopt did not raise on purpose, in one line (or JSON)."""
    message = str(exc) or type(exc).__name__
    if as_json:
        from feederopt.api import finite_json

        payload = {"error": type(exc).__name__, "message": message, "exit_code": 1,
                   "problems": []}
        typer.echo(json.dumps(finite_json(payload), indent=2, allow_nan=False))
        return
    err = stderr()
    err.print("[bold red]error:[/] ", end="")
    err.print(f"{type(exc).__name__}: {message}", markup=False)
    err.print("(run the command again with --verbose for the traceback)", style="dim")


def exit_if_interrupted(status: str, *, has_answer: bool, what: str, written: bool,
                        quiet: bool) -> None:
    """End a ``partition``, ``schedule``, ``plan`` or ``restore`` run that Ctrl-C or SIGTERM
    stopped (status ``interrupted``) as ``solve`` ends one: after its result was printed and
    written, a line saying what it holds, then exit code 128 + the signal's number (130 for
    SIGINT, 143 for SIGTERM; the shell's convention for a process ended by a signal)."""
    if status != "interrupted":
        return
    if not quiet:
        if has_answer:
            stderr().print(f"[yellow]interrupted:[/] the best {what} found so far is above, "
                           "with its bound and gap" + (", and written" if written else ""))
        else:
            stderr().print(f"[yellow]interrupted:[/] before any {what} was found"
                           + (" (the result is written all the same)" if written else ""))
    raise typer.Exit(interrupt.exit_code())


class LateOutputs:
    """The outputs that a command writes after its run (``--json``, ``--out``), and what
    stopped them: a path that became unwritable during the run, a file another run created
    meanwhile. Its paths were checked before the run (bad input, exit 2); a failure now is
    not the input's, and the answer must not be lost with it (user test ut34: a finished
    solve printed nothing and exited 2, "1 problem in the input"). So each write is made
    with :meth:`write`, which notes a failure and goes on; the command prints its answer as
    usual, and :func:`cli_command` then says that the output could not be written and exits
    with :data:`EXIT_OUTPUT_NOT_WRITTEN` (:meth:`exit_if_failed`)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    @property
    def ok(self) -> bool:
        """Every output was written (or none was asked for)."""
        return not self.problems

    def write(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R | None:
        """``fn(*args, **kwargs)``, or None when it could not write its output."""
        try:
            return fn(*args, **kwargs)
        except (InputError, OutputNotWrittenError) as exc:
            self.problems += exc.problems
        except OSError as exc:
            path = getattr(exc, "filename", None)
            self.problems.append(Problem(
                ProblemKind.BAD_OUTPUT_PATH, "output", f"could not be written "
                f"({exc.strerror or exc})", (str(path),) if path else (), None,
                "check the folder's permissions and free space, or choose another path"))
        return None

    def caught(self, exc: OutputNotWrittenError) -> Any:
        """The answer of a run whose own writing failed (``partition``, ``schedule``:
        ``out=``), its problems noted."""
        self.problems += exc.problems
        return exc.result

    def exit_if_failed(self) -> None:
        """Say that the output could not be written, and exit with
        :data:`EXIT_OUTPUT_NOT_WRITTEN`; nothing when every output was written. Printed with
        ``--quiet`` too: it is an error."""
        if self.ok:
            return
        err = stderr()
        err.print("[bold red]error:[/] the run finished but its output could not be written "
                  "(the answer is the one printed above, if any):")
        for line in problem_lines(self.problems):
            err.print(f"  - {line}", markup=False)
        raise typer.Exit(EXIT_OUTPUT_NOT_WRITTEN)


_LATE: ContextVar[LateOutputs | None] = ContextVar("feederopt_late_outputs", default=None)


#: ``on``: the command's run has finished and it writes and prints its answer
#: (:func:`late_outputs` was called); ``seen``: a SIGINT came since.
_FINISHING = {"on": False, "seen": False}


def _sigint_after_run(signum: int, frame: Any) -> None:
    """The SIGINT handler of a command outside its solve (:func:`cli_command`; the solve's
    own is :func:`feederopt.solvers.interrupt.handle_signals`). Before the run,
    ``KeyboardInterrupt`` as Python's default (:func:`_run_command`: one line, 130); so too
    between the run's end and its outputs (:func:`late_outputs`), where the line says that
    the run had finished and nothing was written. Once the
    run has finished, the completed answer stands: its outputs and console output are
    finished (the exit code is the run's), a line says so, and a second SIGINT exits at once
    (130; a file is written whole or not at all, :func:`feederopt.io.writing.atomic_file`).
    Before (user test ut43 recheck #4), a Ctrl-C as ``plan`` finished raised
    ``KeyboardInterrupt`` while the outputs were written ("before the run started; nothing
    written", the JSON missing) or after the command (at the interpreter's exit: return code
    -2, no message)."""
    if not _FINISHING["on"]:
        raise KeyboardInterrupt
    if _FINISHING["seen"]:
        sys.stderr.write("\nSIGINT again: exiting at once\n")
        sys.stderr.flush()
        os._exit(128 + signum)
    _FINISHING["seen"] = True
    sys.stderr.write("\nSIGINT: the run has finished; its answer is written and printed in "
                     "full (again to exit at once)\n")
    sys.stderr.flush()


@contextmanager
def _after_run_handler() -> Iterator[None]:
    """:func:`_sigint_after_run` for the command (main thread, SIGINT at Python's default);
    after it, SIGINT ignored when this process is the ``feederopt`` command (it exits next:
    at the interpreter's exit CPython puts a handler it installed back to the default
    action, which ended the finished run with return code -2, but leaves an ignored signal
    ignored), else the previous handler put back."""
    import signal

    from feederopt._startup import as_command

    _FINISHING.update(on=False, seen=False)
    try:
        previous = signal.getsignal(signal.SIGINT)
        install = previous is signal.default_int_handler
        if install:
            signal.signal(signal.SIGINT, _sigint_after_run)
    except ValueError:  # not the main thread
        install = False
    try:
        yield
    finally:
        if install and as_command():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        elif install:
            signal.signal(signal.SIGINT, previous)
            _FINISHING.update(on=False, seen=False)


def late_outputs() -> LateOutputs:
    """The :class:`LateOutputs` of the command under way (:func:`cli_command` made it, and
    reports its failures when the command ends); the run has finished: a SIGINT from now on
    leaves its answer whole (:func:`_sigint_after_run`)."""
    _FINISHING["on"] = True
    late = _LATE.get()
    if late is None:  # a command function called without cli_command (a test's helper)
        late = LateOutputs()
        _LATE.set(late)
    return late


def cli_command(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command; a :class:`FeederoptError` becomes a message and its exit code, any other
    exception a message and exit code 1. With ``verbose`` the traceback is shown too (an
    unexpected exception propagates). An output that the command could not write after its
    run (:func:`late_outputs`) ends it with :data:`EXIT_OUTPUT_NOT_WRITTEN` once it has
    printed its answer, whatever exit code the answer had."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _LATE.set(LateOutputs())
        start, imports = _command_start()
        _STARTED.append(start)
        _STARTUP.append(imports)
        _ANSWERED.append(interrupt.answered())
        try:
            # the notes a result carries as text name the options as flags (note_text)
            with caller_spelling(flag_spelling), interrupt.command_outputs(), \
                    _after_run_handler():
                return _run_command(fn, args, kwargs)
        finally:
            _STARTED.pop()
            _STARTUP.pop()
            _ANSWERED.pop()
            _LATE.reset(token)

    return wrapper


def _run_command(fn: Callable[..., R], args: Any, kwargs: dict[str, Any]) -> R:
    """The body of :func:`cli_command`'s wrapper."""
    as_json = bool(kwargs.get("json_output", False))
    verbose = bool(kwargs.get("verbose", False))
    try:
        out = fn(*args, **kwargs)
    except (typer.Exit, click.exceptions.Exit):
        late_outputs().exit_if_failed()  # the verdict's code gives way to 5
        raise
    except (typer.Abort, click.exceptions.Abort, click.ClickException):
        raise
    except FeederoptError as exc:
        if verbose:
            stderr().print_exception()
        report_error(exc, as_json)
        raise typer.Exit(exc.exit_code) from None
    except interrupt.Interrupted:
        stderr().print("[yellow]interrupted:[/] before any answer was found; nothing "
                       "written")
        raise typer.Exit(interrupt.exit_code()) from None
    except KeyboardInterrupt:
        # a Ctrl-C before the command's stop handler is installed (its lazy imports, reading
        # the input): one line and 130, as while the command starts (feederopt._startup;
        # user test ut43_resil #8), not typer's silent exit
        if _ANSWERED and interrupt.answered() > _ANSWERED[-1]:
            # after the run's stop handler was removed, before its outputs began
            # (late_outputs): it said "before the run started" (session 43's note)
            stderr().print("[yellow]interrupted:[/] (Ctrl-C) after the run had finished, "
                           "before its answer was written; nothing written")
        else:
            stderr().print("[yellow]interrupted:[/] (Ctrl-C) before the run started; "
                           "nothing written")
        raise typer.Exit(130) from None
    except Exception as exc:
        if interrupt.requested() and interrupt.reason() is None:
            # a solve stopped by Ctrl-C inside a step that has no partial answer to
            # give (a solver's "interrupted" read as a failure): the run stops with
            # nothing written (outputs are written last), as solve does, also verbose
            stderr().print("[yellow]interrupted:[/] before any answer was found; "
                           "nothing written")
            raise typer.Exit(interrupt.exit_code()) from None
        if verbose:
            raise
        report_unexpected(exc, as_json)
        raise typer.Exit(1) from None
    late_outputs().exit_if_failed()
    return out


def cli_load(source: Any, ties: str = "auto") -> Any:
    """``feederopt.load`` (with the tie rule of ``--ties``) without its Python warnings: the
    commands print the network's warnings on the console themselves (``warning: ...`` in
    yellow), and a second, Python's ``FeederoptWarning: ...`` line of each was noise."""
    import warnings

    from feederopt import FeederoptWarning, load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeederoptWarning)
        return load(source, ties=ties)  # type: ignore[arg-type]  # the api checks the value


def load_checked(source: Any, problems: list[Problem], ties: str = "auto",
                 more: Callable[[Any], list[Problem]] | None = None) -> Any:
    """The network of ``source`` (with the tie rule of ``--ties``), reporting the
    ``problems`` found before (options, output paths; their hints with the network's ids
    where they could only show their form, :func:`feederopt.api.network_hints`) together
    with the network's own and those that ``more`` finds in the network read (options that
    name its elements): all at once, before any work."""
    from feederopt.api import network_hints

    try:
        net = cli_load(source, ties)
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    problems = network_hints(net, problems)
    if more is not None:
        problems = [*problems, *more(net)]
    if problems:
        raise InputError(problems)
    return net


def num(value: float) -> float | None:
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


#: A cell that is a figure (``793.38``, ``1,234.5``, ``-0.2``, ``2.1e-05``, ``12.5 %``), or
#: the ``-`` of a figure that is missing.
_FIGURE = re.compile(r"[-+]?(\d[\d,]*)?\.?\d+([eE][-+]?\d+)?( ?%)?|-")


def keep_figures(table: Table, console: Console) -> Table:
    """``table`` set so that ``console`` never cuts its figures. A table that fits its width
    is left as it is; else a column whose every cell is a figure (:data:`_FIGURE`) gets the
    fixed width of its longest cell (or of its header's longest word; the header wraps),
    which rich never narrows, and the text columns wrap into what is left (a word longer than
    the column folded, not cut); when even that does not fit the borders, the table is drawn
    with a header rule alone and no padding between columns. Before (user test ut47_cli #5),
    on 60 columns rich cut 793.38 to "79…", 2453.1 to "2453…", and a column of ``feederopt
    cases`` shrank to nothing."""
    from rich import box
    from rich.measure import Measurement

    width = console.width
    # its natural width (measured unbounded: a measure within the console's is clamped)
    if Measurement.get(console, console.options.update_width(10_000), table).maximum <= width:
        return table
    fixed = 0
    for col in table.columns:
        cells = [str(c) for c in col._cells]
        if cells and all(_FIGURE.fullmatch(c.strip()) for c in cells):
            words = str(col.header).split() or [""]
            col.width = max(max(len(c) for c in cells), max(len(w) for w in words))
            col.no_wrap, col.justify = False, "right"  # the header wraps at its words
        if col.width is not None or col.no_wrap:
            fixed += max([col.width or 0, col.min_width or 0,
                          *(len(str(c)) for c in col._cells)])
        else:
            fixed += 4  # a text column wraps down to a few characters, a long word folded
            col.overflow = "fold"
    if fixed + 3 * len(table.columns) + 1 > width:
        table.box, table.collapse_padding, table.pad_edge = box.SIMPLE_HEAD, True, False
    return table


def summary_table(title: str) -> Table:
    """The two-column what/value table every command prints its summary in; the title is
    text, not markup (a unit in brackets or a path must be shown as written)."""
    from rich.markup import escape

    table = Table(title=escape(title), show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    return table


def fmt(value: float | None, spec: str = ".3f", unit: str = "") -> str:
    """A number for a person: ``-`` when missing or not finite; a value that rounds to zero
    has no sign (``0.00 $``, not ``-0.00 $``: a re-dispatch cost of -1e-12 $)."""
    if value is None or not math.isfinite(value):
        return "-"
    text = f"{value:{spec}}"
    if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0]):
        text = text[1:]
    return f"{text}{unit}"


def bound_fmt(value: float | None, spec: str = ".3f", unit: str = "") -> str:
    """A lower bound for a person: ``+inf`` for a proof of infeasibility and ``-inf`` for no
    bound, as the JSON writes them (``"inf"``, ``"-inf"``); otherwise :func:`fmt` (``-`` when
    missing). ``fmt`` alone printed ``-`` for a proven-infeasible run (user test ut32_pub #4)."""
    if value is not None and math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return fmt(value, spec, unit)


def volt_range(lo: float | None, hi: float | None) -> str:
    """``lo - hi p.u.``, or ``-`` when neither is known (a power flow that did not converge
    printed "- - - p.u.")."""
    if fmt(lo, ".4f") == "-" and fmt(hi, ".4f") == "-":
        return "-"
    return f"{fmt(lo, '.4f')} - {fmt(hi, '.4f')} p.u."


def describe_violation(d: dict[str, Any]) -> str:
    """One line of a diagnosis: the element, its limit and by how much it is exceeded."""
    what = {"v_min": "voltage below its minimum", "v_max": "voltage above its maximum",
            "i_max": "current rating", "s_max": "apparent-power rating",
            "p_balance": "active power not supplied", "q_balance": "reactive power not supplied",
            }.get(d["limit"], d["limit"])
    # one element: its table's name in the singular ("bus 32", not "buses 32")
    one = {"buses": "bus", "branches": "branch", "lines": "line", "transformers": "transformer",
           "trafos": "trafo", "loads": "load", "generators": "generator"}.get(
               str(d["component"]), str(d["component"]))
    text = f"{one} {d['id']}: {what} ({d['limit']}) exceeded by {d['amount']:.4g} " \
        f"{d['unit']}"
    if d.get("loading_percent") is not None and math.isfinite(d["loading_percent"]):
        # the rating as the model held it (after --max-loading): "% of the limit", not the
        # loading of the AC columns, which is of the branch's own rating (user test ut_growth)
        text += f": {d['value']:.4g} {d['unit']} on a limit of {d['rating']:.4g} {d['unit']} " \
            f"({d['loading_percent']:.1f} % of the limit)"
    elif d.get("rating") is not None:
        from feederopt import distinct_places

        places = distinct_places(d["value"], d["rating"])
        text += f": {d['value']:.{places}f} {d['unit']} against {d['rating']:.{places}f} " \
            f"{d['unit']}"
    return text


def violation_lines(violations: Sequence[dict[str, Any]], where: str,
                    most: int = 20) -> list[str]:
    """The first ``most`` violated limits, one line each (:func:`describe_violation`), and how
    many more the JSON's ``where`` lists."""
    lines = [f"  - {describe_violation(d)}" for d in violations[:most]]
    if len(violations) > most:
        lines.append(f"  ... and {len(violations) - most} more (all in the JSON's {where})")
    return lines


def iteration_line(rec: IterationRecord) -> str:
    """One iteration as the progress bar and ``--verbose`` show it: ``it k  LB  UB  gap`` in
    the objective's unit, and the least-violation search's rows named as that phase, their
    bounds with their unit (total slack, p.u.): printed as the run's LB/UB they seemed to
    fall to 0 (user test ut_feas #1)."""
    gap_txt = "inf" if not math.isfinite(rec.gap) else f"{rec.gap * 100:.3f}%"
    low, high = rec.bounds
    if rec.violation_phase:
        return (f"{rec.phase} it {rec.iteration}  total slack LB {fmt(low, '.4g', ' p.u.')}"
                f"  UB {fmt(high, '.4g', ' p.u.')}  gap {gap_txt}")
    # the least-violating search's second stage (least losses at the least violation): kW
    named = f"{rec.phase} " if rec.tie_phase else ""
    return (f"{named}it {rec.iteration}  LB {fmt(low, '.4g')}  "
            f"UB {fmt(high, '.4g')}  gap {gap_txt}")


def progress_columns(width: int = 120) -> tuple[Any, ...]:
    """The progress bar's columns: the title and phase, the bar, the last iteration's figures
    (``it k  LB  UB  gap``) and the elapsed time. On a narrow terminal the title and phase
    are shortened (an ellipsis) and the bar narrowed, never the figures nor the time: those
    two columns do not wrap, and rich's table shrinks only the columns that may (user test
    ut47_cli #4: on 80 columns the line ended "it 0 LB 78.06 UB 98.6 gap 20.…", the gap
    and the time cut)."""
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.table import Column
    from rich.text import Text

    class _Shortened(TextColumn):
        """A text column cut with an ellipsis where the table narrows it, not wrapped."""

        def render(self, task: Any) -> Text:
            text = super().render(task)
            text.no_wrap, text.overflow = True, "ellipsis"
            return text

    # the bar 40 wide (rich's default) on a wide terminal (``width`` columns), down to 6 on a
    # narrow one, where the phase's text has the room (rich's Progress makes every column
    # no_wrap unless it has its own table column: the description's may shrink)
    return (_Shortened("[bold]{task.description}", table_column=Column()),
            BarColumn(bar_width=max(6, min(40, width - 100))),
            TextColumn("{task.fields[info]}", markup=False,
                       table_column=Column(no_wrap=True)),
            TimeElapsedColumn(table_column=Column(no_wrap=True)))


@contextmanager
def progress_display(title: str, *, quiet: bool = False,
                     verbose: bool = False) -> Iterator[ProgressCallback]:
    """The progress of a long command, for the api's ``progress`` parameter: a rich progress
    bar on stderr, removed when the block ends (transient; none where stderr is not a
    terminal), nothing at all with ``quiet``; stdout is left to the command, which prints its
    results after the block.

    The bar shows ``title`` and the phase that runs (a
    :class:`~feederopt.solvers.status.PhaseRecord`), the last iteration's ``LB``, ``UB`` and
    gap (an :class:`~feederopt.solvers.status.IterationRecord`), and for a check the samples
    done of the total and the feasible share so far (a
    :class:`~feederopt.solvers.status.SampleRecord`). With ``verbose`` each iteration, and each
    finished check, also prints a line that stays."""
    from rich.markup import escape
    from rich.progress import Progress

    from feederopt import IterationRecord, PhaseRecord, SampleRecord

    console = stderr()
    # no bar where stderr is not a terminal (a pipe, a log file): there it would leave an
    # empty line; the --verbose lines are printed all the same
    bar = Progress(*progress_columns(console.width), console=console,
                   disable=quiet or not console.is_terminal, transient=True,
                   redirect_stdout=False)
    lines = verbose and not quiet
    last = ""  # the last iteration's line, kept while a later phase runs

    with bar:
        task = bar.add_task(escape(title), total=None, info="")

        def show(event: Any) -> None:
            nonlocal last
            if isinstance(event, IterationRecord):
                last = iteration_line(event)
                bar.update(task, info=last)
                if lines:
                    bar.console.print(f"{last}  ({event.elapsed_s:.1f} s)", markup=False,
                                      highlight=False)
            elif isinstance(event, PhaseRecord):
                bar.update(task, description=escape(f"{title}: {event.phase}"), total=None,
                           completed=0, info=last)
                if lines:  # what runs between the iterations' lines (ut_large #2)
                    bar.console.print(f"  {event.phase} ({event.elapsed_s:.1f} s)",
                                      markup=False, highlight=False, style="dim")
            elif isinstance(event, SampleRecord):
                text = (f"{event.done}/{event.total} samples, "
                        f"{fmt(event.share_pct, '.1f', ' %')} so far")
                bar.update(task, description=escape(f"{title}: {event.what}"),
                           total=event.total, completed=event.done, info=text)
                if lines and 0 < event.done < event.total and (
                        event.done == 1 or 10 * event.done // event.total
                        > 10 * (event.done - 1) // event.total):
                    # the first sample and each tenth: a long check shows it is going
                    bar.console.print(f"{event.what}: {event.ok} of {event.done} samples so "
                                      f"far ({event.done}/{event.total})", markup=False,
                                      highlight=False)
                if lines and event.done == event.total:
                    bar.console.print(f"{event.what}: {event.ok} of {event.total} samples "
                                      f"({fmt(event.share_pct, '.2f', ' %')})", markup=False,
                                      highlight=False)

        yield show


def notes_shown(show: Any, quiet: bool) -> Any:
    """``warnings.showwarning`` for a solve (or partition) run from the command line: a
    :class:`FeederoptWarning` raised while it runs (the executor's, e.g. ``--workers 3``
    capped at a Ray cluster's 2 CPUs) is printed as the command's other notes are, ``note:
    ...`` (nothing with ``--quiet``), not as Python's ``file:line: FeederoptWarning: ...``
    attributed to typer's frame (user test ut40_par #1); any other warning as ``show`` does."""

    def shown(message: Any, category: type[Warning], filename: str, lineno: int,
              file: Any = None, line: str | None = None) -> None:
        from feederopt import FeederoptWarning

        if issubclass(category, FeederoptWarning):
            if not quiet:
                stderr().print(f"note: {message}", style="yellow", markup=False)
            return
        show(message, category, filename, lineno, file, line)

    return shown
