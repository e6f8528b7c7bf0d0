"""User test 14 of resilience (``restore`` / ``plan``, seed 003).

* A load of priority 0 (allowed: ``>= 0``) is shed only when it has to be: on zhang13 with
  line 5 broken every bus still reaches the source and supplying every load is feasible (checked
  here by hand: a BFS tree, LinDistFlow voltages and the line ratings), so ``plan`` (both
  methods) and ``restore`` shed 0 kW. The old extensive form shed the priority-0 load L11.
* An infeasible plan names the scenario that is infeasible within the budgets and why: with no
  hardening and one 100-kW DG, scenario S1 (lines 13, 14 broken) islands bus 12 whose
  non-sheddable 81 kW one DG can carry, while S2 (line 1 broken) cuts the source off from every
  bus and the non-sheddable L8 + L12b = 181 kW exceed the one DG: S2, DG capacity.
* ``plan`` prints and reports the loads shed per scenario; the shed cost is labelled as
  priority-weighted. Hand truth: 140 kW behind a 100-kVA line, the priority-1 load sheds 40 kW.
* A bad priority is printed as a plain number.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt import InputError
from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io.disasters import Disaster, DisasterSet
from feederopt.network import Network

DOCS = Path(__file__).resolve().parents[1] / "docs" / "resilience.md"

#: (id, bus, p_mw, sheddable, priority) of the user's folders z0 / zr (zhang13 loads split).
LOADS = [("L2", "2", 0.06667, True, 1.0), ("L3", "3", 0.085, True, 0.0),
         ("L4a", "4", 0.05, True, 1.0), ("L4b", "4", 0.05, True, 5.0),
         ("L5", "5", 0.05667, True, 1.0), ("L6", "6", 0.07667, True, 2.0),
         ("L7", "7", 0.05667, True, 1.0), ("L8", "8", 0.1, False, 1.0),
         ("L9", "9", 0.14267, True, 1.0), ("L11", "11", 0.13333, True, 0.0),
         ("L12a", "12", 0.2, True, 1.0), ("L12b", "12", 0.081, False, 1.0),
         ("L13", "13", 0.05667, True, 10.0)]


def _zhang(prio11: float, prio3: float) -> Network:
    rows = [(i, b, p, s, prio11 if i == "L11" else prio3 if i == "L3" else w)
            for i, b, p, s, w in LOADS]
    loads = pl.DataFrame({"id": [r[0] for r in rows], "bus": [r[1] for r in rows],
                          "p_mw": [r[2] for r in rows], "q_mvar": [0.0] * len(rows),
                          "sheddable": [r[3] for r in rows],
                          "priority": [r[4] for r in rows]})
    net = load("zhang13")
    return Network.from_tables(buses=net.buses, branches=net.branches, loads=loads,
                               name="zhang13").check()


def _all_supplied_is_feasible(net: Network, broken: set[str]) -> bool:
    """By hand: a BFS tree of the working lines from the source reaches every bus, no line of
    it carries more than its rating, and the LinDistFlow voltages stay within the limits."""
    br = net.branches
    g = nx.Graph()
    for bid, a, b, r, x, s in zip(*(br[c].to_list() for c in (
            "id", "from_bus", "to_bus", "r_ohm", "x_ohm", "s_max_mva")), strict=True):
        if str(bid) not in broken:
            g.add_edge(str(a), str(b), r=r, x=x, s=s)
    bus = net.buses
    src = next(str(b) for b, s in zip(bus["id"].to_list(), bus["is_source"].to_list(),
                                  strict=True) if s)
    tree = nx.bfs_tree(g, src)
    if tree.number_of_nodes() != len(bus):
        return False
    p = {str(b): 0.0 for b in bus["id"].to_list()}
    for b, mw in zip(net.loads["bus"].to_list(), net.loads["p_mw"].to_list(), strict=True):
        p[str(b)] += mw
    vn = dict(zip((str(b) for b in bus["id"].to_list()), bus["vn_kv"].to_list(), strict=True))
    vmin = dict(zip((str(b) for b in bus["id"].to_list()), bus["v_min_pu"].to_list(),
                    strict=True))
    u = {src: 1.0}
    for a, b in nx.bfs_edges(tree, src):
        flow = sum(p[k] for k in nx.descendants(tree, b) | {b})  # MW (Q = 0)
        e = g.edges[a, b]
        if flow > e["s"]:
            return False
        z_base = vn[b] ** 2 / 1.0  # 1 MVA base
        u[b] = u[a] - 2 * e["r"] / z_base * flow
        if u[b] < vmin[b] ** 2:
            return False
    return True


# ----- 1. a priority-0 load is shed only when it has to be -----------------------------------
def test_priority_zero_load_not_shed_when_it_can_be_supplied() -> None:
    net = _zhang(prio11=0.0, prio3=0.0)
    assert _all_supplied_is_feasible(net, {"5"})
    ds = DisasterSet((Disaster("A", 1.0, ("5",)),))
    for method in ("extensive", "lshaped"):
        res = plan(net, scenarios=ds, method=method, measures=False)
        sc = res.scenarios[0]
        assert sc.operation.shed_kw == pytest.approx(0.0, abs=1e-6), (method, sc.operation)
        assert sc.operation.shed_per_load_kw == {}
        assert res.expected_total == pytest.approx(0.0, abs=1e-6)
        assert res.lower_bound is not None and res.lower_bound <= res.expected_total + 1e-9
    r = restore(net, ["5"])
    assert r.shed_kw == pytest.approx(0.0, abs=1e-6)


def test_priority_zero_load_is_shed_first_and_costs_stay_unperturbed() -> None:
    """Only 100 kW reach bus 3 (line rating) of 140 kW: exactly 40 kW must go, all from the
    priority-0 load (not more of it, though more would cost nothing), at a reported cost of
    exactly 0."""
    res = restore(_line_net([("P1", 0.08, 1.0, True), ("P0", 0.06, 0.0, True)]), ["c"])
    assert res.operation.shed_per_load_kw == pytest.approx({"P0": 40.0}, abs=1e-3)
    assert res.objective_kw == 0.0


# ----- 2. the infeasible plan names the right scenario and reason ----------------------------
@pytest.mark.parametrize("method", ["extensive", "lshaped"])
def test_infeasible_plan_names_the_scenario_and_dg_capacity(method: str) -> None:
    net = _zhang(prio11=3.0, prio3=1.0)
    # hand truth: line 1 is the source's only line; S1 islands bus 12 (81 kW firm <= 100 kW)
    src_lines = net.branches.filter((pl.col("from_bus") == "1") | (pl.col("to_bus") == "1"))
    assert src_lines["id"].to_list() == ["1"]
    firm = {i: p for i, _, p, s, _ in LOADS if not s}
    assert 1000 * (firm["L8"] + firm["L12b"]) > 100.0 >= 1000 * firm["L12b"]
    ds = DisasterSet((Disaster("S1", 0.6, ("13", "14")), Disaster("S2", 0.4, ("1",))))
    st = plan_settings(harden_budget=0, dg_budget=1)
    with pytest.raises(InputError) as err:
        plan(net, scenarios=ds, settings=st, method=method, measures=False)
    probs = err.value.problems
    assert probs and all(p.kind is ProblemKind.BAD_LOAD for p in probs)
    text = " ".join(p.message for p in probs)
    assert "'S2'" in text and "'S1'" not in text
    assert "no working line connects" not in text
    assert set(probs[0].ids) == {"L8", "L12b"}
    assert "181" in probs[0].message
    assert "--dg-size" in probs[0].hint and "--dg-budget" in probs[0].hint
    assert "break fewer lines" not in probs[0].hint


def test_infeasible_within_budget_by_connectivity() -> None:
    """No DG allowed: S1's island at bus 12 cannot be reached (connectivity, not capacity)."""
    net = _zhang(prio11=3.0, prio3=1.0)
    ds = DisasterSet((Disaster("S1", 1.0, ("13", "14")),))
    with pytest.raises(InputError) as err:
        plan(net, scenarios=ds, settings=plan_settings(harden_budget=0, dg_budget=0),
             measures=False)
    p = err.value.problems[0]
    assert p.ids == ("L12b",) and "connects" in p.message and "exceeds" not in p.message
    assert "--harden-budget" in p.hint or "--dg-budget" in p.hint


