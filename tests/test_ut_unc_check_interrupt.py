"""Ctrl-C or SIGTERM stops ``feederopt check`` as it stops ``solve`` (user test ut_unc, item 2).

``feederopt check RESULT.json -u 0.3 --samples 2000`` interrupted exited 130/143 silently, with
no partial output and no JSON. Now: a line with the samples done and the shares so far, the
JSON written with ``status: interrupted``, exit code 128 + the signal, no traceback. The partial
counts are those of a complete check of as many samples (the same seed draws the same first
samples), run here without a signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from feederopt import check_result
from signal_run import signal_after

SAMPLES = 2000


@pytest.fixture(scope="module")
def result_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chk") / "r33.json"
    run = subprocess.run([sys.executable, "-m", "feederopt", "solve", "case33bw", "--json",
                          str(path), "--quiet", "--no-ac-check"], capture_output=True,
                         text=True, timeout=300, env=os.environ.copy())
    assert run.returncode == 0, run.stdout + run.stderr
    return path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_check_with_its_counts_so_far(result_file: Path, tmp_path: Path,
                                                          signum: int) -> None:
    out = tmp_path / "check.json"
    cmd = [sys.executable, "-m", "feederopt", "check", str(result_file), "-u", "0.3",
           "--samples", str(SAMPLES), "--json", str(out), "--verbose"]
    run = signal_after(cmd, lambda line: "samples so far" in line,  # the first sample done
                       signum, start_within_s=240, settle_s=0.5, exit_within_s=60,
                       capture_stdout=True)
    log = run.stdout + run.stderr
    assert run.returncode == 128 + signum, log
    assert "Traceback" not in log
    doc = json.loads(out.read_text())
    done = doc["samples"]
    assert doc["status"] == "interrupted" and doc["samples_requested"] == SAMPLES
    assert 1 <= done < SAMPLES
    assert doc["corners"] == []  # not evaluated, not made up
    assert f"interrupted: {done} of {SAMPLES} samples done" in " ".join(log.split())
    # the partial counts are a complete check's of the same first samples
    full = check_result(json.loads(result_file.read_text()), done, 0.3, seed=0)
    assert full.status == "complete" and full.samples == done
    assert doc["feasible_convex"] == full.feasible_convex
    assert doc["feasible_ac"] == full.feasible_ac
    assert doc["feasible_share_convex"] == pytest.approx(full.feasible_convex / done)
