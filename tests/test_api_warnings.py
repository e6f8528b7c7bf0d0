"""The network's warnings travel with the result (user test ut_api #6): a misspelt
``normaly_open`` column is ignored, so the tie counts as closed; the warning that says so was
only in ``net.warnings()``, not in the Result, its JSON or its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from netbuild import tiny

runner = CliRunner()


@pytest.fixture()
def misspelt(tmp_path: Path) -> Path:
    folder = tmp_path / "misspelt"
    write_folder(tiny(), folder, fmt="csv")
    csv = folder / "branches.csv"
    head, rest = csv.read_text().split("\n", 1)
    assert "normally_open" in head
    csv.write_text(head.replace("normally_open", "normaly_open") + "\n" + rest)
    return folder


def _has_warning(notes: object) -> bool:
    return isinstance(notes, list) and any(
        "normaly_open" in n and "normally_open" in n for n in notes)


def test_warnings_reach_the_result_json_and_report(misspelt: Path, tmp_path: Path) -> None:
    net = feederopt.load(misspelt)
    assert any(w.field == "normaly_open" for w in net.warnings())
    r = feederopt.solve(net, time_limit=20, ac_check=False)
    assert _has_warning(r.extra.get("notes"))
    assert _has_warning(json.loads(r.to_json()).get("notes"))
    out = feederopt.save(r, tmp_path / "res")
    assert "normaly_open" in (out / "report.html").read_text()


def test_the_cli_json_has_the_warnings(misspelt: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(misspelt), "--json", str(out), "--quiet",
                              "--time-limit", "20", "--no-ac-check"])
    assert res.exit_code == 0, res.output
    assert _has_warning(json.loads(out.read_text()).get("notes"))
