"""A min-max bound on the robust 24 h schedule's worst case that keeps storage and EV inside
(issue 18 speed; research, not product code).

The bound. ``x`` fixed; the recourse columns split into the time-coupled ones ``s``
(``ccg.TIME_COUPLED``: pch, pdis, soc, pev, short) and the hourly ones ``y_h``. The rows of
``ccg._flatten(d, x)`` split into rows of ``s`` alone (``s in S``: SOC dynamics, EV energy,
bounds, the first stage's modes; no ``xi``) and rows of hour ``h`` (``y_h``, ``s`` and
``xi_h``). With ``F(s, xi) = c_T s + sum_h Q_h(s_h, xi_h)``, ``Q(x, xi) = min_{s in S} F``, and

    max_{xi in U} Q = max_xi min_s F <= min_s max_xi F
                   <= B* = min_{s in S, mu >= 0} c_T s + Gamma . mu
                                   + sum_h max_{p in P_h} (Q_h(s_h, p) - mu . a(p)).

Validity of a reported UB: at any ``s_bar in S`` and ``mu_bar >= 0``,
(i) ``Q(x, xi) <= F(s_bar, xi)`` (fixing recourse at feasible values restricts the LP; the rows
of ``s`` alone hold no ``xi``, so ``s_bar`` stays feasible for every ``xi``);
(ii) ``max_U F(s_bar, .) <= c_T s_bar + Gamma . mu_bar + sum_h max_p (Q_h - mu_bar . a)``
(Lagrangian weak duality on the budget rows; per hour the max is at a binary pattern since
``Q_h`` is convex in ``xi_h`` and the hour's box is integral);
(iii) each hour's max is bounded from above by ``HourPricer.price``'s ``ub`` (best-first B&B with
the policy node bound, benchmarks/schedule_dw_pricing.py's docstring, items 3-4).
So ``UB(s_bar, mu_bar) = c_T(s_bar) + Gamma . mu_bar + sum_h UB_h >= max_U Q``.
``s_bar`` comes from an LP solution: the rows of ``s`` alone are checked to 1e-6 by
``decompose`` (as in the benchmark), and the hour LPs at ``s_bar`` are solved as they are.

The master LP (its value a LOWER estimate of B*): variables ``s``, ``mu >= 0``, ``t_h`` free and,
for each hour ``h`` and pattern ``p`` in the hour's set, a copy ``y_{h,p}`` of the hour's
columns with the hour's rows at ``xi_h = p`` (coupled to ``s``), and
``t_h >= c_h y_{h,p} - mu . a(p)``; min ``c_T s + Gamma . mu + sum_h t_h``.

Pricing at the master's ``(s_bar, mu_bar)``: ``decompose(d, x, s_bar)``; heuristic (hourly
climbing from the hour's best patterns at ``mu_bar``), then exact (``HourPricer`` B&B).

    python benchmarks/schedule_minimax_bound.py small   # 3-hour sanity against brute force
    python benchmarks/schedule_minimax_bound.py det [ROUNDS SMOOTH PASS2 WALL TAG]
    python benchmarks/schedule_minimax_bound.py ccg [...]  # C&CG's final first stage (300 s)

Session 42 (research helper; measured, not kept in the product; docs/schedule.md, "Speed",
session 42). ``det`` solves the deterministic optimum first (about a minute); ``ccg`` runs
C&CG for 300 s and takes its final first stage. Results go to ``out_TAG.json`` in the current
folder. SMOOTH: pricing at ``SMOOTH * centre + (1 - SMOOTH) * master point`` (Wentges-style;
the centre the best-UB point; every such point is in the convex ``S x R+``, so its UB is
valid); with SMOOTH > 0 each exact round also prices the master's own point. PASS2 > 0: the
centre starts at session 33's pass-2 point (s at the best worst case, PASS2 exact DW rounds).
The first run's code had no master-point pricing and no pass 2. The mu sign in the t-rows
was wrong in the first draft (t_h >= c y + mu a):
the 4-bus 3-hour brute-force check caught it (mu = 0, budgets ignored, UB 8 % above).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parent))
import schedule_dw_pricing as dw

import feederopt.algorithms.ccg as ccg
from feederopt.algorithms.worst_climb import RecourseLp, climb
from feederopt.formulations.schedule import UNCERTAIN, nominal, recourse_block

INF = highspy.kHighsInf
T0 = time.perf_counter()


def log(*a: Any) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s]", *a, flush=True)


# ----- structure --------------------------------------------------------------------------
class Structure:
    """Columns and rows of the recourse at ``x`` split into ``s`` and the hours."""

    def __init__(self, d, x) -> None:
        self.d, self.x = d, x
        flat = ccg._flatten(d, x)
        rb = recourse_block(d, None)
        fixed = set(d.first_stage_groups())
        var = [g for g in rb.groups if g not in fixed and g not in UNCERTAIN]
        H = d.hours
        hours, self.tc_groups = [], []
        for g in var:
            size = rb.groups[g].size
            if g in ccg.TIME_COUPLED:
                hours += [-1] * size
                self.tc_groups.append((g, size))
            else:
                hours += list(np.arange(size) // (size // H))
        hr = np.array(hours)
        self.scols = np.flatnonzero(hr < 0)
        self.ns = len(self.scols)
        a = flat.a.tocsr()
        self.c = flat.c
        coo = a.tocoo()
        rh = np.full(a.shape[0], -1)
        yh = hr[coo.col]
        m = yh >= 0
        rh[coo.row[m]] = yh[m]
        if np.any(rh[coo.row[m]] != yh[m]):
            raise RuntimeError("a row spans hours")
        bxi = sp.hstack([flat.bxi[g] for g in ("xp", "xm", "xr")]).tocsr()
        self.n, self.U = d.n, len(d.res_bus)
        # rows of s alone
        srows = np.flatnonzero(rh < 0)
        if abs(bxi[srows]).sum() > 0:
            raise RuntimeError("a row of s alone holds xi")
        As = a[srows][:, self.scols].tocsr()
        nnz = np.diff(As.indptr)
        self.s_lb, self.s_ub = np.full(self.ns, -np.inf), np.full(self.ns, np.inf)
        keep = []
        for k, i in enumerate(srows):
            if nnz[k] == 1:
                j, v = As.indices[As.indptr[k]], As.data[As.indptr[k]]
                b = flat.r0[i] / v
                if flat.eq[i]:
                    self.s_lb[j], self.s_ub[j] = max(self.s_lb[j], b), min(self.s_ub[j], b)
                elif v > 0:
                    self.s_ub[j] = min(self.s_ub[j], b)
                else:
                    self.s_lb[j] = max(self.s_lb[j], b)
            elif nnz[k] > 1:
                keep.append(k)
            elif (flat.eq[i] and abs(flat.r0[i]) > 1e-9) or (not flat.eq[i] and flat.r0[i] < -1e-9):
                raise RuntimeError("an empty row is violated")
        self.S_A = As[keep]
        self.S_r, self.S_eq = flat.r0[srows[keep]], flat.eq[srows[keep]]
        # per hour
        self.hour = []
        xoff = {"xp": 0, "xm": H * self.n, "xr": 2 * H * self.n}
        for h in range(H):
            rows = np.flatnonzero(rh == h)
            ycols = np.flatnonzero(hr == h)
            Ay = a[rows][:, ycols].tocsr()
            Asr = a[rows][:, self.scols].tocsr()
            Bh = bxi[rows].tocsr()
            ny, nsr = np.diff(Ay.indptr), np.diff(Asr.indptr)
            single = (ny == 1) & (nsr == 0)
            # xi columns of hour h, in HourLP's order [xp (n), xm (n), xr (U)]
            xic = np.concatenate([xoff["xp"] + h * self.n + np.arange(self.n),
                                  xoff["xm"] + h * self.n + np.arange(self.n),
                                  xoff["xr"] + h * self.U + np.arange(self.U)])
            other = np.setdiff1d(np.arange(bxi.shape[1]), xic)
            if abs(Bh[:, other]).sum() > 0:
                raise RuntimeError(f"hour {h}'s rows hold other hours' xi")
            self.hour.append({
                "ycols": ycols, "c": flat.c[ycols], "single": np.flatnonzero(single),
                "rows": np.flatnonzero(~single), "Ay": Ay, "As": Asr, "r": flat.r0[rows],
                "eq": flat.eq[rows], "B": Bh[:, xic].tocsr()})
        log(f"structure: {self.ns} time-coupled columns, {self.S_A.shape[0]} rows of s alone; "
            f"per hour {len(self.hour[0]['ycols'])} columns, {len(self.hour[0]['rows'])} rows "
            f"(+{len(self.hour[0]['single'])} bounds)")

    def xi_vec(self, p: dict[int, int]) -> np.ndarray:
        n = self.n
        v = np.zeros(2 * n + self.U)
        for e, st in p.items():
            if st and e < n:
                v[e if st == 1 else n + e] = 1.0
            elif st:
                v[2 * n + e - n] = 1.0
        return v

    def s_dict(self, s: np.ndarray) -> dict[str, np.ndarray]:
        out, off = {}, 0
        for g, size in self.tc_groups:
            out[g] = s[off:off + size].copy()
            off += size
        return out


# ----- the master LP ----------------------------------------------------------------------
class Master:
    def __init__(self, st: Structure) -> None:
        self.st = st
        d = st.d
        self.budget = np.concatenate([d.budget_load, d.budget_res])
        self.ne = len(self.budget)
        self.hs = highspy.Highs()
        hs = self.hs
        hs.setOptionValue("output_flag", False)
        # columns: s, mu, t
        ns = st.ns
        cs = st.c[st.scols]
        hs.addVars(ns, st.s_lb, st.s_ub)
        hs.changeColsCost(ns, np.arange(ns, dtype=np.int32), cs)
        self.mu0 = ns
        ub_mu = np.where(self.budget > 0, INF, 0.0)
        hs.addVars(self.ne, np.zeros(self.ne), ub_mu)
        hs.changeColsCost(self.ne, np.arange(ns, ns + self.ne, dtype=np.int32), self.budget)
        self.t0 = ns + self.ne
        H = d.hours
        hs.addVars(H, np.full(H, -INF), np.full(H, INF))
        hs.changeColsCost(H, np.arange(self.t0, self.t0 + H, dtype=np.int32), np.ones(H))
        self.ncol = self.t0 + H
        A = st.S_A.tocsr()
        lo = np.where(st.S_eq, st.S_r, -INF)
        hs.addRows(A.shape[0], lo, st.S_r, A.nnz, A.indptr[:-1].astype(np.int32),
                   A.indices.astype(np.int32), A.data)
        self.pats: list[list[dict[int, int]]] = [[] for _ in range(H)]
        hs.setOptionValue("simplex_strategy", 1)  # dual simplex: rows/cols added, warm start

    def add(self, h: int, p: dict[int, int]) -> bool:
        p = {e: s for e, s in p.items() if s}
        if p in self.pats[h]:
            return False
        st, hd = self.st, self.st.hour[h]
        hs = self.hs
        xiv = st.xi_vec(p)
        rhs = hd["r"] - hd["B"] @ xiv
        ny = len(hd["ycols"])
        lb, ub = np.full(ny, -np.inf), np.full(ny, np.inf)
        Ay = hd["Ay"]
        for i in hd["single"]:
            j, v = Ay.indices[Ay.indptr[i]], Ay.data[Ay.indptr[i]]
            b = rhs[i] / v
            if hd["eq"][i]:
                lb[j], ub[j] = max(lb[j], b), min(ub[j], b)
            elif v > 0:
                ub[j] = min(ub[j], b)
            else:
                lb[j] = max(lb[j], b)
        y0 = self.ncol
        hs.addVars(ny, np.where(np.isfinite(lb), lb, -INF), np.where(np.isfinite(ub), ub, INF))
        self.ncol += ny
        rows = hd["rows"]
        M = sp.hstack([hd["As"][rows], sp.csr_matrix((len(rows), y0 - st.ns)),
                       Ay[rows]]).tocsr()
        # t row: c y - t_h - mu . a(p) <= 0
        tr = np.zeros(self.ncol)
        tr[y0:y0 + ny] = hd["c"]
        tr[self.t0 + h] = -1.0
        for e in p:
            tr[self.mu0 + e] = -1.0
        M = sp.vstack([M, sp.csr_matrix(tr[None, :])]).tocsr()
        r = np.concatenate([rhs[rows], [0.0]])
        eq = np.concatenate([hd["eq"][rows], [False]])
        hs.addRows(M.shape[0], np.where(eq, r, -INF), r, M.nnz,
                   M.indptr[:-1].astype(np.int32), M.indices.astype(np.int32), M.data)
        self.pats[h].append(p)
        return True

    def solve(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
        t = time.perf_counter()
        self.hs.run()
        stt = self.hs.getModelStatus()
        if stt != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master ended {stt}")
        x = np.array(self.hs.getSolution().col_value)
        val = self.hs.getInfo().objective_function_value
        s = x[:self.st.ns]
        mu = np.maximum(x[self.mu0:self.mu0 + self.ne], 0.0)
        tt = x[self.t0:self.t0 + self.st.d.hours]
        return val, s, mu, tt, time.perf_counter() - t


# ----- pricing ----------------------------------------------------------------------------
def lazy_pricers(d, hours):
    real = dw.HourPricer.responses
    dw.HourPricer.responses = lambda self, fixed, cold=False: None  # type: ignore
    try:
        prs = [dw.HourPricer(d, hl) for hl in hours]
    finally:
        dw.HourPricer.responses = real  # type: ignore
    return prs


def at_point(st: Structure, s: np.ndarray):
    t = time.perf_counter()
    s = np.array(s, float)
    lo, hi = st.s_lb, st.s_ub  # clip to the column bounds (LP noise)
    s = np.minimum(np.maximum(s, np.where(np.isfinite(lo), lo, -np.inf)),
                   np.where(np.isfinite(hi), hi, np.inf))
    c_t, hours = dw.decompose(st.d, st.x, st.s_dict(s))
    prs = lazy_pricers(st.d, hours)
    return c_t, hours, prs, time.perf_counter() - t


def heuristic(prs, pats, mu, tol=1e-7, top=2):
    """Hourly climbing from each hour's best ``top`` patterns at ``mu``: per hour the best
    climbed pattern if its ``Q_h - mu . a`` exceeds the max over the hour's patterns (the
    master's model at this point)."""
    new, vmax = [], []
    for h, pr in enumerate(prs):
        starts = sorted(pats[h], key=lambda p: -pr.value(p, mu))[:top]
        vm = pr.value(starts[0], mu)
        vmax.append(vm)
        best, bv = None, vm + tol
        for p0 in starts:
            p, v = pr.climb(mu, p0)
            if v > bv and p not in pats[h]:
                best, bv = p, v
        new.append([best] if best is not None else [])
    return new, np.array(vmax)


