"""What the three-phase scenario table's DER column sums (user test ut34_combo #4): on
ieee13mod with its daily shapes the console's "DER kW" read 1352.6 kW in every hour although
the PV rows are 0 at night. It is the model's output of every in-service unit: the PV rows
plus Generator.675, which no row sets, at its snapshot output. The console now names that
unit and shows beside it the units' output in OpenDSS's check, where Generator.675 runs on its
own (voltage-dependent) model.

Reference: OpenDSS itself (opendssdirect), driven here without feederopt: the feeder's file
(its zero-impedance switch lines given OpenDSS's own switch impedance, as ``Switch=y`` has by
default), solved as a snapshot for Generator.675's output, then with the controls off, the
scenario's load rows written into its loads and its PV systems (rows of 0 kW) disabled, the
generating units' output summed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import daily_scenarios
from feederopt.cli import app

DSS = Path(__file__).parents[1] / "src/feederopt/cases/data/opendss/network.ieee13mod.dss"
UNITS = ("generator", "pvsystem", "storage")


def _units_kw() -> float:
    import opendssdirect as dss

    total = 0.0
    for element in dss.Circuit.AllElementNames():
        if element.split(".")[0].lower() in UNITS:
            dss.Circuit.SetActiveElement(element)
            total -= float(np.asarray(dss.CktElement.Powers(), float)[0::2].sum())
    return total


def _opendss(tmp_path: Path, rows: pl.DataFrame) -> tuple[float, float]:
    """Generator.675's snapshot output [kW], and every unit's output [kW] at ``rows``."""
    import opendssdirect as dss

    here = os.getcwd()  # OpenDSS's compile moves the process into the file's folder
    try:
        return _solve_opendss(dss, tmp_path, rows)
    finally:
        os.chdir(here)


def _solve_opendss(dss: Any, tmp_path: Path, rows: pl.DataFrame) -> tuple[float, float]:
    text = re.sub(r"(Switch=y\s+)r1=0 r0=0 x1=0(\.0+)? x0=0(\.0+)? c1=0(\.0+)? c0=0(\.0+)?",
                  r"\1", DSS.read_text())
    path = tmp_path / "feeder.dss"
    path.write_text(text)
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Solution.Solve()
    dss.Circuit.SetActiveElement("Generator.675")
    snapshot = -float(np.asarray(dss.CktElement.Powers(), float)[0::2].sum())
    dss.Solution.ControlMode(-1)  # the taps held, as the check holds the model's
    for r in rows.iter_rows(named=True):
        if r["kind"] == "load":
            dss.Text.Command(f"edit Load.{r['element']} kW={1000 * r['p_mw']!r} "
                             f"kvar={1000 * r['q_mvar']!r}")
        else:
            assert r["p_mw"] == 0.0 and r["q_mvar"] == 0.0  # a PV at night
            dss.Text.Command(f"disable {r['element']}")
    dss.Solution.Solve()
    return snapshot, _units_kw()


def test_the_der_columns_say_what_they_sum(tmp_path: Path) -> None:
    table, _ = daily_scenarios("ieee13mod")
    rows = table.filter(pl.col("scenario").is_in(["01:00", "04:00"]))
    night = rows.filter(pl.col("scenario") == "01:00")
    assert night.filter(pl.col("kind") == "generator")["p_mw"].to_list() == [0.0, 0.0]
    path = tmp_path / "day.csv"
    rows.write_csv(path)
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "300"}).invoke(app, [
        "solve", "ieee13mod", "--scenarios", str(path), "--v-min", "0.92", "--v-max", "1.1",
        "--max-loading", "200", "--time-limit", "60", "--json", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["open_switches"] == ["801675"]  # the file's own tie: no switch to operate here
    snapshot_kw, check_kw = _opendss(tmp_path, night)
    sc = doc["scenarios"]
    first = next(r for r in sc["per_scenario"] if r["scenario"] == "01:00")
    # the model: the PV rows (0) plus Generator.675 at its snapshot output
    assert 1000 * first["generation_mw"] == pytest.approx(snapshot_kw, abs=1.0)
    assert sc["units_at_snapshot_mw"].keys() == {"Generator.675"}  # missing before
    assert 1000 * sc["units_at_snapshot_mw"]["Generator.675"] == pytest.approx(snapshot_kw,
                                                                               abs=1.0)
    # OpenDSS's check: Generator.675 on its own model puts out 55 kW more at night
    assert 1000 * first["opendss_generation_mw"] == pytest.approx(check_kw, abs=0.5)
    assert check_kw - snapshot_kw > 40.0
    text = " ".join(res.output.split())
    assert "DER kW OpenDSS" in text
    assert (f"without a row, a unit's snapshot output in every scenario (Generator.675 "
            f"{1000 * sc['units_at_snapshot_mw']['Generator.675']:.1f} kW)") in text
    assert f"{1000 * first['opendss_generation_mw']:.1f}" in text
