"""User test ut47_report: the result folders' and reports' wording.

#1 ``solve case33bw --robust 0.1 --budget 2`` printed "worst-case losses found 148.542 kW at
extreme point 1 (loads 2 0 3 0 4 0 ... 13 0 ... (20 more))": the first 12 uncertain loads
whatever their sign, while the point moves loads 30 and 32 (+1 in its ``u`` in
extreme_points.parquet; pandapower: case33bw with 7, 9, 14, 32, 37 open and loads 30, 32 at
+10 % loses 148.5418 kW, the tester's check). The loads named are now those with ``u != 0``,
with their signs, on the console and in the report's extreme-point table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import feederopt
from feederopt.cli.scenarios import print_uncertain
from feederopt.report.scenarios import robust_section
from netbuild import tiny
from test_fixb_report_scenarios import records, section, tables


@pytest.fixture(scope="module")
def budget_one() -> Any:
    """tiny (4 loads) at +-30 % with a budget of 1: each extreme point moves one load."""
    r = feederopt.solve(tiny(), robust=0.3, budget=1, time_limit=30, workers=1)
    assert r.has_topology and r.uncertain is not None and r.uncertain.vertices
    return r


def _moved(loads: Any, u: Any) -> set[str]:
    """The loads a point moves, with their signs, straight from its ``u`` (the truth)."""
    return {f"{load}{'+' if x > 0 else '-'}" for load, x in zip(loads, u, strict=True) if x}


def test_the_tester_s_point_names_loads_30_and_32() -> None:
    """The tester's extreme point 1 (rob33/extreme_points.parquet): loads 2-33, ``u`` +1 at
    loads 30 and 32, 0 elsewhere."""
    from feederopt.results.uncertain import deviation_text

    loads = [str(b) for b in range(2, 34)]
    u = [1 if b in (30, 32) else 0 for b in range(2, 34)]
    assert deviation_text(loads, u) == "30+, 32+; the others at nominal"
    assert deviation_text(loads, [0] * len(loads)) == "every load at nominal"
    assert deviation_text(["a", "b"], [1, -1]) == "a+, b-"
    many = deviation_text(loads, [1] * len(loads), shown=3)
    assert many == "2+, 3+, 4+ ... (29 more)"


def test_the_console_names_the_worst_point_s_deviating_loads(
        budget_one: Any, capsys: pytest.CaptureFixture[str]) -> None:
    summary = budget_one.uncertain
    hit = next(v for v in summary.vertices if v.vertex == summary.worst_vertex)
    moved = _moved(summary.uncertain_loads, hit.u)
    assert len(moved) == 1  # the budget: one load deviates
    print_uncertain(budget_one)
    out = " ".join(capsys.readouterr().out.split())
    assert f"(loads {moved.pop()}; the others at nominal)" in out
    assert " 0 " not in out.split("(loads ", 1)[1].split(")", 1)[0]


def test_the_report_names_each_point_s_deviating_loads(budget_one: Any) -> None:
    doc = budget_one.to_dict()
    loads = doc["robust_summary"]["uncertain_loads"]
    rows = records(tables(section(robust_section(doc), "robust"))[0])
    assert len(rows) == len(doc["robust"])
    for row, point in zip(rows, doc["robust"], strict=True):
        cell = row["deviating loads (others at nominal)"]
        named = set(cell.split(";")[0].split(", "))
        assert named == _moved(loads, point["u"]), (cell, point["u"])


# #3 Python's booleans in human text: "within limits (AC, every scenario) True: ...", "AC
# check: within limits True", "within limits (AC check) True", "converged True" beside
# "yes"/"no" in every other row.

def test_the_console_says_yes_or_no_not_true(budget_one: Any,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from feederopt.cli.solve import print_result

    monkeypatch.setenv("COLUMNS", "300")  # each label on one line, whatever the CI's width
    print_result(budget_one)
    out = capsys.readouterr().out
    words = set(out.replace("│", " ").split())
    assert not words & {"True", "False", "True:", "False:"}, out
    flat = " ".join(out.split())
    ac = budget_one.ac_check
    assert ac.converged is True and ac.within_limits is True  # tiny at +-30 %: within
    assert "converged │ yes" in flat and "within limits (AC) │ yes" in flat
    assert "within limits (AC, every extreme point checked) │ yes: the AC power flows" in flat


def test_the_schedule_rows_say_yes_or_no() -> None:
    from feederopt.results.schedule import ac_check_rows, schedule_verdict_rows

    hour = {"converged": True, "max_v_error_pu": 0.001, "v_min_ac": 0.95, "v_max_ac": 1.0}
    assert ac_check_rows([hour], True)[-1] == ("AC check: within limits", "yes")
    assert ac_check_rows([hour], False)[-1] == ("AC check: within limits", "no")
    assert schedule_verdict_rows({"ac_within_limits": True, "within_limits": True}) == [
        ("within limits (AC check)", "yes")]


def test_an_older_file_s_verdict_reads_yes_in_the_report(budget_one: Any) -> None:
    """A result JSON written before the fix keeps "True: ..." in ``ac_all_check.text``: the
    report words it "yes: ..." as well."""
    doc = budget_one.to_dict()
    assert doc["ac_all_check"]["text"].startswith("yes: ")
    doc["ac_all_check"]["text"] = "True: " + doc["ac_all_check"]["text"][5:]
    page = robust_section(doc)
    assert "True" not in page and "yes: the AC power flows" in page


# #4 report of a restore --json file: the hint kept "--broken ..." though the file records
# "broken": ["2"]. The truth is the command line the user ran.

@pytest.mark.parametrize("given", [["--broken", "2"],
                                   ["--broken", "2,11", "--radiality", "seed"]])
def test_report_of_a_restore_json_hints_its_own_command(tmp_path: Path,
                                                       given: list[str]) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app

    runner = CliRunner()
    rj = tmp_path / "rj.json"
    done = runner.invoke(app, ["restore", "zhang13", *given, "--json", str(rj)])
    assert done.exit_code == 0, done.output
    out = runner.invoke(app, ["report", str(rj)], env={"COLUMNS": "400"})
    assert out.exit_code == 2, out.output
    flat = " ".join(out.output.split())
    assert f"run 'feederopt restore zhang13 {' '.join(given)} --out DIR'" in flat, flat
    assert "..." not in flat.split("run '", 1)[1].split("'", 1)[0]


# #5 the balanced solve's branch table had only the model's loss_kw; the restoration's has
# pandapower's loss_ac_kw and q_from_ac_kvar. Truth: pandapower's own case33bw with the
# answer's lines out of service (branch k is net.line k-1, as the tester's pp33.py has it).

@pytest.fixture(scope="module")
def s33(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``feederopt solve case33bw --out DIR --report``'s folder (via :func:`feederopt.save`)."""
    r = feederopt.solve("case33bw", time_limit=30)
    return feederopt.save(r, tmp_path_factory.mktemp("ut47") / "s33", report=True)


