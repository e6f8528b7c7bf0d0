"""A scenario or robust run carries one AC verdict: does the chosen topology keep the limits in
the AC power flow of every scenario (at every extreme point checked)? A single solve has one
(``ac_check.within_limits``, the console's "within limits (AC)"); a scenario result listed
per-scenario AC figures only, and a robust result's ``robust_feasible`` is the convex model's
flag. Now ``ac_within_limits_all`` (True / False / None: not checked) and ``ac_all_check`` (the
ones that break a limit and by how much, how many of how many were checked, the line), the
console's row and the report's summary; ``robust_feasible`` is labelled the convex model's.

The feeder is ``tiny`` (tests/netbuild.py) with v_min 0.995 p.u. at every bus. The truth is
pandapower's own ``runpp`` of the feeder built by hand (``tiny_pandapower_net``) at the
result's open branches and each scenario's (extreme point's) loads, not feederopt's power
flow:

* scenarios ``light`` (every load x 0.5) and ``heavy`` (x 3): heavy takes buses below v_min;
* robust, +-30 % on loads Lb and Lc, a fixed 0.1 MW PV unit at bus c (not a passive feeder, so
  all four corners are enumerated and each gets an AC power flow): every corner within the
  band.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.scenarios import _verdict_rows, result_verdict
from feederopt.io import write_folder
from feederopt.report.html import summary_section
from feederopt.report.scenarios import robust_section, scenarios_section
from feederopt.results.result import AC_LIMIT_TOLERANCE
from feederopt.results.uncertain import (
    MAX_AC_SCENARIOS,
    RobustSummary,
    ScenarioOutcome,
    SlaveOutcome,
    StochasticSummary,
    VertexOutcome,
)
from feederopt.validation.scenario_ac import ScenarioAc
from netbuild import tiny, tiny_pandapower_net, tiny_tables

pp = pytest.importorskip("pandapower")

V_MIN, V_MAX = 0.995, 1.1  # the band set here; v_max the reader's default (checked below)
SCALE = {"light": 0.5, "heavy": 3.0}
X, UNCERTAIN = 0.3, ["Lb", "Lc"]
PV_MW = 0.1
PV = pl.DataFrame({"id": ["pv"], "bus": ["c"], "p_mw": [PV_MW], "q_mvar": [0.0],
                   "p_min_mw": [PV_MW], "p_max_mw": [PV_MW], "q_min_mvar": [0.0],
                   "q_max_mvar": [0.0]})
WIDE = {"COLUMNS": "400"}  # the console's table on one line per row


def _vm(open_ids: set[str], loads: dict[str, tuple[float, float]],
        sgen: tuple[str, float, float] | None = None) -> dict[str, float]:
    """pandapower's bus voltages [p.u.] by bus id."""
    net = tiny_pandapower_net(open_ids, loads=loads, sgen=sgen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, tolerance_mva=1e-10)
    return {str(net.bus.at[b, "name"]): float(v) for b, v in net.res_bus["vm_pu"].items()}


def _banded() -> dict[str, pl.DataFrame]:
    t = tiny_tables()
    return {"buses": t["buses"].with_columns(pl.lit(V_MIN).alias("v_min_pu"))}


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("acall_scen")
    write_folder(tiny(**_banded()), tmp / "net", fmt="csv")
    rows = ["scenario,kind,element,p_mw,q_mvar,weight"] + [
        f"{s},load,{r['id']},{r['p_mw'] * f},{r['q_mvar'] * f},1" for s, f in SCALE.items()
        for r in tiny_tables()["loads"].iter_rows(named=True)]
    (tmp / "s.csv").write_text("\n".join(rows) + "\n")
    res = CliRunner().invoke(app, [
        "solve", str(tmp / "net"), "--scenarios", str(tmp / "s.csv"), "--time-limit", "30",
        "--workers", "1", "--json", str(tmp / "r.json")], env=WIDE)
    return res, json.loads((tmp / "r.json").read_text())


@pytest.fixture(scope="module")
def robust_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("acall_rob")
    write_folder(tiny(**_banded(), generators=PV), tmp / "net", fmt="csv")
    res = CliRunner().invoke(app, [
        "solve", str(tmp / "net"), "--robust", str(X), "--uncertain-loads", ",".join(UNCERTAIN),
        "--time-limit", "30", "--workers", "1", "--json", str(tmp / "r.json")], env=WIDE)
    return res, json.loads((tmp / "r.json").read_text())


