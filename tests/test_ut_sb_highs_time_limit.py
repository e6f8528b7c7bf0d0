"""``HighsModel.set_time_limit`` is a limit per run, whatever the object ran before.

HiGHS times a MIP against a clock started with each run and an LP against the run time of all
the object's solves (ERGO-Code/HiGHS#1477). The backend took both for the second: its overrun
guard cut a MIP at ``limit - earlier run time`` plus a 5 s grace, so on SimBench
``1-MV-comm--0-sw`` (120 s) the Benders master that had run 10 s was cut after 7 s of a 12 s
remainder, and the run stopped at 115 s with status ``feasible``; and an LP after earlier runs
longer than its limit stopped at once. The truth here is the wall clock and scipy's LP optimum.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.solvers import highs_backend
from feederopt.solvers.highs_backend import HighsModel


def _knapsacks() -> tuple[Block, np.ndarray, np.ndarray, np.ndarray]:
    """A multi-dimensional 0-1 knapsack (150 items, 40 capacities) that HiGHS does not solve
    within seconds."""
    rng = np.random.default_rng(0)
    a = rng.integers(1, 100, (40, 150)).astype(float)
    b = a.sum(axis=1) / 2
    c = -rng.integers(1, 100, 150).astype(float)
    block = Block()
    block.add_group(Group.new("x", 150, 0.0, 1.0, integer=True))
    block.add_rows("cap", {"x": sp.csr_matrix(a)}, Sense.LE, b)
    block.add_objective("x", c)
    return block, a, b, c


def _model_that_ran(seconds: float) -> HighsModel:
    model = HighsModel(_knapsacks()[0])
    model.set_time_limit(seconds)
    assert model.solve().status == "time_limit"  # the premise: a MIP it cannot finish
    return model


def test_a_mip_after_earlier_runs_gets_its_whole_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model_that_ran(1.5)
    monkeypatch.setattr(highs_backend, "OVERRUN_GRACE_S", 0.2)
    monkeypatch.setattr(highs_backend, "OVERRUN_GRACE_SHARE", 0.0)
    model.set_time_limit(1.0)
    t0 = time.perf_counter()
    sol = model.solve()
    took = time.perf_counter() - t0
    assert sol.status == "time_limit"
    assert took >= 0.9  # was 0.2 s: the guard's grace after "no time left"
    assert not model.overran  # HiGHS's own limit stopped it, not the guard


def test_an_lp_after_earlier_runs_is_solved() -> None:
    model = _model_that_ran(1.5)
    model.set_relaxation(True)
    model.set_time_limit(0.5)  # less than the 1.5 s the object has run: HiGHS's LP clock
    sol = model.solve()
    assert sol.status == "optimal"  # was time_limit at once, with no solution
    _, a, b, c = _knapsacks()
    lp = linprog(c, A_ub=a, b_ub=b, bounds=(0.0, 1.0), method="highs")
    assert sol.objective == pytest.approx(lp.fun, rel=1e-9)


def test_set_integrality_makes_the_next_run_an_lp() -> None:
    """An all-continuous model is an LP run: its limit counts from the run's start too."""
    model = _model_that_ran(1.5)
    model.set_integrality(np.arange(model.n), False)
    model.set_time_limit(0.5)
    sol = model.solve()
    assert sol.status == "optimal"
    _, a, b, c = _knapsacks()
    lp = linprog(c, A_ub=a, b_ub=b, bounds=(0.0, 1.0), method="highs")
    assert sol.objective == pytest.approx(lp.fun, rel=1e-9)
