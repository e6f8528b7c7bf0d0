"""pandapower ``ward`` and ``xward`` elements in a restoration's AC check (user test ut_res2,
gap 1), checked against the test's own ``pp.runpp`` of the user's net with the operation
applied by hand and the de-energised buses found by pandapower's own graph search.

The reader takes a ward as a load (ps, qs; sheddable) and a shunt (pz, qz), an xward as the
same plus a source at P = Q = 0 on an auxiliary bus behind its impedance.

* A ward and an xward in an island that a broken line de-energises are out of service in the
  AC run (before, they stayed in service with their powers zeroed, relying on pandapower
  leaving the island out), and the user's net is untouched afterwards.
* In a backup-DG island an xward runs as the model counts it: load and shunt, its source at
  P = Q = 0. Before, its voltage source held 1.01 p.u. against the DG's 0.9 p.u. and pulled
  ~600 kW of losses through its internal impedance out of the DG (AC 1,266 kW against the
  model's 657 kW).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.topology as top
import pandas as pd
import pytest

import feederopt
from feederopt.api_resilience import restore
from feederopt.validation.ac import pandapower_model
from netbuild import planner_pandapower
from resilience_ops import operated

B5 = 12  # the bus the ward and the xward sit at; lines 10 (LB5) and 11 (LB6) border it
WARD = {"ps_mw": 0.3, "qs_mvar": 0.1, "pz_mw": 0.05, "qz_mvar": -0.2}
XWARD = {"ps_mw": 0.2, "qs_mvar": 0.05, "pz_mw": 0.02, "qz_mvar": 0.03, "r_ohm": 0.5,
         "x_ohm": 2.0, "vm_pu": 1.01}


def user_net() -> pp.pandapowerNet:
    net = planner_pandapower()
    pp.create_ward(net, B5, name="W", **WARD)
    pp.create_xward(net, B5, name="XW", **XWARD)
    return net


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every pandapower power flow that feederopt runs: the ward/xward tables as they were
    run and the bus voltages."""
    original = pp.runpp
    seen: list[dict[str, Any]] = []

    def spy(net: Any, *args: Any, **kwargs: Any) -> None:
        original(net, *args, **kwargs)
        seen.append({"ward": net.ward.copy(), "xward": net.xward.copy(),
                     "vm": net.res_bus.vm_pu.copy()})

    monkeypatch.setattr(pp, "runpp", spy)
    yield seen


def dead_buses(own: pp.pandapowerNet) -> set[int]:
    """pandapower's graph search: the buses no ext_grid reaches over the closed, in-service
    branches."""
    return set(top.unsupplied_buses(own))


def assert_untouched(net: pp.pandapowerNet, before: pp.pandapowerNet) -> None:
    for table in ("bus", "line", "switch", "load", "sgen", "shunt", "ward", "xward",
                  "ext_grid", "trafo"):
        pd.testing.assert_frame_equal(net[table], before[table], check_dtype=False)


def test_ward_and_xward_in_a_deenergised_island_are_out_of_service(
        runs: list[dict[str, Any]]) -> None:
    net = user_net()
    before = copy.deepcopy(net)
    network = feederopt.load(net)
    r = restore(network, ["line:10", "line:11"])
    own = operated(net, r)
    dead = dead_buses(own)
    assert dead == {B5}
    assert r.operation.shed_per_load_kw["ward:0"] == pytest.approx(1e3 * WARD["ps_mw"])
    assert r.operation.shed_per_load_kw["xward:0"] == pytest.approx(1e3 * XWARD["ps_mw"])
    # the AC run had both out of service
    run = runs[-1]
    assert not run["ward"].at[0, "in_service"] and not run["xward"].at[0, "in_service"]
    # the model de-energises the same bus (and the xward's auxiliary bus behind it)
    assert {b for b in r.operation.deenergised_buses if b.isdigit()} == {str(B5)}
    assert str(B5) not in r.operation.energised_buses
    # the test's own run: everything at the de-energised bus out of service
    for table in ("ward", "xward", "sgen", "shunt", "load"):
        at = own[table].bus.isin(dead)
        own[table].loc[at, "in_service"] = False
    pp.runpp(own, numba=False, calculate_voltage_angles=True, tolerance_mva=1e-9)
    assert np.isnan(own.res_bus.vm_pu[B5])
    np.testing.assert_allclose(run["vm"].reindex(own.res_bus.index).to_numpy(float),
                               own.res_bus.vm_pu.to_numpy(float), atol=1e-8, equal_nan=True)
    ac = r.ac_check
    assert ac is not None and ac["converged"] and ac["unsupplied_buses"] == []
    live = own.res_bus.vm_pu.dropna()
    assert ac["min_voltage_pu"] == pytest.approx(float(live.min()), abs=1e-6)
    assert ac["max_voltage_pu"] == pytest.approx(float(live.max()), abs=1e-6)
    losses = 1e3 * float(own.res_line.pl_mw.sum() + own.res_trafo.pl_mw.sum())
    assert ac["losses_kw"] == pytest.approx(losses, abs=1e-3)
    # the user's net is untouched, and so is the cached model's copy of its wards
    assert_untouched(net, before)
    model = pandapower_model(network).net
    pd.testing.assert_frame_equal(model.ward, before.ward, check_dtype=False)
    pd.testing.assert_frame_equal(model.xward, before.xward, check_dtype=False)


