"""``python -m feederopt`` runs the command line (user test ut_unc, finding 1).

The package had only ``feederopt/cli/__main__.py``: ``python -m feederopt scenarios ...``, the
usual way to run a tool from a given interpreter or a source checkout, failed with "No module
named feederopt.__main__; 'feederopt' is a package and cannot be directly executed".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl


def test_python_m_feederopt_runs_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "feederopt", "scenarios", "case33bw", "--out", str(out),
         "--count", "2", "-q"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    table = pl.read_csv(out)
    # two scenarios of case33bw's 32 loads (MATPOWER bus 1 is the slack and has none)
    assert sorted(table["scenario"].unique().to_list()) == ["s0", "s1"]
    assert table.filter(pl.col("kind") == "load").height == 2 * 32


def test_python_m_feederopt_bad_input_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "feederopt", "scenarios", "case33bw", "--out",
                           str(tmp_path / "s.txt")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "unknown_file_type" in proc.stderr
