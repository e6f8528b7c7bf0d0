"""A line or switch whose end buses have different nominal voltages (a user's tie from a 20 kV
bus to a 0.4 kV bus in a table folder) was accepted silently: the per-unit model puts each end
on its own base (a transformer of ratio vn_f / vn_t in the model), the user's power flow does
something else, and the AC check then disagreed with the model. It is now a warning that names
the branch and both voltages; transformers and equal levels stay silent."""

from __future__ import annotations

import polars as pl

from feederopt.errors import Severity
from feederopt.network.validate import validate
from netbuild import tiny, tiny_tables


def _level_warnings(net) -> list:
    return [p for p in validate(net) if "different nominal voltage" in p.message]


def test_a_tie_across_voltage_levels_is_named() -> None:
    buses = tiny_tables()["buses"].with_columns(
        vn_kv=pl.Series([12.66, 12.66, 12.66, 12.66, 0.4]))  # bus d at 0.4 kV behind switch sw1
    (w,) = _level_warnings(tiny(buses=buses))
    assert w.severity is Severity.WARNING and w.ids == ("sw1",)
    assert "12.66 kV" in w.message and "0.4 kV" in w.message


def test_a_transformer_or_one_level_is_silent() -> None:
    assert not _level_warnings(tiny())
    t = tiny_tables()
    buses = t["buses"].with_columns(vn_kv=pl.Series([12.66, 12.66, 12.66, 12.66, 0.4]))
    branches = t["branches"].with_columns(
        kind=pl.Series(["line", "line", "line", "transformer", "line"]))
    assert not _level_warnings(tiny(buses=buses, branches=branches))
