"""OpenDSS ``Reactor`` elements and transformers' no-load branches in the three-phase model
(the IEEE 8500-node feeder and EPRI ckt5 give their source impedance as a series reactor).

The feeder below is written by the test: a 115/12.47 kV substation behind a series reactor, a
shunt reactor, a single-phase series reactor on a lateral, a single-phase 7.2/0.24 kV service
unit (EPRI ckt5's kind), transformers with no-load losses and magnetizing current.

References: OpenDSS's own power flow of the file (plain OpenDSSDirect.py calls written out
here) and the OpenDSS manual's definitions of a reactor's parameters, never our output. Before
this change a reactor was "Reactor elements are not modelled" (exit 2) and the no-load
branches were left out, so the first three tests failed on the old code.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from feederopt.api_threephase import three_phase_info
from feederopt.io.opendss import read_opendss
from feederopt.io.opendss_write import model_script
from opendss_plain import plain_solution

#: The loads' voltage band, the same in the file and in the model's script (the model has no
#: OpenDSS Vminpu/Vmaxpu switch to constant impedance).
BAND = "vminpu=0.8 vmaxpu=1.2"

FEEDER = f"""Clear
Set DefaultBaseFrequency=60
New Circuit.reactors basekv=115 pu=1.03 phases=3 bus1=src MVAsc3=2000 MVAsc1=1800
New Reactor.sub_x bus1=src bus2=hsb phases=3 r=0.4 x=9
New Transformer.sub phases=3 windings=2 buses=[hsb lsb] conns=[delta wye] kvs=[115 12.47]
~ kvas=[5000 5000] xhl=8 %rs=[0.4 0.4] %imag=0.6 %noloadloss=0.15
New Linecode.mv nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=10 c0=4 units=km
New Line.l1 bus1=lsb bus2=p1 linecode=mv length=3
New Line.l2 bus1=p1 bus2=p2 linecode=mv length=2
New Line.l3 bus1=p2 bus2=p4 linecode=mv length=2.5
New Reactor.shunt bus1=p2 phases=3 kvar=400 kv=12.47 rp=40000
New Reactor.lat bus1=p4.2 bus2=p5.2 phases=1 r=1.5 x=4
New Transformer.svc phases=1 windings=2 buses=[p5.2 x5.2] kvs=[7.2 0.24] kvas=[50 50]
~ %imag=1.5 %noloadloss=0.4 xhl=2 %rs=[0.6 0.6]
New Load.p1 bus1=p1 phases=3 kv=12.47 kw=600 kvar=200 {BAND}
New Load.p4 bus1=p4 phases=3 kv=12.47 kw=900 kvar=300 {BAND}
New Load.p5 bus1=p5.2 phases=1 kv=7.2 kw=150 kvar=50 {BAND}
New Load.x5 bus1=x5.2 phases=1 kv=0.24 kw=30 pf=0.95 {BAND}
Set VoltageBases=[115 12.47 0.4157]
CalcVoltageBases
"""


def _feeder(tmp_path: Path, text: str = FEEDER) -> Path:
    path = tmp_path / "reactors.dss"
    path.write_text(text)
    return path


def test_the_model_solves_as_the_file(tmp_path: Path) -> None:
    """OpenDSS's power flow of the model the reader builds (written back by
    :func:`model_script`: the series reactors as lines, the shunt reactor and the no-load
    branches as shunts) reproduces OpenDSS's power flow of the file: the source's P and Q
    within 1e-4 of the load, every node voltage within 1e-4 p.u.; ``info`` reads it (exit 0).

    Mutated by hand: the no-load shunts left out failed on the source's P (8.0 kW); put at
    winding 1 (``from_bus``, ``kv_from``) it failed on a 12.47 kV node (5e-4 p.u.)."""
    path = _feeder(tmp_path)
    net = read_opendss(path)
    full_s, full_ph, _ = plain_solution(path.read_text(), tmp_path)
    red_s, red_ph, _ = plain_solution(model_script(net, load_options=BAND), tmp_path)
    full_v = {k: abs(v) for k, v in full_ph.items()}
    red_v = {k: abs(v) for k, v in red_ph.items()}
    load_kw = 600 + 900 + 150 + 30
    assert abs(red_s.real - full_s.real) <= 1e-4 * load_kw
    assert abs(red_s.imag - full_s.imag) <= 1e-4 * load_kw
    base = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
    assert set(red_v) == set(full_v)
    for key, v in full_v.items():
        bus = key.split(".")[0]
        assert abs(red_v[key] - v) / (base[bus] / math.sqrt(3) * 1000) <= 1e-4, key
    assert three_phase_info(path)["problems"] == []


#: Reactor forms and what the OpenDSS manual (Reactor object) says they are: the impedance of
#: a series reactor [Ohm] (every phase, no mutual terms unless stated).
SERIES_FORMS = {
    "r=1 x=2": complex(1, 2),  # R, X in series
    "z=[1 2]": complex(1, 2),  # Z as [R X]
    "r=1 x=2 parallel=yes": complex(1, 2),  # Parallel applies to Rmatrix/Xmatrix only
    "rmatrix=[4 0 0|0 4 0|0 0 4] xmatrix=[2 0 0|0 2 0|0 0 2] parallel=yes": 1 / (1 / 4 + 1 / 2j),
    "r=1 x=2 rp=10": 1 / (1 / complex(1, 2) + 1 / 10),  # Rp in parallel with R + jX
    "kvar=600 kv=12.47": complex(0, 12.47**2 / 0.6),  # X = kV^2 / Mvar (3-phase: kV l-l)
    "lmh=5": complex(0, 2 * math.pi * 60 * 5e-3),  # X = 2 pi f L
}


@pytest.mark.parametrize("form", SERIES_FORMS)
def test_a_series_reactor_is_a_line_with_opendss_impedance(tmp_path: Path, form: str) -> None:
    """A reactor between two buses is a zero-length line whose impedance is the OpenDSS
    manual's for its parameter form, diagonal; z1/z0 give the sequence matrix
    ``Zs = (Z0 + 2 Z1) / 3``, ``Zm = (Z0 - Z1) / 3``.

    Mutated by hand: ``Reactors.R()``/``X()`` on the diagonal instead of the primitive
    admittance failed the Rp and parallel-matrix forms and z1/z0 (next test)."""
    text = FEEDER.replace("New Reactor.sub_x bus1=src bus2=hsb phases=3 r=0.4 x=9",
                          f"New Reactor.sub_x bus1=src bus2=hsb phases=3 {form}")
    net = read_opendss(_feeder(tmp_path, text))
    z = {(r["row"], r["col"]): complex(r["r_ohm"], r["x_ohm"])
         for r in net.impedances.iter_rows(named=True) if r["line"] == "sub_x"}
    line = net.lines.filter(net.lines["id"] == "sub_x").row(0, named=True)
    assert (line["from_bus"], line["to_bus"], line["phases"]) == ("src", "hsb", "abc")
    for i in "abc":
        for k in "abc":
            want = SERIES_FORMS[form] if i == k else 0
            assert z[(i, k)] == pytest.approx(want, rel=1e-9, abs=1e-9), (i, k)


@pytest.mark.parametrize(("spec", "amps"), [
    ("r=0.4 x=9", None),  # OpenDSS's NormAmps is then its default kvar's current, 4.63 A
    ("r=0.4 x=9 normamps=400", 400.0),
    ("kvar=600 kv=115", 600 / (115 * math.sqrt(3))),  # the rated current
])
def test_a_series_reactor_is_rated_by_its_normamps(tmp_path: Path, spec: str,
                                                   amps: float | None) -> None:
    """A series reactor's rating is its ``NormAmps`` when the file gives it or its kvar and
    kV give it (OpenDSS manual: "Defaults to per-phase rated current when reactor is specified
    with rated power and voltage"); one given by impedance alone has none, and ``solve``
    does not call it overloaded.

    Mutated by hand: with OpenDSS's NormAmps taken as it is, the first case failed (4.63 A);
    the solve of ``test_opendss_split_phase.py``'s feeder was then infeasible on "lat (586 %),
    sub_x (164 %)"."""
    text = FEEDER.replace("New Reactor.sub_x bus1=src bus2=hsb phases=3 r=0.4 x=9",
                          f"New Reactor.sub_x bus1=src bus2=hsb phases=3 {spec}")
    net = read_opendss(_feeder(tmp_path, text))
    rating = net.lines.filter(net.lines["id"] == "sub_x")["i_max_a"].item()
    assert rating == (None if amps is None else pytest.approx(amps, rel=1e-9))
    assert net.lines.filter(net.lines["id"] == "lat")["i_max_a"].item() is None


def test_sequence_and_single_phase_series_reactors(tmp_path: Path) -> None:
    """``z1=[1 2] z0=[3 6]``: self (3 + 6j + 2 (1 + 2j)) / 3, mutual (3 + 6j - 1 - 2j) / 3; the
    lateral's single-phase reactor (phase b, r=1.5 x=4) is a one-phase line."""
    text = FEEDER.replace("r=0.4 x=9", "z1=[1 2] z0=[3 6]")
    net = read_opendss(_feeder(tmp_path, text))
    z = {(r["line"], r["row"], r["col"]): complex(r["r_ohm"], r["x_ohm"])
         for r in net.impedances.iter_rows(named=True)}
    # OpenDSS builds the matrix from z1/z0 and inverts it: 3.5e-7 relative round-off
    assert z[("sub_x", "a", "a")] == pytest.approx((3 + 6j + 2 * (1 + 2j)) / 3, rel=1e-6)
    assert z[("sub_x", "b", "c")] == pytest.approx((3 + 6j - (1 + 2j)) / 3, rel=1e-6)
    assert z[("lat", "b", "b")] == pytest.approx(1.5 + 4j, rel=1e-9)
    assert [k for k in z if k[0] == "lat"] == [("lat", "b", "b")]


@pytest.mark.parametrize(("spec", "p_kw", "q_kvar"), [
    # kvar at rated kV; Rp in parallel: P = V^2 / Rp per phase (V = 12.47/sqrt3 kV)
    ("bus1=p2 phases=3 kvar=400 kv=12.47 rp=40000", 12.47**2 / 40000 * 1000, 400.0),
    # bus2 grounded explicitly: the same shunt
    ("bus1=p2 bus2=p2.0.0.0 phases=3 kvar=400 kv=12.47", 0.0, 400.0),
    # delta: kV across each branch, the same total kvar at rated voltage
    ("bus1=p2 phases=3 kvar=400 kv=12.47 conn=delta", 0.0, 400.0),
    # R + jX to ground per phase: S = V^2 / conj(Z) per phase
    ("bus1=p2 phases=3 r=10 x=400", 3 * (12470 / math.sqrt(3)) ** 2 * 10 / (10**2 + 400**2)
     / 1000, 3 * (12470 / math.sqrt(3)) ** 2 * 400 / (10**2 + 400**2) / 1000),
    # single-phase on phase c, kvar at 7.2 kV: rated at the bus's 12.47/sqrt3 kV
    ("bus1=p2.3 phases=1 kvar=100 kv=7.2", 0.0, 100.0 * (12.47 / math.sqrt(3) / 7.2) ** 2),
    # between phases a and b of one bus: X = kV^2 / Mvar, across |V_ab| = 12.47 kV
    ("bus1=p2.1 bus2=p2.2 phases=1 kvar=100 kv=12.47", 0.0, 100.0),
])
def test_a_shunt_reactor_is_a_constant_impedance_shunt(tmp_path: Path, spec: str, p_kw: float,
                                                      q_kvar: float) -> None:
    """A reactor with ``bus2`` absent (OpenDSS grounds it), grounded, or on the same bus is a
    shunt consuming the manual's ``P`` and ``Q`` at the bus's balanced rated voltages
    (``q_mvar`` negative: it absorbs).

    Mutated by hand: terminal 2's conductors taken as grounded whatever their nodes failed the
    phase-to-phase case (33.3 kvar against 100)."""
    text = FEEDER.replace("New Reactor.shunt bus1=p2 phases=3 kvar=400 kv=12.47 rp=40000",
                          f"New Reactor.shunt {spec}")
    net = read_opendss(_feeder(tmp_path, text))
    row = net.shunts.filter(net.shunts["id"] == "Reactor.shunt").row(0, named=True)
    assert row["kind"] == "reactor"
    assert row["p_mw"] * 1000 == pytest.approx(p_kw, rel=1e-6, abs=1e-9)
    assert -row["q_mvar"] * 1000 == pytest.approx(q_kvar, rel=1e-6)


def test_no_load_branches_are_shunts_at_winding_2(tmp_path: Path) -> None:
    """``%noloadloss`` and ``%imag`` of a unit are ``P = %noloadloss / 100 kVA`` and
    ``Q = %imag / 100 kVA`` at rated voltage (OpenDSS manual, Transformer), across winding 2,
    where OpenDSS's YPrim has them (the same unit's YPrim without them differs on winding 2's
    conductors only)."""
    net = read_opendss(_feeder(tmp_path))
    sh = {r["id"]: r for r in net.shunts.iter_rows(named=True)}
    assert sh["Transformer.svc"]["p_mw"] == pytest.approx(0.004 * 0.05)
    assert sh["Transformer.svc"]["q_mvar"] == pytest.approx(-0.015 * 0.05)
    assert (sh["Transformer.svc"]["bus"], sh["Transformer.svc"]["phases"]) == ("x5", "b")
    assert sh["Transformer.svc"]["vn_kv"] == pytest.approx(0.24)
    assert sh["Transformer.sub"]["p_mw"] == pytest.approx(0.0015 * 5)
    assert (sh["Transformer.sub"]["bus"], sh["Transformer.sub"]["phases"]) == ("lsb", "abc")
    assert net.summary()["shunts"] == 1  # the shunt reactor; no-load branches are not counted
