"""User test ut51_cli #4: the hint of an empty hold list on case33bw said "e.g. --hold-open
1,10"; pasted, the run was infeasible: line 1 (bus 1-2) is the feeder's only link to the
substation. Now the example's ids can be held together and leave a radial topology.

Independent truth: pandapower's own case33bw (``pandapower.networks.case33bw``: line k-1 is
MATPOWER branch k; the ties are its out-of-service lines) and networkx: held open, the rest of
the lines still join every bus to the ext_grid bus; held closed, they close no loop."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

pp = pytest.importorskip("pandapower")
nx = pytest.importorskip("networkx")


def _example(option: str) -> list[str]:
    out = CliRunner().invoke(app, ["solve", "case33bw", f"--{option}", ""],
                             env={"COLUMNS": "300"})
    text = " ".join(out.output.split())
    assert out.exit_code == 2, text
    found = re.search(rf"hint: e\.g\. --{option} (\S+):", text)
    assert found is not None, text
    return found[1].split(",")


def _graph() -> tuple[object, object, dict[str, tuple[int, int]]]:
    import pandapower.networks as pn

    net = pn.case33bw()
    lines = {str(k + 1): (int(r.from_bus), int(r.to_bus)) for k, r in net.line.iterrows()}
    g = nx.MultiGraph()
    g.add_nodes_from(net.bus.index)
    return net, g, lines


def test_hold_open_example_leaves_every_bus_fed() -> None:
    held = _example("hold-open")
    _net, g, lines = _graph()
    assert len(held) == 2 and set(held) <= set(lines)
    g.add_edges_from(ends for k, ends in lines.items() if k not in held)
    assert nx.is_connected(g), f"holding {held} open cuts buses off"
    # the bug's own example: line 1 is a bridge (the only link to the substation)
    every = nx.MultiGraph(list(lines.values()))
    every.remove_edge(*lines["1"])
    assert not nx.is_connected(every) and "1" not in held


def test_hold_closed_example_closes_no_loop() -> None:
    held = _example("hold-closed")
    _net, g, lines = _graph()
    assert len(held) == 2 and set(held) <= set(lines)
    g.add_edges_from(lines[k] for k in held)
    assert nx.is_forest(nx.Graph(g)) and g.number_of_edges() == 2