def exact(prs, pats, mu, hour_limit, tol):
    ubs, best, stats = [], [], []
    for h, pr in enumerate(prs):
        if pr.base_rs is None:
            pr.base_rs = pr.responses({}, cold=True)
        r = pr.price(mu, inc_pats=pats[h], time_limit=hour_limit, tol=tol)
        ubs.append(r["ub"])
        best.append((r["pattern"], r["value"]))
        stats.append(r)
    return np.array(ubs), best, stats


# ----- worst cases ------------------------------------------------------------------------
def realisation(st: Structure, pats):
    d = st.d
    n, U = d.n, len(d.res_bus)
    xi = nominal(d)
    for h, p in enumerate(pats):
        v = st.xi_vec(p)
        xi["xp"][h * n:(h + 1) * n] = v[:n]
        xi["xm"][h * n:(h + 1) * n] = v[n:2 * n]
        xi["xr"][h * U:(h + 1) * U] = v[2 * n:]
    return xi


def dw_support(prs, pats, budget):
    """The DW LP at fixed s over ``pats``: its value and the patterns with lambda > 0."""
    vals, A, Aeq = dw._columns(prs, pats, budget)
    res = linprog(-vals, A_ub=A, b_ub=budget, A_eq=Aeq, b_eq=np.ones(len(pats)),
                  bounds=(0, 1), method="highs")
    out, off = [], 0
    for ps in pats:
        lam = res.x[off:off + len(ps)]
        out.append([p for p, w in zip(ps, lam, strict=True) if w > 1e-9])
        off += len(ps)
    return -res.fun, out


