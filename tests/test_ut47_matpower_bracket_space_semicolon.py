"""A MATPOWER matrix closed with ``] ;`` (a blank before the semicolon; valid MATLAB, where
blanks around an operator are free) was "no mpc.bus matrix found" (user test ut47_recheck
#2: MATPOWER's case33bw.m with every ``];`` turned into ``] ;``): matpowercaseframes reads a
matrix up to the next ``];``, the characters together. The reader now takes ``]`` followed
on its line by blanks, at most one ``;`` and a comment as the matrix's end, as it took a
``]`` alone since ut46_recheck (tests/test_ut46_matpower_bracket_no_semicolon.py).

Truth: the original file, whose only difference is the closing of its matrices."""

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


@pytest.mark.parametrize("closing", ["] ;", "]   ;", "]\t;", "] ;  % end of matrix",
                                     "] ;% end", "];   ", "] ; "])
def test_every_matrix_closed_with_blanks_before_or_after_its_semicolon(
        tmp_path: Path, closing: str) -> None:
    text = ORIGINAL.read_text()
    new = re.sub(r"\];$", closing, text, flags=re.M)
    assert new.count(closing) == text.count("];") >= 4  # every matrix edited
    edited = tmp_path / "double_circuit.m"
    edited.write_text(new)
    _same(read_matpower(edited), read_matpower(ORIGINAL))

