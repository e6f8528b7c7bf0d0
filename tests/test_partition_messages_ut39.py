"""Two partition messages of user test ut39_tph.

#3: a settings file that marks a DISABLED PVSystem (``enabled=no`` in the .dss file)
grid-forming was accepted without a word, where a unit the feeder does not have is refused;
the unit takes no part, and the console and the JSON notes now say so. The truth is the
file's own ``enabled`` flag (opendssdirect).

#4: the console's "validity: all checks hold" stood beside an OpenDSS check of the plan at the
nominal load (the voltage feedback's) that had a grid-following PV phase over its kVA
rating, 56.71 kVA against the file's 170 kVA / 3 = 56.67, beyond the check's 0.001 kVA
tolerance: the row showed only the seed's model checks. It names the breach now. The truth is
the file's rating (opendssdirect) and the DER's power in OpenDSS's own solve of the check's
circuit (the follower's element, read back with opendssdirect).

#4, the exit code (partexit): with the breach named the run still exited 0, where the README's
table gives 4 for an answer that breaks a limit and the three-phase ``solve`` exits 4 when its
OpenDSS check breaks one. It exits 4 now, with an "AC verdict" row beside the status and a
line on stderr; a plan whose check holds (every DER phase within its band and its kVA rating,
every energised node within 0.9-1.1 p.u., all read back from OpenDSS's solve against the
file's ratings) exits 0."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()

FEEDER = """Clear
New Circuit.p1 basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Linecode.lc3 nphases=3 r1=0.25 x1=0.5 r0=0.6 x0=1.5 c1=0 c0=0 units=km normamps=400
New Linecode.lc2 nphases=2 rmatrix=[0.4 | 0.1 0.4] xmatrix=[0.8 | 0.3 0.8] units=km normamps=200
New Linecode.lc1 nphases=1 rmatrix=[0.5] xmatrix=[0.9] units=km normamps=150
New Line.subsw phases=3 bus1=src bus2=b1 switch=yes
New Line.s12 phases=3 bus1=b1 bus2=b2 linecode=lc3 length={l12} switch=yes
New Line.l23 phases=3 bus1=b2 bus2=b3 linecode=lc3 length={l23}
New Line.s34 phases=3 bus1=b3 bus2=b4 linecode=lc3 length={l34} switch=yes
New Line.l45 phases=3 bus1=b4 bus2=b5 linecode=lc3 length={l45}
New Line.s51 phases=3 bus1=b5 bus2=b1 linecode=lc3 length={l51} switch=yes
New Line.s25 phases=3 bus1=b2 bus2=b5 linecode=lc3 length={l25} switch=yes
New Line.lat2 phases=2 bus1=b3.2.3 bus2=c1.2.3 linecode=lc2 length={lat2}
New Line.lat1 phases=1 bus1=b4.1 bus2=d1.1 linecode=lc1 length={lat1}
New Load.l1 phases=3 bus1=b1 kv=12.47 kw=200 kvar=60 model=1
New Load.l2 phases=1 bus1=b2.2 kv=7.2 kw=100 kvar=30 model=1
New Load.l3 phases=3 bus1=b3 kv=12.47 kw=300 kvar=90 model=1
New Load.lc phases=1 bus1=c1.2.3 kv=12.47 kw=90 kvar=25 model=1
New Load.ld phases=1 bus1=d1.1 kv=7.2 kw=70 kvar=20 model=1
New Load.l4 phases=3 bus1=b4 kv=12.47 kw=150 kvar=40 model=1
New Load.l5 phases=3 bus1=b5 kv=12.47 kw=250 kvar=80 model=1
New Capacitor.c5 bus1=b5 phases=3 kvar=150 kv=12.47
New Generator.ga phases=3 bus1=b1 kv=12.47 kw=900 kva=1000
New Generator.gb phases=3 bus1=b3 kv=12.47 kw=450 kva=520
New PVSystem.pv4 phases=3 bus1=b4 kv=12.47 pmpp=150 kva=170 irradiance=1
New Generator.ge phases=3 bus1=b5 kv=12.47 kw=250 kva=300
New PVSystem.pvbc phases=1 bus1=c1.2.3 kv=12.47 pmpp=60 kva=70 irradiance=1 enabled=no
Open Line.subsw term=1
Open Line.s51 term=1
Open Line.s25 term=1
Set voltagebases=[12.47]
Calcv
Solve
"""
#: ut39_tph's p2.dss (short lines) and p4.dss (long ones)
SHORT = {"l12": 1, "l23": 0.8, "l34": 1, "l45": 0.7, "l51": 1.5, "l25": 1.2, "lat2": 1,
         "lat1": 0.8}
LONG = {"l12": 6, "l23": 5, "l34": 6, "l45": 4, "l51": 8, "l25": 7, "lat2": 6, "lat1": 5}
GFM = {"Generator.ga": {"inverter": "gfm"}, "Generator.gb": {"inverter": "gfm"},
       "Generator.ge": {"inverter": "gfm"}, "PVSystem.pv4": {"inverter": "gfl"}}


def _files(tmp_path: Path, lengths: dict[str, float], dss_section: dict) -> tuple[Path, Path]:
    feeder = tmp_path / "p.dss"
    feeder.write_text(FEEDER.format(**lengths))
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"dss": dss_section}))
    return feeder, settings


def test_a_disabled_der_marked_grid_forming_gets_a_note(tmp_path: Path) -> None:
    feeder, settings = _files(tmp_path, SHORT,
                              {**GFM, "PVSystem.pvbc": {"inverter": "gfm"}})
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{feeder}"')
    dss.PVsystems.Name("pvbc")
    assert not dss.CktElement.Enabled()  # the file's own flag
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                                 "--time-limit", "60", "--json", str(out)])
    assert result.exit_code == 0, result.output
    text = ("settings mark PVSystem.pvbc grid-forming, but it is disabled in the .dss file "
            "(enabled=no): it takes no part")
    assert text in " ".join(result.output.split())
    assert text in json.loads(out.read_text())["notes"]
    # an enabled unit marked grid-forming gets no such note
    assert not [n for n in json.loads(out.read_text())["notes"] if "Generator.ga" in n]


def _opendss_check_kva(feeder: Path, settings: Path) -> tuple[dict[str, float], str]:
    """Each grid-following DER phase's |S| [kVA] in OpenDSS's solve of the plan's check
    circuit at the nominal load (the voltage feedback's), read from OpenDSS's elements, and
    the partition's own validity verdict of that plan."""
    from feederopt import partition
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import build_partition_data
    from feederopt.validation.partition import AcIsland, validity_text

    res = partition(str(feeder), settings=str(settings), uncertainty=0.1,
                    uncertain_loads=["l3", "l4"], time_limit_s=120)
    assert res.voltage_feedback is not None and res.voltage_feedback["kept_round"] == 0
    net, st, _, _ = _network_and_settings(str(feeder), str(settings), 0.1, ["l3", "l4"],
                                          None, [])
    data = build_partition_data(net, st)
    island = AcIsland(net, data, res.plan)
    island.solve(data.nominal())
    out = {}
    for k, element in island.e_elem.items():
        dss.Circuit.SetActiveElement(f"Generator.{element}")
        p, q = -np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2)[0]
        out[f"{data.der_ids[island.e_der[k]]}.{'abc'[island.e_phase[k]]}"] = math.hypot(p, q)
    return out, validity_text(res.violations, res.voltage_feedback)


