"""``restore`` on pandapower nets whose lines carry a placeholder rating (user test
ut40_resreal): pandapower's case33bw has ``max_i_ka = 99999`` on every line, 2.2e6 p.u. at
12.66 kV. That rating was the big-M of the on/off rows ``|P| <= Pbar v``, and HiGHS's
integrality tolerance (``v`` of 1e-7 counts as 0) let "open" lines carry up to 880 kW: the
result sheds 715 kW while only 1,410 kW of load is joined to a DG, loads on dead buses are
served, and the flows do not balance. Now every line's bound is at most the total of the
injections (:func:`feederopt.problems.resilience.flow_bound`).

Independent truth: networkx on the returned closed lines (the energised buses, and so the
least shed of that topology: every load on a dead bus), the per-bus P balance of the
reported flows, and on a small net a brute force over every forest of its working lines with
the lossless shedding of each component (unrated, loose voltage band: a component with the
source sheds nothing, one without sheds ``max(0, load - DG capacity)``).
"""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.api_resilience import restore

SIZE_KW = 1000.0


def _checks(net: feederopt.Network, r: Any, size_kw: float = SIZE_KW) -> None:
    """The tester's checks (verify_balance.py): energised buses by networkx, every load on a
    dead bus shed in full, served = total - shed = the DG and source supply, balance per bus."""
    op = r.operation
    br = {row["id"]: row for row in net.branches.iter_rows(named=True)}
    load: dict[str, float] = {}
    for row in net.loads.iter_rows(named=True):
        load[row["bus"]] = load.get(row["bus"], 0.0) + 1e3 * row["p_mw"]
    g = nx.Graph()
    g.add_nodes_from(row["id"] for row in net.buses.iter_rows(named=True))
    for line in op.closed_lines:
        g.add_edge(br[line]["from_bus"], br[line]["to_bus"])
    src = {row["id"] for row in net.buses.iter_rows(named=True) if row["is_source"]}
    energ = set().union(*(nx.node_connected_component(g, s) for s in src | set(op.dg_output_kw)))
    assert set(op.energised_buses) == energ
    shed = {b: op.shed_per_bus_kw.get(b, 0.0) for b in load}
    for b, kw in load.items():
        if b not in energ:  # a dead bus has no supply: its load is shed in full
            assert shed[b] == pytest.approx(kw, abs=1e-3), b
    served_on_energised = sum(load[b] - shed[b] for b in load if b in energ)
    assert sum(load.values()) - r.shed_kw == pytest.approx(served_on_energised, abs=1e-2)
    bal = {b: 0.0 for b in g.nodes}
    for line, p in op.flows_kw.items():
        assert line in op.closed_lines or abs(p) < 1e-6, line
        bal[br[line]["from_bus"]] -= p
        bal[br[line]["to_bus"]] += p
    for b, p in op.dg_output_kw.items():
        bal[b] += p
    for b in g.nodes:
        if b not in src:
            assert bal[b] == pytest.approx(load.get(b, 0.0) - shed.get(b, 0.0), abs=1e-3), b
    ac = r.ac_check
    assert ac is not None and ac["unsupplied_buses"] == []
    # a fixed-injection DG is at the model's output; a grid-forming one within the losses
    for b, kw in ac["dg_island_kw"].items():
        assert kw == pytest.approx(op.dg_output_kw[b], abs=0.05 * size_kw + ac["losses_kw"])


def _lossless_shed_or_reserve(r: Any, want_kw: float) -> None:
    """The shed is the lossless one ``want_kw`` (by hand or brute force), or, where an island
    DG was held below its size for its island's AC losses (a note, user test ut47_resil #2),
    at most 1.1 times the AC losses of each of the three rounds more (the reserve is served
    load shed: never less than lossless)."""
    if not any("held below their size" in n for n in r.notes):
        assert r.shed_kw == pytest.approx(want_kw, abs=1e-3)
        return
    assert r.ac_check is not None
    assert want_kw - 1e-3 <= r.shed_kw <= want_kw + 3 * (1.1 * r.ac_check["losses_kw"]
                                                          + 1e-3) + 1e-3


def test_pp33_backup_dgs_consistent(tmp_path: Any) -> None:
    """The reproducer: line 0 (the substation's) and line 10 broken, DGs at 5, 20, 30. The
    DGs' 3,000 kW can serve at most 3,000 of the 3,715 kW (lossless): the shed is 715 kW
    exactly when every load that is served is joined to a DG, which networkx checks."""
    path = tmp_path / "pp33.json"
    pp.to_json(pn.case33bw(), str(path))
    net = feederopt.load(str(path))
    r = restore(str(path), broken=["line:0", "line:10"], dg_sites=["5", "20", "30"],
                dg_p_max_kw=SIZE_KW, time_limit_s=120)
    assert r.status == "optimal"
    _lossless_shed_or_reserve(r, 715.0)  # 3,715 kW load - 3 x 1,000 kW DG
    _checks(net, r)
    assert not any("no time was left" in n for n in r.notes)


