"""A restoration's JSON records the network's path and the options it was found under, so
that ``feederopt report FILE.json`` names the command that writes its folder (session 47's
known list: restore/plan results on a file recorded no ``source``; ``--dg-size`` and
``--switch-penalty`` were in no result, and the hint left them out).

The truth is the user's own command line: the hinted command, run, writes the same
restoration (the same closed lines, DG output and objective) as the command the user ran.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})
ZHANG13 = Path(__file__).resolve().parents[1] / "src/feederopt/cases/data/zhang13"


def _user_copy(tmp_path: Path) -> Path:
    """zhang13's tables as a user's folder, at a path with a space."""
    folder = tmp_path / "my grid"
    shutil.copytree(ZHANG13, folder)
    return folder


def test_report_hint_of_a_restore_file_runs_the_same_restoration(tmp_path: Path) -> None:
    grid = _user_copy(tmp_path)
    given = ["--broken", "2", "--dg-sites", "5", "--dg-size", "250", "--switch-penalty",
             "0.02", "--time-limit", "120"]
    rj = tmp_path / "rj.json"
    done = runner.invoke(app, ["restore", str(grid), *given, "--json", str(rj)])
    assert done.exit_code == 0, done.output
    doc = json.loads(rj.read_text())
    assert doc["source"] == str(grid)
    hint = runner.invoke(app, ["report", str(rj)])
    assert hint.exit_code == 2, hint.output
    flat = " ".join(hint.output.split())
    command = flat.split("run '", 1)[1].split(" (the command", 1)[0]
    argv = shlex.split(command.replace("'feederopt", "feederopt").replace("--out DIR'",
                                                                          "--out DIR"))
    assert argv[:3] == ["feederopt", "restore", str(grid)], argv
    for option, value in zip(given[::2], given[1::2], strict=True):
        assert option in argv and argv[argv.index(option) + 1] == value, (option, argv)
    out = tmp_path / "again"
    argv[argv.index("DIR")] = str(out)
    again = runner.invoke(app, argv[1:])
    assert again.exit_code == 0, again.output
    redone = json.loads((out / "result.json").read_text())
    for key in ("objective", "shed_kw", "penalty_kw", "dg_sites"):
        assert redone[key] == doc[key], key
    assert redone["operation"]["closed_lines"] == doc["operation"]["closed_lines"]
    assert redone["operation"]["dg_output_kw"] == doc["operation"]["dg_output_kw"]


def test_a_restoration_at_the_defaults_hints_no_default_option(tmp_path: Path) -> None:
    rj = tmp_path / "rj.json"
    done = runner.invoke(app, ["restore", "zhang13", "--broken", "2", "--json", str(rj)])
    assert done.exit_code == 0, done.output
    hint = runner.invoke(app, ["report", str(rj)])
    flat = " ".join(hint.output.split())
    assert "run 'feederopt restore zhang13 --broken 2 --out DIR'" in flat, flat


def test_a_plan_on_a_file_records_its_path(tmp_path: Path) -> None:
    grid = _user_copy(tmp_path)
    pj = tmp_path / "pj.json"
    done = runner.invoke(app, ["plan", str(grid), "--broken", "2", "--time-limit", "60",
                               "--json", str(pj)])
    assert done.exit_code == 0, done.output
    assert json.loads(pj.read_text())["source"] == str(grid)
    hint = runner.invoke(app, ["report", str(pj)])
    assert f"feederopt plan {shlex.quote(str(grid))}" in " ".join(hint.output.split())


def test_the_python_api_records_the_network_as_the_command_line_does(tmp_path: Path) -> None:
    """``feederopt.restore`` / ``plan`` of a file record its absolute path, of a built-in case
    its name, as ``feederopt.solve`` does (user test ut48_recheck #3: ``source: null``, and the
    report's hint said ``feederopt plan CASE``)."""
    import feederopt

    grid = _user_copy(tmp_path)
    restored = feederopt.restore(str(grid), "2", time_limit_s=60)
    assert restored.to_dict()["source"] == str(grid)
    assert feederopt.restore("zhang13", "2", time_limit_s=60).to_dict()["source"] == "zhang13"
    plan = feederopt.plan(str(grid), broken=["2"], time_limit_s=60)
    written = json.loads(feederopt.save_json(plan, tmp_path / "p.json").read_text())
    assert written["source"] == str(grid)
