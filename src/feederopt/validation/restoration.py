"""The AC check of a restoration (``feederopt restore``, each scenario of ``feederopt plan``):
pandapower's Newton-Raphson power flow (:func:`feederopt.validation.ac.ac_power_flow`, the same
check as ``solve``'s) of the operation the LinDistFlow model chose.

What runs: the operation the model chose, on the user's network. The model's closed lines are
closed, the rest open; a broken line (not hardened) is out of service, both ends (not merely
opened by a switch at one end, which would leave the damaged line charged from the other).
Each sheddable load is reduced by its shed share (P and Q alike, :func:`loads_set`). The
network's own generators and shunts are at their set-points and data steps where the model
keeps them connected, and out of service where it has them off (``Operation.gen_off`` and
``shunt_off``: disconnected in a backup-DG island, or de-energised). Each producing backup DG
is a fixed injection (its P and Q from the model) where its part is fed from a source; in an
island (a part that no closed line joins to a source) the sited DG with the most headroom
(size less model output; ties: the larger output) is the grid-forming unit (an ext_grid
holding the model's voltage there, so the island's
losses come from it; reported against its rating) and the island's other DGs are fixed
injections at the model's P and Q (before, each was a slack, and pandapower's split of the
island's load among them bore no relation to the model's dispatch). A part with
neither is de-energised in AC too (pandapower leaves it out). A pandapower ``ward`` or
``xward`` at a bus the model de-energises is out of service; an xward in a backup-DG island runs
without its internal voltage source, as the model counts it (:func:`_wards_as_modelled`).

Reported: convergence, AC losses (the model has none: LinDistFlow is lossless), V_min/V_max in
AC and in the model over the energised buses, the largest |V_model - V_ac|, and the verdict
whether the bus voltage limits and line ratings hold in AC (``limits_hold``), with the buses
and lines that break them. The check also fails (``limits_hold`` false, never "limits hold")
when the AC run is not the model's operation:

* a bus whose load the model serves (its load less its shed above :data:`SERVED_TOL_KW`)
  but that no closed line joins to a source or a sited DG, or that has no voltage in AC
  (``unsupplied_buses``): the model would supply it without a source;
* a grid-forming backup DG whose reactive output in AC is outside the model's box
  ``0 <= Q <= Qmax`` (the ``dg_q`` rows of :mod:`feederopt.formulations.resilience`; Qmax is
  ``dg_q_max_kvar``, ``--dg-size``), within the same tolerance as its P against Pmax,
  ``Q > Qmax (1 + TOLERANCE) + 1e-6 kW`` or ``Q < -(TOLERANCE Qmax + 1e-6)``
  (``dg_q_out``, ``dg_island_kvar``; user test ut45b_resil #1: 1,127.5 kvar in AC against
  1,100 kvar passed as "limits hold in AC");
* a backup DG whose P in AC differs from the model's by more than
  ``DG_OUTPUT_SHARE * Pmax + losses`` (:func:`dg_output_tolerance_kw`: 5 % of its size plus
  the AC losses of the whole run, which the lossless model has not and the grid-forming DG
  supplies) (``dg_output_mismatch``, ``dg_model_kw``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.network.container import Network

if TYPE_CHECKING:
    from feederopt.validation.ac import AcResult

#: Tolerance of the AC verdict on voltages [p.u.] and loadings [share of the rating].
TOLERANCE = 1e-6

#: The share of its size by which a backup DG's AC output may differ from the model's, beyond
#: the AC losses (:func:`dg_output_tolerance_kw`).
DG_OUTPUT_SHARE = 0.05

#: The served load [kW] of a bus below which the model is taken not to serve it.
SERVED_TOL_KW = 1e-3


def dg_output_tolerance_kw(size_kw: float, losses_kw: float) -> float:
    """How far a backup DG's AC output [kW] may be from the model's: ``DG_OUTPUT_SHARE``
    of its size ``size_kw`` plus the AC run's losses ``losses_kw`` (the lossless LinDistFlow
    has none; a grid-forming DG supplies its island's), plus 1e-3 kW."""
    return DG_OUTPUT_SHARE * size_kw + max(losses_kw, 0.0) + 1e-3


