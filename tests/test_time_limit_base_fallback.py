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
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.algorithms import benders, monolithic
from feederopt.algorithms.base import RawSolution
from feederopt.cli import app
from feederopt.problems.reconfiguration import RadialityModel
from feederopt.solvers.status import Status
from netbuild import tiny, tiny_pandapower_losses_kw, tiny_tables

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



@pytest.mark.parametrize("method", ["benders", "misocp", "lindistflow"])
def test_base_case_that_breaks_the_limits_exits_by_the_ac_verdict(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str) -> None:
    """With ``--v-min 0.92`` the base case breaks a limit (pandapower's V_min of case33bw's
    base case is 0.9131 p.u.): it is still the answer, as the least-violating one, and the
    exit code is the AC check's, 4."""
    net = pn.case33bw()
    pp.runpp(net)
    assert float(net.res_bus.vm_pu.min()) < 0.92  # the truth the exit code rests on
    _time_up_before_any_incumbent(monkeypatch, method)
    out = tmp_path / "t.json"
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "solve", "case33bw", "--method", method, "--time-limit", str(LIMIT), "--v-min", "0.92",
        "--json", str(out)])
    assert res.exit_code == 4, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "time_limit"
    assert doc["has_topology"] is True and doc["within_limits"] is False
    assert sorted(str(b["id"]) for b in doc["open_branches"]) == [
        "33", "34", "35", "36", "37"]  # case33bw's five ties (Baran & Wu 1989)
    assert doc["ac_check"]["min_voltage_pu"] == pytest.approx(
        float(net.res_bus.vm_pu.min()), abs=1e-4)


def _time_limit_without_topology(status: Status = Status.TIME_LIMIT) -> RawSolution:
    return RawSolution(status, "misocp", None, math.nan, -math.inf, math.inf, 1, 0.3,
                       within_limits=False)


def test_no_fallback_for_a_meshed_base_case_nor_a_stop_request() -> None:
    """A base case with a loop is no answer (the tiny feeder's tie closed: s-a-b-c-s); a
    stopped run (``interrupted``) keeps what it has."""
    br = tiny_tables()["branches"].with_columns(pl.lit(False).alias("normally_open"))
    meshed = api.prepare(tiny(branches=br), RadialityModel.PARENT_CHILD).problem
    raw = _time_limit_without_topology()
    assert monolithic.base_fallback(raw, meshed) is raw
    radial = api.prepare(tiny(), RadialityModel.PARENT_CHILD).problem
    stopped = _time_limit_without_topology(Status.INTERRUPTED)
    assert monolithic.base_fallback(stopped, radial) is stopped
    # the radial base case of the same feeder is the answer (the check above is not vacuous)
    got = monolithic.base_fallback(raw, radial)
    assert got.y is not None and got.status is Status.TIME_LIMIT and got.within_limits
    assert got.objective == pytest.approx(tiny_pandapower_losses_kw({"tie1"}), rel=1e-3)


def test_fallback_solve_has_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The base case's one solve after the limit stops at its cap (session 48's known list: it
    ran to its end however long that took): with a cap already spent the run keeps no
    topology and says the base case was unfinished; the cap is half the run's time, at least
    BASE_FALLBACK_MIN_S."""
    assert monolithic.base_fallback_cap(10.0) == monolithic.BASE_FALLBACK_MIN_S
    assert monolithic.base_fallback_cap(600.0) == pytest.approx(300.0)
    radial = api.prepare(tiny(), RadialityModel.PARENT_CHILD).problem
    raw = _time_limit_without_topology()
    monkeypatch.setattr(monolithic, "base_fallback_cap", lambda run_s: 0.0)
    got = monolithic.base_fallback(raw, radial)
    assert got.y is None and got.status is Status.TIME_LIMIT
    assert got.extra["base_unfinished"] is True and got.extra["base_fallback_cap_s"] == 0.0
