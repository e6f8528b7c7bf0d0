"""Stochastic reconfiguration against brute force: on small meshed grids, every radial topology
times every scenario.

The enumeration is independent of the algorithm: radiality by union-find
(``test_reconfiguration_property.radial``), and each scenario's value from a penalised slave
built on the scenario's *own* network (``pu.with_loads(p_s, q_s)``: its own big-M values and
passivity), not on the envelope network that the algorithm uses.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest

from feederopt.algorithms.base import StopOptions
from feederopt.algorithms.outcomes import StochasticOutcome
from feederopt.algorithms.slaves import PenalizedEvaluator
from feederopt.algorithms.stochastic import StochasticBenders, StochasticOptions
from feederopt.io.scenarios import scenario_set_from_arrays
from feederopt.network import Network, PerUnitNetwork, to_per_unit
from feederopt.problems.reconfiguration import RadialityModel, ReconfigurationProblem
from feederopt.problems.uncertain import envelope, presolve_for
from feederopt.solvers.status import Status
from feederopt.uncertainty import solve_scenarios
from test_reconfiguration_property import radial


def meshed(seed: int, n: int = 7, extra: int = 2, v_min: float = 0.9) -> Network:
    """A random tree on ``n`` buses plus ``extra`` chords, all branches switchable."""
    rng = np.random.default_rng(seed)
    edges = {(int(rng.integers(0, j)), j) for j in range(1, n)}
    while len(edges) < n - 1 + extra:
        a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        edges.add((a, b))
    el = sorted(edges)
    r = rng.uniform(0.3, 1.5, len(el))
    buses = pl.DataFrame({"id": [f"b{i}" for i in range(n)], "vn_kv": [12.66] * n,
                          "is_source": [i == 0 for i in range(n)],
                          "v_min_pu": [v_min] * n, "v_max_pu": [1.1] * n})
    branches = pl.DataFrame({"id": [f"l{k}" for k in range(len(el))],
                             "from_bus": [f"b{a}" for a, _ in el],
                             "to_bus": [f"b{b}" for _, b in el], "r_ohm": r,
                             "x_ohm": r * rng.uniform(0.5, 1.5, len(el)),
                             "switchable": [True] * len(el)})
    p = rng.uniform(0.2, 0.8, n - 1)
    loads = pl.DataFrame({"id": [f"d{i}" for i in range(1, n)],
                          "bus": [f"b{i}" for i in range(1, n)],
                          "p_mw": p, "q_mvar": 0.5 * p})
    return Network.from_tables(buses=buses, branches=branches, loads=loads,
                               name=f"meshed{seed}").check()


def scenarios_for(pu, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Load growth per scenario plus PV (net injection) at a random bus in some scenarios."""
    p = np.tile(pu.p_load, (count, 1)) * rng.uniform(0.7, 1.4, (count, 1))
    q = np.tile(pu.q_load, (count, 1)) * rng.uniform(0.7, 1.4, (count, 1))
    for s in range(count):
        if s % 2:
            j = int(rng.integers(1, pu.n_bus))
            p[s, j] -= 1.5 * pu.p_load[j] + 0.3  # reverse power at bus j
    return p, q


def brute_force(pu, p, q, weights, penalty) -> tuple[float, list[np.ndarray], dict]:
    evs = [PenalizedEvaluator(ReconfigurationProblem(pu.with_loads(p[s], q[s])), penalty)
           for s in range(len(p))]
    m = pu.n_branch
    k_open = m - (pu.n_bus - int(pu.is_source.sum()))
    values: dict[bytes, float] = {}
    for opened in itertools.combinations(range(m), k_open):
        closed = np.ones(m, dtype=bool)
        closed[list(opened)] = False
        if not radial(pu.n_bus, pu.f, pu.t, closed, pu.is_source):
            continue
        y = closed.astype(float)
        vals = [ev.evaluate(y, need_gradient=False).objective for ev in evs]
        values[closed.tobytes()] = float(np.dot(weights, vals))
    best = min(values.values())
    argbest = [np.frombuffer(k, dtype=bool) for k, v in values.items()
               if v <= best * (1 + 1e-6) + 1e-9]
    return best, argbest, values