def _num(x: float) -> float | None:
    return round(float(x), 6) + 0.0 if math.isfinite(float(x)) else None


@dataclass(frozen=True)
class RestorationAcCheck:
    """The AC power flow of one restoration (module docstring)."""

    converged: bool
    losses_kw: float
    min_voltage_pu: float  # AC, over the energised buses
    max_voltage_pu: float
    model_min_voltage_pu: float  # LinDistFlow (lossless), the same buses
    model_max_voltage_pu: float
    max_voltage_diff_pu: float  # max |V_model - V_ac|
    limits_hold: bool
    low_voltage_buses: list[str] = field(default_factory=list)
    high_voltage_buses: list[str] = field(default_factory=list)
    overloaded_lines: list[str] = field(default_factory=list)
    #: Buses the model supplies that the AC power flow leaves without a source.
    unsupplied_buses: list[str] = field(default_factory=list)
    #: P [kW] of each grid-forming backup DG (its island's load and losses) against its size.
    dg_island_kw: dict[str, float] = field(default_factory=dict)
    #: The grid-forming backup DGs whose island needs more P in AC than their size.
    dg_over_size: list[str] = field(default_factory=list)
    message: str = ""
    #: The backup DGs whose AC output differs from the model's beyond
    #: :func:`dg_output_tolerance_kw`, and each sited DG's model output [kW].
    dg_output_mismatch: list[str] = field(default_factory=list)
    dg_model_kw: dict[str, float] = field(default_factory=dict)
    #: The closed lines whose flow in the model itself has ``|S| = sqrt(P^2 + Q^2)`` above the
    #: rating (none with the rating polygon (5d'), which keeps ``|S| <= Pbar``).
    model_overloaded_lines: list[str] = field(default_factory=list)
    #: pandapower's power flow itself (its per-bus voltages, per-branch flows and losses, by
    #: the network's bus and branch ids): the tables of ``restore --out``
    #: (:func:`feederopt.results.resilience.restore_tables`); not in :meth:`to_dict`.
    power_flow: AcResult | None = field(default=None, repr=False, compare=False)
    #: Q [kvar] of each grid-forming backup DG in AC, and those outside ``[0, Qmax]``.
    dg_island_kvar: dict[str, float] = field(default_factory=dict)
    dg_q_out: list[str] = field(default_factory=list)

    @property
    def cause(self) -> str:
        """Why the AC check can break a limit the model keeps: the model's own ``|S|`` over
        a rating when it is (it is then no AC effect), else the model's approximations (no
        losses, linear voltages, ratings on ``|S|`` at the flows' 1 p.u. currents)."""
        if self.model_overloaded_lines:
            return ("the model's own flows exceed the rating, |S| = sqrt(P^2 + Q^2) > Pbar, on "
                    + ", ".join(self.model_overloaded_lines))
        return ("the model's LinDistFlow is lossless and linear and rates |S| at its "
                "lossless flows; the AC operating point is the true one")

    @property
    def verdict(self) -> str:
        if not self.converged:
            return "AC power flow did not converge: " + (self.message or "no solution")
        if self.limits_hold:
            return "limits hold in AC"
        parts = []
        if self.low_voltage_buses:
            parts.append(f"V below v_min at {', '.join(self.low_voltage_buses)}")
        if self.high_voltage_buses:
            parts.append(f"V above v_max at {', '.join(self.high_voltage_buses)}")
        if self.overloaded_lines:
            parts.append(f"over the rating: {', '.join(self.overloaded_lines)}")
        if self.unsupplied_buses:
            parts.append(f"no source in AC: {', '.join(self.unsupplied_buses)}")
        if self.dg_over_size:
            parts.append(f"backup DG over its size: {', '.join(self.dg_over_size)}")
        if self.dg_q_out:
            # a DG below 0 absorbs what the lossless model has not: the island's line
            # charging (ut47_resil #2: own8's DG 6 at -14.66 kvar, every load at Q = 0)
            q = ", ".join(f"{b} at {self.dg_island_kvar.get(b, math.nan):.2f} kvar"
                          for b in self.dg_q_out)
            parts.append(f"backup DG reactive output outside [0, its size]: {q} (a backup "
                         "DG absorbs no reactive power; below 0 it absorbs its island's line "
                         "charging or reactive losses, which the model has not)")
        if self.dg_output_mismatch:
            parts.append("backup DG output in AC differs from the model's: "
                         f"{', '.join(self.dg_output_mismatch)}")
        return "limits broken in AC: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "converged": self.converged,
            "losses_kw": _num(self.losses_kw),
            "min_voltage_pu": _num(self.min_voltage_pu),
            "max_voltage_pu": _num(self.max_voltage_pu),
            "model_min_voltage_pu": _num(self.model_min_voltage_pu),
            "model_max_voltage_pu": _num(self.model_max_voltage_pu),
            "model": "LinDistFlow (lossless)",
            "max_voltage_diff_pu": _num(self.max_voltage_diff_pu),
            "limits_hold": self.limits_hold,
            "verdict": self.verdict,
            "low_voltage_buses": self.low_voltage_buses,
            "high_voltage_buses": self.high_voltage_buses,
            "overloaded_lines": self.overloaded_lines,
            "unsupplied_buses": self.unsupplied_buses,
            "dg_island_kw": self.dg_island_kw,
            "dg_over_size": self.dg_over_size,
            "dg_island_kvar": self.dg_island_kvar,
            "dg_q_out": self.dg_q_out,
            "dg_model_kw": self.dg_model_kw,
            "dg_output_mismatch": self.dg_output_mismatch,
            "message": self.message,
            "model_overloaded_lines": self.model_overloaded_lines,
            "cause": self.cause,
        }


