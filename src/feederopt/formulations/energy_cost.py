"""The energy costs beyond the linear DG cost: the convex quadratic energy cost of generators,
``c2_g pg_g^2`` with ``c2_g >= 0`` (pandapower's ``poly_cost.cp2_eur_per_mw2``), as an
epigraph in second-order cones, and the import price of the sources (``c_s ps_s``, pandapower's
``ext_grid`` ``cp1_eur_per_mw``; :func:`import_cost`).

For every generator with ``c2_g > 0`` the block gains a variable ``pg2_g >= pg_g^2`` and the
objective prices ``c2_g pg2_g``; the bound is the rotated cone

    pg2 * 1 >= pg^2   <=>   || (2 pg, pg2 - 1) ||_2 <= pg2 + 1

(Lobo, Vandenberghe, Boyd & Lebret, "Applications of second-order cone programming", Linear
Algebra Appl. 284, 1998, section 2.3), the ``1`` a data group. A conic model (the Benders
slave on Clarabel, the MISOCP on SCIP) holds it exactly: at an optimum ``pg2 = pg^2``, so the
cost is exact. A MILP (the Benders master on HiGHS) carries the cone's tangents
(:func:`seed_points`, and cuts at every slave point): a piecewise-linear outer approximation
``pg2 >= 2 p_k pg - p_k^2`` that underestimates ``pg^2``, so its bound stays valid, and the
slave evaluates the exact value.

The sources' import takes the same form: ``c2_s ps_s^2`` (pandapower's ``ext_grid``
``cp2_eur_per_mw2``, ``buses.import_cost_per_mw2_per_h``) is an epigraph ``ps2_s >= ps_s^2`` in
the same rotated cone (:data:`IMPORT_COST_CONE`; ``ps`` may be negative, an export, and
``ps^2`` is convex either way), and the constant ``cp0_eur`` (``buses.import_fixed_cost_per_h``)
a constant of the objective (:func:`import_fixed_cost`), as pandapower's ``runopp`` counts
``cp0 + cp1 p + cp2 p^2`` of the ext_grid's ``p`` in ``res_cost``.

The reactive costs take the same forms on the injected reactive power (pandapower's
``poly_cost`` ``cq1_eur_per_mvar``, ``cq2_eur_per_mvar2``; ``runopp`` prices ``cq0 + cq1 q +
cq2 q^2`` of a gen's, sgen's or ext_grid's injected ``q`` with sign +1,
``pandapower.opf.make_objective._fill_gencost_poly``): ``c_q qg`` and ``c_q qs`` linear
(:func:`reactive_prices`), ``c2_q >= 0`` an epigraph ``qg2 >= qg^2`` (``qs2 >= qs^2``) in the
same rotated cone (:data:`GEN_Q_COST_CONE`, :data:`IMPORT_Q_COST_CONE`), tangents in a MILP
master. A negative ``c_q`` rewards reactive output, which the SOCP relaxation can produce by
inflating ``l`` (a valid bound, but possibly an inexact point). This module imports no
solver.
"""

from __future__ import annotations

from collections.abc import Container

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.blocks import Block, Group, select
from feederopt.formulations.distflow import (
    DistFlowOptions,
    _gen_q_range,
    big_m,
    bus_shunts,
    voltage_bounds,
)
from feederopt.network.perunit import PerUnitNetwork

#: The cone's name, carried by a MILP master as outer-approximation cuts.
GEN_COST_CONE = "gen_cost_cone"
#: The quadratic import cost's cone (``ps2 >= ps^2``), carried alike.
IMPORT_COST_CONE = "import_cost_cone"
#: The quadratic reactive costs' cones (``qg2 >= qg^2``, ``qs2 >= qs^2``), carried alike.
GEN_Q_COST_CONE = "gen_q_cost_cone"
IMPORT_Q_COST_CONE = "import_q_cost_cone"
#: A flexible load's quadratic reactive cost (``flexq2 >= flexq^2``, on the change of its q:
#: :func:`feederopt.formulations.devices.add_devices`), carried alike.
LOAD_Q_COST_CONE = "load_q_cost_cone"
#: Every cost cone: a MILP master carries their tangents (:func:`seed_points`, slave points).
COST_CONES = (GEN_COST_CONE, IMPORT_COST_CONE, GEN_Q_COST_CONE, IMPORT_Q_COST_CONE,
              LOAD_Q_COST_CONE)
#: Per cost cone, its (variable, epigraph) groups.
_CONE_GROUPS = {GEN_COST_CONE: ("pg", "pg2"), IMPORT_COST_CONE: ("ps", "ps2"),
                GEN_Q_COST_CONE: ("qg", "qg2"), IMPORT_Q_COST_CONE: ("qs", "qs2"),
                LOAD_Q_COST_CONE: ("flexq", "flexq2")}

