"""The AC check's largest loading is in % of the branch's rating, also under ``--max-loading``
(user test ut35_dopf #1).

``--max-loading PCT`` scales every rating in the network's tables to PCT % of itself, and the
AC check of a DOPF (feederopt's own export of the tables with the chosen settings) and of any
non-pandapower network took the current over those scaled ratings: at ``--max-loading 60`` a
transformer at 49.95 % of its rating (pandapower's ``res_trafo.loading_percent``) was reported
as "83.24 % of its rating" (49.95 / 0.60), at ``--max-loading 48.5`` one at 48.76 % as
100.54 %. The loading is now of the rating, with the limit beside it ("49.95 % of its rating
(trafo:0; limit 60 %)", ``ac_check.loading_limit_percent``); the verdict still holds the limit.

Independent truth: pandapower's ``runpp`` in the test, of the user's pandapower net at the
chosen tap position, and of the tiny feeder built by hand in pandapower (tests/netbuild.py)
at each scenario's loads: ``loading_percent`` (of ``max_i_ka`` and the trafo's ``sn_mva``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api import relax_limits
from feederopt.cli import app
from feederopt.io.folder import write_folder
from feederopt.validation.ac import ac_power_flow
from feederopt.validation.ac_limits import rating_verdict
from netbuild import tiny_pandapower_net, tiny_tables
from oltc_feeder import oltc_feeder, runpp_quiet

ENV = {"COLUMNS": "400"}


def _oltc_net() -> Any:
    """A 20 MVA 110/20 kV trafo with an OLTC feeding 6 MW over 4 km (tests/oltc_feeder.py):
    the DOPF's least-loss position is tap_pos -5, where pandapower loads the trafo at about
    41 %."""
    return oltc_feeder(sn_mva=20.0, length_km=4.0, p_mw=6.0, q_mvar=1.8, shunt_q_mvar=3.0)


def _pandapower_trafo_loading(tap_pos: int) -> float:
    net = _oltc_net()
    net.trafo.at[0, "tap_pos"] = tap_pos
    return float(runpp_quiet(net).res_trafo.loading_percent.iloc[0])


@pytest.fixture(scope="module")
def dopf_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, str]:
    folder = tmp_path_factory.mktemp("loading_of_rating")
    path = folder / "net.json"
    import pandapower as pp

    pp.to_json(_oltc_net(), str(path))
    out = folder / "res"
    res = CliRunner().invoke(app, ["solve", str(path), "--max-loading", "60", "--time-limit",
                                   "60", "--out", str(out), "--report"], env=ENV)
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    return doc, res.output, (out / "report.html").read_text()


def test_dopf_loading_is_pandapowers_percent_of_the_rating(dopf_run: tuple) -> None:
    doc, console, html = dopf_run
    oltc = next(d for d in doc["devices"] if d["kind"] == "oltc")
    expected = _pandapower_trafo_loading(int(oltc["tap_pos"]))
    assert 30.0 < expected < 60.0  # within the 60 % limit, far from 60 % of it
    ac = doc["ac_check"]
    assert ac["max_loading_element"] == "trafo:0"
    assert ac["max_loading_percent"] == pytest.approx(expected, rel=1e-6)
    assert ac["loading_limit_percent"] == 60.0
    assert ac["within_limits"] is True
    text = f"{expected:.2f} % of its rating (trafo:0; limit 60 %)"
    assert text in console
    assert text in html


def test_the_verdict_still_holds_the_limit() -> None:
    """Below the loading the limit is broken, above it kept; the loading stays pandapower's
    either way, on the user's net (origin) and on feederopt's own export (the DOPF's AC net),
    and the violation gives the loading in % of the rating too, with the limit beside it
    (``limit_percent``; ut46_core #1: it gave the share of the limit)."""
    expected = _pandapower_trafo_loading(0)
    net = feederopt.load(_oltc_net())
    for limit, within in ((expected - 1.0, False), (expected + 1.0, True)):
        limited = relax_limits(net, max_loading_percent=limit)
        for ac_net in (limited, limited.replace(origin=None)):
            verdict = rating_verdict(ac_net, ac_power_flow(ac_net))
            assert verdict["max_loading_percent"] == pytest.approx(expected, rel=1e-6)
            assert verdict["max_loading_element"] == "trafo:0"
            assert verdict["within"] is within
            if not within:
                over = verdict["over_rating"][0]
                assert over["id"] == "trafo:0"
                assert over["loading_percent"] == pytest.approx(expected, rel=1e-6)
                assert over["limit_percent"] == pytest.approx(limit)


RATING_KA, LIMIT = 0.06, 80.0
SCALES = {"light": 0.6, "heavy": 1.4}


def _rated_tables() -> dict[str, pl.DataFrame]:
    t = tiny_tables()
    t["branches"] = t["branches"].with_columns(
        pl.when(pl.col("kind") == "line").then(pl.lit(RATING_KA)).otherwise(None)
        .cast(pl.Float64).alias("i_max_ka"))
    return t


def test_scenarios_report_the_loading_of_the_rating(tmp_path: Path) -> None:
    """A folder network (no pandapower net behind it) solved over two scenarios at
    ``--max-loading 80``: each scenario's largest loading, and the overall one, is
    pandapower's of the hand-built net at the scenario's loads."""
    tables = _rated_tables()
    write_folder(feederopt.Network.from_tables(**tables, name="tiny"), tmp_path / "net")
    loads = tables["loads"]
    rows = [{"scenario": s, "kind": "load", "element": r["id"], "p_mw": k * r["p_mw"],
             "q_mvar": k * r["q_mvar"], "weight": 1.0}
            for s, k in SCALES.items() for r in loads.iter_rows(named=True)]
    pl.DataFrame(rows).write_csv(tmp_path / "sc.csv")
    res = CliRunner().invoke(app, ["solve", str(tmp_path / "net"), "--scenarios",
                                   str(tmp_path / "sc.csv"), "--max-loading", str(LIMIT),
                                   "--workers", "1", "--time-limit", "30", "--json",
                                   str(tmp_path / "r.json")], env=ENV)
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    opened = {b["id"] for b in doc["open_branches"]}
    truth = {}
    for s, k in SCALES.items():
        net = tiny_pandapower_net(opened, copy.deepcopy(tables), loads={
            r["id"]: (k * r["p_mw"], k * r["q_mvar"]) for r in loads.iter_rows(named=True)})
        runpp_quiet(net)
        lp = net.res_line.loading_percent
        truth[s] = (float(lp.max()), str(net.line.at[int(lp.idxmax()), "name"]))
    assert 50.0 < truth["heavy"][0] < LIMIT  # 75-100 % of the limit: read as % of the limit
    acs = {s["scenario"]: s["ac"] for s in doc["scenarios"]}
    for s, (loading, element) in truth.items():
        assert acs[s]["max_loading_percent"] == pytest.approx(loading, rel=1e-6), s
        assert acs[s]["max_loading_element"] == element
        assert acs[s]["within_limits"] is True
    top = doc["stochastic"]
    assert top["ac_max_loading_percent"] == pytest.approx(truth["heavy"][0], rel=1e-6)
    out = " ".join(res.output.split())
    assert (f"largest AC loading over the scenarios: {truth['heavy'][0]:.2f} % of its rating "
            f"({truth['heavy'][1]}, scenario heavy; limit 80 %)") in out
