"""``feederopt partition`` after the user test of seed 001 (docs: README's partition section):
the plan's voltages and the load model, bounds and gaps at the time limit, the extensive form's
deadline, the settings' ranges and the output label.

The independent truths: a brute force over every block state and switch state of a 4-block
feeder written here (constant-power loads, lossless: a component is feasible when its DERs'
capacity covers its load, and its generation cost is the merit order), and OpenDSS's own
power flow of the plan's island with the grid-forming DER a voltage source at the reported
set-point.

The feeder: a lost substation ``src`` behind ``swsub`` (fixed open), four blocks ``b1``-``b4``
in a path (switches ``s12``, ``s23``, ``s34``), each with one balanced load behind a 0.1 mi
line and one DER at its head; G1 and G3 grid-forming."""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

LOADS = {"l1": ("n1", 200.0), "l2": ("n2", 150.0), "l3": ("n3", 280.0), "l4": ("n4", 160.0)}
DERS = {"g1": ("b1", 300.0, 12.0, True), "g2": ("b2", 100.0, 10.0, False),
        "g3": ("b3", 250.0, 11.0, True), "g4": ("b4", 50.0, 10.0, False)}
BLOCK = {"b1": 0, "n1": 0, "b2": 1, "n2": 1, "b3": 2, "n3": 2, "b4": 3, "n4": 3}
SWITCHES = {"s12": (0, 1), "s23": (1, 2), "s34": (2, 3)}


def feeder(model: int) -> str:
    """The feeder with every load of OpenDSS load model ``model`` (1: constant power, 2:
    constant impedance); ``vminpu=0.7`` so that OpenDSS keeps each load's model down to
    0.7 p.u. (its default switches any load to constant impedance below 0.95 p.u.)."""
    lines = ["Clear",
             "New Circuit.tiny basekv=4.16 pu=1.0 bus1=src phases=3",
             "New Linecode.lc nphases=3 r1=0.3 x1=0.6 r0=0.9 x0=1.8 units=mi",
             "New Line.feed Phases=3 Bus1=src Bus2=b0 linecode=lc length=0.05 units=mi",
             "New Line.swsub Phases=3 Bus1=b0 Bus2=b1 Switch=y r1=0.001 x1=0.001 r0=0.001 "
             "x0=0.001 c1=0 c0=0"]
    for k in range(1, 5):
        lines.append(f"New Line.l{k} Phases=3 Bus1=b{k} Bus2=n{k} linecode=lc length=0.1 "
                     "units=mi")
    for sw, (a, b) in SWITCHES.items():
        lines.append(f"New Line.{sw} Phases=3 Bus1=b{a + 1} Bus2=b{b + 1} Switch=y r1=0.001 "
                     "x1=0.001 r0=0.001 x0=0.001 c1=0 c0=0")
    for name, (bus, kw) in LOADS.items():
        lines.append(f"New Load.{name} Bus1={bus} Phases=3 Conn=wye Model={model} kV=4.16 "
                     f"kW={kw} pf=0.95 vminpu=0.7")
    for name, (bus, kw, _, _) in DERS.items():
        lines.append(f"New Generator.{name} Bus1={bus} Phases=3 kV=4.16 kW={kw} "
                     f"kVA={1.2 * kw} PF=1 Model=1")
    lines += ["Set VoltageBases=[4.16]", "Calcvoltagebases", "Solve"]
    return "\n".join(lines) + "\n"


SETTINGS = {"dss": {f"Generator.{g}": {"inverter": "gfm" if gf else "gfl", "cost": [c, 0]}
                    for g, (_, _, c, gf) in DERS.items()},
            "switch": {"swsub": {"state": "OPEN", "dispatchable": "NO"}}}


