"""A process forked after the parent used Polars (``multiprocessing.get_context("fork")``, the
default on Linux before Python 3.14) cannot run Polars' queries: the fork copies Polars' thread
pool without its threads, and the child's first query waits forever. ``Pool(2).map(solve ...)``
after ``feederopt.load`` in the parent never returned (user test ut33_api #2). The child now
gets a ``ForkedProcessError`` at once, naming the ``spawn`` start method; a child forked before
the parent's first query works. Each case runs in a subprocess under a timeout, so a hang
fails the test instead of stopping the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: The subprocesses import this checkout's package (a relative PYTHONPATH=src would not
#: resolve from their working directory, and they would run an installed copy).
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}

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
                              text=True, timeout=150, cwd=tmp_path, env=ENV)
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


#: Every public function that runs Polars, called in a child forked after the parent's solve
#: (user test ut36_api #1: ``Network.from_tables`` hung there while ``solve`` was refused).
ENTRY_POINTS = textwrap.dedent("""
    import multiprocessing as mp, os, sys, tempfile
    import polars as pl
    import feederopt

    BUSES = pl.DataFrame({"id": ["S", "A", "B"], "vn_kv": [12.66] * 3,
                          "is_source": [True, False, False]})
    BRANCHES = pl.DataFrame({"id": ["L1", "L2", "T"], "from_bus": ["S", "A", "S"],
                             "to_bus": ["A", "B", "B"], "r_ohm": [0.5, 0.6, 0.7],
                             "x_ohm": [0.4, 0.5, 0.6], "switchable": [True, True, True],
                             "normally_open": [False, False, True]})
    LOADS = pl.DataFrame({"id": ["la", "lb"], "bus": ["A", "B"], "p_mw": [0.3, 0.4],
                          "q_mvar": [0.1, 0.2]})
    SCEN = pl.DataFrame({"scenario": ["s1"], "kind": ["load"], "element": ["la"],
                         "p_mw": [0.5], "q_mvar": [0.1], "weight": [1.0]})

    def calls(net, unchecked):
        return {
            "from_tables": lambda: feederopt.Network.from_tables(
                buses=BUSES, branches=BRANCHES, loads=LOADS),
            "check": lambda: unchecked.check(),
            "validate": lambda: unchecked.validate(),
            "ac_power_flow": lambda: feederopt.ac_power_flow(net),
            "model_fidelity": lambda: feederopt.model_fidelity(net),
            "operating_limits": lambda: feederopt.operating_limits(net),
            "base_case_unsupplied": lambda: feederopt.base_case_unsupplied(net),
            "generate_scenarios": lambda: feederopt.generate_scenarios(net, count=2),
            "resolve_scenarios": lambda: feederopt.resolve_scenarios(net, SCEN),
            "write_scenarios": lambda: feederopt.write_scenarios(
                SCEN, os.path.join(tempfile.mkdtemp(), "s.csv")),
            "generation_by_bus": lambda: feederopt.generation_by_bus(net, ["A"]),
            "daily_scenarios": lambda: feederopt.daily_scenarios("ieee13"),
        }

    def job(name):
        try:
            calls(NET, UNCHECKED)[name]()
            return "ran"
        except feederopt.FeederoptError as exc:
            return f"{type(exc).__name__} {str(exc)[:60]}"

    if __name__ == "__main__":
        NET = feederopt.Network.from_tables(buses=BUSES, branches=BRANCHES, loads=LOADS)
        feederopt.solve(NET, ac_check=False)             # the parent's Polars pool now runs
        UNCHECKED = feederopt.Network(**NET.tables())    # never checked: check() runs Polars
        for name in calls(NET, UNCHECKED):
            pool = mp.get_context("fork").Pool(1)
            try:
                print(name, "->", pool.apply_async(job, (name,)).get(timeout=20), flush=True)
            except mp.TimeoutError:
                print(name, "-> hung", flush=True)
            pool.terminate()
""")


def test_every_public_function_that_runs_polars_is_refused_in_a_forked_child(
        tmp_path: Path) -> None:
    script = tmp_path / "fork_calls.py"
    script.write_text(ENTRY_POINTS)
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=400, cwd=tmp_path, env=ENV)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked children hung")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = dict(line.split(" -> ", 1) for line in done.stdout.strip().splitlines())
    assert len(rows) == 12, done.stdout
    wrong = {name: out for name, out in rows.items()
             if not out.startswith("ForkedProcessError feederopt.")}
    assert not wrong, wrong
    assert rows["from_tables"].startswith("ForkedProcessError feederopt.Network.from_tables")
