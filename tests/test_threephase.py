"""Three-phase feeders: the OpenDSS reader, the data model, LinDist3Flow and the OpenDSS check.

Every reference value comes from OpenDSS itself (run here through OpenDSSDirect.py, independently
of feederopt's reader), from the seed's equations, or from the data's own documentation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cases import load_any, load_three_phase
from feederopt.cases.threephase import THREE_PHASE_CASES, three_phase_case_path
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.network.threephase_perunit import lindist3flow_matrices, to_per_unit_3ph

runner = CliRunner()


def _opendss_reference(path: Path) -> dict[str, float]:
    """OpenDSS's own figures for a file, straight from the engine (no feederopt code)."""
    dss.Text.Command("clear")
    try:
        dss.Text.Command(f'redirect "{path}"')
    except Exception:  # the IEEE 13 files: zero-impedance switches, see the data README
        pytest.skip("OpenDSS cannot solve this file unmodified")
    nominal = 0.0
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        nominal += dss.Loads.kW()
    return {"nominal_load_kw": nominal, "losses_kw": dss.Circuit.Losses()[0] / 1000,
            "source_kw": -dss.Circuit.TotalPower()[0]}


# ---- data and reader --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(THREE_PHASE_CASES))
def test_builtin_feeders_read_with_opendss_total_load(name: str) -> None:
    """The nominal load of every feeder equals the sum of OpenDSS's ``Load.kW`` (the rows
    that the reader re-rated at OpenDSS's solution, outside their band there, put back:
    tests/test_opendss_band_edge.py checks those against OpenDSS's draw)."""
    net = load_three_phase(name).nameplate_band_loads()
    dss.Text.Command("clear")
    dss.Error.EarlyAbort(False)  # only the load definitions are needed here
    try:
        dss.Text.Command(f'redirect "{three_phase_case_path(name)}"')
    except Exception:
        pass
    finally:
        dss.Error.EarlyAbort(True)
    kw = 0.0
    for ld in dss.Loads.AllNames():
        dss.Loads.Name(ld)
        kw += dss.Loads.kW()
    assert net.summary()["total_load_mw"] * 1000 == pytest.approx(kw, rel=1e-9)
    assert net.validate() == []


def test_ieee37_matches_opendss_and_published_figures() -> None:
    """IEEE 37 (OpenDSS's copy): 30 delta spot loads of 2457 kW in total (the IEEE test feeder's
    spot loads); OpenDSS converges with 2588.35 kW from the source and 152.34 kW of losses
    (the data README states 152.36 kW, 2588.5 kW, checked with an other engine build)."""
    path = three_phase_case_path("ieee37")
    ref = _opendss_reference(path)
    net = load_three_phase("ieee37")
    s = net.nameplate_band_loads().summary()  # the nameplate (s734c ... below Vminpu re-rated)
    assert s["total_load_mw"] == pytest.approx(2.457, abs=1e-9)
    assert s["loads"] == 30 and s["delta_loads"] == 30 and s["regulators"] == 2
    assert ref["losses_kw"] == pytest.approx(152.36, abs=0.05)
    assert ref["source_kw"] == pytest.approx(2588.5, abs=0.5)
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["phases"] == 117
    # info's base case is solve's, solved once more after the file's own solve (user test
    # ut46_dss3 #5): OpenDSS converged to 1e-9 at the file's taps, 152.345 kW (the file's own
    # solve stops at 152.357 kW within its tolerance)
    dss.Text.Command("Set ControlMode=OFF")
    dss.Text.Command("Set Tolerance=1e-9")
    dss.Text.Command("Set MaxIterations=1000")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    assert data["base_losses_kw"] == pytest.approx(dss.Circuit.Losses()[0] / 1000, abs=0.01)
    assert data["opendss_source_kw"] == pytest.approx(-dss.Circuit.TotalPower()[0], abs=0.05)
    assert data["lindist3flow_max_voltage_error_pu"] < 0.035


def test_ieee13mod_switches_ders_and_settings() -> None:
    """PowerModelsONM's IEEE 13 microgrid case: 7 switch lines (801675 open), the generator
    and batteries its settings file marks grid-forming (GRID_FORMING/gfm/grid_forming)."""
    net = load_three_phase("ieee13mod")
    sw = net.lines.filter(net.lines["switchable"])
    assert set(sw["id"]) == {"cb_101", "671692", "671700", "701702", "703800", "800801",
                             "801675"}
    assert sw.filter(sw["normally_open"])["id"].to_list() == ["801675"]
    gf = set(net.generators.filter(net.generators["can_grid_form"])["id"])
    assert gf == {"Generator.675", "Storage.battery_mg1a", "Storage.battery_mg1b",
                  "Storage.battery_mg1c"}
    delta = net.loads.filter(net.loads["conn"] == "delta")
    assert set(delta["id"]) == {"671", "646", "692"}
    assert any("zero impedance" in w for w in net.meta["warnings"])
    assert load_any("ieee13mod").name == "ieee13mod"


