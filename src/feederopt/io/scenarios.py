"""Load and DER scenarios: a long table (Parquet or CSV), its validation, and a generator.

File format (one row per element per scenario; Parquet or CSV):

============  ======================================================================
column        meaning
============  ======================================================================
scenario      scenario name (any string; integers are read as strings)
kind          ``load``, ``bus``, ``generator`` or ``source``; optional where unambiguous: when
              missing or empty, ``element`` is looked up among the load ids, then among
              the bus ids, then (three-phase feeders) among the generating units' ids.
              An element that is both an (in-service) load id and a bus id (every
              MATPOWER case: load ``18`` sits at bus ``18``) is ambiguous: its row then
              takes its kind from ``der`` (``load`` -> ``load``; ``pv``, ``ev``, ``hp``,
              ``generator``, ``storage`` -> ``bus``), and without one it is a
              ``BAD_SCENARIO`` problem (a PV row read as the load would replace the
              load's demand instead of adding to it)
element       a load id (kind ``load``), a bus id (kind ``bus``) or a generating unit's
              id (kind ``generator``: on a three-phase feeder a ``PVSystem``,
              ``Generator`` or ``Storage`` by its OpenDSS full name, ``PVSystem.pv1``;
              on a balanced network a unit of fixed output, ``sgen:8``); an integral
              float (``2.0``: a float id column of pandas, CSV or Parquet) is the
              integer id ``2`` (:func:`~feederopt.io._common.match_id`), a NaN cell an
              empty one
p_mw          active power [MW]: a ``load`` or ``bus`` row's DEMAND (positive draws
              power, negative injects, as PV at a bus); a ``generator`` row's OUTPUT
              (positive injects: a PV system producing 0.2 MW is ``p_mw = 0.2``; a
              storage unit charging is negative)
q_mvar        reactive power [MVAr]; the same convention as the row's ``p_mw`` (a
              ``source`` row leaves ``p_mw`` and ``q_mvar`` empty or 0)
vm_pu         optional; a ``source`` row's voltage magnitude [p.u.] at the source bus that
              its ``element`` names (a bus with ``is_source``; pandapower's ext_grid
              ``vm_pu``, SimBench's study-case ``Slack_vm``), in 0.8 - 1.2; empty on every
              other row
weight        the scenario's probability weight (> 0); the same on every row of a
              scenario; weights are normalised to sum to 1
der           optional, informative: ``load``, ``pv``, ``ev``, ``hp``, ``generator``,
              ``storage`` (ignored on read)
============  ======================================================================

Meaning: a ``load`` row gives that load's demand in the scenario and replaces its nominal value
(loads without a row keep their nominal demand; a negative demand on a ``load`` row is a
``BAD_SCENARIO`` problem, as a negative ``load.p_mw`` is in pandapower: an injection is a
``bus`` row). The row is the load's final demand: a pandapower load's ``scaling`` is not
applied to it (the nominal value it replaces is ``p_mw * scaling``, as the reader takes it and
:func:`generate_scenarios` writes it), so a row filled from ``net.load.p_mw`` of a load with
``scaling`` s is 1/s times the demand meant (user test ut40_realg5 #3); a ``bus`` row is an
extra net demand at the bus (a DER: PV negative, EV chargers and heat pumps positive), and
several ``bus`` rows at one bus add up (rows of one scenario identical in bus, ``p_mw``,
``q_mvar`` and ``der``, most likely a copy, too, with a note:
:func:`identical_bus_rows_notes`). A ``generator`` row gives the unit's output in the
scenario and replaces its snapshot output (units without a row keep theirs); the three-phase
network's ``generators``
table holds it, and OpenDSS's check of the scenario sets it. On a balanced network a
``generator`` row names a unit of fixed output (a pandapower sgen, ``sgen:8``) and gives its
output ``p^s`` in the scenario (PV x3 of a 1.5 MW sgen: ``p_mw = 4.5``); the unit stays at its
set-point ``p^0`` in the model and the AC power flow, and the difference is a bus row at its
bus, ``-(p^s - p^0)`` (:func:`_generator_rows`); a unit whose output the solve chooses is a
``BAD_SCENARIO`` problem. The per-bus net demand of scenario ``s`` (of the loads and
bus rows) is

    d_s(j) = sum_{loads k at j} (p_k^s if given else p_k^0) + sum_{bus rows at j} p^s_row

and the same for ``q``. A ``source`` row (at most one per source bus and scenario) sets
the source's voltage set-point in that scenario: the squared voltage ``v`` at the root of the
DistFlow model is ``vm_pu^2`` there (a source with an OLTC keeps its ratio range around the new
set-point), and the scenario's AC power flow holds the ext_grid at ``vm_pu``; a scenario
without one keeps the network's ``v_set_pu``. A column the table is not read by (``comment``,
a misspelt ``knd``) is a warning naming it and the nearest known column
(:func:`column_warnings`, ``ScenarioSet.notes``), and a missing column names the column given
that most likely means it (``wieght``). Bad files raise :class:`~feederopt.network.InputError`
with ``BAD_SCENARIO`` problems (the CLI exits with code 2).

The generator (:func:`generate_scenarios`) draws, per scenario, a load growth, a penetration
level per DER technology and the buses where the DERs sit (see its docstring). Seeded: the same
arguments give the same table. Random draws rarely reach the corners of these ranges, so
``bounding=True`` (``feederopt scenarios --bounding``) adds the two bounding futures, not
drawn: ``peak`` (every load at the top of its range, EV and heat pumps at their largest share
and size on the largest load buses, no PV) and ``valley`` (every load at the bottom, PV at
its largest share, size and capacity factor on the largest load buses, no EV or heat pump),
each at weight ``bounding_weight`` (default 1 %), the drawn scenarios sharing the rest; the
drawn rows stay those of the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.forking import check_not_forked
from feederopt.io._common import duplicate_columns, match_id, natural_key, read_long_table
from feederopt.io.frames import as_polars, is_frame, source_problems, table_problem
from feederopt.io.writing import atomic_file, format_name
from feederopt.network.container import Network
from feederopt.network.id_hints import meant_ids
from feederopt.network.perunit import PerUnitNetwork, to_per_unit
from feederopt.network.schemas import nan_as_null
from feederopt.network.validate import nearest_name, unknown_fields
from feederopt.scalars import is_finite, is_real, is_switch, is_whole

if TYPE_CHECKING:
    from feederopt.network.threephase import ThreePhaseNetwork
    from feederopt.network.validate import SupplyCapacity

REQUIRED = ("scenario", "element", "p_mw", "q_mvar", "weight")
KINDS = ("load", "bus", "generator", "source")
#: Every column a scenario table is read by (``bus`` is read as ``element``).
KNOWN_COLUMNS = (*REQUIRED, "kind", "der", "vm_pu")
#: The range of a ``source`` row's ``vm_pu`` [p.u.] (a value outside is a typo: 103.5 for
#: 1.035, or kV for p.u.).
SOURCE_VM_RANGE = (0.8, 1.2)
#: Other words for a required column, each named in the hint of the missing column
#: (``rename 'probability' to weight``).
SYNONYMS = {"weight": ("probability", "prob", "probabilities", "weights", "p", "w", "share"),
            "element": ("id", "element_id", "load", "name"),
            "scenario": ("scenario_name", "name", "case", "id")}
#: The ``der`` values of a DER added at a bus (a kind-less row with one is a ``bus`` row).
BUS_DERS = ("pv", "ev", "hp", "generator", "storage", "generator_change")


@dataclass(frozen=True)
class ScenarioSet:
    """Per-bus net demand of every scenario, in MW/MVAr, with normalised weights.

    ``p_mw[s, j]`` is the net demand of bus ``j`` (the network's bus order, ``bus_ids``) in
    scenario ``s``.
    """

    names: list[str]
    weights: np.ndarray  # (S,), sums to 1
    bus_ids: list[str]
    p_mw: np.ndarray  # (S, n_bus)
    q_mvar: np.ndarray
    #: The sum of the weights as the file gave them (normalised to 1 in ``weights``).
    given_weight_sum: float = 1.0
    #: Per scenario that leaves out a load that another scenario lists: its name and those
    #: loads' ids (:func:`missing_loads`); they keep their nominal demand there.
    missing_loads: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: ``source_vm_pu[s, j]``: the voltage [p.u.] that scenario ``s``'s ``source`` row gives
    #: source bus ``j`` (NaN: none given, the network's ``v_set_pu`` holds); None: no
    #: scenario has a source row.
    source_vm_pu: np.ndarray | None = None
    #: Warnings on how the table was read: a column the scenarios do not read, with the
    #: nearest known one (:func:`column_warnings`).
    notes: tuple[str, ...] = ()
    #: ``load_p_mw[s, k]``, ``load_q_mvar[s, k]``: each in-service load's demand in scenario
    #: ``s`` (its ``load`` row, else its nominal value; the per-unit model's load order,
    #: ``to_per_unit(network).load_ids``), and ``extra_p_mw[s, j]``, ``extra_q_mvar[s, j]``
    #: the ``bus`` rows' net demand at bus ``j`` (the DER): ``p_mw = bincount(loads) +
    #: extra_p_mw``. None for a set built from per-bus arrays
    #: (:func:`scenario_set_from_arrays`). ``feederopt check`` draws its box around each
    #: scenario's loads with them.
    load_p_mw: np.ndarray | None = None
    load_q_mvar: np.ndarray | None = None
    extra_p_mw: np.ndarray | None = None
    extra_q_mvar: np.ndarray | None = None
    #: Per scenario, its ``generator`` rows of a balanced network: the output ``(p^s, q^s)``
    #: [MW, MVAr] of each unit of fixed output it names (by unit id); a unit without a row
    #: keeps its set-point. ``extra_p_mw`` holds them as ``-(p^s - p^0)`` at the unit's bus
    #: (:func:`_generator_rows`); ``feederopt check --growth-margin generation`` scales the
    #: output itself (``lambda p^s``). Empty for a set without such rows.
    generator_outputs: tuple[dict[str, tuple[float, float]], ...] = ()

    def source_voltage(self, v_set: np.ndarray) -> np.ndarray | None:
        """Per scenario and bus the source set-point [p.u.]: the scenario's ``source`` row,
        else ``v_set`` (the network's, per bus in :attr:`bus_ids` order); None when no
        scenario has a source row."""
        if self.source_vm_pu is None:
            return None
        given = np.asarray(self.source_vm_pu, float)
        return np.where(np.isfinite(given), given, np.asarray(v_set, float)[None, :])

    def source_voltages(self, set_points: Mapping[str, float]) -> list[dict[str, float]]:
        """Per scenario, the voltage [p.u.] each source bus is held at in it: ``vm_pu`` of
        the scenario's ``source`` row at that bus, else the network's set-point
        ``set_points[bus]`` (its ``v_set_pu``; the keys, in their order, are the source
        buses). What a scenario run records per scenario (result.json's
        ``scenarios[].source_vm_pu``)."""
        col = {b: j for j, b in enumerate(self.bus_ids)}
        given = (None if self.source_vm_pu is None
                 else np.asarray(self.source_vm_pu, float))
        out: list[dict[str, float]] = []
        for s in range(self.count):
            row: dict[str, float] = {}
            for bus, v_set in set_points.items():
                vm = math.nan if given is None or bus not in col else float(given[s, col[bus]])
                row[str(bus)] = vm if math.isfinite(vm) else float(v_set)
            out.append(row)
        return out

    @property
    def has_source_rows(self) -> bool:
        """Does any scenario set a source voltage (a ``source`` row)?"""
        return self.source_vm_pu is not None and bool(
            np.isfinite(np.asarray(self.source_vm_pu, float)).any())

    @property
    def missing_loads_note(self) -> str | None:
        """:func:`missing_loads_note` of :attr:`missing_loads` (None: every scenario lists
        the same loads)."""
        return missing_loads_note(self.missing_loads)

    @property
    def count(self) -> int:
        return len(self.names)

    def per_unit(self, s_base_mva: float) -> tuple[np.ndarray, np.ndarray]:
        """``(p, q)`` per scenario and bus in p.u. of ``s_base_mva``."""
        return self.p_mw / s_base_mva, self.q_mvar / s_base_mva

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        """The probability-weighted mean demand per bus [MW, MVAr]."""
        return self.weights @ self.p_mw, self.weights @ self.q_mvar

    @property
    def has_injection(self) -> bool:
        """Does any scenario have a bus with negative net demand (reverse power)?"""
        return bool(np.any(self.p_mw < 0) or np.any(self.q_mvar < 0))


def given_columns(df: pl.DataFrame) -> list[str]:
    """The columns of a normalised scenario table (:func:`_normalise_columns`) as given: not
    the parsed copies it adds (``p_mw__num``, ``p_mw__raw``)."""
    return [c for c in df.columns if not c.endswith(("__num", "__raw"))]


def column_warnings(df: pl.DataFrame) -> list[Problem]:
    """A warning naming each column of the normalised table ``df`` that the scenarios do not
    read (:data:`KNOWN_COLUMNS`), with the nearest known column
    (:func:`~feederopt.network.validate.unknown_fields`, the table folders' rule): a
    ``comment`` column, or a misspelt ``knd``, was dropped without a word (user test
    ut42_badin #5)."""
    return unknown_fields("scenarios", given_columns(df), KNOWN_COLUMNS)


def _problem(message: str, ids: Sequence[str] = (), field: str | None = None,
             hint: str = "") -> Problem:
    return Problem(ProblemKind.BAD_SCENARIO, "scenarios", message, ids=tuple(ids), field=field,
                   hint=hint)


def pandapower_load_guess(unknown: Sequence[str], load_ids: Sequence[str]) -> str:
    """For ids that are a pandapower load's index (``5`` where ``load:5`` is a load): "a
    pandapower load is load:<index>: did you mean load:5?"; empty otherwise."""
    known = set(load_ids)
    meant = [f"load:{u}" for u in unknown if f"load:{u}" in known]
    shown = ", ".join(meant[:5]) + (f", ... ({len(meant) - 5} more)" if len(meant) > 5 else "")
    return f"a pandapower load is load:<index>: did you mean {shown}?" if meant else ""


def load_id_hint(unknown: Sequence[str], load_ids: Sequence[str]) -> str:
    """The form of the network's load ids, and the id meant for a pandapower load's index
    (:func:`pandapower_load_guess`) or for the id in another case (``d2`` -> ``D2``,
    :func:`~feederopt.network.id_hints.meant_ids`): the hint of an unknown load id in a
    scenario file and in ``--uncertain-loads`` (user test ut_core2, finding 5)."""
    ids = list(load_ids)
    sample = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    text = f"the network's load ids are {sample}" if ids else "the network has no load"
    guess = pandapower_load_guess(unknown, ids)
    cased = [f"{u}: did you mean {' or '.join(near)}?" for u in unknown
             if (near := meant_ids(u, ids, index=False))]
    return text + "".join(f"; {g}" for g in (guess, *cased[:5]) if g)


def unknown_load_problem(given: Sequence[str], load_ids: Sequence[str]) -> Problem | None:
    """The problem of the ids in ``given`` (``--uncertain-loads``, ``uncertain_loads=``) that
    name no in-service load of ``load_ids`` (each named once, in the order given), with
    :func:`load_id_hint`; None when every id is a load's. The one check of the robust solve
    (:func:`feederopt.algorithms.robust.uncertainty_set`), of the options against the network
    before it (:func:`feederopt.api.uncertain_load_problems`) and of ``check``. Typed
    ``invalid_value`` of the option, as an unknown ``--hold-open`` id is: no scenario file is
    involved (it was ``bad_scenario``, ut45_mc #5)."""
    known = set(load_ids)
    unknown = list(dict.fromkeys(str(x) for x in given if str(x) not in known))
    if not unknown:
        return None
    units = [u for u in unknown if u.lower().startswith(UNIT_ID_PREFIXES)]
    return Problem(ProblemKind.INVALID_VALUE, "options", "unknown (or out-of-service) load id(s)",
                   ids=tuple(unknown), field="uncertain_loads",
                   hint=load_id_hint(unknown, list(load_ids)) + (
                       f"; {', '.join(units[:3])}: a generating unit's id, and the box varies "
                       "loads only: give DER output per scenario as generator rows of a "
                       "scenario table (--scenarios)" if units else ""))


#: How a generating unit's id begins (a pandapower sgen, gen or storage; an OpenDSS
#: PVSystem, Generator or Storage), for the hint of such an id among ``--uncertain-loads``,
#: whose box varies loads only (user test ut49_growth #3).
UNIT_ID_PREFIXES = ("sgen:", "gen:", "storage:", "pvsystem.", "generator.")


# ----- reading and writing ----------------------------------------------------------------------
def read_scenario_table(path: str | Path) -> pl.DataFrame:
    """The raw long table of a ``.parquet`` or ``.csv`` file (not yet validated)."""
    df = read_long_table(path, "scenario table")
    return _normalise_columns(df)


#: What a scenario table may be given as, and an example (the refusal of anything else).
SCENARIO_SOURCES = ("a scenario table (a polars or pandas DataFrame, or the path of a "
                    "CSV/Parquet file)")
SCENARIO_HINT = "e.g. scenarios='scenarios.parquet' or scenarios=pl.read_csv('scenarios.csv')"


def scenario_source_problems(source: object) -> list[Problem]:
    """The problem of a ``scenarios`` value that is neither a path nor a table in memory
    (polars or pandas), naming its type only, never its value (empty when it is one)."""
    if source is None:
        return [table_problem(source, "scenarios", SCENARIO_SOURCES, SCENARIO_HINT)]
    return source_problems(source, "scenarios", SCENARIO_SOURCES, SCENARIO_HINT)


def scenario_table(source: object) -> pl.DataFrame:
    """The raw long table (not yet validated) of a path (:func:`read_scenario_table`) or of
    a table in memory, polars or pandas (:func:`feederopt.io.frames.as_polars`). Anything else
    is an :class:`InputError` naming its type (:func:`scenario_source_problems`)."""
    problems = scenario_source_problems(source)
    if problems:
        raise InputError(problems)
    if is_frame(source):
        frame = as_polars(source, "scenarios")
        duplicate_columns("the table", frame.columns, "scenario table")
        return _normalise_columns(frame)
    return read_scenario_table(source)  # type: ignore[arg-type]  # a path (checked above)


def _normalise_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Column names in lower case; ``bus`` is accepted for ``element``; ids as strings."""
    df = df.rename({c: c.strip().lower() for c in df.columns})
    if "element" not in df.columns and "bus" in df.columns:
        df = df.rename({"bus": "element"})
    casts = []
    for col in ("scenario", "element", "kind", "der"):
        if col in df.columns:
            cell = pl.col(col)
            if df[col].dtype.is_float():
                # a NaN in a float id column (pandas' empty cell, kept by Parquet) is an
                # empty cell, not the id "NaN"
                cell = cell.fill_nan(None)
            casts.append(cell.cast(pl.String).str.strip_chars())
    for col in ("p_mw", "q_mvar", "weight", "vm_pu"):
        if col in df.columns:
            casts.append(pl.col(col).cast(pl.String).str.strip_chars().cast(pl.Float64,
                                                                              strict=False)
                         .alias(col + "__num"))
            casts.append(pl.col(col).cast(pl.String).alias(col + "__raw"))
    return df.with_columns(casts) if casts else df


#: The file types a scenario table is written as, by the file's suffix.
SCENARIO_FILE_TYPES = (".parquet", ".csv")


def scenario_file_problems(path: str | Path, option: str | None = None) -> list[Problem]:
    """Why ``path`` cannot be written as a scenario table (empty when it can): its name (a
    link's target's, :func:`~feederopt.io.writing.format_name`) ends neither in ``.parquet``
    nor in ``.csv``. ``option`` names the command-line option (``"out"``)."""
    named = format_name(path)
    if named.suffix.lower() in SCENARIO_FILE_TYPES:
        return []
    link = f" (a link to '{named}')" if named != Path(path) else ""
    return [Problem(ProblemKind.UNKNOWN_FILE_TYPE, "file",
                    f"'{path}'{link} is neither .parquet nor .csv", ids=(str(path),),
                    field=option, hint="name the file *.parquet or *.csv")]


def write_scenarios(table: pl.DataFrame, path: str | Path, *, force: bool = False) -> Path:
    """Write a long scenario table (polars or pandas) as ``.parquet`` or ``.csv`` (by the
    file's suffix; a symbolic link's by its target's, which is the file written),
    atomically; an existing file is replaced only with ``force``."""
    check_not_forked("feederopt.write_scenarios")
    table = as_polars(table, "table")
    path = Path(path)
    problems = scenario_file_problems(path)
    if problems:
        raise InputError(problems)
    suffix = format_name(path).suffix.lower()
    with atomic_file(path, force=force) as tmp:
        # a missing value is null, never NaN (nan_as_null)
        if suffix == ".parquet":
            nan_as_null(table).write_parquet(tmp)
        else:
            nan_as_null(table).write_csv(tmp)
    return path


def load_scenarios(network: Network, source: object) -> ScenarioSet:
    """Read (a path) or take (a polars or pandas DataFrame) a scenario table and resolve it on
    ``network`` (:func:`scenario_table`)."""
    return resolve_scenarios(network, scenario_table(source))


# ----- validation and resolution ----------------------------------------------------------------
def generation_by_bus(network: Network, bus_ids: Sequence[str]) -> tuple[int, np.ndarray]:
    """The network's own generation at its set points, which scenarios leave out: the number
    of in-service units with a non-zero ``p_mw``, and their ``p_mw`` summed per bus of
    ``bus_ids`` [MW] (a unit at a bus outside ``bus_ids`` adds nothing). A SimBench grid's
    sgens are such units (ut_unc #4: 25.6 MW against 17.3 MW of load)."""
    check_not_forked("feederopt.generation_by_bus")
    gens = network.generators.filter(pl.col("in_service") & (pl.col("p_mw") != 0))
    index = {str(b): j for j, b in enumerate(bus_ids)}
    out = np.zeros(len(index))
    for b, p in zip(gens["bus"].to_list(), gens["p_mw"].fill_null(0.0).to_list(), strict=True):
        if str(b) in index:
            out[index[str(b)]] += float(p)
    return gens.height, out


def element_names(network: Network) -> dict[str, str]:
    """The names of the network's buses and loads (the ``name`` columns), each with the
    element that has it, ``bus 3`` or ``load load:0`` (several: the first; a name that is
    also an id is left out): for the hint of a scenario row that names an element by its
    name (``Bus 3``, ``Load R1``)."""
    out: dict[str, str] = {}
    ids = {str(x) for x in network.buses["id"].to_list()} | {
        str(x) for x in network.loads["id"].to_list()}
    for what, table in (("load", network.loads), ("bus", network.buses)):
        if "name" not in table.columns:
            continue
        for i, n in zip(table["id"].to_list(), table["name"].to_list(), strict=True):
            if n is not None and str(n).strip() and str(n) not in ids:
                out.setdefault(str(n).strip(), f"{what} {i}")
    return out


def resolve_scenarios(network: Network, df: pl.DataFrame) -> ScenarioSet:
    """Validate a long table (see the module docstring) and sum it per bus.

    The validation is :func:`resolve_scenario_rows`' (on the network's bus ids and in-service
    load ids); a row without a ``kind`` whose element is an out-of-service load is looked up
    among the buses, else an unknown element. Raises :class:`InputError` with every
    ``BAD_SCENARIO`` problem found. A pandas DataFrame is converted
    (:func:`feederopt.io.frames.as_polars`).
    """
    check_not_forked("feederopt.resolve_scenarios")
    df = as_polars(df, "scenarios")
    if "p_mw__num" not in df.columns and any(c in df.columns for c in ("p_mw", "weight")):
        df = _normalise_columns(df)
    in_service = network.loads.filter(pl.col("in_service"))
    live = [str(x) for x in in_service["id"].to_list()]
    gone = sorted({str(x) for x in network.loads["id"].to_list()} - set(live))
    rows = _validated_rows(df, live, [str(b) for b in network.buses["id"].to_list()], gone,
                           load_buses={str(i): str(b) for i, b in zip(
                               in_service["id"].to_list(), in_service["bus"].to_list(),
                               strict=True)},
                           internal_buses=network.internal_buses(),
                           sources=[str(b) for b in network.buses.filter(
                               pl.col("is_source"))["id"].to_list()],
                           named=element_names(network),
                           generators=(
                               [str(x) for x in network.generators.filter(
                                   pl.col("in_service"))["id"].to_list()],
                               [str(x) for x in network.generators.filter(
                                   ~pl.col("in_service"))["id"].to_list()]))

    pu = to_per_unit(network)
    load_index = {lid: k for k, lid in enumerate(pu.load_ids)}
    bus_index = {bid: j for j, bid in enumerate(pu.bus_ids)}
    n_s, n = len(rows.names), pu.n_bus
    s_base = pu.s_base_mva
    load_p = np.tile(pu.load_p * s_base, (n_s, 1))
    load_q = np.tile(pu.load_q * s_base, (n_s, 1))
    extra_p = np.zeros((n_s, n))
    extra_q = np.zeros((n_s, n))
    for k in range(n_s):
        for lid, (p, q) in rows.loads[k].items():
            load_p[k, load_index[lid]] = p
            load_q[k, load_index[lid]] = q
        for bid, (p, q) in rows.buses[k].items():
            extra_p[k, bus_index[bid]] = p
            extra_q[k, bus_index[bid]] = q
    p_bus = np.zeros((n_s, n))
    q_bus = np.zeros((n_s, n))
    for k in range(n_s):
        if len(pu.load_bus):
            p_bus[k] = np.bincount(pu.load_bus, weights=load_p[k], minlength=n)
            q_bus[k] = np.bincount(pu.load_bus, weights=load_q[k], minlength=n)
    _generator_rows(network, rows, bus_index, extra_p, extra_q)
    p_all, q_all = p_bus + extra_p, q_bus + extra_q
    problem = _unsuppliable(pu, rows.names, p_all, q_all, (load_p, load_q),
                            (extra_p, extra_q))
    if problem is not None:
        raise InputError([problem])
    source_vm: np.ndarray | None = None
    if any(rows.sources):
        source_vm = np.full((n_s, n), np.nan)
        for k in range(n_s):
            for bid, vm in rows.sources[k].items():
                source_vm[k, bus_index[bid]] = vm
    return ScenarioSet(rows.names, rows.weights, list(pu.bus_ids), p_all, q_all,
                       rows.given_weight_sum,
                       missing_loads(rows.names, [list(r) for r in rows.loads], pu.load_ids),
                       source_vm, rows.notes, load_p, load_q, extra_p, extra_q,
                       tuple(dict(rows.generator_outputs(k)) for k in range(n_s)))


def _generator_rows(network: Network, rows: ScenarioRows, bus_index: Mapping[str, int],
                    extra_p: np.ndarray, extra_q: np.ndarray) -> None:
    """A balanced network's ``generator`` rows, into the bus rows ``extra_p``, ``extra_q``
    (``(S, n_bus)`` MW, MVAr, in place): a row gives a fixed-output unit's output ``(p^s,
    q^s)`` in scenario ``s`` (an sgen: ``p_min_mw = p_max_mw``, ``q_min_mvar = q_max_mvar``,
    no voltage set-point), which the model and the AC power flow keep at its set-point
    ``(p^0, q^0)``; the difference is a net demand at its bus,

        extra_s(bus) += -(p^s - p^0),   and the same for q,

    exact because both injections are constants (PV x3 of a 1.5 MW sgen: ``p_mw = 4.5``, a
    demand of -3 MW at its bus). A row for a unit whose output the solve chooses
    (dispatchable, or holding a voltage) is a ``BAD_SCENARIO`` problem naming it."""
    if not any(rows.generators):
        return
    gens = network.generators
    info = {str(r["id"]): r for r in gens.iter_rows(named=True)}

    def same(a: object, b: object) -> bool:
        x = 0.0 if a is None else float(a)  # type: ignore[arg-type]
        y = 0.0 if b is None else float(b)  # type: ignore[arg-type]
        return abs(x - y) <= 1e-12 * max(1.0, abs(x), abs(y))

    chosen = sorted({u for per in rows.generators for u in per
                     if not (same(info[u]["p_min_mw"], info[u]["p_max_mw"])
                             and same(info[u]["q_min_mvar"], info[u]["q_max_mvar"])
                             and info[u]["v_set_pu"] is None)})
    if chosen:
        raise InputError([_problem(
            "generator rows of a balanced network scale units of fixed output (sgens): the "
            "solve chooses the output of these (a dispatchable unit or one holding a voltage)",
            ids=chosen, field="element",
            hint="give the unit's range in the network (p_min_mw, p_max_mw), or add its change "
            "as a bus row at its bus (negative p_mw injects)")])
    for k, per in enumerate(rows.generators):
        for unit, (p, q) in per.items():
            row = info[unit]
            j = bus_index[str(row["bus"])]
            extra_p[k, j] -= p - float(row["p_mw"] or 0.0)
            extra_q[k, j] -= q - float(row["q_mvar"] or 0.0)


def missing_loads_note(missing: Sequence[tuple[str, Sequence[str]]]) -> str | None:
    """The note naming the scenarios that leave out a load which other scenarios list
    (``missing``: :func:`missing_loads`), and the loads: a row forgotten in one scenario
    would otherwise give that load its nominal demand there silently (user test ut41_unc
    #2). None when every scenario lists the same loads. One rule for the balanced scenario
    sets (:attr:`ScenarioSet.missing_loads_note`) and the three-phase ones
    (:attr:`ScenarioRows.missing_loads_note`; before, ut41_recheck_b #B, a ``.dss`` feeder's
    scenarios got no note)."""
    if not missing:
        return None

    def ids(loads: Sequence[str]) -> str:
        return ", ".join(loads[:5]) + (f" and {len(loads) - 5} more" if len(loads) > 5
                                       else "")

    parts = [f"{name} has no row for {ids(loads)}" for name, loads in missing[:5]]
    more = len(missing) - 5
    return ("a load without a row in a scenario keeps its nominal demand there, and some "
            "scenarios leave out loads that others list: " + "; ".join(parts)
            + (f"; and {more} more scenarios" if more > 0 else "")
            + " (list every load in every scenario to give its demand)")


def missing_loads(names: Sequence[str], listed: Sequence[Sequence[str]],
                  order: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per scenario (``names``, with the load ids each lists, ``listed``) the loads that it
    leaves out while another scenario lists them, in the network's load order ``order``;
    only the scenarios that leave out one."""
    every = set().union(*(set(x) for x in listed)) if listed else set()
    out = []
    for name, loads in zip(names, listed, strict=True):
        gone = every - set(loads)
        if gone:
            out.append((str(name), tuple(lid for lid in order if lid in gone)))
    return tuple(out)


def _unsuppliable(pu: PerUnitNetwork, names: Sequence[str], p_mw: np.ndarray,
                  q_mvar: np.ndarray, loads: tuple[np.ndarray, np.ndarray],
                  extra: tuple[np.ndarray, np.ndarray]) -> Problem | None:
    """A ``BAD_SCENARIO`` problem naming the scenarios in which some bus draws more than any
    power flow can bring it, or injects more than any can carry away within voltage limits
    (the network check's rule, :class:`~feederopt.network.validate.SupplyCapacity`), almost
    always kW written as MW: the solve would prove the scenario unsupplied, or its conic
    solver fail on the huge numbers (ut_unc #3: every load of one case33bw scenario x1000
    ended in "RuntimeError: the penalised slave failed" with exit code 1; ut32_par #1: a
    -1e300 MW PV row an OverflowError, -1e12 a conic-solver failure naming no scenario).
    ``loads``: each load's ``(p, q)`` [MW, MVAr] per scenario; ``extra``: each bus's bus
    rows summed. The problem is :func:`unsuppliable_problem`'s. None when every scenario
    can be supplied."""
    from feederopt.network.validate import SupplyCapacity

    cap = SupplyCapacity.of(pu)
    if cap is None:
        return None
    s_base = pu.s_base_mva

    def parts(k: int, j: int) -> list[tuple[str, tuple[float, float]]]:
        rows = [(f"load {pu.load_ids[i]}", (float(loads[0][k, i]), float(loads[1][k, i])))
                for i, b in enumerate(pu.load_bus.tolist()) if b == j]
        if extra[0][k, j] != 0 or extra[1][k, j] != 0:
            rows.append((f"the bus row(s) of bus {pu.bus_ids[j]}",
                         (float(extra[0][k, j]), float(extra[1][k, j]))))
        return rows

    return unsuppliable_problem(cap, list(pu.bus_ids), names, p_mw, q_mvar,
                                (pu.p_load * s_base, pu.q_load * s_base), parts)


def unsuppliable_problem(cap: SupplyCapacity, bus_ids: Sequence[str], names: Sequence[str],
                         p_mw: np.ndarray, q_mvar: np.ndarray,
                         nominal: tuple[np.ndarray, np.ndarray],
                         parts: Callable[[int, int], list[tuple[str, tuple[float, float]]]],
                         ) -> Problem | None:
    """The ``BAD_SCENARIO`` problem of the scenarios (``names``) whose net demand per bus
    ``p_mw``, ``q_mvar`` [MW, MVAr; (scenarios, buses) in ``bus_ids`` order] breaks ``cap``'s
    bound at some bus (:meth:`~feederopt.network.validate.SupplyCapacity.over`). A bus
    already beyond it at the ``nominal`` net demand (the network's warning) is not named
    again. ``parts(k, j)``: the rows of scenario ``k`` that make bus ``j``'s demand, each
    ``(name, (p_mw, q_mvar))``. The problem's field is the column of the bound's larger part,
    and the row named is the one with the largest value in that column and direction (ut32_par
    #2: a 1e6 MVAr bus row was reported as p_mw and load 18's demand); the kW hint is given
    only when that value divided by 1000 lets the bus be supplied. None when every scenario
    can be supplied."""
    nominal_over = set(cap.over(nominal[0] / cap.s_base_mva,
                                nominal[1] / cap.s_base_mva).tolist())
    s_base = cap.s_base_mva
    bad: list[str] = []
    first: tuple[int, int] | None = None
    for k, name in enumerate(names):
        p, q = p_mw[k] / s_base, q_mvar[k] / s_base
        over = [j for j in cap.over(p, q).tolist() if j not in nominal_over]
        if over:
            bad.append(name)
            if first is None:
                ratio = cap.ratio(p, q)
                first = (k, max(over, key=lambda j: float(ratio[j])))
    if first is None:
        return None
    k, j = first
    p, q = p_mw[k] / s_base, q_mvar[k] / s_base
    why = cap.why(j, p, q)
    column, sign = cap.culprit(j, p, q)
    c = 0 if column == "p_mw" else 1
    rows = [r for r in parts(k, j) if r[1][c] * sign > 0]
    share, unit, small = "", "", "kW" if c == 0 else "kvar"
    if rows:
        who, pq = max(rows, key=lambda r: r[1][c] * sign)
        value = pq[c]
        share = f": the largest part is {who}'s {column} {value:.4g}"

        def fits(cols: tuple[int, ...]) -> bool:
            """Is bus ``j`` within the bound with the row's ``cols`` read as kW (kvar)?"""
            fixed = (p.copy(), q.copy())
            for i in cols:
                fixed[i][j] -= pq[i] * (1 - 1e-3) / s_base
            return j not in set(cap.over(*fixed).tolist())

        other = 1 - c
        if fits((c,)):
            unit = f"; if {who}'s {value:.4g} is in {small}, write {value / 1000:.4g}"
        elif pq[other] != 0 and fits((c, other)):
            unit = (f"; if {who}'s {value:.4g} is in {small}, write {value / 1000:.4g} (and its "
                    f"{('p_mw', 'q_mvar')[other]} {pq[other]:.4g} as {pq[other] / 1000:.4g})")
        else:
            unit = (f"; {who}'s {column} {value:.4g} is beyond the network even read in "
                    f"{small} (a typo?)")
    return Problem(
        ProblemKind.BAD_SCENARIO, "scenarios",
        f"{len(bad)} scenario(s) ask more of a bus than any power flow can supply or carry "
        f"away: in scenario {names[k]}, bus {bus_ids[j]} {why}{share}", ids=tuple(bad),
        field=column, hint=f"p_mw and q_mvar are in MW and MVAr: 500 kW is written 0.5{unit}")


def three_phase_unsuppliable(net: ThreePhaseNetwork, rows: ScenarioRows) -> Problem | None:
    """:func:`unsuppliable_problem` of a three-phase feeder's scenarios (``rows``, validated on
    ``net``), the bound :meth:`~feederopt.network.validate.SupplyCapacity.of_three_phase`'s
    (per bus, over its phases; every switch closed). A bus's net demand in scenario ``s``
    [MW, MVAr] is its loads' totals (a load row's, else the nominal one) plus its bus rows
    less its in-service units' output (a generator row's, else the snapshot's), at nominal
    voltage; the rows named are the load and bus rows (a generator row is held to its
    unit's kVA already). The three-phase solve took a 500 MW load at ieee13mod's 671 (kW
    written as MW) to an ``infeasible`` run, exit 3 (user test ut33, finding 2)."""
    from feederopt.network.threephase_perunit import to_per_unit_3ph
    from feederopt.network.validate import SupplyCapacity

    bus_ids = [str(b) for b in net.buses["id"].to_list()]
    cap = SupplyCapacity.of_three_phase(to_per_unit_3ph(net), bus_ids)
    if cap is None:
        return None
    index = {b: j for j, b in enumerate(bus_ids)}
    n, n_s = len(bus_ids), len(rows.names)
    live = net.loads.filter(pl.col("in_service")).group_by("id", maintain_order=True).agg(
        pl.col("bus").first(), pl.col("p_mw").sum(), pl.col("q_mvar").sum())
    load_bus = dict(zip(live["id"].to_list(), live["bus"].to_list(), strict=True))
    load_pq = {r["id"]: (float(r["p_mw"]), float(r["q_mvar"]))
               for r in live.iter_rows(named=True)}
    gens = net.generators.filter(pl.col("in_service"))
    gen_bus = dict(zip(gens["id"].to_list(), gens["bus"].to_list(), strict=True))
    gen_pq = {r["id"]: (float(r["p_mw"]), float(r["q_mvar"])) for r in gens.iter_rows(named=True)}

    def net_demand(k: int | None) -> tuple[np.ndarray, np.ndarray]:
        p, q = np.zeros(n), np.zeros(n)
        for lid, bus in load_bus.items():
            lp, lq = rows.loads[k].get(lid, load_pq[lid]) if k is not None else load_pq[lid]
            p[index[bus]] += lp
            q[index[bus]] += lq
        for bus, (bp, bq) in (rows.buses[k].items() if k is not None else ()):
            p[index[bus]] += bp
            q[index[bus]] += bq
        units = rows.generator_outputs(k) if k is not None else {}
        for uid, bus in gen_bus.items():
            up, uq = units.get(uid, gen_pq[uid])
            p[index[bus]] -= up
            q[index[bus]] -= uq
        return p, q

    demand = [net_demand(k) for k in range(n_s)]

    def parts(k: int, j: int) -> list[tuple[str, tuple[float, float]]]:
        bus = bus_ids[j]
        out = [(f"load {lid}", rows.loads[k].get(lid, load_pq[lid]))
               for lid, b in load_bus.items() if b == bus]
        if bus in rows.buses[k]:
            out.append((f"the bus row(s) of bus {bus}", rows.buses[k][bus]))
        return out

    return unsuppliable_problem(cap, bus_ids, rows.names,
                                np.array([d[0] for d in demand]).reshape(n_s, n),
                                np.array([d[1] for d in demand]).reshape(n_s, n),
                                net_demand(None), parts)


def scenario_set_from_arrays(pu: PerUnitNetwork, p_pu: np.ndarray, q_pu: np.ndarray,
                             weights: np.ndarray | None = None,
                             names: Sequence[str] | None = None) -> ScenarioSet:
    """A scenario set from per-bus p.u. arrays ``(S, n_bus)`` (tests, sampling)."""
    p_pu, q_pu = np.atleast_2d(p_pu), np.atleast_2d(q_pu)
    n_s = p_pu.shape[0]
    w = np.full(n_s, 1.0 / n_s) if weights is None else np.asarray(weights, float)
    w = w / w.sum()
    nm = [str(i) for i in range(n_s)] if names is None else [str(x) for x in names]
    return ScenarioSet(nm, w, list(pu.bus_ids), p_pu * pu.s_base_mva, q_pu * pu.s_base_mva)


# ----- generator --------------------------------------------------------------------------------
def _shown(v: Any) -> str:
    """A value in a problem: a number as it is, anything else by its type (ut44_nb: seed="a"
    was a TypeError, not a problem)."""
    if is_real(v):
        return f"{float(v):g}"
    return repr(v) if v is None or isinstance(v, str) else f"a {type(v).__name__}"


def generator_problems(network: Any, count: Any, seed: Any, **shares: Any) -> list[Problem]:
    """The problems of :func:`generate_scenarios`' arguments, all at once: ``network`` a
    Network, ``count`` a whole number >= 1, ``seed`` a whole number >= 0 (numpy's
    ``default_rng``), each of ``shares`` (pv/ev/hp shares and noise in [0, 1], growth in
    (-1, 10]) a finite real number."""
    problems = []
    if not isinstance(network, Network):
        problems.append(_problem(
            f"the network is {_shown(network)}, not a Network", field="network",
            hint="feederopt.generate_scenarios also takes a case name, a path or a pandapower "
            "net; or give feederopt.load(...)'s network"))
    if not (is_whole(count) and count >= 1):
        what = "at least 1" if is_whole(count) else "a whole number at least 1"
        problems.append(_problem(f"count must be {what}, not {_shown(count)}", field="count"))
    for name, v in shares.items():
        # noise above 1 would draw negative demands (1 + e < 0), refused by the reader
        most = 1 if name.endswith("share") or name == "noise" else 10
        if name == "growth":  # a decline too, but no load below zero (1 + g > 0)
            if not (is_finite(v) and -1 < v <= most):
                problems.append(_problem(f"growth is {_shown(v)}, must be a finite number in "
                                         f"(-1, {most}] (-0.2: a 20 % decline)", field=name))
        elif not (is_finite(v) and 0 <= v <= most):
            problems.append(_problem(f"{name} is {_shown(v)}, must be a finite number in "
                                     f"[0, {most}]", field=name))
    if not (is_whole(seed) and seed >= 0):
        problems.append(_problem(f"seed must be a non-negative whole number, not {_shown(seed)}",
                                 field="seed", hint="e.g. seed=1"))
    return problems


#: The size ranges of :func:`generate_scenarios` and the highest value each may reach: the
#: DER sizes (times the bus's nominal load) any finite non-negative number, the PV capacity
#: factor a share of the nameplate in [0, 1].
RANGE_LIMITS = {"pv_size": math.inf, "ev_size": math.inf, "hp_size": math.inf,
                "pv_capacity_factor": 1.0}
#: Their defaults (:func:`generate_scenarios`' signature), for the hints.
RANGE_DEFAULTS = {"pv_size": (0.5, 1.5), "ev_size": (0.1, 0.4), "hp_size": (0.1, 0.3),
                  "pv_capacity_factor": (0.6, 1.0)}


def range_problems(**ranges: Any) -> list[Problem]:
    """The problems of :func:`generate_scenarios`' size ranges (``pv_size``, ``ev_size``,
    ``hp_size``, ``pv_capacity_factor``), one per argument: each must be a pair ``(low,
    high)`` of finite real numbers with ``0 <= low <= high`` (at most 1 for the capacity
    factor: :data:`RANGE_LIMITS`), the bounds of ``numpy.random.Generator.uniform(low,
    high)``. Unchecked, ``(0.1,)`` drew up to numpy's default high 1.0, ``(-1, 1)`` turned PV
    into demand, ``(2.0, 1.0)`` and ``(0.1, nan)`` were numpy's raw ValueError and
    OverflowError, a triple a TypeError (user test ut50_scen #1)."""
    problems = []
    for name, v in ranges.items():
        most = RANGE_LIMITS.get(name, math.inf)
        span = "[0, 1]" if most == 1.0 else "finite numbers >= 0"
        hint = f"e.g. {name}={RANGE_DEFAULTS[name]!r}" if name in RANGE_DEFAULTS else ""
        if isinstance(v, (str, bytes)) or not isinstance(v, (Sequence, np.ndarray)):
            problems.append(_problem(f"{name} is {_shown(v)}, must be a pair (low, high) of "
                                     f"{span}", field=name, hint=hint))
            continue
        pair = list(v)
        if len(pair) != 2:
            problems.append(_problem(f"{name} has {len(pair)} value(s), must be a pair (low, "
                                     f"high) of {span}", field=name, hint=hint))
            continue
        low, high = pair
        if not (is_finite(low) and is_finite(high)):
            problems.append(_problem(f"{name} is ({_shown(low)}, {_shown(high)}), must be "
                                     f"finite numbers", field=name, hint=hint))
        elif not (low >= 0 and high <= most):
            problems.append(_problem(f"{name} is ({_shown(low)}, {_shown(high)}), must lie in "
                                     f"{'[0, 1]' if most == 1.0 else '[0, inf)'}",
                                     field=name, hint=hint))
        elif low > high:
            problems.append(_problem(f"{name} is ({_shown(low)}, {_shown(high)}): its low "
                                     "bound is above its high one", field=name,
                                     hint=f"e.g. {name}=({_shown(high)}, {_shown(low)})"))
    return problems


#: The weight of each bounding scenario of :func:`generate_scenarios` (``peak``,
#: ``valley``) when ``bounding_weight`` is not given: 1 %, the drawn ones sharing 98 %.
BOUNDING_WEIGHT = 0.01


def bounding_hosts(host_p: np.ndarray, share: float) -> list[int]:
    """The hosts of a technology of share ``share`` in :func:`generate_scenarios`' bounding
    scenarios, as indices into ``host_p`` (the nominal loads of the ``B`` load buses with a
    positive one, in the order of their first loads): the ``round(share * B)`` buses with the
    largest nominal load, ties in that order (a stable sort), returned in that order.
    ``round`` is the drawn scenarios' (Python's, half to even), so no draw has more hosts."""
    k = round(share * len(host_p))
    order = np.argsort(-np.asarray(host_p, float), kind="stable")
    return sorted(int(i) for i in order[:k])


def bounding_problems(bounding: Any, bounding_weight: Any, *,
                      flags: bool = False) -> list[Problem]:
    """The problems of :func:`generate_scenarios`' ``bounding`` (True or False) and
    ``bounding_weight`` (None, or with ``bounding`` a finite number in (0, 0.5): each bounding
    scenario's weight, the drawn ones sharing the rest, which must stay above 0). ``flags``:
    named as the CLI's options (``--bounding-weight``)."""
    weight, switch = (("--bounding-weight", "--bounding") if flags
                      else ("bounding_weight", "bounding=True"))
    problems = []
    if not is_switch(bounding):
        problems.append(_problem(f"bounding is {_shown(bounding)}, must be True or False",
                                 field="bounding",
                                 hint="pass bounding=True or bounding=False"))
    if bounding_weight is None:
        return problems
    if not (is_finite(bounding_weight) and 0 < bounding_weight < 0.5):
        problems.append(_problem(
            f"{weight} is {_shown(bounding_weight)}, must be a finite number in (0, 0.5): "
            "each of peak and valley gets it, the drawn scenarios share 1 - 2 x it",
            field="bounding_weight",
            hint=f"e.g. {weight}{' ' if flags else '='}{BOUNDING_WEIGHT}"))
    elif is_switch(bounding) and not bounding:
        problems.append(_problem(
            f"{weight} is given without {switch.removesuffix('=True')}: there is no "
            "bounding scenario to weight", field="bounding_weight",
            hint=f"add {switch}, or leave {weight} out"))
    return problems


def generate_scenarios(
    network: Network,
    count: int = 10,
    pv_share: float = 0.3,
    ev_share: float = 0.2,
    hp_share: float = 0.1,
    growth: float = 0.2,
    noise: float = 0.05,
    seed: int = 0,
    pv_size: tuple[float, float] = (0.5, 1.5),
    ev_size: tuple[float, float] = (0.1, 0.4),
    hp_size: tuple[float, float] = (0.1, 0.3),
    pv_capacity_factor: tuple[float, float] = (0.6, 1.0),
    growth_fixed: bool = False,
    bounding: bool = False,
    bounding_weight: float | None = None,
) -> pl.DataFrame:
    """``count`` equally weighted scenarios of load growth and DER adoption (a long table),
    and with ``bounding`` the two bounding futures of the same ranges, ``peak`` and ``valley``.

    For scenario ``s`` (all draws from ``numpy.random.default_rng(seed)``):

    * load growth ``g_s ~ U(0, growth)`` (``U(growth, 0)`` for a negative ``growth``, a
      decline; ``growth`` in (-1, 10]), or ``g_s = growth`` in every scenario with
      ``growth_fixed`` (a planner's deterministic "+30 %"; the draw is still made, so the
      other draws stay those of the same seed); every load ``k`` draws ``(p, q) = (p_k^0,
      q_k^0)(1 + g_s)(1 + e_k)`` with ``e_k ~ U(-noise, noise)``;
    * per technology a penetration level ``lambda ~ U(0, share)`` (the level itself is the
      deep uncertainty of DER growth) and ``round(lambda * B)`` host buses sampled without
      replacement among the ``B`` load buses (rounded to the nearest count, so the hosts'
      share may exceed ``share`` by up to ``0.5 / B``: 13 of 32 buses at 0.4);
    * **PV** (a midday snapshot): nameplate ``c ~ U(pv_size) x`` the bus's nominal load, output
      ``-c * cf_s`` with one capacity factor ``cf_s ~ U(pv_capacity_factor)`` per scenario,
      unity power factor; PV larger than the local load makes the bus's net demand negative;
    * **EV** charging: ``U(ev_size) x`` the bus's nominal load at power factor 1;
    * **heat pumps**: ``U(hp_size) x`` the bus's nominal load at power factor 0.95 lagging.

    Rows: one ``load`` row per load and one ``bus`` row per DER, with ``der`` naming the
    technology; weights ``1 / count``.

    **Bounding futures** (``bounding=True``; no random draw, so the drawn scenarios ``s00``,
    ... are the same rows as without it, only their weight changes): two more scenarios at
    the corners of the ranges above, after the drawn ones.

    * ``peak`` (an evening peak): every load at the top of its range, ``(p, q) = (p_k^0,
      q_k^0)(1 + g_max)(1 + noise)``; EV chargers at ``ev_size[1] x`` and heat pumps at
      ``hp_size[1] x`` the bus's nominal load on their hosts; no PV (no rows);
    * ``valley`` (a sunny midday at low load): every load at the bottom,
      ``(p_k^0, q_k^0)(1 + g_min)(1 - noise)``; PV of nameplate ``pv_size[1] x`` the bus's
      nominal load at capacity factor ``pv_capacity_factor[1]`` on its hosts; no EV or heat
      pump;

    with ``g_max = max(0, growth)``, ``g_min = min(0, growth)`` (both ``growth`` with
    ``growth_fixed``). The hosts of a technology of share ``a`` are the ``round(a * B)``
    load buses (:func:`bounding_hosts`) with the largest nominal load (ties in the order of
    the buses' first loads in the network's load table, the drawn scenarios' bus order): the
    most hosts a draw can pick (``round`` is monotone and every drawn level
    is below ``a``) on the buses where a unit is largest, so that the total net demand ``sum_j
    d_s(j)`` of ``peak`` is at least, and that of ``valley`` at most, every drawn scenario's,
    and every load's demand in ``peak`` (``valley``) at least (at most) its demand in every
    drawn one (for ``q`` where ``q_k^0 >= 0``). Per bus the net demand is bounded so only
    where the bounding scenario places its units: a draw can put an EV charger on a small bus
    that ``peak`` leaves without one (bounding every bus at once would take every bus as a
    host, beyond the shares).

    Weights: the drawn scenarios are equally likely futures and share ``1 - 2 w``
    (``(1 - 2 w) / count`` each); ``peak`` and ``valley`` get ``w = bounding_weight`` each
    (default :data:`BOUNDING_WEIGHT`, 1 %; in (0, 0.5)). In the expected objective ``sum_s
    w_s F_s`` they count ``w`` each, losses and slack penalty alike, so that they barely move
    the expected losses; the verdict (``within_limits``) still needs every scenario, these two
    included, served without slack, whatever its weight. A topology that needs a little slack
    in ``peak`` to save losses in the drawn futures costs only ``w`` times the penalty there:
    ``--objective worst`` (the weights left out) or a larger ``bounding_weight`` insist on
    serving them.
    """
    check_not_forked("feederopt.generate_scenarios")
    problems = generator_problems(network, count, seed, pv_share=pv_share, ev_share=ev_share,
                                  hp_share=hp_share, growth=growth, noise=noise)
    problems += range_problems(pv_size=pv_size, ev_size=ev_size, hp_size=hp_size,
                               pv_capacity_factor=pv_capacity_factor)
    if not is_switch(growth_fixed):  # "no" was truthy: every scenario at +growth (ut51_growth)
        problems.append(_problem(f"growth_fixed is {_shown(growth_fixed)}, must be True or "
                                 "False", field="growth_fixed",
                                 hint="pass growth_fixed=True or growth_fixed=False"))
    problems += bounding_problems(bounding, bounding_weight)
    if problems:  # every one at once
        raise InputError(problems)
    rng = np.random.default_rng(seed)
    w_bound = BOUNDING_WEIGHT if bounding_weight is None else float(bounding_weight)
    w_drawn = (1.0 - 2.0 * w_bound) / count if bounding else 1.0 / count
    ld = network.loads.filter(pl.col("in_service"))
    load_ids = [str(x) for x in ld["id"].to_list()]
    load_bus = [str(x) for x in ld["bus"].to_list()]
    p0 = ld["p_mw"].cast(pl.Float64).fill_null(0.0).to_numpy()
    q0 = ld["q_mvar"].cast(pl.Float64).fill_null(0.0).to_numpy()
    bus_p: dict[str, float] = {}
    for b, p in zip(load_bus, p0, strict=True):
        bus_p[b] = bus_p.get(b, 0.0) + float(p)
    hosts = [b for b, p in bus_p.items() if p > 0]
    host_p = np.array([bus_p[b] for b in hosts])
    tan_hp = math.tan(math.acos(0.95))

    cols: dict[str, list] = {k: [] for k in ("scenario", "kind", "element", "der", "p_mw",
                                              "q_mvar", "weight")}
    width = len(str(count - 1))

    def row(s: str, kind: str, element: str, der: str, p: float, q: float,
            weight: float = w_drawn) -> None:
        cols["scenario"].append(s)
        cols["kind"].append(kind)
        cols["element"].append(element)
        cols["der"].append(der)
        cols["p_mw"].append(float(p))
        cols["q_mvar"].append(float(q))
        cols["weight"].append(weight)

    for s in range(count):
        name = f"s{s:0{width}d}"
        g = rng.uniform(min(0.0, growth), max(0.0, growth))
        if growth_fixed:
            g = growth
        e = rng.uniform(-noise, noise, size=len(load_ids))
        for lid, p, q, ek in zip(load_ids, p0, q0, e, strict=True):
            f = (1 + g) * (1 + ek)
            row(name, "load", lid, "load", p * f, q * f)
        cf = rng.uniform(*pv_capacity_factor)
        for der, share, size in (("pv", pv_share, pv_size), ("ev", ev_share, ev_size),
                                 ("hp", hp_share, hp_size)):
            level = rng.uniform(0.0, share)
            k = round(level * len(hosts))
            chosen = (np.sort(rng.choice(len(hosts), size=k, replace=False)) if k
                      else np.zeros(0, dtype=int))
            ratio = rng.uniform(*size, size=len(chosen))
            for idx, r in zip(chosen, ratio, strict=True):
                base = host_p[idx] * r
                if der == "pv":
                    row(name, "bus", hosts[idx], der, -base * cf, 0.0)
                elif der == "ev":
                    row(name, "bus", hosts[idx], der, base, 0.0)
                else:
                    row(name, "bus", hosts[idx], der, base, base * tan_hp)
    if bounding:
        g_max, g_min = (growth, growth) if growth_fixed else (max(0.0, growth),
                                                              min(0.0, growth))
        f = (1 + g_max) * (1 + noise)
        for lid, p, q in zip(load_ids, p0, q0, strict=True):
            row("peak", "load", lid, "load", p * f, q * f, w_bound)
        for idx in bounding_hosts(host_p, ev_share):
            row("peak", "bus", hosts[idx], "ev", host_p[idx] * ev_size[1], 0.0, w_bound)
        for idx in bounding_hosts(host_p, hp_share):
            base = host_p[idx] * hp_size[1]
            row("peak", "bus", hosts[idx], "hp", base, base * tan_hp, w_bound)
        f = (1 + g_min) * (1 - noise)
        for lid, p, q in zip(load_ids, p0, q0, strict=True):
            row("valley", "load", lid, "load", p * f, q * f, w_bound)
        for idx in bounding_hosts(host_p, pv_share):
            row("valley", "bus", hosts[idx], "pv",
                -host_p[idx] * pv_size[1] * pv_capacity_factor[1], 0.0, w_bound)
    return pl.DataFrame(cols, schema={"scenario": pl.String, "kind": pl.String,
                                      "element": pl.String, "der": pl.String,
                                      "p_mw": pl.Float64, "q_mvar": pl.Float64,
                                      "weight": pl.Float64})


@dataclass(frozen=True)
class ScenarioRows:
    """A validated scenario table by element, for networks that are not balanced ones (the
    three-phase feeders): per scenario (``names`` order) the loads' new totals
    ``loads[s][load id] = (p_mw, q_mvar)``, the buses' extra net demand
    ``buses[s][bus id] = (p_mw, q_mvar)`` (several rows at one bus added) and the generating
    units' outputs ``generators[s][unit id] = (p_mw, q_mvar)`` (positive injects), with
    normalised ``weights``."""

    names: list[str]
    weights: np.ndarray
    loads: list[dict[str, tuple[float, float]]]
    buses: list[dict[str, tuple[float, float]]]
    generators: list[dict[str, tuple[float, float]]] = field(default_factory=list)
    #: The sum of the weights as the file gave them (normalised to 1 in ``weights``).
    given_weight_sum: float = 1.0
    #: Per scenario that leaves out a load that another scenario lists: its name and those
    #: loads' ids (:func:`missing_loads`, filled by :func:`resolve_scenario_rows`); they keep
    #: their nominal demand there.
    missing_loads: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Warnings on how the table was read (:attr:`ScenarioSet.notes`).
    notes: tuple[str, ...] = ()
    #: Per scenario the ``source`` rows' voltages ``sources[s][bus id] = vm_pu`` (balanced
    #: networks only; empty dicts, or an empty list, without source rows).
    sources: list[dict[str, float]] = field(default_factory=list)

    @property
    def missing_loads_note(self) -> str | None:
        """:func:`missing_loads_note` of :attr:`missing_loads`, as a balanced scenario
        set's (:attr:`ScenarioSet.missing_loads_note`)."""
        return missing_loads_note(self.missing_loads)

    def generator_outputs(self, s: int) -> dict[str, tuple[float, float]]:
        """The units' outputs ``(p_mw, q_mvar)`` that scenario ``s`` gives (may be empty)."""
        return self.generators[s] if s < len(self.generators) else {}

    def opendss_setpoints(self, s: int) -> dict[str, tuple[float, float]]:
        """Scenario ``s``'s ``setpoints`` for :func:`feederopt.validation.opendss.
        solve_opendss`: every load row's total demand by ``Load.<id>`` and every generator
        row's output by the unit's full name, in kW and kvar."""
        out = {f"Load.{k}": (p * 1000.0, q * 1000.0) for k, (p, q) in self.loads[s].items()}
        out.update({k: (p * 1000.0, q * 1000.0)
                    for k, (p, q) in self.generator_outputs(s).items()})
        return out


def resolve_scenario_rows(source: object, load_ids: Sequence[str],
                          bus_ids: Sequence[str],
                          off_service: Sequence[str] = (),
                          generator_ids: Sequence[str] = (),
                          generators_off: Sequence[str] = ()) -> ScenarioRows:
    """Read (a path) or take (a polars or pandas DataFrame: :func:`scenario_table`) a scenario
    table and validate it against the load
    ids ``load_ids``, bus ids ``bus_ids`` and generating units ``generator_ids`` of a network
    (``off_service``, ``generators_off``: loads and units that exist but are out of service),
    with the rules and ``BAD_SCENARIO`` problems of :func:`resolve_scenarios` (module
    docstring): missing columns, empty table, missing or non-finite numbers, non-positive or
    mixed weights, bad kinds, unknown or out-of-service elements, a load or a unit twice in
    one scenario. A row without a ``kind`` whose element is in ``off_service`` is that load
    (an out-of-service problem). ``source`` rows are refused here (a three-phase feeder's
    source voltage is the file's). Raises :class:`InputError` with every problem."""
    df = scenario_table(source)
    if "p_mw__num" not in df.columns and any(c in df.columns for c in ("p_mw", "weight")):
        df = _normalise_columns(df)
    rows = _validated_rows(df, load_ids, bus_ids, off_service,
                           (list(generator_ids), list(generators_off)))
    return replace(rows, missing_loads=missing_loads(rows.names, [list(r) for r in rows.loads],
                                                     list(load_ids)))


def _where(scenario: object, element: object) -> str:
    """``scenario s00, element 7`` of a row, for the ids of a problem."""
    def text(v: object) -> str:
        return "?" if v is None or v == "" else str(v)
    return f"scenario {text(scenario)}, element {text(element)}"


def _cell(raw: object) -> str:
    """What a numeric cell that is not a finite number holds, in words."""
    if raw is None or str(raw).strip() == "":
        return "empty"
    value = str(raw).strip()
    if value.lower() in ("nan", "-nan", "+nan"):
        return "NaN"
    if value.lower().lstrip("+-") in ("inf", "infinity"):
        return f"{value} (infinite)"
    return f"'{value}' is not a number"


def _is_fractional(value: str) -> bool:
    """Whether ``value`` is a finite number that is not whole (``2.5``): no id of a network
    whose ids are integers, where ``2.0`` would be read as ``2`` (:func:`match_id`)."""
    try:
        x = float(value)
    except ValueError:
        return False
    return math.isfinite(x) and not x.is_integer()


def _validated_rows(df: pl.DataFrame, load_ids: Sequence[str], bus_ids: Sequence[str],
                    off_service: Sequence[str],
                    generators: tuple[Sequence[str], Sequence[str]] | None = None,
                    load_buses: dict[str, str] | None = None,
                    internal_buses: Mapping[str, str] | None = None,
                    sources: Sequence[str] | None = None,
                    named: Mapping[str, str] | None = None,
                    ) -> ScenarioRows:
    """The validation of :func:`resolve_scenario_rows` and :func:`resolve_scenarios` on a
    normalised table (:func:`_normalise_columns`): the rows by scenario and element. A row
    without a ``kind`` names a load when its element is a load id, in service or not (an
    ``off_service`` load is then a problem, not a bus row at the bus of the same id).
    ``generators``: the network's generating units in and out of service, None for a
    network that takes no ``generator`` rows (a balanced one: such rows are a problem).
    ``load_buses``: each in-service load's bus, for the hint of a load row that names a bus.
    ``internal_buses``: the buses of ``bus_ids`` that the pandapower reader adds, with what
    each is (:meth:`~feederopt.network.container.Network.internal_buses`: a three-winding
    transformer's star point, an xward's auxiliary bus): a bus row at one is a problem, since
    the user's net has no such bus (user test ut40_realg5 #2: 1 MW at ``trafo3w:0`` was
    solved, then the AC check of the user's net crashed on it), also where a load has the
    same id (an xward's internal bus ``xward:0`` and its load ``xward:0``: a row of kind
    ``bus``, or without a kind but with a bus DER such as ``pv``; user test ut40_recheck_c
    #1). A row without a kind or DER (or with ``der = load``) that names such an id is the
    load's: the model's bus is no reading of it. ``sources``: the network's source buses, the
    elements a ``source`` row may name (its ``vm_pu`` within :data:`SOURCE_VM_RANGE`, its
    ``p_mw`` and ``q_mvar`` empty or 0, one per source and scenario); None for a network that
    takes no source rows (a three-phase one: such rows are a problem). ``named``: the
    network's bus and load names, each with the element that has it (``Bus 3`` -> ``bus
    3``), for the hint of an element given by its name (user test ut44_growth #3)."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        # a misspelt header (wieght) named beside the column it most likely is (ut42_badin #5)
        extra = [c for c in given_columns(df) if c not in KNOWN_COLUMNS]
        meant = {c: near for c in missing if (near := nearest_name(c, extra)) is not None}
        # a column that means the same under another word (a planner's "probability"
        # column: user test ut44_growth #3)
        for c in missing:
            same = [x for x in extra if x in SYNONYMS.get(c, ())]
            if c not in meant and same:
                meant[c] = same[0]
        raise InputError([_problem(
            f"missing column(s) {', '.join(missing)}" + (
                " (the table has " + ", ".join(f"'{v}'" for v in meant.values())
                + ", which it does not read)" if meant else ""), field=missing[0],
            hint="".join(f"rename '{v}' to {c}; " for c, v in meant.items())
            + "columns: " + ", ".join(REQUIRED) + " (kind and der optional)")])
    if df.height == 0:
        raise InputError([_problem("the scenario table has no rows",
                                   hint="give at least one scenario")])
    loads, buses, gone = set(load_ids), set(bus_ids), set(off_service)
    units, units_off = (set(generators[0]), set(generators[1])) if generators else (set(), set())
    problems: list[Problem] = []
    scen = df["scenario"].to_list()
    # an integral float (2.0: an id column that pandas made float after a merge or an empty
    # cell, in a CSV or a Parquet file) is the integer id 2 where the network has 2 and not
    # 2.0 (user test ut47_growth #1: every row was "unknown"); 2.5 stays unknown
    known = (loads | buses | gone | units | units_off | set(internal_buses or {})
             | set(sources or ()))
    elem = [e if e is None or e == "" else (match_id(str(e), known) or e)
            for e in df["element"].to_list()]
    kind = df["kind"].to_list() if "kind" in df.columns else [None] * df.height
    ders = df["der"].to_list() if "der" in df.columns else [None] * df.height
    nums = {c: df[c + "__num"].to_numpy() for c in ("p_mw", "q_mvar", "weight")}
    raws = {c: df[c + "__raw"].to_list() for c in ("p_mw", "q_mvar", "weight")}
    is_src = [k == "source" for k in kind]
    vm = (df["vm_pu__num"].to_numpy() if "vm_pu__num" in df.columns
          else np.full(df.height, np.nan))
    vm_raw = df["vm_pu__raw"].to_list() if "vm_pu__raw" in df.columns else [None] * df.height
    problems += _source_row_problems(scen, elem, is_src, nums, raws, vm, vm_raw, sources)
    for col in ("scenario", "element"):
        bad = [i for i, v in enumerate(df[col].to_list()) if v is None or v == ""]
        if bad:
            article = "an" if col[0] in "aeiou" else "a"
            problems.append(_problem(f"{len(bad)} row(s) without {article} {col}", field=col,
                                     ids=[f"row {i + 1}" for i in bad]))
    for col in ("p_mw", "q_mvar", "weight"):
        # a source row's p_mw and q_mvar may be empty (_source_row_problems)
        bad = [i for i, v in enumerate(nums[col]) if not math.isfinite(float(v))
               and not (is_src[i] and col != "weight")]
        if bad:
            comma = [i for i in bad if isinstance(raws[col][i], str) and "," in raws[col][i]]
            # each row by its scenario and element and what the cell holds (ut_unc #5: "row 6
            # (None)" for a NaN named neither; text was called "missing, NaN or infinite")
            problems.append(_problem(
                f"{len(bad)} row(s) whose {col} is not a finite number"
                + (f" ({len(comma)} with a decimal comma: not a number)" if comma else ""),
                field=col, ids=[f"row {i + 1} ({_where(scen[i], elem[i])}: "
                                f"{_cell(raws[col][i])})" for i in bad],
                hint="give a finite number" + (", with a decimal point (1.5, not 1,5)"
                                               if comma else "")))
    w = nums["weight"]
    bad_w = sorted({str(scen[i]) for i, v in enumerate(w) if math.isfinite(float(v)) and v <= 0})
    if bad_w:
        problems.append(_problem("weights must be positive", ids=bad_w, field="weight",
                                 hint="give each scenario a weight > 0 (they are normalised)"))
    bad_kind = [i for i, k in enumerate(kind) if k not in (None, "", *KINDS)]
    if bad_kind:
        # each row by its scenario and element and the kind it gives (user test ut35: the
        # value alone, "scenarios [feeder].kind", read as a scenario or element "feeder")
        values = list(dict.fromkeys(str(kind[i]) for i in bad_kind))
        lower = [v for v in values if v.strip().lower() in KINDS]
        problems.append(_problem(
            f"kind must be one of {', '.join(KINDS)}: {len(bad_kind)} row(s) give another"
            + (" (the first 10 named)" if len(bad_kind) > 10 else ""),
            field="kind", ids=[f"row {i + 1} ({_where(scen[i], elem[i])}: kind "
                               f"{str(kind[i])!r})" for i in bad_kind[:10]],
            hint=(f"kinds are lower case: {lower[0].strip().lower()}, not {lower[0]!r}; "
                  if lower else "") + "write load (the row replaces a load's demand), bus "
            "(an extra demand or DER at a bus) or generator (a unit's output, three-phase "
            "feeders), or leave kind empty to look the element up among the load ids, then the "
            "bus ids"))
    target: list[tuple[str, str] | None] = []
    unknown: list[str] = []
    off: list[str] = []
    unknown_units: list[str] = []
    off_units: list[str] = []
    balanced_units: list[str] = []
    unit_names = {u.lower() for u in units | units_off}
    kind_units: list[str] = []  # a generating unit named by a load or bus row
    ambiguous: list[str] = []  # kind-less rows whose element is a load id and a bus id
    bus_as_load: list[str] = []  # kind=load rows whose element is a bus id, not a load id
    load_as_bus: list[str] = []  # kind=bus rows whose element is a load id, not a bus id
    internal = dict(internal_buses or {})
    at_internal: list[int] = []  # bus rows at a bus the reader adds (a trafo3w's star point)
    for i, (e, k) in enumerate(zip(elem, kind, strict=True)):
        if e is None or e == "":  # "row(s) without a element" above, not an unknown id too
            target.append(None)
            continue
        e = str(e)
        if k == "source":  # checked by _source_row_problems
            target.append(("source", e) if sources is not None and e in sources else None)
            continue
        if k in (None, "") and e in loads and e in buses:
            der = str(ders[i] or "").strip().lower()
            k = "load" if der == "load" else "bus" if der in BUS_DERS else None
            if k is None and e in internal:
                # the bus is the model's, not the user's (an xward's internal bus beside
                # its load ``xward:0``): the row without a DER names the load
                k = "load"
            if k is None:
                ambiguous.append(e)
                target.append(None)
                continue
            kind[i] = k
        if e in internal and (k == "bus" or (k in (None, "") and e not in loads)):
            # a bus row at a bus the reader adds, also where a load has the bus's id (an
            # xward's internal bus and its load, both ``xward:0``): before, such a row was
            # read, and the AC check of the user's net crashed on the bus (ut40_recheck_c #1)
            at_internal.append(i)
            target.append(None)
            continue
        if k in ("load", "bus") and e not in loads and e not in buses \
                and e.lower() in unit_names:
            kind_units.append(e)
            target.append(None)
        elif k == "load" or (k in (None, "") and (
                e in loads or e in gone)):
            if e in loads:
                target.append(("load", e))
            else:
                (off if e in gone else bus_as_load if e in buses else unknown).append(e)
                target.append(None)
        elif k == "bus" or (k in (None, "") and e in buses):
            target.append(("bus", e) if e in buses else None)
            if e not in buses:
                (load_as_bus if e in loads else unknown).append(e)
        elif k == "generator" or (k in (None, "") and (e in units or e in units_off)):
            if generators is None:
                balanced_units.append(e)
            elif e in units_off:
                off_units.append(e)
            elif e not in units:
                unknown_units.append(e)
            target.append(("generator", e) if e in units else None)
        else:
            if k in (None, ""):
                unknown.append(e)
            target.append(None)
    if unknown:
        what = "a load, a bus nor a generating unit" if generators else "a load nor a bus"
        unknown = sorted(set(unknown))
        guess = pandapower_load_guess(unknown, load_ids)
        # how many, and the forms of the network's ids: a file made for another network
        # listed only its first ten unknown ids (ut_unc #9)
        sample = ", ".join(list(bus_ids)[:3]) + (", ..." if len(bus_ids) > 3 else "")
        unknown_set = set(unknown)
        at = [i for i, e in enumerate(elem) if e is not None and str(e) in unknown_set]
        rows = "; ".join(f"row {i + 1} ({_where(scen[i], elem[i])})" for i in at[:5]) + (
            f"; ... ({len(at) - 5} more rows)" if len(at) > 5 else "")
        by_name = [f"'{u}' is the name of {named[u]}" for u in unknown
                   if named is not None and u in named]
        fractional = [u for u in unknown if _is_fractional(u)]
        problems.append(_problem(f"{len(unknown)} unknown element id(s): neither {what} of "
                                 f"the network (at {rows})",
                                 ids=unknown, field="element",
                                 hint=("the element column takes ids, not names: "
                                       + "; ".join(by_name[:5]) + "; " if by_name else "")
                                 + (f"{', '.join(fractional[:5])}: not a whole number (a float "
                                    "id is read as the integer id only when whole: 2.0 as "
                                    "2); " if fractional else "")
                                 + "use the ids of `feederopt info`'s tables: "
                                 + load_id_hint(unknown, load_ids).split("; ")[0]
                                 + f", its bus ids {sample} (a file made for another "
                                 "network?)" + (f"; {guess}" if guess else "")))
    if bus_as_load:
        bus_as_load = sorted(set(bus_as_load))
        at_bus = [f"bus {b}: {', '.join(at) if at else 'none'}"
                  for b in bus_as_load
                  for at in [sorted(x for x, bb in (load_buses or {}).items() if bb == b)]]
        problems.append(_problem(
            "kind=load row(s) name a bus id, not a load id: a load row replaces the demand of "
            "the load it names", ids=bus_as_load, field="element",
            hint=("the loads at " + "; ".join(at_bus[:5])
                  + (f"; ... ({len(at_bus) - 5} more buses)" if len(at_bus) > 5 else "") + "; "
                  if load_buses is not None else "")
            + "or give the row kind bus to add a demand at the bus; "
            + load_id_hint(bus_as_load, load_ids)))
    if load_as_bus:
        # user test ut_growth #3: "neither a load nor a bus" for a load id that exists
        load_as_bus = sorted(set(load_as_bus))
        where = [f"{x} at bus {(load_buses or {}).get(x)}" for x in load_as_bus
                 if load_buses is not None and x in load_buses]
        problems.append(_problem(
            "kind=bus row(s) name a load id, not a bus id: a bus row adds a demand or a DER at "
            "the bus it names", ids=load_as_bus, field="element",
            hint=("give the bus: " + "; ".join(where[:5])
                  + (f"; ... ({len(where) - 5} more)" if len(where) > 5 else "") + "; "
                  if where else "") + "or give the row kind load to replace the load's demand"))
    if at_internal:
        star_ids = list(dict.fromkeys(str(elem[i]) for i in at_internal))
        rows_star_ids = "; ".join(f"row {i + 1} ({_where(scen[i], elem[i])})"
                               for i in at_internal[:5])
        problems.append(_problem(
            "bus row(s) name a bus that is not in the network's file: "
            + "; ".join(f"{b} is {internal[b]}, which the model adds, not a bus of the net"
                        for b in star_ids[:5])
            + f" (at {rows_star_ids}"
            + (f"; ... ({len(at_internal) - 5} more rows)" if len(at_internal) > 5 else "")
            + ")", ids=star_ids, field="element",
            hint="give the demand or DER at a bus of the net: one of the transformer's or "
            "xward's own buses (`feederopt info` lists the buses; the internal ones have "
            "0.5 - 1.5 p.u.)" + ("; or give the row kind load to replace the demand of the "
                                 "load " + ", ".join(b for b in star_ids if b in loads)
                                 if any(b in loads for b in star_ids) else "")))
    if ambiguous:
        # element ids in their natural order (2 before 10), said to be elements: sorted as
        # text and alone in the brackets they read "scenarios [10, 11, ... 19 ...]" (ut50_scen
        # #6)
        both = sorted(set(ambiguous), key=natural_key)
        one = len(both) == 1
        problems.append(_problem(
            f"row(s) without a kind name {len(both)} element{'' if one else 's'} (the "
            f"id{'' if one else 's'} in brackets), {'which is' if one else 'each'} both a "
            "load id and a bus id: a load row replaces the load's demand, a bus row adds to "
            "the bus (a DER)",
            ids=both, field="kind",
            hint="give each such row a kind (load or bus), or a der (load, pv, ev, hp)"))
    negative = sorted({f"{scen[i]}/{tg[1]}" for i, tg in enumerate(target)
                       if tg is not None and tg[0] == "load"
                       and math.isfinite(float(nums["p_mw"][i])) and nums["p_mw"][i] < 0})
    if negative:
        problems.append(_problem(
            "load row(s) with a negative demand (p_mw < 0): a load row gives the load's "
            "demand", ids=negative, field="p_mw",
            hint="give an injection (PV) as a bus row: kind bus, negative p_mw at the load's "
            "bus"))
    if kind_units:
        problems.append(_problem(
            "row(s) of kind load or bus name a generating unit: a unit's row is of kind "
            "generator", ids=sorted(set(kind_units)), field="kind",
            hint="give the row kind generator (its p_mw is the unit's output, positive "
            "injecting)"))
    if off:
        problems.append(_problem("load(s) out of service", ids=sorted(set(off)),
                                 field="element"))
    if balanced_units:
        problems.append(_problem(
            "generator rows are for a three-phase (OpenDSS) feeder's generating units; this "
            "network is a balanced one", ids=sorted(set(balanced_units)), field="kind",
            hint="give a DER of a balanced network as a bus row (negative p_mw injects)"))
    if unknown_units and sources is not None:  # a balanced network's
        problems.append(_problem(
            "unknown generating unit(s): not a generator (gen, sgen) of the network",
            ids=sorted(set(unknown_units)), field="element",
            hint="use the unit's id, as the generators table of `feederopt info` lists it "
            "(a pandapower sgen is sgen:<index>)"))
    elif unknown_units:
        problems.append(_problem(
            "unknown generating unit(s): not a PVSystem, Generator or Storage of the feeder",
            ids=sorted(set(unknown_units)), field="element",
            hint="use the unit's OpenDSS full name, as the generators table of `feederopt "
            "info FILE.dss` lists it (e.g. PVSystem.pv1)"))
    if off_units:
        problems.append(_problem("generating unit(s) out of service",
                                 ids=sorted(set(off_units)), field="element"))
    names: list[str] = []
    seen: dict[str, int] = {}
    weight_of: dict[str, set[float]] = {}
    dup: set[str] = set()
    dup_units: set[str] = set()
    dup_sources: set[str] = set()
    rows_of: set[tuple[str, str]] = set()
    rows_at: dict[tuple[str, str], list[int]] = {}  # (scenario, element) -> its rows
    count_of: dict[str, dict[str, int]] = {}  # scenario -> element -> rows
    runs: dict[str, int] = {}  # scenario -> runs of consecutive rows under its name
    last = None
    for i, s in enumerate(scen):
        if s is None:
            continue
        if s != last:
            runs[s] = runs.get(s, 0) + 1
        last = s
        if s not in seen:
            seen[s] = len(names)
            names.append(str(s))
        if math.isfinite(float(w[i])):
            weight_of.setdefault(s, set()).add(float(w[i]))
        tg = target[i]
        if tg is not None and tg[0] == "source":
            if (s, "source " + tg[1]) in rows_of:
                dup_sources.add(f"{s}/{tg[1]}")
            rows_of.add((s, "source " + tg[1]))
        if tg is not None and tg[0] in ("load", "generator"):
            per = count_of.setdefault(s, {})
            per[tg[1]] = per.get(tg[1], 0) + 1
            rows_at.setdefault((s, tg[1]), []).append(i)
            if (s, tg[1]) in rows_of:
                (dup if tg[0] == "load" else dup_units).add(f"{s}/{tg[1]}")
            rows_of.add((s, tg[1]))
    mixed = sorted(s for s, ws in weight_of.items() if len(ws) > 1)
    if mixed:
        problems.append(_problem("rows of one scenario carry different weights", ids=mixed,
                                 field="weight", hint="repeat the scenario's weight on its rows"))
    # A name used for two blocks of rows (a copied block whose name was not changed, ut_unc
    # #3): "a load appears twice in one scenario" listed base/10, base/11, ... without saying
    # that the scenario name was the repeat. Such a name has its rows in more than one run,
    # or every one of its (several) elements the same number of times, more than once.
    reused = {}
    for name in sorted({d.split("/", 1)[0] for d in dup | dup_units}):
        per = count_of.get(name, {})
        counts = set(per.values())
        if runs.get(name, 0) > 1 or (len(per) > 1 and len(counts) == 1 and min(counts) > 1):
            reused[name] = max(runs.get(name, 0), max(per.values(), default=0))
    def repeated(name: str) -> str:
        """The elements of scenario ``name`` on more than one row, with their rows."""
        rep = [(e, rows_at[(name, e)]) for e, c in count_of.get(name, {}).items() if c > 1]
        text = "; ".join(f"{e} on rows {', '.join(str(i + 1) for i in r)}" for e, r in rep[:5])
        return text + (f"; ... ({len(rep) - 5} more)" if len(rep) > 5 else "")

    for name, blocks in reused.items():
        n = sum(1 for c in count_of.get(name, {}).values() if c > 1)
        problems.append(_problem(
            f"the scenario name '{name}' is used for {blocks} blocks of rows: {n} load(s) "
            f"(or unit(s)) appear more than once under that name ({repeated(name)})",
            ids=[name], field="scenario",
            hint="give each scenario its own name (a copied block keeps the name of the one "
            "it was copied from), or merge the blocks into one row per load"))
    dup = {d for d in dup if d.split("/", 1)[0] not in reused}
    dup_units = {d for d in dup_units if d.split("/", 1)[0] not in reused}
    def rows_text(keys: set[str]) -> str:
        """The rows of each ``scenario/element`` of ``keys``."""
        parts = []
        for k in sorted(keys)[:5]:
            name, element = k.split("/", 1)
            parts.append(f"{k} on rows {', '.join(str(i + 1) for i in rows_at[(name, element)])}")
        return "; ".join(parts) + (f"; ... ({len(keys) - 5} more)" if len(keys) > 5 else "")

    if dup:
        problems.append(_problem(f"a load appears twice in one scenario ({rows_text(dup)})",
                                 ids=sorted(dup),
                                 field="element", hint="one row per load per scenario"))
    if dup_units:
        problems.append(_problem("a generating unit appears twice in one scenario "
                                 f"({rows_text(dup_units)})",
                                 ids=sorted(dup_units), field="element",
                                 hint="one row per unit per scenario"))
    if dup_sources:
        problems.append(_problem("a source appears twice in one scenario",
                                 ids=sorted(dup_sources), field="element",
                                 hint="one source row per source bus per scenario"))
    if problems:
        raise InputError(problems)
    weights = np.array([next(iter(weight_of[s])) for s in names], float)
    by_source: list[dict[str, float]] = [{} for _ in names]
    by_load: list[dict[str, tuple[float, float]]] = [{} for _ in names]
    by_bus: list[dict[str, tuple[float, float]]] = [{} for _ in names]
    by_unit: list[dict[str, tuple[float, float]]] = [{} for _ in names]
    same_rows: dict[tuple[Any, ...], list[int]] = {}  # identical bus rows (ut49_growth #2)
    for i, s in enumerate(scen):
        tg = target[i]
        if tg is None:
            continue
        if tg[0] == "bus":
            same_rows.setdefault((s, tg[1], float(nums["p_mw"][i]), float(nums["q_mvar"][i]),
                                  ders[i] or None), []).append(i)
        if tg[0] == "source":
            by_source[seen[s]][tg[1]] = float(vm[i])
            continue
        pq = (float(nums["p_mw"][i]), float(nums["q_mvar"][i]))
        if tg[0] == "load":
            by_load[seen[s]][tg[1]] = pq
        elif tg[0] == "generator":
            by_unit[seen[s]][tg[1]] = pq
        else:
            old = by_bus[seen[s]].get(tg[1], (0.0, 0.0))
            by_bus[seen[s]][tg[1]] = (old[0] + pq[0], old[1] + pq[1])
    return ScenarioRows(names, weights / weights.sum(), by_load, by_bus, by_unit,
                        float(weights.sum()),
                        notes=(*(str(p) for p in column_warnings(df)),
                               *identical_bus_rows_notes(same_rows, {
                                   (k[0], k[1]): by_bus[seen[k[0]]][k[1]]
                                   for k in same_rows})),
                        sources=by_source)


def identical_bus_rows_notes(same: Mapping[tuple[Any, ...], Sequence[int]],
                             totals: Mapping[tuple[Any, str], tuple[float, float]],
                             ) -> list[str]:
    """Notes on the ``bus`` rows of one scenario that are identical (same bus, ``p_mw``,
    ``q_mvar`` and ``der``; ``same`` maps ``(scenario, bus, p, q, der)`` to the rows' 0-based
    indices; ``totals``: each ``(scenario, bus)``'s sum of its bus rows), most likely a
    copied row: bus rows at one bus add up (the format's rule: a PV
    and an EV charger at one bus are two rows), so they are read, and the note says what the
    bus then gets. Before (user test ut49_growth #2), a second copy of a 0.25 MW PV row was
    summed into 0.5 MW without a word, while a load named twice is refused."""
    out = []
    for (scen, bus, p, q, der), rows in same.items():
        if len(rows) < 2:
            continue
        total = totals.get((scen, bus))
        at = (f"; bus {bus} gets {total[0]:g} MW, {total[1]:g} MVAr in all"
              if total is not None else "")
        out.append(f"scenario {scen}: {len(rows)} identical bus rows at bus {bus} (rows "
                   f"{', '.join(str(i + 1) for i in rows)}: p_mw {p:g}, q_mvar {q:g}"
                   + (f", der {der}" if der else "") + "): bus rows at one bus add up, so "
                   f"they count {len(rows)} times{at}; remove the copies if one was meant")
    return out


def _source_row_problems(scen: Sequence[object], elem: Sequence[object], is_src: Sequence[bool],
                         nums: Mapping[str, np.ndarray], raws: Mapping[str, Sequence[object]],
                         vm: np.ndarray, vm_raw: Sequence[object],
                         sources: Sequence[str] | None) -> list[Problem]:
    """The ``BAD_SCENARIO`` problems of the ``source`` rows (``is_src``) and of ``vm_pu``
    (:func:`_validated_rows`): a source row on a network that takes none (``sources`` None),
    one that names no source bus, one without a finite ``vm_pu`` within
    :data:`SOURCE_VM_RANGE` or with a non-zero ``p_mw``/``q_mvar``; a ``vm_pu`` on another
    row."""
    rows = [i for i, x in enumerate(is_src) if x]
    out: list[Problem] = []

    def at(ix: Sequence[int]) -> list[str]:
        return [f"row {i + 1} ({_where(scen[i], elem[i])})" for i in ix[:10]]

    stray = [i for i, x in enumerate(is_src) if not x and math.isfinite(float(vm[i]))]
    if stray:
        out.append(_problem(
            "vm_pu is given on row(s) that are not source rows: it is a source bus's voltage",
            ids=at(stray), field="vm_pu",
            hint="give the source voltage on a row of kind source whose element is the "
            "source bus; leave vm_pu empty on load and bus rows"))
    if not rows:
        return out
    if sources is None:
        return [*out, _problem(
            "source rows are for a balanced network; a three-phase feeder's source voltage is "
            "its file's", ids=at(rows), field="kind",
            hint="set the source's voltage in the .dss file (Vsource pu=)")]
    known = set(sources)
    not_source = [i for i in rows if elem[i] not in (None, "") and str(elem[i]) not in known]
    if not_source:
        out.append(_problem(
            f"{len(not_source)} source row(s) name a bus that is not a source of the network",
            ids=at(not_source), field="element",
            hint="the network's source bus(es): " + (", ".join(list(sources)[:5]) or "none")))
    lo, hi = SOURCE_VM_RANGE
    bad = [i for i in rows if not (math.isfinite(float(vm[i])) and lo <= float(vm[i]) <= hi)]
    if bad:
        out.append(_problem(
            f"{len(bad)} source row(s) without a vm_pu in {lo:g} - {hi:g} p.u.",
            ids=[f"row {i + 1} ({_where(scen[i], elem[i])}: "
                 + (f"{float(vm[i]):g}" if math.isfinite(float(vm[i])) else _cell(vm_raw[i]))
                 + ")" for i in bad[:10]], field="vm_pu",
            hint=f"give the source's voltage magnitude in p.u. (e.g. 1.035), within {lo:g} - "
            f"{hi:g}"))
    power = [i for i in rows for c in ("p_mw", "q_mvar")
             if (math.isfinite(float(nums[c][i])) and float(nums[c][i]) != 0.0)
             or (not math.isfinite(float(nums[c][i])) and _cell(raws[c][i]) != "empty")]
    if power:
        out.append(_problem(
            "source row(s) with a p_mw or q_mvar: a source row gives only the voltage vm_pu",
            ids=at(sorted(set(power))), field="p_mw",
            hint="leave p_mw and q_mvar empty (or 0) on source rows; a demand is a load or "
            "bus row"))
    return out
