"""Transformer ratings in the three-phase model and in OpenDSS's check.

A 4.16 kV load (1500 kW, 500 kvar) fed from a 12.47 kV source through one of two
delta-wye transformers: ``t1`` (1000 kVA, normhkva 1000, low impedance, 0.2 km of line) behind
switch ``s1``, or ``t2`` (3000 kVA, higher impedance, 0.6 km) behind ``s2``; one switch is open.
The loss optimum is the ``t1`` path, which loads ``t1`` at about 160 % of its rating; the
``t2`` path keeps both within theirs.

The truth is OpenDSS's own: the script is compiled and solved with ``opendssdirect`` in the
test at the answer's switch states, and each transformer's phase currents are set against its
rated current ``normhkva / (sqrt(3) kV)`` on each winding (OpenDSS manual, Transformer:
``kV`` is line-to-line for a 3-phase unit, ``normhkva`` the normal rating; OpenDSS's own
``NormAmps`` of the element at winding 1). Fails on the old code (bef83ab): the rating was not
read or held, the answer opened ``s2`` and loaded ``t1`` at 160 %, and the check had no
``overloads``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest

from feederopt.api_threephase import solve_three_phase
from feederopt.io.opendss import read_opendss
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.results.threephase import OpenDssCheck
from feederopt.validation.opendss import solve_opendss

FEEDER = """\
Clear
New Circuit.twotr basekV=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200000 MVAsc1=210000
New Transformer.t1 phases=3 windings=2 buses=[src a] conns=[delta wye] kvs=[12.47 4.16]
~ kvas=[1000 1000] normhkva=1000 emerghkva=1500 %rs=[0.2 0.2] xhl=2
New Transformer.t2 phases=3 windings=2 buses=[src b] conns=[delta wye] kvs=[12.47 4.16]
~ kvas=[3000 3000] normhkva=3000 emerghkva=4500 %rs=[1.5 1.5] xhl=6
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.9 x0=1.8 units=km normamps=1000
New Line.ac bus1=a bus2=a2 linecode=lc length=0.2 units=km
New Line.bc bus1=b bus2=b2 linecode=lc length=0.6 units=km
New Line.s1 bus1=a2 bus2=c phases=3 switch=yes normamps=1000
New Line.s2 bus1=b2 bus2=c phases=3 switch=yes normamps=1000
Open Line.s2 term=1
New Load.l1 bus1=c phases=3 conn=wye kV=4.16 kW=1500 kvar=500 model=1
Set VoltageBases=[12.47 4.16]
CalcVoltageBases
Solve
"""
#: Rated current [A] of each transformer's windings (1: 12.47 kV, 2: 4.16 kV), by hand.
RATED_A = {name: {1: kva / (math.sqrt(3) * 12.47), 2: kva / (math.sqrt(3) * 4.16)}
           for name, kva in (("t1", 1000.0), ("t2", 3000.0))}
#: The check's solve and the test's differ by OpenDSS's solution tolerance (1e-4 p.u.) and the
#: way a switch is opened (the check disables it, the test opens a terminal).
TOL = 1e-3


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fixe") / "twotr.dss"
    path.write_text(FEEDER)
    return path


def opendss_loading(path: Path, open_switch: str) -> dict[str, float]:
    """OpenDSS's own (opendssdirect only) loading [fraction of the rating] of each transformer
    with ``open_switch`` open and the other switch closed: the largest phase current of either
    winding over that winding's rated current."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        dss.Text.Command("close Line.s2 term=1")
        dss.Text.Command(f"open Line.{open_switch} term=1")
        dss.Solution.Solve()
    finally:
        os.chdir(cwd)
    assert dss.Solution.Converged()
    out = {}
    for name in ("t1", "t2"):
        dss.Circuit.SetActiveElement(f"Transformer.{name}")
        mags = np.asarray(dss.CktElement.CurrentsMagAng(), float)[0::2]
        nc = int(dss.CktElement.NumConductors())
        out[name] = max(float(mags[(w - 1) * nc + c]) / RATED_A[name][w]
                        for w in (1, 2) for c in range(3))
    return out


