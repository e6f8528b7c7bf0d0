"""A robust run stopped after its first round evaluated one topology and compared it with
none; the console's verdict called it "the only topology evaluated, compared with no other"
(commit e9f66bed, user test ut51_recheck #1), but the row above it still read "open branches
(least-violating state, breaks the limits)", and so did the report's "open after", its
switching heading and diagnosis, and ``feederopt check``'s row.

The run is ``feederopt solve case33bw --robust 0.3 --v-min 0.97 --time-limit 0.01 --workers
1`` with the round grace made large, so that the serial first round always ends (past the
limit) instead of being dropped for the base-case fallback: one topology evaluated. The truth
that it is the grid's own topology, looked at alone: its open branches are the five
normally-open ties of the network's data; that it breaks the limits: pandapower's case33bw
(Baran & Wu 1989) at that topology has buses below 0.97 p.u. at the nominal load (``runpp``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.execution import executors as ex_mod
from feederopt.report.html import kept_name
from feederopt.solvers.status import (
    BASE_FALLBACK_STATE,
    LEAST_VIOLATING_STATE,
    ONLY_EVALUATED_STATE,
    kept_state_name,
    only_topology_evaluated,
    only_topology_evaluated_in,
)

V_MIN = 0.97


def test_one_evaluated_topology_is_labelled_so_in_console_report_and_check(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    net = pn.case33bw()
    pp.runpp(net)
    assert float(net.res_bus.vm_pu.min()) < V_MIN  # the grid's own topology breaks v_min
    ties = feederopt.load("case33bw").branches.filter(pl.col("normally_open"))["id"]
    # the first (serial) round is never dropped at the limit: one topology evaluated
    monkeypatch.setattr(ex_mod, "ROUND_GRACE_S", 1e6)
    folder = tmp_path / "run"
    res = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "solve", "case33bw", "--robust", "0.3", "--v-min", str(V_MIN), "--time-limit", "0.01",
        "--workers", "1", "--out", str(folder)])
    assert "Traceback" not in res.output, res.output
    doc = json.loads((folder / "result.json").read_text())
    assert doc["status"] == "time_limit" and not doc.get("base_fallback")
    assert doc["robust_summary"]["topologies_evaluated"] == 1
    assert sorted(str(b["id"]) for b in doc["open_branches"]) == sorted(ties.to_list())
    text = " ".join(res.output.split())
    assert "open branches (only topology evaluated, breaks the limits)" in text, res.output
    assert "this is the only topology evaluated, compared with no other" in text
    assert "least-violating state" not in text

    html = feederopt.write_report(folder, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "open after (only topology evaluated, breaks the limits)" in html
    assert "Switch changes to the only topology evaluated" in html
    assert "Diagnosis: only topology evaluated" in html
    assert "the state after is the only topology evaluated before the run stopped" in html
    assert "least-violating state" not in html
    assert "least-violating configuration" not in html

    checked = CliRunner(env={"COLUMNS": "240"}).invoke(app, [
        "check", str(folder / "result.json"), "-n", "4", "--seed", "1",
        "--json", str(tmp_path / "c.json")])
    assert "Traceback" not in checked.output, checked.output
    said = " ".join(checked.output.split())
    assert "open branches (only topology evaluated, breaks the limits)" in said
    assert "least-violating" not in said
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["least_violating"] is True and report["only_evaluated"] is True


def _doc(n: int | None, unc: int | None = 0, status: str = "time_limit",
         **more: object) -> dict[str, object]:
    return {"status": status, "objective": None, "has_topology": True,
            "robust_summary": {"topologies_evaluated": n, "uncertified_topologies": unc},
            **more}


@pytest.mark.parametrize(("doc", "name"), [
    (_doc(1), ONLY_EVALUATED_STATE),
    (_doc(1, status="interrupted"), ONLY_EVALUATED_STATE),
    # compared with another: least-violating of two
    (_doc(2), LEAST_VIOLATING_STATE),
    # one decided, one cut away uncertified: not compared, but the search met two (the
    # verdict's "whose worst case the search decided"), as e9f66bed left it
    (_doc(2, unc=1), LEAST_VIOLATING_STATE),
    (_doc(None), LEAST_VIOLATING_STATE),
    # a proof covers every radial topology; the AC choice compared candidates
    (_doc(1, status="infeasible"), LEAST_VIOLATING_STATE),
    (_doc(1, least_violating_ac={"changed": True}), LEAST_VIOLATING_STATE),
    # the grid's own topology taken at the limit keeps its own name
    (_doc(1, base_fallback=True), BASE_FALLBACK_STATE),
    # no robust summary: a deterministic or scenario run
    ({"status": "time_limit", "objective": math.nan, "has_topology": True},
     LEAST_VIOLATING_STATE),
])
def test_the_name_follows_the_count_of_topologies_compared(doc: dict[str, object],
                                                           name: str) -> None:
    assert kept_name(doc) == name


def test_the_rule_itself() -> None:
    assert only_topology_evaluated("time_limit", 1)
    assert not only_topology_evaluated("time_limit", 1, uncertified=1)
    assert not only_topology_evaluated("optimal", 1)
    assert not only_topology_evaluated("time_limit", 1, ac_moved=True)
    assert not only_topology_evaluated_in(_doc(3))
    assert kept_state_name(False, True) == ONLY_EVALUATED_STATE
    assert kept_state_name(True, True) == BASE_FALLBACK_STATE