@pytest.mark.parametrize("dg_kw", [1500.0, 400.0])
def test_xward_in_a_backup_dg_island_counts_as_the_model_counts_it(
        dg_kw: float) -> None:
    """A backup DG at B5 forms an island of B5 alone (no line in it: no losses). Its AC
    output must be the island's demand at the DG's voltage as the model counts it: the load,
    the ward's and xward's load parts (less their shed), their shunt parts at V^2, less the
    PV. With 400 kW the model sheds part of it (the shed case)."""
    net = user_net()
    before = copy.deepcopy(net)
    r = restore(feederopt.load(net), ["line:10", "line:11"], dg_sites=[str(B5)],
                dg_p_max_kw=dg_kw)
    op = r.operation
    assert str(B5) in op.dg_output_kw and not op.island_generators_off
    if dg_kw < 1000:
        assert op.shed_kw > 1.0  # the model sheds
    own = operated(net, r)
    v = op.voltage_pu[str(B5)]
    for table in ("shunt", "ward", "xward"):  # shunt parts the model has off in the island
        if str(B5) in op.island_shunts_off:
            own[table].loc[own[table].bus == B5, own[table].columns.intersection(
                ["q_mvar", "p_mw", "pz_mw", "qz_mvar"])] = 0.0
    # the island's demand by hand from the user's data at the DG's voltage
    demand_mw = (float(own.load.p_mw[own.load.bus == B5].sum())
                 + float(own.ward.ps_mw.sum() + own.xward.ps_mw.sum())
                 + (float(own.ward.pz_mw.sum() + own.xward.pz_mw.sum())) * v ** 2
                 - float(own.sgen.p_mw[own.sgen.bus == B5].sum()))
    # pandapower's run of the same: the DG an ext_grid at the model's voltage, the xward
    # without its source (a ward with its load and shunt parts)
    x = own.xward.loc[0]
    own.xward.at[0, "in_service"] = False
    pp.create_ward(own, B5, ps_mw=x.ps_mw, qs_mvar=x.qs_mvar, pz_mw=x.pz_mw, qz_mvar=x.qz_mvar)
    dg = pp.create_ext_grid(own, B5, vm_pu=v)
    pp.runpp(own, numba=False, calculate_voltage_angles=True, tolerance_mva=1e-9)
    ac_kw = 1e3 * float(own.res_ext_grid.at[dg, "p_mw"])
    assert ac_kw == pytest.approx(1e3 * demand_mw, abs=1e-3)
    ac = r.ac_check
    assert ac is not None and ac["converged"]
    assert ac["dg_island_kw"][str(B5)] == pytest.approx(ac_kw, abs=1e-3)
    # lossless model = AC here (no line in the island)
    assert op.dg_output_kw[str(B5)] == pytest.approx(ac_kw, abs=1e-3)
    assert ac["unsupplied_buses"] == [] and ac["limits_hold"]
    assert ac["max_voltage_diff_pu"] < 0.01
    assert_untouched(net, before)
