"""A scenario's ``generator`` row on a three-phase feeder is run at its output in OpenDSS's check,
as the model injects it (user test ut33, finding 1).

ieee13mod's ``Generator.675`` is rated ``kv=2.4`` on a 4.16 kV three-phase bus, 1.73 p.u. of
its rating: outside OpenDSS's ``Vminpu``-``Vmaxpu`` band (0.9-1.1) a generator runs as the
constant impedance of its set-point, so the row ``x,generator,Generator.675,0.3,0.1,1`` was
checked with the unit at 770 kW and 257 kvar (86.9 kW of losses) while the model took 300 kW.
The truth is OpenDSS's own solution of the file, read with ``opendssdirect`` (no feederopt
code), with the unit re-rated to its bus (``kv=4.16``) so that it really puts out 300 kW and
100 kvar, as the user tester did: 111.10 kW at the file's tolerance (0.001; 111.32 kW converged
to 1e-9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opendssdirect as dss
import polars as pl
import pytest

import feederopt.validation.opendss as check
from feederopt.api_threephase import solve_three_phase
from feederopt.cases import load_three_phase
from feederopt.cases.loading import opendss_file
from opendss_plain import compile_with_switch_impedance

ROW = {"scenario": ["x"], "kind": ["generator"], "element": ["Generator.675"],
       "p_mw": [0.3], "q_mvar": [0.1], "weight": [1.0]}
#: Between OpenDSS's solves at the file's tolerance (0.001 p.u.) from different starts.
TOL_KW = 0.25


def _truth(tmp_path: Path, edit: str) -> tuple[float, float, float]:
    """OpenDSS's solution of ieee13mod with ``edit`` applied after the file's own solve
    (controls off, as the file sets them): ``(Generator.675's kW, its kvar, losses kW)``.
    The file's zero-impedance switch lines get OpenDSS's ``Switch=yes`` impedance (1 mOhm:
    r1=1 x1=1 at length 0.001, no units), without which OpenDSS's Y matrix is singular."""
    compile_with_switch_impedance(Path(opendss_file("ieee13mod")), tmp_path,
                                  "ieee13mod_plain.dss")
    dss.Text.Command(edit)
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    dss.Circuit.SetActiveElement("Generator.675")
    pw = np.asarray(dss.CktElement.Powers(), float)
    return -float(pw[0::2].sum()), -float(pw[1::2].sum()), dss.Circuit.Losses()[0] / 1000


def test_the_premise_opendss_runs_the_misrated_unit_as_an_impedance(tmp_path: Path) -> None:
    kw, kvar, _ = _truth(tmp_path, "edit Generator.675 kW=300 kvar=100")
    assert kw == pytest.approx(770.3, abs=1.0) and kvar == pytest.approx(256.5, abs=1.0)
    kw, kvar, _ = _truth(tmp_path, "edit Generator.675 kv=4.16 kW=300 kvar=100")
    assert kw == pytest.approx(300.0, abs=0.2) and kvar == pytest.approx(100.0, abs=0.2)


def test_the_scenario_check_runs_the_generator_row_at_its_output(tmp_path: Path) -> None:
    kw, _, losses = _truth(tmp_path, "edit Generator.675 kv=4.16 kW=300 kvar=100")
    assert kw == pytest.approx(300.0, abs=0.2)
    assert losses == pytest.approx(111.10, abs=0.01)
    out = solve_three_phase("ieee13mod", scenarios=pl.DataFrame(ROW))
    (row,) = out["scenarios"]["per_scenario"]
    # 86.909 kW before: the unit at 770 kW in OpenDSS
    assert row["opendss_losses_kw"] == pytest.approx(losses, abs=TOL_KW)
    assert row["opendss_base_losses_kw"] == pytest.approx(losses, abs=TOL_KW)
    assert not any("another output" in n for n in out.notes)


def test_solve_opendss_holds_a_generator_at_its_setpoint() -> None:
    net = load_three_phase("ieee13mod")
    sol = check.solve_opendss(net, setpoints={"Generator.675": (300.0, 100.0)},
                              with_controls=False)
    dss.Circuit.SetActiveElement("Generator.675")
    pw = np.asarray(dss.CktElement.Powers(), float)
    assert -pw[0::2].sum() == pytest.approx(300.0, abs=0.5)
    assert -pw[1::2].sum() == pytest.approx(100.0, abs=0.5)
    assert sol.setpoint_misses == []


def test_a_unit_that_misses_its_setpoint_is_measured_and_said() -> None:
    """A PV system set beyond its kVA (pv_mg1a: 210 kVA, asked 200 kW and 150 kvar) is
    capped by OpenDSS: the solve names it with what it put out."""
    net = load_three_phase("ieee13mod")
    sol = check.solve_opendss(net, setpoints={"PVSystem.pv_mg1a": (200.0, 150.0)},
                              with_controls=False)
    dss.Circuit.SetActiveElement("PVSystem.pv_mg1a")
    pw = np.asarray(dss.CktElement.Powers(), float)
    got = (-float(pw[0::2].sum()), -float(pw[1::2].sum()))
    assert np.hypot(*got) <= 210.0 * 1.001  # OpenDSS's own cap
    ((element, set_kw, set_kvar, kw, kvar),) = sol.setpoint_misses
    assert (element, set_kw, set_kvar) == ("PVSystem.pv_mg1a", 200.0, 150.0)
    assert (kw, kvar) == pytest.approx(got)
    assert any(m.startswith("PVSystem.pv_mg1a puts out") for m in sol.warnings)


def test_a_missed_generator_row_is_a_note_of_the_scenario_solve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Were OpenDSS's generator left at its file's model (the code before the fix), the
    scenario solve says which row it did not run at its output, in which scenario."""
    monkeypatch.setattr(check, "generator_setpoint",
                        lambda net, element, kw, kvar: f"kW={kw} kvar={kvar}")
    out = solve_three_phase("ieee13mod", scenarios=pl.DataFrame(ROW), voltage_feedback=False)
    (note,) = [n for n in out.notes if "another output" in n]
    assert "Generator.675 in x: 770." in note and "for the row's 300.0 kW and 100.0 kvar" in note
