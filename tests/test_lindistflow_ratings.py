"""LinDistFlow holds the ratings by a polygon inscribed in ``|S| <= S_max`` (16 sides,
conservative), and its "infeasible" says that it proves nothing (user test ut_feas #3).

The grid is the user test's g4b, built here in pandapower: 14 buses at 20 kV, 17 lines of
which 4 open ties, line 0 rated 0.21 kA (0.231 kA at --max-loading 110). Truth by pandapower
alone: ``runpp`` of the base topology puts line 0 over 110 % (8.79 MVA through a lossless
flow, against 0.231 kA x sqrt(3) x 20 kV = 8.00 MVA), and runpp of a radial topology (lines
4, 14, 15, 16 open) finds it within v_min 0.985 and 110 %. Before, LinDistFlow kept the base
topology (line 0 at 0.2507 kA), then said "the grid is infeasible" and "the model held
them" with ``diagnosis: []``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt.algorithms.monolithic as monolithic
from feederopt.cli import app

EDGES = [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 2.5), (3, 4, 1.0), (4, 5, 2.0), (0, 6, 3.0),
         (6, 7, 1.0), (7, 8, 2.0), (8, 9, 1.5), (0, 10, 1.0), (10, 11, 2.5), (11, 12, 2.0),
         (12, 13, 1.5), (5, 9, 1.5), (3, 8, 2.0), (9, 13, 2.0), (2, 12, 3.0)]
TIES = {13, 14, 15, 16}
LOADS = {1: 1.0, 2: 0.8, 3: 1.2, 4: 0.6, 5: 1.5, 6: 0.7, 7: 1.1, 8: 0.9, 9: 1.3, 10: 0.5,
         11: 1.0, 12: 1.4, 13: 0.8}
V_MIN, MAX_LOADING = 0.985, 110.0


def _g4b() -> Any:
    net = pp.create_empty_network(sn_mva=1)
    for i in range(14):
        pp.create_bus(net, 20.0, index=i, name=f"b{i}", min_vm_pu=0.99, max_vm_pu=1.05)
    pp.create_ext_grid(net, 0, vm_pu=1.02)
    for k, (f, t, length) in enumerate(EDGES):
        line = pp.create_line_from_parameters(net, f, t, length, 0.161, 0.117, 280,
                                              0.21 if k == 0 else 0.319, index=k)
        pp.create_switch(net, f, line, "l", closed=k not in TIES)
    for b, p in LOADS.items():
        pp.create_load(net, b, 1.6 * p, 1.6 * p * 0.4)
    return net


def _runpp(open_lines: set[int]) -> tuple[float, float]:
    """pandapower's (min voltage, max line loading %) with ``open_lines`` open."""
    net = _g4b()
    for k in range(len(EDGES)):
        net.switch.at[k, "closed"] = k not in open_lines
    pp.runpp(net)
    return float(net.res_bus.vm_pu.min()), float(net.res_line.loading_percent.max())


def _within(open_lines: set[int]) -> bool:
    vmin, loading = _runpp(open_lines)
    return vmin >= V_MIN - 1e-6 and loading <= MAX_LOADING + 1e-6


def _radial(open_lines: set[int]) -> bool:
    g = nx.Graph()
    g.add_nodes_from(range(14))
    g.add_edges_from((f, t) for k, (f, t, _) in enumerate(EDGES) if k not in open_lines)
    return nx.is_tree(g)


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("g4b") / "g4b.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.to_json(_g4b(), str(path))
    return path


def _solve(grid: Path, out: Path) -> tuple[Any, dict]:
    res = CliRunner().invoke(app, ["solve", str(grid), "--v-min", str(V_MIN), "--max-loading",
                                   str(MAX_LOADING), "--method", "lindistflow", "--json",
                                   str(out)])
    return res, json.loads(out.read_text())


def test_lindistflow_never_keeps_a_lossless_overload(grid: Path, tmp_path: Path) -> None:
    # truth: the base topology overloads line 0; some radial topology meets the limits
    _, base_loading = _runpp(TIES)
    assert base_loading > MAX_LOADING + 5
    # one radial topology within the limits (by runpp) shows that they can be met
    assert _radial({4, 14, 15, 16}) and _within({4, 14, 15, 16})
    res, doc = _solve(grid, tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    found = {int(b["id"].split(":")[1]) for b in doc["open_branches"]}
    assert found != TIES
    assert _within(found)  # runpp of its topology: within v_min and 110 %
    assert doc["status"] == "feasible" and doc["within_limits"] is True


def test_a_heuristic_topology_that_breaks_the_limits_proves_nothing(
        grid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The MILP's old answer (the base topology) forced: the console and JSON say that the
    heuristic proves nothing, and name the limits that the SOCP model needs slack at."""
    base = np.array([0.0 if k in TIES else 1.0 for k in range(len(EDGES))])
    monkeypatch.setattr(monolithic, "lindistflow_topology",
                        lambda *a, **k: (base.copy(), "optimal"))
    res, doc = _solve(grid, tmp_path / "r.json")
    assert res.exit_code == 4, res.output
    text = " ".join(res.output.split())
    assert "the grid is infeasible" not in text
    assert "the model held them" not in text
    assert "proves nothing" in text and "--method benders decides" in text
    assert "proves nothing" in doc["infeasible_reason"]
    assert {(d["id"], d["limit"]) for d in doc["diagnosis"]} >= {("line:0", "i_max")}
