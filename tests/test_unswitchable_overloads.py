"""An infeasible balanced solve names the overloads that no switch affects (ut46_core #2).

``solve example_multivoltage`` ended "No radial configuration meets the limits" (exit 3) with
its MV-LV transformer at 108 % of its rating in every topology: it feeds the same LV buses
whatever the switches, so no configuration relieves it, but nothing said so. A three-phase
solve names such elements (``fixed_overloads``) and leaves them out of its judgement; the
balanced solve keeps them in its proof (still infeasible, exit 3) and now names them, with
their AC loading and how to relax them (``unswitchable_overloads``, and a console line).

The truth is pandapower's own: its graph of the net with every switch closed
(``pandapower.topology.create_nxgraph(respect_switches=False)``), where each element named is
a bridge (networkx) with no ext_grid beyond it, and every other overloaded branch is not; and
``runpp`` of the net with the answer's switches opened, whose ``loading_percent`` is the
loading named.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import networkx as nx
import pandapower as pp
import pandapower.networks as pn
import pandapower.topology as top
from typer.testing import CliRunner

from feederopt.cli import app

ENV = {"COLUMNS": "240"}


def _fixed_by_pandapower(net: pp.pandapowerNet, kind: str, idx: int) -> bool:
    """Whether the line or trafo is a bridge of the net with every switch closed and no
    ext_grid lies beyond it."""
    g = top.create_nxgraph(net, respect_switches=False, multi=False)
    a, b = ((net.line.from_bus.at[idx], net.line.to_bus.at[idx]) if kind == "line" else
            (net.trafo.hv_bus.at[idx], net.trafo.lv_bus.at[idx]))
    if not g.has_edge(a, b) or len(top.create_nxgraph(
            net, respect_switches=False, multi=True).get_edge_data(a, b)) > 1:
        return False
    g.remove_edge(a, b)
    if nx.has_path(g, a, b):
        return False
    sources = set(net.ext_grid.bus)
    return any(not (set(nx.node_connected_component(g, x)) & sources) for x in (a, b))


def test_overloads_no_switch_affects_are_named(tmp_path: Path) -> None:
    net = pn.example_multivoltage()
    path = tmp_path / "emv.json"
    pp.to_json(net, str(path))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--json", str(out)], env=ENV)
    assert res.exit_code == 3, res.output  # still infeasible: the balanced proof keeps them
    doc = json.loads(out.read_text())
    named = {r["id"]: r for r in doc["unswitchable_overloads"]}
    assert "trafo:1" in named  # the MV-LV transformer
    over = [v["id"] for v in doc["ac_check"]["limit_violations"]
            if v["component"] == "branches"]
    for bid in over:  # named exactly when pandapower's graph says no switch affects it
        kind, idx = bid.split(":")
        assert (bid in named) == _fixed_by_pandapower(net, kind, int(idx)), bid
    # the loading named is pandapower's at the answer's switch states
    for b in doc["open_branches"]:
        for sw in re.findall(r"switch (\d+)", b.get("operated_by", "")):
            net.switch.at[int(sw), "closed"] = False
    shown = {int(s) for b in doc["open_branches"]
             for s in re.findall(r"switch (\d+)", b.get("operated_by", ""))}
    for s in net.switch.index:
        if s not in shown:
            net.switch.at[s, "closed"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    truth = float(net.res_trafo.loading_percent.at[1])
    assert abs(named["trafo:1"]["loading_percent"] - truth) < 0.05
    text = " ".join(res.output.split())
    assert "No switch affects " in text
    assert f"trafo:1 ({truth:.1f} % of its rating in AC, limit 100 %" in text
    assert "--max-loading PCT" in text and "--no-thermal-limits" in text
