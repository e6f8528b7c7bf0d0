"""The solve report says what its answer is, as the console does (user test ut42_report).

#1 ``solve case33bw --v-min 0.95 --out tight33 --report``: status infeasible, exit 3, the
console's row "open branches (least-violating state, breaks the limits)"; the report showed
"open after", the losses and reduction cards and a "Switching actions" list as a plan, its
verdict "within the limits (AC, true): no" only in the AC check far below. #2 the three-phase
page's badge read the raw token ``limits_broken``. #3 an optimal robust run's only log row
said "master infeasible". #4 "iterations 0" beside two log rows numbered 0, the plot's axis
"row of the iteration log".

The grid: the 9-bus feeder of ut39 (``netbuild.nine_bus_pandapower``) at ``--v-min 0.975``.
Truth: pandapower's power flow of every radial topology (brute force, independent of the
solver): none keeps every bus at 0.975 p.u. or above, and the result's topology puts the
buses counted below at their voltages; for #3 the least worst-case (loads +10 %) losses of
every radial topology, by pandapower."""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
import warnings
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.html import SWITCHES_LEAST_VIOLATING, write_report
from feederopt.report.page import page
from netbuild import NINE_BUS_LINES, nine_bus_pandapower

pp = pytest.importorskip("pandapower")

V_MIN, TOL = 0.975, 1e-4
runner = CliRunner()


