"""The least-overloading topology of an infeasible solve, ranked by OpenDSS (ut_3ph2 #10).

When no radial topology holds the ratings, the answer is the topology that overloads least.
It used to be chosen by LinDist3Flow's loadings alone. With few radial states (at most
``OPENDSS_RANK_MAX_STATES``) OpenDSS solves each, and the state with the least largest
loading in OpenDSS's currents (the elements that switching changes; within the voltage
limits, every load served) is the answer, and the message says that OpenDSS ranked them.

The feeder (written here) is a 12.47 kV ring: the source feeds bus ``a``; switch ``sw1`` and a
22 km line ``La1`` (rated 63 A) lead to ``b`` (1500 kW), switch ``sw2`` and a 1 km line ``La2``
(rated 80.5 A) to ``c`` (500 kW), and the tie ``tie`` with line ``Lbc`` joins ``b`` and ``c``.
With the tie open, ``La1`` carries ``b``'s load at the far end of a long line, where the
voltage is about 0.91 p.u.: its current is about 1/0.91 of the lossless, 1 p.u. figure that
LinDist3Flow sees, so the model ranks that state first although OpenDSS loads ``La1``
more than it loads ``La2`` when ``sw1`` is open (``b`` then fed through ``c``, near the
source). The loads are constant power down to 0.8 p.u. (``vminpu``), as the model takes
them.

The truth is opendssdirect's, computed in the test: every radial state (brute force over
the switch lines, a state radial when the bus graph is a tree, networkx) is compiled and
solved with OpenDSS's controls off; a line's loading is its largest phase-conductor current at
either terminal over its ``NormAmps`` (OpenDSS's own, 400 A for a line that sets none); the
bridges of the bus graph (every switch closed) are left out, as the tool leaves them out
(their flow does not change with the switches); a state counts when every bus voltage is
within 0.9-1.1 p.u.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.app import EXIT_INFEASIBLE
from opendss_states import radial_states, solve_switched, two_terminal_edges

SWITCHES = ["sw1", "sw2", "tie"]
FEEDER = """Clear
New Circuit.ring2 basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200000 MVAsc1=210000
New Linecode.ohl nphases=3 r1=0.35 x1=0.4 r0=1.0 x0=1.2 c1=0 c0=0 units=km
New Line.L0 bus1=src bus2=a linecode=ohl length=0.1 normamps=1000
New Line.sw1 bus1=a bus2=a1 switch=y
New Line.La1 bus1=a1 bus2=b linecode=ohl length=22 normamps=63
New Line.sw2 bus1=a bus2=a2 switch=y
New Line.La2 bus1=a2 bus2=c linecode=ohl length=1 normamps=80.5
New Line.tie bus1=b bus2=t switch=y enabled=n
New Line.Lbc bus1=t bus2=c linecode=ohl length=1 normamps=300
New Load.b bus1=b phases=3 conn=wye kV=12.47 kW=1500 kvar=0 model=1 vminpu=0.8
New Load.c bus1=c phases=3 conn=wye kV=12.47 kW=500 kvar=0 model=1 vminpu=0.8
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


def _feeder(folder: Path) -> Path:
    path = folder / "ring2.dss"
    path.write_text(FEEDER)
    return path


def _solve(path: Path, open_switches: set[str]) -> None:
    solve_switched(path, SWITCHES, open_switches)


def _edges(path: Path) -> list[tuple[str, str, str]]:
    _solve(path, set())
    return two_terminal_edges()


