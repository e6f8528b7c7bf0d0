"""Voltage limits of a three-phase solve (``--v-min``/``--v-max``), OpenDSS's voltages of the
answer set against them, and the voltage feedback that makes the answer keep them in OpenDSS,
not only in the lossless LinDist3Flow model.

The feeder (written here, 12.47 kV): ``head`` from the source to ``m``; a ring
``m-a1-a2-x-b2-b1-m`` whose ``a`` side is low-resistance, high-reactance line (12 kft a
section) and whose ``b`` side high-resistance, low-reactance line (8 kft), loads at 0.98 power
factor on every ring bus (two of them single-phase); the switches ``s1`` (a1-a2), ``s2``
(a2-x), ``s3`` (x-b2), ``s4`` (b2-b1), ``s1`` open in the base case. The radial states are the
four with one switch open. Feeding ``x`` from the low-resistance side (``s4`` open) has the
least losses and the deepest voltage; LinDist3Flow, lossless, puts that voltage 0.006 p.u.
above OpenDSS's. With ``--v-min 0.942`` (between the two) the lossless model accepts ``s4``,
which OpenDSS's power flow puts below the limit.

Every expectation comes from OpenDSS's own solution of the script with each switch state
written into it (``tests/opendss_plain.py``, no feederopt code): losses (the source's power less
the loads') and the lowest node voltage, measured: ``s1`` 116.8 kW, 0.9479 p.u.; ``s2`` 94.4,
0.9483; ``s3`` 61.4, 0.9459; ``s4`` 57.1, 0.9387.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase
from feederopt.cli import app
from feederopt.cli.app import EXIT_LIMITS_BROKEN
from feederopt.errors import InputError
from opendss_plain import plain_solution

runner = CliRunner()

FEEDER = """Clear
New Circuit.vlim bus1=src basekV=12.47 pu=1.00 phases=3 MVAsc3=200 MVAsc1=210
New Linecode.lowr nphases=3 units=kft rmatrix=(0.05|0.015 0.05|0.015 0.015 0.05) """ + \
    """xmatrix=(0.30|0.10 0.30|0.10 0.10 0.30)
New Linecode.highr nphases=3 units=kft rmatrix=(0.16|0.04 0.16|0.04 0.04 0.16) """ + \
    """xmatrix=(0.10|0.03 0.10|0.03 0.03 0.10)
