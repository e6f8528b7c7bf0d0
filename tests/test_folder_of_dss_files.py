"""A folder of OpenDSS files given where a feeder is expected (user test ut_3ph #13: the hint
was "add buses.parquet or buses.csv"): the message says a feeder is read from its master file
and names the file that defines the circuit."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli.app import app

IEEE37 = Path(__file__).parents[1] / "src" / "feederopt" / "cases" / "data" / "opendss" / "ieee37"


def test_a_folder_of_dss_files_points_to_its_master(tmp_path: Path) -> None:
    folder = tmp_path / "myfeeder37"
    shutil.copytree(IEEE37, folder)
    res = CliRunner().invoke(app, ["info", str(folder)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "read from its master file" in text and "Traceback" not in res.output
    assert f"e.g. {folder / 'ieee37.dss'}" in text
