"""User test ut51_resil #1: with an island DG's AC loss reserve, ``plan``'s EVPI and VSS came
from the lossless RP (4,740 $) below the expected total it printed (4,741.41 $), so "EVPI =
RP - WS" and "VSS = EEV - RP" did not add up by hand; and the gap of an ``optimal`` plan or
restoration (0.0297 %, far above ``--gap`` 1e-7) was that reserve alone, not a solver gap.

The net, built here: 12.66 kV, source B0, lines E0 = B0-B1, E1 = B1-B2, E2 = B0-B3 (1 km,
0.3 + j0.3 ohm/km, 0.2 kA), loads B1 100 kW, B2 200 kW, B3 100 kW (priority 1, Q = 0.3 P).
Backup DGs of 150 kW (1.5 $/kW: 225 $ each), at most one; no hardening; VOLL 14 $/kW.

By hand (lossless: the shed is what an island's DG cannot serve), for the scenarios s1 =
{E0} (p 0.4: B1 and B2, 300 kW, cut off), s2 = {E2} (p 0.3: B3, 100 kW), s3 = {E1} (p 0.3:
B2, 200 kW):

* no DG: 14 x (0.4 x 300 + 0.3 x 100 + 0.3 x 200) = 2,940 $
* DG at B1: 225 + 14 x (0.4 x 150 + 0.3 x 100 + 0.3 x 200) = 2,325 $
* DG at B2: 225 + 14 x (0.4 x 150 + 0.3 x 100 + 0.3 x 50) = 1,695 $ (RP, the plan)
* DG at B3: 225 + 14 x (0.4 x 300 + 0 + 0.3 x 200) = 2,745 $
* WS = 0.4 x min(4,200, 225 + 2,100) + 0.3 x min(1,400, 225) + 0.3 x min(2,800, 225 + 700)
  = 930 + 67.5 + 277.5 = 1,275 $
* no line fails with probability 1/2 or more: the expected-value scenario breaks none, its
  plan invests nothing, EEV = 2,940 $.

In s1 the DG at B2 is at its 150 kW with its island's E1 losses on top in AC: it is held
below its size (the loss reserve), so the reported expected total is 1,695 $ plus that
reserve, and the measures must use it: EVPI = total - 1,275, VSS = 2,940 - total.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.api_resilience import plan, plan_settings
from feederopt.cli import app
from feederopt.report.resilience import measures_rows, plan_summary, restore_summary

runner = CliRunner(env={"COLUMNS": "400"})

RP_LOSSLESS, WS, EEV = 1695.0, 1275.0, 2940.0


def net4() -> pp.pandapowerNet:
    """The 4-bus net of the module docstring."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 12.66, name=f"B{i}", min_vm_pu=0.9, max_vm_pu=1.1)
         for i in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for bus, p in ((1, 100), (2, 200), (3, 100)):
        pp.create_load(net, b[bus], p_mw=p / 1e3, q_mvar=0.3 * p / 1e3, name=f"L{bus}")
    for k, (f, t) in enumerate(((0, 1), (1, 2), (0, 3))):
        pp.create_line_from_parameters(net, b[f], b[t], length_km=1.0, r_ohm_per_km=0.3,
                                       x_ohm_per_km=0.3, c_nf_per_km=0, max_i_ka=0.2,
                                       name=f"E{k}")
    return net


def _row(output: str, label: str) -> str:
    line = next(x for x in output.splitlines() if label in x)
    return line.split(label, 1)[1]


def _dollars(text: str) -> float:
    return float(re.search(r"(-?[\d,]+\.\d\d) \$", text).group(1).replace(",", ""))


