"""``feederopt check --growth-margin load`` of a scenario result: the margin at each scenario's
own operating point (its loads, its bus rows), the smallest one as the answer. Before
(session 43's note) it was taken at the network's nominal loads, which no scenario of the run
need have: here scenario ``high`` loads the feeder 25 % more (and adds 0.5 MW of PV at bus 8
as a bus row), so its margin is the binding one, not the nominal loads'.

Truth: a bisection done here with pandapower's own ``runpp`` of the net at the answer's
topology, each scenario's loads times lambda and its bus row as a fixed injection, the limits
held as the AC check holds them (1e-4 p.u., 0.1 % of a rating)."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")
V_MIN, V_MAX = 0.95, 1.05
SCALE = {"base": 1.0, "high": 1.25}
PV_BUS, PV_MW = 8, 0.5  # scenario high's bus row: net demand -0.5 MW at bus 8


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    tmp = tmp_path_factory.mktemp("margin_scen")
    net = nine_bus_pandapower()
    pp.to_json(net, str(tmp / "net.json"))
    rows = [f"{s},load,load:{k},{p * f},{q * f},0.5" for s, f in SCALE.items()
            for k, p, q in zip(net.load.index, net.load.p_mw, net.load.q_mvar, strict=True)]
    rows.append(f"high,bus,{PV_BUS},{-PV_MW},0,0.5")
    (tmp / "s.csv").write_text("scenario,kind,element,p_mw,q_mvar,weight\n"
                               + "\n".join(rows) + "\n")
    res = CliRunner().invoke(app, ["solve", str(tmp / "net.json"), "--scenarios",
                                   str(tmp / "s.csv"), "--time-limit", "60", "--workers", "1",
                                   "--json", str(tmp / "r.json")])
    assert res.exit_code == 0, res.output
    return net, tmp / "r.json"


def holds(net: Any, opened: set[int], scenario: str, lam: float) -> bool:
    hand = copy.deepcopy(net)
    hand.switch["closed"] = True
    hand.line["in_service"] = [i not in opened for i in hand.line.index]
    hand.load[["p_mw", "q_mvar"]] *= SCALE[scenario] * lam
    if scenario == "high":
        pp.create_sgen(hand, PV_BUS, p_mw=PV_MW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pp.runpp(hand, numba=False, tolerance_mva=1e-10)
        except Exception:
            return False
    vm = hand.res_bus.vm_pu.drop(hand.ext_grid.bus)
    return bool((vm >= V_MIN - 1e-4).all() and (vm <= V_MAX + 1e-4).all()
                and (hand.res_line.loading_percent.fillna(0) <= 100.1).all())


def bisect(net: Any, opened: set[int], scenario: str) -> tuple[float, float]:
    lo, hi = 0.0, 1.0
    while holds(net, opened, scenario, hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-4:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(net, opened, scenario, mid) else (lo, mid)
    return lo, hi


def test_each_scenarios_margin_is_a_pandapower_bisection(solved) -> None:
    net, result = solved
    doc = json.loads(result.read_text())
    opened = {int(b["id"].split(":")[1]) for b in doc["open_branches"]}
    mc = feederopt.check_result(result, samples=1, uncertainty=0.01, v_min=V_MIN,
                                v_max=V_MAX, growth_margin_of="load")
    m = mc.growth_margin
    per = {d["scenario"]: d for d in m["per_scenario"]}
    assert set(per) == set(SCALE)
    truth = {s: bisect(net, opened, s) for s in SCALE}
    for s, (lo, hi) in truth.items():
        assert per[s]["factor"] <= hi + 1e-9 and per[s]["first_failing_factor"] >= lo - 1e-9
        assert per[s]["first_failing_factor"] - per[s]["factor"] <= 1e-3 + 1e-12
    # the binding scenario is the one pandapower says breaks first, and the answer its margin
    binding = min(truth, key=lambda s: truth[s][0])
    assert binding == "high" and m["scenario"] == "high"
    assert m["factor"] == per["high"]["factor"]
    # the nominal loads' margin (what was reported before) is not the answer
    nominal_lo, _ = bisect(net, opened, "base")
    assert m["factor"] < nominal_lo - 0.05


def test_console_lists_each_scenario(solved, tmp_path) -> None:
    _, result = solved
    res = CliRunner().invoke(app, ["check", str(result), "-u", "0.01", "-n", "1", "--v-min",
                                   str(V_MIN), "--v-max", str(V_MAX), "--growth-margin",
                                   "load"], env={"COLUMNS": "300"})
    assert res.exit_code in (0, 4), res.output
    assert "of scenario high" in res.output
    assert "at scenario base" in res.output and "at scenario high" in res.output
