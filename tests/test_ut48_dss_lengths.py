"""User test ut48_dss3, items 5 and 6: what the OpenDSS reader makes of line lengths and of a
disabled plain line.

* #5: a line without a unit whose line code has one (``Linecode.lck units=kft``,
  ``Line.L4 linecode=lck length=1.2``) is 1.2 kft long in OpenDSS (OpenDSS manual, Line,
  ``units``: "assumes length units match impedance units"); the reader made it 1.2 m and the
  report's distance axis "the file's length unit". A line whose line code has no unit either
  (IEEE 37's) keeps the bare number (tests/test_report_threephase.py).
* #6: ``Line.Ldis`` (b1 - b4, both live) disabled and not a switch vanished without a note;
  ``units=furlong``, which OpenDSS does not know and reads as none, was taken without a word.

The truth is OpenDSS's own compile of the file (OpenDSSDirect.py): a line's length in its line
code's unit is its series impedance (from its primitive admittance matrix) over its line
code's impedance per unit length, and kft is 304.8 m.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import report_grid
from feederopt.cli import app
from feederopt.io.opendss import compile_circuit, read_opendss

HERE = Path(__file__).resolve().parent / "data" / "ut48_dss3"
METRES = {"kft": 304.8, "km": 1000.0}  # per unit, by definition


def _opendss_length(path: Path, line: str) -> float:
    """OpenDSS's length of ``Line.<line>`` in its line code's unit: the series resistance
    matrix of its primitive admittance matrix over the code's ``Rmatrix`` (given per the
    code's ``units``), fitted by least squares over the matrix's entries."""
    compile_circuit(path)
    dss.Circuit.SetActiveElement(f"Line.{line}")
    n = int(dss.CktElement.NumPhases())
    y = np.asarray(dss.CktElement.YPrim(), float)
    y = (y[0::2] + 1j * y[1::2]).reshape(2 * n, 2 * n)
    r = np.linalg.inv(-y[:n, n:]).real  # the series resistance matrix [ohm]
    dss.Lines.Name(line)
    dss.LineCodes.Name(dss.Lines.LineCode())
    per = np.asarray(dss.LineCodes.Rmatrix(), float).reshape(n, n)  # per code unit
    return float(np.sum(r * per) / np.sum(per * per))


def _lengths(path: Path) -> dict[str, float]:
    net = read_opendss(path)
    return dict(zip(net.lines["id"], net.lines["length_m"], strict=True))


def test_a_line_without_a_unit_takes_its_line_codes_unit() -> None:
    path = HERE / "v_lc_kft.dss"
    compile_circuit(path)
    dss.Lines.Name("l4")
    assert int(dss.Lines.Units()) == 0  # no unit of its own
    dss.LineCodes.Name("lck")
    assert int(dss.LineCodes.Units()) == 2  # kft
    kft = _opendss_length(path, "l4")
    assert kft == pytest.approx(1.2, rel=1e-6)  # OpenDSS: 1.2 kft, not 1.2 m
    lengths = _lengths(path)
    assert lengths["l4"] == pytest.approx(kft * METRES["kft"], rel=1e-6)  # 365.76 m
    assert lengths["l5"] == pytest.approx(300.0)  # units=m of its own, as before
    grid = report_grid(read_opendss(path), set(), set())
    assert grid["length_unit"] == "m"  # every length has a unit: the axis in km


def test_an_unknown_length_unit_is_warned() -> None:
    path = HERE / "b_units.dss"
    assert "Line.L4 bus1=r bus2=b4 linecode=lc3 length=1.2 units=furlong" in path.read_text()
    compile_circuit(path)
    dss.Lines.Name("l4")
    assert int(dss.Lines.Units()) == 0  # OpenDSS read units=furlong as none
    km = _opendss_length(path, "l4")  # so the length is in lc3's unit, km
    dss.LineCodes.Name("lc3")
    assert int(dss.LineCodes.Units()) == 3 and km == pytest.approx(1.2, rel=1e-6)
    net = read_opendss(path)
    notes = [w for w in net.meta["warnings"] if "units=furlong" in w]
    assert len(notes) == 1
    assert (f"Line.l4 units=furlong (its length 1.2 is read in its line code's unit, km: "
            f"{km * METRES['km']:g} m)") in notes[0]
    assert "OpenDSS does not know" in notes[0]
    lengths = dict(zip(net.lines["id"], net.lines["length_m"], strict=True))
    assert lengths["l4"] == pytest.approx(km * METRES["km"], rel=1e-6)
    # the feeder as it was, every unit known: no such warning
    assert not [w for w in read_opendss(HERE / "feeder.dss").meta["warnings"]
                if "does not know" in w]


def test_a_disabled_plain_line_between_live_buses_is_noted() -> None:
    path = HERE / "feeder.dss"
    compile_circuit(path)
    dss.Lines.Name("ldis")
    assert not dss.CktElement.Enabled() and not dss.Lines.IsSwitch()
    for bus in ("b1", "b4"):  # both ends energised in OpenDSS's solution
        dss.Circuit.SetActiveBus(bus)
        assert min(dss.Bus.puVmagAngle()[0::2]) > 0.9
    net = read_opendss(path)
    said = [w for w in net.meta["warnings"] if "Line.ldis" in w]
    assert len(said) == 1
    assert "disabled (enabled=no) and is not a switch" in said[0]
    assert "SwtControl" in said[0] and "enabled=yes" in said[0]
    # the other disabled line, tie2, is a switch (normally open): not named
    assert not [w for w in net.meta["warnings"] if "Line.tie2" in w]
    out = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "400"})
    assert out.exit_code == 0, out.output
    assert "Line.ldis (b1 - b4) is disabled (enabled=no) and is not a switch" in " ".join(
        out.output.split())


def test_solve_says_both_notes_too() -> None:
    """``solve`` lists them among its notes, as ``info`` does (the item: "vanishes from
    info/solve without a note")."""
    out = CliRunner().invoke(app, ["solve", str(HERE / "b_units.dss"), "--no-ac-check",
                                   "--no-voltage-feedback"], env={"COLUMNS": "400"})
    assert out.exit_code in (0, 4), out.output
    flat = " ".join(out.output.split())
    assert "Line.ldis (b1 - b4) is disabled (enabled=no) and is not a switch" in flat
    assert "Line.l4 units=furlong" in flat


def test_length_units_written_follows_the_script(tmp_path: Path) -> None:
    """The text scan behind the warning: ``New``/``Edit``, continuation lines, assignments,
    ``Redirect`` (in the script's folder) and ``Clear``; the last value wins."""
    from feederopt.io.dss_files import length_units_written

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "codes.dss").write_text(
        "New Linecode.c1 nphases=3 r1=0.1 x1=0.2\n~ units=furlong\n")
    (tmp_path / "main.dss").write_text(
        "New Line.gone length=1 units=kft\nClear\n"
        "Redirect sub/codes.dss\n"
        "New Line.a bus1=x bus2=y length=1 units=ft\n"
        "Edit Line.a un=miles  ! abbreviated\n"
        "New object=Line.b length=2\n"
        "Line.b.units=parsec\n"
        "New Load.l bus1=y kw=1 units=what\n")
    assert length_units_written(tmp_path / "main.dss") == {
        "linecode.c1": "furlong", "line.a": "miles", "line.b": "parsec"}


