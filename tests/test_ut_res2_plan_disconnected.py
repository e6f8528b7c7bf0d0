"""``feederopt plan``'s per-scenario table names what each scenario's operation disconnects
(user test ut_res2, gap 2): counts in the console table and the report, ids in the JSON
(``operation.deenergised_buses``, ``generators_off``, ``shunts_off``).

The truth is the test's own graph search on the user's pandapower net: with a scenario's
broken lines out (unless the plan hardened them) and every other line closable, the buses no
path reaches from the ext_grid are de-energised, and every sgen and shunt on them is off. The
planner net has a load on every feeder bus and room to carry all of it, and no backup DG may be
sited (budget 0), so the least-shedding operation energises every bus a path reaches.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api_resilience import plan, plan_settings
from feederopt.cli import app
from netbuild import planner_pandapower

#: Scenarios: B5 cut out (its PV with it); A5 cut out (its capacitor with it); a break that the
#: ties bridge (nothing disconnected).
SCENARIOS = [
    {"name": "b5_out", "probability": 0.3, "broken": ["line:10", "line:11"]},
    {"name": "a5_out", "probability": 0.45, "broken": ["line:4", "line:5"]},
    {"name": "bridged", "probability": 0.25, "broken": ["line:9"]},
]


def expected(net: pp.pandapowerNet, broken: set[str], hardened: set[str]
             ) -> tuple[list[str], list[str], list[str]]:
    """(de-energised buses, sgens off, shunts off) by a graph search of ``net``."""
    g = nx.Graph()
    g.add_nodes_from(int(b) for b in net.bus.index)
    for k, row in net.line.iterrows():
        if f"line:{k}" not in broken or f"line:{k}" in hardened:
            g.add_edge(int(row.from_bus), int(row.to_bus))
    for _, row in net.trafo.iterrows():
        g.add_edge(int(row.hv_bus), int(row.lv_bus))
    live: set[int] = set()
    for b in net.ext_grid.bus:
        live |= nx.node_connected_component(g, int(b))
    dead = sorted(set(g.nodes) - live)
    return ([str(b) for b in dead],
            [f"sgen:{k}" for k in net.sgen.index if int(net.sgen.at[k, "bus"]) in dead],
            [f"shunt:{k}" for k in net.shunt.index if int(net.shunt.at[k, "bus"]) in dead])


def counts(buses: list[str], gens: list[str], shunts: list[str]) -> str:
    parts = [f"{len(x)} {one}{'' if len(x) == 1 else many}" for x, one, many in (
        (buses, "bus", "es"), (gens, "generator", "s"), (shunts, "shunt", "s")) if x]
    return ", ".join(parts) or "-"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pp.pandapowerNet]:
    tmp = tmp_path_factory.mktemp("plan")
    net = planner_pandapower()
    path = tmp / "planner.json"
    pp.to_json(net, str(path))
    sc = tmp / "scenarios.json"
    sc.write_text(json.dumps({"scenarios": SCENARIOS}))
    return path, sc, net


def test_plan_json_names_what_each_scenario_disconnects(
        setup: tuple[Path, Path, pp.pandapowerNet]) -> None:
    _, sc, net = setup
    st = plan_settings(harden_budget=1, dg_budget=0)
    res = plan(feederopt.load(net), scenarios=sc, settings=st, measures=False)
    assert res.status == "optimal"
    data = res.to_dict()
    assert {s["name"] for s in data["scenarios"]} == {s["name"] for s in SCENARIOS}
    seen_any = False
    for s in data["scenarios"]:
        buses, gens, shunts = expected(net, set(s["broken"]), set(res.hardened))
        op = s["operation"]
        assert op["shed_kw"] == pytest.approx(sum(
            1e3 * float(net.load.p_mw[net.load.bus == int(b)].sum()) for b in buses),
            abs=1e-3), s["name"]  # the graph search's premise: nothing else is shed
        assert op["deenergised_buses"] == buses, s["name"]
        assert op["generators_off"] == gens, s["name"]
        assert op["shunts_off"] == shunts, s["name"]
        # and the AC check agrees: those buses, only those, have no voltage there
        assert s["ac_check"]["converged"] and s["ac_check"]["unsupplied_buses"] == []
        seen_any |= bool(buses)
    assert seen_any  # the plan cannot harden both scenarios' cuts with a budget of 1


def test_plan_console_and_report_count_them(setup: tuple[Path, Path, pp.pandapowerNet],
                                            tmp_path: Path) -> None:
    path, sc, net = setup
    out, js = tmp_path / "out", tmp_path / "r.json"
    r = CliRunner().invoke(app, ["plan", str(path), "--scenarios", str(sc), "--harden-budget",
                                 "1", "--dg-budget", "0", "--no-measures", "--json", str(js),
                                 "--out", str(out)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    data = json.loads(js.read_text())
    assert "disconnected" in r.output
    html = (out / "report.html").read_text()
    assert '<th scope="col">disconnected</th>' in html
    for s in data["scenarios"]:
        text = counts(*expected(net, set(s["broken"]), set(data["hardened"])))
        row = next(line for line in r.output.splitlines()
                   if re.match(rf"\W*{s['name']}\b", line))
        assert row.rstrip(" │|").endswith(text), (s["name"], row)
        assert re.search(rf"<td>{re.escape(text)}</td>", html), (s["name"], text)
