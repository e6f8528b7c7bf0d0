"""CSV files of a network folder that are no table feederopt can read (user test ut37_errs2 #3):
one problem that says what is wrong with the file, not the consequences that polars' reading
of it has (a column renamed ``r_ohm_duplicated_0``, columns named by binary junk)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from netbuild import tiny

runner = CliRunner()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return write_folder(tiny(), tmp_path / "feeder", fmt="csv")


def _rename_header_column(path: Path, old: str, new: str) -> None:
    header, *rows = path.read_text().splitlines()
    cols = header.split(",")
    cols[cols.index(old)] = new
    path.write_text("\n".join([",".join(cols), *rows]) + "\n")


def test_a_column_named_twice_is_one_duplicate_column_problem(folder: Path) -> None:
    # x_ohm's header cell says r_ohm: the table has r_ohm twice and no x_ohm
    _rename_header_column(folder / "branches.csv", "x_ohm", "r_ohm")
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert (problem.kind, problem.component, problem.field) == (
        ProblemKind.DUPLICATE_COLUMN, "branches", "r_ohm")
    assert "duplicate column 'r_ohm'" in problem.message and "x_ohm" in problem.hint
    out = runner.invoke(app, ["info", str(folder)])
    assert out.exit_code == 2 and "duplicate column 'r_ohm'" in out.output
    assert "_duplicated_" not in out.output and "Traceback" not in out.output


def test_a_duplicate_of_an_optional_column_is_named_too(folder: Path) -> None:
    _rename_header_column(folder / "loads.csv", "priority", "q_mvar")
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert (problem.kind, problem.component, problem.field) == (
        ProblemKind.DUPLICATE_COLUMN, "loads", "q_mvar")
