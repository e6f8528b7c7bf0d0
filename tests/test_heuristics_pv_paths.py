"""The PV-path starts of the heuristics (:func:`feederopt.algorithms.heuristics.pv_path_starts`)
against brute force with pandapower's Newton-Raphson.

The grid of tests/test_path_bound.py (two 20 kV sources at 1.04 and 1.00 p.u., two feeders
joined by ties) with the generator holding 1.03 p.u. at the end of feeder A (bus a3). Truth:
every radial topology through ``pp.runpp`` (60; best 20.438 kW, then 20.717, 22.369 kW).
Branch exchange from the relaxation's rounding and from sequential opening ends in the
22.369 kW topology; with the starts seeded by the generator's source paths the start
heuristics reach the brute-force optimum."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import feederopt
from feederopt.algorithms.heuristics import (
    branch_exchange,
    pv_path_starts,
    relaxation_rounding,
    sequential_opening,
    start_topologies,
)
from feederopt.algorithms.probing import ConicRelaxation, source_paths
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.api import prepare
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import RadialityModel
from feederopt.problems.sweep import sweep
from test_path_bound import radial_losses_kw, two_sources_with_pv

pp = pytest.importorskip("pandapower")


def pv_at_feeder_end() -> Any:
    net: Any = two_sources_with_pv(1.03)
    net.gen.at[net.gen.index[0], "bus"] = int(net.bus.index[net.bus.name == "a3"][0])
    return net


def runpp_losses_kw(net: Any, branch_ids: list[str], y: np.ndarray) -> float:
    """pandapower's losses with the lines of the open branches ``y < 0.5`` opened."""
    opened = {int(b.split(":")[1]) for b, v in zip(branch_ids, y, strict=True) if v < 0.5}
    case = copy.deepcopy(net)
    case.switch["closed"] = ~case.switch.element.isin(opened)
    pp.runpp(case)
    return 1000.0 * float(case.res_line.pl_mw.sum())


def test_pv_path_starts_reach_the_brute_force_optimum() -> None:
    net = pv_at_feeder_end()
    best = min(radial_losses_kw(net))
    problem = prepare(feederopt.load(net), RadialityModel.PARENT_CHILD).problem
    pu = problem.pu
    assert all(b.startswith("line:") for b in pu.branch_ids) and pu.n_branch == len(net.line)
    ev = TopologyEvaluator(problem)
    model = ConicRelaxation(problem)
    model.solve()
    relaxed = model.values()

    # Each PV-path start is radial and keeps its path; its power flow (the exact radial
    # sweep, and the SOCP where it meets the limits) is pandapower's.
    bus = int(pu.pv_buses()[0][0])
    paths = source_paths(pu, bus, 200)
    assert paths
    starts = list(pv_path_starts(ev, 60.0))
    assert 2 <= len(starts) <= len(paths)
    feasible = 0
    for y in starts:
        assert is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.is_source)[0]
        assert any(np.all(y[p] > 0.5) for p in paths)
        truth = runpp_losses_kw(net, pu.branch_ids, y)
        flow = sweep(pu, y > 0.5)
        assert flow is not None and flow.converged
        assert 1000.0 * pu.s_base_mva * flow.losses == pytest.approx(truth, rel=1e-4)
        res = ev.evaluate(y, need_gradient=False)
        feasible += res.feasible
        if res.feasible:
            assert res.objective == pytest.approx(truth, rel=1e-4)
    assert feasible >= 2

    # The classic starts (rounding, sequential opening, each with branch exchange) miss the
    # optimum on this grid: the case is one the PV-path starts are for.
    y_round = relaxation_rounding(ev, relaxed)
    y_seq = sequential_opening(ev)
    assert y_round is not None and y_seq is not None
    for y in (y_round, y_seq):
        assert branch_exchange(ev, y)[1] > best + 1.0

    # The start sequence now reaches it (and pandapower agrees on its topology).
    found, _ = start_topologies(ev, 30.0, fallback=pu.initial_closed().astype(float),
                                relaxed=relaxed)
    values = [ev.evaluate(y, need_gradient=False).objective for y in found]
    k = int(np.nanargmin(values))
    assert values[k] == pytest.approx(best, rel=1e-4)
    assert runpp_losses_kw(net, pu.branch_ids, found[k]) == pytest.approx(best, rel=1e-4)
