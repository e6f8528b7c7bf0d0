"""The restricted phase's folding of fixed binaries into the partition cuts
(:func:`~feederopt.algorithms.partition.fold_fixed`,
:class:`~feederopt.algorithms.partition.CutRows`).

References independent of the code under test: the row evaluated by hand (numpy) at points
with the binaries at their fixed values, and HiGHS solving the same LP without any folding
(a fresh model with the original cut rows and the binaries fixed by their bounds)."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from feederopt.algorithms import partition as part
from feederopt.algorithms.partition import CutRows, fold_fixed
from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.solvers.highs_backend import HighsModel

NZ, NP = 6, 4  # binaries, continuous set-points


def _random_cut(rng: np.random.Generator) -> tuple[dict, float]:
    """A cut like the partition's: huge coefficients on the binaries, tiny to O(1) ones on
    the set-points, -1 on theta."""
    zi = np.sort(rng.choice(NZ, size=4, replace=False))
    pi = np.sort(rng.choice(NP, size=3, replace=False))
    coefs = {"zbl": (zi, rng.choice([-1, 1], 4) * 10.0 ** rng.uniform(3, 7.5, 4)),
             "ps": (pi, rng.choice([-1, 1], 3) * 10.0 ** rng.uniform(-9, 1, 3)),
             "theta": (np.array([0]), np.array([-1.0]))}
    return coefs, float(rng.uniform(-1e3, 1e4))


def _lhs(coefs: dict, point: dict) -> float:
    return sum(float(v @ point[g][i]) for g, (i, v) in coefs.items())


def _max_violation_difference(fold, rng: np.random.Generator, n_rows: int = 50,
                              n_points: int = 40) -> float:
    """Largest |(lhs - rhs) of the original row - (lhs - rhs) of the folded row|, relative to
    the row's scale, over random rows, fixed binaries and points with the binaries fixed."""
    worst = 0.0
    for _ in range(n_rows):
        coefs, rhs = _random_cut(rng)
        fixed = {"zbl": rng.integers(0, 2, NZ).astype(float)}
        kept, rhs2 = fold(coefs, rhs, fixed)
        assert "zbl" not in kept
        scale = max(abs(rhs), *(float(np.abs(v).sum()) for _, v in coefs.values()))
        for _ in range(n_points):
            pt = {"zbl": fixed["zbl"], "ps": rng.uniform(0, 2, NP),
                  "theta": rng.uniform(-1e4, 1e4, 1)}
            d = (_lhs(coefs, pt) - rhs) - (_lhs(kept, pt) - rhs2)
            worst = max(worst, abs(d) / scale)
    return worst


def test_folded_row_equals_the_row_at_the_fixed_binaries():
    # same slack at every point with x_z = zbar: same feasible set (to rounding, 1e-15)
    assert _max_violation_difference(fold_fixed, np.random.default_rng(1)) < 1e-13


def test_a_wrong_fold_is_caught():
    def drop_only(coefs, rhs, fixed):  # drops the binary terms without moving them
        return {g: c for g, c in coefs.items() if g not in fixed}, rhs

    def wrong_sign(coefs, rhs, fixed):
        kept, r = fold_fixed(coefs, rhs, fixed)
        return kept, 2 * rhs - r

    for bad in (drop_only, wrong_sign):
        assert _max_violation_difference(bad, np.random.default_rng(1)) > 1e-3


def _master() -> HighsModel:
    """min c ps + theta + 10 sum zbl s.t. theta >= 0, 0 <= ps <= 2, zbl binary, sum ps >= 1."""
    b = Block()
    b.add_group(Group.new("zbl", NZ, 0.0, 1.0, integer=True))
    b.add_group(Group.new("ps", NP, 0.0, 2.0))
    b.add_group(Group.new("theta", 1, 0.0))
    b.add_rows("demand", {"ps": sp.csr_matrix(-np.ones((1, NP)))}, Sense.LE, np.array([-1.0]))
    b.add_objective("ps", np.array([1.0, 2.0, 3.0, 4.0]))
    b.add_objective("theta", np.array([1.0]))
    b.add_objective("zbl", np.full(NZ, 10.0))
    m = HighsModel(b)
    m.h.setOptionValue("presolve", "off")
    return m


def _dense(lp) -> np.ndarray:
    a = lp.a_matrix_
    parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    if a.format_ == highspy.MatrixFormat.kRowwise:
        return sp.csr_matrix(parts, shape=(lp.num_row_, lp.num_col_)).toarray()
    return sp.csc_matrix(parts, shape=(lp.num_row_, lp.num_col_)).toarray()


def _solve_lp(m: HighsModel, zbar: np.ndarray) -> float:
    m.set_bounds("zbl", zbar, zbar)
    m.set_relaxation(True)
    sol = m.solve()
    assert sol.status == "optimal"
    return sol.objective


@pytest.mark.parametrize("seed", range(6))
def test_cut_rows_folded_lp_has_the_unfolded_optimum_and_restores(seed):
    rng = np.random.default_rng(seed)
    cuts = []
    for _ in range(8):
        cuts.append(_random_cut(rng))  # -theta in every cut: always satisfiable
    zbar = rng.integers(0, 2, NZ).astype(float)
    # reference: a fresh model, the original rows, binaries fixed by bounds
    ref = _master()
    for coefs, rhs in cuts:
        ref.add_cut(coefs, -np.inf, rhs)
    expected = _solve_lp(ref, zbar)

    m = _master()
    rows = CutRows()
    for coefs, rhs in cuts[:5]:
        rows.add(m, coefs, rhs)
    rows.set_fixed(m, {"zbl": zbar})
    for coefs, rhs in cuts[5:]:  # cuts added in the restricted phase are added folded
        rows.add(m, coefs, rhs)
    lp = m.h.getLp()
    cut_vals = np.abs(np.asarray(lp.a_matrix_.value_))
    assert cut_vals.max() <= 10.0  # no binary coefficient (>= 1e3) left in the LP
    assert _solve_lp(m, zbar) == pytest.approx(expected, rel=1e-9, abs=1e-6)

    # back to the MILP: the original coefficients and right-hand sides, bit for bit
    rows.set_fixed(m, None)
    full = HighsModel(_master().block)
    for coefs, rhs in cuts:
        full.add_cut(coefs, -np.inf, rhs)
    want, got = full.h.getLp(), m.h.getLp()
    for attr in ("row_upper_", "row_lower_"):
        assert list(getattr(got, attr)) == list(getattr(want, attr))
    assert np.array_equal(_dense(got), _dense(want))


def test_cut_rows_with_a_wrong_fold_changes_the_lp(monkeypatch):
    """The LP comparison above would catch a fold that drops the binary terms."""
    rng = np.random.default_rng(3)
    cuts = [_random_cut(rng) for _ in range(8)]
    zbar = np.ones(NZ)
    ref = _master()
    for coefs, rhs in cuts:
        ref.add_cut(coefs, -np.inf, rhs)
    expected = _solve_lp(ref, zbar)
    monkeypatch.setattr(part, "fold_fixed",
                        lambda coefs, rhs, fixed: ({g: c for g, c in coefs.items()
                                                    if g not in fixed}, rhs))
    m = _master()
    rows = CutRows()
    rows.set_fixed(m, {"zbl": zbar})
    for coefs, rhs in cuts:
        rows.add(m, coefs, rhs)
    assert _solve_lp(m, zbar) != pytest.approx(expected, rel=1e-6, abs=1e-6)
