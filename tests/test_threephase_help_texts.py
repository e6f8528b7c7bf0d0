"""What ``solve --help`` and ``check`` say about three-phase (.dss) results: ``--out`` writes
no Parquet there and always the report; ``check`` refuses three-phase results and says so in
its help, and its refusal points a scenario result to its per-scenario OpenDSS checks (its
``ac_check`` hint did not apply: a scenario result has none)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def _flat(text: str) -> str:
    """The help text without the box drawing and line breaks."""
    return " ".join(text.replace("│", " ").split())


def test_solve_help_says_what_a_three_phase_out_folder_holds() -> None:
    res = runner.invoke(app, ["solve", "--help"], terminal_width=200)
    assert res.exit_code == 0
    text = _flat(res.output)
    assert "no Parquet" in text and "always has it" in text


def test_check_help_says_three_phase_results_are_not_checked() -> None:
    res = runner.invoke(app, ["check", "--help"], terminal_width=200)
    assert res.exit_code == 0
    assert "three-phase (.dss) solve results are not checked here" in _flat(res.output)


def test_check_refusal_of_a_three_phase_result_points_to_its_checks(tmp_path: Path) -> None:
    scen = tmp_path / "scen.json"
    scen.write_text(json.dumps({"case": "ring", "open_switches": ["s1"],
                                "scenarios": {"count": 2, "per_scenario": []}}))
    res = runner.invoke(app, ["check", str(scen), "--uncertainty", "0.1"],
                        terminal_width=200)
    assert res.exit_code == 2, res.output
    text = _flat(res.output)
    assert "scenarios.per_scenario" in text and "ac_check" not in text
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"case": "ring", "open_switches": ["s1"], "ac_check": {}}))
    res = runner.invoke(app, ["check", str(one), "--uncertainty", "0.1"], terminal_width=200)
    assert res.exit_code == 2 and "in its ac_check" in _flat(res.output), res.output
