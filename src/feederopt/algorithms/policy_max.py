"""The exact maximum of the recourse policy's cost over the budget set: a MILP.

:mod:`~feederopt.algorithms.policy_bound` bounds ``max_xi Q(x, xi)`` by the cost of a feasible
recourse policy, and bounds that cost in turn by linear functions of ``xi`` (chords of the
loss over each flow's range, telescoped increments), whose maximum over the set is a sort. The
linearisation is the looser half of that bound (24 h robust case33bw at the deterministic
first stage: linear bound 15.461 $, the policy's exact maximum 15.425 $, the LP's worst case
found 15.367 $). Here the policy's cost itself is maximised:

``max_xi  cost0 + sum_h direct_h xs_h + c_l sum_{h,b} (phi_b(F_hb(xi)) - phi_b(F_hb(0)))``

over the budget set, with ``F_hb = P0_hb + dP_hb xs_h`` (and the same for ``Q``) the policy's
flows, affine in ``xi``, and ``phi_b`` the model's convex piecewise-linear loss (its tangents;
Frangioni & Gentile 2006 for the perspective, here with ``y`` fixed). Maximising a convex
function needs binaries: each ``phi_b`` is written by the convex-combination ("lambda")
formulation over its breakpoints within the exact range ``[lo, hi]`` of ``F_hb`` on the set,
``F = sum_k lambda_k p_k``, ``phi = sum_k lambda_k phi(p_k)``, ``sum lambda = 1``, with one binary
per segment and ``lambda_k <= delta_{k-1} + delta_k``, ``sum delta = 1`` (the SOS2 condition;
Dantzig 1960, see Vielma, Ahmed & Nemhauser, "Mixed-integer models for nonseparable piecewise
linear optimization", Oper. Res. 58(2), 2010). A flow whose range lies within one linear piece
needs none. The valid linear bounds of the policy bound enter as rows ``total <= cost0 + beta
xi`` (they hold at every binary ``xi``), so the LP relaxation is at least as tight.

Validity: the MILP's dual bound is ``>= max_xi policy cost >= max_xi Q(x, xi)`` at any stop
(time limit included), so it is an upper bound for C&CG. ``xi`` is declared binary only when
every budget is an integer: the set's extreme points are then binary (each element's rows
``xp + xm <= 1`` per hour and ``sum_h (xp + xm) <= Gamma`` are a laminar family, a totally
unimodular matrix), and the policy's cost, convex in ``xi``, attains its maximum at one of
them; otherwise no MILP is built (the telescoped rows hold for binary ``xi`` only).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from feederopt.algorithms.policy_bound import PolicyTerms, _row_max, policy_cost, pwl_loss
from feederopt.formulations.blocks import Block, Group, Sense
from feederopt.formulations.schedule import ScheduleData, nominal
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.status import SolverStatus, Status


@dataclass
class PolicyMax:
    """``bound >= max_xi Q(x, xi)``; ``value`` the policy's cost at ``xi`` (nan when none)."""

    bound: float
    value: float
    xi: dict[str, np.ndarray] | None
    status: Status
    solve_s: float
    columns: int = 0  # binary xi
    segments: int = 0  # binary segment selectors of the loss terms


def kinks(d: ScheduleData) -> np.ndarray:
    """The breakpoints of ``phi(P) = max(0, max_{a in +-A} (2 a P - a^2))`` (per unit ``r``):
    where consecutive pieces of the upper envelope of those lines meet."""
    a = np.asarray(d.tangents, float)
    lines = sorted({(0.0, 0.0)} | {(2 * v, -v * v) for v in np.concatenate([a, -a])})
    hull: list[tuple[float, float]] = []
    for s, c in lines:
        while len(hull) >= 2:
            (s1, c1), (s2, c2) = hull[-2], hull[-1]
            if (c2 - c) / (s - s2) <= (c1 - c2) / (s2 - s1):
                hull.pop()
            else:
                break
        hull.append((s, c))
    return np.array([(c1 - c2) / (s2 - s1) for (s1, c1), (s2, c2) in itertools.pairwise(hull)])


