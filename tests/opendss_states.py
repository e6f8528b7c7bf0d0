"""OpenDSS's own view of a feeder's switch states, for tests that brute-force every radial
state with opendssdirect (no feederopt code): the buses each two-terminal line or transformer
joins, the sets of open switches that leave the buses a tree, and a solve with given switches
open."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import opendssdirect as dss


def two_terminal_edges() -> list[tuple[str, str, str]]:
    """``(element id, bus, bus)`` of every line and transformer of the compiled circuit that
    joins two buses (ids and buses lower case, the buses sorted)."""
    out = []
    for name in dss.Circuit.AllElementNames():
        if not name.lower().startswith(("line.", "transformer.")):
            continue
        dss.Circuit.SetActiveElement(name)
        buses = {b.split(".")[0].lower() for b in dss.CktElement.BusNames()}
        if len(buses) == 2:
            a, b = sorted(buses)
            out.append((name.lower().split(".", 1)[1], a, b))
    return out


def radial_states(edges: list[tuple[str, str, str]], switches: Sequence[str]
                  ) -> list[frozenset[str]]:
    """Every set of ``switches`` whose opening leaves the buses of ``edges`` a tree."""
    out = []
    for k in range(len(switches) + 1):
        for opened in itertools.combinations(switches, k):
            g: nx.Graph = nx.Graph()
            g.add_edges_from((a, b) for eid, a, b in edges if eid not in opened)
            if nx.is_tree(g):
                out.append(frozenset(opened))
    return out


def solve_switched(path: Path, switches: Sequence[str], open_switches: set[str]) -> None:
    """Compile ``path`` (its folder must outlive the test: OpenDSS works in it), controls off,
    every one of ``switches`` enabled and open at terminal 1 when in ``open_switches``, else
    closed at both ends; solve; it must converge."""
    dss.Text.Command(f'Compile "{path}"')
    dss.Text.Command("Set ControlMode=OFF")
    for sw in switches:
        dss.Text.Command(f"Edit Line.{sw} enabled=yes")
        if sw in open_switches:
            dss.Text.Command(f"Open Line.{sw} term=1")
        else:
            dss.Text.Command(f"Close Line.{sw} term=1")
            dss.Text.Command(f"Close Line.{sw} term=2")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
