"""Exact worst-case search over a (budgeted) box of loads: a MISOCP over the slave's conic dual.

For a fixed topology ``y`` the slave is a conic program whose loads enter only the right-hand
side, affinely in the uncertainty ``u``: ``b(u) = b0 + B u``. Its value is, by conic duality
(strong duality holds: the slack slave is strictly feasible),

    V(u) = max { b(u)' lam + l' alpha - h' beta - tau' s - xi' z  :  dual feasible }

so ``max_u V(u)`` over the extreme points of ``U`` is the mixed-integer SOCP

    max  b0' lam + ... + sum_j psi_j
    s.t. dual feasibility (linear rows, ||z_i|| <= s_i),
         psi_j <= gamma_j + M_j (1 - zp_j),  psi_j <= -gamma_j + M_j (1 - zm_j),
         psi_j <= M_j (zp_j + zm_j),  zp_j + zm_j <= 1,  sum_j (zp_j + zm_j) <= Gamma,
         gamma = B' lam,   zp, zm binary,

with ``u = zp - zm`` (the max-min of Moring et al., section III-A, and the dualised sub-problem
(46)-(49) of the seed on budgeted sets, here with conic instead of linear duals). The big-M
values are exact, not guessed: ``u`` moves only power-balance rows, whose duals are bounded by
the cost of their slack columns (``|lam| <= c_slack``: 1 in the phase-1 slave that measures
violation, the penalty ``omega`` in the penalised slave), so ``|gamma_j| <= X (|p_j| + |q_j|)
c_slack``. The MISOCP is solved by SCIP (:class:`feederopt.solvers.scip_backend.ScipModel`).

* ``objective="violation"`` (phase 1, total slack): its optimum is exactly
  ``max_u phi(y, u)``; zero proves the topology robustly feasible.
* ``objective="penalized"``: ``max_u F_omega(y, u)`` of the penalised slave (losses plus
  ``omega`` times slack), which equals the worst-case losses of a robustly feasible topology
  whenever ``omega`` exceeds the slave's multipliers (exact penalty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, Role, Sense
from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.reconfiguration import ReconfigurationProblem
from feederopt.problems.uncertain import DEFAULT_PENALTY

BALANCE_ROWS = ("balance_p", "balance_q")


@dataclass
class WorstCase:
    u: np.ndarray  # the maximising extreme point
    value: float  # the MISOCP's best value (a dual value at u)
    bound: float  # SCIP's proven upper bound on max_u V(u)
    status: str
    solve_time_s: float


def _columns(block: Block) -> tuple[dict[str, int], int]:
    offset, n = {}, 0
    for name, g in block.groups.items():
        if g.role is Role.VARIABLE:
            offset[name] = n
            n += g.size
    return offset, n


def _split(block: Block, terms: dict[str, sp.spmatrix], m: int, offset: dict[str, int],
           n: int) -> tuple[sp.csr_matrix, np.ndarray, dict[str, sp.csr_matrix]]:
    """Variable part (m x n), constant part, and the data groups' matrices."""
    rows, cols, vals = [], [], []
    const = np.zeros(m)
    data: dict[str, sp.csr_matrix] = {}
    for g, a in terms.items():
        grp = block.groups[g]
        a = sp.coo_matrix(a)
        if grp.role is Role.DATA:
            const += sp.csr_matrix(a) @ np.asarray(grp.value, float)
            data[g] = sp.csr_matrix(a)
            continue
        rows.append(a.row)
        cols.append(a.col + offset[g])
        vals.append(a.data)
    mat = sp.csr_matrix((np.concatenate(vals) if vals else np.zeros(0),
                         (np.concatenate(rows) if rows else np.zeros(0, int),
                          np.concatenate(cols) if cols else np.zeros(0, int))), shape=(m, n))
    return mat, const, data