# ---- malformed files --------------------------------------------------------------------

HEAD = "Clear\nNew Circuit.bad basekv=4.16 phases=3 bus1=src\n"
TAIL = "Set VoltageBases=[4.16]\nCalcVoltageBases\nSolve\n"


@pytest.mark.parametrize(
    ("body", "kind", "needle"),
    [
        ("New Line.l1 Phases=3 Bus1=src Bus2=b1 LineCode=nosuch Length=1 units=kft\n",
         ProblemKind.INVALID_VALUE, "nosuch"),
        ("Redirect missing_codes.dss\n", ProblemKind.UNREADABLE_FILE, "missing_codes.dss"),
        ("New Line.l1 Phases=3 Bus1=src Bus2=b1 r1=0.1 x1=0.2 Length=1 units=kft\n"
         "New Line.l2 Phases=1 Bus1=b1.0 Bus2=b2.0 r1=0.1 x1=0.2 Length=1 units=kft\n",
         ProblemKind.INVALID_VALUE, "b2"),
        ("New Fault.f1 Bus1=src Phases=3 r=10000\n",
         ProblemKind.UNSUPPORTED_ELEMENT, "f1"),
    ],
    ids=["unknown_line_code", "missing_redirect", "bus_without_phases", "unsupported"],
)
def test_malformed_files_give_typed_problems_and_exit_2(tmp_path: Path, body: str,
                                                        kind: ProblemKind, needle: str) -> None:
    path = tmp_path / "bad.dss"
    path.write_text(HEAD + body + "New Load.d1 Bus1=src Phases=3 kV=4.16 kW=10 kvar=5\n" + TAIL)
    with pytest.raises(InputError) as err:
        load_three_phase(path)
    assert any(p.kind == kind and any(needle in i or needle in p.message for i in p.ids)
               for p in err.value.problems), err.value
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["problems"][0]["kind"] in {k.value for k in ProblemKind}


# ---- LinDist3Flow ---------------------------------------------------------------------------


def test_mp_mq_are_the_seed_matrices() -> None:
    """``M^p``, ``M^q`` of the seed (section 1.5, after Arnold et al. 2016) for a random
    3x3 impedance: w_t = w_f + M^p p + M^q q."""
    rng = np.random.default_rng(0)
    r = rng.uniform(0.1, 1, (3, 3))
    x = rng.uniform(0.1, 1, (3, 3))
    mp, mq = lindist3flow_matrices(r + 1j * x, [0, 1, 2])
    s3 = math.sqrt(3)
    seed_p = np.array([
        [-2 * r[0, 0], r[0, 1] - s3 * x[0, 1], r[0, 2] + s3 * x[0, 2]],
        [r[1, 0] + s3 * x[1, 0], -2 * r[1, 1], r[1, 2] - s3 * x[1, 2]],
        [r[2, 0] - s3 * x[2, 0], r[2, 1] + s3 * x[2, 1], -2 * r[2, 2]],
    ])
    seed_q = np.array([
        [-2 * x[0, 0], x[0, 1] + s3 * r[0, 1], x[0, 2] - s3 * r[0, 2]],
        [x[1, 0] - s3 * r[1, 0], -2 * x[1, 1], x[1, 2] + s3 * r[1, 2]],
        [x[2, 0] + s3 * r[2, 0], x[2, 1] - s3 * r[2, 1], -2 * x[2, 2]],
    ])
    assert np.allclose(mp, seed_p) and np.allclose(mq, seed_q)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeder.dss"
    path.write_text(text)
    return path


