"""MATPOWER's ``runpf`` written out for tests (no feederopt): ``makeYbus`` with the tap and
phase shift at the from end, bus types REF/PV/PQ, generators injecting ``PG`` (``PG + j QG``
at a PQ bus) and a polar Newton-Raphson (MATPOWER User's Manual 8.1, sections 3 and 4;
``makeYbus.m``, ``newtonpf.m``), and a brute force of it over every radial topology of a
small case: the independent truth of a reconfiguration under ``runpf`` semantics."""

from __future__ import annotations

import itertools

import numpy as np

from matpower_files import matrix


def runpf_losses(text: str, open_rows: frozenset[int]) -> tuple[float, float, float]:
    """The branch losses [kW] and the least and largest voltage [p.u.] of the case ``text``
    (a .m file's text in MATPOWER's units) with the branch rows ``open_rows`` (1-based) open
    and every other closed, whatever its BR_STATUS (type-4 buses and their branches left
    out), as ``runpf`` runs it:
    the REF buses at their generator's VG, a PV bus at its in-service generator's VG with
    ``PG`` injected, a PQ bus with ``PG + j QG`` of its in-service generators, GS/BS shunts.
    ``BR_B`` line charging and off-nominal taps ``TAP * exp(j SHIFT)`` as ``makeYbus.m``."""
    base = float(np.asarray([float(t) for t in
                             text.split("mpc.baseMVA")[1].split("=")[1].split(";")[0].split()
                             ])[0])
    bus, gen, branch = matrix(text, "bus"), matrix(text, "gen"), matrix(text, "branch")
    keep = bus[:, 1] != 4
    bus = bus[keep]
    ix = {int(b): i for i, b in enumerate(bus[:, 0])}
    n = len(bus)
    btype = bus[:, 1].astype(int).copy()
    vm = np.ones(n)
    sg = np.zeros(n, dtype=complex)
    for g in gen:
        b = int(g[0])
        if b not in ix or g[7] <= 0:
            continue
        sg[ix[b]] += (g[1] + 1j * g[2]) / base
        if btype[ix[b]] in (2, 3):
            vm[ix[b]] = g[5]
    ybus = np.zeros((n, n), dtype=complex)
    ybus[np.arange(n), np.arange(n)] += (bus[:, 4] + 1j * bus[:, 5]) / base
    lines = []
    for k, br in enumerate(branch, start=1):
        f, t = int(br[0]), int(br[1])
        if f not in ix or t not in ix or k in open_rows:
            continue
        ys = 1 / (br[2] + 1j * br[3])
        tap = (br[8] if br[8] != 0 else 1.0) * np.exp(1j * np.pi / 180 * br[9])
        ytt = ys + 1j * br[4] / 2
        yff = ytt / (tap * np.conj(tap))
        yft, ytf = -ys / np.conj(tap), -ys / tap
        i, j = ix[f], ix[t]
        ybus[i, i] += yff
        ybus[j, j] += ytt
        ybus[i, j] += yft
        ybus[j, i] += ytf
        lines.append((i, j, yff, yft, ytf, ytt))
    sbus = sg - (bus[:, 2] + 1j * bus[:, 3]) / base
    pv, pq = np.flatnonzero(btype == 2), np.flatnonzero(btype == 1)
    pvpq = np.r_[pv, pq]
    v = vm * np.exp(1j * np.pi / 180 * 0.0)
    for _ in range(30):
        mis = v * np.conj(ybus @ v) - sbus
        f_ = np.r_[mis.real[pvpq], mis.imag[pq]]
        if np.max(np.abs(f_)) < 1e-12:
            break
        ibus = ybus @ v
        dva = 1j * np.diag(v) @ np.conj(np.diag(ibus) - ybus @ np.diag(v))
        dvm = np.diag(v) @ np.conj(ybus @ np.diag(v / abs(v))) + np.diag(
            v / abs(v)) @ np.diag(np.conj(ibus))
        jac = np.block([[dva[np.ix_(pvpq, pvpq)].real, dvm[np.ix_(pvpq, pq)].real],
                        [dva[np.ix_(pq, pvpq)].imag, dvm[np.ix_(pq, pq)].imag]])
        dx = np.linalg.solve(jac, -f_)
        ang, mag = np.angle(v), abs(v)
        ang[pvpq] += dx[:len(pvpq)]
        mag[pq] += dx[len(pvpq):]
        v = mag * np.exp(1j * ang)
    else:
        raise AssertionError("runpf did not converge")
    loss = sum((v[i] * np.conj(yff * v[i] + yft * v[j])
                + v[j] * np.conj(ytf * v[i] + ytt * v[j])).real
               for i, j, yff, yft, ytf, ytt in lines)
    return float(loss * base * 1e3), float(abs(v).min()), float(abs(v).max())


def _root(parent: dict[int, int], b: int) -> int:
    """The root of ``b`` in the union-find forest ``parent``."""
    while parent[b] != b:
        parent[b] = parent[parent[b]]
        b = parent[b]
    return b


def radial_open_sets(text: str) -> list[frozenset[int]]:
    """Every set of branch rows (1-based, branches between kept buses) whose opening leaves
    a forest in which each bus is fed by exactly one REF bus."""
    bus, branch = matrix(text, "bus"), matrix(text, "branch")
    kept = {int(b[0]) for b in bus if b[1] != 4}
    refs = {int(b[0]) for b in bus if b[1] == 3}
    rows = [k for k, br in enumerate(branch, start=1)
            if int(br[0]) in kept and int(br[1]) in kept]
    out = []
    for closed in itertools.combinations(rows, len(kept) - len(refs)):
        parent = {b: b for b in kept}
        for r in refs:  # one super-source
            parent[_root(parent, r)] = _root(parent, min(refs))
        tree = True
        for k in closed:
            a, b = _root(parent, int(branch[k - 1][0])), _root(parent, int(branch[k - 1][1]))
            if a == b:
                tree = False
                break
            parent[a] = b
        if tree:
            out.append(frozenset(set(rows) - set(closed)))
    return out


def brute_force_optimum(text: str) -> tuple[float, frozenset[int], int]:
    """The least ``runpf`` branch losses [kW] over every radial topology of ``text`` within
    its VMIN..VMAX, its open rows, and how many radial topologies there are."""
    bus = matrix(text, "bus")
    vmin, vmax = bus[bus[:, 1] != 4, 12].min(), bus[bus[:, 1] != 4, 11].max()
    best: tuple[float, frozenset[int]] = (np.inf, frozenset())
    sets = radial_open_sets(text)
    for opened in sets:
        loss, lo, hi = runpf_losses(text, opened)
        if lo >= vmin - 1e-9 and hi <= vmax + 1e-9 and loss < best[0]:
            best = (loss, opened)
    return best[0], best[1], len(sets)
