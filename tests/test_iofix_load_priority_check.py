"""A load priority of NaN, -1 or inf (user test ut46_iobad #5): ``feederopt info`` said
"problems: none", and only ``restore`` refused it ("priority must be a finite number >= 0").
The network check now reports it, as it does flex_share and switch_cost_kw."""

from __future__ import annotations

import math

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables

runner = CliRunner()


def _loads(priority: list[float | None]) -> pl.DataFrame:
    return tiny_tables()["loads"].with_columns(pl.Series("priority", priority,
                                                         dtype=pl.Float64))


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf, -math.inf])
def test_bad_priority_is_a_problem_of_the_network(tmp_path, bad: float) -> None:
    net = tiny(loads=_loads([1.0, bad, 0.0, None]))
    with pytest.raises(InputError) as err:
        net.check()
    (problem,) = [p for p in err.value.problems if p.field == "priority"]
    assert problem.kind is ProblemKind.INVALID_VALUE and problem.component == "loads"
    assert problem.ids == ("Lb",)  # 0 and a missing value (the default 1) are fine
    assert "priority must be a finite number >= 0" in problem.message
    folder = write_folder(net, tmp_path / "net", fmt="csv")
    res = runner.invoke(app, ["info", str(folder)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, text
    assert "invalid_value: loads [Lb].priority: priority must be a finite number >= 0" in text


def test_valid_priorities_pass() -> None:
    assert tiny(loads=_loads([0.0, 1.0, 10.0, None])).check().loads.height == 4
