"""Every option of a solve, in one frozen object checked in one place.

:class:`SolveOptions` is what ``feederopt solve`` (the CLI), :func:`feederopt.solve` (the Python
API), :mod:`feederopt.uncertainty` and the benchmarks hand to the one solve path
(:func:`feederopt.api.solve`). :meth:`SolveOptions.check` returns the list of problems, each a
typed :class:`~feederopt.errors.Problem` naming the option; an option either acts or is refused
here, never silently ignored.

    >>> from feederopt.options import SolveOptions, Stop, Scenarios
    >>> opts = SolveOptions(stop=Stop(time_limit_s=60), uncertainty=Scenarios("s.parquet"))
    >>> opts.check()
    []

:func:`solve_options` builds one from the flat keywords of the API and the CLI
(``time_limit=60, scenarios="s.parquet", budget=3``): an option that belongs to another mode
(``budget`` without ``robust``) is recorded and refused by :meth:`SolveOptions.check`.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field, replace
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

import polars as pl

from feederopt.errors import (
    InputError,
    OptionNameError,
    Problem,
    ProblemKind,
    option_ref,
    percent_hint,
    python_caller,
)
from feederopt.formulations.distflow import is_passive
from feederopt.io.frames import value_text
from feederopt.network.devices import Control
from feederopt.network.id_lists import blank_entry_problems, id_list_problems, split_ids
from feederopt.network.limits import held_by_source, held_set_points
from feederopt.network.perunit import to_per_unit
from feederopt.problems.holds import empty_hold_example
from feederopt.problems.reconfiguration import DEFAULT_RADIALITY, RadialityModel
from feederopt.problems.uncertain import DEFAULT_PENALTY
from feederopt.scalars import (
    is_finite,
    is_number,
    is_real,
    is_switch,
    is_whole,
    plain,
    plain_fields,
)
from feederopt.solvers.detect import solver_problems


class Method(StrEnum):
    BENDERS = "benders"
    #: The same Benders master and cuts as one SCIP branch-and-Benders-cut tree
    #: (:mod:`feederopt.algorithms.single_tree`).
    BENDERS_SCIP = "benders-scip"
    MISOCP = "misocp"
    LINDISTFLOW = "lindistflow"


#: The most worker processes per core that ``workers`` accepts: the slaves are CPU-bound, so
#: more only adds memory and start-up time.
WORKERS_PER_CORE = 4

class WorstCaseOracle(StrEnum):
    """How the robust method (:mod:`feederopt.algorithms.robust`, its step 2) finds the worst
    extreme point."""

    AUTO = "auto"  # monotone where it is exact, else enumerate up to max_vertices, else dual
    MONOTONE = "monotone"  # the upper corner (passive feeder, box without budget)
    ENUMERATE = "enumerate"  # every extreme point
    DUAL = "dual"  # the exact MISOCP search of feederopt.algorithms.worstcase




@dataclass(frozen=True)
class Stop:
    """When a solve stops: the time limit [s], the relative gap, the iteration limit.
    ``time_limit`` (the spelling of :func:`feederopt.solve`) is taken for ``time_limit_s``
    (:func:`_spelled_as_given`), and a problem of the time limit names it as given."""

    time_limit_s: float = 600.0
    gap: float = 1e-4
    iteration_limit: int = 10_000

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)


@dataclass(frozen=True)
class Limits:
    """Limits that replace the network's own: the voltage band [p.u.] of every bus but one
    held at its set-point (:func:`~feederopt.network.limits.held_set_points`: a source's
    without an OLTC, one that voltage-controlling generators hold), every rating
    scaled to ``max_loading_percent`` of itself, or no current and thermal limits at all."""

    v_min: float | None = None
    v_max: float | None = None
    max_loading_percent: float | None = None
    thermal_limits: bool = True

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)

    @property
    def changes_network(self) -> bool:
        return (self.v_min is not None or self.v_max is not None
                or self.max_loading_percent is not None or not self.thermal_limits)

    def to_dict(self) -> dict[str, Any]:
        """The limits that replace the network's own, as a result's JSON records them
        (``v_min_pu``, ``v_max_pu``, ``max_loading_percent``; ``thermal_limits`` when false);
        empty when none does."""
        out: dict[str, Any] = {}
        if self.v_min is not None:
            out["v_min_pu"] = float(self.v_min)
        if self.v_max is not None:
            out["v_max_pu"] = float(self.v_max)
        if self.max_loading_percent is not None:
            out["max_loading_percent"] = float(self.max_loading_percent)
        if not self.thermal_limits:
            out["thermal_limits"] = False
        return out


#: The smallest loss price [per MWh] (``Costs.loss_price_per_mwh``): the objective counts money at
#: ``1000 / price`` kW per unit and hour, and above 1e6 the losses fall under the solvers'
#: tolerances (measured: 1e-4 per MWh gave a relaxation that was not exact, 1e-6 an unbounded
#: phase 2; 1e-3 matched pandapower's runopp to 1e-5 relative, user test ut42_recheck_a).
MIN_LOSS_PRICE_PER_MWH = 1e-3


@dataclass(frozen=True)
class Costs:
    """``switch_cost_kw``: kW of losses charged per switching action (against the base case),
    replacing the branches' ``switch_cost`` column. ``loss_price_per_mwh``: the price of lost
    energy, which puts the generators' ``cost_per_mwh`` into the objective."""

    switch_cost_kw: float | None = None
    loss_price_per_mwh: float | None = None

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)


#: What a scenario run minimises over its scenarios (:class:`Scenarios`): ``expected``, the
#: probability-weighted sum, or ``worst``, the largest (:mod:`feederopt.algorithms.stochastic`).
SCENARIO_OBJECTIVES = ("expected", "worst")


@dataclass(frozen=True)
class Scenarios:
    """Stochastic: one topology for the scenarios of ``table`` (a ScenarioSet, a long table or
    its path), minimising expected losses plus ``penalty`` [kW per p.u.] times the expected
    slack (``objective="expected"``: ``sum_s w_s (losses_s + penalty * slack_s)``), or the
    worst scenario's (``objective="worst"``: ``max_s (losses_s + penalty * slack_s)``); the
    switching cost is added once, outside the expectation or the maximum."""

    table: Any
    penalty: float = DEFAULT_PENALTY
    objective: str = "expected"

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)


@dataclass(frozen=True)
class Box:
    """Robust: feasible for every load in ``nominal * (1 +- fraction)`` (the loads
    ``uncertain_loads``, default all; at most ``budget`` of them away from nominal), minimising
    the worst-case losses. ``oracle``: how the worst extreme point is found (``auto``,
    ``enumerate`` or ``dual``)."""

    fraction: float
    uncertain_loads: tuple[str, ...] | None = None
    budget: int | None = None
    oracle: str = "auto"
    oracle_time_limit_s: float = 300.0
    max_vertices: int | None = None
    #: ``(a, b)`` [p.u.]: every source bus anywhere in ``a <= vm <= b``, independently (the
    #: robust set is the load box times this band; the extreme points take each source at
    #: ``a`` or ``b``, :mod:`feederopt.algorithms.robust`). None: every source held at the
    #: network's set-point.
    source_vm_band: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)


@dataclass(frozen=True)
class Execution:
    """Where the uncertain solves' slaves run: ``workers`` processes (None: all cores) or a Ray
    cluster (``ray_address``; ``auto`` joins the running local cluster or starts a local
    Ray, ``local`` starts one: :func:`feederopt.execution.make_executor`)."""

    workers: int | None = None
    ray_address: str | None = None

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)


@dataclass(frozen=True)
class Devices:
    """The controllable devices (capacitor steps, OLTC taps, DG commitment, flexible loads):
    ``fixed`` keeps them at their base settings (reconfiguration only); ``controls`` names the
    kinds the optimiser may set (None: every kind the network has)."""

    fixed: bool = False
    controls: tuple[str, ...] | None = None

    def kinds(self) -> frozenset[Control]:
        if self.fixed:
            return frozenset()
        if self.controls is None:
            return frozenset(Control)
        return frozenset(Control(c) for c in self.controls)