def test_two_bus_voltage_falls_along_the_flow(tmp_path: Path) -> None:
    """A light unbalanced wye load on one line: LinDist3Flow's sign convention and its voltage
    agree with OpenDSS to 1e-3 p.u. (the neglected losses are tiny)."""
    from feederopt.api_threephase import lindist3flow_vs_opendss

    path = _write(tmp_path, HEAD.replace("bus1=src", "bus1=src MVAsc3=1e6 MVAsc1=1e6") +
                  "New Linecode.c nphases=3 units=kft rmatrix=(0.09|0.03 0.09|0.03 0.03 0.09) "
                  "xmatrix=(0.2|0.09 0.2|0.08 0.09 0.2)\n"
                  "New Line.l1 Phases=3 Bus1=src Bus2=b1 LineCode=c Length=2 units=kft\n"
                  "New Load.a Bus1=b1.1 Phases=1 kV=2.4018 kW=150 kvar=60 model=1\n"
                  "New Load.b Bus1=b1.2 Phases=1 kV=2.4018 kW=60 kvar=20 model=1\n" + TAIL)
    err, _, sol = lindist3flow_vs_opendss(load_three_phase(path))
    assert sol.converged
    assert sol.voltages_pu["b1.a"] < 1.0  # falls along the flow
    assert err < 1e-3


def test_wye_and_delta_banks_reduce_to_the_seed_relations(tmp_path: Path) -> None:
    """(16g)-(16h): a wye-wye bank with tap n gives w_sec = n^2 w_pri and s_pri = s_sec;
    (16i): a delta-wye bank gives 2 w_sec^a = n^2 (w_pri^a + w_pri^b) in per unit."""
    path = _write(tmp_path, HEAD +
                  "New Transformer.t1 Phases=3 Windings=2 XHL=0.001\n"
                  "~ wdg=1 bus=src conn=wye kv=4.16 kva=1000 %r=0.0001\n"
                  "~ wdg=2 bus=b1 conn=wye kv=4.16 kva=1000 %r=0.0001 tap=1.05\n"
                  "New Transformer.t2 Phases=3 Windings=2 XHL=0.001\n"
                  "~ wdg=1 bus=src conn=delta kv=4.16 kva=1000 %r=0.0001\n"
                  "~ wdg=2 bus=b2 conn=wye kv=4.16 kva=1000 %r=0.0001\n"
                  "New Load.d1 Bus1=b1 Phases=3 kV=4.16 kW=10 kvar=5\n"
                  "New Load.d2 Bus1=b2 Phases=3 kV=4.16 kW=10 kvar=5\n" + TAIL)
    pu = to_per_unit_3ph(load_three_phase(path))
    banks = {b.id: b for b in pu.banks}
    wye, delta = banks["t1"], banks["t2"]
    assert np.allclose(wye.g, 1.05**2 * np.eye(3)) and np.allclose(wye.g0, 0)
    assert np.allclose(wye.gamma, np.eye(3))
    n2 = 1.0  # the delta-wye bank's per-unit ratio: 4.16 kV LL to 4.16 kV LL
    assert np.allclose(2 * delta.g[0], [n2, n2, 0]) and np.allclose(delta.g0, 0)
    assert np.allclose(delta.gamma.sum(axis=0), 1)  # lossless: sum_k s_pri^k = s_sec


@pytest.mark.parametrize(("name", "bound"), [("ieee13", 0.01), ("iowa240", 0.01),
                                             ("ieee37", 0.035)])
def test_lindist3flow_voltages_agree_with_opendss(name: str, bound: float) -> None:
    """LinDist3Flow voltage magnitudes against OpenDSS's power flow, every energised node.

    LinDist3Flow neglects losses and linearises around a balanced 1 p.u. profile; the
    literature that introduced it (Gan & Low, PSCC 2014; Sankur, Dobbe, Arnold & Callaway,
    arXiv:1606.04492, 2016, on the IEEE 13-node feeder) reports voltage-magnitude errors of
    the order of 1 % against a full AC power flow. We assert 0.01 p.u. on IEEE 13 (measured
    0.0064) and Iowa 240 (0.0077). IEEE 37's 2.5 MVA substation transformer (X = 8 %) carries
    2.9 MVA: the reactive losses that LinDist3Flow neglects there (I^2 X ~ 0.11 p.u. on its
    rating) lower 799 by about 0.01 p.u., and the open-delta regulator's 10 % boost carries the
    error on, 0.032 p.u. in all (with a stiff substation transformer the same feeder agrees to
    0.005 p.u., see the next test). Its three-wire region is compared without OpenDSS's neutral
    shift (zero sequence), which the network leaves to stray admittances.
    """
    from feederopt.api_threephase import lindist3flow_vs_opendss

    err, node, sol = lindist3flow_vs_opendss(load_three_phase(name))
    assert sol.converged
    assert err < bound, (err, node)


