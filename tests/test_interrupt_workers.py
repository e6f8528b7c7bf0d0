"""Ctrl-C while a process pool's workers start leaves no traceback of theirs (user test
ut32_time, item 3).

A Ctrl-C at a terminal reaches the whole process group. Spawned workers import feederopt
(seconds) before the pool's initializer makes them ignore SIGINT; the user test's
``solve case136ma --scenarios ... --workers 2``, interrupted then, printed two
``KeyboardInterrupt`` tracebacks from the workers although the parent stopped as it should
(exit 130). Here a script starts a two-worker pool in its own process group and sends SIGINT
to the group while the workers import; its stderr must hold no traceback, and the parent must
see the stop request (the executor raises ``Interrupted``).

Before the fix: two tracebacks ending in ``KeyboardInterrupt``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import os, signal, sys, threading, time
    from feederopt.execution import ProcessExecutor
    from feederopt.solvers import interrupt

    class Factory:
        def __call__(self):
            return None

    def task(state, item):
        time.sleep(0.05)
        return item

    if __name__ == "__main__":
        with interrupt.handle_signals():
            ex = ProcessExecutor(Factory(), workers=2)
            # while the spawned workers import feederopt (seconds)
            threading.Timer(0.3, lambda: os.killpg(os.getpgid(0), signal.SIGINT)).start()
            try:
                ex.map(task, list(range(8)))
                print("not interrupted")
            except interrupt.Interrupted:
                print("interrupted")
            finally:
                ex.close()
''')


def test_workers_starting_ignore_ctrl_c(tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=180, start_new_session=True, cwd=tmp_path,
                          env={**os.environ})
    assert "Traceback" not in done.stderr, done.stderr
    assert "KeyboardInterrupt" not in done.stderr, done.stderr
    assert done.stdout.strip() == "interrupted", (done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
