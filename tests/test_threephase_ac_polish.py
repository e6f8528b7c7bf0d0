"""``solve FILE.dss --ac-polish``: the branch exchange on OpenDSS's losses after the MILP.

The feeder is the ring of ``tests/test_threephase_voltage_limits.py`` (switches ``s1``-``s4``
on one loop, ``s1`` open in the base case; its radial states are the four with one switch
open). Every expectation comes from OpenDSS's own solution of the script with each switch
state written into it (``tests/opendss_plain.py``, no feederopt code): the least-loss state of
all (``s4``, 57.1 kW) is below ``--v-min 0.942`` in OpenDSS, the least-loss state within it is
``s3`` (61.4 kW); the base case ``s1`` (116.8 kW) keeps it.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import (
    floating_buses,
    opendss_branch_exchange,
    solve_three_phase,
    with_voltage_limits,
)
from feederopt.cases import load_three_phase
from feederopt.cli import app
from test_threephase_voltage_limits import V_MIN, _expected, _feeder, _states

runner = CliRunner()


def test_polish_moves_the_lossless_answer_to_opendss_least_loss_state(tmp_path: Path) -> None:
    """``--no-voltage-feedback --v-min 0.942 --ac-polish``: the MILP's answer (``s4``, the
    lossless model's) is below the limit in OpenDSS; the polish moves to the least-loss state
    of those that OpenDSS keeps within it, the check is of that state (its losses, within the
    limits, exit 0). Fails on the old code (no ``--ac-polish``: exit 2) and with the polish
    off (``s4``, exit 4)."""
    states = _states(tmp_path)
    best_all, expected = _expected(states)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--v-min", str(V_MIN),
                                 "--no-voltage-feedback", "--ac-polish", "--json", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(out.read_text())
    pol = data["ac_polish"]
    assert pol["enabled"] and len(pol["moves"]) >= 1
    assert pol["moves"][0]["close"] == best_all
    assert data["open_switches"] == [expected] == pol["open_switches"]
    assert pol["opendss_losses_before_kw"] == pytest.approx(states[best_all][0], rel=1e-3)
    assert pol["opendss_losses_after_kw"] == pytest.approx(states[expected][0], rel=1e-3)
    assert pol["stopped"].startswith("no exchange")
    # moved from the MILP's optimum: no longer "optimal" (as the balanced polish)
    assert data["status"] == "feasible"
    assert data["ac_check"]["within_voltage_limits"] and data["ac_check"]["passed"]
    assert data["ac_check"]["losses_kw"] == pytest.approx(states[expected][0], rel=1e-3)
    assert "AC polish" in result.output


def test_polish_from_a_state_within_the_limits_reaches_the_least_loss_one(
        tmp_path: Path) -> None:
    """From the base case (``s1`` open, within ``v_min``) the search moves by exchanges that
    lower OpenDSS's losses to the least-loss state within the limit, and evaluates the three
    exchanges of each state it visits. Fails on the old code (no such function)."""
    states = _states(tmp_path)
    _, expected = _expected(states)
    assert states["s1"][1] >= V_MIN and states["s1"][0] > states[expected][0]
    net = with_voltage_limits(load_three_phase(_feeder(tmp_path)), V_MIN, None)
    opened, rec = opendss_branch_exchange(net, floating_buses(net), ["s1"], ["s1"],
                                          budget_s=60.0, budget_why="cap")
    assert opened == [expected]
    losses = [states["s1"][0]] + [m["opendss_losses_kw"] for m in rec["moves"]]
    assert all(b < a for a, b in itertools.pairwise(losses))
    assert rec["opendss_losses_after_kw"] == pytest.approx(states[expected][0], rel=1e-3)
    assert rec["evaluations"] == 1 + 3 * (len(rec["moves"]) + 1)


def test_polish_makes_no_move_at_opendss_optimum(tmp_path: Path) -> None:
    """With the voltage feedback the answer is already OpenDSS's least-loss state within the
    limit (``s3``): the polish tries its three exchanges and makes no move; without
    ``ac_polish`` the result has no ``ac_polish`` record (nothing changes). Fails on the old
    code (no ``ac_polish``)."""
    states = _states(tmp_path)
    _, expected = _expected(states)
    path = _feeder(tmp_path)
    data = solve_three_phase(path, v_min_pu=V_MIN, time_limit_s=60, ac_polish=True)
    pol = data["ac_polish"]
    assert data["open_switches"] == [expected] and pol["moves"] == []
    assert pol["evaluations"] == 3  # the start is the feedback's own OpenDSS solve
    assert pol["opendss_losses_after_kw"] == pytest.approx(states[expected][0], rel=1e-3)
    plain = solve_three_phase(path, v_min_pu=V_MIN, time_limit_s=60)
    assert "ac_polish" not in plain and plain["open_switches"] == [expected]
    assert data["status"] == plain["status"]  # no move: the status stays the MILP's


def test_ac_polish_on_a_balanced_case_is_the_pandapower_polish() -> None:
    """On a balanced case the option is the pandapower branch exchange
    (tests/test_ac_polish_balanced.py), no longer refused as three-phase only; its bad
    combinations are typed problems, exit 2."""
    result = runner.invoke(app, ["solve", "case33bw", "--ac-polish", "--no-ac-check"])
    assert result.exit_code == 2
    out = result.output + result.stderr
    assert "applies to three-phase" not in out and "needs the AC check" in out


def test_ac_polish_is_skipped_with_scenarios(tmp_path: Path) -> None:
    """With a scenario table the polish is not run: ``ac_polish`` says it was skipped and why,
    and a note says so; the scenarios' answer is the one without the option. Fails on the old
    code (no ``ac_polish``)."""
    from test_threephase_scenarios import _feeder as scen_feeder
    from test_threephase_scenarios import _table

    path = str(scen_feeder(tmp_path))
    data = solve_three_phase(path, scenarios=_table(), thermal_limits=False, ac_polish=True)
    assert data["ac_polish"]["enabled"] is False and "scenarios" in data["ac_polish"]["skipped"]
    assert any(n.startswith("--ac-polish skipped") for n in data["notes"])
    plain = solve_three_phase(path, scenarios=_table(), thermal_limits=False)
    assert data["open_switches"] == plain["open_switches"] and "ac_polish" not in plain


def test_no_ac_check_warning_is_the_polishs_opendss_solve(tmp_path) -> None:
    """``--v-min 0.949 --no-ac-check --ac-polish`` on the ring: no radial state keeps 0.949 in
    OpenDSS (lowest 0.9459-0.9483 p.u., tests/test_threephase_audit.py), so the polish makes
    no move, its OpenDSS solve of the answer breaks the limit, exit 3 (infeasible), and the
    warning gives that solve's range (it quoted the feedback's, which is another solve's
    after a move)."""
    from test_threephase_voltage_limits import FEEDER as RING

    feeder = tmp_path / "ring.dss"
    feeder.write_text(RING)
    res = CliRunner().invoke(app, ["solve", str(feeder), "--v-min", "0.949", "--no-ac-check",
                                   "--ac-polish", "--json", str(tmp_path / "r.json")])
    # no radial state within the limits in OpenDSS: infeasible (ut32_3ph #4)
    assert res.exit_code == 3, res.output
    rec = json.loads((tmp_path / "r.json").read_text())["ac_polish"]
    assert rec["moves"] == [] and rec["within_voltage_limits"] is False
    text = " ".join(res.output.split())
    assert ("AC polish: OpenDSS's voltages of the answer break the limits (OpenDSS "
            f"{rec['opendss_min_voltage_pu']:.4f} - ") in text
    assert rec["opendss_min_voltage_pu"] < 0.949
