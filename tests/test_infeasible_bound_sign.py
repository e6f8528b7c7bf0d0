"""A proven-infeasible minimisation states the lower bound +inf (the optimum of an infeasible
problem) whatever the method: Benders said -inf and the MISOCP +inf for the same proof, and
the JSON wrote both as null. A heuristic's ``infeasible`` (LinDistFlow) proves nothing and a
run without a bound states -inf. The JSON writes the infinities as the strings ``"inf"`` and
``"-inf"`` (null would lose the sign).

Truth, independent of the tool: every radial topology of the small pandapower grid built here
(:func:`test_double_circuit_member_ids._net`), each one's voltages by pandapower's ``runpp``,
stays below a band floor of 0.9999 p.u. somewhere, so no topology meets the band.
"""

from __future__ import annotations

import itertools
import json
import math

import networkx as nx
import pandapower as pp
import pytest

import feederopt
from feederopt.results.result import bound_json, bound_value, proven_lower_bound
from feederopt.solvers.status import Status
from test_double_circuit_member_ids import _net

V_MIN = 0.9999


def _every_radial_topology_breaks_the_band() -> bool:
    radial = 0
    for states in itertools.product([True, False], repeat=4):
        net = _net()
        for k, closed in enumerate(states):
            net.switch.at[k, "closed"] = closed
        g = pp.topology.create_nxgraph(net, respect_switches=True, multi=False)
        if not nx.is_tree(g):
            continue  # a loop, or a bus cut off
        radial += 1
        pp.runpp(net)
        if float(net.res_bus.vm_pu.min()) >= V_MIN:
            return False
    assert radial > 1  # the grid has topologies to choose from
    return True


def test_the_grid_is_infeasible_by_brute_force() -> None:
    assert _every_radial_topology_breaks_the_band()


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_a_proof_of_infeasibility_states_plus_infinity(method: str) -> None:
    r = feederopt.solve(_net(), method=method, v_min=V_MIN, time_limit=60)
    assert r.status is Status.INFEASIBLE
    assert r.lower_bound == math.inf
    assert json.loads(r.to_json())["lower_bound"] == "inf"


def test_a_heuristics_infeasible_states_no_bound() -> None:
    r = feederopt.solve(_net(), method="lindistflow", v_min=V_MIN, time_limit=60)
    assert r.status is Status.INFEASIBLE
    assert r.lower_bound == -math.inf
    assert json.loads(r.to_json())["lower_bound"] == "-inf"


def test_the_convention_and_its_json_round_trip() -> None:
    assert proven_lower_bound(Status.TIME_LIMIT, "misocp", math.nan) == -math.inf
    assert proven_lower_bound(Status.TIME_LIMIT, "benders", None) == -math.inf
    assert proven_lower_bound(Status.INFEASIBLE, "benders", -math.inf) == math.inf
    assert proven_lower_bound(Status.OPTIMAL, "benders", 12.5) == 12.5
    for x in (math.inf, -math.inf, 3.25):
        assert bound_value(json.loads(json.dumps(bound_json(x)))) == x
    assert bound_json(math.nan) is None and bound_value(None) is None
