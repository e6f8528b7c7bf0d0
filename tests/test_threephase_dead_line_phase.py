"""A line that carries a phase its bus does not have (user test ut_3ph #3): ``New Line.newlat
Phases=3 Bus1=684`` where bus 684 of IEEE 13 has phases a and c only. OpenDSS makes node 684.2
for that line alone, so the line's phase b is fed by nothing; ``info`` said "problems: none"
and ``solve`` blamed the current limits, then the voltage limits. Now a typed problem names
the line, the phase and the bus's phases (exit 2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli.app import app

SRC = (Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss"
       / "network.ieee13.dss")


def _feeder(tmp_path: Path, extra: str) -> Path:
    """The built-in IEEE 13 file with ``extra`` after its last line definition."""
    lines = SRC.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if line.lower().startswith("new line."))
    master = tmp_path / "feeder.dss"
    master.write_text("\n".join([*lines[:last + 1], extra, *lines[last + 1:]]) + "\n")
    return master


def test_a_line_on_a_phase_its_bus_lacks_is_named(tmp_path: Path) -> None:
    master = _feeder(tmp_path, "New Line.newlat Phases=3 Bus1=684 Bus2=newlat LineCode=mtx601 "
                               "Length=100 units=ft\nNew Load.nl Bus1=newlat.1 Phases=1 "
                               "kV=2.4 kW=10 kvar=5")
    res = CliRunner().invoke(app, ["info", str(master)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "Line.newlat carries phase b (node 2) from bus 684" in text
    assert "bus 684 has only phase a, c" in text and "Traceback" not in res.output


def test_the_same_line_on_the_bus_phases_is_fine(tmp_path: Path) -> None:
    master = _feeder(tmp_path, "New Line.newlat Phases=2 Bus1=684.1.3 Bus2=newlat.1.3 "
                               "LineCode=mtx604 Length=100 units=ft\nNew Load.nl "
                               "Bus1=newlat.1 Phases=1 kV=2.4 kW=10 kvar=5")
    res = CliRunner().invoke(app, ["info", str(master)])
    assert res.exit_code == 0, res.output


def test_a_switch_open_on_one_conductor_is_named(tmp_path: Path) -> None:
    """User test ut_3ph2 D3: ``Open Line.671692 term=1 conductor=2`` was read as the whole
    switch open (six loads "solved without voltage"), while OpenDSS feeds phases a and c
    (Load.675a draws 485 kW). The model cannot open one phase of a switch: a typed problem
    names it (exit 2)."""
    lines = SRC.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Set Voltagebases"))
    master = tmp_path / "feeder.dss"
    master.write_text("\n".join([*lines[:at], "Open Line.671692 term=1 conductor=2",
                                 *lines[at:]]) + "\n")
    res = CliRunner().invoke(app, ["info", str(master)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "Line.671692 is open on conductor(s) 2 only" in text and "Traceback" not in text


def test_zip_loads_below_their_cutoff_draw_nothing(tmp_path: Path) -> None:
    """User test ut_3ph2 D4: every IEEE 13 load as ZIP (model 8) with OpenDSS's cutoff 0.8.
    The loads whose rated kV is line-to-line on a line-to-neutral connection sit at V/kV
    0.58, below the cutoff: OpenDSS draws nothing from them, the model drew them (its
    voltages 0.028 p.u. from OpenDSS's). Truth: OpenDSS's own solution (``info`` compares
    the model's base-case voltages with it)."""
    import json
    import re

    text = re.sub(r"(^New Load\.\S+.*?)Model=\d", r"\1Model=8 ZIPV=[0.3 0.3 0.4 0.3 0.3 0.4 0.8]",
                  SRC.read_text(), flags=re.M | re.I)
    master = tmp_path / "zip.dss"
    master.write_text(text)
    res = CliRunner().invoke(app, ["info", str(master), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["lindist3flow_max_voltage_error_pu"] < 0.01
    assert any("below their ZIPV cutoff" in n for n in doc["warnings"]), doc["warnings"]
