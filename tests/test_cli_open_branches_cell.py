"""The console's "open branches" cell of a solve with many open branches (user test ut50_simb
#5: ``solve simbench:1-HV-urban--0-sw`` listed 243 switches with their names in one cell): a
count and the first few, all of them in the JSON, as the limit violations are listed.

A 20 kV star of 13 feeders from one source, each pair of neighbours joined by a tie with an
open switch named ``tie k``; no feeder line switches, so every answer keeps the 12 ties open.
The truth is the net's own switch table (pandapower): its 12 open switches.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandapower as pp
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.results.result import LISTED_MOST

FEEDERS = 13


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    src = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, src)
    kw = dict(length_km=2.0, r_ohm_per_km=0.2, x_ohm_per_km=0.1, c_nf_per_km=10.0,
              max_i_ka=0.4)
    ends = [pp.create_bus(net, 20.0) for _ in range(FEEDERS)]
    for b in ends:
        pp.create_line_from_parameters(net, src, b, **kw)
        pp.create_load(net, b, p_mw=0.2, q_mvar=0.05)
    for k, (a, b) in enumerate(itertools.pairwise(ends)):
        tie = pp.create_line_from_parameters(net, a, b, **kw)
        pp.create_switch(net, a, tie, et="l", closed=False, name=f"tie {k}")
    return net


def test_the_cell_counts_and_the_json_lists_them_all(tmp_path: Path) -> None:
    net = _net()
    open_switches = net.switch.index[~net.switch["closed"]].tolist()
    assert len(open_switches) == FEEDERS - 1 > LISTED_MOST  # more than the cell shows
    path = tmp_path / "star.json"
    pp.to_json(net, str(path))
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "30", "--json",
                                   str(tmp_path / "r.json")], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    # the cell's words, its wrapped lines joined (the table's borders dropped)
    text = " ".join(re.sub("[│┃]", " ", res.output).split())
    more = len(open_switches) - LISTED_MOST
    assert f"{len(open_switches)}: " in text
    assert f"... and {more} more (all in the JSON's open_branches)" in text
    # the first few by name, not the last
    assert "'tie 0'" in text and f"'tie {FEEDERS - 2}'" not in text
    doc = json.loads((tmp_path / "r.json").read_text())
    listed = sorted(int(b["id"].split(":")[1]) for b in doc["open_branches"])
    assert listed == sorted(int(net.switch.at[k, "element"]) for k in open_switches)
