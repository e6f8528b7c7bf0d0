"""Schedule inputs, user test ut34_schedule findings 1, 2, 4 and 5 (tests/data/ut34_schedule: the
user's 7-bus pandapower feeder with a DG, a storage unit, a PV unit and an EV station).

* 1: a profile row for a fossil DG or storage unit (``h,DG1,0.5``) was read and ignored: the
  run ended with exit 0 and the same dispatch. Only loads, the network's generators, PV, wind,
  EV and ``price`` take profiles; a row for a DG or ESS id is a ``bad_timeseries`` problem
  naming the id, exit 2.
* 2: ``--uncertain-buses 0,1`` (the substation and a bus without load) ran a robust schedule
  with 0 deviations, its worst case the forecast, without a word. A named bus whose load
  cannot deviate is an error naming it, with the buses that carry load in the hint; the
  buses with load are read from the pandapower file itself.
* 4: a bad ``time`` (``x`` in one row) was reported as ``profiles [0, 0, 0, 0, 0].time``: the
  first five values that are not timestamps, valid hours among them. The problem names the
  row (data rows counted from 1, as the blank-time problem does), its element and its value.
* 5: an empty device ``id`` became the device ``None`` (one row: scheduled as ``None``; two:
  ``duplicate_id [None]``). It is a ``missing id`` problem naming the table and the row, in
  every device table.

The truth of each test is the input file itself: the rows and ids counted in it by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule, schedule_inputs
from feederopt.cli import app
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.timeseries import profile_problems
from feederopt.network.timeseries import DeviceKind, Devices

DATA = Path(__file__).parent / "data" / "ut34_schedule"
NET = DATA / "net1.json"
TABLES = ("dg.csv", "ess.csv", "ev.csv", "pv.csv")


def _devices(tmp_path: Path) -> Path:
    dev = tmp_path / "dev"
    dev.mkdir(parents=True)
    for name in TABLES:
        shutil.copy(DATA / name, dev / name)
    return dev


def _problems(profiles: Path | pl.DataFrame, devices: Path) -> list:  # type: ignore[type-arg]
    with pytest.raises(InputError) as exc:
        schedule_inputs(str(NET), profiles, devices, 4)
    return exc.value.problems


def _cli(tmp_path: Path, profiles: Path, devices: Path) -> str:
    r = CliRunner().invoke(app, ["schedule", str(NET), "--profiles", str(profiles),
                                 "--devices", str(devices), "--hours", "4", "--no-ac-check",
                                 "--time-limit", "30"])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    return " ".join(r.output.split())


# ----- 1: profile rows for DG and storage ---------------------------------------------------
def test_profile_rows_for_dg_and_storage_are_refused(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    schedule_inputs(str(NET), DATA / "profiles.csv", dev, 4)  # the user's own table is valid
    # the file adds four rows of ESS1 and four of DG1 to it (hours 0..3)
    rows = pl.read_csv(DATA / "ess_dg_rows.csv", infer_schema_length=0)
    assert set(rows.filter(pl.col("element").is_in(["DG1", "ESS1"]))["element"]) == {
        "DG1", "ESS1"}
    (p,) = _problems(DATA / "ess_dg_rows.csv", dev)
    assert p.kind is ProblemKind.BAD_TIMESERIES and p.field == "element"
    assert p.ids == ("DG1", "ESS1")
    # it says which elements take profiles
    assert "only loads and generators of the network, PV, wind and EV units and 'price'" \
        in p.message
    text = _cli(tmp_path, DATA / "ess_dg_rows.csv", dev)
    assert "bad_timeseries" in text and "DG1, ESS1" in text


def test_one_dg_row_alone_is_refused_and_pv_rows_still_read(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    base = pl.read_csv(DATA / "profiles.csv", infer_schema_length=0)
    one = pl.concat([base, pl.DataFrame({"time": ["2"], "element": ["DG1"],
                                         "value": ["0.5"]})])
    (p,) = _problems(one, dev)
    assert p.ids == ("DG1",) and "fossil DG" in p.message and "storage" not in p.message
    # an integral float id (``1.0``) of a storage unit named 1 is that unit, refused likewise
    ess = pl.read_csv(dev / "ess.csv", infer_schema_length=0)
    ess.with_columns(pl.lit("1").alias("id")).write_csv(dev / "ess.csv")
    (p,) = _problems(pl.concat([base, pl.DataFrame({"time": ["0"], "element": ["1.0"],
                                                    "value": ["1"]})]), dev)
    assert p.ids == ("1",) and "storage (ESS)" in p.message


# ----- 4: a bad time value -----------------------------------------------------------------
def test_bad_time_names_its_row_and_value(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    lines = (DATA / "time_x_load.csv").read_text().splitlines()
    # by hand: the 'x' is on file line 12, data row 11 (the header is line 1), of load:2
    assert lines[11] == "x,load:2,0.95"
    assert sum(1 for line in lines[1:] if not line.split(",")[0].isdigit()) == 1
    (p,) = _problems(DATA / "time_x_load.csv", dev)
    assert p.kind is ProblemKind.BAD_TIMESERIES and p.field == "time"
    assert p.ids == ("row 11 (load:2): 'x'",)
    assert "neither an integer hour nor a timestamp in 1 row(s)" in p.message
    text = _cli(tmp_path, DATA / "time_x_load.csv", dev)
    assert "row 11 (load:2): 'x'" in text and "[0, 0, 0, 0, 0]" not in text


def _time_problem(time: pl.Series) -> str:
    df = pl.DataFrame({"time": time, "element": ["a"] * len(time),
                       "value": ["1"] * len(time)})
    _, problems = profile_problems(df, ["a"], Devices.empty(), hours=4)
    (p,) = [p for p in problems if p.field == "time"]
    return f"{p.message} {p.ids}"


def test_bad_time_among_timestamps_and_mixed_or_boolean_columns() -> None:
    stamps = ["2024-01-01T00:00", "2024-01-01T01:00", "2.5", "2024-01-01T03:00"]
    text = _time_problem(pl.Series(stamps))
    assert "in 1 row(s)" in text and "row 3 (a): '2.5'" in text
    # hour indices and timestamps in one column: the rarer kind's rows
    text = _time_problem(pl.Series(["0", "1", "2024-01-01T02:00", "3"]))
    assert "mixes hour indices (3 rows) and timestamps (1 rows)" in text
    assert "row 3 (a): '2024-01-01T02:00'" in text and "row 1" not in text
    # a boolean column (Parquet, pandas): every row named with its value
    text = _time_problem(pl.Series([True, False, True, True]))
    assert "booleans" in text and "row 1 (a): 'true'" in text and "row 4 (a): 'true'" in text


# ----- 5: an empty device id ----------------------------------------------------------------
@pytest.mark.parametrize("kind", list(DeviceKind))
def test_empty_device_id_names_table_and_row(tmp_path: Path, kind: DeviceKind) -> None:
    dev = _devices(tmp_path)
    rows = {"dg": ",4,0.1,0.1,40.0,gas", "ess": ",5,0.5,0.2,0.95,0.9,0.5",
            "pv": ",2,0.2,0.3", "wind": ",2,0.2,0.3", "ev": ",3,0.1,0.5"}
    header = {"dg": "id,bus,p_max_mw,q_max_mvar,cost_per_mwh,fuel",
              "wind": "id,bus,p_max_mw,deviation"}
    path = dev / f"{kind.value}.csv"
    text = path.read_text() if path.is_file() else header[kind.value] + "\n"
    # two rows without an id (data rows 2 and 3 where the user's table has one row, else 1, 2)
    first = len(text.strip().splitlines())
    path.write_text(text.rstrip("\n") + "\n" + rows[kind.value] + "\n"
                    + rows[kind.value].replace(",", " ,", 1) + "\n")
    probs = _problems(DATA / "profiles.csv", dev)
    (p,) = [p for p in probs if p.field == "id"]
    assert p.component == f"devices.{kind.value}"
    assert p.ids == (f"row {first}", f"row {first + 1}")
    assert p.message.startswith("missing id in 2 row(s)")
    assert not [q for q in probs if "None" in str(q)]  # no device "None", no duplicate_id


def test_one_empty_ess_id_exits_2_naming_the_row(tmp_path: Path) -> None:
    dev = _devices(tmp_path)
    (dev / "ess.csv").write_text("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
                                 ",6,0.8,0.4,0.95,0.9,0.5\n")
    text = _cli(tmp_path, DATA / "profiles.csv", dev)
    assert "devices.ess [row 1].id: missing id in 1 row(s)" in text


# ----- 2: uncertain buses without load ------------------------------------------------------
def _load_buses() -> tuple[str, list[str]]:
    """The substation bus and the buses with a load, from pandapower's own reading."""
    import pandapower as pp

    net = pp.from_json(str(NET))
    return (str(int(net.ext_grid.bus.iloc[0])),
            sorted({str(int(b)) for b in net.load.bus[net.load.in_service]}))