def brute_force() -> tuple[float, float, set[int]]:
    """The deterministic optimum with constant-power loads over every block state and switch
    state, k_der = 1: every energised component holds a grid-forming DER, its DERs' capacity
    covers its load (lossless), its generation is the merit order; a shed block costs
    1000 (10 + 0.01 x 1 load). Returns (objective, generation cost, energised blocks)."""
    load = [0.0] * 4
    for bus, kw in LOADS.values():
        load[BLOCK[bus]] += kw
    best = (math.inf, math.nan, set())
    for on in itertools.product((0, 1), repeat=4):
        live = [s for s, (a, b) in SWITCHES.items() if on[a] and on[b]]
        for closed in itertools.product((0, 1), repeat=len(live)):
            comp = list(range(4))  # union-find over the closed switches
            for s, c in zip(live, closed, strict=True):
                if c:
                    a, b = SWITCHES[s]
                    ra, rb = comp[a], comp[b]
                    comp = [ra if x == rb else x for x in comp]
            cost, ok = 0.0, True
            for root in {comp[k] for k in range(4) if on[k]}:
                members = [k for k in range(4) if on[k] and comp[k] == root]
                ders = sorted((c, kw, gf) for bus, kw, c, gf in DERS.values()
                              if BLOCK[bus] in members)
                need = sum(load[k] for k in members)
                if not any(gf for _, _, gf in ders) or sum(kw for _, kw, _ in ders) < need:
                    ok = False
                    break
                for c, kw, _ in ders:  # merit order
                    take = min(kw, need)
                    cost += c * take
                    need -= take
            if not ok:
                continue
            shed = 1000.0 * 10.01 * (4 - sum(on))
            if cost + shed < best[0] - 1e-9:
                best = (cost + shed, cost, {k for k in range(4) if on[k]})
    return best


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("fixd")
    (d / "settings.json").write_text(json.dumps(SETTINGS))
    for model in (1, 2):
        (d / f"tiny{model}.dss").write_text(feeder(model))
    return d


def _run(folder, model: int, load_model: str | None):
    from feederopt.api_partition import partition

    return partition(str(folder / f"tiny{model}.dss"), settings=str(folder / "settings.json"),
                     load_model=load_model, time_limit_s=60)


def _energised_blocks(res) -> set[int]:
    """The energised blocks of ``res`` as this file numbers them (by their buses)."""
    return {BLOCK[b] for blk in res.blocks if blk.energised for b in blk.buses if b in BLOCK}


def test_constant_power_option_is_the_brute_force_optimum(folder):
    """With ``load_model="constant_power"`` (the seed's constant s_d) on a feeder of constant-
    impedance loads, the plan is the brute force's: same blocks, objective and generation
    cost; the generation (sum of set-points) equals the served loads' nominal kW (lossless
    model), and the served load at the plan's voltages is the nominal one. The
    voltage-dependent reading lowers the voltage and so serves a nominal load the DERs could
    not carry at 1 p.u. (every block: 790 kW nominal on 700 kW of DERs)."""
    obj, gen, blocks = brute_force()
    res = _run(folder, 2, "constant_power")
    assert res.status == "optimal" and res.load_model == "constant_power"
    assert _energised_blocks(res) == blocks
    assert res.objective == pytest.approx(obj, rel=1e-7)
    assert res.generation_cost == pytest.approx(gen, rel=1e-7)
    nominal = sum(kw for bus, kw in LOADS.values() if BLOCK[bus] in blocks)
    set_points = sum(v for blk in res.blocks for v in blk.der_set_points_kw.values())
    assert set_points == pytest.approx(nominal, rel=1e-7)
    assert res.served_load_at_plan_kw == pytest.approx(nominal, rel=1e-7)
    assert res.lower_bound == pytest.approx(obj, rel=1e-6) and res.gap <= 1e-6
    vd = _run(folder, 2, None)  # the loads' own model: constant impedance, p = p0 V^2
    assert vd.load_model == "voltage_dependent"
    assert vd.served_load_at_plan_kw < vd.served_load_kw - 1.0
    assert vd.served_load_kw > sum(kw for _, kw, _, _ in DERS.values()) > nominal


