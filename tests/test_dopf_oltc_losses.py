"""The reported model losses of a DOPF whose transformer OLTC moves (user test, pp/dev.json):
the transformer's iron losses act on ``v_f / n^2`` at the *chosen* ratio ``n``, not at the
data's. Reference: pandapower's Newton-Raphson power flow (``pp.runpp``) of the same net at
the chosen tap position and topology.
"""

from __future__ import annotations

import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network(name="oltc_iron")
    hv = pp.create_bus(net, 110, name="HV")
    mv = [pp.create_bus(net, 20, name=f"MV{i}", max_vm_pu=1.1, min_vm_pu=0.9)
          for i in range(4)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    t = pp.create_transformer(net, hv, mv[0], "25 MVA 110/20 kV", name="T1")
    net.trafo.loc[t, "tap_pos"] = -2  # the data's position; the optimum lies elsewhere
    net.trafo["oltc"] = True
    std = "NA2XS2Y 1x185 RM/25 12/20 kV"
    for a, b in [(0, 1), (1, 2), (2, 3)]:
        pp.create_line(net, mv[a], mv[b], 3.0, std)
    for i in (1, 2, 3):
        pp.create_load(net, mv[i], p_mw=2.0, q_mvar=0.6)
    return net


def test_model_losses_with_a_moved_oltc_equal_runpp() -> None:
    net = _net()
    result = feederopt.solve(from_pandapower(net), controls="taps", time_limit=60)
    d = result.to_dict()
    assert d["status"] == "optimal"
    oltc = next(x for x in d["devices"] if x["kind"] == "oltc")
    pos = -2 + oltc["position"]
    assert pos != -2  # the test needs a moved tap
    net.trafo.loc[0, "tap_pos"] = pos
    pp.runpp(net)
    truth = 1000 * (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
    assert net.res_trafo.pl_mw.sum() > 0.01  # iron losses are part of it
    assert d["costs"]["losses_kw"] == pytest.approx(truth, rel=1e-5)
    assert d["losses_kw"] == pytest.approx(truth, rel=1e-5)
    assert result.losses_kw == pytest.approx(truth, rel=1e-5)
