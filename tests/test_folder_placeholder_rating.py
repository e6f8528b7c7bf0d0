"""One rule for a rating that stands for "none" in every format (user test ut50_iobad #2, #3):
pandapower's 99999 kA placeholder written into a folder's ``i_max_ka`` (CSV or Parquet), or
``inf``, is read as unrated with a note, as pandapower's ``max_i_ka`` is; NaN is refused with
a message that says NaN was found. The truth is the user's file: the values written in it."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from feederopt.cases import load
from feederopt.io import read_folder, write_folder


def _folder(tmp_path: Path, fmt: str, values: dict[str, float]) -> Path:
    """case33bw written as a folder, with i_max_ka 0.4 kA except ``values`` by branch id."""
    net = load("case33bw")
    expr = pl.lit(0.4)
    for bid, v in values.items():
        expr = pl.when(pl.col("id") == bid).then(pl.lit(v, dtype=pl.Float64)).otherwise(expr)
    net = net.replace(branches=net.branches.with_columns(expr.alias("i_max_ka")))
    path = tmp_path / f"net_{fmt}"
    write_folder(net, path, fmt=fmt)
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("value", [99999.0, 9999.0, math.inf])
def test_a_placeholder_rating_is_read_as_unrated_with_a_note(tmp_path: Path, fmt: str,
                                                             value: float) -> None:
    path = _folder(tmp_path, fmt, {"5": value, "7": value})
    if fmt == "csv":  # the user's file holds the value as written
        text = (path / "branches.csv").read_text()
        assert ("inf" if math.isinf(value) else f"{value:g}") in text.lower()
    net = read_folder(path)
    ratings = dict(zip(net.branches["id"].to_list(), net.branches["i_max_ka"].to_list(),
                       strict=True))
    assert ratings["5"] is None and ratings["7"] is None
    assert ratings["6"] == pytest.approx(0.4)
    notes = " ".join(net.meta.get("warnings", []))
    assert "2 branch(es) have i_max_ka >= 9999 kA" in notes and "unrated" in notes


def test_a_real_rating_gets_no_note(tmp_path: Path) -> None:
    net = read_folder(_folder(tmp_path, "csv", {"5": 0.2}))
    assert "placeholder" not in " ".join(net.meta.get("warnings", []))


def _set_cell(path: Path, fmt: str, bid: str, cell: str) -> None:
    """Write ``cell`` as branch ``bid``'s i_max_ka into the folder's file, as the user's own
    edit: the CSV text (``NaN``), or a Parquet float NaN (not a null)."""
    if fmt == "csv":
        file = path / "branches.csv"
        lines = file.read_text().splitlines()
        col = lines[0].split(",").index("i_max_ka")
        for k, line in enumerate(lines[1:], 1):
            cells = line.split(",")
            if cells[0] == bid:
                cells[col] = cell
                lines[k] = ",".join(cells)
        file.write_text("\n".join(lines) + "\n")
    else:
        file = path / "branches.parquet"
        df = pl.read_parquet(file)
        df = df.with_columns(pl.when(pl.col("id") == bid).then(pl.lit(float(cell)))
                             .otherwise(pl.col("i_max_ka")).alias("i_max_ka"))
        assert df.filter(pl.col("id") == bid)["i_max_ka"].is_nan().all() == (cell == "NaN")
        df.write_parquet(file)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_nan_rating_is_refused_saying_nan(tmp_path: Path, fmt: str) -> None:
    path = _folder(tmp_path, fmt, {})
    _set_cell(path, fmt, "4", "NaN")
    wrong = [p for p in read_folder(path).validate() if p.field == "i_max_ka" and p.is_error]
    assert wrong and wrong[0].ids == ("4",)
    assert "NaN found" in wrong[0].message


def test_a_negative_rating_names_its_value(tmp_path: Path) -> None:
    path = _folder(tmp_path, "csv", {})
    _set_cell(path, "csv", "4", "-2.5")
    wrong = [p for p in read_folder(path).validate() if p.field == "i_max_ka" and p.is_error]
    assert wrong and "-2.5 found" in wrong[0].message
