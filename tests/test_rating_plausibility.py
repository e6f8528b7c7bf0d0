"""A current rating typed in amperes into ``i_max_ka`` (400 for 400 A) is a limit that never
binds: a warning names the branches (user test ut_io #8). Placeholders for "no rating"
(pandapower's 99999 kA) and real ratings are quiet."""

from __future__ import annotations

import polars as pl
import pytest

from feederopt.cases import load


@pytest.mark.parametrize(("rating", "warned"), [(400.0, True), (0.4, False), (99999.0, False),
                                                (None, False)])
def test_a_rating_in_amperes_is_named(rating: float | None, warned: bool) -> None:
    net = load("case33bw")
    net = net.replace(branches=net.branches.with_columns(
        pl.when(pl.col("id") == "5").then(pl.lit(rating, dtype=pl.Float64))
        .otherwise(pl.lit(0.4)).alias("i_max_ka")))
    found = [w for w in net.warnings() if w.field == "i_max_ka"]
    assert bool(found) is warned
    if warned:
        assert found[0].ids == ("5",)


@pytest.mark.parametrize("case", ["case33bw", "case69bw", "cigre_mv", "example_multivoltage"])
def test_built_in_cases_are_quiet(case: str) -> None:
    assert not [w for w in load(case).warnings() if w.field == "i_max_ka"]
