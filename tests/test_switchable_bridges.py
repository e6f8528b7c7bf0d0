"""``info`` and ``solve`` agree on switchable branches that cannot open (user test ut48_simb
#2): SimBench's 1-LV-rural1--0-sw has 14 switchable branches on a tree, ``info`` said
"switchable 14" and ``solve`` "the only topology (no switchable branch)". Now both say the
switchable branches are bridges: opening any islands load. Truth: brute force on the user's
pandapower net, each switched line opened in turn and pandapower's own topology
(``pandapower.topology.unsupplied_buses``) asked whether a bus with load loses its supply."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandapower as pp
import pandapower.topology as top
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.cli.info import network_info
from feederopt.cli.solve import status_text


def _net(ring: bool):  # type: ignore[no-untyped-def]
    """A 20 kV feeder S - a - b - c with a switch on each line; with ``ring`` a normally open
    tie c - a' and a branch a - a' close a loop (so a - a', b's and c's lines may open)."""
    n = pp.create_empty_network()
    s = pp.create_bus(n, 20, name="S")
    pp.create_ext_grid(n, s)
    buses = [pp.create_bus(n, 20, name=x) for x in ("a", "b", "c")]
    prev = s
    for b in buses:
        ln = pp.create_line_from_parameters(n, prev, b, 1.0, 0.3, 0.4, 10, 0.4)
        pp.create_switch(n, prev, ln, et="l", closed=True)
        pp.create_load(n, b, 0.4, 0.1)
        prev = b
    if ring:
        a2 = pp.create_bus(n, 20, name="a2")
        pp.create_load(n, a2, 0.2, 0.05)
        ln = pp.create_line_from_parameters(n, buses[0], a2, 1.0, 0.3, 0.4, 10, 0.4)
        pp.create_switch(n, buses[0], ln, et="l", closed=True)
        tie = pp.create_line_from_parameters(n, buses[2], a2, 1.0, 0.3, 0.4, 10, 0.4)
        pp.create_switch(n, buses[2], tie, et="l", closed=False)
    return n


def _brute_bridges(net) -> int:  # type: ignore[no-untyped-def]
    """Switched lines whose opening (the others closed) leaves a bus with load unsupplied, by
    pandapower's topology."""
    loaded = set(net.load.bus)
    count = 0
    for k in net.switch.index:
        trial = copy.deepcopy(net)
        trial.switch["closed"] = True
        trial.switch.at[k, "closed"] = False
        count += bool(top.unsupplied_buses(trial) & loaded)
    return count


@pytest.mark.parametrize("ring", [False, True])
def test_info_counts_the_bridges(ring: bool, tmp_path: Path) -> None:
    net = _net(ring)
    expected = _brute_bridges(net)
    assert expected == (3 if not ring else 1)  # the premise: S-a only, on the ring
    info = network_info(_net(ring))
    assert info["switchable"] == len(net.switch)
    assert info["switchable_bridges"] == expected
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    out = CliRunner().invoke(app, ["info", str(path), "--json"], env={"COLUMNS": "200"})
    assert json.loads(out.output)["switchable_bridges"] == expected
    out = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    said = ("3 (all bridges: opening any islands load)" if not ring
            else "5 (1 of them bridges: opening one islands load)")
    assert said in out.output


def test_solve_says_the_switchable_branches_cannot_open() -> None:
    net = _net(False)
    expected = _brute_bridges(net)
    result = feederopt.solve(net, time_limit=30)
    assert result.status.value == "optimal"
    assert result.extra["bridges"] == expected
    text = status_text(result)
    assert "no switchable branch" not in text
    assert f"{expected} switchable, none can open without islanding load" in text
    assert result.extra["note"].startswith(f"{expected} switchable branches, none can open")
