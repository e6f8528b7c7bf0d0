"""``feederopt check`` reports the AC verdict that a solve's result carries and exits as
``solve`` did for it (4: not within the limits).

The result: pandapower's case33bw with v_max 1.05 and three 2.5 MW PV units (buses 17, 32,
24), as in test_ac_limits: power flows back to the source, the SOCP relaxation is not exact,
and the AC operating point of the chosen topology rises above 1.05 p.u. The buses above it
come from pandapower's own ``runpp`` of that net with the result's open lines out of service,
not from feederopt. Before, ``check`` printed the Monte-Carlo shares only and exited 0."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.results.result import AC_LIMIT_TOLERANCE
from netbuild import pv33_pandapower as pv33

pp = pytest.importorskip("pandapower")

runner = CliRunner()


def above_v_max(net: Any, open_lines: list[int]) -> dict[str, float]:
    """pandapower's buses above max_vm_pu + the AC check's tolerance, with exactly
    ``open_lines`` out of service: bus id (pandapower index, as feederopt names it) -> |V|."""
    net = copy.deepcopy(net)
    net.line["in_service"] = True
    net.line.loc[open_lines, "in_service"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    tol = AC_LIMIT_TOLERANCE["voltage_pu"]
    return {str(b): float(v) for b, v in net.res_bus["vm_pu"].items()
            if v > net.bus.at[b, "max_vm_pu"] + tol}


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, int, Path]:
    folder = tmp_path_factory.mktemp("fixa_check")
    net = pv33()
    grid = folder / "pv33.json"
    pp.to_json(net, str(grid))
    result = folder / "result.json"
    res = runner.invoke(app, ["solve", str(grid), "--time-limit", "4", "--json", str(result),
                              "-q"])
    return net, result, res.exit_code, folder


def test_check_reports_the_results_ac_violations_and_exits_4(solved) -> None:
    net, result, solve_code, folder = solved
    doc = json.loads(result.read_text())
    above = above_v_max(net, [int(b["id"].split(":")[1]) for b in doc["open_branches"]])
    assert above, "the fixture must break v_max in AC (else this test shows nothing)"
    out = folder / "check.json"
    res = runner.invoke(app, ["check", str(result), "-u", "0.01", "-n", "2", "--no-ac",
                              "--json", str(out)], env={"COLUMNS": "200"})
    # the exit code that solve gave the same result
    assert solve_code == 4
    assert res.exit_code == 4, res.output
    verdict = json.loads(out.read_text())["result_verdict"]
    assert verdict["within_limits"] is False and verdict["ac_within_limits"] is False
    got = {d["id"]: d for d in verdict["ac_limit_violations"]}
    assert set(got) == set(above)
    for b, v in above.items():
        assert got[b]["limit"] == "v_max"
        assert got[b]["value"] == pytest.approx(v, abs=1e-6)
    assert f"{len(above)} limit(s) broken" in res.output
    assert "breaks the limits" in res.output
    worst = max(above, key=lambda b: above[b])
    assert f"bus {worst}: voltage above its maximum" in res.output


def test_check_quiet_keeps_the_exit_code_and_a_result_within_limits_exits_0(solved) -> None:
    _, result, _, folder = solved
    res = runner.invoke(app, ["check", str(result), "-u", "0.01", "-n", "2", "--no-ac", "-q"])
    assert res.exit_code == 4 and not res.output.strip()
    # the same result with its verdicts within the limits: check exits 0 and says so
    doc = json.loads(result.read_text())
    doc["within_limits"] = True
    doc["ac_check"].update(within_limits=True, limit_violations=[])
    within = folder / "within.json"
    within.write_text(json.dumps(doc))
    res = runner.invoke(app, ["check", str(within), "-u", "0.01", "-n", "2", "--no-ac"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "within the limits" in res.output and "breaks the limits" not in res.output
