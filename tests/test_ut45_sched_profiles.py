"""The profile table of ``feederopt schedule`` as a DSO planner writes it (user test
ut45_sched): a load left out of the table is named in a note; a table numbered 1..24, a
15-minute table, a wide table, an id in the wrong case and blank spreadsheet rows get
hints that say what is wrong and how to fix it. The truth of each hint is checked by
following it: the table fixed as the hint says is read and equals the built-in table the
test started from (``src/feederopt/cases/data/schedule/case33bw/profiles.csv``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cases import load
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.io.timeseries import load_devices, load_profiles
from feederopt.network.timeseries import Profiles

ENV = {"COLUMNS": "240"}


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    net = load("case33bw")
    folder, profiles = schedule_paths("case33bw")
    return net, load_devices(folder, net), pl.read_csv(profiles, infer_schema_length=0)


def _rows(df: pl.DataFrame) -> dict[tuple[int, str], float]:
    """The built-in table's rows as (hour, element) -> value, read with no help of feederopt."""
    return {(int(t), str(e)): float(v) for t, e, v in df.select("time", "element", "value")
            .iter_rows()}


def _cells(prof: Profiles) -> dict[tuple[int, str], float]:
    return {(h, e): float(prof.values[h, j]) for j, e in enumerate(prof.elements)
            for h in range(prof.hours)}


def _text(s: str) -> str:
    return " ".join(s.split())


def test_a_load_left_out_of_the_table_is_named(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """#1: case33bw has the 32 loads 2..33 (the MATPOWER case's load buses); a table without
    load 18's rows profiles 31 of them, and a note names 18."""
    net, _, df = inputs
    assert sorted(net.loads["id"].to_list(), key=int) == [str(b) for b in range(2, 34)]
    path = tmp_path / "noload18.csv"
    df.filter(pl.col("element") != "18").write_csv(path)
    notes: list[str] = []
    schedule_inputs("case33bw", str(path), hours=1, notes=notes)
    (note,) = [n for n in notes if "keeps factor 1" in n]
    assert "31 of 32 loads have a profile" in note and "every hour: 18 (give their rows" in note
    # the built-in table profiles every load: no such note
    notes = []
    schedule_inputs("case33bw", hours=1, notes=notes)
    assert not [n for n in notes if "factor 1" in n]
    # a table of devices alone scales no load, as documented: no note either
    path2 = tmp_path / "devices_only.csv"
    df.filter(~pl.col("element").str.contains(r"^\d+$")).write_csv(path2)
    notes = []
    schedule_inputs("case33bw", str(path2), hours=1, notes=notes)
    assert not [n for n in notes if "factor 1" in n]
    # on the console and in the JSON notes
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path), "--hours", "1",
                                 "--time-limit", "5", "--no-ac-check", "--json", str(out)],
                           env=ENV)
    assert r.exit_code == 0, r.output
    assert _text(note) in _text(r.output)
    assert note in json.loads(out.read_text())["notes"]


def test_a_table_numbered_from_one_is_diagnosed(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """#2: the built-in table with every time plus one (hours 1..24) is refused (hour 24 is
    outside the day, hour 0 missing) with a hint to subtract 1; the table with 1 subtracted
    is the built-in one again."""
    net, devices, df = inputs
    shifted = df.with_columns((pl.col("time").cast(pl.Int64) + 1).cast(pl.String))
    with pytest.raises(InputError) as exc:
        load_profiles(shifted, net, devices)
    problems = exc.value.problems
    assert {p.field for p in problems} == {"time"} and len(problems) == 2
    for p in problems:
        assert "every element has the hours 1..24" in p.hint and "subtract 1" in p.hint
    back = shifted.with_columns((pl.col("time").cast(pl.Int64) - 1).cast(pl.String))
    assert _cells(load_profiles(back, net, devices)) == _rows(df)
    # a table of 12 hours numbered 1..12 (against --hours 12): the same hint
    twelve = shifted.filter(pl.col("time").cast(pl.Int64) <= 12)
    with pytest.raises(InputError) as exc:
        load_profiles(twelve, net, devices, need_hours=12)
    (p,) = exc.value.problems
    assert "every element has the hours 1..12" in p.hint and "0..11" in p.hint
    # hour 0 missing for one element only: no such hint (not every element is one-based)
    gap = df.filter(~((pl.col("time") == "0") & (pl.col("element") == "7")))
    with pytest.raises(InputError) as exc:
        load_profiles(gap, net, devices)
    assert "numbered from 1" not in exc.value.problems[0].hint
    path = tmp_path / "h1_24.csv"
    shifted.write_csv(path)
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path)], env=ENV)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "subtract 1" in _text(r.output)


