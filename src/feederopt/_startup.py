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
"""

from __future__ import annotations

import os
import sys

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
