"""Robust networked-microgrid partitioning (seed 001, Moring et al., "Robust partitioning and
operation for maximal uncertain-load delivery in distribution grids", 2024): the data of the
problem, its uncertainty set and the model-validity checks. No solver here.

* **Blocks** (section II of the seed): the connected components of the bus graph with every
  switch open (lines and transformer banks join buses; switches do not). A block is energised
  or not as a whole, so its loads are served or shed together.
* **Lost substation:** the sources are removed; a block that held a source is fixed
  de-energised and its switches open (the seed opens the switch between the substation and
  node 701).
* **DERs:** every generator, PV system and storage unit, with its per-phase capacity
  ``s_max / |phases|`` and active limit ``p_max / |phases|`` (a single-phase grid follower
  between two phases, ``conn`` delta, is one entry with the unit's whole limits, injected into
  both phases by ``PerUnitThreePhase.der_injection`` and live when both are; a grid former
  there is refused by name: :func:`_between_phases_problems`); grid-forming capability comes from
  the network (a PowerModelsONM settings file marks it) or is given explicitly. Output lies in
  ``[0, p_max]`` (storage discharges only); cost ``c1`` [$/kWh over the period] on the
  active set-point and re-dispatch, ``c0`` [$] per DER in an energised block. A DER without
  a ``cost`` in the settings gets ``c1`` =
  :func:`~feederopt.formulations.partition.default_der_cost` of the feeder (half the
  lightest block's weight over the fleet's largest generation and re-dispatch, rounded down
  to one digit) and ``c0 = 0``: then serving load always comes first and the cost only ranks
  plans that serve the same blocks (the seed gives no costs).
* **Loads:** each load's per-node LinDist3Flow demand (delta loads split on their phases,
  voltage-dependent parts linear in ``w``: for the load's exponent ``n`` (OpenDSS model 2,
  constant impedance: ``n = 2``; model 5, constant current: ``n = 1``; model 4, CVR: the
  file's ``CVRwatts`` / ``CVRvars``) the linearisation
  ``s(w) = s0 (1 - n/2) + s0 (n/2) w / w0``, so a plan that lowers the voltage serves less
  power than the nominal ``s0``: :func:`served_at_voltages`), taken from
  :func:`~feederopt.network.threephase_perunit.to_per_unit_3ph` of the network holding only
  that load, minus the network holding none (the line charging and capacitors, which are
  ``shunt_*``). All phases of a load scale together (the seed's uncertainty set, section
  III-A): ``s_d = s_d^0 (1 + X u_d)`` with ``u_d in {-1, +1}`` at the extreme points.
  With ``load_model = "constant_power"`` every load's exponents are set to 0 first: the
  seed's constant ``s_d`` in (16l)/(18a) (spec section 1), the demand independent of ``w``.
* **Block weights** (section IV): ``alpha_l = 10 + 0.01 |D_l|``; the load-shed cost is
  ``shed_scale * sum_l alpha_l (1 - z_l)`` (``shed_scale = 1000`` fits the increments of the
  seed's Table I, 10,040 and 10,020 $ for blocks of 4 and 2 loads); a lost block weighs 0,
  and so does a block with **no load** (``|D_l| = 0``): it has nothing to shed. The seed's
  blocks all hold loads, so its formula never meets that case; read literally it would weigh
  10 and charge 10,000 $ of "load shed" for a spare bus behind a switch, and the plan would
  close switches only to energise empty blocks. With weight 0 an empty block, energised or
  not, leaves the objective unchanged.

:func:`check_partition` is the model-validity check of an answer (every energised component
radial, 1..k_der grid-forming DERs in each, no load or DER output in de-energised blocks,
closed switches only between blocks of the same state, no load on and no DER output on a phase
that no grid-forming DER of the microgrid holds: :func:`formed_phases`).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from feederopt.errors import InputError, Problem, ProblemKind, option_ref
from feederopt.formulations.partition import (
    MAX_EXTENSIVE_UNCERTAIN,
    MAX_UNCERTAIN_LOADS,
    PartitionData,
    PartitionSettings,
    default_der_cost,
)
from feederopt.network.id_lists import repeated_ids
from feederopt.network.threephase import PHASES, ThreePhaseNetwork
from feederopt.network.threephase_perunit import PerUnitThreePhase, to_per_unit_3ph
from feederopt.network.topology import DisjointSets
from feederopt.scalars import is_real, is_whole

#: The load models of :class:`PartitionSettings` (``load_model``).
LOAD_MODELS = ("voltage_dependent", "constant_power")


def uncertain_count(settings: PartitionSettings, net: ThreePhaseNetwork) -> int:
    """The number of loads the box moves: those named (case-insensitively, once each), else
    every in-service load; 0 when the uncertainty is 0."""
    if not settings.uncertainty:
        return 0
    if settings.uncertain_loads:
        return len({str(x).lower() for x in settings.uncertain_loads})
    return len(set(net.loads.filter(pl.col("in_service"))["id"].to_list()))


def is_count_problem(problem: Problem) -> bool:
    """Is ``problem`` :func:`enumeration_problems`' count of uncertain loads? Its count is in
    its message and its field names it, no id (user test ut49_part #7: the count in the id
    slot read ``settings [24].uncertain_loads``; docs/partition-settings.md names a value by
    its field only)."""
    return (problem.field == "partition.uncertain_loads" and not problem.ids
            and re.match(r"\d+ uncertain loads\b", problem.message) is not None)


def enumeration_problems(settings: PartitionSettings, net: ThreePhaseNetwork, *,
                         extensive: bool = False) -> list[Problem]:
    """A problem when the solve would enumerate more extreme points than
    :data:`MAX_UNCERTAIN_LOADS` allows, or, for the extensive form (``extensive``), build more
    recourse copies than :data:`MAX_EXTENSIVE_UNCERTAIN` allows (the samples of ``feederopt
    check`` need none, so :func:`settings_problems` leaves this out)."""
    out: list[Problem] = []
    n_unc = uncertain_count(settings, net) if 0 < settings.uncertainty <= 1 else 0
    if n_unc > MAX_UNCERTAIN_LOADS:
        out.append(Problem(
            ProblemKind.INVALID_VALUE, "settings",
            f"{n_unc} uncertain loads"
            + ("" if settings.uncertain_loads else " (every load: none is named)")
            + f": the worst case runs over all 2^{n_unc} = {2 ** n_unc:,} extreme points of "
            f"the box, beyond the {MAX_UNCERTAIN_LOADS} loads ({2 ** MAX_UNCERTAIN_LOADS:,} "
            "points) this tool enumerates", (), "partition.uncertain_loads",
            f"name the loads that vary, e.g. {option_ref('uncertain_loads', ('L1', 'L2', 'L3'))}"
            ", or the settings' partition.uncertain_loads (the seed: 6 of 30)"))
    elif extensive and n_unc > MAX_EXTENSIVE_UNCERTAIN:
        out.append(Problem(
            ProblemKind.INVALID_VALUE, "options",
            f"the extensive form holds one recourse copy per extreme point: {n_unc} uncertain "
            f"loads make 2^{n_unc} = {2 ** n_unc:,} copies, beyond the "
            f"{2 ** MAX_EXTENSIVE_UNCERTAIN} ({MAX_EXTENSIVE_UNCERTAIN} loads) it builds (IEEE "
            "37: about 8 MB each)", field="extensive",
            hint=f"{option_ref('method', repr('cutting_plane'), cli='leave --extensive out')} "
            "(the cutting plane) or name fewer uncertain loads"))
    return out


def settings_problems(settings: PartitionSettings, net: ThreePhaseNetwork) -> list[Problem]:
    """Typed problems of these settings against ``net``: every number finite and in its range
    (``k_der >= 1``, ``0 <= uncertainty <= 1``: above 1 the box's lower corner is a negative
    load, a generator; ``ramp >= 0``, ``omega > 0``: a free slack (``omega = 0``) would let the
    recourse leave demand unmet at no cost, and a negative one makes the recourse LP unbounded;
    costs and block weights ``>= 0``), the load model one of :data:`LOAD_MODELS`, and every
    named load, DER and switch in ``net`` (loads case-insensitively, as OpenDSS names are;
    :func:`canonical_loads` maps them to the network's spelling)."""
    out: list[Problem] = []

    def bad(name: str, value: Any, message: str, hint: str = "") -> None:
        # the value in the message, the option and the settings key as the field: shown as
        # "settings.partition.k_der", not "settings [0].k_der" (user test ut_part #6; the
        # value may come from the command line as well as from the file)
        out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                           f"{message} (given: {value!r})", (), f"partition.{name}",
                           (f"{option_ref(name)} or " if name in ("k_der", "uncertainty")
                            else "") + f"the settings' partition.{name}"
                           + (f": {hint}" if hint else "")))

    if not settings.k_der >= 1:
        bad("k_der", settings.k_der, "k_der must be >= 1", "at least one grid-forming DER")
    if not 0 <= settings.uncertainty <= 1:
        bad("uncertainty", settings.uncertainty, "uncertainty must be a share in [0, 1]"
            + (": above 1 the box's lower corner is a negative load (loads turned into "
               "generators)" if settings.uncertainty > 1 else ""),
            "a share, e.g. 0.1 for +-10 %")
    if not (math.isfinite(settings.ramp) and settings.ramp >= 0):
        bad("ramp", settings.ramp, "ramp must be a finite number >= 0",
            "a share of the DER's capacity, e.g. 0.3")
    if not (math.isfinite(settings.omega) and settings.omega > 0):
        bad("omega", settings.omega, "omega must be a finite number > 0 (the price of unmet "
            "power in the recourse; 0 makes slack free, a negative price unbounded)",
            "e.g. 705 [$/kW], the seed's")
    for name in ("alpha_base", "alpha_per_load", "shed_scale", "default_c1"):
        v = getattr(settings, name)
        if v is None and name == "default_c1":  # the feeder's (default_der_cost)
            continue
        if not (math.isfinite(v) and v >= 0):
            bad(name, v, f"{name} must be a finite number >= 0")
    if not (math.isfinite(settings.eps) and settings.eps > 0):
        bad("eps", settings.eps, "eps must be a finite number > 0")
    badc = sorted(d for d, c in settings.costs.items()
                  if not all(math.isfinite(float(x)) and float(x) >= 0 for x in c))
    if badc:
        out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                           "a DER cost [c1, c0] is not finite and >= 0", tuple(badc), "cost",
                           "e.g. [10, 0]"))
    if settings.load_model not in LOAD_MODELS:
        close = difflib.get_close_matches(str(settings.load_model), LOAD_MODELS, n=1)
        bad("load_model", settings.load_model, "load_model must be one of "
            + ", ".join(LOAD_MODELS), f"did you mean {close[0]!r}?" if close else "")
    loads = {x.lower() for x in net.loads["id"].to_list()}
    unknown = [x for x in dict.fromkeys(settings.uncertain_loads) if x.lower() not in loads]
    if unknown:
        out.append(Problem(
            ProblemKind.INVALID_VALUE, "settings",
            f"uncertain load{'s' if len(unknown) > 1 else ''} not in the network: "
            + ", ".join(unknown), tuple(unknown), "uncertain_loads",
            "use load ids as `feederopt info` lists them (any case)"
            + "".join(f"; {x!r}: did you mean {c[0]!r}?" for x in unknown
                      for c in [difflib.get_close_matches(x.lower(), sorted(loads), n=1)]
                      if c)))
    ders = set(net.generators["id"].to_list())
    named = set(settings.costs) | set(settings.grid_forming or ())
    missing = sorted(named - ders)
    if missing:
        out.append(Problem(ProblemKind.INVALID_VALUE, "settings", "DER not in the network",
                           tuple(missing), "dss", "DER ids look like 'Generator.675'"))
    switches = set(net.lines.filter(pl.col("switchable"))["id"].to_list())
    missing = sorted((set(settings.fixed_open) | set(settings.fixed_closed)) - switches)
    if missing:
        out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                           "switch not in the network", tuple(missing), "switch",
                           "name a line with switch=y"))
    return out


