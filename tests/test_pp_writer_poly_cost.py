"""``to_pandapower(network)`` writes back the costs that the reader takes from ``poly_cost``
(user test ut42_recheck_a, item A): a ``gen``'s ``cp0_eur``/``cp1_eur_per_mw``/
``cp2_eur_per_mw2`` and its ``min/max_p_mw`` (a controllable gen with a cost is a must-run DG
unit), and an ``ext_grid``'s ``cp1_eur_per_mw`` (the import price). Before, only the sgens'
rows were written: the user's F.json solved to 2172.29 kW-eq and its written net to 109.0.

Truth: the input net itself. The written net's ``poly_cost`` rows are the input's, pandapower's
own ``runopp`` gives the same ``res_cost`` on both nets, and the DOPF solves both to the same
objective."""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower, to_pandapower
from netbuild import costed_pandapower as _net

warnings.filterwarnings("ignore", message=".*numba.*")


_COST = ["cp0_eur", "cp1_eur_per_mw", "cp2_eur_per_mw2"]


def _rows(net: pp.pandapowerNet) -> dict[str, list[float]]:
    return {str(r["et"]): [float(r[c]) for c in _COST] for _, r in net.poly_cost.iterrows()}


@pytest.fixture(scope="module")
def nets() -> tuple[pp.pandapowerNet, pp.pandapowerNet]:
    net = _net()
    return net, to_pandapower(from_pandapower(net))


def test_the_poly_cost_rows_and_gen_limits_are_written_back(nets) -> None:
    net, back = nets
    assert _rows(back) == _rows(net)
    assert bool(back.gen.controllable[0])
    assert (float(back.gen.min_p_mw[0]), float(back.gen.max_p_mw[0])) == (0.2, 1.5)


def test_runopp_costs_the_written_net_as_the_input(nets) -> None:
    net, back = nets
    pp.runopp(net)
    pp.runopp(back)
    # runopp's default interior-point tolerances: measured 2e-6 apart (a wrong import price
    # or gen cost moves it by far more: 109 against 2172 kW-eq in the DOPF)
    assert float(back.res_cost) == pytest.approx(float(net.res_cost), rel=1e-5)


def test_the_written_net_solves_to_the_same_objective(nets) -> None:
    net, back = nets
    first = feederopt.solve(from_pandapower(net), loss_price_per_mwh=100, time_limit=30)
    again = feederopt.solve(from_pandapower(back), loss_price_per_mwh=100, time_limit=30)
    assert first.status == again.status == "optimal"
    assert again.objective == pytest.approx(first.objective, rel=1e-6)
