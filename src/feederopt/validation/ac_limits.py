"""The model's limits held against an AC operating point: the one list of the limits an AC
power flow breaks, for the AC check of a solve (:func:`feederopt.results.mapping._ac_check`)
and for each scenario's power flow (:mod:`feederopt.validation.scenario_ac`).

The limits are the per-unit model's (:class:`~feederopt.network.perunit.PerUnitNetwork`), that
is, those the optimisation held: the network's own voltage band and ratings after
``--v-min``/``--v-max``/``--max-loading`` (:meth:`feederopt.network.container.Network.
with_limits`), none for a branch without a rating or a run with ``--no-thermal-limits``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork, to_per_unit

#: How far the AC operating point may pass a limit before the AC check calls it broken:
#: voltages [p.u.] (the model holds them to the solver's accuracy, about 1e-6, and an exact
#: relaxation matches the AC power flow to better than 1e-5), and ratings as a share of the
#: rating [%].
AC_LIMIT_TOLERANCE = {"voltage_pu": 1e-4, "rating_percent": 0.1}

#: No tolerance: the limits themselves (:func:`ac_limit_violations`), for the limits that an
#: AC operating point passes within :data:`AC_LIMIT_TOLERANCE` where the model found that the
#: topology breaks them (the AC check's ``broken_within_tolerance``).
STRICT = {"voltage_pu": 0.0, "rating_percent": 0.0}


def ac_limit_violations(pu: PerUnitNetwork, ac: Any,
                        bus_out: Callable[[str], Any] | None = None, *,
                        tolerance: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """The limits of the model ``pu`` that the AC operating point ``ac`` (an
    :class:`~feederopt.validation.ac.AcResult` over ``pu``'s buses and in-service branches)
    breaks beyond :data:`AC_LIMIT_TOLERANCE`, worst first (by the amount as a share of the
    limit), in the user's ids (``bus_out``) and SI units, as the entries of a diagnosis:

    * a bus whose AC voltage |V| is below ``v_min - tol_v`` or above ``v_max + tol_v``
      (energised buses only: a bus cut off from every source has no voltage), but not a bus
      held at its set-point (:meth:`~feederopt.network.perunit.PerUnitNetwork.
      held_at_set_point`): a source's bus without an OLTC
      (:func:`~feederopt.network.limits.held_by_source`) or a bus that voltage-controlling
      generators hold whatever their q (:func:`~feederopt.network.limits.held_by_generator`):
      the model fixes its voltage at the set-point, which no band binds, and so does the AC
      power flow (an ext_grid's or a gen's ``vm_pu``); a source with an OLTC, and a gen whose q
      limits are enforced (it leaves its set-point at a limit), are held to their band like
      any bus;
    * a closed branch whose AC current exceeds its rating ``i_max_ka`` by more than ``tol_r``
      % of it, the current taken at the more loaded end, each end referred to the rating
      (:func:`feederopt.validation.ac.rating_current`: a line's larger end current, a
      transformer's pandapower current-based loading over both windings), or whose apparent
      power at the from end ``|P + jQ|`` exceeds ``s_max`` likewise.

    These are the limits the model held (after ``--v-min``/``--v-max``/``--max-loading``);
    a branch without a rating, or a run with ``--no-thermal-limits``, has none.
    ``tolerance`` replaces :data:`AC_LIMIT_TOLERANCE` (its two keys; zeros: the limits
    themselves, :data:`STRICT`)."""
    if len(ac.vm_pu) != pu.n_bus or len(ac.closed) != pu.n_branch:
        raise ValueError(f"the AC power flow ({len(ac.vm_pu)} buses, {len(ac.closed)} "
                         f"branches) is not over the model's ({pu.n_bus} buses, "
                         f"{pu.n_branch} branches)")
    out_id: Callable[[str], Any] = bus_out or (lambda b: b)
    tols = AC_LIMIT_TOLERANCE if tolerance is None else tolerance
    tol_v = tols["voltage_pu"]
    tol_r = tols["rating_percent"] / 100.0
    found: list[tuple[float, dict[str, Any]]] = []
    vm = np.asarray(ac.vm_pu, dtype=float)
    # A bus held at its set-point keeps it whatever the band (user test ut34_fuzz: a second
    # ext_grid at 1.01 p.u. on buses banded to 1.0076 gave exit 4 for its own bus; a gen at
    # 1.02 p.u. on buses banded to 1.01 did the same for its bus).
    for k in np.flatnonzero(np.isfinite(vm) & ~pu.held_at_set_point()):
        for limit, rating, beyond in (("v_min", pu.v_min[k], pu.v_min[k] - vm[k]),
                                      ("v_max", pu.v_max[k], vm[k] - pu.v_max[k])):
            if beyond > tol_v:
                found.append((beyond / rating, {
                    "component": "buses", "id": out_id(pu.bus_ids[k]), "limit": limit,
                    "value": float(vm[k]), "rating": float(rating), "amount": float(beyond),
                    "unit": "p.u."}))
    s = pu.s_base_mva
    closed = np.asarray(ac.closed, dtype=bool)
    given = pu.i_rating if pu.i_rating.size else pu.i_max  # the rating, not the series limit
    # In kA at the voltage of the end the branch's current is given at (a trafo3w winding's
    # own terminal, not its star point: PerUnitNetwork.current_base_ka); the AC current that
    # the rating compares with is referred to the from bus (rating_current), hence the ratio.
    base = pu.current_base_ka()
    i_rating = given * base  # [kA]
    s_rating = pu.s_max * s  # [MVA]
    s_from = np.hypot(np.asarray(ac.p_from_mw, float), np.asarray(ac.q_from_mvar, float))
    current = np.asarray(ac.i_rated_ka if len(ac.i_rated_ka) else ac.i_ka, float) * (
        base / (s / (math.sqrt(3.0) * pu.vn_kv[pu.f])))
    for limit, rating, value, unit in (("i_max", i_rating, current, "kA"),
                                       ("s_max", s_rating, s_from, "MVA")):
        with np.errstate(invalid="ignore"):
            over = closed & np.isfinite(rating) & np.isfinite(value) & (
                value > rating * (1.0 + tol_r))
        for e in np.flatnonzero(over):
            found.append((value[e] / rating[e] - 1.0, {
                "component": "branches", "id": pu.branch_ids[e], "limit": limit,
                "value": float(value[e]), "rating": float(rating[e]),
                "amount": float(value[e] - rating[e]), "unit": unit,
                "loading_percent": float(100.0 * value[e] / rating[e])}))
    found.sort(key=lambda x: -x[0])
    return [d for _, d in found]


def ac_unsupplied(pu: PerUnitNetwork, closed: np.ndarray, vm_pu: np.ndarray) -> list[str]:
    """The buses of ``pu`` that the closed branches connect to a source (``is_source``; a
    breadth-first search over ``closed``) but whose AC voltage ``vm_pu`` is not finite:
    pandapower's power flow gives a bus without a path to an ext_grid NaN, so the AC net
    does not have the answer's topology there."""
    from feederopt.network.topology import reachable

    vm = np.asarray(vm_pu, dtype=float)
    if vm.size != pu.n_bus or np.all(np.isfinite(vm)):
        return []
    seen = reachable(pu.f, pu.t, closed, np.flatnonzero(pu.is_source))
    return [str(pu.bus_ids[k]) for k in sorted(seen) if not np.isfinite(vm[k])]


def limit_rows(violations: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The broken limits ``violations`` (entries of :func:`ac_limit_violations`, or of any AC
    power flow in their form: ``component``, ``id``, ``limit``, ``value``, ``rating``,
    ``unit``, ``loading_percent``; an ``hour`` or a ``scenario`` kept where given: the worst
    hour of a schedule's base case, the worst scenario of a three-phase scenario run's) as the
    verdicts list them, in
    their order: ``below_v_min`` and ``above_v_max`` (``id``, ``value``, ``rating`` [p.u.]),
    ``over_rating`` (``id``, ``limit``, ``value``, ``rating``, ``unit``,
    ``loading_percent``). The one form of a base case's verdict, balanced
    (:func:`voltage_verdict`, :func:`rating_verdict`), three-phase and hourly
    (:mod:`feederopt.validation.base_case`)."""
    def row(d: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        return {k: d.get(k) for k in (*keys, *(w for w in ("hour", "scenario") if w in d))}

    bus_keys = ("id", "value", "rating")
    return {"below_v_min": [row(d, bus_keys) for d in violations if d["limit"] == "v_min"],
            "above_v_max": [row(d, bus_keys) for d in violations if d["limit"] == "v_max"],
            "over_rating": [row(d, ("id", "limit", "value", "rating", "unit",
                                    "loading_percent"))
                            for d in violations if d.get("component") == "branches"]}


def voltage_verdict(network: Network, ac: Any, *,
                    pu: PerUnitNetwork | None = None) -> dict[str, Any]:
    """The AC voltages of ``ac`` (a converged power flow of ``network``, e.g. its base case:
    :func:`feederopt.validation.ac.ac_power_flow`) against the voltage band of its per-unit
    model (``to_per_unit(network)``), as the AC check of a solve holds them
    (:func:`ac_limit_violations`, beyond :data:`AC_LIMIT_TOLERANCE`): ``within`` (no energised
    bus outside its band), the band's extremes ``v_min_pu`` (lowest bus limit) and
    ``v_max_pu`` (highest) over the buses that a band binds (not a bus held at its
    set-point by a source or a generator, :meth:`~feederopt.network.perunit.PerUnitNetwork.
    held_at_set_point`), the tightest limits of the buses that nothing holds
    (:meth:`~feederopt.network.container.Network.band_bus_mask`),
    ``v_min_highest_pu`` and ``v_max_lowest_pu`` (equal to those for one band), and the
    buses ``below_v_min`` and ``above_v_max``, worst first, each with its ``id`` (the
    user's), AC ``value`` and limit ``rating`` [p.u.]. ``pu``: ``to_per_unit(network)``, when
    the caller has it."""
    pu = to_per_unit(network) if pu is None else pu
    rows = limit_rows(ac_limit_violations(pu, ac, network.bus_id_out))
    below, above = rows["below_v_min"], rows["above_v_max"]
    # The band's extremes over the user's buses: the pandapower reader's internal buses (a
    # trafo3w's star point, an xward's auxiliary bus) get 0.5..1.5 p.u., which read as the
    # net's band ("within 0.5000 - 1.5000 p.u." for a net held to 0.9..1.1; ut_fresh #6).
    # The tightest limits too, over the buses that nothing holds (a source's or a generator's
    # bus keeps its set-point; case33bw's slack has 1..1): a SimBench MV grid holds its MV
    # buses to 0.965..1.055 and its HV buses to 0.9..1.1, and "within 0.9000 - 1.1000 p.u."
    # alone read as the MV buses' band (user test ut_sb #2).
    # A source's bus without an OLTC, or one that a generator holds, is held at its
    # set-point (held_at_set_point): its own band is none the solve keeps (pandapower 3's
    # 0..2 of an ext_grid bus read "within each bus's band, 0.0000..0.9500 -
    # 1.0500..2.0000 p.u.", user test ut33_dopf #3).
    user = network.user_bus_mask()  # pu = to_per_unit(network): the same bus order
    free = network.band_bus_mask()
    banded = user & ~pu.held_at_set_point()
    banded = banded if banded.any() else user
    has = bool(pu.n_bus)
    return {"within": not below and not above,
            "v_min_pu": float(np.min(pu.v_min[banded])) if has else math.nan,
            "v_max_pu": float(np.max(pu.v_max[banded])) if has else math.nan,
            "v_min_highest_pu": float(np.max(pu.v_min[free])) if has else math.nan,
            "v_max_lowest_pu": float(np.min(pu.v_max[free])) if has else math.nan,
            "below_v_min": below, "above_v_max": above}


def rating_verdict(network: Network, ac: Any, *,
                   pu: PerUnitNetwork | None = None) -> dict[str, Any]:
    """The branch currents and powers of ``ac`` (a converged power flow of ``network``, e.g.
    its base case) against the ratings of its per-unit model, as the AC check of a solve holds
    them (the branch entries of :func:`ac_limit_violations`, beyond
    :data:`AC_LIMIT_TOLERANCE`): ``within`` (no closed branch over its rating), the largest
    loading ``max_loading_percent`` (pandapower's ``loading_percent``, the AC check's
    ``max_loading_percent``: of the data's rating, also when ``network``'s ratings were
    scaled by ``--max-loading``) and its branch ``max_loading_element`` (None without a rated
    branch), and the branches ``over_rating``, worst first, each with its ``id``, ``limit``
    (``i_max`` or ``s_max``), AC ``value``, ``rating`` (the branch's own rating, the data's:
    not scaled by ``--max-loading``), ``unit``, ``loading_percent`` (``100 value / rating``:
    of the rating, as pandapower's ``loading_percent`` and ``max_loading_percent``), and the
    limit held: ``limit_percent`` (``--max-loading``, 100 without it:
    :attr:`~feederopt.network.container.Network.loading_limit_percent`) and ``limit_value``
    (``rating limit_percent / 100``, in ``unit``). Before, ``rating`` was the limit held and
    ``loading_percent`` the share of that limit (118.0 % of a 48 % limit beside a largest
    loading of 56.65 % of the rating; user test ut46_core #1); ``loading_percent /
    limit_percent * 100`` is that old share. ``feederopt info`` said nothing of a
    SimBench LV grid's transformer at 316 % in its base case, which every solve then
    reported infeasible (user test ut_sb #3). ``pu``: ``to_per_unit(network)``, when the
    caller has it."""
    pu = to_per_unit(network) if pu is None else pu
    over = [of_rating(row, network.loading_limit_percent) for row in
            limit_rows(ac_limit_violations(pu, ac, network.bus_id_out))["over_rating"]]
    largest = float(ac.max_loading_percent)
    return {"within": not over,
            "max_loading_percent": largest if math.isfinite(largest) else None,
            "max_loading_element": ac.max_loading_element,
            "over_rating": over}


def of_rating(row: Mapping[str, Any], limit_percent: float | None) -> dict[str, Any]:
    """An ``over_rating`` row of :func:`limit_rows` (``rating`` the limit held, the ratings
    scaled to ``limit_percent`` % of themselves by ``--max-loading``:
    :meth:`~feederopt.network.container.Network.with_limits`) in the rating's terms: ``rating``
    the branch's own ``limit_value / (limit_percent / 100)``, ``loading_percent`` ``100 value /
    rating``, with ``limit_percent`` and ``limit_value`` (the limit held) beside them. A row
    of a run without ratings (``limit_percent`` None) cannot occur; it is returned as it is."""
    if limit_percent is None or not limit_percent > 0.0:
        return dict(row)
    k = float(limit_percent) / 100.0
    held, value = float(row["rating"]), float(row["value"])
    rating = held / k
    return {**row, "rating": rating,
            "loading_percent": 100.0 * value / rating if rating > 0.0 else math.inf,
            "limit_percent": float(limit_percent), "limit_value": held}


def limits_verdict(network: Network, ac: Any) -> dict[str, Any]:
    """The one verdict on an AC operating point of ``network`` (a converged power flow, e.g.
    its base case) against the limits its per-unit model holds, as ``feederopt info`` and the
    base case of every ``feederopt solve`` give it: ``within_limits`` (no bus outside its band,
    no branch over its rating, beyond :data:`AC_LIMIT_TOLERANCE`), ``voltage_limits``
    (:func:`voltage_verdict`) and ``rating_limits`` (:func:`rating_verdict`), which name what
    is broken by id. A solve said only "base case losses 226.33 kW" beside an answer of
    277.68 kW, and the report "loss reduction -22.69 %", for a base case that loads a line to
    102.6 % of its rating, which ``info`` reported (user test ut37_fresh #1)."""
    pu = to_per_unit(network)
    band = voltage_verdict(network, ac, pu=pu)
    ratings = rating_verdict(network, ac, pu=pu)
    return {"within_limits": bool(band["within"] and ratings["within"]),
            "voltage_limits": band, "rating_limits": ratings}
