"""The voltage feedback's fixed point (:func:`feederopt.api_threephase_feedback.feedback_loop`)
on fake callables, no solver: its stop reasons, OpenDSS solved once per topology, and the
kept answer (least loss among those within the limits with every load served, else the
last)."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from typing import Any

from feederopt.algorithms.threephase import ThreePhaseTopology
from feederopt.api_threephase_feedback import feedback_loop

FLOW = object()  # a topology with a flow (an answer); None: the MILP has none


def _sol(losses: float, *, good: bool = True, passed: bool = True,
         converged: bool = True) -> SimpleNamespace:
    return SimpleNamespace(losses_kw=losses, within_voltage_limits=good, passed=passed,
                           converged=converged)


class Fake:
    """A scripted MILP (one answer per call: open switches, or None for no answer) and
    OpenDSS (solutions per topology), recording what the loop asked of them."""

    def __init__(self, script: list[list[str] | None], sols: dict[str, list[Any]],
                 cost: dict[str, float] | None = None, timed_out: bool = False,
                 **fields: Any) -> None:
        self.timed_out = timed_out  # every MILP runs out of time (with or without an answer)
        self.fields = fields  # set on every MILP's topology (its status, bound, method...)
        self.script = list(script)
        self.sols = sols
        self.cost = cost or {}
        self.milp_calls: list[tuple[Any, Any, float]] = []
        self.opendss_calls: list[str] = []
        self.offsets_from: list[str] = []

    def milp(self, offsets: Any, tangents: Any, seconds: float) -> tuple[ThreePhaseTopology, Any]:
        self.milp_calls.append((offsets, tangents, seconds))
        opened = self.script.pop(0)
        topo = ThreePhaseTopology(
            status="time_limit" if self.timed_out else (
                "optimal" if opened is not None else "infeasible"),
            open_switches=opened or [], loss_proxy_kw=0.0, bound_kw=0.0, solve_time_s=0.5,
            flow=FLOW if opened is not None else None,  # type: ignore[arg-type]
            switching_cost_kw=self.cost.get(",".join(opened or []), 0.0))
        for key, value in self.fields.items():
            setattr(topo, key, value)
        return topo, len(self.milp_calls)  # the tangents: how many MILPs ran

    def opendss(self, topo: ThreePhaseTopology) -> list[Any]:
        key = ",".join(topo.open_switches)
        self.opendss_calls.append(key)
        return self.sols[key]

    def next_offsets(self, topo: ThreePhaseTopology, sols: list[Any]) -> dict[str, Any]:
        key = ",".join(topo.open_switches)
        self.offsets_from.append(key)
        return {"from": key}

    @staticmethod
    def row(topo: ThreePhaseTopology, offsets: Any, sols: list[Any] | None) -> dict[str, Any]:
        return {"topology": "answer", "offsets": offsets,
                "open_switches": topo.open_switches if topo.flow is not None else None,
                "solved": sols is not None}

    @staticmethod
    def loss(topo: ThreePhaseTopology, sols: list[Any]) -> float:
        return sum(s.losses_kw for s in sols) + topo.switching_cost_kw

    def run(self, *, max_iterations: int = 10, time_limit_s: float = 100.0,
            t0: float | None = None, feedback: bool = True, base: Any = None,
            ) -> tuple[ThreePhaseTopology, list[Any] | None, dict[str, Any]]:
        return feedback_loop(
            self.milp, self.opendss, self.next_offsets, self.row, self.loss,
            offsets={"from": "base"}, tangents=0,
            iterations=[{"topology": "base", "open_switches": ["t"]}], base_open=["t"],
            time_limit_s=time_limit_s, max_iterations=max_iterations,
            t0=time.perf_counter() if t0 is None else t0, record={"enabled": True},
            feedback=feedback, base=base)


def test_a_repeated_topology_stops_and_is_not_solved_again() -> None:
    """a, b, a: OpenDSS solves a and b once each; b (least loss, both good) is kept though a
    is the last answer; each MILP had the offsets and tangents of the one before."""
    fake = Fake([["a"], ["b"], ["a"], ["c"]], {"a": [_sol(10.0)], "b": [_sol(5.0)]})
    keep, kept, record = fake.run()
    assert record["stopped"] == "topology repeated"
    assert fake.opendss_calls == ["a", "b"]
    assert fake.offsets_from == ["a", "b"]
    assert [c[:2] for c in fake.milp_calls] == [
        ({"from": "base"}, 0), ({"from": "a"}, 1), ({"from": "b"}, 2)]
    assert keep.open_switches == ["b"] and kept is fake.sols["b"]
    assert record["kept_iteration"] == 2  # the base row, a, then b
    assert [r["open_switches"] for r in record["iterations"]] == [["t"], ["a"], ["b"], ["a"]]
    assert record["within_voltage_limits"] is True
    assert keep.solve_time_s == record["milp_time_s"] == 1.5  # three MILPs of 0.5 s
    assert list(record) == ["enabled", "iterations", "kept_iteration", "stopped",
                            "within_voltage_limits", "within_limits", "base_kept",
                            "base_kept_why", "displaced_answer", "probes", "milp_time_s",
                            "time_s"]
    assert record["base_kept_why"] is None and record["displaced_answer"] is None


def test_the_base_topology_counts_as_seen() -> None:
    fake = Fake([["t"], ["a"]], {"t": [_sol(3.0)]})
    keep, kept, record = fake.run()
    assert record["stopped"] == "topology repeated"
    assert fake.opendss_calls == ["t"] and fake.offsets_from == []
    assert keep.open_switches == ["t"] and kept is fake.sols["t"]
    assert record["kept_iteration"] == 1


def test_the_least_loss_among_the_good_answers_with_the_loss_callable() -> None:
    """a is cheapest in OpenDSS but out of the limits, b does not pass, c's switching cost
    makes d the least loss: d is kept, not c (least OpenDSS losses of the good) nor a."""
    fake = Fake([["a"], ["b"], ["c"], ["d"]],
                {"a": [_sol(1.0, good=False)], "b": [_sol(2.0, passed=False)],
                 "c": [_sol(3.0), _sol(3.0)], "d": [_sol(4.0), _sol(4.0)]},
                cost={"c": 5.0})
    keep, kept, record = fake.run(max_iterations=4)
    assert record["stopped"] == "iteration cap"
    assert keep.open_switches == ["d"] and kept is fake.sols["d"]
    assert record["kept_iteration"] == 4


def test_a_scenario_out_of_the_limits_makes_the_answer_bad() -> None:
    fake = Fake([["a"], ["b"]], {"a": [_sol(1.0), _sol(1.0, good=False)],
                                 "b": [_sol(9.0), _sol(9.0)]})
    keep, _, record = fake.run(max_iterations=2)
    assert keep.open_switches == ["b"]
    assert record["within_voltage_limits"] is True


def test_no_good_answer_keeps_the_last_answer() -> None:
    """a (least loss) and b both break a limit, then no answer: b, the last answer, is kept."""
    fake = Fake([["a"], ["b"], None], {"a": [_sol(1.0, good=False)],
                                       "b": [_sol(9.0, passed=False)]})
    keep, kept, record = fake.run()
    assert record["stopped"] == "no answer"
    assert keep.open_switches == ["b"] and kept is fake.sols["b"]
    assert record["kept_iteration"] == 2
    assert record["within_voltage_limits"] is False
    assert record["iterations"][-1] == {"topology": "answer", "offsets": {"from": "b"},
                                        "open_switches": None, "solved": False}


def test_the_iteration_cap() -> None:
    fake = Fake([["a"], ["b"], ["c"]], {"a": [_sol(1.0)], "b": [_sol(2.0)]})
    keep, _, record = fake.run(max_iterations=2)
    assert record["stopped"] == "iteration cap"
    assert len(fake.milp_calls) == 2 and fake.opendss_calls == ["a", "b"]
    assert keep.open_switches == ["a"] and record["kept_iteration"] == 1
    # max_iterations below 1 still runs one MILP
    fake = Fake([["a"], ["b"]], {"a": [_sol(1.0)]})
    assert fake.run(max_iterations=0)[2]["stopped"] == "iteration cap"
    assert len(fake.milp_calls) == 1


def test_opendss_not_converging_stops_without_offsets() -> None:
    fake = Fake([["a"], ["b"]], {"a": [_sol(1.0), _sol(1.0, converged=False)]})
    keep, kept, record = fake.run()
    assert record["stopped"] == "OpenDSS did not converge"
    assert fake.offsets_from == [] and len(fake.milp_calls) == 1
    assert keep.open_switches == ["a"] and kept is fake.sols["a"]


def test_no_answer_at_the_first_milp() -> None:
    fake = Fake([None], {})
    keep, kept, record = fake.run()
    assert record["stopped"] == "no answer"
    assert kept is None and keep.flow is None and record["kept_iteration"] is None
    assert fake.opendss_calls == []


def test_the_time_limit() -> None:
    """The time has run out: the first MILP still runs, with 1 s (at most the limit), and the
    loop stops after its answer."""
    fake = Fake([["a"], ["b"]], {"a": [_sol(1.0)]})
    _, _, record = fake.run(time_limit_s=5.0, t0=time.perf_counter() - 10.0)
    assert record["stopped"] == "time limit"
    assert [c[2] for c in fake.milp_calls] == [1.0]
    fake = Fake([["a"], ["b"]], {"a": [_sol(1.0)]})
    fake.run(time_limit_s=0.25, t0=time.perf_counter() - 10.0)
    assert [c[2] for c in fake.milp_calls] == [0.25]


def test_without_feedback_one_milp_and_no_opendss() -> None:
    fake = Fake([["a"], ["b"]], {"a": [_sol(1.0)]})
    keep, kept, record = fake.run(feedback=False)
    assert record["stopped"] == "no feedback"
    assert len(fake.milp_calls) == 1 and fake.opendss_calls == []
    assert keep.open_switches == ["a"] and kept is None and record["kept_iteration"] is None
    assert record["iterations"][-1]["solved"] is False


class Base:
    """The base topology ``t`` as an answer (its OpenDSS solutions ``sols``), counting calls."""

    def __init__(self, sols: list[Any]) -> None:
        self.sols = sols
        self.calls = 0

    def __call__(self) -> tuple[ThreePhaseTopology, list[Any]]:
        self.calls += 1
        return ThreePhaseTopology("time_limit", ["t"], 0.0, float("nan"), 0.0,
                                  FLOW), self.sols  # type: ignore[arg-type]


def test_a_time_limited_answer_worse_than_the_base_keeps_the_base() -> None:
    """Iowa 240 at --time-limit 0.5: the MILP's answer (48.1 kW by OpenDSS) was kept over the
    base topology (46.2 kW, within the limits). The base is the incumbent of a time-limited
    run: kept, status time_limit, with the MILP's bound, and the record says so."""
    fake = Fake([["a"], ["b"]], {"a": [_sol(48.1)]}, timed_out=True)
    base = Base([_sol(46.2)])
    keep, kept, record = fake.run(base=base, max_iterations=1)
    assert keep.open_switches == ["t"] and kept is base.sols
    assert keep.status == "time_limit" and keep.bound_kw == 0.0
    assert record["base_kept"] is True and record["kept_iteration"] is None
    assert keep.solve_time_s == 0.5  # the MILP's time


