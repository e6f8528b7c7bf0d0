"""The three-phase AC check: OpenDSS's own power flow of a circuit with chosen switch states.

The circuit is compiled again from its file (:func:`feederopt.io.opendss.compile_circuit`), the
switch states (and, if given, regulator taps) are written into it (``Line.<id>.enabled``, and
``Close Line.<id> term=1/2`` for a switch opened at a terminal; ``Transformer.<id>.Taps``),
OpenDSS solves it, and the solution is read back: convergence, losses (``Circuit.Losses``,
every element), the power from the source, the power the loads draw, per-phase minimum and
maximum voltage, the voltage unbalance, the nodes left without voltage and the load they
leave unserved, and, given model voltages, the largest ``|V_model - V_opendss|`` over the
nodes they share.

The check verifies the model's operating point, so it is solved with OpenDSS's controls off
(``Set ControlMode=OFF``): every transformer keeps the taps the model used (the network's
``tap_from``/``tap_to``, which are the taps as OpenDSS solved the file, ``taps`` overriding
winding 2), and every capacitor the states OpenDSS solved the file with, which are the ones the
model read. A ``RegControl`` or ``CapControl`` would otherwise move them for the new topology
(stock IEEE 123 with sw5 and sw8 open: the regulator at 160 steps down from 1.0625 to 1.05 on
phase a, and the maximum voltage is 1.045 p.u. instead of the 1.057 p.u. of the taps the model
assumed). What the controls would do from there is a second solve with them on
(:attr:`OpenDSSSolution.with_controls`: the file's control mode, ``STATIC`` if the file sets
``OFF``), reported beside the check, with the taps they move and the capacitors they switch.

On a feeder whose centre-tapped service transformers the reader reduced
(:mod:`feederopt.io.opendss_secondary`, ``net.meta["secondaries"]``), the check still solves
the whole file; a secondary bus's voltage is read as the model has it, the voltage between its
two hot nodes over the 240 V base, and its loads count on that node (unserved when it is dead).
The centre-tapped units keep OpenDSS's own taps.

The voltages are set against the buses' limits (``v_min_pu``, ``v_max_pu`` of the network's
``buses``, one pair per bus, for every energised node of it; at a three-wire bus the
comparable voltage): :attr:`OpenDSSSolution.voltage_violations` lists the nodes outside them
(by more than :data:`VOLTAGE_TOL_PU`) and :attr:`OpenDSSSolution.within_voltage_limits` says
whether there is none. De-energised nodes are counted apart (``dead_nodes``).

Voltage unbalance is the largest deviation of a phase-voltage magnitude from the mean of the
bus's phases, over the mean (the NEMA/IEEE "phase voltage unbalance rate", IEEE Std 112), over
buses with three phases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import polars as pl

from feederopt.io.opendss import compile_circuit, open_at_a_terminal, terminals
from feederopt.network.threephase import PHASES, ThreePhaseNetwork

_V = TypeVar("_V")

#: A node below this voltage [p.u.] is de-energised: cut off, or fed only through couplings
#: (a de-energised phase behind a transformer keeps a few per cent).
DEAD_PU = 0.1
#: Unserved load [kW] up to which a check passes (rounding only).
UNSERVED_TOL_KW = 1e-3
#: A node's voltage [p.u.] within this of its limit is within it (OpenDSS solves to 1e-4
#: p.u. by default; a regulated node sits at its limit when the limit is its set point).
VOLTAGE_TOL_PU = 1e-6
#: OpenDSS's ``Solution.ControlMode`` values (OpenDSS manual, ``Set ControlMode``).
CONTROL_MODES = {-1: "OFF", 0: "STATIC", 1: "EVENT", 2: "TIME", 3: "MULTIRATE"}
OFF, STATIC = -1, 0
#: A tap [p.u.] that differs by less than this is the same tap (OpenDSS steps are >= 1e-4).
TAP_TOL = 1e-9
#: The flat ``XYCurve`` (1 everywhere) that a PV system's set output takes as its efficiency
#: and power-temperature curves (:func:`solve_opendss`'s ``setpoints``).
UNITY_CURVE = "feederopt_unity"


@dataclass
class OpenDSSSolution:
    """OpenDSS's solution of a circuit (kW, kvar; voltages in p.u. of the bus base)."""

    converged: bool
    losses_kw: float
    losses_kvar: float
    source_kw: float
    source_kvar: float
    load_kw: float
    load_kvar: float
    voltages_pu: dict[str, float]  # "bus.a" -> |V| [p.u. of the network's bus base]
    min_voltage_pu: dict[str, float] = field(default_factory=dict)  # per phase
    max_voltage_pu: dict[str, float] = field(default_factory=dict)
    min_voltage_node: str = ""
    #: The node of the highest live voltage (as :attr:`min_voltage_node`; ut50_simb #3).
    max_voltage_node: str = ""
    unbalance_pct: float = math.nan
    max_voltage_diff_pu: float | None = None
    max_voltage_diff_node: str | None = None
    open_switches: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    phasors_pu: dict[str, complex] = field(default_factory=dict)
    #: The buses whose :attr:`voltages_pu` are phase voltages less the zero sequence
    #: (:meth:`comparable_voltages`), not OpenDSS's line-to-neutral magnitudes.
    zero_sequence_buses: list[str] = field(default_factory=list)
    dead_nodes: list[str] = field(default_factory=list)  # below DEAD_PU
    unserved_load_kw: float = 0.0  # nominal kW of the loads on dead nodes
    control_mode: str = "OFF"  # OpenDSS's control mode in this solve
    regulator_taps: dict[str, float] = field(default_factory=dict)  # regulated winding's tap
    capacitor_states: dict[str, list[int]] = field(default_factory=dict)  # steps on (1)/off (0)
    #: The same circuit solved again with OpenDSS's controls acting (None: not asked for).
    with_controls: OpenDSSSolution | None = None
    #: The energised nodes outside their bus's voltage limits, worst first:
    #: ``(node, voltage, limit, "v_min" | "v_max")`` (module docstring).
    voltage_violations: list[tuple[str, float, float, str]] = field(default_factory=list)
    #: The largest loading [% of its rating] of a rated line, series capacitor or reactor, or
    #: transformer, and which (``"Line.<id>"``, ``"Capacitor.<name>"``, ``"Reactor.<name>"``,
    #: ``"Transformer.<id>"``) (:func:`branch_loading`).
    max_loading_percent: float | None = None
    max_loading_element: str | None = None
    #: The loading [%] above which a rated element is overloaded (100, or the solve's
    #: ``--max-loading``); None: the ratings are not held (``--no-thermal-limits``).
    loading_limit_percent: float | None = 100.0
    #: The overloaded elements, worst first: ``(element, loading %, current A, rating A)``.
    overloads: list[tuple[str, float, float, float]] = field(default_factory=list)
    #: Every rated element's loading [% of its rating] (:func:`branch_loading`), overloaded
    #: or not; not in the JSON (``loading`` has the largest and the overloads).
    loadings: dict[str, float] = field(default_factory=dict)
    #: The generating units whose output in this solve is not their set-point (``setpoints``
    #: of :func:`solve_opendss`): ``(element, set kW, set kvar, kW, kvar)``
    #: (:func:`setpoint_misses`).
    setpoint_misses: list[tuple[str, float, float, float, float]] = field(
        default_factory=list)
    #: The generating units' (``Generator``, ``PVSystem``, ``Storage``) total active output
    #: [kW] in this solve (``-sum CktElement.Powers``, positive injecting): a unit without a
    #: set-point runs on its own model here, its output following its voltage.
    generation_kw: float = 0.0

    @property
    def within_voltage_limits(self) -> bool:
        """Converged, and every energised node within its bus's voltage limits."""
        return self.converged and not self.voltage_violations

    @property
    def within_thermal_limits(self) -> bool:
        """Converged, and no rated line or transformer above its rating (:attr:`overloads`)."""
        return self.converged and not self.overloads

    @property
    def within_limits(self) -> bool:
        """Within the voltage limits and the lines' and transformers' ratings."""
        return self.within_voltage_limits and self.within_thermal_limits

    def loading_summary(self) -> dict[str, Any]:
        """The ratings' part of the JSON: the largest loading, the limit, the overloads."""
        return {
            "max_loading_percent": self.max_loading_percent,
            "max_loading_element": self.max_loading_element,
            "loading_limit_percent": self.loading_limit_percent,
            "overloaded": len(self.overloads),
            "overloads": [{"element": e, "loading_percent": pct, "current_a": amps,
                           "rating_a": rating} for e, pct, amps, rating in self.overloads[:50]],
        }

    def voltage_limit_summary(self) -> dict[str, Any]:
        """The nodes outside the voltage limits for the JSON: how many below and above, the
        worst (node, voltage, its limit, by how much [p.u.]) and the first 50 names."""
        worst = self.voltage_violations[0] if self.voltage_violations else None
        return {
            "nodes_below_min": sum(v[3] == "v_min" for v in self.voltage_violations),
            "nodes_above_max": sum(v[3] == "v_max" for v in self.voltage_violations),
            "worst_node": worst[0] if worst else None,
            "worst_voltage_pu": worst[1] if worst else None,
            "worst_limit": worst[3] if worst else None,
            "worst_limit_pu": worst[2] if worst else None,
            "worst_violation_pu": abs(worst[1] - worst[2]) if worst else 0.0,
            "node_names": [v[0] for v in self.voltage_violations[:50]],
        }

    @property
    def passed(self) -> bool:
        """Converged, with every load served: a topology that leaves load without voltage does
        not pass, however low its losses (they are low because load is missing)."""
        return self.converged and self.unserved_load_kw <= UNSERVED_TOL_KW

    def comparable_voltages(self, floating_buses: set[str]) -> dict[str, float]:
        """Phase-voltage magnitudes to compare with a model: at buses behind an ungrounded
        (delta) winding, the phase-to-ground phasors less their zero sequence (the neutral
        shift that a three-wire network leaves to stray admittances), elsewhere as solved."""
        out = dict(self.voltages_pu)
        for bus in self.zero_sequence_removed(floating_buses):
            keys = [f"{bus}.{ph}" for ph in PHASES]
            v0 = sum(self.phasors_pu[k] for k in keys) / 3
            for k in keys:
                out[k] = abs(self.phasors_pu[k] - v0)
        return out

    def zero_sequence_removed(self, floating_buses: set[str]) -> list[str]:
        """The buses of ``floating_buses`` whose voltages :meth:`comparable_voltages` gives
        less the zero sequence ``V0 = (Va + Vb + Vc) / 3`` (the three phases solved), sorted:
        their figures are ``|V_ph - V0|``, not OpenDSS's line-to-neutral magnitudes (user
        test ut49_report #2: 799.a 0.9335 p.u. where OpenDSS's own is 0.8935 p.u.)."""
        return sorted(bus for bus in floating_buses
                      if all(f"{bus}.{ph}" in self.phasors_pu for ph in PHASES))

    def zero_sequence_note(self) -> str | None:
        """What the voltages at :attr:`zero_sequence_buses` are, for a person; None when none
        is adjusted."""
        buses = self.zero_sequence_buses
        if not buses:
            return None
        return (f"at {len(buses)} ungrounded (delta-fed, three-wire) bus(es) "
                f"({', '.join(buses)}) the "
                "voltages are phase voltages less the zero sequence, |V - V0| with V0 = "
                "(Va + Vb + Vc) / 3, not OpenDSS's line-to-neutral magnitudes: the neutral "
                "shift a three-wire network leaves to stray admittances, which the model "
                "does not have")

    def moved_taps(self) -> dict[str, tuple[float, float]]:
        """The regulators whose tap OpenDSS's controls move: ``(held, with controls)``."""
        after = self.with_controls.regulator_taps if self.with_controls else {}
        return {tr: (tap, after[tr]) for tr, tap in self.regulator_taps.items()
                if tr in after and abs(after[tr] - tap) > TAP_TOL}

    def switched_capacitors(self) -> dict[str, tuple[list[int], list[int]]]:
        """The capacitors whose steps OpenDSS's controls switch: ``(held, with controls)``."""
        after = self.with_controls.capacitor_states if self.with_controls else {}
        return {c: (st, after[c]) for c, st in self.capacitor_states.items()
                if c in after and after[c] != st}

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON: the held solve's figures (the model's taps and capacitor
        states, ``control_mode`` OFF) and, under ``with_controls``, OpenDSS's own controls."""
        ctl = self.with_controls
        return {
            "converged": self.converged,
            "losses_kw": self.losses_kw,
            "losses_kvar": self.losses_kvar,
            "source_kw": self.source_kw,
            "source_kvar": self.source_kvar,
            "load_kw": self.load_kw,
            "load_kvar": self.load_kvar,
            "generation_kw": self.generation_kw,
            "min_voltage_pu": self.min_voltage_pu,
            "max_voltage_pu": self.max_voltage_pu,
            "min_voltage_node": self.min_voltage_node,
            "unbalance_pct": self.unbalance_pct,
            "max_voltage_diff_pu": self.max_voltage_diff_pu,
            "max_voltage_diff_node": self.max_voltage_diff_node,
            "open_switches": self.open_switches,
            "dead_nodes": len(self.dead_nodes),
            "dead_node_names": self.dead_nodes[:50],
            "unserved_load_kw": self.unserved_load_kw,
            "passed": self.passed,
            "within_voltage_limits": self.within_voltage_limits,
            "voltage_limits": self.voltage_limit_summary(),
            "within_thermal_limits": self.within_thermal_limits,
            "within_limits": self.within_limits,
            "loading": self.loading_summary(),
            "control_mode": self.control_mode,
            "regulator_taps": self.regulator_taps,
            "zero_sequence_removed_buses": list(self.zero_sequence_buses),
            "voltage_note": self.zero_sequence_note(),
            "with_controls": None if ctl is None else {
                "control_mode": ctl.control_mode,
                "converged": ctl.converged,
                "losses_kw": ctl.losses_kw,
                "losses_kvar": ctl.losses_kvar,
                "source_kw": ctl.source_kw,
                "source_kvar": ctl.source_kvar,
                "load_kw": ctl.load_kw,
                "min_voltage_pu": ctl.min_voltage_pu,
                "max_voltage_pu": ctl.max_voltage_pu,
                "min_voltage_node": ctl.min_voltage_node,
                "unbalance_pct": ctl.unbalance_pct,
                "dead_nodes": len(ctl.dead_nodes),
                "unserved_load_kw": ctl.unserved_load_kw,
                "within_voltage_limits": ctl.within_voltage_limits,
                "voltage_limits": ctl.voltage_limit_summary(),
                "within_thermal_limits": ctl.within_thermal_limits,
                "loading": ctl.loading_summary(),
                "regulator_taps": ctl.regulator_taps,
                "voltage_note": ctl.zero_sequence_note(),
                "taps_moved": {tr: {"held": a, "with_controls": b}
                               for tr, (a, b) in self.moved_taps().items()},
                "capacitors_switched": {c: {"held": a, "with_controls": b}
                                        for c, (a, b) in self.switched_capacitors().items()},
                "warnings": ctl.warnings,
            },
        }


