"""The vectorised backward/forward sweep (session 53) against a reference DistFlow iteration
written here bus by bus (Baran & Wu, IEEE TPWRD 4(2), 1989), the tree of a branch exchange
against a search from scratch, and the heuristics' memo: no topology is swept twice."""

from __future__ import annotations

import collections
from dataclasses import replace

import numpy as np
import pytest

import feederopt.algorithms.heuristics as heuristics
from feederopt.algorithms.heuristics import radial_base, sweep_descent
from feederopt.api import load
from feederopt.network import to_per_unit
from feederopt.network.perunit import PerUnitNetwork
from feederopt.network.topology import (
    exchanged_parents,
    loop_path,
    radial_parents,
    tree_order,
)
from feederopt.problems.sweep import sweep


def reference_distflow(pu: PerUnitNetwork, closed: np.ndarray, tol: float = 1e-14,
                       max_iter: int = 500) -> dict[str, np.ndarray | float]:
    """DistFlow of a radial topology by a plain loop over the buses in breadth-first order:

        backward (leaves first):  S_j = s_j + sum_children S_c^send,  l_j = |S_j|^2 / (a_j v_j),
                                  S_j^send = S_j + z_j l_j
        forward (root first):     a_j v_j = a_p v_parent - 2 (r P^send + x Q^send) + |z|^2 l

    with ``s_j = p_load - p_gen + g v - j (q_gen + b v)`` (bus shunts and the ends of closed
    branches, an open branch's energised end), and the tap's ``1 / tap^2`` on the from side
    of a branch (``a``). Iterated until no squared voltage moves by ``tol``."""
    tree = tree_order(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
    assert tree is not None
    order, parent_edge, _ = tree
    n = pu.n_bus
    a2 = pu.tap2
    g = np.zeros(n) if not pu.p_shunt.size else pu.p_shunt.astype(float).copy()
    b = pu.q_shunt.astype(float).copy()
    if pu.g_open_end.size:
        g += pu.g_open_end
    if pu.g_from.size:
        for k in range(pu.n_branch):
            if closed[k]:
                g[pu.f[k]] += pu.g_from[k] * a2[k]
                g[pu.t[k]] += pu.g_to[k]
                b[pu.f[k]] += pu.b_from[k] * a2[k]
                b[pu.t[k]] += pu.b_to[k]
            elif pu.dangle_bus.size and pu.dangle_bus[k] >= 0:
                g[pu.dangle_bus[k]] += pu.g_dangle[k]
                b[pu.dangle_bus[k]] += pu.b_dangle[k]
    p_gen, q_gen = np.zeros(n), np.zeros(n)
    for k in range(len(pu.gen_bus)):
        p_gen[pu.gen_bus[k]] += pu.gen_p_set[k]
        q_gen[pu.gen_bus[k]] += pu.gen_q_set[k]
    parent = {}
    for j in order:
        k = parent_edge[j]
        if k >= 0:
            down = pu.t[k] == j  # the from end is the parent
            parent[j] = (int(pu.f[k] if down else pu.t[k]), int(k),
                         a2[k] if down else 1.0, 1.0 if down else a2[k])
    v = np.where(pu.is_source, pu.v_set**2, 0.0)
    for j in order:  # flat start
        if j in parent:
            p, _, a_p, a_j = parent[j]
            v[j] = a_p * v[p] / a_j
    ps, qs, lb = np.zeros(n), np.zeros(n), np.zeros(n)
    for _ in range(max_iter):
        acc_p = pu.p_load - p_gen + g * v
        acc_q = pu.q_load - q_gen - b * v
        for j in order[::-1]:
            if j not in parent:
                continue
            p, k, _, a_j = parent[j]
            lb[j] = (acc_p[j] ** 2 + acc_q[j] ** 2) / (a_j * v[j])
            ps[j] = acc_p[j] + pu.r[k] * lb[j]
            qs[j] = acc_q[j] + pu.x[k] * lb[j]
            acc_p[p] += ps[j]
            acc_q[p] += qs[j]
        v_new = v.copy()
        for j in order:
            if j in parent:
                p, k, a_p, a_j = parent[j]
                r, x = pu.r[k], pu.x[k]
                v_new[j] = (a_p * v_new[p] - 2 * (r * ps[j] + x * qs[j])
                            + (r * r + x * x) * lb[j]) / a_j
        moved = float(np.max(np.abs(v_new - v)))
        v = v_new
        if moved < tol:
            break
    p_branch, l_branch = np.zeros(pu.n_branch), np.zeros(pu.n_branch)
    for j, (_, k, _, _) in parent.items():
        l_branch[k] = lb[j]
        p_branch[k] = ps[j] if pu.t[k] == j else -(ps[j] - pu.r[k] * lb[j])
    bus_g = pu.p_shunt if pu.p_shunt.size else 0.0
    losses = float(sum(pu.r[k] * lb[j] for j, (_, k, _, _) in parent.items())
                   + np.sum((g - bus_g) * v))
    return {"losses": losses, "v": v, "p": p_branch, "l": l_branch}


def _exchanged(pu: PerUnitNetwork, closed: np.ndarray, pairs: list[tuple[str, str]]
               ) -> np.ndarray:
    out = closed.copy()
    for shut, opened in pairs:
        out[pu.branch_ids.index(shut)] = True
        out[pu.branch_ids.index(opened)] = False
    return out


def _with_taps_and_shunts(pu: PerUnitNetwork) -> PerUnitNetwork:
    """case33bw with off-nominal taps (1.05 and 0.97) on three branches, one of them turned
    round so that its tap sits at the end away from the source (the tap's ``1 / tap^2`` then
    scales the child's voltage), and line charging at both ends of every branch."""
    f, t = pu.f.copy(), pu.t.copy()
    turned = pu.branch_ids.index("5")
    f[turned], t[turned] = pu.t[turned], pu.f[turned]
    tap = np.ones(pu.n_branch)
    tap[[pu.branch_ids.index("1"), turned, pu.branch_ids.index("22")]] = (1.05, 0.97, 1.02)
    ends = np.linspace(1e-4, 3e-4, pu.n_branch)
    return replace(pu, f=f, t=t, tap=tap, g_from=0.1 * ends, b_from=ends, g_to=0.05 * ends,
                   b_to=ends)


@pytest.mark.parametrize("case", ["case33bw", "case33bw_taps", "case70da"])
def test_sweep_is_the_reference_distflow(case: str) -> None:
    """Two radial topologies each: the grid's own state and Baran & Wu's optimum of case33bw
    (open 7, 9, 14, 32, 37; Jabr et al. 2012 Table II: 139.55 kW), the same with taps and line
    charging, case70da (two substations) from its own state and after two exchanges."""
    pu = to_per_unit(load(case.removesuffix("_taps")))
    if case.endswith("_taps"):
        pu = _with_taps_and_shunts(pu)
    base = radial_base(pu)
    assert base is not None
    closed = base > 0.5
    if case.startswith("case33bw"):
        other = np.ones(pu.n_branch, dtype=bool)
        other[[pu.branch_ids.index(k) for k in ("7", "9", "14", "32", "37")]] = False
    else:  # two exchanges from the base case, each the first on its loop with a power flow
        other = closed.copy()
        for tie in np.flatnonzero(~closed & pu.switchable)[:2]:
            tree = tree_order(pu.n_bus, pu.f, pu.t, other, pu.is_source)
            assert tree is not None
            for k in loop_path(pu.f, pu.t, tree[1], tree[2], int(pu.f[tie]), int(pu.t[tie])):
                cand = other.copy()
                cand[tie], cand[k] = True, False
                flow = sweep(pu, cand)
                if k != tie and pu.switchable[k] and flow is not None and flow.converged:
                    other = cand
                    break
        assert np.sum(other != closed) == 4
    for state in (closed, other):
        res = sweep(pu, state, tol=1e-13, max_iter=200)
        ref = reference_distflow(pu, state)
        assert res is not None and res.converged
        assert res.p_branch is not None and res.l_branch is not None
        assert res.losses == pytest.approx(ref["losses"], rel=1e-9)
        np.testing.assert_allclose(res.v, ref["v"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(res.p_branch, ref["p"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(res.l_branch, ref["l"], rtol=0, atol=1e-10)
    if case == "case33bw":  # the published optimum (AC and DistFlow agree to 0.01 kW)
        res = sweep(pu, other)
        assert res is not None
        assert res.losses * 1000 * pu.s_base_mva == pytest.approx(139.55, abs=0.01)
    if case.endswith("_taps"):  # the taps and shunts move the flow
        plain = sweep(to_per_unit(load("case33bw")), closed)
        assert plain is not None and abs(plain.losses - ref["losses"]) > 1e-4


@pytest.mark.parametrize("case", ["case33bw", "case70da"])
def test_tree_of_an_exchange_is_the_searched_tree(case: str) -> None:
    """Every exchange "close an open branch, open any closed one" of the base tree (case70da:
    two substations, loops through the sources): the tree from the base's parents is the
    tree searched from scratch, None exactly when the exchange leaves no radial topology, and
    both give tree_order's parent branches."""
    pu = to_per_unit(load(case))
    base_y = radial_base(pu)
    assert base_y is not None
    closed = base_y > 0.5
    base = radial_parents(pu.n_bus, pu.f, pu.t, closed, pu.is_source)
    assert base is not None
    radial = 0
    for shut in np.flatnonzero(~closed):
        for opened in np.flatnonzero(closed):
            cand = closed.copy()
            cand[shut], cand[opened] = True, False
            searched = radial_parents(pu.n_bus, pu.f, pu.t, cand, pu.is_source)
            quick = exchanged_parents(pu.f, pu.t, base, int(shut), int(opened))
            order = tree_order(pu.n_bus, pu.f, pu.t, cand, pu.is_source)
            assert (searched is None) == (quick is None) == (order is None)
            if searched is not None and quick is not None and order is not None:
                radial += 1
                np.testing.assert_array_equal(searched[0], quick[0])
                np.testing.assert_array_equal(searched[1], quick[1])
                np.testing.assert_array_equal(searched[0], order[1])
    assert radial > 20


def test_sweep_descent_sweeps_each_topology_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """case33bw from its base case: the descent comes back to topologies it swept (a base is
    the candidate of the pass before); the memo sweeps each once (before session 53, 54
    sweeps of 50 topologies), and the descent ends at Baran & Wu's optimum, 139.55 kW."""
    pu = to_per_unit(load("case33bw"))
    swept: collections.Counter[bytes] = collections.Counter()
    real = heuristics.sweep

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        swept[np.asarray(args[1], dtype=bool).tobytes()] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(heuristics, "sweep", counting)
    _, flow = sweep_descent(pu, pu.initial_closed().astype(float), 30.0)
    assert flow is not None
    assert flow.losses * 1000 * pu.s_base_mva == pytest.approx(139.55, abs=0.01)
    assert len(swept) > 20 and max(swept.values()) == 1
