"""``Network.replace`` types a table as ``Network.from_tables`` does (user test ut_api2):
a String ``p_mw`` or ``r_ohm`` failed inside Polars' validation (``is_nan not supported for
dtype str``), a pandas frame with an AttributeError."""

from __future__ import annotations

import polars as pl
import pytest

from feederopt.errors import InputError
from netbuild import tiny


def test_text_that_is_no_number_is_a_typed_problem_naming_table_column_and_row() -> None:
    net = tiny()
    first = str(net.loads["id"][0])
    loads = net.loads.with_columns(
        pl.when(pl.col("id") == first).then(pl.lit("1 MW"))
        .otherwise(pl.col("p_mw").cast(pl.String)).alias("p_mw"))
    with pytest.raises(InputError) as e:
        net.replace(loads=loads).check()
    (p,) = e.value.problems
    assert (p.component, p.field, p.ids) == ("loads", "p_mw", (first,))
    assert "'1 MW'" in p.message


def test_a_number_given_as_text_reads_as_the_number() -> None:
    net = tiny()
    loads = net.loads.with_columns(pl.col("p_mw").cast(pl.String))
    branches = net.branches.with_columns(pl.col("r_ohm").cast(pl.String))
    edited = net.replace(loads=loads, branches=branches).check()
    assert edited.loads["p_mw"].dtype == pl.Float64
    assert edited.loads["p_mw"].to_list() == net.loads["p_mw"].to_list()
    assert edited.branches["r_ohm"].to_list() == net.branches["r_ohm"].to_list()


def test_r_ohm_that_is_no_number_names_the_branch() -> None:
    net = tiny()
    first = str(net.branches["id"][0])
    branches = net.branches.with_columns(
        pl.when(pl.col("id") == first).then(pl.lit("abc"))
        .otherwise(pl.col("r_ohm").cast(pl.String)).alias("r_ohm"))
    with pytest.raises(InputError) as e:
        net.replace(branches=branches)
    (p,) = e.value.problems
    assert (p.component, p.field, p.ids) == ("branches", "r_ohm", (first,))


def test_a_pandas_frame_is_converted() -> None:
    net = tiny()
    edited = net.replace(loads=net.loads.to_pandas()).check()
    assert isinstance(edited.loads, pl.DataFrame)
    assert edited.loads["p_mw"].to_list() == net.loads["p_mw"].to_list()


def test_something_else_is_a_typed_problem() -> None:
    with pytest.raises(InputError, match="loads is a dict, not a table"):
        tiny().replace(loads={"p_mw": [1.0]})


def test_a_typed_table_is_kept_as_is() -> None:
    net = tiny()
    assert net.replace(loads=net.loads).loads is net.loads


def test_a_table_assigned_as_text_is_said_by_check() -> None:
    net = tiny()
    net.loads = net.loads.with_columns(pl.lit("x").alias("q_mvar"))
    with pytest.raises(InputError) as e:
        net.check()
    assert {(p.component, p.field) for p in e.value.problems} == {("loads", "q_mvar")}
