"""The stop request: Ctrl-C (SIGINT) or SIGTERM ends a solve early and keeps what it found.

One process-wide flag, set by the signal handler that :func:`handle_signals` installs (the
command line and :func:`feederopt.solve` install it for the duration of a solve), read by
everything that runs long:

* the solver backends: HiGHS through its interrupt callbacks (MIP, simplex and IPM;
  :class:`~feederopt.solvers.highs_backend.HighsModel`), SCIP through an event handler that
  calls ``interruptSolve`` (:class:`~feederopt.solvers.scip_backend.ScipModel`);
* the algorithms' stop test (:meth:`feederopt.algorithms.base.AlgorithmBase.should_stop`, and
  the :class:`~feederopt.algorithms.base.Deadline` of the heuristics), between slave solves;
* the executors, which stop waiting for their workers (:class:`Interrupted`).

Why a flag and not Python's ``KeyboardInterrupt``: while HiGHS or SCIP run, the main thread is
inside C++ code and Python runs its signal handlers only when it executes Python code again,
i.e. after the solve (65-110 s on case136ma). The solvers' callbacks are Python code, so the
handler runs within a callback's period; it sets the flag, the callback tells the solver to
stop, and the algorithm reports its incumbent, bound and gap with status ``interrupted``.

A second signal exits at once (exit code 128 + signal number), without writing anything more;
files are written atomically (:mod:`feederopt.io.writing`), so none is left half-written.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

#: The signals that ask a solve to stop.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """Raised where work cannot be cut short with a partial answer (an executor's round of
    slaves): the caller drops the round and reports what it had before."""


class RoundOverran(Interrupted):
    """Raised by an executor whose round of slaves is still running past the run's deadline
    (its time limit plus :data:`~feederopt.execution.executors.ROUND_GRACE_S`): the round is
    dropped as after a stop request (every handler of :class:`Interrupted` applies), but no
    stop is requested, so the run ends as a time-limited one (status ``time_limit``, with the
    incumbent, bound and gap it had). Why: a Ray actor that the cluster never places (more
    actors than CPUs, user test ut40_par #1) never runs its share, and the round waited for
    it forever, past ``--time-limit``."""


_state: dict[str, int | None] = {"signal": None, "at": None}
#: Why the solve was stopped when no signal asked for it (a worker process died), or None.
_reason: dict[str, str | None] = {"text": None}
#: Numbers the requests and the solves' starts, so that a request is seen only by the solves
#: that were running when it came (:func:`requested`).
_clock = itertools.count(1)
#: Per thread: ``start``, the clock when the thread's outermost solve began (None outside a
#: solve); ``active``, whether that solve installed the signal handlers (main thread).
_installed = threading.local()
#: How many outermost solves of the main thread have returned (:func:`answered`).
_answered = {"count": 0}


def answered() -> int:
    """How many outermost :func:`handle_signals` blocks of the main thread have ended by
    their function's return (a run with its answer, not an exception), counted before their
    handlers are put back. A caller compares two readings to tell whether a run finished in
    between: the command line's message for a Ctrl-C after the run and before its outputs."""
    return _answered["count"]


def requested() -> bool:
    """Whether a stop was requested (by a signal or :func:`request`) that this thread's solve
    has to obey: one made since the solve began. A request left from an earlier solve (a
    Ctrl-C'd solve in the main thread) does not stop a later solve in another thread; outside
    a solve every request is seen (a caller can tell that its solve was interrupted)."""
    return not getattr(_installed, "shield", 0) and _pending()


def _pending() -> bool:
    """:func:`requested`, whether or not a :func:`shielded` block runs."""
    if _state["signal"] is None:
        return False
    start = getattr(_installed, "start", None)
    return start is None or (_state["at"] or 0) > start


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A short solve that runs to its end although a stop was requested: inside the block
    :func:`requested` is False in this thread (the solver callbacks do not stop it), and
    true again after it. For the evaluations a stopped run still needs to report its
    incumbent (the second-stage LP of the 24 h schedule at a first stage, a fraction of a
    second): stopped at once, they failed and the run ended with an error and no answer
    (user test ut32_time: ``schedule`` Ctrl-C'd, "second-stage LP ended interrupted"). A
    second signal still exits at once."""
    _installed.shield = getattr(_installed, "shield", 0) + 1
    try:
        yield
    finally:
        _installed.shield -= 1


def signal_number() -> int | None:
    """The number of the signal that asked to stop (None before, 0 for :func:`request`)."""
    return _state["signal"]


def exit_code() -> int:
    """The conventional exit status of a process stopped by that signal: 128 + its number
    (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + (_state["signal"] or signal.SIGINT)


def request(signum: int = 0) -> None:
    """Ask every running computation to stop (what the signal handler does)."""
    _state["at"] = next(_clock)
    _state["signal"] = signum


def clear() -> None:
    """Forget an earlier request (a new solve starts)."""
    _state["signal"] = None
    _reason["text"] = None


#: The start of :func:`reason` when a conic solver failed on a slave's SOCP (no valid cut can
#: be built from it): the command line tells it from a dead worker and gives no advice about
#: the time limit, which played no part.
CONIC_FAILURE = "the conic solver failed"


def stop_for(reason: str) -> Interrupted:
    """Stop the solve because its work cannot go on (a worker process died: user test
    ut_growth #1, where one killed pool worker ended the solve with exit code 1 and nothing
    written): as a stop request, so that the algorithm reports the incumbent, bound and gap it
    had before the lost round, with :func:`reason` saying why. Returns the exception to raise."""
    _reason["text"] = reason
    request(0)
    return Interrupted(reason)


def reason() -> str | None:
    """Why the solve stopped without a signal (:func:`stop_for`), or None."""
    return _reason["text"] if requested() else None


def raise_if_requested() -> None:
    """Raise :class:`Interrupted` when a stop was requested."""
    if requested():
        raise Interrupted(f"interrupted by signal {signal_number()}")


def _handler(signum: int, frame: FrameType | None) -> None:
    if _pending():
        # The second signal: exit at once. Pool workers ignore SIGINT, so end them first.
        sys.stderr.write(f"\n{signal.Signals(signum).name} again: exiting at once\n")
        sys.stderr.flush()
        for child in multiprocessing.active_children():
            with contextlib.suppress(Exception):
                child.terminate()
        os._exit(128 + signum)
    request(signum)
    sys.stderr.write(f"\n{signal.Signals(signum).name}: stopping; {stop_line()} "
                     "(again to exit at once)\n")
    sys.stderr.flush()


def stop_handler() -> Callable[[int, FrameType | None], None]:
    """The signal handler that :func:`handle_signals` installs (for a caller that must put
    it back over another's: ``ray.init`` replaces it, :mod:`feederopt.execution`)."""
    return _handler


def stop_line() -> str:
    """What the handler's line says happens to the stopped computation's answer: "reported
    and written" in the command (:func:`command_outputs`), "returned" from the Python API,
    which writes nothing (user test ut44_nb #5: an API solve said "... reported and
    written")."""
    fate = "reported and written" if _command["on"] else "returned"
    return f"{_what['text']} {fate}"


#: What the stopped computation reports, for the handler's line (a solve's by default).
_what = {"text": "the best topology so far, its bound and gap are"}
#: Whether a command of the command line runs (:func:`command_outputs`): its answer is
#: printed and written to its outputs; a caller of the Python API gets it returned.
_command = {"on": False}


@contextlib.contextmanager
def command_outputs() -> Iterator[None]:
    """Within it, a stop's line says that the answer is reported and written: every command
    of the command line runs in it (:func:`feederopt.cli.app.cli_command`)."""
    before, _command["on"] = _command["on"], True
    try:
        yield
    finally:
        _command["on"] = before


@contextlib.contextmanager
def handle_signals(what: str | None = None) -> Iterator[None]:
    """Install the stop handler for SIGINT and SIGTERM for the duration of the block;
    ``what`` the computation reports when stopped, for the handler's line ("the samples done
    so far are" for a check: it said "the best topology so far, its bound and gap").

    The handlers only in the main thread (Python's rule for signal handlers), and only once
    when nested: the outermost block clears an old request on entry and puts the previous
    handlers back on exit. The request itself stays visible after the block, so that a caller
    can tell that its solve was interrupted.

    A SIGINT found ignored is left ignored (:func:`_kept_ignored`): a process started with
    SIGINT ignored (``cmd &`` in a non-interactive shell, ``nohup``) is not stopped by it,
    while loading, solving, checking or writing; SIGTERM still stops it.

    In every thread, the outermost block marks when its solve began: only a request made since
    stops it (:func:`requested`), so a request left by an interrupted solve does not stop every
    later solve of a worker thread (which cannot clear it: a solve in the main thread may be
    running and stopping).
    """
    if getattr(_installed, "start", None) is not None:  # nested: the outer block's solve
        yield
        return
    _installed.start = next(_clock)
    try:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        clear()
        before, _what["text"] = _what["text"], what or _what["text"]
        previous = {s: signal.getsignal(s) for s in SIGNALS if not _kept_ignored(s)}
        for s in previous:
            signal.signal(s, _handler)
        _installed.active = True
        try:
            yield
            _answered["count"] += 1  # returned: the run has its answer
        finally:
            _installed.active = False
            _what["text"] = before
            for s, h in previous.items():
                signal.signal(s, h if h is not None else signal.SIG_DFL)
    finally:
        _installed.start = None


def _kept_ignored(signum: int) -> bool:
    """Whether the stop handler leaves ``signum`` as it is: SIGINT when it is ignored. The
    POSIX convention for a program that finds SIGINT ignored at start-up (a background job
    ``cmd &`` of a non-interactive shell, ``nohup``, a supervisor that handles Ctrl-C
    itself) is to keep it ignored, and Python keeps it so (it installs its
    ``KeyboardInterrupt`` handler only when SIGINT was not ignored); so does a worker
    process, which ignores SIGINT by design (:func:`ignore_in_worker`), and a caller of the
    Python API that ignores it on purpose. Before, the handler replaced the ignored SIGINT
    for the solve, so a SIGINT meant for the shell's foreground job stopped the background
    run (``interrupted``, exit 130) once its solve had started. SIGTERM is always handled
    (a run is still stopped cleanly by ``kill``)."""
    return signum == signal.SIGINT and signal.getsignal(signum) == signal.SIG_IGN


def ignore_in_worker() -> None:
    """For a worker process: leave SIGINT to the parent. A Ctrl-C at a terminal reaches the
    whole process group; the parent decides, and ends the workers itself. The worker was
    started with SIGINT blocked (:func:`starting_workers`): now that it is ignored, a Ctrl-C
    pending since the start is dropped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def starting_workers() -> Iterator[None]:
    """Start worker processes in this block: SIGINT is blocked in this thread meanwhile, so
    that the workers start with it blocked (a spawned process inherits the signal mask
    through fork and exec) until :func:`ignore_in_worker` ignores it. Why: a spawned worker
    imports feederopt (seconds: polars, pandapower) before the pool's initializer runs, and
    a Ctrl-C at a terminal, sent to the whole process group, raised ``KeyboardInterrupt``
    there, a traceback per worker on the console (user test ut32_time, item 3), although the
    parent stopped as it should. Blocked, not ignored, in the parent: a signal that comes
    meanwhile stays pending and reaches the parent's handler at the end of the block."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
