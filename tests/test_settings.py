"""result.json's ``settings`` and the report's summary record the limits and the search
settings a result was found under (user test ut_research #2): the values given on the command
line, or the network's own voltage band."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.folder import write_folder
from test_cli_solve import ring

runner = CliRunner()


def test_settings_from_options(tmp_path: Path) -> None:
    src = write_folder(ring(), tmp_path / "ring")
    out = tmp_path / "r"
    res = runner.invoke(app, ["solve", str(src), "--out", str(out), "--report", "--quiet",
                              "--v-min", "0.91", "--v-max", "1.04", "--gap", "0.002",
                              "--time-limit", "30", "--no-thermal-limits",
                              "--radiality", "flow"])
    assert res.exit_code == 0, res.output
    st = json.loads((out / "result.json").read_text())["settings"]
    assert st["v_min_pu"] == 0.91 and st["v_max_pu"] == 1.04
    assert st["voltage_band_from"] == "options"
    assert st["thermal_limits"] is False and st["max_loading_percent"] is None
    assert st["gap"] == 0.002 and st["time_limit_s"] == 30.0
    assert st["method"] == "benders" and st["radiality"] == "flow" and st["ac_check"] is True
    html = (out / "report.html").read_text()
    assert "0.9100 p.u. - 1.0400 p.u., from the options" in html
    assert "not held (--no-thermal-limits)" in html and "0.2 %" in html


def test_settings_from_the_network_per_bus(tmp_path: Path) -> None:
    """Bus limits that differ: the range over the buses the model holds to them; the source's
    bus (10, fixed at its set-point) is none of them, so its own 1.0..1.0 band is left out (it
    made case33bw's row read "V 0.9000..1.0000 - 1.0000..1.1000 p.u."); a rated branch:
    ratings held."""
    net = ring()
    net = net.replace(
        buses=net.buses.with_columns(
            pl.Series("v_min_pu", [1.0, 0.9, 0.95, 0.9]),
            pl.Series("v_max_pu", [1.0, 1.05, 1.05, 1.05])),
        branches=net.branches.with_columns(pl.Series("i_max_ka", [1.0, None, None, None],
                                                     dtype=pl.Float64)))
    src = write_folder(net, tmp_path / "ring")
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(src), "--json", str(out), "--max-loading", "120"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    st = json.loads(out.read_text())["settings"]
    assert st["v_min_pu"] == {"min": 0.9, "max": 0.95} and st["v_max_pu"] == 1.05
    assert st["voltage_band_from"] == "network"
    assert st["thermal_limits"] is True and st["rated_branches"] == 1
    assert st["max_loading_percent"] == 120.0
    assert st["gap"] == 1e-4 and st["time_limit_s"] == 600.0
    assert "V 0.9000..0.9500 - 1.0500 p.u.; ratings held at 120 %" in res.output
