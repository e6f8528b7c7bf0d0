"""The least-norm QP of a lexicographic second stage, solved by Clarabel.

Given an LP's rows ``rlo <= A x <= rhi`` and bounds ``clo <= x <= chi`` (HiGHS's form, with
``+-inf`` where there is none), find

    min  sum_{j in J} x_j^2      s.t. the rows and bounds,

a convex QP (strictly convex in the columns ``J``). The callers are the partition plans'
set-point stage (:meth:`feederopt.solvers.highs_backend.HighsModel.least_squares_stage`,
``docs/partition-tiebreak.md``), whose ``J`` are the DERs' set-points.

On the tester's ring (user test ut37_mixed, ``tests/data/partition_ring``) Clarabel stopped
the rule-1 QP at ``AlmostSolved`` (its duality gap stalled at 1.5e-8 against its 1e-8), and
that was taken as a failure, though the QP has a solution. Not the objective cap: the rule-1
point costs the optimum, the cap is 2.7e-4 $ above it. The QP is nearly degenerate:

* **fixed columns**: the binaries, the slacks and rule 1's re-dispatch are fixed by their
  bounds (``clo = chi``) and were passed as 101 equality rows ``x_j = v`` (211 columns, 159
  equality rows in all); they are now substituted out (110 columns, 57 equality rows; rows
  left without a free column are checked within :data:`FEAS_TOL` and dropped), and Clarabel
  reports ``Solved`` there;
* **a nearly active row**: the rule-1 point meets the cap with a slack of 2.7e-8 in the row's
  scale (2.7e-4 $ over ``max |c|`` = 10,010 $/p.u.), of the order of Clarabel's tolerances;
  with the cap 1e-8 or 1e-7 higher it stopped at ``AlmostSolved`` or ``Solved`` by turns,
  and with the bounds perturbed by up to 1e-9 the reduced QP still stopped at
  ``AlmostSolved`` in 12 of 40 trials (the original in 25).

So a point that Clarabel reports with reduced accuracy (``AlmostSolved``,
``InsufficientProgress``, ``MaxIterations``) is accepted when it meets our own check:
every row and bound within :data:`FEAS_TOL` (HiGHS's primal feasibility tolerance, which the
first-stage points meet) and a duality gap within :data:`GAP_TOL` relative. Else the outcome
carries no point and Clarabel's status as the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Absolute tolerance on a row or bound of a point of reduced accuracy (and on the rows left
#: without a free column): HiGHS's default ``primal_feasibility_tolerance``.
FEAS_TOL = 1e-7
#: Relative duality gap ``|primal - dual| / max(1, |primal|)`` accepted from a point of
#: reduced accuracy (Clarabel's own full-accuracy tolerance is 1e-8, its reduced one 5e-5).
GAP_TOL = 1e-7
#: Clarabel statuses whose point is checked (:data:`FEAS_TOL`, :data:`GAP_TOL`) and then kept.
REDUCED_ACCURACY = ("AlmostSolved", "InsufficientProgress", "MaxIterations")


@dataclass
class StageOutcome:
    """A least-norm stage's answer: the column values (``None`` when no point was accepted),
    Clarabel's status and, when no point was accepted or it was kept at reduced accuracy,
    why, in words (for the result's notes)."""

    x: np.ndarray | None
    status: str
    reason: str = ""


def _status_name(status: object) -> str:
    return str(status).rsplit(".", 1)[-1]


def least_norm_point(a: sp.csr_matrix, rlo: np.ndarray, rhi: np.ndarray, clo: np.ndarray,
                     chi: np.ndarray, squared: np.ndarray, big: float) -> StageOutcome:
    """The least-norm point (module docstring) over the columns ``squared`` (indices);
    a bound of magnitude ``big`` or more counts as none."""
    import clarabel

    n = a.shape[1]
    a = sp.csr_matrix(a)
    fixed = (clo > -big) & (chi < big) & (clo == chi)
    free = np.flatnonzero(~fixed)
    x0 = np.where(fixed, clo, 0.0)
    shift = a @ x0  # the fixed columns' part of each row
    af = a[:, free].tocsr()
    lone = np.diff(af.indptr) == 0  # rows with no free column: constants
    lo_c, hi_c = rlo[lone] - shift[lone], rhi[lone] - shift[lone]
    bad = (lo_c > FEAS_TOL) | (hi_c < -FEAS_TOL)
    if bad.any():
        i = int(np.flatnonzero(lone)[np.flatnonzero(bad)[0]])
        return StageOutcome(None, "Infeasible", f"row {i} fails with the fixed columns alone "
                            f"({shift[i]:.3g} outside [{rlo[i]:.3g}, {rhi[i]:.3g}])")
    keep = ~lone
    af, lo, hi = af[keep], rlo[keep] - shift[keep], rhi[keep] - shift[keep]
    flo, fhi = clo[free], chi[free]
    eye = sp.identity(len(free), format="csr")
    req = (lo > -big) & (hi < big) & (lo == hi)
    rup, rdn = (hi < big) & ~req, (lo > -big) & ~req
    cup, cdn = fhi < big, flo > -big
    zero = af[req]
    nonneg = sp.vstack([af[rup], -af[rdn], eye[cup], -eye[cdn]])
    amat = sp.vstack([zero, nonneg]).tocsc()
    b = np.concatenate([hi[req], hi[rup], -lo[rdn], fhi[cup], -flo[cdn]])
    diag = np.zeros(n)
    diag[np.asarray(squared, int)] = 2.0
    pmat = sp.diags(diag[free], format="csc")
    cones = [clarabel.ZeroConeT(zero.shape[0]), clarabel.NonnegativeConeT(nonneg.shape[0])]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    sol = clarabel.DefaultSolver(pmat, np.zeros(len(free)), amat, b, cones, settings).solve()
    status = _status_name(sol.status)
    if status == "Solved":
        return StageOutcome(_full(x0, free, sol.x), status)
    if status not in REDUCED_ACCURACY or len(sol.x) != len(free):
        return StageOutcome(None, status, f"Clarabel status {status}")
    x = _full(x0, free, sol.x)
    row = a @ x
    viol = max(float(np.max(rlo - row, initial=0.0)), float(np.max(row - rhi, initial=0.0)),
               float(np.max(clo - x, initial=0.0)), float(np.max(x - chi, initial=0.0)))
    primal, dual = float(sol.obj_val), float(sol.obj_val_dual)
    gap = abs(primal - dual) / max(1.0, abs(primal))
    if viol > FEAS_TOL or not gap <= GAP_TOL:
        return StageOutcome(None, status, f"Clarabel status {status}, and its point misses "
                            f"the rows by {viol:.2g} (tolerance {FEAS_TOL:g}) or has a "
                            f"relative duality gap of {gap:.2g} (tolerance {GAP_TOL:g})")
    return StageOutcome(x, status, f"Clarabel status {status}, kept: rows met within "
                        f"{viol:.2g}, relative duality gap {gap:.2g}")


def _full(x0: np.ndarray, free: np.ndarray, xf: object) -> np.ndarray:
    x = x0.copy()
    x[free] = np.asarray(xf, float)
    return x
