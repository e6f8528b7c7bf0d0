"""``feederopt solve`` on small grids: JSON keys, output folder, infeasible exit code.

The 4-bus ring below has one source and one loop of four branches, so there are exactly four
radial configurations; the expected open branch is found here by evaluating each of them with
pandapower's AC power flow (independent physics), not with feederopt's optimiser.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.network import Network
from feederopt.validation.ac import ac_power_flow

runner = CliRunner()

SOLVE_KEYS = {
    "case", "method", "status", "objective", "losses_kw", "lower_bound", "gap", "iterations",
    "solve_time_s", "open_branches", "min_voltage_pu", "max_voltage_pu", "ac_check",
}
AC_KEYS = {"converged", "losses_kw", "min_voltage_pu", "max_voltage_pu", "max_voltage_diff_pu"}


def ring(load_scale: float = 1.0, tie: str = "c") -> Network:
    buses = pl.DataFrame({
        "id": ["10", "11", "12", "13"],
        "vn_kv": [12.66] * 4,
        "is_source": [True, False, False, False],
    })
    branches = pl.DataFrame({
        "id": ["a", "b", "c", "d"],
        "from_bus": ["10", "11", "12", "13"],
        "to_bus": ["11", "12", "13", "10"],
        "r_ohm": [0.5, 1.2, 0.4, 2.0],
        "x_ohm": [0.4, 0.9, 0.3, 1.5],
        "switchable": [True] * 4,
        "normally_open": [k == tie for k in "abcd"],
    })
    loads = pl.DataFrame({
        "id": ["l1", "l2", "l3"],
        "bus": ["11", "12", "13"],
        "p_mw": [0.8 * load_scale, 1.0 * load_scale, 0.6 * load_scale],
        "q_mvar": [0.4 * load_scale, 0.5 * load_scale, 0.3 * load_scale],
    })
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="ring",
                               integer_ids=True).check()


@pytest.fixture
def ring_dir(tmp_path: Path) -> Path:
    return write_folder(ring(), tmp_path / "ring")


def test_solve_json_has_the_documented_keys(ring_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(ring_dir), "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert set(doc) >= SOLVE_KEYS
    assert set(doc["ac_check"]) >= AC_KEYS
    assert doc["status"] == "optimal"
    # Brute force with the AC power flow: open each branch in turn.
    net = ring()
    losses = []
    for k in range(4):
        closed = np.ones(4, dtype=bool)
        closed[k] = False
        losses.append(ac_power_flow(net, closed).losses_kw)
    best = int(np.argmin(losses))
    assert [b["id"] for b in doc["open_branches"]] == ["abcd"[best]]
    assert doc["ac_check"]["losses_kw"] == pytest.approx(losses[best], rel=1e-6)
    assert doc["losses_kw"] == pytest.approx(losses[best], rel=1e-3)
    # Bus ids are strings, as in the tables, although the input numbers them (user test
    # ut_api #8: one type per result).
    assert all(isinstance(b["from_bus"], str) for b in doc["open_branches"])


def test_solve_out_dir_is_written_and_never_overwritten(ring_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["solve", str(ring_dir), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"result.json", "buses.parquet", "branches.parquet", "switches.parquet",
            "grid.png"} <= names
    marker = out / "mine.txt"
    marker.write_text("keep")
    res = runner.invoke(app, ["solve", str(ring_dir), "--out", str(out), "--quiet"])
    assert res.exit_code == 2
    assert "exists" in res.output and "Traceback" not in res.output
    assert marker.read_text() == "keep"
    res = runner.invoke(app, ["solve", str(ring_dir), "--out", str(out), "--quiet", "--force"])
    assert res.exit_code == 0, res.output
    assert marker.read_text() == "keep"  # --force replaces feederopt's files, not the user's


def test_infeasible_grid_exits_3_with_a_diagnosis(tmp_path: Path) -> None:
    folder = write_folder(ring(load_scale=6.0), tmp_path / "heavy")
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(folder), "--json", str(out)])
    assert res.exit_code == 3, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "infeasible"
    assert doc["diagnosis"]
    assert "Traceback" not in res.output


def test_bad_options_exit_2(ring_dir: Path) -> None:
    res = runner.invoke(app, ["solve", str(ring_dir), "--method", "magic"])
    assert res.exit_code == 2
    assert "method" in res.output
    res = runner.invoke(app, ["solve", str(ring_dir), "--method", "misocp", "--solver", "nope"])
    assert res.exit_code == 2
    assert "solver" in res.output


def test_switching_cost_keeps_the_base_case_when_it_outweighs_the_savings(
    tmp_path: Path,
) -> None:
    # Base case: tie b open. Without a switching cost the optimum opens c instead (AC brute
    # force below); a cost per action above the possible saving keeps b open.
    net = ring(tie="b")
    losses = {}
    for k, name in enumerate("abcd"):
        closed = np.ones(4, dtype=bool)
        closed[k] = False
        losses[name] = ac_power_flow(net, closed).losses_kw
    assert min(losses, key=losses.get) == "c"
    folder = write_folder(net, tmp_path / "ring_b")
    for cost, expected in ((0.0, "c"), (2 * losses["b"], "b")):
        out = tmp_path / f"r{cost}.json"
        res = runner.invoke(app, ["solve", str(folder), "--json", str(out), "--quiet",
                                  "--switch-cost", str(cost)])
        assert res.exit_code == 0, res.output
        doc = json.loads(out.read_text())
        assert [b["id"] for b in doc["open_branches"]] == [expected]
    # Two actions (close b, open c) were not worth it: objective = losses, no switching.
    assert doc["objective"] == pytest.approx(doc["losses_kw"], rel=1e-6)
