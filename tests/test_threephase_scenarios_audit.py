"""Defects a user's audit of the three-phase ``--scenarios`` and ``--switch-cost`` found, on
the ring feeder of ``tests/test_threephase_scenarios.py`` (switches ``s1``-``s4``, ``s1``
open in the base case).

Expectations are independent of the MILP: OpenDSS's own solution of the script with the
scenario's loads written into it (``tests/opendss_plain.py``, no feederopt code), the base
case's switch states read from the script, and the definition of a switching action.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from feederopt.api_threephase import solve_three_phase
from test_threephase_scenarios import _feeder

runner = CliRunner()
COLS = ["scenario", "kind", "element", "p_mw", "q_mvar", "weight"]


def test_infeasible_scenario_is_named(tmp_path: Path) -> None:
    """A scenario no radial topology serves is named by its name in the reason; before:
    'scenario(s) 1 (by position, from 0) are infeasible alone'."""
    table = pl.DataFrame([("ok", "load", "x", 1.8, 0.36, 0.5),
                          ("huge", "bus", "x", 60.0, 10.0, 0.5)], schema=COLS, orient="row")
    out = solve_three_phase(str(_feeder(tmp_path)), scenarios=table, thermal_limits=False,
                            voltage_feedback=False, ac_check=False)
    assert out["status"] == "infeasible" and not out["has_solution"]
    assert "scenario(s) huge are infeasible alone" in out["reason"], out["reason"]
    assert "by position" not in out["reason"]
