"""User test ut44_ray: what a Ray cluster does to a run that the process pool never sees.

1. SIGTERM during a Ray run (what SLURM sends at its time limit) ended the process with
   SIGABRT or exit 1 and nothing written: ``ray.init`` had put its own SIGTERM handlers (a
   Python one calling ``sys.exit``, a C++ one printing a stack) over feederopt's. The truth
   checked: the process's exit status and the file it wrote (143 = 128 + SIGTERM, status
   ``interrupted``), as for the pool; the signal is sent by the run itself at its first round
   of slaves on Ray, so it always comes while Ray runs.
2. The cluster's head lost mid-run: the round waited until Ray's core ended the process 60 s
   later, nothing written. Checked against a stub cluster whose head is a real listening
   socket that the test closes (a head that does not answer): the round stops within
   seconds, as after a dead worker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feederopt.algorithms.slaves import SlaveFactory, evaluate_task
from feederopt.execution import RayExecutor
from feederopt.execution import executors as ex_mod
from feederopt.network import to_per_unit
from feederopt.problems.uncertain import envelope
from feederopt.solvers import interrupt
from test_ray_capacity import _Cluster
from test_stochastic import meshed, scenarios_for

#: Sends SIGTERM to its own process when the first round of slaves goes to Ray, then runs the
#: command line given.
_TERM_AT_FIRST_ROUND = """
import os, signal, sys
from feederopt.execution import executors as ex
original = ex.RayExecutor.map
sent = []
def map_then_term(self, fn, items, deadline=None):
    if not sent:
        sent.append(1)
        os.kill(os.getpid(), signal.SIGTERM)
    return original(self, fn, items, deadline)
