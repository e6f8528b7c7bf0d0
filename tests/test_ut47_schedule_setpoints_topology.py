"""User test ut47_sched #5: with ``--hourly-topology`` the hourly set-points (setpoints.csv and
the report's table) held the dispatch but not the hour's switching plan. They now have an
``open_branches`` column (the hour's open branch ids, comma-joined). The truth: the tester's
result files (tests/data/ut47_sched) read as JSON, and pandapower's own case33bw, in which
each hour's open set must leave a radial, connected feeder."""

from __future__ import annotations

import copy
import csv
import json
import warnings
from pathlib import Path

import networkx as nx
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.schedule import render_schedule_report, setpoint_rows

DATA = Path(__file__).parent / "data" / "ut47_sched"


def _radial_in_pandapower(open_ids: list[str]) -> bool:
    """Whether case33bw (pandapower.networks; line index + 1 is the branch id) with the lines
    of ``open_ids`` out and every other line in is a spanning tree of its buses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower.networks as pn

        net = pn.case33bw()
    g = nx.MultiGraph()
    g.add_nodes_from(net.bus.index)
    g.add_edges_from((int(r.from_bus), int(r.to_bus)) for i, r in net.line.iterrows()
                     if str(i + 1) not in open_ids)
    return bool(nx.is_tree(g))


def test_the_testers_hourly_result_gets_the_column() -> None:
    doc = json.loads((DATA / "hourly6.json").read_text())
    assert doc["settings"]["hourly"] is True
    want = [",".join(h) for h in doc["open_lines_by_hour"]]
    # an hour switched as an operator would: 19 closed, the tie 33 (21-8) opened instead
    doc2 = copy.deepcopy(doc)
    doc2["open_lines_by_hour"][3] = ["8", "9", "16", "24", "33"]
    for d, hours in ((doc, want), (doc2, [*want[:3], "8,9,16,24,33", *want[4:]])):
        rows = setpoint_rows(d)
        assert [r["open_branches"] for r in rows] == hours
        assert list(rows[0])[:2] == ["hour", "open_branches"]
    html = render_schedule_report(doc2, b"", "x")
    table = html[html.index('<section id="setpoints">'):]
    assert '<th scope="col">open_branches</th>' in table and "<td>8,9,16,24,33</td>" in table


def test_one_topology_for_the_day_has_no_column() -> None:
    doc = json.loads((DATA / "det.json").read_text())
    assert not doc["settings"]["hourly"]
    assert all("open_branches" not in r for r in setpoint_rows(doc))


def test_cli_setpoints_csv_has_each_hours_radial_plan(tmp_path: Path) -> None:
    out = tmp_path / "s"
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--hourly-topology", "--hours", "2",
                                   "--time-limit", "20", "--no-ac-check", "--out", str(out)])
    assert res.exit_code == 0, res.output
    with (out / "setpoints.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    doc = json.loads((out / "result.json").read_text())
    for h, row in enumerate(rows):
        opened = row["open_branches"].split(",")
        assert opened == doc["open_lines_by_hour"][h] and _radial_in_pandapower(opened)