def radial_topologies() -> list[tuple[int, ...]]:
    """The open line pairs of the 9-bus feeder that leave a spanning tree (line 0 has no
    switch: always closed)."""
    def root(parent: list[int], x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    out = []
    for opened in itertools.combinations(range(1, len(NINE_BUS_LINES)), 2):
        parent = list(range(9))
        joined = 0
        for k, (u, v) in enumerate(NINE_BUS_LINES):
            if k not in opened and root(parent, u) != root(parent, v):
                parent[root(parent, u)] = root(parent, v)
                joined += 1
        if joined == 8:
            out.append(opened)
    return out


def power_flow(net: Any, opened: tuple[int, ...], scale: float = 1.0) -> Any:
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    net.line["in_service"] = [i not in opened for i in net.line.index]
    net.load["p_mw"] *= scale
    net.load["q_mvar"] *= scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return net


def text(html: str) -> str:
    """The page's words: tags out, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture(scope="module")
def infeasible(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("ut42_report")
    grid = folder / "net9.json"
    pp.to_json(nine_bus_pandapower(), str(grid))
    res = runner.invoke(app, ["solve", str(grid), "--v-min", str(V_MIN), "--out",
                              str(folder / "inf9"), "--report"], env={"COLUMNS": "200"})
    assert res.exit_code == 3, res.output
    return folder / "inf9", res.output


def open_lines(doc: dict[str, Any]) -> tuple[int, ...]:
    return tuple(sorted(int(b["id"].split(":")[1]) for b in doc["open_branches"]))


def test_the_infeasible_report_names_the_least_violating_state(infeasible) -> None:
    folder, console = infeasible
    net = nine_bus_pandapower()
    # truth: no radial topology keeps every bus at V_MIN (pandapower, every one of them)
    best = max(power_flow(net, t).res_bus.vm_pu.min() for t in radial_topologies())
    assert best < V_MIN - TOL
    doc = json.loads((folder / "result.json").read_text())
    ran = power_flow(net, open_lines(doc))
    below = ran.res_bus.vm_pu[ran.res_bus.vm_pu < V_MIN - TOL]
    assert len(below) >= 1
    worst = int(below.idxmin())
    assert "open branches (least-violating state, breaks the limits)" in console
    html = (folder / "report.html").read_text()
    words = text(html)
    summary = words[words.index("Summary"):words.index("Grid")]
    assert "open after (least-violating state, breaks the limits)" in summary
    assert "losses after (least-violating state, breaks the limits)" in summary
    assert "reduction (least-violating state, breaks the limits)" in summary
    # the verdict at the top, with pandapower's count and worst bus
    assert (f"within limits (AC) no: the AC power flow breaks {len(below)} limit(s), the "
            f"worst bus {worst} at {below.min():.4f} p.u. against v_min {V_MIN:.4f} p.u."
            ) in summary
    assert "not a switching plan within the limits" in summary
    assert f"<h2>{SWITCHES_LEAST_VIOLATING}</h2>" in html.replace("&#x27;", "'")
    assert "<h2>Switching actions</h2>" not in html
    # #3: the master's last word is the proof, in plain words (no topology meets the limits)
    assert "master infeasible: no radial topology meets the limits" in words


def _rewritten(folder: Path, target: Path, **changes: Any) -> str:
    """The report of a copy of ``folder`` whose result.json has ``changes``."""
    shutil.copytree(folder, target)
    doc = json.loads((target / "result.json").read_text())
    doc.update(changes)
    (target / "result.json").write_text(json.dumps(doc))
    return write_report(target, force=True).read_text()


def test_a_time_limited_run_whose_ac_check_fails(infeasible, tmp_path: Path) -> None:
    """The same topology as a run stopped by its time limit: without an objective (no
    topology within the limits found) it is the least-violating state, labelled so; with one
    (a topology the model held, the AC power flow does not: pandapower puts a bus below
    V_MIN) the badge, the verdict row and the switching section say that it breaks the
    limits, and the badge is no raw token."""
    folder, _ = infeasible
    doc = json.loads((folder / "result.json").read_text())
    assert power_flow(nine_bus_pandapower(), open_lines(doc)).res_bus.vm_pu.min() < V_MIN
    stopped = text(_rewritten(folder, tmp_path / "stopped", status="time_limit",
                              objective=None, lower_bound="-inf"))
    assert "open after (least-violating state, breaks the limits)" in stopped
    assert "the run stopped (status time_limit) before it found a topology within" in stopped
    assert SWITCHES_LEAST_VIOLATING in stopped
    html = _rewritten(folder, tmp_path / "plan", status="time_limit", objective=90.6,
                      losses_kw=90.6, lower_bound=80.0, gap=0.1, diagnosis=None)
    words = text(html)
    assert '<span class="status limits_broken">breaks the limits</span>' in html
    assert "open after line:" in words  # not a least-violating state: the model held it
    assert "within limits (AC) no: the AC power flow breaks" in words
    assert ("Switching actions warning: the AC power flow of the state after these actions "
            "breaks") in words
    assert ">time_limit</span>" not in html and ">limits_broken</span>" not in html


def test_badges_say_words_not_tokens() -> None:
    for token, words in (("limits_broken", "breaks the limits"),
                         ("time_limit", "stopped at the time limit"),
                         ("optimal", "optimal")):
        html = page("t", token, "s", "", "src")
        assert f'<span class="status {token}">{words}</span>' in html


def test_zero_iterations_and_the_plot_axis(tmp_path: Path) -> None:
    """The 9-bus feeder within its own limits: probing closes the gap before any master
    solve (both log rows numbered 0); the summary says so as the console does, the log says
    what its numbers are and the plot's axis is the time."""
    from feederopt.report.plot import TIME_AXIS, convergence_axis

    grid = tmp_path / "net9.json"
    pp.to_json(nine_bus_pandapower(), str(grid))
    res = runner.invoke(app, ["solve", str(grid), "--out", str(tmp_path / "ok9"), "--report"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "ok9" / "result.json").read_text())
    log = doc["iteration_log"]
    # truth: the least-loss radial topology by pandapower is the one kept
    net = nine_bus_pandapower()
    best = min(radial_topologies(), key=lambda t: power_flow(net, t).res_line.pl_mw.sum())
    assert open_lines(doc) == best
    assert doc["iterations"] == 0 and [r["iteration"] for r in log].count(0) == len(log) >= 2
    words = text((tmp_path / "ok9" / "report.html").read_text())
    console = " ".join(res.output.split())
    said = re.search(r"iterations\W+(0 \(closed before any master iteration: [^)]*\))",
                     console)
    assert said is not None, console
    assert f"iterations (master MILP solves) {said.group(1)}" in words
    assert f"the iteration log's {len(log)} row(s) numbered 0 are the steps before" in words
    assert "iteration (master solves so far)" in words
    assert convergence_axis(log)[1] == TIME_AXIS
    assert "row of the iteration log" not in words


def test_an_optimal_robust_runs_master_note(tmp_path: Path) -> None:
    """#3: the robust run's master proves that no topology beats the incumbent; the log says
    so in words. Truth: the topology kept has the least losses at the upper corner (every
    load +10 %, the worst case of a passive feeder) of every radial topology (pandapower)."""
    import feederopt

    grid = tmp_path / "net9.json"
    pp.to_json(nine_bus_pandapower(), str(grid))
    r = feederopt.solve(str(grid), robust=0.1)
    assert str(r.status.value) == "optimal"
    net = nine_bus_pandapower()
    best = min(radial_topologies(),
               key=lambda t: power_flow(net, t, 1.1).res_line.pl_mw.sum())
    opened = tuple(sorted(int(b["id"].split(":")[1]) for b in r.open_branches))
    assert opened == best
    notes = [rec.note for rec in r.log]
    assert ("master infeasible: no topology beats the incumbent, which is optimal (within "
            "the gap)") in notes
    assert "master infeasible" not in notes