@dataclass
class _LambdaSet:
    """One flow's convex-combination variables: ``F = f0 + coef xi[xi_cols] = sum lam pts``."""

    pts: np.ndarray
    lam: list[int]
    sel: list[int]
    f0: float
    xi_cols: np.ndarray
    coef: np.ndarray


class _Builder:
    """Columns and rows in coordinate form; the groups ``xi``, ``lam``, ``sel``, ``total``."""

    def __init__(self) -> None:
        self.cols: dict[str, int] = {"xi": 0, "lam": 0, "sel": 0}
        self.rows: list[tuple[dict[tuple[str, int], float], float, bool]] = []  # (terms, rhs, eq)
        self.lam_cost: list[float] = []

    def new(self, group: str) -> int:
        self.cols[group] += 1
        return self.cols[group] - 1

    def row(self, terms: dict[tuple[str, int], float], rhs: float, eq: bool) -> None:
        self.rows.append((terms, rhs, eq))

    def block(self, integer_xi: bool) -> Block:
        b = Block()
        b.add_group(Group.new("xi", self.cols["xi"], 0.0, 1.0, integer=integer_xi))
        b.add_group(Group.new("lam", self.cols["lam"], 0.0, 1.0))
        b.add_group(Group.new("sel", self.cols["sel"], 0.0, 1.0, integer=True))
        b.add_group(Group.new("total", 1))
        b.add_objective("total", -np.ones(1))  # HiGHS minimises: max total
        sizes = {**self.cols, "total": 1}
        for eq in (True, False):
            sel = [r for r in self.rows if r[2] == eq]
            if not sel:
                continue
            coo: dict[str, tuple[list[int], list[int], list[float]]] = {
                g: ([], [], []) for g in sizes}
            for i, (terms, _, _) in enumerate(sel):
                for (g, j), v in terms.items():
                    coo[g][0].append(i)
                    coo[g][1].append(j)
                    coo[g][2].append(v)
            mats = {g: sp.csr_matrix((v, (r, c)), shape=(len(sel), sizes[g]))
                    for g, (r, c, v) in coo.items() if v}
            b.add_rows("eq" if eq else "le", mats, Sense.EQ if eq else Sense.LE,
                       np.array([r[1] for r in sel]))
        return b


def _integral_budgets(d: ScheduleData) -> bool:
    n, U = d.n, len(d.res_bus)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    gr = d.budget_res if d.budget_res is not None else np.zeros(U)
    return not (np.any(np.abs(gl - np.round(gl)) > 1e-9)
                or np.any(np.abs(gr - np.round(gr)) > 1e-9))


@dataclass
class _Milp:
    block: Block
    xi_col: dict[tuple[str, int, int], int]
    lam_sets: list[_LambdaSet]
    cols: dict[str, int]


def policy_max(d: ScheduleData, terms: PolicyTerms, time_limit_s: float,
               start: dict[str, np.ndarray] | None = None,
               built: _Milp | None = None) -> PolicyMax | None:
    """Maximise the policy's cost over the budget set (module docstring); ``start`` a
    realisation to start from (its cost is the first incumbent). None when a budget is not an
    integer."""
    t0 = time.perf_counter()
    if not _integral_budgets(d):
        return None
    n, U = d.n, len(d.res_bus)
    milp = built if built is not None else _build(d, terms)
    model = HighsModel(milp.block)
    model.set_time_limit(time_limit_s)
    model.set_gap(1e-6)
    if start is not None:
        model.warm_start(_start_point(d, terms, start, milp.xi_col, milp.lam_sets, milp.cols))
    sol = model.solve()
    xi = None
    value = math.nan
    if sol.has_solution:
        xv = model.values()["xi"]
        xi = nominal(d)
        for (nm, h, e), c in milp.xi_col.items():
            xi[nm][h * (n if nm != "xr" else U) + e] = float(round(xv[c]))
        value = -float(sol.objective)
    bound = -float(sol.bound) if np.isfinite(sol.bound) else math.inf
    status = Status.OPTIMAL if sol.status is SolverStatus.OPTIMAL else Status.TIME_LIMIT
    return PolicyMax(bound, value, xi, status, time.perf_counter() - t0, milp.cols["xi"],
                     milp.cols["sel"])


