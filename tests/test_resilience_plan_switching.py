"""``plan`` reports each scenario's switching, served and shed load; ``restore`` and ``plan``
name loads and generators (session 39, defects 1 and 4 of the resilience brief).

``plan`` gave per scenario the closed lines and the shed, but not which switches to operate:
a planner wants, for each damage scenario, the lines to open and close (by id and name) and
the load served, as ``restore`` gives them for one scenario. Now each scenario has
``switching`` (rows as ``restore``'s) and ``served_kw`` in the JSON, ``switching.parquet``
and ``shed.parquet`` in the ``--out`` folder, and a compact console table. And the
``names`` of both results cover loads and generators (``names.loads``,
``names.generators``), as they covered buses and branches.

The feeder: a 20 kV pandapower net built here, source bus 0, lines 0-1 (``line:0``), 1-2,
2-3, 3-4 and 1-5 (``line:4``), a normally open tie 0-4 (``line:5``, ``Tie04``, switch
``sw_tie``), loads at buses 1-5 (2.0 MW in all, far below the lines' 10 kA), a 0.1 MW PV at
bus 3. No budget: each scenario's operation is its best restoration. Truth, per scenario,
independent of the model: the load reachable from the source over the working lines
(networkx; with ample ratings all of it can be served), and pandapower's own
``runpp`` of the user's net with the scenario's broken lines out and the reported switch
operations applied (served load = ``res_load.p_mw`` summed; the energised closed lines
form a tree)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandapower as pp
import pandapower.topology as top
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "240"})

SCENARIOS = {
    "mid": ["line:1"],  # 1-2 out: 2, 3, 4 back over the tie (close line:5)
    "spur": ["line:4"],  # 1-5 out: bus 5 cannot be fed; nothing to switch
    "head": ["line:0", "line:5"],  # 0-1 and the tie out: everything dark
    "two": ["line:2", "line:4"],  # 2-3 and 1-5 out: 3, 4 over the tie, 5 dark
}


def feeder() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1, name=f"B{i}")
         for i in range(6)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for (f, t), name in zip(((0, 1), (1, 2), (2, 3), (3, 4), (1, 5)),
                            ("L01", "L12", "L23", "L34", "L15"), strict=True):
        pp.create_line_from_parameters(net, b[f], b[t], 1.0, 0.2, 0.3, 10.0, 0.4, name=name)
    tie = pp.create_line_from_parameters(net, b[0], b[4], 1.0, 0.2, 0.3, 10.0, 0.4,
                                         name="Tie04")
    pp.create_switch(net, b[0], tie, et="l", closed=False, name="sw_tie")
    for i, p in ((1, 0.5), (2, 0.4), (3, 0.6), (4, 0.3), (5, 0.2)):
        pp.create_load(net, b[i], p_mw=p, q_mvar=0.1 * p, name=f"Load{i}")
    pp.create_sgen(net, b[3], p_mw=0.1, name="PV3")
    return net


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("plan_switching")
    case, storm = root / "feeder.json", root / "storm.json"
    pp.to_json(feeder(), str(case))
    storm.write_text(json.dumps({"scenarios": [
        {"name": k, "probability": 1 / len(SCENARIOS), "broken": v}
        for k, v in SCENARIOS.items()]}))
    return case, storm


@pytest.fixture(scope="module")
def planned(files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[dict, str, Path]:
    case, storm = files
    root = tmp_path_factory.mktemp("out")
    doc, out = root / "plan.json", root / "plan"
    res = runner.invoke(app, ["plan", str(case), "--scenarios", str(storm),
                              "--harden-budget", "0", "--dg-budget", "0", "--no-measures",
                              "--json", str(doc), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads(doc.read_text()), res.output, out


def _line(branch_id: str) -> int:
    kind, idx = branch_id.split(":")
    assert kind == "line"
    return int(idx)


def _reachable_load_kw(net: pp.pandapowerNet, broken: list[str]) -> float:
    """The load that closed lines could feed: the loads in the source's component of the
    graph of every working line (networkx)."""
    g = nx.Graph()
    g.add_nodes_from(net.bus.index)
    out = {_line(b) for b in broken}
    for i, row in net.line.iterrows():
        if i not in out:
            g.add_edge(int(row.from_bus), int(row.to_bus))
    live = nx.node_connected_component(g, int(net.ext_grid.bus.iloc[0]))
    return 1000.0 * float(net.load.loc[net.load.bus.isin(live), "p_mw"].sum())


def _operated(net: pp.pandapowerNet, broken: list[str], switching: list[dict]
              ) -> pp.pandapowerNet:
    """The user's net in the scenario's state: broken lines out of service, the reported
    switch operations applied to the normal state (a line's switches closed or opened)."""
    net = copy.deepcopy(net)
    for b in broken:
        net.line.loc[_line(b), "in_service"] = False
    for row in switching:
        k = _line(row["branch"])
        at = (net.switch.et == "l") & (net.switch.element == k)
        if row["action"] == "close":
            net.switch.loc[at, "closed"] = True
            net.line.loc[k, "in_service"] = True
        else:
            net.line.loc[k, "in_service"] = False
    return net


def test_each_scenario_has_its_switching_and_served_load(planned: tuple[dict, str, Path]
                                                         ) -> None:
    data, _, _ = planned
    net = feeder()
    total_kw = 1000.0 * float(net.load.p_mw.sum())
    assert [s["name"] for s in data["scenarios"]] == list(SCENARIOS)
    for sc in data["scenarios"]:
        broken = SCENARIOS[sc["name"]]
        # every row names a working line, its user name and what to do
        for row in sc["switching"]:
            assert row["branch"] not in broken
            assert row["action"] in ("open", "close")
            assert row["name"] == net.line.name.loc[_line(row["branch"])]
        # served + shed = the load; served = what the source can reach (ample ratings)
        assert sc["served_kw"] + sc["operation"]["shed_kw"] == pytest.approx(total_kw,
                                                                             abs=1e-6)
        assert sc["served_kw"] == pytest.approx(_reachable_load_kw(net, broken), abs=1e-3)
        # pandapower, on the user's net switched as reported: the energised closed lines
        # form a tree, and the load it serves is the reported one
        op = _operated(net, broken, sc["switching"])
        pp.runpp(op)
        live = set(op.res_bus.index[op.res_bus.vm_pu.notna()])
        graph = top.create_nxgraph(op, respect_switches=True)
        energised = graph.subgraph(live)
        assert nx.is_connected(energised) and nx.is_tree(nx.Graph(energised)), sc["name"]
        assert 1000.0 * float(op.res_load.p_mw.sum()) == pytest.approx(sc["served_kw"],
                                                                       abs=1e-3)
        assert sorted(str(b) for b in live) == sorted(sc["operation"]["energised_buses"])
    # by hand: the tie closes where 2-3-4 or 3-4 hang off a broken line, nothing else moves
    ops = {s["name"]: [(r["branch"], r["action"]) for r in s["switching"]]
           for s in data["scenarios"]}
    assert ops == {"mid": [("line:5", "close")], "spur": [], "head": [],
                   "two": [("line:5", "close")]}
    tie = next(s for s in data["scenarios"] if s["name"] == "mid")["switching"][0]
    assert tie["name"] == "Tie04" and "sw_tie" in tie["operated_by"]


def test_the_console_and_the_folder_show_the_switching(planned: tuple[dict, str, Path]
                                                       ) -> None:
    data, output, out = planned
    assert "operation per scenario" in output
    assert "close line:5 'Tie04'" in output
    sw = pl.read_parquet(out / "switching.parquet")
    assert sw.select("scenario", "branch", "name", "action").rows() == [
        (s["name"], r["branch"], r.get("name"), r["action"])
        for s in data["scenarios"] for r in s["switching"]]
    shed = pl.read_parquet(out / "shed.parquet")
    for s in data["scenarios"]:
        rows = shed.filter(pl.col("scenario") == s["name"])
        assert float(rows["shed_kw"].sum()) == pytest.approx(s["operation"]["shed_kw"],
                                                              abs=1e-6)
    # load names from the net (Load5 is bus 5's, shed where line:4 is broken)
    assert ("spur", "load:4", "Load5") in shed.select("scenario", "load", "name").rows()
    html = (out / "report.html").read_text()
    assert "switch operations" in html and "Tie04" in html


def test_loads_and_generators_are_named(files: tuple[Path, Path],
                                        planned: tuple[dict, str, Path],
                                        tmp_path: Path) -> None:
    case, _ = files
    net = feeder()
    want_loads = {f"load:{i}": n for i, n in net.load.name.items()}
    want_gens = {f"sgen:{i}": n for i, n in net.sgen.name.items()}
    data, _, _ = planned
    assert data["names"]["loads"] == want_loads
    assert data["names"]["generators"] == want_gens
    doc = tmp_path / "r.json"
    res = runner.invoke(app, ["restore", str(case), "--broken", "line:4", "--no-ac-check",
                              "--json", str(doc)])
    assert res.exit_code == 0, res.output
    r = json.loads(doc.read_text())
    assert r["names"]["loads"] == want_loads
    assert r["names"]["generators"] == want_gens
    # the shed load (bus 5's, its line broken) is listed by id; its name is the net's
    assert list(r["operation"]["shed_per_load_kw"]) == ["load:4"]
    assert r["names"]["loads"]["load:4"] == "Load5"
    assert np.isclose(r["operation"]["shed_per_load_kw"]["load:4"], 200.0)


def _scenario_table(page: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The scenario table of a plan report: its column heads, and each scenario's cells by
    column (the HTML's own text, unescaped)."""
    import html as html_lib
    import re

    part = page[page.index('<section id="scenarios">'):]
    part = part[:part.index("</table>")]
    heads = [html_lib.unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', part)]
    rows = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>")[1]):
        cells = [html_lib.unescape(re.sub(r"<[^>]+>", "", c))
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
        rows[cells[0]] = dict(zip(heads, cells, strict=True))
    return heads, rows


def _old_folder(out: Path, root: Path, keep: set[str]) -> Path:
    """A copy of the plan folder ``out`` as a release before per-scenario switching wrote it
    (user test ut39_cli #1): schema_version 2, no ``served_kw`` or ``switching`` in the
    scenarios (except those named in ``keep``), no switching.parquet or shed.parquet."""
    import shutil

    old = root / "old_plan"
    shutil.copytree(out, old)
    doc = json.loads((old / "result.json").read_text())
    doc["schema_version"] = 2
    for sc in doc["scenarios"]:
        if sc["name"] not in keep:
            sc.pop("served_kw")
            sc.pop("switching")
    (old / "result.json").write_text(json.dumps(doc))
    (old / "switching.parquet").unlink()
    (old / "shed.parquet").unlink()
    return old


def test_an_older_plan_folder_shows_no_switching_it_did_not_record(
        planned: tuple[dict, str, Path], tmp_path: Path) -> None:
    """A plan folder of before per-scenario switching (user test ut39_cli #1): ``feederopt
    report`` showed "served [kW]" and "switch operations" with "-" in every cell, and "-" in
    "switch operations" says "nothing to switch". Truth by hand on the feeder: scenario
    "mid" (line 1-2 broken) needs the tie line:5 closed to feed buses 2-4; "spur" (line 1-5
    broken) has nothing to switch (bus 5 has no other path)."""
    _, _, out = planned
    # the current folder: the columns, the tie to close, "-" where nothing is to switch
    heads, rows = _scenario_table((out / "report.html").read_text())
    assert "switch operations" in heads and "served [kW]" in heads
    assert rows["mid"]["switch operations"] == "close line:5 'Tie04'"
    assert rows["spur"]["switch operations"] == "-"
    # the older folder: the columns left out, and the page says why
    old = _old_folder(out, tmp_path, keep=set())
    page = tmp_path / "old.html"
    res = runner.invoke(app, ["report", str(old), "--out", str(page)])
    assert res.exit_code == 0, res.output
    text = page.read_text()
    heads, rows = _scenario_table(text)
    assert "switch operations" not in heads and "served [kW]" not in heads
    # the rest as before: bus 5's 0.2 MW load is shed where line 1-5 is broken
    assert float(rows["spur"]["shed [kW]"].replace(",", "")) == pytest.approx(200.0)
    assert "Served [kW] and switch operations: not recorded in this result" in text


def test_a_scenario_without_the_fields_beside_one_with_them_says_not_recorded(
        planned: tuple[dict, str, Path], tmp_path: Path) -> None:
    """One scenario with its switching and served load, the others without (a hand-edited or
    merged file): the columns stay, and the cells of the others say "not recorded", never
    "-" (nothing to switch) or an empty served load."""
    _, _, out = planned
    old = _old_folder(out, tmp_path, keep={"mid"})
    page = tmp_path / "old.html"
    res = runner.invoke(app, ["report", str(old), "--out", str(page)])
    assert res.exit_code == 0, res.output
    heads, rows = _scenario_table(page.read_text())
    assert "switch operations" in heads and "served [kW]" in heads
    assert rows["mid"]["switch operations"] == "close line:5 'Tie04'"
    for name in ("spur", "head", "two"):
        assert rows[name]["switch operations"] == "not recorded (older result)", name
        assert rows[name]["served [kW]"] == "not recorded (older result)", name
