"""Consistency checks of a network's tables.

:func:`validate` collects every problem it finds as a typed :class:`Problem` (it never stops at
the first one, and it never uses ``assert``); :meth:`Network.check` raises them together as an
:class:`InputError`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import patito as pt
import polars as pl

from feederopt.network.errors import Problem, ProblemKind
from feederopt.network.schemas import TABLES
from feederopt.network.topology import connected_components

if TYPE_CHECKING:
    from feederopt.network.container import Network


def _ids(df: pl.DataFrame, mask: pl.Expr) -> tuple[str, ...]:
    return tuple(str(v) for v in df.filter(mask)["id"].to_list())


def _schema_problems(name: str, model: type[pt.Model], df: pl.DataFrame) -> list[Problem]:
    problems: list[Problem] = []
    for col in model.columns:
        field = model.model_fields[col]
        if col not in df.columns and field.is_required():
            problems.append(
                Problem(
                    ProblemKind.MISSING_COLUMN,
                    name,
                    f"required column '{col}' is missing",
                    field=col,
                    hint=f"add a '{col}' column: {field.description or ''}".strip(),
                )
            )
    if problems:
        return problems
    required = [c for c in model.columns if model.model_fields[c].is_required()]
    for col in required:
        nulls = df.filter(pl.col(col).is_null())
        if nulls.height and "id" in df.columns:
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    name,
                    f"{nulls.height} row(s) have no value for '{col}'",
                    ids=tuple(str(v) for v in nulls["id"].to_list()),
                    field=col,
                    hint="fill in the value or remove the row",
                )
            )
    return problems


def validate(net: Network) -> list[Problem]:
    """Return every problem in ``net``; an empty list means the network is usable."""
    problems: list[Problem] = []
    tables = net.tables()
    for name, model in TABLES.items():
        problems += _schema_problems(name, model, tables[name])
    if problems:
        return problems

    buses, branches, loads, gens = net.buses, net.branches, net.loads, net.generators

    # Duplicate ids, in every table.
    for name, df in tables.items():
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

    # References to buses that do not exist.
    bus_ids = set(buses["id"].to_list())
    refs = [("branches", "from_bus"), ("branches", "to_bus")]
    refs += [(name, "bus") for name in ("loads", "generators", "shunts")]
    for name, col in refs:
        df = tables[name]
        bad = df.filter(~pl.col(col).is_in(list(bus_ids)))
        if bad.height:
            missing = sorted(set(map(str, bad[col].to_list())))
            problems.append(
                Problem(
                    ProblemKind.UNKNOWN_BUS,
                    name,
                    f"refers to unknown bus(es) {', '.join(missing[:10])}",
                    ids=tuple(map(str, bad["id"].to_list())),
                    field=col,
                    hint="add the bus to the buses table or correct the reference",
                )
            )

    # Voltage limits and set-points.
    bad_v = (
        pl.col("v_min_pu").is_nan()
        | pl.col("v_max_pu").is_nan()
        | (pl.col("v_min_pu") > pl.col("v_max_pu"))
    )
    ids = _ids(buses, bad_v)
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVERTED_LIMITS,
                "buses",
                "v_min_pu is above v_max_pu (or NaN)",
                ids=ids,
                field="v_min_pu",
                hint="swap the limits; typical values are 0.9 and 1.1 p.u.",
            )
        )
    ids = _ids(buses, ~(pl.col("vn_kv") > 0) | pl.col("vn_kv").is_nan())
    if ids:
        problems.append(
            Problem(
                ProblemKind.INVALID_VALUE,
                "buses",
                "nominal voltage must be positive",
                ids=ids,
                field="vn_kv",
                hint="give vn_kv in kV, line to line",
            )
        )

    # Impedances: NaN or negative never (but the reactance of a transformer: the star
    # equivalent of a three-winding transformer often has one negative); zero only on a switch.
    for col in ("r_ohm", "x_ohm"):
        negative = pl.col(col) < 0
        if col == "x_ohm":
            negative = negative & (pl.col("kind") != "transformer")
        ids = _ids(branches, pl.col(col).is_nan() | pl.col(col).is_infinite() | negative)
        if ids:
            problems.append(
                Problem(
                    ProblemKind.BAD_IMPEDANCE,
                    "branches",
                    f"{col} is negative, infinite or NaN",
                    ids=ids,
                    field=col,
                    hint="series impedances must be finite and non-negative",
                )
            )
    zero = (pl.col("r_ohm") == 0) & (pl.col("x_ohm") == 0) & (pl.col("kind") != "switch")
    ids = _ids(branches, zero)
    if ids:
        problems.append(
            Problem(
                ProblemKind.BAD_IMPEDANCE,
                "branches",
                "zero impedance on a branch that is not a switch",
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
    for col in ("i_max_ka", "s_max_mva"):
        ids = _ids(branches, pl.col(col).is_not_null() & ~(pl.col(col) > 0))
        if ids:
            problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    "branches",
                    f"{col} must be positive (or empty for no limit)",
                    ids=ids,
                    field=col,
                    hint="leave the rating empty when the branch has none",
                )
            )

    # Loads: finite, and consumption not negative.
    for col in ("p_mw", "q_mvar"):
        ids = _ids(loads, pl.col(col).is_nan() | pl.col(col).is_infinite())
        if ids:
            problems.append(
                Problem(
                    ProblemKind.BAD_LOAD,
                    "loads",
                    f"{col} is NaN or infinite",
                    ids=ids,
                    field=col,
                    hint="give every load a finite value",
                )
            )
    ids = _ids(loads, pl.col("p_mw") < 0)
    if ids:
        problems.append(
            Problem(
                ProblemKind.BAD_LOAD,
                "loads",
                "p_mw is negative",
                ids=ids,
                field="p_mw",
                hint="model an injection as a row of the generators table",
            )
        )

    # Generator limits.
    for lo, hi in (("p_min_mw", "p_max_mw"), ("q_min_mvar", "q_max_mvar")):
        inverted = pl.col(lo).is_nan() | pl.col(hi).is_nan() | (pl.col(lo) > pl.col(hi))
        ids = _ids(gens, inverted)
        if ids:
            problems.append(
                Problem(
                    ProblemKind.INVERTED_LIMITS,
                    "generators",
                    f"{lo} is above {hi} (or NaN)",
                    ids=ids,
                    field=lo,
                    hint="swap the limits",
                )
            )

    if problems:
        return problems

    # Sources and islands: every connected part of the grid (all in-service branches, open or
    # closed) needs a source.
    sources = buses.filter(pl.col("is_source"))
    if sources.height == 0:
        problems.append(
            Problem(
                ProblemKind.NO_SOURCE,
                "buses",
                "the network has no source (slack) bus",
                field="is_source",
                hint="mark the substation bus with is_source=true",
            )
        )
        return problems
    comps = connected_components(net, include_open=True)
    source_set = set(sources["id"].to_list())
    for comp in comps:
        if not source_set.intersection(comp):
            members = sorted(comp)
            problems.append(
                Problem(
                    ProblemKind.ISLAND_WITHOUT_SOURCE,
                    "buses",
                    f"{len(members)} bus(es) form an island that no source can reach",
                    ids=tuple(members),
                    hint="connect the island with a branch or mark one of its buses as source",
                )
            )
    return problems


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