def policy_max_auto(d: ScheduleData, terms: PolicyTerms, time_limit_s: float,
                    starts: Sequence[dict[str, np.ndarray]], one_milp_binaries: int
                    ) -> tuple[str, PolicyMax | None]:
    """:func:`policy_max` when its MILP has at most ``one_milp_binaries`` binaries (``xi`` and
    the loss segments; built once), otherwise :func:`policy_max_by_hours`; with which one ran."""
    if not _integral_budgets(d):
        return "none", None
    milp = _build(d, terms)
    if milp.cols["xi"] + milp.cols["sel"] <= one_milp_binaries:
        return "one MILP", policy_max(d, terms, time_limit_s, starts[0] if starts else None,
                                      built=milp)
    return "by hours", policy_max_by_hours(d, terms, time_limit_s, starts)


def _build(d: ScheduleData, terms: PolicyTerms) -> _Milp:
    """The MILP of :func:`policy_max` (objective ``-total``)."""
    n, U = d.n, len(d.res_bus)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    gr = d.budget_res if d.budget_res is not None else np.zeros(U)
    bk = kinks(d)
    b = _Builder()
    xi_col: dict[tuple[str, int, int], int] = {}
    total: dict[tuple[str, int], float] = {("total", 0): 1.0}  # total - expr == const
    const = terms.cost0
    lam_sets: list[_LambdaSet] = []
    for h, el, dP, dQ, direct in terms.hours:
        names = np.array(["xp", "xm", "xr"])[el.kind]
        jc = []
        for j, (nm, e) in enumerate(zip(names, el.elem, strict=True)):
            key = (str(nm), h, int(e))
            if key not in xi_col:
                xi_col[key] = b.new("xi")
            jc.append(xi_col[key])
            total[("xi", jc[-1])] = total.get(("xi", jc[-1]), 0.0) - float(direct[j])
        for arr0, dmat in ((terms.p0[h], dP), (terms.q0[h], dQ)):
            up = _row_max(dmat, el, n, U)
            dn = _row_max(-dmat, el, n, U)
            f0 = pwl_loss(d, arr0)
            for br in range(len(arr0)):
                nz = np.flatnonzero(np.abs(dmat[br]) > 1e-12)
                if not len(nz):
                    continue
                lo, hi = arr0[br] - dn[br], arr0[br] + up[br]
                pts = np.array([lo, *[k for k in bk if lo + 1e-12 < k < hi - 1e-12], hi])
                grid = np.tile(arr0, (len(pts), 1))
                grid[:, br] = pts
                phis = pwl_loss(d, grid)[:, br]
                const -= d.c_loss * float(f0[br])
                if len(pts) == 2:  # one linear piece: phi(F) = phi(lo) + slope (F - lo)
                    slope = (phis[1] - phis[0]) / (hi - lo) if hi - lo > 1e-12 else 0.0
                    const += d.c_loss * float(phis[0] + slope * (arr0[br] - lo))
                    for jj in nz:
                        key2 = ("xi", jc[int(jj)])
                        total[key2] = total.get(key2, 0.0) - d.c_loss * slope * float(dmat[br, jj])
                    continue
                lam = [b.new("lam") for _ in pts]
                sel = [b.new("sel") for _ in range(len(pts) - 1)]
                for c, ph in zip(lam, phis, strict=True):
                    total[("lam", c)] = -d.c_loss * float(ph)
                b.row({("lam", c): 1.0 for c in lam}, 1.0, True)
                b.row({("sel", c): 1.0 for c in sel}, 1.0, True)
                flow: dict[tuple[str, int], float] = {("lam", c): float(p)
                                                      for c, p in zip(lam, pts, strict=True)}
                for jj in nz:
                    key2 = ("xi", jc[int(jj)])
                    flow[key2] = flow.get(key2, 0.0) - float(dmat[br, jj])
                b.row(flow, float(arr0[br]), True)  # sum lam p = F(xi)
                for k, c in enumerate(lam):
                    adj = [sel[s] for s in (k - 1, k) if 0 <= s < len(sel)]
                    b.row({("lam", c): 1.0, **{("sel", s): -1.0 for s in adj}}, 0.0, False)
                lam_sets.append(_LambdaSet(pts, lam, sel, float(arr0[br]),
                                           np.array([jc[j] for j in nz]), dmat[br, nz].copy()))
    b.row(total, const, True)
    # the budget set: xp + xm <= 1 per bus and hour, sum over the hours <= Gamma per element
    per: dict[tuple[bool, int], list[int]] = {}
    for (nm, h, e), c in xi_col.items():
        per.setdefault((nm == "xr", e), []).append(c)
        if nm == "xp" and ("xm", h, e) in xi_col:
            b.row({("xi", c): 1.0, ("xi", xi_col[("xm", h, e)]): 1.0}, 1.0, False)
    for (res, e), cs in per.items():
        b.row({("xi", c): 1.0 for c in cs}, float(gr[e] if res else gl[e]), False)
    # the linear bounds: total <= cost0 + beta xi
    for beta in terms.betas:
        cut: dict[tuple[str, int], float] = {("total", 0): 1.0}
        for (nm, h, e), c in xi_col.items():
            cut[("xi", c)] = -float(beta[nm][h, e])
        b.row(cut, terms.cost0, False)
    return _Milp(b.block(integer_xi=True), xi_col, lam_sets, dict(b.cols))


