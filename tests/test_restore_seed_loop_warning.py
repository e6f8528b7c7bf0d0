"""``--radiality seed`` can prescribe a meshed operation; the result says so (user test
ut45b_resil #3): on the tester's own10b (an 11 kV 10-bus feeder, 12 switched lines, 3 of them
normally open) with ``line:1`` broken and a 500 kW backup DG at bus 3, the seed's count
constraint lets the MILP close lines 3, 9, 10, 11 and 6, a loop, with no message.

Truth: networkx's cycle basis of the graph of the result's closed lines, built from the
pandapower net's own line ends (not from feederopt): the warning names exactly the lines of a
cycle when there is one, and ``--radiality forest`` (a forest: no cycle) gets no warning."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import own10_pandapower


def _net() -> pp.pandapowerNet:
    """own10b of the tester's make_nets.py."""
    return own10_pandapower([
        (2, 0.6, 0.2, True, 0.5), (3, 0.5, 0.15, True, 1), (4, 0.8, 0.25, False, 1),
        (5, 0.4, 0.1, True, 1), (6, 0.7, 0.2, True, 5), (7, 0.9, 0.3, True, 3),
        (8, 0.3, 0.1, True, 1), (9, 0.6, 0.2, False, 1), (3, 0.2, 0.05, True, 0.0)])


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("radiality", ["seed", "forest"])
def test_a_loop_of_closed_lines_is_warned(tmp_path: Path, radiality: str) -> None:
    net = _net()
    src = tmp_path / "own10b.json"
    pp.to_json(net, str(src))
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["restore", str(src), "--broken", "line:1", "--dg-sites", "3", "--dg-size", "500",
              "--radiality", radiality, "--no-ac-check", "--time-limit", "50",
              "--json", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    graph = nx.MultiGraph()
    for x in doc["operation"]["closed_lines"]:
        k = int(x.split(":")[1])
        graph.add_edge(int(net.line.from_bus[k]), int(net.line.to_bus[k]), key=k)
    loops = nx.cycle_basis(nx.Graph(graph))
    warned = [n for n in doc["notes"] if "not radial" in n]
    if radiality == "forest":
        assert not loops and not warned, (loops, warned)
        return
    assert len(loops) == 1, loops  # the premise: seed closes one loop here
    cycle = loops[0]
    truth = {f"line:{k}" for k in net.line.index
             if f"line:{k}" in doc["operation"]["closed_lines"]
             and {int(net.line.from_bus[k]), int(net.line.to_bus[k])} <= set(cycle)
             and any({cycle[i], cycle[i - 1]} == {int(net.line.from_bus[k]),
                                                 int(net.line.to_bus[k])}
                     for i in range(len(cycle)))}
    assert len(warned) == 1, doc["notes"]
    named = set(warned[0].split("form a loop: ")[1].split(" (")[0].split(", "))
    assert named == truth
    assert "not radial" in res.output and "--radiality forest" in res.output
