"""User test ut49_sched #5: result.json's ``series.substation_p_mw`` is the purchase without
the losses while setpoints.csv's ``substation_p_mw`` is the import with them. The series now
also hold ``purchase_p_mw`` (setpoints.csv's name for the purchase; ``substation_p_mw`` kept
as its alias) and setpoints.csv also ``import_p_mw`` (the series' name for the import), so
``purchase_p_mw`` and ``import_p_mw`` mean the same in both files. Truth apart from the
model: pandapower's AC power flow at the same set-points (the check's ext_grid import and
losses) and the feeder's hourly balance from the set-points (demand + storage charging -
discharging + EV - DG - PV/wind): the import is that plus the AC losses, the purchase is it
without them (tolerance 25 % of the AC losses, the model's piecewise-linear losses against
the AC ones)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app


def test_purchase_and_import_have_one_name_each_across_the_files(tmp_path: Path) -> None:
    out = tmp_path / "s"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "2", "--time-limit", "30",
                                 "--out", str(out)], env={"COLUMNS": "240"})
    assert r.exit_code == 0, r.output
    table = pl.read_csv(out / "setpoints.csv")
    series = json.loads((out / "result.json").read_text())["series"]
    doc = json.loads((out / "result.json").read_text())
    folder, _ = schedule_paths("case33bw")
    ids = {k: pl.read_csv(folder / f"{k}.csv", infer_schema_length=0)["id"].to_list()
           for k in ("dg", "ess", "pv", "wind", "ev")}
    for h, ac in enumerate(doc["ac_check"][:2]):
        assert ac["converged"] and ac["losses_ac_mw"] > 1e-3
        row = table.row(h, named=True)
        net_demand = (series["demand_mw"][h]
                      + sum(v for k, v in row.items() if k.startswith("dsm_bus"))
                      + sum(row[f"{i}_charge_mw"] - row[f"{i}_discharge_mw"]
                            for i in ids["ess"])
                      + sum(row[f"{i}_charging_mw"] for i in ids["ev"])
                      - sum(row[f"{i}_p_mw"] for i in ids["dg"] + ids["pv"] + ids["wind"]))
        tol = 0.25 * ac["losses_ac_mw"]
        # the purchase, without the losses: the same name and value in both files
        assert series["purchase_p_mw"][h] == pytest.approx(net_demand, abs=tol)
        assert row["purchase_p_mw"] == pytest.approx(series["purchase_p_mw"][h], abs=1e-9)
        # the import, with the losses: pandapower's ext_grid import, one name in both files
        assert series["import_p_mw"][h] == pytest.approx(ac["import_ac_mw"], abs=tol)
        assert row["import_p_mw"] == pytest.approx(series["import_p_mw"][h], abs=1e-9)
        assert row["import_p_mw"] - row["purchase_p_mw"] == pytest.approx(
            ac["losses_ac_mw"], abs=tol)
        # the old names keep their meanings (compatibility)
        assert series["substation_p_mw"][h] == series["purchase_p_mw"][h]
        assert row["substation_p_mw"] == row["import_p_mw"]
