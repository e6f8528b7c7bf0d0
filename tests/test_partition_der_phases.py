"""The per-phase DER set-points, labelled (user test ut32_part #2): the result JSON had only
``plan.p_set`` / ``q_set``, p.u. vectors with no DER or phase names. Now ``der_phases`` (JSON),
``der_setpoints.parquet`` (the ``--out`` folder) and a table of report.html give, per DER
phase, the DER id, bus, phase, P [kW], Q [kvar] and the per-phase limits.

Independent truth, from the feeder file (the user's ``own.dss``, see
``test_partition_empty_block``): the per-phase limits ``kW / 3`` and ``kVA / 3`` (GA 80 kW /
100 kVA at b2, GB 30 / 40 at b4, GC 60 / 75 at b7); the plan serves blocks A, B, C, whose
loads draw per phase a 165, b 105, c 100 kW (constant power, and LinDist3Flow is lossless,
so the DERs' phase a / b / c outputs sum to exactly these: a wrong phase label breaks it);
and each DER's rows sum to its set-point in the block table the console prints."""

from __future__ import annotations

import json

import polars as pl
import pytest

from test_partition_empty_block import OWN, SETTINGS

LIMITS = {"Generator.GA": ("b2", 80.0, 100.0), "Generator.GB": ("b4", 30.0, 40.0),
          "Generator.GC": ("b7", 60.0, 75.0)}
PHASE_LOAD_KW = {"a": 50 + 40 + 30 + 45, "b": 50 + 25 + 30, "c": 50 + 20 + 30}


def test_der_phases_labelled_in_json_folder_and_page(tmp_path):
    from feederopt.api_partition import partition

    dss = tmp_path / "own.dss"
    dss.write_text(OWN.format(extra=""))
    st = tmp_path / "settings.json"
    st.write_text(json.dumps(SETTINGS))
    out = tmp_path / "out"
    res = partition(str(dss), settings=st, voltage_feedback=False, time_limit_s=120, out=out)
    rows = json.loads((out / "result.json").read_text())["der_phases"]
    assert len(rows) == 9
    low = {k.lower(): v for k, v in LIMITS.items()}
    for r in rows:
        bus, p_max, s_max = low[r["der"].lower()]
        assert r["bus"] == bus and r["phase"] in "abc"
        assert r["p_max_kw"] == pytest.approx(p_max) and r["s_max_kva"] == pytest.approx(s_max)
        assert -1e-6 <= r["p_kw"] <= p_max + 1e-6
        assert r["p_kw"] ** 2 + r["q_kvar"] ** 2 <= s_max ** 2 + 1e-6
    # phase labels: the DERs' outputs per phase meet the loads of that phase
    for ph, kw in PHASE_LOAD_KW.items():
        assert sum(r["p_kw"] for r in rows if r["phase"] == ph) == pytest.approx(kw, abs=1e-3)
    # each DER's phases sum to its total in the block table (the console's set-points)
    totals = {d: v for b in res.blocks for d, v in b.der_set_points_kw.items()}
    for d, v in totals.items():
        assert sum(r["p_kw"] for r in rows if r["der"] == d) == pytest.approx(v, abs=1e-6)
    table = pl.read_parquet(out / "der_setpoints.parquet")
    assert table.columns == ["der", "bus", "phase", "p_kw", "q_kvar", "p_max_kw", "s_max_kva"]
    assert table.to_dicts() == rows
    page = (out / "report.html").read_text()
    assert "DER set-points per phase" in page and all(d in page for d in totals)
