"""A planner's scenarios (fix-scengen, user test ut44_growth #2):

1. ``feederopt scenarios --growth G --growth-fixed`` gives every scenario exactly the growth G,
   also a decline (G < 0); before, growth was drawn in U(0, G) only and ``--growth -0.2`` was
   refused;
2. a ``generator`` row on a balanced network scales an existing sgen (its output in the
   scenario); before, it was refused ("generator rows are for a three-phase feeder").

Truth: the file's rows against the net's loads x0.8 by hand, and pandapower's own ``runpp`` of
the scenario's net built by hand (loads x0.8; the sgen at its new output) at the answer's
topology, against each scenario's AC power flow in the result."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")
runner = CliRunner()
SGEN_MW = 0.4


def with_sgen() -> Any:
    net = nine_bus_pandapower()
    pp.create_sgen(net, 4, p_mw=SGEN_MW, q_mvar=0.0, name="pv4")
    return net


def runpp_at(net: Any, result: dict[str, Any]) -> Any:
    net = copy.deepcopy(net)
    opened = {int(b["id"].split(":")[1]) for b in result["open_branches"]}
    net.switch["closed"] = True
    net.line["in_service"] = [i not in opened for i in net.line.index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, tolerance_mva=1e-10)
    return net


def solve(path: Path, scenarios: Path, out: Path) -> dict[str, Any]:
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(scenarios), "--workers",
                              "1", "--json", str(out)])
    assert res.exit_code in (0, 4), res.output
    return json.loads(out.read_text())


def test_fixed_decline(tmp_path) -> None:
    net = with_sgen()
    pp.to_json(net, str(tmp_path / "net.json"))
    res = runner.invoke(app, ["scenarios", str(tmp_path / "net.json"), "--out",
                              str(tmp_path / "sc.csv"), "-n", "2", "--growth", "-0.2",
                              "--growth-fixed", "--noise", "0", "--pv-share", "0",
                              "--ev-share", "0", "--hp-share", "0"])
    assert res.exit_code == 0, res.output
    rows = pl.read_csv(tmp_path / "sc.csv")
    assert set(rows["kind"]) == {"load"}
    for r in rows.iter_rows(named=True):  # every load x0.8, by hand
        k = int(r["element"].split(":")[1])
        assert r["p_mw"] == pytest.approx(0.8 * net.load.p_mw[k], rel=1e-12)
        assert r["q_mvar"] == pytest.approx(0.8 * net.load.q_mvar[k], rel=1e-12)
    doc = solve(tmp_path / "net.json", tmp_path / "sc.csv", tmp_path / "r.json")
    hand = copy.deepcopy(net)
    hand.load[["p_mw", "q_mvar"]] *= 0.8
    truth = runpp_at(hand, doc)
    for s in doc["scenarios"]:
        assert s["ac"]["min_voltage_pu"] == pytest.approx(truth.res_bus.vm_pu.min(), abs=1e-7)
        assert s["ac"]["losses_kw"] == pytest.approx(truth.res_line.pl_mw.sum() * 1000,
                                                     rel=1e-5)
    # a random decline is drawn in [growth, 0]
    res = runner.invoke(app, ["scenarios", str(tmp_path / "net.json"), "--out",
                              str(tmp_path / "dec.csv"), "-n", "6", "--growth", "-0.2",
                              "--noise", "0"])
    assert res.exit_code == 0, res.output
    loads = pl.read_csv(tmp_path / "dec.csv").filter(pl.col("kind") == "load")
    ratio = loads["p_mw"].to_numpy() / net.load.p_mw[
        [int(e.split(":")[1]) for e in loads["element"]]].to_numpy()
    assert (ratio <= 1 + 1e-12).all() and (ratio >= 0.8 - 1e-12).all() and ratio.min() < 0.99
    bad = runner.invoke(app, ["scenarios", str(tmp_path / "net.json"), "--out",
                              str(tmp_path / "x.csv"), "--growth", "-1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "must be a finite number in (-1, 10]" in " ".join(bad.output.split())


def test_generator_row_scales_an_sgen(tmp_path) -> None:
    net = with_sgen()
    pp.to_json(net, str(tmp_path / "net.json"))
    sgen = int(net.sgen.index[0])
    loads = [{"scenario": s, "kind": "load", "element": f"load:{k}",
              "p_mw": float(net.load.p_mw[k]), "q_mvar": float(net.load.q_mvar[k]),
              "weight": 0.5} for s in ("base", "pv3") for k in net.load.index]
    gen = [{"scenario": "pv3", "kind": "generator", "element": f"sgen:{sgen}",
            "p_mw": 3 * SGEN_MW, "q_mvar": 0.0, "weight": 0.5}]
    pl.DataFrame(loads + gen).write_csv(tmp_path / "sc.csv")
    doc = solve(tmp_path / "net.json", tmp_path / "sc.csv", tmp_path / "r.json")
    by = {s["scenario"]: s for s in doc["scenarios"]}
    for name, mw in (("base", SGEN_MW), ("pv3", 3 * SGEN_MW)):
        hand = copy.deepcopy(net)
        hand.sgen.loc[sgen, "p_mw"] = mw
        truth = runpp_at(hand, doc)
        ac = by[name]["ac"]
        assert ac["min_voltage_pu"] == pytest.approx(truth.res_bus.vm_pu.min(), abs=1e-7)
        assert ac["losses_kw"] == pytest.approx(truth.res_line.pl_mw.sum() * 1000, rel=1e-5)
    # a unit whose output the solve chooses (a voltage-holding gen) is refused, named
    pp.create_gen(net, 6, p_mw=0.2, vm_pu=1.0, name="g6")
    pp.to_json(net, str(tmp_path / "net_g.json"))
    pl.DataFrame([*loads, {**gen[0], "element": "gen:0"}]).write_csv(tmp_path / "g.csv")
    res = runner.invoke(app, ["solve", str(tmp_path / "net_g.json"), "--scenarios",
                              str(tmp_path / "g.csv")])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "gen:0" in text and "fixed output" in text and "Traceback" not in text