ex.RayExecutor.map = map_then_term
from feederopt.cli import main
sys.argv = ["feederopt", *sys.argv[1:]]
main()
"""


def test_sigterm_during_a_ray_run_writes_the_answer(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run(
        [sys.executable, "-c", _TERM_AT_FIRST_ROUND, "solve", "case33bw", "--robust", "0.2",
         "--ray", "local", "--workers", "1", "--time-limit", "60", "-o", str(out)],
        capture_output=True, text=True, timeout=120, env=env)
    # before: -6 (SIGABRT, Ray's C++ handler) and no result.json
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr[-2000:]
    assert "SIGTERM received" not in proc.stderr  # Ray's C++ handler's stack dump
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "interrupted"


class _Head(_Cluster):
    """The stub cluster, with a head: a real listening TCP socket standing for its GCS."""

    def __init__(self, cpus: int) -> None:
        super().__init__(cpus)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.kills = 0

    def get_runtime_context(self) -> Any:
        return type("Ctx", (), {"gcs_address": f"127.0.0.1:{self.port}"})()

    def kill(self, actor: Any) -> None:
        self.kills += 1
        super().kill(actor)


def test_a_lost_head_stops_the_round_with_a_reason(monkeypatch) -> None:
    cluster = _Head(cpus=2)
    cluster.rounds_left = 0  # the round never ends: the head is gone
    monkeypatch.setitem(sys.modules, "ray", cluster)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    monkeypatch.setattr(ex_mod, "RAY_HEAD_CHECK_S", 0.2, raising=False)
    pu = to_per_unit(meshed(2))
    p, q = scenarios_for(pu, np.random.default_rng(0), 4)
    factory = SlaveFactory(envelope(pu, p, q), "penalized", 1e4)
    y = pu.initial_closed().astype(float)
    items = [(p[s], q[s], y, True) for s in range(len(p))]
    ex = RayExecutor(factory, workers=2)
    threading.Timer(0.5, cluster.sock.close).start()  # the head stops answering
    with interrupt.handle_signals():
        t0 = time.perf_counter()
        # before: the stub's "hang" (8 s waiting: it would wait for ever)
        with pytest.raises(interrupt.Interrupted, match="Ray cluster was lost"):
            ex.map(evaluate_task, items)
        assert time.perf_counter() - t0 < 4.0
        assert "head (127.0.0.1:" in (interrupt.reason() or "")
    assert ex.worker_memory_mb() == []  # not waited for
    ex.close()
    assert cluster.kills == 0  # nothing asked of a cluster that is gone
    interrupt.clear()


def test_scenario_starts_keep_to_their_seconds(monkeypatch) -> None:
    """#5: ``--time-limit 2`` with 120 scenarios ended its optimisation at 7.5 s (pool) and
    11.2 s (Ray): each of the 8 heaviest scenarios' start heuristics had at least 0.5 s,
    4 s in all, before the first round of slaves. A start heuristic that uses its whole
    budget (a stand-in that sleeps it) shows the total: at most the ``seconds`` given,
    measured on the clock."""
    import feederopt
    from feederopt import api
    from feederopt.problems.reconfiguration import RadialityModel

    budgets: list[float] = []

    def slow_starts(ev: Any, seconds: float, fallback: Any = None, **kw: Any) -> Any:
        budgets.append(seconds)
        time.sleep(seconds)
        return [fallback], []

    monkeypatch.setattr(api, "start_topologies", slow_starts)
    net = feederopt.load("case33bw")
    prep = api.prepare(net, RadialityModel.PARENT_CHILD)
    pu = prep.reduced
    rng = np.random.default_rng(1)
    n = 12
    p = pu.p_load[None, :] * rng.uniform(0.8, 1.2, (n, pu.n_bus))
    q = pu.q_load[None, :] * rng.uniform(0.8, 1.2, (n, pu.n_bus))
    t0 = time.perf_counter()
    api.scenario_starts(prep, RadialityModel.PARENT_CHILD, "CLARABEL", p, q, np.ones(n),
                        None, 1.0, pu.initial_closed().astype(float))
    took = time.perf_counter() - t0
    assert took < 1.0 + 0.4, budgets  # before: 8 x 0.5 s = 4 s
    assert sum(budgets) <= 1.0 + 1e-9


def test_a_master_given_no_time_is_not_called_a_time_limited_search() -> None:
    """#5: the iteration note "master time_limit" for a master that ran 0.03 s, all the time
    having gone before it."""
    from feederopt.algorithms import master

    assert master.master_stopped_note("time_limit", -4.2).startswith(
        "time limit reached before the master (0.00 s left)")
    assert master.master_stopped_note("time_limit", 30.0) == "master time_limit"
    assert master.master_stopped_note("interrupted", 0.0) == "master interrupted"


# ----- #3, #4, #6: which cluster runs the slaves ------------------------------------------
class _Fresh(_Head):
    """The stub with a head, not yet initialised in this process: ``init`` records the
    address it was asked for."""

    def __init__(self, cpus: int) -> None:
        super().__init__(cpus)
        self.joined: list[Any] = []
        self._up = False

    def is_initialized(self) -> bool:
        return self._up

    def init(self, address: Any = None, **kw: Any) -> None:
        self.joined.append(address)
        self._up = True

    def shutdown(self) -> None:
        self._up = False


def _factory() -> SlaveFactory:
    pu = to_per_unit(meshed(2))
    p, q = scenarios_for(pu, np.random.default_rng(0), 2)
    return SlaveFactory(envelope(pu, p, q), "penalized", 1e4)


def test_a_named_cluster_other_than_the_one_connected_is_refused(monkeypatch) -> None:
    """#3: with Ray already initialised in the process, ``ray_address`` was ignored: the
    slaves ran on the connected Ray, silently. Truth: the two addresses."""
    from feederopt.errors import FeederoptWarning, InputError

    cluster = _Head(cpus=2)  # initialised, connected to 127.0.0.1:<port>
    monkeypatch.setitem(sys.modules, "ray", cluster)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    with pytest.raises(InputError) as err:
        RayExecutor(_factory(), "127.0.0.1:1", workers=1)
    problem = err.value.problems[0]
    assert problem.field == "ray" and "127.0.0.1:1" in problem.message
    assert f"127.0.0.1:{cluster.port}" in problem.message and "ray.shutdown()" in problem.hint
    # the cluster it is connected to, named by a loopback name: used, and said so
    with pytest.warns(FeederoptWarning, match=f"already connected to \\(127.0.0.1:{cluster.port}"):
        RayExecutor(_factory(), f"localhost:{cluster.port}", workers=1).close()
    cluster.sock.close()


def test_no_free_cpu_is_said_at_start() -> None:
    """#4: every CPU of the cluster held by other jobs: the run idled to its time limit with
    nothing on stderr. One actor (it waits for a CPU), and a note."""
    n, note = ex_mod.ray_actor_count(None, 0.0, 2.0)
    assert n == 1 and note is not None and "none of its 2 CPUs free" in note
    n, note = ex_mod.ray_actor_count(3, 0.0, 2.0)
    assert n == 1 and note is not None and note.startswith("--workers 3")
    assert ex_mod.ray_actor_count(None, 2.0, 2.0) == (2, None)


def test_auto_joins_the_cluster_of_ray_address(monkeypatch) -> None:
    """#6: ``--ray auto`` started a second Ray beside a running cluster; in Ray, no address
    (and ``auto``) means RAY_ADDRESS, else the latest ``ray start``. Truth: the address the
    stub was asked to join; ``local`` still starts a Ray of its own."""
    from feederopt.errors import FeederoptWarning

    cluster = _Fresh(cpus=2)
    monkeypatch.setitem(sys.modules, "ray", cluster)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    address = f"127.0.0.1:{cluster.port}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.warns(FeederoptWarning, match="--ray auto joined the running Ray cluster"):
        ex = RayExecutor(_factory(), "auto", workers=1)
    ex.close()
    assert cluster.joined == [address]
    RayExecutor(_factory(), "local", workers=1).close()
    assert cluster.joined[-1] == "local"
    cluster.sock.close()


def test_auto_finds_the_latest_ray_start(monkeypatch, tmp_path: Path) -> None:
    """#6: Ray's record of the latest ``ray start`` head (``ray_current_cluster`` in Ray's
    temporary directory, RAY_TMPDIR) is what ``auto`` joins; without it, nothing."""
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert ex_mod._running_local_cluster() == (None, "")
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text("192.0.2.7:6380")
    assert ex_mod._running_local_cluster()[0] == "192.0.2.7:6380"


def test_same_cluster_rule() -> None:
    node = socket.gethostbyname(socket.gethostname())
    assert ex_mod._same_cluster("127.0.0.1:6787", f"{node}:6787")
    assert ex_mod._same_cluster(f"{node}:6787", f"{node}:6787")
    assert not ex_mod._same_cluster("127.0.0.1:6788", f"{node}:6787")
    assert not ex_mod._same_cluster("192.0.2.250:6787", "192.0.2.251:6787")


# ----- #7 ---------------------------------------------------------------------------------
def test_a_port_out_of_range_is_said_so() -> None:
    from feederopt.errors import InputError

    with pytest.raises(InputError) as err:
        ex_mod._check_ray_address("127.0.0.1:99999")  # before: "not of the form host:port"
    assert "port 99999 is out of range (0-65535)" in err.value.problems[0].message


def test_rays_messages_go_to_stderr(monkeypatch, capsys, tmp_path: Path) -> None:
    """Ray's "(raylet) A worker died ..." lines were mixed into stdout, the results: Ray's
    own printer (``ray._private.worker.print_to_stdstream``) is sent to stderr while the
    executor lives, and put back after."""
    real = pytest.importorskip("ray")
    import ray._private.worker as ray_worker

    cluster = _Fresh(cpus=2)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))  # no `ray start` record: a local Ray
    message = {"lines": ["A worker died or was killed while executing a task"],
               "pid": "raylet", "is_err": False}
    try:
        sys.modules["ray"] = cluster  # type: ignore[assignment]
        ex = RayExecutor(_factory(), workers=1)
        sys.modules["ray"] = real  # Ray's printer needs the real module
        ray_worker.print_to_stdstream(message, ignore_prefix=False)
        out, err = capsys.readouterr()
        assert "A worker died" in err and "A worker died" not in out
        sys.modules["ray"] = cluster  # type: ignore[assignment]
        ex.close()
    finally:
        sys.modules["ray"] = real
    ray_worker.print_to_stdstream(dict(message, lines=["after close"]), ignore_prefix=False)
    assert "after close" in capsys.readouterr().out  # Ray's printer back
    cluster.sock.close()


def test_a_head_lost_between_rounds_asks_the_solve_to_stop(monkeypatch) -> None:
    """The head lost while no round runs (the master's MILP, minutes): before, nothing
    noticed until Ray's core ended the process 60 s later, nothing written (session 44's
    note). The executor's watch asks the solve to stop within seconds, with the reason; a
    closed executor's watch asks nothing (a head shut down after the run is not lost)."""
    cluster = _Head(cpus=2)
    monkeypatch.setitem(sys.modules, "ray", cluster)
    monkeypatch.setattr(ex_mod, "RAY_SETTLE_S", 0.2)
    monkeypatch.setattr(ex_mod, "RAY_HEAD_CHECK_S", 0.2, raising=False)
    pu = to_per_unit(meshed(2))
    p, q = scenarios_for(pu, np.random.default_rng(0), 4)
    factory = SlaveFactory(envelope(pu, p, q), "penalized", 1e4)
    with interrupt.handle_signals():
        ex = RayExecutor(factory, workers=2)
        time.sleep(0.6)
        assert not interrupt.requested()  # the head answers: nothing asked
        cluster.sock.close()  # the head stops answering; no map() runs
        t0 = time.perf_counter()
        while not interrupt.requested() and time.perf_counter() - t0 < 6.0:
            time.sleep(0.05)
        assert interrupt.requested(), "the lost head was not noticed between rounds"
        assert "Ray cluster was lost" in (interrupt.reason() or "")
        ex.close()
    interrupt.clear()

    other = _Head(cpus=2)
    monkeypatch.setitem(sys.modules, "ray", other)
    with interrupt.handle_signals():
        ex = RayExecutor(factory, workers=2)
        ex.close()
        other.sock.close()  # the head shut down after the executor was closed
        time.sleep(1.0)
        assert not interrupt.requested()
    interrupt.clear()
