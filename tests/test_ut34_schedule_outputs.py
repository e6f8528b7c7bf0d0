"""What ``feederopt schedule`` prints, user test ut34_schedule finding 6.

docs/schedule.md lists under "Output" the worst case found as a table (each load that deviates
with its hours above and below its forecast, each renewable unit that falls short with its
hours), but the console of a robust run printed only totals. With ``--hourly-topology
--switch-cost`` the number of switching actions and their cost were only in the JSON's
``first_stage_cost``. Now the console prints the worst case (compact: hours as runs, at most
12 elements and a count of the others) and the switching actions with their cost, and the
report gives the switching actions too.

Truth: the worst-case table against the result JSON's ``worst_case`` (hours grouped into runs
by the test's own code) and a hand-written worst case; the switching actions counted from the
JSON's open lines per hour (the branches that change state between two hours), which must
equal the solver's first-stage cost divided by the switching price (no DG commitment).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.schedule import WORST_CASE_ROWS, _print_worst_case
from feederopt.report.schedule import render_schedule_report
from feederopt.results.schedule import hour_spans, worst_case_rows

DATA = Path(__file__).parent / "data" / "ut34_schedule"
NET = DATA / "net1.json"
WIDE = CliRunner(env={"COLUMNS": "400"})  # no wrapped rows, whatever the worker


def _devices(tmp_path: Path) -> Path:
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("dg.csv", "ess.csv", "ev.csv", "pv.csv"):
        shutil.copy(DATA / name, dev / name)
    return dev


def _runs(hours: list[int]) -> str:
    """The test's own grouping of hours into runs: 0,1,2,7 -> '0-2, 7'."""
    out, hours = [], sorted(hours)
    i = 0
    while i < len(hours):
        j = i
        while j + 1 < len(hours) and hours[j + 1] == hours[j] + 1:
            j += 1
        out.append(str(hours[i]) if i == j else f"{hours[i]}-{hours[j]}")
        i = j + 1
    return ", ".join(out) or "-"


def test_worst_case_rows_by_hand() -> None:
    wc = {"loads": {"5": {"0": 1, "1": 1, "2": 1, "7": -1}, "9": {"4": -1}},
          "renewables_down": {"PV1": [3, 1]}}
    assert worst_case_rows(wc, compact=True) == [
        {"element": "load at bus 5", "hours above the forecast": "0-2",
         "hours below the forecast": "7", "hours short of its availability": "-"},
        {"element": "load at bus 9", "hours above the forecast": "-",
         "hours below the forecast": "4", "hours short of its availability": "-"},
        {"element": "renewable unit PV1", "hours above the forecast": "-",
         "hours below the forecast": "-", "hours short of its availability": "1, 3"}]
    # the report's form lists every hour
    assert worst_case_rows(wc)[0]["hours above the forecast"] == "0, 1, 2"
    assert hour_spans([]) == "-" and hour_spans([5, 3, 4, 9, 10, 0]) == "0, 3-5, 9-10"


def test_console_worst_case_is_truncated_with_a_count(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    loads = {str(b): {"3": 1} for b in range(30)}
    _print_worst_case({"loads": loads, "renewables_down": {}, "load_deviations": 30,
                       "renewable_deviations": 0})
    out = capsys.readouterr().out
    assert out.count("load at bus") == WORST_CASE_ROWS == 12
    assert f"... and {30 - WORST_CASE_ROWS} more element(s) deviate" in " ".join(out.split())
    _print_worst_case({"loads": {}, "renewables_down": {}, "load_deviations": 0,
                       "renewable_deviations": 0})
    assert "no deviation, the forecast" in capsys.readouterr().out


def test_robust_console_prints_the_worst_case_table(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = WIDE.invoke(app, ["schedule", str(NET), "--profiles", str(DATA / "profiles.csv"),
                                 "--devices", str(_devices(tmp_path)), "--hours", "2",
                                 "--no-ac-check", "--robust-budget", "1,1", "--gamma", "0.3",
                                 "--time-limit", "60", "--json", str(out)])
    assert r.exit_code == 0, r.output
    wc = json.loads(out.read_text())["worst_case"]
    assert wc["load_deviations"] > 0  # the run found a worst case that deviates
    lines = [" ".join(line.replace("│", " ").split()) for line in r.output.splitlines()]
    assert any(line.startswith("worst case found:") for line in lines)
    for bus, by_hour in wc["loads"].items():
        up = _runs([int(h) for h, s in by_hour.items() if s > 0])
        down = _runs([int(h) for h, s in by_hour.items() if s < 0])
        assert f"load at bus {bus} {up} {down} -" in lines, (bus, r.output)
    for unit, hours in wc["renewables_down"].items():
        assert f"renewable unit {unit} - - {_runs(hours)}" in lines


def test_hourly_topology_prints_its_switching_actions(tmp_path: Path) -> None:
    out = tmp_path / "h.json"
    r = WIDE.invoke(app, ["schedule", str(NET), "--profiles",
                                 str(DATA / "profiles2.csv"), "--devices",
                                 str(_devices(tmp_path)), "--hours", "4", "--no-ac-check",
                                 "--hourly-topology", "--switch-cost", "0.02",
                                 "--time-limit", "60", "--json", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    hours = [set(row) for row in doc["open_lines_by_hour"]]
    actions = sum(len(hours[h] ^ hours[h - 1]) for h in range(1, len(hours)))
    # the solver's first-stage cost is the switching cost alone here (no DG commitment)
    assert doc["first_stage_cost"] == pytest.approx(0.02 * actions, abs=1e-9)
    assert actions > 0  # the user's profile makes the topology change over the day
    text = " ".join(r.output.replace("│", " ").split())
    assert (f"switching actions (hourly topology) {actions} ({0.02 * actions:,.4f} $ at "
            "0.02 $ each, in the first-stage cost)") in text
    page = render_schedule_report(doc, b"", "h")
    assert (f'<th scope="row">switching actions (hourly topology)</th><td>{actions} '
            f"({0.02 * actions:,.4f} $ at 0.02 $ each") in page
