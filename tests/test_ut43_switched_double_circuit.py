"""A double circuit with a breaker on each circuit (user test ut43_ppgrid #1): the two
switchable lines between the same two buses were two branches of the model, which the radiality
constraints took for a loop, so one circuit was opened and "optimal" reported, worse than the
user's own operating point; holding both closed was "infeasible". Now they are one switchable
branch, closed or opened as a whole. Truth: brute force over every state of the net's switches
whose bus graph is a tree (a double circuit counts once), each run by pandapower's power flow."""

from __future__ import annotations

import copy
import itertools
import sys
from pathlib import Path

import networkx as nx
import pandapower as pp
import pytest

import feederopt

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import two_feeder_pandapower


def _switched_double() -> tuple[object, int, int]:
    """Feeder A's first section doubled by a second cable, a closed breaker on each."""
    net = two_feeder_pandapower()
    la1 = int(net.line.index[net.line.name == "LA1"][0])
    row = net.line.loc[la1]
    la1b = pp.create_line_from_parameters(net, int(row.from_bus), int(row.to_bus), 2.0, 0.2,
                                          0.35, 12, 0.5, name="LA1b")
    for line in (la1, la1b):
        pp.create_switch(net, int(row.from_bus), line, et="l", closed=True,
                         name=f"sw_{net.line.at[line, 'name']}")
    return net, la1, int(la1b)


def _losses_kw(net) -> float:  # type: ignore[no-untyped-def]
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1000


def _brute_force(net) -> float:  # type: ignore[no-untyped-def]
    """The least AC losses over the switch states whose closed lines make the buses a tree
    (each pair of buses joined once), within 0.9-1.1 p.u. and the lines' ratings."""
    best = float("inf")
    switches = list(net.switch.index)
    for states in itertools.product((True, False), repeat=len(switches)):
        trial = copy.deepcopy(net)
        trial.switch.loc[switches, "closed"] = list(states)
        graph = nx.Graph()
        graph.add_nodes_from(trial.bus.index)
        open_lines = set(trial.switch.element[~trial.switch.closed])
        for k, ln in trial.line.iterrows():
            if k not in open_lines:
                graph.add_edge(int(ln.from_bus), int(ln.to_bus))
        for _, tr in trial.trafo.iterrows():
            graph.add_edge(int(tr.hv_bus), int(tr.lv_bus))
        if not nx.is_tree(graph):
            continue
        pp.runpp(trial)
        if (trial.res_bus.vm_pu.between(0.9, 1.1).all()
                and (trial.res_line.loading_percent <= 100).all()):
            best = min(best, _losses_kw(trial))
    return best


def test_the_optimum_is_the_brute_force_one() -> None:
    net, la1, la1b = _switched_double()
    result = feederopt.solve(net, time_limit=60, v_min=0.9, v_max=1.1)
    assert result.status.value == "optimal"
    assert result.ac_check.losses_kw == pytest.approx(_brute_force(net), rel=1e-6)
    # both circuits closed in the answer, and in the net written back
    solved = result.to_pandapower(net)
    assert solved.switch.closed[solved.switch.element.isin([la1, la1b])].all()
    pp.runpp(solved)
    assert _losses_kw(solved) == pytest.approx(result.ac_check.losses_kw, rel=1e-9)


def test_both_circuits_can_be_held_closed_and_are_opened_together() -> None:
    net, la1, la1b = _switched_double()
    held = feederopt.solve(net, time_limit=60, v_min=0.9, v_max=1.1,
                           hold_closed=f"line:{la1},line:{la1b}")
    assert held.status.value == "optimal"
    # opened: both breakers open in the written net, which pandapower then runs as the model
    model = feederopt.load(net)
    merged = f"line:{la1}+line:{la1b}"
    assert merged in model.branches["id"].to_list()
    assert model.meta["operated_by"][merged] == (
        f"switch {net.switch.index[-2]} 'sw_LA1' + switch {net.switch.index[-1]} 'sw_LA1b'")
    row = held.switches.filter(held.switches["id"] == merged).row(0, named=True)
    assert sorted(net.switch.element[row["pp_switches"]]) == [la1, la1b]
    from feederopt.io.pandapower import write_switch_states

    closed = dict.fromkeys(model.branches["id"].to_list(), True)
    closed.update({merged: False, "line:11": True})  # feeder A fed through TIE1 instead
    states = {b: s for b, s in closed.items()
              if b in model.branches.filter("switchable")["id"].to_list()}
    out = write_switch_states(net, model, states)
    assert not out.switch.closed[out.switch.element.isin([la1, la1b])].any()


def test_circuits_in_different_states_held_closed_are_named_parallel() -> None:
    """One circuit's breaker open: two branches, which held closed together form a loop of two
    buses; the reason says they are parallel circuits between those buses."""
    net, la1, la1b = _switched_double()
    net.switch.loc[net.switch.element == la1b, "closed"] = False
    model = feederopt.load(net)
    assert {f"line:{la1}", f"line:{la1b}"} <= set(model.branches["id"].to_list())
    held = feederopt.solve(net, time_limit=30, v_min=0.9, v_max=1.1,
                           hold_closed=f"line:{la1},line:{la1b}")
    assert held.status.value == "infeasible"
    ends = sorted(int(net.line.at[la1, c]) for c in ("from_bus", "to_bus"))
    reason = str(held.extra["infeasible_reason"])
    assert f"parallel circuits between buses {ends[0]} and {ends[1]}" in reason
