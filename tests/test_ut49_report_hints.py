"""``feederopt report FILE.json`` rebuilds the command with every option the file records
(user tests ut49_part #3 and ut49_journey #1).

Before, a partition's hint had only ``--settings`` and the limits: ``partition ieee37mod
--uncertainty 0.1 --k-der 2`` was hinted as ``partition ieee37mod --settings ... --out DIR``,
which finds another plan (32,907.54 $ against 40,601.17 $); and a solve's hint dropped the
held branches (``--hold-open``/``--hold-closed``) and ``--no-probing``, so that the command
given opened 7, 9, 14, 32, 37 of case33bw instead of the held 7, 8, 9.

Independent truth: the user's own run. The hint is run as it is (DIR replaced by a folder)
and must give the same answer as the command the user typed; the holds are checked against
the user's command line too (the held branches open or closed in the answer).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

ENV = {"COLUMNS": "400"}


def _hint(output: str) -> str:
    found = re.search(r"run '([^']*)'", " ".join(output.split()))
    assert found, output
    return found.group(1)


def _run_hint(runner: CliRunner, file: Path, folder: Path) -> tuple[str, dict]:
    refused = runner.invoke(app, ["report", str(file)], env=ENV)
    assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output
    hint = _hint(refused.output)
    argv = shlex.split(hint.replace(" DIR", f" {shlex.quote(str(folder))}"))
    assert argv[0] == "feederopt", hint
    again = runner.invoke(app, argv[1:], env=ENV)
    assert again.exit_code in (0, 4), (hint, again.output)
    return hint, json.loads((folder / "result.json").read_text())


def test_solve_hint_repeats_the_holds_and_no_probing(tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "h.json"
    run = runner.invoke(app, ["solve", "case33bw", "--hold-open", "7,9", "--hold-open", "8",
                              "--hold-closed", "37", "--no-probing", "--v-min", "0.93",
                              "--gap", "0.01", "--time-limit", "60", "--json", str(file)],
                        env=ENV)
    assert run.exit_code == 0, run.output
    first = json.loads(file.read_text())
    opened = {b["id"] for b in first["open_branches"]}
    assert {"7", "8", "9"} <= opened and "37" not in opened  # the user's holds
    hint, second = _run_hint(runner, file, tmp_path / "again")
    assert "--no-probing" in hint, hint
    assert {b["id"] for b in second["open_branches"]} == opened, hint
    assert second["held"] == first["held"]
    assert second["settings"] == first["settings"]
    assert second["losses_kw"] == pytest.approx(first["losses_kw"], rel=1e-6)


def test_partition_hint_repeats_uncertainty_and_k_der(tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "p37k2.json"
    run = runner.invoke(app, ["partition", "ieee37mod", "--uncertainty", "0.1", "--k-der", "2",
                              "--time-limit", "300", "--json", str(file)], env=ENV)
    assert run.exit_code in (0, 4), run.output
    first = json.loads(file.read_text())
    hint, second = _run_hint(runner, file, tmp_path / "again")
    assert "--uncertainty 0.1" in hint and "--k-der 2" in hint, hint
    assert second["uncertainty"] == pytest.approx(0.1) and second["k_der"] == 2
    assert second["closed_switches"] == first["closed_switches"], hint
    assert [b["energised"] for b in second["blocks"]] == [
        b["energised"] for b in first["blocks"]]
    assert second["objective"] == pytest.approx(first["objective"], rel=1e-5), hint
    assert second["inputs"]["load_model"] == first["inputs"]["load_model"]


def test_partition_hint_names_the_load_model_and_limits() -> None:
    """A file with constant-power loads and --v-max 1.05 (the tester's piowa_v105.json, its
    recorded fields): the hint repeats both, and the time limit and samples it records."""
    from feederopt.report.command_line import command_again

    doc = {"kind": "partition", "case": "iowa240", "uncertainty": 0.0, "k_der": 1,
           "method": "cutting_plane", "checks": {"samples": 50, "ac_pct": None},
           "voltage_feedback": {"enabled": False, "rounds": [], "stopped": "off"},
           "inputs": {"source": "iowa240", "settings": "/tmp/s.json", "uncertain_loads": None,
                      "k_der": 1, "load_model": "constant_power", "v_min_pu": None,
                      "v_max_pu": 1.05, "thermal_limits": True, "max_loading_percent": None,
                      "time_limit_s": 120.0}}
    argv = shlex.split(command_again(doc, "partition", "feederopt partition FEEDER.dss "
                                     "--out DIR"))
    for option in (["--settings", "/tmp/s.json"], ["--constant-power-loads"],
                   ["--v-max", "1.05"], ["--no-voltage-feedback"], ["--time-limit", "120"],
                   ["--samples", "50"], ["--no-ac-check"], ["--uncertainty", "0"],
                   ["--k-der", "1"]):
        at = argv.index(option[0])
        assert argv[at:at + len(option)] == option, argv
    assert "--v-min" not in argv and "--extensive" not in argv


def test_three_phase_hint_repeats_the_options(tmp_path: Path) -> None:
    """A three-phase solve's hint said only ``feederopt solve ieee13 --out DIR`` ("add any
    other options it had", session 49's known list): the rerun lost the voltage band, the
    rating factor, the switching cost and the voltage feedback's switch."""
    runner = CliRunner()
    file = tmp_path / "t.json"
    run = runner.invoke(app, ["solve", "ieee13", "--time-limit", "45", "--v-min", "0.93",
                              "--switch-cost", "0.5", "--no-voltage-feedback",
                              "--max-loading", "90", "--json", str(file)], env=ENV)
    assert run.exit_code in (0, 4), run.output
    first = json.loads(file.read_text())
    hint, second = _run_hint(runner, file, tmp_path / "again")
    for key in ("voltage_limits", "max_loading_percent", "switch_cost_kw", "open_switches"):
        assert second[key] == first[key], (key, hint)
    assert first["voltage_limits"]["v_min_pu"] == 0.93  # the user's command line
    assert first["switch_cost_kw"] == 0.5 and first["max_loading_percent"] == 90.0
    assert second["voltage_feedback"]["enabled"] is False, hint
    assert "--time-limit 45" in hint, hint


