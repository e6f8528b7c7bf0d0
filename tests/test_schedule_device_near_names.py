"""Near-miss names and broken links in the schedule's devices folder, read around silently.

* a device table's name that is a dangling link or a folder (``ess.csv`` pointing nowhere):
  read as "no such table", the schedule ran without the storage;
* a file or broken link whose name nearly is a missing table's (``storge.csv``, a dangling
  ``storage.csv``, ``pv.xlsx``, ``pv.txt``): either ignored (not ``.csv``/``.parquet``, or a
  link to nothing) or refused as "not a device table" without saying which table it is;
* ``--profiles`` given as a dangling link: "no such file", the link not named;
* a built-in case run with ``--devices`` of a folder holding its own ``profiles.csv``: the
  built-in profiles were read, the folder's passed over without a word.

As for the grid's table folder (``tests/test_folder_near_names.py``, :func:`likely_table`).
The truth: the files written into the folder by hand, and the built-in device tables as
polars reads them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cases import load
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.folder import likely_table
from feederopt.io.timeseries import DEVICE_ALIASES, load_devices
from feederopt.network.timeseries import DeviceKind

runner = CliRunner()
BUILTIN, PROFILES = schedule_paths("case33bw")


def _devices(tmp_path: Path) -> Path:
    """A copy of case33bw's device tables (without its profile table)."""
    dev = tmp_path / "dev"
    dev.mkdir()
    for k in DeviceKind:
        shutil.copy(BUILTIN / f"{k.value}.csv", dev / f"{k.value}.csv")
    return dev


def _only_problem(dev: Path) -> object:
    with pytest.raises(InputError) as exc:
        load_devices(dev, load("case33bw"))
    (problem,) = exc.value.problems
    return problem


def test_the_copied_folder_reads_every_table(tmp_path: Path) -> None:
    """The baseline of the tests below: each table has the rows of its file."""
    devices = load_devices(_devices(tmp_path), load("case33bw"))
    for k in DeviceKind:
        assert devices.table(k).height == pl.read_csv(BUILTIN / f"{k.value}.csv").height > 0


@pytest.mark.parametrize("entry", ["link", "folder"])
def test_a_table_name_that_is_no_readable_file_is_refused(tmp_path: Path, entry: str) -> None:
    """``ess.csv`` -> nowhere (or a folder): before, a schedule without storage."""
    dev = _devices(tmp_path)
    (dev / "ess.csv").unlink()
    target = tmp_path / "gone" / "ess.csv"
    if entry == "link":
        (dev / "ess.csv").symlink_to(target)
    else:
        (dev / "ess.csv").mkdir()
    problem = _only_problem(dev)
    assert problem.kind is ProblemKind.UNREADABLE_FILE  # type: ignore[attr-defined]
    assert problem.component == "devices.ess"  # type: ignore[attr-defined]
    assert problem.ids == (str(dev / "ess.csv"),)  # type: ignore[attr-defined]
    assert (f"a broken link to {target}" if entry == "link" else "a folder, not a file") \
        in problem.message  # type: ignore[attr-defined]


@pytest.mark.parametrize(("given", "table"), [
    ("storge.csv", "ess"), ("storage.csv", "ess"), ("Storage.parquet", "ess"),
    ("battery.csv", "ess"), ("PV.csv", "pv"), ("solar.csv", "pv"), ("evs.csv", "ev"),
    ("wnd.csv", "wind"), ("DG.csv", "dg")])
def test_a_table_under_a_near_name_is_named_with_the_name_it_must_have(
        tmp_path: Path, given: str, table: str) -> None:
    """``storge.csv`` in place of ``ess.csv``: before, "not a device table" without saying
    which one; now the table it is, and the name to give it."""
    dev = _devices(tmp_path)
    src = dev / f"{table}.csv"
    if given.endswith(".parquet"):
        pl.read_csv(src).write_parquet(dev / given)
        src.unlink()
    else:
        src.rename(dev / given)
    problem = _only_problem(dev)
    assert problem.kind is ProblemKind.UNREADABLE_FILE  # type: ignore[attr-defined]
    assert problem.component == f"devices.{table}"  # type: ignore[attr-defined]
    assert problem.ids == (str(dev / given),)  # type: ignore[attr-defined]
    assert f"no {table} table" in problem.message  # type: ignore[attr-defined]
    ext = ".parquet" if given.endswith(".parquet") else ".csv"
    assert problem.hint == f"rename {given} to {table}{ext}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("given", ["pv.xlsx", "pv.txt", "pv", "pv.CSV"])
