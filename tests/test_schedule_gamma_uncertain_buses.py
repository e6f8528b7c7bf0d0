"""``feederopt schedule case33bw --uncertain-buses 3,999 --robust-budget 1 --gamma -1`` (user
test ut40_recheck_b #2) said "the uncertain buses act only with a load budget set", though
``--robust-budget 1`` sets one: the check read "no load budget" from ``gamma > 0`` failing,
which is gamma's own problem; and bus 999 was not named, because the network was read only
after the options' problems. Now the run names gamma's problem and the unknown bus at once.

Truth: Baran & Wu's 33-bus feeder has buses 1..33 (read from the case), so 999 is none of
them; gamma is a share within 0..1, so -1 is none.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()
ARGS = ["schedule", "case33bw", "--hours", "2", "--no-ac-check", "--time-limit", "5"]


def _refused(args: list[str]) -> str:
    res = runner.invoke(app, [*ARGS, *args], env={"COLUMNS": "400"})
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


def test_a_bad_gamma_with_a_budget_names_the_unknown_bus_not_a_missing_budget() -> None:
    buses = set(feederopt.load("case33bw").buses["id"].cast(str).to_list())
    assert buses == {str(i) for i in range(1, 34)} and "999" not in buses
    out = _refused(["--uncertain-buses", "3,999", "--robust-budget", "1", "--gamma", "-1"])
    assert "--gamma is -1, must be within 0..1" in out
    assert "uncertain bus not in the network (given: 999)" in out
    assert "act only with a load budget" not in out
    assert "error: 2 problems" in out


def test_uncertain_buses_without_a_budget_are_still_refused() -> None:
    out = _refused(["--uncertain-buses", "3", "--gamma", "0.1"])
    assert "the uncertain buses act only with a load budget set" in out


def test_python_is_told_every_problem_at_once_in_its_spelling() -> None:
    with pytest.raises(InputError) as err:
        feederopt.schedule("case33bw", hours=2, uncertain_buses=("3", "3", "999"), budget=1,
                           gamma=-1, ac_check=False)
    text = " | ".join(p.message for p in err.value.problems)
    assert "uncertain bus not in the network" in text and "999" in str(err.value)
    assert "uncertain_buses names a bus more than once: 3" in text
    assert "act only with a load budget" not in text
