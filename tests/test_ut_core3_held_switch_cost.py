"""A branch held away from its base-case state is a switching action and ``--switch-cost``
charges it (user test ut_core3 #2): ``--hold-closed`` on a normally-open tie and ``--hold-open``
on a closed line each cost one action, in every method, as do the actions that the holds force
(a tie that must close once a held-open line cuts its bus off).

Independent truth: the brute force of tests/test_holds.py (every spanning tree of the hand-built
pandapower net that keeps the holds, pandapower's own ``runpp`` losses with the switches set in
the net) plus the switching cost counted by hand: the lines whose state differs from the net's
own switch states, times the cost. Before the fix, the held tie and the held line were left out
of the objective (it sat 2 x the cost low) and of the choice.
"""

from __future__ import annotations

import sys
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import feederopt

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import tiny, tiny_pandapower_losses_kw
from test_holds import (
    HOLD_CLOSED,
    HOLD_OPEN,
    _holds,
    _losses_kw,
    _net,
    _opened,
    _trees,
    scenario_at,
)

COST_KW = 5.0


def _base_open(net: Any) -> frozenset[int]:
    """The lines that the net's own switches leave open (its base case)."""
    return frozenset(int(e) for e, c in zip(net.switch["element"], net.switch["closed"],
                                            strict=True) if not c)


def _brute(scale: float = 1.0, cost: float = COST_KW, hold_closed: AbstractSet[int] = HOLD_CLOSED,
           hold_open: AbstractSet[int] = HOLD_OPEN) -> tuple[frozenset[int], float, int]:
    """The held tree (lines ``hold_closed`` closed, ``hold_open`` open; by default the holds
    of :func:`_holds`) of least pandapower losses plus ``cost`` per changed line, that total
    and its number of actions."""
    net = _net()
    base = _base_open(net)
    best: tuple[frozenset[int], float, int] | None = None
    for opened in _trees(net):
        if opened & hold_closed or not opened >= hold_open:
            continue
        actions = len(opened ^ base)
        total = _losses_kw(opened, scale) + cost * actions
        if best is None or total < best[1]:
            best = (opened, total, actions)
    assert best is not None
    return best


@pytest.fixture(scope="module")
def nominal() -> tuple[frozenset[int], float, int]:
    return _brute()


def _check_switching(result: Any, opened: frozenset[int]) -> None:
    """The result's switching record against a hand count of its own topology."""
    base = _base_open(_net())
    changed = sorted(opened ^ base)
    rec = result.extra["switching"]
    assert rec["actions"] == len(changed)
    assert rec["cost_kw"] == pytest.approx(COST_KW * len(changed))
    assert sorted(int(b.split(":")[1]) for b in rec["changed"]) == changed
    # both holds move their branch away from the base case: both listed and charged
    assert sorted(rec["held"]) == ["line:3", "line:9"]


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_held_changes_are_charged_in_the_objective(
        method: str, nominal: tuple[frozenset[int], float, int]) -> None:
    opened, total, actions = nominal
    assert actions >= 3  # the two held lines and at least the tie that must close
    result = feederopt.solve(_net(), method=method, time_limit=60, switch_cost_kw=COST_KW,
                             **_holds())
    assert result.status.value == "optimal"
    assert _opened(result) == opened
    # the objective is the model's losses plus every action's cost, the held ones included
    assert result.objective - result.losses_kw == pytest.approx(COST_KW * actions, abs=1e-6)
    assert result.ac_check.losses_kw + COST_KW * actions == pytest.approx(total, rel=1e-6)
    assert result.objective * (1 - 1e-4) <= result.lower_bound <= result.objective + 1e-6
    _check_switching(result, opened)


def test_scenarios_charge_the_held_changes() -> None:
    net = _net()
    table = scenario_at(net, 0.9)
    result = feederopt.solve(net, scenarios=table, time_limit=60, workers=1,
                             switch_cost_kw=COST_KW, **_holds())
    opened, _, actions = _brute(0.9)
    assert _opened(result) == opened
    # expected losses (one scenario) plus every action's cost, the held ones included (the
    # penalised objective also carries 1e5 kW per p.u. of the slave's residual slack, ~1e-11)
    assert result.objective - result.uncertain.expected_losses_kw == pytest.approx(
        COST_KW * actions, abs=1e-5)
    _check_switching(result, opened)


def test_robust_charges_the_held_changes() -> None:
    """Without the AC check: the test reads the topology, the objective and the switching
    record, none of them from the AC check, whose power flow at each of the box's 256 extreme
    points was nine tenths of this test's time."""
    result = feederopt.solve(_net(), robust=0.05, time_limit=60, workers=1,
                             switch_cost_kw=COST_KW, ac_check=False, **_holds())
    opened, _, actions = _brute(1.05)  # the upper corner is the worst on this passive feeder
    assert _opened(result) == opened
    assert result.objective - result.uncertain.worst_case_losses_kw == pytest.approx(
        COST_KW * actions, abs=1e-6)
    _check_switching(result, opened)