def solve_opendss(net: ThreePhaseNetwork, *, open_switches: set[str] | None = None,
                  taps: dict[str, float] | None = None,
                  setpoints: dict[str, tuple[float, float]] | None = None,
                  model_voltages: dict[str, float] | None = None,
                  floating_buses: set[str] | None = None,
                  with_controls: bool = True,
                  bus_loads: dict[str, tuple[float, float]] | None = None,
                  thermal_limits: bool = True, max_loading_percent: float | None = None,
                  transformer_rating: str = "normal",
                  solve_again: bool = False) -> OpenDSSSolution:
    """OpenDSS's power flow of ``net``'s circuit with the switches in ``open_switches`` open and
    every other switchable line closed (default: the base-case states), OpenDSS's controls off
    and the model's taps and capacitor states held (module docstring). ``taps`` sets the
    winding-2 tap of transformers by id (default: ``net``'s); ``setpoints`` the output
    ``(kW, kvar)`` of generators, PV systems or storage by their full name
    (``"Generator.675"``: a generator held at it as constant power whatever its ``kV``,
    :func:`generator_setpoint`; a PV system's panel is set to ``Pmpp = kW`` at irradiance 1,
    without its cut-in and cut-out, ``%Pmpp``, efficiency and temperature factors, so that it
    puts out ``kW`` within its kVA rating); a unit that does not put out its set-point in the
    solve is in :attr:`OpenDSSSolution.setpoint_misses` and a warning. ``with_controls``
    also solves it again from there with OpenDSS's controls acting
    (:attr:`OpenDSSSolution.with_controls`).

    At ``floating_buses`` (three-wire regions) the voltages are reported without their zero
    sequence (:meth:`OpenDSSSolution.comparable_voltages`); ``phasors_pu`` keeps OpenDSS's
    phase-to-ground values.

    A load's demand is set through ``setpoints`` too (``"Load.671": (kW, kvar)``, the load's
    total as the model draws it at 1 p.u. of its bus, which OpenDSS spreads over its phases;
    a load the reader re-rated is given OpenDSS as its nameplate, :func:`load_nameplate`).
    ``bus_loads`` adds a net demand ``(kW, kvar)`` at buses (a scenario's DER; negative
    injects), as a new constant-power wye ``Load`` element ``feederopt_<bus>`` on every phase
    of the bus (:func:`add_bus_load`).

    Every rated line and transformer's loading is read from OpenDSS's own currents
    (:func:`branch_loading`); one above ``max_loading_percent`` (default 100) % of its rating
    is an overload (:attr:`OpenDSSSolution.overloads`), none with ``thermal_limits=False``.
    ``transformer_rating`` picks the transformers' normhkva (``"normal"``) or emerghkva.

    The circuit is first solved as the file asks (:func:`~feederopt.io.opendss.
    compile_circuit`); a solve that changes it (a switch, a tap, a set-point) solves it once
    more from there. ``solve_again`` solves it once more without a change too: figures
    compared with another topology's must come from the same procedure, or the file's own
    solve, at the file's tolerance, biases the comparison (ieee13mod at ``tolerance=0.001``:
    62.266 kW from the file's solve, 62.372 kW solved once more, 62.375 kW converged to
    1e-9). The AC checks of ``feederopt solve`` pass it, so an answer is solved once more
    even when its switches are the file's (a caller comparing with the CLI's figures passes
    it too: user test ut49_journey #2)."""
    import opendssdirect as dss

    path = net.meta.get("source_path")
    if not path:
        raise ValueError("the network was not read from an OpenDSS file (no meta['source_path'])")
    warnings = compile_circuit(path)
    file_mode = int(dss.Solution.ControlMode())
    sw = net.lines.filter(pl.col("switchable"))
    if open_switches is None:
        open_switches = set(sw.filter(pl.col("normally_open"))["id"].to_list())
    changed = False
    for line in sw["id"].to_list():
        changed |= set_switch(line, open_=line in open_switches)
    changed |= hold_taps(net, taps or {})
    unity = False
    for element, (kw, kvar) in (setpoints or {}).items():
        cls = element.split(".")[0].lower()
        if cls == "storage":  # discharging is positive output, charging negative
            # at its terminals: %charge (not %discharge) sets a charging unit's kW; idling, it
            # would draw its idling kW, so an output of 0 is discharging at 0 %
            fixed = _storage_snapshot(element, kw, kvar, warnings)
            if kw < 0:
                dss.Text.Command(f"edit {element} {fixed} state=charging "
                                 f"%charge={_storage_share(element, kw)!r} kvar={kvar!r}")
            else:
                dss.Text.Command(f"edit {element} {fixed} state=discharging "
                                 f"%discharge={_storage_share(element, kw)!r} kvar={kvar!r}")
        elif cls == "pvsystem":
            # the panel at pmpp = the output, none of the PV model's factors between them: no
            # cut-in/cut-out (20 % of kVA by default: a small output would be off), %Pmpp 100,
            # unity efficiency and P-T curves
            if not unity:
                dss.Text.Command(f"New XYCurve.{UNITY_CURVE} npts=2 xarray=[-1000 1000] "
                                 "yarray=[1 1]")
                unity = True
            dss.Text.Command(f"edit {element} pmpp={max(kw, 0.0)!r} irradiance=1 %Pmpp=100 "
                             f"%cutin=0 %cutout=0 effcurve={UNITY_CURVE} "
                             f"P-TCurve={UNITY_CURVE} kvar={kvar!r}")
        elif cls == "generator":
            dss.Text.Command(f"edit {element} {generator_setpoint(net, element, kw, kvar)}")
        else:  # a load: its model-side demand as the nameplate OpenDSS scales by its law
            kw, kvar = load_nameplate(net, element, kw, kvar)
            dss.Text.Command(f"edit {element} kW={kw!r} kvar={kvar!r}")
        changed = True
    for bus, (kw, kvar) in (bus_loads or {}).items():
        add_bus_load(net, bus, kw, kvar)
        changed = True
    # compile_circuit leaves the circuit solved as OpenDSS solves the file (its controls too),
    # which is the state the model read; after a change it is solved again, and without one
    # when asked (solve_again: figures to be compared with a changed topology's)
    dss.Solution.ControlMode(OFF)
    limit = (100.0 if max_loading_percent is None else float(max_loading_percent)
             ) if thermal_limits else None
    sol = _solution(net, _solve(warnings, again=changed or solve_again), warnings,
                    open_switches, floating_buses, model_voltages)
    sol.setpoint_misses = setpoint_misses(setpoints or {})
    for element, set_kw, set_kvar, kw, kvar in sol.setpoint_misses:
        sol.warnings.append(
            f"{element} puts out {kw:.1f} kW and {kvar:.1f} kvar in OpenDSS's solution, not "
            f"the {set_kw:.1f} kW and {set_kvar:.1f} kvar it was set to")
    _loading(sol, net, limit, transformer_rating)
    if with_controls:
        mode = file_mode if file_mode != OFF else STATIC
        dss.Solution.ControlMode(mode)
        acting: list[str] = []
        sol.with_controls = _solution(net, _solve(acting, again=True), acting, open_switches,
                                      floating_buses, model_voltages)
        _loading(sol.with_controls, net, limit, transformer_rating)
    return sol


