"""User test ut47_sched #2 and #4: the profile table's time column, the user's own files
(tests/data/ut47_sched, copied from the tester's prof/ folder).

#2: naive timestamps from 2024-06-01 00:00 with hour 7 left out were told "a change to summer
time?"; the summer-time hint is now kept for a hole where a clock changes (01:00-03:00 in
March/April or September-November: the days are taken from the IANA time zone database,
``zoneinfo``), any other is a plain missing hour. #4: time 0, 2, ..., 46 was "outside the
day's hours" with the hint "--hours 1"; it is now a 2-hour step where hourly ones are needed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cli import app
from feederopt.errors import InputError
from netbuild import write_base4

DATA = Path(__file__).parent / "data" / "ut47_sched"
LOADS = {"dA": ("A", 0.2, 0.1), "dB": ("B", 0.3, 0.15), "dC": ("C", 0.25, 0.1)}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-bus feeder: one loop, tie C-B open, three loads."""
    return write_base4(tmp_path_factory.mktemp("base4"), LOADS)


def _write(path: Path, stamps: list[str]) -> Path:
    rows = [(t, e, "0.5") for t in stamps for e in LOADS]
    pl.DataFrame(rows, schema=["time", "element", "value"], orient="row").write_csv(path)
    return path


def _naive_local_day(zone: str, day: datetime) -> list[str]:
    """The local wall-clock hours of ``day`` in ``zone``, one UTC hour apart, without offset
    (the change to summer time leaves one out)."""
    tz = ZoneInfo(zone)
    t = day.replace(tzinfo=tz).astimezone(UTC)
    out = []
    while (local := t.astimezone(tz)).date() == day.date():
        out.append(local.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes"))
        t += timedelta(hours=1)
    return out


def _hint(net: Path, path: Path, hours: int) -> str:
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(net), str(path), None, hours)
    (p,) = exc.value.problems
    assert "missing hour(s)" in p.message
    return p.hint or ""


@pytest.mark.parametrize(("zone", "day"), [
    ("Europe/Berlin", datetime(2024, 3, 31)),  # EU: last Sunday of March
    ("America/New_York", datetime(2024, 3, 10)),  # US: second Sunday of March
    ("Australia/Sydney", datetime(2024, 10, 6)),  # first Sunday of October
])
def test_a_real_clock_change_keeps_the_summer_time_hint(net: Path, tmp_path: Path, zone: str,
                                                        day: datetime) -> None:
    stamps = _naive_local_day(zone, day)
    assert len(stamps) == 23 and "02:00" not in " ".join(stamps)  # the calendar's truth
    hint = _hint(net, _write(tmp_path / "d.csv", stamps), 23)
    assert f"skip 02:00 on {day:%Y-%m-%d}: a change to summer time?" in hint


@pytest.mark.parametrize(("day", "hole"), [
    (datetime(2024, 6, 1), 7),  # the tester's: no clock changes in June
    (datetime(2024, 6, 2), 2),  # a Sunday at 02:00, but in June
    (datetime(2024, 3, 31), 7),  # the EU's day, but 07:00
])
def test_any_other_hole_is_a_plain_missing_hour(net: Path, tmp_path: Path, day: datetime,
                                                hole: int) -> None:
    for zone in ("Europe/Berlin", "America/New_York", "Australia/Sydney"):  # no clock skips it
        assert f"{day:%Y-%m-%d} {hole:02d}:00" in _naive_local_day(zone, day)
    stamps = [f"{day:%Y-%m-%d} {h:02d}:00" for h in range(24) if h != hole]
    hint = _hint(net, _write(tmp_path / "d.csv", stamps), 24)
    assert "summer time" not in hint
    assert f"{day:%Y-%m-%d} {hole:02d}:00 (hour {hole})" in hint


def test_the_testers_gap_file(tmp_path: Path) -> None:
    times = pl.read_parquet(DATA / "ts_gap.parquet")["time"].unique().sort().to_list()
    assert len(times) == 23 and datetime(2024, 6, 1, 7) not in times  # the file's truth
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles",
                                   str(DATA / "ts_gap.parquet"), "--no-ac-check"])
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "missing hour(s)" in out and "summer time" not in out
    assert "no row at 2024-06-01 07:00 (hour 7)" in out


def test_two_hour_steps_are_named(tmp_path: Path) -> None:
    times = sorted(set(pl.read_csv(DATA / "step2.csv")["time"].to_list()))
    assert times == list(range(0, 48, 2))  # the file's truth: 24 rows 2 hours apart
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles",
                                   str(DATA / "step2.csv"), "--no-ac-check"])
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "time steps are 2 hours apart (time 0, 2, 4, 6, ..., 46)" in out
    assert "hourly steps" in out
    assert "--hours 1" not in out and "outside the day's hours" not in out


def test_two_hour_timestamps_are_named(net: Path, tmp_path: Path) -> None:
    stamps = [f"2024-06-01 {h:02d}:00" for h in range(0, 24, 2)]
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(net), str(_write(tmp_path / "t.csv", stamps)), None, None)
    (p,) = exc.value.problems
    assert "time steps are 2 hours apart (hours since the first timestamp" in p.message
