"""Seed points for the outer approximation of the branch cones in a MILP master."""

from __future__ import annotations

import numpy as np

from feederopt.network.perunit import PerUnitNetwork

#: Cones whose outer approximation a MILP (master or LinDistFlow) carries.
OA_CONES = ("branch_cone",)

#: Flow magnitudes, as shares of the total demand, at which every branch cone gets a tangent.
SEED_SHARES = (0.002, 0.006, 0.02, 0.06, 0.2, 0.6)


def seed_points(pu: PerUnitNetwork, shares: tuple[float, ...] = SEED_SHARES) -> list[dict]:
    """Points on the branch cones ``P^2 + Q^2 = v_f l`` with ``v = 1`` and flows at the load's
    power factor, in both directions: their tangents form a piecewise-linear under-estimator of
    the losses ``r (P^2 + Q^2) / v`` before any slave has been solved."""
    p_tot = max(float(np.abs(pu.p_load).sum()), 1e-3)
    q_tot = float(np.abs(pu.q_load).sum())
    ratio = q_tot / p_tot
    pts = []
    for share in shares:
        for sign in (1.0, -1.0):
            p = np.full(pu.n_branch, sign * share * p_tot)
            q = ratio * p
            pts.append({
                "P": p, "Q": q, "v": np.ones(pu.n_bus), "l": p**2 + q**2,
                "y": np.ones(pu.n_branch), "w": np.ones(pu.n_branch),
            })
    return pts
