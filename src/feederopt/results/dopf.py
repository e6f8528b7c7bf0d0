"""The DOPF's answer in the user's ids and SI units: the chosen setting of every device
(``devices`` in the JSON), the cost terms (``costs``), and the network with those settings
written into it, whose AC power flow checks the solution."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from feederopt.formulations.devices import cap_options, tap_options
from feederopt.network.container import Network
from feederopt.network.devices import pp_tap_pos
from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.dopf import DopfProblem


@dataclass(frozen=True)
class DeviceSettings:
    """Chosen settings by user id: capacitor steps, source set-points [p.u.], generator
    status and dispatch [MW, MVAr], load reductions [MW], transformer tap ratios."""

    cap_steps: dict[str, int] = field(default_factory=dict)
    source_v_set: dict[str, float] = field(default_factory=dict)
    gen_dispatch: dict[str, tuple[bool, float, float]] = field(default_factory=dict)
    load_reduction: dict[str, float] = field(default_factory=dict)
    branch_tap: dict[str, float] = field(default_factory=dict)  # transformer OLTC ratios


@dataclass
class DopfSummary:
    """``devices`` (one row per controllable device) and ``costs`` of a DOPF solve."""

    devices: list[dict[str, Any]]
    costs: dict[str, float]
    controls: list[str]
    settings: DeviceSettings
    #: The AC-OPF polish of the generators' set-points (``ac_opf``), when it ran.
    ac_opf: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        # JSON has no NaN (the cost terms of a least-violating setting): null.
        costs = {k: v if np.isfinite(v) else None for k, v in self.costs.items()}
        out = {"devices": self.devices, "costs": costs, "controls": self.controls}
        if self.ac_opf is not None:
            out["ac_opf"] = self.ac_opf
        return out

    def table(self) -> pl.DataFrame:
        """The device table of the report (id, kind, bus, setting)."""
        rows = [{"id": d["id"], "kind": d["kind"], "bus": str(d["bus"]),
                 "setting": d["setting"]} for d in self.devices]
        return pl.DataFrame(rows, schema={"id": pl.String, "kind": pl.String, "bus": pl.String,
                                          "setting": pl.String})


def dopf_summary(net: Network, problem: DopfProblem, point: dict[str, np.ndarray],
                 controls: list[str]) -> DopfSummary:
    """Decode the discrete and continuous device values of a solution ``point`` (per unit,
    with the groups ``cap``, ``tap``, ``on``, ``pg``, ``qg``, ``flex``)."""
    pu, dev = problem.pu, problem.dev
    s = pu.s_base_mva
    bus_out = net.bus_id_out
    v = np.sqrt(np.clip(point["v"], 0, None))
    rows: list[dict[str, Any]] = []
    settings = DeviceSettings()
    if dev.n_cap and "cap" in point:
        _bank, step = cap_options(dev)
        chosen = step[point["cap"] > 0.5]
        for c, sid in enumerate(dev.cap_ids):
            k = int(chosen[c])
            bus = int(dev.cap_bus[c])
            q = k * dev.cap_q[c] * s
            settings.cap_steps[sid] = k
            rows.append({"id": sid, "kind": bank_kind(float(dev.cap_q[c])),
                         "bus": bus_out(pu.bus_ids[bus]),
                         "step": k, "max_steps": int(dev.cap_max_steps[c]),
                         "q_mvar_at_1pu": q, "q_mvar": q * v[bus] ** 2,
                         "setting": f"step {k}/{int(dev.cap_max_steps[c])}: "
                                    f"{bank_kvar(q * 1000)}"})
    if dev.n_tap and "tap" in point:
        _which, ratio = tap_options(dev)
        chosen_r = ratio[point["tap"] > 0.5]
        for k, bus in enumerate(dev.tap_bus):
            n = float(chosen_r[k])
            index = int(np.argmin(np.abs(dev.tap_ratios[k] - n)))
            base = dev.tap_base_position(k)
            position = int(dev.tap_moves(k)[index])
            bid = pu.bus_ids[int(bus)]
            if len(dev.tap_branch) and dev.tap_branch[k] >= 0:  # a transformer's OLTC
                brid = pu.branch_ids[int(dev.tap_branch[k])]
                settings.branch_tap[brid] = n
                row = {"id": f"oltc:{brid}", "kind": "oltc", "bus": bus_out(bid),
                       "branch": brid, "ratio_pu": n, "position": position}
                trafo = _pp_trafo(net, brid)
                if trafo is not None:  # pandapower's own numbering of the positions
                    now, was = pp_tap_pos(trafo, index), pp_tap_pos(trafo, base)
                    row.update(tap_pos=now, data_tap_pos=was,
                               setting=f"ratio {n:.4f}: tap_pos {now:d} (was {was:d}; "
                                       f"{moved(now - was)})")
                else:
                    row["setting"] = (f"ratio {n:.4f}: position {index + 1} of "
                                      f"{len(dev.tap_ratios[k])} (was {base + 1}; "
                                      f"{moved(position)})")
                rows.append(row)
                continue
            v_set = float(pu.v_set[bus]) * n
            settings.source_v_set[bid] = v_set
            rows.append({"id": f"oltc:{bid}", "kind": "oltc", "bus": bus_out(bid),
                         "ratio_pu": n, "position": position, "v_set_pu": v_set,
                         "setting": f"ratio {n:.4f} ({moved(position)} from ratio 1), "
                                    f"V = {v_set:.4f} p.u."})
    if len(dev.gen_commit) and "on" in point:
        for j, g in enumerate(dev.gen_commit):
            on = bool(point["on"][j] > 0.5)
            p = float(point["pg"][g]) * s if on else 0.0
            q = float(point["qg"][g]) * s if on else 0.0
            gid = pu.gen_ids[int(g)]
            settings.gen_dispatch[gid] = (on, p, q)
            rows.append({"id": gid, "kind": "generator",
                         "bus": bus_out(pu.bus_ids[int(pu.gen_bus[g])]), "on": on,
                         "p_mw": p, "q_mvar": q,
                         "setting": f"on: {p:.3f} MW, {q:.3f} MVAr" if on else "off"})
    if len(dev.gen_must_run) and "pg" in point:
        for g in dev.gen_must_run:  # committed: always on, dispatched within its limits
            p, q = float(point["pg"][g]) * s, float(point["qg"][g]) * s
            gid = pu.gen_ids[int(g)]
            settings.gen_dispatch[gid] = (True, p, q)
            rows.append({"id": gid, "kind": "generator",
                         "bus": bus_out(pu.bus_ids[int(pu.gen_bus[g])]), "on": True,
                         "must_run": True, "p_mw": p, "q_mvar": q,
                         "setting": f"on (must run): {p:.3f} MW, {q:.3f} MVAr"})
    if len(dev.flex_ids) and "flex" in point:
        for j, lid in enumerate(dev.flex_ids):
            p = max(float(point["flex"][j]), 0.0) * s
            settings.load_reduction[lid] = p
            rows.append({"id": lid, "kind": "flexible_load",
                         "bus": bus_out(pu.bus_ids[int(dev.flex_bus[j])]),
                         "reduction_mw": p, "reduction_mvar": p * float(dev.flex_q_per_p[j]),
                         "max_reduction_mw": float(dev.flex_p[j]) * s,
                         # a reduction that rounds to 0 is no "reduced by 0.0 kW"
                         "setting": f"reduced by {p * 1000:.1f} kW" if round(p * 1000, 1) > 0
                         else "not reduced"})
    setting: dict[str, np.ndarray] = {g: point[g] for g in ("y", "cap", "tap", "on")
                                      if g in point}
    return DopfSummary(rows, problem.costs(point, setting), controls, settings)


def held_devices(net: Network, controls: frozenset[str]) -> list[dict[str, Any]]:
    """The devices of ``net`` whose kind ``--controls`` leaves out (``controls`` the kinds the
    optimiser set), as rows of ``devices`` with ``held`` True: each stays at the data's
    setting (a committable generator at its set-point ``p_mw``, ``q_mvar``: off when both are
    0; a bank at its ``step``; an OLTC at its position; a flexible load unreduced), so that
    the table and the JSON show what the solve did not move."""
    from feederopt.network.devices import device_list

    rows: list[dict[str, Any]] = []
    for d in device_list(net):
        if d["control"] in controls:
            continue
        row: dict[str, Any] = {"id": d["id"], "kind": d["kind"], "bus": d["bus"],
                               "held": True}
        if d["kind"] == "generator":
            p, q = float(d["p_mw"]), float(d["q_mvar"])  # type: ignore[arg-type]
            on = p != 0 or q != 0
            row.update(on=on, p_mw=p, q_mvar=q)
            text = f"{p:.3f} MW, {q:.3f} MVAr" if on else "off"
        elif d["kind"] in ("capacitor", "reactor"):
            row.update(step=d["step"], max_steps=d["max_steps"])
            text = f"step {d['step']}/{d['max_steps']}"
        elif d["kind"] == "oltc":
            row.update(position=0, **{k: d[k] for k in ("tap_pos",) if k in d})
            text = str(d["base"])
        else:
            row.update(reduction_mw=0.0)
            text = "not reduced"
        row["setting"] = f"held: {text} (not in --controls)"
        rows.append(row)
    return rows


def bank_kind(q_per_step: float) -> str:
    """``capacitor`` for a bank that injects reactive power (``q_mvar_per_step`` >= 0),
    ``reactor`` for one that absorbs it (pandapower's shunt with a positive ``q_mvar``)."""
    return "reactor" if q_per_step < 0 else "capacitor"


def bank_kvar(q_kvar: float) -> str:
    """A bank's reactive power at 1 p.u. for a person: ``900 kvar`` injected, ``absorbs 500
    kvar`` for a reactor, ``0 kvar`` at step 0 (never ``-0 kvar``)."""
    if round(q_kvar) == 0:
        return "0 kvar"
    return f"{q_kvar:.0f} kvar" if q_kvar > 0 else f"absorbs {-q_kvar:.0f} kvar"


def moved(position: int) -> str:
    """An OLTC's move for a person: ``5 positions down``, ``1 position up``, ``unchanged``
    (up: a higher position: a higher ratio, or with pandapower's numbering a higher tap_pos)."""
    if position == 0:
        return "unchanged"
    n = abs(position)
    return f"{n} position{'' if n == 1 else 's'} {'up' if position > 0 else 'down'}"


def _pp_trafo(net: Network, branch_id: str) -> Any | None:
    """pandapower's trafo row behind ``branch_id`` when the network was read from a pandapower
    net with a finite ``tap_min``/``tap_max`` (the DOPF's positions of its OLTC are then
    pandapower's ``tap_pos`` numbering, :func:`~feederopt.network.devices.pp_tap_pos`), else
    None."""
    origin = net.origin
    br = net.branches
    if origin is None or "pp_element" not in br.columns or not hasattr(origin, "trafo"):
        return None
    row = br.filter(pl.col("id") == branch_id)
    if not row.height or row["pp_element"][0] != "trafo":
        return None
    try:
        trafo = origin.trafo.loc[int(row["pp_index"][0])]
        ends = float(trafo["tap_min"]), float(trafo["tap_max"])
    except (KeyError, ValueError, TypeError):
        return None
    return trafo if all(np.isfinite(ends)) else None


def with_branch_taps(pu: PerUnitNetwork, settings: DeviceSettings) -> PerUnitNetwork:
    """``pu`` with the chosen ratios of the transformer OLTCs: the model whose loss terms
    (:func:`~feederopt.formulations.distflow.losses_of`; the from-end conductance acts on
    ``v_f / n^2``) belong to the solution's point. ``pu`` holds the data's ratios."""
    if not settings.branch_tap:
        return pu
    tap = pu.tap.copy() if pu.tap.size else np.ones(pu.n_branch)
    rated = pu.tap_rated.copy() if pu.tap_rated.size else tap.copy()
    i_rating = pu.i_rating.copy() if pu.i_rating.size else pu.i_max.copy()
    where = {b: i for i, b in enumerate(pu.branch_ids)}
    for bid, ratio in settings.branch_tap.items():
        tap[where[bid]] = ratio
    # The series-current limit follows the ratio (i_rating min(1, n / n_rated)).
    return replace(pu, tap=tap, tap_rated=rated, i_rating=i_rating,
                   i_max=i_rating * np.minimum(1.0, tap / rated))


def with_settings(net: Network, settings: DeviceSettings) -> Network:
    """``net`` with the chosen settings written into its tables (for the AC check): bank
    steps, source set-points, generator dispatch (an off generator produces nothing), reduced
    loads."""
    sh = net.shunts
    if settings.cap_steps:
        sh = sh.with_columns(pl.col("id").replace_strict(
            settings.cap_steps, default=pl.col("step"), return_dtype=pl.Int64).alias("step"))
    branches = net.branches
    if settings.branch_tap:
        # The rated ratio stays where it was (a null tap_rated_ratio means the data's
        # tap_ratio, not the moved one): the AC check refers the hv winding's current to its
        # rating by it, as pandapower's loading does with the rated vn_hv_kv (user test
        # ut33_dopf #1: tap_pos -4 read 97.61 % where pandapower gives 103.84 %).
        rated = (pl.col("tap_rated_ratio").cast(pl.Float64) if "tap_rated_ratio" in
                 branches.columns else pl.lit(None, dtype=pl.Float64))
        moved = pl.col("id").is_in(list(settings.branch_tap))
        branches = branches.with_columns(
            pl.when(moved & rated.is_null()).then(pl.col("tap_ratio").cast(pl.Float64))
            .otherwise(rated).alias("tap_rated_ratio"),
            pl.col("id").replace_strict(settings.branch_tap, default=pl.col("tap_ratio"),
                                        return_dtype=pl.Float64).alias("tap_ratio"))
    buses = net.buses
    if settings.source_v_set:
        buses = buses.with_columns(pl.col("id").replace_strict(
            settings.source_v_set, default=pl.col("v_set_pu"),
            return_dtype=pl.Float64).alias("v_set_pu"))
    gens = net.generators
    if settings.gen_dispatch:
        p = {k: v[1] for k, v in settings.gen_dispatch.items()}
        q = {k: v[2] for k, v in settings.gen_dispatch.items()}
        gens = gens.with_columns(
            pl.col("id").replace_strict(p, default=pl.col("p_mw"),
                                        return_dtype=pl.Float64).alias("p_mw"),
            pl.col("id").replace_strict(q, default=pl.col("q_mvar"),
                                        return_dtype=pl.Float64).alias("q_mvar"))
    loads = net.loads
    if settings.load_reduction:
        red = pl.col("id").replace_strict(settings.load_reduction, default=0.0,
                                          return_dtype=pl.Float64)
        keep = pl.when(pl.col("p_mw") > 0).then(1.0 - red / pl.col("p_mw")).otherwise(1.0)
        loads = loads.with_columns((pl.col("p_mw") * keep).alias("p_mw"),
                                   (pl.col("q_mvar") * keep).alias("q_mvar"))
    # origin=None: the AC check builds its pandapower net from these tables (a pandapower
    # origin net would keep its own shunt steps and source set-points).
    return net.replace(buses=buses, branches=branches, shunts=sh, generators=gens, loads=loads,
                       origin=None)