def _opendss_island(folder, model: int, res, data) -> tuple[float, float, float]:
    """OpenDSS's power flow of ``res``'s plan on the feeder: switches as planned, each
    grid-forming DER a voltage source at its reported set-point (``microgrids[].v_set_pu``),
    the others at their set-points (kW and kvar). Returns the loads' total kW and the lowest
    and highest energised node voltage [p.u.]."""
    plan = res.plan
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{folder / f"tiny{model}.dss"}"')
    closed = set(res.closed_switches)
    for sw in ("swsub", *SWITCHES):
        dss.Text.Command(f"{'close' if sw in closed else 'open'} Line.{sw} 1")
    dss.Text.Command("edit Vsource.source enabled=n")
    v_set = {g: mg.v_set_pu for mg in res.microgrids for g in mg.grid_forming}
    for d, der in enumerate(data.der_ids):
        name = der.split(".")[1].lower()
        kw = float(plan.p_set[data.ph_der == d].sum() * 1000)
        kvar = float(plan.q_set[data.ph_der == d].sum() * 1000)
        if der in v_set:
            dss.Text.Command(f"edit Generator.{name} enabled=n")
            dss.Text.Command(f"new Vsource.gf_{name} bus1={DERS[name][0]} phases=3 basekv=4.16 "
                             f"pu={v_set[der]} MVAsc3=1e6 MVAsc1=1e6")
        elif kw <= 1e-6 and abs(kvar) <= 1e-6:
            dss.Text.Command(f"edit Generator.{name} enabled=n")
        else:
            dss.Text.Command(f"edit Generator.{name} kW={kw} kvar={kvar}")
    dss.Text.Command("Set ControlMode=OFF")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    load_kw = 0.0
    for name in dss.Loads.AllNames():
        dss.Circuit.SetActiveElement(f"Load.{name}")
        load_kw += float(np.sum(dss.CktElement.Powers()[0::2]))
    live = {bus for bus, k in BLOCK.items() if k in _energised_blocks(res)}
    mags = [m for n, m in zip(dss.Circuit.AllNodeNames(), dss.Circuit.AllBusMagPu(),
                              strict=True) if n.split(".")[0] in live]
    return load_kw, min(mags), max(mags)


def test_served_load_and_set_point_are_opendss_at_the_reported_voltage(folder):
    """Constant-impedance loads, the loads' own model: the plan lowers the voltage (its
    grid-forming set-point below 0.99 p.u.) and reports the served load at its voltages. An
    OpenDSS power flow of the island with the grid-forming DER a source at the reported
    set-point draws that load within 1 % (LinDist3Flow leaves out the losses and their
    voltage drop), its node voltages lie within 0.01 p.u. of the reported range, and
    the AC check's sample is that same power flow (its extreme voltages to 1e-6 p.u.)."""
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import build_partition_data
    from feederopt.validation.partition import ac_sample_share

    res = _run(folder, 2, None)
    net, st, _, _ = _network_and_settings(str(folder / "tiny2.dss"),
                                          str(folder / "settings.json"), None, None, None, [])
    data = build_partition_data(net, st)
    assert len(res.microgrids) >= 1
    assert all(mg.v_set_pu < 0.99 for mg in res.microgrids)  # the plan lowers the voltage
    load_kw, vlo, vhi = _opendss_island(folder, 2, res, data)
    assert load_kw == pytest.approx(res.served_load_at_plan_kw, rel=0.01)
    assert load_kw < res.served_load_kw - 1.0
    assert vlo == pytest.approx(min(mg.v_min_pu for mg in res.microgrids), abs=0.01)
    assert vhi == pytest.approx(max(mg.v_max_pu for mg in res.microgrids), abs=0.01)
    got = ac_sample_share(net, data, res.plan, uncertainty=0.0, samples=1)
    assert got.converged == 1
    assert got.worst_low_voltage_pu == pytest.approx(vlo, abs=1e-4)
    assert got.worst_high_voltage_pu == pytest.approx(vhi, abs=1e-4)


# ---- time limits ----------------------------------------------------------------------------
def test_a_time_limited_run_reports_its_bound_and_gap(tmp_path):
    """IEEE 37 mod at 25 % with a 3 s limit: the JSON and the console carry the lower bound
    and the gap (objective - bound) / objective, the bound no higher than the objective."""
    out = tmp_path / "p.json"
    res = CliRunner().invoke(app, ["partition", "ieee37mod", "--uncertainty", "0.25",
                                   "--time-limit", "3", "--json", str(out)])
    doc = json.loads(out.read_text())
    # the incumbent at the deadline varies with the machine's speed: one whose own OpenDSS
    # check at the nominal load breaks a limit (a DER phase over its kVA rating, say) exits 4
    # (ut39_tph #4, partexit), any other 0
    from feederopt import nominal_breaches

    assert res.exit_code == (4 if nominal_breaches(doc["voltage_feedback"]) else 0), res.output
    lb, obj = doc["lower_bound"], doc["objective"]
    assert doc["status"] in ("time_limit", "optimal")
    assert lb is not None and lb <= obj + 1e-9
    assert doc["gap"] == pytest.approx((obj - lb) / obj, abs=1e-12)
    assert "lower bound" in res.output and "gap" in res.output
    if doc["status"] == "time_limit":
        assert doc["gap"] > 0 or lb == pytest.approx(obj)


