"""feederopt in a process forked from one whose Polars thread pool runs: refused, not hung.

Polars runs its queries on a pool of threads (``polars-0``, ``polars-1``, ...) that it starts
on first use. ``os.fork`` copies only the thread that calls it, so in a child forked after that
(multiprocessing's ``fork`` start method, the default on Linux before Python 3.14) the pool
exists in memory with no thread behind it, and the child's first Polars query waits forever
(Polars' user guide, "Multiprocessing": use ``spawn``). feederopt cannot start Polars' pool
again, and every load and solve goes through Polars, so ``multiprocessing.get_context(
"fork").Pool(2).map(job, ...)`` after ``feederopt.load`` in the parent never returned (user
test ut33_api #2; a child forked before the parent's first query works).

:func:`check_not_forked`, called first by the API's entry points (load, solve, save, the other
commands' functions) and by every other public function that runs Polars
(``Network.from_tables``, ``Network.check``, ``validate``, ``replace`` and ``summary``,
``ac_power_flow``, ``model_fidelity``, ``operating_limits``, ``base_case_unsupplied``, the
scenario functions,
``daily_scenarios``), raises :class:`~feederopt.errors.ForkedProcessError` at once in such a
child instead (``Network.from_tables`` hung in such a child while ``solve`` was refused: user
test ut36_api #1). It sits at the bottom of the layers, with :mod:`feederopt.errors`, so that
the network and io layers can call it. Whether the pool ran is looked up when the process
forks (an ``os.register_at_fork`` hook, registered when the package is imported): on Linux by
the pool's threads in ``/proc/self/task/*/comm``; elsewhere, whether feederopt had been called
in the parent. feederopt's own process pools use ``spawn``
(:class:`~feederopt.execution.executors.ProcessExecutor`).
"""

from __future__ import annotations

import os
import re

from feederopt.errors import ForkedProcessError

#: A thread of Polars' pool, as Linux names it (``comm``).
_POOL_THREAD = re.compile(r"polars-\d+")

#: Whether Polars' pool ran when this process last forked (set in the parent, copied into the
#: child), whether this process is a child of such a fork (or of a child of one), and
#: whether an entry point of feederopt has run here (where ``/proc`` does not say).
_pool_at_fork = False
_forked_from_pool = False
_worked = False


def polars_pool_running() -> bool:
    """Whether this process runs Polars' thread pool: a thread named ``polars-N`` (Linux);
    without ``/proc``, whether feederopt has been called in this process."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return _worked
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/comm", encoding="utf-8", errors="replace") as fh:
                name = fh.read().strip()
        except OSError:
            continue  # the thread ended meanwhile
        if _POOL_THREAD.fullmatch(name):
            return True
    return False


def _before_fork() -> None:
    global _pool_at_fork
    _pool_at_fork = _forked_from_pool or polars_pool_running()


def _after_fork_in_child() -> None:
    global _forked_from_pool
    _forked_from_pool = _pool_at_fork


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def check_not_forked(what: str) -> None:
    """Raise :class:`~feederopt.errors.ForkedProcessError` when this process was forked from
    one whose Polars thread pool ran (the module docstring); ``what`` names the call
    (``feederopt.solve``)."""
    global _worked
    if _forked_from_pool:
        raise ForkedProcessError(
            f"{what} was called in a process forked from one that had used Polars (which "
            "feederopt.load and solve do): Polars' thread pool does not survive a fork, and the "
            "call would wait forever. Start the worker processes with 'spawn' (or "
            "'forkserver'): multiprocessing.get_context('spawn').Pool(...), or "
            "concurrent.futures.ProcessPoolExecutor(mp_context=multiprocessing.get_context("
            "'spawn')); threads work too")
    _worked = True
