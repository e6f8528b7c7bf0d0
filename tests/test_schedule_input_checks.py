"""Bad schedule inputs found by a user test, each now a typed problem (exit 2) naming table,
element, field (and the hour for profiles) instead of a solver error (exit 1) or a silent
default: a NaN rating in a device table, an ``inf`` profile value, NaN and duplicate values
(now with their hour), a devices folder without any device table; ``--hours N`` with a profile
of exactly N hours runs (before: "missing hour(s) ... 24 hours")."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.network.timeseries import DeviceKind


def _builtin(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    folder, prof = schedule_paths("case33bw")
    dev = tmp_path / "dev"
    dev.mkdir()
    for k in DeviceKind:
        src = folder / f"{k.value}.csv"
        if src.is_file():
            shutil.copy(src, dev / src.name)
    return dev, pl.read_csv(prof, infer_schema_length=0)


def _problems(**kw) -> list:  # type: ignore[no-untyped-def, type-arg]
    with pytest.raises(InputError) as exc:
        schedule_inputs("case33bw", **kw)
    return exc.value.problems


def test_nan_device_rating_is_a_typed_problem(tmp_path: Path) -> None:
    dev, _ = _builtin(tmp_path)
    wind = pl.read_csv(dev / "wind.csv", infer_schema_length=0)
    wid = wind["id"][0]
    wind.with_columns(pl.when(pl.col("id") == wid).then(pl.lit("nan"))
                      .otherwise(pl.col("p_max_mw")).alias("p_max_mw")).write_csv(dev / "wind.csv")
    (p,) = _problems(devices=dev, hours=2)  # before: "the second-stage LP ended error", exit 1
    assert (p.kind, p.component, p.ids, p.field) == (ProblemKind.BAD_TIMESERIES,
                                                     "devices.wind", (wid,), "p_max_mw")


@pytest.mark.parametrize("value, words", [("inf", "not finite"), ("NaN", "not a number")])
def test_non_finite_profile_value_names_element_and_hour(tmp_path: Path, value: str,
                                                         words: str) -> None:
    _, df = _builtin(tmp_path)
    el = df["element"][5]
    hour = df["time"][5]
    df = df.with_row_index().with_columns(pl.when(pl.col("index") == 5).then(pl.lit(value))
                                          .otherwise(pl.col("value")).alias("value")).drop(
        "index")
    path = tmp_path / "p.csv"
    df.write_csv(path)
    (p,) = _problems(profiles=path)  # inf before: numpy warnings, "master ended infeasible"
    assert words in p.message and p.ids == (f"{el}@{hour}",) and p.field == "value"


def test_duplicate_profile_value_names_the_hour(tmp_path: Path) -> None:
    _, df = _builtin(tmp_path)
    row = df.slice(7, 1).with_columns(pl.lit("0.5").alias("value"))
    path = tmp_path / "p.csv"
    pl.concat([df, row]).write_csv(path)
    (p,) = _problems(profiles=path)
    assert p.ids == (f"{row['element'][0]}@{row['time'][0]}",)


def test_profile_of_exactly_the_horizon_runs(tmp_path: Path) -> None:
    _, df = _builtin(tmp_path)
    path = tmp_path / "p2.csv"
    df.filter(pl.col("time").cast(pl.Int64) < 2).write_csv(path)
    _, _, prof = schedule_inputs("case33bw", profiles=path, hours=2)
    assert prof.hours == 2
    with pytest.raises(InputError):  # 2 hours do not cover a horizon of 3
        schedule_inputs("case33bw", profiles=path, hours=3)
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path), "--hours",
                                 "2", "--no-ac-check", "--time-limit", "60"])
    assert r.exit_code == 0, r.output  # before: exit 2, "missing hour(s) ... 24 hours"


def test_devices_folder_without_device_tables(tmp_path: Path) -> None:
    dev, df = _builtin(tmp_path)
    loads_only = tmp_path / "loads.csv"
    df.filter(pl.col("element").str.contains(r"^\d+$")).write_csv(loads_only)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    shutil.copy(dev / "dg.csv", wrong / "generators.csv")
    (p,) = _problems(devices=wrong)  # before: accepted, no devices, no word
    assert p.kind is ProblemKind.UNKNOWN_FILE_TYPE and p.ids == ("generators.csv",)
    empty = tmp_path / "empty"
    empty.mkdir()
    notes: list[str] = []
    _, dev_, _ = schedule_inputs("case33bw", profiles=loads_only, devices=empty, notes=notes)
    assert not any(dev_.table(k).height for k in DeviceKind)
    assert len(notes) == 1 and "no device table" in notes[0]
