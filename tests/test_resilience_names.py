"""``restore`` and ``plan`` name the elements as the user's net names them, beside the ids.

``solve`` gave its tables, JSON, console and report the element's user ``name`` beside its
``id`` (tests/test_result_names.py); ``restore`` and ``plan`` gave ids only, so a pandapower
user read ``line:3`` where the net says "L_Tie". Now ``restore``'s switching rows (JSON,
``switching.parquet``), ``buses.parquet`` and ``branches.parquet`` carry a ``name`` column
(null where the net has none), both results hold the ``names`` of their ids, and the console
labels the broken, switched and hardened lines ``line:3 'L_Tie'``.

The feeder: a 20 kV pandapower net built here, the source at bus 0, a radial feeder 0-1-2-3
(``line:0`` .. ``line:2``) and a normally open tie 0-3 (``line:3``, its switch open); with
``line:0`` broken the only operation that sheds nothing closes the tie (hand reasoning, as in
tests/test_restore_out.py). The truth for every name is the net's own ``net.line.name`` and
``net.bus.name`` per element index; ``line:2`` and bus 2 have none (null).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "240"})


def named_feeder() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    names = ["Umspannwerk", "Nord 1", None, "Nord 3"]
    bus = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1, name=n) for n in names]
    pp.create_ext_grid(net, bus[0], vm_pu=1.0)
    for (a, b), name in zip(((0, 1), (1, 2), (2, 3)), ("L_Nord_1", "L_Nord_2", None),
                            strict=True):
        pp.create_line_from_parameters(net, bus[a], bus[b], 2.0, 0.3, 0.4, 10.0, 0.4,
                                       name=name)
    tie = pp.create_line_from_parameters(net, bus[0], bus[3], 2.0, 0.3, 0.4, 10.0, 0.4,
                                         name="L_Tie")
    pp.create_switch(net, bus[0], tie, et="l", closed=False, name="sw_tie")
    for b, p in ((1, 0.8), (2, 1.1), (3, 0.9)):
        pp.create_load(net, bus[b], p_mw=p, q_mvar=0.3 * p)
    return net


def _truth(net: pp.pandapowerNet, element: str, idx: int) -> str | None:
    name = net[element]["name"].loc[idx]
    return name if isinstance(name, str) and name else None


def _line(net: pp.pandapowerNet, branch_id: str) -> str | None:
    element, idx = branch_id.split(":")
    return _truth(net, element, int(idx))


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("case") / "named.json"
    pp.to_json(named_feeder(), str(path))
    return path


def test_restore_rows_carry_the_nets_names(case: Path, tmp_path: Path) -> None:
    net = pp.from_json(str(case))
    out, doc = tmp_path / "r", tmp_path / "r.json"
    res = runner.invoke(app, ["restore", str(case), "--broken", "line:0", "--no-ac-check",
                              "--out", str(out), "--json", str(doc)])
    assert res.exit_code == 0, res.output
    data = json.loads(doc.read_text())
    # the switch operation closes the tie, named as the net names line 3
    assert [(w["branch"], w["action"], w.get("name")) for w in data["switching"]] == [
        ("line:3", "close", _line(net, "line:3"))]
    sw = pl.read_parquet(out / "switching.parquet")
    assert sw.select("branch", "name").rows() == [("line:3", "L_Tie")]
    assert {"branch", "action", "operated_by"} <= set(sw.columns)  # kept
    # every branch row, the broken one included, has the net's name (null where none)
    br = pl.read_parquet(out / "branches.parquet")
    assert br.columns[:2] == ["id", "name"]
    for bid, name in br.select("id", "name").rows():
        assert name == _line(net, bid), bid
    assert br.filter(pl.col("state") == "broken").select("id", "name").rows() == [
        ("line:0", "L_Nord_1")]
    assert br.filter(pl.col("id") == "line:2")["name"].to_list() == [None]
    buses = pl.read_parquet(out / "buses.parquet")
    for bid, name in buses.select("id", "name").rows():
        assert name == _truth(net, "bus", int(bid)), bid
    # the JSON's names of its ids, and the console's labels
    assert data["names"]["branches"] == {f"line:{i}": n for i in net.line.index
                                         if (n := _truth(net, "line", int(i)))}
    assert data["names"]["buses"] == {str(i): n for i in net.bus.index
                                      if (n := _truth(net, "bus", int(i)))}
    assert "line:0 'L_Nord_1' broken" in res.output
    assert "close line:3 'L_Tie'" in res.output


def test_plan_names_hardened_and_broken_lines(case: Path, tmp_path: Path) -> None:
    net = pp.from_json(str(case))
    doc = tmp_path / "p.json"
    res = runner.invoke(app, ["plan", str(case), "--broken", "line:0,line:3",
                              "--harden-budget", "1", "--dg-budget", "0", "--no-ac-check",
                              "--json", str(doc)])
    assert res.exit_code == 0, res.output
    data = json.loads(doc.read_text())
    # with the tie broken too, only hardening line 0 (400 $ < 14 $/kW x 2,800 kW) feeds the
    # feeder: the plan hardens it, named as the net names it
    assert data["hardened"] == ["line:0"]
    assert data["names"]["branches"]["line:0"] == _line(net, "line:0")
    assert "line:0 'L_Nord_1'" in res.output
    assert "line:3 'L_Tie'" in res.output  # the scenario's broken lines
