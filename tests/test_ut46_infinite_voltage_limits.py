"""An infinite voltage limit or set-point is one problem, "is infinite" (user test
ut46_recheck iobad/bad4/v_min_pu_inf): ``v_min_pu`` = inf gave two, inverted_limits "v_min_pu
is above v_max_pu" with the hint "swap the limits" and "v_min_pu is infinite or negative", as a
NaN one did before it was said "is NaN" (commit 30f67cb5). Truth: the text the user should
see, per bus."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io import write_folder
from feederopt.network import Network
from netbuild import bus_errors, tiny_tables

INF = math.inf


def _problems(**cols: list[float | None]) -> list[tuple[ProblemKind, tuple[str, ...], str, str]]:
    return bus_errors(**cols)


def test_infinite_limits_are_one_problem_each() -> None:
    got = _problems(v_min_pu=[0.9, INF, -INF, 0.9, 0.9],
                    v_max_pu=[1.1, 1.1, 1.1, INF, -INF])
    assert got == [
        (ProblemKind.INVALID_VALUE, ("a", "b"), "v_min_pu", "v_min_pu is infinite"),
        (ProblemKind.INVALID_VALUE, ("c", "d"), "v_max_pu", "v_max_pu is infinite")]


def test_negative_limits_are_not_also_inverted() -> None:
    got = _problems(v_min_pu=[0.9, -0.1, 0.9, 0.9, 1.2], v_max_pu=[1.1, 1.1, -1.0, 1.1, 1.1])
    assert got == [
        (ProblemKind.INVERTED_LIMITS, ("d",), "v_min_pu", "v_min_pu is above v_max_pu"),
        (ProblemKind.INVALID_VALUE, ("a",), "v_min_pu", "v_min_pu is negative"),
        (ProblemKind.INVALID_VALUE, ("b",), "v_max_pu", "v_max_pu is negative")]


def test_infinite_or_negative_source_set_point_is_one_problem() -> None:
    for value, said in ((INF, "infinite"), (-INF, "infinite"), (-1.0, "negative")):
        got = _problems(v_set_pu=[value, None, None, None, None])
        assert got == [(ProblemKind.INVALID_VALUE, ("s",), "v_set_pu", f"v_set_pu is {said}")]


def test_cli_says_it_once(tmp_path: Path) -> None:
    t = tiny_tables()
    t["buses"] = t["buses"].with_columns(pl.Series("v_min_pu", [0.9, 0.9, 0.9, INF, 0.9]))
    # written without the check (the folder holds the user's inf)
    net = Network.from_tables(**tiny_tables())
    folder = write_folder(net, tmp_path / "net", fmt="csv")
    t["buses"].write_csv(folder / "buses.csv")
    res = CliRunner().invoke(app, ["info", str(folder)])
    assert res.exit_code == 2, res.output
    assert "error: 1 problem in the input" in res.output
    assert ("invalid_value: buses [c].v_min_pu: v_min_pu is infinite (hint: give the voltage "
            "limit in p.u., e.g. 0.9 to 1.1)") in res.output
    assert "swap the limits" not in res.output
