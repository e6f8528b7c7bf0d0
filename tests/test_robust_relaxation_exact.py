"""User test ut37_uncert (robinex): a robust solve under reverse power (g10c, 4.2 MW of PV,
v_max 1.004) said "the topology is feasible at every extreme point: yes; worst-case losses
513.293 kW at extreme point 0" while that extreme point's relaxation was not exact (gap 93 %):
pandapower gave 40.70 kW there and broke v_max at 4 buses, and the true worst case over the
extreme points was 94.9 kW elsewhere. Nothing was marked "(not exact)", no note named the
extreme point, and robust_summary did not say which points were inexact, unlike the scenario
path (test_scenario_relaxation_exact.py).

Here the tiny feeder (tests/netbuild.py) with v_max 1.03 p.u. and a fixed 6 MW PV generator at
bus c (power flows back to the source), loads Lb and Lc uncertain by +-50 %: four extreme
points. The truth is pandapower's ``runpp`` of the feeder built by hand
(``tiny_pandapower_net``) at the result's open branches and each extreme point's loads.
"""

from __future__ import annotations

import itertools
import json
import warnings
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.report.scenarios import robust_section
from feederopt.results.result import AC_LIMIT_TOLERANCE
from netbuild import tiny, tiny_pandapower_net, tiny_tables

pp = pytest.importorskip("pandapower")

V_MAX = 1.03
PV_MW = 6.0
X = 0.5
UNCERTAIN = ["Lb", "Lc"]
PV = pl.DataFrame({"id": ["pv"], "bus": ["c"], "p_mw": [PV_MW], "q_mvar": [0.0],
                   "p_min_mw": [PV_MW], "p_max_mw": [PV_MW], "q_min_mvar": [0.0],
                   "q_max_mvar": [0.0]})


def truth(open_ids: set[str], u: list[int]) -> tuple[float, float]:
    """pandapower's losses [kW] and highest voltage [p.u.] at the extreme point of signs
    ``u`` (over :data:`UNCERTAIN`, in that order)."""
    sign = dict(zip(UNCERTAIN, u, strict=True))
    loads = {r["id"]: (r["p_mw"] * (1 + X * sign.get(r["id"], 0)),
                       r["q_mvar"] * (1 + X * sign.get(r["id"], 0)))
             for r in tiny_tables()["loads"].iter_rows(named=True)}
    net = tiny_pandapower_net(open_ids, loads=loads, sgen=("c", PV_MW, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return float(net.res_line.pl_mw.sum() * 1e3), float(net.res_bus.vm_pu.max())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("robexact")
    t = tiny_tables()
    net = tiny(buses=t["buses"].with_columns(pl.lit(V_MAX).alias("v_max_pu")), generators=PV)
    write_folder(net, tmp / "net", fmt="csv")
    res = CliRunner().invoke(app, [
        "solve", str(tmp / "net"), "--robust", str(X), "--uncertain-loads", ",".join(UNCERTAIN),
        "--time-limit", "30", "--workers", "1", "--json", str(tmp / "r.json")],
        env={"COLUMNS": "240"})
    return res, json.loads((tmp / "r.json").read_text())


def test_inexact_extreme_points_are_marked(run: tuple[Any, dict[str, Any]]) -> None:
    """Where pandapower's losses differ from the model's, the extreme point is marked not
    exact (relaxation_exact, relaxation_note with both losses), robust_summary lists it, and a
    note names it; where they agree, it is exact."""
    _, doc = run
    opened = {b["id"] for b in doc["open_branches"]}
    assert {tuple(v["u"]) for v in doc["robust"]} == set(itertools.product((-1, 1), repeat=2))
    inexact = []
    for v in doc["robust"]:
        ac_kw, _ = truth(opened, v["u"])
        assert v["ac"]["losses_kw"] == pytest.approx(ac_kw, rel=1e-6)
        if v["losses_kw"] > ac_kw * 1.01:  # losses that no power flow has
            inexact.append(v["vertex"])
            assert v["relaxation_exact"] is False
            assert v["relaxation_note"] == (f"relaxation not exact (model {v['losses_kw']:.3f} "
                                            f"kW, AC {ac_kw:.3f} kW)")
        else:
            assert v["losses_kw"] == pytest.approx(ac_kw, rel=1e-3)
            assert v["relaxation_exact"] is True and v["relaxation_note"] is None
    assert inexact  # the PV's reverse flow makes the relaxation inexact at a low-load corner
    summ = doc["robust_summary"]
    assert summ["inexact_vertices"] == inexact
    assert summ["worst_vertex"] in inexact
    assert any(f"not exact in {len(inexact)} extreme point(s)" in n
               and f"extreme point {inexact[0]}: relaxation not exact (model" in n
               for n in doc["notes"])


def test_worst_case_over_the_ac_power_flows(run: tuple[Any, dict[str, Any]]) -> None:
    """Beside the model's worst-case losses (counting fictitious losses), the worst case over
    the extreme points' AC power flows: pandapower's largest losses over the four corners."""
    res, doc = run
    opened = {b["id"] for b in doc["open_branches"]}
    by_vertex = {v["vertex"]: truth(opened, v["u"])[0] for v in doc["robust"]}
    worst = max(by_vertex, key=by_vertex.__getitem__)
    summ = doc["robust_summary"]
    assert summ["worst_case_ac_losses_kw"] == pytest.approx(by_vertex[worst], rel=1e-6)
    assert summ["worst_case_ac_vertex"] == worst
    assert summ["worst_case_losses_kw"] > by_vertex[worst] * 1.01
    out = " ".join(res.output.split())
    assert (f"worst-case losses {summ['worst_case_losses_kw']:.3f} kW (not exact) at extreme "
            f"point {summ['worst_vertex']}") in out
    assert (f"over the AC power flows at every extreme point {by_vertex[worst]:.3f} kW at "
            f"extreme point {worst}") in out
    page = robust_section(doc)
    assert "relaxation not exact (model" in page


def test_console_does_not_claim_ac_feasibility(run: tuple[Any, dict[str, Any]]) -> None:
    """pandapower breaks v_max at an inexact extreme point: the console's "feasible at every
    extreme point" is the convex model's only, the broken limits are named, exit code 4."""
    res, doc = run
    opened = {b["id"] for b in doc["open_branches"]}
    tol = AC_LIMIT_TOLERANCE["voltage_pu"]
    broken = [v["vertex"] for v in doc["robust"] if truth(opened, v["u"])[1] > V_MAX + tol]
    assert broken
    summ = doc["robust_summary"]
    assert summ["robust_feasible"] is True  # the model's, needing no slack
    assert summ["ac_limits_broken_vertices"] == broken
    assert res.exit_code == 4, res.output
    out = " ".join(res.output.split())
    assert "feasible at every extreme point in the convex model: yes;" not in out
    assert ("feasible at every extreme point in the convex model: yes, not in AC: the AC power "
            f"flow breaks {len(doc['robust'][broken[0]]['ac']['violations'])} limit(s) at "
            f"extreme point {broken[0]}") in out
    # the one AC verdict over the extreme points names the same ones
    assert doc["ac_within_limits_all"] is False
    assert [b["vertex"] for b in doc["ac_all_check"]["breaking"]] == broken
    assert "within limits (AC, every extreme point checked) │ no:" in out
    assert "only through its inexact relaxation" in out
