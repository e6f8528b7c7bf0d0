"""An upper voltage limit of 0 p.u. is one problem on v_max_pu, "must be positive" (user test
ut47_recheck #6: a CSV folder with bus b3's v_max_pu 0 was inverted_limits on v_min_pu, "swap
the limits", which would make the lower limit 0 and leave no upper one), as a negative,
infinite or NaN one is its own invalid_value (tests/test_ut46_infinite_voltage_limits.py).
Truth: the cell the user wrote, per bus."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io import write_folder
from feederopt.network import Network
from netbuild import bus_errors, tiny_tables


def _problems(**cols: list[float | None]) -> list[tuple[ProblemKind, tuple[str, ...], str, str]]:
    return bus_errors(**cols)


def test_a_zero_upper_limit_is_invalid_value_on_it() -> None:
    got = _problems(v_min_pu=[0.9, 0.9, 0.9, 0.9, 1.2], v_max_pu=[1.1, 0.0, 1.1, 1.1, 1.1])
    assert got == [
        (ProblemKind.INVERTED_LIMITS, ("d",), "v_min_pu", "v_min_pu is above v_max_pu"),
        (ProblemKind.INVALID_VALUE, ("a",), "v_max_pu",
         "v_max_pu is 0: an upper voltage limit must be positive")]


def test_a_zero_band_is_the_zero_upper_limit_alone() -> None:
    got = _problems(v_min_pu=[0.9, 0.0, 0.9, 0.9, 0.9], v_max_pu=[1.1, 0.0, 1.1, 1.1, 1.1])
    assert got == [(ProblemKind.INVALID_VALUE, ("a",), "v_max_pu",
                    "v_max_pu is 0: an upper voltage limit must be positive")]


def test_a_zero_lower_limit_is_still_read() -> None:
    assert _problems(v_min_pu=[0.9, 0.0, 0.9, 0.9, 0.9]) == []


def test_cli_names_v_max_pu(tmp_path: Path) -> None:
    t = tiny_tables()
    t["buses"] = t["buses"].with_columns(pl.Series("v_max_pu", [1.1, 1.1, 1.1, 0.0, 1.1]))
    net = Network.from_tables(**tiny_tables())
    folder = write_folder(net, tmp_path / "net", fmt="csv")
    t["buses"].write_csv(folder / "buses.csv")  # the user's 0, written without the check
    res = CliRunner().invoke(app, ["info", str(folder)], env={"COLUMNS": "400"})
    assert res.exit_code == 2, res.output
    assert "error: 1 problem in the input" in res.output
    assert ("invalid_value: buses [c].v_max_pu: v_max_pu is 0: an upper voltage limit must be "
            "positive") in res.output
    assert "swap the limits" not in res.output and "inverted_limits" not in res.output
