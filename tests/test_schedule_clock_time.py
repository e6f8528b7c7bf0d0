"""User test ut37_errs2 #7 and the 06:00 start: profile tables with clock time.

* A 25-hour day (27 Oct 2024 in Europe/Berlin, timestamps with their UTC offsets): ``--hours
  24`` schedules its first 24 hours, as documented ("--hours N schedules the first N hours of
  the profiles"), with a note naming the hour left out; without ``--hours`` the refusal says
  how to run it. Before, "time outside the day's hours 0..23" in both cases, no hint.
* A table whose timestamps start at 06:00: a note says which clock time hour 0 is, the result
  records it (``inputs.profile_start``, ``inputs.profile_times``) and the report labels its
  hour axis with the clock time. Before, the hours were renumbered 0..23 without a word.

Truth: the calendar (``zoneinfo``: the hours of that day, their offsets, which one repeats)
and the tables' own rows (each hour's factor is unique, so the hour read is identified).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule, schedule_inputs
from feederopt.cli import app
from feederopt.errors import InputError
from netbuild import write_base4

LOADS = {"dA": ("A", 0.5, 0.2), "dB": ("B", 0.8, 0.3), "dC": ("C", 0.3, 0.1)}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tester's 4-bus feeder (base4): one loop, tie C-B open, three loads."""
    return write_base4(tmp_path_factory.mktemp("base4"), LOADS)


def _write(path: Path, stamps: list[str]) -> Path:
    """One row per load and timestamp; the factor of the k-th timestamp is 0.5 + 0.01 k, so
    each hour's value tells which row it was read from."""
    rows = [(t, e, f"{0.5 + 0.01 * k:.2f}") for k, t in enumerate(stamps) for e in LOADS]
    pl.DataFrame(rows, schema=["time", "element", "value"], orient="row").write_csv(path)
    return path


