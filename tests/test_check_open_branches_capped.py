"""``feederopt check``'s "open branches" row, and the HTML report's "open before"/"open after"
rows, list at most ten branches, their count and how many more the JSON holds, as solve's
console row does (``results.result.listed_text``); they listed every one (session 50's known
item: a SimBench grid's 243 switches in one cell).

case84tpc with its 13 normally-open ties held open has one radial topology, the base case; the
network's own ``normally_open`` column is the truth of which 13 branches the row must count.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app


def test_check_caps_the_open_branch_row(tmp_path: Path) -> None:
    net = feederopt.load("case84tpc")
    ties = net.branches.filter(pl.col("normally_open"))["id"].to_list()
    assert len(ties) == 13
    runner = CliRunner()
    solved = runner.invoke(app, ["solve", "case84tpc", "--hold-open", ",".join(ties),
                                 "--out", str(tmp_path / "r"), "-q"])
    assert solved.exit_code in (0, 3, 4), solved.output
    checked = runner.invoke(app, ["check", str(tmp_path / "r"), "--samples", "2",
                                  "--uncertainty", "0.05", "--json", str(tmp_path / "c.json")],
                            env={"COLUMNS": "240"})
    assert checked.exception is None or isinstance(checked.exception, SystemExit)
    text = " ".join(checked.output.split())
    assert f"13: {', '.join(ties[:10])}, ... and 3 more (all in the JSON's open_branches)" \
        in text, checked.output
    assert ", ".join(ties[10:]) not in text
    assert sorted(json.loads((tmp_path / "c.json").read_text())["open_branches"]) == \
        sorted(ties)
    # the report of the solve's folder: the same rule in its summary rows
    reported = runner.invoke(app, ["report", str(tmp_path / "r"), "--out",
                                   str(tmp_path / "p.html")])
    assert reported.exit_code == 0, reported.output
    page = " ".join(html.unescape((tmp_path / "p.html").read_text()).split())
    for where in ("open_branches", "base.open_branches"):
        # labels with their ends: "13: 84 (5-55), 85 (7-60), ..., 93 (29-39), ... and 3 more"
        shown = r", ".join(rf"{t} \(\d+-\d+\)" for t in ties[:10])
        assert re.search(rf"13: {shown}, \.\.\. and 3 more \(all in the JSON's "
                         rf"{re.escape(where)}\)", page), where
    assert not re.search(rf"{ties[10]} \(\d+-\d+\)", page)