def test_a_scenario_that_breaks_v_min_in_ac_is_named(scenario_run) -> None:
    res, doc = scenario_run
    opened = {b["id"] for b in doc["open_branches"]}
    tol = AC_LIMIT_TOLERANCE["voltage_pu"]
    truth = {s: _vm(opened, {r["id"]: (r["p_mw"] * f, r["q_mvar"] * f)
                             for r in tiny_tables()["loads"].iter_rows(named=True)})
             for s, f in SCALE.items()}
    below = {s: {b for b, v in vm.items() if v < V_MIN - tol} for s, vm in truth.items()}
    assert below["heavy"] and not below["light"]  # the case is the one described
    assert all(v <= V_MAX for vm in truth.values() for v in vm.values())

    assert doc["ac_within_limits_all"] is False
    every = doc["ac_all_check"]
    assert (every["of"], every["points"], every["evaluated"], every["checked"]) == (
        "scenario", 2, 2, 2)
    [hit] = every["breaking"]
    assert hit["scenario"] == "heavy" and hit["converged"] is True
    assert hit["limits_broken"] == len(below["heavy"])
    lowest = min(below["heavy"], key=lambda b: truth["heavy"][b])
    worst = hit["worst"]
    assert worst["limit"] == "v_min" and worst["component"] == "buses"
    assert truth["heavy"][worst["id"]] == pytest.approx(truth["heavy"][lowest], abs=1e-9)
    assert worst["amount"] == pytest.approx(V_MIN - truth["heavy"][lowest], rel=1e-6)
    assert every["text"].startswith("no: 1 of the 2 scenarios checked breaks a limit")
    assert f"scenario heavy: {len(below['heavy'])} limit(s) broken, the largest v_min at bus " \
           f"{worst['id']} by {V_MIN - truth['heavy'][lowest]:.4g} p.u." in every["text"]
    assert "light" not in every["text"]
    # the verdict of the run agrees; the console's row and the report's summary say it
    assert doc["within_limits"] is False and res.exit_code in (3, 4)
    out = _flat(res.output)
    assert f"within limits (AC, every scenario) │ {every['text']}" in out
    page = summary_section(doc)
    assert "within limits (AC, every scenario)" in page and "scenario heavy" in page
    assert "within the limits in AC (every scenario)" in scenarios_section(doc)
    # feederopt check of the result shows the solve's verdict as it is
    assert ("result's within limits (AC, every scenario) (at its solve's limits)",
            every["text"]) in _verdict_rows(result_verdict(doc))


def test_a_robust_run_within_the_limits_at_every_corner_says_so(robust_run) -> None:
    res, doc = robust_run
    opened = {b["id"] for b in doc["open_branches"]}
    loads = {r["id"]: (r["p_mw"], r["q_mvar"]) for r in tiny_tables()["loads"].iter_rows(
        named=True)}
    tol = AC_LIMIT_TOLERANCE["voltage_pu"]
    corners = list(itertools.product((-1, 1), repeat=len(UNCERTAIN)))
    for u in corners:
        sign = dict(zip(UNCERTAIN, u, strict=True))
        vm = _vm(opened, {k: (p * (1 + X * sign.get(k, 0)), q * (1 + X * sign.get(k, 0)))
                          for k, (p, q) in loads.items()}, sgen=("c", PV_MW, 0.0))
        assert all(V_MIN - tol <= v <= V_MAX + tol for v in vm.values()), u
    assert {tuple(v["u"]) for v in doc["robust"]} == set(corners)
    assert all(v["ac"] is not None for v in doc["robust"])

    assert doc["ac_within_limits_all"] is True
    every = doc["ac_all_check"]
    assert (every["of"], every["points"], every["evaluated"], every["checked"]) == (
        "extreme point", 4, 4, 4)
    assert every["breaking"] == []
    text = "yes: the AC power flows at all 4 extreme points keep every limit"
    assert every["text"] == text
    assert doc["within_limits"] is True and res.exit_code == 0, res.output
    out = _flat(res.output)
    assert f"within limits (AC, every extreme point checked) │ {text}" in out
    # the model's flag is labelled as the model's
    assert doc["robust_summary"]["robust_feasible"] is True
    assert "feasible at every extreme point in the convex model: yes;" in out
    page = summary_section(doc)
    assert "within limits (AC, every extreme point checked)" in page and text in page
    totals = robust_section(doc)
    assert "feasible at every extreme point (convex model)" in totals and text in totals
    assert ("result's within limits (AC, every extreme point checked) (at its solve's "
            "limits)", text) in _verdict_rows(result_verdict(doc))