SWITCH_AFTER_UNITS = """Clear
New Circuit.swu basekv=12.47 pu=1.0 bus1=src phases=3
New Line.l1 bus1=src bus2=b1 r1=0.2 x1=0.4 length=1 units=km normamps=400
New Line.l2 bus1=b1 bus2=b2 r1=0.2 x1=0.4 length=1 units=km normamps=400
New Line.l3 bus1=src bus2=b3 r1=0.2 x1=0.4 length=1 units=km normamps=400
New Line.tie bus1=b2 bus2=b3 length=1 units=km switch=yes enabled=yes
New SwtControl.ct SwitchedObj=Line.tie Normal=open Action=open
New Load.a bus1=b2 kv=12.47 kw=500 kvar=100
New Load.b bus1=b3 kv=12.47 kw=300 kvar=100
Set voltagebases=[12.47]
Calcvoltagebases
"""


def test_switch_yes_after_a_known_unit_is_no_unknown_unit(tmp_path: Path) -> None:
    """``units=km switch=yes``: OpenDSS's Switch=yes resets the length and units (to 0.001,
    none), so the line reads "none" in OpenDSS, but km is no unit OpenDSS does not know
    (user test ut48_recheck #2: the warning told the user to give units= one of ..., km)."""
    path = tmp_path / "sw_units.dss"
    path.write_text(SWITCH_AFTER_UNITS)
    compile_circuit(path)
    dss.Lines.Name("tie")
    assert int(dss.Lines.Units()) == 0 and dss.Lines.Length() == pytest.approx(0.001)
    warnings = read_opendss(path).meta["warnings"]
    assert not [w for w in warnings if "does not know" in w], warnings
    # written after switch=yes, the unit stands (km = 3 in OpenDSS): no warning either
    path.write_text(SWITCH_AFTER_UNITS.replace("length=1 units=km switch=yes",
                                               "switch=yes length=1 units=km"))
    compile_circuit(path)
    dss.Lines.Name("tie")
    assert int(dss.Lines.Units()) == 3
    assert not [w for w in read_opendss(path).meta["warnings"] if "does not know" in w]
