"""Small OpenDSS feeders for the partition tests, written out in the tests (no feederopt code
builds them)."""

from __future__ import annotations


def long_line(kw: float, kvar: float) -> str:
    """An islanded 12.47 kV feeder: a grid-forming capable 10 MW generator g1 at b1, the
    switch s12, then 10 km of a 0.4 + j0.8 ohm/km line to one three-phase constant-power load
    of ``kw`` + j``kvar`` at b2; the substation switch open. A load of about 4.3 MW sits where
    the lossless model serves it and OpenDSS puts b2 just below 0.9 p.u."""
    return f"""Clear
New Circuit.q basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Linecode.lc3 nphases=3 r1=0.4 x1=0.8 r0=0.8 x0=2.4 c1=0 c0=0 units=km normamps=400
New Line.subsw phases=3 bus1=src bus2=b1 switch=yes
New Line.s12 phases=3 bus1=b1 bus2=b2x switch=yes
New Line.l12 phases=3 bus1=b2x bus2=b2 linecode=lc3 length=10
New Load.l2 phases=3 bus1=b2 kv=12.47 kw={kw:g} kvar={kvar:g} model=1
New Generator.g1 phases=3 bus1=b1 kv=12.47 kw=10000 kva=12000
Open Line.subsw term=1
Set voltagebases=[12.47]
Calcv
Solve
"""


#: g1 grid-forming, s12 fixed closed (the one block is energised or not).
LONG_LINE_SETTINGS = {"dss": {"Generator.g1": {"inverter": "gfm"}},
                      "switch": {"s12": {"state": "CLOSED", "dispatchable": "NO"}}}
