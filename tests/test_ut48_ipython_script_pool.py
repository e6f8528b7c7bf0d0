"""User test ut48_pyapi #4: ``ipython script.ipy`` whose top level calls a solve that needs
the process pool. IPython runs the file as one cell (code file ``<ipython-input-...>``, the
file's line numbers), so the top-level call was not found: the pool started with ``spawn``,
each worker ran the script again while it started and died, and the solve ended
``interrupted`` with nothing. The truth is the run itself: IPython in a subprocess, which
must warn of the serial fallback and end with the optimum."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import feederopt

pytest.importorskip("IPython")

SRC = Path(feederopt.__file__).resolve().parents[1]  # the package under test

SCRIPT = """\
import feederopt
net = feederopt.load("case33bw")
r = feederopt.solve(net, robust=0.05, time_limit=60, workers=2)
print("STATUS", r.status.value, r.has_topology)
"""


def test_a_top_level_call_of_an_ipython_script_runs_serially_with_a_warning(
        tmp_path: Path) -> None:
    script = tmp_path / "top.ipy"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    run = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", str(script)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert "STATUS optimal True" in run.stdout, run.stdout + run.stderr
    assert "FeederoptWarning" in run.stderr and "top.ipy calls feederopt at its top level" \
        in run.stderr
    assert "RuntimeError" not in run.stderr  # no worker started, so none died


def test_a_solve_stopped_by_a_dead_worker_says_so() -> None:
    """A worker's death stops the solve as a stop request (``interrupt.stop_for``, what the
    pool's map raises on ``BrokenProcessPool``): the status is ``interrupted``, and a Python
    caller is told why, not only in ``extra["stop_reason"]``."""
    import warnings

    from feederopt.errors import FeederoptWarning
    from feederopt.solvers import interrupt

    why = "a worker process of the pool died (simulated)"

    def dies(_: object) -> None:
        interrupt.stop_for(why)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = feederopt.solve("case33bw", robust=0.05, time_limit=60, workers=1,
                                 progress=dies)
    assert result.status.value == "interrupted" and result.extra["stop_reason"] == why
    told = [str(w.message) for w in caught if issubclass(w.category, FeederoptWarning)]
    assert any(why in t and "not a Ctrl-C" in t for t in told), told
