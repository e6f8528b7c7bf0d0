"""A voltage-controlled ``gen`` with enforced q limits (``net.user_pf_options``
``enforce_q_lims``): the SOCP keeps its (q, v) in the convex hull of pandapower's PV/PQ
switching (``formulations.distflow.pv_hull_rows``).

User test ut_ppgrid #1-2 (session 29): the hull's lower row read ``v >= v_s - dn (q + q_lo)``
instead of ``v >= v_s - dn (q - q_lo)``. With ``q_lo < 0`` the voltage floor rose by
``2 dn |q_lo|``, so a gen at its upper limit could not fall below its set-point: a grid that
every radial state serves within limits in pandapower was "infeasible" (exit 3), and another
set-point ended in a NegativeGapError. The corners are checked by geometry, the optimum by
pandapower over every radial switch state."""

from __future__ import annotations

import itertools
import warnings

import networkx as nx
import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.formulations.distflow import pv_hull_rows
from feederopt.network.perunit import to_per_unit

STD = "NA2XS2Y 1x185 RM/25 12/20 kV"
#: feeder A 0-1-2-3-4, feeder B 0-5-6-7, ties 4-7 and 9-6 open, 3-8-9 a lateral
LINES = [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 1.0), (3, 4, 2.0), (0, 5, 1.5), (5, 6, 2.0),
         (6, 7, 1.0), (4, 7, 1.5), (3, 8, 1.0), (8, 9, 1.2), (9, 6, 1.3)]


def q_limited_grid(vm_pu: float, q_mvar: float):
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, 110)
    mv = [pp.create_bus(net, 20) for _ in range(10)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer(net, hv, mv[0], "25 MVA 110/20 kV")
    for a, b, km in LINES:
        li = pp.create_line(net, mv[a], mv[b], km, STD)
        pp.create_switch(net, mv[a], li, "l", closed=(a, b) not in ((4, 7), (9, 6)))
    for i, p in zip(range(1, 10), [1.0, 0.8, 1.2, 0.6, 1.1, 0.9, 0.7, 0.5, 0.4], strict=True):
        pp.create_load(net, mv[i], p, 0.3 * p)
    pp.create_gen(net, mv[8], 1.0, vm_pu=vm_pu, min_q_mvar=-q_mvar, max_q_mvar=q_mvar)
    pp.set_user_pf_options(net, enforce_q_lims=True)
    return net


def brute_force_kw(net) -> tuple[float, set[int]]:
    """The least pandapower losses over every radial state of the line switches (each MV bus
    fed, no loop; an open line stays charged from its other end, as in the model), all within
    0.9-1.1 p.u. and their ratings here (checked), and its open lines."""
    best: tuple[float, set[int]] = (np.inf, set())
    for pair in itertools.combinations(range(len(LINES)), 2):
        g = nx.Graph([(a, b) for k, (a, b, _) in enumerate(LINES) if k not in pair])
        if g.number_of_nodes() < 10 or not nx.is_tree(g):
            continue
        net.switch["closed"] = [k not in pair for k in net.switch.element]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net)
        vm = net.res_bus.vm_pu
        assert vm.min() > 0.9 and vm.max() < 1.1 and net.res_line.loading_percent.max() < 100
        kw = 1e3 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
        best = min(best, (kw, set(pair)), key=lambda b: b[0])
    return best


def test_hull_corners() -> None:
    """The rows pass through the hull's four corners (q_hi, lo), (q_hi, v_s), (q_lo, v_s),
    (q_lo, hi) and cut off the points beyond them."""
    pu = to_per_unit(feederopt.load(q_limited_grid(1.03, 0.2)))
    lo, hi = np.full(pu.n_bus, 0.81), np.full(pu.n_bus, 1.21)
    buses, _, up, dn, rhs_up, rhs_dn = pv_hull_rows(pu, lo, hi, np.full(pu.n_gen, 5.0))
    (b,) = buses
    vs, q_lo, q_hi = 1.03**2, -0.2, 0.2

    def rows(q: float, v: float) -> tuple[float, float]:
        return v + up[0] * q - rhs_up[0], -v - dn[0] * q - rhs_dn[0]

    for q, v in ((q_hi, lo[b]), (q_hi, vs), (q_lo, vs), (q_lo, hi[b])):
        assert max(rows(q, v)) == pytest.approx(0.0, abs=1e-12)
        assert max(rows(q, v)) <= 1e-12
    assert rows(q_hi, vs + 0.01)[0] > 0  # above the set-point at the upper limit
    assert rows(q_lo, vs - 0.01)[1] > 0  # below it at the lower limit
    assert max(rows(0.0, vs)) < 0  # inside


@pytest.mark.parametrize(("vm_pu", "q_mvar"), [(1.03, 0.2), (1.01, 0.2), (1.03, 1.0)])
def test_q_limited_gen_reaches_the_brute_force_optimum(vm_pu: float, q_mvar: float) -> None:
    best_kw, best_open = brute_force_kw(q_limited_grid(vm_pu, q_mvar))
    net = q_limited_grid(vm_pu, q_mvar)
    result = feederopt.solve(net, time_limit_s=120)
    assert result.status == "optimal"
    assert result.ac_check is not None and result.ac_check.within_limits
    assert result.ac_check.losses_kw == pytest.approx(best_kw, rel=1e-6)
    assert {int(b["id"].split(":")[1]) for b in result.open_branches} == best_open
