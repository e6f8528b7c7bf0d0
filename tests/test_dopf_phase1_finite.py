"""The DOPF slave's phase 1 always gives a finite violation, or a typed failure (p1inf).

Phase 1 of :class:`~feederopt.algorithms.dopf.DopfSlave` has slack on every balance row and on
the voltage and current limits, so it always has a solution. On pandapower's
``example_multivoltage`` with every generator committable (the stress case of
``test_dopf_device_off_slave``) and a 3-step 200 Mvar bank at bus 30 at its largest step,
Clarabel ended it "optimal_inaccurate" with the bank at bus 45, at step 0, injecting 2.6e-5
p.u. (its switched voltage held by ``(1 - cap) vc <= 0`` next to ``vc >= 0``: an equality
without interior) or with a solver error; the slave's guard refused the point and the slave
recorded the violation ``inf``: a feasibility cut with an infinite right-hand side and a
no-good cut (on 202 of 450 random device settings of that grid).

Truth: pandapower's AC power flow with the same devices converges; its voltages, with the
loads served (no balance slack), are a point of the phase-1 SOCP (the branch-flow equations
hold with their cones tight), so the least total slack is at most their voltage-limit slack
``sum max(0, v_min^2 - |V|^2) + max(0, |V|^2 - v_max^2)`` over the buses a band binds.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandapower as pp
import pytest

from feederopt.algorithms.dopf import DopfSlave
from feederopt.algorithms.slaves import SlaveFailure
from feederopt.formulations.devices import cap_options
from feederopt.formulations.distflow import effective_ratings
from feederopt.problems.reconfiguration import FEASIBILITY_TOL
from test_dopf_device_off_slave import BANK_BUSES, _pandapower, _problem

warnings.filterwarnings("ignore", message=".*numba.*")

#: Committable units in the slave's order (sgen:0..10, gen:0): sgen:3 and sgen:6..10 off.
ON = (1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1)
#: Steps of the banks at buses 32 (the grid's own), 30 and 45.
STEPS = (0, 3, 0)


def _setting() -> dict[str, np.ndarray]:
    problem = _problem()
    x = problem.base_setting()
    bank, step = cap_options(problem.dev)
    x["cap"] = (step == np.asarray(STEPS)[bank]).astype(float)
    x["on"] = np.asarray(ON, float)
    return x


def _ac_voltage_slack() -> float:
    """The voltage-limit slack of pandapower's power flow with the setting's devices."""
    net = _pandapower()
    assert list(net.shunt.bus) == [32, *BANK_BUSES]
    net.shunt["step"] = list(STEPS)
    net.sgen["in_service"] = np.asarray(ON[:11], bool)
    net.gen["in_service"] = bool(ON[11])
    pp.runpp(net)  # raises when it does not converge
    pu = _problem().pu
    # the internal buses: a three-winding transformer's star point, an xward's behind x
    vm = [float(net[f"res_{b.split(':')[0]}"].vm_internal_pu.at[int(b.split(":")[1])])
          if ":" in b else float(net.res_bus.vm_pu.at[int(b)]) for b in pu.bus_ids]
    vm2 = np.asarray(vm) ** 2
    banded = pu.banded()
    return float(np.sum(np.clip(pu.v_min[banded] ** 2 - vm2[banded], 0, None))
                 + np.sum(np.clip(vm2[banded] - pu.v_max[banded] ** 2, 0, None)))


def test_phase1_gives_a_finite_violation_below_the_ac_power_flows() -> None:
    problem = _problem()
    assert not len(effective_ratings(problem.pu)[0])  # no current limit: no current slack
    bound = _ac_voltage_slack()
    ev = DopfSlave(problem).evaluate(_setting())
    # before: violation inf (phase 1 refused: a bank at step 0 carried 2.6e-5 p.u.)
    assert ev.feasible or math.isfinite(ev.violation)
    if not ev.feasible:
        assert FEASIBILITY_TOL < ev.violation <= bound * (1 + 1e-4) + 1e-6
        assert all(np.all(np.isfinite(g)) for g in ev.gradient.values())


def test_a_phase1_the_solver_cannot_solve_is_a_typed_failure(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No solve that says neither solved nor infeasible becomes a violation: before, a
    Clarabel error gave ``inf`` or the previous setting's value."""
    from feederopt.solvers import cvxpy_backend

    slave = DopfSlave(_problem())

    def fail(self: cvxpy_backend.CvxpyModel, solver: str = "CLARABEL",
             **kwargs: object) -> cvxpy_backend.ConicSolution:
        return cvxpy_backend.ConicSolution("solver_error: stub", math.nan, 0.0, 0.0)

    monkeypatch.setattr(cvxpy_backend.CvxpyModel, "solve", fail)
    with pytest.raises(SlaveFailure, match=r"phase 1 failed.*bank steps 0, 3, 0.*sgen:3"):
        slave.evaluate(_setting())


def test_a_solver_error_leaves_no_value_of_an_earlier_solve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """cvxpy keeps ``problem.value`` of the previous solve when the solver fails: a phase 1 of
    the stress case that ended in a Clarabel error returned 1.51887, the value of the setting
    solved before it, which the DOPF slave took as the violation."""
    import cvxpy as cp

    from feederopt.formulations.blocks import Block, Group
    from feederopt.solvers.cvxpy_backend import CvxpyModel

    block = Block()
    block.add_group(Group.new("x", 1, 1.0, 2.0))
    block.add_objective("x", np.ones(1))
    model = CvxpyModel(block, integer=False)
    assert model.solve().objective == pytest.approx(1.0)  # min x, 1 <= x <= 2 (by hand)

    def error(*args: object, **kwargs: object) -> None:
        raise cp.SolverError("stub")

    monkeypatch.setattr(model.problem, "solve", error)
    sol = model.solve()
    assert sol.status.startswith("solver_error") and math.isnan(sol.objective)
