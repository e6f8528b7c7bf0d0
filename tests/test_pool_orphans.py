"""User test ut40_par #2: a feederopt killed with SIGKILL (the OOM killer, ``timeout -s KILL``, a
batch scheduler) left its process pool's workers and the pool's ``resource_tracker`` running:
SIGKILL runs no clean-up, and the workers waited on their task queue for ever (still alive
60 s later). Now each worker watches its parent (a daemon thread polling ``os.getppid()``) and
exits when it is gone; the tracker follows when the last holder of its pipe is gone.

Tested as the user did: a process runs a pool whose two workers are busy, it is SIGKILLed, and
within seconds none of its descendants is alive (read from Linux's ``/proc``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="reads the process tree from Linux's /proc")

SCRIPT = textwrap.dedent('''
    import os, sys, time
    from feederopt.execution import ProcessExecutor

    class Factory:
        def __call__(self):
            return None

    def busy(state, item):
        open(os.path.join(sys.argv[1], f"started-{os.getpid()}"), "w").close()
        time.sleep(60)  # a long slave solve
        return item

    if __name__ == "__main__":
        with ProcessExecutor(Factory(), 2) as ex:
            ex.map(busy, [0, 1])
''')


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of ``pid``, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _descendants(root: int) -> set[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                kids.setdefault(st[0], []).append(int(entry))
    out: set[int] = set()
    todo = [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            if k not in out:
                out.add(k)
                todo.append(k)
    return out


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] not in ("Z", "X")  # a zombie has exited


def test_pool_workers_exit_when_their_parent_is_killed(tmp_path) -> None:
    script = tmp_path / "pool_run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: set[int] = set()
    try:
        end = time.monotonic() + 60  # two spawned workers importing feederopt, on a busy CI
        while len(list(tmp_path.glob("started-*"))) < 2:
            assert proc.poll() is None, "the pool run ended before its workers started"
            assert time.monotonic() < end, "the workers did not start within 60 s"
            time.sleep(0.1)
        family = _descendants(proc.pid)
        workers = {int(p.name.split("-")[1]) for p in tmp_path.glob("started-*")}
        assert workers <= family
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        end = time.monotonic() + 8  # the watchdog polls every 0.5 s
        while any(_alive(p) for p in family) and time.monotonic() < end:
            time.sleep(0.1)
        left = sorted(p for p in family if _alive(p))
        assert not left, f"processes of the killed run still alive: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in family:  # what a failing run left (started by this test only)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
