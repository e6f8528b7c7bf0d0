"""A robust run that ends without a topology says so (user test ut_unc, finding 2).

``feederopt solve mvrural.json --robust 0.2 --time-limit 60`` (SimBench 1-MV-rural--0-sw, 96
loads, 102 sgens: the exact worst-case search) stopped at the time limit before any topology.
The console then printed "the topology is feasible at every extreme point: no; worst-case
losses - at extreme point None", the 2^96 extreme points as a 29-digit number, and the note
that the headline tables "are the chosen topology's at the nominal load"; the report's robust
totals said "feasible at every extreme point: no". There is no topology to be (in)feasible.

The run is made here from a real robust solve of ``tiny`` with its topology taken away as the
solver does when none is found (``has_topology`` false, no extreme point evaluated), and the
extreme-point count of 96 loads without a budget, 2^96.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import feederopt
from feederopt.cli.scenarios import print_uncertain
from feederopt.report.scenarios import robust_section
from netbuild import tiny


@pytest.fixture(scope="module")
def solved() -> Any:
    r = feederopt.solve(tiny(), robust=0.3, time_limit=30, workers=1)
    assert r.has_topology and r.uncertain is not None and r.uncertain.robust_feasible
    return r


def _without_topology(r: Any) -> Any:
    summary = dataclasses.replace(r.uncertain, vertices=[], robust_feasible=None,
                                  extreme_points=2 ** 96, worst_case_losses_kw=None,
                                  worst_case_objective_kw=None, worst_vertex_ac=None)
    return dataclasses.replace(r, has_topology=False, within_limits=False, uncertain=summary)


def _console(r: Any, capsys: pytest.CaptureFixture[str]) -> str:
    print_uncertain(r)
    return " ".join(capsys.readouterr().out.split())


def test_no_topology_is_not_called_infeasible(solved: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = _console(_without_topology(solved), capsys)
    assert "no topology was found" in out
    assert "feasible at every extreme point" not in out
    assert "None" not in out
    assert "the chosen topology's" not in out
    # 2^96 = 7.9228e28 (by hand), not its 29 digits
    assert "about 7.92e+28 extreme points" in out and str(2 ** 96) not in out
    html = robust_section(_without_topology(solved).to_dict())
    assert "no topology found" in html


def test_with_a_topology_the_line_is_unchanged(solved: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = _console(solved, capsys)
    # tiny has 4 loads, all uncertain, no budget: 2^4 = 16 extreme points (by hand)
    assert "budget none, 16 extreme points; the topology is feasible at every extreme point " \
           "in the convex model: yes" in out
    assert f"at extreme point {solved.uncertain.worst_vertex}" in out
    assert "the chosen topology's" in out


def test_the_worst_extreme_point_shows_its_signs(solved: Any,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """User test ut_growth: the console named the worst extreme point by its number only. On
    ``tiny`` (every load consumes, no PV) the worst point is every load at ``1 + X``."""
    summary = solved.uncertain
    hit = next(v for v in summary.vertices if v.vertex == summary.worst_vertex)
    assert all(u > 0 for u in hit.u)
    out = _console(solved, capsys)
    expected = ", ".join(f"{load}+" for load in summary.uncertain_loads)
    assert f"(loads {expected})" in out


def test_a_stochastic_run_without_topology_evaluated_no_scenario(
        capsys: pytest.CaptureFixture[str]) -> None:
    """User test ut_growth: interrupted before its first topology, a scenario run printed
    "0 scenario(s) need slack", as if every scenario had been evaluated and passed."""
    import polars as pl

    net = tiny()
    loads = net.loads["id"].to_list()
    table = pl.DataFrame({"scenario": ["a"] * len(loads), "kind": ["load"] * len(loads),
                          "element": loads, "p_mw": [0.1] * len(loads),
                          "q_mvar": [0.02] * len(loads), "weight": [1.0] * len(loads)})
    r = feederopt.solve(net, scenarios=table, time_limit=30, workers=1)
    assert "scenario(s) need slack" in _console(r, capsys)
    none = dataclasses.replace(r, has_topology=False, within_limits=False)
    out = _console(none, capsys)
    assert "need slack" not in out and "no scenario was evaluated" in out


def test_a_stochastic_run_without_topology_prints_no_empty_scenario_table(
        capsys: pytest.CaptureFixture[str]) -> None:
    """User test ut50_par #2 (cosmetic): a scenario solve interrupted before its first
    topology evaluated no scenario (its summary holds no row) and printed the scenario
    table's title and headers with no row. Now one line says that none was evaluated."""
    import polars as pl

    net = tiny()
    loads = net.loads["id"].to_list()
    table = pl.DataFrame({"scenario": ["a"] * len(loads), "kind": ["load"] * len(loads),
                          "element": loads, "p_mw": [0.1] * len(loads),
                          "q_mvar": [0.02] * len(loads), "weight": [1.0] * len(loads)})
    r = feederopt.solve(net, scenarios=table, time_limit=30, workers=1)
    assert "scenarios (one topology for all)" in _console(r, capsys)  # the table, evaluated
    none = dataclasses.replace(r, has_topology=False, within_limits=False,
                               uncertain=dataclasses.replace(r.uncertain, scenarios=[]))
    out = _console(none, capsys)
    assert "one topology for all" not in out and "weight" not in out  # no headers
    assert "none evaluated (no topology)" in out
