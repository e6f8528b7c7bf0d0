"""Load priority per load, not per bus, in ``restore`` and ``plan`` (seed 003), and the integer
L-shaped method with loads that cannot be shed.

Two or three loads share bus 3 of a small grid whose feeding line is rated for less than their
sum. The reference is brute force independent of the MILP: every shed amount of each sheddable
load on a 10-kW grid (non-sheddable loads never shed) that fits the line rating, the least
priority-weighted shed kW; in ``plan`` every first stage within the budgets, priced the same way.
A user expects the lower-priority load at a bus to be shed first, reported by its id.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import polars as pl
import pytest

from feederopt import InputError
from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.errors import ProblemKind
from feederopt.io.disasters import Disaster, DisasterSet
from feederopt.network import Network

STEP = 10.0  # kW


def _line_net(loads: pl.DataFrame, rating_mva: float) -> Network:
    """Source 1 - line a - bus 2 - line b (rated ``rating_mva``) - bus 3; line c, 2 - 4,
    is a spare (no load at 4)."""
    buses = pl.DataFrame({"id": ["1", "2", "3", "4"], "vn_kv": [12.66] * 4,
                          "is_source": [True, False, False, False]})
    br = pl.DataFrame({"id": ["a", "b", "c"], "from_bus": ["1", "2", "2"],
                       "to_bus": ["2", "3", "4"], "r_ohm": [0.05] * 3, "x_ohm": [0.04] * 3,
                       "switchable": [False, True, True], "normally_open": [False] * 3,
                       "s_max_mva": [None, rating_mva, None]})
    br = br.with_columns(pl.col("s_max_mva").cast(pl.Float64))
    return Network.from_tables(buses=buses, branches=br, loads=loads, name="prio").check()


def _loads(rows: list[tuple[str, float, float, bool]]) -> pl.DataFrame:
    """(id, p_mw, priority, sheddable), all at bus 3, Q = 0."""
    return pl.DataFrame({"id": [r[0] for r in rows], "bus": ["3"] * len(rows),
                         "p_mw": [r[1] for r in rows], "q_mvar": [0.0] * len(rows),
                         "priority": [r[2] for r in rows], "sheddable": [r[3] for r in rows]})


def brute_shed(rows: list[tuple[str, float, float, bool]], supply_kw: float
               ) -> tuple[float, dict[str, float]] | None:
    """The least priority-weighted shed kW (and the shed kW per load id) when at most
    ``supply_kw`` reaches bus 3; None when the non-sheddable loads alone exceed it."""
    grids = [np.arange(0.0, 1000 * p + STEP / 2, STEP) if shed else np.array([0.0])
             for _, p, _, shed in rows]
    total = sum(1000 * p for _, p, _, _ in rows)
    best: tuple[float, dict[str, float]] | None = None
    for combo in itertools.product(*grids):
        if total - sum(combo) > supply_kw + 1e-9:
            continue
        cost = sum(w * s for (_, _, w, _), s in zip(rows, combo, strict=True))
        if best is None or cost < best[0] - 1e-9:
            best = (cost, {r[0]: s for r, s in zip(rows, combo, strict=True) if s > 0})
    return best


def test_lower_priority_load_at_a_bus_is_shed_first() -> None:
    """Loads of priority 1 and 10 at bus 3, 500 kW each, line b rated 0.5 MVA: only one fits;
    the priority-1 load is shed whole (weighted 500 kW, not 2,750 as an even split)."""
    rows = [("low", 0.5, 1.0, True), ("high", 0.5, 10.0, True)]
    truth = brute_shed(rows, 500.0)
    assert truth == (500.0, {"low": 500.0})
    r = restore(_line_net(_loads(rows), 0.5), ["c"])
    assert r.status == "optimal"
    assert r.objective_kw == pytest.approx(truth[0], abs=1e-3)
    assert r.shed_kw == pytest.approx(500.0, abs=1e-3)
    assert r.operation.shed_per_load_kw == {"low": pytest.approx(500.0, abs=1e-3)}
    assert r.operation.shed_per_bus_kw == {"3": pytest.approx(500.0, abs=1e-3)}


def test_non_sheddable_and_two_priorities_at_one_bus() -> None:
    """A non-sheddable 300-kW load and sheddable loads of priority 4 (200 kW) and 2 (400 kW) at
    bus 3, line b rated 0.6 MVA: 300 kW must go, all from the priority-2 load."""
    rows = [("firm", 0.3, 1.0, False), ("p4", 0.2, 4.0, True), ("p2", 0.4, 2.0, True)]
    truth = brute_shed(rows, 600.0)
    assert truth is not None and truth[1] == {"p2": 300.0}
    r = restore(_line_net(_loads(rows), 0.6), ["c"])
    assert r.objective_kw == pytest.approx(truth[0], abs=1e-3)  # 600: 2 x 300
    assert r.operation.shed_per_load_kw == {"p2": pytest.approx(300.0, abs=1e-3)}


def test_plan_prices_the_shedding_per_load() -> None:
    """Phase 2: line b broken in the attack and not hardenable (H = 0); a 500-kW backup DG may
    stand at bus 3 ($1.5/kW). It carries one of the two loads; the priority-1 one is shed.
    Enumeration over the two plans (no DG, DG at 3) with brute-force shedding gives the truth,
    the extensive form and the L-shaped method agree with it."""
    rows = [("low", 0.5, 1.0, True), ("high", 0.5, 10.0, True)]
    net = _line_net(_loads(rows), 0.5)
    st = plan_settings(harden_budget=0, dg_budget=1, dg_p_max_kw=500.0, dg_q_max_kvar=500.0,
                       dg_candidates=("3",))
    costs = {}
    for dg in (False, True):
        shed = brute_shed(rows, 500.0 if dg else 0.0)
        assert shed is not None
        costs[dg] = (1.5 * 500.0 if dg else 0.0) + 14.0 * shed[0]
    assert costs == {False: 14.0 * 5500.0, True: 750.0 + 14.0 * 500.0}
    for method in ("extensive", "lshaped"):
        out = plan(net, broken=["b"], settings=st, method=method)
        assert out.expected_total == pytest.approx(min(costs.values()), abs=1e-3), method
        assert out.dg_sites == ["3"]
        assert out.scenarios[0].operation.shed_per_load_kw == {
            "low": pytest.approx(500.0, abs=1e-3)}


# ----- the integer L-shaped method with non-sheddable loads ---------------------------------
BRANCHES = [("a", "1", "2"), ("b", "2", "3"), ("c", "3", "4"), ("d", "2", "5"),
            ("e", "5", "4")]


def _mesh(loads: pl.DataFrame) -> Network:
    buses = pl.DataFrame({"id": ["1", "2", "3", "4", "5"], "vn_kv": [12.66] * 5,
                          "is_source": [True, False, False, False, False]})
    br = pl.DataFrame({"id": [b[0] for b in BRANCHES], "from_bus": [b[1] for b in BRANCHES],
                       "to_bus": [b[2] for b in BRANCHES], "r_ohm": [0.05] * 5,
                       "x_ohm": [0.04] * 5, "switchable": [False, True, True, True, True],
                       "normally_open": [False, False, False, False, True]})
    return Network.from_tables(buses=buses, branches=br, loads=loads, name="mesh").check()


MESH_LOADS = pl.DataFrame({"id": ["L3", "L4", "L5"], "bus": ["3", "4", "5"],
                           "p_mw": [0.5, 0.6, 0.4], "q_mvar": [0.2, 0.25, 0.15],
                           "sheddable": [False, True, True]})


def brute_mesh_shed(broken: set[str]) -> float | None:
    """Shed kW by connectivity over every set of closed working lines; None when L3 (bus 3,
    non-sheddable) cannot be reached."""
    working = [b for b in BRANCHES if b[0] not in broken]
    best = None
    for k in range(len(working) + 1):
        for closed in itertools.combinations(working, k):
            g = nx.Graph()
            g.add_nodes_from(["1", "2", "3", "4", "5"])
            g.add_edges_from((f, t) for _, f, t in closed)
            live = nx.node_connected_component(g, "1")
            if "3" not in live:
                continue
            cost = sum(1000 * p for b, p in zip(MESH_LOADS["bus"], MESH_LOADS["p_mw"],
                                                strict=True) if b not in live)
            best = cost if best is None else min(best, cost)
    return best


def test_lshaped_plans_with_non_sheddable_loads() -> None:
    """Scenarios {b, c} (p 0.6: L3 is cut off unless b or c is hardened) and {d} (p 0.4),
    H = 1: enumeration over every plan (infeasible ones left out) gives the truth; the L-shaped
    method, which refused non-sheddable loads, reaches it by feasibility cuts."""
    scen = [("S1", 0.6, {"b", "c"}), ("S2", 0.4, {"d"})]
    costs = {}
    for h in [(), *[(b[0],) for b in BRANCHES]]:
        sheds = [brute_mesh_shed(br - set(h)) for _, _, br in scen]
        if all(s is not None for s in sheds):
            costs[h] = 400.0 * len(h) + sum(p * 14.0 * s for (_, p, _), s
                                            in zip(scen, sheds, strict=True))  # type: ignore
    ds = DisasterSet(tuple(Disaster(n, p, tuple(sorted(b))) for n, p, b in scen))
    st = plan_settings(harden_budget=1, dg_budget=0)
    out = plan(_mesh(MESH_LOADS), scenarios=ds, settings=st, method="lshaped", measures=False)
    assert out.expected_total == pytest.approx(min(costs.values()), abs=1e-6)
    assert tuple(out.hardened) in {h for h, c in costs.items()
                                   if c <= min(costs.values()) + 1e-6}
    assert out.gap is not None and out.gap <= 1e-6


def test_lshaped_without_a_feasible_plan_names_the_load() -> None:
    """H = 0: no plan keeps L3 supplied in {b, c}; the L-shaped method stops with the same typed
    bad_load problem as the extensive form, naming L3."""
    assert brute_mesh_shed({"b", "c"}) is None
    st = plan_settings(harden_budget=0, dg_budget=0)
    for method in ("extensive", "lshaped"):
        with pytest.raises(InputError) as err:
            plan(_mesh(MESH_LOADS), broken=["b", "c"], settings=st, method=method)
        p = err.value.problems[0]
        assert (p.kind, p.field, p.ids) == (ProblemKind.BAD_LOAD, "sheddable", ("L3",)), method
