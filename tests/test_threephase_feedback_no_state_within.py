"""When every answer of the voltage feedback breaks a limit in OpenDSS and the MILP with the
ratings tightened by OpenDSS's loadings has no answer (``voltage_feedback.stopped`` "no
answer"), the status says that no topology within the limits was found: ``infeasible``, the
reason and a note, exit 3 as the three-phase path's other least-overloading answers (README's
exit codes). User test ut32_3ph M4 (``tests/data/ut32_3ph/feederM4.dss``: Line.l12 and
Line.l67 rated 175 A and 200 A; the user's brute force of its 152 radial states with OpenDSS
found none within them, the least largest loading 100.6 %) got status ``optimal``, ``notes``
[] and exit 4. The truth checked here: OpenDSS's own solve of the file with the answer's
switches open loads a line above its rating."""

from __future__ import annotations

import json
import os
from pathlib import Path

import opendssdirect as dss
from typer.testing import CliRunner

from feederopt.cli import app

FEEDER = Path(__file__).parent / "data" / "ut32_3ph" / "feederM4.dss"


def _opendss_max_loading(open_switches: list[str]) -> float:
    """OpenDSS alone: the file compiled, the switches opened, the largest line loading [%]
    of its NormAmps."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{FEEDER}"')
        for sw in dss.Lines.AllNames():
            dss.Text.Command(f"close Line.{sw} term=1")
        for sw in open_switches:
            dss.Text.Command(f"open Line.{sw} term=1")
        dss.Text.Command("solve")
        worst = 0.0
        for name in dss.Lines.AllNames():
            dss.Lines.Name(name)
            amps = max(dss.CktElement.CurrentsMagAng()[0::2], default=0.0)
            if dss.Lines.NormAmps() > 0:
                worst = max(worst, 100 * amps / dss.Lines.NormAmps())
        return worst
    finally:
        os.chdir(cwd)


def test_no_state_within_the_ratings_is_not_optimal(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["solve", str(FEEDER), "--json", str(out)])
    data = json.loads(out.read_text())
    assert _opendss_max_loading(data["open_switches"]) > 100.0  # OpenDSS: not within
    assert data["voltage_feedback"]["stopped"] == "no answer"
    assert data["status"] == "infeasible"
    assert data["within_limits"] is False
    assert "no radial topology was found within the limits" in data["reason"]
    assert any("found no radial topology within the limits" in n for n in data["notes"])
    assert result.exit_code == 3