def test_the_solve_branch_table_has_pandapower_s_losses_and_flows(s33: Path) -> None:
    import json

    import pandapower as pp
    import pandapower.networks as pn
    import polars as pl

    folder = s33
    table = pl.read_parquet(folder / "branches.parquet")
    doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert {"loss_ac_kw", "q_from_ac_mvar"} <= set(table.columns)
    net = pn.case33bw()
    net.line["in_service"] = True
    opened = {int(b["id"]) for b in doc["open_branches"]}
    for k in opened:
        net.line.at[k - 1, "in_service"] = False
    pp.runpp(net)
    rows = {int(i): row for i, row in zip(table["id"], table.iter_rows(named=True),
                                          strict=True)}
    for k, row in rows.items():
        if k in opened:
            assert row["loss_ac_kw"] == pytest.approx(0.0, abs=1e-9)
            continue
        assert row["loss_ac_kw"] == pytest.approx(
            float(net.res_line.pl_mw.at[k - 1]) * 1e3, rel=1e-6, abs=1e-9)
        assert row["q_from_ac_mvar"] == pytest.approx(
            float(net.res_line.q_from_mvar.at[k - 1]), rel=1e-6, abs=1e-9)
    assert float(table["loss_ac_kw"].sum()) == pytest.approx(doc["ac_check"]["losses_kw"],
                                                             rel=1e-9)
    assert float(table["loss_ac_kw"].sum()) == pytest.approx(
        float(net.res_line.pl_mw.sum()) * 1e3, rel=1e-6)


