"""The iterations row of a single-tree run says what the tree did (ut46_core #4).

``solve case33bw -m benders-scip --no-probing --radiality flow`` printed ``iterations 0
(closed before any master iteration: tree closed)`` after 24 s of SCIP tree search: with
probing off the SCIP tree *is* the master, so "before any master iteration" was wrong. The row
now says that the count is of topologies evaluated in the SCIP tree, with the tree's nodes.

The truth is the text the user should see, with the node count the JSON's ``engine_stats``
records for the same run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt import iterations_text
from feederopt.cli import app

ENV = {"COLUMNS": "300"}


def _net() -> pp.pandapowerNet:
    """Two 20 kV feeders from two ext_grids joined by four normally open ties."""
    net = pp.create_empty_network(f_hz=50)
    b = [pp.create_bus(net, vn_kv=20) for _ in range(12)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    pp.create_ext_grid(net, b[6], vm_pu=1.00)
    edges = [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 2.5), (3, 4, 1.0), (4, 5, 2.0),
             (6, 7, 1.0), (7, 8, 2.0), (8, 9, 1.5), (9, 10, 2.0), (10, 11, 1.0),
             (5, 11, 1.5), (3, 9, 2.0), (2, 8, 3.0), (1, 10, 2.5)]
    for k, (f, t, length) in enumerate(edges):
        li = pp.create_line_from_parameters(net, b[f], b[t], length, 0.32, 0.36, 10, 0.3)
        pp.create_switch(net, b[f], li, et="l", closed=(k < 10))
    loads = {1: (1.2, 0.4), 2: (0.8, 0.3), 3: (1.5, 0.6), 4: (0.6, 0.2), 5: (1.4, 0.5),
             7: (0.5, 0.2), 8: (0.7, 0.2), 9: (0.4, 0.1), 10: (0.6, 0.3), 11: (0.9, 0.3)}
    for bus, (p, q) in loads.items():
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q)
    return net


def test_console_names_the_tree_not_a_master_iteration(tmp_path: Path) -> None:
    path = tmp_path / "two_src.json"
    pp.to_json(_net(), str(path))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "-m", "benders-scip", "--no-probing",
                                   "--json", str(out)], env=ENV)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal" and doc["iterations"] == 0
    assert [r["note"] for r in doc["iteration_log"]][-1] == "tree closed"
    nodes = int(doc["engine_stats"]["master_nodes"])
    row = next(line for line in res.output.splitlines() if "iterations" in line)
    assert (f"0 topologies evaluated in the SCIP tree (the master, {nodes} nodes): none beat "
            "the start topology, which the tree proved optimal") in row
    assert "before any master iteration" not in res.output


def test_other_endings_of_the_tree() -> None:
    stats = {"master_nodes": 140.0}
    assert iterations_text(5, "optimal", ["start", "in tree", "tree closed"], stats) == (
        "5 topologies evaluated in the SCIP tree (the master, 140 nodes), which closed the "
        "gap")
    assert iterations_text(2, "time_limit", ["start", "tree time_limit"], stats) == (
        "2 topologies evaluated in the SCIP tree (the master, 140 nodes); it ended: tree "
        "time_limit")
    # a run without a tree keeps its words (the loop branch-and-bound closed it)
    assert iterations_text(0, "optimal", ["start", "probing: loop branch-and-bound"]) == (
        "0 (closed before any master iteration: probing: loop branch-and-bound)")
