"""A voltage-feedback partition result read back (``feederopt check``) and its report.

``feederopt partition ieee37mod`` (0 %, the feedback on by default) keeps a plan solved with
the model's voltage limits tightened (docs/partition-ac-check.md, "Voltage feedback"). The
result JSON stores those shifts (``voltage_feedback.limit_shifts_pu``), and ``feederopt check``
rebuilds the problem with them: its AC check puts the grid-forming source at the plan's own
set-point (0.91543 p.u.), not at the set-point of the unshifted rebuild (0.91553 p.u.). On the
code before (5dd4b30) the check's JSON has no set-point and the rebuild is unshifted, so
``test_check_reads_back_the_plans_own_set_point`` fails there.

The report's lowest OpenDSS voltage of the kept round is compared with an OpenDSS power flow
run here (:func:`~feederopt.validation.partition.ac_sample_share` at the nominal load, the plan
read back from result.json, the grid-forming source at the set-point the result reports, on the
unshifted problem whose indices alone are used), not with a figure of ours."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.api_partition import check_partition_result, default_settings_path
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.problems.partition import PartitionPlan, build_partition_data, read_settings
from feederopt.report.partition import feedback_rounds, render_partition_report

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict, Path]:
    tmp = tmp_path_factory.mktemp("fixh")
    p, out = tmp / "p.json", tmp / "out"
    res = runner.invoke(app, ["partition", "ieee37mod", "--samples", "5", "--json", str(p),
                              "--out", str(out), "--time-limit", "120", "--quiet"])
    assert res.exit_code == 0, res.output
    return p, json.loads(p.read_text(encoding="utf-8")), out


def _unshifted():
    net = load_three_phase("ieee37mod")
    st, _ = read_settings(default_settings_path("ieee37mod"), net)
    return net, build_partition_data(net, st)


def _plan(doc: dict) -> PartitionPlan:
    p = doc["plan"]
    return PartitionPlan(energised=np.asarray(p["energised"], bool),
                         closed=np.asarray(p["closed"], bool),
                         grid_forming=np.asarray(p["grid_forming"], bool),
                         p_set=np.asarray(p["p_set"], float),
                         q_set=np.asarray(p["q_set"], float))


def test_check_reads_back_the_plans_own_set_point(run, tmp_path) -> None:
    p, doc, _ = run
    fb = doc["voltage_feedback"]
    assert fb["kept_round"] > 0  # the plan kept was solved with tightened limits
    shifts = fb["limit_shifts_pu"]
    assert shifts["lower"] and all(v > 0 for side in shifts.values() for v in side.values())
    (mg,) = doc["microgrids"]
    (gf,) = mg["grid_forming"]
    c_json = tmp_path / "c.json"
    res = runner.invoke(app, ["check", str(p), "--samples", "5", "--json", str(c_json),
                              "--quiet"])
    assert res.exit_code == 0, res.output
    c = json.loads(c_json.read_text(encoding="utf-8"))
    assert abs(c["grid_forming_v_pu"][gf] - mg["v_set_pu"]) <= 1e-6
    assert abs(c["grid_forming_v_pu"][gf] - fb["rounds"][fb["kept_round"]]["grid_forming"][gf]
               ) <= 1e-6
    assert c["ac_pct"] == doc["checks"]["ac_pct"]
    assert c["lindist3flow_pct"] == doc["checks"]["lindist3flow_pct"]
    shown = runner.invoke(app, ["check", str(p), "--samples", "2"], env={"COLUMNS": "200"})
    assert f"grid-forming set-point {gf}" in shown.output
    assert f"{mg['v_set_pu']:.5f} p.u." in shown.output  # the console shows the plan's too
    # the test can tell: the unshifted rebuild's set-point (the old check's) is another one
    from feederopt.validation.partition import AcIsland

    net, data = _unshifted()
    old = AcIsland(net, data, _plan(doc)).v_set
    assert max(abs(v - mg["v_set_pu"]) for v in old.values()) > 5e-5


@pytest.mark.parametrize("change, words", [
    (lambda fb: fb.pop("limit_shifts_pu"), "does not store"),
    (lambda fb: fb["limit_shifts_pu"]["lower"].update({"nosuchbus.a": 0.01}),
     "nosuchbus.a"),
    (lambda fb: fb["limit_shifts_pu"]["upper"].update({"701.a": -1.0}), "701.a"),
    (lambda fb: fb["limit_shifts_pu"].update({"sideways": {}}), "limit_shifts_pu"),
])
def test_unreadable_shifts_are_a_typed_problem(run, change, words) -> None:
    _, doc, _ = run
    bad = copy.deepcopy(doc)
    change(bad["voltage_feedback"])
    with pytest.raises(InputError) as exc:
        check_partition_result(bad, samples=1, path="p.json")
    text = str(exc.value.problems[0].message)
    assert words in text
    assert exc.value.problems[0].component == "result"


def _section(html: str) -> str:
    m = re.search(r'<section id="voltage-feedback">(.*?)</section>', html, re.S)
    assert m is not None
    return m.group(1)


def test_report_shows_the_rounds_and_opendss_agrees(run) -> None:
    _, _, out = run
    doc = json.loads((out / "result.json").read_text(encoding="utf-8"))
    sec = _section((out / "report.html").read_text(encoding="utf-8"))
    rows = re.findall(r"<tr>(.*?)</tr>", sec.split("<tbody>")[1], re.S)
    cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
    rounds = doc["voltage_feedback"]["rounds"]
    assert len(cells) == len(rounds) >= 2
    for row, x in zip(cells, rounds, strict=True):
        assert row[0].startswith(str(x["round"]))
        assert float(row[1].replace(",", "")) == pytest.approx(x["objective"], abs=0.006)
        assert float(row[2]) == pytest.approx(x["largest_shift_pu"], abs=6e-6)
        assert float(row[3]) == pytest.approx(x["opendss_v_min_pu"], abs=6e-6)
        assert float(row[4]) == pytest.approx(x["opendss_v_max_pu"], abs=6e-6)
    assert cells[-1][0].endswith("(kept)")
    # OpenDSS at the kept plan (the last round) and the set-point the result reports
    from feederopt.validation.partition import ac_sample_share

    net, data = _unshifted()
    (mg,) = doc["microgrids"]
    ac = ac_sample_share(net, data, _plan(doc), uncertainty=0.0, samples=1,
                         v_set_pu=mg["v_set_pu"])
    assert ac.converged == 1
    assert abs(float(cells[-1][3]) - ac.worst_low_voltage_pu) <= 1e-4
    assert abs(float(cells[-1][4]) - ac.worst_high_voltage_pu) <= 1e-4


def test_no_section_when_the_feedback_was_off_or_not_needed() -> None:
    one = {"round": 0, "objective": 1.0, "largest_shift_pu": 0.0, "opendss_v_min_pu": 0.95,
           "opendss_v_max_pu": 1.0, "within_voltage_limits": True}
    off = {"case": "x", "voltage_feedback": {"enabled": False, "rounds": [], "stopped": "off"}}
    held = {"case": "x", "voltage_feedback": {"enabled": True, "rounds": [one],
                                              "kept_round": 0, "stopped": "within limits"}}
    for r in (off, held, {"case": "x"}):
        assert feedback_rounds(r) == []
        assert 'id="voltage-feedback"' not in render_partition_report(r, b"", "out")
    low = dict(one, opendss_v_min_pu=0.899, within_voltage_limits=False)
    outside = {"case": "x", "voltage_feedback": {"enabled": True, "rounds": [low],
                                                 "kept_round": 0, "stopped": "time limit"}}
    assert "0.89900" in _section(render_partition_report(outside, b"", "out"))
