"""A network read from pandapower and then edited in Python (``network.replace``) gets its AC
check on its edited tables, not on the original net (user test ut_api2 s13, s17: the check ran
pandapower on a copy of the unedited net, 26.165 kW for a model of 42.295 kW, with a false
"does not represent every element exactly" warning). The truth here is pandapower's own power
flow of the original net with the same edits made in pandapower, at the answer's states."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.io.pandapower import OriginModel, PandapowerModel, origin_edits
from feederopt.validation.ac import pandapower_model


def _losses_kw(net: object, closed: Mapping[str, bool]) -> float:
    """pandapower's losses [kW] of ``net`` (a copy) at the states ``closed`` of its branches
    ``line:K``/``trafo:K``: an open line with switches opened by the switch at its from bus
    (as the case's own tie is, so that it stays charged from its to end), one without
    switches (case33bw's ties) out of service."""
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    for bid, on in closed.items():
        element, _, index = str(bid).partition(":")
        assert element in ("line", "trafo"), bid
        k = int(index)
        sw = net.switch[(net.switch.et == element[0]) & (net.switch.element == k)]
        if len(sw) and element == "line":
            at_from = sw.index[sw.bus == net.line.at[k, "from_bus"]]
            assert len(at_from) == 1
            net.switch.loc[at_from, "closed"] = bool(on)
        else:
            net[element].at[k, "in_service"] = bool(on)
    pp.runpp(net, tolerance_mva=1e-10)
    return 1000.0 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def test_an_edited_builtin_pandapower_case_is_checked_on_its_edits() -> None:
    n = feederopt.load("mv_open_ring")
    ne = n.replace(branches=n.branches.with_columns(
        pl.when(pl.col("kind") == "line").then(pl.col("r_ohm") * 3)
        .otherwise(pl.col("r_ohm")).alias("r_ohm")))
    assert origin_edits(ne) == ["branches.r_ohm"]
    assert isinstance(pandapower_model(ne), PandapowerModel)
    r = feederopt.solve(ne, time_limit=30)
    truth_net = pn.simple_mv_open_ring_net()
    truth_net.line["r_ohm_per_km"] *= 3
    truth = _losses_kw(truth_net, r.closed)
    assert r.ac_check.losses_kw == pytest.approx(truth, rel=1e-6)
    assert r.ac_check.exact  # the model is the edited grid: no false fidelity warning
    assert any("edited after it was read from pandapower" in s for s in r.extra["notes"])
    # the user's original net lacks the edits: the states are written, with a warning
    with pytest.warns(feederopt.FeederoptWarning, match="lacks these edits"):
        r.to_pandapower(pn.simple_mv_open_ring_net())


def test_an_edited_case33bw_is_checked_on_its_edits() -> None:
    ppn = pn.case33bw()
    n = feederopt.load(ppn)
    fast, slow = [f"line:{k}" for k in range(6, 13)], [f"line:{k}" for k in range(27, 32)]
    ne = n.replace(branches=n.branches.with_columns(
        pl.when(pl.col("id").is_in(fast)).then(pl.col("r_ohm") * 0.2)
        .when(pl.col("id").is_in(slow)).then(pl.col("r_ohm") * 3)
        .otherwise(pl.col("r_ohm")).alias("r_ohm")))
    r = feederopt.solve(ne, time_limit=60)
    truth_net = pn.case33bw()
    truth_net.line.loc[6:12, "r_ohm_per_km"] *= 0.2
    truth_net.line.loc[27:31, "r_ohm_per_km"] *= 3
    assert r.ac_check.losses_kw == pytest.approx(_losses_kw(truth_net, r.closed), rel=1e-6)
    # the unedited net's optimum (case33bw's 139.55 kW) is not what is reported
    assert abs(r.ac_check.losses_kw - 139.55) > 1.0


def test_an_unedited_pandapower_net_is_checked_on_the_users_net() -> None:
    ppn = pn.case33bw()
    n = feederopt.load(ppn)
    assert origin_edits(n) == []
    assert isinstance(pandapower_model(n), OriginModel)
    # what the AC check writes into its copy anyway (loads, limits) is no edit
    scaled = n.with_loads_scaled(1.1).with_limits(v_min_pu=0.85)
    assert origin_edits(scaled) == []
    assert isinstance(pandapower_model(scaled), OriginModel)
    r = feederopt.solve(n, time_limit=60)
    assert not any("edited after" in s for s in r.extra.get("notes", []))
    with warnings.catch_warnings():
        warnings.simplefilter("error", feederopt.FeederoptWarning)
        r.to_pandapower(ppn)


def test_a_table_of_a_pandapower_net_edited_in_place_is_an_edit() -> None:
    # net.branches[k, "r_ohm"] = ... keeps the DataFrame object: the tables kept as read must
    # be copies, or the edit changes them too and the check runs on the unedited user's net
    n = feederopt.load("mv_open_ring")
    k = n.branches["id"].to_list().index("line:3")
    n.branches[k, "r_ohm"] = n.branches[k, "r_ohm"] * 3
    assert origin_edits(n) == ["branches.r_ohm"]
    r = feederopt.solve(n, time_limit=30)
    truth_net = pn.simple_mv_open_ring_net()
    truth_net.line.at[3, "r_ohm_per_km"] *= 3
    assert r.ac_check.losses_kw == pytest.approx(_losses_kw(truth_net, r.closed), rel=1e-6)
