"""Executors: the same answers, in the same order, serially, in a process pool and on Ray (a
local Ray with 2 CPUs); a stochastic and a robust solve give identical results on all three."""

from __future__ import annotations

import numpy as np
import pytest

from feederopt.algorithms.slaves import SlaveFactory, evaluate_task
from feederopt.execution import RayExecutor, SerialExecutor, make_executor
from feederopt.io.scenarios import scenario_set_from_arrays
from feederopt.network import to_per_unit
from feederopt.problems.uncertain import envelope
from test_stochastic import meshed, scenarios_for

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def case():
    net = meshed(2)
    pu = to_per_unit(net)
    p, q = scenarios_for(pu, np.random.default_rng(0), 6)
    return net, pu, p, q


def _items(pu, p, q):
    ys = [pu.initial_closed().astype(float)]
    closed = np.ones(pu.n_branch)
    closed[:2] = 0.0  # another state (need not be radial: the slave takes any y)
    ys.append(closed)
    return [(p[s], q[s], y, True) for y in ys for s in range(len(p))]


def _same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.feasible == y.feasible
        assert x.objective == y.objective or (np.isnan(x.objective) and np.isnan(y.objective))
        np.testing.assert_array_equal(x.gradient, y.gradient)


def test_map_is_ordered_and_identical(case, local_ray) -> None:
    _, pu, p, q = case
    env = envelope(pu, p, q)
    factory = SlaveFactory(env, "penalized", 1e4)
    items = _items(pu, p, q)
    ref = SerialExecutor(factory).map(evaluate_task, items)
    with RayExecutor(factory, workers=2) as ex:
        _same(ref, ex.map(evaluate_task, items))
        assert ex.kind == "ray" and len(ex.worker_memory_mb()) == 2
    assert ray.is_initialized()  # a Ray the executor did not start stays up
    assert isinstance(make_executor(factory, 1), SerialExecutor)


def test_solves_identical_for_1_2_workers_and_ray(case, local_ray) -> None:
    net, pu, p, q = case
    sset = scenario_set_from_arrays(pu, p[:4], q[:4])
    from feederopt.uncertainty import solve_robust, solve_scenarios

    # One pool and one set of actors serve both solves (each run builds its own slaves).
    def runs(kind: str):
        return {
            "serial": dict(workers=1),
            "pool": dict(workers=2),
            "ray": dict(workers=2, ray_address="auto"),  # joins the running local Ray
        }[kind]

    out = {k: solve_scenarios(net, sset, gap=1e-6, penalty=1e4, ac_check=False, **runs(k))
           for k in ("serial", "pool", "ray")}
    ref = out["serial"]
    assert out["pool"].to_dict()["stochastic"]["executor"] == "process"
    assert out["ray"].to_dict()["stochastic"]["executor"] == "ray"
    for res in out.values():
        assert res.open_branches == ref.open_branches
        assert res.objective == ref.objective
        assert res.lower_bound == ref.lower_bound
        assert res.iterations == ref.iterations
        assert [s["objective_kw"] for s in res.to_dict()["scenarios"]] == [
            s["objective_kw"] for s in ref.to_dict()["scenarios"]]
    rob = {k: solve_robust(net, 0.2, uncertain_loads=["d1", "d3", "d5"], gap=1e-6,
                           ac_check=False, **runs(k)) for k in ("serial", "ray")}
    for res in rob.values():
        assert res.open_branches == rob["serial"].open_branches
        assert res.objective == rob["serial"].objective
        assert res.to_dict()["robust"] == rob["serial"].to_dict()["robust"]


def test_ray_missing_is_a_typed_problem(monkeypatch) -> None:
    """Without the optional Ray (the ``ray`` extra), asking for it is bad input naming the
    option, not an ImportError."""
    import sys

    from feederopt.errors import InputError
    from feederopt.execution.executors import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(InputError) as err:
        RayExecutor(None)  # type: ignore[arg-type]
    assert err.value.problems[0].field == "ray"
    assert "feederopt[ray]" in err.value.problems[0].hint


def test_unreachable_ray_address_is_a_typed_problem_within_seconds() -> None:
    """``--ray 127.0.0.1:<closed port>`` hung past --time-limit (Ray retried for minutes, also
    at the node's own address, printing its GCS warnings); it is bad input naming the address:
    exit code 2, no Ray log lines, no traceback."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port nothing listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    proc = subprocess.run(
        [sys.executable, "-c", "from feederopt.cli import main; main()", "solve", "case33bw",
         "--robust", "0.2", "--ray", address, "--time-limit", "30"],
        capture_output=True, text=True, timeout=90)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot connect to the Ray cluster at {address}" in proc.stderr
    assert "options.ray" in proc.stderr
    assert "Traceback" not in proc.stderr and "rpc_client" not in proc.stderr


def test_a_token_cluster_gets_the_token_hint() -> None:
    """User test ut_growth #2: Ray 2.5x's ``ray start --head`` asks for a token; the message
    quoted Ray's InvalidAuthToken but the hint said only to give the address (given)."""
    from feederopt.execution.executors import _unreachable

    why = ("Ray could not connect (Failed to connect); Ray's last warning: Unauthenticated: "
           "RPC error: InvalidAuthToken: Authentication token is missing or incorrect")
    (problem,) = _unreachable("10.0.0.1:6379", why).problems
    assert "RAY_AUTH_MODE=token" in problem.hint and problem.field == "ray"
    (plain,) = _unreachable("10.0.0.1:6379", "connection refused").problems
    assert "RAY_AUTH_MODE" not in plain.hint