def test_a_table_in_another_format_is_refused(tmp_path: Path, given: str) -> None:
    """``pv.xlsx``, ``pv.txt``: before, not ``.csv``/``.parquet`` and so passed over, the
    schedule without its PV."""
    dev = _devices(tmp_path)
    (dev / "pv.csv").rename(dev / given)
    problem = _only_problem(dev)
    assert problem.kind is ProblemKind.UNREADABLE_FILE  # type: ignore[attr-defined]
    assert problem.component == "devices.pv"  # type: ignore[attr-defined]
    assert problem.ids == (str(dev / given),)  # type: ignore[attr-defined]
    assert "pv.csv" in problem.hint  # type: ignore[attr-defined]


def test_a_dangling_near_miss_of_a_missing_table_is_refused(tmp_path: Path) -> None:
    """``storge.csv`` -> a file that is gone, no ess.csv: before, no word at all."""
    dev = _devices(tmp_path)
    (dev / "ess.csv").unlink()
    target = tmp_path / "gone" / "ess.csv"
    (dev / "storge.csv").symlink_to(target)
    problem = _only_problem(dev)
    assert problem.kind is ProblemKind.UNREADABLE_FILE  # type: ignore[attr-defined]
    assert problem.component == "devices.ess"  # type: ignore[attr-defined]
    assert f"a broken link to {target}" in problem.message  # type: ignore[attr-defined]
    assert "ess.csv" in problem.hint and "storge.csv" in problem.hint  # type: ignore[attr-defined]


def test_a_dangling_link_beside_the_tables_is_named(tmp_path: Path) -> None:
    """A complete folder and ``storage.csv`` -> nowhere: refused like any other file that is
    no device table, the hint naming the broken link and the table it looks like."""
    dev = _devices(tmp_path)
    target = tmp_path / "gone.csv"
    (dev / "storage.csv").symlink_to(target)
    problem = _only_problem(dev)
    assert problem.kind is ProblemKind.UNKNOWN_FILE_TYPE  # type: ignore[attr-defined]
    assert problem.ids == ("storage.csv",)  # type: ignore[attr-defined]
    hint = problem.hint  # type: ignore[attr-defined]
    assert f"storage.csv: it is a broken link to {target}" in hint
    assert "storage.csv looks like the ess table, read from ess.csv" in hint


def test_a_profile_table_in_the_devices_folder_is_named_as_one(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    (dev / "profile.csv").write_text(PROFILES.read_text())
    problem = _only_problem(dev)
    assert problem.kind is ProblemKind.UNKNOWN_FILE_TYPE  # type: ignore[attr-defined]
    assert "profile.csv looks like a profile table" in problem.hint  # type: ignore[attr-defined]
    assert "--profiles" in problem.hint  # type: ignore[attr-defined]


def test_two_letter_names_are_not_one_edit_from_each_other() -> None:
    """``pv`` and ``ev`` are one substitution apart; a file ``p.csv`` or ``d.csv`` is no
    table (the singular of a name that is no plural is the name itself)."""
    names = [k.value for k in DeviceKind]
    for word in ("p.csv", "d.csv", "e.csv", "dv.csv"):
        assert likely_table(word, names, aliases=DEVICE_ALIASES) is None, word
    assert likely_table("pvs.csv", names, aliases=DEVICE_ALIASES) == "pv"


def test_a_dangling_profiles_link_is_named(tmp_path: Path) -> None:
    """``--profiles p.csv`` -> nowhere: before "no such file", now the link and its target."""
    link = tmp_path / "p.csv"
    target = tmp_path / "gone" / "profiles.csv"
    link.symlink_to(target)
    with pytest.raises(InputError) as exc:
        schedule_inputs("case33bw", profiles=link)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE and problem.ids == (str(link),)
    assert f"a broken link to {target}" in problem.message


def test_an_unread_profile_table_beside_the_devices_is_noted(tmp_path: Path) -> None:
    """case33bw with ``--devices`` of a copied folder that holds an edited profiles.csv: the
    built-in profiles are read, and a note says the folder's are not."""
    dev = _devices(tmp_path)
    (dev / "profiles.csv").write_text(PROFILES.read_text())
    notes: list[str] = []
    schedule_inputs("case33bw", devices=dev, notes=notes)
    (note,) = [n for n in notes if "profiles.csv" in n]
    assert f"{dev / 'profiles.csv'} is not read" in note
    assert "built-in profiles of case33bw" in note and "--profiles" in note
    # given with --profiles, it is read: no note
    notes = []
    schedule_inputs("case33bw", devices=dev, profiles=dev / "profiles.csv", notes=notes)
    assert not [n for n in notes if "profiles.csv" in n]


def test_the_cli_exits_2_naming_the_file(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    (dev / "ess.csv").rename(dev / "storge.csv")
    result = runner.invoke(app, ["schedule", "case33bw", "--devices", str(dev),
                                 "--time-limit", "5"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert "unreadable_file: devices.ess" in text and "storge.csv" in text