@dataclass(frozen=True)
class Holds:
    """Switchable branches held in a state for this solve, in every method, without editing
    the network (:mod:`feederopt.problems.holds`): ``closed`` and ``open`` are branch ids as
    the tool prints them (``line:11``, ``trafo:0``, ``switch:0``), or for a pandapower net a
    switch element (``switch:K``, ``switch K`` or its unique name). None: no hold."""

    closed: tuple[str, ...] | None = None
    open: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SolveOptions:
    """Every option of a solve, checked when it is built: bad values raise
    :class:`~feederopt.errors.InputError` at once, with every problem of :meth:`check`
    (``SolveOptions(limits=Limits(v_min=95))`` did not fail until ``solve``; user test
    ut39_api). ``validate=False`` builds it unchecked, for a caller that reports the
    options' problems with problems of its own, all at once (the command line, with its
    output paths): :meth:`check` lists them, :meth:`checked` raises them."""

    method: Method | str = Method.BENDERS
    stop: Stop = field(default_factory=Stop)
    radiality: RadialityModel | str = DEFAULT_RADIALITY
    #: The conic solver: the slaves' for benders and the uncertain methods (CLARABEL, MOSEK,
    #: ...), the model's for misocp (SCIP, GUROBI, MOSEK); None for the default.
    solver: str | None = None
    costs: Costs = field(default_factory=Costs)
    limits: Limits = field(default_factory=Limits)
    uncertainty: Scenarios | Box | None = None
    execution: Execution = field(default_factory=Execution)
    devices: Devices = field(default_factory=Devices)
    holds: Holds = field(default_factory=Holds)
    #: Hold every generator that is not a DOPF device at its data set-point (``p_mw``; and
    #: ``q_mvar`` where it holds no voltage) in every method and the AC check
    #: (:func:`~feederopt.network.devices.held_generation`): MATPOWER's ``runpf`` injections.
    #: False (default): dispatched within ``p_min_mw..p_max_mw`` (``q_min_mvar..q_max_mvar``)
    #: at no cost unless ``loss_price_per_mwh`` prices them.
    fixed_generation: bool = False
    ac_check: bool = True
    #: After the solve, move the answer by single branch exchanges judged by the AC power flow
    #: (:mod:`feederopt.validation.ac_polish`); nominal solves only, with the AC check.
    ac_polish: bool = False
    #: The DistFlow rows in the Benders master (partial Benders); off only for experiments.
    master_physics: bool = True
    #: Conic probing and the loop branch-and-bound before the master (benders, benders-scip;
    #: :mod:`feederopt.algorithms.probing`). False leaves the proof to the master alone: a
    #: ``benders-scip`` run is then a cross-check of ``benders`` that shares no proof with it
    #: (on case33bw and case69bw probing closes the gap before any master iteration, so the
    #: SCIP tree never ran; user test ut43_optima #8).
    probing: bool = True
    s_base_mva: float = 1.0
    #: Options given that do not apply to this solve (``"budget needs robust"``), and lists
    #: with an empty entry (``--hold-closed a,,b``): refused, as (field, message, hint).
    misplaced: tuple[tuple[str, str, str], ...] = ()
    #: False: not checked when built (the class docstring); not a field.
    validate: InitVar[bool] = True

    def __post_init__(self, validate: bool) -> None:
        plain_fields(self)  # NumPy scalars as Python's (feederopt.scalars)
        if validate:
            problems = self.check()
            if problems:
                raise InputError([p.renamed(self._field_spellings()) for p in problems])

    def _field_spellings(self) -> dict[str, str]:
        """The options of :meth:`check`'s problems (named by :func:`solve_options`'s
        keywords) as the fields of the parts given spell them: built as
        ``SolveOptions(stop=Stop(time_limit_s=-1))``, the problem names ``time_limit_s``,
        not ``time_limit`` with the hint ``time_limit=600`` (user test ut50_pyapi #6); a
        ``Stop(time_limit=...)`` keeps ``time_limit``. For the problems raised when the
        options are built directly; :func:`solve_options` and the command line name their
        own keywords and flags."""
        names = {"oracle_time_limit": "oracle_time_limit_s"}
        if "time_limit" not in getattr(self.stop, _GIVEN, ()):
            names["time_limit"] = "time_limit_s"
        return names

    # ------------------------------------------------------------------------------------------
    def check(self) -> list[Problem]:
        """Every problem of these options (empty when they are good), each naming its option."""
        out: list[Problem] = []

        def bad(name: str, message: str, hint: str = "") -> None:
            out.append(Problem(ProblemKind.INVALID_VALUE, "options", message, field=name,
                               hint=hint))

        for name, message, hint in self.misplaced:
            bad(name, message, hint)
        parts = self._part_problems()
        if parts:  # the checks below read the parts' fields: refused typed, not an
            return out + parts  # AttributeError from inside check()
        # a switch given as a string ("false") was taken as true (user test ut_io #5)
        out += switch_problems(ac_check=self.ac_check, ac_polish=self.ac_polish,
                               master_physics=self.master_physics, probing=self.probing,
                               thermal_limits=self.limits.thermal_limits,
                               fix_devices=self.devices.fixed,
                               fixed_generation=self.fixed_generation)
        method = _enum(Method, self.method)
        if method is None:
            bad("method", f"unknown method {self.method!r}",
                "use one of " + ", ".join(m.value for m in Method))
        if _enum(RadialityModel, self.radiality) is None:
            bad("radiality", f"unknown radiality model {self.radiality!r}",
                "use one of " + ", ".join(m.value for m in RadialityModel))
        stop = self.stop
        out += gap_problems(stop.gap)
        out += time_limit_problems(stop.time_limit_s)
        if not (is_whole(stop.iteration_limit) and stop.iteration_limit >= 1):
            bad("iteration_limit", "the iteration limit must be a positive whole number, not "
                f"{shown_value(stop.iteration_limit)}", "e.g. 10000")
        out += self._limit_problems()
        out += self._cost_problems()
        out += self._uncertainty_problems(method)
        out += self._execution_problems()
        out += self._device_problems(method)
        out += self._hold_problems()
        out += self._polish_problems()
        if self.solver is not None and not isinstance(self.solver, str):
            bad("solver", f"solver must be a solver's name (a string), not "
                f"{shown_value(self.solver, typed=True)}",
                "e.g. solver='CLARABEL' (benders' slaves) or 'SCIP' (misocp); None for the "
                "default")
        elif self.solver is not None and method is None:
            # the method is unknown: the solver's own problems (unknown, not installed) all
            # the same, so that every problem is reported at once
            socp = solver_problems(self.solver, mixed_integer=False)
            if socp and solver_problems(self.solver, mixed_integer=True):
                out += socp
        elif self.solver is not None:
            if method is Method.LINDISTFLOW and self.uncertainty is None:
                bad("solver", f"{option_ref('solver')} does not apply to lindistflow (a MILP, "
                    "always HiGHS)", f"leave {option_ref('solver')} out, or use "
                    f"{option_ref('method', 'benders')} or misocp")
            else:
                mixed = method is Method.MISOCP and self.uncertainty is None
                out += solver_problems(self.solver, mixed_integer=mixed)
        if not (is_finite(self.s_base_mva) and self.s_base_mva > 0):
            bad("s_base_mva", "the base power must be positive", "e.g. 1.0")
        if self.probing is False and method is not None and (
                method not in (Method.BENDERS, Method.BENDERS_SCIP)
                or self.uncertainty is not None):
            bad("probing", f"{option_ref('probing', False)} applies to a benders or "
                "benders-scip solve without scenarios or robust (the others do not probe)",
                f"leave {option_ref('probing', False)} out, or use "
                f"{option_ref('method', 'benders-scip')}")
        return out

    def checked(self) -> SolveOptions:
        """These options with the method and radiality as enums; :class:`InputError` with every
        problem of :meth:`check`."""
        problems = self.check()
        if problems:
            raise InputError(problems)
        return replace(self, method=_enum(Method, self.method),
                       radiality=_enum(RadialityModel, self.radiality))

    # ------------------------------------------------------------------------------------------
    def _part_problems(self) -> list[Problem]:
        """The grouped options (``stop``, ``limits``, ...) that are not their class: the
        fields of a ``Stop`` cannot be read from ``None`` or a dict (user test ut_api2:
        ``SolveOptions(stop=None)`` ended in an AttributeError inside :meth:`check`)."""
        out: list[Problem] = []
        parts: tuple[tuple[str, Any, tuple[type, ...], str], ...] = (
            ("stop", self.stop, (Stop,), "Stop(time_limit_s=60, gap=1e-4)"),
            ("limits", self.limits, (Limits,), "Limits(v_min=0.9, v_max=1.1)"),
            ("costs", self.costs, (Costs,), "Costs(switch_cost_kw=5)"),
            ("execution", self.execution, (Execution,), "Execution(workers=2)"),
            ("devices", self.devices, (Devices,), "Devices(fixed=True)"),
            ("holds", self.holds, (Holds,), "Holds(closed=('line:11',))"),
            ("uncertainty", self.uncertainty, (Scenarios, Box, type(None)),
             "Scenarios('s.parquet'), Box(0.1) or None"),
        )
        for name, value, kinds, example in parts:
            if not isinstance(value, kinds):
                out.append(_option_problem(
                    name, f"{name} must be a feederopt.options."
                    f"{' or '.join(k.__name__ for k in kinds if k is not type(None))}, not "
                    f"{shown_value(value)}", f"e.g. {name}={example}; or leave it out for the "
                    "default (feederopt.solve(net, time_limit=60, v_min=0.9, ...) builds them)"))
        return out

    def _polish_problems(self) -> list[Problem]:
        """``ac_polish`` needs the AC check (it is its judge) and one operating point: the
        branch exchange judges the nominal loads, not a scenario set or a box."""
        if not self.ac_polish:
            return []
        out: list[Problem] = []
        if not self.ac_check:
            out.append(_option_problem(
                "ac_polish", f"{option_ref('ac_polish', True)} needs the AC check: its power "
                "flow judges every branch exchange",
                f"leave {option_ref('ac_check', False)} out, or {option_ref('ac_polish', True)}"))
        if self.uncertainty is not None:
            scenarios = isinstance(self.uncertainty, Scenarios)
            kind = option_ref("scenarios" if scenarios else "robust")
            out.append(_option_problem(
                "ac_polish", f"{option_ref('ac_polish', True)} does not apply to {kind}: the "
                "branch exchange judges one AC operating point, and the answer must hold for "
                "every " + ("scenario" if scenarios else "load in the box"),
                f"leave {option_ref('ac_polish', True)} out with {kind}, or polish the nominal "
                f"loads' answer without {kind}"))
        return out

    def _limit_problems(self) -> list[Problem]:
        lim = self.limits
        return (voltage_limit_problems(lim.v_min, lim.v_max)
                + loading_problems(lim.max_loading_percent))

    def _cost_problems(self) -> list[Problem]:
        costs, out = self.costs, []
        out += switch_cost_problems(costs.switch_cost_kw)
        if costs.loss_price_per_mwh is not None:
            if not (is_finite(costs.loss_price_per_mwh) and costs.loss_price_per_mwh > 0):
                # inf and nan are not prices either: the message says finite (nits #2)
                out.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                   "the loss price must be a finite positive number (per MWh), "
                                   f"not {shown_value(costs.loss_price_per_mwh)}",
                                   field="loss_price_per_mwh",
                                   hint=f"e.g. {option_ref('loss_price_per_mwh', 50)}"))
            elif costs.loss_price_per_mwh < MIN_LOSS_PRICE_PER_MWH:
                # user test ut42_recheck_a E: 1e-6 ended "phase 2: unbounded" (exit 1), 1e-4
                # "optimal" with the relaxation not exact (model 22.1 kW, AC 33.8 kW)
                out.append(Problem(
                    ProblemKind.INVALID_VALUE, "options",
                    f"the loss price {shown_value(costs.loss_price_per_mwh)} per MWh is below "
                    f"{MIN_LOSS_PRICE_PER_MWH:g}: money enters the objective at 1000/price kW "
                    f"per unit and hour, above {1000 / MIN_LOSS_PRICE_PER_MWH:g} the losses "
                    "fall under the solvers' tolerances (the relaxation is no longer exact, "
                    "the solve may end unbounded)", field="loss_price_per_mwh",
                    hint=f"give at least {option_ref('loss_price_per_mwh', MIN_LOSS_PRICE_PER_MWH)}"
                    "; to minimise money alone a price of 0.001 leaves losses a millionth "
                    "of the weight"))
            elif self.uncertainty is not None:
                out.append(Problem(
                    ProblemKind.INVALID_VALUE, "options",
                    f"{option_ref('loss_price_per_mwh')} does not apply to "
                    f"{option_ref('scenarios')} or {option_ref('robust')}: their slaves "
                    "price losses only", field="loss_price_per_mwh",
                    hint=f"leave {option_ref('loss_price_per_mwh')} out, or solve the nominal "
                    f"loads without {option_ref('scenarios')}/{option_ref('robust')}"))
        return out

    def _uncertainty_problems(self, method: Method | None) -> list[Problem]:
        unc, out = self.uncertainty, []

        def bad(name: str, message: str, hint: str = "") -> None:
            out.append(Problem(ProblemKind.INVALID_VALUE, "options", message, field=name,
                               hint=hint))

        if unc is None:
            return out
        kind = option_ref("scenarios" if isinstance(unc, Scenarios) else "robust")
        if method is not None and method is not Method.BENDERS:
            bad("method", f"{option_ref('method', method.value)} does not apply to {kind}: "
                "it is solved by " + ("multi-cut Benders" if isinstance(unc, Scenarios) else
                   "a cutting plane over the extreme points"),
                f"leave {option_ref('method')} out with {kind}, or solve the nominal loads "
                f"with {option_ref('method', method.value)}")
        if isinstance(unc, Scenarios):
            from feederopt.io.scenarios import ScenarioSet, scenario_source_problems

            if not isinstance(unc.table, ScenarioSet):
                # a bare TypeError from pathlib once the solve had begun (user test ut_api2);
                # named by its type only: a pandas frame's repr was the whole table (ut35)
                out += scenario_source_problems(unc.table)
            if not (is_finite(unc.penalty) and unc.penalty > 0):
                bad("penalty", f"the penalty must be positive, not {unc.penalty}", "e.g. 1e5")
            if unc.objective not in SCENARIO_OBJECTIVES:
                bad("objective", f"the objective must be one of "
                    f"{', '.join(SCENARIO_OBJECTIVES)}, not {unc.objective!r}",
                    f"{option_ref('objective', 'expected')} (the probability-weighted "
                    f"losses) or {option_ref('objective', 'worst')} (the worst scenario's)")
        else:
            if not (is_finite(unc.fraction) and unc.fraction >= 0):
                bad("robust", f"the uncertainty must be a fraction >= 0, not {unc.fraction}",
                    f"e.g. {option_ref('robust', 0.1)} for +-10 %")
            elif unc.fraction > 1:
                bad("robust", f"the uncertainty {unc.fraction} is above 1: the lower corner "
                    "of the box would turn loads into generators",
                    "give a fraction of the nominal load up to 1, e.g. "
                    f"{option_ref('robust', 0.3)} for +-30 %")
            # the loads the network lacks: api.option_id_problems, with these at once
            out += id_list_problems(option_ref("uncertain_loads"), unc.uncertain_loads,
                                    "load", field="uncertain_loads",
                                    example=f"e.g. {option_ref('uncertain_loads', ('18', '33'))}")
            if unc.budget is not None and not (is_whole(unc.budget) and unc.budget >= 0):
                bad("budget", f"the budget must be a whole number >= 0, not {unc.budget}",
                    f"e.g. {option_ref('budget', 3)}")
            if unc.oracle not in tuple(WorstCaseOracle):
                bad("oracle", f"unknown worst-case oracle {unc.oracle!r}",
                    ", ".join(WorstCaseOracle))
            if not (is_number(unc.oracle_time_limit_s) and unc.oracle_time_limit_s > 0):
                bad("oracle_time_limit", "the oracle's time limit must be positive", "e.g. 300")
            if unc.max_vertices is not None and not (is_whole(unc.max_vertices)
                                                     and unc.max_vertices >= 1):
                bad("max_vertices", "max_vertices must be at least 1", "e.g. 1024")
            if unc.source_vm_band is not None:
                out += source_vm_band_problems(unc.source_vm_band)
        return out

    def _device_problems(self, method: Method | None) -> list[Problem]:
        dev, out = self.devices, []

        def bad(name: str, message: str, hint: str = "") -> None:
            out.append(Problem(ProblemKind.INVALID_VALUE, "options", message, field=name,
                               hint=hint))

        if dev.controls is not None and not dev.controls:
            bad("controls", f"{option_ref('controls')} names no control (an empty list would "
                "set no device while reading as a distribution OPF)",
                "give some of " + ", ".join(c.value for c in Control)
                + f", or {option_ref('fix_devices', True)} to set none")
        if dev.controls is not None:
            unknown = [c for c in dev.controls if _enum(Control, c) is None]
            if unknown:
                bad("controls", f"unknown control(s) {', '.join(map(repr, unknown))}",
                    "use some of " + ", ".join(c.value for c in Control))
            if dev.fixed:
                bad("controls", f"{option_ref('controls')} and "
                    f"{option_ref('fix_devices', True)} exclude each other",
                    "leave one out")
            if self.uncertainty is not None:
                bad("controls", f"{option_ref('controls')} does not apply to "
                    f"{option_ref('scenarios')} or {option_ref('robust')}: their devices stay "
                    "at the base settings", f"leave {option_ref('controls')} out")
            if method is Method.LINDISTFLOW:
                bad("controls", f"{option_ref('controls')} does not apply to lindistflow",
                    f"use {option_ref('method', 'benders')} or misocp")
        return out

    def _hold_problems(self) -> list[Problem]:
        """The holds' problems that need no network: a list that names no branch, a branch
        named twice in one list or in both (the network's: unknown ids, branches that are not
        switchable, :func:`feederopt.problems.holds.resolve_holds`)."""
        out: list[Problem] = []
        for name, refs in (("hold_closed", self.holds.closed),
                           ("hold_open", self.holds.open)):
            # a neutral example: the network's ids come in once it is read
            # (feederopt.problems.holds.with_hold_examples; user test ut40_docs #3)
            out += id_list_problems(option_ref(name), refs, "branch", field=name,
                                    example=empty_hold_example(name))
        both = sorted(set(self.holds.closed or ()) & set(self.holds.open or ()))
        if both:
            out.append(Problem(ProblemKind.INVALID_VALUE, "options",
                               "branches held both closed and open: " + ", ".join(both),
                               tuple(both), "hold_open",
                               f"name each branch in one of {option_ref('hold_closed')} and "
                               f"{option_ref('hold_open')}"))
        return out

    def _execution_problems(self) -> list[Problem]:
        """``ray_address`` only with ``scenarios``/``robust``; a worker count is checked
        (:func:`workers_problems`) but taken on any solve: without them it does not apply
        (:func:`workers_note` says so). Scripts that always pass ``--workers N`` had to
        leave it out of a plain solve, which refused it with exit code 2 (user test
        ut40_realg5 #2)."""
        ex, out = self.execution, []
        if ex.ray_address is not None and self.uncertainty is None:
            flag = option_ref("ray_address")
            out.append(Problem(
                ProblemKind.INVALID_VALUE, "options",
                f"{flag} only applies to {option_ref('scenarios')} and "
                f"{option_ref('robust')} solves", field="ray",
                hint=f"a deterministic solve runs in one process; leave {flag} out or add "
                f"{option_ref('scenarios', 'FILE')} or {option_ref('robust', 'X')}"))
        return out + ray_address_problems(ex.ray_address) + workers_problems(ex.workers)


