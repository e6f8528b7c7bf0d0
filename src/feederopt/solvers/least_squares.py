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
``InsufficientProgress``, ``MaxIterations``) is not taken as a failure (user test ut38_tph: on
the tester's three-microgrid feeder, ``tests/data/partition_tph``, Clarabel stopped the
rule-1 QP at ``AlmostSolved`` with the rows met within 5.2e-9 and a duality gap of 9.5e-7, the
point was thrown away, and the fallback published q = 0 for 180 kvar of load):

1. **polish**: the QP is solved again with a proximal term :data:`PROX` ``x_j^2`` on each
   free column outside ``J`` (the flows, voltages and re-dispatch of the copies, which the
   objective leaves free: the QP's optimal face is a set in those columns, the cause of the
   stall), so that it is strictly convex in every column. Its point is kept when Clarabel
   reports ``Solved`` and it meets every row and bound within :data:`FEAS_TOL`. It moves
   ``J`` by little: ``||x_J - x*_J||^2 <= PROX ||y*||^2``, ``y*`` the other columns at the
   least-norm point (on the ut38_tph feeder ``||y*||^2`` = 34, so at most 6e-4 p.u. by
   the bound; measured 2.4e-8 p.u. against the unperturbed QP solved to full accuracy, and
   ``Solved`` in 30 of 30 trials with the bounds perturbed by up to 1e-9, against 4 of 30
   without the term);
