"""From an algorithm's per-unit answer to the user's ids and SI units: the one home of the
mapping (:func:`to_result`, :func:`slave_summary`), with the AC check of the chosen topology."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.algorithms.base import RawSolution
from feederopt.algorithms.slaves import SlaveResult
from feederopt.formulations.distflow import losses_of, pv_off_characteristic
from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork
from feederopt.results.result import GENERATOR_SCHEMA, HEURISTIC_METHODS, AcCheck, Result
from feederopt.results.uncertain import SlaveOutcome
from feederopt.solvers.status import BASE_FALLBACK_STATE, BASE_FALLBACK_WHAT, Status
from feederopt.validation.ac_limits import STRICT, ac_limit_violations, ac_unsupplied
from feederopt.validation.base_case import balanced_base_case
from feederopt.validation.base_case import base_loops as base_loops
from feederopt.validation.fidelity import losses_diff_pct

if TYPE_CHECKING:
    from feederopt.validation.fidelity import ModelFidelity

#: Largest |V_socp - V_ac| [p.u.] and relative cone gap for which the relaxation counts as exact.
EXACT_VOLTAGE_TOL = 1e-3
EXACT_CONE_TOL = 1e-3


def open_branch_rows(net: Network, pu: PerUnitNetwork, closed: Any) -> list[dict[str, Any]]:
    """The open branches of ``closed`` (a state per branch of ``pu``, true or > 0.5 closed) as
    a result gives them (``Result.open_branches``, which
    :func:`feederopt.results.result.branch_label` prints): ``id``, ``from_bus``, ``to_bus``,
    and the branch's user ``name`` and ``operated_by`` (the pandapower switches) where
    known."""
    operated = net.meta.get("operated_by") or {}
    names = net.element_names("branches")
    bus_out = net.bus_id_out
    return [{"id": bid, "from_bus": bus_out(pu.bus_ids[int(f)]),
             "to_bus": bus_out(pu.bus_ids[int(t)]),
             **({"name": names[bid]} if bid in names else {}),
             **({"operated_by": operated[bid]} if bid in operated else {})}
            for bid, f, t, c in zip(pu.branch_ids, pu.f, pu.t, np.asarray(closed) > 0.5,
                                    strict=True) if not c]


def dispatched_model(pu: PerUnitNetwork, point: dict[str, np.ndarray]) -> PerUnitNetwork:
    """``pu`` with its generators' set-points at the point's dispatch (``pg``, ``qg``
    [p.u.]), the injections that the AC check of the point runs at
    (:func:`feederopt.validation.ac.ac_power_flow` with ``gen_p``, ``gen_q``); ``pu`` itself
    when the point has none. A voltage-controlling generator's ``qg`` is only the start of
    its bus's PV iteration, as in the AC power flow."""
    if not pu.n_gen:
        return pu
    return replace(pu, gen_p_set=np.asarray(point.get("pg", pu.gen_p_set), float),
                   gen_q_set=np.asarray(point.get("qg", pu.gen_q_set), float))