def policy_max_by_hours(d: ScheduleData, terms: PolicyTerms, time_limit_s: float,
                        starts: Sequence[dict[str, np.ndarray]] = (),
                        hour_limit_s: float = 2.0) -> PolicyMax | None:
    """The same maximum bounded by Dantzig-Wolfe decomposition over the hours (Dantzig &
    Wolfe, Oper. Res. 8(1), 1960): the policy's cost is a sum of per-hour terms ``c_h(xi_h)``
    and only the budgets ``sum_h a_e(xi_h) <= Gamma_e`` couple the hours, so for every
    ``mu >= 0`` (Lagrangian relaxation of the budgets)

    ``max_xi sum_h c_h(xi_h) <= L(mu) = cost0 + sum_e Gamma_e mu_e + sum_h max_{xi_h}
    (c_h(xi_h) - mu a(xi_h))``,

    each hour's maximum a small MILP of :func:`policy_max`'s form (its dual bound, so ``L`` is
    valid when a pricing stops at ``hour_limit_s``). ``mu`` starts at the sort's thresholds of
    the linear bounds (so ``L(mu0) <=`` the linear bound: ``c_h(xi_h) <= beta_h xi_h``) and
    moves by subgradient steps ``mu <- max(0, mu - t (L - target) / |g|^2 g)``, ``g = Gamma -
    sum_h a(xi_h*)`` (Polyak's rule; ``target`` the master LP over the hourly patterns found,
    the Dantzig-Wolfe restricted master). ``bound`` is the smallest ``L(mu)``; ``value`` and
    ``xi`` the best binary combination of the patterns (that master as a MILP), a candidate
    worst case. 24 h robust case69bw at the deterministic first stage: ``L(mu0)`` 4.6697 $ in
    12 s, 4.6659 $ after 150 s, where the one MILP of :func:`policy_max` had 4.6814 $ after
    150 s and the linear bound is 4.6993 $."""
    t0 = time.perf_counter()
    if not _integral_budgets(d) or not terms.hours:
        return None
    n, U = d.n, len(d.res_bus)
    gl = d.budget_load if d.budget_load is not None else np.zeros(n)
    gr = d.budget_res if d.budget_res is not None else np.zeros(U)
    budget = np.concatenate([gl, gr])
    hours = []
    for hd in terms.hours:
        th = replace(terms, hours=[hd], cost0=0.0)
        milp = _build(d, th)
        elem = np.zeros(milp.cols["xi"], int)
        for (nm, _, e), c in milp.xi_col.items():
            elem[c] = e if nm != "xr" else n + e
        model = HighsModel(milp.block)
        model.set_gap(1e-6)
        hours.append((th, milp, model, elem))
    # patterns per hour: (value, element counts, column values)
    pats: list[list[tuple[float, np.ndarray, np.ndarray]]] = [[] for _ in hours]

    def add(k: int, xv: np.ndarray) -> None:
        th, milp, _, elem = hours[k]
        if any(np.array_equal(xv, p[2]) for p in pats[k]):
            return
        xi = nominal(d)
        for (nm, h, e), c in milp.xi_col.items():
            xi[nm][h * (n if nm != "xr" else U) + e] = xv[c]
        a = np.bincount(elem, weights=xv, minlength=n + U)
        pats[k].append((policy_cost(d, th, xi), a, xv.copy()))

    for k, (_, milp, _, _) in enumerate(hours):
        add(k, np.zeros(milp.cols["xi"]))
        for st in starts:
            xv = np.zeros(milp.cols["xi"])
            for (nm, h, e), c in milp.xi_col.items():
                xv[c] = st[nm][h * (n if nm != "xr" else U) + e]
            add(k, xv)
    # mu from the linear bounds: the sort's thresholds (per element its (Gamma+1)-th largest
    # coefficient), so that L(mu0) <= the linear bound; then subgradient steps (Polyak's rule
    # towards the best combination of patterns found)
    mu = _thresholds(terms, budget)
    best, step = math.inf, 1.0
    target = terms.cost0 + _dw_master(pats, budget, integer=False)[0]
    while time.perf_counter() - t0 < time_limit_s:
        bound = terms.cost0 + float(budget @ mu)
        use = np.zeros(n + U)
        for k, (_, _, model, elem) in enumerate(hours):
            model.set_costs({"total": -np.ones(1), "xi": mu[elem]})
            rem = time_limit_s - (time.perf_counter() - t0)
            model.set_time_limit(min(hour_limit_s, max(rem, 0.05)))
            sol = model.solve()
            bound += -float(sol.bound) if np.isfinite(sol.bound) else math.inf
            if sol.has_solution:
                xv = np.round(model.values()["xi"])
                add(k, xv)
                use += np.bincount(elem, weights=xv, minlength=n + U)
        if bound < best:
            best = bound
        else:
            step *= 0.7
        target = max(target, terms.cost0 + _dw_master(pats, budget, integer=False)[0])
        g = budget - use
        norm = float(g @ g)
        if best - target <= 1e-7 * max(1.0, abs(best)) or norm < 1e-12 or not np.isfinite(bound):
            break
        mu = np.maximum(mu - step * (bound - target) / norm * g, 0.0)
    value, _, _, choice = _dw_master(pats, budget, integer=True)
    xi = nominal(d)
    for k, (_, milp, _, _) in enumerate(hours):
        xv = pats[k][choice[k]][2]
        for (nm, h, e), c in milp.xi_col.items():
            xi[nm][h * (n if nm != "xr" else U) + e] = float(xv[c])
    status = Status.OPTIMAL if best - (terms.cost0 + value) <= 1e-7 * max(1.0, abs(best)) \
        else Status.TIME_LIMIT
    return PolicyMax(best, policy_cost(d, terms, xi), xi, status, time.perf_counter() - t0,
                     sum(m.cols["xi"] for _, m, _, _ in hours),
                     sum(m.cols["sel"] for _, m, _, _ in hours))


