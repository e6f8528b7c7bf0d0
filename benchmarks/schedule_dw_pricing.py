"""A proven bound on the exact worst case of the robust 24 h schedule (issue 18) by Dantzig-Wolfe
column generation over hourly patterns, each hour priced exactly by branch and bound (session
33; measured, not kept in the product). The instance is ``schedule_subproblem.py``'s: the
deterministic optimum's first stage ``x`` of case33bw (built-in profiles and devices; gamma 10 %,
Gamma 4 hours per bus and per renewable unit, DSM off).

    python benchmarks/schedule_dw_pricing.py            # the pipeline, 2-6 minutes by load
    python benchmarks/schedule_dw_pricing.py --rounds 1 --smooth 0
    python benchmarks/schedule_dw_pricing.py --check    # B&B == enumeration, < 1 minute

The bounds, and why each is valid (``a(xi_h)``: which elements deviate in hour ``h``, a load bus
to ``+`` or ``-`` or a renewable unit short; ``Gamma_e`` their budgets over the day):

1. **Restriction** (session 13). Fix the time-coupled recourse (``ccg.TIME_COUPLED``: ``pch``,
   ``pdis``, ``soc``, ``pev``, ``short``) at its values ``s`` in the LP at a realisation. Fixing
   recourse variables at feasible values restricts the LP, and the rows that hold only ``s``
   contain no ``xi`` (they stay feasible), so ``Q(x, xi) <= Q_s(xi) = c_T + sum_h Q_{s,h}(xi_h)``
   for every ``xi``, 24 hourly LPs (``HourLP``; their sum equals ``Q`` at ``s``'s realisation).
2. **Lagrangian** (relaxing the budgets): for every ``mu >= 0``

       max_U Q_s <= L(mu) = c_T + Gamma . mu + sum_h max_{xi_h} (Q_{s,h}(xi_h) - mu . a(xi_h)).

   ``Q_{s,h}`` is convex in ``xi_h`` and the set is totally unimodular, so the maxima sit at
   binary points: per hour, a state in ``{0, +, -}`` per bus and ``{0, short}`` per unit, with
   no constraint between the elements. So any ``mu`` gives a valid bound once each hour's max is
   bounded from above, and ``min_mu L(mu)`` is the Dantzig-Wolfe LP (the columns: hourly
   patterns; the rows: one convexity row per hour, one budget row per element). The restricted
   master (the DW LP over the patterns generated so far, ``RMP``) is at most the DW LP: it is the
   floor this route can reach, not a bound on ``max Q``.
3. **Node bound** of the hourly branch and bound (``HourPricer.bound``). A node fixes the states of
   some elements; its centre ``c`` is those states with the free elements at 0, its base the hour
   LP's optimum ``u_c`` there. Every free move ``j`` has a response column ``R_j``: chains of the
   ``+`` moves and of the ``-`` moves in decreasing size, ``R_j = u(prefix + e_j) - u(prefix)``
   (single-move responses failed the row check at the root in 8 of 24 hours: several moves used
   the same absorber's capacity). The policy ``y(xi) = u_c + sum_j xi_j R_j`` with the loss
   variables set to ``lp = phi(P(xi))``, ``lq = phi(Q(xi))`` (``phi_b(P) = r_b max(0, max_a 2 a P
   - a^2)``, ``policy_bound.pwl_loss``) is feasible for every completion of the node: equality
   rows hold by construction (both LP points satisfy them; checked to 1e-6), every other linear
   row is checked exactly, ``slack_c,i >= sum_{e free} max(0, max_state (A R_j + B e_j)_i)``, and
   the only rows with ``lp``/``lq`` are the tangents ``lp >= r (2 a P - a^2)`` and ``lp >= 0``,
   which ``phi(P)`` satisfies. Its cost is therefore ``>= Q_{s,h}`` at every completion. The loss
   increase is bounded linearly in the free moves by convexity of ``phi``: chords over the exact
   range of every flow (``policy_bound._chord``), or increments telescoped per element whose
   prefixes dominate any active subset (the two signs apart: Karamata's inequality); the node
   takes the smaller. A node whose check fails recomputes the responses at its own centre; if
   that fails too it keeps its parent's bound. At a leaf the bound equals ``Q_{s,h}``.
4. **Hour's upper bound** after best-first B&B: ``UB_h = max(incumbent + tol, open nodes'
   bounds)`` (pruned nodes had bounds ``<= incumbent + tol``), so ``c_T + Gamma . mu + sum_h
   UB_h >= L(mu) >= max Q`` for the ``mu`` it was priced at. An hour stopped at its time limit
   with an unproven node open (bound ``inf``) takes a bound proven in an earlier round at
   ``mu'``: ``Q_h - mu . a = Q_h - mu' . a + (mu' - mu) . a``, so ``UB_h(mu) <= UB_h(mu') +
   sum_e max(0, mu'_e - mu_e)`` (``a`` is 0 or 1 per element).

The pipeline (as a C&CG subproblem would run it): climb ``Q`` from the centred policy bound's two
candidates (the start); **pass 1**: ``s1`` at that worst case, hourly LPs and response sets,
heuristic column generation (hourly climbing as pricing) until no column improves, the integer DW
master over the patterns (a recombined realisation), climb ``Q`` from it; **pass 2**: ``s2`` at
the better worst case, heuristic CG seeded with pass 1's patterns, then ``--rounds`` exact rounds
(B&B on all 24 hours at the RMP's duals, optionally smoothed towards the best ``mu`` so far,
Wentges, Int. Trans. Oper. Res. 4(2), 1997), each giving a valid ``L(mu)``. Two passes are
needed: with ``s`` at the climbed point the first valid bound is 1.3e-3 above the worst case
found (session 33).

The tables go to ``RESULTS_schedule_dw_pricing.md`` beside this file; docs/schedule.md, "Speed",
session 33, discusses them. ``--check`` builds a cheap first stage (``ccg.instant_start``) and
checks (a) the hourly LPs sum to ``Q``, (b) sampled node bounds are never below the LP at random
completions, (c) B&B equals enumeration on hours 19, 10, 17 with 7 free elements, and a bound
carried from another ``mu`` is not below the enumerated max; it exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from run import seconds  # benchmarks/run.py, next to this file
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

import feederopt.algorithms.ccg as ccg
from feederopt.algorithms.policy_bound import _chord, pwl_loss
from feederopt.algorithms.worst_climb import climb, second_stage
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import UNCERTAIN, ScheduleData, nominal, recourse_block
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data

HERE = Path(__file__).parent
TOL_ROW = 1e-7  # slack a policy row may miss by (HiGHS's feasibility tolerance is 1e-7)
Pattern = dict[int, int]  # element -> state (bus e < n: 1 = +, 2 = -; unit n + k: 1 = short)
T0 = time.perf_counter()


def log(*a: Any) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s]", *a, flush=True)


# ----- the instance -----------------------------------------------------------------------
def build_data(hours: int = 24) -> ScheduleData:
    net, dev, prof = schedule_inputs("case33bw", hours=hours)
    st = ScheduleSettings(hours=hours, gamma=0.1, budget=4.0, budget_res=4.0)
    return build_schedule_data(net, dev, prof, st)


def deterministic_first_stage(d: ScheduleData) -> tuple[dict[str, np.ndarray], float]:
    """As ``schedule_subproblem.instance``: the deterministic optimum's topology and modes."""
    sol = ccg.solve_deterministic(d, gap=1e-6, time_limit_s=600)
    return {"y": sol.closed[0], "z": sol.z}, sol.objective


