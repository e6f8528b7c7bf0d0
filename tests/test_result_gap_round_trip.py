"""A result's gap round-trips through its JSON: an infeasible run has no incumbent, so its gap
is +inf (``Result``'s docstring: "inf without a bound or an incumbent"); the JSON writes it as
null (JSON has no infinity) and ``Result.from_dict`` and ``feederopt.load_result`` read that
back as inf. Before, they read ``nan`` (user test ut40_recheck_b #3).

Truth that the run is infeasible: pandapower's power flow of each of the ring's radial
topologies, none of which holds every bus at ``V_MIN``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl

import feederopt
from feederopt import Result
from feederopt.network import Network
from feederopt.solvers.status import Status
from feederopt.validation.ac import ac_power_flow

V_MIN = 0.999  # a 1.8 MW load on 12.66 kV lines drops more than 0.1 % in every topology


def _ring() -> Network:
    buses = pl.DataFrame({"id": [f"b{i}" for i in range(4)], "vn_kv": [12.66] * 4,
                          "is_source": [True, False, False, False],
                          "v_min_pu": [V_MIN] * 4, "v_max_pu": [1.05] * 4})
    edges = [(0, 1), (1, 2), (2, 3), (0, 3)]
    r = [0.3, 0.3, 0.3, 12.0]
    branches = pl.DataFrame({
        "id": [f"l{k}" for k in range(4)], "from_bus": [f"b{a}" for a, _ in edges],
        "to_bus": [f"b{b}" for _, b in edges], "r_ohm": r, "x_ohm": [0.5 * x for x in r],
        "switchable": [True] * 4})
    loads = pl.DataFrame({"id": ["d1", "d2", "d3"], "bus": ["b1", "b2", "b3"],
                          "p_mw": [0.5, 0.5, 0.8], "q_mvar": [0.2, 0.2, 0.3]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads,
                               name="ring").check()


def test_an_infeasible_results_infinite_gap_round_trips(tmp_path: Path) -> None:
    net = _ring()
    # each radial topology opens one line of the ring: none keeps every bus at V_MIN
    assert all(ac_power_flow(net, np.arange(4) != k).min_voltage_pu < V_MIN for k in range(4))
    res = feederopt.solve(net, time_limit=60, ac_check=False)
    assert res.status is Status.INFEASIBLE
    assert res.gap == math.inf  # no incumbent within the limits
    assert Result.from_dict(res.to_dict(tables=True)).gap == math.inf
    assert Result.from_dict(json.loads(res.to_json())).gap == math.inf
    feederopt.save(res, tmp_path / "out")
    assert feederopt.load_result(tmp_path / "out").gap == math.inf


def test_a_null_gap_of_an_older_file_reads_as_inf() -> None:
    net = _ring()
    doc = feederopt.solve(net, time_limit=60, ac_check=False).to_dict()
    assert doc["gap"] is None  # JSON has no infinity
    back = Result.from_dict({**doc, "schema_version": 1})
    assert back.gap == math.inf and not math.isnan(back.gap)