def _small_net(max_i_ka: float) -> pp.pandapowerNet:
    """8 buses at 110 kV (every rating a placeholder at 99999 kA is 1.9e7 kVA), a mesh with an
    out-of-service line (read as a normally open tie)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 110.0, min_vm_pu=0.5, max_vm_pu=1.1) for _ in range(8)]
    pp.create_ext_grid(net, b[0])
    edges = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (5, 6), (3, 6), (6, 7), (2, 7)]
    for k, (i, j) in enumerate(edges):
        pp.create_line_from_parameters(net, b[i], b[j], 1.0, r_ohm_per_km=0.5,
                                       x_ohm_per_km=0.4, c_nf_per_km=0.0, max_i_ka=max_i_ka,
                                       in_service=k != 6)
    for i, kw in ((1, 300.0), (2, 200.0), (3, 400.0), (4, 250.0), (5, 350.0), (6, 500.0),
                  (7, 150.0)):
        pp.create_load(net, b[i], p_mw=kw / 1e3, q_mvar=kw / 4e3)
    return net


def _brute_shed_kw(net: pp.pandapowerNet, broken: set[int], sites: set[int],
                   size_kw: float) -> float:
    """Least shed over every forest of the working lines (each component: none with the
    source, else ``max(0, load - DG capacity)``; lossless, unrated, loose voltages)."""
    lines = [(int(k), int(net.line.at[k, "from_bus"]), int(net.line.at[k, "to_bus"]))
             for k in net.line.index if k not in broken]
    load = net.load.groupby("bus").p_mw.sum().mul(1e3).to_dict()
    src = set(net.ext_grid.bus.astype(int))
    best = float("inf")
    for r in range(len(lines) + 1):
        for chosen in itertools.combinations(lines, r):
            g = nx.Graph()
            g.add_nodes_from(int(b) for b in net.bus.index)
            g.add_edges_from((i, j) for _, i, j in chosen)
            if not nx.is_forest(g):
                continue
            shed = sum(max(0.0, sum(load.get(b, 0.0) for b in c) - size_kw * len(c & sites))
                       for c in nx.connected_components(g) if not c & src)
            best = min(best, shed)
    return best


@pytest.mark.parametrize(("broken", "sites", "size_kw"), [
    ((0,), {3, 6}, 500.0),
    ((1, 3), {5}, 600.0),
    ((0,), {2}, 800.0),
])
def test_small_pp_net_brute_force(tmp_path: Any, broken: tuple[int, ...], sites: set[int],
                                  size_kw: float) -> None:
    pnet = _small_net(99999.0)
    path = tmp_path / "small.json"
    pp.to_json(pnet, str(path))
    net = feederopt.load(str(path))
    r = restore(str(path), broken=[f"line:{k}" for k in broken],
                dg_sites=[str(s) for s in sorted(sites)], dg_p_max_kw=size_kw, time_limit_s=60)
    want = _brute_shed_kw(pnet, set(broken), sites, size_kw)
    _lossless_shed_or_reserve(r, want)
    _checks(net, r, size_kw)


def test_ac_check_fails_on_an_impossible_operation(tmp_path: Any) -> None:
    """The AC check no longer says "limits hold" for an operation that serves a load with no
    closed path to a source or DG (the tester's 2,305 kW), nor for a DG whose AC output is far
    from the model's (1,421 vs 3,000 kW): the optimal operation of the small net, then the same
    with the line that feeds bus 7 opened (bus 7 still served), then with the DG's model output
    zeroed (its island's 850 kW must come from it in AC)."""
    from dataclasses import replace

    import numpy as np

    from feederopt.algorithms.resilience import restore as restore_op
    from feederopt.problems.resilience import PlanSettings, ResilienceProblem
    from feederopt.validation.restoration import restoration_ac

    pnet = _small_net(99999.0)
    path = tmp_path / "small.json"
    pp.to_json(pnet, str(path))
    net = feederopt.load(str(path))
    prob = ResilienceProblem.from_network(net, PlanSettings(dg_p_max_kw=1000.0,
                                                            dg_q_max_kvar=1000.0))
    broken = prob.branch_index(["line:0"])  # the source's only line: all is one DG island
    sites = prob.bus_index(["6"])
    op = restore_op(prob, broken, sites=sites)
    good = restoration_ac(net, prob, op, sites, broken)
    assert good.converged and good.unsupplied_buses == [] and good.dg_output_mismatch == []
    b7 = prob.bus_ids.index("7")
    assert op.shed_pu[b7] < prob.grid.p_load[b7]  # the model serves bus 7
    feed = [k for k in np.flatnonzero(op.closed > 0.5) if b7 in (prob.grid.f[k], prob.grid.t[k])]
    cut = op.closed.copy()
    cut[feed] = 0.0
    bad = restoration_ac(net, prob, replace(op, closed=cut), sites, broken)
    assert not bad.limits_hold and "7" in bad.unsupplied_buses
    assert bad.verdict != "limits hold in AC"
    off = restoration_ac(net, prob, replace(op, dg_p=np.zeros_like(op.dg_p)), sites, broken)
    assert not off.limits_hold and off.dg_output_mismatch == ["6"]
