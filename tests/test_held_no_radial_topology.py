"""Holds that leave no radial topology say so, not that the limits are broken (ut46_core #3).

``solve two_src.json --hold-closed ...`` with held lines joining the two sources printed "No
radial configuration with the held branches (...) meets the limits (proven)" while the JSON's
``infeasible_reason`` said "the closed branches join two sources": no radial topology exists
with those holds, whatever the limits. The console now gives that structural reason.

The truth is a brute force over every set of closed lines of the net (networkx, no feederopt
code): a radial topology supplies every bus from exactly one of the two sources (a spanning
forest of two trees, each with one source); none keeps the held lines closed, while some exist
without the holds.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import networkx as nx
import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app

ENV = {"COLUMNS": "240"}
EDGES = [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 2.5), (3, 4, 1.0), (4, 5, 2.0),
         (6, 7, 1.0), (7, 8, 2.0), (8, 9, 1.5), (9, 10, 2.0), (10, 11, 1.0),
         (5, 11, 1.5), (3, 9, 2.0), (2, 8, 3.0), (1, 10, 2.5)]
SOURCES = (0, 6)
#: 0-1 (line 0), 1-10 (line 13), 10-9-8-7-6 (lines 8, 7, 6, 5): a path between the sources
HELD = [0, 13, 8, 7, 6, 5]


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network(f_hz=50)
    b = [pp.create_bus(net, vn_kv=20) for _ in range(12)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    pp.create_ext_grid(net, b[6], vm_pu=1.00)
    for k, (f, t, length) in enumerate(EDGES):
        li = pp.create_line_from_parameters(net, b[f], b[t], length, 0.32, 0.36, 10, 0.3)
        pp.create_switch(net, b[f], li, et="l", closed=(k < 10))
    for bus in (1, 2, 3, 4, 5, 7, 8, 9, 10, 11):
        pp.create_load(net, b[bus], p_mw=0.5, q_mvar=0.2)
    return net


def _radial(closed: tuple[int, ...]) -> bool:
    g = nx.MultiGraph()
    g.add_nodes_from(range(12))
    g.add_edges_from((EDGES[k][0], EDGES[k][1]) for k in closed)
    g.add_edge("S", SOURCES[0])  # the sources joined by a super-source: a spanning tree
    g.add_edge("S", SOURCES[1])
    return nx.is_tree(g)


def test_holds_joining_two_sources_give_the_structural_reason(tmp_path: Path) -> None:
    trees = [c for c in itertools.combinations(range(len(EDGES)), 10) if _radial(c)]
    assert trees  # the grid has radial topologies ...
    assert not [c for c in trees if set(HELD) <= set(c)]  # ... none with the holds
    path = tmp_path / "two_src.json"
    pp.to_json(_net(), str(path))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--json", str(out), "--hold-closed",
                                   ",".join(f"line:{k}" for k in HELD)], env=ENV)
    assert res.exit_code == 3, res.output
    text = " ".join(res.output.split())
    assert "No radial topology exists with the held branches (" in text
    assert "whatever the limits" in text
    assert "meets the limits" not in text  # no limit plays a part
    doc = json.loads(out.read_text())
    assert doc["status"] == "infeasible" and doc["no_radial_topology"] is True
    assert doc["infeasible_reason"].startswith(
        "no radial topology exists with the held branches (")
    assert "join two sources" in doc["infeasible_reason"]
