"""The SCIP backend against optima known independently of it.

* Tiny MISOCPs whose optimum follows by hand (below, per test), in every cone form.
* case33bw: the published optimum, 139.55 kW with branches (7,8), (9,10), (14,15), (32,33) and
  (25,29) open (Baran & Wu, IEEE TPWRD 4(2), 1989; Jabr, Singh & Pal, IEEE TPWRS 27(2), 2012).
* Random meshed grids: the optimum of brute-force enumeration (``enumerate_optimum`` of the
  property test, which checks radiality with a union-find and solves each topology's SOCP).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feederopt.algorithms.base import StopOptions
from feederopt.algorithms.monolithic import solve_misocp
from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.network import Network, to_per_unit
from feederopt.problems.presolve import presolve
from feederopt.problems.reconfiguration import RadialityModel, ReconfigurationProblem
from feederopt.solvers.scip_backend import ConeForm, ScipModel
from feederopt.solvers.status import Status
from test_reconfiguration_property import enumerate_optimum, meshed_grids, radial

FORMS: list[ConeForm] = ["auto", "rotated", "norm", "quadratic"]


def m(rows: list[list[float]]) -> sp.csr_matrix:
    return sp.csr_matrix(np.array(rows, float))


def two_lines() -> Block:
    """Two parallel lines (resistances 1 and 3) feed a demand of 2; closing costs 0.5 and 1.2.

    Losses on a closed line k are ``r_k l_k`` with the rotated cone ``P_k^2 <= w_k l_k`` and
    ``w_k = y_k`` (unit voltage). By hand: line 0 alone costs 1 * 2^2 + 0.5 = 4.5; line 1 alone
    3 * 4 + 1.2 = 13.2; both split the flow 1.5 / 0.5 (equal marginal losses 2 r P) and cost
    1 * 2.25 + 3 * 0.25 + 1.7 = 4.7. The optimum is 4.5 with y = (1, 0), P = (2, 0), l = (4, 0).
    """
    b = Block()
    b.add_group(Group.new("y", 2, 0.0, 1.0, integer=True))
    b.add_group(Group.new("P", 2, -10.0, 10.0))
    b.add_group(Group.new("l", 2, 0.0, 100.0))
    b.add_group(Group.new("w", 2, 0.0, 1.0))
    b.add_group(Group.data("d", np.array([2.0])))
    eye = sp.identity(2, format="csr")
    b.add_rows("balance", {"P": m([[1, 1]]), "d": m([[-1]])}, Sense.EQ, np.zeros(1))
    b.add_rows("w_on", {"w": eye, "y": -eye}, Sense.EQ, np.zeros(2))
    b.add_rows("p_on", {"P": eye, "y": -10 * eye}, Sense.LE, np.zeros(2))
    b.add_rows("p_on_neg", {"P": -eye, "y": -10 * eye}, Sense.LE, np.zeros(2))
    b.add_cones("branch_cone", {"w": eye, "l": eye}, [{"P": 2 * eye}, {"w": eye, "l": -eye}])
    b.add_objective("l", np.array([1.0, 3.0]))
    b.add_objective("y", np.array([0.5, 1.2]))
    return b


@pytest.mark.parametrize("form", FORMS)
def test_rotated_cone_on_off_lines(form: ConeForm) -> None:
    model = ScipModel(two_lines(), cone_form=form)
    sol = model.solve(time_limit_s=30, gap=1e-9)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(4.5, abs=1e-5)
    assert sol.bound == pytest.approx(4.5, abs=1e-5)
    assert sol.gap == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(model.value("y"), [1, 0], atol=1e-6)
    np.testing.assert_allclose(model.value("P"), [2, 0], atol=1e-4)
    np.testing.assert_allclose(model.value("l"), [4, 0], atol=1e-3)
    np.testing.assert_allclose(model.value("d"), [2.0])  # a data group returns its value
    if form in ("auto", "rotated"):
        assert sol.stats["cones_rotated"] == 2 and sol.stats["aux_columns"] == 0


def nearest_lattice_point() -> Block:
    """min ||x - c|| over integer x in [-3, 3]^2 with ||x|| <= 3, for c = (2.4, 2.7) (data).

    By hand: the integer points nearest c, (2, 3) (distance 0.5) and (3, 3), lie outside the
    disc of radius 3 (|(2, 3)| = sqrt(13)); inside it, (2, 2) is nearest, at sqrt(0.16 + 0.49)
    = sqrt(0.65). Cone entries ``x_k - c_k`` carry a constant, the disc has a constant radius.
    """
    b = Block()
    b.add_group(Group.new("x", 2, -3.0, 3.0, integer=True))
    b.add_group(Group.new("t", 1, 0.0, 100.0))
    b.add_group(Group.data("c", np.array([2.4, 2.7])))
    b.add_group(Group.data("radius", np.array([3.0])))
    b.add_cones("distance", {"t": m([[1]])},
                [{"x": m([[1, 0]]), "c": m([[-1, 0]])}, {"x": m([[0, 1]]), "c": m([[0, -1]])}])
    b.add_cones("disc", {"radius": m([[1]])}, [{"x": m([[1, 0]])}, {"x": m([[0, 1]])}])
    b.add_objective("t", np.array([1.0]))
    return b


@pytest.mark.parametrize("form", FORMS)
def test_norm_cone_with_integers_and_constants(form: ConeForm) -> None:
    model = ScipModel(nearest_lattice_point(), cone_form=form)
    sol = model.solve(time_limit_s=30, gap=1e-9)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(math.sqrt(0.65), abs=1e-5)
    np.testing.assert_allclose(model.value("x"), [2, 2], atol=1e-6)


def test_objective_override_and_infeasible() -> None:
    b = two_lines()
    # Minimise the number of closed lines instead: one line carries the demand.
    model = ScipModel(b, objective={"y": np.array([1.0, 1.0])})
    sol = model.solve(time_limit_s=30, gap=1e-9)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(1.0, abs=1e-6)
    assert model.value("y").sum() == pytest.approx(1.0, abs=1e-6)
    # The demand exceeds what two lines of capacity 10 carry: infeasible.
    b.groups["d"].value = np.array([25.0])
    sol = ScipModel(b).solve(time_limit_s=30, gap=1e-9)
    assert sol.status == "infeasible"
    assert not sol.has_solution


def case33bw_problem() -> ReconfigurationProblem:
    from feederopt.api import load

    pu, _ = presolve(to_per_unit(load("case33bw")))
    return ReconfigurationProblem(pu, RadialityModel.PARENT_CHILD)


def test_case33bw_time_limit_reports_bound() -> None:
    problem = case33bw_problem()
    res = solve_misocp(problem, "SCIP", StopOptions(gap=1e-4, time_limit_s=1.0))
    assert res.status is Status.TIME_LIMIT
    assert res.extra["solver_status"] == "timelimit"
    assert res.lower_bound <= 139.56
    if res.y is not None:
        assert res.objective >= 139.55 - 1e-2
        assert res.lower_bound <= res.objective
        assert res.gap == pytest.approx((res.objective - res.lower_bound) / res.objective)


def test_case33bw_published_optimum() -> None:
    problem = case33bw_problem()
    res = solve_misocp(problem, "SCIP", StopOptions(gap=1e-4, time_limit_s=300))
    assert res.status is Status.OPTIMAL
    assert res.objective == pytest.approx(139.55, abs=0.01)
    assert res.lower_bound == pytest.approx(res.objective, rel=1e-4)
    assert res.y is not None
    pu = problem.pu
    ends = [(int(pu.bus_ids[pu.f[k]]), int(pu.bus_ids[pu.t[k]]))
            for k in np.flatnonzero(res.y < 0.5)]
    opened = {(min(a, b), max(a, b)) for a, b in ends}
    assert opened == {(7, 8), (9, 10), (14, 15), (32, 33), (25, 29)}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=meshed_grids(), radiality=st.sampled_from(list(RadialityModel)))
def test_misocp_matches_enumeration(net: Network, radiality: RadialityModel) -> None:
    best, best_y = enumerate_optimum(net)
    pu = to_per_unit(net)
    res = solve_misocp(ReconfigurationProblem(pu, radiality), "SCIP",
                       StopOptions(gap=1e-6, time_limit_s=120))
    if best_y is None:
        assert res.status is Status.INFEASIBLE
        return
    assert res.status is Status.OPTIMAL
    assert res.y is not None
    assert radial(pu.n_bus, pu.f, pu.t, res.y > 0.5, pu.is_source)
    assert res.objective == pytest.approx(best, rel=1e-4, abs=1e-5)
    assert res.lower_bound <= res.objective + 1e-9
