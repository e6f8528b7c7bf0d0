"""What a DER can deliver in the file's operating state, and the notes on dark and lost blocks
(user test ut36_tph #2-#4).

* #2: a PVSystem at ``irradiance=0`` was dispatched at its ``Pmpp`` (90 kW) and one at 0.2 was
  given 90 kW of limits; a Storage at ``%stored=0 %reserve=20`` was dispatched at 295 kW. The
  truth is OpenDSS's own output of the unit, solved here directly with OpenDSSDirect on the
  same feeder (the PV at ``pf=1``; the storage set to discharge at 100 %).
* #3: a block holding a 500 kW grid-forming generator stayed dark with no word why; by hand,
  its phase a draws 100 kW (a third of the 300 kW 3-phase load) + 100 kW (the 1-phase load)
  = 200 kW, more than the 500 / 3 = 166.7 kW the unit gives per phase.
* #4: the lost substation block's note did not name the 450 kW grid-forming unit in it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RING = """Clear
New Circuit.ring basekv=12.47 pu=1.0 phases=3 bus1=sourcebus MVAsc3=200 MVAsc1=200
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=0 c0=0 units=km
New Linecode.lc1 nphases=1 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=0 c0=0 units=km
New Line.subsw phases=3 bus1=sourcebus bus2=a1 {sub}
New Line.a12 phases=3 bus1=a1 bus2=a2 linecode=lc length=0.5
New Line.b34 phases=3 bus1=b3 bus2=b4 linecode=lc length=0.5
New Line.c56 phases=3 bus1=c5 bus2=c6 linecode=lc length=0.5
New Line.c6x phases=1 bus1=c6.1 bus2=c7.1 linecode=lc1 length=0.3
New Line.sab phases=3 bus1=a2 bus2=b3 switch=yes
New Line.sbc phases=3 bus1=b4 bus2=c5 switch=yes
New Line.sca phases=3 bus1=c6 bus2=a1 switch=yes
New Load.la1 phases=3 bus1=a1 kv=12.47 kw=300 pf=0.95 model=1
New Load.la2 phases=1 bus1=a2.1 kv=7.2 kw=40 pf=0.95 model=1
New Load.lb1 phases=1 bus1=b4.2 kv=7.2 kw=250 pf=0.95 model=1
New Load.lc1 phases=3 bus1=c5 kv=12.47 kw=150 pf=0.95 model=1
New Load.lc2 phases=1 bus1=c7.1 kv=7.2 kw=100 pf=0.95 model=1
New Generator.ga phases=3 bus1=a2 kv=12.47 kw=450 kva=600 pf=1
New PVSystem.pvb phases=3 bus1=b3 kv=12.47 pmpp=90 kva=120 pf=1 {pv}
New Storage.sc phases=3 bus1=c6 kv=12.47 kwrated=450 kva=600 kwhrated=1000 {st}
Open Line.sca term=1
Set voltagebases=[12.47]
Calcv
Solve
"""
SETTINGS = {"dss": {"Generator.ga": {"inverter": "GRID_FORMING"},
                    "Storage.sc": {"inverter": "gfm"}, "PVSystem.pvb": {"inverter": "gfl"}}}
SUB_SWITCH = "switch=yes"
SUB_LINE = "linecode=lc length=0.1"  # ut36 lostgf: no switch, block a is the lost substation's
FULL = "%stored=100"


def _opendss_kw(text: str, element: str) -> float:
    """The element's active output [kW] in OpenDSS's own solution of ``text``, with every
    switch closed (the unit connected)."""
    import opendssdirect as dss

    dss.Text.Command("Clear")
    for line in text.replace("Open Line.sca term=1", "").splitlines():
        if line.strip():
            dss.Text.Command(line)
    dss.Circuit.SetActiveElement(element)
    return -sum(dss.CktElement.Powers()[0::2])


def _write(tmp_path: Path, text: str) -> tuple[Path, Path]:
    dss = tmp_path / "ring.dss"
    dss.write_text(text)
    st = tmp_path / "settings.json"
    st.write_text(json.dumps(SETTINGS))
    return dss, st


def _data(tmp_path: Path, text: str):
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import build_partition_data

    dss, st = _write(tmp_path, text)
    net, settings, _, _ = _network_and_settings(str(dss), st, None, None, None, [])
    return build_partition_data(net, settings)


@pytest.mark.parametrize(("pv", "expected_kw"), [
    ("irradiance=0", 0.0),      # ut36 night.dss: no sun
    ("irradiance=0.2", 0.0),    # ut36 irr.dss: 18 kW panel below the 24 kW cut-out (20 % kVA)
    ("irradiance=0.2 %cutin=10 %cutout=10", 18.0),  # 0.2 x 90 kW with the inverter on
    ("irradiance=1", 90.0),
    ("irradiance=1 %Pmpp=50", 45.0),
])
def test_pv_limit_is_opendss_output(tmp_path, pv, expected_kw):
    text = RING.format(sub=SUB_SWITCH, pv=pv, st=FULL)
    truth = _opendss_kw(text, "PVSystem.pvb")
    assert truth == pytest.approx(expected_kw, abs=1e-3)
    data = _data(tmp_path, text)
    i = data.der_ids.index("PVSystem.pvb")
    assert data.der_p_max_kw[i] == pytest.approx(truth, abs=1e-3)  # before: 90 kW at any sun
    assert 1000 * data.ph_p_max[data.ph_der == i].sum() == pytest.approx(truth, abs=1e-3)


@pytest.mark.parametrize(("st", "expected_kw"), [
    ("%stored=0 %reserve=20", 0.0),   # ut36 empty.dss
    ("%stored=20 %reserve=20", 0.0),  # at the reserve
    ("%stored=25 %reserve=20", 450.0),
])
def test_storage_limit_is_opendss_discharge(tmp_path, st, expected_kw):
    text = RING.format(sub=SUB_SWITCH, pv="irradiance=1", st=st)
    truth = _opendss_kw(text.replace(st, f"{st} state=discharging %discharge=100 "
                                         "%idlingkw=0"), "Storage.sc")
    assert truth == pytest.approx(expected_kw, abs=1e-3)
    data = _data(tmp_path, text)
    assert data.der_p_max_kw[data.der_ids.index("Storage.sc")] == pytest.approx(truth, abs=1e-3)


def test_storage_at_its_reserve_is_not_dispatched_and_a_note_says_why(tmp_path):
    from feederopt.api_partition import partition

    dss, st = _write(tmp_path, RING.format(sub=SUB_SWITCH, pv="irradiance=1",
                                           st="%stored=0 %reserve=20"))
    res = partition(str(dss), settings=st, voltage_feedback=False, time_limit_s=60)
    assert res.status == "optimal"
    out = {r["der"]: 0.0 for r in res.der_phases}
    for r in res.der_phases:
        out[r["der"]] += r["p_kw"]
    assert out.get("Storage.sc", 0.0) == pytest.approx(0.0, abs=1e-6)  # before: 295 kW
    note = [n for n in res.notes if "Storage.sc" in n and "reserve" in n]
    assert len(note) == 1 and "0 % stored" in note[0]
    # not mistaken for a rating left out of the file
    assert not any("zero capacity" in n for n in res.notes)


DARK = """Clear
New Circuit.dark basekv=12.47 pu=1.0 phases=3 bus1=sourcebus MVAsc3=200 MVAsc1=200
New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=0 c0=0 units=km
New Line.subsw phases=3 bus1=sourcebus bus2=a1 switch=yes
New Line.a12 phases=3 bus1=a1 bus2=a2 linecode=lc length=0.5
New Load.la1 phases=3 bus1=a1 kv=12.47 kw=300 pf=0.95 model=1
New Load.la2 phases=1 bus1=a2.1 kv=7.2 kw=100 pf=0.95 model=1
New Generator.ga phases=3 bus1=a2 kv=12.47 kw=500 kva=700 pf=1
Open Line.subsw term=1
Set voltagebases=[12.47]
Calcv
Solve
"""


def test_dark_block_with_a_grid_former_says_which_phase_is_short(tmp_path):
    from feederopt.api_partition import partition

    dss = tmp_path / "dark.dss"
    dss.write_text(DARK)
    st = tmp_path / "s.json"
    st.write_text(json.dumps({"dss": {"Generator.ga": {"inverter": "GRID_FORMING"}}}))
    res = partition(str(dss), settings=st, voltage_feedback=False, time_limit_s=60)
    assert res.status == "optimal" and res.served_load_kw == pytest.approx(0.0)
    note = [n for n in res.notes if "Generator.ga" in n and "de-energised" in n]
    assert len(note) == 1  # before: none
    # by hand: phase a draws 300 / 3 + 100 = 200 kW; the unit gives 500 / 3 kW per phase
    assert "phase a" in note[0]
    assert f"{300 / 3 + 100:,.1f} kW" in note[0] and f"{500 / 3:,.1f} kW" in note[0]


def test_lost_substation_note_names_its_grid_former(tmp_path):
    from feederopt.api_partition import partition

    dss, st = _write(tmp_path, RING.format(sub=SUB_LINE, pv="irradiance=1", st=FULL))
    res = partition(str(dss), settings=st, voltage_feedback=False, time_limit_s=60)
    note = [n for n in res.notes if "lost substation" in n]
    assert len(note) == 1
    # block a (a1, a2) holds the source: its loads 300 + 40 kW and Generator.ga's 450 kW
    assert "340.0 kW of load" in note[0]
    assert "Generator.ga (grid-forming, 450.0 kW)" in note[0]  # before: not named
