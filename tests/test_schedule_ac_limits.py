"""The hourly AC check of ``feederopt schedule`` holds the AC operating point to the limits
(user test ut33_sched #1): each hour's bus voltages against their band and each rated closed
branch against its rating, with the AC check's tolerance of ``solve``
(:data:`feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE`), the verdict naming the hours and
exit code 4 as ``solve``'s for an AC limit break.

Before, the check compared the AC voltages with the model's only (0.005 p.u.): case33bw with
every load at 1.6 times its nominal has the model's V min at 0.9009 p.u. and the AC one at
0.8967 p.u. (0.0042 p.u. apart), and the run ended "validity: all checks hold", exit 0, while
pandapower's own power flow of the schedule has two buses below their 0.9 p.u. minimum.

The truth is pandapower's ``runpp`` of its own case33bw (Baran & Wu), every load scaled by the
profile's factor and the schedule's open lines out of service, independent of feederopt's
network reader, per-unit model and power flow.

Also here: ``--no-ac-check`` says the check was skipped (#2); the report's C&CG log of a robust
run without an iteration (#3) and the purchase cost (#5); the JSON writes 0.0, not -0.0 (#6).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE

ENV = {"COLUMNS": "240"}
TOL_V = AC_LIMIT_TOLERANCE["voltage_pu"]


def _profile(path: Path, factor: float) -> Path:
    """One hour of case33bw's 32 loads (ids 2..33), each at ``factor`` times its nominal."""
    rows = [f"0,{k},{factor}" for k in range(2, 34)]
    path.write_text("time,element,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _runpp(factor: float, open_lines: list[str]) -> object:
    """pandapower's case33bw at ``factor`` times its loads with ``open_lines`` (feederopt's
    ids 1..37 of the lines 0..36) out of service, every other line in service."""
    net = pn.case33bw()
    net.load["p_mw"] *= factor
    net.load["q_mvar"] *= factor
    net.line["in_service"] = [str(i + 1) not in open_lines for i in net.line.index]
    pp.runpp(net, numba=False)
    return net


def _schedule(tmp_path: Path, factor: float, *extra: str) -> tuple[object, dict, str]:
    devices = tmp_path / "devices"
    devices.mkdir(exist_ok=True)
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, [
        "schedule", "case33bw", "--profiles", str(_profile(tmp_path / "p.csv", factor)),
        "--devices", str(devices), "--hours", "1", "--time-limit", "60", "--json", str(out),
        *extra], env=ENV)
    return r, json.loads(out.read_text()), " ".join(r.output.split())


def test_hours_whose_ac_voltages_break_the_band_are_named_and_exit_4(tmp_path: Path) -> None:
    r, res, text = _schedule(tmp_path, 1.6, "--out", str(tmp_path / "folder"))
    assert r.exit_code == 4, r.output
    assert "Traceback" not in r.output
    truth = _runpp(1.6, res["open_lines_by_hour"][0])
    vm = truth.res_bus.vm_pu.to_numpy()
    v_min = truth.bus.min_vm_pu.to_numpy()
    below = {str(b + 1) for b in np.flatnonzero(vm < v_min - TOL_V)}
    assert len(below) >= 2  # the instance breaks the band in AC (0.8967 p.u. at bus 32)
    # the model kept its band: the break is the AC operating point's alone
    assert res["nominal"]["v_min_pu"] >= 0.9 - 1e-6
    hour = res["ac_check"][0]
    named = {v["id"]: v for v in hour["limit_violations"] if v["limit"] == "v_min"}
    assert set(named) == below
    for bus, v in named.items():
        assert v["value"] == pytest.approx(vm[int(bus) - 1], abs=1e-6)
        assert v["rating"] == pytest.approx(0.9)
    assert hour["v_min_ac"] == pytest.approx(vm.min(), abs=1e-6)
    assert res["within_limits"] is False
    assert any("breaks the limits at hour(s) 0" in v for v in res["violations"])
    assert "all checks hold" not in text
    assert "breaks the limits at hour(s) 0" in text and "Exit code 4" in text
    assert f"bus {min(below, key=lambda b: vm[int(b) - 1])}: voltage below its minimum" in text
    # the report: the badge of solve's report for a limit break, the verdict, the hours
    html = (tmp_path / "folder" / "report.html").read_text(encoding="utf-8")
    assert "limits_broken" in html and "breaks the limits at hour(s) 0" in html
    # the purchase cost, as the console and the JSON give it (user test ut33_sched #5)
    cost = f"{res['nominal']['purchase_cost']:,.4f}"
    assert "forecast: purchase cost (each hour&#x27;s price) [$]" in html or \
        "forecast: purchase cost (each hour's price) [$]" in html
    assert cost in html


