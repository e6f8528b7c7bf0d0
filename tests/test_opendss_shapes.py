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

import math
import re
from collections.abc import Sequence
from pathlib import Path

import opendssdirect as dss
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_threephase import daily_scenarios, scenario_rows
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss_shapes import daily_load_scenarios

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
        rows = table.filter(pl.col("scenario") == f"{h:02d}:00")
        assert rows.height == 192
        for ld, p, q in rows.select("element", "p_mw", "q_mvar").iter_rows():
            kw, kvar = truth[h][ld]
            worst = max(worst, abs(p * 1000 - kw) / max(abs(kw), 1.0),
                        abs(q * 1000 - kvar) / max(abs(kw), 1.0))
    assert worst < 1e-3  # constant-power loads below OpenDSS's vminpu turn to impedances


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


def test_shaped_generation_is_named_as_not_followed(tmp_path: Path) -> None:
    """A PVSystem or Generator with a daily shape is not in the table (it would need bus
    rows): the scenarios command says so; before, every scenario silently held it at its
    snapshot output, also at night."""
    text = feeder().replace("Set voltagebases", "New Generator.g Bus1=b Phases=3 kV=12.47 "
                            "kW=200 pf=1 daily=pq\nSet voltagebases")
    path = tmp_path / "gen.dss"
    path.write_text(text)
    assert daily_load_scenarios(path).unshaped_ders == ["Generator.g"]
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily",
                              "-o", str(tmp_path / "g.csv")])
    assert res.exit_code == 0 and "Generator.g" in res.output and "not followed" in res.output


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
