"""``solve --scenarios FILE`` records FILE in result.json (``scenarios_file``), so that
``feederopt report --out FILE --force`` refuses to write over it (before: the solve result
did not name its scenario file, and the page replaced it).

Truth: the scenario file's bytes on disk, before and after."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from test_scenario_weight_sum import _files


def test_the_scenario_file_of_a_solve_is_not_written_over(tmp_path: Path) -> None:
    net, scen = _files(tmp_path, (0.5, 0.5))
    runner = CliRunner(env={"COLUMNS": "240"})
    res = runner.invoke(app, ["solve", str(net), "--scenarios", str(scen), "--no-ac-check",
                              "--workers", "1", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    assert Path(doc["scenarios_file"]) == scen.resolve()

    before = scen.read_bytes()
    res = runner.invoke(app, ["report", str(tmp_path / "out"), "--out", str(scen), "--force"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert scen.read_bytes() == before
