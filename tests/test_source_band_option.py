"""``--v-min``/``--v-max`` that exclude a source's own voltage are refused up front (ut_core
#1): the source holds its set-point (MATPOWER's Vm of case33bw's slack bus 1: 1.0 p.u.), which
no switching moves, so the solve could only end "infeasible" with the source as its worst
violation. With an OLTC at the source the ratio range counts."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from feederopt import load
from feederopt.cli import app
from feederopt.options import crossed_limit_problems, source_band_problems

runner = CliRunner()


def test_v_max_below_the_source_set_point_names_the_source() -> None:
    res = runner.invoke(app, ["solve", "case33bw", "--v-min", "0.9", "--v-max", "0.99"])
    assert res.exit_code == 2
    assert "source bus(es) 1 at 1 p.u." in res.output and "at least 1" in res.output
    # alone, --v-max 0.99 crosses only the source's own v_min (1.0): one problem, the source's
    res = runner.invoke(app, ["solve", "case33bw", "--v-max", "0.99"])
    assert res.exit_code == 2
    assert "source bus(es) 1" in res.output and "give --v-min too" not in res.output


def test_limits_that_keep_the_source_pass_and_an_oltc_reaches_them() -> None:
    buses = load("case33bw").buses
    assert source_band_problems(buses, 0.9, 1.0) == []
    assert source_band_problems(buses, 1.0, None) == []
    low = source_band_problems(buses, 1.01, None)
    assert [p.ids for p in low] == [("1",)] and "at most 1" in str(low[0])
    # the other buses' v_min (0.9) still meet a --v-max given alone
    assert crossed_limit_problems(buses, None, 0.85)
    oltc = buses.with_columns(pl.when(pl.col("is_source")).then(0.9).otherwise(None)
                              .alias("tap_min_pu"),
                              pl.when(pl.col("is_source")).then(1.1).otherwise(None)
                              .alias("tap_max_pu"))
    assert source_band_problems(oltc, 0.9, 0.99) == []  # ratio 0.9..0.99 holds it
    assert source_band_problems(oltc, None, 0.85)  # 1.0 x 0.9 = 0.9 > 0.85
