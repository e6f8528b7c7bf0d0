"""Outer approximation of a block's second-order cones by tangent half-spaces (maths only).

For a cone ``||X x|| <= T x`` and a point ``x0`` with ``X x0 != 0``, let ``d = X x0 / ||X x0||``;
the half-space ``d . (X x) - T x <= 0`` contains the cone because ``d . w <= ||w||`` for a unit
vector ``d`` (Duran & Grossmann, Math. Prog. 36, 1986; Fletcher & Leyffer, Math. Prog. 66,
1994). The cut is valid at any point, and tight at ``x0`` when ``x0`` lies on the cone's
boundary. Every MILP backend (the HiGHS master, the SCIP single tree) adds these rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Cones, Role, Terms


def evaluate_terms(block: Block, terms: Terms, point: dict[str, np.ndarray]) -> np.ndarray:
    """``sum_g A_g x_g`` at ``point`` (data groups at their values)."""
    out = None
    for g, a in terms.items():
        grp = block.groups[g]
        val = grp.value if grp.role is Role.DATA else point[g]
        part = a @ np.asarray(val, float)
        out = part if out is None else out + part
    return np.asarray(out, float)


def tangent_rows(block: Block, cone: Cones, point: dict[str, np.ndarray],
                 rows: np.ndarray | None = None, min_norm: float = 1e-9,
                 min_violation: float | None = None) -> tuple[Terms, int]:
    """The tangent cuts ``d . (X x) - T x <= 0`` of ``cone`` at ``point`` as terms over the
    block's groups, for the selected cone ``rows``; with ``min_violation``, only where the
    point violates the cone by that relative amount (``||X x0|| - T x0 > min_violation
    ||X x0||``). Returns the terms and the number of rows (0: nothing to add)."""
    w = np.vstack([evaluate_terms(block, x, point) for x in cone.xs])  # k x m
    norm = np.linalg.norm(w, axis=0)
    keep = norm > min_norm
    if min_violation is not None:
        keep &= norm - evaluate_terms(block, cone.t, point) > min_violation * norm
    sel = np.flatnonzero(keep)
    if rows is not None:
        sel = np.intersect1d(sel, rows)
    if not len(sel):
        return {}, 0
    d = w[:, sel] / norm[sel]
    terms: dict[str, sp.spmatrix] = {}
    for k, x in enumerate(cone.xs):
        for g, a in x.items():
            part = sp.diags(d[k]) @ sp.csr_matrix(a)[sel]
            terms[g] = terms[g] + part if g in terms else part
    for g, a in cone.t.items():
        part = -sp.csr_matrix(a)[sel]
        terms[g] = terms[g] + part if g in terms else part
    return terms, len(sel)