def load_nameplate(net: ThreePhaseNetwork, element: str, kw: float,
                   kvar: float) -> tuple[float, float]:
    """The ``kW``, ``kvar`` to write into the OpenDSS load ``element`` (``"Load.645"``) so
    that OpenDSS draws ``kw + j kvar`` at 1 p.u. of its bus, as the model's row of that load
    does.

    A load rated far from its bus's voltage is re-rated by the reader
    (:mod:`feederopt.io.opendss_rated_kv`): its rows (``net.loads``, and a scenario's rows
    from a daily shape, :mod:`feederopt.io.opendss_shapes`) hold OpenDSS's draw at the bus's
    voltage, ``kW P(v0)`` and ``kvar Q(v0)`` (``v0 = V_base / kV``), the shares ``[P(v0),
    Q(v0)]`` of ``net.meta["rerated_loads"]``. OpenDSS applies ``P(v)`` to whatever ``kW`` it
    is given, so the nameplate is ``kw / P(v0)``, ``kvar / Q(v0)``: OpenDSS's daily mode
    draws ``kW m P(v)`` at a shape multiplier ``m``, and the row is ``kW m P(v0)``. Writing
    the row itself applied the law twice (user test ut45 dssday #1: IEEE 13's ``Load.645``
    at ``kV=4.16`` on a 2.4 kV node drew 6.59 kW at 01:00 in the scenario check, 19.12 kW in
    OpenDSS's daily mode; losses and voltages off, a feasible day called infeasible, the
    worse topology kept). Any other load
    (and a share of 0: a ZIP load below its cutoff, drawing nothing) is written as given."""
    kind, _, name = element.partition(".")
    share = (net.meta.get("rerated_loads") or {}).get(name) if kind.lower() == "load" else None
    kw, kvar = float(kw), float(kvar)  # numpy floats would print as np.float64(...)
    if not share:
        return kw, kvar
    p_share, q_share = float(share[0]), float(share[1])
    return (kw / p_share if p_share > 0 else kw), (kvar / q_share if q_share > 0 else kvar)


