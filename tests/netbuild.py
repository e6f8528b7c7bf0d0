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


def tiny_pandapower_losses_kw(open_ids: set[str],
                              sgen: tuple[str, float, float] | None = None) -> float:
    """pandapower's Newton-Raphson losses [kW] of the tiny feeder with the branches
    ``open_ids`` open (a line left out, a bus-bus switch opened) and an optional sgen
    ``(bus, p_mw, q_mvar)``: a reference built from the tables by hand, not by feederopt."""
    import pandapower as pp

    t = tiny_tables()
    net = pp.create_empty_network(sn_mva=1.0)
    idx = {b: pp.create_bus(net, vn_kv=12.66) for b in t["buses"]["id"].to_list()}
    pp.create_ext_grid(net, idx["s"], vm_pu=1.0)
    for row in t["branches"].iter_rows(named=True):
        a, b = idx[row["from_bus"]], idx[row["to_bus"]]
        if row["kind"] == "switch":
            pp.create_switch(net, a, b, et="b", closed=row["id"] not in open_ids)
        elif row["id"] not in open_ids:
            pp.create_line_from_parameters(net, a, b, length_km=1.0, r_ohm_per_km=row["r_ohm"],
                                           x_ohm_per_km=row["x_ohm"], c_nf_per_km=0.0,
                                           max_i_ka=10.0)
    for row in t["loads"].iter_rows(named=True):
        pp.create_load(net, idx[row["bus"]], p_mw=row["p_mw"], q_mvar=row["q_mvar"])
    if sgen is not None:
        pp.create_sgen(net, idx[sgen[0]], p_mw=sgen[1], q_mvar=sgen[2])
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum() * 1000.0)
