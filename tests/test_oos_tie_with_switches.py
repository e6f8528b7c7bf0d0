"""A tie stored as an out-of-service line that has (closed) switches, read with
``ties="out_of_service"`` (user test ut48): closed by the answer, it must be in service in
every net written from the answer (the AC check, ``write_switch_states``/net.json,
``to_pandapower``). Truth: pandapower's own power flow of the user's net edited by hand."""

from __future__ import annotations

import numpy as np
import pytest

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")

from feederopt.io.pandapower import (  # noqa: E402
    from_pandapower,
    to_pandapower,
    write_switch_states,
)
from feederopt.network.perunit import to_per_unit  # noqa: E402
from feederopt.validation.ac_limits import ac_unsupplied  # noqa: E402


def _net() -> object:
    """example_simple() with line 3 (bus 6-4, switches 6 and 7 closed) out of service: the
    only feed of bus 6 (1.2 MW)."""
    net = pn.example_simple()
    net.line.loc[3, "in_service"] = False
    assert net.switch.loc[[6, 7], "closed"].all() and set(net.switch.loc[[6, 7], "element"]) == {3}
    return net


def _hand_truth() -> tuple[np.ndarray, float]:
    """runpp of the user's net with line 2 out and line 3 put in service by hand."""
    net = _net()
    net.line.loc[2, "in_service"] = False
    net.line.loc[3, "in_service"] = True
    pp.runpp(net)
    return net.res_bus.vm_pu.to_numpy(), float(net.res_line.pl_mw.sum()
                                               + net.res_trafo.pl_mw.sum()) * 1e3


def _answer(network: object) -> dict[str, bool]:
    ids = network.branches.filter(network.branches["in_service"])["id"].to_list()
    return {b: b != "line:2" for b in ids}


def test_written_net_puts_the_closed_tie_in_service() -> None:
    net = _net()
    network = from_pandapower(net, ties="out_of_service")
    out = write_switch_states(net, network, _answer(network))
    assert bool(out.line.at[3, "in_service"])
    assert out.switch.loc[[6, 7], "closed"].all()
    pp.runpp(out)
    vm, losses = _hand_truth()
    got = out.res_bus.vm_pu.to_numpy()
    assert np.isfinite(got).all() and np.isfinite(vm).all()  # bus 6 supplied
    np.testing.assert_allclose(got, vm, atol=1e-4)
    # line 2 is opened by a switch here (charged from one end) and out of service by hand
    assert abs(float(out.res_line.pl_mw.sum() + out.res_trafo.pl_mw.sum()) * 1e3
               - losses) < 0.1
    assert not bool(net.line.at[3, "in_service"])  # the user's net is not changed


def test_open_out_of_service_tie_stays_as_the_user_has_it() -> None:
    net = _net()
    network = from_pandapower(net, ties="out_of_service")
    live = network.branches.filter(network.branches["in_service"])
    base = dict(zip(live["id"].to_list(), (~live["normally_open"]).to_list(), strict=True))
    assert base["line:3"] is False  # the base case keeps the tie open
    out = write_switch_states(net, network, base)
    assert not bool(out.line.at[3, "in_service"])
    assert out.switch["closed"].astype(bool).tolist() == net.switch["closed"].astype(bool).tolist()


def test_to_pandapower_supplies_every_bus() -> None:
    network = from_pandapower(_net(), ties="out_of_service")
    out = to_pandapower(network, _answer(network))
    pp.runpp(out)
    assert np.isfinite(out.res_bus.vm_pu.to_numpy()).all()


def test_ac_check_of_answer_supplies_bus_6() -> None:
    import feederopt

    network = feederopt.load(_net(), ties="out_of_service")
    result = feederopt.solve(network, hold_open="line:2", time_limit=20)
    assert result.closed["line:3"] is True
    vm, losses = _hand_truth()
    assert result.ac_check.within_limits is True
    assert abs(result.ac_check.losses_kw - losses) < 0.1
    assert np.isfinite(result.ac_check.min_voltage_pu)
    assert result.ac_check.min_voltage_pu == pytest.approx(vm.min(), abs=1e-4)


def test_nan_bus_connected_by_the_answer_is_unsupplied() -> None:
    """pandapower's power flow of the net as the unfixed writer left it (line 3 out of
    service) gives bus 6 NaN; the answer (line 3 closed) connects it: not within limits."""
    net = _net()
    net.line.loc[2, "in_service"] = False
    pp.runpp(net)
    vm = net.res_bus.vm_pu.to_numpy()
    assert np.isnan(vm[6])
    network = from_pandapower(_net(), ties="out_of_service")
    pu = to_per_unit(network)
    closed = np.array([b != "line:2" for b in pu.branch_ids])
    order = [int(b) for b in pu.bus_ids]
    assert ac_unsupplied(pu, closed, vm[order]) == ["6"]
    # the answer that leaves line 3 open does not connect bus 6: nothing to flag there
    left = np.array([b not in ("line:2", "line:3") for b in pu.branch_ids])
    assert ac_unsupplied(pu, left, vm[order]) == []


def test_closed_switches_do_not_operate_the_out_of_service_tie() -> None:
    """Switches 6 and 7 of line 3 are closed in the user's net: closing the tie is putting it
    in service, no switch operation (as a tie without a switch, operated_by null)."""
    net = _net()
    network = from_pandapower(net, ties="out_of_service")
    assert "line:3" not in network.meta["operated_by"]
    assert "line:3" not in network.meta["operated_by_switches"]
    assert network.meta["operated_by_switches"]["line:2"]  # line 2 is opened by a switch