def test_the_long_feeder_keeps_its_followers_in_their_kva_circles(tmp_path: Path) -> None:
    """ut39_tph's p4.dss (long lines). ut39 #4 read a grid-following PV phase at 56.71 kVA
    against its 56.67 kVA rating in the check as a breach of the plan (exit 4). User test
    ut42_part #1 showed where it came from: the check shared the island's P and Q imbalance
    with the followers each within its own band, not within the kVA circle, so the losses the
    lossless model leaves out pushed followers past their ratings; the model's recourse keeps
    them in their circles (seed 001's (3')) and the grid-forming source takes the rest (the
    tester's own OpenDSS solve of such plans was within every limit). Read back from OpenDSS
    against the file's ratings: every DER phase within its kVA rating, so exit 0; the naming
    of a real breach is tested in test_partition_badge.py."""
    feeder, settings = _files(tmp_path, LONG, GFM)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                                 "--uncertainty", "0.1", "--uncertain-loads", "l3,l4",
                                 "--time-limit", "120", "--json", str(out)],
                           env={"COLUMNS": "400"})
    doc = json.loads(out.read_text())
    ders, volts, _ = _check_circuit_readback(feeder, settings, doc["plan"])
    pv = {k: v for k, v in ders.items() if k.startswith("PVSystem.pv4")}
    assert pv and max(math.hypot(p, q) / s for p, q, s in pv.values()) > 0.99  # at its rating
    for name, (p, q, s_max) in ders.items():
        assert math.hypot(p, q) <= s_max + 1e-3, (name, p, q, s_max)
    # the plan runs its voltage-dependent loads at the band's floor (ut45b_part #4); this
    # read-back and the voltage feedback's OpenDSS (0.9001 p.u.) differ by ~1e-4 p.u.
    assert volts and all(0.9 - 2e-4 <= v <= 1.1 for v in volts.values()), volts
    assert result.exit_code == 0, result.output
    assert "kVA over its" not in result.output


