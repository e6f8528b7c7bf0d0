"""A Parquet column whose cells hold more than one value, or values without text, is a typed
problem naming the table, the column and the rows (user test ut35_errs #1).

``loads.p_mw`` written as ``[p, q]`` (a list column) ended ``feederopt info`` with exit 1 and
"InvalidOperationError: cannot cast List type (inner: 'Float64', to: 'String')", naming no
table, column or row; a list or struct id column was a crash or was read as the text
``{"La","La"}``; a duration or non-UTF-8 bytes crashed the same way. The truth each test holds
the answer to is the file it writes: the table, the column and the ids of the rows given a
value of that type.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from netbuild import tiny

runner = CliRunner()


def _folder(tmp_path: Path, table: str, column: str,
            make: Callable[[pl.Series], pl.Series]) -> Path:
    """The tiny feeder as Parquet, ``table.column`` replaced by ``make`` of itself."""
    folder = write_folder(tiny(), tmp_path / "feeder", fmt="parquet")
    df = pl.read_parquet(folder / f"{table}.parquet")
    df.with_columns(make(df[column]).alias(column)).write_parquet(folder / f"{table}.parquet")
    return folder


def test_a_list_column_of_loads_p_mw_is_a_typed_problem_exit_2(tmp_path: Path) -> None:
    """The tester's file: ``loads.p_mw`` as ``[p_mw, q_mvar]``."""
    folder = write_folder(tiny(), tmp_path / "feeder", fmt="parquet")
    loads = pl.read_parquet(folder / "loads.parquet")
    loads.with_columns(pl.concat_list("p_mw", "q_mvar").alias("p_mw")).write_parquet(
        folder / "loads.parquet")
    result = runner.invoke(app, ["info", str(folder)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "InvalidOperationError" not in result.output
    text = " ".join(result.output.split())
    assert "invalid_value: loads [La, Lb, Lc, Ld].p_mw" in text, text
    assert "'[0.2, 0.1]'" in text  # load La's p and q, as written above
    assert "a cell holds one value" in text


def _lists(s: pl.Series) -> pl.Series:
    return pl.Series([[v, v] for v in s.to_list()])


def _arrays(s: pl.Series) -> pl.Series:
    return _lists(s).cast(pl.Array(s.dtype, 2))


def _structs(s: pl.Series) -> pl.Series:
    return pl.DataFrame({"a": s, "b": s}).to_struct()


def _durations(s: pl.Series) -> pl.Series:
    return pl.Series([datetime.timedelta(hours=1)] * s.len())


def _bytes_not_utf8(s: pl.Series) -> pl.Series:
    return pl.Series([b"\xff\xfe"] * s.len(), dtype=pl.Binary)


#: (table, column, its rows' ids): an id column, a bus reference, a boolean, a number.
COLUMNS = [("loads", "id", ("row 1", "row 2", "row 3", "row 4")),
           ("loads", "bus", ("La", "Lb", "Lc", "Ld")),
           ("branches", "switchable", ("l1", "l2", "l3", "sw1", "tie1")),
           ("loads", "q_mvar", ("La", "Lb", "Lc", "Ld"))]


@pytest.mark.parametrize("make", [_lists, _arrays, _structs], ids=["list", "array", "struct"])
@pytest.mark.parametrize(("table", "column", "ids"), COLUMNS,
                         ids=[f"{t}.{c}" for t, c, _ in COLUMNS])
def test_nested_cells_are_refused_in_every_kind_of_column(
        tmp_path: Path, make: Callable[[pl.Series], pl.Series], table: str, column: str,
        ids: tuple[str, ...]) -> None:
    """A list, array or struct column is refused as an id, a bus reference, a boolean or a
    number: a list id is named by its rows (it is no id), the others by the rows' ids."""
    folder = _folder(tmp_path, table, column, make)
    with pytest.raises(InputError) as exc:
        load(folder)
    mine = [p for p in exc.value.problems if (p.component, p.field) == (table, column)]
    assert len(mine) == 1, exc.value.problems
    assert mine[0].kind is ProblemKind.INVALID_VALUE and mine[0].ids == ids
    assert "a cell holds one value" in mine[0].message


@pytest.mark.parametrize("make", [_durations, _bytes_not_utf8], ids=["duration", "bytes"])
@pytest.mark.parametrize(("table", "column"), [("loads", "q_mvar"),
                                               ("branches", "normally_open")])
def test_durations_and_undecodable_bytes_are_refused(
        tmp_path: Path, make: Callable[[pl.Series], pl.Series], table: str,
        column: str) -> None:
    """polars casts neither a duration nor bytes that are not UTF-8 to text (it raised)."""
    folder = _folder(tmp_path, table, column, make)
    with pytest.raises(InputError) as exc:
        load(folder)
    (mine,) = [p for p in exc.value.problems if (p.component, p.field) == (table, column)]
    assert mine.kind is ProblemKind.INVALID_VALUE
    rows = pl.read_parquet(folder / f"{table}.parquet")["id"].to_list()
    assert mine.ids == tuple(rows)


def test_utf8_bytes_read_as_their_text(tmp_path: Path) -> None:
    """A string column written without Parquet's string annotation is bytes: read as its
    text, as before (the ids and the numbers of the tiny feeder)."""
    folder = _folder(tmp_path, "loads", "id",
                     lambda s: pl.Series([v.encode() for v in s.to_list()], dtype=pl.Binary))
    loads = pl.read_parquet(folder / "loads.parquet")
    loads.with_columns(pl.Series("p_mw", [str(v).encode() for v in loads["p_mw"].to_list()],
                                 dtype=pl.Binary)).write_parquet(folder / "loads.parquet")
    net = load(folder)
    assert net.loads["id"].to_list() == ["La", "Lb", "Lc", "Ld"]
    assert net.loads["p_mw"].to_list() == [0.2, 0.3, 0.25, 0.1]
