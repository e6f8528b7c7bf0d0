"""``restore`` with no broken line (``restore(net, [])``, ``feederopt restore CASE --broken
""``) was refused ("restoration needs at least one broken line"). Nothing is to be restored:
the answer is the normal topology serving every load, nothing shed, no switch operation, with
a note saying no line is broken, and the AC check as for any restoration.

Independent truths: pandapower's own case33bw (its in-service lines are the normal state; its
power flow gives Baran and Wu's 202.68 kW of losses and V_min = 0.9131 p.u.), networkx on
zhang13's lines (every line normally closed: a meshed graph, so the normal topology is no
radial operation and the restoration opens lines as for any broken set).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import networkx as nx
import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

NOTE = "no line is broken: nothing to restore; the answer is the normal topology serving every load"


def _case33bw_ac() -> pp.pandapowerNet:
    net = pn.case33bw()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return net


@pytest.mark.filterwarnings("ignore")
def test_no_broken_line_answers_the_normal_topology() -> None:
    ac = _case33bw_ac()
    normal = {str(int(k) + 1) for k in ac.line.index[ac.line.in_service]}  # MATPOWER numbers
    assert len(normal) == 32
    for broken in ([], (), ""):
        r = feederopt.restore("case33bw", broken)
        assert r.broken == []
        assert r.status == "optimal"
        assert r.shed_kw == 0.0 and r.objective_kw == 0.0
        assert r.switching == []
        assert set(r.operation.closed_lines) == normal
        assert len(r.operation.energised_buses) == len(ac.bus)
        assert r.notes[0].startswith(NOTE)
        assert r.ac_check is not None and r.within_limits is True
        assert r.ac_check["losses_kw"] == pytest.approx(ac.res_line.pl_mw.sum() * 1e3, abs=0.01)
        assert r.ac_check["losses_kw"] == pytest.approx(202.68, abs=0.01)  # Baran and Wu
        assert r.ac_check["min_voltage_pu"] == pytest.approx(ac.res_bus.vm_pu.min(), abs=1e-4)


@pytest.mark.filterwarnings("ignore")
def test_cli_empty_broken_is_no_broken_line(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["restore", "case33bw", "--broken", "", "--json", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "case33bw: restore with no line broken (forest)" in text
    assert NOTE in text
    doc = json.loads(out.read_text())
    assert doc["broken"] == [] and doc["switching"] == [] and doc["shed_kw"] == 0.0


def test_only_empty_entries_are_still_refused() -> None:
    """A list of empty entries (" , ", [""]) is a typo, not "no broken line"."""
    res = CliRunner(env={"COLUMNS": "400"}).invoke(
        app, ["restore", "case33bw", "--broken", " , "])
    assert res.exit_code == 2, res.output
    assert "--broken names no line (only empty entries)" in " ".join(res.output.split())
    with pytest.raises(InputError, match="broken names no line"):
        feederopt.restore("case33bw", [""])


@pytest.mark.filterwarnings("ignore")
def test_a_meshed_normal_state_is_restored_as_any() -> None:
    """zhang13's lines are all normally closed and form loops (networkx): the normal state
    is no radial operation, so the answer is the restoration's (a spanning tree of the 13
    buses, nothing shed: every bus is reachable), with a note saying why."""
    net = feederopt.load("zhang13")
    g = nx.Graph()
    g.add_edges_from((r["from_bus"], r["to_bus"], {"id": r["id"]})
                     for r in net.branches.iter_rows(named=True) if not r["normally_open"])
    assert nx.cycle_basis(g)  # the premise: the normal state has loops
    r = feederopt.restore(net, [], ac_check=False)
    assert r.shed_kw == pytest.approx(0.0, abs=1e-6)
    assert "no line is broken, but the normal topology is no answer: its closed lines form a " \
        "loop" in r.notes[0]
    ends = {d["id"]: (a, b) for a, b, d in g.edges(data=True)}
    tree = nx.Graph(ends[k] for k in r.operation.closed_lines)
    assert nx.is_tree(tree) and tree.number_of_nodes() == g.number_of_nodes()


@pytest.mark.filterwarnings("ignore")
def test_a_normal_state_below_the_band_is_restored_as_any() -> None:
    """case33bw with its band raised to [0.95, 1.05]: its normal state falls to 0.9131 p.u.
    in AC (pandapower), below 0.95, so it serves no load within the band; the answer is the
    restoration's least shed (some load shed), with the note naming the limits."""
    ac = _case33bw_ac()
    assert ac.res_bus.vm_pu.min() < 0.95  # the premise
    net = pn.case33bw()
    net.bus["min_vm_pu"], net.bus["max_vm_pu"] = 0.95, 1.05
    # the least shed's MILP is slow here; any answer within the band sheds some load
    r = feederopt.restore(feederopt.load(net), [], ac_check=False, time_limit_s=15)
    assert r.shed_kw > 1.0
    assert "no line is broken, but the normal topology is no answer: it does not serve every " \
        "load within the model's voltage and line limits" in r.notes[0]
