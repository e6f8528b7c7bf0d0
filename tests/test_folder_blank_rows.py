"""Blank rows of a CSV table are no rows; a row without an id is named by its file line.

User test ut_io #3: a trailing blank line in ``loads.csv`` (an editor's, or ``printf '\\n'
>>``) was refused as "loads [None].id: 1 row(s) have no value for 'id'" and three more
problems for its other columns. pandas skips such lines (``skip_blank_lines``); so does
feederopt now, and a row that has values but no id is one typed problem naming its line.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return write_folder(tiny(), tmp_path / "feeder", fmt="csv")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_blank_lines_are_skipped(folder: Path) -> None:
    loads = folder / "loads.csv"
    lines = _lines(loads)
    # a blank line in the middle, an all-empty record, a blank-only one, and a trailing one
    lines[2:2] = ["", ",,,", " , ,,"]
    loads.write_text("\n".join(lines) + "\n\n")
    net = load(folder)
    assert net.loads.equals(tiny().check().loads)
    assert net.loads.height == tiny_tables()["loads"].height


def test_a_row_without_an_id_is_named_by_its_file_line(folder: Path) -> None:
    loads = folder / "loads.csv"
    lines = _lines(loads)
    lines[2:2] = [""]  # a blank line before it: the line numbers count it
    lines.append(",,b,0.1,0.05")  # no id and no name; bus, p_mw, q_mvar in their columns
    loads.write_text("\n".join(lines) + "\n")
    line = len(lines)  # the row just appended, 1-based
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.INVALID_VALUE
    assert (problem.component, problem.field, problem.ids) == ("loads", "id", (f"line {line}",))
    assert "None" not in str(problem)
    res = CliRunner().invoke(app, ["info", str(folder)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"line {line}" in res.output and "None" not in res.output


def test_a_quoted_field_over_two_lines_counts_both(folder: Path) -> None:
    loads = folder / "loads.csv"
    header, *rows = _lines(loads)
    extra = header.split(",")
    assert extra[0] == "id" and "bus" in extra
    # a text column with a newline in a quoted field, then a row without an id
    text = [f"{header},note", *(f"{r},x" for r in rows)]
    text[1] = text[1][: -len("x")] + '"two\nlines"'
    text.append(",".join("b" if col == "bus" else "" for col in extra) + ",y")
    loads.write_text("\n".join(text) + "\n")
    line = len("\n".join(text).splitlines())  # the last physical line
    with pytest.raises(InputError) as exc:
        load(folder)
    no_id = [p for p in exc.value.problems if p.field == "id"]
    assert [p.ids for p in no_id] == [(f"line {line}",)]


def test_a_parquet_or_in_memory_row_without_an_id_is_named_by_its_row(tmp_path: Path) -> None:
    t = tiny_tables()
    loads = t["loads"].with_columns(
        pl.when(pl.col("id") == "Lb").then(None).otherwise(pl.col("id")).alias("id"))
    net = tiny(loads=loads)
    with pytest.raises(InputError) as exc:
        net.check()
    ids = {p.ids for p in exc.value.problems if p.component == "loads"}
    assert ids == {("row 2",)}  # Lb is the second load
    folder = write_folder(tiny(), tmp_path / "pq", fmt="parquet")
    loads.write_parquet(folder / "loads.parquet")
    with pytest.raises(InputError) as exc:
        load(folder)
    assert [p.ids for p in exc.value.problems if p.component == "loads"] == [("row 2",)]


def test_an_id_with_a_trailing_space_is_shown_quoted(folder: Path) -> None:
    """User test ut_io #6: ``B3 `` in loads.bus read "refers to unknown bus(es) B3 " with the
    space invisible; it is shown as 'B3 ' with a hint that the space is part of the id."""
    loads = folder / "loads.csv"
    lines = [line.replace(",b,", ",b ,", 1) if line.startswith("Lb,") else line
             for line in _lines(loads)]
    loads.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNKNOWN_BUS and problem.ids == ("Lb",)
    text = str(problem)
    assert "'b '" in text and "space" in problem.hint
    res = CliRunner().invoke(app, ["info", str(folder)])
    assert res.exit_code == 2 and "'b '" in res.output


def test_shown_id_quotes_only_ids_whose_ends_are_blank() -> None:
    from feederopt.errors import shown_id

    assert [shown_id(x) for x in ("B3", "B3 ", " B3", "", "a b")] == [
        "B3", "'B3 '", "' B3'", "''", "a b"]


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u2060"])
def test_an_id_with_an_invisible_character_is_shown_quoted(folder: Path, invisible: str) -> None:
    """User test ut37_errs2 #3a: ``A`` and a zero-width space in loads.bus read "refers to
    unknown bus(es) A" with the character unseen, as if bus A were missing; it is shown by its
    ``repr`` (``'b\\u200b'``) with a hint naming the bus meant (a no-break space at the end
    already was: it is a blank that ``str.strip`` removes)."""
    loads = folder / "loads.csv"
    lines = [line.replace(",b,", f",b{invisible},", 1) if line.startswith("Lb,") else line
             for line in _lines(loads)]
    loads.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load(folder)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.UNKNOWN_BUS and problem.ids == ("Lb",)
    shown = repr(f"b{invisible}")  # the escape Python itself writes, e.g. 'b\u200b'
    assert shown != "'b'" and shown in problem.message
    assert "is not bus b" in problem.hint and "invisible character" in problem.hint
    res = CliRunner().invoke(app, ["info", str(folder)])
    assert res.exit_code == 2 and shown in res.output


def test_shown_id_quotes_ids_with_an_invisible_character() -> None:
    from feederopt.errors import shown_id

    assert [shown_id(x) for x in ("A\u200b", "a\u00a0b", "x\ty", "Ä-1", "Bus 7")] == [
        "'A\\u200b'", "'a\\xa0b'", "'x\\ty'", "Ä-1", "Bus 7"]
