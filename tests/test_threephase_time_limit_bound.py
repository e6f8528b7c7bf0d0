"""A time-limited three-phase search reports the best valid lower bound it can have cheaply,
and says when it keeps the base topology, on every path.

The old code gave a lower bound of 0 when the enumeration of the radial states ran out of time
(the states not evaluated were bounded by their switching cost alone: 0), ``-inf`` (null in
the JSON) when the MILP stopped within HiGHS's root, and no word when the search kept the base
topology as its incumbent (only the voltage feedback's loop said so). Now the MILP's LP
relaxation (:func:`feederopt.algorithms.threephase._relaxation_bound`) bounds the states not
evaluated, ``bound_source`` says what the bound rests on (``trivial`` when nothing better than
0 was had, with no gap), and ``base_kept`` with a note says that the base topology was kept.

Truth: on the ring of ``tests/test_threephase_voltage_limits.py`` (switches ``s1``-``s4``,
``s1`` open in the base case; its radial states are the four with one switch open) the least
loss proxy is the brute force's, the LinDist3Flow power flow of each state (a fixed-topology
LP apart from both searches); on Iowa 240 (43 radial states) and the ring's scenarios, the
whole enumeration without a time limit. A bound must be at most that optimum.

"Out of time" is made deterministic where it can be: the enumeration's LP of every state but
the base reports HiGHS's ``time_limit`` (as a deadline reached there would), so the base, which
is evaluated first, is the only state evaluated.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.algorithms import radial_enumeration as re_mod
from feederopt.algorithms import threephase as tp
from feederopt.algorithms.threephase import (
    lindist3flow_power_flow,
    reconfigure_three_phase,
    reconfigure_three_phase_scenarios,
)
from feederopt.api_threephase import (
    scenario_networks,
    scenario_rows,
    solve_three_phase,
    with_voltage_limits,
)
from feederopt.cases import load_three_phase
from feederopt.cli import app
from feederopt.report.threephase import render_three_phase_report
from test_threephase_scenarios import _table
from test_threephase_voltage_limits import FEEDER

SWITCHES = ("s1", "s2", "s3", "s4")
KEPT = "the base topology kept (time limit)"
runner = CliRunner()


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tl_bound") / "ring.dss"
    path.write_text(FEEDER)
    return path


def _cut_after_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """The enumeration runs out of time after the base state: any other state's LP reports
    HiGHS's ``time_limit``."""
    solve = re_mod._Scenario.solve

    def limited(self: re_mod._Scenario, y: np.ndarray, seconds: float,
                ) -> tuple[str, float, dict[str, np.ndarray]]:
        base = np.array([0.0 if e.normally_open else 1.0 for e in self.pu.edges])
        if not np.array_equal(y, base):
            return "time_limit", math.nan, {}
        return solve(self, y, seconds)

    monkeypatch.setattr(re_mod._Scenario, "solve", limited)


@pytest.fixture
def only_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    _cut_after_the_base(monkeypatch)


def _brute_optimum(path: Path) -> float:
    """The least loss proxy over the ring's four radial states within 0.9-1.1 p.u."""
    net = load_three_phase(path)
    proxies = []
    for sw in SWITCHES:
        flow = lindist3flow_power_flow(net, open_switches={sw})
        if flow.min_voltage_pu >= 0.9 and flow.max_voltage_pu <= 1.1:
            proxies.append(flow.loss_proxy_kw)
    assert len(proxies) == 4
    return min(proxies)


def _base_note(notes: list[str]) -> bool:
    return any("time limit" in n and "base topology" in n and "is kept" in n for n in notes)


def test_an_enumeration_cut_after_the_base_is_bounded_by_the_relaxation(
        ring: Path, only_the_base: None) -> None:
    """Old: bound 0 (the three states not evaluated cost no switching), no note."""
    best = _brute_optimum(ring)
    base = lindist3flow_power_flow(load_three_phase(ring)).loss_proxy_kw
    assert base > best * 1.01  # the base is not the optimum: the bound matters
    topo = reconfigure_three_phase(load_three_phase(ring), time_limit_s=60)
    assert topo.method == "enumeration" and topo.status == "time_limit"
    assert topo.open_switches == ["s1"] and topo.loss_proxy_kw == pytest.approx(base, rel=1e-7)
    assert 0.0 < topo.bound_kw <= best * (1 + 1e-7)
    assert topo.bound_source == "relaxation"
    assert topo.base_kept and _base_note(topo.notes)


def test_an_enumeration_with_nothing_evaluated_has_the_relaxation_bound(ring: Path) -> None:
    """Out of time before the first state: no topology, and the relaxation's bound (old: 0)."""
    topo = reconfigure_three_phase(load_three_phase(ring), time_limit_s=0.0)
    assert topo.method == "enumeration" and topo.status == "time_limit" and topo.flow is None
    assert 0.0 < topo.bound_kw <= _brute_optimum(ring) * (1 + 1e-7)
    assert topo.bound_source == "relaxation"