#: A generating unit's output within this of its set-point [kW or kvar] is at it, or within
#: :data:`SETPOINT_REL_TOL` of the set-point's apparent power (OpenDSS solves to 1e-4 p.u. by
#: default, at the file's ``tolerance``: ieee13mod's 0.001 leaves Generator.675 at 299.9 kW
#: for 300).
SETPOINT_TOL_KW = 1.0
SETPOINT_REL_TOL = 0.01
#: The band of a set generator's voltage, as a factor of its bus's nominal voltage over its
#: own rated voltage (:func:`generator_setpoint`): within it OpenDSS keeps the unit at its
#: constant ``kW``, ``kvar``.
SETPOINT_V_BAND = (0.1, 10.0)


def generator_setpoint(net: ThreePhaseNetwork, element: str, kw: float, kvar: float) -> str:
    """The properties that make the OpenDSS ``Generator`` ``element`` (compiled, active or
    not) put out ``kw + j kvar`` whatever its file says: ``model=1`` (constant kW and kvar,
    as the model injects a unit's set-point) and ``Vminpu``, ``Vmaxpu`` around the voltage
    that it sees in p.u. of its own rating.

    OpenDSS holds a generator's model only between ``Vminpu`` and ``Vmaxpu`` (0.9 and 1.1
    by default) of its ``kV``, and runs it as the constant impedance of its set-point outside
    (OpenDSS manual, Generator: ``Vminpu``, ``Vmaxpu``). A ``kV`` that does not match the bus
    puts it there at any voltage: ieee13mod's ``Generator.675`` (3 phases, ``kv=2.4`` on a
    4.16 kV bus, so 1.73 p.u. of its rating) set to 300 kW and 100 kvar put out 770 kW and
    257 kvar (user test ut33, finding 1), as the file's 500 kW gave 1353 kW (the reader
    keeps that solved output for the nominal case and warns). The band is
    :data:`SETPOINT_V_BAND` times ``r = V_bus / V_rated``, the bus's phase-to-neutral base
    (``net.buses`` ``vn_kv / sqrt(3)``) over the unit's (``kV / sqrt(3)`` for two or three
    phases and for one phase between two phase nodes, ``kV`` for one phase to ground:
    OpenDSS's ``kV`` convention), so a unit rated at its bus's
    voltage keeps OpenDSS's ``[0.1, 10]`` p.u. that the partition's check gives its
    followers."""
    import opendssdirect as dss

    dss.Circuit.SetActiveElement(element)
    bus = str(dss.CktElement.BusNames()[0]).split(".")[0].lower()
    phases = int(dss.CktElement.NumPhases())
    dss.Text.Command(f"? {element}.kV")
    try:
        rated = float(dss.Text.Result())
    except ValueError:
        rated = math.nan
    # a 1-phase unit between two phases (x.2.3) is rated at the line-line voltage
    between = phases == 1 and sum(1 <= int(n) <= 3 for n in dss.CktElement.NodeOrder()) == 2
    rated_ln = rated / (math.sqrt(3) if phases > 1 or between else 1.0)
    row = net.buses.filter(pl.col("id") == bus)
    bus_ln = float(row["vn_kv"][0]) / math.sqrt(3) if row.height else math.nan
    r = bus_ln / rated_ln if rated_ln > 0 else math.nan
    if not (math.isfinite(r) and r > 0):
        r = 1.0
    lo, hi = SETPOINT_V_BAND
    return (f"model=1 kW={kw!r} kvar={kvar!r} Vminpu={lo * r!r} Vmaxpu={hi * r!r}")


