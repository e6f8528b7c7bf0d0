"""An empty (null) ``kind`` cell of a branch is said to be empty, as a required column's is,
with the hint to fill it; not "unknown branch kind" (user test ut41_pyapi #4)."""

from __future__ import annotations

import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError
from netbuild import tiny, tiny_tables


def _kind_problems(kinds: list[str | None]) -> list[object]:
    t = tiny_tables()
    branches = t["branches"].with_columns(pl.Series("kind", kinds, dtype=pl.String))
    with pytest.raises(InputError) as e:
        feederopt.solve(tiny(branches=branches), time_limit=5)
    return [p for p in e.value.problems if p.field == "kind"]


def test_an_empty_kind_is_said_empty_with_the_hint_to_fill_it() -> None:
    (p,) = _kind_problems(["line", None, "line", "switch", "line"])
    assert p.ids == ("l2",)  # type: ignore[attr-defined]
    assert "no value for 'kind'" in p.message and "empty" in p.message  # type: ignore[attr-defined]
    assert "unknown" not in p.message  # type: ignore[attr-defined]
    assert "fill it in" in p.hint and '"line"' in p.hint  # type: ignore[attr-defined]


def test_an_unknown_kind_is_still_unknown() -> None:
    empty, unknown = _kind_problems(["line", None, "cable", "switch", "line"])
    assert (empty.ids, unknown.ids) == (("l2",), ("l3",))  # type: ignore[attr-defined]
    assert unknown.message == "unknown branch kind"  # type: ignore[attr-defined]
