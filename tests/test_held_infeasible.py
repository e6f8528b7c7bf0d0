"""A proof of infeasibility that rests on holds says so: "no radial configuration with the
held branches (l3 closed) meets the limits", and ``infeasible_reason`` says that the holds are
part of the proof. Before, such a run said "the grid is infeasible" with
``infeasible_reason: null`` while the grid without the hold had a feasible topology (user test
ut_feas #4: ms319 with ``--hold-closed line:13``).

Truth by pandapower's power flow of each of the ring's 4 radial topologies: the one that
opens the long line l3 meets v_min, every one that keeps l3 closed does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import Network
from feederopt.solvers.status import Status
from feederopt.validation.ac import ac_power_flow

V_MIN = 0.95
R_OHM = [0.3, 0.3, 0.3, 12.0]  # l3, from the source to b3, is long


def _ring() -> Network:
    buses = pl.DataFrame({"id": [f"b{i}" for i in range(4)], "vn_kv": [12.66] * 4,
                          "is_source": [True, False, False, False], "v_min_pu": [V_MIN] * 4,
                          "v_max_pu": [1.05] * 4})
    edges = [(0, 1), (1, 2), (2, 3), (0, 3)]
    branches = pl.DataFrame({
        "id": [f"l{k}" for k in range(4)], "from_bus": [f"b{a}" for a, _ in edges],
        "to_bus": [f"b{b}" for _, b in edges], "r_ohm": R_OHM,
        "x_ohm": [0.5 * r for r in R_OHM], "switchable": [True] * 4})
    loads = pl.DataFrame({"id": ["d1", "d2", "d3"], "bus": ["b1", "b2", "b3"],
                          "p_mw": [0.5, 0.5, 0.8], "q_mvar": [0.2, 0.2, 0.3]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="ring").check()


def test_the_hold_is_named_as_part_of_the_proof(tmp_path: Path) -> None:
    net = _ring()
    vmin = {k: ac_power_flow(net, np.arange(4) != k).min_voltage_pu for k in range(4)}
    assert vmin[3] >= V_MIN  # opening l3: within the limits
    assert all(vmin[k] < V_MIN - 1e-3 for k in range(3))  # l3 closed: none is
    free = feederopt.solve(net, time_limit=60)
    assert free.status is Status.OPTIMAL
    held = feederopt.solve(net, time_limit=60, hold_closed=["l3"])
    assert held.status is Status.INFEASIBLE
    reason = held.extra["infeasible_reason"]
    assert "held branches (l3 closed)" in reason and "part of the proof" in reason
    folder = write_folder(net, tmp_path / "ring")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(folder), "--hold-closed", "l3", "--json",
                                   str(out)])
    assert res.exit_code == 3, res.output
    text = " ".join(res.output.split())
    assert "the grid is infeasible" not in text
    assert "No radial configuration with the held branches (l3 closed) meets the limits" in text
    assert "part of the proof" in json.loads(out.read_text())["infeasible_reason"]