def _budget_problem(tmp_path: Path, buses: tuple[str, ...],
                    profiles: Path | pl.DataFrame = DATA / "profiles.csv") -> Problem:
    with pytest.raises(InputError) as exc:
        schedule(str(NET), profiles=profiles, devices=_devices(tmp_path), hours=4,
                 ac_check=False, time_limit_s=30, gamma=0.3, budget=1.0,
                 uncertain_buses=buses)
    (p,) = exc.value.problems
    return p


def test_uncertain_buses_without_load_are_refused(tmp_path: Path) -> None:
    root, loaded = _load_buses()
    assert root == "0" and loaded == ["2", "3", "4", "5", "6"]
    p = _budget_problem(tmp_path, ("0", "1"))
    assert p.kind is ProblemKind.INVALID_VALUE and p.field == "uncertain_buses"
    assert p.ids == ("0", "1")
    assert "none of the uncertain buses" in p.message
    assert "0 (the substation bus), 1 (no load)" in p.message
    assert f"the buses with load are {', '.join(loaded)}" in p.hint
    # one of two named buses without load: still an error, naming that one
    p = _budget_problem(tmp_path / "b", ("1", "3"))
    assert p.ids == ("1",) and "none of" not in p.message
    r = CliRunner().invoke(app, ["schedule", str(NET), "--profiles", str(DATA / "profiles.csv"),
                                 "--devices", str(_devices(tmp_path / "c")), "--hours", "4",
                                 "--no-ac-check", "--robust-budget", "1",
                                 "--uncertain-buses", "0,1"])
    assert r.exit_code == 2, r.output
    assert "uncertain_buses" in r.output and "Traceback" not in r.output


def test_uncertain_bus_whose_load_is_zero_all_horizon(tmp_path: Path) -> None:
    # load:1 is at bus 3 (pandapower: load index 1); its factor 0 in hours 0..3
    import pandapower as pp

    assert int(pp.from_json(str(NET)).load.bus.at[1]) == 3
    base = pl.read_csv(DATA / "profiles.csv", infer_schema_length=0)
    zero = base.with_columns(pl.when(pl.col("element") == "load:1").then(pl.lit("0"))
                             .otherwise(pl.col("value")).alias("value"))
    p = _budget_problem(tmp_path, ("3", "4"), zero)
    assert p.ids == ("3",)
    assert "its loads draw no active power in hours 0..3" in p.message
    assert "are 2, 4, 5, 6;" in p.hint
