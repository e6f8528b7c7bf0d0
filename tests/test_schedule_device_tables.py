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
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule_inputs
from feederopt.cases.schedule import schedule_paths
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.network.timeseries import DeviceKind, Devices
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
