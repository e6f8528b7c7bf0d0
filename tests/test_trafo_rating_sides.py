"""A transformer's rating holds on both windings (user test ut_engine #1).

pandapower's current-based transformer loading is the larger of the two windings',
``max(i_hv vn_hv, i_lv vn_lv) sqrt(3) / sn``. The model limited the series (lv) current only,
so with the tap at 0.94 the hv winding ran at up to 1/0.94 of its rating: a solve with
``--max-loading 91`` returned "optimal" where every radial topology loads the transformer to
more than 94 % in pandapower; with the tap at 1.06 the AC check (hv side only) passed an lv
side at 102 %. The truth here is pandapower's own power flow of every radial topology.
"""

from __future__ import annotations

import copy
import itertools

import networkx as nx
import pandapower as pp
import pytest

import feederopt
from feederopt.solvers.status import Status

EDGES = [(0, 1, 2), (1, 2, 2), (2, 3, 2), (0, 4, 3), (4, 5, 2), (5, 3, 2), (5, 6, 1), (6, 2, 3)]


def _grid(tap_pos: int) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110)
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    mv = [pp.create_bus(net, 20) for _ in range(7)]
    pp.create_transformer_from_parameters(
        net, hv, mv[0], sn_mva=16, vn_hv_kv=110, vn_lv_kv=20, vk_percent=12, vkr_percent=0.5,
        pfe_kw=10, i0_percent=0.1, tap_side="hv", tap_neutral=0, tap_min=-9, tap_max=9,
        tap_step_percent=1.5, tap_pos=tap_pos, tap_changer_type="Ratio")
    for k, (a, b, km) in enumerate(EDGES):
        line = pp.create_line_from_parameters(net, mv[a], mv[b], km, 0.161, 0.117, 273, 0.6)
        if k not in (0, 3):
            pp.create_switch(net, mv[a], line, et="l", closed=True)
    for b, p in zip(mv[1:], [2.5, 2.0, 3.0, 1.5, 2.5, 2.0], strict=True):
        pp.create_load(net, b, p_mw=p, q_mvar=0.4 * p)
    return net


def _least_trafo_loading(net: pp.pandapowerNet) -> float:
    """The smallest transformer loading [%] over every radial topology (pandapower)."""
    switchable = [int(e) for e in net.switch["element"]]
    best = float("inf")
    for k in range(len(switchable) + 1):
        for opened in itertools.combinations(switchable, k):
            g = nx.Graph()
            g.add_nodes_from(net.bus.index)
            g.add_edge(0, 1)
            g.add_edges_from((int(r.from_bus), int(r.to_bus)) for i, r in net.line.iterrows()
                             if i not in opened)
            if not nx.is_tree(g):
                continue
            trial = copy.deepcopy(net)
            trial.switch["closed"] = ~trial.switch["element"].isin(opened)
            pp.runpp(trial)
            best = min(best, float(trial.res_trafo.at[0, "loading_percent"]))
    return best


@pytest.mark.parametrize("tap_pos", [-4, 4])
def test_the_rating_holds_on_both_windings(tap_pos: int) -> None:
    net = _grid(tap_pos)
    least = _least_trafo_loading(net)
    assert 90.0 < least < 105.0  # the rating binds (the grid is built for it)
    above = feederopt.solve(net, max_loading_percent=least + 0.5, v_min=0.85, time_limit=60)
    assert above.status is Status.OPTIMAL
    assert above.ac_check is not None and above.ac_check.within_limits
    below = feederopt.solve(net, max_loading_percent=least - 0.5, v_min=0.85, time_limit=60)
    assert below.status is Status.INFEASIBLE


def test_the_ac_check_sees_the_lv_winding() -> None:
    """Tap +4 (ratio 1.06): the lv winding is the more loaded one. The base case's AC check
    against the rating must flag it where pandapower's loading passes 100 %."""
    from feederopt.validation.ac import ac_power_flow
    from feederopt.validation.ac_limits import rating_verdict

    net = _grid(4)
    pp.runpp(net)
    loading = float(net.res_trafo.at[0, "loading_percent"])
    assert loading > 100.5 and net.res_trafo.at[0, "i_lv_ka"] * 20 > net.res_trafo.at[
        0, "i_hv_ka"] * 110
    network = feederopt.load(net)
    verdict = rating_verdict(network, ac_power_flow(network))
    assert not verdict["within"]
    (over,) = verdict["over_rating"]
    assert over["id"] == "trafo:0"
    assert over["loading_percent"] == pytest.approx(loading, rel=1e-6)
