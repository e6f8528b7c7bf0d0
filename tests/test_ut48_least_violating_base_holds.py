"""The warning that a least-violating answer breaks the limits by more than the base case
does respects the holds and the proof (user test ut48_core #3: ``--hold-open trafo:1``, a
proof of infeasibility, was told that "keeping the base case's switch states" -- trafo:1
closed, against the hold -- "may be the better choice, or try a longer --time-limit").

Truth: the user's own holds (case33bw's base case has line 2 closed, ``--hold-open 2`` forbids
it) and the status (a proof is not undone by more time).
"""

from __future__ import annotations

from typer.testing import CliRunner

import feederopt
from feederopt.api import _worse_than_base
from feederopt.cli import app
from feederopt.network.perunit import to_per_unit

runner = CliRunner(env={"COLUMNS": "300"})


def test_a_hold_the_base_case_breaks_gets_no_go_back_to_the_base_case_advice() -> None:
    res = runner.invoke(app, ["solve", "case33bw", "--hold-open", "2", "--time-limit", "60"])
    assert res.exit_code == 3, res.output  # the premise: proven infeasible under the hold
    flat = " ".join(res.output.split())
    assert "least-violating" in flat
    assert "keeping the base case's switch states" not in flat, flat


def test_after_a_proof_no_longer_time_limit_is_suggested() -> None:
    net = feederopt.load("case33bw")
    full = to_per_unit(net, 1.0)
    record = {"chosen": {"violation_total": 5.0}, "evaluated": 2}  # worse than the base's 0
    unproven = _worse_than_base(net, full, dict(record), proven=False)
    proven = _worse_than_base(net, full, dict(record), proven=True)
    assert unproven is not None and "--time-limit" in unproven
    assert proven is not None and "--time-limit" not in proven
    assert "keeping the base case's switch states" in proven
