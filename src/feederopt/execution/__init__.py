"""Where the slaves run: in this process, in a local process pool, or on a Ray cluster.

Every executor has one method, :meth:`Executor.map`: ``map(fn, items)`` returns
``[fn(state, item) for item in items]``, in the order of ``items``. ``state`` is the worker's
own object (typically a slave: a cvxpy model built once), made by the executor's ``factory`` in
each worker when the worker starts (a process-pool initializer, a Ray actor's constructor), so
that models are built once per worker and never pickled per task. ``fn`` must be a picklable
module-level function and its result must depend only on ``(state's data, item)``; then the
answer is the same whatever the number of workers and whichever worker runs which item (the
run is deterministic).

    >>> with make_executor(SlaveFactory(...), workers=2) as ex:
    ...     values = ex.map(evaluate_one, items)

After a stop request (Ctrl-C, SIGTERM: :mod:`feederopt.solvers.interrupt`) ``map`` stops waiting
within :data:`~feederopt.execution.executors.POLL_S` and raises
:class:`~feederopt.solvers.interrupt.Interrupted`; the workers ignore SIGINT (the parent decides)
and :meth:`Executor.close` then ends them without waiting for their tasks.

* :class:`SerialExecutor`: no parallelism (``workers=1``).
* :class:`ProcessExecutor`: :class:`concurrent.futures.ProcessPoolExecutor` (``--workers N``).
* :class:`RayExecutor`: one Ray actor per CPU, each holding a state (``--ray auto`` joins the
  running local cluster or starts one, ``--ray local`` starts one, ``--ray ADDRESS`` joins a
  cluster), never more actors than the cluster has CPUs
  free. Items are dealt out to the actors round-robin and gathered in order; Ray does the
  scheduling.

``map(fn, items, deadline)``: a round still unfinished
:data:`~feederopt.execution.executors.ROUND_GRACE_S` past ``deadline`` (the run's time limit;
:func:`~feederopt.execution.executors.round_end`, the one rule of every executor) is dropped
with :class:`~feederopt.solvers.interrupt.RoundOverran`, an ``Interrupted`` that requests no
stop: the algorithm drops the round and ends ``time_limit``. The pool and Ray stop waiting
for their workers then; the serial executor checks the clock between items and starts none
after it (the item it is running is not cut short, so it ends at most that item's time
later; before, it ran every item of the round whatever the deadline). The pool's workers exit when
the process that started them dies (also by SIGKILL).
"""

from feederopt.execution.executors import (
    Executor,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    StateFactory,
    make_executor,
    round_end,
)

__all__ = [
    "Executor",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "StateFactory",
    "make_executor",
    "round_end",
]
