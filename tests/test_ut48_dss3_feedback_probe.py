"""The voltage feedback's infeasible MILP proves nothing about OpenDSS (user test ut48_dss3 #1).

``g2.dss`` (data/ut48_dss3): a 13-bus 12.47 kV feeder, three feeders of four switchable
sections and four ties, LoadMult 2.2: 650 radial states, past the enumeration, so the MILP
searches. With ``v_min`` 0.917 the MILP whose voltage limits were shifted by OpenDSS's offsets
at the base case (0.014 p.u. at the far bus) had no answer, and the solve said "infeasible"
(exit 3) from those offsets alone, while OpenDSS puts two radial states within every limit.
The truth here is opendssdirect's own solve of every radial state (no feederopt code); the
feedback must end at one of those states. The fake-callable tests pin the probe's rules in
:func:`feederopt.api_threephase_feedback.feedback_loop`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import networkx as nx
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt import solve_three_phase
from feederopt.algorithms.threephase import ThreePhaseTopology
from feederopt.api_threephase_feedback import feedback_loop
from feederopt.cli import app
from feederopt.cli.app import EXIT_LIMITS_BROKEN
from test_ut48_dss3_infeasible_reasons import opendss_radial_states

G2 = Path(__file__).parent / "data" / "ut48_dss3" / "g2.dss"
V_MIN = 0.917


def _opendss_within_limits(path: Path, v_min: float, v_max: float = 1.1) -> list[frozenset[str]]:
    """The open switch sets of the radial states that OpenDSS (controls off) solves with every
    node within ``[v_min, v_max]`` and every closed line within its NormAmps: each state
    compiled afresh, its open lines disabled."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    lines = []
    for name in dss.Lines.AllNames():
        dss.Lines.Name(name)
        lines.append((name, dss.Lines.Bus1().split(".")[0].lower(),
                      dss.Lines.Bus2().split(".")[0].lower()))
    buses = {b for _, a, c in lines for b in (a, c)}
    loops = len(lines) - len(buses) + 1
    out = []
    for opened in itertools.combinations([n for n, _, _ in lines], loops):
        g: nx.Graph = nx.Graph()
        g.add_edges_from((a, c) for n, a, c in lines if n not in opened)
        if not (g.number_of_nodes() == len(buses) and nx.is_tree(g)):
            continue
        dss.Text.Command("set controlmode=off")
        for n, _, _ in lines:
            dss.Text.Command(f"Line.{n}.enabled={'no' if n in opened else 'yes'}")
        dss.Text.Command("solve")
        assert dss.Solution.Converged()
        v = [x for x in dss.Circuit.AllBusMagPu() if x > 0.1]
        worst = 0.0
        for n, _, _ in lines:
            if n in opened:
                continue
            dss.Circuit.SetActiveElement(f"Line.{n}")
            amps = max(dss.CktElement.CurrentsMagAng()[0:6:2])
            worst = max(worst, amps / dss.CktElement.NormalAmps())
        if min(v) >= v_min and max(v) <= v_max and worst <= 1.0:
            out.append(frozenset(opened))
    return out


def test_g2_feedback_answers_a_state_that_opendss_puts_within_the_limits() -> None:
    truth = _opendss_within_limits(G2, V_MIN)
    # the tester's brute force: {sa3, sb4, t1, t2} and {sb4, sc4, t2, t3} open
    assert truth, "OpenDSS finds no radial state within the limits: the repro changed"
    result = solve_three_phase(G2, v_min_pu=V_MIN, ac_check=False)
    assert result.status != "infeasible", result.reason
    assert result.has_solution
    assert frozenset(result.open_switches) in truth, (result.open_switches, truth)
    assert result.within_limits
    fb = result.voltage_feedback.record
    assert fb["probes"], "the first MILP was infeasible by the base's offsets: a probe ran"


# --- the probe's rules on fake callables (no solver) -------------------------------------

FLOW = object()


def _sol(losses: float, good: bool) -> SimpleNamespace:
    return SimpleNamespace(losses_kw=losses, within_voltage_limits=good, passed=True,
                           converged=True)


def _topo(opened: list[str] | None) -> ThreePhaseTopology:
    return ThreePhaseTopology(
        status="optimal" if opened is not None else "infeasible", open_switches=opened or [],
        loss_proxy_kw=0.0, bound_kw=0.0, solve_time_s=0.1,
        flow=FLOW if opened is not None else None)  # type: ignore[arg-type]