@pytest.mark.parametrize("enumerate_", [False, True], ids=["master", "enumeration"])
@pytest.mark.parametrize("seed,v_min", [(1, 0.9), (2, 0.9), (5, 0.96), (11, 0.97)])
def test_stochastic_matches_brute_force(seed: int, v_min: float, enumerate_: bool) -> None:
    """Both searches, the master (``enumeration_max_solves=0``) and the enumeration of the
    radial topologies that these small grids get by default, find the brute force's
    optimum."""
    net = meshed(seed, v_min=v_min)
    pu = to_per_unit(net)
    rng = np.random.default_rng(100 + seed)
    p, q = scenarios_for(pu, rng, 4)
    weights = rng.uniform(0.5, 2.0, 4)
    weights /= weights.sum()
    penalty = 1e4
    best, argbest, _ = brute_force(pu, p, q, weights, penalty)
    reduced, _ = presolve_for(pu, p, q)
    problem = ReconfigurationProblem(envelope(reduced, p, q), RadialityModel.PARENT_CHILD)
    algo = StochasticBenders(problem, p, q, weights,
                             StochasticOptions(stop=StopOptions(gap=1e-7, time_limit_s=120),
                                               penalty=penalty,
                                               **({} if enumerate_ else
                                                  {"enumeration_max_solves": 0})))
    raw = algo.run(initial=[pu.initial_closed().astype(float)])
    assert raw.status is Status.OPTIMAL
    assert ("enumerated_topologies" in raw.timings) is enumerate_
    assert raw.y is not None
    closed = raw.y > 0.5
    assert radial(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
    assert raw.objective == pytest.approx(best, rel=1e-5, abs=1e-6)
    assert any(np.array_equal(closed, b) for b in argbest) or raw.objective <= best * (1 + 1e-5)
    assert raw.lower_bound <= raw.objective + 1e-9
    # The per-scenario values the algorithm reports are the scenario models' own.
    ref = [PenalizedEvaluator(ReconfigurationProblem(pu.with_loads(p[s], q[s])), penalty)
           .evaluate(raw.y, need_gradient=False).objective for s in range(4)]
    assert isinstance(raw.outcome, StochasticOutcome)
    got = [r.objective for r in raw.outcome.scenario_results]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_penalty_trades_slack_and_reports_worst_scenario() -> None:
    """With v_min out of reach in a heavy scenario, every topology needs slack there; the
    result reports that scenario as the worst, with its violations."""
    net = meshed(3, v_min=0.9)
    pu = to_per_unit(net)
    p = np.vstack([pu.p_load, 10.0 * pu.p_load])
    q = np.vstack([pu.q_load, 10.0 * pu.q_load])
    sset = scenario_set_from_arrays(pu, p, q, weights=[0.9, 0.1], names=["normal", "heavy"])
    res = solve_scenarios(net, sset, gap=1e-6, penalty=1e4, ac_check=False)
    # every topology needs slack in "heavy": proven (user test ut_uncert #1: the status was
    # optimal and within_limits true), the run exits 3
    assert res.status is Status.INFEASIBLE and not res.within_limits
    assert res.to_dict()["infeasible_scenario"] == "heavy"
    # a proof states +inf and what proved it (ut36_core #2: a finite or -inf bound, no reason)
    assert res.lower_bound == math.inf and res.to_dict()["lower_bound"] == "inf"
    assert "scenario heavy" in res.to_dict()["infeasible_reason"]
    # the penalised objective's bound stays, the one its gap is to
    assert res.to_dict()["penalised_lower_bound_kw"] <= res.objective + 1e-6
    rows = {r["scenario"]: r for r in res.to_dict()["scenarios"]}
    assert rows["normal"]["feasible"] and not rows["heavy"]["feasible"]
    assert rows["heavy"]["violation_pu"] > 1e-4 and rows["heavy"]["violations"]
    assert res.to_dict()["worst_scenario"]["scenario"] == "heavy"
    st = res.to_dict()["stochastic"]
    assert st["infeasible_scenarios"] == 1
    expected = 0.9 * rows["normal"]["objective_kw"] + 0.1 * rows["heavy"]["objective_kw"]
    assert res.objective == pytest.approx(expected, rel=1e-9)
    assert math.isfinite(res.losses_kw)  # tables at the nominal loads


def _two_scenario_run() -> tuple[PerUnitNetwork, np.ndarray, np.ndarray, PerUnitNetwork,
                                 StochasticBenders]:
    """``meshed(2)`` in per unit, two scenarios of ``scenarios_for`` (seed 102) and the
    presolved network, and a stochastic run (weights 0.5, 0.5; 60 s) on them, run from the
    network's own topology: the start of the tests of what happens after the answer."""
    net = meshed(2, v_min=0.9)
    pu = to_per_unit(net)
    p, q = scenarios_for(pu, np.random.default_rng(102), 2)
    reduced, _ = presolve_for(pu, p, q)
    problem = ReconfigurationProblem(envelope(reduced, p, q), RadialityModel.PARENT_CHILD)
    algo = StochasticBenders(problem, p, q, np.array([0.5, 0.5]),
                             StochasticOptions(stop=StopOptions(time_limit_s=60)))
    algo.run(initial=[pu.initial_closed().astype(float)])
    return pu, p, q, reduced, algo


def test_a_conic_failure_after_the_run_stops_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The AC choice's completion of the topologies an enumeration dropped runs after the
    answer is found: a slave whose conic solve fails there leaves that topology out. Before,
    it went through the run's own round of slaves, which requests a stop for a failure
    (no valid cut): the AC choice then judged only the answer and called itself
    "interrupted" (ut44 growth2 --v-max 1.05). The failure is injected: the executor raises
    SlaveFailure for every round after the run."""
    from feederopt.algorithms.slaves import SlaveFailure
    from feederopt.solvers import interrupt

    *_, algo = _two_scenario_run()
    other = next(y for _, y, _ in [(0.0, c.y, None) for c in algo.within_pool.ranked(None)]
                 if not np.array_equal(y, algo.incumbent_y))
    algo._dropped = [(0.0, other, [None, None])]

    def fail(*args: object, **kwargs: object) -> list[object]:
        raise SlaveFailure("injected")

    monkeypatch.setattr(algo.executor, "map", fail)
    interrupt.clear()
    try:
        got = algo.alternatives(5.0)
        assert not interrupt.requested()
        assert got and np.array_equal(got[0].y, algo.incumbent_y)
    finally:
        interrupt.clear()


def test_a_conic_failure_while_completing_candidates_skips_that_topology_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The infeasible path's completion of the topologies an enumeration dropped
    (``_complete_candidates``) runs after the answer is found, as the AC choice's: a slave
    whose conic solve fails there leaves that topology out, with a note, and the next dropped
    topology is still completed. Before, it went through the run's own round of slaves, which
    requests a stop of the whole run for a failure (no valid cut): the loop broke at the
    first topology and the run called itself interrupted (session 44, savefix #3). The failure
    is injected into the first round only; the second topology's completed slaves are
    checked against the penalised slave evaluated directly on each scenario."""
    from feederopt.algorithms.slaves import SlaveFailure, SlaveResult
    from feederopt.algorithms.stochastic import SKIPPED_NOTE
    from feederopt.solvers import interrupt

    pu, p, q, reduced, algo = _two_scenario_run()
    others = [c.y for c in algo.within_pool.ranked(None)
              if not np.array_equal(c.y, algo.incumbent_y)][:2]
    assert len(others) == 2
    first: list[object] = [None, None]
    second: list[object] = [None, None]
    algo._dropped = [(0.0, others[0], first), (1.0, others[1], second)]
    algo.within_pool = type(algo.within_pool)(algo.within_pool.size)  # empty: see the offer
    real = algo.executor.map
    calls = {"n": 0}

    def fail_once(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SlaveFailure("injected")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(algo.executor, "map", fail_once)
    interrupt.clear()
    try:
        assert algo._complete_candidates()
        assert not interrupt.requested()
    finally:
        interrupt.clear()
    assert algo.skipped_after == 1 and first == [None, None]
    # the second topology completed, as the penalised slave gives it on each scenario
    for s in range(2):
        got = second[s]
        assert isinstance(got, SlaveResult)
        direct = PenalizedEvaluator(ReconfigurationProblem(reduced.with_loads(p[s], q[s])),
                                    algo.options.penalty).evaluate(others[1],
                                                                   need_gradient=False)
        assert got.objective == pytest.approx(direct.objective, rel=1e-5, abs=1e-6)
    assert next(c.y for c in algo.within_pool.ranked(None)).tolist() == others[1].tolist()
    # the note of the run's document
    monkeypatch.setattr(algo, "_complete_candidates", lambda: False)
    assert SKIPPED_NOTE in algo.run(initial=[pu.initial_closed().astype(float)]).extra
