"""A restoration or plan scenario out of time answers the shed-all fallback, and says so
(user test ut39_mixed #1).

``feederopt restore case84tpc --broken 1,20,40,60 --time-limit 2`` spent about 2.5 s of its
limit reading the case (the limit counts from the call, by design), so the answer was the
operation that sheds every sheddable load with every switchable line open. It printed its 79
openings as "switching (from the normal state)" and only the second phase's note; ``plan``
had a note for such scenarios, ``restore`` none. Now ``restore`` notes it (console, JSON),
and the fallback's switching is labelled: ``fallback`` in the JSON (the result's, each
scenario's, each switching row's), a ``fallback`` column in ``switching.parquet`` (restore's
and plan's), and "shed-all fallback (stopped before a restoration)" on the console and in the
reports.

The net: ut39_mixed's ``res2.json`` (``tests/ut39_res2.py``), a 10-bus 10 kV feeder:
source bus 0, lines 0-1-2-3-4, 0-5-6-7, 4-8, 7-9 with switches, normally open ties 3-7,
8-9, 2-6, the line 2-3 (``line:2``) without a switch. A limit of 1e-6 s is always used up by
reading the net. The truth is the net's own data: the fallback opens exactly the working
lines that have a switch and are closed in the normal state (pandapower's ``net.switch``),
and sheds every load off the source bus (hand sum: 2,600 kW; the 500 kW at the source bus is
fed directly).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.cli import app
from ut39_res2 import LOADS_MW, res2

runner = CliRunner(env={"COLUMNS": "240"})
BROKEN = ["line:0"]
LABEL = "shed-all fallback (stopped before a restoration)"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("res2") / "res2.json"
    pp.to_json(res2(), str(path))
    return path


def fallback_openings(broken: list[str]) -> set[str]:
    """The lines the shed-all fallback opens, from the net's own data: every line with a
    switch, closed in the normal state and not broken."""
    net = res2()
    sw = net.switch[net.switch.et == "l"]
    out = {f"line:{int(k)}" for k in sw.element[sw.closed]}
    return out - set(broken)


def off_source_load_kw() -> float:
    return 1000.0 * sum(p for bus, p in LOADS_MW.items() if bus != 0)


def test_the_truth_by_hand() -> None:
    net = res2()
    assert 1000.0 * float(net.load.p_mw.sum()) == pytest.approx(3100.0)
    assert off_source_load_kw() == pytest.approx(2600.0)
    assert fallback_openings(BROKEN) == {"line:1", "line:3", "line:4", "line:5", "line:6",
                                         "line:7", "line:8"}


def test_restore_out_of_time_says_it_is_the_fallback(case: Path) -> None:
    r = restore(str(case), BROKEN, time_limit_s=1e-6, ac_check=False)
    assert r.status == "time_limit"
    assert r.shed_kw == pytest.approx(off_source_load_kw(), abs=1e-6)
    assert r.fallback is True
    rows = r.switching
    assert {w["branch"] for w in rows} == fallback_openings(BROKEN)
    assert all(w["action"] == "open" and w["fallback"] is True for w in rows)
    note = next(n for n in r.notes if LABEL in n)
    assert "no time for the start topology's operation" in note
    assert "no restoration plan" in note and "give more time" in note
    assert "of the 1e-06 s limit, which counts from the call" in note
    doc = r.to_dict()
    assert doc["fallback"] is True and any(LABEL in n for n in doc["notes"])


def test_restore_with_time_is_no_fallback(case: Path) -> None:
    r = restore(str(case), BROKEN, ac_check=False)
    assert r.status == "optimal" and r.fallback is False
    assert all("fallback" not in w for w in r.switching)
    assert not any(LABEL in n for n in r.notes)


def test_the_cli_labels_the_fallback(case: Path, tmp_path: Path) -> None:
    out, js = tmp_path / "r", tmp_path / "r.json"
    res = runner.invoke(app, ["restore", str(case), "--broken", "line:0", "--time-limit",
                              "0.000001", "--no-ac-check", "--json", str(js), "--out",
                              str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert f"{LABEL}: 7 operations: open line:1" in text
    assert f"note: the time limit left no time for the start topology's operation: the " \
           f"answer is the {LABEL}" in text
    doc = json.loads(js.read_text())
    assert doc["fallback"] is True
    sw = pl.read_parquet(out / "switching.parquet")
    assert set(sw["branch"]) == fallback_openings(BROKEN)
    assert sw["fallback"].to_list() == [True] * sw.height
    assert LABEL[0].upper() + LABEL[1:] in (out / "report.html").read_text()


def test_plan_labels_a_fallback_scenario(case: Path, tmp_path: Path) -> None:
    st = plan_settings(harden_budget=0, dg_budget=0)
    p = plan(str(case), broken=BROKEN, settings=st, time_limit_s=1e-6, measures=False,
             ac_check=False)
    (sc,) = p.scenarios
    assert sc.fallback is True and sc.operation.shed_kw == pytest.approx(off_source_load_kw())
    assert {w["branch"] for w in sc.switching} == fallback_openings(BROKEN)
    assert all(w["fallback"] is True for w in sc.switching)
    out = tmp_path / "p"
    res = runner.invoke(app, ["plan", str(case), "--broken", "line:0", "--harden-budget", "0",
                              "--dg-budget", "0", "--time-limit", "0.000001", "--no-ac-check",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert LABEL in " ".join(res.output.split())
    sw = pl.read_parquet(out / "switching.parquet")
    assert set(sw["branch"]) == fallback_openings(BROKEN)
    assert sw["fallback"].to_list() == [True] * sw.height
    assert LABEL in (out / "report.html").read_text()
