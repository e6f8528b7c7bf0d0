"""A small hand-made feeder for tests, and helpers to break it in one way at a time."""

from __future__ import annotations

import polars as pl

from feederopt.network import Network


def tiny_tables() -> dict[str, pl.DataFrame]:
    """Source s; lines s-a, a-b, b-c; an ideal switch c-d; a normally-open tie s-c."""
    buses = pl.DataFrame(
        {
            "id": ["s", "a", "b", "c", "d"],
            "vn_kv": [12.66] * 5,
            "is_source": [True, False, False, False, False],
        }
    )
    branches = pl.DataFrame(
        {
            "id": ["l1", "l2", "l3", "sw1", "tie1"],
            "from_bus": ["s", "a", "b", "c", "s"],
            "to_bus": ["a", "b", "c", "d", "c"],
            "r_ohm": [0.3, 0.4, 0.5, 0.0, 1.0],
            "x_ohm": [0.2, 0.3, 0.3, 0.0, 0.8],
            "kind": ["line", "line", "line", "switch", "line"],
            "switchable": [False, True, True, True, True],
            "normally_open": [False, False, False, False, True],
        }
    )
    loads = pl.DataFrame(
        {
            "id": ["La", "Lb", "Lc", "Ld"],
            "bus": ["a", "b", "c", "d"],
            "p_mw": [0.2, 0.3, 0.25, 0.1],
            "q_mvar": [0.1, 0.15, 0.1, 0.05],
        }
    )
    return {"buses": buses, "branches": branches, "loads": loads}


def tiny(**tables: pl.DataFrame) -> Network:
    """The tiny feeder, with some of its tables replaced."""
    t = tiny_tables()
    t.update(tables)
    return Network.from_tables(**t, name="tiny")


def set_value(df: pl.DataFrame, row_id: str, column: str, value: object) -> pl.DataFrame:
    """``df`` with ``column`` set to ``value`` in the row whose id is ``row_id``."""
    return df.with_columns(
        pl.when(pl.col("id") == row_id)
        .then(pl.lit(value, dtype=df.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )
