"""A three-phase solve says that ``--max-loading 1.2`` looks like a factor, as the balanced
solve does (user test ut50_recheck #6: ``solve ieee13mod --v-min 0.93 --max-loading 1.2``
held every rating to 1.2 % without a word). The truth is the user's command line: 1.2 is
given where a percentage is wanted, and 120 is what 1.2 as a factor means."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import feederopt

SRC = str(Path(feederopt.__file__).resolve().parents[1])  # the package under test


def test_the_command_line_notes_a_loading_limit_that_looks_like_a_factor() -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200"}
    run = subprocess.run([sys.executable, "-m", "feederopt", "solve", "ieee13mod", "--v-min",
                          "0.93", "--max-loading", "1.2", "--time-limit", "30",
                          "--no-ac-check"],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    err = " ".join(run.stderr.split())
    assert "1.2 looks like a factor" in err, run.stderr
    assert "holds every rating to 1.2 % of itself; write 120 for 120 %" in err
    assert "(--max-loading)" in err
