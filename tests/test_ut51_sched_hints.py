"""User test ut51_sched #1-#3: three hints of ``feederopt schedule`` that told the user
something that was not so.

#1: ``--robust-budget -1 --gamma 0.1`` got, beside the budget's range problem, "gamma acts
only with a load budget" with the hint "add a load budget": the user gave one, out of range.
#2: ``--hours 25`` on the built-in table (hour indices 0..23, no timestamps) got the hint of
a 25-hour DST day ("the last one left out (or merge the repeated hour)"). #3: an infinite
profile value was refused without its value or a hint, while NaN had both.

Truth: the options as typed (a budget of -1 is given, and out of 0..hours), the built-in
profile table as read by polars (its time column holds 0..23 and nothing else) and the
user's own cell (``inf``, written by the test)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api_schedule import schedule_inputs
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()
ARGS = ["schedule", "case33bw", "--no-ac-check", "--time-limit", "5"]


def _refused(args: list[str]) -> str:
    res = runner.invoke(app, [*ARGS, *args], env={"COLUMNS": "400"})
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


@pytest.mark.parametrize("extra", [[], ["--uncertain-buses", "3"]])
def test_a_negative_load_budget_is_its_own_problem_only(extra: list[str]) -> None:
    out = _refused(["--hours", "2", "--robust-budget", "-1", "--gamma", "0.1", *extra])
    assert "--robust-budget is -1, must be within 0..hours (2)" in out
    assert "error: 1 problem in the input" in out
    assert "acts only with a load budget" not in out and "add a load budget" not in out
    assert "act only with a load budget set" not in out


def test_without_a_budget_gamma_is_still_refused() -> None:
    out = _refused(["--hours", "2", "--gamma", "0.1"])
    assert "gamma acts only with a load budget" in out


def test_a_negative_budget_is_named_beside_a_bad_horizon() -> None:
    # the budget's range needs a valid horizon, its sign does not: the budget is not left
    # for the next run now that gamma's rule skips it
    out = _refused(["--hours", "0", "--robust-budget", "-1", "--gamma", "0.1"])
    assert "--hours is 0, must be within 1..24" in out
    assert "--robust-budget is -1, must be >= 0" in out
    assert "error: 2 problems in the input" in out


def test_hours_25_on_a_table_of_24_hour_indices_is_not_told_of_a_dst_day() -> None:
    _, prof = schedule_paths("case33bw")
    times = pl.read_csv(prof)["time"]
    assert times.dtype.is_integer() and sorted(set(times.to_list())) == list(range(24))
    with pytest.raises(InputError) as err:
        feederopt.schedule("case33bw", hours=25, ac_check=False)
    (p,) = err.value.problems
    assert (p.field, p.message) == ("hours", "hours is 25, must be within 1..24")
    hint = p.hint or ""
    assert "at most one day of 24 hours: hours=24 for the whole day" in hint
    assert "merge" not in hint and not hint.startswith("a 25-hour day")


@pytest.mark.parametrize("cell", ["inf", "-inf"])
def test_an_infinite_profile_value_is_echoed_with_a_hint(tmp_path: Path, cell: str) -> None:
    _, prof = schedule_paths("case33bw")
    rows = [r for r in prof.read_text().splitlines() if r.split(",")[:2] != ["1", "8"]]
    path = tmp_path / "p.csv"
    path.write_text("\n".join([*rows, f"1,8,{cell}"]) + "\n")
    with pytest.raises(InputError) as err:
        schedule_inputs("case33bw", path, None, 2)
    (p,) = err.value.problems
    assert (p.ids, p.field) == (("8@1",), "value")
    assert f"value is not finite (element@hour: 8@1 = '{cell}')" in p.message
    assert "give every row a finite number" in (p.hint or "")
