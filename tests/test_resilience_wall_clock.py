"""``feederopt plan`` and ``feederopt restore`` report their whole time, as ``solve`` does.

Their time row showed the solver's time alone (``0.31 s`` for a ``plan zhang13`` that
``/usr/bin/time`` measured at 4.2 s: the interpreter's start, the imports, reading the
network, the AC checks and writing were in no figure), and their JSON had no ``wall_clock_s``
and no ``timings``. They now record the wall-clock time from the process's start to the
answer (``answer_wall_clock_s``) and with writing (``wall_clock_s``), the steps outside the
solve (``timings``: ``startup_s``, ``read_s``, ``ac_check_s``, ``write_s``, ...), and print
"... s optimisation; ... s to the answer; ... s with writing".

The truth is a clock outside the command: ``time.perf_counter`` around the child process
``python -m feederopt`` (what ``/usr/bin/time`` measures), and the report page that
``feederopt report`` remakes from the folder (equal to the command's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_ut51_bigrid_timings import _times  # the console's time row, parsed

#: The commands on the smallest inputs, as tests/test_report_kinds.py runs them: the zhang13
#: restoration with three lines broken, and its plan over the two disaster scenarios (A and C)
#: of the shipped file A_C_p1, with the measures (EEV, WS).
COMMANDS = {
    "restore": ["restore", "zhang13", "--broken", "2,11,15"],
    "plan": ["plan", "zhang13", "--scenarios", "A_C_p1", "--time-limit", "120"],
}
#: How far the JSON's wall-clock time may fall short of the child's life measured outside:
#: what comes after its last figure, the interpreter's exit (the teardown of its modules:
#: 0.7 s to 2 s measured on this machine under load, for a life of 7 s to 11 s) and with -q
#: no printing. Before the fix the JSON had no wall-clock time, and the row's solve time
#: alone (0.05 s to 0.4 s) was short by the whole start-up, reading and AC checks (90 % of
#: the life and more).
SHORT_BY_AT_MOST_S = 2.5
SHORT_BY_AT_MOST_SHARE = 0.3
#: The process's start time read from /proc is rounded to 10 ms (one clock tick, twice).
TICK_S = 0.03
#: The steps a checked run of either command has, disjoint from one another.
STEPS = ("startup_s", "read_s", "ac_check_s", "write_s")


def _run(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m feederopt ARGS`` in a process of its own (this worktree's sources), and
    its life measured from outside."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
           "COLUMNS": "240"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "feederopt", *args], capture_output=True,
                          text=True, env=env, timeout=600)
    return done, time.perf_counter() - t0


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_json_wall_clock_is_the_process_life(command: str, tmp_path: Path) -> None:
    """``--json F -q``: F's ``wall_clock_s`` lies within the child's measured life, short of
    it by at most :data:`SHORT_BY_AT_MOST_S` (or :data:`SHORT_BY_AT_MOST_SHARE` of the life),
    and holds the solve and every step outside it."""
    out = tmp_path / "r.json"
    done, life = _run([*COMMANDS[command], "--json", str(out), "-q"])
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    wall, answer = doc["wall_clock_s"], doc["answer_wall_clock_s"]
    assert wall <= life + TICK_S, (wall, life)
    assert life - wall <= max(SHORT_BY_AT_MOST_S, SHORT_BY_AT_MOST_SHARE * life), (wall, life)
    assert doc["solve_time_s"] <= answer <= wall, doc
    timings = doc["timings"]
    for key in STEPS:
        assert isinstance(timings.get(key), float) and timings[key] >= 0.0, (key, timings)
    assert timings["startup_s"] > 0.0
    # disjoint steps: before the answer, they and the solve fit in its wall-clock time
    before = sum(v for k, v in timings.items() if k != "write_s")
    assert doc["solve_time_s"] + before <= answer + TICK_S, (doc["solve_time_s"], timings)
    assert answer + timings["write_s"] <= wall + TICK_S


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_time_row_names_the_answer_and_the_writing(command: str, tmp_path: Path) -> None:
    """``--out DIR``: the console's row is solve's ("... s optimisation; ... s to the answer;
    ... s with writing"), within the measured life; the folder's result.json has the
    figures, and its report.html the time to the answer and the timings, but not write_s
    (known only after the page is written, so that ``feederopt report`` remakes it)."""
    folder = tmp_path / "f"
    done, life = _run([*COMMANDS[command], "--out", str(folder)])
    assert done.returncode == 0, done.stderr
    solve_s, answer_s, with_writing_s = _times(done.stdout)
    doc = json.loads((folder / "result.json").read_text())
    assert abs(solve_s - doc["solve_time_s"]) <= 0.006
    assert abs(answer_s - doc["answer_wall_clock_s"]) <= 0.006
    assert solve_s <= answer_s <= with_writing_s <= life + TICK_S
    # the figure and the page are written: more than nothing, and in result.json
    assert doc["timings"]["write_s"] > 0.0
    assert doc["answer_wall_clock_s"] + doc["timings"]["write_s"] <= doc["wall_clock_s"]
    assert doc["wall_clock_s"] <= with_writing_s + 0.006
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert f"{doc['answer_wall_clock_s']:.2f} s to the answer" in page
    assert "(read_s)" in page and "(ac_check_s)" in page and "(startup_s)" in page
    assert "write_s" not in page
    # the page `feederopt report` makes from the folder is the command's, byte for byte
    target = tmp_path / "again.html"
    again, _ = _run(["report", str(folder), "--out", str(target)])
    assert again.returncode == 0, again.stderr
    assert target.read_text(encoding="utf-8") == page