def _fall_day() -> list[str]:
    """The local hours of 27 Oct 2024 in Berlin, one hour apart in UTC: 25 of them."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2024, 10, 26, 22, tzinfo=UTC)  # 00:00+02:00
    out = []
    t = start
    while (local := t.astimezone(berlin)).date().day == 27:
        out.append(local.isoformat(timespec="minutes"))
        t += timedelta(hours=1)
    return out


def test_the_fall_day_has_25_hours_and_one_repeats() -> None:  # the calendar, checked
    day = _fall_day()
    assert len(day) == 25
    assert day[2] == "2024-10-27T02:00+02:00" and day[3] == "2024-10-27T02:00+01:00"


def test_hours_24_schedules_the_first_24_hours_of_a_25_hour_day(net: Path,
                                                                 tmp_path: Path) -> None:
    day = _fall_day()
    path = _write(tmp_path / "fall.csv", day)
    notes: list[str] = []
    _, _, prof = schedule_inputs(str(net), str(path), None, 24, notes)
    assert prof.hours == 24
    # hour h is the h-th instant: 02:00+02:00 is hour 2, 02:00+01:00 hour 3 (0.53)
    assert prof.of("dA").round(2).tolist() == [round(0.5 + 0.01 * k, 2) for k in range(24)]
    assert prof.start == day[0] and prof.clock[3] == "2024-10-27T02:00+01:00"
    assert prof.left_out == (day[24],)
    left = [n for n in notes if "left out" in n]
    assert len(left) == 1 and "25-hour day" in left[0] and "2024-10-27 23:00+01:00" in left[0]


def test_a_25_hour_day_without_hours_is_refused_with_the_way_to_run_it(net: Path,
                                                                      tmp_path: Path) -> None:
    path = _write(tmp_path / "fall.csv", _fall_day())
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(net), str(path))
    (p,) = exc.value.problems
    assert "25-hour day (DST): pass --hours 24" in p.hint and "merge the repeated hour" in p.hint
    assert "2024-10-27T02:00+01:00, 2024-10-27T02:00+02:00" in p.hint  # the repeated hour
    res = CliRunner().invoke(app, ["schedule", str(net), "--profiles", str(path)])
    assert res.exit_code == 2 and "--hours 24" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["schedule", str(net), "--profiles", str(path),
                                   "--hours", "25"])
    out = " ".join(res.output.split())  # the hint holds for any table (ut51_sched #2)
    assert res.exit_code == 2 and "--hours 24 for the whole day" in out
    assert "25-hour day's table, the change to winter time, then runs its first 24 hours" in out


def test_a_25_hour_day_runs_with_hours_24(net: Path, tmp_path: Path) -> None:
    day = _fall_day()
    path = _write(tmp_path / "fall.csv", day)
    res = schedule(str(net), profiles=str(path), hours=24, ac_check=False)
    assert res.hours == 24
    assert res.inputs["profile_times"] == day[:24]
    assert any("the last hour was left out: 2024-10-27 23:00+01:00" in n for n in res.notes)


def test_a_day_from_0600_names_its_clock_time(net: Path, tmp_path: Path) -> None:
    stamps = [(datetime(2024, 6, 1, 6) + timedelta(hours=h)).isoformat() for h in range(24)]
    path = _write(tmp_path / "s06.csv", stamps)
    notes: list[str] = []
    _, _, prof = schedule_inputs(str(net), str(path), None, None, notes)
    assert prof.of("dB")[0] == pytest.approx(0.5)  # hour 0 is the 06:00 row
    assert any("hour 0 = 2024-06-01 06:00" in n and "hour 23 = 2024-06-02 05:00" in n
               for n in notes)
    out, js = tmp_path / "out", tmp_path / "s06.json"
    res = CliRunner().invoke(app, ["schedule", str(net), "--profiles", str(path), "--json",
                                   str(js), "--out", str(out), "--no-ac-check"])
    assert res.exit_code == 0, res.output
    assert "hour 0 = 2024-06-01 06:00" in res.output
    doc = json.loads(js.read_text())
    assert doc["inputs"]["profile_start"] == "2024-06-01T06:00"
    assert doc["inputs"]["profile_times"][23] == "2024-06-02T05:00"
    assert "2024-06-01 06:00 (hour 23 = 2024-06-02 05:00)" in (out / "report.html").read_text()
    from feederopt.report.schedule import hourly_figure

    fig = hourly_figure(doc)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "0\n06:00" and "hour 0 = 2024-06-01 06:00" in ax.get_xlabel()


def test_hour_indices_keep_no_clock_time(net: Path, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    pl.DataFrame([(str(h), e, "0.8") for h in range(24) for e in LOADS],
                 schema=["time", "element", "value"], orient="row").write_csv(path)
    notes: list[str] = []
    _, _, prof = schedule_inputs(str(net), str(path), None, None, notes)
    assert prof.start is None and prof.clock == ()
    assert not any("hour 0 =" in n for n in notes)


# ----- a 23-hour day with naive timestamps (user test ut39_sched #2) --------------------------
def _spring_day() -> list[datetime]:
    """The local hours of 31 Mar 2024 in Berlin (the change to summer time), one hour apart in
    UTC: 23 of them, 02:00 skipped."""
    berlin = ZoneInfo("Europe/Berlin")
    t = datetime(2024, 3, 30, 23, tzinfo=UTC)  # 00:00+01:00
    out = []
    while (local := t.astimezone(berlin)).date().day == 31:
        out.append(local)
        t += timedelta(hours=1)
    return out


SPRING_HINT = ("timestamps without UTC offset skip 02:00 on 2024-03-31: a change to summer "
               "time? give UTC offsets, or hour indices 0..22, with --hours 23")


def test_the_spring_day_has_23_hours_and_skips_0200() -> None:  # the calendar, checked
    day = _spring_day()
    assert len(day) == 23 and [t.hour for t in day[:3]] == [0, 1, 3]


@pytest.mark.parametrize("hours", [23, None])
def test_a_23_hour_day_with_naive_timestamps_hints_at_summer_time(
        net: Path, tmp_path: Path, hours: int | None) -> None:
    """Before: "missing hour(s) ... hour 2" with no hint (ut39_sched, day23_naive.csv)."""
    naive = [t.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
             for t in _spring_day()]
    path = _write(tmp_path / "spring.csv", naive)
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(net), str(path), None, hours)
    (p,) = exc.value.problems
    assert "missing hour(s)" in p.message and p.hint == SPRING_HINT
    args = ["schedule", str(net), "--profiles", str(path), "--no-ac-check"]
    res = CliRunner().invoke(app, [*args, *(["--hours", str(hours)] if hours else [])])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert " ".join(SPRING_HINT.split()) in " ".join(res.output.split())
    # the two ways the hint gives run: the UTC offsets, and hour indices 0..22 with --hours 23
    aware = _write(tmp_path / "aware.csv", [t.isoformat(timespec="minutes")
                                            for t in _spring_day()])
    _, _, prof = schedule_inputs(str(net), str(aware), None, 23)
    assert prof.of("dA").round(2).tolist() == [round(0.5 + 0.01 * k, 2) for k in range(23)]
    idx = _write(tmp_path / "idx.csv", [str(h) for h in range(23)])
    assert schedule_inputs(str(net), str(idx), None, 23)[2].hours == 23


def test_three_naive_hours_skipping_one_get_the_hint_not_a_shorter_horizon(
        net: Path, tmp_path: Path) -> None:
    """Before: 00:00, 01:00, 03:00 with --hours 3 suggested --hours 2 (dropping 03:00)."""
    path = _write(tmp_path / "three.csv", ["2024-03-31 00:00", "2024-03-31 01:00",
                                           "2024-03-31 03:00"])
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(net), str(path), None, 3)
    (p,) = exc.value.problems
    assert p.hint == ("timestamps without UTC offset skip 02:00 on 2024-03-31: a change to "
                      "summer time? give UTC offsets, or hour indices 0..2, with --hours 3")


def test_a_naive_table_missing_two_hours_gets_no_summer_time_hint(net: Path,
                                                                  tmp_path: Path) -> None:
    stamps = [f"2024-06-01 {h:02d}:00" for h in range(24) if h not in (2, 3)]
    path = _write(tmp_path / "gap2.csv", stamps)
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(net), str(path), None, 22)
    (p,) = exc.value.problems
    assert "missing hour(s)" in p.message and "summer time" not in p.hint
