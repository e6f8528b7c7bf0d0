"""The partition with a grid-following single-phase PV between two phases (OpenDSS
``phases=1 bus1=b3.2.3``, read as a ``generators`` row with ``conn`` delta).

It used to be refused by name (``unsupported_element``), grid-following or not, so a feeder
with such a PV could not be partitioned at all. Now the unit is one DER entry whose ``s`` goes
into both phases with a delta element's balanced-point shares (``s e^{-j30} / sqrt 3`` into
phase b, ``s e^{j30} / sqrt 3`` into phase c), live when both phases are; its AC check
dispatches it as OpenDSS would, a 1-phase ``Generator`` on ``b3.2.3`` at the line-line kV. A
grid-forming unit between two phases stays refused (it would set no phase's voltage to
ground).

The truth here: our own OpenDSS solve (opendssdirect) of an island script written in this
file from the feeder's lines and loads, with the plan's switch states, a balanced source at
the plan's grid-former voltage and the PV at the plan's set-point (its per-node powers and
every node voltage), and hand arithmetic for the per-phase balance (the loads are constant
power: phase a 100 + 133.33 kW, phase b 100 + 150 + 133.33 kW, phase c 100 + 133.33 kW).
"""

from __future__ import annotations

import cmath
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.algorithms.partition import model_voltages
from feederopt.api_partition import partition
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss
from feederopt.problems.partition import (
    BALANCE_TOL_KW,
    PartitionSettings,
    build_partition_data,
    check_partition,
    settings_from_file,
)
from feederopt.validation.partition import AcIsland

LINES = """New Linecode.lc3 nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=0 c0=0 units=km normamps=400
New Line.l12 phases=3 bus1=b1 bus2=b2 linecode=lc3 length=2
New Line.s23 phases=3 bus1=b2 bus2=b3x switch=yes
New Line.l23 phases=3 bus1=b3x bus2=b3 linecode=lc3 length=3
New Line.l34 phases=3 bus1=b3 bus2=b4 linecode=lc3 length=2
New Load.l2 phases=3 bus1=b2 kv=12.47 kw=300 kvar=100 model=1
New Load.l3 phases=1 bus1=b3.2 kv=7.2 kw=150 kvar=50 model=1
New Load.l4 phases=3 bus1=b4 kv=12.47 kw=400 kvar=120 model=1
"""
#: Six buses: the substation (lost), block {b1, b2} with the three-phase grid former g1 and
#: block {b3x, b3, b4} behind the switch s23 with the PV between phases b and c.
FEEDER = ("Clear\nNew Circuit.pf basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 "
          "MVAsc1=250\nNew Line.subsw phases=3 bus1=src bus2=b1 switch=yes\n" + LINES
          + "New Generator.g1 phases=3 bus1=b1 kv=12.47 kw=2000 kva=2500\n"
          "New PVSystem.pv phases=1 bus1=b3.2.3 kV=12.47 kVA=300 Pmpp=250 irradiance=1 pf=1\n"
          "Set voltagebases=[12.47]\nCalcv\nSolve\n")
#: the PV runs first (cheaper), g1 forms the grid
SETTINGS = {"dss": {"Generator.g1": {"inverter": "gfm", "cost": [1, 0]},
                    "PVSystem.pv": {"inverter": "gfl", "cost": [0.1, 0]}}}
#: [kW] per phase, by hand (constant-power loads)
PHASE_LOAD_KW = {"a": 100 + 400 / 3, "b": 100 + 150 + 400 / 3, "c": 100 + 400 / 3}
#: the delta shares of a unit between phases b and c at the balanced point, by hand:
#: s V_b / V_bc and -s V_c / V_bc with V_bc = sqrt 3 e^{-j90} V_a
SHARE = {"b": cmath.exp(-1j * math.pi / 6) / math.sqrt(3),
         "c": cmath.exp(1j * math.pi / 6) / math.sqrt(3)}
#: [p.u.] the check writes the circuit that our script writes: the same power flow, to
#: OpenDSS's convergence (its voltages agree far within the limit check's resolution)
SAME_FLOW_TOL = 1e-5
#: [p.u.] LinDist3Flow (lossless, linearised) against OpenDSS on this feeder
LINDIST_TOL = 3e-3