2. **unscaled**: else the QP (without the proximal term) is solved again with Clarabel's
   Ruiz equilibration off (``equilibrate_enable = False``), and its point kept when Clarabel
   reports ``Solved`` and it meets every row and bound within :data:`FEAS_TOL`. User test
   ut49_part (Iowa 240, the tester's grid formers, the plan closing cb_202, cb_203, cb_302):
   the set-point stage with the grid formers' voltages held near 1 p.u.
   (``partition.least_norm_setpoints``, stage 0) stopped at ``AlmostSolved`` with and without
   the proximal term (its point 2.1e-6 p.u.^2 above the dual bound, against 1e-6), the stage
   was dropped, and the least norm alone put Generator.gen3 at the 1.1 p.u. ceiling;
   unscaled, Clarabel reports ``Solved`` there, its set-points 7.5e-7 p.u. from the polish
   with a proximal term of 1e-6;
3. **certified point**: else the reduced point is kept when it meets every row and bound
   within :data:`FEAS_TOL` (HiGHS's primal feasibility tolerance, which the first-stage
   points meet: rule 1 then holds) and its objective is within :data:`GAP_TOL` of Clarabel's
   dual objective, a lower bound on the optimum ``f*`` (up to the dual residual Clarabel
   reports at its stop). The objective ``f = sum_J x_j^2`` is strongly convex in ``J``
   (Hessian ``2 I``), so for a feasible ``x`` and the least-norm point ``x*``,
   ``||x_J - x*_J||^2 <= f(x) - f* <= f(x) - dual``: with ``GAP_TOL`` = 1e-6 the kept
   set-points are within 1e-3 p.u. (1 kW or kvar on the 1 MVA base) of the least-norm
   point, whatever Clarabel's status, and the reason says the bound it certified.

Else the outcome carries no point and Clarabel's status as the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

#: Absolute tolerance on a row or bound of a point of reduced accuracy (and on the rows left
#: without a free column): HiGHS's default ``primal_feasibility_tolerance``.
FEAS_TOL = 1e-7
#: [p.u.^2] The largest ``f(x) - dual`` (objective less Clarabel's dual objective, a lower
#: bound on the optimum) of a point of reduced accuracy that is kept: its set-points are
#: then within ``sqrt(GAP_TOL)`` = 1e-3 p.u. of the least-norm point (module docstring, 3).
GAP_TOL = 1e-6
#: The proximal weight on the free columns outside ``J`` of the polish (module docstring, 1),
#: against 1 on the columns of ``J``.
PROX = 1e-8
#: Clarabel statuses whose point is polished or checked (module docstring) and then kept.
REDUCED_ACCURACY = ("AlmostSolved", "InsufficientProgress", "MaxIterations")


@dataclass
class StageOutcome:
    """A least-norm stage's answer: the column values (``None`` when no point was accepted),
    Clarabel's status and, when no point was accepted or Clarabel stopped at reduced
    accuracy, why and what was done, in words (for the result's notes)."""

    x: np.ndarray | None
    status: str
    reason: str = ""
    #: how the point was kept: ``full`` (Clarabel's ``Solved``), ``polished``, ``unscaled``
    #: or ``certified`` (module docstring, 1 to 3); ``""`` without a point
    accuracy: str = "full"


def _status_name(status: object) -> str:
    return str(status).rsplit(".", 1)[-1]


def least_norm_point(a: sp.csr_matrix, rlo: np.ndarray, rhi: np.ndarray, clo: np.ndarray,
                     chi: np.ndarray, squared: np.ndarray, big: float,
                     target: np.ndarray | None = None) -> StageOutcome:
    """The least-norm point (module docstring) over the columns ``squared`` (indices);
    a bound of magnitude ``big`` or more counts as none. With ``target`` (one value per
    column) the point nearest it, ``min sum_{j in J} (x_j - t_j)^2`` (the partition's
    grid-former voltage stage: ``w`` nearest 1 p.u.); the same QP up to a constant."""
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
                            f"({shift[i]:.3g} outside [{rlo[i]:.3g}, {rhi[i]:.3g}])", "")
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
    lin = np.zeros(n) if target is None else -diag * np.asarray(target, float)
    cones = [clarabel.ZeroConeT(zero.shape[0]), clarabel.NonnegativeConeT(nonneg.shape[0])]

    def solve(weights: np.ndarray, equilibrate: bool = True) -> tuple[str, Any]:
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        settings.equilibrate_enable = equilibrate
        sol = clarabel.DefaultSolver(sp.diags(weights, format="csc"), lin[free],
                                     amat, b, cones, settings).solve()
        return _status_name(sol.status), sol

    def violation(x: np.ndarray) -> float:
        row = a @ x
        return max(float(np.max(rlo - row, initial=0.0)), float(np.max(row - rhi, initial=0.0)),
                   float(np.max(clo - x, initial=0.0)), float(np.max(x - chi, initial=0.0)))

    status, sol = solve(diag[free])
    if status == "Solved":
        return StageOutcome(_full(x0, free, sol.x), status)
    if status not in REDUCED_ACCURACY or len(sol.x) != len(free):
        return StageOutcome(None, status, f"Clarabel status {status}", "")
    first = f"Clarabel status {status}"
    # Two retries, in order: a proximal term on the other free columns, then no equilibration.
    retries = (
        ("polished", np.where(diag[free] > 0, diag[free], 2.0 * PROX), True,
         f"polished: re-solved with a proximal term {PROX:g} x^2 on the other free columns",
         "the polish's point", "the polish stopped at"),
        ("unscaled", diag[free], False, "re-solved without Clarabel's equilibration",
         "unscaled, its point", "unscaled, Clarabel stopped at"),
    )
    for how, weights, equilibrate, done, point, stopped in retries:
        retry, rsol = solve(weights, equilibrate)
        if retry != "Solved":
            first += f"; {stopped} {retry}"
            continue
        xr = _full(x0, free, rsol.x)
        vr = violation(xr)
        if vr <= FEAS_TOL:
            return StageOutcome(xr, status, f"{first}; {done} (Clarabel status Solved, rows "
                                f"met within {vr:.2g})", how)
        first += f"; {point} misses the rows by {vr:.2g}"
    x = _full(x0, free, sol.x)
    viol = violation(x)
    primal, dual = float(sol.obj_val), float(sol.obj_val_dual)
    gap = primal - dual
    if viol > FEAS_TOL or not gap <= GAP_TOL:
        return StageOutcome(None, status, f"{first}, and its point misses the rows by "
                            f"{viol:.2g} (tolerance {FEAS_TOL:g}) or lies {gap:.2g} above the "
                            f"dual bound (tolerance {GAP_TOL:g} p.u.^2)", "")
    return StageOutcome(x, status, f"{first}; kept: rows met within {viol:.2g}, set-points "
                        f"within {math.sqrt(max(gap, 0.0)):.2g} p.u. of the least-norm point "
                        "(objective less the dual bound)", "certified")


def _full(x0: np.ndarray, free: np.ndarray, xf: object) -> np.ndarray:
    x = x0.copy()
    x[free] = np.asarray(xf, float)
    return x