def test_profiles_on_a_built_in_case_say_they_replace_its_table(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """#3: ``--profiles`` with a case's built-in devices replaces its built-in table; a table
    of the user's own loads 18, 25, 33 and PV10 leaves the other PV, wind and EV units
    without one. The hint names the built-in table's path, which holds their rows: with
    them copied in, the table is read, and the note on the loads left out says it too."""
    _, _, df = inputs
    mine = df.filter(pl.col("element").is_in(["18", "25", "33", "PV10"]))
    path = tmp_path / "own.csv"
    mine.write_csv(path)
    with pytest.raises(InputError) as exc:
        schedule_inputs("case33bw", str(path), hours=2)
    (p,) = exc.value.problems
    assert set(p.ids) == {"PV20", "PV28", "WT11", "WT19", "WT26", "EV6", "EV12", "EV17",
                          "EV24", "EV33"}
    assert "replaces the built-in profile table of case33bw" in p.hint
    builtin = Path(p.hint.split("the built-in table is ")[1].split(": copy")[0])
    table = pl.read_csv(builtin, infer_schema_length=0)
    assert set(p.ids) <= set(table["element"].to_list())
    # following the hint: the units' rows copied from the table named
    fixed = pl.concat([mine, table.filter(pl.col("element").is_in(list(p.ids)))])
    fixed.write_csv(path)
    notes: list[str] = []
    schedule_inputs("case33bw", str(path), hours=2, notes=notes)
    (note,) = [n for n in notes if "factor 1" in n]
    assert "3 of 32 loads have a profile" in note and "replaces the built-in" in note
    # a folder of devices of one's own: no built-in table is replaced, and the hint says what
    # the rows hold instead
    folder, _ = schedule_paths("case33bw")
    with pytest.raises(InputError) as exc:
        schedule_inputs("case33bw", mine, str(folder), hours=2)
    (p,) = exc.value.problems
    assert "replaces" not in p.hint and "0..1" in p.hint
    # the CLI's help says it, with the folder of the built-in tables
    r = CliRunner().invoke(app, ["schedule", "--help"], env=ENV)
    flat = "".join(r.output.split())
    assert "--profilesreplacesentirely" in flat
    assert "feederopt/cases/data/schedule/<case>/profiles.csv" in flat
    assert builtin.parts[-6:] == ("feederopt", "cases", "data", "schedule", "case33bw",
                                  "profiles.csv")


def _quarter_hours(df: pl.DataFrame, stamps: bool) -> pl.DataFrame:
    """The built-in table at 15 minutes: each hour's value four times, at hh:00, hh:15,
    hh:30 and hh:45 (timestamps of 29 Nov 2026, or hour indices h, h.25, h.5, h.75)."""
    t0 = datetime(2026, 11, 29)
    rows = [((t0 + timedelta(minutes=15 * q)).strftime("%Y-%m-%d %H:%M") if stamps
             else str(q / 4), e, v)
            for t, e, v in df.select("time", "element", "value").iter_rows()
            for q in range(4 * int(t), 4 * int(t) + 4)]
    return pl.DataFrame(rows, schema=["time", "element", "value"], orient="row")


@pytest.mark.parametrize("stamps", [True, False])
def test_a_quarter_hour_table_gets_the_lines_that_average_it(inputs, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            stamps: bool) -> None:
    """#4: a 15-minute table is refused (the step is one hour) with a hint that says so and
    gives the pandas lines that average each hour; run as written, they give a table that is
    read and equals the hourly one (each hour's four equal values average to it)."""
    net, devices, df = inputs
    path = tmp_path / "q15.csv"
    _quarter_hours(df, stamps).write_csv(path)
    with pytest.raises(InputError) as exc:
        load_profiles(path, net, devices)
    (p,) = exc.value.problems
    assert p.field == "time" and "a 15-minute table" in p.hint and "4 values" in p.hint
    code = p.hint.split("(pandas: ")[1][:-1]
    frame = pd.read_csv(path)
    scope = {"pd": pd, "df": frame}
    exec(code, scope)  # the hint's own lines
    fixed = tmp_path / "hourly.csv"
    scope["df"].to_csv(fixed, index=False)
    prof = load_profiles(fixed, net, devices)
    assert _cells(prof) == pytest.approx(_rows(df))
    # the CLI: exit 2, the hint, no traceback
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path), "--hours",
                                 "2"], env=ENV)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "a 15-minute table" in _text(r.output)
    # times 20 minutes apart then 40 are no even step: no such hint
    odd = pl.DataFrame({"time": ["2026-11-29 00:00", "2026-11-29 00:20", "2026-11-29 01:00"],
                        "element": ["2", "2", "2"], "value": ["1", "1", "1"]})
    with pytest.raises(InputError) as exc:
        load_profiles(odd, net, devices, need_hours=1)
    assert "minute table" not in exc.value.problems[0].hint


