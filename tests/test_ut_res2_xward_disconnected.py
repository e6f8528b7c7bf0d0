"""What an operation disconnects counts the user's own elements (ut_res2 follow-up): the
pandapower reader models an xward as a load and a shunt at its bus plus an auxiliary bus
behind its impedance with a P = Q = 0 source, and those internals used to show up in
``restore``/``plan``: a dead bus with a ward and an xward read "2 buses, 2 generators,
2 shunts" (the auxiliary bus and the xward's source counted) and the internal branch stood in
``closed_lines``. Now the xward is one element (its ``xward:<index>`` shunt entry, as the
ward is) and its bus, branch and source are in no count or list.

Truth: the test's own graph search on the user's pandapower net (its ``bus``, ``line``,
``trafo``, ``sgen``, ``shunt``, ``ward`` and ``xward`` tables): with the broken lines out and
every other line closable, the buses that no path reaches from the ext_grid are dead and every
element on them is off (the premise, that nothing else is shed, checked by the shed kW).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.cli import app
from feederopt.results.resilience import disconnected_text

sys.path.insert(0, str(Path(__file__).parent))
from test_ut_res2_plan_disconnected import SCENARIOS, counts, expected
from test_ut_res2_wards import B5, user_net


def own_elements(net: pp.pandapowerNet, broken: set[str], hardened: set[str] = frozenset()
                 ) -> tuple[list[str], list[str], list[str]]:
    """(dead buses, sgens off, shunts off) of the user's net: its shunts, then its wards and
    xwards (one element each) on the dead buses."""
    buses, sgens, shunts = expected(net, broken, set(hardened))
    dead = {int(b) for b in buses}
    for table in ("ward", "xward"):
        shunts += [f"{table}:{k}" for k in net[table].index if int(net[table].at[k, "bus"]) in dead]
    return buses, sgens, shunts


def user_ids(net: pp.pandapowerNet) -> tuple[set[str], set[str]]:
    """The user's bus ids and branch ids (lines, transformers)."""
    return ({str(b) for b in net.bus.index},
            {f"line:{k}" for k in net.line.index} | {f"trafo:{k}" for k in net.trafo.index})


def check_operation(net: pp.pandapowerNet, op: dict[str, Any], broken: set[str],
                    hardened: set[str] = frozenset()) -> str:
    """The operation's listings against the net's own tables; its count text."""
    buses, sgens, shunts = own_elements(net, broken, hardened)
    assert op["deenergised_buses"] == buses
    assert op["generators_off"] == sgens
    assert op["shunts_off"] == shunts
    assert op["shed_kw"] == pytest.approx(sum(  # the premise: only the dead buses shed
        1e3 * float(net.load.p_mw[net.load.bus == int(b)].sum()
                    + net.ward.ps_mw[net.ward.bus == int(b)].sum()
                    + net.xward.ps_mw[net.xward.bus == int(b)].sum()) for b in buses), abs=1e-3)
    bus_ids, branch_ids = user_ids(net)
    assert set(op["closed_lines"]) <= branch_ids
    assert set(op["flows_kw"]) == set(op["closed_lines"])
    assert sorted(op["energised_buses"], key=int) == sorted(bus_ids - set(buses), key=int)
    assert set(op["voltage_pu"]) == set(op["energised_buses"])
    return counts(buses, sgens, shunts)


def test_restore_counts_the_xward_as_one_element() -> None:
    net = user_net()
    broken = {"line:10", "line:11"}
    r = restore(feederopt.load(net), sorted(broken))
    text = check_operation(net, r.to_dict()["operation"], broken)
    # by hand: B5 alone, its PV, its ward and its xward
    assert text == "1 bus, 1 generator, 2 shunts" == disconnected_text(r.operation)
    assert r.operation.shunts_off == ["ward:0", "xward:0"]
    # the switching penalty stays the model's (per closed branch of the model)
    assert r.penalty_kw == pytest.approx(r.objective_kw - r.shed_kw, abs=1e-6)


def test_restore_in_a_backup_dg_island_lists_no_xward_internals() -> None:
    """A 400 kW backup DG at B5 (the model sheds part of its load and has the shunt parts
    off): the island lists and the energised buses name only the user's buses."""
    net = user_net()
    r = restore(feederopt.load(net), ["line:10", "line:11"], dg_sites=[str(B5)],
                dg_p_max_kw=400.0)
    op = r.operation
    bus_ids, branch_ids = user_ids(net)
    assert op.deenergised_buses == [] and op.generators_off == []
    assert set(op.energised_buses) == bus_ids
    assert set(op.island_generators_off) | set(op.island_shunts_off) <= bus_ids
    assert set(op.closed_lines) <= branch_ids
    # the shunt parts the model has off in the island: the user's ward and xward at B5
    assert op.shunts_off == [f"{t}:0" for t in ("ward", "xward")
                             if str(B5) in op.island_shunts_off]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pp.pandapowerNet]:
    tmp = tmp_path_factory.mktemp("xplan")
    net = user_net()
    path = tmp / "net.json"
    pp.to_json(net, str(path))
    sc = tmp / "scenarios.json"
    sc.write_text(json.dumps({"scenarios": SCENARIOS}))
    return path, sc, net


def test_plan_json_and_console_count_the_users_elements(
        planned: tuple[Path, Path, pp.pandapowerNet], tmp_path: Path) -> None:
    path, sc, net = planned
    js = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["plan", str(path), "--scenarios", str(sc), "--harden-budget",
                                   "1", "--dg-budget", "0", "--no-measures", "--json", str(js),
                                   "--out", str(tmp_path / "out")],
                             env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    html = (tmp_path / "out" / "report.html").read_text()
    seen_xward = False
    for s in data["scenarios"]:
        text = check_operation(net, s["operation"], set(s["broken"]), set(data["hardened"]))
        row = next(line for line in res.output.splitlines()
                   if re.match(rf"\W*{s['name']}\b", line))
        assert row.rstrip(" │|").endswith(text), (s["name"], row)
        assert f"<td>{text}</td>" in html, (s["name"], text)
        seen_xward |= "xward:0" in s["operation"]["shunts_off"]
    # and the API's result alike
    r = plan(feederopt.load(net), scenarios=sc,
             settings=plan_settings(harden_budget=1, dg_budget=0), measures=False)
    for s in r.to_dict()["scenarios"]:
        check_operation(net, s["operation"], set(s["broken"]), set(r.hardened))
    assert seen_xward or "line:10" in data["hardened"] or "line:11" in data["hardened"]
