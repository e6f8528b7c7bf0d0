"""``feederopt partition --samples``: the OpenDSS share of the samples (IV-E) sets the exit code
and the JSON's top-level ``within_limits`` (docs/partition-ac-check.md, "Verdict and exit
code"); the result's repr is short.

The independent truth is OpenDSS itself, driven here without feederopt: the feeder's own file
compiled with ``opendssdirect``, its grid-forming generator replaced by a stiff source at the
plan's set-point, the load scaled by each of the run's draws (``1 + X u``, ``u ~ U(-1, 1)``,
numpy's default generator with seed 0, one factor per uncertain load), and the node voltages
read back against the 0.9-1.1 p.u. band. On the long line (4 MW 10 km from the generator)
the plan holds the nominal load just within 0.9 p.u. in OpenDSS, so the draws above the
nominal load break it: 2 of 5 at +-5 %. Before the fix that run exited 0 and its JSON had no
``within_limits``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from partition_feeders import LONG_LINE_SETTINGS, long_line, long_line_b2_voltages

runner = CliRunner(env={"COLUMNS": "400"})

V_MIN, V_MAX = 0.9, 1.1  # the network's limits: the OpenDSS file sets none
SAMPLES = 5


def _files(tmp_path: Path, kw: float) -> tuple[Path, Path]:
    feeder, settings = tmp_path / "long.dss", tmp_path / "long.json"
    feeder.write_text(long_line(kw, round(kw / 3, 2)))
    settings.write_text(json.dumps(LONG_LINE_SETTINGS))
    return feeder, settings


def _draws(x: float, n: int) -> np.ndarray:
    """The factors of the one uncertain load (l2) in the run's ``n`` draws, seed 0."""
    return 1 + x * np.random.default_rng(0).uniform(-1.0, 1.0, size=(n, 1))[:, 0]


def _run(tmp_path: Path, kw: float, x: float) -> tuple[Any, dict[str, Any], str]:
    feeder, settings = _files(tmp_path, kw)
    out = tmp_path / "p.json"
    result = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                                 "--uncertainty", str(x), "--samples", str(SAMPLES),
                                 "--json", str(out), "--time-limit", "120"])
    doc = json.loads(out.read_text())
    return result, doc, " ".join(result.output.split())


def test_samples_that_break_a_limit_exit_4(tmp_path: Path) -> None:
    result, doc, console = _run(tmp_path, 4000, 0.05)
    feeder = tmp_path / "long.dss"
    (v_set,) = doc["checks"]["grid_forming_v_pu"].values()
    lows = [long_line_b2_voltages(feeder, v_set, f)[0] for f in _draws(0.05, SAMPLES)]
    broken = sum(v < V_MIN - 1e-9 for v in lows)
    assert broken == 2, lows  # the premise: the upper draws fall below 0.9 p.u.
    # and the plan's nominal check holds (the feedback's kept round): only the samples fail
    nominal_low, _ = long_line_b2_voltages(feeder, v_set, 1.0)
    assert nominal_low >= V_MIN
    assert doc["voltage_feedback"]["within_voltage_limits"] is True
    assert doc["checks"]["ac_pct"] == pytest.approx(100 * (SAMPLES - broken) / SAMPLES)
    assert result.exit_code == 4, result.output
    assert doc["within_limits"] is False
    assert doc["checks"]["ac_feasible"] == SAMPLES - broken
    assert (f"the plan is not within the limits. {broken} of {SAMPLES} samples "
            f"({100 * broken / SAMPLES:.2f} %) break a limit in OpenDSS (IV-E AC-feasible "
            f"{100 * (SAMPLES - broken) / SAMPLES:.2f} %)") in console
    assert "exit code 4" in console


def test_a_plan_that_serves_every_sample_exits_0(tmp_path: Path) -> None:
    result, doc, console = _run(tmp_path, 500, 0.1)
    feeder = tmp_path / "long.dss"
    (v_set,) = doc["checks"]["grid_forming_v_pu"].values()
    for f in _draws(0.1, SAMPLES):
        lo, hi = long_line_b2_voltages(feeder, v_set, f)
        assert lo >= V_MIN and hi <= V_MAX
    assert result.exit_code == 0, result.output
    assert doc["within_limits"] is True
    assert doc["checks"]["ac_feasible"] == SAMPLES
    assert "not within the limits" not in console


def test_no_ac_check_leaves_within_limits_null_and_the_repr_short(tmp_path: Path) -> None:
    from feederopt import partition

    feeder, settings = _files(tmp_path, 500)
    res = partition(feeder, settings=settings, voltage_feedback=False)
    assert res.within_limits is None and res.to_dict()["within_limits"] is None
    text = repr(res)
    assert len(text) < 400, text
    assert text.startswith("PartitionResult(") and "status='optimal'" in text
    assert "energised_blocks=2" in text and "microgrids=1" in text
    assert "BlockReport" not in text and "IterationLog" not in text


@pytest.mark.parametrize(("feedback", "checks", "trivial", "expected"), [
    (None, None, False, None),  # no AC check ran
    ({"enabled": False}, {"samples": 5, "ac_pct": None, "ac_feasible": None}, False, None),
    ({"enabled": True, "within_voltage_limits": True}, None, False, True),
    ({"enabled": True, "within_voltage_limits": False}, None, False, False),
    ({"enabled": True, "within_voltage_limits": True},
     {"samples": 5, "ac_pct": 100.0, "ac_feasible": 5}, False, True),
    ({"enabled": True, "within_voltage_limits": True},
     {"samples": 5, "ac_pct": 80.0, "ac_feasible": 4}, False, False),
    # samples alone (the feedback off): they decide
    ({"enabled": False}, {"samples": 5, "ac_pct": 80.0, "ac_feasible": 4}, False, False),
    ({"enabled": False}, {"samples": 5, "ac_pct": 100.0, "ac_feasible": 5}, False, True),
    # a result written before ac_feasible: its share
    (None, {"samples": 5, "ac_pct": 80.0}, False, False),
    # the trivial all-off plan is no answer, whatever its checks
    ({"enabled": True, "within_voltage_limits": True}, None, True, False),
])
def test_the_rule_agrees_with_the_exit_code_and_the_badge(
        feedback: Any, checks: Any, trivial: bool, expected: bool | None) -> None:
    from types import SimpleNamespace

    import typer

    from feederopt.cli.partition import _exit
    from feederopt.report.partition import partition_badge
    from feederopt.validation.partition import plan_within_limits

    assert plan_within_limits(feedback, checks, trivial_plan=trivial) is expected
    doc = {"status": "optimal", "trivial_plan": trivial, "voltage_feedback": feedback,
           "checks": checks}
    try:
        _exit(SimpleNamespace(**doc), quiet=True)
        code = 0
    except typer.Exit as stop:
        code = stop.exit_code
    assert code == (4 if expected is False else 0)
    assert (partition_badge(doc) == "limits_broken") == (expected is False)
