"""Run a ``feederopt`` command in a subprocess and send it a signal once its ``--verbose`` log
shows a given line: the shared harness of the Ctrl-C / SIGTERM tests."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class SignalRun:
    """What the run left: its exit code, stdout (empty unless captured), stderr and the
    seconds from the signal to the exit."""

    returncode: int
    stdout: str
    stderr: str
    waited_s: float


def signal_after(cmd: list[str], started: Callable[[str], bool], signum: int, *,
                 start_within_s: float, settle_s: float, exit_within_s: float,
                 capture_stdout: bool = False,
                 preexec_fn: Callable[[], None] | None = None,
                 before: Callable[[subprocess.Popen[str]], None] | None = None) -> SignalRun:
    """Start ``cmd`` (``COLUMNS=200``; ``preexec_fn`` run in the child before it starts),
    wait up to ``start_within_s`` for a stderr line on which ``started`` holds, call
    ``before`` with the process (e.g. a signal it ignores), wait ``settle_s`` more, then send
    ``signum`` and wait up to ``exit_within_s`` for the exit; the process is killed if it is
    still running then."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if capture_stdout else
                            subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"}, preexec_fn=preexec_fn)
    lines: list[str] = []
    seen = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if started(line):
                seen.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    stdout = ""
    try:
        assert seen.wait(timeout=start_within_s), "no start line:\n" + "".join(lines)
        if before is not None:
            before(proc)
        time.sleep(settle_s)
        assert proc.poll() is None, "the run ended before the signal:\n" + "".join(lines)
        sent = time.perf_counter()
        proc.send_signal(signum)
        if capture_stdout:
            assert proc.stdout is not None
            stdout = proc.stdout.read()
        proc.wait(timeout=exit_within_s)
        waited = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    return SignalRun(proc.returncode, stdout, "".join(lines), waited)
