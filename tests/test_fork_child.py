"""A process forked after the parent used Polars (``multiprocessing.get_context("fork")``, the
default on Linux before Python 3.14) cannot run Polars' queries: the fork copies Polars' thread
pool without its threads, and the child's first query waits forever. ``Pool(2).map(solve ...)``
after ``feederopt.load`` in the parent never returned (user test ut33_api #2). The child now
gets a ``ForkedProcessError`` at once, naming the ``spawn`` start method; a child forked before
the parent's first query works. Each case runs in a subprocess under a timeout, so a hang
fails the test instead of stopping the suite."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import multiprocessing as mp, sys
    import feederopt

    def job(case):
        return feederopt.load(case).buses.height

    if __name__ == "__main__":
        if sys.argv[1] == "after":
            feederopt.load("case33bw")          # the parent's Polars pool now runs
        with mp.get_context("fork").Pool(1) as pool:
            try:
                print("buses", pool.apply_async(job, ("case33bw",)).get(timeout=90))
            except feederopt.FeederoptError as exc:   # raised in the child, pickled back
                print(type(exc).__name__, exc)
            except mp.TimeoutError:
                print("hung")
""")


def _run(tmp_path: Path, when: str) -> str:
    script = tmp_path / "fork_job.py"
    script.write_text(SCRIPT)
    try:
        done = subprocess.run([sys.executable, str(script), when], capture_output=True,
                              text=True, timeout=150, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked child hung")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_a_child_forked_after_polars_ran_is_refused_at_once(tmp_path: Path) -> None:
    out = _run(tmp_path, "after")
    assert out.startswith("ForkedProcessError feederopt.load"), out
    assert "spawn" in out


def test_a_child_forked_before_any_query_works(tmp_path: Path) -> None:
    # case33bw: 33 buses (Baran & Wu 1989)
    assert _run(tmp_path, "before") == "buses 33"
