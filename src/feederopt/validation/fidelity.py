"""How exactly the convex model represents a network: its own power flow against pandapower's.

The SOCP is exact on a radial topology when its relaxation is tight (Farivar & Low, IEEE TPWRS
28(3), 2013); what remains is the modelling of the elements. This module measures it: the exact
radial power flow of the per-unit model (:func:`feederopt.problems.sweep.sweep`, the equations
the SOCP solves) against the AC power flow (:func:`feederopt.validation.ac.ac_power_flow`, for a
pandapower input ``pp.runpp`` on the user's own net), on one topology. Elements the model
cannot represent (a ``gen``'s voltage control, three-winding transformers, phase-shifting taps,
...) show up as a difference in losses and voltages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from feederopt.network.container import Network
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.problems.sweep import sweep
from feederopt.validation.ac import AcResult, ac_power_flow

#: Agreement within which the model counts as exact: losses [%] and voltages [p.u.].
LOSSES_TOL_PCT = 0.1
VOLTAGE_TOL_PU = 1e-4


@dataclass(frozen=True)
class ModelFidelity:
    """The model's power flow against the AC power flow on one topology."""

    measured: bool
    model_losses_kw: float = math.nan
    ac_losses_kw: float = math.nan
    losses_diff_pct: float = math.nan  # (model - AC) / AC [%]
    max_voltage_diff_pu: float = math.nan  # max |V_model - V_ac| over energised buses
    message: str = ""

    @property
    def exact(self) -> bool:
        return self.measured and abs(self.losses_diff_pct) <= LOSSES_TOL_PCT and (
            self.max_voltage_diff_pu <= VOLTAGE_TOL_PU)

    def warning(self, notes: list[str] | None = None) -> str | None:
        """A sentence for the user when the model is not exact (None when it is)."""
        if not self.measured or self.exact:
            return None
        why = f" ({'; '.join(notes)})" if notes else ""
        return (
            "the convex model does not represent every element exactly"
            f"{why}: its power flow gives {self.model_losses_kw:.3f} kW of losses against "
            f"{self.ac_losses_kw:.3f} kW in the AC power flow ({self.losses_diff_pct:+.3f} %), "
            f"voltages differ by up to {self.max_voltage_diff_pu:.2e} p.u."
        )

    def to_dict(self) -> dict[str, float | bool | str | None]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "measured": self.measured,
            "model_losses_kw": num(self.model_losses_kw),
            "ac_losses_kw": num(self.ac_losses_kw),
            "losses_diff_pct": num(self.losses_diff_pct),
            "max_voltage_diff_pu": num(self.max_voltage_diff_pu),
            "exact": self.exact,
            "message": self.message,
        }


def model_fidelity(
    network: Network,
    closed: np.ndarray | None = None,
    *,
    pu: PerUnitNetwork | None = None,
    ac: AcResult | None = None,
) -> ModelFidelity:
    """Compare the model's radial power flow with the AC power flow for the branch states
    ``closed`` (in-service branches in table order; default: the base case). ``ac`` reuses an AC
    power flow of the same states. Not measured when the topology is not radial or either power
    flow fails."""
    pu = pu if pu is not None else to_per_unit(network)
    state = pu.initial_closed() if closed is None else np.asarray(closed, dtype=bool)
    result = sweep(pu, state, tol=1e-12, max_iter=200)
    if result is None:
        return ModelFidelity(False, message="the topology is not radial")
    if not result.converged:
        return ModelFidelity(False, message="the model's power flow did not converge")
    ac = ac if ac is not None else ac_power_flow(network, state)
    if not ac.converged:
        return ModelFidelity(False, message="the AC power flow did not converge")
    model_kw = result.losses * pu.s_base_mva * 1e3
    vm = np.sqrt(np.clip(result.v, 0, None))
    both = np.isfinite(ac.vm_pu)
    dv = float(np.max(np.abs(vm[both] - ac.vm_pu[both]))) if both.any() else math.nan
    diff = (model_kw - ac.losses_kw) / ac.losses_kw * 100 if ac.losses_kw else math.nan
    return ModelFidelity(True, model_kw, ac.losses_kw, diff, dv)
