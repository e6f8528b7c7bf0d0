"""A run that stops before it has any topology says so: exit code 4, ``within_limits`` false,
``has_topology`` false, no open branches, no switch states in the tables (not the base case's),
and a report that draws no grid (README, "When no topology meets the limits").

The solvers' "no solution at the time limit" is forced cheaply: SCIP's and the LinDistFlow
MILP's answers are replaced by a time limit without incumbent (what SCIP returned on case118zh
after 20 s, and HiGHS on synthetic1000 after 2 s); Benders gets a time limit too short to
evaluate any topology; the base-case fallback of a run out of time (``api.base_fallback``) is
left out, as for a grid whose base case is meshed. Also: ``switches["operated_by"]`` of a
pandapower net whose ties have no switch element (pandapower's case33bw) is there, and null.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
import feederopt.algorithms.monolithic as monolithic
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.solvers.scip_backend import ScipModel, ScipSolution

api = importlib.import_module("feederopt.api")


def _no_scip_solution(self: ScipModel, *args: Any, **kwargs: Any) -> ScipSolution:
    """SCIP stopped at its time limit before any incumbent, with a dual bound."""
    return ScipSolution(status="time_limit", objective=math.nan, bound=0.1, gap=math.inf,
                        solve_time_s=0.01, has_solution=False, scip_status="timelimit")


def _no_milp_solution(problem: Any, time_limit_s: float = 60.0, threads: int = 1,
                      info: dict[str, float] | None = None) -> tuple[None, str]:
    """The LinDistFlow MILP stopped at its time limit before any incumbent."""
    return None, "time_limit"


@pytest.fixture
def no_solution(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The method, with its solver made to stop without a solution."""
    method = str(request.param)
    # case33bw's base case is radial, so a run out of time answers with it (ut48_core #4,
    # test_time_limit_base_fallback.py); a run without one (a meshed base case, a failed
    # slave) is stood in for by leaving that fallback out
    monkeypatch.setattr(api, "base_fallback", lambda raw, problem, evaluator=None: raw)
    if method == "misocp":
        monkeypatch.setattr(ScipModel, "solve", _no_scip_solution)
    elif method == "lindistflow":
        monkeypatch.setattr(monolithic, "lindistflow_topology", _no_milp_solution)
    return method


#: LinDistFlow answers with the base case when its MILP finds no topology and the base case is
#: radial and within the limits (test_lindistflow_base_fallback.py); case33bw's base case
#: falls to 0.9131 p.u. (Baran & Wu 1989), so a 0.92 p.u. floor leaves it nothing to keep (the
#: optimum, 0.9378 p.u., meets it).
V_MIN_NO_BASE = 0.92


def _limit(method: str) -> str:
    # Benders: its continuous relaxation alone takes longer than this, so no topology is
    # evaluated before the deadline.
    return "0.001" if method == "benders" else "30"


@pytest.mark.parametrize("no_solution", ["misocp", "lindistflow", "benders"], indirect=True)
def test_cli_run_without_a_topology_exits_4_and_claims_no_topology(
        no_solution: str, tmp_path: Path) -> None:
    out, folder = tmp_path / "r.json", tmp_path / "d"
    floor = ["--v-min", str(V_MIN_NO_BASE)] if no_solution == "lindistflow" else []
    res = CliRunner().invoke(app, ["solve", "case33bw", "--method", no_solution,
                                   "--time-limit", _limit(no_solution), "--json", str(out),
                                   "--out", str(folder), "--report", *floor])
    assert res.exit_code == 4, res.output
    text = " ".join(res.output.split())
    assert "No topology was found" in text
    # The hint suggests Benders only to a run of another method (ut_docs, 1).
    assert ("--method benders" in text) is (no_solution != "benders"), text
    doc = json.loads(out.read_text())
    assert doc["status"] == "time_limit"
    assert doc["within_limits"] is False and doc.get("has_topology") is False
    assert doc["open_branches"] == [] and doc["losses_kw"] is None
    # the tables do not pretend a topology: no branch is reported open (nor closed)
    for table in ("branches", "switches"):
        closed = pl.read_parquet(folder / f"{table}.parquet")["closed"]
        assert closed.null_count() == len(closed), table
    assert json.loads((folder / "result.json").read_text())["within_limits"] is False
    assert not (folder / "grid.png").exists()
    page = (folder / "report.html").read_text()
    assert "No topology was found" in page and "open branch" not in page.lower()
    if no_solution == "lindistflow":  # `check` refuses it (once is enough: the same JSON)
        res = CliRunner().invoke(app, ["check", str(out), "-n", "5", "-u", "0.1"])
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert "topology" in res.output


