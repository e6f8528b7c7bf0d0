"""The exact enumeration of the radial switch states
(:mod:`feederopt.algorithms.radial_enumeration`) against the MILP and a brute force, on the
12.47 kV ring of ``tests/test_threephase_voltage_limits.py`` (switches ``s1``-``s4`` on the
ring ``m-a1-a2-x-b2-b1-m``, ``s1`` open in the base case: the radial states are the four with
one switch open) and the scenarios of ``tests/test_threephase_scenarios.py``.

The brute force is written here: the LinDist3Flow power flow of each state with that switch
open (:func:`~feederopt.algorithms.threephase.lindist3flow_power_flow`, a fixed-topology LP
apart from both searches) in each scenario; the answer is the state of least weighted loss
proxy plus switching cost (two actions for every state but the base) among those whose every
scenario keeps the voltage limits. The limits are set (``with_voltage_limits``) at values that
exclude the state of least loss, so that a search ignoring them picks a wrong state, and every
state's voltages are at least 1e-3 p.u. from them (no tie with the solvers' tolerances). The
MILP's objective is a tangent under-estimate of the proxy, within ``LAZY_TOL`` of it; the
enumeration's is the proxy itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from feederopt.algorithms.radial_enumeration import radial_states
from feederopt.algorithms.threephase import (
    LAZY_TOL,
    ThreePhaseTopology,
    lindist3flow_power_flow,
    reconfigure_three_phase,
    reconfigure_three_phase_scenarios,
)
from feederopt.api_threephase import (
    scenario_networks,
    scenario_rows,
    solve_three_phase,
    with_voltage_limits,
)
from feederopt.cases import load_three_phase
from feederopt.network.threephase import ThreePhaseNetwork
from feederopt.network.threephase_perunit import to_per_unit_3ph
from test_threephase_scenarios import _table
from test_threephase_voltage_limits import FEEDER

SWITCHES = ("s1", "s2", "s3", "s4")
BASE = "s1"
V_MAX = 1.1


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("enum") / "ring.dss"
    path.write_text(FEEDER)
    return path


def _scenarios(ring: Path, v_min: float) -> tuple[list[ThreePhaseNetwork], np.ndarray, list[str]]:
    net = with_voltage_limits(load_three_phase(ring), v_min, V_MAX)
    rows = scenario_rows(net, _table())
    return scenario_networks(net, rows), np.asarray(rows.weights, float), list(rows.names)


def _brute(nets: list[ThreePhaseNetwork], weights: np.ndarray, v_min: float,
           cost: float = 0.0) -> tuple[dict[str, float], dict[str, float]]:
    """The weighted loss proxy of every state within the limits in every scenario, and its
    objective (plus the switching cost); the voltages kept 1e-3 p.u. off the limits."""
    proxy, objective = {}, {}
    for sw in SWITCHES:
        flows = [lindist3flow_power_flow(n, open_switches={sw}) for n in nets]
        lo = min(f.min_voltage_pu for f in flows)
        hi = max(f.max_voltage_pu for f in flows)
        assert abs(lo - v_min) > 1e-3 and abs(hi - V_MAX) > 1e-3  # no tie with a tolerance
        if lo >= v_min and hi <= V_MAX:
            proxy[sw] = float(sum(w * f.loss_proxy_kw for w, f in zip(weights, flows,
                                                                      strict=True)))
            objective[sw] = proxy[sw] + (0.0 if sw == BASE else 2 * cost)
    return proxy, objective


def _agree(enum: ThreePhaseTopology, milp: ThreePhaseTopology, proxy: dict[str, float],
           objective: dict[str, float], cost: float = 0.0) -> None:
    """Both searches give the brute force's state; the enumeration's objective is its proxy
    and its bound the least objective, the MILP's objective within LAZY_TOL below the proxy
    and its bound below the least objective."""
    best = min(objective, key=lambda s: objective[s])
    others = sorted(objective.values())
    assert len(others) == 1 or others[1] - others[0] > 3 * LAZY_TOL * others[0]  # no tie
    assert enum.method == "enumeration" and enum.radial_states == 4 and enum.milp_solves == 0
    assert milp.method == "milp" and milp.milp_solves >= 1
    for topo in (enum, milp):
        assert topo.status == "optimal" and topo.open_switches == [best]
        assert topo.switching_actions == ([] if best == BASE else sorted({BASE, best}))
        assert topo.switching_cost_kw == pytest.approx(0.0 if best == BASE else 2 * cost)
        assert topo.flow is not None
    assert enum.loss_proxy_kw == pytest.approx(proxy[best], rel=1e-7)
    assert enum.bound_kw == pytest.approx(objective[best], rel=1e-7)
    assert proxy[best] * (1 - LAZY_TOL) <= milp.loss_proxy_kw <= proxy[best] * (1 + 1e-7)
    assert milp.bound_kw <= objective[best] * (1 + 1e-7)
    assert milp.bound_kw >= objective[best] * (1 - 2 * LAZY_TOL)
    # the same flows as the MILP path's (its power flow of the answer), scenario by scenario
    for a, b in zip(enum.scenario_flows or [enum.flow], milp.scenario_flows or [milp.flow],
                    strict=True):
        assert a.open_switches == b.open_switches == [best]
        assert a.loss_proxy_kw == pytest.approx(b.loss_proxy_kw, rel=1e-7)
        assert a.voltages_pu.keys() == b.voltages_pu.keys()
        assert max(abs(a.voltages_pu[k] - b.voltages_pu[k]) for k in a.voltages_pu) < 1e-7


def test_the_radial_states_of_the_ring_are_one_switch_open(ring: Path) -> None:
    pu = to_per_unit_3ph(load_three_phase(ring))
    states = radial_states(pu)
    assert states is not None
    assert sorted(sorted(s.open_switches) for s in states) == [[s] for s in SWITCHES]
    for s in states:  # an edge's state is 0 exactly where it is open
        (sw,) = s.open_switches
        assert [e.id for e, v in zip(pu.edges, s.y, strict=True) if v < 0.5] == [sw]
    assert radial_states(pu, 3) is None
    assert radial_states(pu, 4) is not None


@pytest.mark.parametrize("v_min", [0.9, 0.947, 0.952])
def test_single_case_enumeration_equals_milp_and_brute_force(ring: Path, v_min: float) -> None:
    """0.9: every state, the least proxy ``s4``; 0.947 excludes ``s4`` (0.9443 p.u.): ``s3``;
    0.952 leaves ``s3`` alone (``s1`` 0.9499, ``s2`` 0.9507 p.u.)."""
    net = with_voltage_limits(load_three_phase(ring), v_min, V_MAX)
    proxy, objective = _brute([net], np.ones(1), v_min)
    assert len(proxy) == {0.9: 4, 0.947: 3, 0.952: 1}[v_min]
    enum = reconfigure_three_phase(net, time_limit_s=60)
    milp = reconfigure_three_phase(net, time_limit_s=60, max_enumerated_states=0)
    _agree(enum, milp, proxy, objective)
    assert enum.scenario_flows == [] and enum.tangents_added > 0 and enum.tangents


def test_single_case_switch_cost_threshold(ring: Path) -> None:
    """Every state but the base closes ``s1`` and opens another switch (two actions): a cost
    just below half the proxy saved keeps the best state, just above it the base."""
    net = with_voltage_limits(load_three_phase(ring), 0.947, V_MAX)
    proxy, _ = _brute([net], np.ones(1), 0.947)
    best = min(proxy, key=lambda s: proxy[s])
    assert best != BASE
    threshold = (proxy[BASE] - proxy[best]) / 2
    for cost in (threshold * 0.98, threshold * 1.02):
        proxy, objective = _brute([net], np.ones(1), 0.947, cost)
        enum = reconfigure_three_phase(net, time_limit_s=60, switch_cost_kw=cost)
        milp = reconfigure_three_phase(net, time_limit_s=60, switch_cost_kw=cost,
                                       max_enumerated_states=0)
        _agree(enum, milp, proxy, objective, cost)
        assert enum.open_switches == ([best] if cost < threshold else [BASE])


@pytest.mark.parametrize("v_min, expected", [(0.85, "s4"), (0.905, "s3"), (0.915, "s2")])
def test_scenarios_enumeration_equals_milp_and_brute_force(ring: Path, v_min: float,
                                                           expected: str) -> None:
    """The scenarios' least weighted proxy is ``s4``, whose ``a_heavy`` voltage is 0.9000
    p.u.: 0.905 excludes it (``s3``), 0.915 also ``s1`` and ``s3`` (``s2``)."""
    nets, weights, names = _scenarios(ring, v_min)
    proxy, objective = _brute(nets, weights, v_min)
    assert min(objective, key=lambda s: objective[s]) == expected
    kw = dict(time_limit_s=60, thermal_limits=False, names=names)
    enum = reconfigure_three_phase_scenarios(nets, weights, **kw)  # type: ignore[arg-type]
    milp = reconfigure_three_phase_scenarios(nets, weights, max_enumerated_states=0,
                                             **kw)  # type: ignore[arg-type]
    _agree(enum, milp, proxy, objective)
    assert len(enum.scenario_flows) == len(enum.scenario_tangents) == len(nets)
    for flow, net in zip(enum.scenario_flows, nets, strict=True):
        alone = lindist3flow_power_flow(net, open_switches={expected})
        assert flow.loss_proxy_kw == pytest.approx(alone.loss_proxy_kw, rel=1e-7)


def test_scenarios_switch_cost_threshold(ring: Path) -> None:
    nets, weights, names = _scenarios(ring, 0.905)
    proxy, _ = _brute(nets, weights, 0.905)
    best = min(proxy, key=lambda s: proxy[s])
    threshold = (proxy[BASE] - proxy[best]) / 2
    assert best == "s3" and threshold > 1.0
    for cost in (threshold * 0.98, threshold * 1.02):
        proxy, objective = _brute(nets, weights, 0.905, cost)
        kw = dict(time_limit_s=60, thermal_limits=False, names=names, switch_cost_kw=cost)
        enum = reconfigure_three_phase_scenarios(nets, weights, **kw)  # type: ignore[arg-type]
        milp = reconfigure_three_phase_scenarios(nets, weights, max_enumerated_states=0,
                                                 **kw)  # type: ignore[arg-type]
        _agree(enum, milp, proxy, objective, cost)
        assert enum.open_switches == ([best] if cost < threshold else [BASE])


def test_infeasible_scenarios_say_the_same_as_the_milp(ring: Path) -> None:
    """0.96 p.u. is above every state's lowest voltage in ``a_heavy`` (and ``a_pv`` and
    ``x_light`` in some). The reason names the scenarios infeasible alone as the MILP's
    does."""
    nets, weights, names = _scenarios(ring, 0.96)
    kw = dict(time_limit_s=60, thermal_limits=False, names=names)
    enum = reconfigure_three_phase_scenarios(nets, weights, **kw)  # type: ignore[arg-type]
    milp = reconfigure_three_phase_scenarios(nets, weights, max_enumerated_states=0,
                                             **kw)  # type: ignore[arg-type]
    assert enum.method == "enumeration" and milp.method == "milp"
    for topo in (enum, milp):
        assert topo.status == "infeasible" and topo.flow is None and topo.open_switches == []
    assert "a_heavy" in enum.reason and "infeasible alone" in enum.reason
    assert enum.reason == milp.reason


def test_an_overload_no_switch_relieves_is_named_not_infeasible(ring: Path) -> None:
    """The 400 A rating of ``head`` (the line from the source: every radial state feeds the
    whole ring through it) is exceeded in ``a_heavy`` in every state: no topology holds it,
    so its rating is left out (``fixed_overloads``) and the other limits decide, the same
    answer as the brute force's, which holds no rating (no other line passes 98 % of its
    rating in any state); before, the solve was infeasible."""
    nets, weights, names = _scenarios(ring, 0.905)
    proxy, objective = _brute(nets, weights, 0.905)
    best = min(objective, key=lambda s: objective[s])
    kw = dict(time_limit_s=60, names=names)
    enum = reconfigure_three_phase_scenarios(nets, weights, **kw)  # type: ignore[arg-type]
    milp = reconfigure_three_phase_scenarios(nets, weights, max_enumerated_states=0,
                                             **kw)  # type: ignore[arg-type]
    assert enum.method == "enumeration" and milp.method == "milp"
    _agree(enum, milp, proxy, objective)
    for topo in (enum, milp):
        assert topo.status == "optimal" and topo.open_switches == [best]
        assert [f.split(" (")[0] for f in topo.fixed_overloads] == ["head"]
        assert float(topo.fixed_overloads[0].split("(")[1].split(" %")[0]) > 100.0
        assert "every radial topology" in topo.notes[0]


def test_out_of_time_is_time_limit_with_a_valid_bound(ring: Path) -> None:
    nets, weights, names = _scenarios(ring, 0.9)
    topo = reconfigure_three_phase_scenarios(nets, weights, time_limit_s=0.0,
                                             thermal_limits=False, names=names)
    assert topo.method == "enumeration" and topo.status == "time_limit"
    assert topo.flow is None and "time limit" in topo.reason
    # nothing evaluated: the MILP's LP relaxation bounds every state (it was 0, the proxy's
    # own sign), below the optimum of the whole enumeration
    full = reconfigure_three_phase_scenarios(nets, weights, time_limit_s=60,
                                             thermal_limits=False, names=names)
    assert full.status == "optimal" and topo.bound_source == "relaxation"
    assert 0.0 < topo.bound_kw <= full.bound_kw * (1 + 1e-7)


def test_the_json_says_which_search(ring: Path) -> None:
    out = solve_three_phase(str(ring), voltage_feedback=False, ac_check=False)
    assert out["search"] == "enumeration (4 radial states)"
    assert out["milp_solves"] == 0 and out["has_solution"]
    sc = solve_three_phase(str(ring), scenarios=_table(), thermal_limits=False,
                           voltage_feedback=False, ac_check=False)
    assert sc["search"] == "enumeration (4 radial states)" and sc["has_solution"]
    assert math.isfinite(sc["lower_bound_kw"])