# ----- the restriction by hours (bound 1) -------------------------------------------------
class HourLP:
    """Hour ``h`` of ``Q_s``: ``min c u  s.t.  A u + B xi_h (<=|=) r`` (the rows of
    ``ccg._flatten`` with this hour's recourse, ``s`` moved to ``r``), on highspy with the
    single-variable rows as column bounds and right-hand-side hot starts. ``xi_h``'s columns:
    ``[xp (n), xm (n), xr (U)]``."""

    def __init__(self, h: int, a: sp.csr_matrix, r: np.ndarray, eq: np.ndarray,
                 b: sp.csr_matrix, c: np.ndarray, names: np.ndarray, n: int, u: int) -> None:
        self.h, self.A, self.r, self.eq, self.B, self.c = h, a.tocsr(), r, eq, b.tocsr(), c
        self.n, self.U = n, u
        nc = a.shape[1]
        single = (np.diff(self.A.indptr) == 1) & (np.diff(self.B.indptr) == 0)
        lb, ub = np.full(nc, -np.inf), np.full(nc, np.inf)
        for i in np.flatnonzero(single):
            j, v = self.A.indices[self.A.indptr[i]], self.A.data[self.A.indptr[i]]
            bnd = r[i] / v
            if eq[i]:
                lb[j], ub[j] = max(lb[j], bnd), min(ub[j], bnd)
            elif v > 0:
                ub[j] = min(ub[j], bnd)
            else:
                lb[j] = max(lb[j], bnd)
        keep = np.flatnonzero(~single)
        ak = self.A[keep].tocsc()
        self.rk, self.eqk = r[keep], eq[keep]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = nc, len(keep)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, lb, ub
        lp.row_lower_ = np.where(self.eqk, self.rk, -highspy.kHighsInf)
        lp.row_upper_ = self.rk
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = ak.indptr, ak.indices
        lp.a_matrix_.value_ = ak.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = nc, len(keep)
        self.hs = highspy.Highs()
        self.hs.setOptionValue("output_flag", False)
        self.hs.passModel(lp)
        self.Bk = self.B[keep].tocsr()
        self.xirows = np.flatnonzero(np.diff(self.Bk.indptr) > 0).astype(np.int32)
        self.is_loss = np.isin(names, ["lp", "lq"])
        self.Pcols = np.flatnonzero(names == "P")
        self.Qcols = np.flatnonzero(names == "Q")

    def xi_vec(self, pattern: Pattern) -> np.ndarray:
        v = np.zeros(2 * self.n + self.U)
        for e, s in pattern.items():
            if s and e < self.n:
                v[e if s == 1 else self.n + e] = 1.0
            elif s:
                v[2 * self.n + e - self.n] = 1.0
        return v

    def solve(self, xiv: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``(value, u, g)``: the LP's optimum at ``xi_h = xiv`` and its subgradient
        ``g = -B^T y`` in ``xi_h``."""
        rhs = self.rk - self.Bk @ xiv
        idx = self.xirows
        lo = np.where(self.eqk[idx], rhs[idx], -highspy.kHighsInf)
        self.hs.changeRowsBounds(len(idx), idx, lo, rhs[idx])
        self.hs.run()
        st = self.hs.getModelStatus()
        if st != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"hour {self.h}: the hour LP ended {st}")
        sol = self.hs.getSolution()
        u = np.array(sol.col_value)
        return float(self.c @ u), u, -(self.Bk.T @ np.array(sol.row_dual))


def decompose(d: ScheduleData, x: dict[str, np.ndarray], s: dict[str, np.ndarray]
              ) -> tuple[float, list[HourLP]]:
    """``(c_T, hours)`` of ``Q_s`` at the first stage ``x``, the time-coupled recourse fixed at
    ``s`` (group -> values)."""
    flat = ccg._flatten(d, x)
    rb = recourse_block(d, None)
    fixed = set(d.first_stage_groups())
    var = [g for g in rb.groups if g not in fixed and g not in UNCERTAIN]
    H, n, U = d.hours, d.n, len(d.res_bus)
    names: list[str] = []
    hours: list[int] = []
    tc = []
    for g in var:
        size = rb.groups[g].size
        names += [g] * size
        if g in ccg.TIME_COUPLED:
            tc.append(np.asarray(s[g], float))
            hours += [-1] * size
        elif size % H:
            raise RuntimeError(f"group {g} ({size} columns) is not hourly")
        else:
            hours += list(np.arange(size) // (size // H))
    hr, nm = np.array(hours), np.array(names)
    tcm = hr < 0
    sfix = np.concatenate(tc)
    a = flat.a.tocsc()
    r = flat.r0 - a[:, np.flatnonzero(tcm)] @ sfix
    c_t = float(flat.c[tcm] @ sfix)
    af = a[:, np.flatnonzero(~tcm)].tocsr()
    hf, nf, cf = hr[~tcm], nm[~tcm], flat.c[~tcm]
    bs = [flat.bxi[g].tocsr() for g in ("xp", "xm", "xr")]
    coo = af.tocoo()
    rh = np.full(af.shape[0], -1)
    rh[coo.row] = hf[coo.col]
    if np.any(hf[coo.col] != rh[coo.row]):
        raise RuntimeError("a row spans hours with s fixed")
    for i in np.flatnonzero(rh < 0):  # rows of s alone: no xi, and s satisfies them
        if sum(abs(bm[i]).sum() for bm in bs) or (abs(r[i]) > 1e-6 if flat.eq[i]
                                                  else r[i] < -1e-6):
            raise RuntimeError(f"row {i} of s alone has xi or is violated")
    out = []
    for h in range(H):
        rows, cols = np.flatnonzero(rh == h), np.flatnonzero(hf == h)
        bh = sp.hstack([bm[rows][:, h * k:(h + 1) * k] for bm, k in zip(bs, (n, n, U),
                                                                        strict=True)])
        out.append(HourLP(h, af[rows][:, cols], r[rows], flat.eq[rows], sp.csr_matrix(bh),
                          cf[cols], nf[cols], n, U))
    return c_t, out


def hour_patterns(d: ScheduleData, xi: dict[str, np.ndarray]) -> list[Pattern]:
    n, U = d.n, len(d.res_bus)
    pats = []
    for h in range(d.hours):
        p: Pattern = {}
        for i in range(n):
            if xi["xp"][h * n + i] > 0.5:
                p[i] = 1
            elif xi["xm"][h * n + i] > 0.5:
                p[i] = 2
        for k in range(U):
            if xi["xr"][h * U + k] > 0.5:
                p[n + k] = 1
        pats.append(p)
    return pats


def realisation(d: ScheduleData, hours: list[HourLP], pats: list[Pattern]
                ) -> dict[str, np.ndarray]:
    n, U = d.n, len(d.res_bus)
    xi = nominal(d)
    for h, p in enumerate(pats):
        v = hours[h].xi_vec(p)
        xi["xp"][h * n:(h + 1) * n] = v[:n]
        xi["xm"][h * n:(h + 1) * n] = v[n:2 * n]
        xi["xr"][h * U:(h + 1) * U] = v[2 * n:]
    return xi


# ----- exact hourly pricing (bounds 3 and 4) ----------------------------------------------
class HourPricer:
    """``max_{xi_h} Q_{s,h}(xi_h) - mu . a(xi_h)`` by best-first branch and bound on the hour's
    elements, the node bound the policy of the module docstring (item 3)."""

    def __init__(self, d: ScheduleData, hour: HourLP) -> None:
        self.d, self.H, self.n, self.U = d, hour, hour.n, hour.U
        n = self.n
        nzc = np.diff(hour.B.tocsc().indptr) > 0
        gl, gr = d.budget_load, d.budget_res
        self.loads = np.array([i for i in range(n) if nzc[i] and gl[i] > 0], int)
        self.units = np.array([k for k in range(self.U) if nzc[2 * n + k] and gr[k] > 0], int)
        self.elems = [int(e) for e in self.loads] + [n + int(k) for k in self.units]
        al = hour.A[:, np.flatnonzero(hour.is_loss)].tocsr()
        has_loss = np.diff(al.indptr) > 0
        for i in np.flatnonzero(has_loss):  # only 'lp >= affine(P)' rows may hold lp, lq
            row = al[i].toarray().ravel()
            if hour.eq[i] or row.min() != -1 or (row != 0).sum() != 1:
                raise RuntimeError(f"hour {hour.h}: row {i} uses a loss variable otherwise")
        if not np.allclose(hour.c[hour.is_loss], d.c_loss):
            raise RuntimeError("the loss variables' cost is not c_loss")
        self.chk = np.flatnonzero(~has_loss)
        self.A_chk, self.B_chk = hour.A[self.chk], hour.B[self.chk]
        self.r_chk, self.eq_chk = hour.r[self.chk], hour.eq[self.chk]
        self.c_nl = np.where(hour.is_loss, 0.0, hour.c)
        self.single = np.full(2 * n + self.U, np.nan)  # single-move LP increments (branching)
        self.cache: dict[tuple[tuple[int, int], ...], tuple[float, np.ndarray, np.ndarray,
                                                            np.ndarray]] = {}
        self.lps = 0
        self.base_rs = self.responses({}, cold=True)

    # -- responses and centres
    def move_cols(self) -> list[int]:
        n = self.n
        return ([int(i) for i in self.loads] + [n + int(i) for i in self.loads]
                + [2 * n + int(k) for k in self.units])

    def col_elem(self, j: int) -> int:
        n = self.n
        return j if j < n else (j - n if j < 2 * n else n + j - 2 * n)

    def state_cols(self, e: int) -> list[int]:
        return [e, self.n + e] if e < self.n else [2 * self.n + e - self.n]

    def responses(self, fixed: Pattern, cold: bool = False) -> dict[str, np.ndarray]:
        """Response columns of the free moves at ``fixed``'s centre: chains of '+' moves (and
        units) and of '-' moves in decreasing size, ``R_j = u(prefix + e_j) - u(prefix)``.

        The hour LPs are degenerate, and which optimal vertex a chain starts from decides
        whether the row check passes: the root's set starts cold (``cold``; hour 7 at ``s1``
        failed the check at the root after a hot start from another pattern), a node's
        re-centred set hot-starts from the B&B's last LP (with every set started cold, hour 7
        at ``s2`` ran 78 nodes and 7,438 LPs into its 10 s limit instead of proving its max
        in 21 nodes and 1,274 LPs)."""
        hour, n = self.H, self.n
        J = 2 * n + self.U
        cr = hour.xi_vec(fixed)
        if cold:
            hour.hs.clearSolver()
        v0, u0, _ = hour.solve(cr)
        self.lps += 1
        R = np.zeros((len(hour.c), J))
        mag = np.asarray(abs(hour.B).sum(axis=0)).ravel()
        mc = [j for j in self.move_cols() if self.col_elem(j) not in fixed]
        plus = sorted([j for j in mc if j < n or j >= 2 * n], key=lambda j: -mag[j])
        minus = sorted([j for j in mc if n <= j < 2 * n], key=lambda j: -mag[j])
        for chain in (plus, minus):
            e, vp, up = cr.copy(), v0, u0
            for j in chain:
                e[j] = 1.0
                v, u, _ = hour.solve(e)
                self.lps += 1
                R[:, j] = u - up
                if not fixed:
                    self.single[j] = v - vp
                vp, up = v, u
        D = self.A_chk @ R + self.B_chk.toarray()
        off = np.ones(J, bool)
        off[mc] = False
        D[:, off] = 0.0
        bad = np.abs(D[self.eq_chk]).max() if self.eq_chk.any() else 0.0
        if bad > 1e-6:
            raise RuntimeError(f"hour {hour.h}: responses break an equality row by {bad:.2e}")
        D[self.eq_chk] = 0.0
        return {"D": D, "direct": self.c_nl @ R, "dP": R[hour.Pcols], "dQ": R[hour.Qcols]}

    def centre(self, fixed: Pattern) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        key = tuple(sorted((e, s) for e, s in fixed.items() if s))
        if key not in self.cache:
            xiv = self.H.xi_vec(dict(key))
            v, u, g = self.H.solve(xiv)
            self.lps += 1
            self.cache[key] = (v, u, g, xiv)
        return self.cache[key]

    def value(self, pattern: Pattern, mu: np.ndarray) -> float:
        """``Q_{s,h} - mu . a`` at a pattern (one LP, cached)."""
        return self.centre(pattern)[0] - sum(mu[e] for e, s in pattern.items() if s)

    # -- the node bound
    def _agg(self, M: np.ndarray, fl: np.ndarray, fu: np.ndarray) -> np.ndarray:
        """Per row, the sum over free elements of ``max(0, max over the element's states)``."""
        n = self.n
        out = np.zeros(M.shape[0])
        if len(fl):
            out += np.maximum(0.0, np.maximum(M[:, fl], M[:, n + fl])).sum(1)
        if len(fu):
            out += np.maximum(0.0, M[:, 2 * n + fu]).sum(1)
        return out

    def bound(self, fixed: Pattern, mu: np.ndarray, rs: dict[str, np.ndarray]
              ) -> tuple[float, float, Pattern | None]:
        """``(bound, centre value, the bound's maximising states)``; ``inf`` (and ``None``)
        when the policy is not proven feasible at this node."""
        d, n = self.d, self.n
        v, u, _, xiv = self.centre(fixed)
        free = [e for e in self.elems if e not in fixed]
        fl = np.array([e for e in free if e < n], int)
        fu = np.array([e - n for e in free if e >= n], int)
        pen = sum(mu[e] for e, s in fixed.items() if s)
        cval = v - pen
        if not free:
            return cval, cval, {}
        slack = self.r_chk - self.B_chk @ xiv - self.A_chk @ u
        need = self._agg(rs["D"], fl, fu)
        ineq = ~self.eq_chk
        if np.any(need[ineq] > slack[ineq] + TOL_ROW):
            return np.inf, cval, None
        P0, Q0 = u[self.H.Pcols], u[self.H.Qcols]
        cost0 = self.c_nl @ u + d.c_loss * (pwl_loss(d, P0).sum() + pwl_loss(d, Q0).sum())
        cols = np.concatenate([fl, n + fl, 2 * n + fu]).astype(int)
        chord = rs["direct"].copy()  # chords over each flow's exact range
        for a0, dm in ((P0, rs["dP"]), (Q0, rs["dQ"])):
            mid, half = _chord(d, a0, self._agg(dm, fl, fu), self._agg(-dm, fl, fu))
            chord[cols] += d.c_loss * (mid @ dm[:, cols] + half @ np.abs(dm[:, cols]))
        _, st0 = self._elem_max(chord, mu, fl, fu)
        order = sorted(free, key=lambda e: -st0[e][1])  # the chord maximiser's moves first
        tot, st = min(self._elem_max(chord, mu, fl, fu),
                      self._elem_max(self._telescoped(P0, Q0, order, rs), mu, fl, fu),
                      key=lambda ts: ts[0])
        return cost0 - pen + tot, cval, {e: s for e, (s, _) in st.items()}

    def _elem_max(self, coef: np.ndarray, mu: np.ndarray, fl: np.ndarray, fu: np.ndarray
                  ) -> tuple[float, dict[int, tuple[int, float]]]:
        n = self.n
        st: dict[int, tuple[int, float]] = {}
        tot = 0.0
        for i in fl:
            a, b = coef[i] - mu[i], coef[n + i] - mu[i]
            st[int(i)] = ((1, a) if a >= b else (2, b)) if max(a, b) > 0 else (0, max(a, b))
            tot += max(a, b, 0.0)
        for k in fu:
            a = coef[2 * n + k] - mu[n + k]
            st[int(n + k)] = (1, a) if a > 0 else (0, a)
            tot += max(a, 0.0)
        return tot, st

    def _telescoped(self, P0: np.ndarray, Q0: np.ndarray, order: list[int],
                    rs: dict[str, np.ndarray]) -> np.ndarray:
        """Per element in ``order``, the loss increments of its larger state part on top of the
        prefix sums of the earlier elements' larger parts, each sign of the flow change apart:
        by convexity every active subset's increase is at most these increments' sum."""
        d, n = self.d, self.n
        coef = rs["direct"].copy()
        c1 = np.array([e if e < n else 2 * n + e - n for e in order])
        c2 = np.array([n + e if e < n else -1 for e in order])
        has2 = c2 >= 0
        for a0, dm in ((P0, rs["dP"]), (Q0, rs["dQ"])):
            for sign in (1.0, -1.0):
                part = np.maximum(sign * dm, 0.0)
                p1 = part[:, c1].T
                p2 = np.where(has2[:, None], part[:, np.where(has2, c2, 0)].T, 0.0)
                cum = np.cumsum(np.maximum(p1, p2), axis=0)
                sp_ = a0[None, :] + sign * np.vstack([np.zeros((1, len(a0))), cum[:-1]])
                fs = pwl_loss(d, sp_)
                np.add.at(coef, c1, d.c_loss * (pwl_loss(d, sp_ + sign * p1) - fs).sum(1))
                inc2 = (pwl_loss(d, sp_ + sign * p2) - fs).sum(1)
                np.add.at(coef, c2[has2], d.c_loss * inc2[has2])
        return coef

    # -- branch and bound
    def _child(self, child: Pattern, mu: np.ndarray, rs: dict[str, np.ndarray]
               ) -> tuple[float, float, Pattern | None, dict[str, np.ndarray]]:
        b, cv, st = self.bound(child, mu, rs)
        if not np.isfinite(b):  # re-centre the responses at this node
            rs = self.responses(child)
            b, cv, st = self.bound(child, mu, rs)
        return b, cv, st, rs

    def price(self, mu: np.ndarray, inc_pats: Any = (), tol: float = 1e-6,
              time_limit: float = 60.0, root: Pattern | None = None) -> dict[str, Any]:
        """Best-first B&B from ``root`` (default: every element free); ``ub`` is a proven upper
        bound on the hour's max below ``root``, ``value``/``pattern`` the best found."""
        root = {} if root is None else dict(root)
        t0, lps0, nodes = time.perf_counter(), self.lps, 0
        inc, inc_p = -np.inf, None
        for p in inc_pats:
            val = self.value(p, mu)
            if val > inc:
                inc, inc_p = val, dict(p)
        start = inc
        cnt = itertools.count()
        b, cv, st, rs = self._child(root, mu, self.base_rs)
        root_bound = b
        if cv > inc:
            inc, inc_p = cv, {k: v for k, v in root.items() if v}
        heap = [(-b, next(cnt), root, st, rs)]
        status = "optimal"
        while heap:
            if time.perf_counter() - t0 > time_limit:
                status = "limit"
                break
            nb, _, fixed, st, rs = heapq.heappop(heap)
            nb = -nb
            if nb <= inc + tol:
                continue
            nodes += 1
            if st is not None:  # the bound's maximiser as a candidate
                cand = {**fixed, **{e: s for e, s in st.items() if s}}
                val = self.value(cand, mu)
                if val > inc:
                    inc, inc_p = val, {e: s for e, s in cand.items() if s}
                if nb <= inc + tol:
                    continue
            free = [e for e in self.elems if e not in fixed]
            if not free:
                continue
            if st is None:
                e = max(free, key=lambda e: np.nanmax(self.single[self.state_cols(e)]))
            else:
                e = self._pick(st, free, rs)
            for s in ([0, 1, 2] if e < self.n else [0, 1]):
                child = {**fixed, e: s}
                cb, cv, cst, crs = self._child(child, mu, rs)
                cb = min(cb, nb)  # the parent's bound holds for the child's completions too
                if cv > inc:
                    inc, inc_p = cv, {k: v for k, v in child.items() if v}
                if cb > inc + tol:
                    heapq.heappush(heap, (-cb, next(cnt), child, cst, crs))
        ub = max([inc + tol] + [-h[0] for h in heap])
        return {"value": inc, "pattern": inc_p, "ub": ub, "root": root_bound, "start": start,
                "nodes": nodes, "lps": self.lps - lps0, "t": time.perf_counter() - t0,
                "status": status}

    def _pick(self, st: Pattern, free: list[int], rs: dict[str, np.ndarray]) -> int:
        """Branch on the free move active in the bound's maximiser with the largest
        r-weighted flow change."""
        act = [e for e in free if st.get(e, 0)]
        r = self.d.r

        def w(e: int) -> float:
            return max(float((r * (np.abs(rs["dP"][:, j]) + np.abs(rs["dQ"][:, j]))).sum())
                       for j in self.state_cols(e))
        return max(act or free, key=w)

    def climb(self, mu: np.ndarray, pattern: Pattern, steps: int = 20
              ) -> tuple[Pattern, float]:
        """Hourly mountain climbing of ``Q_{s,h} - mu . a`` (a local max: heuristic pricing)."""
        n = self.n
        cur, cv = dict(pattern), self.value(pattern, mu)
        for _ in range(steps):
            g = self.centre(cur)[2]
            new: Pattern = {}
            for i in self.loads:
                a, b = g[i] - mu[i], g[n + i] - mu[i]
                if max(a, b) > 1e-12:
                    new[int(i)] = 1 if a >= b else 2
            for k in self.units:
                if g[2 * n + k] - mu[n + k] > 1e-12:
                    new[n + int(k)] = 1
            nv = self.value(new, mu)
            if nv <= cv + 1e-12:
                break
            cur, cv = new, nv
        return cur, cv


# ----- the Dantzig-Wolfe master (bound 2) -------------------------------------------------
def master(pricers: list[HourPricer], pats: list[list[Pattern]], budget: np.ndarray
           ) -> tuple[float, np.ndarray, np.ndarray]:
    """The restricted master LP ``max sum lambda Q_{s,h}(p)`` (one convexity row per hour,
    ``sum a lambda <= Gamma``): ``(value without c_T, mu, sigma)``."""
    vals, A, Aeq = _columns(pricers, pats, budget)
    res = linprog(-vals, A_ub=A, b_ub=budget, A_eq=Aeq, b_eq=np.ones(len(pats)), bounds=(0, 1),
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"the restricted master LP ended: {res.message}")
    return -res.fun, np.maximum(-res.ineqlin.marginals, 0.0), -res.eqlin.marginals


def integer_master(pricers: list[HourPricer], pats: list[list[Pattern]], budget: np.ndarray
                   ) -> tuple[float, list[Pattern]]:
    """The DW MILP over the patterns: one pattern per hour within the budgets (recombination,
    a realisation of ``U``)."""
    vals, A, Aeq = _columns(pricers, pats, budget)
    res = milp(-vals, constraints=[LinearConstraint(Aeq, 1, 1),
                                   LinearConstraint(A, -np.inf, budget)],
               integrality=np.ones(len(vals)), bounds=Bounds(0, 1), options={"time_limit": 60})
    if res.x is None:
        raise RuntimeError(f"the DW MILP ended without a point: {res.message}")
    choice, off = [], 0
    for ps in pats:
        choice.append(ps[int(np.argmax(res.x[off:off + len(ps)]))])
        off += len(ps)
    return -res.fun, choice


def _columns(pricers: list[HourPricer], pats: list[list[Pattern]], budget: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    zero = np.zeros(len(budget))
    vals, A, hours = [], [], []
    for h, ps in enumerate(pats):
        for p in ps:
            vals.append(pricers[h].value(p, zero))
            a = np.zeros(len(budget))
            a[[e for e, s in p.items() if s]] = 1.0
            A.append(a)
            hours.append(h)
    Aeq = np.zeros((len(pats), len(vals)))
    Aeq[hours, np.arange(len(vals))] = 1.0
    return np.array(vals), np.array(A).T, Aeq


def heuristic_cg(pricers: list[HourPricer], pats: list[list[Pattern]], budget: np.ndarray
                 ) -> tuple[float, np.ndarray, np.ndarray]:
    """Column generation with hourly climbing (from each hour's best three patterns) as the
    pricing, until no climbed pattern has a positive reduced cost."""
    while True:
        z, mu, sigma = master(pricers, pats, budget)
        added = 0
        for h, pr in enumerate(pricers):
            for st in sorted(pats[h], key=lambda p: -pr.value(p, mu))[:3]:
                p, v = pr.climb(mu, st)
                if v - sigma[h] > 1e-7 and p not in pats[h]:
                    pats[h].append(p)
                    added += 1
        if not added:
            return z, mu, sigma


# ----- the pipeline -----------------------------------------------------------------------
@dataclass
class Restriction:
    q: float  # Q at the realisation s was taken from
    c_t: float
    hours: list[HourLP]
    pricers: list[HourPricer]


def restrict(d: ScheduleData, x: dict[str, np.ndarray], xi: dict[str, np.ndarray]
             ) -> Restriction:
    ss = second_stage(d, x, xi)
    c_t, hours = decompose(d, x, {g: ss.values[g] for g in ccg.TIME_COUPLED})
    total = c_t + sum(hl.solve(hl.xi_vec(p))[0] for hl, p in zip(hours, hour_patterns(d, xi),
                                                                strict=True))
    if abs(total - ss.value) > 1e-7 * max(1.0, abs(ss.value)):
        raise RuntimeError(f"the hourly LPs sum to {total} at s's realisation, Q = {ss.value}")
    return Restriction(ss.value, c_t, hours, [HourPricer(d, hl) for hl in hours])


def merged(*groups: list[Pattern]) -> list[Pattern]:
    out: list[Pattern] = []
    for p in itertools.chain(*groups):
        if p not in out:
            out.append(p)
    return out


@dataclass
class Run:
    stages: list[tuple[str, float, str]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    hours_round1: list[dict[str, Any]] = field(default_factory=list)
    hours_mu0: list[dict[str, Any]] = field(default_factory=list)

    def stage(self, t0: float, what: str, result: str) -> None:
        self.stages.append((what, time.perf_counter() - t0, result))
        log(f"{what}: {result}")


def pipeline(d: ScheduleData, x: dict[str, np.ndarray], args: argparse.Namespace) -> Run:
    run = Run()
    t0 = time.perf_counter()
    budget = np.concatenate([d.budget_load, d.budget_res])
    pb = ccg.centred_policy_bound(d, x, nominal(d))
    best = max((climb(d, x, xi) for xi in (pb.xi, pb.xi_first_order)), key=lambda c: c.value)
    xi_w, q_w = best.xi, best.value
    run.stage(t0, "start: policy bound at the forecast, climb Q from its two candidates",
              f"policy bound {pb.value:.6f}; worst Q found {q_w:.6f}")
    # pass 1
    r1 = restrict(d, x, xi_w)
    run.stage(t0, "pass 1: s1 at that worst case; 24 hourly LPs, response sets",
              f"Q_s1 = Q there = {r1.q:.6f}; {sum(p.lps for p in r1.pricers)} LPs")
    pats = [[{}, p] for p in hour_patterns(d, xi_w)]
    z, _, _ = heuristic_cg(r1.pricers, pats, budget)
    run.stage(t0, "pass 1: heuristic CG (hourly climbing) until no column improves",
              f"RMP {r1.c_t + z:.6f}, {sum(map(len, pats))} patterns")
    zi, choice = integer_master(r1.pricers, pats, budget)
    c = climb(d, x, realisation(d, r1.hours, choice))
    run.stage(t0, "pass 1: DW MILP over the patterns, Q there, climb Q",
              f"DW MILP Q_s1 {r1.c_t + zi:.6f}; Q there {c.path[0]:.6f}; climbed {c.value:.6f}")
    if c.value > q_w:
        xi_w, q_w = c.xi, c.value
    # pass 2
    r2 = restrict(d, x, xi_w)
    run.stage(t0, "pass 2: s2 at the better worst case; hourly LPs, response sets",
              f"Q_s2 = Q there = {r2.q:.6f}")
    pats2 = [merged([{}], pats[h], [p]) for h, p in enumerate(hour_patterns(d, xi_w))]
    best_l, best_mu = np.inf, None
    proven: list[list[tuple[np.ndarray, float]]] = [[] for _ in range(d.hours)]
    for rnd in range(args.rounds):
        z, mu, sigma = heuristic_cg(r2.pricers, pats2, budget)
        run.stage(t0, f"pass 2, round {rnd + 1}: heuristic CG",
                  f"RMP {r2.c_t + z:.6f}, {sum(map(len, pats2))} patterns")
        smoothed = bool(args.smooth and best_mu is not None)
        if smoothed:  # Wentges: price between the best mu so far and the RMP's duals
            mu = args.smooth * best_mu + (1 - args.smooth) * mu
        lag = r2.c_t + float(budget @ mu)
        t1 = time.perf_counter()
        stats = []
        for h, pr in enumerate(r2.pricers):
            res = pr.price(mu, inc_pats=pats2[h], time_limit=args.hour_limit, tol=args.tol)
            if np.isfinite(res["ub"]):
                proven[h].append((mu.copy(), res["ub"]))
            else:  # an unproven node left open at the limit: an earlier round's bound
                res["ub"] = carried(pr, proven[h], mu)
                res["status"] += ", UB carried"
            lag += res["ub"]
            stats.append({"h": h, "sigma": sigma[h], **res})
            if res["pattern"] is not None and res["pattern"] not in pats2[h]:
                pats2[h].append(res["pattern"])
        if lag < best_l:
            best_l, best_mu = lag, mu.copy()
        if rnd == 0:
            run.hours_round1 = stats
        slow = max(stats, key=lambda s: s["t"])
        run.rounds.append({
            "round": rnd + 1, "mu": "smoothed" if smoothed else "RMP duals",
            "rmp": r2.c_t + z, "L": lag, "best": best_l, "found": q_w,
            "nodes": sum(s["nodes"] for s in stats), "lps": sum(s["lps"] for s in stats),
            "s": time.perf_counter() - t1, "limits": sum(s["status"] == "limit" for s in stats),
            "slowest": f"{slow['h']} ({slow['nodes']} nodes, {seconds(slow['t'])} s)"})
        run.stage(t0, f"pass 2, round {rnd + 1}: exact pricing of the 24 hours -> L(mu)",
                  f"L(mu) {lag:.6f}, best {best_l:.6f}; gap to the worst case found "
                  f"{(best_l - q_w) / best_l:.2e}")
    zi, choice = integer_master(r2.pricers, pats2, budget)
    c = climb(d, x, realisation(d, r2.hours, choice))
    q_w = max(q_w, c.value)
    run.stage(t0, "pass 2: DW MILP over the patterns, Q there, climb Q",
              f"DW MILP Q_s2 {r2.c_t + zi:.6f}; Q there {c.path[0]:.6f}; climbed {c.value:.6f}"
              f"; worst Q found {q_w:.6f}")
    if args.mu0_hours:  # for the tightness table, after the route: pass 1's hours at mu = 0
        zero = np.zeros(len(budget))
        for h in args.mu0_hours:
            pr = r1.pricers[h]
            cp, cv = pr.climb(zero, max(pats[h], key=lambda p: pr.value(p, zero)))
            res = pr.price(zero, inc_pats=[cp], tol=1e-6, time_limit=args.hour_limit * 6)
            run.hours_mu0.append({"h": h, "climbed": cv, **res})
        run.stage(t0, f"(after the route, for the table: hours {args.mu0_hours} of pass 1 "
                  "priced at mu = 0)", "")
    return run


def carried(pr: HourPricer, proven: list[tuple[np.ndarray, float]], mu: np.ndarray
            ) -> float:
    """An upper bound on the hour's max at ``mu`` from bounds proven at other ``mu'``:
    ``Q_h - mu . a = Q_h - mu' . a + (mu' - mu) . a <= UB_h(mu') + sum_e max(0, mu'_e - mu_e)``
    over the hour's elements (``a`` in ``{0, 1}``; the other elements never move)."""
    el = np.array(pr.elems, int)
    return min((ub + float(np.maximum(m - mu, 0.0)[el].sum()) for m, ub in proven),
               default=np.inf)


def write(run: Run, args: argparse.Namespace, det: float, t_det: float,
          loads: list[tuple[float, ...]]) -> None:
    la = "; ".join(" ".join(f"{v:.1f}" for v in ld) for ld in loads)
    lines = [
        "# Dantzig-Wolfe over hourly patterns, exact pricing by branch and bound", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load averages (1, 5, 15 min) at the start, before the "
        f"pipeline and at the end: {la}. case33bw 24 h, its deterministic optimum's first stage "
        f"({det:.6f} $, {seconds(t_det)} s, not part of the route), gamma 10 %, Gamma 4/4 h. "
        f"Settings: {args.hour_limit:g} s per hour, tol {args.tol:g} per hour, "
        f"{args.rounds} exact round(s), smoothing {args.smooth:g}. "
        "`python benchmarks/schedule_dw_pricing.py`; docs/schedule.md, \"Speed\", session 33.",
        "", "## The pipeline", "",
        "| stage | elapsed [s] | result |", "|---|---|---|"]
    lines += [f"| {w} | {seconds(t)} | {r} |" for w, t, r in run.stages]
    lines += ["", "## Exact rounds (each L(mu) is a valid upper bound on max Q)", "",
              "| round | mu | RMP (lower end of the DW LP) [$] | L(mu) [$] | best L [$] | "
              "worst Q found [$] | (best L - Q) / best L | nodes | LPs | pricing [s] | "
              "hours at the limit | slowest hour |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['round']} | {r['mu']} | {r['rmp']:.6f} | {r['L']:.6f} | {r['best']:.6f} | "
              f"{r['found']:.6f} | {(r['best'] - r['found']) / r['best']:.2e} | {r['nodes']} | "
              f"{r['lps']} | {seconds(r['s'])} | {r['limits']} | {r['slowest']} |"
              for r in run.rounds]
    lines += ["", "## Round 1 by hour (at the RMP's duals; sigma = the hour's dual)", "",
              "| hour | sigma | best pattern given | root bound | max found | proven UB | "
              "root - UB | nodes | LPs | time [s] | status |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {s['h']} | {s['sigma']:.6f} | {s['start']:.6f} | {s['root']:.6f} | "
              f"{s['value']:.6f} | {s['ub']:.6f} | {s['root'] - s['ub']:.2e} | {s['nodes']} | "
              f"{s['lps']} | "
              f"{seconds(s['t'])} | {s['status']} |" for s in run.hours_round1]
    if run.hours_mu0:
        lines += ["", "## Some hours at mu = 0 (restriction s1; no budgets)", "",
                  "| hour | climbed | root bound | proven max | root above max | nodes | LPs | "
                  "time [s] | status |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {s['h']} | {s['climbed']:.6f} | {s['root']:.6f} | {s['value']:.6f} | "
                  f"{(s['root'] - s['value']) / s['value']:+.2%} | {s['nodes']} | {s['lps']} | "
                  f"{seconds(s['t'])} | {s['status']} |" for s in run.hours_mu0]
    (HERE / "RESULTS_schedule_dw_pricing.md").write_text("\n".join(lines) + "\n")


# ----- --check ----------------------------------------------------------------------------
def check(seed: int) -> int:
    """B&B against enumeration and sampled node bounds against the LP, at a cheap first stage
    (``ccg.instant_start``) and ``s`` at a climbed realisation. Returns the failure count."""
    d = build_data()
    x = ccg.instant_start(d).x
    xi = climb(d, x, nominal(d), max_steps=3).xi
    rs = restrict(d, x, xi)  # raises unless the hourly LPs sum to Q at xi
    log(f"instant first stage; s at Q = {rs.q:.6f}: c_T + the 24 hourly LPs equal Q there")
    pats = hour_patterns(d, xi)
    rng = np.random.default_rng(seed)
    fails = 0
    worst, checked, skipped = -np.inf, 0, 0
    for h in (3, 12, 19):  # node bounds at random nodes vs the LP at random completions
        pr = rs.pricers[h]
        for _ in range(15):
            mu = rng.random(d.n + pr.U) * rng.choice([0.0, 0.02, 0.05])
            p_fix = rng.choice([0.0, 0.3, 0.7])
            fixed = {e: int(rng.integers(0, 3 if e < d.n else 2)) for e in pr.elems
                     if rng.random() < p_fix}
            b, _, st = pr.bound(fixed, mu, pr.base_rs)
            if st is None:
                b, _, st = pr.bound(fixed, mu, pr.responses(fixed))
            if st is None:
                skipped += 1
                continue
            for k in range(6):
                comp = {**fixed, **st} if k == 0 else {
                    **fixed, **{e: int(rng.integers(0, 3 if e < d.n else 2)) for e in pr.elems
                                if e not in fixed}}
                worst = max(worst, pr.value(comp, mu) - b)
                checked += 1
    ok = worst <= 1e-9
    fails += not ok
    log(f"node bounds vs the LP at {checked} random completions of {45 - skipped} random nodes "
        f"(hours 3, 12, 19; {skipped} not proven feasible): max(value - bound) = {worst:.2e} "
        f"({'ok' if ok else 'FAIL'})")
    for h in (19, 10, 17):  # B&B == enumeration with 7 elements free
        pr = rs.pricers[h]
        units = [e for e in pr.elems if e >= d.n]
        loads = [int(e) for e in rng.choice([e for e in pr.elems if e < d.n], 7 - len(units[:1]),
                                            replace=False)]
        free = loads + units[:1]
        root = {e: pats[h].get(e, 0) for e in pr.elems if e not in free}
        mu = np.zeros(d.n + pr.U)
        for e in free:  # near the single-move values, so that the max is not trivial
            mu[e] = max(0.0, np.nanmax(pr.single[pr.state_cols(e)])) * rng.uniform(0.3, 1.2)
        t = time.perf_counter()
        brute = max(pr.value({**root, **dict(zip(free, sts, strict=True))}, mu)
                    for sts in itertools.product(*[[0, 1, 2] if e < d.n else [0, 1]
                                                   for e in free]))
        te = time.perf_counter() - t
        r = pr.price(mu, root=root, tol=1e-9, time_limit=120)
        ok = (abs(r["value"] - brute) <= 1e-9 and r["ub"] >= brute - 1e-9
              and r["status"] == "optimal")
        other = mu * rng.uniform(0.0, 2.0, len(mu))  # a bound proven at another mu, carried
        ub2 = carried(pr, [(other, pr.price(other, root=root, tol=1e-9)["ub"])], mu)
        ok = ok and ub2 >= brute - 1e-9
        fails += not ok
        n_enum = 3 ** len(loads) * 2 ** len(units[:1])
        log(f"hour {h}, {len(free)} free: enumeration {brute:.9f} ({n_enum} points, {te:.1f} s);"
            f" B&B {r['value']:.9f}, UB {r['ub']:.9f}, root bound {r['root']:.9f}, "
            f"{r['nodes']} nodes, {r['t']:.2f} s; carried from another mu {ub2:.9f} "
            f"({'ok' if ok else 'FAIL'})")
    return fails


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hour-limit", type=float, default=10.0,
                    help="seconds of B&B per hour and round (default 10)")
    ap.add_argument("--tol", type=float, default=2e-5,
                    help="B&B tolerance per hour in $ (default 2e-5; 24 of them enter L)")
    ap.add_argument("--rounds", type=int, default=3, help="exact pricing rounds (default 3)")
    ap.add_argument("--smooth", type=float, default=0.7,
                    help="Wentges smoothing weight from round 2 on (default 0.7; 0: none)")
    ap.add_argument("--mu0-hours", type=int, nargs="*", default=[7, 12, 16, 19],
                    help="hours priced at mu = 0 for the tightness table")
    ap.add_argument("--check", action="store_true",
                    help="only the enumeration and validity checks (< 1 minute)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.check:
        fails = check(args.seed)
        log("check passed" if not fails else f"check FAILED ({fails})")
        return 1 if fails else 0
    loads = [os.getloadavg()]
    t = time.perf_counter()
    d = build_data()
    x, det = deterministic_first_stage(d)
    t_det = time.perf_counter() - t
    log(f"deterministic optimum {det:.6f} $ ({t_det:.0f} s)")
    loads.append(os.getloadavg())
    run = pipeline(d, x, args)
    loads.append(os.getloadavg())
    write(run, args, det, t_det, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