# ----- 3. per-load shedding in the console and report; weighted cost labelled -------------
def _line_net(rows: list[tuple[str, float, float, bool]]) -> Network:
    """Source 1 - a - 2 - b (rated 0.1 MVA) - 3 with the loads ``rows`` at 3; c: 2 - 4 spare."""
    buses = pl.DataFrame({"id": ["1", "2", "3", "4"], "vn_kv": [12.66] * 4,
                          "is_source": [True, False, False, False]})
    br = pl.DataFrame({"id": ["a", "b", "c"], "from_bus": ["1", "2", "2"],
                       "to_bus": ["2", "3", "4"], "r_ohm": [0.05] * 3, "x_ohm": [0.04] * 3,
                       "switchable": [False, True, True], "normally_open": [False] * 3,
                       "s_max_mva": [None, 0.1, None]})
    br = br.with_columns(pl.col("s_max_mva").cast(pl.Float64))
    loads = pl.DataFrame({"id": [r[0] for r in rows], "bus": ["3"] * len(rows),
                          "p_mw": [r[1] for r in rows], "q_mvar": [0.0] * len(rows),
                          "priority": [r[2] for r in rows], "sheddable": [r[3] for r in rows]})
    return Network.from_tables(buses=buses, branches=br, loads=loads, name="ut14").check()


