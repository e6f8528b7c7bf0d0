"""Issue 18 (seed 004): the day-ahead schedule and its C&CG, on small instances of case33bw with
the built-in devices and profiles: two hours, and only the ten branches of the loop that tie 33
closes switchable (the other ties open), so that each MILP takes seconds.

Independent references: DSM's nested feasible sets (the objective cannot rise with epsilon),
brute force over every extreme point of the budget set (the extensive form, and the LP at each
point), a union-find spanning-tree check, the SOC and DSM identities recomputed here, and
pandapower's Newton-Raphson power flow for the AC check.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.algorithms.ccg import (
    _solve_master,
    evaluate,
    extreme_points,
    solve_ccg,
    solve_deterministic,
    worst_case,
)
from feederopt.api_schedule import schedule_inputs
from feederopt.cli import app
from feederopt.formulations.schedule import ScheduleData, realised
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.validation.schedule import ac_check_hours, sample_budget_set, served_share
from schedule_loop import one_loop_data


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return schedule_inputs("case33bw")


def small(inputs, **kw) -> ScheduleData:  # type: ignore[no-untyped-def]
    return one_loop_data(inputs, 2, **kw)


def _x(d: ScheduleData, sol) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    return {"y": sol.closed[0], "z": sol.z}


def _spanning_tree(n: int, f: np.ndarray, t: np.ndarray, closed: np.ndarray) -> bool:
    """The closed branches form a spanning tree of the n buses (networkx, independent of us)."""
    graph = nx.MultiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from((int(a), int(b)) for a, b, c in zip(f, t, closed, strict=True) if c > 0.5)
    return bool(nx.is_tree(graph))


def test_dsm_objective_non_increasing(inputs) -> None:  # type: ignore[no-untyped-def]
    objs = [solve_deterministic(small(inputs, eps=e), gap=1e-7).objective
            for e in (0.0, 0.1, 0.15, 0.2)]
    for a, b in itertools.pairwise(objs):
        assert b <= a + 1e-6 * max(1.0, abs(a))
    assert objs[-1] < objs[0]  # shifting load pays on this feeder


# the loop that tie 34 closes (buses 9-15): seven switchable branches, the 3-hour brute force
LOOP34 = ("9", "10", "11", "12", "13", "14", "34")


@pytest.mark.parametrize("loss_tol", [None, 0.04])
def test_ccg_equals_brute_force(inputs, loss_tol) -> None:  # type: ignore[no-untyped-def]
    """3 hours, Gamma 1 at bus 12 (gamma 30 %): C&CG against brute force over every radial
    topology of the loop (networkx) and every extreme point of the budget set; with the
    default tangents and with ``--loss-tol 0.04``'s (the policy bound's kinks are the
    tangents' crossings)."""
    net, dev, prof = inputs
    ids = [str(b) for b in net.branches["id"].to_list()]
    others = ("33", "35", "36", "37")

    def build(open_: tuple[str, ...], closed: tuple[str, ...]) -> ScheduleData:
        st = ScheduleSettings(hours=3, gamma=0.3, budget=1.0, uncertain_buses=("12",),
                              fixed_open=open_, fixed_closed=closed, loss_tol=loss_tol)
        return build_schedule_data(net, dev, prof, st)

    d = build(others, tuple(b for b in ids if b not in LOOP34 and b not in others))
    assert len(d.tangents) == (6 if loss_tol is None else 14)
    points = extreme_points(d)
    assert len(points) == 7  # the forecast, and +-gamma at bus 12 in one of three hours
    robust = solve_ccg(d, gap=1e-5, time_limit_s=120)
    # the C&CG under test starts from the policy bound's worst case at a radial x0, with the
    # forecast copy lazy (not from the forecast master)
    assert any(n.startswith("start: x0") for n in robust.notes)
    lbs = [it.lower for it in robust.iterations]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(lbs))
    last = robust.iterations[-1]
    assert last.upper - last.lower <= 2e-4 * max(1.0, abs(last.upper))
    # brute force: each radial topology of the loop, every extreme point a copy
    brute = []
    for b in LOOP34:
        fixed = build((*others, b), tuple(i for i in ids if i not in others and i != b))
        closed = ~np.isin(ids, [*others, b])
        assert _spanning_tree(d.n, d.f, d.t, closed)
        sol, _, _ = _solve_master(fixed, points, 120.0, 1e-7)
        assert sol.status == "optimal"
        brute.append(sol.objective)
    assert robust.objective == pytest.approx(min(brute), rel=5e-4)
    assert max(brute) > min(brute) * (1 + 1e-3)  # the topology matters here
    # the subproblem's worst case at C&CG's first stage is the largest LP over the points
    x = _x(d, robust)
    values = [evaluate(d, x, p)[0] for p in points]
    wc = worst_case(d, x)
    assert wc.value == pytest.approx(max(values), rel=1e-6)
    # robust >= deterministic (the forecast is one of the points)
    det = solve_deterministic(d, gap=1e-7).objective
    assert robust.objective >= det - 1e-9
    assert robust.worst_cost >= robust.nominal_cost - 1e-9
    assert served_share(d, x, sample_budget_set(d, 3, seed=1)) == 100.0


