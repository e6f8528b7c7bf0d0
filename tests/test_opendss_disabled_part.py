"""A cleanly disabled part of an OpenDSS feeder is not in the model, as it is not in OpenDSS's
circuit, and ``info`` runs on the rest with a note naming what was left out.

IEEE 13 (PowerModelsONM's, with its microgrid) with every element of the part behind
Line.632670 disabled: the loads, capacitors and DERs of that part were read out of service on
buses that OpenDSS's circuit does not have, nine ``unknown_bus`` problems (exit 2); with its
recloser and relay left enabled, which keep buses 670 and 801 in OpenDSS's circuit with no
admittance, OpenDSS's solution is singular and ``info`` ended in a TypeError (exit 1). A
transformer disabled with every load behind it gave ``unknown_bus`` likewise.

Truth: OpenDSS's own solve of the feeder without those elements (their lines deleted from the
script): its losses are ``info``'s base-case losses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from opendss_plain import plain_solution
from test_opendss_disabled_island import FEEDER

runner = CliRunner()

#: Every element of IEEE 13 behind Line.632670 (the microgrid behind 670 included).
ISLAND = [
    "Line.632670", "Line.670671", "Line.671680", "Line.671684", "Line.684611", "Line.684652",
    "Line.671692", "Line.692675", "Line.671700", "Line.700701", "Line.701702", "Line.702703",
    "Line.703800", "Line.800800aux", "Line.800801", "Line.801675", "Line.675675aux",
    "Load.671_1", "Load.671_2", "Load.671_3", "Load.692_3", "Load.692_1", "Load.675a",
    "Load.675b", "Load.675c", "Load.611", "Load.652", "Load.670a", "Load.670b", "Load.670c",
    "Load.700", "Load.701", "Load.702", "Load.703", "Load.801", "Capacitor.Cap1",
    "Capacitor.Cap2", "Generator.675", "PVSystem.PV_mg1a", "PVSystem.PV_mg1b",
    "Storage.Battery_mg1a", "Storage.Battery_mg1b", "Storage.Battery_mg1c"]
CONTROLS = ["Relay.801675", "Recloser.671700"]
LIVE = {"sourcebus", "650", "rg60", "632", "633", "634", "645", "646"}


def _defines(line: str, elements: list[str]) -> bool:
    m = re.match(r"\s*new\s+(\S+)", line, re.IGNORECASE)
    return bool(m) and m.group(1).lower() in {e.lower() for e in elements}


def _disabled(text: str, elements: list[str]) -> str:
    """``text`` with ``Disable X`` for each element before its voltage bases."""
    block = "".join(f"Disable {e}\n" for e in elements)
    return text.replace("Set Voltagebases", block + "Set Voltagebases", 1)


def _without(text: str, elements: list[str]) -> str:
    """``text`` without the definitions of ``elements`` (and their ``~`` continuations)."""
    out, dropping = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("~"):
            if not dropping:
                out.append(line)
            continue
        dropping = _defines(line, elements)
        if not dropping:
            out.append(line)
    return "\n".join(out) + "\n"


def _info(path: Path) -> tuple[int, str, dict | None]:
    result = runner.invoke(app, ["info", str(path), "--json"])
    try:
        data = json.loads(result.output)
    except ValueError:
        data = None
    return result.exit_code, result.output, data


def test_ieee13_with_the_part_behind_632670_disabled_runs_on_the_rest(tmp_path: Path) -> None:
    text = three_phase_case_path("ieee13").read_text()
    path = tmp_path / "ieee13_off.dss"
    path.write_text(_disabled(text, ISLAND + CONTROLS))
    # OpenDSS's truth: the feeder without that part at all
    _, volts, _ = plain_solution(_without(text, ISLAND + CONTROLS), tmp_path)
    assert {n.split(".")[0] for n in volts} == LIVE
    import opendssdirect as dss

    losses_kw = dss.Circuit.Losses()[0] / 1000.0
    code, output, data = _info(path)
    assert code == 0 and "Traceback" not in output, output
    assert data is not None and data["problems"] == []
    assert data["base_converged"] is True
    # within the file's own solution tolerance (Set tolerance=0.001): 10.596 against 10.593 kW
    assert data["base_losses_kw"] == pytest.approx(losses_kw, rel=1e-3)
    assert data["base_min_voltage_pu"] is not None
    note = next(w for w in data["warnings"] if "disabled element(s)" in w)
    for element in ("Load 671_1", "Capacitor cap1, cap2", "Generator 675", "Storage"):
        assert element in note, note
    # the part's lines: in the note on disabled lines to buses not in the circuit
    lines = next(w for w in data["warnings"] if "connect nothing of this circuit" in w)
    assert lines.startswith("17 open or disabled line(s)") and "632670" in lines
    # the console too, without a traceback
    plain = runner.invoke(app, ["info", str(path)])
    assert plain.exit_code == 0 and "Traceback" not in plain.output, plain.output


def test_controls_that_keep_disabled_buses_in_the_circuit_are_named(tmp_path: Path) -> None:
    """With the recloser and relay left enabled, OpenDSS keeps 670 and 801 (the terminals of
    the disabled lines they monitor) in its circuit with nothing connected: its solution of
    the file is singular (no losses, no voltages). A typed problem names them (exit 2), not a
    TypeError (exit 1)."""
    text = three_phase_case_path("ieee13").read_text()
    path = tmp_path / "ieee13_ctrl.dss"
    path.write_text(_disabled(text, ISLAND))
    code, output, _ = _info(path)
    assert code == 2 and "Traceback" not in output, output
    flat = " ".join(output.split())
    assert "island_without_source" in flat and "(801, 670)" in flat
    assert "Recloser.671700" in flat and "Relay.801675" in flat


def test_a_transformer_disabled_with_every_load_behind_it_is_left_out(tmp_path: Path) -> None:
    script = FEEDER.format(line="", tr="enabled=n", extra="").replace(
        "New Load.634 bus1=634 phases=3 kV=0.48 kW=100 kvar=30 model=1",
        "New Load.634 bus1=634 phases=3 kV=0.48 kW=100 kvar=30 model=1 enabled=n")
    path = tmp_path / "feeder.dss"
    path.write_text(script)
    truth = _without(FEEDER.format(line="", tr="", extra=""),
                     ["Transformer.xfm1", "Load.634"])
    _, volts, _ = plain_solution(truth, tmp_path)
    import opendssdirect as dss

    losses_kw = dss.Circuit.Losses()[0] / 1000.0
    assert "634" not in {n.split(".")[0] for n in volts}
    code, output, data = _info(path)
    assert code == 0, output
    assert data is not None and data["problems"] == []
    assert data["base_losses_kw"] == pytest.approx(losses_kw, rel=1e-4)
    note = next(w for w in data["warnings"] if "disabled element(s)" in w)
    assert "Transformer xfm1" in note and "Load 634" in note
