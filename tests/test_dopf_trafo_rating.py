"""A transformer OLTC's rating holds on both windings at every tap position (user test
ut33_dopf #1).

The series current of the model is the lv winding's; the hv winding carries it divided by the
off-nominal ratio ``n``, so at ``n < 1`` the hv side is the more loaded one. The DOPF held the
rating of the data's position only (tap_pos 0: the lv current), so that tap_pos -4 (n 0.94)
ran the user's 13 MVA trafo at 103.84 % on the hv side while the answer said 97.61 %, and the
AC check referred the hv current to the rating by the moved ratio instead of the rated one.

Reference: pandapower's ``runpp`` on the user's own net (``result.to_pandapower``), its
``res_trafo.loading_percent`` (the larger of ``i_hv vn_hv_kv`` and ``i_lv vn_lv_kv`` times
``sqrt(3) / sn_mva``), and a brute force over the eleven tap positions by ``runpp``.

The grid: 110/20 kV trafo (hv-side Ratio changer -5..5 at 1.5 %), a fixed 3 MVAr reactor on
the 20 kV busbar and a 6 MW load 4 km down a cable. The reactor absorbs more at a higher lv
voltage, so the lower the ratio (the less loss), the more the hv winding carries.
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.algorithms.dopf import solve_dopf_misocp
from feederopt.network.devices import per_unit_devices
from feederopt.network.perunit import to_per_unit
from feederopt.problems.dopf import DopfProblem
from oltc_feeder import oltc_feeder, runpp_quiet


def _net(sn_mva: float) -> pp.pandapowerNet:
    return oltc_feeder(sn_mva=sn_mva, length_km=4.0, p_mw=6.0, q_mvar=1.8, shunt_q_mvar=3.0)


def _brute_force(sn_mva: float) -> dict[int, tuple[float, float, bool]]:
    """Per tap_pos: runpp's losses [kW], trafo loading [%] and whether every limit holds."""
    net = _net(sn_mva)
    out = {}
    for pos in range(-5, 6):
        net.trafo.at[0, "tap_pos"] = pos
        runpp_quiet(net)
        vm = net.res_bus.vm_pu.to_numpy()[1:]
        loading = float(net.res_trafo.loading_percent.iloc[0])
        ok = bool(np.all(vm >= 0.95 - 1e-9) and np.all(vm <= 1.07 + 1e-9)
                  and loading <= 100.0 and net.res_line.loading_percent.max() <= 100.0)
        losses = 1000 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
        out[pos] = (losses, loading, ok)
    return out


def test_the_hv_winding_rating_binds_at_a_low_ratio() -> None:
    sn = 8.28
    brute = _brute_force(sn)
    feasible = {p: v[0] for p, v in brute.items() if v[2]}
    best = min(feasible, key=feasible.__getitem__)
    # The case bites: the least-loss position breaks the hv rating alone.
    assert best == -3 and brute[-5][1] > 100.5 and not brute[-5][2]
    pp_net = _net(sn)
    net = feederopt.load(pp_net)
    result = feederopt.solve(net, time_limit=60)
    d = result.to_dict()
    assert d["status"] == "optimal"
    oltc = next(x for x in d["devices"] if x["kind"] == "oltc")
    assert oltc["tap_pos"] == best
    assert d["costs"]["losses_kw"] == pytest.approx(brute[best][0], rel=1e-4)
    # The AC check's loading is pandapower's own on the user's net with the setting.
    check = runpp_quiet(result.to_pandapower(pp_net))
    row = result.branches.filter(result.branches["id"] == "trafo:0").row(0, named=True)
    assert row["loading_ac_percent"] == pytest.approx(
        float(check.res_trafo.loading_percent.iloc[0]), rel=1e-6)
    assert result.ac_check.within_limits
    # The monolithic MISOCP on SCIP (the same rows) agrees.
    pu = to_per_unit(net)
    scip = solve_dopf_misocp(DopfProblem(pu, per_unit_devices(net, pu)))
    assert scip.status.value == "optimal"
    assert scip.objective == pytest.approx(d["objective"], rel=1e-4)


def test_the_ac_check_reports_pandapowers_loading_at_a_moved_tap() -> None:
    # A rating that does not bind: the lowest ratio is the answer, and the AC check's loading
    # of the trafo is pandapower's (it read 37.98 % for pandapower's 41.06 %: the hv current
    # referred to the rating by the moved ratio 0.925 instead of the rated 1).
    pp_net = _net(20.0)
    result = feederopt.solve(feederopt.load(pp_net), time_limit=60)
    oltc = next(x for x in result.dopf.devices if x["kind"] == "oltc")
    assert oltc["tap_pos"] == -5
    check = runpp_quiet(result.to_pandapower(pp_net))
    expected = float(check.res_trafo.loading_percent.iloc[0])
    row = result.branches.filter(result.branches["id"] == "trafo:0").row(0, named=True)
    assert row["loading_ac_percent"] == pytest.approx(expected, rel=1e-6)
    assert result.ac_check.max_loading_percent == pytest.approx(expected, rel=1e-6)
    assert result.ac_check.max_loading_element == "trafo:0"