def _check_circuit_readback(feeder: Path, settings: Path, plan_json: dict
                            ) -> tuple[dict[str, tuple[float, float, float]], dict[str, float],
                                       list[str]]:
    """OpenDSS's solve of the plan's check circuit at the nominal load, read back element by
    element: per DER phase its (P [kW], Q [kvar], rating [kVA] = the file's kVA over its
    phases), the grid-forming sources' as OpenDSS delivers them, every energised node's
    voltage [p.u.] (the file's voltage bases), and the grid-forming DERs."""
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import PartitionPlan, build_partition_data
    from feederopt.validation.partition import AcIsland

    # the file's ratings, by the DER's OpenDSS name
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{feeder}"')
    rating = {}
    for name in dss.Generators.AllNames():
        dss.Generators.Name(name)
        rating[f"Generator.{name}"] = float(dss.Generators.kVARated()) / dss.Generators.Phases()
    for name in dss.PVsystems.AllNames():
        dss.PVsystems.Name(name)  # and its circuit element the active one
        rating[f"PVSystem.{name}"] = float(dss.PVsystems.kVARated()) / \
            dss.CktElement.NumPhases()
    net, st, _, _ = _network_and_settings(str(feeder), str(settings), 0.1, ["l3", "l4"],
                                          None, [])
    data = build_partition_data(net, st)
    plan = PartitionPlan(**{k: np.asarray(v, float if k.endswith("_set") else bool)
                            for k, v in plan_json.items()})
    island = AcIsland(net, data, plan)
    island.solve(data.nominal())
    out: dict[str, tuple[float, float, float]] = {}
    for k, element in island.e_elem.items():  # the grid-following phases
        dss.Circuit.SetActiveElement(f"Generator.{element}")
        p, q = -np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2)[0]
        der = data.der_ids[island.e_der[k]]
        out[f"{der}.{'abc'[island.e_phase[k]]}"] = (p, q, rating[der])
    gf = [data.der_ids[d] for d in np.flatnonzero(plan.grid_forming)]
    for der, elements in zip(gf, island.sources.values(), strict=True):
        for element, phases in elements:  # the grid formers: what OpenDSS asks of them
            dss.Circuit.SetActiveElement(element)
            pq = -np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2)[:len(phases)]
            for ph, (p, q) in zip(phases, pq, strict=True):
                out[f"{der}.{'abc'[ph]}"] = (p, q, rating[der])
    volts = {}
    for bus in island.limits:
        dss.Circuit.SetActiveBus(bus)
        mags = np.asarray(dss.Bus.puVmagAngle(), float)[0::2]
        for node, v in zip(dss.Bus.Nodes(), mags, strict=True):
            if f"{bus}.{'abc'[node - 1]}" not in island.dead_nodes:
                volts[f"{bus}.{'abc'[node - 1]}"] = float(v)
    return out, volts, gf


def test_a_plan_within_its_nominal_opendss_check_exits_0(tmp_path: Path) -> None:
    """The short-line feeder (ut39_tph's p2.dss): OpenDSS's check of the plan at the nominal
    load keeps every DER phase within its kVA rating and its band (the set-point +- the
    seed's 30 % ramp of the phase's rating, within 0 and its kW) and every energised node
    within the default 0.9-1.1 p.u.: exit code 0, no verdict row, "all checks hold"."""
    feeder, settings = _files(tmp_path, SHORT, GFM)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                                 "--uncertainty", "0.1", "--uncertain-loads", "l3,l4",
                                 "--time-limit", "120", "--json", str(out)],
                           env={"COLUMNS": "400"})
    doc = json.loads(out.read_text())
    ders, volts, gf = _check_circuit_readback(feeder, settings, doc["plan"])
    setp = {f"{r['der']}.{r['phase']}": r["p_kw"] for r in doc["der_phases"]}
    assert len(ders) == len(setp)  # every DER phase of the plan read back
    for name, (p, q, s_max) in ders.items():
        assert math.hypot(p, q) <= s_max + 1e-3, (name, p, q, s_max)
        if name.rsplit(".", 1)[0] not in gf:  # a follower: within its ramp band
            assert max(setp[name] - 0.3 * s_max, 0.0) - 1e-3 <= p \
                <= setp[name] + 0.3 * s_max + 1e-3, (name, p, setp[name])
    # the plan runs its voltage-dependent loads at the band's floor (ut45b_part #4); this
    # read-back and the voltage feedback's OpenDSS (0.9001 p.u.) differ by ~1e-4 p.u.
    assert volts and all(0.9 - 2e-4 <= v <= 1.1 for v in volts.values()), volts
    assert result.exit_code == 0, result.output
    console = " ".join(result.output.split())
    assert "validity │ all checks hold" in console
    assert "AC verdict" not in console and "exit code 4" not in console
