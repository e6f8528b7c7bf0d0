"""The OpenDSS check holds the model's regulator taps (D10), and reports OpenDSS's controls apart.

The check (:func:`feederopt.validation.opendss.solve_opendss`) must verify the operating point
the model optimised: its regulator taps (the taps OpenDSS solved the file with, or taps given),
with OpenDSS's controls off. Before D10 it let the ``RegControl`` elements act again, so on the
stock IEEE 123 feeder with sw5 and sw8 open (sw7 closed) the regulator at 160 stepped from
1.0625 to 1.05 on phase a and the check reported OpenDSS's voltages for taps the model never
had. What the controls would do from there is reported apart, under ``with_controls``.

Every expected figure comes from a plain OpenDSSDirect.py run written out here (compile the
file, write the switch states and taps, ``Set ControlMode=...``, ``Solve``), not from our
output. The feeders are OpenDSS's own copies (dss-extensions/electricdss-tst, commit 3b20839,
``Version8/Distrib/IEEETestCases/``; ``tests/data/ieee_opendss/README.md``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.validation.opendss import solve_opendss

DATA = Path(__file__).parent / "data" / "ieee_opendss"
IEEE123 = DATA / "123Bus" / "IEEE123Switches.dss"
IEEE13 = DATA / "13Bus" / "IEEE13Nodeckt.dss"


@dataclass
class Plain:
    """A plain OpenDSS solution: losses [kW], node voltages [p.u. of OpenDSS's kVBase] by
    ``"bus.a"``, and the winding-2 taps of the named transformers."""

    losses_kw: float
    volts: dict[str, float]
    taps: dict[str, float]


def _plain(path: Path, edits: list[str], mode: str, regulators: list[str]) -> Plain:
    """Compile ``path`` in OpenDSS (solving it when the file does not), run ``edits``, set the
    control mode, solve, read the solution."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        if not re.search(r"^\s*solve\b", path.read_text(), re.I | re.M):
            dss.Solution.Solve()
        for command in edits:
            dss.Text.Command(command)
        dss.Text.Command(f"set controlmode={mode}")
        dss.Solution.Solve()
    finally:
        os.chdir(cwd)
    assert dss.Solution.Converged()
    volts = {}
    for name, v in zip(dss.Circuit.AllNodeNames(), dss.Circuit.AllBusMagPu(), strict=True):
        bus, _, node = name.partition(".")
        if node in ("1", "2", "3"):
            volts[f"{bus}.{'abc'[int(node) - 1]}"] = float(v)
    return Plain(float(dss.Circuit.Losses()[0]) / 1000, volts, _taps(regulators))


def _taps(regulators: list[str]) -> dict[str, float]:
    """The winding-2 taps of ``regulators`` in OpenDSS's present circuit."""
    out = {}
    for tr in regulators:
        dss.Transformers.Name(tr)
        dss.Transformers.Wdg(2)
        out[tr] = float(dss.Transformers.Tap())
    return out


def _ieee13_controls_off_in_file(tmp_path: Path) -> Path:
    """Stock IEEE 13 with ``Set ControlMode=OFF`` appended (as the PowerModelsONM copies set)."""
    folder = tmp_path / "13Bus"
    shutil.copytree(IEEE13.parent, folder)
    shutil.copy(DATA / "IEEELineCodes.DSS", tmp_path / "IEEELineCodes.DSS")
    path = folder / IEEE13.name
    path.write_text(path.read_text() + "\nSet ControlMode=OFF\n")
    return path


#: (feeder, our open switches, OpenDSS commands for the same states, taps given, the control
#: mode OpenDSS's controls act in for the second solve)
CASES = {
    # IEEE 123: sw5 opened, the tie sw7 closed (sw8 stays open), the model's taps (the file's)
    "ieee123_switches": (lambda _: IEEE123, {"sw5", "sw8"},
                         ["open Line.sw5 term=1", "close Line.sw7 term=2"], None, "static"),
    # IEEE 13: the three regulators given taps of 1.0 (the file solves them at 1.0375-1.05625)
    "ieee13_taps": (lambda _: IEEE13, None, [], {"reg1": 1.0, "reg2": 1.0, "reg3": 1.0},
                    "static"),
    # the same with the file's controls off: the second solve turns them on (STATIC)
    "ieee13_taps_file_off": (_ieee13_controls_off_in_file, None, [],
                             {"reg1": 1.0, "reg2": 1.0, "reg3": 1.0}, "static"),
}


@pytest.mark.parametrize("case", CASES)
def test_check_holds_the_models_taps_and_reports_the_controls_apart(
        case: str, tmp_path: Path) -> None:
    """The held solve's regulator taps (read back through OpenDSSDirect.py) are the model's,
    and its losses and every node voltage are OpenDSS's with those taps written and
    ``ControlMode=OFF``; ``with_controls`` is OpenDSS's solve with its controls on, and
    ``taps_moved`` names exactly the regulators that moved there. Each case is one where the
    controls do move a tap, so held and controls-on differ (asserted).

    Mutated by hand: without ``dss.Solution.ControlMode(OFF)`` in ``solve_opendss`` (the old
    check) the IEEE 123 case failed with reg4a at 1.05 against the model's 1.0625 and the IEEE
    13 case with the regulators back at 1.05625/1.0375/1.05625 against the 1.0 given; with the
    second solve in mode OFF all three failed (its mode and taps are the held ones); with it in
    the file's own mode the file-OFF case failed."""
    make, opened, switch_edits, given, mode = CASES[case]
    path = make(tmp_path)
    net = load_three_phase(path)
    regs = net.transformers.filter(net.transformers["is_regulator"])
    model_taps = dict(zip(regs["id"].to_list(), regs["tap_to"].to_list(), strict=True))
    model_taps.update(given or {})
    tap_edits = [f"edit Transformer.{tr} wdg=2 tap={tap!r}" for tr, tap in model_taps.items()]

    held_only = solve_opendss(net, open_switches=opened, taps=given, with_controls=False)
    assert _taps(list(model_taps)) == pytest.approx(model_taps, abs=1e-12)  # read back
    assert held_only.with_controls is None

    sol = solve_opendss(net, open_switches=opened, taps=given)
    held = _plain(path, switch_edits + tap_edits, "off", list(model_taps))
    acting = _plain(path, switch_edits + tap_edits, mode, list(model_taps))
    moved = {tr for tr in model_taps if abs(acting.taps[tr] - model_taps[tr]) > 1e-9}
    assert moved, "the case must be one where OpenDSS's controls move a tap"
    assert max(abs(held.volts[k] - acting.volts[k]) for k in held.volts) > 1e-3

    assert sol.control_mode == "OFF" and sol.converged
    assert sol.regulator_taps == pytest.approx(model_taps, abs=1e-12)
    assert sol.losses_kw == pytest.approx(held.losses_kw, abs=1e-6)
    assert set(sol.voltages_pu) == set(held.volts)
    assert max(abs(sol.voltages_pu[k] - held.volts[k]) for k in held.volts) < 1e-6

    ctl = sol.with_controls
    assert ctl is not None and ctl.converged and ctl.control_mode == mode.upper()
    assert ctl.regulator_taps == pytest.approx(acting.taps, abs=1e-12)
    assert ctl.losses_kw == pytest.approx(acting.losses_kw, abs=1e-3)
    assert max(abs(ctl.voltages_pu[k] - acting.volts[k]) for k in acting.volts) < 1e-4
    out = sol.to_dict()
    assert out["control_mode"] == "OFF"
    assert out["losses_kw"] == sol.losses_kw
    assert set(out["with_controls"]["taps_moved"]) == moved
    for tr in moved:
        assert out["with_controls"]["taps_moved"][tr] == pytest.approx(
            {"held": model_taps[tr], "with_controls": acting.taps[tr]}, abs=1e-12)
    assert max(out["with_controls"]["max_voltage_pu"].values()) == \
        pytest.approx(max(acting.volts.values()), abs=1e-4)


def test_taps_for_an_unknown_transformer_are_refused() -> None:
    """A tap for a transformer the network lacks is a ValueError naming it. The old check
    wrote it with ``edit Transformer.nope ...``, which went by without an error (the test
    failed: did not raise); without the new check OpenDSS's DSSException #5003 comes out."""
    net = load_three_phase(IEEE13)
    with pytest.raises(ValueError, match="nope"):
        solve_opendss(net, taps={"nope": 1.0})


def test_cli_solve_on_ieee123_prints_and_writes_both_solves(tmp_path: Path) -> None:
    """``feederopt solve IEEE123Switches.dss --no-thermal-limits`` (the D10 report): the JSON's
    ``ac_check`` is OpenDSS's solution with the model's taps held (its maximum voltage and
    losses are a plain OpenDSS run's with ``ControlMode=OFF``), ``ac_check.with_controls`` the
    plain run's with controls on and the regulators they move, and the console shows both.
    Fails on the old check, whose ``ac_check`` maximum voltage was the controls-on 1.0446 p.u.
    and which had no ``with_controls``."""
    out_file = tmp_path / "s.json"
    res = CliRunner().invoke(app, ["solve", str(IEEE123), "--no-thermal-limits", "--json",
                                   str(out_file)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out_file.read_text())
    assert doc["open_switches"] == ["sw5", "sw8"]  # README: the best radial choice
    ac = doc["ac_check"]
    regs = ["reg1a", "reg2a", "reg3a", "reg3c", "reg4a", "reg4b", "reg4c"]
    edits = ["open Line.sw5 term=1", "close Line.sw7 term=2"]
    held = _plain(IEEE123, edits, "off", regs)
    acting = _plain(IEEE123, edits, "static", regs)
    assert ac["control_mode"] == "OFF" and ac["passed"]
    assert max(ac["max_voltage_pu"].values()) == pytest.approx(max(held.volts.values()),
                                                               abs=1e-6)
    assert ac["losses_kw"] == pytest.approx(held.losses_kw, abs=1e-6)
    ctl = ac["with_controls"]
    assert max(ctl["max_voltage_pu"].values()) == pytest.approx(max(acting.volts.values()),
                                                                abs=1e-4)
    assert ctl["losses_kw"] == pytest.approx(acting.losses_kw, abs=1e-3)
    assert set(ctl["taps_moved"]) == {tr for tr in regs if acting.taps[tr] != held.taps[tr]}
    assert "taps and capacitors held" in res.output
    assert "controls acting" in res.output and "reg4a" in res.output
