"""A must-run unit's fixed cost (pandapower's ``poly_cost.cp0_eur``) is in the objective of the
models that hold the devices (``--method lindistflow``, ``--fix-devices``), as the DOPF counts
it and pandapower's ``runopp`` counts it in ``res_cost``.

The grid (recheck_c A): 20 kV, ext_grid - bus 1 (0.5 MW load) - bus 2 (an sgen run at 1 MW,
cp1 30, cp0 25) and bus 3 (0.3 MW load, an sgen at 0.5 MW, cp1 10, cp0 7), with a normally
open tie 2-3. Both sgens have ``min_p_mw = max_p_mw``: runopp and every method run them at the
same p (q has no cost), so the DG cost is runopp's ``res_cost`` = 30 + 25 + 5 + 7 = 67 per
hour; main left the 32 of cp0 out of the held models (objective 704.83 = losses + 20 x 35)."""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

LOSS_PRICE = 50.0


def _grid() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2), (1, 3)):
        pp.create_line_from_parameters(net, b[f], b[t], 3.0, 0.4, 0.4, 10.0, 0.4)
    tie = pp.create_line_from_parameters(net, b[2], b[3], 3.0, 0.4, 0.4, 10.0, 0.4)
    pp.create_switch(net, b[2], tie, "l", closed=False)
    pp.create_load(net, b[1], 0.5, 0.2)
    pp.create_load(net, b[3], 0.3, 0.1)
    pp.create_sgen(net, b[2], 1.0, 0.0, sn_mva=2, controllable=True, min_p_mw=1.0,
                   max_p_mw=1.0, min_q_mvar=-0.5, max_q_mvar=0.5)
    pp.create_sgen(net, b[3], 0.5, 0.0, sn_mva=1, controllable=True, min_p_mw=0.5,
                   max_p_mw=0.5, min_q_mvar=-0.3, max_q_mvar=0.3)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=30, cp0_eur=25)
    pp.create_poly_cost(net, 1, "sgen", cp1_eur_per_mw=10, cp0_eur=7)
    return net


@pytest.fixture(scope="module")
def truth() -> float:
    opf = _grid()
    pp.runopp(opf)
    assert opf.res_sgen.p_mw.tolist() == pytest.approx([1.0, 0.5], abs=1e-6)  # same dispatch
    cost = float(opf.res_cost)
    assert cost == pytest.approx(30 * 1.0 + 25 + 10 * 0.5 + 7, rel=1e-6)  # by hand: 67
    return cost


@pytest.mark.parametrize("how", [{"method": "lindistflow"}, {"fix_devices": True}])
def test_the_held_models_count_the_must_run_fixed_cost(truth: float, how: dict) -> None:
    result = feederopt.solve(from_pandapower(_grid()), time_limit=30,
                             loss_price_per_mwh=LOSS_PRICE, **how)
    assert result.has_topology and result.within_limits
    # the objective [kW-equivalent]: the losses plus 1000 / lambda x the DG cost (main: the
    # DG cost was 35, the energy alone)
    assert (result.objective - result.losses_kw) * LOSS_PRICE / 1000.0 == pytest.approx(
        truth, rel=1e-6)
    if how.get("method") == "lindistflow":
        # a heuristic with a switch to decide: never "optimal" (nothing proven), and no DOPF
        # summary: it sets no device (held, a note says so)
        assert result.status.value == "feasible"
        assert result.dopf is None
        assert any("does not set the network's devices" in n for n in result.extra["notes"])


def test_a_held_unit_at_zero_is_off_and_costs_nothing() -> None:
    """A committable unit held at its set-point 0, 0 (not must-run) is off: no fixed cost."""
    from feederopt.network.devices import fixed_at_base, running_fixed_cost_per_h

    net = from_pandapower(_grid())
    assert running_fixed_cost_per_h(net) == pytest.approx(32.0)
    gens = net.generators.with_columns(
        must_run=net.generators["must_run"].not_(),  # False: may be off
        p_mw=net.generators["p_mw"] * 0.0)
    held = fixed_at_base(net.replace(generators=gens), frozenset())
    assert running_fixed_cost_per_h(held) == pytest.approx(0.0)