def test_ratings_read_and_per_phase(feeder: Path) -> None:
    """normhkva/emerghkva are read; each bank phase is rated S/3 [MVA] (1 MVA per-phase base):
    ``V_b I = (4.16/sqrt 3 kV) (S / (sqrt 3 4.16 kV)) = S / 3``; the emergency option uses
    emerghkva."""
    net = read_opendss(feeder)
    tr = {r["id"]: r for r in net.transformers.iter_rows(named=True)}
    assert (tr["t1"]["s_norm_kva"], tr["t1"]["s_emerg_kva"]) == (1000.0, 1500.0)
    assert (tr["t2"]["s_norm_kva"], tr["t2"]["s_emerg_kva"]) == (3000.0, 4500.0)
    for rating, scale in (("normal", 1.0), ("emergency", 1.5)):
        banks = {b.id: b for b in to_per_unit_3ph(net, transformer_rating=rating).banks}
        for name, kva in (("t1", 1000.0), ("t2", 3000.0)):
            for arr in (banks[name].s_max_sec, banks[name].s_max_pri):
                assert arr is not None
                np.testing.assert_allclose(arr, kva * scale / 3 / 1000, rtol=1e-9)


def test_optimum_keeps_transformer_within_rating(feeder: Path) -> None:
    """With the ratings the answer takes the t2 path, and OpenDSS's own currents keep both
    transformers within their ratings; without them it takes the t1 path, which OpenDSS loads
    above t1's rating."""
    net = read_opendss(feeder)
    held = solve_three_phase(net, time_limit_s=20)
    assert held.has_solution and list(held.open_switches) == ["s1"]
    truth = opendss_loading(feeder, "s1")
    assert max(truth.values()) <= 1.0
    # the check reads the same currents: its largest loading is OpenDSS's
    ac = held.ac_check
    assert ac is not None and ac.within_thermal_limits and not held.check_broken
    assert ac.loading["max_loading_element"] == "Transformer.t2"
    assert ac.loading["max_loading_percent"] == pytest.approx(100 * truth["t2"], rel=TOL)

    free = solve_three_phase(net, time_limit_s=20, thermal_limits=False)
    assert free.has_solution and list(free.open_switches) == ["s2"]
    assert opendss_loading(feeder, "s2")["t1"] > 1.2


def test_check_reports_a_forced_overload(feeder: Path) -> None:
    """OpenDSS's check at the t1 topology lists t1's overload with OpenDSS's own loading and is
    not within the limits; the solve's record then counts as broken (the exit code of a
    broken check); --max-loading above it clears it, --no-thermal-limits reports no overload."""
    net = read_opendss(feeder)
    truth = opendss_loading(feeder, "s2")["t1"]
    sol = solve_opendss(net, open_switches={"s2"}, with_controls=False)
    assert sol.converged and sol.within_voltage_limits
    assert not sol.within_thermal_limits and not sol.within_limits
    assert [o[0] for o in sol.overloads] == ["Transformer.t1"]
    element, pct, amps, rating = sol.overloads[0]
    assert pct == pytest.approx(100 * truth, rel=TOL)
    assert rating == pytest.approx(RATED_A["t1"][1], rel=1e-9)
    assert amps == pytest.approx(pct / 100 * rating, rel=1e-9)
    doc = sol.to_dict()
    assert doc["within_limits"] is False and doc["loading"]["overloads"][0]["element"] == element

    held = solve_three_phase(net, time_limit_s=20, ac_check=False)
    broken = dataclasses.replace(held, ac_check=OpenDssCheck(
        {"engine": "OpenDSS", **doc, "warnings": sol.warnings}))
    assert broken.check_broken

    lifted = solve_opendss(net, open_switches={"s2"}, with_controls=False,
                           max_loading_percent=100 * truth + 5)
    assert lifted.within_thermal_limits
    off = solve_opendss(net, open_switches={"s2"}, with_controls=False, thermal_limits=False)
    assert off.within_thermal_limits
    assert off.max_loading_percent == pytest.approx(100 * truth, rel=TOL)