def _thresholds(terms: PolicyTerms, budget: np.ndarray) -> np.ndarray:
    """Per element the ``(Gamma+1)``-th largest of its hourly linear coefficients (the dual
    of the sort, for the variant with the smallest maximum; 0 below ``Gamma + 1`` hours)."""
    best: tuple[float, np.ndarray] | None = None
    for beta in terms.betas:
        per = np.maximum(beta["xp"], beta["xm"])  # (H, n)
        vals = np.concatenate([per, beta["xr"]], axis=1)  # (H, n + U)
        srt = -np.sort(-vals, axis=0)
        mu = np.zeros(vals.shape[1])
        for e in range(vals.shape[1]):
            k = round(float(budget[e]))
            if budget[e] > 0 and k < srt.shape[0]:
                mu[e] = max(float(srt[k, e]), 0.0)
        total = float(budget @ mu + np.maximum(vals - mu, 0.0).sum())
        if best is None or total < best[0]:
            best = (total, mu)
    return best[1] if best is not None else np.zeros(len(budget))


def _dw_master(pats: list[list[tuple[float, np.ndarray, np.ndarray]]], budget: np.ndarray,
               integer: bool) -> tuple[float, np.ndarray, np.ndarray, list[int]]:
    """``max sum lambda_hp c_hp`` with ``sum_p lambda_hp = 1`` per hour and ``sum lambda_hp
    a_hp <= Gamma``: its value, the budget rows' duals ``mu >= 0``, the hours' duals ``sigma``
    (LP) and, as a MILP, the pattern chosen per hour."""
    sizes = [len(p) for p in pats]
    off = np.concatenate([[0], np.cumsum(sizes)])
    block = Block()
    block.add_group(Group.new("lam", int(off[-1]), 0.0, 1.0, integer=integer))
    block.add_objective("lam", -np.array([v for p in pats for v, _, _ in p]))
    conv = sp.csr_matrix((np.ones(off[-1]), (np.repeat(np.arange(len(pats)), sizes),
                                            np.arange(off[-1]))), shape=(len(pats), off[-1]))
    block.add_rows("hours", {"lam": conv}, Sense.EQ, np.ones(len(pats)))
    a = sp.csr_matrix(np.column_stack([a for p in pats for _, a, _ in p]))
    block.add_rows("budget", {"lam": a}, Sense.LE, budget)
    model = HighsModel(block)
    sol = model.solve()
    value = -float(sol.objective)
    if integer:
        lam = model.values()["lam"]
        return value, np.zeros(len(budget)), np.zeros(len(pats)), [
            int(np.argmax(lam[off[k]:off[k + 1]])) for k in range(len(pats))]
    duals = model.row_duals()
    return value, np.maximum(-duals["budget"], 0.0), -duals["hours"], []


