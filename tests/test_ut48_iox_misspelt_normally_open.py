"""A misspelt ``normaly_open`` column (user test ut48_iobad #9): its warning said "did you
mean 'normally_open'?" but not that every tie is therefore closed, and ``info`` never said the
base case is meshed (solve did).

Truth, by hand: case33bw has 33 buses, one source and 37 branches; with every branch closed
its base case closes 37 - 32 = 5 loops, and with its five ties open none."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder


def test_misspelt_normally_open_is_said_to_close_every_tie(tmp_path: Path) -> None:
    folder = tmp_path / "feeder"
    write_folder(feederopt.load("case33bw"), folder, fmt="csv")
    right = feederopt.load(folder)
    assert right.summary()["base_case_loops"] == 0

    branches = pl.read_csv(folder / "branches.csv", infer_schema_length=0)
    assert branches.height == 37
    branches.rename({"normally_open": "normaly_open"}).write_csv(folder / "branches.csv")
    net = feederopt.load(folder)
    assert net.summary()["base_case_loops"] == 37 - (33 - 1)
    (warning,) = [p for p in net.warnings() if p.field == "normaly_open"]
    assert "did you mean 'normally_open'?" in warning.hint
    assert "every branch is closed" in warning.hint

    res = CliRunner().invoke(app, ["info", str(folder), "--json"])
    data = json.loads(res.stdout)
    assert data["base_case_loops"] == 5
    assert any("not radial" in w and "5 loop(s)" in w for w in data["warnings"])
