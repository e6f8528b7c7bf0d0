"""An open branch carries nothing in the slave, whatever its big-M (session 37, mvbigm).

The slave fixes the switch states ``y`` by a copy row ``y = y_hat`` whose dual is the Benders
gradient. It kept the big-M rows ``|P| <= M^P y``, ``|Q| <= M^Q y``, ``l <= M^l y`` of the
switchable branches, and on pandapower's ``example_multivoltage`` (unlimited-q generators next
to 110 kV lines of 5e-4 p.u.: ``M^Q = 36 446`` p.u.) Clarabel ended at ``y = 7.2e-4`` on the
open switch 21, which then carried 26.1 p.u. of q: the slave priced a meshed grid and called a
topology "feasible" at 5189 kW that pandapower's AC power flow puts at 0.8440 p.u. on bus 54,
below ``v_min = 0.85`` (Benders: "optimal" 5189 kW, or 6025 kW without ``v_max``).

Truth: pandapower's Newton-Raphson power flow at that topology (test 1); the value function of
the unchanged big-M slave, which every Benders gradient must be a subgradient of (test 2).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.algorithms.slaves import (
    OPEN_FLOW_TOL,
    SlaveFailure,
    TopologyEvaluator,
    open_flow_status,
)
from feederopt.api import prepare
from feederopt.formulations.distflow import slack_objective
from feederopt.network import to_per_unit
from feederopt.network.topology import is_radial_forest
from feederopt.problems.reconfiguration import (
    Evaluation,
    RadialityModel,
    ReconfigurationProblem,
)
from feederopt.solvers.cvxpy_backend import ConicSolution, CvxpyModel

#: The open branches of the topology that Benders returned as "optimal" (5189 kW).
OPEN = ["line:11", "line:3", "line:4", "switch:21", "switch:3", "switch:4", "switch:7",
        "switch:8"]


def _set_in_pandapower(net: pp.pandapowerNet, bid: str, closed: bool) -> None:
    """Open or close a branch of the model by its id (``line:3``: its switches)."""
    kind, idx = bid.split(":")
    if kind == "switch":
        net.switch.at[int(idx), "closed"] = closed
        return
    et = {"line": "l", "trafo": "t"}[kind]
    switches = net.switch[(net.switch.et == et) & (net.switch.element == int(idx))].index
    if not len(switches):
        getattr(net, kind).at[int(idx), "in_service"] = closed
    elif closed:
        net.switch.loc[switches, "closed"] = True
    elif net.switch.loc[switches, "closed"].all():
        net.switch.at[switches[0], "closed"] = False


def _problem(v_min: float) -> ReconfigurationProblem:
    net = feederopt.load(pn.example_multivoltage()).with_limits(
        thermal_limits=False, v_min_pu=v_min, v_max_pu=1.1)
    return prepare(net, RadialityModel.PARENT_CHILD).problem


@pytest.fixture(scope="module")
def ac_truth() -> tuple[float, float]:
    """pandapower at the topology (the other switchable branches closed): (losses [kW],
    lowest bus voltage [p.u.])."""
    pu = _problem(0.85).pu
    net = pn.example_multivoltage()
    for bid, switchable in zip(pu.branch_ids, pu.switchable, strict=True):
        if switchable:
            _set_in_pandapower(net, bid, bid not in OPEN)
    pp.runpp(net)
    losses = sum(1000.0 * float(getattr(net, t).pl_mw.sum())
                 for t in ("res_line", "res_trafo", "res_trafo3w", "res_impedance"))
    return losses, float(net.res_bus.vm_pu.min())


def _evaluate(v_min: float) -> tuple[Evaluation, np.ndarray]:
    problem = _problem(v_min)
    ids = problem.pu.branch_ids
    assert set(OPEN) <= set(ids)
    y = np.array([0.0 if b in OPEN else 1.0 for b in ids])
    return TopologyEvaluator(problem).evaluate(y, need_gradient=False), y < 0.5


def test_the_slave_keeps_open_branches_empty_and_matches_pandapower(
        ac_truth: tuple[float, float]) -> None:
    losses_kw, v_low = ac_truth
    assert 0.80 < v_low < 0.85  # AC: the topology breaks v_min = 0.85 (bus 54, 0.8440 p.u.)
    got, opened = _evaluate(0.85)
    for group in ("P", "Q", "l"):  # before: 26.1 p.u. of q through switch 21
        assert np.abs(got.point[group][opened]).max() <= OPEN_FLOW_TOL
    assert not got.feasible  # before: "feasible", 5189 kW
    # with a band that AC meets, the slave's losses are pandapower's (4683.3 kW)
    got, opened = _evaluate(0.80)
    assert got.feasible
    assert got.objective == pytest.approx(losses_kw, rel=2e-3)
    assert np.abs(got.point["Q"][opened]).max() <= OPEN_FLOW_TOL


def _big_m_slave(problem: ReconfigurationProblem, slack: bool) -> CvxpyModel:
    """The slave as it was: the formulation's big-M rows on the fixed ``y``."""
    block = problem.physics_block(slack=slack)
    objective = slack_objective(block) if slack else None
    return CvxpyModel(block, integer=False, fixed=["y"], objective=objective)


