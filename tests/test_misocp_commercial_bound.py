"""The lower bound of the monolithic MISOCP on Gurobi or MOSEK (through cvxpy): neither is
installed here, so the two pieces are tested on their own.

Before, a solve that ended "optimal" reported ``bound = objective`` and gap 0, although the
solver stops within its relative gap (Gurobi's ``MIPGap``, MOSEK's ``MIO_TOL_REL_GAP``: ``|bound
- incumbent| <= gap |incumbent|``), and one stopped at its time limit reported no bound at all
(and status ``feasible``) although Gurobi holds its best bound in ``ObjBound``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import cvxpy as cp
import pytest

from feederopt.algorithms.monolithic import mip_lower_bound
from feederopt.solvers.cvxpy_backend import CvxpyModel


def test_the_bound_is_the_solvers_own_else_its_stopping_rule() -> None:
    # Gurobi's ObjBound when it gives one, whatever the status
    assert mip_lower_bound(100.0, 97.5, True, 1e-4) == 97.5
    assert mip_lower_bound(100.0, 97.5, False, 1e-4) == 97.5
    # "optimal" without a bound: the incumbent less the relative gap the solver stopped at
    assert mip_lower_bound(100.0, math.nan, True, 1e-4) == pytest.approx(99.99)
    assert mip_lower_bound(-50.0, math.nan, True, 1e-3) == pytest.approx(-50.05)
    # stopped at a limit without a bound: nothing is proven
    assert mip_lower_bound(100.0, math.nan, False, 1e-4) == -math.inf


def test_gurobis_objbound_is_read_in_the_problems_terms() -> None:
    """cvxpy's GUROBI interface keeps the gurobipy model as ``solver_stats.extra_stats``; its
    ``ObjVal`` lacks the constant cvxpy moved out of the objective, so the bound is
    ``ObjBound + (value - ObjVal)``. Here a solved problem with a constant of 7 and a stand-in
    for the gurobipy model (``ObjVal`` = 3, the value without the constant; ``ObjBound`` 2.5)."""
    x = cp.Variable()
    problem = cp.Problem(cp.Minimize(x + 7), [x >= 3])
    problem.solve(solver="CLARABEL")
    assert problem.value == pytest.approx(10.0)
    model = CvxpyModel.__new__(CvxpyModel)
    model.problem = problem
    assert math.isnan(model._mip_bound(10.0))  # Clarabel keeps no gurobipy model
    problem._solver_stats = SimpleNamespace(extra_stats=SimpleNamespace(ObjBound=2.5, ObjVal=3.0))
    assert model._mip_bound(10.0) == pytest.approx(9.5)

    class NoIncumbent:  # gurobipy raises on ObjVal when the solve found no solution
        ObjBound = 2.5

        @property
        def ObjVal(self) -> float:
            raise AttributeError("Unable to retrieve attribute 'ObjVal'")

    problem._solver_stats = SimpleNamespace(extra_stats=NoIncumbent())
    assert math.isnan(model._mip_bound(math.nan))
