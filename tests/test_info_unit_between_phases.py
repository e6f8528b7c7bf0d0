"""``feederopt info`` on an OpenDSS feeder with a single-phase unit between two phases
(``phases=1 bus1=x.2.3``, a PhaseGenerator with ``conn`` delta and ``phases`` "bc") showed its
phases as ``bc``, as it shows a two-phase unit with a phase to ground on each of b and c
(``phases=2 bus1=x.2.3``): nothing said it sits between the phases (user test ut39_tph,
partexit #2). The table now says ``b-c (between phases)`` and the JSON has ``conn``. The truth
is OpenDSS's own element: its terminal's nodes and its number of phases (opendssdirect)."""

from __future__ import annotations

import json
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})  # rows unwrapped (xdist: 80)

FEEDER = """Clear
New Circuit.t basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.1 x1=0.2 r0=0.3 x0=0.6 c1=0 c0=0 length=1 units=km
New Load.ld phases=3 bus1=b1 kv=12.47 kw=300 kvar=100
New Generator.gbc phases=1 bus1=b1.2.3 kv=12.47 kw=100 kva=120
New Generator.g2 phases=2 bus1=b1.2.3 kv=12.47 kw=60 kva=70
New PVSystem.pvb phases=1 bus1=b1.2 kv=7.2 pmpp=50 kva=60 irradiance=1
Set voltagebases=[12.47]
Calcv
Solve
"""


def _opendss_connection(path: Path) -> dict[str, tuple[str, bool]]:
    """Per unit, from OpenDSS's element: the phases it touches ("b-c" or "bc") and whether
    it is one phase between two phase nodes (1 phase, its second conductor on a phase)."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    out = {}
    for name in dss.Circuit.AllElementNames():
        if not name.lower().startswith(("generator.", "pvsystem.")):
            continue
        dss.Circuit.SetActiveElement(name)
        nodes = [int(x) for x in dss.CktElement.BusNames()[0].split(".")[1:]]
        nph = dss.CktElement.NumPhases()
        between = nph == 1 and len(nodes) == 2 and 1 <= nodes[1] <= 3 and nodes[1] != nodes[0]
        letters = ["abc"[n - 1] for n in nodes if 1 <= n <= 3]
        out[name.lower()] = ("-".join(letters) if between else "".join(letters), between)
    return out


def test_info_shows_a_unit_between_phases(tmp_path: Path) -> None:
    path = tmp_path / "bc.dss"
    path.write_text(FEEDER)
    truth = _opendss_connection(path)
    assert truth["generator.gbc"] == ("b-c", True)  # the premise: OpenDSS's own element
    assert truth["generator.g2"] == ("bc", False)
    res = runner.invoke(app, ["info", str(path)])
    assert res.exit_code == 0, res.output
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in res.output.splitlines()
            if line.startswith("│") and line.split("│")[1].strip().startswith(
                ("Generator.", "PVSystem."))}
    docs = json.loads(runner.invoke(app, ["info", str(path), "--json"]).output)
    units = {u["id"]: u for u in docs["generator_units"]}
    assert set(rows) == set(units) == {"Generator.gbc", "Generator.g2", "PVSystem.pvb"}
    for uid in units:
        phases, between = truth[uid.lower()]
        # the table's phases cell (kind, bus, phases, ...)
        assert rows[uid][2] == (f"{phases} (between phases)" if between else phases), rows
        # the JSON: the phases as letters and how the unit is connected
        assert units[uid]["phases"] == phases.replace("-", "")
        assert units[uid]["conn"] == ("delta" if between else "wye")