def canonical_loads(names: tuple[str, ...] | list[str], net: ThreePhaseNetwork
                    ) -> tuple[str, ...]:
    """``names`` in the network's spelling of its load ids (matched case-insensitively, as
    OpenDSS names are); a name that is no load stays as given (:func:`settings_problems`
    names it)."""
    ids = {x.lower(): x for x in net.loads["id"].to_list()}
    return tuple(ids.get(str(x).lower(), str(x)) for x in names)


def settings_from_file(path: str | Path, net: ThreePhaseNetwork,
                       base: PartitionSettings | None = None) -> PartitionSettings:
    """The settings of :func:`read_settings`, without its notes."""
    return read_settings(path, net, base)[0]


def read_settings(path: str | Path, net: ThreePhaseNetwork,
                  base: PartitionSettings | None = None
                  ) -> tuple[PartitionSettings, list[str]]:
    """Read a PowerModelsONM settings file; the settings and notes naming what it gives that
    the partition model does not apply.

    Applied: ``dss`` (DER ids: ``inverter`` grid-forming or not, and feederopt's ``cost``
    ``[c1, c0]``), ``generator`` / ``solar`` / ``storage`` ``inverter`` (by element name; the
    ``dss`` section wins), ``switch`` (``status`` DISABLED opens a switch; ``state``
    OPEN/CLOSED with ``dispatchable`` NO fixes it), ``bus`` ``vm_lb`` / ``vm_ub`` (the bus's
    voltage limits, :func:`_bus_voltage_limits`; the command line's ``--v-min``/``--v-max``
    win over them, :func:`with_voltage_limits`), and feederopt's own ``partition`` section
    (``k_der``, ``ramp``, ``omega``, ``uncertainty``, ``uncertain_loads``). Every other field
    gets a note (:func:`not_applied_notes`) unless it agrees with the model (a status equal to
    the element's in-service state, bus voltage bounds equal to the network's limits, null
    bounds). Unknown sections, elements that are not in ``net``, values outside the schema's
    and a ``partition`` key that is not one of those are typed problems (an
    :class:`InputError` with all of them); the values are checked further by
    :func:`settings_problems`."""
    base = base or PartitionSettings()
    p = Path(path)
    if not p.is_file():
        raise InputError([Problem(
            ProblemKind.UNREADABLE_FILE, "settings",
            "cannot read settings: it is a folder, not a file" if p.is_dir()
            else "cannot read settings: no such file", (str(p),),
            hint="give the settings JSON file (docs/partition-settings.md)")])
    twice: list[str] = []  # keys given twice in one JSON object

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        twice.extend(k for k in dict.fromkeys(keys) if keys.count(k) > 1)
        return dict(items)

    try:
        text = p.read_text(encoding="utf-8-sig")
        data = json.loads(text, object_pairs_hook=pairs)
    except (OSError, ValueError) as exc:
        raise InputError([Problem(ProblemKind.UNREADABLE_FILE, "settings",
                                  f"cannot read settings: {exc}", (str(p),),
                                  hint=_json_hint(exc))]) from None
    if not isinstance(data, dict):
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "settings",
                                  "a settings file is a JSON object of sections, not a "
                                  f"{_JSON_TYPES.get(type(data), type(data).__name__)}",
                                  (str(p),),
                                  hint=f"write {_EXAMPLE} (docs/partition-settings.md)")])
    problems: list[Problem] = _duplicate_problems(data, twice) + _value_problems(data, net)
    ders = {g.lower(): g for g in net.generators["id"].to_list()}
    switches = {s.lower(): s for s in net.lines.filter(pl.col("switchable"))["id"].to_list()}
    costs: dict[str, tuple[float, float]] = dict(base.costs)
    missing_der = []
    inverter: dict[str, bool] = {}
    for section, kind in DER_SECTIONS.items():  # by element name; the dss section wins
        names = _der_names(net, kind)
        for key, val in _section(data, section).items():
            if isinstance(val, dict) and key.lower() in names and "inverter" in val:
                inverter[names[key.lower()]] = _grid_forming(val["inverter"])
    dss = _section(data, "dss")
    for key, val in dss.items():
        der = ders.get(key.lower())
        if der is None:
            missing_der.append(key)
            continue
        if not isinstance(val, dict):
            continue
        if "inverter" in val:
            inverter[der] = _grid_forming(val["inverter"])
        if "cost" in val and _numbers(val["cost"]) is not None:
            c = val["cost"] if isinstance(val["cost"], list) else [val["cost"]]
            costs[der] = (float(c[0]), float(c[1]) if len(c) > 1 else 0.0)
    if missing_der:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "settings",
            "the dss section names no DER of the network: "
            + "; ".join(_not_a_der(k, net) for k in sorted(missing_der)),
            tuple(sorted(missing_der)), "dss", _der_hint(net)))
    grid_forming = base.grid_forming
    marks = any(isinstance(v, dict) and "inverter" in v for v in dss.values())
    if inverter:
        # A dss section that marks inverters lists the grid-forming DERs of a file of its own;
        # over earlier settings (``base``: a built-in case's) each mark changes its DER only.
        # A dss section that marks none (costs only) leaves them as they were (user test
        # ut_part #2: a cost-only edit took every grid-forming DER away, and the plan served
        # nothing, "optimal").
        start = set(base.grid_forming) if base.grid_forming is not None else (
            set() if marks else {r["id"] for r in net.generators.iter_rows(named=True)
                                 if r["can_grid_form"]})
        gf = (start - {d for d, v in inverter.items() if not v}) | {
            d for d, v in inverter.items() if v}
        grid_forming = tuple(d for d in net.generators["id"].to_list() if d in gf)
    fixed_open, fixed_closed, missing_sw = list(base.fixed_open), list(base.fixed_closed), []
    for key, val in _section(data, "switch").items():
        sw = switches.get(key.lower())
        if sw is None:
            missing_sw.append(key)
            continue
        if not isinstance(val, dict):
            continue
        if _flag(val.get("status", "ENABLED")) in ("DISABLED", "0"):
            fixed_open.append(sw)  # a disabled switch carries nothing: it is open
        elif _flag(val.get("dispatchable", "YES")) in ("NO", "0"):
            (fixed_open if _flag(val.get("state", "CLOSED")) == "OPEN"
             else fixed_closed).append(sw)
    # a line of the network without switch=y is named as such, as the dss section names a
    # load that is no DER (user test ut47_part #3: Line.632670 was "not in the network")
    plain = {str(i).lower(): str(i) for i in
             net.lines.filter(~pl.col("switchable"))["id"].to_list()}
    not_sw = sorted(k for k in missing_sw if k.lower() in plain)
    if not_sw:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "settings",
            "settings name a line that is not a switch: " + "; ".join(
                f"Line.{plain[k.lower()]} is a line without switch=y" for k in not_sw),
            tuple(not_sw), "switch",
            "the partition opens and closes switches only: give the line switch=y in the "
            ".dss file to make it one, or name a switch; "
            + _known_hint(not_sw, list(switches.values()), "the network's switches")))
    missing_sw = sorted(k for k in missing_sw if k.lower() not in plain)
    if missing_sw:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                                "settings name a switch that is not in the network",
                                tuple(missing_sw), "switch", "name a line with switch=y; "
                                + _known_hint(missing_sw, list(switches.values()),
                                              "the network's switches")))
    part = _section(data, "partition")
    extra: dict[str, Any] = {}
    for key in ("k_der", "ramp", "omega", "uncertainty", "load_model"):
        if key in part:
            extra[key] = part[key]
    if isinstance(part.get("uncertain_loads"), list):
        loads = {x.lower(): x for x in net.loads["id"].to_list()}
        wanted = [str(x) for x in part["uncertain_loads"]]
        missing = [x for x in wanted if x.lower() not in loads]
        repeated = repeated_ids(wanted, str.casefold)
        if repeated:
            problems.append(Problem(ProblemKind.DUPLICATE_ID, "settings",
                                    "settings name a load more than once (names are "
                                    "case-insensitive)", tuple(repeated),
                                    "partition.uncertain_loads", "name each load once"))
        if missing:
            problems.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                                    "settings name a load that is not in the network",
                                    tuple(missing), "partition.uncertain_loads",
                                    "use load ids as `feederopt info` lists them (any case); "
                                    + _known_hint(missing, list(loads.values()),
                                                  "the network's loads")))
        extra["uncertain_loads"] = tuple(loads[x.lower()] for x in wanted if x.lower() in loads)
    bus_limits, crossed = _bus_voltage_limits(_section(data, "bus"), net, base.bus_v_limits_pu)
    problems += crossed
    if problems:
        raise InputError(problems)
    st = replace(base, grid_forming=grid_forming, costs=costs, fixed_open=tuple(fixed_open),
                 fixed_closed=tuple(fixed_closed), bus_v_limits_pu=bus_limits, **extra)
    return st, not_applied_notes(data, net) + _disabled_former_notes(inverter, net)