def setpoint_misses(setpoints: dict[str, tuple[float, float]],
                    ) -> list[tuple[str, float, float, float, float]]:
    """The generating units (``Generator``, ``PVSystem``, ``Storage``) of ``setpoints`` whose
    output in the circuit as last solved (``-sum CktElement.Powers``, positive injecting)
    differs from their set-point ``(kW, kvar)`` by more than :data:`SETPOINT_TOL_KW` and
    :data:`SETPOINT_REL_TOL` of the set-point's ``|S|``: ``(element, set kW, set kvar, kW,
    kvar)``. A check whose units do not put out what the model injects describes another
    operating point (user test ut33, finding 1); loads are left out (their voltage
    dependence is the model's too)."""
    import opendssdirect as dss

    out = []
    for element, (kw, kvar) in setpoints.items():
        if element.split(".")[0].lower() not in ("generator", "pvsystem", "storage"):
            continue
        dss.Circuit.SetActiveElement(element)
        pw = np.asarray(dss.CktElement.Powers(), float)
        got_p, got_q = -float(pw[0::2].sum()), -float(pw[1::2].sum())
        tol = max(SETPOINT_TOL_KW, SETPOINT_REL_TOL * math.hypot(kw, kvar))
        if not (abs(got_p - kw) <= tol and abs(got_q - kvar) <= tol):
            out.append((element, float(kw), float(kvar), got_p, got_q))
    return out


#: Relative tolerance of a loading on its limit (OpenDSS solves to 1e-4 p.u. by default).
LOADING_TOL = 1e-6


def branch_loading(net: ThreePhaseNetwork, transformer_rating: str = "normal",
                   ) -> list[tuple[str, float, float, float]]:
    """Each rated, enabled line's, series capacitor's, series reactor's and transformer's
    loading in the compiled circuit as last solved: ``(element, loading %, current A, rating
    A)``, the worst conductor's, by OpenDSS's element name (``"Line.<id>"``,
    ``"Capacitor.<name>"``, ``"Reactor.<name>"``, ``"Transformer.<id>"``).

    A line's current is the largest of its phase conductors' at either terminal (OpenDSS's
    ``CktElement.CurrentsMagAng``), its rating the model's ``i_max_a`` (the file's
    ``NormAmps``); a series capacitor or reactor is a line of the model
    (``meta["series_elements"]``) and is read the same way, its rating its ``NormAmps``. A
    transformer's is the largest over its windings ``w`` and phase conductors of ``|I| /
    I_w``, with ``I_w = S kVA_w / kVA_1 / (n kV_w,ph)`` the winding's rated current at the
    unit's limit ``S`` (normhkva, or emerghkva for ``transformer_rating="emergency"``;
    :func:`feederopt.network.threephase_perunit.unit_rating_kva`), ``n`` its phases and
    ``kV_ph = kV / sqrt(3)`` for more than one phase, ``kV`` for one (OpenDSS manual,
    Transformer: ``kV``, ``normhkva``; at winding 1 this is OpenDSS's own ``NormAmps`` of the
    element). Currents and ratings are OpenDSS's, so the figure does not depend on the
    model."""
    import opendssdirect as dss

    from feederopt.network.threephase_perunit import unit_rating_kva

    out: list[tuple[str, float, float, float]] = []
    rated_lines = {r["id"]: float(r["i_max_a"]) for r in net.lines.select(
        "id", "i_max_a").iter_rows(named=True) if r["i_max_a"] and r["i_max_a"] > 0}

    def conductor_amps() -> float:
        """The active two-terminal element's largest phase-conductor current [A]."""
        n, nc = int(dss.CktElement.NumPhases()), int(dss.CktElement.NumConductors())
        mags = np.asarray(dss.CktElement.CurrentsMagAng(), float)[0::2]
        return max((float(mags[t * nc + c]) for t in range(2) for c in range(n)
                    if t * nc + c < len(mags)), default=0.0)

    series: dict[str, str] = net.meta.get("series_elements") or {}
    for line in _each(dss.Lines):
        rating = rated_lines.get(line.lower(), rated_lines.get(line))
        if rating is None or not dss.CktElement.Enabled():
            continue
        amps = conductor_amps()
        out.append((f"Line.{line}", 100.0 * amps / rating, amps, rating))
    # series capacitors and reactors: lines of the model, rated by their NormAmps
    for line_id, element in series.items():
        rating = rated_lines.get(line_id)
        if rating is None or dss.Circuit.SetActiveElement(element) < 0 or not (
                dss.CktElement.Enabled()):
            continue
        amps = conductor_amps()
        out.append((element, 100.0 * amps / rating, amps, rating))
    limits = {r["id"]: unit_rating_kva(r, transformer_rating)
              for r in net.transformers.iter_rows(named=True)}
    for tr in _each(dss.Transformers):
        s_lim = limits.get(tr.lower(), limits.get(tr))
        if s_lim is None or not dss.CktElement.Enabled():
            continue
        n, nc = int(dss.CktElement.NumPhases()), int(dss.CktElement.NumConductors())
        mags = np.asarray(dss.CktElement.CurrentsMagAng(), float)[0::2]
        dss.Transformers.Wdg(1)
        kva1 = float(dss.Transformers.kVA())
        worst = (0.0, 0.0, 0.0)  # loading, current, rating
        for w in range(1, int(dss.Transformers.NumWindings()) + 1):
            dss.Transformers.Wdg(w)
            kv_ph = float(dss.Transformers.kV()) / (math.sqrt(3) if n > 1 else 1.0)
            share = float(dss.Transformers.kVA()) / kva1 if kva1 > 0 else 1.0
            rating = s_lim * share / (n * kv_ph) if kv_ph > 0 else 0.0
            if rating <= 0:
                continue
            for c in range(n):
                k = (w - 1) * nc + c
                if k < len(mags) and mags[k] / rating > worst[0]:
                    worst = (float(mags[k]) / rating, float(mags[k]), rating)
        if worst[2] > 0:
            out.append((f"Transformer.{tr}", 100.0 * worst[0], worst[1], worst[2]))
    return out


