"""OpenDSS's shunt banks (a ``Capacitor`` or ``Reactor`` whose ``bus2`` is absent, grounded, a
floating neutral or another phase of its own bus) as the model's shunt rows: which phases,
wye or delta, the rated voltage and the power at it. The one place where a bank's branches
become a row, for capacitors and reactors alike (:mod:`feederopt.io.opendss` reads both).

Both classes connect their branches the same way (OpenDSS manual, Capacitor and Reactor): a
wye bank's branch ``k`` is from conductor ``k`` of ``bus1`` to conductor ``k`` of ``bus2``
(``bus1.0.0.0``, ground, by default; ``bus1=x.1.2.3.4`` names a 4th node OpenDSS ignores, so
that bank is grounded); a delta bank's branch ``k`` from conductor ``k`` to ``k + 1`` of
``bus1``, wrapping over its conductors (a 1-phase delta bank has two: ``x.1.2`` between phases
1 and 2, ``x.1`` phase 1 to ground).

The bank is taken by its nodal admittance on the bus. Each conductor is on a phase node (1-3 of
``bus1``), on ground (node 0, and, as the model takes neutrals, a node 4+ that another element
also connects to), or on a *floating* node: a node 4+ that nothing but the bank connects to
(``bus2=x.4.4.4``, an ungrounded wye). Summing the primitive admittance ``Yprim`` over the
conductors of each node and eliminating the floating nodes (Kron reduction, ``Y = Y_pp -
Y_pf Y_ff^-1 Y_fp``) gives the bank's admittance ``Y`` between the phase nodes and ground:
its wye part to ground is the row sums ``g_i = sum_k Y_ik``, its delta part between phases
``i`` and ``k`` is ``-Y_ik``. An ungrounded wye of ``y`` per branch on three phases is thus a
delta of ``y / 3`` per branch (the Y-delta transform: ``Y_ik = -y^2 / 3y``), at balanced rated
voltage the same total power (``3 (y / 3) (sqrt(3) V)^2 = 3 y V^2``); on two phases it is one
branch ``y / 2`` between them. The rows the model holds:

* only a wye part: a wye row on the phases it has, consuming ``S = sum_i V_i conj((Y V)_i)``
  at balanced voltages of ``v_wye`` per phase (with unequal branches their balanced total);
* only a delta part (row sums within :data:`DELTA_LEAK` of its largest branch, below): one
  branch between two phases (``"ab"``), or three equal ones (``"abc"``, a closed delta), at
  ``v_delta`` across each: ``S = v_delta^2 conj(sum y_ik)``;
* both, in a bank grounded through ``bus2`` with no floating node (a reactor with mutual
  coupling: ``Z1 != Z0``, ``Rmatrix``/``Xmatrix``): a wye row of its ``S`` at balanced
  voltages, as before;
* none otherwise (a 2-phase delta bank, branches 1-2 and 2-0; an ungrounded wye with unequal
  branches; a bank that connects nothing, e.g. ``bus2=x.4`` leaving 1-4 floating and 2-2,
  3-3 shorted): the reader refuses it by name.

*OpenDSS's leak.* A delta capacitor step with a series ``R``/``XL`` (a filter reactor) is not
an exact delta in OpenDSS's ``Yprim``: ``Capacitor.pas`` (``MakeYprimWork``) multiplies the
diagonal of the step's delta matrix (``2 y_c`` per node, ``-y_c`` between phases) by 1.000001
"so it will invert", inverts it, adds ``Z_L = R + j XL`` to the diagonal (in series with each
line conductor, the manual's "in each phase (line)") and inverts back. The step is thus a
delta of ``1 / (3 Z_L + 1 / y_c)`` per branch on three phases (a delta of ``y_c`` is a wye of
``3 y_c``, ``Z_L`` in each leg), ``1 / (Z_L + 1 / y_c)`` on one, plus a leak from each node to
ground of ``1e-6 x 2 y_c`` seen through ``Z_L``: ``2e-6 |1 + 3 Z_L y_c|`` of the branch
admittance (1.9e-6 at ``kvar=900 kV=12.47 R=1.5 XL=6``; 3.9e-9 S against a branch of 2.0e-3
S), far over a numerical tolerance of ``1e-9 max|Yprim|``. A delta part whose row sums are
within :data:`DELTA_LEAK` of its largest branch is read as a delta, that leak left out
(OpenDSS's node voltages of the model written back equal the file's within 1e-6 p.u.).

A row is *exact* (:attr:`ShuntRow.exact`) when it draws what the bank draws at any voltages,
balanced or not: a delta row, and a wye row of equal branches to ground without coupling
between phases. A wye row of a coupled bank (off-diagonal terms between phases: a capacitor's
``Cmatrix``, a reactor's ``Z1 != Z0`` or ``Rmatrix``/``Xmatrix``) or of unequal branches (an
unequal diagonal) holds its total at balanced voltages only; the capacitor reader refuses such
a bank by name, the reactor reader takes it (``feederopt.io.opendss._reactors``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: A node of the bank's nodal admittance: a phase node of ``bus1`` (1-3), or a floating node
#: ``(bus, node)``; ground (0) is the reference.
Key = int | tuple[str, int]

#: Balanced phase rotation a, b, c.
_ROTATION = np.exp(-2j * np.pi / 3 * np.arange(3))

#: A delta part with an admittance to ground of at most this fraction of the bank's largest
#: branch between phases is read as a closed delta, the part to ground left out (module
#: docstring, "OpenDSS's leak"). OpenDSS's own leak is ``2e-6 |1 + 3 Z_L y_c|`` of the branch
#: (``1e-6`` to ``2e-6`` for a filter reactor, ``XL < Xc``); 1e-4 takes it up to ``XL`` of
#: about 17 ``Xc`` and leaves out at most 1e-4 of the bank's power. A bank that is not a
#: closed delta has a part to ground of the order of its branches (a 2-phase delta's branch
#: 2-0 equals its branch 1-2).
DELTA_LEAK = 1e-4


@dataclass(frozen=True)
class ShuntRow:
    """A bank as a shunt row: ``conn``, its phase ``nodes`` (1-3), rated ``vn_kv`` (line to
    line for a wye of more than one phase and for a delta), and what it consumes (``p_mw``)
    and supplies (``q_mvar``) at it; ``exact``: whether the row draws what the bank draws at
    any (also unbalanced) voltages, not only at balanced ones (module docstring)."""

    conn: str
    nodes: tuple[int, ...]
    vn_kv: float
    p_mw: float
    q_mvar: float
    exact: bool = True


def conductors(terms: list[tuple[str, list[int]]],
               delta: bool) -> list[tuple[str, int]]:
    """The bank's conductors ``(bus, node)`` over its terminals in ``Yprim``'s order, with a
    grounded second terminal added for a wye bank given with one (``bus2`` absent)."""
    out = [(bus, n) for bus, nodes in terms for n in nodes]
    if not delta and len(terms) == 1:
        out += [(terms[0][0], 0)] * len(terms[0][1])
    return out


def branch_conductors(terms: list[tuple[str, list[int]]], nph: int,
                      delta: bool) -> list[tuple[int, int]]:
    """The bank's branches as pairs of indices into :func:`conductors`: wye, conductor ``k``
    of ``bus1`` to conductor ``k`` of ``bus2``; delta, conductor ``k`` to ``k + 1`` of
    ``bus1``, wrapping."""
    nc = len(terms[0][1])
    if delta:
        return [(k, (k + 1) % nc) for k in range(min(nph, nc))]
    return [(k, nc + k) for k in range(min(nph, nc))]


def branch_nodes(terms: list[tuple[str, list[int]]], nph: int,
                 delta: bool) -> list[tuple[int, int]]:
    """The nodes each branch connects (for messages)."""
    cond = conductors(terms, delta)
    return [(cond[i][1], cond[k][1]) for i, k in branch_conductors(terms, nph, delta)]


def branch_yprim(terms: list[tuple[str, list[int]]], nph: int, delta: bool,
                 y_branch: complex) -> np.ndarray:
    """The primitive admittance [S] of a bank of equal branches ``y_branch`` (a capacitor:
    ``j Q / V^2`` per branch), over :func:`conductors`."""
    m = len(conductors(terms, delta))
    y = np.zeros((m, m), complex)
    for i, k in branch_conductors(terms, nph, delta):
        y[i, i] += y_branch
        y[k, k] += y_branch
        y[i, k] -= y_branch
        y[k, i] -= y_branch
    return y


def floating_candidates(terms: list[tuple[str, list[int]]]) -> set[tuple[str, int]]:
    """The bank's nodes that may float: nodes 4 and above (neutrals)."""
    return {(bus, n) for bus, nodes in terms for n in nodes if n >= 4}


