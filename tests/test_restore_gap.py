"""The gap that ``restore`` reports is README's ``(objective - lower_bound) / |objective|`` of
the objective and bound it reports (user test ut41_recheck_b #C).

CIGRE MV with its loads at 55 % and switches on 7 more lines, line:10 broken: nothing needs
shedding, yet the result said objective 0 kW, lower bound 0 kW and gap 0.0566 (the console
"0.00 kW / 5.6632 %"): the gap was the MILP's, whose objective holds the shed and connection
tie-breaks (a few 1e-7 kW) against a bound below them.

Independent truth: pandapower's AC power flow of the stock net with line 10 out of service and
the reported switching applied by hand serves every load (so the least shed is 0 kW, and with
objective and bound 0 the gap is 0 by the definition), and the gap by hand from the reported
objective and bound.
"""

from __future__ import annotations

import math
import warnings

import pandapower as pp
import pandapower.networks as pn
import pytest

from feederopt.api_resilience import restore
from feederopt.results.resilience import restore_gap
from resilience_ops import operated


def _cig_mod() -> pp.pandapowerNet:
    """The user test's cig_mod.json (make_nets.py): CIGRE MV, loads x 0.55, switches on lines
    1, 3, 5, 7, 9, 10 and 11."""
    net = pn.create_cigre_network_mv()
    net.load.p_mw *= 0.55
    net.load.q_mvar *= 0.55
    for line in [1, 3, 5, 7, 9, 10, 11]:
        pp.create_switch(net, int(net.line.from_bus[line]), line, et="l", closed=True)
    return net


def test_nothing_shed_reports_a_zero_gap(tmp_path) -> None:
    """From the net's JSON file, as the user ran it (the MILP's objective then ended at
    5.66e-11 kW of tie-breaks, its bound at 0: 5.66e-11 / 1e-9 = 0.0566)."""
    net = _cig_mod()
    path = tmp_path / "cig_mod.json"
    pp.to_json(net, str(path))
    r = restore(str(path), ["line:10"], ac_check=False)
    # pandapower: the reported operation applied by hand serves every load, every bus has
    # a voltage (nothing is cut off), so no shed is needed
    own = operated(net, r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(own, numba=False)
    assert own.res_bus.vm_pu[own.bus.in_service].notna().all()
    assert float(own.res_load.p_mw.sum()) == pytest.approx(float(net.load.p_mw.sum()),
                                                          abs=1e-9)
    assert r.shed_kw == pytest.approx(0.0, abs=1e-6)
    assert r.objective_kw == pytest.approx(0.0, abs=1e-6)
    assert r.lower_bound_kw == pytest.approx(0.0, abs=1e-6)
    assert r.gap == pytest.approx(0.0, abs=1e-12)  # was 0.056632
    doc = r.to_dict()
    assert doc["gap"] == pytest.approx(0.0, abs=1e-12)


def test_the_gap_is_that_of_the_reported_objective_and_bound() -> None:
    """By hand: (100 - 80) / 100 = 0.2; 0 and 0 give 0; no bound, no gap (infinite)."""
    assert restore_gap(100.0, 80.0) == pytest.approx(0.2)
    assert restore_gap(0.0, 0.0) == 0.0
    assert restore_gap(50.0, 50.0) == 0.0
    assert math.isinf(restore_gap(10.0, -math.inf))
