"""The note of a feeder whose switchable lines are all normally closed is worded by its base
topology (user test ut46_dss3 #4): IEEE 13mod with its tie ``801675`` enabled is meshed, but
the note said "a radial feeder keeps its base topology; only loops can be opened" while the
solve opened 801675. The truth of the loop count is networkx's cycle basis of the buses that
OpenDSS's closed lines and transformers join (opendssdirect on the same file)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import opendssdirect as dss

from feederopt import solve_three_phase
from feederopt.cases.threephase import three_phase_case_path
from feederopt.io.opendss import compile_circuit

TIE = ("New Line.801675 Phases=3 Bus1=801 Bus2=675aux Switch=y r1=0 r0=0 x1=0 x0=0 c1=0.0 "
       "c0=0.0 normamps=50 emergamps=50 enabled=n  ! tie switch")


def _variant(tmp_path: Path, name: str, tie: str) -> Path:
    text = three_phase_case_path("ieee13mod").read_text()
    assert TIE in text
    text = text.replace(TIE, tie)
    if not tie:
        text = text.replace("New Relay.801675 monitoredobj=line.801675", "")
    path = tmp_path / name
    path.write_text(text)
    return path


def _opendss_loops(path: Path) -> int:
    """Independent loops of the bus graph of OpenDSS's enabled lines and transformers."""
    compile_circuit(path)
    graph: nx.Graph = nx.Graph()
    for element in dss.Circuit.AllElementNames():
        cls = element.split(".")[0].lower()
        if cls not in ("line", "transformer"):
            continue
        dss.Circuit.SetActiveElement(element)
        if not dss.CktElement.Enabled():
            continue
        buses = [b.split(".")[0].lower() for b in dss.CktElement.BusNames()]
        graph.add_edge(buses[0], buses[1])
    return len(nx.cycle_basis(graph))


def _note(path: Path) -> str:
    result = solve_three_phase(str(path), time_limit_s=30, ac_check=False)
    return next(n for n in result.notes if n.startswith("all "))


def test_meshed_base_is_called_meshed(tmp_path: Path) -> None:
    path = _variant(tmp_path, "meshed13mod.dss", TIE.replace("enabled=n  ! tie switch",
                                                             "enabled=y"))
    assert _opendss_loops(path) == 1
    note = _note(path)
    assert note == ("all 7 switchable lines are normally closed (no tie switch), and the base "
                    "topology is meshed (1 loop(s) of closed lines and transformers): the "
                    "search opens switches on its loops (a loop that no switch opens stays "
                    "closed)")
    assert "radial feeder keeps" not in note


def test_radial_base_is_called_radial(tmp_path: Path) -> None:
    path = _variant(tmp_path, "radial13mod.dss", "")
    assert _opendss_loops(path) == 0
    assert _note(path) == ("all 6 switchable lines are normally closed (no tie switch): the "
                           "base topology is radial, so it is the only radial state")
