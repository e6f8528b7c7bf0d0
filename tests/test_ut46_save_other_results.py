"""``feederopt.save`` / ``save_json`` write a partition's, restoration's, plan's and schedule's
result as their commands' ``--out DIR`` / ``--json FILE`` do (user test ut46_pyapi t9: both refused
a RestoreResult with the hint "give what feederopt.solve (or solve_three_phase) returned", so
a notebook user could not save after solving).

Independent truth: the folder the command line writes for the same run (the same files, the
same answer in result.json) and ``feederopt report``'s exit code 0 on the saved folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()
ENV = {"COLUMNS": "300"}

#: kind -> (the Python call, the command line, the keys of result.json that hold the answer)
RUNS: dict[str, tuple[Callable[[], Any], list[str], tuple[str, ...]]] = {
    "restore": (lambda: feederopt.restore("case33bw", ["7"], time_limit_s=60),
                ["restore", "case33bw", "--broken", "7", "--time-limit", "60"],
                ("shed_kw", "operation", "switching")),
    "partition": (lambda: feederopt.partition("ieee13", time_limit_s=60),
                  ["partition", "ieee13", "--time-limit", "60"],
                  ("closed_switches", "energised_blocks")),
    # a plan: session 47's known list (save() refused it, pointing to
    # write_resilience_folder)
    "plan": (lambda: feederopt.plan("case33bw", broken=["7"], time_limit_s=60),
             ["plan", "case33bw", "--broken", "7", "--time-limit", "60"],
             ("hardened", "dg_sites", "expected_total", "scenarios")),
    "schedule": (lambda: feederopt.schedule("case33bw", hours=2, time_limit_s=60),
                 ["schedule", "case33bw", "--hours", "2", "--time-limit", "60"],
                 ("open_lines_by_hour",)),
}


@pytest.mark.parametrize("kind", list(RUNS))
def test_save_writes_the_folder_that_out_writes(kind: str, tmp_path: Path) -> None:
    call, argv, keys = RUNS[kind]
    result = call()
    saved = feederopt.save(result, tmp_path / "saved")
    cli = tmp_path / "cli"
    run = runner.invoke(app, [*argv, "--out", str(cli), "--quiet"], env=ENV)
    assert (cli / "result.json").is_file(), run.output
    assert sorted(p.name for p in saved.iterdir()) == sorted(p.name for p in cli.iterdir())
    ours, theirs = (json.loads((d / "result.json").read_text()) for d in (saved, cli))
    assert ours["kind"] == theirs["kind"]
    for key in keys:
        assert key in theirs, (key, sorted(theirs))
        assert ours[key] == theirs[key], key
    report = runner.invoke(app, ["report", str(saved), "--force"], env=ENV)
    assert report.exit_code == 0, report.output
    # save_json writes what --json FILE does, which the command reads back as its kind
    file = feederopt.save_json(result, tmp_path / "r.json")
    doc = json.loads(file.read_text())
    assert doc["kind"] == theirs["kind"] and all(doc[k] == theirs[k] for k in keys)
    assert "network" not in doc
    with pytest.raises(InputError) as exc:  # an existing folder only with force
        feederopt.save(result, saved)
    assert exc.value.problems[0].kind.value == "output_exists"


def test_something_else_is_refused_naming_the_results_save_writes() -> None:
    with pytest.raises(InputError) as exc:
        feederopt.save({"kind": "resilience_plan"}, "x")
    assert "plan" in exc.value.problems[0].hint
