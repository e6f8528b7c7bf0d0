"""A table's name in a folder that is no readable file is refused, naming the file and why
(user test ut42_badin #1).

A ``loads.csv`` that was a dangling link (or a folder) read as "no loads table": ``solve`` said
"optimal" at 0 kW with exit 0, and ``feederopt.load`` gave a feeder without load; a
``buses.csv`` that was a folder read as "the folder has no buses table". The truth used here:
the files themselves (a link whose target is gone, a folder), and the tiny feeder's own loads
summed by hand from the tables it was written from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from feederopt.network.schemas import TABLES
from netbuild import tiny, tiny_tables

runner = CliRunner()


def _folder(tmp_path: Path, fmt: str = "csv") -> Path:
    return write_folder(tiny(), tmp_path / "feeder", fmt=fmt)  # type: ignore[arg-type]


def _break(entry: Path, how: str, tmp_path: Path) -> str:
    """Replace ``entry`` by a dangling link, a folder or a link to a folder; the words the
    refusal must hold."""
    entry.unlink(missing_ok=True)
    if how == "dangling":
        target = tmp_path / "gone" / entry.name
        entry.symlink_to(target)
        return f"a broken link to {target}"
    if how == "folder":
        entry.mkdir()
        return "a folder, not a file"
    target = tmp_path / "elsewhere"
    target.mkdir(exist_ok=True)
    entry.symlink_to(target)
    return f"a link to {target}, which is a folder"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("how", ["dangling", "folder", "link_to_folder"])
def test_each_table_name_that_is_no_file_is_refused(tmp_path: Path, fmt: str, table: str,
                                                    how: str) -> None:
    """Every table the folder reader knows, in both formats, whether the folder wrote it or
    not (the tiny feeder has no shunts): one typed problem on the table naming the file."""
    folder = _folder(tmp_path, fmt)
    entry = folder / f"{table}.{fmt}"
    words = _break(entry, how, tmp_path)
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE and problem.component == table
    assert problem.ids == (str(entry),)
    assert words in problem.message, problem.message


def test_the_other_format_name_is_checked_too(tmp_path: Path) -> None:
    """loads.csv is the table, and a dangling loads.parquet beside it is no file: refused
    (either may be the one meant), not passed over."""
    folder = _folder(tmp_path)
    _break(folder / "loads.parquet", "dangling", tmp_path)
    with pytest.raises(InputError) as exc:
        load(folder)
    assert [p.ids for p in exc.value.problems] == [(str(folder / "loads.parquet"),)]


def test_meta_json_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    _break(folder / "meta.json", "folder", tmp_path)
    with pytest.raises(InputError) as exc:
        load(folder)
    assert "meta.json" in exc.value.problems[0].message


def test_a_link_to_a_readable_table_is_read(tmp_path: Path) -> None:
    """A link to a file that is there reads as the file: the tiny feeder's loads."""
    folder = _folder(tmp_path)
    real = tmp_path / "loads_kept.csv"
    (folder / "loads.csv").rename(real)
    (folder / "loads.csv").symlink_to(real)
    expected = float(tiny_tables()["loads"]["p_mw"].sum())
    assert load(folder).loads["p_mw"].sum() == pytest.approx(expected)
    assert expected > 0


@pytest.mark.parametrize(("table", "how"), [("loads", "dangling"), ("buses", "folder")])
def test_solve_exits_2_naming_the_file(tmp_path: Path, table: str, how: str) -> None:
    """The tester's folders: no "optimal" at 0 kW, no "the folder has no buses table"."""
    folder = _folder(tmp_path)
    words = _break(folder / f"{table}.csv", how, tmp_path)
    result = runner.invoke(app, ["solve", str(folder), "--time-limit", "20"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "optimal" not in text
    assert f"unreadable_file: {table}" in text and f"{table}.csv" in text and words in text
    assert "has no" not in text