def _disabled_former_notes(inverter: dict[str, bool], net: ThreePhaseNetwork) -> list[str]:
    """A note per DER that the settings mark grid-forming but the network has out of service
    (OpenDSS's ``enabled=no``; user test ut39_tph #3: accepted without a word). The partition
    leaves an out-of-service DER out, so the mark changes nothing."""
    off = set(net.generators.filter(~pl.col("in_service"))["id"].to_list())
    where = ("in the .dss file (enabled=no)" if net.meta.get("source_format") == "opendss"
             else "in the network (in_service false)")
    return [f"settings mark {der} grid-forming, but it is disabled {where}: it takes no part"
            for der, forming in inverter.items() if forming and der in off]


#: The top-level sections of a PowerModelsONM settings file (its input-settings.schema.json).
ONM_SECTIONS = ("settings", "generator", "solar", "voltage_source", "storage", "bus", "load",
                "shunt", "line", "switch", "transformer", "options", "solvers", "dss")
#: PowerModelsONM's deprecated top-level options (each replaced by one in 'options' or
#: 'solvers'); known, not applied.
ONM_DEPRECATED = ("max_switch_actions", "disable_networking", "disable_radial_constraint",
                  "disable_isolation_constraint", "disable_inverter_constraint",
                  "disable_switch_penalty", "apply_switch_scores", "disable_presolver",
                  "time_elapsed", "nlp_solver_tol", "mip_solver_tol", "mip_solver_gap")
#: feederopt's own section and its keys.
PARTITION_KEYS = ("k_der", "ramp", "omega", "uncertainty", "uncertain_loads", "load_model",
                  "voltage_feedback")
#: The sections keyed by network element.
ELEMENT_SECTIONS = ("dss", "switch", "line", "transformer", "bus", "load", "shunt", "generator",
                    "solar", "storage", "voltage_source")
#: The DER sections keyed by element name, and the DER kind each names.
DER_SECTIONS = {"generator": "generator", "solar": "pv", "storage": "storage"}
#: The values a PowerModelsONM settings file may give (case-insensitive).
INVERTER_VALUES = ("grid_forming", "gfm", "grid_following", "gfl")
STATUS_VALUES = ("ENABLED", "DISABLED", "1", "0")
SWITCH_VALUES = {"state": ("OPEN", "CLOSED"), "dispatchable": ("YES", "NO", "1", "0"),
                 "status": STATUS_VALUES}
ENABLED_VALUES = ("YES", "NO", "Y", "N")


def _duplicate_problems(data: dict[str, Any], twice: list[str]) -> list[Problem]:
    """``duplicate_id`` problems: a key given twice in one JSON object (``twice``; JSON
    readers keep the last one silently), and an element named twice in one element section
    in different cases (``Generator.G1`` and ``generator.g1``: OpenDSS names are
    case-insensitive, so both set the same element and one was dropped without a word)."""
    out = []
    if twice:
        out.append(Problem(ProblemKind.DUPLICATE_ID, "settings",
                           "a key is given twice in one JSON object (only the last would count)",
                           tuple(dict.fromkeys(twice)),
                           hint="give each section, element and field once"))
    for section in ELEMENT_SECTIONS:
        sec = data.get(section)
        if not isinstance(sec, dict):
            continue
        by_name: dict[str, list[str]] = {}
        for key in sec:
            by_name.setdefault(str(key).lower(), []).append(str(key))
        for keys in by_name.values():
            if len(keys) > 1:
                out.append(Problem(
                    ProblemKind.DUPLICATE_ID, "settings",
                    f"section '{section}' names one element {len(keys)} times (element names "
                    "are case-insensitive, as OpenDSS's)", tuple(keys), section,
                    "give each element once"))
    return out


def voltage_feedback_setting(path: str | Path | None) -> bool | None:
    """The ``partition`` section's ``voltage_feedback`` of a settings file (None when it has
    none; the run's option, :func:`feederopt.api_partition.partition`'s ``voltage_feedback``,
    wins). Its type is checked by :func:`read_settings`."""
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    part = data.get("partition") if isinstance(data, dict) else None
    value = part.get("voltage_feedback") if isinstance(part, dict) else None
    return value if isinstance(value, bool) else None


#: A settings file's form, for the hints of an unreadable one.
_EXAMPLE = ('{"switch": {"801675": {"state": "OPEN", "dispatchable": "NO"}}, '
            '"partition": {"k_der": 1}}')
_JSON_TYPES = {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}


def _json_hint(exc: Exception) -> str:
    """The hint of a settings file that is no JSON: where the parser stopped (line and
    column, from :class:`json.JSONDecodeError`) and what a settings file looks like."""
    if isinstance(exc, json.JSONDecodeError):
        where = ("the file is empty" if not exc.doc.strip()
                 else f"at line {exc.lineno}, column {exc.colno} (where the JSON parser "
                 "stopped) look for a missing comma, quote or bracket, a key not in double "
                 "quotes or a trailing comma")
        return f"{where}; a settings file is a JSON object such as {_EXAMPLE} " \
            "(docs/partition-settings.md)"
    if isinstance(exc, UnicodeDecodeError):
        return "save the settings file as UTF-8 text (JSON)"
    return "give a readable settings JSON file (docs/partition-settings.md)"


def _flag(value: Any) -> str:
    return str(value).upper()


def _grid_forming(value: Any) -> bool:
    return str(value).lower() in ("grid_forming", "gfm")


#: The OpenDSS classes whose elements are DERs (the keys of a settings file's ``dss``
#: section: ``Generator.675``, ``PVSystem.pv1``, ``Storage.battery1``).
DER_CLASSES = ("Generator", "PVSystem", "Storage")


def _not_a_der(key: str, net: ThreePhaseNetwork) -> str:
    """What the ``dss`` key ``key``, which is no DER of ``net``, names: an element of another
    class (``Load.671_1 is a load``; a load, line, switch, transformer, capacitor, voltage
    source or bus, with or without its class), a DER named without its class (``675``: did
    you mean Generator.675?), or nothing. Before (user test ut42_part #2), a load marked
    grid-forming was "a DER that is not in the network", which did not say it was a load."""
    cls, dot, name = key.partition(".")
    if not dot:
        cls, name = "", key
    low, cls_low = name.strip().lower(), cls.strip().lower()
    ders = net.generators["id"].to_list()
    if cls_low in {c.lower() for c in DER_CLASSES}:
        same = [d for d in ders if d.split(".", 1)[-1].lower() == low]
        return f"{key}: no {cls} of that name" + (
            f" (did you mean {' or '.join(same)}?)" if same else "")
    if not cls:
        same = [d for d in ders if d.split(".", 1)[-1].lower() == low]
        if same:
            return f"{key}: did you mean {' or '.join(same)}? (a DER is named with its class)"
    switches = net.lines.filter(pl.col("switchable"))
    others = (("load", "a load", net.loads), ("line", "a switch", switches),
              ("line", "a line", net.lines.filter(~pl.col("switchable"))),
              ("transformer", "a transformer", net.transformers),
              ("capacitor", "a capacitor", net.shunts),
              ("vsource", "the voltage source", net.sources))
    for dss_class, what, table in others:
        if (not cls or cls_low == dss_class) and low in {
                str(i).lower() for i in table["id"].to_list()}:
            return (f"{key} is {what}" + ("" if cls else f" ({dss_class.title()}.{name})")
                    + ", not a DER")
    if not cls and low in {str(b).lower() for b in net.buses["id"].to_list()}:
        return f"{key} is a bus, not a DER"
    if cls:
        return f"{key}: no element of that name (a {cls} is no DER in any case)"
    return f"{key}: no element of that name"


def _der_hint(net: ThreePhaseNetwork) -> str:
    """The hint of a ``dss`` key that is no DER: which classes are DERs, and the network's."""
    ders = [str(d) for d in net.generators["id"].to_list()]
    return (f"DERs are {', '.join(DER_CLASSES[:-1])} and {DER_CLASSES[-1]} elements, named "
            "with their class ('Generator.675', 'Storage.battery_mg1a'); "
            + (f"the network's: {', '.join(ders[:8])}{' ...' if len(ders) > 8 else ''}"
               if ders else "the network has none"))


def _der_names(net: ThreePhaseNetwork, kind: str) -> dict[str, str]:
    """The DERs of ``kind`` by lower-case element name (``Storage.battery_mg1a`` is
    ``battery_mg1a``), as PowerModelsONM's ``storage`` section names them."""
    return {str(r["id"]).split(".", 1)[-1].lower(): r["id"]
            for r in net.generators.filter(pl.col("kind") == kind).iter_rows(named=True)}


def _element_ids(net: ThreePhaseNetwork) -> dict[str, dict[str, tuple[str, bool]]]:
    """Per element section, its elements by lower-case key: (id, in service)."""
    def rows(df: pl.DataFrame, key: str = "id") -> dict[str, tuple[str, bool]]:
        out: dict[str, tuple[str, bool]] = {}
        on = df["in_service"].to_list() if "in_service" in df.columns else [True] * df.height
        for k, i, s in zip(df[key].to_list(), df["id"].to_list(), on, strict=True):
            prev = out.get(str(k).lower())
            out[str(k).lower()] = (str(i), bool(s) or (prev is not None and prev[1]))
        return out

    gens = net.generators.with_columns(
        pl.col("id").str.split_exact(".", 1).struct.field("field_1").alias("name"))
    out = {
        "dss": rows(net.generators),
        "switch": rows(net.lines.filter(pl.col("switchable"))),
        "line": rows(net.lines.filter(~pl.col("switchable"))),
        "transformer": rows(net.transformers),
        "bus": rows(net.buses),
        "load": rows(net.loads),
        "shunt": rows(net.shunts),
        "voltage_source": rows(net.sources),
    }
    for section, kind in DER_SECTIONS.items():
        out[section] = rows(gens.filter(pl.col("kind") == kind), "name")
    return out


