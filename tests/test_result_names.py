"""The user's names of a pandapower net's elements reach the results beside the ids.

SimBench and DSO users know their elements by name ("MV1.101 Bus 14", "MV1.101 Line 12");
a result gave only ``id`` (``line:11``), and only the switches' names reached it (in
``operated_by``). Now the network's tables carry a ``name`` column (the schemas'), which the
pandapower reader fills from ``net.bus.name``, ``net.line.name``, ``net.trafo.name``,
``net.switch.name``, ``net.load.name``, ``net.sgen.name`` (a table folder from its own
``name`` column), and every result table has it beside ``id``: ``buses``, ``branches``,
``switches``, ``generators``, the open branches (JSON, console) and the Parquet files of
``--out``. The truth is the pandapower net's own name columns, per element index.
"""

from __future__ import annotations

import json

import pandapower as pp
import polars as pl
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder

runner = CliRunner()


def named_net() -> pp.pandapowerNet:
    """A 110/20 kV transformer feeding a 20 kV ring of four lines, its tie (line 4) open at a
    named switch; a bus-bus switch 4-5 and a named load and sgen; bus 6 has no name."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0, name="HV busbar")
    b = [pp.create_bus(net, 20.0, name=f"MV1.101 Bus {10 + i}") for i in range(5)]
    b5 = pp.create_bus(net, 20.0)  # no name: null in the results
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, b[0], "25 MVA 110/20 kV", name="MV1.101 Trafo 1")
    std = "NA2XS2Y 1x185 RM/25 12/20 kV"
    for i, (x, y) in enumerate([(0, 1), (1, 2), (2, 3), (0, 4)]):
        line = pp.create_line(net, b[x], b[y], 1.5, std, name=f"MV1.101 Line {20 + i}")
        pp.create_switch(net, b[x], line, "l", closed=True, name=f"MV1.101 Switch {30 + i}")
    tie = pp.create_line(net, b[3], b[4], 1.0, std, name="MV1.101 Tie")
    pp.create_switch(net, b[4], tie, "l", closed=False, name="MV1.101 Switch 99")
    pp.create_switch(net, b[4], b5, "b", closed=True, name="MV1.101 Coupler")
    for i in (1, 2, 3):
        pp.create_load(net, b[i], 2.0, 0.6, name=f"MV1.101 Load {i}")
    pp.create_load(net, b5, 1.0, 0.3, name="MV1.101 Load 5")
    pp.create_sgen(net, b[2], 0.8, name="MV1.101 PV 7")
    return net


def _names(net: pp.pandapowerNet, element: str) -> dict[int, str | None]:
    return {int(i): (None if n is None else str(n)) for i, n in net[element]["name"].items()}


def _expected_branch_name(net: pp.pandapowerNet, branch_id: str) -> str | None:
    element, idx = branch_id.split(":")
    return _names(net, element)[int(idx)]


def test_result_tables_carry_the_nets_names_per_id() -> None:
    net = named_net()
    result = feederopt.solve(net)
    bus_names = _names(net, "bus")
    for bid, name in zip(result.buses["id"], result.buses["name"], strict=True):
        assert name == bus_names[int(bid)], bid
    assert result.buses.filter(pl.col("id") == "6")["name"].to_list() == [None]
    for bid, name in zip(result.branches["id"], result.branches["name"], strict=True):
        assert name == _expected_branch_name(net, bid), bid
    for bid, name in zip(result.switches["id"], result.switches["name"], strict=True):
        assert name == _expected_branch_name(net, bid), bid
    gens = dict(zip(result.generators["id"], result.generators["name"], strict=True))
    assert gens == {"sgen:0": "MV1.101 PV 7"}
    # the open branches (JSON, console) name the branch as well as the switch operating it
    for row in result.open_branches:
        assert row["name"] == _expected_branch_name(net, row["id"])
    labels = feederopt.branch_label(result.open_branches[0])
    assert f"'{result.open_branches[0]['name']}'" in labels
    # the network's loads are named too (no loads table in a result)
    network = feederopt.load(net)
    load_names = _names(net, "load")
    for lid, name in zip(network.loads["id"], network.loads["name"], strict=True):
        assert name == load_names[int(lid.split(":")[1])]


def test_names_reach_parquet_json_and_console_and_a_folder_keeps_them(tmp_path) -> None:
    net = named_net()
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    out = tmp_path / "res"
    run = runner.invoke(app, ["solve", str(path), "--out", str(out)])
    assert run.exit_code == 0, run.output
    branches = pl.read_parquet(out / "branches.parquet")
    for bid, name in zip(branches["id"], branches["name"], strict=True):
        assert name == _expected_branch_name(net, bid), bid
    buses = pl.read_parquet(out / "buses.parquet")
    assert dict(zip(buses["id"], buses["name"], strict=True))["1"] == "MV1.101 Bus 10"
    doc = json.loads((out / "result.json").read_text())
    opened = doc["open_branches"]
    assert opened and all(r["name"] == _expected_branch_name(net, r["id"]) for r in opened)
    assert doc["generators"][0]["name"] == "MV1.101 PV 7"
    # the console's list of open branches shows each one's name
    assert all(f"{r['id']} '{r['name']}'" in run.output for r in opened), run.output
    # a table folder written from the network keeps the names; read back, they reach results
    folder = write_folder(feederopt.load(net), tmp_path / "folder", fmt="csv")
    back = feederopt.solve(folder, ac_check=False)
    assert dict(zip(back.branches["id"], back.branches["name"], strict=True)) == {
        bid: _expected_branch_name(net, bid) for bid in back.branches["id"]}
