"""The daily load shapes of an OpenDSS feeder as scenarios (``feederopt scenarios FILE.dss
--load-shapes daily``, :mod:`feederopt.io.opendss_shapes`).

The truth is OpenDSS's own daily-mode solution (``Set Mode=Daily``, one step at a time, with
opendssdirect directly, no feederopt code): the power each load draws at each hour, which for
constant-power loads (``model=1``) near 1 p.u. is the load's setting at that hour. The feeder
has every kind of shape the module reads: multipliers with and without ``qmult``, actual values
(``useactual=yes``) with and without ``qmult``, a 12-point shape that repeats over the day, a
load without a shape and a disabled one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import opendssdirect as dss
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import (
    daily_scenarios,
    scenario_networks,
    scenario_opendss,
    scenario_rows,
    solve_three_phase,
)
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss_shapes import daily_load_scenarios
from feederopt.io.scenarios import ScenarioRows
from feederopt.network.threephase_perunit import to_per_unit_3ph

runner = CliRunner()
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "opendss"


def _mult(n: int, phase: float, lo: float, hi: float) -> str:
    vals = [lo + (hi - lo) * (0.5 + 0.5 * math.sin(2 * math.pi * (h + phase) / n))
            for h in range(n)]
    return "(" + " ".join(f"{v:.4f}" for v in vals) + ")"


def feeder(shapes: str | None = None) -> str:
    """A stiff 12.47 kV feeder whose loads stay near 1 p.u. (model=1 draws its setting)."""
    shapes = shapes if shapes is not None else (
        f"New LoadShape.pq npts=24 interval=1 mult={_mult(24, 0, 0.3, 1.0)} "
        f"qmult={_mult(24, 6, 0.2, 0.9)}\n"
        f"New LoadShape.p npts=24 interval=1 mult={_mult(24, 3, 0.4, 1.1)}\n"
        f"New LoadShape.act npts=24 interval=1 useactual=yes mult={_mult(24, 9, 20, 60)} "
        f"qmult={_mult(24, 2, 4, 15)}\n"
        f"New LoadShape.actp npts=24 interval=1 useactual=yes mult={_mult(24, 12, 30, 90)}\n"
        f"New LoadShape.half npts=12 interval=1 mult={_mult(12, 1, 0.2, 1.0)}\n")
    return """Clear
New Circuit.shapes bus1=src basekV=12.47 pu=1.0 phases=3 MVAsc3=2000 MVAsc1=2100
New Linecode.c nphases=3 units=kft rmatrix=(0.05|0.015 0.05|0.015 0.015 0.05) """ + \
        """xmatrix=(0.30|0.10 0.30|0.10 0.10 0.30)
New Line.l1 Phases=3 Bus1=src Bus2=a LineCode=c Length=1 units=kft
New Line.l2 Phases=3 Bus1=a Bus2=b LineCode=c Length=1 units=kft
""" + shapes + """New Load.pq Bus1=a Phases=3 kV=12.47 kW=300 kvar=60 model=1 daily=pq
New Load.p Bus1=a.1 Phases=1 kV=7.2 kW=100 kvar=30 model=1 daily=p
New Load.act Bus1=b Phases=3 kV=12.47 kW=50 kvar=10 model=1 daily=act
New Load.actp Bus1=b.2 Phases=1 kV=7.2 kW=80 kvar=20 model=1 daily=actp
New Load.half Bus1=b.3 Phases=1 kV=7.2 kW=70 kvar=10 model=1 daily=half
New Load.flat Bus1=a.2 Phases=1 kV=7.2 kW=40 kvar=5 model=1
New Load.off Bus1=a.3 Phases=1 kV=7.2 kW=40 kvar=5 model=1 daily=pq enabled=no
Set voltagebases=[12.47]
Calcvoltagebases
Solve
"""


def only_shapes(text: str, keep: tuple[str, ...]) -> str:
    """``text`` with the ``daily=`` of every load not in ``keep`` removed."""
    return re.sub(r"(New Load\.(\w+) [^\n]*?) daily=\w+",
                  lambda m: m.group(0) if m.group(2) in keep else m.group(1), text)


def opendss_daily(path: Path, hours: int) -> dict[int, dict[str, tuple[float, float]]]:
    """OpenDSS's daily mode: per solution hour 1..hours, each enabled load's (kW, kvar)."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Text.Command("set mode=daily stepsize=1h number=1")
    out: dict[int, dict[str, tuple[float, float]]] = {}
    for h in range(hours):
        dss.Text.Command(f"set hour={h} sec=0")  # the solve steps the clock to h + 1 first
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        per: dict[str, tuple[float, float]] = {}
        for name in dss.Loads.AllNames():
            dss.Loads.Name(name)
            if dss.CktElement.Enabled():
                pw = dss.CktElement.Powers()
                per[name] = (sum(pw[0::2]), sum(pw[1::2]))
        out[round(dss.Solution.Hour())] = per
    return out


def assert_active_power_is_opendss(table: pl.DataFrame, path: Path, hours: Sequence[int]
                                   ) -> dict[int, dict[str, tuple[float, float]]]:
    """Every load row's P at ``hours`` equals OpenDSS's daily mode; returns OpenDSS's loads."""
    truth = opendss_daily(path, max(hours))
    for h in hours:
        rows = table.filter(pl.col("scenario") == f"{h:02d}:00")
        for ld, p in rows.select("element", "p_mw").iter_rows():
            assert p * 1000 == pytest.approx(truth[h][ld][0], rel=1e-6, abs=1e-3), (h, ld)
    return truth


