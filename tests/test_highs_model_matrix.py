"""``HighsModel`` builds its constraint matrix from every group's coefficients at once
(``HighsModel._matrix``): one COO triplet list per row set, shifted to each group's columns,
duplicates summed, data groups moved to the bounds. Before, each group became an ``m x n``
CSR matrix and they were summed one by one (a quarter of a schedule master's building time
on 25 scenario copies).

Truth: the matrix and row bounds written out densely with numpy from the same coefficients,
against the model HiGHS holds (``Highs.getLp``)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Rows, Sense
from feederopt.solvers.highs_backend import HighsModel


def _block() -> tuple[Block, np.ndarray, np.ndarray, np.ndarray]:
    """Three variable groups and a data group in two row sets; a term with duplicate entries
    and an explicit zero (summed / dropped), a dense term. Returns the block, the dense
    matrix, and the rows' lower and upper bounds."""
    b = Block()
    b.add_group(Group.new("x", 3, 0.0, 10.0))
    b.add_group(Group.new("y", 2, 0.0, 1.0, integer=True))
    b.add_group(Group.new("z", 4, -5.0, 5.0))
    b.add_group(Group.data("d", np.array([2.0, 5.0])))
    # x: (0,0) given twice (1.5 + 2.5), (1,2) = -1, an explicit zero at (0,1)
    ax = sp.coo_matrix((np.array([1.5, 2.5, -1.0, 0.0]),
                        (np.array([0, 0, 1, 0]), np.array([0, 0, 2, 1]))), shape=(2, 3))
    ay = np.array([[0.0, 3.0], [4.0, 0.0]])  # dense
    ad = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, -2.0]]))
    b.rows.append(Rows("le", {"x": ax, "y": ay, "d": ad}, Sense.LE, np.array([7.0, 1.0])))
    az = sp.csr_matrix(np.array([[1.0, -1.0, 0.0, 2.0]]))
    b.rows.append(Rows("eq", {"z": az, "x": sp.csr_matrix(np.array([[0.0, 1.0, 0.0]]))},
                       Sense.EQ, np.array([3.0])))
    dense = np.zeros((3, 9))
    dense[0, 0], dense[1, 2] = 4.0, -1.0
    dense[0, 4], dense[1, 3] = 3.0, 4.0
    dense[2, 5:9] = [1.0, -1.0, 0.0, 2.0]
    dense[2, 1] = 1.0
    # the data group moves to the bounds: rhs - A_d d = [7 - 2, 1 + 10]
    lo = np.array([-np.inf, -np.inf, 3.0])
    hi = np.array([5.0, 11.0, 3.0])
    return b, dense, lo, hi


def _lp_matrix(model: HighsModel) -> np.ndarray:
    lp = model.h.getLp()
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    if a.format_ == a.format_.__class__.kColwise:
        m = sp.csc_matrix((a.value_, a.index_, a.start_), shape=shape)
    else:
        m = sp.csr_matrix((a.value_, a.index_, a.start_), shape=shape)
    return np.asarray(m.todense())


def test_matrix_and_bounds_are_the_coefficients_written_out() -> None:
    block, dense, lo, hi = _block()
    model = HighsModel(block)
    assert model.offset == {"x": 0, "y": 3, "z": 5}
    np.testing.assert_array_equal(_lp_matrix(model), dense)
    lp = model.h.getLp()
    assert np.array_equal(np.maximum(lp.row_lower_, -1e300), np.maximum(lo, -1e300))
    np.testing.assert_array_equal(lp.row_upper_, hi)
    # rows added later (cuts) go the same way
    model.add_rows({"z": sp.csr_matrix(np.array([[0.0, 2.0, 0.0, 0.0]])),
                    "d": sp.csr_matrix(np.array([[1.0, 1.0]]))},
                   np.array([-1.0]), np.array([4.0]))
    row = _lp_matrix(model)[3]
    np.testing.assert_array_equal(row, [0, 0, 0, 0, 0, 0, 2.0, 0, 0])
    lp = model.h.getLp()
    assert (lp.row_lower_[3], lp.row_upper_[3]) == (-8.0, -3.0)  # minus A_d d = 7


def test_groups_are_not_summed_matrix_by_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The row sets of three groups are built without adding sparse matrices (before: one
    sum per group after the first, each copying the rows so far)."""
    sums = [0]
    real = sp.csr_matrix.__add__

    def counting(self: sp.csr_matrix, other: object) -> object:
        sums[0] += 1
        return real(self, other)

    monkeypatch.setattr(sp.csr_matrix, "__add__", counting)
    block, dense, _, _ = _block()
    model = HighsModel(block)
    assert sums[0] == 0
    monkeypatch.undo()
    np.testing.assert_array_equal(_lp_matrix(model), dense)
