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

A voltage-controlling generator (a pandapower ``gen``) is what the model holds it to: its p
fixed at its set-point and its bus at ``vm_pu`` (``controllable`` False, which pandapower's
OPF takes as exactly that), ``min_p_mw = max_p_mw = p_mw`` and its q limits those of the data,
or :data:`WIDE_Q_MVAR` where the data have none (the power flow does not enforce them). Without
these columns pandapower's OPF refused every net with a ``gen`` ("OPF parameters are not set
correctly", user test ut33_dopf #2). pandapower's log records during the OPF are captured,
not printed, and a failure's message carries them.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from feederopt.io.pandapower import to_pandapower
from feederopt.network.container import Network

#: The q limit [MVAr] of a voltage-controlling generator without one in the data: pandapower's
#: own reading of a missing OPF limit (+-1000 TW, ``validate_opf_input``).
WIDE_Q_MVAR = 1e9


class _Records(logging.Handler):
    """Keeps the log records it is handed."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_pandapower_log() -> Iterator[list[logging.LogRecord]]:
    """pandapower's log records (INFO and above) while the block runs, kept in the list it
    yields instead of printed: pandapower logs through the ``logging`` module, and without a
    handler of the caller's Python prints its warnings and errors to stderr, lines such as
    "These columns are missing in gen: ['min_p_mw' 'max_p_mw']" in the middle of our console."""
    pp_logger = logging.getLogger("pandapower")
    handler = _Records()
    level, propagate = pp_logger.level, pp_logger.propagate
    pp_logger.addHandler(handler)
    pp_logger.setLevel(logging.INFO)
    pp_logger.propagate = False
    try:
        yield handler.records
    finally:
        pp_logger.removeHandler(handler)
        pp_logger.setLevel(level)
        pp_logger.propagate = propagate


def opf_gens(pn: Any, net: Network) -> None:
    """Give the voltage-controlling generators (``gen``) of ``pn``, the export of ``net``, the
    OPF parameters of what the model holds them to (see the module docstring)."""
    if not len(pn.gen):
        return
    gens = net.generators
    q_lo = dict(zip(gens["id"].cast(str).to_list(),
                    gens["q_min_mvar"].cast(float).fill_null(-math.inf).to_list(), strict=True))
    q_hi = dict(zip(gens["id"].cast(str).to_list(),
                    gens["q_max_mvar"].cast(float).fill_null(math.inf).to_list(), strict=True))
    names = pn.gen["name"].astype(str).tolist()

    def limit(table: dict[str, float], name: str, default: float) -> float:
        v = table.get(name, math.nan)
        return float(v) if math.isfinite(v) else default

    pn.gen["controllable"] = False
    pn.gen["min_p_mw"] = pn.gen["p_mw"].astype(float)
    pn.gen["max_p_mw"] = pn.gen["p_mw"].astype(float)
    pn.gen["min_q_mvar"] = [limit(q_lo, n, -WIDE_Q_MVAR) for n in names]
    pn.gen["max_q_mvar"] = [limit(q_hi, n, WIDE_Q_MVAR) for n in names]


def _log_text(records: list[logging.LogRecord]) -> str:
    """pandapower's error and warning records, one sentence each."""
    return "; ".join(r.getMessage() for r in records if r.levelno >= logging.WARNING)


def polish_failed_note(message: str) -> str:
    """The note of a polish that failed (the result's ``notes`` and the console)."""
    return (f"the AC-OPF polish of the generators' set-points failed ({message}); the answer "
            "and its AC check are the DOPF's own setting (ac_opf in the JSON)")


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
                "message": self.message,
                **({} if self.converged else {"note": polish_failed_note(self.message)})}


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
    opf_gens(pn, net)
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
    with captured_pandapower_log() as records:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pp.runopp(pn, verbose=False, init="pf", numba=False)
            ok = bool(pn.OPF_converged)
            message = ""
        except Exception as exc:  # pandapower raises OPFNotConverged and solver errors
            ok, message = False, f"{type(exc).__name__}: {exc}"
    if not ok:
        logged = _log_text(records)
        message = message or "the AC-OPF did not converge"
        return AcOpfPolish(False, math.nan, socp_losses_kw, math.nan, math.nan, {}, {},
                           message + (f" (pandapower: {logged})" if logged else ""))
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