def test_each_hour_is_opendss_daily_mode(tmp_path: Path) -> None:
    path = tmp_path / "shapes.dss"
    path.write_text(feeder())
    shapes = daily_load_scenarios(path)
    table = shapes.table
    assert (shapes.interval_h, shapes.horizon_h) == (1.0, 24.0)
    names = [f"{h:02d}:00" for h in range(1, 25)]
    assert table["scenario"].unique(maintain_order=True).to_list() == names
    assert table["weight"].to_list() == pytest.approx([1 / 24] * table.height)
    # the loads without a shape and the disabled one have no rows
    assert set(table["element"]) == {"pq", "p", "act", "actp", "half"}
    truth = opendss_daily(path, 24)
    assert sorted(truth) == list(range(1, 25))
    for h, name in enumerate(names, start=1):
        rows = table.filter(pl.col("scenario") == name)
        for ld, p, q in rows.select("element", "p_mw", "q_mvar").iter_rows():
            kw, kvar = truth[h][ld]
            assert p * 1000 == pytest.approx(kw, rel=1e-6, abs=1e-3), (name, ld)
            assert q * 1000 == pytest.approx(kvar, rel=1e-6, abs=1e-3), (name, ld)
        assert truth[h]["flat"] == pytest.approx((40.0, 5.0), abs=1e-3)  # no shape: its kW


def test_the_table_is_valid_scenarios_of_the_feeder(tmp_path: Path) -> None:
    """What ``solve --scenarios`` reads: every step a scenario, the shaped loads replaced."""
    path = tmp_path / "shapes.dss"
    path.write_text(feeder())
    table, info = daily_scenarios(path)
    rows = scenario_rows(load_three_phase(path), table)
    assert rows.names == [f"{h:02d}:00" for h in range(1, 25)]
    assert info["count"] == 24 and info["shaped_loads"] == 5 and info["unshaped_loads"] == 1
    assert not rows.buses[0] and set(rows.loads[0]) == {"pq", "p", "act", "actp", "half"}


def test_short_shapes_give_their_own_horizon(tmp_path: Path) -> None:
    """Shapes of 8 hourly points (PowerModelsONM's IEEE 13) are 8 scenarios, not a day."""
    path = tmp_path / "eight.dss"
    path.write_text(only_shapes(feeder(
        f"New LoadShape.pq npts=8 interval=1 mult={_mult(8, 0, 0.3, 1.0)}\n"
        f"New LoadShape.p npts=8 interval=1 mult={_mult(8, 2, 0.5, 1.0)}\n"), ("pq", "p", "off")))
    shapes = daily_load_scenarios(path)
    assert shapes.horizon_h == 8.0 and shapes.table["scenario"].n_unique() == 8
    assert_active_power_is_opendss(shapes.table, path, range(1, 9))


@pytest.mark.parametrize(("shapes", "field"), [
    ("New LoadShape.pq npts=24 interval=1 mult=(" + "1 " * 24 + ")\n"
     "New LoadShape.p npts=48 interval=0.5 mult=(" + "1 " * 48 + ")\n", "interval"),
    ("New LoadShape.pq npts=5 interval=5 mult=(1 1 1 1 1)\n"
     "New LoadShape.p npts=5 interval=5 mult=(1 1 1 1 1)\n", "interval"),
])
def test_bad_intervals_are_typed_problems(tmp_path: Path, shapes: str, field: str) -> None:
    path = tmp_path / "bad.dss"
    path.write_text(only_shapes(feeder(shapes), ("pq", "p", "off")))
    with pytest.raises(InputError) as err:
        daily_load_scenarios(path)
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.BAD_SCENARIO and problem.field == field
    assert "pq" in problem.ids and "p" in problem.ids
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily",
                              "-o", str(tmp_path / "s.csv")])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert not (tmp_path / "s.csv").exists()


