"""``feederopt check`` reads a result's input files again (user test ut34_schedule #3).

Before, ``check`` of a schedule read the profile table again from disk: after the user raised
its loads by 40 %, it reported "0.0 % served" of the schedule against the edited data, without
a note. Now every result that ``check`` rebuilds from files records their SHA-256 (schedule:
``inputs.sha256`` of the network, profile and device files; solve: ``inputs_sha256`` of the
network; partition: ``inputs.sha256`` of the feeder and its settings file) and the check
refuses a file that changed, is gone or was not read (exit 2, naming the file); a result
written before the hashes existed gets a warning that its files cannot be verified.

The truth is the files themselves: each test edits one (hashlib's digest of the bytes before
and after differs) and expects the refusal to name that file and no other.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt import check_result, solve
from feederopt.api_partition import check_partition_result
from feederopt.api_schedule import check_schedule_result, schedule
from feederopt.cli import app
from feederopt.errors import InputError, Severity
from feederopt.io.digests import input_change_problems, input_digests

DATA = Path(__file__).parent / "data" / "ut34_schedule"


def _copy(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The user's feeder, its device tables and its profiles, copied (they are edited)."""
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("dg.csv", "ess.csv", "ev.csv", "pv.csv"):
        shutil.copy(DATA / name, dev / name)
    shutil.copy(DATA / "net1.json", tmp_path / "net1.json")
    shutil.copy(DATA / "profiles.csv", tmp_path / "p.csv")
    return tmp_path / "net1.json", tmp_path / "p.csv", dev


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    """A 2-hour robust schedule of the user's feeder (its files in a folder of their own),
    made from that folder with the paths as typed there (relative), as a user does: the one
    run serves the hash checks and the check from another folder (relative paths)."""
    folder = tmp_path_factory.mktemp("made")
    _copy(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        res = schedule("net1.json", profiles="p.csv", devices="dev", hours=2, ac_check=False,
                       time_limit_s=60, gamma=0.3, budget=1.0, uncertain_buses=("3", "4"))
    return folder, res.to_dict()


def _edited(made: tuple[Path, dict], tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    """A copy of the made schedule's folder, and its result with the paths moved there."""
    folder, doc = made
    shutil.copytree(folder, tmp_path / "f")
    text = json.dumps(doc).replace(str(folder), str(tmp_path / "f"))
    return tmp_path / "f", json.loads(text)


def test_schedule_records_the_hash_of_every_input_file(made) -> None:  # type: ignore[no-untyped-def]
    folder, doc = made
    recorded = doc["inputs"]["sha256"]
    files = [folder / "net1.json", folder / "p.csv",
             *(folder / "dev" / n for n in ("dg.csv", "ess.csv", "ev.csv", "pv.csv"))]
    assert recorded == {str(f.resolve()): _sha(f) for f in files}
    # unchanged files: checked, no note
    notes: list[str] = []
    rep = check_schedule_result(doc, samples=5, notice=notes.append)
    assert rep["samples"] == 5 and rep["notes"] == [] and notes == []


def test_check_refuses_edited_profiles(made, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, doc = _edited(made, tmp_path)
    prof = folder / "p.csv"
    before = _sha(prof)
    # the user's edit: every load's factor times 1.4
    lines = prof.read_text().splitlines()
    out = [lines[0]] + [f"{t},{e},{float(v) * 1.4:g}" if e.startswith("load") else f"{t},{e},{v}"
                        for t, e, v in (line.split(",") for line in lines[1:])]
    prof.write_text("\n".join(out) + "\n")
    assert _sha(prof) != before
    with pytest.raises(InputError) as exc:
        check_schedule_result(doc, samples=5)
    (p,) = exc.value.problems
    assert p.ids == (str(prof.resolve()),) and p.field == "inputs.sha256"
    assert "changed since the schedule was made" in p.message
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    r = CliRunner().invoke(app, ["check", str(path), "--samples", "5"])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert f"[{prof.resolve()}].inputs.sha256" in text and "p.csv (changed)" in text
    assert "Traceback" not in text


def test_check_refuses_a_device_table_added_or_removed(made, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, doc = _edited(made, tmp_path)
    wind = folder / "dev" / "wind.csv"
    wind.write_text("id,bus,p_max_mw,deviation\nW1,2,0.2,0.3\n")
    with pytest.raises(InputError) as exc:
        check_schedule_result(doc, samples=5)
    assert exc.value.problems[0].ids == (str(wind.resolve()),)
    wind.unlink()
    (folder / "dev" / "ev.csv").unlink()
    with pytest.raises(InputError) as exc:
        check_schedule_result(doc, samples=5)
    (p,) = exc.value.problems
    assert p.ids == (str((folder / "dev" / "ev.csv").resolve()),) and "(gone)" in p.message


def test_old_schedule_result_is_checked_with_a_warning(made, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, doc = _edited(made, tmp_path)
    del doc["inputs"]["sha256"]
    notes: list[str] = []
    rep = check_schedule_result(doc, samples=3, notice=notes.append)
    (note,) = notes
    assert rep["notes"] == notes
    assert note.startswith("warning:") and "cannot verify" in note and "p.csv" in note


def test_a_profile_table_beside_the_devices_is_not_theirs(tmp_path: Path) -> None:
    # the devices reader passes over profiles.csv in its folder: not an input of the devices
    dev = tmp_path / "dev"
    dev.mkdir()
    shutil.copy(DATA / "ess.csv", dev / "ess.csv")
    shutil.copy(DATA / "profiles.csv", dev / "profiles.csv")
    got = input_digests([dev], skip=("profiles.csv",))
    assert got == {str((dev / "ess.csv").resolve()): _sha(dev / "ess.csv")}
    (dev / "profiles.csv").write_text("edited")
    assert input_change_problems(got, [dev], made="the schedule", field="f",
                                 skip=("profiles.csv",)) == []
    # a built-in case name has no files: nothing to verify, no warning
    assert input_change_problems(None, ["case33bw"], made="the solve", field="f") == []
    (warn,) = input_change_problems(None, [dev], made="the solve", field="f")
    assert warn.severity is Severity.WARNING


def test_check_of_a_solve_result_refuses_an_edited_network(tmp_path: Path) -> None:
    net = tmp_path / "net1.json"
    shutil.copy(DATA / "net1.json", net)
    doc = json.loads(solve(str(net), time_limit_s=60, ac_check=False).to_json())
    assert doc["inputs_sha256"] == {str(net.resolve()): _sha(net)}
    ok = check_result(doc, samples=3, uncertainty=0.1, ac=False)
    assert ok.notes == []
    old = dict(doc)
    del old["inputs_sha256"]
    (note,) = check_result(old, samples=3, uncertainty=0.1, ac=False).notes
    assert "cannot verify" in note and f"[{net.resolve()}]" in note
    text = json.loads(net.read_text())
    net.write_text(json.dumps(text, indent=1))  # the same net, other bytes: still a change
    with pytest.raises(InputError) as exc:
        check_result(doc, samples=3, uncertainty=0.1, ac=False)
    (p,) = exc.value.problems
    assert p.ids == (str(net.resolve()),) and "changed since the solve was made" in p.message
    path = tmp_path / "solve.json"
    path.write_text(json.dumps(doc))
    r = CliRunner().invoke(app, ["check", str(path), "--samples", "3", "--uncertainty", "0.1",
                                 "--no-ac"])
    assert r.exit_code == 2, r.output
    assert "changed since the solve was made" in " ".join(r.output.split())


def test_check_of_a_partition_result_refuses_an_edited_feeder(tmp_path: Path) -> None:
    dss = tmp_path / "f.dss"
    shutil.copy(Path(__file__).parent / "data" / "ut34_3ph" / "seriescap.dss", dss)
    doc = {"kind": "partition", "uncertainty": 0.1, "inputs": {"source": str(dss),
                                           "sha256": input_digests([dss])}, "plan": {}}
    dss.write_text(dss.read_text() + "\n! edited\n")
    with pytest.raises(InputError) as exc:
        check_partition_result(doc, samples=1)
    (p,) = exc.value.problems
    assert p.ids == (str(dss.resolve()),) and "since the partition was made" in p.message


def test_a_schedule_of_relative_paths_is_checked_from_another_folder(
        made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The schedule records the network's absolute path, as it does the profiles' and the
    devices' (before, the network's path as typed: ``check`` run from another folder refused
    it as "not read when it was made"). Truth: the copied file's own absolute path. The
    schedule is the module's (made with relative paths from its folder); the built-in case
    runs one hour, enough to record its source."""
    folder, doc = made
    assert doc["inputs"]["source"] == str((folder / "net1.json").resolve())
    assert doc["inputs"]["profiles"] == str((folder / "p.csv").resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    checked = check_schedule_result(doc, samples=2, seed=1)
    assert checked is not None
    builtin = schedule("case33bw", hours=1, ac_check=False, time_limit_s=60)
    assert builtin.inputs["source"] == "case33bw"  # a built-in case name stays a name