def test_a_time_limited_answer_better_than_the_base_is_kept() -> None:
    fake = Fake([["a"]], {"a": [_sol(40.0)]}, timed_out=True)
    keep, _, record = fake.run(base=Base([_sol(46.2)]), max_iterations=1)
    assert keep.open_switches == ["a"] and record["base_kept"] is False
    assert record["kept_iteration"] == 1


def test_a_base_out_of_the_limits_is_no_incumbent() -> None:
    fake = Fake([["a"]], {"a": [_sol(48.1)]}, timed_out=True)
    keep, _, record = fake.run(base=Base([_sol(46.2), _sol(46.2, good=False)]),
                               max_iterations=1)
    assert keep.open_switches == ["a"] and record["base_kept"] is False


def test_an_optimal_answer_worse_than_the_base_keeps_the_base() -> None:
    """Not time-limited (user test ut_dss D: the exact optimum had 70.46 kW in OpenDSS, the
    base 69.79 kW): the base topology is a candidate of every run, so it is kept, status
    feasible (not the model's optimum) with the MILP's bound, and the record names the
    answer it displaced with both losses."""
    fake_bound = 7.0
    fake = Fake([["a"], ["a"]], {"a": [_sol(48.1)]}, cost={"a": 0.5}, bound_kw=fake_bound,
                method="enumeration", radial_states=3)
    base = Base([_sol(46.2)])
    keep, kept, record = fake.run(base=base)
    assert keep.open_switches == ["t"] and kept is base.sols and base.calls == 1
    assert keep.status == "feasible" and keep.bound_kw == fake_bound
    assert (keep.method, keep.radial_states) == ("enumeration", 3)  # how it was searched
    assert record["base_kept"] is True and record["base_kept_why"] == "opendss_losses"
    assert record["kept_iteration"] is None and record["within_limits"] is True
    assert record["displaced_answer"] == {
        "iteration": 1, "status": "optimal", "open_switches": ["a"],
        "changed_switches": ["a", "t"], "loss_kw": 48.6, "switching_cost_kw": 0.5,
        "within_limits": True, "base_loss_kw": 46.2}


