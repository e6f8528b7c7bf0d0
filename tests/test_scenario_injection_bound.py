"""A scenario's huge injection (a negative ``p_mw`` bus row: PV) is held to the same bound as a
huge demand, and the problem names the offending column and row (user test ut32_par, findings
1 and 2).

A PV row ``s2,bus,18,pv,<p_mw>,0.0,w`` on case33bw: -1e300 MW ended ``solve --scenarios`` in
"OverflowError" (exit 1), -1e12 in a conic-solver failure naming no scenario (exit 1), -500 MW
in a 60 s "infeasible" run (exit 3), where a 50 MW demand at the same bus was refused before
the solve (exit 2). And a 1e6 MVAr bus row was refused as ``p_mw`` with a kW hint on load 18's
0.1047 MW demand. Independent truth: pandapower's own case33bw with every tie closed (the
strongest supply) and a static generator at bus 18 (pandapower's bus 17) has no power flow at
500 MW and 1e12 MW, and has one at 5 MW, which the check lets through.
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


def _table(p_mw: float, q_mvar: float = 0.0) -> pl.DataFrame:
    """Scenarios s1 and s2 at case33bw's nominal loads; s2 has a PV bus row at bus 18."""
    loads = feederopt.load("case33bw").loads
    rows = [{"scenario": s, "kind": "load", "element": str(lid), "der": "load", "p_mw": p,
             "q_mvar": q, "weight": 0.5}
            for s in ("s1", "s2")
            for lid, p, q in zip(loads["id"], loads["p_mw"], loads["q_mvar"], strict=True)]
    rows.append({"scenario": "s2", "kind": "bus", "element": "18", "der": "pv", "p_mw": p_mw,
                 "q_mvar": q_mvar, "weight": 0.5})
    return pl.DataFrame(rows)


def _pandapower_converges(p_mw: float) -> bool:
    net = pn.case33bw()
    net.line["in_service"] = True  # ties closed too: the meshed grid
    assert net.bus.loc[17, "name"] == 17  # feederopt's bus 18 (MATPOWER numbering from 1)
    pp.create_sgen(net, 17, p_mw=p_mw)
    try:
        pp.runpp(net, numba=False, max_iteration=50)
    except pp.LoadflowNotConverged:
        return False
    return bool(net.converged)


@pytest.mark.parametrize("p_mw", [-1e300, -1e12, -500.0])
def test_a_huge_injection_is_a_typed_problem_naming_scenario_bus_and_row(p_mw: float) -> None:
    if abs(p_mw) < 1e13:
        assert not _pandapower_converges(-p_mw)
    with pytest.raises(InputError) as err:
        resolve_scenarios(feederopt.load("case33bw"), _table(p_mw))
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO and problem.is_error
    assert problem.ids == ("s2",) and problem.field == "p_mw"
    assert "in scenario s2, bus 18 injects" in problem.message
    assert "the bus row(s) of bus 18's p_mw" in problem.message
    # the kW reading only where it fits: -500 kW is a plausible PV unit, -1e9 MW is not
    if p_mw == -500.0:
        assert "if the bus row(s) of bus 18's -500 is in kW, write -0.5" in problem.hint
    else:
        assert "is in kW" not in problem.hint and "even read in kW" in problem.hint


def test_a_plausible_injection_passes() -> None:
    assert _pandapower_converges(5.0)
    sset = resolve_scenarios(feederopt.load("case33bw"), _table(-5.0))
    j = sset.bus_ids.index("18")
    assert sset.p_mw[1, j] == pytest.approx(-5.0 + 0.09)  # case33bw's load at bus 18: 90 kW


def test_a_huge_reactive_row_names_q_mvar_and_the_bus_row() -> None:
    with pytest.raises(InputError) as err:
        resolve_scenarios(feederopt.load("case33bw"), _table(1e-30, 1e6))
    (problem,) = err.value.problems
    assert problem.ids == ("s2",) and problem.field == "q_mvar"
    assert "the bus row(s) of bus 18's q_mvar 1e+06" in problem.message
    assert "load 18" not in problem.message + problem.hint
    # 1e6 read as kvar is still 1000 MVAr, 50 times S_sc: no kW hint
    assert "is in kvar" not in problem.hint and "even read in kvar" in problem.hint


def test_a_reactive_row_in_kvar_gets_the_kvar_hint() -> None:
    with pytest.raises(InputError) as err:
        resolve_scenarios(feederopt.load("case33bw"), _table(0.0, 500.0))
    (problem,) = err.value.problems
    assert problem.field == "q_mvar"
    assert "if the bus row(s) of bus 18's 500 is in kvar, write 0.5" in problem.hint


@pytest.mark.parametrize("p_mw", [-1e300, -1e12, -500.0])
def test_cli_exits_2_without_traceback(tmp_path: Path, p_mw: float) -> None:
    scen = tmp_path / "inj.csv"
    _table(p_mw).write_csv(scen)
    out = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(scen), "--json",
                              str(tmp_path / "r.json"), "--time-limit", "30"])
    assert out.exit_code == 2, out.output
    assert "bad_scenario" in out.output and "scenario s2, bus 18" in out.output
    assert "Traceback" not in out.output and "Error:" not in out.output
    assert not (tmp_path / "r.json").exists()
