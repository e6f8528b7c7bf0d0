"""``--switch-penalty`` of restore and plan is a finite number in [0, 1e9] (user test
ut36_errs #1: ``inf`` and ``1e300`` were accepted; the MILP's objective overflowed to NaN and
the run said "optimal" with objective "-", shedding the whole load, with a numpy warning)."""
import pytest
from typer.testing import CliRunner

from feederopt.api_resilience import restore_problems
from feederopt.cli import app
from feederopt.problems.resilience import MAX_SWITCH_PENALTY

runner = CliRunner(env={"COLUMNS": "400"})


@pytest.mark.parametrize("value", ["inf", "1e300", "-1"])
@pytest.mark.parametrize("command", [
    ["restore", "zhang13", "--broken", "2", "--no-ac-check"],
    ["plan", "zhang13", "--broken", "2", "--no-measures", "--time-limit", "30", "--no-ac-check"],
])
def test_a_penalty_out_of_range_is_refused(command: list[str], value: str) -> None:
    r = runner.invoke(app, [*command, "--switch-penalty", value])
    assert r.exit_code == 2, r.output
    assert "switch_penalty" in r.output and "finite number >= 0" in r.output
    assert "Traceback" not in r.output


def test_the_cap_in_the_api() -> None:
    assert restore_problems(["2"], switch_penalty_pu=MAX_SWITCH_PENALTY) == []
    (p,) = restore_problems(["2"], switch_penalty_pu=MAX_SWITCH_PENALTY * 10)
    assert p.field == "switch_penalty"
