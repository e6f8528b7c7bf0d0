"""Stock ``ieee13mod``: its transformer XFM1 is above its rating in every radial topology.

The truth is OpenDSS's own: the feeder file is compiled and solved with ``opendssdirect`` in
the test at each radial switch state, found by brute force over the file's seven switch lines
(a state is radial when the graph of the buses, every line and transformer an edge and the
open switches left out, is a tree: networkx), and XFM1's loading is its largest phase current
on either winding against its rated current ``normhkva / (sqrt(3) kV)`` (OpenDSS manual,
Transformer: ``kV`` line-to-line for a 3-phase unit, ``normhkva`` the normal rating; OpenDSS
sets it to 110 % of ``kVA`` when the file does not). No switch relieves XFM1 (bus 634 is a
leaf), so the solve leaves its rating out, answers the loss-minimal topology for the rest
(status optimal) and reports the overload: exit 4 (limits broken in OpenDSS). Fails on the
old code: 281f697 ended without a topology (exit 3), 1a03070 answered "infeasible" (exit 3).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from opendss_states import radial_states, two_terminal_edges

SWITCHES = ["cb_101", "671692", "671700", "701702", "703800", "800801", "801675"]


def _compile(folder: Path) -> None:
    """The stock file, every switch line enabled and given OpenDSS's own ``switch=yes``
    impedance (1 mOhm + j1 mOhm, as the check does): their zero impedance makes OpenDSS's Y
    matrix singular."""
    lines = []
    for line in three_phase_case_path("ieee13mod").read_text().splitlines():
        if any(line.startswith(f"New Line.{sw} ") for sw in SWITCHES):
            line = line.split("!")[0].replace("enabled=n", "enabled=y") + " switch=yes"
        lines.append(line)
    # the folder stays until the test ends: OpenDSS works in the folder of the file compiled
    feeder = folder / "ieee13mod_switches.dss"
    feeder.write_text("\n".join(lines) + "\n")
    dss.Text.Command(f'Compile "{feeder}"')


def _xfm1_loading(open_switches: set[str], folder: Path) -> float:
    """OpenDSS's XFM1 loading [%] with ``open_switches`` open and the other switches closed
    (the taps and capacitors as the file sets them: no control acts). The file's switch lines
    have zero impedance, which OpenDSS cannot invert: each gets OpenDSS's ``switch=yes``
    impedance (1 mOhm + j1 mOhm), as the check does."""
    _compile(folder)
    for sw in open_switches:
        dss.Text.Command(f"Open Line.{sw} term=1")
    dss.Text.Command("Set ControlMode=OFF MaxIterations=100")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    dss.Circuit.SetActiveElement("Transformer.xfm1")
    # OpenDSS's NormAmps of a transformer: normhkva / (sqrt(3) kV) at winding 1
    norm_kva = dss.CktElement.NormalAmps() * math.sqrt(3) * 4.16
    mags = dss.CktElement.CurrentsMagAng()[::2]
    n = dss.CktElement.NumConductors()
    worst = 0.0
    for w in (1, 2):
        dss.Transformers.Name("xfm1")
        dss.Transformers.Wdg(w)
        kv = dss.Transformers.kV()
        rated = norm_kva / (math.sqrt(3) * kv)
        worst = max(worst, max(mags[(w - 1) * n:(w - 1) * n + 3]) / rated)
    return 100.0 * worst


def _radial_states(folder: Path) -> list[set[str]]:
    """Every set of open switches that leaves the buses a tree (brute force)."""
    _compile(folder)
    return [set(state) for state in radial_states(two_terminal_edges(), SWITCHES)]


def test_ieee13mod_xfm1_is_overloaded_whatever_the_switches(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["solve", "ieee13mod", "--json", str(tmp_path / "r.json"),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 4, res.output  # limits broken in OpenDSS, not infeasible
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["status"] == "optimal" and doc["has_solution"]
    assert [f.split(" (")[0] for f in doc["fixed_overloads"]] == ["Transformer xfm1"]
    text = " ".join(res.output.split())
    assert "Transformer.xfm1" in text and "every radial topology" in text
    opened = set(doc["open_switches"])
    check = {o["element"].lower(): o["loading_percent"]
             for o in doc["ac_check"]["loading"]["overloads"]}
    ours = _xfm1_loading(opened, tmp_path)
    assert abs(check["transformer.xfm1"] - ours) < 0.1, (check, ours)
    assert set(check) == {"transformer.xfm1"}  # nothing else is overloaded
    # the report's summary says the ratings are broken and names the worst element
    page = (tmp_path / "out" / "report.html").read_text()
    summary = re.search(r'<section id="summary">(.*?)</section>', page, re.S)
    assert summary is not None
    assert "ratings broken" in summary.group(1)
    m = re.search(r"worst Transformer\.xfm1 at ([0-9.]+) %", page, re.I)
    assert m is not None
    assert abs(float(m.group(1)) - ours) < 0.1
    # the premise: every radial state overloads XFM1 in OpenDSS
    states = _radial_states(tmp_path)
    assert opened in states
    assert len(states) >= 2
    for state in states:
        assert _xfm1_loading(state, tmp_path) > 100.0, state


def test_without_the_check_the_feedbacks_own_solve_says_it(tmp_path: Path) -> None:
    """``--no-ac-check``: the voltage feedback's OpenDSS solve of the answer is the only AC
    solve, and it overloads XFM1 as OpenDSS does (exit 4, the loading on stderr); before, that
    verdict judged voltages only and the run exited 0. ``--max-loading 110`` accepts it."""
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", "ieee13mod", "--no-ac-check", "--json", str(out)])
    assert res.exit_code == 4, res.output
    doc = json.loads(out.read_text())
    assert not doc.get("ac_check")
    text = " ".join(res.output.split())
    m = re.search(r"voltage feedback: OpenDSS's currents of the answer load "
                  r"Transformer\.xfm1 at ([0-9.]+) %", text)
    assert m is not None, text
    assert abs(float(m.group(1)) - _xfm1_loading(set(doc["open_switches"]), tmp_path)) < 0.1
    ok = CliRunner().invoke(app, ["solve", "ieee13mod", "--no-ac-check", "-q",
                                  "--max-loading", "110"])
    assert ok.exit_code == 0, ok.output


def test_the_report_badge_and_a_run_with_no_opendss_solve_say_it(tmp_path: Path) -> None:
    """The report's badge is ``limits_broken`` when OpenDSS's check overloads XFM1 (it was the
    green "optimal" of the MILP while the run exited 4), and with no OpenDSS solve at all
    (``--no-ac-check --no-voltage-feedback``) the model's own fixed overload gives exit 4
    and a line naming it (it was exit 0). The truth that XFM1 is above its rating whatever
    the switches is opendssdirect's (the first test of this file)."""
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", "ieee13mod", "--out", str(out), "-q"])
    assert res.exit_code == 4, res.output
    page = (out / "report.html").read_text()
    assert '<span class="status limits_broken">' in page
    bare = CliRunner().invoke(app, ["solve", "ieee13mod", "--no-ac-check",
                                    "--no-voltage-feedback", "--out", str(tmp_path / "b")])
    assert bare.exit_code == 4, bare.output
    text = " ".join(bare.output.split())
    assert "the model itself puts Transformer xfm1" in text
    assert '<span class="status limits_broken">' in (tmp_path / "b" / "report.html").read_text()
    assert _xfm1_loading(set(json.loads((tmp_path / "b" / "result.json").read_text())
                             ["open_switches"]), tmp_path) > 100.0


def test_the_typed_result_carries_the_verdicts() -> None:
    """The Python API's typed result: ``ac_check.within_limits`` (the JSON has it; the typed
    record had not), False with XFM1 overloaded (opendssdirect, first test), and the fixed
    overload named."""
    from feederopt import solve_three_phase

    res = solve_three_phase("ieee13mod", time_limit_s=60)
    assert res.ac_check is not None
    assert res.ac_check.within_thermal_limits is False and res.ac_check.within_limits is False
    assert res.ac_check.within_voltage_limits is True
    assert res.to_dict()["ac_check"]["within_limits"] is False
    assert [f.split(" (")[0] for f in res.fixed_overloads] == ["Transformer xfm1"]
    assert res.check_broken and not res.model_broken
