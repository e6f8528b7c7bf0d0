"""AC-OPF polish of a DOPF solution: the continuous set-points (generator p and q) re-optimised
with the exact AC power flow, for the topology and the discrete settings the DOPF chose.

pandapower's ``runopp`` (PYPOWER's primal-dual interior-point method, Zimmerman et al.,
IEEE TPWRS 26(1), 2011; Thurner et al., IEEE TPWRS 33(6), 2018) on the network with the chosen
switch states, capacitor steps and source set-points; the committed generators are controllable
sgens within their limits, every bus within its voltage limits. The DOPF's objective
``lambda losses + sum c_g p_g`` is written as pandapower costs: ``lambda`` per MW on the
external grid and ``c_g + lambda`` per MW on each generator, since the external grid's import
is the load plus the losses minus the generation. Flexible loads keep the reduction the DOPF
chose (pandapower's OPF does not price a load reduction the way the DOPF does).

When the SOCP relaxation is exact, its point is AC feasible and optimal for the convex model,
so the polish can only confirm it (a local NLP optimum is no better); the difference is
reported either way (``ac_opf`` in the JSON).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from feederopt.io.pandapower import to_pandapower
from feederopt.network.container import Network


@dataclass(frozen=True)
class AcOpfPolish:
    converged: bool
    losses_kw: float  # AC losses at the polished point (power balance)
    socp_losses_kw: float
    difference_kw: float  # polished - SOCP
    difference_pct: float
    gen_p_mw: dict[str, float]
    gen_q_mvar: dict[str, float]
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"converged": self.converged, "losses_kw": num(self.losses_kw),
                "socp_losses_kw": num(self.socp_losses_kw),
                "difference_kw": num(self.difference_kw),
                "difference_pct": num(self.difference_pct),
                "gen_p_mw": self.gen_p_mw, "gen_q_mvar": self.gen_q_mvar,
                "method": "pandapower runopp (PYPOWER interior point)",
                "message": self.message}


def ac_opf_polish(net: Network, closed: np.ndarray, committed: dict[str, bool],
                  loss_price_per_mwh: float, socp_losses_kw: float) -> AcOpfPolish:
    """Polish the generators' set-points of ``net`` (its devices at the chosen settings,
    :func:`feederopt.results.dopf.with_settings`) for the switch states ``closed``;
    ``committed`` maps the committable generators' ids to their status."""
    import pandapower as pp

    pn = to_pandapower(net, closed)
    lam = float(loss_price_per_mwh)
    buses = net.buses
    pn.bus["min_vm_pu"] = buses["v_min_pu"].to_numpy()
    pn.bus["max_vm_pu"] = buses["v_max_pu"].to_numpy()
    pn.ext_grid["controllable"] = False
    pn.load["controllable"] = False
    names = pn.sgen["name"].astype(str).tolist() if len(pn.sgen) else []
    controllable = np.array([committed.get(n, False) for n in names], dtype=bool)
    if len(pn.sgen):
        pn.sgen["controllable"] = controllable
    gens = net.generators
    cost = dict(zip(gens["id"].to_list(), gens["cost_per_mwh"].to_list(), strict=True))
    pn.poly_cost.drop(pn.poly_cost.index, inplace=True)
    for i in range(len(pn.ext_grid)):
        pp.create_poly_cost(pn, i, "ext_grid", cp1_eur_per_mw=lam)
    for i, name in enumerate(names):
        if controllable[i]:
            pp.create_poly_cost(pn, pn.sgen.index[i], "sgen",
                                cp1_eur_per_mw=float(cost.get(name, 0.0)) + lam)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runopp(pn, verbose=False, init="pf", numba=False)
        ok = bool(pn.OPF_converged)
        message = ""
    except Exception as exc:  # pandapower raises OPFNotConverged and solver errors
        ok, message = False, f"{type(exc).__name__}: {exc}"
    if not ok:
        return AcOpfPolish(False, math.nan, socp_losses_kw, math.nan, math.nan, {}, {},
                           message or "the AC-OPF did not converge")
    supply = float(pn.res_ext_grid.p_mw.sum()) + float(pn.res_sgen.p_mw.sum() if len(
        pn.sgen) else 0.0) + float(pn.res_gen.p_mw.sum() if len(pn.gen) else 0.0)
    demand = float(pn.res_load.p_mw.sum()) + float(pn.res_shunt.p_mw.sum() if len(
        pn.shunt) else 0.0)
    losses = (supply - demand) * 1000.0
    diff = losses - socp_losses_kw
    p = {names[i]: float(pn.res_sgen.p_mw.iloc[i]) for i in range(len(names)) if controllable[i]}
    q = {names[i]: float(pn.res_sgen.q_mvar.iloc[i]) for i in range(len(names))
         if controllable[i]}
    return AcOpfPolish(True, losses, socp_losses_kw, diff,
                       diff / socp_losses_kw * 100 if socp_losses_kw else math.nan, p, q)
