"""A budgeted robust run on a passive feeder keeps a topology when time runs out (user test
ut46_robust F1).

``solve case33bw --robust 0.3 --budget 3 --time-limit 40`` ended with "No topology was found":
the SCIP worst-case search spent the limit on the first topology. On a passive feeder the full
box's upper corner (every load x1.3) dominates every point of the budgeted set (the lemma of
``load_monotonicity_violations``), so the run now starts from the full box's robust topology,
feasible there, and keeps it with its upper corner's value as the bound (status time_limit).

Truth: pandapower's Newton-Raphson at every load x1.3 in the returned topology keeps every
voltage within case33bw's 0.9 - 1.1 p.u. (so does every point of the budgeted set, which that
corner dominates), and its AC losses there are at least the worst case found in the set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def test_time_limited_budgeted_run_keeps_the_box_topology(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    out = runner.invoke(app, ["solve", "case33bw", "--robust", "0.3", "--budget", "3",
                              "--time-limit", "6", "--workers", "1", "--json", str(path)])
    assert "No topology was found" not in out.output, out.output
    data = json.loads(path.read_text())
    assert data["status"] == "time_limit"  # not "optimal": the worst case is only bracketed
    summary = data["robust_summary"]
    assert summary["robust_feasible"] is True
    found, bound = summary["worst_case_objective_kw"], summary["worst_case_bound_kw"]
    assert found <= bound
    # feederopt's bus ids of case33bw are MATPOWER's, 1-based: pandapower's index + 1
    opened = {frozenset((int(b["from_bus"]) - 1, int(b["to_bus"]) - 1))
              for b in data["open_branches"]}
    assert len(opened) == 5
    net = pn.case33bw()
    ends = [frozenset((int(f), int(t))) for f, t in zip(net.line.from_bus, net.line.to_bus,
                                                           strict=True)]
    assert opened <= set(ends)
    net.line["in_service"] = [e not in opened for e in ends]
    net.load["scaling"] = 1.3
    pp.runpp(net, algorithm="nr", init="flat")
    assert net.res_bus.vm_pu.min() >= 0.9 - 1e-4
    assert net.res_line.pl_mw.sum() * 1e3 >= found * (1 - 1e-3)
