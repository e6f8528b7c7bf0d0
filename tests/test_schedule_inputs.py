"""Issue 18: the time-series inputs of a schedule are validated like every other input: a missing
hour, a negative profile, an unknown element and a non-hourly step are typed problems, and the
CLI exits with code 2 without a traceback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.timeseries import load_devices, load_profiles
from feederopt.network.timeseries import DeviceKind


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    net = load("case33bw")
    folder, profiles = schedule_paths("case33bw")
    devices = load_devices(folder, net)
    return net, devices, pl.read_csv(profiles, infer_schema_length=0)


def _problems(net, devices, df):  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as exc:
        load_profiles(df, net, devices)
    return exc.value.problems


def test_builtin_profiles_are_valid_and_complete(inputs) -> None:  # type: ignore[no-untyped-def]
    net, devices, df = inputs
    prof = load_profiles(df, net, devices)
    assert prof.hours == 24
    # every load, PV, wind and EV unit of the seed's placement has 24 hourly values
    expected = set(net.loads["id"].to_list()) | {
        i for k in (DeviceKind.PV, DeviceKind.WIND, DeviceKind.EV) for i in devices.ids(k)}
    assert set(prof.elements) == expected
    assert devices.ids(DeviceKind.DG) == ["DG6", "DG14", "DG32"]
    assert sorted(devices.table(DeviceKind.ESS)["bus"].to_list()) == ["14", "32", "6"]
    assert (prof.values >= 0).all()


def test_missing_hour(inputs) -> None:  # type: ignore[no-untyped-def]
    net, devices, df = inputs
    bad = df.filter(~((pl.col("time") == "5") & (pl.col("element") == "7")))
    (p,) = _problems(net, devices, bad)
    assert p.kind is ProblemKind.BAD_TIMESERIES and p.field == "time"
    assert p.ids == ("7: hour 5",)


def test_negative_value_and_unknown_element(inputs) -> None:  # type: ignore[no-untyped-def]
    net, devices, df = inputs
    # one negative value, at hour 7: the problem names the element and the hour (ut_sched2 #7:
    # before, the element alone)
    bad = df.with_columns(pl.when((pl.col("element") == "PV10") & (pl.col("time") == "7"))
                          .then(pl.lit("-0.2")).otherwise(pl.col("value")).alias("value"))
    bad = pl.concat([bad, pl.DataFrame({"time": ["0"], "element": ["nowhere"],
                                        "value": ["1"]})])
    probs = _problems(net, devices, bad)
    by_field = {(p.field, p.ids) for p in probs}
    assert ("value", ("PV10@7",)) in by_field
    assert ("element", ("nowhere",)) in by_field
    assert all(p.kind is ProblemKind.BAD_TIMESERIES for p in probs)


def test_non_hourly_step(inputs) -> None:  # type: ignore[no-untyped-def]
    net, devices, df = inputs
    stamps = pl.DataFrame({"time": ["2024-01-01T00:00", "2024-01-01T00:30"],
                           "element": ["2", "2"], "value": ["1", "1"]})
    probs = _problems(net, devices, stamps)
    assert any(p.field == "time" and "one hour" in p.message for p in probs)
    halves = df.with_columns((pl.col("time").cast(pl.Float64) / 2).cast(pl.String)
                             .alias("time"))
    probs = _problems(net, devices, halves)
    assert any(p.field == "time" and "whole hours" in p.message for p in probs)


def test_cli_exit_2_on_bad_profiles(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, df = inputs
    bad = tmp_path / "bad.csv"
    df.filter(pl.col("time") != "23").write_csv(bad)
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(bad)])
    assert res.exit_code == 2, res.output
    assert "bad_timeseries" in res.output and "missing hour" in res.output
    assert "Traceback" not in res.output


def test_a_share_above_one_and_a_time_outside_the_day_name_their_hours(
        inputs) -> None:  # type: ignore[no-untyped-def]
    """User test ut_sched3 #6: a PV factor of 1.7 at hour 5 named the element alone, and a
    time outside the day called the day "the horizon" whatever --hours said."""
    net, devices, df = inputs
    bad = df.with_columns(pl.when((pl.col("element") == "PV20") & (pl.col("time") == "5"))
                          .then(pl.lit("1.7")).otherwise(pl.col("value")).alias("value"))
    bad = pl.concat([bad, pl.DataFrame({"time": ["-1"], "element": ["PV20"],
                                        "value": ["0.5"]})])
    probs = {p.field: p for p in _problems(net, devices, bad)}
    assert probs["value"].ids == ("PV20@5",) and "<= 1" in probs["value"].message
    assert probs["time"].ids == ("PV20@-1",) and "day's hours 0..23" in probs["time"].message