_UNKNOWN_HINTS = {
    "dss": "DER ids look like 'Generator.675' or 'Storage.battery_mg1a'",
    "switch": "name a line with switch=y",
    "line": "name a line as `feederopt info` lists it (switches go in 'switch')",
    "load": "use load ids as `feederopt info` lists them",
    "generator": "name a Generator without its class ('675' for Generator.675)",
    "solar": "name a PVSystem without its class ('pv1' for PVSystem.pv1)",
    "storage": "name a Storage without its class ('battery1' for Storage.battery1)",
}


#: How many of the network's ids :func:`_known_hint` lists.
KNOWN_LISTED = 8


def _known_hint(names: list[str], ids: list[Any], what: str) -> str:
    """The did-you-mean part of a hint for ``names`` that are no id of ``ids``: the nearest
    id of each (``difflib``, case-insensitive) where one is near, else the first
    :data:`KNOWN_LISTED` of ``ids`` (``what``: "the network's buses: 632, 633, ..."); the
    network's ids as they are spelled."""
    spelled = {str(x).lower(): str(x) for x in ids}
    near = [f"{n!r}: did you mean {spelled[c[0]]!r}?" for n in names
            for c in [difflib.get_close_matches(str(n).lower(), sorted(spelled), n=1)] if c]
    if near:
        return "; ".join(near)
    listed = [str(x) for x in ids][:KNOWN_LISTED]
    return (f"{what}: {', '.join(listed)}{' ...' if len(ids) > KNOWN_LISTED else ''}"
            if listed else f"{what}: none")


def _unknown_names(sec: dict[str, Any], ids: list[Any], what: str,
                   hint: str = "") -> list[Problem]:
    """A problem naming the keys of the settings section ``sec`` that are no ``what`` id of
    the network (case-insensitive, as OpenDSS names are), its hint ``hint`` and the nearest
    ids or a list of them (:func:`_known_hint`; user test ut47_part #3: the bus section's had
    none)."""
    known = {str(x).lower() for x in ids}
    missing = sorted(k for k in sec if str(k).lower() not in known)
    if not missing:
        return []
    plural = {"bus": "buses", "switch": "switches"}.get(what, f"{what}s")
    more = _known_hint(missing, ids, f"the network's {plural}")
    return [Problem(ProblemKind.INVALID_VALUE, "settings",
                    f"settings name a {what} that is not in the network", tuple(missing), what,
                    f"{hint}; {more}" if hint else more)]


def _bad_value(section: str, key: str, name: str, value: Any, message: str,
               hint: str = "") -> Problem:
    return Problem(ProblemKind.INVALID_VALUE, "settings",
                   f"{section} {key!r}: {name} {value!r} {message}", (str(key),),
                   f"{section}.{name}", hint)


def _allowed_hint(section: str, key: str, name: str, allowed: tuple[str, ...]) -> str:
    """The hint of a field whose value is not one of ``allowed``: the values, and the field
    written with the first one (``{"switch": {"801675": {"state": "OPEN"}}}``)."""
    return (f"the {section} section's {name} takes {', '.join(allowed)} (case does not "
            f"matter), e.g. {json.dumps({section: {key: {name: allowed[0]}}})}")


def _numbers(value: Any) -> list[float] | None:
    """``value`` (a number or a list of numbers) as floats; None when it is not one."""
    items = value if isinstance(value, list) else [value]
    out = []
    for x in items:
        if not is_real(x):
            return None
        out.append(float(x))
    return out


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    body = data.get(name)
    return body if isinstance(body, dict) else {}


def _value_problems(data: dict[str, Any], net: ThreePhaseNetwork) -> list[Problem]:
    """Typed problems of the settings file's structure and values, each naming the section,
    the element, the field and the value: a top-level key that is no section of
    PowerModelsONM's schema, of its deprecated options or ``partition``; a section that is no
    object; an element of an element section that is not in ``net`` or whose fields are no
    object; enumerated values outside the schema's (``inverter``, ``state``,
    ``dispatchable``, ``status``, ``dss`` ``enabled``); ``dss`` fields other than
    ``inverter``, ``enabled`` and ``cost`` (``[c1]`` or ``[c1, c0]``); ``bus`` ``vm_lb`` /
    ``vm_ub`` (finite numbers >= 0, lb <= ub); ``load`` ``clpu_factor`` (a finite number
    >= 0); the ``partition`` section's keys and their types. Other fields of the element
    sections are PowerModelsONM's to define (its schema allows more) and are only noted as
    not applied (:func:`not_applied_notes`), as are the elements of the ``transformer``
    section (PowerModelsONM names a bank by its ``bank=`` name)."""
    out: list[Problem] = []
    known = (*ONM_SECTIONS, *ONM_DEPRECATED, "partition")
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                               f"settings section {key!r} is not a PowerModelsONM or "
                               "feederopt section", (str(key),), str(key),
                               (f"did you mean {close[0]!r}? " if close else "")
                               + "sections: " + ", ".join(sorted((*ONM_SECTIONS,
                                                                  "partition")))))
    for section in (*ELEMENT_SECTIONS, "options", "solvers", "settings", "partition"):
        body = data.get(section)
        if section in data and not isinstance(body, dict):  # null too (ut_part #3)
            out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                               f"section {section!r} must be an object of elements",
                               (section,), section))
    ids = _element_ids(net)
    for section in ELEMENT_SECTIONS:
        sec = _section(data, section)
        # read_settings names the dss and switch ones (one problem each); PowerModelsONM
        # names a transformer bank by its OpenDSS bank= name, which the network does not keep,
        # and nothing of the transformer section is applied: it is only noted
        if section not in ("dss", "switch", "transformer"):
            out += _unknown_names(sec, [v[0] if section not in DER_SECTIONS else k
                                        for k, v in ids[section].items()],
                                  section, _UNKNOWN_HINTS.get(section, ""))
        for key, val in sec.items():
            if not isinstance(val, dict):
                out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                                   f"{section} {key!r} must be an object of fields, not "
                                   f"{val!r}", (str(key),), section))
                continue
            val = val or {}
            if "status" in val and section != "dss" and _flag(val["status"]) not in \
                    STATUS_VALUES:
                out.append(_bad_value(section, key, "status", val["status"],
                                      "is not one of ENABLED, DISABLED, 1, 0",
                                      _allowed_hint(section, key, "status", STATUS_VALUES)))
            if "inverter" in val and str(val["inverter"]).lower() not in INVERTER_VALUES:
                out.append(_bad_value(section, key, "inverter", val["inverter"],
                                      "is not one of " + ", ".join(INVERTER_VALUES),
                                      "GRID_FORMING / gfm or GRID_FOLLOWING / gfl"))
    sec = _section(data, "dss")
    for key, val in sec.items():
        if not isinstance(val, dict):
            continue
        for name in val:
            if name not in ("inverter", "enabled", "cost"):
                out.append(_bad_value("dss", key, name, val[name], "is not a dss field",
                                      "the dss section takes inverter, enabled and cost"))
        if "enabled" in val and _flag(val["enabled"]) not in ENABLED_VALUES:
            out.append(_bad_value("dss", key, "enabled", val["enabled"],
                                  "is not one of yes, no, y, n",
                                  _allowed_hint("dss", key, "enabled", ("yes", "no"))))
        if "cost" in val:
            c = _numbers(val["cost"])
            if c is None or not 1 <= len(c) <= 2 or not all(np.isfinite(c)) or min(c) < 0:
                out.append(_bad_value("dss", key, "cost", val["cost"], "is not [c1] or "
                                      "[c1, c0] of finite numbers >= 0", "e.g. [0.5, 10]"))
    sec = _section(data, "switch")
    for key, val in sec.items():
        if not isinstance(val, dict):
            continue
        for name, allowed in SWITCH_VALUES.items():
            if name == "status":
                continue  # checked with every section's
            if name in val and _flag(val[name]) not in allowed:
                out.append(_bad_value("switch", key, name, val[name],
                                      "is not one of " + ", ".join(allowed),
                                      _allowed_hint("switch", key, name, allowed)))
    sec = _section(data, "load")
    for key, val in sec.items():
        if isinstance(val, dict) and "dispatchable" in val and _flag(
                val["dispatchable"]) not in ("YES", "NO", "1", "0"):
            out.append(_bad_value("load", key, "dispatchable", val["dispatchable"],
                                  "is not one of YES, NO, 1, 0",
                                  _allowed_hint("load", key, "dispatchable",
                                                ("YES", "NO", "1", "0"))))
    sec = _section(data, "bus")
    for key, val in sec.items():
        if not isinstance(val, dict):
            continue
        for name in ("vm_lb", "vm_ub"):
            if name in val and val[name] is not None:
                v = _numbers(val[name])
                if v is None or not all(np.isfinite(v)) or min(v, default=0.0) < 0:
                    out.append(_bad_value("bus", key, name, val[name],
                                          "is not a list of finite numbers >= 0"))
        # a vm_lb above vm_ub is :func:`_bus_voltage_limits`' one problem, in p.u. of the bus
        # (until user test ut49_part #7 it was also named here: "2 problems" for one mistake)
    sec = _section(data, "load")
    for key, val in sec.items():
        if isinstance(val, dict) and "clpu_factor" in val and val["clpu_factor"] is not None:
            v = _numbers(val["clpu_factor"])
            if v is None or len(v) != 1 or not np.isfinite(v[0]) or v[0] < 0:
                out.append(_bad_value("load", key, "clpu_factor", val["clpu_factor"],
                                      "is not a finite number >= 0"))
    out += _partition_problems(_section(data, "partition"))
    return out