def _folder(tmp_path: Path, rows: list[tuple[str, float, float, bool]]) -> Path:
    net = _line_net(rows)
    d = tmp_path / "g"
    d.mkdir()
    net.buses.select("id", "vn_kv", "is_source").write_csv(d / "buses.csv")
    net.branches.select("id", "from_bus", "to_bus", "r_ohm", "x_ohm", "switchable",
                        "normally_open", "s_max_mva").write_csv(d / "branches.csv")
    net.loads.select("id", "bus", "p_mw", "q_mvar", "sheddable",
                     "priority").write_csv(d / "loads.csv")
    return d


def test_plan_console_and_report_show_loads_shed(tmp_path: Path) -> None:
    # 140 kW at bus 3 behind a 100-kVA line: 40 kW must go, from the priority-1 load LA
    d = _folder(tmp_path, [("LA", 0.08, 1.0, True), ("LB", 0.06, 10.0, True)])
    res = CliRunner().invoke(app, ["plan", str(d), "--broken", "c", "--dg-budget", "0",
                                   "--no-measures", "--out", str(tmp_path / "o")],
                             env={"COLUMNS": "200"})
    # exit 4: the model holds line b's flow at its 100 kVA lossless, and in AC the line
    # carries its losses on top: over the rating (ut41_cli #2: a broken limit is exit code 4)
    assert res.exit_code == 4, res.output
    assert json.loads((tmp_path / "o" / "result.json").read_text())["within_limits"] is False
    assert "LA 40.00" in res.output and "LB" not in res.output.split("loads shed")[-1]
    assert "weighted shed cost" in res.output and "priority" in res.output
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "LA 40.00" in html and "weighted shed cost" in html
    assert "560.00" in res.output  # $14/kW x priority 1 x 40 kW


# ----- 4. a bad priority prints the plain number ---------------------------------------------
def test_bad_priority_message_plain_number(tmp_path: Path) -> None:
    # the network check refuses a negative priority since ut46_iobad #5 (info said "problems:
    # none"), so the folder is written with a valid one and the CSV edited as a user would
    d = _folder(tmp_path, [("LA", 0.08, 1.0, True), ("LB", 0.06, 10.0, True)])
    loads = pl.read_csv(d / "loads.csv").with_columns(
        pl.when(pl.col("id") == "LA").then(-1.0).otherwise(pl.col("priority"))
        .alias("priority"))
    loads.write_csv(d / "loads.csv")
    res = CliRunner().invoke(app, ["restore", str(d), "--broken", "c"],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 2
    flat = " ".join(res.output.split())
    assert "[LA].priority" in flat and "finite number >= 0" in flat
    assert "np.float64" not in res.output and "Traceback" not in res.output


# ----- 5. docs: EEV and VSS are shown as "-" / null, not "infinite" -----------------------
def test_docs_eev_vss_not_infinite() -> None:
    text = " ".join(DOCS.read_text(encoding="utf-8").split())
    assert "VSS are then infinite" not in text
    assert "null" in text


# ----- side find: a recourse's operation must be the solution whose cost is reported --------
def test_lshaped_operation_matches_its_cost_with_seed_penalty() -> None:
    """With the seed's $0.01 per closed line, the L-shaped plan's scenario operations must be
    optimal: the same expected total as the extensive form (one cold MILP) on the shipped
    scenarios A_C_p2. HiGHS returned the warm start's 12-line topology with the 11-line
    optimum's value, and the report priced 12 lines."""
    net = "zhang13"
    st = plan_settings(radiality="seed")
    ext = plan(net, scenarios="A_C_p2", settings=st, method="extensive", measures=False)
    ls = plan(net, scenarios="A_C_p2", settings=st, method="lshaped", measures=False)
    assert ls.expected_total == pytest.approx(ext.expected_total, abs=1e-6)
    for a, b in zip(ls.scenarios, ext.scenarios, strict=True):
        assert len(a.operation.closed_lines) == len(b.operation.closed_lines)
        assert a.penalty_cost == pytest.approx(0.01 * len(a.operation.closed_lines))