def test_cli_writes_the_table_and_refuses_what_it_cannot(tmp_path: Path) -> None:
    path = tmp_path / "shapes.dss"
    path.write_text(feeder())
    out = tmp_path / "day.csv"
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "24 scenarios" in res.output and f"--scenarios {out}" in res.output
    assert pl.read_csv(out).height == 24 * 5
    # an existing file is kept without --force
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily", "-o", str(out)])
    assert res.exit_code == 2 and "--force" in res.output
    # a .dss without the option, the option on a balanced case, a feeder without shapes
    res = runner.invoke(app, ["scenarios", str(path), "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "--load-shapes daily" in res.output, res.output
    res = runner.invoke(app, ["scenarios", "case33bw", "--load-shapes", "daily",
                              "-o", str(tmp_path / "y.csv")])
    assert res.exit_code == 2 and "not an OpenDSS" in res.output, res.output
    plain = tmp_path / "plain.dss"
    plain.write_text(only_shapes(feeder(""), ()))
    res = runner.invoke(app, ["scenarios", str(plain), "--load-shapes", "daily",
                              "-o", str(tmp_path / "z.csv")])
    assert res.exit_code == 2 and "no in-service load" in res.output, res.output


def test_reader_says_the_snapshot_ignores_the_shapes(tmp_path: Path) -> None:
    path = tmp_path / "shapes.dss"
    path.write_text(feeder())
    warnings = load_three_phase(path).meta["warnings"]
    said = [w for w in warnings if "daily load shape" in w]
    assert len(said) == 1 and said[0].startswith("5 load(s)") and "--load-shapes" in said[0]


@pytest.mark.skipif(not (SHARED / "network.iowa240.dss").exists(), reason="shared data")
def test_iowa240_hours_are_opendss_daily_mode() -> None:
    """The real feeder: 192 loads with hourly actual-value shapes (kW and kvar)."""
    path = SHARED / "network.iowa240.dss"
    table = daily_load_scenarios(path).table
    truth = opendss_daily(path, 24)
    worst = 0.0
    for h in range(1, 25):
        rows = table.filter((pl.col("scenario") == f"{h:02d}:00") & (pl.col("kind") == "load"))
        assert rows.height == 192
        for ld, p, q in rows.select("element", "p_mw", "q_mvar").iter_rows():
            kw, kvar = truth[h][ld]
            worst = max(worst, abs(p * 1000 - kw) / max(abs(kw), 1.0),
                        abs(q * 1000 - kvar) / max(abs(kw), 1.0))
    assert worst < 1e-3  # constant-power loads below OpenDSS's vminpu turn to impedances


@pytest.mark.skipif(not (SHARED / "network.iowa240.dss").exists(), reason="shared data")
def test_iowa240_pv_rows_are_opendss_daily_mode() -> None:
    """Iowa 240's 4 PV systems name ``PVScaling1``, a shape given as ``mult=`` without
    ``npts``: OpenDSS reads no points and its daily mode runs them at their 200 kVA all day.
    Their rows say what OpenDSS does, and the units are named as not following their shape.
    Each hour's scenario in OpenDSS's snapshot has the daily mode's losses and voltages (to
    3e-3 and 1e-3 p.u.: the residual is the unshaped Gen3, a grounded wye behind the delta
    of T_3082, whose three-wire bus is left out, as with the loads' rows alone)."""
    path = SHARED / "network.iowa240.dss"
    shapes = daily_load_scenarios(path)
    pvs = [f"PVSystem.pv{k}" for k in range(1, 5)]
    assert shapes.shaped_ders == pvs and shapes.unshaped_ders == pvs
    units = shapes.table.filter(pl.col("kind") == "generator")
    assert units.height == 24 * 4 and set(units["der"]) == {"pv"}
    assert units["p_mw"].to_list() == pytest.approx([0.2] * units.height, rel=1e-4)
    assert_scenarios_are_opendss_daily(path, 3e-3, 1e-3, skip_buses={"t_bus3082_l"})


def test_horizon_is_the_shapes_common_period(tmp_path: Path) -> None:
    """Shapes of 4, 3 and 6 hourly points repeat together every 12 h, not 6: hours 7-12 differ
    from hours 1-6 in OpenDSS's daily mode (the longest shape's 6 h weighted the steps
    wrongly)."""
    path = tmp_path / "lcm.dss"
    path.write_text(only_shapes(feeder(
        "New LoadShape.pq npts=4 interval=1 mult=(0.2 0.5 0.9 0.4)\n"
        "New LoadShape.p npts=3 interval=1 mult=(1.0 0.3 0.6)\n"
        "New LoadShape.half npts=6 interval=1 mult=(0.1 0.2 0.3 0.4 0.5 0.6)\n"),
        ("pq", "p", "half", "off")))
    shapes = daily_load_scenarios(path)
    assert shapes.horizon_h == 12.0 and shapes.table["scenario"].n_unique() == 12
    assert_active_power_is_opendss(shapes.table, path, range(1, 13))


def test_fixed_and_exempt_loads_as_opendss_treats_them(tmp_path: Path) -> None:
    """``status=fixed``: OpenDSS holds the load at its kW (no LoadMult, no shape); ``exempt``:
    the shape but no LoadMult. Before, LoadMult was folded into both (the snapshot's total
    0.55 against OpenDSS's 0.70 MW on the user's feeder) and the shape applied to a fixed
    load. Checked against OpenDSS's snapshot and daily mode."""
    text = only_shapes(feeder(), ("pq", "p", "act", "actp", "half", "off"))
    text = text.replace("New Load.p Bus1=a.1", "New Load.p status=fixed Bus1=a.1")
    text = text.replace("New Load.half Bus1=b.3", "New Load.half status=exempt Bus1=b.3")
    text = text.replace("Set voltagebases", "Set LoadMult=0.5\nSet voltagebases")
    path = tmp_path / "status.dss"
    path.write_text(text)
    shapes = daily_load_scenarios(path)
    assert "p" not in set(shapes.table["element"])  # fixed: no row, its kW all day
    truth = assert_active_power_is_opendss(shapes.table, path, (1, 7, 13, 19))
    for h in (1, 7, 13, 19):
        assert truth[h]["p"][0] == pytest.approx(100.0, abs=1e-3)  # the fixed load
    # the snapshot: the model's loads are what OpenDSS draws
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Solution.Solve()
    drawn = {}
    for name in dss.Loads.AllNames():
        dss.Loads.Name(name)
        if dss.CktElement.Enabled():
            drawn[name] = sum(dss.CktElement.Powers()[0::2])
    loads = load_three_phase(path).loads.filter(pl.col("in_service"))
    model = loads.group_by("id").agg(pl.col("p_mw").sum())
    for ld, p in model.iter_rows():
        assert p * 1000 == pytest.approx(drawn[ld], rel=1e-4), ld


SUN = ("New LoadShape.sun npts=24 interval=1 mult=(0 0 0 0 0 0 0.05 0.15 0.3 0.5 0.7 0.85 "
       "0.95 1 0.95 0.85 0.7 0.5 0.3 0.15 0.05 0 0 0)\n")


def der_feeder() -> str:
    """:func:`feeder` with a shaped PV system (cut off below its 20 % cut-in at 07:00 and
    20:00, limited by its kVA at noon), a shaped generator, and an unshaped PV system."""
    return feeder().replace("Set voltagebases", SUN + (
        "New PVSystem.pv1 Bus1=b Phases=3 kV=12.47 irradiance=1 Pmpp=250 kVA=240 pf=0.95 "
        "daily=sun\n"
        "New Generator.g Bus1=a Phases=3 kV=12.47 kW=150 kvar=30 model=1 daily=p\n"
        "New PVSystem.flat Bus1=a Phases=3 kV=12.47 irradiance=0.8 Pmpp=50 kVA=60\n"
        "Set voltagebases"))


def opendss_daily_state(path: Path, hours: int, node_base_v: dict[str, float],
                        ) -> dict[int, tuple[float, dict[str, float]]]:
    """OpenDSS's daily mode (opendssdirect only): per solution hour 1..hours, the total losses
    [kW] and every node's |V| [p.u. of ``node_base_v``, the bus's phase-to-neutral base in
    V], keyed ``"bus.a"``."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Text.Command("set mode=daily stepsize=1h number=1")
    out: dict[int, tuple[float, dict[str, float]]] = {}
    for h in range(hours):
        dss.Text.Command(f"set hour={h} sec=0")
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        volts = {}
        for node, v in zip(dss.Circuit.AllNodeNames(), dss.Circuit.AllBusVMag(), strict=True):
            bus, _, k = node.lower().rpartition(".")
            if k in ("1", "2", "3") and bus in node_base_v:
                volts[f"{bus}.{'abc'[int(k) - 1]}"] = v / node_base_v[bus]
        out[round(dss.Solution.Hour())] = (dss.Circuit.Losses()[0] / 1000.0, volts)
    return out


def assert_scenarios_are_opendss_daily(path: Path, loss_rel: float, volt_abs: float,
                                       skip_buses: set[str] = frozenset()) -> ScenarioRows:
    """Each scenario of ``path``'s daily shapes, as ``solve --scenarios`` reads it, solved by
    OpenDSS in snapshot at the base topology (:func:`scenario_opendss`: the loads' rows and
    the units' generator rows set), has OpenDSS's daily-mode losses and node voltages at that
    step (to ``loss_rel`` relative and ``volt_abs`` p.u.; ``skip_buses`` not compared)."""
    table, info = daily_scenarios(path)
    net = load_three_phase(path)
    rows = scenario_rows(net, table)
    base = {r["id"]: r["vn_kv"] * 1000 / math.sqrt(3) for r in net.buses.iter_rows(named=True)}
    truth = opendss_daily_state(path, info["count"], base)
    for s, name in enumerate(rows.names):
        loss, volts = truth[int(name[:2])]
        sol = scenario_opendss(net, rows, s, None, set(), None)
        assert sol.converged
        assert sol.losses_kw == pytest.approx(loss, rel=loss_rel), name
        nodes = [k for k in sol.voltages_pu if k.rpartition(".")[0] not in skip_buses]
        assert len(nodes) > 0 and all(k in volts for k in nodes)
        worst = max(abs(sol.voltages_pu[k] - volts[k]) for k in nodes)
        assert worst < volt_abs, (name, worst)
    return rows


def test_shaped_units_follow_opendss_daily_mode(tmp_path: Path) -> None:
    """The shaped PV system and generator get generator rows, their output in OpenDSS's daily
    mode (the PV off at night and below its cut-in, at its kVA at noon); each step's scenario
    in OpenDSS's snapshot has the daily mode's losses and voltages. Before, the units held
    their snapshot output (noon PV at midnight) and were only named as not followed."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    shapes = daily_load_scenarios(path)
    assert shapes.shaped_ders == ["Generator.g", "PVSystem.pv1"] and not shapes.unshaped_ders
    units = shapes.table.filter(pl.col("kind") == "generator")
    assert units.height == 48 and set(units["element"]) == {"Generator.g", "PVSystem.pv1"}
    assert dict(zip(units["element"], units["der"], strict=True)) == {
        "Generator.g": "generator", "PVSystem.pv1": "pv"}
    pv = {r["scenario"]: r["p_mw"] for r in units.filter(
        pl.col("element") == "PVSystem.pv1").iter_rows(named=True)}
    assert pv["01:00"] == 0.0 and pv["08:00"] == 0.0  # night; 37.5 kW < the 48 kW cut-in
    assert pv["14:00"] == pytest.approx(0.2255, abs=1e-3)  # 250 kW panel, 240 kVA at pf 0.95
    rows = assert_scenarios_are_opendss_daily(path, 1e-6, 1e-8)
    # the model's injections: each scenario's generators table has the rows' outputs
    nets = scenario_networks(load_three_phase(path), rows)
    for s in (0, 13):
        gens = dict(zip(nets[s].generators["id"], nets[s].generators["p_mw"], strict=True))
        for unit, (p, _) in rows.generators[s].items():
            assert gens[unit] == p
        assert gens["PVSystem.flat"] == pytest.approx(0.04, rel=1e-6)  # unshaped: snapshot
        pu = to_per_unit_3ph(nets[s])
        assert float(pu.gen_p.sum()) == pytest.approx(sum(gens.values()))  # S_b = 1 MVA


def test_shaped_units_without_shaped_loads_set_the_step(tmp_path: Path) -> None:
    """A feeder whose PV system has a daily shape and whose loads have none (the old code
    refused it: "no in-service load ... has a daily load shape"): the unit's shape sets the
    step, the loads are constant (no rows), and each step's scenario in OpenDSS's snapshot is
    OpenDSS's daily mode at that hour (losses to 1e-5: at 02:00 they differ by 1.3e-6
    relative, within OpenDSS's convergence, not traced further); the CLI writes it and says
    where the step comes from."""
    path = tmp_path / "pv_only.dss"
    path.write_text(only_shapes(feeder(""), ()).replace("Set voltagebases", SUN + (
        "New PVSystem.pv1 Bus1=b Phases=3 kV=12.47 irradiance=1 Pmpp=250 kVA=240 pf=0.95 "
        "daily=sun\nSet voltagebases")))
    shapes = daily_load_scenarios(path)
    assert shapes.interval_h == 1.0 and shapes.horizon_h == 24.0
    assert set(shapes.table["kind"]) == {"generator"} and shapes.table.height == 24
    rows = assert_scenarios_are_opendss_daily(path, 1e-5, 1e-7)
    assert all(not per for per in rows.loads)
    noon = shapes.table.filter(pl.col("scenario") == "14:00")["p_mw"][0]
    assert noon == pytest.approx(0.2255, abs=1e-3)
    out = tmp_path / "day.csv"
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "no load has a daily shape" in res.output


def test_scenarios_cli_says_which_units_follow(tmp_path: Path) -> None:
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    out = tmp_path / "day.csv"
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 generating unit(s) with a daily shape follow it" in res.output
    assert "not followed" not in res.output and "warning" not in res.output
    table = pl.read_csv(out)
    assert table.height == 24 * 7
    # what solve --scenarios reads: the file's rows resolve on the feeder
    rows = scenario_rows(load_three_phase(path), out)
    assert set(rows.generators[0]) == {"Generator.g", "PVSystem.pv1"}


def test_generator_options_and_unknown_shapes_are_refused(tmp_path: Path) -> None:
    """``--count`` (and the other generator options) with ``--load-shapes`` are refused, not
    silently ignored; a load naming an undefined shape is a problem on its ``daily`` shape,
    not on a line code (OpenDSS's error 401 for both)."""
    path = tmp_path / "shapes.dss"
    path.write_text(feeder())
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily", "-o",
                              str(tmp_path / "s.csv"), "--count", "5", "--seed", "3"])
    assert res.exit_code == 2 and "--count, --seed do(es) not apply" in res.output, res.output
    bad = tmp_path / "bad.dss"
    bad.write_text(feeder().replace("daily=pq\n", "daily=nosuch\n", 1))
    res = runner.invoke(app, ["scenarios", str(bad), "--load-shapes", "daily", "-o",
                              str(tmp_path / "b.csv")])
    assert res.exit_code == 2 and "loadshapes" in res.output and ".daily:" in res.output
    assert "line code" not in res.output, res.output


def _gen_table(rows: list[tuple[str, str, str | None, float]]) -> pl.DataFrame:
    """A scenario table of (scenario, element, kind, p_mw) rows, q 0, weight 1."""
    return pl.DataFrame({"scenario": [r[0] for r in rows], "element": [r[1] for r in rows],
                         "kind": [r[2] for r in rows], "p_mw": [r[3] for r in rows],
                         "q_mvar": [0.0] * len(rows), "weight": [1.0] * len(rows)},
                        schema={"scenario": pl.String, "element": pl.String,
                                "kind": pl.String, "p_mw": pl.Float64, "q_mvar": pl.Float64,
                                "weight": pl.Float64})


def test_generator_rows_are_validated_as_load_rows(tmp_path: Path) -> None:
    """Unknown, out-of-service and repeated units are typed problems naming them; the unit's
    full name in any case, with or without ``kind``, is the reader's id."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder().replace(
        "Set voltagebases", "New PVSystem.gone Bus1=a Phases=3 kV=12.47 Pmpp=10 kVA=10 "
        "enabled=no\nSet voltagebases"))
    net = load_three_phase(path)
    assert "PVSystem.gone" in net.generators["id"].to_list()
    rows = scenario_rows(net, _gen_table([("n", "pvsystem.PV1", "generator", 0.1),
                                          ("n", "GENERATOR.G", None, 0.05),
                                          ("m", "PVSystem.pv1", "generator", 0.0)]))
    assert rows.generators == [{"PVSystem.pv1": (0.1, 0.0), "Generator.g": (0.05, 0.0)},
                               {"PVSystem.pv1": (0.0, 0.0)}]
    assert rows.opendss_setpoints(0) == {"PVSystem.pv1": (100.0, 0.0),
                                         "Generator.g": (50.0, 0.0)}
    with pytest.raises(InputError) as err:
        scenario_rows(net, _gen_table([("n", "PVSystem.nosuch", "generator", 0.1),
                                       ("n", "PVSystem.gone", "generator", 0.1),
                                       ("n", "PVSystem.pv1", "generator", 0.1),
                                       ("n", "pvsystem.pv1", "generator", 0.2),
                                       ("n", "pq", "generator", 0.2)]))
    by_message = {p.message.split(":")[0].split(" (")[0]: p for p in err.value.problems}
    assert all(p.kind == ProblemKind.BAD_SCENARIO for p in err.value.problems)
    assert by_message["unknown generating unit(s)"].ids == ("PVSystem.nosuch", "pq")
    assert by_message["generating unit(s) out of service"].ids == ("PVSystem.gone",)
    assert by_message["a generating unit appears twice in one scenario"].ids == (
        "n/PVSystem.pv1",)


def test_info_lists_the_units_that_generator_rows_name(tmp_path: Path) -> None:
    """The unknown-unit hint sends the user to ``feederopt info``'s generators table, which
    printed a count only: it lists each unit by the full name a row takes (JSON too)."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    res = runner.invoke(app, ["info", str(path)], terminal_width=160)
    assert res.exit_code == 0, res.output
    for unit in ("Generator.g", "PVSystem.pv1", "PVSystem.flat"):
        assert unit in res.output
    res = runner.invoke(app, ["info", str(path), "--json"])
    units = {u["id"]: u for u in json.loads(res.output)["generator_units"]}
    assert set(units) == {"Generator.g", "PVSystem.pv1", "PVSystem.flat"}
    assert units["Generator.g"]["p_kw"] == pytest.approx(150.0)
    with pytest.raises(InputError) as err:
        scenario_rows(load_three_phase(path), _gen_table([("n", "PVSystem.x", "generator",
                                                           0.1)]))
    assert "generators table of `feederopt info FILE.dss`" in err.value.problems[0].hint


def test_a_load_row_naming_a_unit_says_use_kind_generator(tmp_path: Path) -> None:
    """A row of kind load (or bus) that names a generating unit was "unknown element id(s):
    neither a load, a bus nor a generating unit" though it is one; now it says the row's kind
    is wrong, naming the unit."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    with pytest.raises(InputError) as err:
        scenario_rows(load_three_phase(path), _gen_table([("n", "PVSystem.pv1", "load", 0.1),
                                                          ("n", "generator.g", "bus", 0.1)]))
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.BAD_SCENARIO and problem.field == "kind"
    assert problem.ids == ("PVSystem.pv1", "generator.g")
    assert "kind generator" in problem.message and "unknown" not in problem.message


def test_a_generator_row_above_the_units_kva_is_a_problem(tmp_path: Path) -> None:
    """OpenDSS caps a unit at its kVA (PVSystem.pv1: 240 kVA), so a row above it would be
    checked at another output than the model's: a typed problem naming unit and scenario;
    the rating itself is allowed, and the CLI exits 2 without a traceback."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    net = load_three_phase(path)
    ok = scenario_rows(net, _gen_table([("n", "PVSystem.pv1", "generator", 0.24)]))
    assert ok.generators == [{"PVSystem.pv1": (0.24, 0.0)}]
    table = _gen_table([("n", "PVSystem.pv1", "generator", 0.2402),
                        ("m", "Generator.g", "generator", 0.1)])
    with pytest.raises(InputError) as err:
        scenario_rows(net, table)
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.BAD_SCENARIO and problem.ids == ("PVSystem.pv1",)
    assert "PVSystem.pv1 in n: 240.2 kVA > 240 kVA" in problem.message
    csv = tmp_path / "over.csv"
    table.write_csv(csv)
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(csv)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "above the unit's kVA" in res.output


def test_a_negative_pv_row_is_a_problem_and_a_negative_generator_is_not(tmp_path: Path,
                                                                        ) -> None:
    """OpenDSS puts a PV system out at 0 kW for a negative Pmpp (the model took the row): a
    typed problem naming unit and scenario, exit 2. A Generator's negative kW is OpenDSS's
    own output (it absorbs): accepted, and OpenDSS's solved output is the row."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    net = load_three_phase(path)
    table = _gen_table([("n", "PVSystem.pv1", "generator", 0.1),
                        ("m", "PVSystem.pv1", "generator", -0.2)])
    with pytest.raises(InputError) as err:
        scenario_rows(net, table)
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.BAD_SCENARIO and problem.ids == ("PVSystem.pv1",)
    assert "a PV system cannot absorb power" in problem.message
    assert "PVSystem.pv1 in m: -200 kW" in problem.message
    csv = tmp_path / "neg.csv"
    table.write_csv(csv)
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(csv)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "cannot absorb power" in res.output
    # float noise of OpenDSS's terminal powers at night (1e-12 MW) is no absorbing row
    scenario_rows(net, _gen_table([("n", "PVSystem.pv1", "generator", -1e-12)]))
    rows = scenario_rows(net, _gen_table([("n", "Generator.g", "generator", -0.05)]))
    assert scenario_opendss(net, rows, 0, None, set(), None).converged
    dss.Circuit.SetActiveElement("Generator.g")
    assert -sum(dss.CktElement.Powers()[0::2]) == pytest.approx(-50.0, abs=1e-3)


def test_generator_rows_on_a_balanced_network_are_a_problem(tmp_path: Path) -> None:
    from feederopt.api import load
    from feederopt.io.scenarios import load_scenarios

    with pytest.raises(InputError) as err:
        load_scenarios(load("case33bw"), _gen_table([("n", "PVSystem.pv1", "generator", 0.1),
                                                     ("n", "5", "bus", -0.1)]))
    # since session 44 a generator row on a balanced network scales one of its own fixed-
    # output units (an sgen); an OpenDSS PVSystem the network does not have is unknown
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.BAD_SCENARIO and problem.field == "element"
    assert problem.ids == ("PVSystem.pv1",) and "unknown generating unit" in problem.message
    table = tmp_path / "s.csv"
    _gen_table([("n", "PVSystem.pv1", "generator", 0.1)]).write_csv(table)
    res = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(table)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output


def test_solve_with_the_days_units_checks_each_hour_as_opendss_daily(tmp_path: Path) -> None:
    """``solve --scenarios`` of the day: OpenDSS's check of each scenario (its base-case
    solve, on the JSON's per-scenario rows) is the daily mode's solution at that hour, the
    PV at its hour's output; so are the voltage feedback's OpenDSS solves (its base row's
    expected losses are the day's mean in daily mode)."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    table, _ = daily_scenarios(path)
    net = load_three_phase(path)
    base = {r["id"]: r["vn_kv"] * 1000 / math.sqrt(3) for r in net.buses.iter_rows(named=True)}
    truth = opendss_daily_state(path, 24, base)
    out = solve_three_phase(path, scenarios=table, time_limit_s=30)
    assert not any("voltage feedback is off" in n for n in out["notes"])
    feedback = out["voltage_feedback"]
    assert feedback["enabled"] and feedback["iterations"][0]["topology"] == "base"
    mean = sum(truth[h][0] for h in range(1, 25)) / 24
    assert feedback["iterations"][0]["opendss_expected_losses_kw"] == pytest.approx(mean,
                                                                                    rel=1e-6)
    per = out["scenarios"]["per_scenario"]
    assert [r["scenario"] for r in per] == [f"{h:02d}:00" for h in range(1, 25)]
    units = table.filter(pl.col("kind") == "generator").group_by("scenario").agg(
        pl.col("p_mw").sum())
    made = dict(zip(units["scenario"], units["p_mw"], strict=True))
    assert out["scenarios"]["generator_rows"].startswith("a unit's output")
    for r in per:
        loss = truth[int(r["scenario"][:2])][0]
        assert r["opendss_base_losses_kw"] == pytest.approx(loss, rel=1e-6), r["scenario"]
        # the shaped units' rows and the unshaped PVSystem.flat's 40 kW snapshot output
        assert r["generation_mw"] == pytest.approx(made[r["scenario"]] + 0.04, rel=1e-6)
    night, noon = truth[1][0], truth[14][0]
    assert abs(night - noon) > 0.1 * noon  # the PV moves the losses: a test with teeth


def test_console_and_report_show_each_scenarios_der_output(tmp_path: Path) -> None:
    """With generator rows the per-scenario tables (console and report) give the units'
    total output [kW]: at 01:00 the shaped units' rows plus the unshaped 40 kW PV."""
    path = tmp_path / "ders.dss"
    path.write_text(der_feeder())
    table, _ = daily_scenarios(path)
    csv = tmp_path / "day.csv"
    table.write_csv(csv)
    first = table.filter((pl.col("kind") == "generator") & (pl.col("scenario") == "01:00"))
    kw = 1000 * float(first["p_mw"].sum()) + 40.0
    res = runner.invoke(app, ["solve", str(path), "--scenarios", str(csv), "--out",
                              str(tmp_path / "out"), "--report"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "DER kW" in res.output
    line = next(x for x in res.output.splitlines() if "01:00" in x)
    assert f"{kw:.1f}" in line, line
    html = (tmp_path / "out" / "report.html").read_text()
    assert "DER output [kW]" in html and f"{kw:.1f}" in html
    # the Scenarios section says what a generator row sets
    assert "a scenario&#x27;s generator row" in html or "a scenario's generator row" in html
    assert "generating units set to their generator rows" in html


@pytest.mark.parametrize("kw", [-30.0, 0.0, 40.0])
def test_a_storage_row_is_its_output_in_opendss(tmp_path: Path, kw: float) -> None:
    """A storage unit's generator row is its terminal output in OpenDSS's check: charging
    through ``%charge`` (before, ``%discharge`` was set and it charged at 100 %, -100 kW),
    0 as discharging at 0 % (idling draws its 1 kW)."""
    path = tmp_path / "st.dss"
    path.write_text(feeder().replace("Set voltagebases", (
        "New Storage.s Bus1=a Phases=3 kV=12.47 kWrated=100 kWhrated=400 kWhstored=200 "
        "%idlingkw=1\nSet voltagebases")))
    net = load_three_phase(path)
    rows = scenario_rows(net, _gen_table([("n", "Storage.s", "generator", kw / 1000)]))
    scenario_opendss(net, rows, 0, None, set(), None)
    dss.Circuit.SetActiveElement("Storage.s")
    assert -sum(dss.CktElement.Powers()[0::2]) == pytest.approx(kw, abs=1e-4)


BATT = ("New LoadShape.batt npts=24 interval=1 mult=(0 0 0 0 0 0 0 0 0 -0.5 -1 -1 -1 -0.5 0 "
        "0 0 0.5 1 1 0.5 0 0 0)\n")


def _storage_output(tmp_path: Path, unit: str, kw: float, kvar: float = 0.0,
                    ) -> tuple[float, float, list[str]]:
    """OpenDSS's solved terminal output (kW, kvar) of ``Storage.s`` (written as ``unit``) in
    the check of a scenario whose generator row is ``(kw, kvar)``, and the check's warnings."""
    path = tmp_path / "st.dss"
    path.write_text(feeder().replace("Set voltagebases", BATT + unit + "\nSet voltagebases"))
    net = load_three_phase(path)
    table = _gen_table([("n", "Storage.s", "generator", kw / 1000)]).with_columns(
        pl.lit(kvar / 1000).alias("q_mvar"))
    rows = scenario_rows(net, table)
    sol = scenario_opendss(net, rows, 0, None, set(), None)
    assert sol.converged
    dss.Circuit.SetActiveElement("Storage.s")
    powers = dss.CktElement.Powers()
    return -sum(powers[0::2]), -sum(powers[1::2]), sol.warnings


@pytest.mark.parametrize("kw", [-30.0, 0.0, 40.0])
def test_a_follow_mode_storage_row_is_its_output_in_opendss(tmp_path: Path, kw: float) -> None:
    """In ``dispmode=follow`` OpenDSS takes a unit's output from its daily shape and ignores
    ``state``/``%charge``/``%discharge``: the old check put the unit at 0 kW (its shape's
    first point; its full 100 kW with ``state=discharging`` set) whatever the row. The check now
    switches it to the default dispatch mode, where the row is its output."""
    p, q, _ = _storage_output(tmp_path, (
        "New Storage.s Bus1=a Phases=3 kV=12.47 kWrated=100 kWhrated=400 kWhstored=200 "
        "%idlingkw=0 dispmode=follow daily=batt"), kw)
    assert p == pytest.approx(kw, abs=1e-3) and q == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("stored, kw, note", [
    (400.0, -30.0, "full"), (40.0, 40.0, "at its reserve"), (20.0, 40.0, "at its reserve")])
def test_a_storage_row_that_opendss_would_idle_is_its_output(tmp_path: Path, stored: float,
                                                             kw: float, note: str) -> None:
    """A full unit charged by its row, or one at (or below) its 10 % reserve discharged by it:
    OpenDSS idles it (0 kW, the old check) while the model takes the row. A scenario is a
    snapshot: the check puts the stored energy half way, and says so."""
    p, _, warnings = _storage_output(tmp_path, (
        f"New Storage.s Bus1=a Phases=3 kV=12.47 kWrated=100 kWhrated=400 "
        f"kWhstored={stored} %reserve=10 %idlingkw=0"), kw)
    assert p == pytest.approx(kw, abs=1e-3)
    assert any("Storage.s" in w and note in w for w in warnings), warnings


@pytest.mark.parametrize("kvar", [60.0, -60.0])
def test_a_storage_row_above_kvarmax_is_its_output(tmp_path: Path, kvar: float) -> None:
    """Reactive output above ``kvarMax`` (absorbing: ``kvarMaxAbs``), 20 kvar here, within the
    100 kVA rating: OpenDSS capped it at 20 kvar in the old check. The limit is raised to the
    row for the check, with a note."""
    p, q, warnings = _storage_output(tmp_path, (
        "New Storage.s Bus1=a Phases=3 kV=12.47 kWrated=100 kWhrated=400 kWhstored=200 "
        "%idlingkw=0 kvarmax=20 kvarmaxabs=20"), 40.0, kvar)
    assert p == pytest.approx(40.0, abs=0.05) and q == pytest.approx(kvar, abs=0.05)
    assert any("Storage.s" in w and "kvarMax" in w for w in warnings), warnings


def test_solve_notes_the_storage_rows_the_check_had_to_allow(tmp_path: Path) -> None:
    """``solve --scenarios`` says which storage rows OpenDSS's check set beyond the unit's file
    (here 60 kvar over a 20 kvar kvarMax), by scenario."""
    path = tmp_path / "st.dss"
    path.write_text(feeder().replace("Set voltagebases", (
        "New Storage.s Bus1=a Phases=3 kV=12.47 kWrated=100 kWhrated=400 kWhstored=200 "
        "%idlingkw=0 kvarmax=20 kvarmaxabs=20\nSet voltagebases")))
    table = _gen_table([("n", "Storage.s", "generator", 0.04),
                        ("m", "Storage.s", "generator", 0.01)]).with_columns(
        pl.Series("q_mvar", [0.06, 0.0]))
    out = solve_three_phase(path, scenarios=table, time_limit_s=30)
    (note,) = [n for n in out["notes"] if "storage row(s)" in n]
    assert note.startswith("1 storage row(s)") and "n: Storage.s's kvarMax" in note


def test_a_shape_without_points_is_warned_about(tmp_path: Path) -> None:
    """A unit's shape given as ``mult=`` without ``npts`` (Iowa 240's ``PVScaling1``) has no
    points in OpenDSS, whose daily mode holds the unit at its snapshot output: its rows say
    so, and the command warns instead of saying it follows its shape."""
    path = tmp_path / "nopts.dss"
    path.write_text(feeder().replace("Set voltagebases", (
        "New LoadShape.nopts mult=(0 0.5 1 0.5)\n"
        "New PVSystem.pv Bus1=b Phases=3 kV=12.47 irradiance=1 Pmpp=100 kVA=100 daily=nopts\n"
        "Set voltagebases")))
    shapes = daily_load_scenarios(path)
    assert shapes.unshaped_ders == ["PVSystem.pv"] == shapes.shaped_ders
    pv = shapes.table.filter(pl.col("element") == "PVSystem.pv")["p_mw"].to_list()
    snapshot = load_three_phase(path).generators["p_mw"].to_list()
    assert pv == pytest.approx([0.1] * 24, rel=1e-6) and snapshot == pytest.approx([0.1])
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily",
                              "-o", str(tmp_path / "n.csv")])
    assert res.exit_code == 0 and "without points" in res.output, res.output
    assert "follow it" not in res.output


def test_builtin_case_name_reads_its_daily_shapes(tmp_path: Path) -> None:
    """``feederopt scenarios iowa240 --load-shapes daily`` (the hint that the command gives
    for a three-phase case without the option) reads the built-in feeder's shapes: each
    hour's load rows are OpenDSS's daily mode of the built-in file (ut_docs #1: the case name
    was taken for a missing file in the working folder)."""
    from feederopt.cases.threephase import three_phase_case_path

    out = tmp_path / "day.csv"
    hint = runner.invoke(app, ["scenarios", "iowa240", "-o", str(out)])
    assert hint.exit_code == 2 and "--load-shapes daily" in hint.output
    res = runner.invoke(app, ["scenarios", "iowa240", "--load-shapes", "daily", "-o", str(out)])
    assert res.exit_code == 0, res.output
    table = pl.read_csv(out)
    truth = opendss_daily(three_phase_case_path("iowa240"), 24)
    for h in (1, 12, 19):
        rows = table.filter((pl.col("scenario") == f"{h:02d}:00") & (pl.col("kind") == "load"))
        assert rows.height == 192
        for ld, p in rows.select("element", "p_mw").iter_rows():
            kw = truth[h][ld][0]
            assert abs(p * 1000 - kw) <= 1e-3 * max(abs(kw), 1.0)
