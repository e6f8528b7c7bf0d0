"""Hints for columns in other units (user test ut48_iobad #6, #7): pandapower's
``c_nf_per_km`` got a "known columns" list without the per-km columns, and line charging was
lost; ``p_kw``/``q_kvar`` got "did you mean 'p_mw'?", which, followed, keeps kW values in an
MW column.

Truth: the user's own numbers (case33bw's loads in kW, as MATPOWER's file gives them) and
pandapower's line model, ``b = 2 pi f c_nf_per_km 1e-9 length_km`` [S]
(``pandapower.build_branch``), for the charging the hint's formula gives."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.errors import Problem
from feederopt.io import write_folder
from feederopt.network.validate import unknown_columns


def _warning(problems: list[Problem], field: str) -> Problem:
    (p,) = [p for p in problems if p.field == field]
    return p


def test_load_columns_in_kw_are_told_to_be_converted(tmp_path: Path) -> None:
    folder = tmp_path / "feeder"
    original = feederopt.load("case33bw")
    write_folder(original, folder, fmt="csv")
    loads = pl.read_csv(folder / "loads.csv")
    kw = loads.with_columns(pl.col("p_mw") * 1000, pl.col("q_mvar") * 1000).rename(
        {"p_mw": "p_kw", "q_mvar": "q_kvar"})
    problems = unknown_columns("loads", kw.columns)
    for col, unit in (("p_kw", "MW"), ("q_kvar", "MVAr")):
        hint = _warning(problems, col).hint
        assert "did you mean" not in hint
        assert unit in hint and "/1000" in hint
    # followed: the kW divided by 1000 in the schema's columns give the user's loads
    kw.with_columns(pl.col("p_kw") / 1000, pl.col("q_kvar") / 1000).rename(
        {"p_kw": "p_mw", "q_kvar": "q_mvar"}).write_csv(folder / "loads.csv")
    net = feederopt.load(folder)
    assert net.loads["p_mw"].sum() == pytest.approx(3.715)  # case33bw: 3715 kW
    assert net.loads["q_mvar"].sum() == pytest.approx(2.300)


def test_capacitance_per_km_hint_gives_pandapower_charging(tmp_path: Path) -> None:
    cols = ["id", "from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km",
            "c_nf_per_km"]
    p = _warning(unknown_columns("branches", cols), "c_nf_per_km")
    assert "b_us_per_km" in p.hint and "2 pi f c_nf_per_km 1e-3" in p.hint
    assert "known columns" not in p.hint

    # followed at 50 Hz: b_us of a 2.82 km line of 151.1749 nF/km (CIGRE MV's first line)
    c_nf, length, f_hz = 151.1749, 2.82, 50.0
    (tmp_path / "g").mkdir()
    pl.DataFrame({"id": ["B1", "B2"], "vn_kv": [20.0, 20.0], "is_source": [True, False]}
                 ).write_csv(tmp_path / "g" / "buses.csv")
    pl.DataFrame({"id": ["L0"], "from_bus": ["B1"], "to_bus": ["B2"], "length_km": [length],
                  "r_ohm_per_km": [0.501], "x_ohm_per_km": [0.716],
                  "b_us_per_km": [2 * math.pi * f_hz * c_nf * 1e-3]}
                 ).write_csv(tmp_path / "g" / "branches.csv")
    net = feederopt.load(tmp_path / "g")
    pandapower_b_s = 2 * math.pi * f_hz * c_nf * 1e-9 * length
    assert net.branches["b_us"].item() == pytest.approx(pandapower_b_s * 1e6, rel=1e-12)