def test_scenarios_cut_after_the_base_are_bounded_by_the_relaxation(
        ring: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ring's four scenarios: the weighted relaxation bounds the weighted optimum of the
    whole enumeration (old: 0)."""
    net = with_voltage_limits(load_three_phase(ring), 0.85, 1.1)
    rows = scenario_rows(net, _table())
    nets, weights = scenario_networks(net, rows), np.asarray(rows.weights, float)
    kw = {"thermal_limits": False, "names": rows.names}
    full = reconfigure_three_phase_scenarios(nets, weights, time_limit_s=60,
                                             **kw)  # type: ignore[arg-type]
    assert full.method == "enumeration" and full.status == "optimal"
    assert full.open_switches != ["s1"]
    _cut_after_the_base(monkeypatch)
    topo = reconfigure_three_phase_scenarios(nets, weights, time_limit_s=60,
                                             **kw)  # type: ignore[arg-type]
    assert topo.method == "enumeration" and topo.status == "time_limit"
    assert 0.0 < topo.bound_kw <= full.bound_kw * (1 + 1e-7)
    assert topo.bound_source == "relaxation"
    assert topo.open_switches == ["s1"] and topo.base_kept and _base_note(topo.notes)


def test_a_milp_stopped_in_its_root_is_bounded_by_the_relaxation() -> None:
    """Iowa 240's MILP (``max_enumerated_states=0``) stopped at 0.01 s has no answer and
    HiGHS's bound is ``-inf`` (old: ``lower_bound_kw`` null); the base topology is kept (old:
    no note). The optimum is the whole enumeration's (43 states)."""
    net = load_three_phase("iowa240")
    full = reconfigure_three_phase(net, time_limit_s=120)
    assert full.method == "enumeration" and full.status == "optimal"
    topo = reconfigure_three_phase(net, time_limit_s=0.01, max_enumerated_states=0)
    if topo.status == "optimal":  # pragma: no cover - a machine that proves it in 10 ms
        pytest.skip("the MILP was solved within 0.01 s")
    assert topo.method == "milp" and topo.status == "time_limit"
    assert 0.0 < topo.bound_kw <= full.bound_kw * (1 + 1e-6)
    assert topo.bound_source == "relaxation"
    base = lindist3flow_power_flow(net)
    assert topo.flow is not None and topo.open_switches == base.open_switches
    assert topo.base_kept and _base_note(topo.notes)


def test_the_json_cli_and_report_say_it(ring: Path, only_the_base: None,
                                        tmp_path: Path) -> None:
    """Without the voltage feedback: ``base_kept``, the note, the bound's source and the gap
    it proves, in the JSON, the CLI's summary and the report."""
    out = solve_three_phase(str(ring), voltage_feedback=False, ac_check=False)
    assert out["status"] == "time_limit" and out["open_switches"] == ["s1"]
    assert _base_note(out["notes"]) and out.get("base_kept") is True
    assert out.get("lower_bound_source") == "relaxation"
    assert "LP relaxation" in out["lower_bound_basis"]
    proxy, bound = out["loss_proxy_kw"], out["lower_bound_kw"]
    assert 0.0 < bound <= _brute_optimum(ring) * (1 + 1e-7)
    assert out["gap"] == pytest.approx((proxy - bound) / proxy, rel=1e-9)
    res = runner.invoke(app, ["solve", str(ring), "--no-voltage-feedback", "--no-ac-check"],
                           env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert KEPT in text and "LP relaxation" in text
    assert f"gap {100 * out['gap']:.2f} %" in text
    page = render_three_phase_report(out, {}, "x")
    assert KEPT in page and "LP relaxation" in page and f"{100 * out['gap']:.2f} %" in page


def test_a_trivial_bound_says_so(ring: Path, only_the_base: None,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """When no relaxation is had (its LP not solved within its budget), the bound is 0, and
    the output says that it is trivial and proves no gap, not a gap of 100 %."""
    monkeypatch.setattr(tp, "_relaxation_bound", lambda model, const: -math.inf,
                        raising=False)
    out = solve_three_phase(str(ring), voltage_feedback=False, ac_check=False)
    assert out["status"] == "time_limit" and out.get("base_kept") is True
    assert out.get("lower_bound_source") == "trivial" and out.get("gap", 1.0) is None
    assert out["lower_bound_kw"] == pytest.approx(0.0, abs=1e-9)
    assert "no gap is proven" in out["lower_bound_basis"]
    res = runner.invoke(app, ["solve", str(ring), "--no-voltage-feedback", "--no-ac-check"],
                           env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "trivial" in text and "no gap is proven" in text and "gap 100" not in text
    page = render_three_phase_report(out, {}, "x")
    assert "trivial" in page and "100.00 %" not in page


def test_the_voltage_feedback_path_says_it_too(ring: Path, only_the_base: None) -> None:
    """With the voltage feedback (the default), the search's answer is the base and OpenDSS
    finds it within the limits: the loop keeps that answer (its own ``base_kept`` is for the
    base as the loop's incumbent), and the result still says the base was kept."""
    out = solve_three_phase(str(ring), ac_check=False)
    assert out["voltage_feedback"]["enabled"] and out["open_switches"] == ["s1"]
    assert out["status"] == "time_limit"
    assert _base_note(out["notes"]) and out.get("base_kept") is True
