"""A run whose time is up before it finds a topology within the limits, answered by the grid's
own topology, called that answer "the least-violating state" (user test ut50_core #1:
``solve case136ma -m misocp --time-limit 3`` printed "open branches (least-violating state,
breaks the limits)" and "the SOCP point shown is the least-violating one" beside the note
"the base case is the answer"; ``solve case84tpc --time-limit 0.5``, Benders, whose one
topology evaluated was the grid's own, said "the least-violating one found" with no
``base_fallback`` flag). The base case was chosen for nothing: it is the base-case fallback.

The loaded machine is stood in for deterministically, as in test_time_limit_base_fallback:
the MISOCP's solver returns at its limit with no incumbent, LinDistFlow's MILP finds no
topology in time, and Benders' start heuristics sleep past the limit after the grid's own
topology was evaluated (the one topology evaluated).

Truth, independent of feederopt: pandapower's case33bw (Baran & Wu 1989) with its five tie
lines open breaks ``v_min`` 0.92 (its ``runpp`` minimum is 0.9131 p.u.), and the open branches
of the case file (its ``normally_open`` column).
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
from feederopt.algorithms import monolithic
from feederopt.algorithms.base import RawSolution
from feederopt.algorithms.least_violating import ViolatingCandidate
from feederopt.cli import app
from feederopt.problems.reconfiguration import RadialityModel
from feederopt.solvers.status import Status

api = importlib.import_module("feederopt.api")
LIMIT = 1.0  # [s]
V_MIN = 0.92


def _time_up(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    if method == "benders":
        # the grid's own topology is evaluated first (assess_first); the start heuristics
        # then use up the limit: the base is the one topology the run evaluated
        def slow(*args: object, **kwargs: object) -> tuple[list[object], list[object]]:
            time.sleep(LIMIT + 0.3)
            return [], []

        monkeypatch.setattr(api, "start_topologies", slow)
    elif method == "misocp":
        def at_limit(problem, solver="SCIP", stop=None, evaluator=None):
            return RawSolution(Status.TIME_LIMIT, "misocp", None, math.nan, -math.inf,
                               math.inf, 1, 0.3, solver=solver, within_limits=False,
                               extra={"solver_status": "timelimit"})
        monkeypatch.setattr(api, "solve_misocp", at_limit)
    else:
        monkeypatch.setattr(monolithic, "lindistflow_topology",
                            lambda problem, seconds, info=None: (None, "time_limit"))


@pytest.mark.parametrize("method", ["benders", "misocp", "lindistflow"])
def test_base_case_answer_is_called_the_base_case_fallback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str) -> None:
    net = pn.case33bw()
    pp.runpp(net)
    assert float(net.res_bus.vm_pu.min()) < V_MIN  # the base case breaks the limit
    _time_up(monkeypatch, method)
    folder = tmp_path / "run"
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "solve", "case33bw", "--method", method, "--time-limit", str(LIMIT),
        "--v-min", str(V_MIN), "--out", str(folder)])
    assert res.exit_code == 4, res.output  # the AC check's verdict on the base case
    doc = json.loads((folder / "result.json").read_text())
    network = feederopt.load("case33bw")
    own = sorted(str(i) for i in
                 network.branches.filter(network.branches["normally_open"])["id"].to_list())
    assert sorted(str(b["id"]) for b in doc["open_branches"]) == own  # the grid's own
    assert doc["status"] == "time_limit" and doc["within_limits"] is False
    # the flag and the note say what it is (the Benders run had neither)
    assert doc["base_fallback"] is True
    assert "the base case is the answer" in doc["note"]
    text = " ".join(res.output.split())
    assert "open branches (base-case fallback, breaks the limits)" in text
    assert "the only one evaluated before the run stopped" in text
    assert "not chosen for least violation" in text
    # nowhere called the least-violating one (the table, the AC warning, the slack list)
    assert "least-violating" not in text
    assert "least violating" not in text
    warnings = " ".join(doc["ac_check"]["warnings"])
    assert "base-case fallback" in warnings and "least-violating" not in warnings
    # the report says the same
    html = feederopt.write_report(folder, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "base-case fallback" in html
    assert "least-violating" not in html
    # and so does the check of the result (the topology it checks is the grid's own)
    checked = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "check", str(folder / "result.json"), "-u", "0.05", "-n", "4", "--seed", "1"])
    assert "Traceback" not in checked.output
    said = " ".join(checked.output.split())
    assert "open branches (base-case fallback, breaks the limits)" in said
    assert "the only one evaluated before the run stopped" in said
    assert "least-violating" not in said


def test_a_searched_least_violating_answer_keeps_its_name() -> None:
    """The rule marks the base only when it is the one topology evaluated: a stopped run
    with more violating candidates, or another topology, is not the base-case fallback."""
    problem = api.prepare(feederopt.load("case33bw"), RadialityModel.PARENT_CHILD).problem
    y0 = problem.pu.initial_closed().astype(float)

    one = ViolatingCandidate(y0.copy(), 0.1, math.inf, None)
    raw = RawSolution(Status.TIME_LIMIT, "benders", y0.copy(), math.nan, -math.inf, math.inf,
                      0, 0.5, within_limits=False, candidates=[one])
    assert monolithic.base_only_answer(raw, problem).extra.get("base_fallback") is True
    two = RawSolution(Status.TIME_LIMIT, "benders", y0.copy(), math.nan, -math.inf, math.inf,
                      0, 0.5, within_limits=False, candidates=[one, one])
    assert "base_fallback" not in monolithic.base_only_answer(two, problem).extra
    other = y0.copy()
    other[int(next(i for i in range(len(other)) if other[i] < 0.5))] = 1.0
    other[0] = 0.0
    moved = RawSolution(Status.TIME_LIMIT, "benders", other, math.nan, -math.inf, math.inf,
                        0, 0.5, within_limits=False, candidates=[one])
    assert "base_fallback" not in monolithic.base_only_answer(moved, problem).extra
    proven = RawSolution(Status.INFEASIBLE, "benders", y0.copy(), math.nan, -math.inf,
                         math.inf, 0, 0.5, within_limits=False, candidates=[one])
    assert "base_fallback" not in monolithic.base_only_answer(proven, problem).extra