# ----- the route --------------------------------------------------------------------------
def seed(d, x, lp: RecourseLp, st: Structure, budget, pass2: int = 0, hour_limit=10.0,
         tol=2e-5):
    """The benchmark's start and pass 1: climbed policy candidates, the DW at s1 (heuristic
    CG), the DW MILP's recombination climbed. With ``pass2`` > 0 also the benchmark's pass 2:
    s2 at the better worst case, heuristic CG, ``pass2`` exact rounds (Wentges 0.7) at s2:
    the centre is then (s2, the best mu), whose UB is session 33's L(mu). Returns the worst
    cases, the seed patterns, the time, the DW value, the centre and its UB (or inf)."""
    t = time.perf_counter()
    pb = ccg.centred_policy_bound(d, x, nominal(d))
    cands = [climb(d, x, xi, lp=lp) for xi in (pb.xi, pb.xi_first_order)]
    best = max(cands, key=lambda c: c.value)
    log(f"seed: policy bound {pb.value:.6f}, climbed {[round(c.value, 6) for c in cands]}")
    ss = lp.solve(best.xi)
    s1 = np.concatenate([ss.values[g] for g, _ in st.tc_groups])
    c_t, _hours, prs, _ = at_point(st, s1)
    pats = [[{}, p] for p in dw.hour_patterns(d, best.xi)]
    z, mu1, _ = dw.heuristic_cg(prs, pats, budget)
    zi, choice = dw.integer_master(prs, pats, budget)
    c = climb(d, x, realisation(st, choice), lp=lp)
    worst = [(best.value, best.xi), (c.value, c.xi)]
    log(f"seed: DW at s1 {c_t + z:.6f} ({sum(map(len, pats))} patterns), DW MILP {c_t + zi:.6f}, "
        f"climbed {c.value:.6f}; {time.perf_counter() - t:.1f} s")
    centre, ub0, dwv = (s1, mu1), np.inf, c_t + z
    if pass2:
        xw = max(worst, key=lambda w: w[0])[1]
        ss = lp.solve(xw)
        s2 = np.concatenate([ss.values[g] for g, _ in st.tc_groups])
        c_t, _hours, prs, _ = at_point(st, s2)
        pats = [dw.merged([{}], pats[h], [p]) for h, p in enumerate(dw.hour_patterns(d, xw))]
        best_mu = None
        for rnd in range(pass2):
            z, mu, _ = dw.heuristic_cg(prs, pats, budget)
            if best_mu is not None:
                mu = 0.7 * best_mu + 0.3 * mu
            ubs, bestp, _ = exact(prs, pats, mu, hour_limit, tol)
            ub = c_t + float(budget @ mu) + ubs.sum()
            for h, (p, _v) in enumerate(bestp):
                if p is not None and p not in pats[h]:
                    pats[h].append(p)
            if ub < ub0:
                ub0, best_mu = ub, mu.copy()
            log(f"seed pass 2 round {rnd + 1}: DW RMP at s2 {c_t + z:.6f}, L(mu) {ub:.6f}, "
                f"best {ub0:.6f}; {time.perf_counter() - t:.1f} s")
        zi, choice = dw.integer_master(prs, pats, budget)
        c2 = climb(d, x, realisation(st, choice), lp=lp)
        worst.append((c2.value, c2.xi))
        centre, dwv = (s2, best_mu), c_t + z
    _zs, supp = dw_support(prs, pats, budget)
    seeds = [dw.merged([{}], supp[h], *[[dw.hour_patterns(d, w[1])[h]] for w in worst])
             for h in range(d.hours)]
    return worst, seeds, time.perf_counter() - t, dwv, centre, ub0


