"""A hold named by a line's switch element holds that switch (user test ut48_core #2).

README: ``--hold-open``/``--hold-closed`` take "the pandapower switch element that operates
it". pandapower's ``example_simple`` has line 2 ('Line 3') with a switch at each end: switch 4
(bus 5) and switch 5 (bus 6, open in the net). Before, ``--hold-open switch:4`` held the whole
line open at switch 5 (switch 4 written closed) and ``--hold-closed switch:4`` held the line
closed, closing switch 5, which nobody named (96.244 kW against 58.885 kW). The truth is
pandapower's own power flow of the net with the named switch in its held state.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pandapower as pp
import pandapower.networks as pn
import pandapower.topology as top
import pytest

import feederopt


def _losses_kw(net) -> float:
    pp.runpp(net, numba=False)
    return float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()) * 1e3


def _with_open(opened: set[int]):
    net = pn.example_simple()
    net.switch["closed"] = ~net.switch.index.isin(sorted(opened))
    return net


def _radial_best(keep) -> float:
    """Brute force: the least pandapower losses over every set of open switches that leaves
    the net radial and fed (each bus reached, no loop), among those ``keep`` accepts."""
    net = pn.example_simple()
    best = float("inf")
    for n in range(len(net.switch) + 1):
        for opened in itertools.combinations(net.switch.index, n):
            if not keep(set(opened)):
                continue
            trial = _with_open(set(opened))
            g = top.create_nxgraph(trial, respect_switches=True)
            if not nx.is_connected(g) or g.number_of_edges() != g.number_of_nodes() - 1:
                continue
            try:
                best = min(best, _losses_kw(trial))
            except pp.LoadflowNotConverged:
                continue
    return best


def test_hold_open_switch_opens_that_switch() -> None:
    net = pn.example_simple()
    result = feederopt.solve(net, hold_open=["switch:4"], time_limit=60)
    assert result.status.value == "optimal"
    written = result.to_pandapower(net)
    assert not bool(written.switch.at[4, "closed"])
    assert bool(written.switch.at[5, "closed"])  # the line stays charged from bus 6
    truth = _losses_kw(_with_open({4}))  # 58.851 kW; switch 5 open instead: 58.885 kW
    assert _losses_kw(written) == pytest.approx(truth, abs=1e-3)
    assert result.ac_check.losses_kw == pytest.approx(truth, abs=1e-3)
    assert result.lower_bound <= truth + 1e-6
    shown = {b["id"]: b for b in result.open_branches}
    assert "switch 4" in shown["line:2"]["operated_by"]


def test_hold_closed_switch_keeps_it_closed_and_the_line_switchable() -> None:
    net = pn.example_simple()
    result = feederopt.solve(net, hold_closed=["switch:4"], time_limit=60)
    assert result.status.value == "optimal"
    written = result.to_pandapower(net)
    assert bool(written.switch.at[4, "closed"])
    truth = _radial_best(lambda opened: 4 not in opened)  # 58.885 kW: switch 5 open
    assert result.ac_check.losses_kw == pytest.approx(truth, abs=1e-3)
    assert _losses_kw(written) == pytest.approx(truth, abs=1e-3)


def test_hold_open_named_switch_in_console_and_written_net(tmp_path) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    src = tmp_path / "exs.json"
    pp.to_json(pn.example_simple(), str(src))
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["solve", str(src), "--hold-open", "switch:4", "-o",
                                   str(out)])
    assert run.exit_code == 0, run.output
    assert "switch:4" in run.output
    written = pp.from_json(str(out / "net.json"))
    assert not bool(written.switch.at[4, "closed"]) and bool(written.switch.at[5, "closed"])
