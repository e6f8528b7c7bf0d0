"""The profile table of ``feederopt schedule`` (user test ut33_sched #4, #6): a column the
schedule does not read is refused as in the device tables (``unknown_column``, exit 2); a
table shorter than the horizon says which ``--hours`` runs it; a price constant over the day
reads "30 $/MWh", not "30 to 30 $/MWh"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.timeseries import load_devices, load_profiles
from feederopt.network.timeseries import Profiles
from feederopt.problems.schedule import ScheduleSettings, price_notes

ENV = {"COLUMNS": "240"}


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    net = load("case33bw")
    folder, profiles = schedule_paths("case33bw")
    return net, load_devices(folder, net), pl.read_csv(profiles, infer_schema_length=0)


def test_an_unknown_profile_column_is_refused(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A ``unit`` column (``pu``) was read as if absent; a device table with such a column
    is refused (``unknown_column``), and now the profile table too."""
    net, devices, df = inputs
    with_unit = df.with_columns(pl.lit("pu").alias("unit"))
    with pytest.raises(InputError) as exc:
        load_profiles(with_unit, net, devices)
    (p,) = exc.value.problems
    assert p.kind is ProblemKind.UNKNOWN_COLUMN
    assert (p.component, p.field, p.ids) == ("profiles", "column", ("unit",))
    assert "time, element, value" in p.hint
    path = tmp_path / "p.csv"
    with_unit.write_csv(path)
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path)], env=ENV)
    assert r.exit_code == 2, r.output
    assert "unknown_column" in r.output and "'unit'" in r.output
    assert "Traceback" not in r.output
    # the table without the column is read as before
    assert load_profiles(df, net, devices).hours == 24


def test_a_shorter_table_names_the_hours_it_covers(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    net, devices, df = inputs
    twelve = df.filter(pl.col("time").cast(pl.Int64) < 12)
    with pytest.raises(InputError) as exc:
        load_profiles(twelve, net, devices, need_hours=24)
    (p,) = exc.value.problems
    assert "missing hour" in p.message and "--hours 12" in p.hint
    # the hint holds: the 12 hours are a valid horizon of 12
    assert load_profiles(twelve, net, devices, need_hours=12).hours == 12
    path = tmp_path / "p12.csv"
    twelve.write_csv(path)
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path)], env=ENV)
    assert r.exit_code == 2, r.output
    assert "--hours 12" in " ".join(r.output.split())
    # a gap inside the day is no shorter table: no such hint
    gap = df.filter(~((pl.col("time") == "5") & (pl.col("element") == "7")))
    with pytest.raises(InputError) as exc:
        load_profiles(gap, net, devices)
    assert "--hours" not in exc.value.problems[0].hint


def test_a_constant_price_reads_as_one_price() -> None:
    st = ScheduleSettings(hours=3)
    flat = Profiles(3, ["price"], np.full((3, 1), 30.0))
    (note,) = price_notes(flat, st)
    assert "30 $/MWh in each of the 3 h" in note and "30 to 30" not in note
    varied = Profiles(3, ["price"], np.array([[30.0], [45.0], [120.0]]))
    assert "30 to 120 $/MWh over the 3 h" in price_notes(varied, st)[0]


def test_a_whole_missing_hour_lists_ids_naturally_with_a_hint(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """User test ut49_sched #4: hour 5 removed for every element listed ``10: hour 5, 11:
    hour 5, ...`` (ids as strings; loads 2-9 never shown) and, with hour indices, no hint
    (with timestamps: "the table has no row at ... for any element")."""
    net, devices, df = inputs
    no5 = df.filter(pl.col("time").cast(pl.Int64) != 5)
    with pytest.raises(InputError) as exc:
        load_profiles(no5, net, devices)
    (p,) = exc.value.problems
    # the truth: the user's table's load ids (numbers; its PV/WT units named after them),
    # ordered by their number
    expected = sorted({e for e in no5["element"].to_list() if e.isdigit()}, key=int)
    assert expected[:3] == ["2", "3", "4"]
    assert [i.split(":")[0] for i in p.ids][:len(expected)] == expected
    assert p.ids[0] == f"{expected[0]}: hour 5"
    assert p.hint == "the table has no row at hour 5 for any element: add that hour's rows"
    # two whole hours: both named
    no57 = no5.filter(pl.col("time").cast(pl.Int64) != 7)
    with pytest.raises(InputError) as exc:
        load_profiles(no57, net, devices)
    assert exc.value.problems[0].hint == ("the table has no row at hours 5, 7 for any "
                                          "element: add those hours' rows")
    path = tmp_path / "no5.csv"
    no5.write_csv(path)
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path)], env=ENV)
    assert r.exit_code == 2, r.output
    out = " ".join(r.output.split())
    assert f"[{expected[0]}: hour 5, {expected[1]}: hour 5" in out
    assert "no row at hour 5 for any element" in out