def _partition_problems(part: dict[str, Any]) -> list[Problem]:
    """Typed problems of feederopt's ``partition`` section: unknown keys and values of the
    wrong type (the ranges are :func:`settings_problems`')."""
    out: list[Problem] = []

    def bad(name: str, message: str, hint: str = "") -> None:
        out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                           f"partition {name}: {part[name]!r} {message}", (),
                           f"partition.{name}", hint))  # no id: the field is named (ut47 #4)

    for key in part:
        if key not in PARTITION_KEYS:
            close = difflib.get_close_matches(str(key), PARTITION_KEYS, n=1)
            out.append(Problem(ProblemKind.INVALID_VALUE, "settings",
                               f"partition {key!r} is not a partition setting", (str(key),),
                               "partition", (f"did you mean {close[0]!r}? " if close else "")
                               + "the partition section takes " + ", ".join(PARTITION_KEYS)))
    if "k_der" in part and not is_whole(part["k_der"]):
        bad("k_der", "is not an integer", "e.g. 1")
    for name in ("ramp", "omega", "uncertainty"):
        if name in part:
            v = _numbers(part[name])
            if v is None or isinstance(part[name], list) or not np.isfinite(v[0]):
                bad(name, "is not a finite number")
    if "voltage_feedback" in part and not isinstance(part["voltage_feedback"], bool):
        bad("voltage_feedback", "is not true or false", "true (default) or false")
    if "load_model" in part and not isinstance(part["load_model"], str):
        bad("load_model", "is not a string", "voltage_dependent or constant_power")
    if "uncertain_loads" in part and not (isinstance(part["uncertain_loads"], list) and all(
            isinstance(x, str) for x in part["uncertain_loads"])):
        bad("uncertain_loads", "is not a list of load ids", 'e.g. ["s701c", "s718a"]')
    return out


def _is_null(value: Any) -> bool:
    """A value that bounds nothing: null, or a list of nulls (PowerModelsONM's 'no bound')."""
    return value is None or (isinstance(value, list) and all(x is None for x in value))


#: Why a field is not applied, by (section, field); ``(section, None)`` for the section's
#: other fields, ``(None, field)`` for the field in any section.
_WHY = {
    (None, "status"): "in-service states come from the network: change the .dss file "
                      "(enabled=no / yes)",
    ("dss", "enabled"): "in-service states come from the network: change the .dss file "
                        "(enabled=no / yes)",
    (None, "cm_ub"): "ratings come from the network (the .dss file), not the settings",
    (None, "sm_ub"): "ratings come from the network (the .dss file), not the settings",
    (None, "vad_lb"): "the partition model has no voltage-angle-difference limits",
    (None, "vad_ub"): "the partition model has no voltage-angle-difference limits",
    ("switch", "va_delta_deg_ub"): "the partition model has no limits across a closing switch",
    ("switch", "vm_delta_pu_ub"): "the partition model has no limits across a closing switch",
    ("bus", "microgrid_id"): "the partition model forms its own microgrids",
    ("bus", None): "the partition model has no bus voltage set-points",
    ("load", "clpu_factor"): "the partition model has no cold-load pickup",
    ("load", "clpu_duration"): "the partition model has no cold-load pickup",
    ("load", "priority"): "block weights follow the seed (alpha = 10 + 0.01 x loads; "
                            "0 for a block with no load)",
    ("load", "dispatchable"): "loads are shed with their whole block only",
    ("voltage_source", None): "partition removes every source (the substation is lost)",
    ("generator", None): "DER limits come from the network; costs from the dss section's "
                         "cost",
    ("solar", None): "DER limits come from the network; costs from the dss section's cost",
    ("storage", None): "DER limits come from the network; costs from the dss section's cost",
    ("transformer", None): "ratings come from the network (the .dss file), not the settings",
}


def _why(section: str, name: str) -> str:
    return (_WHY.get((section, name)) or _WHY.get((None, name)) or _WHY.get((section, None))
            or "not part of the partition model")


def _short(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f", +{len(items) - n} more" if len(items) > n else "")


def _agrees(section: str, name: str, value: Any, on: bool, bus: dict[str, Any] | None) -> bool:
    """Whether the field ``name`` = ``value`` of an element (in service: ``on``) is what the
    partition model does anyway: then it is not worth a note."""
    if name == "status" or (section == "dss" and name == "enabled"):
        off = _flag(value) in ("DISABLED", "0", "NO", "N")
        return off if section == "voltage_source" else off != on
    if section == "load" and name == "dispatchable":
        return _flag(value) in ("NO", "0")
    return False


#: [p.u.] A settings file's bus voltage bound within this of the network's limit agrees with
#: it: the network's is kept (PowerModelsONM writes the network's 0.9 / 1.1 p.u. in kV to 15
#: digits: ieee13mod's own settings).
AGREE_PU = 1e-3


def _bus_voltage_limits(section: dict[str, Any], net: ThreePhaseNetwork,
                        before: dict[str, tuple[float | None, float | None]]
                        ) -> tuple[dict[str, tuple[float | None, float | None]], list[Problem]]:
    """The settings file's ``bus`` section's voltage limits in p.u., by the network's bus id
    (over ``before``, an earlier file's: a bound the file gives replaces that bus's), and the
    typed problems of a bus whose lower limit would then lie above its upper one.

    PowerModelsONM's ``vm_lb`` / ``vm_ub`` give one bound per terminal of the bus in kV
    (PowerModelsDistribution's engineering model, ``voltage_scale_factor`` 1e3), phase to
    neutral; feederopt's buses have one band, so a bus's bound is the tightest of its
    terminals' (``max`` of ``vm_lb``, ``min`` of ``vm_ub``) over its phase voltage base
    ``vn_kv / sqrt(3)``: ``vm_lb = [2.1616] * 3`` on
    a 4.16 kV bus is ``2.1616 / (4.16 / sqrt(3)) = 0.9`` p.u. A bound within
    :data:`AGREE_PU` of the network's limit keeps the network's; a null bound (``null``,
    ``[null, null, null]``) bounds nothing. Invalid values are :func:`_value_problems`'."""
    out = dict(before)
    problems: list[Problem] = []
    rows = {str(r["id"]).lower(): r for r in net.buses.iter_rows(named=True)}
    for key, val in section.items():
        row = rows.get(str(key).lower())
        if row is None or not isinstance(val, dict):
            continue
        lo, hi = out.get(row["id"], (None, None))
        base = float(row["vn_kv"]) / math.sqrt(3)
        for name in ("vm_lb", "vm_ub"):
            raw = val.get(name)
            if _is_null(raw):
                continue
            items = raw if isinstance(raw, list) else [raw]
            given = [float(x) for x in items if x is not None and is_real(x)]
            if not given or base <= 0 or len(given) < len([x for x in items if x is not None]):
                continue  # not numbers: _value_problems names them
            low = name == "vm_lb"
            bound = (max(given) if low else min(given)) / base
            own = float(row["v_min_pu"] if low else row["v_max_pu"])
            kept = None if abs(bound - own) <= AGREE_PU else bound
            lo, hi = (kept, hi) if low else (lo, kept)
        if lo is None and hi is None:
            out.pop(row["id"], None)
            continue
        out[row["id"]] = (lo, hi)
        low_pu = float(row["v_min_pu"]) if lo is None else lo
        high_pu = float(row["v_max_pu"]) if hi is None else hi
        if low_pu > high_pu:
            out_of = ("vm_lb", val.get("vm_lb")) if lo is not None else ("vm_ub",
                                                                         val.get("vm_ub"))
            problems.append(_bad_value(
                "bus", str(key), out_of[0], out_of[1],
                f"gives bus {row['id']} the voltage limits {low_pu:.4f}-{high_pu:.4f} p.u. "
                f"(lower from {'vm_lb' if lo is not None else 'the network'}, upper from "
                f"{'vm_ub' if hi is not None else 'the network'}): the lower is above the "
                "upper", f"vm_lb and vm_ub are in kV phase to neutral: the bus's 1 p.u. is "
                f"{base:.4g} kV"))
    return out, problems


def with_voltage_limits(net: ThreePhaseNetwork, settings: PartitionSettings,
                        v_min_pu: float | None = None,
                        v_max_pu: float | None = None) -> ThreePhaseNetwork:
    """``net`` with the partition's voltage limits in its buses' ``v_min_pu`` / ``v_max_pu``,
    the limits of the model (:func:`build_partition_data`: ``w_min``, ``w_max``) and of every
    OpenDSS check of its plan (the voltage feedback, ``--samples``' IV-E, the base case): for
    each bus the command line's ``v_min_pu`` (``--v-min``) when given, else the settings
    file's ``bus`` ``vm_lb`` (``settings.bus_v_limits_pu``) when it gives one, else the
    network's own (0.9 p.u. as read from OpenDSS); the same for the upper limit. The option
    wins over the file for every bus."""
    ids = net.buses["id"].to_list()
    file_limits = settings.bus_v_limits_pu
    cols = []
    for k, (col, option) in enumerate((("v_min_pu", v_min_pu), ("v_max_pu", v_max_pu))):
        own = net.buses[col].to_list()
        vals = [float(option) if option is not None else
                file_limits[b][k] if b in file_limits and file_limits[b][k] is not None
                else v for b, v in zip(ids, own, strict=True)]
        if vals != own:
            cols.append(pl.Series(col, vals, dtype=pl.Float64))
    return net.replace_tables(buses=net.buses.with_columns(cols)) if cols else net


