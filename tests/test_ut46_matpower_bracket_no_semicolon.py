"""A MATPOWER matrix closed with ``]`` and no ``;`` (valid MATLAB: the semicolon only
suppresses the display; user test ut46_recheck iobad/nosemi_13.m, ``sed '13s/.*/]/'`` on
tests/data/io/double_circuit.m) was "not a MATPOWER case (ValueError: setting an array
element with a sequence ... inhomogeneous shape ...)": matpowercaseframes reads a matrix up to
the next ``];``. It reads as the file with ``];``.

Truth: the original file, whose only difference is the ``;``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from feederopt.io import read_matpower

ORIGINAL = Path(__file__).parent / "data" / "io" / "double_circuit.m"


def _same(a, b) -> None:
    for key in ("buses", "branches", "loads", "generators", "shunts"):
        assert_frame_equal(getattr(a, key), getattr(b, key))


@pytest.mark.parametrize("line", [13, 17])
def test_one_matrix_closed_without_semicolon(tmp_path: Path, line: int) -> None:
    lines = ORIGINAL.read_text().splitlines()
    assert lines[line - 1].strip() == "];"
    lines[line - 1] = "]"
    edited = tmp_path / "double_circuit.m"
    edited.write_text("\n".join(lines) + "\n")
    _same(read_matpower(edited), read_matpower(ORIGINAL))


def test_every_matrix_closed_without_semicolon(tmp_path: Path) -> None:
    text = ORIGINAL.read_text()
    edited = tmp_path / "double_circuit.m"
    # and one with a comment after its bracket
    # (mpc.branch_switchable = [0; 1; ...] too)
    new = re.sub(r"\];$", "]", text, flags=re.M).replace("]\n", "]  % end\n", 1)
    assert "];" not in new
    edited.write_text(new)
    _same(read_matpower(edited), read_matpower(ORIGINAL))
