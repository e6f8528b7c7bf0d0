"""What cuts a bus off the source, said where it is (user test ut_dss, on the IEEE 13 feeder it
modified, ``tests/data/ut_dss/ieee13_lateral_tie.dss``), exit 2 without a traceback:

- a line that connects to no source, defined after ``calcv``: its buses have no base voltage,
  and the message blamed the voltage bases ("nominal voltage must be > 0 (hint: set the
  voltage bases of the circuit)"); it names the buses, the line and why;
- a line whose ``Bus1`` is misspelt (``LAT_648`` for ``LAT_684``): the message blamed the
  load's bus ("connect bus 652 to the feeder with a line") though the line connects it; it
  names the line, its dead-end bus and the close name;
- a bus name with a dot (``F1.680``) at a line's ``Bus1``: the problem's field said ``bus2``.

Each premise is checked on OpenDSS's own compile of the file first (opendssdirect alone)."""

from __future__ import annotations

import shutil
from pathlib import Path

import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

DATA = Path(__file__).parent / "data" / "ut_dss"
runner = CliRunner()


def _feeder(tmp_path: Path, edit: str | None = None, new: str = "", tail: str = "") -> Path:
    """The user test's feeder in ``tmp_path`` (its line codes beside it), ``edit`` replaced by
    ``new`` and ``tail`` appended after its final ``Solve``."""
    shutil.copy(DATA / "linecodes.dss", tmp_path / "linecodes.dss")
    text = (DATA / "ieee13_lateral_tie.dss").read_text()
    if edit is not None:
        assert edit in text
        text = text.replace(edit, new)
    path = tmp_path / "feeder.dss"
    path.write_text(text + tail)
    return path


def _opendss(path: Path) -> None:
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')


def _info(path: Path) -> str:
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.stderr.split())


STUB = "New Line.stub Phases=3 Bus1=nowhere1 Bus2=nowhere2 LineCode=mtx601 Length=100 units=ft"


def test_a_line_on_no_source_after_calcv_is_named(tmp_path: Path) -> None:
    path = _feeder(tmp_path, tail=f"\n{STUB}\nSolve\n")
    _opendss(path)
    for bus in ("nowhere1", "nowhere2"):  # OpenDSS: no base voltage, no voltage
        dss.Circuit.SetActiveBus(bus)
        assert dss.Bus.kVBase() == 0.0 and max(dss.Bus.VMagAngle()[0::2]) == 0.0
    text = _info(path)
    assert ("island_without_source: buses [nowhere1, nowhere2].vn_kv: no nominal voltage: "
            "these buses connect to no source") in text
    assert "Line.stub is on them" in text
    assert "defined after the voltage bases were set" in text
    assert "hint: connect nowhere1 or nowhere2 to the feeder, or remove Line.stub" in text
    assert "set the voltage bases of the circuit" not in text
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 2 and "Line.stub is on them" in " ".join(result.stderr.split())


def test_the_same_line_before_calcv_stays_accepted(tmp_path: Path) -> None:
    """Before ``calcv`` OpenDSS gives the island a base (66.4 kV here) and solves it dead: no
    problem, as before; and a bus defined after ``calcv`` that the source reaches is no
    island either."""
    path = _feeder(tmp_path, "Set Voltagebases", f"{STUB}\nSet Voltagebases")
    _opendss(path)
    dss.Circuit.SetActiveBus("nowhere1")
    assert dss.Bus.kVBase() > 0
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    ext = ("\nNew Line.ext Phases=3 Bus1=680 Bus2=ext680 LineCode=mtx601 Length=100 units=ft"
           "\nNew Load.ext Bus1=ext680 phases=3 kV=4.16 kW=90 kvar=30\nSolve\n")
    path = _feeder(tmp_path, tail=ext)
    _opendss(path)
    dss.Circuit.SetActiveBus("ext680")
    assert dss.Bus.kVBase() == 0.0 and max(dss.Bus.VMagAngle()[0::2]) > 1000.0
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output


def test_a_misspelt_bus1_names_the_line_and_its_dead_end(tmp_path: Path) -> None:
    path = _feeder(tmp_path, "Bus1=LAT_684.1        Bus2=652.1",
                   "Bus1=LAT_648.1        Bus2=652.1")
    _opendss(path)
    dss.Circuit.SetActiveBus("652")
    assert max(dss.Bus.VMagAngle()[0::2]) < 1.0  # OpenDSS: 652 is dead
    text = _info(path)
    assert ("Load.652 is on bus 652, which no line or transformer connects to a source (even "
            "with every switch closed): Line.684652 leads to it from bus lat_648, which no "
            "other element connects") in text
    assert ("hint: connect bus lat_648 of Line.684652 to the feeder (lat_648: a misspelling "
            "of lat_684?)") in text


@pytest.mark.parametrize(("edit", "new", "line", "key"), [
    ("Bus1=680.1.2.3 Bus2=TIE675.1.2.3", "Bus1=F1.680 Bus2=TIE675.1.2.3", "tie_680_675",
     "bus1"),
    ("Bus1=TIE675 Bus2=675 Switch=y", "Bus1=TIE675 Bus2=F1.675 Switch=y", "sw_tie", "bus2"),
])
def test_a_dotted_bus_name_names_its_end(tmp_path: Path, edit: str, new: str, line: str,
                                         key: str) -> None:
    path = _feeder(tmp_path, edit, new)
    _opendss(path)
    dss.Lines.Name(line)
    spec = dss.Lines.Bus1() if key == "bus1" else dss.Lines.Bus2()
    assert spec.lower().startswith("f1.6")  # OpenDSS: bus f1, node 680 (or 675)
    text = _info(path)
    assert f"lines [{line}].{key}: Line.{line} connects nodes" in text
    assert f"{key}={spec.lower()} has node" in text and "which is no phase" in text
    assert f"if {spec.lower()} names one bus, its name cannot hold a dot" in text
