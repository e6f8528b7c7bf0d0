"""Scenario weights that do not sum to 1 are normalised (the file format says so), and the
solve now says it did (user test ut_unc: weights 3 and 1 were taken as 0.75 and 0.25 without
a word). Truth: the weights written here, summed and divided by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.io.scenarios import write_scenarios

sys.path.insert(0, str(Path(__file__).parent))
from test_cli_solve import ring


def _files(tmp_path: Path, weights: tuple[float, float]) -> tuple[Path, Path]:
    net = ring(tie="b")
    rows = []
    for (name, scale), w in zip((("low", 0.9), ("high", 1.1)), weights, strict=True):
        for row in net.loads.iter_rows(named=True):
            rows.append({"scenario": name, "kind": "load", "element": row["id"],
                         "p_mw": row["p_mw"] * scale, "q_mvar": row["q_mvar"] * scale,
                         "weight": w})
    return (write_folder(net, tmp_path / "n"),
            write_scenarios(pl.DataFrame(rows), tmp_path / f"s{weights[0]}.csv"))


@pytest.mark.parametrize("weights", [(3.0, 1.0), (0.75, 0.25)])
def test_normalised_weights_are_said(tmp_path: Path, weights: tuple[float, float]) -> None:
    import json

    net, scen = _files(tmp_path, weights)
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, [
        "solve", str(net), "--scenarios", str(scen), "--no-ac-check", "--workers", "1",
        "--json", str(out)])
    assert res.exit_code == 0, res.output
    total = sum(weights)
    doc = json.loads(out.read_text())
    assert doc["stochastic"]["given_weight_sum"] == pytest.approx(total)
    shares = {s["scenario"]: s["weight"] for s in doc["scenarios"]}
    assert shares == pytest.approx({"low": weights[0] / total, "high": weights[1] / total})
    said = f"the scenario weights summed to {total:g}" in res.output
    assert said is (total != 1.0)
