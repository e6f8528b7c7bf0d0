"""The day-ahead schedule problem of seed 004: its settings, its data from a network, device
tables and profiles (:class:`~feederopt.formulations.schedule.ScheduleData`), and the checks of
an answer (radial topology, SOC within limits, DSM totals conserved, renewables within the
forecast). The maths is in :mod:`feederopt.formulations.schedule`; no solver here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import networkx as nx
import numpy as np
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind, option_ref
from feederopt.formulations.distflow import bus_shunts
from feederopt.formulations.schedule import ScheduleData
from feederopt.network.container import Network
from feederopt.network.id_hints import branch_ends, id_hint
from feederopt.network.id_lists import id_list_problems
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.network.timeseries import (
    OPTIONAL_COLUMNS,
    PRICE,
    DeviceKind,
    Devices,
    Profiles,
)
from feederopt.scalars import is_whole, plain_fields


class SocForm(StrEnum):
    SEED = "seed"  # soc -= eta_dis * pdis (the printed (20))
    PHYSICAL = "physical"  # soc -= pdis / eta_dis


class BudgetKind(StrEnum):
    TEMPORAL = "temporal"  # Gamma hours per bus over the day (the standard reading)
    AGGREGATE = "aggregate"  # the seed's per-hour ratio band of the total load


@dataclass(frozen=True)
class ScheduleSettings:
    """Options of a schedule (defaults are the assumptions of ``docs/schedule.md``).

    Prices in $/MWh: ``c_loss`` (losses), ``c_buy`` (substation purchase, every hour; a profile
    element ``price`` replaces it by an hourly price: :func:`build_schedule_data`), ``c_shed`` (load
    curtailment and unmet EV energy), ``c_spill`` (renewable spill), ``c_switch`` ($ per
    switching action with ``hourly``). ``eps``: DSM share; ``gamma``: load deviation share;
    ``budget``: Gamma, whole hours per bus (temporal) that a load may sit at a bound;
    ``budget_res``: hours per renewable unit; ``aggregate``: the (low, high) ratio band;
    ``uncertain_buses``: the buses whose load is uncertain (empty: every load bus);
    ``dg_commitment``: commit the fossil DG day-ahead (first stage, with the dg table's
    ``p_min_mw`` and ``no_load_cost``); otherwise DG is dispatched freely in ``[0, p_max]``.
    """

    hours: int = 24
    eps: float = 0.0
    gamma: float = 0.0
    budget: float = 0.0
    budget_res: float = 0.0
    budget_kind: BudgetKind = BudgetKind.TEMPORAL
    aggregate: tuple[float, float] = (0.95, 1.05)
    uncertain_buses: tuple[str, ...] = ()
    c_loss: float = 50.0
    c_buy: float = 50.0
    c_shed: float = 500.0
    c_spill: float = 0.0
    c_switch: float = 0.0
    soc_form: SocForm = SocForm.SEED
    hourly: bool = False
    ps_max_mw: float = 100.0
    fixed_open: tuple[str, ...] = ()  # branch ids open all day
    fixed_closed: tuple[str, ...] = ()  # branch ids closed all day
    dg_commitment: bool = False  # day-ahead DG on/off u_{g,h} as a first-stage decision
    #: the piecewise-linear loss's largest under-estimate of ``r P^2`` between its tangents
    #: (:func:`loss_tangents`); None: the default tangents (up to 0.25)
    loss_tol: float | None = None

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)

    @property
    def robust(self) -> bool:
        return (self.gamma > 0 and (self.budget > 0 or self.budget_kind is
                                   BudgetKind.AGGREGATE)) or self.budget_res > 0


#: The settings whose command-line flag is not the one :func:`~feederopt.errors.option_ref`
#: would give: the load and renewable budgets are both ``--robust-budget GAMMA[,GAMMA_RES]``
#: of ``feederopt schedule``, while ``budget`` is ``solve``'s ``--budget``; named by their
#: keyword from Python and by this flag on the command line (``option_ref(..., cli=...)``).
OPTION_OF = {"budget": "--robust-budget", "budget_res": "--robust-budget"}


def budget_refs() -> str:
    """The schedule's budgets in a hint, as each caller writes them (:func:`~feederopt.errors.
    option_ref` with the command line's own spelling, ``cli``, since ``budget`` alone would
    read as ``solve``'s ``--budget``): ``a load budget (budget=GAMMA) or a renewable one
    (budget_res=GAMMA_RES)`` from Python, ``a load budget (--robust-budget GAMMA) or a
    renewable one (--robust-budget GAMMA,GAMMA_RES)`` on the command line. Before
    (recheck_c E), both spellings stood side by side for every caller."""
    return (f"a load budget ({option_ref('budget', 'GAMMA', cli='--robust-budget GAMMA')}) "
            "or a renewable one ("
            f"{option_ref('budget_res', 'GAMMA_RES', cli='--robust-budget GAMMA,GAMMA_RES')})")


def _named(field: str) -> str:
    """A setting in a problem's message: by :func:`~feederopt.errors.option_ref` (``eps``
    from Python, ``--dsm`` on the command line, :data:`feederopt.cli.app.OPTION_FLAGS`;
    ``budget_res`` from Python, ``--robust-budget`` on the command line, :data:`OPTION_OF`).
    Before (smalls41), every setting was named with its flag from Python too (``eps (--dsm)
    is 2``), and until smalls42 the budgets still were (``budget_res (--robust-budget) is
    30``)."""
    return option_ref(field, cli=OPTION_OF.get(field))


def settings_problems(st: ScheduleSettings, net: Network | None = None) -> list[Problem]:
    """Every problem of the settings at once."""
    out: list[Problem] = []

    def bad(field: str, message: str, hint: str = "") -> None:
        out.append(Problem(ProblemKind.INVALID_VALUE, "options", message,
                           (str(getattr(st, field)),), field, hint))

    hours_ok = is_whole(st.hours) and 1 <= st.hours <= 24
    if not hours_ok:
        bad("hours", f"{_named('hours')} is {st.hours}, must be within 1..24",
            f"the horizon is at most one day of 24 hours: {option_ref('hours', 24)} for the "
            "whole day (a 25-hour day's table, the change to winter time, then runs its "
            "first 24 hours, the last one left out)" if st.hours == 25 else
            f"e.g. {option_ref('hours', 24)}")
    for f in ("eps", "gamma"):
        if not 0 <= getattr(st, f) < 1:
            bad(f, f"{_named(f)} is {getattr(st, f):g}, must be within 0..1 (a share)",
                "e.g. 0.1 for +-10 %")
    for f in ("budget", "budget_res"):  # counted in hours: the top against a valid horizon
        if hours_ok and not 0 <= getattr(st, f) <= st.hours:
            bad(f, f"{_named(f)} is {getattr(st, f):g}, must be within 0..hours "
                f"({st.hours})")
        elif not hours_ok and not getattr(st, f) >= 0:  # NaN too
            bad(f, f"{_named(f)} is {getattr(st, f):g}, must be >= 0 (hours per bus)")
    out += fractional_budget_problems(st)
    for f in ("c_loss", "c_buy", "c_shed", "c_spill", "c_switch"):  # prices: finite too
        if not 0 <= getattr(st, f) < math.inf:
            bad(f, f"{_named(f)} is {getattr(st, f):g}, must be >= 0 and finite",
                f"e.g. {option_ref(f, float(getattr(ScheduleSettings(), f)))} (the default)")
    if not st.ps_max_mw >= 0:
        bad("ps_max_mw", f"{_named('ps_max_mw')} is {st.ps_max_mw:g}, must be >= 0")
    if st.loss_tol is not None and not MIN_LOSS_TOL <= st.loss_tol <= MAX_LOSS_TOL:
        bad("loss_tol", f"{_named('loss_tol')} is {st.loss_tol:g}, must be within "
            f"{MIN_LOSS_TOL:g}..{MAX_LOSS_TOL:g} (a share of r P^2)",
            f"e.g. {option_ref('loss_tol', 0.04)} (tangents 1.5 times apart) or 0.01 "
            "(1.22 times)")
    # options that act only together with another one are refused alone, never ignored
    load_set = st.budget > 0 or st.budget_kind is BudgetKind.AGGREGATE
    # a load budget given but out of range (negative, NaN) is its own problem above: the
    # rules "acts only with a load budget" are left out for it (before, ut51_sched #1,
    # --robust-budget -1 --gamma 0.1 was also told to "add a load budget")
    load_given = load_set or st.budget != 0
    if st.c_switch > 0 and not st.hourly:
        # it covers the moves between consecutive hours; before (ut47_sched #6) the refusal
        # said that one topology for the day "switches nothing", while the switching from
        # the network's present state to the day's topology is there (reported, not priced)
        bad("c_switch", "the switching cost prices the moves between consecutive hours of a "
            "topology per hour (c_sw |y_{b,h} - y_{b,h-1}|), which one topology for the day "
            "does not have; the switching from the network's present state to the day's "
            "topology is not priced by it (the result reports it as 'switching from the "
            "present state')", f"add {option_ref('hourly', True)}, or leave "
            f"{option_ref('c_switch')} out")
    if 0 < st.gamma < 1 and not load_given:
        bad("gamma", "the load deviation share gamma acts only with a load budget",
            f"add a load budget ({option_ref('budget', 'GAMMA', cli='--robust-budget GAMMA')}"
            f" with GAMMA > 0 hours per bus) or {option_ref('aggregate', ('LOW', 'HIGH'))}; "
            f"or leave {option_ref('gamma')} out")
    if st.gamma == 0 and load_set:
        bad("budget" if st.budget > 0 else "budget_kind", "a load budget needs a load "
            "deviation share: with gamma 0 no load deviates", f"add {option_ref('gamma', 0.1)} "
            "(gamma > 0), or leave the load budget at 0")
    # not set: neither a budget nor the band (a gamma of 0 or outside 0..1 with a budget set
    # is gamma's own problem above; before, --robust-budget 1 --gamma -1 was told that no
    # budget was set, user test ut40_recheck_b #2)
    if st.uncertain_buses and not load_given:
        out.append(Problem(ProblemKind.INVALID_VALUE, "options", "the uncertain buses act only "
                           "with a load budget set", st.uncertain_buses, "uncertain_buses",
                           "add a load budget ("
                           f"{option_ref('budget', 'GAMMA', cli='--robust-budget GAMMA')}) and "
                           f"{option_ref('gamma')}, or leave {option_ref('uncertain_buses')} "
                           "out"))
    if st.budget_kind is BudgetKind.AGGREGATE and st.budget > 0:
        # the band replaces the hours per bus (every bus may deviate in every hour, the
        # hour's total within the band: build_schedule_data); before, the number was
        # dropped without a word (docs/schedule.md's own example gave --robust-budget 4)
        agg = option_ref("aggregate", ("LOW", "HIGH"))
        bad("budget", f"{_named('budget')} is {st.budget:g} hours per bus, but the aggregate "
            f"reading ({agg}) bounds each hour's total instead of the hours per bus: the "
            f"number would act on nothing", f"leave {_named('budget')} out with {agg}, or "
            "give a renewable budget beside the band ("
            f"{option_ref('budget_res', 'GAMMA_RES', cli='--robust-budget 0,GAMMA_RES')}); "
            "or drop the aggregate reading for the temporal budget")
    lo, hi = st.aggregate
    if not lo <= 1 <= hi:
        bad("aggregate", "the ratio band must contain 1 (low <= 1 <= high)")
    if net is not None:
        out += settings_id_problems(st, net)
    return out


def settings_id_problems(st: ScheduleSettings, net: Network) -> list[Problem]:
    """The problems of the ids the settings name in ``net``: a fixed branch or an uncertain
    bus that the network lacks, an uncertain bus named twice. :func:`settings_problems` with
    a network has them; ``feederopt.schedule`` adds them to the other problems of the
    settings when those stop the run before the network is read, so that one run names them
    all."""
    out: list[Problem] = []
    branch_ids = [str(b) for b in net.branches["id"].to_list()]
    for f in ("fixed_open", "fixed_closed"):
        unknown = tuple(b for b in getattr(st, f) if b not in set(branch_ids))
        if unknown:
            out.append(Problem(ProblemKind.INVALID_VALUE, "options", "branch not in the "
                               "network", unknown, f,
                               id_hint(list(unknown), branch_ids, {}, "branch",
                                       ends=branch_ends(net))))
    if st.uncertain_buses:
        # a bus named twice (before: taken once, silently) with the unknown ones, at once
        out += id_list_problems(option_ref("uncertain_buses"), st.uncertain_buses, "bus",
                                field="uncertain_buses")
        bus_ids = [str(b) for b in net.buses["id"].to_list()]
        unknown = tuple(dict.fromkeys(b for b in st.uncertain_buses if b not in set(bus_ids)))
        if unknown:
            out.append(Problem(ProblemKind.UNKNOWN_BUS, "options", "uncertain bus not in the "
                               "network", unknown, "uncertain_buses",
                               id_hint(list(unknown), bus_ids, {}, "bus")))
    return out


def fractional_budget_problems(st: ScheduleSettings, component: str = "options",
                               prefix: str = "") -> list[Problem]:
    """A load or renewable budget that is not a whole number of hours, refused.

    The budget set ``xp + xm <= 1``, ``sum_h (xp + xm)_{n,h} <= Gamma`` (and ``sum_h xr_{u,h}
    <= Gamma_res``) has binary extreme points only when ``Gamma`` is whole; with a fraction
    they have one fractional coordinate (``Gamma = 0.5``: +-0.5 in one hour). Every part of
    the schedule takes them as binary: C&CG's subproblem (``xi`` binary in its McCormick
    rows), the policy bound's maximiser and mountain climbing (the top ``floor(Gamma)``
    hours), the policy's exact maximum (not built, :mod:`~feederopt.algorithms.policy_max`),
    brute force (:func:`~feederopt.algorithms.ccg.extreme_points`) and ``check``'s samples
    (``k`` drawn from ``0..floor(Gamma)``), so a fraction was dropped without a word (user
    test ut36_sched: ``--robust-budget 0.5 --gamma 0.1`` on a 5-bus feeder gave the forecast,
    189.04 $, "optimal", against 191.12 $ by brute force over the fractional extreme points;
    1.5 gave what 1 gives). Refused, as ``solve --robust``'s budget is, in the temporal and
    the aggregate reading alike (there a load number is refused whole or not: the band has no
    hours per bus). Below one hour the set is that of a whole hour with a
    smaller share: ``{|d_h| <= g, sum_h |d_h| <= b g} = {sum_h |d_h| <= b g}`` for the
    relative deviations ``d`` and ``b <= 1``, the set of budget 1 with gamma ``b g`` (for a
    renewable unit, budget 1 with its ``deviation`` times ``b``); the hint says so.
    ``component`` and ``prefix`` name where the settings come from (``check``: a result's
    ``settings.``)."""
    out: list[Problem] = []
    for f in ("budget", "budget_res"):
        if f == "budget" and st.budget_kind is BudgetKind.AGGREGATE:
            continue  # no hours per bus with the band: settings_problems refuses any number
        try:
            value = float(getattr(st, f))
        except (TypeError, ValueError):  # a wrong type: the API's check names it
            continue
        if not math.isfinite(value) or value.is_integer():
            continue  # not finite: the range check names it
        share = value < 1 and st.budget_kind is BudgetKind.TEMPORAL
        whole = max(1, round(value))
        if f == "budget":
            one = value * st.gamma
            hint = (f"give whole hours per bus, e.g. "
                    f"{option_ref('budget', float(whole), cli=f'--robust-budget {whole}')}"
                    + (f"; a budget of {value:g} h with gamma {st.gamma:g} is the set of "
                       f"budget 1 with gamma {one:g} ("
                       f"{option_ref('budget', 1.0, cli='--robust-budget 1')} "
                       f"{option_ref('gamma', one)})" if share and st.gamma > 0 else ""))
        else:
            res = option_ref("budget_res", float(whole), cli=f"--robust-budget GAMMA,{whole}")
            hint = (f"give whole hours per renewable unit, e.g. {res}" + (
                        f"; a budget of {value:g} h is the set of budget 1 with each unit's "
                        f"deviation (pv/wind table) times {value:g}" if value < 1 else ""))
        if prefix:  # a result's settings: the schedule itself is to be made again
            hint = f"schedule again with whole hours: {hint}"
        what = "the load budget GAMMA" if f == "budget" else "the renewable budget GAMMA_RES"
        out.append(Problem(
            ProblemKind.INVALID_VALUE, component,
            f"{_named(f)}, {what}, is {value:g}: a budget must be a whole number of hours (the "
            "worst-case search, the bounds and the samples take the budget set's extreme "
            "points as binary; a fraction of an hour would be dropped)",
            (f"{value:g}",), prefix + f, hint))
    return out


def renewable_budget_problems(d: ScheduleData, st: ScheduleSettings,
                              unit_ids: tuple[str, ...]) -> list[Problem]:
    """A renewable budget (``budget_res``, ``GAMMA_RES`` of ``--robust-budget GAMMA,GAMMA_RES``)
    that acts on nothing: the devices have no PV or wind unit, or none whose output can fall
    short (``p_hat (1 - dev xr)``: ``deviation`` 0, or no forecast output in the horizon).
    Refused like the other options that act only with another (``--gamma`` without a load
    budget, ``--switch-cost`` without ``--hourly-topology``, :func:`settings_problems`):
    before (user test ut36_sched), ``--robust-budget 1,2`` on a feeder without renewables ran
    as if the 2 were not there. ``unit_ids``: the PV then the wind ids, as ``d.res_bus``."""
    if not st.budget_res > 0:
        return []
    hint = ("add PV or wind units (pv.csv, wind.csv in the devices folder, with deviation > "
            "0), or give the load budget alone "
            f"({option_ref('budget_res', 0, cli='--robust-budget GAMMA')})")
    head = f"{_named('budget_res')}, the renewable budget GAMMA_RES, is {st.budget_res:g}"
    if not len(d.res_bus):
        return [Problem(ProblemKind.INVALID_VALUE, "options", f"{head}, and it acts only on PV "
                        "or wind units: the devices have none", (f"{st.budget_res:g}",),
                        "budget_res", hint)]
    short = (d.res_hat * d.res_dev[None, :]).sum(0) > 0
    if short.any():
        return []
    return [Problem(ProblemKind.INVALID_VALUE, "options", f"{head}, and no PV or wind unit can "
                    "fall short of its forecast (deviation 0, or no forecast output in hours "
                    f"0..{d.hours - 1})", unit_ids, "budget_res", hint)]


def network_problems(net: Network) -> list[Problem]:
    """What the schedule cannot model in ``net``, each a typed problem naming the elements:
    more or fewer than one source (the model has one substation). The network's generators
    are modelled (:func:`build_schedule_data`): fixed hourly injections, and a generator with a
    voltage set-point away from the substation (pandapower ``gen``) holds its bus there."""
    pu = to_per_unit(net, 1.0)
    out: list[Problem] = []
    roots = pu.sources
    if len(roots) != 1:
        out.append(Problem(
            ProblemKind.INVALID_VALUE, "buses", f"a schedule needs exactly one source (the "
            f"substation); the network has {len(roots)}",
            tuple(pu.bus_ids[i] for i in roots), "is_source",
            "keep one source (e.g. one ext_grid) and take the others out of service"))
    return out


def network_storage(net: Network, devices: Devices) -> tuple[list[str], list[Problem]]:
    """The network's own pandapower ``storage`` elements in a schedule: a note naming them, and
    a typed problem for each that the ESS table lists again (ut_sched2 #3).

    pandapower's power flow takes a storage as a load at its ``p_mw`` (negative: an
    injection), and so does the schedule (a load ``storage:<index>``, or a fixed generator):
    the same power every hour, with no state of charge and no dispatch. A storage unit to
    schedule is a row of the devices' ``ess.csv``. A storage element at the same bus with the
    same energy (``max_e_mwh = e_max_mwh``) as an ESS row is the same unit given twice: with
    ``p_mw = 0`` it adds nothing (named in the note), otherwise it would be counted twice, a
    fixed ``p_mw`` all day beside the scheduled unit, and is refused (``INVALID_VALUE``, the CLI
    exits with code 2) rather than guessed."""
    from feederopt.io.pandapower import is_pandapower_net

    rows: list[tuple[str, str, float, int]] = []  # (id, bus, consumption p [MW], pp index)
    for table, sign in ((net.loads, 1.0), (net.generators, -1.0)):
        if "pp_element" not in table.columns:
            continue
        for r in table.filter((pl.col("pp_element") == "storage")
                              & pl.col("in_service")).iter_rows(named=True):
            rows.append((str(r["id"]), str(r["bus"]), sign * float(r["p_mw"]),
                         int(r["pp_index"])))
    if not rows:
        return [], []
    origin = net.origin
    size = {i: float(origin.storage.at[i, "max_e_mwh"]) for _, _, _, i in rows} \
        if is_pandapower_net(origin) and "max_e_mwh" in origin.storage.columns else {}
    ess = devices.table(DeviceKind.ESS)
    units = list(zip(ess["id"].to_list(), ess["bus"].to_list(), ess["e_max_mwh"].to_list(),
                     strict=True)) if ess.height else []

    def same(bus: str, e: float) -> str | None:
        for uid, ubus, ue in units:
            if str(ubus) == bus and np.isfinite(e) and np.isclose(float(ue), e, rtol=1e-6):
                return str(uid)
        return None

    named, idle, problems = [], [], []
    for sid, bus, p, idx in rows:
        e = size.get(idx, float("nan"))
        text = f"{sid} (bus {bus}, p_mw {p:g}" + (f", {e:g} MWh" if np.isfinite(e) else "") + ")"
        named.append(text)
        twin = same(bus, e)
        if twin is None:
            continue
        if p == 0:
            idle.append(f"{sid} is the ESS {twin} (p_mw 0: it adds nothing, {twin} is "
                        "scheduled)")
        else:
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "storage",
                f"the network's storage {sid} (bus {bus}, {e:g} MWh) is also the ESS {twin} "
                f"of the device tables: it would be counted twice, a fixed {p:g} MW every "
                f"hour beside the scheduled {twin}", (sid, twin), "p_mw",
                f"set p_mw of pandapower storage {idx} to 0 or in_service to False in the "
                f"net, or remove {twin} from ess.csv"))
    note = ("the network's pandapower storage elements are fixed loads (an injection where "
            "p_mw < 0) at their p_mw every hour, with no state of charge and no dispatch: "
            + ", ".join(named) + ". To schedule a storage unit give it as a row of the "
            "devices' ess.csv (id, bus, e_max_mwh, p_max_mw, eta_ch, eta_dis, soc0) and set "
            "its p_mw in the net to 0 (or in_service to False)"
            + ("; " + "; ".join(idle) if idle else ""))
    return [note], problems


#: The default tangent points [MW, MVAr] of the piecewise-linear loss (both signs) on a feeder
#: whose flow bound is :data:`TANGENT_SCALE_MW` or more: between two of them the tangents
#: under-estimate ``r P^2`` by up to 0.25 (0.05 - 0.15) and 0.18-0.21.
DEFAULT_TANGENTS = (0.05, 0.15, 0.4, 1.0, 2.5, 6.0)
#: The smallest tangent point of ``--loss-tol``'s sequence [MW] (at :data:`TANGENT_SCALE_MW`
#: or more): below it the under-estimate is at most ``r a_0^2 / 4`` per branch (at ``P = a_0 /
#: 2``), 0.000625 r.
FIRST_TANGENT = 0.05
#: The flow bound [MW] below which every tangent point is scaled by ``flow_max /
#: TANGENT_SCALE_MW`` (:func:`loss_tangents`): a low-voltage feeder's flows (tens of kW) lie
#: below the fixed 0.05 MW, where the tangents price no loss at all (user test ut33, SimBench
#: 1-LV-rural1: flow bound 0.041 MW, no tangent, "losses in the objective 0.0000 MWh").
TANGENT_SCALE_MW = 1.0
#: ``--loss-tol``'s range: 0.25 is about the default's spacing; below 0.001 the sequence
#: from 0.05 MW to a few MW holds over a hundred tangents per sign.
MIN_LOSS_TOL, MAX_LOSS_TOL = 0.001, 0.25


def tangent_scale(flow_max: float) -> float:
    """``s = min(1, flow_max / TANGENT_SCALE_MW)``: the factor on every tangent point of
    :func:`loss_tangents` (1 on a feeder whose flow bound is 1 MW or more)."""
    return min(1.0, max(flow_max, 0.0) / TANGENT_SCALE_MW)


def loss_tangents(flow_max: float, loss_tol: float | None = None) -> tuple[float, ...]:
    """The tangent points ``a > 0`` of the piecewise-linear loss (``lp >= r (2 a P - a^2 y)``
    at ``+-a``) for flows up to ``flow_max``.

    The points are placed on the feeder's own flow scale: ``s a`` with ``s =
    min(1, flow_max / 1 MW)`` (:func:`tangent_scale`), so a feeder of 1 MW or more has the
    fixed points and a smaller one the same pattern shrunk to its flows. The under-estimate
    between two points depends on their ratio only (below), so the scaling keeps it; below the
    first point ``s a_0`` it is at most ``r (s a_0)^2 / 4`` per branch.

    ``loss_tol`` None: ``s`` times :data:`DEFAULT_TANGENTS`, those below ``flow_max``.
    Otherwise a geometric sequence from ``s`` :data:`FIRST_TANGENT` with the ratio ``rho = (1 +
    sqrt(tol)) / (1 - sqrt(tol))``, up to the first point at or above ``flow_max``: two
    tangents at ``a1 < a2`` cross at ``P = 2 a1 a2 / (a1 + a2)``, where they under-estimate
    ``r P^2`` by the share ``((a2 - a1) / (a2 + a1))^2`` of it, the most between them (the
    outer approximation of a quadratic by its tangents; e.g. A. Ben-Tal & A. Nemirovski,
    Lectures on Modern Convex Optimization, 2001, for polyhedral approximations); ``a2 = rho
    a1`` makes that share ``tol``, so ``|P|`` within ``[s FIRST_TANGENT, flow_max]`` is
    under-estimated by at most ``tol``. ``tol`` 0.04 gives ``rho = 1.5``, 0.01 ``rho =
    1.22``."""
    s = tangent_scale(flow_max)
    if loss_tol is None:
        return tuple(s * a for a in DEFAULT_TANGENTS if s * a < flow_max)
    root = math.sqrt(loss_tol)
    rho = (1 + root) / (1 - root)
    points = [s * FIRST_TANGENT]
    while points[-1] < flow_max:
        points.append(points[-1] * rho)
    return tuple(points)


def build_schedule_data(net: Network, devices: Devices, profiles: Profiles,
                        st: ScheduleSettings) -> ScheduleData:
    """The arrays of the problem (MW on a 1 MVA base); the first ``st.hours`` hours. The
    substation purchase price ``c_buy`` is the profile element ``price`` [$/MWh] per hour when
    the profiles have one (:func:`hourly_price`), else ``st.c_buy`` every hour."""
    pu = to_per_unit(net, 1.0)
    H = st.hours
    prof = profiles.first(H) if profiles.hours > H else profiles
    bus = {b: i for i, b in enumerate(pu.bus_ids)}
    pd = np.zeros((H, pu.n_bus))
    qd = np.zeros((H, pu.n_bus))
    for lid, lb, lp, lq in zip(pu.load_ids, pu.load_bus, pu.load_p, pu.load_q, strict=True):
        fac = prof.of(lid, 1.0)[:H]
        pd[:, lb] += lp * fac
        qd[:, lb] += lq * fac
    # each bus's Q per MW of P in each hour, sum_i q_i f_i(h) / sum_i p_i f_i(h): the model's
    # qdr = k pdr is then each load's own q_i f_i(h) where loads of one bus follow different
    # profiles (ut_sched2 #1; the day's ratio, qd.sum(0) / pd.sum(0), was used before)
    k_q = np.divide(qd, pd, out=np.zeros_like(pd), where=pd > 0)
    roots = pu.sources
    problems = network_problems(net)
    if problems:
        raise InputError(problems)
    # the network's own generators: fixed injections at their set-points (times their
    # profile when one is given), as pandapower's power flow takes them
    p_fix = np.zeros((H, pu.n_bus))
    q_fix = np.zeros((H, pu.n_bus))
    gen_p = np.zeros((H, len(pu.gen_ids)))
    gen_q = np.zeros((H, len(pu.gen_ids)))
    for k, gid in enumerate(pu.gen_ids):
        fac = prof.of(gid, 1.0)[:H]
        gen_p[:, k] = pu.gen_p_set[k] * fac
        if not (pu.gen_v_set.size and np.isfinite(pu.gen_v_set[k])):
            gen_q[:, k] = pu.gen_q_set[k] * fac
        p_fix[:, pu.gen_bus[k]] += gen_p[:, k]
        q_fix[:, pu.gen_bus[k]] += gen_q[:, k]
    # the network's shunts at 1 p.u. (user test: a switched-in capacitor bank was left out);
    # ScheduleData.fixed_injection adds them to the generators' p_fix, q_fix
    g_sh, b_sh, y_g, y_b = schedule_shunts(pu)

    def col(kind: DeviceKind, name: str) -> np.ndarray:
        table = devices.table(kind)
        if name not in table.columns:  # an optional column (OPTIONAL_COLUMNS): its default
            return np.full(table.height, OPTIONAL_COLUMNS[kind][name])
        return np.asarray(table[name].to_numpy(), float)

    def buses(kind: DeviceKind) -> np.ndarray:
        return np.array([bus[str(b)] for b in devices.table(kind)["bus"].to_list()], int)

    res_ids = devices.ids(DeviceKind.PV) + devices.ids(DeviceKind.WIND)
    res_p = np.concatenate([col(DeviceKind.PV, "p_max_mw"), col(DeviceKind.WIND, "p_max_mw")])
    res_hat = np.column_stack([prof.of(i)[:H] for i in res_ids]) * res_p if res_ids else \
        np.zeros((H, 0))
    ev_ids = devices.ids(DeviceKind.EV)
    ev_max = np.column_stack([prof.of(i)[:H] for i in ev_ids]) * col(DeviceKind.EV, "p_max_mw") \
        if ev_ids else np.zeros((H, 0))
    # the whole requirement, also what the charger cannot deliver: that part is unmet energy
    # priced at c_shed in every schedule (ev_capacity_notes). Before (user test ut_sched4 #2)
    # it was cut to the charger's capacity and dropped without a word (ev_unmet 0).
    ev_energy = col(DeviceKind.EV, "energy_mwh") * H / 24.0
    uncertain = np.zeros(pu.n_bus, bool)
    if st.uncertain_buses:
        uncertain[[bus[b] for b in st.uncertain_buses]] = True
    else:
        uncertain = pd.sum(0) > 0
    uncertain[roots[0]] = False
    budget_load = np.where(uncertain, st.budget if st.budget_kind is BudgetKind.TEMPORAL
                           else 1.0, 0.0)
    ess_e = col(DeviceKind.ESS, "e_max_mwh")
    # |P_b| <= the largest total consumption (nothing is exported: ps >= 0, lossless
    # LinDistFlow), |Q_b| <= reactive load plus DG reactive capacity (the substation may absorb)
    grow = (1 + st.eps) * (1 + st.gamma)
    flow_max = float(grow * pd.sum(1).max() + col(DeviceKind.ESS, "p_max_mw").sum()
                     + ev_max.sum(1).max(initial=0.0) + np.abs(g_sh).sum()) + 0.01
    # voltage-controlled buses (pandapower gen away from the substation): their set-point
    # fixes v there, their reactive power is second-stage within the limits, capped where
    # the limits are not enforced (pandapower's default) by what the feeder can carry
    pv_bus, pv_set, pv_lo, pv_hi = pu.pv_buses()
    v_min2, v_max2 = pu.v_min ** 2, pu.v_max ** 2
    q_cap = float(grow * (np.abs(qd).sum(1).max() + pd.sum(1).max()) + np.abs(p_fix).sum(1).max()
                  + np.abs(q_fix).sum(1).max() + np.abs(b_sh).sum() + np.abs(g_sh).sum()) + 1.0
    if len(pv_bus):
        v_min2[pv_bus] = v_max2[pv_bus] = pv_set ** 2
        pv_lo = np.maximum(pv_lo, -q_cap)
        pv_hi = np.minimum(pv_hi, q_cap)
    flow_max_q = float(grow * qd.sum(1).max() + col(DeviceKind.DG, "q_max_mvar").sum()
                       + np.abs(q_fix).sum(1).max() + np.abs(b_sh).sum() + np.abs(pv_lo).sum()
                       + np.abs(pv_hi).sum()) + 0.01
    # the default set as it always was (points below the active flow bound); a tolerance's
    # sequence covers the reactive flows' range too (the same points serve |Q|)
    tangents = loss_tangents(flow_max if st.loss_tol is None else max(flow_max, flow_max_q),
                             st.loss_tol)
    return ScheduleData(
        hours=H, n=pu.n_bus, root=int(roots[0]), f=pu.f, t=pu.t, r=pu.r, x=pu.x,
        switchable=pu.switchable & ~np.isin(pu.branch_ids, list(st.fixed_closed)),
        fixed_open=np.isin(pu.branch_ids, list(st.fixed_open)), v_min2=v_min2,
        v_max2=v_max2,
        v_root2=float(pu.v_set[roots[0]]) ** 2, pd=pd, k_q=k_q,
        dg_bus=buses(DeviceKind.DG), dg_p=col(DeviceKind.DG, "p_max_mw"),
        dg_q=col(DeviceKind.DG, "q_max_mvar"), dg_cost=col(DeviceKind.DG, "cost_per_mwh"),
        ess_bus=buses(DeviceKind.ESS), ess_e=ess_e, ess_p=col(DeviceKind.ESS, "p_max_mw"),
        eta_ch=col(DeviceKind.ESS, "eta_ch"), eta_dis=col(DeviceKind.ESS, "eta_dis"),
        soc0=col(DeviceKind.ESS, "soc0") * ess_e,
        res_bus=np.concatenate([buses(DeviceKind.PV), buses(DeviceKind.WIND)]).astype(int),
        res_hat=res_hat,
        res_dev=np.concatenate([col(DeviceKind.PV, "deviation"),
                                col(DeviceKind.WIND, "deviation")]),
        ev_bus=buses(DeviceKind.EV), ev_max=ev_max, ev_energy=ev_energy,
        eps=st.eps, gamma=st.gamma, budget_load=budget_load,
        budget_res=np.full(len(res_ids), st.budget_res),
        aggregate=st.aggregate if st.budget_kind is BudgetKind.AGGREGATE else None,
        c_loss=st.c_loss, c_buy=hourly_price(prof, st), c_shed=st.c_shed, c_spill=st.c_spill,
        c_switch=st.c_switch, ps_max=st.ps_max_mw, flow_max=flow_max, flow_max_q=flow_max_q,
        physical_soc=st.soc_form is SocForm.PHYSICAL, hourly=st.hourly, tangents=tangents,
        commit=st.dg_commitment, dg_pmin=col(DeviceKind.DG, "p_min_mw"),
        dg_c0=col(DeviceKind.DG, "no_load_cost"),
        p_fix=p_fix if np.any(p_fix) else None, q_fix=q_fix if np.any(q_fix) else None,
        gen_bus=np.asarray(pu.gen_bus, int) if len(pu.gen_ids) else None,
        gen_p=gen_p if len(pu.gen_ids) else None, gen_q=gen_q if len(pu.gen_ids) else None,
        tap2=pu.tap2 if np.any(pu.tap2 != 1.0) else None,
        pv_bus=pv_bus if len(pv_bus) else None, pv_qmin=pv_lo if len(pv_bus) else None,
        pv_qmax=pv_hi if len(pv_bus) else None,
        shunt_p=g_sh if np.any(g_sh) else None, shunt_q=b_sh if np.any(b_sh) else None,
        y_shunt_p=y_g if np.any(y_g) else None, y_shunt_q=y_b if np.any(y_b) else None,
    )


def schedule_shunts(pu: PerUnitNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray]:
    """The network's shunts at 1 p.u. as the schedule's LinDistFlow takes them (constant
    powers: ``g v``, ``b v`` at ``v = 1``): per bus the conductance ``g`` [MW drawn] and
    susceptance ``b`` [MVAr injected] of the bus shunts, of the ends of the branches that
    never switch (:func:`~feederopt.formulations.distflow.bus_shunts`) and of the open ends of
    switchable branches (the input admittance of a line open at one end, which it keeps
    loading); and (n, m) the change per unit of each switchable branch's state ``y``: its two
    ends' shunts (the from end behind its tap) less that open end's."""
    n, m = pu.n_bus, pu.n_branch
    g_sh, b_sh = bus_shunts(pu)
    y_g, y_b = np.zeros((n, m)), np.zeros((n, m))
    if pu.has_branch_shunts():
        for k in np.flatnonzero(pu.switchable):
            f, t, a = int(pu.f[k]), int(pu.t[k]), float(pu.tap2[k])
            y_g[f, k] += pu.g_from[k] * a
            y_b[f, k] += pu.b_from[k] * a
            y_g[t, k] += pu.g_to[k]
            y_b[t, k] += pu.b_to[k]
            e = int(pu.dangle_bus[k]) if pu.dangle_bus.size else -1
            if e >= 0:
                y_g[e, k] -= pu.g_dangle[k]
                y_b[e, k] -= pu.b_dangle[k]
                g_sh[e] += pu.g_dangle[k]
                b_sh[e] += pu.b_dangle[k]
    return g_sh, b_sh, y_g, y_b


def shunt_notes(net: Network) -> list[str]:
    """How the schedule models the network's shunts (:func:`schedule_shunts`); empty when it
    has none."""
    g_sh, b_sh, y_g, y_b = schedule_shunts(to_per_unit(net, 1.0))
    if not (np.any(g_sh) or np.any(b_sh) or np.any(y_g) or np.any(y_b)):
        return []
    return [f"the network's shunts (capacitor banks and reactors at their steps, the charging "
            f"and conductance of lines, transformers' no-load losses: {b_sh.sum():+.4g} Mvar, "
            f"{g_sh.sum():.4g} MW at 1 p.u. with every switchable branch open, "
            f"{(b_sh + y_b.sum(1)).sum():+.4g} Mvar, {(g_sh + y_g.sum(1)).sum():.4g} MW with "
            "every one closed) are constant powers at 1 p.u. in the schedule's LinDistFlow, "
            "a switchable branch's with its state; the hourly AC check has them with V^2"]


def hourly_price(profiles: Profiles, st: ScheduleSettings) -> float | np.ndarray:
    """The substation purchase price [$/MWh] of the first ``st.hours`` hours: the profile
    element ``price`` (:data:`~feederopt.network.timeseries.PRICE`, absolute $/MWh, validated
    ``>= 0`` by :mod:`feederopt.io.timeseries`) as an (H,) array, or the scalar ``st.c_buy``
    (every hour) when the profiles have none."""
    if PRICE in profiles.elements:
        return profiles.of(PRICE)[:st.hours].copy()
    return st.c_buy


def ev_capacity_notes(d: ScheduleData, ev_ids: list[str]) -> list[str]:
    """A note naming each EV station whose energy requirement over the horizon (``energy_mwh``
    times hours / 24) exceeds what its charger can deliver, ``sum_h a_{k,h} P_k`` (rating
    times availability): the difference (:meth:`ScheduleData.ev_undeliverable`) is unmet in
    every schedule, counted in the unmet EV energy and priced at ``c_shed``. Empty when every
    requirement can be met."""
    gap = d.ev_undeliverable()
    idx = np.flatnonzero(gap > 1e-9)
    if not len(idx):
        return []
    each = "; ".join(f"{ev_ids[k]} needs {d.ev_energy[k]:.4g} MWh over the {d.hours} h, its "
                     f"charger delivers at most {d.ev_max[:, k].sum():.4g} MWh (p_max_mw times "
                     f"the availability profile): {gap[k]:.4g} MWh short" for k in idx)
    return [f"EV energy the chargers cannot deliver, {gap[idx].sum():.4g} MWh ({each}): it is "
            f"EV energy not delivered in every schedule, priced at the curtailment price "
            f"c_shed {d.c_shed:g} $/MWh (the samples of 'feederopt check' count only unmet "
            "energy beyond it as unserved). Check energy_mwh (MWh per day) and p_max_mw"]


def price_notes(profiles: Profiles, st: ScheduleSettings) -> list[str]:
    """Notes on the substation purchase price: its range when the profile table gives it
    hourly (``c_buy`` is then not used), and the hours whose price exceeds the curtailment
    price ``c_shed`` (:func:`price_above_shed_note`)."""
    if PRICE not in profiles.elements:
        return price_above_shed_note(np.full(st.hours, st.c_buy), st.c_shed, hourly=False)
    p = profiles.of(PRICE)[:st.hours]
    # one price all day reads "30 $/MWh", not "30 to 30 $/MWh" (user test ut33_sched #6)
    span = (f"{p.min():g} $/MWh in each of the {st.hours} h"
            if f"{p.min():g}" == f"{p.max():g}" else
            f"{p.min():g} to {p.max():g} $/MWh over the {st.hours} h")
    return [f"hourly purchase price from the profile element {PRICE!r}: {span} (c_buy "
            f"{st.c_buy:g} $/MWh is not used)",
            *price_above_shed_note(p, st.c_shed)]


def price_above_shed_note(price: np.ndarray, c_shed: float, hourly: bool = True) -> list[str]:
    """A note naming the hours whose purchase price [$/MWh] is above ``c_shed``: there one MWh
    curtailed (or of EV energy left unmet) costs less than one MWh bought at the substation,
    so the optimiser sheds the load that no cheaper source (DG, storage) covers instead of
    buying it. Empty when no hour's price exceeds ``c_shed``."""
    over = np.flatnonzero(np.asarray(price, float) > c_shed)
    if not len(over):
        return []
    what = (f"the hourly purchase price (profile element {PRICE!r}) exceeds the curtailment "
            f"price c_shed {c_shed:g} $/MWh at hour(s) "
            + ", ".join(f"{h} ({price[h]:g} $/MWh)" for h in over) if hourly else
            f"the purchase price c_buy {price[0]:g} $/MWh exceeds the curtailment price "
            f"c_shed {c_shed:g} $/MWh in every hour")
    return [f"{what}: there curtailing load (and leaving EV energy unmet) is cheaper than "
            "buying it, so the optimiser sheds the load that no cheaper source (DG, storage) "
            "covers rather than buy it; the load curtailment of those hours is then an "
            "economic choice, not a lack of supply, and the samples' served share counts it "
            "as unserved. Give prices at most c_shed (or a higher c_shed) for a schedule that "
            "serves the load"]


def seed_soc_notes(st: ScheduleSettings, devices: Devices) -> list[str]:
    """A note when the seed's SOC form lets storage gain (or not lose) energy.

    The seed's (20), the default, is ``soc_h = soc_{h-1} + eta_ch pch_h - eta_dis pdis_h``:
    charging ``E`` MWh from the grid stores ``eta_ch E``, and draining that delivers
    ``eta_ch E / eta_dis``, so a charge-discharge cycle returns ``eta_ch / eta_dis`` of the
    energy charged: more than was charged when ``eta_ch > eta_dis`` (the storage is a source of
    energy), all of it when they are equal. The physical form (``--physical-soc``: ``soc`` drains
    ``pdis / eta_dis``) returns ``eta_ch eta_dis < 1``. Empty with the physical form or when
    every unit's ``eta_ch / eta_dis`` is below 1."""
    ess = devices.table(DeviceKind.ESS)
    if st.soc_form is not SocForm.SEED or not ess.height:
        return []
    gain, even = [], []
    for uid, ch, dis in zip(ess["id"].to_list(), ess["eta_ch"].to_list(),
                            ess["eta_dis"].to_list(), strict=True):
        ratio = float(ch) / float(dis)
        text = f"{uid} ({float(ch):g}/{float(dis):g} = {ratio:.4g})"
        if ratio > 1 + 1e-12:
            gain.append(text)
        elif ratio >= 1 - 1e-12:
            even.append(text)
    if not gain and not even:
        return []
    parts = []
    if gain:
        parts.append(f"{', '.join(gain)} gain energy per cycle (the storage is a net source)")
    if even:
        parts.append(f"{', '.join(even)} lose none (their efficiencies are not applied)")
    return ["seed SOC form (the default, soc += eta_ch pch - eta_dis pdis): a charge-discharge "
            "cycle returns eta_ch/eta_dis of the energy charged; " + "; ".join(parts)
            + ". --physical-soc (soc -= pdis/eta_dis, round trip eta_ch*eta_dis) is the "
            "physical form"]


def smallest_realised_load(d: ScheduleData) -> np.ndarray:
    """Per hour, the least total load of the budget set [MW]: ``sum_n pd_{n,h} (1 - gamma
    u_n)`` with ``u_n = 1`` where bus ``n``'s load is uncertain (``budget_load > 0``: with a
    temporal budget of at least one hour every uncertain bus may sit at ``-gamma`` in any one
    hour), and with the aggregate reading not below ``low`` times the hour's forecast total.
    The certain buses (``--uncertain-buses`` leaves them out) keep their forecast."""
    unc = (d.budget_load > 0) if d.budget_load is not None else np.zeros(d.n, bool)
    low = (d.pd * (1 - d.gamma * unc[None, :])).sum(1)
    if d.aggregate is not None:
        low = np.maximum(low, d.aggregate[0] * d.pd.sum(1))
    return np.asarray(low, float)


def commitment_problems(d: ScheduleData) -> list[Problem]:
    """With day-ahead commitment the second stage must stay feasible (relatively complete
    recourse: C&CG needs no feasibility cuts): the committed units' minimum output must find
    a consumer in every realisation, since nothing is exported (``ps >= 0``). Necessary and
    checked here: ``sum_g p_min,g <= min_h`` :func:`smallest_realised_load` (the uncertain
    buses at ``-gamma``, the others at their forecast; storage and EV charging may absorb
    more, but need not)."""
    if not d.commit or d.dg_pmin is None or not len(d.dg_bus):
        return []
    low = float(smallest_realised_load(d).min())
    total = float(d.dg_pmin.sum())
    if total <= low + 1e-9:
        return []
    return [Problem(ProblemKind.INVALID_VALUE, "devices.dg",
                    f"the DG minimum outputs ({total:g} MW in all) exceed the smallest realised "
                    f"hourly load ({low:g} MW; nothing is exported)", (), "p_min_mw",
                    "lower p_min_mw or schedule without --dg-commitment")]


def export_problems(d: ScheduleData, gen_ids: tuple[str, ...] = ()) -> list[Problem]:
    """The network's own generators (fixed injections ``p_fix``) must find a consumer in every
    hour, since the substation does not take power back (``ps >= 0``, seed 004's purchase):
    ``sum_n p_fix_{n,h} <= low_h + sum_s p_ess,s + sum_k p_ev,k,h`` with ``low_h`` the
    :func:`smallest_realised_load`, plus the most that storage and EV charging can absorb
    (necessary; renewables and DG can be spilled or turned down). Above it the schedule has
    no solution: a typed problem naming the hours and the generators, not a master that ends
    infeasible."""
    if d.p_fix is None:
        return []
    fixed = d.p_fix.sum(1)
    room = smallest_realised_load(d) + float(d.ess_p.sum()) + (
        d.ev_max.sum(1) if d.ev_max.size else 0.0)
    over = np.flatnonzero(fixed > room + 1e-9)
    if not len(over):
        return []
    h = int(over[np.argmax(fixed[over] - room[over])])
    hours = ", ".join(str(int(k)) for k in over[:8]) + (" ..." if len(over) > 8 else "")
    return [Problem(ProblemKind.INVALID_VALUE, "generators",
                    f"the network's own generators inject more than the feeder can take at "
                    f"hour(s) {hours} (hour {h}: {fixed[h]:.4g} MW against at most "
                    f"{room[h]:.4g} MW of load and charging): the schedule's substation buys "
                    "power but takes none back", gen_ids, "p_mw",
                    "lower the generators' profile at those hours, or add storage to absorb "
                    "the surplus")]


def uncertain_bus_problems(net: Network, d: ScheduleData, st: ScheduleSettings
                           ) -> list[Problem]:
    """A bus named in ``uncertain_buses`` (``--uncertain-buses``) whose load cannot deviate:
    the substation bus (the model never lets its load deviate), a bus without a load, or one
    whose loads draw no active power in any hour of the horizon (a deviation is
    ``pd_{n,h} gamma``, zero there). Such a name is a mistake (a typo, a bus index for a load
    index), so it is an error naming the buses, with a hint listing the buses that carry load;
    where every named bus is such a bus the load budget set is empty and the robust schedule
    the forecast's. Before (user test ut34_schedule #2), ``--uncertain-buses 0,1`` (the
    substation and a bus without load) ran a "robust" schedule with 0 deviations and its worst
    case equal to the forecast, without a word. Unknown bus ids are
    :func:`settings_problems`'. There is no option that selects renewable units (a renewable
    budget covers every PV and wind unit), so nothing alike is checked for them."""
    if not st.uncertain_buses or d.budget_load is None or not d.gamma > 0:
        return []
    pu = to_per_unit(net, 1.0)
    index = {str(b): i for i, b in enumerate(pu.bus_ids)}
    demand = d.pd.sum(0)
    with_element = {int(b) for b in pu.load_bus}
    why: dict[str, str] = {}
    for b in st.uncertain_buses:
        i = index.get(b)
        if i is None:  # an unknown bus: settings_problems names it
            continue
        if i == d.root:
            why[b] = "the substation bus"
        elif i not in with_element:
            why[b] = "no load"
        elif not demand[i] > 0:
            why[b] = f"its loads draw no active power in hours 0..{d.hours - 1}"
    if not why:
        return []
    carry = [str(pu.bus_ids[i]) for i in np.flatnonzero(demand > 0) if i != d.root]
    named = ", ".join(f"{b} ({w})" for b, w in why.items())
    hint = ("name buses whose load may deviate" + (
        f": the buses with load are {', '.join(carry[:20])}"
        + (f" ... ({len(carry)} in all)" if len(carry) > 20 else "") if carry else
        " (this network has none)") + f"; or leave {option_ref('uncertain_buses')} out (every "
        "load bus)")
    if len(why) == len(set(st.uncertain_buses) & set(index)):
        message = (f"none of the uncertain buses ({option_ref('uncertain_buses')}) has a load "
                   f"that can deviate: {named}; the load budget set would hold the forecast "
                   "alone")
    else:
        message = (f"uncertain bus(es) ({option_ref('uncertain_buses')}) without a load that "
                   f"can deviate: {named}; their share of the budget set would be empty")
    return [Problem(ProblemKind.INVALID_VALUE, "options", message, tuple(why),
                    "uncertain_buses", hint)]


# ----- checks of an answer -------------------------------------------------------------------
def is_radial(d: ScheduleData, closed: np.ndarray) -> bool:
    """The closed branches form a spanning tree of the buses (networkx)."""
    g = nx.MultiGraph()
    g.add_nodes_from(range(d.n))
    g.add_edges_from((int(a), int(b)) for a, b, c in zip(d.f, d.t, closed, strict=True)
                     if c > 0.5)
    return bool(nx.is_tree(g))


def answer_violations(d: ScheduleData, closed_by_hour: np.ndarray, point: dict[str, np.ndarray],
                      pd_real: np.ndarray, res_real: np.ndarray, tol: float = 1e-6
                      ) -> list[str]:
    """What an answer breaks: a non-radial hour, SOC outside ``[0, E]`` or not ending at its
    start, simultaneous charge and discharge, DSM totals not conserved or outside ``+-eps``,
    renewables above the realised forecast."""
    H, n = d.hours, d.n
    out: list[str] = []
    for h in range(H):
        if not is_radial(d, closed_by_hour[h]):
            out.append(f"hour {h}: the closed branches are not a spanning tree")
            break
    S = len(d.ess_bus)
    if S:
        soc = point["soc"].reshape(H, S)
        if (soc < -tol).any() or (soc > d.ess_e + tol).any():
            out.append("SOC outside [0, E]")
        if (soc[-1] < d.soc0 - tol).any():
            out.append("final SOC below the initial one")
        both = np.minimum(point["pch"], point["pdis"]).max()
        if both > tol:
            out.append(f"simultaneous charge and discharge ({both:.3g} MW)")
    pdr = point["pdr"].reshape(H, n)
    if np.abs(pdr.sum(1) - pd_real.sum(1)).max() > 1e-5 * max(1.0, pd_real.sum(1).max()):
        out.append("DSM does not conserve an hour's total load")
    if (pdr > (1 + d.eps) * pd_real + 1e-6).any() or (pdr < (1 - d.eps) * pd_real - 1e-6).any():
        out.append("DSM outside +-eps")
    if len(d.res_bus) and (point["pres"].reshape(res_real.shape) > res_real + 1e-6).any():
        out.append("renewable use above the forecast")
    return out