def _run(script: list[list[str] | None], probes: list[list[str] | None],
         sols: dict[str, Any]) -> tuple[ThreePhaseTopology, Any, dict[str, Any], list[str]]:
    asked: list[str] = []
    script, probes = list(script), list(probes)

    def milp(offsets: Any, tangents: Any, seconds: float) -> tuple[ThreePhaseTopology, Any]:
        return _topo(script.pop(0)), tangents

    def opendss(topo: ThreePhaseTopology) -> list[Any]:
        asked.append(",".join(topo.open_switches))
        return [sols[",".join(topo.open_switches)]]

    def probe(topo: ThreePhaseTopology, offsets: Any, seen: set[frozenset[str]],
              seconds: float) -> ThreePhaseTopology | None:
        opened = probes.pop(0) if probes else None
        return _topo(opened) if opened is not None else None

    keep, kept, record = feedback_loop(
        milp, opendss, lambda t, s: ",".join(t.open_switches),
        lambda t, o, s: {"topology": "answer", "open_switches": t.open_switches
                         if s is not None else None, "status": t.status},
        lambda t, s: s[0].losses_kw, offsets="base", tangents=None,
        iterations=[{"topology": "base"}], base_open=["t"], time_limit_s=60.0,
        max_iterations=4, t0=__import__("time").perf_counter(), record={}, probe=probe)
    return keep, kept, record, asked


def test_probe_offsets_lead_to_an_answer() -> None:
    # infeasible by the base's offsets; the probe's offsets give an answer within the limits
    keep, kept, record, asked = _run([None, ["b"], ["b"]], [["p"]],
                                     {"p": _sol(5.0, False), "b": _sol(7.0, True)})
    assert asked == ["p", "b"]
    assert keep.open_switches == ["b"] and kept[0].losses_kw == 7.0
    assert keep.status == "optimal"
    assert record["probes"] == [["p"]] and record["stopped"] == "topology repeated"
    assert [r.get("probe") for r in record["iterations"]] == [None, None, True, None, None]


def test_probe_within_the_limits_is_kept_as_feasible() -> None:
    keep, kept, record, _ = _run([None, None], [["p"]], {"p": _sol(5.0, True)})
    assert kept[0].losses_kw == 5.0
    assert keep.open_switches == ["p"] and keep.status == "feasible"
    assert record["within_limits"]


@pytest.mark.parametrize("probes", [[], [["p"]]])
def test_infeasibility_stands_without_a_probe_within_the_limits(probes: list[Any]) -> None:
    # a probe that breaks a limit is never the kept answer: the MILP's infeasibility stands
    keep, kept, record, _ = _run([None, None], probes, {"p": _sol(5.0, False)})
    assert keep.status == "infeasible" and keep.flow is None and kept is None
    assert record["stopped"] == "no answer"
    assert record["probes"] == ([["p"]] if probes else [])


def test_no_state_within_the_limits_is_not_claimed_infeasible_on_the_milp_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The MILP path on a small feeder (the enumeration switched off): ``f3_3.dss`` without
    ratings at ``v_min`` 0.97, which OpenDSS puts no radial state within. The MILP with the
    base's offsets has no answer, nor with the probe's; that proves nothing about OpenDSS, so
    the solve says "not proven infeasible" and answers the probe nearest to the limits, which
    breaks them: exit 4, not 3."""
    import feederopt.algorithms.threephase as algorithms

    monkeypatch.setattr(algorithms, "ENUMERATION_MAX_STATES", 0)  # the MILP path
    path = Path(__file__).parent / "data" / "ut48_dss3" / "f3_3.dss"
    truth = opendss_radial_states(path)
    assert len(truth) == 3 and all(v < 0.97 for v, _ in truth.values()), truth
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--v-min", "0.97", "--no-ac-check",
                                   "--no-thermal-limits", "--json", str(out)])
    assert res.exit_code == EXIT_LIMITS_BROKEN, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] != "infeasible" and doc["has_solution"]
    assert doc["search"] == "milp"
    fb = doc["voltage_feedback"]
    assert fb["infeasibility_proven"] is False and fb["probes"]
    answer = frozenset(doc["open_switches"])
    row = fb["iterations"][fb["kept_iteration"]]
    # OpenDSS's (opendssdirect's) least voltage of the answer, below the limit
    assert row["opendss_min_voltage_pu"] == pytest.approx(truth[answer][0], abs=1e-3)
    base = frozenset(doc["base_open_switches"])
    assert truth[answer][0] >= truth[base][0]  # nearer to the limit than the base
    assert any(n.startswith("not proven infeasible") for n in doc["notes"])
