"""Results of the Python API record their source, and never overwrite it (user test ut_api #5
and #7).

* ``feederopt.solve`` records where the network came from as the command line does (an
  absolute path, or a built-in case name), so that ``feederopt check`` finds the network from
  any folder; a result that names its network only relative to the current folder is refused.
* ``save``/``save_json`` never write onto the network the result was solved from, nor into its
  folder, even with ``force``: typed ``bad_output_path``, the input unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from netbuild import tiny

runner = CliRunner()


@pytest.fixture()
def feeder(tmp_path: Path) -> Path:
    folder = tmp_path / "feeder"
    write_folder(tiny(), folder, fmt="csv")
    return folder


def test_the_api_records_the_absolute_source_and_check_finds_it_elsewhere(
        feeder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(feeder.parent)
    r = feederopt.solve(feederopt.load("feeder"), time_limit=20, ac_check=False)
    assert r.source == str(feeder.resolve())
    out = tmp_path / "r.json"
    feederopt.save_json(r, out)
    assert json.loads(out.read_text())["source"] == str(feeder.resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = runner.invoke(app, ["check", str(out), "--samples", "3", "-u", "0.05", "--no-ac",
                              "--quiet"])
    assert res.exit_code == 0, res.output


def test_a_case_name_is_recorded_as_the_case_name() -> None:
    r = feederopt.solve("case33bw", time_limit=20, ac_check=False)
    assert r.source == "case33bw"


def test_a_network_built_in_memory_records_no_source() -> None:
    r = feederopt.solve(tiny(), time_limit=20, ac_check=False)
    assert r.source is None


@pytest.mark.parametrize("named", [{"case": "feeder"}, {"case": "x", "source": "feeder"}])
def test_check_refuses_a_source_relative_to_the_current_folder(
        feeder: Path, monkeypatch: pytest.MonkeyPatch, named: dict[str, str]) -> None:
    monkeypatch.chdir(feeder.parent)  # a folder of that name is here: it would be used
    doc = {"status": "optimal", "open_branches": [{"id": "tie1"}], **named}
    with pytest.raises(InputError) as exc:
        feederopt.check_result(doc, samples=2, uncertainty=0.05, ac=False)
    (problem,) = exc.value.problems
    assert problem.field == "source" and problem.ids == ("feeder",)
    assert "--case" in problem.hint


def test_save_json_never_replaces_the_input_file(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    pp.to_json(pn.case33bw(), str(path))
    before = path.read_bytes()
    r = feederopt.solve(feederopt.load(path), time_limit=20, ac_check=False)
    with pytest.raises(InputError) as exc:
        feederopt.save_json(r, path, force=True)
    assert exc.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
    assert path.read_bytes() == before


def test_save_never_writes_inside_the_input_folder(feeder: Path) -> None:
    r = feederopt.solve(feederopt.load(feeder), time_limit=20, ac_check=False)
    for target in (lambda: feederopt.save(r, feeder / "res", force=True, report=False),
                   lambda: feederopt.save_json(r, feeder / "branches.csv", force=True)):
        with pytest.raises(InputError) as exc:
            target()
        assert exc.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
    assert not (feeder / "res").exists()
    assert (feeder / "branches.csv").read_text().startswith("id")


@pytest.mark.parametrize("name", ["net.xlsx", "net.dss"])
def test_load_hints_agree_that_a_dss_file_is_for_the_three_phase_api(tmp_path: Path,
                                                                     name: str) -> None:
    path = tmp_path / name
    path.write_text("x")
    with pytest.raises(InputError) as exc:
        feederopt.load(path)
    hint = exc.value.problems[0].hint
    assert "solve_three_phase" in hint and "load_three_phase" in hint


def test_a_written_folder_does_not_carry_the_source_it_was_read_from(tmp_path: Path) -> None:
    net = feederopt.load("case33bw")
    assert net.meta["source"] == "case33bw"
    write_folder(net, tmp_path / "copy")
    assert "source" not in json.loads((tmp_path / "copy" / "meta.json").read_text())["meta"]
    assert feederopt.load(tmp_path / "copy").meta["source"] == str((tmp_path / "copy").resolve())


def test_save_guards_a_folder_read_with_io_read(feeder: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """User test ut_io #2: a network read with ``feederopt.io.read`` (a relative path here)
    has no ``result.source``; the guard uses the path the reader recorded."""
    from feederopt.io import read

    monkeypatch.chdir(feeder.parent)
    r = feederopt.solve(read("feeder"), time_limit=20, ac_check=False)
    assert r.source is None  # nothing that `feederopt check` could load the same network from
    before = (feeder / "buses.csv").read_bytes()
    for target in (lambda: feederopt.save(r, "feeder/res", force=True, report=False),
                   lambda: feederopt.save_json(r, "feeder/buses.csv", force=True),
                   lambda: feederopt.save(r, "feeder", force=True, report=False)):
        with pytest.raises(InputError) as exc:
            target()
        assert exc.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
        assert "input" in exc.value.problems[0].message
    assert not (feeder / "res").exists()
    assert (feeder / "buses.csv").read_bytes() == before
    assert feederopt.save_json(r, "elsewhere.json").is_file()  # other paths are written


@pytest.mark.parametrize("kind", ["matpower", "pandapower"])
def test_save_json_guards_a_file_read_with_io_read(tmp_path: Path, kind: str) -> None:
    from feederopt.io import read

    if kind == "matpower":
        path = tmp_path / "net.m"
        path.write_bytes((Path(__file__).parent / "data" / "io" / "pv_redispatch.m").read_bytes())
    else:
        path = tmp_path / "net.json"
        pp.to_json(pn.case33bw(), str(path))
    before = path.read_bytes()
    r = feederopt.solve(read(path), time_limit=20, ac_check=False)
    assert r.source is None
    with pytest.raises(InputError) as exc:
        feederopt.save_json(r, path, force=True)
    assert exc.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
    with pytest.raises(InputError) as exc:
        feederopt.save(r, tmp_path, force=True, report=False)  # the folder holding it
    assert exc.value.problems[0].kind is ProblemKind.BAD_OUTPUT_PATH
    assert path.read_bytes() == before
