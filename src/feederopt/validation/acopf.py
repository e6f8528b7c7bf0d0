"""AC-OPF polish of a DOPF solution: the continuous set-points (generator p and q) re-optimised
with the exact AC power flow, for the topology and the discrete settings the DOPF chose.

pandapower's ``runopp`` (PYPOWER's primal-dual interior-point method, Zimmerman et al.,
IEEE TPWRS 26(1), 2011; Thurner et al., IEEE TPWRS 33(6), 2018) on the network with the chosen
switch states, capacitor steps and source set-points; the committed generators are controllable
sgens within their limits, every bus within its voltage limits. The DOPF's objective
``lambda losses + sum c_g p_g`` is written as pandapower costs: ``lambda`` per MW on the
external grid and ``c_g + lambda`` per MW on each generator, since the external grid's import
is the load plus the losses minus the generation; a source's import price ``c_s`` and
quadratic import cost ``c2_s`` go on its ext_grid on top of ``lambda``. Flexible loads keep
the reduction the DOPF chose (pandapower's OPF does not price a load reduction the way the
DOPF does).

The polish is judged as the DOPF's answer is: pandapower's ``runpp`` at its set-points (the
AC check's power flow, its losses and limits), on the DOPF's objective (losses and the
generators' energy cost at the loss price, :class:`AcOpfPolish`), against that objective at the
DOPF's own set-points with the AC check's losses; each point's import cost is that of runpp's
own source powers (``res_ext_grid.p_mw`` at each source's price, :func:`import_cost_per_h`), so
sources at different prices are judged alike. When the SOCP relaxation is exact, its point
is AC feasible and optimal for the convex model, so the polish cannot beat it (a local NLP
optimum is no better); runopp's own power balance read 0.02 kW below runpp's losses and,
compared on losses alone while the generator's p moved, looked 0.041 kW better than an exact
SOCP point whose objective it missed by 0.013 kW-eq (user test ut35_dopf #2), a point that
the interior point reached at pandapower's default tolerances; it runs at
:data:`TIGHT_OPF_TOLERANCES`. The verdict is reported either way (``ac_opf`` in the JSON);
the answer keeps the DOPF's set-points.

A voltage-controlling generator (a pandapower ``gen``) is what the model holds it to: its p
fixed at its set-point and its bus at ``vm_pu`` (``controllable`` False, which pandapower's
OPF takes as exactly that), ``min_p_mw = max_p_mw = p_mw`` and its q limits those of the data,
or :data:`WIDE_Q_MVAR` where the data have none (the power flow does not enforce them). Without
these columns pandapower's OPF refused every net with a ``gen`` ("OPF parameters are not set
correctly", user test ut33_dopf #2). A controllable gen whose voltage the DOPF chose
(:func:`free_voltage_gens`, :func:`feederopt.problems.dopf.with_free_gen_voltages`) is
``controllable`` here too: p within ``p_min_mw..p_max_mw`` at ``c_g + lambda`` (and ``c2_g``),
q within its limits, its bus within its band, as ``runopp`` takes it; the judging ``runpp``
holds it at the polished voltage (``gen_vm_pu``). pandapower's log records during the OPF are
captured, not printed, and a failure's message carries them.
"""

from __future__ import annotations

import copy
import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from feederopt.io.pandapower import to_pandapower
from feederopt.network.container import Network
from feederopt.network.device_settings import DeviceSettings, with_settings
from feederopt.network.perunit import to_per_unit
from feederopt.validation.ac import ac_power_flow
from feederopt.validation.ac_limits import ac_limit_violations

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


