"""A LinDistFlow run whose MILP stops at the time limit says so (user test ut_research #4):
status ``time_limit`` (not ``feasible``), the MILP's status and gap in the JSON, and a line on
the console. case118zh's LinDistFlow MILP needs far more than 5 s (the tester's 120 s run
still stopped at the limit), so a 5 s run stops it.

Whether the MILP has an incumbent when it stops depends on the CPU it got in those 5 s: on an
idle machine it has (its first, at about 2 s of CPU, is 22 % from its bound on the loss
proxy, a topology within the limits), on the 2-core CI machine at a load of 8 to 11 it has
not (the same run at a 1 s limit here: no topology, exit code 4), and the test asserted the
first (``milp_gap`` present, exit code 0). Each outcome has its own answer, asserted
here: never ``optimal`` or ``feasible``; the limit is kept on CPU time
(tests/time_limit_checks.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cases.loading import load
from feederopt.cli import app
from time_limit_checks import assert_kept, clock

LIMIT_S = 5.0


def test_lindistflow_stopped_by_the_time_limit_says_so(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    load("case118zh")  # the imports and the case's first read, before the clock starts
    with clock() as c:
        res = CliRunner().invoke(app, ["solve", "case118zh", "--method", "lindistflow",
                                       "--time-limit", f"{LIMIT_S:g}", "--json", str(out)])
    doc = json.loads(out.read_text())
    assert doc["milp_status"] == "time_limit"
    assert doc["status"] == "time_limit"
    assert doc["lower_bound"] == "-inf"  # a heuristic: no bound on the losses
    text = " ".join(res.output.split())
    assert "The LinDistFlow MILP stopped at the time limit" in text
    if doc.get("milp_gap") is not None:  # an incumbent within the limit
        assert 0 < doc["milp_gap"] < 1
        assert "its gap on its loss proxy" in text
        assert doc["objective"] is not None
        assert res.exit_code == 0, res.output  # a topology within the limits
    else:  # no incumbent in the CPU the limit gave: no topology to report
        assert doc["objective"] is None
        assert res.exit_code == 4, res.output
    # the MILP alone would run for minutes; the AC check and the start-up are in the margin
    assert_kept(c, LIMIT_S, 5.0)
