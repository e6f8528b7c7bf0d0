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
import threading
import time
from pathlib import Path

import pytest

from feederopt import check_result

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
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    lines: list[str] = []
    started = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "samples so far" in line:  # --verbose: the first sample is done
                started.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        assert started.wait(timeout=240), "no sample in the log:\n" + "".join(lines)
        time.sleep(0.5)
        assert proc.poll() is None, "the check ended before the signal:\n" + "".join(lines)
        proc.send_signal(signum)
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    log = stdout + "".join(lines)
    assert proc.returncode == 128 + signum, log
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
