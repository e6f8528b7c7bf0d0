"""Independent physics for the resilience tests: the least shedding of a scenario by graph
connectivity, and the best plan by enumeration over every first stage (no feederopt code but
the network's tables).

With lossless LinDistFlow, no binding voltage or line limits (zhang13, the random grids of
``tests/test_resilience.py``) and loads that may be shed in any share, the least shedding of a
scenario is, over the components of the surviving graph (networkx) without the source,
``max(0, load - DG capacity sited there)``. Hardening a line that no scenario breaks only costs,
and the budgets bound the rest: enumeration over every first stage is exact.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx

from feederopt.network import Network
from feederopt.problems.resilience import PlanSettings


def graph_shed_kw(net: Network, broken: set[str], dg_sites: set[str], dg_kw: float) -> float:
    """Least shedding by connectivity (module docstring)."""
    g = nx.Graph()
    g.add_nodes_from(str(b) for b in net.buses["id"].to_list())
    for bid, a, b in zip(net.branches["id"].to_list(), net.branches["from_bus"].to_list(),
                         net.branches["to_bus"].to_list(), strict=True):
        if str(bid) not in broken:
            g.add_edge(str(a), str(b))
    load_kw: dict[str, float] = {}
    for bus, p in zip(net.loads["bus"].to_list(), net.loads["p_mw"].to_list(), strict=True):
        load_kw[str(bus)] = load_kw.get(str(bus), 0.0) + 1000 * p
    src = {str(b) for b, s in zip(net.buses["id"].to_list(), net.buses["is_source"].to_list(),
                                  strict=True) if s}
    shed = 0.0
    for comp in nx.connected_components(g):
        if comp & src:
            continue
        demand = sum(load_kw.get(b, 0.0) for b in comp)
        shed += max(0.0, demand - dg_kw * len(comp & dg_sites))
    return shed


def plan_cost(net: Network, scenarios: list[tuple[float, set[str]]], hardened: list[str] |
              tuple[str, ...], sites: list[str] | tuple[str, ...], st: PlanSettings) -> float:
    """A plan's investment + expected shedding cost, each scenario's shedding by
    connectivity."""
    cost = len(hardened) * st.harden_cost + len(sites) * st.dg_cost_per_kw * st.dg_p_max_kw
    for p, broken in scenarios:
        cost += p * st.voll * graph_shed_kw(net, broken - set(hardened), set(sites),
                                            st.dg_p_max_kw)
    return cost


def brute_force(net: Network, scenarios: list[tuple[float, set[str]]], st: PlanSettings
                ) -> float:
    """min over every first stage within the budgets of investment + expected shedding cost."""
    lines = sorted(set().union(*(b for _, b in scenarios)))  # others never pay off
    buses = [str(b) for b, s in zip(net.buses["id"].to_list(), net.buses["is_source"].to_list(),
                                    strict=True) if not s]
    best = math.inf
    for kh in range(st.harden_budget + 1):
        for hard in itertools.combinations(lines, kh):
            for kg in range(st.dg_budget + 1):
                for sites in itertools.combinations(buses, kg):
                    best = min(best, plan_cost(net, scenarios, hard, sites, st))
    return best
