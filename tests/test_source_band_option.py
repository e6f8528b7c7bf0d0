"""``--v-min``/``--v-max`` and a source's own voltage.

A source's bus without an OLTC holds its set-point (MATPOWER's Vm of case33bw's slack bus 1:
1.0 p.u.; a pandapower ext_grid's vm_pu), which no decision moves and no band binds: the
options apply to every other bus and leave its own band (user test ut33_dopf #3: ``--v-min
1.035`` behind an OLTC transformer was refused for the 1.0 p.u. of the 110 kV ext_grid bus).
A source with an OLTC is the OLTC's secondary side, whose voltage the solve chooses among the
positions: the options apply to it, and limits that no position reaches are refused up front
(ut_core #1: the solve could only end "infeasible" with the source as its worst violation)."""

from __future__ import annotations

import polars as pl

from feederopt import load
from feederopt.options import crossed_limit_problems, source_band_problems


def test_a_source_held_at_its_set_point_keeps_its_own_band() -> None:
    net = load("case33bw")
    buses = net.buses
    # case33bw.m: bus 1 is the slack (Vm 1, Vmax 1, Vmin 1); the others 0.9..1.1
    assert source_band_problems(buses, 0.9, 0.99) == []
    assert source_band_problems(buses, 1.01, None) == []
    assert crossed_limit_problems(buses, None, 0.95) == []  # the source's v_min 1 is its own
    limited = net.with_limits(v_min_pu=0.9, v_max_pu=0.99).buses
    band = {r["id"]: (r["v_min_pu"], r["v_max_pu"]) for r in limited.iter_rows(named=True)}
    assert band["1"] == (1.0, 1.0)
    assert {v for k, v in band.items() if k != "1"} == {(0.9, 0.99)}
    # the other buses' v_min (0.9) still meet a --v-max given alone
    assert crossed_limit_problems(buses, None, 0.85)


def test_an_oltc_source_takes_the_options_and_must_reach_them() -> None:
    net = load("case33bw")
    oltc = net.buses.with_columns(
        pl.when(pl.col("is_source")).then(0.9).otherwise(None).alias("tap_min_pu"),
        pl.when(pl.col("is_source")).then(1.1).otherwise(None).alias("tap_max_pu"))
    assert source_band_problems(oltc, 0.9, 0.99) == []  # ratio 0.9..0.99 holds it
    low = source_band_problems(oltc, None, 0.85)  # 1.0 x 0.9 = 0.9 > 0.85
    assert [p.ids for p in low] == [("1",)] and "at least 0.9" in str(low[0])
    high = source_band_problems(oltc, 1.15, None)
    assert [p.ids for p in high] == [("1",)] and "at most 1.1" in str(high[0])
    limited = net.replace(buses=oltc).with_limits(v_min_pu=0.95, v_max_pu=1.05).buses
    assert set(zip(limited["v_min_pu"], limited["v_max_pu"], strict=True)) == {(0.95, 1.05)}
