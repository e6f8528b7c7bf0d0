"""Device tables of the schedule, user test ut_sched findings 3-5.

* 3: the seed's SOC form (the default) returns ``eta_ch / eta_dis`` of the energy charged per
  cycle; a unit with ``eta_ch >= eta_dis`` gains (or loses no) energy, and the result says so
  and names ``--physical-soc``. The reference is the hand computation of each unit's ratio
  (0.9/0.85 = 1.0588 gains, 0.95/0.95 = 1 loses none, 0.85/0.9 = 0.944 loses).
* 4: a column the schedule does not read (``soc_min``, a misspelt ``pmin_mw``) was dropped
  without a word; now a typed problem (``unknown_column``) naming table and column, exit 2.
* 5: a bus written ``15.0`` (pandas/Excel float column) is bus 15; ``15.5`` stays an unknown
  bus, with the value in the message. Profile elements likewise (``7.0`` is load 7).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cases import load
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.timeseries import known_columns, load_devices
from feederopt.network.timeseries import DEVICE_COLUMNS, DeviceKind, Devices
from feederopt.problems.schedule import ScheduleSettings, SocForm, seed_soc_notes


def _builtin(tmp_path: Path, name: str = "dev") -> Path:
    folder, _ = schedule_paths("case33bw")
    dev = tmp_path / name
    dev.mkdir()
    for k in DeviceKind:
        src = folder / f"{k.value}.csv"
        if src.is_file():
            shutil.copy(src, dev / src.name)
    return dev


def _problems(**kw) -> list:  # type: ignore[no-untyped-def, type-arg]
    with pytest.raises(InputError) as exc:
        schedule_inputs("case33bw", **kw)
    return exc.value.problems


# ----- 3: the seed SOC form's note -----------------------------------------------------------
def _ess(rows: list[tuple[str, float, float]]) -> Devices:
    empty = Devices.empty()
    ess = pl.DataFrame({"id": [r[0] for r in rows], "bus": ["6"] * len(rows),
                        "e_max_mwh": [1.0] * len(rows), "p_max_mw": [1.0] * len(rows),
                        "eta_ch": [r[1] for r in rows], "eta_dis": [r[2] for r in rows],
                        "soc0": [0.5] * len(rows)})
    return Devices(empty.dg, ess, empty.pv, empty.wind, empty.ev)


def test_seed_soc_note_names_the_units_that_gain_or_lose_nothing() -> None:
    dev = _ess([("GAIN", 0.9, 0.85), ("EVEN", 0.95, 0.95), ("LOSS", 0.85, 0.9)])
    (note,) = seed_soc_notes(ScheduleSettings(), dev)
    gain, _, rest = note.partition("gain energy per cycle")
    assert "GAIN (0.9/0.85 = 1.059)" in gain and "EVEN" not in gain  # 0.9/0.85 = 1.0588
    assert "EVEN (0.95/0.95 = 1) lose none" in rest
    assert "LOSS" not in note  # 0.85/0.9 = 0.944: it loses energy, as it should
    assert "--physical-soc" in note
    assert seed_soc_notes(ScheduleSettings(soc_form=SocForm.PHYSICAL), dev) == []
    assert seed_soc_notes(ScheduleSettings(), _ess([("LOSS", 0.85, 0.9)])) == []
    assert seed_soc_notes(ScheduleSettings(), Devices.empty()) == []


def test_seed_soc_note_in_the_cli_result(tmp_path: Path) -> None:
    dev = _builtin(tmp_path)
    ess = pl.read_csv(dev / "ess.csv", infer_schema_length=0)
    ess.with_columns(pl.Series("eta_ch", ["0.9", "0.95", "0.85"]),
                     pl.Series("eta_dis", ["0.85", "0.95", "0.9"])).write_csv(dev / "ess.csv")
    for extra, has_note in (([], True), (["--physical-soc"], False)):
        out = tmp_path / f"r{len(extra)}.json"
        r = CliRunner().invoke(app, ["schedule", "case33bw", "--devices", str(dev), "--hours",
                                     "2", "--no-ac-check", "--time-limit", "60", "--json",
                                     str(out), *extra])
        assert r.exit_code == 0, r.output
        notes = json.loads(out.read_text())["notes"]
        soc = [n for n in notes if "seed SOC form" in n]
        assert bool(soc) is has_note, notes
        if has_note:
            assert "ESS6 (0.9/0.85" in soc[0] and "ESS14 (0.95/0.95" in soc[0]
            assert "ESS32" not in soc[0]
            assert "seed SOC form" in " ".join(r.output.split())  # the console lists notes


# ----- 4: unknown columns ---------------------------------------------------------------------
def test_unknown_device_column_is_a_typed_problem(tmp_path: Path) -> None:
    dev = _builtin(tmp_path)
    ess = pl.read_csv(dev / "ess.csv", infer_schema_length=0)
    ess.with_columns(pl.lit("0.9").alias("soc_min"), pl.lit("0.2").alias("soc_max")) \
        .write_csv(dev / "ess.csv")
    dg = pl.read_csv(dev / "dg.csv", infer_schema_length=0)
    dg.with_columns(pl.lit("0.1").alias("pmin_mw"), pl.lit("3").alias("noload_cost")) \
        .write_csv(dev / "dg.csv")
    probs = {p.component: p for p in _problems(devices=dev)}
    ess_p, dg_p = probs["devices.ess"], probs["devices.dg"]
    assert (ess_p.kind, ess_p.ids, ess_p.field) == (ProblemKind.UNKNOWN_COLUMN,
                                                    ("soc_min", "soc_max"), "column")
    assert dg_p.ids == ("pmin_mw", "noload_cost")
    # the hint lists the columns that are read, the optional ones the typos were meant for
    assert "p_min_mw" in dg_p.hint and "no_load_cost" in dg_p.hint
    assert all(c in ess_p.hint for c in DEVICE_COLUMNS[DeviceKind.ESS])
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--devices", str(dev), "--hours", "2",
                                 "--no-ac-check", "--time-limit", "5"])
    assert r.exit_code == 2, r.output
    assert "unknown_column" in r.output and "soc_min" in r.output and "pmin_mw" in r.output
    assert "Traceback" not in r.output


def test_builtin_and_documented_tables_have_only_known_columns() -> None:
    for case in ("case33bw", "case69bw"):
        folder, _ = schedule_paths(case)
        load_devices(folder, load(case))  # raises on any problem
        for k in DeviceKind:
            path = folder / f"{k.value}.csv"
            if path.is_file():
                assert set(pl.read_csv(path).columns) <= set(known_columns(k))
    # the tables of docs/schedule.md ("Device tables"): dg(...), ess(...), pv|wind(...), ev(...)
    text = (Path(__file__).parents[1] / "docs" / "schedule.md").read_text()
    start = text.index("* **Device tables**")
    found = re.findall(r"`(dg|ess|pv\|wind|ev)\(([^)]*)\)", text[start:start + 800])
    assert [k for k, _ in found] == ["dg", "ess", "pv|wind", "ev"]
    for kinds, cols in found:
        names = {c.strip() for c in re.sub(r"[\[\]\s]", "", cols).split(",") if c.strip()}
        for k in kinds.split("|"):
            assert names == set(known_columns(DeviceKind(k))), (k, names)


# ----- 5: integral floats as ids ---------------------------------------------------------------
def test_bus_written_as_float_is_the_integer_bus(tmp_path: Path) -> None:
    dev = _builtin(tmp_path)
    pv = pl.read_csv(dev / "pv.csv", infer_schema_length=0)
    buses = pv["bus"].to_list()
    pv.with_columns(pl.Series("bus", [f"{b}.0" for b in buses])).write_csv(dev / "pv.csv")
    _, devices, _ = schedule_inputs("case33bw", devices=dev, hours=2)
    assert devices.table(DeviceKind.PV)["bus"].to_list() == buses  # '10.0' is bus 10
    # parquet with a float column (what pandas writes after a NaN)
    par = _builtin(tmp_path, "par")
    (par / "pv.csv").unlink()
    pv.with_columns(pl.Series("bus", [float(b) for b in buses]),
                    pl.col("p_max_mw").cast(pl.Float64),
                    pl.col("deviation").cast(pl.Float64)).write_parquet(par / "pv.parquet")
    _, devices, _ = schedule_inputs("case33bw", devices=par, hours=2)
    assert devices.table(DeviceKind.PV)["bus"].to_list() == buses
    # 15.5 matches no bus: named, with its value; the integral 31.0 beside it is accepted
    bad = _builtin(tmp_path, "bad")
    pv.with_columns(pl.Series("bus", ["15.5", "31.0", buses[2]])).write_csv(bad / "pv.csv")
    (p,) = _problems(devices=bad)
    assert (p.kind, p.component, p.ids, p.field) == (ProblemKind.UNKNOWN_BUS, "devices.pv",
                                                     (pv["id"][0],), "bus")
    assert "'15.5'" in p.message and "matches no bus id" in p.message
    r = CliRunner().invoke(app, ["schedule", "case33bw", "--devices", str(bad), "--hours", "2",
                                 "--no-ac-check", "--time-limit", "5"])
    assert r.exit_code == 2 and "unknown_bus" in r.output and "Traceback" not in r.output


def test_profile_element_written_as_float(tmp_path: Path) -> None:
    _, prof = schedule_paths("case33bw")
    df = pl.read_csv(prof, infer_schema_length=0)
    path = tmp_path / "p.csv"
    df.with_columns(pl.when(pl.col("element") == "7").then(pl.lit("7.0"))
                    .otherwise(pl.col("element")).alias("element")).write_csv(path)
    _, _, got = schedule_inputs("case33bw", profiles=path, hours=2)
    _, _, ref = schedule_inputs("case33bw", hours=2)
    j = got.elements.index("7")
    assert (got.values[:, j] == ref.values[:, ref.elements.index("7")]).all()
    df.with_columns(pl.when(pl.col("element") == "7").then(pl.lit("7.5"))
                    .otherwise(pl.col("element")).alias("element")).write_csv(path)
    probs = _problems(profiles=path, hours=2)
    assert any(p.field == "element" and p.ids == ("7.5",) for p in probs)
