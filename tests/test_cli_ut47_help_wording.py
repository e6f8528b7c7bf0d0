"""The command line's help and errors speak to its user (user test ut47_cli #7).

* The help named the project's internal sources: "Phase 1 of seed 003", "(seed 004)",
  "the seed's IV-D", "else 1, the seed's". Each now names the paper or method (the seeds'
  papers, /work/shared/specs/seeds-001-004.md: Moring et al.'s robust partitioning, Zhang et
  al. 2020's resilience planning, the robust dynamic reconfiguration of Sci. Rep. 14:23041);
  ``--radiality seed`` stays an accepted value, explained in words.
* ``check --help`` said -u defaults to "a partition, robust or schedule result's own", yet a
  schedule result refuses -u: the help must say what the command does (tried here on the
  stored schedule result).
* ``--source-vm 1.5`` was refused as "not '1.5' (a str)": 1.5 is a number outside the
  allowed range (``SOURCE_VM_RANGE``), and the error says so.
* ``check`` of a restore result named ``check_result`` and ``feederopt.read_result`` alone;
  the command line's own command comes first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.scenarios import SOURCE_VM_RANGE

runner = CliRunner(env={"COLUMNS": "300"})
DATA = Path(__file__).parent / "data" / "result_kinds"
COMMANDS = ["", "restore", "plan", "partition", "schedule", "check"]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_no_seed_number(command: str) -> None:
    res = runner.invoke(app, [*([command] if command else []), "--help"])
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    assert not re.search(r"seed 00\d|\(seed|the seed's|seed's", text), text
    if command in ("restore", "plan"):
        # the accepted value stays, explained in words
        assert "<forest|seed>" in text and "seed: 'sum of closed lines <= N-1'" in text
        assert "Zhang et al. 2020" in text


def test_check_help_says_which_results_take_u() -> None:
    text = _flat(runner.invoke(app, ["check", "--help"]).output)
    u_help = text.split("--uncertainty", 1)[1].split("--seed", 1)[0]
    assert "schedule result's own" not in u_help  # the claim the behaviour contradicts
    assert "a schedule result takes none" in u_help, u_help
    # the behaviour the help now states: a schedule result refuses -u
    res = runner.invoke(app, ["check", str(DATA / "schedule"), "-u", "0.2", "-n", "2"])
    assert res.exit_code == 2, res.output
    assert "does not apply to a schedule result" in _flat(res.output)


def test_source_vm_out_of_range_says_so() -> None:
    lo, hi = SOURCE_VM_RANGE
    assert not lo <= 1.5 <= hi  # the premise
    res = runner.invoke(app, ["check", str(DATA / "solve_v1"), "-u", "0.1", "-n", "2",
                              "--source-vm", "1.5"])
    assert res.exit_code == 2, res.output
    text = _flat(res.output)
    assert f"--source-vm 1.5 p.u. is outside the allowed range {lo:g} - {hi:g} p.u." in text
    assert "(a str)" not in text


def test_check_of_a_restore_result_names_the_command_first() -> None:
    res = runner.invoke(app, ["check", str(DATA / "restore"), "-u", "0.1"])
    assert res.exit_code == 2, res.output
    text = _flat(res.output)
    assert "`feederopt check`" in text
    assert text.index("`feederopt check`") < text.index("check_result")
    hint = text.split("(hint: ", 1)[1]
    assert hint.startswith("`feederopt check`"), hint
