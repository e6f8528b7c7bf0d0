"""The DOPF slave keeps a switched-off device at zero output, whatever its big-M (dopfdev).

:class:`~feederopt.algorithms.dopf.DopfSlave` fixed the device binaries ``cap``, ``tap`` and
``on`` by copy rows ``z = z_hat`` and kept them in their big-M rows: a committable generator's
``lo on <= pg <= hi on`` (``M`` = its limits) and a bank's switched voltage ``vc <= hi cap``
(its injection ``step b_c vc``). Clarabel's residue on these rows scales with ``M``: on
pandapower's ``example_multivoltage`` with every generator committable, its gas turbine at
``p_max`` 10 GW (``M^P = 1e4`` p.u. on the 1 MVA base; ``M^Q = 25 892`` from its unlimited q)
and two 3-step banks of 200 Mvar per step, the slave's point (phase 1, "optimal") left the
turbine, switched off, producing 2.2e-5 p.u. and the banks, at step 0, injecting up to
6.5e-5 p.u. (``M^P = 1e6``: 3.9e-4 p.u.).

Truth: pandapower's power flow with the devices really off (out of service, step 0) puts their
output at exactly 0; and the slave's phase-1 value is convex in the relaxed binaries, so its cut
must lie below the value of every other setting (brute force over neighbouring settings).
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.algorithms.dopf import DopfEvaluation, DopfSlave
from feederopt.algorithms.slaves import OPEN_FLOW_TOL
from feederopt.api import decidable
from feederopt.formulations.devices import cap_options
from feederopt.network.devices import per_unit_devices
from feederopt.problems.dopf import DopfProblem

warnings.filterwarnings("ignore", message=".*numba.*")

BANK_BUSES = (30, 45)
BANK_MVAR = 200.0
TURBINE_P_MAX_MW = 1e4


def _pandapower(bank_step: int = 0, gens_in_service: bool = False) -> pp.pandapowerNet:
    net = pn.example_multivoltage()
    for bus in BANK_BUSES:
        pp.create_shunt(net, bus, q_mvar=-BANK_MVAR, p_mw=0.0, step=bank_step, max_step=3)
    net.shunt["controllable"] = True
    net.sgen["in_service"] = gens_in_service
    net.gen["in_service"] = gens_in_service
    return net


@cache
def _problem() -> DopfProblem:
    net = feederopt.load(_pandapower(gens_in_service=True)).with_limits(
        thermal_limits=False, v_min_pu=0.85, v_max_pu=1.1)
    g = net.generators
    turbine = pl.col("id") == "gen:0"
    g = g.with_columns(
        pl.col("id").cast(pl.Utf8).str.contains("gen").alias("committable"),
        pl.when(turbine).then(0.0).otherwise(pl.col("p_min_mw")).alias("p_min_mw"),
        pl.when(turbine).then(TURBINE_P_MAX_MW).otherwise(pl.col("p_max_mw")).alias("p_max_mw"))
    net = net.replace(generators=g)
    _, pu, _ = decidable(net)
    return DopfProblem(pu, per_unit_devices(net, pu))


@cache
def _slave() -> DopfSlave:
    return DopfSlave(_problem())


def _all_off() -> dict[str, np.ndarray]:
    problem = _problem()
    x = problem.base_setting()
    _bank, step = cap_options(problem.dev)
    x["cap"] = (step == 0).astype(float)
    x["on"] = np.zeros_like(x["on"])
    return x


def _outputs(ev: DopfEvaluation) -> tuple[np.ndarray, np.ndarray]:
    """The committable generators' |pg| + |qg| and the banks' injected |q| [p.u.]."""
    problem = _problem()
    dev = problem.dev
    gens = np.abs(ev.point["pg"][dev.gen_commit]) + np.abs(ev.point["qg"][dev.gen_commit])
    bank, step = cap_options(dev)
    on = np.flatnonzero(step > 0)
    q = np.zeros(dev.n_cap)
    np.add.at(q, bank[on], np.abs(step[on] * dev.cap_q[bank[on]] * ev.point["vcap"]))
    return gens, q


@pytest.fixture(scope="module")
def pandapower_off() -> tuple[np.ndarray, np.ndarray]:
    """pandapower's generator and bank outputs with the devices really off [p.u., 1 MVA]."""
    net = _pandapower(bank_step=0, gens_in_service=False)
    pp.runpp(net)
    gens = np.concatenate([np.abs(net.res_sgen.p_mw) + np.abs(net.res_sgen.q_mvar),
                           np.abs(net.res_gen.p_mw) + np.abs(net.res_gen.q_mvar)])
    banks = np.abs(net.res_shunt.q_mvar.to_numpy()[-len(BANK_BUSES):])
    return np.nan_to_num(gens) / net.sn_mva, banks / net.sn_mva


