"""A scenario that no radial topology supplies is proven so by enumerating the grid's few
radial topologies in it, also when the run itself went to the master (user test ut48_scen #3).

The grid is the user test's mesh7 (``netbuild.mesh7_pandapower``: 79 radial topologies) with
40 generated scenarios (``scenarios --growth 0.3 --pv-share 0.5 --ev-share 0.3 --seed 11``),
``--v-min 0.9 --max-loading 70``: 79 x 40 = 3160 slave solves, just over the enumeration's
3000, so the master runs. Before, the verdict's only proof was the MILP with outer-approximated
cones, which missed the current limit: status feasible, exit 4, "infeasibility is not
proven". Truth by pandapower alone: in each scenario the run names, ``runpp`` of every radial
topology (brute force) breaks a limit.
"""

from __future__ import annotations

import copy
import csv
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.results.result import AC_LIMIT_TOLERANCE
from netbuild import mesh7_pandapower, pandapower_radial_line_sets

pp = pytest.importorskip("pandapower")

V_MIN, MAX_LOADING = 0.9, 70.0


def _scenario_net(net: Any, rows: list[dict[str, str]]) -> Any:
    n = copy.deepcopy(net)
    for r in rows:
        if r["kind"] == "load":
            n.load.loc[int(r["element"].split(":")[1]), ["p_mw", "q_mvar"]] = [
                float(r["p_mw"]), float(r["q_mvar"])]
        else:  # a bus row (DER): its demand at the bus, negative when it injects
            pp.create_load(n, int(r["element"]), p_mw=float(r["p_mw"]),
                           q_mvar=float(r["q_mvar"]))
    return n


def _breaks(net: Any, opened: tuple[int, ...]) -> bool:
    net.line["in_service"] = [k not in opened for k in net.line.index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    tol = AC_LIMIT_TOLERANCE["voltage_pu"]
    return bool(net.res_bus.vm_pu.min() < V_MIN - tol
                or net.res_line.loading_percent.max() > MAX_LOADING * 1.001)


def test_an_unsupplied_scenario_is_proven_after_the_master(tmp_path: Path) -> None:
    net = mesh7_pandapower()
    grid = tmp_path / "mesh7.json"
    pp.to_json(net, str(grid))
    table = tmp_path / "m7g40.csv"
    gen = CliRunner().invoke(app, [
        "scenarios", str(grid), "--ties", "out_of_service", "-o", str(table), "-n", "40",
        "--growth", "0.3", "--pv-share", "0.5", "--ev-share", "0.3", "--seed", "11"])
    assert gen.exit_code == 0, gen.output
    res = CliRunner().invoke(app, [
        "solve", str(grid), "--ties", "out_of_service", "--scenarios", str(table),
        "--v-min", str(V_MIN), "--max-loading", str(MAX_LOADING), "--workers", "1",
        "--gap", "0", "--json", str(tmp_path / "r.json")], env={"COLUMNS": "300"})
    doc = json.loads((tmp_path / "r.json").read_text())
    trees = list(pandapower_radial_line_sets(net))
    assert len(trees) == 79
    assert "enumeration of" not in str(doc.get("solver"))
    named = doc.get("unsupplied_scenarios") or []
    assert named, res.output
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    for name in named:  # brute force: every radial topology breaks a limit there in AC
        scen = _scenario_net(net, [r for r in rows if r["scenario"] == name])
        assert all(_breaks(scen, t) for t in trees), name
    assert doc["status"] == "infeasible"
    assert doc["radial_topologies_evaluated"] == 79
    assert res.exit_code == 3, res.output
    assert "each of the grid's 79 radial topologies needs slack in scenario" in res.output
