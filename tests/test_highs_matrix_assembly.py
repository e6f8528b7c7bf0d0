"""The rows a :class:`~feederopt.solvers.highs_backend.HighsModel` gives HiGHS: ``A = sum_g A_g
P_g`` over the block's variable groups (``P_g`` the group's columns), the data groups moved to
the right-hand side as ``sum_d A_d v_d`` (:meth:`HighsModel._matrix`, assembled in one pass
since the speed fix). Truth: the dense matrix written by hand from the terms, and the optimum
of the same LP by SciPy's ``linprog`` (an independent solver)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.solvers.highs_backend import HighsModel


def _block() -> tuple[Block, dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    b = Block()
    b.add_group(Group.new("x", 4, 0.0, 3.0))
    b.add_group(Group.data("d", np.array([2.0, -1.0])))
    b.add_group(Group.new("y", 3, -2.0, 2.0))
    dense = {"x": rng.integers(-3, 4, (5, 4)).astype(float),
             "d": rng.integers(-2, 3, (5, 2)).astype(float),
             "y": rng.integers(-3, 4, (5, 3)).astype(float)}
    dense["x"][1] = 0.0  # a row that only y fills
    y = sp.csr_matrix(dense["y"])
    y.data[0] = 0.0  # an explicit zero, kept by scipy: no entry of the rows
    dense["y"] = y.toarray()
    b.add_rows("le", {"x": sp.csr_matrix(dense["x"]), "d": sp.csr_matrix(dense["d"]), "y": y},
               Sense.LE, 10.0 + np.arange(5.0))
    b.add_rows("only_y", {"y": y[:2]}, Sense.LE, np.ones(2))
    b.add_objective("x", np.array([-1.0, 2.0, -0.5, 1.0]))
    b.add_objective("y", np.array([1.0, -1.0, 0.5]))
    return b, dense


def test_rows_are_the_dense_sum_of_the_terms() -> None:
    block, dense = _block()
    model = HighsModel(block)
    rows = block.rows[0]
    a, const = model._matrix(rows.terms, rows.m)
    want = np.zeros((rows.m, model.n))
    for g in ("x", "y"):
        want[:, model.offset[g]:model.offset[g] + block.groups[g].size] = dense[g]
    assert np.array_equal(a.toarray(), want)
    assert np.allclose(const, dense["d"] @ np.array([2.0, -1.0]))
    assert a.nnz == np.count_nonzero(want)  # no explicit zeros, no duplicates
    one, _ = model._matrix(block.rows[1].terms, 2)  # one term only
    assert one.nnz == np.count_nonzero(one.toarray())


def test_the_model_solves_as_linprog() -> None:
    block, dense = _block()
    sol = HighsModel(block).solve()
    a = np.hstack([dense["x"], dense["y"]])
    b = 10.0 + np.arange(5.0) - dense["d"] @ np.array([2.0, -1.0])
    ref = linprog(np.array([-1.0, 2.0, -0.5, 1.0, 1.0, -1.0, 0.5]),
                  A_ub=np.vstack([a, np.hstack([np.zeros((2, 4)), dense["y"][:2]])]),
                  b_ub=np.concatenate([b, np.ones(2)]),
                  bounds=[(0.0, 3.0)] * 4 + [(-2.0, 2.0)] * 3, method="highs")
    assert ref.status == 0
    assert sol.objective == ref.fun or abs(sol.objective - ref.fun) <= 1e-7 * max(1, abs(ref.fun))
