"""Consistency checks of a network's tables.

:func:`validate` collects every problem it finds as a typed :class:`Problem` (it never stops at
the first one, and it never uses ``assert``); :meth:`Network.check` raises them together as an
:class:`InputError` when one of them is an error (unknown columns are warnings).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import patito as pt
import polars as pl

from feederopt.errors import Problem, ProblemKind, Severity, shown_id, visible_id
from feederopt.network.devices import device_problems, sound_number
from feederopt.network.limits import held_by_generator
from feederopt.network.magnitudes import IMPEDANCE_PU_MAX, LOAD_PU_MAX, MAGNITUDE_BASE_MVA
from feederopt.network.schemas import (
    EXTENSION_COLUMNS,
    LENGTH_COLUMN,
    PER_KM_COLUMNS,
    TABLES,
    BranchKind,
    null_is_refused,
)
from feederopt.network.topology import components_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from feederopt.network.container import Network
    from feederopt.network.perunit import PerUnitNetwork
    from feederopt.network.threephase import ThreePhaseNetwork
    from feederopt.network.threephase_perunit import PerUnitThreePhase


def _ids(df: pl.DataFrame, mask: pl.Expr) -> tuple[str, ...]:
    return tuple(str(v) for v in df.filter(mask)["id"].to_list())


def _schema_problems(name: str, model: type[pt.Model], df: pl.DataFrame) -> list[Problem]:
    """Missing required columns, and rows without a value in a required column or a Boolean
    one (:func:`null_is_refused`)."""
    problems: list[Problem] = []
    for col in model.columns:
        field = model.model_fields[col]
        if col not in df.columns and field.is_required():
            # the column given in other letters (P_MW): named, not "add a 'p_mw' column"
            cased = [c for c in df.columns if c.casefold() == col.casefold()]
            problems.append(
                Problem(
                    ProblemKind.MISSING_COLUMN,
                    name,
                    f"required column '{col}' is missing"
                    + (f" (the table has '{cased[0]}': column names are case-sensitive)"
                       if cased else ""),
                    field=col,
                    hint=(f"did you mean '{col}'? rename '{cased[0]}' to '{col}'" if cased
                          else f"add a '{col}' column: {field.description or ''}".strip()),
                )
            )
    if "id" not in df.columns:
        return problems
    for col in model.columns:
        if col not in df.columns or not null_is_refused(model, col):
            continue
        row = "__feederopt_row__"
        nulls = df.with_row_index(row).filter(pl.col(col).is_null())
        if nulls.height:
            boolean = not model.model_fields[col].is_required()
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    name,
                    f"{nulls.height} row(s) have no value for '{col}'"
                    + (" (an empty cell of a true/false column is not false)"
                       if boolean else ""),
                    # a row without an id by its place in the table, not as "None"
                    ids=tuple(str(v) if v is not None else f"row {k + 1}" for v, k in
                              zip(nulls["id"].to_list(), nulls[row].to_list(), strict=True)),
                    field=col,
                    hint=(f"write true or false in every row; a column left out is "
                          f"{str(model.defaults[col]).lower()} in every row" if boolean else
                          "fill in the value or remove the row"),
                )
            )
    return problems


def near_duplicate_ids(table: str, ids: Sequence[str]) -> list[Problem]:
    """Problems naming the ids of ``table`` (distinct as written) that a reader would take for
    one id: an error for ids that differ only by blanks at their ends or invisible characters
    (``N1203`` and ``'N1203 '``: two buses, and the lines on one never reach the other; user
    test ut44_gis #32), a warning for ids that differ only in case (``N1204`` and ``n1204``).
    Ids are case-sensitive, as in pandapower, MATPOWER and Parquet/CSV tools; some grids do
    have ids that differ in case, so those are used, but named."""
    by_visible: dict[str, set[str]] = {}
    for i in ids:
        by_visible.setdefault(visible_id(i), set()).add(i)
    problems: list[Problem] = []
    spaced = [sorted(v) for v in by_visible.values() if len(v) > 1]
    if spaced:
        spaced.sort()
        first = " and ".join(shown_id(i) for i in spaced[0])
        problems.append(Problem(
            ProblemKind.DUPLICATE_ID, table,
            f"{len(spaced)} id(s) differ from another only by spaces or invisible characters at "
            f"their start or end, which make them separate elements: {first}",
            ids=tuple(i for group in spaced for i in group), field="id",
            hint="a space at the start or end of an id is part of it: remove it, so that the "
            "rows and their references name one element, or give each row its own id"))
    by_case: dict[str, set[str]] = {}
    for v in by_visible:
        by_case.setdefault(v.casefold(), set()).add(v)
    cased = sorted(sorted(v) for v in by_case.values() if len(v) > 1)
    if cased:
        first = " and ".join(shown_id(i) for i in cased[0])
        problems.append(Problem(
            ProblemKind.DUPLICATE_ID, table,
            f"{len(cased)} id(s) differ from another only in upper and lower case: {first} "
            "are separate elements (ids are case-sensitive)",
            ids=tuple(i for group in cased for i in group), field="id",
            severity=Severity.WARNING,
            hint="if they are meant to be one element, write its id the same way everywhere"))
    return problems


def _misspelt_reference_hint(missing: Sequence[str], bus_ids: set[str]) -> str | None:
    """The hint for an unknown bus reference that names a bus but for case or for blanks at
    the ends of the **bus's** id (``n1203`` for bus ``N1203``; ``N1203`` for bus ``'N1203 '``,
    user test ut44_gis #31, #58), else None."""
    by_visible = {visible_id(b): str(b) for b in bus_ids}
    by_case = {visible_id(b).casefold(): str(b) for b in bus_ids}
    for m in missing:
        bus = by_visible.get(visible_id(m))
        if bus is not None:
            return (f"{shown_id(m)} is not bus {shown_id(bus)}: a space (or an invisible "
                    "character) at the start or end of an id is part of it; remove it from "
                    "the bus's id or write the reference the same way")
        bus = by_case.get(visible_id(m).casefold())
        if bus is not None:
            return (f"{shown_id(m)} is not bus {shown_id(bus)}: ids are case-sensitive; write "
                    "the reference as the bus's id is written")
    return None


def unknown_columns(name: str, columns: list[str],
                    table: pl.DataFrame | None = None) -> list[Problem]:
    """A warning for each column that neither the schema nor an importer
    (:data:`~feederopt.network.schemas.EXTENSION_COLUMNS`) knows, with the nearest known column
    as the hint (:func:`unknown_fields`): a misspelt ``normaly_open`` would otherwise be
    ignored and every branch take the default."""
    known = [*TABLES[name].columns, *EXTENSION_COLUMNS.get(name, ())]
    if name == "branches":  # read by the folder reader (feederopt.network.per_km)
        known += [c for c in PER_KM_COLUMNS if c not in known]
    foreign = {c: h for c in columns if c not in known
               and (h := foreign_column_hint(c, known, columns, table)) is not None}
    problems = [Problem(ProblemKind.UNKNOWN_COLUMN, name, f"unknown column '{c}' is ignored",
                        field=c, hint=h, severity=Severity.WARNING)
                for c, h in foreign.items()]
    problems += unknown_fields(name, [c for c in columns if c not in foreign and (
        name != "branches" or c not in PER_KM_COLUMNS)], known)
    problems.sort(key=lambda p: columns.index(p.field) if p.field in columns else -1)
    # what ignoring it means: where the column meant is not given, every row takes its default
    # (a misspelt normaly_open closed every tie without saying so; user test ut48_iobad #9)
    defaults = TABLES[name].defaults
    for k, p in enumerate(problems):
        meant = nearest_name(p.field or "", known) if p.field not in foreign else None
        if meant and meant in defaults:  # (the network's tables hold every column)
            value = defaults[meant]
            told = "none (an empty cell)" if value is None else str(value).lower()
            extra = (": every branch is closed, the ties too, so the base case is meshed "
                     "wherever the network has a tie" if meant == "normally_open" else "")
            problems[k] = dataclasses.replace(p, hint=(
                f"{p.hint} Where no '{meant}' is given, every row takes its default, {told}"
                f"{extra}"))
    if name == "branches":
        # consumed by typed_tables (feederopt.network.per_km): one that reaches here was set
        # on a network by hand and validated without Network.check
        problems += [Problem(
            ProblemKind.UNKNOWN_COLUMN, name, f"per-km column '{c}' is ignored here: "
            f"Network.from_tables, replace and check compute {PER_KM_COLUMNS[c]} = {c} x "
            f"{LENGTH_COLUMN} from it, validate alone does not", field=c,
            hint=f"give {PER_KM_COLUMNS[c]} (the line's total), or call net.check() or "
            "Network.from_tables", severity=Severity.WARNING)
            for c in columns if c in PER_KM_COLUMNS]
    return problems


#: A column in other units than the schema's same quantity: its suffix, the schema's suffix
#: and the factor from the one to the other.
_OTHER_UNITS = (("_kw", "_mw", "MW", 1e-3, "kW"), ("_kvar", "_mvar", "MVAr", 1e-3, "kVAr"),
                ("_kva", "_mva", "MVA", 1e-3, "kVA"), ("_a", "_ka", "kA", 1e-3, "A"))


def foreign_column_hint(column: str, known: Sequence[str], given: Sequence[str] = (),
                        table: pl.DataFrame | None = None) -> str | None:
    """The hint for a column that holds a known quantity in other units, or in pandapower's
    terms, when following "did you mean" would be wrong (user test ut48_iobad #6, #7):
    ``p_kw`` is in kW ("convert to MW (/1000) as p_mw"; renaming it would keep kW values in
    an MW column), ``c_nf_per_km`` (pandapower's line capacitance) is given as
    ``b_us_per_km = 2 pi f c_nf_per_km 1e-3`` (the susceptance of a capacitance,
    B = omega C, in uS/km with C in nF/km; docs/columns.md), ``closed`` (the state of
    feederopt's result tables and of pandapower's ``net.switch``) is
    ``normally_open = not closed``, which decides where the table (``given``: its columns;
    ``table``: its rows, for the rows where the two disagree) has it; without it every branch
    is closed (user test ut50_pyapi #5: the generic "known
    columns" hint, and the base case silently meshed). None for any other column."""
    low = column.casefold()
    if low == "closed" and "normally_open" in known:
        told = ("did you mean normally_open (= not closed)? feederopt says which branches are "
                "open in the base case by normally_open, the negation of closed (the state "
                "in feederopt's result tables and pandapower's net.switch)")
        fix = ("give normally_open = not closed (in Polars, "
               "branches.with_columns(normally_open=~pl.col('closed')))")
        if "normally_open" not in given:
            return (f"{told}: {fix}. Where no 'normally_open' is given, every row takes its "
                    "default, false: every branch is closed, the ties too, so the base case "
                    "is meshed wherever the network has a tie")
        if table is None or "closed" not in table.columns:
            return f"{told}; the normally_open given decides"
        try:  # a Boolean or 0/1 column; text is read by neither (its warning says so)
            closed = table["closed"].cast(pl.Boolean, strict=False)
        except pl.exceptions.PolarsError:
            return f"{told}; the normally_open given decides"
        clash = table.filter((closed == table["normally_open"]).fill_null(True))
        if clash.height == 0:
            return f"{told}; normally_open agrees with it in every row: drop closed"
        ids = [str(x) for x in clash["id"].to_list()] if "id" in clash.columns else []
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        meshed = (": no branch is normally open, so the base case is meshed wherever the "
                  "network has a tie" if not table["normally_open"].any() else "")
        return (f"{told}; normally_open, which decides, is not the negation of closed in "
                f"{clash.height} row(s) ({shown}){meshed}; {fix}")
    if low == "c_nf_per_km" and "b_us_per_km" in known:
        return ("c_nf_per_km is pandapower's line capacitance [nF/km]: give b_us_per_km = "
                "2 pi f c_nf_per_km 1e-3 [uS/km] (f the grid's frequency, 50 or 60 Hz), or "
                "b_us, the line's total [uS]")
    for suffix, ours, unit, factor, theirs in _OTHER_UNITS:
        target = low[: -len(suffix)] + ours if low.endswith(suffix) else None
        if target is not None and target in known:
            return (f"{column} is in {theirs}: convert it to {unit} (x {factor:g}, i.e. "
                    f"/{1 / factor:g}) and name the column {target}")
    return None


def nearest_name(name: str, known: Sequence[str]) -> str | None:
    """The name of ``known`` that ``name`` most likely misspells (``difflib.get_close_matches``,
    ratio >= 0.6: ``wieght`` -> ``weight``, ``brokn`` -> ``broken``) or abbreviates (the one
    name that begins with it or that it begins, from four characters on: ``prob`` <->
    ``probability``), or None. The
    one "did you mean" rule on the names of columns and fields (:func:`unknown_fields`, a
    missing column's hint). Letter case is no difference here (``P_MW`` -> ``p_mw``, user test
    ut46_iobad #4: a name in capitals got no hint), though the names themselves are
    case-sensitive: the hint names the one to write."""
    folded: dict[str, str] = {}
    for k in known:
        folded.setdefault(k.casefold(), k)
    wanted = name.casefold()
    if wanted in folded:
        return folded[wanted]
    close = difflib.get_close_matches(wanted, list(folded), n=1)
    if close:
        return folded[close[0]]
    begun = [k for f, k in folded.items() if min(len(wanted), len(f)) >= 4
             and (f.startswith(wanted) or wanted.startswith(f))]
    return begun[0] if len(begun) == 1 else None


def unknown_fields(component: str, given: Sequence[str], known: Sequence[str], *,
                   what: str = "column") -> list[Problem]:
    """A warning (``unknown_column``) for each name of ``given`` that ``known`` does not hold
    (the columns of a table, the fields of a JSON object), naming it and, as the hint, the
    nearest known name (:func:`nearest_name`), else the known ones: the rule of the table
    folders (:func:`unknown_columns`) and of the scenario and disaster files, whose unknown
    fields were dropped without a word (user test ut42_badin #5)."""
    problems: list[Problem] = []
    for col in given:
        if col in known:
            continue
        close = nearest_name(col, known)
        hint = (f"did you mean '{close}'?" if close else
                f"feederopt ignores it; known {what}s: " + ", ".join(known))
        problems.append(
            Problem(
                ProblemKind.UNKNOWN_COLUMN,
                component,
                f"unknown {what} '{col}' is ignored",
                field=col,
                hint=hint,
                severity=Severity.WARNING,
            )
        )
    return problems


def _has(df: pl.DataFrame, *cols: str) -> bool:
    return all(c in df.columns for c in cols)


def validate(net: Network) -> list[Problem]:
    """Return every problem in ``net`` (errors and warnings); no error means the network is
    usable.

    Every check runs on the columns that exist, so that a missing column in one table or a bad
    value in one row never hides the problems elsewhere (all problems at once).
    """
    problems: list[Problem] = []
    tables = net.tables()
    for name, model in TABLES.items():
        problems += _schema_problems(name, model, tables[name])
        problems += unknown_columns(name, tables[name].columns, tables[name])

    buses, branches, loads, gens = net.buses, net.branches, net.loads, net.generators

    # Duplicate ids, in every table.
    for name, df in tables.items():
        if "id" not in df.columns:
            continue
        dup = df.filter(pl.col("id").is_duplicated())["id"].unique().sort().to_list()
        if dup:
            problems.append(
                Problem(
                    ProblemKind.DUPLICATE_ID,
                    name,
                    f"{len(dup)} id(s) occur more than once",
                    ids=tuple(map(str, dup)),
                    field="id",
                    hint="give every row its own id",
                )
            )

        problems += near_duplicate_ids(name, [str(i) for i in df["id"].unique().to_list()
                                              if i is not None])

    # References to buses that do not exist.
    bus_ids = set(buses["id"].to_list()) if "id" in buses.columns else set()
    refs = [("branches", "from_bus"), ("branches", "to_bus")]
    refs += [(name, "bus") for name in ("loads", "generators", "shunts")]
    if buses.height == 0:
        # no bus at all (buses=None, or a table without rows): said once, not as every
        # branch and load referring to unknown buses (user test ut41_pyapi)
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "buses", "the buses table is empty (it has no row)",
            hint="give the network's buses: id, vn_kv and is_source (one at least), e.g. "
            "Network.from_tables(buses=..., branches=..., loads=...)"))
        refs = []
    for name, col in refs:
        df = tables[name]
        if "id" not in buses.columns or not _has(df, "id", col):
            continue
        bad = df.filter(pl.col(col).is_not_null() & ~pl.col(col).is_in(list(bus_ids)))
        if bad.height:
            missing = sorted(set(map(str, bad[col].to_list())))
            # 'B3 ' for B3: the space is part of the id (shown quoted, user test ut_io #6);
            # so is an invisible character ('A\u200b' for A, user test ut37_errs2 #3a)
            spaced = [m for m in missing if m != visible_id(m) and visible_id(m) in bus_ids]
            hint = ("add the bus to the buses table or correct the reference"
                    if not spaced else f"{shown_id(spaced[0])} is not bus "
                    f"{shown_id(visible_id(spaced[0]))}: "
                    + ("a space at the start or end of an id is part of it; remove it"
                       if spaced[0].strip() == visible_id(spaced[0]) else
                       "an invisible character (a zero-width or no-break space, a control "
                       "character) is part of the id; remove it"))
            if not spaced:
                hint = _misspelt_reference_hint(missing, bus_ids) or hint
            problems.append(
                Problem(
                    ProblemKind.UNKNOWN_BUS,
                    name,
                    f"refers to unknown bus(es) {', '.join(shown_id(m) for m in missing[:10])}",
                    ids=tuple(map(str, bad["id"].to_list())),
                    field=col,
                    hint=hint,
                )
            )

    if _has(buses, "id"):
        problems += _bus_problems(buses, gens)
    if _has(branches, "id", "from_bus", "to_bus", "r_ohm", "x_ohm"):
        problems += _branch_problems(branches, buses)
    if _has(branches, "id", "from_bus", "to_bus", "kind") and _has(buses, "id", "vn_kv"):
        problems += _voltage_level_problems(branches, buses)
    if _has(loads, "id", "p_mw", "q_mvar"):
        problems += _load_problems(loads)
    if _has(gens, "id"):
        problems += _generator_problems(gens)
        problems += _generator_set_point_plausibility(gens, buses)
        problems += set_point_conflicts(net)
        problems += unbounded_source_q_trade(net)

    if _has(net.shunts, "id", "q_mvar_per_step"):
        problems += _shunt_problems(net.shunts)
    if _has(buses, "id") and _has(branches, "id", "from_bus", "to_bus"):
        problems += _source_problems(net, bus_ids)
    problems += device_problems(net)
    if not any(p.is_error for p in problems):  # the per-unit model needs sound tables
        problems += load_plausibility(net)
        problems += generator_plausibility(net)
        problems += transformer_rating_plausibility(net)
        problems += transformer_s_max_plausibility(net)
    if _has(branches, "id", "i_max_ka"):
        problems += rating_plausibility(branches)
    return problems


