"""A branch read as unrated has no AC loading "of its rating" (user test ut51_robust #1).

pandapower's networks write ``max_i_ka = 99999`` for "no rating"; the reader reads it as
unrated (NaN, with a note), and the summary says "no ratings held". The AC check then still
overwrote every line's loading with pandapower's own ``loading_percent`` against the
placeholder: "largest loading (AC, true) 0.00 % of its rating (line:0)",
``ac_check.max_loading_percent`` 0.000141, under the note that the 37 lines are unrated.

Truth: pandapower's ``runpp`` of the user's net (``res_line.loading_percent`` of the rated
lines) and the report's words for a net without ratings ("- (no rated branch)", null).
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.validation.ac import ac_power_flow


def _small_net(max_i_ka: list[float]) -> pp.pandapowerNet:
    """A 5-bus radial feeder with a normally open tie (5 lines), ``max_i_ka`` per line."""
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, vn_kv=12.66) for _ in range(5)]
    pp.create_ext_grid(net, buses[0], vm_pu=1.0)
    for k, (a, b) in enumerate([(0, 1), (1, 2), (2, 3), (1, 4), (4, 3)]):
        pp.create_line_from_parameters(net, buses[a], buses[b], length_km=1.0, r_ohm_per_km=0.4,
                                       x_ohm_per_km=0.3, c_nf_per_km=0.0,
                                       max_i_ka=max_i_ka[k])
    pp.create_switch(net, buses[3], 4, et="l", closed=False)
    for b, p in ((1, 0.4), (2, 0.5), (3, 0.6), (4, 0.3)):
        pp.create_load(net, buses[b], p_mw=p, q_mvar=0.3 * p)
    return net


def _runpp(net: pp.pandapowerNet) -> pp.pandapowerNet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10)
    return net


def test_placeholder_ratings_get_no_loading_in_the_ac_check() -> None:
    truth = _runpp(pn.case33bw())
    assert (truth.line["max_i_ka"] == 99999.0).all()
    assert truth.res_line["loading_percent"].max() > 0  # pandapower's, of the placeholder
    ac = ac_power_flow(feederopt.load(pn.case33bw()))
    assert ac.converged
    assert np.isnan(ac.loading_percent).all()
    assert math.isnan(ac.max_loading_percent)
    assert ac.max_loading_element is None
    assert np.isnan(ac.open_loading_percent).all()  # the normally open ties too


def test_a_mix_takes_the_largest_loading_among_the_rated_lines() -> None:
    # lines 3, 6 and 20 rated; the others keep pandapower's placeholder
    net = pn.case33bw()
    rated = {3: 0.4, 6: 0.3, 20: 0.05}
    for i, v in rated.items():
        net.line.loc[i, "max_i_ka"] = v
    truth = _runpp(copy.deepcopy(net))
    expected = {f"line:{i}": float(truth.res_line.at[i, "loading_percent"]) for i in rated}
    worst = max(expected, key=lambda k: expected[k])
    ac = ac_power_flow(feederopt.load(net))
    assert ac.max_loading_element == worst
    assert ac.max_loading_percent == pytest.approx(expected[worst], rel=1e-6)
    got = dict(zip(ac.branch_ids, ac.loading_percent.tolist(), strict=True))
    for bid, value in expected.items():
        assert got[bid] == pytest.approx(value, rel=1e-6), bid
    unrated = [bid for bid in got if bid.startswith("line:") and int(bid[5:]) not in rated]
    assert len(unrated) == len(net.line) - len(rated)
    assert all(math.isnan(got[bid]) for bid in unrated)


def test_a_solve_says_no_rated_branch(tmp_path: Path) -> None:
    net = _small_net([99999.0] * 5)
    result = feederopt.solve(net, time_limit=30)
    assert result.ac_check is not None and result.ac_check.converged
    assert math.isnan(result.ac_check.max_loading_percent)
    assert result.ac_check.max_loading_element is None
    assert all(v is None for v in result.branches["loading_ac_percent"].to_list())
    out = feederopt.save(result, tmp_path / "o")
    data = json.loads((out / "result.json").read_text())
    assert data["ac_check"]["max_loading_percent"] is None
    assert data["ac_check"]["max_loading_element"] is None


def test_a_solve_of_a_mix_reports_the_rated_lines_loading() -> None:
    net = _small_net([99999.0, 0.05, 99999.0, 99999.0, 99999.0])
    result = feederopt.solve(net, time_limit=30)
    assert result.ac_check is not None and result.ac_check.converged
    truth = copy.deepcopy(net)
    opened = {int(str(row["id"]).removeprefix("line:")) for row in result.open_branches}
    truth.switch["closed"] = True
    truth.line.loc[list(opened), "in_service"] = False
    _runpp(truth)
    # line 0 carries everything: pandapower loads it far above line 1, but it is unrated
    assert truth.res_line.at[0, "i_ka"] > truth.res_line.at[1, "i_ka"]
    assert result.ac_check.max_loading_element == "line:1"
    assert result.ac_check.max_loading_percent == pytest.approx(
        float(truth.res_line.at[1, "loading_percent"]), rel=1e-6)
    got = dict(zip(result.branches["id"].to_list(),
                   result.branches["loading_ac_percent"].to_list(), strict=True))
    assert got["line:0"] is None