def test_robust_hint_repeats_workers_and_runs_over_every_load(tmp_path: Path) -> None:
    """``--workers`` was not repeated (session 49's known list); and a robust run over every
    load (no ``--uncertain-loads``) of more than 20 loads was hinted ``--uncertain-loads ...``,
    which no shell runs as the user's command."""
    runner = CliRunner()
    file = tmp_path / "z.json"
    run = runner.invoke(app, ["solve", "zhang13", "--robust", "0.05", "--workers", "2",
                              "--time-limit", "60", "--json", str(file)], env=ENV)
    assert run.exit_code == 0, run.output
    first = json.loads(file.read_text())
    hint, second = _run_hint(runner, file, tmp_path / "again")
    assert "--workers 2" in hint and "--uncertain-loads" not in hint, hint
    assert second["robust_summary"]["workers"] == 2
    assert second["robust_summary"]["uncertain_loads"] == first["robust_summary"][
        "uncertain_loads"]
    assert {b["id"] for b in second["open_branches"]} == {b["id"] for b in
                                                          first["open_branches"]}
    # a run over case33bw's 32 loads: the hint leaves the option out, as the user did
    doc = dict(first, case="case33bw", source="case33bw")
    doc["robust_summary"] = dict(first["robust_summary"],
                                 uncertain_loads=[str(i) for i in range(2, 34)])
    from feederopt.report.command_line import command_again

    again = command_again(doc, "solve", "feederopt solve CASE --out DIR")
    assert "--uncertain-loads" not in again and "..." not in again, again


def test_robust_hint_lists_every_given_load() -> None:
    """A robust run given all 32 of case33bw's loads by --uncertain-loads was hinted
    ``--uncertain-loads ...`` (user test ut50_recheck #5): the hint lists every id the user
    gave, so that it runs as it is."""
    from feederopt.report.command_line import command_again

    given = [str(i) for i in range(2, 34)]
    doc = {"kind": "solve", "case": "case33bw", "source": "case33bw",
           "settings": {"uncertain_loads_given": True},
           "robust_summary": {"uncertainty": 0.1, "uncertain_loads": given}}
    again = command_again(doc, "solve", "feederopt solve CASE --out DIR")
    argv = shlex.split(again)
    assert "..." not in argv, again
    assert argv[argv.index("--uncertain-loads") + 1].split(",") == given, again
