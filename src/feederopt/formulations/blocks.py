"""A small algebra of model blocks: variable groups, sparse linear rows, second-order cones.

A formulation (radiality, DistFlow, ...) is pure maths: from per-unit arrays it returns a
:class:`Block` that names its variable groups and writes its constraints as sparse matrices over
those groups. Backends in :mod:`feederopt.solvers` turn blocks into a cvxpy problem (SOCP,
MISOCP; groups may become DPP parameters) or into a persistent HiGHS MILP (cones become
outer-approximation cuts). One formulation thus serves every algorithm, in the spirit of
PowerModels.jl, which writes each problem once against many formulations.

Conventions
-----------
* A row is ``sum_g A_g @ x_g  (<= | ==)  rhs``; ``A_g`` is a ``scipy.sparse`` matrix.
* A cone is ``|| (sum_g X_g^k @ x_g)_k ||_2 <= sum_g T_g @ x_g``, one cone per row of ``T``.
* A group with ``role == Role.DATA`` is a value that the problem receives (loads, switch states
  of a fixed topology); it never becomes a decision variable of the solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import scipy.sparse as sp

Matrix = sp.csr_matrix
Terms = dict[str, sp.spmatrix]


class Sense(StrEnum):
    LE = "<="
    EQ = "=="


class Role(StrEnum):
    VARIABLE = "variable"
    DATA = "data"


@dataclass
class Group:
    """A vector of decision variables (or of data) with bounds."""

    name: str
    size: int
    lb: np.ndarray
    ub: np.ndarray
    integer: bool = False
    role: Role = Role.VARIABLE
    value: np.ndarray | None = None  # for DATA groups

    @classmethod
    def new(
        cls,
        name: str,
        size: int,
        lb: float | np.ndarray = -np.inf,
        ub: float | np.ndarray = np.inf,
        integer: bool = False,
    ) -> Group:
        return cls(
            name,
            size,
            np.broadcast_to(np.asarray(lb, float), (size,)).copy(),
            np.broadcast_to(np.asarray(ub, float), (size,)).copy(),
            integer,
        )

    @classmethod
    def data(cls, name: str, value: np.ndarray) -> Group:
        value = np.asarray(value, float)
        return cls(name, len(value), value.copy(), value.copy(), False, Role.DATA, value.copy())


@dataclass
class Rows:
    """``sum_g terms[g] @ x_g  sense  rhs``."""

    name: str
    terms: Terms
    sense: Sense
    rhs: np.ndarray

    @property
    def m(self) -> int:
        return len(self.rhs)


@dataclass
class Cones:
    """``|| (X^k x)_k || <= T x`` row by row (``m`` cones of dimension ``len(xs) + 1``)."""

    name: str
    t: Terms
    xs: list[Terms]

    @property
    def m(self) -> int:
        return next(iter(self.t.values())).shape[0]


@dataclass
class OnOff:
    """Entries ``cols`` of group ``group`` that are zero where the binary entries ``switches``
    of group ``switch`` are 0: ``|x_k| <= M_k y_k`` (``two_sided``) or ``x_k <= M_k y_k``
    (with ``x_k >= 0`` from the group's bounds), one ``(col, switch, M)`` per entry.

    :meth:`big_m_rows` are these rows. A model whose ``switch`` is fixed at 0/1 values
    ``y_hat`` (a slave) states them without ``M`` instead, as ``(1 - y_hat_k) x_k = 0``
    (``<= 0``): :class:`~feederopt.solvers.cvxpy_backend.CvxpyModel`. An ``M`` of 1e4-1e9
    next to the copy row ``y = y_hat`` let the conic solver's residue on that row
    (``y = 7e-4`` for ``y_hat = 0``) carry 26 p.u. of q through an open switch of pandapower's
    ``example_multivoltage`` (:func:`~feederopt.formulations.distflow.fixed_topology_form`).

    The device binaries use the same form
    (:func:`~feederopt.formulations.devices.fixed_device_form`): a committable generator's
    ``lo y <= x <= hi y`` is ``big_m = hi`` with ``big_m_lo = -lo`` (the lower side's ``M``,
    ``-x_k - M^lo_k y_k <= 0``; ``None``: ``big_m``). ``weight`` is the power [p.u.] that one
    unit of ``x_k`` injects (a bank's ``step x b_c`` per unit of its switched voltage; ``None``:
    1), what the slave's guard measures on a switched-off entry."""

    name: str
    group: str
    cols: np.ndarray
    switch: str
    switches: np.ndarray
    big_m: np.ndarray
    two_sided: bool
    big_m_lo: np.ndarray | None = None
    weight: np.ndarray | None = None

    @property
    def lower_m(self) -> np.ndarray:
        """The lower side's ``M`` (``big_m`` unless given)."""
        return self.big_m if self.big_m_lo is None else self.big_m_lo

    def big_m_rows(self, groups: dict[str, Group]) -> list[Rows]:
        """The big-M rows ``x_k - M_k y_k <= 0`` (and ``-x_k - M^lo_k y_k <= 0``)."""
        k = len(self.cols)
        pick = select(self.cols, groups[self.group].size)
        on = select(self.switches, groups[self.switch].size, -self.big_m)
        out = [Rows(self.name + "_pos" if self.two_sided else self.name,
                    {self.group: pick, self.switch: on}, Sense.LE, np.zeros(k))]
        if self.two_sided:
            on_lo = select(self.switches, groups[self.switch].size, -self.lower_m)
            out.append(Rows(self.name + "_neg", {self.group: -pick, self.switch: on_lo},
                            Sense.LE, np.zeros(k)))
        return out


@dataclass
class Block:
    """Variable groups, rows, cones, on/off bounds (:class:`OnOff`) and a linear objective
    ``sum_g c_g @ x_g``. Only :func:`~feederopt.formulations.distflow.fixed_topology_form`
    (the slaves' form) writes ``on_off``; every other model holds the same bounds as big-M
    rows in ``rows``."""

    groups: dict[str, Group] = field(default_factory=dict)
    rows: list[Rows] = field(default_factory=list)
    cones: list[Cones] = field(default_factory=list)
    objective: dict[str, np.ndarray] = field(default_factory=dict)
    on_off: list[OnOff] = field(default_factory=list)

    def add_group(self, group: Group) -> Group:
        if group.name in self.groups:
            raise ValueError(f"group {group.name!r} defined twice")
        self.groups[group.name] = group
        return group

    def add_rows(self, name: str, terms: Terms, sense: Sense, rhs: np.ndarray) -> None:
        rhs = np.asarray(rhs, float)
        terms = {g: sp.csr_matrix(a) for g, a in terms.items() if a.nnz or a.shape[0]}
        for g, a in terms.items():
            if a.shape != (len(rhs), self.groups[g].size):
                raise ValueError(f"rows {name!r}: {g} has shape {a.shape}")
        if len(rhs):
            self.rows.append(Rows(name, terms, sense, rhs))

    def add_cones(self, name: str, t: Terms, xs: list[Terms]) -> None:
        m = next(iter(t.values())).shape[0]
        if m:
            self.cones.append(
                Cones(
                    name,
                    {g: sp.csr_matrix(a) for g, a in t.items()},
                    [{g: sp.csr_matrix(a) for g, a in x.items()} for x in xs],
                )
            )

    def add_objective(self, group: str, c: np.ndarray) -> None:
        c = np.asarray(c, float)
        self.objective[group] = self.objective.get(group, np.zeros_like(c)) + c

    def merge(self, other: Block) -> Block:
        """Union of two blocks; groups with the same name must be the same group."""
        for name, g in other.groups.items():
            if name in self.groups:
                if self.groups[name].size != g.size:
                    raise ValueError(f"group {name!r} sizes differ")
                mine = self.groups[name]
                mine.lb = np.maximum(mine.lb, g.lb)
                mine.ub = np.minimum(mine.ub, g.ub)
                mine.integer = mine.integer or g.integer
            else:
                self.groups[name] = g
        self.rows += other.rows
        self.cones += other.cones
        self.on_off += other.on_off
        for gname, c in other.objective.items():
            self.add_objective(gname, c)
        return self

    def row(self, name: str) -> Rows:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def _value(self, point: dict[str, np.ndarray], name: str) -> np.ndarray:
        g = self.groups[name]
        if g.role is Role.DATA:
            return np.asarray(g.value, float)
        return np.asarray(point[name], float)

    def violation(self, point: dict[str, np.ndarray]) -> float:
        """The largest amount by which ``point`` (a value per variable group) breaks the
        block: a group's bounds, the integrality of an integer group, a row
        (``sum_g A_g x_g - rhs`` above 0, or away from 0 for ``==``) or a cone
        (``||X x|| - T x``); 0 for a feasible point. A variable group missing from
        ``point`` is a ``KeyError``."""
        worst = 0.0
        for name, g in self.groups.items():
            if g.role is Role.DATA:
                continue
            x = self._value(point, name)
            if len(x):
                worst = max(worst, float(np.max(g.lb - x)), float(np.max(x - g.ub)))
                if g.integer:
                    worst = max(worst, float(np.max(np.abs(x - np.round(x)))))
        on_off = [r for o in self.on_off for r in o.big_m_rows(self.groups)]
        for r in self.rows + on_off:
            lhs = sum((a @ self._value(point, g) for g, a in r.terms.items()),
                      np.zeros(r.m)) - r.rhs
            if r.m:
                worst = max(worst, float(np.max(np.abs(lhs) if r.sense is Sense.EQ else lhs)))
        for c in self.cones:
            t = sum((a @ self._value(point, g) for g, a in c.t.items()), np.zeros(c.m))
            xs = [sum((a @ self._value(point, g) for g, a in x.items()), np.zeros(c.m))
                  for x in c.xs]
            norm = np.sqrt(np.sum(np.square(xs), axis=0)) if xs else np.zeros(c.m)
            if c.m:
                worst = max(worst, float(np.max(norm - t)))
        return worst

    def objective_value(self, point: dict[str, np.ndarray]) -> float:
        """``sum_g c_g @ x_g`` at ``point``."""
        return float(sum(float(c @ self._value(point, g)) for g, c in self.objective.items()))


def incidence(n: int, idx: np.ndarray, weights: np.ndarray | float = 1.0) -> sp.csr_matrix:
    """``A[idx[k], k] = weights[k]``: a (n x len(idx)) sparse matrix."""
    k = len(idx)
    w = np.broadcast_to(np.asarray(weights, float), (k,))
    return sp.csr_matrix((w, (np.asarray(idx, int), np.arange(k))), shape=(n, k))


def diag(values: np.ndarray | float, size: int) -> sp.csr_matrix:
    """The (size x size) diagonal matrix of ``values``, its zeros not stored (as
    ``sp.diags(values).tocsr()`` gives it, built directly: that was most of a scenario
    block's build time)."""
    v = np.broadcast_to(np.asarray(values, float), (size,))
    on = v != 0
    indptr = np.zeros(size + 1, np.int32)
    np.cumsum(on, out=indptr[1:])
    return sp.csr_matrix((v[on], np.flatnonzero(on).astype(np.int32), indptr),
                         shape=(size, size))


def select(rows: np.ndarray, n: int, weights: np.ndarray | float = 1.0) -> sp.csr_matrix:
    """``A[k, rows[k]] = weights[k]``: picks entries ``rows`` of an n-vector."""
    k = len(rows)
    w = np.broadcast_to(np.asarray(weights, float), (k,))
    return sp.csr_matrix((w, (np.arange(k), np.asarray(rows, int))), shape=(k, n))
