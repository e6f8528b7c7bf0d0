"""``solve FILE.dss --workers N`` (user tests ut45 dssday #4, ut50_scen #2): the README
promises "a script may always pass a worker count" (a balanced solve without scenarios takes
it with a note), so a three-phase feeder takes ``--workers`` (and ``--ray`` with
``--scenarios``) with a note that its solve runs in one process, instead of refusing it with
exit 2. A bad count is still refused before the feeder is read (a junk .dss: exit 2 without
a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app


def test_help_says_a_three_phase_feeder_takes_workers_with_a_note() -> None:
    out = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["solve", "--help"])
    text = " ".join(out.output.replace("│", " ").split())
    assert "slaves of a balanced network (--scenarios, --robust); a three-phase .dss feeder " \
           "takes it with a note and solves in one process" in text


def test_a_bad_worker_count_refused_before_the_feeder_is_read(tmp_path: Path) -> None:
    path = tmp_path / "junk.dss"
    path.write_text("this is no OpenDSS script\n")
    out = CliRunner().invoke(app, ["solve", str(path), "--workers", "0"])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    assert "--workers must be at least 1" in out.output
    assert "not available for three-phase" not in out.output


def test_ray_without_scenarios_refused_as_on_a_balanced_solve(tmp_path: Path) -> None:
    path = tmp_path / "junk.dss"
    path.write_text("this is no OpenDSS script\n")
    out = CliRunner().invoke(app, ["solve", str(path), "--ray", "auto"])
    assert out.exit_code == 2, out.output
    assert "--ray only applies to --scenarios and --robust solves" in out.output


@pytest.mark.parametrize("extra", [[], ["--ray", "auto"]])
def test_workers_taken_with_a_note_on_a_three_phase_scenario_solve(
        tmp_path: Path, extra: list[str]) -> None:
    from feederopt.cases.threephase import three_phase_case_path

    dss = three_phase_case_path("ieee13mod")
    scen = tmp_path / "s.csv"
    gen = CliRunner().invoke(app, ["scenarios", str(dss), "--out", str(scen),
                                   "--load-shapes", "daily"])
    assert gen.exit_code == 0, gen.output
    out = CliRunner().invoke(app, ["solve", str(dss), "--scenarios", str(scen), "--workers",
                                   "2", *extra, "--time-limit", "20", "--no-ac-check",
                                   "--json", str(tmp_path / "r.json")])
    # solved (the bundled feeder's daily shapes have no radial state within the limits,
    # exit 3 for that verdict): not refused as an input problem (exit 2)
    assert out.exit_code != 2 and "status" in out.output, out.output
    assert "ignored: a three-phase solve runs in this process" in out.output
    assert "not available for three-phase" not in out.output
