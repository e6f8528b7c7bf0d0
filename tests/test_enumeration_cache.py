"""The flows of the radial states shared by the voltage feedback's rounds
(:func:`feederopt.algorithms.radial_enumeration.state_cache`), on the 12.47 kV ring of
``tests/test_threephase_voltage_limits.py`` with the three scenarios of
``tests/test_threephase_scenarios.py`` (switches ``s1``-``s4``, four radial states).

Truth is independent of the cache: the brute force of ``tests/test_threephase_enumeration.py``
(each state's :func:`~feederopt.algorithms.threephase.lindist3flow_power_flow`, a
fixed-topology LP, per scenario) and the same search without a cache. The rounds move the
limits as the feedback's offsets do (``voltage_offsets``, one offset at every node: the lower
limit 0.85 p.u. shifted to 0.85, 0.905 and 0.915 p.u.), which changes the answer each round
(``s4``, ``s3``, ``s2``): a cache that kept a state's verdict against the limits, or served a
state or a scenario another's flow, gives a wrong state, objective or flow.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import feederopt.algorithms.radial_enumeration as enumeration
import feederopt.api_threephase_feedback as feedback
from feederopt.algorithms.radial_enumeration import state_cache
from feederopt.algorithms.threephase import (
    ThreePhaseTopology,
    lindist3flow_power_flow,
    reconfigure_three_phase,
    reconfigure_three_phase_scenarios,
)
from feederopt.api_threephase import solve_three_phase
from feederopt.cases import load_three_phase
from feederopt.network.threephase_perunit import to_per_unit_3ph
from feederopt.solvers.highs_backend import HighsModel
from test_threephase_enumeration import _brute, _scenarios
from test_threephase_scenarios import _table
from test_threephase_voltage_limits import FEEDER

V_MIN = 0.85
#: the lower limit each round asks for, and the brute force's answer then
ROUNDS = ((0.85, "s4"), (0.905, "s3"), (0.915, "s2"))


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cache") / "ring.dss"
    path.write_text(FEEDER)
    return path


def _offsets(ring: Path, v_min: float) -> dict[str, float]:
    """``d`` at every node, so that ``[V_MIN - d, ...]`` is ``[v_min, ...]``."""
    pu = to_per_unit_3ph(load_three_phase(ring))
    return dict.fromkeys(pu.node_names(), V_MIN - v_min)


def _same(a: ThreePhaseTopology, b: ThreePhaseTopology) -> None:
    assert (a.status, a.open_switches, a.method) == (b.status, b.open_switches, b.method)
    assert a.loss_proxy_kw == pytest.approx(b.loss_proxy_kw, rel=1e-9)
    assert a.bound_kw == pytest.approx(b.bound_kw, rel=1e-9)
    assert a.flow is not None and b.flow is not None
    for fa, fb in zip(a.scenario_flows or [a.flow], b.scenario_flows or [b.flow], strict=True):
        assert fa.loss_proxy_kw == pytest.approx(fb.loss_proxy_kw, rel=1e-9)
        assert fa.voltages_pu.keys() == fb.voltages_pu.keys()
        assert max(abs(fa.voltages_pu[k] - fb.voltages_pu[k]) for k in fa.voltages_pu) < 1e-9


def test_cached_rounds_equal_fresh_searches_and_the_brute_force(ring: Path) -> None:
    """Each round within one cache gives the uncached search's answer and the brute force's
    state, objective and per-scenario flows; the scenarios reversed and one scenario alone
    still get their own flows; the later rounds solve only the flows not solved before."""
    nets, weights, names = _scenarios(ring, V_MIN)
    kw: dict[str, Any] = dict(time_limit_s=60, thermal_limits=False)
    with state_cache() as cache:
        for k, (v_min, expected) in enumerate(ROUNDS):
            _, objective = _brute(nets, weights, v_min)
            assert min(objective, key=lambda s: objective[s]) == expected
            offsets = [_offsets(ring, v_min)] * len(nets)
            hits = cache.hits
            cached = reconfigure_three_phase_scenarios(nets, weights, names=names,
                                                       voltage_offsets=offsets, **kw)
            reused = cache.hits - hits
            fresh = _fresh(reconfigure_three_phase_scenarios, nets, weights, names=names,
                           voltage_offsets=offsets, **kw)
            _same(cached, fresh)
            assert cached.method == "enumeration" and cached.open_switches == [expected]
            assert cached.bound_kw == pytest.approx(objective[expected], rel=1e-7)
            for flow, net in zip(cached.scenario_flows, nets, strict=True):
                alone = lindist3flow_power_flow(net, open_switches={expected})
                assert flow.loss_proxy_kw == pytest.approx(alone.loss_proxy_kw, rel=1e-7)
            # the same LPs as the fresh search, those in the cache not solved again
            assert cached.lp_solves + reused == fresh.lp_solves
            assert (reused > 0) == (k > 0)
        # the scenarios reversed (a cache keyed by position would swap their flows)
        rev = list(reversed(nets))
        offsets = [_offsets(ring, 0.905)] * len(nets)
        hits = cache.hits
        back = reconfigure_three_phase_scenarios(rev, weights[::-1], voltage_offsets=offsets,
                                                 **kw)
        assert cache.hits > hits
        _same(back, _fresh(reconfigure_three_phase_scenarios, rev, weights[::-1],
                           voltage_offsets=offsets, **kw))
        assert back.open_switches == ["s3"]
        for flow, net in zip(back.scenario_flows, rev, strict=True):
            alone = lindist3flow_power_flow(net, open_switches={"s3"})
            assert flow.loss_proxy_kw == pytest.approx(alone.loss_proxy_kw, rel=1e-7)
        # one scenario alone (a_pv, whose least-loss state is s4)
        hits = cache.hits
        one = reconfigure_three_phase(nets[1], time_limit_s=60, thermal_limits=False)
        assert cache.hits > hits
        _same(one, _fresh(reconfigure_three_phase, nets[1], time_limit_s=60,
                          thermal_limits=False))
        proxy, _ = _brute([nets[1]], np.ones(1), V_MIN)
        assert one.open_switches == [min(proxy, key=lambda s: proxy[s])]
        assert one.loss_proxy_kw == pytest.approx(min(proxy.values()), rel=1e-7)


def _fresh(search: Any, *args: Any, **kw: Any) -> ThreePhaseTopology:
    """``search(*args, **kw)`` outside the enclosing cache (no cache)."""
    token = enumeration._ACTIVE.set(None)
    try:
        out: ThreePhaseTopology = search(*args, **kw)
        return out
    finally:
        enumeration._ACTIVE.reset(token)


class _Counting(HighsModel):
    """A HighsModel that counts, per scenario (the balance rows' right-hand side) and state
    (the bounds of ``y``), the solves of the LPs without the voltage limits."""

    solved: ClassVar[Counter[tuple[bytes, bytes]]] = Counter()

    def __init__(self, block: Any, **kw: Any) -> None:
        super().__init__(block, **kw)
        self.free = bool(np.any(block.groups["w"].lb < 0))  # w unbounded: no voltage limits
        self.tag = block.row("balance_p").rhs.tobytes() + block.row("balance_q").rhs.tobytes()
        self.y = b""

    def set_bounds(self, group: str, lb: np.ndarray, ub: np.ndarray) -> None:
        super().set_bounds(group, lb, ub)
        if group == "y":
            self.y = np.asarray(lb, float).tobytes()

    def solve(self) -> Any:
        if self.free:
            _Counting.solved[(self.tag, self.y)] += 1
        return super().solve()


def _run(ring: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Counter[Any]]:
    _Counting.solved = Counter()
    monkeypatch.setattr(enumeration, "HighsModel", _Counting)
    out = solve_three_phase(str(ring), scenarios=_table(), thermal_limits=False)
    monkeypatch.undo()
    return out, _Counting.solved


def test_feedback_solves_each_state_once_with_the_answer_of_no_cache(
        ring: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scenario feedback on the ring takes three enumerations (``s3``, below 0.9 p.u. in
    OpenDSS in ``a_heavy``, then ``s2``, then ``s2`` again, which ends it:
    ``tests/test_threephase_scenarios.py``). Each scenario's flow of each state is solved once
    over all of them (the later rounds reuse the first's), and the answer, bound and every
    round's row are those without the cache."""
    out, solved = _run(ring, monkeypatch)
    rows = out["voltage_feedback"]["iterations"]
    answers = [r for r in rows if r["topology"] == "answer"]
    assert [r["open_switches"] for r in answers][:2] == [["s3"], ["s2"]]
    assert out["open_switches"] == ["s2"] and out["search"].startswith("enumeration")
    assert solved and max(solved.values()) == 1, solved.most_common(3)

    @contextlib.contextmanager
    def no_cache() -> Iterator[None]:
        token = enumeration._ACTIVE.set(None)
        try:
            yield None
        finally:
            enumeration._ACTIVE.reset(token)

    monkeypatch.setattr(feedback, "state_cache", no_cache)
    plain, again = _run(ring, monkeypatch)
    # without the cache each round solves the flows again (the third round, s2 again, too)
    assert max(again.values()) == len(answers) >= 2
    assert sum(again.values()) > sum(solved.values())
    for key in ("open_switches", "status", "has_solution", "changed_switches"):
        assert out[key] == plain[key]
    for key in ("loss_proxy_kw", "milp_objective_kw", "lower_bound_kw"):
        assert out[key] == pytest.approx(plain[key], rel=1e-9)
    timeless = [{k: v for k, v in r.items() if not k.endswith("time_s")} for r in rows]
    assert timeless == [{k: v for k, v in r.items() if not k.endswith("time_s")}
                        for r in plain["voltage_feedback"]["iterations"]]
    for a, b in zip(out["scenarios"]["per_scenario"], plain["scenarios"]["per_scenario"],
                    strict=True):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], float):
                assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12), k
            else:
                assert a[k] == b[k], k