def worst_case(problem: ReconfigurationProblem, y: np.ndarray, nominal: PerUnitNetwork,
               load_index: np.ndarray, fraction: float, budget: int | None = None,
               objective: str = "violation", penalty: float = DEFAULT_PENALTY,
               time_limit_s: float = 300.0, feastol: float | None = None) -> WorstCase:
    """``max_u`` of the slave value of topology ``y`` over the extreme points of the set of
    :class:`feederopt.algorithms.robust.UncertaintySet` (module docstring)."""
    from feederopt.solvers.scip_backend import ScipModel

    pu = problem.pu
    block = problem.physics_block(slack=True)
    block.groups["y"] = Group.data("y", np.round(np.asarray(y, float)))
    n_bus = pu.n_bus
    p0 = np.bincount(nominal.load_bus, weights=nominal.load_p, minlength=n_bus)
    q0 = np.bincount(nominal.load_bus, weights=nominal.load_q, minlength=n_bus)
    block.groups["pd"] = Group.data("pd", p0)
    block.groups["qd"] = Group.data("qd", q0)
    slack_groups = [g for g in block.groups if g.startswith("slack_")]
    if objective == "violation":
        cost = {g: np.ones(block.groups[g].size) for g in slack_groups}
        c_slack = 1.0
    elif objective == "penalized":
        cost = dict(problem.operating_cost())
        cost.update({g: np.full(block.groups[g].size, penalty) for g in slack_groups})
        c_slack = penalty
    else:
        raise ValueError(objective)

    offset, n = _columns(block)
    c = np.zeros(n)
    lb = np.full(n, -np.inf)
    ub = np.full(n, np.inf)
    for g, off in offset.items():
        grp = block.groups[g]
        lb[off: off + grp.size] = grp.lb
        ub[off: off + grp.size] = grp.ub
        if g in cost:
            c[off: off + grp.size] = cost[g]

    # Per-bus load change per unit of u_j: M_p[bus(k), j] = X p_k (loads k in the set).
    d = len(load_index)
    lbus = nominal.load_bus[load_index]
    mp = sp.csr_matrix((fraction * nominal.load_p[load_index], (lbus, np.arange(d))),
                       shape=(n_bus, d))
    mq = sp.csr_matrix((fraction * nominal.load_q[load_index], (lbus, np.arange(d))),
                       shape=(n_bus, d))

    eq_a, eq_b, eq_d, le_a, le_b, le_d = [], [], [], [], [], []
    eq_balance = []
    for rows in block.rows:
        a, const, data = _split(block, rows.terms, rows.m, offset, n)
        rhs = rows.rhs - const
        du = sp.csr_matrix((rows.m, d))
        if "pd" in data:
            du = du - data["pd"] @ mp
        if "qd" in data:
            du = du - data["qd"] @ mq
        if rows.sense is Sense.EQ:
            eq_a.append(a)
            eq_b.append(rhs)
            eq_d.append(du)
            eq_balance.append(np.full(rows.m, rows.name in BALANCE_ROWS))
        else:
            le_a.append(a)
            le_b.append(rhs)
            le_d.append(du)
    a_e = sp.vstack(eq_a).tocsr() if eq_a else sp.csr_matrix((0, n))
    b_e = np.concatenate(eq_b) if eq_b else np.zeros(0)
    d_e = sp.vstack(eq_d).tocsr() if eq_d else sp.csr_matrix((0, d))
    bal = np.concatenate(eq_balance) if eq_balance else np.zeros(0, bool)
    a_i = sp.vstack(le_a).tocsr() if le_a else sp.csr_matrix((0, n))
    b_i = np.concatenate(le_b) if le_b else np.zeros(0)
    d_i = sp.vstack(le_d).tocsr() if le_d else sp.csr_matrix((0, d))
    if d_i.nnz:
        raise ValueError("loads in inequality rows are not supported")

    fin_lb = np.flatnonzero(np.isfinite(lb))
    fin_ub = np.flatnonzero(np.isfinite(ub))
    dual = Block()
    m_e, m_i = a_e.shape[0], a_i.shape[0]
    lam_lo = np.where(bal, -c_slack, -np.inf)
    lam_hi = np.where(bal, c_slack, np.inf)
    dual.add_group(Group.new("lam_e", m_e, lam_lo, lam_hi))
    dual.add_group(Group.new("lam_i", m_i, -np.inf, 0.0))
    dual.add_group(Group.new("alpha", len(fin_lb), 0.0, np.inf))
    dual.add_group(Group.new("beta", len(fin_ub), 0.0, np.inf))
    # Stationarity: A_E' lam_e + A_I' lam_i + S_lb alpha - S_ub beta + sum(T' s + X' z) = c.
    terms: dict[str, sp.spmatrix] = {
        "lam_e": a_e.T.tocsr(), "lam_i": a_i.T.tocsr(),
        "alpha": sp.csr_matrix((np.ones(len(fin_lb)), (fin_lb, np.arange(len(fin_lb)))),
                               shape=(n, len(fin_lb))),
        "beta": sp.csr_matrix((-np.ones(len(fin_ub)), (fin_ub, np.arange(len(fin_ub)))),
                              shape=(n, len(fin_ub))),
    }
    obj: dict[str, np.ndarray] = {
        "lam_e": -b_e, "lam_i": -b_i, "alpha": -lb[fin_lb], "beta": ub[fin_ub],
    }
    for k, cone in enumerate(block.cones):
        m = cone.m
        t_mat, tau, _ = _split(block, cone.t, m, offset, n)
        s_name = f"s{k}"
        dual.add_group(Group.new(s_name, m, 0.0, np.inf))
        terms[s_name] = t_mat.T.tocsr()
        obj[s_name] = tau  # minimising the negated dual objective: + tau' s
        xs = []
        for i, x in enumerate(cone.xs):
            x_mat, xi, _ = _split(block, x, m, offset, n)
            z_name = f"z{k}_{i}"
            dual.add_group(Group.new(z_name, m, -np.inf, np.inf))
            terms[z_name] = x_mat.T.tocsr()
            obj[z_name] = xi
            xs.append({z_name: sp.identity(m, format="csr")})
        dual.add_cones(f"dual_cone{k}", {s_name: sp.identity(m, format="csr")}, xs)
    dual.add_rows("stationarity", terms, Sense.EQ, c)

    # gamma = B' lam = d_e' lam_e; psi_j <= |gamma_j| chosen by the binaries.
    big = fraction * (np.abs(nominal.load_p[load_index]) + np.abs(nominal.load_q[load_index]))
    big = big * c_slack * 1.0001 + 1e-9
    gamma_e = d_e.T.tocsr()  # d x m_e
    eye = sp.identity(d, format="csr")
    dual.add_group(Group.new("psi", d, -big, big))
    dual.add_group(Group.new("zp", d, 0.0, 1.0, integer=True))
    dual.add_group(Group.new("zm", d, 0.0, 1.0, integer=True))
    dual.add_rows("psi_plus", {"psi": eye, "lam_e": -gamma_e, "zp": sp.diags(big).tocsr()},
                  Sense.LE, big)
    dual.add_rows("psi_minus", {"psi": eye, "lam_e": gamma_e, "zm": sp.diags(big).tocsr()},
                  Sense.LE, big)
    dual.add_rows("psi_on", {"psi": eye, "zp": -sp.diags(big).tocsr(),
                             "zm": -sp.diags(big).tocsr()}, Sense.LE, np.zeros(d))
    dual.add_rows("one_side", {"zp": eye, "zm": eye}, Sense.LE, np.ones(d))
    gamma_budget = d if budget is None else min(int(budget), d)
    if gamma_budget < d:
        dual.add_rows("budget", {"zp": sp.csr_matrix(np.ones((1, d))),
                                 "zm": sp.csr_matrix(np.ones((1, d)))}, Sense.LE,
                      np.array([float(gamma_budget)]))
    obj["psi"] = -np.ones(d)
    params = {} if feastol is None else {"numerics/feastol": feastol}
    model = ScipModel(dual, objective=obj, params=params)
    sol = model.solve(time_limit_s=time_limit_s, gap=1e-6)
    if not sol.has_solution:
        return WorstCase(np.zeros(d), math.nan, math.inf, sol.status, sol.solve_time_s)
    u = np.round(model.value("zp") - model.value("zm"))
    if gamma_budget >= d:
        u = np.where(u == 0, 1.0, u)  # gamma_j = 0: either sign is a maximiser
    return WorstCase(u, -sol.objective, -sol.bound if math.isfinite(sol.bound) else math.inf,
                     sol.status, sol.solve_time_s)
