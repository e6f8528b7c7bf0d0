"""The DOPF's answer in the user's ids and SI units: the chosen setting of every device
(``devices`` in the JSON), the cost terms (``costs``), and the network with those settings
written into it, whose AC power flow checks the solution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from feederopt.errors import shown_list
from feederopt.formulations.devices import cap_options, tap_options
from feederopt.network.container import Network
from feederopt.network.device_settings import DeviceSettings
from feederopt.network.devices import PerUnitDevices, pp_tap_pos
from feederopt.problems.dopf import DopfProblem

#: The file of :meth:`DopfSummary.devices_table` in a DOPF run's result folder.
DEVICES_FILE = "devices.parquet"

#: The columns of ``devices.parquet`` (docs/columns.md): the keys of result.json's
#: ``devices`` rows. ``step`` and ``max_steps`` of a bank, ``q_mvar_at_1pu`` its reactive power
#: at 1 p.u. and ``q_mvar`` at the point's voltage; ``tap_pos`` pandapower's position of a
#: transformer OLTC (``data_tap_pos`` the data's), ``position`` the move from the data's,
#: ``ratio_pu`` its ratio, ``v_set_pu`` a source OLTC's set-point or the voltage chosen for a
#: generator whose voltage is a decision (pandapower's controllable gen); ``on``, ``p_mw``,
#: ``q_mvar`` a committable generator's (and the reactive demand chosen for a flexible load
#: whose q is a decision: pandapower's controllable load with ``min/max_q_mvar``); ``p_mw`` of
#: a bank the active power a lossy bank consumes at the chosen step and the point's voltage
#: (pandapower's ``res_shunt.p_mw``); ``reduction_mw`` a flexible load's; ``held`` a
#: device that ``--controls`` left at the data's setting; ``open`` a transformer OLTC whose
#: branch the answer opens (its ``tap_pos``, ``ratio_pu`` the data's: out of service, its tap
#: has no meaning), false on a closed one.
DEVICES_SCHEMA: dict[str, Any] = {
    "id": pl.String, "kind": pl.String, "bus": pl.String, "branch": pl.String,
    "step": pl.Int64, "max_steps": pl.Int64, "q_mvar_at_1pu": pl.Float64,
    "tap_pos": pl.Int64, "data_tap_pos": pl.Int64, "position": pl.Int64,
    "ratio_pu": pl.Float64, "v_set_pu": pl.Float64, "on": pl.Boolean, "p_mw": pl.Float64,
    "q_mvar": pl.Float64, "reduction_mw": pl.Float64, "held": pl.Boolean,
    "open": pl.Boolean, "setting": pl.String}


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

    def devices_table(self) -> pl.DataFrame:
        """``devices.parquet`` of a result folder: one row per device of :attr:`devices`
        (result.json's ``devices``), in :data:`DEVICES_SCHEMA` (docs/columns.md), null where
        a column is not the kind's."""
        rows = [{k: d.get(k) for k in DEVICES_SCHEMA} for d in self.devices]
        for r, d in zip(rows, self.devices, strict=True):
            r["bus"] = None if d.get("bus") is None else str(d["bus"])
            r["held"] = bool(d.get("held", False))
        return pl.DataFrame(rows, schema=DEVICES_SCHEMA)

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
    y = np.asarray(point["y"], dtype=float) if "y" in point else None
    rows: list[dict[str, Any]] = []
    settings = DeviceSettings()
    if dev.n_cap and "cap" in point:
        _bank, step = cap_options(dev)
        chosen = step[point["cap"] > 0.5]
        for c, sid in enumerate(dev.cap_ids):
            k = int(chosen[c])
            bus = int(dev.cap_bus[c])
            q = k * dev.cap_q[c] * s
            # a lossy bank (pandapower's shunt p_mw per step) consumes k p_step |V|^2, as
            # pandapower's res_shunt.p_mw gives it (user test ut50_dopf #4: invisible before)
            p = k * float(dev.cap_p[c]) * s * float(v[bus]) ** 2 if len(dev.cap_p) else 0.0
            settings.cap_steps[sid] = k
            rows.append({"id": sid, "kind": bank_kind(float(dev.cap_q[c])),
                         "bus": bus_out(pu.bus_ids[bus]),
                         "step": k, "max_steps": int(dev.cap_max_steps[c]),
                         "q_mvar_at_1pu": q, "q_mvar": q * v[bus] ** 2, "p_mw": p,
                         "setting": f"step {k}/{int(dev.cap_max_steps[c])}: "
                                    f"{bank_kvar(q * 1000)}"
                                    + (f", {p * 1000:.1f} kW dissipated" if p > 0 else "")})
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
                trafo = _pp_trafo(net, brid)
                if y is not None and y[int(dev.tap_branch[k])] < 0.5:
                    rows.append(_open_oltc_row(dev, k, brid, bus_out(bid), trafo))
                    continue
                settings.branch_tap[brid] = n
                row = {"id": f"oltc:{brid}", "kind": "oltc", "bus": bus_out(bid),
                       "branch": brid, "ratio_pu": n, "position": position, "open": False}
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
    free = {int(g) for g in dev.gen_v_free}

    def voltage(g: int, on: bool) -> dict[str, Any]:
        """The chosen voltage of a unit whose voltage is a decision (pandapower's
        controllable gen, :func:`~feederopt.problems.dopf.with_free_gen_voltages`), running:
        its bus's; written into its ``v_set_pu`` (``vm_pu``) wherever the answer is checked."""
        if int(g) not in free or not on:
            return {}
        vm = float(v[int(pu.gen_bus[g])])
        settings.gen_v_set[pu.gen_ids[int(g)]] = vm
        return {"v_set_pu": vm}

    def v_text(row: dict[str, Any]) -> str:
        return f", V = {row['v_set_pu']:.4f} p.u." if "v_set_pu" in row else ""

    if len(dev.gen_commit) and "on" in point:
        for j, g in enumerate(dev.gen_commit):
            on = bool(point["on"][j] > 0.5)
            p = float(point["pg"][g]) * s if on else 0.0
            q = float(point["qg"][g]) * s if on else 0.0
            gid = pu.gen_ids[int(g)]
            settings.gen_dispatch[gid] = (on, p, q)
            vm = voltage(g, on)
            rows.append({"id": gid, "kind": "generator",
                         "bus": bus_out(pu.bus_ids[int(pu.gen_bus[g])]), "on": on,
                         "p_mw": p, "q_mvar": q, **vm,
                         "setting": f"on: {p:.3f} MW, {q:.3f} MVAr{v_text(vm)}" if on
                         else "off"})
    if len(dev.gen_must_run) and "pg" in point:
        for g in dev.gen_must_run:  # committed: always on, dispatched within its limits
            p, q = float(point["pg"][g]) * s, float(point["qg"][g]) * s
            gid = pu.gen_ids[int(g)]
            settings.gen_dispatch[gid] = (True, p, q)
            vm = voltage(g, True)
            rows.append({"id": gid, "kind": "generator",
                         "bus": bus_out(pu.bus_ids[int(pu.gen_bus[g])]), "on": True,
                         "must_run": True, "p_mw": p, "q_mvar": q, **vm,
                         "setting": f"on (must run): {p:.3f} MW, {q:.3f} MVAr{v_text(vm)}"})
    if len(dev.flex_ids) and ("flex" in point or "flexq" in point):
        # the loads whose q is a decision: their chosen reactive demand [MVAr]
        q_of = {int(j): (float(dev.flex_q_base[i]) - float(point["flexq"][i])) * s
                for i, j in enumerate(dev.flex_q)} if "flexq" in point else {}
        for j, lid in enumerate(dev.flex_ids):
            p = max(float(point["flex"][j]), 0.0) * s if "flex" in point else 0.0
            settings.load_reduction[lid] = p
            row = {"id": lid, "kind": "flexible_load",
                   "bus": bus_out(pu.bus_ids[int(dev.flex_bus[j])]),
                   "reduction_mw": p, "reduction_mvar": p * float(dev.flex_q_per_p[j]),
                   "max_reduction_mw": float(dev.flex_p[j]) * s,
                   # a reduction that rounds to 0 is no "reduced by 0.0 kW"
                   "setting": f"reduced by {p * 1000:.1f} kW" if round(p * 1000, 1) > 0
                   else "not reduced"}
            if j in q_of:
                i = int(np.flatnonzero(dev.flex_q == j)[0])
                row["q_mvar"] = q_of[j]
                row["reduction_mvar"] = float(dev.flex_q_base[i]) * s - q_of[j]
                row["setting"] = f"{row['setting']}, q {q_of[j]:.3f} MVAr"
                settings.load_q[lid] = q_of[j]
            rows.append(row)
    setting: dict[str, np.ndarray] = {g: point[g] for g in ("y", "cap", "tap", "on")
                                      if g in point}
    return DopfSummary(rows, problem.costs(point, setting), controls, settings)


def _open_oltc_row(dev: PerUnitDevices, k: int, branch: str, bus: str,
                   trafo: Any | None) -> dict[str, Any]:
    """The row of transformer OLTC ``k`` whose branch the answer opens: out of service, its
    tap has no meaning (the DOPF's position of it is arbitrary: its big-M rows impose nothing,
    :func:`~feederopt.formulations.devices.add_devices`), so the row gives the data's
    ratio and position (pandapower's ``tap_pos`` of the data), ``position`` 0 and ``open``
    True, and the settings leave its tap alone."""
    base = dev.tap_base_position(k)
    row: dict[str, Any] = {"id": f"oltc:{branch}", "kind": "oltc", "bus": bus,
                           "branch": branch, "ratio_pu": float(dev.tap_neutral[k]),
                           "position": 0, "open": True}
    if trafo is not None:
        was = pp_tap_pos(trafo, base)
        row.update(tap_pos=was, data_tap_pos=was,
                   setting=f"open: tap_pos {was:d} (the data's; out of service, its tap has "
                           "no effect)")
    else:
        row["setting"] = (f"open: position {base + 1} of {len(dev.tap_ratios[k])} (the "
                          "data's; out of service, its tap has no effect)")
    return row


def held_devices(net: Network, controls: frozenset[str],
                 model_q_mvar: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """The devices of ``net`` whose kind ``--controls`` leaves out (``controls`` the kinds the
    optimiser set), as rows of ``devices`` with ``held`` True: each stays at the data's
    setting (a committable generator at its set-point ``p_mw``, ``q_mvar``: off when both are
    0; a bank at its ``step``; an OLTC at its position; a flexible load unreduced), so that
    the table and the JSON show what the solve did not move. A held generator that holds its
    bus's voltage (``v_set_pu``: pandapower's gen) has its q free to hold it: its ``q_mvar``
    is then the model's (``model_q_mvar``, by generator id, [MVAr]; before, the data's
    ``q_mvar``, "0.000 MVAr" for a pandapower gen whatever q the model gave it)."""
    from feederopt.network.devices import device_list

    g = net.generators
    v_set = pl.col("v_set_pu").cast(pl.Float64, strict=False)
    holding = ({str(i) for i in g.filter(v_set.is_not_null() & v_set.is_not_nan())["id"]
                .to_list()} if g.height and "v_set_pu" in g.columns else set())
    rows: list[dict[str, Any]] = []
    for d in device_list(net):
        if d["control"] in controls:
            continue
        row: dict[str, Any] = {"id": d["id"], "kind": d["kind"], "bus": d["bus"],
                               "held": True}
        if d["kind"] == "generator":
            p, q = float(d["p_mw"]), float(d["q_mvar"])  # type: ignore[arg-type]
            on = p != 0 or q != 0
            if str(d["id"]) in holding and model_q_mvar and str(d["id"]) in model_q_mvar:
                q = float(model_q_mvar[str(d["id"])])  # its q holds its bus: the model's
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


#: A bank's dissipation [kW] below this is none to :func:`lossy_bank_note`.
LOSSY_BANK_KW = 0.05


def lossy_bank_note(summary: DopfSummary | None) -> str | None:
    """A note when the chosen steps of lossy banks (pandapower's shunt ``p_mw`` per step, a
    table's ``p_mw_per_step``) dissipate power: ``sum_c k_c p_c |V_c|^2`` (pandapower's
    ``res_shunt.p_mw``). The model takes it as a load of the bank, so it raises the line
    losses it causes but is not itself in the loss objective (line and transformer losses,
    ``losses_kw``, as pandapower's ``res_line``/``res_trafo``); a step that saves a few kW
    of line losses may cost the bank more (user test ut50_dopf #4: step 4 chose 89.740 kW of
    losses and 86.5 kW in the bank, step 3 90.65 kW and about 65 kW). None without one."""
    if summary is None:
        return None
    lossy = [(str(d["id"]), float(d["p_mw"]) * 1000) for d in summary.devices
             if d.get("kind") in ("capacitor", "reactor") and not d.get("held")
             and isinstance(d.get("p_mw"), int | float) and float(d["p_mw"]) * 1000
             > LOSSY_BANK_KW]
    if not lossy:
        return None
    shown = shown_list([f"{i} {kw:.1f} kW" for i, kw in lossy])
    total = sum(kw for _, kw in lossy)
    return (f"lossy capacitor banks dissipate {total:.1f} kW at the chosen steps ({shown}; "
            "p_mw of their device rows, pandapower's res_shunt.p_mw): the losses (line and "
            "transformer) and the objective do not count it, the model takes it as a load of "
            "the bank (docs/dopf.md)")


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
