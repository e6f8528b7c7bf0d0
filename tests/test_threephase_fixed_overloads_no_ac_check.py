"""``--no-ac-check``: the overloads that no switching relieves, from the voltage feedback's own
OpenDSS solve of the answer.

Without the AC check the voltage feedback still solves the answer with OpenDSS, so it has
OpenDSS's currents; ``opendss_fixed_overloads`` used to stay empty all the same (only the
check filled it), and the CLI line and the report row that name the overloads no switching
relieves were missing. Now the feedback's solve fills it, and its note says that the verdict
comes from that solve, since no AC check ran.

The feeder (written here) is a 12.47 kV ring behind a head line ``L0`` (a bridge: every
load's current flows through it whatever the switches), the source at 0.97 p.u.: ``L0``
(rated 94 A) carries the feeder's 2 MW, 92.6 A at 1 p.u. as LinDist3Flow sees it (98.5 %,
so no model-based ``fixed_overloads``), while OpenDSS's currents at about 0.96 p.u. load it
above 100 % in every radial state. The three switches ``sw1``, ``sw2`` and ``tie`` give three
radial states.

The truth is opendssdirect's, computed in the test: every radial state (brute force over the
switch lines: the bus graph a tree, networkx) compiled and solved with OpenDSS's controls
off; ``L0``'s loading is its largest phase-conductor current at either terminal over its
``NormAmps``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.app import EXIT_LIMITS_BROKEN
from opendss_states import radial_states, ring_feeder, solve_switched, two_terminal_edges

SWITCHES = ["sw1", "sw2", "tie"]
FEEDER = ring_feeder("ring4", pu=0.97, l0_amps=94, la1=(3, 300), la2=(0.5, 300), lbc_km=0.5)


def _feeder(folder: Path) -> Path:
    path = folder / "ring4.dss"
    path.write_text(FEEDER)
    return path


def _l0_loading(path: Path) -> dict[frozenset[str], float]:
    """OpenDSS's loading of ``L0`` [% of its NormAmps] in every radial state."""
    solve_switched(path, SWITCHES, set())
    out = {}
    for state in radial_states(two_terminal_edges(), SWITCHES):
        solve_switched(path, SWITCHES, set(state))
        dss.Circuit.SetActiveElement("Line.L0")
        n, nc = dss.CktElement.NumPhases(), dss.CktElement.NumConductors()
        mags = dss.CktElement.CurrentsMagAng()[::2]
        amps = max(mags[t * nc + c] for t in range(2) for c in range(n))
        out[state] = 100.0 * amps / dss.CktElement.NormalAmps()
    return out


def test_the_feedbacks_solve_names_the_overload_no_switching_relieves(tmp_path: Path) -> None:
    path = _feeder(tmp_path)
    truth = _l0_loading(path)
    assert len(truth) == 3
    # the premise: L0 is above its rating in every radial state, in OpenDSS ...
    assert all(pct > 100.5 for pct in truth.values())
    # ... and within it by the model's 1 p.u. currents (92.6 A of 94 A)
    assert 2000.0 / (3 ** 0.5 * 12.47) / 94.0 < 0.99
    out, folder = tmp_path / "r.json", tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", str(path), "--no-ac-check", "--json", str(out),
                                   "--out", str(folder), "--time-limit", "60"])
    assert res.exit_code == EXIT_LIMITS_BROKEN, res.output
    doc = json.loads(out.read_text())
    assert doc.get("ac_check") is None and doc["voltage_feedback"]["enabled"]
    assert doc["status"] == "optimal" and doc["fixed_overloads"] == []
    assert doc["opendss_fixed_overloads"] == ["Line.l0"]
    pct = truth[frozenset(doc["open_switches"])]
    # the note: from the feedback's OpenDSS solve, no AC check, with OpenDSS's loading
    note = next(n for n in doc["notes"] if "(opendss_fixed_overloads)" in n)
    assert note.startswith(f"Line.l0 ({pct:.1f} %): the voltage feedback's OpenDSS solve of "
                           "the answer (no AC check ran: --no-ac-check) puts this above "
                           "100 % of its rating"), note
    assert "LinDist3Flow puts Line.l0 within the rating" in note
    # the console line, as with the check
    text = " ".join(res.output.split())
    assert f"load Line.l0 at {pct:.1f} % of its rating (voltage_feedback in the JSON); no " \
        "switching relieves Line.l0 (no switch changes its flow: a bridge of the feeder's " \
        "graph)" in text, text
    # the report row, with OpenDSS's loading from the feedback's solve
    page = (folder / "report.html").read_text()
    row = re.search(r"no switching relieves \(the voltage feedback&#x27;s OpenDSS solve, no "
                    r"AC check[^<]*</th><td>([^<]*)<", page)
    assert row is not None
    assert row.group(1) == f"Line.l0 ({pct:.1f} %)"
    assert re.findall(r"class=\"status (\w+)\"", page) == ["limits_broken"]


def test_the_check_and_the_feedback_agree(tmp_path: Path) -> None:
    """The Python API: the same list with and without the check, and the note names the
    solve it came from."""
    from feederopt import solve_three_phase

    path = _feeder(tmp_path)
    with_check = solve_three_phase(str(path), time_limit_s=60)
    without = solve_three_phase(str(path), time_limit_s=60, ac_check=False)
    assert with_check.opendss_fixed_overloads == without.opendss_fixed_overloads \
        == ("Line.l0",)
    assert without.open_switches == with_check.open_switches
    assert without.feedback_broken and with_check.check_broken
    assert any(n.startswith("Line.l0 (") and "OpenDSS's check puts this" in n
               for n in with_check.notes)
    # no OpenDSS solve at all: nothing to fill it from (the model's verdict only)
    none = solve_three_phase(str(path), time_limit_s=60, ac_check=False,
                             voltage_feedback=False)
    assert none.opendss_fixed_overloads == ()
