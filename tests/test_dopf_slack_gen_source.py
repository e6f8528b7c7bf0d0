"""A pandapower ``gen`` with ``slack=True`` as a source: the balance it supplies and its cost.

pandapower's power flow makes such a gen a reference bus: its ``res_gen.p_mw``, ``q_mvar`` are
the balance, as an ext_grid's ``res_ext_grid`` are, and ``runopp`` prices that power by the
gen's ``poly_cost`` row (``cp0 + cp1 p + cp2 p^2``, sign +1). feederopt reads the gen's bus as
a source (its ``vm_pu`` the set-point); before, the AC check's source powers
(``AcResult.source_p_by_bus``, what an import price is applied to) counted ext_grids only (a
slack gen's bus imported nothing) and the gen's ``poly_cost`` row was dropped without a note
(the DOPF's cost was 0 per hour where ``runopp``'s ``res_cost`` is 141.0).

The truth: pandapower's ``runpp`` (``res_gen``) and ``runopp`` (``res_cost``, tight interior-
point tolerances) of the same net. The slack gen's bus is held at 1.0 p.u. (its band
1.0..1.0): ``runopp`` moves a ``controllable`` slack gen's voltage within its bus's band,
the DOPF holds a source at its set-point (docs/dopf.md).
"""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

from feederopt.io.pandapower import from_pandapower
from feederopt.validation.ac import ac_power_flow
from netbuild import STAR4_COST_LOADS, star4_gen_sgen, star4_pandapower
from runopp_costs import TIGHT, dopf_at_runopps_cost

warnings.filterwarnings("ignore", message=".*numba.*")


def _slack_gen_net() -> pp.pandapowerNet:
    """The 4-bus star with its ext_grid replaced by a controllable slack gen at bus 0 (40 per
    MWh + 3 per MW^2 h + 2 per h) and a controllable sgen at bus 2 (0..1 MW, -1..1 Mvar, 30
    per MWh)."""
    net, g = star4_gen_sgen({"p_mw": 1.0, "vm_pu": 1.0, "slack": True, "controllable": True,
                             "min_p_mw": 0.0, "max_p_mw": 10.0, "min_q_mvar": -10.0,
                             "max_q_mvar": 10.0}, 30.0)
    net.ext_grid.drop(net.ext_grid.index, inplace=True)
    net.bus.loc[0, ["min_vm_pu", "max_vm_pu"]] = 1.0
    pp.create_poly_cost(net, g, "gen", cp1_eur_per_mw=40.0, cp2_eur_per_mw2=3.0, cp0_eur=2.0)
    return net


def test_the_source_power_of_a_slack_gen_is_runpps_res_gen() -> None:
    net = _slack_gen_net()
    pp.runpp(net)
    ac = ac_power_flow(from_pandapower(_slack_gen_net()))
    assert ac.converged
    assert ac.source_p_by_bus == {"0": pytest.approx(float(net.res_gen.p_mw[0]), abs=1e-9)}
    assert ac.source_q_by_bus == {"0": pytest.approx(float(net.res_gen.q_mvar[0]), abs=1e-9)}
    assert ac.source_p_mw == pytest.approx(float(net.res_gen.p_mw[0]), abs=1e-9)


def test_an_ext_grid_and_a_slack_gen_both_count() -> None:
    """Two sources: an ext_grid at bus 0 and a slack gen at bus 3 (a second reference of
    pandapower's power flow): each bus imports what runpp gives its slack."""
    net = star4_pandapower((0.9, 1.1), 4.0, 0.3, STAR4_COST_LOADS)
    pp.create_gen(net, 3, p_mw=0.5, vm_pu=1.0, slack=True)
    ac = ac_power_flow(from_pandapower(net))
    pp.runpp(net)
    assert ac.source_p_by_bus == {
        "0": pytest.approx(float(net.res_ext_grid.p_mw[0]), abs=1e-9),
        "3": pytest.approx(float(net.res_gen.p_mw[0]), abs=1e-9)}
    assert ac.source_p_mw == pytest.approx(
        float(net.res_ext_grid.p_mw[0]) + float(net.res_gen.p_mw[0]), abs=1e-9)


@pytest.fixture(scope="module")
def runopp() -> pp.pandapowerNet:
    net = _slack_gen_net()
    pp.runopp(net, init="pf", **TIGHT)
    assert net.OPF_converged
    p = float(net.res_gen.p_mw[0])
    assert float(net.res_cost) == pytest.approx(
        40 * p + 3 * p * p + 2 + 30 * float(net.res_sgen.p_mw[0]), rel=1e-9)
    return net


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_the_slack_gens_cost_is_runopps(runopp: pp.pandapowerNet, method: str) -> None:
    network = from_pandapower(_slack_gen_net())
    src = network.buses.row(0, named=True)
    assert (src["import_price_per_mwh"], src["import_cost_per_mw2_per_h"],
            src["import_fixed_cost_per_h"]) == (40.0, 3.0, 2.0)
    _, unit = dopf_at_runopps_cost(network, runopp, method)
    assert unit["p_mw"] == pytest.approx(float(runopp.res_sgen.p_mw[0]), abs=1e-4)