def restoration_within_limits(checks: Iterable[Mapping[str, Any] | None]) -> bool | None:
    """The one verdict of a ``restore`` or ``plan`` result (its JSON's ``within_limits``;
    false is the command's exit code 4, as for ``solve``, ``check``, ``partition`` and
    ``schedule``: README, "Exit codes"), from the AC checks of its operations (``ac_check``
    of a restoration, each scenario's ``ac_check`` of a plan, as :meth:`RestorationAcCheck.
    to_dict` writes them; None where the check did not run):

    * False when one operation's AC check breaks a limit (``limits_hold`` false: a bus
      outside ``[v_min, v_max]``, a branch over its rating, a backup DG over its size (P, or
      Q outside ``[0, Qmax]``) or off
      the model's output, a bus the model serves without a source in AC, or no convergence);
      one is enough, no threshold on the share of scenarios, as a partition's samples;
    * None when no AC check ran (``--no-ac-check``, or every scenario's left out past the
      time limit);
    * True otherwise: every AC check that ran holds.

    Before (user test ut41_cli #2), ``restore case33bw --broken 2`` exited 0 with
    ``limits_hold`` false (AC V_min 0.8943 p.u. against v_min 0.9 at 13 buses)."""
    ran = [c for c in checks if c is not None]
    if any(not c.get("limits_hold") for c in ran):
        return False
    return True if ran else None


def restoration_verdict_causes(checks: Iterable[tuple[str, Mapping[str, Any] | None]]
                               ) -> list[str]:
    """Why :func:`restoration_within_limits` is false: per operation whose AC check breaks a
    limit, its name (a plan's scenario; ``""`` for a restoration's one operation) and the
    check's verdict, ``"A: limits broken in AC: V below v_min at 3, 4"``; none when it is
    not false."""
    return [(f"{name}: " if name else "") + str(c.get("verdict") or "limits broken in AC")
            for name, c in checks if c is not None and not c.get("limits_hold")]