def route(d, x, label, rounds=8, hour_limit=10.0, tol=2e-5, max_heur=4, wall=900.0,
          smooth=0.5, pass2=0, min_viol=1e-7):
    """Stabilised row-and-column generation: pricing at ``smooth * centre + (1 - smooth) *
    master`` (``centre``: the best-UB point so far, first the DW point at s1; both in S x R+,
    which is convex, so every pricing point is a valid ``(s_bar, mu_bar)``)."""
    t_start = time.perf_counter()
    budget = np.concatenate([d.budget_load, d.budget_res])
    lp = RecourseLp(d, x)
    st = Structure(d, x)
    worst, seeds, t_seed, dw_s1, centre, ub0 = seed(d, x, lp, st, budget, pass2, hour_limit,
                                                    tol)
    q_w = max(w[0] for w in worst)
    ms = Master(st)
    for h in range(d.hours):
        for p in seeds[h]:
            ms.add(h, p)
    log(f"master seeded with {sum(map(len, ms.pats))} patterns; worst found {q_w:.6f}")
    rows = []
    best_ub = ub0
    log(f"centre's UB {ub0:.6f}")
    k, exact_rounds, since = 0, 0, 0
    val = -np.inf
    while exact_rounds < rounds and time.perf_counter() - t_start < wall:
        k += 1
        row = {"it": k}
        if k == 1 and not np.isfinite(best_ub):  # round 0: exact pricing at the centre
            s_p, mu_p = centre
            t_m = 0.0
        else:
            val, s, mu, tt, t_m = ms.solve()
            s_p = smooth * centre[0] + (1 - smooth) * s
            mu_p = smooth * centre[1] + (1 - smooth) * mu
            row["master"] = val
        c_t, _hours, prs, t_dec = at_point(st, s_p)
        t1 = time.perf_counter()
        new, vmax = heuristic(prs, ms.pats, mu_p, tol=min_viol)
        t_h = time.perf_counter() - t1
        model = c_t + float(budget @ mu_p) + vmax.sum()  # the master's model at the point
        added = sum(ms.add(h, p) for h in range(d.hours) for p in new[h])
        since += 1
        row.update({"model_at_p": model, "t_master": t_m, "t_decomp": t_dec, "t_heur": t_h,
                    "added_heur": added, "rows": ms.hs.getNumRow()})
        do_exact = (k == 1 and not np.isfinite(best_ub)) or added == 0 or since >= max_heur
        if do_exact:
            since = 0
            exact_rounds += 1
            t1 = time.perf_counter()
            ubs, bestp, stats = exact(prs, ms.pats, mu_p, hour_limit, tol)
            t_e = time.perf_counter() - t1
            ub = c_t + float(budget @ mu_p) + ubs.sum()
            if ub < best_ub:
                best_ub, centre = ub, (s_p.copy(), mu_p.copy())
            added_e = sum(ms.add(h, p) for h, (p, v) in enumerate(bestp)
                          if p is not None and v > vmax[h] + 1e-7)
            t1 = time.perf_counter()
            _zi, choice = dw.integer_master(prs, ms.pats, budget)
            xi_r = realisation(st, choice)
            q = lp.solve(xi_r).value
            c = climb(d, x, xi_r, lp=lp)
            if c.value > q_w:
                q_w = c.value
            worst.append((c.value, c.xi))
            if k > 1 and smooth > 0:  # also exactly at the master's own point
                c_tm, _, prs_m, _ = at_point(st, s)
                t2 = time.perf_counter()
                ubs_m, bestp_m, stats_m = exact(prs_m, ms.pats, mu, hour_limit, tol)
                ub_m = c_tm + float(budget @ mu) + ubs_m.sum()
                if ub_m < best_ub:
                    best_ub, centre = ub_m, (s.copy(), mu.copy())
                added_e += sum(ms.add(h, p) for h, (p, v) in enumerate(bestp_m)
                               if p is not None and v > tt[h] + 1e-7)
                row.update({"ub_master_point": ub_m, "t_exact_master_point":
                            time.perf_counter() - t2,
                            "limits_mp": sum(r["status"] == "limit" for r in stats_m)})
            row.update({"ub": ub, "best_ub": best_ub, "t_exact": t_e, "added_exact": added_e,
                        "nodes": sum(r["nodes"] for r in stats),
                        "limits": sum(r["status"] == "limit" for r in stats),
                        "slowest": max(r["t"] for r in stats), "recomb": q, "climbed": c.value,
                        "t_recomb": time.perf_counter() - t1})
        row.update({"worst": q_w, "elapsed": time.perf_counter() - t_start})
        rows.append(row)
        log(json.dumps({kk: (round(v, 6) if isinstance(v, float) else v)
                        for kk, v in row.items()}))
        if do_exact and (best_ub - max(val, q_w)) / best_ub < 1e-5:
            break
    return {"label": label, "rows": rows, "worst": q_w, "best_ub": best_ub, "t_seed": t_seed,
            "dw_s1": dw_s1, "patterns": sum(map(len, ms.pats)), "last_master": val}


