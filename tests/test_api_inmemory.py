"""A network built in memory (``Network.from_tables``) is validated by ``feederopt.solve`` as
one read from a file is by ``feederopt.load`` (user test ut_api #1: a negative resistance was
solved to "optimal" with negative losses, a NaN or a missing source crashed untyped).

The expected problems are the validation's own kinds, naming the component, the ids and the
field; a checked network is not checked again while its tables stay the same.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError, ProblemKind
from feederopt.network import validate as validate_module
from netbuild import set_value, tiny, tiny_tables


def _problems(net: feederopt.Network) -> list[tuple[ProblemKind, str, tuple[str, ...], str]]:
    with pytest.raises(InputError) as exc:
        feederopt.solve(net, time_limit=10, ac_check=False)
    return [(p.kind, p.component, p.ids, p.field) for p in exc.value.problems if p.is_error]


@pytest.mark.parametrize("value", [-0.3, math.nan])
def test_a_bad_resistance_is_a_typed_problem(value: float) -> None:
    br = set_value(tiny_tables()["branches"], "l2", "r_ohm", value)
    assert _problems(tiny(branches=br)) == [
        (ProblemKind.BAD_IMPEDANCE, "branches", ("l2",), "r_ohm")]


def test_no_source_is_a_typed_problem() -> None:
    buses = tiny_tables()["buses"].with_columns(pl.lit(False).alias("is_source"))
    kinds = [k for k, *_ in _problems(tiny(buses=buses))]
    assert ProblemKind.NO_SOURCE in kinds


def test_a_negative_load_and_a_duplicate_id_are_typed_problems() -> None:
    loads = set_value(tiny_tables()["loads"], "Lb", "p_mw", -0.3)
    assert (ProblemKind.BAD_LOAD, "loads", ("Lb",), "p_mw") in _problems(tiny(loads=loads))
    br = set_value(tiny_tables()["branches"], "l3", "id", "l2")
    assert (ProblemKind.DUPLICATE_ID, "branches", ("l2",), "id") in _problems(tiny(branches=br))


def test_a_network_is_validated_once_and_again_after_a_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = validate_module.validate

    def counting(net: feederopt.Network) -> list:  # type: ignore[type-arg]
        calls.append(1)
        return real(net)

    monkeypatch.setattr(validate_module, "validate", counting)
    net = feederopt.load(tiny())
    assert len(calls) == 1
    feederopt.solve(net, time_limit=10, ac_check=False)
    feederopt.solve(net, time_limit=10, ac_check=False)
    assert len(calls) == 1  # checked by load, not again by either solve
    changed = net.replace(branches=set_value(net.branches, "l2", "r_ohm", -1.0))
    with pytest.raises(InputError):
        feederopt.solve(changed, time_limit=10, ac_check=False)
    net.loads = set_value(net.loads, "Lb", "p_mw", -0.3)  # a table assigned in place
    with pytest.raises(InputError):
        feederopt.solve(net, time_limit=10, ac_check=False)


def test_a_duplicate_bus_id_is_one_problem_not_also_an_island() -> None:
    buses = tiny_tables()["buses"]
    twice = pl.concat([buses, buses.filter(pl.col("id") == "a")])
    with pytest.raises(InputError) as exc:
        feederopt.load(tiny(buses=twice))
    assert [(p.kind, p.ids) for p in exc.value.problems if p.is_error] == [
        (ProblemKind.DUPLICATE_ID, ("a",))]


def _as_text(df: pl.DataFrame, row_id: str, column: str, text: str) -> pl.DataFrame:
    """``df`` with ``column`` as strings and ``text`` in the row ``row_id``."""
    df = df.with_columns(pl.col(column).cast(pl.String))
    return df.with_columns(pl.when(pl.col("id") == row_id).then(pl.lit(text))
                           .otherwise(pl.col(column)).alias(column))


@pytest.mark.parametrize(("table", "row", "column", "text"), [
    ("branches", "l1", "i_max_ka", "0.1 kA"), ("buses", "b", "v_min_pu", "0.96x"),
    ("branches", "sw1", "switchable", "yes"), ("loads", None, "p_mw", "x")])
def test_a_value_that_is_not_of_its_columns_type_is_a_typed_problem(
        table: str, row: str | None, column: str, text: str) -> None:
    """User test ut_api #1-#2: a value of the wrong type was cast to null, "not given" (no
    rating, the default band), and the answer changed without a word, or a text in a Boolean
    column raised polars' InvalidOperationError. The CSV folder reader refuses the same value;
    so does the in-memory path now, naming the table, the column and the row."""
    tables = tiny_tables()
    df = tables[table]
    if column not in df.columns:
        df = df.with_columns(pl.lit(0.95).alias(column))
    row = row or str(df["id"][0])
    tables[table] = _as_text(df, row, column, text)
    with pytest.raises(InputError) as exc:
        feederopt.Network.from_tables(**tables)
    (p,) = exc.value.problems
    assert (p.kind, p.component, p.ids, p.field) == (ProblemKind.INVALID_VALUE, table, (row,),
                                                     column)
    assert repr(text) in p.message


def test_boolean_text_reads_as_the_csv_reader_reads_it() -> None:
    tables = tiny_tables()
    tables["branches"] = _as_text(tables["branches"], "tie1", "switchable", " TRUE ")
    net = feederopt.Network.from_tables(**tables)
    assert net.branches.filter(pl.col("id") == "tie1")["switchable"].item() is True


@pytest.mark.parametrize("call", ["solve_none", "load_float", "save_str", "save_json_str"])
def test_api_misuse_is_a_typed_problem(call: str, tmp_path) -> None:
    """User test ut_api #7: ``solve(None)``, ``load(3.5)`` raised a bare TypeError and
    ``save("x", ...)`` an AttributeError."""
    calls = {
        "solve_none": lambda: feederopt.solve(None),
        "load_float": lambda: feederopt.load(3.5),
        "save_str": lambda: feederopt.save("x", tmp_path / "out"),
        "save_json_str": lambda: feederopt.save_json("x", tmp_path / "r.json"),
    }
    with pytest.raises(InputError):
        calls[call]()
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.json").exists()


def test_an_open_end_that_is_neither_end_is_a_typed_problem() -> None:
    """User test ut_api #8: open_end_energised "both" was accepted silently."""
    tables = tiny_tables()
    tables["branches"] = tables["branches"].with_columns(
        pl.when(pl.col("id") == "tie1").then(pl.lit("both")).otherwise(pl.lit(None))
        .alias("open_end_energised"))
    assert _problems(feederopt.Network.from_tables(**tables)) == [
        (ProblemKind.INVALID_VALUE, "branches", ("tie1",), "open_end_energised")]
