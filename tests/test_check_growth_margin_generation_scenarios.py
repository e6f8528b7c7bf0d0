"""``feederopt check --growth-margin generation`` of a scenario result scales each scenario's
own generation (user test ut49_growth #1). Before, only the network's sgen set-points were
scaled and a scenario's ``generator`` rows stayed a fixed offset at their bus: a scenario at
output ``p^s`` reported ``(limit - p^s + p^0) / p^0`` (the set-point's factor with the offset
kept) instead of ``limit / p^s``, and a scenario without PV a bounded factor.

Truth: a bisection done here with pandapower's own ``runpp`` of the net at the answer's
topology, each scenario's loads as its rows give them and the sgen's output set to the
scenario's output times lambda, the limits held as the AC check holds them (1e-4 p.u., 0.1 %
of a rating)."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")
V_MIN, V_MAX = 0.9, 1.05
SET_POINT = 1.0  # the sgen's own p_mw at bus 8
#: scenario -> (load factor, the sgen's output in it [MW]; None: no generator row)
SCEN = {"nopv": (1.0, 0.0), "pvx2": (0.5, 2.0), "keep": (0.8, None)}


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    tmp = tmp_path_factory.mktemp("gmargin_scen")
    net = nine_bus_pandapower()
    pp.create_sgen(net, 8, p_mw=SET_POINT, q_mvar=0.0, name="pv8")
    pp.to_json(net, str(tmp / "net.json"))
    rows = []
    for s, (f, g) in SCEN.items():
        rows += [f"{s},load,load:{k},{p * f},{q * f},0.3" for k, p, q in
                 zip(net.load.index, net.load.p_mw, net.load.q_mvar, strict=True)]
        if g is not None:
            rows.append(f"{s},generator,sgen:0,{g},0,0.3")
    (tmp / "s.csv").write_text("scenario,kind,element,p_mw,q_mvar,weight\n"
                               + "\n".join(rows) + "\n")
    res = CliRunner().invoke(app, ["solve", str(tmp / "net.json"), "--scenarios",
                                   str(tmp / "s.csv"), "--time-limit", "60", "--workers", "1",
                                   "--v-min", str(V_MIN), "--v-max", str(V_MAX),
                                   "--json", str(tmp / "r.json")])
    assert res.exit_code == 0, res.output
    return net, tmp / "r.json"


def holds(net: Any, opened: set[int], scenario: str, sgen_mw: float) -> bool:
    hand = copy.deepcopy(net)
    hand.switch["closed"] = True
    hand.line["in_service"] = [i not in opened for i in hand.line.index]
    hand.load[["p_mw", "q_mvar"]] *= SCEN[scenario][0]
    hand.sgen.loc[0, "p_mw"] = sgen_mw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pp.runpp(hand, numba=False, tolerance_mva=1e-10)
        except Exception:
            return False
    vm = hand.res_bus.vm_pu.drop(hand.ext_grid.bus)
    return bool((vm >= V_MIN - 1e-4).all() and (vm <= V_MAX + 1e-4).all()
                and (hand.res_line.loading_percent.fillna(0) <= 100.1).all())


def limit_mw(net: Any, opened: set[int], scenario: str) -> tuple[float, float]:
    """The sgen output [MW] at which scenario ``scenario`` first breaks a limit, bracketed."""
    lo, hi = 0.0, 1.0
    while holds(net, opened, scenario, hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-4:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if holds(net, opened, scenario, mid) else (lo, mid)
    return lo, hi


def opened_of(result: Path) -> set[int]:
    doc = json.loads(result.read_text())
    return {int(b["id"].split(":")[1]) for b in doc["open_branches"]}


def test_each_scenarios_own_generation_is_scaled(solved) -> None:
    net, result = solved
    opened = opened_of(result)
    mc = feederopt.check_result(result, samples=1, uncertainty=0.01, v_min=V_MIN,
                                v_max=V_MAX, growth_margin_of="generation")
    m = mc.growth_margin
    per = {d["scenario"]: d for d in m["per_scenario"]}
    assert set(per) == set(SCEN)
    for s in ("pvx2", "keep"):
        out = SCEN[s][1] if SCEN[s][1] is not None else SET_POINT
        lo_mw, hi_mw = limit_mw(net, opened, s)
        f, g = per[s]["factor"], per[s]["first_failing_factor"]
        # pandapower's limit, in MW of the sgen, lies between out x factor and out x first
        # failing factor (the check's bisection to 0.001)
        assert out * f <= hi_mw + 1e-9 and out * g >= lo_mw - 1e-9, (s, out * f, lo_mw)
        assert g - f <= 1e-3 + 1e-12
        assert per[s]["applicable"] is True and per[s]["unit_output_mw"] == [out]
        # the MW stated per unit is the output times the factor
        assert per[s]["unit_output_at_factor_mw"] == [pytest.approx(out * f)]
    # no PV in the scenario: 0 x lambda = 0, no factor (before: a bounded one)
    assert per["nopv"]["applicable"] is False and per["nopv"]["factor"] is None
    # the binding scenario: the one whose PV pandapower limits to the smallest factor
    truth = {s: limit_mw(net, opened, s)[0] / (SCEN[s][1] or SET_POINT)
             for s in ("pvx2", "keep")}
    assert m["scenario"] == min(truth, key=lambda s: truth[s])


def test_console_says_mw_and_not_applicable(solved) -> None:
    net, result = solved
    res = CliRunner().invoke(app, ["check", str(result), "-u", "0.01", "-n", "1", "--v-min",
                                   str(V_MIN), "--v-max", str(V_MAX), "--growth-margin",
                                   "generation"], env={"COLUMNS": "400"})
    assert res.exit_code in (0, 4), res.output
    text = " ".join(res.output.split())
    assert "not applicable" in text and "0 x lambda = 0" in text
    row = re.search(r"at scenario pvx2 │ .*? up to x(\d+\.\d+) \((\d+\.\d+) MW per unit", text)
    assert row, text
    factor, mw = float(row.group(1)), float(row.group(2))
    assert mw == pytest.approx(2.0 * factor, abs=1e-3)
    # the printed factor is safe: pandapower holds the limits at the MW it states
    assert holds(net, opened_of(result), "pvx2", 2.0 * factor)
