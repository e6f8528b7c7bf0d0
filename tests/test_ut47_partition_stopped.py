"""A partition stopped at its time limit before any plan answers the all-dark plan (user test
ut47_part, follow-up #1).

Before, ``feederopt partition ieee37sw.dss --settings s37.json --uncertainty 0.1
--uncertain-loads s733a,s737a,s738a,s740c --extensive --no-voltage-feedback --time-limit 60``
said "stopped at the time limit ... before any partition was found ... nothing is written",
although switching every block off is always a robustly feasible plan. Now the all-dark plan
is the answer, status ``time_limit``, with the bound if any, written to ``--json``, and marked
``trivial_plan`` (exit code 4, README "Networked microgrids").

The truth is the objective of the all-dark plan computed by hand from the tester's .dss file
(tests/data/ut47_part/ieee37sw.dss, the tester's file unchanged): seed 001's load-shed cost
``1000 * sum_l alpha_l`` with ``alpha_l = 10 + 0.01 |D_l|`` for every block holding loads
(docs/partition-settings.md), the blocks being the pieces of the feeder between its
``switch=y`` lines, the substation's piece (the lost one) weighing nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

DATA = Path(__file__).parent / "data" / "ut47_part"
DSS = DATA / "ieee37sw.dss"
ARGS = [str(DSS), "--settings", str(DATA / "s37.json"), "--uncertainty", "0.1",
        "--uncertain-loads", "s733a,s737a,s738a,s740c", "--no-voltage-feedback"]


def _bus(token: str) -> str:
    return token.split(".")[0].strip("()[],'\"").lower()


def all_dark_cost_by_hand(path: Path) -> float:
    """``1000 * sum (10 + 0.01 loads)`` over the blocks holding loads, read from the .dss
    text: buses joined by lines without switch=y and by transformers are one block; the
    circuit's source bus's block is lost (weight 0)."""
    parent: dict[str, str] = {}

    def find(b: str) -> str:
        parent.setdefault(b, b)
        while parent[b] != b:
            b = parent[b]
        return b

    def join(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    loads: list[str] = []
    text = re.sub(r"\n\s*~", " ", path.read_text())  # continuation lines
    for line in text.splitlines():
        low = line.strip().lower()
        if low.startswith("new line."):
            if re.search(r"switch\s*=\s*(y|yes|true)", low):
                for b in re.findall(r"bus[12]\s*=\s*(\S+)", low):
                    find(_bus(b))
                continue
            a, b = (re.search(rf"bus{k}\s*=\s*(\S+)", low).group(1) for k in (1, 2))
            join(_bus(a), _bus(b))
        elif low.startswith("new transformer."):
            m = re.search(r"buses\s*=\s*[(\[]([^)\]]*)", low)
            buses = m.group(1).replace(",", " ").split() if m else re.findall(
                r"\bbus\s*=\s*(\S+)", low)
            for b in buses[1:]:
                join(_bus(buses[0]), _bus(b))
        elif low.startswith("new load."):
            loads.append(_bus(re.search(r"bus1\s*=\s*(\S+)", low).group(1)))
    lost = find("sourcebus")
    count: dict[str, int] = {}
    for b in loads:
        count[find(b)] = count.get(find(b), 0) + 1
    return sum(1000 * (10 + 0.01 * n) for blk, n in count.items() if blk != lost)


def test_the_hand_calculation_reads_the_tester_file() -> None:
    """The hand calculation's pieces: 30 loads on four blocks behind SW0..SW3 (the tie closes
    a loop, no block of its own): 1000 (4 x 10 + 0.01 x 30)."""
    assert all_dark_cost_by_hand(DSS) == pytest.approx(1000 * (4 * 10 + 0.01 * 30))


@pytest.mark.parametrize("method", [["--extensive"], []], ids=["extensive", "cutting_plane"])
def test_a_run_stopped_before_any_plan_answers_the_all_dark_plan(tmp_path, method) -> None:
    out = tmp_path / "p.json"
    res = CliRunner().invoke(app, ["partition", *ARGS, *method, "--time-limit", "0.001",
                                   "--json", str(out)])
    assert res.exit_code == 4, res.output  # README: a trivial plan is no answer
    assert "Traceback" not in res.output and "no partition found" in res.output
    assert "nothing is written" not in res.output
    doc = json.loads(out.read_text())  # written (before: nothing)
    assert doc["status"] == "time_limit" and doc["trivial_plan"] is True
    assert not any(doc["plan"]["energised"]) and not any(doc["plan"]["grid_forming"])
    assert doc["objective"] == pytest.approx(all_dark_cost_by_hand(DSS))
    assert doc["load_shed_cost"] == pytest.approx(all_dark_cost_by_hand(DSS))
    assert doc["generation_cost"] == 0 and doc["redispatch_cost"] == 0
    assert doc["violations"] == []  # the plan's own model checks hold
    assert any("all-dark fallback" in n for n in doc["notes"])
    if doc["lower_bound"] is not None:
        assert doc["lower_bound"] <= doc["objective"] + 1e-9
        assert doc["gap"] == pytest.approx(
            (doc["objective"] - doc["lower_bound"]) / doc["objective"])


def test_a_master_plan_holding_every_extreme_point_is_kept_at_the_limit(monkeypatch) -> None:
    """A master MILP that found a plan just before the time limit dropped its round of
    slaves: the run said "before any robustly feasible partition was found". With every
    extreme point in the master (the deterministic problem: one), the master's plan is
    robustly feasible without its slaves and is the answer (the MILP incumbent, before the
    all-dark fallback). (Iowa 240 at ``--time-limit 5`` is not this case: its first master
    MILP stops with no incumbent, its bound 1,966.32 $ already the optimum, so it answers the
    all-dark plan with that bound.) The dropped round is forced here (every round overruns), on
    the tester's IEEE 37 at 0 %; the truth is the recourse's least total slack of the plan at
    the nominal load, 0 (the seed's feasibility test), and the cost of the plan from its own
    set-points and blocks by the objective's formula."""
    import feederopt.execution.executors as ex_mod
    from feederopt.algorithms.partition import PartitionSlaves
    from feederopt.api_partition import _network_and_settings, partition
    from feederopt.problems.partition import build_partition_data, plan_x
    from feederopt.solvers import interrupt

    def overrun(self, fn, items, deadline=None):  # type: ignore[no-untyped-def]
        raise interrupt.RoundOverran("the round overran the deadline")

    monkeypatch.setattr(ex_mod.SerialExecutor, "map", overrun)
    res = partition(str(DSS), settings=str(DATA / "s37.json"), voltage_feedback=False)
    assert not res.trivial_plan and res.plan is not None and res.plan.energised.any()
    assert res.status in ("optimal", "time_limit")
    assert res.lower_bound <= res.objective + 1e-6
    net, st, _, _ = _network_and_settings(str(DSS), str(DATA / "s37.json"), None, None,
                                          None, [])
    data = build_partition_data(net, st)
    x = plan_x(data, res.plan)
    rv = PartitionSlaves(data, data.extreme_points()).evaluate(0, x, data.settings.eps)
    assert rv.slack <= data.settings.eps  # robustly feasible (one extreme point at 0 %)
    assert res.redispatch_cost >= rv.value - 1e-6  # theta bounds the re-dispatch from above
    on = res.plan.energised
    gen = 1000 * float(data.der_c1[data.ph_der] @ res.plan.p_set) + float(
        data.der_c0 @ on[data.der_block])
    shed = 1000 * float(data.alpha @ (~on))  # 1000 (10 + 0.01 loads) per dark block
    assert res.objective == pytest.approx(gen + shed + res.redispatch_cost, abs=1e-6)