def test_an_optimal_answer_better_than_the_base_is_kept() -> None:
    fake = Fake([["a"], ["a"]], {"a": [_sol(40.0)]})
    base = Base([_sol(46.2)])
    keep, _, record = fake.run(base=base)
    assert keep.open_switches == ["a"] and keep.status == "optimal"
    assert record["base_kept"] is False and record["kept_iteration"] == 1
    assert record["base_kept_why"] is None and record["displaced_answer"] is None


def test_an_optimal_answer_that_breaks_a_limit_keeps_a_base_within_them() -> None:
    """The answers break a limit in OpenDSS where the base keeps them: the base, whatever its
    losses (``opendss_limits``); a base that breaks one too is no candidate."""
    fake = Fake([["a"], ["b"]], {"a": [_sol(30.0, good=False)], "b": [_sol(31.0, good=False)]})
    keep, _, record = fake.run(base=Base([_sol(46.2)]), max_iterations=2)
    assert keep.open_switches == ["t"] and keep.status == "feasible"
    assert record["base_kept_why"] == "opendss_limits"
    assert record["displaced_answer"]["within_limits"] is False
    assert record["displaced_answer"]["open_switches"] == ["b"]  # the last: none was good
    fake = Fake([["a"]], {"a": [_sol(30.0, good=False)]})
    keep, _, record = fake.run(base=Base([_sol(20.0, passed=False)]), max_iterations=1)
    assert keep.open_switches == ["a"] and record["base_kept"] is False


