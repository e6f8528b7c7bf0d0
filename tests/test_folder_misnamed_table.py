"""A table missing from a folder while a file is nearly named as it is refused, naming the
file and the name it must have (user test ut35_errs #2).

``loads.csv`` renamed ``load.csv`` (or ``Loads.csv``): ``info`` said "problems: none" and a total
load of 0 MW, ``solve`` "optimal" at 0.000 kW with exit 0; only a note on stderr said that
``load.csv`` was not read. Files that are no table's near miss (a README, a scenario or profile
table, ``lines.csv``) are still read around, with the note.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables

runner = CliRunner()


def _folder(tmp_path: Path) -> Path:
    return write_folder(tiny(), tmp_path / "feeder", fmt="csv")


@pytest.mark.parametrize("command", [["info"], ["solve", "--time-limit", "20"]])
def test_load_csv_instead_of_loads_csv_exits_2_naming_both(tmp_path: Path,
                                                           command: list[str]) -> None:
    """The tester's folder: loads.csv renamed load.csv."""
    folder = _folder(tmp_path)
    (folder / "loads.csv").rename(folder / "load.csv")
    result = runner.invoke(app, [command[0], str(folder), *command[1:]])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output and "optimal" not in text
    assert "unreadable_file: loads" in text and "load.csv" in text, text
    assert "rename load.csv to loads.csv" in text


@pytest.mark.parametrize(("table", "given", "expected"), [
    ("loads", "Loads.csv", "rename Loads.csv to loads.csv"),
    ("loads", "loads.CSV", "rename loads.CSV to loads.csv"),
    ("loads", "lods.csv", "rename lods.csv to loads.csv"),
    ("loads", "laods.csv", "rename laods.csv to loads.csv"),
    ("loads", "loads.xlsx", "save loads.xlsx as CSV (comma delimited) named loads.csv"),
    ("buses", "bus.csv", "rename bus.csv to buses.csv"),
    ("buses", "busses.csv", "rename busses.csv to buses.csv"),
    ("branches", "Branches.csv", "rename Branches.csv to branches.csv"),
])
def test_near_misses_of_a_missing_table_are_named(tmp_path: Path, table: str, given: str,
                                                 expected: str) -> None:
    """A case difference, one edit, the singular, or the wrong ending: one typed problem on
    the table, naming the file and the name to give it."""
    folder = _folder(tmp_path)
    (folder / f"{table}.csv").rename(folder / given)
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE and problem.component == table
    assert problem.ids == (str(folder / given),) and problem.hint == expected


def test_files_kept_beside_the_tables_are_still_read_around(tmp_path: Path) -> None:
    """A complete folder with a README, scenario and profile tables, ``lines.csv`` and even
    a stray ``load.csv`` (loads.csv is there) reads as before: the tiny feeder's loads, and
    the note naming the tables not read. A folder without loads (they are optional) and no
    near miss of loads.csv reads too."""
    folder = _folder(tmp_path)
    for extra in ("README.md", "scenarios.csv", "profiles.csv", "lines.csv", "load.csv"):
        (folder / extra).write_text("id\n1\n")
    net = load(folder)
    assert net.loads["p_mw"].sum() == pytest.approx(float(tiny_tables()["loads"]["p_mw"].sum()))
    (note,) = [w for w in net.meta["warnings"] if "not read" in w]
    assert all(f in note for f in ("lines.csv", "load.csv", "profiles.csv", "scenarios.csv"))
    (folder / "loads.csv").unlink()
    (folder / "load.csv").unlink()
    assert load(folder).loads.height == 0
