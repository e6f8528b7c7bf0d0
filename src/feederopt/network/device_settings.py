"""The chosen settings of a distribution OPF's devices (:class:`DeviceSettings`, by user id)
and the one writer of them into a network: :func:`with_settings` (the tables: bank steps,
transformer tap ratios, source set-points, generator dispatch, reduced loads) and
:func:`with_branch_taps` (the per-unit model's ratios).

The solve's AC check runs on ``with_settings(net, settings)``
(:mod:`feederopt.results.dopf` decodes the settings from the model's point), and so does
``feederopt check`` (:func:`feederopt.validation.montecarlo.check_result`), which reads them
back from a result's ``devices`` rows (:meth:`DeviceSettings.from_devices`): a check of the
decision, topology and device settings together, not of the data's settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork

#: The prefix of an OLTC's id in a result's ``devices`` (``oltc:<branch or bus id>``).
OLTC_PREFIX = "oltc:"


@dataclass(frozen=True)
class DeviceSettings:
    """Chosen settings by user id: capacitor steps, source set-points [p.u.], generator
    status and dispatch [MW, MVAr], load reductions [MW], transformer tap ratios."""

    cap_steps: dict[str, int] = field(default_factory=dict)
    source_v_set: dict[str, float] = field(default_factory=dict)
    gen_dispatch: dict[str, tuple[bool, float, float]] = field(default_factory=dict)
    load_reduction: dict[str, float] = field(default_factory=dict)
    branch_tap: dict[str, float] = field(default_factory=dict)  # transformer OLTC ratios
    #: The voltage [p.u.] chosen for a generator whose voltage is a decision (pandapower's
    #: controllable gen): its ``v_set_pu`` (pandapower's ``vm_pu``) at the answer.
    gen_v_set: dict[str, float] = field(default_factory=dict)
    #: The reactive demand [MVAr] chosen for a flexible load whose q is a decision (its
    #: ``flex_q_min_mvar``..``flex_q_max_mvar``), by load id; any other keeps its power factor.
    load_q: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when no device is set (a result without a distribution OPF)."""
        return not (self.cap_steps or self.source_v_set or self.gen_dispatch
                    or self.load_reduction or self.branch_tap or self.gen_v_set
                    or self.load_q)

    @classmethod
    def from_devices(cls, rows: Iterable[Mapping[str, Any]] | None) -> DeviceSettings:
        """The settings of a result's ``devices`` rows (result.json's ``devices``, as
        :func:`feederopt.results.dopf.dopf_summary` writes them): a bank's ``step``, a
        transformer OLTC's ``ratio_pu`` (by its ``branch``), a source OLTC's ``v_set_pu``
        (by the bus of its id ``oltc:<bus>``), a generator's ``on``, ``p_mw``, ``q_mvar`` (and
        ``v_set_pu``, the voltage chosen for a controllable gen), a
        flexible load's ``reduction_mw`` (and its ``q_mvar`` where its q is a decision). A
        ``held`` row (a kind left out of ``--controls``)
        is the data's own setting and is skipped, as is a row without its value and the
        ``open`` row of a transformer OLTC whose branch the answer opens (its tap has no
        meaning; the data's stays)."""
        out = cls()
        for row in rows or ():
            if not isinstance(row, Mapping) or row.get("held") or row.get("open"):
                continue
            kind, did = row.get("kind"), str(row.get("id"))
            if kind in ("capacitor", "reactor") and row.get("step") is not None:
                out.cap_steps[did] = int(row["step"])
            elif kind == "oltc" and row.get("branch") is not None and \
                    row.get("ratio_pu") is not None:
                out.branch_tap[str(row["branch"])] = float(row["ratio_pu"])
            elif kind == "oltc" and row.get("v_set_pu") is not None:
                bus = did[len(OLTC_PREFIX):] if did.startswith(OLTC_PREFIX) else did
                out.source_v_set[bus] = float(row["v_set_pu"])
            elif kind == "generator" and row.get("on") is not None:
                on = bool(row["on"])
                out.gen_dispatch[did] = (on, float(row.get("p_mw") or 0.0) if on else 0.0,
                                         float(row.get("q_mvar") or 0.0) if on else 0.0)
                if on and row.get("v_set_pu") is not None:
                    out.gen_v_set[did] = float(row["v_set_pu"])
            elif kind == "flexible_load" and row.get("reduction_mw") is not None:
                out.load_reduction[did] = float(row["reduction_mw"])
                if row.get("q_mvar") is not None:
                    out.load_q[did] = float(row["q_mvar"])
        return out


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
    steps, source set-points, generator dispatch (an off generator produces nothing) and the
    voltage chosen for a controllable gen (its ``v_set_pu``), reduced loads."""
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
    if settings.gen_v_set:
        gens = gens.with_columns(pl.col("id").replace_strict(
            settings.gen_v_set, default=pl.col("v_set_pu"),
            return_dtype=pl.Float64).alias("v_set_pu"))
    loads = net.loads
    if settings.load_reduction:
        red = pl.col("id").replace_strict(settings.load_reduction, default=0.0,
                                          return_dtype=pl.Float64)
        keep = pl.when(pl.col("p_mw") > 0).then(1.0 - red / pl.col("p_mw")).otherwise(1.0)
        loads = loads.with_columns((pl.col("p_mw") * keep).alias("p_mw"),
                                   (pl.col("q_mvar") * keep).alias("q_mvar"))
    if settings.load_q:  # a load whose q is a decision: the chosen q, apart from its p
        loads = loads.with_columns(pl.col("id").replace_strict(
            settings.load_q, default=pl.col("q_mvar"), return_dtype=pl.Float64).alias("q_mvar"))
    # origin=None: the AC check builds its pandapower net from these tables (a pandapower
    # origin net would keep its own shunt steps and source set-points).
    return net.replace(buses=buses, branches=branches, shunts=sh, generators=gens, loads=loads,
                       origin=None)