# ----- 3-hour sanity ----------------------------------------------------------------------
def small(which: str):
    from feederopt.api_schedule import schedule_inputs
    from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
    net, dev, prof = schedule_inputs("case33bw", hours=3)
    if which == "test":
        stn = ScheduleSettings(hours=3, gamma=0.3, budget=1.0, uncertain_buses=("12",))
    else:  # four buses (feeder ends and bus 12), budget 1 each: 7^4 extreme points
        stn = ScheduleSettings(hours=3, gamma=0.3, budget=1.0,
                               uncertain_buses=("18", "33", "25", "12"))
    d = build_schedule_data(net, dev, prof, stn)
    sol = ccg.solve_deterministic(d, gap=1e-6, time_limit_s=120)
    x = {"y": sol.closed[0], "z": sol.z}
    pts = None
    try:
        pts = ccg.extreme_points(d, limit=200000)
    except ValueError as e:
        log(str(e))
    lp = RecourseLp(d, x)
    t = time.perf_counter()
    brute = max(lp.solve(xi).value for xi in pts)
    log(f"{which}: {len(pts)} extreme points, brute-force max {brute:.9f} "
        f"({time.perf_counter() - t:.1f} s)")
    res = route(d, x, f"small-{which}", rounds=6, hour_limit=30.0, tol=1e-7)
    log(f"{which}: best UB {res['best_ub']:.9f} vs brute {brute:.9f}: "
        f"UB - brute = {res['best_ub'] - brute:.3e} "
        f"({(res['best_ub'] - brute) / brute:.2e} rel); worst found {res['worst']:.9f}")
    res["brute"] = brute
    res["points"] = len(pts)
    return res


