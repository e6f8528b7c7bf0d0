"""The AC check of one topology at a scenario's loads: one pandapower power flow per scenario.

A scenario (:class:`~feederopt.io.scenarios.ScenarioSet`) is a per-bus net demand
``d_s(j)`` [MW, MVAr] (the loads' demands plus the DER rows at the bus). Its power flow is the
network's own pandapower net (:func:`feederopt.validation.ac.pandapower_model`, the user's net
for a pandapower input) with every in-service load set to zero and one temporary constant-power
``load`` element per bus carrying ``d_s(j)`` (negative where the bus injects: PV), so that the
buses draw exactly the scenario's net demand; the loads are restored afterwards. A scenario's
``source`` rows (``source_vm``) set the ``vm_pu`` of the ext_grid (and slack gen) at each source
bus for its power flow, as SimBench's study cases set ``Slack_vm``; restored afterwards too.
Generators keep
the set-points given (the scenario slave's dispatch when it has one, else the network's).

Limits: those of the run's per-unit model (``pu``, the network's band and ratings after
``--v-min``/``--v-max``/``--max-loading``), held with the single solve's AC check,
:func:`feederopt.validation.ac_limits.ac_limit_violations` (its tolerances
:data:`~feederopt.validation.ac_limits.AC_LIMIT_TOLERANCE`); in addition, a scenario's power
flow can leave a non-source bus without voltage (cut off from every source at the chosen
topology), which is listed first as a ``supplied`` violation (:func:`scenario_violations`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE, ac_limit_violations


@dataclass(frozen=True)
class ScenarioAc:
    """The AC power flow of the chosen topology at one scenario's loads."""

    converged: bool
    losses_kw: float
    min_voltage_pu: float
    min_voltage_bus: str | None
    max_voltage_pu: float
    max_loading_percent: float
    #: The limits the power flow breaks (:func:`scenario_violations`): the unsupplied buses,
    #: then the model's limits worst first: component, id, limit, value, rating, amount, unit
    #: (and loading_percent for a rating).
    violations: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    #: The branch of ``max_loading_percent`` (a line or transformer id as the single solve's
    #: ``ac_check.max_loading_element``); None when no closed branch has a rating.
    max_loading_element: str | None = None

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
                "max_loading_element": self.max_loading_element,
                "within_limits": self.within_limits,
                "limit_tolerance": dict(AC_LIMIT_TOLERANCE),
                "violations": [{k: num(v) if isinstance(v, float) else v for k, v in d.items()}
                               for d in self.violations],
                "message": self.message}


def scenario_ac(network: Network, closed: np.ndarray, bus_ids: list[str], p_bus_mw: np.ndarray,
                q_bus_mvar: np.ndarray, gen_p: np.ndarray | None = None,
                gen_q: np.ndarray | None = None, *,
                pu: PerUnitNetwork | None = None,
                source_vm: np.ndarray | None = None) -> ScenarioAc:
    """The AC check of ``closed`` (one boolean per in-service branch) at the per-bus net
    demand ``p_bus_mw``, ``q_bus_mvar`` over ``bus_ids`` (module docstring), held to the limits
    of ``pu``: the run's per-unit model of ``network`` (default: ``to_per_unit(network)``, the
    same limits when the run's ``--v-min``/``--v-max``/``--max-loading`` are applied to
    ``network``, as :func:`feederopt.solve` does). ``source_vm``: the scenario's source
    voltages [p.u.] over ``bus_ids`` (NaN, or None: the network's set-point)."""
    from feederopt.io.pandapower import OriginModel
    from feederopt.validation.ac import _LOCK, _run, pandapower_model
    from feederopt.validation.montecarlo import hold_sources, loads_set

    all_ids = [str(b) for b in network.buses["id"].to_list()]
    model = pandapower_model(network)
    origin = isinstance(model, OriginModel)
    position = {b: k for k, b in enumerate(all_ids)}
    rows = [(position[b], float(p), float(q)) for b, p, q in
            zip(bus_ids, p_bus_mw, q_bus_mvar, strict=True)
            if b in position and (p != 0.0 or q != 0.0)]
    pp_bus = [int(all_ids[k]) if origin else k for k, _, _ in rows]
    held = [] if source_vm is None else [
        (int(b) if origin else position[b], float(v))
        for b, v in zip(bus_ids, np.asarray(source_vm, float), strict=True)
        if b in position and math.isfinite(float(v))]
    n_live = int(network.loads["in_service"].sum()) if network.loads.height else 0
    with loads_set(network, np.zeros(n_live), np.zeros(n_live)), _LOCK:
        import pandapower as pp

        net = model.net
        added = pp.create_loads(net, pp_bus, [r[1] for r in rows], q_mvar=[r[2] for r in rows],
                                name="feederopt scenario") if rows else []
        undo = hold_sources(net, held)
        try:
            state = model.set_state(closed, gen_p_mw=gen_p, gen_q_mvar=gen_q)
            ac = _run(model, all_ids, state, 1e-8, 50, network)
        finally:
            for table, idx, old in reversed(undo):
                net[table].at[idx, "vm_pu"] = old
            if len(added):  # create_loads replaced net.load: drop from the table it uses
                net["load"] = net["load"].drop(index=list(added))
    if not ac.converged:
        return ScenarioAc(False, math.nan, math.nan, None, math.nan, math.nan, [],
                          ac.message or "the AC power flow did not converge")
    low = ac.min_voltage_bus
    return ScenarioAc(True, ac.losses_kw, ac.min_voltage_pu,
                      None if low is None else str(network.bus_id_out(low)),
                      ac.max_voltage_pu, ac.max_loading_percent,
                      scenario_violations(pu if pu is not None else to_per_unit(network), ac,
                                          network), ac.message,
                      max_loading_element=ac.max_loading_element)


def scenario_violations(pu: PerUnitNetwork, ac: Any, network: Network) -> list[dict[str, Any]]:
    """The limits a scenario's AC power flow ``ac`` breaks: every non-source bus that it leaves
    without voltage (``limit`` ``supplied``, no value or amount), then the model's limits
    (:func:`~feederopt.validation.ac_limits.ac_limit_violations`, worst first)."""
    bus_out = network.bus_id_out
    vm = np.asarray(ac.vm_pu, dtype=float)
    cut = [{"component": "buses", "id": bus_out(ac.bus_ids[k]), "limit": "supplied",
            "value": None, "rating": None, "amount": None, "unit": ""}
           for k in np.flatnonzero(~pu.is_source & ~np.isfinite(vm))]
    return cut + ac_limit_violations(pu, ac, bus_out)
