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


def test_save_json_never_replaces_the_dss_file_a_network_object_was_read_from(
        tmp_path: Path) -> None:
    """The three-phase twin of user test ut_io #2: a network read beforehand and solved as
    an object records the file it was read from, so no output replaces it."""
    from feederopt.cases import load_three_phase
    from feederopt.cases.threephase import three_phase_case_path

    path = tmp_path / "feeder.dss"
    path.write_bytes(three_phase_case_path("ieee13mod").read_bytes())
    before = path.read_bytes()
    net = load_three_phase(path)
    result = feederopt.solve_three_phase(net, time_limit_s=60, ac_check=False,
                                         voltage_feedback=False)
    assert result.source == str(path.resolve())
    with pytest.raises(InputError, match="input"):
        feederopt.save_json(result, path, force=True)
    with pytest.raises(InputError, match="input"):
        feederopt.save(result, tmp_path, force=True)
    assert path.read_bytes() == before