def test_holds_that_fix_every_switch_still_charge_their_actions() -> None:
    """The tiny feeder with every switchable branch held (nothing left to decide): the tie
    closed and l2 opened are two actions on top of pandapower's losses of that topology."""
    result = feederopt.solve(tiny(), switch_cost_kw=COST_KW, hold_closed=["tie1", "sw1", "l3"],
                             hold_open=["l2"])
    assert result.status.value == "optimal"
    assert [b["id"] for b in result.open_branches] == ["l2"]
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(tiny_pandapower_losses_kw({"l2"}),
                                                      rel=1e-6)
    assert result.objective - result.losses_kw == pytest.approx(2 * COST_KW, abs=1e-9)
    assert result.extra["switching"]["actions"] == 2
    assert sorted(result.extra["switching"]["held"]) == ["l2", "tie1"]


def test_a_hold_at_the_base_state_costs_nothing() -> None:
    """Holding a branch in its own base state is no action: no switching cost."""
    net = tiny()
    result = feederopt.solve(net, switch_cost_kw=COST_KW, hold_open=["tie1"])
    # with tie1 open, the only radial state closes everything: no action at all
    assert [b["id"] for b in result.open_branches] == ["tie1"]
    assert result.objective == pytest.approx(result.losses_kw, abs=1e-9)
    assert result.extra["switching"]["actions"] == 0
    assert result.extra["switching"]["cost_kw"] == 0.0



def test_cli_json_console_and_report_show_the_charged_actions(tmp_path: Path) -> None:
    import json

    import pandapower as pp
    from typer.testing import CliRunner

    from feederopt.cli import app

    net = _net()
    pp.to_json(net, str(tmp_path / "net.json"))
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["solve", str(tmp_path / "net.json"), "--switch-cost",
                                   str(COST_KW), "--hold-closed", "line:9", "--hold-open", "S3",
                                   "--out", str(out)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    opened = frozenset(int(b["id"].split(":")[1]) for b in doc["open_branches"])
    actions = len(opened ^ _base_open(net))  # counted by hand against the net's switches
    assert doc["switching"]["actions"] == actions
    assert doc["switching"]["cost_kw"] == pytest.approx(COST_KW * actions)
    assert doc["objective"] - doc["losses_kw"] == pytest.approx(COST_KW * actions, abs=1e-6)
    text = " ".join(res.output.split())
    assert f"switching cost │ {actions} actions, {COST_KW * actions:.3f} kW" in text
    assert "held away from the base case: line:3, line:9" in text
    res = CliRunner().invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text()
    assert f"{actions} actions, {COST_KW * actions:.3f} kW (incl. 2 held" in html


def test_a_chain_of_normally_open_switches_closes_the_cheaper_and_charges_it() -> None:
    """The tiny feeder's tie s-c split into two normally-open lines t1 (cost 3 kW) and t2
    (7 kW) through an empty bus e (a zero-injection chain). Every radial configuration feeds e,
    so one of them closes: an action. Presolve used to fix t2 closed (the later one) without
    charging it; by hand, the least cost closes t1 (3 kW) and keeps the losses of the base
    case without the tie (pandapower's); closing t2 costs 7 kW at the same losses, and closing both
    costs 10 kW, more than the whole losses (3.4 kW) that any switching could save."""
    from netbuild import tiny_tables

    t = tiny_tables()
    t["buses"] = pl.concat([t["buses"], pl.DataFrame(
        {"id": ["e"], "vn_kv": [12.66], "is_source": [False]})])
    br = t["branches"].filter(pl.col("id") != "tie1").with_columns(
        pl.lit(0.0).alias("switch_cost_kw"))
    t["branches"] = pl.concat([br, pl.DataFrame({
        "id": ["t1", "t2"], "from_bus": ["s", "e"], "to_bus": ["e", "c"], "r_ohm": [0.5, 0.5],
        "x_ohm": [0.4, 0.4], "kind": ["line", "line"], "switchable": [True, True],
        "normally_open": [True, True], "switch_cost_kw": [3.0, 7.0]})])
    for method in ("benders", "misocp"):
        result = feederopt.solve(tiny(**t), method=method)
        assert result.status.value == "optimal"
        assert result.switches.filter(pl.col("changed"))["id"].to_list() == ["t1"]
        assert result.extra["switching"] == {"actions": 1, "cost_kw": 3.0, "changed": ["t1"],
                                             "held": []}
        assert result.ac_check.losses_kw == pytest.approx(
            tiny_pandapower_losses_kw({"tie1"}), rel=1e-6)
        assert result.objective - result.losses_kw == pytest.approx(3.0, abs=1e-6)
