"""A broken line listed twice (``--broken 2,2,11``, a scenario ``a,0.5,2;2;11``) is usually a
typo for another line: it is accepted (each id counts once) with a warning naming it (user
test ut_res, finding 6).

A backup-DG site listed twice (``restore --dg-sites 3,3``; plan's ``dg_candidates``) is one DG
of ``--dg-size`` there, with the same kind of warning (user test ut35 resil #2: restore merged
it silently; plan sited two DGs at bus 3, a plan restore cannot even state). Truth: the
connectivity shedding of ``tests/resilience_brute.py`` (zhang13 with line 1 broken is one
island without the source: its load less 100 kW per distinct DG site).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.api_resilience import plan, plan_settings, restore
from feederopt.cli import app
from resilience_brute import graph_shed_kw, plan_cost

runner = CliRunner()


def test_restore_warns_about_a_repeated_broken_id() -> None:
    twice = restore("zhang13", ["2", "2", "11"], ac_check=False)
    once = restore("zhang13", ["2", "11"], ac_check=False)
    assert twice.shed_kw == pytest.approx(once.shed_kw, abs=1e-9)  # counted once
    assert twice.broken == once.broken == ["2", "11"]
    warned = [n for n in twice.notes if n.startswith("warning:")]
    assert len(warned) == 1 and "broken names a line more than once: 2" in warned[0]
    assert not any(n.startswith("warning:") for n in once.notes)


def test_cli_restore_prints_the_warning_and_succeeds() -> None:
    res = runner.invoke(app, ["restore", "zhang13", "--broken", "2,2,11", "--no-ac-check"])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "names a line more than once: 2" in res.output


def test_plan_warns_about_a_scenario_listing_a_line_twice(tmp_path: Path) -> None:
    csv = tmp_path / "storm.csv"
    csv.write_text("name,probability,broken\na,0.5,2;2;11\nb,0.5,15;15;3;3\n")
    net = feederopt.load("zhang13")
    r = plan(net, scenarios=csv, measures=False, ac_check=False, time_limit_s=60)
    warned = [n for n in r.notes if n.startswith("warning:")]
    assert len(warned) == 2
    assert "scenario 'a'" in warned[0] and "line(s) 2 more" in warned[0]
    assert "scenario 'b'" in warned[1] and "line(s) 15, 3 more" in warned[1]
    assert [sc.broken for sc in r.scenarios] == [["2", "11"], ["3", "15"]]


def test_restore_warns_about_a_repeated_dg_site_and_sites_one_dg() -> None:
    net = feederopt.load("zhang13")
    r = restore(net, ["1"], dg_sites=["3", "3"], ac_check=False)
    assert r.shed_kw == pytest.approx(graph_shed_kw(net, {"1"}, {"3"}, 100.0), abs=1e-6)
    assert r.dg_sites == ["3"]
    warned = [n for n in r.notes if n.startswith("warning:")]
    assert len(warned) == 1 and "dg_sites names a bus more than once: 3" in warned[0]
    res = runner.invoke(app, ["restore", "zhang13", "--broken", "1", "--dg-sites", "3,3",
                              "--no-ac-check"], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "--dg-sites names a bus more than once: 3" in res.output


def test_plan_counts_a_repeated_dg_candidate_once_and_warns() -> None:
    net = feederopt.load("zhang13")
    st = plan_settings(dg_candidates=("3", "3"), dg_budget=2, harden_budget=0)
    r = plan(net, broken=["1"], settings=st, measures=False, ac_check=False, time_limit_s=60)
    # one candidate, one DG at most: the best of no DG and one DG at 3 (by connectivity)
    best = min(plan_cost(net, [(1.0, {"1"})], (), sites, st) for sites in ((), ("3",)))
    assert r.expected_total == pytest.approx(best, abs=1e-6)
    assert r.dg_sites == ["3"]
    warned = [n for n in r.notes if n.startswith("warning:")]
    assert len(warned) == 1 and "dg_candidates names a bus more than once: 3" in warned[0]
