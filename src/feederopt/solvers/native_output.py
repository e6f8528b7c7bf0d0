"""What compiled solvers write to the process's stderr behind Python's back.

SCIP's own messages follow ``hideOutput``, but SoPlex, its LP solver, writes some warnings
straight to file descriptor 2: when SCIP tightens the LP feasibility tolerance on a badly
scaled model, every LP re-solve prints "Cannot set feasibility tolerance to small value
1e-12 without GMP - using 1e-10." (user test ut36_real #1: dozens of such lines from
``solve --method misocp --quiet``). :func:`native_noise_dropped` routes descriptor 2 through a
pipe while a solve runs; a thread copies every line to the original stderr except those of
:data:`NOISE`, so Python's own output (a progress bar, ``--verbose`` lines) still goes out as
it comes. Nested and concurrent uses (solves in threads) share one pipe.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

#: Lines of the compiled solvers' own output that a solve without ``verbose`` leaves out.
NOISE = (re.compile(rb"^Cannot set feasibility tolerance to small value .* without GMP"),)



class _Route:
    """The one pipe of the process: how many blocks use it, the original stderr and the
    copying thread."""

    lock = threading.Lock()
    depth = 0
    saved: int | None = None
    thread: threading.Thread | None = None


def _forward(read_fd: int, out_fd: int) -> None:
    """Copy lines from ``read_fd`` to ``out_fd`` until end of file, leaving out :data:`NOISE`."""
    pending = b""

    def emit(line: bytes) -> None:
        if not any(p.match(line) for p in NOISE):
            with contextlib.suppress(OSError):
                os.write(out_fd, line)

    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                emit(line + b"\n")
    if pending:
        emit(pending)


@contextlib.contextmanager
def native_noise_dropped() -> Iterator[None]:
    """Within the block, lines of :data:`NOISE` written to file descriptor 2 (by C or C++
    code, or by Python) are dropped; everything else reaches stderr. Without a usable
    descriptor 2 (an embedding that closed it) the block runs unfiltered."""
    with _Route.lock:
        if _Route.depth == 0:
            try:
                sys.stderr.flush()
                saved: int | None = os.dup(2)
            except (OSError, ValueError, AttributeError):
                saved = None
            if saved is not None:
                read_fd, write_fd = os.pipe()
                os.dup2(write_fd, 2)
                os.close(write_fd)
                _Route.thread = threading.Thread(target=_forward, args=(read_fd, saved),
                                                 name="feederopt-native-stderr", daemon=True)
                _Route.thread.start()
                _Route.saved = saved
        _Route.depth += 1
    try:
        yield
    finally:
        with _Route.lock:
            _Route.depth -= 1
            if _Route.depth == 0 and _Route.saved is not None:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    sys.stderr.flush()
                os.dup2(_Route.saved, 2)  # the pipe's last write end closes: the thread ends
                if _Route.thread is not None:
                    _Route.thread.join(timeout=5.0)
                os.close(_Route.saved)
                _Route.saved, _Route.thread = None, None
