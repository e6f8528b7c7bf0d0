"""A least-violating answer whose candidates' AC power flows all fail to converge was reported
as "the relaxation's least-violating topology is also the least violating in AC among 2
candidate topologies ...: - (AC losses -)": a comparison that never happened (user test
ut47_ppgrid #3: cigre MV with pv_wind plus an impedance from bus 13 to bus 8). The console
now says that no candidate's AC power flow converged, and the AC check keeps the model's
words on what "least" measures."""

from __future__ import annotations

import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.validation.ac_least import LEAST_IN_AC


def _cigre_with_impedance() -> pp.pandapowerNet:
    net = pn.create_cigre_network_mv(with_der="pv_wind")
    pp.create_impedance(net, 13, 8, rft_pu=0.01, xft_pu=0.02, sn_mva=10, rtf_pu=0.01,
                        xtf_pu=0.02)
    return net


def test_no_converged_candidate_is_no_ac_comparison() -> None:
    net = _cigre_with_impedance()
    result = feederopt.solve(net, time_limit=30)
    rec = result.extra.get("least_violating_ac")
    assert rec is not None and rec["evaluated"] >= 2
    # the truth: pandapower's own power flow of the answer does not converge
    with pytest.raises(pp.LoadflowNotConverged):
        pp.runpp(result.to_pandapower(net))
    assert all(c["violation_total"] is None for c in rec["candidates"])
    text = feederopt.least_violating_ac_text(rec)
    assert text is not None
    assert "no candidate's AC power flow converged" in text
    assert "also the least violating" not in text and "chosen in AC among" not in text
    assert result.ac_check is not None
    assert not any(LEAST_IN_AC in w for w in result.ac_check.warnings)
