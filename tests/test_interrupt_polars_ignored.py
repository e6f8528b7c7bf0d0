"""An ignored SIGINT stays ignored through Polars' queries.

Polars installs its own SIGINT handler when it is imported (pola-rs/polars#20961) and raises
``KeyboardInterrupt`` from a query that a SIGINT interrupts, also in a process that ignores
SIGINT: Python's table still says ``SIG_IGN``, the operating system's does not. A
``feederopt solve`` started with SIGINT ignored (``cmd &``, ``nohup``) was so stopped
("interrupted: (Ctrl-C) before the run started", exit 130; CI at 122442cd).
:func:`feederopt._startup.keep_ignored_sigint` sets ``SIG_IGN`` again once ``import feederopt``
has imported Polars.

Each child process here ignores SIGINT, imports feederopt, and then sends itself a SIGINT
every millisecond from a thread while it runs Polars queries and ``feederopt.load``. The
control (SIGINT at Python's default) shows that the signals do reach the queries.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import os, signal, sys, threading, time
if sys.argv[1] == "ignored":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
import feederopt
import polars as pl
stop = threading.Event()
def pester():
    while not stop.is_set():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.001)
n = 0
try:
    threading.Thread(target=pester, daemon=True).start()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        left = pl.DataFrame({"a": range(20000)}).lazy()
        left.join(pl.DataFrame({"a": range(20000)}).lazy(), on="a").collect()
        if n % 10 == 0:
            feederopt.load("case33bw")
        n += 1
    print("completed", n)
except KeyboardInterrupt:
    print("KeyboardInterrupt after", n)
stop.set()
"""


def _run(mode: str) -> str:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True,
                          timeout=240)
    return proc.stdout + proc.stderr


def test_an_ignored_sigint_does_not_interrupt_polars_queries() -> None:
    out = _run("ignored")
    assert "completed" in out and "KeyboardInterrupt" not in out, out


def test_a_default_sigint_still_interrupts() -> None:
    out = _run("default")
    assert "KeyboardInterrupt after" in out, out
