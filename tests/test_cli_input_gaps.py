"""Three gaps in the handling of the command line's input (fix-inputs).

1. An empty entry of a comma-separated id list (``--hold-closed 8,,9``, ``--uncertain-buses
   3,,5``, a comma at the end) was dropped in silence: the run went on without the id the
   user left out. It is refused, naming the option and the entry's position (counted by hand
   from the text typed: ``8,,9`` has its second entry empty, ``8,9,`` its third).
2. ``restore``, ``plan`` and ``check`` stopped at a bad option before reading the network,
   so an id that the network lacks was named only on the next run. Both now come in one run.
   Truth: Baran & Wu's 33-bus feeder (case33bw) has buses 1..33 and branches 1..37 (32 lines
   and 5 ties), so bus 99 and branch 999 are none of its elements; -1 s is no time limit and
   0 samples no sample.
3. ``solve SRC --out DIR --force`` refused a result folder that held the user's own
   ``scenarios.parquet`` or ``extreme_points.parquet``, which a plain solve does not write (a
   scenario run writes the first, a robust run the second). A run that would write over its
   own input (``--scenarios DIR/scenarios.parquet --out DIR``) is refused naming the file,
   even with ``--force``; the user's files are compared byte for byte before and after.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt import load
from feederopt.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "400"}


def _run(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args, env=ENV)
    return res.exit_code, " ".join(res.output.split())


def _refused(args: list[str]) -> str:
    code, out = _run(args)
    assert code == 2, out
    assert "Traceback" not in out
    return out


def test_the_premises() -> None:
    net = load("case33bw")
    assert sorted(int(b) for b in net.buses["id"]) == list(range(1, 34))
    assert sorted(int(b) for b in net.branches["id"]) == list(range(1, 38))


# ---- 1. an empty entry of an id list --------------------------------------------------------

BLANKS = [
    (["solve", "case33bw", "--no-ac-check", "-q"], "--hold-closed", "8,,9", "entry 2"),
    (["solve", "case33bw", "--no-ac-check", "-q"], "--hold-open", "33,34,", "entry 3"),
    (["solve", "case33bw", "--no-ac-check", "-q", "--robust", "0.1"], "--uncertain-loads",
     ",3", "entry 1"),
    (["solve", "case33bw", "--no-ac-check", "-q"], "--controls", "caps,,taps", "entry 2"),
    (["restore", "case33bw", "--no-ac-check", "-q"], "--broken", "2,,11", "entry 2"),
    (["restore", "case33bw", "--no-ac-check", "-q", "--broken", "2"], "--dg-sites", "3,,,5",
     "entries 2 and 3"),
    (["plan", "case33bw", "--no-ac-check", "--no-measures", "-q"], "--broken", "2,11,",
     "entry 3"),
    (["schedule", "case33bw", "--robust-budget", "1", "--time-limit", "5", "-q"],
     "--uncertain-buses", "3,,5", "entry 2"),
]


@pytest.mark.parametrize(("args", "option", "text", "where"), BLANKS,
                         ids=[f"{a[0]}{o}" for a, o, _, _ in BLANKS])
def test_an_empty_entry_is_refused_naming_the_option_and_its_position(
        args: list[str], option: str, text: str, where: str) -> None:
    out = _refused([*args, option, text])
    verb = "are" if where.startswith("entries") else "is"
    assert f"{option}: {where} {verb} empty" in out


def test_partition_refuses_an_empty_entry_with_the_other_problems(tmp_path: Path) -> None:
    out = _refused(["partition", str(tmp_path / "missing.dss"), "--uncertain-loads",
                    "a,,b", "-q"])
    assert "--uncertain-loads: entry 2 is empty" in out
    assert "missing.dss" in out  # with the other problem, in the same run


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """case33bw's result folder (a plain solve, no AC check)."""
    out = tmp_path_factory.mktemp("gaps") / "r"
    code, text = _run(["solve", "case33bw", "--no-ac-check", "-q", "--out", str(out)])
    assert code == 0, text
    return out


def test_check_refuses_an_empty_entry(solved: Path) -> None:
    out = _refused(["check", str(solved), "-u", "0.1", "-n", "2", "--no-ac", "-q",
                    "--uncertain-loads", "3,4,,"])
    assert "--uncertain-loads: entries 3 and 4 are empty" in out


