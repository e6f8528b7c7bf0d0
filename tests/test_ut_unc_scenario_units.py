"""A scenario that asks more of a bus than any power flow can supply, almost always kW written
as MW, is a typed ``bad_scenario`` problem before the solve (user test ut_unc, finding 3).

A planner's scenario with every load of case33bw in kW in the MW column (x1000) made
``feederopt solve case33bw --scenarios FILE`` end in "error: RuntimeError: the penalised slave
failed: solver_error: Solver 'CLARABEL' failed", exit code 1, naming neither the scenario nor
the cause. The network's own loads get this check (a warning, ``load_plausibility``); the
scenario file now gets the same rule, as an error naming the scenarios, the bus, and the load
row with its kW reading. Independent truth: pandapower's own case33bw with every line closed
(the meshed grid, the strongest supply) does not converge at those loads, and does at twice the
nominal loads, which the check lets through.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.scenarios import resolve_scenarios

runner = CliRunner()


def _table(factor: float) -> pl.DataFrame:
    """Scenario ``ok`` at the nominal loads and ``big`` with every load times ``factor``."""
    loads = feederopt.load("case33bw").loads
    return pl.DataFrame([
        {"scenario": s, "kind": "load", "element": str(lid), "p_mw": p * k, "q_mvar": q * k,
         "weight": 0.5}
        for s, k in (("ok", 1.0), ("big", factor))
        for lid, p, q in zip(loads["id"], loads["p_mw"], loads["q_mvar"], strict=True)])


def _pandapower_converges(factor: float) -> bool:
    net = pn.case33bw()
    net.line["in_service"] = True  # ties closed too: the meshed grid
    net.load["p_mw"] *= factor
    net.load["q_mvar"] *= factor
    try:
        pp.runpp(net, numba=False)
    except pp.LoadflowNotConverged:
        return False
    return bool(net.converged)


def test_loads_in_kw_are_a_typed_problem_naming_the_scenario() -> None:
    assert not _pandapower_converges(1000.0)
    with pytest.raises(InputError) as err:
        resolve_scenarios(feederopt.load("case33bw"), _table(1000.0))
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO and problem.is_error
    # the bus named is the furthest beyond its bound, bus 30, whose load is 200 kW and 600
    # kvar (Baran & Wu): the larger part, q_mvar, is the field, and both columns get the hint
    assert problem.ids == ("big",) and problem.field == "q_mvar"
    assert "in scenario big, bus 30" in problem.message
    assert "if load 30's 600 is in kvar, write 0.6 (and its p_mw 200 as 0.2)" in problem.hint


def test_a_heavy_but_suppliable_scenario_passes() -> None:
    assert _pandapower_converges(2.0)
    sset = resolve_scenarios(feederopt.load("case33bw"), _table(2.0))
    assert sset.names == ["ok", "big"]
    # case33bw's loads sum to 3.715 MW (the Baran & Wu paper): 7.43 MW at twice that
    assert sset.p_mw[1].sum() == pytest.approx(2 * 3.715)


def test_cli_exits_2_without_traceback_and_writes_nothing(tmp_path: Path) -> None:
    scen = tmp_path / "kw.csv"
    _table(1000.0).write_csv(scen)
    out = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(scen), "--json",
                              str(tmp_path / "r.json"), "--time-limit", "30"])
    assert out.exit_code == 2, out.output
    assert "bad_scenario" in out.output and "scenario big" in out.output
    assert "Traceback" not in out.output and "RuntimeError" not in out.output
    assert not (tmp_path / "r.json").exists()
