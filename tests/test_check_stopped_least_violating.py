"""``feederopt check`` of a result that stopped before it found a topology within the limits
(status ``time_limit``, no objective, ``has_topology`` true: case84tpc ``--robust 0.05
--budget 2 --time-limit 60`` of ut39_recheck_b, whose worst-case search certified no
topology) checks its least-violating topology and says so as it does for an infeasible one
(commit 616e563): the warning before the table and the row "open branches (least-violating
state, breaks the limits)". Before, it printed neither (0 % feasible beside a plain "open
branches").

The result: the ut39 9-bus infeasible one of ``test_ut39_check_least_violating`` rewritten as a
run stopped by its time limit (the same topology; status ``time_limit``, objective null, no
proof). Truth: that module's own pandapower loop over the check's documented draws."""

from __future__ import annotations

import json

from feederopt.cli import app
from test_ut39_check_least_violating import (  # noqa: F401 (a fixture)
    SEED,
    N,
    X,
    infeasible,
    pandapower_ok,
    runner,
)


def test_check_of_a_stopped_result_without_a_plan_warns_and_labels(infeasible) -> None:  # noqa: F811
    net, result, _ = infeasible
    doc = json.loads(result.read_text())
    doc.update(status="time_limit", objective=None, lower_bound="-inf")
    doc.pop("infeasible_reason", None)
    stopped = result.parent / "stopped.json"
    stopped.write_text(json.dumps(doc))
    truth = pandapower_ok(net, [int(b["id"].split(":")[1]) for b in doc["open_branches"]])
    out = result.parent / "stopped_check.json"
    res = runner.invoke(app, ["check", str(stopped), "-u", str(X), "-n", str(N), "--seed",
                              str(SEED), "--json", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code not in (0, 1, 2), res.output  # the solve's verdict: limits broken
    assert "Traceback" not in res.output
    data = json.loads(out.read_text())
    assert data["feasible_ac"] == sum(truth) < N
    assert data["least_violating"] is True
    assert "found no topology within the limits before it stopped" in data["notes"][0]
    text = " ".join(res.output.split())
    assert "warning: the result found no topology within the limits before it stopped" in text
    assert "open branches (least-violating state, breaks the limits)" in text
