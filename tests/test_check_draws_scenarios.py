"""``feederopt check`` of a scenario result draws each sample in one of the result's scenarios
(fix-scengen, user test ut44_growth #1): before, it sampled the network's nominal loads +- u and
paired them with source voltages drawn from the scenarios (winter loads at a summer source).

Two scenarios of the 9-bus feeder: ``half`` (every load x0.5, weight 0.25) and ``boom`` (every
load x1.5, 0.3 MW of PV at bus 4 as a bus row, the source at 1.02 p.u., weight 0.75).

Truth: the hand calculation of the expected total demand, 0.25 (0.5 L) + 0.75 (1.5 L - 0.3)
with L = 5.3 MW the feeder's load (the box +- u is symmetric, so it leaves the mean alone; the
nominal loads' mean, before, was 5.3 MW against 6.4 MW); each sample's total within its
scenario's box; and pandapower's own ``runpp`` of the ``boom`` net built by hand (loads x1.5 x
1.1, a -0.3 MW load at bus 4, ext_grid at 1.02, the answer's lines out of service) for the
upper corner of ``boom``."""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import NINE_BUS_LOADS, nine_bus_pandapower

pp = pytest.importorskip("pandapower")

runner = CliRunner()
WEIGHTS = {"half": 0.25, "boom": 0.75}
SCALE = {"half": 0.5, "boom": 1.5}
PV_MW = 0.3  # boom's bus row at bus 4
VM_BOOM = 1.02
X = 0.1


def scenario_table(net: Any) -> pl.DataFrame:
    rows = []
    for name, scale in SCALE.items():
        for k in net.load.index:
            rows.append({"scenario": name, "kind": "load", "element": f"load:{k}",
                         "p_mw": float(net.load.p_mw[k]) * scale,
                         "q_mvar": float(net.load.q_mvar[k]) * scale,
                         "weight": WEIGHTS[name], "vm_pu": None})
    rows.append({"scenario": "boom", "kind": "bus", "element": "4", "p_mw": -PV_MW,
                 "q_mvar": 0.0, "weight": WEIGHTS["boom"], "vm_pu": None})
    rows.append({"scenario": "boom", "kind": "source", "element": "0", "p_mw": None,
                 "q_mvar": None, "weight": WEIGHTS["boom"], "vm_pu": VM_BOOM})
    return pl.DataFrame(rows, schema={"scenario": pl.String, "kind": pl.String,
                                      "element": pl.String, "p_mw": pl.Float64,
                                      "q_mvar": pl.Float64, "weight": pl.Float64,
                                      "vm_pu": pl.Float64})


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    tmp = tmp_path_factory.mktemp("scengen")
    net = nine_bus_pandapower()
    pp.to_json(net, str(tmp / "net9.json"))
    scenario_table(net).write_csv(tmp / "sc.csv")
    res = runner.invoke(app, ["solve", str(tmp / "net9.json"), "--scenarios",
                              str(tmp / "sc.csv"), "--workers", "1", "--json",
                              str(tmp / "r.json")])
    assert res.exit_code in (0, 4), res.output
    return net, tmp / "r.json", tmp / "sc.csv"


def test_samples_are_drawn_in_the_scenarios(solved) -> None:
    _, result, _ = solved
    load = sum(p for p, _ in NINE_BUS_LOADS.values())
    assert load == pytest.approx(5.3)
    total = {"half": 0.5 * load, "boom": 1.5 * load - PV_MW}  # by hand
    expected = sum(WEIGHTS[s] * total[s] for s in WEIGHTS)  # 6.4 MW
    mc = feederopt.check_result(result, samples=300, uncertainty=X, seed=2, ac=False)
    got = np.array(mc.sample_total_p_mw)
    names = mc.sample_scenarios
    assert len(got) == len(names) == 300
    # each sample within its scenario's box: loads x(1 +- X), the bus row as it is
    for name, t in zip(names, got, strict=True):
        loads = SCALE[name] * load
        assert total[name] - X * loads - 1e-9 <= t <= total[name] + X * loads + 1e-9
    # drawn by weight, and the mean total demand is the weighted mean (4 standard errors)
    share = names.count("boom") / len(names)
    assert abs(share - 0.75) < 4 * math.sqrt(0.75 * 0.25 / len(names))
    assert abs(got.mean() - expected) < 4 * got.std(ddof=1) / math.sqrt(len(got))
    assert abs(5.3 - expected) > 4 * got.std(ddof=1) / math.sqrt(len(got))  # not nominal
    per = {s["name"]: s for s in mc.scenarios["scenarios"]}
    assert per["boom"]["total_p_mw"] == pytest.approx(total["boom"])
    assert per["half"]["probability"] == pytest.approx(0.25)