def _loading(sol: OpenDSSSolution, net: ThreePhaseNetwork, limit: float | None,
             transformer_rating: str) -> None:
    """Fill ``sol``'s loading figures (:func:`branch_loading`) against ``limit`` [%]."""
    rows = branch_loading(net, transformer_rating) if sol.converged else []
    sol.loading_limit_percent = limit
    sol.loadings = {r[0]: r[1] for r in rows}
    if rows:
        top = max(rows, key=lambda r: r[1])
        sol.max_loading_percent, sol.max_loading_element = top[1], top[0]
    if limit is not None:
        sol.overloads = sorted((r for r in rows if r[1] > limit * (1 + LOADING_TOL)),
                               key=lambda r: (-r[1], r[0]))
    if sol.overloads:
        e, pct, amps, rating = sol.overloads[0]
        sol.warnings.append(
            f"OpenDSS: {len(sol.overloads)} element(s) above {limit:g} % of their rating, the "
            f"worst {e} at {pct:.1f} % ({amps:.1f} A of {rating:.1f} A)")


def add_bus_load(net: ThreePhaseNetwork, bus: str, kw: float, kvar: float) -> None:
    """A new OpenDSS ``Load.feederopt_<bus>`` drawing ``kw + j kvar`` (negative: injecting)
    from ``bus``, spread equally over the bus's phases (``net.buses``'s ``phases``), wye to
    ground, constant power (``model=1``, and ``vminpu=0.7 vmaxpu=1.3`` so that OpenDSS keeps
    it constant power where a default load turns to constant impedance, below 0.95 and above
    1.05 p.u.), rated at the bus's phase-to-neutral voltage for one phase and line-to-line for
    more (OpenDSS's ``kV`` convention)."""
    import opendssdirect as dss

    row = net.buses.filter(pl.col("id") == bus).row(0, named=True)
    nodes = [PHASES.index(c) + 1 for c in row["phases"]]
    kv = row["vn_kv"] / (math.sqrt(3) if len(nodes) == 1 else 1.0)
    spec = ".".join(str(n) for n in nodes)
    dss.Text.Command(f"New Load.feederopt_{bus} bus1={bus}.{spec} phases={len(nodes)} conn=wye "
                     f"kV={kv!r} kW={kw!r} kvar={kvar!r} model=1 vminpu=0.7 vmaxpu=1.3")


def hold_taps(net: ThreePhaseNetwork, taps: dict[str, float]) -> bool:
    """Write the model's transformer taps into the compiled circuit where they differ:
    ``net``'s ``tap_from`` and ``tap_to`` (the taps as OpenDSS solved the file), with ``taps``
    overriding winding 2; ``True`` if any changed. Solved with ``ControlMode=OFF`` the circuit
    keeps them (and its capacitors' states); unknown ids in ``taps`` raise ``ValueError``.
    Used by this check and by the partition's AC sampling
    (:func:`feederopt.validation.partition.ac_sample_share`)."""
    import opendssdirect as dss

    # a centre-tapped unit's row is its 240 V equivalent, whose winding-2 tap is the mean of
    # the unit's windings 2 and 3: its taps are OpenDSS's own, left as they are
    fixed = set(net.meta.get("center_tapped", []))
    wanted = {r["id"]: (r["tap_from"], r["tap_to"]) for r in net.transformers.select(
        "id", "tap_from", "tap_to").iter_rows(named=True) if r["id"] not in fixed}
    unknown = sorted(set(taps) - set(wanted) - fixed)
    if unknown:
        raise ValueError(f"taps for transformers the network does not have: {unknown}")
    for tr, tap in taps.items():
        if tr in fixed:
            continue
        wanted[tr] = (wanted[tr][0], tap)
    changed = False
    for tr, pair in wanted.items():
        dss.Transformers.Name(tr)
        for wdg, tap in enumerate(pair, start=1):
            dss.Transformers.Wdg(wdg)
            if tap is not None and abs(float(dss.Transformers.Tap()) - tap) > TAP_TOL:
                dss.Text.Command(f"edit Transformer.{tr} wdg={wdg} tap={tap!r}")
                changed = True
    return changed


def _solve(warnings: list[str], *, again: bool) -> bool:
    """Solve the circuit (``again``) in the control mode that is set; its convergence. An
    OpenDSS refusal is a warning and no convergence, not a crash of the caller."""
    import opendssdirect as dss

    try:
        if again:
            dss.Solution.Solve()
        return bool(dss.Solution.Converged())
    except Exception as exc:
        warnings.append(f"OpenDSS did not solve: {' '.join(str(exc).split())}")
        return False


