"""``feederopt report RESULT --out FEEDER.dss --force`` replaced the feeder the result was
solved from with the HTML page (user test ut_3ph #9: the three-phase result.json recorded no
source path). The result now records it, and no output replaces it, even with --force."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli.app import app

SRC = (Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss"
       / "network.ieee13mod.dss")


def test_report_refuses_to_write_onto_the_solved_feeder(tmp_path: Path) -> None:
    feeder = tmp_path / "feeder.dss"
    shutil.copy(SRC, feeder)
    before = feeder.read_bytes()
    out = tmp_path / "res"
    runner = CliRunner()
    res = runner.invoke(app, ["solve", str(feeder), "--out", str(out), "--time-limit", "60",
                              "-q"])
    assert res.exit_code in (0, 4), res.output
    assert json.loads((out / "result.json").read_text())["source"] == str(feeder.resolve())
    res = runner.invoke(app, ["report", str(out), "--out", str(feeder), "--force"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and feeder.read_bytes() == before
    res = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "page.html")])
    assert res.exit_code == 0, res.output