def test_a_wide_table_gets_the_line_that_melts_it(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """#5: the built-in table laid out wide (``Time`` and one column per element, ``PV10``
    as written) is one problem, the wide form, named with the file's spelling, whose hint's
    pandas line, run as written, gives the long table back; a column the schedule does not
    read is named as the file spells it (``Unit``, not ``unit``)."""
    net, devices, df = inputs
    els = sorted(set(df["element"].to_list()), key=lambda e: (not e.isupper(), e))
    cell = {(int(t), e): v for t, e, v in df.select("time", "element", "value").iter_rows()}
    wide = pl.DataFrame([[str(h), *(cell[h, e] for e in els)] for h in range(24)],
                        schema=["Time", *els], orient="row")
    path = tmp_path / "wide.csv"
    wide.write_csv(path)
    with pytest.raises(InputError) as exc:
        load_profiles(path, net, devices)
    (p,) = exc.value.problems
    assert "the table is wide, 'Time'" in p.message and "'EV12'" in p.message
    assert "ev12" not in p.message
    code = p.hint.split("pandas: ")[1]
    scope = {"df": pd.read_csv(path)}
    exec(code, scope)  # the hint's own line
    fixed = tmp_path / "long.csv"
    scope["df"].to_csv(fixed, index=False)
    assert _cells(load_profiles(fixed, net, devices)) == pytest.approx(_rows(df))
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path)], env=ENV)
    assert r.exit_code == 2 and "Traceback" not in r.output and "df.melt(" in r.output
    # a wide table with a column that is no element: no melt hint, the columns as spelt
    odd = wide.with_columns(pl.lit("pu").alias("Unit"))
    odd.write_csv(path)
    with pytest.raises(InputError) as exc:
        load_profiles(path, net, devices)
    unknown = next(p for p in exc.value.problems if p.field == "column")
    assert "'Unit'" in unknown.message and "'PV10'" in unknown.message
    assert "'unit'" not in unknown.message and "'pv10'" not in unknown.message
    assert not any("melt" in p.hint for p in exc.value.problems)


def test_an_element_in_the_wrong_case_is_one_problem_with_the_id_meant(inputs,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    """#6: ``pv10`` for the PV unit ``PV10`` (case33bw's pv.csv, read here by polars) is one
    problem, whose hint names PV10 and the PV, wind and EV ids, not also "PV10 needs a
    profile"; with the case fixed the table is the built-in one."""
    net, devices, df = inputs
    folder, _ = schedule_paths("case33bw")
    pv_ids = pl.read_csv(folder / "pv.csv", infer_schema_length=0)["id"].to_list()
    assert "PV10" in pv_ids
    lower = df.with_columns(pl.col("element").replace({"PV10": "pv10"}))
    with pytest.raises(InputError) as exc:
        load_profiles(lower, net, devices)
    (p,) = exc.value.problems
    assert p.ids == ("pv10",) and p.field == "element"
    assert "pv10: did you mean PV10?" in p.hint
    assert all(i in p.hint for i in pv_ids[:3])
    fixed = lower.with_columns(pl.col("element").replace({"pv10": "PV10"}))
    assert _cells(load_profiles(fixed, net, devices)) == pytest.approx(_rows(df))
    path = tmp_path / "lower.csv"
    lower.write_csv(path)
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--profiles", str(path), "--hours",
                                 "1"], env=ENV)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "did you mean PV10?" in _text(r.output) and "need a profile" not in r.output
    # an element that means nothing keeps the other problem: PV10 still needs a profile
    other = df.with_columns(pl.col("element").replace({"PV10": "PVX"}))
    with pytest.raises(InputError) as exc:
        load_profiles(other, net, devices)
    assert {p.message.split(" (")[0] for p in exc.value.problems} == {
        "unknown element", "PV, wind and EV units need a profile"}


def test_empty_rows_at_the_end_are_left_out_with_a_note(inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """#7: two ``,,`` rows after the built-in table's 1032 data rows (43 elements x 24 h) are
    left out with a note naming them (rows 1033..1034), and the table is the built-in one;
    an empty row inside the table is still refused, by its row."""
    net, devices, df = inputs
    assert df.height == 1032
    path = tmp_path / "blank.csv"
    df.write_csv(path)
    with path.open("a") as f:
        f.write(",,\n , ,\n")
    prof = load_profiles(path, net, devices)
    assert _cells(prof) == pytest.approx(_rows(df))
    notes: list[str] = []
    schedule_inputs("case33bw", str(path), hours=1, notes=notes)
    (note,) = [n for n in notes if "empty row" in n]
    assert "ends with 2 empty row(s)" in note and "1033..1034" in note
    inside = tmp_path / "inside.csv"
    lines = path.read_text().splitlines()
    inside.write_text("\n".join([lines[0], ",,", *lines[1:-2]]) + "\n")
    with pytest.raises(InputError) as exc:
        load_profiles(inside, net, devices)
    assert any("row 1" in p.ids for p in exc.value.problems)
    # its value is named by its row, not as "element@hour:  empty" with neither
    (value,) = [p for p in exc.value.problems if p.field == "value"]
    assert "(element@hour: row 1 empty)" in value.message and value.ids == ("row 1",)
