"""A single-phase generator, PV system or storage unit connected between two phases
(``bus1=x.2.3``; user test ut32_3ph B3/B4/M5): OpenDSS drives its current out of one node and
back into the other, so each node gets ``S V_k / (V_2 - V_3)``, half of its power with
reactive parts of opposite sign at unity power factor. It used to be read as a unit on phase b
alone (LinDist3Flow's voltage error 0.066 p.u.), then refused by name; now it is one DER
entry between its two phases (``conn`` delta), its ``s`` split with a delta load's
balanced-point ratios. The truth here is OpenDSS's own solve of the same script
(opendssdirect): its per-node powers of the unit, its voltages, and its voltages at the
model's dispatch. The same unit phase to ground gives the size of LinDist3Flow's own error."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import opendssdirect as dss
import polars as pl
import pytest

from feederopt.algorithms.threephase import lindist3flow_power_flow
from feederopt.errors import InputError, ProblemKind
from feederopt.formulations.lindist3flow import lindist3flow
from feederopt.io.opendss import read_opendss
from feederopt.io.opendss_write import model_script
from feederopt.network.threephase import validate_three_phase
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.problems.partition import PartitionSettings, build_partition_data
from feederopt.solvers.highs_backend import HighsModel
from feederopt.validation.opendss import generator_setpoint, solve_opendss

FEEDER = """Clear
New Circuit.pp basekv=12.47 pu={pu} phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length={length} units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW={kw} kvar={kvar}
{der}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
#: LinDist3Flow's error on this feeder is a few 1e-4 p.u. (the same unit phase to ground:
#: 1.2e-4; between two phases: 2.5e-4); the unit read on phase b alone is off by 0.022
V_TOL = 1e-3


def _feeder(tmp_path: Path, der: str, *, name: str = "pp.dss", pu: float = 1.0,
            length: float = 2, kw: float = 900, kvar: float = 300) -> Path:
    path = tmp_path / name
    path.write_text(FEEDER.format(der=der, pu=pu, length=length, kw=kw, kvar=kvar))
    return path