def not_applied_notes(data: dict[str, Any], net: ThreePhaseNetwork) -> list[str]:
    """Notes naming what the settings file ``data`` gives that the partition model does not
    apply, one per section and reason: the fields of the element sections other than those
    :func:`read_settings` applies (null bounds and values that agree with the model left
    out), the ``settings``, ``options`` and ``solvers`` sections and PowerModelsONM's
    deprecated top-level options."""
    notes: list[str] = []
    ids = _element_ids(net)
    buses = {str(r["id"]).lower(): r for r in net.buses.iter_rows(named=True)}
    applied = {"dss": ("inverter", "cost"), "switch": ("state", "dispatchable", "status"),
               "generator": ("inverter",), "solar": ("inverter",), "storage": ("inverter",),
               "bus": ("vm_lb", "vm_ub")}
    for section in (s for s in data if s in ELEMENT_SECTIONS):
        groups: dict[str, dict[str, list[str]]] = {}
        for key, val in _section(data, section).items():
            if not isinstance(val, dict):
                continue
            on = ids[section].get(str(key).lower(), ("", True))[1]
            for name, value in val.items():
                if name in applied.get(section, ()) or _is_null(value) or _agrees(
                        section, name, value, on, buses.get(str(key).lower())
                        if section == "bus" else None):
                    continue
                groups.setdefault(_why(section, name), {}).setdefault(name, []).append(
                    str(key))
        for why, fields in groups.items():
            elements = list(dict.fromkeys(k for ks in fields.values() for k in ks))
            notes.append(f"settings not applied: {section} {', '.join(fields)} "
                         f"({len(elements)} element{'s' if len(elements) != 1 else ''}: "
                         f"{_short(elements)}): {why}")
    run = [f"{section} {_short([str(k) for k in _section(data, section)], 8)}"
           for section in ("settings", "options", "solvers") if _section(data, section)]
    if run:  # PowerModelsONM's run options: one note for all of them
        notes.append(f"settings not applied: {'; '.join(run)}: PowerModelsONM's run options "
                     "(per-unit bases come from the network; feederopt's run and solvers "
                     "are set by its command options)")
    old = [k for k in data if k in ONM_DEPRECATED]
    if old:
        notes.append(f"settings not applied: {', '.join(old)}: deprecated PowerModelsONM "
                     "options (now in 'options' / 'solvers'), not part of the partition model")
    return notes


def _without(net: ThreePhaseNetwork, **tables: pl.DataFrame) -> ThreePhaseNetwork:
    return net.replace_tables(**tables)


def _between_phases_problems(net: ThreePhaseNetwork, gf_set: set[str]) -> list[Problem]:
    """``unsupported_element`` for the in-service grid-forming DERs between two phases
    (``conn`` delta, OpenDSS's ``bus1=x.2.3``; ``gf_set`` the partition's grid-forming
    DERs). A grid former holds the voltage of its own phases to ground and energises them
    (the formed-phase slots, one voltage per grid former, the AC check's ``Vsource`` per
    phase); a unit whose one terminal is two phases would be a source between them, which
    sets only their difference and no phase's voltage to ground. A grid follower between
    two phases is modelled: one DER entry whose ``s`` goes into both phases
    (:meth:`~feederopt.network.threephase_perunit.PerUnitThreePhase.der_injection`), live
    when both are (docs/partition-phases.md)."""
    gens = net.generators.filter(pl.col("in_service"))
    if "conn" not in gens.columns:
        return []
    # a 3-phase delta unit ("abc") forms a balanced set of phase voltages as a wye one does
    ids = [d for d in gens.filter((pl.col("conn") == "delta")
                                  & (pl.col("phases").str.len_chars() == 2))["id"].to_list()
           if d in gf_set]
    if not ids:
        return []
    return [Problem(
        ProblemKind.UNSUPPORTED_ELEMENT, "generators",
        f"{len(ids)} grid-forming DER(s) ({', '.join(ids[:5])}) are single-phase units "
        "between two phases: a grid former sets the voltage of its phases to ground, and a "
        "unit between two phases would set only their difference, no phase's voltage to "
        "ground (a grid-following unit between two phases is modelled)", tuple(ids), "phases",
        "mark them grid-following (the settings' dss section: \"inverter\": "
        "\"grid_following\"), connect them phase to ground (bus1=x.2 with the line-to-neutral "
        "kV) or disable them (enabled=no) for the partition")]


def build_partition_data(net: ThreePhaseNetwork, settings: PartitionSettings) -> PartitionData:
    """The blocks, switches, DERs and per-load demands of ``net`` (see module docstring).
    Bad settings are typed problems in an :class:`InputError`. The loads are the file's, at
    their model and kV: the rows an OpenDSS reader re-rated at the file's own solution are put
    back (:meth:`~feederopt.network.threephase.ThreePhaseNetwork.nameplate_band_loads`), since
    the islands run far from that operating point."""
    net = net.nameplate_band_loads()
    gens = net.generators.filter(pl.col("in_service"))
    gf_set = set(settings.grid_forming) if settings.grid_forming is not None else {
        r["id"] for r in gens.iter_rows(named=True) if r["can_grid_form"]}
    problems = settings_problems(settings, net) + _between_phases_problems(net, gf_set)
    if problems:
        raise InputError(problems)
    src_buses = set(net.sources["bus"].to_list())
    no_src = net.sources.clear()
    zero_gen = gens.with_columns(pl.lit(0.0).alias("p_mw"), pl.lit(0.0).alias("q_mvar"))
    loads = net.loads.filter(pl.col("in_service"))
    if settings.load_model == "constant_power":  # the seed's constant s_d (16l)/(18a)
        loads = loads.with_columns(pl.lit(0.0).alias("p_exponent"),
                                   pl.lit(0.0).alias("q_exponent"))
    base_net = _without(net, sources=no_src, generators=zero_gen, loads=loads.clear())
    pu = to_per_unit_3ph(base_net, open_switches=set(settings.fixed_open) | {
        r for r in net.lines.filter(pl.col("normally_open"))["id"].to_list()})
    # ---- blocks: components of the bus graph without switches ------------------------------
    pairs = [(e.f, e.t) for e in pu.edges if not e.switchable] + [(bk.f, bk.t)
                                                                    for bk in pu.banks]
    comps = _components(len(pu.bus_ids), pairs)
    block_of_bus = np.zeros(len(pu.bus_ids), int)
    for k, c in enumerate(comps):
        block_of_bus[c] = k
    nb = len(comps)
    lost = np.zeros(nb, bool)
    for b, bid in enumerate(pu.bus_ids):
        if bid in src_buses:
            lost[block_of_bus[b]] = True
    block_buses = [[pu.bus_ids[b] for b in c if not pu.virtual[b]] for c in comps]
    # ---- switches --------------------------------------------------------------------------
    sw_edges = [k for k, e in enumerate(pu.edges) if e.switchable]
    switch_ids = [pu.edges[k].id for k in sw_edges]
    ends = np.array([[block_of_bus[pu.edges[k].f], block_of_bus[pu.edges[k].t]]
                     for k in sw_edges], int).reshape(-1, 2)
    fixed = np.full(len(sw_edges), -1)
    for s, sid in enumerate(switch_ids):
        if sid in settings.fixed_open or lost[ends[s]].any():
            fixed[s] = 0
        elif sid in settings.fixed_closed:
            fixed[s] = 1
    loops = fixed_closed_loop_problems(switch_ids, ends, fixed, block_buses)
    if loops:
        raise InputError(loops)
    # ---- DERs --------------------------------------------------------------------------------
    der_ids = gens["id"].to_list()
    index = {d: i for i, d in enumerate(der_ids)}
    der_block = np.array([block_of_bus[pu.bus_ids.index(b)] for b in gens["bus"].to_list()],
                         int)
    # an inverter delivers at most its kVA (a PVSystem's Pmpp may exceed it: Iowa 240's PV3,
    # PV4 have Pmpp 220 kW on 200 kVA); a unit without a rating is rated at its p_max
    rated = gens["s_max_mva"].to_numpy()
    p_max = gens["p_max_mw"].to_numpy()
    s_max = np.where(rated > 0, rated, p_max)
    p_max = np.minimum(p_max, s_max)
    ph_der = np.array([index[d] for d in pu.der_id], int)
    # the DER's entries: one per phase to ground, one for a unit between two phases (its
    # limits the unit's whole, as to_per_unit_3ph holds its s)
    nph = np.maximum(np.bincount(ph_der, minlength=len(der_ids)), 1)
    # ---- loads ---------------------------------------------------------------------------------
    n = pu.n_nodes
    load_ids = list(dict.fromkeys(loads["id"].to_list()))
    cols_p, cols_q, kps, kqs, lblock, lkw = [], [], [], [], [], []
    for lid in load_ids:
        part = loads.filter(pl.col("id") == lid)
        one = to_per_unit_3ph(_without(base_net, loads=part))
        cols_p.append(one.demand_p0 - pu.demand_p0)
        cols_q.append(one.demand_q0 - pu.demand_q0)
        kps.append((one.demand_kp - pu.demand_kp).tocsr())
        kqs.append((one.demand_kq - pu.demand_kq).tocsr())
        lblock.append(block_of_bus[pu.bus_ids.index(part["bus"][0])])
        lkw.append(float(part["p_mw"].sum()) * 1000)
    load_block = np.array(lblock, int)
    counts = np.bincount(load_block, minlength=nb)
    # a block with no load has nothing to shed: weight 0 (the seed's blocks all hold loads, its
    # alpha_l = 10 + 0.01 |D_l| never meets |D_l| = 0; 10 would price energising an empty block
    # as 10,000 $ of "load shed" and make the plan close switches to reach it)
    alpha = np.where(lost | (counts == 0), 0.0,
                     settings.alpha_base + settings.alpha_per_load * counts)
    # DER costs: the settings' (dss cost [c1, c0]), else default_c1, else the feeder's default,
    # which keeps every plan's generation cost below one block's weight (default_der_cost)
    default_c1 = settings.default_c1 if settings.default_c1 is not None else \
        default_der_cost(settings.shed_scale * alpha, p_max * 1000, s_max * 1000,
                         settings.ramp)
    c1 = np.array([settings.costs.get(d, (default_c1, 0.0))[0] for d in der_ids])
    c0 = np.array([settings.costs.get(d, (default_c1, 0.0))[1] for d in der_ids])
    cols_p_m = sp.csr_matrix(np.column_stack(cols_p)) if cols_p else sp.csr_matrix((n, 0))
    cols_q_m = sp.csr_matrix(np.column_stack(cols_q)) if cols_q else sp.csr_matrix((n, 0))
    slots = _phase_slots(pu, block_of_bus, lost, fixed, sw_edges, gens, ph_der, gf_set,
                         [cols_p_m, cols_q_m, *kps, *kqs])
    unc = np.zeros(len(load_ids), bool)
    if settings.uncertainty > 0:
        names = canonical_loads(settings.uncertain_loads, net) or tuple(load_ids)
        unc[[load_ids.index(x) for x in names]] = True
    return PartitionData(
        settings=settings, pu=pu, block_of_bus=block_of_bus,
        block_of_node=block_of_bus[pu.node_bus], n_blocks=nb, block_buses=block_buses,
        lost=lost, alpha=alpha, switch_ids=switch_ids, switch_edge=np.array(sw_edges, int),
        switch_blocks=ends, switch_fixed=fixed, der_ids=der_ids, der_block=der_block,
        der_gf=np.array([d in gf_set for d in der_ids], bool), der_c1=c1, der_c0=c0,
        der_cost_given=np.array([d in settings.costs for d in der_ids], bool),
        default_c1=float(default_c1),
        der_p_max_kw=p_max * 1000, ph_der=ph_der, ph_node=pu.der_node,
        ph_node2=pu.der_node2 if len(pu.der_node2) == len(ph_der) else np.full(len(ph_der), -1),
        ph_p_max=(p_max / nph)[ph_der], ph_s_max=(s_max / nph)[ph_der],
        load_ids=load_ids, load_block=load_block, load_p_kw=np.array(lkw),
        load_p=cols_p_m, load_q=cols_q_m,
        load_kp=kps, load_kq=kqs, shunt_p=pu.demand_p0.copy(), shunt_q=pu.demand_q0.copy(),
        shunt_kp=pu.demand_kp.tocsr(), shunt_kq=pu.demand_kq.tocsr(), uncertain=unc,
        **slots,
    )


