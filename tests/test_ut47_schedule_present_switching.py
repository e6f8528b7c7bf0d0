"""User test ut47_sched #6: the switch moves from the network's present state (its
normally-open tie lines) to the schedule's topology were neither counted nor reported, and
the refusal of ``--switch-cost`` without ``--hourly-topology`` claimed the day "switches
nothing". The truth for the present state is pandapower's own case33bw
(``pandapower.networks``: the out-of-service lines are the normally-open ties, line index + 1
the branch id)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.api_schedule import schedule
from feederopt.cli import app
from feederopt.report.schedule import render_schedule_report
from feederopt.results.schedule import present_switching_text


def _pp_open() -> set[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandapower.networks as pn

        net = pn.case33bw()
    return {str(i + 1) for i in net.line.index[~net.line.in_service.astype(bool)]}


@pytest.mark.parametrize("hourly", [False, True])
def test_moves_from_the_present_state(tmp_path: Path, hourly: bool) -> None:
    present = _pp_open()
    assert present == {"33", "34", "35", "36", "37"}  # the five tie lines
    res = schedule("case33bw", devices=tmp_path, hours=2, time_limit_s=20, ac_check=False,
                   hourly=hourly)
    hour0 = set(res.open_lines_by_hour[0])
    block = res.to_dict()["switching_from_present"]
    assert set(block["to_open"]) == hour0 - present and block["to_open"]
    assert set(block["to_close"]) == present - hour0 and block["to_close"]
    assert block["moves"] == len(hour0 ^ present)
    assert block["topology"] == ("hour 0's topology" if hourly else "the day's topology")
    text = present_switching_text(res.to_dict())
    assert text is not None and text.startswith(f"{len(hour0 ^ present)} moves to ")
    assert f"close {', '.join(block['to_close'])}" in text and "not in the objective" in text
    html = render_schedule_report(res.to_dict(), b"", "x")
    assert "switching from the present state" in html


def test_no_moves_and_older_results() -> None:
    same = {"switching_from_present": {"to_open": [], "to_close": [], "moves": 0,
                                       "topology": "the day's topology"}}
    assert present_switching_text(same) == ("none: the day's topology is the network's "
                                            "present state")
    assert present_switching_text({}) is None  # a result written before


def test_cli_row_and_switch_cost_refusal(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--devices", str(tmp_path),
                                   "--hours", "2", "--time-limit", "20", "--no-ac-check"])
    out = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "switching from the present state" in out
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--hours", "2", "--switch-cost",
                                   "5"])
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "switches nothing" not in out
    assert "moves between consecutive hours" in out and "present state" in out