_P = ParamSpec("_P")
_R = TypeVar("_R")

#: The attribute of a function wrapped by :func:`option_names` that holds its aliases
#: (alias -> canonical keyword), read by the functions that pass keywords on to it.
_ALIASES = "__option_aliases__"

#: The aliases of the options that the entry points spell in two ways: the balanced solve's
#: ``time_limit``/``v_min``/``v_max`` (:func:`solve_options`, the CLI's ``--time-limit``,
#: ``--v-min``) and the unit-suffixed ``time_limit_s``/``v_min_pu``/``v_max_pu`` of
#: :func:`~feederopt.solve_three_phase`, ``schedule``, ``partition``, ``restore`` and ``plan``
#: (and of result.json). Each entry point takes its canonical spelling and the other one;
#: each map (alias -> canonical) is named after the canonical spelling.
TIME_LIMIT_S = {"time_limit": "time_limit_s"}
TIME_LIMIT = {"time_limit_s": "time_limit"}
VOLTAGE_LIMITS_PU = {"v_min": "v_min_pu", "v_max": "v_max_pu"}
VOLTAGE_LIMITS = {"v_min_pu": "v_min", "v_max_pu": "v_max"}


#: The two spellings of one option across the entry points (the balanced solve's, the
#: unit-suffixed one of the others and of result.json): :func:`given_spellings`.
SPELLINGS = (("time_limit", "time_limit_s"), ("v_min", "v_min_pu"), ("v_max", "v_max_pu"),
             ("oracle_time_limit", "oracle_time_limit_s"))


