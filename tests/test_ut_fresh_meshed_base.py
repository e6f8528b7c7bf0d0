"""ut_fresh #7: a pandapower net whose base case is meshed (an `impedance` element closes a
loop with two lines) gave "losses before 99.23 kW, after 121.63 kW, reduction -22.58 %" with
status optimal and no word on why: every answer is radial, the base case is not. The result's
base case now counts its loops and warns (console, JSON, report). Truth: networkx's cycle
basis of pandapower's own graph of the net (computed here), and pandapower's base-case
losses."""

from __future__ import annotations

import networkx as nx
import pandapower as pp
import pandapower.topology as top
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from test_ut_fresh_xward_bound import _ac_losses_kw, _net


def _pandapower_loops(net: pp.pandapowerNet) -> int:
    """The base case's independent loops in pandapower's graph, less the triangle that
    pandapower draws for each three-winding transformer."""
    g = nx.Graph(top.create_nxgraph(net, respect_switches=True))
    return len(nx.cycle_basis(g)) - len(net.trafo3w)


def test_meshed_base_case_is_named() -> None:
    net = _net()
    loops = _pandapower_loops(net)
    assert loops == 1
    pp.runpp(net)
    base_kw = _ac_losses_kw(net)
    r = feederopt.solve(_net(), time_limit=60)
    assert r.base["losses_kw"] == pytest.approx(base_kw, abs=1e-3)
    assert r.base["loops"] == loops
    assert "the base case is not radial (1 loop(s) closed" in r.base["warning"]
    assert r.ac_check is not None and r.ac_check.losses_kw > base_kw  # why it is said


def test_radial_base_case_has_no_such_warning() -> None:
    import pandapower.networks as pn

    net = pn.case33bw()
    assert _pandapower_loops(net) == 0
    r = feederopt.solve(net, time_limit=60)
    assert "loops" not in r.base and not r.base.get("warning")


def test_console_and_report_say_it(tmp_path: object) -> None:
    path = f"{tmp_path}/meshed.json"
    pp.to_json(_net(), path)
    res = CliRunner().invoke(app, ["solve", path, "--time-limit", "60", "--out",
                                   f"{tmp_path}/res", "--report"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "warning: the base case is not radial (1 loop(s) closed" in res.output
    from pathlib import Path

    html = Path(f"{tmp_path}/res/report.html").read_text()
    assert "the base case is not radial (1 loop(s) closed" in html
