"""The base case's overloads in one unit with the AC check's largest loading (ut46_core #1).

With ``--max-loading 48`` the console's "base case vs limits (AC)" said ``overloads line:0
(118.0 %)`` (the share of the 48 % limit) beside "largest loading 46.77 % of its rating (limit
48 %)", and the JSON's ``over_rating`` had the derated 0.144 kA as the line's ``rating``. Both
now give the loading in % of the line's own rating, with the limit beside it.

The truth is pandapower's ``runpp`` of the user's own net (its switch states as given): the
line's ``loading_percent`` and ``max_i_ka``, with no feederopt code.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app

ENV = {"COLUMNS": "240"}


def two_sources() -> pp.pandapowerNet:
    """Two 20 kV feeders from two ext_grids, four normally open ties (the user's two_src)."""
    net = pp.create_empty_network(f_hz=50)
    b = [pp.create_bus(net, vn_kv=20, name=f"b{i}") for i in range(12)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02, name="S1")
    pp.create_ext_grid(net, b[6], vm_pu=1.00, name="S2")
    edges = [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 2.5), (3, 4, 1.0), (4, 5, 2.0),
             (6, 7, 1.0), (7, 8, 2.0), (8, 9, 1.5), (9, 10, 2.0), (10, 11, 1.0),
             (5, 11, 1.5), (3, 9, 2.0), (2, 8, 3.0), (1, 10, 2.5)]
    for k, (f, t, length) in enumerate(edges):
        li = pp.create_line_from_parameters(net, b[f], b[t], length, 0.32, 0.36, 10, 0.3,
                                            name=f"L{k}")
        pp.create_switch(net, b[f], li, et="l", closed=(k < 10), name=f"SW{k}")
    loads = {1: (1.2, 0.4), 2: (0.8, 0.3), 3: (1.5, 0.6), 4: (0.6, 0.2), 5: (1.4, 0.5),
             7: (0.5, 0.2), 8: (0.7, 0.2), 9: (0.4, 0.1), 10: (0.6, 0.3), 11: (0.9, 0.3)}
    for bus, (p, q) in loads.items():
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q)
    return net


def test_base_case_overload_in_percent_of_the_rating(tmp_path: Path) -> None:
    net = two_sources()
    path = tmp_path / "two_src.json"
    pp.to_json(net, str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)  # the base case: the switch states as given
    truth = float(net.res_line.loading_percent.at[0])  # % of the line's 0.3 kA
    assert 48.0 < truth < 100.0  # over the 48 % limit, within the rating
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--max-loading", "48", "--json",
                                   str(out)], env=ENV)
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if "base case vs limits" in line)
    assert f"overloads line:0 ({truth:.1f} % of its rating, limit 48 %)" in row
    ratings = json.loads(out.read_text())["base"]["rating_limits"]
    over = ratings["over_rating"][0]
    assert over["id"] == "line:0"
    assert abs(over["loading_percent"] - truth) < 1e-3
    assert abs(ratings["max_loading_percent"] - truth) < 1e-3
    assert abs(over["rating"] - float(net.line.max_i_ka.at[0])) < 1e-12  # the line's own
    assert over["limit_percent"] == 48.0
    assert abs(over["limit_value"] - 0.48 * float(net.line.max_i_ka.at[0])) < 1e-12
    assert abs(over["value"] - float(net.res_line.i_ka.at[0])) < 1e-6
