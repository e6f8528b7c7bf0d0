"""ut_out #3: every result JSON says what wrote it: ``kind``, an integer ``schema_version`` (the
same for every kind) and ``feederopt_version``; files from before them are still read by
``read_result`` and ``feederopt report``."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.results.resilience import PlanResult, RestoreResult
from feederopt.validation.montecarlo import read_result_to_check as read_result

STAMP = ("kind", "schema_version", "feederopt_version")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("schema") / "res"
    res = CliRunner().invoke(app, ["solve", "case33bw", "--time-limit", "60", "--out", str(out),
                                   "--quiet"])
    assert res.exit_code == 0, res.output
    return out


def test_solve_json_is_stamped(solved: Path) -> None:
    doc = json.loads((solved / "result.json").read_text())
    assert list(doc)[:3] == list(STAMP)
    assert doc["kind"] == "solve"
    assert doc["schema_version"] == feederopt.SCHEMA_VERSION
    assert isinstance(doc["schema_version"], int)
    assert doc["feederopt_version"] == feederopt.__version__


def _blank(cls: type) -> object:
    """An instance with every field None: only the stamp is looked at."""
    obj = cls.__new__(cls)
    for f in fields(cls):
        object.__setattr__(obj, f.name, None)
    return obj


@pytest.mark.parametrize(("cls", "kind"), [(RestoreResult, "resilience_restore"),
                                           (PlanResult, "resilience_plan")])
def test_other_kinds_carry_the_same_schema_version(cls: type, kind: str) -> None:
    doc = _blank(cls).to_dict()  # type: ignore[attr-defined]
    assert (doc["kind"], doc["schema_version"], doc["feederopt_version"]) == (
        kind, feederopt.SCHEMA_VERSION, feederopt.__version__)


def test_stamp_puts_its_fields_first_and_replaces_an_old_kind() -> None:
    from feederopt._version import SCHEMA_VERSION, stamped

    doc = stamped("partition", {"kind": "old", "blocks": []})
    assert doc == {"kind": "partition", "schema_version": SCHEMA_VERSION,
                   "feederopt_version": feederopt.__version__, "blocks": []}


def test_old_files_without_the_stamp_are_read(solved: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    doc = json.loads((solved / "result.json").read_text())
    for key in STAMP:
        doc.pop(key)
    for name in ("buses.parquet", "branches.parquet", "switches.parquet"):
        (old / name).write_bytes((solved / name).read_bytes())
    (old / "result.json").write_text(json.dumps(doc, indent=2))
    assert read_result(old / "result.json")["open_branches"] == doc["open_branches"]
    res = CliRunner().invoke(app, ["report", str(old), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert "<html" in (tmp_path / "r.html").read_text().lower()
