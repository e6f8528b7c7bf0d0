"""Daily load shapes given as ``hour=(...)`` time arrays (OpenDSS's ``interval=0``) with
``mult=(...)``: an evenly spaced array is taken at its step, each step's load being what
OpenDSS's daily mode draws at that time (``LoadShape.GetMult``: the time wraps at the array's
last hour, a point at the time gives its value, others are interpolated); an unevenly spaced
one is refused with a typed problem naming the shape.

The truth is OpenDSS's own daily-mode solution run here with opendssdirect alone (no feederopt
code): each load's kW and kvar at every step of the day, at the shapes' step. The loads are
constant-power (``model=1``) on a stiff feeder, so they draw their setting at each step.
"""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss_shapes import daily_load_scenarios

runner = CliRunner()


def _arr(vals: list[float]) -> str:
    return "(" + " ".join(f"{v:g}" for v in vals) + ")"


def feeder(shapes: str, loads: str) -> str:
    return f"""Clear
New Circuit.hours bus1=src basekV=12.47 pu=1.0 phases=3 MVAsc3=2000 MVAsc1=2100
New Line.l1 Phases=3 Bus1=src Bus2=a r1=0.01 x1=0.03 r0=0.03 x0=0.09 length=1 units=kft
{shapes}
{loads}
Set voltagebases=[12.47]
Calcvoltagebases
Solve
"""


