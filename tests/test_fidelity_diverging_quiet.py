"""The model's bus-injection power flow on a grid where its fixed-point iteration diverges
(CIGRE's HV benchmark: meshed, 1474 MW of load, three PV generators) says "did not converge"
quietly: numpy's overflow and invalid-value warnings used to reach the console of
``feederopt info`` (``RuntimeWarning: invalid value encountered in multiply``; on MATPOWER's
case39 ``overflow encountered in add``)."""

from __future__ import annotations

import copy
import warnings

import pandapower as pp
import pandapower.networks as pn
import pytest

from feederopt.io import from_pandapower
from feederopt.network.perunit import to_per_unit
from feederopt.validation.fidelity import bus_injection_flow


@pytest.mark.parametrize("make", [pn.create_cigre_network_hv, pn.case39],
                         ids=["cigre_hv", "case39"])
def test_diverging_iteration_raises_no_numpy_warning(make):
    net = make()
    pu = to_per_unit(from_pandapower(copy.deepcopy(net)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would raise here
        flow = bus_injection_flow(pu, pu.initial_closed())
    ref = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(ref)
    if flow is not None:  # a converged answer must be pandapower's
        pp_kw = float(ref.res_line.pl_mw.sum() + ref.res_trafo.pl_mw.sum()) * 1e3
        assert flow[0] * pu.s_base_mva * 1e3 == pytest.approx(pp_kw, rel=1e-3)
