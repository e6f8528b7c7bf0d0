"""A CSV row with an extra empty field (user test ut48_iobad #3): a row ending in ',' and a
last row of commas only, wider than the header, gave polars' "ComputeError: found more fields
than defined in 'Schema'" without file or line. docs/columns.md: a line with more fields than
the header is refused naming the file and the line; a row whose every field is empty is
skipped.

Truth: the user's file (case33bw written as a CSV folder, then edited as the tester did)."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

import feederopt
from feederopt.errors import ProblemKind
from feederopt.io import write_folder
from feederopt.network import InputError


def _folder(tmp_path: Path) -> tuple[Path, list[str]]:
    folder = tmp_path / "feeder"
    write_folder(feederopt.load("case33bw"), folder, fmt="csv")
    return folder, (folder / "loads.csv").read_text().splitlines()


def test_row_ending_in_a_comma_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    folder, lines = _folder(tmp_path)
    lines[5] += ","  # file line 6
    (folder / "loads.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        feederopt.load(folder)
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.UNREADABLE_FILE
    assert "loads.csv" in problem.message and "line 6" in problem.message
    assert "Schema" not in problem.message and "trailing comma" in problem.message


def test_all_empty_row_wider_than_the_header_is_skipped(tmp_path: Path) -> None:
    folder, lines = _folder(tmp_path)
    original = feederopt.load(folder)
    width = lines[0].count(",")
    (folder / "loads.csv").write_text("\n".join([*lines, "," * (width + 4)]) + "\n")
    edited = feederopt.load(folder)
    assert_frame_equal(edited.loads, original.loads)
    assert edited.loads.height == len(lines) - 1
