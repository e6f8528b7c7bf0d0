"""``length_km`` and the per-km columns (user test ut46_iobad #6): docs/columns.md documents
them, yet a folder's ``length_km`` beside the totals was "unknown column 'length_km' is
ignored" with a known-column list that lacked it; and a zero length under per-km values gave
two follow-on errors ("1 row(s) have no value for 'r_ohm'", and for 'x_ohm') after the two
that name the length."""

from __future__ import annotations

import polars as pl
import pytest

from feederopt.errors import InputError, ProblemKind
from feederopt.io import read_folder, write_folder
from feederopt.network import Network
from netbuild import tiny, tiny_tables


def _folder(tmp_path, branches: pl.DataFrame):
    folder = write_folder(tiny().check(), tmp_path / "net", fmt="csv")
    branches.write_csv(folder / "branches.csv", null_value="")
    return folder


def test_length_km_beside_the_totals_is_known(tmp_path) -> None:
    br = tiny_tables()["branches"].with_columns(pl.Series("length_km", [1.0, 2.0, 3.0, 0.0,
                                                                        4.0]))
    net = read_folder(_folder(tmp_path, br))
    assert not [p for p in net.validate() if p.kind is ProblemKind.UNKNOWN_COLUMN]
    # its r_ohm and x_ohm are the totals as written, the length kept beside them
    assert net.branches["r_ohm"].to_list() == br["r_ohm"].to_list()
    assert net.branches["length_km"].to_list() == [1.0, 2.0, 3.0, 0.0, 4.0]
    # an unknown column's list of known ones names it
    t = tiny_tables()
    t["branches"] = t["branches"].with_columns(pl.lit(1).alias("zzzz"))
    (unknown,) = [p for p in Network.from_tables(**t).validate()
                  if p.kind is ProblemKind.UNKNOWN_COLUMN]
    assert "length_km" in (unknown.hint or "")


def test_per_km_in_memory_is_named_as_such() -> None:
    # from_tables computes the totals from them (tests/test_ut46_perkm_in_memory.py); a
    # table set on a network by hand and validated without check keeps them, said so
    net = Network.from_tables(**tiny_tables())
    net.branches = net.branches.with_columns(pl.lit(0.1).alias("r_ohm_per_km"),
                                             pl.lit(2.0).alias("length_km"))
    (p,) = [p for p in net.validate() if p.kind is ProblemKind.UNKNOWN_COLUMN]
    assert p.field == "r_ohm_per_km"
    assert "r_ohm = r_ohm_per_km x length_km" in p.message and "did you mean" not in (
        p.hint or "")


def test_zero_length_gives_only_its_own_problems(tmp_path) -> None:
    base = tiny_tables()["branches"]
    br = base.with_columns(
        pl.Series("length_km", [2.0, 2.0, 0.0, 2.0, 2.0]),
        (pl.col("r_ohm") / 2).alias("r_ohm_per_km"),
        (pl.col("x_ohm") / 2).alias("x_ohm_per_km")).drop("r_ohm", "x_ohm")
    with pytest.raises(InputError) as err:
        read_folder(_folder(tmp_path, br))
    got = [(p.field, p.ids, p.message) for p in err.value.problems if p.is_error]
    assert got == [
        ("length_km", ("l3",), "1 row(s) give r_ohm_per_km without a positive length_km"),
        ("length_km", ("l3",), "1 row(s) give x_ohm_per_km without a positive length_km")]


def test_a_row_without_any_impedance_is_still_named(tmp_path) -> None:
    """The follow-on error is left out only for the rows the length problem names."""
    br = tiny_tables()["branches"].with_columns(
        pl.Series("length_km", [2.0, 2.0, 0.0, 2.0, 2.0]),
        (pl.col("r_ohm") / 2).alias("r_ohm_per_km")).with_columns(
        pl.when(pl.col("id") == "l3").then(None).otherwise(pl.col("r_ohm")).alias("r_ohm"),
        pl.when(pl.col("id").is_in(["l3", "l1"])).then(None).otherwise(pl.col("x_ohm"))
        .alias("x_ohm"))
    with pytest.raises(InputError) as err:
        read_folder(_folder(tmp_path, br))
    fields = {(p.field, p.ids) for p in err.value.problems if p.is_error}
    assert ("length_km", ("l3",)) in fields
    assert ("x_ohm", ("l1", "l3")) in fields  # l1 has no x_ohm of any kind
    assert not any(f == "r_ohm" for f, _ in fields)
