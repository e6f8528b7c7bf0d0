"""``plan`` with the default extensive form takes ``--workers N`` with a note that it is not
used, as a balanced ``solve`` takes a worker count it cannot use; ``--ray`` there is still
refused, as a balanced solve refuses it without scenarios (user test ut50_par #5).

Before, ``feederopt plan zhang13 --scenarios B_C_p2 --workers 2`` exited 2 ("--workers and
--ray act on the L-shaped method's subproblems only") while ``--workers 1`` was taken
silently. The truth that the count is not used: the extensive form's result holds the same
plan and cost with ``--workers 1`` and ``2`` (one MILP in this process, the executor record
says one serial worker either way).

Also ut50_par #4: the README said "their --workers go from 1 to 4 per core" of partition, plan
and restore; restore has no --workers. The commands the README gives the range for are
checked against the commands' own --help.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})
ARGS = ["plan", "zhang13", "--broken", "2", "--no-measures", "--no-ac-check",
        "--time-limit", "60"]
README = Path(__file__).resolve().parents[1] / "README.md"


def _plan(tmp_path: Path, *extra: str) -> tuple[int, str, dict]:
    out = tmp_path / f"p{len(list(tmp_path.iterdir()))}.json"
    res = runner.invoke(app, [*ARGS, *extra, "--json", str(out)])
    return res.exit_code, res.output, json.loads(out.read_text()) if out.exists() else {}


def test_extensive_plan_takes_workers_with_a_note(tmp_path: Path) -> None:
    code1, out1, one = _plan(tmp_path, "--workers", "1")
    code2, out2, two = _plan(tmp_path, "--workers", "2")
    assert code1 == 0 and code2 == 0, out2  # before: exit 2 with --workers 2
    assert "not used" not in out1
    assert "--workers 2 not used: the extensive form is one MILP" in " ".join(out2.split())
    assert any("--workers 2 not used" in n for n in two["notes"])
    for key in ("hardened", "dg_sites", "expected_total"):
        assert two[key] == one[key]
    assert two["execution"]["workers"] == one["execution"]["workers"] == 1


def test_extensive_plan_still_refuses_ray(tmp_path: Path) -> None:
    code, out, doc = _plan(tmp_path, "--ray", "local")
    assert code == 2 and not doc
    assert "--ray acts on the L-shaped method's subproblems only" in " ".join(out.split())


def test_the_readme_gives_the_workers_range_to_the_commands_that_have_workers() -> None:
    text = " ".join(README.read_text().split())
    sentence = re.search(r"likewise for `partition`, `plan` and `restore`; ([^;]*)go from 1 "
                         r"to 4 per core", text)
    assert sentence is not None
    named = set(re.findall(r"`(partition|plan|restore)`", sentence.group(1)))
    having = {c for c in ("partition", "plan", "restore")
              if "--workers" in runner.invoke(app, [c, "--help"]).output}
    assert having == {"partition", "plan"}  # restore has none
    assert named == having, sentence.group(0)
