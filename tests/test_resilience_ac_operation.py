"""The AC check of a restoration runs the operation the model chose (user test ut_res,
findings 1 and 3), checked against the test's own ``pp.runpp`` of the user's net with that
operation applied by hand.

* Finding 1: in a backup-DG island the check put the network's generators and shunts back in
  service, so the DG's AC output (104 kW) had nothing to do with the model's (1,500 kW). Now the
  generators and shunts the model has off are out of service in the AC run.
* Finding 3: a broken line with a switch at one end only was opened by that switch and stayed
  charged from its other end. Now a broken line is out of service, both ends.
"""

from __future__ import annotations

from typing import Any

import pandapower as pp
import pytest

import feederopt
from feederopt.api_resilience import restore
from netbuild import planner_pandapower
from resilience_ops import operated


def own_run(net: pp.pandapowerNet, r: Any) -> tuple[pp.pandapowerNet, dict[str, int]]:
    """pandapower's power flow of ``r``'s operation, applied by hand to a copy of ``net``:
    :func:`resilience_ops.operated` (broken lines, switches, shed loads), and the sgens and
    shunts at the buses the model disconnects out of service; each producing DG in an island
    an ext_grid at the model's voltage there. Returns the net and the ext_grid index per DG bus."""
    own = operated(net, r)
    op = r.operation
    # (getattr: a result from before these fields had nothing off, and the old check ran so)
    gens_off = getattr(op, "island_generators_off", [])
    shunts_off = getattr(op, "island_shunts_off", [])
    for k in own.sgen.index:
        if str(int(own.sgen.at[k, "bus"])) in gens_off:
            own.sgen.at[k, "in_service"] = False
    for k in own.shunt.index:
        if str(int(own.shunt.at[k, "bus"])) in shunts_off:
            own.shunt.at[k, "in_service"] = False
    dg = {bus: int(pp.create_ext_grid(own, int(bus), vm_pu=op.voltage_pu[bus]))
          for bus in op.dg_output_kw}
    pp.runpp(own, numba=False, calculate_voltage_angles=True, tolerance_mva=1e-9)
    return own, dg


def island_line_losses_kw(own: pp.pandapowerNet) -> float:
    """The AC losses of the in-service lines (here every one is in the DG's island: LA1 and
    LB1 are broken, so the source feeds only the transformer)."""
    return 1e3 * float(own.res_line.pl_mw[own.line.in_service].sum())


def check_island(net: pp.pandapowerNet, r: Any) -> None:
    own, dg = own_run(net, r)
    ac = r.ac_check
    assert ac is not None and ac["converged"]
    for bus, idx in dg.items():
        ac_kw = 1e3 * float(own.res_ext_grid.at[idx, "p_mw"])
        assert ac["dg_island_kw"][bus] == pytest.approx(ac_kw, abs=1e-3)
        # P balance of the island: AC = the model's (lossless) output plus the AC losses
        assert ac_kw - island_line_losses_kw(own) == pytest.approx(
            r.operation.dg_output_kw[bus], abs=1e-3)
    live = own.res_bus.vm_pu.dropna()
    assert ac["min_voltage_pu"] == pytest.approx(float(live.min()), abs=1e-6)
    assert ac["max_voltage_pu"] == pytest.approx(float(live.max()), abs=1e-6)


def test_ut_res_repro_island_dg_runs_the_models_operation() -> None:
    """ut_res finding 1's repro: LA1 and LB1 broken, a 1500-kW DG at A6 (bus 7); the model
    keeps the PV and wind and switches the capacitor at A5 off."""
    net = planner_pandapower()
    r = restore(feederopt.load(net), ["line:0", "line:6"], dg_sites=["7"], dg_p_max_kw=1500)
    check_island(net, r)
    assert r.operation.island_shunts_off == ["6"]


def test_generators_the_model_disconnects_are_out_of_service_in_ac() -> None:
    """A 12-MW PV at B5 exceeds every load of the net (10.35 MW), and a DG absorbs no P: the
    model must disconnect it; the AC run must then leave it out too (the old check injected
    its 12 MW). The DG stands at the PV's bus B5 (12), so the PV is in the DG's island: with
    the DG at A6 (7) the model may as well leave B5 de-energised at the same shed (a tie the
    rating polygon (5d') made HiGHS break the other way), and the test would not reach the
    island case."""
    net = planner_pandapower(pv_mw=12.0)
    r = restore(feederopt.load(net), ["line:0", "line:6"], dg_sites=["12"], dg_p_max_kw=1500)
    assert r.operation.dg_output_kw["12"] > 0.0
    check_island(net, r)
    assert "12" in r.operation.island_generators_off


def test_broken_lines_are_out_of_service_at_both_ends() -> None:
    """ut_res finding 3: LA4 (line 3, a switch at A3 only) and LB2 (line 7, no switch) broken;
    the model closes both ties. The test's own run has both lines out of service."""
    net = planner_pandapower()
    r = restore(feederopt.load(net), ["line:3", "line:7"])
    assert r.shed_kw == pytest.approx(0.0, abs=1e-6)
    assert {"line:12", "line:13"} <= set(r.operation.closed_lines)
    own, _ = own_run(net, r)
    assert not own.line.in_service[3] and not own.line.in_service[7]
    live = own.res_bus.vm_pu.dropna()
    ac = r.ac_check
    assert ac is not None
    assert ac["min_voltage_pu"] == pytest.approx(float(live.min()), abs=1e-6)
    assert ac["max_voltage_pu"] == pytest.approx(float(live.max()), abs=1e-6)
    losses_kw = 1e3 * float(own.res_line.pl_mw.sum() + own.res_trafo.pl_mw.sum())
    assert ac["losses_kw"] == pytest.approx(losses_kw, abs=1e-3)
    # the switching lists the ties only: nothing that merely isolates a broken line
    assert {w["branch"] for w in r.switching} == {"line:12", "line:13"}
