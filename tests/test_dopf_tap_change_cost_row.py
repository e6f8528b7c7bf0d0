"""The tap-change cost of a DOPF is its own part of the costs, not switching (user test
ut46_dopf #3: case70da_khodr with ``tap_cost_kw`` 5 on its two source OLTCs read "switching
30 kW" with no branch action costed). ``costs.switching_*`` is the branch actions alone,
``costs.tap_changes_*`` the OLTC moves, in the console's "Costs" table ("tap changes"), the
JSON and the report.

Reference: hand counts on the answer: the branch actions (switches whose state changed) times
``switch_cost_kw``, the OLTC's positions away from ratio 1 (``|ratio - 1| / tap_step_pu``)
times ``tap_cost_kw``; money per hour = kW x loss price / 1000.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from dopf_grid import device_tables
from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.network import Network

SWITCH_KW, TAP_KW, STEP = 0.5, 0.05, 0.025


def test_tap_changes_are_their_own_cost_row(tmp_path: Path) -> None:
    t = device_tables(tap_cost=TAP_KW)
    t["branches"] = t["branches"].with_columns(pl.lit(SWITCH_KW).alias("switch_cost_kw"))
    # loads x3: the source OLTC moves up (low voltages), and the tie is closed
    t["loads"] = t["loads"].with_columns(pl.col("p_mw") * 3, pl.col("q_mvar") * 3)
    folder = write_folder(Network.from_tables(**t, name="taps").check(), tmp_path / "g")
    out = tmp_path / "r"
    res = CliRunner().invoke(
        app, ["solve", str(folder), "--out", str(out), "--report", "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "result.json").read_text())
    costs = d["costs"]
    lam = costs["loss_price_per_mwh"]
    oltc = next(x for x in d["devices"] if x["kind"] == "oltc")
    moved = round(abs(oltc["ratio_pu"] - 1.0) / STEP)
    actions = pl.read_parquet(out / "switches.parquet")["changed"].sum()
    assert moved > 0 and actions > 0  # both parts are there
    assert costs["switching_kw"] == pytest.approx(SWITCH_KW * actions)
    assert costs["tap_changes_kw"] == pytest.approx(TAP_KW * moved)
    assert costs["tap_changes_per_h"] == pytest.approx(TAP_KW * moved * lam / 1000)
    assert costs["total_per_h"] == pytest.approx(
        sum(costs[k] for k in ("losses_per_h", "dg_per_h", "import_per_h",
                               "flexibility_per_h", "switching_per_h", "tap_changes_per_h")))
    text = " ".join(res.output.split())
    assert f"switching │ {SWITCH_KW * actions * lam / 1000:.4f}" in text
    assert f"tap changes │ {TAP_KW * moved * lam / 1000:.4f}" in text
    assert "tap_changes_per_h" in (out / "report.html").read_text()