def _solution(net: ThreePhaseNetwork, converged: bool, warnings: list[str],
              open_switches: set[str], floating_buses: set[str] | None,
              model_voltages: dict[str, float] | None) -> OpenDSSSolution:
    """Read OpenDSS's present solution of the circuit."""
    import opendssdirect as dss

    losses = dss.Circuit.Losses()
    total = dss.Circuit.TotalPower()
    secondaries: dict[str, list[Any]] = net.meta.get("secondaries") or {}
    load_kw = load_kvar = 0.0
    load_nodes: list[tuple[float, list[str]]] = []  # (nominal kW, its phase nodes)
    for _ in _each(dss.Loads):
        pw = np.asarray(dss.CktElement.Powers(), float)
        load_kw += float(pw[0::2].sum())
        load_kvar += float(pw[1::2].sum())
        if dss.CktElement.Enabled():
            bus, order = terminals()[0]
            if bus in secondaries:  # on a 120/240 V secondary: its 240 V node
                load_nodes.append((float(dss.Loads.kW()), [f"{bus}.{secondaries[bus][0]}"]))
                continue
            load_nodes.append((float(dss.Loads.kW()),
                               [f"{bus}.{PHASES[n - 1]}" for n in order if 1 <= n <= 3]))
    volts: dict[str, float] = {}
    phasors: dict[str, complex] = {}
    base_kv = dict(zip(net.buses["id"].to_list(), net.buses["vn_kv"].to_list(), strict=True))
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        base = base_kv.get(bus.lower(), 0.0) / math.sqrt(3) * 1000  # our base [V, line-neutral]
        if base <= 0:
            continue
        pv = np.asarray(dss.Bus.Voltages(), float) / base
        if bus.lower() in secondaries:
            key, v = _secondary_voltage(secondaries[bus.lower()], list(dss.Bus.Nodes()), pv)
            volts[f"{bus.lower()}.{key}"] = float(abs(v))
            phasors[f"{bus.lower()}.{key}"] = v
            continue
        for key, v in phase_nodes(bus.lower(), dss.Bus.Nodes(),
                                  pv[0::2] + 1j * pv[1::2]).items():
            volts[key] = float(abs(v))
            phasors[key] = complex(v)
    generation_kw = 0.0
    for element in dss.Circuit.AllElementNames():
        if element.split(".")[0].lower() in ("generator", "pvsystem", "storage"):
            dss.Circuit.SetActiveElement(element)
            generation_kw -= float(np.asarray(dss.CktElement.Powers(), float)[0::2].sum())
    mode = int(dss.Solution.ControlMode())
    sol = OpenDSSSolution(
        converged=converged, losses_kw=float(losses[0]) / 1000,
        losses_kvar=float(losses[1]) / 1000, source_kw=-float(total[0]),
        source_kvar=-float(total[1]), load_kw=load_kw, load_kvar=load_kvar, voltages_pu=volts,
        open_switches=sorted(open_switches), warnings=warnings, phasors_pu=phasors,
        control_mode=CONTROL_MODES.get(mode, str(mode)), regulator_taps=regulator_taps(),
        capacitor_states=capacitor_states(), generation_kw=generation_kw,
    )
    if floating_buses:
        sol.voltages_pu = sol.comparable_voltages(floating_buses)
        sol.zero_sequence_buses = sol.zero_sequence_removed(floating_buses)
    _dead(sol, load_nodes)
    _summarise(sol, net, model_voltages)
    return sol


def phase_nodes(bus: str, nodes: Iterable[int], values: Iterable[_V]) -> dict[str, _V]:
    """A bus's ``values`` (one per node, in OpenDSS's ``Bus.Nodes()`` order) on its phase
    nodes 1-3, by node name (``"bus.a"``); any other node (a neutral, or the floating star
    point of a bank wired ``bus2=x.4.4.4``, near 0 p.u.) is left out. The one node filter of
    every OpenDSS voltage check: this one, the base-case verdicts and the partition's
    (:class:`feederopt.validation.partition.AcIsland`; user test ut39_recheck_a: the
    partition had judged a capacitor's floating star point at 0 p.u. against the limits)."""
    return {f"{bus}.{PHASES[node - 1]}": v
            for node, v in zip(nodes, values, strict=False) if node in (1, 2, 3)}


def _secondary_voltage(spec: list[Any], nodes: list[int], pv: np.ndarray) -> tuple[str, complex]:
    """A 120/240 V secondary bus's voltage as the model has it: its phase and the voltage
    between its two hot nodes ``spec = [phase, p, q]`` over the bus base (240 V), or twice a
    single hot node's voltage to ground when the bus has only one (a 120 V drop)."""
    phase, p, q = spec[0], int(spec[1]), int(spec[2])
    by_node = {int(n): complex(pv[2 * k], pv[2 * k + 1]) for k, n in enumerate(nodes)}
    if p in by_node and q in by_node:
        return phase, by_node[p] - by_node[q]
    one = by_node.get(p, by_node.get(q, 0j))
    return phase, 2 * one


def regulator_taps() -> dict[str, float]:
    """The tap [p.u.] of each regulator's controlled winding (``RegControl.Transformer``,
    ``Winding``) in the compiled circuit as last solved, by transformer id."""
    import opendssdirect as dss

    out: dict[str, float] = {}
    for _ in _each(dss.RegControls):
        tr, wdg = dss.RegControls.Transformer().lower(), int(dss.RegControls.Winding())
        dss.Transformers.Name(tr)
        dss.Transformers.Wdg(wdg)
        out[tr] = float(dss.Transformers.Tap())
    return out


def capacitor_states() -> dict[str, list[int]]:
    """Each capacitor's steps on (1) / off (0) in the compiled circuit as last solved, by name.
    Used by this check and by the partition's AC sampling."""
    import opendssdirect as dss

    return {c: [int(x) for x in dss.Capacitors.States()] for c in _each(dss.Capacitors)}


def _dead(sol: OpenDSSSolution, load_nodes: list[tuple[float, list[str]]]) -> None:
    """The de-energised nodes (below :data:`DEAD_PU`) and the nominal load on them: a load
    counts by the share of its phase nodes that are dead."""
    dead = {k for k, v in sol.voltages_pu.items() if v < DEAD_PU}
    sol.dead_nodes = sorted(dead)
    unserved = 0.0
    for kw, nodes in load_nodes:
        if nodes:
            unserved += kw * sum(n in dead for n in nodes) / len(nodes)
    sol.unserved_load_kw = unserved
    if dead:
        sol.warnings.append(
            f"OpenDSS: {len(dead)} node(s) de-energised (below {DEAD_PU} p.u.: "
            f"{', '.join(sol.dead_nodes[:6])}{' ...' if len(dead) > 6 else ''}), "
            f"{unserved:.3f} kW of load not served")


