"""``feederopt.save`` and ``save_json`` take a three-phase result (user test ut_3ph #4: both
failed with ``AttributeError: 'ThreePhaseResult' object has no attribute 'source'``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import feederopt
from feederopt.errors import InputError


def test_save_and_save_json_write_a_three_phase_result(tmp_path: Path) -> None:
    result = feederopt.solve_three_phase("ieee13mod", time_limit_s=60, ac_check=False,
                                         voltage_feedback=False)
    out = feederopt.save(result, tmp_path / "r")
    doc = json.loads((out / "result.json").read_text())
    assert doc["kind"] == "three_phase_solve"
    assert doc["open_switches"] == list(result.open_switches)
    assert (out / "report.html").is_file()
    path = feederopt.save_json(result, tmp_path / "r.json")
    assert json.loads(path.read_text())["open_switches"] == list(result.open_switches)
    with pytest.raises(InputError, match="exists already"):
        feederopt.save_json(result, path)
    with pytest.raises(InputError, match="exists already"):
        feederopt.save(result, out)