def opf_gens(pn: Any, net: Network, free: frozenset[str] = frozenset()) -> None:
    """Give the voltage-controlling generators (``gen``) of ``pn``, the export of ``net``, the
    OPF parameters of what the model holds them to (see the module docstring); those named in
    ``free`` (a controllable gen, running, whose voltage and dispatch the DOPF chose) are
    ``controllable``: p within ``p_min_mw..p_max_mw``, q within its limits and its bus's
    voltage within the bus's band, as the DOPF and ``runopp`` take them."""
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

    ids = gens["id"].cast(str).to_list()
    p_lo = dict(zip(ids, gens["p_min_mw"].cast(float).to_list(), strict=True))
    p_hi = dict(zip(ids, gens["p_max_mw"].cast(float).to_list(), strict=True))
    moves = [n in free for n in names]
    p_now = pn.gen["p_mw"].astype(float).tolist()
    pn.gen["controllable"] = moves
    pn.gen["min_p_mw"] = [p_lo[n] if m else p for n, m, p in zip(names, moves, p_now,
                                                                   strict=True)]
    pn.gen["max_p_mw"] = [p_hi[n] if m else p for n, m, p in zip(names, moves, p_now,
                                                                   strict=True)]
    pn.gen["min_q_mvar"] = [limit(q_lo, n, -WIDE_Q_MVAR) for n in names]
    pn.gen["max_q_mvar"] = [limit(q_hi, n, WIDE_Q_MVAR) for n in names]


def _log_text(records: list[logging.LogRecord]) -> str:
    """pandapower's error and warning records, one sentence each."""
    return "; ".join(r.getMessage() for r in records if r.levelno >= logging.WARNING)


def polish_failed_note(message: str) -> str:
    """The note of a polish that failed (the result's ``notes`` and the console)."""
    return (f"the AC-OPF polish of the generators' set-points failed ({message}); the answer "
            "and its AC check are the DOPF's own setting (ac_opf in the JSON)")


#: The polish's interior-point tolerances (PYPOWER's, ``runopp``'s keywords): 1e-10 where
#: pandapower's defaults are 1e-6 (5e-6 on the constraints). At the defaults the interior
#: point stopped short of a generator's bound, 0.2986 of a free DG's 0.3 MW, 2.4 % above the
#: exact SOCP point's losses by runpp on the small test grid; on user test ut35_dopf's net_d
#: 0.013 kW-eq above the DOPF's objective. At 1e-10 both tie with the DOPF's point to 1e-6
#: kW. A polish that does not converge at these runs again at pandapower's defaults
#: (``tolerance`` in the JSON: null).
TIGHT_OPF_TOLERANCES = {"OPF_VIOLATION": 1e-10, "PDIPM_COSTTOL": 1e-10,
                        "PDIPM_GRADTOL": 1e-10, "PDIPM_COMPTOL": 1e-10,
                        "PDIPM_FEASTOL": 1e-10}

#: Within this share of the DOPF's objective (at least 1e-6 kW-eq), the polish's objective
#: ties with it (``verdict`` ``equal``): both are runpp figures at 1e-8 MVA.
TIE_SHARE = 1e-6


