"""Every id list given on the command line names all its problems in one run (holdsdup #1).

Before, ``solve --hold-closed line:1,line:1,line:77`` named the repeated ``line:1`` and
the unknown ``line:77`` only on the next run (the options' check, then the network's);
``check --uncertain-loads load:1,load:1,load:77`` named the unknown load only and sampled a
repeated one silently; ``restore`` named the unknown broken lines, and its unknown DG sites
on the next run; ``schedule --uncertain-buses 3,3,999`` named 999 only. Truth: the element
indices of the pandapower net the test builds (``tests/netbuild.nine_bus_pandapower``: lines
0-9, buses 0-8, loads 0-6; ``line:77``, bus 99 and ``load:77`` are none of them) and the 33
buses of Baran & Wu's feeder (case33bw: bus 999 is not one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

pp = pytest.importorskip("pandapower")

runner = CliRunner()
ENV = {"COLUMNS": "400"}


@pytest.fixture(scope="module")
def grid(nine_bus_json: tuple[Path, object]) -> tuple[Path, object]:
    """The nine-bus net as a pandapower JSON file (conftest's ``nine_bus_json``)."""
    return nine_bus_json


def _refused(args: list[str]) -> str:
    res = runner.invoke(app, args, env=ENV)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return res.output


def test_the_premises(grid) -> None:
    _, net = grid
    assert 1 in net.line.index and 77 not in net.line.index
    assert 3 in net.bus.index and 99 not in net.bus.index
    assert 1 in net.load.index and 77 not in net.load.index


@pytest.mark.parametrize("option", ["--hold-closed", "--hold-open"])
def test_solve_holds_name_the_repeated_and_the_unknown_branch_at_once(grid, option) -> None:
    path, _ = grid
    out = _refused(["solve", str(path), option, "line:1,line:1,line:77", "-q"])
    assert f"{option} names a branch more than once: line:1" in out
    assert "branch ids that the network does not have (given: line:77)" in out
    assert "2 problems" in out


def test_check_uncertain_loads_names_the_repeated_and_the_unknown_load_at_once(
        grid, tmp_path: Path) -> None:
    path, _ = grid
    result = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(path), "--no-ac-check", "-q", "--json",
                              str(result)], env=ENV)
    assert res.exit_code == 0, res.output
    out = _refused(["check", str(result), "-u", "0.1", "-n", "5", "--no-ac", "-q",
                    "--uncertain-loads", "load:1,load:1,load:77"])
    assert "--uncertain-loads names a load more than once: load:1" in out
    assert "unknown (or out-of-service) load id(s) (given: load:77)" in out
    # a repeated load alone is refused too, not sampled once in silence
    out = _refused(["check", str(result), "-u", "0.1", "-n", "5", "--no-ac", "-q",
                    "--uncertain-loads", "load:1,load:1"])
    assert "--uncertain-loads names a load more than once: load:1" in out


def test_restore_names_every_problem_of_broken_and_dg_sites_at_once(grid) -> None:
    path, _ = grid
    out = _refused(["restore", str(path), "--broken", "line:1,line:1,line:77",
                    "--dg-sites", "3,3,99", "--no-ac-check", "-q"])
    assert "branch ids that the network does not have (given: line:77)" in out
    assert "DG sites that are not buses of the network (given: 99)" in out
    # repeated ids count once (a warning, as when the run goes on), named all the same
    assert "--broken names a line more than once: line:1" in out
    assert "--dg-sites names a bus more than once: 3" in out


def test_plan_broken_names_the_repeated_and_the_unknown_line_at_once(grid) -> None:
    path, _ = grid
    out = _refused(["plan", str(path), "--broken", "line:1,line:1,line:77", "--no-ac-check",
                    "--no-measures", "--time-limit", "5", "-q"])
    assert "branch ids that the network does not have (given: line:77)" in out
    assert "--broken names a line more than once: line:1" in out


def test_schedule_uncertain_buses_names_the_repeated_and_the_unknown_bus_at_once() -> None:
    out = _refused(["schedule", "case33bw", "--uncertain-buses", "3,3,999",
                    "--robust-budget", "1", "--time-limit", "5", "-q"])
    assert "--uncertain-buses names a bus more than once: 3" in out
    assert "uncertain bus not in the network (given: 999)" in out


@pytest.mark.parametrize("command", [["restore"], ["plan", "--no-measures", "--time-limit", "5"]])
def test_broken_counts_the_errors_and_gives_the_warnings_apart(grid, command) -> None:
    """``--broken line:1,line:1,line:77`` is one error (line:77: the net has lines 0-9) and
    one warning (line:1 twice, counted once): the heading counts the one error, and the
    warning follows it under its own count (before: "2 problems in the input", the warning
    listed among them; user test session 39)."""
    path, _ = grid
    out = _refused([command[0], str(path), "--broken", "line:1,line:1,line:77",
                    "--no-ac-check", "-q", *command[1:]])
    lines = [" ".join(x.split()) for x in out.splitlines() if x.strip()]
    start = lines.index("error: 1 problem in the input")
    assert lines[start + 1].startswith("- invalid_value: options.broken: branch ids that the "
                                       "network does not have (given: line:77)")
    assert lines[start + 2] == "and 1 warning:"
    assert lines[start + 3].startswith("- warning: invalid_value: options.broken: --broken "
                                       "names a line more than once: line:1")
    assert len(lines) == start + 4


def test_an_input_error_counts_its_errors_and_lists_its_warnings_after() -> None:
    """The Python API's message says what the command line says: one error counted, one
    warning apart after it; problems that are all warnings are counted as the problems."""
    from feederopt import InputError, Problem, ProblemKind
    from feederopt.errors import Severity

    warn = Problem(ProblemKind.INVALID_VALUE, "options", "named twice", ("a",), "broken",
                   severity=Severity.WARNING)
    err = Problem(ProblemKind.INVALID_VALUE, "options", "unknown", ("b",), "broken")
    assert str(InputError([warn, err])).splitlines() == [
        "1 problem in the input:", f"  - {err}", "and 1 warning:", f"  - {warn}"]
    assert str(InputError([warn])).splitlines() == ["1 problem in the input:", f"  - {warn}"]
