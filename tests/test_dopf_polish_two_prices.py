"""The AC-OPF polish gives a verdict when the sources have different import prices (session
43; before, its verdict was "not compared": the split of a moved import between the sources
was unknown to it).

Each point's import cost is now the AC power flow's: every priced ext_grid's ``p_mw`` by runpp
at its price. Independent truth: pandapower's ``runpp`` in the test on
``result.to_pandapower`` (the DOPF's setting) with the DG at the DOPF's and at the polish's
set-points; the objective by hand, ``losses + 1000 / lambda (30 p_A + 50 p_B + 5 p_B^2 + 55
p_DG)`` [kW-eq].

The grid: 20 kV; ext_grid A (30 per MWh) at bus 0 feeding 0-1-2-3; ext_grid B (50 per MWh +
5 per MW^2 h) at bus 4 feeding 4-5; the tie 3-5 open (a switch: closed, it would join the
two sources); loads at 1, 2, 3 and 5; a controllable DG at bus 5 (0..1.5 MW, q within +-0.3
MVAr; 55 per MWh): B's marginal cost 50 + 10 p_B passes it at p_B = 0.5 MW, so it
runs within its range. A radial net without binding limits: the SOCP relaxation
is exact, so the polish ties with the DOPF's point (it cannot beat it)."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pandapower as pp
import pytest

import feederopt
from oltc_feeder import runpp_quiet

warnings.filterwarnings("ignore", message=".*numba.*")

LAM, PA, PB, PB2, DG = 40.0, 30.0, 50.0, 5.0, 55.0


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(6)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0, name="A")
    pp.create_ext_grid(net, b[4], vm_pu=1.0, name="B")
    for f, t in ((0, 1), (1, 2), (2, 3), (4, 5)):
        pp.create_line_from_parameters(net, b[f], b[t], 3.0, 0.2, 0.3, 10.0, 0.4)
    tie = pp.create_line_from_parameters(net, b[3], b[5], 2.0, 0.2, 0.3, 10.0, 0.4)
    pp.create_switch(net, b[3], tie, "l", closed=False)
    for bus, p in ((1, 0.8), (2, 0.9), (3, 0.7), (5, 1.2)):
        pp.create_load(net, b[bus], p, 0.3 * p)
    pp.create_sgen(net, b[5], 0.0, 0.0, name="DG", controllable=True, min_p_mw=0.0,
                   max_p_mw=1.5, min_q_mvar=-0.3, max_q_mvar=0.3)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=DG)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=PA)
    pp.create_poly_cost(net, 1, "ext_grid", cp1_eur_per_mw=PB, cp2_eur_per_mw2=PB2)
    return net


def _objective(written: pp.pandapowerNet, p: float, q: float) -> tuple[float, float]:
    net = copy.deepcopy(written)
    dg = int(net.sgen.index[net.sgen.name == "DG"][0])
    net.sgen.at[dg, "p_mw"], net.sgen.at[dg, "q_mvar"] = p, q
    runpp_quiet(net)
    losses = 1000.0 * float(net.res_line.pl_mw.sum())
    pa = float(net.res_ext_grid.p_mw[net.ext_grid.name == "A"].iloc[0])
    pb = float(net.res_ext_grid.p_mw[net.ext_grid.name == "B"].iloc[0])
    return losses, losses + 1000.0 / LAM * (PA * pa + PB * pb + PB2 * pb**2 + DG * p)


@pytest.fixture(scope="module")
def solved() -> tuple[Any, pp.pandapowerNet]:
    pp_net = _net()
    return feederopt.solve(feederopt.load(pp_net), time_limit=60,
                           loss_price_per_mwh=LAM), pp_net


def test_the_polish_is_judged_with_two_prices(solved: tuple) -> None:
    result, pp_net = solved
    assert result.status.value == "optimal"
    polish = result.dopf.ac_opf
    assert polish is not None and polish["converged"], polish
    written = result.to_pandapower(pp_net)
    dg = next(g for g in result.dopf.devices if g["id"] == "sgen:0")
    assert dg["on"] and 0.05 < dg["p_mw"] < 1.5  # the DG runs
    dopf_losses, dopf_objective = _objective(written, dg["p_mw"], dg["q_mvar"])
    (gid, p), = polish["gen_p_mw"].items()
    losses, objective = _objective(written, p, polish["gen_q_mvar"][gid])
    assert polish["losses_kw"] == pytest.approx(losses, rel=1e-8)
    assert polish["objective_kw"] == pytest.approx(objective, rel=1e-8)
    assert polish["dopf_ac_losses_kw"] == pytest.approx(dopf_losses, rel=1e-8)
    assert polish["dopf_objective_kw"] == pytest.approx(dopf_objective, rel=1e-8)
    # main: "not compared" (several import prices)
    assert polish["verdict"] in ("equal", "worse")
    assert result.ac_check.exact and objective >= dopf_objective - 1e-6 * dopf_objective
