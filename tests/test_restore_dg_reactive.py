"""The backup DG's reactive dispatch is reported (user test ut35 resil #3): result.json had
``operation.dg_output_kw`` only, buses.parquet ``p_backup_dg_kw`` but no reactive column, the
report and the console neither, though the model dispatches the DG's Q (here 250 kvar) and the
AC check injects it.

Truth: the test's own pandapower power flow of the user's net (the ut35 own9 feeder of
``mknet.py``) with the restoration applied by hand (:func:`resilience_ops.operated`) and the DG
an sgen at the reported P and Q reproduces the tool's AC voltages (``vm_ac_pu``); without the Q
it does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from resilience_ops import operated, own9


def _vm(net: pp.pandapowerNet, op: dict, dg_kvar: dict[str, float], broken: list[str]
        ) -> dict[str, float]:
    """pandapower's voltages with the operation ``op`` (result.json's) applied by hand and
    each backup DG an sgen at its reported P and the Q ``dg_kvar``."""
    r = SimpleNamespace(operation=SimpleNamespace(**op), broken=broken)
    own = operated(net, r)
    for bus, kw in op["dg_output_kw"].items():
        pp.create_sgen(own, int(bus), p_mw=kw / 1e3, q_mvar=dg_kvar.get(bus, 0.0) / 1e3)
    pp.runpp(own, numba=False, tolerance_mva=1e-9)
    return {str(i): float(v) for i, v in own.res_bus.vm_pu.items()}


def test_the_dgs_reported_p_and_q_reproduce_the_ac_voltages(tmp_path: Path) -> None:
    net = own9()
    src = tmp_path / "own9.json"
    pp.to_json(net, str(src))
    out = tmp_path / "r1"
    res = CliRunner().invoke(app, [
        "restore", str(src), "--broken", "line:1,line:6", "--dg-sites", "3",
        "--dg-size", "250", "--out", str(out)], env={"COLUMNS": "400"})
    # exit 4: the AC check has V below v_min at 7 and 8 and line:9 over its rating (the
    # lossless model's operation; ut41_cli #2: a broken limit is exit code 4, as solve's)
    assert res.exit_code == 4, res.output
    doc = json.loads((out / "result.json").read_text())
    op = doc["operation"]
    assert set(op["dg_output_kvar"]) == set(op["dg_output_kw"]) == {"3"}
    kvar = op["dg_output_kvar"]["3"]
    assert 0.0 <= kvar <= 250.0 + 1e-6  # within the DG's Q size
    buses = pl.read_parquet(out / "buses.parquet")
    at3 = buses.filter(pl.col("id") == "3")
    assert at3["q_backup_dg_kvar"][0] == pytest.approx(kvar, abs=1e-6)
    assert at3["p_backup_dg_kw"][0] == pytest.approx(op["dg_output_kw"]["3"], abs=1e-6)
    assert buses.filter(pl.col("id") != "3")["q_backup_dg_kvar"].to_list() == [0.0] * 8
    # the independent AC power flow with the reported P and Q gives the tool's AC voltages
    tool = dict(zip(buses["id"].to_list(), buses["vm_ac_pu"].to_list(), strict=True))
    mine = _vm(net, op, op["dg_output_kvar"], doc["broken"])
    for bus, v in tool.items():
        assert mine[bus] == pytest.approx(v, abs=1e-6), bus
    # ... and without the Q it does not: the Q reported is the one the AC check ran
    without = _vm(net, op, {}, doc["broken"])
    assert max(abs(without[b] - v) for b, v in tool.items()) > 1e-3
    # the console and the report show it; read_result gives both back
    shown = f"3: {op['dg_output_kw']['3']:,.2f} kW, {kvar:,.2f} kvar"
    assert shown in res.output
    assert shown in (out / "report.html").read_text()
    folder = feederopt.read_result(out, tables=True)
    assert folder.result["operation"]["dg_output_kvar"] == {"3": kvar}
    assert folder.buses is not None and folder.buses.equals(buses)


def test_a_result_written_before_the_field_still_reports() -> None:
    """A result.json without ``dg_output_kvar`` (schema version 1 before it) shows the kW."""
    assert feederopt.dg_output_text({"dg_output_kw": {"3": 100.0}}) == "3: 100.00 kW"
    assert feederopt.dg_output_text({}) == "-"