#: Tangent points of the master's outer approximation before any slave: shares of each
#: unit's range ``p_min..p_max``.
SEED_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


def quadratic_units(pu: PerUnitNetwork) -> np.ndarray:
    """The generators (indices) with a quadratic energy cost ``c2 > 0``."""
    if not pu.gen_cost2.size:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(pu.gen_cost2 > 0)


def quadratic_coefficients(pu: PerUnitNetwork) -> np.ndarray:
    """``c2`` of :func:`quadratic_units` [per p.u.^2 hour], the objective's price of
    ``pg2``."""
    return pu.gen_cost2[quadratic_units(pu)].astype(float)


def quadratic_sources(pu: PerUnitNetwork) -> np.ndarray:
    """The sources with a quadratic import cost ``c2 > 0``: indices into the DistFlow group
    ``ps`` (the order of :attr:`~feederopt.network.perunit.PerUnitNetwork.sources`)."""
    if not pu.source_cost2.size:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(pu.source_cost2[pu.sources] > 0)


def import_quadratic_coefficients(pu: PerUnitNetwork) -> np.ndarray:
    """``c2_s`` of :func:`quadratic_sources` [per p.u.^2 hour], the objective's price of
    ``ps2``."""
    return pu.source_cost2[pu.sources][quadratic_sources(pu)].astype(float)


def quadratic_q_units(pu: PerUnitNetwork) -> np.ndarray:
    """The generators (indices) with a quadratic reactive cost ``c2_q > 0``."""
    if not pu.gen_cost_q2.size:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(pu.gen_cost_q2 > 0)


def quadratic_q_sources(pu: PerUnitNetwork) -> np.ndarray:
    """The sources (indices into ``qs``) with a quadratic reactive cost ``c2_q > 0``."""
    if not pu.source_q_cost2.size:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(pu.source_q_cost2[pu.sources] > 0)


def reactive_epigraphs(pu: PerUnitNetwork) -> set[str]:
    """The reactive epigraph groups that :func:`add_quadratic_cost` adds to a DistFlow block
    of ``pu``: ``qg2`` and ``qs2`` where a unit or source has ``c2_q > 0``."""
    return ({"qg2"} if len(quadratic_q_units(pu)) else set()) | (
        {"qs2"} if len(quadratic_q_sources(pu)) else set())


def reactive_cost_terms(pu: PerUnitNetwork, groups: Container[str]) -> dict[str, np.ndarray]:
    """The objective's reactive cost coefficients [per hour, per p.u. or p.u.^2] by group:
    ``qg`` (``c_q`` per generator), ``qs`` (per source), ``qg2`` and ``qs2`` (``c2_q`` of
    :func:`quadratic_q_units`, :func:`quadratic_q_sources`, where ``groups`` has them); a
    group without a non-zero price is left out."""
    out: dict[str, np.ndarray] = {}
    if pu.gen_cost_q.size and np.any(pu.gen_cost_q != 0):
        out["qg"] = pu.gen_cost_q.astype(float)
    if pu.source_q_price.size and np.any(pu.source_q_price[pu.sources] != 0):
        out["qs"] = pu.source_q_price[pu.sources].astype(float)
    if "qg2" in groups:
        out["qg2"] = pu.gen_cost_q2[quadratic_q_units(pu)].astype(float)
    if "qs2" in groups:
        out["qs2"] = pu.source_q_cost2[pu.sources][quadratic_q_sources(pu)].astype(float)
    return out


def reactive_cost(pu: PerUnitNetwork, qg: np.ndarray | None, qs: np.ndarray | None
                  ) -> tuple[float, float]:
    """``(sum_g c_q qg + c2_q qg^2, sum_s c_q qs + c2_q qs^2)`` [per hour] at ``qg`` (per
    generator) and ``qs`` (per source): the exact reactive costs of generators and sources
    that the reported costs take (``dg_per_h``, ``import_per_h``)."""
    gen = src = 0.0
    if qg is not None and np.asarray(qg).size and pu.gen_cost_q.size:
        q = np.asarray(qg, float)
        gen = float(np.sum(pu.gen_cost_q * q + pu.gen_cost_q2 * q**2))
    if qs is not None and np.asarray(qs).size and pu.source_q_price.size:
        q = np.asarray(qs, float)
        src = float(np.sum(pu.source_q_price[pu.sources] * q
                           + pu.source_q_cost2[pu.sources] * q**2))
    return gen, src


