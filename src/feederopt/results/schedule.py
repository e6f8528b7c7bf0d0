"""The answer of a day-ahead schedule (``feederopt schedule``): totals, hourly series, the C&CG
log and the worst case, in user ids and SI units (typed; ``to_dict`` for JSON)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from feederopt.algorithms.ccg import ScheduleSolution
from feederopt.formulations.schedule import ScheduleData, realised
from feederopt.validation.schedule import AcHourCheck


@dataclass
class Totals:
    """Day totals of one realisation (MWh over the horizon; one-hour steps)."""

    cost: float  # $
    losses_mwh: float  # sum_h sum_b r (P^2 + Q^2) of the LinDistFlow flows (exact quadratic)
    losses_pwl_mwh: float  # the model's piecewise-linear loss
    purchase_mwh: float
    load_shed_mwh: float
    renewable_spill_mwh: float
    dg_mwh: float
    ev_unmet_mwh: float
    v_min_pu: float
    v_max_pu: float


@dataclass
class HourlySeries:
    """Per-hour series of one realisation (lists over hours, per device where named)."""

    substation_p_mw: list[float]
    substation_q_mvar: list[float]
    dg_mw: dict[str, list[float]]
    ess_charge_mw: dict[str, list[float]]
    ess_discharge_mw: dict[str, list[float]]
    ess_soc_mwh: dict[str, list[float]]
    renewable_mw: dict[str, list[float]]
    renewable_forecast_mw: dict[str, list[float]]
    ev_mw: dict[str, list[float]]
    demand_mw: list[float]
    dsm_shift_mw: dict[str, list[float]]  # pdr - pd per bus (only buses that shift)
    v_min_pu: list[float]
    v_max_pu: list[float]
    v_mean_pu: list[float]
    losses_mw: list[float]


@dataclass
class ScheduleResult:
    case: str
    method: str
    status: str
    hours: int
    settings: dict[str, Any]
    objective: float
    lower_bound: float
    gap: float
    open_lines: list[str]  # daily topology (hour 0 with --hourly-topology)
    open_lines_by_hour: list[list[str]]
    first_stage_cost: float
    nominal: Totals
    worst: Totals | None
    series: HourlySeries  # of the worst case (robust) or the forecast (deterministic)
    worst_case: dict[str, Any] | None
    iterations: list[dict[str, Any]]
    run_time_s: float
    violations: list[str]
    notes: list[str] = field(default_factory=list)
    ac_check: list[AcHourCheck] = field(default_factory=list)
    sample_check: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    #: The first-stage storage modes: 1 discharge, 0 charge, per ESS and hour.
    ess_discharge_mode: dict[str, list[int]] = field(default_factory=dict)
    #: The day-ahead DG commitment (with ``dg_commitment``): 1 on, per DG and hour.
    dg_commitment: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": "schedule", **asdict(self)}
        return _clean(out)


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    return x


def _loss_by_hour(d: ScheduleData, point: dict[str, np.ndarray]) -> np.ndarray:
    H, m = d.hours, d.m
    p = point["P"].reshape(H, m)
    q = point["Q"].reshape(H, m)
    return np.asarray((d.r * (p ** 2 + q ** 2)).sum(1))


def totals(d: ScheduleData, point: dict[str, np.ndarray], cost: float) -> Totals:
    H, n = d.hours, d.n
    v = np.sqrt(np.maximum(point["v"].reshape(H, n), 0.0))
    return Totals(
        cost=cost, losses_mwh=float(_loss_by_hour(d, point).sum()),
        losses_pwl_mwh=float(point["lp"].sum() + point["lq"].sum()),
        purchase_mwh=float(point["ps"].sum()), load_shed_mwh=float(point["pr"].sum()),
        renewable_spill_mwh=float(point["spill"].sum()), dg_mwh=float(point["pdg"].sum()),
        ev_unmet_mwh=float(point["short"].sum()), v_min_pu=float(v.min()),
        v_max_pu=float(v.max()),
    )


def series(d: ScheduleData, ids: dict[str, list[str]], bus_ids: list[str],
           point: dict[str, np.ndarray], xi: dict[str, np.ndarray]) -> HourlySeries:
    H, n = d.hours, d.n
    pd, res = realised(d, xi)

    def per(name: str, key: str) -> dict[str, list[float]]:
        k = len(ids[key])
        arr = point[name].reshape(H, k)
        return {i: arr[:, j].round(6).tolist() for j, i in enumerate(ids[key])}

    v = np.sqrt(np.maximum(point["v"].reshape(H, n), 0.0))
    shift = point["pdr"].reshape(H, n) - pd
    moving = np.flatnonzero(np.abs(shift).max(0) > 1e-6)
    return HourlySeries(
        substation_p_mw=point["ps"].round(6).tolist(),
        substation_q_mvar=point["qs"].round(6).tolist(),
        dg_mw=per("pdg", "dg"), ess_charge_mw=per("pch", "ess"),
        ess_discharge_mw=per("pdis", "ess"), ess_soc_mwh=per("soc", "ess"),
        renewable_mw=per("pres", "res"),
        renewable_forecast_mw={i: res[:, j].round(6).tolist()
                               for j, i in enumerate(ids["res"])},
        ev_mw=per("pev", "ev"), demand_mw=pd.sum(1).round(6).tolist(),
        dsm_shift_mw={bus_ids[j]: shift[:, j].round(6).tolist() for j in moving},
        v_min_pu=v.min(1).round(6).tolist(), v_max_pu=v.max(1).round(6).tolist(),
        v_mean_pu=v.mean(1).round(6).tolist(),
        losses_mw=_loss_by_hour(d, point).round(6).tolist(),
    )


def worst_case_summary(d: ScheduleData, bus_ids: list[str], res_ids: list[str],
                       xi: dict[str, np.ndarray]) -> dict[str, Any]:
    """Where the worst case deviates: ``{bus: {hour: +1|-1}}`` and ``{unit: [hours]}``."""
    H, n, U = d.hours, d.n, len(d.res_bus)
    sign = (xi["xp"] - xi["xm"]).reshape(H, n)
    loads = {bus_ids[j]: {str(h): int(sign[h, j]) for h in np.flatnonzero(sign[:, j])}
             for j in np.flatnonzero(np.abs(sign).sum(0))}
    xr = xi["xr"].reshape(H, U)
    res = {res_ids[u]: [int(h) for h in np.flatnonzero(xr[:, u])]
           for u in np.flatnonzero(xr.sum(0))}
    return {"loads": loads, "renewables_down": res,
            "load_deviations": int(np.abs(sign).sum()), "renewable_deviations": int(xr.sum())}


def iteration_dicts(sol: ScheduleSolution) -> list[dict[str, Any]]:
    return [asdict(it) for it in sol.iterations]
