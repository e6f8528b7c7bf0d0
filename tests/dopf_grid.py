"""A small feeder with every kind of controllable device, for the DOPF tests."""

from __future__ import annotations

import polars as pl

from feederopt.network import Network
from netbuild import tiny_tables


def device_tables(dg_cost: float = 60.0, flex_price: float = 500.0,
                  fixed_cost: float = 1.0, tap_cost: float = 0.0) -> dict[str, pl.DataFrame]:
    """The tiny feeder (netbuild) with an OLTC at the source (0.95..1.05, step 0.025), a
    3-step capacitor bank at c, a committable 0.3 MW generator at b and 20 % flexible loads."""
    t = tiny_tables()
    src = pl.col("id") == "s"
    t["buses"] = t["buses"].with_columns(
        pl.when(src).then(0.95).otherwise(None).alias("tap_min_pu"),
        pl.when(src).then(1.05).otherwise(None).alias("tap_max_pu"),
        pl.when(src).then(0.025).otherwise(None).alias("tap_step_pu"),
        pl.lit(tap_cost).alias("tap_cost_kw"),
        pl.lit(0.95).alias("v_min_pu"), pl.lit(1.05).alias("v_max_pu"))
    t["shunts"] = pl.DataFrame({"id": ["C1"], "bus": ["c"], "q_mvar_per_step": [0.1],
                                "max_steps": [3], "controllable": [True]})
    t["generators"] = pl.DataFrame({
        "id": ["G1"], "bus": ["b"], "p_max_mw": [0.3], "q_min_mvar": [-0.1],
        "q_max_mvar": [0.1], "cost_per_mwh": [dg_cost], "fixed_cost_per_h": [fixed_cost],
        "committable": [True]})
    t["loads"] = t["loads"].with_columns(pl.lit(0.2).alias("flex_share"),
                                         pl.lit(flex_price).alias("flex_price_per_mwh"))
    return t


def device_grid(**kwargs: float) -> Network:
    return Network.from_tables(**device_tables(**kwargs), name="tiny_devices").check()


def tap_grid_tables(load_scale: float = 2.0) -> dict[str, pl.DataFrame]:
    """The tiny feeder behind a 12.66/12.66 kV regulating transformer T1 (hv bus h, the
    source) whose ratio the DOPF chooses among 9 positions from 0.95 to 1.05; limits
    [0.95, 1.04] p.u. at every bus (the highest voltage binds the lowest ratio)."""
    t = tiny_tables()
    t["buses"] = pl.concat([
        pl.DataFrame({"id": ["h"], "vn_kv": [12.66], "is_source": [True]}),
        t["buses"].with_columns(pl.lit(False).alias("is_source"))],
    ).with_columns(pl.lit(0.95).alias("v_min_pu"), pl.lit(1.04).alias("v_max_pu"))
    tr = pl.DataFrame({
        "id": ["T1"], "from_bus": ["h"], "to_bus": ["s"], "r_ohm": [0.2], "x_ohm": [1.2],
        "kind": ["transformer"], "switchable": [False], "normally_open": [False],
        "s_max_mva": [5.0], "tap_ratio": [1.0], "tap_min_ratio": [0.95],
        "tap_max_ratio": [1.05], "tap_steps": [9], "tap_controllable": [True]})
    # the lines' tap_controllable: false (an empty cell of a true/false column is refused)
    t["branches"] = pl.concat([tr, t["branches"]], how="diagonal_relaxed").with_columns(
        pl.col("tap_controllable").fill_null(False))
    t["loads"] = t["loads"].with_columns(pl.col("p_mw") * load_scale,
                                         pl.col("q_mvar") * load_scale)
    return t


def tap_grid(**kwargs: float) -> Network:
    return Network.from_tables(**tap_grid_tables(**kwargs), name="tiny_oltc").check()
