"""``--controls`` and ``--fix-devices`` on a three-phase feeder are refused, and the refusal
says what a three-phase run does instead: it holds the regulator taps and capacitor states at
the file's OpenDSS solve (user test ut42_dss3; README and docs/threephase.md did not say)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt.cli.app import app


@pytest.mark.parametrize("option", [["--controls", "caps"], ["--fix-devices"]])
def test_refusal_says_taps_and_capacitors_are_held(option: list[str]) -> None:
    res = CliRunner().invoke(app, ["solve", "ieee13", *option])
    assert res.exit_code == 2 and "Traceback" not in res.output
    text = " ".join(res.output.split())
    assert "holds the regulator taps and capacitor states" in text