#: Current ratings [kA] from which a value is taken as given in amperes: no distribution line,
#: cable or transformer winding carries 20 kA (a 63 MVA transformer's 10 kV side: 3.6 kA).
#: From :data:`RATING_PLACEHOLDER_KA` on a rating is a placeholder for "none" (pandapower's
#: networks write 99999 kA), which no constraint binds.
RATING_AMPERES_KA = 20.0
RATING_PLACEHOLDER_KA = 9999.0


def is_placeholder_rating(value: float) -> bool:
    """A current rating [kA] that stands for "no rating": :data:`RATING_PLACEHOLDER_KA` or more,
    ``inf`` included (pandapower's networks write 99999 kA, a CSV export ``inf``). The one rule
    of every reader (pandapower's ``max_i_ka``, a folder's ``i_max_ka``, CSV or Parquet): such
    a rating is read as unrated, with :func:`placeholder_rating_note`; NaN is no placeholder
    (a missing number: refused, "NaN found")."""
    return not math.isnan(value) and value >= RATING_PLACEHOLDER_KA


def placeholder_rating_note(column: str, ids: list[str], what: str = "branch(es)") -> str:
    """The reader's note on the rows whose rating ``column`` is a placeholder
    (:func:`is_placeholder_rating`), read as unrated."""
    shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
    return (f"{len(ids)} {what} have {column} >= {RATING_PLACEHOLDER_KA:g} kA (or inf), the "
            "placeholder for no rating (e.g. pandapower's 99999): read as unrated, no thermal "
            f"limit ({shown})")


def without_placeholder_ratings(branches: pl.DataFrame) -> tuple[pl.DataFrame, str | None]:
    """``branches`` with every placeholder ``i_max_ka`` (:func:`is_placeholder_rating`) made
    empty (no rating), and the note naming them (None when there is none): a folder's 99999
    kA was held as a rating ("37 of 37 branches rated ... 1e+05 kA", "largest loading 0.00
    %") where pandapower's was read as unrated (user test ut50_iobad #2)."""
    if "i_max_ka" not in branches.columns or "id" not in branches.columns:
        return branches, None
    col = pl.col("i_max_ka").cast(pl.Float64, strict=False)
    mask = col.is_not_null() & ~col.is_nan() & (col >= RATING_PLACEHOLDER_KA)
    ids = [str(i) for i in branches.filter(mask)["id"].to_list()]
    if not ids:
        return branches, None
    fixed = branches.with_columns(
        pl.when(mask).then(None).otherwise(pl.col("i_max_ka")).alias("i_max_ka"))
    return fixed, placeholder_rating_note("i_max_ka", ids)


def rating_plausibility(branches: pl.DataFrame) -> list[Problem]:
    """A warning naming the branches whose current rating looks given in amperes (400 typed
    into ``i_max_ka`` for 400 A: a limit that never binds, silently; user test ut_io #8, where
    the analogous volts-for-kV mistake in ``vn_kv`` was refused): a rating from
    :data:`RATING_AMPERES_KA` up to the placeholders of :data:`RATING_PLACEHOLDER_KA`."""
    col = pl.col("i_max_ka").cast(pl.Float64, strict=False)
    ids = _ids(branches, col.is_not_null() & (col >= RATING_AMPERES_KA)
               & (col < RATING_PLACEHOLDER_KA))
    if not ids:
        return []
    return [Problem(ProblemKind.INVALID_VALUE, "branches", "current ratings of "
                    f"{RATING_AMPERES_KA:g} kA or more look given in A, not kA: such a rating "
                    "never binds", ids=ids, field="i_max_ka", severity=Severity.WARNING,
                    hint="i_max_ka is in kA: 400 A is written 0.4 (leave it empty for no "
                    "rating)")]


