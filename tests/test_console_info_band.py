"""ut_core2 #8: the command line's tables are not cut at 80 columns in a log (stdout no
terminal); ``info`` says whether the base case's AC voltages keep the band a solve holds
(checked against pandapower's own power flow of the net); the voltage profile draws the band."""

from __future__ import annotations

import io
import json

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.cli.app import PLAIN_WIDTH, console
from netbuild import tiny


def test_console_width_off_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert console(io.StringIO()).width == PLAIN_WIDTH == 120
    monkeypatch.setenv("COLUMNS", "150")
    assert console(io.StringIO()).width == 150


def test_info_rows_not_cut_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The devices row of case33bw is 70 characters: at 80 columns it wrapped onto two lines."""
    monkeypatch.delenv("COLUMNS", raising=False)
    res = CliRunner().invoke(app, ["info", "case33bw"])
    assert res.exit_code == 0, res.output
    assert "0 capacitor banks, 0 OLTCs, 0 committable generators, 0 flexible loads" in res.output
    assert max(len(line) for line in res.output.splitlines()) > 80


def _pandapower_low_buses(net: pp.pandapowerNet, v_min: float) -> dict[str, float]:
    pp.runpp(net)
    vm = net.res_bus["vm_pu"]
    return {str(k): float(v) for k, v in vm.items() if v < v_min - 1e-4}


def test_info_says_base_case_breaks_band(tmp_path: object, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    net = pn.case33bw()
    net.bus["min_vm_pu"] = 0.95
    path = f"{tmp_path}/low.json"
    pp.to_json(net, path)
    low = _pandapower_low_buses(net, 0.95)
    assert len(low) > 3  # case33bw's far ends are near 0.913 p.u.
    res = CliRunner().invoke(app, ["info", path, "--json"])
    assert res.exit_code == 0, res.output
    band = json.loads(res.stdout)["base_voltage_limits"]
    assert band["within"] is False and band["above_v_max"] == []
    assert {str(r["id"]) for r in band["below_v_min"]} == set(low)
    worst = min(low, key=lambda b: low[b])
    assert str(band["below_v_min"][0]["id"]) == worst
    assert band["below_v_min"][0]["value"] == pytest.approx(low[worst], abs=1e-9)
    text = CliRunner().invoke(app, ["info", path]).output
    assert (f"breaks them: {len(low)} bus(es) below v_min (worst bus {worst}: "
            f"{low[worst]:.4f} < 0.9500 p.u.)") in text
    assert "the base case already breaks the voltage limits" in text


def test_info_within_band() -> None:
    net = pn.case33bw()
    assert not _pandapower_low_buses(net, 0.9)  # pandapower: 0.913 p.u. at worst
    res = CliRunner().invoke(app, ["info", "case33bw", "--json"])
    band = json.loads(res.stdout)["base_voltage_limits"]
    assert band["within"] is True and band["below_v_min"] == band["above_v_max"] == []
    assert "within 0.9000 - 1.1000 p.u." in CliRunner().invoke(app, ["info", "case33bw"]).output


def test_voltage_profile_draws_band() -> None:
    from feederopt.report.plot import voltage_profile_figure

    net = tiny()
    result = feederopt.solve(net, time_limit=20, v_min=0.93, v_max=1.04)
    buses = result.buses
    # the source's bus holds its set-point (the options leave it: ut33_dopf #3)
    v_set = dict(zip(net.buses["id"], net.buses["v_set_pu"], strict=True))
    source = dict(zip(net.buses["id"], net.buses["is_source"], strict=True))
    assert buses["v_min_pu"].to_list() == [v_set[b] if source[b] else 0.93
                                           for b in buses["id"]]
    assert buses["v_max_pu"].to_list() == [v_set[b] if source[b] else 1.04
                                           for b in buses["id"]]
    ax = voltage_profile_figure(buses).axes[0]
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    levels = sorted({float(v) for ln in dashed for v in np.unique(ln.get_ydata())})
    assert levels == sorted({0.93, 1.04, *(v_set[b] for b in v_set if source[b])})
    assert "v_min / v_max (limits held)" in [t.get_text() for t in ax.get_legend().get_texts()]
    # a table without the columns (a result folder written before them): no band
    old = buses.drop("v_min_pu", "v_max_pu")
    assert not [ln for ln in voltage_profile_figure(old).axes[0].get_lines()
                if ln.get_linestyle() == "--"]
    assert isinstance(old, pl.DataFrame)
