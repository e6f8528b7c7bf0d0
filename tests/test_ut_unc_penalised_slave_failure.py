"""A conic solver failure in a scenario or robust slave is a typed feederopt error, not a bare
``RuntimeError`` (user test ut_unc, finding 8).

``feederopt solve case33bw --scenarios FILE`` with a scenario of absurd loads ended in "error:
RuntimeError: the penalised slave failed: solver_error: Solver 'CLARABEL' failed ... (run the
command again with --verbose for the traceback)", exit code 1: the command line's message for
a bug. Such input is now refused before the solve (finding 3); a solver failure that still
happens is a :class:`~feederopt.algorithms.slaves.SlaveFailure` (a ``SolverError``), which the
command line prints as feederopt's own error, naming the topology and the usual cause.

The failure is forced (a solve that returns cvxpy's ``solver_error``), so the test does not
hang on where Clarabel's numerics give up on a given machine.
"""

from __future__ import annotations

import numpy as np
import pytest

import feederopt
from feederopt.algorithms.slaves import PenalizedEvaluator, SlaveFailure
from feederopt.errors import FeederoptError, SolverError
from feederopt.network.perunit import to_per_unit
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.solvers.cvxpy_backend import ConicSolution


def test_a_failed_penalised_slave_raises_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pu = to_per_unit(feederopt.load("case33bw"))
    slave = PenalizedEvaluator(ReconfigurationProblem(pu))
    y = pu.initial_closed().astype(float)
    assert slave.evaluate(y).feasible  # the base case at the nominal load solves

    monkeypatch.setattr(slave.model, "solve", lambda *a, **k: ConicSolution(
        "solver_error", float("nan"), 0.0, 0.0))
    with pytest.raises(SlaveFailure) as err:
        slave.evaluate(y)
    assert isinstance(err.value, SolverError) and isinstance(err.value, FeederoptError)
    assert not isinstance(err.value, RuntimeError)
    message = str(err.value)
    # case33bw's base case opens the five ties 33..37 (positions 32..36 of the branch
    # table): the message names them by id (user test ut_ppgrid #3: indices meant nothing)
    assert str(np.flatnonzero(y < 0.5).tolist()) == "[32, 33, 34, 35, 36]"
    assert "open branches 33, 34, 35, 36, 37 " in message and "solver_error" in message
    assert "kW written as MW" in message