# ----- the verdict's other answers, on summaries built by hand ---------------------------------
def _ac(vm_low: float, violations: list[dict[str, Any]] | None = None,
        converged: bool = True) -> ScenarioAc:
    if not converged:
        return ScenarioAc(False, math.nan, math.nan, None, math.nan, math.nan, [], "diverged")
    return ScenarioAc(True, 1.0, vm_low, "c", 1.0, math.nan, list(violations or []))


_OK = SlaveOutcome(1.0, 1.0, 0.0, True, 0.99, 1.0)


def test_no_ac_power_flow_is_not_checked() -> None:
    """--no-ac-check: no scenario has an AC power flow: None, not True."""
    s = StochasticSummary([ScenarioOutcome("a", 0.5, _OK), ScenarioOutcome("b", 0.5, _OK)], 2,
                          1.0, 1.0, 0.0, 1e5)
    v = s.ac_all
    assert v.within_limits_all is None and v.checked == 0
    assert v.text.startswith("not checked: no AC power flow at any of the 2 scenarios")
    assert s.to_dict()["ac_within_limits_all"] is None


def test_capped_extreme_points_are_not_checked_and_say_how_many() -> None:
    """More extreme points than the cap: those within the limits do not make a True."""
    n = MAX_AC_SCENARIOS + 5
    rows = [VertexOutcome(i, (1,), _OK, _ac(0.99) if i < MAX_AC_SCENARIOS else None)
            for i in range(n)]
    r = RobustSummary(rows, 0.1, ["x"], None, n, True, oracle="enumerate")
    v = r.ac_all
    assert v.within_limits_all is None
    assert (v.points, v.evaluated, v.checked) == (n, n, MAX_AC_SCENARIOS)
    assert f"AC power flows at {MAX_AC_SCENARIOS} of the {n} extreme points" in v.text
    assert "none breaks a limit; the other 5 were not run (the AC check runs at most" in v.text
    # one that breaks, or does not converge, is a False whatever the others
    bad = {"component": "buses", "id": "7", "limit": "v_max", "value": 1.06, "rating": 1.05,
           "amount": 0.01, "unit": "p.u."}
    rows[3] = VertexOutcome(3, (1,), _OK, _ac(0.99, [bad]))
    rows[4] = VertexOutcome(4, (1,), _OK, _ac(0.99, converged=False))
    v = RobustSummary(rows, 0.1, ["x"], None, n, True, oracle="enumerate").ac_all
    assert v.within_limits_all is False
    assert [b["vertex"] for b in v.breaking] == [3, 4]
    assert v.breaking[0]["worst"] == bad and v.breaking[1]["converged"] is False
    assert "extreme point 3: 1 limit(s) broken, the largest v_max at bus 7 by 0.01 p.u." \
           in v.text
    assert "extreme point 4: the AC power flow did not converge (diverged)" in v.text
    assert f"(AC power flows at {MAX_AC_SCENARIOS} of the {n} extreme points)" in v.text


def test_the_upper_corner_alone_says_the_others_were_not_evaluated() -> None:
    """A passive feeder evaluates the upper corner only (the model's worst case): True is
    said of the points checked, with how many of how many."""
    r = RobustSummary([VertexOutcome(0, (1, 1, 1, 1), _OK, _ac(0.99))], 0.1, list("abcd"),
                      None, 16, True, oracle="monotone")
    v = r.ac_all
    assert v.within_limits_all is True and (v.points, v.checked) == (16, 1)
    assert v.text.startswith("yes: the AC power flows at the 1 extreme point(s) the solve "
                             "evaluated (of 16; the others have no AC power flow: on this "
                             "passive feeder the model's worst case is the upper corner")
