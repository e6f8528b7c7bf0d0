"""A balanced solve whose time is up before any incumbent answers with the base case when it
is radial (user test ut48_core #4: ``solve case33bw --time-limit 0.3`` on a loaded machine
ended once with status time_limit, losses "-", has_topology false and exit 4, while the same
console said "base case vs limits (AC): within them"). The base topology's one SOCP slave is
solved after the limit; the status stays ``time_limit``, the bound and gap are the run's
(no bound: gap null), and the exit code is the AC verdict's (0: within the limits).

The loaded machine is stood in for deterministically: Benders' limit passes before its first
slave (the base case's) and its start heuristics give nothing; the MISOCP's
solver returns at its limit with no incumbent; LinDistFlow's MILP finds no topology in time.

Truth, independent of feederopt: pandapower's own case33bw (Baran & Wu, IEEE TPWRD 4(2),
1989) with its five tie lines open, solved by ``pandapower.runpp`` (202.68 kW), and the open
branches of the user's case file (its ``normally_open`` column).
"""

from __future__ import annotations

import importlib
import json
import math
import time
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.algorithms import benders, monolithic
from feederopt.algorithms.base import RawSolution
from feederopt.cli import app
from feederopt.solvers.status import Status

api = importlib.import_module("feederopt.api")
LIMIT = 1.0  # [s]


@pytest.fixture(scope="module")
def pandapower_base_losses_kw() -> float:
    net = pn.case33bw()
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum()) * 1000.0


def _time_up_before_any_incumbent(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    if method in ("benders", "benders-scip"):
        # the limit passes before the run's first slave (the base case's, assess_first) and
        # the start heuristics give nothing
        original = benders.Benders.assess_first

        def late(self: benders.Benders, y: object) -> None:
            time.sleep(LIMIT + 0.2)
            original(self, y)

        monkeypatch.setattr(benders.Benders, "assess_first", late)
        monkeypatch.setattr(api, "start_topologies", lambda *a, **k: ([], []))
    elif method == "misocp":
        def at_limit(problem, solver="SCIP", stop=None, evaluator=None):
            return RawSolution(Status.TIME_LIMIT, "misocp", None, math.nan, -math.inf,
                               math.inf, 1, 0.3, solver=solver, within_limits=False,
                               extra={"solver_status": "timelimit"})
        monkeypatch.setattr(api, "solve_misocp", at_limit)
    else:
        monkeypatch.setattr(monolithic, "lindistflow_topology",
                            lambda problem, seconds, info=None: (None, "time_limit"))


@pytest.mark.parametrize("method", ["benders", "benders-scip", "misocp", "lindistflow"])
def test_time_up_before_any_incumbent_answers_the_base_case(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str,
        pandapower_base_losses_kw: float) -> None:
    _time_up_before_any_incumbent(monkeypatch, method)
    out = tmp_path / "t.json"
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "solve", "case33bw", "--method", method, "--time-limit", str(LIMIT), "--json", str(out)])
    assert res.exit_code == 0, res.output  # the base case holds the limits in AC
    doc = json.loads(out.read_text())
    assert doc["status"] == "time_limit"
    assert doc["has_topology"] is True
    network = feederopt.load("case33bw")
    own = sorted(str(i) for i in
                 network.branches.filter(network.branches["normally_open"])["id"].to_list())
    assert len(own) == 5
    assert sorted(str(b["id"]) for b in doc["open_branches"]) == own
    assert doc["losses_kw"] == pytest.approx(pandapower_base_losses_kw, abs=0.05)
    assert doc["ac_check"]["losses_kw"] == pytest.approx(pandapower_base_losses_kw, abs=0.05)
    # the bound and gap honestly: none without a bound, else (UB - LB) / UB
    lower = doc["lower_bound"]
    if lower is None or lower == "-inf":
        assert doc["gap"] is None
    else:
        assert doc["gap"] == pytest.approx((doc["objective"] - lower) / doc["objective"])
        assert lower <= doc["objective"]
    assert "No topology was found" not in res.output

