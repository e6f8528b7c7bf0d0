"""The voltage feedback and the AC polish judge the lines' ratings by OpenDSS's currents, not
only the voltages: an answer that OpenDSS finds above a rating the switches can change is not
accepted, and the feedback tightens that rating for the next MILP by ``L_model / L_OpenDSS``.

The feeder is the 12.47 kV ring of ``tests/test_threephase_voltage_limits.py`` (switches
``s1``-``s4`` on ``m-a1-a2-x-b2-b1-m``, ``s1`` open in the base case, one radial state per open
switch) with the line ``ma`` (m-a1) rated ``NormAmps=210``. With ``s3`` or ``s4`` open, ``ma``
feeds ``a1``, ``a2`` and ``x``: LinDist3Flow's lossless flow puts its phase a at 208 A
(within 210 A), OpenDSS's currents at 216-217 A (103 %), the losses and the voltage drop of the
AC power flow. The least-loss state by the loss proxy, ``s4``, is so within the rating for the
MILP and above it in OpenDSS.

The truth is OpenDSS's own solution of the script with each radial state written into it, read
with ``opendssdirect`` in this file (no feederopt code): each state's losses, lowest voltage and
every line's largest phase current over its ``NormAmps``. The expected answer is the state of
least OpenDSS losses among those within 0.9-1.1 p.u. and every rating (``head``, the only
bridge, carries under 70 % in every state).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase
from feederopt.cli import app
from feederopt.cli.app import EXIT_LIMITS_BROKEN
from opendss_plain import active_line_loadings, solve_script
from test_threephase_voltage_limits import FEEDER

runner = CliRunner()
SWITCHES = ("s1", "s2", "s3", "s4")
V_BASE = 12470 / math.sqrt(3)
RATED = FEEDER.replace("New Line.ma Phases=3 Bus1=m Bus2=a1 LineCode=lowr Length=12 units=kft",
                       "New Line.ma Phases=3 Bus1=m Bus2=a1 LineCode=lowr Length=12 units=kft "
                       "NormAmps=210")
assert RATED != FEEDER


def _feeder(tmp_path: Path) -> Path:
    path = tmp_path / "ring_rated.dss"
    path.write_text(RATED)
    return path


def opendss_state(script: str, folder: Path) -> tuple[float, float, dict[str, float]]:
    """OpenDSS's solution of ``script``: losses [kW] (the source's power less the loads'),
    the lowest node voltage [p.u. of 12.47 kV] and every enabled line's loading [% of
    NormAmps], its largest phase-conductor current at either terminal."""
    solve_script(script, folder, "truth.dss")
    source = -float(dss.Circuit.TotalPower()[0])
    loads = 0.0
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        loads += float(np.sum(dss.CktElement.Powers()[0::2]))
    vmin = math.inf
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        mags = np.asarray(dss.Bus.VMagAngle(), float)[0::2]
        vmin = min(vmin, float(mags.min()) / V_BASE)
    return source - loads, vmin, active_line_loadings()


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, float, dict]]:
    folder = tmp_path_factory.mktemp("truth")
    return {sw: opendss_state(RATED.replace("Open Line.s1 term=2", f"Open Line.{sw} term=2"),
                              folder) for sw in SWITCHES}


def _expected(truth: dict[str, tuple[float, float, dict]]) -> str:
    ok = [sw for sw, (_, vmin, load) in truth.items()
          if vmin >= 0.9 and max(load.values()) <= 100.0]
    return min(ok, key=lambda sw: truth[sw][0])


def test_premises(truth: dict[str, tuple[float, float, dict]]) -> None:
    least = min(SWITCHES, key=lambda sw: truth[sw][0])
    assert least == "s4" and truth["s4"][2]["ma"] > 101.0  # the least-loss state overloads ma
    assert truth["s3"][2]["ma"] > 101.0
    assert _expected(truth) == "s2"
    assert all(truth[sw][2]["head"] < 70.0 for sw in SWITCHES)  # the bridge: no overload


def test_without_the_feedback_the_milp_answers_an_overload(
        tmp_path: Path, truth: dict[str, tuple[float, float, dict]]) -> None:
    """The lossless model keeps ``ma`` within its rating at ``s4``; OpenDSS's check does not."""
    out = solve_three_phase(str(_feeder(tmp_path)), voltage_feedback=False)
    assert out.open_switches == ("s4",) and out.status == "optimal"
    assert out.ac_check is not None and not out.ac_check.within_thermal_limits
    assert out.ac_check.loading["max_loading_element"] == "Line.ma"
    assert out.ac_check.loading["max_loading_percent"] == pytest.approx(
        truth["s4"][2]["ma"], rel=1e-3)


def test_feedback_tightens_the_rating_and_answers_within_it(
        tmp_path: Path, truth: dict[str, tuple[float, float, dict]]) -> None:
    expected = _expected(truth)
    out = solve_three_phase(str(_feeder(tmp_path)))
    assert list(out.open_switches) == [expected]
    assert out.ac_check is not None and out.ac_check.within_thermal_limits
    assert out.ac_check.within_voltage_limits and out.ac_check.passed
    assert out.ac_check.losses_kw == pytest.approx(truth[expected][0], rel=1e-3)
    fb = out.voltage_feedback
    answers = [r for r in fb.iterations if r["topology"] == "answer"]
    # the first MILP's answer is s4, which OpenDSS finds above ma's rating
    assert answers[0]["open_switches"] == ["s4"] and answers[0]["rating_factors"] == {}
    assert answers[0]["overloads_switched"][0].startswith("Line.ma (")
    assert answers[0]["within_limits"] is False and answers[0]["within_voltage_limits"]
    # the next MILP holds ma to a tightened rating: L_model / L_OpenDSS < 1, by at most the
    # model's error (a few per cent)
    factor = answers[1]["rating_factors"]["Line.ma"]
    assert 0.9 < factor < 100.0 / truth["s4"][2]["ma"]
    assert answers[1]["open_switches"] == [expected] and answers[1]["within_limits"]
    assert fb.record["rating_factors"] == {"Line.ma": factor}
    assert fb.record["within_limits"] is True
    assert fb.iterations[fb.kept_iteration]["open_switches"] == [expected]


def test_cli_exit_code(tmp_path: Path) -> None:
    js = tmp_path / "out.json"
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--json", str(js)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--no-voltage-feedback"])
    assert res.exit_code == EXIT_LIMITS_BROKEN, res.output
    assert json.loads(js.read_text())["ac_check"]["within_thermal_limits"] is True


def test_ac_polish_leaves_an_overloaded_answer(
        tmp_path: Path, truth: dict[str, tuple[float, float, dict]]) -> None:
    """From the MILP's ``s4`` (no feedback), the polish moves to the least-loss exchange
    within the ratings; judging voltages only, it stayed at ``s4``."""
    expected = _expected(truth)
    out = solve_three_phase(str(_feeder(tmp_path)), voltage_feedback=False, ac_polish=True)
    assert out.ac_polish is not None and out.ac_polish.moves
    assert out.ac_polish.moves[0]["open"] == expected and out.ac_polish.moves[0]["close"] == "s4"
    assert list(out.open_switches) == [expected]
    assert out.ac_check is not None and out.ac_check.within_thermal_limits
    assert out.ac_polish.record["within_limits"] is True
    assert out.ac_polish.opendss_losses_after_kw == pytest.approx(truth[expected][0], rel=1e-3)