def _write(tmp_path: Path, ramp: float) -> tuple[Path, Path]:
    feeder, sfile = tmp_path / "f.dss", tmp_path / "s.json"
    feeder.write_text(FEEDER)
    sfile.write_text(json.dumps({**SETTINGS, "partition": {"ramp": ramp}}))
    return feeder, sfile


def _own_island(v_pu: float, closed: set[str], pv_kw: float, pv_kvar: float
                ) -> tuple[dict[str, float], np.ndarray, float, float]:
    """Our OpenDSS island: a balanced source at b1 at ``v_pu`` (the grid former), the
    feeder's lines and loads, s23 open unless ``closed``, the PV a 1-phase constant-PQ
    generator on b3.2.3 at 12.47 kV. Node voltages [p.u.], the PV's terminal powers (kW,
    kvar per conductor, OpenDSS's sign: negative is injected), the source's kW and the
    losses [kW]."""
    dss.Text.Command("clear")
    dss.Text.Command(f"New Circuit.own basekv=12.47 pu={v_pu} phases=3 bus1=b1 "
                     "MVAsc3=1e6 MVAsc1=1e6")
    for line in LINES.splitlines():
        dss.Text.Command(line)
    if "s23" not in closed:
        dss.Text.Command("open Line.s23 term=1")
    dss.Text.Command(f"New Generator.pv phases=1 bus1=b3.2.3 kV=12.47 kW={pv_kw} "
                     f"kvar={pv_kvar} model=1 Vminpu=0.1 Vmaxpu=10")
    dss.Text.Command("Set voltagebases=[12.47]")
    dss.Text.Command("calcv")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    volts = {}
    for bus in ("b1", "b2", "b3x", "b3", "b4"):
        dss.Circuit.SetActiveBus(bus)
        mags = np.asarray(dss.Bus.puVmagAngle(), float)[0::2]
        for node, v in zip(dss.Bus.Nodes(), mags, strict=True):
            volts[f"{bus}.{'abc'[node - 1]}"] = float(v)
    dss.Circuit.SetActiveElement("Generator.pv")
    pv = np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2)
    dss.Circuit.SetActiveElement("Vsource.source")
    src_kw = -float(np.asarray(dss.CktElement.Powers(), float)[0:6:2].sum())
    return volts, pv, src_kw, float(dss.Circuit.Losses()[0]) / 1000.0


def _plan(tmp_path: Path, ramp: float):  # type: ignore[no-untyped-def]
    feeder, sfile = _write(tmp_path, ramp)
    res = partition(feeder, settings=sfile, voltage_feedback=False)
    net = read_opendss(feeder)
    data = build_partition_data(net, settings_from_file(sfile, net))
    return res, net, data