def test_extensive_form_stopped_before_a_plan_exits_4_within_its_deadline(tmp_path):
    """IEEE 37 mod at 25 %: the extensive form's 64 copies cannot be built and solved in 0.5 s
    (building them takes 0.5-1 s on an idle 2-core machine, and HiGHS then needs more than a
    second for even the trivial all-off plan; at 2 s an idle machine finds that plan, which
    test_an_all_off_incumbent_is_called_so covers). The run ends with exit code 4 and a
    message saying that no partition was found (before: exit 1, an untyped message), writes
    the all-dark fallback (ut47_part: before, no JSON) as the trivial plan, and keeps to its
    deadline (the building counts: before, HiGHS alone got the limit, 17 s for 10 s)."""
    out = tmp_path / "p.json"
    t0 = time.perf_counter()
    res = CliRunner().invoke(app, ["partition", "ieee37mod", "--uncertainty", "0.25",
                                   "--extensive", "--time-limit", "0.5", "--json", str(out)])
    wall = time.perf_counter() - t0
    assert res.exit_code == 4, res.output
    assert "before any partition was found" in " ".join(res.output.split())
    doc = json.loads(out.read_text())
    assert doc["trivial_plan"] is True and not any(doc["plan"]["energised"])
    assert wall < 0.5 + 8  # reading the case and one copy's build after the deadline


def test_an_all_off_incumbent_is_called_so(folder):
    """A plan with every block de-energised at a time limit is the trivial incumbent: the
    result says so with its bound, instead of presenting it as an answer."""
    from feederopt.algorithms.partition import _result
    from feederopt.api_partition import _network_and_settings
    from feederopt.problems.partition import PartitionPlan, build_partition_data

    net, st, _, _ = _network_and_settings(str(folder / "tiny1.dss"),
                                          str(folder / "settings.json"), None, None, None, [])
    data = build_partition_data(net, st)
    off = PartitionPlan(np.zeros(data.n_blocks, bool), np.zeros(data.n_switches, bool),
                        np.zeros(len(data.der_ids), bool), np.zeros(len(data.ph_der)),
                        np.zeros(len(data.ph_der)))
    res = _result(data, "tiny", "extensive", "time_limit", off, 0.0, 0.0, 0.0, 0.0, [], 1,
                  lower_bound=17_000.0)
    shed_all = 4 * 10_010.0  # 1000 (10 + 0.01) per block of one load
    assert res.objective == pytest.approx(shed_all)
    assert res.gap == pytest.approx((shed_all - 17_000.0) / shed_all)
    assert any("de-energises every block" in n and "17,000.00" in n for n in res.notes)
    assert res.trivial_plan


def _stopped_with_all_off(monkeypatch, lower_bound: float) -> None:
    """``partition --extensive`` whose HiGHS run stops at its time limit with the all-off plan
    as its only incumbent and ``lower_bound`` as its bound (a real stop of that kind depends
    on the machine's speed: test_extensive_form_stopped_before_a_plan_exits_4_within_its_
    deadline); the result is built as the extensive solve builds it."""
    import feederopt.api_partition as api
    from feederopt.algorithms.partition import _result
    from feederopt.problems.partition import PartitionPlan

    def stopped(data, *, case="network", time_limit_s=600.0, **_):
        off = PartitionPlan(np.zeros(data.n_blocks, bool), np.zeros(data.n_switches, bool),
                            np.zeros(len(data.der_ids), bool), np.zeros(len(data.ph_der)),
                            np.zeros(len(data.ph_der)))
        return _result(data, case, "extensive", "time_limit", off, 0.0, 0.0, 0.0, 0.0, [], 1,
                       lower_bound=lower_bound)

    monkeypatch.setattr(api, "solve_extensive", stopped)


