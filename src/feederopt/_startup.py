"""A Ctrl-C (SIGINT) while the ``feederopt`` command starts, before its stop handler
(:mod:`feederopt.solvers.interrupt`) is installed: the imports of the package and of the
command line take seconds (3.9 s on a loaded machine, user test ut43_resil #8), and a SIGINT
then raised ``KeyboardInterrupt`` inside them: a traceback, return code -2, nothing written.
The command now says so in one line and exits with 130 (128 + SIGINT), as a run stopped
later does. Imported by ``feederopt/__init__.py`` before anything else, so it uses the
standard library only; a caller of the Python API (``import feederopt``) gets its
``KeyboardInterrupt`` as ever.

A SIGTERM in that window ends the process by Python's default action (return code -15, no
traceback): no handler is installed before the command runs.

:data:`PROCESS_STARTED_AT` is the earliest clock the package has: when the process began, on
the ``time.perf_counter()`` scale, from Linux's ``/proc/self/stat`` (its start in clock ticks
since boot) against ``/proc/uptime`` (10 ms resolution); elsewhere, or where they cannot be
read, ``time.perf_counter()`` when this module, the first of ``import feederopt``, began
(:data:`IMPORTED_AT`). The command counts its wall-clock time from it
(:func:`feederopt.cli.app.wall_clock_s`), so that the interpreter's start and the imports (13 s
on a loaded machine, user test ut51_bigrid #1) are in the time row.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

#: ``time.perf_counter()`` when ``import feederopt`` began (this module is its first).
IMPORTED_AT = time.perf_counter()


def _process_age_s() -> float:
    """The seconds since this process began (Linux's ``/proc``), 0.0 where unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            # after the command's name in parentheses, which may hold spaces: field 22 is
            # the 20th after it, the start in clock ticks since boot (proc(5))
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
    return age if 0.0 <= age < 86400.0 else 0.0


#: ``time.perf_counter()`` when the process began (:func:`_process_age_s` before
#: :data:`IMPORTED_AT`; :data:`IMPORTED_AT` where unknown).
PROCESS_STARTED_AT = IMPORTED_AT - _process_age_s()

#: What the command prints when stopped while starting.
STARTING_MESSAGE = ("feederopt: interrupted (Ctrl-C) while starting, before the network was "
                    "read: nothing was written")

#: The exit code: 128 + SIGINT, as a run interrupted later.
INTERRUPTED_EXIT = 130


def as_command() -> bool:
    """Whether this process is the ``feederopt`` command: the console script (``argv[0]``
    named ``feederopt``) or ``python -m feederopt`` (``argv[0]`` is ``-m`` while the package
    is imported, then ``.../feederopt/__main__.py``)."""
    arg0 = sys.argv[0] if sys.argv else ""
    base = os.path.basename(arg0)
    return base in ("feederopt", "feederopt.exe", "-m") or (
        base == "__main__.py" and os.path.basename(os.path.dirname(arg0)) in ("feederopt", "cli"))


def interrupted_at_start() -> None:
    """Called on ``KeyboardInterrupt`` during the imports: in the command, the one-line
    message and exit code 130 (``SystemExit``, no traceback); else nothing (the caller
    re-raises)."""
    if as_command():
        sys.stderr.write(STARTING_MESSAGE + "\n")
        raise SystemExit(INTERRUPTED_EXIT)


def keep_ignored_sigint() -> None:
    """Put an ignored SIGINT back to ignored in the operating system, after Polars is
    imported (by :mod:`feederopt.network`).

    Polars (since 1.22, pola-rs/polars#20961) installs a signal handler for SIGINT when it is
    imported (``signal-hook``, over whatever was there), and a SIGINT that comes while a
    Polars query runs then raises ``KeyboardInterrupt`` from that query, also when SIGINT
    was ignored: Python's own table still says ``SIG_IGN`` (:func:`signal.getsignal`), so
    the stop handler (:func:`feederopt.solvers.interrupt.handle_signals`) kept it, and the
    process did not. A ``feederopt`` started with SIGINT ignored (``cmd &`` in a
    non-interactive shell, ``nohup``; the POSIX convention: the caller does not want Ctrl-C
    to reach it) was stopped by a SIGINT that came during a query ("interrupted: (Ctrl-C)
    before the run started", exit 130; CI at 122442cd,
    ``test_an_inherited_ignored_sigint_does_not_stop_the_run``). :func:`signal.signal`
    sets ``SIG_IGN`` in the operating system again, over Polars' handler; a SIGINT not
    ignored is left to Python and Polars (``KeyboardInterrupt`` as ever). Main thread only
    (Python's rule for signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