def test_an_infeasible_answer_is_left_to_the_opendss_rankings() -> None:
    """A least-overloading answer (status infeasible, with a flow) is not set against the
    base here: OpenDSS's rankings of the radial states decide it later."""
    fake = Fake([["a"]], {"a": [_sol(48.1, good=False)]}, status="infeasible")
    base = Base([_sol(46.2)])
    keep, _, record = fake.run(base=base, max_iterations=1)
    assert keep.open_switches == ["a"] and record["base_kept"] is False and base.calls == 0


def test_no_answer_in_time_keeps_the_base_and_names_the_users_limit() -> None:
    """Iowa 240's day at --time-limit 8: the base-case OpenDSS solves took 6 s, and "no
    topology: the time limit (2.01142 s) ran out" though the base topology was within the
    limits. The base is kept; without a base answer the reason gives the user's limit and
    the seconds that were left."""
    fake = Fake([None], {}, timed_out=True)
    t0 = time.perf_counter() - 6.0
    keep, kept, record = fake.run(base=Base([_sol(46.2)]), time_limit_s=8.0, t0=t0)
    assert keep.open_switches == ["t"] and kept is not None and record["base_kept"] is True
    fake = Fake([None], {}, timed_out=True)
    keep, kept, record = fake.run(time_limit_s=8.0, t0=time.perf_counter() - 6.0)
    assert kept is None and keep.flow is None and record["base_kept"] is False
    assert "--time-limit 8 s" in keep.reason and "of it left" in keep.reason
    assert re.search(r"; (1\.9\d|2\.00) s of it left", keep.reason), keep.reason
