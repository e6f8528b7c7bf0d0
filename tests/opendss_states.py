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


def ring_feeder(name: str, *, pu: float, l0_amps: float, la1: tuple[float, float],
                la2: tuple[float, float], lbc_km: float, vmaxpu: float | None = 1.2) -> str:
    """The OpenDSS text of the 12.47 kV test ring: the head line ``L0`` (src-a, a bridge),
    switches ``sw1`` (a-a1) and ``sw2`` (a-a2), lines ``La1`` (a1-b) and ``La2`` (a2-c) of
    ``(km, normamps)``, the open tie ``tie`` (b-t) and ``Lbc`` (t-c, 300 A), loads of 1500 kW at
    b and 500 kW at c; the source at ``pu``."""
    vmax = f" vmaxpu={vmaxpu:g}" if vmaxpu is not None else ""
    return f"""Clear
New Circuit.{name} basekv=12.47 pu={pu:g} phases=3 bus1=src MVAsc3=200000 MVAsc1=210000
New Linecode.ohl nphases=3 r1=0.35 x1=0.4 r0=1.0 x0=1.2 c1=0 c0=0 units=km
New Line.L0 bus1=src bus2=a linecode=ohl length=0.1 normamps={l0_amps:g}
New Line.sw1 bus1=a bus2=a1 switch=y
New Line.La1 bus1=a1 bus2=b linecode=ohl length={la1[0]:g} normamps={la1[1]:g}
New Line.sw2 bus1=a bus2=a2 switch=y
New Line.La2 bus1=a2 bus2=c linecode=ohl length={la2[0]:g} normamps={la2[1]:g}
New Line.tie bus1=b bus2=t switch=y enabled=n
New Line.Lbc bus1=t bus2=c linecode=ohl length={lbc_km:g} normamps=300
New Load.b bus1=b phases=3 conn=wye kV=12.47 kW=1500 kvar=0 model=1 vminpu=0.8{vmax}
New Load.c bus1=c phases=3 conn=wye kV=12.47 kW=500 kvar=0 model=1 vminpu=0.8{vmax}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
