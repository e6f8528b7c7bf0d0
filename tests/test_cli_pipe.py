"""A reader that closes stdout early (``| head -2``) is harmless (user test ut_docs, 2).

``feederopt solve case33bw --out d | head -2`` ended with exit code 1, nothing on stderr and no
``d``; ``feederopt cases | head -2`` with exit code 1. Here the console script runs in a
subprocess whose stdout is a pipe that the test closes before reading a byte, so that the first
write of the command meets a reader that has gone (EPIPE). The command must carry on: exit code
0 (the run's own for a solved run, as without the pipe), its --out folder and --json file
written, and no traceback or error on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run_with_closed_stdout(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``python -m feederopt.cli ARGS`` with a stdout pipe closed at once; (exit code,
    stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "feederopt.cli", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "120"})
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the command writes anything
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def test_solve_into_a_closed_pipe_writes_its_outputs_and_exits_0(tmp_path: Path) -> None:
    code, err = _run_with_closed_stdout(
        ["solve", "case33bw", "--method", "lindistflow", "--out", "pipe_out", "--json",
         "r.json"], tmp_path)
    assert code == 0, err
    assert "Traceback" not in err and "error" not in err.lower(), err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["case"] == "case33bw" and doc["has_topology"] is True
    assert (tmp_path / "pipe_out").is_dir()
    assert json.loads((tmp_path / "pipe_out" / "result.json").read_text()) == doc
    assert (tmp_path / "pipe_out" / "grid.png").stat().st_size > 0


def test_cases_into_a_closed_pipe_exits_0(tmp_path: Path) -> None:
    code, err = _run_with_closed_stdout(["cases"], tmp_path)
    assert code == 0, err
    assert "Traceback" not in err and "error" not in err.lower(), err
