"""A feeder with one radial state says so (user test ut47_docs #4): ``feederopt solve ieee37``
printed the status "optimal over the 1 radial states by OpenDSS", where docs/threephase.md
calls IEEE 37 "nothing to switch". The truth is OpenDSS alone (opendssdirect, no feederopt
code): the stock IEEE 37 file has no switchable line (no ``Switch=yes`` line, no SwtControl)
and its buses are a tree, so its one radial state is the file's own. The console says "the
only radial state: nothing to switch"; the JSON's ``status`` and ``optimal_for`` stay as they
were (``optimal``, ``opendss_enumeration``)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import opendssdirect as dss
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from opendss_states import radial_states, two_terminal_edges

IEEE37 = Path(feederopt.__file__).parent / "cases" / "data" / "opendss" / "ieee37" / "ieee37.dss"
runner = CliRunner(env={"COLUMNS": "300"})  # wide: the status cell on one line


def _switches() -> list[str]:
    """The file's switchable lines, by OpenDSS: lines with ``Switch=yes`` and the lines a
    SwtControl names."""
    dss.Text.Command(f"compile [{IEEE37}]")
    out = []
    k = dss.Lines.First()
    while k > 0:
        if dss.Lines.IsSwitch():
            out.append(dss.Lines.Name().lower())
        k = dss.Lines.Next()
    assert dss.Lines.Count() > 30  # the lines were read
    for name in dss.Circuit.AllElementNames():
        if name.lower().startswith("swtcontrol."):
            dss.Circuit.SetActiveElement(name)
            out.append(dss.CktElement.BusNames()[0].lower())
    return out


def test_ieee37_has_one_radial_state_and_the_status_says_nothing_to_switch(
        tmp_path: Path) -> None:
    switches = _switches()
    assert switches == []
    edges = two_terminal_edges()
    g: nx.Graph = nx.Graph()
    g.add_edges_from((a, b) for _, a, b in edges)
    assert nx.is_tree(g)
    assert radial_states(edges, switches) == [frozenset()]

    out = tmp_path / "r.json"
    run = runner.invoke(app, ["solve", "ieee37", "--time-limit", "60", "--json", str(out)])
    assert run.exit_code in (0, 4), run.output  # 4: SubXF above its rating in every state
    text = run.output
    assert "the only radial state: nothing to switch" in text
    assert "1 radial states" not in text
    data = json.loads(out.read_text())
    assert data["status"] == "optimal"
    assert data["optimal_for"] == "opendss_enumeration"
    assert data["search"] == "enumeration (1 radial state)"
    assert not any("1 radial states" in n for n in data["notes"])
