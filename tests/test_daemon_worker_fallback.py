"""User test ut50_pyapi #1: a robust solve called inside a ``multiprocessing.Pool`` worker
raised a bare ``AssertionError: daemonic processes are not allowed to have children``: a
Pool's workers are daemonic, and feederopt's own process pool cannot start there. The
executor now runs the work serially in such a process, with the FeederoptWarning that a
``<stdin>`` or unguarded script gets.

Each case runs in its own interpreter with a real ``multiprocessing.Pool`` (``fork`` and
``spawn``); the truth is the task's own arithmetic (``operator.sub(0, x)`` on the state
``int() == 0``) and, for the solve, that the robust solve returns the same objective inside
a pool worker as in the parent process with ``workers=1``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import feederopt

#: Where the feederopt under test lives, for the child interpreters.
SRC = str(Path(feederopt.__file__).resolve().parents[1])

SCRIPT = """\
import json, multiprocessing as mp, operator, sys, warnings


def work(_):
    from feederopt.execution import make_executor
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ex = make_executor(int, workers=2)
            out = ex.map(operator.sub, [1, 2, 3, 4])
            ex.close()
        except BaseException as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
    return {"kind": type(ex).__name__, "out": out,
            "warnings": [str(w.message) for w in caught]}


if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(1) as pool:
        print("RESULT " + json.dumps(pool.map(work, [0])[0]))
"""

SOLVE = """\
import json, multiprocessing as mp, sys, warnings


def work(workers):
    import feederopt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = feederopt.solve("zhang13", time_limit=60, robust=0.1, workers=workers)
        except BaseException as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
    return {"status": str(r.status), "objective": r.objective,
            "warnings": [str(w.message) for w in caught]}


if __name__ == "__main__":
    serial = work(1)  # the parent: not daemonic, workers=1 asks for the serial run
    with mp.get_context("spawn").Pool(1) as pool:
        inside = pool.map(work, [2])[0]
    print("RESULT " + json.dumps({"serial": serial, "inside": inside}))
"""


def _run(tmp_path: Path, source: str, *args: str) -> dict[str, object]:
    script = tmp_path / "pool_script.py"
    script.write_text(source)
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and len(lines) == 1, proc.stdout + proc.stderr[-3000:]
    result: dict[str, object] = json.loads(lines[0].removeprefix("RESULT "))
    return result


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_pool_worker_runs_the_work_serially_with_a_warning(tmp_path: Path,
                                                             method: str) -> None:
    got = _run(tmp_path, SCRIPT, method)
    assert "error" not in got, got
    assert got["out"] == [0 - x for x in (1, 2, 3, 4)]
    assert got["kind"] == "SerialExecutor"
    warned = got["warnings"]
    assert isinstance(warned, list) and len(warned) == 1
    text = warned[0]
    assert "serially" in text and "daemonic" in text and "workers=1" in text


def test_a_robust_solve_in_a_pool_worker_matches_the_serial_solve(tmp_path: Path) -> None:
    got = _run(tmp_path, SOLVE)
    serial, inside = got["serial"], got["inside"]
    assert isinstance(serial, dict) and isinstance(inside, dict)
    assert "error" not in inside, inside
    assert serial["status"] == inside["status"] == "optimal"
    assert inside["objective"] == pytest.approx(serial["objective"], rel=1e-6)
    assert any("daemonic" in w for w in inside["warnings"])
