"""The DOPF slave keeps open branches empty, whatever the big-M (session 37, dopfbigm).

:class:`~feederopt.algorithms.dopf.DopfSlave` fixed the switch states ``y`` by a copy row
``y = y_hat`` and kept the big-M rows ``|P| <= M^P y``, ``|Q| <= M^Q y``, ``l <= M^l y`` of the
switchable branches (the exposure fixed for the reconfiguration slave in
``test_open_branch_slave.py``). On pandapower's ``example_multivoltage`` with its static
generators committable (a DOPF), ``v_min = 0.85`` and no ratings, Benders returned "optimal"
4268.2 kW at the topology :data:`OPEN` with ``l = 0.118`` p.u. on the open switch 6 in the
slave's point, where pandapower's AC power flow (every generator on) breaks ``v_min``.

Truth: pandapower's Newton-Raphson power flow at that topology.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.algorithms.dopf import DopfSlave
from feederopt.algorithms.slaves import OPEN_FLOW_TOL
from feederopt.api import decidable
from feederopt.network.devices import per_unit_devices
from feederopt.problems.dopf import DopfProblem

sys.path.insert(0, str(Path(__file__).parent))
from test_open_branch_slave import _set_in_pandapower

#: The open branches of the setting that DOPF Benders returned as "optimal" (4268.2 kW).
OPEN = ["line:1", "line:4", "line:9", "switch:1", "switch:2", "switch:6", "switch:8",
        "switch:30"]


def _problem(v_min: float) -> DopfProblem:
    net = feederopt.load(pn.example_multivoltage()).with_limits(
        thermal_limits=False, v_min_pu=v_min, v_max_pu=1.1)
    g = net.generators
    g = g.with_columns(pl.col("id").cast(pl.Utf8).str.starts_with("sgen").alias("committable"))
    net = net.replace(generators=g)
    _, pu, _ = decidable(net)
    return DopfProblem(pu, per_unit_devices(net, pu))


@pytest.fixture(scope="module")
def ac_v_low() -> float:
    """pandapower's lowest bus voltage at :data:`OPEN`, every generator on (p.u.)."""
    pu = _problem(0.85).pu
    net = pn.example_multivoltage()
    for bid, switchable in zip(pu.branch_ids, pu.switchable, strict=True):
        if switchable:
            _set_in_pandapower(net, bid, bid not in OPEN)
    pp.runpp(net)
    return float(net.res_bus.vm_pu.min())


def _evaluate(v_min: float):
    problem = _problem(v_min)
    slave = DopfSlave(problem)
    x = problem.base_setting()
    x["on"] = np.ones_like(x["on"])
    ids = problem.pu.branch_ids
    assert set(OPEN) <= set(ids)
    x["y"] = np.array([0.0 if b in OPEN else 1.0 for b in ids])
    return slave.evaluate(x, need_gradient=False), x["y"] < 0.5


def test_the_dopf_slave_keeps_open_branches_empty_and_matches_pandapower(
        ac_v_low: float) -> None:
    assert ac_v_low < 0.85
    got, opened = _evaluate(0.85)
    for group in ("P", "Q", "l"):  # before: l = 0.118 p.u. on switch 6
        assert np.abs(got.point[group][opened]).max() <= OPEN_FLOW_TOL
    assert not got.feasible  # before: "feasible", 4268.2 kW
