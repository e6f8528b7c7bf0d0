"""The load at a source bus counts in restore's load and plan's served load (user test
ut39_mixed #3).

The operation model's balance (5b) holds at the non-source buses only: a source feeds its
own bus's load directly, so that load is served in every operation and never shed. It was
left out of restore's "load" (``total_load_kw``) and plan's ``served_kw``: on ut39_mixed's
``res2.json`` (3,100 kW of load, 500 kW of it at the ext_grid bus) restore printed "load
2,600.00 kW". A DSO engineer counts that load as served. Now both count it, the shed and
the objective stay as they were (that load is never shed), and a note names it.

Truth: the net's own loads summed by hand (``tests/ut39_res2.py``), and with the lines 0-1
and 0-5 broken (``line:0``, ``line:4``: the only lines at the source bus) a graph search of
the working lines (networkx): nothing off the source bus reaches it, so the served load is
the source bus's own 500 kW and the shed the other 2,600 kW.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.cli import app
from ut39_res2 import LOADS_MW, res2

runner = CliRunner(env={"COLUMNS": "240"})
CUT = ["line:0", "line:4"]
NONE = plan_settings(harden_budget=0, dg_budget=0)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("res2") / "res2.json"
    pp.to_json(res2(), str(path))
    return path


def reachable_load_kw(broken: list[str]) -> float:
    """The load of the buses the source reaches over the working lines (every line, closed
    or not: restoration may switch them), by networkx on the pandapower net."""
    net = res2()
    g = nx.Graph()
    g.add_nodes_from(net.bus.index)
    out = {int(b.split(":")[1]) for b in broken}
    for k, row in net.line.iterrows():
        if k not in out:
            g.add_edge(int(row.from_bus), int(row.to_bus))
    live = nx.node_connected_component(g, int(net.ext_grid.bus.iloc[0]))
    return 1000.0 * float(net.load.loc[net.load.bus.isin(live), "p_mw"].sum())


def test_the_truth_by_hand() -> None:
    net = res2()
    assert 1000.0 * float(net.load.p_mw.sum()) == pytest.approx(3100.0)
    assert 1000.0 * sum(LOADS_MW.values()) == pytest.approx(3100.0)
    assert reachable_load_kw(CUT) == pytest.approx(500.0)  # LD0src alone
    assert reachable_load_kw(["line:0"]) == pytest.approx(3100.0)


def test_restore_counts_the_source_bus_load(case: Path) -> None:
    r = restore(str(case), CUT, ac_check=False)
    assert r.total_load_kw == pytest.approx(3100.0, abs=1e-6)
    assert r.shed_kw == pytest.approx(3100.0 - reachable_load_kw(CUT), abs=1e-6)
    assert "load:9" not in r.operation.shed_per_load_kw  # never shed
    note = next(n for n in r.notes if "source buses" in n)
    assert "load:9 'LD0src': 500.00 kW" in note and "never shed" in note


def test_plan_serves_the_source_bus_load(case: Path) -> None:
    for broken in (CUT, ["line:0"]):
        p = plan(str(case), broken=broken, settings=NONE, ac_check=False)
        (sc,) = p.scenarios
        assert sc.served_kw == pytest.approx(reachable_load_kw(broken), abs=1e-6), broken
        assert sc.served_kw + sc.operation.shed_kw == pytest.approx(3100.0, abs=1e-6)
    assert any("load:9 'LD0src'" in n for n in p.notes)


def test_the_console_prints_the_whole_load(case: Path) -> None:
    res = runner.invoke(app, ["restore", str(case), "--broken", ",".join(CUT),
                              "--no-ac-check"])
    assert res.exit_code == 0, res.output
    assert "3,100.00 kW" in res.output and "2,600.00 kW" in res.output
