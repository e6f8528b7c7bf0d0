"""The model's columns of branches.parquet against pandapower (user test ut_io #4): the series
current of a branch without resistance (a bus coupler) was ``sqrt(l)``, which nothing presses
down there (28 times the true current); and the open branches' charging losses stay in the
AC check of a network that is not a pandapower net (as pandapower's ``pl_mw`` has them)."""

from __future__ import annotations

import math

import pandapower as pp
import pytest

import feederopt


def _coupled() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    pp.create_line_from_parameters(net, b[0], b[1], 3.0, 0.2, 0.35, 200, 0.4)
    pp.create_switch(net, b[1], b[2], et="b", closed=True)  # the coupler
    pp.create_line_from_parameters(net, b[2], b[3], 2.0, 0.2, 0.35, 200, 0.4)
    tie = pp.create_line_from_parameters(net, b[0], b[3], 4.0, 0.2, 0.35, 200, 0.4)
    pp.create_switch(net, b[0], tie, et="l", closed=False)
    pp.create_load(net, b[2], p_mw=1.5, q_mvar=0.5)
    pp.create_load(net, b[3], p_mw=1.0, q_mvar=0.3)
    return net


def test_a_couplers_current_is_the_power_through_it() -> None:
    net = _coupled()
    result = feederopt.solve(net, time_limit=60)
    out = result.to_pandapower(net)
    pp.runpp(out)
    row = result.branches.filter(result.branches["id"] == "switch:0").row(0, named=True)
    assert row["closed"]
    # the coupler carries what line 0 delivers into bus 1 (which has nothing else)
    p = -float(out.res_line.at[0, "p_to_mw"])
    q = -float(out.res_line.at[0, "q_to_mvar"])
    v = float(out.res_bus.at[1, "vm_pu"])
    true_ka = math.hypot(p, q) / (math.sqrt(3.0) * 20 * v)
    assert row["i_ka"] == pytest.approx(true_ka, rel=1e-3)


def test_open_branch_charging_counts_in_a_folders_ac_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from feederopt.io import write_folder

    net = _coupled()
    pp.runpp(net)
    pp_kw = float(net.res_line.pl_mw.sum()) * 1e3  # the open tie's charging included
    assert float(net.res_line.at[2, "pl_mw"]) != 0.0
    folder = write_folder(feederopt.load(net), tmp_path / "tables")
    from feederopt.validation.ac import ac_power_flow

    ac = ac_power_flow(feederopt.load(folder))
    assert ac.losses_kw == pytest.approx(pp_kw, rel=1e-6)