def _truth(path: Path) -> dict[frozenset[str], tuple[float, str, bool]]:
    """Per radial state (its open switches): OpenDSS's largest loading [%] of the lines that
    are no bridge, which line, and whether every bus voltage is within 0.9-1.1 p.u."""
    edges = _edges(path)
    full: nx.Graph = nx.Graph()
    full.add_edges_from((a, b) for _, a, b in edges)
    bridges = {eid for eid, a, b in edges
               if (a, b) in set(nx.bridges(full)) or (b, a) in set(nx.bridges(full))}
    states = radial_states(edges, SWITCHES)
    out = {}
    for state in states:
        _solve(path, set(state))
        worst = (0.0, "")
        for name in dss.Lines.AllNames():
            dss.Circuit.SetActiveElement(f"Line.{name}")
            if name in bridges or not dss.CktElement.Enabled():
                continue
            n, nc = dss.CktElement.NumPhases(), dss.CktElement.NumConductors()
            mags = dss.CktElement.CurrentsMagAng()[::2]
            amps = max(mags[t * nc + c] for t in range(2) for c in range(n))
            worst = max(worst, (100.0 * amps / dss.CktElement.NormalAmps(), name))
        volts = [v for v in dss.Circuit.AllBusMagPu() if v > 0.1]
        out[state] = (worst[0], worst[1], all(0.9 <= v <= 1.1 for v in volts))
    return out


def test_opendss_ranks_the_radial_states(tmp_path: Path) -> None:
    path = _feeder(tmp_path)
    truth = _truth(path)
    assert len(truth) == 3
    ok = {s: t for s, t in truth.items() if t[2]}
    best = min(ok, key=lambda s: ok[s][0])
    # the premise: every state overloads something, and the best is clear of the others
    assert all(t[0] > 100.0 for t in truth.values())
    assert all(ok[s][0] > ok[best][0] + 1.0 for s in ok if s != best)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--json", str(out),
                                   "--time-limit", "60"])
    assert res.exit_code == EXIT_INFEASIBLE, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "infeasible" and doc["has_solution"]
    assert frozenset(doc["open_switches"]) == best
    check = doc["ac_check"]["loading"]
    assert check["max_loading_element"].lower() == f"line.{ok[best][1]}"
    assert abs(check["max_loading_percent"] - ok[best][0]) < 0.1
    text = " ".join(res.output.split())
    assert (f"this one overloads least in OpenDSS: Line.{ok[best][1]} "
            f"{ok[best][0]:.1f} %") in text, text
    assert "ranked by OpenDSS" in text and "over the 3 radial states" in text
    rec = doc["least_overloading"]
    assert rec["ranked_by"] == "OpenDSS" and rec["radial_states"] == 3
    assert frozenset(rec["chosen"]) == best
    # every state's figure is OpenDSS's (the truth), and the model picked another state
    for row in rec["states"]:
        assert abs(row["opendss_max_loading_percent"]
                   - truth[frozenset(row["open_switches"])][0]) < 0.1
    assert frozenset(rec["lindist3flow_pick"]) != best
    was = truth[frozenset(rec["lindist3flow_pick"])]
    assert f"LinDist3Flow's pick ({', '.join(rec['lindist3flow_pick'])} open) has " \
        f"Line.{was[1]} at {was[0]:.1f} % in OpenDSS" in text


def test_more_states_than_the_cap_keep_the_model_ranking(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """With the cap below the feeder's 3 radial states, LinDist3Flow's ranking stands, and
    the message says LinDist3Flow ranked them and why; the answer is then not the state that
    OpenDSS loads least (the truth of the first test)."""
    import feederopt.api_threephase_feedback as fb
    from feederopt import solve_three_phase

    monkeypatch.setattr(fb, "OPENDSS_RANK_MAX_STATES", 2, raising=False)
    path = _feeder(tmp_path)
    res = solve_three_phase(str(path), time_limit_s=60)
    assert res.status == "infeasible" and res.has_solution
    assert "(ranked by LinDist3Flow: more than 2 radial states for OpenDSS to rank)" \
        in res.reason
    assert res.least_overloading is not None
    assert res.least_overloading.ranked_by == "LinDist3Flow"
    truth = _truth(path)
    ok = {s: t for s, t in truth.items() if t[2]}
    assert frozenset(res.open_switches) != min(ok, key=lambda s: ok[s][0])