def opendss_daily(path: Path, step_h: float, steps: int
                  ) -> list[dict[str, tuple[float, float]]]:
    """OpenDSS's daily mode at step ``step_h``: per step k (time (k + 1) step_h, the solve
    advancing the clock first), each load's (kW, kvar)."""
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    dss.Text.Command(f"set mode=daily stepsize={step_h * 3600:g}s number=1")
    out: list[dict[str, tuple[float, float]]] = []
    for k in range(steps):
        start = round(k * step_h * 3600)
        dss.Solution.Hour(start // 3600)
        dss.Solution.Seconds(float(start % 3600))
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        per = {}
        for name in dss.Loads.AllNames():
            dss.Circuit.SetActiveElement(f"Load.{name}")
            pw = dss.CktElement.Powers()
            per[name] = (sum(pw[0::2]), sum(pw[1::2]))
        out.append(per)
    return out


def assert_rows_are_opendss(table: pl.DataFrame, path: Path, step_h: float, steps: int
                            ) -> None:
    assert table["scenario"].n_unique() == steps
    truth = opendss_daily(path, step_h, steps)
    names = table["scenario"].unique(maintain_order=True).to_list()
    for k, name in enumerate(names):
        rows = table.filter(pl.col("scenario") == name)
        for ld, p, q in rows.select("element", "p_mw", "q_mvar").iter_rows():
            assert p * 1000 == pytest.approx(truth[k][ld][0], rel=1e-6, abs=1e-4), (name, ld)
            assert q * 1000 == pytest.approx(truth[k][ld][1], rel=1e-6, abs=1e-4), (name, ld)


MULT24 = [0.3 + 0.7 * ((h * 7) % 24) / 23 for h in range(24)]
QMULT24 = [0.2 + 0.6 * ((h * 5) % 24) / 23 for h in range(24)]


def test_hourly_arrays_from_1_and_from_0_are_opendss_daily_mode(tmp_path: Path) -> None:
    """``hour=(1 ... 24)`` (with qmult) and ``hour=(0 ... 23)`` (OpenDSS wraps it at hour 23,
    so 24:00 reads hour 1), beside a fixed-interval shape and an actual-value time array:
    24 hourly scenarios, each load's kW and kvar as OpenDSS's daily mode draws them."""
    shapes = (
        f"New LoadShape.from1 npts=24 hour={_arr(list(range(1, 25)))} mult={_arr(MULT24)} "
        f"qmult={_arr(QMULT24)}\n"
        f"New LoadShape.from0 npts=24 hour={_arr(list(range(24)))} mult={_arr(MULT24[::-1])}\n"
        f"New LoadShape.fixed npts=24 interval=1 mult={_arr(QMULT24)}\n"
        f"New LoadShape.act npts=24 hour={_arr(list(range(1, 25)))} useactual=yes "
        f"mult={_arr([20 + 2 * m for m in range(24)])}")
    loads = (
        "New Load.l1 Bus1=a Phases=3 kV=12.47 kW=300 kvar=60 model=1 daily=from1\n"
        "New Load.l0 Bus1=a.1 Phases=1 kV=7.2 kW=100 kvar=30 model=1 daily=from0\n"
        "New Load.lf Bus1=a.2 Phases=1 kV=7.2 kW=80 kvar=20 model=1 daily=fixed\n"
        "New Load.la Bus1=a.3 Phases=1 kV=7.2 kW=50 kvar=10 model=1 daily=act")
    path = tmp_path / "hours.dss"
    path.write_text(feeder(shapes, loads))
    got = daily_load_scenarios(path)
    assert got.interval_h == 1.0 and got.horizon_h == 24.0
    assert_rows_are_opendss(got.table, path, 1.0, 24)
    # the wrap at the array's last hour: 24:00 of hour=(0 ... 23) is its hour-1 point
    at24 = got.table.filter((pl.col("scenario") == "24:00") & (pl.col("element") == "l0"))
    assert at24["p_mw"].item() * 1000 == pytest.approx(100 * MULT24[::-1][1])


def test_quarter_hour_array_is_a_quarter_hour_step(tmp_path: Path) -> None:
    """A shape in 0.25 h steps over 1.75 h, ``hour=(0 0.25 ... 1.75)``: the step is 0.25 h
    and the horizon the day (96 scenarios, ``00:15`` ... ``24:00``), each as OpenDSS's daily
    mode (which wraps the time at 1.75 h: 02:00 reads hour 0.25, 03:30 hour 0)."""
    hours = [0.25 * i for i in range(8)]
    mult = [0.5, 0.9, 0.7, 1.0, 0.4, 0.6, 0.8, 0.55]
    path = tmp_path / "quarter.dss"
    path.write_text(feeder(
        f"New LoadShape.q npts=8 hour={_arr(hours)} mult={_arr(mult)}",
        "New Load.lq Bus1=a Phases=3 kV=12.47 kW=200 kvar=50 model=1 daily=q"))
    got = daily_load_scenarios(path)
    assert got.interval_h == 0.25 and got.horizon_h == 24.0
    names = got.table["scenario"].to_list()
    assert names[0] == "00:15" and names[-1] == "24:00" and len(names) == 96
    assert_rows_are_opendss(got.table, path, 0.25, 96)


def test_an_array_read_before_its_first_hour_is_refused(tmp_path: Path) -> None:
    """``hour=(0.25 ... 2)`` wraps at 2 h, so 04:00 reads hour 0, before its first point
    (OpenDSS has no value there): refused naming the shape and the time."""
    path = tmp_path / "early.dss"
    path.write_text(feeder(
        f"New LoadShape.late npts=8 hour={_arr([0.25 * i for i in range(1, 9)])} "
        "mult=(0.5 0.9 0.7 1 0.4 0.6 0.8 0.55)",
        "New Load.ll Bus1=a Phases=3 kV=12.47 kW=200 kvar=50 model=1 daily=late"))
    with pytest.raises(InputError) as err:
        daily_load_scenarios(path)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO and problem.ids == ("late",)
    assert "load shape 'late' (hour=(0.25 0.5 0.75 1 1.25 1.5 ...); steps of 0.25 h) is " \
        "read before its first hour at 04:00" in problem.message


def test_unevenly_spaced_hours_are_refused_naming_the_shape(tmp_path: Path) -> None:
    """``hour=(0 1 3 4)`` has no one step: a ``bad_scenario`` problem naming the shape, and
    the CLI exits 2 with it."""
    path = tmp_path / "uneven.dss"
    path.write_text(feeder(
        "New LoadShape.gappy npts=4 hour=(0 1 3 4) mult=(0.1 0.2 0.3 0.4)",
        "New Load.lg Bus1=a Phases=3 kV=12.47 kW=200 kvar=50 model=1 daily=gappy"))
    with pytest.raises(InputError) as err:
        daily_load_scenarios(path)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.BAD_SCENARIO and problem.ids == ("gappy",)
    assert "load shape 'gappy' has unevenly spaced hours (hour=(0 1 3 4); steps of 1, 2 h)" \
        in problem.message
    res = runner.invoke(app, ["scenarios", str(path), "--load-shapes", "daily",
                              "-o", str(tmp_path / "s.csv")])
    assert res.exit_code == 2
    assert "bad_scenario: loadshapes [gappy].hour: load shape 'gappy' has unevenly spaced " \
        "hours" in res.output
