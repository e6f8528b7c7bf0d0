"""The AC check of one topology at a scenario's loads: one pandapower power flow per scenario.

A scenario (:class:`~feederopt.io.scenarios.ScenarioSet`) is a per-bus net demand
``d_s(j)`` [MW, MVAr] (the loads' demands plus the DER rows at the bus). Its power flow is the
network's own pandapower net (:func:`feederopt.validation.ac.pandapower_model`, the user's net
for a pandapower input) with every in-service load set to zero and one temporary constant-power
``load`` element per bus carrying ``d_s(j)`` (negative where the bus injects: PV), so that the
buses draw exactly the scenario's net demand; the loads are restored afterwards. Generators keep
the set-points given (the scenario slave's dispatch when it has one, else the network's).

Limits (as :func:`feederopt.validation.montecarlo.ac_feasible` holds them): every non-source
bus's voltage within ``[v_min_pu, v_max_pu]`` (0.9 and 1.1 where the data has none), every
rated branch loaded at most 100 % of its rating (pandapower's ``loading_percent``, for
transformers current-based), with ``tolerance`` for rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from feederopt.network.container import Network


@dataclass(frozen=True)
class ScenarioAc:
    """The AC power flow of the chosen topology at one scenario's loads."""

    converged: bool
    losses_kw: float
    min_voltage_pu: float
    min_voltage_bus: str | None
    max_voltage_pu: float
    max_loading_percent: float
    #: The limits the power flow breaks, largest first: component, id, limit, value, rating,
    #: amount, unit (and loading_percent for a rating).
    violations: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    @property
    def within_limits(self) -> bool:
        return self.converged and not self.violations

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"converged": self.converged, "losses_kw": num(self.losses_kw),
                "min_voltage_pu": num(self.min_voltage_pu),
                "min_voltage_bus": self.min_voltage_bus,
                "max_voltage_pu": num(self.max_voltage_pu),
                "max_loading_percent": num(self.max_loading_percent),
                "within_limits": self.within_limits, "violations": list(self.violations),
                "message": self.message}


def scenario_ac(network: Network, closed: np.ndarray, bus_ids: list[str], p_bus_mw: np.ndarray,
                q_bus_mvar: np.ndarray, gen_p: np.ndarray | None = None,
                gen_q: np.ndarray | None = None, tolerance: float = 1e-6) -> ScenarioAc:
    """The AC check of ``closed`` (one boolean per in-service branch) at the per-bus net
    demand ``p_bus_mw``, ``q_bus_mvar`` over ``bus_ids`` (module docstring)."""
    from feederopt.io.pandapower import OriginModel
    from feederopt.validation.ac import _LOCK, _run, pandapower_model
    from feederopt.validation.montecarlo import loads_set

    all_ids = [str(b) for b in network.buses["id"].to_list()]
    model = pandapower_model(network)
    origin = isinstance(model, OriginModel)
    position = {b: k for k, b in enumerate(all_ids)}
    rows = [(position[b], float(p), float(q)) for b, p, q in
            zip(bus_ids, p_bus_mw, q_bus_mvar, strict=True)
            if b in position and (p != 0.0 or q != 0.0)]
    pp_bus = [int(all_ids[k]) if origin else k for k, _, _ in rows]
    n_live = int(network.loads["in_service"].sum()) if network.loads.height else 0
    with loads_set(network, np.zeros(n_live), np.zeros(n_live)), _LOCK:
        import pandapower as pp

        net = model.net
        added = pp.create_loads(net, pp_bus, [r[1] for r in rows], q_mvar=[r[2] for r in rows],
                                name="feederopt scenario") if rows else []
        try:
            state = model.set_state(closed, gen_p_mw=gen_p, gen_q_mvar=gen_q)
            ac = _run(model, all_ids, state, 1e-8, 50, network)
        finally:
            if len(added):
                net.load.drop(index=list(added), inplace=True)
    if not ac.converged:
        return ScenarioAc(False, math.nan, math.nan, None, math.nan, math.nan, [],
                          ac.message or "the AC power flow did not converge")
    low = ac.min_voltage_bus
    return ScenarioAc(True, ac.losses_kw, ac.min_voltage_pu,
                      None if low is None else str(network.bus_id_out(low)),
                      ac.max_voltage_pu, ac.max_loading_percent,
                      _violations(network, ac, tolerance), ac.message)


def _violations(network: Network, ac: Any, tolerance: float) -> list[dict[str, Any]]:
    buses = network.buses
    v_min = buses["v_min_pu"].cast(pl.Float64).fill_null(0.9).to_numpy()
    v_max = buses["v_max_pu"].cast(pl.Float64).fill_null(1.1).to_numpy()
    src = buses["is_source"].fill_null(False).to_numpy().astype(bool)
    out: list[dict[str, Any]] = []
    vm = ac.vm_pu
    bus_out = network.bus_id_out
    for k in np.flatnonzero(~src & np.isfinite(vm) & (vm < v_min - tolerance)):
        out.append({"component": "buses", "id": bus_out(ac.bus_ids[k]), "limit": "v_min",
                    "value": float(vm[k]), "rating": float(v_min[k]),
                    "amount": float(v_min[k] - vm[k]), "unit": "p.u."})
    for k in np.flatnonzero(~src & np.isfinite(vm) & (vm > v_max + tolerance)):
        out.append({"component": "buses", "id": bus_out(ac.bus_ids[k]), "limit": "v_max",
                    "value": float(vm[k]), "rating": float(v_max[k]),
                    "amount": float(vm[k] - v_max[k]), "unit": "p.u."})
    for k in np.flatnonzero(~src & ~np.isfinite(vm)):
        out.append({"component": "buses", "id": bus_out(ac.bus_ids[k]), "limit": "supplied",
                    "value": None, "rating": None, "amount": None, "unit": ""})
    loading = ac.loading_percent
    for k in np.flatnonzero(np.isfinite(loading) & (loading > 100.0 * (1 + tolerance))):
        out.append({"component": "branches", "id": ac.branch_ids[k], "limit": "loading",
                    "value": float(loading[k]), "rating": 100.0,
                    "amount": float(loading[k] - 100.0), "unit": "%",
                    "loading_percent": float(loading[k])})
    out.sort(key=lambda d: -(d["amount"] or 0.0) if d["unit"] != "p.u." else
             -100.0 * (d["amount"] or 0.0))
    return out