@dataclass(frozen=True)
class AcOpfPolish:
    """The AC-OPF polish of a DOPF answer, judged at its own set-points by pandapower's
    ``runpp`` (the AC check's power flow), on the DOPF's objective.

    ``losses_kw`` are runpp's at the polished set-points, not runopp's power balance (ext grid
    plus generation minus load), which the interior point's tolerance left 0.01-0.02 kW low
    (user test ut35_dopf #2: 65.5234 kW against runpp's 65.5443). ``objective_kw`` is the
    DOPF's objective [kW-equivalent] with those losses and the polished generators' energy
    cost (``C_loss + C_DG + C_flex + C_switch``, :mod:`feederopt.problems.dopf`; the fixed,
    flexibility and switching terms are the DOPF's, which the polish does not move);
    ``dopf_objective_kw`` is the same objective at the DOPF's own set-points with the AC
    check's losses (``dopf_ac_losses_kw``). ``verdict`` compares the two: ``better``,
    ``worse``, ``equal`` (within :data:`TIE_SHARE`), ``outside the limits`` (runpp at the
    polished set-points breaks a limit of the model,
    :func:`~feederopt.validation.ac_limits.ac_limit_violations`) or ``not compared`` (a figure
    is missing). The answer keeps the DOPF's set-points whatever the verdict.
    ``difference_kw`` and ``difference_pct`` compare the losses alone with the SOCP's."""

    converged: bool
    losses_kw: float  # runpp's at the polished set-points
    socp_losses_kw: float
    difference_kw: float  # polished - SOCP losses
    difference_pct: float
    gen_p_mw: dict[str, float]
    gen_q_mvar: dict[str, float]
    message: str = ""
    objective_kw: float = math.nan
    dopf_objective_kw: float = math.nan
    dopf_ac_losses_kw: float = math.nan
    loss_price_per_mwh: float = math.nan
    within_limits: bool | None = None
    limit_violations: tuple[dict[str, Any], ...] = ()
    #: The interior point's tolerance (:data:`TIGHT_OPF_TOLERANCES`); NaN: pandapower's
    #: defaults (the tight run did not converge).
    tolerance: float = math.nan
    #: The polished voltage [p.u.] of each controllable gen (its voltage a decision), which
    #: the judging power flow holds (its ``vm_pu``).
    gen_vm_pu: dict[str, float] = field(default_factory=dict)

    @property
    def objective_difference_kw(self) -> float:
        """The polish's objective minus the DOPF's (both at runpp) [kW-equivalent]."""
        return self.objective_kw - self.dopf_objective_kw

    @property
    def verdict(self) -> str:
        diff = self.objective_difference_kw
        if not self.converged or not math.isfinite(diff):
            return "not compared"
        if self.within_limits is False:
            return "outside the limits"
        if abs(diff) <= TIE_SHARE * max(1.0, abs(self.dopf_objective_kw)):
            return "equal"
        return "better" if diff < 0 else "worse"

    def text(self) -> str:
        """The polish for a person: ``the AC-OPF polish (...) is worse than the DOPF's answer:
        objective 91.8358 kW-eq against 91.8230 (+0.0128), losses 65.5443 kW ...``."""
        if not self.converged:
            return polish_failed_note(self.message)
        diff = self.objective_difference_kw
        head = {"better": "is better than the DOPF's answer",
                "worse": "is worse than the DOPF's answer",
                "equal": "ties with the DOPF's answer",
                "outside the limits": "breaks a limit in AC",
                "not compared": "could not be compared with the DOPF's answer"}[self.verdict]
        figures = (f": objective {self.objective_kw:.4f} kW-eq against {self.dopf_objective_kw:.4f}"
                   f" ({diff:+.4f}), AC losses {self.losses_kw:.4f} kW against "
                   f"{self.dopf_ac_losses_kw:.4f} kW, both by runpp"
                   if math.isfinite(diff) else "")
        return (f"the AC-OPF polish of the generators' set-points {head}{figures}; the answer "
                "keeps the DOPF's set-points (ac_opf in the JSON)")

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        lam = self.loss_price_per_mwh

        def per_h(kw: float) -> float | None:
            return num(kw * lam / 1000.0)

        return {"converged": self.converged, "losses_kw": num(self.losses_kw),
                "losses_from": "pandapower runpp at the polished set-points",
                "socp_losses_kw": num(self.socp_losses_kw),
                "difference_kw": num(self.difference_kw),
                "difference_pct": num(self.difference_pct),
                "objective_kw": num(self.objective_kw),
                "objective_per_h": per_h(self.objective_kw),
                "dopf_ac_losses_kw": num(self.dopf_ac_losses_kw),
                "dopf_objective_kw": num(self.dopf_objective_kw),
                "dopf_objective_per_h": per_h(self.dopf_objective_kw),
                "objective_difference_kw": num(self.objective_difference_kw),
                "verdict": self.verdict,
                "within_limits": self.within_limits,
                "limit_violations": [{k: num(v) if isinstance(v, float) else v
                                      for k, v in d.items()} for d in self.limit_violations],
                "gen_p_mw": self.gen_p_mw, "gen_q_mvar": self.gen_q_mvar,
                **({"gen_vm_pu": self.gen_vm_pu} if self.gen_vm_pu else {}),
                "method": "pandapower runopp (PYPOWER interior point)",
                "tolerance": num(self.tolerance),
                "message": self.message,
                # said on the console and in the notes: a failure, or a better AC point
                # that the answer does not use
                **({"note": self.text()} if self.verdict == "better" or not self.converged
                   else {})}