New Line.head Phases=3 Bus1=src Bus2=m LineCode=lowr Length=1 units=kft
New Line.ma Phases=3 Bus1=m Bus2=a1 LineCode=lowr Length=12 units=kft
New Line.s1 Phases=3 Bus1=a1 Bus2=a2 LineCode=lowr Length=12 units=kft Switch=yes
New Line.s2 Phases=3 Bus1=a2 Bus2=x LineCode=lowr Length=12 units=kft Switch=yes
New Line.s3 Phases=3 Bus1=x Bus2=b2 LineCode=highr Length=8 units=kft Switch=yes
New Line.s4 Phases=3 Bus1=b2 Bus2=b1 LineCode=highr Length=8 units=kft Switch=yes
New Line.mb Phases=3 Bus1=m Bus2=b1 LineCode=highr Length=8 units=kft
Open Line.s1 term=2
New Load.a1 Bus1=a1 Phases=3 kV=12.47 kW=800 kvar=160 model=1
New Load.a2 Bus1=a2.1 Phases=1 kV=7.2 kW=600 kvar=120 model=1
New Load.x Bus1=x Phases=3 kV=12.47 kW=1800 kvar=360 model=1
New Load.b2 Bus1=b2.2 Phases=1 kV=7.2 kW=600 kvar=120 model=1
New Load.b1 Bus1=b1 Phases=3 kV=12.47 kW=800 kvar=160 model=1
Set voltagebases=[12.47]
Calcvoltagebases
Solve
"""

SWITCHES = ("s1", "s2", "s3", "s4")
V_MIN = 0.942
V_BASE = 12470 / math.sqrt(3)  # [V], line to neutral


def _states(tmp_path: Path) -> dict[str, tuple[float, float]]:
    """OpenDSS's losses [kW] and lowest node voltage [p.u.] of each radial state (the switch
    opened), from the script with that switch open and the others closed."""
    out = {}
    for sw in SWITCHES:
        script = FEEDER.replace("Open Line.s1 term=2", f"Open Line.{sw} term=2")
        source, volts, loads = plain_solution(script, tmp_path)
        vmin = min(abs(v) for v in volts.values()) / V_BASE
        out[sw] = (source.real - sum(loads.values()), vmin)
    return out


def _feeder(tmp_path: Path) -> Path:
    path = tmp_path / "ring.dss"
    path.write_text(FEEDER)
    return path


def _expected(states: dict[str, tuple[float, float]]) -> tuple[str, str]:
    """The least-loss state of all, and the least-loss state of those within ``V_MIN``; the
    premises of the tests are checked here (the first breaks the limit, two states keep it)."""
    best_all = min(states, key=lambda s: states[s][0])
    meet = [s for s in states if states[s][1] >= V_MIN]
    assert states[best_all][1] < V_MIN - 0.002  # the least-loss state breaks the limit
    assert len(meet) >= 2 and best_all not in meet
    return best_all, min(meet, key=lambda s: states[s][0])


def test_the_answer_is_the_least_loss_state_that_keeps_v_min_in_opendss(tmp_path: Path) -> None:
    """``solve ring.dss --v-min 0.942``: exit 0, the least-loss state among those whose OpenDSS
    voltages keep the limit (``s3`` open, 61.4 kW; ``s4``, 57.1 kW, is 0.004 p.u. below it),
    OpenDSS's check within the limits with that state's losses, the limits used in the JSON.
    Fails on the old code (``--v-min`` refused, exit 2) and with the feedback off (``s4``, see
    the next test)."""
    states = _states(tmp_path)
    _, expected = _expected(states)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--v-min", str(V_MIN),
                                 "--json", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads(out.read_text())
    assert data["open_switches"] == [expected]
    assert data["voltage_limits"] == {"from": "options", "v_min_pu": V_MIN, "v_max_pu": 1.1}
    ac = data["ac_check"]
    assert ac["within_voltage_limits"] and ac["voltage_limits"]["nodes_below_min"] == 0
    assert ac["losses_kw"] == pytest.approx(states[expected][0], rel=1e-3)
    assert min(ac["min_voltage_pu"].values()) == pytest.approx(states[expected][1], abs=1e-3)


def test_the_feedback_needs_no_ac_check_flag_to_keep_the_limit(tmp_path: Path) -> None:
    """``solve_three_phase(..., v_min_pu=0.942, ac_check=False)``: the same state (the feedback
    solves OpenDSS itself); no ``ac_check`` in the result. Fails on the old code (no
    ``v_min_pu``)."""
    states = _states(tmp_path)
    _, expected = _expected(states)
    data = solve_three_phase(_feeder(tmp_path), v_min_pu=V_MIN, ac_check=False,
                             time_limit_s=60)
    assert data["open_switches"] == [expected]
    assert "ac_check" not in data
    kept = data["voltage_feedback"]["iterations"][data["voltage_feedback"]["kept_iteration"]]
    assert kept["opendss_losses_kw"] == pytest.approx(states[expected][0], rel=1e-3)


def test_without_feedback_opendss_finds_the_lossless_answer_below_v_min(tmp_path: Path) -> None:
    """``--no-voltage-feedback``: the lossless model keeps ``s4`` (the least-loss state of all),
    whose OpenDSS voltage is below ``--v-min``: the check says so (``within_voltage_limits``
    false, the worst node and its voltage as OpenDSS's lowest, by how much), a warning on
    stderr and exit 4. Fails on the old code (``--v-min`` refused, exit 2)."""
    states = _states(tmp_path)
    best_all, _ = _expected(states)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["solve", str(_feeder(tmp_path)), "--v-min", str(V_MIN),
                                 "--no-voltage-feedback", "--json", str(out)])
    assert result.exit_code == EXIT_LIMITS_BROKEN, result.output + result.stderr
    data = json.loads(out.read_text())
    assert data["open_switches"] == [best_all]
    assert data["voltage_feedback"] == {"enabled": False}
    ac = data["ac_check"]
    assert ac["passed"] and not ac["within_voltage_limits"]
    lim = ac["voltage_limits"]
    assert lim["nodes_below_min"] >= 1 and lim["nodes_above_max"] == 0
    assert lim["worst_voltage_pu"] == pytest.approx(states[best_all][1], abs=1e-3)
    assert lim["worst_violation_pu"] == pytest.approx(V_MIN - states[best_all][1], abs=1e-3)
    assert lim["worst_limit"] == "v_min" and lim["worst_limit_pu"] == V_MIN
    assert "break the limits" in result.stderr and lim["worst_node"] in result.stderr


@pytest.mark.parametrize(("args", "field", "text"), [
    (["--v-min", "1.2", "--v-max", "1.1"], "v_min", "must be below --v-max"),
    (["--v-max", "2.5"], "v_max", "between 0 and 2"),
    (["--v-min", "0"], "v_min", "between 0 and 2"),
])
def test_bad_limits_are_typed_problems(tmp_path: Path, args: list[str], field: str,
                                       text: str) -> None:
    """Bad limits: exit 2 and the balanced solve's problem naming the option, before any solve
    (CLI and API). The old code refused ``--v-min``/``--v-max`` on a three-phase feeder
    whatever their value ("not available for three-phase feeders yet")."""
    path = _feeder(tmp_path)
    result = runner.invoke(app, ["solve", str(path), *args])
    assert result.exit_code == 2
    text_out = result.output + result.stderr
    assert f"options.{field}" in text_out and text in text_out
    assert "not available" not in text_out and "Traceback" not in text_out
    values = dict(zip(args[::2], map(float, args[1::2]), strict=True))
    with pytest.raises(InputError) as err:
        solve_three_phase(path, v_min_pu=values.get("--v-min"), v_max_pu=values.get("--v-max"))
    # from Python, named as given: v_min_pu (ut48_pyapi #7)
    assert [p.field for p in err.value.problems] == [f"{field}_pu"]


def test_no_voltage_feedback_is_refused_on_a_balanced_case() -> None:
    """The option acts on three-phase feeders only: elsewhere a typed problem, exit 2 (the old
    code had no such option)."""
    result = runner.invoke(app, ["solve", "case33bw", "--no-voltage-feedback"])
    assert result.exit_code == 2
    assert "applies to three-phase" in result.output + result.stderr