def fixed_closed_loop_problems(switch_ids: list[str], ends: np.ndarray, fixed: np.ndarray,
                               block_buses: list[list[str]]) -> list[Problem]:
    """The loops that the switches fixed closed (``fixed == 1``; the settings' ``switch``
    section with ``dispatchable`` NO and ``state`` CLOSED) close between the blocks
    (``ends``: each switch's two blocks), one typed problem each naming the loop's switches
    and blocks. The model's radiality is a spanning forest over *all* closed switches,
    energised or not (``forest_edges``: ``sum z_sw + sum rho = |blocks|``, the seed's
    reference [18]), so such a loop makes every plan infeasible, the all-dark one too; it
    was reported as a solver failure, exit 1 (user test ut51_part #1). Found by a
    union-find over the fixed-closed switches' blocks: a switch whose two blocks are already
    joined by fixed-closed switches closes a loop (the path between them by a breadth-first
    search; a switch with both ends in one block is a loop alone)."""
    sets: DisjointSets[int] = DisjointSets(range(len(block_buses)))
    adj: dict[int, list[tuple[int, int]]] = {}
    out: list[Problem] = []
    for s in np.flatnonzero(fixed == 1):
        a, b = int(ends[s, 0]), int(ends[s, 1])
        if sets.union(a, b):
            adj.setdefault(a, []).append((b, int(s)))
            adj.setdefault(b, []).append((a, int(s)))
            continue
        # the path a -> b over the fixed-closed switches already taken (a tree)
        came: dict[int, tuple[int, int]] = {a: (a, -1)}
        queue = [a]
        while queue and b not in came:
            x = queue.pop(0)
            for y, sw in adj.get(x, []):
                if y not in came:
                    came[y] = (x, sw)
                    queue.append(y)
        path, blocks, x = [int(s)], [b], b
        while x != a:
            x, sw = came[x]
            path.append(sw)
            blocks.append(x)
        ids = tuple(sorted(switch_ids[k] for k in path))
        blk = sorted(set(blocks))
        where = "; ".join(f"block {k}: bus{'es' if len(block_buses[k]) > 1 else ''} "
                          f"{', '.join(block_buses[k][:3])}"
                          + (", ..." if len(block_buses[k]) > 3 else "") for k in blk)
        out.append(Problem(
            ProblemKind.NOT_RADIAL, "settings",
            f"switches fixed CLOSED (dispatchable NO) close a loop: {', '.join(ids)} "
            f"between block{'s' if len(blk) > 1 else ''} {', '.join(map(str, blk))} "
            f"({where}); every plan of the partition is radial (a spanning forest of the "
            "closed switches, energised or not), so no plan can keep them all closed",
            ids, "switch.state",
            "give one of them \"state\": \"OPEN\" or \"dispatchable\": \"YES\" in the "
            "settings' switch section"))
    return out


#: [p.u.] A node's constant demand above this needs its phase live (:func:`_phase_slots`).
DEMAND_TOL = 1e-9


def _phase_slots(pu: PerUnitThreePhase, block_of_bus: np.ndarray, lost: np.ndarray,
                 fixed: np.ndarray, sw_edges: list[int], gens: pl.DataFrame,
                 ph_der: np.ndarray, gf_set: set[str],
                 demands: list[sp.csr_matrix]) -> dict[str, Any]:
    """The formed-phase slots of :class:`PartitionData` (see
    :func:`~feederopt.formulations.partition.formed_phase_rows`): one per phase of every
    block that is not lost, when some phase of an energised block could be dead: a
    grid-forming-capable DER lacks a phase of the feeder, or a switch that may close lacks a
    phase of a block at its ends. Otherwise none (every phase of an energised block is live,
    as the seed's three-phase model has it). A slot is required when a load or a constant
    demand sits on that phase of the block (a block's loads are served together, so such a
    block is energised only with every phase of its loads live: the plan is refused for
    that block, never a load served from a phase nobody holds) or the block holds a
    transformer bank (its windings couple the phases, and the linearised bank model holds
    for live windings only)."""
    n = len(pu.node_bus)
    block_of_node = block_of_bus[pu.node_bus]
    switch_phases = [list(pu.edges[k].phases) for k in sw_edges]
    nb = len(lost)
    present: list[set[int]] = [set() for _ in range(nb)]
    for i in range(n):
        if not lost[block_of_node[i]]:
            present[block_of_node[i]].add(int(pu.node_phase[i]))
    every = set().union(*present) if present else set()
    der_phases: dict[int, set[int]] = {}
    node2 = pu.der_node2 if len(pu.der_node2) == len(ph_der) else np.full(len(ph_der), -1)
    for j, d in enumerate(ph_der):
        der_phases.setdefault(int(d), set()).update(
            int(pu.node_phase[nd]) for nd in (pu.der_node[j], node2[j]) if nd >= 0)
    ids = gens["id"].to_list()
    aware = any(ids[d] in gf_set and not phs >= every for d, phs in der_phases.items())
    for s, k in enumerate(sw_edges):
        a, b = (block_of_bus[pu.edges[k].f], block_of_bus[pu.edges[k].t])
        if fixed[s] != 0 and not set(switch_phases[s]) >= present[a] | present[b]:
            aware = True
    if not aware:
        return {"switch_phases": switch_phases, "node_slot": np.full(n, -1)}
    slot_block = [blk for blk in range(nb) for _ in sorted(present[blk])]
    slot_phase = [ph for blk in range(nb) for ph in sorted(present[blk])]
    index = {(blk, ph): k for k, (blk, ph) in enumerate(zip(slot_block, slot_phase,
                                                             strict=True))}
    node_slot = np.array([index.get((int(block_of_node[i]), int(pu.node_phase[i])), -1)
                          for i in range(n)], int)
    required = np.zeros(len(slot_block), bool)
    demand = np.abs(pu.demand_p0) + np.abs(pu.demand_q0)
    for m in demands:
        if m.shape[1]:
            demand = demand + np.asarray(abs(m).sum(axis=1)).ravel()
    for node in np.flatnonzero(demand > DEMAND_TOL):
        if node_slot[node] >= 0:
            required[node_slot[node]] = True
    for bk in pu.banks:
        blk = int(block_of_bus[bk.f])
        for ph in present[blk]:
            required[index[(blk, ph)]] = True
    return {"switch_phases": switch_phases, "node_slot": node_slot,
            "slot_block": np.array(slot_block, int), "slot_phase": np.array(slot_phase, int),
            "slot_required": required}


def formed_phases(data: PartitionData, plan: PartitionPlan) -> np.ndarray:
    """Each slot's state under ``plan`` (1.0 live): phase ``phi`` of block ``l`` is live when it
    reaches, over closed switches carrying ``phi``, a grid-forming DER of the plan that has
    ``phi`` (the ``zph`` of :func:`~feederopt.formulations.partition.formed_phase_rows`)."""
    out = np.zeros(data.n_slots)
    if not data.n_slots:
        return out
    stack = [int(data.node_slot[data.ph_node[j]]) for j in range(len(data.ph_der))
             if plan.grid_forming[data.ph_der[j]] and plan.energised[
                 data.der_block[data.ph_der[j]]]]
    stack = [s for s in stack if s >= 0]
    arcs: dict[int, list[int]] = {}
    for sw in np.flatnonzero(plan.closed):
        for ph in data.switch_phases[sw]:
            a = data.slot_of(int(data.switch_blocks[sw, 0]), ph)
            b = data.slot_of(int(data.switch_blocks[sw, 1]), ph)
            if a >= 0 and b >= 0:
                arcs.setdefault(a, []).append(b)
                arcs.setdefault(b, []).append(a)
    while stack:
        s = stack.pop()
        if out[s]:
            continue
        out[s] = 1.0
        stack.extend(arcs.get(s, []))
    return out


def live_nodes(data: PartitionData, plan: PartitionPlan) -> np.ndarray:
    """Per pu node: live under ``plan`` (its block energised and, where phases are formed
    apart, its phase live: :func:`formed_phases`)."""
    on = np.asarray(plan.energised, bool)[data.block_of_node]
    if not data.n_slots:
        return on
    live = formed_phases(data, plan) > 0.5
    slot = data.node_slot
    return on & ((slot < 0) | live[np.maximum(slot, 0)])


def plan_x(data: PartitionData, plan: PartitionPlan) -> dict[str, np.ndarray]:
    """The first-stage values ``x`` (:data:`~feederopt.formulations.partition.X_GROUPS`)
    of ``plan``, as the recourse reads them."""
    return {"zbl": plan.energised.astype(float), "zsw": plan.closed.astype(float),
            "ps": plan.p_set, "qs": plan.q_set, "zph": formed_phases(data, plan),
            "zinv": np.asarray(plan.grid_forming, float)}