def ac_opf_polish(net: Network, closed: np.ndarray, committed: dict[str, bool],
                  costs: Mapping[str, float], dopf_ac_losses_kw: float) -> AcOpfPolish:
    """Polish the generators' set-points of ``net`` (its devices at the chosen settings,
    :func:`feederopt.network.device_settings.with_settings`) for the switch states ``closed``;
    ``committed`` maps the committable generators' ids to their status. ``costs`` are the
    DOPF's cost terms (:meth:`feederopt.problems.dopf.DopfProblem.costs`: the loss price, the
    SOCP's ``losses_kw``, ``losses_per_h`` and ``total_per_h``), ``dopf_ac_losses_kw`` the
    AC check's losses at the DOPF's own set-points; the polish is judged on that objective
    at runpp's losses (:class:`AcOpfPolish`)."""
    import pandapower as pp

    pn = to_pandapower(net, closed)
    lam = float(costs["loss_price_per_mwh"])
    socp_losses_kw = float(costs["losses_kw"])
    buses = net.buses
    pn.bus["min_vm_pu"] = buses["v_min_pu"].to_numpy()
    pn.bus["max_vm_pu"] = buses["v_max_pu"].to_numpy()
    pn.ext_grid["controllable"] = False
    free = free_voltage_gens(net, committed)
    opf_gens(pn, net, free)
    pn.load["controllable"] = False
    names = pn.sgen["name"].astype(str).tolist() if len(pn.sgen) else []
    controllable = np.array([committed.get(n, False) for n in names], dtype=bool)
    if len(pn.sgen):
        pn.sgen["controllable"] = controllable
    gens = net.generators
    cost = dict(zip(gens["id"].cast(pl.String).to_list(),
                    gens["cost_per_mwh"].cast(pl.Float64).fill_null(0.0).to_list(), strict=True))
    cost2 = (dict(zip(gens["id"].cast(pl.String).to_list(),
                      gens["cost_per_mw2_per_h"].cast(pl.Float64).fill_null(0.0).to_list(),
                      strict=True)) if "cost_per_mw2_per_h" in gens.columns else {})
    price = _import_prices(net)
    q_cost = _gen_column(gens, "cost_per_mvarh")
    q_cost2 = _gen_column(gens, "cost_per_mvar2_per_h")
    pn.poly_cost.drop(pn.poly_cost.index, inplace=True)
    # the import price of each ext_grid's bus on top of the loss price: the OPF then
    # minimises lambda losses + sum c_g p_g + c2_g p_g^2 + sum c_s ps_s + c2_s ps_s^2
    # (+ a constant)
    for i in range(len(pn.ext_grid)):
        bus = str(pn.ext_grid["name"].iloc[i])  # to_pandapower names it by its bus id
        c1, c2, _, cq1, cq2 = price.get(bus, (0.0,) * 5)
        pp.create_poly_cost(pn, pn.ext_grid.index[i], "ext_grid", cp1_eur_per_mw=lam + c1,
                            cp2_eur_per_mw2=c2, cq1_eur_per_mvar=cq1, cq2_eur_per_mvar2=cq2)
    for i, name in enumerate(names):
        if controllable[i]:
            pp.create_poly_cost(pn, pn.sgen.index[i], "sgen",
                                cp1_eur_per_mw=float(cost.get(name, 0.0)) + lam,
                                cp2_eur_per_mw2=float(cost2.get(name, 0.0)),
                                cq1_eur_per_mvar=q_cost.get(name, 0.0),
                                cq2_eur_per_mvar2=q_cost2.get(name, 0.0))
    gen_names = pn.gen["name"].astype(str).tolist() if len(pn.gen) else []
    for i, name in enumerate(gen_names):
        if name in free:
            pp.create_poly_cost(pn, pn.gen.index[i], "gen",
                                cp1_eur_per_mw=float(cost.get(name, 0.0)) + lam,
                                cp2_eur_per_mw2=float(cost2.get(name, 0.0)),
                                cq1_eur_per_mvar=q_cost.get(name, 0.0),
                                cq2_eur_per_mvar2=q_cost2.get(name, 0.0))
    given = pn
    for tolerances in (TIGHT_OPF_TOLERANCES, {}):
        pn = copy.deepcopy(given)
        with captured_pandapower_log() as records:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pp.runopp(pn, verbose=False, init="pf", numba=False, **tolerances)
                ok = bool(pn.OPF_converged)
                message = ""
            except Exception as exc:  # pandapower raises OPFNotConverged and solver errors
                ok, message = False, f"{type(exc).__name__}: {exc}"
        if ok:
            break
    if not ok:
        logged = _log_text(records)
        message = message or "the AC-OPF did not converge"
        return AcOpfPolish(False, math.nan, socp_losses_kw, math.nan, math.nan, {}, {},
                           message + (f" (pandapower: {logged})" if logged else ""),
                           dopf_ac_losses_kw=dopf_ac_losses_kw, loss_price_per_mwh=lam)
    p = {names[i]: float(pn.res_sgen.p_mw.iloc[i]) for i in range(len(names)) if controllable[i]}
    q = {names[i]: float(pn.res_sgen.q_mvar.iloc[i]) for i in range(len(names))
         if controllable[i]}
    vm: dict[str, float] = {}
    for i, name in enumerate(gen_names):
        if name in free:
            p[name] = float(pn.res_gen.p_mw.iloc[i])
            q[name] = float(pn.res_gen.q_mvar.iloc[i])
            vm[name] = float(pn.res_gen.vm_pu.iloc[i])
    judged = _judged(with_settings(net, DeviceSettings(gen_v_set=vm)) if vm else net, closed,
                     p, q, cost, costs, dopf_ac_losses_kw, cost2)
    return replace(judged, tolerance=tolerances.get("PDIPM_GRADTOL", math.nan), gen_vm_pu=vm)