# ---- 2. every problem of one command line in one run ---------------------------------------

def test_restore_names_a_bad_option_and_the_unknown_ids_in_one_run() -> None:
    out = _refused(["restore", "case33bw", "--broken", "2,999", "--dg-sites", "3,99",
                    "--time-limit", "-1", "--no-ac-check", "-q"])
    assert "3 problems in the input" in out
    assert "the time limit must be positive" in out
    assert "branch ids that the network does not have (given: 999)" in out
    assert "DG sites that are not buses of the network (given: 99)" in out


def test_plan_names_a_bad_option_and_the_unknown_lines_in_one_run() -> None:
    out = _refused(["plan", "case33bw", "--broken", "2,,999", "--time-limit", "-1",
                    "--no-ac-check", "--no-measures", "-q"])
    assert "3 problems in the input" in out
    assert "--broken: entry 2 is empty" in out
    assert "the time limit must be positive" in out
    assert "branch ids that the network does not have (given: 999)" in out


def test_a_network_that_cannot_be_read_is_named_with_the_options(tmp_path: Path) -> None:
    out = _refused(["restore", str(tmp_path / "missing.m"), "--broken", "2",
                    "--time-limit", "-1", "--no-ac-check", "-q"])
    assert "2 problems in the input" in out
    assert "the time limit must be positive" in out and "missing.m" in out


def test_check_names_bad_options_and_the_unknown_loads_in_one_run(solved: Path) -> None:
    out = _refused(["check", str(solved), "-u", "0.1", "-n", "0", "--seed", "-1", "--no-ac",
                    "-q", "--uncertain-loads", "3,999"])
    assert "3 problems in the input" in out
    assert "samples must be at least 1, not 0" in out
    assert "--seed must be a non-negative whole number, not -1" in out
    assert "unknown (or out-of-service) load id(s) (given: 999)" in out


# ---- 3. the files a --out folder guards ----------------------------------------------------

USER_BYTES = b"the user's own table, not feederopt's"


def _folder_with_user_files(solved: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "r"
    shutil.copytree(solved, folder)
    for name in ("scenarios.parquet", "extreme_points.parquet"):
        (folder / name).write_bytes(USER_BYTES)
    return folder


def test_a_plain_solve_replaces_a_folder_that_holds_the_users_uncertain_tables(
        solved: Path, tmp_path: Path) -> None:
    folder = _folder_with_user_files(solved, tmp_path)
    code, out = _run(["solve", "case33bw", "--no-ac-check", "-q", "--out", str(folder),
                      "--force"])
    assert code == 0, out
    # the user's files are kept as they were, beside the new result
    for name in ("scenarios.parquet", "extreme_points.parquet"):
        assert (folder / name).read_bytes() == USER_BYTES
    assert (folder / "result.json").is_file()


def test_a_scenario_run_never_writes_over_its_own_scenario_file(
        solved: Path, tmp_path: Path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(solved, folder)
    scenarios = folder / "scenarios.parquet"
    code, out = _run(["scenarios", "case33bw", "-o", str(scenarios), "-n", "2", "-q"])
    assert code == 0, out
    before = scenarios.read_bytes()
    out = _refused(["solve", "case33bw", "--no-ac-check", "-q", "--scenarios",
                    str(scenarios), "--out", str(folder), "--force"])
    assert f"holds the input '{scenarios}', and this run writes a scenarios.parquet" in out
    assert "with or without --force" in out
    assert scenarios.read_bytes() == before


def test_a_robust_run_still_refuses_the_users_extreme_points_table(
        solved: Path, tmp_path: Path) -> None:
    """A regression guard (main refused this too): the table a robust run writes."""
    folder = _folder_with_user_files(solved, tmp_path)
    out = _refused(["solve", "case33bw", "--no-ac-check", "-q", "--robust", "0.1",
                    "--out", str(folder), "--force"])
    assert f"'{folder / 'extreme_points.parquet'}' exists already and is not feederopt's" \
        in out
    assert "scenarios.parquet" not in out  # which a robust run does not write
    assert (folder / "extreme_points.parquet").read_bytes() == USER_BYTES