@pytest.mark.parametrize("no_solution", ["misocp", "lindistflow"], indirect=True)
def test_api_run_without_a_topology(no_solution: str) -> None:
    import pandapower.networks as pn

    pp_net = pn.case33bw()
    floor = {"v_min": V_MIN_NO_BASE} if no_solution == "lindistflow" else {}
    r = feederopt.solve(pp_net, method=no_solution, time_limit=30, ac_check=False, **floor)
    assert r.status.value == "time_limit"
    assert r.within_limits is False and r.has_topology is False
    assert r.open_branches == [] and math.isnan(r.losses_kw)
    assert r.branches["closed"].null_count() == r.branches.height
    if no_solution == "misocp":
        assert math.isfinite(r.lower_bound)  # SCIP's dual bound is kept
    with pytest.raises(InputError, match="no topology"):  # typed since ut36_api #5
        r.to_pandapower(pp_net)


def _ring_with_an_out_of_service_tie() -> Any:
    """A 4-bus pandapower ring stored as pandapower's case33bw stores its grid: the tie an
    out-of-service line, no switch element. Small, so that the solve takes a fraction of a
    second: the test is about the reader's switch columns, which are the same for 4 buses as
    for case33bw's 37 branches."""
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, vn_kv=12.66) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for i, j in [(0, 1), (1, 2), (0, 3), (3, 2)]:
        pp.create_line_from_parameters(net, b[i], b[j], length_km=1.0, r_ohm_per_km=0.5,
                                       x_ohm_per_km=0.3, c_nf_per_km=0.0, max_i_ka=1.0)
    net.line.loc[3, "in_service"] = False  # the tie, as case33bw's five
    for k, p in ((1, 0.3), (2, 0.5), (3, 0.2)):
        pp.create_load(net, b[k], p_mw=p, q_mvar=0.4 * p)
    return net


def test_operated_by_is_there_for_ties_without_switch_elements() -> None:
    """pandapower's case33bw stores its five ties as out-of-service lines and has no switch
    element: no switch operates any branch, so the column is there and null throughout.
    The net is a 4-bus ring stored the same way (:func:`_ring_with_an_out_of_service_tie`)."""
    pp_net = _ring_with_an_out_of_service_tie()
    assert len(pp_net.switch) == 0
    r = feederopt.solve(feederopt.load(pp_net), method="lindistflow", time_limit=30,
                        ac_check=False)
    assert r.has_topology and len(r.open_branches) == 1  # the ring is cut once: a tie works
    assert "operated_by" in r.switches.columns
    assert r.switches["operated_by"].dtype == pl.String
    assert r.switches["operated_by"].null_count() == r.switches.height
    assert all("operated_by" not in b for b in r.open_branches)


def test_cli_interrupted_before_any_topology_does_not_point_at_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A stop request (what Ctrl-C's handler makes) before any topology was evaluated (the
    grid's own, which Benders evaluates first, nor the start heuristics'): exit 130, no
    topology, and stderr does not say that "the best topology found so far is above"
    (ut_docs, 1)."""
    import signal

    import feederopt.api as api
    from feederopt.algorithms.benders import Benders
    from feederopt.solvers import interrupt

    first = Benders.assess_first

    def stop_before_the_base(self: Any, y: Any) -> None:
        interrupt.request(signal.SIGINT)  # during the relaxation: the base is not evaluated
        first(self, y)

    def no_starts(*args: Any, **kwargs: Any) -> tuple[list[Any], list[Any]]:
        return [], []

    monkeypatch.setattr(Benders, "assess_first", stop_before_the_base)
    monkeypatch.setattr(api, "start_topologies", no_starts)
    out = tmp_path / "r.json"
    try:
        res = CliRunner().invoke(app, ["solve", "case33bw", "--time-limit", "60",
                                       "--json", str(out)])
    finally:
        interrupt.clear()
    text = " ".join(res.output.split())
    assert res.exit_code == 130, res.output
    assert json.loads(out.read_text())["has_topology"] is False
    assert "No topology was found" in text and "--method benders" not in text
    assert "found so far is above" not in text
    assert "before any topology was found" in text


def test_switches_table_always_has_operated_by():
    """ut36_docs #1: README lists ``operated_by`` among switches.parquet's columns; a network
    that is not a pandapower net (a built-in MATPOWER case) had no such column, so a script
    written against the README failed there. Now it is always present, null where no
    pandapower switch operates the branch."""
    from feederopt import SolveOptions, load, solve
    from feederopt.options import Stop

    # case15da (MATPOWER's, 15 buses) rather than case33bw: any built-in case is not a
    # pandapower net, and this one solves in a tenth of a second
    r = solve(load("case15da"), SolveOptions(method="lindistflow", stop=Stop(time_limit_s=60),
                                             ac_check=False))
    assert "operated_by" in r.switches.columns
    assert r.switches["operated_by"].null_count() == r.switches.height
