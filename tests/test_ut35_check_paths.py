"""User test ut35 (repro_check_partition_folder.sh): ``feederopt check p13`` of a partition
result FOLDER exited 2 ("a `feederopt partition` result (kind 'partition'), not a solve's")
while ``feederopt check p13/result.json`` checked it, and ``check_partition_result("p13")`` /
``check_schedule_result("s33s")`` raised ``AttributeError: 'str' object has no attribute
'get'``.

The truth is the result's own JSON file: a folder is checked exactly as its result.json (the
same exit code, the same answer, the same refusal), and a path given to a check function
gives the answer of the dict that ``json.loads`` reads from the file. A value that is neither
a dict nor a path is a typed :class:`~feederopt.InputError` naming the argument."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from netbuild import tiny

runner = CliRunner()
KINDS = Path(__file__).parent / "data" / "result_kinds"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One result folder of each kind that ``feederopt check`` checks: a partition (ieee13mod,
    the user's case), a schedule (the stored case33bw one, two hours, no budget set: one
    realisation) and a solve (a four-bus network written as a folder of tables)."""
    tmp = tmp_path_factory.mktemp("ut35")
    part = tmp / "p13"
    feederopt.partition("ieee13mod", time_limit_s=120, out=part)
    sched = tmp / "s33s"
    shutil.copytree(KINDS / "schedule", sched)
    feeder = tmp / "feeder"
    write_folder(tiny(), feeder, fmt="csv")
    solve = tmp / "tiny"
    feederopt.save(feederopt.solve(feederopt.load(str(feeder)), time_limit=20, ac_check=False),
                   solve, report=False)
    return {"partition": part, "schedule": sched, "solve": solve}


#: The options of each kind's check: few samples, no AC power flow where the kind has one
#: to skip (a solve result has no box of its own: --uncertainty).
OPTIONS = {"partition": ["-n", "3", "--no-ac"], "schedule": ["-n", "2"],
           "solve": ["-n", "3", "-u", "0.05", "--no-ac"]}


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_check_of_a_folder_is_the_check_of_its_result_json(kind: str, folders: dict[str, Path],
                                                           tmp_path: Path) -> None:
    folder = folders[kind]
    answers = []
    for given, out in ((folder, tmp_path / "folder.json"),
                       (folder / "result.json", tmp_path / "file.json")):
        res = runner.invoke(app, ["check", str(given), *OPTIONS[kind], "--json", str(out),
                                  "--quiet"])
        assert res.exit_code == 0, res.output  # partition: 2, "not a solve's", before
        answers.append(json.loads(out.read_text(encoding="utf-8")))
    assert answers[0] == answers[1]