def test_answers_radial_soc_dsm_and_ac(inputs) -> None:  # type: ignore[no-untyped-def]
    net = inputs[0]
    d = small(inputs, eps=0.15)
    sol = solve_deterministic(d, gap=1e-7)
    pt = sol.nominal_point
    H, n = d.hours, d.n
    for h in range(H):
        assert _spanning_tree(n, d.f, d.t, sol.closed[h])
    soc = pt["soc"].reshape(H, -1)
    assert (soc >= -1e-7).all() and (soc <= d.ess_e + 1e-7).all()
    assert (soc[-1] >= d.soc0 - 1e-7).all()
    # the SOC recursion in the seed's form, recomputed
    prev = d.soc0
    for h in range(H):
        ch = pt["pch"].reshape(H, -1)[h]
        dis = pt["pdis"].reshape(H, -1)[h]
        assert soc[h] == pytest.approx(prev + d.eta_ch * ch - d.eta_dis * dis, abs=1e-7)
        assert (np.minimum(ch, dis) <= 1e-9).all()
        prev = soc[h]
    pd, res = realised(d, {"xp": np.zeros(H * n), "xm": np.zeros(H * n),
                           "xr": np.zeros(H * len(d.res_bus))})
    pdr = pt["pdr"].reshape(H, n)
    np.testing.assert_allclose(pdr.sum(1), pd.sum(1), rtol=1e-7)
    assert (pdr <= 1.15 * pd + 1e-7).all() and (pdr >= 0.85 * pd - 1e-7).all()
    assert (pt["pres"].reshape(res.shape) <= res + 1e-7).all()
    # EV energy delivered (scaled to the horizon)
    np.testing.assert_array_less(d.ev_energy - 1e-6, pt["pev"].reshape(H, -1).sum(0) +
                                 pt["short"])
    # the hourly AC power flow agrees with LinDistFlow within 0.005 p.u. of voltage
    checks = ac_check_hours(net, d, sol.closed, pt)
    assert all(c.converged for c in checks)
    assert max(c.max_v_error_pu for c in checks) <= 5e-3


def test_soc_forms(inputs) -> None:  # type: ignore[no-untyped-def]
    from feederopt.formulations.schedule import nominal, recourse_block

    d = small(inputs)
    for physical, k in ((False, d.eta_dis), (True, 1.0 / d.eta_dis)):
        dd = replace(d, physical_soc=physical)
        row = recourse_block(dd, nominal(dd)).row("soc")
        # soc_h - soc_{h-1} - eta_ch pch + k pdis = 0 (soc0 at h = 0)
        coef = row.terms["pdis"].diagonal()
        np.testing.assert_allclose(coef, np.tile(k, dd.hours))
        np.testing.assert_allclose(row.terms["pch"].diagonal(), -np.tile(d.eta_ch, dd.hours))
        np.testing.assert_allclose(row.rhs[: len(d.ess_bus)], d.soc0)


def test_cli_schedule_json_and_check(tmp_path: Path) -> None:
    out = tmp_path / "res.json"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "1", "--dsm", "0.1",
                                 "--json", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["kind"] == "schedule" and doc["status"] == "optimal"
    assert len(doc["open_lines"]) == 5 and doc["violations"] == []
    s = doc["series"]
    assert len(s["substation_p_mw"]) == 1 and set(s["ess_soc_mwh"]) == {"ESS6", "ESS14",
                                                                       "ESS32"}
    r = CliRunner().invoke(app, ["check", str(out), "--samples", "2"])
    assert r.exit_code == 0, r.output
    assert "served without slack" in r.output
    # an edited result whose topology is not a spanning tree, or names no branch of the
    # network, is refused (user test ut_sched3 #3: "100.0 % ... served" for each)
    for edit, kind in ((doc["open_lines"][:-1], "not_radial"), ([], "not_radial"),
                       ([*doc["open_lines"], doc["open_lines"][0].split(":")[0] + "999"],
                        "invalid_value"),
                       ([*doc["open_lines"][:-1], "7"] if "7" not in doc["open_lines"]
                        else [*doc["open_lines"][:-1], "6"], "not_radial")):
        bad = tmp_path / "edited.json"
        bad.write_text(json.dumps({**doc, "open_lines_by_hour": [edit]}))
        r = CliRunner().invoke(app, ["check", str(bad), "--samples", "2"])
        assert r.exit_code == 2, (edit, r.output)
        assert kind in r.output and "Traceback" not in r.output


def test_hourly_topology_relaxes_the_daily_one(inputs) -> None:  # type: ignore[no-untyped-def]
    daily = solve_deterministic(small(inputs), gap=1e-7)
    free = solve_deterministic(small(inputs, hourly=True), gap=1e-7)
    # one topology per day is a restriction of one per hour (switching free here)
    assert free.objective <= daily.objective + 1e-6
    assert all(_spanning_tree(33, small(inputs).f, small(inputs).t, row) for row in free.closed)
    costly = solve_deterministic(small(inputs, hourly=True, c_switch=1e3), gap=1e-7)
    assert (costly.closed == costly.closed[0]).all()  # switching never pays at 1000 $/action