def restoration_ac(network: Network, problem: Any, op: Any, sites: np.ndarray | None = None,
                   broken: Sequence[int] = ()) -> RestorationAcCheck:
    """The AC check of ``op`` (an :class:`~feederopt.algorithms.resilience.Operation` of
    ``problem``, a :class:`~feederopt.problems.resilience.ResilienceProblem` built from
    ``network``); ``sites``: 0/1 per DG candidate (the sited ones may form islands);
    ``broken``: the line indices the disaster broke and that are not hardened (out of service
    in the AC run)."""
    from feederopt.validation.ac import ac_power_flow
    from feederopt.validation.montecarlo import loads_set

    g = problem.grid
    kw = problem.kw_per_pu
    closed = np.asarray(op.closed) > 0.5
    # the loads: each sheddable one less its shed share
    live = network.loads.filter(pl.col("in_service").fill_null(True))
    ids = [str(x) for x in live["id"].to_list()]
    p = live["p_mw"].cast(pl.Float64).fill_null(0.0).to_numpy().copy()
    q = live["q_mvar"].cast(pl.Float64).fill_null(0.0).to_numpy().copy()
    pos, _, shed_p, _, _ = g.sheddable()
    names = problem.shed_ids
    share = {names[k]: float(op.shed_load_pu[k] / shed_p[k]) if shed_p[k] > 0 else 0.0
             for k in range(len(pos))} if g.shed_bus is not None else {}
    for k, lid in enumerate(ids):
        keep = 1.0 - min(max(share.get(lid, 0.0), 0.0), 1.0)
        p[k] *= keep
        q[k] *= keep
    # backup DGs: sgens where their part reaches a source over closed lines, else a slack
    fed = _reachable(g, closed, np.flatnonzero(g.is_source))
    dg_p = np.asarray(op.dg_p, float)
    dg_q = np.asarray(getattr(op, "dg_q", np.zeros(len(dg_p))), float)
    site = np.zeros(len(g.dg_bus)) if sites is None else np.asarray(sites, float)
    sgens, slacks, island_dg = [], [], []
    net_pos = {str(b): i for i, b in enumerate(network.buses["id"].to_list())}
    # the island of each DG that no closed line joins to a source: one grid-forming DG each
    # (the most headroom, Pmax - P: it takes the island's AC losses, which the lossless model
    # has not; the largest output would flag a DG dispatched to its size as over it where
    # another has room, user test ut40_recheck_d; ties: the larger output), the others fixed
    # at the model's P and Q
    forming: dict[int, int] = {}  # island (its smallest bus) -> DG candidate position
    island_of: dict[int, int] = {}
    room = np.asarray(g.dg_p_max, float) - dg_p
    for k, b in enumerate(g.dg_bus):
        if int(b) not in fed and (site[k] > 0.5 or dg_p[k] * kw > 1e-6):
            key = min(_reachable(g, closed, np.array([int(b)])))
            island_of[k] = key
            if key not in forming or (room[k], dg_p[k]) > (room[forming[key]],
                                                           dg_p[forming[key]]):
                forming[key] = k
    for k, b in enumerate(g.dg_bus):
        bus = net_pos[problem.bus_ids[int(b)]]
        if k in island_of and forming[island_of[k]] == k:
            slacks.append((bus, float(np.sqrt(max(op.u[int(b)], 0.0)))))
            island_dg.append(k)
        elif (int(b) in fed or k in island_of) and (dg_p[k] * kw > 1e-6
                                                     or dg_q[k] * kw > 1e-6):
            sgens.append((bus, dg_p[k] * kw / 1e3, dg_q[k] * kw / 1e3))
    sited_dg = [k for k in range(len(g.dg_bus)) if site[k] > 0.5 or dg_p[k] * kw > 1e-6]
    dg_model = {problem.bus_ids[int(g.dg_bus[k])]: round(float(dg_p[k] * kw), 6)
                for k in sited_dg}
    out = np.zeros(g.m, bool)
    out[np.asarray(list(broken), int)] = True
    out &= ~closed  # a hardened broken line the model keeps closed is in service
    gen_off = [net_pos[problem.bus_ids[int(b)]] for b in getattr(op, "gen_off", ())]
    sh_off = [net_pos[problem.bus_ids[int(b)]] for b in getattr(op, "shunt_off", ())]
    # the model's energised buses: reachable from a source or a producing/sited DG
    roots = set(np.flatnonzero(g.is_source).tolist()) | {int(g.dg_bus[k]) for k in island_of}
    energised = sorted(_reachable(g, closed, np.array(sorted(roots), int)))
    # buses whose load the model serves without any closed path to a source or a sited DG
    # (user test ut40_resreal: 1,410 kW reachable, 3,000 kW served)
    served_kw = (np.asarray(g.p_load, float) - np.asarray(op.shed_pu, float)) * kw
    unfed = [problem.bus_ids[i] for i in np.flatnonzero(served_kw > SERVED_TOL_KW)
             if int(i) not in set(energised)]
    dead_ids = {problem.bus_ids[i] for i in range(g.n)} - {problem.bus_ids[i] for i in energised}
    in_island = {problem.bus_ids[i] for i in energised} - {
        problem.bus_ids[i] for i in fed}
    no_shunt = {problem.bus_ids[int(b)] for b in getattr(op, "shunt_off", ())}
    with loads_set(network, p, q), _wards_as_modelled(network, dead_ids, in_island,
                                                      no_shunt) as sourceless:
        ac = ac_power_flow(network, closed, extra_sgens=sgens, extra_slacks=slacks,
                           off_generator_buses=gen_off, off_shunt_buses=sh_off,
                           off_branches=out)
    model_v = np.sqrt(np.maximum(np.asarray(op.u, float), 0.0))
    mv = model_v[energised] if energised else np.array([math.nan])
    if not ac.converged:
        return RestorationAcCheck(False, math.nan, math.nan, math.nan, float(np.nanmin(mv)),
                                  float(np.nanmax(mv)), math.nan, False, unsupplied_buses=unfed,
                                  message=ac.message, dg_model_kw=dg_model, power_flow=ac)
    index = {b: i for i, b in enumerate(ac.bus_ids)}
    # an xward run without its source: its auxiliary bus carries no current, at its bus's V
    vac = np.array([ac.vm_pu[index[sourceless.get(problem.bus_ids[i], problem.bus_ids[i])]]
                    for i in energised])
    v_min = np.sqrt(g.u_min[energised])
    v_max = np.sqrt(g.u_max[energised])
    src = g.is_source[energised]
    names_e = [problem.bus_ids[i] for i in energised]
    dead = unfed + [names_e[k] for k in np.flatnonzero(~np.isfinite(vac))]
    ok = np.isfinite(vac)
    low = [names_e[k] for k in np.flatnonzero(ok & ~src & (vac < v_min - TOLERANCE))]
    high = [names_e[k] for k in np.flatnonzero(ok & ~src & (vac > v_max + TOLERANCE))]
    load = ac.loading_percent
    over = [ac.branch_ids[k] for k in np.flatnonzero(np.isfinite(load)
                                                      & (load > 100.0 * (1 + TOLERANCE)))]
    island: dict[str, float] = {}
    island_q: dict[str, float] = {}
    big: list[str] = []
    q_out: list[str] = []
    for k in island_dg:
        b = int(g.dg_bus[k])
        p_mw = ac.extra.get(f"slack_p_mw:{net_pos[problem.bus_ids[b]]}", math.nan)
        q_mvar = ac.extra.get(f"slack_q_mvar:{net_pos[problem.bus_ids[b]]}", math.nan)
        island[problem.bus_ids[b]] = round(p_mw * 1e3, 6)
        island_q[problem.bus_ids[b]] = round(q_mvar * 1e3, 6)
        if p_mw * 1e3 > float(g.dg_p_max[k] * kw) * (1 + TOLERANCE) + 1e-6:
            big.append(problem.bus_ids[b])
        q_max = float(g.dg_q_max[k] * kw)
        if (q_mvar * 1e3 > q_max * (1 + TOLERANCE) + 1e-6
                or q_mvar * 1e3 < -(q_max * TOLERANCE + 1e-6)):
            q_out.append(problem.bus_ids[b])
    mismatch = []
    for k in sited_dg:
        bus_id = problem.bus_ids[int(g.dg_bus[k])]
        ac_kw = island.get(bus_id, dg_model[bus_id])  # a fixed injection: the model's P
        if abs(ac_kw - dg_model[bus_id]) > dg_output_tolerance_kw(float(g.dg_p_max[k] * kw),
                                                                   float(ac.losses_kw)):
            mismatch.append(bus_id)
    fine = not (low or high or over or dead or big or mismatch or q_out)
    diff = np.abs(vac[ok] - model_v[energised][ok])
    s_model = np.hypot(np.asarray(op.p, float), np.asarray(op.q, float))
    model_over = [problem.branch_ids[k] for k in np.flatnonzero(
        closed & (s_model > g.p_cap * (1 + TOLERANCE) + 1e-9))]
    return RestorationAcCheck(
        True, ac.losses_kw, float(np.nanmin(vac)) if ok.any() else math.nan,
        float(np.nanmax(vac)) if ok.any() else math.nan, float(np.nanmin(mv)),
        float(np.nanmax(mv)), float(diff.max()) if diff.size else math.nan, fine, low, high,
        over, dead, island, big, ac.message, mismatch, dg_model, model_over, power_flow=ac,
        dg_island_kvar=island_q, dg_q_out=q_out)


