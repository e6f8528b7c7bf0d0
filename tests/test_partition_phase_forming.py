"""A microgrid's live phases are those of its grid-forming DERs (user test ut36_tph #1).

The feeder (tests/data/ut36_onephase/onephase.dss, the tester's): the substation is lost
behind ``subsw``; block x (buses x1, x2) holds the single-phase grid-forming storage ``s1`` on
x1.1 (phase a, 200 kW / 250 kVA) and the 60 kW load ``lx`` on x2.1; switch ``sxy`` joins block
y (y1, y2), which holds the 30 kW load ``ly`` on y2.1, the 30 kW three-phase load ``ly3`` and
the three-phase grid-following generator ``g3``.

Before: the plan closed ``sxy``, served all 120 kW and dispatched ``g3`` on phases b and c,
where no source holds the voltage; the AC check passed only because it wrote the grid former
as a three-phase source. The tester's OpenDSS run with the real single-phase source did not
converge.

The truth, by hand: only phase a can be live (the one grid former has phase a only); block
y's three-phase load needs phases b and c, so block y cannot be energised (a block's loads are
served together), and the best plan serves ``lx`` alone: 60 kW (``s1``'s 250 kVA covers it).
Without ``ly3`` both blocks can be energised on phase a: 90 kW, ``g3`` on phase a only.
The plans are run in OpenDSS here, written by hand: the grid former a single-phase source on
x1.1, ``g3`` per phase as single-phase generators at the plan's powers, the loads of
de-energised blocks off.
"""

from __future__ import annotations

import math
from pathlib import Path

import opendssdirect as dss
import pytest

DATA = Path(__file__).parent / "data" / "ut36_onephase"


def _feeder(tmp_path: Path, without_ly3: bool) -> Path:
    text = (DATA / "onephase.dss").read_text()
    if without_ly3:
        text = "\n".join(x for x in text.splitlines() if "Load.ly3" not in x) + "\n"
    path = tmp_path / "onephase.dss"
    path.write_text(text)
    return path


def _partition(tmp_path: Path, without_ly3: bool = False):
    from feederopt.api_partition import partition

    return partition(_feeder(tmp_path, without_ly3), settings=DATA / "s_op.json")


def _opendss_of_plan(path: Path, res) -> tuple[bool, float, dict[str, float]]:
    """OpenDSS's solution of the plan ``res`` with the grid former as what it is: converged,
    the loads' total kW, the node voltages [p.u. of 7.2 kV]."""
    doc = res.to_dict()
    closed = set(doc["closed_switches"])
    off = [b for b in doc["blocks"] if not b["energised"]]
    off_buses = {bus for b in off for bus in b["buses"]}
    dss.Text.Command(f"redirect {path}")
    dss.Text.Command("Vsource.source.enabled=no")
    dss.Text.Command("open Line.subsw term=1")
    dss.Text.Command(f"{'close' if 'sxy' in closed else 'open'} Line.sxy term=1")
    dss.Text.Command("Storage.s1.enabled=no")
    dss.Text.Command("Generator.g3.enabled=no")
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        if dss.CktElement.BusNames()[0].split(".")[0].lower() in off_buses:
            dss.Text.Command(f"Load.{name}.enabled=no")
    dss.Text.Command("New Vsource.gf1 bus1=x1.1 phases=1 basekv=7.1996 pu=1.0 "
                     "MVAsc1=1e6 MVAsc3=1e6")
    for r in doc["der_phases"]:
        if r["der"] == "Generator.g3" and abs(r["p_kw"]) + abs(r["q_kvar"]) > 1e-6:
            n = "abc".index(r["phase"]) + 1
            dss.Text.Command(f"New Generator.g3{r['phase']} phases=1 bus1=y1.{n} kv=7.1996 "
                             f"kw={r['p_kw']} kvar={r['q_kvar']} model=1 vminpu=0.1 "
                             "vmaxpu=10")
    dss.Text.Command("set maxiterations=200")
    dss.Solution.Solve()
    if not dss.Solution.Converged():
        return False, math.nan, {}
    total = 0.0
    for name in dss.Loads.AllNames():
        dss.Circuit.SetActiveElement(f"Load.{name}")
        if dss.CktElement.Enabled():
            n_cond = dss.CktElement.NumConductors()
            total += sum(dss.CktElement.Powers()[0:2 * n_cond:2])
    volts = {n: v for n, v in zip(dss.Circuit.AllNodeNames(), dss.Circuit.AllBusMagPu(),
                                  strict=True)}
    return True, total, volts


def test_one_phase_grid_former_cannot_energise_a_three_phase_load(tmp_path: Path) -> None:
    res = _partition(tmp_path)
    assert res.status == "optimal"
    assert res.served_load_kw == pytest.approx(60.0)  # by hand: lx alone
    assert res.closed_switches == []
    assert not res.violations
    ok, load_kw, volts = _opendss_of_plan(_feeder(tmp_path, False), res)
    assert ok, "OpenDSS does not converge on the plan with the single-phase source"
    assert load_kw == pytest.approx(60.0, abs=0.05)
    assert 0.95 <= volts["x2.1"] <= 1.05


def test_dead_phases_of_a_live_block_carry_nothing(tmp_path: Path) -> None:
    from feederopt.validation.partition import AcIsland

    res = _partition(tmp_path, without_ly3=True)
    assert res.status == "optimal"
    assert res.served_load_kw == pytest.approx(90.0)  # by hand: lx and ly on phase a
    assert res.closed_switches == ["sxy"]
    assert not res.violations
    g3 = {r["phase"]: r["p_kw"] for r in res.to_dict()["der_phases"]
          if r["der"] == "Generator.g3"}
    assert abs(g3["b"]) < 1e-6 and abs(g3["c"]) < 1e-6  # no output on a dead phase
    ok, load_kw, _ = _opendss_of_plan(_feeder(tmp_path, True), res)
    assert ok and load_kw == pytest.approx(90.0, abs=0.05)
    # feederopt's own AC check holds phase a only, as the single-phase DER does: phases b
    # and c of x1 stay dead there, as in the hand-written run
    from feederopt.io.opendss import read_opendss
    from feederopt.problems.partition import build_partition_data, read_settings

    net = read_opendss(_feeder(tmp_path, True))
    data = build_partition_data(net, read_settings(DATA / "s_op.json", net)[0])
    island = AcIsland(net, data, res.plan)
    sample = island.solve(data.nominal())
    assert sample.converged
    dss.Circuit.SetActiveBus("x1")
    mags = dss.Bus.puVmagAngle()[0::2]
    assert mags[0] == pytest.approx(1.0, abs=0.01) and max(mags[1:]) < 0.1
    assert sample.within_voltage_limits
