"""``result.to_pandapower(net)`` writes the network's loads and the generators' set-points
into its copy of the user's net, as the AC check does, not the switch states only (user test
ut39_api: after ``net.replace(loads=... x 1.5)`` on case33bw, ``pp.runpp`` of the exported net
gave 139.55 kW, the unedited loads', where the result's AC check said 330.72 kW, silently).

The truth is pandapower's own power flow of a copy of the user's net with the same edits made
by hand in pandapower, at the exported switch states."""

from __future__ import annotations

import copy
import warnings

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

import feederopt


def _losses_kw(net: object) -> float:
    pp.runpp(net, tolerance_mva=1e-10)
    return 1000.0 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def _with_states_of(net: object, exported: object) -> object:
    """A copy of ``net`` with the switch and line states of ``exported``."""
    out = copy.deepcopy(net)
    out.switch["closed"] = exported.switch["closed"]
    out.line["in_service"] = exported.line["in_service"]
    out.trafo["in_service"] = exported.trafo["in_service"]
    return out


def _net_with_sgen() -> object:
    net = pn.simple_mv_open_ring_net()
    pp.create_sgen(net, 4, p_mw=0.5, q_mvar=0.0, name="PV")
    return net


def _export(result: feederopt.Result, net: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("error", feederopt.FeederoptWarning)  # no edit to warn about
        return result.to_pandapower(net)


def test_a_load_edit_is_in_the_exported_net() -> None:
    user = _net_with_sgen()
    before = copy.deepcopy(user)
    n = feederopt.load(user)
    edited = n.replace(loads=n.loads.with_columns(pl.col("p_mw") * 1.5,
                                                  pl.col("q_mvar") * 1.5))
    r = feederopt.solve(edited, time_limit=30)
    out = _export(r, user)
    truth = _with_states_of(before, out)
    truth.load["p_mw"] = truth.load["p_mw"] * truth.load["scaling"] * 1.5
    truth.load["q_mvar"] = truth.load["q_mvar"] * truth.load["scaling"] * 1.5
    truth.load["scaling"] = 1.0
    expected = _losses_kw(truth)
    assert _losses_kw(out) == pytest.approx(expected, abs=1e-3)
    assert r.ac_check.losses_kw == pytest.approx(expected, abs=1e-3)
    # the unedited loads' losses differ (the bug's answer)
    assert abs(_losses_kw(_with_states_of(before, out)) - expected) > 1.0
    # the user's net is unchanged
    pp.runpp(user)
    assert user.load["p_mw"].equals(before.load["p_mw"])
    assert user.switch["closed"].equals(before.switch["closed"])


def test_an_sgen_set_point_edit_is_in_the_exported_net() -> None:
    user = _net_with_sgen()
    before = copy.deepcopy(user)
    n = feederopt.load(user)
    edited = n.replace(generators=n.generators.with_columns(
        pl.lit(3.0).alias("p_mw"), pl.lit(3.0).alias("p_min_mw"), pl.lit(3.0).alias("p_max_mw")))
    r = feederopt.solve(edited, time_limit=30)
    out = _export(r, user)
    truth = _with_states_of(before, out)
    truth.sgen["p_mw"] = 3.0
    truth.sgen["scaling"] = 1.0
    expected = _losses_kw(truth)
    assert _losses_kw(out) == pytest.approx(expected, abs=1e-3)
    assert r.ac_check.losses_kw == pytest.approx(expected, abs=1e-3)
    assert abs(_losses_kw(_with_states_of(before, out)) - expected) > 1.0
    assert user.sgen["p_mw"].tolist() == [0.5]
