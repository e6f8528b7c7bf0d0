"""The AC check of a user's pandapower net starts its Newton-Raphson as pandapower's
``runpp(init="auto")`` does, the mean set-point of the in-service ext_grids and gens
(pandapower 3, ``auxiliary._init_runpp_options``), computed from the tables' columns: pandapower's
six ``DataFrame.query`` calls for it were a fifth of each run on a small net (the robust check of
mesh9's 280 extreme points, user test ut46_robust).

Truth: the hand mean of the set-points, and pandapower's own ``runpp`` of the same net."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

pp = pytest.importorskip("pandapower")

import feederopt  # noqa: E402
from feederopt.validation.ac import auto_init_vm_pu  # noqa: E402


def _net():  # type: ignore[no-untyped-def]
    """An ext_grid at 1.02 p.u., a gen at 1.01 in service and one at 0.9 out of service,
    on three 10 kV lines with two loads."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 10.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.02)
    for i, j in ((0, 1), (1, 2), (2, 3)):
        pp.create_line_from_parameters(net, b[i], b[j], 1.0, 0.3, 0.3, 0.0, 0.4)
    pp.create_load(net, b[1], p_mw=0.3, q_mvar=0.1)
    pp.create_load(net, b[3], p_mw=0.4, q_mvar=0.1)
    pp.create_gen(net, b[2], p_mw=0.2, vm_pu=1.01)
    pp.create_gen(net, b[3], p_mw=0.1, vm_pu=0.9, in_service=False)
    return net


def test_the_start_is_the_mean_set_point_of_what_holds_a_voltage() -> None:
    assert auto_init_vm_pu(_net()) == pytest.approx((1.02 + 1.01) / 2, abs=1e-15)
    off = _net()
    off.ext_grid["in_service"] = False
    off.gen["in_service"] = False
    assert auto_init_vm_pu(off) is None  # nothing holds a voltage: pandapower's own


def test_the_ac_check_runs_without_pandapowers_queries_and_agrees(
        monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net()
    network = feederopt.load(net)
    truth = _net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(truth, numba=False)
    calls: list[str] = []
    real = pd.DataFrame.query

    def counted(self: pd.DataFrame, expr: str, **kw: object) -> object:
        calls.append(expr)
        return real(self, expr, **kw)

    monkeypatch.setattr(pd.DataFrame, "query", counted)
    ac = feederopt.ac_power_flow(network)
    assert calls == []  # before: six per run
    assert ac.converged
    assert ac.losses_kw == pytest.approx(1000 * truth.res_line.pl_mw.sum(), rel=1e-6)
    assert ac.min_voltage_pu == pytest.approx(truth.res_bus.vm_pu.min(), abs=1e-8)