def test_a_grid_following_pv_between_two_phases_is_partitioned(tmp_path: Path) -> None:
    res, net, data = _plan(tmp_path, ramp=0.0)  # before: InputError, unsupported_element
    assert res.status == "optimal" and res.closed_switches == ["s23"]
    assert res.served_load_kw == pytest.approx(850.0)
    (mg,) = res.to_dict()["microgrids"]
    assert mg["grid_forming"] == ["Generator.g1"]
    rows = {(r["der"], r["phase"]): r for r in res.der_phases}
    pv = rows[("PVSystem.pv", "bc")]  # one entry between the two phases, its whole rating
    assert (pv["p_max_kw"], pv["s_max_kva"]) == pytest.approx((250.0, 300.0))
    assert pv["p_kw"] == pytest.approx(250.0, abs=1e-3)  # the cheaper DER runs at its panel
    plan = res.plan
    assert plan is not None and not check_partition(data, plan)
    # the island's balance, per phase, by hand: g1's phase plus the PV's share of it
    s_pv = complex(pv["p_kw"], pv["q_kvar"])
    for ph, load in PHASE_LOAD_KW.items():
        inj = rows[("Generator.g1", ph)]["p_kw"] + (SHARE[ph] * s_pv).real \
            if ph in SHARE else rows[("Generator.g1", ph)]["p_kw"]
        assert inj == pytest.approx(load, abs=BALANCE_TOL_KW), ph
    # our OpenDSS island at the plan's switches, grid-former voltage and PV set-point
    volts, pv_s, src_kw, losses = _own_island(mg["v_set_pu"], set(res.closed_switches),
                                              pv["p_kw"], pv["q_kvar"])
    # the PV's node powers: OpenDSS's per conductor against the model's split of its s
    # (OpenDSS meets a constant-PQ generator to its convergence tolerance, 1e-4)
    assert -pv_s[:2].sum(axis=0) == pytest.approx([pv["p_kw"], pv["q_kvar"]], rel=1e-4)
    for k, ph in enumerate("bc"):
        model = SHARE[ph] * s_pv
        assert abs(complex(*-pv_s[k]) - model) <= 0.02 * abs(s_pv), (ph, model, pv_s[k])
    # OpenDSS's own balance: the source and the PV carry the loads and the losses
    assert src_kw + pv["p_kw"] == pytest.approx(850.0 + losses, abs=1e-2)
    # the model's node voltages within LinDist3Flow's error
    model_v = model_voltages(data, plan)
    assert max(abs(model_v[n] - v) for n, v in volts.items()) < LINDIST_TOL
    # the partition's AC check: the same island, the PV at its set-point (ramp 0)
    sample = AcIsland(net, data, plan).solve(data.nominal())
    assert sample.converged and sample.within_voltage_limits and sample.within_ratings
    assert sample.der_phase_kw["PVSystem.pv.bc"] == pytest.approx(pv["p_kw"], abs=1e-3)
    assert sample.der_phase_kvar["PVSystem.pv.bc"] == pytest.approx(pv["q_kvar"], abs=1e-3)
    assert set(sample.voltages_pu) == set(volts)
    assert max(abs(sample.voltages_pu[n] - v) for n, v in volts.items()) < SAME_FLOW_TOL


def test_the_check_redispatches_the_pv_within_its_band(tmp_path: Path) -> None:
    """With a 30 % ramp the check shares each phase's imbalance with the PV (half of its
    band in each of its phases); the sample is judged on a power flow solved at the PV's
    dispatched output, which our island at that output reproduces."""
    res, net, data = _plan(tmp_path, ramp=0.3)
    plan = res.plan
    assert plan is not None and res.closed_switches == ["s23"]
    (mg,) = res.to_dict()["microgrids"]
    pv = next(r for r in res.der_phases if r["der"] == "PVSystem.pv")
    sample = AcIsland(net, data, plan).solve(data.nominal())
    assert sample.converged and sample.feasible
    kw, kvar = sample.der_phase_kw["PVSystem.pv.bc"], sample.der_phase_kvar["PVSystem.pv.bc"]
    ramp = 0.3 * pv["s_max_kva"]
    assert max(pv["p_kw"] - ramp, 0.0) - 1e-3 <= kw <= min(pv["p_kw"] + ramp,
                                                           pv["p_max_kw"]) + 1e-3
    assert abs(kvar - pv["q_kvar"]) <= ramp + 1e-3 and math.hypot(kw, kvar) <= 300 + 1e-3
    volts, _, _, _ = _own_island(mg["v_set_pu"], set(res.closed_switches), kw, kvar)
    assert max(abs(sample.voltages_pu[n] - v) for n, v in volts.items()) < SAME_FLOW_TOL


#: A single-phase grid former on phase b (storage on b3.2): phase c of the PV's bus is held
#: by nobody, so the PV between b and c cannot run (its current returns on phase c).
ONE_PHASE = """Clear
New Circuit.op basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=300 MVAsc1=250
New Linecode.lc3 nphases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 c1=0 c0=0 units=km normamps=400
New Line.subsw phases=3 bus1=src bus2=b1 switch=yes
New Line.l12 phases=3 bus1=b1 bus2=b2 linecode=lc3 length=2
New Load.lb phases=1 bus1=b2.2 kv=7.2 kw=60 kvar=20 model=1
New Storage.st phases=1 bus1=b2.2 kV=7.2 kWrated=200 kVA=200 kWhrated=800 %stored=80
New PVSystem.pv phases=1 bus1=b2.2.3 kV=12.47 kVA=100 Pmpp=80 irradiance=1 pf=1
Set voltagebases=[12.47]
Calcv
Solve
"""


