"""A solve stops at its time limit (plus a small tolerance) and reports what it has, honestly.

With a 2 s limit, synthetic1000 (before every solver call got the time left: 4.90 s, its
continuous relaxation alone 3.0 s; after: 2.41 s) and synthetic250 on the single SCIP tree
must stop at the limit with status ``time_limit``, never ``optimal`` (their gaps at 60 s are
1.8 % and 1.5 %). The bound and gap, when there are any, must agree with the incumbent, and the
incumbent must be a radial topology (checked with networkx, independently of the engine).
"""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import polars as pl
import pytest

import feederopt
from feederopt.algorithms.base import Deadline, OutOfTime
from feederopt.algorithms.slaves import TopologyEvaluator
from feederopt.api import prepare
from feederopt.problems.reconfiguration import RadialityModel

#: Seconds a solve may run past its limit: the last HiGHS/Clarabel call notices the deadline
#: within its own polling interval, then the result is assembled (tables, no AC check).
TOLERANCE_S = 1.5


@pytest.mark.parametrize(("case", "method"), [("synthetic1000", "benders"),
                                              ("synthetic250", "benders-scip")])
def test_tiny_time_limit_stops_in_time(case: str, method: str) -> None:
    net = feederopt.load(case)
    limit = 2.0
    t0 = time.perf_counter()
    result = feederopt.solve(net, method=method, time_limit=limit, ac_check=False)
    wall = time.perf_counter() - t0
    assert wall <= limit + TOLERANCE_S, f"{wall:.2f} s for a {limit} s limit"
    assert result.status == "time_limit"
    assert result.solve_time_s <= limit + TOLERANCE_S
    if math.isfinite(result.objective):
        # The incumbent is a radial topology (networkx, independent of the engine's checks).
        closed = result.branches.filter(pl.col("closed"))
        graph = nx.MultiGraph()
        graph.add_nodes_from(result.buses["id"].to_list())
        graph.add_edges_from(zip(closed["from_bus"].to_list(), closed["to_bus"].to_list(),
                                 strict=True))
        assert nx.is_forest(graph)
        # A spanning forest with one substation in each tree (synthetic1000 has two).
        sources = set(result.buses.filter(pl.col("is_source"))["id"].to_list())
        components = list(nx.connected_components(graph))
        assert len(components) == len(sources)
        assert all(len(component & sources) == 1 for component in components)
        if math.isfinite(result.lower_bound):
            assert result.lower_bound <= result.objective * (1 + 1e-6)
            expected = (result.objective - result.lower_bound) / abs(result.objective)
            assert result.gap == pytest.approx(expected, rel=1e-6, abs=1e-9)
            assert result.gap > 1e-4  # not proven in 2 s (the gaps at 60 s are 1.5-1.8 %)
        else:
            assert math.isinf(result.gap)
    else:
        assert math.isinf(result.gap)


def test_slave_raises_out_of_time_at_the_deadline() -> None:
    """A slave asked after the deadline raises :class:`OutOfTime` instead of solving."""
    prep = prepare(feederopt.load("case33bw"), RadialityModel("parent_child"))
    ev = TopologyEvaluator(prep.problem)
    y = prep.problem.pu.initial_closed().astype(float)
    assert np.isfinite(ev.evaluate(y).objective)  # no deadline: solved
    ev.deadline = Deadline(0.0)
    with pytest.raises(OutOfTime):
        ev.evaluate(y)