def test_plan_measures_use_the_reported_rp_and_the_gap_says_it_is_the_reserve(
        tmp_path: Path) -> None:
    net_file, scen_file, out = tmp_path / "net4.json", tmp_path / "scen.json", \
        tmp_path / "p.json"
    pp.to_json(net4(), str(net_file))
    scen_file.write_text(json.dumps({"scenarios": [
        {"name": "s1", "probability": 0.4, "broken": ["line:0"]},
        {"name": "s2", "probability": 0.3, "broken": ["line:2"]},
        {"name": "s3", "probability": 0.3, "broken": ["line:1"]}]}))
    res = runner.invoke(app, ["plan", str(net_file), "--scenarios", str(scen_file),
                              "--harden-budget", "0", "--dg-budget", "1", "--dg-size", "150",
                              "--time-limit", "60", "--json", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    total = d["expected_total"]
    assert d["dg_sites"] == ["2"]
    # the reserve is what the total holds over the hand lossless RP, and there is one
    reserve = total - RP_LOSSLESS
    assert 0 < reserve < 1.0
    m = d["measures"]
    assert m["wait_and_see"] == pytest.approx(WS, abs=1e-6)
    assert m["expected_value_solution_cost"] == pytest.approx(EEV, abs=1e-6)
    # one RP in the file: the expected total; the identities hold with it
    assert m["recourse_problem"] == pytest.approx(total, abs=1e-6)
    assert m["evpi"] == pytest.approx(total - WS, abs=1e-6)
    assert m["vss"] == pytest.approx(EEV - total, abs=1e-6)
    assert d["loss_reserve"] == pytest.approx(reserve, abs=1e-6)
    assert m["loss_reserve"] == pytest.approx(reserve, abs=1e-6)
    assert "lossless" in m["basis"] and "reserve" in m["basis"]
    # the bound is the lossless model's, the solve's own gap 0; the gap is the reserve's
    assert d["lower_bound"] == pytest.approx(RP_LOSSLESS, abs=1e-3)
    assert d["model_gap"] == pytest.approx(0.0, abs=1e-6)
    assert d["gap"] == pytest.approx((total - d["lower_bound"]) / total, abs=1e-6)
    # the console's rows add up by hand, and its gap row names the reserve
    shown_total = _dollars(_row(res.output, "expected total cost"))
    assert _dollars(_row(res.output, "EVPI = RP - WS")) == pytest.approx(
        shown_total - WS, abs=0.011)
    assert _dollars(_row(res.output, "VSS = EEV - RP")) == pytest.approx(
        EEV - shown_total, abs=0.011)
    gap_row = " ".join(_row(res.output, "lower bound / gap").split())
    assert "loss reserve" in gap_row and "not a solver gap" in gap_row
    assert "stochastic measures: RP is the plan's expected total cost" in res.output
    # the HTML report's rows say the same
    assert "not a solver gap" in plan_summary(d)["gap [%]"]
    assert measures_rows(m)["basis of RP, WS and EEV"] == m["basis"]


def test_eev_is_rp_when_the_expected_value_plan_is_the_plan() -> None:
    """s1 = {E0} and s2 = {E2}, p 0.5 each, DG candidates B2 and B3 (B1 would tie with B2):
    DG at B2 costs 225 + 14 x (0.5 x 150 + 0.5 x 100) = 1,975 $, at B3 225 + 14 x 0.5 x 300
    = 2,325 $, none 14 x (0.5 x 300 + 0.5 x 100) = 2,800 $. Both lines fail with probability
    1/2: the expected-value scenario breaks both, and its plan is B2 (225 + 14 x 250 = 3,725
    against 4,425 at B3 and 5,600 with none), the plan itself. WS = 0.5 x (225 + 2,100) + 0.5
    x 225 = 1,275 $. EEV is the plan's cost as reported (RP, with its loss reserve): VSS 0,
    not minus the reserve."""
    import pandas as pd

    st = plan_settings(harden_budget=0, dg_budget=1, dg_p_max_kw=150, dg_q_max_kvar=150,
                       dg_candidates=("2", "3"))
    scen = pd.DataFrame({"name": ["s1", "s2"], "probability": [0.5, 0.5],
                         "broken": ["line:0", "line:2"]})
    d = plan(net4(), scenarios=scen, settings=st, time_limit_s=60).to_dict()
    total, m = d["expected_total"], d["measures"]
    assert d["dg_sites"] == ["2"] and m["ev_dg_sites"] == ["2"]
    assert 0 < total - 1975.0 < 1.0
    assert m["wait_and_see"] == pytest.approx(1275.0, abs=1e-6)
    assert m["recourse_problem"] == pytest.approx(total, abs=1e-6)
    assert m["expected_value_solution_cost"] == pytest.approx(total, abs=1e-6)
    assert m["vss"] == pytest.approx(0.0, abs=1e-6)
    assert m["evpi"] == pytest.approx(total - 1275.0, abs=1e-6)
    assert "EEV is RP" in m["basis"]


def test_restore_gap_says_it_is_the_loss_reserve(tmp_path: Path) -> None:
    """E0 broken, a 150-kW DG at B2: the island B1-B2 has 300 kW, so the lossless shed is
    300 - 150 = 150 kW (the bound); the reported shed is that plus the island's loss reserve,
    which is all of the gap."""
    net_file, out = tmp_path / "net4.json", tmp_path / "r.json"
    pp.to_json(net4(), str(net_file))
    res = runner.invoke(app, ["restore", str(net_file), "--broken", "line:0", "--dg-sites",
                              "2", "--dg-size", "150", "--json", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    assert d["status"] == "optimal"
    reserve = d["objective_kw"] - 150.0
    assert 0 < reserve < 1.0
    assert d["loss_reserve_kw"] == pytest.approx(reserve, abs=1e-6)
    assert d["lower_bound_kw"] == pytest.approx(150.0, abs=1e-3)
    assert d["model_gap"] == pytest.approx(0.0, abs=1e-6)
    gap_row = " ".join(_row(res.output, "lower bound / gap").split())
    assert "loss reserve" in gap_row and "not a solver gap" in gap_row
    assert "not a solver gap" in restore_summary(d)["gap [%]"]
