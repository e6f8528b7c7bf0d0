"""The verdict of a scenario run whose every radial topology was evaluated (user test ut41_unc
#3): stock CIGRE MV with PV/wind and three weighted scenarios. Its answer needs slack, and the
console said "infeasibility is not proven, a topology within the limits may exist at higher
losses" although the grid has three radial topologies (its three ties open, or one tie closed
with a transformer's breaker open) and every one was evaluated.

Truth: a pandapower brute force over the 2^5 states of the five switchable elements (the ties
line:12-14, the two transformers' breakers): exactly three are radial, and each breaks a limit
(or its power flow diverges) in some scenario. The run now says that no radial topology keeps
the limits in every scenario.
"""

from __future__ import annotations

import copy
import itertools
import warnings

import networkx as nx
import pandapower as pp
import pandapower.networks as pn
import pandapower.topology as top
import polars as pl

from feederopt import load
from feederopt.cli.scenarios import exhaustive_text
from feederopt.uncertainty import solve_scenarios
from test_scenario_enumeration import scenario_table  # one scenario-table builder


def _scenarios(net: pp.pandapowerNet) -> pl.DataFrame:
    return scenario_table(net, [
        ("winter_peak", 0.5, 1.08, [(11, 0.4, 0.13), (14, 0.3, 0.1)]),
        ("pv_noon", 0.3, 0.55, [(5, -2.0, 0.0), (9, -2.5, 0.0), (10, -1.5, 0.0)]),
        ("ev_evening", 0.2, 1.0, [(11, 0.6, 0.0), (3, 0.5, 0.0), (8, 0.4, 0.0)])])


def _brute_force(net: pp.pandapowerNet, table: pl.DataFrame) -> list[bool]:
    """Per radial switch state: whether every scenario's power flow keeps the limits (V in
    0.9-1.1 p.u. off the slack bus, loading <= 100 %)."""
    groups = [[0, 1], [2, 3], [4, 5], [6], [7]]  # the switches of line:12-14, trafo:0-1
    out = []
    for closed in itertools.product([False, True], repeat=len(groups)):
        state = copy.deepcopy(net)
        for c, group in zip(closed, groups, strict=True):
            state.switch.loc[group, "closed"] = c
        if not nx.is_tree(top.create_nxgraph(state, respect_switches=True)):
            continue
        ok = True
        for name in ("winter_peak", "pv_noon", "ev_evening"):
            case = copy.deepcopy(state)
            for r in table.filter(pl.col("scenario") == name).iter_rows(named=True):
                if r["kind"] == "load":
                    i = int(r["element"].split(":")[1])
                    case.load.loc[i, ["p_mw", "q_mvar"]] = [r["p_mw"], r["q_mvar"]]
                else:
                    pp.create_load(case, int(r["element"]), p_mw=r["p_mw"], q_mvar=r["q_mvar"])
            try:
                pp.runpp(case, numba=False)
            except Exception:  # diverged: no operating point within the limits
                ok = False
                continue
            vm = case.res_bus.vm_pu.drop(case.ext_grid.bus.tolist())
            loading = max(case.res_line.loading_percent.max(),
                          case.res_trafo.loading_percent.max())
            ok &= bool(vm.min() >= 0.9 - 1e-4 and vm.max() <= 1.1 + 1e-4
                       and loading <= 100.0 + 0.1)
        out.append(ok)
    return out


def test_every_radial_topology_evaluated_is_said_so() -> None:
    raw_net = pn.create_cigre_network_mv(with_der="pv_wind")
    table = _scenarios(raw_net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        truth = _brute_force(raw_net, table)
    assert len(truth) == 3 and not any(truth)
    res = solve_scenarios(load(raw_net), table, ac_check=False, time_limit=60)
    assert not res.within_limits
    # every radial topology needs slack in some scenario: proven infeasible (the SOCP is a
    # relaxation), as the brute force says (no topology within the limits in every scenario)
    assert res.status.value == "infeasible"
    data = res.to_dict()
    assert data["radial_topologies_evaluated"] == len(truth)
    assert data["every_radial_topology_needs_slack"] is True
    text = exhaustive_text(data)
    assert "no radial topology keeps the limits" in text and "may exist" not in text


def test_the_wording_of_a_search_that_was_not_or_was_exhaustive() -> None:
    assert "infeasibility is not proven" in exhaustive_text({})
    one = exhaustive_text({"radial_topologies_evaluated": 1,
                           "every_radial_topology_needs_slack": True})
    assert "only radial topology" in one and "may exist" not in one
    some = exhaustive_text({"radial_topologies_evaluated": 7,
                            "every_radial_topology_needs_slack": False})
    assert "7 radial topologies" in some and "may exist" not in some