def test_a_schedule_within_the_band_in_ac_holds(tmp_path: Path) -> None:
    r, res, text = _schedule(tmp_path, 1.5)
    assert r.exit_code == 0, r.output
    truth = _runpp(1.5, res["open_lines_by_hour"][0])
    assert (truth.res_bus.vm_pu >= truth.bus.min_vm_pu - TOL_V).all()
    assert res["within_limits"] is True
    assert res["ac_check"][0]["limit_violations"] == []
    assert "all checks hold" in text and "breaks the limits" not in text


def test_a_branch_above_its_rating_is_named(tmp_path: Path) -> None:
    """Where the network has ratings: the schedule's model holds none, the AC check names a
    closed branch whose current exceeds its rating, at pandapower's own loading."""
    net = pn.case33bw()
    net.line.loc[0, "max_i_ka"] = 0.15  # the feeder head, 0.207 kA at the nominal load
    source = tmp_path / "rated.json"
    pp.to_json(net, str(source))
    devices = tmp_path / "devices"
    devices.mkdir()
    prof = tmp_path / "p.csv"
    prof.write_text("time,element,value\n" + "\n".join(
        f"0,load:{i},1.0" for i in net.load.index) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", str(source), "--profiles", str(prof),
                                 "--devices", str(devices), "--hours", "1", "--time-limit",
                                 "60", "--json", str(out)], env=ENV)
    assert r.exit_code == 4, r.output
    res = json.loads(out.read_text())
    open_lines = res["open_lines_by_hour"][0]
    net.line["in_service"] = [f"line:{i}" not in open_lines for i in net.line.index]
    pp.runpp(net, numba=False)
    over = [v for v in res["ac_check"][0]["limit_violations"] if v["limit"] == "i_max"]
    assert [v["id"] for v in over] == ["line:0"]
    assert over[0]["loading_percent"] == pytest.approx(net.res_line.loading_percent[0],
                                                       rel=1e-6)
    assert over[0]["loading_percent"] > 100 * (1 + AC_LIMIT_TOLERANCE["rating_percent"] / 100)
    assert any("1 branch current(s) above their rating" in v for v in res["violations"])


def test_no_ac_check_says_it_was_skipped_and_writes_no_negative_zero(tmp_path: Path) -> None:
    """``--no-ac-check`` (user test ut33_sched #2) ended "validity: all checks hold"; and
    the JSON held -0.0 in the storage series (#6)."""
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "3", "--no-ac-check",
                                 "--time-limit", "60", "--json", str(out)], env=ENV)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "all checks hold" not in text
    assert "AC check not run (--no-ac-check)" in text
    raw = out.read_text()
    assert "-0.0," not in raw and "-0.0]" not in raw and "-0.0\n" not in raw
    res = json.loads(raw)
    assert res["within_limits"] is None and res["ac_check"] == []


def test_the_report_of_a_robust_run_without_iterations() -> None:
    """A robust run that stopped before its first C&CG iteration completed read
    "deterministic: no iterations" (user test ut33_sched #3); its worst case's purchase cost
    was not shown (#5)."""
    from feederopt.report.schedule import render_schedule_report

    totals = {"cost": 10.0, "losses_mwh": 0.1, "losses_pwl_mwh": 0.09, "purchase_mwh": 1.0,
              "import_mwh": 1.09, "load_shed_mwh": 0.0, "renewable_spill_mwh": 0.0,
              "dg_mwh": 0.0, "ev_unmet_mwh": 0.0, "v_min_pu": 0.95, "v_max_pu": 1.0}
    doc = {"case": "x", "method": "ccg", "status": "feasible", "hours": 1, "iterations": [],
           "settings": {}, "violations": [], "ac_check": [],
           "nominal": {**totals, "purchase_cost": 1234.5678},
           "worst": {**totals, "purchase_cost": 2345.6789}}
    html = render_schedule_report(doc, b"", "x")
    assert "deterministic" not in html.split("C&amp;CG log")[-1].split("Worst case")[0]
    assert "no C&amp;CG iteration completed" in html or "no C&CG iteration completed" in html
    assert "1,234.5678" in html and "2,345.6789" in html
    assert "AC check not run" in html