def square_epigraph(block: Block, name: str, of: str, size: int, k: np.ndarray,
                    top: float | np.ndarray) -> None:
    """``name_j >= of_{k_j}^2`` in the rotated cone ``|| (2 x, t - 1) || <= t + 1``."""
    n = len(k)
    block.add_group(Group.new(name, n, 0.0, top))
    block.add_group(Group.data(f"{name}_one", np.ones(1)))
    one = sp.csr_matrix(np.ones((n, 1)))
    eye = select(np.arange(n), n)
    cone = next(c for c, (_, epi) in _CONE_GROUPS.items() if epi == name)
    block.add_cones(cone, {name: eye, f"{name}_one": one},
                    [{of: 2.0 * select(k, size)}, {name: eye, f"{name}_one": -one}])


def add_quadratic_cost(block: Block, pu: PerUnitNetwork) -> np.ndarray:
    """Add ``pg2 >= pg^2`` (module docstring) for :func:`quadratic_units` to ``block`` (which
    has the group ``pg``), ``ps2 >= ps^2`` for :func:`quadratic_sources` (group ``ps``) and
    the reactive ``qg2 >= qg^2``, ``qs2 >= qs^2`` for :func:`quadratic_q_units` and
    :func:`quadratic_q_sources`; returns the objective coefficients of ``pg2`` [per p.u.^2
    hour] (``c2``; empty when no unit has one, and nothing is added for the units)."""
    s = quadratic_sources(pu)
    if len(s):
        square_epigraph(block, "ps2", "ps", len(pu.sources), s, np.inf)
    s = quadratic_q_sources(pu)
    if len(s) and "qs" in block.groups:
        square_epigraph(block, "qs2", "qs", len(pu.sources), s, np.inf)
    kq = quadratic_q_units(pu)
    if len(kq):
        square_epigraph(block, "qg2", "qg", pu.n_gen, kq, np.inf)
    k = quadratic_units(pu)
    if not len(k):
        return np.zeros(0)
    top = np.maximum(pu.gen_p_min[k] ** 2, pu.gen_p_max[k] ** 2)
    square_epigraph(block, "pg2", "pg", pu.n_gen, k, top)
    return quadratic_coefficients(pu)


#: Tangent points of the quadratic import cost before any slave: shares of the total load
#: per source (negative: an export).
IMPORT_SEED_SHARES = (-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25)


def seed_points(pu: PerUnitNetwork) -> list[dict[str, np.ndarray]]:
    """Points on the cost cones, for their tangents in a MILP before any slave point: the
    quadratic units' ranges (:data:`SEED_SHARES`; ``pg`` over every generator, ``pg2 =
    pg^2``) and shares of the total load for each source's import (:data:`IMPORT_SEED_SHARES`;
    ``ps`` over every source, ``ps2 = ps^2``)."""
    k = quadratic_units(pu)
    s = quadratic_sources(pu)
    out = []
    if len(k):
        for share in SEED_SHARES:
            pg = pu.gen_p_min + share * (pu.gen_p_max - pu.gen_p_min)
            out.append({"pg": pg, "pg2": pg[k] ** 2})
    if len(s):
        total = max(float(np.abs(pu.p_load).sum()), 1e-3) / max(len(pu.sources), 1)
        for share in IMPORT_SEED_SHARES:
            ps = np.full(len(pu.sources), share * total)
            out.append({"ps": ps, "ps2": ps[s] ** 2})
    # the reactive costs: each unit's q range where finite (else +-the total reactive load),
    # each source's shares of the total reactive load
    kq, sq = quadratic_q_units(pu), quadratic_q_sources(pu)
    q_total = max(float(np.abs(pu.q_load).sum()), 1e-3)
    if len(kq):
        lo = np.where(np.isfinite(pu.gen_q_min), pu.gen_q_min, -q_total)
        hi = np.where(np.isfinite(pu.gen_q_max), pu.gen_q_max, q_total)
        for share in SEED_SHARES:
            qg = lo + share * (hi - lo)
            out.append({"qg": qg, "qg2": qg[kq] ** 2})
    if len(sq):
        for share in IMPORT_SEED_SHARES:
            qs = np.full(len(pu.sources), share * q_total / max(len(pu.sources), 1))
            out.append({"qs": qs, "qs2": qs[sq] ** 2})
    return out


def cone_groups(cone_name: str) -> tuple[str, str]:
    """The (variable, epigraph) groups of a cost cone: ``("pg", "pg2")``, ``("ps", "ps2")``,
    ``("qg", "qg2")`` or ``("qs", "qs2")``; a point gives tangents of it only with both."""
    return _CONE_GROUPS[cone_name]


def quadratic_cost(pu: PerUnitNetwork, pg: np.ndarray) -> float:
    """``sum_g c2_g pg_g^2`` at ``pg`` [per hour, with ``c2`` per p.u.^2 hour]: the exact
    value that the reported cost takes."""
    if not pu.gen_cost2.size or not pg.size:
        return 0.0
    return float(np.sum(pu.gen_cost2 * np.asarray(pg, float) ** 2))


