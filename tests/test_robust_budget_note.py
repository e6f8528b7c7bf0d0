"""A robust solve whose budget is not below the number of uncertain loads (user test ut_unc:
``--budget`` larger than the loads named was taken silently) says that the budget binds
nothing: every uncertain load may deviate at once, the box. Truth: the count of the loads the
user named, and the extreme points of the box by hand (2 loads: 2^2)."""

from __future__ import annotations

import sys
from pathlib import Path

import feederopt

sys.path.insert(0, str(Path(__file__).parent))
from test_cli_solve import ring

NOTE = "is not below the number of uncertain loads"


def _notes(result: feederopt.Result) -> list[str]:
    return [str(n) for n in result.extra.get("notes", [])]


def test_a_budget_at_or_above_the_load_count_is_noted() -> None:
    net = ring(tie="b")
    loose = feederopt.solve(net, robust=0.05, uncertain_loads=["l1", "l2"], budget=5,
                            oracle="enumerate", ac_check=False)
    assert any(NOTE in n and "(5)" in n and "(2)" in n for n in _notes(loose))
    assert loose.uncertain.extreme_points == 2**2  # the box's corners, as without a budget
    # the worst-case slack is the largest of the extreme points' (it was None: "-" in the
    # report beside 0 at every extreme point)
    per_point = [v.outcome.violation_pu for v in loose.uncertain.vertices]
    assert len(per_point) == 4
    assert loose.uncertain.worst_case_violation_pu == max(per_point)
    tight = feederopt.solve(net, robust=0.05, uncertain_loads=["l1", "l2"], budget=1,
                            oracle="enumerate", ac_check=False)
    assert not any(NOTE in n for n in _notes(tight))
    assert tight.uncertain.extreme_points == 2 * 2  # one of two loads, either sign


def test_the_console_says_the_budget_binds_nothing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from feederopt.cli import app
    from feederopt.io.folder import write_folder

    write_folder(ring(tie="b"), tmp_path / "n")
    args = ["solve", str(tmp_path / "n"), "--robust", "0.05", "--uncertain-loads", "l1,l2",
            "--no-ac-check", "--workers", "1", "--budget"]
    runner = CliRunner(env={"COLUMNS": "200"})
    loose = runner.invoke(app, [*args, "5"])
    assert loose.exit_code == 0, loose.output
    assert "budget 5 (binds nothing" in loose.output
    tight = runner.invoke(app, [*args, "1"])
    assert tight.exit_code == 0 and "binds nothing" not in tight.output