def given_spellings(keywords: Mapping[str, Any]) -> dict[str, str]:
    """For the keywords a Python caller gave, the renaming (keyword -> keyword) of the
    options of :data:`SPELLINGS` into the caller's spelling, for the problems an entry point
    raises (:meth:`~feederopt.errors.Problem.renamed`): an option given is named as given
    (``restore(time_limit_s=-1)`` was told of ``options.time_limit``), one not given in the
    spelling of the others given (``v_max`` as ``v_max_pu`` beside ``v_min_pu=95``). Empty
    for the command line (its flags are one spelling) and without such keywords."""
    if not python_caller():
        return {}
    out: dict[str, str] = {}
    styles = set()
    for pair in SPELLINGS:
        for k, name in enumerate(pair):
            if name in keywords and pair[1 - k] not in keywords:
                out[pair[1 - k]] = name
                styles.add(k)
    if len(styles) == 1:
        (k,) = styles
        for pair in SPELLINGS:
            if pair[0] not in keywords and pair[1] not in keywords:
                out[pair[1 - k]] = pair[k]
    return out


def _keyword_names(target: Callable[..., Any]) -> set[str]:
    """The keywords ``target`` takes: a dataclass's init fields, else a function's named
    parameters (with the aliases it accepts, when it is wrapped by :func:`option_names`)."""
    if dataclasses.is_dataclass(target):
        return {f.name for f in dataclasses.fields(target) if f.init}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = {p.name for p in inspect.signature(target).parameters.values() if p.kind in kinds}
    return names | set(getattr(target, _ALIASES, {}))


#: How close (:class:`difflib.SequenceMatcher` ratio) an unknown keyword must be to an option
#: for the problem to suggest it: ``time_limt`` is 0.95 of ``time_limit``, ``max_loading``
#: 0.73 of ``max_loading_percent``, ``out`` 0.67 of ``robust`` (suggested before, user test
#: ut48_pyapi #6).
CLOSE_ENOUGH = 0.7

#: The hints of keywords that ask a function returning a result to write files.
_WRITERS = {k: "this function returns the result and writes no files: "
               "feederopt.save(result, PATH) writes its folder (the command line's --out), "
               "feederopt.save_json(result, PATH) its JSON (--json)" for k in ("out", "json")}


