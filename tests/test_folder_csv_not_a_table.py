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


def _junk(n: int = 500) -> bytes:
    """Random bytes with a comma every 20 (as the junk of the user test had a few): polars
    read its "header" as columns named by junk, a warning each."""
    import random

    raw = random.Random(7).randbytes(n)
    for sep in (b",", b";", b"\t", b"\n", b"\r", b'"'):
        raw = raw.replace(sep, b"x")
    return b",".join(raw[k:k + 20] for k in range(0, n, 20))


def test_binary_junk_is_one_problem_saying_the_file_is_not_text(folder: Path) -> None:
    (folder / "buses.csv").write_bytes(_junk())
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems  # not a warning per junk "column"
    assert problem.kind is ProblemKind.UNREADABLE_FILE
    assert problem.ids == (str(folder / "buses.csv"),)
    assert "not a CSV (text) file" in problem.message
    out = runner.invoke(app, ["info", str(folder)])
    assert out.exit_code == 2 and "unknown_column" not in out.output
    assert len(out.output.splitlines()) <= 3, out.output


def test_a_parquet_file_named_csv_is_told_to_be_renamed(folder: Path, tmp_path: Path) -> None:
    parquet = write_folder(tiny(), tmp_path / "pq", fmt="parquet")
    (folder / "buses.csv").write_bytes((parquet / "buses.parquet").read_bytes())
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert "Parquet" in problem.message and "buses.parquet" in problem.hint


def test_latin1_text_is_not_called_binary(folder: Path) -> None:
    # text in another encoding is text: read as Windows-1252 with a note (user test ut44_gis
    # #18), not refused as "binary data"
    loads = folder / "loads.csv"
    loads.write_bytes(loads.read_bytes().replace(b"La,", "Lä,".encode("latin-1")))
    net = load(folder)
    assert "Lä" in net.loads["id"].to_list()


def test_a_binary_scenario_or_profile_table_is_not_text(tmp_path: Path) -> None:
    from feederopt.io._common import read_long_table

    path = tmp_path / "scenarios.csv"
    path.write_bytes(_junk())
    with pytest.raises(InputError) as exc:
        read_long_table(path, "scenario table")
    (problem,) = exc.value.problems
    assert "not a CSV (text) file" in problem.message