def reduced_admittance(terms: list[tuple[str, list[int]]], delta: bool, yprim: np.ndarray,
                       floating: set[tuple[str, int]]) -> tuple[list[int], np.ndarray]:
    """The bank's admittance [S] between the phase nodes of ``bus1`` (returned with it) and
    ground, floating nodes eliminated (Kron reduction; a floating node with no admittance
    drops out)."""
    bus1 = terms[0][0]
    keys: list[Key] = []
    for bus, n in conductors(terms, delta):
        if bus == bus1 and 1 <= n <= 3:
            keys.append(n)
        elif (bus, n) in floating:
            keys.append((bus, n))
        else:
            keys.append(0)
    live = sorted({k for k in keys if isinstance(k, int) and k})
    free = sorted({k for k in keys if isinstance(k, tuple)})
    order: list[Key] = [*live, *free]
    a = np.zeros((len(keys), len(order)))
    for c, key in enumerate(keys):
        if key != 0:
            a[c, order.index(key)] = 1.0
    yn = a.T @ yprim @ a
    nl = len(live)
    y = yn[:nl, :nl]
    if free:
        y = y - yn[:nl, nl:] @ np.linalg.pinv(yn[nl:, nl:]) @ yn[nl:, :nl]
    return live, y


def shunt_row(terms: list[tuple[str, list[int]]], delta: bool, yprim: np.ndarray,
              floating: set[tuple[str, int]], v_wye_kv: float,
              v_delta_kv: float) -> ShuntRow | None:
    """The bank (terminals ``terms`` as OpenDSS connects them, ``Yprim`` [S] over
    :func:`conductors`, its ``floating`` nodes) as a shunt row, or None if the model has no row
    for it; the module's docstring gives the rules. ``v_wye_kv`` is the voltage of a branch to
    ground and ``v_delta_kv`` of one between two phases at which the row is rated."""
    live, y = reduced_admittance(terms, delta, yprim, floating)
    scale = float(np.max(np.abs(yprim))) if yprim.size else 0.0
    if not live or not scale or not np.all(np.isfinite(y)):
        return None
    tol = 1e-9 * scale
    to_ground = y.sum(axis=1)
    pairs = [((live[i], live[k]), -y[i, k]) for i in range(len(live))
             for k in range(i + 1, len(live)) if abs(y[i, k]) > tol]
    branch = max((abs(p) for _, p in pairs), default=0.0)
    if np.all(np.abs(to_ground) <= max(tol, DELTA_LEAK * branch)):
        parts = [p for _, p in pairs]
        if len(pairs) == 1 or (len(pairs) == 3
                               and max(abs(p - parts[0]) for p in parts) <= tol):
            total = sum(parts) * v_delta_kv**2
            nodes: tuple[int, ...] = pairs[0][0] if len(pairs) == 1 else (1, 2, 3)
            return ShuntRow("delta", nodes, v_delta_kv, total.real, total.imag)
        return None
    # a wye bank whose second terminal is all on ground: its delta part is mutual coupling
    second = conductors(terms, delta)[len(terms[0][1]):]
    grounded = not delta and all(n == 0 or (n >= 4 and (b, n) not in floating)
                                 for b, n in second)
    if pairs and not grounded:
        return None
    keep = [i for i in range(len(live)) if np.any(np.abs(y[i]) > tol)]
    v = np.array([v_wye_kv * _ROTATION[live[i] - 1] for i in keep])
    s = complex(np.sum(v * np.conj(y[np.ix_(keep, keep)] @ v)))  # consumed [MVA]
    nodes = tuple(live[i] for i in keep)
    equal = all(abs(to_ground[i] - to_ground[keep[0]]) <= tol for i in keep)
    return ShuntRow("wye", nodes, v_wye_kv * (math.sqrt(3) if len(nodes) > 1 else 1.0),
                    s.real, -s.imag, exact=equal and not pairs)
