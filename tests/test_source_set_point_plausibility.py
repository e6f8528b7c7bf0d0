"""A source set-point far from 1 p.u. is a unit mistake, refused with a typed problem naming
``buses [id].v_set_pu`` (exit 2), as a ``vn_kv`` in volts is. User test ut_edge #3: 12.66 (the
bus's kV typed as p.u.), 2 and 5 passed validation and the solve ended "interrupted ... the
phase-1 slave failed", exit 1.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables

runner = CliRunner()


def _with_set_point(value: float):
    buses = tiny_tables()["buses"].with_columns(v_set_pu=pl.lit(value))
    return tiny(buses=buses)


def _set_point_problems(value: float) -> list:
    return [p for p in _with_set_point(value).validate()
            if p.field == "v_set_pu" and p.is_error]


@pytest.mark.parametrize("value", [12.66, 2.0, 5.0, 1.5, 0.5, 0.3])
def test_implausible_set_point_is_an_error_naming_the_source(value: float) -> None:
    (p,) = _set_point_problems(value)
    assert p.kind is ProblemKind.INVALID_VALUE and p.component == "buses" and p.ids == ("s",)


@pytest.mark.parametrize("value", [0.9, 1.0, 1.05, 1.3])
def test_plausible_set_point_passes(value: float) -> None:
    assert _set_point_problems(value) == []


def test_kv_typed_as_pu_exits_2_with_the_hint(tmp_path: Path) -> None:
    folder = tmp_path / "kv"
    write_folder(_with_set_point(12.66), folder)
    for command in (["solve", str(folder), "--no-ac-check"], ["info", str(folder)]):
        out = runner.invoke(app, command, env={"COLUMNS": "240"})
        assert out.exit_code == 2, out.output
        assert "buses [s].v_set_pu" in out.output
        assert "p.u., not kV: 12.66 looks like the bus's vn_kv" in out.output
        assert "Traceback" not in out.output
