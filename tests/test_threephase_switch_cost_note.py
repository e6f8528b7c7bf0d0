"""The note of OpenDSS's ranking of the radial states prints the value it ranked by (user test
ut45 dssday #3: "the least OpenDSS losses plus switching cost (89.779 kW)", where 89.779 kW
was the losses alone and the ranked value 119.779 kW, three actions at 10 kW).

Truth: OpenDSS's own losses of ``MINI2``'s two radial states (opendssdirect, no feederopt
code) and the switching cost by hand: leaving the file's state (s1 open) for s2 open closes
s1 and opens s2, two actions at 2 kW.
"""

from __future__ import annotations

import re
from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt import solve_three_phase
from test_opendss_rerated_scenario_check import MINI2

COST_KW = 2.0


def _losses(path: Path, open_: str) -> float:
    dss.Text.Command("clear")
    dss.Text.Command(f'redirect "{path}"')
    for s in ("s1", "s2"):
        dss.Text.Command(f"{'Open' if s == open_ else 'Close'} Line.{s} term=1")
    dss.Text.Command("set ControlMode=OFF")
    dss.Text.Command("set tolerance=1e-9")
    dss.Solution.Solve()
    assert dss.Solution.Converged()
    return float(dss.Circuit.Losses()[0]) / 1000.0


def test_ranking_note_prints_losses_plus_switching_cost(tmp_path: Path) -> None:
    path = tmp_path / "mini2.dss"
    path.write_text(MINI2)
    ranked = {"s1": _losses(path, "s1"), "s2": _losses(path, "s2") + 2 * COST_KW}
    assert ranked["s2"] < ranked["s1"]  # 17.42 against 22.82 kW: s2 open despite the cost
    res = solve_three_phase(path, switch_cost_kw=COST_KW, time_limit_s=60)
    assert res.open_switches == ("s2",)
    (note,) = [n for n in res.notes if n.startswith("optimal over the 2 radial states")]
    found = re.search(r"least OpenDSS losses plus switching cost \(([\d.]+) kW: ([\d.]+) kW "
                      r"of losses and ([\d.]+) kW of switching\)", note)
    assert found, note
    total, losses, switching = (float(x) for x in found.groups())
    assert total == pytest.approx(ranked["s2"], abs=0.01)
    assert losses == pytest.approx(ranked["s2"] - 2 * COST_KW, abs=0.01)
    assert switching == pytest.approx(2 * COST_KW, abs=1e-3)


def test_ranking_note_gives_the_picks_switching_cost_too(tmp_path: Path) -> None:
    """LinDist3Flow's pick, when OpenDSS's ranking moves the answer off it, is named with its
    losses and its own switching cost (it was ranked by their sum too): here the pick is
    forced to the file's state, s1 open, which switches nothing."""
    import time

    from feederopt.api_threephase import floating_buses, reconfigure_three_phase
    from feederopt.api_threephase_feedback import opendss_least_losses
    from feederopt.cases import load_three_phase

    path = tmp_path / "mini2.dss"
    path.write_text(MINI2)
    s1 = _losses(path, "s1")
    net = load_three_phase(path)
    topo = reconfigure_three_phase(net, switch_cost_kw=COST_KW)
    sol, rec = opendss_least_losses(net, topo, floating_buses(net), thermal_limits=True,
                                    max_loading_percent=None, switch_cost_kw=COST_KW,
                                    deadline=time.perf_counter() + 60, lindist3flow_pick=["s1"])
    assert sol is not None and rec["chosen"] == ["s2"]
    found = re.search(r"LinDist3Flow's pick \(s1 open\) has ([\d.]+) kW in OpenDSS plus "
                      r"([\d.]+) kW of switching", topo.notes[-1])
    assert found, topo.notes[-1]
    assert float(found.group(1)) == pytest.approx(s1, abs=0.01)
    assert float(found.group(2)) == 0.0
