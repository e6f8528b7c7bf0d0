"""Messages of user test ut48_iobad #9: a v_min_pu of 90 also got "swap the limits"; an
r_ohm/x_ohm problem said "negative, infinite or NaN" without which or the value; an empty CSV
and a damaged Parquet file passed polars' text through ("NoDataError", "ComputeError ...").

Truth: the user's file, edited as the tester did (case33bw written as a table folder)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.errors import ProblemKind
from feederopt.io import write_folder
from feederopt.network import InputError


def _folder(tmp_path: Path, fmt: str = "csv") -> Path:
    folder = tmp_path / "feeder"
    write_folder(feederopt.load("case33bw"), folder, fmt=fmt)
    return folder


def _problems(folder: Path) -> list:
    with pytest.raises(InputError) as err:
        feederopt.load(folder)
    return err.value.problems


def test_v_min_in_percent_is_not_also_told_to_swap(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    buses = pl.read_csv(folder / "buses.csv", infer_schema_length=0)
    buses.with_columns(pl.when(pl.col("id") == "5").then(pl.lit("90"))
                       .otherwise(pl.col("v_min_pu")).alias("v_min_pu")
                       ).write_csv(folder / "buses.csv")
    problems = _problems(folder)
    assert [p.kind for p in problems] == [ProblemKind.INVALID_VALUE]
    assert "0.9 for 90 %" in problems[0].hint


@pytest.mark.parametrize(("col", "value", "said"), [
    ("r_ohm", "-0.3", "r_ohm is negative (-0.3)"), ("r_ohm", "inf", "r_ohm is infinite"),
    ("x_ohm", "NaN", "x_ohm is NaN")])
def test_bad_impedance_says_which_and_the_value(tmp_path: Path, col: str, value: str,
                                                said: str) -> None:
    folder = _folder(tmp_path)
    branches = pl.read_csv(folder / "branches.csv", infer_schema_length=0)
    branches.with_columns(pl.when(pl.col("id") == "5").then(pl.lit(value))
                          .otherwise(pl.col(col)).alias(col)).write_csv(folder / "branches.csv")
    (problem,) = _problems(folder)
    assert problem.kind == ProblemKind.BAD_IMPEDANCE and problem.ids == ("5",)
    assert problem.message == said


def test_empty_csv_and_damaged_parquet_in_the_users_terms(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "loads.csv").write_text("")
    (problem,) = _problems(folder)
    assert "the file is empty" in problem.message and "NoDataError" not in problem.message

    folder = _folder(tmp_path / "pq", fmt="parquet")
    (folder / "loads.parquet").write_bytes((folder / "loads.parquet").read_bytes()[:8])
    (problem,) = _problems(folder)
    assert "not a readable Parquet file" in problem.message
    assert "ComputeError" not in problem.message
