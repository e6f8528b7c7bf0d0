"""Near-miss table names in a table folder that were read around without a word.

* a dangling link with a near-miss name (``lods.csv`` pointing nowhere) while the table is
  missing: the folder read as a feeder without load, with only the note "no loads table";
* a dangling ``.csv`` link beside complete tables (``lines.csv`` pointing nowhere): no note
  at all (the note of the files not read took regular files only);
* ``line.csv`` / ``lines.csv`` (the word of pandapower and MATPOWER for the branches) or
  ``branch_data.csv`` in place of ``branches.csv``: "the folder has no branches table",
  naming neither the file nor what it likely is;
* a file not read beside complete tables (``lods.csv`` beside ``loads.csv``): the note named
  the file but not the table it likely is.

The truth: the files written into the folder by hand, and the tiny feeder's own tables.
"""

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


def _folder(tmp_path: Path) -> Path:
    return write_folder(tiny(), tmp_path / "feeder", fmt="csv")


def _not_read_note(folder: Path) -> str:
    (note,) = [w for w in load(folder).meta["warnings"] if "not read" in w]
    return note


@pytest.mark.parametrize(("table", "given"), [("loads", "lods.csv"), ("loads", "Loads.csv"),
                                              ("generators", "generator.csv"),
                                              ("branches", "branch.parquet")])
def test_a_dangling_near_miss_of_a_missing_table_is_refused(tmp_path: Path, table: str,
                                                            given: str) -> None:
    """``lods.csv`` -> a file that is gone, no loads.csv: read as a feeder without load."""
    folder = _folder(tmp_path)
    (folder / f"{table}.csv").unlink(missing_ok=True)
    target = tmp_path / "gone" / f"{table}.csv"
    (folder / given).symlink_to(target)
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE and problem.component == table
    assert problem.ids == (str(folder / given),)
    assert f"{given} is not read" in problem.message
    assert f"a broken link to {target}" in problem.message
    assert problem.hint is not None and f"{table}." in problem.hint and given in problem.hint


def test_a_dangling_near_miss_exits_2_in_the_cli(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "loads.csv").unlink()
    (folder / "lods.csv").symlink_to(tmp_path / "gone.csv")
    result = runner.invoke(app, ["solve", str(folder), "--time-limit", "20"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output and "optimal" not in text
    assert "unreadable_file: loads" in text and "lods.csv" in text and "broken link" in text


def test_a_dangling_link_beside_the_tables_is_named(tmp_path: Path) -> None:
    """A complete folder with ``lines.csv`` -> nowhere: read as before, and the note names
    the link, that it is broken, and the table its name is likely meant for."""
    folder = _folder(tmp_path)
    target = tmp_path / "gone" / "x.csv"
    (folder / "lines.csv").symlink_to(target)
    note = _not_read_note(folder)
    assert "lines.csv" in note and f"a broken link to {target}" in note
    assert "lines.csv looks like the branches table, read from branches.csv" in note


@pytest.mark.parametrize("given", ["line.csv", "lines.csv", "branch_data.csv",
                                   "Lines.parquet"])
def test_a_branches_table_under_another_name_is_named(tmp_path: Path, given: str) -> None:
    """branches.csv saved as line.csv: "the folder has no branches table" without naming the
    file; now the problem names it and the name it must have."""
    folder = _folder(tmp_path)
    src = folder / "branches.csv"
    if given.endswith(".parquet"):
        import polars as pl

        pl.read_csv(src).write_parquet(folder / given)
        src.unlink()
    else:
        src.rename(folder / given)
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE and problem.component == "branches"
    assert problem.ids == (str(folder / given),)
    ext = ".parquet" if given.endswith(".parquet") else ".csv"
    assert problem.hint == f"rename {given} to branches{ext}"


@pytest.mark.parametrize(("given", "table"), [("lods.csv", "loads"), ("bus.csv", "buses"),
                                              ("line.csv", "branches"),
                                              ("loads_2030.csv", "loads")])
def test_the_note_names_the_table_a_file_is_likely_meant_for(tmp_path: Path, given: str,
                                                             table: str) -> None:
    """Beside complete tables the file is read around (it may be a copy kept on purpose), and
    the note says which table it looks like and which file that table is read from."""
    folder = _folder(tmp_path)
    (folder / given).write_text((folder / f"{table}.csv").read_text())
    note = _not_read_note(folder)
    assert f"{given} looks like the {table} table, read from {table}.csv" in note


def test_a_loose_match_of_the_missing_loads_table_is_refused(tmp_path: Path) -> None:
    """``load_data.csv`` (or ``loads_2025.csv``) and no loads table: refused, naming the file
    and the name it must have (user test ut43 recheck: ``loads_2025.parquet`` alone was read as
    a feeder without load, solved "feasible" at 0 kW, exit 0, while the note said the file
    looked like the loads table)."""
    for name in ("load_data.csv", "loads_2025.csv"):
        folder = _folder(tmp_path / name)
        (folder / "loads.csv").rename(folder / name)
        with pytest.raises(InputError) as err:
            load(folder)
        text = str(err.value)
        assert name in text and "no loads table" in text and "loads.csv" in text


def test_files_that_are_no_table_get_no_guess(tmp_path: Path) -> None:
    """A scenario, profile or results table is named as not read, with no table guessed
    (difflib's nearest name would call ``results`` shunts and ``nodes`` loads)."""
    folder = _folder(tmp_path)
    for extra in ("scenarios.csv", "profiles.csv", "results.csv", "nodes_xy.csv"):
        (folder / extra).write_text("id\n1\n")
    note = _not_read_note(folder)
    assert "looks like" not in note
    assert all(f in note for f in ("scenarios.csv", "profiles.csv", "results.csv"))

