"""The DOPF's costs against pandapower's ``runopp``: the shared check of the DOPF cost tests
on pandapower nets (tests/netbuild.py's ``star4_pandapower`` and its kin)."""

from __future__ import annotations

from typing import Any

import pytest

import feederopt
from feederopt.network import Network
from feederopt.options import MIN_LOSS_PRICE_PER_MWH, Method
from feederopt.results.result import Result

#: ``runopp``'s interior-point tolerances tightened, so that its ``res_cost`` is the optimum
#: to far better than the tests' 1e-6 relative.
TIGHT = {"OPF_VIOLATION": 1e-10, "PDIPM_COSTTOL": 1e-10, "PDIPM_GRADTOL": 1e-10,
         "PDIPM_COMPTOL": 1e-10, "PDIPM_FEASTOL": 1e-10}


def dopf_at_runopps_cost(network: Network, runopp: Any, method: Method | str = Method.BENDERS,
                         unit_id: str = "sgen:0") -> tuple[Result, dict[str, Any]]:
    """Solve ``network`` with ``method`` (30 s) at the least loss price
    (``MIN_LOSS_PRICE_PER_MWH``, which moves the DOPF's optimum by far less than the
    tolerance) and check it against the solved pandapower net ``runopp``: the run is optimal
    with a DOPF, whose generation and import costs per hour, ``dg_per_h + import_per_h``, are
    ``runopp``'s ``res_cost`` to 1e-6 relative. Returns the result and the DOPF's device
    ``unit_id``."""
    result = feederopt.solve(network, time_limit=30, method=method,
                             loss_price_per_mwh=MIN_LOSS_PRICE_PER_MWH)
    assert result.status.value == "optimal" and result.dopf is not None
    costs = result.dopf.costs
    assert costs["dg_per_h"] + costs["import_per_h"] == pytest.approx(
        float(runopp.res_cost), rel=1e-6)
    (unit,) = [d for d in result.dopf.devices if d["id"] == unit_id]
    return result, unit