def set_switch(line: str, *, open_: bool) -> bool:
    """Open or close ``Line.<line>`` in the compiled circuit; ``True`` if its state changed.

    A switch is open when it is disabled or open at either terminal (``Open Line.X term=2``,
    as IEEE 123's ties are given), as :func:`feederopt.io.opendss.read_opendss` reads it.
    Closing enables it and closes both terminals; opening disables it. Used by this check and
    by the partition's AC sampling (:func:`feederopt.validation.partition.ac_sample_share`)."""
    import opendssdirect as dss

    dss.Lines.Name(line)
    enabled = bool(dss.CktElement.Enabled())
    is_open = not enabled or open_at_a_terminal()
    if is_open == open_:
        return False
    if open_:
        dss.Text.Command(f"edit Line.{line} enabled=n")
        return True
    if not enabled:
        dss.Text.Command(f"edit Line.{line} enabled=y")
        dss.Lines.Name(line)
    for t in (1, 2):
        if bool(dss.CktElement.IsOpen(t, 0)):
            dss.Text.Command(f"close Line.{line} term={t}")
    return True


def _storage_snapshot(element: str, kw: float, kvar: float, warnings: list[str]) -> str:
    """The properties that make the storage unit ``element`` put out ``(kw, kvar)`` in a
    snapshot whatever its file says: ``dispmode=default`` (in ``follow`` mode, and the other
    dispatch modes, OpenDSS takes the output from the unit's shape or price and ignores
    ``state``/``%charge``/``%discharge``); ``kWhstored`` half way between the reserve and
    ``kWhrated`` when the unit is full and the row charges it, or at its reserve and the row
    discharges it (OpenDSS then idles it: a scenario is a snapshot, the stored energy no part
    of it); ``kvarMax``/``kvarMaxAbs`` raised to the row's ``|kvar|`` when below it (OpenDSS
    caps the reactive output there). Each change of the stored energy or the reactive limits is
    a note in ``warnings``."""
    import opendssdirect as dss

    def prop(name: str) -> float:
        dss.Text.Command(f"? {element}.{name}")
        try:
            return float(dss.Text.Result())
        except ValueError:
            return math.nan

    out = ["dispmode=default"]
    rated, stored, reserve = prop("kWhrated"), prop("kWhstored"), prop("%reserve")
    floor = rated * reserve / 100.0
    tol = 1e-9 * max(rated, 1.0)
    if (kw < 0 and stored >= rated - tol) or (kw > 0 and stored <= floor + tol):
        mid = (floor + rated) / 2.0
        out.append(f"kWhstored={mid!r}")
        warnings.append(
            f"{element} is {'full' if kw < 0 else 'at its reserve'} (kWhstored={stored:g} of "
            f"{rated:g} kWh): checked with kWhstored={mid:g} so that OpenDSS "
            f"{'charges' if kw < 0 else 'discharges'} it at the scenario's {abs(kw):g} kW")
    for name, need in (("kvarMax", kvar), ("kvarMaxAbs", -kvar)):
        limit = prop(name)
        if need > 0 and not need <= limit:
            out.append(f"{name}={need!r}")
            warnings.append(f"{element}'s {name} ({limit:g} kvar) is raised to the scenario's "
                            f"{abs(kvar):g} kvar for the check")
    return " ".join(out)


def _storage_share(element: str, kw: float) -> float:
    """``%discharge`` (or ``%charge``) of a storage unit for an output of ``kw``."""
    import opendssdirect as dss

    dss.Text.Command(f"? {element}.kWrated")
    rated = float(dss.Text.Result() or 0.0)
    return 100.0 * abs(kw) / rated if rated > 0 else 0.0


def _each(collection: Any) -> Any:
    for name in collection.AllNames() or []:
        if name == "NONE":
            continue
        collection.Name(name)
        yield name


def _summarise(sol: OpenDSSSolution, net: ThreePhaseNetwork,
               model_voltages: dict[str, float] | None) -> None:
    live = {k: v for k, v in sol.voltages_pu.items() if v >= DEAD_PU}
    for ph in PHASES:
        vals = [v for k, v in live.items() if k.endswith("." + ph)]
        if vals:
            sol.min_voltage_pu[ph] = min(vals)
            sol.max_voltage_pu[ph] = max(vals)
    if live:
        sol.min_voltage_node = min(live, key=lambda k: live[k])
        sol.max_voltage_node = max(live, key=lambda k: live[k])
    worst = 0.0
    for bus in net.buses.filter(pl.col("phases") == "abc")["id"].to_list():
        keys = [f"{bus}.{ph}" for ph in PHASES]
        if not all(k in live for k in keys):
            continue
        arr = np.array([live[k] for k in keys], float)
        worst = max(worst, float(np.max(np.abs(arr - arr.mean())) / arr.mean() * 100))
    sol.unbalance_pct = worst
    sol.voltage_violations = voltage_violations(live, net)
    if model_voltages:
        diffs = {k: abs(v - live[k]) for k, v in model_voltages.items() if k in live}
        if diffs:
            node = max(diffs, key=lambda k: diffs[k])
            sol.max_voltage_diff_pu = diffs[node]
            sol.max_voltage_diff_node = node


def voltage_violations(voltages: dict[str, float], net: ThreePhaseNetwork,
                       ) -> list[tuple[str, float, float, str]]:
    """The nodes ``"bus.ph"`` of ``voltages`` [p.u.] outside their bus's limits (``net.buses``
    ``v_min_pu``, ``v_max_pu``) by more than :data:`VOLTAGE_TOL_PU`, worst first:
    ``(node, voltage, limit, "v_min" | "v_max")``."""
    limits = {r["id"]: (r["v_min_pu"], r["v_max_pu"]) for r in net.buses.select(
        "id", "v_min_pu", "v_max_pu").iter_rows(named=True)}
    out = []
    for node, v in voltages.items():
        lim = limits.get(node.rsplit(".", 1)[0])
        if lim is None:
            continue
        if v < lim[0] - VOLTAGE_TOL_PU:
            out.append((node, v, float(lim[0]), "v_min"))
        elif v > lim[1] + VOLTAGE_TOL_PU:
            out.append((node, v, float(lim[1]), "v_max"))
    return sorted(out, key=lambda x: (-abs(x[1] - x[2]), x[0]))


def max_voltage_error(model_voltages: dict[str, float], opendss: OpenDSSSolution) -> tuple[
        float, str]:
    """The largest ``|V_model - V_opendss|`` [p.u.] over the energised nodes both have."""
    live = {k: v for k, v in opendss.voltages_pu.items() if v > 1e-3}
    diffs = {k: abs(v - live[k]) for k, v in model_voltages.items() if k in live}
    if not diffs:
        return math.nan, ""
    node = max(diffs, key=lambda k: diffs[k])
    return diffs[node], node
