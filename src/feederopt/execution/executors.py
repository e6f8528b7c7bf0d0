"""The executors (see :mod:`feederopt.execution`)."""

from __future__ import annotations

import ast
import contextlib
import logging
import math
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from feederopt.errors import (
    InputError,
    Problem,
    ProblemKind,
    note_text,
    option_ref,
    warn_user,
)
from feederopt.solvers import interrupt

T = TypeVar("T")
R = TypeVar("R")


class StateFactory(Protocol):
    """A picklable callable that builds a worker's state (called once per worker)."""

    def __call__(self) -> Any: ...


TaskFn = Callable[[Any, Any], Any]

#: How often [s] a waiting executor looks for a stop request.
POLL_S = 0.1
#: How long [s] past the run's deadline (``map``'s ``deadline``, its time limit) a round of
#: the process pool or of Ray is waited for before it is dropped
#: (:class:`~feederopt.solvers.interrupt.RoundOverran`): the slaves have no time limit of their
#: own, and a round that started just before the limit normally ends within this. A process
#: pool none of whose tasks has ended yet gets no grace (:meth:`ProcessExecutor.map`): its
#: workers may still be starting (a spawned worker imports feederopt, seconds on a busy
#: machine), so no slave of the round is near its end.
ROUND_GRACE_S = 5.0
#: How often [s] a pool worker checks that the process that started it is alive.
ORPHAN_POLL_S = 0.5


def round_end(deadline: float | None) -> float:
    """When [``time.perf_counter()``] a round of ``map(..., deadline)`` is dropped:
    :data:`ROUND_GRACE_S` after ``deadline`` (never, without one). The one rule of every
    executor (:meth:`Executor.map`)."""
    return math.inf if deadline is None else deadline + ROUND_GRACE_S


def _overran(pending: int, total: int, what: str = "batches of slaves") -> interrupt.RoundOverran:
    """The :class:`~feederopt.solvers.interrupt.RoundOverran` of a round with ``pending`` of
    its ``total`` ``what`` not done at :func:`round_end`."""
    return interrupt.RoundOverran(
        f"{pending} of {total} {what} still to run {ROUND_GRACE_S:g} s past the time limit: "
        "the round is dropped")


class Executor(ABC):
    """``map(fn, items) -> [fn(state, item) for item in items]``, ordered (module docstring)."""

    #: How many items run at the same time.
    workers: int = 1
    kind: str = "serial"

    @abstractmethod
    def map(self, fn: TaskFn, items: Sequence[Any],
            deadline: float | None = None) -> list[Any]:
        """``[fn(state, item) for item in items]``. ``deadline``: the run's end
        (``time.perf_counter()``, None: none); a round still unfinished at
        :func:`round_end` (:data:`ROUND_GRACE_S` after it) is dropped with
        :class:`~feederopt.solvers.interrupt.RoundOverran`: the pool and Ray stop waiting for
        their workers then, the serial executor starts no further item after it (it cannot
        cut the item it is running short, so it overruns by at most that item's time)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the workers (idempotent)."""

    def worker_memory_mb(self) -> list[float]:
        """Peak resident memory of each worker [MB], where the executor can tell."""
        return []

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _peak_rss_mb() -> float:
    """Peak resident set of this process [MB] (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ----- serial -----------------------------------------------------------------------------------
class SerialExecutor(Executor):
    """Everything in this process, one item after the other."""

    kind = "serial"

    def __init__(self, factory: StateFactory) -> None:
        self.factory = factory
        self._state: Any = None
        self.workers = 1

    @property
    def state(self) -> Any:
        if self._state is None:
            self._state = self.factory()
        return self._state

    def map(self, fn: TaskFn, items: Sequence[Any],
            deadline: float | None = None) -> list[Any]:
        """The items one after the other; between two, a stop request raises
        :class:`~feederopt.solvers.interrupt.Interrupted` and a round past
        :func:`round_end` raises :class:`~feederopt.solvers.interrupt.RoundOverran`, as the
        pool and Ray do (it ran every item of the round whatever the deadline, so a
        scenario run with many slow slaves overran ``--time-limit`` by the rest of the
        round)."""
        items = list(items)
        state = self.state
        end = round_end(deadline)
        out = []
        for k, item in enumerate(items):
            interrupt.raise_if_requested()
            if time.perf_counter() > end:
                raise _overran(len(items) - k, len(items), "slaves")
            out.append(fn(state, item))
        return out

    def worker_memory_mb(self) -> list[float]:
        return [_peak_rss_mb()]


# ----- local process pool -----------------------------------------------------------------------
_WORKER_STATE: Any = None


def _exit_when_orphaned(parent: int) -> None:
    """End this process when ``parent`` (the process that started it) is gone: its parent
    pid is then another (the process that adopted it, init or a subreaper)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_POLL_S)
    os._exit(1)


def _watch_parent(parent: int) -> None:
    """Make this pool worker exit when ``parent`` dies, also by SIGKILL (the OOM killer,
    ``timeout -s KILL``, a batch scheduler), which runs no clean-up in the parent: its workers
    then waited on their task queue for ever, and the pool's ``resource_tracker``, which
    exits when the last process holding its pipe does, with them (user test ut40_par #2).
    A daemon thread polls :func:`os.getppid` every :data:`ORPHAN_POLL_S`; portable, and it
    follows the process, not the thread that started the worker (Linux's
    ``PR_SET_PDEATHSIG`` fires when that thread ends, which would kill the workers of a pool
    kept open by a caller's thread that has finished)."""
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True,
                     name="feederopt-orphan-watch").start()


