"""A pandapower ``controllable`` load without a ``poly_cost`` row is a flexible load at price
0: the DOPF reduced it by its whole range (500 kW) at no cost and reported the losses'
fall (200.069 -> 164.352 kW) as a loss reduction, with no note (user test ut47_ppgrid #5).
A note now names the loads reduced at no cost and the kW, and says that the loss reduction
includes load not served. The truth is the user's net: pandapower's ``load.p_mw`` of the
result's net (``to_pandapower`` writes the reduced loads) against the original's."""

from __future__ import annotations

import pandapower as pp
import pandapower.networks as pn

import feederopt


def _cigre_with_controllable_load(price: float | None) -> tuple[pp.pandapowerNet, int]:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    idx = pp.create_load(net, 10, 0.5, 0, controllable=True, min_p_mw=0, max_p_mw=0.5)
    if price is not None:  # runopp's cost of a controllable load: cp1 on its consumption
        pp.create_poly_cost(net, idx, "load", cp1_eur_per_mw=price)
    return net, idx


def _notes(result: feederopt.Result) -> list[str]:
    return [n for n in result.extra.get("notes", []) if "reduced at no cost" in n]


def test_a_free_reduction_is_noted_with_the_load_and_its_kw() -> None:
    net, idx = _cigre_with_controllable_load(None)
    result = feederopt.solve(net, time_limit=30)
    new_net = result.to_pandapower(net)
    served_kw = 1000 * float(new_net.load.at[idx, "p_mw"])
    cut_kw = 1000 * float(net.load.at[idx, "p_mw"]) - served_kw
    assert cut_kw > 1.0  # the user's net: the load was reduced
    (note,) = _notes(result)
    assert f"load:{idx} by {cut_kw:.1f} kW" in note
    assert "not served" in note and "poly_cost" in note


def test_a_priced_reduction_is_not_noted() -> None:
    # a price of 1000 per MWh reduced (cp1 -1000): dearer than any loss it saves
    net, idx = _cigre_with_controllable_load(-1000.0)
    result = feederopt.solve(net, time_limit=30)
    new_net = result.to_pandapower(net)
    assert abs(float(new_net.load.at[idx, "p_mw"]) - float(net.load.at[idx, "p_mw"])) < 1e-6
    assert not _notes(result)