def first_stage(d: Any, which: str) -> dict[str, Any]:
    """The first stage to bound at: ``det`` the deterministic optimum, ``ccg`` C&CG's final
    one after 300 s (gap 1e-3)."""
    if which == "det":
        x, det = dw.deterministic_first_stage(d)
        return {"x": x, "det": det}
    res = ccg.solve_ccg(d, gap=1e-3, time_limit_s=300)
    return {"x": {"y": res.closed[0], "z": res.z}, "ub": res.objective,
            "lb": res.lower_bound}


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "det"
    if which in ("small", "small-test", "small-big"):
        out = [small(w) for w in (("test", "big") if which == "small" else (which[6:],))]
    else:
        d = dw.build_data()
        fs = first_stage(d, which)
        log(f"first stage {which}: {({k: v for k, v in fs.items() if k in ('det', 'ub', 'lb')})}")
        rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
        smooth = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
        pass2 = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        wall = float(sys.argv[5]) if len(sys.argv) > 5 else 900.0
        tag = sys.argv[6] if len(sys.argv) > 6 else which
        out = [route(d, fs["x"], tag, rounds=rounds, smooth=smooth, pass2=pass2, wall=wall,
                     min_viol=1e-5 if pass2 else 1e-7)]
    name = sys.argv[6] if len(sys.argv) > 6 else which
    Path(f"out_{name}.json").write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