def _opendss(path: Path, element: str) -> tuple[np.ndarray, dict[str, float]]:
    """OpenDSS's own terminal powers of the element (kW, kvar per conductor) and its node
    voltages [p.u.] by ``bus.phase``."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    volts = _voltages()
    dss.Circuit.SetActiveElement(element)
    return np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2), volts


def _voltages() -> dict[str, float]:
    out = {}
    for bus in ("b1", "b2"):
        dss.Circuit.SetActiveBus(bus)
        mags = np.asarray(dss.Bus.puVmagAngle(), float).reshape(-1, 2)[:, 0]
        for node, v in zip(dss.Bus.Nodes(), mags, strict=True):
            out[f"{bus}.{'abc'[node - 1]}"] = float(v)
    return out


def _error(net: object, truth: dict[str, float]) -> float:
    flow = lindist3flow_power_flow(net)  # type: ignore[arg-type]
    return max(abs(flow.voltages_pu[k] - v) for k, v in truth.items())


@pytest.mark.parametrize(("der", "phases"), [
    ("New PVSystem.pvbc phases=1 bus1=b2.2.3 kV=12.47 kVA=600 Pmpp=550 irradiance=1 pf=1",
     "bc"),
    ("New Generator.gbc phases=1 bus1=b2.2.3 kV=12.47 kW=550 kvar=200", "bc"),
    ("New Generator.gab phases=1 bus1=b2.1.2 kV=12.47 kW=550 kvar=-200", "ab"),
    ("New Storage.sca phases=1 bus1=b2.3.1 kV=12.47 kWrated=400 kWhrated=1000 "
     "%stored=50 state=discharging %discharge=100 dispmode=default", "ca"),
])
def test_phase_to_phase_der_is_one_unit_between_its_phases(tmp_path: Path, der: str,
                                                           phases: str) -> None:
    path = _feeder(tmp_path, der)
    element = der.split()[1]
    s, truth = _opendss(path, element)
    # OpenDSS's truth: the unit's power is on both nodes (not on one phase)
    assert s[0, 0] < -100 and s[1, 0] < -100
    net = read_opendss(path)
    row = net.generators.to_dicts()[0]
    assert (row["phases"], row["conn"]) == (phases, "delta")
    unit = -s[:2].sum(axis=0)
    assert (row["p_mw"] * 1000, row["q_mvar"] * 1000) == pytest.approx(tuple(unit), abs=1e-3)
    # the model's split over the two nodes against OpenDSS's per-node powers
    pu = to_per_unit_3ph(net)
    names = pu.node_names()
    for k, ph in enumerate(phases):
        node = names.index(f"b2.{ph}")
        model = np.array([pu.gen_p[node], pu.gen_q[node]]) * 1000
        assert np.abs(model + s[k]).max() <= 0.02 * np.hypot(*unit), (ph, model, -s[k])
    # voltages: within LinDist3Flow's error, as small as the same unit phase to ground's
    err = _error(net, truth)
    wye = re.sub(r"bus1=b2\.(\d)\.\d", r"bus1=b2.\1", der).replace(
        "kV=12.47", f"kV={12.47 / np.sqrt(3):.4f}")
    ref_path = _feeder(tmp_path, wye, name="wye.dss")
    _, ref_truth = _opendss(ref_path, element)
    ref = _error(read_opendss(ref_path), ref_truth)
    assert err < V_TOL and err < 3 * ref + 1e-4, (err, ref)
    # the former reading, the unit on its first phase to ground, is off by far more
    wrong = net.replace_tables(generators=net.generators.with_columns(
        pl.lit(phases[0]).alias("phases"), pl.lit("wye").alias("conn")))
    assert _error(wrong, truth) > 10 * err


def test_model_script_writes_it_between_the_same_phases(tmp_path: Path) -> None:
    path = _feeder(tmp_path, "New Generator.gbc phases=1 bus1=b2.2.3 kV=12.47 kW=550 "
                             "kvar=200")
    s, truth = _opendss(path, "Generator.gbc")
    script = model_script(read_opendss(path))
    assert "bus1=b2.2.3 phases=1 kv=12.47" in script
    dss.Text.Command("clear")
    for line in script.splitlines():
        dss.Text.Command(line)
    assert _voltages() == pytest.approx(truth, abs=1e-6)
    dss.Circuit.SetActiveElement("Generator.Generator_gbc")
    written = np.asarray(dss.CktElement.Powers(), float).reshape(-1, 2)
    assert written[:2] == pytest.approx(s[:2], abs=0.05)


def test_setpoint_band_is_rated_at_the_line_line_voltage(tmp_path: Path) -> None:
    """OpenDSS rates a 1-phase unit between two phases at its ``kV`` across them: on a
    12.47 kV bus at kV=12.47 it is at 1 p.u. of its rating, so the check's band is OpenDSS's
    own [0.1, 10] p.u. (it used to take 7.2 kV as the bus's voltage against the unit's: r
    0.58)."""
    path = _feeder(tmp_path, "New Generator.gbc phases=1 bus1=b2.2.3 kV=12.47 kW=550")
    net = read_opendss(path)
    _opendss(path, "Generator.gbc")
    assert generator_setpoint(net, "Generator.gbc", 100.0, 0.0).endswith(
        "Vminpu=0.1 Vmaxpu=10.0")


@pytest.mark.parametrize("kvar_max", [0.0, 400.0])
@pytest.mark.parametrize("bus1", ["b2.2.3", "b2.1.3"])
def test_dispatched_unit_between_phases_meets_the_limit_in_opendss(
        tmp_path: Path, kvar_max: float, bus1: str) -> None:
    """The most PV output that keeps every voltage at or below 1.04 p.u. (LinDist3Flow with
    the unit's ``p`` and ``q`` as variables, ``|q| <= kvar_max``), checked by OpenDSS at the
    model's dispatch: its highest voltage is 1.04 p.u. within LinDist3Flow's error, on the
    node the model says binds."""
    der = (f"New PVSystem.pv phases=1 bus1={bus1} kV=12.47 kVA=3000 Pmpp=3000 irradiance=1 "
           "pf=1")
    path = _feeder(tmp_path, der, pu=1.02, length=3, kw=300, kvar=100)
    net = read_opendss(path)
    v_max = 1.04
    net = net.replace_tables(buses=net.buses.with_columns(pl.lit(v_max).alias("v_max_pu")))
    pu = to_per_unit_3ph(net)
    block = lindist3flow(pu, der_variables=True)
    assert len(pu.der_node) == 1
    block.groups["qg"].lb[:] = -kvar_max / 1000
    block.groups["qg"].ub[:] = kvar_max / 1000
    model = HighsModel(block, objective={"pg": -np.ones(1)})
    assert model.solve().has_solution
    vals = model.values()
    kw, kvar = float(vals["pg"][0]) * 1000, float(vals["qg"][0]) * 1000
    assert 300 < kw < 2900  # the voltage limit binds, not the panel
    v_model = dict(zip(pu.node_names(), np.sqrt(vals["w"]), strict=True))
    binding = max(v_model, key=lambda k: v_model[k])
    sol = solve_opendss(net, setpoints={"PVSystem.pv": (kw, kvar)}, with_controls=False)
    assert not sol.setpoint_misses
    top = max(sol.voltages_pu, key=lambda k: sol.voltages_pu[k])
    assert top == binding
    assert sol.voltages_pu[top] == pytest.approx(v_max, abs=V_TOL)


def test_open_delta_der_is_still_refused_by_name(tmp_path: Path) -> None:
    path = _feeder(tmp_path, "New Generator.g2 phases=2 bus1=b2.1.2.3 kV=12.47 kW=300")
    with pytest.raises(InputError) as err:
        read_opendss(path)
    probs = [p for p in err.value.problems if p.kind == ProblemKind.UNSUPPORTED_ELEMENT]
    assert len(probs) == 1 and probs[0].ids == ("g2",)
    assert "between phases" in probs[0].message and "phase to ground" in probs[0].hint


def test_delta_der_names_two_different_phases(tmp_path: Path) -> None:
    net = read_opendss(_feeder(tmp_path, "New Generator.gbc phases=1 bus1=b2.2.3 kV=12.47 "
                                         "kW=550"))
    bad = net.replace_tables(generators=net.generators.with_columns(pl.lit("b").alias(
        "phases")))
    probs = [p for p in validate_three_phase(bad) if p.component == "generators"]
    assert probs and probs[0].ids == ("Generator.gbc",) and probs[0].field == "phases"


def test_partition_refuses_a_grid_former_between_phases(tmp_path: Path) -> None:
    """A grid former between two phases would set no phase's voltage to ground: refused by
    name; as a grid follower the same unit is partitioned
    (tests/test_partition_follower_between_phases.py)."""
    net = read_opendss(_feeder(tmp_path, "New Generator.gbc phases=1 bus1=b2.2.3 kV=12.47 "
                                         "kW=550"))
    with pytest.raises(InputError) as err:
        build_partition_data(net, PartitionSettings(grid_forming=("Generator.gbc",)))
    probs = [p for p in err.value.problems if p.kind == ProblemKind.UNSUPPORTED_ELEMENT]
    assert len(probs) == 1 and probs[0].ids == ("Generator.gbc",)
    assert "between two phases" in probs[0].message and "phase to ground" in probs[0].hint
    data = build_partition_data(net, PartitionSettings())  # not grid-forming: one entry
    assert data.der_ids == ["Generator.gbc"] and len(data.ph_der) == 1


def test_phase_to_ground_der_is_read_on_its_phase(tmp_path: Path) -> None:
    path = _feeder(tmp_path, "New Generator.gb phases=1 bus1=b2.2 kV=7.2 kW=300 pf=1")
    s, _ = _opendss(path, "Generator.gb")
    net = read_opendss(path)
    row = net.generators.to_dicts()[0]
    assert (row["phases"], row["conn"]) == ("b", "wye")
    assert row["p_mw"] * 1000 == pytest.approx(-s[0, 0], rel=1e-6)
