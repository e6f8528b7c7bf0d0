"""A grid that no radial topology supplies within its limits still gets an answer: the
least-violating radial topology, its violated limits named, an honest status and whatever bound
is proven (issue 13, lv_schutterwald).

The grid (7 buses, 10 switchable lines, 79 radial topologies) is built so that every radial
topology breaks v_min = 0.95 p.u.; the test checks that by enumeration, with pandapower's AC
power flow of every topology (independent of the SOCP model), and ranks the topologies by the
least total slack of their fixed-topology SOCP. Three answers are checked against it: a full
solve (the master proves infeasibility: status ``infeasible``, exit code 3), a solve stopped
after the start heuristics (status ``interrupted``, the least-violating start), and the command
line's exit code 4 for a run that stopped before it found a topology within the limits.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
import feederopt.api
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import Network, to_per_unit
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.solvers import interrupt
from feederopt.solvers.status import IterationRecord, Status
from feederopt.validation.ac import ac_power_flow

V_MIN = 0.95
EDGES = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 3), (1, 4), (2, 5), (3, 6), (5, 6)]
R_OHM = [0.6, 0.8, 0.9, 0.7, 0.9, 0.8, 1.2, 1.1, 0.9, 1.0]
P_MW = [0.0, 0.85, 1.02, 1.19, 0.68, 1.36, 1.53]


def weak_grid() -> Network:
    """One source (b0), 7 buses, 3 independent loops; every load too far for v_min."""
    n = len(P_MW)
    buses = pl.DataFrame({"id": [f"b{i}" for i in range(n)], "vn_kv": [12.66] * n,
                          "is_source": [i == 0 for i in range(n)], "v_min_pu": [V_MIN] * n,
                          "v_max_pu": [1.05] * n})
    branches = pl.DataFrame({
        "id": [f"l{k}" for k in range(len(EDGES))],
        "from_bus": [f"b{a}" for a, _ in EDGES], "to_bus": [f"b{b}" for _, b in EDGES],
        "r_ohm": R_OHM, "x_ohm": [0.7 * r for r in R_OHM], "switchable": [True] * len(EDGES)})
    loads = pl.DataFrame({"id": [f"d{i}" for i in range(1, n)],
                          "bus": [f"b{i}" for i in range(1, n)],
                          "p_mw": P_MW[1:], "q_mvar": [0.5 * p for p in P_MW[1:]]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="weak").check()


def _is_radial(n: int, closed: list[tuple[int, int]]) -> bool:
    """A spanning tree of the n buses, by a union-find of our own."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in closed:
        ra, rb = find(a), find(b)
        if ra == rb:
            return False
        parent[ra] = rb
    return len(closed) == n - 1


@pytest.fixture(scope="module")
def enumeration() -> list[tuple[float, frozenset[str], float]]:
    """Every radial topology: (least total slack of its SOCP, open line ids, AC min voltage),
    least slack first."""
    net = weak_grid()
    pu = to_per_unit(net)
    ev = TopologyEvaluator(ReconfigurationProblem(pu))
    n, m = len(P_MW), len(EDGES)
    rows = []
    for opened in itertools.combinations(range(m), m - (n - 1)):
        closed = [EDGES[k] for k in range(m) if k not in opened]
        if not _is_radial(n, closed):
            continue
        y = np.array([0.0 if k in opened else 1.0 for k in range(m)])
        ac = ac_power_flow(net, y > 0.5)
        rows.append((ev.evaluate_violation(y).violation, frozenset(f"l{k}" for k in opened),
                     ac.min_voltage_pu))
    rows.sort(key=lambda r: r[0])
    return rows


def test_no_radial_topology_meets_v_min(enumeration: list) -> None:
    assert len(enumeration) == 79
    # pandapower: every radial topology has a bus below v_min, so nothing is feasible.
    assert max(vmin for _, _, vmin in enumeration) < V_MIN - 1e-3
    assert all(slack > 1e-4 for slack, _, _ in enumeration)
    # A clear least-violating topology (the next one needs several times its slack).
    assert enumeration[1][0] > 3 * enumeration[0][0]


def _open_ids(result: Any) -> frozenset[str]:
    return frozenset(b["id"] for b in result.open_branches)


def test_full_solve_proves_infeasible_and_returns_the_least_violating(
        enumeration: list) -> None:
    best_slack, best_open, best_vmin = enumeration[0]
    result = feederopt.solve(weak_grid(), time_limit=60)
    assert result.status is Status.INFEASIBLE
    assert not result.within_limits
    assert _open_ids(result) == best_open
    assert result.extra["total_violation_pu"] == pytest.approx(best_slack, rel=1e-3)
    assert {d["limit"] for d in result.diagnosis} & {"v_min", "p_balance", "q_balance"}
    # The AC check of the answer is pandapower's power flow of that topology.
    assert result.ac_check is not None and result.ac_check.converged
    assert result.ac_check.min_voltage_pu == pytest.approx(best_vmin, abs=1e-6)
    assert math.isnan(result.losses_kw) and result.to_dict()["within_limits"] is False


def test_run_stopped_before_the_master_answers_with_its_least_violating_start(
        enumeration: list) -> None:
    """A stop request right after the start heuristics (as a time limit would end the run on
    lv_schutterwald): the least-violating radial topology found, not an empty answer."""

    def stop_after_start(rec: Any) -> None:
        # phases come too (PhaseRecord): only the start's bounds stop the run
        if isinstance(rec, IterationRecord) and rec.note == "start":
            interrupt.request()

    try:
        result = feederopt.solve(weak_grid(), time_limit=60, progress=stop_after_start)
    finally:
        interrupt.clear()
    assert result.status is Status.INTERRUPTED
    assert not result.within_limits and result.diagnosis
    slack = {frozenset(o): s for s, o, _ in enumeration}
    found = _open_ids(result)
    assert found in slack  # a radial topology, and its reported slack is the enumerated one
    assert result.extra["total_violation_pu"] == pytest.approx(slack[found], rel=1e-3)
    # The heuristics' repair (sweep violation, then losses) reaches the least-violating one.
    assert found == enumeration[0][1]
    assert result.ac_check is not None and result.ac_check.min_voltage_pu < V_MIN


def test_cli_exit_code_4_when_stopped_without_a_topology_within_the_limits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``solve`` exits 4 (not 0, not 3: infeasibility is not proven) and says so; the JSON
    carries the topology and its violations."""
    real = feederopt.api.solve

    def stopped_at_the_limit(net: Any, **kw: Any) -> Any:
        result = real(net, **kw)
        return replace(result, status=Status.TIME_LIMIT, lower_bound=math.nan)

    monkeypatch.setattr(feederopt.api, "solve", stopped_at_the_limit)
    folder = write_folder(weak_grid(), tmp_path / "weak")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(folder), "--json", str(out)])
    assert res.exit_code == 4, res.output
    assert "infeasibility is not proven" in " ".join(res.output.split())
    doc = json.loads(out.read_text())
    assert doc["status"] == "time_limit" and doc["within_limits"] is False
    assert doc["diagnosis"] and doc["open_branches"]