def test_opendss_check_writes_setpoints_and_reports_per_phase(tmp_path: Path) -> None:
    """The AC check writes a generator set-point into the circuit: the source then supplies what
    the generator no longer does (50 kW, up to the change in losses); per-phase extremes and the
    unbalance are those of OpenDSS's node voltages."""
    from feederopt.validation.opendss import solve_opendss

    path = _write(tmp_path, HEAD +
                  "New Line.l1 Phases=3 Bus1=src Bus2=b1 r1=0.2 x1=0.4 r0=0.6 x0=1.2 "
                  "Length=1 units=km\n"
                  "New Load.a Bus1=b1.1 Phases=1 kV=2.4018 kW=300 kvar=100\n"
                  "New Generator.g Bus1=b1 Phases=3 kV=4.16 kW=100 kvar=0\n" + TAIL)
    net = load_three_phase(path)
    base = solve_opendss(net)
    less = solve_opendss(net, setpoints={"Generator.g": (50.0, 0.0)})
    assert base.converged and less.converged
    assert less.source_kw - base.source_kw == pytest.approx(50.0, abs=1.0)
    assert set(base.min_voltage_pu) == {"a", "b", "c"}
    assert base.min_voltage_pu["a"] == pytest.approx(base.voltages_pu["b1.a"])
    v = [base.voltages_pu[f"b1.{p}"] for p in "abc"]
    mean = sum(v) / 3
    assert base.unbalance_pct == pytest.approx(max(abs(x - mean) for x in v) / mean * 100)


def test_der_variables_reproduce_the_fixed_dispatch() -> None:
    """With DER outputs as variables fixed at their base-case values, the LinDist3Flow block
    gives the same voltages as with the outputs as data (IEEE 13mod: generator, PV, storage)."""
    from feederopt.formulations.lindist3flow import lindist3flow
    from feederopt.solvers.highs_backend import HighsModel

    pu = to_per_unit_3ph(load_three_phase("ieee13mod"))
    assert len(pu.der_node) == 18  # 6 three-phase DERs
    sols = []
    for der in (False, True):
        block = lindist3flow(pu, voltage_limits=False, der_variables=der)
        y = block.groups["y"]
        y.lb = y.ub = np.array([0.0 if e.normally_open else 1.0 for e in pu.edges])
        y.integer = False
        if der:
            block.groups["pg"].lb = block.groups["pg"].ub = pu.der_p.copy()
            block.groups["qg"].lb = block.groups["qg"].ub = pu.der_q.copy()
        model = HighsModel(block, objective={})
        assert model.solve().has_solution
        sols.append(model.values()["w"])
    assert np.allclose(sols[0], sols[1], atol=1e-7)


def test_ieee37_error_comes_from_the_substation_transformer(tmp_path: Path) -> None:
    """IEEE 37 with its substation transformer's impedance divided by 1000: LinDist3Flow agrees
    with OpenDSS to 0.01 p.u. (delta loads, open-delta regulator, line matrices), which places
    the 0.032 p.u. of the real feeder in the transformer's neglected losses."""
    from feederopt.api_threephase import lindist3flow_vs_opendss

    folder = three_phase_case_path("ieee37").parent
    for f in folder.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    text = (folder / "ieee37.dss").read_text()
    text = text.replace("Windings=2 Xhl=8", "Windings=2 Xhl=0.008")
    text = text.replace("kva=2500   %r=1", "kva=2500   %r=0.001")
    (tmp_path / "stiff.dss").write_text(text)
    err, node, sol = lindist3flow_vs_opendss(load_three_phase(tmp_path / "stiff.dss"))
    assert sol.converged
    assert err < 0.01, (err, node)


def test_thermal_limits_bind_as_a_polygon() -> None:
    """(16e)-(16f): switch 800801 carries 801's load (200 kW + 120 kvar, i.e. 78 kVA per phase)
    within its 50 A rating (120 kVA per phase at 2.4 kV); a 60 kVA rating makes the power flow
    infeasible, and the polygon never cuts a flow within the rating."""
    from feederopt.formulations.lindist3flow import lindist3flow
    from feederopt.solvers.highs_backend import HighsModel

    pu = to_per_unit_3ph(load_three_phase("ieee13mod"))
    sw = next(e for e in pu.edges if e.id == "800801")
    assert sw.s_max_pu == pytest.approx(4.16 / math.sqrt(3) * 50 / 1000)  # 0.12 MVA per phase
    feasible = []
    for limit in (None, sw.s_max_pu, 0.06):
        sw.s_max_pu = limit
        block = lindist3flow(pu, voltage_limits=False, thermal_limits=True)
        y = block.groups["y"]
        y.lb = y.ub = np.array([0.0 if e.normally_open else 1.0 for e in pu.edges])
        y.integer = False
        feasible.append(HighsModel(block, objective={}).solve().has_solution)
    assert feasible == [True, True, False]
