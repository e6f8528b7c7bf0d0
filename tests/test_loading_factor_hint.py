"""A loading limit that looks like a factor (``max_loading_percent=1.2``, ``--max-loading
1.2``, meant as 120 %) is said: user test ut36_api #3, where the grid was proven infeasible
with no hint why. The opposite of ``errors.share_hint`` (50 where 0.5 was meant)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import percent_hint
from feederopt.io import write_folder
from netbuild import tiny, tiny_tables

RATING_KA = 0.3


def _rated() -> feederopt.Network:
    return tiny(branches=tiny_tables()["branches"].with_columns(i_max_ka=pl.lit(RATING_KA)))


def test_the_hint_gives_the_percentage_meant() -> None:
    assert percent_hint(1.2, "x").endswith("write 120 for 120 %")
    assert percent_hint(0.8, "x").endswith("write 80 for 80 %")
    assert percent_hint(50.0, "x") is None and percent_hint(120.0, "x") is None


def test_a_factor_as_loading_limit_is_warned_and_named_in_the_infeasible_reason() -> None:
    # Hand calculation: the loads draw S = |sum (p + jq)| = |0.85 + j0.40| MVA = 0.939 MVA from
    # the source at 12.66 kV, I = S / (sqrt(3) 12.66 kV) = 42.8 A, over l1 and tie1, so one of
    # them carries at least 21.4 A, above 1.2 % of 300 A = 3.6 A: no topology meets it.
    loads = tiny_tables()["loads"]
    s_mva = math.hypot(loads["p_mw"].sum(), loads["q_mvar"].sum())
    current_ka = s_mva / (math.sqrt(3) * 12.66)
    assert current_ka / 2 > 0.012 * RATING_KA
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = feederopt.solve(_rated(), max_loading_percent=1.2, time_limit=60)
    said = [str(w.message) for w in caught if issubclass(w.category, feederopt.FeederoptWarning)
            and "looks like a factor" in str(w.message)]
    assert len(said) == 1 and "write 120 for 120 %" in said[0]
    assert r.status.value == "infeasible"
    assert "write 120 for 120 %" in r.extra["infeasible_reason"]
    assert any("looks like a factor" in n for n in r.extra["notes"])


def test_a_percentage_gets_no_such_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feederopt.solve(_rated(), max_loading_percent=120, time_limit=60, ac_check=False)
    assert not [w for w in caught if "looks like a factor" in str(w.message)]


def test_the_cli_prints_the_note_once(tmp_path: Path) -> None:
    folder = tmp_path / "net"
    write_folder(_rated(), folder)
    out = CliRunner().invoke(app, ["solve", str(folder), "--max-loading", "1.2",
                                   "--no-ac-check"], env={"COLUMNS": "240"})
    assert out.exit_code == 3, out.output
    assert out.output.count("looks like a factor") == 2  # the note, the infeasible reason
    assert "note: max_loading_percent 1.2 looks like a factor" in out.output
    assert "FeederoptWarning" not in out.output and "Traceback" not in out.output
