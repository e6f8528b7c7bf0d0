"""A scenario run's per-scenario AC power flows open each line at the end the answer chose.

User test ut50_simb #1: in a study-case scenario run, the nominal AC check and the written net
opened five lines at their other switch (the open end chosen in AC,
:mod:`feederopt.validation.open_ends`), while each scenario's AC power flow (and the expected
AC losses over them) opened the net's own ends: lPV 337.960 kW against pandapower's 337.892 kW
for the written net. Here a small pandapower feeder whose tie line has a switch at each end
(the net's own open switch is the worse end); the truth is pandapower's ``runpp`` of the
written net with each scenario's loads.
"""

from __future__ import annotations

import copy

import pandapower as pp
import pandas as pd
import pytest

import feederopt

#: per scenario, the demand (p_mw, q_mvar) of loads 0, 1, 2
SCENARIOS = {"hi": [(3.0, 0.9), (1.5, 0.5), (0.8, 0.2)],
             "lo": [(0.6, 0.1), (0.2, 0.05), (0.1, 0.0)]}


def _net() -> pp.pandapowerNet:
    """A 20 kV ring of five cables: line 1 with a switch, the tie (line 4) with a switch at
    each end, the net's own open one at bus 2 (switch 1)."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    kw = dict(length_km=4.0, r_ohm_per_km=0.2, x_ohm_per_km=0.12, c_nf_per_km=900.0,
              max_i_ka=0.4)
    pp.create_line_from_parameters(net, b[0], b[1], **kw)
    l12 = pp.create_line_from_parameters(net, b[1], b[2], **kw)
    pp.create_line_from_parameters(net, b[0], b[3], **kw)
    pp.create_line_from_parameters(net, b[3], b[4], **kw)
    tie = pp.create_line_from_parameters(net, b[2], b[4], **{**kw, "length_km": 8.0})
    pp.create_switch(net, b[1], l12, et="l", closed=True)
    pp.create_switch(net, b[2], tie, et="l", closed=False)
    pp.create_switch(net, b[4], tie, et="l", closed=True)
    for bus, (p, q) in zip((2, 4, 3), [(2.0, 0.6), (1.0, 0.3), (0.5, 0.1)], strict=True):
        pp.create_load(net, b[bus], p_mw=p, q_mvar=q)
    return net


def _losses_kw(net: pp.pandapowerNet, loads: list[tuple[float, float]]) -> float:
    net = copy.deepcopy(net)  # a copy: the caller's net keeps its loads
    net.load["p_mw"] = [p for p, _ in loads]
    net.load["q_mvar"] = [q for _, q in loads]
    pp.runpp(net, numba=False)
    return float(net.res_line.pl_mw.sum()) * 1e3


@pytest.fixture(scope="module")
def result() -> feederopt.Result:
    table = pd.DataFrame(
        [{"scenario": s, "kind": "load", "element": f"load:{k}", "p_mw": p, "q_mvar": q,
          "weight": 0.5} for s, rows in SCENARIOS.items() for k, (p, q) in enumerate(rows)])
    return feederopt.solve(_net(), scenarios=table, time_limit=30, workers=1)


def test_the_end_moves_in_this_grid(result: feederopt.Result) -> None:
    # the premise: the answer opens the tie at the other end than the net's (switch 2, not 1)
    written = result.to_pandapower(_net())
    assert [bool(c) for c in written.switch["closed"]] == [True, True, False]
    nominal = [(2.0, 0.6), (1.0, 0.3), (0.5, 0.1)]
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(_losses_kw(written, nominal), abs=1e-6)


def test_each_scenario_is_the_written_nets_power_flow(result: feederopt.Result) -> None:
    written = result.to_pandapower(_net())
    net_ends = _net()
    net_ends.switch["closed"] = [True, False, True]  # the tie opened at the net's own end
    summary = result.uncertain
    assert summary is not None
    got = {str(s.scenario): s.ac for s in summary.scenarios}
    for name, loads in SCENARIOS.items():
        want = _losses_kw(written, loads)
        # the two ends differ by far more than the tolerance: the test can tell them apart
        assert abs(_losses_kw(net_ends, loads) - want) > 0.1
        assert got[name] is not None
        assert got[name].losses_kw == pytest.approx(want, abs=1e-6)
    expected = sum(0.5 * _losses_kw(written, loads) for loads in SCENARIOS.values())
    assert summary.expected_ac_losses_kw == pytest.approx(expected, abs=1e-6)