def free_voltage_gens(net: Network, committed: Mapping[str, bool]) -> frozenset[str]:
    """The running generators of ``committed`` whose voltage the DOPF chose: committable
    with a set-point ``v_set_pu`` (pandapower's controllable gen,
    :func:`feederopt.problems.dopf.with_free_gen_voltages`)."""
    g = net.generators
    if not g.height or "v_set_pu" not in g.columns:
        return frozenset()
    rows = g.filter(pl.col("in_service") & pl.col("committable").fill_null(False)
                    & pl.col("v_set_pu").is_not_null() & ~pl.col("v_set_pu").is_nan())
    return frozenset(str(i) for i in rows["id"].to_list() if committed.get(str(i), False))


def _gen_column(gens: pl.DataFrame, column: str) -> dict[str, float]:
    """``column`` of the generators by id, 0 where empty or absent."""
    if column not in gens.columns:
        return {}
    return dict(zip(gens["id"].cast(pl.String).to_list(),
                    gens[column].cast(pl.Float64).fill_null(0.0).to_list(), strict=True))


def _import_prices(net: Network) -> dict[str, tuple[float, float, float, float, float]]:
    """The sources' import costs by bus id: ``(c_s`` per MWh, ``c2_s`` per MW^2 h, ``F_s`` per
    h, ``cq_s`` per MVAr h, ``cq2_s`` per MVAr^2 h) (``buses.import_price_per_mwh``,
    ``import_cost_per_mw2_per_h``, ``import_fixed_cost_per_h``, ``import_q_price_per_mvarh``,
    ``import_q_cost_per_mvar2_per_h``), the sources with a non-zero term only."""
    b = net.buses
    cols = ("import_price_per_mwh", "import_cost_per_mw2_per_h", "import_fixed_cost_per_h",
            "import_q_price_per_mvarh", "import_q_cost_per_mvar2_per_h")
    b = b.with_columns([pl.col(c).cast(pl.Float64).fill_null(0.0) if c in b.columns
                        else pl.lit(0.0).alias(c) for c in cols])
    src = b.filter(pl.col("is_source") & pl.any_horizontal([pl.col(c) != 0 for c in cols]))
    return {str(r["id"]): tuple(float(r[c]) for c in cols)  # type: ignore[misc]
            for r in src.iter_rows(named=True)}


def import_cost_per_h(prices: Mapping[str, tuple[float, float, float, float, float]],
                      p_by_bus: Mapping[str, float],
                      q_by_bus: Mapping[str, float] | None = None) -> float:
    """``sum_s c_s p_s + c2_s p_s^2 + F_s`` [per hour] of the priced sources (``prices``,
    :func:`_import_prices`) at their imports ``p_by_bus`` [MW] (an AC power flow's,
    :attr:`~feederopt.validation.ac.AcResult.source_p_by_bus`), plus ``cq_s q_s + cq2_s
    q_s^2`` at their reactive injections ``q_by_bus`` [MVAr]; NaN when a priced source has no
    import there."""
    out = 0.0
    for bus, (c1, c2, fixed, cq1, cq2) in prices.items():
        if bus not in p_by_bus:
            return math.nan
        p = float(p_by_bus[bus])
        out += c1 * p + c2 * p * p + fixed
        if cq1 or cq2:
            if q_by_bus is None or bus not in q_by_bus:
                return math.nan
            q = float(q_by_bus[bus])
            out += cq1 * q + cq2 * q * q
    return out


