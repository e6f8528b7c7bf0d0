"""``feederopt report --out X`` never writes over a file the result names, with or without
``--force``: its network (relative or absolute), a scenario or profile file wherever
result.json records it, the folder's own files; an existing file of the user's is replaced
only with ``--force`` (the convention of every command's output). Before, only ``source`` and
three ``inputs`` keys were kept, and only as absolute paths.

Truth: the files' bytes on disk, before and after.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from test_double_circuit_member_ids import _net

runner = CliRunner()


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(_net(), "grid.json")
    res = runner.invoke(app, ["solve", "grid.json", "--out", "out", "--no-ac-check"])
    assert res.exit_code == 0, res.output
    return tmp_path / "out"


def _refused(args: list[str], victim: Path) -> str:
    before = victim.read_bytes()
    res = runner.invoke(app, ["report", *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert victim.read_bytes() == before
    return " ".join(res.output.split())


def test_a_relative_source_is_not_written_over(folder: Path) -> None:
    doc = json.loads((folder / "result.json").read_text())
    doc["source"] = "grid.json"  # as recorded relative to where the solve ran
    (folder / "result.json").write_text(json.dumps(doc))
    text = _refused(["out", "--out", "grid.json", "--force"], Path("grid.json"))
    assert "grid.json" in text


def test_a_scenario_file_the_result_names_is_not_written_over(folder: Path) -> None:
    scen = Path("scen.csv").resolve()
    scen.write_text("scenario,probability\ns1,1\n")
    doc = json.loads((folder / "result.json").read_text())
    doc["inputs"] = {"source": doc["source"], "scenarios": str(scen)}
    (folder / "result.json").write_text(json.dumps(doc))
    text = _refused(["out", "--out", str(scen), "--force"], scen)
    assert "scen.csv" in text


def test_the_folders_own_files_are_not_written_over(folder: Path) -> None:
    _refused(["out", "--out", "out/buses.parquet", "--force"], folder / "buses.parquet")


def test_a_users_file_is_replaced_only_with_force(folder: Path) -> None:
    mine = Path("mine.html")
    mine.write_text("my page")
    text = _refused(["out", "--out", "mine.html"], mine)
    assert "--force" in text
    res = runner.invoke(app, ["report", "out", "--out", "mine.html", "--force"])
    assert res.exit_code == 0, res.output
    assert mine.read_text() != "my page"