def test_the_report_labels_timings_engine_counts_and_costs(s33: Path) -> None:
    """The Timings and Engine-counts sections printed result.json's keys (``build_s``,
    ``warm_cuts``), the DOPF's Costs too (``losses_per_h``, ``tap_changes_kw``): each row is
    now words with the unit (the unit by hand from the key's suffix and the docstring of
    :meth:`feederopt.problems.dopf` ``costs``: per hour at the loss price, kW-equivalent)."""
    import json
    import re

    from feederopt.report.labels import labelled

    doc = json.loads((s33 / "result.json").read_text(encoding="utf-8"))
    page = (s33 / "report.html").read_text(encoding="utf-8")
    secs = re.search(r'<section id="timings">(.*?)</section>', page, re.S)
    assert secs is not None and doc["timings"]
    heads = re.findall(r'<th scope="row">(.*?)</th>', secs.group(1))
    assert len(heads) == len(doc["timings"])
    for key, head in zip(doc["timings"], heads, strict=True):
        assert head != key and head.endswith(f"[s] ({key})"), head
    assert "building the model [s] (build_s)" in heads
    engine = re.search(r'<section id="engine">(.*?)</section>', page, re.S)
    if doc.get("engine_stats"):
        assert engine is not None
        rows = re.findall(r'<th scope="row">(.*?)</th>', engine.group(1))
        assert not set(rows) & set(doc["engine_stats"]), rows
    assert list(labelled({"losses_per_h": 1.0, "tap_changes_kw": 2.0, "warm_cuts": 3.0})) == [
        "losses [per h] (losses_per_h)", "tap changes [kW] (tap_changes_kw)",
        "warm-start cuts (count; warm_cuts)"]


# #6 partition's microgrids.png (the tester's plan of ieee37mod, result.json trimmed to what the
# figure draws): the closed tie SWT2 (718-718t2) ran straight through bus 775, whose position
# is the segment's midpoint (by hand: 718 at (2, -10), 718t2 at (14, -12), 775 at (8, -11)),
# so its switch marker sat under 775's; g701 and g738, grid-forming (the case's settings:
# ``can_grid_form``) in dark blocks, had no star.

DATA = Path(__file__).parent / "data" / "ut47_report"


@pytest.fixture(scope="module")
def partition_axes() -> Any:
    import json

    from feederopt.cases import load_three_phase
    from feederopt.report.partition import microgrid_figure

    net = load_three_phase("ieee37mod")
    doc = json.loads((DATA / "partition_ieee37mod.json").read_text(encoding="utf-8"))
    return net, doc, microgrid_figure(net, doc).axes[0]


def _bus_positions(net: Any, ax: Any) -> dict[str, Any]:
    import numpy as np

    from feederopt.report.partition import BUS_GID

    (buses,) = [c for c in ax.collections if c.get_gid() == BUS_GID]
    ids = [str(b) for b in net.buses["id"].to_list()]
    return dict(zip(ids, np.asarray(buses.get_offsets(), float), strict=True))


def test_no_switch_marker_sits_on_a_bus(partition_axes: Any) -> None:
    import numpy as np

    from feederopt.report.partition import BUS_GID, SWITCH_GID
    from feederopt.report.plot import clearance

    net, doc, ax = partition_axes
    assert "swt2" in doc["closed_switches"]
    at = _bus_positions(net, ax)
    assert np.allclose((at["718"] + at["718t2"]) / 2, at["775"])  # the straight tie's middle
    pos = np.array(list(at.values()))
    gap = clearance(pos)
    marks = [c for c in ax.collections if c.get_gid() == SWITCH_GID]
    (bus_layer,) = [c for c in ax.collections if c.get_gid() == BUS_GID]
    assert marks and all(c.get_zorder() > bus_layer.get_zorder() for c in marks)
    points = np.vstack([np.asarray(c.get_offsets(), float) for c in marks])
    assert len(points) == 10  # ieee37mod's switches (4 closed, 6 open in the plan)
    nearest = np.hypot(*(points[:, None, :] - pos[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert (nearest >= gap).all(), nearest


def test_every_grid_forming_der_has_a_star(partition_axes: Any) -> None:
    import numpy as np

    from feederopt.report.partition import FORMING_GID, IDLE_GID

    net, doc, ax = partition_axes
    at = _bus_positions(net, ax)
    gens = net.generators.filter(net.generators["can_grid_form"])
    capable = {str(b) for b in gens["bus"].to_list()}
    assert {"701", "738"} <= capable  # the dark blocks' DERs the tester named
    forming = {g for blk in doc["blocks"] for g in blk["grid_forming"]}

    def starred(gid: str) -> set[str]:
        pts = [np.asarray(c.get_offsets(), float) for c in ax.collections
               if c.get_gid() == gid]
        return {b for b, p in at.items() for q in pts for x in q if np.allclose(x, p)}

    gold, hollow = starred(FORMING_GID), starred(IDLE_GID)
    by_id = dict(zip(gens["id"].to_list(), map(str, gens["bus"].to_list()), strict=True))
    assert gold == {by_id[g] for g in forming}
    assert gold | hollow == capable and not gold & hollow
    assert {"701", "738"} <= hollow
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "grid-forming DER" in labels and any("forming none" in x for x in labels)
