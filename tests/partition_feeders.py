"""Small OpenDSS feeders for the partition tests, written out in the tests (no feederopt code
builds them)."""

from __future__ import annotations

from pathlib import Path


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


def long_line_b2_voltages(feeder: Path, v_set: float, factor: float) -> tuple[float, float]:
    """OpenDSS's (opendssdirect's) lowest and highest phase voltage [p.u.] at b2 of a
    :func:`long_line` feeder with load l2 at ``factor`` of its nominal kW and kvar, g1 replaced
    by a stiff three-phase source at ``v_set`` p.u.: the independent truth of the partition
    checks' samples."""
    import opendssdirect as dss

    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{feeder}"')
    dss.Loads.Name("l2")
    # both read first: OpenDSS keeps a load's power factor when its kW is set, so the kvar
    # read after the kW had already moved by ``factor`` (scaled twice, by factor^2, before)
    kw, kvar = dss.Loads.kW(), dss.Loads.kvar()
    dss.Loads.kW(kw * factor)
    dss.Loads.kvar(kvar * factor)
    dss.Text.Command("Generator.g1.enabled=no")
    dss.Text.Command(f"New Vsource.gf bus1=b1 basekv=12.47 pu={v_set!r} phases=3 "
                     "MVAsc3=1e8 MVAsc1=1e8")
    dss.Text.Command("solve")
    if not dss.Solution.Converged():
        raise RuntimeError(f"OpenDSS did not converge on {feeder} at x{factor}")
    dss.Circuit.SetActiveBus("b2")
    mags = dss.Bus.puVmagAngle()[0::2]
    return min(mags), max(mags)


#: g1 grid-forming, s12 fixed closed (the one block is energised or not).
LONG_LINE_SETTINGS = {"dss": {"Generator.g1": {"inverter": "gfm"}},
                      "switch": {"s12": {"state": "CLOSED", "dispatchable": "NO"}}}


def ring_with_shunts(l2_kw: float, l2_kvar: float, cap_connection: str) -> str:
    """A 12.47 kV ring b1-b2-b3-b4-b5-b1 (switches s12, s34, s15; s15 open) whose substation
    switch is open: the grid-forming capable Generator.gf (900 kW, 1,100 kVA) at b1, a 200 kW PV
    on the 2-phase lateral c1 between phases b and c, constant-power loads (l2 on b2.1 of
    ``l2_kw`` + j``l2_kvar``), a 120 kvar delta reactor at b4, a 40 kvar reactor between phases
    a and c of b2, and a 300 kvar capacitor bank at b5 connected by ``cap_connection``
    (``"bus2=b5.4.4.4"``: a star with a floating star point; ``"conn=delta"``)."""
    return f"""Clear
New Circuit.pb basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Linecode.lc3 nphases=3 r1=0.25 x1=0.5 r0=0.6 x0=1.5 c1=0 c0=0 units=km normamps=400
New Linecode.lc2 nphases=2 rmatrix=[0.4 | 0.1 0.4] xmatrix=[0.8 | 0.3 0.8] units=km normamps=200
New Line.subsw phases=3 bus1=src bus2=b1 switch=yes
New Line.s12 phases=3 bus1=b1 bus2=b2 linecode=lc3 length=1.5 switch=yes
New Line.l23 phases=3 bus1=b2 bus2=b3 linecode=lc3 length=1.0
New Line.s34 phases=3 bus1=b3 bus2=b4 linecode=lc3 length=1.2 switch=yes
New Line.l45 phases=3 bus1=b4 bus2=b5 linecode=lc3 length=0.9
New Line.s15 phases=3 bus1=b1 bus2=b5 linecode=lc3 length=2.0 switch=yes
New Line.lat phases=2 bus1=b3.2.3 bus2=c1.2.3 linecode=lc2 length=1.5
New Load.l1 phases=3 bus1=b1 kv=12.47 kw=150 kvar=50 model=1
New Load.l2 phases=1 bus1=b2.1 kv=7.2 kw={l2_kw:g} kvar={l2_kvar:g} model=1
New Load.l3 phases=3 bus1=b3 kv=12.47 kw=200 kvar=60 model=1
New Load.lc phases=1 bus1=c1.2.3 kv=12.47 kw=180 kvar=50 model=1
New Load.l4 phases=3 bus1=b4 kv=12.47 kw=240 kvar=80 model=1
New Load.l5 phases=1 bus1=b5.3 kv=7.2 kw=90 kvar=30 model=1
New Generator.gf phases=3 bus1=b1 kv=12.47 kw=900 kva=1100
New PVSystem.pvbc phases=1 bus1=c1.2.3 kv=12.47 pmpp=200 kva=220 irradiance=1
New Reactor.rd phases=3 bus1=b4 conn=delta kvar=120 kv=12.47
New Capacitor.cf phases=3 bus1=b5 {cap_connection} kvar=300 kv=12.47
New Reactor.rpp phases=1 bus1=b2.1 bus2=b2.3 kvar=40 kv=12.47
Open Line.subsw term=1
Open Line.s15 term=1
Set voltagebases=[12.47]
Calcv
Solve
"""


#: gf grid-forming, the PV between phases grid-following.
RING_WITH_SHUNTS_SETTINGS = {"dss": {"Generator.gf": {"inverter": "gfm"},
                                     "PVSystem.pvbc": {"inverter": "gfl"}}}