def test_a_time_limited_all_off_plan_exits_4_and_is_written(folder, tmp_path, monkeypatch):
    """ut_part #1: a time-limited ``--extensive`` run whose only incumbent is the all-off plan
    (every load shed, while G1 and G3 are grid-forming and could serve blocks) exited 0 with
    a note that it is no answer; a script took it for a plan. It now exits 4, the code of a
    run stopped before any partition (and of ``solve`` stopped without an answer), with a
    message; the JSON is written all the same, marked ``trivial_plan``, with its bound."""
    _stopped_with_all_off(monkeypatch, 17_000.0)
    out = tmp_path / "p.json"
    res = CliRunner().invoke(app, ["partition", str(folder / "tiny1.dss"), "--settings",
                                   str(folder / "settings.json"), "--extensive",
                                   "--time-limit", "30", "--json", str(out)])
    assert res.exit_code == 4, res.output
    assert "no partition found" in res.output and "Traceback" not in res.output
    doc = json.loads(out.read_text())
    assert doc["trivial_plan"] is True and doc["status"] == "time_limit"
    assert not any(doc["plan"]["energised"]) and doc["energised_blocks"] == 0
    assert doc["objective"] == pytest.approx(4 * 1000 * (10 + 0.01))  # four one-load blocks
    assert doc["lower_bound"] == pytest.approx(17_000.0)
    quiet = CliRunner().invoke(app, ["partition", str(folder / "tiny1.dss"), "--settings",
                                     str(folder / "settings.json"), "--extensive", "-q"])
    assert quiet.exit_code == 4 and quiet.output == ""


def test_an_all_off_plan_that_is_the_answer_exits_0(folder, tmp_path, monkeypatch):
    """An all-off plan is an answer when proven: at a time limit with the bound at the
    objective (gap 0), or optimal because no DER is grid-forming (then no block can be
    energised: every DER grid-following here)."""
    _stopped_with_all_off(monkeypatch, 4 * 1000 * (10 + 0.01))
    res = CliRunner().invoke(app, ["partition", str(folder / "tiny1.dss"), "--settings",
                                   str(folder / "settings.json"), "--extensive", "-q"])
    assert res.exit_code == 0, res.output
    monkeypatch.undo()
    gfl = {"dss": {f"Generator.{g}": {"inverter": "gfl"} for g in DERS},
           "switch": SETTINGS["switch"]}
    f = tmp_path / "gfl.json"
    f.write_text(json.dumps(gfl))
    out = tmp_path / "p.json"
    res = CliRunner().invoke(app, ["partition", str(folder / "tiny1.dss"), "--settings",
                                   str(f), "--json", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal" and doc["trivial_plan"] is False
    assert not any(doc["plan"]["energised"])


# ---- settings --------------------------------------------------------------------------------
@pytest.mark.parametrize("omega", [-5, 0, 1e400])
def test_omega_must_be_positive_and_finite(tmp_path, omega):
    """A negative omega made the recourse LP unbounded (HiGHS error, exit 1); 0 makes unmet
    power free; both are typed problems naming the setting, exit 2, before any solve."""
    from feederopt.api_partition import default_settings_path

    doc = json.loads(default_settings_path("ieee37mod").read_text())
    doc.setdefault("partition", {})["omega"] = omega
    f = tmp_path / "s.json"
    f.write_text(json.dumps(doc).replace("Infinity", "1e400"))
    res = CliRunner().invoke(app, ["partition", "ieee37mod", "--settings", str(f)])
    assert res.exit_code == 2, res.output
    assert "omega" in res.output and "Traceback" not in res.output


def test_uncertainty_above_one_is_refused():
    """Above 1 the box's lower corner is a negative load (a generator): refused, exit 2."""
    res = CliRunner().invoke(app, ["partition", "ieee37mod", "--uncertainty", "1.5"])
    assert res.exit_code == 2 and "uncertainty" in res.output


def test_uncertain_loads_match_case_insensitively_and_name_the_unknown_one():
    """The .dss declares ``Load.S701c``: ``S701c`` names it (as every OpenDSS name is
    case-insensitive); with ``s999`` too, the problem names s999 only."""
    from feederopt.api_partition import _network_and_settings
    from feederopt.errors import InputError

    _, st, _, _ = _network_and_settings("ieee37mod", None, 0.05, ["S701c"], None, [])
    assert [x.lower() for x in st.uncertain_loads] == ["s701c"]
    with pytest.raises(InputError) as exc:
        _network_and_settings("ieee37mod", None, 0.05, ["s999", "S701c"], None, [])
    (p,) = [p for p in exc.value.problems if p.field == "uncertain_loads"]
    assert p.ids == ("s999",)


def test_output_problem_reads_as_option_and_path(tmp_path):
    """An existing --json file: ``output --json 'p.json'``, not ``output [p.json].json``."""
    f = tmp_path / "p.json"
    f.write_text("{}")
    res = CliRunner().invoke(app, ["partition", "ieee37mod", "--json", str(f)])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert f"output --json '{f}'" in text and f"[{f}].json" not in text
