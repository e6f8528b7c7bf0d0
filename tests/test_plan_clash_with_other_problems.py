"""``feederopt plan CASE --scenarios NAME --broken ...`` with more bad input: the clash of the
two options must be one problem among the others, all reported in one run (README, "Bad
input": every problem found, each naming its option, exit code 2, no traceback). Before, a
bad ``--radiality`` was raised alone ahead of everything, a scenario file that is not there
or whose rows break a line the network lacks was not named at all beside the clash (only
after the clash was fixed, on the next run), nor an empty ``--broken ""``.

The truth, independent of feederopt's answer: zhang13's branch ids are the 15 lines 1..15 of
its data (Zhang et al. 2020), so 9998 and 9999 are none of them; the missing file is not on
disk (``tmp_path`` is empty); the radiality kinds are ``forest`` and ``seed``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

LINES = {str(k) for k in range(1, 16)}


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["plan", "zhang13", *args], env={"COLUMNS": "300"})
    return res.exit_code, " ".join(res.output.split())


def test_the_network_has_the_lines_the_tests_assume() -> None:
    ids = {str(i) for i in feederopt.load("zhang13").branches["id"].to_list()}
    assert ids == LINES


def test_clash_bad_radiality_negative_budget_and_unknown_line_together() -> None:
    code, text = _run("--scenarios", "A_C_p1", "--broken", "9999", "--harden-budget", "-1",
                      "--radiality", "foo")
    assert code == 2, text
    assert "Traceback" not in text
    assert "give either --scenarios (a disaster file) or --broken (one attack)" in text
    assert "options.harden_budget" in text and "(given: -1)" in text
    assert "options.broken: branch ids that the network does not have (given: 9999)" in text
    assert "options.radiality: radiality must be one of forest, seed (given: foo)" in text
    assert "4 problems in the input" in text


def test_clash_missing_scenario_file_and_negative_budget_together(tmp_path: Path) -> None:
    missing = tmp_path / "nonexist.json"
    assert not missing.exists()
    code, text = _run("--scenarios", str(missing), "--broken", "2", "--dg-budget", "-1")
    assert code == 2, text
    assert "Traceback" not in text
    assert "give either --scenarios" in text
    assert "options.dg_budget" in text
    assert "is neither a file nor a scenario set shipped with the case" in text


def test_missing_scenario_file_reported_with_a_bad_option_without_the_clash(
        tmp_path: Path) -> None:
    missing = tmp_path / "nonexist.csv"
    code, text = _run("--scenarios", str(missing), "--voll", "-1")
    assert code == 2, text
    assert "options.voll" in text
    assert "is neither a file nor a scenario set shipped with the case" in text


def test_clash_and_a_scenario_file_whose_row_breaks_an_unknown_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,probability,broken\ns1,0.5,2;9998\ns2,0.5,3\n")
    code, text = _run("--scenarios", str(bad), "--broken", "9999")
    assert code == 2, text
    assert "Traceback" not in text
    assert "give either --scenarios" in text
    assert "(given: 9999)" in text  # --broken's unknown line
    assert "disasters [s1].broken: unknown branch ids 9998" in text  # the file's


def test_clash_and_an_empty_broken_list_together() -> None:
    code, text = _run("--scenarios", "A_C_p1", "--broken", "")
    assert code == 2, text
    assert "give either --scenarios" in text
    assert "--broken names no line" in text


def test_the_python_api_raises_them_together(tmp_path: Path) -> None:
    missing = tmp_path / "nonexist.json"
    with pytest.raises(InputError) as info:
        feederopt.plan("zhang13", scenarios=str(missing), broken="9999",
                       settings=feederopt.plan_settings(harden_budget=-1))
    fields = [(str(p.kind), p.field) for p in info.value.problems]
    assert ("invalid_value", "scenarios") in fields  # the clash
    assert ("invalid_value", "harden_budget") in fields
    assert ("invalid_value", "broken") in fields  # line 9999
    assert ("bad_scenario", "scenarios") in fields  # the file not there