@pytest.mark.parametrize("v_min", [None, 0.95])
def test_the_gradient_is_a_subgradient_of_the_big_m_slave(v_min: float | None) -> None:
    """case33bw, the base topology and two branch exchanges (feasible: phase 2; with
    ``v_min`` 0.95 or after an exchange, phase 1). The big-M slave's value function ``V`` is
    convex in ``y``, so a subgradient ``g`` at ``y_hat`` satisfies, for a step ``e_k``
    towards the inside of ``[0, 1]``: ``g_k <= (V(y_hat + eps e_k) - V(y_hat)) / eps`` on an
    open branch and ``g_k >= (V(y_hat) - V(y_hat - eps e_k)) / eps`` on a closed one, and the
    cut ``V(y_hat) + g (y - y_hat)`` lies below ``V`` at the other topologies. Old and new
    gradients differ entry by entry (the dual point of a row pair active at ``x = 0`` is not
    unique, the interior-point method picks one); both pass these checks."""
    pu = to_per_unit(feederopt.load("case33bw"))
    if v_min is not None:
        pu = replace(pu, v_min=np.full(pu.n_bus, v_min))
    problem = ReconfigurationProblem(pu)
    evaluator = TopologyEvaluator(problem)
    old = {False: _big_m_slave(problem, False), True: _big_m_slave(problem, True)}
    base = pu.initial_closed().astype(float)
    tops = [base]
    for close, opening in ((32, 6), (34, 10)):  # tie 33 (index 32) and 35 in, lines out
        y = base.copy()
        y[close], y[opening] = 1.0, 0.0
        assert is_radial_forest(pu.n_bus, pu.f, pu.t, y > 0.5, pu.sources)[0]
        tops.append(y)

    def value(model: CvxpyModel, y: np.ndarray) -> float:
        model.set("y", y)
        sol = model.solve("CLARABEL")
        assert sol.status == "optimal"
        return sol.objective

    eps = 1e-2
    for y in tops:
        ev = evaluator.evaluate(y)
        model = old[not ev.feasible]
        v0 = ev.objective if ev.feasible else ev.violation
        assert value(model, y) == pytest.approx(v0, rel=1e-6, abs=1e-7)
        g = ev.gradient
        scale = float(np.abs(g).max())
        for k in range(len(y)):
            step = eps if y[k] < 0.5 else -eps
            moved = y.copy()
            moved[k] += step
            slope = (value(model, moved) - v0) / step
            if step > 0:
                assert g[k] <= slope + 1e-6 * scale, k
            else:
                assert g[k] >= slope - 1e-6 * scale, k
        for other in tops:
            assert value(model, other) >= v0 + g @ (other - y) - 1e-6 * scale


def test_a_solve_with_flow_on_an_open_branch_is_not_accepted() -> None:
    """The guard: an "optimal" solve whose open branch carries more than OPEN_FLOW_TOL is
    no answer (the two-phase slave tries again, then phase 1, then SlaveFailure)."""
    pu = to_per_unit(feederopt.load("case33bw"))
    evaluator = TopologyEvaluator(ReconfigurationProblem(pu))
    y = pu.initial_closed().astype(float)
    model = evaluator.phase2
    model.set("y", y)
    sol = model.solve("CLARABEL")
    assert open_flow_status(model, sol) is sol  # nothing on the open ties
    model.vars["Q"].value = np.where(y < 0.5, 1.0, model.vars["Q"].value)
    flagged = open_flow_status(model, sol)
    assert "carries 1 p.u." in flagged.status and np.isnan(flagged.objective)
    # every solve of the slave leaves flow on an open branch: it stops, typed
    evaluator._solve_once = lambda m, **kw: ConicSolution(  # type: ignore[method-assign]
        "open branch carries 1 p.u. (optimal)", float("nan"), 0.0, 0.0)
    with pytest.raises(SlaveFailure):
        evaluator.evaluate(y)
