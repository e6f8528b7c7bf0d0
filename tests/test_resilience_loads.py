"""``loads.sheddable`` and ``loads.priority`` in restore and plan (user test: tab/good_shed,
lines b and c broken, shed all of L3 although L3 has ``sheddable = false``).

Reference: brute force on a five-bus net, independent of the MILP: every set of closed
working lines (connectivity: a bus is supplied when a closed path reaches the source) and, where
a line rating binds, every shed share on a grid of 1/20; the least priority-weighted shed load,
and infeasible when every choice leaves a non-sheddable load unsupplied.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest

from feederopt import InputError
from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.errors import ProblemKind
from feederopt.network import Network

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import FIVE_BUS_BRANCHES, five_bus_net

BRANCHES = FIVE_BUS_BRANCHES


def _net(loads: pl.DataFrame, rating_a: float | None = None) -> Network:
    return five_bus_net(loads, rating_a, name="shed")


def _shed_loads() -> pl.DataFrame:  # the user's tab/good_shed loads
    return pl.DataFrame({"id": ["L3", "L4", "L5"], "bus": ["3", "4", "5"],
                         "p_mw": [0.5, 0.6, 0.4], "q_mvar": [0.2, 0.25, 0.15],
                         "sheddable": [False, True, True]})


def brute_restore(loads: pl.DataFrame, broken: set[str]) -> float | None:
    """The least priority-weighted shed kW over every set of closed working lines (by
    connectivity); None when every set leaves a non-sheddable load unsupplied."""
    working = [b for b in BRANCHES if b[0] not in broken]
    best = None
    for k in range(len(working) + 1):
        for closed in itertools.combinations(working, k):
            g = nx.Graph()
            g.add_nodes_from(["1", "2", "3", "4", "5"])
            g.add_edges_from((f, t) for _, f, t in closed)
            live = nx.node_connected_component(g, "1")
            if any(b not in live for b, s in zip(loads["bus"], loads["sheddable"],
                                                  strict=True) if not s):
                continue
            prio = loads["priority"] if "priority" in loads.columns else [1.0] * len(loads)
            cost = sum(1000 * p * w for b, p, w in zip(loads["bus"], loads["p_mw"], prio,
                                                        strict=True) if b not in live)
            best = cost if best is None else min(best, cost)
    return best


def test_a_non_sheddable_load_cut_off_is_named_not_shed() -> None:
    loads = _shed_loads()
    assert brute_restore(loads, {"b", "c"}) is None
    with pytest.raises(InputError) as err:
        restore(_net(loads), ["b", "c"])
    p = err.value.problems[0]
    assert (p.kind, p.component, p.field, p.ids) == (ProblemKind.BAD_LOAD, "loads",
                                                       "sheddable", ("L3",))


def test_restore_keeps_non_sheddable_loads_supplied_when_it_can() -> None:
    loads = _shed_loads()
    for broken in ({"b"}, {"c"}, {"d"}, {"b", "e"}):
        truth = brute_restore(loads, broken)
        if truth is None:  # {b, e}: buses 3 and 4 are cut off
            with pytest.raises(InputError, match="L3"):
                restore(_net(loads), sorted(broken))
            continue
        r = restore(_net(loads), sorted(broken))
        assert r.objective_kw == pytest.approx(truth, abs=1e-6)
        assert r.operation.shed_per_bus_kw.get("3", 0.0) == 0.0
    # d and c broken: bus 5 is cut off (L5 shed), bus 3 stays on line b.
    r = restore(_net(loads), ["c", "d"])
    assert r.shed_kw == pytest.approx(brute_restore(loads, {"c", "d"}))
    assert r.operation.shed_per_bus_kw == {"4": pytest.approx(600.0), "5": pytest.approx(400.0)}


def test_priority_weights_the_shedding() -> None:
    """Line a rated 1 MVA carries L4 (0.6 MW) and L5 (0.7 MW): 0.3 MW must go; L4 has
    priority 3 and L5 priority 2, so L5 sheds 0.3 MW at a weighted cost of 600 kW."""
    loads = pl.DataFrame({"id": ["L4", "L5"], "bus": ["4", "5"], "p_mw": [0.6, 0.7],
                          "q_mvar": [0.0, 0.0], "priority": [3.0, 2.0]})
    kw = np.arange(0, 701, 10.0)  # shed kW of each load, on a 10-kW grid
    truth = min(3 * s4 + 2 * s5 for s4 in kw[kw <= 600] for s5 in kw
                if (600 - s4) + (700 - s5) <= 1000 + 1e-9)
    r = restore(_net(loads, rating_a=1.0), ["b"])
    assert r.status == "optimal"
    assert r.objective_kw == pytest.approx(truth, abs=1e-3)  # 600: priority-weighted
    assert r.shed_kw == pytest.approx(300.0, abs=1e-3)
    assert r.operation.shed_per_bus_kw == {"5": pytest.approx(300.0, abs=1e-3)}


def test_bad_priority_is_a_typed_problem() -> None:
    loads = _shed_loads().with_columns(pl.Series("priority", [1.0, -2.0, 1.0]))
    with pytest.raises(InputError) as err:
        restore(_net(loads), ["b"])
    assert [(p.field, p.ids) for p in err.value.problems] == [("priority", ("L4",))]


def test_plan_hardens_to_keep_a_non_sheddable_load() -> None:
    """Attack {b, c}: L3 survives only when b or c is hardened (brute force over the plans);
    with no hardening budget the plan is infeasible and names L3; the L-shaped method gives the
    same plan cost."""
    loads = _shed_loads()
    net = _net(loads)
    st = plan_settings(harden_budget=1, dg_budget=0)
    costs = {}
    for h in [(), *[(b[0],) for b in BRANCHES]]:
        shed = brute_restore(loads, {"b", "c"} - set(h))
        if shed is not None:
            costs[h] = 400.0 * len(h) + 14.0 * shed
    out = plan(net, broken=["b", "c"], settings=st)
    assert out.expected_total == pytest.approx(min(costs.values()), abs=1e-6)
    assert tuple(out.hardened) in {h for h, c in costs.items() if c == min(costs.values())}
    with pytest.raises(InputError) as err:
        plan(net, broken=["b", "c"], settings=plan_settings(harden_budget=0, dg_budget=0))
    assert err.value.problems[0].ids == ("L3",)
    # the L-shaped method carries them by feasibility cuts (it refused them before)
    out = plan(net, broken=["b", "c"], settings=st, method="lshaped")
    assert out.expected_total == pytest.approx(min(costs.values()), abs=1e-6)


def test_every_load_is_sheddable_by_default() -> None:
    loads = _shed_loads().drop("sheddable")
    r = restore(_net(loads), ["b", "c"])
    assert r.shed_kw == pytest.approx(500.0)


def test_cli_exit_codes_and_weighted_total(tmp_path) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    net = _net(_shed_loads())
    (tmp_path / "g").mkdir()
    net.buses.select("id", "vn_kv", "is_source").write_csv(tmp_path / "g" / "buses.csv")
    net.branches.select("id", "from_bus", "to_bus", "r_ohm", "x_ohm", "switchable",
                        "normally_open").write_csv(tmp_path / "g" / "branches.csv")
    loads = _shed_loads().with_columns(pl.Series("priority", [1.0, 1.0, 2.0]))
    loads.write_csv(tmp_path / "g" / "loads.csv")
    runner = CliRunner()
    res = runner.invoke(app, ["restore", str(tmp_path / "g"), "--broken", "b,c"])
    assert res.exit_code == 2 and "L3" in res.output and "sheddable" in res.output
    res = runner.invoke(app, ["restore", str(tmp_path / "g"), "--broken", "c,d"])
    assert res.exit_code == 0, res.output
    assert "priority-weighted" in res.output and "1,400.00 kW" in res.output  # 600 + 2 x 400