@dataclass
class PartitionPlan:
    """The first-stage decisions: block states, closed switches, grid-forming DERs and the
    per-phase DER set-points [p.u. = MW per phase]."""

    energised: np.ndarray  # bool per block
    closed: np.ndarray  # bool per switch
    grid_forming: np.ndarray  # bool per DER
    p_set: np.ndarray  # per DER phase
    q_set: np.ndarray


def _components(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    """The connected components of the graph on ``range(n)`` with the edges ``pairs``, each
    sorted, ordered by their first node."""
    rows = [a for a, _ in pairs]
    cols = [b for _, b in pairs]
    adj = sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    groups: dict[int, list[int]] = {}
    for node, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(node)
    return sorted(groups.values(), key=lambda c: c[0])


def components(data: PartitionData, plan: PartitionPlan) -> list[list[int]]:
    """The blocks of each connected component of the block graph with the closed switches."""
    pairs = [(int(a), int(b)) for a, b in data.switch_blocks[np.flatnonzero(plan.closed)]]
    return _components(data.n_blocks, pairs)


def _branches(elements: list[tuple[int, int, list[int]]]) -> list[tuple[int, int]]:
    """The branches of the bus graph of ``elements`` (from bus, to bus, phases): elements
    between the same two buses on disjoint phases are one branch (Iowa 240's
    ``L_1007_1007_L_1`` and ``_2``, single-phase lines on phases 1 and 2 from bus1007 to
    T_bus1007_L: no loop, each phase has one path), parallel ones sharing a phase stay two
    (a loop)."""
    groups: dict[tuple[int, int], list[set[int]]] = {}
    for f, t, phases in elements:
        key = (min(f, t), max(f, t))
        taken = groups.setdefault(key, [])
        ph = set(phases)
        for g in taken:
            if not g & ph:  # another phase of a branch already there
                g |= ph
                break
        else:
            taken.append(ph)
    return [key for key, gs in groups.items() for _ in gs]


def check_partition(data: PartitionData, plan: PartitionPlan,
                    der_output: np.ndarray | None = None, tol: float = 1e-6) -> list[str]:
    """The model-validity checks of seed 001 (section II), an empty list when all hold:

    * every energised component is radial on the bus graph (lines, banks, closed switches);
    * it holds between 1 and ``k_der`` grid-forming DERs, each in an energised block;
    * no DER output (set-points, and ``der_output`` per DER phase if given) in a
      de-energised block (its loads are shed by construction: ``z_l s_d``);
    * closed switches join only blocks of the same energisation state (eq. 2).
    """
    out: list[str] = []
    pu = data.pu
    k = data.settings.k_der
    for s in np.flatnonzero(plan.closed):
        a, b = data.switch_blocks[s]
        if plan.energised[a] != plan.energised[b]:
            out.append(f"closed switch {data.switch_ids[s]} joins an energised and a "
                       "de-energised block")
    pairs = _branches(
        [(e.f, e.t, e.phases) for e in pu.edges if not e.switchable]
        + [(bk.f, bk.t, bk.pri) for bk in pu.banks]
        + [(pu.edges[data.switch_edge[s]].f, pu.edges[data.switch_edge[s]].t,
            pu.edges[data.switch_edge[s]].phases) for s in np.flatnonzero(plan.closed)])
    for comp in components(data, plan):
        if not plan.energised[comp[0]]:
            continue
        buses = [b for b in range(len(pu.bus_ids)) if data.block_of_bus[b] in comp]
        index = {b: i for i, b in enumerate(buses)}
        inner = [(index[a], index[b]) for a, b in pairs if a in index and b in index]
        if len(inner) != len(buses) - 1 or len(_components(len(buses), inner)) != 1:
            out.append(f"energised component of blocks {comp} is not radial")
        n_gf = int(sum(plan.grid_forming[d] for d in range(len(data.der_ids))
                       if data.der_block[d] in comp))
        if not 1 <= n_gf <= k:
            out.append(f"energised component of blocks {comp} has {n_gf} grid-forming DERs "
                       f"(1..{k} allowed)")
    if data.n_slots:
        live = formed_phases(data, plan) > 0.5
        for slot in np.flatnonzero(data.slot_required & ~live
                                   & plan.energised[data.slot_block]):
            out.append(f"phase {PHASES[data.slot_phase[slot]]} of energised block "
                       f"{int(data.slot_block[slot])} has load but no grid-forming DER of its "
                       "microgrid holds that phase")
        # a unit between two phases is dead when either of its phases is
        node_live = data.node_states(plan.energised, live)
        dead = (data.der_states(node_live) < 0.5) & plan.energised[data.der_block[data.ph_der]]
        for what, val in ([("set-point", plan.p_set), ("set-point q", plan.q_set)]
                          + ([("output", der_output)] if der_output is not None else [])):
            for j in np.flatnonzero((np.abs(val) > tol) & dead
                                    & plan.energised[data.der_block[data.ph_der]]):
                out.append(f"DER {data.der_ids[data.ph_der[j]]} has {what} {val[j]:.3g} on "
                           f"phase {der_entry_phases(data, int(j))}, which no grid-forming DER "
                           "of its microgrid holds (both, for a unit between two phases)")
    off = ~plan.energised
    for d in np.flatnonzero(plan.grid_forming):
        if off[data.der_block[d]]:
            out.append(f"grid-forming DER {data.der_ids[d]} in a de-energised block")
    outputs = [("set-point", plan.p_set), ("set-point q", plan.q_set)]
    if der_output is not None:
        outputs.append(("output", der_output))
    for what, val in outputs:
        for j in np.flatnonzero(np.abs(val) > tol):
            if off[data.der_block[data.ph_der[j]]]:
                out.append(f"DER {data.der_ids[data.ph_der[j]]} has {what} {val[j]:.3g} in a "
                           "de-energised block")
    return out


def der_entry_phases(data: PartitionData, j: int) -> str:
    """The phase letters of DER phase entry ``j``: ``"b"`` phase to ground, ``"bc"`` for a
    unit between two phases."""
    pu = data.pu
    n2 = int(data.second_nodes()[j])
    return PHASES[int(pu.node_phase[data.ph_node[j]])] + (
        PHASES[int(pu.node_phase[n2])] if n2 >= 0 else "")


def served_at_voltages(data: PartitionData, energised: np.ndarray, w: np.ndarray,
                       scale: np.ndarray | None = None) -> np.ndarray:
    """Each load's active demand [kW] at the squared node voltages ``w`` [p.u.^2] (0 for a
    load of a de-energised block), as the model has it (18a):
    ``p_d(w) = z_l u_d (1^T p_d^0 + 1^T K_d w)`` with ``p_d^0`` the constant part
    (``load_p``), ``K_d`` the voltage-dependent part (``load_kp``) and ``u_d`` the load's scale
    (default nominal, 1). At ``w = 1`` (every node at 1 p.u.) this is the nominal kW of a load
    whose rated voltage is its bus's; with ``load_model = "constant_power"`` ``K_d = 0``."""
    u = np.ones(len(data.load_ids)) if scale is None else np.asarray(scale, float)
    on = np.asarray(energised, bool)[data.load_block]
    const = np.asarray(data.load_p.sum(axis=0)).ravel() if data.load_p.shape[1] else \
        np.zeros(0)
    var = np.array([float((k @ w).sum()) if k.nnz else 0.0 for k in data.load_kp])
    return 1000.0 * on * u * (const + var) if len(u) else np.zeros(0)


#: [kW, kvar] How far a microgrid's DER set-points may miss its model demand at the plan's
#: voltages (:func:`setpoint_imbalance`) before the result says so: the set-point stage meets
#: each node's balance row within 1e-7 p.u. (0.1 W on the 1 MVA base; FEAS_TOL of
#: :mod:`feederopt.solvers.least_squares`), so 100 rows of a microgrid stay within 10 W.
BALANCE_TOL_KW = 0.01


def setpoint_imbalance(data: PartitionData, plan: PartitionPlan,
                       w: np.ndarray) -> list[tuple[list[int], float, float]]:
    """Per energised microgrid (its blocks), the model demand of its nodes at the squared
    voltages ``w`` (nominal loads, shunts; (18a)) less its DERs' set-points, ``(blocks,
    dP [kW], dQ [kvar])``. LinDist3Flow is lossless, so when the set-points are the DERs'
    outputs at the nominal load (tie-break rule 1, docs/partition-tiebreak.md) both are zero:
    ``sum_{g in M} s_g = sum_{n in M} (p_n^0 + sum_d p_{d,n}^0 + (K_n w)_n)`` and the same for
    ``q``, with ``K`` the voltage-dependent parts of the shunts and loads (``shunt_kp``,
    ``load_kp``; ``_kq`` for ``q``). A positive value is load the set-points leave to the
    re-dispatch."""
    w = np.asarray(w, float)
    demand = []
    for const, kmat, loads, kloads in (
            (data.shunt_p, data.shunt_kp, data.load_p, data.load_kp),
            (data.shunt_q, data.shunt_kq, data.load_q, data.load_kq)):
        d = np.asarray(const, float) + (np.asarray(loads.sum(axis=1)).ravel()
                                       if loads.shape[1] else 0.0)
        d = d + kmat @ w + sum((k @ w for k in kloads if k.nnz), np.zeros(len(w)))
        demand.append(d)
    out = []
    for comp in components(data, plan):
        if not plan.energised[comp[0]]:
            continue
        nodes = np.isin(data.block_of_node, comp)
        ders = np.isin(data.der_block[data.ph_der], comp)
        out.append(([int(b) for b in comp],
                    1000.0 * float(demand[0][nodes].sum() - plan.p_set[ders].sum()),
                    1000.0 * float(demand[1][nodes].sum() - plan.q_set[ders].sum())))
    return out


def plan_summary(data: PartitionData, plan: PartitionPlan) -> dict[str, Any]:
    """Counts of a plan: energised blocks, closed switches, served load [kW]."""
    served = float(data.load_p_kw[plan.energised[data.load_block]].sum())
    return {"energised_blocks": int(plan.energised.sum()),
            "closed_switches": int(plan.closed.sum()), "served_load_kw": served,
            "total_load_kw": float(data.load_p_kw.sum())}
