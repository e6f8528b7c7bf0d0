"""``feederopt check`` of an infeasible result checks its least-violating topology, says so,
and exits 3 as the solve did (user test ut39_uncert #1). Before, it refused the result (exit
2, "it holds no feasible topology to check") while its help promised the solve's exit code, 3
when the grid is proven infeasible, and the result holds the topology the solve printed as
"open branches (least-violating state, breaks the limits)".

The grid: the 9-bus feeder of ut39 (its best radial topology reaches V min 0.9744 p.u.) solved
at ``--v-min 0.975``: no radial topology holds it. Truth: an independent pandapower loop over
the check's documented draws (``numpy.random.default_rng(seed).uniform(-1, 1, (N, loads))``,
``p, q = p0, q0 (1 + X u)`` on every load) with the result's lines out of service, held to the
solve's ``v_min`` and the AC check's tolerances (1e-4 p.u., 0.1 % of a rating)."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import nine_bus_pandapower

pp = pytest.importorskip("pandapower")

X, N, SEED, V_MIN = 0.3, 40, 3, 0.975
runner = CliRunner()


def pandapower_ok(net: Any, open_lines: list[int]) -> list[bool]:
    """Per sample: every bus but the source's within [V_MIN, max_vm_pu] and every line within
    its rating, with the AC check's tolerances."""
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    net.line["in_service"] = [i not in open_lines for i in net.line.index]
    p0, q0 = net.load.p_mw.to_numpy().copy(), net.load.q_mvar.to_numpy().copy()
    u = np.random.default_rng(SEED).uniform(-1, 1, size=(N, len(net.load)))
    other = [b for b in net.bus.index if b not in set(net.ext_grid.bus)]
    ok = []
    for row in u:
        net.load["p_mw"] = p0 * (1 + X * row)
        net.load["q_mvar"] = q0 * (1 + X * row)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, numba=False)
        vm = net.res_bus.vm_pu[other]
        ok.append(bool(vm.min() >= V_MIN - 1e-4 and vm.max() <= 1.1 + 1e-4
                       and (net.res_line.loading_percent[net.line.in_service] <= 100.1).all()))
    return ok


@pytest.fixture(scope="module")
def infeasible(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, int]:
    folder = tmp_path_factory.mktemp("ut39_check")
    net = nine_bus_pandapower()
    grid = folder / "net9.json"
    pp.to_json(net, str(grid))
    result = folder / "r_inf.json"
    res = runner.invoke(app, ["solve", str(grid), "--v-min", str(V_MIN), "--no-ac-check",
                              "--json", str(result), "-q"])
    return net, result, res.exit_code


def test_check_of_an_infeasible_result_checks_its_least_violating_topology(infeasible) -> None:
    net, result, solve_code = infeasible
    doc = json.loads(result.read_text())
    assert solve_code == 3 and doc["status"] == "infeasible" and doc["has_topology"] is True
    open_lines = [int(b["id"].split(":")[1]) for b in doc["open_branches"]]
    truth = pandapower_ok(net, open_lines)
    assert 0 < sum(truth) < N  # the topology breaks the limits in some samples, not all
    out = result.parent / "check.json"
    res = runner.invoke(app, ["check", str(result), "-u", str(X), "-n", str(N), "--seed",
                              str(SEED), "--json", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code == 3, res.output  # the solve's: the grid is proven infeasible
    data = json.loads(out.read_text())
    assert data["feasible_ac"] == sum(truth)
    assert data["samples"] == N and data["least_violating"] is True
    assert data["result_verdict"]["exit_code"] == 3
    assert sorted(data["open_branches"]) == sorted(b["id"] for b in doc["open_branches"])
    # said prominently: a warning before the table, and the row's label
    assert "warning: the result is infeasible" in res.output
    assert "least-violating one" in data["notes"][0]
    assert "open branches (least-violating state, breaks the limits)" in res.output
    assert "Traceback" not in res.output
    quiet = runner.invoke(app, ["check", str(result), "-u", str(X), "-n", "2", "--no-ac",
                                "-q"])
    assert quiet.exit_code == 3 and not quiet.output.strip()


def test_an_infeasible_result_without_a_topology_is_still_refused(infeasible) -> None:
    _, result, _ = infeasible
    doc = json.loads(result.read_text())
    doc["has_topology"] = False
    path = result.parent / "no_topology.json"
    path.write_text(json.dumps(doc))
    res = runner.invoke(app, ["check", str(path), "-u", "0.1", "-n", "2", "--no-ac"])
    assert res.exit_code == 2 and "has_topology" in res.output, res.output