def _short_circuit_power(links: dict[tuple[int, int], float], n: int,
                         sources: np.ndarray) -> np.ndarray:
    """``1 / |Z|`` [p.u.] of the lowest-impedance path from any of ``sources`` (a mask of the
    ``n`` nodes) to each node, over ``links`` ``{(a, b): |Z|}`` (undirected); ``inf`` at a
    source, 0 where no path reaches."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    if not links or not sources.any():
        return np.zeros(n)
    rows, cols = zip(*links, strict=True)
    graph = coo_matrix((list(links.values()), (rows, cols)), shape=(n, n)).tocsr()
    dist = np.asarray(dijkstra(graph, directed=False, indices=np.flatnonzero(sources),
                               min_only=True))
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(dist) & (dist > 0), 1.0 / dist, np.inf)


def _link(links: dict[tuple[int, int], float], a: int, b: int, z: float) -> None:
    """Keep the lower ``|Z|`` of the links between ``a`` and ``b`` (0 as 1e-12, so that an
    ideal link stays in the sparse graph)."""
    key = (min(a, b), max(a, b))
    if a != b and math.isfinite(z):
        links[key] = min(links.get(key, math.inf), max(z, 1e-12))


class SupplyCapacity:
    """What can reach each bus of a per-unit network (:func:`load_plausibility`'s two bounds):
    ``s_stiff``, the short-circuit power ``1/|Z|`` from the nearest source or voltage-holding
    generator; ``s_ext``, that from the nearest source; ``p_gen``, every generator's ``p_max``
    together, and ``gen_p``, the ``p_max`` at each bus (all p.u. of ``s_base_mva``).
    :meth:`ratio` is a bus's demand over what can reach it; above 1 no power flow supplies it.
    Also the check of a scenario's per-bus demand (:func:`feederopt.io.scenarios.
    resolve_scenarios`) and, per bus of a three-phase feeder (:meth:`of_three_phase`), of a
    three-phase scenario's (:func:`feederopt.io.scenarios.three_phase_unsuppliable`).

    An injection (a negative net demand: PV, a capacitor) is held to the same ``S_sc``, plus
    what the other buses draw (a load absorbs at most its demand): exporting ``|S|`` through
    ``Z`` to a source takes a current ``|S| / |V_j|`` and so a voltage difference
    ``|V_j - V_src| = |Z| |S| / |V_j|``, which at ``|S| > S_sc = V_n^2/|Z|`` exceeds
    ``1 / |V_j|`` p.u.: above 0.9 p.u. at any voltage limit up to 1.1 p.u., a bus at twice
    its nominal voltage or phasors about 54 degrees apart. No feeder is operated so; -500 MW
    at case33bw's bus 18 (S_sc 20.17 MVA) has no power flow in pandapower even with every
    tie closed, and a -1e300 MW row overflowed the mean-load model (user test ut32_par #1)."""

    def __init__(self, is_source: np.ndarray, s_base_mva: float, s_stiff: np.ndarray,
                 s_ext: np.ndarray, p_gen: float, gen_p: np.ndarray) -> None:
        self.is_source, self.s_base_mva = is_source, s_base_mva
        self.s_stiff, self.s_ext, self.p_gen, self.gen_p = s_stiff, s_ext, p_gen, gen_p
        self.p_cap = s_ext + p_gen

    @classmethod
    def of(cls, pu: PerUnitNetwork) -> SupplyCapacity | None:
        """The capacity of ``pu``; None for a network without loads, sources or branches."""
        n = pu.n_bus
        if not n or not len(pu.load_ids) or not pu.is_source.any():
            return None
        z = np.hypot(pu.r, pu.x)
        links: dict[tuple[int, int], float] = {}
        for a, b, w in zip(pu.f.tolist(), pu.t.tolist(), z.tolist(), strict=True):
            _link(links, a, b, w)
        if not links:
            return None

        # a generator that holds its bus voltage (PV) is a voltage source as well (transmission
        # grids: SimBench's EHV grid supplies a 246 MW load through 568 ohm to the nearest
        # ext_grid)
        stiff = pu.is_source.copy()
        if len(pu.gen_bus) and len(pu.gen_v_set) == len(pu.gen_bus):
            stiff[pu.gen_bus[np.isfinite(pu.gen_v_set)]] = True
        p_max = np.clip(np.nan_to_num(pu.gen_p_max, nan=0.0), 0, None)
        gen_p = np.bincount(pu.gen_bus, weights=np.nan_to_num(p_max, posinf=0.0),
                            minlength=n) if len(pu.gen_bus) else np.zeros(n)
        # the active power that can reach a bus: the sources' S_sc and every generator's p_max
        return cls(pu.is_source, pu.s_base_mva, _short_circuit_power(links, n, stiff),
                   _short_circuit_power(links, n, pu.is_source), float(p_max.sum()), gen_p)

    @classmethod
    def of_three_phase(cls, pu3: PerUnitThreePhase, bus_ids: list[str]) -> SupplyCapacity | None:
        """The capacity of the buses ``bus_ids`` of a three-phase feeder's per-unit model
        (:func:`~feederopt.network.threephase_perunit.to_per_unit_3ph`, per-phase base 1 MVA,
        so a per-phase p.u. power is MW): per phase node, ``S_sc = V_n^2 / |Z|`` [MVA] from the
        source over the lowest-impedance path, each branch's ``|Z|`` the smallest singular
        value of its phase impedance matrix (``|Z_self - Z_mutual|``, the positive-sequence
        impedance, for a transposed line: no current pattern meets less, so the bound errs on
        the quiet side), every switch closed, a transformer bank's ideal part a link between
        the phases it couples (its leakage impedance a branch of the model); a bus's ``S_sc``
        the sum over its phases (a balanced bus: ``3 V_n^2 / |Z_1|``, the balanced rule's
        ``V_LL^2 / |Z_1|``). The units are fixed injections (no voltage-holding unit, no
        ``p_max`` reserve: ``p_gen = 0``): give :meth:`ratio` the net demand, the units'
        output taken off. ``s_base_mva`` is 1 (MW). None without a source or a branch.

        A series capacitor (a negative self reactance) cancels reactance along its path, so
        the sum of the branches' ``|Z|`` is then no lower bound of the path's: on a feeder
        with one, each branch counts the smallest eigenvalue of its resistance matrix
        ``Re Z`` instead, which is (Weyl's inequality for the path's sum, and ``|x* Z x| >=
        x* Re(Z) x`` for the symmetric ``Z`` of a line) a lower bound of the path's smallest
        singular value."""
        n = pu3.n_nodes
        if not n or not len(pu3.source_nodes):
            return None
        capacitive = any(np.any(np.diag(np.atleast_2d(e.z_pu)).imag < 0)
                         for e in pu3.edges if e.phases)
        links: dict[tuple[int, int], float] = {}
        for e in pu3.edges:
            if not e.phases:
                continue
            zm = np.atleast_2d(e.z_pu)
            z = (max(float(np.linalg.eigvalsh((zm.real + zm.real.T) / 2).min()), 0.0)
                 if capacitive else float(np.linalg.svd(zm, compute_uv=False).min()))
            for ph in e.phases:
                a, b = pu3.node_of.get((e.f, ph)), pu3.node_of.get((e.t, ph))
                if a is not None and b is not None:
                    _link(links, a, b, z)
        for bank in pu3.banks:
            for i, pi in enumerate(bank.pri):
                for k, sk in enumerate(bank.sec):
                    if abs(bank.gamma[i, k]) > 1e-9:
                        _link(links, pu3.node_of[(bank.f, pi)], pu3.node_of[(bank.t, sk)], 0.0)
        if not links:
            return None
        src = np.zeros(n, bool)
        src[pu3.source_nodes] = True
        node_s = _short_circuit_power(links, n, src)
        index = {b: j for j, b in enumerate(bus_ids)}
        s_bus = np.zeros(len(bus_ids))
        for node, b in enumerate(pu3.node_bus.tolist()):
            j = index.get(pu3.bus_ids[b])
            if j is not None:
                s_bus[j] += node_s[node]
        source_bus = {pu3.bus_ids[pu3.node_bus[k]] for k in pu3.source_nodes.tolist()} | {
            pu3.bus_ids[e.t] for e in pu3.edges if e.kind == "source"}
        is_source = np.array([b in source_bus for b in bus_ids], bool)
        return cls(is_source, 1.0, s_bus, s_bus, 0.0, np.zeros(len(bus_ids)))

    def _demand(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.hypot(np.clip(p - self.gen_p, 0, None), np.clip(q, 0, None))

    @staticmethod
    def _injection(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The net injection ``|S|`` of each bus: its negative ``p`` and ``q`` (PV, a
        capacitor) [p.u.]."""
        return np.hypot(np.clip(-p, 0, None), np.clip(-q, 0, None))

    def _sink(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """What can take a bus's injection: ``S_sc`` from the nearest voltage source, plus
        every other bus's withdrawal ``|S|`` (a load absorbs at most its demand) [p.u.]."""
        draw = np.hypot(np.clip(p, 0, None), np.clip(q, 0, None))
        return self.s_stiff + (float(draw.sum()) - draw)

    def ratio(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Per bus: the net demand ``(p, q)`` [p.u. per bus] over what can reach the bus, or
        its net injection over what can take it (:meth:`_sink`), the larger."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.maximum.reduce([self._demand(p, q) / self.s_stiff,
                                      np.clip(p, 0, None) / self.p_cap,
                                      self._injection(p, q) / self._sink(p, q)])

    def over(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The buses (not sources) whose demand no power flow can supply, or whose injection
        no power flow within voltage limits can carry away."""
        return np.flatnonzero(~self.is_source & (self.ratio(p, q) > 1.0))

    def _bounds(self, j: int, p: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
        """Bus ``j``'s three ratios: demand over ``S_sc``, active demand over ``p_cap``,
        injection over :meth:`_sink`."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (float(self._demand(p, q)[j] / self.s_stiff[j]),
                    float(max(p[j], 0.0) / self.p_cap[j]),
                    float(self._injection(p, q)[j] / self._sink(p, q)[j]))

    def culprit(self, j: int, p: np.ndarray, q: np.ndarray) -> tuple[str, int]:
        """The column (``p_mw`` or ``q_mvar``) and the sign (+1 a withdrawal, -1 an
        injection) of the larger part of the bound bus ``j`` breaks most: the value a unit
        or sign mistake most likely sits in."""
        demand, active, inject = self._bounds(j, p, q)
        if inject > max(demand, active):
            return ("p_mw" if -p[j] >= -q[j] else "q_mvar"), -1
        if active > demand:
            return "p_mw", 1
        return ("p_mw" if p[j] - self.gen_p[j] >= q[j] else "q_mvar"), 1

    def why(self, j: int, p: np.ndarray, q: np.ndarray) -> str:
        """Which bound bus ``j`` breaks, in MW/MVA."""
        s = self.s_base_mva
        demand, active, inject = self._bounds(j, p, q)
        if inject > max(demand, active):
            other = float(self._sink(p, q)[j] - self.s_stiff[j])
            return (f"injects {self._injection(p, q)[j] * s:.4g} MVA where S_sc = V_n^2/|Z| "
                    f"from the nearest source is {self.s_stiff[j] * s:.4g} MVA"
                    + (f" and the other buses draw {other * s:.4g} MVA in all"
                       if other > 0 else "")
                    + " (carrying it away needs the bus's voltage phasor about 1 p.u. from "
                    "the source's)")
        if demand >= active:
            return (f"draws {self._demand(p, q)[j] * s:.4g} MVA where S_sc = V_n^2/|Z| from "
                    f"the nearest source is {self.s_stiff[j] * s:.4g} MVA")
        return (f"draws {p[j] * s:.4g} MW where S_sc = V_n^2/|Z| from the nearest source (not "
                f"a generator) is {self.s_ext[j] * s:.4g} MVA and every generator together "
                f"gives at most {self.p_gen * s:.4g} MW")


#: How far [x] a transformer's rating may lie from its reference (its ``s_max_mva``, or the
#: rated power its impedance gives at :data:`TYPICAL_VK`) before
#: :func:`transformer_rating_plausibility` names it.
TRAFO_RATING_FACTOR = 10.0
#: A distribution transformer's typical short-circuit voltage ``vk`` [p.u. of its rating]
#: (IEC 60076-5: 4 % up to 630 kVA, 6 % to 2.5 MVA; power transformers 8 to 15 %).
TYPICAL_VK = 0.06


def _rated_transformers(br: pl.DataFrame, col: str, placeholder_from: float,
                        placeholders: Iterable[float] = ()) -> pl.DataFrame:
    """The in-service transformers of ``br`` with a rating ``col`` that is finite, positive,
    below ``placeholder_from`` and none of ``placeholders`` (values that stand for "no
    rating"): the rows the rating plausibility checks judge."""
    keep = ((pl.col("kind") == "transformer") & pl.col(col).is_not_null()
            & pl.col(col).is_finite() & (pl.col(col) > 0) & (pl.col(col) < placeholder_from))
    values = [float(v) for v in placeholders]
    rated = br.filter(keep & ~pl.col(col).is_in(values) if values else keep)
    if "in_service" in rated.columns:
        rated = rated.filter(pl.col("in_service").fill_null(True))
    return rated


def transformer_rating_plausibility(net: Network) -> list[Problem]:
    """A warning naming the transformers whose current rating, read as the tool reads it, is
    more than :data:`TRAFO_RATING_FACTOR` times above or below a natural reference. A
    transformer's ``i_max_ka`` is the current at its **from** bus's nominal voltage, the
    rating ``S = sqrt(3) vn_from i_max_ka``; a rating given at the other winding's voltage
    (0.909 kA, the lv nameplate of a 0.63 MVA 20/0.4 kV transformer) is ``vn_from / vn_to``
    times too large or too small (50 here: 31.5 MVA, and the answer loaded it to 3 % where
    pandapower gives 150 %; user test ut_io #5).

    The reference is the branch's own ``s_max_mva`` where given, else the rated power that its
    series impedance gives at a typical short-circuit voltage, ``S_ref = vk vn_from^2 / |Z|``
    with ``vk`` = :data:`TYPICAL_VK` (``|Z| = vk V^2 / S`` by the definition of ``vk``): the
    window of 10 either way is ``vk`` from 0.6 % to 60 % implied by the rating, against 4 to
    15 % in practice, while a rating given at the other side of a 20/0.4 kV transformer
    implies 300 % or 0.12 %. The load a transformer feeds is no reference: transformers are
    often lightly loaded (pandapower's Dickert LV grid: 10 kW on 400 kVA). Left alone:
    placeholders for "no rating" (:data:`RATING_PLACEHOLDER_KA`), a branch without
    impedance, and the legs of a three-winding transformer (at its star bus, whose T-model
    impedances may be near zero). A warning: the network is used."""
    br, buses = net.branches, net.buses
    if not (_has(br, "id", "kind", "i_max_ka", "from_bus", "to_bus", "r_ohm", "x_ohm")
            and _has(buses, "id", "vn_kv")):
        return []
    rated = _rated_transformers(br, "i_max_ka", RATING_PLACEHOLDER_KA)
    if not rated.height:
        return []
    vn = dict(zip((str(b) for b in buses["id"].to_list()),
                  buses["vn_kv"].cast(pl.Float64).to_list(), strict=True))
    internal = net.internal_bus_ids()
    # (how far off, id, sentence, swapped: "both" rating and impedance, "z" impedance, "")
    found: list[tuple[float, str, str, str]] = []
    for row in rated.iter_rows(named=True):
        a, b = str(row["from_bus"]), str(row["to_bus"])
        if a in internal or b in internal or vn.get(a) is None or vn.get(b) is None:
            continue
        va, vb, i_max = float(vn[a]), float(vn[b]), float(row["i_max_ka"])
        s_rating = math.sqrt(3.0) * va * i_max
        s_max = row.get("s_max_mva")
        z = abs(complex(row["r_ohm"] or 0.0, row["x_ohm"] or 0.0))
        z_ref = TYPICAL_VK * va**2 / z if math.isfinite(z) and z > 0 else math.nan
        # an s_max_mva that transformer_s_max_plausibility names (kVA for MVA) is no
        # reference: i_max_ka was then told to be 0.02386 kA, wrong advice for a right
        # rating (user test ut48_iobad #9); the impedance is
        s_max_said = (s_max is not None and math.isfinite(z_ref)
                      and float(s_max) > TRAFO_RATING_FACTOR * z_ref
                      and float(s_max) < S_MAX_PLACEHOLDER_MVA
                      and float(s_max) not in S_MAX_PLACEHOLDERS_MVA)
        if s_max is not None and math.isfinite(s_max) and s_max > 0 and not s_max_said:
            ref = float(s_max)
            what = f"its s_max_mva ({ref:.4g} MVA)"
        elif math.isfinite(z_ref):
            ref = z_ref
            what = (f"the {ref:.4g} MVA that its impedance ({z:.4g} Ohm at {va:g} kV) gives at "
                    f"a {100 * TYPICAL_VK:g} % short-circuit voltage (this rating implies "
                    f"{100 * s_rating * z / va**2:.3g} %)")
        else:
            continue
        ratio = s_rating / ref
        if 1 / TRAFO_RATING_FACTOR <= ratio <= TRAFO_RATING_FACTOR:
            continue
        swapped = _swapped_ends(z, va, vb, math.sqrt(3.0) * vb * i_max)
        # the rating right at the from bus but the impedance the other winding's (a swapped
        # transformer whose i_max_ka was "corrected" to the from bus, user test ut44_gis #12b)
        z_only = None if swapped else _swapped_ends(z, va, vb, s_rating)
        if swapped:
            other = (f"; read at the to bus {b}'s {vb:g} kV, both the rating "
                     f"({math.sqrt(3.0) * vb * i_max:.4g} MVA) and the impedance (a "
                     f"{100 * swapped:.3g} % short-circuit voltage) are plausible: from_bus and "
                     "to_bus look swapped")
        elif z_only:
            other = (f"; with this rating its impedance read at the to bus {b}'s {vb:g} kV "
                     f"gives a plausible {100 * z_only:.3g} %: r_ohm and x_ohm look referred to "
                     "the other winding (from_bus and to_bus swapped?)")
        else:
            other = (f"; if {i_max:.4g} kA is the current at the to bus's {vb:g} kV, the rating "
                     f"is {s_rating * vb / va:.4g} MVA: i_max_ka {i_max * vb / va:.4g} kA at "
                     f"{va:g} kV" if va != vb else "")
        found.append((abs(math.log(ratio)), str(row["id"]),
                      f"transformer {row['id']}: i_max_ka {i_max:.4g} kA is read at its from "
                      f"bus {a}'s {va:g} kV, a rating of {s_rating:.4g} MVA, {ratio:.3g} times "
                      f"{what}{other}", "both" if swapped else "z" if z_only else ""))
    if not found:
        return []
    found.sort(key=lambda f: (-f[0], f[1]))
    hint = ("a transformer's i_max_ka is the current at its from bus's nominal voltage: its "
            "rated MVA / (sqrt(3) x from bus kV)")
    if found[0][3] == "both":
        hint = (f"a transformer's r_ohm, x_ohm and i_max_ka are referred to its from bus: "
                f"{found[0][1]}'s look referred to its to bus (the other winding), so from_bus "
                "and to_bus may be swapped: swap them rather than change i_max_ka")
    elif found[0][3] == "z":
        hint = (f"a transformer's r_ohm and x_ohm are referred to its from bus: swap "
                f"{found[0][1]}'s from_bus and to_bus (and give i_max_ka at the new from bus), "
                "or multiply r_ohm and x_ohm by (from kV / to kV)^2")
    return [Problem(
        ProblemKind.INVALID_VALUE, "branches",
        f"{len(found)} transformer rating(s) more than {TRAFO_RATING_FACTOR:g} times off: "
        f"{found[0][2]}", ids=tuple(sorted(f[1] for f in found)), field="i_max_ka",
        severity=Severity.WARNING, hint=hint)]


#: Short-circuit voltages [p.u.] of real transformers (IEC 60076-5: 4 % for small
#: distribution transformers, up to some 22 % for large power transformers), within which a
#: transformer read at its to bus is taken as plausible by :func:`_swapped_ends`.
VK_REAL = (0.02, 0.25)


def _swapped_ends(z_ohm: float, v_from: float, v_to: float, s_to_mva: float) -> float | None:
    """The short-circuit voltage ``vk = S |Z| / V^2`` [p.u.] that a transformer's series
    impedance ``z_ohm`` gives with the rating ``s_to_mva`` when both are read at its **to**
    bus's ``v_to`` [kV], where that is a real transformer's (:data:`VK_REAL`) while the from
    bus reading is not; else None. Then the impedance and rating are the other winding's, and
    the ends are swapped (user test ut44_gis #12: 58 Ohm at 110 kV and 0.131 kA at 110 kV of a
    25 MVA transformer, given from its 20 kV bus)."""
    if v_from == v_to or not (z_ohm > 0 and s_to_mva > 0):
        return None
    vk_to = s_to_mva * z_ohm / v_to**2
    return vk_to if VK_REAL[0] <= vk_to <= VK_REAL[1] else None


#: Thermal ratings [MVA] taken as placeholders for "no rating" by
#: :func:`transformer_s_max_plausibility`: from :data:`S_MAX_PLACEHOLDER_MVA` on (no
#: transformer is rated 100 GVA, while 16000 or 63000 typed for kVA are real ratings), and the
#: nines that MATPOWER cases write (9900, 9999).
S_MAX_PLACEHOLDER_MVA = 1e5
S_MAX_PLACEHOLDERS_MVA = (9900.0, 9999.0)


def transformer_s_max_plausibility(net: Network) -> list[Problem]:
    """A warning naming the transformers whose thermal rating ``s_max_mva`` is more than
    :data:`TRAFO_RATING_FACTOR` times above the rated power its series impedance
    gives at a typical short-circuit voltage, ``S_ref = vk vn_from^2 / |Z|`` with ``vk`` =
    :data:`TYPICAL_VK` (``|Z| = vk V^2 / S`` by the definition of ``vk``, IEC 60076-5): the
    rating implies ``vk = s_max |Z| / vn_from^2``, and a factor of 10 is ``vk`` above 60 %,
    against 4 to 15 % in practice. Only a rating too large is named: it never binds, silently,
    while one too small binds and shows (case533mt's 159 MVA transformers of 0.2 Ohm at 135 kV
    imply 0.18 %, a model's choice). A rating typed in kVA (16000 for a
    16 MVA transformer with vk 7.7 %) implies 7700 % and never binds (user test ut44_gis
    #44); the hint then gives the rating in MVA. The same rule as the ``i_max_ka`` one of
    :func:`transformer_rating_plausibility`, whose exceptions it shares (placeholders, no
    impedance, the legs of a three-winding transformer; :data:`S_MAX_PLACEHOLDER_MVA`). A
    warning: the network is used."""
    br, buses = net.branches, net.buses
    if not (_has(br, "id", "kind", "s_max_mva", "from_bus", "to_bus", "r_ohm", "x_ohm")
            and _has(buses, "id", "vn_kv")):
        return []
    rated = _rated_transformers(br, "s_max_mva", S_MAX_PLACEHOLDER_MVA,
                                S_MAX_PLACEHOLDERS_MVA)
    if not rated.height:
        return []
    vn = dict(zip((str(b) for b in buses["id"].to_list()),
                  buses["vn_kv"].cast(pl.Float64).to_list(), strict=True))
    internal = net.internal_bus_ids()
    # (how far off, id, sentence, s_max, ratio)
    found: list[tuple[float, str, str, float, float]] = []
    for row in rated.iter_rows(named=True):
        a, b = str(row["from_bus"]), str(row["to_bus"])
        if a in internal or b in internal or vn.get(a) is None:
            continue
        va, s_max = float(vn[a]), float(row["s_max_mva"])
        z = abs(complex(row["r_ohm"] or 0.0, row["x_ohm"] or 0.0))
        if not (math.isfinite(z) and z > 0 and va > 0):
            continue
        ref = TYPICAL_VK * va**2 / z
        ratio = s_max / ref
        if ratio <= TRAFO_RATING_FACTOR:
            continue
        vb = vn.get(b)
        swapped = _swapped_ends(z, va, float(vb), s_max) if vb is not None else None
        found.append((abs(math.log(ratio)), str(row["id"]),
                      f"transformer {row['id']}: s_max_mva {s_max:.6g} MVA, {ratio:.3g} times "
                      f"the {ref:.4g} MVA that its impedance ({z:.4g} Ohm at {va:g} kV) gives "
                      f"at a {100 * TYPICAL_VK:g} % short-circuit voltage (this rating implies "
                      f"{100 * s_max * z / va**2:.3g} %)" + (
                          f"; read at its to bus {b}'s {vb:g} kV the impedance gives a "
                          f"plausible {100 * swapped:.3g} %: its impedance looks referred to "
                          "the other winding, from_bus and to_bus swapped" if swapped else ""),
                      s_max, ratio))
    if not found:
        return []
    found.sort(key=lambda f: (-f[0], f[1]))
    _, _, sentence, s_first, r_first = found[0]
    in_kva = 1 / TRAFO_RATING_FACTOR <= r_first / 1000.0 <= TRAFO_RATING_FACTOR
    hint = ("s_max_mva is in MVA, not kVA" + (f": if {s_first:.6g} is in kVA, write "
                                            f"{s_first / 1000.0:.6g}" if in_kva else "")
            + "; a transformer's s_max_mva is its rated power, for which its impedance "
            "gives a short-circuit voltage of some 4 to 15 %")
    return [Problem(
        ProblemKind.INVALID_VALUE, "branches",
        f"{len(found)} transformer rating(s) more than {TRAFO_RATING_FACTOR:g} times above "
        f"their impedance's: {sentence}", ids=tuple(sorted(f[1] for f in found)),
        field="s_max_mva",
        severity=Severity.WARNING, hint=hint)]


#: Series impedance [Ohm] of the path from the nearest source to a bus above which
#: :func:`load_plausibility` blames the impedances rather than the loads: 1000 km of a typical
#: line (:data:`TYPICAL_LINE_OHM_PER_KM`), beyond any distribution feeder, while a feeder whose
#: line impedances were computed from lengths in metres (x1000) reaches it (ut44_gis #03: a
#: 20 kV grid of 0.4 to 1.6 km sections, 1826 Ohm).
METRES_PATH_OHM = 500.0
#: A typical distribution line's series impedance [Ohm/km] (0.2 + j0.12 to 0.6 + j0.4).
TYPICAL_LINE_OHM_PER_KM = 0.5


def load_plausibility(net: Network) -> list[Problem]:
    """A warning naming the loads of each bus whose demand no power flow can supply: almost
    always kW given as MW (500 kW entered as 500 on a 12.66 kV feeder is several times the
    short-circuit power there).

    Through a series impedance ``Z`` from a source at ``V`` a lagging or unity power-factor
    load draws at most ``V^2 / (2 |Z|)`` (maximum power transfer), about 0.6 ``S_sc`` even at
    a 1.1 p.u. source, with ``S_sc = V_n^2 / |Z|`` the short-circuit power; ``Z`` is the series
    impedance of the lowest-impedance path (every in-service branch taken closed, switches and
    ties too; per unit, so across transformers). Three bounds, a bus breaking any is named:

    * its net demand ``|S|`` (its load less the in-service generation at it, ``p_max_mw``, and
      its capacitive ``q_mvar``) above ``S_sc`` from the nearest source or generator that
      holds its bus voltage (PV: a voltage source for the reactive power it gives);
    * its active demand above ``S_sc`` from the nearest source (ext_grid, slack) plus the
      ``p_max_mw`` of every in-service generator together: a PV generator holds its voltage
      but gives no more active power than that, so one load typed in kW next to a 1.5 MW
      CHP unit is still named (the first bound takes that unit as stiff);
    * its net injection ``|S|`` (negative loads) above that ``S_sc`` plus every other bus's
      demand (:class:`SupplyCapacity`: no power flow within voltage limits carries it away).

    Parallel paths only raise ``S_sc``, a shorter path is never missed, and every generator
    counts wherever it is, so the rule errs on the quiet side: the built-in cases, MATPOWER's
    distribution cases and SimBench's LV to EHV grids reach at most 0.3 of it. A warning: the
    network is used. :func:`three_phase_load_plausibility` is the same check of a three-phase
    feeder."""
    from feederopt.network.perunit import to_per_unit

    try:
        pu = to_per_unit(net)
    except Exception:
        return []
    cap = SupplyCapacity.of(pu)
    if cap is None:
        return []
    s = pu.s_base_mva

    def hint(load_id: str, p_mw: float) -> str:
        return (f"p_mw and q_mvar are in MW and MVAr: 500 kW is written 0.5; if {load_id}'s "
                f"{p_mw:.4g} is in kW, write {p_mw / 1000:.4g}")

    found = _unsuppliable_loads(cap, pu.p_load, pu.q_load, list(pu.bus_ids),
                                list(pu.load_ids), pu.load_bus.tolist(),
                                [float(v) * s for v in pu.load_p], s, str, hint,
                                "p_mw and q_mvar are in MW and MVAr: 500 kW is written 0.5")
    if found:
        # the impedance, not the load, when the path to the bus is absurdly long: lengths in
        # metres, every r_ohm and x_ohm 1000 times too large (user test ut44_gis #03)
        over = cap.over(pu.p_load, pu.q_load)
        worst = int(over[np.argmax(cap.ratio(pu.p_load, pu.q_load)[over])])
        z_ohm = float(pu.vn_kv[worst]) ** 2 / (float(cap.s_stiff[worst]) * s)
        if z_ohm > METRES_PATH_OHM:
            found = [dataclasses.replace(found[0], hint=(
                f"the series impedance from the nearest source to bus {pu.bus_ids[worst]} is "
                f"{z_ohm:.4g} Ohm, that of some {z_ohm / TYPICAL_LINE_OHM_PER_KM:.4g} km of "
                "line: the line impedances look 1000 times too large; if r_ohm and x_ohm were "
                "computed from lengths in metres, divide them by 1000 (lengths in km); "
                f"else, {found[0].hint}"))]
    return found


def generator_plausibility(net: Network) -> list[Problem]:
    """A warning naming the generators of each bus whose forced injection no power flow can
    carry away: almost always kW given as MW (a 500 kW unit typed as ``p_mw`` = 500 on
    case33bw's 12.66 kV bus b10 left ``info`` at "did not converge ... problems: none" and the
    solve at "infeasible"; user test ut50_iobad #1). :func:`load_plausibility`'s rule for a
    load, turned round for a unit.

    A bus ``j``'s forced injection is ``P_inj = sum p_min_mw - p_load`` over its in-service
    generators and loads (``p_min_mw``: the least a unit must give; ``p_mw`` alone is read as
    ``p_min_mw = p_max_mw``). Exporting ``P`` through ``Z`` to a source at ``V`` needs
    ``|V_j - V_src| = |Z| P / |V_j|`` (:class:`SupplyCapacity`), which above
    ``S_sc = V_n^2/|Z|`` (the lowest-impedance path to the nearest source, every branch
    closed) is more than ``1/|V_j|`` p.u.: no operating point near nominal voltage. What the
    other buses draw (``p_load``, at most) is taken off on the spot, so the bound is
    ``P_inj > S_sc + sum_{k != j} p_load_k``; a generator's own voltage set-point does not
    count (it holds a voltage, it takes no active power). A warning: the network is used."""
    from feederopt.network.perunit import to_per_unit

    try:
        pu = to_per_unit(net)
    except Exception:
        return []
    if not len(pu.gen_ids):
        return []
    cap = SupplyCapacity.of(pu)
    if cap is None:
        return []
    n, s = pu.n_bus, pu.s_base_mva
    p_min = np.nan_to_num(np.clip(pu.gen_p_min, 0, None), nan=0.0, posinf=0.0)
    forced = np.bincount(pu.gen_bus, weights=p_min, minlength=n)
    p_load = np.nan_to_num(np.asarray(pu.p_load, dtype=float), nan=0.0, posinf=0.0)
    draw = np.clip(p_load, 0, None)
    inject = forced - p_load
    sink = cap.s_ext + (float(draw.sum()) - draw)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(inject > 0, inject / sink, 0.0)
    over = np.flatnonzero(~pu.is_source & (ratio > 1.0))
    if not len(over):
        return []
    at = set(over.tolist())
    ids = tuple(g for g, b in zip(pu.gen_ids, pu.gen_bus.tolist(), strict=True) if b in at)
    worst = int(over[np.argmax(ratio[over])])
    here = [k for k, b in enumerate(pu.gen_bus.tolist()) if b == worst]
    k = max(here, key=lambda i: float(p_min[i]))
    gid, g_mw = pu.gen_ids[k], float(p_min[k]) * s
    other = float(sink[worst] - cap.s_ext[worst]) * s
    return [Problem(
        ProblemKind.BAD_LOAD, "generators",
        f"the generation at {len(over)} bus(es) is more than the network can take, so no power "
        f"flow carries it away: {gid} ({g_mw:.4g} MW) at bus {pu.bus_ids[worst]} must inject "
        f"{inject[worst] * s:.4g} MW where S_sc = V_n^2/|Z| from the nearest source is "
        f"{cap.s_ext[worst] * s:.4g} MVA and the other buses draw {other:.4g} MW in all; the "
        "value looks given in kW",
        ids=ids, field="p_mw", severity=Severity.WARNING,
        hint=f"p_mw, p_min_mw and p_max_mw are in MW: 500 kW is written 0.5; if {gid}'s "
        f"{g_mw:.4g} is in kW, write {g_mw / 1000:.4g}")]


def three_phase_load_plausibility(net: ThreePhaseNetwork) -> list[Problem]:
    """:func:`load_plausibility` of a three-phase feeder: a warning naming the loads of each
    bus whose net demand (its in-service loads' nominal ``p_mw``, ``q_mvar`` over their
    phases, less its in-service units' output) is beyond what
    :meth:`SupplyCapacity.of_three_phase` can bring it (per phase node ``S_sc = V_n^2/|Z|`` from
    the source over the lowest-impedance path, every switch closed; a bus's the sum over its
    phases). The three-phase solve took IEEE 13's ``Load.652 kW=128000000`` (128 kW typed
    with six zeros too many) to "infeasible", exit 3, without a word about the load (user test
    ut35_errs #3). Nothing for a feeder with validation errors (its per-unit model needs sound
    tables; :func:`validate` runs :func:`load_plausibility` only then): they say what is
    wrong."""
    from feederopt.network.threephase_perunit import to_per_unit_3ph

    if any(p.is_error for p in net.validate()):
        return []
    bus_ids = [str(b) for b in net.buses["id"].to_list()]
    try:
        cap = SupplyCapacity.of_three_phase(to_per_unit_3ph(net), bus_ids)
    except Exception:
        return []
    if cap is None:
        return []
    index = {b: j for j, b in enumerate(bus_ids)}
    p, q = np.zeros(len(bus_ids)), np.zeros(len(bus_ids))
    loads = (net.loads.filter(pl.col("in_service"))
             .group_by("id", maintain_order=True)
             .agg(pl.col("bus").first(), pl.col("p_mw").sum(), pl.col("q_mvar").sum())
             .filter(pl.col("bus").is_in(list(index))))
    units = net.generators.filter(pl.col("in_service") & pl.col("bus").is_in(list(index)))
    for bus, pl_mw, ql_mvar in loads.select("bus", "p_mw", "q_mvar").iter_rows():
        p[index[bus]] += pl_mw
        q[index[bus]] += ql_mvar
    for bus, pg_mw, qg_mvar in units.select("bus", "p_mw", "q_mvar").iter_rows():
        p[index[bus]] -= pg_mw
        q[index[bus]] -= qg_mvar
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        return []  # a NaN load is a problem of its own

    def hint(load_id: str, p_mw: float) -> str:
        return (f"OpenDSS gives a load's kW and kvar in kW and kvar: 500 kW is kW=500 "
                f"(Load.{load_id} has kW={1000 * p_mw:.10g}, {p_mw:.4g} MW)")

    return _unsuppliable_loads(cap, p, q, bus_ids, loads["id"].to_list(),
                               [index[b] for b in loads["bus"].to_list()],
                               loads["p_mw"].to_list(), 1.0, lambda i: f"Load.{i}", hint,
                               "OpenDSS gives a load's kW and kvar in kW and kvar")


def _unsuppliable_loads(cap: SupplyCapacity, p: np.ndarray, q: np.ndarray, bus_ids: list[str],
                        load_ids: list[str], load_bus: list[int], load_p_mw: list[float],
                        s_base_mva: float, label: Callable[[str], str],
                        hint: Callable[[str, float], str], plain_hint: str) -> list[Problem]:
    """The ``bad_load`` warning of :func:`load_plausibility` and
    :func:`three_phase_load_plausibility`: the buses whose net demand ``(p, q)`` [p.u. of
    ``s_base_mva``, per bus of ``bus_ids``] ``cap`` cannot supply (:meth:`SupplyCapacity.
    over`), the loads on them (``load_ids`` at the bus indices ``load_bus``), and the largest
    load (``load_p_mw`` [MW]) at the bus that breaks its bound most, shown by ``label``;
    ``hint`` of that load's id and MW, ``plain_hint`` without one."""
    over = cap.over(p, q)
    if not len(over):
        return []
    at = set(over.tolist())
    ids = tuple(lid for lid, j in zip(load_ids, load_bus, strict=True) if j in at)
    worst = int(over[np.argmax(cap.ratio(p, q)[over])])
    here = [k for k, j in enumerate(load_bus) if j == worst]
    biggest = max(here, key=lambda k: float(load_p_mw[k])) if here else None
    who = (f"{label(load_ids[biggest])} ({load_p_mw[biggest]:.4g} MW) at bus "
           f"{bus_ids[worst]}" if biggest is not None else f"bus {bus_ids[worst]}")
    why = cap.why(worst, p, q)
    return [Problem(
        ProblemKind.BAD_LOAD, "loads",
        f"the demand at {len(over)} bus(es) exceeds the short-circuit power that reaches it, so no "
        f"power flow can supply it: {who} {why}",
        ids=ids, field="p_mw", severity=Severity.WARNING,
        hint=hint(load_ids[biggest], load_p_mw[biggest]) if biggest is not None
        else plain_hint)]


#: Highest plausible nominal voltage [kV]; the highest AC transmission voltage in service is
#: 1150 kV, so a larger value is almost certainly given in volts.
VN_KV_MAX = 1200.0


#: Plausible voltage set-points [p.u.] of a source or a voltage-controlling generator, bounds
#: excluded: a set-point outside is a unit mistake (12.66, the bus's kV typed as p.u.), which
#: passed validation and ended the solve as "interrupted: the phase-1 slave failed" (user test
#: ut_edge #3), or, at a generator, gave an AC check that did not converge beside "optimal"
#: (user test ut36_api #2).
V_SET_PU_RANGE = (0.5, 1.5)

#: Values [p.u.] of a voltage limit or set-point read as a percentage of nominal (105 for
#: 1.05 p.u.): no voltage is held or limited at 20 to 200 times nominal, while a GIS or
#: planning export often gives its limits in % (user test ut44_gis #39). Refused, with the
#: value / 100 in the hint.
PERCENT_PU_RANGE = (20.0, 200.0)


def _looks_like_percent(value: float) -> bool:
    lo, hi = PERCENT_PU_RANGE
    return math.isfinite(value) and lo <= value <= hi


def _source_set_point_plausibility(buses: pl.DataFrame) -> list[Problem]:
    """An error naming the sources whose positive, finite ``v_set_pu`` is outside
    :data:`V_SET_PU_RANGE` (as :data:`VN_KV_MAX` catches volts typed as kV); a source's
    non-positive or infinite set-point has its own problems (:func:`_bus_problems`)."""
    if not _has(buses, "is_source", "v_set_pu"):
        return []
    v = pl.col("v_set_pu")
    rows = buses.filter(pl.col("is_source").fill_null(False) & v.is_finite() & (v > 0))
    vn = rows["vn_kv"].to_list() if "vn_kv" in rows.columns else [None] * rows.height
    return _set_point_problems("buses", "source voltage set-point", rows["id"].to_list(),
                               rows["v_set_pu"].to_list(), vn, "a source")


def _generator_set_point_plausibility(gens: pl.DataFrame, buses: pl.DataFrame) -> list[Problem]:
    """An error naming the generators whose given ``v_set_pu`` (null or NaN: none, the
    generator's p and q are injections) is outside :data:`V_SET_PU_RANGE`, infinite or not
    positive, as a source's (:func:`_source_set_point_plausibility`); the hint compares it with
    the ``vn_kv`` of the generator's bus."""
    if not _has(gens, "id", "bus", "v_set_pu"):
        return []
    v = pl.col("v_set_pu")
    rows = gens.filter(v.is_not_null() & ~v.is_nan())
    if rows.height == 0:
        return []
    vn_of: dict[str, Any] = (dict(zip(map(str, buses["id"].to_list()), buses["vn_kv"].to_list(),
                                      strict=True)) if _has(buses, "id", "vn_kv") else {})
    return _set_point_problems("generators", "voltage set-point", rows["id"].to_list(),
                               rows["v_set_pu"].to_list(),
                               [vn_of.get(str(b)) for b in rows["bus"].to_list()],
                               "a voltage-controlling generator")


#: How far [p.u.] two voltage set-points on one (fused) bus may differ before they conflict.
SET_POINT_TOL_PU = 1e-6


def set_point_conflicts(net: Network) -> list[Problem]:
    """An error naming the in-service voltage-controlling generators (``v_set_pu`` given)
    whose set-point differs from another's, or from a source's ``v_set_pu``, on the same bus
    or on buses that closed ideal branches fuse into one (zero impedance, in service, not
    normally open: a closed bus-bus switch, a substation coupler). No power flow holds one
    voltage at two values: pandapower's runpp refuses such a net ("different setpoints"),
    and the models (which fix a held bus at its set-point, or move a source's by its OLTC)
    would report an optimum that the AC check then fails (user test ut41_io #2: two gens at
    1.0 and 1.03 p.u. on bus 18, a gen at 1.05 p.u. on a 1.0 p.u. source's bus, read as
    ``problems: none``). As a dcline end held at another voltage is refused by the
    pandapower reader. Set-points within :data:`SET_POINT_TOL_PU` agree."""
    buses, branches, gens = net.buses, net.branches, net.generators
    if not _has(gens, "id", "bus", "v_set_pu") or not _has(buses, "id"):
        return []
    ids = list(dict.fromkeys(str(b) for b in buses["id"].to_list()))
    index = {b: i for i, b in enumerate(ids)}
    f: list[int] = []
    t: list[int] = []
    joins: dict[tuple[int, int], str] = {}
    if _has(branches, "id", "from_bus", "to_bus", "r_ohm", "x_ohm"):
        state = pl.lit(True)
        for col, closed_when in (("in_service", True), ("normally_open", False)):
            if col in branches.columns:
                state = state & (pl.col(col).fill_null(not closed_when) == closed_when)
        ideal = branches.filter(state & (pl.col("r_ohm") == 0) & (pl.col("x_ohm") == 0))
        for bid, a, b in ideal.select("id", "from_bus", "to_bus").iter_rows():
            if str(a) in index and str(b) in index:
                f.append(index[str(a)])
                t.append(index[str(b)])
                joins.setdefault((index[str(a)], index[str(b)]), str(bid))
    labels = components_of(len(ids), f, t)
    holders: dict[int, list[tuple[str, int, float]]] = {}  # label: (who, bus, set-point)
    if _has(buses, "is_source", "v_set_pu"):
        for bid, src, v in buses.select("id", "is_source", "v_set_pu").iter_rows():
            if src and is_finite(v) and str(bid) in index:
                k = index[str(bid)]
                holders.setdefault(int(labels[k]), []).append((f"source bus {bid}", k, v))
    live = gens.filter(pl.col("in_service").fill_null(True)) if "in_service" in gens.columns \
        else gens
    for gid, bus, v in live.select("id", "bus", "v_set_pu").iter_rows():
        if is_finite(v) and str(bus) in index:
            k = index[str(bus)]
            holders.setdefault(int(labels[k]), []).append((f"generator {gid}", k, v))
    problems: list[Problem] = []
    for members in holders.values():
        first = members[0]
        other = next((m for m in members if abs(m[2] - first[2]) > SET_POINT_TOL_PU), None)
        if other is None or not any(w.startswith("generator ") for w, _, _ in (first, other)):
            continue  # sources alone: their own check (two sources joined, docs)
        where = f"bus {ids[first[1]]}" if first[1] == other[1] else (
            f"buses {ids[first[1]]} and {ids[other[1]]}, fused by the closed ideal "
            f"branch(es) {', '.join(_joins_between(joins, labels, labels[first[1]]))}")
        gen_ids = tuple(w.removeprefix("generator ") for w, _, v in members
                        if w.startswith("generator ")
                        and (w == first[0] or abs(v - first[2]) > SET_POINT_TOL_PU))
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "generators",
            f"conflicting voltage set-points on {where}: {first[0]} holds {first[2]:g} p.u., "
            f"{other[0]} {other[2]:g} p.u. (no power flow holds one voltage at two values)",
            ids=gen_ids, field="v_set_pu",
            hint="give every generator on a bus (and on buses joined by closed switches) and "
            "the bus's source one v_set_pu, or leave v_set_pu empty for a generator that "
            "injects its p and q"))
    return problems


def unbounded_source_q_trade(net: Network) -> list[Problem]:
    """An error naming the in-service generators on a source bus whose reactive power is
    unbounded on the side that a linear reactive import price rewards: with
    ``import_q_price_per_mvarh`` ``c_q`` != 0 and no quadratic term
    (``import_q_cost_per_mvar2_per_h`` 0), the import cost ``c_q q_s`` falls without bound as
    the source absorbs (``c_q > 0``; the generator's ``q_max_mvar`` infinite) or supplies
    (``c_q < 0``; ``q_min_mvar`` infinite) what the generator injects at the same bus, with
    no branch, loss or voltage in between: ``q_s + q_g`` is all the bus's balance holds.
    pandapower's ``runopp`` of such a net (a ``gen`` on an ext_grid's bus without
    ``min/max_q_mvar``, the ext_grid's ``poly_cost`` with ``cq1_eur_per_mvar``) stops at its
    default limits of 1e9 Mvar; feederopt's DOPF would be unbounded."""
    buses, gens = net.buses, net.generators
    if (not _has(buses, "id", "is_source", "import_q_price_per_mvarh")
            or not _has(gens, "id", "bus", "q_min_mvar", "q_max_mvar")):
        return []
    q2 = (pl.col("import_q_cost_per_mvar2_per_h").fill_null(0.0)
          if "import_q_cost_per_mvar2_per_h" in buses.columns else pl.lit(0.0))
    priced = {str(b): float(c) for b, c in buses.filter(
        pl.col("is_source").fill_null(False) & (q2 == 0)
        & (pl.col("import_q_price_per_mvarh").fill_null(0.0) != 0)).select(
            "id", "import_q_price_per_mvarh").iter_rows()}
    if not priced:
        return []
    live = gens.filter(pl.col("in_service").fill_null(True)) if "in_service" in gens.columns \
        else gens
    problems: list[Problem] = []
    for gid, bus, lo, hi in live.select("id", "bus", "q_min_mvar", "q_max_mvar").iter_rows():
        c = priced.get(str(bus))
        if c is None:
            continue
        bound = hi if c > 0 else lo
        if bound is None or not math.isfinite(bound):
            field = "q_max_mvar" if c > 0 else "q_min_mvar"
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "generators",
                f"generator {gid} on source bus {bus} has no {field}, and the bus's reactive "
                f"import is priced at {c:g} per MVAr h without a quadratic term: the import "
                "cost falls without bound as the source "
                f"{'absorbs' if c > 0 else 'supplies'} what the generator "
                f"{'injects' if c > 0 else 'absorbs'} at the same bus", ids=(str(gid),),
                field=field,
                hint=f"give the generator a finite {field} (pandapower: the gen's "
                "min_q_mvar, max_q_mvar), or drop the source's reactive price (pandapower: "
                "the ext_grid's poly_cost cq1_eur_per_mvar)"))
    return problems


def _joins_between(joins: dict[tuple[int, int], str], labels: np.ndarray,
                   label: int) -> list[str]:
    """The ids of the ideal branches (``joins``, by end indices) inside the fused group
    ``label``."""
    return sorted({bid for (a, _), bid in joins.items() if labels[a] == label})


def _set_point_problems(table: str, what: str, ids: list[Any], values: list[float],
                        vn_kv: list[Any], holder: str) -> list[Problem]:
    """One error naming the rows (``ids``) whose voltage set-point ``values`` [p.u.] lie
    outside the open range :data:`V_SET_PU_RANGE` (or are infinite), with a hint of the first:
    the bus's ``vn_kv`` (``vn_kv``, per row) when the value is within 10 % of it (kV typed as
    p.u.), else the value in % of nominal."""
    lo, hi = V_SET_PU_RANGE
    bad = [(i, float(x), vn) for i, x, vn in zip(ids, values, vn_kv, strict=True)
           if not lo < float(x) < hi]
    if not bad:
        return []
    _, value, vn = bad[0]
    near_vn = (vn is not None and math.isfinite(float(vn)) and math.isfinite(value)
               and abs(value - float(vn)) <= 0.1 * float(vn))
    # near 100 a percentage (102 at a 110 kV bus is 102 %, not 0.93 p.u. in kV: user test
    # ut44_gis #7): the reading, % or kV, that lands nearer 1.0 p.u. comes first
    as_pct = _looks_like_percent(value) and 80.0 <= value <= 120.0
    pct_first = as_pct and (not near_vn or abs(value / 100 - 1) <= abs(value / float(vn) - 1))
    if pct_first:
        hint = (f"p.u., not %: {value:g} looks like a percentage of nominal: write "
                f"{value / 100:g}" + (f" (if {value:g} is in kV, {value / float(vn):.4g} p.u. "
                                      f"of the bus's {float(vn):g} kV)" if near_vn else ""))
    elif near_vn:
        hint = (f"p.u., not kV: {value:g} looks like the bus's vn_kv ({float(vn):g} kV); "
                f"the nominal voltage is 1.0 p.u." + (
                    f" (if {value:g} is in % of nominal, write {value / 100:g})"
                    if as_pct else ""))
    elif math.isfinite(value):
        hint = (f"v_set_pu is in p.u. of the bus's vn_kv: {value:g} p.u. is "
                f"{value * 100:g} % of nominal; {holder} is held near 1.0 (e.g. 0.95 to 1.1)")
    else:
        hint = (f"v_set_pu is in p.u. of the bus's vn_kv; {holder} is held near 1.0 (e.g. "
                "0.95 to 1.1)")
    return [Problem(ProblemKind.INVALID_VALUE, table,
                    f"{what} outside the plausible {lo:g} to {hi:g} p.u.",
                    ids=tuple(str(b[0]) for b in bad), field="v_set_pu", hint=hint)]


def _value_text(value: object) -> str:
    """A cell's value as a message shows it: NaN as ``NaN`` (a missing number, not a value one
    typed), a number by ``:g``."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:g}"
    return repr(value)


def _optional_positive(df: pl.DataFrame, table: str, columns: tuple[str, ...],
                       hint: str) -> list[Problem]:
    """A problem for each column whose given (non-null) values are not all positive numbers.
    Polars orders NaN above every number, so ``NaN > 0`` holds: NaN is tested on its own."""
    problems: list[Problem] = []
    for col in columns:
        bad = pl.col(col).is_not_null() & (~(pl.col(col) > 0) | pl.col(col).is_nan())
        ids = _ids(df, bad)
        if ids:
            values = df.filter(bad)[col].to_list()
            found = list(dict.fromkeys(_value_text(v) for v in values))
            shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
            problems.append(Problem(ProblemKind.INVALID_VALUE, table,
                                    f"{col} must be positive (or empty for no limit): "
                                    f"{shown} found",
                                    ids=ids, field=col, hint=hint))
    return problems


def _pv_held(buses: pl.DataFrame, gens: pl.DataFrame | None) -> pl.Expr:
    """The buses that voltage-controlling generators hold at their set-point whatever their
    reactive power (:func:`~feederopt.network.limits.held_by_generator`; the models fix them
    there, :func:`feederopt.formulations.distflow.voltage_bounds`): no band binds them, a
    zero-width one included, as a source's (case6ww's generator buses, Vmin = Vmax = Vg)."""
    if gens is None or gens.height == 0:
        return pl.lit(False)
    ids = [str(b) for b, v in zip(buses["id"].to_list(), held_by_generator(buses, gens),
                                  strict=True) if v is not None]
    return pl.col("id").cast(pl.String).is_in(ids)


def _controllable_gen_bus(gens: pl.DataFrame | None) -> pl.Expr:
    """The buses of in-service committable generators with a set-point ``v_set_pu``
    (pandapower's controllable gen), whose voltage the DOPF chooses within the bus's band
    (:func:`feederopt.problems.dopf.with_free_gen_voltages`)."""
    if (gens is None or gens.height == 0
            or not {"bus", "v_set_pu", "committable", "in_service"} <= set(gens.columns)):
        return pl.lit(False)
    ids = gens.filter(pl.col("in_service") & pl.col("committable").fill_null(False)
                      & pl.col("v_set_pu").is_not_null())["bus"].cast(pl.String).to_list()
    return pl.col("id").cast(pl.String).is_in(ids)


def _bus_problems(buses: pl.DataFrame, gens: pl.DataFrame | None = None) -> list[Problem]:
    problems: list[Problem] = []
    # a NaN limit or set-point is said as such: it was "v_min_pu is above v_max_pu (or NaN)"
    # with the hint "swap the limits", and a NaN v_set_pu "infinite or negative" (user test
    # ut46_iobad #7)
    for col, what in (("v_min_pu", "voltage limit"), ("v_max_pu", "voltage limit"),
                      ("v_set_pu", "source voltage set-point")):
        ids = _ids(buses, pl.col(col).is_nan())
        if ids:
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "buses", f"{col} is NaN", ids=ids, field=col,
                hint=f"give the {what} in p.u., e.g. 0.9 to 1.1 (an empty cell: the default)"
                if col != "v_set_pu" else f"give the {what} in p.u., e.g. 1.0"))
    # (Polars orders NaN above every number: a NaN limit is left to its own problem above;
    # an infinite one too, to its "is infinite" below: v_min_pu = inf was also "swap the
    # limits", user test ut46_recheck iobad/bad4/v_min_pu_inf)
    # (and a negative one to its "is negative": swapping would not mend it; nor a zero
    # v_max_pu, its "must be positive": swapping made v_min_pu 0, user test ut47_recheck #6)
    # (nor a limit given in percent, named below: "swap the limits" beside "write 0.9 for
    # 90 %" for a v_min_pu of 90, user test ut48_iobad #9)
    ids = _ids(buses, (pl.col("v_min_pu") > pl.col("v_max_pu"))
               & pl.col("v_min_pu").is_finite() & pl.col("v_max_pu").is_finite()
               & (pl.col("v_max_pu") > 0)
               & ~pl.col("v_min_pu").is_between(*PERCENT_PU_RANGE)
               & ~pl.col("v_max_pu").is_between(*PERCENT_PU_RANGE))
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVERTED_LIMITS,
                "buses",
                "v_min_pu is above v_max_pu",
                ids=ids,
                field="v_min_pu",
                hint="swap the limits; typical values are 0.9 and 1.1 p.u.",
            )
        )
    for col, what in (("v_min_pu", "voltage limit"), ("v_max_pu", "voltage limit"),
                      ("v_set_pu", "source voltage set-point")):
        for bad, said in ((pl.col(col).is_infinite(), "infinite"),
                          (pl.col(col).is_finite() & (pl.col(col) < 0), "negative")):
            ids = _ids(buses, bad)
            if ids:
                problems.append(Problem(
                    ProblemKind.INVALID_VALUE, "buses", f"{col} is {said}", ids=ids,
                    field=col, hint=f"give the {what} in p.u., e.g. "
                    + ("0.9 to 1.1" if col != "v_set_pu" else "1.0")))
    # An upper limit of 0 p.u. holds no bus (every voltage is above it): a value to give, not
    # limits to swap (a v_min_pu of 0 is no lower limit, and a source's v_set_pu of 0 is
    # named below)
    ids = _ids(buses, pl.col("v_max_pu") == 0)
    if ids:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "buses", "v_max_pu is 0: an upper voltage limit must be "
            "positive", ids=ids, field="v_max_pu",
            hint="give the voltage limit in p.u., e.g. 0.9 to 1.1 (an empty cell: the default)"))
    # Limits given in percent (105 for 1.05 p.u.): a band that binds nothing, or none that any
    # power flow meets (90 to 110), silently (user test ut44_gis #39)
    for col in ("v_min_pu", "v_max_pu"):
        pct = pl.col(col).is_between(*PERCENT_PU_RANGE)
        ids = _ids(buses, pct)
        if ids:
            first = float(buses.filter(pct)[col][0])
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "buses",
                f"{col} {first:g} p.u. is no voltage limit: it looks like a percentage of "
                "nominal", ids=ids, field=col,
                hint=f"{col} is in p.u. of the bus's vn_kv, not %: write {first / 100:g} for "
                f"{first:g} %"))
    # A band of zero width at a bus without a source: its voltage must be that value exactly,
    # which a power flow meets only by chance (MATPOWER's case16ci has Vmin = Vmax = 1 at its
    # load bus 4: every topology then needs slack, exit 3).
    # A bus that a generator holds at its set-point is bound by no band (case6ww's
    # generator buses).
    # So is a controllable gen's bus (committable, v_set_pu given): the DOPF chooses its
    # voltage within the band, which the gen's q holds, a zero-width one included.
    ids = _ids(buses, ~pl.col("is_source").fill_null(False) & ~_pv_held(buses, gens)
               & ~_controllable_gen_bus(gens) & (pl.col("v_max_pu") != 0)
               & ((pl.col("v_max_pu") - pl.col("v_min_pu")).abs() < 1e-9))
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVALID_VALUE,
                "buses",
                "v_min_pu equals v_max_pu at a bus without a source: its voltage must be "
                "exactly that value, which almost no topology meets",
                ids=ids,
                field="v_min_pu",
                severity=Severity.WARNING,
                hint="widen the band in the data (e.g. v_min_pu 0.9, v_max_pu 1.1) or give "
                "solve --v-min 0.9 --v-max 1.1",
            )
        )
    problems += _optional_positive(buses, "buses", ("source_p_max_mw", "source_s_max_mva"),
                                   "leave the capacity empty when the source has none")
    # (a NaN, infinite or negative set-point is named above as such)
    ids = _ids(buses, pl.col("is_source") & ~(pl.col("v_set_pu") > 0)
               & ~pl.col("v_set_pu").is_nan().fill_null(False)
               & ~pl.col("v_set_pu").is_infinite().fill_null(False)
               & ~(pl.col("v_set_pu") < 0).fill_null(False))
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVALID_VALUE,
                "buses",
                "a source needs a positive voltage set-point",
                ids=ids,
                field="v_set_pu",
                hint="1.0 p.u. is the nominal voltage",
            )
        )
    problems += _source_set_point_plausibility(buses)
    if "vn_kv" in buses.columns:
        # NaN and infinity apart: "must be positive" read wrong for a NaN (user test ut35_errs
        # #4), and an infinite vn_kv passed (polars orders NaN above every number, inf > 0)
        vn = pl.col("vn_kv")
        for bad, says in ((vn.is_nan(), "nominal voltage is NaN (not a number)"),
                          (vn.is_infinite(), "nominal voltage is infinite"),
                          (~(vn > 0) & vn.is_finite(), "nominal voltage must be positive")):
            ids = _ids(buses, bad)
            if ids:
                problems.append(Problem(
                    ProblemKind.INVALID_VALUE, "buses", says, ids=ids, field="vn_kv",
                    hint="give vn_kv in kV, line to line: a positive number"))
        ids = _ids(buses, (pl.col("vn_kv") > VN_KV_MAX) & pl.col("vn_kv").is_finite())
        if ids:
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    "buses",
                    f"nominal voltage above {VN_KV_MAX:g} kV is implausible",
                    ids=ids,
                    field="vn_kv",
                    hint="vn_kv is in kV, not V: 12.66 kV is written 12.66",
                )
            )
    return problems


#: Smallest series impedance ``|z| = hypot(r, x)`` [p.u. on :data:`MAGNITUDE_BASE_MVA`] of a
#: branch that is not a switch: below it the impedance is taken as zero (refused with the same
#: hint), since the AC power flow cannot converge on it (``1e-300`` Ohm). case16am's 1e-8 Ohm
#: branch at 12.66 kV is 6e-11 p.u. and converges; 1e-6 Ohm stays accepted up to 900 kV.
IMPEDANCE_PU_MIN = 1e-12


def _per_unit_impedances(branches: pl.DataFrame, buses: pl.DataFrame) -> pl.DataFrame:
    """``id``, ``kind``, ``r_ohm``, ``x_ohm`` and ``r_pu``, ``x_pu`` (on
    :data:`MAGNITUDE_BASE_MVA`, the from bus's ``vn_kv``) of the branches whose from bus has a
    sound ``vn_kv`` (positive, finite; an unknown bus or a bad ``vn_kv`` is a problem of its
    own) and finite impedances; no rows when ``buses`` has no ``vn_kv``."""
    if not _has(buses, "id", "vn_kv") or not branches.height:
        return pl.DataFrame(schema={"id": pl.Utf8, "kind": pl.Utf8, "r_ohm": pl.Float64,
                                    "x_ohm": pl.Float64, "r_pu": pl.Float64, "x_pu": pl.Float64})
    vn = (buses.select(pl.col("id").cast(pl.Utf8).alias("from_bus"),
                       pl.col("vn_kv").cast(pl.Float64, strict=False))
          .filter(pl.col("vn_kv").is_finite() & (pl.col("vn_kv") > 0))
          .unique("from_bus", keep="first"))
    z_base = pl.col("vn_kv") ** 2 / MAGNITUDE_BASE_MVA
    return (branches.select(pl.col("id").cast(pl.Utf8), pl.col("kind").cast(pl.Utf8),
                            pl.col("from_bus").cast(pl.Utf8),
                            pl.col("r_ohm").cast(pl.Float64, strict=False),
                            pl.col("x_ohm").cast(pl.Float64, strict=False))
            .join(vn, on="from_bus", how="inner", maintain_order="left")
            .filter(pl.col("r_ohm").is_finite() & pl.col("x_ohm").is_finite())
            .select("id", "kind", "r_ohm", "x_ohm", (pl.col("r_ohm") / z_base).alias("r_pu"),
                    (pl.col("x_ohm") / z_base).alias("x_pu")))


def _huge_impedance_problems(pu: pl.DataFrame) -> list[Problem]:
    """``bad_impedance`` for each of ``r_ohm``, ``x_ohm`` whose per-unit magnitude is above
    :data:`IMPEDANCE_PU_MAX` in some rows."""
    problems: list[Problem] = []
    for col, pu_col in (("r_ohm", "r_pu"), ("x_ohm", "x_pu")):
        huge = pu.filter(pl.col(pu_col).abs() > IMPEDANCE_PU_MAX)
        if not huge.height:
            continue
        first = huge.row(0, named=True)
        problems.append(Problem(
            ProblemKind.BAD_IMPEDANCE, "branches",
            f"{col} is absurdly large: above {IMPEDANCE_PU_MAX:g} p.u. of the impedance base "
            f"vn_kv^2 / {MAGNITUDE_BASE_MVA:g} MVA (e.g. {shown_id(first['id'])}: "
            f"{first[col]:.4g} Ohm = {first[pu_col]:.3g} p.u.)",
            ids=tuple(huge["id"].to_list()), field=col,
            hint="a branch's series impedance is a fraction of an Ohm to some hundred Ohm: check "
            "the value and its unit (a line's impedance is its length in km times its Ohm/km)"))
    return problems


#: The shunt admittance columns of a branch and the total each is (:func:`_huge_shunt_problems`).
_SHUNT_COLUMNS = (("b_us", "shunt susceptance"), ("g_us", "shunt conductance"),
                  ("b_asym_us", "to-end shunt susceptance"),
                  ("g_asym_us", "to-end shunt conductance"))


def _huge_shunt_problems(branches: pl.DataFrame, buses: pl.DataFrame) -> list[Problem]:
    """``bad_impedance`` for each of ``b_us``, ``g_us`` (``b_asym_us``, ``g_asym_us``) whose
    per-unit magnitude ``|y| 1e-6 vn_kv^2 / MAGNITUDE_BASE_MVA`` (the admittance base
    ``1 MVA / vn_kv^2`` S, the from bus's ``vn_kv``) is above :data:`IMPEDANCE_PU_MAX` in some
    rows, the bound of the series impedance and of the pandapower reader's line check
    (:mod:`feederopt.io.pandapower`, on ``c_nf_per_km``, ``g_us_per_km``). Without it a folder
    or MATPOWER network with ``b = 1e300`` loaded, and its power flow did not converge. A
    non-finite value is the finite check's; a row without a sound from-bus ``vn_kv`` is
    skipped (its bus is a problem of its own)."""
    cols = [c for c, _ in _SHUNT_COLUMNS if c in branches.columns]
    if not cols or not branches.height or not _has(buses, "id", "vn_kv") \
            or not _has(branches, "id", "from_bus"):
        return []
    vn = (buses.select(pl.col("id").cast(pl.Utf8).alias("from_bus"),
                       pl.col("vn_kv").cast(pl.Float64, strict=False))
          .filter(pl.col("vn_kv").is_finite() & (pl.col("vn_kv") > 0))
          .unique("from_bus", keep="first"))
    rows = (branches.select(pl.col("id").cast(pl.Utf8), pl.col("from_bus").cast(pl.Utf8),
                            *(pl.col(c).cast(pl.Float64, strict=False) for c in cols))
            .join(vn, on="from_bus", how="inner", maintain_order="left"))
    y_base = MAGNITUDE_BASE_MVA / pl.col("vn_kv") ** 2  # S
    problems: list[Problem] = []
    for col, what in _SHUNT_COLUMNS:
        if col not in cols:
            continue
        pu = (pl.col(col) * 1e-6 / y_base).abs()
        huge = rows.filter(pl.col(col).is_finite() & (pu > IMPEDANCE_PU_MAX)).with_columns(
            pu.alias("pu"))
        if not huge.height:
            continue
        first = huge.row(0, named=True)
        problems.append(Problem(
            ProblemKind.BAD_IMPEDANCE, "branches",
            f"{col} is absurdly large: above {IMPEDANCE_PU_MAX:g} p.u. of the admittance base "
            f"{MAGNITUDE_BASE_MVA:g} MVA / vn_kv^2 (e.g. {shown_id(first['id'])}: "
            f"{first[col]:.4g} uS = {first['pu']:.3g} p.u.)",
            ids=tuple(huge["id"].to_list()), field=col,
            hint=f"a branch's {what} is its total in microsiemens (uS): "
            + ("a distribution line's charging is some uS to some thousand uS (b_us_per_km x "
               "length_km, 2 pi f C); check the value and its unit (from MATPOWER: BR_B, in "
               "p.u. of baseMVA)" if col.startswith("b") else
               "a line's dielectric conductance is next to nothing, 0 when unknown; check "
               "the value and its unit")))
    return problems


def _branch_problems(branches: pl.DataFrame, buses: pl.DataFrame) -> list[Problem]:
    problems: list[Problem] = []
    pu = _per_unit_impedances(branches, buses)
    # Impedances: NaN or negative never (but the reactance of a transformer: the star
    # equivalent of a three-winding transformer often has one negative); zero only on a switch.
    for col in ("r_ohm", "x_ohm"):
        negative = pl.col(col) < 0
        if col == "x_ohm":
            negative = negative & (pl.col("kind") != "transformer")
        bad = pl.col(col).is_nan() | pl.col(col).is_infinite() | negative
        ids = _ids(branches, bad)
        if ids:
            # which, and the value (user test ut48_iobad #9: "negative, infinite or NaN")
            values = [float(v) for v in branches.filter(bad)[col].to_list()]
            below = sorted({v for v in values if math.isfinite(v)})
            said = [w for w, hit in (
                ("NaN", any(math.isnan(v) for v in values)),
                ("infinite", any(math.isinf(v) for v in values)),
                ("negative (" + ", ".join(f"{v:g}" for v in below[:5])
                 + (" ..." if len(below) > 5 else "") + ")", bool(below))) if hit]
            problems.append(
                Problem(
                    ProblemKind.BAD_IMPEDANCE,
                    "branches",
                    f"{col} is {' or '.join(said)}",
                    ids=ids,
                    field=col,
                    hint="series impedances must be finite and non-negative (a series "
                    "capacitor, a negative reactance, is modelled only in three-phase OpenDSS "
                    "feeders)" if col == "x_ohm" else "series impedances must be finite and "
                    "non-negative",
                )
            )
    kinds = [k.value for k in BranchKind]
    # an empty (null) cell is no unknown kind: said as the required columns say it, with the
    # hint to fill it (user test ut41_pyapi #4)
    empty = _ids(branches, pl.col("kind").is_null())
    if empty:
        problems.append(
            Problem(
                ProblemKind.INVALID_VALUE,
                "branches",
                f"{len(empty)} row(s) have no value for 'kind' (the cell is empty, null)",
                ids=empty,
                field="kind",
                hint="fill it in: kind is one of " + ", ".join(kinds) + ' (e.g. "line")',
            )
        )
    ids = _ids(branches, pl.col("kind").is_not_null() & ~pl.col("kind").is_in(kinds))
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVALID_VALUE,
                "branches",
                "unknown branch kind",
                ids=ids,
                field="kind",
                hint="kind is one of " + ", ".join(kinds),
            )
        )
    if "open_end_energised" in branches.columns:
        # the schema's from/to/null (user test ut_api #8: "both" was accepted silently)
        ends = pl.col("open_end_energised")
        ids = _ids(branches, ends.is_not_null() & ~ends.is_in(["from", "to"]))
        if ids:
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "branches",
                "open_end_energised must be 'from', 'to' or null", ids=ids,
                field="open_end_energised",
                hint="the end that stays connected when the branch opens at the other one; "
                "null: it opens at both ends"))
    problems += _huge_impedance_problems(pu)
    problems += _huge_shunt_problems(branches, buses)
    # |z| below IMPEDANCE_PU_MIN is zero (np.hypot: r^2 of 1e-300 underflows, 1e300 overflows)
    rest = pu.filter((pl.col("kind") != "switch") & ((pl.col("r_ohm") != 0)
                                                     | (pl.col("x_ohm") != 0)))
    z_pu = np.hypot(rest["r_pu"].to_numpy(), rest["x_pu"].to_numpy())
    tiny = [i for i, z in zip(rest["id"].to_list(), z_pu, strict=True) if z < IMPEDANCE_PU_MIN]
    zero = (pl.col("r_ohm") == 0) & (pl.col("x_ohm") == 0) & (pl.col("kind") != "switch")
    ids = _ids(branches, zero | pl.col("id").cast(pl.Utf8).is_in(tiny))
    if ids:
        problems.append(
            Problem(
                ProblemKind.BAD_IMPEDANCE,
                "branches",
                "zero impedance on a branch that is not a switch" if not tiny else
                f"zero or negligible impedance (|z| below {IMPEDANCE_PU_MIN:g} p.u. of the "
                f"impedance base vn_kv^2 / {MAGNITUDE_BASE_MVA:g} MVA, which no AC power flow "
                "converges on) on a branch that is not a switch",
                ids=ids,
                field="r_ohm",
                hint="set kind='switch' for an ideal switch, or give the line its impedance",
            )
        )
    ids = _ids(branches, pl.col("from_bus") == pl.col("to_bus"))
    if ids:
        problems.append(
            Problem(
                ProblemKind.SELF_LOOP,
                "branches",
                "from_bus equals to_bus",
                ids=ids,
                field="to_bus",
                hint="a branch must join two different buses",
            )
        )
    problems += _optional_positive(branches, "branches", ("i_max_ka", "s_max_mva"),
                                   "leave the rating empty when the branch has none")
    for col, hint in (("b_us", "the shunt susceptance of a line, 0 when unknown"),
                      ("g_us", "the shunt conductance of a line, 0 when unknown"),
                      ("g_asym_us", "the shunt conductance added at the to end only, 0 when "
                       "none"),
                      ("b_asym_us", "the shunt susceptance added at the to end only, 0 when "
                       "none"),
                      ("switch_cost_kw", "a cost >= 0 per switching action, in kW")):
        bad = ~pl.col(col).is_finite() | ((pl.col(col) < 0) if col == "switch_cost_kw"
                                          else False)
        if col in ("g_us", "g_asym_us", "b_asym_us"):
            # a transformer's are derived by its reader from data whose own check names the
            # cause (a NaN vk_percent, a zero sn_mva): one problem, not four
            bad = bad & (pl.col("kind") != "transformer")
        ids = _ids(branches, bad)
        if ids:
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    "branches",
                    f"{col} must be a finite number" + (" >= 0" if col == "switch_cost_kw" else ""),
                    ids=ids,
                    field=col,
                    hint=hint,
                )
            )
    ids = _ids(branches, ~(pl.col("tap_ratio") > 0) | ~pl.col("tap_ratio").is_finite())
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVALID_VALUE,
                "branches",
                "tap_ratio must be a positive number",
                ids=ids,
                field="tap_ratio",
                hint="1.0 is the nominal ratio",
            )
        )
    return problems


#: Relative difference of nominal voltages above which a line or switch gets a warning: the
#: ends are on slightly different bases (20 kV and 21 kV), which the model reads as an
#: off-nominal ratio ``vn_from / vn_to`` that the user's own power flow does not have.
VN_KV_LEVEL_TOL = 0.05

#: Relative difference of nominal voltages, ``|vn_f - vn_t| / max(vn_f, vn_t)``, above which a
#: line or switch joins two voltage levels, which only a transformer does: an error. pandapower's
#: diagnostic (``DifferentVoltageLevelsConnected`` in ``pandapower/diagnostic``) flags any
#: inequality of ``vn_kv``; 10 % is the tolerance it uses for nominal-voltage mismatches, and
#: leaves room for 10 kV / 10.5 kV or 20 kV / 21 kV bus labels on one level (a warning).
VN_KV_LEVEL_ERROR_TOL = 0.10


def _voltage_level_problems(branches: pl.DataFrame, buses: pl.DataFrame) -> list[Problem]:
    """The lines and switches whose end buses have nominal voltages apart by
    ``d = |vn_f - vn_t| / max(vn_f, vn_t)``: an error when ``d`` >
    :data:`VN_KV_LEVEL_ERROR_TOL` (a 20 kV bus tied to a 0.4 kV bus: two voltage levels,
    pandapower's diagnostic ``different_voltage_levels_connected``, and its power flow does not
    converge), a warning when :data:`VN_KV_LEVEL_TOL` < ``d`` <= it. The per-unit model puts
    each end on its own base, so such a branch is a transformer of ratio ``vn_from / vn_to`` in
    the model and something else in the user's own power flow (user test ut47_ppgrid #1: a
    solve ran on it and blamed a bus behind it)."""
    vn = buses.select(pl.col("id").cast(pl.Utf8), pl.col("vn_kv").cast(pl.Float64))
    ends = (branches.filter(pl.col("kind").is_in(["line", "switch"]))
            .select(pl.col("id").cast(pl.Utf8), pl.col("from_bus").cast(pl.Utf8),
                    pl.col("to_bus").cast(pl.Utf8))
            .join(vn.rename({"id": "from_bus", "vn_kv": "vn_f"}), on="from_bus", how="inner")
            .join(vn.rename({"id": "to_bus", "vn_kv": "vn_t"}), on="to_bus", how="inner")
            .filter((pl.col("vn_f") > 0) & (pl.col("vn_t") > 0)  # NaN, inf: said apart
                    & pl.col("vn_f").is_finite() & pl.col("vn_t").is_finite())
            .with_columns(d=(pl.col("vn_f") - pl.col("vn_t")).abs()
                          / pl.max_horizontal("vn_f", "vn_t"))
            .filter(pl.col("d") > VN_KV_LEVEL_TOL))
    problems: list[Problem] = []
    for rows, severity in ((ends.filter(pl.col("d") > VN_KV_LEVEL_ERROR_TOL), Severity.ERROR),
                           (ends.filter(pl.col("d") <= VN_KV_LEVEL_ERROR_TOL),
                            Severity.WARNING)):
        if not rows.height:
            continue
        listed = rows.head(10).iter_rows(named=True)
        each = "; ".join(f"{shown_id(r['id'])}: bus {shown_id(r['from_bus'])} at {r['vn_f']:g} "
                         f"kV and bus {shown_id(r['to_bus'])} at {r['vn_t']:g} kV"
                         for r in listed) + ("; ..." if rows.height > 10 else "")
        # The bus at the other level than all its neighbours (a mistyped vn_kv) is on each
        common = set(rows["from_bus"].to_list()) | set(rows["to_bus"].to_list())
        for r in rows.iter_rows(named=True):
            common &= {r["from_bus"], r["to_bus"]}
        odd = (f"; bus {shown_id(next(iter(common)))} is on each of them"
               if len(common) == 1 and rows.height > 1 else "")
        if severity is Severity.ERROR:
            message = (f"{rows.height} line(s)/switch(es) join two voltage levels (nominal "
                       f"voltages more than {VN_KV_LEVEL_ERROR_TOL:.0%} apart), which only a "
                       f"transformer does: {each}{odd}")
            hint = ("correct the bus's vn_kv if it is a typing error (net.bus.vn_kv in "
                    "pandapower), or join the two voltage levels by a transformer (kind "
                    "'transformer' with its ratio; a pandapower trafo)")
        else:
            message = (f"{rows.height} line(s)/switch(es) join buses of different nominal "
                       f"voltage: {each}{odd}")
            hint = ("correct the bus's vn_kv, or join the two voltage levels by a transformer "
                    "(kind 'transformer' with its ratio)")
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "branches", message, ids=tuple(rows["id"].to_list()),
            field="to_bus", severity=severity, hint=hint))
    return problems


def _non_finite(df: pl.DataFrame, table: str, kind: ProblemKind, hint: str) -> list[Problem]:
    """A problem for each of ``p_mw``, ``q_mvar`` that is NaN or infinite in some rows."""
    problems: list[Problem] = []
    for col in ("p_mw", "q_mvar"):
        ids = _ids(df, pl.col(col).is_nan() | pl.col(col).is_infinite())
        if ids:
            problems.append(Problem(kind, table, f"{col} is NaN or infinite", ids=ids, field=col,
                                    hint=hint))
    return problems


def _huge_power_problems(df: pl.DataFrame, table: str, kind: ProblemKind,
                         columns: tuple[tuple[str, str], ...], hint: str,
                         factor: pl.Expr | None = None,
                         same_as: str | None = None) -> list[Problem]:
    """One problem per column of ``columns`` (name, unit) whose finite magnitude (times
    ``factor``: a shunt's steps) is above :data:`LOAD_PU_MAX` p.u. of
    :data:`MAGNITUDE_BASE_MVA` in some rows of ``df``, leaving out the rows where the column
    equals ``same_as`` (a fixed injection's limits, said once on its set-point). An infinite
    limit is no magnitude (a generator's ``q_min_mvar = -inf``: unbounded), and NaN is its own
    problem.

    Beyond the bound the model is no longer sound: a generator limit of 1e8 MW (1e8 p.u.)
    gave a tiny feeder a wrong "optimal" (its losses below those of a 1 MW limit that does not
    bind), and 1e300 overflowed (session 38)."""
    limit = LOAD_PU_MAX * MAGNITUDE_BASE_MVA
    problems: list[Problem] = []
    for col, unit in columns:
        if col not in df.columns:
            continue
        value = pl.col(col).cast(pl.Float64, strict=False)
        size = value.abs() if factor is None else value.abs() * factor
        huge = value.is_finite() & size.is_not_null() & (size > limit)
        if same_as is not None and same_as in df.columns:
            huge = huge & (value != pl.col(same_as).cast(pl.Float64, strict=False)).fill_null(True)
        ids = _ids(df, huge)
        if ids:
            what = col if factor is None else f"{col} times the steps"
            problems.append(Problem(
                kind, table,
                f"{what} is absurdly large: above {limit:g} {unit} "
                f"({LOAD_PU_MAX:g} p.u. of {MAGNITUDE_BASE_MVA:g} MVA)",
                ids=ids, field=col, hint=hint.format(col=col, unit=unit)))
    return problems


def _load_problems(loads: pl.DataFrame) -> list[Problem]:
    problems = _non_finite(loads, "loads", ProblemKind.BAD_LOAD, "give every load a finite value")
    problems += _huge_power_problems(
        loads, "loads", ProblemKind.BAD_LOAD, (("p_mw", "MW"), ("q_mvar", "MVAr")),
        "{col} is in {unit}: 500 kW is written 0.5; check the value and its unit")
    ids = _ids(loads, pl.col("p_mw") < 0)
    if ids:
        problems.append(
            Problem(
                ProblemKind.BAD_LOAD,
                "loads",
                "p_mw is negative",
                ids=ids,
                field="p_mw",
                hint=_injection_hint(loads.filter(pl.col("p_mw") < 0)),
            )
        )
    return problems


def _injection_hint(negative: pl.DataFrame) -> str:
    """How to write the first negative load of ``negative`` as the injection it is: a row of
    the generators table with the opposite power (``p_mw = -p``, ``q_mvar = -q``), the loads
    row removed (user test ut50_iobad #5: the hint said only "a row of the generators
    table"). A negative load is refused rather than turned round, so that a sign slip is not
    read as generation; MATPOWER's negative ``Pd`` is converted, its own convention."""
    row = negative.row(0, named=True)
    p = -float(row["p_mw"])
    q = row.get("q_mvar")
    q = -float(q) if isinstance(q, int | float) and math.isfinite(q) and q != 0 else None
    header = "id,bus,p_mw" + (",q_mvar" if q is not None else "")
    values = f"{row.get('id')},{row.get('bus')},{p:g}" + (f",{q:g}" if q is not None else "")
    return (f"write the injection as a row of the generators table with a positive p_mw, and "
            f"remove the load's row: generators.csv '{header}' with '{values}' (a fixed "
            "injection; add p_min_mw and p_max_mw for a range); a negative load is refused, "
            "not turned round, so that a sign slip is not read as generation")


def _generator_problems(gens: pl.DataFrame) -> list[Problem]:
    # a NaN or infinite set-point, limit or cost is the one rule of the device numbers
    # (feederopt.network.devices.DEVICE_NUMBERS, said by device_problems); the checks here
    # look at sound numbers only
    # a 1e300 MW set-point or limit overflowed the model's flow bounds (OverflowError, exit 1;
    # session 38); an infinite limit stays an unbounded one
    problems = _huge_power_problems(
        gens, "generators", ProblemKind.INVALID_VALUE, (("p_mw", "MW"), ("q_mvar", "MVAr")),
        "{col} is in {unit}: 500 kW is written 0.5; check the value and its unit")
    problems += _huge_power_problems(
        gens, "generators", ProblemKind.INVALID_VALUE, (("p_min_mw", "MW"), ("p_max_mw", "MW")),
        "{col} is in {unit}: 500 kW is written 0.5; check the value and its unit",
        same_as="p_mw")
    problems += _huge_power_problems(
        gens, "generators", ProblemKind.INVALID_VALUE,
        (("q_min_mvar", "MVAr"), ("q_max_mvar", "MVAr")),
        "{col} is in {unit}: 500 kvar is written 0.5; check the value and its unit (a "
        "reactive limit without bound is -inf or inf)", same_as="q_mvar")
    # A NaN limit is a value to give, not an inverted range: "swap the limits" sent the user
    # to the other column (user test ut46_dopf #4a); nor is an infinite active limit
    for lo, hi in (("p_min_mw", "p_max_mw"), ("q_min_mvar", "q_max_mvar")):
        if not _has(gens, lo, hi):
            continue
        ids = _ids(gens, (pl.col(lo) > pl.col(hi)) & sound_number("generators", lo)
                   & sound_number("generators", hi))  # polars orders NaN above every number
        if ids:
            problems.append(
                Problem(
                    ProblemKind.INVERTED_LIMITS,
                    "generators",
                    f"{lo} is above {hi}",
                    ids=ids,
                    field=lo,
                    hint="swap the limits",
                )
            )
    return problems + _set_points_outside_limits(gens) + _consumer_sign_generators(gens)


def _consumer_sign_generators(gens: pl.DataFrame) -> list[Problem]:
    """A warning naming the in-service generators with a fixed negative output (``p_mw < 0``,
    ``p_min_mw = p_max_mw`` or not given): a generator table gives generation positive
    (generator sign), and a PV export in consumer sign (-0.373 for 373 kW of PV) turned every
    unit into a load, silently (user test ut44_gis #25). A range (``p_min_mw < p_max_mw``: a
    dispatchable load of MATPOWER) is left alone, and so are the generators that stand for
    another pandapower element (a ``dcline``'s sending end, a ``storage``); a warning: the
    network is used."""
    if not _has(gens, "id", "p_mw"):
        return []
    p = pl.col("p_mw").cast(pl.Float64, strict=False)
    fixed = pl.lit(True)
    if {"p_min_mw", "p_max_mw"} <= set(gens.columns):
        lo, hi = (pl.col(c).cast(pl.Float64, strict=False) for c in ("p_min_mw", "p_max_mw"))
        fixed = lo.is_null() | hi.is_null() | (lo == hi)
    live = pl.col("in_service").fill_null(True) if "in_service" in gens.columns else pl.lit(True)
    if "pp_element" in gens.columns:  # a dcline's sending end, a storage: negative by design
        live = live & (pl.col("pp_element").is_null()
                       | pl.col("pp_element").cast(pl.String).is_in(["sgen", "gen"]))
    ids = _ids(gens, live & (p < 0) & p.is_finite() & fixed)  # -inf: the rule's
    if not ids:
        return []
    return [Problem(
        ProblemKind.INVALID_VALUE, "generators",
        f"{len(ids)} generator(s) with a fixed negative p_mw consume power: a generator's p_mw "
        "is its output, positive (generator sign)", ids=ids, field="p_mw",
        severity=Severity.WARNING,
        hint="if the values are in consumer sign (a PV export: -0.373 for 0.373 MW of "
        "output), write them positive; a consumer belongs in the loads table")]


#: How far [MW or MVAr] a set-point may lie outside its limits before it is refused: the
#: residue of a unit conversion, not a different value.
SET_POINT_LIMIT_TOLERANCE = 1e-9


def _set_points_outside_limits(gens: pl.DataFrame) -> list[Problem]:
    """An error per set-point (``p_mw``; ``q_mvar`` of a generator that holds no voltage)
    that lies outside the limits the row gives, naming the generators, the columns and the
    values. The base case and the AC check run a generator at its set-point and the optimiser
    within its limits (:data:`~feederopt.network.schemas.SET_POINT_RANGES`: a row without
    either limit is held at its set-point), so the two would be two different networks. An
    out-of-service generator is not checked, nor a committable one at 0 (off in the base case,
    :func:`~feederopt.network.devices.fixed_at_base`). A null limit reads 0, as
    :func:`~feederopt.network.perunit.to_per_unit` reads it. A voltage-controlling generator's
    ``q_mvar`` (``v_set_pu`` given) is but where its reactive power starts. Inverted limits
    are left to their own ``inverted_limits`` problem."""
    problems = []
    live = pl.col("in_service").fill_null(True) if "in_service" in gens.columns else pl.lit(True)
    off = (pl.col("committable").fill_null(False) if "committable" in gens.columns
           else pl.lit(False))
    pq = (pl.col("v_set_pu").is_null() | pl.col("v_set_pu").is_nan()
          if "v_set_pu" in gens.columns else pl.lit(True))
    for point, lo, hi, unit, which in (("p_mw", "p_min_mw", "p_max_mw", "MW", pl.lit(True)),
                                       ("q_mvar", "q_min_mvar", "q_max_mvar", "MVAr", pq)):
        if not _has(gens, point, lo, hi):
            continue
        x, a, b = pl.col(point), pl.col(lo).fill_null(0.0), pl.col(hi).fill_null(0.0)
        tol = SET_POINT_LIMIT_TOLERANCE * pl.max_horizontal(pl.lit(1.0), a.abs(), b.abs())
        outside = ((x < a - tol) | (x > b + tol)).fill_null(False)
        # inverted limits (a > b) hold no set-point at all: their own problem says so; a NaN
        # or infinite set-point or limit is the one rule's (DEVICE_NUMBERS), said once: a NaN
        # p_mw was also "p_mw nan outside p_min_mw..p_max_mw" (user test ut48_dopf #5)
        sound = (sound_number("generators", point)
                 & (pl.col(lo).is_null() | sound_number("generators", lo))
                 & (pl.col(hi).is_null() | sound_number("generators", hi)))
        mask = live & which & outside & ~(off & (x == 0)) & sound & (a <= b)
        rows = gens.filter(mask)
        if not rows.height:
            continue
        shown = "; ".join(
            f"{shown_id(i)} {point} {v:g} outside {lo}..{hi} = "
            f"{0.0 if m is None else m:g}..{0.0 if n is None else n:g}"
            for i, v, m, n in zip(rows["id"].to_list()[:5], rows[point].to_list()[:5],
                                  rows[lo].to_list()[:5], rows[hi].to_list()[:5], strict=True))
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "generators",
            f"{rows.height} generator(s) have {point} outside the limits given: {shown}"
            + (" ..." if rows.height > 5 else ""),
            ids=tuple(str(i) for i in rows["id"].to_list()), field=point,
            hint=f"give {point} within {lo}..{hi} [{unit}] (the base case and the AC check run "
            f"the generator at {point}, the optimiser within the limits), or leave {lo} and "
            f"{hi} out (empty cells) for a fixed injection at {point}"))
    return problems


def _shunt_problems(shunts: pl.DataFrame) -> list[Problem]:
    # (a NaN or infinite q_mvar_per_step or p_mw_per_step is the one rule of the device
    # numbers: feederopt.network.devices.DEVICE_NUMBERS)
    problems: list[Problem] = []
    # P = step * p_mw_per_step * |V|^2 is consumption (a lossy bank): a negative one
    # generates active power (user test ut38_mixed #2). A bank whose step the optimiser
    # chooses would be a free generator it switches in to "lower the losses": refused. A fixed
    # one is modelled as given, as pandapower's runpp (a negative shunt p_mw, a ward's pz_mw)
    # and MATPOWER (GS) run it, which network equivalents use: a warning names it. A charged
    # line open at its far end (open_branch_end) takes its P from the line's data.
    own = ~pl.col("open_branch_end").fill_null(False) if "open_branch_end" in shunts.columns \
        else pl.lit(True)
    negative = own & sound_number("shunts", "p_mw_per_step") & (
        pl.col("p_mw_per_step").cast(pl.Float64, strict=False) < 0)
    chosen = (pl.col("controllable").fill_null(False) if "controllable" in shunts.columns
              else pl.lit(False))
    for mask, severity, what in ((negative & chosen, Severity.ERROR,
                                  "the optimiser would switch in a source of active power"),
                                 (negative & ~chosen, Severity.WARNING,
                                  "the shunt produces active power (modelled as given)")):
        ids = _ids(shunts, mask)
        if ids:
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "shunts", f"p_mw_per_step is negative: {what}",
                ids=ids, field="p_mw_per_step", severity=severity,
                hint="a lossy bank consumes: p_mw_per_step >= 0 (0 for a lossless one; "
                "pandapower's shunt p_mw, a ward's pz_mw and MATPOWER's GS are consumption "
                "too); a source of active power is a generator"))
    steps = pl.max_horizontal(pl.lit(1.0), pl.col("max_steps").cast(pl.Float64, strict=False),
                              pl.col("step").cast(pl.Float64, strict=False))
    problems += _huge_power_problems(
        shunts, "shunts", ProblemKind.INVALID_VALUE,
        (("q_mvar_per_step", "MVAr"), ("p_mw_per_step", "MW")),
        "{col} is in {unit} per step at 1 p.u.: a 600 kvar bank is written 0.6; check the value, "
        "its unit and max_steps", factor=steps)
    for col in ("step", "max_steps"):
        ids = _ids(shunts, pl.col(col).is_null() | (pl.col(col) < 0))
        if ids:
            problems.append(Problem(ProblemKind.INVALID_VALUE, "shunts",
                                    f"{col} must be a whole number >= 0", ids=ids, field=col,
                                    hint="steps are counted from 0"))
    return problems


def _source_problems(net: Network, bus_ids: set[str]) -> list[Problem]:
    """No source; islands that no source can reach over in-service branches that can close
    (open or closed, but not fixed open); a network without branches as one problem."""
    buses, branches = net.buses, net.branches
    sources = buses.filter(pl.col("is_source").fill_null(False))
    if sources.height == 0:
        return [
            Problem(
                ProblemKind.NO_SOURCE,
                "buses",
                "the network has no source (slack) bus",
                field="is_source",
                hint="mark the substation bus with is_source=true",
            )
        ]
    usable = branches.filter(
        pl.col("in_service").fill_null(True)
        & ~(~pl.col("switchable").fill_null(False) & pl.col("normally_open").fill_null(False))
        & pl.col("from_bus").is_in(list(bus_ids))
        & pl.col("to_bus").is_in(list(bus_ids))
    )
    if usable.height == 0 and buses.height > sources.height:
        return [
            Problem(
                ProblemKind.ISLAND_WITHOUT_SOURCE,
                "branches",
                f"the network has no in-service branch that can close, so "
                f"{buses.height - sources.height} bus(es) cannot be supplied",
                hint="add the branches (lines, transformers, switches) that join the buses",
            )
        ]
    # each id once: a duplicated bus id (its own problem) is one bus here, not a second one
    # that no branch reaches (a false island)
    ids = list(dict.fromkeys(str(b) for b in buses["id"].to_list()))
    index = {b: i for i, b in enumerate(ids)}
    f = [index[b] for b in usable["from_bus"].to_list()]
    t = [index[b] for b in usable["to_bus"].to_list()]
    labels = components_of(len(ids), f, t)
    source_labels = {int(labels[index[str(b)]]) for b in sources["id"].to_list()}
    problems: list[Problem] = []
    groups: dict[int, list[str]] = {}
    for bus, lab in zip(ids, labels, strict=True):
        if int(lab) not in source_labels:
            groups.setdefault(int(lab), []).append(bus)
    # A branch to a bus that does not exist (unknown_bus) may be what joins an island to a
    # source, and which island it would join is unknown until the reference is corrected:
    # the islands are consequences of that reference, not further problems (user test
    # ut33_dopf #4: a trafo to bus 99 also "cut off" its whole feeder).
    if branches.filter(pl.col("in_service").fill_null(True)
                       & (~pl.col("from_bus").is_in(list(bus_ids))
                          | ~pl.col("to_bus").is_in(list(bus_ids)))).height:
        return problems
    # a source with no branch that can close at it supplies nothing: a transformer's from_bus
    # given as another substation's bus left S1-HV alone, and its feeders were fed from S2
    # without a word (user test ut44_gis #13); a warning (a spare source bus may be meant)
    joined = set(usable["from_bus"].cast(pl.String).to_list()) | set(
        usable["to_bus"].cast(pl.String).to_list())
    lonely = sorted(str(b) for b in sources["id"].to_list() if str(b) not in joined)
    if lonely and buses.height > sources.height:
        problems.append(Problem(
            ProblemKind.ISLAND_WITHOUT_SOURCE, "buses",
            f"{len(lonely)} source bus(es) with no branch that can close: they supply nothing",
            ids=tuple(lonely), field="is_source", severity=Severity.WARNING,
            hint="check the from_bus and to_bus of the branches (a transformer given from "
            "another substation's bus?), or set is_source=false"))
    for members in groups.values():
        problems.append(
            Problem(
                ProblemKind.ISLAND_WITHOUT_SOURCE,
                "buses",
                f"{len(members)} bus(es) form an island that no source can reach",
                ids=tuple(sorted(members)),
                hint="connect the island with a branch that can close (a fixed-open branch "
                "never does), or mark one of its buses as source",
            )
        )
    return problems


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