def _init_worker(factory: StateFactory, parent: int | None = None) -> None:
    global _WORKER_STATE
    if parent is not None:
        _watch_parent(parent)
    interrupt.ignore_in_worker()
    # One thread per worker process: the pool is the parallelism.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    _WORKER_STATE = factory()


def _run_chunk(fn: TaskFn, items: list[Any]) -> list[Any]:
    return [fn(_WORKER_STATE, item) for item in items]


def _worker_rss(_: object) -> tuple[int, float]:
    return os.getpid(), _peak_rss_mb()


def _proc_peak_mb(pid: int) -> float | None:
    """Peak resident set of process ``pid`` [MB] from Linux's ``/proc/<pid>/status``
    (``VmHWM``, in kB); None where that is not readable (another OS, the process gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


class ProcessExecutor(Executor):
    """A local :class:`~concurrent.futures.ProcessPoolExecutor` whose workers build their state
    once, in the pool's initializer.

    ``start_method`` defaults to ``spawn``: workers start from a fresh interpreter, which is
    safe with the threads of HiGHS, Ray or a caller (``fork`` is faster to start but may
    deadlock when the parent holds a lock in another thread). As always with ``spawn``, a
    script that creates a pool must guard its top level with ``if __name__ == "__main__":``
    (the workers import the script's main module).
    """

    kind = "process"

    def __init__(self, factory: StateFactory, workers: int | None = None,
                 start_method: str = "spawn") -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.factory = factory
        ctx = mp.get_context(start_method)
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_init_worker,
            initargs=(factory, os.getpid()),
        )
        #: A round overran the deadline: its workers are still busy (ended by :meth:`close`).
        self._overran = False
        #: Some task of the pool has ended (its workers have started): only then does a round
        #: get :data:`ROUND_GRACE_S` past the deadline.
        self._answered = False

    def map(self, fn: TaskFn, items: Sequence[Any],
            deadline: float | None = None) -> list[Any]:
        if self._pool is None:
            raise RuntimeError("the executor is closed")
        items = list(items)
        if not items:
            return []
        # Contiguous chunks, a few per worker: little pickling overhead, fair balance.
        size = max(1, math.ceil(len(items) / (4 * self.workers)))
        chunks = [items[i: i + size] for i in range(0, len(items), size)]
        futures: list[Future[Any]] = []
        try:
            with interrupt.starting_workers():  # submit() starts the workers (spawn)
                futures = [self._pool.submit(_run_chunk, fn, chunk) for chunk in chunks]
            pending: set[Future[Any]] = set(futures)
            while pending:
                # Before any task of the pool has ended, the workers may still be starting
                # (importing feederopt): the round is dropped at the deadline itself, not
                # ROUND_GRACE_S later (user test ut49_robust #4: --time-limit 3 took 8.1 s,
                # the first round waited 5 s more for workers that were still importing)
                end = round_end(deadline) if self._answered else (
                    math.inf if deadline is None else deadline)
                done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_EXCEPTION)
                for fut in done:
                    fut.result()  # a worker's exception, at once
                    self._answered = True
                interrupt.raise_if_requested()
                if pending and time.perf_counter() > end:
                    self._overran = True
                    raise _overran(len(pending), len(futures))
        except BrokenProcessPool as exc:
            for fut in futures:
                fut.cancel()
            raise interrupt.stop_for(f"a worker process of the pool died ({exc})") from exc
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        out: list[Any] = []
        for fut in futures:
            out.extend(fut.result())
        return out

    def worker_memory_mb(self) -> list[float]:
        """Each worker process's peak resident set [MB]: read from ``/proc/<pid>/status``
        (``VmHWM``) for every process of the pool; where that is not readable, probe tasks
        report their own process's, which covers only the processes that happen to run one
        (a fast worker may take them all)."""
        if self._pool is None:
            return []
        procs = getattr(self._pool, "_processes", None) or {}
        peaks = [_proc_peak_mb(pid) for pid in list(procs)]
        if (peaks and all(mb is not None for mb in peaks)) or self._overran:
            # (after an overrun the probes would queue behind the tasks still running)
            return sorted(float(mb) for mb in peaks if mb is not None)
        seen: dict[int, float] = {}
        try:
            with interrupt.starting_workers():
                probes = self._pool.map(_worker_rss, range(4 * self.workers))
            for pid, mb in probes:
                seen[pid] = max(seen.get(pid, 0.0), mb)
        except BrokenProcessPool:  # a worker died: what the living ones said
            return sorted(float(mb) for mb in peaks if mb is not None)
        return sorted(seen.values())

    def close(self) -> None:
        """Shut the pool down; after a stop request or a round that overran the deadline, end
        the workers instead of waiting for the tasks they are running."""
        if self._pool is not None:
            if interrupt.requested() or self._overran:
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    with contextlib.suppress(Exception):
                        proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None




# ----- Ray --------------------------------------------------------------------------------------
def task_error_cause(exc: BaseException) -> BaseException:
    """The exception a task raised, out of Ray's wrapper of it: ``ray.get`` raises a
    ``RayTaskError`` whose ``str`` is the remote traceback, with ANSI colour codes, the
    actor's repr and the cause's type on its last line, and whose dynamic class
    (``as_instanceof_cause``) also derives from the cause's, so an ``except SlaveFailure``
    caught it and printed all of that in its "stopped:" line (user test ut32_par #3), where
    the process pool re-raises the task's own exception (pickled back) and prints one line.
    Ray keeps that exception in ``.cause`` (``RayTaskError.__init__``; a cause Ray could not
    pickle is a plain ``RayError`` there, returned as is); a task error wrapping another
    (a nested task's) is unwrapped down to the first cause that is not one. Anything else is
    returned unchanged."""
    for _ in range(16):  # nesting depth; a cycle cannot hang
        cause = getattr(exc, "cause", None)
        if not (type(exc).__name__.startswith("RayTaskError")
                and isinstance(cause, BaseException) and cause is not exc):
            break
        exc = cause
    return exc


class _StateHolder:
    """The body of a Ray actor: a worker state and the tasks run on it."""

    def __init__(self, factory: StateFactory) -> None:
        _init_worker(factory)

    def run(self, fn: TaskFn, item: Any) -> Any:
        return fn(_WORKER_STATE, item)

    def run_many(self, fn: TaskFn, items: list[Any]) -> list[Any]:
        return [fn(_WORKER_STATE, item) for item in items]

    def peak_rss_mb(self) -> float:
        return _peak_rss_mb()


#: Ray's connect settings while joining a cluster (unless the user set them): a first GCS
#: connection within 5 s, the cluster id within 5 s, two attempts.
_RAY_CONNECT_ENV = {"RAY_gcs_rpc_server_connect_timeout_s": "5",
                    "RAY_py_gcs_connect_timeout_s": "5",
                    "RAY_gcs_server_port_wait_time_s": "2"}
#: How long [s] a new executor waits for the CPUs it asks for to be free (those of the actors
#: an earlier executor killed come back within a moment) before it takes fewer actors.
RAY_SETTLE_S = 2.0
#: How long the TCP probe of a ``--ray`` address waits for an answer.
RAY_PROBE_TIMEOUT_S = 5.0
#: How often [s] a Ray executor waiting for a round checks that the cluster's head (its GCS
#: port) still answers, and how long that check waits for an answer.
RAY_HEAD_CHECK_S = 1.0
RAY_HEAD_TIMEOUT_S = 2.0


def _unreachable(address: str, why: str) -> InputError:
    hint = ("give the address of a running Ray head (host:6379, or ray://host:10001 for Ray "
            "Client), 'auto' for a local Ray, or leave --ray out")
    if "auth" in why.lower() and "token" in why.lower():
        # Ray 2.5x's clusters ask for a token by default (user test ut_growth #2: the hint
        # said only to give the address, which was given)
        hint = ("the cluster uses Ray's token authentication: run feederopt with the same "
                "environment as `ray start` (RAY_AUTH_MODE=token and the cluster's token, "
                "RAY_AUTH_TOKEN or the token file Ray wrote), or start the head without it")
    return InputError([Problem(
        ProblemKind.INVALID_VALUE, "options",
        f"cannot connect to the Ray cluster at {address}: {why}", field="ray", hint=hint)])


def _check_ray_address(address: str) -> None:
    """Refuse an address that is malformed or where nothing answers, within seconds.

    Ray itself retries an unreachable address for minutes (and, for ``127.0.0.1``, the
    node's own address too), printing its warnings meanwhile; a TCP connection to the port
    (or, for a loopback host, to this node's address, which Ray uses instead) settles it.
    """
    import socket
    from urllib.parse import urlsplit

    text = address.strip()
    parts = urlsplit(text if "://" in text else "ray-gcs://" + text)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as e:  # a port that is not a number in 0..65535
        if "out of range" in str(e):  # (``127.0.0.1:99999`` was "not of the form host:port")
            given = parts.netloc.rsplit(":", 1)[-1]
            raise _unreachable(address, f"the port {given} is out of range (0-65535)") from None
        host, port = None, None
    if not host or port is None:
        raise _unreachable(address, "not of the form host:port (or ray://host:port)")
    hosts = [host]
    if host in ("localhost", "127.0.0.1", "::1"):
        with contextlib.suppress(OSError):
            hosts.append(socket.gethostbyname(socket.gethostname()))
    why = ""
    for h in hosts:
        try:
            with socket.create_connection((h, port), timeout=RAY_PROBE_TIMEOUT_S):
                return
        except TimeoutError:
            why = f"no answer within {RAY_PROBE_TIMEOUT_S:g} s"
        except OSError as e:
            why = why or (e.strerror or str(e))
    raise _unreachable(address, why or "no answer")


class _HeldStderr:
    """Ray's C++ core writes its connect warnings straight to file descriptor 2."""

    def __init__(self) -> None:
        import tempfile

        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stderr_held
        self.keep = True

    def drop(self) -> None:
        self.keep = False

    def last_reason(self) -> str:
        """The last warning held, without its ``[time W pid tid] file.cc:line:`` prefix
        (e.g. "... InvalidAuthToken: Authentication token is missing or incorrect")."""
        import re

        self.file.flush()
        self.file.seek(0)
        lines = [x.strip() for x in self.file.read().decode(errors="replace").splitlines()
                 if x.strip()]
        if not lines:
            return ""
        return re.sub(r"^\[[^\]]*\]\s*[\w./-]+:\d+:\s*", "", lines[-1])[:300]


@contextlib.contextmanager
def _stderr_held() -> Any:
    """Hold what is written to stderr (also by C/C++ code); pass it on unless dropped."""
    held = _HeldStderr()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. captured by a test runner)
        yield held
        return
    os.dup2(held.file.fileno(), 2)
    try:
        yield held
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if held.keep:
            held.file.seek(0)
            data = held.file.read()
            if data:
                os.write(2, data)
        held.file.close()


def ray_actor_count(workers: int | None, available_cpus: float,
                    cluster_cpus: float) -> tuple[int, str | None]:
    """The number of Ray actors (one CPU each) for ``workers`` (None: as many as the cluster
    has CPUs free), and a note when fewer than asked: at most the cluster's available CPUs
    (``ray.available_resources()["CPU"]``, at least one actor; with none free, one actor that
    waits for a CPU, and a note saying so). Ray places an actor only
    where a CPU is free, and one never placed never runs the batches dealt to it, so
    ``--workers 3`` on a 2-CPU cluster waited for ever (user test ut40_par #1)."""
    free = max(1, math.floor(available_cpus + 1e-9))
    if available_cpus < 1.0 - 1e-9:
        # every CPU held by other jobs: the one actor waits until one is free, and the run
        # idled to its time limit without a word (user test ut44_ray #4)
        asked = (f"--workers {int(workers)} (workers={int(workers)}) asks for "
                 f"{int(workers)} Ray actors, but " if workers is not None else "")
        return 1, (
            f"{asked}the Ray cluster has none of its {cluster_cpus:g} CPUs free (other jobs "
            "hold them): one actor waits until a CPU is free; a round still waiting "
            f"{ROUND_GRACE_S:g} s past the time limit is dropped, so the run may end at its "
            "time limit with nothing evaluated")
    if workers is None:
        return free, None
    wanted = max(1, int(workers))
    if wanted <= free:
        return wanted, None
    return free, (
        f"--workers {wanted} (workers={wanted}) asks for {wanted} Ray actors of one CPU "
        f"each, but the Ray cluster has {available_cpus:g} of its {cluster_cpus:g} CPUs free: "
        f"{free} actor{'s' if free > 1 else ''} run the slaves (an actor the cluster cannot "
        "place would never run its share)")


#: :func:`_running_local_cluster`'s name for a cluster found by Ray's record of the latest
#: ``ray start`` on this machine.
_LATEST_RAY_START = "the latest `ray start` on this machine"


def _running_local_cluster() -> tuple[str | None, str]:
    """The cluster ``--ray auto`` joins, and where it was found: ``RAY_ADDRESS``, else the
    latest ``ray start`` head on this machine (Ray's own record of it, which ``ray stop``
    removes); ``(None, "")`` when there is neither. Ray's rule for ``ray.init()`` without an
    address ("If there is no address provided, ray.init will try to find an existing Ray
    instance to connect to ... first checking the environment variable RAY_ADDRESS ... then
    the address of the latest cluster started ... If this is also empty, then start a new
    local Ray instance": ``ray.init``'s docstring), which a Ray user expects of ``auto``;
    before, ``--ray auto`` always started a second Ray beside a running ``ray start`` head
    (user test ut44_ray #6)."""
    env = os.environ.get("RAY_ADDRESS", "").strip()
    if env and env not in ("auto", "local"):
        return env, "RAY_ADDRESS"
    try:
        from ray._private.services import find_bootstrap_address

        found = find_bootstrap_address(None)
    except Exception:  # Ray moved its private helper: no record found
        found = None
    return (str(found), _LATEST_RAY_START) if found else (None, "")


def _connected_address(ray: Any) -> str | None:
    """``host:port`` of the GCS of the cluster this process's Ray is connected to, or None
    where Ray does not say (Ray Client)."""
    gcs = _gcs_host_port(ray)
    return None if gcs is None else f"{gcs[0]}:{gcs[1]}"


def _same_cluster(named: str, here: str | None) -> bool:
    """Whether the address ``named`` (``host:port``, ``ray://host:port``) is the cluster at
    ``here`` (its GCS ``host:port``): the same port, and hosts that are the same machine
    (a loopback name of this machine counts as its address, which Ray reports). A Ray Client
    address (``ray://``) names a proxy of its own port: only its host is compared, and it
    matches a connection whose GCS Ray does not give (Ray Client's)."""
    import socket
    from urllib.parse import urlsplit

    client = named.strip().startswith("ray://")
    if here is None:
        return client
    try:
        a = urlsplit(named.strip() if "://" in named else "ray-gcs://" + named.strip())
        b = urlsplit("ray-gcs://" + here)
        if not a.hostname or not b.hostname or (not client and a.port != b.port):
            return False
    except ValueError:
        return False

    def ips(host: str) -> set[str]:
        out = {host}
        with contextlib.suppress(OSError):
            out |= set(socket.gethostbyname_ex(host)[2])
        if out & {"127.0.0.1", "::1", "localhost"}:
            with contextlib.suppress(OSError):
                out.add(socket.gethostbyname(socket.gethostname()))
        return out

    return bool(ips(a.hostname) & ips(b.hostname))


def _gcs_host_port(ray: Any) -> tuple[str, int] | None:
    """The (host, port) of the connected cluster's GCS, or None where Ray does not say (Ray
    Client, a stub)."""
    from urllib.parse import urlsplit

    try:
        address = str(ray.get_runtime_context().gcs_address)
        parts = urlsplit("ray-gcs://" + address)
        host, port = parts.hostname, parts.port
    except Exception:  # any failure (Ray Client, a stub): no check
        return None
    return (host, port) if host and port else None


def _ray_messages_to_stderr() -> Callable[[], None]:
    """Send Ray's messages to the driver ("(raylet) A worker died or was killed ...", the
    autoscaler's) to stderr instead of stdout, where they were mixed into the results
    (user test ut44_ray #7); returns the function that puts Ray's printer back. Ray's
    listener thread prints them through ``ray._private.worker.print_to_stdstream``, to
    stdout unless a message is marked ``is_err`` (``log_to_driver=False`` does not stop
    them): the wrapper marks each so. Nothing is changed where Ray has no such function."""
    module = sys.modules.get("ray._private.worker")
    original = getattr(module, "print_to_stdstream", None)
    if module is None or not callable(original):
        return lambda: None

    def to_stderr(data: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = {**data, "is_err": True}
        return original(data, *args, **kwargs)

    setattr(module, "print_to_stdstream", to_stderr)  # noqa: B010 - a module of Ray

    def back() -> None:
        if getattr(module, "print_to_stdstream", None) is to_stderr:
            setattr(module, "print_to_stdstream", original)  # noqa: B010

    return back


def _signal_handlers() -> dict[int, Any]:
    """The Python handlers of SIGINT and SIGTERM now (empty outside the main thread, where
    they cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.getsignal(s) for s in interrupt.SIGNALS}


def _restore_signal_handlers(handlers: dict[int, Any]) -> None:
    """Put back feederopt's stop handler where :func:`_signal_handlers` read it before
    ``ray.init``.

    ``ray.init`` installs its own SIGTERM handler (``sys.exit(15)``) over the one a solve
    installed (:func:`feederopt.solvers.interrupt.handle_signals`), and Ray's core worker a
    C++ one that prints a stack and ends the process; so a SIGTERM (what SLURM sends at its
    time limit) during a Ray run ended it with exit 1 or SIGABRT and nothing written, where
    the process pool's run stops with status ``interrupted``, the best answer written and
    exit 143 (user test ut44_ray #1). :func:`signal.signal` sets the operating system's
    handler again, over both. Only feederopt's handler is put back (a caller's own, or none,
    outside a solve, is left to Ray); the Ray started here is shut down by
    :meth:`RayExecutor.close`, and the handler a caller had before the solve is put back when
    ``handle_signals`` ends."""
    for s, h in handlers.items():
        if h is not interrupt.stop_handler():
            continue  # no solve's handler (an executor made outside a solve): Ray's stays
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(s, h)


class RayExecutor(Executor):
    """One Ray actor per worker, each holding a state built by ``factory`` in its constructor.

    ``address``: ``None`` or ``"auto"`` (the CLI's ``--ray auto``) joins the running local
    cluster (``RAY_ADDRESS``, else the latest ``ray start`` head on this machine:
    :func:`_running_local_cluster`) and otherwise starts a local Ray with ``num_cpus`` CPUs
    (all cores by default); ``"local"`` always starts a Ray of its own; any other address
    (``ray://host:10001``, ``host:6379``) joins that cluster. When Ray is already
    initialised in this process its connection is used, for a named address only when it
    is that cluster (else a typed problem: the address was ignored before); a note
    (:attr:`cluster_note`, also as a :class:`~feederopt.errors.FeederoptWarning`) says which
    cluster runs the slaves, unless a named address joined it (``"local"``: the local Ray
    started and its CPUs; user test ut50_par #3).
    The number of actors is
    ``workers`` or, by default, the cluster's available CPU count (:func:`ray_actor_count`:
    never more actors than available CPUs, with a note when ``workers`` asked for more). Items
    are dealt out to the actors round-robin in contiguous batches and gathered in order; a
    round still running :data:`ROUND_GRACE_S` past ``map``'s deadline is dropped
    (:class:`~feederopt.solvers.interrupt.RoundOverran`). A Ray started here is shut down by
    :meth:`close`.
    """

    kind = "ray"

    def __init__(self, factory: StateFactory, address: str | None = None,
                 num_cpus: int | None = None, workers: int | None = None) -> None:
        loaded = sys.modules.get("ray")
        running = loaded is not None and loaded.is_initialized()
        named = None if address in (None, "auto", "local") else address
        set_here: list[str] = []
        if named is not None and not running:
            _check_ray_address(named)
            # Bound Ray's own connect waits (30 s per GCS attempt, 20 attempts by default):
            # its C++ core reads these once, when ``ray`` is first imported. They are taken
            # back after the connect: processes started later (a local Ray's GCS, raylet)
            # keep Ray's defaults.
            set_here = [v for v in _RAY_CONNECT_ENV if v not in os.environ]
            os.environ.update({v: _RAY_CONNECT_ENV[v] for v in set_here})
        try:
            import ray
        except ImportError:
            for var in set_here:
                os.environ.pop(var, None)
            raise InputError([Problem(
                ProblemKind.INVALID_VALUE, "options", "--ray needs Ray, which is not installed",
                field="ray", hint='pip install "feederopt[ray]", or leave --ray out to use '
                "the local process pool")]) from None

        self._started = False
        #: Which cluster runs the slaves, said once as a note (:func:`warn_user`).
        self.cluster_note = ""
        if ray.is_initialized():
            here = _connected_address(ray)
            if named is not None and not _same_cluster(named, here):
                # before, the address was ignored and the slaves ran on the Ray this process
                # was connected to, without a word (user test ut44_ray #3)
                raise InputError([Problem(
                    ProblemKind.INVALID_VALUE, "options",
                    f"Ray is already initialised in this process, connected to "
                    f"{here or 'a cluster whose address Ray does not give'}, not to the "
                    f"cluster at {named} that --ray (ray_address) names", field="ray",
                    hint="call ray.shutdown() before feederopt to join that cluster, or "
                    "give ray_address='auto' to run on the Ray already connected")])
            self.cluster_note = (f"the slaves run on the Ray this process was already "
                                 f"connected to ({here or 'address not given by Ray'})")
        else:
            join, source = named, ""
            if address in (None, "auto"):
                join, source = _running_local_cluster()
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            # Ray's start-up notes (e.g. "Token authentication is enabled for this Ray
            # cluster") are warnings of its own logger: not the user's business, and they
            # broke --quiet. Errors still show.
            ray_logger = logging.getLogger("ray")
            level = ray_logger.level
            ray_logger.setLevel(logging.ERROR)
            handlers = _signal_handlers()
            try:
                if join is not None and source:
                    try:
                        _check_ray_address(join)
                    except InputError:
                        if source != _LATEST_RAY_START:
                            raise  # RAY_ADDRESS names a cluster that does not answer
                        # a record left by a head that is gone
                        self.cluster_note = (f"the latest `ray start` head recorded on this "
                                             f"machine ({join}) does not answer: ")
                        join = None
                if join is None:
                    # "local", or no cluster found: a Ray of its own (without an address
                    # ray.init would join the latest `ray start`, which refuses num_cpus)
                    cpus = num_cpus or os.cpu_count() or 1
                    ray.init(address="local", num_cpus=cpus, **kwargs)
                    if address != "local":
                        self.cluster_note += (
                            f"no running Ray cluster found (RAY_ADDRESS, `ray start`): the "
                            f"slaves run on a local Ray of {cpus} CPUs started for this run")
                    else:  # said too: it takes seconds and a share of memory (ut50_par #3)
                        local = option_ref("ray_address", repr("local"), cli="--ray local")
                        self.cluster_note = note_text(
                            f"{local}: the slaves run on a local Ray of {cpus} CPUs started "
                            "for this run")
                else:
                    with _stderr_held() as held:
                        try:
                            ray.init(address=join, **kwargs)
                        except (ConnectionError, TimeoutError, RuntimeError, ValueError) as e:
                            held.drop()  # Ray's connect warnings: the problem below says it
                            why = f"Ray could not connect ({e})"
                            last = held.last_reason()
                            if last:
                                why += f"; Ray's last warning: {last}"
                            raise _unreachable(join, why) from None
                    if source:
                        self.cluster_note = (
                            f"--ray auto joined the running Ray cluster at "
                            f"{_connected_address(ray) or join} ({source}); --ray local "
                            "starts a Ray of its own")
            finally:
                _restore_signal_handlers(handlers)
                ray_logger.setLevel(level)
                for var in set_here:
                    os.environ.pop(var, None)
            self._started = True
        if self.cluster_note:
            warn_user(self.cluster_note)
        self._stdout_back = _ray_messages_to_stderr()
        wanted = workers or num_cpus
        free = float(ray.available_resources().get("CPU", 0.0))
        settle = time.perf_counter() + RAY_SETTLE_S
        # (at least one CPU: with none free right after an earlier executor's actors were
        # killed, the note of a cluster with no CPU free would be wrong)
        while free < (wanted or 1) and time.perf_counter() < settle:
            time.sleep(POLL_S)  # the CPUs of actors just killed (an earlier executor's)
            free = float(ray.available_resources().get("CPU", 0.0))
        self.workers, note = ray_actor_count(wanted, free,
                                             float(ray.cluster_resources().get("CPU", 0.0)))
        if note:
            warn_user(note)
        actor = ray.remote(num_cpus=1)(_StateHolder)
        self._actors: list[Any] = [actor.remote(factory) for _ in range(self.workers)]
        #: The head's GCS (host, port), checked while a round runs (:meth:`_head_lost`).
        self._gcs = _gcs_host_port(ray)
        self._next_check = 0.0
        #: The head stopped answering: Ray is not asked anything more (it would wait).
        self._lost = False
        self._lost_reason: str | None = None
        #: Between rounds (a master MILP runs for minutes) a thread watches the head
        #: (:meth:`_watch_head`); set by :meth:`close`.
        self._watch_stop = threading.Event()
        if self._gcs is not None:
            threading.Thread(target=self._watch_head, name="feederopt-ray-head",
                             daemon=True).start()

    def _probe_head(self) -> str | None:
        """Why the head's GCS port does not answer a TCP connection within
        :data:`RAY_HEAD_TIMEOUT_S`, or None when it answers (or Ray does not say where it is)."""
        if self._gcs is None:
            return None
        import socket

        host, port = self._gcs
        try:
            with socket.create_connection((host, port), timeout=RAY_HEAD_TIMEOUT_S):
                pass
        except OSError as e:
            return (f"the Ray cluster was lost: its head ({host}:{port}) does not answer "
                    f"({e.strerror or type(e).__name__})")
        return None

    def _head_lost(self) -> str | None:
        """Why the cluster is gone, or None: every :data:`RAY_HEAD_CHECK_S`, a TCP connection
        to the head's GCS port (:meth:`_probe_head`), or what :meth:`_watch_head` found.

        When the head is stopped mid-run (``ray stop`` on it, a node lost), Ray's wait only
        shows the round as still running, and Ray's core ends the process 60 s later
        ("Failed to connect to GCS within 60 seconds ... The program will terminate", exit
        1): nothing was written (user test ut44_ray #2). Found here, the run stops as after a
        dead worker (status ``interrupted``, the best answer written) within seconds."""
        if self._lost:
            return self._lost_reason
        if self._gcs is None or time.perf_counter() < self._next_check:
            return None
        why = self._probe_head()
        if why is not None:
            self._lost, self._lost_reason = True, why
            return why
        self._next_check = time.perf_counter() + RAY_HEAD_CHECK_S
        return None

    def _watch_head(self) -> None:
        """The head lost between rounds, while the master or the start heuristics run: the
        rounds' check (:meth:`_head_lost`) never ran then, and Ray's core ended the process 60
        s after the head was lost, nothing written (session 44's note). Every
        :data:`RAY_HEAD_CHECK_S` until :meth:`close`, the head is probed; when it does not
        answer, the solve is asked to stop (:func:`~feederopt.solvers.interrupt.stop_for`:
        the master's solver sees the request, the run ends ``interrupted`` with its best
        answer written and the reason), once."""
        while not self._watch_stop.wait(RAY_HEAD_CHECK_S):
            if self._lost:
                return
            why = self._probe_head()
            if why is not None and not self._watch_stop.is_set():
                self._lost, self._lost_reason = True, why
                interrupt.stop_for(why)
                return

    def map(self, fn: TaskFn, items: Sequence[Any],
            deadline: float | None = None) -> list[Any]:
        import ray

        items = list(items)
        if not items:
            return []
        lost = self._head_lost()
        if lost:
            raise interrupt.stop_for(lost)
        n = len(self._actors)
        size = max(1, math.ceil(len(items) / (2 * n)))
        chunks = [items[i: i + size] for i in range(0, len(items), size)]
        fn_ref = ray.put(fn)
        refs = [self._actors[k % n].run_many.remote(fn_ref, chunk)
                for k, chunk in enumerate(chunks)]
        pending = list(refs)
        end = round_end(deadline)
        while pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
            late = bool(pending) and time.perf_counter() > end
            lost = self._head_lost() if pending else None
            if lost:
                raise interrupt.stop_for(lost)
            if interrupt.requested() or late:
                for ref in pending:
                    with contextlib.suppress(Exception):
                        ray.cancel(ref)
                interrupt.raise_if_requested()
                raise _overran(len(pending), len(refs))
        out: list[Any] = []
        try:
            parts = ray.get(refs)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                ray.exceptions.NodeDiedError) as exc:
            raise interrupt.stop_for(
                f"a Ray worker died ({type(exc).__name__})") from exc
        except ray.exceptions.RayTaskError as exc:
            raise task_error_cause(exc) from exc
        for part in parts:
            out.extend(part)
        return out

    def worker_memory_mb(self) -> list[float]:
        """The peak resident set [MB] of the actors that answer within
        :data:`RAY_PROBE_TIMEOUT_S` (one never placed, or still busy with a dropped round,
        does not: it was waited for for ever)."""
        import ray

        if self._lost:
            return []
        refs = [a.peak_rss_mb.remote() for a in self._actors]
        if not refs:
            return []
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=RAY_PROBE_TIMEOUT_S)
        out = []
        for ref in ready:
            with contextlib.suppress(ray.exceptions.RayError):  # a worker that died
                out.append(float(ray.get(ref)))
        return sorted(out)

    def close(self) -> None:
        import ray

        stop = getattr(self, "_watch_stop", None)
        if stop is not None:
            stop.set()  # before Ray is shut down: its head's port closes then
        if getattr(self, "_lost", False):  # the head is gone: asking Ray would wait on it
            self._actors = []
        for a in getattr(self, "_actors", []):
            with contextlib.suppress(Exception):  # an actor that died already
                ray.kill(a)
        self._actors = []
        getattr(self, "_stdout_back", lambda: None)()
        if self._started and ray.is_initialized():
            ray.shutdown()
            self._started = False


def _is_main_guard(node: ast.If) -> bool:
    """``node`` is ``if __name__ == "__main__":`` (either side of the ``==``)."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return (any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides)
            and any(isinstance(x, ast.Constant) and x.value == "__main__" for x in sides))


def _guarded_lines(source: str) -> list[tuple[int, int]] | None:
    """The line spans of the bodies of the ``if __name__ == "__main__":`` blocks of
    ``source``; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return [(node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno)
            for node in ast.walk(tree) if isinstance(node, ast.If) and _is_main_guard(node)]


def _is_cell(filename: str) -> bool:
    """A code object's file name that IPython gives the code it runs from a script
    (``ipython script.ipy`` runs the file as one cell, ``<ipython-input-1-...>``, whose line
    numbers are the file's) or a cell: the main module's top level run from no file of its
    own (user test ut48_pyapi #4: the script's top-level call was not found, and every
    worker died running it again)."""
    return filename.startswith("<ipython-input-") or "/ipykernel_" in filename


def spawn_main_problem() -> str | None:
    """Why a ``spawn`` process pool started now would die, or None.

    A worker started with ``spawn`` imports the parent's main module first (as
    ``__mp_main__``, :mod:`multiprocessing.spawn`), unless it has no file (an interactive
    session, ``python -c``, a notebook) or is a package's ``__main__``. That fails when

    * the main module was read from standard input (``python - < cell.py``): its "file" is
      ``<stdin>``, which the worker cannot open, and every worker dies at once;
    * the main module calls feederopt from its top level outside an
      ``if __name__ == "__main__":`` block: each worker runs the call again while it starts
      and multiprocessing refuses it ("An attempt has been made to start a new process
      before the current process has finished its bootstrapping phase"), so the workers die.

    Either way the pool's map ended the solve with "a worker process of the pool died" (user
    test ut34 #3). The second case is found from the call stack: the main module's own frame
    (its top-level code), at a line outside the guard's body."""
    main = sys.modules.get("__main__")
    if main is None:
        return None
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if isinstance(spec_name, str) and (spec_name == "__main__"
                                       or spec_name.endswith(".__main__")):
        return None  # a package's __main__ (python -m feederopt): spawn does not import it
    path = getattr(main, "__file__", None)
    if not isinstance(path, str) or not path:
        return None  # interactive, python -c, a notebook: nothing to import
    if not os.path.isfile(path):
        return (f"the main module was read from {path} (not from a file), which the pool's "
                "worker processes cannot import")
    frame = sys._getframe(1)
    here = os.path.realpath(path)
    while frame is not None:
        if (frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"
                and (os.path.realpath(frame.f_code.co_filename) == here
                     or _is_cell(frame.f_code.co_filename))):
            break
        frame = frame.f_back  # type: ignore[assignment]
    else:
        return None  # called from a function the main module's top level did not run
    try:
        with open(path, encoding="utf-8") as fh:
            spans = _guarded_lines(fh.read())
    except (OSError, UnicodeDecodeError):
        return None
    line = frame.f_lineno
    if spans is None:
        # the worker runs the file as Python (runpy), and it is none: IPython's magics
        return (f"{os.path.basename(path)}, the main module, is not Python that the pool's "
                "worker processes can import (IPython syntax?)")
    if any(a <= line <= b for a, b in spans):
        return None
    return (f"{os.path.basename(path)} calls feederopt at its top level (line {line}) "
            "without the `if __name__ == \"__main__\":` guard, so each worker process "
            "would run that call again while it starts")


def daemon_problem() -> str | None:
    """Why this process cannot start a process pool of its own, or None.

    A daemonic process may not have children: :mod:`multiprocessing` refuses to start one
    (``AssertionError: daemonic processes are not allowed to have children``,
    ``multiprocessing.process.BaseProcess.start``). The workers of a ``multiprocessing.Pool``
    are daemonic, so a solve called from a Pool's worker died with that bare assertion at its
    first round of slaves (user test ut50_pyapi #1)."""
    proc = mp.current_process()
    if not proc.daemon:
        return None
    return (f"this process ({proc.name}) is daemonic, a worker of a multiprocessing.Pool say, "
            "and multiprocessing does not let a daemonic process start processes of its own")


def make_executor(factory: StateFactory, workers: int | None = None,
                  ray_address: str | None = None) -> Executor:
    """The executor the CLI options ask for.

    ``ray_address``: ``None`` for no Ray; ``"auto"`` joins the running local Ray cluster
    (``RAY_ADDRESS``, the latest ``ray start``) or else starts a local Ray with ``workers``
    CPUs (all cores by default), ``"local"`` always starts one; anything else is a cluster
    address to join (:class:`RayExecutor`).
    Without Ray, ``workers == 1`` runs serially and ``workers > 1`` (default: all cores) uses a
    local process pool, unless its workers could not start (:func:`daemon_problem`: this
    process is a worker of a ``multiprocessing.Pool``; :func:`spawn_main_problem`: a
    script fed on standard input, or one without the ``if __name__ == "__main__":`` guard):
    then the work runs serially in this process, with a
    :class:`~feederopt.errors.FeederoptWarning` that says why and how to get the pool.
    """
    if ray_address is not None:
        if ray_address in ("auto", "local"):
            return RayExecutor(factory, ray_address, num_cpus=workers, workers=workers)
        return RayExecutor(factory, ray_address, workers=workers)
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1:
        return SerialExecutor(factory)
    why = daemon_problem()
    if why is not None:
        warn_user(
            f"feederopt runs the work of its {n} worker processes serially in this process: "
            f"{why}. To use feederopt's process pool, call it from a process that is not "
            "daemonic (a concurrent.futures.ProcessPoolExecutor's workers are not); workers=1 "
            "asks for the serial run (and silences this warning)")
        return SerialExecutor(factory)
    why = spawn_main_problem()
    if why is not None:
        warn_user(
            f"feederopt runs the work of its {n} worker processes serially in this process: "
            f"{why}. To use the process pool, put the script's code under "
            "`if __name__ == \"__main__\":` and run it from a file; workers=1 asks for the "
            "serial run (and silences this warning)")
        return SerialExecutor(factory)
    return ProcessExecutor(factory, n)
