"""OpenDSS's own verdict that no switching relieves an overload (ut_3ph2 finding #5).

The feeder is IEEE 37 (the shipped file) with SubXF's ``normhkva`` lowered to 3220 kVA, a
tie switch between buses 736 and 741 and a ``SwtControl`` on line L30, so that the loop
736-710-734-737-738-711-741 has two radial states. LinDist3Flow puts SubXF at about 95 % of
that rating (so it is no model-based ``fixed_overloads``), while OpenDSS's currents load it
about 105 %: the run exits 4, and the result must say that no switching relieves it, from
OpenDSS's verdict (``opendss_fixed_overloads``, a note, the CLI line and the report row).
Before, ``fixed_overloads`` was empty and nothing said that another topology would not help.

The truth is opendssdirect's, computed here: the file is compiled and solved in every radial
state (found by brute force over the switch lines: the bus graph, every line and transformer
an edge and the open switches left out, is a tree, networkx), with OpenDSS's controls off
after the file's own solve (as the check holds the taps), and SubXF's loading is its largest
winding-conductor current over the rated current ``normhkva / (sqrt(3) kV_w)`` (OpenDSS
manual, Transformer: ``kV`` line-to-line for a 3-phase unit). SubXF is above its rating in
every radial state, and the answer's loading matches the check's.
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
from opendss_states import radial_states, solve_switched, two_terminal_edges

SWITCHES = ["tie1", "l30"]


def _feeder(folder: Path) -> Path:
    """The edited IEEE 37 in ``folder`` (with its line codes and coordinates); the folder
    lives for the whole test (OpenDSS works in the folder of the file it compiled)."""
    src = three_phase_case_path("ieee37")
    for other in src.parent.iterdir():
        if other.is_file() and other.name != src.name:
            (folder / other.name).write_bytes(other.read_bytes())
    out = []
    for line in src.read_text().splitlines():
        out.append(line)
        if line.startswith("~ wdg=2 bus=799 "):
            out.append("~ normhkva=3220")
        if line.startswith("New Line.L35"):
            out.append("New Line.Tie1 Phases=3 Bus1=736.1.2.3 Bus2=741.1.2.3 LineCode=724 "
                       "Length=0.3 Switch=y enabled=n")
            out.append("New SwtControl.c30 SwitchedObj=Line.L30 SwitchedTerm=1 Normal=c "
                       "Action=c")
    assert sum("normhkva=3220" in x for x in out) == 1 and any("Tie1" in x for x in out)
    path = folder / "ieee37_tie.dss"
    path.write_text("\n".join(out) + "\n")
    return path


def _compile(path: Path, open_switches: set[str]) -> None:
    solve_switched(path, SWITCHES, open_switches)


def _subxf_loading(path: Path, open_switches: set[str]) -> float:
    """OpenDSS's SubXF loading [% of normhkva] with ``open_switches`` open."""
    _compile(path, open_switches)
    dss.Circuit.SetActiveElement("Transformer.subxf")
    mags = dss.CktElement.CurrentsMagAng()[::2]
    n = dss.CktElement.NumConductors()
    dss.Transformers.Name("subxf")
    worst = 0.0
    for w in (1, 2):
        dss.Transformers.Wdg(w)
        rated = 3220.0 / (math.sqrt(3) * dss.Transformers.kV())
        worst = max(worst, max(mags[(w - 1) * n:(w - 1) * n + 3]) / rated)
    return 100.0 * worst


def _radial_states(path: Path) -> list[set[str]]:
    """Every set of open switches that leaves the buses a tree (brute force)."""
    _compile(path, set())
    return [set(state) for state in radial_states(two_terminal_edges(), SWITCHES)]


