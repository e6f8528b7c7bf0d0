"""The internal model: per-unit, integer-indexed NumPy arrays derived once from a :class:`Network`.

Bases: the power base ``s_base_mva`` is common; every bus has the voltage base ``vn_kv``, so a
branch's impedance base is ``vn_kv(from)**2 / s_base_mva`` Ohm and a bus's current base is
``s_base_mva / (sqrt(3) * vn_kv)`` kA. Only in-service branches, loads and generators enter.

A branch is MATPOWER's (and pandapower's) pi model (Zimmerman et al., "MATPOWER: steady-state
operations, planning and analysis tools", IEEE TPWRS 26(1), 2011, eq. (3.2)): an ideal
transformer ``tap : 1`` at the from end, then the shunt ``g_from + j b_from`` (seen at the
voltage ``|V_f| / tap``), the series impedance ``r + j x`` and the shunt ``g_to + j b_to`` at
the to end. Shunts are admittances: a shunt at squared voltage ``v`` consumes ``g v`` and
injects ``b v``.
A generator with a voltage set-point (``gen_v_set``, pandapower's ``gen``) makes its bus a PV
bus: ``|V| = v_set`` with its reactive power free within ``gen_q_min..gen_q_max`` (infinite when
the limits are not enforced, as in pandapower's default ``runpp(enforce_q_lims=False)``). Such
a bus with unenforced limits is held at its set-point (``gen_held``), as a source's bus
without an OLTC (``source_held``): no voltage band binds it (``held_at_set_point``).
Results computed on this model map back to user ids through ``bus_ids`` and ``branch_ids``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from feederopt.network.limits import held_by_generator, held_by_source

if TYPE_CHECKING:  # the container validates through network.validate, which uses this
    from feederopt.network.container import Network


@dataclass(frozen=True)
class PerUnitNetwork:
    s_base_mva: float
    bus_ids: list[str]
    vn_kv: np.ndarray
    v_min: np.ndarray  # |V| lower limit [p.u.]
    v_max: np.ndarray
    is_source: np.ndarray  # bool
    v_set: np.ndarray
    source_p_max: np.ndarray  # inf where unlimited
    source_s_max: np.ndarray
    branch_ids: list[str]
    f: np.ndarray  # from bus index
    t: np.ndarray  # to bus index
    r: np.ndarray
    x: np.ndarray
    b: np.ndarray  # total shunt susceptance b_from + b_to [p.u.]
    i_max: np.ndarray  # series-current limit [p.u. of the from-bus base]; inf where none
    s_max: np.ndarray  # apparent-power limit [p.u.]; inf where none
    switchable: np.ndarray  # bool
    normally_open: np.ndarray  # bool
    switch_cost: np.ndarray
    p_load: np.ndarray  # per bus [p.u.]
    q_load: np.ndarray
    gen_bus: np.ndarray  # per generator, bus index
    gen_ids: list[str]
    gen_p_min: np.ndarray
    gen_p_max: np.ndarray
    gen_q_min: np.ndarray
    gen_q_max: np.ndarray
    gen_p_set: np.ndarray
    gen_q_set: np.ndarray
    gen_cost: np.ndarray  # per p.u. hour
    q_shunt: np.ndarray  # per bus, capacitor injection at 1 p.u. voltage [p.u.]
    tap: np.ndarray = field(default_factory=lambda: np.zeros(0))  # off-nominal ratio, from end
    g_from: np.ndarray = field(default_factory=lambda: np.zeros(0))  # branch-end shunts [p.u.]
    b_from: np.ndarray = field(default_factory=lambda: np.zeros(0))
    g_to: np.ndarray = field(default_factory=lambda: np.zeros(0))
    b_to: np.ndarray = field(default_factory=lambda: np.zeros(0))
    p_shunt: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per bus, g at 1 p.u.
    # An open branch energised at one end: that bus, and the admittance it sees there [p.u.].
    dangle_bus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # -1: none
    g_dangle: np.ndarray = field(default_factory=lambda: np.zeros(0))
    b_dangle: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per bus: the conductance [p.u.] of the open ends of fixed-open branches left out of the
    # model (:func:`feederopt.problems.presolve.without_fixed_open`), a loss like ``g_dangle``
    # (their susceptance joins ``q_shunt``). Empty: none.
    g_open_end: np.ndarray = field(default_factory=lambda: np.zeros(0))
    load_ids: list[str] = field(default_factory=list)
    # The branches' ratings as given [p.u.] (``i_max`` before the hv-winding factor) and the
    # ratio at the rated winding voltages (``tap_rated_ratio``; ``tap`` where not given), by
    # which the AC check refers each end's current to the rating. Empty: ``i_max``, ``tap``.
    i_rating: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tap_rated: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per branch, the bus (index) at whose nominal voltage its current and rating are given in
    # kA (:meth:`current_base_ka`): the from bus, but the to bus of a branch whose from bus is
    # internal (a three-winding transformer's mv and lv windings start at its star point,
    # at the hv rated voltage, and are given at their own terminal). Empty: the from bus.
    i_end: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    load_bus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    load_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    load_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Voltage set-point [p.u.] per generator that controls its bus voltage (PV); NaN: PQ.
    gen_v_set: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per generator: the quadratic energy cost [per p.u.^2 hour] (c2 pg^2); empty: none.
    gen_cost2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per bus: a source's import price [per p.u. hour] (on ps); empty: none.
    source_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per bus: a source's quadratic import cost [per p.u.^2 hour] (c2 ps^2) and its constant
    # cost [per hour] (pandapower's ext_grid cp2_eur_per_mw2, cp0_eur); empty: none.
    source_cost2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    source_fixed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Reactive costs (pandapower's poly_cost cq1, cq2, sign +1 on the injected q): per
    # generator on qg [per p.u. hour, per p.u.^2 hour], per bus a source's on qs. Empty: none.
    gen_cost_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gen_cost_q2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    source_q_price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    source_q_cost2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Range of each bus's source set-point [p.u.] when an OLTC may move it (the DOPF); empty:
    # every source holds v_set.
    v_set_lo: np.ndarray = field(default_factory=lambda: np.zeros(0))
    v_set_hi: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per bus: a source's bus without an OLTC, whose voltage is its set-point in every model
    # and in the AC check, so that no voltage band binds it
    # (:func:`feederopt.network.limits.held_by_source`). Empty: none (see held_at_set_point).
    source_held: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Per bus: a bus that voltage-controlling generators hold at their set-point whatever
    # their reactive power (q limits not enforced; :func:`feederopt.network.limits.
    # held_by_generator`): the model fixes it (voltage_bounds), no band binds it. Empty: none.
    gen_held: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # The switching cost [kW] of the branches fixed away from their base-case state before the
    # model was built (held by --hold-closed/--hold-open, or closed by presolve): no longer
    # switchable, so ``y_cost`` charges them as this constant (one action each at its
    # ``switch_cost``). 0 for the network's own model.
    fixed_switching_kw: float = 0.0

    def current_end(self) -> np.ndarray:
        """Per branch, the bus (index) whose nominal voltage the branch's currents and rating
        in kA refer to (:attr:`i_end`; the from bus where not recorded)."""
        return self.i_end if self.i_end.size == self.n_branch else self.f

    def current_base_ka(self) -> np.ndarray:
        """Per branch, the kA of one p.u. of its series current, at the voltage of
        :meth:`current_end`: ``s_base / (sqrt(3) vn_end)``. The series current in p.u. is the
        to end's (a transformer's lv winding's; ``i_max_ka`` is that current referred to the
        from bus, :class:`~feederopt.network.schemas.Branch`), so at the from bus it is
        ``s_base / (sqrt(3) vn_from)`` per p.u. and at the to end ``s_base / (sqrt(3)
        vn_to)``. A three-winding transformer's mv winding of 8 MVA, 110/20 kV, is rated
        0.2309 kA at its 20 kV terminal (its nameplate, and pandapower's ``i_mv_ka`` is there),
        which read 0.04199 kA at the star point's 110 kV (user test ut40_realg5 #1)."""
        return self.s_base_mva / (math.sqrt(3.0) * self.vn_kv[self.current_end()])

    def source_v_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per bus, the lowest and highest source set-point [p.u.] (``v_set`` twice unless an
        OLTC may move it)."""
        if self.v_set_lo.size:
            return self.v_set_lo, self.v_set_hi
        return self.v_set, self.v_set

    def generator_held(self) -> np.ndarray:
        """Per bus, whether voltage-controlling generators hold it at their set-point whatever
        their reactive power (:attr:`gen_held`, :func:`feederopt.network.limits.
        held_by_generator`; all False when it was not recorded): a PV bus whose generators'
        q limits are not enforced. A PV bus with enforced limits is not held (it leaves its
        set-point at a limit, :func:`feederopt.formulations.distflow.pv_hull_rows`)."""
        if self.gen_held.size:
            return self.gen_held
        return np.zeros(self.n_bus, dtype=bool)

    def held_at_set_point(self) -> np.ndarray:
        """Per bus, whether it is held at a set-point, which no voltage band binds: a source's
        bus without an OLTC (:attr:`source_held`) or a bus that generators hold
        (:meth:`generator_held`); all False where not recorded. The model fixes its voltage
        (:func:`feederopt.formulations.distflow.voltage_bounds`), its slack rows and limit
        checks leave it out (:meth:`banded`), the AC check leaves it out of the band
        (:func:`feederopt.validation.ac_limits.ac_limit_violations`)."""
        held = self.generator_held()
        if self.source_held.size:
            return self.source_held | held
        return held

    def held_set_point(self) -> np.ndarray:
        """Per bus, the voltage [p.u.] it is held at (:meth:`held_at_set_point`): a source's
        ``v_set``, a PV bus's set-point (:meth:`pv_buses`); NaN where a band binds."""
        out = np.full(self.n_bus, np.nan)
        pv, v_pv, _, _ = self.pv_buses()
        out[pv] = v_pv
        out = np.where(self.generator_held(), out, np.nan)
        if self.source_held.size:
            out = np.where(self.source_held, self.v_set, out)
        return out

    def banded(self) -> np.ndarray:
        """Per bus, whether its voltage band binds in the models' limit rows and checks (the
        phase-1 slack rows, :func:`feederopt.problems.reconfiguration.violations_at`, the
        sweep's): neither a source (fixed at its set-point, or moved by its OLTC within the
        band) nor a bus that generators hold (:meth:`generator_held`)."""
        return ~self.is_source & ~self.generator_held()

    def fingerprint(self) -> str:
        """A SHA-256 of every field (the ids, every array's dtype, shape and bytes, the
        scalars): equal for two models of the same data, limits and switch states at the same
        ``s_base_mva``, different as soon as one number differs (a resistance scaled by 1.03,
        a voltage band replaced). What :mod:`feederopt.cases.literature` compares with the
        built-in case's own model before setting published figures beside a solve."""
        h = hashlib.sha256()
        for f in fields(self):
            value = getattr(self, f.name)
            h.update(f.name.encode())
            if isinstance(value, np.ndarray):
                a = np.ascontiguousarray(value)
                h.update(f"{a.dtype.str}{a.shape}".encode())
                h.update(a.tobytes())
            elif isinstance(value, list):
                h.update("\x1f".join(map(str, value)).encode())
            else:
                h.update(repr(value).encode())
        return h.hexdigest()

    @property
    def n_bus(self) -> int:
        return len(self.bus_ids)

    @property
    def n_branch(self) -> int:
        return len(self.branch_ids)

    @property
    def n_gen(self) -> int:
        return len(self.gen_ids)

    @property
    def sources(self) -> np.ndarray:
        return np.flatnonzero(self.is_source)

    def pv_buses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The buses that a generator holds at a voltage (PV buses, sources excluded), their
        set-points [p.u.] (the first generator's where several share a bus) and the reactive
        limits of their voltage-controlling generators, summed per bus [p.u.; -inf/inf where
        not enforced]."""
        if not self.gen_v_set.size:
            z = np.zeros(0)
            return np.zeros(0, dtype=int), z, z, z
        pv = np.flatnonzero(np.isfinite(self.gen_v_set) & ~self.is_source[self.gen_bus])
        buses, first = np.unique(self.gen_bus[pv], return_index=True)
        pos = np.searchsorted(buses, self.gen_bus[pv])
        lo, hi = np.zeros(len(buses)), np.zeros(len(buses))
        np.add.at(lo, pos, self.gen_q_min[pv])
        np.add.at(hi, pos, self.gen_q_max[pv])
        return buses, self.gen_v_set[pv][first], lo, hi

    def with_loads(self, p_load: np.ndarray, q_load: np.ndarray) -> PerUnitNetwork:
        """The same network with other per-bus loads (scenarios reuse everything else)."""
        from dataclasses import replace

        return replace(self, p_load=np.asarray(p_load, float), q_load=np.asarray(q_load, float))

    def with_source_voltage(self, vm: np.ndarray | None) -> PerUnitNetwork:
        """The same network with the sources' set-points ``vm`` [p.u., per bus; read at the
        source buses only] (a scenario's ``source`` rows, :mod:`feederopt.io.scenarios`): the
        DistFlow model then fixes ``v = vm^2`` at the root (:func:`~feederopt.formulations.
        distflow.voltage_bounds`); a source with an OLTC keeps its ratio range, ``v_set_lo``
        and ``v_set_hi`` scaled by ``vm / v_set``. ``vm`` None, or equal to ``v_set`` at every
        source: ``self``."""
        from dataclasses import replace

        if vm is None:
            return self
        vm = np.asarray(vm, float)
        new = np.where(self.is_source, vm, self.v_set)
        if np.array_equal(new, self.v_set):
            return self
        if self.v_set_lo.size:
            ratio = np.where(self.is_source, new / np.where(self.v_set > 0, self.v_set, 1.0), 1.0)
            return replace(self, v_set=new, v_set_lo=self.v_set_lo * ratio,
                           v_set_hi=self.v_set_hi * ratio)
        return replace(self, v_set=new)

    @property
    def tap2(self) -> np.ndarray:
        """``1 / tap**2`` per branch: the from-end squared voltage seen by the series impedance
        is ``v_f / tap**2``."""
        return 1.0 / self.tap**2 if self.tap.size else np.ones(self.n_branch)

    def has_branch_shunts(self) -> bool:
        return bool(self.g_from.size and (np.any(self.g_from) or np.any(self.g_to)
                                          or np.any(self.b_from) or np.any(self.b_to)))

    def dangling(self) -> np.ndarray:
        """Branches that, when open, stay energised at one end (their shunts still load it)."""
        return np.flatnonzero(self.dangle_bus >= 0) if self.dangle_bus.size else np.zeros(
            0, dtype=int)

    def initial_closed(self) -> np.ndarray:
        """The base-case switch states: every in-service branch closed unless normally open."""
        return ~self.normally_open

    def with_fixed(self, closed: np.ndarray, opened: np.ndarray | None = None
                   ) -> PerUnitNetwork:
        """This model with the branches of the masks ``closed`` and ``opened`` fixed in that
        state: not switchable, ``normally_open`` as fixed (the convention of this model: a
        branch that cannot switch is open exactly when it is normally open), and the
        switching cost of each switchable one fixed away from its base-case state added to
        :attr:`fixed_switching_kw`, the objective's constant (one action each at its
        ``switch_cost``). Used by the holds (``--hold-closed``/``--hold-open``,
        :func:`feederopt.problems.holds.held_model`) and by presolve's forced closings
        (:func:`feederopt.problems.presolve.fixed_closed`)."""
        closed = np.asarray(closed, bool)
        opened = np.zeros(self.n_branch, bool) if opened is None else np.asarray(opened, bool)
        moved = ((closed & self.normally_open) | (opened & ~self.normally_open)) & self.switchable
        return replace(self, switchable=self.switchable & ~closed & ~opened,
                       normally_open=(self.normally_open & ~closed) | opened,
                       fixed_switching_kw=float(self.fixed_switching_kw)
                       + float(self.switch_cost[moved].sum()))


def _float(col: pl.Series, default: float) -> np.ndarray:
    return col.fill_null(default).cast(pl.Float64).to_numpy().astype(float)


def rated_tap_ratios(branches: pl.DataFrame, tap: np.ndarray) -> np.ndarray:
    """Each branch's ratio at its rated winding voltages (``tap_rated_ratio``), ``tap`` (its
    ``tap_ratio``) where not given or not a positive number: the hv winding of a transformer
    is rated ``i_max_ka / tap_rated_ratio`` in from-end p.u."""
    given = (_float(branches["tap_rated_ratio"], math.nan)
             if "tap_rated_ratio" in branches.columns else np.full(len(tap), math.nan))
    return np.where(np.isfinite(given) & (given > 0), given, tap)


def to_per_unit(net: Network, s_base_mva: float = 1.0) -> PerUnitNetwork:
    """Derive the per-unit model. ``net`` must be valid (see :meth:`Network.check`)."""
    buses = net.buses
    is_src = buses["is_source"].fill_null(False).to_numpy().astype(bool)
    bus_ids = [str(b) for b in buses["id"].to_list()]
    index = {b: i for i, b in enumerate(bus_ids)}
    vn = _float(buses["vn_kv"], 1.0)

    br = net.branches.filter(pl.col("in_service"))
    f = np.array([index[b] for b in br["from_bus"].to_list()], dtype=int)
    t = np.array([index[b] for b in br["to_bus"].to_list()], dtype=int)
    z_base = vn[f] ** 2 / s_base_mva if len(f) else np.zeros(0)
    i_base_ka = s_base_mva / (math.sqrt(3.0) * vn[f]) if len(f) else np.zeros(0)
    y_base = 1.0 / z_base if len(f) else np.zeros(0)

    ld = net.loads.filter(pl.col("in_service"))
    load_bus = np.array([index[b] for b in ld["bus"].to_list()], dtype=int)
    load_p = _float(ld["p_mw"], 0.0) / s_base_mva
    load_q = _float(ld["q_mvar"], 0.0) / s_base_mva
    n = len(bus_ids)
    p_load = np.bincount(load_bus, weights=load_p, minlength=n) if len(ld) else np.zeros(n)
    q_load = np.bincount(load_bus, weights=load_q, minlength=n) if len(ld) else np.zeros(n)

    gen = net.generators.filter(pl.col("in_service"))
    sh = net.shunts.filter(pl.col("in_service"))
    sh_bus = np.array([index[b] for b in sh["bus"].to_list()], dtype=int)
    sh_q = _float(sh["q_mvar_per_step"], 0.0) * _float(sh["step"], 0.0) / s_base_mva
    sh_p = _float(sh["p_mw_per_step"], 0.0) * _float(sh["step"], 0.0) / s_base_mva
    q_shunt = np.bincount(sh_bus, weights=sh_q, minlength=n) if len(sh) else np.zeros(n)
    # a branch's open end (Shunt.open_branch_end): its conductance is a loss (g_open_end)
    branch_end = (sh["open_branch_end"].fill_null(False).to_numpy().astype(bool)
                  if "open_branch_end" in sh.columns else np.zeros(len(sh), bool))
    p_shunt = (np.bincount(sh_bus, weights=np.where(branch_end, 0.0, sh_p), minlength=n)
               if len(sh) else np.zeros(n))
    g_open_end = (np.bincount(sh_bus, weights=np.where(branch_end, sh_p, 0.0), minlength=n)
                  if branch_end.any() else np.zeros(0))
    nb = len(f)
    if nb:
        g_tot = _float(br["g_us"], 0.0) * 1e-6 / y_base
        b_tot = _float(br["b_us"], 0.0) * 1e-6 / y_base
        g_to = g_tot + _float(br["g_asym_us"], 0.0) * 1e-6 / y_base
        b_to = b_tot + _float(br["b_asym_us"], 0.0) * 1e-6 / y_base
        g_tot, b_tot = 0.5 * g_tot, 0.5 * b_tot
        g_to, b_to = 0.5 * g_to, 0.5 * b_to
        tap = _float(br["tap_ratio"], 1.0)
        tap = np.where(np.isfinite(tap) & (tap > 0), tap, 1.0)
        rated_tap = rated_tap_ratios(br, tap)
        end = br["open_end_energised"].to_list()
        dangle_bus, y_dangle = _dangling(
            end, f, t, tap, g_tot, b_tot, g_to, b_to,
            _float(br["r_ohm"], 0.0) / z_base, _float(br["x_ohm"], 0.0) / z_base)
    else:
        g_tot = b_tot = g_to = b_to = tap = rated_tap = np.zeros(0)
        dangle_bus, y_dangle = np.zeros(0, dtype=int), np.zeros(0, dtype=complex)

    i_rating = _float(br["i_max_ka"], math.inf) / i_base_ka if len(f) else np.zeros(0)
    i_end = np.array([index[b] for b in net.current_end_bus_ids()], dtype=int)
    return PerUnitNetwork(
        s_base_mva=s_base_mva,
        bus_ids=bus_ids,
        vn_kv=vn,
        v_min=_float(buses["v_min_pu"], 0.9),
        v_max=_float(buses["v_max_pu"], 1.1),
        is_source=buses["is_source"].fill_null(False).to_numpy().astype(bool),
        v_set=_float(buses["v_set_pu"], 1.0),
        source_held=np.asarray(held_by_source(buses), dtype=bool),
        gen_held=np.array([v is not None for v in held_by_generator(buses, gen)], dtype=bool),
        source_p_max=_float(buses["source_p_max_mw"], math.inf) / s_base_mva,
        source_s_max=_float(buses["source_s_max_mva"], math.inf) / s_base_mva,
        branch_ids=[str(b) for b in br["id"].to_list()],
        f=f,
        t=t,
        r=_float(br["r_ohm"], 0.0) / z_base if len(f) else np.zeros(0),
        x=_float(br["x_ohm"], 0.0) / z_base if len(f) else np.zeros(0),
        b=b_tot + b_to,
        # The series current is the lv winding's; the hv winding carries it divided by the
        # ratio and is rated i_max / tap_rated: |I| <= i_max min(1, tap / tap_rated) holds
        # both (pandapower's current-based trafo loading, max over the two sides; user test
        # ut_engine #1: a tap at 0.94 let the hv side run at 106 %).
        i_max=i_rating * np.minimum(1.0, tap / rated_tap) if len(f) else np.zeros(0),
        i_rating=i_rating,
        tap_rated=rated_tap,
        i_end=i_end,
        s_max=_float(br["s_max_mva"], math.inf) / s_base_mva,
        switchable=br["switchable"].to_numpy().astype(bool),
        normally_open=br["normally_open"].to_numpy().astype(bool),
        switch_cost=_float(br["switch_cost_kw"], 0.0),
        p_load=p_load,
        q_load=q_load,
        gen_bus=np.array([index[b] for b in gen["bus"].to_list()], dtype=int),
        gen_ids=[str(g) for g in gen["id"].to_list()],
        gen_p_min=_float(gen["p_min_mw"], 0.0) / s_base_mva,
        gen_p_max=_float(gen["p_max_mw"], 0.0) / s_base_mva,
        gen_q_min=_float(gen["q_min_mvar"], 0.0) / s_base_mva,
        gen_q_max=_float(gen["q_max_mvar"], 0.0) / s_base_mva,
        gen_p_set=_float(gen["p_mw"], 0.0) / s_base_mva,
        gen_q_set=_float(gen["q_mvar"], 0.0) / s_base_mva,
        gen_cost=_float(gen["cost_per_mwh"], 0.0) * s_base_mva,
        gen_cost2=_float(gen["cost_per_mw2_per_h"], 0.0) * s_base_mva**2,
        source_price=np.where(is_src, _float(buses["import_price_per_mwh"], 0.0), 0.0)
        * s_base_mva,
        source_cost2=np.where(is_src, _float(buses["import_cost_per_mw2_per_h"], 0.0), 0.0)
        * s_base_mva**2,
        source_fixed=np.where(is_src, _float(buses["import_fixed_cost_per_h"], 0.0), 0.0),
        gen_cost_q=_optional(gen, "cost_per_mvarh") * s_base_mva,
        gen_cost_q2=_optional(gen, "cost_per_mvar2_per_h") * s_base_mva**2,
        source_q_price=np.where(is_src, _optional(buses, "import_q_price_per_mvarh"), 0.0)
        * s_base_mva,
        source_q_cost2=np.where(is_src, _optional(buses, "import_q_cost_per_mvar2_per_h"),
                                0.0) * s_base_mva**2,
        q_shunt=q_shunt,
        tap=tap,
        g_from=g_tot,
        b_from=b_tot,
        g_to=g_to,
        b_to=b_to,
        p_shunt=p_shunt,
        g_open_end=g_open_end,
        dangle_bus=dangle_bus,
        g_dangle=y_dangle.real,
        b_dangle=y_dangle.imag,
        load_ids=[str(x) for x in ld["id"].to_list()],
        load_bus=load_bus,
        load_p=load_p,
        load_q=load_q,
        gen_v_set=_float(gen["v_set_pu"], math.nan) if "v_set_pu" in gen.columns else np.full(
            len(gen), math.nan),
    )


def _optional(table: pl.DataFrame, column: str) -> np.ndarray:
    """``column`` of ``table`` as floats, 0 where empty or absent (a table built before the
    column existed)."""
    if column not in table.columns:
        return np.zeros(table.height)
    return _float(table[column], 0.0)


def _dangling(end: list[str | None], f: np.ndarray, t: np.ndarray, tap: np.ndarray,
              g_from: np.ndarray, b_from: np.ndarray, g_to: np.ndarray, b_to: np.ndarray,
              r: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bus and input admittance of each branch that, open, stays energised at one end.

    Open at the to end, the branch loads its from bus with
    ``(y_from + y_to / (1 + z y_to)) / tap^2``; open at the from end, it loads its to bus with
    ``y_to + y_from / (1 + z y_from)`` (the pi model with the far end unconnected)."""
    m = len(f)
    bus = np.full(m, -1, dtype=int)
    y = np.zeros(m, dtype=complex)
    yf, yt, z = g_from + 1j * b_from, g_to + 1j * b_to, r + 1j * x
    for k, e in enumerate(end):
        if e == "from" and (yf[k] != 0 or yt[k] != 0):
            bus[k] = f[k]
            y[k] = (yf[k] + yt[k] / (1 + z[k] * yt[k])) / tap[k] ** 2
        elif e == "to" and (yf[k] != 0 or yt[k] != 0):
            bus[k] = t[k]
            y[k] = yt[k] + yf[k] / (1 + z[k] * yf[k])
    return bus, y
