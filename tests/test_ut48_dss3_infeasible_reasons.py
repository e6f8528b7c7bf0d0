"""The least-overloading answer's reason names the ranking that chose it (user test ut48_dss3
#2).

``f3_3.dss`` (data/ut48_dss3): a 12.47 kV feeder of two branches, switches ``sw1``, ``sw2``
and ties ``tie1``, ``tie2`` (three radial states), LoadMult 3, ``--v-min 0.95``. No radial
state keeps the ratings by LinDist3Flow; OpenDSS puts only one (``sw1``, ``tie2`` open)
within the voltage limits, and it loads Line.l5 at 128.9 %, the most of the three. The
reason said "this one overloads least in OpenDSS: Line.l5 128.9 % (... over the 3 radial
states)" beside states at 91.4 and 115.7 %, and a note said "least-overloading topology by
LinDist3Flow's loadings": two rankings, the one that chose not named. The truth is
opendssdirect's solve of every radial state (no feederopt code): its voltage range and its
largest line loading.

``f7.dss`` (the same feeder at LoadMult 7, the default 0.9-1.1 p.u.): OpenDSS puts no radial
state within the voltage limits; the MILP is infeasible with the voltage limits alone and
with the ratings alone, and the reason said "the current and voltage limits bind together;
try --max-loading PCT (e.g. 200) or --no-thermal-limits", which admit none (user test
ut48_dss3 #3): the voltage limits come first now, with OpenDSS's verdict."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import opendssdirect as dss
from typer.testing import CliRunner

from feederopt import solve_three_phase
from feederopt.cli import app
from feederopt.cli.app import EXIT_INFEASIBLE

F3_3 = Path(__file__).parent / "data" / "ut48_dss3" / "f3_3.dss"
F7 = Path(__file__).parent / "data" / "ut48_dss3" / "f7.dss"
SWITCHES = ["sw1", "sw2", "tie1", "tie2"]
V_MIN = 0.95


def opendss_radial_states(path: Path) -> dict[frozenset[str], tuple[float, float]]:
    """Per radial state (open switches): OpenDSS's least live node voltage [p.u.] and the
    largest loading [%] of an enabled line (terminal-1 conductor current over NormAmps),
    controls off, every other switch closed."""
    out: dict[frozenset[str], tuple[float, float]] = {}
    for k in range(len(SWITCHES) + 1):
        for opened in itertools.combinations(SWITCHES, k):
            dss.Text.Command("clear")
            dss.Text.Command(f'compile "{path}"')
            dss.Text.Command("set controlmode=off")
            for sw in SWITCHES:
                dss.Text.Command(f"Line.{sw}.enabled={'no' if sw in opened else 'yes'}")
                if sw not in opened:
                    dss.Text.Command(f"close Line.{sw} term=1")
                    dss.Text.Command(f"close Line.{sw} term=2")
            g: nx.Graph = nx.Graph()
            for name in dss.Circuit.AllElementNames():
                if not name.lower().startswith(("line.", "transformer.")):
                    continue
                dss.Circuit.SetActiveElement(name)
                buses = {b.split(".")[0].lower() for b in dss.CktElement.BusNames()}
                if dss.CktElement.Enabled() and len(buses) == 2:
                    g.add_edge(*buses)
            if not nx.is_tree(g):
                continue
            dss.Text.Command("solve")
            assert dss.Solution.Converged()
            live = [v for v in dss.Circuit.AllBusMagPu() if v > 0.1]
            worst = 0.0
            for name in dss.Lines.AllNames():
                dss.Circuit.SetActiveElement(f"Line.{name}")
                if not dss.CktElement.Enabled():
                    continue
                nc = dss.CktElement.NumConductors()
                amps = max(dss.CktElement.CurrentsMagAng()[0::2][:nc])
                worst = max(worst, 100.0 * amps / dss.CktElement.NormalAmps())
            out[frozenset(opened)] = (min(live), worst)
    return out


def test_the_only_state_within_the_voltage_limits_is_said_to_be_that() -> None:
    truth = opendss_radial_states(F3_3)
    assert len(truth) == 3
    within = [s for s, (v, _) in truth.items() if v >= V_MIN]
    # the premise: one state within the voltage limits, and it overloads, the most of the three
    assert len(within) == 1
    only = within[0]
    assert truth[only][1] > 100.0
    assert truth[only][1] == max(load for _, load in truth.values())
    result = solve_three_phase(F3_3, v_min_pu=V_MIN, ac_check=False)
    assert result.status == "infeasible" and frozenset(result.open_switches) == only
    reason = result.reason
    assert "overloads least" not in reason, reason
    assert (f"the only one of the 3 radial states that OpenDSS puts within every voltage "
            f"limit with every load served, and it loads Line.l5 at {truth[only][1]:.1f} %"
            ) in reason, reason
    # the others are named with OpenDSS's least voltage and largest loading
    for state, (v, load) in truth.items():
        if state == only:
            continue
        assert f"{', '.join(sorted(state))} open" in reason
        assert f"at {v:.4f} p.u. < v_min {V_MIN:.4f}" in reason, reason
        assert f"its largest loading {load:.1f} %" in reason, reason
    assert "ranked by OpenDSS over the 3 radial states" in reason
    # one ranking named: the model's least-overloading note no longer reads as the chooser
    notes = " ".join(result.notes)
    assert "least-overloading topology by LinDist3Flow's loadings" not in notes, notes
    assert "OpenDSS's ranking of the radial states did" in notes
    assert result.least_overloading is not None
    assert result.least_overloading.record["ranked_by"] == "OpenDSS"


def test_voltage_limits_alone_infeasible_are_named_first() -> None:
    truth = opendss_radial_states(F7)
    assert len(truth) == 3
    # the premise (the tester's 0.866 / 0.845 / 0.801 p.u.): every state below 0.9 p.u.
    assert all(v < 0.9 for v, _ in truth.values()), truth
    res = CliRunner().invoke(app, ["solve", str(F7)])
    assert res.exit_code == EXIT_INFEASIBLE, res.output
    text = " ".join(res.output.split())
    assert "bind together" not in text, text
    assert ("infeasible: no radial topology keeps every voltage within its limits "
            "(LinDist3Flow), whatever the ratings") in text, text
    # OpenDSS's verdict over every radial state follows, as for the voltage limits alone
    assert "OpenDSS confirms it: none of the 3 radial states" in text, text
    assert "--max-loading or --no-thermal-limits alone does not make it feasible" in text