def test_an_overloaded_bridge_is_named_from_opendss(tmp_path: Path) -> None:
    path = _feeder(tmp_path)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--json", str(out),
                                   "--out", str(tmp_path / "rep"), "--time-limit", "60"])
    assert res.exit_code == 4, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal"
    # the model holds SubXF within its rating: no model-based fixed overload ...
    assert doc["fixed_overloads"] == []
    # ... but OpenDSS's check overloads it, and it is a bridge: no switching relieves it
    assert doc["opendss_fixed_overloads"] == ["Transformer.subxf"]
    check = {o["element"]: o["loading_percent"]
             for o in doc["ac_check"]["loading"]["overloads"]}
    truth = _subxf_loading(path, set(doc["open_switches"]))
    assert abs(check["Transformer.subxf"] - truth) < 0.1, (check, truth)
    text = " ".join(res.output.split())
    assert re.search(r"OpenDSS check: the answer loads 1 element\(s\) above 100\.0 % of their "
                     r"rating \(Transformer\.subxf [0-9.]+ %\); no switching relieves "
                     r"Transformer\.subxf", text), text
    assert "OpenDSS's check puts this above 100 % of its rating" in text
    assert "LinDist3Flow puts Transformer.subxf within the rating" in text
    page = (tmp_path / "rep" / "report.html").read_text()
    row = re.search(r"no switching relieves \(OpenDSS&#x27;s check[^<]*</th><td>([^<]*)<", page)
    assert row is not None and row.group(1).startswith("Transformer.subxf (")
    assert abs(float(row.group(1).split("(")[1].split(" %")[0]) - truth) < 0.1
    # the premise, independently: SubXF is above its rating in every radial state
    states = _radial_states(path)
    assert len(states) == 2 and set(doc["open_switches"]) in states
    for state in states:
        assert _subxf_loading(path, state) > 100.0, state


def test_the_typed_result_carries_it(tmp_path: Path) -> None:
    """The Python API: ``opendss_fixed_overloads`` is a typed tuple of OpenDSS's element
    names, round-trips through the JSON, and ``--max-loading 110`` (SubXF within 110 % in
    OpenDSS, computed here) leaves it empty."""
    from feederopt import solve_three_phase
    from feederopt.results.threephase import ThreePhaseResult

    path = _feeder(tmp_path)
    res = solve_three_phase(str(path), time_limit_s=60)
    assert res.opendss_fixed_overloads == ("Transformer.subxf",)
    assert ThreePhaseResult.from_dict(res.to_dict()).opendss_fixed_overloads == \
        res.opendss_fixed_overloads
    ok = solve_three_phase(str(path), time_limit_s=60, max_loading_percent=110)
    assert _subxf_loading(path, set(ok.open_switches)) < 110.0
    assert ok.opendss_fixed_overloads == ()


def test_a_scenario_checks_overload_on_a_bridge_is_named_with_its_scenario(
        tmp_path: Path) -> None:
    """With scenarios: the ring of ``tests/test_threephase_scenario_ratings.py``, whose head
    line (every load behind it) OpenDSS loads 105-109 % in scenario ``a_heavy`` in every
    radial state and below 70 % in the others (opendssdirect over every state and scenario,
    that file's truth). The scenarios' checks name it as an overload that no switching
    relieves, with the scenario; the CLI's scenario line says so."""
    from feederopt import solve_three_phase
    from test_threephase_scenario_ratings import _truth
    from test_threephase_scenarios import SWITCHES as RING_SWITCHES
    from test_threephase_scenarios import _feeder as ring_feeder
    from test_threephase_scenarios import _table

    truth = _truth(tmp_path)
    for sw in RING_SWITCHES:
        assert truth[sw]["a_heavy"]["head"] > 100.0
        assert all(v < 100.0 for k, v in truth[sw]["a_heavy"].items() if k != "head")
        assert all(max(truth[sw][n].values()) < 100.0 for n in ("a_pv", "x_light"))
    feeder = ring_feeder(tmp_path)
    out = solve_three_phase(str(feeder), scenarios=_table())
    assert out.opendss_fixed_overloads == ("Line.head",)
    (answer,) = out.open_switches
    note = next(n for n in out.notes if "opendss_fixed_overloads);" in n)
    m = re.match(r"Line\.head \(([0-9.]+) %, scenario a_heavy\): OpenDSS's check", note)
    assert m is not None, note
    assert abs(float(m.group(1)) - truth[answer]["a_heavy"]["head"]) < 0.1
    csv = tmp_path / "s.csv"
    _table().write_csv(csv)
    res = CliRunner().invoke(app, ["solve", str(feeder), "--scenarios", str(csv)])
    assert res.exit_code == 4, res.output
    assert "no switching relieves Line.head" in " ".join(res.output.split())