def test_a_pv_on_a_dead_phase_is_not_dispatched(tmp_path: Path) -> None:
    """Phase b is formed by the storage, phase c by nobody: by hand the PV's current has no
    return, so it delivers nothing, and the storage serves the 60 kW load alone."""
    feeder, sfile = tmp_path / "o.dss", tmp_path / "o.json"
    feeder.write_text(ONE_PHASE)
    sfile.write_text(json.dumps({"dss": {
        "Storage.st": {"inverter": "gfm", "cost": [1, 0]},
        "PVSystem.pv": {"inverter": "gfl", "cost": [0.1, 0]}}}))
    res = partition(feeder, settings=sfile, voltage_feedback=False)
    assert res.served_load_kw == pytest.approx(60.0)
    rows = {(r["der"], r["phase"]): r for r in res.der_phases}
    assert rows[("PVSystem.pv", "bc")]["p_kw"] == pytest.approx(0.0, abs=1e-6)
    assert rows[("PVSystem.pv", "bc")]["q_kvar"] == pytest.approx(0.0, abs=1e-6)
    assert rows[("Storage.st", "b")]["p_kw"] == pytest.approx(60.0, abs=1e-3)
    # a plan giving the PV output there breaks the model's rules, by name
    net = read_opendss(feeder)
    data = build_partition_data(net, settings_from_file(sfile, net))
    plan = res.plan
    assert plan is not None and not check_partition(data, plan)
    j = data.der_ids.index("PVSystem.pv")
    p_set = plan.p_set.copy()
    p_set[data.ph_der == j] = 0.02
    bad = check_partition(data, replace(plan, p_set=p_set))
    assert any("PVSystem.pv" in m and "phase bc" in m for m in bad), bad


def test_a_grid_former_between_two_phases_is_refused_by_name(tmp_path: Path) -> None:
    feeder, sfile = _write(tmp_path, ramp=0.3)
    net = read_opendss(feeder)
    settings = PartitionSettings(grid_forming=("Generator.g1", "PVSystem.pv"))
    with pytest.raises(InputError) as err:
        build_partition_data(net, settings)
    (prob,) = [p for p in err.value.problems if p.kind == ProblemKind.UNSUPPORTED_ELEMENT]
    assert prob.ids == ("PVSystem.pv",) and prob.component == "generators"
    assert "grid-forming" in prob.message and "no phase's voltage to ground" in prob.message
    assert "grid_following" in prob.hint
    # on the command line: exit 2 and the reason, no traceback
    sfile.write_text(json.dumps({"dss": {"Generator.g1": {"inverter": "gfm"},
                                         "PVSystem.pv": {"inverter": "gfm"}}}))
    out = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["partition", str(feeder), "--settings", str(sfile)])
    assert out.exit_code == 2, out.output
    assert "PVSystem.pv" in out.output and "Traceback" not in out.output


def test_the_reactive_share_band_is_the_kva_circle_at_the_new_p() -> None:
    """User test ut42_part #1: a follower at 15.40 kW + j6.38 kvar sits on its 16.667 kVA
    circle; a P share of 15.60 kW leaves it sqrt(16.667^2 - 15.60^2) = 5.8667 kvar, by hand. The
    grid-forming sources (the first entries) keep their bands."""
    from feederopt.validation.partition import _circle_q_band

    s = 50.0 / 3
    lo, hi = _circle_q_band(np.array([-100.0, -10.0, 2.0]), np.array([100.0, 10.0, 12.0]),
                            np.array([10.0, s, s]), np.array([20.0, 15.60, s]), 1)
    cap = math.sqrt(s ** 2 - 15.60 ** 2)
    assert (lo[0], hi[0]) == (-100.0, 100.0)  # the source: not narrowed
    assert lo[1] == pytest.approx(-cap) and hi[1] == pytest.approx(cap)
    assert cap == pytest.approx(5.8667, abs=1e-4)
    assert lo[2] == hi[2] == 0.0  # at its rating in P: no room for Q, the band pulled onto 0