def test_corner_of_a_scenario_is_pandapower_of_its_net(solved) -> None:
    net, result, _ = solved
    doc = json.loads(result.read_text())
    opened = {int(b["id"].split(":")[1]) for b in doc["open_branches"]}
    mc = feederopt.check_result(result, samples=4, uncertainty=X, seed=0)
    corners = {c["label"]: c for c in mc.corners}
    assert set(corners) == {"lower at scenario half", "upper at scenario half",
                            "lower at scenario boom", "upper at scenario boom"}
    for label, scale, vm, pv in (("upper at scenario boom", 1.5 * (1 + X), VM_BOOM, PV_MW),
                                 ("lower at scenario half", 0.5 * (1 - X), 1.0, 0.0)):
        hand = copy.deepcopy(net)
        hand.switch["closed"] = True
        hand.line["in_service"] = [i not in opened for i in hand.line.index]
        hand.load[["p_mw", "q_mvar"]] *= scale
        if pv:
            pp.create_load(hand, 4, p_mw=-pv, q_mvar=0.0)
        hand.ext_grid["vm_pu"] = vm
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(hand, numba=False, tolerance_mva=1e-10)
        c = corners[label]
        assert c["source_vm_pu"] == {"0": vm}
        assert c["min_voltage_pu"] == pytest.approx(hand.res_bus.vm_pu.min(), abs=1e-7)
        assert c["max_loading_percent"] == pytest.approx(
            hand.res_line.loading_percent.max(), rel=1e-5)


def test_cli_says_the_samples_are_the_scenarios(solved, tmp_path) -> None:
    _, result, _ = solved
    res = runner.invoke(app, ["check", str(result), "-u", "0.1", "-n", "3", "--json",
                              str(tmp_path / "c.json")], env={"COLUMNS": "300"})
    assert res.exit_code in (0, 4), res.output
    text = " ".join(res.output.split())
    assert "scenario boom" in text and "not used" not in text
    got = json.loads((tmp_path / "c.json").read_text())
    assert [s["name"] for s in got["scenarios"]["scenarios"]] == ["half", "boom"]
    assert sum(s["samples"] for s in got["scenarios"]["scenarios"]) == 3


def test_a_changed_scenario_file_is_refused(solved, tmp_path) -> None:
    _, result, csv = solved
    doc = json.loads(result.read_text())
    assert doc["scenarios_sha256"]
    other = tmp_path / "sc.csv"
    other.write_text(csv.read_text().replace("0.75", "0.7"))
    doc["scenarios_file"] = str(other)
    (tmp_path / "r.json").write_text(json.dumps(doc))
    res = runner.invoke(app, ["check", str(tmp_path / "r.json"), "-u", "0.1", "-n", "2"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "scenario file is changed" in text and "Traceback" not in text


@pytest.mark.parametrize("via", ["cli", "python"])
def test_a_gone_scenario_file_is_said_with_the_options_problems(solved, tmp_path,
                                                                  via: str) -> None:
    # the README: check reports all the problems of an input at once (user test ut50_scen
    # #5: with -u 1.5 only the uncertainty's was said, the gone file's on the next run)
    _, result, _ = solved
    doc = json.loads(result.read_text())
    doc["scenarios_file"] = str(tmp_path / "deleted.csv")  # no such file
    (tmp_path / "r.json").write_text(json.dumps(doc))
    if via == "cli":
        res = runner.invoke(app, ["check", str(tmp_path / "r.json"), "-n", "5", "-u", "1.5"])
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())
        assert "2 problems in the input" in text
        assert "uncertainty must be a number in [0, 1]" in text
        assert "scenario file is gone" in text and "Traceback" not in text
    else:
        with pytest.raises(feederopt.InputError) as exc:
            feederopt.check_result(str(tmp_path / "r.json"), 5, 1.5)
        assert sorted(p.field for p in exc.value.problems) == ["scenarios_file",
                                                                 "uncertainty"]
