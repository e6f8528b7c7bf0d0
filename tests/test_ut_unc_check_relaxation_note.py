"""``feederopt check`` says which share to trust when the convex model holds samples that the
AC power flow does not (user test ut_unc, finding 10).

On SimBench 1-MV-rural--0-sw (96 loads, 25.6 MW of sgens against 17.3 MW of load: reverse
power) at ``--max-loading 50`` and +-40 % loads, a stochastic result's topology was "feasible,
convex model: 59 (98.33 %)" and "feasible, AC power flow: 40 (66.67 %)", side by side. The
convex check is the SOCP relaxation's phase 1 (any point within the limits, no objective),
which can hold a point that is no power flow: line:0 carried 3.79 p.u. in it and 4.04 p.u.
(0.1166 kA of 0.22, 53 %) in pandapower. The check now notes the samples that only the
relaxation holds. Independent truth: pandapower's runpp of the same samples (numpy's draw as
the check documents it), with the result's switch states set on SimBench's own net.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

sb = pytest.importorskip("simbench")
runner = CliRunner()
CODE = "1-MV-rural--0-sw"
OPEN = ["line:11", "line:42", "line:54", "line:62", "line:67", "line:85", "trafo:0"]
OPEN_SWITCHES = [18, 85, 105, 113, 140, 166, 1, 2]  # the pandapower switches of OPEN
X, N, LIMIT = 0.4, 16, 50.0


def _pandapower_feasible() -> int:
    net = sb.get_simbench_net(CODE)
    net.switch["closed"] = True
    net.switch.loc[OPEN_SWITCHES, "closed"] = False
    p0, q0 = net.load["p_mw"].to_numpy().copy(), net.load["q_mvar"].to_numpy().copy()
    u = np.random.default_rng(0).uniform(-1.0, 1.0, size=(N, len(p0)))
    ok = 0
    for row in u:
        net.load["p_mw"], net.load["q_mvar"] = p0 * (1 + X * row), q0 * (1 + X * row)
        pp.runpp(net, numba=False)
        vm, bus = net.res_bus["vm_pu"], net.bus
        ok += bool(((vm >= bus["min_vm_pu"] - 1e-4) | vm.isna()).all()
                   and ((vm <= bus["max_vm_pu"] + 1e-4) | vm.isna()).all()
                   and net.res_line["loading_percent"].fillna(0).max() <= LIMIT * 1.001
                   and net.res_trafo["loading_percent"].fillna(0).max() <= LIMIT * 1.001)
    return ok


def test_samples_only_the_relaxation_holds_are_noted(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps({"case": CODE, "source": f"simbench:{CODE}",
                                  "method": "stochastic-benders", "status": "optimal",
                                  "open_branches": [{"id": b} for b in OPEN]}))
    out_json = tmp_path / "check.json"
    res = runner.invoke(app, ["check", str(result), "--samples", str(N), "--uncertainty",
                              str(X), "--max-loading", str(LIMIT), "--json", str(out_json)],
                        env={"COLUMNS": "200"})
    doc = json.loads(out_json.read_text())
    truth = _pandapower_feasible()
    assert doc["feasible_ac"] == truth
    # samples that break a limit in pandapower: exit 4 (chkexit; before, 0 whatever the share)
    assert truth < N and res.exit_code == 4, res.output
    assert doc["within_limits"] is False and doc["samples_breaking_limits"] == N - truth
    assert doc["feasible_convex"] > doc["feasible_ac"]
    text = " ".join(res.output.split())
    assert (f"note: {doc['feasible_convex'] - doc['feasible_ac']} sample(s) feasible in the "
            "convex model break a limit in the AC power flow") in text
    assert "the AC one, which is the true operating points'" in text


def test_no_note_when_both_agree(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    result.write_text(json.dumps({"case": "case33bw", "method": "benders",
                                  "status": "optimal",
                                  "open_branches": [{"id": b} for b in
                                                    ("7", "9", "14", "32", "37")]}))
    res = runner.invoke(app, ["check", str(result), "--samples", "5", "--uncertainty", "0.1"])
    assert res.exit_code == 0, res.output
    assert "relaxation" not in res.output