def test_check_of_a_partition_folder_shows_the_partition_check(folders: dict[str, Path]
                                                               ) -> None:
    res = runner.invoke(app, ["check", str(folders["partition"]), "-n", "2", "--no-ac"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "partition check: ieee13mod" in res.output and "not a solve's" not in res.output


def test_a_json_output_beside_the_result_json_is_taken_as_for_the_file(
        folders: dict[str, Path]) -> None:
    """--json into the folder is what it is for the file: allowed beside result.json, refused
    onto it (the input)."""
    folder = folders["partition"]
    res = runner.invoke(app, ["check", str(folder), "-n", "2", "--no-ac", "-q", "--json",
                              str(folder / "check.json")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["check", str(folder), "-n", "2", "--no-ac", "-q", "--force",
                              "--json", str(folder / "result.json")])
    assert res.exit_code == 2 and "is the input" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("kind", ["plan", "restore"])
def test_a_refused_kind_keeps_its_message_for_the_folder(kind: str, tmp_path: Path) -> None:
    folder = tmp_path / kind
    shutil.copytree(KINDS / kind, folder)
    outputs = []
    for given in (folder, folder / "result.json"):
        res = runner.invoke(app, ["check", str(given), "-u", "0.1"], env={"COLUMNS": "400"})
        assert res.exit_code == 2 and "Traceback" not in res.output
        outputs.append(res.output)
    assert outputs[0] == outputs[1]
    assert "check does not support resilience results" in outputs[0]


# ---- the Python API ----------------------------------------------------------------------
def test_check_partition_result_takes_a_path(folders: dict[str, Path]) -> None:
    folder = folders["partition"]
    truth = feederopt.check_partition_result(
        json.loads((folder / "result.json").read_text(encoding="utf-8")), samples=2,
        ac_check=False)
    for given in (folder, str(folder), folder / "result.json", str(folder / "result.json")):
        assert feederopt.check_partition_result(given, samples=2, ac_check=False) == truth


def test_check_schedule_result_takes_a_path(folders: dict[str, Path]) -> None:
    folder = folders["schedule"]
    truth = feederopt.check_schedule_result(
        json.loads((folder / "result.json").read_text(encoding="utf-8")), samples=1)
    assert truth["served_pct"] == 100.0  # the forecast, served as the schedule planned it
    for given in (folder, str(folder), folder / "result.json"):
        assert feederopt.check_schedule_result(given, samples=1) == truth


def _problem(call) -> feederopt.Problem:  # type: ignore[no-untyped-def]
    with pytest.raises(feederopt.InputError) as info:
        call()
    (p,) = info.value.problems
    return p


@pytest.mark.parametrize("value", [5, None, ["p13"], 1.5])
def test_a_value_that_is_no_result_names_the_argument(value: object) -> None:
    for call, argument in (
            (lambda: feederopt.check_partition_result(value, samples=1), "doc"),
            (lambda: feederopt.check_schedule_result(value, samples=1), "doc"),
            (lambda: feederopt.check_result(value, 1, 0.1), "result"),
            (lambda: feederopt.read_result(value), "path")):
        p = _problem(call)  # was AttributeError / TypeError
        assert p.field == argument and p.message.startswith(f"{argument} must be "), p.message
        assert type(value).__name__ in p.message  # named by its type


def test_a_result_of_another_kind_is_named(folders: dict[str, Path]) -> None:
    p = _problem(lambda: feederopt.check_partition_result(folders["schedule"], samples=1))
    assert p.field == "doc" and "(kind 'schedule'), not a partition's" in p.message
    assert "check_schedule_result" in p.message  # what checks it
    doc = feederopt.read_result(folders["partition"])
    p = _problem(lambda: feederopt.check_schedule_result(doc, samples=1))
    assert p.field == "doc" and "(kind 'partition'), not a schedule's" in p.message
    p = _problem(lambda: feederopt.check_result(doc, 1, 0.1))
    assert p.field == "result" and "(kind 'partition'), not a solve's" in p.message
    p = _problem(lambda: feederopt.check_partition_result(folders["solve"], samples=1))
    assert "(kind 'solve'), not a partition's" in p.message
    assert "feederopt.check_result" in p.message


def test_check_options_names_a_value_of_the_wrong_type() -> None:
    p = _problem(lambda: feederopt.check_options("5", 0.1))  # was TypeError
    assert p.field == "samples" and "'5' (a str)" in p.message
    p = _problem(lambda: feederopt.check_options(5, "0.1"))
    assert p.field == "uncertainty" and "'0.1' (a str)" in p.message


# ---- the public writers of results ---------------------------------------------------------
WRITERS = {
    "partition_result_json": lambda out, value: feederopt.partition_result_json(value),
    "schedule_result_json": lambda out, value: feederopt.schedule_result_json(value),
    "write_three_phase_folder": lambda out, value: feederopt.write_three_phase_folder(
        out, value),
    "write_resilience_folder": lambda out, value: feederopt.write_resilience_folder(
        out, "zhang13", value),
    "write_restore_folder": lambda out, value: feederopt.write_restore_folder(
        out, "zhang13", value),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_writer_given_a_path_for_the_result_names_it(name: str, tmp_path: Path) -> None:
    """Before: AttributeError ('str' object has no attribute 'get' / 'to_dict'), or (the
    JSON writers) the JSON text '"p13"' as if it were a result."""
    out = tmp_path / "out"
    p = _problem(lambda: WRITERS[name](out, "p13"))
    assert p.field == "result" and p.message.startswith("result must be ")
    assert f"({name})" in p.message and "'p13' (a str)" in p.message
    assert not out.exists()  # refused before any work


@pytest.mark.parametrize("name", ["write_three_phase_folder", "write_resilience_folder",
                                  "write_restore_folder"])
def test_a_folder_writer_given_no_path_names_it(name: str) -> None:
    with pytest.raises(feederopt.InputError) as info:
        WRITERS[name](5, "p13")
    assert {p.field for p in info.value.problems} == {"out", "result"}
