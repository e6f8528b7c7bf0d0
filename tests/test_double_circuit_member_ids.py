"""A user names the circuits of their grid, not the model's merged branch: a circuit of a
double circuit (``line:0`` of ``line:0+line:5``, :mod:`feederopt.io.parallel`) given in a hold,
a restoration's broken lines, a scenario file's ``broken`` list or a hardening candidate list
names its merged branch (:meth:`feederopt.network.container.Network.resolve_branch_ids`).
Before, each of these said "branch ids that the network does not have".

Truth, independent of the tool: the grid is built here in pandapower. Bus 1 hangs on the
double circuit alone (no tie reaches it), so with the pair out every radial topology leaves it
unfed: the brute force over the topologies (each checked by pandapower's ``runpp`` that it
feeds the other buses) sheds exactly bus 1's load, a hand value.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io.disasters import parse_disasters
from feederopt.network.container import member_map

LOAD_MW = {1: 0.4, 2: 0.3, 3: 0.5, 4: 0.2}


def _net() -> Any:
    """Source bus 0; the double circuit 0-1 (lines 0 and 5, no switch) to bus 1, a leaf; a
    switched ring 0-2-3 / 0-4 with the tie 3-4 normally open."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in [(0, 1), (0, 2), (2, 3), (0, 4), (3, 4)]:
        pp.create_line_from_parameters(net, b[f], b[t], 1.0, 0.3, 0.3, 10.0, 0.4)
    pp.create_line_from_parameters(net, b[0], b[1], 1.0, 0.3, 0.3, 10.0, 0.4)  # line 5
    for k, (f, _t) in enumerate([(0, 2), (2, 3), (0, 4), (3, 4)]):
        pp.create_switch(net, b[f], k + 1, "l", closed=k != 3)
    for bus, p in LOAD_MW.items():
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.1 * p)
    return net


def _brute_force_shed_kw(out: set[int]) -> float:
    """The least shedding [kW] with the lines ``out`` out of service: over every choice of
    open switched lines (1..4), the loads that pandapower's power flow leaves unfed."""
    best = np.inf
    for states in itertools.product([True, False], repeat=4):
        net = _net()
        net.line.loc[list(out), "in_service"] = False
        for k, closed in enumerate(states):
            net.switch.at[k, "closed"] = closed
        try:
            pp.runpp(net)
        except pp.LoadflowNotConverged:
            continue
        unfed = net.res_bus.vm_pu.isna()
        best = min(best, sum(p for bus, p in LOAD_MW.items() if unfed.at[bus]) * 1e3)
    return float(best)


def test_member_map_reads_the_merged_ids() -> None:
    assert member_map(["L1+L1b", "L2"]) == {"L1": "L1+L1b", "L1b": "L1+L1b"}
    # a part that is a branch id of its own is no circuit of a merge: no guess
    assert member_map(["A+B", "A"]) == {}


def test_a_circuit_named_in_restore_breaks_its_merged_branch() -> None:
    net = feederopt.load(_net())
    assert "line:0+line:5" in net.branches["id"].to_list()
    truth = _brute_force_shed_kw({0, 5})
    assert truth == pytest.approx(LOAD_MW[1] * 1e3)  # hand value: bus 1 only
    got = feederopt.restore(_net(), ["line:0"], ac_check=False)
    assert got.broken == ["line:0+line:5"]  # results keep the merged id
    assert got.shed_kw == pytest.approx(truth, abs=1e-3)


def test_a_circuit_in_a_scenario_file_names_its_merged_branch() -> None:
    net = feederopt.load(_net())
    got = parse_disasters([{"name": "s", "probability": 1.0, "broken": ["line:5", "line:2"]}],
                          net)
    assert got.scenarios[0].broken == ("line:0+line:5", "line:2")


def test_a_hold_on_a_circuit_names_the_circuit_and_its_merged_branch() -> None:
    # the merged branch never opens (a double circuit is merged only when neither circuit
    # is switchable), so the hold is refused as one on a branch that cannot switch, not as an
    # unknown id
    with pytest.raises(InputError) as exc:
        feederopt.solve(_net(), hold_open=["line:0"], time_limit=30)
    text = str(exc.value)
    assert "not switchable" in text and "line:0 (line:0+line:5)" in text
    assert "does not have" not in text


def test_circuits_held_in_contradictory_states_are_named_both() -> None:
    with pytest.raises(InputError) as exc:
        feederopt.solve(_net(), hold_closed=["line:0"], hold_open=["line:5"], time_limit=30)
    both = [p for p in exc.value.problems if "both closed and open" in p.message]
    assert len(both) == 1
    assert "closed as line:0" in both[0].message and "open as line:5" in both[0].message
    assert both[0].ids == ("line:0+line:5",)


def test_the_cli_scenario_file_takes_a_circuit(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps({"scenarios": [
        {"name": "a", "probability": 1.0, "broken": ["line:0"]}]}))
    from feederopt.io.disasters import read_disasters

    got = read_disasters(path, feederopt.load(_net()))
    assert got.scenarios[0].broken == ("line:0+line:5",)
