"""A scenario run's and a robust run's ``--out`` folder holds its per-scenario (per extreme
point) table: ``scenarios.parquet`` and ``extreme_points.parquet`` (user test ut39_uncert #2).
Before, those rows were only in result.json and report.html.

Truth: the rows equal result.json's ``scenarios`` (``robust``) figures key by key, and one
scenario's and one extreme point's AC losses equal pandapower's own ``runpp`` of the 9-bus
feeder with that scenario's loads (a load row replaces the load's demand, a bus row adds a
load there: README) or that extreme point's (nominal x (1 + u X) on the uncertain loads) and the
result's lines out of service. The columns are those docs/columns.md documents."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

SCENARIOS = pl.DataFrame({
    "scenario": ["base", "peak", "peak", "peak"],
    "kind": ["load", "load", "load", "bus"],
    "element": ["load:0", "load:1", "load:4", "8"],
    "p_mw": [0.8, 1.3, 1.2, -0.5],
    "q_mvar": [0.3, 0.5, 0.4, 0.0],
    "weight": [0.6, 0.4, 0.4, 0.4],
})
X, UNCERTAIN = 0.2, ["load:1", "load:4"]


def ac_losses_kw(net: Any, open_ids: list[str]) -> float:
    """pandapower's line losses [kW] of ``net`` with the lines ``open_ids`` out of service."""
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    opened = {int(b.split(":")[1]) for b in open_ids}
    net.line["in_service"] = [i not in opened for i in net.line.index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, tolerance_mva=1e-10)
    return float(net.res_line.pl_mw.sum() * 1000)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    tmp = tmp_path_factory.mktemp("ut39_tables")
    net = nine_bus_pandapower()
    grid = tmp / "net9.json"
    pp.to_json(net, str(grid))
    SCENARIOS.write_csv(tmp / "sc.csv")
    sc, rob = tmp / "sc", tmp / "rob"
    for out, extra in ((sc, ["--scenarios", str(tmp / "sc.csv")]),
                       (rob, ["--robust", str(X), "--uncertain-loads", ",".join(UNCERTAIN)])):
        res = runner.invoke(app, ["solve", str(grid), *extra, "--workers", "1", "--out",
                                  str(out), "-q"])
        assert res.exit_code == 0, res.output
    return net, sc, rob


def same_as_json(table: pl.DataFrame, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Each row of ``table`` holds its JSON row's figures: ``X`` its key, ``ac_X`` ``ac.X``,
    ``ac_limits_broken`` the number of ``ac.violations``, ``source_bus`` and ``source_vm_pu``
    the keys and values of a scenario's ``source_vm_pu`` mapping, null for an extreme point
    without one (no source band; docs/columns.md)."""
    assert table.height == len(rows) > 0
    for got, row in zip(table.to_dicts(), rows, strict=True):
        for k in keys:
            assert got[k] == row[k], k
        for col, value in got.items():
            held = row.get("source_vm_pu")  # an extreme point's only with a source band
            if col == "source_bus":
                assert value == (None if held is None else list(held))
            elif col == "source_vm_pu":
                assert value == (None if held is None else list(held.values()))
            elif col == "ac_limits_broken":
                assert value == len(row["ac"]["violations"])
            elif col.startswith("ac_"):
                assert value == row["ac"][col.removeprefix("ac_")], col
            else:
                assert value == row[col], col


def test_scenarios_parquet_holds_the_json_rows_and_pandapowers_ac_losses(folders) -> None:
    net, sc, _ = folders
    doc = json.loads((sc / "result.json").read_text())
    table = pl.read_parquet(sc / "scenarios.parquet")
    same_as_json(table, doc["scenarios"], ["scenario", "weight", "losses_kw"])
    assert set(table.columns) >= {"scenario", "weight", "losses_kw", "violation_pu",
                                  "ac_losses_kw", "ac_min_voltage_pu", "ac_max_voltage_pu",
                                  "ac_max_loading_percent", "ac_within_limits",
                                  "relaxation_gap"}
    # the peak scenario in pandapower itself
    peak = copy.deepcopy(net)
    for r in SCENARIOS.filter(pl.col("scenario") == "peak").to_dicts():
        if r["kind"] == "load":
            i = int(r["element"].split(":")[1])
            peak.load.loc[i, ["p_mw", "q_mvar"]] = [r["p_mw"], r["q_mvar"]]
        else:
            pp.create_load(peak, int(r["element"]), p_mw=r["p_mw"], q_mvar=r["q_mvar"])
    row = table.filter(pl.col("scenario") == "peak").to_dicts()[0]
    truth = ac_losses_kw(peak, [b["id"] for b in doc["open_branches"]])
    assert row["ac_losses_kw"] == pytest.approx(truth, rel=1e-6)
    assert row["weight"] == pytest.approx(0.4)
    # read back with the folder's other tables
    back = feederopt.read_result(sc, tables=True)
    assert back.other_tables["scenarios"].equals(table)
    assert not (sc / "extreme_points.parquet").exists()
    # the folder's manifest lists it: --force replaces it as feederopt's own
    assert "scenarios.parquet" in (sc / ".feederopt-files").read_text().split()


def test_extreme_points_parquet_holds_the_json_rows_and_pandapowers_ac_losses(folders) -> None:
    net, _, rob = folders
    doc = json.loads((rob / "result.json").read_text())
    table = pl.read_parquet(rob / "extreme_points.parquet")
    same_as_json(table, doc["robust"], ["vertex", "u", "losses_kw"])
    assert doc["robust_summary"]["uncertain_loads"] == UNCERTAIN
    row = table.filter(pl.col("ac_losses_kw").is_not_null()).to_dicts()[-1]
    corner = copy.deepcopy(net)
    for load, sign in zip(UNCERTAIN, row["u"], strict=True):
        i = int(load.split(":")[1])
        corner.load.loc[i, ["p_mw", "q_mvar"]] *= 1 + sign * X
    truth = ac_losses_kw(corner, [b["id"] for b in doc["open_branches"]])
    assert row["ac_losses_kw"] == pytest.approx(truth, rel=1e-6)
    back = feederopt.read_result(rob, tables=True)
    assert back.other_tables["extreme_points"].equals(table)
    assert not (rob / "scenarios.parquet").exists()


def test_every_column_is_documented_and_the_folder_files_are_registered() -> None:
    from feederopt.io.writing import FOLDER_FILES
    from feederopt.results.uncertain_tables import EXTREME_POINT_SCHEMA, SCENARIO_SCHEMA

    text = (ROOT / "docs" / "columns.md").read_text()
    for name in [*SCENARIO_SCHEMA, *EXTREME_POINT_SCHEMA]:
        assert f"| `{name}` |" in text, name
    # each run guards the table it writes, and only that one: a plain solve writes neither, so
    # a user's own scenarios.parquet beside its result is no reason to refuse it (fix-inputs)
    from feederopt.results.uncertain_tables import EXTREME_POINTS_FILE, SCENARIOS_FILE

    tables = {SCENARIOS_FILE, EXTREME_POINTS_FILE}
    for report in ("", "_report"):
        assert not tables & set(FOLDER_FILES[f"solve{report}"])
        assert set(FOLDER_FILES[f"solve_scenarios{report}"]) & tables == {SCENARIOS_FILE}
        assert set(FOLDER_FILES[f"solve_robust{report}"]) & tables == {EXTREME_POINTS_FILE}