@contextmanager
def _wards_as_modelled(network: Network, dead: set[str], island: set[str],
                       no_shunt: set[str]) -> Iterator[dict[str, str]]:
    """The user's pandapower ``ward`` and ``xward`` elements as the model operates them, for
    one AC run of the network's cached pandapower model (restored on exit; the user's own net
    is a different object and never touched).

    * At a bus the model leaves de-energised (``dead``, bus ids): out of service (their load
      part is shed in full and their shunt part is off in the model).
    * An ``xward`` at a bus in a backup-DG island (``island``): its internal voltage source
      (a PV generator behind ``r_ohm``/``x_ohm`` holding ``vm_pu``) is a generator at P = Q = 0
      in the model and the island's only grid-forming unit is the DG, so it runs as a ward:
      its load part (``ps_mw``/``qs_mvar``, less the shed share already written) and its
      shunt part (``pz_mw``/``qz_mvar``; off where the model has the bus's shunts off,
      ``no_shunt``), without the source. Elsewhere an xward runs as pandapower builds it.

    Yields the auxiliary bus (``xward:<index>``) of each xward run without its source -> its
    bus id (no current flows in its branch: the auxiliary bus is at the bus's voltage).
    """
    from feederopt.io.pandapower import OriginModel
    from feederopt.validation.ac import pandapower_model

    model = pandapower_model(network)
    if not isinstance(model, OriginModel):
        yield {}
        return
    import pandapower as pp

    net = model.net
    undo: list[tuple[str, Any, Any]] = []
    added: list[int] = []
    sourceless: dict[str, str] = {}
    try:
        for table in ("ward", "xward"):
            if table not in net or not len(net[table]):
                continue
            rows = net[table]
            for idx in rows.index[rows["in_service"].astype(bool)]:
                bus = str(int(rows.at[idx, "bus"]))
                if bus in dead or (table == "xward" and bus in island):
                    undo.append((table, idx, True))
                    rows.at[idx, "in_service"] = False
                if table == "xward" and bus in island and bus not in dead:
                    sourceless[f"xward:{idx}"] = bus
                    shunt = bus not in no_shunt
                    added.append(int(pp.create_ward(
                        net, int(rows.at[idx, "bus"]), ps_mw=float(rows.at[idx, "ps_mw"]),
                        qs_mvar=float(rows.at[idx, "qs_mvar"]),
                        pz_mw=float(rows.at[idx, "pz_mw"]) if shunt else 0.0,
                        qz_mvar=float(rows.at[idx, "qz_mvar"]) if shunt else 0.0,
                        name=f"feederopt: xward {idx} without its source")))
        yield sourceless
    finally:
        for table, idx, old in reversed(undo):
            net[table].at[idx, "in_service"] = old
        if added:
            net["ward"] = net["ward"].drop(added)


def _reachable(g: Any, closed: np.ndarray, roots: np.ndarray) -> set[int]:
    from feederopt.network.topology import reachable

    return reachable(g.f, g.t, closed, roots)
