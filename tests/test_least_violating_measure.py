"""A proven-infeasible solve says what proves it and what its "least-violating" topology's
violation is measured in (user test ut42_journey #2: ``simbench:1-MV-rural--2-sw@lW`` ended
infeasible with ``infeasible_reason: null``, and its least-violating topology broke the limits
by more in AC than the model said, and by more than another radial topology did).

The truth: :func:`test_least_violation.weak_grid`, where pandapower's AC power flow of every
one of its 79 radial topologies breaks v_min (enumerated there, and again here).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.solvers.status import Status
from feederopt.validation.ac_least import converged_any
from test_least_violation import V_MIN, enumeration, weak_grid  # noqa: F401  (the fixture)


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_a_proven_infeasible_run_says_what_proves_it(
        method: str, enumeration: list) -> None:  # noqa: F811  (the fixture)
    assert max(vmin for _, _, vmin in enumeration) < V_MIN - 1e-3  # truly infeasible in AC
    result = feederopt.solve(weak_grid(), method=method, time_limit=60)
    assert result.status is Status.INFEASIBLE
    reason = result.extra.get("infeasible_reason")
    assert reason and "proven" in reason and "no radial topology" in reason
    # the least violation is the model's, or AC's among the candidates the search met (since
    # ut47_ppgrid #2 the base case's radial neighbours are among them), and the warning says
    # which, as the JSON's record of the choice does
    assert result.ac_check is not None
    (warning,) = [w for w in result.ac_check.warnings if "least-violating" in w]
    assert "SOCP relaxation" in warning
    record = result.extra.get("least_violating_ac") or {}
    if record.get("evaluated", 0) > 1 and converged_any(record):
        assert "measured in the AC power flow among the candidate topologies" in warning
    else:
        assert "measured in the model" in warning


def test_the_json_and_console_carry_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / "weak"
    from feederopt.io import write_folder

    write_folder(weak_grid(), folder)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(folder), "--json", str(out), "--time-limit",
                                   "60"], env={"COLUMNS": "240"})
    assert res.exit_code == 3, res.output
    data = json.loads(out.read_text())
    assert data["infeasible_reason"] and "proven" in data["infeasible_reason"]
    text = " ".join(res.output.split())
    record = data.get("least_violating_ac") or {}
    assert ("measured in the AC power flow among the candidate topologies" if
            record.get("evaluated", 0) > 1 and converged_any(record)
            else "measured in the model") in text