def _start_point(d: ScheduleData, terms: PolicyTerms, xi: dict[str, np.ndarray],
                 xi_col: dict[tuple[str, int, int], int], lam_sets: list[_LambdaSet],
                 cols: dict[str, int]) -> dict[str, np.ndarray]:
    """A full MILP point at the realisation ``xi``: each flow between the two breakpoints
    around it, ``total`` the policy's cost there."""
    n, U = d.n, len(d.res_bus)
    xv = np.zeros(cols["xi"])
    for (nm, h, e), c in xi_col.items():
        xv[c] = xi[nm][h * (n if nm != "xr" else U) + e]
    lam = np.zeros(cols["lam"])
    sel = np.zeros(cols["sel"])
    for ls in lam_sets:
        f = ls.f0 + float(ls.coef @ xv[ls.xi_cols])
        k = int(np.clip(np.searchsorted(ls.pts, f) - 1, 0, len(ls.pts) - 2))
        w = (f - ls.pts[k]) / (ls.pts[k + 1] - ls.pts[k])
        w = min(max(w, 0.0), 1.0)
        lam[ls.lam[k]], lam[ls.lam[k + 1]] = 1.0 - w, w
        sel[ls.sel[k]] = 1.0
    return {"xi": xv, "lam": lam, "sel": sel, "total": np.array([policy_cost(d, terms, xi)])}


__all__ = ["PolicyMax", "kinks", "policy_max", "policy_max_auto", "policy_max_by_hours"]