def option_names(aliases: Mapping[str, str] | None = None, *,
                 passes_to: Callable[..., Any] | None = None, name: str | None = None,
                 ) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A decorator for the public API's entry points: ``aliases`` (alias -> canonical keyword,
    e.g. :data:`TIME_LIMIT_S`) are taken for their canonical keyword, so that
    ``solve_three_phase(src, time_limit=60, v_min=0.95)`` is ``time_limit_s=60,
    v_min_pu=0.95``; the function itself sees the canonical keyword only. Raises
    :class:`~feederopt.errors.OptionNameError` (an :class:`~feederopt.errors.InputError`
    and a :class:`TypeError`) with one problem per keyword when an option is given in both
    spellings at once (naming both), and when a keyword names no option: neither a parameter
    nor an alias nor, for a function with ``**keywords``, a keyword of ``passes_to`` (the
    function or dataclass they go to); the problem's hint names the closest keyword
    (:func:`difflib.get_close_matches`, at a ratio of :data:`CLOSE_ENOUGH`: ``out`` was "did
    you mean 'robust'?"); ``out`` and ``json`` to a function that writes no files point to
    :func:`feederopt.save`. ``name``: the public name of the function, when it is not its
    ``__name__`` (``solve_options``, built from ``_flat_options``, was named by the latter).
    The aliases are appended to the docstring."""
    own = dict(aliases or {})

    def decorate(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        params = inspect.signature(fn).parameters.values()
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        named = _keyword_names(fn)
        shown = {**own, **(getattr(passes_to, _ALIASES, {}) if passes_to else {})}
        for alias, canonical in own.items():
            if canonical not in named or alias in named:
                raise ValueError(f"{fn.__name__}: alias {alias!r} of {canonical!r}")
        known: set[str] | None = None if takes_any and passes_to is None else (
            named | set(own) | (_keyword_names(passes_to) if passes_to else set()))
        choices = sorted(known or ())

        @functools.wraps(fn)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            problems: list[Problem] = []
            as_given = given_spellings(kwargs)
            for alias, canonical in own.items():
                if alias not in kwargs:
                    continue
                if canonical in kwargs:
                    problems.append(Problem(
                        ProblemKind.INVALID_VALUE, "options",
                        f"{canonical} and {alias} are two names of one option: give one",
                        field=canonical, hint=f"{canonical}={kwargs[canonical]!r} (or "
                        f"{alias}=..., its alias), not both"))
                else:
                    kwargs[canonical] = kwargs.pop(alias)
            public = name or fn.__name__
            for key in [] if known is None else [k for k in kwargs if k not in known]:
                close = difflib.get_close_matches(key, choices, n=1, cutoff=CLOSE_ENOUGH)
                problems.append(Problem(
                    ProblemKind.INVALID_VALUE, "options",
                    f"{public}() has no option {key!r}", field=key,
                    hint=f"did you mean {close[0]!r}?" if close else _WRITERS.get(
                        key, f"see help(feederopt.{public}) for its options")))
            if problems:
                raise OptionNameError(problems)
            # NumPy scalars as Python's, for every check and for what is passed on
            # (feederopt.scalars; user test ut41_pyapi #1)
            args = tuple(plain(a) for a in args)  # type: ignore[assignment]
            kwargs = {k: plain(v) for k, v in kwargs.items()}  # type: ignore[assignment]
            if not as_given:
                return fn(*args, **kwargs)
            try:
                return fn(*args, **kwargs)
            except InputError as exc:
                # the options named as the caller gave them (v_min_pu=95 to partition was
                # told of options.v_min, hint v_min=0.9: user test ut48_pyapi #7)
                exc.problems = [p.renamed(as_given) for p in exc.problems]
                exc.args = (str(exc),)
                raise

        if name is not None:
            wrapper.__name__ = wrapper.__qualname__ = name
        setattr(wrapper, _ALIASES, shown)
        if shown and wrapper.__doc__:
            pairs = ", ".join(f"``{a}`` for ``{c}``" for a, c in sorted(shown.items()))
            note = textwrap.fill(f"Also accepted (aliases, the spelling of other entry "
                                 f"points): {pairs}; not both spellings at once.", 92,
                                 initial_indent="    ", subsequent_indent="    ")
            wrapper.__doc__ = wrapper.__doc__.rstrip() + "\n\n" + note + "\n    "
        return wrapper

    return decorate


#: The attribute of an options part (a :class:`Stop`) that holds the aliases its caller
#: gave (``{"time_limit"}`` for ``Stop(time_limit=60)``): :meth:`SolveOptions._field_spellings`.
_GIVEN = "_given_aliases"


def _spelled_as_given(cls: type[Any], aliases: Mapping[str, str]) -> None:
    """Let the dataclass ``cls`` take ``aliases`` (alias -> field) for its fields, by
    :func:`option_names` (both spellings at once, or a keyword that names no field, is an
    :class:`~feederopt.errors.OptionNameError`, an InputError and a TypeError, with the
    closest field as hint), and record which aliases were given (:data:`_GIVEN`, not a field:
    equality, hashing and :func:`dataclasses.replace` ignore it). ``Stop(time_limit=5)``,
    the keyword :func:`feederopt.solve` takes, was a raw dataclass TypeError (user test
    ut50_pyapi #6)."""
    init = option_names(aliases, name=cls.__name__)(cls.__init__)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = frozenset(a for a in aliases if a in kwargs)
        init(self, *args, **kwargs)
        object.__setattr__(self, _GIVEN, given)

    cls.__init__ = __init__


_spelled_as_given(Stop, TIME_LIMIT_S)


def _flat_options(
    method: Method | str = Method.BENDERS,
    *,
    solver: str | None = None,
    gap: float = 1e-4,
    time_limit: float = 600.0,
    iteration_limit: int = 10_000,
    radiality: RadialityModel | str = DEFAULT_RADIALITY,
    ac_check: bool = True,
    master_physics: bool = True,
    probing: bool = True,
    switch_cost_kw: float | None = None,
    loss_price_per_mwh: float | None = None,
    v_min: float | None = None,
    v_max: float | None = None,
    max_loading_percent: float | None = None,
    thermal_limits: bool = True,
    scenarios: Any = None,
    penalty: float | None = None,
    objective: str | None = None,
    robust: float | None = None,
    uncertain_loads: Sequence[str] | str | None = None,
    budget: int | None = None,
    oracle: str | None = None,
    oracle_time_limit: float | None = None,
    max_vertices: int | None = None,
    source_vm_band: Sequence[float] | str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    fix_devices: bool = False,
    controls: Sequence[str] | str | None = None,
    hold_closed: Sequence[str] | str | None = None,
    hold_open: Sequence[str] | str | None = None,
    ac_polish: bool = False,
    fixed_generation: bool = False,
) -> SolveOptions:
    """:func:`solve_options` unchecked (``SolveOptions(..., validate=False)``): for the
    command line and :func:`feederopt.solve`, which report the options' problems
    (:meth:`SolveOptions.check`) with those of the outputs or the network, all at once.
    Options that belong to a mode not asked for are recorded for :meth:`~SolveOptions.check`
    to refuse."""
    misplaced: list[tuple[str, str, str]] = []
    # an empty entry of a comma-separated list ("--hold-closed a,,b") or of a Python list
    # (hold_closed=["a", "", "b"]) is an id left out: refused with the other problems
    # (split_ids and id_list drop it)
    # (their option references kept unspelled: hold_closed from Python, --hold-closed on the
    # command line)
    for name, text in (("uncertain_loads", uncertain_loads), ("controls", controls),
                       ("hold_closed", hold_closed), ("hold_open", hold_open)):
        misplaced += [(p.field or "", *p.unspelled) for p in blank_entry_problems(name, text)]
    uncertainty: Scenarios | Box | None = None
    if scenarios is not None and robust is not None:
        # a robust run has no scenarios, nor their source voltages (source rows): it holds
        # every source at the network's set-point, so the file is refused, not half-used
        misplaced.append(("robust", f"{option_ref('scenarios')} and {option_ref('robust')} "
                          "exclude each other",
                          "run one of the two: a robust run takes no scenario file, and holds "
                          "every source at the network's set-point (v_set_pu, a pandapower "
                          "ext_grid's vm_pu), so a file's source rows (vm_pu) would not "
                          f"apply; {option_ref('scenarios', 'FILE')} holds each scenario's "
                          "source at its vm_pu; for a robust run over a band of source "
                          f"voltages give {_BAND_REF}; a check of a result "
                          f"takes {option_ref('source_vm', 'VM')} to hold every source at VM"))
    if scenarios is not None:
        uncertainty = Scenarios(scenarios, DEFAULT_PENALTY if penalty is None else penalty,
                                "expected" if objective is None else objective)
    else:
        if penalty is not None:
            misplaced.append(("penalty", "penalty needs scenarios", "add scenarios=TABLE"))
        if objective is not None:
            misplaced.append(("objective", f"{option_ref('objective')} needs "
                              f"{option_ref('scenarios')}",
                              f"add {option_ref('scenarios', 'FILE')}; a robust run always "
                              "minimises the worst case over its box"))
    robust_only = {"uncertain_loads": uncertain_loads, "budget": budget, "oracle": oracle,
                   "oracle_time_limit": oracle_time_limit, "max_vertices": max_vertices,
                   "source_vm_band": source_vm_band}
    if robust is not None and scenarios is None:
        uncertainty = Box(
            # not a number ("abc"): kept, for check() to refuse it typed
            float(robust) if is_number(robust) else robust,
            # a blank entry is refused above (not an unknown load '' besides)
            id_list(uncertain_loads), budget,
            oracle or "auto", 300.0 if oracle_time_limit is None else oracle_time_limit,
            max_vertices, source_vm_band_of(source_vm_band))
    elif robust is None:
        given = [name for name, value in robust_only.items() if value is not None]
        if given:
            flags = " and ".join(option_ref(n) for n in given)
            verb = "needs" if len(given) == 1 else "need"
            misplaced.append((given[0], f"{flags} {verb} {option_ref('robust', 'X')}",
                              f"e.g. {option_ref('robust', 0.1)}"))
    return SolveOptions(
        method=method,
        stop=Stop(time_limit, gap, iteration_limit),
        radiality=radiality,
        solver=solver,
        costs=Costs(switch_cost_kw, loss_price_per_mwh),
        limits=Limits(v_min, v_max, max_loading_percent, thermal_limits),
        uncertainty=uncertainty,
        execution=Execution(workers, ray_address),
        devices=Devices(fix_devices, None if controls is None else (
            split_ids(controls) if isinstance(controls, str) else
            tuple(x.strip() for x in controls if x.strip()))),
        holds=Holds(_hold_list(hold_closed), _hold_list(hold_open)),
        fixed_generation=fixed_generation,
        ac_check=ac_check,
        ac_polish=ac_polish,
        master_physics=master_physics,
        probing=probing,
        misplaced=tuple(misplaced),
        validate=False,
    )


def _validated(build: Callable[_P, SolveOptions]) -> Callable[_P, SolveOptions]:
    """``build``, whose options are then checked: :class:`~feederopt.errors.InputError` with
    every problem of :meth:`SolveOptions.check`."""

    @functools.wraps(build)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> SolveOptions:
        options = build(*args, **kwargs)
        problems = options.check()
        if problems:
            raise InputError(problems)
        return options

    checked.__doc__ = """:class:`SolveOptions` from the flat keywords of the API and the CLI,
    checked at once: :class:`~feederopt.errors.InputError` lists every problem of the options
    (:meth:`SolveOptions.check`; ``solve_options(v_min=95)`` raises here, not in ``solve``),
    each naming the keyword given (``v_min=0.9`` in its hint). Options that belong to a mode
    not asked for (``budget`` without ``robust``) are refused. ``uncertain_loads``,
    ``hold_closed`` and ``hold_open`` may be comma-separated strings (the CLI's)."""
    return checked


#: The aliases that :func:`solve_options` takes (``time_limit_s`` for ``time_limit``, ...).
_SOLVE_ALIASES = {**TIME_LIMIT, **VOLTAGE_LIMITS, "oracle_time_limit_s": "oracle_time_limit"}
unchecked_solve_options = option_names(_SOLVE_ALIASES, name="unchecked_solve_options")(
    _flat_options)
solve_options = option_names(_SOLVE_ALIASES, name="solve_options")(_validated(_flat_options))


def id_list(ids: Sequence[str] | str | int | float | None) -> tuple[str, ...] | None:
    """Ids from a comma-separated string as the command line takes them
    (:func:`~feederopt.network.id_lists.split_ids`), a sequence, or one number; None stays
    None. Empty entries are dropped here: the callers refuse them with
    :func:`~feederopt.network.id_lists.blank_entry_problems`."""
    if ids is None:
        return None
    if isinstance(ids, int | float):
        return (str(ids),)
    if isinstance(ids, str):
        return split_ids(ids)
    return tuple(x.strip() for x in (str(x) for x in ids) if x.strip())


def _hold_list(ids: Sequence[str] | str | int | float | None) -> tuple[str, ...] | None:
    """A hold list: :func:`id_list`, except that an empty list or tuple from Python holds
    nothing, like None (a script that holds "every switch in its current state" builds an
    empty open list on a grid without an open switch; user test ut37_realg #3). The command
    line's empty string (``--hold-open ""``) stays ``()``, which :meth:`SolveOptions.check`
    refuses: it names no branch."""
    if ids is not None and not isinstance(ids, str | int | float) and len(ids) == 0:
        return None
    return id_list(ids)


def _enum(kind: type[StrEnum], value: Any) -> Any:
    """``value`` as a member of ``kind``, a name in any case and with blanks around taken
    (``method="MISOCP"`` was an "unknown method": user test ut48_pyapi #12); None when it is
    none."""
    try:
        return kind(value)
    except ValueError:
        if isinstance(value, str):
            try:
                return kind(value.strip().lower())
            except ValueError:
                return None
        return None


def _option_problem(name: str, message: str, hint: str) -> Problem:
    return Problem(ProblemKind.INVALID_VALUE, "options", message, field=name, hint=hint)


#: The largest switching cost [kW per action] a three-phase solve takes. The MILP's objective
#: carries ``c`` times the number of base-closed switches as a constant and ``+-c`` on their
#: states, so HiGHS's objective keeps the loss proxy's digits only while ``c`` is moderate: on
#: the ring of ``tests/test_threephase_scenarios.py`` (131.831 kW of proxy) it read 131.8310 kW
#: at 1e9, 132.0 at 1e15, 0.0 at 1e19, and none (bound 3e+21) at 1e21. A cost this large keeps
#: the base topology anyway.
MAX_SWITCH_COST_KW = 1e9


def switch_cost_problems(switch_cost_kw: Any, most: float = math.inf) -> list[Problem]:
    """A switching cost is a finite number >= 0 [kW per action], at most ``most`` (None: no
    cost): ``--switch-cost`` of balanced solves and, with :data:`MAX_SWITCH_COST_KW`, of
    three-phase ones."""
    if switch_cost_kw is None or (is_finite(switch_cost_kw) and 0 <= switch_cost_kw <= most):
        return []
    bound = f" and at most {most:g} (kW)" if math.isfinite(most) else ""
    what = ("a number (kW per switching action)" if not is_real(switch_cost_kw)
            else f"a finite number >= 0{bound}")
    return [Problem(ProblemKind.INVALID_VALUE, "options",
                    f"the switching cost must be {what}, not {shown_value(switch_cost_kw)}",
                    field="switch_cost_kw",
                    hint=f"e.g. {option_ref('switch_cost_kw', 5)} (any cost above the losses "
                    "the switching could save keeps the base topology)")]


def gap_problems(gap: Any, option: str = "gap") -> list[Problem]:
    """A relative optimality gap is a number in [0, 1): the rule of every command's ``--gap``."""
    if is_finite(gap) and 0 <= gap < 1:
        return []
    given = repr(gap) if isinstance(gap, str) else gap  # "0.01" is not 0.01 (user test)
    return [_option_problem(option, f"gap must be a number at least 0 and below 1 (it is "
                            f"relative), not {given}", "e.g. 1e-4 (0.01 %) or 0.01 (1 %)")]


#: A source band as the hints show it (``--source-vm-band 1.00:1.05``,
#: ``source_vm_band=(1.0, 1.05)``).
_BAND_REF = option_ref("source_vm_band", "(1.0, 1.05)", cli="--source-vm-band 1.00:1.05")


def source_vm_band_of(value: Any) -> Any:
    """A robust solve's source band as :class:`Box` keeps it: ``"a:b"`` (the command line's
    spelling) or a pair of numbers as the tuple ``(a, b)``; None stays None. Anything else
    is kept as it is, for :func:`source_vm_band_problems` to refuse typed."""
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 2:
            return value
        try:
            return (float(parts[0]), float(parts[1]))
        except ValueError:
            return value
    if isinstance(value, list | tuple) and len(value) == 2 and all(is_real(v) for v in value):
        return (float(value[0]), float(value[1]))
    return value


def source_vm_band_problems(band: Any) -> list[Problem]:
    """A robust solve's source band (``--source-vm-band a:b``, ``source_vm_band=(a, b)``) is
    two voltages [p.u.] ``a <= b``, each within the range a scenario file's ``source`` row
    and ``check --source-vm`` take (:data:`feederopt.io.scenarios.SOURCE_VM_RANGE`,
    0.8 - 1.2 p.u.)."""
    from feederopt.io.scenarios import SOURCE_VM_RANGE

    lo, hi = SOURCE_VM_RANGE
    pair = isinstance(band, tuple | list) and len(band) == 2 and all(
        is_finite(v) for v in band)
    if not pair:
        return [_option_problem(
            "source_vm_band", "the source band must be two voltages [p.u.] a:b, not "
            f"{shown_value(band, typed=not isinstance(band, str))}",
            f"e.g. {_BAND_REF}: every source (ext_grid) anywhere from 1.00 to 1.05 p.u.")]
    a, b = float(band[0]), float(band[1])
    if not (lo <= a <= hi and lo <= b <= hi):
        return [_option_problem(
            "source_vm_band", f"the source band {a:g}:{b:g} must lie within {lo:g} - {hi:g} "
            "p.u.", f"e.g. {_BAND_REF}")]
    if a > b:
        return [_option_problem(
            "source_vm_band", f"the source band's lower end {a:g} is above its upper end "
            f"{b:g}", f"give the lower end first: {b:g}:{a:g}")]
    return []


#: The hint of a bad voltage band, in the caller's spelling (``--v-min 0.9 --v-max 1.1``).
_BAND_EXAMPLE = f"e.g. {option_ref('v_min', 0.9)} {option_ref('v_max', 1.1)}"


def voltage_limit_problems(v_min: Any, v_max: Any) -> list[Problem]:
    """Voltage limits are numbers in p.u. between 0 and 2, the lower below the upper (None:
    the network's own): ``--v-min``/``--v-max`` of balanced and three-phase solves."""
    out: list[Problem] = []
    for name, value in (("v_min", v_min), ("v_max", v_max)):
        if value is not None and not (is_finite(value) and 0.0 < value < 2.0):
            out.append(Problem(ProblemKind.INVALID_VALUE, "options",
                               f"{option_ref(name)} must be a voltage in p.u. between 0 "
                               "and 2",
                               field=name, hint=_BAND_EXAMPLE))
    if v_min is not None and v_max is not None and not out and v_min >= v_max:
        out.append(Problem(ProblemKind.INVALID_VALUE, "options",
                           f"{option_ref('v_min')} ({v_min}) must be below "
                           f"{option_ref('v_max')} ({v_max})",
                           field="v_min", hint=_BAND_EXAMPLE))
    return out


def crossed_limit_problems(buses: Any, v_min: Any, v_max: Any,
                           generators: Any = None) -> list[Problem]:
    """One of ``--v-min``/``--v-max`` given alone, against the buses' own other limit (the
    ``v_min_pu``/``v_max_pu`` columns of a buses table, balanced or three-phase): a problem
    naming the buses where the given limit is not below (above) theirs; not a bus held at its
    set-point (:func:`~feederopt.network.limits.held_set_points`: a source's without an OLTC,
    one that the ``generators`` hold whatever their q), which the option leaves. Without it
    ``--v-min 1.15`` on a network with v_max 1.1 reached the solver: a three-phase solve
    answered "infeasible: no radial topology keeps every voltage within its limits" (exit 3),
    a balanced one failed with HiGHS's "Invalid bounds" (exit 1)."""
    if voltage_limit_problems(v_min, v_max) or (v_min is None) == (v_max is None):
        return []
    given, other = ("v_min", "v_max") if v_min is not None else ("v_max", "v_min")
    value = float(v_min if v_min is not None else v_max)
    theirs = buses[f"{other}_pu"].to_list()
    # a source with an OLTC that the limit excludes is :func:`source_band_problems`' ("give
    # --v-min too" would not help it); a bus held at its set-point by a source or a generator
    # keeps its own band (held_set_points: the options do not apply to it; "--v-min 1.015 is
    # not below the network's own v_max (1.01)" refused a gen's bus that no band binds)
    sources = {i for p in source_band_problems(buses, v_min, v_max) for i in p.ids}
    held = [v is not None for v in held_set_points(buses, generators)]
    ids = [str(b) for b, lim, h in zip(buses["id"].to_list(), theirs, held, strict=True)
           if lim is not None and (value >= lim if given == "v_min" else value <= lim)
           and str(b) not in sources and not h]
    if not ids:
        return []
    word, side = ("below", "above") if given == "v_min" else ("above", "below")
    return [Problem(ProblemKind.INVALID_VALUE, "options",
                    f"{option_ref(given, value)} is not {word} the network's own {other} "
                    f"({_limit_range(buses[other + '_pu'])}) at {len(ids)} bus(es)",
                    ids=tuple(ids[:10]) if len(ids) < buses.height else (), field=given,
                    hint=f"give {option_ref(other)} too, {side} {value:g}")]


def source_band_problems(buses: Any, v_min: Any, v_max: Any) -> list[Problem]:
    """``--v-min``/``--v-max`` (either or both) that exclude every voltage a source bus with
    an OLTC can hold, ``v_set_pu`` times a ratio in ``tap_min_pu..tap_max_pu``: no switching
    moves it beyond, so the solve could only end "infeasible" with a least-violating topology
    whose worst violation is the source itself (ut_core #1: ``solve case33bw --v-min 0.9
    --v-max 0.99`` searched 31 s for that). One problem per limit, naming the sources. A
    source without an OLTC is held at its set-point, to which the options do not apply
    (:func:`~feederopt.network.limits.held_by_source`; ``--v-min 1.035`` behind an OLTC
    transformer was refused for the 1.0 p.u. of the 110 kV ext_grid bus, user test
    ut33_dopf #3)."""
    if voltage_limit_problems(v_min, v_max) or (v_min is None and v_max is None):
        return []
    out: list[Problem] = []
    rows = [r for r, h in zip(buses.iter_rows(named=True), held_by_source(buses), strict=True)
            if r.get("is_source") and not h]
    for given, value in (("v_min", v_min), ("v_max", v_max)):
        if value is None:
            continue
        bad = []
        for r in rows:
            vs = float(r.get("v_set_pu") or 1.0)
            lo, hi = r.get("tap_min_pu"), r.get("tap_max_pu")
            reach = (vs * float(lo), vs * float(hi)) if lo is not None and hi is not None \
                else (vs, vs)
            if (given == "v_max" and reach[0] > value) or (given == "v_min" and reach[1] < value):
                bad.append((str(r["id"]), reach))
        if not bad:
            continue
        option = option_ref(given)
        held = ", ".join(f"{b} at {a:g} p.u." if a == z else f"{b} at {a:g}-{z:g} p.u. (OLTC)"
                         for b, (a, z) in bad[:5])
        side = "below" if given == "v_max" else "above"
        need = (min(a for _, (a, _) in bad) if given == "v_max"
                else max(z for _, (_, z) in bad))
        out.append(Problem(
            ProblemKind.INVALID_VALUE, "options",
            f"{option_ref(given, float(value))} is {side} the voltages that source bus(es) "
            f"{held} hold: no tap position reaches it, so no topology could keep it",
            ids=tuple(b for b, _ in bad[:10]), field=given,
            hint=f"give {option} of at least {need:g}" if given == "v_max" else
            f"give {option} of at most {need:g}, or change the source's v_set_pu"))
    return out


def passive_limit_problems(net: Any, v_min: Any) -> list[Problem]:
    """``--v-min`` above every source's voltage on a network where no bus can rise above its
    source's: nothing injects (no generator that may, no capacitor, at its step or
    controllable, no line charging) and no transformer ratio may lie below 1
    (:func:`~feederopt.formulations.distflow.is_passive`, which holds in the SOCP relaxation
    too), so no topology or setting could keep it. The sources' own bands are not held to
    ``--v-min`` (:func:`~feederopt.network.limits.held_by_source`), and ``solve case33bw
    --v-min 1.01`` searched 31 s to end "infeasible" (user test ut33_dopf #3, as ut_core #1
    for a source that ``--v-min`` excluded). A source with an OLTC reaches ``v_set_pu x
    tap_max_pu``."""
    if v_min is None or voltage_limit_problems(v_min, None):
        return []
    src = net.buses.filter(pl.col("is_source").fill_null(False))
    if not src.height:
        return []
    top = max(float(r.get("v_set_pu") or 1.0) * float(r.get("tap_max_pu") or 1.0)
              for r in src.iter_rows(named=True))
    if float(v_min) <= top:
        return []
    sh, br = net.shunts, net.branches
    banks = sh.filter(pl.col("in_service") & pl.col("controllable").fill_null(False)
                      & (pl.col("q_mvar_per_step") > 0)).height if sh.height else 0
    ratio = (br.filter(pl.col("in_service") & pl.col("tap_controllable").fill_null(False)
                       & (pl.col("tap_min_ratio") < 1)).height
             if "tap_controllable" in br.columns and br.height else 0)
    if banks or ratio or not is_passive(to_per_unit(net)):
        return []
    return [Problem(
        ProblemKind.INVALID_VALUE, "options",
        f"{option_ref('v_min', float(v_min))} is above every source's voltage (at most "
        f"{top:g} p.u.): "
        "nothing in this network raises a bus above its source (no generator, capacitor, "
        "line charging or transformer ratio below 1), so no topology could keep it",
        field="v_min",
        hint=f"give {option_ref('v_min')} of at most {top:g}, or raise a source's v_set_pu")]


def _limit_range(col: Any) -> str:
    lo, hi = col.min(), col.max()
    return f"{lo:g} p.u." if lo == hi else f"{lo:g}-{hi:g} p.u."


def loading_problems(max_loading_percent: Any,
                     option: str = "max_loading_percent") -> list[Problem]:
    """A loading limit is a positive percentage of the ratings (None: the ratings as given):
    ``--max-loading`` of balanced and three-phase solves."""
    if max_loading_percent is None or (is_finite(max_loading_percent)
                                       and max_loading_percent > 0):
        return []
    if not is_real(max_loading_percent):  # "120" is text, not 120 (user test ut_api2)
        return [_option_problem(option, "the loading limit must be a number (a percentage of "
                                f"the rating), not {shown_value(max_loading_percent)}",
                                f"e.g. {option_ref('max_loading_percent', 120)}")]
    return [_option_problem(option, "the loading limit must be a positive percentage of the "
                            f"rating, not {max_loading_percent!r}",
                            f"e.g. {option_ref('max_loading_percent', 120)}")]


def loading_factor_note(max_loading_percent: float | None) -> str | None:
    """The note for a loading limit that looks like a factor (``max_loading_percent=1.2``,
    ``--max-loading 1.2``, meant as 120 %: :func:`~feederopt.errors.percent_hint`), None for
    any other. Not refused (a limit that low is allowed), but said: it proved the grid
    infeasible without a word (user test ut36_api #3)."""
    if max_loading_percent is None or not is_finite(max_loading_percent):
        return None
    hint = percent_hint(float(max_loading_percent),
                        "it is a percentage of each rating (--max-loading)")
    return None if hint is None else f"max_loading_percent {hint}"


def workers_note(options: SolveOptions, *, cli: bool = False) -> str | None:
    """The note for a worker count given to a solve without scenarios or a robust box, None
    for any other: such a solve has one slave per iteration, solved in its own process, so
    the workers (which run the scenario and extreme-point slaves) do not apply; the count is
    taken (a valid one, :func:`workers_problems`) and ignored. ``cli``: spelled as the command
    line's options (``--workers``), else as the Python keywords."""
    workers = options.execution.workers
    if workers is None or options.uncertainty is not None or workers_problems(workers):
        return None
    given, others = (f"--workers {workers}", "--scenarios or --robust") if cli else (
        f"workers={workers}", "scenarios or robust")
    return (f"{given} ignored: a solve without {others} has one slave per iteration, solved "
            "in this process (the workers run the slaves of the scenarios and the extreme "
            "points)")


def time_limit_problems(time_limit_s: Any, option: str = "time_limit") -> list[Problem]:
    """A time limit is a positive number of seconds (+inf: none): every command's
    ``--time-limit``."""
    if is_number(time_limit_s) and time_limit_s > 0:
        return []
    if not is_number(time_limit_s):
        return [_option_problem(option, "the time limit must be a number of seconds, not "
                                f"{time_limit_s!r}", f"e.g. {option_ref(option, 600)}")]
    return [_option_problem(option, "the time limit must be positive",
                            f"e.g. {option_ref(option, 600)}")]


def workers_problems(workers: Any, option: str = "workers") -> list[Problem]:
    """``workers`` is a whole number from 1 to :data:`WORKERS_PER_CORE` per core (None: every
    core): every command's ``--workers``."""
    if workers is None:
        return []
    cores = os.cpu_count() or 1
    if not (is_whole(workers) and workers >= 1):
        # a count: a whole number (np.int64 too, feederopt.scalars), shown with its type
        # when it is none ("must be at least 1, not 1" refused np.int64(1), ut41_pyapi #1)
        what = "at least 1" if is_whole(workers) else "a whole number at least 1"
        return [_option_problem(option, f"{option_ref('workers')} must be {what}, not "
                                f"{shown_value(workers, typed=not is_whole(workers))}",
                                "e.g. 2")]
    if workers > WORKERS_PER_CORE * cores:
        return [_option_problem(
            option, f"{option_ref('workers', workers)} is more than {WORKERS_PER_CORE} per "
            f"core ({cores} core(s) here)", f"use at most {WORKERS_PER_CORE * cores}, or leave "
            "it out for the command's default (its help says which)")]
    return []


def shown_value(value: Any, *, typed: bool = False) -> str:
    """A given value as a message shows it (:func:`feederopt.io.frames.value_text`): a scalar
    by its repr, with its type when it is no number (``'5' (a str)``) or ``typed`` (where a
    number is itself the wrong type: ``solver=3``); anything else (a table, a list, a
    function) by its type alone (the repr of a pandas frame was the whole table, ut35)."""
    return value_text(value, typed=typed)


__all__ = [
    "SCENARIO_OBJECTIVES",
    "WORKERS_PER_CORE",
    "Box",
    "Costs",
    "Devices",
    "Execution",
    "Holds",
    "Limits",
    "Method",
    "Scenarios",
    "SolveOptions",
    "Stop",
    "WorstCaseOracle",
    "option_names",
    "solve_options",
    "unchecked_solve_options",
]


def seed_problem(seed: Any, option: str = "seed") -> Problem:
    """The problem of a random seed that is not a whole number >= 0 (numpy's generators,
    :class:`numpy.random.SeedSequence`, take whole numbers >= 0 only)."""
    return Problem(ProblemKind.INVALID_VALUE, "options",
                   f"{option_ref(option)} must be a non-negative whole number, not "
                   f"{shown_value(seed)}", field=option, hint=f"e.g. {option_ref(option, 0)}")


def seed_problems(seed: Any, option: str = "seed") -> list[Problem]:
    """``[]`` for a seed that numpy takes (a whole number >= 0, ``np.int64`` too, not a bool),
    else its problem (:func:`seed_problem`): the one check of every entry point's ``seed``,
    made before any work (user test ut48_pyapi #1: ``partition(seed=-1, samples=5)`` failed
    in numpy's ``SeedSequence`` after the solve)."""
    return [] if is_whole(seed) and seed >= 0 else [seed_problem(seed, option)]


def count_problems(option: str, value: Any, *, least: int = 0, example: Any = None,
                   note: str = "") -> list[Problem]:
    """``[]`` for a count that is a whole number >= ``least`` (``np.int64`` too, never a bool
    nor ``2.5``), else its problem naming ``option`` as the caller spells it
    (:func:`~feederopt.errors.option_ref`) and the value as given (:func:`shown_value`:
    ``'5' (a str)``); ``example`` (default ``least``) and ``note`` (", or 0 for ...") make
    the hint."""
    if is_whole(value) and value >= least:
        return []
    what = f">= {least}" if is_whole(value) else f"a whole number >= {least}"
    return [_option_problem(option, f"{option_ref(option)} must be {what}, not "
                            f"{shown_value(value)}",
                            f"e.g. {option_ref(option, least if example is None else example)}"
                            f"{note}")]


def switch_problems(**switches: Any) -> list[Problem]:
    """One problem per on/off option that is not ``True``/``False`` (``np.True_``/
    ``np.False_`` too: :func:`~feederopt.scalars.is_switch`); None counts as "not given" and
    passes. The one rule of every entry point's switches (``ac_check="no"`` was read as true
    by restore, partition, schedule and solve_three_phase: user test ut48_pyapi #5)."""
    return [_option_problem(name, f"{option_ref(name)} must be True or False, not "
                            f"{shown_value(value)}",
                            f"pass {option_ref(name, True)} or {option_ref(name, False)}")
            for name, value in switches.items()
            if value is not None and not is_switch(value)]


def ray_address_problems(ray_address: Any, option: str = "ray_address") -> list[Problem]:
    """``[]`` for None (no Ray) or a non-blank string (``"auto"``, ``"local"``,
    ``host:port``: :func:`~feederopt.execution.executors.make_executor` probes it), else the
    problem naming the option: ``ray_address=5`` was an ``AttributeError`` from inside the
    executor, after the network was built (user test ut48_pyapi #2)."""
    if ray_address is None or (isinstance(ray_address, str) and ray_address.strip()):
        return []
    return [_option_problem(option, f"{option_ref(option)} must be a Ray address (a string: "
                            "'auto', 'local' or host:port), not "
                            f"{shown_value(ray_address, typed=True)}",
                            f"e.g. {option_ref(option, repr('auto'))}, or leave it out")]
