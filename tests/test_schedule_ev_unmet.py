"""EV energy a schedule does not deliver is said on the console, in the notes and in the
report's summary (user test ut_sched3 #4: only the JSON's ``ev_unmet_mwh`` held it).

Truth from the result's own series against the device table: a station's unmet energy is its
daily requirement (``energy_mwh`` times hours / 24) less what its hourly charging delivers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli.app import app

CASE = Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "schedule" / "case33bw"


def test_unmet_ev_energy_is_shown(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("ess.csv", "ev.csv"):  # no DG, PV or wind: the import limit binds
        shutil.copy(CASE / name, dev / name)
    prof = tmp_path / "profiles.csv"
    pl.read_csv(CASE / "profiles.csv", infer_schema_length=0).filter(
        ~pl.col("element").str.starts_with("PV") & ~pl.col("element").str.starts_with("WT")
    ).write_csv(prof)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--devices", str(dev), "--hours", "2",
                                   "--profiles", str(prof),
                                   "--import-limit", "1.0", "--time-limit", "60",
                                   "--json", str(out)])
    assert res.exit_code in (0, 4), res.output
    doc = json.loads(out.read_text())
    ev = pl.read_csv(dev / "ev.csv")
    need = {r["id"]: r["energy_mwh"] * 2 / 24 for r in ev.iter_rows(named=True)}
    got = {k: sum(v) for k, v in doc["series"]["ev_mw"].items()}
    unmet = {k: need[k] - got[k] for k in need}
    assert sum(unmet.values()) == pytest.approx(doc["nominal"]["ev_unmet_mwh"], abs=1e-6)
    assert sum(unmet.values()) > 0.01
    text = " ".join(res.output.split())
    assert "EV energy not delivered" in text
    note = next(n for n in doc["notes"] if "EV energy not delivered" in n)
    for k, v in unmet.items():
        assert (k in note) == (v > 1e-6)
