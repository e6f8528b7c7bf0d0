"""Totals count only in-service elements: the nominal demand that ``scenarios`` prints, and the
three-phase summary's transformers, regulators and shunts."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load_three_phase
from feederopt.cli import app

runner = CliRunner()
STD = "NA2XS2Y 1x185 RM/25 12/20 kV"


def _net_with_an_out_of_service_load(path: Path) -> float:
    """A 4-bus feeder with three loads in service and a 5 MW one out of service, as JSON;
    returns pandapower's own in-service demand (p_mw x scaling of loads in service) [MW]."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    for x in range(3):
        pp.create_line(net, b[x], b[x + 1], 2.0, STD)
    for k, p in enumerate((1.0, 1.5, 0.8)):
        pp.create_load(net, b[k + 1], p_mw=p, q_mvar=0.2 * p)
    pp.create_load(net, b[3], p_mw=5.0, q_mvar=1.0, name="ld_oos", in_service=False)
    pp.to_json(net, str(path))
    pp.runpp(net)
    served = float(net.res_load.p_mw.sum())  # pandapower gives an out-of-service load 0 MW
    ld = net.load[net.load.in_service]
    assert served == pytest.approx(float((ld.p_mw * ld.scaling).sum()))
    return served


def test_scenarios_prints_the_in_service_nominal_demand(tmp_path: Path) -> None:
    src = tmp_path / "net.json"
    served = _net_with_an_out_of_service_load(src)
    out = runner.invoke(app, ["scenarios", str(src), "--out", str(tmp_path / "s.csv"),
                              "--count", "3"])
    assert out.exit_code == 0, out.output
    nominal = float(re.search(r"\(nominal ([0-9.]+) MW\)", out.output).group(1))
    assert nominal == pytest.approx(served, abs=1e-3)
    info = runner.invoke(app, ["info", str(src), "--json"])
    assert json.loads(info.stdout)["total_load_mw"] == pytest.approx(served, abs=1e-9)


def test_three_phase_summary_leaves_out_of_service_transformers_out() -> None:
    net = load_three_phase("ieee37")
    before = net.summary()
    tr = net.transformers.with_columns(
        pl.when(pl.col("id") == "reg1c").then(False).otherwise(pl.col("in_service"))
        .alias("in_service"))
    s = dataclasses.replace(net, tables={**net.tables, "transformers": tr}).summary()
    assert before["regulators"] == 2 and s["regulators"] == 1
    assert s["transformers"] == before["transformers"] - 1
    assert s["branches"] == before["branches"] - 1
