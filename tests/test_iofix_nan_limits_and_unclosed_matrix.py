"""Hints that named the wrong cause (user test ut46_iobad #7): a NaN ``v_min_pu`` was
"v_min_pu is above v_max_pu (or NaN)" with the hint "swap the limits", a NaN ``v_set_pu``
"infinite or negative", and a MATPOWER matrix missing its closing ``];`` "row(s) 34, 35 of
mpc.bus have a different number of columns than the others"."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from feederopt.cases import load
from feederopt.errors import InputError, ProblemKind
from feederopt.network import Network
from netbuild import tiny_tables


def _problems(**cols: list[float | None]) -> list[tuple[ProblemKind, tuple[str, ...], str, str]]:
    t = tiny_tables()
    t["buses"] = t["buses"].with_columns(
        pl.Series(c, v, dtype=pl.Float64) for c, v in cols.items())
    return [(p.kind, p.ids, p.field or "", p.message)
            for p in Network.from_tables(**t).validate() if p.component == "buses"]


def test_nan_voltage_limits_are_named_nan() -> None:
    got = _problems(v_min_pu=[0.9, math.nan, 0.9, 0.9, 1.2],
                    v_max_pu=[1.1, 1.1, math.nan, 1.1, 1.1])
    assert got == [
        (ProblemKind.INVALID_VALUE, ("a",), "v_min_pu", "v_min_pu is NaN"),
        (ProblemKind.INVALID_VALUE, ("b",), "v_max_pu", "v_max_pu is NaN"),
        # the one really inverted band (1.2 > 1.1) keeps its own problem and hint
        (ProblemKind.INVERTED_LIMITS, ("d",), "v_min_pu", "v_min_pu is above v_max_pu")]


def test_nan_set_point_is_named_nan() -> None:
    got = _problems(v_set_pu=[math.nan, None, None, None, -1.0])
    assert got == [
        (ProblemKind.INVALID_VALUE, ("s",), "v_set_pu", "v_set_pu is NaN"),
        (ProblemKind.INVALID_VALUE, ("d",), "v_set_pu", "v_set_pu is negative")]


def test_matrix_without_its_closing_bracket(tmp_path) -> None:
    src = load("case33bw").meta["path"]
    lines = Path(src).read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("mpc.bus"))
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "];")
    nxt = next(i for i in range(end + 1, len(lines)) if lines[i].lstrip().startswith("mpc."))
    broken = tmp_path / "unclosed.m"
    broken.write_text("\n".join([*lines[:end], "", *lines[end + 1:]]) + "\n")
    with pytest.raises(InputError) as err:
        load(broken)
    (p,) = err.value.problems
    assert p.kind is ProblemKind.UNREADABLE_FILE
    assert (f"the mpc.bus matrix (line {start + 1}) is not closed: line {nxt + 1} "
            f"('{lines[nxt].split('%')[0].strip()} ...') starts a new statement inside it"
            in p.message), p.message
    assert "different number of columns" not in p.message
    assert p.hint == f"end mpc.bus with '];' after its last row, before line {nxt + 1}"