def _judged(net: Network, closed: np.ndarray, p: dict[str, float], q: dict[str, float],
            cost: dict[str, float], costs: Mapping[str, float],
            dopf_ac_losses_kw: float, cost2: Mapping[str, float] | None = None) -> AcOpfPolish:
    """The polished set-points ``p``, ``q`` (by generator id) judged by runpp
    (:func:`~feederopt.validation.ac.ac_power_flow`, the AC check's power flow of ``net``
    with the other generators at ``net``'s set-points, the DOPF's) on the DOPF's objective."""
    lam = float(costs["loss_price_per_mwh"])
    socp_losses_kw = float(costs["losses_kw"])
    live = net.generators.filter(pl.col("in_service"))
    ids = live["id"].cast(pl.String).to_list()
    gen_p = live["p_mw"].cast(pl.Float64).to_numpy().copy()
    gen_q = live["q_mvar"].cast(pl.Float64).to_numpy().copy()
    moved_money = 0.0  # the polished generators' energy cost minus the DOPF's [per h]
    c2 = cost2 or {}
    cq1 = _gen_column(live, "cost_per_mvarh")
    cq2 = _gen_column(live, "cost_per_mvar2_per_h")
    for k, gid in enumerate(ids):
        if gid in p:
            moved_money += cost.get(gid, 0.0) * (p[gid] - float(gen_p[k]))
            moved_money += c2.get(gid, 0.0) * (p[gid] ** 2 - float(gen_p[k]) ** 2)
            # the reactive cost moves with q (the DOPF's q: its dispatch, in gen_q)
            moved_money += cq1.get(gid, 0.0) * (q[gid] - float(gen_q[k]))
            moved_money += cq2.get(gid, 0.0) * (q[gid] ** 2 - float(gen_q[k]) ** 2)
            gen_p[k], gen_q[k] = p[gid], q[gid]
    # the import cost at each point is the AC power flow's: every priced source's import
    # (res_ext_grid) at its price (linear and quadratic), at the polished set-points and at
    # the DOPF's own (a power flow of its own; before session 43 the import was moved by the
    # generation moved and the losses' change at the one price of every source, and with
    # several prices the verdict was "not compared")
    prices = _import_prices(net)
    ac = ac_power_flow(net, closed, gen_p, gen_q)
    if not ac.converged:
        return AcOpfPolish(True, math.nan, socp_losses_kw, math.nan, math.nan, p, q,
                           "runpp at the polished set-points did not converge"
                           + (f" ({ac.message})" if ac.message else ""),
                           dopf_ac_losses_kw=dopf_ac_losses_kw, loss_price_per_mwh=lam)
    kw = 1000.0 / lam if lam > 0 else math.nan  # kW-equivalent per unit of money per hour
    # the DOPF's objective without its SOCP losses and import: DG, flexibility and switching
    others_kw = (float(costs["total_per_h"]) - float(costs["losses_per_h"])
                 - float(costs.get("import_per_h", 0.0))) * kw
    imported, imported_dopf = 0.0, 0.0
    if prices:
        imported = import_cost_per_h(prices, ac.source_p_by_bus, ac.source_q_by_bus)
        own = ac_power_flow(net, closed)  # the DOPF's set-points, as the AC check runs them
        imported_dopf = (import_cost_per_h(prices, own.source_p_by_bus, own.source_q_by_bus)
                         if own.converged else math.nan)
    violations = ac_limit_violations(to_per_unit(net), ac, net.bus_id_out)
    losses = float(ac.losses_kw)
    diff = losses - socp_losses_kw
    return AcOpfPolish(
        True, losses, socp_losses_kw, diff,
        diff / socp_losses_kw * 100 if socp_losses_kw else math.nan, p, q,
        objective_kw=others_kw + (moved_money + imported) * kw + losses,
        dopf_objective_kw=others_kw + imported_dopf * kw + float(dopf_ac_losses_kw),
        dopf_ac_losses_kw=float(dopf_ac_losses_kw), loss_price_per_mwh=lam,
        within_limits=not violations, limit_violations=tuple(violations))
