"""A must-run unit's fixed cost (pandapower's ``poly_cost.cp0_eur``, per hour while it runs) is
in the DOPF's DG cost and objective, as pandapower's OPF counts it.

pandapower's ``runopp`` never drops a controllable sgen, so its ``res_cost`` is
``cp1_eur_per_mw p + cp0_eur`` for a unit it runs. Since the must-run reading (session 40) an
sgen with ``min_p_mw`` > 0 is always on in the DOPF; its ``cp0_eur`` was left out of
``costs.dg_per_h`` (and of the objective) while a committable unit's is counted when on.

The grid of tests/test_dopf_pp_must_run.py: 20 kV, ext_grid - 3 km - bus 1 (0.5 MW load) -
3 km - bus 2 with a Q-only sgen (``min_p_mw = max_p_mw = 2``, q free within +-0.8 MVAr): both
pandapower's OPF and the DOPF run it at 2 MW, so the DG costs must agree (q has no cost)."""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

P, Q_BAND = 2.0, 0.8
CP1, CP0 = 30.0, 25.0  # per MWh; per hour while it runs
LOSS_PRICE = 50.0


def _grid() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(net, b[f], b[t], 3.0, 0.4, 0.4, 10.0, 0.4)
    pp.create_load(net, b[1], 0.5, 0.2)
    pp.create_sgen(net, b[2], P, 0.0, sn_mva=P, controllable=True, min_p_mw=P,
                   max_p_mw=P, min_q_mvar=-Q_BAND, max_q_mvar=Q_BAND)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=CP1, cp0_eur=CP0)
    return net


def test_the_must_run_units_fixed_cost_is_in_the_dg_cost_as_pandapower_counts_it() -> None:
    opf = _grid()
    pp.runopp(opf)
    assert float(opf.res_sgen.p_mw[0]) == pytest.approx(P, abs=1e-6)  # same dispatch
    truth = float(opf.res_cost)  # pandapower's own cost: cp1 p + cp0 = 85 per hour
    assert truth == pytest.approx(CP1 * P + CP0, rel=1e-6)  # by hand

    net = from_pandapower(_grid())
    assert net.generators["must_run"].to_list() == [True]
    result = feederopt.solve(net, time_limit=20, loss_price_per_mwh=LOSS_PRICE)
    assert result.status.value == "optimal" and result.dopf is not None
    costs = result.dopf.costs
    assert costs["dg_per_h"] == pytest.approx(truth, rel=1e-6)  # main: 60 (cp0 left out)
    # the objective [kW-equivalent]: the model's losses plus 1000 / lambda x the DG cost
    assert result.objective == pytest.approx(
        costs["losses_kw"] + 1000.0 / LOSS_PRICE * truth, rel=1e-6)
    assert result.lower_bound <= result.objective + 1e-6 * abs(result.objective)
    assert costs["total_per_h"] == pytest.approx(
        costs["losses_kw"] * LOSS_PRICE / 1000.0 + truth, rel=1e-6)


def test_the_misocp_counts_it_too() -> None:
    net = from_pandapower(_grid())
    result = feederopt.solve(net, time_limit=20, loss_price_per_mwh=LOSS_PRICE, method="misocp")
    assert result.dopf is not None
    costs = result.dopf.costs
    assert costs["dg_per_h"] == pytest.approx(CP1 * P + CP0, rel=1e-6)
    assert result.objective == pytest.approx(
        costs["losses_kw"] + 1000.0 / LOSS_PRICE * (CP1 * P + CP0), rel=1e-5)
