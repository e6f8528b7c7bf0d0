"""A gen whose q limits are enforced (``enforce_q_lims``): pandapower's runpp holds its set-point
while q is inside the limits and leaves it only at a limit; the model holds the convex hull of
that characteristic (:func:`feederopt.formulations.distflow.pv_hull_rows`), in which the
optimiser moves the voltage off the set-point with q inside the limits (user test ut36_real #4:
81.614 kW in the model, 81.894 kW by runpp, 4.5e-4 p.u.). Until the model is exact there, the
result says so in a note naming the gen (it said nothing). Truth: pp.runpp on the result's
topology with the net's user_pf_options (enforce_q_lims)."""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt

CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"


def feeder(q_limit: float, enforce: bool = True):
    """Two feeders from bus 0 joined by an open tie 4-3; a 1 MW gen at bus 2 holding 1.0 p.u.
    with q limits +-q_limit Mvar."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(5)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for i, j, closed in ((0, 1, True), (1, 2, True), (2, 3, True), (0, 4, True), (4, 3, False)):
        ln = pp.create_line(net, b[i], b[j], 4.0, CABLE)
        pp.create_switch(net, b[i], ln, "l", closed=closed)
    pp.create_load(net, b[3], 2.0, 0.8)
    pp.create_load(net, b[4], 1.0, 0.3)
    pp.create_gen(net, b[2], p_mw=1.0, vm_pu=1.0, min_q_mvar=-q_limit, max_q_mvar=q_limit)
    if enforce:
        pp.set_user_pf_options(net, enforce_q_lims=True)
    return net


def _truth(net, res):
    """pp.runpp (the net's enforce_q_lims) at the result's switch states: the gen's q and
    its bus voltage, and the losses [kW]."""
    n = feeder(float(net.gen.max_q_mvar.at[0]))
    open_lines = {int(r["id"].split(":")[1]) for r in res.open_branches}
    for k in n.switch.index:
        n.switch.at[k, "closed"] = int(n.switch.element.at[k]) not in open_lines
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(n)
    return (float(n.res_gen.q_mvar.at[0]), float(n.res_bus.vm_pu.at[2]),
            float(n.res_line.pl_mw.sum()) * 1000)


def _notes(res) -> list[str]:
    return [n for n in res.extra.get("notes", []) if "enforced q limits" in n]


@pytest.mark.parametrize("q_limit", [3.0, 1.0])
def test_a_model_off_the_gens_characteristic_is_named(q_limit):
    """q_limit 3: runpp holds the set-point (q inside the limits); q_limit 1: runpp puts the gen
    at its upper limit below the set-point. In both the model's gen sits inside its limits off
    the set-point, and the losses differ: a note names gen:0 and its bus."""
    net = feeder(q_limit)
    res = feederopt.solve(net, time_limit=30)
    q, vm, losses = _truth(net, res)
    if q_limit == 3.0:  # the set-point is reachable
        assert abs(q) < q_limit - 0.1 and vm == pytest.approx(1.0, abs=1e-9)
    else:
        assert q == pytest.approx(q_limit, abs=1e-9) and vm < 1.0 - 1e-4
    model_vm = float(res.buses.filter(res.buses["id"] == "2")["vm_pu"][0])
    assert abs(model_vm - vm) > 1e-3  # the model is off the truth ...
    assert abs(res.losses_kw - losses) > 0.01 * losses
    assert res.ac_check.losses_kw == pytest.approx(losses, rel=1e-6)  # ... the AC check is not
    (note,) = _notes(res)
    assert "gen:0 at bus 2" in note and "set-point 1.0000" in note


def test_a_gen_without_enforced_limits_gives_no_note():
    """Held at its set-point whatever its q (pandapower's default): the model is exact."""
    net = feeder(1.0, enforce=False)
    res = feederopt.solve(net, time_limit=30)
    assert not _notes(res)
    assert res.losses_kw == pytest.approx(res.ac_check.losses_kw, rel=1e-4)