def _from_end_flows(pu: PerUnitNetwork, point: Mapping[str, np.ndarray], p: np.ndarray,
                    q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The power [p.u.] that enters each branch at its from bus, from the model's series flow
    ``P + jQ`` (the DistFlow variables, at the series impedance's from side): the pi model's
    from-end shunt ``g_from + j b_from`` at the squared voltage ``v_f / tap^2`` consumes
    ``(g_from - j b_from) v_f / tap^2`` (``S = Y* |V|^2``; MATPOWER's branch model, Zimmerman
    et al. 2011, eq. (3.2)), so ``P_f = P + g_from v_f / tap^2``, ``Q_f = Q - b_from v_f /
    tap^2``: what pandapower's ``p_from_mw``/``q_from_mvar`` and the AC columns report. The
    series flow alone read half a line's charging apart from them (user test ut48_iobad #4:
    CIGRE MV line 0, 1.5307 against the AC's 1.5043 MVAr with the relaxation exact). The
    series flow where the point has no voltage or the model no branch shunt."""
    if not pu.has_branch_shunts() or "v" not in point or len(point["v"]) != pu.n_bus:
        return p, q
    seen = np.asarray(point["v"], float)[pu.f] * pu.tap2
    return p + pu.g_from * seen, q - pu.b_from * seen


def _series_current(pu: PerUnitNetwork, p: np.ndarray, q: np.ndarray, v: np.ndarray,
                    ell: np.ndarray) -> np.ndarray:
    """The series current [p.u.] of the model's point: ``|P + jQ| tap / |V_from|`` (the
    sending-end power over the voltage the series impedance sees, ``|V_from| / tap``), which
    equals ``sqrt(l)`` where the relaxation is tight. ``l`` itself is only bounded from below
    by ``(P^2 + Q^2) / v``: on a branch without resistance nothing in the objective presses it
    down, and the table gave a bus coupler 28 times its true current (user test ut_io #4).
    ``sqrt(l)`` where the point has no voltage."""
    tap = pu.tap if pu.tap.size else np.ones(pu.n_branch)
    vf = v[pu.f] if v.size == pu.n_bus else np.full(pu.n_branch, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        direct = np.hypot(p, q) * tap / vf
    return np.where(np.isfinite(direct), direct, np.sqrt(np.clip(ell, 0, None)))


def _reported(ac: Any, own: np.ndarray, open_value: np.ndarray) -> np.ndarray:
    """``own`` with pandapower's value for an open branch where it reports one
    (``open_value`` finite: a line of the user's net opened at one end)."""
    if open_value.size != own.size:
        return own
    return np.where(np.isfinite(open_value), open_value, own)


def _ac_branch_columns(ac: Any, pu: PerUnitNetwork) -> dict[str, np.ndarray]:
    """The branch table's AC columns (pandapower's, as the README says): the from-end flow
    (``p_from_ac_mw``, ``q_from_ac_mvar``), the current, the loading in % of the rating and
    the branch's losses ``loss_ac_kw`` (pandapower's ``pl_mw`` x 1000 of the element: a
    line's ``I^2 R`` with its charging, a transformer's copper and iron losses), which sum to
    the AC check's ``losses_kw`` but for a closed bus-bus switch's (as a restoration's table
    had them, user test ut47_report #5: the solve's had only the model's ``loss_kw``). The
    current is the from end's, but the to end's where the branch's currents are given there
    (:meth:`~feederopt.network.perunit.
    PerUnitNetwork.current_end`: a three-winding transformer's mv and lv windings, whose from
    end is the internal star point, at pandapower's ``i_mv_ka``/``i_lv_ka``; their from-end
    flow at the star is none pandapower reports: null). An open branch of the user's pandapower
    net (opened by a switch at one end) has pandapower's own charging values (the table wrote
    NaN and 0 kA where pandapower reports 0.07-0.56 %: user test ut_out #1); any other open
    branch carries nothing (0, and 0 % where it has a rating). NaN where a quantity does not
    exist (no rating, no AC run): it is written as null."""
    n_branch = pu.n_branch
    if ac is None:
        nan = np.full(n_branch, np.nan)
        return {"p_from_ac_mw": nan, "q_from_ac_mvar": nan.copy(), "i_ac_ka": nan.copy(),
                "loading_ac_percent": nan.copy(), "loss_ac_kw": nan.copy()}
    at_to = pu.current_end() != pu.f
    return {"p_from_ac_mw": _reported(ac, ac.p_from_mw, ac.open_p_from_mw),
            "q_from_ac_mvar": _reported(ac, ac.q_from_mvar, ac.open_q_from_mvar),
            "i_ac_ka": _reported(ac, np.where(at_to, ac.i_to_ka, ac.i_ka)
                                 if len(ac.i_to_ka) == len(ac.i_ka) else ac.i_ka,
                                 ac.open_i_ka),
            "loading_ac_percent": _reported(ac, ac.loading_percent, ac.open_loading_percent),
            "loss_ac_kw": np.asarray(ac.loss_kw, dtype=float)}


def to_result(net: Network, pu: PerUnitNetwork, raw: RawSolution, ac_check: bool = True, *,
              model_pu: PerUnitNetwork | None = None, ac_net: Network | None = None,
              fidelity_pu: PerUnitNetwork | None = None) -> Result:
    """Map an algorithm's per-unit answer to user ids and SI units, and run the AC check.
    ``model_pu`` is the model the point belongs to when presolve changed which branches are
    switchable (its copies ``u``, ``d`` follow the switchable branches); default ``pu``.
    ``ac_net`` is the network that the AC check runs on (the devices at their chosen settings,
    :func:`feederopt.network.device_settings.with_settings`); default ``net``.
    ``fidelity_pu`` is ``pu`` as the AC check's topology has it where the two differ (an open
    branch's charging at the end chosen in AC, :mod:`feederopt.validation.open_ends`), for
    the model's power flow that the fidelity compares with AC; default ``pu``."""
    from feederopt.validation.ac import ac_power_flow
    from feederopt.validation.fidelity import model_fidelity

    bus_out: Callable[[str], Any] = net.bus_id_out
    # No topology (the run stopped, or failed, before it had one): the tables carry no switch
    # states (``closed`` null) rather than the base case's, which nobody chose.
    has_topology = raw.y is not None
    closed = raw.y > 0.5 if raw.y is not None else np.zeros(pu.n_branch, bool)
    point = raw.point
    s = pu.s_base_mva
    v = np.sqrt(np.clip(point["v"], 0, None)) if "v" in point else np.full(pu.n_bus, np.nan)
    i_base = pu.current_base_ka()  # a trafo3w winding at its own voltage, not the star's
    p = point.get("P", np.full(pu.n_branch, np.nan))
    q = point.get("Q", np.full(pu.n_branch, np.nan))
    ell = point.get("l", np.full(pu.n_branch, np.nan))
    losses_kw = losses_of(model_pu or pu, point) * s * 1000.0 if "l" in point else math.nan
    # A topology that breaks a limit (the least-violating one): its SOCP point minimises
    # slack, not losses, so it gives no losses; the AC check gives its true ones. A run with
    # no topology at all has none within the limits either.
    violating = raw.status is Status.INFEASIBLE or not raw.within_limits or not has_topology

    # the seconds of the base case's and the AC check's power flows, in ``timings``
    # (base_case_s, ac_check_s: user test ut51_bigrid #2), added to those of an earlier call
    # for the same answer (its raw.timings carry them: an answer chosen in AC is mapped again)
    t0 = time.perf_counter()
    base_ac = ac_power_flow(net) if ac_check else None
    base_s = time.perf_counter() - t0
    ac = None
    t0 = time.perf_counter()
    if ac_check and raw.y is not None:
        # The same loads and the DG set-points that the optimiser chose.
        gen_p = point["pg"] * s if pu.n_gen and "pg" in point else None
        gen_q = point["qg"] * s if pu.n_gen and "qg" in point else None
        ac = ac_power_flow(ac_net or net, closed, gen_p, gen_q)
    check_s = time.perf_counter() - t0

    bus_ids = pu.bus_ids
    # The band held: a source's bus without an OLTC, or a bus that a voltage-controlling
    # generator holds whatever its q, holds its set-point (held_at_set_point), not its own
    # band, which no option changes (user test ut33_dopf #3).
    held = pu.held_at_set_point()
    held_v = pu.held_set_point()
    # the user's names beside the ids (null where the source has none): pandapower's
    # net.bus.name, net.line.name, ..., a table folder's name column
    bus_names, branch_names = net.element_names("buses"), net.element_names("branches")
    gen_names = net.element_names("generators")
    buses = pl.DataFrame({
        "id": bus_ids,
        "name": pl.Series([bus_names.get(b) for b in bus_ids], dtype=pl.String),
        "vm_pu": v,
        "vm_ac_pu": ac.vm_pu if ac is not None else np.full(pu.n_bus, np.nan),
        "p_load_mw": pu.p_load * s,
        "q_load_mvar": pu.q_load * s,
        "is_source": pu.is_source,
        # the nominal voltage: the voltage profile plot groups the buses by level
        "vn_kv": np.asarray(pu.vn_kv, float),
        # the voltage band the model and the AC check hold (after --v-min/--v-max; a bus
        # held at its set-point: that set-point)
        "v_min_pu": np.where(held, held_v, pu.v_min),
        "v_max_pu": np.where(held, held_v, pu.v_max),
    })
    if {"x", "y"} <= set(net.buses.columns) and net.buses["x"].is_not_null().any():
        buses = buses.with_columns(net.buses["x"].cast(pl.Float64).alias("x"),
                                   net.buses["y"].cast(pl.Float64).alias("y"))
    from_ids = [bus_ids[i] for i in pu.f]
    to_ids = [bus_ids[i] for i in pu.t]
    # An open branch carries nothing in the model (its cone forces P = Q = 0 at y = 0): the
    # solver's residue there (p_from_mw -9.8e-13, loss_kw 1e-10: ut36_core #3) is written as
    # the exact 0 that the AC columns have.
    if has_topology:
        p, q, ell = (np.where(closed, x, 0.0) for x in (p, q, ell))
    p_end, q_end = _from_end_flows(pu, point, p, q)
    if has_topology:
        p_end, q_end = (np.where(closed, x, 0.0) for x in (p_end, q_end))
    branches = pl.DataFrame({
        "id": pu.branch_ids,
        "name": pl.Series([branch_names.get(b) for b in pu.branch_ids], dtype=pl.String),
        "from_bus": from_ids,
        "to_bus": to_ids,
        "closed": pl.Series("closed", closed if has_topology else [None] * pu.n_branch,
                            dtype=pl.Boolean),
        "switchable": pu.switchable,
        "p_from_mw": p_end * s,
        "q_from_mvar": q_end * s,
        "i_ka": _series_current(pu, p, q, v, ell) * i_base,
        "loss_kw": pu.r * ell * s * 1000.0,
        **_ac_branch_columns(ac, pu),
    })
    # The generators' dispatch that the point (and so the AC check) has: the optimiser's where
    # a generator has a range, its set-point where not; null without a topology.
    dispatched = has_topology and "pg" in point and "qg" in point
    generators = pl.DataFrame({
        "id": pu.gen_ids,
        "name": [gen_names.get(g) for g in pu.gen_ids],
        "bus": [bus_ids[int(b)] for b in pu.gen_bus],
        "p_mw": point["pg"] * s if dispatched else np.full(pu.n_gen, np.nan),
        "q_mvar": point["qg"] * s if dispatched else np.full(pu.n_gen, np.nan),
        # the limits as the model reads them (for the report's generators table)
        "p_min_mw": pu.gen_p_min * s, "p_max_mw": pu.gen_p_max * s,
        "q_min_mvar": pu.gen_q_min * s, "q_max_mvar": pu.gen_q_max * s,
    }, schema=GENERATOR_SCHEMA)
    initially = pu.initial_closed()
    switches = branches.filter(pl.col("switchable")).select(
        "id", "name", "from_bus", "to_bus", "closed"
    ).with_columns(
        pl.Series("initially_closed", initially[pu.switchable]),
    ).with_columns((pl.col("closed") != pl.col("initially_closed")).alias("changed"))
    operated = net.meta.get("operated_by") or {}
    # the pandapower switch elements that the user operates; null where none operates the
    # branch (a tie modelled as an out-of-service line, as in pn.case33bw, or a network that
    # is not a pandapower net): the column is always there (ut36_docs #1)
    switches = switches.with_columns(pl.Series(
        "operated_by", [operated.get(b) for b in switches["id"].to_list()], dtype=pl.String))
    # the same switches as pandapower indices (net.switch's index), null alike
    indices = net.meta.get("operated_by_switches") or {}
    switches = switches.with_columns(pl.Series(
        "pp_switches", [indices.get(b) for b in switches["id"].to_list()],
        dtype=pl.List(pl.Int64)))
    open_branches = open_branch_rows(net, pu, closed) if has_topology else []
    # Out-of-service branches are not in the model (nor in the tables): open whatever the
    # answer, listed so that a held-open tie is seen to stay open.
    out_of_service = [
        {"id": str(r["id"]), "from_bus": bus_out(str(r["from_bus"])),
         "to_bus": bus_out(str(r["to_bus"])),
         **({"name": branch_names[str(r["id"])]} if str(r["id"]) in branch_names else {}),
         **({"operated_by": operated[str(r["id"])]} if str(r["id"]) in operated else {})}
        for r in net.branches.filter(~pl.col("in_service").fill_null(True)).iter_rows(
            named=True)]
    # and the branches to an out-of-service bus, which the reader left out, with their state
    out_of_service += [
        {**r, **({"operated_by": operated[r["id"]]} if r["id"] in operated else {})}
        for r in net.meta.get("cut_off_branches") or ()]

    check = None
    t0 = time.perf_counter()
    if ac is not None:
        # The model's own power flow at the same dispatch as the AC check (the optimiser's
        # generator set-points, not the file's): a generator re-dispatched from 0.7 to
        # 0.12 MW changes the losses by a third, which is no modelling error (user test
        # ut_io #1).
        fidelity = model_fidelity(net, closed, pu=dispatched_model(fidelity_pu or pu, point),
                                  ac=ac) if (
            ac.converged and ac_net is None) else None
        # the bound is the model's with the net's own open ends: what the model's power flow
        # counts beyond AC is measured with those (the open end chosen in AC is no error of it)
        bound_fidelity = model_fidelity(net, closed, pu=dispatched_model(pu, point), ac=ac) if (
            fidelity is not None and fidelity_pu is not None) else None
        # The lower bound bounds the losses when the objective is the losses alone.
        bound = raw.lower_bound if (
            math.isfinite(raw.objective) and math.isfinite(losses_kw)
            and abs(raw.objective - losses_kw) <= 1e-6 * max(1.0, abs(losses_kw))) else math.nan
        check = _ac_check(pu, point, v, losses_kw, closed, ac, fidelity,
                          list(net.meta.get("warnings", [])),
                          compare=not violating, proven=raw.status is Status.INFEASIBLE
                          and raw.method not in HEURISTIC_METHODS,
                          heuristic=raw.method in HEURISTIC_METHODS,
                          base_fallback=bool(raw.extra.get("base_fallback")),
                          nominal_of_scenarios=raw.extra.get("headline_load") == "nominal",
                          bus_out=bus_out, lower_bound_kw=bound,
                          loading_limit_percent=(ac_net or net).loading_limit_percent,
                          cone_pu=model_pu, bound_fidelity=bound_fidelity)
    # the user's own operating point judged as the answer is (validation.base_case: the one
    # computation of every kind of result's base case)
    check_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    base = balanced_base_case(net, pu, base_ac, bus_out) if base_ac is not None else {}
    base_s += time.perf_counter() - t0
    timings = dict(raw.timings)
    if base_ac is not None:
        timings["base_case_s"] = timings.get("base_case_s", 0.0) + base_s
    if ac is not None:
        timings["ac_check_s"] = timings.get("ac_check_s", 0.0) + check_s
    diagnosis = [_diagnosis_entry(pu, d, bus_out) for d in raw.diagnosis]
    has_point = raw.y is not None and "v" in point
    # the voltage range over the user's buses, not the reader's internal ones (a trafo3w's
    # star, an xward's auxiliary bus: user test ut_ppgrid #4)
    internal = net.internal_bus_ids()
    user = np.array([b not in internal for b in pu.bus_ids], dtype=bool)
    v_user = v[user] if user.any() else v
    return Result(
        case=net.name,
        method=raw.method,
        status=raw.status,
        objective=raw.objective,
        losses_kw=math.nan if violating else losses_kw,
        lower_bound=raw.lower_bound,
        gap=raw.gap,
        iterations=raw.iterations,
        solve_time_s=raw.solve_time_s,
        solver=raw.solver,
        buses=buses,
        branches=branches,
        switches=switches,
        generators=generators,
        open_branches=open_branches,
        out_of_service_branches=out_of_service,
        min_voltage_pu=float(np.nanmin(v_user)) if has_point else math.nan,
        max_voltage_pu=float(np.nanmax(v_user)) if has_point else math.nan,
        ac_check=check,
        base=base,
        log=raw.log,
        timings=timings,
        diagnosis=diagnosis,
        # an AC check that could not run (pandapower raised) or did not converge leaves the
        # limits unverified (user test ut36_api #2: "optimal", within_limits True beside an
        # AC power flow of NaN); an AC operating point beyond a limit breaks it, whatever the
        # model says
        within_limits=not violating and not (ac is not None and not ac.converged)
        and not (check is not None and check.within_limits is False),
        has_topology=has_topology,
        extra=_with_pv_note({k: v for k, v in raw.extra.items() if k != "objective_kind"},
                            pu, point if has_point else {}, bus_out),
        network=net,
    )


def _with_pv_note(extra: dict[str, Any], pu: PerUnitNetwork, point: dict[str, np.ndarray],
                  bus_out: Callable[[str], Any]) -> dict[str, Any]:
    """``extra`` with a note naming the generators whose point is off pandapower's PV/PQ
    characteristic (:func:`~feederopt.formulations.distflow.pv_off_characteristic`): the
    model's losses and voltages are then not the grid's, the AC check's are."""
    off = pv_off_characteristic(pu, point)
    if not off:
        return extra
    s = pu.s_base_mva
    said = []
    for b, v, vs, q, lo, hi in off[:5]:
        gens = [g for g, gb, vg in zip(pu.gen_ids, pu.gen_bus, pu.gen_v_set, strict=True)
                if gb == b and math.isfinite(vg)]
        said.append(f"{'+'.join(gens)} at bus {bus_out(pu.bus_ids[b])}: {v:.4f} p.u. for its "
                    f"set-point {vs:.4f} with q {q * s:.4g} Mvar inside {lo * s:.4g}.."
                    f"{hi * s:.4g}")
    note = (f"{len(off)} voltage-controlled generator(s) with enforced q limits sit off their "
            "set-point with q inside their limits in the model (" + "; ".join(said)
            + (" ..." if len(off) > 5 else "") + "): pandapower's power flow "
            "(enforce_q_lims) holds the set-point while q is inside the limits and leaves it "
            "only at a limit; the model holds the convex hull of that characteristic, a "
            "relaxation, so its losses and voltages are not the grid's (the AC check's are) and "
            "it may rank topologies on them")
    return {**extra, "notes": [*extra.get("notes", []), note]}


#: The unit of each limit in a diagnosis.
LIMIT_UNITS = {"v_min": "p.u.", "v_max": "p.u.", "i_max": "kA", "s_max": "MVA",
               "p_balance": "MW", "q_balance": "MVAr"}


def _diagnosis_entry(pu: PerUnitNetwork, d: Any, bus_out: Callable[[str], Any]) -> dict[str, Any]:
    """One violated limit of the least-violating topology, in the user's ids and SI units:
    the limit, its value, the amount beyond it and, for a rating, the loading in %."""
    entry: dict[str, Any] = {
        "component": d.component,
        "id": bus_out(pu.bus_ids[d.index]) if d.component == "buses" else pu.branch_ids[d.index],
        "limit": d.limit,
        "amount": d.amount,
        "unit": LIMIT_UNITS[d.limit],
    }
    if d.limit in ("v_min", "v_max"):
        entry["rating"] = float(pu.v_min[d.index] if d.limit == "v_min" else pu.v_max[d.index])
        # the point's own voltage (a limit beyond which it lies by ``amount``)
        entry["value"] = float(d.value) if math.isfinite(d.value) else (
            entry["rating"] - d.amount if d.limit == "v_min" else entry["rating"] + d.amount)
    elif d.limit in ("i_max", "s_max"):
        if d.limit == "i_max":  # in kA at a trafo3w winding's own voltage, not its star's
            i_base = float(pu.current_base_ka()[d.index])
            rating, value = pu.i_max[d.index] * i_base, d.value * i_base
            entry["amount"] = d.amount * i_base
        else:
            rating, value = pu.s_max[d.index] * pu.s_base_mva, d.value
        entry.update(rating=float(rating), value=float(value),
                     loading_percent=float(100.0 * value / rating) if rating > 0 else math.nan)
    return entry


def _limits_warning(violations: list[dict[str, Any]]) -> str:
    """One line on the AC limit violations: how many of each kind and the worst of each."""
    parts = []
    for limit, what in (("v_max", "bus(es) above v_max"), ("v_min", "bus(es) below v_min"),
                        ("i_max", "branch(es) over their current rating"),
                        ("s_max", "branch(es) over their apparent-power rating")):
        kind = [d for d in violations if d["limit"] == limit]
        if kind:
            w = kind[0]
            one = "bus" if w["component"] == "buses" else "branch"
            parts.append(f"{len(kind)} {what} (worst {one} {w['id']}: {w['value']:.4f} "
                         f"{w['unit']} against {w['rating']:.4f} {w['unit']})")
    return ("the AC operating point breaks the limits: " + "; ".join(parts)
            + " (ac_check.limit_violations lists them)")


def cone_excess(pu: PerUnitNetwork, point: dict[str, np.ndarray],
                closed: np.ndarray | None = None) -> np.ndarray | None:
    """Per branch, how far an SOCP point's ``l`` lies above the exact branch-flow equation,
    ``(l - (P^2 + Q^2) / v'_f)^+`` with ``v'_f = v_f tap^2`` the sending-end voltage that the
    series impedance sees (0 on branches not ``closed``; None: every branch closed, as in a
    slave's point, where an open branch carries no flow). None when the point has no ``w``,
    ``l`` (a model without the branch-flow cone). :func:`relaxation_gap` weighs it by ``r``,
    :func:`reactive_relaxation_gap` by ``|x|``."""
    if "w" not in point or "l" not in point:
        return None
    closed = np.ones(pu.n_branch, dtype=bool) if closed is None else np.asarray(closed, bool)
    ell = point["l"]
    v_sent = point["v"][pu.f] * pu.tap2 if "v" in point else point["w"]
    s2 = point["P"] ** 2 + point["Q"] ** 2
    exact_l = np.where(closed & (v_sent > 1e-9), s2 / np.maximum(v_sent, 1e-9), 0.0)
    return np.where(closed, np.clip(ell - exact_l, 0, None), 0.0)


def _excess_share(weight: np.ndarray, excess: np.ndarray, ell: np.ndarray) -> float:
    """``sum w excess / sum w l``; an excess below the conic solver's residue (1e-9 p.u.) is
    none: a network without load has l ~ 1e-11 everywhere, whose "share" read 100 %."""
    added = float(np.sum(weight * excess))
    total = float(np.sum(weight * ell))
    return added / total if total > 0 and added > 1e-9 else 0.0


def relaxation_gap(pu: PerUnitNetwork, point: dict[str, np.ndarray],
                   closed: np.ndarray | None = None) -> float:
    """The share of an SOCP point's losses that the relaxation adds beyond the exact
    branch-flow equations ``l = (P^2 + Q^2) / v`` (Farivar & Low, IEEE TPWRS 28(3), 2013: the
    relaxation is exact when the cone is tight):

        sum_ij r_ij (l_ij - (P_ij^2 + Q_ij^2) / v'_i)^+ / sum_ij r_ij l_ij

    over the closed branches (``closed``; None: every branch, as in a slave's point, where an
    open branch carries no flow), with ``v'_i = v_i tap_ij^2`` the sending-end voltage that the
    series impedance sees. Not the branch's copy ``w``: the relaxation may hold ``w`` below
    ``v_f / tap^2`` (``w <= v_f / tap^2`` is the only link), and there the cone is tight on
    ``w`` while ``l`` is inflated against the real voltage (oltc.json of the DOPF user test: a
    110/20 kV trafo at ratio 0.925 with ``w`` 5 % below ``v_f / tap^2``; the share read 0.29 %
    where the SOCP's losses exceed pandapower's by 1.42 %). Above :data:`EXACT_CONE_TOL` the
    relaxation is not exact (:func:`relaxation_exact`); NaN when the point has no ``w``, ``l``
    (a model without the branch-flow cone)."""
    excess = cone_excess(pu, point, closed)
    if excess is None:
        return math.nan
    on = np.ones(pu.n_branch, dtype=bool) if closed is None else np.asarray(closed, bool)
    return _excess_share(pu.r, excess, np.where(on, point["l"], 0.0))


def reactive_relaxation_gap(pu: PerUnitNetwork, point: dict[str, np.ndarray],
                            closed: np.ndarray | None = None) -> float:
    """The share of the reactive power that an SOCP point's series reactances consume,
    ``sum |x| l``, that the relaxation adds beyond the exact branch-flow equations
    (:func:`cone_excess`):

        sum_ij |x_ij| (l_ij - (P_ij^2 + Q_ij^2) / v'_i)^+ / sum_ij |x_ij| l_ij

    :func:`relaxation_gap` weighs the excess by ``r`` and does not see it on a branch without
    resistance, where it costs no losses; but there ``x l`` is a reactive sink that no power
    flow has, and the optimiser uses it: pandapower's ``xward`` with ``r_ohm = 0`` (a voltage
    source behind a pure reactance; example_multivoltage) at a fixed topology of that grid had
    ``l = 123696`` p.u. on the reactance against ``(P^2 + Q^2) / v = 18``, 124.6 p.u. of
    reactive power consumed there, the SOCP's losses 9535.7 kW against pandapower's 9852.0 kW
    and its voltages 0.046 p.u. lower, with a relaxation gap of 0. Above
    :data:`EXACT_CONE_TOL` the relaxation is not exact; NaN without ``w``, ``l``."""
    excess = cone_excess(pu, point, closed)
    if excess is None:
        return math.nan
    on = np.ones(pu.n_branch, dtype=bool) if closed is None else np.asarray(closed, bool)
    return _excess_share(np.abs(pu.x), excess, np.where(on, point["l"], 0.0))


def relaxation_exact(gap: float, reactive_gap: float = 0.0) -> bool | None:
    """Whether a relaxation gap (:func:`relaxation_gap`) and its reactive counterpart
    (:func:`reactive_relaxation_gap`) leave the relaxation exact: both at most
    :data:`EXACT_CONE_TOL`; None when it is not known (NaN)."""
    if not math.isfinite(gap):
        return None
    return gap <= EXACT_CONE_TOL and not reactive_gap > EXACT_CONE_TOL


def reactive_sink_text(pu: PerUnitNetwork, point: dict[str, np.ndarray], closed: np.ndarray,
                       reactive_gap: float) -> str:
    """The AC check's words for a relaxation that is not exact in reactive power only
    (:func:`reactive_relaxation_gap` above :data:`EXACT_CONE_TOL`, :func:`relaxation_gap`
    not): the share, and the branch whose reactance consumes the most of it."""
    excess = cone_excess(pu, point, closed)
    q = np.abs(pu.x) * (excess if excess is not None else 0.0)
    k = int(np.argmax(q))
    return (f"the SOCP relaxation is not exact: {reactive_gap:.2%} of the reactive power that "
            "its series reactances consume (x l) lies beyond the branch-flow equations, "
            f"{q[k]:.4g} p.u. of it on {pu.branch_ids[k]} (r = {pu.r[k]:.3g} p.u.: l > "
            "(P^2+Q^2)/v costs little or no loss there, a reactive sink that no power flow has)")


#: The AC check's words for a least-violating point after a proof of infeasibility (the API
#: names the holds instead when the proof rests on them).
GRID_INFEASIBLE = "the grid is infeasible"

#: The AC check's words for the nominal load's point of a scenario or robust run where the
#: chosen topology needs slack at the nominal load (which is not a scenario).
NOMINAL_NEEDS_SLACK = (
    "the chosen topology needs slack at the nominal load (the network's own loads, not a "
    "scenario; the verdict is the scenarios')")

#: What "least-violating" measures (user test ut42_journey #2: the topology shown broke the
#: limits by more in AC than the model said, and by more than another radial topology).
LEAST_IN_MODEL = (
    "least is measured in the model (the total slack of the limits in the SOCP relaxation, "
    "total_violation_pu), not in the AC power flow: this AC check gives the topology's true "
    "figures, which may break the limits by more than the model's point, and another radial "
    "topology may break them less in AC")


def _ac_check(pu: PerUnitNetwork, point: dict[str, np.ndarray], v: np.ndarray, losses_kw: float,
              closed: np.ndarray, ac: Any, fidelity: ModelFidelity | None = None,
              notes: list[str] | None = None, compare: bool = True,
              proven: bool = True, heuristic: bool = False,
              base_fallback: bool = False,
              nominal_of_scenarios: bool = False,
              bus_out: Callable[[str], Any] | None = None,
              lower_bound_kw: float = math.nan,
              loading_limit_percent: float | None = 100.0,
              cone_pu: PerUnitNetwork | None = None,
              bound_fidelity: ModelFidelity | None = None) -> AcCheck:
    """Compare the SOCP point with the AC power flow; flag an inexact relaxation, and a model
    that does not represent every element exactly (``fidelity``: the model's own power flow
    against the AC one on the same topology; ``notes``: what the reader could not model).
    ``compare=False`` (the least-violating point of an infeasible grid, ``proven``, or of a run
    that found no topology within the limits, which minimises slack, not losses) skips the
    comparison of the SOCP point with the AC power flow. ``nominal_of_scenarios``: the point is
    a scenario or robust run's at the nominal load, which is not a scenario: where it needs
    slack, it is the nominal load's least-violating point at the chosen topology (ut48_scen
    #1: "no topology within the limits was found" beside a topology within the limits in
    every scenario).

    The AC operating point is held to the model's limits
    (:func:`feederopt.validation.ac_limits.ac_limit_violations`):
    ``within_limits`` is False, with a warning, when it breaks one beyond the tolerance; at the
    least-violating point (``compare=False``) the limits it breaks within the tolerance are
    ``broken_within_tolerance`` (the model's verdict and the AC check then agree that the
    limits are broken, by an amount the check tolerates). ``lower_bound_kw`` (a
    proven lower bound on the losses of every radial operating point within the limits; NaN
    when the objective is not the losses alone) above the AC losses gets a note: the SOCP
    relaxation is not exact at this point. The largest loading is in % of the rating, beside
    the limit ``loading_limit_percent`` that the ratings were held to
    (:attr:`~feederopt.network.container.Network.loading_limit_percent`).

    ``cone_pu`` is the model the point belongs to (``to_result``'s ``model_pu``: a DOPF's
    transformer OLTCs at their chosen ratios, not the data's; default ``pu``): the relaxation
    gap's exact current ``(P^2 + Q^2) / (v_f / n^2)`` (:func:`cone_excess`) is taken at the
    ratio ``n`` of the point. At the data's ratio, a tap moved from tap_pos -6 to -4 read
    "relaxation not exact" (0.34 % of the losses) where the model's and pandapower's losses
    agreed to 1e-5 kW (user test ut46_dopf #1)."""
    warnings: list[str] = []
    model_warning = fidelity.warning(notes) if fidelity is not None else None
    if model_warning and not (fidelity is not None and fidelity.material):
        # a material difference has its headline (model_fidelity["warning"]) with the same
        # numbers: not said twice (user test ut43_ppgrid #6)
        warnings.append(model_warning)
    cpu = cone_pu if cone_pu is not None else pu
    cone_gap = relaxation_gap(cpu, point, closed)
    q_gap = reactive_relaxation_gap(cpu, point, closed)
    if not ac.converged:
        why = ("the AC check failed: pandapower's power flow could not be run on this net, so "
               "the topology's limits are not verified" if ac.failed else
               "the AC power flow did not converge")
        return AcCheck(False, math.nan, math.nan, math.nan, math.nan, cone_gap, math.nan, False,
                       (why,), ac.message, loading_limit_percent=loading_limit_percent)
    dv = float(np.nanmax(np.abs(v - ac.vm_pu))) if np.any(np.isfinite(v)) else math.nan
    diff_pct = -losses_diff_pct(losses_kw, ac.losses_kw)  # (AC - SOCP) / AC
    if not compare:
        # a heuristic's "infeasible" proves nothing (user test ut_feas #3: LinDistFlow said
        # "the grid is infeasible" where brute force finds feasible topologies)
        why = (NOMINAL_NEEDS_SLACK if nominal_of_scenarios else GRID_INFEASIBLE if proven else
               "the heuristic's topology breaks the limits (not a proof that none meets "
               "them; --method benders decides)" if heuristic and not base_fallback else
               "no topology within the limits was found (infeasibility not proven)")
        if base_fallback:
            # the grid's own topology, taken because time was up: chosen for nothing, so not
            # "the least-violating one" (user test ut50_core #1)
            warnings.append(f"{why}: the SOCP point shown is that of the {BASE_FALLBACK_STATE}, "
                            f"{BASE_FALLBACK_WHAT}; it is not a loss-minimising operating "
                            "point (the model needs slack at it)")
        else:
            warnings.append(f"{why}: the SOCP point shown is the least-violating "
                            "one, not a loss-minimising operating point; " + LEAST_IN_MODEL)
    elif relaxation_exact(cone_gap) is False:
        warnings.append(
            f"the SOCP relaxation is not exact: it adds {cone_gap:.2%} to the losses"
        )
    elif relaxation_exact(cone_gap, q_gap) is False:
        warnings.append(reactive_sink_text(cpu, point, closed, q_gap))
    model_error: str | None = None
    if compare and dv > EXACT_VOLTAGE_TOL:
        if model_warning and relaxation_exact(cone_gap, q_gap):
            # the cone is tight: the difference is the model's (ZIP loads taken as constant
            # power, say), which model_warning states; not an inexact relaxation (user test
            # ut_balanced #4)
            model_error = (f"SOCP and AC voltages differ by up to {dv:.4f} p.u.: the model "
                           "differs from the AC power flow (above), the relaxation is exact "
                           "(the AC power flow is the true one)")
            warnings.append(model_error)
        else:
            warnings.append(f"SOCP and AC voltages differ by up to {dv:.4f} p.u. (the AC power "
                            "flow is the true one)")
    # The relaxation's exactness: the SOCP point against the AC power flow. An element the
    # model does not represent exactly (``model_warning``, e.g. an xward's internal losses) is
    # its own warning, not an inexact relaxation (user test ut_fresh #5).
    exact = not [w for w in warnings if w is not model_warning and w is not model_error]
    violations = ac_limit_violations(pu, ac, bus_out)
    if violations:
        warnings.append(_limits_warning(violations))
    dead = ac_unsupplied(pu, closed, ac.vm_pu)
    if dead:
        # a bus the answer connects to a source that the AC power flow leaves without a
        # voltage is no operating point within the limits (user test ut48: a closed tie left
        # out of service in AC read "within limits (AC): yes" with bus 6's 1.2 MW dead)
        out_id: Callable[[str], Any] = bus_out or (lambda b: b)
        warnings.append(
            f"the AC power flow leaves {len(dead)} bus(es) without supply that the answer "
            f"connects to a source: {', '.join(str(out_id(b)) for b in dead[:20])} (NaN "
            "voltage in pandapower's power flow): the limits are not met")
    # The model found that this topology breaks the limits (its least-violating point): the
    # AC power flow may break them by less than the tolerance, which "within limits: True"
    # alone contradicted (ut36_core #1); those are named.
    tolerated = ac_limit_violations(pu, ac, bus_out, tolerance=STRICT) if (
        not compare and not violations) else []
    # The bound is on the model's losses: compare it with the AC losses plus what the model
    # counts beyond them on this topology (its own power flow's losses minus the AC ones).
    # ``bound_fidelity``: the model's power flow with the open ends the bound is for, where
    # the AC check opens a two-ended branch at its other end (validation.open_ends)
    by = bound_fidelity if bound_fidelity is not None else fidelity
    offset = (by.model_losses_kw - by.ac_losses_kw if by is not None
              and by.measured and math.isfinite(by.model_losses_kw)
              and math.isfinite(by.ac_losses_kw) else 0.0)
    if math.isfinite(lower_bound_kw) and ac.losses_kw + offset < lower_bound_kw - 1e-6 * max(
            1.0, abs(lower_bound_kw)):
        # Any radial AC operating point within the limits has an SOCP point of the same
        # losses (the relaxation contains it), so its losses are at least the bound.
        warnings.append(
            f"the AC losses ({ac.losses_kw:.3f} kW) are below the lower bound "
            f"({lower_bound_kw:.3f} kW), which holds for operating points within the limits: "
            "the SOCP relaxation is not exact at this point (its solution has l > (P^2+Q^2)/v, "
            "losses no power flow has, which it may use to keep voltages within the limits, "
            "e.g. under reverse power flow), and the AC operating point of this topology "
            + ("breaks the limits" if violations else
               "is not one the model represents exactly"))
    loading, element = max_loading(pu.branch_ids, closed, ac.loading_percent)
    measured = None
    if fidelity is not None and fidelity.measured:
        measured = {**fidelity.to_dict(), "notes": list(notes or []),
                    "warning": fidelity.headline(notes)}
    return AcCheck(True, ac.losses_kw, ac.min_voltage_pu, ac.max_voltage_pu, dv, cone_gap,
                   diff_pct, exact, tuple(warnings), ac.message,
                   within_limits=not violations and not dead,
                   limit_violations=tuple(violations),
                   max_loading_percent=loading, max_loading_element=element,
                   loading_limit_percent=loading_limit_percent, model_fidelity=measured,
                   broken_within_tolerance=tuple(tolerated), reactive_relaxation_gap=q_gap)


def max_loading(branch_ids: list[str], closed: np.ndarray,
                loading_percent: np.ndarray) -> tuple[float, str | None]:
    """The largest AC loading [% of the rating] of a closed, rated branch and its id
    (``loading_percent``: :attr:`feederopt.validation.ac.AcResult.loading_percent`, NaN where a
    branch has no rating); ``(nan, None)`` when there is none."""
    lp = np.where(np.asarray(closed, bool), np.asarray(loading_percent, float), np.nan)
    if not np.any(np.isfinite(lp)):
        return math.nan, None
    k = int(np.nanargmax(lp))
    return float(lp[k]), str(branch_ids[k])


def slave_summary(pu: PerUnitNetwork, net: Network, r: SlaveResult) -> SlaveOutcome:
    """One scenario's or extreme point's slave answer in the user's ids, with the share of its
    losses that the relaxation adds (:func:`relaxation_gap`: the nominal AC check's measure)."""
    bus_ids = pu.bus_ids
    gap = relaxation_gap(pu, r.point)
    q_gap = reactive_relaxation_gap(pu, r.point)
    return SlaveOutcome(
        r.objective, r.losses_kw, r.violation, bool(r.feasible), r.min_voltage_pu,
        r.max_voltage_pu,
        [{"component": v.component,
          "id": net.bus_id_out(bus_ids[v.index]) if v.component == "buses"
          else pu.branch_ids[v.index],
          "limit": v.limit, "amount": v.amount}
         for v in r.violations[:10]],
        relaxation_gap=gap, relaxation_exact=relaxation_exact(gap, q_gap),
    )