def import_quadratic_cost(pu: PerUnitNetwork, ps: np.ndarray) -> float:
    """``sum_s c2_s ps_s^2`` at ``ps`` (group ``ps``, per source) [per hour]: the exact value
    that the reported import cost takes."""
    if not pu.source_cost2.size or not np.asarray(ps).size:
        return 0.0
    return float(np.sum(pu.source_cost2[pu.sources] * np.asarray(ps, float) ** 2))


def import_fixed_cost(pu: PerUnitNetwork) -> float:
    """``sum_s F_s`` [per hour]: the sources' constant cost (pandapower's ext_grid ``cp0_eur``,
    ``buses.import_fixed_cost_per_h``), a constant of the objective."""
    return float(np.sum(pu.source_fixed[pu.sources])) if pu.source_fixed.size else 0.0


def import_cost(pu: PerUnitNetwork) -> np.ndarray:
    """The import price of each source [per p.u. hour], in the order of the DistFlow group
    ``ps`` (:attr:`~feederopt.network.perunit.PerUnitNetwork.sources`): ``c_s ps_s`` per hour
    (pandapower's ``ext_grid`` ``poly_cost.cp1_eur_per_mw``, which prices export alike).
    Empty when no source has a price."""
    if not pu.source_price.size or not np.any(pu.source_price[pu.sources] != 0):
        return np.zeros(0)
    return pu.source_price[pu.sources].astype(float)


def import_cost_lower_bound(pu: PerUnitNetwork, price: np.ndarray) -> float:
    """A finite lower bound of ``sum_s c_s ps_s`` over every radial setting: ``|ps_s| <= M_s``
    with ``M_s`` the most that can leave or enter source ``s``: the flow bounds of its
    branches (DistFlow's big-M ``P`` bound, finite: the network's total), its own load,
    generators and shunts (at the highest voltage). ``ps``'s own bounds where tighter."""
    if not len(price):
        return 0.0
    mm = big_m(pu, DistFlowOptions())
    _, hi = voltage_bounds(pu, False)
    out = 0.0
    for k, s in enumerate(pu.sources):
        at_branch = (pu.f == s) | (pu.t == s)
        m = float(mm.p[at_branch].sum()) + abs(float(pu.p_load[s]))
        mine = pu.gen_bus == s
        if np.any(mine):
            m += float(np.maximum(np.abs(pu.gen_p_min[mine]), np.abs(pu.gen_p_max[mine])).sum())
        for shunt in (pu.p_shunt, pu.g_open_end):
            if shunt.size:
                m += abs(float(shunt[s])) * float(hi[s])
        for g, end in ((pu.g_from, pu.f), (pu.g_to, pu.t)):
            if g.size:
                m += float(np.abs(g[end == s]).sum()) * float(hi[s])
        m = min(m, float(pu.source_p_max[s]), float(pu.source_s_max[s]))
        out -= abs(float(price[k])) * m
    return out


def reactive_cost_lower_bound(pu: PerUnitNetwork) -> float:
    """A finite lower bound of the linear reactive costs ``sum_g c_q qg + sum_s c_q qs`` [per
    hour] over every radial setting: each unit's ``qg`` within its limits (an infinite one
    within what its bus can pass on, the DistFlow bound of ``qg``), each source's ``|qs|``
    within its branches' big-M ``Q`` bounds plus its own load, generators and shunts at the
    highest voltage. (The quadratic terms are >= 0.)"""
    gen_c = pu.gen_cost_q if pu.gen_cost_q.size else np.zeros(0)
    src_c = pu.source_q_price[pu.sources] if pu.source_q_price.size else np.zeros(0)
    if not (np.any(gen_c != 0) or np.any(src_c != 0)):
        return 0.0
    _, hi = voltage_bounds(pu, False)
    q_range = _gen_q_range(pu, hi)
    lo_q = np.maximum(pu.gen_q_min, -q_range)
    hi_q = np.minimum(pu.gen_q_max, q_range)
    out = float(np.minimum(gen_c * lo_q, gen_c * hi_q).sum()) if np.any(gen_c != 0) else 0.0
    if np.any(src_c != 0):
        mm = big_m(pu, DistFlowOptions())
        _, b_v = bus_shunts(pu)
        for k, s in enumerate(pu.sources):
            at_branch = (pu.f == s) | (pu.t == s)
            m = float(mm.q[at_branch].sum()) + abs(float(pu.q_load[s]))
            m += abs(float(b_v[s])) * float(hi[s])
            mine = pu.gen_bus == s
            if np.any(mine):
                m += float(np.maximum(np.abs(lo_q[mine]), np.abs(hi_q[mine])).sum())
            m = min(m, float(pu.source_s_max[s]))
            out -= abs(float(src_c[k])) * m
    return out
