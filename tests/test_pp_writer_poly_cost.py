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

warnings.filterwarnings("ignore", message=".*numba.*")


def _net() -> pp.pandapowerNet:
    """The user's F.json (ut42_recheck_a's mk.py/mk2.py): 6 buses, a controllable sgen
    (30 per MWh + 10 per MW^2 h) and a controllable gen (0.2..1.5 MW, 40 per MWh + 5 per MW^2 h
    + 3 per h), import at 50 per MWh."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=20, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(6)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0, min_p_mw=-100, max_p_mw=100, min_q_mvar=-100,
                       max_q_mvar=100)
    for f, t, length in ((0, 1, 2.0), (1, 2, 3.0), (2, 3, 2.0), (1, 4, 4.0), (4, 5, 2.0)):
        pp.create_line_from_parameters(net, b[f], b[t], length, r_ohm_per_km=0.4,
                                       x_ohm_per_km=0.35, c_nf_per_km=0, max_i_ka=0.4)
    for bus, p in ((2, 1.0), (3, 1.5), (4, 0.8), (5, 1.2)):
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.3 * p)
    pp.create_sgen(net, b[3], p_mw=0.5, q_mvar=0, controllable=True, min_p_mw=0,
                   max_p_mw=2.0, min_q_mvar=-0.5, max_q_mvar=0.5)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=30, cp2_eur_per_mw2=10.0)
    pp.create_gen(net, b[5], p_mw=0.5, vm_pu=1.0, controllable=True, min_p_mw=0.2,
                  max_p_mw=1.5, min_q_mvar=-5, max_q_mvar=5)
    pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=40, cp2_eur_per_mw2=5, cp0_eur=3)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=50.0)
    net.bus.loc[[0, 5], ["min_vm_pu", "max_vm_pu"]] = 1.0
    return net


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