def test_devices_switched_off_produce_nothing_as_in_pandapower(
        pandapower_off: tuple[np.ndarray, np.ndarray]) -> None:
    pp_gens, pp_banks = pandapower_off
    assert np.all(pp_gens == 0) and np.all(pp_banks == 0)
    ev = _slave().evaluate(_all_off(), need_gradient=False)
    gens, banks = _outputs(ev)
    # before: the turbine 2.2e-5 p.u., the 200 Mvar banks at step 0 up to 6.5e-5 p.u.
    assert np.max(np.abs(gens - 0.0)) <= OPEN_FLOW_TOL
    assert np.max(np.abs(banks[-len(BANK_BUSES):] - pp_banks)) <= OPEN_FLOW_TOL
    assert np.max(banks) <= OPEN_FLOW_TOL


def test_the_device_cut_stays_below_the_neighbouring_settings() -> None:
    """The slave's cut at the all-off setting (phase 1: the least total slack, convex in the
    relaxed binaries) lies below the value at settings that switch one device on."""
    slave = _slave()
    x0 = _all_off()
    ev0 = slave.evaluate(x0)
    f0 = ev0.objective if ev0.feasible else ev0.violation
    problem = _problem()
    bank, step = cap_options(problem.dev)
    turbine_on = {**x0, "on": x0["on"].copy()}
    turbine_on["on"][-1] = 1.0
    bank_up = {**x0, "cap": x0["cap"].copy()}
    last = np.flatnonzero(bank == problem.dev.n_cap - 1)
    bank_up["cap"][last] = (step[last] == 1).astype(float)
    for x1 in (turbine_on, bank_up):
        ev1 = slave.evaluate(x1, need_gradient=False)
        if ev0.feasible:
            assert ev1.feasible
            f1 = ev1.objective
        else:
            f1 = 0.0 if ev1.feasible else ev1.violation
        cut = f0 + sum(float(ev0.gradient[g] @ (x1[g] - x0[g])) for g in slave.groups)
        assert cut <= f1 + 1e-4 * max(1.0, abs(f1))


def test_a_committable_generator_without_a_finite_p_max_is_refused() -> None:
    """Off a unit produces nothing by ``p <= p_max on``: an infinite ``p_max_mw`` reached the
    solvers as inf (cvxpy's ValueError "Problem data contains NaN or Inf", a traceback)."""
    from feederopt.errors import InputError

    net = feederopt.load(pn.example_multivoltage())
    turbine = pl.col("id") == "gen:0"
    net = net.replace(generators=net.generators.with_columns(
        turbine.alias("committable"),
        pl.when(turbine).then(float("inf")).otherwise(pl.col("p_max_mw")).alias("p_max_mw"),
        pl.when(turbine).then(0.0).otherwise(pl.col("p_min_mw")).alias("p_min_mw")))
    with pytest.raises(InputError, match=r"gen:0.*p_max_mw"):
        feederopt.solve(net, time_limit_s=5)
