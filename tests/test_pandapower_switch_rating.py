"""A bus-bus switch's rating (``net.switch.in_ka``) is held by the AC check and by ``info`` as
the optimiser holds it (user test ut34_realgrid #1).

pandapower fuses the buses of a closed ideal bus-bus switch into one node and reports no
current for it (``res_switch.i_ka`` NaN), so the AC check and ``info`` read nothing and called
a switch at 122 % of its rating "within limits" while ``solve`` (whose model holds
``i_max_ka = in_ka``) called every topology infeasible at that switch. The expected currents
come from pandapower's own ``runpp`` of the same net with each switch given a tiny impedance
(``z_ohm = 1e-4``; it moves them by about 1e-6 of their value): pandapower then reports the
switch's current itself (``res_switch.i_ka``), with no sum of feederopt's; and, for a switch
that feeds a transformer alone, from that transformer's ``res_trafo.i_hv_ka``.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandapower as pp
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.validation.ac import ac_power_flow, bus_bus_switch_flows

runner = CliRunner()


def busbar_net() -> pp.pandapowerNet:
    """A 20 kV source bus 0; coupler 0 (bus 0 - 1, rated 50 A) feeds busbar section 1, which
    feeds section 4 over coupler 1 (bus 1 - 4, rated 20 A) and a 20/0.4 kV transformer
    over coupler 2 (bus 1 - 5, unrated); a load at section 1 itself, lines from both
    sections, a PV unit behind section 4 and a tie (open line) between the feeders."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(6)] + [pp.create_bus(net, 0.4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    pp.create_switch(net, b[0], b[1], et="b", closed=True, in_ka=0.05)
    pp.create_switch(net, b[1], b[4], et="b", closed=True, in_ka=0.02)
    pp.create_switch(net, b[1], b[5], et="b", closed=True)
    lt = "NA2XS2Y 1x95 RM/25 12/20 kV"
    pp.create_line(net, b[1], b[2], 2.0, lt)
    pp.create_line(net, b[4], b[3], 3.0, lt)
    tie = pp.create_line(net, b[2], b[3], 1.0, lt)
    pp.create_switch(net, b[2], tie, et="l", closed=False)
    pp.create_transformer(net, b[5], b[6], "0.63 MVA 20/0.4 kV")
    pp.create_load(net, b[1], p_mw=0.4, q_mvar=0.1)
    pp.create_load(net, b[2], p_mw=0.6, q_mvar=0.2)
    pp.create_load(net, b[3], p_mw=0.7, q_mvar=0.25)
    pp.create_load(net, b[6], p_mw=0.3, q_mvar=0.1)
    pp.create_sgen(net, b[4], p_mw=0.1, q_mvar=0.0)
    return net


def pandapower_switch_currents(net: pp.pandapowerNet) -> dict[int, float]:
    """pandapower's own current [kA] of every closed bus-bus switch, each given an impedance
    of 1e-4 Ohm (1e-6 does not converge) so that pandapower keeps its buses apart and
    reports it."""
    net = copy.deepcopy(net)
    bb = net.switch.index[(net.switch.et == "b") & net.switch.closed]
    net.switch.loc[bb, "z_ohm"] = 1e-4
    pp.runpp(net, numba=False)
    return {int(k): float(net.res_switch.at[k, "i_ka"]) for k in bb}


def test_switch_currents_match_pandapower_with_the_switches_as_impedances():
    net = busbar_net()
    truth = pandapower_switch_currents(net)
    assert truth[0] > 0.05 and truth[1] < 0.02  # coupler 0 overloaded, coupler 1 not
    ideal = copy.deepcopy(net)
    pp.runpp(ideal, numba=False)
    assert ideal.res_switch["i_ka"][[0, 1, 2]].isna().all()  # what pandapower gives: nothing
    _, _, got = bus_bus_switch_flows(ideal, np.array([0, 1, 2]))
    for k in (0, 1, 2):
        assert math.isclose(got[k], truth[k], rel_tol=1e-5), (k, got[k], truth[k])
    # a coupler that feeds a transformer alone carries its hv current, in the ideal net too
    assert math.isclose(got[2], float(ideal.res_trafo.at[0, "i_hv_ka"]), rel_tol=1e-9)


def test_ac_check_and_info_hold_the_switch_rating(tmp_path: Path):
    net = busbar_net()
    truth = pandapower_switch_currents(net)
    network = feederopt.load(net)
    ac = ac_power_flow(network)
    k = ac.branch_ids.index("switch:0")
    assert math.isclose(ac.i_ka[k], truth[0], rel_tol=1e-5)
    assert math.isclose(ac.loading_percent[k], 100.0 * truth[0] / 0.05, rel_tol=1e-5)
    verdict = feederopt.rating_verdict(network, ac)
    assert not verdict["within"]
    assert [d["id"] for d in verdict["over_rating"]] == ["switch:0"]
    assert verdict["max_loading_element"] == "switch:0"
    src = tmp_path / "busbar.json"
    pp.to_json(net, str(src))
    out = runner.invoke(app, ["info", str(src), "--json"])
    assert out.exit_code == 0, out.output
    info = json.loads(out.stdout)["base_rating_limits"]
    assert info["within"] is False
    worst = info["over_rating"][0]
    assert worst["id"] == "switch:0"
    assert math.isclose(worst["value"], truth[0], rel_tol=1e-5)
    assert math.isclose(worst["loading_percent"], 100.0 * truth[0] / 0.05, rel_tol=1e-5)


def test_solve_and_its_ac_check_agree_on_the_switch(tmp_path: Path):
    """Every topology passes coupler 0 (the source's only way out) at 100 * I / 50 A > 100 %:
    the optimiser calls the net infeasible at switch:0, and now its AC check too."""
    net = busbar_net()
    truth = pandapower_switch_currents(net)
    src = tmp_path / "busbar.json"
    pp.to_json(net, str(src))
    doc = tmp_path / "r.json"
    out = runner.invoke(app, ["solve", str(src), "--json", str(doc), "--force",
                              "--time-limit", "20"])
    r = json.loads(doc.read_text())
    assert r["status"] == "infeasible", out.output
    ac = r["ac_check"]
    assert ac["within_limits"] is False
    hits = [d for d in ac["limit_violations"] if d["id"] == "switch:0"]
    assert hits and hits[0]["limit"] == "i_max"
    assert math.isclose(hits[0]["value"], truth[0], rel_tol=1e-3)


def test_a_loop_of_switches_has_no_determinate_current():
    """Two closed couplers in parallel split the current in no way the power flow fixes:
    NaN (as pandapower's), not a guess."""
    net = busbar_net()
    twin = pp.create_switch(net, 0, 1, et="b", closed=True, in_ka=0.05)
    pp.runpp(net, numba=False)
    _, _, got = bus_bus_switch_flows(net, np.array([0, twin, 1]))
    assert np.isnan(got[0]) and np.isnan(got[1])
    assert math.isfinite(got[2])  # coupler 1 still splits its group
